// Post-processing of raw engine output into what the editor shows. Pure functions, golden-tested.
// Rules, in order:
//  1. mid-line (code after the cursor on its line): one line only, minus a repeat of that code;
//  2. multi-line: stop at a dedent below the cursor's block, include the closing line of a block
//     the completion opened, stop at two blank lines in a row, at most `maxLines` lines;
//  3. stop at the suffix: never repeat the next non-blank line of the document;
//  4. trim trailing whitespace of every line and trailing blank lines;
//  0. (first) cut at a control character other than tab/newline, or U+FFFD (broken UTF-8): never insert those.
export interface PostContext {
  /** The cursor line's text before the cursor. */
  linePrefix: string;
  /** The cursor line's text after the cursor. */
  lineSuffix: string;
  /** The document lines after the cursor line (a few are enough). */
  nextLines: string[];
  /** Upper bound on lines shown. */
  maxLines: number;
}

const CLOSER = /^\s*[)\]}]/;
const OPENER = /([{([]|:|=>|\bthen|\bdo)\s*$/;

function indentOf(line: string): number {
  return /^[ \t]*/.exec(line)![0].replace(/\t/g, '    ').length;
}

export function isMidLine(lineSuffix: string): boolean {
  return lineSuffix.trim().length > 0;
}

export function postprocess(raw: string, ctx: PostContext): string {
  let text = raw.replace(/\r\n?/g, '\n');
  // eslint-disable-next-line no-control-regex
  const bad = text.search(/[\u0000-\u0008\u000b-\u001f\u007f\ufffd]/);
  if (bad >= 0) text = text.slice(0, bad);
  let lines = text.split('\n');

  if (isMidLine(ctx.lineSuffix)) {
    let line = lines[0].replace(/\s+$/, '');
    const rest = ctx.lineSuffix.trim();
    if (line.endsWith(rest)) line = line.slice(0, line.length - rest.length).replace(/\s+$/, '');
    // a completion that reproduces what follows the cursor adds nothing
    return line.trim() === '' || rest.startsWith(line.trim()) ? '' : line;
  }

  const linePrefixBlank = ctx.linePrefix.trim() === '';
  const baseIndent = indentOf(ctx.linePrefix);
  const firstLine = ctx.linePrefix + lines[0];
  const opensBlock = OPENER.test(firstLine.replace(/\s*(\/\/.*|#.*)$/, ''));
  const next = ctx.nextLines.find((l) => l.trim() !== '')?.trim();

  const kept: string[] = [lines[0]];
  let blankRun = 0;
  for (let i = 1; i < lines.length && kept.length < ctx.maxLines; i++) {
    const line = lines[i];
    if (line.trim() === '') {
      blankRun++;
      if (blankRun >= 2) break;
      kept.push(line);
      continue;
    }
    blankRun = 0;
    const indent = indentOf(line);
    if (opensBlock) {
      if (indent <= baseIndent) {
        // the block the completion opened ends here: keep its closing line, nothing after it
        if (CLOSER.test(line) && indent === baseIndent) kept.push(line);
        break;
      }
    } else if (indent < baseIndent) {
      break;
    }
    kept.push(line);
  }
  lines = kept;

  // stop at the suffix: the completion ends where the document already continues
  if (next) {
    const start = linePrefixBlank ? 0 : 1;
    const at = lines.findIndex((l, i) => i >= start && l.trim() === next);
    if (at >= 0) lines = lines.slice(0, at);
  }

  lines = lines.map((l) => l.replace(/\s+$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const out = lines.join('\n');
  if (out.trim() === '') return '';
  // a whitespace-only first line followed by nothing useful is not a suggestion either
  return out;
}

/** Single-line mode for the engine: the stop strings that end a generation early. */
export function stopStrings(ctx: Pick<PostContext, 'lineSuffix'>): string[] {
  return isMidLine(ctx.lineSuffix) ? ['\n'] : ['\n\n\n'];
}
