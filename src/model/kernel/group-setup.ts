// The legacy VFIO set-up before a device fd exists: the container (/dev/vfio/vfio) and group
// (/dev/vfio/N) files, SET_CONTAINER, SET_IOMMU, and VFIO_GROUP_GET_DEVICE_FD, as a state machine
// [S: drivers/vfio/group.c and container.c (6.2+), vfio_main.c (6.0-6.1), vfio.c (up to 5.19)].
//
// IMPLICIT SET-UP. Most traces hold no set-up events (the tracer's and the lab's captures start at
// the device open). A group or container fd this table never saw opened is taken as fully set up
// (attached, IOMMU driver set), so those traces replay exactly as before; only files opened by a
// `vfio-open` event are tracked, from their open on.
//
// What a group file holds: its container (SET_CONTAINER) until UNSET_CONTAINER or the group file's
// release; a container loses its IOMMU driver when its last group goes ("Detaching the last group
// deprivileges a container") [S: vfio_group_detach_container]. From 6.0 device files hold a
// reference to the group file, so closing the group fd while the device is open releases nothing
// [S: group.c vfio_group_fops_release comment, vfio_device_assign_container get_file(opened_file)].

import { step, type Step } from '../outcome.js';
import type { KernelSwitches } from '../versions/kernel.js';
import { VFIO_SETUP } from '../../trace/types.js';
import { looksLikePciName, sameDevice } from '../../trace/setup-requests.js';

/** An open container or group file that the trace opened (`vfio-open`). */
interface SetupFile {
  id: number;
  pid: number;
  /** The fd in `pid`; null once closed (the file may live on, held by a device file). */
  fd: number | null;
  container: boolean;
  /** Group: its IOMMU group number. */
  group: number;
  /** Group: the container file it is attached to (SET_CONTAINER), or null. */
  attachedTo: number | null;
  /** Container: the IOMMU type SET_IOMMU chose; 0 = none. */
  iommuType: number;
}

/** What the caller does next for a GET_DEVICE_FD that passed the set-up checks: open the device. */
export type GetDeviceFdResult = { open: true; rule: string } | { open: false; step: Step };

const VFIO_TYPE1_IOMMU = 1;
const VFIO_TYPE1v2_IOMMU = 3;
/** IOMMU types whose SET_IOMMU result depends on what the model does not know. */
const TYPES_NOT_MODELED: ReadonlySet<number> = new Set([
  6, // VFIO_TYPE1_NESTING_IOMMU: accepted by type1 until nesting was removed
  8, // VFIO_NOIOMMU_IOMMU: needs the enable_unsafe_noiommu_mode parameter and a noiommu group
]);

/**
 * VFIO_CHECK_EXTENSION on a container: type1 answers 1 for TYPE1, TYPE1v2, UNMAP_ALL and
 * UPDATE_VADDR, 0 for what no x86 driver has [S: vfio_iommu_type1_check_extension].
 */
export function checkExtension(ext: number): Step {
  return step({ kind: 'ok', ret: [1, 3, 9, 10].includes(ext) ? 1n : 0n }, 'container.check-extension');
}


export class GroupSetup {
  private files: SetupFile[] = [];
  private nextId = 1;
  /** The group file the device was opened through (its device files hold it). */
  private deviceGroup: number | null = null;

  private find(pid: number, fd: number): SetupFile | undefined {
    return this.files.find((f) => f.pid === pid && f.fd === fd);
  }

  private byId(id: number | null): SetupFile | undefined {
    return id === null ? undefined : this.files.find((f) => f.id === id);
  }

  /** Whether device files keep the group file `g` alive (`devicesOpen` = live device files). */
  private heldByDevice(g: SetupFile, devicesOpen: number): boolean {
    return this.deviceGroup === g.id && devicesOpen > 0;
  }

  /** open() of /dev/vfio/vfio or /dev/vfio/N returning `fd`. */
  open(v: KernelSwitches, pid: number, fd: number, container: boolean, group: number, devicesOpen: number): Step {
    if (container) {
      this.files.push({ id: this.nextId++, pid, fd, container, group: 0, attachedTo: null, iommuType: 0 });
      return step({ kind: 'ok', ret: BigInt(fd) }, 'container.open');
    }
    const open = this.files.find((f) => !f.container && f.group === group);
    if (open !== undefined) {
      // "Do we need multiple instances of the group open? Seems not." [S: vfio_group_fops_open]
      if (open.fd !== null) return step({ kind: 'errno', errno: 'EBUSY' }, 'group.open.busy');
      if (this.heldByDevice(open, devicesOpen)) {
        if (v.groupFileHeldByDevice === 'unknown')
          return step({ kind: 'unsupported', reason: 'whether device files hold the group file open is not known for this kernel' }, 'group.open.held-unknown');
        if (v.groupFileHeldByDevice) return step({ kind: 'errno', errno: 'EBUSY' }, 'group.open.busy-held-by-device');
      }
      this.release(open); // its last device file went after its fd: released then
    }
    this.files.push({ id: this.nextId++, pid, fd, container: false, group, attachedTo: null, iommuType: 0 });
    return step({ kind: 'ok', ret: BigInt(fd) }, 'group.open');
  }

