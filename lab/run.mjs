#!/usr/bin/env node
// The real-kernel lab: runs traces' host-side operations on the real vfio-pci driver inside a
// QEMU/TCG guest and writes the traces back with the real outcomes.
//
//   npm run lab -- --kernel 6.1|6.12|7.2|all [--bzimage PATH --modules DIR] [--out DIR] [trace ...]
//
// Without traces it runs the scenario set lab/scenarios/*.txt and writes traces/lab/<kernel>/.
// See docs/lab.md.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHostDeps } from './lib/host-deps.mjs';
import { fetchKernel, userKernel, SERIES } from './lib/kernels.mjs';
import { BUILT, builtKernel } from './lib/kernel-build.mjs';
import { buildInitramfs } from './lib/initramfs.mjs';
import { bootGuest, topologyArgs, topologyQuirks, TOPOLOGIES } from './lib/qemu.mjs';
import { buildAcpiTable } from './lib/acpi.mjs';
import { qemu10Command } from './lib/qemu10.mjs';
import { loadTs, buildRunner } from './lib/build.mjs';
import { log } from './lib/sh.mjs';

const LAB = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(LAB, '..');
const CACHE = join(LAB, '.cache');
const WORK = join(LAB, 'work');

const USAGE = `usage: npm run lab -- --kernel 6.1|6.12|7.2|all|6.12-iommufd [options] [trace.pb|trace.txt ...]
  --kernel K        kernel series (repeatable, comma-separated, or "all"); 6.12-iommufd is built
                    from Debian's linux-source with CONFIG_IOMMUFD + the vfio cdev (opt-in, not in
                    "all"; first build ~hours on 2 shared cores) and runs lab/scenarios/iommufd/
  --bzimage PATH    boot your own kernel image instead (needs --modules)
  --modules DIR     its modules directory (.../lib/modules/RELEASE)
  --out DIR         where results go (default traces/lab/<kernel> for the scenario set,
                    lab/work/out/<kernel> for traces given on the command line)
  --timeout SEC     QEMU time limit per kernel (default 900)
  --no-strace       skip the second run under the tracer (strace + ioctl argument capture)
  --device NAME     the emulated device (default e1000e; src/lab/devices.ts lists them): any other
                    runs its generated scenario set into traces/lab/<kernel>/<device>/ with traits.txt
  --scenario NAME   with --device: only these generated scenarios (repeatable; keep "probe" in the
                    set for the traits that go into the headers)
  --tracer-probe P  the tracer's --ioctl-args-probe for the second run: auto (default), eprobe, kprobe
  --vmm V           instead: real QEMU sessions, qemu-7.2|qemu-10|all (lab/vmm/README.md)
  --random N        instead: N random op sequences, differential against the model (docs/lab.md)`;

function parseArgs(argv) {
  const a = { kernels: [], traces: [], bzimage: '', modules: '', out: '', timeout: 900, strace: true, tracerProbe: 'auto', device: 'e1000e', only: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) fail(`${v} needs a value`);
      return argv[++i];
    };
    if (v === '--kernel') a.kernels.push(...next().split(','));
    else if (v === '--bzimage') a.bzimage = resolve(next());
    else if (v === '--modules') a.modules = resolve(next());
    else if (v === '--out') a.out = resolve(next());
    else if (v === '--timeout') a.timeout = Number(next());
    else if (v === '--no-strace') a.strace = false;
    else if (v === '--device') a.device = next();
    else if (v === '--scenario') a.only.push(next());
    else if (v === '--tracer-probe') {
      a.tracerProbe = next();
      if (!['auto', 'eprobe', 'kprobe'].includes(a.tracerProbe)) fail(`--tracer-probe must be auto, eprobe or kprobe, not ${a.tracerProbe}`);
    }
    else if (v === '-h' || v === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (v.startsWith('-')) fail(`unknown option ${v}`);
    else a.traces.push(resolve(v));
  }
  if (a.bzimage || a.modules) {
    if (!a.bzimage || !a.modules) fail('--bzimage and --modules go together');
    if (a.kernels.length === 0) a.kernels = ['user'];
  }
  if (a.kernels.includes('all')) a.kernels = Object.keys(SERIES);
  if (a.kernels.length === 0) fail('--kernel is required');
  for (const k of a.kernels) if (k !== 'user' && !SERIES[k] && !BUILT[k]) fail(`unknown kernel ${k} (known: ${[...Object.keys(SERIES), ...Object.keys(BUILT)].join(', ')}, all)`);
  if (a.kernels.some((k) => BUILT[k]) && a.kernels.length > 1) fail('a built kernel (6.12-iommufd) runs alone: it has its own scenario set');
  if (!(a.timeout > 0)) fail('--timeout must be a positive number of seconds');
  return a;
}

