// Shared by the pipeline's Node scripts: where things are, and `--name value` options.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const WORK = process.env.SPECEXEC_TRAIN_WORK || path.join(HERE, 'work');
const args = process.argv.slice(2);
export const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};
