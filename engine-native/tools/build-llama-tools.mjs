#!/usr/bin/env node
// Builds llama.cpp's own programs from the same pinned source the engine uses (build/llama.cpp),
// for the benchmark's comparison: llama-speculative-simple (draft chain) and llama-completion
// (plain autoregressive decoding), and llama-bench (the grown target's cost curve, see
// training/grow_check.mjs); with --server also llama-server (the /infill comparison, specexec
// bench-infill). Not part of `npm install`; run by `specexec bench --llama-cpp` and bench-infill.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const src = path.join(root, 'build', 'llama.cpp');
const out = path.join(root, 'build', 'llama-tools');
const server = process.argv.includes('--server');
const TARGETS = ['llama-speculative-simple', 'llama-completion', 'llama-bench', ...(server ? ['llama-server'] : [])];

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build-llama-tools: ${cmd} ${args.join(' ')} failed`);
    process.exit(1);
  }
}

if (!existsSync(path.join(src, 'CMakeLists.txt'))) {
  console.error('build-llama-tools: build/llama.cpp is missing; run `npm run build` first');
  process.exit(1);
}
if (TARGETS.every((t) => existsSync(path.join(out, 'bin', t)))) process.exit(0);
run('cmake', [
  '-S',
  src,
  '-B',
  out,
  '-DCMAKE_BUILD_TYPE=Release',
  '-DBUILD_SHARED_LIBS=OFF',
  '-DGGML_NATIVE=ON',
  '-DLLAMA_BUILD_COMMON=ON',
  '-DLLAMA_BUILD_TOOLS=ON',
  '-DLLAMA_BUILD_EXAMPLES=ON',
  '-DLLAMA_BUILD_TESTS=OFF',
  `-DLLAMA_BUILD_SERVER=${server ? 'ON' : 'OFF'}`,
  '-DLLAMA_CURL=OFF',
  '-DLLAMA_OPENSSL=OFF',
]);
run('cmake', [
  '--build',
  out,
  '--parallel',
  String(Number(process.env.SPECEXEC_JOBS) || os.availableParallelism()),
  '--target',
  ...TARGETS,
]);
