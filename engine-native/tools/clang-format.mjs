#!/usr/bin/env node
// `npm run format` / `npm run lint` for the C++ side: clang-format (engine-native/.clang-format, llama.cpp's
// style) over our own C++ files. `--check` changes nothing and fails listing the files that are not
// formatted. The clang-format binary is $CLANG_FORMAT or `clang-format` on PATH (Debian: apt install
// clang-format, version 14 or newer).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const engineDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['src', 'addon', 'testing'];
const clangFormat = process.env.CLANG_FORMAT || 'clang-format';
const check = process.argv.includes('--check');

function sourceFiles() {
  const files = [];
  for (const dir of SOURCE_DIRS) {
    for (const name of readdirSync(path.join(engineDir, dir)).sort()) {
      if (/\.(cpp|h)$/.test(name)) files.push(path.join(engineDir, dir, name));
    }
  }
  return files;
}

function runClangFormat(args) {
  const r = spawnSync(clangFormat, args, { cwd: engineDir, encoding: 'utf8' });
  if (r.error) {
    console.error(
      `clang-format: cannot run '${clangFormat}' (${r.error.code}). Install it (Debian/Ubuntu: ` +
        `apt install clang-format) or point CLANG_FORMAT at the binary.`,
    );
    process.exit(2);
  }
  return r;
}

const files = sourceFiles();
if (!check) {
  const r = runClangFormat(['-i', ...files]);
  process.stderr.write(r.stderr);
  process.exit(r.status ?? 1);
}
const r = runClangFormat(['--dry-run', '--Werror', ...files]);
const unformatted = [...new Set([...r.stderr.matchAll(/^(\S+?):\d+:\d+: error/gm)].map((m) => path.relative(engineDir, m[1])))];
if (r.status !== 0) {
  console.error(unformatted.length ? `clang-format: not formatted: ${unformatted.join(', ')}. Run: npm run format` : r.stderr);
  process.exit(1);
}
console.log(`clang-format: ${files.length} C++ files formatted`);
