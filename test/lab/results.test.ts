// The lab's result side: runner lines -> observed outcomes, the guest console -> per-scenario
// results and the sysfs snapshot, and applyResults writing them into the trace. The console
// excerpt is real output of the 6.1 lab (lab/work/6.1/console.log), trimmed.
import { describe, expect, test } from 'vitest';
import { parseText } from '../../src/trace/text-parse.js';
import { applyResults, observedFrom, parseConsole, parseResultLine, snapshotFromConsole, toOpScript } from '../../src/lab/index.js';

const CONSOLE = `
SeaBIOS noise before the lab starts
@@LAB begin
@@SNAP begin
uname 6.1.0-56-amd64
bdf 0000:00:03.0
vendor 0x8086 device 0x10d3
iommu_group 1
reset_method pm
power_state unknown
pagesize 4096
resource 0x00000000feb80000 0x00000000feb9ffff 0x0000000000040200
resource 0x00000000feba0000 0x00000000febbffff 0x0000000000040200
resource 0x000000000000c040 0x000000000000c05f 0x0000000000040101
resource 0x00000000febc0000 0x00000000febc3fff 0x0000000000040200
resource 0x0000000000000000 0x0000000000000000 0x0000000000000000
resource 0x0000000000000000 0x0000000000000000 0x0000000000000000
resource 0x00000000feb40000 0x00000000feb7ffff 0x0000000000046200
config 86 80 d3 10 03 01 10 00 00 00 00 02 00 00 00 00
config 00 00 b8 fe 00 00 ba fe 41 c0 00 00 00 00 bc fe
@@SNAP end
@@BOUND driver=vfio-pci group=1
@@SCFG begin smoke
config 86 80 d3 10 00 04 10 00 00 00 00 02 00 00 00 00
@@SCFG end smoke
@@RUN begin smoke
@@R 0 ret=6
@@R 1 ret=2 data=0301
[   12.345678] vfio-pci 0000:00:03.0: a kernel message in the middle
@@R 2 ret=139637976727552
@@R 3 ok data=83020800
@@R 4 sig=SIGBUS code=BUS_ADRERR addr=0x7f0000000008
@@R 5 errno=EIO
@@R 6 ok
@@E 7 no live mapping covers the access
@@DONE
@@RUN end smoke rc=0
@@RUN2 begin smoke
@@R 0 ret=6
@@R 1 ret=2 data=0301
@@R 2 ret=139637976727552
@@R 3 ok data=83020800
@@R 4 errno=EIO
@@R 5 errno=EIO
@@R 6 ok
@@E 7 no live mapping covers the access
@@DONE
@@RUN2 end smoke rc=0
@@STRACE begin smoke
123   02:18:38.625125 ioctl(5</dev/vfio/1>, VFIO_GROUP_GET_DEVICE_FD, 0x7fffffffef86) = 6
@@STRACE end smoke
@@TRACER smoke vfio-trace: capturing VFIO ioctl arguments (eprobe)
@@ARGS begin smoke
          runner-10034   [000] ...2.     4.263152: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=6 cmd=0x3b6a arg=0x7fffffffef70 a0=0x0
@@ARGS end smoke
@@DMESG begin
[    0.000000] Linux version 6.1.0-56-amd64
@@DMESG end
@@LAB end
`;

const TRACE = `vfio-trace 1
source hand-written
kernel -
vmm - - unknown
tracer -
title "lab smoke"
device 0000:00:03.0 8086:10d3 page-size=4096 iommu-group=1
bar 0 mem size=0x20000

open
cfg-read 0x04 len=2
mmap bar0+0x0 len=0x20000 prot=0x3 addr=0x7f0000000000
mem-read bar0+0x8 len=4
mem-read bar0+0x8 len=4
region-read bar0+0x8 len=4
mem-write bar0+0x2800 len=4 val=0x1
mem-read bar1+0x0 len=4
guest-cfg-read 0x44 len=2 => data=0000
close
`;

