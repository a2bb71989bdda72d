// The committed captures of fake-vmm under real strace (test/fixtures/import/capture.sh): every
// flag combination must import to the same events, and each decoding rule shows up where the
// program made the call.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTrace } from '../../src/import/importer.js';
import { eventLines, straceDir } from './helpers.js';

const load = (name: string) =>
  name === 'ff'
    ? importTrace({ files: readdirSync(join(straceDir, 'ff')).map((f) => join(straceDir, 'ff', f)), tracerVersion: 'test' })
    : importTrace({ strace: join(straceDir, `${name}.strace`), tracerVersion: 'test' });

// Captures of the same program run (legacy container/group path) under different strace flags.
// The last six are what a user without the tracer types (issue 20): -t, no stamps, -yy, plain
// `-f -tt` (no -y, default -s 32 and escapes), every syscall, and -ff (one file per task).
const SAME_RUN = ['tracer-default', 'stack-k', 'timing-T', 'decode-fds-all', 'ttt-no-y', 'relative', 'xraw', 'xverbose', 'default-escapes', 'stderr-pid-prefix', 'forked-helper', 'seconds-t', 'no-stamps', 'yy', 'plain-default', 'all-syscalls', 'ff'];

describe('strace captures of fake-vmm', () => {
  const base = eventLines(load('tracer-default').trace);

  it('holds every capture the script makes', () => {
    const names = readdirSync(straceDir).filter((f) => f !== '5.10').map((f) => f.replace(/\.strace$/, ''));
    expect(names.sort()).toEqual([...SAME_RUN, 'cdev', 'killed', 'dup-aliases', 'ff-forked'].sort());
  });

  it('dup-aliases (fake-vmm --dup under -yy: container dup2ed to 100, group F_DUPFD_CLOEXEC to 110, device dup3 to 120, the first numbers closed) imports to the same events, files named by their first numbers', () => {
    const t = load('dup-aliases');
    // The group opens at 7, the number the container (alive as 100) is named by: a fresh name.
    // The device fd and the second container get lower numbers than in the base run (7, 11).
    const renamed = base.map((l) =>
      l
        .replace(/^vfio-open group=5 fd=8 => ret=8$/, 'vfio-open group=5 fd=1000000 => ret=7')
        .replace(/^ioctl group-op fd=8 /, 'ioctl group-op fd=1000000 ')
        .replace(/^ioctl get-device-fd fd=8 name=- => ret=9$/, 'ioctl get-device-fd fd=1000000 name=- => ret=7')
        .replace(/^vfio-open container fd=14 => ret=14$/, 'vfio-open container fd=11 => ret=11')
        .replace(/^vfio-close fd=14 /, 'vfio-close fd=11 '),
    );
    expect(eventLines(t.trace)).toEqual(renamed);
    expect(t.report.strace!.stats).toMatchObject({ fdAliases: 5, aliasCloses: 5, fdRenamed: 1, fdNameClashes: 0 });
  });

  it.each(SAME_RUN.slice(1).filter((n) => n !== 'ff'))('%s imports to the same events as -f -tt -y -xx', (name) => {
    expect(eventLines(load(name).trace)).toEqual(base);
  });

  it('ff-forked: -ff of the forked-helper run with clone traced: the same events plus the helper\'s fork, first', () => {
    const d = join(straceDir, 'ff-forked');
    const t = importTrace({ files: readdirSync(d).map((f) => join(d, f)), tracerVersion: 'test' }).trace;
    const lines = eventLines(t).map((l) => l.replace(/^race /, ''));
    expect(lines[0]).toMatch(/^fork child=\d+$/);
    expect([...lines.slice(1)].sort()).toEqual(base.map((l) => l.replace(/^race /, '')).sort());
  });

  it('ff: one file per task (pid from the name) imports to the same events, each thread in its order', () => {
    // -ff stamps a call at its entry (no <unfinished ...> split): calls of different threads that
    // overlapped may come in another order than -f's return order; each thread's own order holds.
    const t = load('ff').trace;
    // Overlaps come from <unfinished ...> spans, which -ff does not print: compared without them.
    const lines = eventLines(t).map((l) => l.replace(/^race /, ''));
    const plainBase = base.map((l) => l.replace(/^race /, ''));
    expect([...lines].sort()).toEqual([...plainBase].sort());
    const byThread = (tids: number[], ls: string[]) => [...new Set(tids)].map((tid) => ls.filter((_, i) => tids[i] === tid));
    const ref = load('tracer-default').trace;
    expect(byThread(t.events.map((e) => e.tid), lines)).toEqual(byThread(ref.events.map((e) => e.tid), plainBase));
  });

  it('decodes config, BAR, ROM and VGA accesses from the region offsets with their bytes', () => {
    expect(base).toContain('cfg-read 0x00 len=4 => ret=4 data=8680d310');
    expect(base).toContain('cfg-write 0x04 len=2 val=0x0106 => ret=2');
    expect(base).toContain('cfg-read 0x10 len=8 => ret=8 data=0000fcfe0000fefe'); // preadv, two iovecs
    expect(base).toContain('cfg-write 0xc4 len=2 val=0x0000 => ret=2'); // pwritev
    expect(base).toContain('region-read bar0+0x8 len=4 => ret=4 data=78563412');
    expect(base).toContain('region-write bar2+0x10 len=4 val=0xdeadbeef => ret=4');
    expect(base).toContain('region-read rom+0x0 len=4 => ret=4 data=55aa0000');
    expect(base).toContain('region-read vga+0x3c0 len=1 => ret=1 data=56');
  });

  it('keeps a failed call as an observed errno', () => {
    expect(base).toContain('region-read bar0+0x10 len=4 => errno=EFAULT');
    expect(base).toContain('ioctl reset => errno=EINVAL');
  });

  it('imports the set-up, opens the device at VFIO_GROUP_GET_DEVICE_FD and closes it at close()', () => {
    expect(base.slice(0, 5)).toEqual([
      'vfio-open container fd=7 => ret=7',
      'vfio-open group=5 fd=8 => ret=8',
      'ioctl container-op fd=7 get-api-version => ret=0',
      'ioctl container-op fd=7 check-extension arg=3 => ret=1',
      'ioctl group-op fd=8 get-status => ret=0',
    ]);
    expect(base).toContain('ioctl get-device-fd fd=8 name=- => ret=9'); // strace prints the name as a pointer
    expect(base.filter((l) => l.startsWith('open'))).toEqual([]);
    expect(base[base.length - 1]).toBe('close => ret=0');
  });

  it('names ioctls by number and fd kind, whatever strace printed', () => {
    // 0x3b7a is newer than strace's table (printed _IOC(...)): kept raw with its errno.
    expect(base).toContain('ioctl raw fd=device req=0x3b7a name="_IOC(_IOC_NONE, 0x3b, 0x7a, 0)" arg=- => errno=ENOTTY');
    // Other container ioctls ("VFIO_DEVICE_PCI_HOT_RESET or VFIO_IOMMU_MAP_DMA" on the container,
    // without its argument record) and device info queries are counted, not imported.
    const r = load('tracer-default').report.strace!;
    expect(r.stats.setupIoctls).toBe(1);
    expect(r.stats.setupEvents).toBe(9);
    expect(r.stats.deviceQueries).toBe(4);
    expect(base.some((l) => l.includes('HOT_RESET') || l.includes('MAP_DMA'))).toBe(false);
  });

  it('maps the device fd, places the SIGBUS in BAR0 and records KVM memslots and runs', () => {
    expect(base).toContain('mmap bar0+0x0 len=0x20000 prot=0x3 addr=ADDR => ret=ADDR');
    expect(base).toContain('mmap bar3+0x0 len=0x4000 prot=0x3 addr=ADDR => ret=ADDR');
    expect(base).toContain('memslot slot=3 flags=0x0 gpa=0xfe000000 size=0x20000 uaddr=ADDR => ret=0');
    expect(base).toContain('memslot slot=3 flags=0x0 gpa=0xfe000000 size=0x0 uaddr=ADDR => ret=0');
    expect(base).toContain('kvm-run vcpu=0 => errno=EFAULT vmm-exit=kvm-run-error exit-errno=EFAULT');
    expect(base).toContain('mem-read bar0+0x10 len=1 => signal=SIGBUS code=BUS_ADRERR addr=ADDR');
    expect(base).toContain('munmap addr=ADDR len=0x20000 => ret=0');
  });

  it('gives the calls in flight together (KVM_RUN held across a pread and a pwrite) one overlap id', () => {
    const t = load('tracer-default').trace;
    const raced = t.events.filter((e) => e.overlap !== 0);
    expect(raced.map((e) => e.kind)).toEqual(['cfg-read', 'cfg-write', 'kvm-run']);
    expect(new Set(raced.map((e) => e.overlap)).size).toBe(1);
    expect(new Set(raced.map((e) => e.tid)).size).toBe(2);
  });

  it('reads -tt, -ttt and -r clocks', () => {
    expect(load('tracer-default').report.strace!.clock).toBe('tod');
    expect(load('ttt-no-y').report.strace!.clock).toBe('epoch');
    expect(load('relative').report.strace!.clock).toBe('relative');
    const t = load('relative').trace;
    for (let i = 1; i < t.events.length; i++) expect(t.events[i]!.tsNs >= t.events[i - 1]!.tsNs).toBe(true);
  });

  it('cdev: the device opens at VFIO_DEVICE_BIND_IOMMUFD (printed by strace 6.1 under a SPAPR name)', () => {
    const lines = eventLines(load('cdev').trace);
    // openat of the cdev and of /dev/iommu are events; BIND without a captured struct names the
    // newest /dev/iommu fd (iommufd-events.ts)
    expect(lines.slice(0, 3)).toEqual(['cdev-open vfio=0 => ret=7', 'iommufd-open => ret=8', 'ioctl bind-iommufd iommufd=8 flags=0x0 argsz=16 => ret=0']);
    expect(lines).toContain('ioctl raw fd=device req=0x3b77 name=VFIO_DEVICE_ATTACH_IOMMUFD_PT arg=- => ret=0');
  });

  it('a VMM killed by SIGBUS: the fault in BAR3 carries the exit', () => {
    const lines = eventLines(load('killed').trace);
    expect(lines[lines.length - 1]).toBe('mem-read bar3+0x0 len=1 => signal=SIGBUS code=BUS_ADRERR addr=ADDR vmm-exit=signaled status=135 exit-signal=SIGBUS');
  });
});

