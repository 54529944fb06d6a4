// A real VS Code for the end-to-end tests: code-server 4.100.3 (VS Code 1.100.3) from the npm
// registry, installed on first use into a cache outside node_modules, driven by Debian's Chromium
// through playwright-core. See ../shared/recipes/vscode-e2e in the project notes and
// docs/testing.md ("End-to-end tests in a real VS Code"). This module only exports helpers (node --test also loads it).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as util from 'node:util';
import type { EngineClient } from '../../engine-native/host/engine-client';
import { postprocess } from '../../extension/completion/postprocess';

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
        // the shared engine (the default) leaves when the test's windows close, and lives in the profile's folder
        'specexec.sharedEngineIdleMinutes': 0,
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
    SPECEXEC_RUNTIME_DIR: path.join(work, 'run'),
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

export const SHOTS = path.join(ROOT, 'build', 'e2e-screenshots');

// the editor shows U+00A0 for spaces and control pictures (U+2400 + c) for control characters
export const nbsp = (s: string) =>
  s.replace(/\u00a0/g, ' ').replace(/[\u2400-\u241f]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x2400));

/**
 * The ghost text as the user sees it: the inline part after the cursor, then the lines the editor
 * previews below it (a completion that starts with a line break has an empty inline part).
 */
export async function readGhostText(page: import('playwright-core').Page, editor: string): Promise<string> {
  const text = await page.$eval(editor, (root) => {
    const inline = [...root.querySelectorAll('.ghost-text-decoration')].map((e) => e.textContent).join('');
    const lines = [...root.querySelectorAll('.suggest-preview-text .view-line')].map((l) => l.textContent);
    return [inline, ...lines].join('\n');
  });
  return nbsp(text);
}

/**
 * The first-start offer ("Set up a real model…", extension/first-run.ts) shows while no target is
 * set: waits for its toast and answers "Not now", as a user would, so it covers nothing later.
 */
export async function dismissSetupOffer(page: import('playwright-core').Page): Promise<void> {
  const toast = page.locator('.notification-toast', { hasText: 'Set up a real model?' });
  await toast.waitFor({ state: 'visible', timeout: 30_000 });
  await toast.getByRole('button', { name: 'Not now' }).click();
  await toast.waitFor({ state: 'detached', timeout: 10_000 });
}

/** Headless Debian Chromium for a profile (playwright-core is loaded here: it does not survive bundling). */
export async function launchChromium(profile: Profile): Promise<import('playwright-core').Browser> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, env: { ...process.env, HOME: profile.work }, args: CHROMIUM_ARGS });
}

/** What typeAddPrompt() leaves in the file: a function header and the start of its body. */
export const ADD_PROMPT = 'function add(a: number, b: number): number {\n  return a';

/**
 * Opens `file` from the workspace with Quick Open, types ADD_PROMPT into it as a user would and
 * waits for ghost text; returns the editor's selector and the ghost text on screen.
 */
export async function typeAddPrompt(
  page: import('playwright-core').Page,
  file: string,
  timeoutMs: number,
): Promise<{ editor: string; ghost: string }> {
  await page.keyboard.press('Control+P');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(file);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${file}"]`, { timeout: 20_000 });
  await page.keyboard.press('Enter');
  await page.waitForSelector(`.tab.active[aria-label*="${file}"]`, { timeout: 20_000 });
  const editor = '.editor-group-container.active .monaco-editor';
  await page.click(`${editor} .view-lines`);
  // Enter auto-indents the next line: type the indentation-free text and let the editor indent
  await page.keyboard.type('function add(a: number, b: number): number {', { delay: 20 });
  await page.keyboard.press('Enter');
  await page.keyboard.type('return a', { delay: 60 });
  await page.waitForSelector(`${editor} .ghost-text-decoration, ${editor} .ghost-text`, { timeout: timeoutMs });
  await page.waitForTimeout(300); // let the view settle before reading and the screenshot
  return { editor, ghost: await readGhostText(page, editor) };
}

/** What the extension should show after ADD_PROMPT: the reference engine's greedy completion, post-processed as the provider does. */
export async function greedyAddCompletion(reference: EngineClient): Promise<string> {
  const greedy = await reference.complete({
    prompt: { prefix: ADD_PROMPT, suffix: '' },
    maxTokens: 32,
    temperature: 0,
    stop: ['\n\n\n'],
    budget: 4,
  });
  return postprocess(greedy.text, { linePrefix: '  return a', lineSuffix: '', nextLines: [], maxLines: 16 });
}

/** The settings of the ghost-text tests: short completions after a short pause, with fixed trees (budget 4) so that a reference engine at budget 4 gives the same numerics, and an editor that adds nothing to what is typed. */
export const GHOST_TEXT_SETTINGS = {
  'specexec.threads': 1,
  'specexec.maxTokens': 32,
  'specexec.debounceMs': 100,
  'specexec.budget': 4,
  'editor.inlineSuggest.enabled': true,
  'files.insertFinalNewline': false,
  'editor.tabSize': 2,
  'editor.detectIndentation': false,
  'editor.formatOnType': false,
};