describe('parseResultLine', () => {
  test('each outcome form', () => {
    expect(parseResultLine('@@R 0 ret=6')).toEqual({ index: 0, ret: 6n });
    expect(parseResultLine('@@R 12 errno=EINVAL')).toEqual({ index: 12, errno: 'EINVAL' });
    expect(parseResultLine('@@R 3 ok data=8302')).toEqual({ index: 3, ok: true, data: Uint8Array.of(0x83, 0x02) });
    expect(parseResultLine('@@R 4 sig=SIGBUS code=BUS_ADRERR addr=0x7f0000000008')).toEqual({
      index: 4,
      signal: { signal: 'SIGBUS', code: 'BUS_ADRERR', addr: 0x7f0000000008n },
    });
    expect(parseResultLine('@@R 41 errno=ENODEV data=1000')).toEqual({ index: 41, errno: 'ENODEV', data: Uint8Array.of(0x10, 0) });
    expect(parseResultLine('@@E 7 no live mapping')).toEqual({ index: 7, error: 'no live mapping' });
  });

  test('lines that are not results are ignored', () => {
    expect(parseResultLine('[ 1.0] @@R 1 ret=0')).toBeUndefined();
    expect(parseResultLine('@@R x ret=0')).toBeUndefined();
    expect(parseResultLine('@@R 1 bogus=1')).toBeUndefined();
  });
});

describe('observedFrom', () => {
  test('signal, errno, ret+data and a bare ok', () => {
    expect(observedFrom({ index: 0, signal: { signal: 'SIGBUS', code: 'BUS_ADRERR', addr: 8n } })).toEqual({
      signal: { signal: 'SIGBUS', code: 'BUS_ADRERR', addr: 8n },
    });
    expect(observedFrom({ index: 0, errno: 'EIO' })).toEqual({ errno: 'EIO' });
    expect(observedFrom({ index: 0, ret: 4n, data: Uint8Array.of(1) })).toEqual({ ret: 4n, data: Uint8Array.of(1) });
    expect(observedFrom({ index: 0, ok: true })).toEqual({});
    expect(observedFrom({ index: 0, error: 'x' })).toBeUndefined();
  });
});

describe('kernel log lines of a `# lab: klog=` scenario', () => {
  test('@@K lines (hex) go with the result before them, into the observed klog=, for every outcome kind', () => {
    const hex = (t: string) => Buffer.from(t).toString('hex');
    const line = 'vfio-pci 0000:00:03.0: vfio_pci_mmap_huge_fault(,order = 18) BAR 2 page offset 0x0: 0x2';
    const con = parseConsole(['@@RUN begin k', '@@R 0 ok data=00000000', `@@K 0 ${hex('a')}`, `@@K 0 ${hex('b')}`, '@@R 1 sig=SIGBUS code=BUS_ADRERR addr=0x7f0040000000', `@@K 1 ${hex(line)}`, '@@DONE', '@@RUN end k rc=0'].join('\n'));
    const r = con.runs.get('k')!.results;
    expect(r.get(0)!.klog).toEqual(['a', 'b']);
    expect(observedFrom(r.get(0)!)).toEqual({ kernelLog: 'a\nb', data: Uint8Array.of(0, 0, 0, 0) });
    expect(observedFrom(r.get(1)!)).toEqual({ signal: { signal: 'SIGBUS', code: 'BUS_ADRERR', addr: 0x7f0040000000n }, kernelLog: line });
    expect(observedFrom({ index: 2, errno: 'EIO', klog: ['x'] })).toEqual({ errno: 'EIO', kernelLog: 'x' });
  });
});

