// specexec bench-shared: what the shared engine (one engine process per user and configuration,
// reached over a Unix socket, as VS Code windows use it) buys and costs, on the grown 1.1B-shaped
// target. In one run: the memory of one client on a shared engine, of three clients on it, and of
// three private engines (one child process per window); the latency of a short completion alone and
// while another client streams a long chat answer on the same engine (the engine runs one
// generation at a time); and three clients' completions sent at once, each checked against what
// its prompt gives alone. A benchmark, not a test: it prints and saves what it measured.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../host/native';
import type { EngineConnection } from '../host/engine-client';
import { SharedEngineClient } from '../host/shared-client';
import { endpointFor } from '../host/shared-endpoint';
import type { ChatMessage, CompleteParams, CompleteResult, EngineStatus, InitializeParams } from '../host/protocol';
import { loadPrompts, median, request, type BenchPrompt } from './bench';
import { ensureGrownTarget, GROWN_DESCRIPTION } from './grown-target';
import { CliError, openEngine, resolveModels, type EngineSession, type ModelFlags } from './session';

export interface SharedBenchOptions extends ModelFlags {
  quick: boolean;
  /** false: the bundled pair itself instead of the grown target (ignored with --target). */
  grown: boolean;
  /** The results file; default bench/results/DATE-HOST[-quick][-bundled]-shared.json. */
  out?: string;
}

/** How long the shared engine stays after its last client: short, so that none outlives the run. */
const IDLE_EXIT_MS = 1000;
/** A ghost-text-sized completion. */
const SHORT: Omit<CompleteParams, 'prompt'> = { maxTokens: 32, temperature: 0 };
const CLIENTS = 3;
const PER_CLIENT = 3;
const CHAT: ChatMessage[] = [
  {
    role: 'user',
    content:
      'Explain step by step how a hash map works in Python: hashing, buckets, collisions, resizing, ' +
      'and the cost of each operation. Then write a small implementation with get, set and delete.',
  },
];
const PLANS = {
  full: { aloneRuns: 5, duringRuns: 3, chatTokens: 200 },
  quick: { aloneRuns: 3, duringRuns: 1, chatTokens: 96 },
};

interface Memory {
  rssBytes: number;
  pssBytes: number;
}

/** What /proc/PID/smaps_rollup says of a process (Linux): the same file the engine's status reads. */
function processMemory(pid: number): Memory | null {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN) * 1024;
    return { rssBytes: kB('Rss'), pssBytes: kB('Pss') };
  } catch {
    return null;
  }
}

interface EngineMemory {
  pid: number;
  /** The engine's own specexec/status. */
  status: EngineStatus['memory'];
  /** /proc/PID/smaps_rollup read by this benchmark. */
  proc: Memory | null;
}

async function engineMemory(client: EngineConnection): Promise<EngineMemory> {
  const s = await client.status();
  return { pid: s.pid, status: s.memory, proc: processMemory(s.pid) };
}

/** Sums over distinct engine processes, from the engines' own status (PSS) and process memory. */
function totals(engines: EngineMemory[]) {
  const sum = (f: (e: EngineMemory) => number) => engines.reduce((a, e) => a + f(e), 0);
  return {
    processes: engines.length,
    pssBytes: sum((e) => e.status.pssBytes ?? NaN),
    rssBytes: sum((e) => e.status.rssBytes),
    procPssBytes: sum((e) => e.proc?.pssBytes ?? NaN),
    procRssBytes: sum((e) => e.proc?.rssBytes ?? NaN),
    engines,
  };
}

interface Timed {
  ms: number;
  result: CompleteResult;
}

async function timed(run: () => Promise<CompleteResult>): Promise<Timed> {
  const start = performance.now();
  const result = await run();
  return { ms: performance.now() - start, result };
}

const sameTokens = (a: CompleteResult, b: CompleteResult) =>
  a.tokens.length === b.tokens.length && a.tokens.every((t, i) => t === b.tokens[i]);
