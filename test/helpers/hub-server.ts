// A stand-in for the Hugging Face hub on 127.0.0.1 (nothing in the tests can reach the real one):
// the endpoints @huggingface/hub calls, answered as the hub answers them, from files the test gives.
//   GET  /api/models/ORG/NAME/revision/REV   model info, with the revision's commit in `sha`
//   POST /api/models/ORG/NAME/paths-info/REV [{type, path, oid, size, lfs: {oid (sha256), size, pointerSize}}]
//   HEAD|GET /ORG/NAME/resolve/REV/FILE      302 to /cdn/SHA256, with X-Repo-Commit, X-Linked-Etag, X-Linked-Size
//   HEAD|GET /cdn/SHA256                     the bytes: Range, 206, Content-Range, ETag, Accept-Ranges
// Errors carry the hub's X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo); an
// unknown repository is a 401 without a token, as on the hub. Every request is logged, with the file
// bytes each response really wrote, and faults can be injected (see HubFaults).
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HubRepo {
  /** `ORG/NAME`. */
  name: string;
  files: Record<string, Buffer>;
  /** Default: a hash of the name. */
  commit?: string;
  /** A gated repository: every request needs `Authorization: Bearer <token>`. */
  token?: string;
}

export interface HubFaults {
  /** The next file response closes its connection after this many body bytes (once). */
  cutAfterBytes?: number;
  /** The next file response stops sending after this many body bytes and keeps the connection open (once). */
  stallAfterBytes?: number;
  /** File responses flip the byte at this file offset (every time). */
  corruptByteAt?: number;
  /** Answer this status to the chosen kind of request (every time). */
  status?: { code: number; on: 'api' | 'resolve' | 'cdn' };
  /** File bodies are sent at this rate. */
  bytesPerSecond?: number;
}

export interface HubLogEntry {
  method: string;
  path: string;
  status: number;
  /** For file bodies: the SHA-256 of the file, the first offset sent and the bytes actually written. */
  body?: { sha256: string; start: number; bytes: number };
}

interface ServedFile {
  bytes: Buffer;
  sha256: string;
}

const CHUNK = 256 * 1024;
const sha1 = (data: string | Buffer) => createHash('sha1').update(data).digest('hex');

