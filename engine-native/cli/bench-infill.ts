// specexec bench-infill: the peer a user would pick, llama.cpp's own llama-server (what
// llama.vscode talks to), built from the same pinned source, timed on its /infill beside our
// engine in the same run: the same held-out prompts (bench/prompts.jsonl) cut to the extension's
// window, the same extra chunks (chosen from the other files as the extension chooses them), the
// grown 1.1B-shaped target, threads and context. llama-server runs with the settings llama.vscode
// uses (cache_prompt, --cache-reuse 256, a 1024-token batch, input_extra); both decode greedily.
// Per prompt: a cold request (a file the caches have not seen) and a warm one (two characters typed
// at the cursor). Time to first token and tokens/s; writes bench/results/<date>-<host>-infill.json.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHUNK_DEFAULTS, chooseChunks, chunkFile } from '../../extension/completion/chunks';
import { prefixWindow, suffixWindow } from '../../extension/completion/prompt';
import { percentileOf } from '../../extension/completion/latency';
import { packageRoot } from '../host/native';
import type { CompleteResult, ExtraChunk, FimPrompt } from '../host/protocol';
import { ensureGrownTarget, GROWN_DESCRIPTION } from './grown-target';
import { CliError, openEngine, resolveModels } from './session';

export interface InfillBenchOptions {
  quick: boolean;
  threads?: number;
}

interface HeldOut {
  id: string;
  language: string;
  prefix: string;
  suffix: string;
  expected: string;
}

/** The extension's default window (package.json's specexec.context.* defaults), the context and the completion length. */
const WINDOW = { prefixLines: 100, suffixLines: 30, prefixChars: 6000, suffixChars: 2000, extraChars: 1500 };
const [CONTEXT, MAX_TOKENS] = [4096, 64];

interface ServerTimings {
  prompt_n: number;
  prompt_ms: number;
  predicted_n: number;
  predicted_ms: number;
}

interface Sample {
  prompt: string;
  request: 'cold' | 'warm';
  ours: { firstTokenMs: number; tokensPerSecond: number; promptTokens: number; tokens: number; elapsedMs: number };
  server: {
    firstTokenMs: number;
    tokensPerSecond: number;
    promptTokensEvaluated: number;
    cachedTokens: number;
    tokens: number;
    roundTripMs: number;
  };
  sameText: boolean;
}

