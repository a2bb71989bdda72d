// `npm run bench`: one run, one machine, one table. Measures vfio-replay against the limits the
// performance goals are stated in (issue 9), never asserted by tests:
//   - events/s of a bare protobufjs decode loop over a trace (the limit), of `info`, `replay`,
//     `check`, each as a ratio to the bare decode;
//   - peak RSS of replaying a small and a big trace, and their ratio;
//   - `check` over a corpus of small traces with one worker and with every core;
//   - replays `bisect` spends over 8, 16 and 64 versions;
//   - the lab scenario set: model replay time next to the lab's recorded wall time.
// Sizes are flags so a quick run fits in a minute: `npm run bench -- --quick`.
import { spawnSync } from 'node:child_process';
import { cpus, totalmem, tmpdir, type as osType, release as osRelease } from 'node:os';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import protobuf from 'protobufjs';
import { generate, parseSize } from './generate.js';
import { loadTrace } from '../src/trace/index.js';
import { bisectReplayCounts } from '../src/bisect/cost.js';

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
  if (existsSync(rssFile)) {
    rssKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
    rmSync(rssFile);
  }
  return { seconds, rssKiB, status: r.status ?? -1, stderr: r.stderr.toString() };
}

function mustSucceed(run: CliRun, what: string, okStatus: number[] = [0]): CliRun {
  if (!okStatus.includes(run.status)) {
    process.stderr.write(`bench: ${what} exited ${run.status}\n${run.stderr}\n`);
    process.exit(1);
  }
  return run;
}

