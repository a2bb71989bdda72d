// Device interrupts and the host's INTx line (vfio_pci_intrs.c): what happens when the device raises
// an interrupt (`device-irq` events) and how vfio masks, unmasks and enables the INTx line.
//
// With DisINTx masking (vdev->pci_2_3, the default) vfio masks INTx in the device; without it
// (`nointxmask`, or a device that cannot) INTx needs an exclusive host IRQ line that vfio disables
// (disable_irq_nosync, a depth count) on each interrupt and enables again on unmask. An interrupt
// that arrives while the line is disabled stays pending and fires when the line is enabled.
//
// Enabling INTx on such a device, vfio_intx_set_signal() requests the IRQ and then lines the line
// up with the masked flag. Before fe9a7082684e request_irq enabled the line and vfio disabled it
// afterwards if masked: an interrupt in between disables it once in the handler and once more
// after, and unmask enables it only once, so INTx never fires again (catalog bug
// intx-auto-enable-depth, CVE-2024-27437). Since, the IRQ is requested IRQF_NO_AUTOEN and enabled
// only when not masked. The two halves are race phases (race-phases.ts).

import { step, type Step } from '../outcome.js';
import type { Kctx } from './context.js';

const INTX = 0, MSI = 1, MSIX = 2;

/** INTx is masked in the device (DisINTx) rather than at the host IRQ line. */
function disIntxMasking(k: Kctx): boolean {
  return !k.host.nointxmask;
}

/** vfio_send_intx_eventfd(): the trigger is signaled unless INTx is virtually disabled. */
function intxSignal(k: Kctx): string[] {
  return k.st.intxTrigger && !k.st.virqDisabled ? ['intx'] : [];
}

/** vfio_intx_handler() for an interrupt that reaches it. */
function intxHandler(k: Kctx): { signaled: string[]; rule: string } {
  if (disIntxMasking(k)) {
    if (k.st.intxMasked) return { signaled: [], rule: 'intrs.device-irq.intx-masked' };
  } else {
    k.st.intxDepth++;
  }
  k.st.intxMasked = true;
  const signaled = intxSignal(k);
  return { signaled, rule: signaled.length > 0 ? 'intrs.device-irq.intx-signal' : 'intrs.device-irq.intx-masked-no-signal' };
}

/** enable_irq() of the INTx line: the last enable delivers an interrupt left pending. */
function enableLine(k: Kctx): string[] {
  if (k.st.intxDepth > 0) k.st.intxDepth--;
  if (k.st.intxDepth > 0 || !k.st.intxPending) return [];
  k.st.intxPending = false;
  return intxHandler(k).signaled;
}

/** The device raises INTx or an MSI/MSI-X vector. */
export function deviceIrq(k: Kctx, index: number, vector: number): Step {
  if (index === MSI || index === MSIX) {
    const type = index === MSI ? 'msi' : 'msix';
    if (k.st.irqType !== type || vector >= k.st.irqVectors) return step({ kind: 'ok', signaled: [] }, 'intrs.device-irq.no-handler');
    return step({ kind: 'ok', signaled: [`${type}:${vector}`] }, 'intrs.device-irq.msi-signal');
  }
  if (index !== INTX) return step({ kind: 'unsupported', reason: `device-irq index ${index}: only INTx (0), MSI (1) and MSI-X (2) are device interrupts` }, 'intrs.device-irq.bad-index');
  // Before 18c198c96a81 deconfiguring the trigger also freed the handler.
  if (k.st.irqType !== 'intx' || (!k.st.intxTrigger && k.v.bugIntxNullTrigger)) return step({ kind: 'ok', signaled: [] }, 'intrs.device-irq.no-handler');
  if (!disIntxMasking(k) && k.st.intxDepth > 0) {
    k.st.intxPending = true;
    return step({ kind: 'ok', signaled: [] }, 'intrs.device-irq.intx-line-disabled', [{ kind: 'irq-pending', irq: 'intx' }]);
  }
  const h = intxHandler(k);
  return step({ kind: 'ok', signaled: h.signaled }, h.rule);
}

/** First half of enabling INTx with a trigger: vfio_intx_enable() and request_irq(). */
export function intxEnableRequest(k: Kctx, trigger: boolean): void {
  k.st.irqType = 'intx';
  k.st.irqVectors = 1;
  k.st.intxTrigger = trigger;
  k.st.intxMasked = k.st.virqDisabled;
  k.st.intxPending = false;
  // Without DisINTx the line is exclusive: auto-enabled by request_irq before fe9a7082684e.
  k.st.intxDepth = disIntxMasking(k) || k.v.bugIntxAutoEnable ? 0 : 1;
}

/** Second half: the line lined up with the masked flag (disable if masked / enable if not); what it signals. */
export function intxEnableFinish(k: Kctx): string[] {
  if (disIntxMasking(k)) return [];
  if (k.v.bugIntxAutoEnable) {
    if (k.st.intxMasked) k.st.intxDepth++;
    return [];
  }
  return k.st.intxMasked ? [] : enableLine(k);
}

/** SET_IRQS INTx UNMASK (vfio_pci_intx_unmask_handler): what a pending interrupt then signals. */
export function intxUnmask(k: Kctx): string[] {
  if (!k.st.intxMasked || k.st.virqDisabled) return [];
  k.st.intxMasked = false;
  return disIntxMasking(k) ? [] : enableLine(k);
}

/** SET_IRQS INTx MASK (vfio_pci_intx_mask). */
export function intxMask(k: Kctx): void {
  if (k.st.intxMasked) return;
  k.st.intxMasked = true;
  if (!disIntxMasking(k)) k.st.intxDepth++;
}

/** INTx disabled (SET_IRQS count 0, or the device closed): the line and its state go. */
export function intxReset(k: Kctx): void {
  k.st.intxTrigger = false;
  k.st.intxMasked = false;
  k.st.intxDepth = 0;
  k.st.intxPending = false;
}
