// The inputs a bug report attaches without the tracer (issue 20): content detection, lspci and
// libvirt-log readers, strace without the group's openat (attach), a failed GET_DEVICE_FD, -ff per-pid
// files, and the refusal of an import without device events.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { detectKind } from '../../src/import/detect.js';
import { importTrace } from '../../src/import/importer.js';
import { readVmmLog } from '../../src/import/libvirt-log.js';
import { fileLines } from '../../src/import/lines.js';
import { readLspci, resetMethodsFromConfig } from '../../src/import/lspci.js';
import { describeEvent, describeObserved } from '../../src/trace/text-print.js';
import type { HostEvent, Trace, TraceEvent } from '../../src/trace/types.js';
import { VfioPciKernelModel } from '../../src/model/kernel/index.js';
import { compareObserved } from '../../src/replay/compare.js';
import { repo } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'plain-inputs-'));
let n = 0;
function file(text: string, name = `in-${n++}`): string {
  const f = join(dir, name);
  writeFileSync(f, text, 'latin1');
  return f;
}
const lines = (t: Trace) => t.events.map((e) => `${describeEvent(e)}${describeObserved(e.observed) ? ` => ${describeObserved(e.observed)}` : ''}`);

const plain72 = join(repo, 'traces/qemu-plain/7.2/d3hot-read');

describe('input detection by content', () => {
  it('tells each file of a plain lab capture apart, whatever its name', () => {
    expect(detectKind(join(plain72, 'qemu.strace'))).toBe('strace');
    expect(detectKind(join(plain72, 'qemu-trace.log'))).toBe('qemu-trace');
    expect(detectKind(join(plain72, 'libvirt.log'))).toBe('vmm-log');
    expect(detectKind(join(plain72, 'lspci.txt'))).toBe('lspci');
    expect(detectKind(join(repo, 'traces/qemu/7.2/d3hot-read'))).toBe('tracer-dir');
    expect(detectKind(join(repo, 'traces/qemu/7.2/d3hot-read/ioctl-args'))).toBe('ioctl-args');
    expect(detectKind(file('[    1.000000] Linux version 6.1.0-57-amd64 (debian-kernel@lists.debian.org)\n[    2.5] vfio-pci 0000:00:03.0: enabling device (0000 -> 0002)\n'))).toBe('kernel-log');
    expect(detectKind(file(''))).toBe('empty');
    expect(() => detectKind(file('hello\nworld\n'))).toThrow(/cannot tell what this file is/);
  });
});

describe('lspci -vvv -xxxx as the device snapshot', () => {
  it('reads BDF, BARs, IOMMU group, driver and the config dump of the lab e1000e', () => {
    const [d] = readLspci(readFileSyncLatin1(join(plain72, 'lspci.txt')), 'lspci.txt');
    expect(d!.device.bdf).toBe('0000:00:03.0');
    expect([d!.device.vendorId, d!.device.deviceId]).toEqual([0x8086, 0x10d3]);
    expect(d!.device.bars.map((b) => `${b.index}:${b.kind}:${b.size}`)).toEqual(['0:mem:131072', '1:mem:131072', '2:io:32', '3:mem:16384']);
    expect(d!.device.iommuGroup).toBe(2);
    expect(d!.driver).toBe('vfio-pci');
    expect(d!.device.config.length).toBe(4096);
    // The tracer's sysfs snapshot of the same device says reset_method = pm.
    expect(d!.device.resetMethods).toEqual(['pm']);
  });
  it('reset methods from capabilities: FLR from DevCap, pm only without NoSoftRst', () => {
    const c = new Uint8Array(256);
    c[0x06] = 0x10;
    c[0x34] = 0x40;
    c.set([0x01, 0x50, 0x03, 0x00, 0x08, 0x00], 0x40); // PM, PMCSR NoSoftRst+
    c.set([0x10, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x10], 0x50); // PCIe, DevCap bit 28 (FLR)
    expect(resetMethodsFromConfig(c)).toEqual(['flr']);
    c[0x44] = 0;
    expect(resetMethodsFromConfig(c)).toEqual(['flr', 'pm']);
  });
});

function readFileSyncLatin1(p: string): string {
  return [...fileLines(p, 'x').lines()].join('\n');
}

