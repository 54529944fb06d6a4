// Crash accounting (extension/backoff.ts): the restart delays and the give-up rule the engine follows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CRASH_WINDOW_MS, CrashHistory, MAX_CRASHES, RESTART_DELAYS_MS, recentCrashes, shouldGiveUp } from '../../../extension/backoff';

/** The verdicts of `n` crashes one second apart, from a fresh history. */
function crashes(n: number) {
  const h = new CrashHistory();
  return Array.from({ length: n }, (_, i) => h.record(i * 1000));
}

test('every delay of the schedule is used, doubling from 0.5 s, and the crash after the last one gives up', () => {
  assert.deepEqual(RESTART_DELAYS_MS, [500, 1000, 2000, 4000]);
  const verdicts = crashes(MAX_CRASHES);
  assert.deepEqual(
    verdicts.slice(0, -1),
    RESTART_DELAYS_MS.map((delayMs, i) => ({ recent: i + 1, giveUp: false, delayMs })),
  );
  assert.deepEqual(verdicts.at(-1), { recent: 5, giveUp: true });
});

test('shouldGiveUp counts only the crashes inside the window, its edge included', () => {
  const now = 1_000_000;
  const inside = Array.from({ length: MAX_CRASHES }, (_, i) => now - CRASH_WINDOW_MS + i);
  assert.equal(shouldGiveUp(inside, now), true);
  assert.equal(shouldGiveUp(inside.slice(1), now), false);
  assert.equal(shouldGiveUp([now - CRASH_WINDOW_MS - 1, ...inside.slice(1)], now), false);
  assert.deepEqual(recentCrashes([1_000, 50_000, 99_000], 100_000), [50_000, 99_000]);
});

test('CrashHistory forgets on clear', () => {
  const h = new CrashHistory();
  for (let t = 0; t < MAX_CRASHES; t++) h.record(t);
  h.clear();
  assert.deepEqual(h.record(10), { recent: 1, giveUp: false, delayMs: 500 });
});

test('CrashHistory: crashes older than the window drop out', () => {
  const h = new CrashHistory();
  for (const t of [0, 10_000, 20_000, 30_000]) h.record(t);
  assert.deepEqual(h.record(CRASH_WINDOW_MS + 5_000), { recent: 4, giveUp: false, delayMs: 4000 });
});
