// The JSON-RPC 2.0 protocol between the engine host process and its clients (the VS Code
// extension and the CLI). One file, imported by all three, so they cannot drift apart.
// Framing: vscode-jsonrpc's Content-Length headers over the host's stdin/stdout.
import { NotificationType, NotificationType0, RequestType, RequestType0 } from 'vscode-jsonrpc';

export const PROTOCOL_VERSION = 1;

/**
 * The value the host uses for each omitted parameter: declared here once. The engine's C++
 * defaults (src/engine.h, src/sampler.h) equal these (a unit test checks); the extension's settings
 * (package.json) equal them or differ on purpose, as test/unit/extension/settings.test.ts lists.
 */
export const DEFAULTS = {
  initialize: { threads: 0, contextSize: 4096, draftGpuLayers: -1, targetGpuLayers: -1, vramBudgetMiB: 0, maxBudget: 1024 },
  sampling: { maxTokens: 128, temperature: 0, topK: 0, topP: 1, seed: 0, maxDepth: 32, draftMax: 16, draftPMin: 0.75 },
} as const;

/**
 * autoregressive: the target alone, one token per pass.
 * specexec: SpecExec, a best-first draft tree verified in one target pass (needs a draft).
 * specinfer: a SpecInfer-shaped tree (top-k children level by level), verified the same way.
 * chain: a greedy draft chain, as llama.cpp's speculative-simple.
 * Every mode gives exactly the target's output: greedy output is identical, sampled output has the
 * target's distribution (and, for a fixed seed, is identical too up to floating-point ties).
 */
export type DecodingMode = 'autoregressive' | 'specexec' | 'specinfer' | 'chain';
export const DECODING_MODES: readonly DecodingMode[] = ['autoregressive', 'specexec', 'specinfer', 'chain'];

/** Omitted fields take DEFAULTS.initialize. */
export interface InitializeParams {
  /** Small draft model (GGUF). Omitted or null: no draft, autoregressive decoding only. */
  draftModelPath?: string | null;
  /** The large code model whose output the user gets (GGUF). */
  targetModelPath: string;
  /** CPU threads for llama.cpp; 0: the hardware threads, at most 16. */
  threads?: number;
  /** Context size in tokens for each model. */
  contextSize?: number;
  /**
   * Layers of each model on the GPU (GPU builds only; llama.cpp's count, where the output head is
   * the last layer); -1: all. A target that does not fit stays partly or wholly in RAM: with
   * op_offload its layers are streamed to the GPU once per verified tree.
   */
  draftGpuLayers?: number;
  targetGpuLayers?: number;
  /**
   * VRAM (MiB) the engine may use on the GPU; 0: none. When set, it replaces both GPU
   * layer counts: the whole draft and as many target layers as fit, estimated from the GGUF tensor
   * sizes, the KV cache and the compute scratch.
   */
  vramBudgetMiB?: number;
  /** Largest draft tree the contexts are sized for. */
  maxBudget?: number;
}

export interface FimTokens {
  prefix: number;
  suffix: number;
  middle: number;
  /** Repository-level FIM (llama.cpp's FIM_REP, FIM_SEP; e.g. Qwen2.5-Coder's <|repo_name|>, <|file_sep|>), null when the model has none. */
  repo: number | null;
  fileSeparator: number | null;
}

export interface ModelInfo {
  path: string;
  architecture: string;
  name: string;
  description: string;
  parameters: number;
  sizeBytes: number;
  layers: number;
  embeddingSize: number;
  trainedContext: number;
  vocabSize: number;
  vocabType: string;
  addBos: boolean;
  specialTokens: { bos: number | null; eos: number | null; eot: number | null };
  /** Fill-in-the-middle tokens, null when the model has none. */
  fim: FimTokens | null;
  /** The model's chat template (Jinja source or a built-in name), null when it has none. */
  chatTemplate: string | null;
}

export interface InitializeResult {
  protocolVersion: number;
  engineVersion: string;
  target: ModelInfo;
  draft: ModelInfo | null;
  threads: number;
  contextSize: number;
  maxBudget: number;
  modes: DecodingMode[];
  /** Forward-pass cost against batch size, measured at start-up (cached per model and machine). */
  calibration: { target: CostPoint[]; draft: CostPoint[] };
  offload: OffloadInfo;
  cpu: CpuInfo;
}

