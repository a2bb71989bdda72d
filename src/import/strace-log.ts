// A whole strace log -> whole calls, signals and exits in log order, with clocks resolved.
// Pairs `<unfinished ...>` with its `<... NAME resumed>` by pid (strace -f interleaves threads).

import { UserError } from '../errors.js';
import { textLines, type LineSource } from './lines.js';
import { kWayMerge } from './kway-merge.js';
import { SyntaxProblem } from './strace-text.js';
import { findCallClose, parseLine, parseReturn, type Clock, type StraceItem } from './strace-lines.js';

export interface ClockAnchor {
  /** Unix time (ns) at which the capture started: anchors -t/-tt time-of-day stamps to a date. */
  startEpochNs: bigint;
  /** Local time offset of the traced machine east of UTC, seconds (`date +%z`). */
  utcOffsetSec: number;
}

export interface StraceLog {
  items: StraceItem[];
  /** Stamps are Unix time (ns) when -ttt was used, or -t/-tt with an anchor. */
  absolute: boolean;
  clock: Clock['kind'];
  lines: number;
  /** Lines that are not calls, signals or exits (strace's own notes, a cut last line). */
  otherLines: number;
  /** `<... resumed>` halves with no entry (the trace attached mid-call). */
  orphanResumes: number;
  /** Calls still unfinished when the log ended. */
  unfinishedAtEnd: number;
  /** The first pid seen: the traced command or the --pid target (the VMM's thread-group leader). */
  leaderPid: number;
  /** Whole calls of syscalls the caller said it does not use (counted, not kept). */
  skippedCalls: number;
}

export interface StraceReadOptions {
  /** Clock anchor for -t/-tt stamps (the tracer's info). */
  anchor?: ClockAnchor | null;
  /** Keep only calls of these syscalls (others are counted): bounded memory on unfiltered logs. */
  keep?: ReadonlySet<string>;
  /** The pid of lines without a pid prefix (`strace -ff -o F` writes one file per task: F.PID). */
  defaultPid?: number;
  /**
   * Hand each item over as it is read instead of keeping it in `items` (bounded memory: a log of
   * millions of calls is converted as it streams by). `leaderPid` is the first pid seen so far.
   */
  onItem?: (item: StraceItem, leaderPid: number) => void;
  /** Kept up to date before each item is handed out: the lines later items can start on. */
  watch?: StraceWatch;
}

/**
 * How far back a later item can still reach (merge windows, importer.ts): every item handed out
 * after this one starts on `lowWater` or later (a call in flight, else the next line), every
 * later clone/fork/vfork on `forkLowWater` or later. Infinity once the log is read.
 */
export interface StraceWatch {
  lowWater: number;
  forkLowWater: number;
}

const FORKS: ReadonlySet<string> = new Set(['clone', 'clone3', 'fork', 'vfork']);

function updateWatch(w: StraceWatch | undefined, pending: ReadonlyMap<number, Pending>, next: number): void {
  if (!w) return;
  let low = next;
  let forkLow = next;
  for (const p of pending.values()) {
    if (p.skipped) continue;
    if (p.line < low) low = p.line;
    if (p.line < forkLow && FORKS.has(p.name)) forkLow = p.line;
  }
  w.lowWater = low;
  w.forkLowWater = forkLow;
}

const DAY_NS = 86_400_000_000_000n;

/** Turns per-line stamps into one monotonic scale (absolute when possible). */
class ClockResolver {
  kind: Clock['kind'] = 'none';
  private last: bigint | null = null;
  private dayBase: bigint | null = null;
  constructor(private readonly anchor: ClockAnchor | null) {}

  get absolute(): boolean {
    return this.kind === 'epoch' || (this.kind === 'tod' && this.anchor !== null);
  }

  resolve(c: Clock): bigint | null {
    if (c.kind === 'none') return this.last;
    if (this.kind === 'none') this.kind = c.kind;
    let ns: bigint;
    if (c.kind === 'epoch') ns = c.ns;
    else if (c.kind === 'relative') ns = (this.last ?? 0n) + c.ns;
    else {
      if (this.dayBase === null) {
        // Midnight (local) of the capture's start day, as Unix time; without an anchor, day 0.
        if (this.anchor) {
          const off = BigInt(this.anchor.utcOffsetSec) * 1_000_000_000n;
          const local = this.anchor.startEpochNs + off;
          this.dayBase = local - (((local % DAY_NS) + DAY_NS) % DAY_NS) - off;
          // A capture started just before midnight whose first line is after it.
          if (this.dayBase + c.ns < this.anchor.startEpochNs - DAY_NS / 2n) this.dayBase += DAY_NS;
        } else this.dayBase = 0n;
      }
      ns = this.dayBase + c.ns;
      if (this.last !== null && ns + DAY_NS / 2n < this.last) {
        this.dayBase += DAY_NS; // the time of day wrapped past midnight
        ns += DAY_NS;
      }
    }
    this.last = ns;
    return ns;
  }
}

interface Pending {
  name: string;
  args: string;
  argsColumn: number;
  line: number;
  ns: bigint | null;
  /** A syscall the caller does not use: only paired, to keep the line accounting right. */
  skipped?: boolean;
}

