// Which fd is what. strace prints fd numbers (and with -y the file behind them); the importer needs
// to know which fd is the VFIO container, a group, THE device, iommufd, /dev/kvm, a KVM VM or vCPU.
//
// Sources, strongest first:
//  - the -y annotation on every use (`9</dev/vfio/vfio>`, `6<anon_inode:[vfio-device]>`,
//    `13<anon_inode:kvm-vcpu:0>`): it says what the fd is at that moment, in whichever task;
//  - the call that created the fd: openat of a /dev path, the return value of
//    VFIO_GROUP_GET_DEVICE_FD, KVM_CREATE_VM, KVM_CREATE_VCPU.
// Paths are matched by suffix (`.../dev/vfio/vfio`) so a VMM in a chroot or jail still matches.
//
// fd numbers are ALIASES of open file descriptions, as in the kernel: dup/dup2/dup3/fcntl(F_DUPFD*)
// give the same file a second number, fork copies a process's table (both point at the same files),
// threads (CLONE_FILES) share it. The events name a file by the number it was opened at (or first
// seen at): `name`. So a BIND whose iommufd is the dup2'd 100 names the /dev/iommu the trace
// opened as 5, and the model, which knows files by the number their open returned, finds it.
// Closing one of two aliases closes nothing (vfio's release runs at the last fput, not the first
// close): `Closed.lastInProcess` says when the process's last reference went. Close-on-exec flags
// (O_CLOEXEC, dup3's, F_DUPFD_CLOEXEC, F_SETFD) decide what an execve drops.

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

/** One open file description: what dup'd numbers and a forked child's copies share. */
export interface OpenFile {
  info: FdInfo;
  /** The fd number the trace's events name this file by: where it was opened, or first seen. */
  readonly name: number;
  /** fd numbers (in every process) that refer to it. */
  refs: number;
}

interface Slot {
  file: OpenFile;
  cloexec: boolean;
}

/** One process's fd numbers (its threads share it). */
type Space = Map<number, Slot>;

/** What an fd use resolved to: the file's kind etc., the number used, and the file's name. */
export type Resolved = FdInfo & { fd: number; name: number };

/** A number that stopped referring to its file (close, dup2 onto it, execve of a CLOEXEC fd). */
export interface Closed {
  file: OpenFile;
  /** The fd number that went. */
  fd: number;
  /** No other number of the same process refers to the file: for the process it is closed. */
  lastInProcess: boolean;
  /** No number anywhere refers to it (the kernel releases it unless a mapping holds it). */
  released: boolean;
}

/**
 * Kinds the model knows by number, by namespace: containers and groups (group-setup.ts), iommufds
 * (their contexts). Two live files of one namespace must not share a name.
 */
const NAMESPACE: Readonly<Record<string, string>> = { container: 'setup', group: 'setup', iommufd: 'iommufd' };

/**
 * Where names of files that cannot have the number they were opened at start: far above the fd
 * numbers processes get (RLIMIT_NOFILE is 1024..1048576 in practice), so they read as names.
 */
export const FRESH_NAMES = 1_000_000;

export class FdTable {
  /** Task id -> its process's table; tasks never seen created share the traced VMM's (`root`). */
  private readonly spaces = new Map<number, Space>();
  private readonly root: Space = new Map();
  /** Container files in the order they were opened (SET_CONTAINER's argument is a pointer strace does not follow). */
  private readonly containers: OpenFile[] = [];
  /** fds whose open or close the log showed: any other fd was opened before the capture began. */
  private readonly shown = new Set<number>();
  /**
   * Container/group files opened at the number another live one is named by (an alias kept it
   * open after its number was closed): they are named from FRESH_NAMES up instead.
   */
  renamed = 0;
  /** iommufds opened at the number another live iommufd is named by: the model knows an iommufd by the number its open returned, so the two share it. */
  nameClashes = 0;
  private nextFresh = FRESH_NAMES;
  constructor(readonly selector: DeviceSelector) {}

