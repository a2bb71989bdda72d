#!/usr/bin/env node
// Real QEMU sessions as traces: `npm run lab -- --vmm qemu-7.2|qemu-10|all` (or `node lab/vmm/run.mjs
// --vmm ...`). Boots the lab's outer guest (bookworm's 6.1 kernel, e1000e bound to vfio-pci behind
// the emulated Intel IOMMU), runs each QEMU build inside it as the VMM of a tiny inner guest for
// every scenario x variant, brings the captures back on a raw disk, and files them under
// traces/qemu/<major.minor>/: raw captures in <run>/, and <run>.pb, .txt, .versions (the importer's
// trace with the inner guest's serial log merged in; see collect.mjs, guest-serial.mjs).
//
// Options: --vmm qemu-7.2|qemu-10|all (required)  --device e1000e|nvme  --scenario a,b  --variant mmap|no-mmap|msix-relo
//          --timeout SEC (per inner QEMU run, default 90)  --no-import  --out DIR (default traces/qemu)
//          --import-only: no lab run; re-import the raw captures already under --out
//          --capture plain: record each session as a user without the tracer would (plain strace,
//            QEMU log without timestamps, libvirt-layout log, lspci, dmesg) under traces/qemu-plain
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureHostDeps } from '../lib/host-deps.mjs';
import { buildInitramfs } from '../lib/initramfs.mjs';
import { fetchKernel, resolveModules } from '../lib/kernels.mjs';
import { qemuArgs, BASE_APPEND } from '../lib/qemu.mjs';
import { log, run } from '../lib/sh.mjs';
import { cpioOfChroot, hostQemu, trixieQemu, VMMS } from './qemu-builds.mjs';
import { DEVICES, EXTRA_VARIANTS, runName } from './scenarios.mjs';
import { collectRun, importRun } from './collect.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const cacheDir = join(repo, 'lab', '.cache');
const OUTER_KERNEL = '6.1';
/**
 * The tracer runs strace with its own syscall filter; this wrapper (first on the tracer's PATH) adds
 * --seccomp-bpf, so QEMU's threads stop only for the traced syscalls: without it a nested run takes
 * about three times as long under TCG. The trace content is the same.
 */
const STRACE_WRAPPER = '#!/bin/bash\nexec /usr/bin/strace --seccomp-bpf "$@"\n';
const TRACER = join(repo, 'tracer', 'vfio-trace');
/** lspci's names for vendor and device ids (plain captures: the dump a reporter attaches has them). */
const PCI_IDS = '/usr/share/misc/pci.ids';

const USAGE = `usage: npm run lab -- --vmm qemu-7.2|qemu-10|all [options]
  --device D        the assigned device: e1000e (default) or nvme (MSI-X table inside BAR0)
  --scenario a,b    only these scenarios (lab/vmm/scenarios.mjs)
  --variant V       mmap, no-mmap (x-no-mmap=on), msix-relo (x-msix-relocation=bar2, nvme); default: all of the device's;
                    also attach (strace -p once the device is open), bad-name (a failed GET_DEVICE_FD), stamped (e1000e)
  --timeout SEC     limit per inner QEMU run (default 90)
  --out DIR         where captures go (default traces/qemu)
  --no-import       keep the raw captures only
  --import-only     no lab run: re-import the raw captures under --out
  --capture C       tracer (default: tracer/vfio-trace) or plain (what a user without the tracer
                    attaches: strace -f -tt, QEMU -trace log, libvirt-layout log, lspci -vvv -xxxx,
                    dmesg; default --out traces/qemu-plain, not imported: tests import them)`;

function parseArgs(argv) {
  const o = { vmm: '', device: 'e1000e', scenarios: null, variants: null, timeout: 90, doImport: true, importOnly: false, out: '', capture: 'tracer' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--vmm') o.vmm = val();
    else if (a === '--device') o.device = val();
    else if (a === '--scenario') o.scenarios = val().split(',');
    else if (a === '--variant') o.variants = val().split(',');
    else if (a === '--timeout') o.timeout = Number(val());
    else if (a === '--no-import') o.doImport = false;
    else if (a === '--import-only') o.importOnly = true;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    }
    else if (a === '--out') o.out = resolve(val());
    else if (a === '--capture') o.capture = val();
    else throw new Error(`unknown option ${a}`);
  }
  if (o.vmm === 'all') o.vmms = VMMS;
  else if (VMMS.includes(o.vmm)) o.vmms = [o.vmm];
  else throw new Error(`--vmm must be one of ${[...VMMS, 'all'].join(', ')}`);
  const dev = DEVICES[o.device];
  if (!dev) throw new Error(`unknown --device ${o.device} (known: ${Object.keys(DEVICES).join(', ')})`);
  for (const s of o.scenarios ?? []) {
    if (!dev.scenarios.some((x) => x.name === s)) throw new Error(`unknown scenario ${s} for ${o.device} (known: ${dev.scenarios.map((x) => x.name).join(', ')})`);
  }
  o.variants ??= dev.variants;
  for (const v of o.variants) if (!dev.variants.includes(v) && !EXTRA_VARIANTS.includes(v)) throw new Error(`unknown variant ${v} for ${o.device} (known: ${[...dev.variants, ...EXTRA_VARIANTS].join(', ')})`);
  if (!(o.timeout > 0)) throw new Error('--timeout must be a positive number of seconds');
  if (o.capture !== 'tracer' && o.capture !== 'plain') throw new Error('--capture must be tracer or plain');
  if (o.capture === 'plain' && o.importOnly) throw new Error('--import-only re-imports tracer captures; plain captures are imported by the tests');
  if (o.out === '') o.out = join(repo, 'traces', o.capture === 'plain' ? 'qemu-plain' : 'qemu');
  return o;
}

