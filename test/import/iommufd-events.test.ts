// The iommufd / vfio-cdev decoders (src/import/iommufd-events.ts): struct layouts from uapi
// iommufd.h and vfio.h, and a strace log with the tracer's ioctl-args capture imported end to end.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cdevIoctl, iommufdIoctl, openEvent } from '../../src/import/iommufd-events.js';
import { importTrace } from '../../src/import/importer.js';
import { eventLines } from './helpers.js';

/** Little-endian struct bytes from (size, value) fields. */
function struct(...fields: [4 | 8, number | bigint][]): Uint8Array {
  const out = new Uint8Array(fields.reduce((n, [s]) => n + s, 0));
  const dv = new DataView(out.buffer);
  let at = 0;
  for (const [s, v] of fields) {
    if (s === 4) dv.setUint32(at, Number(v) >>> 0, true);
    else dv.setBigUint64(at, BigInt(v), true);
    at += s;
  }
  return out;
}

describe('iommufd-events decoders', () => {
  it('open of /dev/iommu and of the device cdev', () => {
    expect(openEvent('/dev/iommu', 'iommufd', false)).toEqual({ kind: 'iommufd-open' });
    expect(openEvent('/dev/vfio/devices/vfio3', 'device', true)).toEqual({ kind: 'cdev-open', index: 3 });
    expect(openEvent('/dev/vfio/devices/vfio3', 'device', false)).toBeNull(); // another device
    expect(openEvent('/dev/vfio/vfio', 'container', false)).toBeNull();
  });
  it('the cdev ioctls', () => {
    expect(cdevIoctl(0x3b76, struct([4, 16], [4, 0], [4, 5], [4, 0]), -1)).toEqual({ kind: 'ioctl', op: 'bind-iommufd', argsz: 16, flags: 0, iommufd: 5, vfToken: '' });
    expect(cdevIoctl(0x3b76, null, 9)).toEqual({ kind: 'ioctl', op: 'bind-iommufd', argsz: 16, flags: 0, iommufd: 9, vfToken: '' });
    expect(cdevIoctl(0x3b77, struct([4, 12], [4, 0], [4, 2]), -1)).toEqual({ kind: 'ioctl', op: 'attach-iommufd-pt', argsz: 12, flags: 0, ptId: 2 });
    expect(cdevIoctl(0x3b77, null, -1)).toBeNull(); // no struct: stays raw
    expect(cdevIoctl(0x3b78, struct([4, 8], [4, 0]), -1)).toEqual({ kind: 'ioctl', op: 'detach-iommufd-pt', argsz: 8, flags: 0 });
  });
  it('the /dev/iommu ioctls', () => {
    expect(iommufdIoctl(0x3b81, struct([4, 12], [4, 0], [4, 0]))).toEqual({ kind: 'iommufd', op: 'ioas-alloc', flags: 0 });
    expect(iommufdIoctl(0x3b85, struct([4, 40], [4, 7], [4, 2], [4, 0], [8, 0x7f0000000000n], [8, 0x20000n], [8, 0xfebc0000n]))).toEqual({
      kind: 'iommufd',
      op: 'ioas-map',
      flags: 7,
      ioasId: 2,
      userVa: 0x7f0000000000n,
      length: 0x20000n,
      iova: 0xfebc0000n,
    });
    expect(iommufdIoctl(0x3b8f, struct([4, 40], [4, 6], [4, 2], [4, 11], [8, 0x1000n], [8, 0x2000n], [8, 0n]))).toMatchObject({ op: 'ioas-map-file', fd: 11, start: 0x1000n });
    expect(iommufdIoctl(0x3b86, struct([4, 24], [4, 2], [8, 0xfebc0000n], [8, 0x20000n]))).toEqual({ kind: 'iommufd', op: 'ioas-unmap', ioasId: 2, iova: 0xfebc0000n, length: 0x20000n });
    expect(iommufdIoctl(0x3b84, struct([4, 32], [4, 2], [4, 1], [4, 0], [8, 0n], [8, 0n]))).toEqual({ kind: 'iommufd', op: 'ioas-iova-ranges', ioasId: 2, numIovas: 1 });
    expect(iommufdIoctl(0x3b89, struct([4, 40], [4, 0], [4, 1], [4, 2]))).toEqual({ kind: 'iommufd', op: 'hwpt-alloc', flags: 0, devId: 1, ptId: 2 });
    expect(iommufdIoctl(0x3b80, struct([4, 8], [4, 4]))).toEqual({ kind: 'iommufd', op: 'destroy', id: 4 });
    expect(iommufdIoctl(0x3b85, struct([4, 40], [4, 7]))).toBeNull(); // too short: not guessed
    expect(iommufdIoctl(0x3b87, struct([4, 24], [4, 0]))).toBeNull(); // IOMMU_OPTION: not an event
  });
});

