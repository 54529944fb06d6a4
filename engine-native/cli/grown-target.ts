// The GROWN target: the trained target grown function-preservingly into TinyLlama-1.1B's shape
// (engine-native/training/grow_target.py). Same next-token distribution as the trained target, the
// compute cost of a real 1B model: the benchmark's realistic, memory-bound regime. Synthetic, not
// committed; built in seconds and cached under build/grown/, keyed by the source model's contents.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readSync, closeSync, renameSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { CliError } from './session';

export const GROWN_LABEL = 'grown';
export const GROWN_DESCRIPTION =
  "GROWN target (synthetic): the trained target widened and deepened to TinyLlama-1.1B's shape (d=2048, 22 layers, FFN 5632) " +
  'without changing its outputs; it costs what a real 1.1B model costs and knows no more than the trained target';

/** A cheap content key: size plus hashes of the first and last MiB (GGUF headers and the last tensors). */
function fingerprint(file: string): string {
  const size = statSync(file).size;
  const hash = createHash('sha256').update(String(size));
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(size, 1 << 20));
    for (const at of [0, Math.max(0, size - buf.length)]) hash.update(buf.subarray(0, readSync(fd, buf, 0, buf.length, at)));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex').slice(0, 12);
}

/** Debian's python3 has numpy; a pyenv python earlier on PATH may not. */
export function python(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Grows `source` into `out` (python3 with numpy and the pinned llama.cpp's gguf-py). */
export function growTarget(root: string, source: string, out: string): void {
  if (!existsSync(source)) throw new CliError(`cannot grow ${source}: no such file`);
  mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.partial`;
  const script = path.join(root, 'engine-native', 'training', 'grow_target.py');
  const r = spawnSync(python(), [script, tmp, '--src', source], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : (r.stderr || '').trim().split('\n').slice(-3).join(' ');
    throw new CliError(
      `growing the target failed (${why}). It needs python3 with numpy (Debian: python3-numpy) ` +
        'and the pinned llama.cpp source from npm install (build/llama.cpp, or LLAMA_CPP_SRC)',
    );
  }
  renameSync(tmp, out);
}

/** The grown target of `source`, built on first use. */
export function ensureGrownTarget(root: string, source: string): string {
  const out = path.join(root, 'build', 'grown', `${path.basename(source, '.gguf')}-grown-1.1b-${fingerprint(source)}.gguf`);
  if (!existsSync(out)) {
    process.stdout.write(
      `growing ${path.relative(process.cwd(), source)} into a 1.1B-shaped target (once; cached as ${path.relative(process.cwd(), out)})\n`,
    );
    growTarget(root, source, out);
  }
  return out;
}
