// `npm run lab -- --random N`: random differential testing of the kernel model against the real
// vfio-pci driver. Generates N op sequences (src/lab/random/generate.ts; sequence i of seed S is
// always the same), runs them in the lab guest many per boot (each from a freshly opened device,
// its starting config space recorded), replays each on the kernel model and lists every
// disagreement; then shrinks one sequence per distinct disagreement with ddmin, re-running the
// candidates in the lab (one boot per ddmin round), and writes the shortest under
// traces/lab/found/<kernel>/. docs/lab.md "Random differential testing" has the workflow.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHostDeps } from './lib/host-deps.mjs';
import { fetchKernel, SERIES } from './lib/kernels.mjs';
import { loadTs, buildRunner } from './lib/build.mjs';
import { runBatch } from './lib/batch.mjs';
import { qemu10Command } from './lib/qemu10.mjs';
import { log } from './lib/sh.mjs';

const LAB = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(LAB, '..');
const CACHE = join(LAB, '.cache');

const USAGE = `usage: npm run lab -- --random N --kernel 6.1|6.12|7.2|all [options]
  --seed S          campaign seed (default 1): sequence i of seed S is always the same
  --shard i/n       run only sequences with index mod n = i-1 (results merge: --merge)
  --device NAME     lab device (default e1000e; see src/lab/devices.ts)
  --per-boot B      sequences per guest boot (default 250)
  --no-shrink       report disagreements without shrinking them
  --max-rounds R    ddmin rounds (= boots) per disagreement (default 14)
  --merge           only merge the shard results under lab/work/random into traces/lab/random
  --shrink PATTERN  only merge, then shrink the findings whose signature contains PATTERN
  --name NAME       file name (without extension) for the shrunk trace under traces/lab/found
  --timeout SEC     QEMU time limit per boot (default 1800)`;

function fail(msg) {
  process.stderr.write(`lab: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv, lab) {
  const a = { total: NaN, seed: 1, shard: '1/1', kernels: [], device: 'e1000e', perBoot: 250, shrink: true, maxRounds: 14, merge: false, timeout: 1800, shrinkOnly: null, name: undefined };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) fail(`${v} needs a value`);
      return argv[++i];
    };
    const int = (s, what) => {
      if (!/^\d+$/.test(s)) fail(`${what} must be a non-negative integer, not ${s}`);
      return Number(s);
    };
    if (v === '--random') a.total = int(next(), '--random');
    else if (v === '--seed') a.seed = int(next(), '--seed');
    else if (v === '--shard') a.shard = next();
    else if (v === '--kernel') a.kernels.push(...next().split(','));
    else if (v === '--device') a.device = next();
    else if (v === '--per-boot') a.perBoot = int(next(), '--per-boot');
    else if (v === '--no-shrink') a.shrink = false;
    else if (v === '--max-rounds') a.maxRounds = int(next(), '--max-rounds');
    else if (v === '--merge') a.merge = true;
    else if (v === '--shrink') {
      a.shrinkOnly = next();
      a.merge = true;
    } else if (v === '--name') a.name = next();
    else if (v === '--timeout') a.timeout = int(next(), '--timeout');
    else if (v === '-h' || v === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else fail(`unknown option ${v}`);
  }
  if (a.kernels.includes('all')) a.kernels = Object.keys(SERIES);
  if (a.kernels.length === 0) fail('--kernel is required');
  for (const k of a.kernels) if (!SERIES[k]) fail(`unknown kernel ${k} (known: ${Object.keys(SERIES).join(', ')}, all)`);
  if (!a.merge && !(a.total >= 1)) fail('--random needs a number of sequences >= 1');
  if (!(a.perBoot >= 1)) fail('--per-boot must be >= 1');
  try {
    a.shardSpec = lab.parseShard(a.shard);
  } catch (e) {
    fail(e.message);
  }
  a.labDevice = lab.findLabDevice(a.device);
  if (!a.labDevice) fail(`unknown device ${a.device} (known: ${lab.LAB_DEVICES.map((d) => d.name).join(', ')})`);
  return a;
}

/** The device snapshot the grammar draws for: a committed lab trace's header for this device. */
async function deviceSnapshot(codec, series, device) {
  const dirs = device === 'e1000e' ? [join(ROOT, 'traces/lab', series)] : [join(ROOT, 'traces/lab', series, device)];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    const f = readdirSync(d).filter((x) => x.endsWith('.txt') && x !== 'device-traits.txt').sort()[0];
    if (f) return (await codec.loadTrace(join(d, f))).header.device;
  }
  const dev = join(ROOT, 'traces/devices', `${device}.txt`);
  if (existsSync(dev)) {
    const text = `vfio-trace 1\nsource hand-written\nkernel -\nvmm - - unknown\ntracer -\ntitle "device"\n${readFileSync(dev, 'utf8')}\n`;
    return codec.parseText(text, dev).header.device;
  }
  throw new Error(`no snapshot of ${device}: run \`npm run lab -- --kernel ${series} --device ${device}\` first`);
}

