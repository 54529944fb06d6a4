// Extra context chunks: cutting, similarity, choice, near-duplicates, bounds (extension/completion/chunks.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseChunks, chunkFile, identifiers, jaccard } from '../../../extension/completion/chunks';

const options = { lines: 4, maxChars: 10_000, maxChunks: 8, duplicate: 0.9 };

test('identifiers and Jaccard similarity', () => {
  assert.deepEqual([...identifiers('const total = sum(items) + 1; // $x')].sort(), ['$x', 'const', 'items', 'sum', 'total']);
  assert.equal(jaccard(new Set(['a', 'b']), new Set(['b', 'c'])), 1 / 3);
  assert.equal(jaccard(new Set(), new Set()), 0);
  assert.equal(jaccard(new Set(['a']), new Set(['a'])), 1);
});

test('a file is cut into chunks of whole lines, blank ones left out, each ending with a newline', () => {
  const text = ['a1', 'a2', 'a3', 'a4', '', '', '', '', 'b1'].join('\n');
  const chunks = chunkFile({ path: 'f.ts', text }, 4);
  assert.deepEqual(
    chunks.map((c) => [c.filename, c.text]),
    [
      ['f.ts', 'a1\na2\na3\na4\n'],
      ['f.ts', 'b1\n'],
    ],
  );
});

test('the most similar chunks are chosen, most similar last; unrelated ones never', () => {
  const candidates = [
    ...chunkFile({ path: 'users.ts', text: 'function loadUser(id) {\n  return db.users.find(id);\n}\n' }, 4),
    ...chunkFile({ path: 'math.ts', text: 'export const tau = 2 * Math.PI;\n' }, 4),
    ...chunkFile({ path: 'orders.ts', text: 'function loadOrder(id) {\n  return db.orders.find(id);\n}\n' }, 4),
  ];
  const chosen = chooseChunks(candidates, 'user = loadUser(id); db.users', options);
  assert.deepEqual(
    chosen.map((c) => c.filename),
    ['orders.ts', 'users.ts'],
  );
});

test('near-duplicates are dropped, and the budget in characters and chunks holds', () => {
  const body = 'function parse(input) {\n  return tokens(input).map(parseToken);\n}\n';
  const candidates = [...chunkFile({ path: 'a.ts', text: body }, 4), ...chunkFile({ path: 'copy-of-a.ts', text: body }, 4)];
  assert.equal(chooseChunks(candidates, 'parse(input) tokens', options).length, 1);
  const many = Array.from({ length: 20 }, (_, i) => chunkFile({ path: `f${i}.ts`, text: `const value${i} = compute(value);\n` }, 4)[0]);
  assert.equal(chooseChunks(many, 'compute(value)', { ...options, maxChunks: 3 }).length, 3);
  const bounded = chooseChunks(many, 'compute(value)', { ...options, maxChars: 70 });
  assert.ok(bounded.reduce((n, c) => n + c.text.length, 0) <= 70);
  assert.equal(bounded.length, 2);
});
