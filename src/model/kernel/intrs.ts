// vfio_pci_intrs.c + vfio_set_irqs_validate_and_prepare(): VFIO_DEVICE_GET_IRQ_INFO counts and
// VFIO_DEVICE_SET_IRQS validation and dispatch [S validate+dispatch; M handler details].

import { step, type Effect, type Outcome, type Step } from '../outcome.js';
import { leBytes } from '../pci/config-image.js';
import * as R from '../pci/regs.js';
import { takeWriter, type Kctx } from './context.js';
import { intxEnableFinish, intxEnableRequest, intxMask, intxReset, intxUnmask } from './device-irq.js';

const INTX = 0, MSI = 1, MSIX = 2, ERR = 3, REQ = 4;
const EVENTFD = 0x1, MASKABLE = 0x2, AUTOMASKED = 0x4, NORESIZE = 0x8;

export const DATA_NONE = 0x1, DATA_BOOL = 0x2, DATA_EVENTFD = 0x4;
export const ACTION_MASK = 0x8, ACTION_UNMASK = 0x10, ACTION_TRIGGER = 0x20;

export function irqCount(k: Kctx, index: number): number {
  switch (index) {
    case INTX:
      return k.st.vconfig.u8(R.PCI_INTERRUPT_PIN) !== 0 ? 1 : 0;
    case MSI:
      return k.g.msi !== 0 ? 1 << ((k.hw.config.u16(k.g.msi + R.PCI_MSI_FLAGS) & R.PCI_MSI_FLAGS_QMASK) >> 1) : 0;
    case MSIX:
      return k.g.msix !== 0 ? (k.hw.config.u16(k.g.msix + R.PCI_MSIX_FLAGS) & R.PCI_MSIX_FLAGS_QSIZE) + 1 : 0;
    case ERR:
      return k.g.exp !== 0 ? 1 : 0;
    case REQ:
      return 1;
    default:
      return 0;
  }
}

/** The PCI core enables MSI-X in the function; the capability reads pass through, so the user sees it [L msix-pba #30]. */
function setMsixEnable(k: Kctx, on: boolean): void {
  if (k.g.msix === 0) return;
  const at = k.g.msix + R.PCI_MSIX_FLAGS;
  const v = k.hw.config.u16(at);
  k.hw.config.setU16(at, on ? v | R.PCI_MSIX_FLAGS_ENABLE : v & ~R.PCI_MSIX_FLAGS_ENABLE);
}

/** ret 0, plus the interrupt eventfds the call signaled when it signaled any (a pending INTx delivered). */
export function signaledOk(signaled: string[]): Outcome {
  return signaled.length === 0 ? { kind: 'ok', ret: 0n } : { kind: 'ok', ret: 0n, signaled };
}

export function getIrqInfo(k: Kctx, index: number, argsz: number): Step {
  if (argsz < 16 || index < 0 || index >= 5) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.irq-info.einval');
  if (index === ERR && k.g.exp === 0) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.irq-info.err-not-pcie');
  let flags = EVENTFD;
  if (index === INTX) flags |= MASKABLE | AUTOMASKED;
  // has_dyn_msix is pci_msix_can_alloc_dyn(): false for a function without MSI-X, whose MSI-X
  // info keeps NORESIZE on 6.5+ too [S 6.5; L info-edges #26; L i82559er/edges#14 on 7.2].
  else if (index !== MSIX || !k.v.dynamicMsix || k.g.msix === 0) flags |= NORESIZE;
  const data = new Uint8Array(16);
  data.set(leBytes(BigInt(argsz), 4), 0);
  data.set(leBytes(BigInt(flags), 4), 4);
  data.set(leBytes(BigInt(index), 4), 8);
  data.set(leBytes(BigInt(irqCount(k, index)), 4), 12);
  return step({ kind: 'ok', ret: 0n, data }, 'intrs.irq-info.ok');
}

