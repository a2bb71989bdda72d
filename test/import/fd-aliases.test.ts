// fd aliases in strace captures (docs/importing.md "fd aliases"): dup, dup2, dup3, fcntl F_DUPFD /
// F_DUPFD_CLOEXEC / F_SETFD in every form strace prints them (-y and -yy annotations, an open
// target), the events naming each file by the number it was opened at, a close only at the
// process's last number of a file, and close-on-exec at execve. The real-strace capture of the
// same forms is test/fixtures/import/strace/dup-aliases.strace (strace-fixtures.test.ts).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTrace } from '../../src/import/importer.js';
import { eventLines } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'fd-aliases-'));
let n = 0;

/** Import strace lines (`PID call = ret`, stamped here) and return the event lines and the report. */
function imp(lines: string[], records: string[] = []) {
  const file = join(dir, `t${n++}.strace`);
  writeFileSync(file, lines.map((l, i) => l.replace(/^(\d+) /, `$1 10:00:00.${String(100000 + i * 10).padStart(6, '0')} `)).join('\n') + '\n');
  const args = join(dir, `t${n++}.ioctl-args`);
  writeFileSync(args, records.join('\n') + '\n');
  const r = importTrace({ strace: file, tracerVersion: 'test', bdf: '0000:01:00.0', ...(records.length ? { ioctlArgs: args } : {}) });
  // The process is event metadata (not in the event's text): prefixed where it is a child.
  return { lines: eventLines(r.trace).map((l, i) => (r.trace.events[i]!.pid ? `pid=${r.trace.events[i]!.pid} ${l}` : l)), report: r.report };
}

