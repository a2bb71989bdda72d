// The fuzz campaign (issue 19): mutated committed inputs through the parsers, decoders, importers
// and the replay in-process, and a smaller number through the built CLI. An input is a CRASHER when
// it ends in anything but a value or a located bad-input error: a thrown non-UserError, a UserError
// that names no file, a CLI exit other than 0/1/2/125, or a stack trace on stderr. Crashers are
// saved with a one-line repro.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { UserError } from '../src/errors.js';
import { importTrace } from '../src/import/importer.js';
import { Replayer, type ModelSelection } from '../src/replay/engine.js';
import { selectVersions } from '../src/replay/select-versions.js';
import { decodePackets } from '../src/trace/codec.js';
import { parseText } from '../src/trace/text-parse.js';
import type { TraceEvent, TraceHeader } from '../src/trace/types.js';
import { Rng, mutateBytes, mutateText } from './mutate.js';

export const TARGETS = ['pb', 'text', 'strace', 'qemu', 'cli'] as const;
export type Target = (typeof TARGETS)[number];

export interface CampaignOptions {
  repo: string;
  targets: Target[];
  /** In-process inputs per target. */
  count: number;
  /** Inputs per target through the built CLI. */
  cliCount: number;
  seed: number;
  /** Where crashers are saved; null: not saved (the test slice). */
  crashDir: string | null;
}

export interface TargetReport {
  target: Target;
  inputs: number;
  /** outcome class -> count: ok, bad-input (located), crash, and exit-N for CLI runs. */
  outcomes: Record<string, number>;
  crashers: { repro: string; error: string }[];
}

const MAX_SEED_BYTES = 48 * 1024;
const SEEDS_PER_TARGET = 16;
const FALLBACK: ModelSelection = { kernel: 'linux-6.12', vmm: null };

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** The committed inputs a target mutates: the smallest few of its kind (fast to run, varied). */
export function seedFiles(repo: string, target: Target): string[] {
  const all = [...walk(join(repo, 'traces')), ...walk(join(repo, 'test/fixtures'))];
  const want = (p: string): boolean => {
    switch (target) {
      case 'pb':
      case 'cli':
        return p.endsWith('.pb');
      case 'text':
        return p.endsWith('.txt') && /^vfio-trace \d/m.test(readFileSync(p, 'utf8').slice(0, 4096));
      case 'strace':
        return p.endsWith('.strace') || p.endsWith('strace.log');
      case 'qemu':
        return /qemu(-trace)?\.log$/.test(p);
    }
  };
  const files = all.filter((p) => statSync(p).size <= MAX_SEED_BYTES && statSync(p).size > 0 && want(p));
  files.sort((a, b) => statSync(a).size - statSync(b).size || (a < b ? -1 : 1));
  // Spread over the size range rather than only the tiniest.
  const step = Math.max(1, Math.floor(files.length / SEEDS_PER_TARGET));
  return files.filter((_, i) => i % step === 0).slice(0, SEEDS_PER_TARGET);
}

/** Replays headers and events in-process as `replay` does; selection errors are bad input. */
function replayAll(packets: Iterable<{ type: 'header'; header: TraceHeader } | { type: 'event'; event: TraceEvent }>, file: string): void {
  let r: Replayer | null = null;
  for (const p of packets) {
    if (p.type === 'header') {
      let sel = FALLBACK;
      try {
        sel = selectVersions(p.header, {}, file).selection;
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
      }
      r = new Replayer(p.header, sel);
    } else if (r !== null) r.apply(p.event);
  }
}

function traceAsPackets(t: { header: TraceHeader; events: TraceEvent[]; moreHeaders?: { before: number; header: TraceHeader }[] }) {
  const out: ({ type: 'header'; header: TraceHeader } | { type: 'event'; event: TraceEvent })[] = [{ type: 'header', header: t.header }];
  const more = t.moreHeaders ?? [];
  let h = 0;
  t.events.forEach((event, i) => {
    while (h < more.length && more[h].before === i) out.push({ type: 'header', header: more[h++].header });
    out.push({ type: 'event', event });
  });
  return out;
}

/** Runs one in-process input of `target`; throws what the code under test throws. */
function runInProcess(target: Target, input: Uint8Array, file: string): void {
  switch (target) {
    case 'pb':
    case 'cli': {
      const packets = [...decodePackets(input, file)];
      replayAll(packets as never, file);
      return;
    }
    case 'text':
      replayAll(traceAsPackets(parseText(Buffer.from(input).toString('utf8'), file)), file);
      return;
    case 'strace':
    case 'qemu': {
      writeFileSync(file, input);
      const { trace } = importTrace(target === 'strace' ? { strace: file, allowEmpty: true, tracerVersion: 'fuzz' } : { qemuLog: file, allowEmpty: true, tracerVersion: 'fuzz' });
      replayAll(traceAsPackets(trace), file);
      return;
    }
  }
}

function classify(err: unknown, file: string): 'bad-input' | 'crash' {
  return err instanceof UserError && err.message.includes(file) ? 'bad-input' : 'crash';
}

const EXT: Record<Target, string> = { pb: 'pb', cli: 'pb', text: 'txt', strace: 'strace', qemu: 'log' };

/** The CLI command that runs an input of `target` the way users do. */
function cliArgs(target: Target, file: string, out: string, rng: Rng): string[] {
  switch (target) {
    case 'pb':
      return rng.pick([['replay', file], ['info', file], ['dump', file], ['check', file]]);
    case 'text':
      return rng.pick([['encode', file, '-o', out], ['dump', file], ['replay', file], ['info', file, '--json']]);
    case 'strace':
      return ['import', '--strace', file, '-o', out, '--allow-empty', '-q'];
    case 'qemu':
      return ['import', '--qemu-log', file, '-o', out, '--allow-empty', '-q'];
    case 'cli':
      return randomFlags(rng, file, out);
  }
}

