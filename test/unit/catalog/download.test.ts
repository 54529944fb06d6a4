// Downloads into a real hub cache in a temp folder from the stand-in hub (test/helpers/hub-server.ts)
// through @huggingface/hub: the cache layout llama.cpp reads, resuming after a cut, a stalled
// connection and a cancel with the server's log proving no byte was sent twice, the SHA-256 check,
// each HTTP failure as its own error, the free-space check, and concurrent downloads of one file in
// one process and across two. Run as a worker (WORKER_ENV set), this file downloads one file and exits.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type DownloadOptions,
  type DownloadProgress,
  downloadHubFile,
  downloadHubFiles,
  formatBytes,
  freeDiskBytes,
  HubDownloadError,
  type HubFileRef,
} from '../../../engine-native/catalog/download';
import { blobPath, partialPath, repoCacheDir, snapshotPath } from '../../../engine-native/catalog/hub-cache';
import { HubServer } from '../../helpers/hub-server';

const WORKER_ENV = 'SPECEXEC_DOWNLOAD_TEST_WORKER';

/** Deterministic bytes that do not compress: an AES-CTR keystream. */
function testBytes(size: number, seed: number): Buffer {
  const key = createHash('sha256').update(`seed ${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

const REPO = 'test-org/Tiny-Coder-GGUF';
const FILE = 'tiny-coder-q8_0.gguf';
const DATA = testBytes(3 * 1024 * 1024 + 123, 1); // not a multiple of any chunk size
const SHA = sha256(DATA);
const DRAFT_REPO = 'test-org/Tiny-Coder-Draft-GGUF';
const DRAFT_FILE = 'tiny-coder-draft-q8_0.gguf';
const DRAFT_DATA = testBytes(700_001, 2);
const GATED = 'test-org/Gated-Coder-GGUF';
const TOKEN = 'hf_standInToken';
const TARGET: HubFileRef = { repo: REPO, file: FILE };

async function rejection(promise: Promise<unknown>, code: HubDownloadError['code']): Promise<HubDownloadError> {
  const error = await promise.then(
    () => assert.fail(`expected a ${code} error`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof HubDownloadError, `not a HubDownloadError: ${String(error)}`);
  assert.equal(error.code, code, error.message);
  return error;
}

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let waited = 0; !(await condition()); waited += 20) {
    if (waited > 10_000) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The address of a port that was free a moment ago: nothing listens there. */
async function unreachableUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

async function runWorker(job: { ref: HubFileRef; options: DownloadOptions }): Promise<void> {
  const result = await downloadHubFile(job.ref, job.options);
  process.stdout.write(JSON.stringify(result));
}

if (process.env[WORKER_ENV]) {
  runWorker(JSON.parse(process.env[WORKER_ENV])).catch((error: Error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  });
} else {
  describe('downloading from the stand-in hub into the hub cache', () => {
    let hub: HubServer;
    let root: string;
    let cache: string;
    const options = (extra: DownloadOptions = {}): DownloadOptions => ({ hubUrl: hub.url, cacheDir: cache, ...extra });
    const blob = () => blobPath(cache, REPO, SHA);
    const snapshot = () => snapshotPath(cache, REPO, hub.commitOf(REPO), FILE);

    /** Every byte of the file was sent exactly once, in order, over all the responses so far. */
    function assertSentOnce(sha: string, size: number): void {
      const ranges = hub.sentRanges(sha);
      let end = 0;
      for (const [start, stop] of ranges) {
        assert.equal(start, end, `a response started at ${start}, not where the last stopped (${end}): ${JSON.stringify(ranges)}`);
        end = stop;
      }
      assert.equal(end, size, `sent ${JSON.stringify(ranges)} of ${size} bytes`);
    }

    async function assertCachedCorrectly(result: { path: string }): Promise<void> {
      assert.ok((await readFile(result.path)).equals(DATA), 'the snapshot file differs from the served one');
      assert.deepEqual(await readdir(path.dirname(blob())), [SHA], 'blobs/ holds a partial or lock file');
    }

    before(async () => {
      root = await mkdtemp(path.join(tmpdir(), 'hub-download-test-'));
      hub = await HubServer.start([
        { name: REPO, files: { [FILE]: DATA } },
        { name: DRAFT_REPO, files: { [DRAFT_FILE]: DRAFT_DATA } },
        { name: GATED, files: { [FILE]: DATA }, token: TOKEN },
      ]);
    });
    beforeEach(async () => {
      cache = await mkdtemp(path.join(root, 'cache-'));
      hub.faults = {};
      hub.log.length = 0;
    });
    after(async () => {
      await hub.close();
      await rm(root, { recursive: true, force: true });
    });

    test('a full download: blob, relative snapshot symlink, refs/main, progress; then found in the cache with no request', async () => {
      hub.faults.bytesPerSecond = 8 << 20; // ~0.4 s: long enough to measure a speed
      const progress: DownloadProgress[] = [];
      const started = performance.now();
      const result = await downloadHubFile(TARGET, options({ onProgress: (p) => progress.push(p) }));
      const averageSpeed = DATA.length / ((performance.now() - started) / 1000); // below 8 MiB/s on a loaded machine
      const commit = hub.commitOf(REPO);
      assert.deepEqual(result, { repo: REPO, file: FILE, commit, path: snapshot(), bytes: DATA.length, fromCache: false });
      assert.ok((await lstat(result.path)).isSymbolicLink());
      assert.equal(await readlink(result.path), path.join('..', '..', 'blobs', SHA));
      assert.equal(await readFile(path.join(repoCacheDir(cache, REPO), 'refs', 'main'), 'utf8'), commit);
      await assertCachedCorrectly(result);
      assertSentOnce(SHA, DATA.length);
      const measured = progress.filter((p) => p.bytesPerSecond > 0 && p.secondsLeft !== undefined);
      assert.ok(measured.length > 0, 'no progress with a speed and time left');
      for (const p of measured) {
        const speed = `speed ${formatBytes(p.bytesPerSecond)}/s, average ${formatBytes(averageSpeed)}/s`;
        assert.ok(p.bytesPerSecond > averageSpeed / 4 && p.bytesPerSecond < 30e6, speed);
        assert.ok(Math.abs((p.secondsLeft ?? NaN) - (p.totalBytes - p.bytesDone) / p.bytesPerSecond) < 1e-6);
      }
      progress.reduce((previous, p) => (assert.ok(p.bytesDone >= previous, 'progress went backwards'), p.bytesDone), 0);
      assert.deepEqual(
        { ...progress.at(-1), bytesPerSecond: 0, secondsLeft: 0 },
        {
          file: `${REPO}/${FILE}`,
          phase: 'downloading',
          bytesDone: DATA.length,
          totalBytes: DATA.length,
          bytesPerSecond: 0,
          secondsLeft: 0,
        },
      );

      hub.log.length = 0;
      const again = await downloadHubFile(TARGET, options({ hubUrl: await unreachableUrl() })); // offline
      assert.deepEqual(again, { ...result, fromCache: true });
      assert.deepEqual(hub.log, []);
    });

    test('a connection cut at 40% leaves a partial file, never a snapshot; the next try fetches only the rest', async () => {
      const cut = Math.floor(DATA.length * 0.4);
      hub.faults.cutAfterBytes = cut;
      const error = await rejection(downloadHubFile(TARGET, options()), 'network');
      assert.ok(error.resumable);
      assert.match(error.message, /lost the connection .* after 1\.3 MB of 3\.1 MB .*run the download again to resume/);
      assert.equal((await stat(partialPath(blob()))).size, cut);
      assert.ok(!existsSync(snapshot()) && !existsSync(blob()));

      await assertCachedCorrectly(await downloadHubFile(TARGET, options()));
      assert.deepEqual(hub.sentRanges(SHA), [
        [0, cut],
        [cut, DATA.length],
      ]);
    });

    test('a stalled connection is a resumable network error after the stall timeout', async () => {
      const stalled = Math.floor(DATA.length * 0.4);
      hub.faults.stallAfterBytes = stalled;
      const error = await rejection(downloadHubFile(TARGET, options({ stallTimeoutMs: 300 })), 'network');
      assert.match(error.message, /no data received for too long/);
      await assertCachedCorrectly(await downloadHubFile(TARGET, options()));
      assertSentOnce(SHA, DATA.length);
    });

    test('a cancel keeps the bytes fetched; the next try resumes from them', async () => {
      const stalled = Math.floor(DATA.length * 0.4);
      hub.faults.stallAfterBytes = stalled;
      const controller = new AbortController();
      const download = downloadHubFile(TARGET, options({ signal: controller.signal }));
      await waitFor(async () => (await stat(partialPath(blob())).catch(() => undefined))?.size === stalled, 'the partial file');
      controller.abort();
      const error = await rejection(download, 'cancelled');
      assert.ok(error.resumable);
      assert.match(error.message, /cancelled after 1\.3 MB of 3\.1 MB; run it again to resume/);
      assert.ok(!existsSync(snapshot()) && !existsSync(`${blob()}.lock`), 'the cancelled download left its lock or a snapshot');

      await assertCachedCorrectly(await downloadHubFile(TARGET, options()));
      assertSentOnce(SHA, DATA.length);
      assert.equal(hub.sentRanges(SHA).length, 2);
    });

    test('a corrupted byte is rejected against the SHA-256, the file deleted', async () => {
      hub.faults.corruptByteAt = DATA.length - 10;
      const error = await rejection(downloadHubFile(TARGET, options()), 'checksum');
      assert.ok(!error.resumable);
      assert.match(
        error.message,
        new RegExp(`${REPO}/${FILE} arrived corrupt: its SHA-256 is [0-9a-f]{64}, the hub says ${SHA}\\. The partial file was deleted`),
      );
      assert.ok(!existsSync(partialPath(blob())) && !existsSync(blob()) && !existsSync(snapshot()));
    });

    test('a corrupted byte in the part fetched before a cut is caught after the resume: the partial is verified too', async () => {
      hub.faults = { cutAfterBytes: Math.floor(DATA.length * 0.4), corruptByteAt: 1000 };
      await rejection(downloadHubFile(TARGET, options()), 'network');
      hub.faults = {};
      await rejection(downloadHubFile(TARGET, options()), 'checksum');
      assert.ok(!existsSync(partialPath(blob())));
    });

    test('a gated repository: 401 without a token, 403 with a wrong one, each saying how to add one; the right one works', async () => {
      const gated: HubFileRef = { repo: GATED, file: FILE };
      const noToken = await rejection(downloadHubFile(gated, options()), 'auth');
      assert.equal(noToken.status, 401);
      assert.match(noToken.message, new RegExp(`${GATED} is gated or private: it needs an access token .*${hub.url}/settings/tokens`));
      const wrong = await rejection(downloadHubFile(gated, options({ accessToken: 'hf_wrong' })), 'auth');
      assert.equal(wrong.status, 403);
      assert.match(wrong.message, /the access token was refused/);
      assert.match(
        (await rejection(downloadHubFile(gated, options({ accessToken: 'not-a-token' })), 'auth')).message,
        /must start with "hf_"/,
      );
      assert.ok((await readFile((await downloadHubFile(gated, options({ accessToken: TOKEN }))).path)).equals(DATA));
    });

    test('a missing file, repository or revision is not-found, naming it (a missing repository too, though the hub says 401)', async () => {
      const file = await rejection(downloadHubFile({ repo: REPO, file: 'missing-q4_0.gguf' }, options()), 'not-found');
      assert.match(file.message, new RegExp(`missing-q4_0\\.gguf is not in ${REPO} at main`));
      const repo = await rejection(downloadHubFile({ repo: 'test-org/No-Such-GGUF', file: FILE }, options()), 'not-found');
      assert.equal(repo.status, 401);
      assert.match(repo.message, /repository test-org\/No-Such-GGUF not found/);
      const revision = await rejection(downloadHubFile({ ...TARGET, revision: 'v9' }, options()), 'not-found');
      assert.match(revision.message, /revision v9 not found/);
    });

    test('a hub that cannot be reached is a network error that says so', async () => {
      const nowhere = await unreachableUrl();
      const error = await rejection(downloadHubFile(TARGET, options({ hubUrl: nowhere })), 'network');
      assert.ok(
        error.message.startsWith(`could not reach ${nowhere} for ${REPO}/${FILE} (ECONNREFUSED): check the network connection`),
        error.message,
      );
    });

    test('a 500 from the API, the resolve URL or the file server is a server error, to try again later', async () => {
      for (const on of ['api', 'resolve', 'cdn'] as const) {
        hub.faults = { status: { code: 500, on } };
        const error = await rejection(downloadHubFile(TARGET, options()), 'server');
        assert.equal(error.status, 500, on);
        assert.ok(error.resumable);
        assert.match(error.message, /answered 500 .*try again later/);
      }
      hub.faults = {};
      await assertCachedCorrectly(await downloadHubFile(TARGET, options()));
    });

    test('not enough disk space fails before any file byte, counting a partial file and all the files asked for', async () => {
      const needs = await rejection(downloadHubFile(TARGET, options({ freeBytes: async () => DATA.length - 1 })), 'disk-space');
      assert.equal(
        needs.message,
        `not enough disk space in ${cache}: the download needs 3.1 MB, 3.1 MB is free. Free some space, or set HF_HUB_CACHE to a folder on a larger disk.`,
      );
      const pair = [{ repo: DRAFT_REPO, file: DRAFT_FILE }, TARGET];
      await rejection(downloadHubFiles(pair, options({ freeBytes: async () => DATA.length + DRAFT_DATA.length - 1 })), 'disk-space');
      assert.deepEqual(hub.fileRequests(), []);

      const cut = Math.floor(DATA.length * 0.4);
      hub.faults.cutAfterBytes = cut;
      await rejection(downloadHubFile(TARGET, options()), 'network');
      await assertCachedCorrectly(await downloadHubFile(TARGET, options({ freeBytes: async () => DATA.length - cut })));
    });

    test('the real free-space measure of the temp folder agrees with df', async () => {
      const ours = await freeDiskBytes(tmpdir());
      const df = execFileSync('df', ['-Pk', tmpdir()], { encoding: 'utf8' }).trim().split('\n').at(-1)?.split(/\s+/);
      const dfBytes = Number(df?.[3]) * 1024;
      assert.ok(
        ours > 0 && Math.abs(ours - dfBytes) < Math.max(64 << 20, dfBytes * 0.01),
        `statfs ${formatBytes(ours)}, df ${formatBytes(dfBytes)}`,
      );
    });

    test('two downloads of one file at once in one process: one fetch, one correct file', async () => {
      hub.faults.bytesPerSecond = 8 << 20;
      const phases = new Set<string>();
      const both = await Promise.all([1, 2].map(() => downloadHubFile(TARGET, options({ onProgress: (p) => phases.add(p.phase) }))));
      assert.equal(both[0].path, both[1].path);
      await assertCachedCorrectly(both[0]);
      assertSentOnce(SHA, DATA.length);
      assert.equal(hub.sentRanges(SHA).length, 1);
      assert.ok(phases.has('waiting'), 'the second download did not wait for the first');
    });

    test('a download waiting for another one can be cancelled; the other goes on', async () => {
      hub.faults.bytesPerSecond = 4 << 20;
      const first = downloadHubFile(TARGET, options());
      await waitFor(async () => existsSync(partialPath(blob())), 'the first download to start');
      const controller = new AbortController();
      const second = downloadHubFile(
        TARGET,
        options({ signal: controller.signal, onProgress: (p) => p.phase === 'waiting' && controller.abort() }),
      );
      await rejection(second, 'cancelled');
      await assertCachedCorrectly(await first);
      assertSentOnce(SHA, DATA.length);
    });

    test('two processes downloading one file at once: one fetch, one correct file', async () => {
      hub.faults.bytesPerSecond = 4 << 20;
      const job = { ref: TARGET, options: options() };
      const worker = spawn(process.execPath, [__filename], { env: { ...process.env, [WORKER_ENV]: JSON.stringify(job) } });
      let stdout = '';
      let stderr = '';
      worker.stdout.on('data', (chunk) => (stdout += chunk));
      worker.stderr.on('data', (chunk) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
      await waitFor(async () => existsSync(partialPath(blob())), 'the other process to start its download');
      const phases = new Set<string>();
      const ours = await downloadHubFile(TARGET, options({ onProgress: (p) => phases.add(p.phase) }));
      assert.equal(await exited, 0, stderr);
      assert.equal(JSON.parse(stdout).path, ours.path);
      assert.ok(phases.has('waiting'), 'this process did not wait for the other');
      await assertCachedCorrectly(ours);
      assertSentOnce(SHA, DATA.length);
      assert.equal(hub.sentRanges(SHA).length, 1);
    });

    test('a lock left by a crashed process is broken at once', async () => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      await mkdir(path.dirname(blob()), { recursive: true });
      await writeFile(`${blob()}.lock`, JSON.stringify({ host: hostname(), pid: dead, token: 'crashed' }));
      const started = performance.now();
      await assertCachedCorrectly(await downloadHubFile(TARGET, options()));
      assert.ok(performance.now() - started < 5_000, 'waited for the stale lock to time out');
    });

    test('a draft and a target in one call: one progress over both, each in its repository', async () => {
      const progress: DownloadProgress[] = [];
      const [draft, target] = await downloadHubFiles(
        [{ repo: DRAFT_REPO, file: DRAFT_FILE }, TARGET],
        options({ onProgress: (p) => progress.push(p) }),
      );
      assert.ok((await readFile(draft.path)).equals(DRAFT_DATA));
      assert.ok((await readFile(target.path)).equals(DATA));
      const total = DATA.length + DRAFT_DATA.length;
      assert.ok(progress.every((p) => p.totalBytes === total));
      assert.deepEqual(
        [progress[0].file, progress.at(-1)?.file, progress.at(-1)?.bytesDone],
        [`${DRAFT_REPO}/${DRAFT_FILE}`, `${REPO}/${FILE}`, total],
      );
      const targetStart = progress.find((p) => p.file === `${REPO}/${FILE}`);
      assert.ok(targetStart && targetStart.bytesDone >= DRAFT_DATA.length, "the target's progress does not start after the draft's bytes");
    });

    test('HF_ENDPOINT (a mirror) and HF_HUB_CACHE are honoured when no options are given', async () => {
      const saved = { endpoint: process.env.HF_ENDPOINT, cache: process.env.HF_HUB_CACHE };
      process.env.HF_ENDPOINT = `${hub.url}/`;
      process.env.HF_HUB_CACHE = cache;
      try {
        const result = await downloadHubFile(TARGET);
        assert.equal(result.path, snapshot());
        assert.ok(hub.fileRequests().length > 0);
      } finally {
        restoreEnv('HF_ENDPOINT', saved.endpoint);
        restoreEnv('HF_HUB_CACHE', saved.cache);
      }
    });
  });
}

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