function fail(msg) {
  process.stderr.write(`lab: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function defaultTraces(kernel) {
  // A built iommufd kernel runs the cdev-path scenarios (the group path is the Debian kernels').
  const dir = BUILT[kernel] ? join(LAB, 'scenarios', 'iommufd') : join(LAB, 'scenarios');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => join(dir, f));
}

/** `vfio_pci.a=1,vfio_pci.b=Y` -> "vfio_pci a=1 b=Y\n" (one line per module, for init.sh). */
function moduleParamLines(params) {
  const byModule = new Map();
  for (const w of params.split(',').filter(Boolean)) {
    const dot = w.indexOf('.');
    const m = w.slice(0, dot);
    byModule.set(m, [...(byModule.get(m) ?? []), w.slice(dot + 1)]);
  }
  return [...byModule].map(([m, ws]) => `${m} ${ws.join(' ')}\n`).join('');
}

const scenarioName = (p) => basename(p).replace(/\.(pb|txt)$/, '');

async function main() {
  // `--vmm` runs real QEMU sessions as the VMM instead (lab/vmm/run.mjs, docs/lab.md "A real QEMU session").
  if (process.argv.includes('--vmm')) return (await import('./vmm/run.mjs')).vmmMain(process.argv.slice(2));
  // `--random N` runs the random differential campaign instead (lab/random.mjs, docs/lab.md).
  if (['--random', '--merge', '--shrink'].some((f) => process.argv.includes(f))) return (await import('./random.mjs')).randomMain(process.argv.slice(2));
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  ensureHostDeps(['amd64', ...args.kernels.map((x) => SERIES[x]?.arch).filter((a) => a !== undefined)]);
  const { lab, trace: codec } = await loadTs(ROOT);
  const runner = buildRunner(LAB, WORK);
  // A foreign-architecture kernel series (6.12-arm64-16k) needs its own runner; strace is not staged for it.
  const foreign = args.kernels.map((s) => SERIES[s]?.arch).find((a) => a !== undefined && a !== 'amd64');
  const runnerFor = foreign !== undefined ? { amd64: runner, [foreign]: buildRunner(LAB, WORK, foreign) } : { amd64: runner };
  if (foreign !== undefined && args.strace) {
    log(`${foreign}: no strace in the guest (--no-strace implied for that kernel)`);
  }
  const { version: pkgVersion } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const scenarioSet = args.traces.length === 0;
  const labDevice = lab.findLabDevice(args.device);
  if (!labDevice) fail(`unknown device ${args.device} (known: ${lab.LAB_DEVICES.map((d) => d.name).join(', ')})`);
  // Another device than the e1000e gets the scenario set generated for its registers.
  const generated = scenarioSet && labDevice.name !== 'e1000e';
  const paths = generated ? [] : scenarioSet ? defaultTraces(args.kernels[0]) : args.traces;
  const inputs = [];
  if (generated) {
    const devFile = join(ROOT, 'traces/devices', `${labDevice.name}.txt`);
    const head = `vfio-trace 1\nsource hand-written\nkernel -\nvmm - - unknown\ntracer -\ntitle "device"\n`;
    const snap = codec.parseText(head + readFileSync(devFile, 'utf8'), devFile).header.device;
    const topology = labDevice.topology ?? 'root';
    const all = lab.deviceScenarios(snap, labDevice.name);
    for (const o of args.only) if (!all.some((s) => s.name === o)) fail(`--scenario ${o}: ${labDevice.name} has ${all.map((s) => s.name).join(', ')}`);
    for (const s of all.filter((x) => args.only.length === 0 || args.only.includes(x.name))) inputs.push({ name: s.name, path: devFile, trace: s.trace, script: lab.toOpScript(s.trace), topology });
  }
  for (const p of paths) {
    const t = await codec.loadTrace(p);
    const name = scenarioName(p);
    if (inputs.some((x) => x.name === name)) fail(`two traces named ${name}`);
    // A scenario asks for a device topology with a `# lab: topology=root-port` comment line.
    const topo = p.endsWith('.txt') ? /^#\s*lab:\s*topology=(\S+)/m.exec(readFileSync(p, 'utf8'))?.[1] ?? 'root' : 'root';
    if (!TOPOLOGIES[topo]) fail(`${p}: unknown lab topology ${topo} (known: ${Object.keys(TOPOLOGIES).join(', ')})`);
    // ... and vfio-pci loaded with parameters with `# lab: module-params=vfio_pci.disable_idle_d3=Y[,...]`
    // (the guest's insmod gets them; the trace header records what sysfs then shows).
    const params = p.endsWith('.txt') ? /^#\s*lab:.*\bmodule-params=(\S+)/m.exec(readFileSync(p, 'utf8'))?.[1] ?? '' : '';
    for (const w of params.split(',').filter(Boolean)) if (!/^[a-z0-9_]+\.[a-z0-9_]+=\S+$/.test(w)) fail(`${p}: module-params: expected module.param=value, got ${w}`);
    // ... and the kernel log lines of one function's dynamic debug with each event's outcome with
    // `# lab: klog=vfio_pci_mmap_huge_fault` (init.sh turns the prints on; the runner collects them).
    const klog = p.endsWith('.txt') ? /^#\s*lab:.*\bklog=(\S+)/m.exec(readFileSync(p, 'utf8'))?.[1] ?? '' : '';
    if (klog && !/^[A-Za-z0-9_]+$/.test(klog)) fail(`${p}: klog: expected a kernel function name, got ${klog}`);
    inputs.push({ name, path: p, trace: t, script: lab.toOpScript(t), topology: topo, params, klog });
  }
  const outerQemu = labDevice.qemu === 'qemu10' ? qemu10Command(CACHE) : undefined;
  if (outerQemu) log(`outer QEMU: ${outerQemu.label}`);
  // One boot per device topology and module-parameter set the traces ask for.
  const bootKey = (x) => (x.params ? `${x.topology} ${x.params}` : x.topology);
  const topologies = [...new Set(inputs.map(bootKey))].sort((a, b) => (a === 'root' ? -1 : b === 'root' ? 1 : a.localeCompare(b)));
  const summary = [];
  for (const series of args.kernels) {
    const tk = Date.now();
    const k = series === 'user' ? userKernel(args.bzimage, args.modules, CACHE) : BUILT[series] ? builtKernel(series, CACHE, LAB) : fetchKernel(series, CACHE);
    const arch = k.arch ?? 'amd64';
    const strace = args.strace && arch === 'amd64';
    const label = series === 'user' ? k.release : series;
    const work = join(WORK, label);
    mkdirSync(work, { recursive: true });
    const init = readFileSync(join(LAB, 'guest/init.sh'), 'utf8').replace(
      /^  bash \/lab\/vfio-trace /m,
      strace ? `  bash /lab/vfio-trace --ioctl-args-probe ${args.tracerProbe} ` : '  true ',
    );
    const kernelBuild = k.packages.length
      ? k.packages.map((p) => `${p.name} ${p.version}`).join(', ')
      : `user kernel ${basename(args.bzimage)}`;
    const outDir = join(
      args.out ? join(args.out, label) : scenarioSet ? join(ROOT, 'traces/lab', label) : join(WORK, 'out', label),
      labDevice.name === 'e1000e' ? '' : labDevice.name,
    );
    mkdirSync(outDir, { recursive: true });
    let problems = 0;
    let bootMs = 0;
    const devices = {};
    // One boot per device topology the traces ask for.
    for (const key of topologies) {
      const group = inputs.filter((x) => bootKey(x) === key);
      const topo = group[0].topology;
      const params = group[0].params;
      const tag = key === 'root' ? '' : `-${key.replace(/[^A-Za-z0-9_.=-]+/g, '-')}`;
      const img = buildInitramfs({
        out: join(work, `initrd${tag}.gz`),
        init,
        modules: k.modules,
        binaries: strace ? ['/usr/bin/strace', '/bin/bash'] : [],
        ...(k.busybox !== undefined ? { busybox: k.busybox } : {}),
        files: [
          { dest: '/lab/runner', src: runnerFor[arch], mode: 0o755 },
          { dest: '/lab/vfio-trace', src: join(ROOT, 'tracer/vfio-trace'), mode: 0o755 },
          // `module param=value ...` lines: init.sh's insmod of that module appends them.
          { dest: '/lab/modparams', text: moduleParamLines(params) },
          { dest: '/lab/device', text: `0x${labDevice.vendor.toString(16).padStart(4, '0')} 0x${labDevice.device.toString(16).padStart(4, '0')}\n` },
          // An SR-IOV VF: init.sh creates it on this PF first.
          ...(labDevice.pf ? [{ dest: '/lab/pf', text: `0x${labDevice.pf.vendor.toString(16).padStart(4, '0')} 0x${labDevice.pf.device.toString(16).padStart(4, '0')}\n` }] : []),
          ...group.map((x) => ({ dest: `/lab/scen/${x.name}.ops`, text: x.script.text })),
          ...group.filter((x) => x.klog).map((x) => ({ dest: `/lab/scen/${x.name}.klog`, text: `${x.klog}\n` })),
        ],
      });
      log(`${label}: booting ${k.release}, device on ${topo}${params ? `, ${params}` : ''} (${group.length} traces, initramfs ${(img.bytes / 1e6).toFixed(1)} MB)`);
      // A guest that dies before /init runs (an early-boot panic under heavy host load, e.g. the
      // IO-APIC timer check) is booted again; a run that started is never repeated.
      let boot;
      for (let attempt = 1; ; attempt++) {
        // QEMU creates the PF; the VF under test appears when the guest enables SR-IOV.
        const qemuDevice = labDevice.pf ? { ...labDevice, name: labDevice.pf.name } : labDevice;
        const ssdt = topo === 'root-d3cold' ? buildAcpiTable(LAB, WORK, 'd3cold-ssdt') : undefined;
        boot = bootGuest({ vmlinuz: k.vmlinuz, initrd: img.out, timeoutSec: args.timeout, devices: topologyArgs(topo, qemuDevice, arch, { ssdt }), arch, qemu: outerQemu });
        if (boot.serial.includes('@@LAB begin') || attempt === 3) break;
        writeFileSync(join(work, `console${tag}.failed-${attempt}.log`), boot.serial);
        log(`${label}: the guest did not reach /init (attempt ${attempt}); booting again`);
      }
      bootMs += boot.wallMs;
      writeFileSync(join(work, `console${tag}.log`), boot.serial);
      const con = lab.parseConsole(boot.serial);
      if (boot.timedOut) log(`${label}: QEMU hit the ${args.timeout}s limit; results are partial`);
      if (con.failures.length) log(`${label}: guest reported: ${con.failures.join('; ')}`);
      if (!con.complete && con.runs.size === 0) {
        throw new Error(`${label}: the guest produced no results (see ${join(work, `console${tag}.log`)}; qemu: ${boot.stderr.trim()})`);
      }
      writeFileSync(join(work, `dmesg${tag}.txt`), con.dmesg + '\n');
      devices[topo] = lab.snapshotFromConsole(con).device.bdf;
      // A generated device set: the probe's outcomes give the device's traits, which go into every
      // trace header (DeviceSnapshot.traits) so replay predicts from them from the first event.
      let traits;
      const probe = generated ? group.find((x) => x.name === 'probe') : undefined;
      if (probe && con.runs.get('probe')) {
        const pa = lab.applyResults(probe.trace, probe.script, con.runs.get('probe'), lab.snapshotFromConsole(con, 'probe'), { kernelBuild, tracerVersion: `vfio-lab ${pkgVersion}` });
        traits = lab.deviceTraits(pa.trace.header.device, pa.trace, con.dmesg, lab.labRomImage(labDevice, pa.trace.header.device.romSize));
        const refused = con.dmesg.split('\n').filter((l) => /Refused to change power state/.test(l));
        writeFileSync(join(outDir, 'device-traits.txt'), `# ${labDevice.name} on Linux ${k.release}, probed by the lab (docs/lab.md "Devices").\n${lab.traitsLine(traits)}\n${refused.map((l) => `# dmesg: ${l.trim()}\n`).join('')}`);
        log(`${label}/${labDevice.name}: ${lab.traitsLine(traits)}`);
      }
      for (const x of group) {
        const r1 = con.runs.get(x.name);
        if (!r1) {
          log(`${label}/${x.name}: no results (guest stopped early?)`);
          problems++;
          continue;
        }
        const applied = lab.applyResults(x.trace, x.script, r1, lab.snapshotFromConsole(con, x.name), { kernelBuild, tracerVersion: `vfio-lab ${pkgVersion}` }, strace ? con.runs2.get(x.name) : undefined);
        for (const p of applied.problems) log(`${label}/${x.name}: ${p}`);
        if (applied.unstable.length) log(`${label}/${x.name}: outcome differed under strace at events ${applied.unstable.join(', ')}`);
        problems += applied.problems.length;
        if (traits) applied.trace = lab.withTraits(applied.trace, traits);
        // The platform's part of the device's quirks (root-d3cold: a power resource that wakes).
        const pq = topologyQuirks(topo);
        if (Object.keys(pq).length > 0) applied.trace.header.device.quirks = { ...applied.trace.header.device.quirks, ...pq };
        writeFileSync(join(outDir, `${x.name}.pb`), codec.encodeTrace(applied.trace));
        writeFileSync(join(outDir, `${x.name}.txt`), codec.printText(applied.trace));
        // A new scenario is listed for checking against the matching modeled release; its golden
        // comes from `vfio-replay check --update traces/lab` (the listing of an existing one is kept).
        const listing = join(outDir, `${x.name}.versions`);
        // A flavour series (6.12-arm64-16k) is checked against its release (linux-6.12).
        const release = label.replace(/-(arm64|amd64)\b.*$/, '');
        if (!existsSync(listing))
          writeFileSync(listing, `# Lab capture on a real Linux ${label} kernel: checked against the matching modeled release.\nlinux-${BUILT[series]?.base ?? release}\n`);
        const st = con.straces.get(x.name);
        if (args.strace && st !== undefined) writeFileSync(join(outDir, `${x.name}.strace`), lab.normalizeStrace(st));
        const ia = con.ioctlArgs.get(x.name);
        if (args.strace && ia !== undefined) writeFileSync(join(outDir, `${x.name}.ioctl-args`), ia);
        for (const t of con.tracer.get(x.name) ?? []) log(`${label}/${x.name}: tracer: ${t}`);
      }
    }
    writeFileSync(
      join(outDir, 'kernel.json'),
      JSON.stringify({ series: label, release: k.release, version: k.version, packages: k.packages, devices }, null, 2) + '\n',
    );
    // Timing lives apart from kernel.json so the rest of traces/lab regenerates byte-identically;
    // `npm run bench` compares the model's replay time for the same scenarios against it (so a
    // --scenario run, which has fewer, leaves it alone).
    if (args.only.length === 0) writeFileSync(
      join(outDir, 'timing.json'),
      JSON.stringify({ scenarios: inputs.length, guestWallMs: bootMs, totalWallMs: Date.now() - tk, strace }, null, 2) + '\n',
    );
    const secs = ((Date.now() - tk) / 1000).toFixed(0);
    summary.push(`${label}: ${k.release} (${k.version}) ${inputs.length} traces, ${problems} problems, ${secs}s wall (boot ${(bootMs / 1000).toFixed(0)}s), downloads ${(k.downloadBytes / 1e6).toFixed(0)} MB -> ${outDir}`);
  }
  for (const s of summary) log(s);
  log(`total ${((Date.now() - t0) / 1000).toFixed(0)}s`);
}

main().catch((e) => {
  process.stderr.write(`lab: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
