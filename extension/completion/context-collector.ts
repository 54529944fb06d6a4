// Chooses the extra context of completions off the typing path: when another file becomes
// active, after the user pauses, and when the cursor moves to another part of the file. A
// completion takes the latest choice as it is, so typing never waits for it, and the prompt's
// start (where the extra context sits) stays the same from one keystroke to the next: the engine's
// cache of it stays valid.
import * as vscode from 'vscode';
import type { ExtraChunk } from '../../engine-native/host/protocol';
import { completionConfig } from '../config';
import { CHUNK_DEFAULTS, chooseChunks, chunkFile, type Chunk, type SourceText } from './chunks';
import type { RecentFiles } from './recent';

/** A pause this long after an edit or a cursor move chooses again. */
const REFRESH_IDLE_MS = 1000;
/** Lines around the cursor whose identifiers choose the chunks. */
const AROUND_LINES = 24;
/** A cursor this many lines from where the choice was made chooses again (after the pause). */
const MOVED_LINES = 16;

export class ContextCollector implements vscode.Disposable {
  private choice: { uri: string; line: number; extras: ExtraChunk[] } | undefined;
  /** Chunks per file, kept while its text is unchanged. */
  private readonly chunked = new Map<string, { text: string; chunks: Chunk[] }>();
  private clipboard = '';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly recent: RecentFiles) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule(0)),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document === vscode.window.activeTextEditor?.document) this.schedule(REFRESH_IDLE_MS);
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        const line = e.selections[0]?.active.line ?? 0;
        if (this.choice && Math.abs(line - this.choice.line) >= MOVED_LINES) this.schedule(REFRESH_IDLE_MS);
      }),
    );
  }

  /** The extra chunks for a completion in `document`: the latest choice, or one made now for a file that has none yet. */
  extras(document: vscode.TextDocument, position: vscode.Position): ExtraChunk[] {
    if (this.choice?.uri !== document.uri.toString()) this.choose(document, position);
    return this.choice!.extras;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), ms);
  }

  private async refresh(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) return;
    if (completionConfig(editor.document).clipboard) {
      this.clipboard = await vscode.env.clipboard.readText().then(
        (t) => t,
        () => '',
      );
    }
    this.choose(editor.document, editor.selection.active);
  }

  private choose(document: vscode.TextDocument, position: vscode.Position): void {
    const config = completionConfig(document);
    const sources: SourceText[] = this.recent.files(document, config.extraContextFiles);
    if (config.clipboard && this.clipboard.trim()) sources.push({ path: 'clipboard', text: this.clipboard });
    const candidates = sources.flatMap((s) => this.chunksOf(s));
    const from = Math.max(0, position.line - AROUND_LINES);
    const to = Math.min(document.lineCount - 1, position.line + AROUND_LINES / 2);
    const around = document.getText(new vscode.Range(from, 0, to, document.lineAt(to).text.length));
    const extras =
      config.extraContextChars > 0 ? chooseChunks(candidates, around, { ...CHUNK_DEFAULTS, maxChars: config.extraContextChars }) : [];
    this.choice = { uri: document.uri.toString(), line: position.line, extras };
  }

  private chunksOf(source: SourceText): Chunk[] {
    const known = this.chunked.get(source.path);
    if (known?.text === source.text) return known.chunks;
    const chunks = chunkFile(source, CHUNK_DEFAULTS.lines);
    this.chunked.set(source.path, { text: source.text, chunks });
    if (this.chunked.size > 64) this.chunked.delete(this.chunked.keys().next().value as string);
    return chunks;
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
