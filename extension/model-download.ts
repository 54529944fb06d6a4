// Downloading a preset pair into the Hugging Face cache behind a cancellable progress
// notification, and the Hugging Face token, kept in VS Code's SecretStorage (the OS keychain),
// never in settings.json. The hub is HF_ENDPOINT's when set (a mirror): download.ts reads it.
import * as vscode from 'vscode';
import { downloadHubFiles, HubDownloadError, progressText, type DownloadedFile } from '../engine-native/catalog/download';
import type { ModelPreset } from '../engine-native/catalog/presets';
import { downloadReaction, progressPercent } from './model-choices';
import type { Ctx } from './context';

const TOKEN_SECRET = 'specexec.huggingFaceToken';

/** Asks for a token and stores it; an empty answer removes the stored one. False when the user cancelled. */
export async function setHuggingFaceToken(ctx: Ctx): Promise<boolean> {
  const token = await vscode.window.showInputBox({
    title: 'Hugging Face access token',
    prompt: 'For gated or private repositories: a read token from huggingface.co/settings/tokens. Empty removes the stored one.',
    placeHolder: 'hf_…',
    password: true,
    ignoreFocusOut: true,
  });
  if (token === undefined) return false;
  if (token.trim()) await ctx.extension.secrets.store(TOKEN_SECRET, token.trim());
  else await ctx.extension.secrets.delete(TOKEN_SECRET);
  ctx.output.appendLine(token.trim() ? 'Hugging Face token stored' : 'Hugging Face token removed');
  return true;
}

/** The draft's and the target's files, downloaded or found in the cache; undefined when cancelled or failed (the user was told). */
export async function downloadPreset(
  ctx: Ctx,
  preset: ModelPreset,
): Promise<{ draft: DownloadedFile; target: DownloadedFile } | undefined> {
  try {
    const [draft, target] = await downloadWithProgress(ctx, preset);
    ctx.output.appendLine(`downloaded ${preset.id}: ${target.path}, ${draft.path}`);
    return { draft, target };
  } catch (e) {
    ctx.output.appendLine(`download of ${preset.id} failed: ${e instanceof Error ? e.message : String(e)}`);
    return (await retryAfter(ctx, e)) ? downloadPreset(ctx, preset) : undefined;
  }
}

async function downloadWithProgress(ctx: Ctx, preset: ModelPreset): Promise<DownloadedFile[]> {
  const accessToken = await ctx.extension.secrets.get(TOKEN_SECRET);
  const options = { location: vscode.ProgressLocation.Notification, title: `Downloading ${preset.label}`, cancellable: true };
  return vscode.window.withProgress(options, (progress, cancel) => {
    const abort = new AbortController();
    cancel.onCancellationRequested(() => abort.abort());
    let percentShown = 0;
    return downloadHubFiles([preset.draft, preset.target], {
      accessToken,
      signal: abort.signal,
      onProgress: (p) => {
        const percent = progressPercent(p);
        // the notification's bar takes increments, not positions
        progress.report({ message: progressText(p), increment: percent - percentShown });
        percentShown = percent;
      },
    });
  });
}

/** Tells the user why the download failed; true when they chose to try again (after setting a token, if that was the fix). */
async function retryAfter(ctx: Ctx, e: unknown): Promise<boolean> {
  const reaction =
    e instanceof HubDownloadError
      ? downloadReaction(e)
      : { message: `SpecExec: download failed: ${e instanceof Error ? e.message : String(e)}`, actions: ['Show log' as const] };
  if (!reaction) return false;
  const choice = await vscode.window.showErrorMessage(reaction.message, ...reaction.actions);
  if (choice === 'Show log') ctx.output.show(true);
  if (choice === 'Set Hugging Face token…') return setHuggingFaceToken(ctx);
  return choice === 'Retry';
}
