// specexec models scan | pull, and the --target/--draft values that name a preset or a hub file.
import * as os from 'node:os';
import * as path from 'node:path';
import { downloadHubFiles, formatBytes, HubDownloadError, progressText, type HubFileRef } from '../catalog/download';
import { availableMemoryBytes, gpuBudgetBytes } from '../catalog/memory';
import { cachedHubFile, parseModelSpec, presetIds } from '../catalog/model-spec';
import { suggestPairs, type PairSuggestion } from '../catalog/pairing';
import { presetRamBytes, presetsThatFit } from '../catalog/presets';
import { scanModels, type CatalogModel } from '../catalog/scan';
import { loadAddon } from '../host/native';
import { CliError, type ModelFlags } from './session';

/** The CLI's own scan cache: a re-scan reads only the headers of files that changed. */
const SCAN_CACHE = path.join(os.homedir(), '.cache', 'specexec', 'model-scan.json');

const params = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : `${(n / 1e6).toFixed(0)}M`);

function describeModel(m: CatalogModel): string {
  const i = m.info;
  const traits = [i.tokenizer.fim ? 'FIM' : 'no FIM', m.instruct ? 'instruct: completion wants a base model' : ''].filter(Boolean);
  return (
    `  ${m.displayName}  [${m.source}]\n    ${i.architecture}, ${params(i.parameters)} params, ${i.quantization}, ` +
    `${formatBytes(i.sizeBytes)}, context ${i.trainedContext ?? '?'}, ${traits.join(', ')}\n    ${m.path}`
  );
}

function describePair(p: PairSuggestion): string {
  const mark = p.recommended ? '*' : p.fits ? ' ' : '!';
  const warnings = p.warnings.map((w) => `\n      ${w}`).join('');
  const gpu = p.gpu
    ? `, less what the GPU takes: draft ${p.gpu.draftLayers}/${p.gpu.draftLayerCount} and target ${p.gpu.targetLayers}/${p.gpu.targetLayerCount} layers, ${formatBytes(p.gpu.deviceBytes)} of VRAM`
    : '';
  return (
    `  ${mark} target ${p.target.displayName} + draft ${p.draft.displayName}: needs ${formatBytes(p.ramBytes)} of RAM ` +
    `(target ${formatBytes(p.targetMemory.total)}, draft ${formatBytes(p.draftMemory.total)}${gpu})${warnings}\n` +
    `      specexec complete --target ${p.target.path} --draft ${p.draft.path} ...`
  );
}

async function scan(folders: string[], json: boolean, vramBudgetMiB: number | undefined): Promise<void> {
  const started = performance.now();
  const result = await scanModels({ roots: { folders: folders.map((f) => path.resolve(f)) }, cacheFile: SCAN_CACHE });
  const ms = performance.now() - started;
  const availableBytes = await availableMemoryBytes();
  // the GPUs of the addon the engine loads: a CPU build lists none, and pairs are sized for RAM alone
  const vramBytes = gpuBudgetBytes(loadAddon().devices(), vramBudgetMiB);
  const pairs = suggestPairs(result.models, { availableBytes, vramBytes });
  if (json) {
    process.stdout.write(JSON.stringify({ ...result, availableBytes, vramBytes, pairs, ms }, null, 2) + '\n');
    return;
  }
  const out = [`${result.models.length} models (${result.headersRead} headers read, ${ms.toFixed(0)} ms):`];
  out.push(...result.models.map(describeModel));
  if (result.problems.length)
    out.push(`\nnot usable (${result.problems.length}):`, ...result.problems.map((p) => `  ${p.path}: ${p.problem}`));
  const gpuNote = vramBytes ? `, or its draft does not fit in ${formatBytes(vramBytes)} of VRAM` : '';
  out.push(`\npairs (same tokenizer; * recommended, ! needs more than the ${formatBytes(availableBytes)} of RAM available${gpuNote}):`);
  out.push(...(pairs.length ? pairs.map(describePair) : ['  none: no two models share a tokenizer with one much smaller than the other']));
  const fit = presetsThatFit(availableBytes);
  out.push(
    `\nto download: specexec models pull PRESET (${fit.length ? `fits this machine: ${fit.map((p) => p.id).join(', ')}` : `presets: ${presetIds()}`})`,
  );
  process.stdout.write(out.join('\n') + '\n');
}

