// Shared by the pipeline's Node scripts: where things are, `--name value` options and the addon.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const WORK = process.env.SPECEXEC_TRAIN_WORK || path.join(HERE, 'work');
export const args = process.argv.slice(2);
export const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};
/** The specexec addon at `file` (relative to the working directory), by default the release build's. */
export const loadAddon = (file = path.join(REPO, 'build', 'Release', 'specexec.node')) =>
  createRequire(import.meta.url)(path.resolve(file));
