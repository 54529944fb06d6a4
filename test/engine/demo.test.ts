// The README's main job, `npm run demo`: the CLI on the bundled Q8_0 pair through a real engine
// process. It fails on any signal (an engine killed by SIGILL on this CPU fails here first).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/models';

test('npm run demo completes on the bundled models, every mode with the same text', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'demo'], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.signal, null, `the demo was killed by ${r.signal}:\n${r.stdout}\n${r.stderr}`);
  assert.equal(r.status, 0, `the demo failed:\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /CPU kernels: \S+/);
  assert.match(r.stdout, /--- completion ---\n\s*\S[\s\S]*--- stats/);
  assert.match(r.stdout, /\d+\.\d\d tokens per target pass/);
  assert.equal(r.stdout.match(/identical text/g)?.length, 2, r.stdout);
  assert.doesNotMatch(r.stdout, /DIFFERENT text/);
  // the demo pair is a demo: it says so, and where real models come from
  assert.match(r.stdout, /not a useful code model\. Real models: specexec models scan/);
});
