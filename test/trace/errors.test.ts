// Every kind of bad input becomes a located UserError; unknown fields from a newer schema are
// counted and reported, not dropped; concatenated traces read as one.
import { afterAll, describe, expect, it } from 'vitest';
import protobuf from 'protobufjs';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { decodeTrace, encodeEventPacket, encodeHeaderPacket, encodeTrace, loadTrace } from '../../src/trace/codec.js';
import { TraceReader, readPackets, type TracePacket } from '../../src/trace/reader.js';
import { TraceWriter } from '../../src/trace/writer.js';
import { parseText } from '../../src/trace/text-parse.js';
import type { TraceEvent } from '../../src/trace/types.js';

const examples = join(import.meta.dirname, '../../traces/examples');
const bringup = readFileSync(join(examples, 'e1000e-bringup.pb'));
const dmabuf = readFileSync(join(examples, 'e1000e-dmabuf.pb'));
const tmp = mkdtempSync(join(tmpdir(), 'vfio-trace-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function userError(f: () => unknown): UserError {
  try {
    f();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a UserError');
}

async function userErrorAsync(f: () => Promise<unknown>): Promise<UserError> {
  try {
    await f();
  } catch (err) {
    if (err instanceof UserError) return err;
    throw err;
  }
  throw new Error('expected a UserError');
}

async function collect(path: string): Promise<TracePacket[]> {
  const out: TracePacket[] = [];
  for await (const p of readPackets(path)) out.push(p);
  return out;
}

/** Frames raw Packet bytes as `0x0a <len> <bytes>`. */
function frame(payload: Uint8Array): Uint8Array {
  const w = protobuf.Writer.create();
  w.uint32(0x0a).bytes(payload);
  return w.finish();
}

const header = encodeHeaderPacket(decodeTrace(bringup, 'b.pb').header);

describe('binary trace errors', () => {
  it('truncated file: located at the packet that runs past the end', () => {
    const cut = bringup.subarray(0, bringup.length - 3);
    const e = userError(() => decodeTrace(cut, 'cut.pb'));
    expect(e.message).toMatch(/^cut\.pb: at byte \d+ \(0x[0-9a-f]+\): truncated packet/);
    expect(e.location.offset).toBeGreaterThan(0);
  });

  it('garbage: not a packet tag', () => {
    const e = userError(() => decodeTrace(Buffer.from('hello, world'), 'g.pb'));
    expect(e.message).toBe('g.pb: at byte 0 (0x0): expected packet tag 0x0a, found 0x68 (not a vfio-replay trace, or corrupt)');
  });

  it('a length prefix claiming 4 GiB is refused before allocating', async () => {
    const bytes = Buffer.concat([Buffer.from(header), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])]);
    const e = userError(() => decodeTrace(bytes, 'big.pb'));
    expect(e.message).toContain('exceeds the 67108864-byte limit');
    expect(e.location.offset).toBe(header.length);
    const file = join(tmp, 'big.pb');
    writeFileSync(file, bytes);
    const e2 = await userErrorAsync(() => collect(file));
    expect(e2.location).toEqual({ file, offset: header.length });
  });

  it('a length prefix past EOF (under the limit) is refused', async () => {
    const bytes = Buffer.concat([Buffer.from(header), Buffer.from([0x0a, 0x80, 0x80, 0x10])]);
    const file = join(tmp, 'eof.pb');
    writeFileSync(file, bytes);
    const e = await userErrorAsync(() => collect(file));
    expect(e.message).toMatch(/length 262144 runs past the end of the file \(0 bytes left\)/);
  });

  it('wrong wire type of a known field, with the event index', () => {
    // Packet.seq (field 1) sent as length-delimited.
    const bad = frame(Uint8Array.from([0x0a, 0x01, 0x00, 0x32, 0x00]));
    const e = userError(() => decodeTrace(Buffer.concat([header, bad]), 'w.pb'));
    // Located at the offending field: the packet's tag and length byte come first.
    const at = header.length + 2;
    expect(e.message).toBe(`w.pb: event 0 at byte ${at} (0x${at.toString(16)}): Packet.seq: wrong wire type length-delimited (expected varint)`);
  });

  it('unknown enum value', () => {
    // A header whose source is 99.
    const bad = frame(Uint8Array.from([0x82, 0x04, 0x04, 0x08, 0x01, 0x10, 99]));
    const e = userError(() => decodeTrace(bad, 'e.pb'));
    expect(e.message).toMatch(/Header\.source: unknown enum value 99/);
    expect(e.location.offset).toBe(7); // the source field itself: frame (2) + header tag (2) + length (1) + format_version (2)
  });

  it('an unsupported format version', () => {
    const bad = frame(Uint8Array.from([0x82, 0x04, 0x02, 0x08, 0x02]));
    expect(userError(() => decodeTrace(bad, 'v.pb')).message).toMatch(/format version 2 is not supported/);
  });

  it('events before any header, and an empty file', () => {
    const ev = encodeEventPacket({ seq: 0n, tsNs: 0n, tid: 0, overlap: 0, kind: 'open' });
    expect(userError(() => decodeTrace(ev, 'h.pb')).message).toMatch(/does not start with a header/);
    expect(userError(() => decodeTrace(new Uint8Array(0), 'z.pb')).message).toMatch(/no header packet/);
  });

  it('a missing file', async () => {
    const file = join(tmp, 'nope.pb');
    expect((await userErrorAsync(() => collect(file))).message).toBe(`${file}: cannot open trace: ENOENT`);
    expect((await userErrorAsync(() => loadTrace(join(tmp, 'nope.txt')))).message).toMatch(/cannot read trace: ENOENT/);
  });
});

