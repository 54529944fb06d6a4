// The recommended draft/target pairs to download. They start from llama.cpp's own presets in the
// pinned source (common/arg.cpp): --fim-qwen-7b-spec and --fim-qwen-14b-spec pair a Qwen2.5-Coder
// target with the 0.5B as the draft; its --fim-qwen-1.5b-default and --fim-qwen-3b-default run the
// smaller targets alone, and here get the same draft (one tokenizer across the family). Repositories
// and file names are copied from arg.cpp; presets.test.ts checks them against it. All are base
// (FIM) models, which is what completion wants; --fim-qwen-30b-default is an instruct model and left out.
//
// Sizes are estimates, not measurements: Qwen2.5-Coder's published parameter counts (its model
// cards: 0.49B, 1.54B, 3.09B, 7.61B, 14.7B) times Q8_0's 34 bytes per 32 weights. They could not be
// checked against the hub offline; the download reads each file's exact size from the hub
// (paths-info) and checks free disk space with it. pairing.ts measures memory exactly from the GGUF
// headers once the files are on disk.
import type { HubFileRef } from './hub-cache';

export interface PresetModel extends HubFileRef {
  /** Published parameter count. */
  parameters: number;
  /** Estimated file size in bytes (see above). */
  approxBytes: number;
}

export interface ModelPreset {
  id: string;
  label: string;
  /** The llama.cpp server flag that runs this target (`-spec`: with this draft too). */
  llamaCppPreset: string;
  draft: PresetModel;
  target: PresetModel;
  /** What the pair is good for, one sentence for a picker. */
  goodFor: string;
}

// Q8_0 stores each block of 32 weights as 32 int8 values and one f16 scale
const Q8_0_BYTES_PER_WEIGHT = 34 / 32;

// Memory beyond the weights, a rule of thumb for models not yet on disk: a share of the weights for
// the KV cache at the default 4,096-token context (the engine keeps it in F32), and a fixed amount
// for the compute buffers, whose logits over a 152k-token vocabulary for a whole draft tree are
// hundreds of MB. pairing.ts computes it from the GGUF headers once the files are downloaded.
const KV_SHARE_OF_WEIGHTS = 0.15;
const COMPUTE_BUFFERS_BYTES = 1 << 30;

function qwenCoderQ8(size: string, parameters: number): PresetModel {
  return {
    repo: `ggml-org/Qwen2.5-Coder-${size}-Q8_0-GGUF`,
    file: `qwen2.5-coder-${size.toLowerCase()}-q8_0.gguf`,
    parameters,
    approxBytes: Math.round(parameters * Q8_0_BYTES_PER_WEIGHT),
  };
}

const DRAFT = qwenCoderQ8('0.5B', 0.49e9);

function qwenCoderPair(size: string, parameters: number, llamaCppPreset: string, goodFor: string): ModelPreset {
  return {
    id: `qwen2.5-coder-${size.toLowerCase()}`,
    label: `Qwen2.5-Coder ${size} + 0.5B draft (Q8_0)`,
    llamaCppPreset,
    draft: DRAFT,
    target: qwenCoderQ8(size, parameters),
    goodFor,
  };
}

/** Smallest target first. */
export const MODEL_PRESETS: readonly ModelPreset[] = [
  qwenCoderPair(
    '1.5B',
    1.54e9,
    '--fim-qwen-1.5b-default',
    'Quick single-line completions on a laptop with 4 GB to spare; the draft buys little at this size.',
  ),
  qwenCoderPair('3B', 3.09e9, '--fim-qwen-3b-default', 'Better completions on 8 GB machines; still fast on a CPU.'),
  qwenCoderPair(
    '7B',
    7.61e9,
    '--fim-qwen-7b-spec',
    "Good multi-line completions with 16 GB of RAM: llama.cpp's own speculative FIM preset.",
  ),
  qwenCoderPair(
    '14B',
    14.7e9,
    '--fim-qwen-14b-spec',
    'The best completions here, for 32 GB of RAM or a GPU streaming the target from RAM; where the draft pays most.',
  ),
];

/** Estimated memory to run the pair: both files' weights, their KV caches and the compute buffers. */
export function presetRamBytes(preset: ModelPreset): number {
  return Math.round((preset.draft.approxBytes + preset.target.approxBytes) * (1 + KV_SHARE_OF_WEIGHTS) + COMPUTE_BUFFERS_BYTES);
}

/** The presets that fit in `availableRamBytes` (what the caller can spare for the models), largest target first. */
export function presetsThatFit(availableRamBytes: number, presets: readonly ModelPreset[] = MODEL_PRESETS): ModelPreset[] {
  return presets.filter((preset) => presetRamBytes(preset) <= availableRamBytes).sort((a, b) => b.target.parameters - a.target.parameters);
}

export function findPreset(id: string): ModelPreset | undefined {
  return MODEL_PRESETS.find((preset) => preset.id === id);
}
