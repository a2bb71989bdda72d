// tracer/vfio-trace's `ioctl-args` file: the ftrace text of its `vfio_ioctl` dynamic event, one
// line per VFIO ioctl the kernel saw while strace ran, with the first bytes at the argument address
// as u64 words. strace shows only that address, so this is where SET_IRQS, DEVICE_FEATURE,
// HOT_RESET, IOEVENTFD and MAP_DMA get their fields from.
//
//   runner-10034 [000] ...2.  4.318204: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=7 cmd=0x3b75 arg=0x8d8340 a0=0x2000300000008 a1=0x0 ...
//
// The prefix is ftrace's usual `COMM-TID [CPU] FLAGS TIMESTAMP:` (with an optional `(TGID)` column,
// and without FLAGS on old kernels); COMM may itself hold dashes and spaces, so the TID is the
// last `-N` before the CPU column. Words are little-endian (the tracer records `arch`; every
// architecture the kernel model covers is little-endian). A word the kernel could not read prints
// as `(fault)`: the record keeps only the words before it.
//
// Also understood: `CPU:N [LOST M EVENTS]` (trace_pipe dropped records) and the tracer's own
// `# vfio-trace: N records overran the buffer` note; other `#` lines are ftrace's headers.

import { UserError } from '../errors.js';

export interface IoctlArgRecord {
  tid: number;
  fd: number;
  cmd: number;
  /** The argument as the syscall got it (the address strace prints). */
  arg: bigint;
  /** The words read at `arg`, as bytes. */
  bytes: Uint8Array;
  /** 1-based line in the file. */
  line: number;
}

export interface IoctlArgLog {
  records: IoctlArgRecord[];
  /** Records the kernel dropped: trace_pipe's LOST lines plus buffer overruns the tracer noted. */
  lost: number;
  /** Lines that are neither records, headers nor loss notes. */
  otherLines: number;
  /** The file ended inside a record (no final newline, and the part there is does not parse). */
  cutLastLine: boolean;
}

const PREFIX = /^\s*(.*?)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(?:\S+\s+)?(\d+\.\d+):\s+vfio_ioctl:\s*/;
const LOST = /^CPU:\d+ \[LOST (\d+) EVENTS\]$/;
const OVERRUN = /^# vfio-trace: (\d+) records overran the buffer$/;
const FIELD = /^([a-z]\w*)=(\S+)$/;
const MAX_WORDS = 512;

function fail(message: string, file: string, line: number, column: number): never {
  throw new UserError(message, { file, line, column });
}

function hexValue(v: string): bigint | null {
  return /^0x[0-9a-f]{1,16}$/i.test(v) ? BigInt(v) : /^\d{1,20}$/.test(v) && BigInt(v) < 1n << 64n ? BigInt(v) : null;
}