describe('unknown fields (a newer schema)', () => {
  it('are counted per message and field, and an unknown event kind is skipped but keeps its index', async () => {
    // event 0: cfg-read with an extra Packet field 99 and an extra CfgRead field 7.
    const e0 = frame(Uint8Array.from([0x08, 0x05, 0x32, 0x06, 0x08, 0x04, 0x10, 0x02, 0x38, 0x01, 0x98, 0x06, 0x2a]));
    // event 1: only a Packet field 30 (an event kind this reader does not know).
    const e1 = frame(Uint8Array.from([0x08, 0x06, 0xf2, 0x01, 0x02, 0x08, 0x01]));
    const e2 = encodeEventPacket({ seq: 7n, tsNs: 0n, tid: 0, overlap: 0, kind: 'close' });
    const file = join(tmp, 'newer.pb');
    writeFileSync(file, Buffer.concat([header, e0, e1, e2]));
    const r = new TraceReader(file);
    const got: TracePacket[] = [];
    for await (const p of r.packets()) got.push(p);
    const events = got.filter((p) => p.type === 'event');
    expect(events.map((p) => [p.index, p.event.kind])).toEqual([
      [0, 'cfg-read'],
      [2, 'close'],
    ]);
    expect(events[0].event).toMatchObject({ seq: 5n, offset: 4, len: 2 });
    expect(Object.fromEntries(r.stats.unknownFields)).toEqual({ 'Packet.99': 1, 'CfgRead.7': 1, 'Packet.30': 1 });
    expect(r.stats.unknownEvents).toBe(1);
  });

  it('a packet with neither header nor event nor unknown field is corrupt', () => {
    const e = userError(() => decodeTrace(Buffer.concat([header, frame(Uint8Array.from([0x08, 0x01]))]), 'n.pb'));
    expect(e.message).toMatch(/packet holds neither a header nor an event/);
  });
});

describe('concatenation and streaming', { timeout: 30_000 }, () => {
  it('two concatenated .pb files decode to the events of both, in order, with both headers', async () => {
    const a = decodeTrace(bringup, 'a.pb');
    const b = decodeTrace(dmabuf, 'b.pb');
    const cat = Buffer.concat([bringup, dmabuf]);
    const t = decodeTrace(cat, 'cat.pb');
    expect(t.events).toEqual([...a.events, ...b.events]);
    expect(t.header).toEqual(a.header);
    expect(t.moreHeaders).toEqual([{ before: a.events.length, header: b.header }]);
    const file = join(tmp, 'cat.pb');
    writeFileSync(file, cat);
    const streamed = (await collect(file)).filter((p) => p.type === 'event').map((p) => (p as { event: TraceEvent }).event);
    expect(streamed).toEqual(t.events);
    expect(Buffer.from(encodeTrace(t)).equals(cat)).toBe(true);
  });

  it('offsets of streamed packets point at their 0x0a tags', async () => {
    const file = join(tmp, 'offsets.pb');
    writeFileSync(file, bringup);
    for (const p of await collect(file)) expect(bringup[p.offset]).toBe(0x0a);
  });

  it('a packet larger than the 1 MiB read chunk streams correctly', async () => {
    const t = decodeTrace(bringup, 'b.pb');
    const big: TraceEvent = { seq: 0n, tsNs: 0n, tid: 0, overlap: 0, kind: 'region-write', region: 0, offset: 0n, data: new Uint8Array(3 << 20).fill(0xab) };
    const file = join(tmp, 'bigpacket.pb');
    writeFileSync(file, encodeTrace({ header: t.header, events: [t.events[0], big, t.events[1]] }));
    const evs = (await collect(file)).filter((p) => p.type === 'event').map((p) => (p as { event: TraceEvent }).event);
    // Compare the 3 MiB payload as one buffer: element-wise deep equality would take minutes.
    expect(evs.length).toBe(3);
    expect(evs[0]).toEqual(t.events[0]);
    expect(evs[2]).toEqual(t.events[1]);
    const got = evs[1] as Extract<TraceEvent, { kind: 'region-write' }>;
    expect(got.kind).toBe('region-write');
    expect(Buffer.from(got.data).equals(Buffer.from((big as Extract<TraceEvent, { kind: 'region-write' }>).data))).toBe(true);
  });
});

