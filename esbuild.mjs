// Bundles the TypeScript entry points into dist/: the extension, the engine host process, the CLI
// and every test file (dist/test/**). The native addon is loaded at run time, never bundled.
import * as esbuild from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function testEntries(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!name.startsWith('.') && name !== 'fixtures') out.push(...testEntries(p));
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

await esbuild.build({
  ...common,
  entryPoints: testEntries('test'),
  outbase: 'test',
  outdir: 'dist/test',
});
