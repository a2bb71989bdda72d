// The QEMU builds the outer guest carries as the VMM under test.
//
//   qemu-7.2  the host's own qemu-system-x86_64 (bookworm), copied into the outer initramfs with the
//             libraries `ldd` lists, the TCG accelerator module Debian builds separately and the
//             firmware the `pc` machine loads.
//   qemu-10   the newest qemu-system-x86 in trixie, run from a chroot inside the outer guest: a
//             PRIVATE apt configuration (own sources list, lists, caches, an empty dpkg status) resolves
//             the whole closure with --download-only; `dpkg-deb -x` unpacks it into a staging root.
//             strace and bash come from trixie too, so the tracer runs inside the chroot and sees the
//             same paths (/dev/vfio/N) as under the host's QEMU.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { log, run } from '../lib/sh.mjs';
import { sharedLibs } from '../lib/initramfs.mjs';
import { debFileNames, systemMirror } from '../lib/kernels.mjs';

export const VMMS = ['qemu-7.2', 'qemu-10'];

const HOST_QEMU = '/usr/bin/qemu-system-x86_64';
const MODULE_DIR = '/usr/lib/x86_64-linux-gnu/qemu';
/** What `-machine pc -kernel multiboot.elf -nodefaults` reads from the firmware directory. */
const FIRMWARE = ['bios-256k.bin', 'kvmvapic.bin', 'linuxboot_dma.bin', 'multiboot_dma.bin', 'multiboot.bin', 'linuxboot.bin'];

/** `QEMU emulator version 7.2.22 (Debian ...)` -> "7.2.22". */
function upstreamVersion(text) {
  const m = /QEMU emulator version (\d+\.\d+\.\d+)/.exec(text);
  if (!m) throw new Error(`cannot read a QEMU version from: ${text.slice(0, 200)}`);
  return m[1];
}

/**
 * The host's QEMU as initramfs content: { name, version, debVersion, binaries, files, exe }.
 * `binaries` go through buildInitramfs (which adds their ldd libraries); `files` are extra files.
 */
export function hostQemu() {
  const version = upstreamVersion(run(HOST_QEMU, ['--version']));
  const debVersion = run('dpkg-query', ['-W', '-f', '${Version}', 'qemu-system-x86']).trim();
  const accel = join(MODULE_DIR, 'accel-tcg-x86_64.so');
  if (!existsSync(accel)) throw new Error(`${accel} missing: the host's qemu-system-x86 is incomplete`);
  const files = [{ dest: accel, src: accel }];
  for (const lib of sharedLibs(accel)) files.push({ dest: lib, src: lib });
  // Debian's QEMU searches /usr/share/qemu and then /usr/share/seabios (where bios-256k.bin is).
  for (const fw of FIRMWARE) {
    for (const d of ['/usr/share/qemu', '/usr/share/seabios']) {
      const p = join(d, fw);
      if (existsSync(p)) files.push({ dest: p, src: p }); // copyFileSync follows symlinks
    }
  }
  return { name: 'qemu-7.2', version, debVersion, exe: HOST_QEMU, binaries: [HOST_QEMU, '/usr/bin/strace'], files };
}

