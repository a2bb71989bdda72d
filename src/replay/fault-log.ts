// The BAR fault handler's own account of a fault, compared with the model's (issue 16 item 4).
//
// vfio-pci's huge_fault handler (6.12+) prints one dynamic-debug line per call when
// `vfio_pci_mmap_huge_fault` prints are on: "vfio_pci_mmap_huge_fault(,order = 9) BAR 2 page
// offset 0x200: 0x100" (order tried; 0x100 inserted, 0x800 fallback, 0x2 SIGBUS). The lab turns
// them on for a scenario with `# lab: klog=vfio_pci_mmap_huge_fault` and keeps each event's lines
// in its klog=. The model predicts the calls (Step.faultLog, `order=N:RET`); this compares the two,
// so a PUD the kernel inserted where the model says PMD, a level it offered again, or a fault the
// model thinks never happened (the entry still present) is a divergence, not just a different
// effect nobody looked at.
//
// An event without such lines proves nothing until the trace has shown that the prints are on:
// from the first line on, a missing line where the model predicts calls is a divergence too.
// The ratelimit (10 lines per 5 s per call site) shows as "callbacks suppressed": the lab's runner
// waits it out; a trace that still has one is reported as incomplete.

const CALL = /vfio_pci_mmap_huge_fault\(,?\s*order = (\d+)\).*:\s*(0x[0-9a-f]+)\s*$/;
const SUPPRESSED = /vfio_pci_mmap_huge_fault: \d+ callbacks suppressed/;

/** The handler calls a kernel log shows, `order=N:RET` each; null when it shows none. */
export function handlerCalls(kernelLog: string | undefined): string[] | null {
  if (kernelLog === undefined || kernelLog === '') return null;
  const calls: string[] = [];
  for (const line of kernelLog.split('\n')) {
    if (SUPPRESSED.test(line)) calls.push('suppressed');
    const m = CALL.exec(line);
    if (m !== null) calls.push(`order=${m[1]}:${m[2]}`);
  }
  return calls.length > 0 ? calls : null;
}

/** Follows one trace's events: whether its kernel log carries the handler's lines at all. */
export class FaultLogJudge {
  private seen = false;

  /**
   * After an event: null when the kernel's handler calls agree with the model's (or neither side
   * tells), else the divergence text `klog huge_fault ... (model ...)`.
   */
  judge(predicted: string[] | undefined, kernelLog: string | undefined): string | null {
    const calls = handlerCalls(kernelLog);
    if (calls !== null) this.seen = true;
    if (predicted === undefined) return null; // the model cannot tell (no huge_fault, or no VMA address)
    if (calls === null && (!this.seen || predicted.length === 0)) return null;
    const got = calls ?? [];
    if (got.includes('suppressed')) return `klog huge_fault lines suppressed by the ratelimit (incomplete capture)`;
    if (got.join(',') === predicted.join(',')) return null;
    return `klog huge_fault ${got.length > 0 ? got.join(',') : 'none'} (model ${predicted.length > 0 ? predicted.join(',') : 'none'})`;
  }
}
