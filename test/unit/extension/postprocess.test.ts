// Golden cases for the completion post-processing rules (extension/completion/postprocess.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postprocess, stopStrings, type PostContext } from '../../../extension/completion/postprocess';

const ctx = (linePrefix: string, lineSuffix = '', nextLines: string[] = [], maxLines = 16): PostContext => ({
  linePrefix,
  lineSuffix,
  nextLines,
  maxLines,
});

const golden: [string, string, PostContext, string][] = [
  ['end of line, one line', 'b);', ctx('  return add(a, '), 'b);'],
  ['trailing whitespace trimmed on every line', 'x = 1;   \n  y = 2;\t\n\n', ctx('  '), 'x = 1;\n  y = 2;'],
  ['mid-line: one line only', 'a + b) + c\nfoo()', ctx('  f(', ')'), 'a + b) + c'],
  ['mid-line: the code after the cursor is not repeated', 'x, y)', ctx('call(', ')'), 'x, y'],
  ['mid-line: a completion that only repeats the rest is empty', ')', ctx('call(x', ')'), ''],
  [
    'block opened by the line: body and closer kept, nothing after it',
    '\n  return a + b;\n}\n\nfunction sub(a, b) {\n  return a - b;\n}',
    ctx('function add(a, b) {'),
    '\n  return a + b;\n}',
  ],
  [
    'block closer already in the document (stop at the suffix)',
    '\n  return a + b;\n}',
    ctx('function add(a, b) {', '', ['}']),
    '\n  return a + b;',
  ],
  ['python block ends at the dedent', '\n    return x * 2\n\ndef other():\n    pass', ctx('def double(x):'), '\n    return x * 2'],
  [
    'statements at the same indent continue, a dedent stops',
    'const y = 2;\n  const z = 3;\n}\nconst after = 1;',
    ctx('  '),
    'const y = 2;\n  const z = 3;',
  ],
  [
    'no repeat of the next line of the document',
    'let a = 1;\n  let b = 2;\n  return a + b;',
    ctx('  ', '', ['  return a + b;']),
    'let a = 1;\n  let b = 2;',
  ],
  ['a completion equal to the next line is empty', 'return a + b;', ctx('  ', '', ['  return a + b;', '}']), ''],
  ['two blank lines end a completion', 'a();\n\n\nb();', ctx(''), 'a();'],
  ['maxLines caps the lines', 'a();\nb();\nc();\nd();', ctx('', '', [], 2), 'a();\nb();'],
  ['CRLF is normalized', 'a();\r\nb();', ctx(''), 'a();\nb();'],
  ['whitespace only is no completion', '   \n  \n', ctx('x = '), ''],
  ['cut at a control character', 'abc\u0016def', ctx('x = '), 'abc'],
  ['cut at broken UTF-8 (U+FFFD)', 'ok();\n  bad\ufffd', ctx(''), 'ok();\n  bad'],
  ['tabs survive', '\tx();', ctx(''), '\tx();'],
  ['leading space of the first line is kept', ' = 42;', ctx('const answer'), ' = 42;'],
];

for (const [name, raw, context, expected] of golden) {
  test(`postprocess: ${name}`, () => {
    assert.equal(postprocess(raw, context), expected);
  });
}

test('stop strings: a newline mid-line, three newlines otherwise', () => {
  assert.deepEqual(stopStrings({ lineSuffix: ')' }), ['\n']);
  assert.deepEqual(stopStrings({ lineSuffix: '  ' }), ['\n\n\n']);
});
