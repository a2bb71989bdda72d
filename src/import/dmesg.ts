// dmesg / journalctl -k output: the kernel's own lines about the device (vfio-pci and the PCI
// core: `enabling device`, power state changes and failures, `not ready ... after bus reset`, BAR
// reservation failures, `Refused to change power state`). They are what the kernel said, not
// operations: they go into the import report (per device, in order) and give the kernel release
// (`Linux version X`), but no events: the trace's events are what the VMM did. One kind of line
// says what the device is rather than what happened: "Refused to change power state from D0 to
// D3hot" (pci_set_low_power_state read the old state back), a trait of the device; the importer
// puts it into the header's device traits (pm-refuses, source dmesg).

import { numberedLines, type LineSource } from './lines.js';

export interface KernelLog {
  file: string;
  lines: number;
  kernelRelease: string;
  /** Lines about the device (its BDF), as `file:line: text`. */
  deviceLines: string[];
  /** vfio lines that name no device (module load, `vfio_ecap_init` ...). */
  vfioLines: number;
  /** Kernel lines about something else. */
  otherLines: number;
  /** journalctl's `-- ... --` lines. */
  markerLines: number;
  /** Lines with no dmesg or journal prefix (not understood; their text is still searched for the device). */
  unknownLines: number;
  /** D-states the device refused ("Refused to change power state from X to Y": Y), in first-seen order. */
  pmRefuses: string[];
}

const REFUSED = /Refused to change power state from \w+ to (\w+)/i;
const STATES = ['D0', 'D1', 'D2', 'D3hot'];

/**
 * Line prefixes: dmesg (`[  12.345678] `, `<6>[  12.345678] ` with -r), and journalctl -k in its
 * short forms (`HOST kernel: ` after the stamp): -o short `Dec 03 16:00:00`, short-precise
 * `Dec 03 16:00:00.123456`, short-iso `2025-12-03T16:00:00+0000` (and -precise with fractions),
 * short-monotonic `[   12.345678]`, short-full `Wed 2025-12-03 16:00:00 UTC`, short-unix
 * `1764777600.123456`. Formats from real journalctl runs (test/fixtures/import/journal).
 */
const JOURNAL_STAMP = String.raw`(?:\w{3} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\S+|\[\s*\d+\.\d+\]|\w{3} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+|\d{9,}\.\d+)`;
const PREFIX = new RegExp(String.raw`^(?:${JOURNAL_STAMP} \S+ kernel: |<\d>\[\s*\d+\.\d+\]\s*|\[\s*\d+\.\d+\]\s*)`);
/** journalctl's own lines: `-- Boot ID --`, `-- No entries --`, `-- Logs begin at ... --`, `-- Reboot --`. */
const JOURNAL_MARKER = /^-- .* --$/;

/** Whether the head of a file looks like a kernel log. */
export function looksLikeKernelLog(text: string): boolean {
  const lines = text.split('\n', 200).filter((l) => l.trim() !== '' && !JOURNAL_MARKER.test(l.trim()));
  return lines.length > 0 && lines.filter((l) => PREFIX.test(l)).length * 2 >= lines.length;
}

export function readKernelLog(src: LineSource, bdf: string): KernelLog {
  const out: KernelLog = { file: src.file, lines: 0, kernelRelease: '', deviceLines: [], vfioLines: 0, otherLines: 0, markerLines: 0, unknownLines: 0, pmRefuses: [] };
  const dev = bdf.toLowerCase();
  const short = dev.replace(/^0000:/, '');
  for (const { line, lineNo } of numberedLines(src)) {
    out.lines++;
    if (JOURNAL_MARKER.test(line.trim())) {
      out.markerLines++;
      continue;
    }
    const text = line.replace(PREFIX, '');
    if (text === line) out.unknownLines++;
    const v = /^Linux version (\S+)/.exec(text);
    if (v) {
      out.kernelRelease = v[1]!;
      continue;
    }
    const lower = text.toLowerCase();
    if (dev !== '' && (lower.includes(dev) || new RegExp(`(^|[^:0-9a-f])${short.replace('.', '\\.')}\\b`).test(lower))) {
      out.deviceLines.push(`${src.file}:${lineNo}: ${text.slice(0, 200)}`);
      const r = REFUSED.exec(text);
      const to = r === null ? undefined : STATES.find((s) => s.toLowerCase() === r[1]!.toLowerCase());
      if (to !== undefined && to !== 'D0' && !out.pmRefuses.includes(to)) out.pmRefuses.push(to);
      continue;
    }
    if (text === line) continue;
    if (/vfio/i.test(text)) out.vfioLines++;
    else out.otherLines++;
  }
  return out;
}