/** Packages the extension into the profile's folder and installs the .vsix there, as a user would; returns how long packaging took. */
export function installPackagedVsix(entry: string, profile: Profile): { vsix: string; packageMs: number } {
  const vsix = path.join(profile.work, 'specexec-code.vsix');
  const t0 = Date.now();
  packageVsix(vsix);
  const packageMs = Date.now() - t0;
  const installed = execFileSync(process.execPath, [entry, ...profile.common, '--install-extension', vsix], {
    env: profile.env,
  }).toString();
  if (!/successfully installed/i.test(installed)) throw new Error(`the .vsix did not install:\n${installed}`);
  return { vsix, packageMs };
}

/** Opens the profile's workspace in the workbench and waits for the extension's status bar item (typing before activation gets no completions). */
export async function openWorkbench(page: import('playwright-core').Page, server: Server, profile: Profile): Promise<void> {
  await page.goto(`${server.origin}/?folder=${encodeURIComponent(profile.workspace)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
  await page.waitForSelector('.statusbar-item:has-text("SpecExec")', { timeout: 90_000 });
}

/** Runs `title` from the command palette. */
export async function runCommand(page: import('playwright-core').Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type(title);
  await page.waitForSelector(`.quick-input-list .monaco-list-row[aria-label*="${title}"]`, { timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/** `npm run package`'s vsce call, non-interactive (no repository field or LICENSE prompt). */
export function packageVsix(out: string): void {
  const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  execFileSync(
    process.execPath,
    [
      vsce,
      'package',
      '--no-dependencies',
      '--allow-missing-repository',
      '--skip-license',
      '--readme-path',
      path.join('extension', 'README.md'),
      '-o',
      out,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** What a Mocha suite run inside the extension host left: the workbench's exit code, its log lines, the server's log. */
export interface HostRun {
  exitCode: unknown;
  logLines: string[];
  serverLog: string;
}

/**
 * Runs a Mocha entry (dist/e2e-host/index.js) inside the extension host of code-server with this
 * package as the extension under development, in `profile`, driven by headless Chromium; `env`
 * reaches the extension host (the suite reads its inputs from it). Resolves when the workbench
 * exits (or after `timeoutMs`, with a screenshot in the profile).
 */
export async function runHostSuite(entry: string, profile: Profile, env: NodeJS.ProcessEnv, timeoutMs = 10 * 60_000): Promise<HostRun> {
  const extDev = ROOT;
  const extTests = path.join(ROOT, 'dist', 'e2e-host', 'index');
  for (const built of [extTests + '.js', path.join(ROOT, 'dist', 'extension.js')]) {
    if (!fs.existsSync(built)) throw new Error(`${built} is not built: run node esbuild.mjs`);
  }
  const server = await startCodeServer(entry, profile, { SPECEXEC_LOG_CONSOLE: '1', ...env });
  let exitCode: unknown;
  const logLines: string[] = [];
  let browser: import('playwright-core').Browser | undefined;
  try {
    browser = await launchChromium(profile);
    const page = await browser.newPage();
    const authority = `127.0.0.1:${server.port}`;
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${extDev}`],
      ['extensionTestsPath', `vscode-remote://${authority}${extTests}`],
    ];
    // newer web workbenches ignore `payload` without the smoke-test driver flag (harmless on 1.100)
    await page.addInitScript(() => {
      const orig = Element.prototype.getAttribute;
      Element.prototype.getAttribute = function (name: string) {
        const v = orig.call(this, name);
        if (name === 'data-settings' && this.id === 'vscode-workbench-web-configuration' && v) {
          const cfg = JSON.parse(v);
          cfg.developmentOptions = { ...(cfg.developmentOptions || {}), enableSmokeTestDriver: true };
          return JSON.stringify(cfg);
        }
        return v;
      };
    });
    const exited = new Promise((resolve) => void page.exposeFunction('codeAutomationExit', (code: unknown) => resolve(code)));
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[] = []) => {
      const line = typeof args[0] === 'string' ? util.format(...args) : args.map(String).join(' ');
      if (!/ENOTFOUND|^\s+at /.test(line)) logLines.push(`[vscode:${type}] ${line.split('\n')[0]}`);
    });
    await page.goto(
      `${server.origin}/?folder=${encodeURIComponent(profile.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`,
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    exitCode = await Promise.race([
      exited,
      new Promise((r) => {
        timer = setTimeout(() => r('timeout'), timeoutMs);
      }),
    ]);
    clearTimeout(timer); // a pending timer would keep this test process alive
    if (exitCode === 'timeout') await page.screenshot({ path: path.join(profile.work, 'timeout.png') });
  } finally {
    await browser?.close();
    await server.stop();
  }
  return { exitCode, logLines, serverLog: server.log() };
}
