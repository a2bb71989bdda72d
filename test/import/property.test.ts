// Garbage and truncation never crash the importers: every input either imports or fails with a
// UserError that says where (file and line).
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { importTrace } from '../../src/import/importer.js';
import { parseIoctlArgs } from '../../src/import/ioctl-args.js';
import { argBytes, decodeContainerIoctl, decodeDeviceIoctl } from '../../src/import/vfio-structs.js';
import { straceDir } from './helpers.js';
import { renderLine } from './qemu-render.js';

const scratch = mkdtempSync(join(tmpdir(), 'import-prop-'));
let n = 0;
function tryImport(kind: 'strace' | 'qemuLog', text: string): void {
  const f = join(scratch, `in-${n++}.log`);
  writeFileSync(f, text, 'latin1');
  try {
    importTrace({ [kind]: f, tracerVersion: 't', allowEmpty: true });
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    expect(e.location.file).toBe(f);
    // Messages about a line say which; whole-file messages (nothing to interleave, ...) need not.
    if (e.location.line !== undefined) expect(e.location.line).toBeGreaterThan(0);
  }
}

const straceText = readFileSync(join(straceDir, 'tracer-default.strace'), 'latin1');
const straceLines = straceText.split('\n');
const qemuText =
  [
    ['vfio_pci_read_config', ['0000:01:00.0', 0, 4, 0x10d38086]],
    ['pci_update_mappings_add', ['vfio-pci', 0, 3, 0, 0, 0xfebc0000n, 0x20000n]],
    ['vfio_region_read', ['0000:01:00.0', 0, 0x8n, 4, 0x12345678n]],
    ['vfio_pci_write_config', ['0000:01:00.0', 0xcc, 0x3, 2]],
    ['pci_pm_transition', ['vfio-pci', 0, 3, 0, 0, 3]],
  ]
    .map(([name, args], i) => renderLine({ name: name as string, args: args as (string | number | bigint)[], tid: 7, ns: 1_763_700_000_000_000_000n + BigInt(i) * 1000n }, 'tid'))
    .join('\n') + '\n';

// Characters strace and QEMU lines are made of, so garbage often looks almost right.
const lineChars = fc.constantFrom(...'0123456789abcdefx(){}[]<>",=?-+. \\:_/@|ABCDEFGHIJKLMNOPQRSTUVWXYZpreadwriteioctlmap'.split(''));
const garbageLine = fc.oneof(
  fc.string({ unit: lineChars, maxLength: 80 }),
  fc.string({ maxLength: 60 }),
  // A real line with a random cut or a random splice.
  fc.tuple(fc.constantFrom(...straceLines), fc.nat(), fc.string({ unit: lineChars, maxLength: 12 })).map(([l, k, s]) => l.slice(0, k % (l.length + 1)) + s),
);

describe('importer robustness (property)', { timeout: 60_000 }, () => {
  it('strace: garbage lines mixed into a real capture', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(straceLines.length), garbageLine), { maxLength: 6 }), (inserts) => {
        const lines = [...straceLines];
        for (const [at, g] of inserts) lines.splice(at, 0, g);
        tryImport('strace', lines.join('\n'));
      }),
      { numRuns: 150 },
    );
  });

  it('strace: a capture truncated at any byte', () => {
    fc.assert(
      fc.property(fc.nat(straceText.length), (cut) => tryImport('strace', straceText.slice(0, cut))),
      { numRuns: 150 },
    );
  });

  it('QEMU log: garbage lines and truncation', () => {
    const qLines = qemuText.split('\n');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(qLines.length), garbageLine), { maxLength: 6 }), fc.nat(qemuText.length), (inserts, cut) => {
        const lines = [...qLines];
        for (const [at, g] of inserts) lines.splice(at, 0, g);
        tryImport('qemuLog', lines.join('\n'));
        tryImport('qemuLog', qemuText.slice(0, cut));
      }),
      { numRuns: 150 },
    );
  });

  it('a cut last line is not an error: the VMM or strace died mid-line', () => {
    const cut = straceText.slice(0, straceText.indexOf('pread64', straceText.indexOf('vfio-device')) + 20);
    expect(() => importTrace({ strace: (writeFileSync(join(scratch, 'cut.log'), cut), join(scratch, 'cut.log')), tracerVersion: 't', allowEmpty: true })).not.toThrow();
  });
});

// ---- the tracer's ioctl-args capture and the VFIO struct decoders --------------------------------

