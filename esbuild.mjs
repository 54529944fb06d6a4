// Bundles the TypeScript entry points into dist/: the extension, the engine host process, the CLI,
// the chat webview's script and every test file (dist/test/**). The native addon is loaded at run
// time, never bundled.
import * as esbuild from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function testEntries(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      // vscode-host/ runs inside VS Code's extension host (Mocha), not under node --test, and vulkan/
      // needs the Vulkan build (npm run test:vulkan): both are built below, outside dist/test/
      if (!name.startsWith('.') && !['fixtures', 'vscode-host', 'vulkan'].includes(name)) out.push(...testEntries(p));
    } else if (/\.test\.ts$/.test(name) || (dir.includes(`${path.sep}e2e`) && /\.ts$/.test(name))) {
      out.push(p);
    }
  }
  return out;
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  external: ['vscode'],
  logLevel: 'warning',
};

await esbuild.build({
  ...common,
  entryPoints: {
    extension: 'extension/extension.ts',
    'engine-host': 'engine-native/host/engine-host.ts',
    cli: 'engine-native/cli/cli.ts',
  },
  outdir: 'dist',
});

// The chat webview's script (markdown-it and highlight.js inside), loaded by extension/chat/panel.ts
// from dist/webview/ with a nonce: one self-contained browser file, minified, no source map shipped.
await esbuild.build({
  entryPoints: { chat: 'extension/chat/webview.ts' },
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  minify: true,
  outdir: 'dist/webview',
  logLevel: 'warning',
});

await esbuild.build({
  ...common,
  entryPoints: testEntries('test'),
  // playwright-core (used by test/e2e) does not survive bundling: load it from node_modules
  external: [...common.external, 'playwright-core'],
  outbase: 'test',
  outdir: 'dist/test',
});

// The Mocha suite that runs inside a real VS Code extension host (test/e2e/vscode-host/), started by
// test/e2e/extension-host.test.ts (code-server) or by @vscode/test-electron (run-test-electron.js).
const hostDir = path.join('test', 'e2e', 'vscode-host');
await esbuild.build({
  ...common,
  entryPoints: readdirSync(hostDir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(hostDir, f)),
  outdir: 'dist/e2e-host',
  external: ['vscode', 'mocha', '@vscode/test-electron'],
});

// The typing-session benchmark's driver (npm run bench:typing): outside dist/test/, so npm test never runs it.
await esbuild.build({
  ...common,
  entryPoints: { 'bench-typing': 'test/bench/typing-session.ts' },
  outdir: 'dist',
  external: [...common.external, 'playwright-core'],
});

// The Vulkan build's tests (test/vulkan/), run by engine-native/tools/test-vulkan.mjs.
await esbuild.build({
  ...common,
  entryPoints: testEntries(path.join('test', 'vulkan')),
  outdir: 'dist/vulkan-test',
});
