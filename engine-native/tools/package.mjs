#!/usr/bin/env node
// Packages the extension for this machine's platform: specexec-code-<target>-<version>.vsix, with
// the portable CPU addon (every CPU of the platform). VS Code installs the .vsix whose target
// matches the user's platform (vsce package --target); a native addon cannot be cross-built, so each
// target is packaged on a machine of its own platform (docs/building.md, "Packages").
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TARGETS = { 'linux-x64': 'linux-x64', 'linux-arm64': 'linux-arm64', 'darwin-x64': 'darwin-x64', 'darwin-arm64': 'darwin-arm64' };

function fail(message) {
  console.error(`specexec: package: ${message}`);
  process.exit(1);
}

const target = TARGETS[`${process.platform}-${process.arch}`];
if (!target) fail(`no VS Code target for ${process.platform}-${process.arch} (supported: ${Object.keys(TARGETS).join(', ')})`);
const cache = path.join(root, 'build', 'CMakeCache.txt');
if (!existsSync(path.join(root, 'build', 'Release', 'specexec.node')) || !existsSync(cache)) {
  fail('no engine build in build/: run `npm run build` first');
}
// a -march=native addon would die of SIGILL on users' older CPUs
const cpu = /^SPECEXEC_CPU:\w+=(\w+)$/m.exec(readFileSync(cache, 'utf8'))?.[1];
if (cpu !== 'portable') fail(`build/ holds a ${cpu} build; rebuild the portable one: rm -rf build && npm run build`);
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const out = `specexec-code-${target}-${version}.vsix`;
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const r = spawnSync(
  process.execPath,
  [
    vsce,
    'package',
    '--target',
    target,
    '--out',
    out,
    '--no-dependencies',
    '--allow-missing-repository',
    '--readme-path',
    'extension/README.md',
  ],
  { stdio: 'inherit', cwd: root },
);
if (r.status !== 0) fail('vsce package failed (see above)');
console.log(`specexec: ${out} (${target}, portable CPU addon)`);
