// Bisect a loaded trace: choose the version list, fix the other axis (flag or trace header), build
// the predicate, run. The CLI and the tests both come through here; it does no I/O.

import { UserError } from '../errors.js';
import { selectVersions } from '../replay/select-versions.js';
import type { Trace } from '../trace/types.js';
import { chooseAxis, type AxisSelectors } from './axis.js';
import { modelCatalog, switchChanges } from './catalog.js';
import type { PredicateSpec } from './predicate.js';
import type { ReportContext } from './render.js';
import { traceReplayer } from './replay.js';
import { bisect, type BisectReport } from './run.js';
import type { VersionPoint } from './types.js';

export interface BisectRequest extends AxisSelectors {
  /** Kernel held fixed while the VMM varies; default from the trace header. */
  kernel?: string;
  /** VMM held fixed while the kernel varies ("none" or null = host only); default from the trace header. */
  vmm?: string | null;
  /** Watch one event (0-based). */
  event?: number;
  old?: string;
  new?: string;
  all?: boolean;
  /** Compare whole outcome-log lines (rule and effect order count). */
  exact?: boolean;
}

export interface BisectOutcome {
  report: BisectReport;
  context: ReportContext;
  /** Approximations made resolving the fixed axis from the header (printed on stderr by the CLI). */
  warnings: string[];
  predicate: PredicateSpec;
}

export function bisectTrace(trace: Trace, file: string, req: BisectRequest): BisectOutcome {
  const choice = chooseAxis(modelCatalog(), req);
  if (choice.axis === 'kernel' && req.kernel !== undefined)
    throw new UserError('--kernel fixes the kernel, but the kernel is the axis being bisected; use --vmm to fix the VMM');
  if (choice.axis === 'vmm' && req.vmm !== undefined)
    throw new UserError('--vmm fixes the VMM, but the VMM is the axis being bisected; use --kernel to fix the kernel');
  const event = req.event ?? null;
  if (req.exact === true && (req.old !== undefined || req.new !== undefined))
    throw new UserError('--exact applies to the default predicate (output differs); with --old/--new the terms decide');
  if (event !== null && (event < 0 || event >= trace.events.length))
    throw new UserError(`--event ${event}: the trace has ${trace.events.length} events (0..${trace.events.length - 1})`, { file });
  const predicate: PredicateSpec =
    req.old !== undefined || req.new !== undefined
      ? { kind: 'terms', old: req.old ?? null, new: req.new ?? null, event }
      : { kind: 'output', event, exact: req.exact === true };

  // The fixed axis: the flag, else what the trace header says (the same resolution as `replay`).
  const vmmFlag = req.vmm === 'none' ? null : req.vmm;
  const { selection, warnings } = selectVersions(trace.header, {
    kernel: choice.axis === 'vmm' ? req.kernel : choice.ids[0],
    vmm: choice.axis === 'kernel' ? vmmFlag : choice.ids[0],
  }, file);
  const points: VersionPoint[] = choice.ids.map((id) =>
    choice.axis === 'kernel' ? { id, kernel: id, vmm: selection.vmm } : { id, kernel: selection.kernel, vmm: id },
  );
  const report = bisect({
    points,
    predicate,
    replay: traceReplayer(trace),
    all: req.all === true,
    changes: (a, b) => switchChanges(choice.axis, a, b),
  });
  const context: ReportContext = {
    trace: file,
    label: choice.label,
    axis: choice.axis,
    fixed: choice.axis === 'kernel' ? `vmm ${selection.vmm ?? 'none'}` : `kernel ${selection.kernel}`,
  };
  return { report, context, warnings, predicate };
}

export { bisect, explain, logDiff, type BisectReport, type BisectOptions, type Transition } from './run.js';
export { bisectIndices, replayBudget, type SearchResult } from './search.js';
export { bisectReplayCounts, type ReplayCount } from './cost.js';
export { reportJson, reportText } from './render.js';
export { replayAt, traceReplayer } from './replay.js';
export type { PredicateSpec } from './predicate.js';
export type { VersionPoint, VersionRun, ReplayFn, Verdict } from './types.js';
