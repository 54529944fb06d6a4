// Engine errors: what the engine reports (an EngineError carrying the JSON-RPC code it sent) and
// the reaction the user gets (the message and the buttons that fix it), code by code. The context
// shows the reaction; nothing else in the extension decides how an engine error reaches the user.
// No vscode import: the table is unit-tested under plain Node.
import { ErrorCodes } from '../engine-native/host/protocol';

/** An engine error with the JSON-RPC code the engine sent (engine-native/host/protocol.ts ErrorCodes). */
export class EngineError extends Error {
  constructor(message: string, readonly code?: number) {
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
      return { message, actions: [openSetting('contextSize'), showLog] };
    case ErrorCodes.BackendUnavailable:
      return { message, actions: [openSetting('nativeBuild'), showLog] };
    default: // crashes, giving up after them, internal errors: the log says why, a restart may help
      return { message, actions: [showLog, restart] };
  }
}
