// The catalogue's scan (engine-native/catalog/scan.ts, sources.ts, scan-cache.ts) over faithful
// Hugging Face, llama.cpp, LM Studio and Ollama layouts and a plain folder, built in a temp folder
// with real small GGUFs: every model is found once, under the name its tool gives it, broken files
// come with a reason, and a second scan reads no header.
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { scanModels, type ScanResult } from '../../../engine-native/catalog/scan';
import { defaultModelRoots, type ModelRoots } from '../../../engine-native/catalog/sources';
import {
  catalogModels,
  copyTo,
  hubRepo,
  lmStudioModel,
  llamaCacheFlatFile,
  ollamaModel,
  put,
  splitModel,
  vocabVariants,
} from '../../helpers/model-layouts';

describe('catalog: scan', () => {
  const models = catalogModels();
  const variants = vocabVariants();
  const root = mkdtempSync(path.join(os.tmpdir(), 'specexec-scan-'));
  const roots: ModelRoots = {
    huggingFace: [path.join(root, 'hf')],
    llamaCpp: [path.join(root, 'llama.cpp')],
    lmStudio: [path.join(root, 'lmstudio')],
    ollama: [path.join(root, 'ollama')],
    folders: [path.join(root, 'workspace')],
  };
  const workspace = (...parts: string[]) => path.join(root, 'workspace', ...parts);
  const cacheFile = path.join(root, 'storage', 'model-scan.json');
  /** Fixed, whole-second mtime: the cache test restores it exactly after changing the bytes. */
  const MTIME = 1_700_000_000;
  let hubLinks: Record<string, string>;
  let ollamaBlob: string;
  let scan: ScanResult;

  before(async () => {
    hubLinks = hubRepo(roots.huggingFace[0], 'test-org/DeepSeek-Test-GGUF', {
      'ds-draft-q8_0.gguf': models.dsDraft,
      'ds-target-q8_0.gguf': models.dsTarget,
      'mmproj-test-f16.gguf': models.spmDraft,
    });
    const split = splitModel();
    hubRepo(roots.huggingFace[0], 'test-org/Split-GGUF', {
      'split/ds-split-00001-of-00002.gguf': split,
      'split/ds-split-00002-of-00002.gguf': split.replace('-00001-of-', '-00002-of-'),
    });
    const gone = hubRepo(roots.huggingFace[0], 'test-org/Gone-GGUF', { 'gone.gguf': models.dsDraft });
    unlinkSync(path.resolve(path.dirname(gone['gone.gguf']), readlinkSync(gone['gone.gguf']))); // the blob was deleted by hand
    hubRepo(roots.llamaCpp[0], 'ggml-org/Spm-Test-GGUF', { 'spm-target-q8_0.gguf': models.spmTarget });
    llamaCacheFlatFile(roots.llamaCpp[0], 'test-org/Flat-GGUF', 'ds-pad128-q8_0.gguf', variants.padded128);
    lmStudioModel(roots.lmStudio[0], 'lmstudio-community', 'Spm-Draft-GGUF', 'spm-draft-Q8_0.gguf', models.spmDraft);
    ollamaBlob = ollamaModel(roots.ollama[0], 'dscoder', 'large', models.dsLarge);
    const ghostBlob = ollamaModel(roots.ollama[0], 'ghost', '1b', models.dsDraft);
    unlinkSync(ghostBlob);
    put(path.join(roots.ollama[0], 'manifests', 'registry.ollama.ai', 'library', 'broken', 'latest'), '{"schemaVersion": 2, "layers": [');
    copyTo(workspace('work', 'ds-instruct.gguf'), models.dsInstruct);
    copyTo(workspace('work', 'variant.gguf'), variants.token5Renamed);
    utimesSync(workspace('work', 'variant.gguf'), MTIME, MTIME);
    put(workspace('downloads', 'empty.gguf'), '');
    put(workspace('downloads', 'page.gguf'), '<!doctype html><title>404</title>'.repeat(4));
    put(workspace('downloads', 'cut.gguf'), readFileSync(models.dsDraft).subarray(0, 1_500_000));
    copyTo(workspace('work', 'mmproj-model-f16.gguf'), models.dsDraft);
    copyTo(workspace('work', 'big-00002-of-00003.gguf'), models.dsDraft);
    copyTo(workspace('node_modules', 'pkg', 'model.gguf'), models.dsDraft);
    copyTo(workspace('.hidden', 'model.gguf'), models.dsDraft);
    copyTo(workspace('a', 'b', 'c', 'd', 'e', 'f', 'g', 'too-deep.gguf'), models.dsDraft);
    put(workspace('work', 'notes.txt'), 'not a model');
    symlinkSync(hubLinks['ds-draft-q8_0.gguf'], workspace('work', 'linked-draft.gguf')); // found in the hub cache too
    scan = await scanModels({ roots, cacheFile });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('finds every model once, with its source and the name its tool gives it', () => {
    const found = scan.models.map((m) => `${m.source} ${m.displayName}`).sort();
    assert.deepEqual(found, [
      'folder work/ds-instruct.gguf',
      'folder work/variant.gguf',
      'huggingface test-org/DeepSeek-Test-GGUF:ds-draft-q8_0.gguf',
      'huggingface test-org/DeepSeek-Test-GGUF:ds-target-q8_0.gguf',
      'huggingface test-org/Split-GGUF:split/ds-split-00001-of-00002.gguf',
      'llama.cpp ggml-org/Spm-Test-GGUF:spm-target-q8_0.gguf',
      'llama.cpp test-org/Flat-GGUF:ds-pad128-q8_0.gguf',
      'lmstudio lmstudio-community/Spm-Draft-GGUF:spm-draft-Q8_0.gguf',
      'ollama dscoder:large',
    ]);
    const byName = new Map(scan.models.map((m) => [m.displayName, m]));
    assert.equal(byName.get('test-org/DeepSeek-Test-GGUF:ds-target-q8_0.gguf')!.repo, 'test-org/DeepSeek-Test-GGUF');
    assert.equal(byName.get('lmstudio-community/Spm-Draft-GGUF:spm-draft-Q8_0.gguf')!.repo, 'lmstudio-community/Spm-Draft-GGUF');
    assert.equal(byName.get('work/ds-instruct.gguf')!.repo, null);
  });

  test('a hub model is loaded through its snapshot link and known by its blob', () => {
    const draft = scan.models.find((m) => m.displayName.endsWith(':ds-draft-q8_0.gguf'))!;
    assert.equal(draft.path, hubLinks['ds-draft-q8_0.gguf']);
    assert.match(path.basename(draft.realPath), /^[0-9a-f]{64}$/);
    assert.equal(draft.info.parameters, 1042528);
  });

  test('an Ollama manifest is followed to its model blob, shown as name:tag', () => {
    const model = scan.models.find((m) => m.source === 'ollama')!;
    assert.equal(model.path, ollamaBlob);
    assert.equal(model.repo, 'dscoder');
    assert.equal(model.info.name, 'DeepSeek Test Large');
  });

  test('a split model is listed once, by its first shard, with the size of all shards', () => {
    const split = scan.models.find((m) => m.displayName.includes('ds-split'))!;
    assert.equal(split.info.splitCount, 2);
    const first = splitModel();
    assert.equal(split.info.sizeBytes, statSync(first).size + statSync(first.replace('-00001-of-', '-00002-of-')).size);
  });

  test('an instruct model is flagged; base models are not', () => {
    const instruct = scan.models.filter((m) => m.instruct).map((m) => m.displayName);
    assert.deepEqual(instruct, ['work/ds-instruct.gguf']);
  });

  test('broken files and links are listed with a reason, and the scan goes on', () => {
    const problems = Object.fromEntries(scan.problems.map((p) => [`${p.source} ${p.displayName}`, p.problem]));
    const expected: Record<string, RegExp> = {
      'folder downloads/empty.gguf': /^empty or truncated \(0 bytes\)/,
      'folder downloads/page.gguf': /wrong magic bytes/,
      'folder downloads/cut.gguf': /^truncated GGUF file: its tensors need \d+ bytes but the file has 1500000/,
      'huggingface test-org/Gone-GGUF:gone.gguf': /the file is missing/,
      'ollama ghost:1b': /the file is missing/,
      'ollama broken:latest': /the Ollama manifest is not JSON/,
    };
    assert.deepEqual(Object.keys(problems).sort(), Object.keys(expected).sort());
    for (const [name, reason] of Object.entries(expected)) assert.match(problems[name], reason, name);
  });

  test('the cache: a second scan reads no header, and trusts size and mtime', async () => {
    const again = await scanModels({ roots, cacheFile });
    assert.equal(again.headersRead, 0);
    assert.deepEqual(again, { ...scan, headersRead: 0 });

    // new bytes behind the same size and mtime: the cached description stays, so nothing was read
    const variant = workspace('work', 'variant.gguf');
    const fingerprint = () => scan.models.find((m) => m.path === variant)!.info.tokenizer.fingerprint;
    const before = fingerprint();
    copyFileSync(variants.otherEos, variant);
    utimesSync(variant, MTIME, MTIME);
    scan = await scanModels({ roots, cacheFile });
    assert.equal(scan.headersRead, 0);
    assert.equal(fingerprint(), before);

    utimesSync(variant, MTIME + 1, MTIME + 1);
    scan = await scanModels({ roots, cacheFile });
    assert.equal(scan.headersRead, 1);
    assert.notEqual(fingerprint(), before);
  });

  test('a damaged cache file is ignored and rewritten', async () => {
    writeFileSync(cacheFile, '{"version": 1, "entr');
    const fresh = await scanModels({ roots, cacheFile });
    assert.equal(fresh.headersRead, scan.models.length + 3, 'every model and the three broken files in folders');
    assert.equal((await scanModels({ roots, cacheFile })).headersRead, 0);
  });

  test('roots that do not exist give an empty catalogue', async () => {
    const nowhere = path.join(root, 'nowhere');
    const empty = await scanModels({
      roots: { huggingFace: [nowhere], llamaCpp: [nowhere], lmStudio: [nowhere], ollama: [nowhere], folders: [nowhere] },
    });
    assert.deepEqual(empty, { models: [], problems: [], headersRead: 0 });
  });
});

describe('catalog: default roots', () => {
  const home = '/home/u';

  test('each tool resolves its folder from the environment as the tool itself does', () => {
    assert.deepEqual(defaultModelRoots({}, home, 'linux'), {
      huggingFace: ['/home/u/.cache/huggingface/hub'],
      llamaCpp: ['/home/u/.cache/llama.cpp'],
      lmStudio: ['/home/u/.lmstudio/models', '/home/u/.cache/lm-studio/models'],
      ollama: ['/home/u/.ollama/models', '/usr/share/ollama/.ollama/models'],
      folders: [],
    });
    const env = { HF_HOME: '/data/hf', LLAMA_CACHE: '/data/llama', OLLAMA_MODELS: '/data/ollama' };
    const custom = defaultModelRoots(env, home, 'linux');
    assert.deepEqual([custom.huggingFace, custom.llamaCpp, custom.ollama], [['/data/hf/hub'], ['/data/llama'], ['/data/ollama']]);
    assert.deepEqual(defaultModelRoots({ HF_HUB_CACHE: '/hub', HF_HOME: '/data/hf' }, home, 'linux').huggingFace, ['/hub']);
    assert.deepEqual(defaultModelRoots({ XDG_CACHE_HOME: '/xdg' }, home, 'linux').llamaCpp, ['/xdg/llama.cpp']);
    assert.deepEqual(defaultModelRoots({}, home, 'darwin').llamaCpp, ['/home/u/Library/Caches/llama.cpp']);
    assert.deepEqual(defaultModelRoots({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, home, 'win32').llamaCpp, [
      path.join('C:\\Users\\u\\AppData\\Local', 'llama.cpp'),
    ]);
  });
});
