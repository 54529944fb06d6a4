// Remembers recently opened and edited files (bounded): the sources of extra context for completions.
import * as vscode from 'vscode';
import type { SourceText } from './chunks';

interface Recent {
  uri: string;
  at: number;
}

export class RecentFiles implements vscode.Disposable {
  private readonly recent: Recent[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly capacity = 10) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((e) => e && this.touch(e.document)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0) this.touch(e.document);
      }),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d.uri.toString())),
    );
    for (const e of vscode.window.visibleTextEditors) this.touch(e.document);
  }

  private touch(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled' && doc.uri.scheme !== 'vscode-remote') return;
    const uri = doc.uri.toString();
    this.forget(uri);
    this.recent.unshift({ uri, at: Date.now() });
    if (this.recent.length > this.capacity) this.recent.length = this.capacity;
  }

  private forget(uri: string): void {
    const i = this.recent.findIndex((r) => r.uri === uri);
    if (i >= 0) this.recent.splice(i, 1);
  }

  /** Up to `count` other open files, most recent first, preferring the same language. */
  files(current: vscode.TextDocument, count: number): SourceText[] {
    if (count <= 0) return [];
    const docs = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d]));
    const candidates = this.recent
      .filter((r) => r.uri !== current.uri.toString() && docs.has(r.uri))
      .map((r) => docs.get(r.uri)!)
      .filter((doc) => doc.lineCount < 50_000);
    candidates.sort((a, b) => Number(b.languageId === current.languageId) - Number(a.languageId === current.languageId));
    return candidates.slice(0, count).map((doc) => ({ path: vscode.workspace.asRelativePath(doc.uri), text: doc.getText() }));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
