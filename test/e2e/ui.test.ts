// UI end-to-end test through the real workbench: package the extension with vsce, install the .vsix
// into a fresh code-server profile (as a user would), type into a real editor in Chromium, see the
// ghost text (read from the DOM), accept it with Tab, and get a streamed chat answer rendered in
// the webview. PNG screenshots go to build/e2e-screenshots/.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { EngineClient } from '../../engine-native/host/engine-client';
import {
  ADD_PROMPT,
  GHOST_TEXT_SETTINGS,
  ROOT,
  SHOTS,
  dismissSetupOffer,
  ensureCodeServer,
  greedyAddCompletion,
  installPackagedVsix,
  launchChromium,
  makeProfile,
  nbsp,
  openWorkbench,
  rmrf,
  runCommand,
  startCodeServer,
  testModels,
  typeAddPrompt,
} from './code-server';

test('UI: ghost text in a real editor, Tab accepts it; the chat webview renders a streamed answer', { timeout: 10 * 60_000 }, async (t) => {
  const entry = ensureCodeServer();
  const models = testModels();
  fs.mkdirSync(SHOTS, { recursive: true });
  fs.rmSync(path.join(SHOTS, 'error.png'), { force: true }); // only a failing run leaves one
  const profile = makeProfile(
    'specexec-ui-',
    { 'ui.ts': '' },
    {
      // the bundled models when the package has them, else the random test pair through the settings
      ...(models.bundled ? {} : { 'specexec.targetModelPath': models.target, 'specexec.draftModelPath': models.draft }),
      ...GHOST_TEXT_SETTINGS, // budget 4: the same numerics as the reference engine below
      'specexec.chat.maxTokens': 96,
      'specexec.chat.temperature': 0,
    },
  );
  const { vsix, packageMs } = installPackagedVsix(entry, profile);
  t.diagnostic(`vsix ${(fs.statSync(vsix).size / 1e6).toFixed(1)} MB packaged in ${packageMs} ms`);

  const server = await startCodeServer(entry, profile);
  let browser: import('playwright-core').Browser | undefined;
  const problems: string[] = [];
  let ok = false;
  let reference: EngineClient | undefined;
  try {
    browser = await launchChromium(profile);
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
    });
    const external = new Set<string>();
    page.on('request', (r) => {
      const u = new URL(r.url());
      // *.vscode-resource.vscode-cdn.net is the webview resource origin, answered by the workbench's service worker
      // from the extension's files (and DNS for anything but 127.0.0.1 is off): not a network request
      if (u.hostname.endsWith('.vscode-resource.vscode-cdn.net')) return;
      if (!['127.0.0.1', 'localhost'].includes(u.hostname) && /^(https?|wss?):$/.test(u.protocol)) external.add(u.origin);
    });
    await openWorkbench(page, server, profile);
    // with the bundled pair (no target set) the first-start offer shows: the user closes it, as they would
    if (models.bundled) await dismissSetupOffer(page);

    const typed = ADD_PROMPT;
    const { editor, ghost } = await typeAddPrompt(page, 'ui.ts', 60_000);
    t.diagnostic(`ghost text on screen: ${JSON.stringify(ghost)}`);
    assert.ok(ghost.trim().length > 0, 'ghost text is visible');
    await page.screenshot({ path: path.join(SHOTS, '1-ghost-text.png') });
    await page.keyboard.press('Tab');
    // accepted (or dismissed: the file check below tells) once no ghost text is left on screen
    await page.waitForFunction(
      (sel) => !document.querySelector(`${sel} .ghost-text-decoration, ${sel} .suggest-preview-text .view-line`),
      editor,
      { timeout: 10_000 },
    );
    await page.screenshot({ path: path.join(SHOTS, '2-accepted.png') });
    await page.keyboard.press('Control+S');
    const file = path.join(profile.workspace, 'ui.ts');
    for (let i = 0; i < 100 && fs.readFileSync(file, 'utf8').length <= typed.length; i++) await page.waitForTimeout(100);

    // the accepted text is what greedy decoding of the same FIM prompt gives (a prefix of it when streamed early)
    const saved = fs.readFileSync(file, 'utf8');
    assert.ok(saved.startsWith(typed), `the file starts with what was typed: ${JSON.stringify(saved.slice(0, 80))}`);
    const accepted = saved.slice(typed.length);
    assert.ok(accepted.startsWith(ghost), `the accepted text ${JSON.stringify(accepted)} starts with the ghost text`);
    reference = new EngineClient({ hostScript: path.join(ROOT, 'dist', 'engine-host.js') });
    await reference.initialize({ targetModelPath: models.target, draftModelPath: models.draft, threads: 1 });
    {
      const want = await greedyAddCompletion(reference);
      t.diagnostic(`greedy completion: ${JSON.stringify(want)}`);
      assert.ok(
        accepted.length > 0 && want.startsWith(accepted),
        `accepted ${JSON.stringify(accepted)} is (a prefix of) the greedy completion ${JSON.stringify(want)}`,
      );
    }
    // (the reference engine stays up for the chat check below)
    // the status bar shows the engine's speed after a generation
    const status = nbsp((await page.textContent('.statusbar-item:has-text("SpecExec")')) ?? '');
    t.diagnostic(`status bar: ${JSON.stringify(status)}`);
    assert.match(status, /SpecExec \d+(\.\d)? tok\/s · \d+\.\d\d\/pass/);

    // chat: command palette -> panel -> question -> streamed, rendered answer
    await runCommand(page, 'SpecExec: Open Chat');
    await page.waitForSelector('iframe.webview', { timeout: 30_000 });
    let frame: import('playwright-core').Frame | undefined;
    for (let i = 0; i < 150 && !frame; i++) {
      for (const f of page.frames()) {
        try {
          if (await f.$('#input')) {
            frame = f;
            break;
          }
        } catch {
          /* detached */
        }
      }
      if (!frame) await page.waitForTimeout(200);
    }
    assert.ok(frame, 'the chat webview has loaded');
    await frame.click('#input');
    const question = 'Write a TypeScript function that adds two numbers.';
    await frame.type('#input', question);
    await frame.press('#input', 'Enter');
    await frame.waitForSelector('.msg.user', { timeout: 10_000 });
    const done = await frame.waitForSelector('.msg.assistant[data-done="true"]', { timeout: 60_000 });
    // the rendered text without the code blocks' toolbars (language label, Copy, Insert)
    const answer =
      (await done.$eval('.body', (e) => {
        const c = e.cloneNode(true) as HTMLElement;
        c.querySelectorAll('.code-toolbar').forEach((x) => x.remove());
        return c.textContent;
      })) ?? '';
    const meta = (await done.$eval('.meta', (e) => e.textContent)) ?? '';
    t.diagnostic(`chat answer (${answer.length} chars): ${JSON.stringify(answer.slice(0, 120))}; ${meta}`);
    assert.match(meta, /\d+ tokens, [\d.]+ tok\/s/);
    // the same question to the reference engine (greedy, the default system prompt): the panel shows that answer
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const system = pkg.contributes.configuration.properties['specexec.chat.systemPrompt'].default as string;
    const ref = await reference.chat({
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: question },
      ],
      maxTokens: 96,
      temperature: 0,
      budget: 4,
    });
    t.diagnostic(`reference chat answer: ${JSON.stringify(ref.text.slice(0, 120))}`);
    assert.match(meta, new RegExp(`^${ref.stats.tokens} tokens`), 'as many tokens as the reference answer');
    // markdown rendering drops its markers and folds whitespace: compare what is left, character by character
    const visible = (x: string) => x.replace(/```\w*/g, '').replace(/[*_`#>\-\s]/g, '');
    assert.equal(visible(answer), visible(ref.text), "the rendered answer has the reference answer's text");
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SHOTS, '3-chat.png') });
    assert.deepEqual(problems, [], 'no CSP violations');
    assert.deepEqual([...external], [], 'no requests to non-loopback hosts');
    ok = true;
  } finally {
    if (!ok && browser) {
      const pages = browser.contexts().flatMap((c) => c.pages());
      await pages[0]?.screenshot({ path: path.join(SHOTS, 'error.png') }).catch(() => undefined);
    }
    await reference?.shutdown();
    await browser?.close();
    await server.stop();
    if (ok && process.env.KEEP !== '1') rmrf(profile.work);
    else t.diagnostic(`kept ${profile.work}`);
  }
});
