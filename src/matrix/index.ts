// The outcome matrix: one trace replayed under every kernel version (releases, point releases,
// patch-series versions) x every VMM version, each cell the outcome of one chosen event, or of the
// first failing event of that cell, with the rule that decided it. Where the behavior differs
// across kernels and VMMs is then one look.

import { modelCatalog } from '../bisect/catalog.js';
import { replayAt } from '../bisect/replay.js';
import type { EventResult } from '../bisect/types.js';
import { UserError } from '../errors.js';
import { findKernelVersion } from '../model/versions/kernel.js';
import { findVmmVersion, VMM_VERSIONS } from '../model/versions/vmm.js';
import { isGuestEvent, type Trace } from '../trace/types.js';

/** Outcomes a user reports as a failure (everything but a plain success or a model gap). */
const FAILING = new Set<string>(['errno', 'signal', 'hazard', 'vmm-exit', 'all-ones', 'dropped', 'unassigned', 'blocked']);

export type Cell =
  | { kind: 'event'; event: EventResult }
  /** Default mode: no event of this replay failed. */
  | { kind: 'none' }
  /** The version's behavior is unknown at or before the event (the version table says so). */
  | { kind: 'unknown'; event: EventResult };

export interface Matrix {
  /** The chosen event, or null = each cell's first failing event. */
  event: number | null;
  kernels: string[];
  /** VMM ids; null = no VMM model (host events only). */
  vmms: (string | null)[];
  /** cells[k][v] */
  cells: Cell[][];
  /** What each event is (`guest mmio-read 0xc0000008 len=4`), by index, for the events cells name. */
  what: Map<number, string>;
}

export interface MatrixRequest {
  event?: number;
  kernels?: string[];
  vmms?: (string | null)[];
}

/** Every kernel version in reading order: releases (with point releases), then each series. */
export function allKernels(): string[] {
  const cat = modelCatalog();
  return [...cat.releases, ...cat.series.flatMap((s) => s.versions)];
}

/** Default VMM columns: every VMM when the trace has guest events, else none and the header's VMM family. */
export function defaultVmms(trace: Trace): (string | null)[] {
  if (trace.events.some(isGuestEvent)) return VMM_VERSIONS.map((v) => v.id);
  const family = trace.header.vmm.name.trim().toLowerCase();
  return [null, ...VMM_VERSIONS.filter((v) => v.family === family).map((v) => v.id)];
}

function cellOf(events: EventResult[], event: number | null): Cell {
  for (const e of events) {
    if (event !== null && e.index > event) break;
    if (e.versionUnknown) return { kind: 'unknown', event: e };
    if (event === null ? FAILING.has(e.kind) : e.index === event) return { kind: 'event', event: e };
  }
  return { kind: 'none' };
}

export function outcomeMatrix(trace: Trace, file: string, req: MatrixRequest): Matrix {
  const event = req.event ?? null;
  if (event !== null && event >= trace.events.length)
    throw new UserError(`--event ${event}: the trace has ${trace.events.length} events (0..${trace.events.length - 1})`, { file });
  const kernels = req.kernels ?? allKernels();
  for (const k of kernels) if (findKernelVersion(k) === undefined) throw new UserError(`unknown kernel version "${k}" (known: ${allKernels().join(', ')})`);
  const vmms = req.vmms ?? defaultVmms(trace);
  for (const v of vmms)
    if (v !== null && findVmmVersion(v) === undefined) throw new UserError(`unknown VMM version "${v}" (known: ${VMM_VERSIONS.map((x) => x.id).join(', ')}, none)`);
  const what = new Map<number, string>();
  const cells = kernels.map((kernel) =>
    vmms.map((vmm) => {
      const run = replayAt(trace, { id: `${kernel}+${vmm ?? '-'}`, kernel, vmm });
      const c = cellOf(run.events, event);
      if (c.kind !== 'none') what.set(c.event.index, c.event.what);
      return c;
    }),
  );
  return { event, kernels, vmms, cells, what };
}
