// The tracer's `ioctl-args` file (ftrace text of its `vfio_ioctl` dynamic event) and the pairing of
// its records with strace's ioctl calls. The lines below are copied from the lab's real captures
// (lab/work/out/6.1/*.ioctl-args and traces/lab/6.1/*.ioctl-args, Linux 6.1, eprobe); the other
// forms (kprobe place, other comms, the TGID column, faults, losses) are those lines with one part
// changed the way ftrace prints it.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { IoctlArgMatcher, parseIoctlArgs, type IoctlArgLog, type IoctlArgRecord } from '../../src/import/ioctl-args.js';
import { capturedWords, leWords } from './helpers.js';

const zeros = (from: number): string =>
  Array.from({ length: 16 - from }, (_, i) => `a${from + i}=0x0`).join(' ');

// low-power.ioctl-args line 5: VFIO_DEVICE_FEATURE SET|LOW_POWER_ENTRY, argsz 8 (unredacted: ftrace's padding).
const FEATURE_PADDED = `          runner-10034   [000] ...2.     4.318204: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=7 cmd=0x3b75 arg=0x8d8340 a0=0x2000300000008 ${zeros(1)}`;
// traces/lab/6.1: the first line of a redacted file (awk rebuilt it with single spaces): GROUP_GET_STATUS.
const GROUP_STATUS_REDACTED = `runner-10034 [000] ...2. 4.004387: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=6 cmd=0x3b67 arg=0x7fffffffea38 a0=0x8 ${zeros(1)}`;
// hot-reset.ioctl-args: PCI_HOT_RESET with count 1 and group fd -1.
const HOT_RESET = `          runner-10034   [000] ...2.     4.682450: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=7 cmd=0x3b71 arg=0x8d8340 a0=0x10 a1=0xffffffff00000001 a2=0x6 ${zeros(3)}`;
// hot-reset.ioctl-args: VFIO_SET_IOMMU on the container (the argument is a number, not an address).
const SET_IOMMU = `          runner-10034   [000] ...2.     4.490100: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=5 cmd=0x3b66 arg=0x3 ${zeros(0)}`;
// low-power.ioctl-args: GROUP_SET_CONTAINER (an int at the address; the rest is what the VMM kept after it).
const SET_CONTAINER = `          runner-10034   [000] ...2.     4.259268: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=6 cmd=0x3b68 arg=0x4c6100 a0=0x5 a1=0x800 a2=0x2000 a3=0x1080000 a4=0x840000 a5=0x10000 a6=0x8000 a7=0x498b78 a8=0xad9a80 a9=0x496e70 a10=0x0 a11=0x0 a12=0xae06d0 a13=0x0 a14=0x0 a15=0x0`;
// map-dma.ioctl-args: type1 MAP_DMA on the container, redacted.
const MAP_DMA = `runner-10033 [000] ...2. 14.663236: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=5 cmd=0x3b71 arg=0x7fffffffea40 a0=0x300000020 a1=0x7f0000000000 a2=0x100000 a3=0x20000 ${zeros(4)}`;

const le = leWords;
const words16 = capturedWords;

function one(line: string): IoctlArgRecord {
  const log = parseIoctlArgs(line + '\n', 'ioctl-args');
  expect(log.records).toHaveLength(1);
  expect(log.lost).toBe(0);
  expect(log.otherLines).toBe(0);
  return log.records[0]!;
}

