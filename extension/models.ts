// A model load that failed is not asked of the engine again until something it depended on
// changes: a request starts the engine when none runs, so otherwise every keystroke with a broken
// model (a mistyped path, a truncated download, a context too large for memory) would spawn a
// process just to hear the same error. What a load depends on: the initialize request, the engine
// build, and the model files (path, size, mtime: a finished download or a replaced file). The user's
// Restart and a change of the model settings forget the failure. The engine checks the files
// itself (engine-native/src/gguf_check.cpp, the model loader) and reports each problem with its code.
import * as fs from 'node:fs';
import type { InitializeParams } from '../engine-native/host/protocol';
import type { EngineError } from './errors';

/** What a load depends on besides the model files' contents. */
export interface LoadInputs {
  params: InitializeParams;
  /** The engine build (SPECEXEC_NATIVE_BUILD); "" the CPU build. */
  nativeBuild: string;
}

/** A model file as the engine would find it: none asked for, missing, or its size and modification time. */
function fileStamp(file: string | null | undefined): string {
  if (!file) return 'none';
  try {
    const stat = fs.statSync(file);
    return `${stat.size}@${stat.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

function loadKey({ params, nativeBuild }: LoadInputs): string {
  return JSON.stringify([params, nativeBuild, fileStamp(params.targetModelPath), fileStamp(params.draftModelPath)]);
}

/** The last load the engine refused, to answer the same load with the same error without a process. */
export class FailedLoad {
  private failed: { key: string; error: EngineError } | undefined;

  remember(inputs: LoadInputs, error: EngineError): void {
    this.failed = { key: loadKey(inputs), error };
  }

  /** The refused load's error while `inputs` and the model files are as they were then; else undefined (try loading). */
  errorFor(inputs: LoadInputs): EngineError | undefined {
    if (!this.failed) return undefined;
    return this.failed.key === loadKey(inputs) ? this.failed.error : undefined;
  }

  forget(): void {
    this.failed = undefined;
  }
}
