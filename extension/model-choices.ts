// What "Choose Models…" offers and how a download reads, without VS Code: the picker's items from
// a scan's pairs and the presets, the progress line of a download, the reaction to a failed one,
// and when the first-start offer is due. No vscode import: unit-tested under plain Node.
import { formatBytes, type DownloadProgress, type HubDownloadError } from '../engine-native/catalog/download';
import type { GpuPlacement, PairSuggestion } from '../engine-native/catalog/pairing';
import { presetRamBytes, type ModelPreset } from '../engine-native/catalog/presets';

/** What picking an item does. */
export type ModelChoice =
  | { kind: 'bundled' }
  | { kind: 'paths'; targetModelPath: string; draftModelPath: string }
  | { kind: 'download'; preset: ModelPreset }
  | { kind: 'browse' };

/** A QuickPick item as plain data; `separator` items only head a group. */
export interface ChoiceItem {
  label: string;
  description?: string;
  detail?: string;
  separator?: boolean;
  choice?: ModelChoice;
}

export interface ChoiceInputs {
  /** suggestPairs() over the scanned models; undefined while the scan runs. */
  pairs: PairSuggestion[] | undefined;
  presets: readonly ModelPreset[];
  /** RAM free for the models. */
  availableBytes: number;
  /** The target the engine is configured with now (to mark it). */
  currentTargetPath: string;
  /** Whether the settings name no target: the bundled pair runs. */
  bundledInUse: boolean;
}

/** Every item of the picker: what runs now first, then the pairs on disk, the downloads and a file picker. */
export function modelChoiceItems(inputs: ChoiceInputs): ChoiceItem[] {
  return [
    bundledItem(inputs.bundledInUse),
    { label: 'On this machine', separator: true },
    ...diskItems(inputs),
    { label: 'Download from Hugging Face', separator: true },
    ...inputs.presets.map((preset) => presetItem(preset, inputs.availableBytes)),
    { label: 'Other', separator: true },
    { label: '$(folder-opened) Choose the GGUF files…', detail: 'A target, then a draft with its tokenizer.', choice: { kind: 'browse' } },
  ];
}

function bundledItem(inUse: boolean): ChoiceItem {
  return {
    label: '$(beaker) Bundled demo pair',
    description: inUse ? 'demo only · in use' : 'demo only',
    detail: 'Tiny models trained for testing: code-shaped but mostly wrong completions. Works offline.',
    choice: { kind: 'bundled' },
  };
}

function diskItems({ pairs, availableBytes, currentTargetPath }: ChoiceInputs): ChoiceItem[] {
  if (!pairs) return [{ label: '$(loading~spin) Looking for GGUF models…' }];
  if (pairs.length === 0)
    return [
      {
        label: 'No draft/target pair found',
        detail: 'Searched the Hugging Face, llama.cpp, LM Studio and Ollama caches, specexec.modelFolders and the workspace.',
      },
    ];
  return pairs.map((pair) => pairItem(pair, availableBytes, pair.target.path === currentTargetPath));
}

function pairItem(pair: PairSuggestion, availableBytes: number, inUse: boolean): ChoiceItem {
  const { target, draft } = pair;
  const marks = [pair.recommended ? 'recommended' : '', inUse ? 'in use' : ''].filter(Boolean);
  const warnings = pair.warnings.filter((w) => !w.startsWith('Needs '));
  return {
    label: `${pair.fits ? '$(check-all)' : '$(warning)'} ${target.displayName} + ${draft.displayName}`,
    description: [
      `${formatBytes(target.info.sizeBytes + draft.info.sizeBytes)} on disk`,
      memoryText(pair.ramBytes, availableBytes),
      ...(pair.gpu ? [gpuText(pair.gpu)] : []),
      ...marks,
    ].join(' · '),
    detail: [`${target.info.quantization}, ${target.source}.`, goodForParameters(target.info.parameters), ...warnings].join(' '),
    choice: { kind: 'paths', targetModelPath: target.path, draftModelPath: draft.path },
  };
}

function presetItem(preset: ModelPreset, availableBytes: number): ChoiceItem {
  const ram = presetRamBytes(preset);
  return {
    label: `${ram <= availableBytes ? '$(cloud-download)' : '$(warning)'} ${preset.label}`,
    description: [`download ~${formatBytes(preset.draft.approxBytes + preset.target.approxBytes)}`, memoryText(ram, availableBytes)].join(
      ' · ',
    ),
    detail: preset.goodFor,
    choice: { kind: 'download', preset },
  };
}

/** "GPU: draft 25/25, target 10/29 layers, 3.2 GB VRAM". */
export function gpuText(gpu: GpuPlacement): string {
  return (
    `GPU: draft ${gpu.draftLayers}/${gpu.draftLayerCount}, target ${gpu.targetLayers}/${gpu.targetLayerCount} layers, ` +
    `${formatBytes(gpu.deviceBytes)} VRAM`
  );
}

/** The memory a pair needs, flagged when more than is free now. */
function memoryText(needed: number, available: number): string {
  return needed <= available
    ? `needs ${formatBytes(needed)} RAM`
    : `needs ${formatBytes(needed)} RAM, more than the ${formatBytes(available)} free`;
}

/** A rough guide by the target's size, for pairs found on disk (the presets say their own). */
export function goodForParameters(parameters: number): string {
  if (parameters < 0.1e9) return 'A toy model: good for testing only.';
  if (parameters < 2.5e9) return 'Quick single-line completions.';
  if (parameters < 5e9) return 'Better completions, still fast on a CPU.';
  return 'Good multi-line completions; where the draft pays most.';
}

/** The share of the whole download done, 0-100, for the notification's bar. */
export function progressPercent(p: DownloadProgress): number {
  return p.totalBytes > 0 ? Math.min(100, (100 * p.bytesDone) / p.totalBytes) : 0;
}

export type DownloadAction = 'Retry' | 'Set Hugging Face token…' | 'Show log';

export interface DownloadReaction {
  message: string;
  actions: DownloadAction[];
}

/** What the user is told about a failed download, with the buttons that fix it; undefined for a cancel (they asked for it). */
export function downloadReaction(error: HubDownloadError): DownloadReaction | undefined {
  const message = `SpecExec: download failed: ${error.message}`;
  switch (error.code) {
    case 'cancelled':
      return undefined;
    case 'auth':
      return { message, actions: ['Set Hugging Face token…', 'Retry'] };
    case 'network':
    case 'server':
      return { message: `${message} Retry continues where it stopped.`, actions: ['Retry', 'Show log'] };
    case 'checksum':
      return { message: `${message} The damaged file was deleted; Retry downloads it again.`, actions: ['Retry', 'Show log'] };
    default: // not-found, disk-space, bad-response: retrying alone does not help
      return { message, actions: ['Show log'] };
  }
}

/** The first-start offer's memory in globalState: never again, or not before a time. */
export interface SetupOfferState {
  neverAgain?: boolean;
  notBefore?: number;
}

/** "Not now" waits this long before asking again. */
export const NOT_NOW_MS = 7 * 24 * 3600_000;

/** Whether to offer a real model at this start: only the bundled pair is configured and the user has not declined lately. */
export function setupOfferDue(targetSetting: string, state: SetupOfferState | undefined, now = Date.now()): boolean {
  if (targetSetting.trim() !== '' || state?.neverAgain) return false;
  return state?.notBefore === undefined || now >= state.notBefore;
}
