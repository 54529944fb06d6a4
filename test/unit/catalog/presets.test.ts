// The recommended pairs: each names the repositories and files of llama.cpp's own preset in the
// pinned source (common/arg.cpp, read when the native build has unpacked it), and the machine-size
// filter keeps exactly the pairs whose estimate fits, largest first.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { findPreset, MODEL_PRESETS, presetRamBytes, presetsThatFit } from '../../../engine-native/catalog/presets';

const ARG_CPP = path.join(__dirname, '..', '..', '..', '..', 'build', 'llama.cpp', 'common', 'arg.cpp');

/** The hub files a llama.cpp preset flag sets: its model, and its draft for a -spec preset. */
function llamaCppPreset(source: string, flag: string): { model: string[]; draft: string[] } {
  const start = source.indexOf(`{"${flag}"}`);
  assert.ok(start >= 0, `${flag} is not in arg.cpp`);
  const body = source.slice(start, source.indexOf('set_examples', start));
  const value = (field: string) => body.match(new RegExp(`params\\.${field.replace(/\./g, '\\.')} = "([^"]+)"`))?.[1] ?? '';
  return {
    model: [value('model.hf_repo'), value('model.hf_file')],
    draft: [value('speculative.draft.mparams.hf_repo'), value('speculative.draft.mparams.hf_file')],
  };
}

describe('recommended model pairs', () => {
  test("each preset's files are the ones llama.cpp's preset of the pinned source downloads", (t) => {
    if (!existsSync(ARG_CPP)) return t.skip(`${ARG_CPP} is unpacked by the native build (npm install)`);
    const source = readFileSync(ARG_CPP, 'utf8');
    const draftOfSpec = llamaCppPreset(source, '--fim-qwen-7b-spec').draft;
    for (const preset of MODEL_PRESETS) {
      const flag = llamaCppPreset(source, preset.llamaCppPreset);
      assert.deepEqual([preset.target.repo, preset.target.file], flag.model, preset.id);
      // a -default preset runs its target alone: the draft is the one llama.cpp's -spec presets use
      assert.deepEqual(
        [preset.draft.repo, preset.draft.file],
        preset.llamaCppPreset.endsWith('-spec') ? flag.draft : draftOfSpec,
        preset.id,
      );
    }
  });

  test('ids are unique and found by findPreset; targets grow; every draft is smaller than its target', () => {
    assert.equal(new Set(MODEL_PRESETS.map((p) => p.id)).size, MODEL_PRESETS.length);
    for (const preset of MODEL_PRESETS) {
      assert.equal(findPreset(preset.id), preset);
      assert.ok(preset.draft.approxBytes < preset.target.approxBytes / 2, preset.id);
    }
    const sizes = MODEL_PRESETS.map((p) => p.target.approxBytes);
    assert.deepEqual(
      sizes,
      [...sizes].sort((a, b) => a - b),
    );
    assert.equal(findPreset('no-such-preset'), undefined);
  });

  test('size estimates are Q8_0 sized: 34 bytes per 32 weights', () => {
    const seven = findPreset('qwen2.5-coder-7b');
    assert.ok(seven);
    assert.equal(seven.target.approxBytes, Math.round(7.61e9 * 1.0625));
    assert.ok(presetRamBytes(seven) > seven.target.approxBytes + seven.draft.approxBytes);
  });

  test('presetsThatFit keeps the pairs that fit in the RAM given, largest target first', () => {
    assert.deepEqual(presetsThatFit(0), []);
    assert.deepEqual(
      presetsThatFit(Number.MAX_SAFE_INTEGER).map((p) => p.id),
      ['qwen2.5-coder-14b', 'qwen2.5-coder-7b', 'qwen2.5-coder-3b', 'qwen2.5-coder-1.5b'],
    );
    const seven = findPreset('qwen2.5-coder-7b');
    assert.ok(seven);
    const exactly = presetRamBytes(seven);
    assert.equal(presetsThatFit(exactly)[0], seven);
    assert.equal(presetsThatFit(exactly - 1)[0].id, 'qwen2.5-coder-3b');
  });
});
