// Streaming writer for binary traces. Packets are appended to a temporary file next to the target
// and renamed over it on close(), so a reader never sees half a trace and a failed run (bad input
// found half-way, a crash) leaves no output file behind: call abort() on the error path.
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { sweepBeforeWriting, tempPathFor } from '../temp-file.js';
import { UserError } from '../errors.js';
import type { TraceEvent, TraceHeader } from './types.js';
import { encodeEventPacket, encodeHeaderPacket } from './codec.js';
import { accessLenProblem, configSizeProblem, pageSizeProblem } from './limits.js';

const FLUSH_AT = 1024 * 1024;

export class TraceWriter {
  // One reusable buffer instead of a list of small packets: encoding is allocation-bound.
  private readonly pending = Buffer.allocUnsafe(FLUSH_AT);
  private pendingBytes = 0;
  private closed = false;
  /** Bytes written so far (including buffered ones). */
  bytes = 0;
  events = 0;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
  ) {}

  /**
   * Opens `<dir>/.<name>.<pid>.tmp` (temp-file.ts), first removing such files of `path` left by
   * dead processes; an unwritable location is a UserError naming `path`.
   */
  static async create(path: string): Promise<TraceWriter> {
    sweepBeforeWriting(path);
    const tmp = tempPathFor(path);
    try {
      const fh = await open(tmp, 'w');
      return new TraceWriter(path, tmp, fh);
    } catch (err) {
      throw new UserError(`cannot write output: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: path });
    }
  }

  async header(h: TraceHeader): Promise<void> {
    // Nothing this writer writes may be refused by the reader (limits.ts): bad input that got
    // this far (an importer's) is a located error here rather than a trace no one can read.
    const tooBig = configSizeProblem(h.device.config.length) ?? pageSizeProblem(h.device.pageSize);
    if (tooBig !== null) throw new UserError(`cannot write header: device ${tooBig}`, { file: this.path });
    await this.push(encodeHeaderPacket(h));
  }

  async event(e: TraceEvent): Promise<void> {
    if ('len' in e) {
      const bad = accessLenProblem(e.kind, e.len);
      if (bad !== null) throw new UserError(`cannot write ${bad}`, { file: this.path, event: this.events });
    }
    await this.push(encodeEventPacket(e));
    this.events++;
  }

  /** Appends already-framed packet bytes (e.g. copied from another trace). */
  async raw(bytes: Uint8Array): Promise<void> {
    await this.push(bytes);
  }

  private async push(b: Uint8Array): Promise<void> {
    if (this.closed) throw new Error('TraceWriter: write after close');
    this.bytes += b.length;
    if (this.pendingBytes + b.length > FLUSH_AT) await this.flush();
    if (b.length >= FLUSH_AT) {
      await this.writeOut(b);
      return;
    }
    this.pending.set(b, this.pendingBytes);
    this.pendingBytes += b.length;
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const n = this.pendingBytes;
    this.pendingBytes = 0;
    await this.writeOut(this.pending.subarray(0, n));
  }

  private async writeOut(buf: Uint8Array): Promise<void> {
    try {
      await this.fh.write(buf, 0, buf.length);
    } catch (err) {
      await this.abort();
      throw new UserError(`cannot write output: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: this.path });
    }
  }

  /** Flushes, then atomically puts the file in place. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.fh.close();
    try {
      await rename(this.tmp, this.path);
    } catch (err) {
      await unlink(this.tmp).catch(() => undefined);
      throw new UserError(`cannot write output: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: this.path });
    }
  }

  /** Drops everything written: the target is left untouched. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
  }
}
