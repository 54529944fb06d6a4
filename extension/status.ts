// The status bar item: engine state (starting, ready, generating, error, paused) with the last
// tokens/s and tokens per target pass; a click opens the actions quick pick.
import * as vscode from 'vscode';
import { describeEngineProcess } from '../engine-native/host/protocol';
import type { LatencyTracker } from './completion/latency';
import type { Engine, EngineState } from './engine';

export type DisplayState = EngineState | 'paused';

export function statusText(state: DisplayState, stats?: { tokensPerSecond: number; tokensPerTargetPass: number }): string {
  const icon: Record<DisplayState, string> = {
    stopped: '$(circle-outline)',
    starting: '$(loading~spin)',
    ready: '$(check)',
    generating: '$(sync~spin)',
    error: '$(error)',
    paused: '$(debug-pause)',
  };
  let text = `${icon[state]} SpecExec`;
  if (state === 'paused') text += ' paused';
  else if (state === 'error') text += ' error';
  else if (state === 'starting') text += ' loading';
  if (stats && (state === 'ready' || state === 'generating')) {
    text += ` ${stats.tokensPerSecond >= 100 ? Math.round(stats.tokensPerSecond) : stats.tokensPerSecond.toFixed(1)} tok/s`;
    text += ` · ${stats.tokensPerTargetPass.toFixed(2)}/pass`;
  }
  return text;
}

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly sub: vscode.Disposable;
  private paused = false;

  constructor(
    private readonly engine: Engine,
    private readonly latency?: LatencyTracker,
  ) {
    this.item = vscode.window.createStatusBarItem('specexec.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'SpecExec';
    this.item.command = 'specexec.showMenu';
    this.sub = engine.onDidChangeState(() => this.update());
    this.update();
    this.item.show();
  }

  get state(): DisplayState {
    return this.paused && this.engine.state !== 'error' ? 'paused' : this.engine.state;
  }

  get text(): string {
    return this.item.text;
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.update();
  }

  private update(): void {
    const state = this.state;
    this.item.text = statusText(state, this.engine.stats);
    this.item.backgroundColor = state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**SpecExec Code**: ${state}\n\n`);
    if (this.engine.error) md.appendText(this.engine.error.message + '\n\n');
    const info = this.engine.info;
    if (info) {
      md.appendText(`Target: ${info.target.name || info.target.path} (${(info.target.parameters / 1e6).toFixed(1)}M)\n`);
      md.appendText(`Draft: ${info.draft ? info.draft.name || info.draft.path : 'none'}\n`);
    }
    const process = this.engine.engineStatus;
    if (process) md.appendText(`Engine: ${describeEngineProcess(process)}\n`);
    const s = this.engine.stats;
    if (s)
      md.appendText(
        `Last: ${s.tokens} tokens, ${s.tokensPerSecond.toFixed(1)} tok/s, ${s.tokensPerTargetPass.toFixed(2)} tokens/target pass, budget ${s.budget}${this.engine.engineConfig.budget === 'auto' ? ' (auto)' : ''}\n`,
      );
    const l = this.latency;
    const p50 = l?.ghostPercentile(50);
    if (l && p50 !== undefined) {
      const rate = l.acceptRate;
      md.appendText(
        `Ghost text: p50 ${Math.round(p50)} ms, p95 ${Math.round(l.ghostPercentile(95)!)} ms; ` +
          `accepted ${l.accepted} of ${l.offered}${rate === undefined ? '' : ` (${Math.round(rate * 100)}%)`}\n`,
      );
    }
    md.appendMarkdown('\nClick for actions');
    this.item.tooltip = md;
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}
