// The extension's context object: owns the engine, the providers, the UI pieces and every
// disposable; the one place that reacts to configuration changes and engine errors.
import * as vscode from 'vscode';
import { ChatController } from './chat/panel';
import { registerCommands } from './commands';
import { affectsEngine, SECTION } from './config';
import { InlineCompletionProvider } from './completion/provider';
import { RecentFiles } from './completion/recent';
import { Engine } from './engine';
import { StatusBar } from './status';

export class Ctx implements vscode.Disposable {
  readonly subscriptions: vscode.Disposable[] = [];
  readonly output: vscode.OutputChannel;
  readonly engine: Engine;
  readonly recent: RecentFiles;
  readonly provider: InlineCompletionProvider;
  readonly chat: ChatController;
  readonly status: StatusBar;
  private lastShownError: string | undefined;
  /** Errors shown to the user (for the tests). */
  readonly shownErrors: string[] = [];

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('SpecExec');
    this.engine = new Engine(extension.extensionPath, this.output);
    this.recent = new RecentFiles();
    this.provider = new InlineCompletionProvider(this.engine, this.recent);
    this.chat = new ChatController(extension.extensionUri, this.engine, () => this.provider.cancel());
    this.status = new StatusBar(this.engine);
    this.subscriptions.push(this.output, this.engine, this.recent, this.provider, this.chat, this.status);
    this.subscriptions.push(vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, this.provider));
    this.subscriptions.push(this.engine.onDidChangeState((s) => {
      if (s === 'error' && this.engine.error && !this.engine.gaveUp) this.notifyError(this.engine.error);
      if (s === 'ready') this.lastShownError = undefined;
    }));
    this.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (affectsEngine(e)) {
        this.provider.reset();
        void this.engine.reload();
      }
    }));
    registerCommands(this);
  }

  get extensionId(): string {
    return this.extension.extension.id;
  }

  get paused(): boolean {
    return this.provider.paused;
  }

  setPaused(paused: boolean): void {
    this.provider.paused = paused;
    this.status.paused = paused;
    this.status.update();
    if (paused) this.provider.reset();
  }

  /** Shows an engine error once (not on every keystroke) with the actions that fix it. */
  private notifyError(message: string): void {
    if (message === this.lastShownError) return;
    this.lastShownError = message;
    this.shownErrors.push(message);
    const actions = /model/i.test(message) ? ['Choose model…', 'Open settings', 'Show log'] : ['Show log', 'Restart'];
    void vscode.window.showErrorMessage(`SpecExec: ${message}`, ...actions).then((choice) => {
      if (choice === 'Choose model…') void vscode.commands.executeCommand('specexec.chooseTargetModel');
      if (choice === 'Open settings') void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.targetModelPath`);
      if (choice === 'Show log') this.output.show(true);
      if (choice === 'Restart') void vscode.commands.executeCommand('specexec.restartEngine');
    });
  }

  reportError(e: unknown): void {
    this.notifyError((e as Error).message ?? String(e));
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0).reverse()) {
      try { d.dispose(); } catch { /* keep disposing the rest */ }
    }
  }
}
