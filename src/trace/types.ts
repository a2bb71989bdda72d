// The in-memory form of a vfio-replay trace. Everything above the codec (model, replay, importers,
// lab) speaks these types; proto/vfio_trace.proto is their wire form and src/trace/codec.ts maps
// between the two. u64 quantities (offsets, addresses, sizes, timestamps, 64-bit values) are
// `bigint` from the decoder on, never a JS number.

/** Where the trace came from. */
export type CaptureSource = 'unknown' | 'strace' | 'qemu-log' | 'lab' | 'hand-written' | 'synthetic';

/** The accelerator the VMM ran on: decides how a stale direct mapping kills the VM. */
export type Accelerator = 'unknown' | 'kvm' | 'tcg' | 'mshv';

export type BarKind = 'mem' | 'io';

/** One BAR as probed on the host (from sysfs `resource`, or hand-written). */
export interface BarInfo {
  index: number; // 0..5
  size: bigint; // bytes; 0 = not implemented
  kind: BarKind;
  is64: boolean; // the upper half lives in index+1
  prefetchable: boolean;
}

export interface DeviceQuirks {
  /** pdev->non_mappable_bars: mmap of every BAR refused (e.g. some CXL/ConnectX functions). */
  nonMappableBars: boolean;
  /** vdev->pdev->no_command_memory: device has no COMMAND.MEM bit (e.g. VFs); memory is always enabled. */
  noCommandMemory: boolean;
  /** pdev->is_virtfn: an SR-IOV VF (COMMAND.MEM reads as 0 in hardware, emulated). */
  isVirtfn: boolean;
  /** BARs whose pci_request_selected_regions() fails (another driver holds the range). Fault injection from the snapshot. */
  resourceBusyBars: number[];
  /** BARs whose pci_iomap() fails after the region was requested. */
  iomapFailBars: number[];
  /**
   * Platform D3cold for runtime suspend: 'wakes', 'no-wake' (power-up leaves the function
   * inaccessible); absent/'' = none (D3hot is the deepest state).
   */
  d3cold?: string;
}

/** sysfs files of the function when the capture started; '' = not recorded. proto DeviceSysfs. */
export interface DeviceSysfs {
  powerState: string; // power_state: D0, D3hot, D3cold
  runtimeStatus: string; // power/runtime_status: active, suspended
  control: string; // power/control: auto, on
  d3coldAllowed: string; // 1, 0
  driverOverride: string; // "vfio-pci", "(null)"
}

export function deviceSysfsEmpty(p: DeviceSysfs): boolean {
  return p.powerState === '' && p.runtimeStatus === '' && p.control === '' && p.d3coldAllowed === '' && p.driverOverride === '';
}

/** The assigned device as the tracer saw it before the VMM started. */
export interface DeviceSnapshot {
  bdf: string; // "0000:01:00.0"
  vendorId: number; // u16
  deviceId: number; // u16
  /** Config space as read from sysfs `config` (256 or 4096 bytes; may be shorter if unprivileged). */
  config: Uint8Array;
  bars: BarInfo[]; // implemented BARs only, ascending index
  romSize: bigint; // 0 = no ROM
  quirks: DeviceQuirks;
  /** sysfs reset_method, in order: "flr", "af_flr", "pm", "bus", "cxl_bus", "device_specific". */
  resetMethods: string[];
  pageSize: number; // host PAGE_SIZE in bytes, usually 4096
  /** Whether a VGA region (index 8) is exposed (class VGA and CONFIG_VFIO_PCI_VGA). */
  vga: boolean;
  /** IOMMU group number from sysfs, -1 unknown. */
  iommuGroup: number;
  /** Hardware traits a probe or a log showed (src/model/devices/traits.ts); absent = snapshot + spec defaults. */
  traits?: DeviceTraits;
  /** Runtime PM and driver_override at capture start; absent = not recorded. */
  sysfs?: DeviceSysfs;
  /** The function is an SR-IOV VF: its PF and the PF's SR-IOV capability (issue 15). */
  sriovVf?: SriovVf;
  /** The function is an SR-IOV PF: its SR-IOV capability and vfio-pci's VF token state. */
  sriov?: SriovCap;
}