/**
 * The snapshot with the ROM image size of the device's romfile as a trait (src/lab/rom-image.ts),
 * when its header does not say it already: the sequences read the ROM BAR past the image.
 */
function withRomImage(lab, device, labDevice) {
  if (device.traits?.romImage) return device;
  const romImage = lab.labRomImage(labDevice, device.romSize);
  if (romImage === 0 || BigInt(romImage) >= device.romSize) return device;
  const base = device.traits ?? { dStates: [], pmRefuses: [], resetClears: '', noSoftReset: '', configSize: 0, flr: '', busReset: '', source: 'lab-probe', romImage: 0 };
  return { ...device, traits: { ...base, romImage, source: base.source || 'lab-probe' } };
}

const stripObserved = (e) => {
  const { observed: _o, ...rest } = e;
  return rest;
};

/** Runs `traces` (name -> trace) in one boot and returns name -> applied trace (real outcomes). */
function runTraces(ctx, tag, traces) {
  const { lab, k, info } = ctx;
  const items = traces.map(({ name, trace }) => ({ name, trace, script: lab.toOpScript(trace) }));
  const { con, boot } = runBatch({
    lab,
    labDir: LAB,
    kernel: k,
    work: ctx.work,
    tag,
    runner: ctx.runner,
    device: ctx.device,
    qemu: ctx.qemu,
    items: items.map((x) => ({ name: x.name, text: x.script.text })),
    timeoutSec: ctx.timeout,
  });
  ctx.boots++;
  ctx.guestWallMs += boot.wallMs;
  const out = new Map();
  for (const x of items) {
    const r = con.runs.get(x.name);
    if (!r) continue;
    const applied = lab.applyResults(x.trace, x.script, r, lab.snapshotFromConsole(con, x.name), info);
    // The header comes from the guest's config snapshot; the device's traits (the lab probe's, in
    // the snapshot the grammar drew from) go with it, as in the device scenario traces: without
    // them a refusing device is replayed as a spec-compliant one.
    if (ctx.snapshot?.traits) applied.trace.header = { ...applied.trace.header, device: { ...applied.trace.header.device, traits: ctx.snapshot.traits } };
    out.set(x.name, { trace: applied.trace, problems: applied.problems, executed: [...r.results.values()].filter((v) => v.error === undefined).length });
  }
  return { out, boot };
}

async function campaign(ctx, a) {
  const { lab, codec } = ctx;
  const indices = lab.shardIndices(a.total, a.shardSpec);
  const sequences = [];
  const disagreeDir = join(ctx.resultsDir, 'traces');
  mkdirSync(disagreeDir, { recursive: true });
  const [si, sn] = a.shard.split('/');
  const resultFile = join(ctx.resultsDir, `seed-${a.seed}.shard-${si}-of-${sn}.json`);
  // Written after every boot, so a campaign stopped early (a CI time limit, Ctrl-C) keeps what ran.
  const save = () => {
    const result = { kernel: ctx.label, release: ctx.k.release, device: ctx.device.name, seed: a.seed, total: a.total, shard: a.shard, boots: ctx.boots, guestWallMs: ctx.guestWallMs, sequences };
    writeFileSync(resultFile, JSON.stringify(result, null, 1) + '\n');
    return result;
  };
  for (let at = 0; at < indices.length; at += a.perBoot) {
    const chunk = indices.slice(at, at + a.perBoot);
    const traces = chunk.map((index) => ({ name: lab.sequenceName({ seed: a.seed, index }), index, trace: lab.generateSequence(ctx.snapshot, { seed: a.seed, index }) }));
    const t0 = Date.now();
    const { out } = runTraces(ctx, `random-${a.seed}-${chunk[0]}`, traces);
    let bad = 0;
    for (const t of traces) {
      const got = out.get(t.name);
      if (!got) {
        log(`${ctx.label}/${t.name}: no results (guest stopped early?)`);
        continue;
      }
      const ds = lab.disagreements(got.trace);
      if (ds.length) {
        bad++;
        writeFileSync(join(disagreeDir, `${t.name}.txt`), codec.printText(got.trace));
      }
      sequences.push({
        index: t.index,
        events: got.trace.events.length,
        executed: got.executed,
        problems: got.problems.length,
        disagreements: ds.map((d) => ({ index: d.index, signature: lab.signature(d), event: d.event, rule: d.rule, predicted: d.predicted, observed: d.observed })),
      });
    }
    log(`${ctx.label}: sequences ${chunk[0]}..${chunk[chunk.length - 1]} (${chunk.length}) in ${((Date.now() - t0) / 1000).toFixed(0)}s, ${bad} with disagreements`);
    save();
  }
  return save();
}

