#!/usr/bin/env node
// specexec: the command line over the engine host process (the same one VS Code uses).
//   specexec complete [--draft FILE] [--target FILE] (--prompt TEXT | --prompt-file FILE) [--suffix TEXT]
//                     [--mode specexec|specinfer|chain|autoregressive] [--budget N|auto] [--max-depth N]
//                     [--draft-max N] [--draft-p-min P] [--max-tokens N] [--temperature T] [--top-k K]
//                     [--top-p P] [--seed S] [--stop STR]... [--threads N] [--context N] [--json]
//                     [--target-gpu-layers N] [--draft-gpu-layers N] [--vram-budget MIB] [--shared [--idle-exit S]]
//   specexec info [--model FILE]
//   specexec demo
//   specexec bench [--quick] [--no-llama-cpp] [--no-grown] [--draft FILE] [--target FILE] [--extra-target LABEL=FILE]... [--threads N]
//   specexec bench-cpu
//   specexec bench-shared [--quick] [--no-grown] [--draft FILE] [--target FILE] [--threads N] [--context N] [--out FILE]
//   specexec bench-infill [--quick] [--threads N]
//   specexec grow-target [--target FILE] [--out FILE]
//   specexec models scan [--folder DIR]... [--vram-budget MIB] [--json] | specexec models pull PRESET|ORG/NAME:FILE.gguf
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import * as path from 'node:path';
import { runBench } from './bench';
import { runCpuBench } from './bench-cpu';
import { runInfillBench } from './bench-infill';
import { runSharedBench } from './bench-shared';
import { resolveModelSpecs, runModelsCommand } from './models';
import type { ResponseError } from 'vscode-jsonrpc/node';
import type { CrashData } from '../host/engine-client';
import { ensureGrownTarget, growTarget, GROWN_DESCRIPTION } from './grown-target';
import { addonPath, loadAddon, packageRoot } from '../host/native';
import { CliError, openEngine, resolveModels, summary, type ModelFlags } from './session';
import { describeCpu, type CompleteParams, type CompleteResult, type DecodingMode, type InitializeResult } from '../host/protocol';

const USAGE = `usage:
  specexec complete [--draft FILE] [--target FILE] (--prompt TEXT | --prompt-file FILE) [--suffix TEXT]
                    [--mode specexec|specinfer|chain|autoregressive] [--budget N|auto] [--max-depth N]
                    [--draft-max N] [--draft-p-min P] [--max-tokens N] [--temperature T] [--top-k K]
                    [--top-p P] [--seed S] [--stop STRING]... [--threads N] [--context N] [--json]
                    [--target-gpu-layers N] [--draft-gpu-layers N] [--vram-budget MIB] [--shared [--idle-exit S]]
  specexec info [--model FILE]
  specexec demo
  specexec bench [--quick] [--no-llama-cpp] [--no-grown] [--draft FILE] [--target FILE] [--extra-target LABEL=FILE]... [--threads N]
  specexec bench-cpu
  specexec bench-shared [--quick] [--no-grown] [--draft FILE] [--target FILE] [--threads N] [--context N] [--out FILE]
  specexec bench-infill [--quick] [--threads N]
  specexec grow-target [--target FILE] [--out FILE]
  specexec models scan [--folder DIR]... [--vram-budget MIB] [--json]
  specexec models pull PRESET|ORG/NAME:FILE.gguf
models scan lists the GGUF models already on this machine (Hugging Face and llama.cpp caches, LM Studio,
Ollama, --folder) and the draft/target pairs among them, placed in the GPU's free memory (or --vram-budget)
on a GPU build; models pull downloads a preset pair or one file
into the Hugging Face cache (HF_ENDPOINT: a mirror; HF_TOKEN: gated repositories). --target and --draft
take a file, a preset or ORG/NAME:FILE.gguf once downloaded; a preset as --target brings its draft.
Omitted model paths mean the bundled models (models/specexec-{draft,target}.gguf). The default mode
is specexec with an automatic budget when a draft model is loaded (--target alone: autoregressive).
GPU builds (SPECEXEC_NATIVE_BUILD=build-vulkan): --target-gpu-layers / --draft-gpu-layers place layers
on the GPU (-1: all, the default), --vram-budget MIB chooses both to fit that much VRAM; the rest of
the target stays in RAM and is streamed to the GPU once per verified tree. info lists the devices.
--shared uses the engine that VS Code windows with the same models and settings share (starting it
if none runs; it stays --idle-exit S seconds, default 300, after its last client) instead of a private one.
bench runs the bundled draft with the trained target and with the GROWN target (the trained target
grown to a real 1.1B shape, the realistic regime: grow-target builds it, cached under build/grown/),
and llama.cpp's own programs on the same prompts (built from the pinned source on first use).
bench-cpu compares, on the grown target, the portable build's CPU variant with a native build
(build-native/, when built) and, on a CPU with AMX, with AMX off. bench-shared measures the shared
engine on the grown target (--no-grown: the bundled pair): the memory of one and of three clients on
it against three private engines, a short completion's latency alone and during another client's
chat, and three clients' completions at once (bench/results/DATE-HOST-shared.json, or --out FILE).
bench-infill times llama.cpp's llama-server /infill (built from the pinned source, with the settings
llama.vscode uses) beside this engine on the grown target: time to first token and tokens/s, cold
and warm, on the same prompts and extra chunks (bench/results/DATE-HOST-infill.json).
info names the CPU variant in use;
SPECEXEC_CPU_VARIANT=NAME forces one.`;

