// A MODEL, not a measurement: tokens/s of SpecExec with an offloaded target on consumer GPUs,
// from tokens per target pass against budget (measured by the benchmark, or the paper's) and a
// cost per iteration:
//   t(K) = draft passes x draft pass time + target weights / PCIe bandwidth + 2 x params x (K+1) / FLOP/s
// With the target's weights in RAM, each verification streams all of them over PCIe once (llama.cpp's
// op_offload with n_ubatch >= K+1), so one pass costs about the same for 1 and for hundreds of tokens.

export interface GpuSetup {
  name: string;
  targetBillions: number;
  bitsPerWeight: number;
  draftBillions: number;
  pcieGBs: number; // effective host-to-device bandwidth
  tflops: number; // sustained dense throughput for the verification pass
  draftPassMs: number; // one draft forward (draft resident on the GPU)
}

export const SETUPS: GpuSetup[] = [
  {
    name: 'RTX 4090, PCIe 4.0 x16: Llama-2-70B 4-bit target, 7B draft',
    targetBillions: 70,
    bitsPerWeight: 4.5,
    draftBillions: 7,
    pcieGBs: 25,
    tflops: 80,
    draftPassMs: 12,
  },
  {
    name: 'RTX 4090, PCIe 4.0 x16: Llama-2-70B 16-bit target, 7B draft',
    targetBillions: 70,
    bitsPerWeight: 16,
    draftBillions: 7,
    pcieGBs: 25,
    tflops: 80,
    draftPassMs: 12,
  },
  {
    name: 'RTX 3090, PCIe 4.0 x16: Qwen2.5-Coder-32B 4-bit target, 0.5B draft',
    targetBillions: 32,
    bitsPerWeight: 4.5,
    draftBillions: 0.5,
    pcieGBs: 22,
    tflops: 35,
    draftPassMs: 4,
  },
];

/** Published SpecExec figures (Svirschevski et al., 2024) used for comparison. */
export const PAPER = {
  tokensPerPass: [
    [16, 5.5],
    [64, 9],
    [256, 13],
    [1024, 18],
    [2048, 20],
  ] as [number, number][],
  tokensPerSecond: { '70B 4-bit, RTX 4090': '4-6', '70B 16-bit, RTX 4090': '2-3' },
  note: "Llama-2-7B draft -> Llama-2-70B target; tokens per pass read off the paper's figures (approximate)",
};

export function iterationMs(s: GpuSetup, budget: number): number {
  const transferMs = ((s.targetBillions * 1e9 * s.bitsPerWeight) / 8 / (s.pcieGBs * 1e9)) * 1000;
  const computeMs = ((2 * s.targetBillions * 1e9 * (budget + 1)) / (s.tflops * 1e12)) * 1000;
  const draftPasses = budget === 0 ? 0 : Math.min(32, 1 + Math.ceil(Math.log2(1 + budget)));
  return draftPasses * s.draftPassMs + transferMs + computeMs;
}

export interface ProjectionRow {
  setup: string;
  budget: number;
  iterationMs: number;
  tokensPerPass: number;
  tokensPerSecond: number;
  source: string;
}

/** tokens/s for each setup and budget, from a tokens-per-pass curve. */
export function project(curve: [number, number][], source: string): ProjectionRow[] {
  const rows: ProjectionRow[] = [];
  for (const s of SETUPS) {
    rows.push({
      setup: s.name,
      budget: 0,
      iterationMs: iterationMs(s, 0),
      tokensPerPass: 1,
      tokensPerSecond: 1000 / iterationMs(s, 0),
      source: 'autoregressive',
    });
    for (const [budget, tpp] of curve) {
      const ms = iterationMs(s, budget);
      rows.push({ setup: s.name, budget, iterationMs: ms, tokensPerPass: tpp, tokensPerSecond: (1000 * tpp) / ms, source });
    }
  }
  return rows;
}
