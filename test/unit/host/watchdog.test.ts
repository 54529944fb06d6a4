// The watchdog's verdicts, with a scripted engine and a clock the test moves: an engine that answers
// and makes progress is never hung; one that stops answering pings, or generates with a heartbeat
// that stands still past the bound, is, once; an idle or loading engine is not judged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EngineStatus } from '../../../engine-native/host/protocol';
import { EngineWatchdog, STALL_FLOOR_MS, STALL_PASSES, stallBoundMs } from '../../../engine-native/host/watchdog';

function status(generating: boolean, heartbeat: number): EngineStatus {
  return { pid: 1, shared: false, clients: 1, uptimeMs: 0, memory: { rssBytes: 0, pssBytes: null }, activity: { generating, heartbeat } };
}

/** A watchdog on a scripted engine: `answer` is what the next ping gets (undefined: no answer at all). */
function scripted(stallBound = 10_000) {
  let now = 0;
  let answer: EngineStatus | undefined = status(false, 0);
  const verdicts: string[] = [];
  const dog = new EngineWatchdog({
    ping: () => (answer ? Promise.resolve(answer) : new Promise<EngineStatus>(() => undefined)),
    stallBoundMs: stallBound,
    onHung: (why) => verdicts.push(why),
    pingIntervalMs: 3_600_000, // the test pings itself
    pingTimeoutMs: 20,
    now: () => now,
  });
  return {
    dog,
    verdicts,
    answer: (s: EngineStatus | undefined) => (answer = s),
    at: async (ms: number) => {
      now = ms;
      await dog.check();
    },
  };
}

test('the stall bound is STALL_PASSES of the slowest measured pass, never below the floor', () => {
  const point = (batch: number, ms: number) => ({ batch, ms });
  assert.equal(
    stallBoundMs({ target: [point(1, 50), point(64, 660)], draft: [point(1, 2)] }),
    Math.max(STALL_FLOOR_MS, STALL_PASSES * 660),
  );
  assert.equal(stallBoundMs({ target: [point(1, 5)], draft: [] }), STALL_FLOOR_MS);
  assert.equal(stallBoundMs({ target: [point(64, 4000)], draft: [point(8, 9000)] }), STALL_PASSES * 9000, 'the draft counts too');
});

test('a generating engine whose heartbeat moves is not hung, however long the generation', async () => {
  const s = scripted();
  const done = s.dog.track();
  for (let t = 0; t <= 120_000; t += 2_000) {
    s.answer(status(true, t)); // a beat between every two pings
    await s.at(t);
  }
  done();
  assert.deepEqual(s.verdicts, []);
});

test('a heartbeat standing still while generating is a hang once the bound has passed, and is told once', async () => {
  const s = scripted(10_000);
  s.dog.track();
  s.answer(status(true, 7));
  await s.at(0);
  await s.at(9_999);
  assert.deepEqual(s.verdicts, [], 'not before the bound');
  await s.at(10_000);
  assert.equal(s.verdicts.length, 1);
  assert.match(s.verdicts[0], /no progress for 10 s/);
  await s.at(50_000);
  assert.equal(s.verdicts.length, 1, 'a stopped watchdog says nothing more');
});

test('an engine that is not generating (queued work, a model loading, idle) is not judged by its heartbeat', async () => {
  const s = scripted(10_000);
  s.dog.track();
  s.answer(status(false, 3));
  for (const t of [0, 20_000, 40_000]) await s.at(t);
  s.answer(status(true, 3)); // a generation starts: the bound counts from here
  await s.at(45_000);
  await s.at(54_000);
  assert.deepEqual(s.verdicts, []);
  await s.at(55_000);
  assert.equal(s.verdicts.length, 1);
});

test('an unanswered ping is a hang (a stopped process cannot answer)', async () => {
  const s = scripted();
  s.dog.track();
  s.answer(undefined);
  await s.at(0);
  assert.equal(s.verdicts.length, 1);
  assert.match(s.verdicts[0], /did not answer a ping within 0.02 s/);
});

test('with no request in flight nothing is judged, and a stall seen before it does not carry over', async () => {
  const s = scripted(10_000);
  const first = s.dog.track();
  s.answer(status(true, 1));
  await s.at(0);
  first();
  await s.at(30_000); // no request: a ping now changes nothing
  const second = s.dog.track();
  await s.at(35_000); // the same heartbeat, but the count starts again
  assert.deepEqual(s.verdicts, []);
  await s.at(45_000);
  assert.equal(s.verdicts.length, 1);
  second();
});
