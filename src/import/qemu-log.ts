// QEMU's `log` trace backend output (`-trace 'vfio_*' -trace 'pci_*' -D FILE [-msg timestamp=on]`)
// -> guest-side events.
//
// Line prefixes accepted (reference vmm-and-tracing.md §1.6): `TID@SEC.USEC:` (QEMU <= 10.1 with
// timestamps), `YYYY-MM-DDTHH:MM:SS.ffffffZ ` (>= 10.2, no tid), optionally followed by a program
// name `qemu-system-x86_64: `, or none. Then the event name, a space, the rendered format.
//
// What each event becomes:
//  vfio_pci_read_config / vfio_pci_write_config -> guest-cfg-read / guest-cfg-write (the value the
//    guest read is the observed data).
//  vfio_region_read / vfio_region_write (a trapped BAR access) -> guest-mmio-read / -write at the
//    guest-physical address BAR base + offset, where the base comes from the latest
//    pci_update_mappings_add of that BAR. Before QEMU logged a mapping for the BAR (or for a
//    non-BAR region), the access becomes the host op QEMU performed (region-read/-write).
//  pci_update_mappings_add/del -> the BAR placement table above (no event of its own).
//  pci_pm_transition / pci_pm_bad_transition -> the power state QEMU's emulation ended in
//    (observed power on the guest config write that asked for it; a rejected one keeps the old).
//  vfio_region_mmaps_set_enabled -> counted (QEMU toggling its own BAR mmaps, e.g. for INTx EOI).
// Only the snapshot's device is imported: vfio_* events name the host BDF, pci_* events the qdev
// type (`vfio-pci`) and the guest BDF; the first vfio-pci guest BDF seen is taken unless given.

import { UserError } from '../errors.js';
import type { EventBody, Observed } from '../trace/types.js';
import { KNOWN_SKIPPED, RENAMED, USED_EVENTS, formatToRegex, parseTraceEvents } from './qemu-events.js';
import { textLines, type LineSource } from './lines.js';
import { checked, checkedNumber } from './numbers.js';
import type { ImportedEvent } from './strace-events.js';
import { SyntaxProblem } from './strace-text.js';

/** What a guest access forwarded to the host, so the merge can drop strace's copy of that call. */
export interface ForwardKey {
  kind: 'cfg-read' | 'cfg-write' | 'region-read' | 'region-write';
  region: number;
  offset: bigint;
  len: number;
}

export interface QemuEvent extends ImportedEvent {
  forward?: ForwardKey;
  /** A host op reconstructed from QEMU's log (no guest address known): strace's copy wins. */
  fallback?: boolean;
  /** Where the guest had the device's BARs when QEMU logged this (BAR index -> guest-physical base). */
  bars?: ReadonlyMap<number, bigint>;
}

export interface QemuLogResult {
  events: QemuEvent[];
  absolute: boolean;
  lines: number;
  /** Event names seen that the importer does not know, with counts. */
  unknown: Map<string, number>;
  /** Known events that carry nothing for the trace, with counts. */
  skipped: Map<string, number>;
  /** Lines that are not trace lines at all (QEMU's error messages, a cut last line). */
  otherLines: number;
  otherDevice: number;
  mmapToggles: number;
  /** The BAR placement after the last pci_update_mappings line (for faults after the last event). */
  lastBars: ReadonlyMap<number, bigint>;
  /** What QEMU's set-up lines say about the device (snapshot inference without sysfs or lspci). */
  setup: QemuDeviceSetup;
  /**
   * Where QEMU's own mappings of the device's BARs are in its address space, from the DMA
   * listener's `vfio_listener_region_add_ram` lines (`region_add [ram] IOVA - END [VADDR]`) that
   * fall inside a BAR the guest placed: what a strace attached after the device's mmaps cannot show.
   */
  barHostMappings: BarHostMapping[];
}

/** A host-virtual range of QEMU's mapping of a BAR: `bar`, at `offset` into the BAR, `length` bytes. */
export interface BarHostMapping {
  vaddr: bigint;
  length: bigint;
  bar: number;
  offset: bigint;
  /** 1-based line of the listener's line. */
  line: number;
}

export interface QemuDeviceSetup {
  bdf: string;
  iommuGroup: number;
  configSize: number;
  /** vfio_region_setup of BARs 0-5 with a size: index -> size and VFIO region flags. */
  bars: Map<number, { size: bigint; flags: number }>;
  msix: { cap: number; bar: number; offset: bigint; entries: number } | null;
}