/** The CPU kernels in use: a portable build picks its variant at run time (src/cpu_backend.h). */
export interface CpuInfo {
  /** e.g. "haswell", "sapphirerapids"; "native" in a -march=native build. */
  variant: string;
  /** What the CPU and OS report, by ggml's names (AVX2, AVX512, AMX_INT8, DOTPROD, ...). */
  featuresSeen: string[];
  /** What the variant in use was compiled for. */
  featuresUsed: string[];
  /** Every variant of the build with its score on this CPU (0: cannot run here). */
  variants: { name: string; score: number }[];
}

/** "zen4 (1 of 10 variants; CPU: SSE42 AVX ... AVX512_BF16)", for logs. */
export function describeCpu(cpu: CpuInfo): string {
  const of = cpu.variants.length > 0 ? `1 of ${cpu.variants.length} variants; ` : '';
  return `${cpu.variant} (${of}CPU: ${cpu.featuresSeen.join(' ') || 'no extensions reported'})`;
}

/** "shared by 3 windows, pid 1234, 1.61 GB resident (PSS 0.62 GB), up 5 min", for logs and stats. */
export function describeEngineProcess(s: EngineStatus): string {
  const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
  const who = s.shared ? `shared by ${s.clients} window${s.clients === 1 ? '' : 's'}` : "this window's own";
  const pss = s.memory.pssBytes === null ? '' : ` (PSS ${gb(s.memory.pssBytes)})`;
  const minutes = Math.floor(s.uptimeMs / 60_000);
  const up = minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  return `${who}, pid ${s.pid}, ${gb(s.memory.rssBytes)} resident${pss}, up ${up}`;
}

/** A device llama.cpp can compute on (ggml_backend_dev_*). */
export interface DeviceInfo {
  /** e.g. "CPU", "Vulkan0", "CUDA0". */
  name: string;
  description: string;
  type: 'cpu' | 'gpu' | 'igpu' | 'accel' | 'meta';
  memoryFree: number;
  memoryTotal: number;
}

/** Where the models run. Layer counts are llama.cpp's: a model's blocks plus its output head. */
export interface OffloadInfo {
  /** Every device of this engine build (a CPU build: the CPU alone). */
  devices: DeviceInfo[];
  /** Layers placed on the GPU (0 without a GPU), out of targetLayers / draftLayers. */
  targetGpuLayers: number;
  targetLayers: number;
  draftGpuLayers: number | null;
  draftLayers: number | null;
  /** The VRAM budget these counts were chosen for, null when they were given directly. */
  vramBudgetMiB: number | null;
}

export interface CostPoint {
  batch: number;
  ms: number;
}

/** A piece of another file for a FIM prompt (llama.cpp's /infill input_extra). */
export interface ExtraChunk {
  filename: string;
  text: string;
}

/** A fill-in-the-middle prompt: the text before and after the cursor. */
export interface FimPrompt {
  prefix: string;
  suffix: string;
  /**
   * Context from other files, before the FIM prefix, laid out exactly as llama.cpp's server lays
   * out /infill's input_extra: with the model's repository tokens when it has them (FIM_REP
   * "myproject", FIM_SEP and the file name before each chunk, FIM_SEP "filename" before the
   * prefix), else each chunk after a "--- snippet ---" line. Trimmed from its start first when the
   * prompt does not fit.
   */
  extra?: ExtraChunk[];
}

/** Omitted fields take DEFAULTS.sampling. */
export interface SamplingParams {
  /** Maximum tokens to generate. */
  maxTokens?: number;
  /** 0: greedy. */
  temperature?: number;
  /** 0: no top-k cut. */
  topK?: number;
  /** 1: no nucleus cut. */
  topP?: number;
  /** Seed of the sampler's random numbers (sampled decoding only). */
  seed?: number;
  /** Generation ends before the first occurrence of any of these strings. */
  stop?: string[];
  /** Default: specexec when a draft model is loaded, else autoregressive. */
  mode?: DecodingMode;
  /** Draft tree size (nodes besides the root), or 'auto' (default): chosen from measured costs. */
  budget?: number | 'auto';
  /** Deepest draft tree. */
  maxDepth?: number;
  /** chain: longest draft. */
  draftMax?: number;
  /** chain: stop drafting when the draft's probability falls below this. */
  draftPMin?: number;
  /** When set, the host sends `specexec/progress` notifications with this token. */
  progressToken?: string | number;
  /**
   * background: runs only when no other request waits, and any other request stops it (it then
   * ends with stop reason cancelled): for work done ahead of the user (prefetch).
   */
  priority?: Priority;
}