const COMMANDS = ['replay', 'check', 'bisect', 'dump', 'encode', 'info', 'versions', 'import', 'minimize', 'matrix', 'help', 'nope'];
const VALUES = ['', '-', '0', '-1', '3/2', '0/0', '1/1', '99999999999999999999', 'linux-6.12', 'linux-99', 'qemu-10.0', 'none', 'openvmm-3609', '\u{1F600}', 'a'.repeat(5000), '--', '-x', '.', '/nonexistent/x.pb'];
const FLAGS = ['--kernel', '--vmm', '--context', '--jobs', '--shard', '--json', '--summary-only', '-o', '--update', '--junit', '--verbose', '--help', '--version', '--strace', '--qemu-log', '--event', '--between', '--no-such-flag', '-u', '-q'];

function randomFlags(rng: Rng, file: string, out: string): string[] {
  const args = [rng.pick(COMMANDS)];
  const n = rng.int(5);
  for (let i = 0; i < n; i++) {
    switch (rng.int(4)) {
      case 0:
        args.push(file);
        break;
      case 1:
        args.push(rng.pick(FLAGS));
        break;
      case 2:
        args.push(rng.pick(FLAGS), rng.pick(VALUES));
        break;
      default:
        args.push(rng.pick(VALUES));
    }
  }
  // Never let a fuzzed --update/-o write into the repository: outputs go to the scratch folder.
  return args.map((a) => (a === '.' ? out : a));
}

function saveCrasher(opts: CampaignOptions, target: Target, input: Uint8Array, args: string[] | null, error: string): string {
  const id = createHash('sha256').update(input).digest('hex').slice(0, 12);
  const base = opts.crashDir === null ? join('fuzz-crashers', target, `${id}.${EXT[target]}`) : join(opts.crashDir, target, `${id}.${EXT[target]}`);
  const cmd = (args ?? cliArgs(target, base, '/tmp/fuzz-out.pb', new Rng(0))).map((a) => (a.includes(' ') || a === '' ? JSON.stringify(a) : a));
  const repro = `node dist/src/cli/main.js ${cmd.join(' ')}   # ${error.split('\n')[0].slice(0, 200)}`;
  if (opts.crashDir !== null) {
    mkdirSync(join(opts.crashDir, target), { recursive: true });
    writeFileSync(base, input);
    writeFileSync(`${base}.repro`, repro + '\n');
  }
  return repro;
}

export function runTarget(opts: CampaignOptions, target: Target, progress?: (done: number) => void): TargetReport {
  const report: TargetReport = { target, inputs: 0, outcomes: {}, crashers: [] };
  const seeds = seedFiles(opts.repo, target).map((f) => new Uint8Array(readFileSync(f)));
  if (seeds.length === 0) return report;
  const rng = new Rng(opts.seed ^ (TARGETS.indexOf(target) * 0x9e3779b1));
  const scratch = mkdtempSync(join(tmpdir(), `vfio-fuzz-${target}-`));
  const file = join(scratch, `input.${EXT[target]}`);
  const count = (k: string): void => {
    report.outcomes[k] = (report.outcomes[k] ?? 0) + 1;
  };
  const seen = new Set<string>();
  const mutate = (): Uint8Array => {
    const a = rng.pick(seeds);
    const b = rng.pick(seeds);
    if (target === 'pb' || target === 'cli') return mutateBytes(rng, a, b);
    const ta = Buffer.from(a).toString('latin1');
    return Buffer.from(mutateText(rng, ta, Buffer.from(b).toString('latin1')), 'latin1');
  };
  try {
    const inProcess = target === 'cli' ? 0 : opts.count;
    for (let i = 0; i < inProcess; i++) {
      const input = mutate();
      report.inputs++;
      try {
        runInProcess(target, input, file);
        count('ok');
      } catch (err) {
        const k = classify(err, file);
        count(k);
        if (k === 'crash') {
          const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
          const key = msg.replace(/\d+/g, 'N').slice(0, 120);
          if (!seen.has(key)) {
            seen.add(key);
            report.crashers.push({ repro: saveCrasher(opts, target, input, null, msg), error: msg });
          }
        }
      }
      if (progress && i % 1000 === 999) progress(i + 1);
    }
    const cli = join(opts.repo, 'dist/src/cli/main.js');
    for (let i = 0; i < opts.cliCount; i++) {
      const input = mutate();
      writeFileSync(file, input);
      const out = join(scratch, 'out.pb');
      const args = cliArgs(target, file, out, rng);
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: scratch, encoding: 'utf8', timeout: 60_000, env: { ...process.env, CI: '' } });
      report.inputs++;
      const code = r.status;
      const stack = /^\s+at .*[\\/].*:\d+:\d+\)?$/m.test(r.stderr);
      const ok = code !== null && [0, 1, 2, 125].includes(code) && !stack;
      count(ok ? `exit-${code}` : 'crash');
      if (!ok) {
        const msg = `exit ${code ?? r.signal}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`;
        const key = `${code}:${r.stderr.split('\n')[0].replace(/\d+/g, 'N').slice(0, 120)}`;
        if (!seen.has(key)) {
          seen.add(key);
          const shown = args.map((a) => (a === file ? join(relative(opts.repo, opts.crashDir ?? 'fuzz-crashers'), target, `${createHash('sha256').update(input).digest('hex').slice(0, 12)}.${EXT[target]}`) : a));
          report.crashers.push({ repro: saveCrasher(opts, target, input, shown, msg), error: msg });
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return report;
}
