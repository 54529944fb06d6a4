// Serving the protocol (./protocol.ts) on one JSON-RPC connection: the methods, their parameter
// checks, progress notifications, and what shutdown and exit mean for this kind of client.
import type { Readable } from 'node:stream';
import { createMessageConnection, ResponseError, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { ResyncingMessageReader } from './framing';
import type { ClientId, EngineService } from './engine-service';
import { loadAddon } from './native';
import * as parse from './params';
import { ErrorCodes, Notifications, Requests, type SamplingParams } from './protocol';

export function log(message: string): void {
  process.stderr.write(`[engine-host] ${message}\n`);
}

/** One client of the engine: its place in the fair queue, and what its shutdown and exit mean. */
export interface ClientSession {
  id: ClientId;
  shared: boolean;
  /** Connections served now. */
  clients(): number;
  /** A window's own engine frees its models; a shared one lets this client go. */
  shutdown(): Promise<void>;
  exit(): void;
}

export function serve(connection: MessageConnection, service: EngineService, session: ClientSession): void {
  const requireInitialized = () => {
    if (!service.initialized) {
      throw new ResponseError(ErrorCodes.NotInitialized, 'the engine has no models yet: send initialize first');
    }
  };
  // no progress token, no sink: the engine then streams nothing
  const progressSink = (params: SamplingParams) => {
    const token = parse.progressToken(params);
    if (token === undefined) return undefined;
    return (delta: string, tokens: number) => {
      void connection.sendNotification(Notifications.progress, { token, delta, tokens });
    };
  };

  // params arrive unchecked (any client may send anything): typed `unknown` until parsed
  connection.onRequest(Requests.initialize, (params: unknown) => service.initialize(parse.parseInitializeParams(params), session.id));

  connection.onRequest(Requests.complete, (params: unknown, token) => {
    requireInitialized();
    const request = parse.parseCompleteParams(params, service.defaultMode);
    return service.complete(request, token, progressSink(params as SamplingParams), session.id, parse.isBackground(params));
  });

  connection.onRequest(Requests.warm, (params: unknown, token) => {
    requireInitialized();
    const { prompt, maxTokens } = parse.parseWarmParams(params);
    return service.warm(prompt, maxTokens, token, session.id);
  });

  connection.onRequest(Requests.renderPrompt, (params: unknown) => {
    requireInitialized();
    const { prompt, maxTokens } = parse.parseWarmParams(params);
    return service.renderPrompt(prompt, maxTokens);
  });

  connection.onRequest(Requests.chat, (params: unknown, token) => {
    requireInitialized();
    const messages = parse.parseChatMessages(params);
    const request = {
      prompt: service.chatPrompt(messages),
      ...parse.parseSampling(params as Record<string, unknown>, service.defaultMode),
    };
    return service.complete(request, token, progressSink(params as SamplingParams), session.id, parse.isBackground(params));
  });

  connection.onRequest(Requests.measurePassCost, (params: unknown) => {
    requireInitialized();
    return service.measurePassCost(parse.parseMeasurePassCostParams(params, service.initialized!.maxBudget + 1), session.id);
  });

  connection.onRequest(Requests.status, () => service.status(session.clients(), session.shared));

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
    await session.shutdown();
    return null;
  });
  connection.onNotification(Notifications.exit, () => session.exit());
}

/** A JSON-RPC connection over a byte stream pair that answers malformed frames instead of stopping. */
export function openConnection(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): MessageConnection {
  const writer = new StreamMessageWriter(output);
  const reader = new ResyncingMessageReader(input as Readable, (response) => void writer.write(response));
  const connection = createMessageConnection(reader, writer, { error: log, warn: log, info: () => undefined, log: () => undefined });
  connection.onError(([error]) => log(`protocol error: ${error.message}`));
  return connection;
}