/** One VF BAR of an SR-IOV capability: every VF has it, `size` bytes each. */
export interface VfBar {
  index: number; // 0..5
  size: bigint; // bytes per VF
  is64: boolean;
  prefetchable: boolean;
  /** The PF's VF BAR register: VF 0's address (VF n: base + n * size); 0n = unassigned or unknown. */
  base: bigint;
}

/** A PF's SR-IOV capability (proto SriovCap) and what vfio-pci keeps for it. */
export interface SriovCap {
  capOffset: number; // 0 = unknown
  totalVfs: number;
  numVfs: number; // VFs enabled when the snapshot was taken
  firstVfOffset: number;
  vfStride: number;
  vfDeviceId: number;
  vfBars: VfBar[];
  /** The PF's driver: "vfio-pci", "igb", "" = none. */
  driver: string;
  /** vfio-pci's VF token of the PF (UUID text); "" = the random one it generated at bind (matches nothing). */
  vfToken: string;
  /** VFs a vfio user holds open (vf_token->users). */
  vfUsers: number;
  /** vfio-pci's enable_sriov module parameter. */
  enableSriov: boolean;
}

/** An SR-IOV VF's PF (proto SriovVf). */
export interface SriovVf {
  pfBdf: string;
  vfIndex: number;
  pf: SriovCap;
}

export function emptySriovCap(): SriovCap {
  return { capOffset: 0, totalVfs: 0, numVfs: 0, firstVfOffset: 0, vfStride: 0, vfDeviceId: 0, vfBars: [], driver: '', vfToken: '', vfUsers: 0, enableSriov: false };
}

/**
 * What the function does that the config snapshot alone does not say (proto DeviceTraits). Tri-state
 * strings: "yes", "no", "" = the default (snapshot, PCI spec). Resolved by src/model/devices/traits.ts.
 */
export interface DeviceTraits {
  /** D-states a PMCSR write can reach ("D0", "D3hot", ...); [] = D0, D3hot and what PMC advertises. */
  dStates: string[];
  /** D-states whose PMCSR write the function ignores (it stays where it was). */
  pmRefuses: string[];
  /** A function reset clears the registers ("" = yes). */
  resetClears: string;
  /** PMCSR NoSoftRst ("" = the snapshot's bit). */
  noSoftReset: string;
  /** Config space size in bytes; 0 = the snapshot's. */
  configSize: number;
  /** Function-level reset ("" = DEVCAP/AF). */
  flr: string;
  /** A secondary bus reset reaches the function ("" = "bus" in resetMethods). */
  busReset: string;
  /** Where the traits come from ("lab-probe", "dmesg", ...). */
  source: string;
  /** Bytes of the ROM BAR the ROM image fills (its PCIR chain); 0 = the whole BAR. */
  romImage: number;
}

/** Traits with every field at its default (nothing known beyond the snapshot). */
export function emptyTraits(): DeviceTraits {
  return { dStates: [], pmRefuses: [], resetClears: '', noSoftReset: '', configSize: 0, flr: '', busReset: '', source: '', romImage: 0 };
}

/** True when no trait is set: such traits are left out of a header (absent = defaults). */
export function traitsEmpty(t: DeviceTraits): boolean {
  return (
    t.dStates.length === 0 && t.pmRefuses.length === 0 && t.resetClears === '' && t.noSoftReset === '' &&
    t.configSize === 0 && t.flr === '' && t.busReset === '' && t.source === '' && t.romImage === 0
  );
}

