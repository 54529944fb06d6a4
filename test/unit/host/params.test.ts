// The host's request validation (engine-native/host/params.ts), no engine needed: every bad value
// is an InvalidParams error naming the field, omitted and null fields get their defaults.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import * as params from '../../../engine-native/host/params';
import { DECODING_MODES, ErrorCodes, type SamplingParams } from '../../../engine-native/host/protocol';

/** Asserts that `fn` throws InvalidParams with a message containing every one of `parts`. */
function assertInvalid(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ResponseError, `not a ResponseError: ${String(e)}`);
    assert.equal(e.code, ErrorCodes.InvalidParams);
    for (const part of parts) assert.ok(e.message.includes(part), `"${e.message}" does not name "${part}"`);
    return true;
  });
}

const SAMPLING_DEFAULTS = {
  maxTokens: 128,
  temperature: 0,
  topK: 0,
  topP: 1,
  seed: 0,
  stop: [],
  mode: 'specexec',
  budget: 0,
  maxDepth: 32,
  draftMax: 16,
  draftPMin: 0.75,
  alternatives: 0,
};

interface NumericField {
  key: string;
  min: number;
  max: number;
  integer: boolean;
}

const SAMPLING_NUMBERS: NumericField[] = [
  { key: 'maxTokens', min: 0, max: 1 << 16, integer: true },
  { key: 'temperature', min: 0, max: 100, integer: false },
  { key: 'topK', min: 0, max: 1 << 20, integer: true },
  { key: 'topP', min: 0, max: 1, integer: false },
  { key: 'seed', min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
  { key: 'maxDepth', min: 1, max: 1024, integer: true },
  { key: 'draftMax', min: 1, max: 4096, integer: true },
  { key: 'draftPMin', min: 0, max: 1, integer: false },
];

const INITIALIZE_NUMBERS: NumericField[] = [
  { key: 'threads', min: 0, max: 256, integer: true },
  { key: 'contextSize', min: 64, max: 1 << 20, integer: true },
  { key: 'draftGpuLayers', min: -1, max: 1000, integer: true },
  { key: 'targetGpuLayers', min: -1, max: 1000, integer: true },
  { key: 'vramBudgetMiB', min: 0, max: 1 << 24, integer: true },
  { key: 'maxBudget', min: 1, max: 4096, integer: true },
];

/** Just outside [min, max]: one below and one above (a fraction for real-valued fields). */
function outside(f: NumericField): number[] {
  const step = f.integer ? 1 : 0.001;
  return [f.min - step, f.max + step];
}

const WRONG_TYPES: unknown[] = ['5', true, [], {}, [3], NaN, Infinity, -Infinity];

/** Checks one numeric field of a parser: bounds inclusive, outside refused, wrong types refused. */
function numericFieldTests(parse: (extra: Record<string, unknown>) => Record<string, unknown>, fields: NumericField[]): void {
  for (const f of fields) {
    const range = `${f.key} must be ${f.integer ? 'an integer' : 'a number'} between ${f.min} and ${f.max}`;
    test(`${f.key}: ${f.min} and ${f.max} pass, just outside fails`, () => {
      assert.equal(parse({ [f.key]: f.min })[f.key], f.min);
      assert.equal(parse({ [f.key]: f.max })[f.key], f.max);
      for (const v of outside(f)) assertInvalid(() => parse({ [f.key]: v }), range, `got ${v}`);
    });
    if (f.integer) {
      test(`${f.key}: a non-integer fails`, () => {
        assertInvalid(() => parse({ [f.key]: f.min + 0.5 }), range);
      });
    } else {
      test(`${f.key}: a fraction inside the range passes`, () => {
        const v = (f.min + f.max) / 2 + 0.125;
        assert.equal(parse({ [f.key]: v })[f.key], v);
      });
    }
    test(`${f.key}: wrong types and non-finite numbers fail`, () => {
      for (const v of WRONG_TYPES) assertInvalid(() => parse({ [f.key]: v }), range);
    });
  }
}

describe('parseSampling', () => {
  const sampling = (extra: Record<string, unknown>) => params.parseSampling(extra, 'specexec') as unknown as Record<string, unknown>;

  test('omitted fields get their defaults', () => {
    assert.deepEqual(params.parseSampling({}, 'specexec'), SAMPLING_DEFAULTS);
  });

  test('null fields get their defaults', () => {
    const nulls = Object.fromEntries(Object.keys(SAMPLING_DEFAULTS).map((k) => [k, null]));
    assert.deepEqual(params.parseSampling(nulls, 'specexec'), SAMPLING_DEFAULTS);
  });

  test('given values are kept, unknown fields are dropped', () => {
    const given = {
      maxTokens: 7,
      temperature: 0.7,
      topK: 40,
      topP: 0.9,
      seed: 42,
      stop: ['\n\n', 'END'],
      mode: 'chain',
      budget: 64,
      maxDepth: 8,
      draftMax: 5,
      draftPMin: 0.5,
      alternatives: 2,
      forcedTokens: [9, 10],
    };
    assert.deepEqual(params.parseSampling({ ...given, progressToken: 't', extra: 1 }, 'specexec'), given);
  });

  numericFieldTests(sampling, SAMPLING_NUMBERS);

  test("budget: 'auto', omitted and null are 0; 1 and 4096 pass", () => {
    for (const budget of ['auto', undefined, null]) assert.equal(params.parseSampling({ budget }, 'specexec').budget, 0);
    for (const budget of [1, 64, 4096]) assert.equal(params.parseSampling({ budget }, 'specexec').budget, budget);
  });

  test('budget: out of range, non-integers and other values fail', () => {
    for (const budget of [-1, 4097, 1.5, NaN, Infinity, 'AUTO', 'Auto', 'auto ', '64', true, [], {}]) {
      assertInvalid(
        () => params.parseSampling({ budget }, 'specexec'),
        "budget must be 'auto' or an integer between 0 and 4096",
        "0 and 'auto' mean automatic",
      );
    }
  });

  test('mode: every decoding mode passes; omitted or null is the default mode', () => {
    for (const mode of DECODING_MODES) assert.equal(params.parseSampling({ mode }, 'autoregressive').mode, mode);
    for (const defaultMode of DECODING_MODES) {
      assert.equal(params.parseSampling({}, defaultMode).mode, defaultMode);
      assert.equal(params.parseSampling({ mode: null }, defaultMode).mode, defaultMode);
    }
  });

  test('mode: unknown names and wrong types fail', () => {
    for (const mode of ['SpecExec', 'speculative', '', ' chain', 3, true, ['chain'], {}]) {
      assertInvalid(() => params.parseSampling({ mode }, 'specexec'), 'mode must be one of', DECODING_MODES.join(', '));
    }
  });

  test('stop: up to 16 strings pass, omitted or null is []', () => {
    const sixteen = Array.from({ length: 16 }, (_, i) => `s${i}`);
    assert.deepEqual(params.parseSampling({ stop: sixteen }, 'specexec').stop, sixteen);
    assert.deepEqual(params.parseSampling({ stop: [] }, 'specexec').stop, []);
    assert.deepEqual(params.parseSampling({ stop: null }, 'specexec').stop, []);
  });

  test('stop: 17 strings, non-strings and non-arrays fail', () => {
    const seventeen = Array.from({ length: 17 }, (_, i) => `s${i}`);
    for (const stop of [seventeen, ['a', 3], [null], [['a']], 'END', { 0: 'a' }, 5]) {
      assertInvalid(() => params.parseSampling({ stop }, 'specexec'), 'stop must be an array of at most 16 strings');
    }
  });
});

describe('parseCompleteParams', () => {
  test('a string prompt, with the sampling defaults and the given default mode', () => {
    assert.deepEqual(params.parseCompleteParams({ prompt: 'def f(' }, 'chain'), { prompt: 'def f(', ...SAMPLING_DEFAULTS, mode: 'chain' });
  });

  test('a {prefix, suffix} prompt; a missing or null suffix is empty; other prompt fields are dropped', () => {
    const cases: [unknown, { prefix: string; suffix: string }][] = [
      [
        { prefix: 'a', suffix: 'b' },
        { prefix: 'a', suffix: 'b' },
      ],
      [{ prefix: 'a' }, { prefix: 'a', suffix: '' }],
      [
        { prefix: 'a', suffix: null },
        { prefix: 'a', suffix: '' },
      ],
      [
        { prefix: '', suffix: '' },
        { prefix: '', suffix: '' },
      ],
      [
        { prefix: 'a', suffix: 'b', middle: 'c' },
        { prefix: 'a', suffix: 'b' },
      ],
    ];
    for (const [prompt, expected] of cases) {
      assert.deepEqual(params.parseCompleteParams({ prompt }, 'specexec').prompt, expected, JSON.stringify(prompt));
    }
  });

  test('other prompt shapes fail', () => {
    for (const prompt of [
      undefined,
      null,
      5,
      true,
      ['a'],
      {},
      { suffix: 'b' },
      { prefix: 5 },
      { prefix: 'a', suffix: 5 },
      { prefix: null, suffix: 'b' },
    ]) {
      assertInvalid(
        () => params.parseCompleteParams({ prompt }, 'specexec'),
        'prompt must be a string or an object {prefix: string, suffix: string, extra?: [{filename, text}]}',
      );
    }
  });

  test('extra chunks: kept with their file names (tmp when missing, as llama.cpp server names them); malformed ones fail', () => {
    const prompt = { prefix: 'a', suffix: 'b', extra: [{ filename: 'x.py', text: 'x = 1' }, { text: 'y' }] };
    assert.deepEqual(params.parseCompleteParams({ prompt }, 'specexec').prompt, {
      prefix: 'a',
      suffix: 'b',
      extra: [
        { filename: 'x.py', text: 'x = 1' },
        { filename: 'tmp', text: 'y' },
      ],
    });
    const tooMany = Array.from({ length: 65 }, () => ({ text: 'x' }));
    for (const extra of [{}, 'x', [5], [{ text: 3 }], [{ filename: 1, text: 'x' }], tooMany]) {
      assertInvalid(() => params.parseCompleteParams({ prompt: { prefix: 'a', extra } }, 'specexec'), 'prompt.extra must be an array');
    }
  });

  test('forcedTokens and alternatives', () => {
    const r = params.parseCompleteParams({ prompt: 'x', forcedTokens: [7, 8], alternatives: 2 }, 'specexec');
    assert.deepEqual([r.forcedTokens, r.alternatives], [[7, 8], 2]);
    assert.equal('forcedTokens' in params.parseCompleteParams({ prompt: 'x' }, 'specexec'), false);
    assertInvalid(() => params.parseCompleteParams({ prompt: 'x', forcedTokens: [-1] }, 'specexec'), 'forcedTokens');
    assertInvalid(() => params.parseCompleteParams({ prompt: 'x', forcedTokens: [1.5] }, 'specexec'), 'forcedTokens');
    assertInvalid(() => params.parseCompleteParams({ prompt: 'x', forcedTokens: 7 }, 'specexec'), 'forcedTokens');
    assertInvalid(() => params.parseCompleteParams({ prompt: 'x', forcedTokens: new Array(1025).fill(1) }, 'specexec'), 'forcedTokens');
    assertInvalid(() => params.parseCompleteParams({ prompt: 'x', alternatives: 9 }, 'specexec'), 'alternatives');
  });

  test('priority: normal (the default) or background', () => {
    assert.equal(params.isBackground({ prompt: 'x' }), false);
    assert.equal(params.isBackground({ prompt: 'x', priority: 'normal' }), false);
    assert.equal(params.isBackground({ prompt: 'x', priority: 'background' }), true);
    assertInvalid(() => params.isBackground({ prompt: 'x', priority: 'low' }), "priority must be 'normal' or 'background'");
  });

  test('warm params: a prompt and maxTokens (default as a completion)', () => {
    assert.deepEqual(params.parseWarmParams({ prompt: { prefix: 'a' } }), { prompt: { prefix: 'a', suffix: '' }, maxTokens: 128 });
    assertInvalid(() => params.parseWarmParams({ prompt: 5 }), 'prompt must be a string');
    assertInvalid(() => params.parseWarmParams(null), 'expects an object');
  });

  test('params that are not an object fail', () => {
    for (const p of [undefined, null, 'def f(', 5, ['def f(']]) {
      assertInvalid(() => params.parseCompleteParams(p, 'specexec'), 'complete expects an object of parameters');
    }
  });

  test('sampling fields are validated too', () => {
    assert.equal(params.parseCompleteParams({ prompt: 'x', maxTokens: 3 }, 'specexec').maxTokens, 3);
    assertInvalid(() => params.parseCompleteParams({ prompt: 'x', maxTokens: -1 }, 'specexec'), 'maxTokens');
    assertInvalid(() => params.parseCompleteParams({ prompt: 'x', mode: 'fast' }, 'specexec'), 'mode');
  });
});

describe('parseInitializeParams', () => {
  const DEFAULTS = {
    targetModelPath: 't.gguf',
    draftModelPath: null,
    threads: 0,
    contextSize: 4096,
    draftGpuLayers: -1,
    targetGpuLayers: -1,
    vramBudgetMiB: 0,
    maxBudget: 1024,
  };
  const init = (extra: Record<string, unknown>) =>
    params.parseInitializeParams({ targetModelPath: 't.gguf', ...extra }) as unknown as Record<string, unknown>;

  test('omitted fields get their defaults', () => {
    assert.deepEqual(params.parseInitializeParams({ targetModelPath: 't.gguf' }), DEFAULTS);
  });

  test('null fields get their defaults', () => {
    const nulls = Object.fromEntries(
      Object.keys(DEFAULTS)
        .filter((k) => k !== 'targetModelPath')
        .map((k) => [k, null]),
    );
    assert.deepEqual(init(nulls), DEFAULTS);
  });

  test('given values are kept, unknown fields are dropped', () => {
    const given = {
      targetModelPath: '/m/t.gguf',
      draftModelPath: '/m/d.gguf',
      threads: 8,
      contextSize: 8192,
      draftGpuLayers: 99,
      targetGpuLayers: 10,
      vramBudgetMiB: 6000,
      maxBudget: 256,
    };
    assert.deepEqual(params.parseInitializeParams({ ...given, calibrationCache: '/tmp/x' }), given);
  });

  numericFieldTests(init, INITIALIZE_NUMBERS);

  test('targetModelPath: missing, null or empty fails as required; a non-string fails', () => {
    for (const targetModelPath of [undefined, null, '']) {
      assertInvalid(() => params.parseInitializeParams({ targetModelPath }), 'targetModelPath is required');
    }
    for (const targetModelPath of [5, true, ['t.gguf'], { path: 't.gguf' }]) {
      assertInvalid(() => params.parseInitializeParams({ targetModelPath }), 'targetModelPath must be a string');
    }
  });

  test('draftModelPath: empty is no draft; a non-string fails', () => {
    assert.equal(init({ draftModelPath: '' }).draftModelPath, null);
    for (const draftModelPath of [5, false, ['d.gguf']]) {
      assertInvalid(() => init({ draftModelPath }), 'draftModelPath must be a string');
    }
  });

  test('params that are not an object fail', () => {
    for (const p of [undefined, null, 't.gguf', 5, [{ targetModelPath: 't.gguf' }]]) {
      assertInvalid(() => params.parseInitializeParams(p), 'initialize expects an object of parameters');
    }
  });
});

describe('parseChatMessages', () => {
  test('every role passes; other message fields are dropped', () => {
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi', name: 'me' },
      { role: 'assistant', content: '' },
    ];
    assert.deepEqual(params.parseChatMessages({ messages, maxTokens: 5 }), [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: '' },
    ]);
  });

  test('missing, empty or non-array messages and non-object params fail', () => {
    for (const p of [
      undefined,
      null,
      'hi',
      [],
      {},
      { messages: [] },
      { messages: null },
      { messages: 'hi' },
      { messages: { role: 'user', content: 'hi' } },
    ]) {
      assertInvalid(() => params.parseChatMessages(p), 'chat expects {messages: [{role, content}, ...]} with at least one message');
    }
  });

  test('a bad message fails naming its index', () => {
    const good = { role: 'user', content: 'hi' };
    for (const bad of [
      null,
      'hi',
      ['user', 'hi'],
      { role: 'tool', content: 'x' },
      { role: 'User', content: 'x' },
      { content: 'x' },
      { role: 'user' },
      { role: 'user', content: 5 },
      { role: 'user', content: null },
      { role: 'user', content: ['x'] },
    ]) {
      assertInvalid(
        () => params.parseChatMessages({ messages: [good, bad] }),
        'messages[1] must be {role: "system"|"user"|"assistant", content: string}',
      );
    }
  });
});

