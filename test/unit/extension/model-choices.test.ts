// The "Choose Models…" picker's items (bundled demo pair, pairs on disk, presets), a download's
// progress line, the reaction to a failed download and when the first-start offer is due.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, HubDownloadError, progressText, type DownloadProgress } from '../../../engine-native/catalog/download';
import type { PairSuggestion } from '../../../engine-native/catalog/pairing';
import { MODEL_PRESETS, presetRamBytes } from '../../../engine-native/catalog/presets';
import {
  downloadReaction,
  modelChoiceItems,
  NOT_NOW_MS,
  progressPercent,
  setupOfferDue,
  type ChoiceInputs,
} from '../../../extension/model-choices';

const GB = 1e9;

/** A pair as suggestPairs() gives it, with only the fields the picker reads. */
function pair(target: string, draft: string, fields: Partial<PairSuggestion> = {}): PairSuggestion {
  const model = (name: string, sizeBytes: number, parameters: number) => ({
    path: `/models/${name}.gguf`,
    displayName: `org/${name}:${name}.gguf`,
    source: 'huggingface',
    info: { sizeBytes, parameters, quantization: 'Q8_0' },
  });
  return {
    target: model(target, 8 * GB, 7.6e9),
    draft: model(draft, 0.5 * GB, 0.49e9),
    totalBytes: 10 * GB,
    ramBytes: 10 * GB,
    gpu: null,
    fits: true,
    recommended: false,
    warnings: [],
    ...fields,
  } as unknown as PairSuggestion;
}

function inputs(overrides: Partial<ChoiceInputs> = {}): ChoiceInputs {
  return {
    pairs: [],
    presets: MODEL_PRESETS,
    availableBytes: 16 * GB,
    currentTargetPath: '/bundled.gguf',
    bundledInUse: true,
    ...overrides,
  };
}

const choices = (i: ChoiceInputs) => modelChoiceItems(i).filter((item) => item.choice);

test('the bundled pair comes first, labelled a demo, then the pairs on disk, the presets and a file picker', () => {
  const items = modelChoiceItems(inputs({ pairs: [pair('coder-7b', 'coder-0.5b', { recommended: true })] }));
  assert.match(items[0].label, /demo/i);
  assert.match(items[0].description!, /in use/);
  assert.deepEqual(items[0].choice, { kind: 'bundled' });
  assert.deepEqual(
    items.filter((i) => i.separator).map((i) => i.label),
    ['On this machine', 'Download from Hugging Face', 'Other'],
  );
  assert.deepEqual(
    choices(inputs({ pairs: [pair('coder-7b', 'coder-0.5b')] })).map((i) => i.choice!.kind),
    ['bundled', 'paths', ...MODEL_PRESETS.map(() => 'download'), 'browse'],
  );
});

test('a pair on disk shows its sizes, memory and marks, and choosing it names both files', () => {
  const [item] = choices(
    inputs({ pairs: [pair('coder-7b', 'coder-0.5b', { recommended: true })], currentTargetPath: '/models/coder-7b.gguf' }),
  ).filter((i) => i.choice!.kind === 'paths');
  assert.equal(item.label, '$(check-all) org/coder-7b:coder-7b.gguf + org/coder-0.5b:coder-0.5b.gguf');
  assert.equal(item.description, '8.5 GB on disk · needs 10.0 GB RAM · recommended · in use');
  assert.match(item.detail!, /^Q8_0, huggingface\. Good multi-line completions/);
  assert.deepEqual(item.choice, { kind: 'paths', targetModelPath: '/models/coder-7b.gguf', draftModelPath: '/models/coder-0.5b.gguf' });
});

test("a pair's warnings reach the item; one too large for the free RAM says so once, in its memory", () => {
  const instruct = 'The target looks like an instruct/chat model: completion works best with a base model that has FIM tokens.';
  const tooLarge = pair('big', 'small', {
    fits: false,
    totalBytes: 40 * GB,
    ramBytes: 40 * GB,
    warnings: [instruct, 'Needs 37.3 GiB of RAM, 14.9 GiB are free: …'],
  });
  const [item] = choices(inputs({ pairs: [tooLarge] })).filter((i) => i.choice!.kind === 'paths');
  assert.match(item.label, /^\$\(warning\)/);
  assert.match(item.description!, /needs 40\.0 GB RAM, more than the 16\.0 GB free/);
  assert.ok(item.detail!.includes(instruct));
  assert.doesNotMatch(item.detail!, /Needs /);
});

