// End to end: the built CLI replays a guest-side trace with both models, `--kernel linux-6.19
// --vmm <id>`, and prints what each VMM version makes of a guest D3hot followed by a BAR0 read.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { assertBuilt, run } from '../../e2e/cli.js';

const TRACE = `vfio-trace 1
source hand-written
kernel 6.19.0
vmm openvmm 3609 kvm
tracer -
title "vmm models: guest D3hot then BAR0 read"
device 0000:01:00.0 8086:10d3 page-size=4096 iommu-group=13
reset-methods pm
bar 0 mem size=0x20000
bar 3 mem size=0x4000
config size=256
config 0x000 86 80 d3 10 00 00 10 00 00 00 00 02 10 00 00 00
config 0x030 00 00 00 00 c8 00 00 00 00 00 00 00 0b 01 00 00
config 0x0a0 11 00 04 00 03 00 00 00 03 20 00 00 00 00 00 00
config 0x0c0 00 00 00 00 00 00 00 00 01 d0 22 c8 00 20 00 00
0 guest-cfg-write 0x10 len=4 val=0xfe000000
1 guest-cfg-write 0x04 len=2 val=0x6
2 guest-cfg-write 0xcc len=2 val=0x3
3 guest-mmio-read 0xfe000008 len=4
`;

let dir = '';
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'vfio-vmm-'));
  writeFileSync(join(dir, 't.txt'), TRACE);
  const r = run(['encode', 't.txt', '-o', 't.pb'], { cwd: dir });
  if (r.code !== 0) throw new Error(`encode failed: ${r.stderr}`);
});

const lastEvent = (out: string) => out.split('\n').find((l) => l.startsWith('#0003')) ?? '';

describe('vfio-replay replay --kernel linux-6.19 --vmm <id> (built CLI)', { timeout: 60_000 }, () => {
  test('openvmm-3609: the BAR was unmapped before D3hot; the read hits nothing', () => {
    const r = run(['replay', 't.pb', '--kernel', 'linux-6.19', '--vmm', 'openvmm-3609'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/#0002 .*guest-unmap\(bar0\) fwd\(cfg-write 0xcc len=4 val=0x3 => ok ret=4\).*\[vmm\.openvmm\.pm-unmap-bars\]/);
    expect(lastEvent(r.stdout), r.stderr).toMatch(/=> unassigned val=0xffffffff \[vmm\.unassigned\]$/);
  });

  test('openvmm-3336: the stale direct map kills the VM', () => {
    const r = run(['replay', 't.pb', '--kernel', 'linux-6.19', '--vmm', 'openvmm-3336'], { cwd: dir });
    expect(lastEvent(r.stdout), r.stderr).toMatch(/=> vmm-exit KVM_RUN -EFAULT fwd\(mem-read bar0\+0x8 len=4 => SIGBUS BUS_ADRERR\).*\[vmm\.direct-map-stale\]$/);
  });

  test('qemu-10.0 survives, qemu-7.2 does not', () => {
    const a = run(['replay', 't.pb', '--kernel', 'linux-6.19', '--vmm', 'qemu-10.0'], { cwd: dir });
    expect(lastEvent(a.stdout), a.stderr).toMatch(/=> unassigned val=0x0 \[vmm\.unassigned\]$/);
    const b = run(['replay', 't.pb', '--kernel', 'linux-6.19', '--vmm', 'qemu-7.2'], { cwd: dir });
    expect(lastEvent(b.stdout), b.stderr).toMatch(/\[vmm\.direct-map-stale\]$/);
  });

  test('an unknown --vmm is a one-line user error, exit 2', () => {
    const r = run(['replay', 't.pb', '--kernel', 'linux-6.19', '--vmm', 'openvmm-9999'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown VMM version "openvmm-9999"/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
