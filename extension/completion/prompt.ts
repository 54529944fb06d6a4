// Builds the fill-in-the-middle prompt: a prefix/suffix window around the cursor plus bounded
// extra context from recently used files. Pure (no vscode import) so it is unit-tested directly.
// The FIM special tokens are not added here: the engine wraps {prefix, suffix} with the target
// model's own FIM tokens (from its GGUF metadata); a model without FIM tokens gets the prefix only.
// Extra context goes to the engine as chunks (laid out with the model's repository-level FIM
// tokens, as llama.cpp's server does) when the model has a file-separator token, else as
// path-header comments in front of the prefix.
import type { ExtraChunk, FimPrompt } from '../../engine-native/host/protocol';

export interface WindowOptions {
  prefixLines: number;
  suffixLines: number;
  prefixChars: number;
  suffixChars: number;
}

export interface PromptInput extends WindowOptions {
  text: string;
  /** Cursor offset in `text` (UTF-16 code units, as vscode's offsetAt). */
  offset: number;
  languageId: string;
  path: string;
  /** Chunks of other files (already chosen and bounded: see chunks.ts). */
  extras: ExtraChunk[];
  /** The model has repository-level FIM tokens: the chunks go to the engine as they are. */
  repoLevel: boolean;
}

export interface BuiltPrompt {
  /** The window only (used as the cache key). */
  prefix: string;
  suffix: string;
  /** What the engine gets: the window and the extra context (chunks, or comments in front of the prefix). */
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

/** Extra context for a model without repository tokens: each chunk after a path header comment. */
export function extraContext(extras: ExtraChunk[], languageId: string): string {
  const comment = lineComment(languageId);
  return extras.map((e) => `${comment} Path: ${e.filename}\n${e.text.replace(/\s+$/, '')}\n\n`).join('');
}

export function buildPrompt(input: PromptInput): BuiltPrompt {
  const prefix = prefixWindow(input.text, input.offset, input.prefixLines, input.prefixChars);
  const suffix = suffixWindow(input.text, input.offset, input.suffixLines, input.suffixChars);
  const extras = input.extras.filter((e) => e.filename !== input.path);
  const extraChars = extras.reduce((n, e) => n + e.text.length, 0);
  if (input.repoLevel) return { prefix, suffix, prompt: { prefix, suffix, extra: extras }, extraChars };
  const extra = extraContext(extras, input.languageId);
  const header = extra ? `${extra}${lineComment(input.languageId)} Path: ${input.path}\n` : '';
  return { prefix, suffix, prompt: { prefix: header + prefix, suffix }, extraChars };
}