describe('a strace log of the cdev path with the ioctl-args capture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iommufd-import-'));
  // Written as tracer/vfio-trace leaves it: strace -f -tt -y and the eprobe's ioctl-args lines
  // (fd cmd arg + 8-byte words of the struct at the argument address).
  const strace = [
    '100 10:00:00.000001 openat(AT_FDCWD, "/dev/vfio/devices/vfio0", O_RDWR) = 7</dev/vfio/devices/vfio0>',
    '100 10:00:00.000002 openat(AT_FDCWD, "/dev/iommu", O_RDWR) = 8</dev/iommu>',
    '100 10:00:00.000003 ioctl(7</dev/vfio/devices/vfio0>, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, 0x7ffd00001000) = 0',
    '100 10:00:00.000004 ioctl(8</dev/iommu>, _IOC(_IOC_NONE, 0x3b, 0x81, 0), 0x7ffd00002000) = 0',
    '100 10:00:00.000005 ioctl(7</dev/vfio/devices/vfio0>, VFIO_IOMMU_SPAPR_TCE_CREATE, 0x7ffd00003000) = 0',
    '100 10:00:00.000006 ioctl(8</dev/iommu>, _IOC(_IOC_NONE, 0x3b, 0x85, 0), 0x7ffd00004000) = -1 EFAULT (Bad address)',
    '100 10:00:00.000007 close(7</dev/vfio/devices/vfio0>) = 0',
  ].join('\n');
  it('imports every call as its event (structs the capture lacks stay what strace shows)', () => {
    const f = join(dir, 'cdev.strace');
    writeFileSync(f, strace + '\n');
    const lines = eventLines(importTrace({ strace: f, tracerVersion: 't' }).trace);
    expect(lines).toEqual([
      'cdev-open vfio=0 => ret=7',
      'iommufd-open => ret=8',
      'ioctl bind-iommufd iommufd=8 flags=0x0 argsz=16 => ret=0',
      // no capture: ATTACH stays raw, the /dev/iommu calls are counted as set-up
      'ioctl raw fd=device req=0x3b77 name=VFIO_DEVICE_ATTACH_IOMMUFD_PT arg=- => ret=0',
      'close => ret=0',
    ]);
  });
  it('with the capture: BIND, ATTACH and the /dev/iommu calls carry their structs', () => {
    const f = join(dir, 'cdev2.strace');
    const a = join(dir, 'ioctl-args');
    writeFileSync(f, strace + '\n');
    const words = (...w: string[]) => [...w, ...Array.from({ length: 16 - w.length }, () => '0x0')].map((x, i) => `a${i}=${x}`).join(' ');
    const rec = (ts: string, fd: number, cmd: string, arg: string, ...w: string[]) =>
      `             vmm-100   [000] ...2.     ${ts}: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=${fd} cmd=${cmd} arg=${arg} ${words(...w)}`;
    writeFileSync(
      a,
      [
        rec('1.000003', 7, '0x3b76', '0x7ffd00001000', '0x10', '0x8'),
        rec('1.000004', 8, '0x3b81', '0x7ffd00002000', '0xc'),
        rec('1.000005', 7, '0x3b77', '0x7ffd00003000', '0xc', '0x2'),
        rec('1.000006', 8, '0x3b85', '0x7ffd00004000', '0x700000028', '0x2', '0x7f0000000000', '0x20000', '0xfebc0000'),
      ].join('\n') + '\n',
    );
    const lines = eventLines(importTrace({ strace: f, ioctlArgs: a, tracerVersion: 't' }).trace);
    expect(lines).toEqual([
      'cdev-open vfio=0 => ret=7',
      'iommufd-open => ret=8',
      'ioctl bind-iommufd iommufd=8 flags=0x0 argsz=16 => ret=0',
      'iommufd ioas-alloc flags=0x0 => ret=0',
      'ioctl attach-iommufd-pt pt=2 flags=0x0 argsz=12 => ret=0',
      'iommufd ioas-map ioas=2 flags=0x7 va=ADDR len=0x20000 iova=0xfebc0000 => errno=EFAULT',
      'close => ret=0',
    ]);
  });
});
