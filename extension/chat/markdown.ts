// Markdown for the chat panel's webview (bundled into dist/webview/chat.js; also run by the unit
// tests): markdown-it with raw HTML off, so every tag in an answer is shown as text, plus the
// highlight.js core with the languages code models write most (the full build is ~1 MB).
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import csharp from 'highlight.js/lib/languages/csharp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import kotlin from 'highlight.js/lib/languages/kotlin';
import markdown from 'highlight.js/lib/languages/markdown';
import php from 'highlight.js/lib/languages/php';
import python from 'highlight.js/lib/languages/python';
import ruby from 'highlight.js/lib/languages/ruby';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import MarkdownIt from 'markdown-it';

const languages = {
  bash,
  c,
  cpp,
  csharp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  kotlin,
  markdown,
  php,
  python,
  ruby,
  rust,
  sql,
  typescript,
  xml,
  yaml,
};
for (const [name, lang] of Object.entries(languages)) hljs.registerLanguage(name, lang);
// VS Code language ids (the explain prompt's fence uses them, and models echo them)
hljs.registerAliases(['typescriptreact'], { languageName: 'typescript' });
hljs.registerAliases(['javascriptreact'], { languageName: 'javascript' });
hljs.registerAliases(['shellscript', 'shell', 'console'], { languageName: 'bash' });

type Codes = { codes: string[] };

// linkify only for explicit http(s):// text: fuzzy matching turns file names like main.py into links
const md = new MarkdownIt({ html: false, linkify: true, breaks: true });
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
md.disable('image'); // the CSP blocks remote images anyway: show ![alt](url) as text instead of a broken image
md.validateLink = (url) => /^(https?:|mailto:)/i.test(url);

// the link target as its tooltip: a webview shows no status bar URL on hover
md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const t = tokens[idx];
  if (!t.attrGet('title')) t.attrSet('title', t.attrGet('href') ?? '');
  return self.renderToken(tokens, idx, options);
};

// A fenced block gets a toolbar (Copy / Insert act on env.codes[i], the raw text). An unterminated
// fence (a streaming answer) runs to the end of the text, so it is already an open code block.
md.renderer.rules.fence = (tokens, idx, _options, env) => {
  const token = tokens[idx];
  const esc = md.utils.escapeHtml;
  const lang = md.utils.unescapeAll(token.info).trim().split(/\s+/)[0];
  const code = token.content.replace(/\n$/, '');
  const i = (env as Codes).codes.push(code) - 1;
  const known = lang !== '' && hljs.getLanguage(lang) !== undefined;
  const body = known ? hljs.highlight(code, { language: lang, ignoreIllegals: true }).value : esc(code);
  const cls = [known ? 'hljs' : '', lang ? `language-${esc(lang)}` : ''].filter(Boolean).join(' ');
  return (
    `<div class="code-block" data-code-index="${i}"><div class="code-toolbar"><span class="code-lang">${esc(lang)}</span>` +
    `<button class="code-copy" data-action="copy" data-code-index="${i}">Copy</button>` +
    `<button class="code-insert" data-action="insert" data-code-index="${i}">Insert</button></div>` +
    `<pre><code${cls ? ` class="${cls}"` : ''}>${body}</code></pre></div>\n`
  );
};

/** The HTML of `text` and the raw text of its code blocks (codes[i] is block data-code-index=i). */
export function render(text: string): { html: string; codes: string[] } {
  const env: Codes = { codes: [] };
  return { html: md.render(text, env), codes: env.codes };
}
