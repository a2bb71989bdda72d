// Big import inputs for the bench's import peak-RSS rows (issue 19 item 3): a tracer output
// directory (strace.log + qemu.log + ioctl-args + info + sysfs/) made from a committed real capture
// (traces/qemu/10.0/bar-move: QEMU 10.0 moving a BAR of an e1000e on vfio-pci) by repeating the
// whole session, each repetition a fresh VMM run: its pids (strace's pid column, QEMU's PID@,
// ftrace's COMM-TID) moved past the previous run's and its clocks (strace -tt time of day, QEMU's
// epoch stamps, ftrace's uptime) moved past the previous run's end. So the import does what it
// does on the real capture, N times over: time merge of strace and the QEMU log, every VFIO ioctl
// paired with its argument record. Mapping addresses and fd numbers stay: each run's munmaps
// and closes release what it set up, as the real run did.
import { createWriteStream, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
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

function readSession(dir: string): Session {
  const strace = lines(join(dir, 'strace.log'));
  const stamps = strace.map((l) => STRACE.exec(l)).filter((m): m is RegExpExecArray => m !== null).map(todUs);
  const span = stamps.length ? stamps[stamps.length - 1]! - stamps[0]! : 0n;
  // One second between runs, rounded to whole seconds so every clock shifts by the same amount.
  const spanUs = ((span + 2_000_000n) / 1_000_000n) * 1_000_000n;
  return { strace, qemu: lines(join(dir, 'qemu.log')), ioctlArgs: lines(join(dir, 'ioctl-args')), spanUs };
}

const pad = (n: bigint, w: number): string => n.toString().padStart(w, '0');

/** Repetition `k` of each file's lines: pids + k*PID_STEP, clocks + k*span. */
function shifted(s: Session, k: number): { strace: string; qemu: string; ioctlArgs: string } {
  const dUs = BigInt(k) * s.spanUs;
  const dPid = k * PID_STEP;
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

export interface ImportInput {
  dir: string;
  /** Total bytes of strace.log + qemu.log + ioctl-args. */
  bytes: number;
  repetitions: number;
  /** Seconds spent writing it (0 when it came from the cache). */
  generatedS: number;
}

/**
 * A tracer directory of about `size` bytes (strace + QEMU log + ioctl-args) in `cache`, written
 * once (atomically: a temp directory renamed) and reused by later runs.
 */
export async function importInput(repo: string, cache: string, size: number): Promise<ImportInput> {
  const source = join(repo, 'traces/qemu/10.0/bar-move');
  const s = readSession(source);
  const per = [...s.strace, ...s.qemu, ...s.ioctlArgs].reduce((n, l) => n + l.length + 1, 0);
  const repetitions = Math.max(1, Math.round(size / per));
  const dir = join(cache, `import-bar-move-x${repetitions}`);
  const sizeOf = (d: string): number => ['strace.log', 'qemu.log', 'ioctl-args'].reduce((n, f) => n + statSync(join(d, f)).size, 0);
  if (existsSync(join(dir, 'info'))) return { dir, bytes: sizeOf(dir), repetitions, generatedS: 0 };
  const t0 = process.hrtime.bigint();
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  cpSync(join(source, 'sysfs'), join(tmp, 'sysfs'), { recursive: true });
  const out = {
    strace: createWriteStream(join(tmp, 'strace.log')),
    qemu: createWriteStream(join(tmp, 'qemu.log')),
    ioctlArgs: createWriteStream(join(tmp, 'ioctl-args')),
  };
  for (let k = 0; k < repetitions; k++) {
    const r = shifted(s, k);
    await write(out.strace, r.strace);
    await write(out.qemu, r.qemu);
    await write(out.ioctlArgs, r.ioctlArgs);
  }
  await Promise.all([close(out.strace), close(out.qemu), close(out.ioctlArgs)]);
  // The info file last: its presence marks a complete directory.
  cpSync(join(source, 'info'), join(tmp, 'info'));
  renameSync(tmp, dir);
  return { dir, bytes: sizeOf(dir), repetitions, generatedS: Number(process.hrtime.bigint() - t0) / 1e9 };
}
