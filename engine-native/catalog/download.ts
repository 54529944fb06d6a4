// Downloads model files from the Hugging Face hub (or a mirror) into the standard hub cache
// (hub-cache.ts), resumably, verified against the hub's SHA-256, one writer per file across
// processes. No VS Code here: progress goes to a callback, cancellation comes from an AbortSignal.
//
// Why not @huggingface/hub's downloadFileToCacheDir: it cannot resume (it streams from byte 0 into
// a fresh .incomplete), reports no progress, takes no AbortSignal, does not check the SHA-256, names
// the snapshot after the file's last commit rather than the revision's (so llama.cpp, which follows
// refs/main, does not find it) and writes no refs/. So this uses the library's lower levels:
// modelInfo (the revision's commit), pathsInfo (the LFS SHA-256 and size) and downloadFile, whose
// Blob's slice(offset).stream() fetches the rest with an HTTP Range request.
import { downloadFile, modelInfo, pathsInfo } from '@huggingface/hub';
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm, stat, statfs, truncate } from 'node:fs/promises';
import {
  blobPath,
  COMMIT_HASH,
  fileExists,
  fileSize,
  hubCacheDir,
  type HubFileRef,
  linkSnapshot,
  lockBlob,
  partialPath,
  readRef,
  snapshotPath,
  writeRef,
} from './hub-cache';

export type { HubFileRef } from './hub-cache';

export interface DownloadOptions {
  /** A Hugging Face access token (`hf_…`) for gated or private repositories. */
  accessToken?: string;
  /** The hub or a mirror. Default: the HF_ENDPOINT environment variable, else https://huggingface.co. */
  hubUrl?: string;
  /** Default: the standard hub cache (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Aborting stops the download with a `cancelled` error; the bytes fetched so far are kept for the next try. */
  signal?: AbortSignal;
  /** Called at most every PROGRESS_INTERVAL_MS and once at the end of each file. */
  onProgress?: (progress: DownloadProgress) => void;
  /** A connection that delivers no byte for this long counts as lost (a `network` error). Default 60 s. */
  stallTimeoutMs?: number;
  /** Free bytes on the file system holding `dir`. Default: fs.statfs. Tests pass a small number. */
  freeBytes?: (dir: string) => Promise<number>;
}

export interface DownloadProgress {
  /** `ORG/NAME/FILE` of the file being fetched. */
  file: string;
  /** waiting: another download of the same file (in this or another process) is running; checking: re-hashing a partial download before resuming it. */
  phase: 'waiting' | 'checking' | 'downloading';
  /** Bytes on disk of all the files asked for, and their total size. */
  bytesDone: number;
  totalBytes: number;
  /** 0 until measured. */
  bytesPerSecond: number;
  secondsLeft: number | undefined;
}

export interface DownloadedFile {
  repo: string;
  file: string;
  commit: string;
  /** The snapshot path (a symlink into blobs/), what llama.cpp and the engine load. */
  path: string;
  bytes: number;
  /** True when it was in the cache already and nothing was fetched. */
  fromCache: boolean;
}

/**
 * auth: 401/403, a token is missing, wrong, or has not been granted the gated repository; not-found: repository, revision or
 * file; server: 5xx or 429; network: connection lost, refused or stalled; cancelled: the AbortSignal; checksum: the bytes do
 * not hash to the hub's SHA-256; disk-space: not enough free space; bad-response: the hub answered something unusable.
 */
export type DownloadErrorCode = 'auth' | 'not-found' | 'server' | 'network' | 'cancelled' | 'checksum' | 'disk-space' | 'bad-response';

export class HubDownloadError extends Error {
  /** Running the same download again continues from the bytes already on disk. */
  readonly resumable: boolean;

  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubDownloadError';
    this.resumable = code === 'network' || code === 'server' || code === 'cancelled';
  }
}

const DEFAULT_HUB = 'https://huggingface.co';
const DEFAULT_STALL_TIMEOUT_MS = 60_000;
const PROGRESS_INTERVAL_MS = 100;
const MAX_QUEUED_BYTES = 64 << 20;

