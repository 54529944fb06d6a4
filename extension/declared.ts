// The settings as package.json declares them, the one place their defaults and ranges are written:
// how a raw value from settings.json (which VS Code does not validate against the declaration) is
// fitted to its setting, and what `threads: 0` means. No vscode import: unit-tested.
import * as os from 'node:os';
import manifest from '../package.json';

export const SECTION = 'specexec';

interface NumberRange {
  type?: string;
  minimum?: number;
  maximum?: number;
}

interface Declaration extends NumberRange {
  default?: unknown;
  /** A setting of several kinds, e.g. `budget`: "auto" or an integer. */
  anyOf?: NumberRange[];
}

function declaration(key: string): Declaration {
  const d = (manifest.contributes.configuration.properties as Record<string, Declaration>)[`${SECTION}.${key}`];
  if (!d) throw new Error(`package.json declares no setting ${SECTION}.${key}`);
  return d;
}

const isNumeric = (d: NumberRange) => d.type === 'integer' || d.type === 'number';

/** The setting's number declaration: its own, or its numeric alternative. */
function numberRange(key: string): NumberRange {
  const d = declaration(key);
  const range = isNumeric(d) ? d : d.anyOf?.find(isNumeric);
  if (!range) throw new Error(`package.json declares no number for ${SECTION}.${key}`);
  return range;
}

/** A number rounded to its declared type and clamped to its declared range; undefined for anything else. */
function fit(key: string, raw: unknown): number | undefined {
  const { type, minimum = -Infinity, maximum = Infinity } = numberRange(key);
  if (typeof raw !== 'number' || !Number.isFinite(raw)) return undefined;
  return Math.min(maximum, Math.max(minimum, type === 'integer' ? Math.round(raw) : raw));
}

/** A number setting's value: `raw` fitted to the declaration, or the declared default. */
export function numberSetting(key: string, raw: unknown): number {
  const fallback = declaration(key).default;
  if (typeof fallback !== 'number') throw new Error(`package.json declares no number default for ${SECTION}.${key}`);
  return fit(key, raw) ?? fallback;
}

/** A boolean setting's value: `raw` when it is one, else the declared default. */
export function booleanSetting(key: string, raw: unknown): boolean {
  const fallback = declaration(key).default;
  if (typeof fallback !== 'boolean') throw new Error(`package.json declares no boolean default for ${SECTION}.${key}`);
  return typeof raw === 'boolean' ? raw : fallback;
}

/** `specexec.budget`: a number fitted to the declared range, else its one other value, "auto". */
export function budgetSetting(raw: unknown): 'auto' | number {
  return fit('budget', raw) ?? 'auto';
}

/** `threads: 0`, the editor's choice: leave one core to the editor itself (llama.cpp on every core starves the UI). */
export function autoThreads(cores = os.availableParallelism?.() ?? os.cpus().length): number {
  return Math.max(1, Math.min(8, cores - 1));
}

/**
 * The thread count sent to the engine: never 0, which the engine reads as its own default (the
 * hardware threads, at most 16), not the setting's "all cores but one, at most 8".
 */
export function resolveThreads(setting: number, cores?: number): number {
  return setting === 0 ? autoThreads(cores) : setting;
}
