// The strace capture normalization: the runner's low-power settling calls and glibc's startup
// getrandom bytes vary from run to run and are not device operations. Lines are real capture
// lines from traces/lab/6.1/low-power.strace (paths hex-escaped by strace -xx).
import { describe, expect, test } from 'vitest';
import { normalizeStrace } from '../../src/lab/strace-normalize.js';

const hex = (s: string): string => Array.from(Buffer.from(s), (b) => '\\x' + b.toString(16).padStart(2, '0')).join('');
const RT = hex('/sys/devices/pci0000:00/0000:00:03.0/power/runtime_status');
const DEV = hex('anon_inode:[vfio-device]');
const EVT = hex('anon_inode:[eventfd]');

describe('normalizeStrace', () => {
  test('drops the settle polling: runtime_status preads, wakeup eventfd reads, sleeps', () => {
    const text = [
      `10003 02:50:52.700000 openat(AT_FDCWD<\\x2f>, "${RT}", O_RDONLY|O_CLOEXEC) = 3<${RT}>`,
      `10003 02:50:52.800000 ioctl(7<${DEV}>, VFIO_DEVICE_FEATURE or VFIO_IOMMU_DIRTY_PAGES or VFIO_IOMMU_SPAPR_REGISTER_MEMORY, 0x8d8340) = 0`,
      `10003 02:50:52.800100 read(8<${EVT}>, 0x7fffffffea50, 8) = -1 EAGAIN (Resource temporarily unavailable)`,
      `10003 02:50:52.800200 pread64(3<${RT}>, "\\x61\\x63\\x74\\x69\\x76\\x65\\x0a", 31, 0) = 7`,
      `10003 02:50:52.800300 clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=0, tv_nsec=5000000}, NULL) = 0`,
      `10003 02:50:52.900000 pread64(7<${DEV}>, "\\x83\\x02\\x08\\x00", 4, 8) = 4`,
      '',
    ].join('\n');
    const out = normalizeStrace(text).split('\n');
    expect(out).toHaveLength(4);
    expect(out[0]).toContain('openat(');
    expect(out[1]).toContain('VFIO_DEVICE_FEATURE');
    expect(out[2]).toContain(`pread64(7<${DEV}>`);
    expect(out[3]).toBe('');
  });

  test('zeroes the getrandom bytes and keeps their count', () => {
    const line = '10003 02:50:52.693587 getrandom("\\x73\\xe9\\xb1\\x3a\\x12\\x96\\xfd\\xc7", 8, GRND_NONBLOCK) = 8';
    expect(normalizeStrace(line)).toBe('10003 02:50:52.693587 getrandom("' + '\\x00'.repeat(8) + '", 8, GRND_NONBLOCK) = 8');
  });

  test('leaves device reads and other fds alone', () => {
    const line = `10003 02:50:52.900000 read(4<${hex('/lab/scen/low-power.ops')}>, "\\x30", 4096) = 1`;
    expect(normalizeStrace(line)).toBe(line);
  });
});
