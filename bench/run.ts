// `npm run bench`: one run, one machine, one table. Measures vfio-replay against the limits the
// performance goals are stated in (issue 9), never asserted by tests:
//   - events/s of a bare protobufjs decode loop over a trace (the limit), of `info`, `replay`,
//     `check`, each as a ratio to the bare decode. Measured IN-PROCESS (the library code each
//     command runs; see throughput.ts), after a warm-up, median of --runs passes: with a CLI child
//     run, ~0.3 s of node start-up would dominate a 10 MB trace. The CLI's end-to-end times and
//     its start-up are printed too, measured apart;
//   - peak RSS of replaying a small and a big trace with the CLI (child processes), and the ratio;
//   - `check` (CLI) over a corpus of small traces with --jobs 1 and with one process per core;
//   - replays `bisect` spends over 8, 16 and 64 versions; replays `minimize` spends on one capture;
//   - the lab scenario set: model replay time next to the lab's recorded wall time (lab-wall.ts).
// Generated traces are cached (deterministic per size and seed) in --cache, so a second run does
// not spend 15 minutes writing the 1 GB trace again. `npm run bench -- --quick` fits in minutes.
import { spawn, spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem, tmpdir, type as osType, release as osRelease } from 'node:os';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generate, parseSize } from './generate.js';
import { interleavedMedians, median, median3Seconds, type Measured } from './measure.js';
import { bareDecode, checkPass, infoPass, replayPass } from './throughput.js';
import { labWallTime, randomCampaignRows } from './lab-wall.js';
import { loadTrace } from '../src/trace/index.js';
import { bisectReplayCounts } from '../src/bisect/cost.js';
import { replayFile } from '../src/replay/run.js';
import { defaultProcesses, jobWork, runCheck } from '../src/golden/check.js';
import { minimizeTrace } from '../src/minimize/index.js';
import { raceRows } from './races.js';
import { importRows } from './import-rss.js';
import { IMPORT_INPUT_KINDS, type ImportInputKind } from './import-inputs.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/bench
const root = resolve(here, '..', '..');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const rssHook = join(here, 'rss-hook.js');

interface Row {
  what: string;
  value: string;
  target: string;
  verdict: string;
}

interface CliRun {
  seconds: number;
  rssKiB: number;
  /** User + system CPU of the CLI process and its shard processes. */
  cpuSeconds: number;
  status: number;
  stderr: string;
}

/** Runs the built CLI as a user would, timing it and reading its peak RSS through the preload hook. */
function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const rssFile = join(tmpdir(), `vfio-replay-bench-rss-${process.pid}-${Date.now()}`);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, BENCH_RSS_FILE: rssFile };
  delete childEnv.CI; // goldens are created by the benchmark itself
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', rssHook, cli, ...args], {
    env: childEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let rssKiB = 0;
  let cpuSeconds = 0;
  if (existsSync(rssFile)) {
    // The CLI process exits last: its line (peak RSS, CPU with its children's) is the last one.
    const last = readFileSync(rssFile, 'utf8').trim().split('\n').pop()!.split(' ');
    rssKiB = Number(last[0]);
    cpuSeconds = Number(last[1] ?? 0);
    rmSync(rssFile);
  }
  return { seconds, rssKiB, cpuSeconds, status: r.status ?? -1, stderr: r.stderr.toString() };
}

/** The smallest number of 4 KiB traces for which check's default starts a second process. */
function firstParallelCount(): number {
  let k = 1;
  while (defaultProcesses(k * jobWork(4096), 2) < 2) k++;
  return k;
}