/** Downloads one file into the hub cache, or finds it there, and returns its snapshot path. */
export async function downloadHubFile(ref: HubFileRef, options: DownloadOptions = {}): Promise<DownloadedFile> {
  const [file] = await downloadHubFiles([ref], options);
  return file;
}

/**
 * Downloads several files (a preset's draft and target) one after the other, with one progress over
 * all of them and one free-space check for all of them before the first byte. Files already in the
 * cache for their revision are returned without touching the network, which is also how an offline
 * machine with a copied cache works.
 */
export async function downloadHubFiles(refs: HubFileRef[], options: DownloadOptions = {}): Promise<DownloadedFile[]> {
  const session = openSession(options);
  const plans = await Promise.all(refs.map((ref) => planDownload(ref, session)));
  await checkFreeSpace(plans, session);
  const totalBytes = plans.reduce((sum, plan) => sum + plan.bytes, 0);
  const results: DownloadedFile[] = [];
  let bytesBefore = 0;
  for (const plan of plans) {
    results.push(
      plan.cached ?? (await fetchIntoCache(plan.remote, session, new ProgressMeter(plan.remote, bytesBefore, totalBytes, options))),
    );
    bytesBefore += plan.bytes;
  }
  return results;
}

/** Free bytes for an unprivileged user on the file system holding `dir`. */
export async function freeDiskBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.round(bytes / 1e3)} kB`;
}

/** "1.2 GB of 8.6 GB · 45.3 MB/s · 2 min left" for the download's notification and the CLI. */
export function progressText(p: DownloadProgress): string {
  const name = p.file.split('/').pop() ?? p.file;
  if (p.phase === 'waiting') return `${name}: waiting for another download of the same file…`;
  if (p.phase === 'checking') return `${name}: checking the part downloaded before…`;
  const parts = [`${name}: ${formatBytes(p.bytesDone)} of ${formatBytes(p.totalBytes)}`];
  if (p.bytesPerSecond > 0) parts.push(`${formatBytes(p.bytesPerSecond)}/s`);
  if (p.secondsLeft !== undefined) parts.push(`${formatDuration(p.secondsLeft)} left`);
  return parts.join(' · ');
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

interface Session {
  hubUrl: string;
  cacheDir: string;
  accessToken: string | undefined;
  signal: AbortSignal | undefined;
  stallTimeoutMs: number;
  freeBytes: (dir: string) => Promise<number>;
}

function openSession(options: DownloadOptions): Session {
  const accessToken = options.accessToken || undefined;
  // @huggingface/hub's own check throws a bare TypeError; this one says what to do
  if (accessToken && !accessToken.startsWith('hf_')) {
    throw new HubDownloadError(
      'auth',
      'the Hugging Face access token must start with "hf_": copy a token from https://huggingface.co/settings/tokens',
    );
  }
  return {
    // the library takes the hub's address as a parameter and reads no environment variable
    hubUrl: (options.hubUrl ?? (process.env.HF_ENDPOINT || DEFAULT_HUB)).replace(/\/+$/, ''),
    cacheDir: options.cacheDir ?? hubCacheDir(),
    accessToken,
    signal: options.signal,
    stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
    freeBytes: options.freeBytes ?? freeDiskBytes,
  };
}

/** A file as the hub describes it at one commit, and where it goes in the cache. */
interface RemoteFile {
  ref: HubFileRef;
  commit: string;
  sha256: string;
  size: number;
  url: string;
  blob: string;
  snapshot: string;
}

type Plan = { cached: DownloadedFile; remote?: undefined; bytes: number } | { cached?: undefined; remote: RemoteFile; bytes: number };

async function planDownload(ref: HubFileRef, session: Session): Promise<Plan> {
  const cached = await findInCache(ref, session.cacheDir);
  if (cached) return { cached, bytes: cached.bytes };
  const remote = await describeRemote(ref, session);
  return { remote, bytes: remote.size };
}

async function findInCache(ref: HubFileRef, cacheDir: string): Promise<DownloadedFile | undefined> {
  const commit = await readRef(cacheDir, ref.repo, ref.revision ?? 'main');
  if (!commit) return undefined;
  const snapshot = snapshotPath(cacheDir, ref.repo, commit, ref.file);
  const stats = await stat(snapshot).catch(() => undefined); // follows the link: a dangling one is not a cached file
  return stats?.isFile() ? { repo: ref.repo, file: ref.file, commit, path: snapshot, bytes: stats.size, fromCache: true } : undefined;
}

async function describeRemote(ref: HubFileRef, session: Session): Promise<RemoteFile> {
  const revision = ref.revision ?? 'main';
  const hub = { hubUrl: session.hubUrl, accessToken: session.accessToken, fetch: hubFetch(ref, session, apiSignal(session)) };
  const askHub = async () => {
    const commit = COMMIT_HASH.test(revision)
      ? revision
      : (await modelInfo({ ...hub, name: ref.repo, revision, additionalFields: ['sha'] })).sha;
    const [info] = await pathsInfo({ ...hub, repo: ref.repo, paths: [ref.file], revision: commit });
    return { commit, info };
  };
  const { commit, info } = await askHub().catch((error: unknown) => {
    throw asDownloadError(error, ref, session, 0);
  });
  if (!info || info.type !== 'file')
    throw new HubDownloadError('not-found', `${ref.file} is not in ${ref.repo} at ${revision} on ${session.hubUrl}`, 404);
  if (!info.lfs)
    throw new HubDownloadError(
      'bad-response',
      `${ref.repo}/${ref.file} is not stored with Git LFS, so the hub gives no SHA-256 to verify it`,
    );
  const blob = blobPath(session.cacheDir, ref.repo, info.lfs.oid);
  const url = `${session.hubUrl}/${ref.repo}/resolve/${commit}/${ref.file.split('/').map(encodeURIComponent).join('/')}`;
  return {
    ref,
    commit,
    sha256: info.lfs.oid,
    size: info.lfs.size,
    url,
    blob,
    snapshot: snapshotPath(session.cacheDir, ref.repo, commit, ref.file),
  };
}

async function checkFreeSpace(plans: Plan[], session: Session): Promise<void> {
  const pending = plans.flatMap((plan) => (plan.remote ? [plan.remote] : []));
  if (pending.length === 0) return;
  const needed = await Promise.all(
    pending.map(async (remote) => ((await fileExists(remote.blob)) ? 0 : remote.size - (await fileSize(partialPath(remote.blob))))),
  );
  const bytesNeeded = needed.reduce((sum, bytes) => sum + bytes, 0);
  await mkdir(session.cacheDir, { recursive: true });
  const available = await session.freeBytes(session.cacheDir);
  if (bytesNeeded > available) {
    throw new HubDownloadError(
      'disk-space',
      `not enough disk space in ${session.cacheDir}: the download needs ${formatBytes(bytesNeeded)}, ${formatBytes(available)} is free. ` +
        'Free some space, or set HF_HUB_CACHE to a folder on a larger disk.',
    );
  }
}

/** Fetches the blob unless it is there, then links the snapshot and records the branch's commit. */
async function fetchIntoCache(remote: RemoteFile, session: Session, meter: ProgressMeter): Promise<DownloadedFile> {
  if (!(await fileExists(remote.blob))) {
    await fetchUnderLock(remote, session, meter).catch((error: unknown) => {
      throw asDownloadError(error, remote.ref, session, 0);
    });
  }
  await linkSnapshot(remote.blob, remote.snapshot);
  await writeRef(session.cacheDir, remote.ref.repo, remote.ref.revision ?? 'main', remote.commit);
  meter.finish(remote.size);
  const { repo, file } = remote.ref;
  return { repo, file, commit: remote.commit, path: remote.snapshot, bytes: remote.size, fromCache: false };
}

async function fetchUnderLock(remote: RemoteFile, session: Session, meter: ProgressMeter): Promise<void> {
  const partial = partialPath(remote.blob);
  const lock = await lockBlob(`${remote.blob}.lock`, session.signal, async () => meter.report('waiting', await fileSize(partial)));
  try {
    // another download may have finished while this one waited
    if (!(await fileExists(remote.blob))) await fetchBlob(remote, session, meter);
  } finally {
    await lock.release();
  }
}

/** Continues the partial download from its last byte, checks the whole file's SHA-256, renames it to the blob. */
async function fetchBlob(remote: RemoteFile, session: Session, meter: ProgressMeter): Promise<void> {
  const partial = partialPath(remote.blob);
  let bytesDone = await fileSize(partial);
  if (bytesDone > remote.size) {
    await truncate(partial, 0); // not this file's partial: start over
    bytesDone = 0;
  }
  const hash = createHash('sha256');
  if (bytesDone > 0) {
    meter.report('checking', bytesDone);
    for await (const chunk of createReadStream(partial, { highWaterMark: 1 << 20, signal: session.signal })) hash.update(chunk as Buffer);
  }
  if (bytesDone < remote.size) await appendRemote(remote, session, meter, bytesDone, hash);
  const actual = hash.digest('hex');
  if (actual !== remote.sha256) {
    await rm(partial, { force: true });
    throw new HubDownloadError(
      'checksum',
      `${remote.ref.repo}/${remote.ref.file} arrived corrupt: its SHA-256 is ${actual}, the hub says ${remote.sha256}. ` +
        'The partial file was deleted; download it again.',
    );
  }
  await rename(partial, remote.blob);
}

/** Appends bytes [bytesDone, size) to the partial file and the hash, as they arrive. */
async function appendRemote(remote: RemoteFile, session: Session, meter: ProgressMeter, bytesDone: number, hash: Hash): Promise<void> {
  const stall = new StallWatchdog(session.stallTimeoutMs);
  const signal = session.signal ? AbortSignal.any([session.signal, stall.signal]) : stall.signal;
  const failure: FetchFailure = {};
  const blob = await downloadFile({
    repo: remote.ref.repo,
    path: remote.ref.file,
    accessToken: session.accessToken,
    fetch: hubFetch(remote.ref, session, signal, failure),
    downloadInfo: { url: remote.url, size: remote.size, etag: remote.sha256 },
  });
  if (!blob) throw new HubDownloadError('bad-response', `no download for ${remote.ref.repo}/${remote.ref.file}`);
  const out = await open(partialPath(remote.blob), 'a');
  const appender = new Appender(out, bytesDone, (written) => meter.report('downloading', written));
  const reader = blob.slice(bytesDone).stream().getReader();
  let readError: unknown;
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      stall.kick();
      hash.update(chunk.value);
      await appender.push(chunk.value);
    }
  } catch (error) {
    readError = error;
    void reader.cancel().catch(() => {});
  } finally {
    stall.stop();
    await appender.finish().finally(() => out.close());
  }
  // WebBlob.stream() turns a failed request into a bare message: hubFetch kept the real error
  if (readError !== undefined) throw asDownloadError(failure.error ?? readError, remote.ref, session, appender.bytesWritten, remote.size);
  if (appender.bytesWritten !== remote.size) throw lostConnection(remote.ref, session, appender.bytesWritten, remote.size);
}

/**
 * Writes chunks to the partial file in order while the reader goes on reading. A web stream drops
 * the chunks queued in it when the connection dies, so a reader that waited for each write would
 * lose (and the resume fetch again) what had already reached this process; reading at once keeps
 * that queue empty. Up to MAX_QUEUED_BYTES wait here for the disk; beyond that the reader waits.
 */
class Appender {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private flushing: Promise<void> | undefined;
  private error: unknown;

  constructor(
    private readonly out: FileHandle,
    public bytesWritten: number,
    private readonly onWritten: (bytesWritten: number) => void,
  ) {}

  async push(chunk: Uint8Array): Promise<void> {
    if (this.error !== undefined) throw this.error;
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    this.flushing ??= this.flush().catch((error: unknown) => {
      this.error = error;
    });
    if (this.queuedBytes > MAX_QUEUED_BYTES) await this.flushing;
  }

  /** Waits for the queue to reach the disk; throws the write's error (a full disk, say) if one failed. */
  async finish(): Promise<void> {
    await this.flushing;
    if (this.error !== undefined) throw this.error;
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const chunks = this.queue;
      this.queue = [];
      await this.out.writev(chunks);
      const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      this.queuedBytes -= bytes;
      this.bytesWritten += bytes;
      this.onWritten(this.bytesWritten);
    }
    this.flushing = undefined;
  }
}

interface FetchFailure {
  error?: unknown;
}

/**
 * The fetch handed to @huggingface/hub: adds the AbortSignal, turns each failed request into a
 * HubDownloadError that names the file (the library's HubApiError drops the hub's X-Error-Code) and
 * refuses a response that ignored the Range asked for, which would append the file's start again.
 */
function hubFetch(ref: HubFileRef, session: Session, signal: AbortSignal, failure: FetchFailure = {}): typeof fetch {
  return async (input, init) => {
    try {
      const response = await fetch(input, { ...init, signal });
      if (!response.ok) throw httpError(response, ref, session);
      checkRange(init, response, ref);
      return response;
    } catch (error) {
      throw (failure.error = error);
    }
  };
}

function checkRange(init: RequestInit | undefined, response: Response, ref: HubFileRef): void {
  const range = new Headers(init?.headers).get('range');
  const start = range?.match(/^bytes=(\d+)-/)?.[1];
  if (start === undefined || start === '0') return;
  if (response.status !== 206 || !response.headers.get('content-range')?.startsWith(`bytes ${start}-`)) {
    void response.body?.cancel();
    throw new HubDownloadError(
      'bad-response',
      `the server of ${ref.repo}/${ref.file} ignored the byte range asked for (status ${response.status})`,
    );
  }
}

function httpError(response: Response, ref: HubFileRef, session: Session): HubDownloadError {
  const status = response.status;
  const code = response.headers.get('x-error-code');
  void response.body?.cancel();
  const repoPage = `${session.hubUrl}/${ref.repo}`;
  // the hub answers 401 for a repository that does not exist, to hide private ones
  if (code === 'RepoNotFound') {
    return new HubDownloadError(
      'not-found',
      `repository ${ref.repo} not found on ${session.hubUrl} (a private one needs an access token)`,
      status,
    );
  }
  if (code === 'RevisionNotFound')
    return new HubDownloadError('not-found', `revision ${ref.revision ?? 'main'} not found in ${ref.repo}`, status);
  if (code === 'EntryNotFound' || status === 404)
    return new HubDownloadError('not-found', `${ref.file} not found in ${ref.repo} on ${session.hubUrl}`, status);
  if (status === 401 || status === 403) {
    const problem = session.accessToken ? `the access token was refused (status ${status})` : `it needs an access token (status ${status})`;
    return new HubDownloadError(
      'auth',
      `${ref.repo} is gated or private: ${problem}. Accept its terms at ${repoPage} while logged in, create a read token at ` +
        `${session.hubUrl}/settings/tokens and give it to SpecExec.`,
      status,
    );
  }
  if (status >= 500 || status === 429) {
    return new HubDownloadError(
      'server',
      `${session.hubUrl} answered ${status} for ${ref.repo}/${ref.file}: try again later, the download resumes where it stopped`,
      status,
    );
  }
  return new HubDownloadError('bad-response', `${session.hubUrl} answered ${status} for ${ref.repo}/${ref.file}`, status);
}

/** Our error for a failed request or body read: cancelled, or a lost connection; anything else (a file system error) as it is. */
function asDownloadError(error: unknown, ref: HubFileRef, session: Session, bytesDone: number, size?: number): unknown {
  if (error instanceof HubDownloadError) return error;
  if (session.signal?.aborted) {
    return new HubDownloadError(
      'cancelled',
      `download of ${ref.repo}/${ref.file} cancelled${progressNote(bytesDone, size)}; run it again to resume`,
    );
  }
  return isNetworkError(error) ? lostConnection(ref, session, bytesDone, size, error) : error;
}

/** undici's fetch fails with a TypeError that has a cause (refused, reset, closed early); the watchdog and API timeout abort with a TimeoutError. */
function isNetworkError(error: unknown): error is Error {
  return (error instanceof TypeError && error.cause !== undefined) || (error instanceof Error && error.name === 'TimeoutError');
}

function lostConnection(ref: HubFileRef, session: Session, bytesDone: number, size?: number, error?: unknown): HubDownloadError {
  const cause = error instanceof Error ? ` (${describeCause(error)})` : '';
  if (bytesDone === 0) {
    return new HubDownloadError(
      'network',
      `could not reach ${session.hubUrl} for ${ref.repo}/${ref.file}${cause}: check the network connection (or HF_ENDPOINT, for a mirror) and try again`,
    );
  }
  return new HubDownloadError(
    'network',
    `lost the connection to ${session.hubUrl} while downloading ${ref.repo}/${ref.file}${progressNote(bytesDone, size)}${cause}; ` +
      'run the download again to resume from there',
  );
}

function describeCause(error: Error): string {
  if (error.name === 'TimeoutError') return 'no data received for too long';
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}

const progressNote = (bytesDone: number, size?: number) =>
  size && bytesDone > 0 ? ` after ${formatBytes(bytesDone)} of ${formatBytes(size)}` : '';

/** The API requests' signal: the caller's, plus a timeout so that a hub that never answers is an error, not a hang. */
function apiSignal(session: Session): AbortSignal {
  const timeout = AbortSignal.timeout(session.stallTimeoutMs);
  return session.signal ? AbortSignal.any([session.signal, timeout]) : timeout;
}

/** Aborts its signal when kick() has not been called for `timeoutMs`. */
class StallWatchdog {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  readonly signal = this.controller.signal;

  constructor(timeoutMs: number) {
    this.timer = setTimeout(() => this.controller.abort(new DOMException('stalled', 'TimeoutError')), timeoutMs);
  }

  kick(): void {
    this.timer.refresh();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** Turns bytes on disk into progress over all the files of one call: speed smoothed, time left from it. */
class ProgressMeter {
  private baseline: { bytes: number; time: number } | undefined;
  private bytesPerSecond = 0;

  constructor(
    private readonly remote: RemoteFile,
    private readonly bytesBefore: number,
    private readonly totalBytes: number,
    private readonly options: DownloadOptions,
  ) {}

  /** While waiting, the partial grows by the other download's bytes: the same speed measure applies. */
  report(phase: DownloadProgress['phase'], fileBytes: number): void {
    const now = performance.now();
    if (phase === 'checking') {
      this.baseline = undefined; // bytes re-read from disk are no measure of the network
    } else {
      if (this.baseline && now - this.baseline.time < PROGRESS_INTERVAL_MS) return;
      if (this.baseline) this.smooth(((fileBytes - this.baseline.bytes) * 1000) / (now - this.baseline.time));
      this.baseline = { bytes: fileBytes, time: now };
    }
    this.emit(phase, fileBytes);
  }

  finish(fileBytes: number): void {
    this.emit('downloading', fileBytes);
  }

  private smooth(instant: number): void {
    this.bytesPerSecond = this.bytesPerSecond === 0 ? instant : 0.7 * this.bytesPerSecond + 0.3 * instant;
  }

  private emit(phase: DownloadProgress['phase'], fileBytes: number): void {
    const bytesDone = this.bytesBefore + fileBytes;
    const secondsLeft = this.bytesPerSecond > 0 ? (this.totalBytes - bytesDone) / this.bytesPerSecond : undefined;
    const { repo, file } = this.remote.ref;
    this.options.onProgress?.({
      file: `${repo}/${file}`,
      phase,
      bytesDone,
      totalBytes: this.totalBytes,
      bytesPerSecond: this.bytesPerSecond,
      secondsLeft,
    });
  }
}
