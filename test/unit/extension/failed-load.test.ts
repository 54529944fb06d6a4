// When the extension asks the engine to load again after a refused load (extension/models.ts
// FailedLoad): not for the same inputs and model files, at once when a setting, the build or a
// model file (size, mtime) changed, or after forget (the user's Restart, new model settings).
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ErrorCodes } from '../../../engine-native/host/protocol';
import { EngineError } from '../../../extension/errors';
import { FailedLoad, type LoadInputs } from '../../../extension/models';

const dir = mkdtempSync(path.join(os.tmpdir(), 'specexec-failed-load-'));
const target = path.join(dir, 'target.gguf');
const draft = path.join(dir, 'draft.gguf');
const refused = new EngineError(`truncated GGUF file: ${target}`, ErrorCodes.ModelInvalid);

function inputs(change: Partial<LoadInputs['params']> = {}, nativeBuild = ''): LoadInputs {
  return { params: { targetModelPath: target, draftModelPath: draft, threads: 3, contextSize: 4096, ...change }, nativeBuild };
}

/** A FailedLoad that remembers `refused` for the default inputs, on fresh model files. */
function afterRefusal(): FailedLoad {
  writeFileSync(target, 'GGUF half a model');
  writeFileSync(draft, 'GGUF a draft');
  utimesSync(target, 1_000_000, 1_000_000);
  const failed = new FailedLoad();
  failed.remember(inputs(), refused);
  return failed;
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('nothing refused: load', () => {
  assert.equal(new FailedLoad().errorFor(inputs()), undefined);
});

test("the same inputs and files: the refused load's error, without asking the engine", () => {
  const failed = afterRefusal();
  assert.equal(failed.errorFor(inputs()), refused);
  assert.equal(failed.errorFor(inputs()), refused, 'every time');
});

test('another setting or engine build: load', () => {
  const failed = afterRefusal();
  assert.equal(failed.errorFor(inputs({ contextSize: 2048 })), undefined);
  assert.equal(failed.errorFor(inputs({ draftModelPath: null })), undefined);
  assert.equal(failed.errorFor(inputs({}, 'build-vulkan')), undefined);
  assert.equal(failed.errorFor(inputs()), refused, 'the refused inputs are still refused');
});

test('a model file that changed size or mtime, or appeared or went away: load', () => {
  let failed = afterRefusal();
  appendFileSync(target, ' and the rest of it'); // a download that went on
  assert.equal(failed.errorFor(inputs()), undefined);
  failed = afterRefusal();
  utimesSync(target, 2_000_000, 2_000_000); // replaced by a file of the same size
  assert.equal(failed.errorFor(inputs()), undefined);
  failed = afterRefusal();
  rmSync(draft);
  assert.equal(failed.errorFor(inputs()), undefined);
  failed.remember(inputs(), new EngineError(`model file not found: ${draft}`, ErrorCodes.ModelMissing));
  assert.ok(failed.errorFor(inputs()));
  writeFileSync(draft, 'GGUF the draft, downloaded');
  assert.equal(failed.errorFor(inputs()), undefined);
});

test('forget (Restart, new model settings): load', () => {
  const failed = afterRefusal();
  failed.forget();
  assert.equal(failed.errorFor(inputs()), undefined);
});