/** The limit: frame and decode every packet with protobufjs' reflection decoder, nothing else. */
function bareDecode(path: string): { packets: number; seconds: number } {
  const rootNs = protobuf.loadSync(join(root, 'proto', 'vfio_trace.proto'));
  const Packet = rootNs.lookupType('vfio_trace.v1.Packet');
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
  let carry = Buffer.alloc(0);
  let packets = 0;
  const t0 = process.hrtime.bigint();
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, null);
    const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
    let pos = 0;
    while (pos < buf.length) {
      // 0x0a <varint len> <Packet>
      let p = pos + 1;
      let len = 0;
      let shift = 0;
      let complete = false;
      while (p < buf.length) {
        const b = buf[p++];
        len += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || p + len > buf.length) break;
      Packet.decode(buf.subarray(p, p + len));
      packets++;
      pos = p + len;
    }
    carry = Buffer.from(buf.subarray(pos));
    if (n === 0) break;
  }
  closeSync(fd);
  return { packets, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

const fmtRate = (n: number): string => `${Math.round(n).toLocaleString('en-US')} ev/s`;
const fmtMiB = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;
const verdict = (ok: boolean): string => (ok ? 'met' : 'MISSED');

function writeVersions(tracePath: string, version: string): void {
  writeFileSync(tracePath.replace(/\.pb$/, '.versions'), `# benchmark corpus\n${version}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      small: { type: 'string' },
      big: { type: 'string' },
      corpus: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const smallSize = parseSize(values.small ?? (quick ? '2MB' : '10MB'));
  const bigSize = parseSize(values.big ?? (quick ? '100MB' : '1GB'));
  const corpusCount = Number(values.corpus ?? (quick ? '200' : '1000'));
  const work = mkdtempSync(join(tmpdir(), 'vfio-replay-bench-'));
  const rows: Row[] = [];
  const kernel = 'linux-6.19';
  const vmm = 'qemu-10.0';
  try {
    // --- throughput on the small trace ---------------------------------------------------------
    const small = join(work, 'small.pb');
    const gen = await generate(small, smallSize, 1);
    const bare = bareDecode(small);
    const bareRate = bare.packets / bare.seconds;
    rows.push({ what: `bare protobufjs decode (${(gen.bytes / 2 ** 20).toFixed(0)} MiB, ${gen.events} events)`, value: fmtRate(bareRate), target: 'the limit', verdict: '' });
    const info = mustSucceed(runCli(['info', small]), 'info');
    const replay = mustSucceed(runCli(['replay', small, '--kernel', kernel, '--vmm', vmm]), 'replay', [0, 1]);
    writeVersions(small, `${kernel}+${vmm}`);
    mustSucceed(runCli(['check', '--update', small.replace(/\.pb$/, '.versions')]), 'check --update');
    const check = mustSucceed(runCli(['check', small.replace(/\.pb$/, '.versions')]), 'check');
    for (const [name, run, target] of [
      ['info', info, 0],
      ['replay (decode + model + outcome log)', replay, 0.5],
      ['check (replay + diff)', check, 0],
    ] as const) {
      const rate = gen.events / run.seconds;
      const ratio = rate / bareRate;
      rows.push({
        what: name,
        value: `${fmtRate(rate)} (${ratio.toFixed(2)}x bare)`,
        target: target > 0 ? `>= ${target}x bare` : '',
        verdict: target > 0 ? verdict(ratio >= target) : '',
      });
    }

    // --- memory: small vs big ------------------------------------------------------------------
    const big = join(work, 'big.pb');
    const genBig = await generate(big, bigSize, 2);
    const replayBig = mustSucceed(runCli(['replay', big, '--kernel', kernel, '--vmm', vmm, '--summary-only']), 'replay big', [0, 1]);
    const replaySmallRss = mustSucceed(runCli(['replay', small, '--kernel', kernel, '--vmm', vmm, '--summary-only']), 'replay small', [0, 1]);
    rmSync(big);
    const rssRatio = replayBig.rssKiB / replaySmallRss.rssKiB;
    rows.push({
      what: `peak RSS replay ${(gen.bytes / 2 ** 20).toFixed(0)} MiB vs ${(genBig.bytes / 2 ** 20).toFixed(0)} MiB trace`,
      value: `${fmtMiB(replaySmallRss.rssKiB)} vs ${fmtMiB(replayBig.rssKiB)} (${rssRatio.toFixed(2)}x); big: ${fmtRate(genBig.events / replayBig.seconds)}`,
      target: '<= 2x',
      verdict: verdict(rssRatio <= 2),
    });

    // --- check over a corpus of small traces ---------------------------------------------------
    const corpus = join(work, 'corpus');
    mkdirSync(corpus);
    for (let i = 0; i < corpusCount; i++) {
      const p = join(corpus, `t${String(i).padStart(4, '0')}.pb`);
      await generate(p, 4096, 100 + i);
      writeVersions(p, `${kernel}+${vmm}`);
    }
    mustSucceed(runCli(['check', '--update', corpus]), 'corpus check --update');
    const one = mustSucceed(runCli(['check', '--jobs', '1', corpus]), 'corpus check --jobs 1');
    const all = mustSucceed(runCli(['check', '--jobs', String(cpus().length), corpus]), 'corpus check --jobs N');
    const speedup = one.seconds / all.seconds;
    rows.push({
      what: `check ${corpusCount} small traces: 1 worker vs ${cpus().length}`,
      value: `${one.seconds.toFixed(2)} s vs ${all.seconds.toFixed(2)} s (${speedup.toFixed(2)}x)`,
      target: cpus().length >= 2 ? '>= 1.7x on 2 cores' : '(one core: n/a)',
      verdict: cpus().length >= 2 ? verdict(speedup >= 1.7) : '',
    });

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

    // --- model vs lab ----------------------------------------------------------------------------
    const labRoot = join(root, 'traces', 'lab');
    if (existsSync(labRoot)) {
      for (const k of readdirSync(labRoot).sort()) {
        const dir = join(labRoot, k);
        if (!statSync(dir).isDirectory()) continue;
        const meta = join(dir, 'kernel.json');
        const labMs = existsSync(meta) ? (JSON.parse(readFileSync(meta, 'utf8')) as { wallMs?: number }).wallMs : undefined;
        const traces = readdirSync(dir).filter((f) => f.endsWith('.pb'));
        const t0 = process.hrtime.bigint();
        for (const t of traces) mustSucceed(runCli(['replay', join(dir, t), '--summary-only']), `replay ${t}`, [0, 1]);
        const modelS = Number(process.hrtime.bigint() - t0) / 1e9;
        rows.push({
          what: `lab ${k}: ${traces.length} scenarios, model replay vs lab wall time`,
          value:
            labMs === undefined
              ? `${modelS.toFixed(2)} s (lab wall time not recorded in kernel.json)`
              : `${modelS.toFixed(2)} s vs ${(labMs / 1000).toFixed(0)} s (${(labMs / 1000 / modelS).toFixed(0)}x)`,
          target: '>= 1000x',
          verdict: labMs === undefined ? 'n/a' : verdict(labMs / 1000 / modelS >= 1000),
        });
      }
    }
  } finally {
    if (values.keep !== true) rmSync(work, { recursive: true, force: true });
  }

  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  console.log(`vfio-replay bench: ${osType()} ${osRelease()}, ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  console.log('');
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => [r.what, r.value, r.target, r.verdict][i].length), ['what', 'value', 'target', 'verdict'][i].length));
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log(line(['what', 'value', 'target', 'verdict']));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line([r.what, r.value, r.target, r.verdict]));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
