// sysfs operations in an strace log: `openat` of a sysfs file of the traced device (or of the PCI
// bus: rescan, drivers_probe, a driver's bind/unbind), then `write` / `read` on that fd, become
// `sysfs` events (proto Sysfs, docs/power-pages-processes.md). `echo 1 > reset` shows up as
//   openat(AT_FDCWD, "/sys/bus/pci/devices/0000:01:00.0/reset", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3
//   write(1</sys/devices/pci0000:00/0000:00:03.0/reset>, "1\n", 2) = 2   (the shell dup'ed it to 1)
// so the fd is found by the openat's result or by the -y path on the write. Only the first read of
// an open file is the file's content (a later one returns 0 at EOF).

import type { EventBody, Observed } from '../trace/types.js';

/** Files of a device directory the model knows (src/model/kernel/sysfs.ts; a PF's sriov_numvfs too). */
const DEVICE_FILES = new Set(['reset', 'power_state', 'd3cold_allowed', 'power/control', 'power/runtime_status', 'driver_override', 'remove', 'driver/unbind', 'sriov_numvfs']);

/**
 * The event path for a sysfs file path: a device file of `bdf` (relative to its directory, as the
 * model names it) or a bus file (`/sys/bus/pci/...`); null for anything else.
 */
export function sysfsPath(path: string, bdf: string): string | null {
  const bus = /^\/sys\/bus\/pci\/(rescan|drivers_probe|drivers\/[^/]+\/(?:bind|unbind))$/.exec(path);
  if (bus !== null) return `/sys/bus/pci/${bus[1]}`;
  if (bdf === '') return null;
  const at = path.indexOf(`/${bdf}/`);
  if (at < 0 || !path.startsWith('/sys/')) return null;
  const file = path.slice(at + bdf.length + 2);
  return DEVICE_FILES.has(file) ? file : null;
}

interface OpenFile {
  path: string;
  reads: number;
}

/** The sysfs files a traced process has open, by fd. */
export class SysfsFiles {
  private readonly fds = new Map<number, OpenFile>();
  constructor(private readonly bdf: string) {}

  /** An openat's result fd and path; true when it is a sysfs file of interest. */
  opened(fd: number, path: string): boolean {
    const p = sysfsPath(path, this.bdf);
    if (p === null) return false;
    this.fds.set(fd, { path: p, reads: 0 });
    return true;
  }

  closed(fd: number): void {
    this.fds.delete(fd);
  }

  /**
   * A read/write on `fd` (with strace's -y path, or null): the event and its observation, or null
   * when the fd is no sysfs file of interest or the read is past the content.
   */
  io(write: boolean, fd: number, yPath: string | null, bytes: Uint8Array | null, ret: Observed): { body: EventBody; observed: Observed } | null {
    let f = this.fds.get(fd);
    if (yPath !== null) {
      const p = sysfsPath(yPath, this.bdf);
      if (p === null) return null;
      if (f === undefined || f.path !== p) {
        f = { path: p, reads: 0 };
        this.fds.set(fd, f);
      }
    }
    if (f === undefined) return null;
    const text = bytes === null ? null : Buffer.from(bytes).toString('latin1').replace(/\n$/, '');
    if (write) return { body: { kind: 'sysfs', path: f.path, write: text ?? '' }, observed: ret };
    if (f.reads++ > 0) return null;
    const observed: Observed = { ...ret };
    if (ret.errno === undefined && text !== null) observed.text = text;
    return { body: { kind: 'sysfs', path: f.path }, observed };
  }
}