export function readStraceLog(input: string | LineSource, file: string, options: StraceReadOptions | ClockAnchor | null = null): StraceLog {
  const src = typeof input === 'string' ? textLines(input, file) : input;
  const opts: StraceReadOptions = options === null ? {} : 'startEpochNs' in options ? { anchor: options } : options;
  const out = emptyStraceLog();
  const onItem = opts.onItem;
  for (const it of straceItems(src, file, opts, out)) {
    if (onItem) onItem(it, out.leaderPid);
    else out.items.push(it);
  }
  return out;
}

export function emptyStraceLog(): StraceLog {
  return { items: [], absolute: false, clock: 'none', lines: 0, otherLines: 0, orphanResumes: 0, unfinishedAtEnd: 0, leaderPid: 0, skippedCalls: 0 };
}

/**
 * The items of a log as they are read (pull: the caller takes one when it wants one, so several
 * logs can be read side by side); `out` gets the counts, the clock and the leader as they become
 * known (`items` stays empty). `out.leaderPid` is the first pid seen so far.
 */
export function* straceItems(src: LineSource, file: string, opts: StraceReadOptions, out: StraceLog): Generator<StraceItem> {
  const clock = new ClockResolver(opts.anchor ?? null);
  const keep = opts.keep;
  const defaultPid = opts.defaultPid ?? 0;
  const pending = new Map<number, Pending>();
  // Items of the current line (a generator cannot yield inside the line's try/catch and still
  // tell the line's syntax errors from the caller's).
  const ready: StraceItem[] = [];
  const emit = (it: StraceItem): void => {
    ready.push(it);
  };
  // A line that does not parse is an error unless it is the last one of a log that does not end
  // with a newline (strace was killed while writing it): known only once the next line comes.
  let failed: { error: unknown; line: number } | null = null;
  let lineNo = 0;
  for (const rawLine of src.lines()) {
    lineNo++;
    if (ready.length > 0) {
      out.clock = clock.kind;
      out.absolute = clock.absolute;
      updateWatch(opts.watch, pending, lineNo);
      yield* ready.splice(0);
    }
    if (failed !== null) throw failed.error;
    const raw = rawLine.replace(/\r$/, '');
    if (raw.trim() === '') continue;
    out.lines++;
    let parsed;
    try {
      parsed = parseLine(raw);
    } catch (e) {
      failed = { error: located(e, file, lineNo), line: lineNo };
      continue;
    }
    const pid = parsed.pid || defaultPid;
    const record = parsed.record;
    if (keep !== undefined && (record.type === 'call' || record.type === 'unfinished') && !keep.has(record.name)) {
      if (record.type === 'call') out.skippedCalls++;
      else pending.set(pid, { name: record.name, args: '', argsColumn: 0, line: lineNo, ns: null, skipped: true });
      if (out.leaderPid === 0 && pid !== 0) out.leaderPid = pid;
      clock.resolve(parsed.clock);
      continue;
    }
    if (out.leaderPid === 0 && pid !== 0) out.leaderPid = pid;
    const ns = clock.resolve(parsed.clock);
    try {
      switch (record.type) {
        case 'call':
          emit({
            type: 'call',
            name: record.name,
            args: record.args,
            argsColumn: record.argsColumn,
            ret: record.ret,
            pid,
            startLine: lineNo,
            endLine: lineNo,
            startNs: ns,
            endNs: ns,
          });
          break;
        case 'unfinished':
          pending.set(pid, { name: record.name, args: record.args, argsColumn: record.argsColumn, line: lineNo, ns });
          break;
        case 'resumed': {
          const p = pending.get(pid);
          if (!p || p.name !== record.name) {
            if (keep === undefined || keep.has(record.name)) out.orphanResumes++;
            else out.skippedCalls++;
            break;
          }
          pending.delete(pid);
          if (p.skipped) {
            out.skippedCalls++;
            break;
          }
          // `<... ioctl resumed> <unfinished ...>) = ?`: the task died inside the call.
          const rest = record.rest.replace(/^\s*<unfinished \.\.\.>/, '');
          const joined = p.args + rest;
          const close = findCallClose(joined, 0, 1);
          if (close < 0) throw new SyntaxProblem(`unterminated argument list of ${p.name}`, record.restColumn + rest.length);
          const retColumn = record.restColumn + Math.max(0, close - p.args.length + 1);
          emit({
            type: 'call',
            name: p.name,
            args: joined.slice(0, close),
            argsColumn: p.argsColumn,
            ret: parseReturn(joined.slice(close + 1), retColumn),
            pid,
            startLine: p.line,
            endLine: lineNo,
            startNs: p.ns,
            endNs: ns,
          });
          break;
        }
        case 'signal':
          emit({ type: 'signal', pid, line: lineNo, ns, signal: record.signal, info: record.info });
          break;
        case 'exit':
          emit({ type: 'exit', pid, line: lineNo, ns, how: record.how, status: record.status, signal: record.signal, core: record.core });
          break;
        case 'other':
          out.otherLines++;
          break;
      }
    } catch (e) {
      if (!(e instanceof SyntaxProblem)) throw e; // the consumer's own error (onItem): not this line's syntax
      failed = { error: located(e, file, lineNo), line: lineNo };
    }
  }
  if (ready.length > 0) {
    updateWatch(opts.watch, pending, lineNo + 1);
    yield* ready.splice(0);
  }
  if (failed !== null) {
    if (src.endsClean) throw failed.error;
    out.otherLines++; // the log was cut while strace wrote this line
  }
  for (const [pid, p] of pending) if (p.skipped) pending.delete(pid);
  out.unfinishedAtEnd = pending.size;
  // Calls that never returned (a thread blocked in KVM_RUN or on a fault when the capture ended):
  // kept, marked blocked, with whatever arguments strace printed before the call blocked.
  const lastLine = lineNo;
  for (const [pid, p] of pending) {
    emit({
      type: 'call',
      name: p.name,
      args: p.args,
      argsColumn: p.argsColumn,
      ret: { kind: 'unknown', errno: '' },
      pid,
      startLine: p.line,
      endLine: lastLine,
      startNs: p.ns,
      endNs: null,
      blocked: true,
    });
  }
  out.absolute = clock.absolute;
  out.clock = clock.kind;
  // The calls still in flight come last, each from the line it started on.
  for (const it of ready.splice(0)) {
    if (opts.watch) opts.watch.lowWater = opts.watch.forkLowWater = it.type === 'call' ? it.startLine : lineNo + 1;
    yield it;
  }
  if (opts.watch) opts.watch.lowWater = opts.watch.forkLowWater = Infinity;
}