describe('parseConsole', () => {
  const con = parseConsole(CONSOLE);

  test('finds the runs, the strace capture and dmesg between markers, ignoring kernel lines', () => {
    expect(con.complete).toBe(true);
    expect(con.bound).toBe('driver=vfio-pci group=1');
    const run = con.runs.get('smoke')!;
    expect(run.done).toBe(true);
    expect(run.rc).toBe(0);
    expect([...run.results.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(con.runs2.get('smoke')!.results.get(4)).toEqual({ index: 4, errno: 'EIO' });
    expect(con.straces.get('smoke')).toBe('123   02:18:38.625125 ioctl(5</dev/vfio/1>, VFIO_GROUP_GET_DEVICE_FD, 0x7fffffffef86) = 6\n');
    expect(con.ioctlArgs.get('smoke')).toBe(
      '          runner-10034   [000] ...2.     4.263152: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=6 cmd=0x3b6a arg=0x7fffffffef70 a0=0x0\n',
    );
    expect(con.tracer.get('smoke')).toEqual(['vfio-trace: capturing VFIO ioctl arguments (eprobe)']);
    expect(con.dmesg).toContain('Linux version 6.1.0-56-amd64');
  });

  test('a console cut short is not complete and keeps what it has', () => {
    const cut = parseConsole(CONSOLE.slice(0, CONSOLE.indexOf('@@R 3 ')));
    expect(cut.complete).toBe(false);
    expect(cut.runs.get('smoke')?.done).toBe(false);
    expect(cut.runs.get('smoke')?.results.size).toBe(3);
  });
});

describe('snapshotFromConsole', () => {
  const con = parseConsole(CONSOLE);

  test('BARs, ROM, reset methods and group from sysfs', () => {
    const s = snapshotFromConsole(con);
    expect(s.kernelRelease).toBe('6.1.0-56-amd64');
    const d = s.device;
    expect([d.bdf, d.vendorId, d.deviceId, d.iommuGroup, d.pageSize]).toEqual(['0000:00:03.0', 0x8086, 0x10d3, 1, 4096]);
    expect(d.bars).toEqual([
      { index: 0, size: 0x20000n, kind: 'mem', is64: false, prefetchable: false },
      { index: 1, size: 0x20000n, kind: 'mem', is64: false, prefetchable: false },
      { index: 2, size: 0x20n, kind: 'io', is64: false, prefetchable: false },
      { index: 3, size: 0x4000n, kind: 'mem', is64: false, prefetchable: false },
    ]);
    expect(d.romSize).toBe(0x40000n);
    expect(d.resetMethods).toEqual(['pm']);
    expect(d.config.length).toBe(32);
  });

  test('a scenario gets the config space read right before it ran', () => {
    const s = snapshotFromConsole(con, 'smoke');
    expect(Array.from(s.device.config.subarray(4, 6))).toEqual([0x00, 0x04]);
    expect(snapshotFromConsole(con, 'other').device.config.length).toBe(32);
  });
});

describe('applyResults', () => {
  const con = parseConsole(CONSOLE);
  const trace = parseText(TRACE, 'smoke.txt');
  const script = toOpScript(trace);
  const applied = applyResults(trace, script, con.runs.get('smoke')!, snapshotFromConsole(con, 'smoke'), {
    kernelBuild: 'linux-image-6.1.0-56-amd64-unsigned 6.1.192-2',
    tracerVersion: 'vfio-lab 0.1.0',
  }, con.runs2.get('smoke'));

  test('the header becomes the lab header with the snapshot', () => {
    const h = applied.trace.header;
    expect(h.source).toBe('lab');
    expect(h.kernelRelease).toBe('6.1.0-56-amd64');
    expect(h.tracerVersion).toBe('vfio-lab 0.1.0 (linux-image-6.1.0-56-amd64-unsigned 6.1.192-2)');
    expect(h.title).toBe('lab smoke');
    expect(h.device.bars.length).toBe(4);
  });

  test('executed events carry the real outcome; skipped ones keep theirs', () => {
    const ev = applied.trace.events;
    expect(ev[0].observed).toEqual({ ret: 6n });
    expect(ev[3].observed).toEqual({ data: Uint8Array.of(0x83, 0x02, 0x08, 0x00) });
    expect(ev[4].observed?.signal?.signal).toBe('SIGBUS');
    expect(ev[5].observed).toEqual({ errno: 'EIO' });
    expect(ev[6].observed).toEqual({});
    expect(ev[7].observed).toBeUndefined(); // the runner could not perform it
    expect(ev[8].observed).toEqual({ data: Uint8Array.of(0, 0) }); // guest event: untouched
    expect(ev[9].observed).toBeUndefined(); // no result line at all
  });

  test('problems and plain-vs-strace differences are reported', () => {
    expect(applied.problems).toEqual([
      'event 7 (mem-read): runner could not perform it: no live mapping covers the access',
      'event 9 (close): no result from the runner',
    ]);
    expect(applied.unstable).toEqual([4]);
  });
});
