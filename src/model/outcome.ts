// Outcome and Effect: the values every model step returns. Nothing user-visible is a throw: a
// SIGBUS, an -EIO, a dead VMM, an access that reached a device that was not decoding are all
// values here, so the replay can print, compare and diff them.

import type { FailureConsequence, KernelFailureKind } from '../trace/types.js';
import { hexBytes } from '../trace/hex-bytes.js';

export type { FailureConsequence, KernelFailureKind };

/** Rule ids are dotted names, `area.subject.what`, e.g. `config.command.mse-clear-zaps`. */
export type RuleId = string;

export type PowerState = 'D0' | 'D1' | 'D2' | 'D3hot' | 'D3cold';

/** A huge page-table level a BAR fault can insert (kernel/huge-fault.ts). */
export type HugeSize = 'pmd' | 'pud';


export type Outcome =
  /**
   * The call succeeded. `ret` is the syscall return (bytes, fd); `data` bytes read; `value` a load's
   * value. `own` says which bits of `data` the model is the authority for (see data-owner.ts):
   * per byte a bit mask; absent = every bit. Bits outside it are the device's (compared, if at all,
   * as device state by the kernel model's `observe`), or bytes the call never wrote. `signaled`:
   * the interrupt eventfds the call made the kernel signal (`intx`, `msi:N`, `msix:N`; [] none),
   * where the model predicts them (device interrupts, INTx unmask/enable); absent elsewhere.
   */
  | { kind: 'ok'; ret?: bigint; data?: Uint8Array; value?: bigint; own?: Uint8Array; text?: string; signaled?: string[] }
  /** The call failed with this errno name ("EIO", "EINVAL", "EBUSY", ...). */
  /**
   * `data`: what the kernel still copied back to the caller's struct while failing (the header of
   * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO with the count it needs on -ENOSPC); model-owned.
   */
  | { kind: 'errno'; errno: string; data?: Uint8Array }
  /** The accessing thread took a signal (a CPU access through a mapping). */
  | { kind: 'signal'; signal: string; code: string }
  /**
   * The modeled kernel let the access reach a device that is not decoding memory or not in D0:
   * on real hardware this is an Unsupported Request / platform fault (machine check, AER fatal).
   */
  | { kind: 'hazard'; reason: string }
  /** The VMM died or stopped the VM. `how` names the mechanism. */
  | { kind: 'vmm-exit'; how: 'kvm-run-efault' | 'killed-sigbus' | 'exit'; status: number }
  /** A guest read returned all ones because the VMM's access failed (trapped BAR read got -EIO). */
  | { kind: 'all-ones'; len: number }
  /** A guest write the VMM dropped (trapped write failed, or the VMM filtered it). */
  | { kind: 'dropped' }
  /** A guest access hit no BAR: the guest sees the machine's unassigned-memory value. */
  | { kind: 'unassigned'; value: bigint }
  /** The thread waits (a fault that cannot take memory_lock sleeps until the writer finishes). */
  | { kind: 'blocked' }
  /** The host kernel failed (a catalog bug): `where` names the function or the lock report. */
  | { kind: 'kernel-failure'; failure: KernelFailureKind; where: string; consequence: FailureConsequence }
  /**
   * A racing event: every outcome the interleavings the kernel allows can give it (deduplicated by
   * rendering, in rendering order). Only the interleaving explorer produces it.
   */
  | { kind: 'may'; outcomes: Outcome[] }
  /** The event cannot be expressed in this model version (exit 125 under `git bisect run`). */
  | {
      kind: 'unsupported';
      reason: string;
      /**
       * True when the version table says this version's behavior here is unknown: a gap of this
       * version's own (bisect skips it, like git bisect's 125). Absent for gaps every version
       * shares (the trace lacks the arguments, or the model does not cover the call at all).
       */
      versionUnknown?: boolean;
    };

