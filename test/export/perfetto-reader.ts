// Test-only reader of the Perfetto traces `export --perfetto` writes: protobufjs with the hand-typed
// perfetto-subset.proto (nothing shared with src/export/), then the rules the Perfetto UI and
// trace_processor apply when they import TrackEvents, each broken rule a string in `violations`:
//   - a packet sequence's incremental state is cleared (SEQ_INCREMENTAL_STATE_CLEARED) before any
//     packet uses it, and every interned id a packet refers to was defined on the same sequence in
//     that packet or an earlier one, never redefined to another string;
//   - every event's track was described earlier; parent uuids name described tracks; uuids unique;
//   - on each track, slice ENDs close the innermost open BEGIN, nothing stays open; instants and
//     nested slices fall inside their parent; timestamps never go back in packet order.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const root = protobuf.loadSync(fileURLToPath(new URL('perfetto-subset.proto', import.meta.url)));
const TraceType = root.lookupType('perfetto.protos.Trace');

export interface Track {
  uuid: string;
  name: string;
  parent?: string;
}

export interface Slice {
  track: string;
  name: string;
  categories: string[];
  args: Record<string, string | number>;
  begin: bigint;
  end?: bigint;
  depth: number;
  parent?: Slice;
  instant: boolean;
}

export interface ReadTrace {
  packets: number;
  firstPacketFlags: number;
  tracks: Track[];
  slices: Slice[];
  violations: string[];
  /** Ids per interning index, in definition order. */
  interned: { names: string[]; categories: string[]; argNames: string[] };
}

interface RawAnnotation {
  nameIid?: string;
  name?: string;
  uintValue?: string;
  intValue?: string;
  stringValue?: string;
  boolValue?: boolean;
}
interface RawPacket {
  timestamp?: string;
  trustedPacketSequenceId?: number;
  sequenceFlags?: number;
  firstPacketOnSequence?: boolean;
  trackDescriptor?: { uuid?: string; name?: string; parentUuid?: string };
  internedData?: Record<'eventCategories' | 'eventNames' | 'debugAnnotationNames', { iid?: string; name?: string }[] | undefined>;
  trackEvent?: { type?: number; trackUuid?: string; nameIid?: string; name?: string; categoryIids?: string[]; debugAnnotations?: RawAnnotation[] };
}

