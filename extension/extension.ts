// Entry point of the SpecExec Code extension. Everything lives in the Ctx object (context.ts);
// activate() returns the narrow API of api.ts, never the Ctx itself.
import type * as vscode from 'vscode';
import { createApi, type SpecExecApi } from './api';
import { Ctx } from './context';

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): SpecExecApi {
  ctx = new Ctx(context);
  return createApi(ctx);
}

export async function deactivate(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  if (!c) return;
  const engineGone = c.engine.disposeAsync();
  c.dispose();
  await Promise.race([engineGone, new Promise((r) => setTimeout(r, 3000))]);
}
