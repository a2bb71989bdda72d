// dmesg / journalctl -k output: the kernel's own lines about the device (vfio-pci and the PCI
// core: `enabling device`, power state changes and failures, `not ready ... after bus reset`, BAR
// reservation failures, `Refused to change power state`). They are what the kernel said, not
// operations: they go into the import report (per device, in order) and give the kernel release
// (`Linux version X`), but no events: the trace's events are what the VMM did.

import { numberedLines, type LineSource } from './lines.js';

export interface KernelLog {
  file: string;
  lines: number;
  kernelRelease: string;
  /** Lines about the device (its BDF), as `file:line: text`. */
  deviceLines: string[];
  /** vfio lines that name no device (module load, `vfio_ecap_init` ...). */
  vfioLines: number;
  otherLines: number;
}

const PREFIX = /^(?:\[\s*\d+\.\d+\]\s*|<\d>\[\s*\d+\.\d+\]\s*|\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ kernel: |\d{4}-\d\d-\d\dT\S+ \S+ kernel: )/;

/** Whether the head of a file looks like a kernel log. */
export function looksLikeKernelLog(text: string): boolean {
  const lines = text.split('\n', 200).filter((l) => l.trim() !== '');
  return lines.length > 0 && lines.filter((l) => PREFIX.test(l)).length * 2 >= lines.length;
}

export function readKernelLog(src: LineSource, bdf: string): KernelLog {
  const out: KernelLog = { file: src.file, lines: 0, kernelRelease: '', deviceLines: [], vfioLines: 0, otherLines: 0 };
  const dev = bdf.toLowerCase();
  const short = dev.replace(/^0000:/, '');
  for (const { line, lineNo } of numberedLines(src)) {
    out.lines++;
    const text = line.replace(PREFIX, '');
    const v = /^Linux version (\S+)/.exec(text);
    if (v) {
      out.kernelRelease = v[1]!;
      continue;
    }
    const lower = text.toLowerCase();
    if (dev !== '' && (lower.includes(dev) || new RegExp(`(^|[^:0-9a-f])${short.replace('.', '\\.')}\\b`).test(lower))) {
      out.deviceLines.push(`${src.file}:${lineNo}: ${text.slice(0, 200)}`);
      continue;
    }
    if (/vfio/i.test(text)) out.vfioLines++;
    else out.otherLines++;
  }
  return out;
}