export interface VmmInfo {
  name: string; // "qemu", "openvmm", "cloud-hypervisor", "" unknown
  version: string; // as reported ("7.2.15", "10.0.3", PR number "3609")
  accel: Accelerator;
  /**
   * Device options the VMM was given for this device, one `key=value` each, as written on its
   * command line (`-device vfio-pci,host=...,x-no-mmap=on` -> ["x-no-mmap=on"]); [] = none known.
   * They change how the VMM reaches the device (x-no-mmap=on traps every BAR access), so the VMM
   * model reads them.
   */
  options: string[];
}

export interface TraceHeader {
  formatVersion: number; // schema version, 1
  source: CaptureSource;
  kernelRelease: string; // `uname -r` of the host, "" unknown
  vmm: VmmInfo;
  tracerVersion: string;
  device: DeviceSnapshot;
  /** Free-form one-line description (the bug report title, the scenario name). */
  title: string;
  /**
   * VFIO module parameters as /sys/module/<module>/parameters/ showed them, one
   * `<module>.<param>=<value>` each (`vfio_pci.disable_idle_d3=Y`); absent = not recorded
   * (every parameter at its default). src/model/kernel/host-config.ts reads them.
   */
  moduleParams?: string[];
  /** The host's /proc/cmdline, one word each; absent = not recorded. */
  kernelCmdline?: string[];
}

// ----- observed outcome ------------------------------------------------------------------------

/** How the VMM process ended, when the trace saw it end. */
export interface VmmExit {
  /** 'exited' = exit(status); 'signaled' = killed by `signal`; 'kvm-run-error' = KVM_RUN failed and the VMM stopped the VM. */
  how: 'exited' | 'signaled' | 'kvm-run-error';
  status: number; // exit status as the shell sees it (128+signo when signaled)
  signal: string; // "SIGBUS", "" if none
  errno: string; // for kvm-run-error: "EFAULT"
}

export interface SignalInfo {
  signal: string; // "SIGBUS", "SIGSEGV"
  code: string; // "BUS_ADRERR", "BUS_OBJERR", "SEGV_MAPERR", "SI_KERNEL", ...
  addr: bigint | null; // si_addr if known
}

/**
 * What really happened, as the tracer or the lab recorded it. Every field is optional: an importer
 * fills what its source shows. The replay compares only the fields present.
 */
export interface Observed {
  /** Syscall return value (bytes transferred, new fd, 0). Absent when the call failed. */
  ret?: bigint;
  /** errno name when the call failed ("EIO", "EINVAL"). */
  errno?: string;
  /** Bytes read (pread, CPU load) as little-endian bytes. */
  data?: Uint8Array;
  signal?: SignalInfo;
  vmmExit?: VmmExit;
  /** Power state the tracer saw afterwards ("D0", "D3hot"), "" if not seen. */
  powerState?: string;
  /** The call did not return before the trace ended or it was still waiting (a blocked fault). */
  blocked?: boolean;
  /** Kernel log lines the event produced (dmesg), newline-separated ("Refused to change power state ..."). */
  kernelLog?: string;
  /** The host kernel failed here (from dmesg or the bug report). */
  kernelFailure?: ObservedKernelFailure;
  /** What a read of a text file (sysfs) returned, without its final newline. */
  text?: string;
  /** The interrupt eventfds the event made the kernel signal (`intx`, `msi:0`, `msix:3`); [] = none seen. */
  signaled?: string[];
}

/**
 * A failure of the host kernel itself (a catalog bug firing): `bug` = BUG()/oops, `warn` = WARN()
 * or a might_sleep splat, `lockdep` = a lockdep report, `deadlock` = threads waiting on each other
 * for ever, `hang` = a thread that never returns for another reason.
 */
export type KernelFailureKind = 'bug' | 'warn' | 'lockdep' | 'deadlock' | 'hang';
export const KERNEL_FAILURE_KINDS: readonly KernelFailureKind[] = ['bug', 'warn', 'lockdep', 'deadlock', 'hang'];

