// Streaming reader for binary traces: `0x0a <varint len> <Packet>` records (see the framing notes
// in proto/vfio_trace.proto), read from a file in 1 MiB chunks so a trace of any size decodes in
// bounded memory. A length prefix is checked against the 64 MiB packet limit and the bytes left in
// the file BEFORE anything is allocated for it.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UserError } from '../errors.js';
import type { TraceEvent, TraceHeader } from './types.js';
import { schema } from './schema.js';
import { decodeMessage, type DecodeContext } from './wire.js';
import { fromWire } from './convert.js';
import { fastEventDecoder } from './event-fast.js';

export type TracePacket =
  | { type: 'header'; header: TraceHeader; offset: number }
  | { type: 'event'; event: TraceEvent; index: number; offset: number };

export const MAX_PACKET = 64 * 1024 * 1024;
const CHUNK = 1024 * 1024;
/** The Trace.packet tag: field 1, wire type 2. */
export const PACKET_TAG = 0x0a;

export interface ReaderStats {
  bytes: number; // file size
  packets: number;
  headers: number;
  events: number;
  /** Events of kinds this reader does not know: skipped, but they consumed an event index. */
  unknownEvents: number;
  /** "Message.field-number" -> count of fields this reader's schema does not know. */
  unknownFields: Map<string, number>;
}

export function totalUnknown(stats: ReaderStats): number {
  let n = 0;
  for (const v of stats.unknownFields.values()) n += v;
  return n;
}

/**
 * Parses the frame prefix (`0x0a <varint len>`) at buf[pos..end): returns [payloadLength,
 * prefixBytes], or null when more bytes are needed and `eof` is false.
 */
export function framePrefix(buf: Uint8Array, pos: number, end: number, file: string, at: number, eof: boolean): [number, number] | null {
  if (buf[pos] !== PACKET_TAG) {
    throw new UserError(`expected packet tag 0x0a, found 0x${buf[pos].toString(16).padStart(2, '0')} (not a vfio-replay trace, or corrupt)`, { file, offset: at });
  }
  let len = 0;
  let mul = 1;
  for (let i = 1; ; i++) {
    if (pos + i >= end) {
      if (eof) throw new UserError('truncated packet: file ends inside a length prefix', { file, offset: at });
      return null;
    }
    const b = buf[pos + i];
    len += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return [len, i + 1];
    // Five varint bytes already hold 35 bits, far past the 64 MiB limit: stop before it grows.
    if (i === 5) throw new UserError(`packet length prefix is absurd (more than ${MAX_PACKET} bytes)`, { file, offset: at });
  }
}

export interface ReaderOptions {
  /**
   * false: every packet takes the generic decoder and conversion (decodeMessage + fromWire), never
   * the event fast path (event-fast.ts). The reference the fast path is tested against.
   */
  fastEvents?: boolean;
}

export class TraceReader {
  readonly stats: ReaderStats = { bytes: 0, packets: 0, headers: 0, events: 0, unknownEvents: 0, unknownFields: new Map() };

  constructor(
    readonly path: string,
    private readonly options: ReaderOptions = {},
  ) {}

  /**
   * The packets, one `next()` per packet, as an async iterator (what every consumer used so far).
   * Hand-written over packetsSync() rather than an `async *` generator: an async generator's
   * `yield` costs a promise and several microtask hops per packet, which measured ~15% of a
   * replay; this costs one resolved promise.
   */
  packets(): AsyncGenerator<TracePacket> {
    const it = this.packetsSync();
    const step = (f: () => IteratorResult<TracePacket>): Promise<IteratorResult<TracePacket>> => {
      try {
        return Promise.resolve(f());
      } catch (err) {
        return Promise.reject(err);
      }
    };
    const gen: AsyncGenerator<TracePacket> = {
      next: () => step(() => it.next()),
      return: (value?: unknown) => step(() => it.return(value as never)),
      throw: (err?: unknown) => step(() => it.throw(err)),
      [Symbol.asyncIterator]: () => gen,
    };
    return gen;
  }