const r1 = (x: number) => +x.toFixed(1);
const r3 = (x: number) => +x.toFixed(3);

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** B's short completion while A streams a chat answer, started after A's first delta. */
async function duringChat(a: EngineConnection, b: EngineConnection, prompt: BenchPrompt, chatTokens: number) {
  const deltas: { at: number; tokens: number }[] = [];
  let firstDelta!: () => void;
  const started = new Promise<void>((resolve) => (firstDelta = resolve));
  const chat = a.chat({ messages: CHAT, maxTokens: chatTokens, temperature: 0 }, (_delta, tokens) => {
    deltas.push({ at: performance.now(), tokens });
    firstDelta();
  });
  await Promise.race([started, chat]);
  const t0 = performance.now();
  const short = await timed(() => b.complete(request(prompt, SHORT)));
  const chatResult = await chat;
  // B's wait: its latency less its own generation (the engine's elapsed time, prompt included)
  const waitMs = Math.max(0, short.ms - short.result.stats.elapsedMs);
  const tokensAt = (t: number) => deltas.filter((d) => d.at <= t).reduce((m, d) => Math.max(m, d.tokens), 0);
  const chatTokensDuringWait = tokensAt(t0 + waitMs) - tokensAt(t0);
  return {
    latencyMs: r1(short.ms),
    waitMs: r1(waitMs),
    shortElapsedMs: r1(short.result.stats.elapsedMs),
    short: short.result,
    chat: {
      tokens: chatResult.stats.tokens,
      targetPasses: chatResult.stats.targetPasses,
      elapsedMs: r1(chatResult.stats.elapsedMs),
      stopReason: chatResult.stopReason,
      tokensWhenShortSent: tokensAt(t0),
      tokensDuringShortWait: chatTokensDuringWait,
      /** A's target passes during B's wait, in proportion to its tokens. */
      targetPassesDuringShortWait: r1((chatResult.stats.targetPasses * chatTokensDuringWait) / Math.max(chatResult.stats.tokens, 1)),
    },
  };
}

interface Setup {
  target: string;
  draft: string | null;
  params: InitializeParams;
  env: NodeJS.ProcessEnv;
  plan: (typeof PLANS)['full'];
  shortPrompt: BenchPrompt;
  burstPrompts: BenchPrompt[];
  log: (line: string) => void;
  /** Connects a shared-engine client, initialized. */
  connect: () => Promise<SharedEngineClient>;
  /** Starts a private engine (a child process), initialized. */
  openPrivate: () => Promise<EngineSession>;
  /** Every shared client leaves and the shared engine exits. */
  leaveShared: () => Promise<void>;
  closePrivate: () => Promise<void>;
}

/** Memory, one client then three on one shared engine, each initialized and having run one completion. */
async function sharedMemory(s: Setup) {
  const first = await s.connect();
  const firstShort = await first.complete(request(s.shortPrompt, SHORT));
  const one = totals([await engineMemory(first)]);
  const clients = [first];
  for (let i = 1; i < CLIENTS; i++) {
    clients.push(await s.connect());
    await clients[i].complete(request(s.shortPrompt, SHORT));
  }
  const status = await first.status();
  if (clients.some((c) => c.pid !== first.pid) || status.clients !== CLIENTS) {
    throw new Error(
      `expected ${CLIENTS} clients on engine ${first.pid}: pids ${clients.map((c) => c.pid).join(', ')}, ${status.clients} clients`,
    );
  }
  const three = totals([await engineMemory(first)]);
  s.log(`shared engine pid ${first.pid}: PSS ${gb(one.pssBytes)} with one client, ${gb(three.pssBytes)} with ${CLIENTS}`);
  return { clients, firstShort, one, three };
}

/**
 * B's short completion alone, and while A streams a chat answer. Before each lone run A's chat
 * prompt is put in the engine's cache (a 1-token answer), as during a chat: B's prompt is read
 * afresh in both cases rather than found cached from B's previous run.
 */
async function fairness(s: Setup, a: EngineConnection, b: EngineConnection, reference: CompleteResult) {
  const alone: Timed[] = [];
  for (let i = 0; i < s.plan.aloneRuns; i++) {
    await a.chat({ messages: CHAT, maxTokens: 1, temperature: 0 });
    alone.push(await timed(() => b.complete(request(s.shortPrompt, SHORT))));
  }
  s.log(`B alone: ${alone.map((t) => t.ms.toFixed(0)).join(' ')} ms`);
  const during = [];
  for (let i = 0; i < s.plan.duringRuns; i++) {
    const d = await duringChat(a, b, s.shortPrompt, s.plan.chatTokens);
    during.push(d);
    s.log(
      `B during A's chat: ${d.latencyMs.toFixed(0)} ms (waited ${d.waitMs.toFixed(0)} ms; A: ${d.chat.tokens} tokens, ${d.chat.targetPasses} passes)`,
    );
  }
  const aloneMs = median(alone.map((t) => t.ms));
  const duringMs = median(during.map((d) => d.latencyMs));
  return {
    shortRequest: SHORT,
    chatRequest: { maxTokens: s.plan.chatTokens, temperature: 0 },
    aloneMs: r1(aloneMs),
    aloneRunsMs: alone.map((t) => r1(t.ms)),
    aloneElapsedMs: r1(median(alone.map((t) => t.result.stats.elapsedMs))),
    aloneIdentical: alone.every((t) => sameTokens(t.result, reference)),
    duringChatMs: r1(duringMs),
    differenceMs: r1(duringMs - aloneMs),
    ratio: r3(duringMs / aloneMs),
    medianWaitMs: r1(median(during.map((d) => d.waitMs))),
    medianChatTokensDuringWait: median(during.map((d) => d.chat.tokensDuringShortWait)),
    medianChatTargetPassesDuringWait: median(during.map((d) => d.chat.targetPassesDuringShortWait)),
    duringChatRuns: during.map(({ short, ...d }) => ({ ...d, identicalToAlone: sameTokens(short, reference) })),
  };
}

