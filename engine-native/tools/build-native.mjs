#!/usr/bin/env node
// Builds the native engine addon (build/Release/specexec.node) from the pinned llama.cpp source.
// Runs as the package's `install` script and from `npm run build`. Incremental: a second run only
// recompiles our own sources that changed; llama.cpp is cloned and compiled once per build dir.
//
// Environment:
//   SPECEXEC_BACKEND=cpu|vulkan|cuda|metal   GPU backend of ggml (default cpu)
//   SPECEXEC_CPU=portable|native               portable (default, what ships): CPU kernels for every
//                                              instruction-set level, chosen at run time; native:
//                                              -march=native, for this machine only (never package it)
//   SPECEXEC_AMX=0|1                           without / with ggml's AMX kernels (default 1)
//                                              (both kept by the build directory once given)
//   SPECEXEC_BUILD_DIR=DIR                     build directory (default build/ for cpu, build-<backend>/
//                                              otherwise, so a GPU variant never replaces the CPU addon;
//                                              load it with SPECEXEC_NATIVE_BUILD=build-<backend>)
//   SPECEXEC_CMAKE_FLAGS="-DX=Y ..."           extra CMake definitions
//   SPECEXEC_JOBS=N                            compile parallelism (default: all cores)
//   SPECEXEC_SKIP_NATIVE=1                     skip (e.g. packaging the TS side only)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LLAMA_PACKAGE = 'node-llama-cpp@3.22.1';
const LLAMA_TARBALL = 'node-llama-cpp-3.22.1.tgz';
const BACKEND_FLAGS = { cpu: [], vulkan: ['GGML_VULKAN=ON'], cuda: ['GGML_CUDA=ON'], metal: ['GGML_METAL=ON'] };

function fail(message) {
  console.error(`\nspecexec: native build failed: ${message}\n`);
  process.exit(1);
}

function has(cmd, args = ['--version']) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

function checkToolchain() {
  const missing = [];
  if (!has('cmake')) missing.push('cmake (>= 3.18)');
  if (!has('git')) missing.push('git');
  if (!['c++', 'g++', 'clang++'].some((c) => has(c))) missing.push('a C++17 compiler (g++ or clang++)');
  if (!has('make') && !has('ninja')) missing.push('make or ninja');
  if (missing.length > 0) {
    fail(
      `missing build tools: ${missing.join(', ')}.\n` +
        'Install them, e.g. on Debian/Ubuntu: sudo apt-get install cmake g++ git make\n' +
        'on macOS: xcode-select --install && brew install cmake',
    );
  }
}

// The llama.cpp source ships inside node-llama-cpp's npm tarball as a git bundle. We take the
// tarball alone (npm pack, cached in build/deps) so none of its prebuilt binaries or scripts run.
function ensureBundle(depsDir) {
  const bundle = path.join(depsDir, 'llama.cpp.bundle');
  if (existsSync(bundle)) return bundle;
  mkdirSync(depsDir, { recursive: true });
  const tarball = path.join(depsDir, LLAMA_TARBALL);
  if (!existsSync(tarball)) {
    console.log(`specexec: fetching the llama.cpp source (${LLAMA_PACKAGE}) from the npm registry`);
    const r = spawnSync('npm', ['pack', LLAMA_PACKAGE, '--pack-destination', depsDir, '--silent'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      shell: process.platform === 'win32',
    });
    if (r.status !== 0 || !existsSync(tarball)) fail(`'npm pack ${LLAMA_PACKAGE}' failed; is the npm registry reachable?`);
  }
  execFileSync('tar', ['-xzf', tarball, '-C', depsDir, 'package/llama/gitRelease.bundle', 'package/llama/llama.cpp.info.json']);
  const info = JSON.parse(readFileSync(path.join(depsDir, 'package/llama/llama.cpp.info.json'), 'utf8'));
  writeFileSync(path.join(depsDir, 'llama.cpp.tag'), `${info.tag}\n`);
  execFileSync('mv', [path.join(depsDir, 'package/llama/gitRelease.bundle'), bundle]);
  return bundle;
}

function backendName() {
  const backend = process.env.SPECEXEC_BACKEND || 'cpu';
  if (!(backend in BACKEND_FLAGS)) fail(`unknown SPECEXEC_BACKEND '${backend}' (use ${Object.keys(BACKEND_FLAGS).join(', ')})`);
  return backend;
}

// Passed only when set: a build directory keeps what it was configured with (CMake's cache).
function cpuFlags() {
  const { SPECEXEC_CPU: cpu, SPECEXEC_AMX: amx } = process.env;
  if (cpu && !['portable', 'native'].includes(cpu)) fail(`unknown SPECEXEC_CPU '${cpu}' (use portable or native)`);
  return [...(cpu ? [`SPECEXEC_CPU=${cpu}`] : []), ...(amx ? [`SPECEXEC_AMX=${amx === '0' ? 'OFF' : 'ON'}`] : [])];
}

function cmakeFlags(backend, bundle) {
  const extra = (process.env.SPECEXEC_CMAKE_FLAGS || '')
    .split(/\s+/)
    .filter(Boolean)
    .map((f) => f.replace(/^-D/, ''));
  return [`SPECEXEC_LLAMA_BUNDLE=${bundle}`, ...cpuFlags(), ...BACKEND_FLAGS[backend], ...extra].map((f) => `--CD${f}`);
}

function main() {
  if (process.env.SPECEXEC_SKIP_NATIVE === '1') return;
  checkToolchain();
  const backend = backendName();
  const buildDir = path.resolve(root, process.env.SPECEXEC_BUILD_DIR || (backend === 'cpu' ? 'build' : `build-${backend}`));
  // one download of the llama.cpp source serves every build directory
  const bundle = ensureBundle(path.join(root, 'build', 'deps'));
  const cmakeJs = path.join(root, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  if (!existsSync(cmakeJs)) fail('cmake-js is not installed; run npm install first');
  const parallel = String(Number(process.env.SPECEXEC_JOBS) || os.availableParallelism());
  const args = [
    cmakeJs,
    'build',
    '--directory',
    path.join(root, 'engine-native'),
    '--out',
    buildDir,
    '--parallel',
    parallel,
    '--log-level',
    'warn',
    ...cmakeFlags(backend, bundle),
  ];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) fail('cmake-js build returned an error (see the compiler output above)');
  const addon = path.join(buildDir, 'Release', 'specexec.node');
  if (!existsSync(addon)) fail(`build finished but ${addon} is missing`);
  if (backend !== 'cpu') console.log(`specexec: built ${addon}; use it with SPECEXEC_NATIVE_BUILD=${path.relative(root, buildDir)}`);
}

main();
