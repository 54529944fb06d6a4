// Golden tests of tree growth and of the acceptance walk on a fake draft model with fixed
// probabilities, the leaf and batch limits, and tree logits against token-by-token evaluation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testingAddon, type GrownTree } from '../helpers/testing-addon';
import { testModelPair } from '../helpers/models';

const { testing, Tokenizer } = testingAddon();

// A fake draft: the root's children are 10 (p .6), 11 (.3), 12 (.1); after 10: 20 (.9), 21 (.1);
// after 10,20: 30 (.8), 31 (.2); after 11: 40 (.5), 41 (.5); everything else has no children.
const TABLE: Record<string, [number, number][]> = {
  '': [
    [10, 0.6],
    [11, 0.3],
    [12, 0.1],
  ],
  '10': [
    [20, 0.9],
    [21, 0.1],
  ],
  '10,20': [
    [30, 0.8],
    [31, 0.2],
  ],
  '11': [
    [40, 0.5],
    [41, 0.5],
  ],
};

function paths(t: GrownTree): string[] {
  return t.tokens.map((_tok, i) => {
    const p: number[] = [];
    for (let n = i; n > 0; n = t.parents[n]) p.unshift(t.tokens[n]);
    return p.join(',');
  });
}

describe('tree growth on a fake draft (golden)', () => {
  test('specexec keeps the K most likely continuations, best-first', () => {
    const t = testing.growTree({ shape: 'specexec', budget: 4 }, TABLE);
    // scores: 10 .6*.95=.57, 10,20 .513*.95=.487, 10,20,30 .39*.95=.37, 11 .285, ...
    assert.deepEqual(paths(t), ['', '10', '11', '10,20', '10,20,30']);
    assert.deepEqual(t.parents, [-1, 0, 0, 1, 3]);
    assert.deepEqual(t.depths, [0, 1, 1, 2, 3]);
    // pass 1 expands the root; pass 2 the top nodes in one batch (best first); then 10,20 and 10,20,30
    assert.deepEqual(t.expanded[0], ['']);
    assert.deepEqual(t.expanded[1], ['10', '11', '12']);
    assert.ok(t.passes <= 4);
    const d = Math.log(0.95);
    assert.ok(Math.abs(t.scores[4] - (Math.log(0.6) + Math.log(0.9) + Math.log(0.8) + 3 * d)) < 1e-5);
  });

  test('specexec spends no draft pass on nodes whose children cannot enter the tree', () => {
    // budget 1: after the root's pass the tree holds 10; its children score below it, so no second pass
    const t = testing.growTree({ shape: 'specexec', budget: 1 }, TABLE);
    assert.deepEqual(paths(t), ['', '10']);
    assert.equal(t.passes, 1);
    assert.deepEqual(t.expanded, [['']]);
  });

  test('specexec at a larger budget takes the next best nodes', () => {
    const t = testing.growTree({ shape: 'specexec', budget: 7 }, TABLE);
    // the 7 best by score: 10 .57, 10,20 .49, 10,20,30 .37, 11 .29, 11,40 .14, 11,41 .14, 12 .095
    assert.deepEqual(paths(t).sort(), ['', '10', '10,20', '10,20,30', '11', '11,40', '11,41', '12'].sort());
    // every kept node's parent is kept, and a child never outscores its parent
    for (let i = 1; i < t.tokens.length; i++) assert.ok(t.scores[i] < t.scores[t.parents[i]]);
  });

  test('max depth bounds the tree', () => {
    const t = testing.growTree({ shape: 'specexec', budget: 16, maxDepth: 1 }, TABLE);
    assert.deepEqual(paths(t), ['', '10', '11', '12']);
  });

  test('the leaf limit shapes the tree instead of failing', () => {
    const t = testing.growTree({ shape: 'specexec', budget: 16, maxLeaves: 2 }, TABLE);
    assert.ok(t.leaves <= 2, `${t.leaves} leaves`);
    assert.deepEqual(paths(t), ['', '10', '11', '10,20', '11,40', '10,20,30']);
  });

  test('specinfer expands top-k children level by level', () => {
    const t = testing.growTree({ shape: 'specinfer', budget: 5, specinferK: 2 }, TABLE);
    assert.deepEqual(paths(t), ['', '10', '11', '10,20', '11,40', '11,41']);
  });

  test('chain follows the argmax while its probability is high enough', () => {
    assert.deepEqual(paths(testing.growTree({ shape: 'chain', budget: 8, chainPMin: 0.5 }, TABLE)), ['', '10', '10,20', '10,20,30']);
    assert.deepEqual(paths(testing.growTree({ shape: 'chain', budget: 8, chainPMin: 0.85 }, TABLE)), ['']);
    assert.deepEqual(paths(testing.growTree({ shape: 'chain', budget: 2, chainPMin: 0 }, TABLE)), ['', '10', '10,20']);
  });
});

