// Processes and device files: who holds the vfio device open. A VFIO device file (one per
// VFIO_GROUP_GET_DEVICE_FD / cdev open) is released when its last reference goes: the fd-table
// entries of every process that has it (fork copies the fd table) and the BAR VMAs mmapped through
// it (a VMA holds its file). vfio's open_count counts live files; the last release disables the
// device (vfio_pci_core_close_device) [S: fs/file_table.c fput, vfio_device_fops_release].
//
// fork() duplicates the BAR VMAs into the child (vfio-pci never sets VM_DONTCOPY) [S:
// vfio_pci_core_mmap vm_flags]. Which PTEs the child starts with is per release (the switch
// `forkChildPtes`): copy_page_range copies the PTEs of a VM_PFNMAP vma (vma_needs_copy), and from
// 5.8 to 6.9 vfio-pci's vm_ops->open, which dup_mmap called after copy_page_range, zapped the
// child's copy so that vma_list only tracks VMAs that faulted [S: 11c4cd07ba11; kernel/fork.c].
// 35e351780fa9 ("fork: defer linking file vma until vma is fully initialized") moved ->open
// before copy_page_range: on a vma_list kernel carrying it the child keeps copies vma_list does not
// know, and no zap removes them: catalog bug fork-untracked-ptes (`bugForkUntrackedPtes`).
// A child's own fault still puts its VMA on vma_list (core.ts), and the vma_list zap walks every mm
// on the list: the lab's 6.1.192 (traces/lab/6.1/fork-untouched) SIGBUSes a child that faulted its
// PTEs in and keeps only inherited copies alive. That is why 6.1.192 is a catalog point although
// 6.1.95 reverted the 2024 backport: the ordering is back there, not a different zap path.

import { step, type Effect, type Step } from '../outcome.js';
import type { Kctx } from './context.js';
import type { Mapping } from './state.js';

export class ProcessTable {
  /** pid -> the device files of its open fds, oldest first (a trace's `close` closes the newest). */
  private readonly fds = new Map<number, number[]>([[0, []]]);
  /** Device files alive (vfio open_count). */
  private readonly files = new Set<number>();
  private nextFile = 1;

  exists(pid: number): boolean {
    return this.fds.has(pid);
  }

  /** The file a new mmap in `pid` goes through (its newest fd), or undefined without one. */
  newestFile(pid: number): number | undefined {
    const f = this.fds.get(pid);
    return f === undefined || f.length === 0 ? undefined : f[f.length - 1];
  }

  /** Whether the device file is still alive (an fd or a VMA holds it). */
  alive(file: number): boolean {
    return this.files.has(file);
  }

  /** Live device files (vfio open_count), whoever holds them. */
  liveFiles(): number {
    return this.files.size;
  }

  /** A new device file, open in `pid`. */
  open(pid: number): number {
    const id = this.nextFile++;
    this.files.add(id);
    this.fds.get(pid)!.push(id);
    return id;
  }

  /** Close the newest fd of `pid`; returns its file, or undefined when it has none. */
  closeNewest(pid: number): number | undefined {
    return this.fds.get(pid)?.pop();
  }

  /** Whether anything (an fd anywhere, a VMA) still references `file`. */
  referenced(k: Kctx, file: number): { byFd: boolean; byVma: boolean } {
    let byFd = false;
    for (const list of this.fds.values()) if (list.includes(file)) byFd = true;
    return { byFd, byVma: k.st.mappings.some((m) => m.file === file) };
  }

  /** Files no longer referenced are released; returns how many went. */
  releaseUnreferenced(k: Kctx): number {
    let n = 0;
    for (const f of [...this.files]) {
      const r = this.referenced(k, f);
      if (!r.byFd && !r.byVma) {
        this.files.delete(f);
        n++;
      }
    }
    return n;
  }

  fork(parent: number, child: number): void {
    this.fds.set(child, [...(this.fds.get(parent) ?? [])]);
  }

  /** The process is gone: its fd table is dropped (the caller unmaps its VMAs first). */
  exit(pid: number): void {
    this.fds.delete(pid);
  }
}

/** dup_mmap for the BAR VMAs: the child's copies, with the PTEs the release leaves them. */
export function forkMappings(k: Kctx, parent: number, child: number): { effects: Effect[]; rule: string } {
  const own = k.st.mappings.filter((m) => m.pid === parent);
  if (own.length === 0) return { effects: [], rule: 'proc.fork.no-bar-mappings' };
  const copied = new Set<number>();
  // The bug: ->open zapped nothing yet, then copy_page_range copied the parent's PTEs.
  const copies = k.v.forkChildPtes === 'copied' || k.v.bugForkUntrackedPtes;
  for (const m of own) {
    const c: Mapping = { ...m, pid: child, populated: new Set<number>(), untracked: false, huge: [], tables: new Set<string>() };
    if (copies) {
      // copy_page_range copies huge pfnmap entries too (6.12 "mm/fork: Accept huge pfnmap entries") [P].
      for (const p of m.populated) c.populated.add(p);
      c.huge = (m.huge ?? []).map((h) => ({ ...h }));
      c.tables = new Set(m.tables ?? []);
    }
    c.untracked = k.v.bugForkUntrackedPtes && c.populated.size > 0;
    if (c.populated.size > 0) copied.add(c.bar);
    k.st.mappings.push(c);
  }
  if (!copies) return { effects: [], rule: 'proc.fork.vm-open-zaps-child-ptes' };
  // The child reaches the device without a fault through the copied PTEs: shown as populate.
  const effects: Effect[] = [...copied].sort((a, b) => a - b).map((bar) => ({ kind: 'populate', bar }));
  if (k.v.bugForkUntrackedPtes && copied.size > 0) return { effects, rule: 'proc.fork.child-ptes-untracked' };
  return { effects, rule: 'proc.fork.child-inherits-ptes' };
}

/** An event of a process the trace never forked (or that exited): nothing can be said. */
export function unknownProcess(pid: number): Step {
  return step({ kind: 'unsupported', reason: `process ${pid} does not exist here (no fork made it, or it exited)` }, 'proc.unknown-process');
}
