// A real VS Code for the end-to-end tests: code-server 4.100.3 (VS Code 1.100.3) from the npm
// registry, installed on first use into a cache outside node_modules, driven by Debian's Chromium
// through playwright-core. See ../shared/recipes/vscode-e2e in the project notes and
// docs/testing.md ("End-to-end tests in a real VS Code"). This module only exports helpers (node --test also loads it).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const CODE_SERVER_VERSION = process.env.SPECEXEC_CODE_SERVER_VERSION || '4.100.3';
export const CACHE = process.env.SPECEXEC_E2E_CACHE || path.join(os.homedir(), '.cache', 'specexec-e2e');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const APT_PACKAGES = ['chromium', 'libkrb5-dev', 'ripgrep'];

function root(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'specexec-code') return dir;
    if (path.dirname(dir) === dir) throw new Error('package root not found');
  }
}
export const ROOT = root();

function log(msg: string): void {
  if (process.env.SPECEXEC_E2E_VERBOSE !== '0') process.stderr.write(`[e2e] ${msg}\n`);
}

function aptMissing(): string[] {
  return APT_PACKAGES.filter((p) => {
    try {
      return !/install ok installed/.test(execFileSync('dpkg-query', ['-W', '-f=${Status}', p], { stdio: 'pipe' }).toString());
    } catch {
      return true;
    }
  });
}

/** Installs the Debian packages (as root) or explains what is missing. */
function ensureApt(): void {
  const missing = aptMissing();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`the e2e tests need the Debian packages ${missing.join(' ')}: sudo apt-get install -y ${missing.join(' ')}`);
  }
  log(`apt-get install ${missing.join(' ')}`);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-qq', ...missing], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** The code-server entry script, installing code-server (and the apt packages) on first use. */
export function ensureCodeServer(): string {
  ensureApt();
  const dir = path.join(CACHE, `code-server-${CODE_SERVER_VERSION}`);
  const entry = path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
  const stamp = path.join(dir, '.installed');
  if (fs.existsSync(entry) && fs.existsSync(stamp)) return entry;
  log(`installing code-server ${CODE_SERVER_VERSION} into ${dir} (first use, a few minutes)`);
  const tmp = path.join(dir, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'specexec-e2e-code-server', private: true }));
  // @vscode/ripgrep downloads rg from GitHub in its postinstall unless this cached tarball exists: seed it with Debian's rg
  const rgCache = path.join(tmp, 'vscode-ripgrep-cache-1.15.11');
  fs.mkdirSync(rgCache, { recursive: true });
  fs.mkdirSync(path.join(tmp, 'rg'), { recursive: true });
  fs.copyFileSync('/usr/bin/rg', path.join(tmp, 'rg', 'rg'));
  execFileSync('tar', ['czf', path.join(rgCache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz'), '-C', path.join(tmp, 'rg'), 'rg']);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: dir,
    stdio: ['ignore', 'inherit', 'inherit'],
    // node-pty's postinstall runs `npx node-gyp`; code-server's postinstall refuses root without unsafe_perm
    env: { ...process.env, TMPDIR: tmp, npm_config_yes: 'true', npm_config_unsafe_perm: 'true', npm_config_update_notifier: 'false' },
  });
  const version = execFileSync(process.execPath, [entry, '--version'], { env: { ...process.env, HOME: tmp } }).toString();
  if (!version.split('\n').some((l) => l.startsWith(`${CODE_SERVER_VERSION} `)))
    throw new Error(`installed code-server reports ${version}`);
  fs.writeFileSync(stamp, version);
  return entry;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Profile {
  work: string;
  workspace: string;
  userData: string;
  extensions: string;
  env: NodeJS.ProcessEnv;
  common: string[];
}

/** A throwaway profile: workspace files, user settings, config, HOME/TMPDIR of its own. */
export function makeProfile(prefix: string, files: Record<string, string>, settings: Record<string, unknown>): Profile {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const workspace = path.join(work, 'ws');
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
    fs.writeFileSync(path.join(workspace, name), content);
  }
  fs.mkdirSync(workspace, { recursive: true });
  const userData = path.join(work, 'ud');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'security.workspace.trust.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'update.mode': 'none',
        'workbench.enableExperiments': false,
        'workbench.tips.enabled': false,
        'editor.minimap.enabled': false,
        'chat.commandCenter.enabled': false,
        'git.enabled': false,
        'typescript.disableAutomaticTypeAcquisition': true,
        'editor.quickSuggestions': { other: false, comments: false, strings: false },
        'editor.suggestOnTriggerCharacters': false,
        'editor.acceptSuggestionOnEnter': 'off',
        'editor.autoClosingBrackets': 'never',
        ...settings,
      },
      null,
      1,
    ),
  );
  fs.writeFileSync(path.join(work, 'config.yaml'), 'auth: none\n');
  const extensions = path.join(work, 'exts');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    EXTENSIONS_GALLERY: '{}',
    HOME: work,
    TMPDIR: work,
    XDG_CONFIG_HOME: path.join(work, 'xdg'),
  };
  const common = ['--config', path.join(work, 'config.yaml'), '--user-data-dir', userData, '--extensions-dir', extensions];
  return { work, workspace, userData, extensions, env, common };
}

export interface Server {
  port: number;
  origin: string;
  process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export async function startCodeServer(entry: string, profile: Profile, extraEnv: NodeJS.ProcessEnv = {}): Promise<Server> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      entry,
      ...profile.common,
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      profile.workspace,
    ],
    { env: { ...profile.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    out += d;
  });
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (proc.exitCode !== null || i > 600) throw new Error(`code-server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    port,
    origin,
    process: proc,
    log: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      try {
        process.kill(-proc.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    },
  };
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  // no DNS for anything but loopback
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/**
 * The models the tests use: the bundled trained pair if present (and preferred), else the random
 * test pair. Assertions on fixed prompts need the random pair: it is deterministic, while the
 * trained pair's completions change with every retraining (and may post-process to nothing).
 */
export function testModels(preferBundled = true): { target: string; draft: string; bundled: boolean } {
  const target = path.join(ROOT, 'models', 'specexec-target.gguf');
  const draft = path.join(ROOT, 'models', 'specexec-draft.gguf');
  if (preferBundled && process.env.SPECEXEC_E2E_RANDOM_MODELS !== '1' && fs.existsSync(target) && fs.existsSync(draft)) {
    return { target, draft, bundled: true };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { testModelPair } = require('../helpers/models') as typeof import('../helpers/models');
  return { ...testModelPair(), bundled: false };
}

export function rmrf(p: string): void {
  fs.rmSync(p, { recursive: true, force: true });
}
