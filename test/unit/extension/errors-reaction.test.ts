// The engine error -> user reaction table (extension/errors.ts): each model-file failure keeps the
// engine's code and names the setting to fix, cancellation is never shown, the rest offers log/restart;
// and how often a reaction is shown (ErrorRepeats).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { ErrorCodes } from '../../../engine-native/host/protocol';
import {
  EngineError,
  ErrorRepeats,
  isCancellation,
  modelRole,
  reactionTo,
  REPEAT_AFTER_MS,
  toEngineError,
} from '../../../extension/errors';

const models = { targetModelPath: '/m/target.gguf', draftModelPath: '/m/target.gguf.draft' };
const titles = (e: EngineError) => reactionTo(e, models)?.actions.map((a) => a.title);

test('cancellation is recognised by its code only, and is never shown', () => {
  const cancelled = new ResponseError(ErrorCodes.RequestCancelled, 'superseded by newer requests before it started');
  assert.equal(isCancellation(cancelled), true);
  assert.equal(isCancellation(new EngineError('cancelled', ErrorCodes.RequestCancelled)), true);
  assert.equal(isCancellation(new Error('cancelled')), false);
  assert.equal(isCancellation(undefined), false);
  assert.equal(reactionTo(toEngineError(cancelled), models), undefined);
});

test("toEngineError keeps the engine's message and code", () => {
  const e = toEngineError(new ResponseError(ErrorCodes.ModelInvalid, 'not a GGUF model file (wrong magic bytes): /m/x'));
  assert.ok(e instanceof EngineError);
  assert.equal(e.code, ErrorCodes.ModelInvalid);
  assert.equal(e.message, 'not a GGUF model file (wrong magic bytes): /m/x');
  const same = new EngineError('x', ErrorCodes.Busy);
  assert.equal(toEngineError(same), same);
  assert.equal(toEngineError('boom').message, 'boom');
  assert.equal(toEngineError({ message: 'no code', code: 'E' }).code, undefined);
});

test("a model-file failure keeps the engine's reason and names the setting of the file it is about", () => {
  for (const code of [ErrorCodes.ModelMissing, ErrorCodes.ModelInvalid, ErrorCodes.ModelUnsupported]) {
    const target = reactionTo(new EngineError('model file not found: /m/target.gguf', code), models)!;
    assert.equal(target.message, 'SpecExec: target model (specexec.targetModelPath): model file not found: /m/target.gguf');
    assert.deepEqual(target.actions, [
      { title: 'Choose model…', command: 'specexec.chooseTargetModel' },
      { title: 'Open settings', command: 'workbench.action.openSettings', args: ['specexec.targetModelPath'] },
      { title: 'Show log', command: 'specexec.showLog' },
    ]);
    const draft = reactionTo(new EngineError('corrupt GGUF file: /m/target.gguf.draft', code), models)!;
    assert.match(draft.message, /^SpecExec: draft model \(specexec\.draftModelPath\): corrupt GGUF file/);
    assert.equal(draft.actions[0].command, 'specexec.chooseDraftModel');
    assert.deepEqual(draft.actions[1].args, ['specexec.draftModelPath']);
  }
});

test('modelRole: the longest path the message names; the target when it names none', () => {
  assert.equal(modelRole('x: /m/target.gguf', models), 'target');
  assert.equal(modelRole('x: /m/target.gguf.draft', models), 'draft');
  assert.equal(modelRole('no model path given', models), 'target');
  assert.equal(modelRole('x: /m/target.gguf', { targetModelPath: '/m/target.gguf', draftModelPath: null }), 'target');
});

test('the other engine codes get the buttons that can fix them', () => {
  const vocab = reactionTo(new EngineError('the draft and target models use different tokenizers', ErrorCodes.VocabMismatch), models)!;
  assert.equal(vocab.message, 'SpecExec: the draft and target models use different tokenizers');
  assert.deepEqual(
    vocab.actions.map((a) => [a.command, ...(a.args ?? [])]),
    [['specexec.chooseDraftModel'], ['workbench.action.openSettings', 'specexec.draftModelPath'], ['specexec.showLog']],
  );
  assert.deepEqual(reactionTo(new EngineError('no CPU backend', ErrorCodes.BackendUnavailable), models)!.actions[0].args, [
    'specexec.nativeBuild',
  ]);
  for (const e of [
    new EngineError('the engine crashed 5 times within 60 s'),
    new EngineError('llama_decode failed', ErrorCodes.DecodeFailed),
    toEngineError(new ResponseError(ErrorCodes.InternalError, 'the engine process ended during the request initialize')),
  ]) {
    assert.deepEqual(titles(e), ['Show log', 'Restart']);
    assert.equal(reactionTo(e, models)!.message, `SpecExec: ${e.message}`);
  }
});

test('a context that does not fit (memory or prompt) names specexec.contextSize, not the model file', () => {
  const messages = {
    [ErrorCodes.ContextTooLarge]:
      'cannot create a context of 131072 tokens for /m/target.gguf (not enough memory for it?): lower contextSize',
    [ErrorCodes.ContextOverflow]: 'the prompt has 5000 tokens but the context holds 4096; shorten it or raise contextSize',
  };
  for (const [code, text] of Object.entries(messages)) {
    const r = reactionTo(new EngineError(text, Number(code)), models)!;
    assert.equal(r.message, `SpecExec: context size (specexec.contextSize): ${text}`);
    assert.deepEqual(r.actions, [
      { title: 'Open settings', command: 'workbench.action.openSettings', args: ['specexec.contextSize'] },
      { title: 'Show log', command: 'specexec.showLog' },
    ]);
  }
});

test('ErrorRepeats: an error of a kind shown lately stays quiet, another kind or a later one is shown, clear forgets', () => {
  const repeats = new ErrorRepeats();
  const overflow = (n: number) => new EngineError(`the prompt has ${n} tokens but the context holds 4096`, ErrorCodes.ContextOverflow);
  assert.equal(repeats.admit(overflow(5000), 0), true);
  assert.equal(repeats.admit(overflow(5001), 1000), false, 'the same code, another number in the message: the same kind');
  assert.equal(repeats.admit(new EngineError('llama_decode failed', ErrorCodes.DecodeFailed), 2000), true);
  assert.equal(repeats.admit(new EngineError('the engine crashed 5 times within 60 s'), 3000), true, 'no code: the message is the kind');
  assert.equal(repeats.admit(new EngineError('the engine crashed 5 times within 60 s'), 4000), false);
  assert.equal(repeats.admit(overflow(5002), REPEAT_AFTER_MS - 1), false);
  assert.equal(repeats.admit(overflow(5002), REPEAT_AFTER_MS), true, 'shown again once the quiet time is over');
  repeats.clear();
  assert.equal(repeats.admit(overflow(5003), REPEAT_AFTER_MS + 1), true);
});
