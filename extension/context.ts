// The extension's context object: owns the engine, the providers, the UI pieces and every
// disposable; the one place that reacts to configuration changes and engine errors: a failed load
// or giving up after crashes (the engine's 'error' state), a hung engine, a failed completion or
// chat answer, a failed command. It shows the reaction errors.ts gives for each error code, and an error of a kind
// shown in the last minutes not again (ErrorRepeats: typing repeats a failing completion).
import * as vscode from 'vscode';
import { ChatController } from './chat/panel';
import { registerCommands } from './commands';
import { affectsEngine } from './config';
import { InlineCompletionProvider } from './completion/provider';
import { ContextCollector } from './completion/context-collector';
import { RecentFiles } from './completion/recent';
import { WarmUp } from './completion/warmup';
import { Engine } from './engine';
import { ErrorRepeats, reactionTo, toEngineError, type EngineError } from './errors';
import { offerModelSetup } from './first-run';
import { StatusBar } from './status';

/** An error notification as the user saw it. */
export interface ShownError {
  message: string;
  /** The engine's JSON-RPC code, when it sent one. */
  code?: number;
  /** The button titles. */
  actions: string[];
}

export class Ctx implements vscode.Disposable {
  readonly subscriptions: vscode.Disposable[] = [];
  readonly output: vscode.OutputChannel;
  readonly engine: Engine;
  readonly recent: RecentFiles;
  readonly collector: ContextCollector;
  readonly provider: InlineCompletionProvider;
  readonly warmUp: WarmUp;
  readonly chat: ChatController;
  readonly status: StatusBar;
  /** The latest error notification. */
  private shownError: ShownError | undefined;
  private readonly repeats = new ErrorRepeats();

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('SpecExec');
    this.engine = new Engine(extension.extensionPath, this.output);
    this.recent = new RecentFiles();
    this.collector = new ContextCollector(this.recent);
    const notify = (e: EngineError) => this.notifyError(e);
    this.provider = new InlineCompletionProvider(this.engine, this.collector, notify);
    this.warmUp = new WarmUp(this.engine, this.provider);
    this.chat = new ChatController(extension.extensionUri, this.engine, () => this.provider.cancel(), notify);
    this.status = new StatusBar(this.engine, this.provider.latency);
    this.subscriptions.push(this.output, this.engine, this.recent, this.collector, this.provider, this.warmUp, this.chat, this.status);
    this.subscriptions.push(vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, this.provider));
    this.subscriptions.push(
      this.engine.onDidChangeState((s) => {
        if (s === 'error' && this.engine.error) this.notifyError(this.engine.error);
        // stopped by a restart or new settings: what failed before may now fail for another reason
        if (s === 'stopped') this.repeats.clear();
      }),
    );
    this.subscriptions.push(this.engine.onDidHang((e) => this.notifyError(e)));
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (affectsEngine(e)) {
          this.provider.reset();
          void this.engine.reload();
        }
      }),
    );
    registerCommands(this);
    offerModelSetup(this);
  }

  get extensionId(): string {
    return this.extension.extension.id;
  }

  get paused(): boolean {
    return this.provider.paused;
  }

  get lastErrorShown(): ShownError | undefined {
    return this.shownError;
  }

  setPaused(paused: boolean): void {
    this.provider.setPaused(paused);
    this.status.setPaused(paused);
  }

  /** Shows an engine error with the buttons that fix it, unless one of its kind was shown lately. */
  private notifyError(error: EngineError): void {
    const reaction = reactionTo(error, this.engine.engineConfig);
    if (!reaction || !this.repeats.admit(error)) return;
    const titles = reaction.actions.map((a) => a.title);
    this.shownError = { message: reaction.message, code: error.code, actions: titles };
    void vscode.window.showErrorMessage(reaction.message, ...titles).then((choice) => {
      const action = reaction.actions.find((a) => a.title === choice);
      if (action) void vscode.commands.executeCommand(action.command, ...(action.args ?? []));
    });
  }

  /** For a failed command: the same reaction as an engine error the engine reported itself. */
  reportError(e: unknown): void {
    this.notifyError(toEngineError(e));
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        /* keep disposing the rest */
      }
    }
  }
}