export function located(e: unknown, file: string, line: number, columnBase = 0): unknown {
  if (e instanceof SyntaxProblem) return new UserError(e.message, { file, line, column: columnBase + e.column + 1 });
  return e;
}

/** The time an item sorts by: a call's return (its entry if it never returned), a signal's delivery. */
function itemNs(it: StraceItem): bigint | null {
  return it.type === 'call' ? (it.endNs ?? it.startNs) : it.ns;
}

function refuseUnordered(l: StraceLog, hadItems: boolean, file: string): void {
  if (l.clock === 'none' && hadItems)
    throw new UserError('several strace files (-ff) without timestamps cannot be put in one order: capture with -tt or -ttt, or pass one -f log', { file });
  if (l.clock === 'relative') throw new UserError('several strace files (-ff) with -r stamps cannot be put in one order: capture with -tt or -ttt', { file });
}

/** One summary of several logs read side by side (`items` stays empty). */
function summarize(logs: StraceLog[], into: StraceLog): void {
  const leaders = logs.map((l) => l.leaderPid).filter((p) => p > 0);
  into.absolute = logs.every((l) => l.absolute);
  into.clock = logs[0]?.clock ?? 'none';
  into.lines = logs.reduce((n, l) => n + l.lines, 0);
  into.otherLines = logs.reduce((n, l) => n + l.otherLines, 0);
  into.orphanResumes = logs.reduce((n, l) => n + l.orphanResumes, 0);
  into.unfinishedAtEnd = logs.reduce((n, l) => n + l.unfinishedAtEnd, 0);
  // The traced command's task has the lowest id of the tasks it started.
  into.leaderPid = leaders.length ? Math.min(...leaders) : 0;
  into.skippedCalls = logs.reduce((n, l) => n + l.skippedCalls, 0);
}

const sortsBefore = (a: StraceItem, b: StraceItem): boolean => (itemNs(a) ?? 0n) < (itemNs(b) ?? 0n);

/**
 * `strace -ff -o F` logs (one file per task, F.PID) read side by side: one stream of items in time
 * order (a k-way merge on the stamps: each task's file is in its own time order, so nothing is
 * sorted whole), ties in file order. `summary` gets the leader, clock and absoluteness once every
 * file's first item is read (before the first item comes out), and the counts at the end. Without
 * stamps the files cannot be interleaved: refused with what to do.
 */
export function* mergedStraceItems(inputs: { src: LineSource; file: string; opts: StraceReadOptions }[], summary: StraceLog): Generator<StraceItem> {
  const logs = inputs.map(() => emptyStraceLog());
  const counted = inputs.map(() => 0);
  const streams = inputs.map(function* (x, i) {
    for (const it of straceItems(x.src, x.file, x.opts, logs[i]!)) {
      counted[i]++;
      yield it;
    }
  });
  const check = (): void => {
    logs.forEach((l, i) => refuseUnordered(l, counted[i]! > 0, inputs[i]!.file));
    summarize(logs, summary);
  };
  yield* kWayMerge(streams, sortsBefore, check);
  check();
}

/** `strace -ff` logs read whole (see mergedStraceItems): one log, items in time order. */
export function mergeStraceLogs(logs: StraceLog[], files: string[]): StraceLog {
  logs.forEach((l, i) => refuseUnordered(l, l.items.length > 0, files[i]!));
  const out = emptyStraceLog();
  out.items = [...kWayMerge(logs.map((l) => l.items), sortsBefore)];
  summarize(logs, out);
  return out;
}
