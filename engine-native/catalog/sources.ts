// Where GGUF models already lie on this machine: the Hugging Face hub cache (which llama.cpp's -hf
// and huggingface-cli fill), llama.cpp's own cache, LM Studio, Ollama, and folders the caller names.
// Only names and small manifests are read here; the headers are the scan's (scan.ts).
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { splitShardNumber } from './model-info';

export type ModelSource = 'huggingface' | 'llama.cpp' | 'lmstudio' | 'ollama' | 'folder';

/** Folders to look in, per source. Every one is a parameter so that tests can pass temp folders. */
export interface ModelRoots {
  /** Hub caches: models--ORG--NAME/snapshots/REV/*.gguf. */
  huggingFace: string[];
  /** llama.cpp caches: the hub layout (llama.cpp's -hf today) and flat files (older llama.cpp). */
  llamaCpp: string[];
  /** LM Studio model folders: PUBLISHER/REPO/*.gguf. */
  lmStudio: string[];
  /** Ollama model stores: manifests/REGISTRY/NAMESPACE/MODEL/TAG naming blobs/sha256-HEX. */
  ollama: string[];
  /** Any other folders (specexec.modelFolders, the workspace), searched to FOLDER_DEPTH. */
  folders: string[];
}

export interface ModelFile {
  /** The file to load: a snapshot link, an Ollama blob, a file in a folder. */
  path: string;
  source: ModelSource;
  /** How the user knows it: "ORG/NAME:FILE" (as the CLI takes it), "name:tag" (Ollama), a path in its folder. */
  displayName: string;
  /** The Hugging Face repository ("ORG/NAME"), LM Studio's "PUBLISHER/REPO" or Ollama's model; null in a folder. */
  repo: string | null;
  /** Set when the location itself is broken (an Ollama manifest that names no model). */
  problem?: string;
}

const FOLDER_DEPTH = 6;
const REPO_FILE_DEPTH = 4;
/** A workspace can be huge: stop listing a root after this many directory entries. */
const MAX_ENTRIES_PER_ROOT = 50_000;
const SKIPPED_DIRS = new Set(['node_modules']);
const OLLAMA_MODEL_LAYER = 'application/vnd.ollama.image.model';
const OLLAMA_REGISTRY = 'registry.ollama.ai';

/** The usual places, from the environment as each tool reads it; `folders` is left to the caller. */
export function defaultModelRoots(env: NodeJS.ProcessEnv = process.env, home = os.homedir(), platform = process.platform): ModelRoots {
  const xdgCache = env.XDG_CACHE_HOME || path.join(home, '.cache');
  const hubCache =
    env.HF_HUB_CACHE ||
    env.HUGGINGFACE_HUB_CACHE ||
    (env.HF_HOME ? path.join(env.HF_HOME, 'hub') : path.join(xdgCache, 'huggingface', 'hub'));
  return {
    huggingFace: [hubCache],
    llamaCpp: [env.LLAMA_CACHE || path.join(platformCacheDir(env, home, platform), 'llama.cpp')],
    lmStudio: [path.join(home, '.lmstudio', 'models'), path.join(home, '.cache', 'lm-studio', 'models')],
    // the Linux installer runs Ollama as its own user, whose store is under /usr/share/ollama
    ollama: env.OLLAMA_MODELS
      ? [env.OLLAMA_MODELS]
      : [path.join(home, '.ollama', 'models'), ...(platform === 'linux' ? ['/usr/share/ollama/.ollama/models'] : [])],
    folders: [],
  };
}

/** fs_get_cache_directory in llama.cpp's common/common.cpp. */
function platformCacheDir(env: NodeJS.ProcessEnv, home: string, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches');
  if (platform === 'win32') return env.LOCALAPPDATA || path.join(home, 'AppData', 'Local');
  return env.XDG_CACHE_HOME || path.join(home, '.cache');
}

/**
 * Every model file under the roots, in source order (hub, llama.cpp, LM Studio, Ollama, folders).
 * Split shards after the first and vision projectors are left out; missing roots are skipped.
 */
export async function findModelFiles(roots: ModelRoots): Promise<ModelFile[]> {
  const found = await Promise.all([
    ...roots.huggingFace.map((r) => hubCacheFiles(r, 'huggingface')),
    ...roots.llamaCpp.map(llamaCacheFiles),
    ...roots.lmStudio.map(lmStudioFiles),
    ...roots.ollama.map(ollamaFiles),
    ...roots.folders.map(folderFiles),
  ]);
  return found.flat();
}

/** A file name the scan should read: a .gguf that is neither a later split shard nor a projector. */
export function isModelFileName(name: string): boolean {
  return /\.gguf$/i.test(name) && !/mmproj/i.test(name) && splitShardNumber(name) <= 1;
}

async function hubCacheFiles(root: string, source: ModelSource): Promise<ModelFile[]> {
  const repos = (await listDir(root)).filter((d) => d.isDirectory() && d.name.startsWith('models--'));
  const perRepo = await Promise.all(
    repos.map(async (d) => {
      const repo = d.name.slice('models--'.length).replace(/--/g, '/');
      const snapshots = path.join(root, d.name, 'snapshots');
      const revisions = (await listDir(snapshots)).filter((r) => r.isDirectory());
      const files = await Promise.all(revisions.map((r) => modelFilesUnder(path.join(snapshots, r.name), REPO_FILE_DEPTH)));
      return files.flat().map((f) => ({ path: f.path, source, displayName: `${repo}:${f.relative}`, repo }));
    }),
  );
  return perRepo.flat();
}