/** Each burst prompt alone, then every client sending its share of them at once. */
async function interleaving(s: Setup, clients: EngineConnection[]) {
  const reference: CompleteResult[] = [];
  for (const p of s.burstPrompts) reference.push(await clients[0].complete(request(p, SHORT)));
  const start = performance.now();
  const burst = await Promise.all(
    clients.map((client, k) =>
      Promise.all(
        s.burstPrompts.slice(k * PER_CLIENT, (k + 1) * PER_CLIENT).map(async (p) => {
          const result = await client.complete(request(p, SHORT));
          return { ms: performance.now() - start, result };
        }),
      ),
    ),
  );
  const burstMs = performance.now() - start;
  const mismatches = burst.flatMap((runs, k) =>
    runs.flatMap((t, j) => (sameTokens(t.result, reference[k * PER_CLIENT + j]) ? [] : [{ client: k, prompt: 1 + k * PER_CLIENT + j }])),
  );
  s.log(
    `burst of ${clients.length}x${PER_CLIENT}: ${mismatches.length === 0 ? 'every result exact' : `${mismatches.length} results DIFFER`}, ${burstMs.toFixed(0)} ms`,
  );
  return {
    clients: clients.length,
    perClient: PER_CLIENT,
    request: SHORT,
    exact: mismatches.length === 0,
    /** Client and benchmark prompt (line of bench/prompts.jsonl, from 0) of each result that differs. */
    mismatches,
    burstMs: r1(burstMs),
    aloneSumMs: r1(reference.reduce((sum, r) => sum + r.stats.elapsedMs, 0)),
    /** From the common start to each result. */
    perClientMedianMs: burst.map((runs) => r1(median(runs.map((t) => t.ms)))),
    perClientMs: burst.map((runs) => runs.map((t) => r1(t.ms))),
  };
}

async function measure(s: Setup) {
  const loadAverage = { start: os.loadavg(), end: [] as number[] };
  const started = Date.now();
  s.log(`target ${path.relative(process.cwd(), s.target)}, draft ${s.draft ? path.relative(process.cwd(), s.draft) : 'none'}`);
  const shared = await sharedMemory(s);
  const fair = await fairness(s, shared.clients[0], shared.clients[1], shared.firstShort);
  const inter = await interleaving(s, shared.clients);
  await s.leaveShared(); // before the private engines: it would share the model's pages with them
  const privates: EngineSession[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    privates.push(await s.openPrivate());
    await privates[i].client.complete(request(s.shortPrompt, SHORT));
  }
  const threePrivate = totals(await Promise.all(privates.map((p) => engineMemory(p.client))));
  await s.closePrivate();
  s.log(`${CLIENTS} private engines: PSS ${gb(threePrivate.pssBytes)} in all`);
  loadAverage.end = os.loadavg();
  const { one, three } = shared;
  return {
    date: new Date().toISOString(),
    machine: {
      hostname: os.hostname(),
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      totalMemoryBytes: os.totalmem(),
      loadAverage,
    },
    settings: { ...s.plan, idleExitMs: IDLE_EXIT_MS, threads: s.params.threads ?? null, contextSize: s.params.contextSize ?? null },
    memory: {
      oneClientShared: one,
      threeClientsShared: three,
      threePrivate,
      pssRatioThreeSharedToOne: r3(three.pssBytes / one.pssBytes),
      pssRatioThreePrivateToOne: r3(threePrivate.pssBytes / one.pssBytes),
      rssRatioThreeSharedToOne: r3(three.rssBytes / one.rssBytes),
      rssRatioThreePrivateToOne: r3(threePrivate.rssBytes / one.rssBytes),
    },
    fairness: fair,
    interleaving: inter,
    elapsedS: Math.round((Date.now() - started) / 1000),
  };
}

