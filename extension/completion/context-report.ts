// "SpecExec: Show Completion Context": exactly what the last completion request sent to the engine
// (window, extra chunks, parameters) and the tokens the engine built from it with the model's FIM
// layout, as a Markdown document. Pure formatting, unit-tested.
import type { CompleteParams, RenderPromptResult } from '../../engine-native/host/protocol';

export interface ContextReportInput {
  document: string;
  params: CompleteParams;
  /** How the engine laid the prompt out, when it could be asked. */
  layout?: RenderPromptResult;
  layoutError?: string;
}

/** A fence longer than any run of backticks in `text`, so code containing fences stays inside. */
function fenced(text: string, lang = ''): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${text}${text.endsWith('\n') ? '' : '\n'}${fence}\n`;
}

export function completionContextReport(r: ContextReportInput): string {
  const out = ['# Completion context', '', `Document: \`${r.document}\``, ''];
  const { prompt, ...rest } = r.params;
  if (typeof prompt === 'string') {
    out.push('## Prompt (plain: the model has no fill-in-the-middle tokens)', '', fenced(prompt));
  } else {
    const extra = prompt.extra;
    out.push(
      `## Extra context: ${extra ? `${extra.length} chunks (repository-level FIM layout)` : 'in the prefix (path-header comments)'}`,
      '',
    );
    for (const chunk of extra ?? []) out.push(`### ${chunk.filename}`, '', fenced(chunk.text));
    out.push('## Prefix', '', fenced(prompt.prefix), '## Suffix', '', fenced(prompt.suffix));
  }
  out.push('## Parameters', '', fenced(JSON.stringify(rest, null, 2), 'json'));
  if (r.layout) {
    out.push(`## What the model reads: ${r.layout.tokens} tokens (control tokens shown)`, '', fenced(r.layout.text));
  } else if (r.layoutError) {
    out.push('## What the model reads', '', `Not available: ${r.layoutError}`, '');
  }
  return out.join('\n');
}
