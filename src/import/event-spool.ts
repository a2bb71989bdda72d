// The merged events of an import on disk instead of in memory (issue 19 item 3: bounded-memory
// import). Facts of the whole input decide how each event is written (the trace's zero stamp is
// its earliest stamp, the header's accelerator and a guest fault's translation depend on whether
// any KVM call was seen, overlap ids close late, a kill marks an event made earlier): the importer
// spools each event as the merge hands it out, then numbers the spool once those facts are known.
// The file is unlinked as soon as it is opened (Linux keeps it while the descriptor is open), so a
// killed import leaves nothing behind.

import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';

const CHUNK = 1 << 20;
// Records are serialized in batches: one v8 serialization per record costs more than the record.
const BATCH = 256;
let serial = 0;

export class EventSpool<T> {
  private fd: number;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private written = 0;
  private batch: T[] = [];
  /** Records appended. */
  count = 0;

  constructor() {
    const path = join(tmpdir(), `.vfio-replay-import-${process.pid}-${serial++}.spool`);
    this.fd = openSync(path, 'w+', 0o600);
    unlinkSync(path);
  }

  /** Appends a record (any value v8 can serialize: bigint, Map, Uint8Array...); returns its index. */
  append(rec: T): number {
    this.batch.push(rec);
    if (this.batch.length >= BATCH) this.writeBatch();
    return this.count++;
  }

  private writeBatch(): void {
    if (this.batch.length === 0) return;
    const b = serialize(this.batch);
    this.batch = [];
    if (this.used + 4 + b.length > CHUNK) this.flush();
    if (4 + b.length > CHUNK) {
      const head = Buffer.allocUnsafe(4);
      head.writeUInt32LE(b.length, 0);
      this.write(head);
      this.write(b);
    } else {
      this.buf.writeUInt32LE(b.length, this.used);
      b.copy(this.buf, this.used + 4);
      this.used += 4 + b.length;
    }
  }

  private write(b: Uint8Array): void {
    let off = 0;
    while (off < b.length) {
      const n = writeSync(this.fd, b, off, b.length - off, this.written);
      off += n;
      this.written += n;
    }
  }

  private flush(): void {
    if (this.used === 0) return;
    this.write(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  /** The records in order (may be read more than once). */
  *records(): Generator<T> {
    if (this.fd < 0) throw new Error('EventSpool: read after close');
    this.writeBatch();
    this.flush();
    const fd = this.fd;
    let chunk = Buffer.allocUnsafe(CHUNK);
    let have = 0; // bytes in chunk
    let at = 0; // next batch in chunk
    let pos = 0; // file position of chunk's end
    const fill = (need: number): boolean => {
      if (at > 0) {
        chunk.copy(chunk, 0, at, have);
        have -= at;
        at = 0;
      }
      if (need > chunk.length) {
        const bigger = Buffer.allocUnsafe(need);
        chunk.copy(bigger, 0, 0, have);
        chunk = bigger;
      }
      while (have < need && pos < this.written) {
        const n = readSync(fd, chunk, have, Math.min(chunk.length - have, this.written - pos), pos);
        if (n === 0) break;
        have += n;
        pos += n;
      }
      return have >= need;
    };
    let left = this.count;
    while (left > 0) {
      if (have - at < 4 && !fill(4)) throw new Error('EventSpool: truncated');
      const len = chunk.readUInt32LE(at);
      if (have - at < 4 + len && !fill(4 + len)) throw new Error('EventSpool: truncated');
      // A copy: the byte arrays v8 gives back are views of what it read, and the chunk is reused.
      const batch = deserialize(new Uint8Array(chunk.subarray(at + 4, at + 4 + len))) as T[];
      at += 4 + len;
      for (const rec of batch) {
        left--;
        yield rec;
      }
    }
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    this.batch = [];
  }
}
