// Synthetic trace generator for benchmarks and memory measurements:
//   node dist/bench/generate.js --size 10MB -o /tmp/t10m.pb [--seed 1]
// Streams packets through TraceWriter until the file reaches --size, so it can write traces far
// larger than memory. The mix imitates a busy e1000e passthrough capture: mostly config and BAR
// accesses (pread/pwrite and CPU loads/stores through mappings), some mmaps, ioctls, PMCSR writes
// and guest accesses. Deterministic for a given seed.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UserError } from '../src/errors.js';
import { parseText } from '../src/trace/text-parse.js';
import { TraceWriter } from '../src/trace/writer.js';
import type { EventBody, Observed, TraceEvent, TraceHeader } from '../src/trace/types.js';

/** xorshift32: a tiny deterministic PRNG (the generator must be reproducible). */
class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)];
  }
}

export function parseSize(s: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(B|K|KB|KiB|M|MB|MiB|G|GB|GiB)?$/i.exec(s);
  if (m === null) throw new UserError(`--size: expected a size like 10MB or 1GB, got ${JSON.stringify(s)}`);
  const unit = (m[2] ?? 'B').toUpperCase().replace('IB', 'B');
  const mult = unit.startsWith('G') ? 1 << 30 : unit.startsWith('M') ? 1 << 20 : unit.startsWith('K') ? 1 << 10 : 1;
  return Math.floor(Number(m[1]) * mult);
}

function e1000eHeader(): TraceHeader {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5 && !existsSync(join(dir, 'traces', 'devices', 'e1000e.txt')); i++) dir = dirname(dir);
  const file = join(dir, 'traces', 'devices', 'e1000e.txt');
  const text = `vfio-trace 1\nsource synthetic\nvmm qemu 10.0.3 kvm\ntracer 0.1.0\ntitle "synthetic e1000e load"\n${readFileSync(file, 'utf8')}`;
  return parseText(text, file).header;
}

const BAR0 = 0x20000;
const MAP_BASE = 0x7f3a2c000000n;
const GPA_BAR0 = 0xfebc0000n;

function randBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.below(256);
  return b;
}

function accessLen(rng: Rng): number {
  return rng.pick([1, 2, 4, 4, 4, 4]);
}

