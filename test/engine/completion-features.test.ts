// What the editor's completion features ask of the engine, through the real host process on real
// GGUF models: alternatives (the target's next first tokens, each continued exactly as the target
// would after it), warm-up (the prompt read ahead without generating), background priority
// (preempted by any other request), a cancelled generation keeping its history, and the
// repository-level FIM layout of extra context, golden against llama.cpp's server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CancellationTokenSource, type EngineClient } from '../../engine-native/host/engine-client';
import { loadAddon } from '../../engine-native/host/native';
import type { FimPrompt } from '../../engine-native/host/protocol';
import { defaultDraftModel, defaultTargetModel } from '../../engine-native/host/bundled-models';
import { startEngine } from '../helpers/engine';
import { repoFimTestModel, testModelPair } from '../helpers/models';

const PROMPT = 'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n';
const FIM: FimPrompt = { prefix: 'def area(w, h):\n    ', suffix: '\n\nprint(area(2, 3))\n' };
const EXTRA = [
  { filename: 'geometry/shapes.py', text: 'class Rect:\n    def __init__(self, w, h):\n        self.w = w\n' },
  { filename: 'util.py', text: 'def square(x):\n    return x * x\n' },
];

describe('completion features of the engine', () => {
  const models = testModelPair();
  let engine: EngineClient;

  before(async () => {
    engine = startEngine();
    await engine.initialize({ targetModelPath: models.target, draftModelPath: models.draft, threads: 2, contextSize: 1024 });
  });
  after(async () => engine.shutdown());

  test('alternatives: the next most likely first tokens, and each continuation equals autoregressive decoding after that token', async () => {
    const main = await engine.complete({ prompt: PROMPT, maxTokens: 24, mode: 'autoregressive', alternatives: 2 });
    assert.equal(main.alternatives.length, 2);
    const [a, b] = main.alternatives;
    assert.ok(a.p >= b.p && a.p > 0 && a.p < 1, `probabilities ${a.p}, ${b.p}`);
    assert.ok(!main.alternatives.some((c) => c.token === main.tokens[0]), 'the drawn token is not an alternative');
    assert.ok(
      main.alternatives.every((c) => c.tokens.length === 1 && c.continuation === c.text && !c.complete),
      'autoregressive: the first token alone',
    );
    // forcing the target's own first token changes nothing
    const same = await engine.complete({ prompt: PROMPT, maxTokens: 24, mode: 'autoregressive', forcedTokens: [main.tokens[0]] });
    assert.deepEqual(same.tokens, main.tokens);
    assert.deepEqual([main.stats.promptPassTokens, same.stats.promptPassTokens], [1, 1]);
    for (const choice of main.alternatives) {
      const reference = await engine.complete({ prompt: PROMPT, maxTokens: 24, mode: 'autoregressive', forcedTokens: [choice.token] });
      assert.equal(reference.tokens[0], choice.token);
      assert.ok(reference.text.startsWith(choice.text), `${JSON.stringify(reference.text)} starts with ${JSON.stringify(choice.text)}`);
      for (const budget of [4, 'auto'] as const) {
        const sx = await engine.complete({ prompt: PROMPT, maxTokens: 24, mode: 'specexec', budget, forcedTokens: [choice.token] });
        assert.deepEqual(sx.tokens, reference.tokens, `specexec (budget ${budget}) after token ${choice.token}`);
      }
    }
  });

  test('forced tokens the vocabulary cannot hold in a text are refused, naming the token', async () => {
    await assert.rejects(engine.complete({ prompt: PROMPT, maxTokens: 4, forcedTokens: [5, 999_999] }), /forcedTokens: 999999/);
  });

  test('warm-up reads the prompt without generating; a second one reuses all of it; the completion after it is unchanged', async () => {
    await engine.complete({ prompt: 'x = 1\n', maxTokens: 1 }); // another history in the cache
    const cold = await engine.complete({ prompt: FIM, maxTokens: 16, mode: 'specexec', budget: 4 });
    await engine.complete({ prompt: 'y = 2\n', maxTokens: 1 });
    const warm = await engine.warm({ prompt: FIM, maxTokens: 16 });
    assert.equal(warm.cancelled, false);
    assert.ok(warm.promptTokens > 10);
    assert.equal(warm.reusedTokens + warm.decodedTokens, warm.promptTokens - 1, 'all but the last token read');
    const again = await engine.warm({ prompt: FIM, maxTokens: 16 });
    assert.deepEqual([again.reusedTokens, again.decodedTokens], [again.promptTokens - 1, 0]);
    const after = await engine.complete({ prompt: FIM, maxTokens: 16, mode: 'specexec', budget: 4 });
    assert.deepEqual(after.tokens, cold.tokens);
  });

  test('a cancelled generation keeps its history: the next request reads only what is new', async () => {
    const source = new CancellationTokenSource();
    let deltas = 0;
    const run = engine.complete(
      { prompt: PROMPT, maxTokens: 400, mode: 'autoregressive' },
      () => {
        if (++deltas === 3) source.cancel();
      },
      source.token,
    );
    const r = await run.catch((e: Error) => e);
    assert.ok(!(r instanceof Error) || /cancel/i.test(r.message), String(r));
    const warm = await engine.warm({ prompt: PROMPT, maxTokens: 400 });
    assert.equal(warm.reusedTokens, warm.promptTokens - 1);
  });

  test('completions after generations cancelled at any point are exact: the history kept is the right one', async () => {
    const reference = startEngine();
    await reference.initialize({ targetModelPath: models.target, draftModelPath: models.draft, threads: 2, contextSize: 1024 });
    try {
      for (let i = 0; i < 12; i++) {
        const prefix = PROMPT.slice(0, 30 + i * 7);
        const source = new CancellationTokenSource();
        let deltas = 0;
        const stopAt = 1 + ((i * 7) % 11);
        const mode = i % 3 === 0 ? 'autoregressive' : 'specexec';
        await engine
          .complete(
            { prompt: { prefix, suffix: FIM.suffix }, maxTokens: 200, mode, budget: 8 },
            () => ++deltas === stopAt && source.cancel(),
            source.token,
          )
          .catch(() => undefined);
        const prompt = { prefix: prefix + 'x', suffix: FIM.suffix }; // the user typed on: it shares the start
        const got = await engine.complete({ prompt, maxTokens: 24, mode: 'specexec', budget: 4 });
        const want = await reference.complete({ prompt, maxTokens: 24, mode: 'autoregressive' });
        assert.deepEqual(got.tokens, want.tokens, `after a generation cancelled at delta ${stopAt} (${mode})`);
      }
    } finally {
      await reference.shutdown();
    }
  });

  test('a background completion gives way to any other request at once', async () => {
    const background = engine.complete({ prompt: PROMPT, maxTokens: 600, mode: 'autoregressive', priority: 'background' });
    const foreground = await engine.complete({ prompt: FIM, maxTokens: 8, mode: 'autoregressive' });
    assert.ok(foreground.tokens.length > 0);
    const stopped = await background;
    assert.equal(stopped.stopReason, 'cancelled');
    assert.ok(stopped.tokens.length < 600);
  });

  test('without repository tokens, extra context is laid out as llama.cpp server does: a snippet line before each chunk', async () => {
    const r = await engine.renderPrompt({ prompt: { ...FIM, extra: EXTRA }, maxTokens: 16 });
    const golden =
      '\n\n--- snippet ---\n\n' +
      EXTRA[0].text +
      '\n\n--- snippet ---\n\n' +
      EXTRA[1].text +
      '<｜begin▁of▁sentence｜><｜fim▁begin｜>' +
      FIM.prefix +
      '<｜fim▁hole｜>' +
      FIM.suffix +
      '<｜fim▁end｜>';
    assert.equal(r.text, golden);
    // no `extra` at all: the plain PSM layout, unchanged
    const plain = await engine.renderPrompt({ prompt: FIM, maxTokens: 16 });
    assert.equal(plain.text, `<｜begin▁of▁sentence｜><｜fim▁begin｜>${FIM.prefix}<｜fim▁hole｜>${FIM.suffix}<｜fim▁end｜>`);
  });
});

