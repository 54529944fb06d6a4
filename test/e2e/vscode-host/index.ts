// Mocha entry point loaded by the VS Code extension host (extensionTestsPath). Runs suite.js, or the
// suite $SPECEXEC_E2E_SUITE names (typing-session.js: the typing benchmark). Writes one result per
// test to $SPECEXEC_E2E_RESULTS (JSON) for the node:test wrapper, and prints "N passed, N failed".
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const resultsFile = process.env.SPECEXEC_E2E_RESULTS || path.join(__dirname, '..', '..', 'build', 'e2e-host-results.json');
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec' });
  if (process.env.SPECEXEC_E2E_GREP) mocha.grep(process.env.SPECEXEC_E2E_GREP);
  mocha.addFile(path.join(__dirname, process.env.SPECEXEC_E2E_SUITE || 'suite.js'));
  const results: { title: string; state: string; ms?: number; err?: string }[] = [];
  const write = (failures: number) =>
    fs.writeFileSync(resultsFile, JSON.stringify({ failures, results, vscode: process.env.VSCODE_VERSION }, null, 1));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      write(failures);
      console.log(`${results.filter((r) => r.state === 'passed').length} passed, ${failures} failed`);
      if (failures > 0) reject(new Error(`${failures} tests failed.`));
      else resolve();
    });
    runner.on('pass', (t) => {
      results.push({ title: t.fullTitle(), state: 'passed', ms: t.duration });
      write(-1);
    });
    runner.on('fail', (t, err) => {
      results.push({ title: t.fullTitle(), state: 'failed', err: String((err as Error)?.stack ?? err) });
      write(-1);
    });
    runner.on('pending', (t) => results.push({ title: t.fullTitle(), state: 'skipped' }));
  });
}
