// A small, safe markdown renderer for the chat panel (no dependencies, no remote resources).
// Safety model: every piece of source text is HTML-escaped before any markup is added; raw HTML in
// the markdown is shown as text, never interpreted; links keep only http(s)/mailto targets; no
// attribute ever carries unescaped input. It renders the subset a code model produces: headings,
// paragraphs, emphasis, inline code, fenced code blocks (with a small highlighter), lists, quotes,
// rules and links. An unterminated fence (a streaming answer) renders as an open code block.
// Works as a browser global (SpecExecMarkdown) and as a CommonJS module (unit tests).
(function (root) {
  'use strict';

  function escapeHtml(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }

  var KEYWORDS = ('abstract and as async await break case catch class const continue def default del do elif else ' +
    'enum except export extends false final finally fn for from func function go if impl import in interface is ' +
    'lambda let loop match mod module mut namespace new nil none None not null or package pass private protected ' +
    'pub public raise return self static struct super switch this throw throws trait true True False try type ' +
    'typeof use using var void while with yield').split(' ');
  var KEYWORD_SET = Object.create(null);
  KEYWORDS.forEach(function (k) { KEYWORD_SET[k] = true; });
  var HASH_COMMENT_LANGS = { python: 1, py: 1, sh: 1, bash: 1, shell: 1, shellscript: 1, ruby: 1, rb: 1, yaml: 1, yml: 1, toml: 1, perl: 1, r: 1, makefile: 1, dockerfile: 1, cmake: 1 };

  // Splits code into [class, text] tokens; the text is escaped by the caller.
  function tokenize(code, lang) {
    var hash = HASH_COMMENT_LANGS[(lang || '').toLowerCase()] === 1;
    var re = hash
      ? /(#[^\n]*)|("""[\s\S]*?(?:"""|$)|'''[\s\S]*?(?:'''|$)|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?)|(\b\d[\d_]*(?:\.\d+)?(?:e[+-]?\d+)?\b|\b0x[0-9a-f]+\b)|([A-Za-z_$][\w$]*)/gi
      : /(\/\/[^\n]*|\/\*[\s\S]*?(?:\*\/|$))|("(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?|`(?:\\.|[^`\\])*`?)|(\b\d[\d_]*(?:\.\d+)?(?:e[+-]?\d+)?\b|\b0x[0-9a-f]+\b)|([A-Za-z_$][\w$]*)/gi;
    var out = [];
    var last = 0;
    var m;
    while ((m = re.exec(code)) !== null) {
      if (m[0] === '') { re.lastIndex++; continue; }
      if (m.index > last) out.push(['', code.slice(last, m.index)]);
      if (m[1]) out.push(['tok-comment', m[1]]);
      else if (m[2]) out.push(['tok-string', m[2]]);
      else if (m[3]) out.push(['tok-number', m[3]]);
      else out.push([KEYWORD_SET[m[4]] ? 'tok-keyword' : '', m[4]]);
      last = re.lastIndex;
    }
    if (last < code.length) out.push(['', code.slice(last)]);
    return out;
  }

  function highlight(code, lang) {
    return tokenize(code, lang).map(function (t) {
      return t[0] ? '<span class="' + t[0] + '">' + escapeHtml(t[1]) + '</span>' : escapeHtml(t[1]);
    }).join('');
  }

  function safeUrl(url) {
    var u = String(url).trim();
    return /^(https?:\/\/|mailto:)[^\s"'<>`]+$/i.test(u) ? u : null;
  }

  // Inline markup on already-split text: code spans first (their content is literal), then the rest.
  function inline(text) {
    var parts = text.split(/(`+)([\s\S]*?[^`])\1(?!`)/);
    var out = '';
    for (var i = 0; i < parts.length; i++) {
      if (i % 3 === 0) out += inlineText(parts[i]);
      else if (i % 3 === 2) out += '<code>' + escapeHtml(parts[i].replace(/^ (.*) $/, '$1')) + '</code>';
    }
    return out;
  }

  function inlineText(text) {
    var s = escapeHtml(text);
    // links: [label](url) with a safe url; otherwise the label stays as text
    s = s.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, function (all, label, url) {
      var raw = url.replace(/&amp;/g, '&');
      var safe = safeUrl(raw);
      return safe ? '<a href="' + escapeHtml(safe) + '" title="' + escapeHtml(safe) + '">' + label + '</a>' : label;
    });
    s = s.replace(/\*\*([^*\n]+)\*\*/g, '<strong>$1</strong>').replace(/__([^_\n]+)__/g, '<strong>$1</strong>');
    s = s.replace(/(^|[^*\w])\*([^*\n]+)\*(?!\*)/g, '$1<em>$2</em>').replace(/(^|[^_\w])_([^_\n]+)_(?!\w)/g, '$1<em>$2</em>');
    return s;
  }

  // Returns { html, codes }: codes[i] is the raw text of the i-th code block (for copy / insert).
  function render(markdown) {
    var lines = String(markdown).replace(/\r\n?/g, '\n').split('\n');
    var html = [];
    var codes = [];
    var para = [];
    var list = null; // { ordered, items }
    function flushPara() {
      if (para.length) { html.push('<p>' + inline(para.join('\n')).replace(/\n/g, '<br>') + '</p>'); para = []; }
    }
    function flushList() {
      if (list) {
        var tag = list.ordered ? 'ol' : 'ul';
        html.push('<' + tag + '>' + list.items.map(function (it) { return '<li>' + inline(it) + '</li>'; }).join('') + '</' + tag + '>');
        list = null;
      }
    }
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      var fence = /^\s*(```+|~~~+)\s*([\w#+.-]*)\s*$/.exec(line);
      if (fence) {
        flushPara(); flushList();
        var lang = fence[2] || '';
        var body = [];
        var closed = false;
        for (i++; i < lines.length; i++) {
          if (new RegExp('^\\s*' + fence[1].replace(/[~`]/g, '\\$&') + '\\s*$').test(lines[i])) { closed = true; break; }
          body.push(lines[i]);
        }
        var code = body.join('\n');
        var idx = codes.push(code) - 1;
        html.push('<div class="code-block' + (closed ? '' : ' streaming') + '" data-code-index="' + idx + '">' +
          '<div class="code-toolbar"><span class="code-lang">' + escapeHtml(lang) + '</span>' +
          '<button class="code-copy" data-action="copy" data-code-index="' + idx + '">Copy</button>' +
          '<button class="code-insert" data-action="insert" data-code-index="' + idx + '">Insert</button></div>' +
          '<pre><code class="language-' + escapeHtml(lang.replace(/[^\w+#-]/g, '')) + '">' + highlight(code, lang) + '</code></pre></div>');
        continue;
      }
      if (/^\s*$/.test(line)) { flushPara(); flushList(); continue; }
      var h = /^(#{1,6})\s+(.*)$/.exec(line);
      if (h) { flushPara(); flushList(); html.push('<h' + h[1].length + '>' + inline(h[2].replace(/\s+#+\s*$/, '')) + '</h' + h[1].length + '>'); continue; }
      if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { flushPara(); flushList(); html.push('<hr>'); continue; }
      var q = /^\s*>\s?(.*)$/.exec(line);
      if (q) { flushPara(); flushList(); html.push('<blockquote>' + inline(q[1]) + '</blockquote>'); continue; }
      var li = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line);
      if (li) {
        flushPara();
        var ordered = /\d/.test(li[1]);
        if (list && list.ordered !== ordered) flushList();
        if (!list) list = { ordered: ordered, items: [] };
        list.items.push(li[2]);
        continue;
      }
      if (list && /^\s{2,}\S/.test(line)) { list.items[list.items.length - 1] += ' ' + line.trim(); continue; }
      flushList();
      para.push(line);
    }
    flushPara(); flushList();
    return { html: html.join('\n'), codes: codes };
  }

  var api = { render: render, escapeHtml: escapeHtml, highlight: highlight, safeUrl: safeUrl };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.SpecExecMarkdown = api;
})(this);