// On the bundled trained pair: its draft proposes the target's likely tokens, as a user's draft does.
describe('alternatives from the tree, on the bundled pair', () => {
  let engine: EngineClient;

  before(async () => {
    engine = startEngine();
    await engine.initialize({ targetModelPath: defaultTargetModel(), draftModelPath: defaultDraftModel(), threads: 2, contextSize: 1024 });
  });
  after(async () => engine.shutdown());

  test("alternatives from the tree: the prompt's pass verifies a draft tree, each alternative continues as far as it computed, exactly as the target would", async () => {
    const prompts = [
      PROMPT,
      FIM,
      { prefix: 'def fib(n):\n    if n < 2:\n        return n\n    return ', suffix: '\n' },
      'import os\nimport sys\n\n\ndef main():\n    args = sys.argv[1:]\n    for a in args:\n        print(',
    ];
    let continued = 0;
    let completeFree = 0;
    for (const prompt of prompts) {
      for (const [budget, maxTokens, stop] of [
        [8, 24, []],
        ['auto', 24, []],
        [16, 6, ['\n']],
      ] as const) {
        await engine.warm({ prompt, maxTokens }); // the editor's warm-up: both caches hold all but the last token
        const request = { prompt, maxTokens, stop: [...stop] };
        const main = await engine.complete({ ...request, mode: 'specexec', budget, alternatives: 3 });
        const plain = await engine.complete({ ...request, mode: 'autoregressive' });
        assert.deepEqual(main.tokens, plain.tokens, `the main completion is the target's own (budget ${budget})`);
        // (auto may choose to draft nothing: then the prompt's pass is the root alone)
        if (budget !== 'auto')
          assert.ok(main.stats.treeSizes[0] > 0, `the prompt's pass verified a tree (budget ${budget}): ${main.stats.treeSizes}`);
        assert.ok(main.alternatives.length > 0);
        assert.ok(
          main.stats.promptPassTokens >= 1 && main.stats.promptPassTokens <= main.tokens.length,
          `prompt pass tokens ${main.stats.promptPassTokens}`,
        );
        for (const choice of main.alternatives) {
          const reference = await engine.complete({ ...request, mode: 'autoregressive', forcedTokens: [choice.token] });
          const where = `alternative ${choice.token} of ${JSON.stringify(prompt).slice(0, 40)} (budget ${budget}, maxTokens ${maxTokens})`;
          assert.deepEqual(reference.tokens.slice(0, choice.tokens.length), choice.tokens, `${where}: the target's own continuation`);
          assert.ok(
            reference.text.startsWith(choice.continuation),
            `${where}: ${JSON.stringify(reference.text)} vs ${JSON.stringify(choice.continuation)}`,
          );
          if (choice.complete) {
            assert.deepEqual([reference.tokens, reference.text], [choice.tokens, choice.continuation], `${where}: complete`);
            completeFree++;
          }
          if (choice.tokens.length > 1) continued++;
          // finishing it from what the tree gave generates only the rest, and ends where the target does
          const finished = await engine.complete({ ...request, mode: 'specexec', budget, forcedTokens: choice.tokens });
          assert.deepEqual([finished.tokens, finished.text], [reference.tokens, reference.text], `${where}: finished`);
        }
      }
    }
    assert.ok(continued > 0, 'some alternative continues past its first token from the tree');
    assert.ok(completeFree > 0, 'some alternative is complete from the tree alone (a short line)');
  });
});