// parseArgs options: most take one value (read as a string, parsed where it is used) or none
const VALUE_OPTIONS = [
  'draft',
  'target',
  'model',
  'prompt',
  'prompt-file',
  'suffix',
  'mode',
  'budget',
  'max-depth',
  'draft-max',
  'draft-p-min',
  'max-tokens',
  'temperature',
  'top-k',
  'top-p',
  'seed',
  'threads',
  'context',
  'target-gpu-layers',
  'draft-gpu-layers',
  'vram-budget',
  'idle-exit',
  'out',
];
const SWITCHES = ['shared', 'no-llama-cpp', 'no-grown', 'json', 'quick'];
const OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  ...Object.fromEntries(VALUE_OPTIONS.map((name) => [name, { type: 'string' } as const])),
  ...Object.fromEntries(SWITCHES.map((name) => [name, { type: 'boolean' } as const])),
  stop: { type: 'string', multiple: true },
  'extra-target': { type: 'string', multiple: true },
  folder: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
};

type Flags = Record<string, string | string[] | boolean | undefined>;

function numberFlag(flags: Flags, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new CliError(`--${name} expects a number, got '${v}'`);
  return n;
}

function modelFlags(flags: Flags): ModelFlags {
  return {
    draft: flags.draft as string | undefined,
    target: flags.target as string | undefined,
    threads: numberFlag(flags, 'threads'),
    contextSize: numberFlag(flags, 'context'),
    targetGpuLayers: numberFlag(flags, 'target-gpu-layers'),
    draftGpuLayers: numberFlag(flags, 'draft-gpu-layers'),
    vramBudgetMiB: numberFlag(flags, 'vram-budget'),
    shared: flags.shared as boolean | undefined,
    idleExitMs: flags['idle-exit'] === undefined ? undefined : numberFlag(flags, 'idle-exit')! * 1000,
  };
}

function promptFrom(flags: Flags): CompleteParams['prompt'] {
  if (flags.prompt !== undefined && flags['prompt-file'] !== undefined) throw new CliError('give --prompt or --prompt-file, not both');
  let text: string;
  if (typeof flags.prompt === 'string') text = flags.prompt;
  else if (typeof flags['prompt-file'] === 'string') {
    try {
      text = readFileSync(flags['prompt-file'], 'utf8');
    } catch (e) {
      throw new CliError(`cannot read --prompt-file: ${(e as Error).message}`);
    }
  } else throw new CliError('complete needs --prompt TEXT or --prompt-file FILE');
  return typeof flags.suffix === 'string' ? { prefix: text, suffix: flags.suffix } : text;
}

