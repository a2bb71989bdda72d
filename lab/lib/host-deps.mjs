// Host packages the lab needs, installed with the system's apt on a fresh Debian 12 machine.
import { have, log, runLoud } from './sh.mjs';

/** Command -> Debian package that provides it. */
const NEEDED = [
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['busybox', 'busybox-static'],
  ['cpio', 'cpio'],
  ['depmod', 'kmod'],
  ['strace', 'strace'],
  ['gcc', 'gcc'],
  ['xz', 'xz-utils'],
  ['zstd', 'zstd'],
  ['lspci', 'pciutils'],
  ['dpkg-deb', 'dpkg'],
];

/** Installs whatever is missing. Needs root (apt-get); does nothing when all is there. */
export function ensureHostDeps() {
  const missing = NEEDED.filter(([cmd]) => !have(cmd)).map(([, pkg]) => pkg);
  // libc6-dev provides the static libc the runner links against; no command to probe for it.
  if (!have('gcc') || !staticLibcPresent()) missing.push('libc6-dev');
  if (missing.length === 0) return;
  log(`installing ${missing.join(' ')}`);
  runLoud('apt-get', ['update', '-q']);
  runLoud('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function staticLibcPresent() {
  return have('gcc') && (() => {
    try {
      runLoud('sh', ['-c', 'test -e /usr/lib/x86_64-linux-gnu/libc.a']);
      return true;
    } catch {
      return false;
    }
  })();
}