describe('loadTrace', () => {
  it('tells text from binary by content when the name has no .txt/.pb extension', async () => {
    const txt = join(tmp, 'sniff-text');
    const pb = join(tmp, 'sniff-binary');
    writeFileSync(txt, '\n# a blank first line, like a binary trace starts with 0x0a\n' + readFileSync(join(examples, 'e1000e-dmabuf.txt'), 'utf8'));
    writeFileSync(pb, dmabuf);
    expect(await loadTrace(txt)).toEqual(decodeTrace(dmabuf, 'x'));
    expect(await loadTrace(pb)).toEqual(decodeTrace(dmabuf, 'x'));
  });
});

describe('TraceWriter', () => {
  it('writes atomically: nothing at the target until close, nothing left after abort', async () => {
    const t = decodeTrace(bringup, 'b.pb');
    const target = join(tmp, 'out.pb');
    const w = await TraceWriter.create(target);
    await w.header(t.header);
    for (const e of t.events) await w.event(e);
    expect(existsSync(target)).toBe(false);
    await w.close();
    expect(readFileSync(target).equals(bringup)).toBe(true);
    const aborted = join(tmp, 'aborted.pb');
    const w2 = await TraceWriter.create(aborted);
    await w2.header(t.header);
    await w2.abort();
    expect(readdirSync(tmp).filter((f) => f.includes('aborted'))).toEqual([]);
  });

  it('an unwritable path is a UserError naming it', async () => {
    const target = join(tmp, 'no/such/dir/out.pb');
    expect((await userErrorAsync(() => TraceWriter.create(target))).message).toBe(`${target}: cannot write output: ENOENT`);
  });
});

describe('text twin errors', () => {
  const head = 'vfio-trace 1\n';
  const cases: [string, string][] = [
    [`${head}cfg-read 0x04 len=zz\n`, 't.txt:2:19: len: expected a number, got "zz"'],
    [`${head}cfg-read 0x04\n`, 't.txt:2:14: missing len='],
    [`${head}cfg-read 0x04 len=2 bogus=1\n`, 't.txt:2:21: unknown argument bogus='],
    [`${head}frobnicate 1\n`, 't.txt:2:1: unknown event kind "frobnicate"'],
    [`${head}cfg-write 0x04 len=1 val=0x100\n`, 't.txt:2:26: val=0x100 does not fit in 1 bytes'],
    [`${head}mmap bar9+0x0 len=0x1000\n`, 't.txt:2:6: expected a region place like bar0+0x10, rom+0x0, vga+0x3c0 or region9+0x0, got "bar9+0x0"'],
    [`${head}munmap addr=0x10000000000000000 len=1\n`, 't.txt:2:13: addr: 0x10000000000000000 does not fit in 64 bits'],
    [`${head}open => ret=1 ret=2\n`, 't.txt:2:15: ret= given twice'],
    [`${head}title "unterminated\n`, 't.txt:2:7: unterminated string'],
    [`cfg-read 0x04 len=2\n`, 't.txt:1:1: a trace starts with "vfio-trace 1"'],
    [`vfio-trace 2\n`, 't.txt:1:12: format version 2 is not supported (this reader knows 1)'],
    [`${head}open\nsource lab\n`, 't.txt:3:1: header line after events: start a new header block with "vfio-trace 1"'],
    [`${head}config 0x00 86 80\n`, 't.txt:2:1: config rows need a "config size=N" line first'],
    [`${head}config size=4\nconfig 0x02 01 02 03\n`, 't.txt:3:19: config byte 0x4 is past config size 4'],
    [``, 't.txt:1:1: empty trace: a trace starts with "vfio-trace 1"'],
  ];
  for (const [text, message] of cases) {
    it(message, () => {
      expect(userError(() => parseText(text, 't.txt')).message).toBe(message);
    });
  }
});