/**
 * What the user sees after a kernel failure: the calling thread killed (an oops in process
 * context), the VMM hung (a thread stuck in the kernel), the host gone (panic), or nothing beyond
 * the splat in the kernel log (the call completes).
 */
export type FailureConsequence = 'thread-killed' | 'vmm-hung' | 'host-down' | 'continues';
export const FAILURE_CONSEQUENCES: readonly FailureConsequence[] = ['thread-killed', 'vmm-hung', 'host-down', 'continues'];

/** A kernel failure as observed: kind `bug`/`warn`/`lockdep`/`deadlock`/`hang`; '' = not known. */
export interface ObservedKernelFailure {
  kind: string;
  where: string;
  consequence: string;
}

// ----- events ----------------------------------------------------------------------------------

/** Fields every event carries. */
export interface EventMeta {
  seq: bigint; // sequence number, monotonic within a capture
  tsNs: bigint; // nanoseconds since the capture's epoch (0 if unknown)
  tid: number; // thread id (0 if unknown)
  /**
   * Race mark: events with the same non-zero `overlap` id ran concurrently (their syscalls were
   * in flight at the same time). The model resolves them with the rule the version has for races.
   */
  overlap: number;
  /**
   * Process (thread-group id) whose address space and fd table the event uses. Absent (or 0) =
   * the traced VMM process; a process made by a `fork` event has its child number here.
   */
  pid?: number;
  observed?: Observed;
}

/**
 * The user buffer of a pread/pwrite lies in a BAR mapping of the same device (in the event's
 * process): the copy to or from it is itself an access through that mapping. Both fields are
 * set or both absent.
 */
export interface UserBuf {
  bufBar?: number;
  bufOffset?: bigint;
}

/** Fixed region indices (VFIO_PCI_*_REGION_INDEX). */
export const REGION_CONFIG = 7;
export const REGION_ROM = 6;
export const REGION_VGA = 8;

export type PowerRequest = 'entry' | 'entry-with-wakeup' | 'exit';

/** A decoded VFIO / KVM / IOMMU ioctl. `raw` keeps whatever the decoder could not place. */
export type IoctlOp =
  | { op: 'get-info'; argsz: number }
  | { op: 'get-region-info'; index: number; argsz: number }
  | { op: 'get-irq-info'; index: number; argsz: number }
  /** `fds`: the DATA_EVENTFD array (-1 deconfigures a vector's trigger); [] = not recorded. */
  | { op: 'set-irqs'; flags: number; index: number; start: number; count: number; argsz: number; fds: number[] }
  | { op: 'reset' }
  | { op: 'get-hot-reset-info'; argsz: number }
  | { op: 'hot-reset'; flags: number; groupFds: number[] }
  | { op: 'ioeventfd'; flags: number; offset: bigint; data: bigint; fd: number }
  /** VFIO_DEVICE_FEATURE with a feature the decoder has no struct for. */
  | { op: 'feature'; flags: number; feature: number; payload: Uint8Array }
  | { op: 'low-power'; request: PowerRequest; flags: number; wakeupFd: number }
  | {
      op: 'dma-buf';
      flags: number; // the FEATURE flags word (GET/SET/PROBE)
      regionIndex: number;
      openFlags: number;
      dmaBufFlags: number;
      ranges: { offset: bigint; length: bigint }[];
    }
  /** Any other ioctl: fd kind as the importer resolved it, request number, argument bytes. */
  | { op: 'raw'; fdKind: string; request: number; name: string; arg: Uint8Array }
  /** The vfio device cdev (6.6+): bind to an iommufd (opens the device), attach/detach a page table. */
  | { op: 'bind-iommufd'; iommufd: number; flags: number; argsz: number; vfToken: string }
  | { op: 'attach-iommufd-pt'; ptId: number; flags: number; argsz: number }
  | { op: 'detach-iommufd-pt'; flags: number; argsz: number }
  /** An ioctl on a container fd: GET_API_VERSION, CHECK_EXTENSION, SET_IOMMU (request numbers in VFIO_SETUP). */
  | { op: 'container-op'; fd: number; request: number; arg: number }
  /** An ioctl on a group fd: GET_STATUS, SET_CONTAINER (`containerFd`), UNSET_CONTAINER. */
  | { op: 'group-op'; fd: number; request: number; containerFd: number }
  /** VFIO_GROUP_GET_DEVICE_FD on the group fd `fd`: success is the device's open (observed ret = its fd). */
  | { op: 'get-device-fd'; fd: number; name: string };

