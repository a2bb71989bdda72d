// The lab as the judge of the kernel model: replays a trace whose events carry the real kernel's
// outcomes and lists every event where the model disagrees, by replay's own comparison
// (compareObserved: the outcome, and of returned bytes the bits the model owns: vconfig's
// virtualized config bits, an UNMAP_DMA's written-back size). The other bits of a config read are
// the function's registers, a device trait the observation has already adopted (a device note).
// Lab, virtio-net-pci on 6.12: a write to its vendor capability at 0x44 passes through vfio-pci
// and the device drops it; a second, every-bit data comparison here counted that as a finding.
import { createKernelModel } from '../../model/kernel/index.js';
import { compareObserved } from '../../replay/compare.js';
import { FaultLogJudge } from '../../replay/fault-log.js';
import { selectVersions } from '../../replay/select-versions.js';
import { isGuestEvent, type HostEvent, type Trace } from '../../trace/types.js';
import { describeEvent } from '../../trace/text-print.js';

export interface Disagreement {
  index: number;
  /** The event as the text format prints it (without its observation). */
  event: string;
  rule: string;
  predicted: string;
  observed: string;
  /** What kind of disagreement, for grouping: `outcome` or `unsupported`. */
  what: 'outcome' | 'unsupported';
}

const json = (v: unknown): string => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? String(x) : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));

/**
 * Every disagreement between the kernel model and the real outcomes in `trace`. The model version
 * comes from `kernel` or else from the header's kernel release, as `replay` picks it.
 */
export function disagreements(trace: Trace, kernel?: string): Disagreement[] {
  const id = kernel ?? selectVersions(trace.header, { vmm: null }).selection.kernel;
  const model = createKernelModel(trace.header.device, id, trace.header);
  const out: Disagreement[] = [];
  const faultLog = new FaultLogJudge();
  trace.events.forEach((e, index) => {
    if (isGuestEvent(e)) return;
    let s = model.host(e as HostEvent, e);
    // Learn what the real outcome shows of the device first, as replay does (a device note is
    // the device's trait, not a model disagreement): the comparison is then with the prediction
    // from the adopted hardware state.
    if (e.observed !== undefined && model.observe(e, e.observed, s) !== null) s = model.corrected?.() ?? s;
    const event = describeEvent(e);
    if (s.outcome.kind === 'unsupported') {
      out.push({ index, event, rule: s.rule, predicted: json(s.outcome), observed: '', what: 'unsupported' });
      return;
    }
    // The fault handler's own lines (a `# lab: klog=` capture) against the calls the model made.
    const calls = faultLog.judge(s.faultLog, e.observed?.kernelLog);
    const bad = compareObserved(s.outcome, e.observed, e) ?? calls;
    if (bad !== null) {
      out.push({ index, event, rule: s.rule, predicted: json(s.outcome), observed: bad, what: 'outcome' });
      return;
    }
  });
  return out;
}

/**
 * What makes two disagreements "the same finding" for deduplication and shrinking: the rule that
 * answered, the event kind, and what was observed against what was predicted (outcome kinds, not
 * addresses or values that vary with the sequence).
 */
export function signature(d: Disagreement): string {
  const kind = d.event.split(/\s+/)[0];
  const pred = /"kind":"([^"]+)"(?:.*?"errno":"([^"]+)")?/.exec(d.predicted);
  const predicted = pred ? pred[1] + (pred[2] ? ` ${pred[2]}` : '') : d.predicted;
  const observed = d.observed.replace(/=.*$/, '=');
  return `${d.what} ${d.rule} ${kind}: ${predicted} vs ${observed}`;
}