/** The vfio modules plus what the results disk needs (virtio-blk), in load order, deduplicated. */
function outerModules(kernel) {
  const extra = [];
  const builtin = existsSync(join(kernel.modulesDir, 'modules.builtin')) ? readFileSync(join(kernel.modulesDir, 'modules.builtin'), 'utf8') : '';
  for (const m of ['virtio_pci', 'virtio_blk']) {
    if (new RegExp(`/${m.replace('_', '[-_]')}\\.ko`).test(builtin)) continue;
    extra.push(...resolveModules(kernel.modulesDir, [m]));
  }
  return [...new Set([...kernel.modules, ...extra])];
}

/** Boots the outer guest, streaming @@VMM progress lines; resolves with the console text and status. */
function bootOuter({ vmlinuz, initrd, disk, timeoutSec, consoleLog, qemuDevice }) {
  const args = qemuArgs({
    vmlinuz,
    initrd,
    append: BASE_APPEND,
    smp: 2,
    memMb: 2048,
    devices: ['-device', 'intel-iommu', '-device', `${qemuDevice},bus=pcie.0,addr=0x3`],
    extraArgs: ['-drive', `file=${disk},format=raw,if=none,id=out`, '-device', 'virtio-blk-pci,drive=out'],
  });
  const logStream = createWriteStream(consoleLog);
  return new Promise((res, rej) => {
    const t0 = Date.now();
    const p = spawn('timeout', ['--kill-after=10', String(timeoutSec), 'qemu-system-x86_64', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let pending = '';
    p.stdout.on('data', (b) => {
      const s = b.toString('latin1').replace(/\r/g, '');
      text += s;
      logStream.write(s);
      pending += s;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const l of lines) if (/^@@(VMM|FAIL)/.test(l)) log(l.slice(2));
    });
    p.stderr.on('data', (b) => logStream.write(b));
    p.on('error', rej);
    p.on('close', (status) => {
      logStream.end();
      res({ console: text, status, wallMs: Date.now() - t0 });
    });
  });
}

/** Compiles the CLI the importer runs from (dist/); errors elsewhere in the tree do not stop it. */
function buildCli() {
  const r = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'tsconfig.json')], { encoding: 'utf8' });
  if (r.status !== 0) log('tsc reported errors; importing with the emitted JavaScript');
}

/** Re-imports raw captures under o.out (after an importer fix) without running the lab. */
function reimport(o) {
  buildCli();
  let ok = 0;
  let all = 0;
  for (const ver of readdirSync(o.out).sort()) {
    const vdir = join(o.out, ver);
    for (const name of readdirSync(vdir).sort()) {
      const metaPath = join(vdir, name, 'meta.json');
      if (!existsSync(metaPath)) continue;
      const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
      if (!o.vmms.includes(meta.vmm.build)) continue;
      if (o.scenarios && !o.scenarios.includes(meta.scenario)) continue;
      all++;
      if (importRun(repo, join(vdir, name), meta)) ok++;
    }
  }
  console.log(`imported ${ok} of ${all} captures under ${o.out}`);
  console.log(`next: npx vfio-replay check ${o.out}   (model vs these sessions; --update writes missing goldens)`);
}

