// Validates model files before the engine loads them, with errors a user can act on.
import * as fs from 'node:fs';

export class ModelFileError extends Error {
  constructor(readonly role: 'target' | 'draft', readonly file: string, readonly reason: string) {
    super(`The ${role} model ${file} ${reason}`);
  }
}

/** Throws ModelFileError unless `file` is a readable GGUF file. */
export function validateModelFile(role: 'target' | 'draft', file: string): void {
  if (!file) throw new ModelFileError(role, '(empty path)', 'is not set: choose a .gguf file in the settings.');
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new ModelFileError(role, file, 'does not exist: check specexec.' + role + 'ModelPath, or choose a .gguf file.');
  }
  if (!st.isFile()) throw new ModelFileError(role, file, 'is not a file: point the setting at a .gguf file.');
  if (st.size < 32) throw new ModelFileError(role, file, `is too small (${st.size} bytes) to be a model: it may be truncated.`);
  const magic = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    fs.readSync(fd, magic, 0, 4, 0);
  } catch (e) {
    throw new ModelFileError(role, file, `cannot be read (${(e as Error).message}).`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  if (magic.toString('latin1') !== 'GGUF') {
    throw new ModelFileError(role, file, 'is not a GGUF file (llama.cpp models end in .gguf; convert other formats with llama.cpp\'s convert_hf_to_gguf.py).');
  }
}
