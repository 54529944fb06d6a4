// The FIM prompt window and the extra context (extension/completion/prompt.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPrompt, extraContext, lineComment, prefixWindow, suffixWindow } from '../../../extension/completion/prompt';

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

const extras = [
  { filename: 'src/a.ts', text: 'export const a = 1;\n' },
  { filename: 'src/c.ts', text: 'export const c = 3;\n' },
];
const window = { prefixLines: 10, suffixLines: 10, prefixChars: 100, suffixChars: 100 };

test('extra context without repository tokens: path-header comments in front of the prefix, the current file left out', () => {
  assert.equal(extraContext(extras, 'python'), '# Path: src/a.ts\nexport const a = 1;\n\n# Path: src/c.ts\nexport const c = 3;\n\n');
  const built = buildPrompt({
    text: 'const x = ',
    offset: 10,
    languageId: 'typescript',
    path: 'src/a.ts',
    extras,
    repoLevel: false,
    ...window,
  });
  assert.equal(built.prefix, 'const x = ');
  assert.equal(built.suffix, '');
  assert.deepEqual(built.prompt, { prefix: '// Path: src/c.ts\nexport const c = 3;\n\n// Path: src/a.ts\nconst x = ', suffix: '' });
  assert.equal(built.extraChars, 'export const c = 3;\n'.length);
});

test('extra context with repository tokens: the chunks go to the engine as they are, the window stays the prefix', () => {
  const built = buildPrompt({
    text: 'const x = ',
    offset: 10,
    languageId: 'typescript',
    path: 'src/b.ts',
    extras,
    repoLevel: true,
    ...window,
  });
  assert.deepEqual(built.prompt, { prefix: 'const x = ', suffix: '', extra: extras });
  assert.equal(built.extraChars, 40);
});

test('no extra context: the prompt is exactly the window', () => {
  const built = buildPrompt({
    text,
    offset: cursor,
    languageId: 'python',
    path: 'x.py',
    extras: [],
    repoLevel: false,
    prefixLines: 2,
    suffixLines: 2,
    prefixChars: 1000,
    suffixChars: 1000,
  });
  assert.deepEqual(built.prompt, { prefix: 'line2\nline3 cursor', suffix: 'here\nline4\n' });
  assert.equal(built.extraChars, 0);
});
