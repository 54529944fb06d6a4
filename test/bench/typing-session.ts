// The typing-session benchmark (npm run bench:typing): a scripted session of edits on held-out
// files (bench/prompts.jsonl) replayed in a real VS Code (code-server + headless Chromium, as the
// e2e tests run it) by test/e2e/vscode-host/typing-session.ts, for the bundled pair and for the
// grown 1.1B-shaped target, each with warm-up and prefetch on (the defaults) and off. Reports
// action-to-ghost-text latency (p50/p95) of the cold keystroke (the first in a file just opened),
// the warm ones that needed the engine, and the ghost text after Tab, with how often a prefetch
// served it, and the engine's CPU time per accepted character. Writes
// bench/results/<date>-<host>-typing.json and an SVG plot. A benchmark, not a test: nothing here
// passes or fails.
//   node dist/bench-typing.js [--quick] [--no-grown] [--no-bundled] [--no-off] [--files N]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureGrownTarget, GROWN_DESCRIPTION } from '../../engine-native/cli/grown-target';
import { lineChart } from '../../engine-native/cli/svg-plot';
import { defaultDraftModel, defaultTargetModel } from '../../engine-native/host/bundled-models';
import { percentileOf } from '../../extension/completion/latency';
import { ensureCodeServer, makeProfile, ROOT, rmrf, runHostSuite } from '../e2e/code-server';
import type { Phase, TypingEvent, TypingInput, TypingOutput } from '../e2e/vscode-host/typing-session';

interface Variant {
  name: string;
  settings: Record<string, unknown>;
}

const VARIANTS: Variant[] = [
  { name: 'warm-up and prefetch on', settings: { 'specexec.warmUp': true, 'specexec.prefetch': true } },
  { name: 'warm-up and prefetch off', settings: { 'specexec.warmUp': false, 'specexec.prefetch': false } },
];

interface Stats {
  n: number;
  missed: number;
  p50: number | null;
  p95: number | null;
}

function stats(events: TypingEvent[]): Stats {
  const ms = events.map((e) => e.ms).filter((m): m is number => m !== null);
  return { n: events.length, missed: events.length - ms.length, p50: percentileOf(ms, 50) ?? null, p95: percentileOf(ms, 95) ?? null };
}