export type Priority = 'normal' | 'background';

export interface CompleteParams extends SamplingParams {
  /** Plain text, or a fill-in-the-middle prompt (built with the model's own FIM tokens). */
  prompt: string | FimPrompt;
  /**
   * The tokens the completion starts with instead of the ones the target would choose (at most
   * 1024); the rest is the target's own continuation after them (greedy: exactly what it would
   * generate after them). They count as generated tokens.
   */
  forcedTokens?: number[];
  /** List this many of the target's next most likely first tokens in the result (0 to 8). */
  alternatives?: number;
}

/**
 * One of the target's likely first tokens after the prompt, with as much of the target's greedy
 * continuation after it as the prompt's pass computed (in a speculative mode that pass verifies a
 * draft tree, and each tree node holds the target's next token; autoregressive or sampled: the
 * first token alone).
 */
export interface FirstTokenChoice {
  token: number;
  /** The token's text. */
  text: string;
  /** Its probability under the target (temperature 1). */
  p: number;
  /** The token, then its continuation as far as known: a request with these as `forcedTokens` generates only the rest. */
  tokens: number[];
  /** What a completion starting with `tokens` shows of them (stop strings applied). */
  continuation: string;
  /** That completion ends within `tokens` (end of text, a stop string, maxTokens): `continuation` is all of it. */
  complete: boolean;
}

/** specexec/warm: the prompt a completion will read, read ahead; always background priority. */
export interface WarmParams {
  prompt: string | FimPrompt;
  /** The completion's maxTokens: a prompt is fitted to the context as that completion's would be. */
  maxTokens?: number;
}

export interface WarmResult {
  promptTokens: number;
  /** Tokens of the prompt's start the target's cache held already. */
  reusedTokens: number;
  /** Tokens the target read now. */
  decodedTokens: number;
  /** Stopped by another request (what was read by then stays). */
  cancelled: boolean;
  elapsedMs: number;
}

/** specexec/renderPrompt: the tokens a completion of this prompt reads, as text (control tokens shown). */
export interface RenderPromptResult {
  tokens: number;
  text: string;
}

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatParams extends SamplingParams {
  messages: ChatMessage[];
}