describe('malformed strace lines', () => {
  const text = readFileSync(join(straceDir, 'tracer-default.strace'), 'latin1');
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.includes('pread64(') && l.includes('7696581394432'));
  const scratch = mkdtempSync(join(tmpdir(), 'strace-bad-'));

  function importLines(ls: string[]): () => unknown {
    const f = join(scratch, `t${Math.random().toString(16).slice(2)}.strace`);
    writeFileSync(f, ls.join('\n'), 'latin1');
    return () => importTrace({ strace: f, tracerVersion: 't' });
  }

  it('a device pread64 whose offset is not a number is an error at its line', () => {
    const bad = [...lines];
    bad[at] = bad[at]!.replace('7696581394432', 'seven');
    expect(importLines(bad)).toThrowError(new RegExp(`:${at + 1}:\\d+: pread64: expected a file offset`));
  });

  it('a pwrite64 whose data strace cut short (-s too small) is an error, not a guess', () => {
    const w = lines.findIndex((l) => l.includes('pwrite64(') && l.includes('"\\x06\\x01", 2,'));
    const bad = [...lines];
    bad[w] = bad[w]!.replace('"\\x06\\x01", 2,', '"\\x06"..., 2,');
    expect(importLines(bad)).toThrowError(/cut short \(1 of 2 bytes\): capture with strace -xx -s 4096/);
  });

  it('an unbalanced call line is an error with its line number', () => {
    const bad = [...lines];
    bad[at] = bad[at]!.replace(') = 4', ' = 4');
    expect(importLines(bad)).toThrowError(new RegExp(`:${at + 1}:\\d+: unterminated argument list of pread64`));
  });
});