// Two lines of the lab's real capture (traces/lab/6.1/low-power.ioctl-args, hot-reset.ioctl-args):
// one with ftrace's padding, one rebuilt by the tracer's redaction.
const zeroWords = (from: number) => Array.from({ length: 16 - from }, (_, i) => `a${from + i}=0x0`).join(' ');
const argsText =
  [
    `runner-10034 [000] ...2. 4.004387: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=6 cmd=0x3b67 arg=0x7fffffffea38 a0=0x8 ${zeroWords(1)}`,
    `          runner-10034   [000] ...2.     4.318204: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=7 cmd=0x3b75 arg=0x8d8340 a0=0x2000300000008 ${zeroWords(1)}`,
    'CPU:0 [LOST 3 EVENTS]',
    `          runner-10034   [000] ...2.     4.682450: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=7 cmd=0x3b71 arg=0x8d8340 a0=0x10 a1=0xffffffff00000001 a2=0x6 ${zeroWords(3)}`,
    '# vfio-trace: 5 records overran the buffer',
  ].join('\n') + '\n';
const argsLines = argsText.split('\n');
const ftraceChars = fc.constantFrom(...'0123456789abcdefx()[]-=.:_/ #LOSTCPUvfio_ioctl:'.split(''), ' vfio_ioctl: ', 'fd=', ' a0=', '(fault)', '0x', '[000] ');
const argsGarbage = fc.oneof(
  fc.string({ unit: ftraceChars, maxLength: 40 }),
  fc.string({ maxLength: 60 }),
  fc.tuple(fc.constantFrom(...argsLines), fc.nat(), fc.string({ unit: ftraceChars, maxLength: 6 })).map(([l, k, s]) => l.slice(0, k % (l.length + 1)) + s),
);

