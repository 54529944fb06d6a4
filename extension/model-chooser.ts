// "SpecExec: Choose Models…": one QuickPick with the bundled demo pair, the pairs already on disk
// and the presets to download. It opens at once and fills in the pairs when the scan is done (the
// scan reads GGUF headers asynchronously: the editor never waits on it). Choosing writes
// specexec.targetModelPath and specexec.draftModelPath (user settings); the context reloads the
// engine on that change, so the next completion uses the new pair.
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { availableMemoryBytes, gpuBudgetBytes } from '../engine-native/catalog/memory';
import { suggestPairs, type PairSuggestion } from '../engine-native/catalog/pairing';
import { MODEL_PRESETS } from '../engine-native/catalog/presets';
import { scanModels } from '../engine-native/catalog/scan';
import { engineConfig } from './config';
import { SECTION } from './declared';
import { modelChoiceItems, type ChoiceInputs, type ModelChoice } from './model-choices';
import { downloadPreset } from './model-download';
import type { Ctx } from './context';

type PickItem = vscode.QuickPickItem & { choice?: ModelChoice };

/** Shows the picker and applies the choice; true when new models were set. */
export async function chooseModels(ctx: Ctx): Promise<boolean> {
  const choice = await pickChoice(ctx);
  return choice ? applyChoice(ctx, choice) : false;
}

async function pickChoice(ctx: Ctx): Promise<ModelChoice | undefined> {
  const inputs: ChoiceInputs = {
    pairs: undefined,
    presets: MODEL_PRESETS,
    availableBytes: await availableMemoryBytes(),
    currentTargetPath: engineConfig().targetModelPath,
    bundledInUse: !vscode.workspace.getConfiguration(SECTION).get<string>('targetModelPath')?.trim(),
  };
  const pick = vscode.window.createQuickPick<PickItem>();
  pick.title = 'SpecExec: Choose Models';
  pick.placeholder = 'A draft/target pair for completions: found on this machine, or to download';
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  const show = () => (pick.items = toPickItems(inputs));
  show();
  pick.busy = true;
  pick.show();
  void findPairs(ctx, inputs.availableBytes).then((pairs) => {
    inputs.pairs = pairs;
    pick.busy = false;
    show();
  });
  return new Promise((resolve) => {
    pick.onDidAccept(() => {
      const choice = pick.selectedItems[0]?.choice;
      if (!choice) return; // a placeholder row ("Looking for GGUF models…"): keep the picker open
      resolve(choice);
      pick.hide();
    });
    pick.onDidHide(() => {
      resolve(undefined);
      pick.dispose();
    });
  });
}

function toPickItems(inputs: ChoiceInputs): PickItem[] {
  return modelChoiceItems(inputs).map(({ separator, ...item }) =>
    separator ? { ...item, kind: vscode.QuickPickItemKind.Separator } : item,
  );
}

/** The pairs on disk, best first; none when the scan fails (logged: the presets still work). */
async function findPairs(ctx: Ctx, availableBytes: number): Promise<PairSuggestion[]> {
  const started = Date.now();
  try {
    const { models, problems, headersRead } = await scanModels({ roots: { folders: modelFolders() }, cacheFile: scanCacheFile(ctx) });
    ctx.output.appendLine(
      `model scan: ${models.length} models, ${problems.length} unusable, ${headersRead} headers read, ${Date.now() - started} ms`,
    );
    for (const p of problems) ctx.output.appendLine(`  skipped ${p.path}: ${p.problem}`);
    const { contextSize, budget, vramBudgetMiB } = engineConfig();
    // the devices the running engine's build sees (none before its first start: then RAM alone)
    const vramBytes = gpuBudgetBytes(ctx.engine.info?.offload.devices ?? [], vramBudgetMiB);
    return suggestPairs(models, { availableBytes, contextSize, maxBudget: budget === 'auto' ? undefined : budget, vramBytes });
  } catch (e) {
    ctx.output.appendLine(`model scan failed: ${e instanceof Error ? e.message : String(e)}`);
    return [];
  }
}

/** specexec.modelFolders (`~/` expanded) and the workspace folders. */
function modelFolders(): string[] {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string[]>('modelFolders') ?? [];
  const expanded = configured.filter((f) => typeof f === 'string' && f.trim()).map((f) => f.trim().replace(/^~(?=\/|$)/, os.homedir()));
  return [...expanded, ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath)];
}

function scanCacheFile(ctx: Ctx): string {
  return path.join(ctx.extension.globalStorageUri.fsPath, 'model-scan-cache.json');
}

async function applyChoice(ctx: Ctx, choice: ModelChoice): Promise<boolean> {
  switch (choice.kind) {
    case 'bundled':
      return writeModelPaths(ctx, undefined, undefined);
    case 'paths':
      return writeModelPaths(ctx, choice.targetModelPath, choice.draftModelPath);
    case 'download': {
      const files = await downloadPreset(ctx, choice.preset);
      return files ? writeModelPaths(ctx, files.target.path, files.draft.path) : false;
    }
    case 'browse': {
      const target = await vscode.commands.executeCommand<string | undefined>('specexec.chooseTargetModel');
      return target ? Boolean(await vscode.commands.executeCommand<string | undefined>('specexec.chooseDraftModel')) : false;
    }
  }
}

/** Both model settings in the user settings; undefined removes one (the bundled pair). */
async function writeModelPaths(ctx: Ctx, target: string | undefined, draft: string | undefined): Promise<boolean> {
  const config = vscode.workspace.getConfiguration(SECTION);
  await config.update('draftModelPath', draft, vscode.ConfigurationTarget.Global);
  await config.update('targetModelPath', target, vscode.ConfigurationTarget.Global);
  ctx.output.appendLine(`models set: target ${target ?? 'bundled'}, draft ${draft ?? 'bundled'}`);
  const workspaceTarget = config.inspect<string>('targetModelPath')?.workspaceValue;
  if (workspaceTarget)
    void vscode.window.showWarningMessage(
      `SpecExec: this workspace's settings set specexec.targetModelPath (${workspaceTarget}), which overrides the models just chosen.`,
    );
  return true;
}