export function readPerfetto(path: string): ReadTrace {
  const msg = TraceType.decode(readFileSync(path));
  const obj = TraceType.toObject(msg, { longs: String, enums: Number, defaults: false }) as { packet?: RawPacket[] };
  const packets = obj.packet ?? [];
  const violations: string[] = [];
  const tracks = new Map<string, Track>();
  const slices: Slice[] = [];
  const open = new Map<string, Slice[]>();
  const seqs = new Map<number, { cleared: boolean; tables: Record<string, Map<string, string>> }>();
  const order = { names: [] as string[], categories: [] as string[], argNames: [] as string[] };
  let lastTs = -1n;

  packets.forEach((p, i) => {
    const seqId = p.trustedPacketSequenceId ?? 0;
    if (seqId === 0) violations.push(`packet ${i}: no trusted_packet_sequence_id`);
    let seq = seqs.get(seqId);
    if (seq === undefined) {
      seq = { cleared: false, tables: { eventNames: new Map(), eventCategories: new Map(), debugAnnotationNames: new Map() } };
      seqs.set(seqId, seq);
    }
    const flags = p.sequenceFlags ?? 0;
    if (flags & 1) {
      seq.cleared = true;
      for (const t of Object.values(seq.tables)) t.clear();
    }
    if (flags & 2 && !seq.cleared) violations.push(`packet ${i}: needs incremental state before the sequence cleared it`);
    for (const [field, key] of [
      ['eventNames', 'names'],
      ['eventCategories', 'categories'],
      ['debugAnnotationNames', 'argNames'],
    ] as const) {
      for (const e of p.internedData?.[field] ?? []) {
        if (!seq.cleared) violations.push(`packet ${i}: interned data before the incremental state was cleared`);
        const iid = e.iid ?? '0';
        if (iid === '0') violations.push(`packet ${i}: ${field} iid 0`);
        const had = seq.tables[field].get(iid);
        if (had !== undefined && had !== e.name) violations.push(`packet ${i}: ${field} iid ${iid} redefined ${had} -> ${e.name}`);
        seq.tables[field].set(iid, e.name ?? '');
        order[key].push(e.name ?? '');
      }
    }
    const lookup = (field: string, iid: string): string => {
      const v = seq.tables[field].get(iid);
      if (v === undefined) violations.push(`packet ${i}: ${field} iid ${iid} used before it is defined on sequence ${seqId}`);
      else if (!(flags & 2)) violations.push(`packet ${i}: uses interned ${field} without SEQ_NEEDS_INCREMENTAL_STATE`);
      return v ?? `?${iid}`;
    };

    const d = p.trackDescriptor;
    if (d !== undefined) {
      const uuid = d.uuid ?? '0';
      if (tracks.has(uuid)) violations.push(`packet ${i}: track ${uuid} described twice`);
      if (d.parentUuid !== undefined && !tracks.has(d.parentUuid)) violations.push(`packet ${i}: parent ${d.parentUuid} of track ${uuid} not described before`);
      tracks.set(uuid, { uuid, name: d.name ?? '', ...(d.parentUuid === undefined ? {} : { parent: d.parentUuid }) });
    }
    const e = p.trackEvent;
    if (e === undefined) return;
    const ts = BigInt(p.timestamp ?? '0');
    if (ts < lastTs) violations.push(`packet ${i}: timestamp ${ts} before ${lastTs}`);
    lastTs = ts;
    const track = e.trackUuid ?? '0';
    if (!tracks.has(track)) violations.push(`packet ${i}: event on undescribed track ${track}`);
    const stack = open.get(track) ?? [];
    open.set(track, stack);
    if (e.type === 2) {
      const s = stack.pop();
      if (s === undefined) violations.push(`packet ${i}: SLICE_END with no open slice on track ${track}`);
      else s.end = ts;
      return;
    }
    if (e.type !== 1 && e.type !== 3) {
      violations.push(`packet ${i}: event type ${e.type}`);
      return;
    }
    const args: Record<string, string | number> = {};
    for (const a of e.debugAnnotations ?? []) {
      const name = a.nameIid !== undefined ? lookup('debugAnnotationNames', a.nameIid) : (a.name ?? '?');
      args[name] = a.stringValue ?? (a.uintValue !== undefined ? Number(a.uintValue) : a.intValue !== undefined ? Number(a.intValue) : String(a.boolValue));
    }
    const parent = stack.at(-1);
    const s: Slice = {
      track,
      name: e.nameIid !== undefined ? lookup('eventNames', e.nameIid) : (e.name ?? ''),
      categories: (e.categoryIids ?? []).map((c) => lookup('eventCategories', c)),
      args,
      begin: ts,
      depth: stack.length,
      instant: e.type === 3,
      ...(parent === undefined ? {} : { parent }),
    };
    if (s.instant) s.end = ts;
    else stack.push(s);
    slices.push(s);
  });
  for (const [track, stack] of open) for (const s of stack) violations.push(`slice ${s.name} on track ${track} never ends`);
  // Children end within their parents (the END order above makes it so; checked, not assumed).
  for (const s of slices) if (s.parent !== undefined && s.end !== undefined && s.parent.end !== undefined && s.end > s.parent.end) violations.push(`slice ${s.name} ends after its parent ${s.parent.name}`);
  return { packets: packets.length, firstPacketFlags: packets[0]?.sequenceFlags ?? 0, tracks: [...tracks.values()], slices, violations, interned: order };
}
