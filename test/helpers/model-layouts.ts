// Real small GGUFs for the model catalogue's tests, and the folder layouts other tools keep them in,
// built faithfully in temp folders: the Hugging Face hub cache (snapshots linking to blobs named by
// SHA-256), llama.cpp's cache (hub layout, and an older flat file with its .json), LM Studio
// (PUBLISHER/REPO/FILE) and Ollama (a manifest naming a sha256-HEX blob).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { python } from '../../engine-native/cli/grown-target';
import { ROOT } from './models';

const CACHE = path.join(ROOT, 'test', '.models');
const VOCABS = path.join(ROOT, 'build', 'llama.cpp', 'models');

export const vocabPath = (name: string) => path.join(VOCABS, `ggml-vocab-${name}.gguf`);

/** Tiny shapes: each is more than four times the parameters of the one before (the pairing rule). */
export const SHAPES = {
  tiny: ['--layers', '1', '--embd', '32', '--heads', '2', '--kv-heads', '2', '--ff', '64'],
  small: ['--layers', '2', '--embd', '128', '--heads', '4', '--kv-heads', '2', '--ff', '256'],
  medium: ['--layers', '2', '--embd', '256', '--heads', '4', '--kv-heads', '2', '--ff', '512'],
};

/**
 * A random-weight GGUF from make_test_model.py with these options (tied Q8_0 weights, to stay
 * small), generated once into test/.models. A split model (--split-max-tensors) gives its first shard.
 */
export function catalogModel(name: string, options: string[]): string {
  const args = ['--tied', '--dtype', 'q8_0', '--seed', '7', ...options];
  const key = createHash('sha256').update(JSON.stringify(args)).digest('hex').slice(0, 10);
  const split = options.includes('--split-max-tensors');
  const file = path.join(CACHE, split ? `catalog-${name}-${key}-00001-of-00002.gguf` : `catalog-${name}-${key}.gguf`);
  if (existsSync(file)) return file;
  // generated in a folder of its own and moved in whole, so an interrupted run leaves no half model
  mkdirSync(CACHE, { recursive: true });
  const tmp = mkdtempSync(path.join(CACHE, 'tmp-'));
  try {
    const script = path.join(ROOT, 'engine-native', 'tools', 'make_test_model.py');
    execFileSync(python(), [script, path.join(tmp, `catalog-${name}-${key}.gguf`), ...args], { stdio: 'pipe' });
    // the first shard last: it is what the cache looks for
    for (const f of readdirSync(tmp).sort().reverse()) renameSync(path.join(tmp, f), path.join(CACHE, f));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (!existsSync(file)) throw new Error(`make_test_model.py did not write ${file} (is --split-max-tensors giving two shards?)`);
  return file;
}

/** The catalogue's test models: two tokenizer families (deepseek-coder and llama-spm), sizes for pairing. */
export function catalogModels() {
  const ds = ['--vocab', vocabPath('deepseek-coder')];
  const spm = ['--vocab', vocabPath('llama-spm')];
  return {
    dsDraft: catalogModel('ds-draft', [...SHAPES.tiny, ...ds]),
    dsTarget: catalogModel('ds-target', [...SHAPES.small, ...ds]),
    dsLarge: catalogModel('ds-large', [...SHAPES.medium, ...ds, '--name', 'DeepSeek Test Large']),
    dsInstruct: catalogModel('ds-instruct', [...SHAPES.medium, ...ds, '--name', 'DeepSeek Test Large', '--finetune', 'Instruct']),
    spmDraft: catalogModel('spm-draft', [...SHAPES.tiny, ...spm]),
    spmTarget: catalogModel('spm-target', [...SHAPES.small, ...spm]),
  };
}

/** Variants of the deepseek-coder tiny model that probe each clause of the engine's vocabulary check. */
export function vocabVariants() {
  const ds = [...SHAPES.tiny, '--vocab', vocabPath('deepseek-coder')];
  return {
    padded128: catalogModel('ds-pad128', [...ds, '--pad-vocab', '128']),
    padded129: catalogModel('ds-pad129', [...ds, '--pad-vocab', '129']),
    token4Renamed: catalogModel('ds-tok4', [...ds, '--set-token', '4=renamed']),
    token5Renamed: catalogModel('ds-tok5', [...ds, '--set-token', '5=renamed']),
    lastTokenRenamed: catalogModel('ds-toklast', [...ds, '--set-token', '32255=renamed']),
    noAddBos: catalogModel('ds-noaddbos', [...ds, '--kv', 'tokenizer.ggml.add_bos_token=false']),
    otherEos: catalogModel('ds-eos', [...ds, '--kv', 'tokenizer.ggml.eos_token_id=32021']),
  };
}

/** Tiny models with llama.cpp's other vocab files: each resolves its special and FIM tokens its own way. */
export function otherTokenizers() {
  const tiny = (name: string, vocab: string, ...extra: string[]) =>
    catalogModel(name, [...SHAPES.tiny, '--vocab', vocabPath(vocab), ...extra]);
  return {
    starcoder: tiny('starcoder', 'starcoder'),
    llamaBpe: tiny('llama-bpe', 'llama-bpe'),
    qwen2: tiny('qwen2', 'qwen2'),
    // Qwen2.5-Coder's 0.5B and 7B GGUFs differ so: 151,936 and 152,064 tokens
    qwen2Padded128: tiny('qwen2-pad128', 'qwen2', '--pad-vocab', '128'),
  };
}

/** A deepseek-coder tiny model split in two files, as gguf-split writes them. */
export function splitModel(): string {
  return catalogModel('ds-split', [...SHAPES.tiny, '--vocab', vocabPath('deepseek-coder'), '--split-max-tensors', '6']);
}

/** Writes a file, creating its folder; returns the path. */
export function put(file: string, contents: Buffer | string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, contents);
  return file;
}