// The same program under Debian bullseye's strace 5.10 (capture-strace5.sh: the real strace 5.10
// binary from the bullseye archive): its output reads to the same events as strace 6.1's.
describe('strace 5.10 captures of fake-vmm', () => {
  const dir5 = join(straceDir, '5.10');
  const load5 = (name: string) =>
    name === 'ff'
      ? importTrace({ files: readdirSync(join(dir5, 'ff')).map((f) => join(dir5, 'ff', f)), tracerVersion: 'test' })
      : importTrace({ strace: join(dir5, `${name}.strace`), tracerVersion: 'test' });
  const names5 = readdirSync(dir5).map((f) => f.replace(/\.strace$/, ''));

  it('were made by strace 5.10 (its version is in no line; the set the script makes is there)', () => {
    expect(names5.sort()).toEqual(['all-syscalls', 'ff', 'killed', 'plain-default', 'relative', 'tracer-default', 'ttt-no-y', 'yy']);
  });
  it.each(['tracer-default', 'plain-default', 'ttt-no-y', 'relative', 'yy', 'all-syscalls'])('%s reads to the same events as strace 6.1 (-f -tt -y -xx)', (name) => {
    const r = load5(name);
    expect(eventLines(r.trace)).toEqual(eventLines(load('tracer-default').trace));
  });
  it('killed reads to the same events as strace 6.1\'s killed capture', () => {
    expect(eventLines(load5('killed').trace)).toEqual(eventLines(load('killed').trace));
  });
  it('ff: one file per task, the same events in each thread\'s order', () => {
    const strip = (ls: string[]) => ls.map((l) => l.replace(/^race /, '')).sort();
    expect(strip(eventLines(load5('ff').trace))).toEqual(strip(eventLines(load('ff').trace)));
  });
});