describe('acceptance walk (golden)', () => {
  const tree = { tokens: [1, 10, 11, 20, 30], parents: [-1, 0, 0, 1, 3] };
  test("follows the target's draws while they are children", () => {
    assert.deepEqual(testing.walk(tree, { 0: 10, 1: 20, 3: 30, 4: 99 }), { accepted: [1, 3, 4], bonus: 99 });
  });
  test('stops at the first draw that is not a child and keeps it as the bonus token', () => {
    assert.deepEqual(testing.walk(tree, { 0: 11, 2: 7 }), { accepted: [2], bonus: 7 });
    assert.deepEqual(testing.walk(tree, { 0: 12 }), { accepted: [], bonus: 12 });
    assert.deepEqual(testing.walk(tree, { 0: 10, 1: 21 }), { accepted: [1], bonus: 21 });
  });
});

describe('random budgets and depths stay within the limits', () => {
  test('1000 random trees: within budget, depth and leaf limits, prefix-closed', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    // a fake draft with 6 children everywhere, random probabilities
    const table: Record<string, [number, number][]> = {};
    const build = (key: string, depth: number) => {
      if (depth > 4) return;
      const ps = Array.from({ length: 6 }, () => rand() + 0.01);
      const z = ps.reduce((a, b) => a + b);
      table[key] = ps.map((p, i) => [100 + depth * 10 + i, p / z]);
      for (let i = 0; i < 6; i++) build(key === '' ? `${100 + depth * 10 + i}` : `${key},${100 + depth * 10 + i}`, depth + 1);
    };
    build('', 0);
    for (let i = 0; i < 1000; i++) {
      const budget = 1 + Math.floor(rand() * 1100);
      const maxDepth = 1 + Math.floor(rand() * 8);
      const maxLeaves = 1 + Math.floor(rand() * 300);
      const shape = (['specexec', 'specinfer', 'chain'] as const)[i % 3];
      const t = testing.growTree({ shape, budget, maxDepth, maxLeaves, maxBeams: 32, maxBranch: 6, chainPMin: 0 }, table);
      assert.ok(t.tokens.length - 1 <= budget);
      assert.ok(t.leaves <= maxLeaves, `${t.leaves} > ${maxLeaves}`);
      assert.ok(Math.max(...t.depths) <= maxDepth);
      for (let n = 1; n < t.tokens.length; n++) assert.ok(t.parents[n] >= 0 && t.parents[n] < n);
    }
  });
});

describe('tree logits equal token-by-token logits', () => {
  test('a 40-node tree over a real history, verified in one pass', () => {
    const { target } = testModelPair();
    const tok = new Tokenizer(target);
    const history = tok.tokenize('def quicksort(xs):\n    if len(xs) <= 1:\n        return xs\n', false);
    tok.close();
    const tokens = [history[history.length - 1]];
    const parents = [-1];
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let i = 1; i < 40; i++) {
      tokens.push(100 + Math.floor(rand() * 30000));
      parents.push(Math.floor(rand() * i));
    }
    const r = testing.verifyTreeLogits(target, history.subarray(0, history.length - 1), { tokens, parents }, 2);
    assert.equal(r.nodes, 40);
    assert.equal(r.argmaxMismatches, 0);
    assert.ok(r.maxAbsDiff < 2e-3, `max |diff| ${r.maxAbsDiff}`);
  });
});
