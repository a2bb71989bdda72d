// Whole-trace encode/decode for small traces held in memory (tests, the text twin, goldens), and
// loadTrace, which accepts either form of a trace file. Big traces stream: see reader.ts/writer.ts.
import protobuf from 'protobufjs';
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import type { Trace, TraceEvent, TraceHeader } from './types.js';
import { schema } from './schema.js';
import { decodeMessage, encodeMessage, type DecodeContext, type Msg } from './wire.js';
import { eventToWire, headerToWire, packetFromWire } from './convert.js';
import { fastEventDecoder } from './event-fast.js';
import { MAX_PACKET, PACKET_TAG, TraceReader, framePrefix, type ReaderStats, type TracePacket } from './reader.js';
import { parseText } from './text-parse.js';

/** One framed packet: `0x0a <len> <Packet>`. */
function framed(m: Msg): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(PACKET_TAG).fork();
  encodeMessage(w, schema().packet, m);
  w.ldelim();
  return w.finish();
}

export function encodeHeaderPacket(h: TraceHeader): Uint8Array {
  return framed(headerToWire(h));
}

export function encodeEventPacket(e: TraceEvent): Uint8Array {
  return framed(eventToWire(e));
}

/** The canonical binary form of a trace (header, events, and any further headers in place). */
export function encodeTrace(trace: Trace): Uint8Array {
  const parts: Uint8Array[] = [encodeHeaderPacket(trace.header)];
  const more = [...(trace.moreHeaders ?? [])].sort((a, b) => a.before - b.before);
  let k = 0;
  trace.events.forEach((e, i) => {
    while (k < more.length && more[k].before <= i) parts.push(encodeHeaderPacket(more[k++].header));
    parts.push(encodeEventPacket(e));
  });
  while (k < more.length) parts.push(encodeHeaderPacket(more[k++].header));
  return concat(parts);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Decodes every packet of an in-memory binary trace. `stats` receives the unknown-field counts. */
export function* decodePackets(bytes: Uint8Array, file: string, stats?: ReaderStats): Generator<TracePacket> {
  const unknown = stats?.unknownFields ?? new Map<string, number>();
  const ctx: DecodeContext = { file, base: 0, unknown };
  const info = schema().packet;
  const fastEvent = fastEventDecoder(info);
  let pos = 0;
  let eventIndex = 0;
  if (stats) stats.bytes = bytes.length;
  while (pos < bytes.length) {
    const at = pos;
    const [len, hdr] = framePrefix(bytes, pos, bytes.length, file, at, true)!;
    const p = pos + hdr;
    if (len > MAX_PACKET) throw new UserError(`packet length ${len} exceeds the ${MAX_PACKET}-byte limit`, { file, offset: at });
    const left = bytes.length - p;
    if (len > left) throw new UserError(`truncated packet: length ${len} runs past the end of the file (${left} bytes left)`, { file, offset: at });
    // The ordinary event packet straight from the bytes; anything else the generic way (reader.ts).
    const ev = fastEvent(bytes, p, p + len);
    if (ev !== null) {
      pos = p + len;
      if (stats) {
        stats.packets++;
        stats.events++;
      }
      yield { type: 'event', event: ev, index: eventIndex++, offset: at };
      continue;
    }
    ctx.event = eventIndex;
    let unknownBefore = 0;
    for (const n of unknown.values()) unknownBefore += n;
    const d = packetFromWire(decodeMessage(info, bytes, p, p + len, ctx), ctx, at, unknownBefore);
    pos = p + len;
    if (stats) stats.packets++;
    if (d.type === 'header') {
      if (stats) stats.headers++;
      yield { type: 'header', header: d.header, offset: at };
    } else if (d.type === 'event') {
      if (stats) stats.events++;
      yield { type: 'event', event: d.event, index: eventIndex++, offset: at };
    } else {
      if (stats) stats.unknownEvents++;
      eventIndex++;
    }
  }
}

/** Accumulates packets into a Trace; the first packet must be a header. */
class TraceCollector {
  private header: TraceHeader | undefined;
  private readonly events: TraceEvent[] = [];
  private readonly moreHeaders: { before: number; header: TraceHeader }[] = [];
  constructor(private readonly file: string) {}

  add(p: TracePacket): void {
    if (p.type === 'header') {
      if (this.header === undefined) this.header = p.header;
      else this.moreHeaders.push({ before: this.events.length, header: p.header });
    } else {
      if (this.header === undefined) {
        throw new UserError('trace does not start with a header packet', { file: this.file, event: p.index, offset: p.offset });
      }
      this.events.push(p.event);
    }
  }

  finish(): Trace {
    if (this.header === undefined) throw new UserError('trace has no header packet (empty file?)', { file: this.file, offset: 0 });
    const t: Trace = { header: this.header, events: this.events };
    if (this.moreHeaders.length > 0) t.moreHeaders = this.moreHeaders;
    return t;
  }
}

export async function collectTrace(packets: AsyncIterable<TracePacket>, file: string): Promise<Trace> {
  const c = new TraceCollector(file);
  for await (const p of packets) c.add(p);
  return c.finish();
}

export function decodeTrace(bytes: Uint8Array, file: string): Trace {
  const c = new TraceCollector(file);
  for (const p of decodePackets(bytes, file)) c.add(p);
  return c.finish();
}

/**
 * True when the bytes look like the text twin rather than a binary trace: no control characters
 * other than whitespace in the first 512 bytes. A binary trace always has some early on (its
 * first packet's tags and lengths: the header tag is 0x82 0x04), even though its very first byte,
 * 0x0a, is a newline.
 */
export function looksLikeText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 512);
  if (head.length === 0) return false;
  for (const c of head) if (c < 0x09 || (c > 0x0d && c < 0x20) || c === 0x7f) return false;
  return true;
}

/**
 * Loads a whole trace, binary or text: `.txt` is text, `.pb` binary, any other name is sniffed
 * with looksLikeText.
 */
export async function loadTrace(path: string): Promise<Trace> {
  if (path.endsWith('.pb')) return collectTrace(new TraceReader(path).packets(), path);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new UserError(`cannot read trace: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: path });
  }
  if (path.endsWith('.txt') || looksLikeText(bytes)) {
    return parseText(new TextDecoder().decode(bytes), path);
  }
  return decodeTrace(bytes, path);
}
