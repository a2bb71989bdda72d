// strace output, line by line: the prefix (pid, timestamp), then one of a complete call, an
// `<unfinished ...>` half, a `<... resumed>` half, a signal delivery, or a process exit. The joiner
// pairs the halves per pid so the rest of the importer only sees whole calls.
//
// Accepted prefixes: `PID ` (-o FILE with -f), `[pid PID] ` (stderr with -f), none; then `-t`
// (HH:MM:SS), `-tt` (HH:MM:SS.usec), `-ttt` (EPOCH.usec) or `-r` (seconds since the previous line).

import { checked, checkedNumber } from './numbers.js';
import { SyntaxProblem, closingQuote, fdPath } from './strace-text.js';

export type Clock =
  /** -t / -tt: time of day (local time of the traced machine), ns since midnight. */
  | { kind: 'tod'; ns: bigint }
  /** -ttt: ns since the Unix epoch. */
  | { kind: 'epoch'; ns: bigint }
  /** -r: ns since the previous line. */
  | { kind: 'relative'; ns: bigint }
  | { kind: 'none' };

export interface LinePrefix {
  pid: number; // 0 when strace printed none (single task, or the first task on stderr)
  clock: Clock;
}

export type StraceReturn =
  | { kind: 'value'; value: bigint; path: string | null; note: string } // `= 3<path>`, `= 0 (KVM_EXIT_MMIO)`
  | { kind: 'error'; errno: string } // `= -1 EIO (Input/output error)`
  | { kind: 'unknown'; errno: string }; // `= ?` (task gone) or `= ? ERESTARTSYS (...)`

export type StraceRecord =
  | { type: 'call'; name: string; args: string; argsColumn: number; ret: StraceReturn }
  | { type: 'unfinished'; name: string; args: string; argsColumn: number }
  | { type: 'resumed'; name: string; rest: string; restColumn: number }
  | { type: 'signal'; signal: string; info: string }
  | { type: 'exit'; how: 'exited' | 'killed'; status: number; signal: string; core: boolean }
  | { type: 'other'; text: string };

export interface ParsedLine extends LinePrefix {
  record: StraceRecord;
}

const PREFIX = /^(?:\[pid\s+(\d+)\]\s+|(\d+)\s+)?(?:(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s+|(\d+)\.(\d{1,9})\s+)?/;

function fracNs(frac: string | undefined): bigint {
  if (!frac) return 0n;
  return BigInt(frac.padEnd(9, '0').slice(0, 9));
}

/**
 * A plain `SEC.FRAC` stamp is -ttt when it is a plausible epoch (after 1973) and -r otherwise: the
 * two flags print the same shape, and -r deltas are seconds, never 10^8 of them.
 */
const EPOCH_THRESHOLD = 100_000_000n;

export function parsePrefix(line: string): { prefix: LinePrefix; rest: string; column: number } {
  const m = PREFIX.exec(line)!;
  const pid = checkedNumber(BigInt(m[1] ?? m[2] ?? 0), 'u32', 'pid');
  let clock: Clock = { kind: 'none' };
  if (m[3] !== undefined) {
    const s = BigInt(m[3]) * 3600n + BigInt(m[4]!) * 60n + BigInt(m[5]!);
    clock = { kind: 'tod', ns: s * 1_000_000_000n + fracNs(m[6]) };
  } else if (m[7] !== undefined) {
    // Seconds past 2106 (u32) are no clock strace prints; bounding them keeps every later sum in u64.
    const ns = checked(BigInt(m[7]), 'u32', 'timestamp seconds') * 1_000_000_000n + fracNs(m[8]);
    clock = BigInt(m[7]) >= EPOCH_THRESHOLD ? { kind: 'epoch', ns } : { kind: 'relative', ns };
  }
  return { prefix: { pid, clock }, rest: line.slice(m[0].length), column: m[0].length };
}

/** Parse `= RET` text that follows a call's closing parenthesis. */
export function parseReturn(text: string, column: number): StraceReturn {
  // -T adds ` <0.000012>` at the end; drop it.
  const t = text.replace(/\s+<\d+\.\d+>\s*$/, '').trim();
  const m = /^=\s*(.*)$/.exec(t);
  if (!m) throw new SyntaxProblem('expected "= RESULT" after the arguments', column);
  const r = m[1]!.trim();
  let e = /^-1\s+([A-Z][A-Z0-9_]*)(?:\s+\(.*\))?$/.exec(r);
  if (e) return { kind: 'error', errno: e[1]! };
  e = /^\?(?:\s+([A-Z][A-Z0-9_]*)(?:\s+\(.*\))?)?$/.exec(r);
  if (e) return { kind: 'unknown', errno: e[1] ?? '' };
  const v = /^(-?\d+|0x[0-9a-fA-F]+)(?:<(.*)>(?:\(deleted\))?)?(?:\s+\((.*)\))?(?:\s+.*)?$/s.exec(r);
  if (v) {
    const path = v[2] === undefined ? null : fdPath(v[2], column);
    return { kind: 'value', value: checked(BigInt(v[1]!), 's64', 'result', column), path, note: v[3] ?? '' };
  }
  throw new SyntaxProblem(`cannot read the result "${r}"`, column);
}

/** Find the `)` closing a call's argument list, scanning from `start` at nesting depth `depth`. */
export function findCallClose(s: string, start: number, depth: number): number {
  let d = depth;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      const end = closingQuote(s, i);
      if (end < 0) return -1;
      i = end;
    } else if (c === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      if (end < 0) return -1;
      i = end + 1;
    } else if (c === '(' || c === '[' || c === '{') d++;
    else if (c === ')' || c === ']' || c === '}') {
      d--;
      if (d === 0) return i;
    }
  }
  return -1;
}

