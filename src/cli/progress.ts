// One self-overwriting status line on stderr, only when stderr is a terminal (never in logs or
// pipes), redrawn at most ten times a second.

export class ProgressLine {
  private last = 0;
  private drawn = false;
  private readonly tty = process.stderr.isTTY === true;

  show(text: string): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.drawn = true;
    process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns ?? 80) - 1)}`);
  }

  clear(): void {
    if (this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}