/** apt options for a private trixie configuration under `dir`, with an EMPTY dpkg status. */
function trixieApt(dir) {
  for (const sub of ['lists/partial', 'archives/partial', 'cache']) mkdirSync(join(dir, sub), { recursive: true });
  const { uri, key } = systemMirror();
  const security = uri.replace(/\/debian$/, '/debian-security');
  writeFileSync(
    join(dir, 'sources.list'),
    [
      `deb [signed-by=${key}] ${uri} trixie main`,
      `deb [signed-by=${key}] ${uri} trixie-updates main`,
      `deb [signed-by=${key}] ${security} trixie-security main`,
      '',
    ].join('\n'),
  );
  // Empty status: apt resolves the WHOLE closure, not just what the host lacks.
  writeFileSync(join(dir, 'status'), '');
  return [
    '-o', `Dir::Etc::SourceList=${join(dir, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o', `Dir::State::status=${join(dir, 'status')}`,
    '-o', `Dir::Cache=${join(dir, 'cache')}`,
    '-o', `Dir::Cache::Archives=${join(dir, 'archives')}`,
    '-o', 'APT::Get::List-Cleanup=false',
    '-o', 'APT::Sandbox::User=root',
    '-o', 'Debug::NoLocking=1',
  ];
}

const Q10_PACKAGES = ['qemu-system-x86', 'strace', 'bash', 'coreutils'];

/**
 * trixie's newest QEMU as a chroot staging root: { name, version, debVersion, root, packages }.
 * The root is cached per Debian version under cacheDir/vmm/qemu10-<debVersion>/tree/qemu10.
 */
export function trixieQemu(cacheDirArg) {
  const cacheDir = resolve(cacheDirArg); // apt reads relative Dir:: paths relative to /
  const aptDir = join(cacheDir, 'vmm', 'apt-trixie');
  const opts = trixieApt(aptDir);
  log('apt-get update (private: trixie, trixie-updates, trixie-security)');
  run('apt-get', [...opts, 'update', '-q']);
  const policy = run('apt-cache', [...opts, 'policy', 'qemu-system-x86']);
  const debVersion = /Candidate:\s*(\S+)/.exec(policy)?.[1];
  if (!debVersion || debVersion === '(none)') throw new Error('no qemu-system-x86 candidate in trixie');
  const base = join(cacheDir, 'vmm', `qemu10-${debVersion.replace(/[^A-Za-z0-9.+-]/g, '_')}`);
  const root = join(base, 'tree', 'qemu10');
  if (!existsSync(join(base, '.staged'))) {
    log(`downloading the qemu-system-x86 ${debVersion} closure (trixie)`);
    run('apt-get', [...opts, '-y', '-q', '--no-install-recommends', '--download-only', 'install', ...Q10_PACKAGES]);
    const sim = run('apt-get', [...opts, '-s', '--no-install-recommends', 'install', ...Q10_PACKAGES]);
    const wanted = [...sim.matchAll(/^Inst (\S+) \((\S+)/gm)].map((m) => ({ name: m[1], version: m[2] }));
    const archives = join(aptDir, 'archives');
    const debs = readdirSync(archives).filter((f) => f.endsWith('.deb'));
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    // usr-merge links first, so packages that still ship /lib or /bin land in /usr.
    for (const d of ['bin', 'sbin', 'lib', 'lib64']) {
      mkdirSync(join(root, 'usr', d), { recursive: true });
      symlinkSync(`usr/${d}`, join(root, d));
    }
    for (const p of wanted) {
      const names = debFileNames(p);
      const deb = debs.find((f) => names.includes(f));
      if (!deb) throw new Error(`downloaded closure lacks ${p.name} ${p.version}`);
      run('dpkg-deb', ['-x', join(archives, deb), root]);
    }
    // Documentation and translations are most of the bytes and none of the function.
    // Documentation, translations and the other system emulators are most of the bytes and none
    // of the function; the initramfs is loaded under TCG, so every MB costs boot time.
    for (const d of ['usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/share/info', 'usr/lib/x86_64-linux-gnu/gconv',
      'usr/bin/qemu-system-i386', 'usr/bin/qemu-system-x86_64-microvm']) {
      rmSync(join(root, d), { recursive: true, force: true });
    }
    for (const d of ['dev', 'proc', 'sys', 'tmp', 'out']) mkdirSync(join(root, d), { recursive: true });
    writeFileSync(join(base, 'packages.txt'), wanted.map((p) => `${p.name} ${p.version}`).join('\n') + '\n');
    writeFileSync(join(base, '.staged'), debVersion + '\n');
  }
  const exe = join(root, 'usr/bin/qemu-system-x86_64');
  if (!existsSync(exe)) throw new Error(`${exe} missing after staging`);
  // The upstream version string is in the binary; no need to run it on the host (different glibc).
  const version = upstreamVersion(run('sh', ['-c', `grep -a -o -m1 'QEMU emulator version [0-9.]*' "${exe}" | head -1`]));
  const packages = readFileSync(join(base, 'packages.txt'), 'utf8').trim().split('\n');
  return { name: 'qemu-10', version, debVersion, root, base, packages };
}

/** The mount point of the chroot inside the outer guest. */
export const Q10_MOUNT = 'qemu10';

/**
 * Uncompressed newc cpio of the staged trixie root placed at /qemu10 in the outer guest. The kernel
 * unpacks concatenated cpio archives into one rootfs, so this is appended to the lab's initramfs.
 */
export function cpioOfChroot(q10, out) {
  const tree = join(q10.root, '..');
  run('sh', ['-c', `cd "${tree}" && find ${Q10_MOUNT} -print0 | LC_ALL=C sort -z | cpio -o -0 -H newc --quiet --reproducible -R 0:0 > "${out}"`]);
  return statSync(out).size;
}
