// The conversation kept while the window is open, and the prompt window sent to the engine.
import type { ChatMessage } from '../../engine-native/host/protocol';

export interface Turn {
  id: number;
  role: 'user' | 'assistant';
  content: string;
}

/**
 * The messages for the engine: the system prompt (if any) plus the newest turns that fit in
 * `budgetChars` (a character estimate of the context left after the answer's tokens). The newest
 * user turn is always included, cut from its start if it alone is too long.
 */
export function chatMessages(turns: Turn[], system: string, budgetChars: number): ChatMessage[] {
  const out: ChatMessage[] = [];
  let used = system.length;
  for (let i = turns.length - 1; i >= 0; i--) {
    const t = turns[i];
    if (used + t.content.length > budgetChars) {
      if (out.length === 0) out.unshift({ role: t.role, content: t.content.slice(t.content.length - Math.max(0, budgetChars - used)) });
      break;
    }
    used += t.content.length;
    out.unshift({ role: t.role, content: t.content });
  }
  // a conversation starts with the user (chat templates expect it)
  while (out.length > 0 && out[0].role !== 'user') out.shift();
  if (system) out.unshift({ role: 'system', content: system });
  return out;
}

export function explainPrompt(code: string, languageId: string, fileName: string): string {
  const fence = code.includes('```') ? '~~~' : '```';
  return (
    `Explain what this ${languageId} code from \`${fileName}\` does, step by step, and point out anything surprising.\n\n` +
    `${fence}${languageId}\n${code}\n${fence}`
  );
}