function userError(text: string): UserError {
  try {
    parseIoctlArgs(text, 'cap/ioctl-args');
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('parseIoctlArgs accepted the text');
}

describe('parseIoctlArgs: real lines', () => {
  it('an eprobe line with ftrace padding: tid, fd, cmd, arg and the 16 words as little-endian bytes', () => {
    const r = one(FEATURE_PADDED);
    expect(r).toEqual({ tid: 10034, fd: 7, cmd: 0x3b75, arg: 0x8d8340n, bytes: words16(0x2000300000008n), line: 1 });
    // argsz 8, flags SET|3 as the struct lays them out.
    expect([...r.bytes.slice(0, 8)]).toEqual([8, 0, 0, 0, 3, 0, 2, 0]);
  });

  it('a line rebuilt by the redaction (no leading spaces, single spaces)', () => {
    expect(one(GROUP_STATUS_REDACTED)).toEqual({ tid: 10034, fd: 6, cmd: 0x3b67, arg: 0x7fffffffea38n, bytes: words16(8n), line: 1 });
  });

  it('every word is kept, and the s32 fds inside a struct come out as the kernel reads them', () => {
    const r = one(HOT_RESET);
    const dv = new DataView(r.bytes.buffer);
    expect(r.bytes.length).toBe(128);
    expect(dv.getUint32(8, true)).toBe(1); // count
    expect(dv.getInt32(12, true)).toBe(-1); // group_fds[0]
    const g = one(SET_CONTAINER);
    expect(g.bytes).toEqual(
      le(0x5n, 0x800n, 0x2000n, 0x1080000n, 0x840000n, 0x10000n, 0x8000n, 0x498b78n, 0xad9a80n, 0x496e70n, 0n, 0n, 0xae06d0n, 0n, 0n, 0n),
    );
  });

  it('a whole real file: records numbered by line, in order, per fd', () => {
    const text = [GROUP_STATUS_REDACTED, SET_CONTAINER, SET_IOMMU, FEATURE_PADDED, HOT_RESET, MAP_DMA].join('\n') + '\n';
    const log = parseIoctlArgs(text, 'f');
    expect(log.records.map((r) => [r.line, r.tid, r.fd, r.cmd, r.arg])).toEqual([
      [1, 10034, 6, 0x3b67, 0x7fffffffea38n],
      [2, 10034, 6, 0x3b68, 0x4c6100n],
      [3, 10034, 5, 0x3b66, 0x3n],
      [4, 10034, 7, 0x3b75, 0x8d8340n],
      [5, 10034, 7, 0x3b71, 0x8d8340n],
      [6, 10033, 5, 0x3b71, 0x7fffffffea40n],
    ]);
    expect(log).toMatchObject({ lost: 0, otherLines: 0 });
  });

  it('CRLF line ends', () => {
    const log = parseIoctlArgs(GROUP_STATUS_REDACTED + '\r\n' + FEATURE_PADDED + '\r\n', 'f');
    expect(log.records.map((r) => r.cmd)).toEqual([0x3b67, 0x3b75]);
    expect(log.records[1]!.bytes).toEqual(words16(0x2000300000008n));
    expect(log.cutLastLine).toBe(false);
  });

  it('a record without its final newline is a capture cut short: dropped and flagged, even when it parses', () => {
    const log = parseIoctlArgs(GROUP_STATUS_REDACTED + '\n' + FEATURE_PADDED, 'f');
    expect(log.records.map((r) => r.cmd)).toEqual([0x3b67]);
    expect(log.cutLastLine).toBe(true);
    // Cut inside a hex word: no wrong value, no error.
    const cut = parseIoctlArgs(GROUP_STATUS_REDACTED + '\n' + FEATURE_PADDED.slice(0, FEATURE_PADDED.indexOf('a0=') + 6), 'f');
    expect(cut.records).toHaveLength(1);
    expect(cut.cutLastLine).toBe(true);
  });
});

describe('parseIoctlArgs: the forms ftrace prints', () => {
  it('the kprobe place `(__x64_sys_ioctl+0x0/0x90)` (no eprobe on the kernel)', () => {
    const kprobe = FEATURE_PADDED.replace('(syscalls.sys_enter_ioctl)', '(__x64_sys_ioctl+0x0/0x90)');
    expect(one(kprobe)).toEqual(one(FEATURE_PADDED));
  });

  it('a line without the place at all', () => {
    expect(one(FEATURE_PADDED.replace('(syscalls.sys_enter_ioctl) ', ''))).toEqual(one(FEATURE_PADDED));
  });

  it('comms with dashes, digits and spaces: the tid is the last -N before the CPU column', () => {
    const qemu = FEATURE_PADDED.replace('          runner-10034', '  qemu-system-x86-1234');
    expect(one(qemu).tid).toBe(1234);
    const vcpu = FEATURE_PADDED.replace('          runner-10034', '       CPU 0/KVM-5678');
    expect(one(vcpu).tid).toBe(5678);
    const numbered = GROUP_STATUS_REDACTED.replace('runner-10034', 'a-1 b-22-333');
    expect(one(numbered).tid).toBe(333);
  });

  it('the optional (TGID) column (record-tgid), also while ftrace does not know the tgid', () => {
    const tgid = FEATURE_PADDED.replace('          runner-10034   [000]', '          runner-10034   (  10034) [000]');
    expect(one(tgid)).toEqual(one(FEATURE_PADDED));
    const thread = FEATURE_PADDED.replace('          runner-10034   [000]', '       CPU 1/KVM-10040   (  10034) [001]');
    expect(one(thread).tid).toBe(10040);
    const unknown = FEATURE_PADDED.replace('   [000]', '   (-------) [000]');
    expect(one(unknown).tid).toBe(10034);
  });

  it('old kernels print no FLAGS column', () => {
    expect(one(FEATURE_PADDED.replace(' ...2. ', ' '))).toEqual(one(FEATURE_PADDED));
  });

  it('a word the kernel could not read: the record keeps the words before the first (fault)', () => {
    const r = one(HOT_RESET.replace(/ a([2-9]|1\d)=0x[0-9a-f]+/g, ' a$1=(fault)'));
    expect(r.bytes).toEqual(le(0x10n, 0xffffffff00000001n));
    const none = one(HOT_RESET.replace(/a(\d+)=0x[0-9a-f]+/g, 'a$1=(fault)'));
    expect(none.bytes).toEqual(new Uint8Array(0));
    // Words after a fault are not kept even when they read.
    const hole = one(FEATURE_PADDED.replace('a1=0x0', 'a1=(fault)'));
    expect(hole.bytes).toEqual(le(0x2000300000008n));
  });

  it('fd is a u32: 4294967295 is -1, 2147483648 is -2147483648', () => {
    expect(one(FEATURE_PADDED.replace('fd=7', 'fd=4294967295')).fd).toBe(-1);
    expect(one(FEATURE_PADDED.replace('fd=7', 'fd=2147483648')).fd).toBe(-2147483648);
    expect(one(FEATURE_PADDED.replace('fd=7', 'fd=2147483647')).fd).toBe(2147483647);
  });

  it('u64 words and addresses up to 0xffffffffffffffff', () => {
    const r = one(FEATURE_PADDED.replace('arg=0x8d8340', 'arg=0xffffffffffffffff').replace('a1=0x0', 'a1=0xffffffffffffffff'));
    expect(r.arg).toBe(0xffffffffffffffffn);
    expect(new DataView(r.bytes.buffer).getBigUint64(8, true)).toBe(0xffffffffffffffffn);
  });

  it('trace_pipe LOST lines and the tracer overrun note count as lost records', () => {
    const text = [FEATURE_PADDED, 'CPU:0 [LOST 3 EVENTS]', '  CPU:1 [LOST 4 EVENTS]', HOT_RESET, '# vfio-trace: 5 records overran the buffer'].join('\n') + '\n';
    const log = parseIoctlArgs(text, 'f');
    expect(log.lost).toBe(12);
    expect(log.records.map((r) => r.line)).toEqual([1, 4]);
    expect(log.otherLines).toBe(0);
  });

  it('`#` headers are skipped, other lines only counted', () => {
    const text = [
      '# tracer: nop',
      '#',
      '#                                _-----=> irqs-off/BH-disabled',
      '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
      '#              | |         |   |||||     |         |',
      FEATURE_PADDED,
      '          runner-10034   [000] ...2.     4.318300: sys_enter_ioctl: fd: 0x00000007, cmd: 0x00003b75',
      'garbage',
      '',
      '   ',
      HOT_RESET,
    ].join('\n') + '\n';
    const log = parseIoctlArgs(text, 'f');
    expect(log.records.map((r) => r.line)).toEqual([6, 11]);
    expect(log).toMatchObject({ lost: 0, otherLines: 2 });
  });

  it('an empty file is an empty log', () => {
    expect(parseIoctlArgs('', 'f')).toEqual({ records: [], lost: 0, otherLines: 0, cutLastLine: false });
  });
});

describe('parseIoctlArgs: malformed vfio_ioctl lines are located UserErrors', () => {
  const second = (bad: string): string => [FEATURE_PADDED, bad, HOT_RESET].join('\n') + '\n';

  it('without the COMM-TID [CPU] prefix', () => {
    const e = userError(second('vfio_ioctl: fd=7 cmd=0x3b75 arg=0x8d8340'));
    expect(e.message).toMatch(/^cap\/ioctl-args:2:1: vfio_ioctl record without the "COMM-TID/);
    expect(e.location).toEqual({ file: 'cap/ioctl-args', line: 2, column: 1 });
  });

  it('without fd=', () => {
    const e = userError(second(FEATURE_PADDED.replace('fd=7 ', '')));
    expect(e.message).toMatch(/^cap\/ioctl-args:2:1: vfio_ioctl record without fd=/);
  });

  it('a word that is not a number: the column points at the token', () => {
    const bad = GROUP_STATUS_REDACTED.replace('a3=0x0', 'a3=0xzz');
    const e = userError(second(bad));
    expect(e.message).toContain('a3=0xzz is not a 64-bit number');
    expect(e.location.line).toBe(2);
    expect(e.location.column).toBe(bad.indexOf('a3=0xzz') + 1);
  });

  it('a token without "="', () => {
    const bad = FEATURE_PADDED.replace(' a5=0x0', ' a5');
    const e = userError(second(bad));
    expect(e.message).toContain('expected NAME=VALUE, found "a5"');
    expect(e.location).toEqual({ file: 'cap/ioctl-args', line: 2, column: bad.indexOf(' a5 ') + 2 });
  });

  it('fd, cmd or arg out of range, or not numbers', () => {
    for (const [from, to, what] of [
      ['fd=7', 'fd=4294967296', 'fd=4294967296 is not a 32-bit number'],
      ['fd=7', 'fd=-1', 'fd=-1 is not a 32-bit number'],
      ['cmd=0x3b75', 'cmd=0x100000000', 'cmd=0x100000000 is not a 32-bit number'],
      ['arg=0x8d8340', 'arg=0x10000000000000000', 'is not a 64-bit number'],
      ['arg=0x8d8340', 'arg=(fault)', 'arg=(fault) is not a 64-bit number'],
    ] as const) {
      const bad = FEATURE_PADDED.replace(from, to);
      const e = userError(second(bad));
      expect(e.message).toContain(what);
      expect(e.location).toEqual({ file: 'cap/ioctl-args', line: 2, column: bad.indexOf(to) + 1 });
    }
  });
});

// ---- pairing with strace ------------------------------------------------------------------------

const rec = (line: number, tid: number, fd: number, cmd: number, arg: bigint): IoctlArgRecord => ({ tid, fd, cmd, arg, bytes: le(BigInt(line)), line });
const logOf = (...records: IoctlArgRecord[]): IoctlArgLog => ({ records, lost: 0, otherLines: 0 });

describe('IoctlArgMatcher', () => {
  it('pairs each thread’s calls with its records in order, whatever the other threads did in between', () => {
    const log = logOf(
      rec(1, 10, 7, 0x3b75, 0x8d8340n),
      rec(2, 11, 7, 0x3b75, 0x8d8340n),
      rec(3, 10, 7, 0x3b75, 0x8d8340n),
      rec(4, 11, 7, 0x3b6e, 0x7000n),
    );
    const m = new IoctlArgMatcher(log);
    expect(m.take(11, 7, 0x3b75, 0x8d8340n)?.line).toBe(2);
    expect(m.take(10, 7, 0x3b75, 0x8d8340n)?.line).toBe(1);
    expect(m.take(10, 7, 0x3b75, 0x8d8340n)?.line).toBe(3);
    expect(m.take(11, 7, 0x3b6e, 0x7000n)?.line).toBe(4);
    expect(m.take(10, 7, 0x3b75, 0x8d8340n)).toBeNull();
    expect([m.paired, m.unpaired]).toEqual([4, 1]);
  });

  it('passes over records strace did not show (before it attached), and never goes back to them', () => {
    const log = logOf(rec(1, 10, 6, 0x3b67, 0x7fffffffea38n), rec(2, 10, 6, 0x3b68, 0x4c6100n), rec(3, 10, 7, 0x3b6b, 0x8d8340n), rec(4, 10, 6, 0x3b68, 0x4c6100n));
    const m = new IoctlArgMatcher(log);
    expect(m.take(10, 7, 0x3b6b, 0x8d8340n)?.line).toBe(3);
    expect(m.take(10, 6, 0x3b68, 0x4c6100n)?.line).toBe(4);
    expect(m.take(10, 6, 0x3b67, 0x7fffffffea38n)).toBeNull();
    expect([m.paired, m.unpaired]).toEqual([2, 1]);
  });

  it('a call without its record (dropped by the kernel) takes none, and the records stay for the next calls', () => {
    const log = logOf(rec(1, 10, 7, 0x3b75, 0x8d8340n), rec(2, 10, 7, 0x3b6b, 0x8d8340n));
    const m = new IoctlArgMatcher(log);
    expect(m.take(10, 7, 0x3b6e, 0x8d8340n)).toBeNull();
    expect(m.take(10, 7, 0x3b75, 0x8d8340n)?.line).toBe(1);
    expect(m.take(10, 7, 0x3b6b, 0x8d8340n)?.line).toBe(2);
    expect([m.paired, m.unpaired]).toEqual([2, 1]);
  });

  it('fd, request and address must all match', () => {
    const log = logOf(rec(1, 10, 7, 0x3b75, 0x8d8340n));
    const m = new IoctlArgMatcher(log);
    expect(m.take(10, 7, 0x3b75, 0x8d8348n)).toBeNull(); // another address
    expect(m.take(10, 8, 0x3b75, 0x8d8340n)).toBeNull(); // another fd
    expect(m.take(10, 7, 0x3b74, 0x8d8340n)).toBeNull(); // another request
    expect(m.take(12, 7, 0x3b75, 0x8d8340n)).toBeNull(); // a thread with no records
    expect([m.paired, m.unpaired]).toEqual([0, 4]);
    expect(m.take(10, 7, 0x3b75, 0x8d8340n)?.line).toBe(1);
  });

  it('an address strace did not print as a number matches on fd and request only', () => {
    const m = new IoctlArgMatcher(logOf(rec(1, 10, 7, 0x3b75, 0x8d8340n)));
    expect(m.take(10, 7, 0x3b75, null)?.line).toBe(1);
  });

  it('tid 0 (strace without -f) takes the next fitting record of any thread', () => {
    const log = logOf(rec(1, 10, 7, 0x3b75, 0x8d8340n), rec(2, 11, 7, 0x3b6b, 0x8d8340n), rec(3, 10, 7, 0x3b75, 0x8d8340n));
    const m = new IoctlArgMatcher(log);
    expect(m.take(0, 7, 0x3b6b, 0x8d8340n)?.line).toBe(2);
    expect(m.take(0, 7, 0x3b75, 0x8d8340n)?.line).toBe(3); // record 1 lies before the last pairing
    expect(m.take(0, 7, 0x3b75, 0x8d8340n)).toBeNull();
    expect([m.paired, m.unpaired]).toEqual([2, 1]);
  });

  it('a record is never used twice, whichever way it was taken', () => {
    const log = logOf(rec(1, 10, 7, 0x3b75, 0x8d8340n), rec(2, 10, 7, 0x3b75, 0x8d8340n));
    const m = new IoctlArgMatcher(log);
    expect(m.take(10, 7, 0x3b75, 0x8d8340n)?.line).toBe(1);
    expect(m.take(0, 7, 0x3b75, 0x8d8340n)?.line).toBe(2);
    expect(m.take(10, 7, 0x3b75, 0x8d8340n)).toBeNull();
    expect(m.take(0, 7, 0x3b75, 0x8d8340n)).toBeNull();

    const m2 = new IoctlArgMatcher(logOf(rec(1, 10, 7, 0x3b75, 0x8d8340n), rec(2, 10, 7, 0x3b75, 0x8d8340n)));
    expect(m2.take(0, 7, 0x3b75, 0x8d8340n)?.line).toBe(1);
    expect(m2.take(10, 7, 0x3b75, 0x8d8340n)?.line).toBe(2);
    expect(m2.take(10, 7, 0x3b75, 0x8d8340n)).toBeNull();
    expect([m2.paired, m2.unpaired]).toEqual([2, 1]);
  });

  it('pairs a real capture with the calls strace showed (lab low-power run)', () => {
    const text = [GROUP_STATUS_REDACTED, SET_CONTAINER, SET_IOMMU, FEATURE_PADDED, FEATURE_PADDED.replace('4.318204', '4.423415')].join('\n') + '\n';
    const m = new IoctlArgMatcher(parseIoctlArgs(text, 'f'));
    // strace attached after the group setup: only the two FEATURE calls show.
    expect(m.take(10034, 7, 0x3b75, 0x8d8340n)?.line).toBe(4);
    expect(m.take(10034, 7, 0x3b75, 0x8d8340n)?.line).toBe(5);
    expect([m.paired, m.unpaired]).toEqual([2, 0]);
  });
});