function parseOrUserError(text: string): void {
  try {
    parseIoctlArgs(text, 'x/ioctl-args');
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    expect(e.location.file).toBe('x/ioctl-args');
    expect(e.location.line).toBeGreaterThan(0);
    expect(e.location.column).toBeGreaterThan(0);
    expect(e.message).toMatch(/^x\/ioctl-args:\d+:\d+: /);
  }
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const hex = (v: bigint | number) => '0x' + v.toString(16);
interface Rec {
  tid: number;
  fd: number;
  cmd: number;
  arg: bigint;
  words: bigint[];
}
const recArb: fc.Arbitrary<Rec> = fc.record({
  tid: fc.integer({ min: 1, max: 4_194_304 }),
  fd: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  cmd: fc.integer({ min: 0x3b00, max: 0x3bff }),
  arg: u64,
  words: fc.array(u64, { maxLength: 16 }),
});
// How ftrace (or the tracer's awk) may lay the line out around the record.
type LayoutValue = typeof layoutArb extends fc.Arbitrary<infer T> ? T : never;
const layoutArb = fc.record({
  comm: fc.oneof(fc.string({ unit: fc.constantFrom(...'abcqemu-system-x86 CPU0/KVM:_.()[]<>1234'.split('')), minLength: 1, maxLength: 15 }), fc.constant('<...>')),
  tgid: fc.option(fc.oneof(fc.integer({ min: 1, max: 4_194_304 }).map((n) => `(${String(n).padStart(7)})`), fc.constant('(-------)')), { nil: null }),
  cpu: fc.nat(255),
  flags: fc.option(fc.constantFrom('...2.', 'd..1.', 'dNh2.', '....', 'd.s1'), { nil: null }),
  secs: fc.nat(99999),
  usecs: fc.nat(999999),
  lead: fc.nat(20),
  pad: fc.nat(4),
  kprobe: fc.boolean(),
  // What stands for the words the probe did not record: nothing, or `(fault)` up to a15.
  faultTail: fc.boolean(),
});

function ftraceLine(r: Rec, l: LayoutValue): string {
  const sp = (n: number) => ' '.repeat(n);
  const words = r.words.map((w, i) => `a${i}=${hex(w)}`);
  if (l.faultTail) for (let i = r.words.length; i < 16; i++) words.push(`a${i}=(fault)`);
  return (
    sp(l.lead) +
    `${l.comm}-${r.tid}` +
    sp(1 + l.pad) +
    (l.tgid !== null ? `${l.tgid} ` : '') +
    `[${String(l.cpu).padStart(3, '0')}] ` +
    (l.flags !== null ? `${l.flags}${sp(1 + l.pad)}` : '') +
    `${l.secs}.${String(l.usecs).padStart(6, '0')}: vfio_ioctl: ` +
    (l.kprobe ? '(__x64_sys_ioctl+0x0/0x90) ' : '(syscalls.sys_enter_ioctl) ') +
    [`fd=${r.fd >>> 0}`, `cmd=${hex(r.cmd)}`, `arg=${hex(r.arg)}`, ...words].join(' ')
  );
}
describe('ioctl-args capture (property)', { timeout: 60_000 }, () => {
  it('garbage lines mixed into a real capture: records, or a located UserError', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(argsLines.length), argsGarbage), { maxLength: 6 }), (inserts) => {
        const lines = [...argsLines];
        for (const [at, g] of inserts) lines.splice(at, 0, g);
        parseOrUserError(lines.join('\n'));
      }),
      { numRuns: 300 },
    );
  });

  it('a capture truncated at any byte: a cut last line is at worst a located UserError', () => {
    for (let cut = 0; cut <= argsText.length; cut++) parseOrUserError(argsText.slice(0, cut));
  });

  it('round trip: records printed the way ftrace prints them parse back', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(recArb, layoutArb, fc.option(fc.nat(1000), { nil: null })), { maxLength: 8 }),
        (items) => {
          const lines: string[] = [];
          const want: { tid: number; fd: number; cmd: number; arg: bigint; bytes: Uint8Array; line: number }[] = [];
          let lost = 0;
          for (const [r, l, lostBefore] of items) {
            if (lostBefore !== null) {
              lines.push(`CPU:${l.cpu} [LOST ${lostBefore} EVENTS]`);
              lost += lostBefore;
            }
            lines.push(ftraceLine(r, l));
            const bytes = new Uint8Array(r.words.length * 8);
            r.words.forEach((w, i) => new DataView(bytes.buffer).setBigUint64(i * 8, w, true));
            want.push({ tid: r.tid, fd: r.fd, cmd: r.cmd, arg: r.arg, bytes, line: lines.length });
          }
          const log = parseIoctlArgs(lines.join('\n') + '\n', 'f');
          expect(log.records).toEqual(want);
          expect(log.lost).toBe(lost);
          expect(log.otherLines).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('VFIO struct decoders (property)', { timeout: 60_000 }, () => {
  const reqArb = fc.oneof(fc.integer({ min: 0x3b60, max: 0x3b80 }), fc.integer({ min: -(2 ** 31), max: 2 ** 32 }), fc.constantFrom(NaN, Infinity, 0.5));
  // Bytes that often look like a struct: a small argsz, a FEATURE flags word, then anything.
  const structish = fc
    .tuple(
      fc.oneof(fc.nat(160), fc.nat()),
      fc.oneof(fc.constantFrom(3, 4, 5, 11, 0).chain((id) => fc.constantFrom(0, 1, 2, 3, 4, 8).map((op) => (op << 16) | id)), fc.nat()),
      fc.uint8Array({ maxLength: 160 }),
      fc.nat(8),
    )
    .map(([argsz, flags, rest, offset]) => {
      const b = new Uint8Array(offset + 8 + rest.length);
      const dv = new DataView(b.buffer);
      dv.setUint32(offset, argsz >>> 0, true);
      dv.setUint32(offset + 4, flags >>> 0, true);
      b.set(rest, offset + 8);
      return b.subarray(offset);
    });
  const bytesArb = fc.oneof(fc.uint8Array({ maxLength: 200 }), structish, structish.map((b) => b.subarray(0, b.length >> 1)));

  it('decodeDeviceIoctl, decodeContainerIoctl and argBytes never throw, on any bytes and any request', () => {
    fc.assert(
      fc.property(reqArb, bytesArb, (req, bytes) => {
        const d = decodeDeviceIoctl(req, bytes);
        const c = decodeContainerIoctl(req, bytes);
        if (d !== null) expect(d.kind).toBe('ioctl');
        if (c !== null) expect(['map-dma', 'unmap-dma']).toContain(c.kind);
        // Fewer than 8 bytes hold no struct header.
        if (bytes.length < 8) expect(d).toBeNull();
        const a = argBytes(bytes);
        expect(a.length).toBeLessThanOrEqual(bytes.length);
        expect(a).toEqual(bytes.slice(0, a.length));
      }),
      { numRuns: 2000 },
    );
  });
});
