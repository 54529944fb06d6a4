// Planning a completion request from a snapshot of the text (extension/completion/request.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompletionConfig } from '../../../extension/config';
import { afterAccept, planRequest, postContextAt, type Snapshot } from '../../../extension/completion/request';

const config: CompletionConfig = {
  debounceMs: 0,
  maxTokens: 64,
  temperature: 0,
  maxLines: 8,
  prefixLines: 100,
  suffixLines: 30,
  prefixChars: 6000,
  suffixChars: 2000,
  extraContextFiles: 3,
  extraContextChars: 1500,
  streamFirstMs: 250,
  suggestions: 3,
  prefetch: true,
  warmUp: true,
  clipboard: false,
};
const text = 'def f(x):\r\n    return |x\r\n\r\nprint(f(2))\r\n';
const snapshot: Snapshot = {
  document: 'file:///a.py#python',
  text: text.replace('|', ''),
  offset: text.indexOf('|'),
  languageId: 'python',
  path: 'a.py',
};
const fim = { prefix: 1, suffix: 2, middle: 3, repo: null, fileSeparator: null };

test('the post-processing context of a CRLF document has its lines without the CR', () => {
  assert.deepEqual(postContextAt(snapshot.text, snapshot.offset, 8), {
    linePrefix: '    return ',
    lineSuffix: 'x',
    nextLines: ['', 'print(f(2))', ''],
    maxLines: 8,
  });
});

test('after an accept the text holds the suggestion and the cursor is at its end', () => {
  const next = afterAccept(snapshot, 'x * ');
  assert.equal(next.text.slice(0, next.offset), 'def f(x):\r\n    return x * ');
  assert.equal(next.text.slice(next.offset), snapshot.text.slice(snapshot.offset));
});

test('a FIM model gets {prefix, suffix}; chunks go as extra only with repository tokens; others get the prefix', () => {
  const extras = [{ filename: 'b.py', text: 'y = 1\n' }];
  const plain = planRequest(snapshot, config, extras, fim, { budget: 'auto' });
  assert.deepEqual(plain.params.prompt, {
    prefix: '# Path: b.py\ny = 1\n\n# Path: a.py\n' + plain.built.prefix,
    suffix: plain.built.suffix,
  });
  assert.equal(plain.params.maxTokens, 64);
  assert.equal(plain.params.budget, 'auto');
  const repo = planRequest(snapshot, config, extras, { ...fim, repo: 4, fileSeparator: 5 }, { budget: 'auto' });
  assert.deepEqual(repo.params.prompt, { prefix: repo.built.prefix, suffix: repo.built.suffix, extra: extras });
  const none = planRequest(snapshot, config, [], null, { budget: 4 });
  assert.equal(none.params.prompt, none.built.prefix);
  // the window (the cache key) does not depend on the model
  assert.deepEqual([plain.built.prefix, plain.built.suffix], [none.built.prefix, none.built.suffix]);
});
