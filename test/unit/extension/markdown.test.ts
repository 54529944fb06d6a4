// The chat panel's markdown renderer (extension/chat/markdown.ts, markdown-it + highlight.js) must
// never let markup through, and renders what code models write as clean HTML.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { render } from '../../../extension/chat/markdown';

const hostile = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '![x](https://evil.example/track.png)',
  '![x](x" onerror="alert(1))',
  '[click](javascript:alert(1))',
  '[click](JaVaScRiPt:alert(1))',
  '[click](java\tscript:alert(1))',
  '[click](&#106;avascript:alert(1))',
  '<javascript:alert(1)>',
  '[x](data:text/html,<script>alert(1)</script>)',
  '[x](vbscript:msgbox(1))',
  '[ref]\n\n[ref]: javascript:alert(1)',
  '**<iframe src="https://evil.example">**',
  '`<b>` and ``<svg onload=alert(1)>``',
  '```html\n<script>alert(1)</script>\n```',
  '```js\n</code></pre><img src=x onerror=alert(1)>\n```',
  '```"><img src=x onerror=alert(1)>\ncode\n```',
  '```\n<script>alert(1)</script>',
  '> <a href="javascript:alert(1)">q</a>',
  '- <style>body{}</style>',
  '# <object data=x>',
  '| a |\n|---|\n| <img src=x onerror=alert(1)> |',
  '[ok](https://example.com/" onmouseover="alert(1))',
  '[ok](https://example.com "t\\" onmouseover=\\"alert(1)")',
  'https://example.com/"onmouseover="alert(1)',
];

// the tags the renderer itself writes; anything else came from the input
const allowed = new Set([
  'p',
  'br',
  'strong',
  'em',
  's',
  'code',
  'pre',
  'a',
  'ul',
  'ol',
  'li',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'hr',
  'div',
  'span',
  'button',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
]);

