// A buffered line writer for big outputs (a replay of millions of events): lines are written when
// the replay flushes (every few thousand events), waiting for 'drain' when the consumer is slower,
// so memory stays bounded. A closed pipe (`vfio-replay replay t.pb | head`) ends output quietly.

import type { Writable } from 'node:stream';

/** Bytes per output chunk: big enough that a flush is a handful of writes. */
const CHUNK = 256 * 1024;

export class LineWriter {
  // Lines are encoded into byte chunks as they come, not concatenated into one string: each line
  // of the outcome log is itself a fresh concatenation (a rope), and a rope of ropes flattened and
  // encoded at flush time measured ~17% of a whole replay; encoding line by line costs a third.
  private chunks: Buffer[] = [];
  private cur: Buffer = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
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
    // A UTF-8 character is at most 3 bytes per UTF-16 unit; +1 for the newline.
    const worst = s.length * 3 + 1;
    if (this.pos + worst > this.cur.length) {
      this.seal();
      if (worst > this.cur.length) this.cur = Buffer.allocUnsafe(worst);
    }
    this.pos += this.cur.write(s, this.pos, 'utf8');
    this.cur[this.pos++] = 0x0a;
  }

  /** Moves the filled part of the current chunk to the list to write; starts a fresh chunk. */
  private seal(): void {
    if (this.pos === 0) return;
    // The written buffer stays referenced by the stream until it is flushed: never reuse it.
    this.chunks.push(this.cur.subarray(0, this.pos));
    this.cur = Buffer.allocUnsafe(CHUNK);
    this.pos = 0;
  }

  async flush(): Promise<void> {
    this.seal();
    if (this.chunks.length === 0 || this.closed) {
      this.chunks = [];
      return;
    }
    const chunks = this.chunks;
    this.chunks = [];
    let ok = true;
    for (const c of chunks) ok = this.out.write(c) && ok;
    if (!ok) {
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