/**
 * An IOMMU_* ioctl on the /dev/iommu fd (object ids are the context's). Outputs the kernel writes
 * back (a new object id, the chosen iova, the bytes unmapped) are the event's observed data.
 */
export type IommufdOp =
  | { op: 'ioas-alloc'; flags: number }
  | { op: 'ioas-map'; ioasId: number; flags: number; userVa: bigint; length: bigint; iova: bigint }
  | { op: 'ioas-map-file'; ioasId: number; flags: number; fd: number; start: bigint; length: bigint; iova: bigint }
  | { op: 'ioas-unmap'; ioasId: number; iova: bigint; length: bigint }
  | { op: 'ioas-iova-ranges'; ioasId: number; numIovas: number }
  | { op: 'hwpt-alloc'; flags: number; devId: number; ptId: number }
  | { op: 'destroy'; id: number };



/** The set-up ioctl numbers (include/uapi/linux/vfio.h, VFIO_BASE 100 on type ';'). */
export const VFIO_SETUP = {
  GET_API_VERSION: 0x3b64,
  CHECK_EXTENSION: 0x3b65,
  SET_IOMMU: 0x3b66,
  GROUP_GET_STATUS: 0x3b67,
  GROUP_SET_CONTAINER: 0x3b68,
  GROUP_UNSET_CONTAINER: 0x3b69,
  GROUP_GET_DEVICE_FD: 0x3b6a,
} as const;

export type DmabufImporterOp = 'attach' | 'map' | 'unmap' | 'detach' | 'mmap' | 'close';