export type Effect =
  /** User PTEs of BAR mmaps torn down (vfio_pci_zap_bars / unmap_mapping_range). */
  | { kind: 'zap'; bars: number[] }
  /** A fault inserted the pages of a BAR mapping again. */
  | { kind: 'populate'; bar: number }
  /** huge_fault inserted a PMD/PUD; `pfnUnaligned`: built from a PFN not aligned to it (misdirected). */
  | { kind: 'map'; bar: number; size: HugeSize; pfnUnaligned: boolean }
  /**
   * huge_fault answered VM_FAULT_FALLBACK for this level: the fault address is not the block's
   * start (`address`), the block leaves the VMA (`vma`), or the PFN is not aligned to it (`pfn`).
   */
  | { kind: 'fallback'; bar: number; size: HugeSize; why: 'address' | 'vma' | 'pfn' }
  | { kind: 'revoke'; dmabuf: number }
  | { kind: 'unrevoke'; dmabuf: number }
  | { kind: 'power'; from: PowerState; to: PowerState }
  /** The function ignored a PMCSR write to `to` and stays in `from` (kernel: "Refused to change power state"). */
  | { kind: 'power-refused'; from: PowerState; to: PowerState }
  | { kind: 'reset'; method: string }
  /** BAR registers written back after the kernel saw the device lose them (back-door reset). */
  | { kind: 'restore-bars' }
  /** The operation reached the physical device (pread/pwrite/CPU access performed). */
  | { kind: 'device-access'; what: string }
  | { kind: 'guest-map'; bar: number }
  | { kind: 'guest-unmap'; bar: number }
  /** What a VMM forwarded to the host for a guest access (a host op it issued). */
  | { kind: 'forward'; what: string }
  | { kind: 'vmm-state'; what: string }
  | { kind: 'dmabuf-export'; dmabuf: number; region: number }
  | { kind: 'release'; what: string }
  /** Runtime low power (VFIO_DEVICE_FEATURE_LOW_POWER_*): enter, exit, wake (eventfd signaled). */
  | { kind: 'low-power'; what: 'enter' | 'exit' | 'wake' }
  /** The device lost register state behind the kernel's back (e.g. NoSoftRst- D3hot->D0 without restore). */
  | { kind: 'lost-state'; what: string }
  /**
   * The kernel itself touched a device that is not decoding / not in D0 on the way to the outcome
   * (e.g. pci_map_rom's header probe): the outcome is what the user sees, this flags the hazard.
   */
  | { kind: 'platform-hazard'; reason: string }
  /** A device interrupt the host left pending: its line is disabled (INTx without DisINTx). */
  | { kind: 'irq-pending'; irq: string };

/** One model step: the outcome, what changed, and the rule that decided the outcome. */
export interface Step {
  outcome: Outcome;
  effects: Effect[];
  rule: RuleId;
  /**
   * The BAR fault handler's calls the step made, `order=N:RET` each (kernels with huge_fault,
   * 6.12+; src/model/kernel/huge-fault.ts). Not rendered: replay compares it with the
   * handler's dynamic-debug lines in an observed kernel log (src/replay/fault-log.ts).
   */
  faultLog?: string[];
}

export function step(outcome: Outcome, rule: RuleId, effects: Effect[] = []): Step {
  return { outcome, effects, rule };
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);

/** Bytes shown in full in the log; longer data shows its first 8 bytes, the rest's length and a digest. */
const DATA_SHOWN = 16;

/**
 * `data=<hex>`, or for long data `data=<first 8 bytes>+<more>#<fnv1a32 of all>`: any changed byte
 * changes the line, so a golden shows a data difference like an outcome difference.
 */
export function renderData(d: Uint8Array): string {
  if (d.length <= DATA_SHOWN) return 'data=' + hexBytes(d);
  const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < d.length; i++) h = Math.imul(h ^ d[i], 0x01000193);
  return 'data=' + b.toString('hex', 0, 8) + '+' + (d.length - 8) + '#' + (h >>> 0).toString(16).padStart(8, '0');
}

