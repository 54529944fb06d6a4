// The settings' one declaration, package.json: the engine-facing ones default to the protocol's
// DEFAULTS unless listed here with the reason, and the user-facing reference (extension/README.md)
// states every setting with its declared default.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../../engine-native/host/native';
import { DEFAULTS } from '../../../engine-native/host/protocol';
import { DEFAULT_IDLE_EXIT_MS } from '../../../engine-native/host/shared-endpoint';
import { autoThreads, booleanSetting, budgetSetting, numberSetting, resolveThreads } from '../../../extension/declared';

const manifest = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
interface Declared {
  default: unknown;
  minimum?: number;
  maximum?: number;
  markdownDescription?: string;
  anyOf?: { type: string; minimum?: number; maximum?: number }[];
}
const settings = manifest.contributes.configuration.properties as Record<string, Declared>;

/** Settings sent to the engine as a protocol field of the same meaning (threads differs: see its own test). */
const ENGINE_FIELDS: Record<string, number> = {
  'specexec.contextSize': DEFAULTS.initialize.contextSize,
  'specexec.vramBudgetMiB': DEFAULTS.initialize.vramBudgetMiB,
  'specexec.targetGpuLayers': DEFAULTS.initialize.targetGpuLayers,
  'specexec.draftGpuLayers': DEFAULTS.initialize.draftGpuLayers,
  'specexec.maxTokens': DEFAULTS.sampling.maxTokens,
  'specexec.temperature': DEFAULTS.sampling.temperature,
  'specexec.chat.maxTokens': DEFAULTS.sampling.maxTokens,
  'specexec.chat.temperature': DEFAULTS.sampling.temperature,
};

/** Where the editor wants another default than a bare protocol client, and why. */
const DIFFERENT_ON_PURPOSE: Record<string, string> = {
  'specexec.targetGpuLayers': 'nothing on the GPU until asked: a target that does not fit in VRAM would fail to load',
  'specexec.draftGpuLayers': 'the same, for the draft',
  'specexec.chat.maxTokens': 'a chat answer runs longer than a completion',
  'specexec.chat.temperature': 'a chat answer reads better a little varied; completions stay greedy',
};

test("engine-facing settings default to the protocol's value, or differ for a stated reason", () => {
  for (const [key, value] of Object.entries(ENGINE_FIELDS)) {
    assert.ok(key in settings, `package.json lacks ${key}`);
    if (key in DIFFERENT_ON_PURPOSE) assert.notEqual(settings[key].default, value, `${key} now equals the protocol: drop it from the list`);
    else assert.equal(settings[key].default, value, key);
  }
});

test('extension/README.md lists every setting with its declared default', () => {
  const readme = readFileSync(path.join(packageRoot(), 'extension', 'README.md'), 'utf8');
  for (const [key, { default: value }] of Object.entries(settings)) {
    assert.ok(
      readme.includes(`| \`${key}\` | \`${JSON.stringify(value)}\` |`),
      `extension/README.md: no row for ${key} with default ${JSON.stringify(value)}`,
    );
  }
});

test("threads 0 means the editor's choice, resolved before the engine, whose own 0 means another count", () => {
  // the setting: all cores but one, at most 8 (the editor keeps a core); the engine: the hardware threads, at most 16
  assert.equal(settings['specexec.threads'].default, 0);
  assert.match(settings['specexec.threads'].markdownDescription ?? '', /`0`: all cores but one \(at most 8\)/);
  assert.equal(DEFAULTS.initialize.threads, 0);
  assert.deepEqual(
    [1, 2, 4, 9, 64].map((cores) => autoThreads(cores)),
    [1, 1, 3, 8, 8],
  );
  for (const cores of [1, 2, 4, 9, 64]) assert.equal(resolveThreads(0, cores), autoThreads(cores), 'the engine never receives 0');
  assert.equal(resolveThreads(6, 64), 6);
});

test('number settings are rounded to integers and clamped to the range package.json declares', () => {
  const { minimum, maximum } = settings['specexec.contextSize'];
  assert.equal(numberSetting('contextSize', 1e9), maximum);
  assert.equal(numberSetting('contextSize', 1), minimum);
  assert.equal(numberSetting('contextSize', 2048.6), 2049);
  assert.equal(numberSetting('contextSize', '2048'), settings['specexec.contextSize'].default, 'not a number: the default');
  assert.equal(numberSetting('contextSize', Number.NaN), settings['specexec.contextSize'].default);
  assert.equal(numberSetting('temperature', 0.25), 0.25, 'a number setting keeps its fraction');
  assert.equal(numberSetting('temperature', 7), settings['specexec.temperature'].maximum);
});

test('budget: "auto", or a number clamped to its declared integer range', () => {
  const range = settings['specexec.budget'].anyOf!.find((a) => a.type === 'integer')!;
  assert.deepEqual([range.minimum, range.maximum], [1, 4096]);
  assert.equal(budgetSetting('auto'), 'auto');
  assert.equal(budgetSetting(undefined), 'auto');
  assert.equal(budgetSetting('many'), 'auto');
  assert.equal(budgetSetting(64), 64);
  assert.equal(budgetSetting(63.7), 64);
  assert.equal(budgetSetting(100_000), range.maximum);
  assert.equal(budgetSetting(0), range.minimum);
  assert.equal(budgetSetting(-5), range.minimum);
});

test("the shared engine's idle time defaults to the engine host's own (the CLI's --shared), and a boolean setting to its declaration", () => {
  assert.equal(settings['specexec.sharedEngineIdleMinutes'].default, DEFAULT_IDLE_EXIT_MS / 60_000);
  assert.equal(booleanSetting('sharedEngine', false), false);
  assert.equal(booleanSetting('sharedEngine', 'no'), settings['specexec.sharedEngine'].default, 'not a boolean: the default');
  assert.equal(booleanSetting('enable', undefined), true);
  assert.throws(() => booleanSetting('contextSize', true), /no boolean default/);
});
