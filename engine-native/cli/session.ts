// One CLI run's engine: spawn the host, load the models, close it again.
import { existsSync } from 'node:fs';
import { ResponseError } from 'vscode-jsonrpc/node';
import * as path from 'node:path';
import { CancellationTokenSource, EngineClient, type EngineConnection } from '../host/engine-client';
import { SharedEngineClient } from '../host/shared-client';
import { DEFAULT_IDLE_EXIT_MS, endpointFor } from '../host/shared-endpoint';
import { defaultDraftModel, defaultTargetModel } from '../host/bundled-models';
import type { CompleteResult, InitializeParams, InitializeResult } from '../host/protocol';

export class CliError extends Error {}

export interface ModelFlags {
  draft?: string;
  target?: string;
  threads?: number;
  contextSize?: number;
  targetGpuLayers?: number;
  draftGpuLayers?: number;
  vramBudgetMiB?: number;
  /** false: spawn the host without loading models (specexec info). */
  load?: boolean;
  /** Use (or start) the shared engine of this configuration, as VS Code windows do, instead of a private one. */
  shared?: boolean;
  /** How long a shared engine started by this run stays after its last client leaves. */
  idleExitMs?: number;
}

export interface EngineSession {
  client: EngineConnection;
  initialized?: InitializeResult;
  cancel: CancellationTokenSource;
  close(): Promise<void>;
}

export function resolveModels(flags: ModelFlags): { draft: string | null; target: string } {
  const target = flags.target ?? defaultTargetModel();
  // a custom target gets no default draft: the bundled draft's tokenizer may not match it
  const draft = flags.draft ?? (flags.target === undefined ? defaultDraftModel() : null);
  for (const [role, file, flag] of [
    ['target', target, flags.target],
    ['draft', draft, flags.draft],
  ] as const) {
    if (file !== null && flag === undefined && !existsSync(file)) {
      throw new CliError(
        `the bundled ${role} model is missing: ${file}. It ships with the repository ` +
          `(git lfs is not needed); pass --${role} FILE to use your own GGUF model.`,
      );
    }
  }
  return { draft, target };
}

/** `env` adds to the host's environment (SPECEXEC_NATIVE_BUILD, SPECEXEC_CPU_VARIANT, ...). */
export async function openEngine(flags: ModelFlags, env?: NodeJS.ProcessEnv): Promise<EngineSession> {
  const verbose = process.env.SPECEXEC_VERBOSE === '1';
  const models = flags.load === false ? undefined : resolveModels(flags);
  const params: InitializeParams | undefined = models && {
    targetModelPath: models.target,
    draftModelPath: models.draft,
    threads: flags.threads,
    contextSize: flags.contextSize,
    targetGpuLayers: flags.targetGpuLayers,
    draftGpuLayers: flags.draftGpuLayers,
    vramBudgetMiB: flags.vramBudgetMiB,
  };
  const client: EngineConnection =
    flags.shared && params
      ? await connectShared(params, flags.idleExitMs ?? DEFAULT_IDLE_EXIT_MS, env)
      : new EngineClient({
          env,
          onStderr: (line) => {
            if (verbose) process.stderr.write(line + '\n');
          },
        });
  const session: EngineSession = { client, cancel: new CancellationTokenSource(), close: () => client.shutdown() };
  if (!params) return session;
  try {
    session.initialized = await client.initialize(params);
  } catch (e) {
    await client.shutdown();
    throw e instanceof ResponseError ? new CliError(`${e.message} (error ${e.code})`) : e;
  }
  return session;
}

async function connectShared(params: InitializeParams, idleExitMs: number, env?: NodeJS.ProcessEnv): Promise<SharedEngineClient> {
  const hostScript = path.join(__dirname, 'engine-host.js');
  try {
    return await SharedEngineClient.connect({
      endpoint: endpointFor(params, hostScript, { ...process.env, ...env }),
      hostScript,
      env,
      idleExitMs,
    });
  } catch (e) {
    throw new CliError(`--shared: ${(e as Error).message}`);
  }
}

export function summary(r: CompleteResult): string {
  const s = r.stats;
  return (
    `${s.tokens} tokens in ${s.elapsedMs.toFixed(0)} ms (prompt ${s.promptTokens} tokens, ${s.promptMs.toFixed(0)} ms) | ` +
    `${s.tokensPerSecond.toFixed(1)} tokens/s | ${s.tokensPerTargetPass.toFixed(2)} tokens per target pass ` +
    `(${s.targetPasses} target, ${s.draftPasses} draft passes) | budget ${s.budget} | stop: ${r.stopReason}`
  );
}
