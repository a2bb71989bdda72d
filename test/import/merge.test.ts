// Pairing a QEMU log line with the host call strace saw for the same access (merge.ts). The times
// are those of a real capture (lab/vmm FINDINGS, qemu-7.2 mem-toggle): four 1-byte preads of config
// 0x0e on one thread, and QEMU's four vfio_pci_read_config lines for them. Nearest-time pairing
// matched the third line with the fourth pread (1.5 ms after the line, its own was 112 ms before).
import { describe, expect, it } from 'vitest';
import { mergeEvents } from '../../src/import/merge.js';
import type { ImportedEvent } from '../../src/import/strace-events.js';
import type { QemuEvent } from '../../src/import/qemu-log.js';

const at = (s: string): bigint => BigInt(Math.round(Number(s) * 1e6)) * 1000n;

function pread(ns: bigint, line: number): ImportedEvent {
  return { body: { kind: 'cfg-read', offset: 0x0e, len: 1 }, observed: { ret: 1n }, tid: 255, ns, startLine: line, endLine: line, source: 'strace', line };
}

function guestRead(ns: bigint, line: number): QemuEvent {
  return {
    body: { kind: 'guest-cfg-read', offset: 0x0e, len: 1 },
    tid: 255,
    ns,
    startLine: line,
    endLine: line,
    source: 'qemu',
    line,
    forward: { kind: 'cfg-read', region: 7, offset: 0x0en, len: 1 },
  };
}

function pwrite(ns: bigint, line: number): ImportedEvent {
  return { body: { kind: 'cfg-write', offset: 0x04, data: Uint8Array.of(3, 1) }, observed: { ret: 2n }, tid: 255, ns, startLine: line, endLine: line, source: 'strace', line };
}

function guestWrite(ns: bigint, line: number): QemuEvent {
  return {
    body: { kind: 'guest-cfg-write', offset: 0x04, len: 2, value: 0x103n },
    tid: 255,
    ns,
    startLine: line,
    endLine: line,
    source: 'qemu',
    line,
    forward: { kind: 'cfg-write', region: 7, offset: 0x04n, len: 2 },
  };
}

const files = { strace: 's.log', qemu: 'q.log' };

describe('merge: which host call a QEMU line stands for', () => {
  it('a config read is traced after its pread returned: each line drops the latest pread before it', () => {
    const preads = ['26.851755', '26.919513', '27.285798', '27.399275'].map((t, i) => pread(at(t), i + 1));
    const lines = ['26.877539', '26.922476', '27.397773', '27.401929'].map((t, i) => guestRead(at(t), i + 1));
    const r = mergeEvents(preads, true, lines, true, files);
    expect(r.droppedForwards).toBe(4);
    // Every pread is accounted for by its own line: no host cfg-read is left over.
    expect(r.events.filter((e) => e.kind === 'cfg-read')).toHaveLength(0);
    expect(r.events.map((e) => e.kind)).toEqual(['guest-cfg-read', 'guest-cfg-read', 'guest-cfg-read', 'guest-cfg-read']);
  });

  it('a pread QEMU did not trace (its own read) stays in the trace as a host event', () => {
    const preads = [pread(at('1.000000'), 1), pread(at('1.050000'), 2)];
    const r = mergeEvents(preads, true, [guestRead(at('1.000100'), 1)], true, files);
    expect(r.events.map((e) => e.kind)).toEqual(['guest-cfg-read', 'cfg-read']);
  });

  it('a config write is traced before its pwrite: the line drops the first pwrite after it, not the one before', () => {
    const earlier = pwrite(at('2.000000'), 1); // an untraced write of QEMU's own, just before
    const own = pwrite(at('2.000900'), 2);
    const r = mergeEvents([earlier, own], true, [guestWrite(at('2.000100'), 1)], true, files);
    expect(r.droppedForwards).toBe(1);
    const kept = r.events.filter((e) => e.kind === 'cfg-write');
    expect(kept).toHaveLength(1);
    expect(kept[0].tsNs).toBe(0n); // the earlier one survives
  });
});
