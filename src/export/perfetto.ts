// A trace and its replay as a Perfetto trace (TrackEvent), to open in ui.perfetto.dev or query with
// trace_processor beside other traces. What goes where:
//   - one track per thread (tid, and pid for forked children) under a root track named after the
//     trace: each event is a slice named by its kind, with debug annotations (index, event, outcome,
//     rule, effects, divergence); a divergence from the observation is an instant 'divergence' and
//     an outcome other than ok an instant named by its kind, both nested in the event's slice;
//   - the device-state lanes of the HTML report (src/report/timeline.ts: power, MEM/IO decode,
//     each BAR's user mapping, low power, dma-bufs) under a 'device' track, the VMM's guest mapping
//     of each BAR under 'VMM guest mappings': one slice per run of equal state;
//   - one instant 'replay' on the root track: file, selection, clock, counts.
// The trace records no durations: an event's slice lasts until the next event, at most 1 us.
// Timestamps are the events' ts_ns when the trace has them (some non-zero, never going back),
// else event index x 1 us (PerfettoExport.clock says which).
// All packets are on one sequence: the first clears its incremental state, names, categories and
// annotation names are interned, each defined in the first packet that uses it.

import type { Timeline } from '../report/timeline.js';
import type { Trace } from '../trace/types.js';
import * as F from './perfetto-fields.js';
import { ProtoWriter } from './proto-writer.js';

export interface PerfettoExport {
  bytes: Uint8Array;
  packets: number;
  tracks: number;
  /** Where the timestamps come from. */
  clock: 'ts_ns' | 'event index';
}

type Value = string | number;

/** One TrackEvent before it is written. */
interface Rec {
  ts: bigint;
  track: bigint;
  type: typeof F.TYPE_SLICE_BEGIN | typeof F.TYPE_SLICE_END | typeof F.TYPE_INSTANT;
  name?: string;
  category?: string;
  args?: [string, Value][];
}

interface Track {
  uuid: bigint;
  name: string;
  parent?: bigint;
}

const SEQUENCE = 1;
/** Track uuids are global to a trace: a fixed prefix keeps ours apart when traces are merged. */
const UUID_BASE = 0x7f_1d_0000_0000n;
const MAX_SLICE_NS = 1000n;

/** An interning index: iids from 1, new entries waiting for the next packet that uses them. */
class Interner {
  private readonly ids = new Map<string, number>();
  fresh: [number, string][] = [];
  iid(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(s, id);
      this.fresh.push([id, s]);
    }
    return id;
  }
}

/** Slice name of an event: its kind ('cfg-write', 'guest-mmio-read', 'ioctl get-region-info'). */
function sliceName(side: 'host' | 'guest', what: string): string {
  const words = what.split(' ');
  const kind = words[0] === 'ioctl' && words.length > 1 ? `ioctl ${words[1]}` : words[0];
  return side === 'guest' ? `guest-${kind}` : kind;
}