describe('repository-level FIM layout', () => {
  const model = repoFimTestModel();
  let engine: EngineClient;

  before(async () => {
    engine = startEngine();
    await engine.initialize({ targetModelPath: model, threads: 2, contextSize: 1024 });
  });
  after(async () => engine.shutdown());

  test('the model reports its repository and file-separator tokens', async () => {
    const init = await engine.initialize({ targetModelPath: model, threads: 2, contextSize: 1024 });
    assert.deepEqual(init.target.fim, { prefix: 1, suffix: 3, middle: 2, repo: 5, fileSeparator: 6 });
    assert.equal(init.target.addBos, false);
  });

  // tools/server/server-common.cpp format_prompt_infill in the pinned llama.cpp:
  // [FIM_REP]myproject\n ([FIM_SEP]filename\n chunk)* [FIM_SEP]filename\n [FIM_PRE]prefix[FIM_SUF]suffix[FIM_MID]
  test('chunks are laid out exactly as llama.cpp server lays out /infill input_extra: text and tokens', async () => {
    const r = await engine.renderPrompt({ prompt: { ...FIM, extra: EXTRA }, maxTokens: 16 });
    const golden =
      '<repo_name>myproject\n' +
      `<file_sep>${EXTRA[0].filename}\n${EXTRA[0].text}` +
      `<file_sep>${EXTRA[1].filename}\n${EXTRA[1].text}` +
      '<file_sep>filename\n' +
      `<fim_prefix>${FIM.prefix}<fim_suffix>${FIM.suffix}<fim_middle>`;
    assert.equal(r.text, golden);

    // token for token: each piece tokenized on its own, as the server does
    const tokenizer = new (loadAddon().Tokenizer)(model);
    const tok = (s: string) => Array.from(tokenizer.tokenize(s, false));
    const expected = [
      5,
      ...tok('myproject\n'),
      6,
      ...tok(`${EXTRA[0].filename}\n`),
      ...tok(EXTRA[0].text),
      6,
      ...tok(`${EXTRA[1].filename}\n`),
      ...tok(EXTRA[1].text),
      6,
      ...tok('filename\n'),
      1,
      ...tok(FIM.prefix),
      3,
      ...tok(FIM.suffix),
      2,
    ];
    tokenizer.close();
    assert.equal(r.tokens, expected.length);
    const completion = await engine.complete({ prompt: { ...FIM, extra: EXTRA }, maxTokens: 1 });
    assert.equal(completion.stats.promptTokens, expected.length);
  });

  test('an empty chunk list still names the repository and the current file, as the server does', async () => {
    const r = await engine.renderPrompt({ prompt: { ...FIM, extra: [] }, maxTokens: 16 });
    assert.equal(r.text, `<repo_name>myproject\n<file_sep>filename\n<fim_prefix>${FIM.prefix}<fim_suffix>${FIM.suffix}<fim_middle>`);
  });

  test('a prompt too long for the context loses the extra context from its start first', async () => {
    const numbers = Array.from({ length: 60 }, (_, j) => j).join(', ');
    const long = Array.from({ length: 8 }, (_, i) => ({ filename: `f${i}.py`, text: `v${i} = [${numbers}]\n` }));
    const prompt = { ...FIM, extra: long };
    const r = await engine.complete({ prompt, maxTokens: 256 });
    assert.ok(r.stats.promptTokens <= 1024 - 256 - 2, `${r.stats.promptTokens} prompt tokens`);
    assert.ok((r.trimmed?.extraTokens ?? 0) > 0, 'extra context was trimmed');
    assert.deepEqual([r.trimmed?.prefixTokens, r.trimmed?.suffixTokens], [0, 0], 'the window was kept whole');
    const layout = await engine.renderPrompt({ prompt, maxTokens: 256 });
    assert.ok(layout.text.endsWith(`${long[7].text}<file_sep>filename\n<fim_prefix>${FIM.prefix}<fim_suffix>${FIM.suffix}<fim_middle>`));
    assert.ok(!layout.text.startsWith('<repo_name>'), 'the start went first');
  });
});