/**
 * `region_add [ram] 0xc0000000 - 0xc001ffff [0x7ffff4d5c000]` inside the guest placement of a BAR
 * (`bars`, with the size QEMU's region setup gave when it logged one): that part of the BAR is
 * mapped at VADDR in QEMU (hw/vfio/trace-events vfio_listener_region_add_ram). Other RAM (the
 * guest's memory, ROMs) is not the device's.
 */
function barHostMapping(rest: string, line: number, bars: ReadonlyMap<number, bigint>, res: QemuLogResult): void {
  const m = /^region_add \[ram\] 0x([0-9a-f]{1,16}) - 0x([0-9a-f]{1,16}) \[(?:0x)?([0-9a-f]{1,16})\]$/.exec(rest);
  if (!m) return;
  const start = BigInt('0x' + m[1]);
  const end = BigInt('0x' + m[2]);
  if (end < start) return;
  // The BAR placed nearest below the range; it must hold all of it when its size is known.
  let best: [number, bigint] | null = null;
  for (const [bar, base] of bars) if (base <= start && (best === null || base > best[1])) best = [bar, base];
  if (best === null) return;
  const [bar, base] = best;
  const size = res.setup.bars.get(bar)?.size;
  if (size === undefined || end >= base + size) return;
  res.barHostMappings.push({ vaddr: BigInt('0x' + m[3]), length: end - start + 1n, bar, offset: start - base, line });
}

/**
 * Device facts from QEMU's realize-time lines (formats: hw/vfio/trace-events):
 *   vfio_realize / vfio_attach_device / vfio_device_attach `(BDF) group N`
 *   vfio_region_setup `Device BDF, region N "NAME", flags: 0x7, offset: 0x0, size: 0x20000`
 *   vfio_populate_device_config `Device 'BDF' config: size: 0x1000, offset: ..., flags: 0x3`
 *   vfio_msix_early_setup `BDF PCI MSI-X CAP @0xa0, BAR 3, offset 0x0, entries 5[, noresize 1]`
 */
function setupFact(name: string, rest: string, st: QemuDeviceSetup, bdf: string): void {
  const mine = (dev: string): boolean => {
    if (bdf !== '' && dev !== bdf) return false;
    if (st.bdf === '') st.bdf = dev;
    return dev === st.bdf;
  };
  let m: RegExpExecArray | null;
  if (name === 'vfio_realize' || name === 'vfio_attach_device' || name === 'vfio_device_attach') {
    if ((m = /^\(([^)]+)\) group (\d+)$/.exec(rest)) && mine(m[1]!)) st.iommuGroup = Number(m[2]);
  } else if (name === 'vfio_region_setup') {
    m = /^Device ([^,]+), region (\d+) ".*", flags: 0x([0-9a-f]+), offset: 0x[0-9a-f]+, size: 0x([0-9a-f]+)$/.exec(rest);
    if (m && mine(m[1]!) && Number(m[2]) <= 5 && m[4]!.length <= 16 && BigInt('0x' + m[4]) > 0n)
      st.bars.set(Number(m[2]), { size: BigInt('0x' + m[4]), flags: Number.parseInt(m[3]!.slice(-8), 16) });
  } else if (name === 'vfio_populate_device_config' || name === 'vfio_pci_populate_device_config') {
    if ((m = /^Device '?([^' ]+)'? config: size: 0x([0-9a-f]{1,4}),/.exec(rest)) && mine(m[1]!)) st.configSize = Number.parseInt(m[2]!, 16);
  } else if (name === 'vfio_msix_early_setup') {
    m = /^(\S+) PCI MSI-X CAP @0x([0-9a-f]{1,3}), BAR (\d), offset 0x([0-9a-f]{1,16}), entries (\d{1,5})/.exec(rest);
    if (m && mine(m[1]!)) st.msix = { cap: Number.parseInt(m[2]!, 16), bar: Number(m[3]), offset: BigInt('0x' + m[4]), entries: Number(m[5]) };
  }
}

export interface QemuLogOptions {
  /** Host BDF of the device (vfio_* events' name); '' = the first one seen. */
  bdf: string;
  /** Guest BDF `bb:ss.f` of the vfio-pci device in pci_* events; '' = the first one seen. */
  guestBdf: string;
  /** Called after an event handed out earlier was changed (a power transition on its config write). */
  onEdit?: (ev: QemuEvent) => void;
}

const PREFIX =
  /^(?:(?<tid>\d+)@(?<sec>\d+)\.(?<usec>\d{1,9}):|(?<iso>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)\s+)?(?:[A-Za-z0-9_.-]+:\s+(?=[a-z0-9_]+\s))?(?<ev>[a-z][a-z0-9_]*)(?:\s(?<rest>.*))?$/;

