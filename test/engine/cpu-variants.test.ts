// One portable addon for every CPU: each CPU variant this machine can run, forced with
// SPECEXEC_CPU_VARIANT, and older CPUs emulated by qemu-user (the engine host process runs under
// `qemu-x86_64 -cpu MODEL`, so cpuid reports that CPU and any newer instruction would be SIGILL)
// load the bundled pair and give this machine's greedy completions token for token.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import type { EngineClient } from '../../engine-native/host/engine-client';
import { defaultDraftModel, defaultTargetModel } from '../../engine-native/host/bundled-models';
import { testingAddon } from '../helpers/testing-addon';
import { ErrorCodes, type CpuInfo, type DecodingMode } from '../../engine-native/host/protocol';
import { startEngine } from '../helpers/engine';
import { CODE_PROMPTS } from '../helpers/prompts';

const PROMPTS = CODE_PROMPTS.filter((_p, i) => i % 10 === 0); // one of each language
const MAX_TOKENS = 24;
const MODES: DecodingMode[] = ['autoregressive', 'specexec'];
/** CPUs without what this machine has: qemu 7.2's TCG emulates up to AVX2, not AVX-512 or AMX. */
const EMULATED = [
  { model: 'Nehalem', variant: 'sse42', lacks: 'AVX' },
  { model: 'Haswell', variant: 'haswell', lacks: 'AVX-512' },
];

const cpu: CpuInfo = testingAddon().systemInfo().cpu;
const qemu = spawnSync('qemu-x86_64', ['--version']).status === 0;
const portable = cpu.variant !== 'native';

type Completions = Record<DecodingMode, number[][]>;
/** The target's BOS token when its prompts start with one (set from the reference run). */
let bos: number[] = [];

async function greedy(engine: EngineClient): Promise<{ cpu: CpuInfo; completions: Partial<Completions> }> {
  const info = await engine.initialize({ targetModelPath: defaultTargetModel(), draftModelPath: defaultDraftModel(), threads: 2 });
  bos = info.target.addBos ? [info.target.specialTokens.bos!] : [];
  const completions: Partial<Completions> = {};
  for (const mode of MODES) {
    completions[mode] = [];
    for (const prompt of PROMPTS) {
      const r = await engine.complete({ prompt, maxTokens: MAX_TOKENS, temperature: 0, mode, budget: 8 });
      completions[mode]!.push(r.tokens);
    }
  }
  return { cpu: info.cpu, completions };
}

/**
 * Kernels of different instruction sets round differently, so where the target's two best tokens
 * are within float noise of each other (0.05 here: what decoding one token at a time instead of
 * one batch moves a logit, measured in sampling.test.ts) either may win. Any other difference
 * is a wrong token.
 */
const TIE_LOGITS = 0.05;

/** The first token where two runs part on a prompt that is not such a tie ('' when none). */
function firstDifference(a: Partial<Completions>, b: Partial<Completions>): string {
  const addon = testingAddon();
  const tokenizer = new addon.Tokenizer(defaultTargetModel());
  try {
    for (const mode of MODES) {
      for (let i = 0; i < PROMPTS.length; i++) {
        const x = a[mode]![i],
          y = b[mode]![i];
        const at = x.findIndex((t, j) => t !== y[j]);
        if (at < 0 && x.length === y.length) continue;
        if (at >= 0) {
          const history = Uint32Array.from([...bos, ...tokenizer.tokenize(PROMPTS[i], false), ...y.slice(0, at)]);
          const all = addon.evalLogits(defaultTargetModel(), history, 2);
          const logits = all.subarray(all.length - tokenizer.vocabSize());
          if (Math.abs(logits[x[at]] - logits[y[at]]) < TIE_LOGITS) continue; // a tie broken the other way
        }
        return `${mode}, prompt ${i}: token ${at} of ${x.join(',')} vs ${y.join(',')}`;
      }
    }
    return '';
  } finally {
    tokenizer.close();
  }
}

describe('CPU variants of the portable addon', { skip: !portable && 'a native build has one set of kernels' }, () => {
  // emulated timings must not land in the user's calibration cache
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'specexec-cpu-'));
  let reference: Partial<Completions>;

  before(async () => {
    const engine = startEngine({ SPECEXEC_CACHE_DIR: cacheDir });
    try {
      const r = await greedy(engine);
      reference = r.completions;
      assert.equal(r.cpu.variant, cpu.variant);
    } finally {
      await engine.shutdown();
    }
  });
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  test('the best variant this CPU can run is the one in use', () => {
    const best = cpu.variants.reduce((a, b) => (b.score > a.score ? b : a));
    assert.equal(cpu.variant, best.name);
    assert.ok(cpu.featuresSeen.length > 0, 'cpuid reported no extensions');
    assert.equal(firstDifference({ ...reference, specexec: reference.autoregressive }, reference), '');
  });

  for (const variant of cpu.variants.filter((v) => v.score > 0 && v.name !== cpu.variant)) {
    test(`variant ${variant.name} (forced) gives the same greedy tokens`, async () => {
      const engine = startEngine({ SPECEXEC_CACHE_DIR: cacheDir, SPECEXEC_CPU_VARIANT: variant.name });
      try {
        const r = await greedy(engine);
        assert.equal(r.cpu.variant, variant.name);
        assert.equal(firstDifference(r.completions, reference), '');
      } finally {
        await engine.shutdown();
      }
    });
  }

  test('a variant this CPU cannot run, or one the build lacks, is refused with the list', async () => {
    const unsupported = cpu.variants.find((v) => v.score === 0)?.name;
    for (const name of [unsupported, 'pentium4'].filter((n): n is string => n !== undefined)) {
      const engine = startEngine({ SPECEXEC_CACHE_DIR: cacheDir, SPECEXEC_CPU_VARIANT: name });
      try {
        await assert.rejects(
          engine.initialize({ targetModelPath: defaultTargetModel(), draftModelPath: defaultDraftModel() }),
          (e: ResponseError<unknown>) =>
            e.code === ErrorCodes.BackendUnavailable && e.message.includes(name) && e.message.includes(cpu.variant),
        );
      } finally {
        await engine.shutdown();
      }
    }
  });

  describe('older CPUs under qemu-user', { skip: process.arch !== 'x64' && 'x86-64 hosts only' }, () => {
    for (const { model, variant, lacks } of EMULATED) {
      test(`${model} (no ${lacks}): variant ${variant}, the same greedy tokens`, { timeout: 600_000 }, async () => {
        assert.ok(qemu, 'qemu-x86_64 is missing: apt-get install qemu-user (see README, Requirements)');
        const engine = startEngine({ SPECEXEC_CACHE_DIR: cacheDir }, ['qemu-x86_64', '-cpu', model]);
        try {
          const r = await greedy(engine);
          assert.equal(r.cpu.variant, variant, `cpuid under qemu: ${r.cpu.featuresSeen.join(' ')}`);
          assert.equal(firstDifference(r.completions, reference), '');
        } finally {
          await engine.shutdown(30_000);
        }
      });
    }
  });
});