/** `fds`: the recorded DATA_EVENTFD array ([] = not recorded: the VMMs and the lab pass real eventfds). */
export function setIrqs(k: Kctx, flags: number, index: number, start: number, count: number, argsz: number, fds: readonly number[] = []): Step {
  const known = DATA_NONE | DATA_BOOL | DATA_EVENTFD | ACTION_MASK | ACTION_UNMASK | ACTION_TRIGGER;
  if (argsz < 20 || index < 0 || index >= 5 || count >= 0xffffffff - start || flags & ~known)
    return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.bad-header');
  const max = irqCount(k, index);
  if (start >= max || start + count > max) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.out-of-range');
  const dataType = flags & (DATA_NONE | DATA_BOOL | DATA_EVENTFD);
  const size = dataType === DATA_NONE ? 0 : dataType === DATA_BOOL ? 1 : dataType === DATA_EVENTFD ? 4 : -1;
  if (size < 0) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.bad-data-type');
  if (argsz - 20 < count * size) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.short-data');
  const action = flags & (ACTION_MASK | ACTION_UNMASK | ACTION_TRIGGER);
  if (index === MSI || index === MSIX) {
    if (action !== ACTION_TRIGGER) return step({ kind: 'errno', errno: 'ENOTTY' }, 'intrs.set-irqs.msi-mask-enotty');
    const type = index === MSI ? 'msi' : 'msix';
    if (k.st.irqType === type && count === 0 && dataType === DATA_NONE) {
      k.st.irqType = 'none';
      k.st.irqVectors = 0;
      k.st.msiQmax = 0;
      setMsixEnable(k, false);
      return step({ kind: 'ok', ret: 0n }, 'intrs.set-irqs.msi-disable');
    }
    if (k.st.irqType !== 'none' && k.st.irqType !== type) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.other-type-active');
    if (dataType === DATA_EVENTFD) {
      const eff: Effect[] = [];
      if (k.st.irqType !== type) {
        // pci_msi_supported() refuses a function that is not in D0 (a user PMCSR write put it in
        // D3hot): pci_alloc_irq_vectors fails and vfio returns its -EINVAL with nothing enabled
        // [S drivers/pci/msi; L random campaign, traces/lab/found/*/msi-enable-not-d0].
        if (k.hw.power !== 'D0') return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.msi-enable-not-d0');
        // Enable brackets vector setup with memory_lock write + HW MSE forced on, then restored [S].
        takeWriter(k);
        k.st.irqType = type;
        k.st.irqVectors = start + count;
        if (type === 'msi') k.st.msiQmax = Math.ceil(Math.log2(Math.max(1, start + count)));
        else setMsixEnable(k, true);
        eff.push({ kind: 'device-access', what: `${type}-enable` });
        return step({ kind: 'ok', ret: 0n }, 'intrs.set-irqs.msi-enable-forces-mse', eff);
      }
      // vfio_msi_set_block() on an enabled type: before dynamic MSI-X (6.5) it refuses any vector
      // past those enabled at enable time (start + count > num_ctx) [S; L random 1/363 on 6.1].
      // Since, vfio_msi_alloc_irq() allocates a missing MSI-X vector when the function can grow
      // (has_dyn_msix) and fails -EINVAL for MSI (pci_irq_vector of a vector never allocated);
      // the trace carries no fds, and the lab and VMMs hand eventfds (>= 0), which take that path.
      if (start + count > k.st.irqVectors) {
        if (type === 'msix' && k.v.dynamicMsix && k.g.msix !== 0) {
          k.st.irqVectors = start + count;
          return step({ kind: 'ok', ret: 0n }, 'intrs.set-irqs.msix-dynamic-grow');
        }
        return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.msi-set-block-past-enabled');
      }
      return step({ kind: 'ok', ret: 0n }, 'intrs.set-irqs.msi-set-eventfds');
    }
    if (k.st.irqType !== type) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.trigger-inactive');
    // DATA_NONE/BOOL loopback: num_ctx bounded it before 6.5; the xarray contexts since skip a
    // vector that has none [S vfio_pci_set_msi_trigger].
    if (start + count > k.st.irqVectors && !k.v.dynamicMsix) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.msi-set-block-past-enabled');
    return step({ kind: 'ok', ret: 0n }, 'intrs.set-irqs.loopback-trigger');
  }
  if (index === INTX) {
    if (action === ACTION_TRIGGER) {
      if (k.st.irqType === 'intx' && count === 0 && dataType === DATA_NONE) {
        k.st.irqType = 'none';
        intxReset(k);
        return step({ kind: 'ok', ret: 0n }, 'intrs.set-irqs.intx-disable');
      }
      if ((k.st.irqType !== 'none' && k.st.irqType !== 'intx') || start !== 0 || count !== 1)
        return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.intx-einval');
      if (dataType === DATA_EVENTFD) {
        // vfio_intx_set_signal(): fd -1 frees the trigger (and, before 18c198c96a81, the IRQ
        // handler) but INTx stays the IRQ type; INTx is enabled without a trigger the same way.
        const fd = fds[0] ?? 0;
        const rule = fd >= 0 ? 'intrs.set-irqs.intx-enable' : 'intrs.set-irqs.intx-trigger-unset';
        if (k.st.irqType === 'intx') {
          k.st.intxTrigger = fd >= 0;
          return step({ kind: 'ok', ret: 0n }, rule);
        }
        intxEnableRequest(k, fd >= 0);
        return step(signaledOk(intxEnableFinish(k)), rule);
      }
      if (k.st.irqType !== 'intx') return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.trigger-inactive');
      // DATA_NONE loopback: vfio_send_intx_eventfd() signals the trigger unless INTx is virtually
      // disabled. Without a trigger it passed NULL to eventfd_signal until 18c198c96a81 tested it
      // (catalog bug intx-null-trigger, CVE-2024-26812). DATA_BOOL depends on the unrecorded byte.
      if (dataType === DATA_NONE && !k.st.intxTrigger && !k.st.virqDisabled) {
        if (k.v.bugIntxNullTrigger)
          return step({ kind: 'kernel-failure', failure: 'bug', where: 'eventfd_signal', consequence: 'thread-killed' }, 'intrs.set-irqs.intx-loopback-null-trigger-bug');
        return step({ kind: 'ok', ret: 0n }, 'intrs.set-irqs.intx-loopback-no-trigger');
      }
      return step({ kind: 'ok', ret: 0n }, 'intrs.set-irqs.loopback-trigger');
    }
    if (action === ACTION_MASK || action === ACTION_UNMASK) {
      if (k.st.irqType !== 'intx' || start !== 0 || count !== 1) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.intx-einval');
      // DATA_NONE acts; DATA_BOOL acts on a byte the trace does not carry (taken as 1); an
      // unmask/mask irqfd (DATA_EVENTFD) acts later, on its eventfd.
      if (action === ACTION_MASK) {
        if (dataType !== DATA_EVENTFD) intxMask(k);
        return step({ kind: 'ok', ret: 0n }, 'intrs.set-irqs.intx-mask');
      }
      return step(signaledOk(dataType === DATA_EVENTFD ? [] : intxUnmask(k)), 'intrs.set-irqs.intx-unmask');
    }
    return step({ kind: 'errno', errno: 'ENOTTY' }, 'intrs.set-irqs.bad-action');
  }
  // ERR / REQ: trigger only, start 0, count <= 1 [S].
  if (action !== ACTION_TRIGGER) return step({ kind: 'errno', errno: 'ENOTTY' }, 'intrs.set-irqs.bad-action');
  if (start !== 0 || count > 1) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.err-req-einval');
  if (count === 0 && dataType !== DATA_NONE) return step({ kind: 'errno', errno: 'EINVAL' }, 'intrs.set-irqs.err-req-einval');
  return step({ kind: 'ok', ret: 0n }, index === ERR ? 'intrs.set-irqs.err-trigger' : 'intrs.set-irqs.req-trigger');
}
