// The engine host process: serves the protocol in ./protocol.ts over stdin/stdout with
// vscode-jsonrpc. Spawned by the VS Code extension and by the CLI. Logs go to stderr.
import { createMessageConnection, ResponseError, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { ResyncingMessageReader } from './framing';
import { EngineService } from './engine-service';
import { loadAddon } from './native';
import {
  parseChatMessages,
  parseCompleteParams,
  parseInitializeParams,
  parseMeasurePassCostParams,
  parseSampling,
  progressToken,
} from './params';
import { ErrorCodes, Notifications, Requests, type SamplingParams } from './protocol';

// Native calls one at a time, on one libuv thread: llama.cpp reports why a model failed to load only
// through its process-wide log, which the engine reads back after the load (src/model.cpp), so two
// loads at once could swap their errors. inspectModel therefore waits for a running generation
// (`specexec info --model` uses it, never mid-generation). libuv reads this when the pool starts.
process.env.UV_THREADPOOL_SIZE = '1';

function log(message: string): void {
  process.stderr.write(`[engine-host] ${message}\n`);
}

function serve(connection: MessageConnection, service: EngineService): void {
  const requireInitialized = () => {
    if (!service.initialized) {
      throw new ResponseError(ErrorCodes.NotInitialized, 'the engine has no models yet: send initialize first');
    }
  };
  // no progress token, no sink: the engine then streams nothing
  const progressSink = (params: SamplingParams) => {
    const token = progressToken(params);
    if (token === undefined) return undefined;
    return (delta: string, tokens: number) => {
      void connection.sendNotification(Notifications.progress, { token, delta, tokens });
    };
  };

  // params arrive unchecked (any client may send anything): typed `unknown` until parsed
  connection.onRequest(Requests.initialize, (params: unknown) => service.initialize(parseInitializeParams(params)));

  connection.onRequest(Requests.complete, (params: unknown, token) => {
    requireInitialized();
    return service.complete(parseCompleteParams(params, service.defaultMode), token, progressSink(params as SamplingParams));
  });

  connection.onRequest(Requests.chat, (params: unknown, token) => {
    requireInitialized();
    const messages = parseChatMessages(params);
    const request = { prompt: service.chatPrompt(messages), ...parseSampling(params as Record<string, unknown>, service.defaultMode) };
    return service.complete(request, token, progressSink(params as SamplingParams));
  });

  connection.onRequest(Requests.measurePassCost, (params: unknown) => {
    requireInitialized();
    return service.measurePassCost(parseMeasurePassCostParams(params, service.initialized!.maxBudget + 1));
  });

  connection.onRequest(Requests.inspectModel, async (params: unknown) => {
    const path = (params as { path?: unknown } | null)?.path;
    if (typeof path !== 'string') throw new ResponseError(ErrorCodes.InvalidParams, 'inspectModel expects {path: string}');
    try {
      return await loadAddon().inspectModel(path);
    } catch (e) {
      const err = e as { code?: number; message: string };
      throw new ResponseError(err.code ?? ErrorCodes.InternalError, err.message);
    }
  });

  connection.onRequest(Requests.shutdown, async () => {
    await service.shutdown();
    return null;
  });
  connection.onNotification(Notifications.exit, () => process.exit(0));
}

function main(): void {
  const writer = new StreamMessageWriter(process.stdout);
  const reader = new ResyncingMessageReader(process.stdin, (response) => void writer.write(response));
  const connection = createMessageConnection(reader, writer, {
    error: log,
    warn: log,
    info: () => undefined,
    log: () => undefined,
  });
  const service = new EngineService();
  serve(connection, service);
  connection.onError(([error]) => log(`protocol error: ${error.message}`));
  // the client went away: nothing left to serve
  connection.onClose(() => process.exit(0));
  connection.listen();
  log(`ready (pid ${process.pid})`);
}

main();