async function complete(flags: Flags): Promise<void> {
  const params: CompleteParams = {
    prompt: promptFrom(flags),
    mode: flags.mode as DecodingMode | undefined,
    budget: flags.budget === undefined || flags.budget === 'auto' ? undefined : numberFlag(flags, 'budget'),
    maxDepth: numberFlag(flags, 'max-depth'),
    draftMax: numberFlag(flags, 'draft-max'),
    draftPMin: numberFlag(flags, 'draft-p-min'),
    maxTokens: numberFlag(flags, 'max-tokens'),
    temperature: numberFlag(flags, 'temperature'),
    topK: numberFlag(flags, 'top-k'),
    topP: numberFlag(flags, 'top-p'),
    seed: numberFlag(flags, 'seed'),
    stop: flags.stop as string[] | undefined,
  };
  const session = await openEngine(modelFlags(flags));
  const interrupt = () => session.cancel.cancel();
  process.once('SIGINT', interrupt);
  try {
    const onDelta = flags.json ? undefined : (delta: string) => process.stdout.write(delta);
    const result = await session.client.complete(params, onDelta, session.cancel.token);
    if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
    else process.stdout.write('\n');
  } finally {
    process.off('SIGINT', interrupt);
    await session.close();
  }
}

async function info(flags: Flags): Promise<void> {
  const session = await openEngine({ ...modelFlags(flags), load: false });
  try {
    const models =
      typeof flags.model === 'string' ? [flags.model] : (Object.values(resolveModels(modelFlags(flags))).filter(Boolean) as string[]);
    const out = [];
    for (const m of models) out.push(await session.client.inspectModel(m));
    // the devices of the addon the engine host loads (the same file: SPECEXEC_NATIVE_BUILD applies to both)
    const addon = loadAddon();
    const report = { addon: addonPath(), cpu: addon.systemInfo().cpu, devices: addon.devices(), models: out.length === 1 ? out[0] : out };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } finally {
    await session.close();
  }
}

const MODELS_HINT =
  'specexec models scan (the GGUFs already on this machine), specexec models pull PRESET, or "SpecExec: Choose Models…" in VS Code.';

const DEMO_PROMPT = 'import os\n\n\ndef read_lines(path):\n    """Return the lines of a text file without trailing newlines."""\n';

/** Why the demo pair shows what it shows, from what this run measured, and where real models come from. */
function demoVerdict(init: InitializeResult, speculative: CompleteResult, autoregressive: CompleteResult): string {
  const lines: string[] = [];
  const ratio = speculative.stats.tokensPerSecond / autoregressive.stats.tokensPerSecond;
  if (init.draft && ratio < 1) {
    const sizeRatio = init.target.parameters / init.draft.parameters;
    lines.push(
      `Why specexec with a budget of ${speculative.stats.budget} ran at ${ratio.toFixed(2)}x autoregressive's speed here: the bundled target is only ${sizeRatio.toFixed(1)}x its draft's ` +
        `parameters, so a draft pass costs about what a target pass does and no tree of guesses pays for itself (the automatic budget measures that and uses little or no draft). SpecExec pays ` +
        `when the target is many times the draft (e.g. Qwen2.5-Coder 7B with 0.5B; npm run bench shows it on a 1.1B-shaped target).`,
    );
  }
  lines.push(`The demo pair is not a useful code model. Real models: ${MODELS_HINT}`);
  return lines.join('\n');
}

