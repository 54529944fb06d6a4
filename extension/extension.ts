// Entry point of the SpecExec Code extension. Everything lives in the Ctx object (context.ts);
// activate() returns a small API used by the in-editor test suite.
import type * as vscode from 'vscode';
import { Ctx } from './context';

let ctx: Ctx | undefined;

export interface SpecExecApi {
  ctx: Ctx;
}

export function activate(context: vscode.ExtensionContext): SpecExecApi {
  ctx = new Ctx(context);
  return { ctx };
}

export async function deactivate(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  if (!c) return;
  const engineGone = c.engine.disposeAsync();
  c.dispose();
  await Promise.race([engineGone, new Promise((r) => setTimeout(r, 3000))]);
}