/** Entry point; lab/run.mjs hands `npm run lab -- --vmm ...` here. */
export async function vmmMain(argv) {
  const o = parseArgs(argv);
  const t0 = Date.now();
  if (o.importOnly) return reimport(o);
  if (!existsSync(TRACER)) throw new Error(`${TRACER} missing: the nested runs capture with the project's tracer`);
  ensureHostDeps();
  const work = join(repo, 'lab', 'work', 'vmm');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  log('building the inner guest');
  const innerElf = join(work, 'inner.elf');
  run('sh', [join(here, 'inner', 'build.sh'), innerElf]);

  const kernel = fetchKernel(OUTER_KERNEL, cacheDir);
  log(`outer kernel ${kernel.release} (${kernel.version})`);
  const builds = {};
  if (o.vmms.includes('qemu-7.2')) builds['qemu-7.2'] = hostQemu();
  if (o.vmms.includes('qemu-10')) builds['qemu-10'] = trixieQemu(cacheDir);
  for (const b of Object.values(builds)) log(`${b.name}: QEMU ${b.version} (${b.debVersion})`);

  const dev = DEVICES[o.device];
  const scenarios = dev.scenarios.filter((s) => !o.scenarios || o.scenarios.includes(s.name));
  const runs = [];
  for (const vmm of o.vmms) {
    for (const s of scenarios) for (const v of o.variants) runs.push({ vmm, scenario: s, variant: v, name: runName(s.name, v) });
  }
  const runsTxt = runs.map((r) => `${r.vmm}|${r.name}|${r.variant}|${r.scenario.script}`).join('\n') + '\n';

  const q72 = builds['qemu-7.2'];
  const initrd = join(work, 'outer.cpio');
  log('building the outer initramfs');
  buildInitramfs({
    out: initrd,
    init: readFileSync(join(here, 'outer-init.sh'), 'utf8'),
    modules: outerModules(kernel),
    // The tracer needs bash, strace and a `date` that knows %N (busybox's does not); qemu-10 uses
    // the chroot's own. QEMU 7.2 only when it runs.
    binaries: [...(q72 ? q72.binaries : ['/usr/bin/strace']), '/bin/bash', ...(o.capture === 'plain' ? ['/usr/bin/lspci'] : [])],
    files: [
      ...(q72 ? q72.files : []),
      { dest: '/vmm/inner.elf', src: innerElf },
      { dest: '/vmm/vfio-trace', src: TRACER, mode: 0o755 },
      { dest: '/vmm/bin/strace', text: STRACE_WRAPPER, mode: 0o755 },
      { dest: '/vmm/bin/date', src: '/usr/bin/date', mode: 0o755 },
      { dest: '/vmm/runs.txt', text: runsTxt },
      { dest: '/vmm/config', text: `TIMEOUT=${o.timeout}\nCAPTURE=${o.capture}\nDEVICE_ID=${dev.id}\n` },
      ...(o.capture === 'plain' && existsSync(PCI_IDS) ? [{ dest: PCI_IDS, src: PCI_IDS }] : []),
    ],
    compress: 'none',
  });
  if (builds['qemu-10']) {
    // The kernel unpacks concatenated cpio archives into one rootfs: append the chroot.
    const chroot = join(work, 'qemu10.cpio');
    cpioOfChroot(builds['qemu-10'], chroot);
    run('sh', ['-c', `cat "${chroot}" >> "${initrd}" && rm -f "${chroot}"`]);
  }

  const disk = join(work, 'results.img');
  run('truncate', ['-s', '1G', disk]);
  const budget = 180 + runs.length * (o.timeout + 15);
  log(`booting the outer guest: ${runs.length} runs (budget ${budget} s)`);
  const boot = await bootOuter({ vmlinuz: kernel.vmlinuz, initrd, disk, timeoutSec: budget, consoleLog: join(work, 'console.txt'), qemuDevice: dev.qemuDevice });
  if (!/@@VMM end/.test(boot.console)) {
    throw new Error(`the outer guest did not finish (status ${boot.status}); console in ${join(work, 'console.txt')}`);
  }
  const results = join(work, 'out');
  mkdirSync(results, { recursive: true });
  run('tar', ['-xf', disk, '-C', results]);
  rmSync(disk, { force: true });

  const outer = Object.fromEntries(
    readFileSync(join(results, 'outer.txt'), 'utf8').trim().split('\n').map((l) => [l.split(' ')[0], l.split(' ').slice(1).join(' ')]),
  );
  if (o.doImport) buildCli();
  const summary = [];
  for (const r of runs) {
    const b = builds[r.vmm];
    const res = collectRun({
      repo,
      raw: join(results, r.vmm, r.name),
      outRoot: o.out,
      vmm: b,
      run: r,
      outerKernel: { release: outer.kernel, debVersion: kernel.version },
      doImport: o.doImport && o.capture === 'tracer',
      capture: o.capture,
    });
    summary.push(res);
  }
  const wall = Math.round((Date.now() - t0) / 1000);
  console.log(`\n${'vmm'.padEnd(9)} ${'run'.padEnd(26)} ${'exit'.padEnd(5)} ${'vmm died'.padEnd(10)} last guest line`);
  for (const s of summary) {
    console.log(`${s.vmm.padEnd(9)} ${s.run.padEnd(26)} ${String(s.status).padEnd(5)} ${s.death.padEnd(10)} ${s.lastLine}`);
  }
  console.log(`\n${runs.length} runs, outer guest ${Math.round(boot.wallMs / 1000)} s, total ${wall} s; captures in ${o.out}`);
  console.log(`next: npx vfio-replay check ${o.out}   (model vs these sessions; --update writes missing goldens)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  vmmMain(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`lab --vmm: ${e.message}\n`);
    process.exit(1);
  });
}