/** Why a generation ended (the engine's sx_stop_reason names, src/engine.cpp). */
export const STOP_REASONS = ['eos', 'length', 'stop', 'cancelled', 'context'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export interface CompletionStats {
  promptTokens: number;
  tokens: number;
  targetPasses: number;
  draftPasses: number;
  /** Generated tokens per target forward pass, the prompt's pass included (1 for autoregressive decoding). */
  tokensPerTargetPass: number;
  /** Tokens per second after those the prompt's pass yields (see promptPassTokens, firstTokenMs). */
  tokensPerSecond: number;
  /** Time to the end of the prompt's pass (with the first draft tree when it verified one). */
  promptMs: number;
  /** Tokens the prompt's pass yielded: 1, more when it verified a draft tree (alternatives asked for), the forced ones included. */
  promptPassTokens: number;
  firstTokenMs: number;
  elapsedMs: number;
  /** Draft tree size used in the last pass (0 without speculation). */
  budget: number;
  /** Time in draft passes and tree building, in target passes (prompt excluded), and the rest. */
  draftMs: number;
  targetMs: number;
  overheadMs: number;
  /** [k]: target passes that yielded k tokens (speculative modes; the prompt's pass included). */
  tokensPerPassHistogram: number[];
  /** Per target pass (speculative modes): draft nodes in the tree, its depth, its leaves, the budget
   *  chosen. The first entry is the prompt's pass: a tree of the root alone. */
  treeSizes: number[];
  treeDepths: number[];
  treeLeaves: number[];
  budgets: number[];
}

/** Prompt tokens dropped to fit the context: the text farthest from the cursor goes first. */
export interface PromptTrim {
  /** Tokens dropped from the start of the prompt (or of a FIM prefix). */
  prefixTokens: number;
  /** Tokens dropped from the end of a FIM suffix. */
  suffixTokens: number;
  /** Tokens dropped from the start of a FIM prompt's extra context. */
  extraTokens: number;
}

export interface CompleteResult {
  text: string;
  tokens: number[];
  /** The next most likely first tokens (as many as `alternatives` asked for, fewer if the vocabulary ends), best first. */
  alternatives: FirstTokenChoice[];
  stopReason: StopReason;
  stats: CompletionStats;
  /** Present when the prompt was longer than the context allows and was trimmed. */
  trimmed?: PromptTrim;
}

export interface ProgressParams {
  token: string | number;
  /** New text since the previous notification. */
  delta: string;
  /** Tokens generated so far. */
  tokens: number;
}

export interface InspectModelParams {
  path: string;
}

/**
 * specexec/measurePassCost: times one target pass of each batch size now, after the history the
 * target's cache holds (the last prompt and its completion), as the start-up calibration does.
 * For benchmarks: this machine's speed drifts, so a prediction is checked against a curve measured
 * beside the generations it predicts.
 */
export interface MeasurePassCostParams {
  /** Batch sizes (tokens in the pass), each 1 to the engine's maxBudget + 1. */
  batches: number[];
}

/**
 * Every method once, with its params and result types: the client sends and the host serves these
 * objects, so a method's name or types cannot differ between them.
 */
/** What `specexec/status` answers: which engine process this is and what it holds. */
export interface EngineStatus {
  pid: number;
  /** True for a shared engine (a Unix socket, possibly several windows), false for a window's own child process. */
  shared: boolean;
  /** Connections served now (this one included). */
  clients: number;
  uptimeMs: number;
  /** Resident memory, and on Linux the proportional share (PSS: pages shared with other processes split among them). */
  memory: { rssBytes: number; pssBytes: number | null };
  /** Whether a generation runs (any client's), and the native engine's heartbeat: it moves while one runs, unless the engine is stuck. */
  activity: { generating: boolean; heartbeat: number };
}

export const Requests = {
  initialize: new RequestType<InitializeParams, InitializeResult, void>('initialize'),
  complete: new RequestType<CompleteParams, CompleteResult, void>('complete'),
  chat: new RequestType<ChatParams, CompleteResult, void>('chat'),
  inspectModel: new RequestType<InspectModelParams, ModelInfo, void>('inspectModel'),
  measurePassCost: new RequestType<MeasurePassCostParams, CostPoint[], void>('specexec/measurePassCost'),
  warm: new RequestType<WarmParams, WarmResult, void>('specexec/warm'),
  renderPrompt: new RequestType<WarmParams, RenderPromptResult, void>('specexec/renderPrompt'),
  /** Answered at once, mid-generation too (the host's thread is free while the engine computes): the watchdog's ping. */
  status: new RequestType<Record<string, never>, EngineStatus, void>('specexec/status'),
  /**
   * A window's own engine: cancels the running generation and frees the models; `exit` then ends
   * the process. A shared engine: this client leaves (its requests stop); the engine exits when
   * no client has been connected for its idle time.
   */
  shutdown: new RequestType0<null, void>('shutdown'),
} as const;

export const Notifications = {
  /** Host to client: new text of a request that named a progressToken. */
  progress: new NotificationType<ProgressParams>('specexec/progress'),
  /** Client to host: exit now (after shutdown). */
  exit: new NotificationType0('exit'),
} as const;

/** Stable error codes of JSON-RPC error replies. The engine's own codes are src/errors.h's (a unit test checks). */
export const ErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  RequestCancelled: -32800,
  ModelMissing: -32010,
  ModelInvalid: -32011,
  ModelUnsupported: -32012,
  VocabMismatch: -32013,
  ContextOverflow: -32014,
  NotInitialized: -32015,
  Busy: -32016,
  DecodeFailed: -32017,
  ShuttingDown: -32018,
  BackendUnavailable: -32019,
  ContextTooLarge: -32020,
} as const;
