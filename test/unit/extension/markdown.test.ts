// The chat panel's markdown renderer (media/markdown.js) must never let markup through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const md = require('../../../media/markdown.js') as {
  render(s: string): { html: string; codes: string[] };
  safeUrl(s: string): string | null;
};

const hostile = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '[click](javascript:alert(1))',
  '[x](data:text/html,<script>alert(1)</script>)',
  '**<iframe src="https://evil.example">**',
  '`<b>` and ``<svg onload=alert(1)>``',
  '```html\n<script>alert(1)</script>\n```',
  '> <a href="javascript:alert(1)">q</a>',
  '- <style>body{}</style>',
  '# <object data=x>',
  '[ok](https://example.com/" onmouseover="alert(1))',
];

test('hostile markdown renders as text: no tags or handlers besides the renderer\'s own', () => {
  const allowed = new Set(['p', 'br', 'strong', 'em', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'hr', 'div', 'span', 'button']);
  for (const src of hostile) {
    const { html } = md.render(src);
    for (const m of html.matchAll(/<\/?([a-zA-Z0-9]+)([^>]*)>/g)) {
      assert.ok(allowed.has(m[1].toLowerCase()), `tag <${m[1]}> from ${JSON.stringify(src)}: ${html}`);
      assert.doesNotMatch(m[2], /\son\w+=/i, `event handler from ${JSON.stringify(src)}: ${html}`);
      assert.doesNotMatch(m[2], /javascript:|data:/i, `script URL from ${JSON.stringify(src)}: ${html}`);
    }
  }
});

test('markdown subset renders', () => {
  const { html, codes } = md.render('# Title\n\nSome **bold**, *em* and `code`.\n\n- a\n- b\n\n1. one\n\n```ts\nconst x = 1; // c\n```\n\n[docs](https://example.com)');
  assert.match(html, /<h1>Title<\/h1>/);
  assert.match(html, /<strong>bold<\/strong>/);
  assert.match(html, /<em>em<\/em>/);
  assert.match(html, /<code>code<\/code>/);
  assert.match(html, /<ul><li>a<\/li><li>b<\/li><\/ul>/);
  assert.match(html, /<ol><li>one<\/li><\/ol>/);
  assert.match(html, /<span class="tok-keyword">const<\/span>/);
  assert.match(html, /<span class="tok-comment">\/\/ c<\/span>/);
  assert.match(html, /<a href="https:\/\/example.com"/);
  assert.deepEqual(codes, ['const x = 1; // c']);
});

test('an unterminated fence (streaming) is an open code block', () => {
  const { html, codes } = md.render('Here:\n```python\ndef f():\n    return "<x>"');
  assert.match(html, /code-block streaming/);
  assert.deepEqual(codes, ['def f():\n    return "<x>"']);
  assert.match(html, /&lt;x&gt;/);
});

test('only http(s) and mailto links survive', () => {
  assert.equal(md.safeUrl('https://a.b/c'), 'https://a.b/c');
  assert.equal(md.safeUrl('mailto:x@y.z'), 'mailto:x@y.z');
  assert.equal(md.safeUrl('javascript:alert(1)'), null);
  assert.equal(md.safeUrl('vscode://x'), null);
});
