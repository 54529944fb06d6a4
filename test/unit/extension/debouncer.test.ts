// The debouncer and small pure helpers (latency, chat history); the crash backoff is in backoff.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatMessages, explainPrompt } from '../../../extension/chat/history';
import { Debouncer } from '../../../extension/completion/debouncer';
import { LatencyTracker } from '../../../extension/completion/latency';

function token() {
  const listeners: (() => void)[] = [];
  return {
    isCancellationRequested: false,
    onCancellationRequested(l: () => void) {
      listeners.push(l);
      return {
        dispose() {
          listeners.splice(listeners.indexOf(l), 1);
        },
      };
    },
    cancel() {
      this.isCancellationRequested = true;
      for (const l of [...listeners]) l();
    },
  };
}

test('debouncer: only the last of a burst resolves true, after the delay', async () => {
  const d = new Debouncer();
  const t0 = Date.now();
  const results = await Promise.all([d.wait(40), d.wait(40), d.wait(40)]);
  assert.deepEqual(results, [false, false, true]);
  assert.ok(Date.now() - t0 >= 35, 'waited for the delay');
});

test('debouncer: cancellation resolves false at once', async () => {
  const d = new Debouncer();
  const tk = token();
  const t0 = Date.now();
  const p = d.wait(5000, tk);
  setTimeout(() => tk.cancel(), 10);
  assert.equal(await p, false);
  assert.ok(Date.now() - t0 < 1000);
  const tk2 = token();
  tk2.cancel();
  assert.equal(await d.wait(10, tk2), false);
  assert.equal(await d.wait(0), true);
});

test('debouncer: cancel() ends the pending wait', async () => {
  const d = new Debouncer();
  const p = d.wait(5000);
  d.cancel();
  assert.equal(await p, false);
});

test('latency tracker: percentiles over a bounded window', () => {
  const l = new LatencyTracker(3);
  assert.equal(l.percentile('totalMs', 50), undefined);
  for (const ms of [10, 20, 30, 40]) l.add({ firstTextMs: ms, totalMs: ms, tokens: 1, tokensPerSecond: 1, tokensPerTargetPass: 1 });
  assert.equal(l.count, 3);
  assert.equal(l.percentile('totalMs', 0), 20);
  assert.equal(l.percentile('totalMs', 50), 30);
  assert.equal(l.percentile('totalMs', 100), 40);
  assert.equal(l.last?.totalMs, 40);
});

test('chat history: newest turns within the budget, system first, starts with the user', () => {
  const turns = [
    { id: 1, role: 'user' as const, content: 'a'.repeat(50) },
    { id: 2, role: 'assistant' as const, content: 'b'.repeat(50) },
    { id: 3, role: 'user' as const, content: 'c'.repeat(10) },
  ];
  assert.deepEqual(
    chatMessages(turns, 'sys', 1000).map((m) => m.role),
    ['system', 'user', 'assistant', 'user'],
  );
  // budget only fits the assistant + last user turn: the leading assistant turn is dropped too
  assert.deepEqual(chatMessages(turns, '', 70), [{ role: 'user', content: 'c'.repeat(10) }]);
  // a single turn longer than the budget keeps its end
  assert.deepEqual(chatMessages([{ id: 1, role: 'user', content: '0123456789' }], '', 4), [{ role: 'user', content: '6789' }]);
});

test('explain prompt carries language, file name and the code in a fence', () => {
  const p = explainPrompt('x = 1', 'python', 'src/a.py');
  assert.match(p, /python code from `src\/a\.py`/);
  assert.ok(p.endsWith('```python\nx = 1\n```'));
  assert.ok(explainPrompt('a\n```\nb', 'markdown', 'r.md').includes('~~~markdown'));
});
