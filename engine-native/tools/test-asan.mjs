#!/usr/bin/env node
// `npm run test:asan`: the engine test suites once more with the native addon (our engine and
// llama.cpp) built with AddressSanitizer, in its own build directory (build-asan/). Node itself is not
// instrumented, so libasan is preloaded into every process the tests start (the test runner, each
// engine host). Every process writes its report to build-asan/asan-logs/; the run fails on any
// AddressSanitizer error and on any leak allocated by the addon's own code. A leak belongs to whoever
// called the allocator: the first frame outside the sanitizer and the C/C++ runtimes. Leaks owned by
// node/V8 (process.exit() skips their clean-up; some are V8 objects the addon asked for) or python
// are counted but not held against the engine.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const buildDir = path.join(root, 'build-asan');
const logDir = path.join(buildDir, 'asan-logs');
const addon = path.join(buildDir, 'Release', 'specexec.node');
// memory-level assertions (flood, long-run) measure RSS, which ASan's quarantine makes meaningless
const SUITES = [
  'engine-process',
  'bad-models',
  'protocol-malformed',
  'protocol-fuzz',
  'oversized-input',
  'tree',
  'sampling',
  'specexec',
  'completion-features',
  'model-export',
];

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`test:asan: '${cmd} ${args.join(' ')}' failed (${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function buildAddon() {
  const flags = '-fsanitize=address -fno-omit-frame-pointer -g1';
  run(process.execPath, [path.join(root, 'engine-native/tools/build-native.mjs')], {
    SPECEXEC_BUILD_DIR: buildDir,
    // one CPU variant is enough to check our code and llama.cpp's, and builds in a fraction of the time
    SPECEXEC_CPU: process.env.SPECEXEC_CPU || 'native',
    CFLAGS: flags,
    CXXFLAGS: flags,
    LDFLAGS: '-fsanitize=address',
  });
  run(process.execPath, [path.join(root, 'esbuild.mjs')]);
}

function libasan() {
  const lib = execFileSync('c++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
  if (!path.isAbsolute(lib) || !existsSync(lib)) {
    console.error('test:asan: libasan not found; install it with your compiler (Debian: apt-get install libasan8)');
    process.exit(1);
  }
  return lib;
}

const RUNTIME = /asan_|libsanitizer|libstdc\+\+|libc\.so|libc_start|\/libc-|libgcc/;
// the addon and the llama.cpp libraries beside it (the portable build links them dynamically)
const OURS = /specexec(-testing)?\.node|libllama\.so|libggml[\w.-]*\.so/;

function allocatedByEngine(stack) {
  const frames = stack.split('\n').filter((l) => /^\s+#\d+ /.test(l));
  const owner = frames.find((f) => !RUNTIME.test(f));
  return owner !== undefined && OURS.test(owner);
}

// One report per process: "ERROR: AddressSanitizer: <kind>" (fatal) or LeakSanitizer's list of
// "Direct/Indirect leak of N byte(s)" blocks, each followed by its allocation stack.
function scanLogs() {
  const totals = { reports: 0, errors: [], engineLeaks: [], otherLeakBytes: 0 };
  for (const name of readdirSync(logDir)) {
    const text = readFileSync(path.join(logDir, name), 'utf8');
    totals.reports++;
    for (const m of text.matchAll(/ERROR: AddressSanitizer: ([^\n]+)/g)) totals.errors.push(`${name}: ${m[1]}`);
    for (const block of text.split(/\n(?=(?:Direct|Indirect) leak of )/).slice(1)) {
      const bytes = Number(/leak of (\d+) byte/.exec(block)[1]);
      const stack = block.split('\n\n')[0];
      if (allocatedByEngine(stack)) totals.engineLeaks.push(stack);
      else totals.otherLeakBytes += bytes;
    }
  }
  return totals;
}

function runSuites() {
  buildAddon();
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const files = SUITES.map((s) => path.join(root, 'dist', 'test', 'engine', `${s}.test.js`));
  // exitcode=0: leak reports must not fail node's or python's own exits; the logs decide instead
  return spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], {
    stdio: 'inherit',
    cwd: root,
    env: {
      ...process.env,
      LD_PRELOAD: libasan(),
      SPECEXEC_ADDON: addon,
      ASAN_OPTIONS: `detect_leaks=1:exitcode=0:log_path=${path.join(logDir, 'asan')}`,
    },
  }).status;
}

// --scan: only re-read the reports of the last run
function main() {
  const status = process.argv.includes('--scan') ? 0 : runSuites();
  const t = scanLogs();
  console.log(
    `test:asan: ${t.reports} process reports; ${t.errors.length} AddressSanitizer errors; ` +
      `${t.engineLeaks.length} leaks through the engine; ${t.otherLeakBytes} bytes leaked by node/python themselves (ignored)`,
  );
  for (const e of t.errors) console.log(`  error: ${e}`);
  for (const l of t.engineLeaks) console.log(`  leak:\n${l}`);
  process.exit(status === 0 && t.errors.length === 0 && t.engineLeaks.length === 0 ? 0 : 1);
}

main();