/** One event body and what was observed for it. */
function nextEvent(rng: Rng): { body: EventBody; observed?: Observed } {
  const r = rng.below(100);
  if (r < 20) {
    const len = accessLen(rng);
    const offset = rng.below(256 / len) * len;
    return { body: { kind: 'cfg-read', offset, len }, observed: { ret: BigInt(len), data: randBytes(rng, len) } };
  }
  if (r < 28) {
    const len = rng.pick([2, 4]);
    const offset = rng.pick([0x04, 0x0c, 0x10, 0x14, 0x3c, 0xa2, 0xd2, 0xe8]);
    return { body: { kind: 'cfg-write', offset, data: randBytes(rng, len) }, observed: { ret: BigInt(len) } };
  }
  if (r < 29) {
    // PMCSR: D0 <-> D3hot.
    const d3 = rng.below(2) === 1;
    return {
      body: { kind: 'cfg-write', offset: 0xcc, data: Uint8Array.of(d3 ? 3 : 0, 0x20) },
      observed: { ret: 2n, powerState: d3 ? 'D3hot' : 'D0' },
    };
  }
  if (r < 39) {
    const region = rng.pick([0, 1, 2, 3]);
    const size = region === 2 ? 0x20 : region === 3 ? 0x4000 : BAR0;
    const offset = BigInt(rng.below(size / 4) * 4);
    return { body: { kind: 'region-read', region, offset, len: 4 }, observed: { ret: 4n, data: randBytes(rng, 4) } };
  }
  if (r < 47) {
    const region = rng.pick([0, 2]);
    const size = region === 2 ? 0x20 : BAR0;
    const offset = BigInt(rng.below(size / 4) * 4);
    return { body: { kind: 'region-write', region, offset, data: randBytes(rng, 4) }, observed: { ret: 4n } };
  }
  if (r < 65) {
    const offset = BigInt(rng.below(BAR0 / 4) * 4);
    return { body: { kind: 'mem-read', bar: 0, offset, len: 4 }, observed: { data: randBytes(rng, 4) } };
  }
  if (r < 77) {
    const offset = BigInt(rng.below(BAR0 / 4) * 4);
    return { body: { kind: 'mem-write', bar: 0, offset, len: 4, value: BigInt(rng.next()) } };
  }
  if (r < 78) {
    return { body: { kind: 'mmap', region: 0, offset: 0n, length: BigInt(BAR0), prot: 3, addr: MAP_BASE }, observed: { ret: 0n } };
  }
  if (r < 79) {
    return { body: { kind: 'munmap', addr: MAP_BASE, length: BigInt(BAR0) }, observed: { ret: 0n } };
  }
  if (r < 82) {
    const op = rng.below(4);
    if (op === 0) return { body: { kind: 'ioctl', op: 'get-region-info', index: rng.below(8), argsz: 32 }, observed: { ret: 0n } };
    if (op === 1) return { body: { kind: 'ioctl', op: 'set-irqs', flags: 0x24, index: 2, start: rng.below(5), count: 1, argsz: 24, fds: [] }, observed: { ret: 0n } };
    if (op === 2) return { body: { kind: 'ioctl', op: 'reset' }, observed: { ret: 0n } };
    return { body: { kind: 'ioctl', op: 'get-irq-info', index: rng.below(5), argsz: 16 }, observed: { ret: 0n } };
  }
  if (r < 88) {
    const gpa = GPA_BAR0 + BigInt(rng.below(BAR0 / 4) * 4);
    return rng.below(2) === 0
      ? { body: { kind: 'guest-mmio-read', gpa, len: 4 }, observed: { data: randBytes(rng, 4) } }
      : { body: { kind: 'guest-mmio-write', gpa, len: 4, value: BigInt(rng.next()) } };
  }
  if (r < 94) {
    const len = accessLen(rng);
    const offset = rng.below(256 / len) * len;
    return rng.below(2) === 0
      ? { body: { kind: 'guest-cfg-read', offset, len } }
      : { body: { kind: 'guest-cfg-write', offset, len, value: BigInt(rng.next()) & ((1n << BigInt(8 * len)) - 1n) } };
  }
  if (r < 98) return { body: { kind: 'kvm-run', vcpu: rng.below(4) }, observed: { ret: 0n } };
  if (r < 99) {
    return { body: { kind: 'memslot', slot: 6, flags: 0, gpa: GPA_BAR0, size: BigInt(BAR0), uaddr: MAP_BASE } };
  }
  return { body: { kind: 'map-dma', vaddr: MAP_BASE, iova: GPA_BAR0, size: BigInt(BAR0), flags: 3 }, observed: { ret: 0n } };
}

export async function generate(path: string, size: number, seed: number): Promise<{ events: number; bytes: number }> {
  const rng = new Rng(seed);
  const w = await TraceWriter.create(path);
  try {
    await w.header(e1000eHeader());
    let seq = 0n;
    let ts = 0n;
    const tids = [4100, 4101, 4102, 4103];
    while (w.bytes < size) {
      const { body, observed } = nextEvent(rng);
      ts += BigInt(200 + rng.below(5000));
      const ev = { seq, tsNs: ts, tid: rng.pick(tids), overlap: 0, ...body } as TraceEvent;
      if (observed !== undefined) ev.observed = observed;
      await w.event(ev);
      seq++;
    }
    await w.close();
    return { events: Number(seq), bytes: w.bytes };
  } catch (err) {
    await w.abort();
    throw err;
  }
}

async function main(): Promise<number> {
  try {
    const { values } = parseArgs({
      options: { size: { type: 'string', default: '10MB' }, output: { type: 'string', short: 'o' }, seed: { type: 'string', default: '1' } },
      strict: true,
    });
    if (values.output === undefined) throw new UserError('missing -o <file>');
    const seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new UserError(`--seed: expected a non-negative integer, got ${values.seed}`);
    const r = await generate(values.output, parseSize(values.size!), seed);
    process.stderr.write(`wrote ${values.output}: ${r.events} events, ${r.bytes} bytes\n`);
    return 0;
  } catch (err) {
    if (err instanceof UserError) {
      process.stderr.write(`generate: ${err.message}\n`);
      return 2;
    }
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`generate: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then((code) => {
    process.exitCode = code;
  });
}
