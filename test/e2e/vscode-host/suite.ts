// The extension inside a real VS Code extension host (code-server 4.100.3 here; desktop VS Code
// through @vscode/test-electron elsewhere) with the real engine and real GGUF models (the trained
// pair when present, else random test models). Settings come from the user settings the launcher wrote.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { EngineClient } from '../../../engine-native/host/engine-client';
import type { CompleteParams } from '../../../engine-native/host/protocol';
import { postprocess } from '../../../extension/completion/postprocess';
import type { CompletionRecord } from '../../../extension/completion/provider';
import type { Ctx } from '../../../extension/context';

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
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
    const sub = event((v) => {
      if (!accept(v)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(v);
    });
  });
}
/** The next generation for `file` that ran to its end (earlier requests may still be ending as cancelled). */
function nextFinished(ctx: Ctx, file: string, what = 'the completion to finish'): Promise<CompletionRecord> {
  return nextEvent(ctx.provider.onDidFinish, what, 60_000, (r) => r.document.includes(`/${file}#`) && r.stopReason !== 'cancelled');
}

const config = () => vscode.workspace.getConfiguration('specexec');
async function setting(key: string, value: unknown): Promise<void> {
  await config().update(key, value, vscode.ConfigurationTarget.Global);
}

suite('SpecExec Code in a real VS Code', function () {
  let ctx: Ctx;
  let reference: EngineClient;
  let ws: string;

  suiteSetup(async function () {
    this.timeout(120_000);
    const ext = vscode.extensions.getExtension('specexec.specexec-code');
    assert.ok(ext, 'the extension is installed');
    ctx = ((await ext.activate()) as { ctx: Ctx }).ctx;
    ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const e = ctx.engine.engineConfig;
    console.log(`vscode ${vscode.version} (${vscode.env.appName}, uiKind ${vscode.env.uiKind}), node ${process.version}; target ${e.targetModelPath}, draft ${e.draftModelPath}`);
    // an independent engine process with the same models: what greedy decoding gives for a prompt
    reference = new EngineClient({ hostScript: path.join(ext.extensionPath, 'dist', 'engine-host.js') });
    await reference.initialize({ targetModelPath: e.targetModelPath, draftModelPath: e.draftModelPath, threads: 1, contextSize: e.contextSize });
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

  /** Greedy completion of the same request by the reference engine, post-processed like the extension does. */
  async function expected(rec: CompletionRecord, editor: vscode.TextEditor, pos: vscode.Position): Promise<string> {
    const params: CompleteParams = { ...rec.params, progressToken: undefined };
    const result = await reference.complete(params);
    const line = editor.document.lineAt(pos.line).text;
    const next: string[] = [];
    for (let i = pos.line + 1; i < Math.min(editor.document.lineCount, pos.line + 6); i++) next.push(editor.document.lineAt(i).text);
    return postprocess(result.text, { linePrefix: line.slice(0, pos.character), lineSuffix: line.slice(pos.character), nextLines: next, maxLines: config().get<number>('maxLines')! });
  }

  async function triggerAndAccept(file: string, textWithCursor: string): Promise<{ inserted: string; expected: string; rec: CompletionRecord }> {
    const editor = await open(file, textWithCursor);
    const doc = editor.document;
    const pos = editor.selection.active;
    const before = doc.getText();
    const finished = nextFinished(ctx, file);
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
    await waitFor('the ghost text to be accepted', async () => {
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      return doc.getText() !== before;
    }, 20_000);
    const after = doc.getText();
    const inserted = after.slice(doc.offsetAt(pos), doc.offsetAt(pos) + after.length - before.length);
    assert.equal(after, before.slice(0, doc.offsetAt(pos)) + inserted + before.slice(doc.offsetAt(pos)), 'inserted at the cursor');
    return { inserted, expected: want, rec };
  }

  test('activates with the configured models and a status bar item', async () => {
    assert.match(ctx.status.text, /SpecExec/);
    const { info } = await ctx.engine.ensure();
    assert.equal(info.target.path, ctx.engine.engineConfig.targetModelPath);
    assert.ok(info.target.fim, 'the target model has FIM tokens');
    await waitFor('state ready', () => ctx.engine.state === 'ready');
    assert.match(ctx.status.text, /\$\(check\) SpecExec/);
  });

  test('TypeScript: the ghost text is the engine\'s greedy FIM completion, and Tab/commit accepts it', async () => {
    const r = await triggerAndAccept('add.ts', 'export function add(a: number, b: number): number {\n  return |\n}\n');
    console.log(`ts completion: ${JSON.stringify(r.inserted)}`);
    assert.equal(r.inserted, r.expected);
  });

  test('Python: the ghost text is the engine\'s greedy FIM completion', async () => {
    const r = await triggerAndAccept('fib.py', 'def fib(n):\n    if n < 2:\n        return n\n    return |\n');
    console.log(`py completion: ${JSON.stringify(r.inserted)}`);
    assert.equal(r.inserted, r.expected);
    assert.equal(r.rec.params.maxTokens, config().get('maxTokens'));
  });

  test('the cache serves the same window again and a completion the user types into', async () => {
    const editor = await open('cache.ts', 'const greeting = |;\n');
    const finished = nextFinished(ctx, 'cache.ts');
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    const rec = await finished;
    const shown = postprocess(rec.raw, { linePrefix: 'const greeting = ', lineSuffix: ';', nextLines: [''], maxLines: 16 });
    assert.ok(shown.length >= 2, `need a completion of 2+ chars, got ${JSON.stringify(shown)}`);
    const hits = ctx.provider.latency.cacheHits;
    const token = new vscode.CancellationTokenSource().token;
    const auto = { triggerKind: vscode.InlineCompletionTriggerKind.Automatic, selectedCompletionInfo: undefined };
    const again = await ctx.provider.provideInlineCompletionItems(editor.document, editor.selection.active, auto, token);
    assert.equal(again?.[0]?.insertText, shown);
    // type the first character of the suggestion: the rest comes from the cache, no new generation
    await vscode.commands.executeCommand('type', { text: shown[0] });
    const rest = await ctx.provider.provideInlineCompletionItems(editor.document, editor.selection.active, auto, token);
    assert.equal(rest?.[0]?.insertText, shown.slice(1));
    assert.ok(ctx.provider.latency.cacheHits >= hits + 2, 'both answers were cache hits');
  });

  test('typing cancels the in-flight generation ($/cancelRequest reaches the engine)', async () => {
    await setting('maxTokens', 400);
    try {
      const editor = await open('cancel.ts', 'const long = |\n');
      const cancelledBefore = ctx.engine.cancelledCount;
      const finished = nextEvent(ctx.provider.onDidFinish, 'the first generation to end', 60_000, (r) => r.document.includes('/cancel.ts#'));
      void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      const isRunning = (r: CompletionRecord | undefined) => r && r.source === 'engine' && r.document.includes('/cancel.ts#') && r.raw.length > 0 && r.stopReason === undefined;
      await waitFor('the generation to stream text', () => isRunning(ctx.provider.last), 20_000);
      const running = ctx.provider.last!;
      await vscode.commands.executeCommand('type', { text: '\u00a7' }); // a keystroke the completion cannot start with
      const rec = await finished;
      assert.equal(rec, running);
      assert.equal(rec.stopReason, 'cancelled', `the engine stopped for ${rec.stopReason} after ${rec.raw.length} chars`);
      assert.ok(ctx.engine.cancelledCount > cancelledBefore);
      assert.ok(editor.document.getText().includes('\u00a7'));
    } finally {
      await setting('maxTokens', undefined);
      ctx.provider.cancel(); // the keystroke's own (long) generation must not hold up the next tests
    }
  });

  test('the chat panel opens and streams an answer rendered by the webview', async () => {
    const deltas = ctx.chat.deltas;
    const rendered = nextEvent(ctx.chat.onDidRender, 'the webview to render the answer');
    const answer = await ctx.chat.ask('Write a TypeScript function that reverses a string.');
    assert.notEqual(answer.stopReason, 'error', answer.error);
    assert.ok(answer.text.length > 0);
    assert.ok(ctx.chat.deltas > deltas + 1, 'the answer arrived in several deltas');
    const r = await rendered;
    assert.equal(r.id, answer.id);
    console.log(`chat answer: ${JSON.stringify(answer.text.slice(0, 200))}; rendered ${r.chars} chars, ${r.codeBlocks} code blocks`);
    assert.equal(r.chars > 0, answer.text.trim().length > 0, 'the webview shows the answer\'s text');
    assert.equal(r.codeBlocks, (answer.text.match(/^\s*(```|~~~)/gm) ?? []).length > 0 ? Math.ceil((answer.text.match(/^\s*(```|~~~)/gm) ?? []).length / 2) : 0, 'one rendered code block per fence pair');
    assert.ok(vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.input instanceof vscode.TabInputWebview), 'a webview tab is open');
    // the engine applied the model's chat template to these messages: the same request gives the same text
    const again = await reference.chat({ messages: ctx.chat.lastMessages, maxTokens: config().get('chat.maxTokens'), temperature: 0, budget: config().get('budget') });
    assert.equal(answer.text, again.text);
    assert.equal(ctx.chat.lastMessages[ctx.chat.lastMessages.length - 1].content, 'Write a TypeScript function that reverses a string.');
  });

  test('Explain selection sends the selection, its language and file name, and streams an answer', async () => {
    const editor = await open('explain.py', 'def square(x):\n    return x * x\n|');
    editor.selection = new vscode.Selection(0, 0, 1, 16);
    const answered = nextEvent(ctx.chat.onDidAnswer, 'the explanation');
    await vscode.commands.executeCommand('specexec.explainSelection');
    const answer = await answered;
    assert.notEqual(answer.stopReason, 'error', answer.error);
    assert.ok(answer.text.length > 0);
    const question = ctx.chat.history.filter((t) => t.role === 'user').at(-1)!.content;
    assert.match(question, /python/);
    assert.match(question, /explain\.py/);
    assert.ok(question.includes('def square(x):\n    return x * x'));
  });

  test('pausing turns completions off and shows it in the status bar', async () => {
    const editor = await open('pause.ts', 'let x = |\n');
    await vscode.commands.executeCommand('specexec.pause');
    try {
      assert.match(ctx.status.text, /paused/);
      const token = new vscode.CancellationTokenSource().token;
      const r = await ctx.provider.provideInlineCompletionItems(editor.document, editor.selection.active,
        { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined }, token);
      assert.equal(r, undefined);
    } finally {
      await vscode.commands.executeCommand('specexec.resume');
    }
    assert.doesNotMatch(ctx.status.text, /paused/);
  });

  test('a killed engine is restarted and the next completion works', async () => {
    const pid = ctx.engine.pid!;
    assert.ok(pid > 0);
    process.kill(pid, 'SIGKILL');
    await waitFor('a new engine process', () => ctx.engine.pid !== undefined && ctx.engine.pid !== pid && ctx.engine.state === 'ready', 30_000);
    const r = await triggerAndAccept('after-crash.ts', 'function twice(n: number) {\n  return |\n}\n');
    assert.equal(r.inserted, r.expected);
  });

  test('killed while loading, mid-tree and mid-stream: restarted each time, the document untouched', async function () {
    this.timeout(120_000);
    assert.equal(await vscode.commands.executeCommand('specexec.restartEngine'), true); // forgets earlier crashes
    const editor = await open('crash-moments.py', 'def total(items):\n    return |\n');
    const before = editor.document.getText();
    const killed = async (what: string, pid: number, request: Promise<unknown>) => {
      process.kill(pid, 'SIGKILL');
      const outcome = await request.then(() => 'finished', (e: Error) => e.message);
      console.log(`killed ${what}: the request ${outcome}`);
      await waitFor(`a new engine after the kill ${what}`, () => ctx.engine.state === 'ready' && ctx.engine.pid !== pid, 30_000);
    };
    // while loading the models
    await ctx.engine.stop();
    const loading = ctx.engine.ensure();
    await killed('while loading', (await waitFor('a loading engine', () => ctx.engine.pid, 10_000))!, loading);
    // mid-tree: speculative rounds in flight, killed a random moment after the first accepted tokens
    let first: () => void = () => undefined;
    const streaming = new Promise<void>((r) => { first = r; });
    const tree = ctx.engine.complete({ prompt: { prefix: 'def total(items):\n    return ', suffix: '\n' }, maxTokens: 400, mode: 'specexec', budget: 64 }, () => first());
    await streaming;
    await sleep(Math.random() * 30);
    await killed('mid-tree', ctx.engine.pid!, tree);
    await assert.rejects(tree, /ended during the request/);
    // mid-stream: a chat answer being streamed
    const chatStreaming = new Promise<void>((r) => { first = r; });
    const chat = ctx.engine.chat({ messages: [{ role: 'user', content: 'Write a long Python module.' }], maxTokens: 400 }, () => first());
    await chatStreaming;
    await killed('mid-stream', ctx.engine.pid!, chat);
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
      const pid = await waitFor('an engine process', () => (ctx.engine.state === 'ready' ? ctx.engine.pid : undefined), 30_000);
      process.kill(pid!, 'SIGKILL');
      await waitFor('the crash to be noticed', () => ctx.engine.pid !== pid, 10_000);
    }
    await waitFor('giving up', () => ctx.engine.gaveUp, 10_000);
    assert.equal(ctx.engine.state, 'error');
    assert.match(ctx.engine.error!, /crashed 5 times within 60 s/);
    assert.match(ctx.status.text, /error/);
    assert.equal(await vscode.commands.executeCommand('specexec.restartEngine'), true);
    assert.equal(ctx.engine.state, 'ready');
    assert.equal(ctx.engine.gaveUp, false);
  });

  test('a bad model path shows an actionable error; fixing the setting recovers', async () => {
    const good = config().get<string>('targetModelPath');
    const notGguf = path.join(os.tmpdir(), 'not-a-model.gguf');
    fs.writeFileSync(notGguf, 'this is not a GGUF file, just text long enough');
    try {
      for (const [file, message] of [['/nonexistent/dir/model.gguf', /does not exist/], [notGguf, /is not a GGUF file/]] as const) {
        await setting('targetModelPath', file);
        await waitFor('the engine to stop for the reload', () => ctx.engine.state === 'stopped' || ctx.engine.state === 'error', 10_000);
        await assert.rejects(ctx.engine.ensure(), message);
        assert.equal(ctx.engine.state, 'error');
        assert.match(ctx.status.text, /error/);
        await waitFor('the error notification', () => ctx.shownErrors.some((m) => message.test(m) && m.includes(file)), 5_000);
        const editor = await open('bad.ts', 'let y = |\n');
        const r = await ctx.provider.provideInlineCompletionItems(editor.document, editor.selection.active,
          { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined }, new vscode.CancellationTokenSource().token);
        assert.equal(r, undefined);
      }
    } finally {
      await setting('targetModelPath', good);
    }
    await waitFor('the engine to stop for the reload', () => ctx.engine.state === 'stopped', 10_000);
    const r = await triggerAndAccept('recovered.ts', 'const z = |\n');
    assert.equal(r.inserted, r.expected);
  });
});
