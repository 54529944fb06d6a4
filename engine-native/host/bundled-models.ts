// Where the bundled models live, shared by the CLI, the extension and the tests.
import * as path from 'node:path';
import { packageRoot } from './native';

export function defaultDraftModel(): string {
  return path.join(packageRoot(), 'models', 'specexec-draft.gguf');
}

export function defaultTargetModel(): string {
  return path.join(packageRoot(), 'models', 'specexec-target.gguf');
}
