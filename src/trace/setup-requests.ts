// Names of the VFIO set-up ioctls as the text twin writes them (`ioctl container-op fd=3
// set-iommu arg=3`). One table for the printer, the parser and the replay log.
import { VFIO_SETUP, type EventBody } from './types.js';

const NAMES: readonly { name: string; request: number; on: 'container' | 'group' }[] = [
  { name: 'get-api-version', request: VFIO_SETUP.GET_API_VERSION, on: 'container' },
  { name: 'check-extension', request: VFIO_SETUP.CHECK_EXTENSION, on: 'container' },
  { name: 'set-iommu', request: VFIO_SETUP.SET_IOMMU, on: 'container' },
  { name: 'get-status', request: VFIO_SETUP.GROUP_GET_STATUS, on: 'group' },
  { name: 'set-container', request: VFIO_SETUP.GROUP_SET_CONTAINER, on: 'group' },
  { name: 'unset-container', request: VFIO_SETUP.GROUP_UNSET_CONTAINER, on: 'group' },
];

/** `set-iommu` for 0x3b66; undefined for a number that is no container/group set-up ioctl. */
export function setupRequestName(request: number): string | undefined {
  return NAMES.find((n) => n.request === request)?.name;
}

/** The request number of a set-up ioctl name made on a container or a group fd. */
export function setupRequestNumber(name: string, on: 'container' | 'group'): number | undefined {
  return NAMES.find((n) => n.name === name && n.on === on)?.request;
}

export function setupRequestNames(on: 'container' | 'group'): string[] {
  return NAMES.filter((n) => n.on === on).map((n) => n.name);
}

/** `0000:01:00.0` from `01:00.0` (domain 0 implied), lower case; other text as it is. */
function fullPciName(name: string): string {
  const n = name.trim().toLowerCase();
  return /^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(n) ? `0000:${n}` : n;
}

/**
 * Whether GET_DEVICE_FD's `name` names the device `bdf`: vfio-pci compares the PCI name up to a
 * space (` vf_token=UUID` follows it) [S: vfio_pci_core_match]. An empty name (strace printed only
 * the pointer) or an unknown bdf matches.
 */
export function sameDevice(name: string, bdf: string): boolean {
  if (name === '' || bdf === '') return true;
  return fullPciName(name.split(' ')[0]) === fullPciName(bdf);
}

/** Whether `name` has the form of a PCI device name (`DDDD:BB:DD.F`, optionally ` vf_token=...`). */
export function looksLikePciName(name: string): boolean {
  return /^([0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(name.split(' ')[0].toLowerCase());
}

/**
 * Container/group set-up that is not the device itself: opens and closes of container and group
 * files, and their ioctls (GET_DEVICE_FD is the device's open, so not one of them).
 */
export function isSetupEvent(e: EventBody): boolean {
  return e.kind === 'vfio-open' || e.kind === 'vfio-close' || (e.kind === 'ioctl' && (e.op === 'container-op' || e.op === 'group-op'));
}
