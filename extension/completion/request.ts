// What a completion request is made of, from a snapshot of the text around the cursor: the prompt
// window, the post-processing context and the engine parameters. Pure (no vscode import), so the
// provider, the warm-up and the prefetch build exactly the same request for the same text, and a
// prefetch can build the one that will follow an accept before the accept happens.
import type { CompleteParams, ExtraChunk, FimTokens, SamplingParams } from '../../engine-native/host/protocol';
import type { CompletionConfig } from '../config';
import { stopStrings, type PostContext } from './postprocess';
import { buildPrompt, type BuiltPrompt } from './prompt';

export interface Snapshot {
  /** Document identity (uri + language): cache entries never cross documents. */
  document: string;
  text: string;
  /** Cursor offset in `text` (UTF-16 code units, as vscode's offsetAt). */
  offset: number;
  languageId: string;
  /** Workspace-relative path. */
  path: string;
}

export interface PlannedRequest {
  snapshot: Snapshot;
  /** The chunks of other files it was built with, and the FIM tokens that shaped its prompt. */
  extras: ExtraChunk[];
  fim: FimTokens | null;
  built: BuiltPrompt;
  post: PostContext;
  params: CompleteParams;
}

/** The snapshot after `inserted` was accepted at the cursor: the cursor at its end. */
export function afterAccept(s: Snapshot, inserted: string): Snapshot {
  return { ...s, text: s.text.slice(0, s.offset) + inserted + s.text.slice(s.offset), offset: s.offset + inserted.length };
}

/** The cursor line's text around the cursor and a few lines after it. */
export function postContextAt(text: string, offset: number, maxLines: number): PostContext {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset);
  const end = lineEnd < 0 ? text.length : lineEnd;
  const nextLines = lineEnd < 0 ? [] : text.slice(lineEnd + 1).split('\n', 5);
  const noCr = (line: string) => line.replace(/\r$/, ''); // a CRLF document's lines, as vscode's lineAt gives them
  return { linePrefix: text.slice(lineStart, offset), lineSuffix: noCr(text.slice(offset, end)), nextLines: nextLines.map(noCr), maxLines };
}

/**
 * The request for a completion at the snapshot's cursor. `fim`: the target's FIM tokens (null: a
 * plain prompt of the prefix alone); repository tokens decide how the extra chunks are laid out.
 */
export function planRequest(
  snapshot: Snapshot,
  config: CompletionConfig,
  extras: ExtraChunk[],
  fim: FimTokens | null,
  decoding: Pick<SamplingParams, 'budget' | 'mode'>,
): PlannedRequest {
  const built = buildPrompt({
    text: snapshot.text,
    offset: snapshot.offset,
    languageId: snapshot.languageId,
    path: snapshot.path,
    extras,
    repoLevel: fim?.fileSeparator != null,
    prefixLines: config.prefixLines,
    suffixLines: config.suffixLines,
    prefixChars: config.prefixChars,
    suffixChars: config.suffixChars,
  });
  const post = postContextAt(snapshot.text, snapshot.offset, config.maxLines);
  const params: CompleteParams = {
    // a model with FIM tokens gets {prefix, suffix} (the engine adds the tokens); others the prefix only
    prompt: fim ? built.prompt : built.prompt.prefix,
    maxTokens: config.maxTokens,
    temperature: config.temperature,
    stop: stopStrings(post),
    ...decoding,
  };
  return { snapshot, extras, fim, built, post, params };
}
