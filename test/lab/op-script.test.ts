// The trace -> runner op script converter (src/lab/op-script.ts): every host event the runner can
// perform becomes one line keyed by its event index; the rest are listed as skipped.
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { parseText } from '../../src/trace/text-parse.js';
import { opLine, toOpScript } from '../../src/lab/op-script.js';
import type { TraceEvent } from '../../src/trace/types.js';

const HEADER = `vfio-trace 1
source hand-written
kernel -
vmm - - unknown
tracer -
title "t"
device 0000:00:03.0 8086:10d3 page-size=4096 iommu-group=1
bar 0 mem size=0x20000
`;

function script(events: string): ReturnType<typeof toOpScript> {
  return toOpScript(parseText(HEADER + events, 't.txt'));
}

describe('toOpScript', () => {
  test('maps each host event to one op line keyed by event index', () => {
    const s = script(`open
cfg-read 0x04 len=2
cfg-write 0x04 len=2 val=0x0101
region-read bar0+0x8 len=4
region-write bar0+0x2800 len=4 val=0x12345670
mmap bar0+0x0 len=0x20000 prot=0x3 addr=0x7f0000000000
mem-read bar0+0x8 len=4
mem-write bar0+0x2800 len=4 val=0x1
munmap addr=0x7f0000000000 len=0x20000
close
`);
    expect(s.text.trimEnd().split('\n')).toEqual([
      '0 open',
      '1 cfg-read 0x4 2',
      '2 cfg-write 0x4 0101',
      '3 region-read 0 0x8 4',
      '4 region-write 0 0x2800 70563412',
      '5 mmap 0 0x0 0x20000 0x3 0x7f0000000000',
      '6 mem-read 0 0x8 4',
      '7 mem-write 0 0x2800 4 0x1',
      '8 munmap 0x7f0000000000 0x20000',
      '9 close',
    ]);
    expect(s.ops).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s.skipped).toEqual([]);
  });

  test('ioctls carry the arguments the runner needs', () => {
    const s = script(`ioctl get-info argsz=24
ioctl get-region-info index=3 argsz=48
ioctl get-irq-info index=2 argsz=16
ioctl set-irqs flags=0x24 index=2 start=0 count=2 argsz=28
ioctl reset
ioctl get-hot-reset-info argsz=16
ioctl hot-reset flags=0x0 fds=5,-1
ioctl hot-reset flags=0x0 fds=-
ioctl ioeventfd flags=0x4 offset=0x2800 data=0x1 fd=-1
ioctl low-power entry-with-wakeup fd=9 flags=0x20004
ioctl low-power exit flags=0x20005
ioctl dma-buf region=0 ranges=0x0:0x1000,0x2000:0x1000 open-flags=0x2 dmabuf-flags=0x0 flags=0x1000b
ioctl dma-buf region=0 ranges=- open-flags=0x2 dmabuf-flags=0x0 flags=0x1000b
dmabuf 0 close
map-dma vaddr=0x7f0000000000 iova=0x100000 size=0x20000 flags=0x3
unmap-dma iova=0x100000 size=0x20000 flags=0x0
`);
    expect(s.text.trimEnd().split('\n')).toEqual([
      '0 get-info 24',
      '1 get-region-info 3 48',
      '2 get-irq-info 2 16',
      '3 set-irqs 0x24 2 0 2 28',
      '4 reset',
      '5 get-hot-reset-info 16',
      '6 hot-reset 0x0 2 5 -1',
      '7 hot-reset 0x0 0',
      '8 ioeventfd 0x4 0x2800 0x1 -1',
      '9 low-power 0x20004 9',
      '10 low-power 0x20005 0',
      '11 dma-buf 0x1000b 0 0x2 0x0 2 0x0:0x1000 0x2000:0x1000',
      '12 dma-buf 0x1000b 0 0x2 0x0 0',
      '13 dmabuf-close 0',
      '14 map-dma 0x7f0000000000 0x100000 0x20000 0x3',
      '15 unmap-dma 0x100000 0x20000 0x0',
    ]);
  });

  test('a SET_IRQS that deconfigures a trigger (fd -1) is skipped: the runner passes its own eventfds', () => {
    const s = script(`ioctl set-irqs flags=0x24 index=0 start=0 count=1 argsz=24 fds=12
ioctl set-irqs flags=0x24 index=0 start=0 count=1 argsz=24 fds=-1
`);
    expect(s.ops).toEqual([0]);
    expect(s.skipped[0]).toMatchObject({ index: 1, reason: expect.stringMatching(/fd -1/) });
  });

  test('the feature id field decides the low 16 bits of the flags word', () => {
    const s = script(`ioctl feature flags=0x20000 feature=5 payload=00000000
ioctl feature flags=0x40003 feature=12 payload=-
`);
    expect(s.text.trimEnd().split('\n')).toEqual(['0 feature 0x20005 00000000', '1 feature 0x4000c -']);
  });

  test('guest events, KVM and importer-side DMABUF ops are skipped with a reason; type1 runs', () => {
    const s = script(`open
guest-cfg-read 0x44 len=2
kvm-run vcpu=0
memslot slot=3 flags=0x0 gpa=0xfe000000 size=0x20000 uaddr=0x7f0000000000
map-dma vaddr=0x7f0000000000 iova=0x100000 size=0x20000 flags=0x3
dmabuf 0 attach
ioctl raw fd=container req=0x3b66 name=VFIO_SET_IOMMU arg=03000000
close
`);
    expect(s.ops).toEqual([0, 4, 7]);
    expect(s.skipped.map((x) => x.index)).toEqual([1, 2, 3, 5, 6]);
    expect(s.skipped[0].reason).toMatch(/guest event/);
    expect(s.skipped[1].reason).toMatch(/KVM/);
    expect(s.skipped[3].reason).toMatch(/importer/);
  });

  test('property: every region access becomes "IDX kind ..." with its region, offset and length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
        fc.integer({ min: 0, max: 1 << 20 }),
        (region, offset, len) => {
          const e: TraceEvent = { seq: 0n, tsNs: 0n, tid: 0, overlap: 0, kind: 'region-read', region, offset, len };
          const r = opLine(e);
          expect(r).toEqual({ line: `region-read ${region} 0x${offset.toString(16)} ${len}` });
        },
      ),
    );
  });

  test('property: write payloads are the data bytes in hex, "-" when empty', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4095 }), fc.uint8Array({ maxLength: 64 }), (offset, data) => {
        const e: TraceEvent = { seq: 0n, tsNs: 0n, tid: 0, overlap: 0, kind: 'cfg-write', offset, data };
        const r = opLine(e);
        const hex = data.length === 0 ? '-' : Buffer.from(data).toString('hex');
        expect(r).toEqual({ line: `cfg-write 0x${offset.toString(16)} ${hex}` });
      }),
    );
  });
});

describe('processes and user buffers', () => {
  test('fork, child events (@PID), process exit and buf= become runner lines', () => {
    const s = script(
      ['open', 'fork child=3', 'pid=3 mem-read bar0+0x8 len=4', 'cfg-read 0x0 len=4 buf=bar0+0x2800', 'region-write bar0+0x2800 len=4 val=0x1 buf=bar0+0x8', 'pid=3 process-exit'].join('\n'),
    );
    expect(s.text).toBe(
      ['0 open', '1 fork 3', '2 @3 mem-read 0 0x8 4', '3 cfg-read 0x0 4 0 0x2800', '4 region-write 0 0x2800 01000000 0 0x8', '5 @3 exit', ''].join('\n'),
    );
  });
});
