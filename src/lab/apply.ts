// Writes the lab's real outcomes back into a trace: each executed event gets the observed outcome
// the runner recorded, and the header becomes the lab's (source lab, the guest's `uname -r`, the
// device snapshot the real kernel had). Pure: the caller does the file I/O.
import type { Observed, Trace, TraceEvent, TraceHeader } from '../trace/types.js';
import type { OpScript } from './op-script.js';
import type { RunResult, ScenarioRun } from './serial.js';
import type { LabSnapshot } from './snapshot.js';

/** The observed outcome for one runner result, or undefined when the runner could not run it. */
export function observedFrom(r: RunResult): Observed | undefined {
  if (r.error !== undefined) return undefined;
  // The kernel log lines the op produced (a `# lab: klog=` scenario) go with every kind of outcome.
  const klog = r.klog?.length ? { kernelLog: r.klog.join('\n') } : {};
  if (r.signal) return { signal: { ...r.signal }, ...klog };
  if (r.errno !== undefined) return r.data ? { errno: r.errno, data: r.data, ...klog } : { errno: r.errno, ...klog };
  const o: Observed = { ...klog };
  if (r.ret !== undefined) o.ret = r.ret;
  if (r.data !== undefined) o.data = r.data;
  if (r.text !== undefined) o.text = r.text;
  return o;
}

export interface LabHeaderInfo {
  /** Free text recording the exact kernel build (Debian package and version, or "user bzImage"). */
  kernelBuild: string;
  tracerVersion: string;
}

export function labHeader(h: TraceHeader, snap: LabSnapshot, info: LabHeaderInfo): TraceHeader {
  return {
    ...h,
    source: 'lab',
    kernelRelease: snap.kernelRelease,
    vmm: { name: '', version: '', accel: 'unknown', options: [] },
    tracerVersion: `${info.tracerVersion} (${info.kernelBuild})`,
    device: snap.device,
    ...(snap.moduleParams.length > 0 ? { moduleParams: snap.moduleParams } : {}),
    ...(snap.kernelCmdline.length > 0 ? { kernelCmdline: snap.kernelCmdline } : {}),
  };
}

export interface Applied {
  trace: Trace;
  /** Events the runner should have executed but did not report, or could not perform. */
  problems: string[];
  /** Events whose outcome differed between the plain run and the strace run. */
  unstable: number[];
}

function sameResult(a: RunResult | undefined, b: RunResult | undefined): boolean {
  const key = (r: RunResult | undefined): string =>
    r === undefined
      ? '-'
      : JSON.stringify({
          ...r,
          ret: r.ret?.toString(),
          data: r.data ? Buffer.from(r.data).toString('hex') : undefined,
          signal: r.signal ? { ...r.signal, addr: r.signal.addr?.toString() } : undefined,
        });
  return key(a) === key(b);
}

export function applyResults(
  trace: Trace,
  script: OpScript,
  run: ScenarioRun,
  snap: LabSnapshot,
  info: LabHeaderInfo,
  run2?: ScenarioRun,
): Applied {
  const problems: string[] = [];
  const unstable: number[] = [];
  const executed = new Set(script.ops);
  const events: TraceEvent[] = trace.events.map((e, i) => {
    if (!executed.has(i)) return e;
    const r = run.results.get(i);
    if (run2 && !sameResult(r, run2.results.get(i))) unstable.push(i);
    if (!r) {
      problems.push(`event ${i} (${e.kind}): no result from the runner`);
      const { observed: _drop, ...rest } = e;
      return rest as TraceEvent;
    }
    if (r.error !== undefined) problems.push(`event ${i} (${e.kind}): runner could not perform it: ${r.error}`);
    const observed = observedFrom(r);
    if (!observed) {
      const { observed: _drop, ...rest } = e;
      return rest as TraceEvent;
    }
    return { ...e, observed };
  });
  if (!run.done) problems.push(`runner did not finish (rc=${run.rc})`);
  const header = labHeader(trace.header, snap, info);
  const out: Trace = { header, events };
  if (trace.moreHeaders?.length) out.moreHeaders = trace.moreHeaders.map((m) => ({ ...m, header: labHeader(m.header, snap, info) }));
  return { trace: out, problems, unstable };
}