async function demo(): Promise<void> {
  const session = await openEngine({});
  try {
    const init = session.initialized!;
    process.stdout.write(
      `target: ${init.target.path} (${init.target.description}, ${(init.target.parameters / 1e6).toFixed(1)}M params)\n`,
    );
    if (init.draft)
      process.stdout.write(`draft:  ${init.draft.path} (${init.draft.description}, ${(init.draft.parameters / 1e6).toFixed(1)}M params)\n`);
    process.stdout.write(
      `threads: ${init.threads}, modes: ${init.modes.join(', ')}, CPU kernels: ${describeCpu(init.cpu)}\n\n--- prompt ---\n${DEMO_PROMPT}--- completion ---\n`,
    );
    const result = await session.client.complete({ prompt: DEMO_PROMPT, maxTokens: 64, mode: 'specexec', budget: 16 }, (d) =>
      process.stdout.write(d),
    );
    process.stdout.write(`\n--- stats: specexec, budget 16 ---\n${summary(result)}\n`);
    let autoregressive: CompleteResult | undefined;
    for (const [name, params] of [
      ['autoregressive', { mode: 'autoregressive' }],
      ['specexec, automatic budget', { mode: 'specexec' }],
    ] as const) {
      const r = await session.client.complete({ prompt: DEMO_PROMPT, maxTokens: 64, ...params });
      autoregressive ??= r;
      process.stdout.write(`--- ${name}: ${r.text === result.text ? 'identical text' : 'DIFFERENT text'} ---\n${summary(r)}\n`);
    }
    process.stdout.write(`\n${demoVerdict(init, result, autoregressive!)}\n`);
  } finally {
    await session.close();
  }
}

function growTargetCommand(flags: Flags): void {
  const source = resolveModels({ target: flags.target as string | undefined }).target;
  const out = typeof flags.out === 'string' ? path.resolve(flags.out) : ensureGrownTarget(packageRoot(), source);
  if (typeof flags.out === 'string') growTarget(packageRoot(), source, out);
  process.stdout.write(`${out}\n${GROWN_DESCRIPTION}\n`);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  let flags: Flags;
  let positionals: string[];
  try {
    const parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: command === 'models', strict: true });
    flags = parsed.values as Flags;
    positionals = parsed.positionals;
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n${USAGE}`);
  }
  if (flags.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (command === 'models')
    return runModelsCommand(positionals, {
      folder: flags.folder as string[] | undefined,
      json: flags.json as boolean | undefined,
      vramBudgetMiB: numberFlag(flags, 'vram-budget'),
    });
  Object.assign(flags, await resolveModelSpecs({ target: flags.target as string | undefined, draft: flags.draft as string | undefined }));
  switch (command) {
    case 'complete':
      return complete(flags);
    case 'info':
      return info(flags);
    case 'demo':
      return demo();
    case 'bench':
      return runBench({
        ...modelFlags(flags),
        quick: Boolean(flags.quick),
        llamaCpp: !flags['no-llama-cpp'],
        grown: !flags['no-grown'],
        extraTargets: ((flags['extra-target'] as string[] | undefined) ?? []).map((t) => {
          const eq = t.indexOf('=');
          if (eq <= 0) throw new CliError(`--extra-target expects LABEL=FILE, got '${t}'`);
          return { label: t.slice(0, eq), path: t.slice(eq + 1) };
        }),
      });
    case 'bench-cpu':
      return runCpuBench();
    case 'bench-shared':
      return runSharedBench({
        ...modelFlags(flags),
        quick: Boolean(flags.quick),
        grown: !flags['no-grown'],
        out: flags.out as string | undefined,
      });
    case 'bench-infill':
      return runInfillBench({ quick: Boolean(flags.quick), threads: flags.threads === undefined ? undefined : Number(flags.threads) });
    case 'grow-target':
      return growTargetCommand(flags);
    default:
      throw new CliError(`unknown command '${command}'\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`specexec: ${(e as Error).message}\n`);
  const logTail = ((e as ResponseError<CrashData>).data as CrashData | undefined)?.logTail;
  if (logTail?.length) process.stderr.write(`the engine's last log lines:\n${logTail.join('\n')}\n`);
  process.exitCode = 1;
});
