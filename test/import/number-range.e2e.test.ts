// Issue #19 defects #3 and #4 through the built CLI: a signal line with a malformed si_addr, and
// numbers that do not fit the trace field they go to, are one located line and exit 2 (never the
// encoder's RangeError with exit 70).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from './helpers.js';

const cli = join(repo, 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'import-range-'));

/** A device set up without -y: the group's openat, GET_DEVICE_FD returning fd 9. */
const SETUP = [
  '1 openat(AT_FDCWD, "/dev/vfio/vfio", O_RDWR) = 7',
  '1 openat(AT_FDCWD, "/dev/vfio/5", O_RDWR) = 8',
  '1 ioctl(8, VFIO_GROUP_GET_DEVICE_FD, 0x55d160cb20ea) = 9',
];

function importLines(kind: 'strace' | 'qemu-log', lines: string[], name: string): { status: number | null; stderr: string; out: string } {
  const file = join(dir, `${name}.${kind === 'strace' ? 'strace' : 'log'}`);
  writeFileSync(file, lines.join('\n') + '\n');
  const out = join(dir, `${name}.pb`);
  const r = spawnSync(process.execPath, [cli, 'import', `--${kind}`, file, '-o', out], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr, out };
}

const cases: { name: string; kind: 'strace' | 'qemu-log'; lines: string[]; line: number; says: RegExp }[] = [
  { name: 'signal-bad-addr', kind: 'strace', lines: [...SETUP, '1 --- SIGBUS {si_signo=SIGBUS, si_addr=[0x1} ---'], line: 4, says: /missing '\]'|unbalanced/ },
  { name: 'pid-2^32', kind: 'strace', lines: ['4294967296 openat(AT_FDCWD, "/dev/vfio/5", O_RDWR) = 8'], line: 1, says: /pid 4294967296 is out of range/ },
  { name: 'ret-2^63', kind: 'strace', lines: [...SETUP, '1 pread64(9, "\\0\\0\\0\\0", 4, 0x70000000000) = 9223372036854775808'], line: 4, says: /result 9223372036854775808 is out of range/ },
  { name: 'len-minus-1', kind: 'strace', lines: [...SETUP, '1 pread64(9, "\\0\\0\\0\\0", -1, 0x70000000000) = 4'], line: 4, says: /byte count -1 is out of range/ },
  { name: 'mmap-negative-length', kind: 'strace', lines: [...SETUP, '1 mmap(NULL, -4096, PROT_READ, MAP_SHARED, 9, 0) = 0x7f0000000000'], line: 4, says: /mapping length -4096 is out of range/ },
  { name: 'huge-offset', kind: 'strace', lines: [...SETUP, '1 pread64(9, "\\0\\0\\0\\0", 4, 0x1000000000000000000) = 4'], line: 4, says: /file offset \d+ is out of range/ },
  {
    name: 'memslot-gpa-minus-1',
    kind: 'strace',
    lines: [
      '1 openat(AT_FDCWD, "/dev/kvm", O_RDWR|O_CLOEXEC) = 10',
      '1 ioctl(10, KVM_CREATE_VM, 0) = 11',
      '1 ioctl(11, KVM_SET_USER_MEMORY_REGION, {slot=0, flags=0, guest_phys_addr=-1, memory_size=4096, userspace_addr=0x7f0000000000}) = 0',
    ],
    line: 3,
    says: /guest_phys_addr -1 is out of range/,
  },
  { name: 'qemu-cfg-offset', kind: 'qemu-log', lines: ['vfio_pci_read_config  (0000:01:00.0, @0x100000000, len=0x4) 0x0'], line: 1, says: /config offset 4294967296 is out of range/ },
  { name: 'qemu-tid', kind: 'qemu-log', lines: ['4294967296@1700000000.000001:vfio_pci_read_config  (0000:01:00.0, @0x0, len=0x4) 0x0'], line: 1, says: /thread id 4294967296 is out of range/ },
];

describe('import: malformed numbers are located errors (issue #19 #3, #4)', { timeout: 60_000 }, () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = importLines(c.kind, c.lines, c.name);
      expect(r.stderr).not.toMatch(/RangeError|at .*\.js:\d+/);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`\\.(strace|log):${c.line}(:\\d+)?: `));
      expect(r.stderr).toMatch(c.says);
      expect(existsSync(r.out)).toBe(false);
    });
  }
});
