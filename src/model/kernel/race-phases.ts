// The phases of the kernel operations whose locking decides a race (src/model/race.ts), per
// version: the BAR fault handler, a BAR pread/pwrite whose buffer faults into a BAR mapping, and
// the ioeventfd handler. Every other operation is one atomic phase (a memory_lock writer holds the
// lock over a second, empty phase: the explorer builds those from a dry run).

import { step, type Step } from '../outcome.js';
import type { Phase } from '../race.js';
import type { TraceEvent } from '../../trace/types.js';
import type { Kctx } from './context.js';
import { cpuWalk, faultIn, faultRefusal, findMapping } from './core.js';
import { ioeventfdSignal } from './rdwr.js';
import { intxEnableFinish, intxEnableRequest } from './device-irq.js';
import { irqCount, signaledOk } from './intrs.js';
import { bufferFaults, copyHoldsMemoryLock } from './user-buf.js';

const CONTENDED_SIGBUS = (): Step => step({ kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' }, 'fault.contended-writer-sigbus');

/** The phases of `ev`, or null when it is one atomic step. `host` runs the whole event as the model does. */
export function kernelPhases(k: Kctx, ev: TraceEvent, host: () => Step): Phase[] | null {
  switch (ev.kind) {
    case 'mem-read':
    case 'mem-write':
      return faultPhases(k, ev.bar, ev.offset, ev.kind === 'mem-write');
    case 'region-read':
    case 'region-write':
      return bufferPhases(k, ev, host);
    case 'eventfd-signal':
      return ioeventfdPhases(k, ev.fd);
    case 'cfg-write':
      return intxMaskPhases(k, ev.offset, ev.data.length, host);
    case 'ioctl':
      // SET_IRQS runs under igate (vfio_pci_set_irqs_ioctl); only the INTx index matters to a race
      // here, the others stay one step (an MSI enable that forces MSE is a memory_lock writer).
      if (ev.op !== 'set-irqs' || ev.index !== INTX_INDEX) return null;
      return intxEnablePhases(k, ev.flags, ev.start, ev.count, ev.argsz, ev.fds) ?? [{ name: 'set-irqs igate', acquire: [{ lock: 'igate', mode: 'write' }], release: ['igate'], run: host }];
    case 'dmabuf':
      // An importer maps/unmaps under the dma-buf's reservation lock, which a revoke also takes.
      return [{ name: 'dmabuf resv', acquire: [{ lock: 'dmabuf_resv', mode: 'write' }], release: ['dmabuf_resv'], run: host }];
    default:
      return null;
  }
}

const INTX_INDEX = 0;

// SET_IRQS enabling INTx with a trigger on a function without DisINTx masking: request_irq, then
// the line is lined up with the masked flag, both under igate. A device interrupt does not take
// igate (hard IRQ context), so it can come in between (catalog bug intx-auto-enable-depth).
function intxEnablePhases(k: Kctx, flags: number, start: number, count: number, argsz: number, fds: readonly number[]): Phase[] | null {
  const TRIGGER_EVENTFD = 0x24;
  if (!k.host.nointxmask || flags !== TRIGGER_EVENTFD || k.st.irqType !== 'none' || start !== 0 || count !== 1 || argsz < 24 || irqCount(k, INTX_INDEX) !== 1) return null;
  const trigger = (fds[0] ?? 0) >= 0;
  return [
    {
      name: 'intx request_irq',
      acquire: [{ lock: 'igate', mode: 'write' }],
      release: [],
      run: () => {
        intxEnableRequest(k, trigger);
        return null;
      },
    },
    {
      name: 'intx line vs masked',
      acquire: [],
      release: ['igate'],
      run: () => step(signaledOk(intxEnableFinish(k)), trigger ? 'intrs.set-irqs.intx-enable' : 'intrs.set-irqs.intx-trigger-unset'),
    },
  ];
}

// A COMMAND write that flips the virtual DisINTx while INTx is configured: vfio_basic_config_write
// does the write (under memory_lock for write on 5.8+), then masks or unmasks INTx. Before
// 810cd4bb5345 (catalog bug intx-mask-race) it tests is_intx() and uses the INTx context without
// igate, so a SET_IRQS that tears INTx down in between leaves it a freed context; after, both run
// under igate.
function intxMaskPhases(k: Kctx, offset: number, len: number, host: () => Step): Phase[] | null {
  const DISINTX_BYTE = 0x05;
  if (k.st.irqType !== 'intx' || offset > DISINTX_BYTE || offset + len <= DISINTX_BYTE) return null;
  const igate = k.v.bugIntxMaskUnlocked ? [] : [{ lock: 'igate' as const, mode: 'write' as const }];
  const writer = k.v.blockDisabledMmio && offset <= 0x04;
  return [
    {
      name: 'cfg write',
      acquire: writer ? [{ lock: 'memory_lock', mode: 'write' }] : [],
      release: writer ? ['memory_lock'] : [],
      run: (ctx) => {
        const before = k.st.virqDisabled;
        ctx.scratch.step = host();
        ctx.scratch.flipped = k.st.virqDisabled !== before;
        return null;
      },
    },
    {
      name: 'intx is_intx',
      acquire: igate,
      release: [],
      run: (ctx) => {
        if (ctx.scratch.flipped !== true) return ctx.scratch.step as Step;
        ctx.scratch.intx = k.st.irqType === 'intx';
        return null;
      },
    },
    {
      name: 'intx mask op',
      acquire: [],
      release: k.v.bugIntxMaskUnlocked ? [] : ['igate'],
      run: (ctx) => {
        if (ctx.scratch.intx === true && k.st.irqType !== 'intx')
          return step({ kind: 'kernel-failure', failure: 'bug', where: 'vfio_pci_intx_mask', consequence: 'thread-killed' }, 'config.command.disintx-freed-intx-ctx-bug');
        return ctx.scratch.step as Step;
      },
    },
  ];
}

function faultPhases(k: Kctx, bar: number, offset: bigint, write: boolean): Phase[] | null {
  if (k.v.faultPopulate === 'at-mmap' || k.v.faultContention === 'none') return null;
  const tryLock = k.v.bugContendedFaultSigbus;
  // The MMU walk: a present PTE never enters the kernel; a missing one enters the handler later.
  const walk: Phase = {
    name: 'fault walk',
    acquire: [],
    release: [],
    run: () => {
      const w = cpuWalk(k, bar, offset, write);
      return 'done' in w ? w.done : null;
    },
  };
  // Looked up again in each phase: the explorer restores model state between interleavings.
  const what = `bar${bar}+0x${offset.toString(16)}`;
  const gone = (): Step => step({ kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_MAPERR' }, 'fault.no-mapping');
  if (k.v.faultPopulate === 'whole-vma' && k.v.bugConcurrentVmaFault) {
    // 5.8 .. 6a45ece4c9af: vma_lock around the memory check and the vma_list add only; the
    // io_remap_pfn_range of the whole VMA runs after vma_lock is dropped, memory_lock still read-held.
    return [
      walk,
      {
        name: 'fault add-vma',
        acquire: [{ lock: 'vma_lock', mode: 'write' }, { lock: 'memory_lock', mode: 'read', try: tryLock }],
        release: ['vma_lock'],
        run: (ctx) => {
          if (!ctx.granted('memory_lock')) return CONTENDED_SIGBUS();
          const refusal = faultRefusal(k);
          return refusal === undefined ? null : step({ kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' }, refusal);
        },
      },
      {
        name: 'fault remap',
        acquire: [],
        release: ['memory_lock'],
        run: () => {
          const m = findMapping(k, bar, offset);
          if (m === undefined) return gone();
          if (m.populated.size > 0)
            return step({ kind: 'kernel-failure', failure: 'bug', where: 'remap_pfn_range', consequence: 'thread-killed' }, 'fault.remap-over-present-ptes-bug');
          return faultIn(k, m, offset, what);
        },
      },
    ];
  }
  return [
    walk,
    {
      name: 'fault handler',
      acquire: [
        ...(k.v.faultPopulate === 'whole-vma' ? [{ lock: 'vma_lock' as const, mode: 'write' as const }] : []),
        { lock: 'memory_lock', mode: 'read', try: tryLock },
      ],
      release: k.v.faultPopulate === 'whole-vma' ? ['memory_lock', 'vma_lock'] : ['memory_lock'],
      run: (ctx) => {
        if (!ctx.granted('memory_lock')) return CONTENDED_SIGBUS();
        const m = findMapping(k, bar, offset);
        if (m === undefined) return gone();
        const page = Number((offset - m.barOffset) / k.g.pageSize);
        // 6a45ece4c9af: a VMA already on vma_list was mapped by a concurrent fault: VM_FAULT_NOPAGE,
        // the access retries and finds the PTE (the page mode finds it present the same way).
        if (m.populated.has(page)) return step({ kind: 'ok' }, 'fault.vma-already-mapped', [{ kind: 'device-access', what }]);
        return faultIn(k, m, offset, what);
      },
    },
  ];
}

// A BAR pread/pwrite whose buffer (`buf=`, src/model/kernel/user-buf.ts) faults while the access
// holds memory_lock (catalog bug recursive-memory-lock): vfio_pci_bar_rw read-locks, then the copy's
// fault read-locks again behind any writer queued in between.
function bufferPhases(k: Kctx, ev: TraceEvent & { kind: 'region-read' | 'region-write' }, host: () => Step): Phase[] | null {
  if (!copyHoldsMemoryLock(k, ev.region) || !bufferFaults(k, ev)) return null;
  return [
    {
      name: 'rw lock',
      acquire: [{ lock: 'memory_lock', mode: 'read' }],
      release: [],
      run: () => null,
    },
    {
      // copy_to/from_user faults: vfio_pci_mmap_fault takes memory_lock again; the event runs as
      // the sequential model does once both read holds are granted.
      name: 'rw copy-fault',
      acquire: [{ lock: 'memory_lock', mode: 'read' }],
      release: ['memory_lock', 'memory_lock'],
      run: () => host(),
    },
  ];
}

function ioeventfdPhases(k: Kctx, fd: number): Phase[] | null {
  // Before 5.9 the handler takes no lock; between bc93b9ae0151 and 38565c93c8a1 it takes
  // memory_lock with interrupts off (the step reports that when contended); since, a trylock that
  // falls back to a thread which sleeps for the lock.
  if (!k.v.blockDisabledMmio || k.v.bugRecursiveMemoryLock || k.v.bugIoeventfdSleepInAtomic) return null;
  return [
    {
      name: 'ioeventfd trylock',
      acquire: [{ lock: 'memory_lock', mode: 'read', try: true }],
      release: [],
      run: (ctx) => {
        return ctx.granted('memory_lock') ? ioeventfdSignal(k, fd) : null;
      },
    },
    {
      name: 'ioeventfd thread',
      acquire: [{ lock: 'memory_lock', mode: 'read' }],
      release: ['memory_lock'],
      run: () => ioeventfdSignal(k, fd),
    },
  ];
}