/** Merges every shard file of this kernel/device into traces/lab/random/<kernel>/<device>.json. */
function merge(ctx) {
  const { lab } = ctx;
  const files = existsSync(ctx.resultsDir) ? readdirSync(ctx.resultsDir).filter((f) => /^seed-\d+\.shard-\d+-of-\d+\.json$/.test(f)).sort() : [];
  if (files.length === 0) return null;
  const summary = lab.mergeResults(files.map((f) => JSON.parse(readFileSync(join(ctx.resultsDir, f), 'utf8'))));
  // Each finding's status: `fixed` when the current model agrees at that event of the saved
  // sequence; otherwise what traces/lab/random/findings.json says about its rule (emu or open,
  // with the reason), else open.
  const notesFile = join(ROOT, 'traces/lab/random/findings.json');
  const notes = existsSync(notesFile) ? JSON.parse(readFileSync(notesFile, 'utf8')) : {};
  for (const f of summary.findings) {
    const [seed, index] = f.first.split('/').map(Number);
    const saved = join(ctx.resultsDir, 'traces', `${lab.sequenceName({ seed, index })}.txt`);
    const rule = f.signature.split(' ')[1];
    const note = notes[`${ctx.label} ${rule}`] ?? notes[rule];
    const still = existsSync(saved) ? lab.disagreements(ctx.codec.parseText(readFileSync(saved, 'utf8'), saved)).some((d) => d.index === f.index) : true;
    if (!still) f.status = 'fixed';
    else if (note) Object.assign(f, note);
    else f.status = 'open';
  }
  const out = join(ROOT, 'traces/lab/random', ctx.label);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${ctx.device.name}.json`), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

const slug = (s) => s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 80);

/**
 * ddmin over one disagreeing sequence, in the lab. The disagreeing event is pinned as the last
 * one; ddmin drops events before it while the real kernel still answers it as it did in the
 * campaign (the same observed outcome). That predicate does not depend on the model, so a
 * finding shrinks the same before and after its fix. Writes the shortest sequence, with its real
 * outcomes, to traces/lab/found/<kernel>/.
 */
async function shrink(ctx, a, finding) {
  const { lab, codec } = ctx;
  const [seed, index] = finding.first.split('/').map(Number);
  const saved = join(ctx.resultsDir, 'traces', `${lab.sequenceName({ seed, index })}.txt`);
  if (!existsSync(saved)) return { ...finding, reproduced: false, why: `no saved trace ${saved}` };
  const orig = codec.parseText(readFileSync(saved, 'utf8'), saved);
  const bad = lab.disagreements(orig).find((d) => lab.signature(d) === finding.signature);
  // After a fix the model agrees: find the event by the campaign's record instead.
  const target = bad?.index ?? finding.index;
  if (target === undefined) return { ...finding, reproduced: false, why: 'the finding names no event' };
  if (orig.events[target]?.observed === undefined) return { ...finding, reproduced: false, why: `event ${target} has no observation` };
  const want = codec.describeObserved(orig.events[target].observed);
  const [open, ...before] = orig.events.slice(0, target).map(stripObserved);
  const last = stripObserved(orig.events[target]);
  const make = (events) => ({ header: { ...orig.header, title: `lab random ${finding.first}` }, events: lab.asTraceEvents([open, ...events, last]) });
  // Before the fix the model disagrees at that event: a candidate must keep that too, or ddmin
  // drops the context that made the model wrong (a ROM read past the image answers ff in D0 as in
  // D3hot; only D3hot shows the rule) and the found trace no longer fails without the fix.
  const modelDisagreed = lab.disagreements(orig).some((d) => d.index === target);
  const same = (applied) => {
    const last = applied.events.length - 1;
    const o = applied.events[last].observed;
    if (o === undefined || codec.describeObserved(o) !== want) return false;
    return !modelDisagreed || lab.disagreements(applied).some((d) => d.index === last);
  };
  let round = 0;
  const tag = `s${seed}-${index}`;
  const res = await lab.ddmin(before, async (cands) => {
    round++;
    const named = cands.map((c, j) => ({ name: `${tag}-${round}-${j}`, trace: make(c) }));
    const { out } = runTraces(ctx, `shrink-${tag}-${round}`, named);
    return named.map((n) => {
      const got = out.get(n.name);
      return got !== undefined && same(got.trace);
    });
  }, { maxRounds: a.maxRounds });
  // The minimized sequence once more, alone, for the committed trace with its real outcomes.
  const fin = runTraces(ctx, `shrink-${tag}-final`, [{ name: `${tag}-f`, trace: make(res.items) }]).out.get(`${tag}-f`);
  if (!fin || !same(fin.trace)) return { ...finding, reproduced: false, why: 'the shrunk sequence did not reproduce alone' };
  const dir = join(ROOT, 'traces/lab/found', ctx.label);
  mkdirSync(dir, { recursive: true });
  const name = a.name ?? slug(finding.signature.split(' ')[1]);
  const t = { ...fin.trace, header: { ...fin.trace.header, title: `lab random ${finding.first} shrunk by ddmin (${res.rounds} lab boots): ${finding.signature}` } };
  writeFileSync(join(dir, `${name}.txt`), codec.printText(t));
  writeFileSync(join(dir, `${name}.pb`), codec.encodeTrace(t));
  const listing = join(dir, `${name}.versions`);
  if (!existsSync(listing)) writeFileSync(listing, `# Found by the random lab campaign on a real Linux ${ctx.label} kernel, shrunk with ddmin.\nlinux-${ctx.label}\n`);
  return { ...finding, reproduced: true, from: orig.events.length, events: t.events.length, boots: res.rounds + 1, file: `traces/lab/found/${ctx.label}/${name}.txt`, disagreesNow: lab.disagreements(t).length };
}