describe('libvirt domain log', () => {
  it('gives the QEMU version, kernel, command line and a KVM_RUN failure', () => {
    const f = file(
      [
        '2024-01-15 09:12:33.456+0000: starting up libvirt version: 9.0.0, package: 9.0.0-4 (Debian), qemu version: 7.2.7Debian 1:7.2+dfsg-7+deb12u3, kernel: 6.1.0-17-amd64, hostname: h',
        'LC_ALL=C \\',
        'PATH=/usr/bin \\',
        '/usr/bin/qemu-system-x86_64 \\',
        '-name guest=vm,debug-threads=on \\',
        "-device '{\"driver\":\"vfio-pci\",\"host\":\"0000:01:00.0\",\"id\":\"hostdev0\",\"x-no-mmap\":true}' \\",
        '-msg timestamp=on',
        '2024-01-15T09:12:40.000000Z qemu-system-x86_64: vfio: Cannot reset device 0000:01:00.0, no available reset mechanism.',
        'error: kvm run failed Bad address',
        'RAX=0000000000000000 RBX=0000000000000000 RCX=0000000000000000 RDX=0000000000000000',
        '2024-01-15 09:12:41.000+0000: shutting down, reason=crashed',
        '',
      ].join('\n'),
    );
    const v = readVmmLog(fileLines(f, 'log'));
    expect(v.qemuVersion).toBe('7.2.7');
    expect(v.kernelRelease).toBe('6.1.0-17-amd64');
    expect(v.cmdline).toContain('"x-no-mmap":true');
    expect(v.kvmRunFailed?.errno).toBe('EFAULT');
    expect(v.shutdownReason).toBe('crashed');
    expect(v.messages).toHaveLength(1);
    expect(v.registerDumpLines).toBe(1);
  });
});

const SETUP_NO_OPENAT = ['100 10:00:00.000001 ioctl(8, VFIO_GROUP_GET_DEVICE_FD, 0x55d160cb20ea) = 9', '100 10:00:00.000002 pread64(9, "\\x86\\x80\\xd3\\x10", 4, 0x70000000000) = 4'];