test('with a GPU, a pair shows the RAM it still needs and its layers on the GPU', () => {
  const gpu = { vramBytes: 8 * GB, draftLayers: 25, draftLayerCount: 25, targetLayers: 10, targetLayerCount: 29, deviceBytes: 3.2 * GB };
  const [item] = choices(inputs({ pairs: [pair('coder-7b', 'coder-0.5b', { ramBytes: 6 * GB, gpu })] })).filter(
    (i) => i.choice!.kind === 'paths',
  );
  assert.equal(item.description, '8.5 GB on disk · needs 6.0 GB RAM · GPU: draft 25/25, target 10/29 layers, 3.2 GB VRAM');
});

test('while the scan runs, and when it finds nothing, the disk group says so with a row that chooses nothing', () => {
  const scanning = modelChoiceItems(inputs({ pairs: undefined }));
  assert.ok(scanning.some((i) => /Looking for GGUF models/.test(i.label) && !i.choice));
  const none = modelChoiceItems(inputs({ pairs: [] }));
  assert.ok(none.some((i) => /No draft\/target pair found/.test(i.label) && !i.choice && /modelFolders/.test(i.detail!)));
});

test('each preset shows its download size, its memory against the free RAM and what it is good for', () => {
  const available = presetRamBytes(MODEL_PRESETS[1]);
  const items = choices(inputs({ availableBytes: available })).filter((i) => i.choice!.kind === 'download');
  assert.equal(items.length, MODEL_PRESETS.length);
  items.forEach((item, i) => {
    assert.equal(item.detail, MODEL_PRESETS[i].goodFor);
    assert.match(item.description!, /^download ~\d+(\.\d)? [MG]B · needs /);
    assert.equal(/more than the/.test(item.description!), i > 1, item.label);
    assert.equal(item.label.startsWith('$(warning)'), i > 1, item.label);
  });
});

const progress = (fields: Partial<DownloadProgress>): DownloadProgress => ({
  file: 'org/repo/model-q8_0.gguf',
  phase: 'downloading',
  bytesDone: 1.2 * GB,
  totalBytes: 8.6 * GB,
  bytesPerSecond: 45.3e6,
  secondsLeft: 150,
  ...fields,
});

test('the progress line: file, bytes of the total, speed and time left; the waiting and checking phases in words', () => {
  assert.equal(progressText(progress({})), 'model-q8_0.gguf: 1.2 GB of 8.6 GB · 45.3 MB/s · 3 min left');
  assert.equal(progressText(progress({ bytesPerSecond: 0, secondsLeft: undefined })), 'model-q8_0.gguf: 1.2 GB of 8.6 GB');
  assert.match(progressText(progress({ phase: 'waiting' })), /waiting for another download/);
  assert.match(progressText(progress({ phase: 'checking' })), /checking the part downloaded before/);
  assert.deepEqual([0, 59.4, 61, 3599, 3600, 5430].map(formatDuration), ['0 s', '59 s', '1 min', '60 min', '1 h 0 min', '1 h 31 min']);
  assert.equal(Math.round(progressPercent(progress({}))), 14);
  assert.equal(progressPercent(progress({ totalBytes: 0 })), 0);
});

test('a failed download: a token for 401, retry where it helps, nothing for a cancel', () => {
  const reaction = (code: ConstructorParameters<typeof HubDownloadError>[0]) => downloadReaction(new HubDownloadError(code, 'why', 401));
  assert.equal(reaction('cancelled'), undefined);
  assert.deepEqual(reaction('auth')!.actions, ['Set Hugging Face token…', 'Retry']);
  assert.equal(reaction('auth')!.message, 'SpecExec: download failed: why');
  for (const code of ['network', 'server', 'checksum'] as const) assert.ok(reaction(code)!.actions.includes('Retry'), code);
  for (const code of ['not-found', 'disk-space', 'bad-response'] as const) assert.deepEqual(reaction(code)!.actions, ['Show log'], code);
  assert.match(reaction('network')!.message, /continues where it stopped/);
});

test('the first-start offer: only with no target set, not after "Don\'t ask again", again a week after "Not now"', () => {
  const now = 1_000_000;
  assert.equal(setupOfferDue('', undefined, now), true);
  assert.equal(setupOfferDue(' ', undefined, now), true);
  assert.equal(setupOfferDue('~/models/7b.gguf', undefined, now), false);
  assert.equal(setupOfferDue('', { neverAgain: true }, now), false);
  assert.equal(setupOfferDue('', { notBefore: now + NOT_NOW_MS }, now), false);
  assert.equal(setupOfferDue('', { notBefore: now + NOT_NOW_MS }, now + NOT_NOW_MS), true);
});
