// The LRU map and the completion cache (extension/completion/{lru,cache}.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionCache } from '../../../extension/completion/cache';
import { LruMap } from '../../../extension/completion/lru';

test('LRU evicts the least recently used entry and never exceeds capacity', () => {
  const lru = new LruMap<string, number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  assert.equal(lru.get('a'), 1); // a is now the most recent
  lru.set('c', 3);
  assert.equal(lru.size, 2);
  assert.equal(lru.get('b'), undefined);
  assert.equal(lru.get('a'), 1);
  assert.equal(lru.get('c'), 3);
  assert.deepEqual(
    lru.entries().map(([k]) => k),
    ['c', 'a'],
  );
  assert.throws(() => new LruMap(0));
});

/** What the cache returns on a hit: the rest of `text`, `typed` characters of it already typed. */
const hit = (text: string, typed: number, complete = true) => ({ text, typed, complete });

test('cache: exact hit, miss on another document or suffix', () => {
  const c = new CompletionCache(8);
  c.set({ document: 'd1', prefix: 'const x = ', suffix: '\n', text: '42;', complete: true });
  assert.deepEqual(c.get('d1', 'const x = ', '\n'), hit('42;', 0));
  assert.equal(c.get('d2', 'const x = ', '\n'), undefined);
  assert.equal(c.get('d1', 'const x = ', ''), undefined);
});

test('cache: serves the rest of a completion the user is typing into', () => {
  const c = new CompletionCache(8);
  c.set({ document: 'd', prefix: 'foo(', suffix: '', text: 'a, b);', complete: true });
  assert.deepEqual(c.get('d', 'foo(a', ''), hit(', b);', 1));
  assert.deepEqual(c.get('d', 'foo(a, b', ''), hit(');', 4));
  // typed something else: no hit
  assert.equal(c.get('d', 'foo(x', ''), undefined);
  // typed all of it: nothing left to suggest
  assert.equal(c.get('d', 'foo(a, b);', ''), undefined);
});

test('cache: a complete result beats a streamed partial one and is not overwritten by it', () => {
  const c = new CompletionCache(8);
  const offer = (text: string, complete: boolean) => c.set({ document: 'd', prefix: 'p', suffix: '', text, complete });
  offer('ab', false);
  assert.deepEqual(c.get('d', 'p', ''), hit('ab', 0, false));
  offer('abcdef', true);
  offer('abc', false);
  assert.deepEqual(c.get('d', 'p', ''), hit('abcdef', 0));
});

test('cache: bounded', () => {
  const c = new CompletionCache(3);
  for (let i = 0; i < 10; i++) c.set({ document: 'd', prefix: `p${i}`, suffix: '', text: 't', complete: true });
  assert.equal(c.size, 3);
  assert.equal(c.get('d', 'p0', ''), undefined);
  assert.ok(c.get('d', 'p9', ''));
});
