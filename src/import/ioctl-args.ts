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
import { textLines, type LineSource } from './lines.js';

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

/** What reading the file found besides the records (known in full once the reader is drained). */
export interface IoctlArgTally {
  records: number;
  lost: number;
  otherLines: number;
  cutLastLine: boolean;
}

/** Parses the whole file. Throws UserError (file:line:column) on a `vfio_ioctl` line that is malformed. */
export function parseIoctlArgs(text: string, file: string): IoctlArgLog {
  const tally: IoctlArgTally = { records: 0, lost: 0, otherLines: 0, cutLastLine: false };
  const records = [...readIoctlArgs(textLines(text, file), file, tally)];
  return { records, lost: tally.lost, otherLines: tally.otherLines, cutLastLine: tally.cutLastLine };
}

/**
 * The records of a capture as they are read (bounded memory: a capture of millions of ioctls is
 * never held whole); `tally` counts what else the lines were as the reader goes. Throws UserError
 * (file:line:column) on a `vfio_ioctl` line that is malformed.
 */
export function* readIoctlArgs(src: LineSource, file: string, tally: IoctlArgTally): Generator<IoctlArgRecord> {
  // ftrace ends every record with a newline, so a last line without one is a capture cut short
  // (the tracer killed, a partial copy): it may stop inside a hex word and parse to a wrong value,
  // so a record there is dropped and reported, never guessed at or an error. Elsewhere a bad
  // record is an error. Which line is the last is known only when the next one does not come:
  // each line is parsed when the one after it has been read.
  let held: { raw: string; lineNo: number } | null = null;
  let lineNo = 0;
  for (const raw of src.lines()) {
    lineNo++;
    if (held !== null) {
      const r = parseOne(held.raw, held.lineNo);
      if (r !== null) yield r;
    }
    held = { raw, lineNo };
  }
  if (held === null) return;
  if (!src.endsClean && held.raw.includes('vfio_ioctl:')) {
    tally.cutLastLine = true;
    return;
  }
  const r = parseOne(held.raw, held.lineNo);
  if (r !== null) yield r;

  function parseOne(raw: string, lineNo: number): IoctlArgRecord | null {
    const l = raw.replace(/\r$/, '');
    if (l.trim() === '') return null;
    let m = OVERRUN.exec(l);
    if (m) {
      tally.lost += Number(m[1]);
      return null;
    }
    if (l.startsWith('#')) return null;
    if ((m = LOST.exec(l.trim()))) {
      tally.lost += Number(m[1]);
      return null;
    }
    if (!l.includes('vfio_ioctl:')) {
      tally.otherLines++;
      return null;
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
    tally.records++;
    return { tid: Number(p[2]), fd, cmd, arg, bytes, line: lineNo };
  }
}

/**
 * How many records the matcher holds at most: read ahead to find a call's record, or passed over
 * and kept for a call without thread id. A record that falls this far behind what was read is
 * passed over for good (a capture's records come in step with strace's calls, a few apart).
 */
export const IOCTL_ARG_WINDOW = 4096;

/**
 * Hands each strace ioctl its record: the next one of the same thread with the same fd, request
 * and argument address. Records in between (ioctls strace did not show, e.g. before it attached)
 * are passed over; a call with no match gets none (a dropped record), and the records stay for
 * the calls after it. Without thread ids (strace without -f) any thread's record will do.
 *
 * The records are read as the calls ask for them (in step with the strace log: bounded memory),
 * never more than IOCTL_ARG_WINDOW ahead of the oldest one still held; used records are let go.
 */
export class IoctlArgMatcher {
  /** Records read and still held, by their number in the file (0-based, records only). */
  private readonly held = new Map<number, IoctlArgRecord>();
  /** Per thread: the numbers of its held records after its cursor, in order. */
  private readonly byTid = new Map<number, number[]>();
  /** Number of records read so far; the oldest one still held. */
  private read = 0;
  private oldest = 0;
  private anyCursor = 0;
  private done = false;
  private readonly records: Iterator<IoctlArgRecord>;
  readonly tally: IoctlArgTally;
  paired = 0;
  unpaired = 0;

  constructor(
    source: IoctlArgLog | { records: Iterable<IoctlArgRecord>; tally: IoctlArgTally },
    private readonly window = IOCTL_ARG_WINDOW,
  ) {
    if (Array.isArray(source.records)) {
      const log = source as IoctlArgLog;
      this.tally = { records: log.records.length, lost: log.lost, otherLines: log.otherLines, cutLastLine: log.cutLastLine ?? false };
    } else this.tally = (source as { tally: IoctlArgTally }).tally;
    this.records = source.records[Symbol.iterator]();
  }

  /** A capture file, read as the calls come. */
  static reading(src: LineSource, file: string, window = IOCTL_ARG_WINDOW): IoctlArgMatcher {
    const tally: IoctlArgTally = { records: 0, lost: 0, otherLines: 0, cutLastLine: false };
    return new IoctlArgMatcher({ records: readIoctlArgs(src, file, tally), tally }, window);
  }

  /** Reads the rest of the capture (its counts, and a bad line after the last match is still an error). */
  finish(): IoctlArgTally {
    while (this.readOne());
    return this.tally;
  }

  /** Reads one more record into the window; false at the end of the capture. */
  private readOne(): boolean {
    if (this.done) return false;
    const n = this.records.next();
    if (n.done) {
      this.done = true;
      return false;
    }
    const i = this.read++;
    this.held.set(i, n.value);
    const q = this.byTid.get(n.value.tid);
    if (q) q.push(i);
    else this.byTid.set(n.value.tid, [i]);
    // The window is full: the oldest record still held is passed over for good.
    while (this.read - this.oldest > this.window) {
      const o = this.oldest++;
      const r = this.held.get(o);
      if (r === undefined) continue;
      this.held.delete(o);
      const q = this.byTid.get(r.tid);
      while (q !== undefined && q.length > 0 && q[0]! <= o) q.shift();
      if (q !== undefined && q.length === 0) this.byTid.delete(r.tid);
    }
    if (this.anyCursor < this.oldest) this.anyCursor = this.oldest;
    return true;
  }

  /** Whether one more record may be read for a search that started at record `from`. */
  private mayRead(from: number): boolean {
    return this.read - from < this.window && this.readOne();
  }

  /** `arg` null: strace printed something other than a number (match on fd and request only). */
  take(tid: number, fd: number, cmd: number, arg: bigint | null): IoctlArgRecord | null {
    const fits = (i: number): boolean => {
      const r = this.held.get(i);
      return r !== undefined && r.fd === fd && r.cmd === cmd && (arg === null || r.arg === arg);
    };
    if (tid !== 0) {
      const from = this.read;
      let last = -1; // the last record number looked at
      for (;;) {
        const q = this.byTid.get(tid) ?? [];
        // Where to go on: new records are only appended, passed-over ones only leave the front.
        let j = q.length;
        while (j > 0 && q[j - 1]! > last) j--;
        for (; j < q.length; j++) {
          const i = q[j]!;
          last = i;
          if (!fits(i)) continue;
          // The thread's cursor moves past the match: the records before it are passed over.
          q.splice(0, j + 1);
          if (q.length === 0) this.byTid.delete(tid);
          return this.use(i);
        }
        if (!this.mayRead(from)) break;
      }
    } else {
      const from = this.read;
      for (let i = this.anyCursor; ; i++) {
        if (i >= this.read && !this.mayRead(from)) break;
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
    const r = this.held.get(i)!;
    this.held.delete(i);
    // Records before the oldest one still held are gone: move `oldest` past the used ones.
    while (this.oldest < this.read && !this.held.has(this.oldest)) this.oldest++;
    this.paired++;
    return r;
  }
}
