// Files one nested-QEMU run under traces/qemu/<major.minor>/: the raw captures in <run>/ and, when
// the project's importer is built, <run>.pb and its text twin <run>.txt.
//
// Raw capture directory (what lab/vmm/outer-init.sh leaves per run): the tracer's output
// (tracer/vfio-trace: info, sysfs/, strace.log, qemu.log = QEMU's -trace 'vfio_*' -trace 'pci_*'
// log with -msg timestamp=on) plus:
//   serial.txt       the inner guest's COM1: its accesses in text-twin event syntax
//   stderr.txt       QEMU's own error lines       exit-status   as the shell saw it (135 = SIGBUS)
//   script.txt, cmdline.txt, dmesg.txt, power_state.after, wall-seconds, tracer-stderr.txt
//   meta.json        written here: VMM name/version/accelerator, outer kernel, scenario, variant
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { log } from '../lib/sh.mjs';
import { mergeSerialIntoTwin } from './guest-serial.mjs';

/** How the VMM ended, from its exit status and strace's last words. */
export function vmmDeath(status, straceText) {
  const killed = /\+\+\+ killed by (SIG[A-Z]+)/.exec(straceText ?? '');
  if (killed) return { how: 'signaled', signal: killed[1], text: `killed by ${killed[1]}` };
  if (status >= 128) return { how: 'signaled', signal: '', text: `signal ${status - 128}` };
  if (status % 2 === 1) return { how: 'exited', signal: '', text: `exit(${status})` };
  return { how: 'exited', signal: '', text: `exit(${status})` };
}

/** The guest's last serial line: an event without `=>` is the access the VMM died on. */
export function lastGuestLine(serial) {
  const lines = serial.split('\n').filter((l) => l.trim() !== '');
  return lines.length ? lines[lines.length - 1] : '';
}

function readOr(path, fallback = '') {
  return existsSync(path) ? readFileSync(path, 'latin1') : fallback;
}

let importerChecked = null;
function importerAvailable(repo) {
  if (importerChecked !== null) return importerChecked;
  const cli = join(repo, 'dist', 'src', 'cli', 'main.js');
  const r = existsSync(cli) ? spawnSync('node', [cli, 'import', '--help'], { encoding: 'utf8' }) : { status: 1 };
  importerChecked = r.status === 0;
  if (!importerChecked) log('vfio-replay import is not built (npx tsc -p .): keeping raw captures only');
  return importerChecked;
}

export function collectRun({ repo, raw, outRoot, vmm, run, outerKernel, doImport, capture = 'tracer' }) {
  const mm = /^(\d+\.\d+)/.exec(vmm.version)[1];
  const dir = join(outRoot, mm);
  const dest = join(dir, run.name);
  mkdirSync(dir, { recursive: true });
  rmSync(dest, { recursive: true, force: true });
  if (!existsSync(raw)) throw new Error(`no captures for ${run.vmm} ${run.name} (the outer guest skipped it?)`);
  cpSync(raw, dest, { recursive: true });
  const status = Number(readOr(join(raw, 'exit-status'), '-1').trim());
  const strace = readOr(join(raw, capture === 'plain' ? 'qemu.strace' : 'strace.log'));
  const death = vmmDeath(status, strace);
  const meta = {
    vmm: { name: 'qemu', version: vmm.version, debianVersion: vmm.debVersion, accel: 'tcg', build: vmm.name },
    kernel: { release: outerKernel.release, debianVersion: outerKernel.debVersion },
    scenario: run.scenario.name,
    variant: run.variant,
    what: run.scenario.what,
    script: run.scenario.script,
    capture,
    exitStatus: status,
    death: death.text,
    title: `qemu ${vmm.version} tcg: ${run.scenario.name} (${run.variant}): ${run.scenario.what}`,
  };
  writeFileSync(join(dest, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  if (doImport && importerAvailable(repo)) importRun(repo, dest, meta);
  return { vmm: `${mm}`, run: run.name, status, death: death.text, lastLine: lastGuestLine(readOr(join(raw, 'serial.txt'))).slice(0, 90) };
}

/** The model versions a capture checks: the outer kernel's release and the QEMU series it ran. */
export function versionsFile(meta) {
  const kernel = /^(\d+\.\d+)/.exec(meta.kernel.release)[1];
  const qemu = /^(\d+\.\d+)/.exec(meta.vmm.version)[1];
  return `# Nested lab capture: QEMU ${meta.vmm.version} (TCG) as the VMM on Linux ${meta.kernel.release}.\nlinux-${kernel}+qemu-${qemu}\n`;
}

function cliRun(repo, args) {
  const cli = join(repo, 'dist', 'src', 'cli', 'main.js');
  return spawnSync('node', [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}

function firstLine(r) {
  return ((r.stderr || '') + (r.stdout || '')).trim().split('\n')[0];
}

/**
 * `vfio-replay import` of one raw capture directory, then the guest's direct-mapped MMIO accesses
 * from serial.txt merged in (guest-serial.mjs), written as <dir>.pb and its text twin <dir>.txt
 * next to the directory. Returns true when both were written.
 */
export function importRun(repo, dest, meta) {
  const name = basename(dest);
  const pb = join(dirname(dest), `${name}.pb`);
  const txt = join(dirname(dest), `${name}.txt`);
  const tmp = mkdtempSync(join(tmpdir(), 'vmm-import-'));
  try {
    const hostPb = join(tmp, 'imported.pb');
    const imp = cliRun(repo, ['import', dest, '-o', hostPb, '--vmm', 'qemu', '--vmm-version', meta.vmm.version, '--accel', 'tcg', '--title', meta.title, '--quiet']);
    if (imp.status !== 0) {
      log(`import ${meta.vmm.build} ${name} failed: ${firstLine(imp)}`);
      return false;
    }
    const dump = cliRun(repo, ['dump', hostPb]);
    if (dump.status !== 0) {
      log(`dump of the imported ${name} failed: ${firstLine(dump)}`);
      return false;
    }
    const merged = mergeSerialIntoTwin(dump.stdout, readFileSync(join(dest, 'serial.txt'), 'latin1'));
    if (merged.problems.length) {
      log(`${meta.vmm.build} ${name}: serial log not merged (${merged.problems[0]}); the trace has the imported events only`);
      cpSync(hostPb, pb);
    } else {
      const mergedTxt = join(tmp, 'merged.txt');
      writeFileSync(mergedTxt, merged.text);
      const enc = cliRun(repo, ['encode', mergedTxt, '-o', pb]);
      if (enc.status !== 0) {
        log(`encode of ${name} with the guest's MMIO accesses failed: ${firstLine(enc)}`);
        return false;
      }
    }
    const final = cliRun(repo, ['dump', pb]);
    if (final.status !== 0) {
      log(`dump ${name}.pb failed: ${firstLine(final)}`);
      return false;
    }
    writeFileSync(txt, final.stdout);
    writeFileSync(join(dirname(dest), `${name}.versions`), versionsFile(meta));
    return true;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