  /** close() of a container or group fd. */
  close(v: KernelSwitches, pid: number, fd: number, devicesOpen: number): Step {
    const f = this.find(pid, fd);
    if (f === undefined) return step({ kind: 'ok', ret: 0n }, 'group.close.untracked');
    f.fd = null;
    if (f.container) {
      // Attached groups hold the container; it goes with its last group [S: vfio_container_put].
      if (!this.files.some((g) => g.attachedTo === f.id)) this.files = this.files.filter((x) => x !== f);
      return step({ kind: 'ok', ret: 0n }, 'container.close');
    }
    if (this.heldByDevice(f, devicesOpen)) {
      if (v.groupFileHeldByDevice === 'unknown')
        return step({ kind: 'unsupported', reason: 'whether device files hold the group file open is not known for this kernel' }, 'group.close.held-unknown');
      if (v.groupFileHeldByDevice) return step({ kind: 'ok', ret: 0n }, 'group.close.held-by-device');
    }
    this.release(f);
    return step({ kind: 'ok', ret: 0n }, 'group.close.releases');
  }

  /** The group file goes: it leaves its container (which may lose its IOMMU driver). */
  private release(g: SetupFile): void {
    this.detach(g);
    this.files = this.files.filter((x) => x !== g);
    if (this.deviceGroup === g.id) this.deviceGroup = null;
  }

  private detach(g: SetupFile): void {
    const c = this.byId(g.attachedTo);
    g.attachedTo = null;
    if (c === undefined) return;
    if (!this.files.some((x) => x.attachedTo === c.id)) {
      c.iommuType = 0; // the last group deprivileges the container
      if (c.fd === null) this.files = this.files.filter((x) => x !== c);
    }
  }

  /** VFIO_GET_API_VERSION / CHECK_EXTENSION / SET_IOMMU on a container fd. */
  containerOp(pid: number, fd: number, request: number, arg: number): Step {
    switch (request) {
      case VFIO_SETUP.GET_API_VERSION:
        return step({ kind: 'ok', ret: 0n }, 'container.api-version');
      case VFIO_SETUP.CHECK_EXTENSION:
        return checkExtension(arg);
      case VFIO_SETUP.SET_IOMMU:
        break;
      default:
        return step({ kind: 'unsupported', reason: `container ioctl 0x${request.toString(16)} is not modeled` }, 'container.ioctl.not-modeled');
    }
    const c = this.find(pid, fd);
    if (c === undefined || !c.container) return step({ kind: 'ok', ret: 0n }, 'container.set-iommu.implicit');
    // Only a container with a group may enable an IOMMU driver, and only once [S: vfio_ioctl_set_iommu].
    if (!this.files.some((g) => g.attachedTo === c.id)) return step({ kind: 'errno', errno: 'EINVAL' }, 'container.set-iommu.no-group');
    if (c.iommuType !== 0) return step({ kind: 'errno', errno: 'EINVAL' }, 'container.set-iommu.already-set');
    if (TYPES_NOT_MODELED.has(arg))
      return step({ kind: 'unsupported', reason: `IOMMU type ${arg} depends on the kernel configuration` }, 'container.set-iommu.type-not-modeled');
    // No registered driver accepts another type: ret stays -ENODEV [S: vfio_ioctl_set_iommu].
    if (arg !== VFIO_TYPE1_IOMMU && arg !== VFIO_TYPE1v2_IOMMU) return step({ kind: 'errno', errno: 'ENODEV' }, 'container.set-iommu.no-driver');
    c.iommuType = arg;
    return step({ kind: 'ok', ret: 0n }, 'container.set-iommu');
  }