function loadHeldOut(root: string): HeldOut[] {
  return readFileSync(path.join(root, 'bench', 'prompts.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as HeldOut)
    .filter((p) => p.suffix !== undefined && p.expected.length >= 2);
}

/** The prompt the extension would send for a file: its window, and chunks of the other files chosen by similarity. */
function promptFor(file: HeldOut, others: HeldOut[], typed: string): FimPrompt {
  const text = file.prefix + typed + file.suffix;
  const offset = file.prefix.length + typed.length;
  const prefix = prefixWindow(text, offset, WINDOW.prefixLines, WINDOW.prefixChars);
  const suffix = suffixWindow(text, offset, WINDOW.suffixLines, WINDOW.suffixChars);
  const candidates = others.flatMap((o) => chunkFile({ path: `${o.id}.${o.language}`, text: o.prefix + o.suffix }, CHUNK_DEFAULTS.lines));
  const extra: ExtraChunk[] = chooseChunks(candidates, prefix.split('\n').slice(-24).join('\n'), {
    ...CHUNK_DEFAULTS,
    maxChars: WINDOW.extraChars,
  });
  return { prefix, suffix, extra };
}

async function startServer(bin: string, model: string, threads: number): Promise<{ url: string; stop: () => void }> {
  const port = 18000 + Math.floor(Math.random() * 2000);
  const args = ['-m', model, '-t', String(threads), '-tb', String(threads), '-c', String(CONTEXT), '--port', String(port), '-np', '1'];
  args.push('--cache-reuse', '256', '-b', '1024', '-ub', '1024', '--no-webui');
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (const end = Date.now() + 300_000; Date.now() < end;) {
    if (proc.exitCode !== null) throw new CliError(`llama-server exited (${proc.exitCode}): ${log.slice(-600)}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, stop: () => proc.kill() };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  proc.kill();
  throw new CliError(`llama-server did not become ready: ${log.slice(-600)}`);
}

/** One /infill request as llama.vscode sends it (greedy here, and without its time limits). */
async function infill(url: string, prompt: FimPrompt): Promise<{ content: string; timings: ServerTimings; cached: number; ms: number }> {
  const t0 = Date.now();
  const res = await fetch(`${url}/infill`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      input_prefix: prompt.prefix,
      input_suffix: prompt.suffix,
      input_extra: prompt.extra,
      prompt: '',
      n_predict: MAX_TOKENS,
      temperature: 0,
      top_k: 1,
      cache_prompt: true,
      stream: false,
    }),
  });
  if (!res.ok) throw new CliError(`llama-server /infill answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { content: string; timings: ServerTimings; tokens_cached?: number };
  return { content: body.content, timings: body.timings, cached: body.tokens_cached ?? 0, ms: Date.now() - t0 };
}

const OUR_FIELDS = ['firstTokenMs', 'tokensPerSecond', 'promptTokens', 'tokens', 'elapsedMs'] as const;

function ours(r: CompleteResult): Sample['ours'] {
  return Object.fromEntries(OUR_FIELDS.map((k) => [k, r.stats[k]])) as Sample['ours'];
}

function server(r: Awaited<ReturnType<typeof infill>>): Sample['server'] {
  const t = r.timings;
  const perToken = t.predicted_n > 0 ? t.predicted_ms / t.predicted_n : 0;
  return {
    // the prompt's evaluation yields the first token's logits; its sampling is a token's share of the rest
    firstTokenMs: t.prompt_ms + perToken,
    tokensPerSecond: t.predicted_n > 1 ? ((t.predicted_n - 1) * 1000) / (t.predicted_ms - perToken) : 0,
    promptTokensEvaluated: t.prompt_n,
    cachedTokens: r.cached,
    tokens: t.predicted_n,
    roundTripMs: r.ms,
  };
}

const median = (xs: number[]) => percentileOf(xs, 50) ?? NaN;

export async function runInfillBench(options: InfillBenchOptions): Promise<void> {
  const root = packageRoot();
  execFileSync(process.execPath, [path.join(root, 'engine-native', 'tools', 'build-llama-tools.mjs'), '--server'], { stdio: 'inherit' });
  const models = resolveModels({});
  const target = ensureGrownTarget(root, models.target);
  const heldOut = loadHeldOut(root);
  const files = heldOut.slice(0, options.quick ? 6 : 16);
  const session = await openEngine({ draft: models.draft ?? undefined, target, threads: options.threads, contextSize: CONTEXT });
  const threads = session.initialized!.threads;
  const srv = await startServer(path.join(root, 'build', 'llama-tools', 'bin', 'llama-server'), target, threads);
  const samples: Sample[] = [];
  try {
    for (const file of files) {
      const others = heldOut.filter((o) => o.id !== file.id && o.language === file.language).slice(0, 3);
      for (const [request, typed] of [
        ['cold', ''],
        ['warm', file.expected.slice(0, 2)],
      ] as const) {
        const prompt = promptFor(file, others, typed);
        const a = await session.client.complete({ prompt, maxTokens: MAX_TOKENS, temperature: 0, budget: 'auto' });
        const b = await infill(srv.url, prompt);
        samples.push({ prompt: file.id, request, ours: ours(a), server: server(b), sameText: a.text === b.content });
        const s = samples.at(-1)!;
        console.log(
          `${file.id} ${request}: first token ${s.ours.firstTokenMs.toFixed(0)} ms (llama-server ${s.server.firstTokenMs.toFixed(0)} ms), ` +
            `${s.ours.tokensPerSecond.toFixed(1)} tok/s (llama-server ${s.server.tokensPerSecond.toFixed(1)}), ` +
            `prompt ${s.ours.promptTokens} tokens (llama-server evaluated ${s.server.promptTokensEvaluated}, cached ${s.server.cachedTokens})${s.sameText ? '' : ', texts differ'}`,
        );
      }
    }
  } finally {
    srv.stop();
    await session.close();
  }
  const summary = Object.fromEntries(
    (['cold', 'warm'] as const).map((request) => {
      const of = samples.filter((s) => s.request === request);
      const oursTtft = median(of.map((s) => s.ours.firstTokenMs));
      const serverTtft = median(of.map((s) => s.server.firstTokenMs));
      const oursTps = median(of.map((s) => s.ours.tokensPerSecond));
      const serverTps = median(of.map((s) => s.server.tokensPerSecond));
      return [
        request,
        {
          firstTokenMsP50: { ours: +oursTtft.toFixed(0), llamaServer: +serverTtft.toFixed(0), ratio: +(oursTtft / serverTtft).toFixed(2) },
          tokensPerSecondP50: { ours: +oursTps.toFixed(1), llamaServer: +serverTps.toFixed(1), ratio: +(oursTps / serverTps).toFixed(2) },
          sameText: of.filter((s) => s.sameText).length,
          n: of.length,
        },
      ];
    }),
  );
  console.log(JSON.stringify(summary, null, 1));
  const outDir = path.join(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${new Date().toISOString().slice(0, 10)}-${os.hostname()}${options.quick ? '-quick' : ''}-infill.json`);
  const machine = {
    hostname: os.hostname(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
  };
  const settings = {
    target: GROWN_DESCRIPTION,
    threads,
    contextSize: CONTEXT,
    maxTokens: MAX_TOKENS,
    window: WINDOW,
    ours: "budget 'auto'",
    llamaServer: '--cache-reuse 256 -b 1024 -ub 1024 -np 1, cache_prompt, greedy',
  };
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), machine, settings, summary, samples }, null, 1) + '\n');
  console.log(`wrote ${file}`);
}