export function perfettoTrace(trace: Trace, file: string, timeline: Timeline): PerfettoExport {
  const evs = trace.events;
  const n = evs.length;
  const stamped = evs.some((e) => e.tsNs > 0n) && evs.every((e, i) => i === 0 || e.tsNs >= evs[i - 1].tsNs);
  const t = evs.map((e, i) => (stamped ? e.tsNs : BigInt(i) * MAX_SLICE_NS));
  const end = t.map((ti, i) => (i + 1 < n && t[i + 1] - ti < MAX_SLICE_NS ? t[i + 1] : ti + MAX_SLICE_NS));
  const traceEnd = n > 0 ? end[n - 1] : 0n;

  const tracks: Track[] = [];
  const track = (name: string, parent?: bigint): bigint => {
    const uuid = UUID_BASE + BigInt(tracks.length + 1);
    tracks.push(parent === undefined ? { uuid, name } : { uuid, name, parent });
    return uuid;
  };
  const sel = timeline.selection;
  const root = track(`vfio-replay: ${trace.header.title || file}`);
  const recs: Rec[] = [];
  const divergences = timeline.events.filter((e) => e.divergence !== null).length;
  recs.push({
    ts: n > 0 ? t[0] : 0n,
    track: root,
    type: F.TYPE_INSTANT,
    name: 'replay',
    category: 'vfio-replay',
    args: [
      ['trace', file],
      ['kernel', sel.kernel],
      ['vmm', sel.vmm ?? 'none'],
      ['clock', stamped ? 'ts_ns' : 'event index x 1us'],
      ['events', n],
      ['divergences', divergences],
      ['device notes', timeline.summary.deviceNotes],
    ],
  });

  const threads = new Map<string, bigint>();
  for (const e of timeline.events) {
    const pid = evs[e.index].pid;
    const key = `${pid ?? 0}:${e.tid}`;
    let tr = threads.get(key);
    if (tr === undefined) {
      const tname = e.tid === 0 ? 'thread (tid not recorded)' : `tid ${e.tid}`;
      tr = track(pid === undefined ? tname : `pid ${pid} ${tname}`, root);
      threads.set(key, tr);
    }
    const i = e.index;
    const args: [string, Value][] = [
      ['index', i],
      ['event', e.what],
      ['outcome', e.outcome],
      ['rule', e.rule],
    ];
    if (e.effects.length > 0) args.push(['effects', e.effects.join(' ')]);
    if (e.divergence !== null) args.push(['divergence', e.divergence]);
    if (e.note !== null) args.push(['device note', e.note]);
    recs.push({ ts: t[i], track: tr, type: F.TYPE_SLICE_BEGIN, name: sliceName(e.side, e.what), category: e.side, args });
    if (e.divergence !== null)
      recs.push({ ts: t[i], track: tr, type: F.TYPE_INSTANT, name: 'divergence', category: 'divergence', args: [['index', i], ['rule', e.rule], ['outcome', e.outcome], ['divergence', e.divergence]] });
    if (e.kind !== 'ok') recs.push({ ts: t[i], track: tr, type: F.TYPE_INSTANT, name: e.kind, category: 'outcome', args: [['index', i], ['outcome', e.outcome], ['rule', e.rule]] });
    recs.push({ ts: end[i], track: tr, type: F.TYPE_SLICE_END });
  }

  const device = trace.header.device;
  const hex4 = (v: number): string => v.toString(16).padStart(4, '0');
  let deviceTrack: bigint | undefined;
  let vmmTrack: bigint | undefined;
  for (const lane of timeline.lanes) {
    const guest = lane.name.startsWith('guest ');
    let parent: bigint;
    if (guest) parent = vmmTrack ??= track('VMM guest mappings', root);
    else parent = deviceTrack ??= track(`device ${device.bdf} ${hex4(device.vendorId)}:${hex4(device.deviceId)}`, root);
    const lt = track(lane.name, parent);
    // One slice per run of equal state, from the event that set it to the one that changed it.
    for (let start = 0; start < n; ) {
      let next = start + 1;
      while (next < n && lane.values[next] === lane.values[start]) next++;
      const v = lane.values[start];
      if (v !== '') {
        recs.push({ ts: t[start], track: lt, type: F.TYPE_SLICE_BEGIN, name: v, category: guest ? 'vmm' : 'device', args: [['lane', lane.name], ['from', start], ['to', next - 1]] });
        recs.push({ ts: next < n ? t[next] : traceEnd, track: lt, type: F.TYPE_SLICE_END });
      }
      start = next;
    }
  }

  // Timestamp order (stable: an END stays before the BEGIN that follows it at the same time).
  recs.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return { bytes: encode(tracks, recs), packets: tracks.length + recs.length, tracks: tracks.length, clock: stamped ? 'ts_ns' : 'event index' };
}

function encode(tracks: Track[], recs: Rec[]): Uint8Array {
  const out = new ProtoWriter();
  tracks.forEach((tr, i) => {
    const d = new ProtoWriter().uint(F.TrackDescriptor.uuid, tr.uuid).string(F.TrackDescriptor.name, tr.name);
    if (tr.parent !== undefined) d.uint(F.TrackDescriptor.parent_uuid, tr.parent);
    const p = new ProtoWriter().uint(F.TracePacket.trusted_packet_sequence_id, SEQUENCE);
    // The sequence's first packet clears its incremental state: nothing interned before counts.
    if (i === 0) p.uint(F.TracePacket.sequence_flags, F.SEQ_INCREMENTAL_STATE_CLEARED).bool(F.TracePacket.first_packet_on_sequence, true);
    p.message(F.TracePacket.track_descriptor, d);
    out.message(F.Trace.packet, p);
  });
  const names = new Interner();
  const cats = new Interner();
  const argNames = new Interner();
  for (const r of recs) {
    const ev = new ProtoWriter().uint(F.TrackEvent.type, r.type).uint(F.TrackEvent.track_uuid, r.track);
    if (r.category !== undefined) ev.uint(F.TrackEvent.category_iids, cats.iid(r.category));
    if (r.name !== undefined) ev.uint(F.TrackEvent.name_iid, names.iid(r.name));
    for (const [k, v] of r.args ?? []) {
      const a = new ProtoWriter().uint(F.DebugAnnotation.name_iid, argNames.iid(k));
      if (typeof v === 'number') a.uint(F.DebugAnnotation.uint_value, v);
      else a.string(F.DebugAnnotation.string_value, v);
      ev.message(F.TrackEvent.debug_annotations, a);
    }
    const p = new ProtoWriter().uint(F.TracePacket.timestamp, r.ts).uint(F.TracePacket.trusted_packet_sequence_id, SEQUENCE);
    const interned = new ProtoWriter();
    flush(interned, F.InternedData.event_categories, cats);
    flush(interned, F.InternedData.event_names, names);
    flush(interned, F.InternedData.debug_annotation_names, argNames);
    if (interned.length > 0) p.message(F.TracePacket.interned_data, interned);
    if (r.name !== undefined || r.category !== undefined || r.args !== undefined) p.uint(F.TracePacket.sequence_flags, F.SEQ_NEEDS_INCREMENTAL_STATE);
    p.message(F.TracePacket.track_event, ev);
    out.message(F.Trace.packet, p);
  }
  return out.finish();
}

/** New entries of one index into this packet's InternedData. */
function flush(interned: ProtoWriter, field: number, index: Interner): void {
  for (const [iid, name] of index.fresh) interned.message(field, new ProtoWriter().uint(F.Interned.iid, iid).string(F.Interned.name, name));
  index.fresh = [];
}
