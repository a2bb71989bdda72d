// Packets from a trace file of either form, for commands that accept both (dump, info): binary
// traces stream through TraceReader; text twins are small and hand-written, so they are parsed
// whole and their packets replayed with offset 0 (their locations are line numbers instead).
import { open, readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { TraceReader, type ReaderStats, type TracePacket } from './reader.js';
import { looksLikeText } from './codec.js';
import { TextParser } from './text-parse.js';

/** Whether `path` holds the text twin: by extension, else by its first bytes. */
export async function isTextTrace(path: string): Promise<boolean> {
  if (path.endsWith('.txt')) return true;
  if (path.endsWith('.pb')) return false;
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new UserError(`cannot open trace: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: path });
  }
  try {
    const buf = new Uint8Array(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    return looksLikeText(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

export interface PacketSource {
  packets: AsyncGenerator<TracePacket>;
  /** Filled as packets are read; complete once the generator is done. */
  stats: ReaderStats;
  text: boolean;
}

export async function openTrace(path: string): Promise<PacketSource> {
  if (!(await isTextTrace(path))) {
    const r = new TraceReader(path);
    return { packets: r.packets(), stats: r.stats, text: false };
  }
  const stats: ReaderStats = { bytes: 0, packets: 0, headers: 0, events: 0, unknownEvents: 0, unknownFields: new Map() };
  async function* gen(): AsyncGenerator<TracePacket> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new UserError(`cannot read trace: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { file: path });
    }
    stats.bytes = Buffer.byteLength(text);
    const p = new TextParser(path);
    const lines = text.split('\n');
    let index = 0;
    const all = [];
    for (let i = 0; i < lines.length; i++) all.push(...p.line(lines[i], i + 1));
    all.push(...p.finish());
    for (const pk of all) {
      stats.packets++;
      if (pk.type === 'header') {
        stats.headers++;
        yield { type: 'header', header: pk.header, offset: 0 };
      } else {
        stats.events++;
        yield { type: 'event', event: pk.event, index: index++, offset: 0 };
      }
    }
  }
  return { packets: gen(), stats, text: true };
}