describe('parseMeasurePassCostParams', () => {
  const MAX_BATCH = 1025;
  const expects = `measurePassCost expects {batches: [...]}: 1 to 64 integers between 1 and ${MAX_BATCH}`;

  test('1 to 64 integers between 1 and maxBatch pass, in the given order', () => {
    assert.deepEqual(params.parseMeasurePassCostParams({ batches: [MAX_BATCH, 1, 8, 8] }, MAX_BATCH), [MAX_BATCH, 1, 8, 8]);
    assert.deepEqual(params.parseMeasurePassCostParams({ batches: [1] }, MAX_BATCH), [1]);
    const sixtyFour = Array.from({ length: 64 }, (_, i) => i + 1);
    assert.deepEqual(params.parseMeasurePassCostParams({ batches: sixtyFour }, MAX_BATCH), sixtyFour);
  });

  test('out of range, non-integer, too many or too few batches fail', () => {
    for (const batches of [
      [0],
      [MAX_BATCH + 1],
      [-1],
      [1.5],
      [8, '8'],
      [null],
      [NaN],
      [Infinity],
      [],
      Array.from({ length: 65 }, () => 1),
      undefined,
      null,
      8,
      '8',
    ]) {
      assertInvalid(() => params.parseMeasurePassCostParams({ batches }, MAX_BATCH), expects);
    }
  });

  test('the upper bound is maxBatch', () => {
    assert.deepEqual(params.parseMeasurePassCostParams({ batches: [2] }, 2), [2]);
    assertInvalid(() => params.parseMeasurePassCostParams({ batches: [3] }, 2), 'between 1 and 2');
  });

  test('params that are not an object fail', () => {
    for (const p of [undefined, null, [1, 2], 'batches']) assertInvalid(() => params.parseMeasurePassCostParams(p, MAX_BATCH), expects);
  });
});

describe('progressToken', () => {
  test('a string or number token is returned, anything else is no token', () => {
    const cases: [unknown, string | number | undefined][] = [
      ['t-1', 't-1'],
      ['', ''],
      [7, 7],
      [0, 0],
      [undefined, undefined],
      [null, undefined],
      [true, undefined],
      [{ id: 1 }, undefined],
      [[1], undefined],
    ];
    for (const [token, expected] of cases) {
      assert.equal(params.progressToken({ progressToken: token } as SamplingParams), expected, JSON.stringify(token));
    }
    assert.equal(params.progressToken({}), undefined);
  });
});
