// The FIM prompt window and the extra context (extension/completion/prompt.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPrompt, excerptAround, extraContext, lineComment, prefixWindow, suffixWindow } from '../../../extension/completion/prompt';

const doc = ['line0', 'line1', 'line2', 'line3 cursor|here', 'line4', 'line5', 'line6'].join('\n');
const cursor = doc.indexOf('|');
const text = doc.replace('|', '');

test('prefix window: whole lines, the cursor line counts as one', () => {
  assert.equal(prefixWindow(text, cursor, 2, 1000), 'line2\nline3 cursor');
  assert.equal(prefixWindow(text, cursor, 1, 1000), 'line3 cursor');
  assert.equal(prefixWindow(text, cursor, 100, 1000), 'line0\nline1\nline2\nline3 cursor');
});

test('prefix window: the char limit drops whole lines, never half of one', () => {
  // 'line2\nline3 cursor' is 18 chars; 20 chars would reach into line1
  assert.equal(prefixWindow(text, cursor, 100, 20), 'line2\nline3 cursor');
  assert.equal(prefixWindow(text, cursor, 100, 18), 'line2\nline3 cursor');
  assert.equal(prefixWindow(text, cursor, 100, 17), 'line3 cursor');
  // the cursor line alone longer than the limit: its tail
  assert.equal(prefixWindow(text, cursor, 100, 5), 'ursor');
});

test('suffix window: rest of the cursor line plus whole lines', () => {
  assert.equal(suffixWindow(text, cursor, 1, 1000), 'here\n');
  assert.equal(suffixWindow(text, cursor, 3, 1000), 'here\nline4\nline5\n');
  assert.equal(suffixWindow(text, cursor, 100, 1000), 'here\nline4\nline5\nline6');
  assert.equal(suffixWindow(text, cursor, 100, 12), 'here\nline4\n');
  assert.equal(suffixWindow(text, cursor, 100, 0), '');
});

test('windows at the document edges', () => {
  assert.equal(prefixWindow('abc', 0, 10, 10), '');
  assert.equal(suffixWindow('abc', 3, 10, 10), '');
  assert.equal(prefixWindow('abc\n', 4, 10, 10), 'abc\n');
});

test('line comments follow the language', () => {
  assert.equal(lineComment('typescript'), '//');
  assert.equal(lineComment('python'), '#');
  assert.equal(lineComment('sql'), '--');
});

test('excerpt around a line stays within the limit and contains the line', () => {
  const lines = Array.from({ length: 200 }, (_, i) => `row ${i}`);
  const ex = excerptAround(lines.join('\n'), 100, 60);
  assert.ok(ex.length <= 60, `excerpt too long: ${ex.length}`);
  assert.match(ex, /row 100\b/);
  assert.equal(excerptAround('short', 0, 60), 'short');
});

test('extra context: path headers, budget respected, current file excluded by buildPrompt', () => {
  const extras = [
    { path: 'src/a.ts', languageId: 'typescript', text: 'export const a = 1;' },
    { path: 'src/b.ts', languageId: 'typescript', text: 'x'.repeat(500) },
    { path: 'src/c.ts', languageId: 'typescript', text: 'export const c = 3;' },
  ];
  const out = extraContext(extras, 'typescript', 100);
  assert.equal(out, '// Path: src/a.ts\nexport const a = 1;\n\n// Path: src/c.ts\nexport const c = 3;\n\n');
  const built = buildPrompt({
    text: 'const x = ',
    offset: 10,
    languageId: 'typescript',
    path: 'src/a.ts',
    extras,
    extraChars: 100,
    prefixLines: 10,
    suffixLines: 10,
    prefixChars: 100,
    suffixChars: 100,
  });
  assert.equal(built.prefix, 'const x = ');
  assert.equal(built.suffix, '');
  assert.equal(built.prompt.prefix, '// Path: src/c.ts\nexport const c = 3;\n\n// Path: src/a.ts\nconst x = ');
  assert.equal(built.prompt.suffix, '');
});

test('no extra context: the prompt is exactly the window', () => {
  const built = buildPrompt({
    text,
    offset: cursor,
    languageId: 'python',
    path: 'x.py',
    extras: [],
    extraChars: 1000,
    prefixLines: 2,
    suffixLines: 2,
    prefixChars: 1000,
    suffixChars: 1000,
  });
  assert.deepEqual(built.prompt, { prefix: 'line2\nline3 cursor', suffix: 'here\nline4\n' });
  assert.equal(built.extraChars, 0);
});