/** Copies `source` to `file`, creating its folder; returns the path. */
export function copyTo(file: string, source: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  copyFileSync(source, file);
  return file;
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * A repository in a hub cache: blobs/<sha256> holds each file, snapshots/<commit>/<name> links to
 * it relatively, refs/main names the commit. Returns the snapshot paths, by file name.
 */
export function hubRepo(cacheDir: string, repo: string, files: Record<string, string>, commit = 'a'.repeat(40)): Record<string, string> {
  const repoDir = path.join(cacheDir, `models--${repo.replace('/', '--')}`);
  put(path.join(repoDir, 'refs', 'main'), commit);
  const links: Record<string, string> = {};
  for (const [name, source] of Object.entries(files)) {
    const bytes = readFileSync(source);
    const blob = put(path.join(repoDir, 'blobs', sha256(bytes)), bytes);
    const link = path.join(repoDir, 'snapshots', commit, name);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.relative(path.dirname(link), blob), link);
    links[name] = link;
  }
  return links;
}

/** An older llama.cpp download: the file, flat in the cache folder, and FILE.json with its url. */
export function llamaCacheFlatFile(cacheDir: string, repo: string, name: string, source: string): string {
  const file = copyTo(path.join(cacheDir, `${repo.replace('/', '_')}_${name}`), source);
  put(
    `${file}.json`,
    JSON.stringify({
      etag: `"${sha256(name)}"`,
      lastModified: 'Tue, 01 Jul 2025 00:00:00 GMT',
      url: `https://huggingface.co/${repo}/resolve/main/${name}`,
    }),
  );
  return file;
}

/** LM Studio's models folder: PUBLISHER/REPO/FILE. */
export function lmStudioModel(modelsDir: string, publisher: string, repo: string, name: string, source: string): string {
  return copyTo(path.join(modelsDir, publisher, repo, name), source);
}

/**
 * An Ollama model as `ollama pull` leaves it: blobs/sha256-HEX for the GGUF, its template and
 * params, and the config, and a manifest under manifests/registry.ollama.ai/library/NAME/TAG.
 * Returns the model's blob.
 */
export function ollamaModel(modelsDir: string, name: string, tag: string, source: string): string {
  const blob = (bytes: Buffer | string, mediaType: string) => {
    const digest = sha256(bytes);
    put(path.join(modelsDir, 'blobs', `sha256-${digest}`), bytes);
    return { mediaType, digest: `sha256:${digest}`, size: Buffer.byteLength(bytes) };
  };
  const model = blob(readFileSync(source), 'application/vnd.ollama.image.model');
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: blob(
      JSON.stringify({ model_format: 'gguf', model_family: 'llama', file_type: 'Q8_0' }),
      'application/vnd.docker.container.image.v1+json',
    ),
    layers: [
      model,
      blob('{{ .Prompt }}', 'application/vnd.ollama.image.template'),
      blob(JSON.stringify({ stop: ['<|EOT|>'] }), 'application/vnd.ollama.image.params'),
    ],
  };
  put(path.join(modelsDir, 'manifests', 'registry.ollama.ai', 'library', name, tag), JSON.stringify(manifest));
  return path.join(modelsDir, 'blobs', model.digest.replace(':', '-'));
}
