// The HTML report of one trace: the replay under the chosen versions (and a second selection side
// by side with --compare), the device-state lanes, and per event the switches behind its outcome.

import { UserError } from '../errors.js';
import { findKernelVersion } from '../model/versions/kernel.js';
import { findVmmVersion } from '../model/versions/vmm.js';
import { parseSelectionToken } from '../golden/naming.js';
import type { ModelSelection } from '../replay/engine.js';
import { unknownVersion } from '../replay/select-versions.js';
import type { Trace } from '../trace/types.js';
import { renderReport } from './html.js';
import { buildTimeline } from './timeline.js';
import { explainEvents } from './why.js';

/** `--compare X`: a kernel id replaces the kernel, a VMM id (or "none") the VMM, KERNEL+VMM both. */
export function compareSelection(main: ModelSelection, text: string): ModelSelection {
  if (text === 'none') return { kernel: main.kernel, vmm: null };
  if (findKernelVersion(text) !== undefined) return { kernel: text, vmm: main.vmm };
  if (findVmmVersion(text) !== undefined) return { kernel: main.kernel, vmm: text };
  const sel = parseSelectionToken(text);
  const unknown = sel === null ? 'not a version' : unknownVersion(sel);
  if (sel === null || unknown !== null)
    throw new UserError(`--compare wants a kernel version, a VMM version or KERNEL+VMM: "${text}" is ${unknown ?? 'not a version'}`);
  return sel;
}

/** The report and the exports replay one session: a trace that concatenates several is refused. */
export function requireOneHeader(trace: Trace, file: string, command: string): void {
  if ((trace.moreHeaders ?? []).length > 0) throw new UserError(`${command} takes a trace with one header (this one concatenates several)`, { file });
}

export async function reportHtml(trace: Trace, file: string, main: ModelSelection, compare?: ModelSelection): Promise<string> {
  requireOneHeader(trace, file, 'report');
  return renderReport({
    file,
    title: trace.header.title,
    main: await buildTimeline(file, main),
    why: explainEvents(trace, main),
    ...(compare === undefined ? {} : { compare: { timeline: await buildTimeline(file, compare), why: explainEvents(trace, compare) } }),
  });
}
