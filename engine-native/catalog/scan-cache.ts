// The scan's memory of headers already read, keyed by a file's real path, size and mtime and kept
// as JSON in a file the caller names (the extension's globalStorage, the CLI's cache folder): a
// re-scan reads no header of a file that has not changed.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { GgufModelInfo } from './model-info';

/** What reading one header gave: the model, or why it is not one. */
export type HeaderResult = { info: GgufModelInfo } | { problem: string };

interface CacheEntry {
  size: number;
  mtimeMs: number;
  result: HeaderResult;
}

/** Bump when GgufModelInfo changes shape: an older file is then ignored, not misread. */
const CACHE_VERSION = 2; // 2: GgufModelInfo.tensorSizes

export class ScanCache {
  private readonly used = new Map<string, CacheEntry>();
  private changed = false;

  private constructor(
    private readonly file: string | undefined,
    private readonly stored: Map<string, CacheEntry>,
  ) {}

  /** The cache kept in `file`; empty when there is none yet, it is unreadable, or no file is given. */
  static async load(file: string | undefined): Promise<ScanCache> {
    return new ScanCache(file, file ? await readEntries(file) : new Map());
  }

  /** The result for this file if it has not changed since it was stored. */
  get(realPath: string, size: number, mtimeMs: number): HeaderResult | undefined {
    const entry = this.stored.get(realPath);
    if (!entry || entry.size !== size || entry.mtimeMs !== mtimeMs) return undefined;
    this.used.set(realPath, entry);
    return entry.result;
  }

  set(realPath: string, size: number, mtimeMs: number, result: HeaderResult): void {
    this.used.set(realPath, { size, mtimeMs, result });
    this.changed = true;
  }

  /** Writes the entries this scan used (files gone since are dropped), when anything changed. */
  async save(): Promise<void> {
    if (!this.file || (!this.changed && this.used.size === this.stored.size)) return;
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ version: CACHE_VERSION, entries: Object.fromEntries(this.used) }));
    await rename(tmp, this.file); // whole or not at all, even if two windows scan at once
  }
}

async function readEntries(file: string): Promise<Map<string, CacheEntry>> {
  try {
    const json = JSON.parse(await readFile(file, 'utf8'));
    return json?.version === CACHE_VERSION ? new Map(Object.entries(json.entries as Record<string, CacheEntry>)) : new Map();
  } catch {
    return new Map(); // no cache yet, or a damaged one: the scan rebuilds it
  }
}
