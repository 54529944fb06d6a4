// What activate() returns: a narrow, read-mostly view of the running extension (engine state,
// completions, chat, the status bar and the last error notification) plus the few requests the
// in-editor test suite makes. It hands out no internal object: the extension's state stays its own.
import type * as vscode from 'vscode';
import type { DeltaHandler } from '../engine-native/host/engine-client';
import type { ChatMessage, ChatParams, CompleteParams, CompleteResult, InitializeResult } from '../engine-native/host/protocol';
import type { ChatAnswer } from './chat/panel';
import type { Turn } from './chat/history';
import type { CompletionRecord, ProvideEvent } from './completion/provider';
import type { Ctx, ShownError } from './context';
import type { EngineState } from './engine';

export interface EngineApi {
  state(): EngineState;
  /** The engine process, undefined while none runs. */
  pid(): number | undefined;
  /** Starts the engine (if needed) and loads the models from the settings. */
  start(): Promise<InitializeResult>;
  complete(params: CompleteParams, onDelta?: DeltaHandler, token?: vscode.CancellationToken): Promise<CompleteResult>;
  chat(params: ChatParams, onDelta?: DeltaHandler, token?: vscode.CancellationToken): Promise<CompleteResult>;
}

export interface CompletionsApi {
  /** Asks the ghost-text provider directly, as the editor does. */
  provide(
    document: vscode.TextDocument,
    position: vscode.Position,
    triggerKind: vscode.InlineCompletionTriggerKind,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined>;
  /** The latest request (its record keeps growing while the generation streams). */
  last(): Readonly<CompletionRecord> | undefined;
  cacheHits(): number;
  /** What Show Stats counts: suggestions shown, accepted, served by a prefetch; warm-ups done. */
  counters(): {
    offered: number;
    accepted: number;
    prefetchHits: number;
    warmUps: number;
    alternativesFromTree: number;
    alternativesGenerated: number;
  };
  /** Fires when a generation ends, with its final record. */
  readonly onDidFinish: vscode.Event<Readonly<CompletionRecord>>;
  /** Fires when a provider call returns suggestions (the editor's or provide()'s). */
  readonly onDidProvide: vscode.Event<Readonly<ProvideEvent>>;
}

export interface ChatApi {
  ask(text: string): Promise<ChatAnswer>;
  history(): readonly Turn[];
  /** The messages of the latest request: the engine's input. */
  lastMessages(): readonly ChatMessage[];
  /** Streamed deltas received so far. */
  deltas(): number;
  readonly onDidAnswer: vscode.Event<ChatAnswer>;
  /** Fires when the webview finished rendering an answer. */
  readonly onDidRender: vscode.Event<{ id: number; chars: number; codeBlocks: number }>;
}

export interface SpecExecApi {
  readonly engine: EngineApi;
  readonly completions: CompletionsApi;
  readonly chat: ChatApi;
  statusBarText(): string;
  /** The latest error notification shown. */
  lastErrorShown(): ShownError | undefined;
}

function engineApi({ engine }: Ctx): EngineApi {
  return {
    state: () => engine.state,
    pid: () => engine.pid,
    start: async () => (await engine.ensure()).info,
    complete: (params, onDelta, token) => engine.complete(params, onDelta, token),
    chat: (params, onDelta, token) => engine.chat(params, onDelta, token),
  };
}

function completionsApi({ provider, warmUp }: Ctx): CompletionsApi {
  return {
    provide: (document, position, triggerKind, token) =>
      provider.provideInlineCompletionItems(document, position, { triggerKind, selectedCompletionInfo: undefined }, token),
    last: () => provider.last,
    cacheHits: () => provider.latency.cacheHits,
    counters: () => ({
      offered: provider.latency.offered,
      accepted: provider.latency.accepted,
      prefetchHits: provider.latency.prefetchHits,
      warmUps: warmUp.count,
      alternativesFromTree: provider.latency.alternativesFromTree,
      alternativesGenerated: provider.latency.alternativesGenerated,
    }),
    onDidFinish: provider.onDidFinish,
    onDidProvide: provider.onDidProvide,
  };
}

function chatApi({ chat }: Ctx): ChatApi {
  return {
    ask: (text) => chat.ask(text),
    history: () => chat.history,
    lastMessages: () => chat.lastMessages,
    deltas: () => chat.deltas,
    onDidAnswer: chat.onDidAnswer,
    onDidRender: chat.onDidRender,
  };
}

export function createApi(ctx: Ctx): SpecExecApi {
  return {
    engine: engineApi(ctx),
    completions: completionsApi(ctx),
    chat: chatApi(ctx),
    statusBarText: () => ctx.status.text,
    lastErrorShown: () => ctx.lastErrorShown,
  };
}
