// The shared engine: one engine host serving every window of its user that has the same
// configuration, over a Unix domain socket in the user's private folder (./shared-endpoint.ts).
// Only the process that holds the start lock serves, so windows racing to start it (at first use,
// or all at once after a crash) end up with one engine. Private three ways: the folder is 0700, the
// socket 0600, and each connection's peer must be this user (SO_PEERCRED / getpeereid). It exits,
// freeing its memory, when no window has been connected for its idle time.
import { chmodSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import type { EngineService } from './engine-service';
import { loadAddon } from './native';
import { openConnection, serve } from './server';

/** How long a new engine waits for its first client, whatever its idle time. */
const FIRST_CLIENT_GRACE_MS = 30_000;

export interface SharedServerOptions {
  socketPath: string;
  lockPath: string;
  idleExitMs: number;
  log: (message: string) => void;
}

/** The descriptor of a connected Unix socket (libuv's pipe handle has it; Node does not document it). */
function socketFd(socket: net.Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

export function serveShared(service: EngineService, options: SharedServerOptions): void {
  const { socketPath, log } = options;
  const addon = loadAddon();
  if (!addon.holdLock(options.lockPath)) {
    log(`another engine already serves ${socketPath}: exiting`);
    process.exit(0);
  }
  // a socket file left by an engine that died: no live engine serves it, since this one holds the lock
  rmSync(socketPath, { force: true });
  const uid = process.getuid!();
  let nextClient = 1;
  let clients = 0;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  let exiting = false;
  const exit = async (why: string) => {
    exiting = true;
    log(`${why}: exiting`);
    server.close();
    rmSync(socketPath, { force: true });
    await service.shutdown().catch(() => undefined);
    process.exit(0);
  };
  const armIdleTimer = (ms: number) => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => void exit(`no client for ${Math.round(ms / 1000)} s`), ms);
  };

  const accept = (socket: net.Socket) => {
    if (exiting) return void socket.destroy(); // the client retries and starts a new engine
    const fd = socketFd(socket);
    let peer: number | undefined;
    try {
      peer = fd === undefined ? undefined : addon.peerUid(fd);
    } catch (e) {
      log(`cannot check a connection's user: ${(e as Error).message}`);
    }
    if (peer !== uid) {
      log(`refused a connection from user ${peer ?? 'unknown'} (this engine serves user ${uid} only)`);
      socket.destroy();
      return;
    }
    const id = nextClient++;
    clients++;
    clearTimeout(idleTimer);
    log(`client ${id} connected (${clients} now)`);
    const connection = openConnection(socket, socket);
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      clients--;
      service.dropClient(id);
      log(`client ${id} left (${clients} now)`);
      socket.end(); // after any reply still being written
      if (clients === 0) armIdleTimer(options.idleExitMs);
    };
    serve(connection, service, {
      id,
      shared: true,
      clients: () => clients,
      // this window is done with the engine, the others are not: its `exit` (or its socket closing) ends only its connection
      shutdown: async () => undefined,
      exit: leave,
    });
    socket.on('error', () => undefined); // a window that vanished: 'close' follows
    socket.on('close', leave);
    connection.listen();
  };

  const server = net.createServer(accept);
  server.on('error', (e) => {
    log(`cannot listen on ${socketPath}: ${e.message}`);
    process.exit(1);
  });
  // created 0600: no moment at which another user could connect
  const umask = process.umask(0o177);
  server.listen(socketPath, () => {
    process.umask(umask);
    chmodSync(socketPath, 0o600);
    log(`ready (pid ${process.pid}), listening on ${socketPath}`);
    // the window that started it may never come, but give it time to connect even with no idle time
    armIdleTimer(Math.max(options.idleExitMs, FIRST_CLIENT_GRACE_MS));
  });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void exit(signal));
}
