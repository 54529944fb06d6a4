// The standard Hugging Face hub cache, shared with huggingface-cli, huggingface_hub and llama.cpp's
// `-hf`: models--ORG--NAME/blobs/<sha256> holds the bytes, snapshots/<commit>/<file> is a relative
// symlink to the blob, refs/<branch> holds the branch's commit (llama.cpp finds files offline through
// refs/main). A download grows blobs/<sha256>.incomplete, guarded by blobs/<sha256>.lock.
import { getHFHubCachePath, getRepoFolderName } from '@huggingface/hub';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readlink, rename, stat, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** One file of a model repository on the hub, at a branch, tag or commit (default `main`). */
export interface HubFileRef {
  repo: string;
  file: string;
  revision?: string;
}

export const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** The hub cache folder: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub (as huggingface_hub resolves it). */
export function hubCacheDir(): string {
  return getHFHubCachePath();
}

export function repoCacheDir(cacheDir: string, repo: string): string {
  return path.join(cacheDir, getRepoFolderName({ name: repo, type: 'model' }));
}

/** Where a file of `repo` at `commit` is linked; refuses names that would leave the snapshot folder. */
export function snapshotPath(cacheDir: string, repo: string, commit: string, file: string): string {
  const relative = path.normalize(file);
  if (path.isAbsolute(relative) || relative.split(path.sep).includes('..')) throw new Error(`invalid file name in ${repo}: ${file}`);
  return path.join(repoCacheDir(cacheDir, repo), 'snapshots', commit, relative);
}

export function blobPath(cacheDir: string, repo: string, sha256: string): string {
  return path.join(repoCacheDir(cacheDir, repo), 'blobs', sha256);
}

/** The partial download that grows into the blob; it is renamed to the blob once its SHA-256 matches. */
export const partialPath = (blob: string) => `${blob}.incomplete`;

/** The commit a branch or tag pointed to when it was last downloaded here, or the revision itself when it is a commit. */
export async function readRef(cacheDir: string, repo: string, revision: string): Promise<string | undefined> {
  if (COMMIT_HASH.test(revision)) return revision;
  const commit = await readFile(path.join(repoCacheDir(cacheDir, repo), 'refs', revision), 'utf8').catch(() => undefined);
  return commit && COMMIT_HASH.test(commit.trim()) ? commit.trim() : undefined;
}

export async function writeRef(cacheDir: string, repo: string, revision: string, commit: string): Promise<void> {
  if (COMMIT_HASH.test(revision)) return;
  await replaceAtomically(path.join(repoCacheDir(cacheDir, repo), 'refs', revision), (tmp) => writeFile(tmp, commit));
}

/** Links the snapshot path to the blob with a relative symlink (the cache stays valid when moved or copied). */
export async function linkSnapshot(blob: string, snapshot: string): Promise<void> {
  const target = path.relative(path.dirname(snapshot), blob);
  if ((await readlink(snapshot).catch(() => undefined)) === target) return;
  await replaceAtomically(snapshot, (tmp) => symlink(target, tmp));
}

/** Creates a file under a unique name and renames it into place, so a concurrent writer or reader never sees half of it. */
async function replaceAtomically(file: string, create: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await create(tmp);
  await rename(tmp, file).catch(async (error: unknown) => {
    await unlink(tmp).catch(() => {});
    throw error;
  });
}

export async function fileExists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** The size of a file, 0 when there is none (no partial download yet). */
export async function fileSize(file: string): Promise<number> {
  return stat(file).then(
    (s) => s.size,
    () => 0,
  );
}

// The lock: a file created with O_EXCL ('wx') next to the partial, holding its owner's host, pid and a
// random token. Its owner touches it every HEARTBEAT_MS; a lock untouched for STALE_LOCK_MS, or whose
// owner is a dead process on this host, was left by a crash and is broken. Works across processes
// and within one (a second download in the same process waits like any other).
const HEARTBEAT_MS = 5_000;
const STALE_LOCK_MS = 30_000;
const LOCK_POLL_MS = 200;

interface LockOwner {
  host: string;
  pid: number;
  token: string;
}

export interface BlobLock {
  release(): Promise<void>;
}

/** Takes the lock, waiting (and calling `onWait` every poll) while another download holds it. */
export async function lockBlob(lockFile: string, signal: AbortSignal | undefined, onWait: () => Promise<void>): Promise<BlobLock> {
  await mkdir(path.dirname(lockFile), { recursive: true });
  for (;;) {
    const lock = await tryLock(lockFile);
    if (lock) return lock;
    const owner = await staleOwner(lockFile);
    if (owner !== undefined) {
      await unlinkIfOwned(lockFile, owner);
      continue;
    }
    await onWait();
    await sleep(LOCK_POLL_MS, undefined, { signal });
  }
}

async function tryLock(lockFile: string): Promise<BlobLock | undefined> {
  const owner: LockOwner = { host: hostname(), pid: process.pid, token: randomBytes(8).toString('hex') };
  const handle = await open(lockFile, 'wx').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') return undefined;
    throw error;
  });
  if (!handle) return undefined;
  await handle.writeFile(JSON.stringify(owner));
  await handle.close();
  const heartbeat = setInterval(() => void utimes(lockFile, new Date(), new Date()).catch(() => {}), HEARTBEAT_MS);
  heartbeat.unref();
  return {
    async release() {
      clearInterval(heartbeat);
      await unlinkIfOwned(lockFile, owner.token);
    },
  };
}

/** The token of a lock left by a crashed download (empty when unreadable), or undefined while its owner lives. */
async function staleOwner(lockFile: string): Promise<string | undefined> {
  const [text, stats] = await Promise.all([readFile(lockFile, 'utf8').catch(() => ''), stat(lockFile).catch(() => undefined)]);
  if (!stats) return undefined; // released meanwhile: the next tryLock takes it
  const owner = parseOwner(text);
  const untouched = Date.now() - stats.mtimeMs > STALE_LOCK_MS;
  const ownerDied = owner !== undefined && owner.host === hostname() && !processAlive(owner.pid);
  return untouched || ownerDied ? (owner?.token ?? '') : undefined;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(text) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' && typeof owner.token === 'string' ? owner : undefined;
  } catch {
    return undefined; // created but not yet written, or cut short by a crash
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the lock only while it still holds `token`, so a lock taken meanwhile by someone else survives. */
async function unlinkIfOwned(lockFile: string, token: string): Promise<void> {
  const current = parseOwner(await readFile(lockFile, 'utf8').catch(() => ''));
  if ((current?.token ?? '') === token) await unlink(lockFile).catch(() => {});
}