  /**
   * The packets as a synchronous generator: the cheapest way through a trace (the file I/O is
   * synchronous anyway, see below). Errors surface at the packet they concern, as with packets().
   */
  *packetsSync(): Generator<TracePacket> {
    const file = this.path;
    // Synchronous file I/O, deliberately: every read is awaited before decoding goes on, so the
    // asynchronous form overlapped nothing and only added a thread-pool round trip per call (open,
    // stat, each read, close). For a corpus of thousands of small traces on a loaded machine those
    // hops were most of `check`'s time; a page-cache read of at most 1 MiB blocks for well under
    // a millisecond.
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch (err) {
      throw new UserError(`cannot open trace: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file });
    }
    try {
      const size = fstatSync(fd).size;
      this.stats.bytes = size;
      const info = schema().packet;
      const fastEvent = this.options.fastEvents === false ? () => null : fastEventDecoder(info);
      // No bigger than the file: a 4 KiB trace must not cost a zeroed 1 MiB buffer.
      let buf = new Uint8Array(Math.max(1, Math.min(CHUNK, size)));
      let start = 0; // first unconsumed byte in buf
      let end = 0; // one past the last valid byte in buf
      let bufBase = 0; // file offset of buf[0]
      let eof = size === 0;
      let eventIndex = 0;
      let known = 0;
      for (const n of this.stats.unknownFields.values()) known += n;
      const ctx: DecodeContext = { file, base: 0, unknown: this.stats.unknownFields, unknownTotal: known };

      const fill = (need: number): void => {
        // Make room for `need` bytes from `start`: compact, then grow only as far as asked.
        if (start > 0) {
          buf.copyWithin(0, start, end);
          end -= start;
          bufBase += start;
          start = 0;
        }
        if (need > buf.length) {
          const bigger = new Uint8Array(need);
          bigger.set(buf.subarray(0, end));
          buf = bigger;
        }
        while (!eof && end < buf.length) {
          const bytesRead = readSync(fd, buf, end, buf.length - end, bufBase + end);
          if (bytesRead === 0) eof = true;
          end += bytesRead;
          if (bufBase + end >= size) eof = true;
          if (end >= need) break;
        }
      };

      for (;;) {
        if (start >= end) {
          if (eof) break;
          fill(1);
          if (start >= end) break;
        }
        const at = bufBase + start;
        // The frame prefix of the ordinary packet (< 16 KiB: a one- or two-byte length) inline;
        // framePrefix() takes every other case and says what is wrong.
        let len: number;
        let hdr: number;
        const b1 = buf[start + 1];
        const b2 = buf[start + 2];
        if (buf[start] === PACKET_TAG && start + 2 < end && b1 < 0x80) {
          len = b1;
          hdr = 2;
        } else if (buf[start] === PACKET_TAG && start + 3 < end && b2 < 0x80) {
          len = (b1 & 0x7f) | (b2 << 7);
          hdr = 3;
        } else {
          let prefix = framePrefix(buf, start, end, file, at, eof);
          if (prefix === null) {
            fill(Math.min(16, size - at));
            prefix = framePrefix(buf, start, end, file, at, true);
          }
          [len, hdr] = prefix!;
        }
        if (len > MAX_PACKET) throw new UserError(`packet length ${len} exceeds the ${MAX_PACKET}-byte limit`, { file, offset: at });
        const left = size - at - hdr;
        if (len > left) throw new UserError(`truncated packet: length ${len} runs past the end of the file (${left} bytes left)`, { file, offset: at });
        if (end - start < hdr + len) fill(hdr + len);
        if (end - start < hdr + len) throw new UserError('truncated packet: file shrank while reading', { file, offset: at });
        const payload = start + hdr;
        // The ordinary event packet is built straight from the bytes (event-fast.ts); anything
        // else, or anything unusual, takes the generic decoder and conversion below.
        const ev = fastEvent(buf, payload, payload + len);
        if (ev !== null) {
          start = payload + len;
          this.stats.packets++;
          this.stats.events++;
          yield { type: 'event', event: ev, index: eventIndex++, offset: at };
          continue;
        }
        ctx.base = bufBase;
        ctx.event = eventIndex;
        const unknownBefore = ctx.unknownTotal!;
        const m = decodeMessage(info, buf, payload, payload + len, ctx);
        const d = fromWire(m, ctx, at, unknownBefore);
        start = payload + len;
        this.stats.packets++;
        if (d === null) {
          this.stats.unknownEvents++;
          eventIndex++;
        } else if ('kind' in d) {
          // Events have a kind, headers do not (should TraceHeader ever get one, this narrowing
          // stops compiling).
          this.stats.events++;
          yield { type: 'event', event: d, index: eventIndex++, offset: at };
        } else {
          this.stats.headers++;
          yield { type: 'header', header: d, offset: at };
        }
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** readPackets as a synchronous generator (see TraceReader.packetsSync). */
export function readPacketsSync(path: string): Generator<TracePacket> {
  return new TraceReader(path).packetsSync();
}

/** Streams the packets of a binary trace file. Use a TraceReader to also get the unknown-field counts. */
export function readPackets(path: string): AsyncGenerator<TracePacket> {
  return new TraceReader(path).packets();
}
