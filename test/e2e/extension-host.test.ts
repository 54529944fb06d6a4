// Runs the Mocha suite (test/e2e/vscode-host/suite.ts -> dist/e2e-host/) inside the extension host
// of a real VS Code (code-server 4.100.3, installed on first use) driven by headless Chromium, and
// reports every Mocha test as a node:test subtest. Models: the random test pair
// (test/helpers/models.ts), deterministic for the suite's fixed prompts, passed through the settings.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as util from 'node:util';
import { ROOT, ensureCodeServer, launchChromium, makeProfile, rmrf, startCodeServer, testModels } from './code-server';
import { SUITE_SETTINGS } from './vscode-host/suite-settings';

interface MochaResult {
  title: string;
  state: 'passed' | 'failed' | 'skipped';
  ms?: number;
  err?: string;
}

test('extension in a real VS Code extension host (code-server + Mocha)', { timeout: 15 * 60_000 }, async (t) => {
  const entry = ensureCodeServer();
  const models = testModels(false);
  const extDev = ROOT;
  const extTests = path.join(ROOT, 'dist', 'e2e-host', 'index');
  assert.ok(fs.existsSync(extTests + '.js'), 'dist/e2e-host/index.js is built (node esbuild.mjs)');
  assert.ok(fs.existsSync(path.join(ROOT, 'dist', 'extension.js')), 'dist/extension.js is built');
  const profile = makeProfile(
    'specexec-host-',
    { 'README.md': '# e2e workspace\n' },
    {
      'specexec.targetModelPath': models.target,
      'specexec.draftModelPath': models.draft,
      ...SUITE_SETTINGS,
      'editor.inlineSuggest.enabled': true,
    },
  );
  const resultsFile = path.join(profile.work, 'results.json');
  const server = await startCodeServer(entry, profile, { SPECEXEC_E2E_RESULTS: resultsFile, SPECEXEC_LOG_CONSOLE: '1' });
  let exitCode: unknown;
  const logLines: string[] = [];
  let browser: import('playwright-core').Browser | undefined;
  try {
    browser = await launchChromium(profile);
    const page = await browser.newPage();
    const authority = `127.0.0.1:${server.port}`;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${extDev}`],
      ['extensionTestsPath', `vscode-remote://${authority}${extTests}`],
    ];
    // newer web workbenches ignore `payload` without the smoke-test driver flag (harmless on 1.100)
    await page.addInitScript(() => {
      const orig = Element.prototype.getAttribute;
      Element.prototype.getAttribute = function (name: string) {
        const v = orig.call(this, name);
        if (name === 'data-settings' && this.id === 'vscode-workbench-web-configuration' && v) {
          const cfg = JSON.parse(v);
          cfg.developmentOptions = { ...(cfg.developmentOptions || {}), enableSmokeTestDriver: true };
          return JSON.stringify(cfg);
        }
        return v;
      };
    });
    const exited = new Promise((resolve) => void page.exposeFunction('codeAutomationExit', (code: unknown) => resolve(code)));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[] = []) => {
      const line = typeof args[0] === 'string' ? util.format(...args) : args.map(String).join(' ');
      if (!/ENOTFOUND|^\s+at /.test(line)) logLines.push(`[vscode:${type}] ${line.split('\n')[0]}`);
    });
    await page.goto(
      `${server.origin}/?folder=${encodeURIComponent(profile.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    exitCode = await Promise.race([
      exited,
      new Promise((r) => {
        timer = setTimeout(() => r('timeout'), 10 * 60_000);
      }),
    ]);
    clearTimeout(timer); // a pending timer would keep this test process alive
    if (exitCode === 'timeout') await page.screenshot({ path: path.join(profile.work, 'timeout.png') });
  } finally {
    await browser?.close();
    await server.stop();
  }
  const relevant = logLines.filter((l) => /passed|failed|✔|✓|\d+\) |completion:|vscode \d|Error|SpecExec/.test(l));
  t.diagnostic(relevant.slice(-60).join('\n'));
  let results: { failures: number; results: MochaResult[] } | undefined;
  try {
    results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  } catch {
    /* checked below */
  }
  if (!results) {
    console.error(logLines.join('\n'), '\n', server.log().slice(-4000));
    assert.fail(`the Mocha suite wrote no results (exit ${String(exitCode)}; kept ${profile.work})`);
  }
  assert.ok(results.results.length >= 10, `expected the whole suite, got ${results.results.length} results`);
  for (const r of results.results) {
    await t.test(r.title, { skip: r.state === 'skipped' }, () => {
      if (r.state === 'failed') assert.fail(r.err);
    });
  }
  assert.equal(exitCode, results.failures === 0 ? 0 : 1, `the workbench exit code (${String(exitCode)}) matches the Mocha result`);
  if (results.failures === 0 && process.env.KEEP !== '1') rmrf(profile.work);
  else t.diagnostic(`kept ${profile.work}`);
});
