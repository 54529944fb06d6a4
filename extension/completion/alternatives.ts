// Alternative suggestions: each starts with one of the target's next most likely first tokens
// after the prompt and goes on with the target's own continuation after it. The engine reads them
// off the prompt's pass, which verifies a draft tree: each comes with as much of its continuation
// as the tree held (free), and is `complete` when that is all of it. The rest is generated only
// when the user asks (an explicit trigger, or cycling with Alt+] / Alt+[), from the known tokens
// on (forced: greedy, exactly what the target would write after them), and cached per window.
import type * as vscode from 'vscode';
import type { FirstTokenChoice } from '../../engine-native/host/protocol';
import type { CompletionConfig } from '../config';
import type { Engine } from '../engine';
import { Generation } from './generation';
import type { LatencyTracker } from './latency';
import { LruMap } from './lru';
import { postprocess } from './postprocess';
import type { PlannedRequest } from './request';

export interface MainSuggestion {
  /** The request it answers (the one sent, when a generation made it now). */
  plan: PlannedRequest;
  /** What is shown (after what the user typed into it). */
  text: string;
  typed: number;
  /** The whole suggestion (the generation ended), not a streamed first line. */
  complete: boolean;
  /** The target's next most likely first tokens for this window, when known. */
  choices?: FirstTokenChoice[];
}

export class Alternatives {
  private readonly cache = new LruMap<string, string[]>(32);

  constructor(
    private readonly engine: Engine,
    private readonly latency: LatencyTracker,
  ) {}

  /** Up to suggestions - 1 texts other than the main one, for the plan's window. */
  async for(main: MainSuggestion, config: CompletionConfig, token: vscode.CancellationToken): Promise<string[]> {
    const { plan } = main;
    const n = config.suggestions - 1;
    const key = `${plan.snapshot.document}\u0000${plan.built.prefix}\u0000${plan.built.suffix}\u0000${main.text}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const choices = main.typed === 0 && main.choices ? main.choices : await this.choicesFor(plan, n, token);
    const texts: string[] = [];
    for (const choice of choices.slice(0, n)) {
      if (token.isCancellationRequested) return [];
      const text = await this.finish(plan, choice, token);
      if (text?.trim() && text !== main.text && !texts.includes(text)) texts.push(text);
    }
    if (!token.isCancellationRequested) this.cache.set(key, texts);
    return texts;
  }

  /** The choice's whole suggestion: the tree's when complete, else generated after its known tokens (undefined if that failed). */
  private async finish(plan: PlannedRequest, choice: FirstTokenChoice, token: vscode.CancellationToken): Promise<string | undefined> {
    if (choice.complete) {
      this.latency.alternativesFromTree++;
      return postprocess(choice.continuation, plan.post);
    }
    const g = this.run(plan, { forcedTokens: choice.tokens, alternatives: 0 }, token);
    await g.finished;
    if (!g.succeeded) return undefined;
    this.latency.alternativesGenerated++;
    return g.text();
  }

  /** The root choices of a window the engine has no result for yet: one token's generation (its prompt pass). */
  private async choicesFor(plan: PlannedRequest, n: number, token: vscode.CancellationToken): Promise<FirstTokenChoice[]> {
    const g = this.run(plan, { maxTokens: 1, alternatives: n }, token);
    await g.finished;
    return g.result?.alternatives ?? [];
  }

  private run(plan: PlannedRequest, overrides: Partial<PlannedRequest['params']>, token: vscode.CancellationToken): Generation {
    const g = new Generation(this.engine, plan, { ...plan.params, ...overrides });
    const sub = token.onCancellationRequested(() => g.cancel());
    void g.finished.then(() => sub.dispose());
    return g;
  }

  clear(): void {
    this.cache.clear();
  }
}