describe('fd aliases in strace', () => {
  it('every dup form: the set-up calls name the files by their first numbers; alias closes close nothing', () => {
    const { lines, report } = imp([
      '100 openat(AT_FDCWD</>, "/dev/vfio/vfio", O_RDWR|O_CLOEXEC) = 5</dev/vfio/vfio<char 10:196>>',
      '100 openat(AT_FDCWD</>, "/dev/vfio/12", O_RDWR) = 6</dev/vfio/12<char 243:0>>',
      '100 openat(AT_FDCWD</>, "/dev/null", O_RDWR) = 100</dev/null<char 1:3>>',
      // onto an open number: /dev/null goes (not a file the trace follows: no event)
      '100 dup2(6</dev/vfio/12<char 243:0>>, 100</dev/null<char 1:3>>) = 100</dev/vfio/12<char 243:0>>',
      '100 close(6</dev/vfio/12<char 243:0>>) = 0',
      '100 fcntl(5</dev/vfio/vfio<char 10:196>>, F_DUPFD_CLOEXEC, 100) = 101</dev/vfio/vfio<char 10:196>>',
      '100 close(5</dev/vfio/vfio<char 10:196>>) = 0',
      '100 ioctl(101</dev/vfio/vfio<char 10:196>>, VFIO_GET_API_VERSION) = 0',
      '100 ioctl(100</dev/vfio/12<char 243:0>>, VFIO_GROUP_SET_CONTAINER, [101]) = 0',
      '100 ioctl(101</dev/vfio/vfio<char 10:196>>, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) = 0',
      // a second group opened at 6, which names the first group still open as 100: a fresh name
      '100 openat(AT_FDCWD</>, "/dev/vfio/12", O_RDWR) = 6</dev/vfio/12<char 243:0>>',
      '100 close(6</dev/vfio/12<char 243:0>>) = 0',
      '100 ioctl(100</dev/vfio/12<char 243:0>>, VFIO_GROUP_GET_DEVICE_FD, "0000:01:00.0") = 7<anon_inode:[vfio-device]>',
      '100 dup(7<anon_inode:[vfio-device]>) = 8<anon_inode:[vfio-device]>',
      '100 dup3(7<anon_inode:[vfio-device]>, 120, O_CLOEXEC) = 120<anon_inode:[vfio-device]>',
      '100 fcntl(120<anon_inode:[vfio-device]>, F_DUPFD, 130) = 130<anon_inode:[vfio-device]>',
      '100 fcntl(130<anon_inode:[vfio-device]>, F_SETFD, FD_CLOEXEC) = 0',
      '100 close(7<anon_inode:[vfio-device]>) = 0',
      '100 close(8<anon_inode:[vfio-device]>) = 0',
      '100 pread64(120<anon_inode:[vfio-device]>, "\\x86\\x80", 2, 0x70000000000) = 2',
      '100 close(130<anon_inode:[vfio-device]>) = 0',
      // the device's last number is replaced by a dup2 of the container: that is the device's close
      '100 dup2(101</dev/vfio/vfio<char 10:196>>, 120<anon_inode:[vfio-device]>) = 120</dev/vfio/vfio<char 10:196>>',
      '100 close(120</dev/vfio/vfio<char 10:196>>) = 0',
      '100 close(100</dev/vfio/12<char 243:0>>) = 0',
      '100 close(101</dev/vfio/vfio<char 10:196>>) = 0',
    ]);
    expect(lines).toEqual([
      'vfio-open container fd=5 => ret=5',
      'vfio-open group=12 fd=6 => ret=6',
      'ioctl container-op fd=5 get-api-version => ret=0',
      'ioctl group-op fd=6 set-container container=5 => ret=0',
      'ioctl container-op fd=5 set-iommu arg=3 => ret=0',
      'vfio-open group=12 fd=1000000 => ret=6',
      'vfio-close fd=1000000 => ret=0',
      'ioctl get-device-fd fd=6 name=0000:01:00.0 => ret=7',
      'cfg-read 0x00 len=2 => ret=2 data=8680',
      'close',
      'vfio-close fd=6 => ret=0',
      'vfio-close fd=5 => ret=0',
    ]);
    const text = report.strace!.stats;
    expect(text.fdAliases).toBe(6);
    expect(text.aliasCloses).toBe(6);
    expect(text.fdRenamed).toBe(1);
  });

  it('an iommufd dup2ed to a fixed number: BIND names the /dev/iommu the trace opened', () => {
    const { lines } = imp([
      '100 openat(AT_FDCWD</>, "/dev/iommu", O_RDWR) = 5</dev/iommu>',
      '100 dup2(5</dev/iommu>, 100) = 100</dev/iommu>',
      '100 close(5</dev/iommu>) = 0',
      '100 openat(AT_FDCWD</>, "/dev/vfio/devices/vfio0", O_RDWR) = 5</dev/vfio/devices/vfio0>',
      // no struct capture: the BIND's iommufd is the /dev/iommu the trace opened
      '100 ioctl(5</dev/vfio/devices/vfio0>, VFIO_DEVICE_BIND_IOMMUFD, 0x7ffd0) = 0',
      '100 close(100</dev/iommu>) = 0',
    ]);
    expect(lines).toEqual(['iommufd-open => ret=5', 'cdev-open vfio=0 => ret=5', 'ioctl bind-iommufd iommufd=5 flags=0x0 argsz=16 => ret=0']);
  });

  it("fds inside captured structs (a BIND's iommufd, SET_IRQS' eventfds) are named by their files' first numbers", () => {
    // The tracer's ioctl-args records: 16 u64 words at the argument address.
    const words = (...w: string[]) => [...w, ...Array.from({ length: 16 - w.length }, () => '0x0')].map((x, i) => `a${i}=${x}`).join(' ');
    const rec = (ts: string, fd: number, cmd: string, arg: string, ...w: string[]) =>
      `             vmm-100   [000] ...2.     ${ts}: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=${fd} cmd=${cmd} arg=${arg} ${words(...w)}`;
    const { lines } = imp(
      [
        '100 openat(AT_FDCWD</>, "/dev/vfio/devices/vfio0", O_RDWR) = 7</dev/vfio/devices/vfio0>',
        '100 openat(AT_FDCWD</>, "/dev/iommu", O_RDWR) = 8</dev/iommu>',
        '100 dup2(8</dev/iommu>, 100) = 100</dev/iommu>',
        '100 close(8</dev/iommu>) = 0',
        '100 ioctl(7</dev/vfio/devices/vfio0>, VFIO_DEVICE_BIND_IOMMUFD, 0x7ffd00001000) = 0',
        // an eventfd made by an untraced eventfd2(), moved to 30
        '100 dup2(5<anon_inode:[eventfd]>, 30) = 30<anon_inode:[eventfd]>',
        '100 ioctl(7</dev/vfio/devices/vfio0>, VFIO_DEVICE_SET_IRQS, 0x7ffd00002000) = 0',
      ],
      [
        // BIND { argsz 16, flags 0, iommufd 100 }
        rec('1.000001', 7, '0x3b76', '0x7ffd00001000', '0x10', '0x64'),
        // SET_IRQS { argsz 28, DATA_EVENTFD|ACTION_TRIGGER, MSI-X, start 0, count 2, fds 30, -1 }
        rec('1.000002', 7, '0x3b6e', '0x7ffd00002000', '0x240000001c', '0x2', '0x1e00000002', '0xffffffff'),
      ],
    );
    expect(lines).toEqual([
      'cdev-open vfio=0 => ret=7',
      'iommufd-open => ret=8',
      'ioctl bind-iommufd iommufd=8 flags=0x0 argsz=16 => ret=0',
      'ioctl set-irqs flags=0x24 index=2 start=0 count=2 argsz=28 fds=5,-1 => ret=0',
    ]);
  });

  it('execve: close-on-exec numbers go; a child that keeps a group number (dup2 clears the flag) lives on', () => {
    const { lines } = imp([
      '100 openat(AT_FDCWD</>, "/dev/vfio/12", O_RDWR|O_CLOEXEC) = 6</dev/vfio/12>',
      '100 ioctl(6</dev/vfio/12>, VFIO_GROUP_GET_DEVICE_FD, "0000:01:00.0") = 7<anon_inode:[vfio-device]>',
      '100 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_SHARED, 7<anon_inode:[vfio-device]>, 0) = 0x7f0000000000',
      '100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD) = 200',
      '200 dup2(6</dev/vfio/12>, 3) = 3</dev/vfio/12>',
      '200 execve("/usr/bin/helper", ["helper"], 0x7ffd /* 1 var */) = 0',
      '200 ioctl(3</dev/vfio/12>, VFIO_GROUP_GET_STATUS, 0x7ffd0) = 0',
      '200 close(3</dev/vfio/12>) = 0',
      '100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD) = 300',
      '300 execve("/usr/bin/other", ["other"], 0x7ffd /* 1 var */) = 0',
    ]);
    expect(lines).toEqual([
      'vfio-open group=12 fd=6 => ret=6',
      'ioctl get-device-fd fd=6 name=0000:01:00.0 => ret=7',
      'mmap bar0+0x0 len=0x1000 prot=0x3 addr=ADDR => ret=ADDR',
      'fork child=200',
      // the exec'd helper lost the device fd (close-on-exec) and the mapping, kept the group
      'pid=200 close',
      'pid=200 munmap addr=ADDR len=0x1000',
      'pid=200 ioctl group-op fd=6 get-status => ret=0',
      'pid=200 vfio-close fd=6 => ret=0',
      'fork child=300',
      'pid=300 process-exit',
    ]);
  });
});
