// libvirt's per-domain log (/var/log/libvirt/qemu/NAME.log) or any file holding QEMU's stderr:
//   `2024-01-15 09:12:33.456+0000: starting up libvirt version: 9.0.0, package: ..., qemu version:
//    7.2.7Debian 1:7.2+dfsg-7+deb12u3, kernel: 6.1.0-17-amd64, hostname: h`   -> VMM version, kernel
//   the command line, one argument per line ending in ` \` (env assignments first)  -> VMM options
//   QEMU's stderr (`[TIMESTAMP ]qemu-system-x86_64: ` prefix optional):
//     `error: kvm run failed Bad address` (+ the register dump)  -> observed vmm-exit (KVM_RUN EFAULT)
//     `vfio: Cannot reset device ...`, `VFIO_MAP_DMA failed ...`, `... shutting down, reason=R`
//     -> notes in the report (what the VMM said about the device)
// Every line is counted as used, noted or skipped.

import { numberedLines, type LineSource } from './lines.js';

export interface VmmLog {
  file: string;
  lines: number;
  /** Upstream version from libvirt's `qemu version:` field ("7.2.7"), '' when absent. */
  qemuVersion: string;
  kernelRelease: string;
  /** The command line, arguments joined with single spaces ('' when the log has none). */
  cmdline: string;
  /** `kvm run failed <strerror>`: the VMM stopped because KVM_RUN failed. */
  kvmRunFailed: { errno: string; line: number } | null;
  /** How libvirt says the domain ended (`shutting down, reason=crashed`), '' unknown. */
  shutdownReason: string;
  /** What the VMM said about the device, with line numbers. */
  messages: string[];
  registerDumpLines: number;
  otherLines: number;
  /**
   * The first dated line: libvirt's own `2024-01-15 09:12:33.456+0000: ` or QEMU's stderr with
   * -msg timestamp=on `2024-01-15T09:12:33.456789Z `. It dates strace's -t/-tt time-of-day stamps.
   */
  date: { epochNs: bigint; utcOffsetSec: number; line: number } | null;
}

/** `2024-01-15 09:12:33.456+0000: ` (libvirt) or `2024-01-15T09:12:33.456789Z ` (QEMU -msg timestamp=on). */
const DATED = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d{4}):?\s/;

function dateOf(line: string): { epochNs: bigint; utcOffsetSec: number } | null {
  const m = DATED.exec(line);
  if (!m) return null;
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  if (Number.isNaN(ms)) return null;
  const off = m[4] === 'Z' ? 0 : (m[4]!.startsWith('-') ? -1 : 1) * (Number(m[4]!.slice(1, 3)) * 3600 + Number(m[4]!.slice(3, 5)) * 60);
  // The stamp is local time at `off`: its Unix time is local minus the offset.
  const epochNs = (BigInt(ms) - BigInt(off) * 1000n) * 1_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
  return { epochNs, utcOffsetSec: off };
}

const STRERROR: Record<string, string> = { 'Bad address': 'EFAULT', 'Invalid argument': 'EINVAL', 'Input/output error': 'EIO', 'Operation not permitted': 'EPERM', 'Cannot allocate memory': 'ENOMEM' };

/** Whether the head of a file looks like a libvirt domain log or a QEMU stderr log. */
export function looksLikeVmmLog(text: string): boolean {
  return /starting up libvirt version:|^\S*qemu-system-\S+ \\$|^(?:\S+ )?qemu-system-[\w-]+: |^error: kvm run failed /m.test(text);
}

/** Undo libvirt's shell quoting of one argument ('...' with '\'' for a quote). */
function unquote(arg: string): string {
  if (!arg.includes("'")) return arg;
  return arg.replace(/'\\''/g, "'").replace(/^'|'$/g, '').replace(/' '/g, ' ');
}

export function readVmmLog(src: LineSource): VmmLog {
  const out: VmmLog = { file: src.file, lines: 0, qemuVersion: '', kernelRelease: '', cmdline: '', kvmRunFailed: null, shutdownReason: '', messages: [], registerDumpLines: 0, otherLines: 0, date: null };
  const args: string[] = [];
  let inCmdline = false;
  for (const { line, lineNo } of numberedLines(src)) {
    out.lines++;
    if (out.date === null) {
      const d = dateOf(line);
      if (d) out.date = { ...d, line: lineNo };
    }
    let m = /starting up libvirt version: .*?qemu version: (\d+\.\d+(?:\.\d+)?)/.exec(line);
    if (m) {
      out.qemuVersion = m[1]!;
      const k = /, kernel: ([^,]+),/.exec(line);
      if (k) out.kernelRelease = k[1]!.trim();
      inCmdline = true;
      continue;
    }
    if (inCmdline || (args.length === 0 && /^\S*qemu-system-\S+ \\$/.test(line))) {
      const cont = line.endsWith(' \\');
      const arg = cont ? line.slice(0, -2) : line;
      // Environment assignments come before the binary.
      if (!(args.length === 0 && /^[A-Z_][A-Z0-9_]*=/.test(arg))) args.push(unquote(arg.trim()));
      inCmdline = cont;
      continue;
    }
    // QEMU's stderr, with -msg timestamp=on as libvirt runs it: `2024-...Z qemu-system-x86_64: msg`.
    const msg = line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\s+/, '').replace(/^qemu-system-[\w-]+:\s+/, '');
    if ((m = /^error: kvm run failed (.+?)\s*$/.exec(msg))) {
      out.kvmRunFailed = { errno: STRERROR[m[1]!] ?? m[1]!, line: lineNo };
      continue;
    }
    if (/^(?:[RE]?[A-Z0-9]{1,3}=[0-9a-f]{8,16}\s*)+$|^(?:[ECDFGS]S|LDT|TR|[GI]DT|CR\d|DR\d|EFER|FCW|FPR\d|XMM\d+|YMM\d+)\s*=/.test(msg)) {
      out.registerDumpLines++;
      continue;
    }
    if ((m = /shutting down, reason=(\w+)/.exec(msg))) {
      out.shutdownReason = m[1]!;
      continue;
    }
    if (/vfio|VFIO|kvm run failed|Cannot reset|hw\/vfio/.test(msg)) {
      out.messages.push(`${src.file}:${lineNo}: ${msg.slice(0, 200)}`);
      continue;
    }
    out.otherLines++;
  }
  out.cmdline = args.join(' ');
  return out;
}
