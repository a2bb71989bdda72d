// Compares the golden text a replay renders with the golden file WHILE it is rendered (a
// GoldenSink): each piece is checked against the expected text at the current position and then
// dropped, so a matching check of a long trace never holds its log. Holding the 350,000 lines of
// the 10 MiB bench trace, then joining and comparing them, was most of `check`'s time beyond the
// replay (mostly garbage collection of the lines promoted to the old generation).
// After the first difference (or without an expected text) the rest is kept, so the whole
// rendered text is there for the diff, the `missing` report and `--update`: byte for byte what
// renderGolden returns.

import type { GoldenSink } from './generate.js';

export class GoldenMatcher implements GoldenSink {
  /** Characters of `expected` matched so far. */
  private pos = 0;
  /** From the first difference on: the text so far (its matched prefix first), piece by piece. */
  private rest: string[] | null;

  constructor(private readonly expected: string | null) {
    this.rest = expected === null ? [] : null;
  }

  head(text: string): void {
    this.piece(text);
  }

  tail(text: string): void {
    this.piece(text);
  }

  line(line: string): void {
    if (this.rest === null) {
      const e = this.expected!;
      if (e.startsWith(line, this.pos) && e.charCodeAt(this.pos + line.length) === 10) {
        this.pos += line.length + 1;
        return;
      }
      this.diverge();
    }
    this.rest!.push(line, '\n');
  }

  private piece(text: string): void {
    if (this.rest === null) {
      if (this.expected!.startsWith(text, this.pos)) {
        this.pos += text.length;
        return;
      }
      this.diverge();
    }
    this.rest!.push(text);
  }

  private diverge(): void {
    this.rest = [this.expected!.slice(0, this.pos)];
  }

  /** The rendered text is the expected text, all of it (call after the tail). */
  get matches(): boolean {
    return this.rest === null && this.pos === this.expected!.length;
  }

  /** The whole rendered text. */
  text(): string {
    return this.rest === null ? this.expected!.slice(0, this.pos) : this.rest.join('');
  }
}