function summarize(out: TypingOutput) {
  const of = (phase: Phase) => out.events.filter((e) => e.phase === phase);
  const accepts = of('accept');
  const cold = stats(of('cold'));
  const warmEngine = stats(of('warm').filter((e) => e.source === 'engine'));
  return {
    cold,
    warmAll: stats(of('warm')),
    warmEngine,
    coldOverWarm: cold.p50 !== null && warmEngine.p50 ? +(cold.p50 / warmEngine.p50).toFixed(2) : null,
    afterAccept: stats(accepts),
    accepts: accepts.length,
    /** Ghost text after Tab that needed no new generation: a prefetch's or the cache's (the rest of a streamed one). */
    acceptsWithoutEngineWait: accepts.filter((e) => e.source !== 'engine' && e.ms !== null).length,
    acceptsServedByPrefetch: accepts.filter((e) => e.prefetched).length,
    cycle: stats(of('cycle')),
    alternativesFromTree: out.alternativesFromTree,
    alternativesGenerated: out.alternativesGenerated,
    acceptWord: stats(of('word')),
    /** Accept word with no new request at all: the editor kept the rest of the suggestion on screen. */
    acceptWordKeptByEditor: of('word').filter((e) => e.ms === null).length,
    acceptedChars: out.acceptedChars,
    engineCpuMsPerAcceptedChar: out.acceptedChars > 0 ? +(out.engineCpuMs / out.acceptedChars).toFixed(1) : null,
    engineCpuMs: out.engineCpuMs,
    sessionMs: out.sessionMs,
    warmUps: out.warmUps,
    /** Opening a file to its warm-up's end, p50 (warm-up on). */
    warmUpMsP50:
      percentileOf(
        out.warmUpMs.filter((m): m is number => m !== null),
        50,
      ) ?? null,
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const grown = !process.argv.includes('--no-grown');
  const nFiles = Number(arg('--files') ?? (quick ? 4 : 8));
  const prompts = fs
    .readFileSync(path.join(ROOT, 'bench', 'prompts.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TypingInput['files'][number]);
  // a file per language in turn, each with a held-out continuation long enough to type
  const files: TypingInput['files'] = [];
  const languages = [...new Set(prompts.map((p) => p.language))];
  for (let i = 0; files.length < nFiles && i < prompts.length; i++) {
    for (const language of languages) {
      const p = prompts.filter((q) => q.language === language && q.expected.length >= 8)[i];
      if (p && files.length < nFiles)
        files.push({ id: p.id, language: p.language, prefix: p.prefix, suffix: p.suffix, expected: p.expected });
    }
  }
  const targets = process.argv.includes('--no-bundled')
    ? []
    : [{ label: 'bundled', target: defaultTargetModel(), description: 'the bundled trained pair' }];
  if (grown) targets.push({ label: 'grown', target: ensureGrownTarget(ROOT, defaultTargetModel()), description: GROWN_DESCRIPTION });
  const entry = ensureCodeServer();
  const runs = [];
  for (const t of targets) {
    for (const v of process.argv.includes('--no-off') ? VARIANTS.slice(0, 1) : VARIANTS) {
      const slow = t.label === 'grown';
      const input: TypingInput = {
        files,
        keystrokes: quick ? 4 : 6,
        typeMs: 250,
        readMs: slow ? 8000 : 1500,
        openMs: 1500,
        // reading a prompt of ~2,000 tokens takes the grown target tens of seconds on a small CPU
        maxWarmUpMs: v.settings['specexec.warmUp'] ? (slow ? 180_000 : 20_000) : 0,
        timeoutMs: slow ? 180_000 : 30_000,
      };
      const profile = makeProfile(
        'specexec-typing-',
        {},
        {
          'specexec.targetModelPath': t.target,
          'specexec.draftModelPath': defaultDraftModel(),
          'editor.inlineSuggest.enabled': true,
          ...v.settings,
        },
      );
      const inputFile = path.join(profile.work, 'typing-input.json');
      const outputFile = path.join(profile.work, 'typing-output.json');
      fs.writeFileSync(inputFile, JSON.stringify(input));
      process.stderr.write(`[typing] ${t.label}, ${v.name}: ${files.length} files\n`);
      const run = await runHostSuite(
        entry,
        profile,
        {
          SPECEXEC_E2E_SUITE: 'typing-session.js',
          SPECEXEC_E2E_RESULTS: path.join(profile.work, 'results.json'),
          SPECEXEC_TYPING_INPUT: inputFile,
          SPECEXEC_TYPING_OUTPUT: outputFile,
        },
        files.length * ((input.keystrokes + 6) * input.timeoutMs + input.maxWarmUpMs) + 300_000,
      );
      if (!fs.existsSync(outputFile)) {
        console.error(run.logLines.slice(-40).join('\n'));
        throw new Error(`the typing session wrote no output (exit ${String(run.exitCode)}; kept ${profile.work})`);
      }
      const out = JSON.parse(fs.readFileSync(outputFile, 'utf8')) as TypingOutput;
      // a missed ghost text is explained by the extension's and the engine's log
      if (out.events.some((e) => e.ms === null)) {
        const log = path.join(os.tmpdir(), `specexec-typing-${t.label}-${v.name.replace(/\W+/g, '-')}.log`);
        fs.writeFileSync(log, run.logLines.join('\n') + '\n');
        console.log(`some actions got no ghost text: the session's log is in ${log}`);
      }
      runs.push({
        target: t.label,
        targetDescription: t.description,
        variant: v.name,
        settings: v.settings,
        input: { ...input, files: files.map((f) => f.id) },
        summary: summarize(out),
        events: out.events,
      });
      rmrf(profile.work);
      const s = runs.at(-1)!.summary;
      console.log(
        `${t.label} / ${v.name}: cold p50 ${s.cold.p50} ms, warm (engine) p50 ${s.warmEngine.p50} ms (cold/warm ${s.coldOverWarm}), ` +
          `after Tab p50 ${s.afterAccept.p50} ms (${s.acceptsWithoutEngineWait}/${s.accepts} without an engine wait, ${s.acceptsServedByPrefetch} by a prefetch), ` +
          `engine CPU ${s.engineCpuMsPerAcceptedChar} ms per accepted char`,
      );
    }
  }
  const outDir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const tag = arg('--tag'); // keeps another run of the same day
  const base = path.join(
    outDir,
    `${new Date().toISOString().slice(0, 10)}-${os.hostname()}${quick ? '-quick' : ''}-typing${tag ? `-${tag}` : ''}`,
  );
  const machine = {
    hostname: os.hostname(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
  };
  fs.writeFileSync(`${base}.json`, JSON.stringify({ date: new Date().toISOString(), machine, runs }, null, 1) + '\n');
  // p50 per phase, one line per run
  const phases: [string, (s: ReturnType<typeof summarize>) => number | null][] = [
    ['cold', (s) => s.cold.p50],
    ['warm (engine)', (s) => s.warmEngine.p50],
    ['after Tab', (s) => s.afterAccept.p50],
    ['accept word', (s) => s.acceptWord.p50],
  ];
  const svg = lineChart(
    runs.map((r) => ({
      name: `${r.target}, ${r.variant.replace(' and prefetch', '+prefetch')}`,
      points: phases.map(([, f], i) => [i + 1, f(r.summary) ?? NaN]),
    })),
    { title: `Action to ghost text, p50 (1 cold, 2 warm, 3 after Tab, 4 accept word)`, xLabel: 'phase', yLabel: 'ms' },
  );
  fs.writeFileSync(`${base}.svg`, svg);
  console.log(`wrote ${base}.json and ${base}.svg`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
