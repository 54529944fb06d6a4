// The chat panel: a webview (media/chat.css, dist/webview/chat.js bundled from webview.ts and
// markdown.ts) that streams answers from the engine's `chat` method (the engine applies the model's
// own chat template). Strict CSP: no remote resources, one script from dist/webview/ with a nonce,
// no inline handlers; markdown is rendered by markdown-it with raw HTML off. The conversation lives
// here while the window is open (panel closed or not). A failed answer is marked failed; why it
// failed goes to `onError`, and the context tells the user.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { ChatMessage, CompleteResult } from '../../engine-native/host/protocol';
import { chatConfig, decodingParams } from '../config';
import type { Engine } from '../engine';
import { isCancellation, toEngineError, type EngineError } from '../errors';
import { chatMessages, explainPrompt, type Turn } from './history';

type FromWebview =
  | { type: 'ready' }
  | { type: 'send'; text: string }
  | { type: 'stop' }
  | { type: 'clear' }
  | { type: 'copy'; code: string }
  | { type: 'insert'; code: string }
  | { type: 'rendered'; id: number; chars: number; codeBlocks: number };

export interface ChatAnswer {
  id: number;
  text: string;
  stopReason: CompleteResult['stopReason'] | 'error';
  error?: string;
}

export class ChatController implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private readonly turns: Turn[] = [];
  private nextId = 1;
  private running: vscode.CancellationTokenSource | undefined;
  private inProgress: Turn | undefined;
  private lastEditor: vscode.TextEditor | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly answerEmitter = new vscode.EventEmitter<ChatAnswer>();
  readonly onDidAnswer = this.answerEmitter.event;
  private readonly renderedEmitter = new vscode.EventEmitter<{ id: number; chars: number; codeBlocks: number }>();
  /** Fires when the webview finished rendering an answer. */
  readonly onDidRender = this.renderedEmitter.event;
  private webviewReady = false;
  private deltasReceived = 0;
  private lastRequest: readonly ChatMessage[] = [];

  /**
   * `beforeAsk`: runs before each request (the context cancels ghost-text generations: chat goes first).
   * `onError`: receives why an answer failed (not when it was stopped).
   */
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly engine: Engine,
    private readonly beforeAsk: () => void,
    private readonly onError: (e: EngineError) => void,
  ) {
    this.lastEditor = vscode.window.activeTextEditor;
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => {
        if (e) this.lastEditor = e;
      }),
    );
  }

  get history(): readonly Turn[] {
    return this.turns;
  }
  /** Streamed deltas received, all answers together. */
  get deltas(): number {
    return this.deltasReceived;
  }
  /** The messages of the latest request: the engine's input. */
  get lastMessages(): readonly ChatMessage[] {
    return this.lastRequest;
  }

  show(preserveFocus = false): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, preserveFocus);
      return this.panel;
    }
    const media = vscode.Uri.joinPath(this.extensionUri, 'media');
    const script = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(
      'specexec.chat',
      'SpecExec Chat',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus },
      {
        enableScripts: true,
        retainContextWhenHidden: true,
        localResourceRoots: [media, script],
        enableCommandUris: false,
        enableForms: false,
      },
    );
    panel.iconPath = vscode.Uri.joinPath(media, 'icon.png');
    panel.webview.html = this.html(panel.webview, media, script);
    this.webviewReady = false;
    panel.webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m), undefined, this.disposables);
    panel.onDidDispose(
      () => {
        this.panel = undefined;
        this.webviewReady = false;
      },
      undefined,
      this.disposables,
    );
    this.panel = panel;
    return panel;
  }

  private html(webview: vscode.Webview, media: vscode.Uri, script: vscode.Uri): string {
    const nonce = randomBytes(16).toString('base64');
    const uri = (dir: vscode.Uri, f: string) => webview.asWebviewUri(vscode.Uri.joinPath(dir, f)).toString();
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `img-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
      "connect-src 'none'",
      "frame-src 'none'",
      "form-action 'none'",
      "base-uri 'none'",
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri(media, 'chat.css')}">
<title>SpecExec Chat</title>
</head>
<body>
<div id="log" role="log" aria-live="polite"></div>
<div id="composer">
<textarea id="input" rows="2" placeholder="Ask about your code (Enter to send, Shift+Enter for a new line)"></textarea>
<button id="send" title="Send">Send</button>
<button id="stop" class="secondary" title="Stop generating">Stop</button>
<button id="clear" class="secondary" title="New conversation">Clear</button>
</div>
<script nonce="${nonce}" src="${uri(script, 'chat.js')}"></script>
</body>
</html>`;
  }

  private post(message: unknown): void {
    // before the script is up messages would be lost: 'ready' sends the whole state instead
    if (this.webviewReady) void this.panel?.webview.postMessage(message);
  }

  private onMessage(m: FromWebview): void {
    switch (m.type) {
      case 'ready':
        this.webviewReady = true;
        this.post({ type: 'history', messages: this.turns, busy: this.running !== undefined });
        if (this.inProgress) this.post({ type: 'message', ...this.inProgress, streaming: true });
        break;
      case 'send':
        if (typeof m.text === 'string' && m.text.trim()) void this.ask(m.text);
        break;
      case 'stop':
        this.stop();
        break;
      case 'clear':
        this.stop();
        this.turns.length = 0;
        this.post({ type: 'history', messages: [], busy: false });
        break;
      case 'copy':
        if (typeof m.code === 'string') void vscode.env.clipboard.writeText(m.code);
        break;
      case 'insert':
        if (typeof m.code === 'string') void this.insert(m.code);
        break;
      case 'rendered':
        this.renderedEmitter.fire({ id: m.id, chars: m.chars, codeBlocks: m.codeBlocks });
        break;
    }
  }

  private async insert(code: string): Promise<void> {
    const editor =
      this.lastEditor && vscode.window.visibleTextEditors.includes(this.lastEditor) ? this.lastEditor : vscode.window.visibleTextEditors[0];
    if (!editor) {
      void vscode.window.showWarningMessage('Open an editor to insert the code into.');
      return;
    }
    await editor.edit((b) => {
      for (const s of editor.selections) b.replace(s, code);
    });
  }

  stop(): void {
    this.running?.cancel();
  }

  /** Adds a user turn and streams the answer into the panel (opening it if needed). */
  async ask(text: string): Promise<ChatAnswer> {
    this.stop();
    this.beforeAsk();
    if (!this.panel) this.show(true);
    const user: Turn = { id: this.nextId++, role: 'user', content: text };
    this.turns.push(user);
    this.post({ type: 'message', ...user });
    const answer: Turn = { id: this.nextId++, role: 'assistant', content: '' };
    this.post({ type: 'message', ...answer, streaming: true });
    this.inProgress = answer;
    const config = chatConfig();
    const source = new vscode.CancellationTokenSource();
    this.running = source;
    try {
      const ctx = this.engine.info?.contextSize ?? this.engine.engineConfig.contextSize;
      const budgetChars = Math.max(512, (ctx - config.maxTokens - 64) * 3);
      const messages = chatMessages(this.turns, config.systemPrompt, budgetChars);
      this.lastRequest = messages;
      const result = await this.engine.chat(
        { messages, maxTokens: config.maxTokens, temperature: config.temperature, ...decodingParams() },
        (delta) => {
          answer.content += delta;
          this.deltasReceived++;
          this.post({ type: 'delta', id: answer.id, text: delta });
        },
        source.token,
      );
      answer.content = result.text;
      this.turns.push(answer);
      const s = result.stats;
      const meta =
        `${s.tokens} tokens, ${s.tokensPerSecond.toFixed(1)} tok/s` +
        (s.tokensPerTargetPass > 1 ? `, ${s.tokensPerTargetPass.toFixed(2)} tokens/target pass` : '') +
        (result.stopReason === 'cancelled' ? ' (stopped)' : result.stopReason === 'length' ? ' (max tokens reached)' : '');
      const note = this.engine.info?.target.chatTemplate
        ? 'The model answered with whitespace only.'
        : 'The model answered with whitespace only. It has no chat template, so it is probably a completion-only model: ' +
          'point specexec.targetModelPath at an instruction-tuned GGUF for chat.';
      this.post({ type: 'end', id: answer.id, content: result.text, meta, note });
      const out: ChatAnswer = { id: answer.id, text: result.text, stopReason: result.stopReason };
      this.answerEmitter.fire(out);
      return out;
    } catch (e) {
      const error = toEngineError(e);
      const stopped = isCancellation(error) || source.token.isCancellationRequested;
      if (!stopped) this.onError(error);
      // the partial answer stays out of the history; the user turn stays so a retry has context
      this.post({
        type: 'end',
        id: answer.id,
        content: answer.content,
        meta: stopped ? 'stopped' : 'failed (SpecExec: Show Log says why)',
      });
      const out: ChatAnswer = stopped
        ? { id: answer.id, text: answer.content, stopReason: 'cancelled' }
        : { id: answer.id, text: answer.content, stopReason: 'error', error: error.message };
      this.answerEmitter.fire(out);
      return out;
    } finally {
      if (this.inProgress === answer) this.inProgress = undefined;
      if (this.running === source) this.running = undefined;
      source.dispose();
    }
  }

  /** Explain selection: the selection (or the current line), its language and file name. */
  async explain(editor: vscode.TextEditor | undefined = vscode.window.activeTextEditor): Promise<ChatAnswer | undefined> {
    if (!editor) {
      void vscode.window.showInformationMessage('Select some code in an editor to explain.');
      return undefined;
    }
    const sel = editor.selection;
    const code = sel.isEmpty ? editor.document.lineAt(sel.active.line).text : editor.document.getText(sel);
    if (!code.trim()) {
      void vscode.window.showInformationMessage('Select some code to explain.');
      return undefined;
    }
    this.lastEditor = editor;
    this.show(true);
    return this.ask(explainPrompt(code, editor.document.languageId, vscode.workspace.asRelativePath(editor.document.uri)));
  }

  dispose(): void {
    this.stop();
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
    this.answerEmitter.dispose();
    this.renderedEmitter.dispose();
  }
}