/** The files a pull fetches: a preset's two models, or one REPO:FILE. */
function pullRefs(spec: string): { refs: HubFileRef[]; roles: string[]; ramBytes?: number } {
  const parsed = parseModelSpec(spec);
  if (parsed.kind === 'preset')
    return { refs: [parsed.preset.target, parsed.preset.draft], roles: ['target', 'draft'], ramBytes: presetRamBytes(parsed.preset) };
  if (parsed.kind === 'hub') return { refs: [parsed.ref], roles: ['model'] };
  throw new CliError(`models pull expects a preset (${presetIds()}) or ORG/NAME:FILE.gguf, got '${spec}'`);
}

async function pull(spec: string, token: string | undefined): Promise<void> {
  const { refs, roles, ramBytes } = pullRefs(spec);
  const available = await availableMemoryBytes();
  if (ramBytes !== undefined && ramBytes > available) {
    process.stderr.write(`note: ${spec} needs about ${formatBytes(ramBytes)} of RAM; ${formatBytes(available)} is available now\n`);
  }
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once('SIGINT', interrupt);
  let last = 0;
  try {
    const files = await downloadHubFiles(refs, {
      accessToken: token,
      signal: controller.signal,
      onProgress: (p) => {
        if (performance.now() - last < 1000 && p.bytesDone < p.totalBytes) return;
        last = performance.now();
        process.stderr.write(progressText(p) + '\n');
      },
    });
    files.forEach((f, i) => process.stdout.write(`${roles[i]}: ${f.path}${f.fromCache ? ' (already downloaded)' : ''}\n`));
    if (files.length === 2) process.stdout.write(`use it: specexec complete --target ${spec} --prompt ...\n`);
  } catch (e) {
    if (!(e instanceof HubDownloadError)) throw e;
    const resume = e.resumable ? ' Run the same command again to continue where it stopped.' : '';
    throw new CliError(`${e.message}${resume}`);
  } finally {
    process.off('SIGINT', interrupt);
  }
}

export async function runModelsCommand(
  args: string[],
  flags: { folder?: string[]; json?: boolean; vramBudgetMiB?: number },
): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === 'scan' && rest.length === 0) return scan(flags.folder ?? [], Boolean(flags.json), flags.vramBudgetMiB);
  if (sub === 'pull' && rest.length === 1) return pull(rest[0], process.env.HF_TOKEN);
  throw new CliError(
    `usage: specexec models scan [--folder DIR]... [--vram-budget MIB] [--json] | specexec models pull PRESET|ORG/NAME:FILE.gguf (presets: ${presetIds()})`,
  );
}

/** A preset or hub file already downloaded, as a path; a file stays as it is. */
async function modelPath(spec: string, role: string): Promise<{ path: string; draft?: string }> {
  const parsed = parseModelSpec(spec);
  if (parsed.kind === 'file') return { path: parsed.path };
  const refs = parsed.kind === 'preset' ? [parsed.preset.target, parsed.preset.draft] : [parsed.ref];
  const paths = await Promise.all(refs.map((r) => cachedHubFile(r)));
  if (paths.some((p) => p === undefined)) throw new CliError(`--${role} ${spec} is not downloaded yet: run specexec models pull ${spec}`);
  return { path: paths[0]!, draft: paths[1] };
}

/** --target/--draft as paths; a preset as --target brings its own draft unless --draft is given. */
export async function resolveModelSpecs(flags: ModelFlags): Promise<ModelFlags> {
  const target = flags.target === undefined ? undefined : await modelPath(flags.target, 'target');
  const draft = flags.draft === undefined ? undefined : (await modelPath(flags.draft, 'draft')).path;
  return { ...flags, target: target?.path, draft: draft ?? target?.draft ?? flags.draft };
}
