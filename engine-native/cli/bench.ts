// specexec bench: completes the held-out benchmark prompts (bench/prompts.jsonl) and writes
// bench/results/<date>-<machine>.json. Numbers are medians over prompts; no pass/fail.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../host/native';
import type { CompleteParams, CompleteResult, DecodingMode } from '../host/protocol';
import { CliError, openEngine, type ModelFlags } from './session';

interface BenchPrompt {
  prefix: string;
  suffix?: string;
  language?: string;
  source?: string;
}

export interface BenchOptions extends ModelFlags {
  quick: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function loadPrompts(file: string): BenchPrompt[] {
  if (!existsSync(file)) throw new CliError(`benchmark prompts not found: ${file}`);
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as BenchPrompt);
}

export async function runBench(options: BenchOptions): Promise<void> {
  const root = packageRoot();
  const prompts = loadPrompts(path.join(root, 'bench', 'prompts.jsonl')).slice(0, options.quick ? 5 : undefined);
  const maxTokens = options.quick ? 32 : 64;
  const modes: DecodingMode[] = ['autoregressive'];
  const session = await openEngine(options);
  const rows: Record<string, unknown>[] = [];
  try {
    for (const mode of modes) {
      const results: CompleteResult[] = [];
      for (const p of prompts) {
        const prompt: CompleteParams['prompt'] = p.suffix ? { prefix: p.prefix, suffix: p.suffix } : p.prefix;
        results.push(await session.client.complete({ prompt, maxTokens, mode }));
      }
      const row = {
        mode,
        prompts: results.length,
        tokensPerSecond: median(results.map((r) => r.stats.tokensPerSecond)),
        tokensPerTargetPass: median(results.map((r) => r.stats.tokensPerTargetPass)),
        firstTokenMs: median(results.map((r) => r.stats.firstTokenMs)),
        tokensPerSecondMin: Math.min(...results.map((r) => r.stats.tokensPerSecond)),
        tokensPerSecondMax: Math.max(...results.map((r) => r.stats.tokensPerSecond)),
      };
      rows.push(row);
      process.stdout.write(`${mode.padEnd(16)} ${row.tokensPerSecond.toFixed(1)} tok/s (median of ${row.prompts}), ` +
        `${row.tokensPerTargetPass.toFixed(2)} tokens/pass, first token ${row.firstTokenMs.toFixed(1)} ms\n`);
    }
  } finally {
    await session.close();
  }
  const outDir = path.join(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${new Date().toISOString().slice(0, 10)}-${os.hostname()}.json`);
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: os.totalmem() / 2 ** 30 },
    models: session.initialized ? { target: session.initialized.target.path, draft: session.initialized.draft?.path ?? null } : null,
    threads: session.initialized?.threads, maxTokens, quick: options.quick, rows,
  }, null, 2) + '\n');
  process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
}
