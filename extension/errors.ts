// Engine errors: what the engine reports (an EngineError carrying the JSON-RPC code it sent), the
// reaction the user gets (the message and the buttons that fix it), code by code, and how often
// (ErrorRepeats). The context shows the reaction; nothing else in the extension decides how an
// engine error reaches the user. No vscode import: unit-tested under plain Node.
import { ErrorCodes } from '../engine-native/host/protocol';

/** An engine error with the JSON-RPC code the engine sent (engine-native/host/protocol.ts ErrorCodes). */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

/** Any rejection from the engine client (a ResponseError, a plain Error) as an EngineError, code kept. */
export function toEngineError(e: unknown): EngineError {
  if (e instanceof EngineError) return e;
  const err = e as { message?: unknown; code?: unknown } | undefined;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return new EngineError(message, typeof err?.code === 'number' ? err.code : undefined);
}

/** The one test for "the request was cancelled" (by the client's $/cancelRequest or by a newer request). */
export function isCancellation(e: unknown): boolean {
  return (e as { code?: unknown } | undefined)?.code === ErrorCodes.RequestCancelled;
}

/** A button on the error message: the command it runs. */
export interface ErrorAction {
  title: string;
  command: string;
  args?: unknown[];
}

export interface ErrorReaction {
  /** The notification's text. */
  message: string;
  actions: ErrorAction[];
}

export type ModelRole = 'target' | 'draft';

/** The model files the engine was asked to load (to tell which setting an engine message is about). */
export interface ModelPaths {
  targetModelPath: string;
  draftModelPath: string | null;
}

const showLog: ErrorAction = { title: 'Show log', command: 'specexec.showLog' };
const restart: ErrorAction = { title: 'Restart', command: 'specexec.restartEngine' };

function openSetting(key: string): ErrorAction {
  return { title: 'Open settings', command: 'workbench.action.openSettings', args: [`specexec.${key}`] };
}

function chooseModel(role: ModelRole): ErrorAction {
  return { title: 'Choose model…', command: role === 'target' ? 'specexec.chooseTargetModel' : 'specexec.chooseDraftModel' };
}

/** Which model an engine message is about: the one whose path it names (the longer path if both match). */
export function modelRole(message: string, models: ModelPaths): ModelRole {
  const named = (path: string | null) => (path && message.includes(path) ? path.length : -1);
  return named(models.draftModelPath) > named(models.targetModelPath) ? 'draft' : 'target';
}

/** A model file the engine cannot use: its own reason, prefixed with the setting that names the file. */
function modelFileReaction(message: string, role: ModelRole): ErrorReaction {
  return {
    message: `SpecExec: ${role} model (specexec.${role}ModelPath): ${message}`,
    actions: [chooseModel(role), openSetting(`${role}ModelPath`), showLog],
  };
}

/** A context the memory or the prompt does not fit: the engine's reason, prefixed with the setting that sizes it. */
function contextSizeReaction(message: string): ErrorReaction {
  return { message: `SpecExec: context size (specexec.contextSize): ${message}`, actions: [openSetting('contextSize'), showLog] };
}

/** What the user is told about an engine error; undefined: nothing (a cancelled request is no failure). */
export function reactionTo(error: EngineError, models: ModelPaths): ErrorReaction | undefined {
  if (isCancellation(error)) return undefined;
  const message = `SpecExec: ${error.message}`;
  switch (error.code) {
    case ErrorCodes.ModelMissing:
    case ErrorCodes.ModelInvalid:
    case ErrorCodes.ModelUnsupported:
      return modelFileReaction(error.message, modelRole(error.message, models));
    case ErrorCodes.VocabMismatch:
      return { message, actions: [chooseModel('draft'), openSetting('draftModelPath'), showLog] };
    case ErrorCodes.ContextOverflow:
    case ErrorCodes.ContextTooLarge:
      return contextSizeReaction(error.message);
    case ErrorCodes.BackendUnavailable:
      return { message, actions: [openSetting('nativeBuild'), showLog] };
    default: // crashes, giving up after them, internal errors: the log says why, a restart may help
      return { message, actions: [showLog, restart] };
  }
}

/**
 * How long an error of one kind stays quiet after it was shown: a failing completion fails again on
 * every keystroke, and the user has seen the notification (the log keeps every occurrence).
 */
export const REPEAT_AFTER_MS = 5 * 60_000;

/**
 * Which errors are news to the user: one of a kind not shown within REPEAT_AFTER_MS. The kind is
 * the engine's code (its messages carry changing numbers, e.g. prompt lengths), else the message.
 */
export class ErrorRepeats {
  private readonly shownAt = new Map<number | string, number>();

  /** True (and remembered as shown at `now`) when `error` is news. */
  admit(error: EngineError, now = Date.now()): boolean {
    const kind = error.code ?? error.message;
    const last = this.shownAt.get(kind);
    if (last !== undefined && now - last < REPEAT_AFTER_MS) return false;
    this.shownAt.set(kind, now);
    return true;
  }

  /** Forgets what was shown (the user restarted the engine or changed its settings). */
  clear(): void {
    this.shownAt.clear();
  }
}
