// A buffered line writer for big outputs (a replay of millions of events): lines are written when
// the replay flushes (every few thousand events), waiting for 'drain' when the consumer is slower,
// so memory stays bounded. A closed pipe (`vfio-replay replay t.pb | head`) ends output quietly.

import type { Writable } from 'node:stream';

export class LineWriter {
  // One growing string, not an array joined later: V8 concatenates into a rope that is flattened
  // once, when written (measured faster than join on the replay hot path).
  private buf = '';
  private closed = false;

  constructor(private readonly out: Writable) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  line(s: string): void {
    if (this.closed) return;
    this.buf += s + '\n';
  }

  async flush(): Promise<void> {
    if (this.buf.length === 0 || this.closed) return;
    const text = this.buf;
    this.buf = '';
    if (!this.out.write(text)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.out.off('drain', done);
          this.out.off('close', done);
          this.out.off('error', done);
          resolve();
        };
        this.out.once('drain', done);
        this.out.once('close', done);
        this.out.once('error', done);
      });
    }
  }
}
