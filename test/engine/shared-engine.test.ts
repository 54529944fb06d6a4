// The shared engine (engine-native/host/shared-*.ts), with real processes and real sockets: three
// CLI processes share one engine (one process, one load) and get what a private engine gives
// them; three connections interleaving completions each get what they get alone (greedy, token
// for token); one client's burst does not queue ahead of another's request; the folder and socket
// are private; after a SIGKILL, three clients reconnecting at once start one new engine; a client
// leaving mid-request does not disturb the others; the last one leaving lets the engine exit;
// another OS user (created with useradd, run with setpriv) is refused.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CancellationTokenSource, type EngineClient } from '../../engine-native/host/engine-client';
import type { InitializeParams } from '../../engine-native/host/protocol';
import { SharedEngineClient } from '../../engine-native/host/shared-client';
import { endpointFor, type SharedEndpoint } from '../../engine-native/host/shared-endpoint';
import { HOST_SCRIPT, startEngine } from '../helpers/engine';
import { ROOT, testModelPair } from '../helpers/models';

const run = promisify(execFile);
const CLI = path.join(ROOT, 'dist', 'cli.js');
const PROMPTS = ['def add(a, b):', 'class Stack:\n    def push(self, x):', 'for i in range(10):'];
const MAX_TOKENS = 24;

/** Run as another user: connects to the socket in argv[1], asks for the status, and says what happened. */
const PROBE = `
const s = require('node:net').connect(process.argv[1]);
let answered = false;
let connected = false;
s.on('connect', () => {
  connected = true;
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'specexec/status', params: {} });
  s.write('Content-Length: ' + Buffer.byteLength(body) + '\\r\\n\\r\\n' + body);
});
s.on('data', () => (answered = true));
s.on('error', (e) => { console.log(connected ? 'closed without an answer' : 'error ' + e.code); process.exit(0); });
s.on('close', () => console.log(answered ? 'answered' : 'closed without an answer'));
`;

/** Why this machine cannot run a test as another user (it needs root, useradd and setpriv), or undefined. */
function otherUserUnavailable(): string | undefined {
  if (process.platform !== 'linux' || process.getuid!() !== 0) return 'needs root on Linux to create a user';
  for (const tool of ['/usr/sbin/useradd', '/usr/sbin/userdel', '/usr/bin/setpriv']) if (!existsSync(tool)) return `no ${tool}`;
  return undefined;
}

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; Date.now() < end;) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return condition();
}

