// The extension inside a real VS Code extension host (code-server 4.100.3 here; desktop VS Code
// through @vscode/test-electron elsewhere) with the real engine and real GGUF models (the trained
// pair when present, else random test models). Settings come from the user settings the launcher wrote.
// It sees the extension only through the API that activate() returns (extension/api.ts).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EngineClient } from '../../../engine-native/host/engine-client';
import { ErrorCodes, type CompleteParams } from '../../../engine-native/host/protocol';
import { SharedEngineClient } from '../../../engine-native/host/shared-client';
import { endpointFor, runtimeDir } from '../../../engine-native/host/shared-endpoint';
import { engineConfig, initializeParams } from '../../../extension/config';
import type { SpecExecApi } from '../../../extension/api';
import { postprocess } from '../../../extension/completion/postprocess';
import type { CompletionRecord } from '../../../extension/completion/provider';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor<T>(what: string, fn: () => T | Promise<T>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
function nextEvent<T>(event: vscode.Event<T>, what: string, ms = 60_000, accept: (v: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const sub = event((v) => {
      if (!accept(v)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(v);
    });
  });
}
/** The next generation for `file` that ran to its end (earlier requests may still be ending as cancelled). */
function nextFinished(api: SpecExecApi, file: string, what = 'the completion to finish'): Promise<Readonly<CompletionRecord>> {
  return nextEvent(api.completions.onDidFinish, what, 60_000, (r) => r.document.includes(`/${file}#`) && r.stopReason !== 'cancelled');
}

const config = () => vscode.workspace.getConfiguration('specexec');
async function setting(key: string, value: unknown): Promise<void> {
  await config().update(key, value, vscode.ConfigurationTarget.Global);
}

suite('SpecExec Code in a real VS Code', function () {
  let api: SpecExecApi;
  let reference: EngineClient;
  let ws: string;

  suiteSetup(async function () {
    this.timeout(120_000);
    const ext = vscode.extensions.getExtension('specexec.specexec-code');
    assert.ok(ext, 'the extension is installed');
    api = (await ext.activate()) as SpecExecApi;
    ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const info = await api.engine.start();
    console.log(
      `vscode ${vscode.version} (${vscode.env.appName}, uiKind ${vscode.env.uiKind}), node ${process.version}; target ${info.target.path}, draft ${info.draft?.path ?? null}`,
    );
    // an independent engine process with the same models: what greedy decoding gives for a prompt
    reference = new EngineClient({ hostScript: path.join(ext.extensionPath, 'dist', 'engine-host.js') });
    await reference.initialize({
      targetModelPath: info.target.path,
      draftModelPath: info.draft?.path ?? null,
      threads: 1,
      contextSize: info.contextSize,
    });
  });

  suiteTeardown(async () => {
    await reference?.shutdown();
  });

  async function open(file: string, textWithCursor: string): Promise<vscode.TextEditor> {
    const full = path.join(ws, file);
    const offset = textWithCursor.indexOf('|');
    fs.writeFileSync(full, textWithCursor.replace('|', ''));
    const doc = await vscode.workspace.openTextDocument(full);
    const editor = await vscode.window.showTextDocument(doc, { preview: false });
    const pos = doc.positionAt(offset);
    editor.selection = new vscode.Selection(pos, pos);
    return editor;
  }

  /** Engine text post-processed for the cursor `pos`, as the extension does. */
  function postAt(text: string, editor: vscode.TextEditor, pos: vscode.Position): string {
    const line = editor.document.lineAt(pos.line).text;
    const next: string[] = [];
    for (let i = pos.line + 1; i < Math.min(editor.document.lineCount, pos.line + 6); i++) next.push(editor.document.lineAt(i).text);
    return postprocess(text, {
      linePrefix: line.slice(0, pos.character),
      lineSuffix: line.slice(pos.character),
      nextLines: next,
      maxLines: config().get<number>('maxLines')!,
    });
  }

  /** Greedy completion of the same request by the reference engine, post-processed like the extension does. */
  async function expected(rec: Readonly<CompletionRecord>, editor: vscode.TextEditor, pos: vscode.Position): Promise<string> {
    const params: CompleteParams = { ...rec.params, progressToken: undefined };
    return postAt((await reference.complete(params)).text, editor, pos);
  }

  /** Runs `command` until the document changes (it only works once the suggestion is on screen). */
  async function untilEdited(doc: vscode.TextDocument, command: string): Promise<void> {
    const before = doc.getText();
    await waitFor(
      `${command} to edit the document`,
      async () => {
        await vscode.commands.executeCommand(command);
        return doc.getText() !== before;
      },
      20_000,
    );
  }

  async function triggerAndAccept(
    file: string,
    textWithCursor: string,
  ): Promise<{ inserted: string; expected: string; rec: Readonly<CompletionRecord> }> {
    const editor = await open(file, textWithCursor);
    const doc = editor.document;
    const pos = editor.selection.active;
    const before = doc.getText();
    const finished = nextFinished(api, file);
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    const rec = await finished;
    assert.equal(rec.stopReason && ['eos', 'length', 'stop'].includes(rec.stopReason), true, `stop reason ${rec.stopReason}`);
    // the FIM window: everything before the cursor (after any extra context) and after it
    const prompt = rec.params.prompt as { prefix: string; suffix: string };
    assert.ok(prompt.prefix.endsWith(before.slice(0, doc.offsetAt(pos))), 'prefix ends at the cursor');
    assert.equal(prompt.suffix, before.slice(doc.offsetAt(pos)));
    const want = await expected(rec, editor, pos);
    assert.ok(want.length > 0, `the greedy completion post-processes to nothing: ${JSON.stringify(rec.raw)}`);
    // accepting only works when the suggestion is actually shown in the editor
    await waitFor(
      'the ghost text to be accepted',
      async () => {
        await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
        return doc.getText() !== before;
      },
      20_000,
    );
    const after = doc.getText();
    const inserted = after.slice(doc.offsetAt(pos), doc.offsetAt(pos) + after.length - before.length);
    assert.equal(after, before.slice(0, doc.offsetAt(pos)) + inserted + before.slice(doc.offsetAt(pos)), 'inserted at the cursor');
    return { inserted, expected: want, rec };
  }

  test('activates with the configured models and a status bar item', async () => {
    assert.match(api.statusBarText(), /SpecExec/);
    const info = await api.engine.start();
    const configured = config().get<string>('targetModelPath');
    if (configured) assert.equal(info.target.path, configured); // else the bundled model
    assert.ok(info.target.fim, 'the target model has FIM tokens');
    await waitFor('state ready', () => api.engine.state() === 'ready');
    assert.match(api.statusBarText(), /\$\(check\) SpecExec/);
  });

  test('the window uses a shared engine on a private socket, which another client joins; Show Stats names it, its windows, PID and memory', async () => {
    await api.engine.start();
    const report = await vscode.commands.executeCommand<string>('specexec.showStats');
    assert.match(report, new RegExp(`engine process: shared by 1 window, pid ${api.engine.pid()}, \\d+\\.\\d\\d GB resident`), report);
    const dir = runtimeDir();
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700, `${dir} is private`);
    const sockets = fs.readdirSync(dir).filter((f) => f.endsWith('.sock'));
    assert.equal(sockets.length, 1, `one engine socket in ${dir}: ${sockets.join(', ')}`);
    assert.equal(fs.statSync(path.join(dir, sockets[0])).mode & 0o777, 0o600);

    // another client with this window's settings (as another window would be) joins the same engine
    const ext = vscode.extensions.getExtension('specexec.specexec-code')!;
    const hostScript = path.join(ext.extensionPath, 'dist', 'engine-host.js');
    const params = initializeParams(engineConfig());
    const other = await SharedEngineClient.connect({ endpoint: endpointFor(params, hostScript, process.env), hostScript, idleExitMs: 0 });
    try {
      assert.equal(other.pid, api.engine.pid(), 'the same engine process');
      await other.initialize(params); // the loaded models, not a second load
      const prompt: CompleteParams = { prompt: { prefix: 'def square(x):\n    return ', suffix: '\n' }, maxTokens: 24, temperature: 0 };
      assert.deepEqual((await other.complete(prompt)).tokens, (await reference.complete(prompt)).tokens);
      assert.equal((await other.status()).clients, 2);
      assert.match(await vscode.commands.executeCommand<string>('specexec.showStats'), /engine process: shared by 2 windows/);
    } finally {
      await other.shutdown();
    }
  });

  test("TypeScript: the ghost text is the engine's greedy FIM completion, and Tab/commit accepts it", async () => {
    const r = await triggerAndAccept('add.ts', 'export function add(a: number, b: number): number {\n  return |\n}\n');
    console.log(`ts completion: ${JSON.stringify(r.inserted)}`);
    assert.equal(r.inserted, r.expected);
  });

  test("Python: the ghost text is the engine's greedy FIM completion", async () => {
    const r = await triggerAndAccept('fib.py', 'def fib(n):\n    if n < 2:\n        return n\n    return |\n');
    console.log(`py completion: ${JSON.stringify(r.inserted)}`);
    assert.equal(r.inserted, r.expected);
    assert.equal(r.rec.params.maxTokens, config().get('maxTokens'));
  });

  test('the cache serves the same window again and a completion the user types into', async () => {
    const editor = await open('cache.ts', 'const greeting = |;\n');
    const finished = nextFinished(api, 'cache.ts');
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    const rec = await finished;
    const shown = postprocess(rec.raw, { linePrefix: 'const greeting = ', lineSuffix: ';', nextLines: [''], maxLines: 16 });
    assert.ok(shown.length >= 2, `need a completion of 2+ chars, got ${JSON.stringify(shown)}`);
    const hits = api.completions.cacheHits();
    const token = new vscode.CancellationTokenSource().token;
    const auto = vscode.InlineCompletionTriggerKind.Automatic;
    const again = await api.completions.provide(editor.document, editor.selection.active, auto, token);
    assert.equal(again?.[0]?.insertText, shown);
    // type the first character of the suggestion: the rest comes from the cache, no new generation
    await vscode.commands.executeCommand('type', { text: shown[0] });
    const rest = await api.completions.provide(editor.document, editor.selection.active, auto, token);
    assert.equal(rest?.[0]?.insertText, shown.slice(1));
    assert.ok(api.completions.cacheHits() >= hits + 2, 'both answers were cache hits');
  });

  test('typing cancels the in-flight generation ($/cancelRequest reaches the engine)', async () => {
    await setting('maxTokens', 400);
    try {
      const editor = await open('cancel.ts', 'const long = |\n');
      const finished = nextEvent(api.completions.onDidFinish, 'the first generation to end', 60_000, (r) =>
        r.document.includes('/cancel.ts#'),
      );
      void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      const isRunning = (r: Readonly<CompletionRecord> | undefined) =>
        r && r.source === 'engine' && r.document.includes('/cancel.ts#') && r.raw.length > 0 && r.stopReason === undefined;
      await waitFor('the generation to stream text', () => isRunning(api.completions.last()), 20_000);
      const running = api.completions.last()!;
      await vscode.commands.executeCommand('type', { text: '\u00a7' }); // a keystroke the completion cannot start with
      const rec = await finished;
      assert.equal(rec, running);
      // stopReason 'cancelled' is the engine's answer: the $/cancelRequest reached it
      assert.equal(rec.stopReason, 'cancelled', `the engine stopped for ${rec.stopReason} after ${rec.raw.length} chars`);
      assert.ok(editor.document.getText().includes('\u00a7'));
    } finally {
      await setting('maxTokens', undefined);
      // pausing stops the keystroke's own (long) generation: it must not hold up the next tests
      await vscode.commands.executeCommand('specexec.pause');
      await vscode.commands.executeCommand('specexec.resume');
    }
  });

  test('the chat panel opens and streams an answer rendered by the webview', async () => {
    const deltas = api.chat.deltas();
    const rendered = nextEvent(api.chat.onDidRender, 'the webview to render the answer');
    const answer = await api.chat.ask('Write a TypeScript function that reverses a string.');
    assert.notEqual(answer.stopReason, 'error', answer.error);
    assert.ok(answer.text.length > 0);
    assert.ok(api.chat.deltas() > deltas + 1, 'the answer arrived in several deltas');
    const r = await rendered;
    assert.equal(r.id, answer.id);
    console.log(`chat answer: ${JSON.stringify(answer.text.slice(0, 200))}; rendered ${r.chars} chars, ${r.codeBlocks} code blocks`);
    assert.equal(r.chars > 0, answer.text.trim().length > 0, "the webview shows the answer's text");
    assert.equal(
      r.codeBlocks,
      (answer.text.match(/^\s*(```|~~~)/gm) ?? []).length > 0 ? Math.ceil((answer.text.match(/^\s*(```|~~~)/gm) ?? []).length / 2) : 0,
      'one rendered code block per fence pair',
    );
    assert.ok(
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputWebview),
      'a webview tab is open',
    );
    // the engine applied the model's chat template to these messages: the same request gives the same text
    const messages = [...api.chat.lastMessages()];
    const again = await reference.chat({
      messages,
      maxTokens: config().get('chat.maxTokens'),
      temperature: 0,
      budget: config().get('budget'),
    });
    assert.equal(answer.text, again.text);
    assert.equal(messages.at(-1)!.content, 'Write a TypeScript function that reverses a string.');
  });

  test('Explain selection sends the selection, its language and file name, and streams an answer', async () => {
    const editor = await open('explain.py', 'def square(x):\n    return x * x\n|');
    editor.selection = new vscode.Selection(0, 0, 1, 16);
    const answered = nextEvent(api.chat.onDidAnswer, 'the explanation');
    await vscode.commands.executeCommand('specexec.explainSelection');
    const answer = await answered;
    assert.notEqual(answer.stopReason, 'error', answer.error);
    assert.ok(answer.text.length > 0);
    const question = api.chat
      .history()
      .filter((t) => t.role === 'user')
      .at(-1)!.content;
    assert.match(question, /python/);
    assert.match(question, /explain\.py/);
    assert.ok(question.includes('def square(x):\n    return x * x'));
  });

  test("an explicit trigger offers up to 3 suggestions: each the greedy continuation after one of the target's first tokens; Alt+] shows the next", async () => {
    const editor = await open('alternatives.py', 'def greet(name):\n    return |\n');
    const pos = editor.selection.active;
    const token = new vscode.CancellationTokenSource().token;
    const items = await api.completions.provide(editor.document, pos, vscode.InlineCompletionTriggerKind.Invoke, token);
    const texts = (items ?? []).map((i) => i.insertText as string);
    const rec = api.completions.last()!;
    assert.equal(rec.params.alternatives, 2);
    const main = await reference.complete({ ...rec.params, progressToken: undefined });
    assert.equal(texts[0], postAt(main.text, editor, pos));
    const want: string[] = [];
    for (const choice of main.alternatives) {
      const r = await reference.complete({ ...rec.params, progressToken: undefined, forcedTokens: [choice.token], alternatives: 0 });
      assert.equal(r.tokens[0], choice.token);
      const text = postAt(r.text, editor, pos);
      if (text.trim() && text !== texts[0] && !want.includes(text)) want.push(text);
    }
    assert.deepEqual(texts.slice(1), want);
    console.log(`suggestions: ${JSON.stringify(texts)}`);
    assert.ok(texts.length >= 2, 'the random pair offers at least one alternative here');

    // in the editor: trigger, show the next suggestion, accept it
    const before = editor.document.getText();
    const offered = api.completions.counters().offered;
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    await waitFor(
      'the suggestions',
      () => api.completions.counters().offered > offered || api.completions.last()?.source === 'cache',
      20_000,
    );
    await sleep(300);
    await vscode.commands.executeCommand('editor.action.inlineSuggest.showNext');
    await sleep(300);
    await untilEdited(editor.document, 'editor.action.inlineSuggest.commit');
    const after = editor.document.getText();
    const inserted = after.slice(editor.document.offsetAt(pos), editor.document.offsetAt(pos) + after.length - before.length);
    assert.ok(texts.slice(1).includes(inserted), `accepted ${JSON.stringify(inserted)}, one of the alternatives`);
  });

  test('accepting a word leaves the rest of the suggestion, served from the cache without a new generation', async () => {
    const editor = await open('word.ts', 'function describe(user: { name: string }) {\n  |\n}\n');
    const doc = editor.document;
    const pos = editor.selection.active;
    const finished = nextFinished(api, 'word.ts');
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    const rec = await finished;
    const shown = postAt(rec.raw, editor, pos);
    assert.match(shown, /\w\W+\w/, `a suggestion of two words or more: ${JSON.stringify(shown)}`);
    const accepted = api.completions.counters().accepted;
    const before = doc.getText();
    await untilEdited(doc, 'specexec.acceptNextWord');
    const inserted = doc.getText().slice(doc.offsetAt(pos), doc.offsetAt(pos) + doc.getText().length - before.length);
    assert.ok(
      inserted.length > 0 && inserted.length < shown.length && shown.startsWith(inserted),
      `accepted ${JSON.stringify(inserted)} of ${JSON.stringify(shown)}`,
    );
    assert.equal(api.completions.counters().accepted, accepted + 1);
    const hits = api.completions.cacheHits();
    const token = new vscode.CancellationTokenSource().token;
    const rest = await api.completions.provide(doc, editor.selection.active, vscode.InlineCompletionTriggerKind.Automatic, token);
    assert.equal(rest?.[0]?.insertText, shown.slice(inserted.length));
    assert.ok(api.completions.cacheHits() > hits, 'served from the cache');
  });

  test('after Tab the next ghost text comes from the prefetch (no engine wait) and is the exact completion there', async () => {
    const { inserted } = await triggerAndAccept('prefetch.py', 'def total(prices, tax):\n    |\n');
    assert.ok(inserted.length > 0);
    const editor = vscode.window.activeTextEditor!;
    const pos = editor.selection.active;
    const served = api.completions.counters().prefetchHits;
    const token = new vscode.CancellationTokenSource().token;
    // VS Code itself asks again after the accept; so do we
    const items = await api.completions.provide(editor.document, pos, vscode.InlineCompletionTriggerKind.Automatic, token);
    const rec = api.completions.last()!;
    assert.notEqual(rec.source, 'engine', 'no new generation was started for it');
    assert.ok(api.completions.counters().prefetchHits > served, 'a prefetch served it (its result, or its generation still running)');
    if (items?.[0]) assert.equal(items[0].insertText, await expected(rec, editor, pos));
  });

  test('a file that becomes active is warmed up: the engine reads its prompt before the first keystroke', async () => {
    const warmUps = api.completions.counters().warmUps;
    const text = 'function area(w: number, h: number): number {\n  return |\n}\n';
    await open('warm.ts', text);
    await waitFor('a warm-up', () => api.completions.counters().warmUps > warmUps, 20_000);
    const r = await triggerAndAccept('warm.ts', text);
    assert.equal(r.inserted, r.expected);
  });

  test('Show Completion Context opens what the last request sent and what the model reads; Show Stats reports ghost-text latency and acceptance', async () => {
    await triggerAndAccept('context.ts', 'const names = users.map((u) => |);\n');
    const prompt = api.completions.last()!.params.prompt as { prefix: string };
    const report = await vscode.commands.executeCommand<string>('specexec.showCompletionContext');
    assert.ok(report.includes('## Prefix'), report);
    assert.ok(report.includes(prompt.prefix.split('\n').at(-1)!), 'the prefix is shown');
    assert.match(report, /## What the model reads: \d+ tokens/);
    assert.ok(report.includes('<｜fim▁begin｜>'), "the model's FIM tokens are shown");
    assert.equal(vscode.window.activeTextEditor?.document.languageId, 'markdown');
    assert.equal(vscode.window.activeTextEditor?.document.getText(), report);
    const stats = await vscode.commands.executeCommand<string>('specexec.showStats');
    assert.match(stats, /time to ghost text \(last \d+\): p50 \d+ ms, p95 \d+ ms/);
    assert.match(stats, /suggestions: \d+ shown, \d+ accepted \(\d+%\), \d+ served by a prefetch/);
    assert.match(stats, /budget \d+ \(set\)/); // the suite fixes specexec.budget
  });

  test('pausing turns completions off and shows it in the status bar', async () => {
    const editor = await open('pause.ts', 'let x = |\n');
    await vscode.commands.executeCommand('specexec.pause');
    try {
      assert.match(api.statusBarText(), /paused/);
      const token = new vscode.CancellationTokenSource().token;
      const r = await api.completions.provide(editor.document, editor.selection.active, vscode.InlineCompletionTriggerKind.Invoke, token);
      assert.equal(r, undefined);
    } finally {
      await vscode.commands.executeCommand('specexec.resume');
    }
    assert.doesNotMatch(api.statusBarText(), /paused/);
  });

  test('a killed engine is restarted and the next completion works', async () => {
    const pid = api.engine.pid()!;
    assert.ok(pid > 0);
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'a new engine process',
      () => api.engine.pid() !== undefined && api.engine.pid() !== pid && api.engine.state() === 'ready',
      30_000,
    );
    const r = await triggerAndAccept('after-crash.ts', 'function twice(n: number) {\n  return |\n}\n');
    assert.equal(r.inserted, r.expected);
  });

  test('an engine stopped (SIGSTOP) mid-generation is found hung, killed and restarted; the user is told once; the next completion is exact', async function () {
    this.timeout(90_000);
    assert.equal(await vscode.commands.executeCommand('specexec.restartEngine'), true); // forgets earlier crashes
    const info = await api.engine.start();
    const editor = await open('hang.py', 'def mean(xs):\n    return |\n');
    const before = editor.document.getText();
    const pid = api.engine.pid()!;
    let first: () => void = () => undefined;
    const streaming = new Promise<void>((r) => (first = r));
    const long = api.engine.complete(
      { prompt: { prefix: 'def mean(xs):\n    return ', suffix: '\n' }, maxTokens: 400, mode: 'specexec', budget: 64 },
      () => first(),
    );
    await streaming;
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    await assert.rejects(long, /stopped responding: it did not answer a ping/);
    console.log(`SIGSTOP: found hung after ${Date.now() - stoppedAt} ms (target ${info.target.path})`);
    await waitFor('a new engine after the hang', () => api.engine.state() === 'ready' && api.engine.pid() !== pid, 30_000);
    assert.throws(() => process.kill(pid, 0), 'the hung process was killed');
    assert.match(api.lastErrorShown()?.message ?? '', /the engine stopped responding/);
    assert.equal(editor.document.getText(), before, 'the document is untouched');
    const r = await triggerAndAccept('after-hang.ts', 'function third(n: number) {\n  return |\n}\n');
    assert.equal(r.inserted, r.expected);
  });

  test('killed while loading, mid-tree and mid-stream: restarted each time, the document untouched', async function () {
    this.timeout(120_000);
    assert.equal(await vscode.commands.executeCommand('specexec.restartEngine'), true); // forgets earlier crashes
    const editor = await open('crash-moments.py', 'def total(items):\n    return |\n');
    const before = editor.document.getText();
    const killed = async (what: string, pid: number, request: Thenable<unknown>) => {
      process.kill(pid, 'SIGKILL');
      const outcome = await request.then(
        (v) => `finished (${String(v)})`,
        (e: Error) => e.message,
      );
      console.log(`killed ${what}: the request ${outcome}`);
      await waitFor(`a new engine after the kill ${what}`, () => api.engine.state() === 'ready' && api.engine.pid() !== pid, 30_000);
    };
    // while loading the models: a restart stops the ready engine and loads them in a new process
    const ready = api.engine.pid();
    const loading = vscode.commands.executeCommand<boolean>('specexec.restartEngine');
    const loadingPid = await waitFor(
      'a loading engine',
      () => (api.engine.state() === 'starting' && api.engine.pid() !== ready ? api.engine.pid() : undefined),
      10_000,
    );
    await killed('while loading', loadingPid!, loading);
    // mid-tree: speculative rounds in flight, killed a random moment after the first accepted tokens
    let first: () => void = () => undefined;
    const streaming = new Promise<void>((r) => {
      first = r;
    });
    const tree = api.engine.complete(
      { prompt: { prefix: 'def total(items):\n    return ', suffix: '\n' }, maxTokens: 400, mode: 'specexec', budget: 64 },
      () => first(),
    );
    await streaming;
    await sleep(Math.random() * 30);
    await killed('mid-tree', api.engine.pid()!, tree);
    await assert.rejects(tree, /ended during the request/);
    // mid-stream: a chat answer being streamed
    const chatStreaming = new Promise<void>((r) => {
      first = r;
    });
    const chat = api.engine.chat({ messages: [{ role: 'user', content: 'Write a long Python module.' }], maxTokens: 400 }, () => first());
    await chatStreaming;
    await killed('mid-stream', api.engine.pid()!, chat);
    await assert.rejects(chat, /ended during the request/);
    assert.equal(editor.document.getText(), before, 'the document is untouched');
    assert.equal(editor.document.isDirty, false);
    const r = await triggerAndAccept('after-kills.ts', 'function half(n: number) {\n  return |\n}\n');
    assert.equal(r.inserted, r.expected);
  });

  test('5 crashes within 60 s: the engine gives up with a message, Restart brings it back', async function () {
    this.timeout(90_000);
    assert.equal(await vscode.commands.executeCommand('specexec.restartEngine'), true); // forgets earlier crashes
    for (let i = 0; i < 5; i++) {
      const pid = await waitFor('an engine process', () => (api.engine.state() === 'ready' ? api.engine.pid() : undefined), 30_000);
      process.kill(pid!, 'SIGKILL');
      await waitFor('the crash to be noticed', () => api.engine.pid() !== pid, 10_000);
    }
    // a crash restarts the engine ('starting'): only giving up is an error
    await waitFor('giving up', () => api.engine.state() === 'error', 10_000);
    const shown = api.lastErrorShown();
    assert.match(shown?.message ?? '', /crashed 5 times within 60 s/);
    assert.deepEqual(shown?.actions, ['Show log', 'Restart']);
    assert.match(api.statusBarText(), /error/);
    assert.equal(await vscode.commands.executeCommand('specexec.restartEngine'), true);
    assert.equal(api.engine.state(), 'ready');
  });

  test("a bad model path shows the engine's precise, actionable error; fixing the setting recovers", async () => {
    const good = config().get<string>('targetModelPath');
    const notGguf = path.join(os.tmpdir(), 'not-a-model.gguf');
    fs.writeFileSync(notGguf, 'this is not a GGUF file, just text long enough');
    const cases = [
      { file: '/nonexistent/dir/model.gguf', reason: /model file not found/, code: ErrorCodes.ModelMissing },
      { file: notGguf, reason: /not a GGUF model file/, code: ErrorCodes.ModelInvalid },
    ];
    try {
      for (const { file, reason, code } of cases) {
        await setting('targetModelPath', file);
        // the reload stops the engine; a completion request may already have tried the new file
        await waitFor('the engine to reload', () => api.engine.state() === 'stopped' || api.lastErrorShown()?.code === code, 10_000);
        await assert.rejects(api.engine.start(), reason);
        assert.equal(api.engine.state(), 'error');
        assert.match(api.statusBarText(), /error/);
        const shown = await waitFor(
          'the error notification',
          () => (api.lastErrorShown()?.code === code ? api.lastErrorShown() : undefined),
          5_000,
        );
        assert.match(shown!.message, reason);
        assert.ok(shown!.message.includes(`target model (specexec.targetModelPath): `) && shown!.message.includes(file), shown!.message);
        assert.deepEqual(shown!.actions, ['Choose model…', 'Open settings', 'Show log']);
        const editor = await open('bad.ts', 'let y = |\n');
        const r = await api.completions.provide(
          editor.document,
          editor.selection.active,
          vscode.InlineCompletionTriggerKind.Invoke,
          new vscode.CancellationTokenSource().token,
        );
        assert.equal(r, undefined);
      }
    } finally {
      await setting('targetModelPath', good);
    }
    await waitFor('the engine to stop for the reload', () => api.engine.state() === 'stopped', 10_000);
    const r = await triggerAndAccept('recovered.ts', 'const z = |\n');
    assert.equal(r.inserted, r.expected);
  });
});
