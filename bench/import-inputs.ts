// Big import inputs for the bench's import peak-RSS rows (issue 19 item 3): a tracer output
// directory (strace.log + qemu.log + ioctl-args + info + sysfs/) made from a committed real capture
// (traces/qemu/10.0/bar-move: QEMU 10.0 moving a BAR of an e1000e on vfio-pci) by repeating the
// whole session, each repetition a fresh VMM run: its pids (strace's pid column, QEMU's PID@,
// ftrace's COMM-TID) moved past the previous run's and its clocks (strace -tt time of day, QEMU's
// epoch stamps, ftrace's uptime) moved past the previous run's end. So the import does what it
// does on the real capture, N times over: time merge of strace and the QEMU log, every VFIO ioctl
// paired with its argument record. Mapping addresses and fd numbers stay: each run's munmaps
// and closes release what it set up, as the real run did.
//
// Two more shapes of the same repetition (the bounded -ff and sequence-aligned imports):
// - 'ff': what `strace -ff -o strace` writes for that session: one file per task (strace.PID,
//   the pid column dropped; the capture has no <unfinished ...> lines to join), beside the same
//   qemu.log, ioctl-args and info. Every repetition keeps the pids (one long session of the same
//   three tasks), as -ff's file per task would otherwise become three new files per run.
// - 'unstamped': the plain capture traces/qemu-plain/10.0/bar-move (a user without the tracer:
//   strace -f -tt, QEMU's -trace log without -msg timestamp=on, lspci -vvv -xxxx), repeated: the
//   logs share no clock, so the import aligns them by the accesses both show.
import { createWriteStream, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';

const DAY_US = 86_400_000_000n;
const PID_STEP = 16;

interface Session {
  strace: string[];
  qemu: string[];
  ioctlArgs: string[];
  /** Microseconds one run takes, rounded up (the shift between repetitions). */
  spanUs: bigint;
}

function lines(path: string): string[] {
  const t = readFileSync(path, 'latin1');
  return t.split('\n').slice(0, t.endsWith('\n') ? -1 : undefined);
}

const STRACE = /^(\d+)(\s+)(\d\d):(\d\d):(\d\d)\.(\d{6})(.*)$/;
const QEMU = /^(\d+)@(\d+)\.(\d{6})(:.*)$/;
const FTRACE = /^(\s*.*?-)(\d+)(\s+\[\d+\]\s+\S+\s+)(\d+)\.(\d{6})(:.*)$/;

function todUs(m: RegExpExecArray): bigint {
  return ((BigInt(m[3]!) * 60n + BigInt(m[4]!)) * 60n + BigInt(m[5]!)) * 1_000_000n + BigInt(m[6]!);
}

function readSession(dir: string, files: { strace: string; qemu: string; ioctlArgs: string | null }): Session {
  const strace = lines(join(dir, files.strace));
  const stamps = strace.map((l) => STRACE.exec(l)).filter((m): m is RegExpExecArray => m !== null).map(todUs);
  const span = stamps.length ? stamps[stamps.length - 1]! - stamps[0]! : 0n;
  // One second between runs, rounded to whole seconds so every clock shifts by the same amount.
  const spanUs = ((span + 2_000_000n) / 1_000_000n) * 1_000_000n;
  return { strace, qemu: lines(join(dir, files.qemu)), ioctlArgs: files.ioctlArgs === null ? [] : lines(join(dir, files.ioctlArgs)), spanUs };
}

const pad = (n: bigint, w: number): string => n.toString().padStart(w, '0');

/** Repetition `k` of each file's lines: pids + k*PID_STEP, clocks + k*span. */
function shifted(s: Session, k: number, pidStep = PID_STEP): { strace: string; qemu: string; ioctlArgs: string } {
  const dUs = BigInt(k) * s.spanUs;
  const dPid = k * pidStep;
  const strace = s.strace.map((l) => {
    const m = STRACE.exec(l);
    if (!m) return l;
    const t = (todUs(m) + dUs) % DAY_US;
    const sec = t / 1_000_000n;
    return `${Number(m[1]) + dPid}${m[2]}${pad(sec / 3600n, 2)}:${pad((sec / 60n) % 60n, 2)}:${pad(sec % 60n, 2)}.${pad(t % 1_000_000n, 6)}${m[7]}`;
  });
  const qemu = s.qemu.map((l) => {
    const m = QEMU.exec(l);
    if (!m) return l;
    const t = BigInt(m[2]!) * 1_000_000n + BigInt(m[3]!) + dUs;
    return `${Number(m[1]) + dPid}@${t / 1_000_000n}.${pad(t % 1_000_000n, 6)}${m[4]}`;
  });
  const ioctlArgs = s.ioctlArgs.map((l) => {
    const m = FTRACE.exec(l);
    if (!m) return l;
    const t = BigInt(m[4]!) * 1_000_000n + BigInt(m[5]!) + dUs;
    return `${m[1]}${Number(m[2]) + dPid}${m[3]}${t / 1_000_000n}.${pad(t % 1_000_000n, 6)}${m[6]}`;
  });
  return { strace: strace.join('\n') + '\n', qemu: qemu.join('\n') + '\n', ioctlArgs: ioctlArgs.join('\n') + '\n' };
}

async function write(ws: WriteStream, text: string): Promise<void> {
  if (!ws.write(text)) await new Promise<void>((r) => ws.once('drain', () => r()));
}

async function close(ws: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => ws.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** The tracer's directory, its strace as -ff files, or the plain capture without a shared clock. */
export type ImportInputKind = 'tracer' | 'ff' | 'unstamped';
export const IMPORT_INPUT_KINDS: readonly ImportInputKind[] = ['tracer', 'ff', 'unstamped'];

export interface ImportInput {
  dir: string;
  /** The import command's inputs (files and directories) for this input. */
  args: string[];
  /** Total bytes of strace.log + qemu.log + ioctl-args. */
  bytes: number;
  repetitions: number;
  /** Seconds spent writing it (0 when it came from the cache). */
  generatedS: number;
}

const SOURCES: Record<ImportInputKind, { capture: string; files: { strace: string; qemu: string; ioctlArgs: string | null }; out: { qemu: string; ioctlArgs: string | null }; copy: string[] }> = {
  tracer: { capture: 'traces/qemu/10.0/bar-move', files: { strace: 'strace.log', qemu: 'qemu.log', ioctlArgs: 'ioctl-args' }, out: { qemu: 'qemu.log', ioctlArgs: 'ioctl-args' }, copy: ['sysfs'] },
  ff: { capture: 'traces/qemu/10.0/bar-move', files: { strace: 'strace.log', qemu: 'qemu.log', ioctlArgs: 'ioctl-args' }, out: { qemu: 'qemu.log', ioctlArgs: 'ioctl-args' }, copy: ['sysfs'] },
  unstamped: { capture: 'traces/qemu-plain/10.0/bar-move', files: { strace: 'qemu.strace', qemu: 'qemu-trace.log', ioctlArgs: null }, out: { qemu: 'qemu-trace.log', ioctlArgs: null }, copy: ['lspci.txt'] },
};

/**
 * A `strace -f` log as `strace -ff` writes it: each task's lines (the pid column dropped) by pid.
 * Only for logs without `<unfinished ...>` lines (-ff prints those calls whole).
 */
export function straceByTask(log: string): Map<number, string> {
  const byTask = new Map<number, string[]>();
  for (const l of log.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(l);
    if (!m) continue;
    if (m[2]!.includes('<unfinished ...>')) throw new Error('straceByTask: a log with <unfinished ...> lines');
    const pid = Number(m[1]);
    const list = byTask.get(pid) ?? [];
    list.push(m[2]!);
    byTask.set(pid, list);
  }
  return new Map([...byTask].map(([pid, ls]) => [pid, ls.join('\n') + '\n']));
}

/** The import arguments of a generated directory of `kind`. */
function argsOf(kind: ImportInputKind, dir: string): string[] {
  if (kind === 'tracer') return [dir];
  if (kind === 'ff') return [dir, ...readdirSync(dir).filter((f) => /^strace\.\d+$/.test(f)).sort().map((f) => join(dir, f))];
  return ['qemu.strace', 'qemu-trace.log', 'lspci.txt'].map((f) => join(dir, f));
}

/** The strace bytes of a generated directory (strace.log, the -ff files, or qemu.strace). */
function straceFiles(kind: ImportInputKind, dir: string): string[] {
  if (kind === 'ff') return readdirSync(dir).filter((f) => /^strace\.\d+$/.test(f)).map((f) => join(dir, f));
  return [join(dir, kind === 'tracer' ? 'strace.log' : 'qemu.strace')];
}

/**
 * A tracer directory of about `size` bytes (strace + QEMU log + ioctl-args) in `cache`, written
 * once (atomically: a temp directory renamed) and reused by later runs.
 */
export async function importInput(repo: string, cache: string, size: number, kind: ImportInputKind = 'tracer'): Promise<ImportInput> {
  const src = SOURCES[kind];
  const source = join(repo, src.capture);
  const s = readSession(source, src.files);
  const per = [...s.strace, ...s.qemu, ...s.ioctlArgs].reduce((n, l) => n + l.length + 1, 0);
  const repetitions = Math.max(1, Math.round(size / per));
  const dir = join(cache, `import-bar-move${kind === 'tracer' ? '' : `-${kind}`}-x${repetitions}`);
  const others = [src.out.qemu, ...(src.out.ioctlArgs ? [src.out.ioctlArgs] : [])];
  const sizeOf = (d: string): number => [...straceFiles(kind, d), ...others.map((f) => join(d, f))].reduce((n, f) => n + statSync(f).size, 0);
  // The last file written marks a complete directory.
  const last = kind === 'unstamped' ? 'lspci.txt' : 'info';
  if (existsSync(join(dir, last))) return { dir, args: argsOf(kind, dir), bytes: sizeOf(dir), repetitions, generatedS: 0 };
  const t0 = process.hrtime.bigint();
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const c of src.copy) if (c !== last) cpSync(join(source, c), join(tmp, c), { recursive: true });
  const qemu = createWriteStream(join(tmp, src.out.qemu));
  const ioctlArgs = src.out.ioctlArgs ? createWriteStream(join(tmp, src.out.ioctlArgs)) : null;
  // -ff: one stream per task (the pid column goes: the file name carries it).
  const perTask = new Map<number, WriteStream>();
  const single = kind === 'ff' ? null : createWriteStream(join(tmp, src.files.strace));
  for (let k = 0; k < repetitions; k++) {
    const r = shifted(s, k, kind === 'ff' ? 0 : PID_STEP);
    if (single) await write(single, r.strace);
    else {
      for (const [pid, text] of straceByTask(r.strace)) {
        let ws = perTask.get(pid);
        if (!ws) perTask.set(pid, (ws = createWriteStream(join(tmp, `strace.${pid}`))));
        await write(ws, text);
      }
    }
    await write(qemu, r.qemu);
    if (ioctlArgs) await write(ioctlArgs, r.ioctlArgs);
  }
  await Promise.all([...(single ? [single] : [...perTask.values()]), qemu, ...(ioctlArgs ? [ioctlArgs] : [])].map(close));
  cpSync(join(source, last), join(tmp, last));
  renameSync(tmp, dir);
  return { dir, args: argsOf(kind, dir), bytes: sizeOf(dir), repetitions, generatedS: Number(process.hrtime.bigint() - t0) / 1e9 };
}
