// Chat panel webview script. Talks to the extension only through postMessage; renders answers with
// the local sanitizing renderer (markdown.js). No network, no eval, no inline handlers.
(function () {
  'use strict';
  var vscode = acquireVsCodeApi();
  var md = window.SpecExecMarkdown;
  var log = document.getElementById('log');
  var input = document.getElementById('input');
  var send = document.getElementById('send');
  var stop = document.getElementById('stop');
  var clear = document.getElementById('clear');
  var messages = new Map(); // id -> { el, body, text, codes, role }
  var pendingRender = new Set();
  var busy = false;

  function setBusy(b) {
    busy = b;
    send.disabled = b;
    stop.disabled = !b;
  }

  function addMessage(id, role, text, streaming) {
    var empty = document.getElementById('empty');
    if (empty) empty.remove();
    var el = document.createElement('div');
    el.className = 'msg ' + role + (streaming ? ' streaming' : '');
    el.dataset.id = String(id);
    var r = document.createElement('div');
    r.className = 'role';
    r.textContent = role === 'user' ? 'You' : role === 'assistant' ? 'SpecExec' : role;
    var body = document.createElement('div');
    body.className = 'body';
    el.appendChild(r);
    el.appendChild(body);
    log.appendChild(el);
    var m = { el: el, body: body, text: text || '', codes: [], role: role };
    messages.set(id, m);
    renderNow(m);
    return m;
  }

  function renderNow(m) {
    if (m.role === 'user' || m.role === 'error') {
      m.body.textContent = m.text; // never interpreted
    } else {
      var out = md.render(m.text);
      m.codes = out.codes;
      m.body.innerHTML = out.html; // produced by the escaping renderer only
    }
    log.scrollTop = log.scrollHeight;
  }

  function scheduleRender(m) {
    if (pendingRender.has(m)) return;
    pendingRender.add(m);
    requestAnimationFrame(function () { pendingRender.delete(m); renderNow(m); });
  }

  log.addEventListener('click', function (ev) {
    var t = ev.target;
    if (!(t instanceof HTMLElement) || !t.dataset.action) return;
    var msgEl = t.closest('.msg');
    var m = msgEl && messages.get(Number(msgEl.dataset.id));
    if (!m) return;
    var code = m.codes[Number(t.dataset.codeIndex)];
    if (typeof code !== 'string') return;
    vscode.postMessage({ type: t.dataset.action, code: code });
    if (t.dataset.action === 'copy') { t.textContent = 'Copied'; setTimeout(function () { t.textContent = 'Copy'; }, 1200); }
  });

  function submit() {
    var text = input.value.trim();
    if (!text || busy) return;
    input.value = '';
    vscode.postMessage({ type: 'send', text: text });
  }
  send.addEventListener('click', submit);
  stop.addEventListener('click', function () { vscode.postMessage({ type: 'stop' }); });
  clear.addEventListener('click', function () { vscode.postMessage({ type: 'clear' }); });
  input.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); submit(); }
  });

  window.addEventListener('message', function (ev) {
    var msg = ev.data;
    if (!msg || typeof msg.type !== 'string') return;
    switch (msg.type) {
      case 'history':
        log.textContent = '';
        messages.clear();
        if (!msg.messages.length) {
          var e = document.createElement('div'); e.id = 'empty';
          e.textContent = 'Ask about your code. Answers come from the local model; nothing leaves this machine.';
          log.appendChild(e);
        }
        msg.messages.forEach(function (m) {
          var added = addMessage(m.id, m.role, m.content, false);
          if (m.role === 'assistant') {
            added.el.dataset.done = 'true';
            vscode.postMessage({ type: 'rendered', id: m.id, chars: added.body.textContent.length, codeBlocks: added.codes.length });
          }
        });
        setBusy(!!msg.busy);
        break;
      case 'message':
        addMessage(msg.id, msg.role, msg.content, !!msg.streaming);
        if (msg.streaming) setBusy(true);
        break;
      case 'delta': {
        var m = messages.get(msg.id);
        if (m) { m.text += msg.text; scheduleRender(m); }
        break;
      }
      case 'end': {
        var m2 = messages.get(msg.id);
        if (m2) {
          m2.text = msg.content;
          m2.el.classList.remove('streaming');
          renderNow(m2);
          if (!msg.content.trim() && msg.note) {
            var note = document.createElement('div'); note.className = 'note'; note.textContent = msg.note; m2.el.appendChild(note);
          }
          if (msg.meta) { var meta = document.createElement('div'); meta.className = 'meta'; meta.textContent = msg.meta; m2.el.appendChild(meta); }
          m2.el.dataset.done = 'true';
          vscode.postMessage({ type: 'rendered', id: msg.id, chars: m2.body.textContent.length, codeBlocks: m2.codes.length });
        }
        setBusy(false);
        break;
      }
      case 'error':
        addMessage(msg.id, 'error', msg.message, false);
        setBusy(false);
        break;
    }
  });
  setBusy(false);
  vscode.postMessage({ type: 'ready' });
})();
