// The chat panel's webview script, bundled by esbuild into dist/webview/chat.js (a browser IIFE).
// Talks to the extension only through postMessage; answers go through the sanitising renderer
// (markdown.ts). No network, no eval, no inline handlers.
import { render } from './markdown';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

interface Message {
  el: HTMLElement;
  body: HTMLElement;
  text: string;
  codes: string[];
  role: string;
}
interface Turn {
  id: number;
  role: string;
  content: string;
}

const vscode = acquireVsCodeApi();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const log = $<HTMLDivElement>('log');
const input = $<HTMLTextAreaElement>('input');
const send = $<HTMLButtonElement>('send');
const stop = $<HTMLButtonElement>('stop');
const clear = $<HTMLButtonElement>('clear');
const messages = new Map<number, Message>();
const pendingRender = new Set<Message>();
let busy = false;

function setBusy(b: boolean): void {
  busy = b;
  send.disabled = b;
  stop.disabled = !b;
}

function addMessage(id: number, role: string, text: string, streaming: boolean): Message {
  document.getElementById('empty')?.remove();
  const el = document.createElement('div');
  el.className = `msg ${role}${streaming ? ' streaming' : ''}`;
  el.dataset.id = String(id);
  const r = document.createElement('div');
  r.className = 'role';
  r.textContent = role === 'user' ? 'You' : role === 'assistant' ? 'SpecExec' : role;
  const body = document.createElement('div');
  body.className = 'body';
  el.append(r, body);
  log.appendChild(el);
  const m: Message = { el, body, text: text || '', codes: [], role };
  messages.set(id, m);
  renderNow(m);
  return m;
}

// Replaces only the top-level blocks that changed: while an answer streams, the finished blocks
// above the growing one stay in place (no flicker; a selection in them survives).
function patch(body: HTMLElement, html: string): void {
  const t = document.createElement('template');
  t.innerHTML = html; // template content is inert: nothing loads or runs while it is parsed
  const fresh = [...t.content.childNodes];
  const old = [...body.childNodes];
  fresh.forEach((n, i) => {
    if (!old[i]) body.appendChild(n);
    else if (!old[i].isEqualNode(n)) old[i].replaceWith(n);
  });
  for (const n of old.slice(fresh.length)) n.remove();
}

function renderNow(m: Message): void {
  if (m.role === 'user') {
    m.body.textContent = m.text; // never interpreted
  } else {
    const out = render(m.text);
    m.codes = out.codes;
    patch(m.body, out.html);
  }
  log.scrollTop = log.scrollHeight;
}

function scheduleRender(m: Message): void {
  if (pendingRender.has(m)) return;
  pendingRender.add(m);
  requestAnimationFrame(() => {
    pendingRender.delete(m);
    renderNow(m);
  });
}

function rendered(id: number, m: Message): void {
  m.el.dataset.done = 'true';
  vscode.postMessage({ type: 'rendered', id, chars: m.body.textContent?.length ?? 0, codeBlocks: m.codes.length });
}

log.addEventListener('click', (ev) => {
  const t = ev.target;
  if (!(t instanceof HTMLElement) || !t.dataset.action) return;
  const msgEl = t.closest<HTMLElement>('.msg');
  const m = msgEl && messages.get(Number(msgEl.dataset.id));
  const code = m?.codes[Number(t.dataset.codeIndex)];
  if (typeof code !== 'string') return;
  vscode.postMessage({ type: t.dataset.action, code });
  if (t.dataset.action === 'copy') {
    t.textContent = 'Copied';
    setTimeout(() => {
      t.textContent = 'Copy';
    }, 1200);
  }
});

function submit(): void {
  const text = input.value.trim();
  if (!text || busy) return;
  input.value = '';
  vscode.postMessage({ type: 'send', text });
}
send.addEventListener('click', submit);
stop.addEventListener('click', () => vscode.postMessage({ type: 'stop' }));
clear.addEventListener('click', () => vscode.postMessage({ type: 'clear' }));
input.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey) {
    ev.preventDefault();
    submit();
  }
});

window.addEventListener('message', (ev: MessageEvent) => {
  const msg = ev.data;
  if (!msg || typeof msg.type !== 'string') return;
  switch (msg.type) {
    case 'history':
      log.textContent = '';
      messages.clear();
      if (!msg.messages.length) {
        const e = document.createElement('div');
        e.id = 'empty';
        e.textContent = 'Ask about your code. Answers come from the local model; nothing leaves this machine.';
        log.appendChild(e);
      }
      for (const t of msg.messages as Turn[]) {
        const added = addMessage(t.id, t.role, t.content, false);
        if (t.role === 'assistant') rendered(t.id, added);
      }
      setBusy(!!msg.busy);
      break;
    case 'message':
      addMessage(msg.id, msg.role, msg.content, !!msg.streaming);
      if (msg.streaming) setBusy(true);
      break;
    case 'delta': {
      const m = messages.get(msg.id);
      if (m) {
        m.text += msg.text;
        scheduleRender(m);
      }
      break;
    }
    case 'end': {
      const m = messages.get(msg.id);
      if (m) {
        m.text = msg.content;
        m.el.classList.remove('streaming');
        renderNow(m);
        const line = (cls: string, text: string) => {
          const d = document.createElement('div');
          d.className = cls;
          d.textContent = text;
          m.el.appendChild(d);
        };
        if (!msg.content.trim() && msg.note) line('note', msg.note);
        if (msg.meta) line('meta', msg.meta);
        rendered(msg.id, m);
      }
      setBusy(false);
      break;
    }
  }
});
setBusy(false);
vscode.postMessage({ type: 'ready' });