/** Wall seconds of `n` plain `check --jobs 1 --shard k/n` processes started together (all must pass). */
async function independentShards(corpus: string, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const codes = await Promise.all(
    Array.from({ length: n }, (_, k) =>
      new Promise<number>((resolveExit) => {
        const c = spawn(process.execPath, [cli, 'check', '--jobs', '1', '--shard', `${k + 1}/${n}`, corpus], { stdio: 'ignore', env: { ...process.env, CI: '' } });
        c.on('close', (code) => resolveExit(code ?? -1));
      }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (codes.some((c) => c !== 0)) throw new Error(`bench: independent shard checks of ${corpus} exited ${codes.join(', ')}`);
  return seconds;
}

function mustSucceed(run: CliRun, what: string, okStatus: number[] = [0]): CliRun {
  if (!okStatus.includes(run.status)) {
    process.stderr.write(`bench: ${what} exited ${run.status}\n${run.stderr}\n`);
    process.exit(1);
  }
  return run;
}

const fmtRate = (n: number): string => `${Math.round(n).toLocaleString('en-US')} ev/s`;
const fmtMiB = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
const fmtSize = (bytes: number): string => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`);
const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');
const progress = (s: string): void => {
  process.stderr.write(`bench: ${s}\n`);
};

function writeVersions(tracePath: string, version: string): string {
  const listing = tracePath.replace(/\.pb$/, '.versions');
  writeFileSync(listing, `# benchmark corpus\n${version}\n`);
  return listing;
}

/** A generated trace of `size` bytes from `seed`, from the cache when an earlier run wrote it. */
async function cachedTrace(cache: string, size: number, seed: number): Promise<{ path: string; events: number; bytes: number }> {
  mkdirSync(cache, { recursive: true });
  const path = join(cache, `synthetic-${size}-s${seed}.pb`);
  const meta = path.replace(/\.pb$/, '.json');
  if (existsSync(path) && existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { events: number; bytes: number };
    if (statSync(path).size === m.bytes) return { path, ...m };
  }
  progress(`generating ${fmtSize(size)} trace (seed ${seed}) in ${cache}`);
  const r = await generate(path, size, seed);
  writeFileSync(meta, JSON.stringify(r) + '\n');
  return { path, ...r };
}

function rateCell(m: Measured, bare: Measured | null): string {
  const rate = m.units / m.wallS;
  if (bare === null) return `${fmtRate(rate)} (cpu ${fmtRate(m.units / m.cpuS)})`;
  const ratio = rate / (bare.units / bare.wallS);
  const cpuRatio = m.units / m.cpuS / (bare.units / bare.cpuS);
  return `${fmtRate(rate)} = ${ratio.toFixed(2)}x bare (by cpu time ${cpuRatio.toFixed(2)}x)`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      small: { type: 'string' },
      big: { type: 'string' },
      corpus: { type: 'string' },
      runs: { type: 'string', default: '3' },
      cache: { type: 'string', default: join(tmpdir(), 'vfio-replay-bench-cache') },
      keep: { type: 'boolean', default: false },
      // The import rows' input sizes (strace + QEMU log + ioctl-args), and `--only import|check`.
      'import-small': { type: 'string' },
      'import-big': { type: 'string' },
      // Which import rows (tracer,ff,unstamped; default all).
      'import-inputs': { type: 'string' },
      only: { type: 'string' },
    },
  });
  const quick = values.quick === true;
  const smallSize = parseSize(values.small ?? (quick ? '2MB' : '10MB'));
  const bigSize = parseSize(values.big ?? (quick ? '100MB' : '1GB'));
  const corpusCount = Number(values.corpus ?? (quick ? '200' : '1000'));
  const runs = Math.max(1, Number(values.runs));
  const cache = values.cache!;
  const work = mkdtempSync(join(tmpdir(), 'vfio-replay-bench-'));
  const rows: Row[] = [];
  const notes: string[] = [];
  /** The ratios issue 19 names, printed together at the end for the docs table. */
  const ratios: string[] = [];
  const kernel = 'linux-6.19';
  const vmm = 'qemu-10.0';
  const sel = { kernel, vmm };
  const load0 = loadavg();
  const t0 = Date.now();
  const importSizes = { small: parseSize(values['import-small'] ?? (quick ? '2MB' : '10MB')), big: parseSize(values['import-big'] ?? (quick ? '100MB' : '500MB')) };
  const startedAt = t0; // (the try block below has a t0 of its own)
  const addImportRows = async (): Promise<void> => {
    const kinds = values['import-inputs'] === undefined ? IMPORT_INPUT_KINDS : values['import-inputs'].split(',').map((k) => {
      if (!(IMPORT_INPUT_KINDS as readonly string[]).includes(k)) throw new Error(`bench: --import-inputs ${k}: one of ${IMPORT_INPUT_KINDS.join(', ')}`);
      return k as ImportInputKind;
    });
    const r = await importRows(root, cache, importSizes, work, (args) => runCli(args), progress, kinds);
    rows.push(...r.rows);
    notes.push(...r.notes);
  };
  // The corpus rows (`--only check` runs them alone): check of many small traces with --jobs 1 and
  // one process per core, the CPU the parallel path adds, and the threshold where it pays.
  const addCheckCorpusRows = async (): Promise<void> => {
      // --- check over a corpus of small traces (CLI) -----------------------------------------------
      const corpus = join(work, 'corpus');
      mkdirSync(corpus);
      progress(`generating ${corpusCount} small traces`);
      let corpusEvents = 0;
      for (let i = 0; i < corpusCount; i++) {
        const p = join(corpus, `t${String(i).padStart(4, '0')}.pb`);
        corpusEvents += (await generate(p, 4096, 100 + i)).events;
        writeVersions(p, `${kernel}+${vmm}`);
      }
      mustSucceed(runCli(['check', '--update', corpus]), 'corpus check --update');
      const n = availableParallelism();
      progress(`check of the corpus, ${runs} runs each with --jobs 1 and --jobs ${n}`);
      const ones: CliRun[] = [];
      const alls: CliRun[] = [];
      const pairs: number[] = [];
      // The work tree is shared: when the model is rebuilt between runs, the goldens just written go
      // stale and check fails (and times a diff, not a pass). Then: update them and time it again.
      const timedCheck = (jobs: number): CliRun => {
        const r = runCli(['check', '--jobs', String(jobs), corpus]);
        if (r.status === 0) return r;
        progress(`corpus check --jobs ${jobs} exited ${r.status} (model rebuilt meanwhile?): updating the goldens and timing again`);
        mustSucceed(runCli(['check', '--update', corpus]), 'corpus check --update');
        return mustSucceed(runCli(['check', '--jobs', String(jobs), corpus]), `corpus check --jobs ${jobs}`);
      };
      for (let r = 0; r < runs; r++) {
        // Interleaved, so a burst of load from elsewhere hits both sides alike.
        ones.push(timedCheck(1));
        alls.push(timedCheck(n));
        if (n >= 2) pairs.push(await independentShards(corpus, n));
      }
      const one = median3Seconds(ones.map((r) => r.seconds));
      const all = median3Seconds(alls.map((r) => r.seconds));
      const speedup = one / all;
      rows.push({
        what: `check ${corpusCount} small traces (${corpusEvents} events): --jobs 1 vs --jobs ${n}`,
        value: `${one.toFixed(2)} s vs ${all.toFixed(2)} s (${speedup.toFixed(2)}x)`,
        target: n >= 2 ? `>= 1.7x on ${n} cores` : '(one core: n/a)',
        verdict: n >= 2 ? verdict(speedup >= 1.7) : '',
      });
      if (n >= 2) {
        // What the parallel path is up against on this machine: the CPU it adds (each process's
        // start-up and JIT warm-up; a serial run's background compilation rides on the idle core)
        // and N plain `check --shard k/N` processes started side by side, which share nothing.
        const cpu1 = median3Seconds(ones.map((r) => r.cpuSeconds));
        const cpuN = median3Seconds(alls.map((r) => r.cpuSeconds));
        const pair = median3Seconds(pairs);
        rows.push({
          what: `  CPU (user+sys, shard processes included): --jobs 1 vs --jobs ${n}`,
          value: `${cpu1.toFixed(2)} s (${(cpu1 / one).toFixed(2)} cores busy) vs ${cpuN.toFixed(2)} s (${(cpuN / all).toFixed(2)} cores busy): +${(cpuN - cpu1).toFixed(2)} s`,
          target: '',
          verdict: '',
        });
        rows.push({
          what: `  ${n} independent \`check --shard k/${n}\` processes side by side vs --jobs 1`,
          value: `${pair.toFixed(2)} s (${(one / pair).toFixed(2)}x)`,
          target: '',
          verdict: '',
        });
        notes.push(`independent shard processes (wall): ${pairs.map((s) => s.toFixed(2)).join('/')} s`);
      }
      notes.push(`check corpus runs (wall): --jobs 1 ${ones.map((r) => r.seconds.toFixed(2)).join('/')} s; --jobs ${n} ${alls.map((r) => r.seconds.toFixed(2)).join('/')} s`);
      notes.push(`check corpus runs (CPU): --jobs 1 ${ones.map((r) => r.cpuSeconds.toFixed(2)).join('/')} s; --jobs ${n} ${alls.map((r) => r.cpuSeconds.toFixed(2)).join('/')} s`);
      ratios.push(`jobs-${n}/jobs-1 at ${corpusCount} traces ${speedup.toFixed(2)}x`);

      // --- the threshold below which check stays in one process ------------------------------------
      // The same corpus cut to its first K traces (hard links: no copy), K from 125 doubling up to
      // the corpus: the smallest K where --jobs N is at least 1.2x --jobs 1 is where parallel
      // evaluators start to pay (src/golden/check.ts UNITS_PER_PROCESS is set from it).
      if (n >= 2) {
        const names = readdirSync(corpus).filter((f) => f.endsWith('.pb')).sort();
        const files = readdirSync(corpus);
        const cuts: string[] = [];
        let threshold: number | null = null;
        for (let k = 125; k < corpusCount; k *= 2) {
          const sub = join(work, `corpus-${k}`);
          mkdirSync(sub);
          const keep = new Set(names.slice(0, k).map((f) => f.slice(0, -3)));
          for (const f of files) if (keep.has(f.replace(/(\.pb|\.versions|@.*\.golden)$/, ''))) linkSync(join(corpus, f), join(sub, f));
          const t1: number[] = [];
          const tn: number[] = [];
          for (let r = 0; r < runs; r++) {
            t1.push(mustSucceed(runCli(['check', '--jobs', '1', sub]), `check --jobs 1 of ${k}`).seconds);
            tn.push(mustSucceed(runCli(['check', '--jobs', String(n), sub]), `check --jobs ${n} of ${k}`).seconds);
          }
          const x = median3Seconds(t1) / median3Seconds(tn);
          cuts.push(`${k}: ${x.toFixed(2)}x`);
          if (threshold === null && x >= 1.2) threshold = k;
        }
        rows.push({
          what: `parallel check threshold: smallest corpus where --jobs ${n} >= 1.2x --jobs 1`,
          value: `${threshold === null ? `none below ${corpusCount}` : `${threshold} traces`} (${cuts.join(', ')})`,
          target: `default: 2 processes from ${firstParallelCount()} traces of 4 KiB`,
          verdict: '',
        });
        ratios.push(`parallel threshold ${threshold === null ? 'none' : threshold} traces (${cuts.join(', ')})`);
      }
  };
  try {
    if (values.only === 'import') {
      await addImportRows();
      return printTable(rows, notes, ratios, load0, startedAt, runs);
    }
    if (values.only === 'check') {
      await addCheckCorpusRows();
      return printTable(rows, notes, ratios, load0, startedAt, runs);
    }
    if (values.only !== undefined) throw new Error(`bench: --only ${values.only}: the sections that run alone are "import" and "check"`);
    // --- throughput on the small trace (in-process) ----------------------------------------------
    const gen = await cachedTrace(cache, smallSize, 1);
    const small = join(work, 'small.pb');
    symlinkSync(gen.path, small);
    const listing = writeVersions(small, `${kernel}+${vmm}`);
    const up = await runCheck([listing], { update: true, jobs: 1 });
    if (up.exitCode !== 0) throw new Error(`bench: check --update of ${listing} exited ${up.exitCode}`);

    progress(`throughput on ${fmtSize(gen.bytes)} (${gen.events} events): ${runs} interleaved passes each after a warm-up`);
    const [bare, info, replay, check] = await interleavedMedians(runs, [
      () => bareDecode(root, small),
      () => infoPass(small),
      () => replayPass(small, sel),
      () => checkPass(listing, gen.events),
    ]);
    for (const m of [info, replay, check]) {
      if (m.units !== bare.units - 1) throw new Error(`bench: ${m.units} events vs ${bare.units} packets (expected one header)`);
    }
    const passes = (m: Measured): string => m.passes.map((p) => p.wallS.toFixed(2)).join('/') + ' s';
    rows.push({ what: `bare protobufjs decode, ${fmtSize(gen.bytes)} trace (${gen.events} events)`, value: rateCell(bare, null), target: 'the limit', verdict: '' });
    const bareRate = bare.units / bare.wallS;
    for (const [name, short, m, target] of [
      ['info (decode + count)', 'info/decode', info, 0],
      ['replay (decode + model + outcome log)', 'replay/decode', replay, 0.8],
      ['check (replay + golden text + diff)', 'check/decode', check, 0.6],
    ] as const) {
      const ratio = m.units / m.wallS / bareRate;
      rows.push({ what: name, value: rateCell(m, bare), target: target > 0 ? `>= ${target}x bare` : '', verdict: target > 0 ? verdict(ratio >= target) : '' });
      if (short !== 'info/decode') ratios.push(`${short} ${ratio.toFixed(2)}x (by cpu time ${(m.units / m.cpuS / (bare.units / bare.cpuS)).toFixed(2)}x)`);
    }
    notes.push(`passes (wall): bare ${passes(bare)}, info ${passes(info)}, replay ${passes(replay)}, check ${passes(check)}`);

    // --- the same through the CLI, start-up included ---------------------------------------------
    progress('CLI end-to-end runs');
    const startup = median3Seconds([0, 1, 2].map(() => mustSucceed(runCli(['--version']), '--version').seconds));
    const cliInfo = mustSucceed(runCli(['info', small]), 'info');
    const cliReplay = mustSucceed(runCli(['replay', small, '--kernel', kernel, '--vmm', vmm]), 'replay', [0, 1]);
    const cliCheck = mustSucceed(runCli(['check', listing]), 'check', [0, 1]);
    rows.push({
      what: 'CLI wall time, start-up included (same trace)',
      value: `start-up ${startup.toFixed(2)} s; info ${cliInfo.seconds.toFixed(2)} s, replay ${cliReplay.seconds.toFixed(2)} s, check ${cliCheck.seconds.toFixed(2)} s`,
      target: '',
      verdict: '',
    });

    // --- memory: small vs big (CLI child processes) ----------------------------------------------
    const genBig = await cachedTrace(cache, bigSize, 2);
    progress(`replaying the ${fmtSize(genBig.bytes)} trace (${genBig.events} events) for its peak RSS`);
    const replayBig = mustSucceed(runCli(['replay', genBig.path, '--kernel', kernel, '--vmm', vmm, '--summary-only']), 'replay big', [0, 1]);
    const replaySmallRss = mustSucceed(runCli(['replay', small, '--kernel', kernel, '--vmm', vmm, '--summary-only']), 'replay small', [0, 1]);
    const rssRatio = replayBig.rssKiB / replaySmallRss.rssKiB;
    rows.push({
      what: `peak RSS, CLI replay of ${fmtSize(gen.bytes)} vs ${fmtSize(genBig.bytes)} trace`,
      value: `${fmtMiB(replaySmallRss.rssKiB)} vs ${fmtMiB(replayBig.rssKiB)} (${rssRatio.toFixed(2)}x); big replay ${replayBig.seconds.toFixed(0)} s = ${fmtRate(genBig.events / replayBig.seconds)}`,
      target: '<= 2x',
      verdict: verdict(rssRatio <= 2),
    });

    await addCheckCorpusRows();

    // --- bisect cost -----------------------------------------------------------------------------
    const seed004 = await loadTrace(join(root, 'traces', 'seeds', '004-mse-live-mappings', 'mse-live-mappings.pb'));
    const counts = bisectReplayCounts(seed004, { kernel: 'linux-5.7', vmm: null }, { kernel: 'linux-5.8', vmm: null }, [8, 16, 64]);
    for (const c of counts) {
      rows.push({
        what: `bisect replays over ${c.versions} versions (every change position)`,
        value: `max ${c.max}, mean ${c.mean.toFixed(1)}${c.wrong > 0 ? `, ${c.wrong} WRONG answers` : ''}`,
        target: `<= ${c.budget}`,
        verdict: verdict(c.max <= c.budget && c.wrong === 0),
      });
    }

    // --- interleaving explorer (issue 14) --------------------------------------------------------
    progress('race groups: interleavings explored per second, a racing pair on a long trace');
    for (const r of await raceRows(root, runs)) rows.push(r);

    // --- minimize cost ---------------------------------------------------------------------------
    // One real capture that ends in a VMM death, minimized under its own versions: the replays
    // minimize spends against the trace length (ddmin alone would be O(n log n) replays).
    const deathPath = join(root, 'traces', 'qemu', '7.2', 'd3hot-read.pb');
    const death = await loadTrace(deathPath);
    const t0 = process.hrtime.bigint();
    const min = minimizeTrace(death, deathPath, { kind: 'outcome', terms: ['vmm-exit'] }, [{ kernel: 'linux-6.1', vmm: 'qemu-7.2' }]);
    const minS = Number(process.hrtime.bigint() - t0) / 1e9;
    rows.push({
      what: `minimize qemu 7.2 d3hot-read (${min.before} events) to its VMM death`,
      value: `${min.trace.events.length} events, ${min.replays} replays (${(min.replays / min.before).toFixed(2)} per event), ${(minS * 1000).toFixed(0)} ms`,
      target: '',
      verdict: '',
    });

    // --- model vs lab ----------------------------------------------------------------------------
    const labRoot = join(root, 'traces', 'lab');
    if (existsSync(labRoot)) {
      for (const k of readdirSync(labRoot).sort()) {
        const dir = join(labRoot, k);
        // Release folders only (traces/lab/found and traces/lab/random are the random campaign's).
        if (!statSync(dir).isDirectory() || !/^\d/.test(k)) continue;
        const traces = readdirSync(dir)
          .filter((f) => f.endsWith('.pb'))
          .map((f) => join(dir, f));
        // The model's time: every scenario replayed in-process under the versions its header names.
        // A scenario set replays in tens of milliseconds, where one scheduling hiccup on a loaded
        // machine doubles a pass: more passes for the median here, they are cheap.
        const model = await median(Math.max(runs, 9), async () => {
          let events = 0;
          for (const t of traces) events += (await replayFile(t, {}, { event: () => undefined })).events;
          return events;
        });
        const cliRun = runCli(['check', '--jobs', '1', dir]);
        const lab = labWallTime(root, k);
        const cliNote = `; CLI check of the set ${cliRun.seconds.toFixed(2)} s`;
        if (lab.ms === null) {
          rows.push({ what: `lab ${k}: ${traces.length} scenarios, model vs lab`, value: `model ${(model.wallS * 1000).toFixed(0)} ms; lab n/a: ${lab.reason}${cliNote}`, target: '>= 1000x', verdict: 'n/a' });
          continue;
        }
        const ratio = lab.ms / 1000 / model.wallS;
        rows.push({
          what: `lab ${k}: ${traces.length} scenarios, model vs lab`,
          value: `model ${(model.wallS * 1000).toFixed(0)} ms vs lab ${(lab.ms / 1000).toFixed(1)} s (${Math.round(ratio)}x)${cliNote}`,
          target: '>= 1000x',
          verdict: verdict(ratio >= 1000),
        });
        notes.push(`lab ${k} wall time: ${lab.source}`);
      }
      for (const r of randomCampaignRows(root)) rows.push(r);
    }

    // --- import: peak RSS of a small and a big capture (CLI) -------------------------------------
    await addImportRows();
  } finally {
    if (values.keep !== true) rmSync(work, { recursive: true, force: true });
    else progress(`kept ${work}`);
  }
  printTable(rows, notes, ratios, load0, t0, runs);
}

function printTable(rows: Row[], notes: string[], ratios: string[], load0: number[], t0: number, runs: number): void {
  const load1 = loadavg();
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(`vfio-replay bench: ${osType()} ${osRelease()}, ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  console.log(
    `load average at start ${load0.map((x) => x.toFixed(1)).join(' ')}, at end ${load1.map((x) => x.toFixed(1)).join(' ')}; took ${((Date.now() - t0) / 60000).toFixed(1)} min; rates are the median of ${runs} interleaved in-process passes after a warm-up`,
  );
  console.log('');
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => [r.what, r.value, r.target, r.verdict][i].length), ['what', 'value', 'target', 'verdict'][i].length));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(['what', 'value', 'target', 'verdict']));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line([r.what, r.value, r.target, r.verdict]));
  console.log('');
  for (const n of notes) console.log(`- ${n}`);
  console.log('');
  if (ratios.length) console.log(`ratios (load ${load0[0].toFixed(1)} -> ${load1[0].toFixed(1)}): ${ratios.join('; ')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