const DECLS = new Map(parseTraceEvents(USED_EVENTS).map((d) => [d.name, { decl: d, re: formatToRegex(d.format) }]));
const SKIPPED = new Set([...KNOWN_SKIPPED, ...Object.keys(RENAMED)]);

function isoToNs(iso: string): bigint {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(iso)!;
  const ms = Date.parse(m[1] + 'Z');
  if (Number.isNaN(ms)) throw new SyntaxProblem(`${iso} is not a date`, 0);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9));
}

function leBytes(value: bigint, len: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, Math.min(len, 8)));
  for (let i = 0; i < out.length; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}

const POWER = ['D0', 'D1', 'D2', 'D3hot'];

export function readQemuLog(input: string | LineSource, file: string, opts: QemuLogOptions): QemuLogResult {
  const res = emptyQemuLogResult();
  for (const e of qemuEvents(input, file, opts, res)) res.events.push(e);
  return res;
}

export function emptyQemuLogResult(): QemuLogResult {
  return { events: [], absolute: false, lines: 0, unknown: new Map(), skipped: new Map(), otherLines: 0, otherDevice: 0, mmapToggles: 0, lastBars: new Map(), setup: { bdf: '', iommuGroup: -1, configSize: 0, bars: new Map(), msix: null }, barHostMappings: [] };
}

/**
 * The log's events as they are read (pull: the time merge reads it beside the strace log); `res`
 * gets everything else (counts, set-up facts, BAR mappings; `events` stays empty), complete once
 * the generator is done. `res.absolute` is final at the end: a log mixing stamped and unstamped
 * lines is refused there.
 */