/** One line of strace output. Throws SyntaxProblem only for lines that look like a call but do not parse. */
export function parseLine(line: string): ParsedLine {
  const { prefix, rest, column } = parsePrefix(line);
  return { ...prefix, record: parseBody(rest, column) };
}

function parseBody(body: string, col: number): StraceRecord {
  let m = /^---\s+(SIG[A-Z0-9]+|\d+)\s+(.*?)\s*---$/.exec(body);
  if (m) return { type: 'signal', signal: m[1]!, info: m[2]! };
  m = /^\+\+\+\s+exited with (\d+)\s+\+\+\+$/.exec(body);
  if (m) return { type: 'exit', how: 'exited', status: Number(m[1]), signal: '', core: false };
  m = /^\+\+\+\s+killed by (SIG[A-Z0-9]+|\d+)(\s+\(core dumped\))?\s+\+\+\+$/.exec(body);
  if (m) return { type: 'exit', how: 'killed', status: 0, signal: m[1]!, core: m[2] !== undefined };
  m = /^<\.\.\.\s+([a-z_0-9]+)\s+resumed>\s?/.exec(body);
  if (m) return { type: 'resumed', name: m[1]!, rest: body.slice(m[0].length), restColumn: col + m[0].length };
  m = /^([a-z_][a-z_0-9]*)\(/.exec(body);
  if (!m) return { type: 'other', text: body };
  const name = m[1]!;
  const argsStart = m[0].length;
  const unf = /\s*<unfinished \.\.\.>\s*$/.exec(body);
  if (unf) {
    return { type: 'unfinished', name, args: body.slice(argsStart, unf.index), argsColumn: col + argsStart };
  }
  const close = findCallClose(body, argsStart, 1);
  if (close < 0) throw new SyntaxProblem(`unterminated argument list of ${name}`, col + body.length);
  return {
    type: 'call',
    name,
    args: body.slice(argsStart, close),
    argsColumn: col + argsStart,
    ret: parseReturn(body.slice(close + 1), col + close + 1),
  };
}

/** A whole system call, its two halves joined when strace split it. */
export interface StraceCall {
  name: string;
  args: string;
  argsColumn: number;
  ret: StraceReturn;
  pid: number;
  /** 1-based lines where the call was entered and where it returned. */
  startLine: number;
  endLine: number;
  /** Clock at entry and at return (absolute where the flags allow; see resolveClock). */
  startNs: bigint | null;
  endNs: bigint | null;
  /** The call was still in flight when the log ended (its arguments may be partial). */
  blocked?: boolean;
}

export type StraceItem =
  | ({ type: 'call' } & StraceCall)
  | { type: 'signal'; pid: number; line: number; ns: bigint | null; signal: string; info: string }
  | { type: 'exit'; pid: number; line: number; ns: bigint | null; how: 'exited' | 'killed'; status: number; signal: string; core: boolean };
