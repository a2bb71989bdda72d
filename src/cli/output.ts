// Buffered stdout for commands that print a lot (dump of a large trace): batches lines, waits for
// the pipe to drain, and stops quietly when the reader went away (`dump t.pb | head`; the
// process-wide policy for a closed stdout is in pipe.ts).
export class Out {
  private buf = '';
  closed = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    // Other errors are the output policy's (pipe.ts): this only stops the batching.
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') this.closed = true;
    });
  }

  async write(s: string): Promise<void> {
    this.buf += s;
    if (this.buf.length >= 1 << 16) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.buf.length === 0 || this.closed) {
      this.buf = '';
      return;
    }
    const chunk = this.buf;
    this.buf = '';
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
        this.stream.on('close', done);
      });
    }
  }
}
