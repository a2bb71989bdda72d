// Host packages the lab needs, installed with the system's apt on a fresh Debian 12 machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { have, log, runLoud } from './sh.mjs';

/** Command -> Debian package that provides it. */
const NEEDED = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['busybox', 'busybox-static'],
  ['cpio', 'cpio'],
  ['depmod', 'kmod'],
  ['strace', 'strace'],
  ['iasl', 'acpica-tools'], // lab/acpi/*.asl (the root-d3cold topology's SSDT)
  ['gcc', 'gcc'],
  ['xz', 'xz-utils'],
  ['zstd', 'zstd'],
  ['lspci', 'pciutils'],
  ['dpkg-deb', 'dpkg'],
];

/** What an arm64 guest needs on top: its QEMU and a cross gcc with a static libc. */
const NEEDED_ARM64 = [
  ['qemu-system-aarch64', 'qemu-system-arm'],
  ['aarch64-linux-gnu-gcc', 'gcc-aarch64-linux-gnu'],
];

/**
 * What building a kernel from Debian's linux-source needs (kernel-build.mjs): the tools its
 * Makefiles run and the headers its host programs include (objtool, sign-file, BTF from pahole).
 */
const NEEDED_KERNEL_BUILD = [
  ['make', 'make'],
  ['flex', 'flex'],
  ['bison', 'bison'],
  ['bc', 'bc'],
  ['perl', 'perl'],
  ['pahole', 'dwarves'],
];
const KERNEL_BUILD_HEADERS = [
  ['/usr/include/libelf.h', 'libelf-dev'],
  ['/usr/include/openssl/ssl.h', 'libssl-dev'],
];

/** Installs what a kernel build needs and is missing (root; nothing when all is there). */
export function ensureKernelBuildDeps() {
  const missing = NEEDED_KERNEL_BUILD.filter(([cmd]) => !have(cmd)).map(([, pkg]) => pkg);
  for (const [file, pkg] of KERNEL_BUILD_HEADERS) if (!existsSync(file)) missing.push(pkg);
  aptInstall(missing);
}

/** Installs whatever is missing. Needs root (apt-get); does nothing when all is there. */
export function ensureHostDeps(arches = ['amd64']) {
  const needed = arches.includes('arm64') ? [...NEEDED, ...NEEDED_ARM64] : NEEDED;
  const missing = needed.filter(([cmd]) => !have(cmd)).map(([, pkg]) => pkg);
  if (arches.includes('arm64') && !existsSync('/usr/aarch64-linux-gnu/lib/libc.a')) missing.push('libc6-dev-arm64-cross');
  // The initramfs needs a static busybox; Debian's plain `busybox` package is dynamic.
  if (!missing.includes('busybox-static') && !staticBusybox()) missing.push('busybox-static');
  // libc6-dev provides the static libc the runner links against; no command to probe for it.
  if (!staticLibcPresent()) missing.push('libc6-dev');
  aptInstall(missing);
}

function aptInstall(missing) {
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')}`);
  runLoud('apt-get', ['update', '-q']);
  runLoud('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function staticBusybox() {
  const r = spawnSync('ldd', ['/bin/busybox'], { encoding: 'utf8' });
  return r.status !== 0 || /not a dynamic executable/.test(r.stdout + r.stderr);
}

function staticLibcPresent() {
  return existsSync('/usr/lib/x86_64-linux-gnu/libc.a');
}