  /** The first task the table saw: the traced VMM (its table is `root`). */
  private rootTid: number | null = null;

  private space(tid: number): Space {
    this.rootTid ??= tid;
    return this.spaces.get(tid) ?? this.root;
  }

  /** A new task: a thread sharing its creator's table (CLONE_FILES), or a child with a copy of it. */
  cloned(parent: number, child: number, shareFiles: boolean): void {
    const from = this.space(parent);
    if (shareFiles) {
      this.spaces.set(child, from);
      return;
    }
    const copy: Space = new Map();
    for (const [fd, slot] of from) {
      copy.set(fd, { ...slot });
      slot.file.refs++;
    }
    this.spaces.set(child, copy);
  }

  /** The task's process ended (exit or death): its numbers go, with no events of their own. */
  exited(tid: number): void {
    const sp = this.spaces.get(tid);
    if (sp === undefined || sp === this.root) return;
    // Its tasks keep the (now empty) table: a later call of one (after an execve that left no
    // VFIO fd) must not fall back to the VMM's numbers.
    for (const slot of sp.values()) this.unref(slot.file);
    sp.clear();
  }

  /** The container opened last and still open, by name, if any. */
  newestContainer(): number | undefined {
    for (let i = this.containers.length - 1; i >= 0; i--) if (this.containers[i]!.refs > 0) return this.containers[i]!.name;
    return undefined;
  }

  /** What `fd` is at a use by `tid` that printed `path` (null without -y). */
  resolve(tid: number, fd: number, path: string | null): Resolved {
    const sp = this.space(tid);
    const known = sp.get(fd);
    if (path === null) return known ? { ...known.file.info, fd, name: known.file.name } : { ...OTHER, fd, name: fd };
    if (known && (known.file.info.path === path || known.file.info.path === null)) {
      known.file.info.path = path;
      return { ...known.file.info, fd, name: known.file.name };
    }
    // Either first sight (attached mid-run) or the number now names another file (reuse after a
    // close the trace did not show): the path decides.
    const info = classifyPath(path, this.selector);
    if (info.kind === 'other' && known === undefined) return { ...info, fd, name: fd };
    if (known !== undefined && sp === this.root && tid !== this.rootTid && !this.spaces.has(tid)) {
      // A task the log never showed created sees another file under the VMM's number: it is
      // another process (forked before the capture, or by an untraced call), with its own table
      // from here on: a copy of the VMM's (what a fork would have given it).
      this.cloned(this.rootTid!, tid, false);
      return this.resolve(tid, fd, path);
    }
    const f = this.put(sp, fd, info, known?.cloexec ?? false);
    return { ...info, fd, name: f.name };
  }

  /** The name of the file `fd` refers to in `tid`'s process (the number itself when unknown or negative). */
  nameOf(tid: number, fd: number): number {
    return this.space(tid).get(fd)?.file.name ?? fd;
  }

  /** Whether the log showed this fd number opened or closed (else it predates the capture). */
  wasShown(fd: number): boolean {
    return this.shown.has(fd);
  }

  /** An fd created by a call whose result says what it is (openat path, GET_DEVICE_FD, ...). */
  created(tid: number, fd: number, info: Omit<FdInfo, 'path'>, retPath: string | null, cloexec = false): Resolved {
    const full = { ...info, path: retPath };
    this.shown.add(fd);
    const f = this.put(this.space(tid), fd, full, cloexec);
    return { ...full, fd, name: f.name };
  }

  /** close(fd): null when the table did not know the number. */
  close(tid: number, fd: number): Closed | null {
    this.shown.add(fd);
    return this.drop(this.space(tid), fd);
  }

