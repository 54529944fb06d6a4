// The typing-session benchmark's in-editor half (test/bench/typing-session.ts starts it in
// code-server): replays a scripted session on held-out files as a user would and times what the
// user sees. Per file: open it (a pause to look at it), type the first characters of the held-out
// continuation one keystroke at a time (the first is the "cold" keystroke: the first in a file just
// opened), let the suggestion be read, accept it with Tab (twice: the rest of a streamed
// suggestion, then what follows it), cycle to the next suggestion (Alt+]), and accept a word. Every time is from the user's action (a keystroke, Tab) to the ghost
// text (the provider returning suggestions for that document), as the editor itself asks for them.
// Input: $SPECEXEC_TYPING_INPUT (JSON: TypingInput); output: $SPECEXEC_TYPING_OUTPUT (TypingOutput).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SpecExecApi } from '../../../extension/api';
import type { ProvideEvent } from '../../../extension/completion/provider';

export interface TypingInput {
  files: { id: string; language: string; prefix: string; suffix: string; expected: string }[];
  /** Keystrokes typed per file (the first is the cold one). */
  keystrokes: number;
  /** Pause between keystrokes, and to read a suggestion before Tab. */
  typeMs: number;
  readMs: number;
  /** After opening a file: at least this long (the user looks at it), and with warm-up on until it finished, at most maxWarmUpMs. */
  openMs: number;
  maxWarmUpMs: number;
  /** How long one action may wait for its ghost text. */
  timeoutMs: number;
}

export type Phase = 'cold' | 'warm' | 'accept' | 'cycle' | 'word';

export interface TypingEvent {
  file: string;
  phase: Phase;
  /** Action to ghost text; null when none came within the timeout. */
  ms: number | null;
  source: ProvideEvent['source'] | null;
  /** For accepts: whether a prefetch served the ghost text after it (its result or its running generation). */
  prefetched?: boolean;
}

export interface TypingOutput {
  events: TypingEvent[];
  /** Per file: from opening it to its warm-up's end (null: none ended within maxWarmUpMs, or warm-up off). */
  warmUpMs: (number | null)[];
  /** Characters the user accepted (Tab, accept word). */
  acceptedChars: number;
  /** CPU time of the engine process over the session (user + system). */
  engineCpuMs: number;
  sessionMs: number;
  warmUps: number;
  /** Alternatives shown whole from the prompt's draft tree (no generation), and generated. */
  alternativesFromTree: number;
  alternativesGenerated: number;
}

const EXT: Record<string, string> = {
  typescript: 'ts',
  javascript: 'js',
  python: 'py',
  c: 'c',
  cpp: 'cpp',
  go: 'go',
  rust: 'rs',
  java: 'java',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** After accepting a word, a new request within this long is the editor asking again; none: it kept the rest. */
const WORD_WAIT_MS = 3000;

/** Polls `done` every 50 ms until it holds (true) or `ms` passed (false). */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (done()) return true;
  return done();
}

/** The engine process's CPU time so far (Linux /proc; clock ticks of 10 ms). */
function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