/** Host side: what the VMM asked the kernel. */
export type HostEvent =
  /** VFIO_GROUP_GET_DEVICE_FD / open of the cdev: first open enables the device. `vfToken`: the
   *  "BDF vf_token=UUID" option (UUID text); absent = none given. */
  | { kind: 'open'; vfToken?: string }
  | { kind: 'close' } // last close of the device fd
  | ({ kind: 'cfg-read'; offset: number; len: number } & UserBuf)
  | ({ kind: 'cfg-write'; offset: number; data: Uint8Array } & UserBuf)
  /** pread of a non-config region: BAR 0-5, ROM 6, VGA 8, device-specific >= 9. */
  | ({ kind: 'region-read'; region: number; offset: bigint; len: number } & UserBuf)
  | ({ kind: 'region-write'; region: number; offset: bigint; data: Uint8Array } & UserBuf)
  /** mmap of the device fd. `addr` is the returned host virtual address (0 if unknown). */
  | { kind: 'mmap'; region: number; offset: bigint; length: bigint; prot: number; addr: bigint }
  | { kind: 'munmap'; addr: bigint; length: bigint }
  /** A CPU load/store through a BAR mapping, located by BAR and offset within the BAR. */
  | { kind: 'mem-read'; bar: number; offset: bigint; len: number }
  | { kind: 'mem-write'; bar: number; offset: bigint; len: number; value: bigint }
  | ({ kind: 'ioctl' } & IoctlOp)
  /** An operation on an exported DMABUF by its importer (a peer driver, iommufd). */
  | { kind: 'dmabuf'; dmabuf: number; op: DmabufImporterOp }
  /** VFIO_IOMMU_MAP_DMA (type1) of a host virtual address that lies in a BAR mapping. */
  | { kind: 'map-dma'; vaddr: bigint; iova: bigint; size: bigint; flags: number }
  | { kind: 'unmap-dma'; iova: bigint; size: bigint; flags: number }
  /** KVM_SET_USER_MEMORY_REGION; size 0 deletes the slot. */
  | { kind: 'memslot'; slot: number; flags: number; gpa: bigint; size: bigint; uaddr: bigint }
  /** A KVM_RUN return; its observed outcome carries the result. */
  | { kind: 'kvm-run'; vcpu: number }
  /** open() of /dev/vfio/vfio (`container`) or of the group /dev/vfio/`group`; `fd` is what it returned (-1 if it failed). */
  | { kind: 'vfio-open'; fd: number; container: boolean; group: number }
  /** close() of a container or group fd. */
  | { kind: 'vfio-close'; fd: number }
  /** fork() by the event's process: `child` (non-zero) inherits its fds and BAR mappings. */
  | { kind: 'fork'; child: number }
  /** The event's process exited: its BAR mappings are unmapped and its fds closed. */
  | { kind: 'process-exit' }
  /** The eventfd `fd` was signaled (a registered VFIO ioeventfd fires: the kernel writes its data). */
  | { kind: 'eventfd-signal'; fd: number }
  /** The device raised an interrupt: INTx (`index` 0) or MSI/MSI-X (`index` 1/2) vector `vector` (proto DeviceIrq). */
  | { kind: 'device-irq'; index: number; vector: number }
  /**
   * A read (`write` absent) or write of a sysfs file: `path` relative to the device's directory
   * ("reset", "power_state", "power/control") or a bus file starting "/sys/bus/pci/" (proto Sysfs).
   */
  | { kind: 'sysfs'; path: string; write?: string }
  /** open(/dev/vfio/devices/vfioN): a device file without access until BIND_IOMMUFD. */
  | { kind: 'cdev-open'; index: number }
  /** open(/dev/iommu): a new iommufd context. */
  | { kind: 'iommufd-open' }
  | ({ kind: 'iommufd' } & IommufdOp);

/** Guest side: what the guest asked the VMM. */
export type GuestEvent =
  | { kind: 'guest-cfg-read'; offset: number; len: number }
  | { kind: 'guest-cfg-write'; offset: number; len: number; value: bigint }
  | { kind: 'guest-mmio-read'; gpa: bigint; len: number }
  | { kind: 'guest-mmio-write'; gpa: bigint; len: number; value: bigint };

export type EventBody = HostEvent | GuestEvent;
export type TraceEvent = EventMeta & EventBody;
export type EventKind = EventBody['kind'];

export const GUEST_KINDS: ReadonlySet<EventKind> = new Set<EventKind>([
  'guest-cfg-read',
  'guest-cfg-write',
  'guest-mmio-read',
  'guest-mmio-write',
]);

export function isGuestEvent(e: EventBody): e is GuestEvent {
  return GUEST_KINDS.has(e.kind);
}

/** A device snapshot with nothing known: what a reader starts from before the header says more. */
export function emptyDeviceSnapshot(): DeviceSnapshot {
  return {
    bdf: '',
    vendorId: 0,
    deviceId: 0,
    config: new Uint8Array(0),
    bars: [],
    romSize: 0n,
    quirks: { nonMappableBars: false, noCommandMemory: false, isVirtfn: false, resourceBusyBars: [], iomapFailBars: [] },
    resetMethods: [],
    pageSize: 4096,
    vga: false,
    iommuGroup: -1,
  };
}

/** A whole trace in memory: only for small traces (tests, the text twin). Big ones stream. */
export interface Trace {
  header: TraceHeader;
  events: TraceEvent[];
  /**
   * Further header packets (a concatenation of traces): each applies from event index `before`
   * on. Absent or empty for a trace with one header.
   */
  moreHeaders?: { before: number; header: TraceHeader }[];
}
