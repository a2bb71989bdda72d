import { describe, expect, it } from 'vitest';
import { needsTool } from '../helpers/needs-tool.js';
import { runInner } from './inner-guest.js';

// The inner guest is built with gcc -m32 and ld and booted on the host's QEMU.
describe.runIf(needsTool('qemu-system-x86_64', 'gcc', 'ld'))('inner guest (host QEMU, emulated e1000e)', () => {
  it('finds the device, walks the capability list to PM and exits through isa-debug-exit', () => {
    const r = runInner('find 8086:10d3; exit 3');
    expect(r.status).toBe(3 * 2 + 1);
    expect(r.lines).toContain('guest-cfg-read 0x00 len=4 => data=8680d310');
    expect(r.lines).toContain('guest-cfg-read 0x34 len=1 => data=c8');
    expect(r.lines).toContain('# pm-cap 0xc8');
    expect(r.lines[r.lines.length - 1]).toBe('# exit 0x3');
  });

  it('sizes BARs with decoding off and places them where the script says', () => {
    const r = runInner('find 8086:10d3; mem 0; size; bar 0 0xc0000000; mem 1; rd 0 0x8; cr 0x10 4');
    expect(r.lines).toContain('# bar 0x0 mem size=0x20000');
    expect(r.lines).toContain('# bar 0x2 io size=0x20');
    expect(r.lines).toContain('# bar 0x3 mem size=0x4000');
    expect(r.lines).toContain('guest-cfg-write 0x10 len=4 val=0xc0000000 =>');
    expect(r.lines).toContain('guest-cfg-read 0x10 len=4 => data=000000c0');
    expect(r.lines.some((l) => l.startsWith('guest-mmio-read 0xc0000008 len=4 => data='))).toBe(true);
    expect(r.status).toBe(1); // implied `exit 0`
  });

  it('writes and reads back a BAR register, and writes PMCSR through the PM capability', () => {
    const r = runInner('find 8086:10d3; bars; wr 0 0x2800 0x12345670; rd 0 0x2800; pm 3; cr 0xcc 2; pm 0; cr 0xcc 2');
    expect(r.lines.some((l) => /^guest-mmio-write 0x[0-9a-f]+ len=4 val=0x12345670 =>$/.test(l))).toBe(true);
    expect(r.lines.some((l) => /^guest-mmio-read 0x[0-9a-f]+2800 len=4 => data=70563412$/.test(l))).toBe(true);
    expect(r.lines).toContain('guest-cfg-write 0xcc len=2 val=0x3 =>');
    expect(r.lines).toContain('guest-cfg-read 0xcc len=2 => data=0300');
    expect(r.lines).toContain('guest-cfg-read 0xcc len=2 => data=0000');
  });

  it('reports a bad script on the serial line and exits with 0x7f', () => {
    const r = runInner('find 8086:10d3; frobnicate 1');
    expect(r.lines).toContain('# error unknown command');
    expect(r.status).toBe(0x7f * 2 + 1);
  });

  it('refuses accesses before the device is found', () => {
    const r = runInner('cr 0x0 4');
    expect(r.lines).toContain('# error no device: run find first');
  });
});
