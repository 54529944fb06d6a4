// The model catalogue's scan: every GGUF model already on disk (sources.ts), each described from
// its header (model-info.ts) or from the scan cache when the file has not changed. A broken file
// is listed with the reason, never thrown: one bad download must not hide the other models.
import { realpath, stat } from 'node:fs/promises';
import { GgufError } from './gguf-header';
import { readModelInfo, type GgufModelInfo } from './model-info';
import { ScanCache, type HeaderResult } from './scan-cache';
import { defaultModelRoots, findModelFiles, type ModelFile, type ModelRoots } from './sources';

export interface ScanOptions {
  /** Where to look; a source left out gets defaultModelRoots()'s folders (folders: none). */
  roots?: Partial<ModelRoots>;
  /** The scan cache's JSON file; without one every header is read. */
  cacheFile?: string;
}

export interface CatalogModel extends Omit<ModelFile, 'problem'> {
  /** The file behind links (a hub blob): the same model found twice is listed once. */
  realPath: string;
  info: GgufModelInfo;
  /** Looks like a chat/instruct fine-tune: completion wants a base model with FIM tokens. */
  instruct: boolean;
}

export interface ScanProblem extends ModelFile {
  problem: string;
}

export interface ScanResult {
  models: CatalogModel[];
  problems: ScanProblem[];
  /** Headers read from disk by this scan; the other models came from the cache. */
  headersRead: number;
}

/** Files read at once: enough to keep a disk busy, few enough for a 2-core machine. */
const CONCURRENCY = 8;
/** Words of a model's name that mark a chat fine-tune ("-it" is Gemma's instruct suffix). */
const CHAT_WORDS = new Set(['instruct', 'chat', 'it', 'sft', 'dpo', 'rlhf']);

interface Located {
  file: ModelFile;
  realPath: string;
  size: number;
  mtimeMs: number;
}

/** Every model on disk under the roots, with the files that are not usable models and why. */
export async function scanModels(options: ScanOptions = {}): Promise<ScanResult> {
  const roots = { ...defaultModelRoots(), ...options.roots };
  const [files, cache] = await Promise.all([findModelFiles(roots), ScanCache.load(options.cacheFile)]);
  const result: ScanResult = { models: [], problems: [], headersRead: 0 };
  const located = await mapConcurrent(files, locate);
  const seen = new Set<string>();
  const unique: Located[] = [];
  for (const l of located) {
    if ('problem' in l) result.problems.push(l);
    else if (!seen.has(l.realPath)) {
      seen.add(l.realPath);
      unique.push(l);
    }
  }
  const headers = await mapConcurrent(unique, async (l) => {
    const cached = cache.get(l.realPath, l.size, l.mtimeMs);
    if (cached) return cached;
    result.headersRead++;
    const { header, lasting } = await readHeader(l.file.path);
    if (lasting) cache.set(l.realPath, l.size, l.mtimeMs, header);
    return header;
  });
  unique.forEach((l, i) => addResult(result, l, headers[i]));
  await cache.save();
  return result;
}

function addResult(result: ScanResult, l: Located, header: HeaderResult): void {
  const { problem: _none, ...file } = l.file;
  if ('problem' in header) result.problems.push({ ...file, problem: header.problem });
  else result.models.push({ ...file, realPath: l.realPath, info: header.info, instruct: looksInstruct(header.info, file) });
}

async function locate(file: ModelFile): Promise<Located | ScanProblem> {
  if (file.problem) return { ...file, problem: file.problem };
  try {
    const realPath = await realpath(file.path);
    const s = await stat(realPath);
    if (!s.isFile()) return { ...file, problem: 'not a regular file' };
    return { file, realPath, size: s.size, mtimeMs: s.mtimeMs };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ...file, problem: code === 'ENOENT' ? 'the file is missing (a link to a blob that is gone?)' : `cannot be read (${code})` };
  }
}

/** The header's result; `lasting` unless the file could not be read at all (permissions may change, its contents did not). */
async function readHeader(file: string): Promise<{ header: HeaderResult; lasting: boolean }> {
  try {
    return { header: { info: await readModelInfo(file) }, lasting: true };
  } catch (e) {
    if (e instanceof GgufError) return { header: { problem: e.message }, lasting: true };
    return { header: { problem: `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` }, lasting: false };
  }
}

/** Whether the metadata or the name says chat/instruct. Base Qwen2.5-Coder GGUFs carry a chat template too, so that alone says nothing. */
function looksInstruct(info: GgufModelInfo, file: Omit<ModelFile, 'problem'>): boolean {
  const fileName = file.displayName.split(/[:/]/).pop() ?? '';
  const text = [info.finetune, info.name, info.basename, file.repo, fileName].filter(Boolean).join(' ').toLowerCase();
  return text.includes('instruct') || text.split(/[^a-z0-9]+/).some((word) => CHAT_WORDS.has(word));
}

async function mapConcurrent<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return out;
}
