// The QEMU 10 that the nested lab stages (lab/vmm/qemu-builds.mjs: Debian trixie's build, unpacked
// under lab/.cache/vmm/qemu10-*/tree/qemu10), run as the lab's OUTER QEMU on the host: for
// devices the host's QEMU 7.2 lacks (igb, with SR-IOV, came in QEMU 8.0). The build needs trixie's
// glibc, so it runs under the tree's own dynamic loader with the tree's libraries, modules and
// firmware; nothing of the host's QEMU is mixed in.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trixieQemu } from '../vmm/qemu-builds.mjs';

/** The staged root, newest Debian version first; stages it (apt, network) when none is there. */
function stagedRoot(cacheDir) {
  const vmm = join(cacheDir, 'vmm');
  const staged = existsSync(vmm)
    ? readdirSync(vmm).filter((d) => d.startsWith('qemu10-') && existsSync(join(vmm, d, '.staged'))).sort().reverse()
    : [];
  if (staged.length > 0) return { root: join(vmm, staged[0], 'tree', 'qemu10'), debVersion: readFileSync(join(vmm, staged[0], '.staged'), 'utf8').trim() };
  const q = trixieQemu(cacheDir);
  return { root: q.root, debVersion: q.debVersion };
}

/** { cmd, pre, env, extraArgs, label }: how bootGuest starts this QEMU instead of the host's. */
export function qemu10Command(cacheDir) {
  const { root, debVersion } = stagedRoot(cacheDir);
  const lib = join(root, 'usr/lib/x86_64-linux-gnu');
  return {
    cmd: join(root, 'usr/lib64/ld-linux-x86-64.so.2'),
    pre: ['--library-path', lib, join(root, 'usr/bin/qemu-system-x86_64')],
    // Without it QEMU loads the host 7.2's modules and aborts ("Only modules from the same build").
    env: { QEMU_MODULE_DIR: join(lib, 'qemu') },
    extraArgs: ['-L', join(root, 'usr/share/seabios'), '-L', join(root, 'usr/share/qemu')],
    label: `QEMU ${debVersion} (trixie, staged)`,
  };
}