  /** VFIO_GROUP_GET_STATUS / SET_CONTAINER / UNSET_CONTAINER on a group fd. */
  groupOp(pid: number, fd: number, request: number, containerFd: number, devicesOpen: number): Step {
    const g = this.find(pid, fd);
    if (g === undefined || g.container) {
      if (request === VFIO_SETUP.GROUP_GET_STATUS || request === VFIO_SETUP.GROUP_SET_CONTAINER || request === VFIO_SETUP.GROUP_UNSET_CONTAINER)
        return step({ kind: 'ok', ret: 0n }, 'group.ioctl.implicit');
      return step({ kind: 'unsupported', reason: `group ioctl 0x${request.toString(16)} is not modeled` }, 'group.ioctl.not-modeled');
    }
    switch (request) {
      case VFIO_SETUP.GROUP_GET_STATUS:
        return step({ kind: 'ok', ret: 0n }, 'group.get-status');
      case VFIO_SETUP.GROUP_SET_CONTAINER: {
        // A group has one container [S: vfio_group_ioctl_set_container: -EINVAL if it has one].
        if (g.attachedTo !== null) return step({ kind: 'errno', errno: 'EINVAL' }, 'group.set-container.already-set');
        const c = this.find(pid, containerFd);
        if (c === undefined) {
          // A container this trace did not see opened: an implicit one with its driver set.
          const id = this.nextId++;
          this.files.push({ id, pid, fd: containerFd, container: true, group: 0, attachedTo: null, iommuType: -1 });
          g.attachedTo = id;
          return step({ kind: 'ok', ret: 0n }, 'group.set-container.implicit-container');
        }
        // A group fd passed as the container: -EINVAL up to 6.1, -EBADFD from 6.2 (group.c).
        if (!c.container) return step({ kind: 'unsupported', reason: 'SET_CONTAINER with a group fd: the errno differs by release' }, 'group.set-container.not-container');
        g.attachedTo = c.id;
        return step({ kind: 'ok', ret: 0n }, 'group.set-container');
      }
      case VFIO_SETUP.GROUP_UNSET_CONTAINER:
        if (g.attachedTo === null) return step({ kind: 'errno', errno: 'EINVAL' }, 'group.unset-container.none');
        // Open device files are container users too: only the group's own use may go [S: container_users != 1].
        if (this.heldByDevice(g, devicesOpen)) return step({ kind: 'errno', errno: 'EBUSY' }, 'group.unset-container.busy');
        this.detach(g);
        return step({ kind: 'ok', ret: 0n }, 'group.unset-container');
      default:
        return step({ kind: 'unsupported', reason: `group ioctl 0x${request.toString(16)} is not modeled` }, 'group.ioctl.not-modeled');
    }
  }

  /**
   * VFIO_GROUP_GET_DEVICE_FD of `name` on the group fd `fd`. `bdf` and `iommuGroup` are the
   * snapshot's device ("" / -1 = unknown). Passing the checks means the device opens.
   */
  getDeviceFd(v: KernelSwitches, pid: number, fd: number, name: string, bdf: string, iommuGroup: number): GetDeviceFdResult {
    const g = this.find(pid, fd);
    if (g === undefined || g.container) return { open: true, rule: 'group.get-device-fd.implicit-setup' };
    const c = this.byId(g.attachedTo);
    const hasIommu = c !== undefined && c.iommuType !== 0;
    // A name the capture does not hold ('': strace prints GET_DEVICE_FD's argument as a pointer)
    // may or may not be the device: the importer names a call that returned the device fd after
    // the device; one that failed keeps no name. Where the answer depends on the name, it is not
    // predicted (a failed call is no open either way).
    if (name === '' && bdf !== '') {
      const needsName = hasIommu || v.getDeviceFdNameFirst !== false;
      if (needsName) {
        const reason = 'GET_DEVICE_FD\'s name was not captured (strace shows only its pointer): whether it names a device of the group decides the result; capture the ioctl arguments with tracer/vfio-trace';
        return { open: false, step: step({ kind: 'unsupported', reason }, 'group.get-device-fd.name-unknown') };
      }
    }
    let found: boolean | 'unknown';
    if (name !== '' && !looksLikePciName(name)) found = false;
    else if (!sameDevice(name, bdf)) found = 'unknown'; // another device of the group?
    else found = iommuGroup < 0 || g.group === iommuGroup;
    const noDevice = step({ kind: 'errno', errno: 'ENODEV' }, 'group.get-device-fd.no-such-device');
    const noIommu = step({ kind: 'errno', errno: 'EINVAL' }, 'group.get-device-fd.no-iommu');
    const other = step({ kind: 'unsupported', reason: `${name} is not the traced device (${bdf}): another device of the group is not modeled` }, 'group.get-device-fd.other-device');
    const nameFirst = v.getDeviceFdNameFirst;
    if (found === true) return hasIommu ? { open: true, rule: 'group.get-device-fd' } : { open: false, step: noIommu };
    if (hasIommu) return { open: false, step: found === false ? noDevice : other };
    // Both checks fail: which errno comes first is the release's order.
    if (nameFirst === 'unknown') return { open: false, step: step({ kind: 'unsupported', reason: 'the order of the name and container checks is not known for this kernel' }, 'group.get-device-fd.order-unknown') };
    if (!nameFirst) return { open: false, step: noIommu };
    return { open: false, step: found === false ? noDevice : other };
  }

  /** After a successful GET_DEVICE_FD on `fd`: its device files hold that group. */
  openedThrough(pid: number, fd: number): void {
    const g = this.find(pid, fd);
    if (g !== undefined && !g.container) this.deviceGroup = g.id;
  }
}