export function* qemuEvents(input: string | LineSource, file: string, opts: QemuLogOptions, res: QemuLogResult): Generator<QemuEvent> {
  const src = typeof input === 'string' ? textLines(input, file) : input;
  const ready: QemuEvent[] = [];
  // The latest guest config write of each thread and of all: where a power transition goes.
  const lastCfgWriteOf = new Map<number, QemuEvent>();
  let lastCfgWrite: QemuEvent | undefined;
  let bdf = opts.bdf;
  let guestBdf = opts.guestBdf;
  const bars = new Map<number, bigint>(); // BAR index -> guest-physical base
  let barsSnapshot: ReadonlyMap<number, bigint> = new Map(); // replaced, never changed: events share it
  let sawStamp = false;
  let sawNoStamp = false;
  // A known event's line that does not match its format is an error, unless it is the last line
  // of a log that does not end with a newline (QEMU was killed while writing it).
  let cut: UserError | null = null;
  const readLine = (raw: string, i: number): void => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    res.lines++;
    const lineNo = i + 1;
    const m = PREFIX.exec(line);
    if (!m || !m.groups) {
      res.otherLines++;
      return;
    }
    const g = m.groups;
    const name = g.ev!;
    const entry = DECLS.get(name);
    if (!entry) {
      setupFact(name, (g.rest ?? '').trim(), res.setup, bdf);
      if (name === 'vfio_listener_region_add_ram') barHostMapping((g.rest ?? '').trim(), lineNo, bars, res);
      if (SKIPPED.has(name)) res.skipped.set(name, (res.skipped.get(name) ?? 0) + 1);
      else res.unknown.set(name, (res.unknown.get(name) ?? 0) + 1);
      return;
    }
    let ns: bigint | null = null;
    let tid = 0;
    if (g.sec !== undefined) {
      ns = checked(BigInt(g.sec), 'u32', 'timestamp seconds') * 1_000_000_000n + BigInt(g.usec!.padEnd(9, '0').slice(0, 9));
      tid = checkedNumber(BigInt(g.tid), 'u32', 'thread id');
    } else if (g.iso !== undefined) ns = isoToNs(g.iso);
    if (ns === null) sawNoStamp = true;
    else sawStamp = true;
    const restColumn = line.length - (g.rest ?? '').length + 1;
    const rest = (g.rest ?? '').trimStart();
    const a = entry.re.exec(rest);
    if (!a) {
      cut = new UserError(`${name}: arguments do not match QEMU's format "${entry.decl.format.trim()}"`, { file, line: lineNo, column: restColumn });
      return;
    }
    const v = a.slice(1);
    const hex = (s: string): bigint => checked(BigInt('0x' + s), 'u64', 'value', restColumn - 1);
    const u32 = (v: bigint, what: string): number => checkedNumber(v, 'u32', what, restColumn - 1);
    const push = (body: EventBody, observed: Observed | undefined, extra: Partial<QemuEvent> = {}): void => {
      const e: QemuEvent = { body, tid, ns, startLine: lineNo, endLine: lineNo, source: 'qemu', line: lineNo, bars: barsSnapshot, ...(observed ? { observed } : {}), ...extra };
      if (body.kind === 'guest-cfg-write') {
        lastCfgWriteOf.set(tid, e);
        lastCfgWrite = e;
      }
      ready.push(e);
    };
    const ourHost = (devName: string): boolean => {
      if (bdf === '') bdf = devName;
      if (devName === bdf) return true;
      res.otherDevice++;
      return false;
    };
    const ourGuest = (dev: string, gbdf: string): boolean => {
      if (!dev.startsWith('vfio-pci')) {
        res.otherDevice++;
        return false;
      }
      if (guestBdf === '') guestBdf = gbdf;
      if (gbdf === guestBdf) return true;
      res.otherDevice++;
      return false;
    };
    switch (name) {
      case 'vfio_pci_read_config': {
        if (!ourHost(v[0]!)) return;
        const offset = u32(hex(v[1]!), 'config offset');
        const len = u32(hex(v[2]!), 'length');
        push({ kind: 'guest-cfg-read', offset, len }, { data: leBytes(hex(v[3]!), len) }, { forward: { kind: 'cfg-read', region: 7, offset: BigInt(offset), len } });
        return;
      }
      case 'vfio_pci_write_config': {
        if (!ourHost(v[0]!)) return;
        const offset = u32(hex(v[1]!), 'config offset');
        const len = u32(hex(v[3]!), 'length');
        push({ kind: 'guest-cfg-write', offset, len, value: hex(v[2]!) }, undefined, { forward: { kind: 'cfg-write', region: 7, offset: BigInt(offset), len } });
        return;
      }
      case 'vfio_region_read':
      case 'vfio_region_write': {
        if (!ourHost(v[0]!)) return;
        const region = u32(BigInt(v[1]!), 'region index');
        const offset = hex(v[2]!);
        const write = name === 'vfio_region_write';
        const len = u32(BigInt(write ? v[4]! : v[3]!), 'length');
        const value = hex(write ? v[3]! : v[4]!);
        const base = region <= 5 ? bars.get(region) : undefined;
        const forward: ForwardKey = { kind: write ? 'region-write' : 'region-read', region, offset, len };
        if (base !== undefined) {
          const gpa = checked(base + offset, 'u64', 'guest address (BAR base + offset)', restColumn - 1);
          if (write) push({ kind: 'guest-mmio-write', gpa, len, value }, undefined, { forward });
          else push({ kind: 'guest-mmio-read', gpa, len }, { data: leBytes(value, len) }, { forward });
        } else if (write) {
          push({ kind: 'region-write', region, offset, data: leBytes(value, len) }, undefined, { forward, fallback: true });
        } else {
          push({ kind: 'region-read', region, offset, len }, { data: leBytes(value, len) }, { forward, fallback: true });
        }
        return;
      }
      case 'vfio_region_mmaps_set_enabled':
        res.mmapToggles++;
        return;
      case 'pci_update_mappings_add':
      case 'pci_update_mappings_del': {
        if (!ourGuest(v[0]!, `${v[1]}:${v[2]}.${v[3]}`)) return;
        const bar = u32(BigInt(v[4]!), 'BAR number');
        if (name === 'pci_update_mappings_add') bars.set(bar, hex(v[5]!));
        else bars.delete(bar);
        barsSnapshot = new Map(bars);
        res.lastBars = barsSnapshot;
        return;
      }
      case 'pci_pm_transition':
      case 'pci_pm_bad_transition': {
        if (!ourGuest(v[0]!, `${v[1]}:${v[2]}.${v[3]}`)) return;
        const state = Number(name === 'pci_pm_transition' ? v[5] : v[4]);
        // QEMU traces the transition inside the guest's PMCSR write: annotate that write.
        const e = tid === 0 ? lastCfgWrite : lastCfgWriteOf.get(tid);
        if (e) {
          e.observed = { ...e.observed, powerState: POWER[state] ?? `D${state}` };
          opts.onEdit?.(e);
        }
        return;
      }
    }
  };
  let i = 0;
  for (const raw of src.lines()) {
    if (cut !== null) throw cut;
    try {
      readLine(raw, i);
    } catch (e) {
      if (e instanceof SyntaxProblem) throw new UserError(e.message, { file, line: i + 1, column: e.column + 1 });
      throw e;
    }
    i++;
    if (ready.length > 0) yield* ready.splice(0);
  }
  if (cut !== null) {
    if (src.endsClean) throw cut;
    res.otherLines++; // the log was cut while QEMU wrote this line
  }
  if (sawStamp && sawNoStamp) throw new UserError('some trace lines have timestamps and some do not: is this one QEMU log?', { file });
  res.absolute = sawStamp;
}