/** Parses the whole file. Throws UserError (file:line:column) on a `vfio_ioctl` line that is malformed. */
export function parseIoctlArgs(text: string, file: string): IoctlArgLog {
  const records: IoctlArgRecord[] = [];
  let lost = 0;
  let otherLines = 0;
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  // ftrace ends every record with a newline, so a last line without one is a capture cut short
  // (the tracer killed, a partial copy): it may stop inside a hex word and parse to a wrong value,
  // so a record there is dropped and reported, never guessed at or an error. Elsewhere a bad
  // record is an error.
  let cutLastLine = false;
  const unterminated = text.length > 0 && !text.endsWith('\n') ? lines.length - 1 : -1;
  lines.forEach((raw, i) => {
    if (i === unterminated && raw.includes('vfio_ioctl:')) {
      cutLastLine = true;
      return;
    }
    parseOne(raw, i);
  });
  return { records, lost, otherLines, cutLastLine };

  function parseOne(raw: string, i: number): void {
    const lineNo = i + 1;
    const l = raw.replace(/\r$/, '');
    if (l.trim() === '') return;
    let m = OVERRUN.exec(l);
    if (m) {
      lost += Number(m[1]);
      return;
    }
    if (l.startsWith('#')) return;
    if ((m = LOST.exec(l.trim()))) {
      lost += Number(m[1]);
      return;
    }
    if (!l.includes('vfio_ioctl:')) {
      otherLines++;
      return;
    }
    const p = PREFIX.exec(l);
    if (!p) fail('vfio_ioctl record without the "COMM-TID [CPU] ... TIMESTAMP:" prefix', file, lineNo, 1);
    let rest = l.slice(p[0].length);
    let column = p[0].length + 1;
    // The probe's place: `(syscalls.sys_enter_ioctl)` for an event probe, `(__x64_sys_ioctl+0x0/0x..)` for a kprobe.
    const place = /^\([^)]*\)\s*/.exec(rest);
    if (place) {
      rest = rest.slice(place[0].length);
      column += place[0].length;
    }
    const fields = new Map<string, { value: string; column: number }>();
    for (const tok of rest.split(' ')) {
      if (tok !== '') {
        const f = FIELD.exec(tok);
        if (!f) fail(`expected NAME=VALUE, found "${tok.slice(0, 40)}"`, file, lineNo, column);
        fields.set(f[1]!, { value: f[2]!, column });
      }
      column += tok.length + 1;
    }
    const num = (name: string, bits: number): bigint => {
      const f = fields.get(name);
      if (!f) fail(`vfio_ioctl record without ${name}=`, file, lineNo, 1);
      const v = hexValue(f.value);
      if (v === null || v >= 1n << BigInt(bits)) fail(`${name}=${f.value.slice(0, 24)} is not a ${bits}-bit number`, file, lineNo, f.column);
      return v;
    };
    const fd = Number(BigInt.asIntN(32, num('fd', 32)));
    const cmd = Number(num('cmd', 32));
    const arg = num('arg', 64);
    const words: bigint[] = [];
    for (let w = 0; w < MAX_WORDS; w++) {
      const f = fields.get(`a${w}`);
      if (!f || f.value === '(fault)') break;
      const v = hexValue(f.value);
      if (v === null) fail(`a${w}=${f.value.slice(0, 24)} is not a 64-bit number`, file, lineNo, f.column);
      words.push(v);
    }
    const bytes = new Uint8Array(words.length * 8);
    const dv = new DataView(bytes.buffer);
    words.forEach((v, w) => dv.setBigUint64(w * 8, v, true));
    records.push({ tid: Number(p[2]), fd, cmd, arg, bytes, line: lineNo });
  }
}

/**
 * Hands each strace ioctl its record: the next one of the same thread with the same fd, request
 * and argument address. Records in between (ioctls strace did not show, e.g. before it attached)
 * are passed over; a call with no match gets none (a dropped record), and the records stay for
 * the calls after it. Without thread ids (strace without -f) any thread's record will do.
 */
export class IoctlArgMatcher {
  private readonly byTid = new Map<number, number[]>();
  private readonly cursor = new Map<number, number>();
  private readonly used: boolean[];
  private anyCursor = 0;
  paired = 0;
  unpaired = 0;

  constructor(readonly log: IoctlArgLog) {
    this.used = log.records.map(() => false);
    log.records.forEach((r, i) => {
      const q = this.byTid.get(r.tid);
      if (q) q.push(i);
      else this.byTid.set(r.tid, [i]);
    });
  }

  /** `arg` null: strace printed something other than a number (match on fd and request only). */
  take(tid: number, fd: number, cmd: number, arg: bigint | null): IoctlArgRecord | null {
    const recs = this.log.records;
    const fits = (i: number): boolean => {
      const r = recs[i]!;
      return !this.used[i] && r.fd === fd && r.cmd === cmd && (arg === null || r.arg === arg);
    };
    if (tid !== 0 && this.byTid.has(tid)) {
      const q = this.byTid.get(tid)!;
      for (let j = this.cursor.get(tid) ?? 0; j < q.length; j++) {
        if (fits(q[j]!)) {
          this.cursor.set(tid, j + 1);
          return this.use(q[j]!);
        }
      }
    } else if (tid === 0) {
      for (let i = this.anyCursor; i < recs.length; i++) {
        if (fits(i)) {
          this.anyCursor = i + 1;
          return this.use(i);
        }
      }
    }
    this.unpaired++;
    return null;
  }

  private use(i: number): IoctlArgRecord {
    this.used[i] = true;
    this.paired++;
    return this.log.records[i]!;
  }
}
