// The golden file: a short header naming the trace and both model versions, a blank line, the
// outcome log, a blank line, a summary line. Plain text so a review shows exactly what changed.
//
//   vfio-replay golden 1
//   trace: mse-live-mappings.pb
//   kernel: linux-5.8
//   vmm: -
//   title: seed 004: MSE cleared with live mappings
//
//   #0000 host  open                                         => ok [core.open.enable]
//   ...
//
//   summary: 9 events, 0 divergences, 0 unsupported

import type { ModelSelection } from '../replay/engine.js';
import { countsLine, type ReplayCounts } from '../replay/summary.js';

export const GOLDEN_MAGIC = 'vfio-replay golden 1';

export interface GoldenHeader {
  trace: string; // path of the trace relative to the golden's folder
  selection: ModelSelection;
  title: string;
}

export function renderGoldenHead(h: GoldenHeader): string {
  return (
    `${GOLDEN_MAGIC}\ntrace: ${h.trace}\nkernel: ${h.selection.kernel}\nvmm: ${h.selection.vmm ?? '-'}\n` +
    `title: ${h.title.replace(/[\r\n]+/g, ' ')}\n\n`
  );
}

/** The golden's last lines: a blank line and the summary line `replay` prints too. */
export function renderGoldenTail(c: ReplayCounts): string {
  return `\n${countsLine(c)}\n`;
}

/** Reads the header of a golden; null when the text is not a golden (the caller reports where). */
export function parseGoldenHead(text: string): GoldenHeader | null {
  const lines = text.split('\n', 6);
  if (lines[0] !== GOLDEN_MAGIC) return null;
  const field = (i: number, key: string): string | null => (lines[i]?.startsWith(key + ': ') ? lines[i].slice(key.length + 2) : null);
  const trace = field(1, 'trace');
  const kernel = field(2, 'kernel');
  const vmm = field(3, 'vmm');
  const title = field(4, 'title');
  if (trace === null || kernel === null || vmm === null || title === null) return null;
  return { trace, selection: { kernel, vmm: vmm === '-' ? null : vmm }, title };
}
