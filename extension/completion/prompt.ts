// Builds the fill-in-the-middle prompt: a prefix/suffix window around the cursor plus bounded
// extra context from recently used files. Pure (no vscode import) so it is unit-tested directly.
// The FIM special tokens are not added here: the engine wraps {prefix, suffix} with the target
// model's own FIM tokens (from its GGUF metadata); a model without FIM tokens gets the prefix only.
import type { FimPrompt } from '../../engine-native/host/protocol';

export interface WindowOptions {
  prefixLines: number;
  suffixLines: number;
  prefixChars: number;
  suffixChars: number;
}

export interface ExtraFile {
  /** Workspace-relative path shown to the model. */
  path: string;
  languageId: string;
  /** A bounded excerpt (see excerptAround). */
  text: string;
}

export interface PromptInput extends WindowOptions {
  text: string;
  /** Cursor offset in `text` (UTF-16 code units, as vscode's offsetAt). */
  offset: number;
  languageId: string;
  path: string;
  extras: ExtraFile[];
  /** Total characters of extra context. */
  extraChars: number;
}

export interface BuiltPrompt {
  /** The window only (used as the cache key). */
  prefix: string;
  suffix: string;
  /** What the engine gets: the prefix with the extra context in front. */
  prompt: FimPrompt;
  /** Characters of extra context included. */
  extraChars: number;
}

const HASH_COMMENT = new Set([
  'python',
  'shellscript',
  'ruby',
  'perl',
  'r',
  'yaml',
  'toml',
  'makefile',
  'dockerfile',
  'powershell',
  'julia',
  'elixir',
  'coffeescript',
  'properties',
  'nim',
  'cmake',
]);
const DASH_COMMENT = new Set(['sql', 'lua', 'haskell', 'elm', 'ada']);

export function lineComment(languageId: string): string {
  if (HASH_COMMENT.has(languageId)) return '#';
  if (DASH_COMMENT.has(languageId)) return '--';
  if (languageId === 'bat') return 'REM';
  if (languageId === 'latex' || languageId === 'tex' || languageId === 'erlang') return '%';
  if (languageId === 'vb') return "'";
  return '//';
}

/** The text before the cursor: at most `lines` lines (the cursor line counts) and `chars` characters, cut at a line start. */
export function prefixWindow(text: string, offset: number, lines: number, chars: number): string {
  const from = Math.max(0, offset - chars);
  let region = text.slice(from, offset);
  if (from > 0 && text[from - 1] !== '\n') {
    const nl = region.indexOf('\n');
    // the first line is cut: drop it, unless it is the cursor line itself (then keep its tail)
    if (nl >= 0) region = region.slice(nl + 1);
  }
  const parts = region.split('\n');
  return parts.length > lines ? parts.slice(parts.length - Math.max(1, lines)).join('\n') : region;
}

/** The text after the cursor: at most `lines` lines (the rest of the cursor line counts) and `chars` characters, cut at a line end. */
export function suffixWindow(text: string, offset: number, lines: number, chars: number): string {
  const to = Math.min(text.length, offset + chars);
  let region = text.slice(offset, to);
  if (to < text.length && text[to] !== '\n') {
    const nl = region.lastIndexOf('\n');
    if (nl >= 0) region = region.slice(0, nl + 1);
  }
  const parts = region.split('\n');
  return parts.length > lines ? parts.slice(0, Math.max(1, lines)).join('\n') + '\n' : region;
}

/** A bounded excerpt of another file around a line of interest (its cursor or last edit). */
export function excerptAround(text: string, line: number, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const lines = text.split('\n');
  const center = Math.min(Math.max(0, line), lines.length - 1);
  let lo = center;
  let hi = center;
  let size = lines[center].length;
  for (;;) {
    const canUp = lo > 0 && size + lines[lo - 1].length + 1 <= maxChars;
    const canDown = hi < lines.length - 1 && size + lines[hi + 1].length + 1 <= maxChars;
    if (!canUp && !canDown) break;
    if (canUp) {
      lo--;
      size += lines[lo].length + 1;
    }
    if (canDown && size + lines[hi + 1].length + 1 <= maxChars) {
      hi++;
      size += lines[hi].length + 1;
    }
  }
  return lines
    .slice(lo, hi + 1)
    .join('\n')
    .slice(0, maxChars);
}

/** Extra context: each file as a path header comment followed by its excerpt, within `budget` characters. */
export function extraContext(extras: ExtraFile[], languageId: string, budget: number): string {
  let out = '';
  const comment = lineComment(languageId);
  for (const extra of extras) {
    if (budget - out.length <= 0) break;
    const block = `${comment} Path: ${extra.path}\n${extra.text.replace(/\s+$/, '')}\n\n`;
    if (out.length + block.length > budget) continue;
    out += block;
  }
  return out;
}

export function buildPrompt(input: PromptInput): BuiltPrompt {
  const prefix = prefixWindow(input.text, input.offset, input.prefixLines, input.prefixChars);
  const suffix = suffixWindow(input.text, input.offset, input.suffixLines, input.suffixChars);
  const extra =
    input.extras.length > 0 && input.extraChars > 0
      ? extraContext(
          input.extras.filter((e) => e.path !== input.path),
          input.languageId,
          input.extraChars,
        )
      : '';
  const header = extra ? `${extra}${lineComment(input.languageId)} Path: ${input.path}\n` : '';
  return { prefix, suffix, prompt: { prefix: header + prefix, suffix }, extraChars: extra.length };
}
