// Warm-up: when a file becomes active or the cursor moves there without typing (a click, the
// arrow keys, a jump to a definition), the engine reads the prompt a completion at the cursor would
// send, without generating. The request has background priority (any request the user waits for
// stops it), so the first ghost text there costs what one after a keystroke does: the engine then
// reads only what changed since.
import * as vscode from 'vscode';
import { completionConfig, enabledFor } from '../config';
import type { Engine } from '../engine';
import type { InlineCompletionProvider } from './provider';

/** A file that became active is read after this pause (switching through files reads only the last). */
const ACTIVE_DELAY_MS = 150;
/** A cursor that moved without an edit is read after this pause. */
const MOVED_DELAY_MS = 400;

export class WarmUp implements vscode.Disposable {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: vscode.CancellationTokenSource | undefined;
  /** The prompt read last (JSON), so a second warm-up of it is skipped. */
  private lastPrompt = '';
  private readonly versions = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];
  /** Warm-ups done and the tokens they read (for stats). */
  count = 0;
  tokensRead = 0;

  constructor(
    private readonly engine: Engine,
    private readonly provider: InlineCompletionProvider,
  ) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => e && this.schedule(ACTIVE_DELAY_MS)),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        // a selection change with the document's version unchanged is a move, not typing
        const uri = e.textEditor.document.uri.toString();
        const version = e.textEditor.document.version;
        const moved = this.versions.get(uri) === version;
        this.versions.set(uri, version);
        if (moved) this.schedule(MOVED_DELAY_MS);
      }),
      // the engine just (re)started: read the active file's prompt now rather than at the first keystroke
      engine.onDidChangeState((s) => s === 'ready' && !this.lastPrompt && this.schedule(0)),
    );
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.warm(), ms);
  }

  private async warm(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || this.provider.paused || !enabledFor(editor.document)) return;
    const config = completionConfig(editor.document);
    if (!config.warmUp || !this.engine.info || editor.selections.length !== 1) return;
    const plan = this.provider.planAt(editor.document, editor.selection.active);
    const key = JSON.stringify(plan.params.prompt);
    if (key === this.lastPrompt || key === JSON.stringify(this.provider.last?.params.prompt)) return;
    this.lastPrompt = key;
    this.running?.cancel();
    const source = new vscode.CancellationTokenSource();
    this.running = source;
    const result = await this.engine.warm({ prompt: plan.params.prompt, maxTokens: config.maxTokens }, source.token);
    if (this.running === source) this.running = undefined;
    source.dispose();
    if (result && !result.cancelled) {
      this.count++;
      this.tokensRead += result.decodedTokens;
    } else if (this.lastPrompt === key) {
      this.lastPrompt = ''; // stopped before the end: the next move may read it again
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.running?.cancel();
    for (const d of this.disposables) d.dispose();
  }
}
