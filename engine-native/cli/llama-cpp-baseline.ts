// llama.cpp's own programs, built from the same pinned source (engine-native/tools/build-llama-tools.mjs),
// on the same prompts, models and threads: llama-completion (autoregressive) and
// llama-speculative-simple (a draft chain, its default draft settings).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadAddon } from '../host/native';
import { CliError } from './session';

export interface PlainOrFimPrompt {
  prefix: string;
  suffix?: string;
}

// deepseek-coder's FIM tokens as text: llama.cpp's programs parse special tokens in their prompts
const FIM_TEXT = { prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>' };

/** The prompt texts our engine sees as tokens: FIM prompts spelled with the model's FIM tokens. */
function promptTexts(model: string, prompts: PlainOrFimPrompt[]): string[] {
  const tokenizer = new (loadAddon().Tokenizer)(model);
  try {
    const fim = tokenizer.tokenize(FIM_TEXT.prefix + FIM_TEXT.suffix + FIM_TEXT.middle, true).length === 3;
    return prompts.map((p) => {
      if (!p.suffix) return p.prefix;
      if (!fim)
        throw new CliError(`${path.basename(model)} does not spell its FIM tokens as deepseek-coder does: use prompts without a suffix`);
      return FIM_TEXT.prefix + p.prefix + FIM_TEXT.suffix + p.suffix + FIM_TEXT.middle;
    });
  } finally {
    tokenizer.close();
  }
}

export interface LlamaCppSpeeds {
  /** llama-completion (autoregressive): tokens/s of its eval time. */
  completion: number;
  /** llama-speculative-simple (a draft chain, its default draft settings): tokens/s. */
  speculative: number;
}

export const LLAMA_CPP_PROGRAMS = {
  completion: 'llama-completion (autoregressive)',
  speculative: 'llama-speculative-simple (draft-simple, default draft settings)',
} as const;

function run(bin: string, args: string[]): string {
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
  if (r.status !== 0) throw new CliError(`${path.basename(bin)} failed: ${(r.stderr || '').split('\n').slice(-3).join(' ')}`);
  return `${r.stdout}\n${r.stderr}`;
}

/**
 * Builds llama.cpp's programs and returns a function that runs both on prompt i. The benchmark
 * calls it right beside our own runs of that prompt: this machine's speed drifts over minutes, so
 * a ratio is only fair between runs made at the same time.
 */
export function llamaCppBaseline(
  root: string,
  target: string,
  draft: string,
  prompts: PlainOrFimPrompt[],
  maxTokens: number,
  threads: number,
): (i: number) => LlamaCppSpeeds {
  execFileSync(process.execPath, [path.join(root, 'engine-native', 'tools', 'build-llama-tools.mjs')], { stdio: 'inherit' });
  const bin = (name: string) => path.join(root, 'build', 'llama-tools', 'bin', name);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'specexec-bench-'));
  const files = promptTexts(target, prompts).map((text, i) => {
    const file = path.join(dir, `prompt-${i}.txt`);
    writeFileSync(file, text);
    return file;
  });
  return (i) => {
    const common = ['-f', files[i], '-n', String(maxTokens), '-t', String(threads), '--temp', '0', '-c', '4096'];
    const ar = run(bin('llama-completion'), ['-m', target, ...common, '-no-cnv', '--no-warmup']);
    const m1 = /eval time =\s+[\d.]+ ms \/\s+\d+ runs\s+\(\s*[\d.]+ ms per token,\s+([\d.]+) tokens per second\)/.exec(ar);
    const sp = run(bin('llama-speculative-simple'), ['-m', target, '-md', draft, ...common, '--spec-type', 'draft-simple']);
    const m2 = /decoded\s+\d+ tokens in\s+[\d.]+ seconds, speed:\s+([\d.]+) t\/s/.exec(sp);
    if (!m1 || !m2) throw new CliError("could not read the speed from llama.cpp's output");
    return { completion: Number(m1[1]), speculative: Number(m2[1]) };
  };
}
