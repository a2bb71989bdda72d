// Which fd is what. strace prints fd numbers (and with -y the file behind them); the importer needs
// to know which fd is the VFIO container, a group, THE device, iommufd, /dev/kvm, a KVM VM or vCPU.
//
// Sources, strongest first:
//  - the -y annotation on every use (`9</dev/vfio/vfio>`, `6<anon_inode:[vfio-device]>`,
//    `13<anon_inode:kvm-vcpu:0>`): it says what the fd is at that moment, in whichever task;
//  - the call that created the fd: openat of a /dev path, the return value of
//    VFIO_GROUP_GET_DEVICE_FD, KVM_CREATE_VM, KVM_CREATE_VCPU.
// Paths are matched by suffix (`.../dev/vfio/vfio`) so a VMM in a chroot or jail still matches.
// Without -y there is one table for all traced tasks: a forked helper that reuses an fd number
// would confuse it (the tracer always passes -y).

import type { FdKind } from './ioctl-names.js';

export interface FdInfo {
  kind: FdKind;
  /** The -y path last seen for this fd (null without -y). */
  path: string | null;
  /** vCPU index for kvm-vcpu fds, -1 unknown. */
  vcpu: number;
  /** For group fds: the group number from the path, -1 unknown. */
  group: number;
  /** For device fds: it is the traced device (the snapshot's), not another assigned device. */
  ours: boolean;
}

export interface DeviceSelector {
  /** The snapshot device's IOMMU group (-1 unknown: any group's device is taken). */
  iommuGroup: number;
  /** The snapshot device's cdev name (`vfio0`), null unknown. */
  cdev: string | null;
  /** The snapshot device's address, for its sysfs files (sysfs-ops.ts) and GET_DEVICE_FD names (another name is another device); absent/'' unknown. */
  bdf?: string;
}

const OTHER: FdInfo = { kind: 'other', path: null, vcpu: -1, group: -1, ours: false };

/** What a path says about an fd; `other` for everything the importer does not follow. */
export function classifyPath(path: string, sel: DeviceSelector): FdInfo {
  let m: RegExpExecArray | null;
  if (/(^|\/)dev\/vfio\/vfio$/.test(path)) return { ...OTHER, kind: 'container', path };
  if ((m = /(?:^|\/)dev\/vfio\/(?:noiommu-)?(\d+)$/.exec(path))) return { ...OTHER, kind: 'group', path, group: Number(m[1]) };
  if ((m = /(?:^|\/)dev\/vfio\/devices\/(vfio\d+)$/.exec(path)))
    return { ...OTHER, kind: 'device', path, ours: sel.cdev === null || sel.cdev === m[1] };
  if (path === 'anon_inode:[vfio-device]') return { ...OTHER, kind: 'device', path, ours: true };
  if (/(^|\/)dev\/iommu$/.test(path)) return { ...OTHER, kind: 'iommufd', path };
  if (/(^|\/)dev\/kvm$/.test(path)) return { ...OTHER, kind: 'kvm', path };
  if (path === 'anon_inode:kvm-vm') return { ...OTHER, kind: 'kvm-vm', path };
  if ((m = /^anon_inode:kvm-vcpu:(\d+)$/.exec(path))) return { ...OTHER, kind: 'kvm-vcpu', path, vcpu: Number(m[1]) };
  return { ...OTHER, path };
}

export class FdTable {
  private readonly fds = new Map<number, FdInfo>();
  /** Container fds in the order they were opened (SET_CONTAINER's argument is a pointer strace does not follow). */
  private readonly containers: number[] = [];
  constructor(readonly selector: DeviceSelector) {}

  /** The container fd opened last and still open, if any. */
  newestContainer(): number | undefined {
    return this.containers[this.containers.length - 1];
  }

  /** What `fd` is at a use that printed `path` (null without -y). */
  resolve(fd: number, path: string | null): FdInfo {
    const known = this.fds.get(fd);
    if (path === null) return known ?? OTHER;
    if (known && (known.path === path || known.path === null)) {
      known.path = path;
      return known;
    }
    // Either first sight (attached mid-run) or the number now names another file (another task's
    // table, or reuse after a close the trace did not show): the path decides.
    const info = classifyPath(path, this.selector);
    if (info.kind === 'other' && known === undefined) return info;
    this.fds.set(fd, info);
    return info;
  }

  set(fd: number, info: FdInfo): void {
    this.fds.set(fd, info);
  }

  close(fd: number): void {
    this.fds.delete(fd);
    this.forgetContainer(fd);
    this.shown.add(fd);
  }

  /** fds whose open or close the log showed: any other fd was opened before the capture began. */
  private readonly shown = new Set<number>();

  /** Whether the log showed this fd number opened or closed (else it predates the capture). */
  wasShown(fd: number): boolean {
    return this.shown.has(fd);
  }

  private forgetContainer(fd: number): void {
    const i = this.containers.indexOf(fd);
    if (i >= 0) this.containers.splice(i, 1);
  }

  /** An fd created by a call whose result says what it is (openat path, GET_DEVICE_FD, ...). */
  created(fd: number, info: Omit<FdInfo, 'path'>, retPath: string | null): FdInfo {
    const full = { ...info, path: retPath };
    this.fds.set(fd, full);
    this.shown.add(fd);
    this.forgetContainer(fd);
    if (info.kind === 'container') this.containers.push(fd);
    return full;
  }
}