describe('strace without the tracer', () => {
  it('attach to a running VMM: GET_DEVICE_FD on an fd never opened in the log names the device fd', () => {
    const { trace, report } = importTrace({ strace: file(SETUP_NO_OPENAT.join('\n') + '\n'), tracerVersion: 't' });
    expect(lines(trace)).toEqual(['ioctl get-device-fd fd=8 name=- => ret=9', 'cfg-read 0x00 len=4 => ret=4 data=8680d310']);
    expect(report.strace?.stats.attachedGroups).toBe(1);
    // A group fd the log never showed opened has an implicit set-up: the GET_DEVICE_FD opens the device.
    const k = new VfioPciKernelModel(trace.header.device, 'linux-6.12');
    expect(k.host(trace.events[0]! as TraceEvent & HostEvent, trace.events[0]!).outcome.kind).toBe('ok');
    expect(k.view.isOpen).toBe(true);
  });
  it('a failed GET_DEVICE_FD is no open: the set-up events with its errno, predicted by the model, and the device stays closed', () => {
    const log = [
      '100 10:00:00.000001 openat(AT_FDCWD, "/dev/vfio/5", O_RDWR) = 8',
      '100 10:00:00.000002 ioctl(8, VFIO_GROUP_GET_DEVICE_FD, 0x55d160cb20ea) = -1 EINVAL (Invalid argument)',
      '100 10:00:00.000003 openat(AT_FDCWD, "/dev/vfio/vfio", O_RDWR) = 7',
      '100 10:00:00.000004 ioctl(8, VFIO_GROUP_SET_CONTAINER, 0x7ffc) = 0',
      '100 10:00:00.000005 ioctl(7, VFIO_SET_IOMMU, 0x3) = 0',
      '100 10:00:00.000006 ioctl(8, VFIO_GROUP_GET_DEVICE_FD, 0x55d160cb20ea) = 9',
      '',
    ].join('\n');
    const { trace, report } = importTrace({ strace: file(log), tracerVersion: 't' });
    expect(lines(trace)).toEqual([
      'vfio-open group=5 fd=8 => ret=8',
      'ioctl get-device-fd fd=8 name=- => errno=EINVAL',
      'vfio-open container fd=7 => ret=7',
      'ioctl group-op fd=8 set-container container=7 => ret=0',
      'ioctl container-op fd=7 set-iommu arg=3 => ret=0',
      'ioctl get-device-fd fd=8 name=- => ret=9',
    ]);
    expect(report.strace?.stats.failedDeviceOpens).toBe(1);
    // Replayed: the failure is the model's own prediction (no container yet), the retry opens once.
    const k = new VfioPciKernelModel(trace.header.device, 'linux-6.12');
    const outcomes = trace.events.map((e) => k.host(e as TraceEvent & HostEvent, e));
    expect(outcomes.map((s) => compareObserved(s.outcome, trace.events[outcomes.indexOf(s)]!.observed, trace.events[outcomes.indexOf(s)]!))).toEqual(Array(6).fill(null));
    expect(outcomes[1]!.rule).toBe('group.get-device-fd.no-iommu');
    expect(outcomes.map((s) => s.outcome.kind)).toEqual(['ok', 'errno', 'ok', 'ok', 'ok', 'ok']);
  });
  it('fork: a clone without CLONE_VM/CLONE_THREAD is a fork event, the child\'s calls carry its pid, its exit is process-exit; a thread stays the VMM\'s', () => {
    const log = [
      '100 10:00:00.000001 openat(AT_FDCWD, "/dev/vfio/5", O_RDWR) = 8',
      '100 10:00:00.000002 ioctl(8, VFIO_GROUP_GET_DEVICE_FD, 0x55d160cb20ea) = 9',
      '100 10:00:00.000003 clone(child_stack=0x7f0000001000, flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, parent_tid=[101]) = 101',
      '101 10:00:00.000004 pread64(9, "\\x86\\x80", 2, 0x70000000000) = 2',
      '100 10:00:00.000005 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>',
      // strace -f shows the child's first call before the parent's clone returns
      '200 10:00:00.000006 pread64(9, "\\x86\\x80", 2, 0x70000000000) = 2',
      '100 10:00:00.000007 <... clone resumed>, child_tidptr=0x7f0000003000) = 200',
      '200 10:00:00.000008 +++ exited with 0 +++',
      '100 10:00:00.000009 vfork() = 300',
      '300 10:00:00.000010 execve("/bin/true", ["true"], 0x7ffc /* 3 vars */) = 0',
      '100 10:00:00.000011 close(9) = 0',
      '',
    ].join('\n');
    const { trace } = importTrace({ strace: file(log), tracerVersion: 't', allowEmpty: true });
    expect(trace.events.map((e) => `${e.tid}${e.pid ? ` pid=${e.pid}` : ''} ${describeEvent(e)}`)).toEqual([
      '100 vfio-open group=5 fd=8',
      '100 ioctl get-device-fd fd=8 name=-',
      '101 cfg-read 0x00 len=2',
      '100 fork child=200',
      '200 pid=200 cfg-read 0x00 len=2',
      '200 pid=200 process-exit',
      '100 close',
    ]);
    // The model runs it: the child reads through the inherited fd, its exit leaves the device open.
    const k = new VfioPciKernelModel(trace.header.device, 'linux-6.12');
    expect(trace.events.map((e) => k.host(e as TraceEvent & HostEvent, e).rule)).toContain('proc.exit');
  });
  it('a VF token stays in the GET_DEVICE_FD name (the model\'s token check reads it there); refused opens stay get-device-fd events with their errno', () => {
    const log = [
      '100 10:00:00.000001 openat(AT_FDCWD, "/dev/vfio/5", O_RDWR) = 8',
      '100 10:00:00.000002 ioctl(8, VFIO_GROUP_GET_DEVICE_FD, "0000:01:10.0") = -1 EACCES (Permission denied)',
      '100 10:00:00.000003 ioctl(8, VFIO_GROUP_GET_DEVICE_FD, "0000:01:10.0 vf_token=2B9E2D50-52A5-4A53-8A8A-3F29B0C1A001") = -1 EACCES (Permission denied)',
      '100 10:00:00.000004 ioctl(8, VFIO_GROUP_GET_DEVICE_FD, "0000:01:10.0 vf_token=00000000-0000-0000-0000-000000000000") = 9',
      '',
    ].join('\n');
    const { trace, report } = importTrace({ strace: file(log), tracerVersion: 't' });
    expect(lines(trace)).toEqual([
      'vfio-open group=5 fd=8 => ret=8',
      'ioctl get-device-fd fd=8 name=0000:01:10.0 => errno=EACCES',
      'ioctl get-device-fd fd=8 name="0000:01:10.0 vf_token=2B9E2D50-52A5-4A53-8A8A-3F29B0C1A001" => errno=EACCES',
      'ioctl get-device-fd fd=8 name="0000:01:10.0 vf_token=00000000-0000-0000-0000-000000000000" => ret=9',
    ]);
    expect(report.strace?.stats.failedDeviceOpens).toBe(2);
  });
  it('-ff per-pid files: the pid comes from the file name, calls are put in time order', () => {
    const d = mkdtempSync(join(tmpdir(), 'ff-'));
    writeFileSync(join(d, 'q.200'), '10:00:00.000001 openat(AT_FDCWD, "/dev/vfio/5", O_RDWR) = 8\n10:00:00.000003 ioctl(8, VFIO_GROUP_GET_DEVICE_FD, 0x1) = 9\n');
    writeFileSync(join(d, 'q.201'), '10:00:00.000005 pread64(9, "\\x86\\x80", 2, 0x70000000000) = 2\n10:00:00.000002 close(3) = 0\n');
    const { trace } = importTrace({ files: [join(d, 'q.201'), join(d, 'q.200')], tracerVersion: 't' });
    expect(trace.events.map((e) => `${e.tid} ${e.kind === 'ioctl' ? e.op : e.kind}`)).toEqual(['200 vfio-open', '200 get-device-fd', '201 cfg-read']);
  });
  it('no silent zero: a capture without device events says what it looked for and exits 2 unless allowed', () => {
    const f = file('100 10:00:00.000001 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3\n');
    const err = (() => {
      try {
        importTrace({ strace: f, tracerVersion: 't' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/no device events: looked for VFIO_GROUP_GET_DEVICE_FD .*; found .*1 lines.*--allow-empty/);
    expect(importTrace({ strace: f, tracerVersion: 't', allowEmpty: true }).trace.events).toEqual([]);
  });
});