  /**
   * dup/dup2/dup3/fcntl(F_DUPFD*) returned `to` for `from` (whose -y path is `fromPath`): both
   * numbers now refer to one file. A `to` that was open is closed first (returned).
   */
  dup(tid: number, from: number, fromPath: string | null, to: number, cloexec: boolean): Closed | null {
    this.shown.add(to);
    if (from === to) return null; // dup2(fd, fd) changes nothing
    const sp = this.space(tid);
    let src = sp.get(from);
    if (src === undefined || (fromPath !== null && src.file.info.path !== null && src.file.info.path !== fromPath)) {
      // A number the table had not seen (opened before the capture, or by an untraced call), or
      // one that now names another file: first sight, named here.
      this.put(sp, from, fromPath === null ? { ...OTHER } : classifyPath(fromPath, this.selector), false);
      src = sp.get(from)!;
    } else if (fromPath !== null) src.file.info.path = fromPath;
    const closed = this.drop(sp, to);
    src.file.refs++;
    sp.set(to, { file: src.file, cloexec });
    return closed;
  }

  /** fcntl(F_SETFD): the close-on-exec flag of one number. */
  setCloexec(tid: number, fd: number, on: boolean): void {
    const slot = this.space(tid).get(fd);
    if (slot) slot.cloexec = on;
  }

  /** A successful execve: the close-on-exec numbers go (returned, lowest first). */
  exec(tid: number): Closed[] {
    const sp = this.space(tid);
    const out: Closed[] = [];
    for (const fd of [...sp.keys()].sort((a, b) => a - b)) {
      if (!sp.get(fd)!.cloexec) continue;
      out.push(this.drop(sp, fd)!);
    }
    return out;
  }

  /** The files `tid`'s process still has, by number (lowest first). */
  open(tid: number): [number, OpenFile][] {
    return [...this.space(tid)].sort((a, b) => a[0] - b[0]).map(([fd, s]) => [fd, s.file]);
  }

  /** The close-on-exec flag of a number (false when unknown). */
  cloexec(tid: number, fd: number): boolean {
    return this.space(tid).get(fd)?.cloexec ?? false;
  }

  private file(info: FdInfo, name: number): OpenFile {
    const ns = NAMESPACE[info.kind];
    if (ns !== undefined && this.live.some((f) => f.name === name && NAMESPACE[f.info.kind] === ns)) {
      // The usual hand-off (open at N, dup2 to M, close N, the next open gets N again) would give
      // two live set-up files one name: the newer one gets a fresh name (its open event's `fd`;
      // the observed result stays the number the call returned).
      if (ns === 'setup') name = this.nextFresh++;
      if (ns === 'setup') this.renamed++;
      else this.nameClashes++;
    }
    const f: OpenFile = { info, name, refs: 0 };
    if (ns !== undefined) this.live.push(f);
    if (info.kind === 'container') this.containers.push(f);
    return f;
  }

  /** Live files of a NAMESPACE kind (released ones leave in unref). */
  private live: OpenFile[] = [];

  /** A new file at `fd` (named `fd`), replacing whatever the number referred to. */
  private put(sp: Space, fd: number, info: FdInfo, cloexec: boolean): OpenFile {
    this.drop(sp, fd);
    const file = this.file(info, fd);
    file.refs++;
    sp.set(fd, { file, cloexec });
    return file;
  }

  private drop(sp: Space, fd: number): Closed | null {
    const slot = sp.get(fd);
    if (slot === undefined) return null;
    sp.delete(fd);
    this.unref(slot.file);
    let lastInProcess = true;
    for (const s of sp.values()) if (s.file === slot.file) lastInProcess = false;
    return { file: slot.file, fd, lastInProcess, released: slot.file.refs === 0 };
  }

  private unref(f: OpenFile): void {
    f.refs--;
    if (f.refs === 0) {
      if (NAMESPACE[f.info.kind] !== undefined) this.live = this.live.filter((x) => x !== f);
      const i = this.containers.indexOf(f);
      if (i >= 0) this.containers.splice(i, 1);
    }
  }
}
