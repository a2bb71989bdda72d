// What an input is, decided by its content (issue 20: `import` takes any subset of what a bug
// report attaches, in any order, under any name). Directories: a vfio-trace output (info,
// strace.log, ...) or a sysfs device directory (config). Files: the head decides.

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { looksLikeKernelLog } from './dmesg.js';
import { looksLikeVmmLog } from './libvirt-log.js';
import { head } from './lines.js';
import { looksLikeLspci } from './lspci.js';

export type InputKind = 'empty' | 'tracer-dir' | 'sysfs-dir' | 'strace' | 'qemu-trace' | 'ioctl-args' | 'vmm-log' | 'lspci' | 'kernel-log' | 'tracer-info';

export const KIND_NAMES: Record<InputKind, string> = {
  empty: 'empty file (skipped)',
  'tracer-dir': 'vfio-trace directory',
  'sysfs-dir': 'sysfs device directory',
  strace: 'strace log',
  'qemu-trace': 'QEMU -trace log',
  'ioctl-args': 'ioctl argument capture',
  'vmm-log': 'libvirt/QEMU log',
  lspci: 'lspci dump',
  'kernel-log': 'dmesg',
  'tracer-info': "the tracer's info file",
};

const STRACE_LINE = /^(?:\[pid\s+\d+\]\s+|\d+\s+)?(?:\d\d:\d\d:\d\d(?:\.\d+)?\s+|\d+\.\d+\s+)?(?:[a-z_][a-z0-9_]*\(|<\.\.\. [a-z_0-9]+ resumed>|--- SIG|\+\+\+ (?:exited|killed))/;
const QEMU_LINE = /^(?:\d+@\d+\.\d+:|\d{4}-\d\d-\d\dT\S+Z\s+)?(?:[A-Za-z0-9_.-]+:\s+)?(?:vfio|pci|kvm|iommufd|memory_region|virtio)_[a-z0-9_]+\s/;

export function detectKind(path: string): InputKind {
  if (!existsSync(path)) throw new UserError('input not found', { file: path });
  if (statSync(path).isDirectory()) {
    if (['info', 'strace.log', 'qemu.log'].some((f) => existsSync(join(path, f)))) return 'tracer-dir';
    if (existsSync(join(path, 'config'))) return 'sysfs-dir';
    return 'tracer-dir'; // with nothing in it: the importer says so

  }
  if (statSync(path).size === 0) return 'empty';
  const text = head(path);
  if (/^tracer_version=|^# written by vfio-trace/m.test(text)) return 'tracer-info';
  if (/vfio_ioctl: \(/.test(text)) return 'ioctl-args';
  if (looksLikeLspci(text)) return 'lspci';
  if (looksLikeVmmLog(text)) return 'vmm-log';
  const lines = text.split('\n').slice(0, -1).filter((l) => l.trim() !== '').slice(0, 400);
  const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
  const q = count(QEMU_LINE);
  const s = count(STRACE_LINE);
  if (q > 0 && q >= s) return 'qemu-trace';
  if (s > 0 && s * 2 >= lines.length) return 'strace';
  if (looksLikeKernelLog(text)) return 'kernel-log';
  throw new UserError(
    'cannot tell what this file is (expected an strace log, a QEMU -trace log, a libvirt/QEMU log, lspci -vvv -xxxx output, dmesg or a vfio-trace file)',
    { file: path },
  );
}
