// "Show Completion Context" (extension/completion/context-report.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionContextReport } from '../../../extension/completion/context-report';

test('the report shows the chunks, the window, the parameters and the layout the engine built', () => {
  const report = completionContextReport({
    document: 'file:///a.ts#typescript',
    params: { prompt: { prefix: 'const x = ', suffix: '\n', extra: [{ filename: 'b.ts', text: 'const code = "```";\n' }] }, maxTokens: 8 },
    layout: { tokens: 12, text: '<|repo_name|>myproject\n' },
  });
  assert.match(report, /## Extra context: 1 chunks \(repository-level FIM layout\)/);
  assert.match(report, /### b\.ts\n\n````\nconst code = "```";\n````/, 'a fence longer than the code contains');
  assert.match(report, /## Prefix\n\n```\nconst x = \n```/);
  assert.match(report, /"maxTokens": 8/);
  assert.match(report, /## What the model reads: 12 tokens/);
});

test('a plain prompt, and an engine that could not be asked', () => {
  const report = completionContextReport({ document: 'd', params: { prompt: 'def f(' }, layoutError: 'the engine is not running' });
  assert.match(report, /## Prompt \(plain/);
  assert.match(report, /Not available: the engine is not running/);
});
