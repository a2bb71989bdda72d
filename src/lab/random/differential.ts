// The lab as the judge of the kernel model: replays a trace whose events carry the real kernel's
// outcomes and lists every event where the model disagrees, in outcome (compareObserved, the
// replay's own comparison) or in bytes the model owns: a config-space read returns vconfig, an
// UNMAP_DMA writes back the size it unmapped, both knowable without the device.
import { createKernelModel } from '../../model/kernel/index.js';
import { compareData, compareObserved } from '../../replay/compare.js';
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
  /** What kind of disagreement, for grouping: `outcome`, `data` or `unsupported`. */
  what: 'outcome' | 'data' | 'unsupported';
}

const json = (v: unknown): string => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? String(x) : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));

/** Whether this event's returned bytes are the model's to know (not device data). */
function modelOwnedData(e: HostEvent): boolean {
  return e.kind === 'cfg-read' || (e.kind === 'region-read' && e.region === 7) || e.kind === 'unmap-dma';
}

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
    // Only the bits the model owns (the outcome's `own` mask: vconfig's virtualized bits), as
    // replay compares them: the others are the function's own register contents, a device trait
    // that the observation above has already adopted as a device note. (Lab, virtio-net-pci on
    // 6.12: a write to its vendor capability at 0x44 passes through, and the device drops it.)
    if (modelOwnedData(e as HostEvent) && e.observed?.data !== undefined && s.outcome.kind === 'ok' && s.outcome.data !== undefined) {
      if (compareData(s.outcome.data, s.outcome.own, e.observed.data) !== null) {
        const want = Buffer.from(e.observed.data).toString('hex');
        const got = Buffer.from(s.outcome.data).toString('hex');
        out.push({ index, event, rule: s.rule, predicted: `data=${got}`, observed: `data=${want}`, what: 'data' });
      }
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
  // Values after '=' vary with the sequence; the words before them do not ("data=0304" -> "data=#").
  const predicted = pred ? pred[1] + (pred[2] ? ` ${pred[2]}` : '') : d.predicted.replace(/=[0-9a-f]+/g, '=#');
  const observed = d.observed.replace(/=.*$/, '=');
  return `${d.what} ${d.rule} ${kind}: ${predicted} vs ${observed}`;
}
