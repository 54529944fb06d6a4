// The first-start offer: while the settings name no target (the bundled demo pair runs), one
// unobtrusive notification offers "Choose Models…". "Not now" asks again in a week, "Don't ask
// again" never; both are remembered in globalState (per user, not per workspace).
import * as vscode from 'vscode';
import { SECTION } from './declared';
import { NOT_NOW_MS, setupOfferDue, type SetupOfferState } from './model-choices';
import type { Ctx } from './context';

const STATE_KEY = 'specexec.setupOffer';
const SET_UP = 'Set up a real model…';
const NOT_NOW = 'Not now';
const NEVER = "Don't ask again";

/** Shows the offer when it is due; never waits for the answer (activation goes on). */
export function offerModelSetup(ctx: Ctx): void {
  const state = ctx.extension.globalState.get<SetupOfferState>(STATE_KEY);
  const target = vscode.workspace.getConfiguration(SECTION).get<string>('targetModelPath') ?? '';
  if (!setupOfferDue(target, state)) return;
  const message = 'SpecExec runs its bundled demo models, which are not useful for real code. Set up a real model?';
  void vscode.window.showInformationMessage(message, SET_UP, NOT_NOW, NEVER).then(async (choice) => {
    // closing the notification counts as "Not now": it was seen
    const next: SetupOfferState = choice === NEVER ? { neverAgain: true } : { notBefore: Date.now() + NOT_NOW_MS };
    await ctx.extension.globalState.update(STATE_KEY, next);
    if (choice === SET_UP) await vscode.commands.executeCommand('specexec.chooseModels');
  });
}
