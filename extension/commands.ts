// Command handlers: the quick pick behind the status bar, pause/resume, restart, log, model
// pickers (Choose Models… and the file pickers), the Hugging Face token, stats, chat, explain and
// the manual completion trigger.
import * as vscode from 'vscode';
import { describeEngineProcess } from '../engine-native/host/protocol';
import { SECTION } from './declared';
import { chooseModels } from './model-chooser';
import { setHuggingFaceToken } from './model-download';
import { completionContextReport, type ContextReportInput } from './completion/context-report';
import { ACCEPTED_COMMAND } from './completion/provider';
import type { Ctx } from './context';

async function chooseModel(ctx: Ctx, role: 'target' | 'draft'): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: `Choose the ${role} model (GGUF)`,
    canSelectMany: false,
    openLabel: `Use as ${role} model`,
    filters: { 'GGUF models': ['gguf'], 'All files': ['*'] },
  });
  if (!picked?.[0]) return undefined;
  const file = picked[0].fsPath;
  await vscode.workspace.getConfiguration(SECTION).update(`${role}ModelPath`, file, vscode.ConfigurationTarget.Global);
  ctx.output.appendLine(`${role} model set to ${file}`);
  return file;
}

export function statsReport(ctx: Ctx): string {
  const l = ctx.provider.latency;
  const e = ctx.engine;
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${Math.round(v)} ms`);
  const pct = (v: number | undefined) => (v === undefined ? '-' : `${Math.round(v * 100)}%`);
  const lines = [
    `engine: ${e.state}${e.error ? ` (${e.error.message})` : ''}, pid ${e.pid ?? '-'}, restarts ${e.restarts}`,
    e.engineStatus ? `engine process: ${describeEngineProcess(e.engineStatus)}` : '',
    e.info
      ? `target: ${e.info.target.path} (${e.info.target.architecture}, FIM ${e.info.target.fim ? 'yes' : 'no'})`
      : 'target: not loaded',
    e.info ? `draft: ${e.info.draft?.path ?? 'none'}; threads ${e.info.threads}; context ${e.info.contextSize}` : '',
    `completions: ${l.requests} requests, ${l.cacheHits} cache hits, ${l.cancelled} cancelled, ${l.errors} errors, cache ${ctx.provider.cache.size} entries`,
    `time to ghost text (last ${l.ghostCount}): p50 ${ms(l.ghostPercentile(50))}, p95 ${ms(l.ghostPercentile(95))}`,
    `suggestions: ${l.offered} shown, ${l.accepted} accepted (${pct(l.acceptRate)}), ${l.prefetchHits} served by a prefetch`,
    `alternatives: ${l.alternativesFromTree} whole from the prompt's draft tree, ${l.alternativesGenerated} generated`,
    `engine latency (last ${l.count}): first text p50 ${ms(l.percentile('firstTextMs', 50))}, p95 ${ms(l.percentile('firstTextMs', 95))}; total p50 ${ms(l.percentile('totalMs', 50))}`,
    `warm-ups: ${ctx.warmUp.count} (${ctx.warmUp.tokensRead} prompt tokens read ahead)`,
    e.stats
      ? `last generation: ${e.stats.tokens} tokens, ${e.stats.tokensPerSecond.toFixed(1)} tok/s, ${e.stats.tokensPerTargetPass.toFixed(2)} tokens/target pass, budget ${e.stats.budget} (${e.engineConfig.budget === 'auto' ? "auto's choice" : 'set'})`
      : 'last generation: -',
  ].filter(Boolean);
  return lines.join('\n');
}

/** Opens what the last completion request sent to the engine; returns the report. */
async function showCompletionContext(ctx: Ctx): Promise<string | undefined> {
  const last = ctx.provider.last;
  if (!last) {
    void vscode.window.showInformationMessage('SpecExec: no completion has been requested yet in this window.');
    return undefined;
  }
  const input: ContextReportInput = { document: last.document, params: last.params };
  try {
    input.layout = await ctx.engine.renderPrompt({ prompt: last.params.prompt, maxTokens: last.params.maxTokens });
  } catch (e) {
    input.layoutError = (e as Error).message;
  }
  const report = completionContextReport(input);
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: report });
  await vscode.window.showTextDocument(doc, { preview: true });
  return report;
}

