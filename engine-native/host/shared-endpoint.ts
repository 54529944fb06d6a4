// Where a shared engine listens and how windows find it: one private folder per user, and in it one
// socket per configuration (a hash of everything the engine is started with), the start lock that
// lets only one of several racing engines serve, and the engine's log.
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseInitializeParams } from './params';
import type { InitializeParams } from './protocol';

export interface SharedEndpoint {
  /** The configuration's hash: equal for windows that can share one engine. */
  key: string;
  /** DIR/engine-KEY.sock: the Unix domain socket the engine listens on. */
  socketPath: string;
  /** DIR/engine-KEY.lock: held (flock) by the engine that serves the socket, for its whole life. */
  lockPath: string;
  /** DIR/engine-KEY.log: the engine's stderr (llama.cpp's warnings, the host's log). */
  logPath: string;
}

/** How long a shared engine waits for a new client after its last one left. */
export const DEFAULT_IDLE_EXIT_MS = 5 * 60_000;

/** sockaddr_un's sun_path holds 108 bytes on Linux, 104 on macOS. */
const MAX_SOCKET_PATH = 100;

export class SharedEndpointError extends Error {}

/** Whether this platform can share an engine: Unix domain sockets with peer credentials. */
export function sharingSupported(): boolean {
  return process.platform === 'linux' || process.platform === 'darwin';
}

/** $SPECEXEC_RUNTIME_DIR, else $XDG_RUNTIME_DIR/specexec (a per-user tmpfs), else TMPDIR/specexec-UID. */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPECEXEC_RUNTIME_DIR) return env.SPECEXEC_RUNTIME_DIR;
  if (env.XDG_RUNTIME_DIR) return path.join(env.XDG_RUNTIME_DIR, 'specexec');
  return path.join(os.tmpdir(), `specexec-${process.getuid?.() ?? os.userInfo().username}`);
}

/**
 * Creates the folder 0700 if needed and checks it is a real folder of this user that no one else
 * can enter: the first line of the engine's privacy (the socket is 0600, and the engine checks
 * each peer's user id too).
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid!();
  if (!st.isDirectory() || st.uid !== uid) {
    throw new SharedEndpointError(
      `${dir} is not a folder of user ${uid} (a link, a file, or another user's): the shared engine will not use it. ` +
        'Remove it, or set specexec.sharedEngine to false.',
    );
  }
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** A short stable hash of the configuration: the same models, threads, context, GPU settings and engine build. */
export function endpointKey(configuration: unknown): string {
  return createHash('sha256').update(JSON.stringify(configuration)).digest('hex').slice(0, 16);
}

/** A model file as the key sees it: a file replaced on disk (new size or time) needs a new engine. */
function fileIdentity(file: string | null | undefined): string | null {
  if (!file) return null;
  try {
    const st = statSync(file);
    return `${path.resolve(file)}:${st.size}:${st.mtimeMs}`;
  } catch {
    return path.resolve(file); // missing: the engine's load will say so
  }
}

/**
 * The endpoint of the engine for these parameters, this engine host script and this build
 * (SPECEXEC_NATIVE_BUILD, SPECEXEC_CPU_VARIANT): windows, and the CLI's --shared, that agree on all
 * of it share one engine.
 */
export function endpointFor(params: InitializeParams, hostScript: string, env: NodeJS.ProcessEnv, dir = runtimeDir()): SharedEndpoint {
  const settled = parseInitializeParams(params); // omitted and default values hash alike
  const key = endpointKey({
    ...settled,
    targetModelPath: fileIdentity(settled.targetModelPath),
    draftModelPath: fileIdentity(settled.draftModelPath),
    hostScript: path.resolve(hostScript),
    nativeBuild: env.SPECEXEC_NATIVE_BUILD ?? '',
    cpuVariant: env.SPECEXEC_CPU_VARIANT ?? '',
  });
  return sharedEndpoint(dir, key);
}

export function sharedEndpoint(dir: string, key: string): SharedEndpoint {
  const socketPath = path.join(dir, `engine-${key}.sock`);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new SharedEndpointError(
      `the socket path ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes: set SPECEXEC_RUNTIME_DIR to a shorter folder`,
    );
  }
  return { key, socketPath, lockPath: path.join(dir, `engine-${key}.lock`), logPath: path.join(dir, `engine-${key}.log`) };
}
