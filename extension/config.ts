// Typed access to the `specexec.*` settings, and which changes need the engine to reload.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { defaultDraftModel, defaultTargetModel } from '../engine-native/host/bundled-models';
import { DECODING_MODES, type DecodingMode, type InitializeParams, type SamplingParams } from '../engine-native/host/protocol';
import { booleanSetting, budgetSetting, numberSetting, resolveThreads, SECTION } from './declared';

export interface EngineConfig {
  targetModelPath: string;
  /** null: no draft model (autoregressive decoding). */
  draftModelPath: string | null;
  threads: number;
  contextSize: number;
  targetGpuLayers: number;
  draftGpuLayers: number;
  /** 0: none; else replaces both GPU layer counts (the engine fits them to it). */
  vramBudgetMiB: number;
  /** The engine build directory (SPECEXEC_NATIVE_BUILD), e.g. build-vulkan; "" the CPU build. */
  nativeBuild: string;
  /** One engine for the windows with the same settings (a Unix socket), or one child process per window. */
  sharedEngine: boolean;
  /** How long a shared engine stays after its last window left. */
  sharedEngineIdleMs: number;
  /** Draft tree budget sent with every request. */
  budget: 'auto' | number;
  /** undefined: the engine's default (specexec with a draft, else autoregressive). */
  mode: DecodingMode | undefined;
}

export interface CompletionConfig {
  debounceMs: number;
  maxTokens: number;
  temperature: number;
  maxLines: number;
  prefixLines: number;
  suffixLines: number;
  prefixChars: number;
  suffixChars: number;
  extraContextFiles: number;
  extraContextChars: number;
  /** Time after which a still-running generation's first text is shown (streaming). */
  streamFirstMs: number;
  /** Suggestions an explicit trigger (or cycling) offers: the main one and up to two alternatives. */
  suggestions: number;
  /** Compute the completion after a shown suggestion's accept in the background. */
  prefetch: boolean;
  /** Read the prompt at the cursor ahead of the first keystroke in a file. */
  warmUp: boolean;
  /** Chunks of the clipboard's text are candidates for extra context. */
  clipboard: boolean;
}

export interface ChatConfig {
  maxTokens: number;
  temperature: number;
  systemPrompt: string;
}

function cfg(scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION, scope);
}

/** A number setting, fitted to its package.json declaration. */
function num(c: vscode.WorkspaceConfiguration, key: string): number {
  return numberSetting(key, c.get(key));
}

function expandPath(p: string): string {
  const t = p.trim();
  if (t.startsWith('~/')) return os.homedir() + t.slice(1);
  if (t.startsWith('${workspaceFolder}')) {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    return root + t.slice('${workspaceFolder}'.length);
  }
  return t;
}

export function engineConfig(): EngineConfig {
  const c = cfg();
  const target = expandPath(c.get<string>('targetModelPath') ?? '');
  const draftSetting = expandPath(c.get<string>('draftModelPath') ?? '');
  const target_ = target || defaultTargetModel();
  // an explicit target without an explicit draft runs alone: the bundled draft only pairs with the bundled target
  const draft = draftSetting === 'none' ? null : draftSetting || (target ? null : defaultDraftModel());
  return {
    targetModelPath: target_,
    draftModelPath: draft,
    threads: resolveThreads(num(c, 'threads')),
    contextSize: num(c, 'contextSize'),
    targetGpuLayers: num(c, 'targetGpuLayers'),
    draftGpuLayers: num(c, 'draftGpuLayers'),
    vramBudgetMiB: num(c, 'vramBudgetMiB'),
    nativeBuild: (c.get<string>('nativeBuild') ?? '').trim(),
    sharedEngine: booleanSetting('sharedEngine', c.get('sharedEngine')),
    sharedEngineIdleMs: num(c, 'sharedEngineIdleMinutes') * 60_000,
    budget: budgetSetting(c.get('budget')),
    mode: DECODING_MODES.includes(c.get<string>('mode') as DecodingMode) ? c.get<DecodingMode>('mode') : undefined,
  };
}

/** The decoding fields of a request (budget, mode) from the settings. */
export function decodingParams(e: EngineConfig = engineConfig()): Pick<SamplingParams, 'budget' | 'mode'> {
  return e.mode ? { budget: e.budget, mode: e.mode } : { budget: e.budget };
}

export function initializeParams(e: EngineConfig): InitializeParams {
  return {
    targetModelPath: e.targetModelPath,
    draftModelPath: e.draftModelPath,
    threads: e.threads,
    contextSize: e.contextSize,
    targetGpuLayers: e.targetGpuLayers,
    draftGpuLayers: e.draftGpuLayers,
    vramBudgetMiB: e.vramBudgetMiB,
  };
}

export function completionConfig(scope?: vscode.ConfigurationScope): CompletionConfig {
  const c = cfg(scope);
  return {
    debounceMs: num(c, 'debounceMs'),
    maxTokens: num(c, 'maxTokens'),
    temperature: num(c, 'temperature'),
    maxLines: num(c, 'maxLines'),
    prefixLines: num(c, 'context.prefixLines'),
    suffixLines: num(c, 'context.suffixLines'),
    prefixChars: num(c, 'context.prefixChars'),
    suffixChars: num(c, 'context.suffixChars'),
    extraContextFiles: num(c, 'context.extraFiles'),
    extraContextChars: num(c, 'context.extraChars'),
    streamFirstMs: num(c, 'streamFirstMs'),
    suggestions: num(c, 'suggestions'),
    prefetch: booleanSetting('prefetch', c.get('prefetch')),
    warmUp: booleanSetting('warmUp', c.get('warmUp')),
    clipboard: booleanSetting('context.clipboard', c.get('context.clipboard')),
  };
}

export function chatConfig(): ChatConfig {
  const c = cfg();
  return {
    maxTokens: num(c, 'chat.maxTokens'),
    temperature: num(c, 'chat.temperature'),
    systemPrompt: c.get<string>('chat.systemPrompt') ?? '',
  };
}

/** `specexec.enable`, resolved for a language (the setting is language-overridable). */
export function enabledFor(document: vscode.TextDocument): boolean {
  return booleanSetting('enable', cfg({ languageId: document.languageId, uri: document.uri }).get('enable'));
}

const ENGINE_KEYS = [
  'targetModelPath',
  'draftModelPath',
  'threads',
  'contextSize',
  'targetGpuLayers',
  'draftGpuLayers',
  'vramBudgetMiB',
  'nativeBuild',
  'sharedEngine',
  'sharedEngineIdleMinutes',
];

export function affectsEngine(e: vscode.ConfigurationChangeEvent): boolean {
  return ENGINE_KEYS.some((k) => e.affectsConfiguration(`${SECTION}.${k}`));
}
