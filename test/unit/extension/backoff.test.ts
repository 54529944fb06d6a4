// Crash accounting (extension/backoff.ts): the restart delays and the give-up rule the engine follows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CRASH_WINDOW_MS, CrashHistory, MAX_CRASHES, restartDelay, shouldGiveUp } from '../../../extension/backoff';

test('restart delays double from 0.5 s and stop at 8 s', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 100].map(restartDelay), [500, 500, 1000, 2000, 4000, 8000, 8000, 8000]);
});

test('shouldGiveUp counts only the crashes inside the window, its edge included', () => {
  const now = 1_000_000;
  const inside = Array.from({ length: MAX_CRASHES }, (_, i) => now - CRASH_WINDOW_MS + i);
  assert.equal(shouldGiveUp(inside, now), true);
  assert.equal(shouldGiveUp(inside.slice(1), now), false);
  assert.equal(shouldGiveUp([now - CRASH_WINDOW_MS - 1, ...inside.slice(1)], now), false);
});

test('CrashHistory: backoff per crash, gives up at the fifth within 60 s, and forgets on clear', () => {
  const h = new CrashHistory();
  const verdicts = [0, 1000, 2000, 3000, 4000].map((t) => h.record(t));
  assert.deepEqual(verdicts.map((v) => v.delayMs), [500, 1000, 2000, 4000, 8000]);
  assert.deepEqual(verdicts.map((v) => v.giveUp), [false, false, false, false, true]);
  assert.equal(verdicts[4].recent, 5);
  h.clear();
  assert.deepEqual(h.record(5000), { recent: 1, giveUp: false, delayMs: 500 });
});

test('CrashHistory: crashes older than the window drop out', () => {
  const h = new CrashHistory();
  for (const t of [0, 10_000, 20_000, 30_000]) h.record(t);
  assert.deepEqual(h.record(CRASH_WINDOW_MS + 5_000), { recent: 4, giveUp: false, delayMs: 4000 });
});