/** Today's llama.cpp keeps the hub layout here; older versions wrote flat files with a .json beside each. */
async function llamaCacheFiles(root: string): Promise<ModelFile[]> {
  const flat = (await listDir(root)).filter((d) => !d.isDirectory() && isModelFileName(d.name));
  const flatFiles = await Promise.all(flat.map((d) => flatCacheFile(path.join(root, d.name))));
  return [...(await hubCacheFiles(root, 'llama.cpp')), ...flatFiles];
}

/** The repository and file from the url in llama.cpp's FILE.json, else the file name. */
async function flatCacheFile(file: string): Promise<ModelFile> {
  const url = String(field(await readJson(`${file}.json`), 'url') ?? '');
  const match = /([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(url);
  const name = path.basename(file);
  return match
    ? { path: file, source: 'llama.cpp', displayName: `${match[1]}:${match[2]}`, repo: match[1] }
    : { path: file, source: 'llama.cpp', displayName: name, repo: null };
}

async function lmStudioFiles(root: string): Promise<ModelFile[]> {
  return (await modelFilesUnder(root, REPO_FILE_DEPTH)).map((f) => {
    const parts = f.relative.split('/');
    if (parts.length < 3) return { path: f.path, source: 'lmstudio', displayName: f.relative, repo: null };
    const repo = `${parts[0]}/${parts[1]}`;
    return { path: f.path, source: 'lmstudio', displayName: `${repo}:${parts.slice(2).join('/')}`, repo };
  });
}

async function ollamaFiles(root: string): Promise<ModelFile[]> {
  const manifests = await filesUnder(path.join(root, 'manifests'), REPO_FILE_DEPTH, () => true);
  return Promise.all(manifests.filter((m) => m.relative.split('/').length === 4).map((m) => ollamaModel(root, m)));
}

/** The model a manifest names, as `ollama list` shows it: "name:tag" for the official library. */
async function ollamaModel(root: string, manifest: FoundFile): Promise<ModelFile> {
  const [registry, namespace, model, tag] = manifest.relative.split('/');
  const name =
    registry !== OLLAMA_REGISTRY ? `${registry}/${namespace}/${model}` : namespace === 'library' ? model : `${namespace}/${model}`;
  const displayName = `${name}:${tag}`;
  const json = await readJson(manifest.path);
  const layers = field(json, 'layers');
  const layer: unknown = Array.isArray(layers) ? layers.find((l) => field(l, 'mediaType') === OLLAMA_MODEL_LAYER) : undefined;
  const digest = /^sha256:([0-9a-f]{64})$/.exec(String(field(layer, 'digest') ?? ''));
  if (!digest) {
    const problem =
      json === undefined ? 'the Ollama manifest is not JSON' : `the Ollama manifest names no model layer (${OLLAMA_MODEL_LAYER})`;
    return { path: manifest.path, source: 'ollama', displayName, repo: name, problem };
  }
  return { path: path.join(root, 'blobs', `sha256-${digest[1]}`), source: 'ollama', displayName, repo: name };
}

async function folderFiles(root: string): Promise<ModelFile[]> {
  const files = await modelFilesUnder(root, FOLDER_DEPTH);
  return files.map((f) => ({ path: f.path, source: 'folder', displayName: f.relative, repo: null }));
}

interface FoundFile {
  path: string;
  /** Relative to the root searched, with forward slashes. */
  relative: string;
}

function modelFilesUnder(root: string, depth: number): Promise<FoundFile[]> {
  return filesUnder(root, depth, isModelFileName);
}

/** Files (and links to files) to `depth` levels below `root`, skipping hidden folders and node_modules. */
async function filesUnder(root: string, depth: number, wanted: (name: string) => boolean): Promise<FoundFile[]> {
  const out: FoundFile[] = [];
  let budget = MAX_ENTRIES_PER_ROOT;
  const visit = async (dir: string, relative: string, level: number): Promise<void> => {
    const entries = (await listDir(dir)).slice(0, Math.max(0, budget));
    budget -= entries.length;
    const subdirs: Promise<void>[] = [];
    for (const e of entries) {
      const rel = relative ? `${relative}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (level < depth && !e.name.startsWith('.') && !SKIPPED_DIRS.has(e.name))
          subdirs.push(visit(path.join(dir, e.name), rel, level + 1));
      } else if (wanted(e.name)) out.push({ path: path.join(dir, e.name), relative: rel });
    }
    await Promise.all(subdirs);
  };
  await visit(root, '', 0);
  return out.sort((a, b) => a.relative.localeCompare(b.relative));
}

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return []; // a root that does not exist (no LM Studio here) or cannot be read
  }
}

/** A JSON file as written by another tool, undefined when it is missing or not JSON. */
async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function field(json: unknown, key: string): unknown {
  return typeof json === 'object' && json !== null ? (json as Record<string, unknown>)[key] : undefined;
}