/** Stable one-token-ish rendering used by the outcome log and goldens. Changing it changes every golden. */
export function renderOutcome(o: Outcome): string {
  switch (o.kind) {
    case 'ok': {
      const parts = ['ok'];
      if (o.ret !== undefined) parts.push(`ret=${o.ret}`);
      if (o.value !== undefined) parts.push(`val=${hex(o.value)}`);
      if (o.data !== undefined && o.value === undefined) parts.push(renderData(o.data));
      if (o.text !== undefined) parts.push(`text=${JSON.stringify(o.text)}`);
      if (o.signaled !== undefined) parts.push(`signaled=${o.signaled.length === 0 ? '-' : o.signaled.join(',')}`);
      return parts.join(' ');
    }
    case 'errno':
      return o.data === undefined ? `-${o.errno}` : `-${o.errno} ${renderData(o.data)}`;
    case 'signal':
      return `${o.signal} ${o.code}`;
    case 'hazard':
      return `HAZARD ${o.reason}`;
    case 'vmm-exit':
      return o.how === 'kvm-run-efault'
        ? 'vmm-exit KVM_RUN -EFAULT'
        : o.how === 'killed-sigbus'
          ? `vmm-exit killed SIGBUS status=${o.status}`
          : `vmm-exit status=${o.status}`;
    case 'all-ones':
      return `all-ones len=${o.len}`;
    case 'dropped':
      return 'dropped';
    case 'unassigned':
      return `unassigned val=${hex(o.value)}`;
    case 'blocked':
      return 'blocked';
    case 'kernel-failure':
      return renderKernelFailure(o.failure, o.where, o.consequence);
    case 'may':
      return 'may: ' + o.outcomes.map(renderOutcome).join(' | ');
    case 'unsupported':
      return `unsupported ${o.reason}`;
  }
}

const CONSEQUENCE_TEXT: Record<FailureConsequence, string> = {
  'thread-killed': ' -> thread killed',
  'vmm-hung': ' -> vmm hung',
  'host-down': ' -> host down',
  continues: '',
};

/** `kernel BUG at remap_pfn_range -> thread killed`, `lockdep: recursive memory_lock`, `deadlock memory_lock -> vmm hung`. */
export function renderKernelFailure(failure: KernelFailureKind, where: string, consequence: FailureConsequence): string {
  const head =
    failure === 'bug'
      ? `kernel BUG at ${where}`
      : failure === 'warn'
        ? `WARN at ${where}`
        : failure === 'lockdep'
          ? `lockdep: ${where}`
          : where === ''
            ? failure
            : `${failure} ${where}`;
  return head + CONSEQUENCE_TEXT[consequence];
}

export function renderEffect(e: Effect): string {
  switch (e.kind) {
    case 'zap':
      return `zap(${e.bars.map((b) => `bar${b}`).join(',')})`;
    case 'populate':
      return `populate(bar${e.bar})`;
    case 'map':
      return `map(bar${e.bar},${e.size}${e.pfnUnaligned ? ',pfn-unaligned' : ''})`;
    case 'fallback':
      return `fallback(bar${e.bar},${e.size}:${e.why})`;
    case 'revoke':
      return `revoke(dmabuf${e.dmabuf})`;
    case 'unrevoke':
      return `unrevoke(dmabuf${e.dmabuf})`;
    case 'power':
      return `power(${e.from}->${e.to})`;
    case 'power-refused':
      return `power-refused(${e.from}->${e.to})`;
    case 'reset':
      return `reset(${e.method})`;
    case 'restore-bars':
      return 'restore-bars';
    case 'device-access':
      return `device(${e.what})`;
    case 'guest-map':
      return `guest-map(bar${e.bar})`;
    case 'guest-unmap':
      return `guest-unmap(bar${e.bar})`;
    case 'forward':
      return `fwd(${e.what})`;
    case 'vmm-state':
      return `vmm(${e.what})`;
    case 'dmabuf-export':
      return `export(dmabuf${e.dmabuf},region${e.region})`;
    case 'release':
      return `release(${e.what})`;
    case 'low-power':
      return `low-power(${e.what})`;
    case 'lost-state':
      return `lost(${e.what})`;
    case 'platform-hazard':
      return `HAZARD(${e.reason})`;
    case 'irq-pending':
      return `pending(${e.irq})`;
  }
}
