// Runs the same in-editor Mocha suite in desktop VS Code through @vscode/test-electron, where VS Code
// can be downloaded (not on the project's offline build machine: use test/e2e/extension-host.test.ts there).
//   node esbuild.mjs && node dist/e2e-host/run-test-electron.js
// VSCODE_EXECUTABLE=/path/to/code uses an installed VS Code instead of downloading one.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { SUITE_SETTINGS } from './suite-settings';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'specexec-electron-'));
  const ws = path.join(work, 'ws');
  fs.mkdirSync(path.join(work, 'ud', 'User'), { recursive: true });
  fs.mkdirSync(ws);
  const bundled = fs.existsSync(path.join(root, 'models', 'specexec-target.gguf'));
  const models = bundled
    ? {}
    : {
        'specexec.targetModelPath': path.join(root, 'test', '.models', 'target-2L64d-s1-n0.gguf'),
        'specexec.draftModelPath': path.join(root, 'test', '.models', 'draft-2L64d-s1-n0.5.gguf'),
      };
  fs.writeFileSync(
    path.join(work, 'ud', 'User', 'settings.json'),
    JSON.stringify({
      ...models,
      ...SUITE_SETTINGS,
      'workbench.startupEditor': 'none',
      'security.workspace.trust.enabled': false,
    }),
  );
  const code = await runTests({
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE || undefined,
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'dist', 'e2e-host', 'index.js'),
    launchArgs: [ws, '--user-data-dir', path.join(work, 'ud'), '--disable-extensions', '--disable-workspace-trust'],
    // the extension host's shared engine lives in the run's own folder, apart from the user's
    extensionTestsEnv: { SPECEXEC_E2E_RESULTS: path.join(work, 'results.json'), SPECEXEC_RUNTIME_DIR: path.join(work, 'run') },
  });
  process.exit(code);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