export async function runSharedBench(options: SharedBenchOptions): Promise<void> {
  const root = packageRoot();
  const models = resolveModels(options);
  const grown = options.grown && options.target === undefined;
  const target = grown ? ensureGrownTarget(root, models.target) : models.target;
  const prompts = loadPrompts(path.join(root, 'bench', 'prompts.jsonl'));
  if (prompts.length < 1 + CLIENTS * PER_CLIENT) throw new CliError(`bench-shared needs ${1 + CLIENTS * PER_CLIENT} benchmark prompts`);
  const begun = Date.now();
  // one calibration for every engine of the run, measured by the first (a fresh one: see bench.ts)
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'specexec-bench-shared-'));
  const runtimeDir = mkdtempSync(path.join(os.tmpdir(), 'sx-bench-')); // the socket's path must stay short
  const env = { SPECEXEC_CACHE_DIR: cacheDir };
  const params: InitializeParams = {
    targetModelPath: target,
    draftModelPath: models.draft,
    threads: options.threads,
    contextSize: options.contextSize,
  };
  const hostScript = path.join(__dirname, 'engine-host.js');
  const endpoint = endpointFor(params, hostScript, { ...process.env, ...env }, runtimeDir);
  const shared: SharedEngineClient[] = [];
  const privates: EngineSession[] = [];
  const sharedPids = new Set<number>();
  const leaveShared = async () => {
    for (const c of shared.splice(0)) await c.shutdown();
    for (const pid of sharedPids) {
      if (!(await waitForExit(pid, IDLE_EXIT_MS + 15_000))) {
        process.kill(pid, 'SIGTERM');
        throw new Error(`the shared engine ${pid} did not exit after its last client left`);
      }
    }
  };
  const closePrivate = async () => {
    for (const p of privates.splice(0)) await p.close();
  };
  try {
    const results = await measure({
      target,
      draft: models.draft,
      params,
      env,
      plan: options.quick ? PLANS.quick : PLANS.full,
      shortPrompt: prompts[0],
      burstPrompts: prompts.slice(1, 1 + CLIENTS * PER_CLIENT),
      log: (line) => process.stdout.write(`[${((Date.now() - begun) / 1000).toFixed(0).padStart(4)} s] ${line}\n`),
      connect: async () => {
        const c = await SharedEngineClient.connect({ endpoint, hostScript, env, idleExitMs: IDLE_EXIT_MS });
        shared.push(c);
        if (c.pid !== undefined) sharedPids.add(c.pid);
        await c.initialize(params);
        return c;
      },
      openPrivate: async () => {
        const p = await openEngine({ ...options, shared: false, target, draft: models.draft ?? undefined }, env);
        privates.push(p);
        return p;
      },
      leaveShared,
      closePrivate,
    });
    const out = {
      ...results,
      target: { path: path.relative(root, target), description: grown ? GROWN_DESCRIPTION : undefined },
      draft: models.draft && path.relative(root, models.draft),
    };
    process.stdout.write(summary(results));
    const file =
      options.out !== undefined
        ? path.resolve(options.out)
        : path.join(
            root,
            'bench',
            'results',
            `${results.date.slice(0, 10)}-${os.hostname()}${options.quick ? '-quick' : ''}${grown ? '' : '-bundled'}-shared.json`,
          );
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
    process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
    if (!results.interleaving.exact) {
      throw new CliError(`interleaved completions differ from the same prompts alone: ${JSON.stringify(results.interleaving.mismatches)}`);
    }
  } finally {
    await closePrivate();
    await leaveShared().catch(() => undefined);
    rmSync(cacheDir, { recursive: true, force: true });
    rmSync(runtimeDir, { recursive: true, force: true });
  }
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(3)} GB`;

function summary(r: Awaited<ReturnType<typeof measure>>): string {
  const m = r.memory;
  const f = r.fairness;
  const row = (label: string, t: ReturnType<typeof totals>) =>
    `${label.padEnd(36)} PSS ${gb(t.pssBytes)}  RSS ${gb(t.rssBytes)}  (${t.processes} process${t.processes === 1 ? '' : 'es'})\n`;
  return (
    '\nmemory, summed over engine processes, after each client initialized and ran one completion:\n' +
    row('(a) one client, shared engine', m.oneClientShared) +
    row(`(b) ${CLIENTS} clients, one shared engine`, m.threeClientsShared) +
    row(`(c) ${CLIENTS} private engines`, m.threePrivate) +
    `PSS b/a ${m.pssRatioThreeSharedToOne}, c/a ${m.pssRatioThreePrivateToOne}\n` +
    `\nshort completion (${SHORT.maxTokens} tokens) from B: alone ${f.aloneMs} ms, during A's chat ${f.duringChatMs} ms ` +
    `(+${f.differenceMs} ms, ${f.ratio}x; B waited ${f.medianWaitMs} ms for A)\n` +
    `interleaving: ${r.interleaving.exact ? 'exact' : 'NOT exact'}; per-client median latency ${r.interleaving.perClientMedianMs.join(' / ')} ms; ` +
    `burst ${r.interleaving.burstMs} ms (the same prompts one by one: ${r.interleaving.aloneSumMs} ms of generation)\n`
  );
}
