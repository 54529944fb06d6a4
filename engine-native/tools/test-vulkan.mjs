#!/usr/bin/env node
// npm run test:vulkan: builds the Vulkan variant of the engine (build-vulkan/, never touching the
// CPU addon in build/) and runs test/vulkan/ against it. Without a GPU it runs on Mesa's software
// Vulkan device (lavapipe). As root on Debian/Ubuntu it installs the packages it needs first.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// lavapipe, the Vulkan loader and headers, the shader compiler, SPIR-V headers, vulkaninfo
const APT_PACKAGES = ['mesa-vulkan-drivers', 'libvulkan-dev', 'glslc', 'spirv-headers', 'vulkan-tools'];

function fail(message) {
  console.error(`\nspecexec test:vulkan: ${message}\n`);
  process.exit(1);
}

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
  if (r.status !== 0) fail(`'${[cmd, ...args].join(' ')}' failed`);
}

function installed(pkg) {
  return spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).stdout?.includes('install ok installed');
}

function ensurePackages() {
  if (spawnSync('dpkg-query', ['--version'], { stdio: 'ignore' }).status !== 0) return; // not Debian: trust the user
  const missing = APT_PACKAGES.filter((p) => !installed(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) fail(`missing packages: ${missing.join(' ')}. Install them: sudo apt-get install ${missing.join(' ')}`);
  console.log(`specexec test:vulkan: installing ${missing.join(' ')}`);
  run('apt-get', ['update', '-q']);
  run('apt-get', ['install', '-y', '-q', ...missing], { DEBIAN_FRONTEND: 'noninteractive' });
}

// ggml's Vulkan backend skips CPU-type devices unless told otherwise: when the only devices are
// software ones, name the first explicitly (a real GPU, when there is one, is used as it is).
function visibleDevices() {
  if (process.env.GGML_VK_VISIBLE_DEVICES !== undefined) return process.env.GGML_VK_VISIBLE_DEVICES;
  const r = spawnSync('vulkaninfo', ['--summary'], { encoding: 'utf8' });
  const types = [...(r.stdout ?? '').matchAll(/deviceType\s*=\s*(\w+)/g)].map((m) => m[1]);
  if (types.length === 0) fail('vulkaninfo lists no Vulkan device (is mesa-vulkan-drivers installed?)');
  if (types.some((t) => /DISCRETE_GPU|INTEGRATED_GPU/.test(t))) return undefined;
  return String(types.indexOf('PHYSICAL_DEVICE_TYPE_CPU'));
}

function main() {
  ensurePackages();
  const jobs = process.env.SPECEXEC_JOBS || '2';
  run(process.execPath, ['engine-native/tools/build-native.mjs'], { SPECEXEC_JOBS: jobs }); // the CPU build: the comparison's reference
  run(process.execPath, ['engine-native/tools/build-native.mjs'], { SPECEXEC_BACKEND: 'vulkan', SPECEXEC_JOBS: jobs });
  run(process.execPath, ['esbuild.mjs']);
  const devices = visibleDevices();
  const env = { SPECEXEC_NATIVE_BUILD: 'build-vulkan', ...(devices !== undefined ? { GGML_VK_VISIBLE_DEVICES: devices } : {}) };
  console.log(
    `specexec test:vulkan: SPECEXEC_NATIVE_BUILD=build-vulkan${devices !== undefined ? ` GGML_VK_VISIBLE_DEVICES=${devices}` : ''}`,
  );
  run(process.execPath, ['--test', '--test-concurrency=1', 'dist/vulkan-test/'], env);
}

main();
