// Extra context for completions: chunks of recently used files, chosen by similarity to the text
// around the cursor, near-duplicates dropped, bounded in characters (llama.vscode's ring buffer of
// chunks, chosen instead of queued). Pure (no vscode import) so it is unit-tested directly.
import type { ExtraChunk } from '../../engine-native/host/protocol';

export interface SourceText {
  /** Workspace-relative path shown to the model. */
  path: string;
  text: string;
}

export interface Chunk extends ExtraChunk {
  /** The identifiers in the chunk, for similarity. */
  words: Set<string>;
}

export interface ChunkOptions {
  /** Lines per chunk. */
  lines: number;
  /** Total characters of the chunks chosen. */
  maxChars: number;
  /** Chunks chosen at most. */
  maxChunks: number;
  /** A candidate this similar (Jaccard of identifiers) to one chosen already is dropped. */
  duplicate: number;
}

export const CHUNK_DEFAULTS: ChunkOptions = { lines: 32, maxChars: 3000, maxChunks: 8, duplicate: 0.9 };

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*/g;

export function identifiers(text: string): Set<string> {
  return new Set(text.match(IDENTIFIER) ?? []);
}

/** Jaccard similarity of two sets: shared / all; 0 for two empty sets. */
export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let shared = 0;
  for (const w of a.size <= b.size ? a : b) if ((a.size <= b.size ? b : a).has(w)) shared++;
  return shared / (a.size + b.size - shared);
}

/** A file cut into chunks of `lines` lines (blank-only chunks left out), in file order. */
export function chunkFile(source: SourceText, lines: number): Chunk[] {
  const all = source.text.split('\n');
  const chunks: Chunk[] = [];
  for (let i = 0; i < all.length; i += lines) {
    const text = all.slice(i, i + lines).join('\n');
    if (!text.trim()) continue;
    chunks.push({ filename: source.path, text: text.endsWith('\n') ? text : text + '\n', words: identifiers(text) });
  }
  return chunks;
}

/**
 * The chunks most similar to `around` (the text near the cursor): best first by Jaccard of their
 * identifiers, each one too similar to a chunk already taken dropped, within maxChars and
 * maxChunks. Returned most similar last: nearest the cursor, where a model weighs context most.
 * Chunks sharing no identifier with `around` are never chosen.
 */
export function chooseChunks(candidates: Chunk[], around: string, options: ChunkOptions = CHUNK_DEFAULTS): ExtraChunk[] {
  const query = identifiers(around);
  const scored = candidates
    .map((chunk, order) => ({ chunk, order, score: jaccard(query, chunk.words) }))
    .filter((c) => c.score > 0)
    .sort((a, b) => b.score - a.score || a.order - b.order);
  const chosen: Chunk[] = [];
  let chars = 0;
  for (const { chunk } of scored) {
    if (chosen.length >= options.maxChunks) break;
    if (chars + chunk.text.length > options.maxChars) continue;
    if (chosen.some((c) => jaccard(c.words, chunk.words) >= options.duplicate)) continue;
    chosen.push(chunk);
    chars += chunk.text.length;
  }
  return chosen.reverse().map(({ filename, text }) => ({ filename, text }));
}