export async function randomMain(argv) {
  const t0 = Date.now();
  ensureHostDeps();
  const { lab, trace: codec } = await loadTs(ROOT);
  const a = parseArgs(argv, lab);
  const runner = buildRunner(LAB, join(LAB, 'work'));
  const { version: pkgVersion } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  for (const series of a.kernels) {
    const k = fetchKernel(series, CACHE);
    const ctx = {
      lab,
      codec,
      k,
      label: series,
      runner,
      device: a.labDevice,
      // A device the host's QEMU lacks (igb) boots under the staged QEMU 10, as in run.mjs.
      qemu: a.labDevice.qemu === 'qemu10' ? qemu10Command(CACHE) : undefined,
      timeout: a.timeout,
      info: { kernelBuild: k.packages.map((p) => `${p.name} ${p.version}`).join(', '), tracerVersion: `vfio-lab ${pkgVersion}` },
      work: join(LAB, 'work', 'random', series, a.device),
      resultsDir: join(LAB, 'work', 'random', series, a.device),
      boots: 0,
      guestWallMs: 0,
    };
    mkdirSync(ctx.work, { recursive: true });
    if (!a.merge) {
      ctx.snapshot = withRomImage(lab, await deviceSnapshot(codec, series, a.device), a.labDevice);
      await campaign(ctx, a);
    }
    const summary = merge(ctx);
    if (!summary) {
      log(`${series}/${a.device}: no results to merge under ${ctx.resultsDir}`);
      continue;
    }
    log(`${series}/${a.device}: ${summary.sequences} sequences, ${summary.events} events (${summary.executed} executed), ${summary.disagreeingEvents} disagreeing events in ${summary.disagreeingSequences} sequences, ${summary.findings.length} distinct`);
    for (const f of summary.findings) log(`  ${f.events}x ${f.signature} (first ${f.first}): ${f.status ?? "?"}${f.reason ? ` (${f.reason.slice(0, 60)}...)` : ""}`);
    const toShrink = summary.findings.filter((f) => (a.shrinkOnly !== null ? f.signature.includes(a.shrinkOnly) : !a.merge && a.shrink));
    if (toShrink.length) {
      ctx.snapshot ??= withRomImage(lab, await deviceSnapshot(codec, series, a.device), a.labDevice);
      const shrunk = [];
      for (const f of toShrink) {
        const s = await shrink(ctx, a, f);
        shrunk.push(s);
        log(`  shrunk ${f.signature}: ${s.reproduced ? `${s.from} -> ${s.events} events in ${s.boots} boots -> ${s.file} (${s.disagreesNow} disagreements now)` : s.why}`);
      }
      writeFileSync(join(ctx.resultsDir, 'shrunk.json'), JSON.stringify(shrunk, null, 2) + '\n');
    }
  }
  log(`total ${((Date.now() - t0) / 1000).toFixed(0)}s`);
}