export function registerCommands(ctx: Ctx): void {
  const reg = (id: string, fn: (...args: never[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));
  reg('specexec.pause', () => ctx.setPaused(true));
  reg('specexec.resume', () => ctx.setPaused(false));
  reg('specexec.togglePause', () => ctx.setPaused(!ctx.paused));
  reg('specexec.restartEngine', async () => {
    try {
      await ctx.engine.restart();
      ctx.provider.reset();
      return true;
    } catch (e) {
      ctx.reportError(e);
      return false;
    }
  });
  reg('specexec.showLog', () => ctx.output.show(true));
  reg('specexec.chooseModels', () => chooseModels(ctx));
  reg('specexec.setHuggingFaceToken', () => setHuggingFaceToken(ctx));
  reg('specexec.chooseTargetModel', () => chooseModel(ctx, 'target'));
  reg('specexec.chooseDraftModel', () => chooseModel(ctx, 'draft'));
  reg('specexec.showStats', async () => {
    await ctx.engine.refreshStatus(true);
    const report = statsReport(ctx);
    ctx.output.appendLine('--- stats ---\n' + report);
    ctx.output.show(true);
    return report;
  });
  reg('specexec.openChat', () => {
    ctx.chat.show();
  });
  reg('specexec.explainSelection', () => ctx.chat.explain());
  reg('specexec.triggerCompletion', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger'));
  reg(ACCEPTED_COMMAND, () => ctx.provider.didAccept());
  // partial accepts: VS Code keeps the rest of the suggestion on screen (and the cache serves it when asked again)
  reg('specexec.acceptNextWord', async () => {
    ctx.provider.didAccept();
    await vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextWord');
  });
  reg('specexec.acceptNextLine', async () => {
    ctx.provider.didAccept();
    await vscode.commands.executeCommand('editor.action.inlineSuggest.acceptNextLine');
  });
  reg('specexec.showCompletionContext', () => showCompletionContext(ctx));
  reg('specexec.openSettings', () => vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${ctx.extensionId}`));
  reg('specexec.showMenu', async () => {
    type Item = vscode.QuickPickItem & { command: string };
    const items: Item[] = [
      ctx.paused
        ? { label: '$(debug-start) Resume completions', command: 'specexec.resume' }
        : { label: '$(debug-pause) Pause completions', command: 'specexec.pause' },
      { label: '$(debug-restart) Restart engine', command: 'specexec.restartEngine', description: ctx.engine.state },
      { label: '$(output) Show log', command: 'specexec.showLog' },
      { label: '$(library) Choose models…', command: 'specexec.chooseModels', description: 'found on disk or to download' },
      {
        label: '$(file) Choose target model…',
        command: 'specexec.chooseTargetModel',
        description: ctx.engine.engineConfig.targetModelPath,
      },
      {
        label: '$(file) Choose draft model…',
        command: 'specexec.chooseDraftModel',
        description: ctx.engine.engineConfig.draftModelPath ?? 'none',
      },
      { label: '$(graph) Show stats', command: 'specexec.showStats' },
      {
        label: '$(list-flat) Show completion context',
        command: 'specexec.showCompletionContext',
        description: 'what the last request sent',
      },
      { label: '$(comment-discussion) Open chat', command: 'specexec.openChat' },
      { label: '$(gear) Settings', command: 'specexec.openSettings' },
    ];
    const pick = await vscode.window.showQuickPick(items, { title: 'SpecExec Code', placeHolder: statsReport(ctx).split('\n')[0] });
    if (pick) await vscode.commands.executeCommand(pick.command);
  });
}
