// The one check the extension makes on the model files before it starts the engine: that they
// exist. The engine checks the rest itself (engine-native/src/gguf_check.cpp and the model loader:
// GGUF header, truncation, architecture, matching tokenizers) and reports each with its own code.
// This check stays because a request starts the engine when none runs: without it, every keystroke
// with a mistyped path (or a bundled model not downloaded) would spawn a process just to hear that
// the file is not there.
import * as fs from 'node:fs';
import { ErrorCodes } from '../engine-native/host/protocol';
import { EngineError, type ModelPaths } from './errors';

/** Throws the engine's own ModelMissing error (its code and wording) for a model path that does not exist. */
export function checkModelsExist(models: ModelPaths): void {
  for (const file of [models.targetModelPath, models.draftModelPath]) {
    if (file && !fs.existsSync(file)) throw new EngineError(`model file not found: ${file}`, ErrorCodes.ModelMissing);
  }
}
