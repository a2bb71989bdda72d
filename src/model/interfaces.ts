// The seams between the layers. The kernel model and the VMM models are built separately and meet
// here; the replay engine only knows these interfaces.

import type { DeviceSnapshot, EventMeta, GuestEvent, HostEvent, Accelerator, Observed, TraceEvent } from '../trace/types.js';
import type { PowerState, Step } from './outcome.js';

/** Read-only view of the modeled kernel's state, for the VMM model and for effects/diagnostics. */
export interface KernelView {
  /** The user-visible (virtual) COMMAND.MEM bit in vconfig. */
  readonly memoryEnabled: boolean; // __vfio_pci_memory_enabled(): MSE and D0 (per version)
  readonly powerState: PowerState;
  readonly isOpen: boolean;
  /** Read `len` bytes of the virtual config space as the user would via pread (no side effects). */
  peekConfig(offset: number, len: number): bigint;
}

/**
 * Linux vfio-pci for one device at one kernel version (release or series version). Deterministic,
 * no I/O. `host` applies one host-side operation and returns what the kernel does.
 * `meta` carries tid and the overlap (race) mark for the rules that depend on them.
 */
export interface KernelModel {
  readonly versionId: string;
  readonly view: KernelView;
  host(ev: HostEvent, meta: EventMeta): Step;
  /**
   * After `s` (the step `ev` took, host or guest): what `observed` shows of hardware-owned state
   * (config bits the function passes through, its power state, the kernel's "Refused to change
   * power state") that differs from the model's is adopted and returned as a device note; null
   * when it agrees. Kernel-owned state is not touched (see kernel/learn.ts).
   */
  observe(ev: TraceEvent, observed: Observed, s: Step): string | null;
  /**
   * After `observe`: the event's step predicted again from what it adopted, when the adopted
   * trait changes this event's own outcome (a ROM read past the image), else null.
   */
  corrected?(): Step | null;
}

export type KernelModelFactory = (device: DeviceSnapshot, versionId: string) => KernelModel;

/**
 * A VMM (QEMU, OpenVMM, cloud-hypervisor) at one version, wrapping a kernel model. A guest access
 * becomes zero or more host operations on `kernel` (each reported as a `forward` effect) plus the
 * VMM's own decisions (guest-map/guest-unmap, vmm-exit). Once the VMM is dead every further event
 * yields `vmm-exit` with rule `vmm.dead`.
 */
export interface VmmModel {
  readonly versionId: string;
  readonly alive: boolean;
  guest(ev: GuestEvent, meta: EventMeta): Step;
  /** Host events the VMM itself issued (from strace) pass through here so the VMM sees e.g. its memslots. */
  host(ev: HostEvent, meta: EventMeta): Step;
}

export type VmmModelFactory = (kernel: KernelModel, device: DeviceSnapshot, versionId: string, accel: Accelerator, options?: readonly string[]) => VmmModel;
