// Runs the Mocha suite (test/e2e/vscode-host/suite.ts -> dist/e2e-host/) inside the extension host
// of a real VS Code (code-server 4.100.3, installed on first use) driven by headless Chromium, and
// reports every Mocha test as a node:test subtest. Models: the random test pair
// (test/helpers/models.ts), deterministic for the suite's fixed prompts, passed through the settings.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ensureCodeServer, makeProfile, rmrf, runHostSuite, testModels } from './code-server';
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
  const { exitCode, logLines, serverLog } = await runHostSuite(entry, profile, { SPECEXEC_E2E_RESULTS: resultsFile });
  const relevant = logLines.filter((l) => /passed|failed|✔|✓|\d+\) |completion:|vscode \d|Error|SpecExec/.test(l));
  t.diagnostic(relevant.slice(-60).join('\n'));
  let results: { failures: number; results: MochaResult[] } | undefined;
  try {
    results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  } catch {
    /* checked below */
  }
  if (!results) {
    console.error(logLines.join('\n'), '\n', serverLog.slice(-4000));
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
