// `specexec models pull` / `models scan` and --target/--draft given as ORG/NAME:FILE, through the real
// CLI and engine, against the stand-in hub (HF_ENDPOINT) with a hub cache in a temp folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { HubServer } from '../helpers/hub-server';
import { ROOT, testModelPair } from '../helpers/models';

const REPO = 'test-org/Test-Pair-GGUF';
const CLI = path.join(ROOT, 'dist', 'cli.js');
let hub: HubServer;
let cache: string;
const pair = testModelPair();

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env, HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HOME: cache };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

before(async () => {
  cache = await mkdtemp(path.join(tmpdir(), 'specexec-models-cli-'));
  hub = await HubServer.start([
    { name: REPO, files: { 'target.gguf': readFileSync(pair.target), 'draft.gguf': readFileSync(pair.draft) } },
  ]);
});

after(async () => {
  await hub.close();
  await rm(cache, { recursive: true, force: true });
});

test('a hub file not yet pulled is refused with the command that fetches it', async () => {
  const r = await cli(['complete', '--target', `${REPO}:target.gguf`, '--prompt', 'x']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`is not downloaded yet: run specexec models pull ${REPO}:target.gguf`));
});

test('models pull fetches into the hub cache; complete then takes ORG/NAME:FILE and gives the same text as the files', async () => {
  for (const file of ['target.gguf', 'draft.gguf']) {
    const r = await cli(['models', 'pull', `${REPO}:${file}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`model: ${cache}.*snapshots/${hub.commitOf(REPO)}/${file}\n`));
  }
  const again = await cli(['models', 'pull', `${REPO}:target.gguf`]);
  assert.match(again.stdout, /\(already downloaded\)/);
  const prompt = ['--prompt', 'def add(a, b):\n', '--max-tokens', '12', '--json'];
  const byName = await cli(['complete', '--target', `${REPO}:target.gguf`, '--draft', `${REPO}:draft.gguf`, ...prompt]);
  const byPath = await cli(['complete', '--target', pair.target, '--draft', pair.draft, ...prompt]);
  assert.equal(byName.status, 0, byName.stderr);
  assert.equal(JSON.parse(byName.stdout).text, JSON.parse(byPath.stdout).text);

  const scan = await cli(['models', 'scan', '--json']);
  const found = JSON.parse(scan.stdout).models.map((m: { displayName: string; source: string }) => `${m.source} ${m.displayName}`);
  assert.deepEqual(found.sort(), [`huggingface ${REPO}:draft.gguf`, `huggingface ${REPO}:target.gguf`]);
});

test('models pull of a file the hub does not have names it', async () => {
  const r = await cli(['models', 'pull', `${REPO}:missing.gguf`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing\.gguf/);
});
