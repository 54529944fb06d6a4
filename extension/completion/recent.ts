// Remembers recently opened and edited files (bounded) as extra context for completions.
import * as vscode from 'vscode';
import { excerptAround, type ExtraFile } from './prompt';

interface Recent {
  uri: string;
  line: number;
  at: number;
}

export class RecentFiles implements vscode.Disposable {
  private readonly recent: Recent[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly capacity = 10) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => e && this.touch(e.document, e.selection.active.line)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0) this.touch(e.document, e.contentChanges[0].range.start.line);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri.toString())),
    );
    for (const e of vscode.window.visibleTextEditors) this.touch(e.document, e.selection.active.line);
  }

  private touch(doc: vscode.TextDocument, line: number): void {
    if (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled' && doc.uri.scheme !== 'vscode-remote') return;
    const uri = doc.uri.toString();
    this.forget(uri);
    this.recent.unshift({ uri, line, at: Date.now() });
    if (this.recent.length > this.capacity) this.recent.length = this.capacity;
  }

  private forget(uri: string): void {
    const i = this.recent.findIndex((r) => r.uri === uri);
    if (i >= 0) this.recent.splice(i, 1);
  }

  /** Up to `count` other open files, most recent first, preferring the same language. */
  extras(current: vscode.TextDocument, count: number, charsPerFile: number): ExtraFile[] {
    if (count <= 0) return [];
    const docs = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d]));
    const candidates = this.recent
      .filter((r) => r.uri !== current.uri.toString() && docs.has(r.uri))
      .map((r) => ({ r, doc: docs.get(r.uri)! }))
      .filter(({ doc }) => doc.lineCount < 50_000);
    candidates.sort((a, b) => Number(b.doc.languageId === current.languageId) - Number(a.doc.languageId === current.languageId));
    return candidates.slice(0, count).map(({ r, doc }) => ({
      path: vscode.workspace.asRelativePath(doc.uri),
      languageId: doc.languageId,
      text: excerptAround(doc.getText(), r.line, charsPerFile),
    }));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
