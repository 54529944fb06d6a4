// The settings' one declaration, package.json: the engine-facing ones default to the protocol's
// DEFAULTS unless listed here with the reason, and the user-facing reference (extension/README.md)
// states every setting with its declared default.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../../../engine-native/host/native';
import { DEFAULTS } from '../../../engine-native/host/protocol';

const manifest = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8'));
const settings = manifest.contributes.configuration.properties as Record<string, { default: unknown }>;

/** Settings sent to the engine as a protocol field of the same meaning. */
const ENGINE_FIELDS: Record<string, number> = {
  'specexec.threads': DEFAULTS.initialize.threads,
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

test('engine-facing settings default to the protocol\'s value, or differ for a stated reason', () => {
  for (const [key, value] of Object.entries(ENGINE_FIELDS)) {
    assert.ok(key in settings, `package.json lacks ${key}`);
    if (key in DIFFERENT_ON_PURPOSE) assert.notEqual(settings[key].default, value, `${key} now equals the protocol: drop it from the list`);
    else assert.equal(settings[key].default, value, key);
  }
});

test('extension/README.md lists every setting with its declared default', () => {
  const readme = readFileSync(path.join(packageRoot(), 'extension', 'README.md'), 'utf8');
  for (const [key, { default: value }] of Object.entries(settings)) {
    assert.ok(readme.includes(`| \`${key}\` | \`${JSON.stringify(value)}\` |`), `extension/README.md: no row for ${key} with default ${JSON.stringify(value)}`);
  }
});
