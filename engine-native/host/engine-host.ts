// The engine host process: serves the protocol in ./protocol.ts with vscode-jsonrpc (./server.ts),
// over stdin/stdout to the one process that spawned it (the CLI, or a window with
// specexec.sharedEngine off), or with --listen SOCKET to every window of its user that shares its
// configuration (./shared-server.ts). Logs go to stderr.
import { EngineService } from './engine-service';
import { log, openConnection, serve } from './server';
import { DEFAULT_IDLE_EXIT_MS } from './shared-endpoint';
import { serveShared } from './shared-server';

// Native calls one at a time, on one libuv thread: llama.cpp reports why a model failed to load only
// through its process-wide log, which the engine reads back after the load (src/model.cpp), so two
// loads at once could swap their errors. inspectModel therefore waits for a running generation
// (`specexec info --model` uses it, never mid-generation). libuv reads this when the pool starts.
process.env.UV_THREADPOOL_SIZE = '1';

function serveStdio(service: EngineService): void {
  const connection = openConnection(process.stdin, process.stdout);
  serve(connection, service, {
    id: 0,
    shared: false,
    clients: () => 1,
    shutdown: () => service.shutdown(),
    exit: () => process.exit(0),
  });
  // the client went away: nothing left to serve
  connection.onClose(() => process.exit(0));
  connection.listen();
  log(`ready (pid ${process.pid})`);
}

function main(): void {
  const service = new EngineService();
  const listen = process.argv.indexOf('--listen');
  if (listen < 0) return serveStdio(service);
  const idle = process.argv.indexOf('--idle-exit-ms');
  serveShared(service, {
    socketPath: process.argv[listen + 1],
    lockPath: process.argv[listen + 1].replace(/\.sock$/, '.lock'),
    idleExitMs: idle < 0 ? DEFAULT_IDLE_EXIT_MS : Number(process.argv[idle + 1]),
    log,
  });
}

main();
