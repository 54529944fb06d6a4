// What a user may type where a model is wanted (the CLI's --target/--draft, `models pull`): a file,
// a preset id (presets.ts), or a Hugging Face `ORG/NAME:FILE` that is already in the hub cache.
import { existsSync } from 'node:fs';
import { hubCacheDir, readRef, snapshotPath, type HubFileRef } from './hub-cache';
import { findPreset, MODEL_PRESETS, type ModelPreset } from './presets';

/** `ORG/NAME:FILE.gguf`, optionally `ORG/NAME@REVISION:FILE.gguf`. */
const HUB_SPEC = /^([\w.-]+\/[\w.-]+)(?:@([\w.-]+))?:(.+\.gguf)$/i;

export type ModelSpec = { kind: 'file'; path: string } | { kind: 'preset'; preset: ModelPreset } | { kind: 'hub'; ref: HubFileRef };

/** An existing file wins, so that a path with a colon in it (Windows drives) stays a path. */
export function parseModelSpec(spec: string): ModelSpec {
  if (existsSync(spec)) return { kind: 'file', path: spec };
  const preset = findPreset(spec);
  if (preset) return { kind: 'preset', preset };
  const hub = HUB_SPEC.exec(spec);
  if (hub) return { kind: 'hub', ref: { repo: hub[1], revision: hub[2], file: hub[3] } };
  return { kind: 'file', path: spec };
}

export function presetIds(): string {
  return MODEL_PRESETS.map((p) => p.id).join(', ');
}

/** The snapshot path of a hub file downloaded before (at its revision's last known commit), or undefined. */
export async function cachedHubFile(ref: HubFileRef, cacheDir = hubCacheDir()): Promise<string | undefined> {
  const commit = await readRef(cacheDir, ref.repo, ref.revision ?? 'main');
  if (!commit) return undefined;
  const file = snapshotPath(cacheDir, ref.repo, commit, ref.file);
  return existsSync(file) ? file : undefined;
}
