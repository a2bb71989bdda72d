// sysfs operations in an strace log (src/import/sysfs-ops.ts): openat + write/read of the traced
// device's sysfs files and of the PCI bus files become `sysfs` events.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SysfsFiles, sysfsPath } from '../../src/import/sysfs-ops.js';
import { importTrace } from '../../src/import/importer.js';
import { printText } from '../../src/trace/text-print.js';
import { makeFakeSysfs } from './helpers.js';

const BDF = '0000:01:00.0';

describe('sysfs paths', () => {
  it('device files by the bus path or the devices path; bus files; others are not ours', () => {
    expect(sysfsPath(`/sys/bus/pci/devices/${BDF}/reset`, BDF)).toBe('reset');
    expect(sysfsPath(`/sys/devices/pci0000:00/0000:00:1c.0/${BDF}/power/control`, BDF)).toBe('power/control');
    expect(sysfsPath('/sys/bus/pci/drivers/vfio-pci/unbind', BDF)).toBe('/sys/bus/pci/drivers/vfio-pci/unbind');
    expect(sysfsPath('/sys/bus/pci/rescan', BDF)).toBe('/sys/bus/pci/rescan');
    // A PF's `echo 2 > sriov_numvfs`: the one form of that write (Packet 52 is no longer written).
    expect(sysfsPath(`/sys/bus/pci/devices/${BDF}/sriov_numvfs`, BDF)).toBe('sriov_numvfs');
    expect(sysfsPath(`/sys/bus/pci/devices/0000:02:00.0/reset`, BDF)).toBeNull();
    expect(sysfsPath(`/sys/bus/pci/devices/${BDF}/config`, BDF)).toBeNull();
    expect(sysfsPath(`/tmp/${BDF}/reset`, BDF)).toBeNull();
  });
  it('only the first read of an open file is its content; a write keeps its text without the newline', () => {
    const s = new SysfsFiles(BDF);
    expect(s.opened(3, `/sys/bus/pci/devices/${BDF}/power_state`)).toBe(true);
    const enc = (t: string) => new TextEncoder().encode(t);
    expect(s.io(false, 3, null, enc('D3hot\n'), { ret: 6n })).toEqual({ body: { kind: 'sysfs', path: 'power_state' }, observed: { ret: 6n, text: 'D3hot' } });
    expect(s.io(false, 3, null, enc(''), { ret: 0n })).toBeNull();
    s.closed(3);
    expect(s.io(true, 3, null, enc('1\n'), { ret: 2n })).toBeNull();
    // A shell's `echo 1 > reset` writes on its stdout: the -y path names the file.
    expect(s.io(true, 1, `/sys/devices/pci0000:00/${BDF}/reset`, enc('1\n'), { ret: 2n })).toEqual({ body: { kind: 'sysfs', path: 'reset', write: '1' }, observed: { ret: 2n } });
  });
});

describe('import', () => {
  it('an strace log of a management script becomes sysfs events with their results', () => {
    const root = makeFakeSysfs({ bdf: BDF });
    const dir = mkdtempSync(join(tmpdir(), 'sysfs-ops-'));
    const log = join(dir, 'strace.log');
    writeFileSync(
      log,
      [
        `100 openat(AT_FDCWD, "/sys/bus/pci/devices/${BDF}/power_state", O_RDONLY) = 3`,
        `100 read(3, "D3hot\\n", 4096) = 6`,
        `100 read(3, "", 4096) = 0`,
        `100 close(3) = 0`,
        `100 openat(AT_FDCWD, "/sys/bus/pci/devices/${BDF}/reset", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3`,
        `100 write(3, "1\\n", 2) = 2`,
        `100 close(3) = 0`,
        `100 openat(AT_FDCWD, "/sys/bus/pci/devices/${BDF}/power/control", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 4`,
        `100 write(4, "sometimes\\n", 10) = -1 EINVAL (Invalid argument)`,
        `100 openat(AT_FDCWD, "/sys/bus/pci/drivers/vfio-pci/unbind", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 5`,
        `100 write(5, "${BDF}\\n", 13) = 13`,
        `100 write(7, "not sysfs\\n", 10) = 10`,
        '',
      ].join('\n'),
    );
    const r = importTrace({ strace: log, sysfs: join(root, 'bus/pci/devices', BDF), kernelRelease: '6.12.0', allowEmpty: true, tracerVersion: 't' });
    const lines = printText(r.trace).split('\n').filter((l) => l.includes('sysfs '));
    expect(lines.map((l) => l.replace(/^\d+ (t=\d+ )?(tid=\d+ )?/, ''))).toEqual([
      'sysfs power_state => ret=6 text=D3hot',
      'sysfs reset write=1 => ret=2',
      'sysfs power/control write=sometimes => errno=EINVAL',
      `sysfs /sys/bus/pci/drivers/vfio-pci/unbind write=${BDF} => ret=13`,
    ]);
  });
});