export class HubServer {
  readonly log: HubLogEntry[] = [];
  faults: HubFaults = {};
  private readonly repos = new Map<string, HubRepo>();
  private readonly blobs = new Map<string, ServedFile>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(repos: HubRepo[] = []): Promise<HubServer> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const hub = new HubServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => {
      hub.handle(req, res).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(500).end(error.message);
        else res.destroy(error);
      });
    });
    for (const repo of repos) hub.addRepo(repo);
    return hub;
  }

  addRepo(repo: HubRepo): void {
    this.repos.set(repo.name, repo);
    for (const bytes of Object.values(repo.files)) {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      this.blobs.set(sha256, { bytes, sha256 });
    }
  }

  commitOf(repo: string): string {
    return this.repos.get(repo)?.commit ?? sha1(repo);
  }

  /** The [start, end) file ranges the server really sent for a file, in order. */
  sentRanges(sha256: string): [number, number][] {
    return this.log.flatMap((entry) =>
      entry.body?.sha256 === sha256 ? [[entry.body.start, entry.body.start + entry.body.bytes] as [number, number]] : [],
    );
  }

  /** The requests to file contents (resolve and cdn), the ones a cached download must not make. */
  fileRequests(): HubLogEntry[] {
    return this.log.filter((entry) => entry.path.includes('/resolve/') || entry.path.startsWith('/cdn/'));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const entry: HubLogEntry = { method: req.method ?? '', path: url.pathname, status: 0 };
    this.log.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    res.on('close', () => (entry.status ||= res.statusCode));
    const route = this.route(req.method ?? '', decodeURIComponent(url.pathname));
    if (!route) return this.fail(res, 404, 'NotFound', `no such endpoint: ${url.pathname}`);
    if (this.faults.status?.on === (route.kind === 'info' || route.kind === 'paths-info' ? 'api' : route.kind))
      return this.fail(res, this.faults.status.code, undefined, 'injected failure');
    if (route.kind === 'cdn') return this.sendBlob(req, res, route.sha256, entry);
    const repo = this.repos.get(route.repo);
    const auth = req.headers.authorization;
    if (!repo)
      return auth
        ? this.fail(res, 404, 'RepoNotFound', 'Repository not found')
        : this.fail(res, 401, 'RepoNotFound', 'Invalid username or password.');
    if (repo.token && auth !== `Bearer ${repo.token}`) {
      return this.fail(
        res,
        auth ? 403 : 401,
        'GatedRepo',
        `Access to model ${repo.name} is restricted. You must have access to it and be authenticated to access it.`,
      );
    }
    const commit = this.commitOf(repo.name);
    if (![commit, 'main', 'HEAD'].includes(route.revision))
      return this.fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${route.revision}`);
    if (route.kind === 'info') return this.json(res, modelInfo(repo, commit));
    if (route.kind === 'paths-info') return this.json(res, pathsInfo(repo, commit, await readJson(req)));
    return this.redirectToBlob(res, repo, commit, route.file);
  }

  private route(method: string, pathname: string): Route | undefined {
    const api = pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/(revision|paths-info)\/([^/]+)$/);
    if (api && method === (api[2] === 'revision' ? 'GET' : 'POST'))
      return { kind: api[2] === 'revision' ? 'info' : 'paths-info', repo: api[1], revision: api[3] };
    const resolve = pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    if (resolve && ['GET', 'HEAD'].includes(method)) return { kind: 'resolve', repo: resolve[1], revision: resolve[2], file: resolve[3] };
    const cdn = pathname.match(/^\/cdn\/([0-9a-f]{64})$/);
    if (cdn && ['GET', 'HEAD'].includes(method)) return { kind: 'cdn', sha256: cdn[1] };
    return undefined;
  }

  private redirectToBlob(res: http.ServerResponse, repo: HubRepo, commit: string, file: string): void {
    const bytes = repo.files[file];
    if (!bytes) return this.fail(res, 404, 'EntryNotFound', `${file} does not exist on "main"`);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    res
      .writeHead(302, {
        Location: `/cdn/${sha256}`,
        'X-Repo-Commit': commit,
        'X-Linked-Etag': `"${sha256}"`,
        'X-Linked-Size': String(bytes.length),
        ETag: `"${lfsPointerOid(sha256, bytes.length)}"`,
      })
      .end();
  }

  private async sendBlob(req: http.IncomingMessage, res: http.ServerResponse, sha256: string, entry: HubLogEntry): Promise<void> {
    const blob = this.blobs.get(sha256);
    if (!blob) return this.fail(res, 404, 'EntryNotFound', 'no such blob');
    const size = blob.bytes.length;
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    const [start, end] = range ?? [0, size];
    const headers = {
      'Accept-Ranges': 'bytes',
      ETag: `"${sha256}"`,
      'Content-Length': String(end - start),
      'Content-Type': 'application/octet-stream',
    };
    res.writeHead(range ? 206 : 200, range ? { ...headers, 'Content-Range': `bytes ${start}-${end - 1}/${size}` } : headers);
    if (req.method === 'HEAD') return void res.end();
    entry.body = { sha256, start, bytes: 0 };
    await this.writeBody(res, blob.bytes, start, end, entry.body);
  }

  /** Writes [start, end) in chunks, applying the faults; counts only bytes the socket took. */
  private async writeBody(res: http.ServerResponse, bytes: Buffer, start: number, end: number, sent: { bytes: number }): Promise<void> {
    const { cutAfterBytes, stallAfterBytes } = this.faults;
    this.faults.cutAfterBytes = this.faults.stallAfterBytes = undefined;
    const stopAt = Math.min(end, start + (cutAfterBytes ?? stallAfterBytes ?? Infinity));
    for (let offset = start; offset < stopAt && !res.destroyed;) {
      const chunk = this.corrupt(bytes.subarray(offset, Math.min(stopAt, offset + CHUNK)), offset);
      await new Promise<void>((resolve, reject) => res.write(chunk, (error) => (error ? reject(error) : resolve())));
      sent.bytes += chunk.length;
      offset += chunk.length;
      if (this.faults.bytesPerSecond) await sleep((chunk.length / this.faults.bytesPerSecond) * 1000);
    }
    if (cutAfterBytes !== undefined) res.destroy();
    else if (stallAfterBytes === undefined) res.end();
  }

  private corrupt(chunk: Buffer, offset: number): Buffer {
    const at = this.faults.corruptByteAt;
    if (at === undefined || at < offset || at >= offset + chunk.length) return chunk;
    const copy = Buffer.from(chunk);
    copy[at - offset] ^= 0xff;
    return copy;
  }

  private fail(res: http.ServerResponse, status: number, errorCode: string | undefined, message: string): void {
    res.writeHead(status, {
      'Content-Type': 'application/json',
      ...(errorCode && { 'X-Error-Code': errorCode }),
      'X-Error-Message': message,
    });
    res.end(JSON.stringify({ error: message }));
  }

  private json(res: http.ServerResponse, body: unknown): void {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  }
}

type Route =
  | { kind: 'info'; repo: string; revision: string }
  | { kind: 'paths-info'; repo: string; revision: string }
  | { kind: 'resolve'; repo: string; revision: string; file: string }
  | { kind: 'cdn'; sha256: string };

function modelInfo(repo: HubRepo, commit: string) {
  return {
    _id: sha1(repo.name).slice(0, 24),
    id: repo.name,
    sha: commit,
    private: false,
    gated: repo.token ? 'manual' : false,
    downloads: 0,
    likes: 0,
    lastModified: '2025-01-01T00:00:00.000Z',
    library_name: 'gguf',
    siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
  };
}

function pathsInfo(repo: HubRepo, commit: string, body: { paths?: string[]; expand?: boolean }) {
  return (body.paths ?? []).flatMap((file) => {
    const bytes = repo.files[file];
    if (!bytes) return [];
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const pointerSize = lfsPointer(sha256, bytes.length).length;
    const entry = {
      type: 'file',
      path: file,
      oid: lfsPointerOid(sha256, bytes.length),
      size: bytes.length,
      lfs: { oid: sha256, size: bytes.length, pointerSize },
    };
    return [
      body.expand
        ? {
            ...entry,
            lastCommit: { id: commit, title: 'Upload', date: '2025-01-01T00:00:00.000Z' },
            securityFileStatus: { status: 'safe' },
          }
        : entry,
    ];
  });
}

const lfsPointer = (sha256: string, size: number) => `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`;

/** The git blob id of the LFS pointer file: what the hub gives as a LFS file's `oid` and resolve ETag. */
function lfsPointerOid(sha256: string, size: number): string {
  const pointer = lfsPointer(sha256, size);
  return sha1(`blob ${Buffer.byteLength(pointer)}\0${pointer}`);
}

/** A single `bytes=START-[END]` range as [start, end), undefined without one. */
function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = header?.match(/^bytes=(\d+)-(\d*)$/);
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = match[2] ? Math.min(Number(match[2]) + 1, size) : size;
  return start < size && start < end ? [start, end] : 'unsatisfiable';
}

async function readJson(req: http.IncomingMessage): Promise<{ paths?: string[]; expand?: boolean }> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}