describe('engine: one shared engine for several clients', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sx-shared-'));
  const runtime = path.join(dir, 'run');
  const models = testModelPair();
  const params: InitializeParams = { targetModelPath: models.target, draftModelPath: models.draft, threads: 2, contextSize: 1024 };
  let endpoint: SharedEndpoint;
  let alone: string[];
  let privateEngine: EngineClient;

  const connect = () => SharedEngineClient.connect({ endpoint, hostScript: HOST_SCRIPT, idleExitMs: 1500 });
  const complete = (c: { complete: EngineClient['complete'] }, prompt: string) =>
    c.complete({ prompt, maxTokens: MAX_TOKENS, temperature: 0 }).then((r) => r.tokens.join(','));

  before(async () => {
    endpoint = endpointFor(params, HOST_SCRIPT, process.env, runtime);
    privateEngine = startEngine();
    await privateEngine.initialize(params);
    alone = [];
    for (const p of PROMPTS) alone.push(await complete(privateEngine, p));
  });
  after(async () => {
    await privateEngine.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test("three CLI processes share one engine: one process, one load, the private engine's output", async () => {
    const env = { ...process.env, SPECEXEC_RUNTIME_DIR: runtime };
    const args = (prompt: string) => [
      CLI,
      'complete',
      '--shared',
      '--idle-exit',
      '2',
      '--json',
      '--target',
      models.target,
      '--draft',
      models.draft,
      '--threads',
      '2',
      '--context',
      '1024',
      '--max-tokens',
      String(MAX_TOKENS),
      '--temperature',
      '0',
      '--prompt',
      prompt,
    ];
    const outs = await Promise.all(PROMPTS.map((p) => run(process.execPath, args(p), { env })));
    assert.deepEqual(
      outs.map((o) => (JSON.parse(o.stdout) as { tokens: number[] }).tokens.join(',')),
      alone,
    );
    const log = readFileSync(endpoint.logPath, 'utf8');
    assert.equal(count(log, /listening on/g), 1, log);
    assert.equal(count(log, /client \d+ connected/g), 3, log);
    // private: the folder only its user can enter, the socket only its user can open
    assert.equal(statSync(runtime).mode & 0o777, 0o700);
    assert.equal(statSync(endpoint.socketPath).mode & 0o777, 0o600);
    // no client for the idle time: the engine exits and removes its socket
    assert.ok(await waitFor(() => !existsSync(endpoint.socketPath), 10_000), 'the idle engine removed its socket');
    assert.match(readFileSync(endpoint.logPath, 'utf8'), /no client for 2 s: exiting/);
  });

  test('interleaved completions from three connections each equal that prompt alone; a burst does not queue ahead of another client', async () => {
    const clients = await Promise.all([connect(), connect(), connect()]);
    assert.equal(new Set(clients.map((c) => c.pid)).size, 1, 'one engine');
    await Promise.all(clients.map((c) => c.initialize(params)));
    assert.equal((await clients[0].status()).clients, 3);
    const rounds = await Promise.all(clients.map((c, i) => Promise.all([0, 1, 2].map((k) => complete(c, PROMPTS[(i + k) % 3])))));
    rounds.forEach((r, i) =>
      assert.deepEqual(
        r,
        [0, 1, 2].map((k) => alone[(i + k) % 3]),
      ),
    );

    // client 0 queues six behind a long first one; client 1 asks once the first is running: it is served next
    const order: string[] = [];
    let firstRunning!: () => void;
    const running = new Promise<void>((r) => (firstRunning = r));
    const first = clients[0]
      .complete({ prompt: PROMPTS[0], maxTokens: 200, temperature: 0 }, () => firstRunning())
      .then(() => order.push('a0'));
    const burst = [1, 2, 3, 4, 5].map((k) => complete(clients[0], PROMPTS[k % 3]).then(() => order.push(`a${k}`)));
    await running;
    const single = complete(clients[1], PROMPTS[0]).then(() => order.push('b'));
    await Promise.all([first, ...burst, single]);
    // (a0's answer may be handled after b's: its stream of progress notifications queues before it on its socket)
    assert.ok(order.indexOf('b') < order.indexOf('a1'), order.join(' '));
    await Promise.all(clients.map((c) => c.shutdown()));
  });

  test("one client's long answer does not hold another's completion: it runs nested at the next step; both equal what each gets alone", async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    await Promise.all([a, b].map((c) => c.initialize(params)));
    const long = { prompt: PROMPTS[1], maxTokens: 300, temperature: 0 };
    const longAlone = (await a.complete(long)).tokens.join(',');
    for (const mode of ['specexec', 'autoregressive'] as const) {
      const order: string[] = [];
      let started!: () => void;
      const streaming = new Promise<void>((r) => (started = r));
      const answer = a
        .complete({ ...long, mode }, () => started())
        .then((r) => {
          order.push('a');
          return r;
        });
      await streaming;
      const short = await complete(b, PROMPTS[0]);
      order.push('b');
      const result = await answer;
      assert.equal(short, alone[0], `${mode}: the nested completion equals its prompt alone`);
      assert.equal(result.tokens.join(','), longAlone, `${mode}: the interrupted answer resumes exactly`);
      assert.deepEqual(order, ['b', 'a'], `${mode}: the completion did not wait for the answer`);
    }

    // the nested one cancelled mid-way: it stops, the answer is untouched
    let started!: () => void;
    const streaming = new Promise<void>((r) => (started = r));
    const answer = a.complete(long, () => started());
    await streaming;
    const source = new CancellationTokenSource();
    const cancelled = b.complete({ prompt: PROMPTS[2], maxTokens: 200, temperature: 0 }, () => source.cancel(), source.token);
    const outcome = await cancelled.then(
      (r) => r.stopReason,
      (e: Error) => e.message,
    );
    assert.match(outcome, /cancelled/);
    assert.equal((await answer).tokens.join(','), longAlone);
    await Promise.all([a, b].map((c) => c.shutdown()));
  });

  test('another OS user cannot connect: the modes refuse it, and with the modes opened the peer check does; the engine keeps serving', async (t) => {
    const unavailable = otherUserUnavailable();
    if (unavailable) return t.skip(unavailable);
    const client = await connect();
    await client.initialize(params);
    const user = `sxprobe${process.pid}`;
    execFileSync('/usr/sbin/useradd', ['--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', user]);
    try {
      const uid = execFileSync('id', ['-u', user]).toString().trim();
      const gid = execFileSync('id', ['-g', user]).toString().trim();
      // setpriv changes the ids without PAM (runuser needs a PAM setup, which a bare root may lack)
      const asUser = ['--reuid', uid, '--regid', gid, '--clear-groups', process.execPath, '-e', PROBE, endpoint.socketPath];
      const probe = async () => (await run('/usr/bin/setpriv', asUser, { cwd: '/' })).stdout.trim();
      assert.equal(await probe(), 'error EACCES', 'the 0700 folder keeps the other user out');
      // a mistaken chmod opens the folders and the socket: the engine checks the peer's uid itself
      for (const folder of [dir, runtime]) chmodSync(folder, 0o711);
      chmodSync(endpoint.socketPath, 0o666);
      assert.equal(await probe(), 'closed without an answer');
      assert.match(
        readFileSync(endpoint.logPath, 'utf8'),
        new RegExp(`refused a connection from user ${uid} \\(this engine serves user 0 only\\)`),
      );
      assert.equal(await complete(client, PROMPTS[0]), alone[0], 'the engine keeps serving its user');
      assert.equal((await client.status()).clients, 1);
    } finally {
      chmodSync(runtime, 0o700);
      chmodSync(dir, 0o700);
      execFileSync('/usr/sbin/userdel', [user]);
      await client.shutdown();
    }
  });

  test('SIGKILL with three clients: they all reconnect to one new engine and complete exactly; a client leaving mid-request disturbs no other', async () => {
    const clients = await Promise.all([connect(), connect(), connect()]);
    await Promise.all(clients.map((c) => c.initialize(params)));
    const old = clients[0].pid!;
    const starts = count(readFileSync(endpoint.logPath, 'utf8'), /listening on/g);
    process.kill(old, 'SIGKILL');
    await Promise.all(clients.map((c) => c.exited));
    const again = await Promise.all([connect(), connect(), connect()]);
    const pids = new Set(again.map((c) => c.pid));
    assert.equal(pids.size, 1, 'one new engine');
    assert.notEqual([...pids][0], old);
    assert.equal(count(readFileSync(endpoint.logPath, 'utf8'), /listening on/g), starts + 1, 'no second copy served');
    await Promise.all(again.map((c) => c.initialize(params)));
    assert.deepEqual(await Promise.all(again.map((c, i) => complete(c, PROMPTS[i]))), alone);

    // client 0 goes away while its request runs or waits; the others are served as if alone
    const abandoned = complete(again[0], PROMPTS[0]).catch(() => 'ended');
    const others = Promise.all([complete(again[1], PROMPTS[1]), complete(again[2], PROMPTS[2])]);
    await new Promise((r) => setTimeout(r, 30));
    (again[0] as unknown as { socket: { destroy(): void } }).socket.destroy();
    assert.deepEqual(await others, [alone[1], alone[2]]);
    await abandoned;
    const pid = again[1].pid!;
    await Promise.all(again.slice(1).map((c) => c.shutdown()));
    assert.ok(await waitFor(() => !alive(pid), 10_000), 'the engine exits after its idle time once the last client left');
  });
});