suite('typing session', function () {
  test('replays the session', async function () {
    const input = JSON.parse(fs.readFileSync(process.env.SPECEXEC_TYPING_INPUT!, 'utf8')) as TypingInput;
    this.timeout(input.files.length * ((input.keystrokes + 6) * input.timeoutMs + input.maxWarmUpMs) + 120_000);
    const api = (await vscode.extensions.getExtension('specexec.specexec-code')!.activate()) as SpecExecApi;
    await api.engine.start(); // the models load before the session: its cold start is a file's, not the engine's
    const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
    const out: TypingOutput = {
      events: [],
      warmUpMs: [],
      acceptedChars: 0,
      engineCpuMs: 0,
      sessionMs: 0,
      warmUps: 0,
      alternativesFromTree: 0,
      alternativesGenerated: 0,
    };
    const cpu0 = cpuMs(api.engine.pid());
    const t0 = Date.now();

    /** Runs `action` and waits for the next suggestion for `doc` that it caused. */
    async function timed(
      doc: vscode.TextDocument,
      action: () => Thenable<unknown>,
      explicit = false,
      timeoutMs = input.timeoutMs,
    ): Promise<{ ms: number | null; ev?: ProvideEvent }> {
      const key = `${doc.uri.toString()}#${doc.languageId}`;
      const start = Date.now();
      const shown = new Promise<ProvideEvent | undefined>((resolve) => {
        const timer = setTimeout(() => {
          sub.dispose();
          resolve(undefined);
        }, timeoutMs);
        const sub = api.completions.onDidProvide((e) => {
          if (e.document !== key || e.chars === 0 || (explicit && !e.explicit)) return;
          clearTimeout(timer);
          sub.dispose();
          resolve(e);
        });
      });
      await action();
      const ev = await shown;
      return { ms: ev ? ev.at - start : null, ev };
    }

    for (const file of input.files) {
      const full = path.join(ws, `${file.id}.${EXT[file.language] ?? 'txt'}`);
      fs.writeFileSync(full, file.prefix + file.suffix);
      const doc = await vscode.workspace.openTextDocument(full);
      const editor = await vscode.window.showTextDocument(doc, { preview: false });
      const at = doc.positionAt(file.prefix.length);
      const opened = Date.now();
      const warmUps = api.completions.counters().warmUps;
      editor.selection = new vscode.Selection(at, at);
      // the user looks at the file; a warm-up (when on) reads its prompt meanwhile
      const warmed = await until(() => api.completions.counters().warmUps > warmUps, input.maxWarmUpMs);
      out.warmUpMs.push(warmed ? Date.now() - opened : null);
      await sleep(Math.max(0, input.openMs - (Date.now() - opened)));
      const push = (phase: Phase, r: { ms: number | null; ev?: ProvideEvent }, extra: Partial<TypingEvent> = {}) =>
        out.events.push({ file: file.id, phase, ms: r.ms, source: r.ev?.source ?? null, ...extra });

      let last: { ms: number | null; ev?: ProvideEvent } = { ms: null };
      for (let k = 0; k < input.keystrokes && k < file.expected.length; k++) {
        last = await timed(doc, () => vscode.commands.executeCommand('type', { text: file.expected[k] }));
        push(k === 0 ? 'cold' : 'warm', last);
        await sleep(input.typeMs);
      }
      // Tab twice: a streamed suggestion's rest comes from the cache; the second shows what follows a whole one
      for (let tab = 0; tab < 2 && last.ms !== null; tab++) {
        await sleep(input.readMs); // the user reads the suggestion (the prefetch runs now, when on)
        const before = doc.getText().length;
        const served = api.completions.counters().prefetchHits;
        last = await timed(doc, () => vscode.commands.executeCommand('editor.action.inlineSuggest.commit'));
        const accepted = doc.getText().length - before;
        if (accepted <= 0) break;
        out.acceptedChars += accepted;
        push('accept', last, { prefetched: api.completions.counters().prefetchHits > served });
      }
      if (last.ms !== null) {
        await sleep(input.readMs);
        push('cycle', await timed(doc, () => vscode.commands.executeCommand('editor.action.inlineSuggest.showNext'), true));
        await sleep(input.typeMs);
        const length = doc.getText().length;
        // the editor keeps the rest of a partly accepted suggestion on screen: it may not ask again at all
        const word = await timed(doc, () => vscode.commands.executeCommand('specexec.acceptNextWord'), false, WORD_WAIT_MS);
        out.acceptedChars += Math.max(0, doc.getText().length - length);
        push('word', word);
      }
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
    out.sessionMs = Date.now() - t0;
    out.engineCpuMs = cpuMs(api.engine.pid()) - cpu0;
    const counters = api.completions.counters();
    out.warmUps = counters.warmUps;
    out.alternativesFromTree = counters.alternativesFromTree;
    out.alternativesGenerated = counters.alternativesGenerated;
    fs.writeFileSync(process.env.SPECEXEC_TYPING_OUTPUT!, JSON.stringify(out, null, 1));
  });
});