test('hostile markdown comes out inert: no foreign tags, handlers or script URLs', () => {
  for (const src of hostile) {
    const { html } = render(src);
    for (const m of html.matchAll(/<\/?([a-zA-Z0-9]+)((?:[^>"']|"[^"]*"|'[^']*')*)>/g)) {
      const where = `${JSON.stringify(src)}: ${html}`;
      assert.ok(allowed.has(m[1].toLowerCase()), `tag <${m[1]}> from ${where}`);
      for (const a of m[2].matchAll(/\s([^\s=]+)(?:="([^"]*)")?/g)) {
        assert.match(a[1], /^(class|href|title|data-code-index|data-action|style)$/, `attribute ${a[1]} from ${where}`);
        if (a[1] === 'href') assert.match(a[2], /^(https?:|mailto:)/i, `link target from ${where}`);
      }
      assert.doesNotMatch(m[2], /javascript:|vbscript:|data:/i, `script URL from ${where}`);
    }
    // every '<' of the input that is not the renderer's own is escaped
    assert.doesNotMatch(html, /<(script|img|iframe|svg|style|object)/i, src);
  }
});

/** Each [markdown, html] case: the html render() gives for the markdown. */
function assertRenders(cases: [string, string][]): void {
  for (const [md, html] of cases) assert.equal(render(md).html, html, md);
}

test('lists are <ul>/<ol> with <li>, without stray markers, nested lists included', () => {
  assertRenders([
    ['* one\n* two', '<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n'],
    ['- a\n  - b\n    - c\n- d', '<ul>\n<li>a\n<ul>\n<li>b\n<ul>\n<li>c</li>\n</ul>\n</li>\n</ul>\n</li>\n<li>d</li>\n</ul>\n'],
    ['1. one\n2. two\n   * sub', '<ol>\n<li>one</li>\n<li>two\n<ul>\n<li>sub</li>\n</ul>\n</li>\n</ol>\n'],
  ]);
  // what code models write: bold labels in items, '*' bullets after a paragraph
  const { html } = render('Steps:\n* **Parse** the input\n* *Check* it\n\n  More about it.\n* Done');
  assert.equal(
    html,
    '<p>Steps:</p>\n<ul>\n<li>\n<p><strong>Parse</strong> the input</p>\n</li>\n<li>\n<p><em>Check</em> it</p>\n' +
      '<p>More about it.</p>\n</li>\n<li>\n<p>Done</p>\n</li>\n</ul>\n',
  );
  assert.doesNotMatch(html, /\*/);
});

test('inline markup: code spans, emphasis, headings, quotes, safe links', () => {
  assertRenders([
    ['Use `a < b` and ``x ` y``.', '<p>Use <code>a &lt; b</code> and <code>x ` y</code>.</p>\n'],
    ['# Title\n\nSome **bold**, *em*, ~~old~~.', '<h1>Title</h1>\n<p>Some <strong>bold</strong>, <em>em</em>, <s>old</s>.</p>\n'],
    ['> quoted', '<blockquote>\n<p>quoted</p>\n</blockquote>\n'],
    ['line one\nline two', '<p>line one<br>\nline two</p>\n'],
    [
      '[docs](https://example.com/a?b=1&c=2)',
      '<p><a href="https://example.com/a?b=1&amp;c=2" title="https://example.com/a?b=1&amp;c=2">docs</a></p>\n',
    ],
    ['see https://example.com', '<p>see <a href="https://example.com" title="https://example.com">https://example.com</a></p>\n'],
    // file names are not links (no fuzzy linkify: .py is a top-level domain)
    ['edit main.py or www.example.com', '<p>edit main.py or www.example.com</p>\n'],
    // an unsafe link keeps its text, inert
    ['[click](javascript:alert(1))', '<p>[click](javascript:alert(1))</p>\n'],
    ['<b>hi</b> & <i>', '<p>&lt;b&gt;hi&lt;/b&gt; &amp; &lt;i&gt;</p>\n'],
  ]);
});

test('fenced code with a known language is highlighted by highlight.js', () => {
  const { html, codes } = render('```ts\nconst x: number = 1; // c\n```');
  assert.equal(
    html,
    '<div class="code-block" data-code-index="0"><div class="code-toolbar"><span class="code-lang">ts</span>' +
      '<button class="code-copy" data-action="copy" data-code-index="0">Copy</button>' +
      '<button class="code-insert" data-action="insert" data-code-index="0">Insert</button></div>' +
      '<pre><code class="hljs language-ts"><span class="hljs-keyword">const</span> <span class="hljs-attr">x</span>: <span class="hljs-built_in">number</span> = ' +
      '<span class="hljs-number">1</span>; <span class="hljs-comment">// c</span></code></pre></div>\n',
  );
  assert.deepEqual(codes, ['const x: number = 1; // c']);
  // aliases and VS Code language ids
  for (const lang of ['python', 'py', 'typescriptreact', 'shellscript', 'sh', 'rust', 'cpp', 'html']) {
    assert.match(render('```' + lang + '\nx\n```').html, new RegExp(`<code class="hljs language-${lang}">`), lang);
  }
  // HTML inside code is escaped by the highlighter
  assert.match(render('```html\n<script>alert("x")</script>\n```').html, /<span class="hljs-name">script<\/span>/);
});

test('fenced code with an unknown or no language is escaped plain text', () => {
  const block = (cls: string, lang: string) =>
    `<div class="code-block" data-code-index="0"><div class="code-toolbar"><span class="code-lang">${lang}</span>` +
    '<button class="code-copy" data-action="copy" data-code-index="0">Copy</button>' +
    '<button class="code-insert" data-action="insert" data-code-index="0">Insert</button></div>' +
    `<pre><code${cls}>if (a &lt; b &amp;&amp; c) { &quot;x&quot; }</code></pre></div>\n`;
  assert.equal(render('```nosuchlang\nif (a < b && c) { "x" }\n```').html, block(' class="language-nosuchlang"', 'nosuchlang'));
  assert.equal(render('```\nif (a < b && c) { "x" }\n```').html, block('', ''));
  assert.equal(render('~~~\nif (a < b && c) { "x" }\n~~~').html, block('', ''));
});

test('code blocks are numbered in order, their raw text kept for Copy / Insert', () => {
  const { html, codes } = render('a\n\n```py\nx = "<y>"\n```\n\n- item\n\n  ```\n  in list\n  ```\n\n```\n\n```');
  assert.deepEqual(codes, ['x = "<y>"', 'in list', '']);
  assert.deepEqual(
    [...html.matchAll(/<div class="code-block" data-code-index="(\d)"/g)].map((m) => m[1]),
    ['0', '1', '2'],
  );
});

test('streaming: an unterminated fence is an open code block, and the text before it does not change', () => {
  const full = 'Here is the code:\n\n```python\ndef f():\n    return "<x>"\n```\n\nDone.';
  const { html, codes } = render('Here is the code:\n\n```python\ndef f():\n    return "<x>"');
  assert.match(html, /^<p>Here is the code:<\/p>\n<div class="code-block" data-code-index="0">.*<code class="hljs language-python">/s);
  assert.match(html, /&lt;x&gt;/);
  assert.doesNotMatch(html, /```/);
  assert.deepEqual(codes, ['def f():\n    return "<x>"']);
  // every prefix from the fence on renders the paragraph identically and one code block
  const start = full.indexOf('```');
  for (let n = start + 3; n <= full.length; n++) {
    const out = render(full.slice(0, n));
    assert.ok(
      out.html.startsWith('<p>Here is the code:</p>\n<div class="code-block" data-code-index="0">'),
      JSON.stringify(full.slice(0, n)),
    );
    assert.equal(out.codes.length, 1);
    assert.ok(full.slice(start).startsWith('```python\n' + out.codes[0]) || out.codes[0] === '', JSON.stringify(out.codes[0]));
  }
  assert.match(render(full).html, /<\/div>\n<p>Done.<\/p>\n$/);
});

test('the webview bundle is one small self-contained script', () => {
  // dist/test/unit/extension/ -> dist/webview/chat.js (built by esbuild.mjs before the tests)
  const bundle = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'webview', 'chat.js'), 'utf8');
  assert.ok(bundle.length < 300_000, `${bundle.length} bytes`);
  assert.doesNotMatch(bundle, /\brequire\(|\beval\(|new Function\(/);
});
