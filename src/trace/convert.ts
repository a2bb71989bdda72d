// Generic decoded Packet objects (wire.ts) <-> the in-memory types (types.ts). The field names of
// the .proto (camelCased by protobufjs) are the names of types.ts, so event bodies map
// mechanically: the oneof member names the kind (`guestMmioWrite` -> `guest-mmio-write`), the
// Ioctl oneof member names the op. Only the header's format check and Observed's "empty means
// absent" rules are written out by hand.
import { UserError } from '../errors.js';
import { deviceSysfsEmpty, traitsEmpty, type EventBody, type Observed, type TraceEvent, type TraceHeader } from './types.js';
import { FORMAT_VERSION, camel, kebab, schema, type FieldInfo, type MessageInfo } from './schema.js';
import { ACCESS_KINDS, accessLenProblem, configSizeProblem, pageSizeProblem } from './limits.js';
import { assignWithDefaults, withDefaults, type DecodeContext, type Msg, type Value } from './wire.js';

export type DecodedPacket =
  | { type: 'header'; header: TraceHeader }
  | { type: 'event'; event: TraceEvent }
  /** An event of a kind this reader's schema does not know (already counted as unknown). */
  | { type: 'unknown-event' };

/** The Packet fields of an event's meta, in the order an event's properties start with. */
export const META = ['seq', 'tsNs', 'tid', 'overlap', 'pid', 'observed'] as const;

/**
 * Deprecated Packet bodies (`[deprecated = true]` in the .proto) and the event each one now is:
 * old traces keep decoding, nothing writes them. The sysfs event absorbed the first form of a
 * sriov_numvfs write (Packet 52).
 */
const SUCCESSORS: Record<string, (body: Msg) => Msg> = {
  sriovNumvfs: (b) => ({ kind: 'sysfs', path: 'sriov_numvfs', write: String((b.numVfs as number | undefined) ?? 0) }),
};

/** Per-schema lookups for the hot path, built once: the `body` oneof members by name, the kinds. */
export interface BodyTables {
  /** Packet field name -> its field, for members of the `body` oneof. */
  members: Map<string, FieldInfo>;
  /** Packet body member -> event kind (`guestMmioWrite` -> `guest-mmio-write`). */
  kinds: Map<string, string>;
  /**
   * Bodies that are one `op` oneof (Ioctl, Iommufd): member -> op messages in field-number order,
   * with their op names. Their events carry `op` and the op message's fields.
   */
  opBodies: Map<string, { field: FieldInfo; op: string }[]>;
  header: MessageInfo;
}

let tables: BodyTables | undefined;

/** The body tables of the Packet schema (also what the generated event decoders follow). */
export function bodyTables(packet: MessageInfo): BodyTables {
  if (tables !== undefined) return tables;
  const members = new Map<string, FieldInfo>();
  const kinds = new Map<string, string>();
  const opBodies = new Map<string, { field: FieldInfo; op: string }[]>();
  for (const f of packet.ordered) {
    if (f.oneof !== 'body') continue;
    members.set(f.name, f);
    kinds.set(f.name, kebab(f.name));
    const fields = f.msg?.ordered ?? [];
    if (f.name !== 'header' && fields.length > 0 && fields.every((x) => x.oneof === 'op'))
      opBodies.set(f.name, fields.map((field) => ({ field, op: kebab(field.name) })));
  }
  tables = { members, kinds, opBodies, header: packet.byName.get('header')!.msg! };
  return tables;
}

/**
 * The member of the `body` oneof that is set (decodeMessage has already refused two), by field
 * order as before; a decoded packet holds at most a handful of keys, so they are scanned instead
 * of the ~20 members.
 */
function bodyMember(t: BodyTables, m: Msg): string | undefined {
  let found: string | undefined;
  for (const k in m) {
    if (t.members.has(k)) {
      found = k;
      break;
    }
  }
  return found;
}

/**
 * Turns one decoded Packet into a header or an event; `at` locates errors. `unknownBefore` is the
 * number of unknown fields counted before this packet (compared with ctx.unknownTotal when the
 * context keeps that running sum, else with the sum of ctx.unknown).
 */
export function packetFromWire(m: Msg, ctx: DecodeContext, at: number, unknownBefore: number): DecodedPacket {
  const x = fromWire(m, ctx, at, unknownBefore);
  if (x === null) return { type: 'unknown-event' };
  return 'kind' in x ? { type: 'event', event: x } : { type: 'header', header: x };
}

/**
 * packetFromWire without the wrapper object (the streaming reader's per-packet path): the event,
 * the header (which has no `kind`), or null for an event of an unknown kind.
 */
export function fromWire(m: Msg, ctx: DecodeContext, at: number, unknownBefore: number): TraceEvent | TraceHeader | null {
  const { packet } = schema();
  const t = bodyTables(packet);
  const member = bodyMember(t, m);
  if (member === 'header') {
    // A header is no event: its errors are located by byte offset only.
    const where = { file: ctx.file, offset: at };
    for (const k of META) if (m[k] !== undefined) throw new UserError(`header packet carries event field ${k}`, where);
    const h = withDefaults(t.header, m.header as Msg) as unknown as TraceHeader;
    // Traits are optional in memory: all-default ones (or none on the wire) mean "the snapshot's".
    if (h.device.traits !== undefined && traitsEmpty(h.device.traits)) delete h.device.traits;
    // Host configuration lists are optional in memory too: none on the wire = not recorded.
    if (h.moduleParams?.length === 0) delete h.moduleParams;
    if (h.device.sysfs !== undefined && deviceSysfsEmpty(h.device.sysfs)) delete h.device.sysfs;
    if (h.device.quirks.d3cold === '') delete h.device.quirks.d3cold;
    if (h.kernelCmdline?.length === 0) delete h.kernelCmdline;
    // The SR-IOV blocks are there when the wire has them (an all-default one is still a VF/PF).
    const wireDevice = (m.header as Msg).device as Msg | undefined;
    if (wireDevice?.sriovVf === undefined) delete h.device.sriovVf;
    if (wireDevice?.sriov === undefined) delete h.device.sriov;
    if (h.formatVersion !== FORMAT_VERSION) {
      const why = h.formatVersion === 0 ? 'header has no format version' : `format version ${h.formatVersion} is not supported (this reader knows ${FORMAT_VERSION})`;
      throw new UserError(why, { file: ctx.file, offset: at });
    }
    const tooBig = configSizeProblem(h.device.config.length) ?? pageSizeProblem(h.device.pageSize);
    if (tooBig !== null) throw new UserError(`header: device ${tooBig}`, { file: ctx.file, offset: at });
    return h;
  }
  if (member === undefined) {
    // A newer schema's event kind shows up as an unknown Packet field; anything else is noise.
    let unknownNow = ctx.unknownTotal ?? -1;
    if (unknownNow < 0) {
      unknownNow = 0;
      for (const n of ctx.unknown.values()) unknownNow += n;
    }
    if (unknownNow > unknownBefore) return null;
    throw new UserError('packet holds neither a header nor an event', { file: ctx.file, event: ctx.event, offset: at });
  }
  // One object per event, filled in the order the former spread copies produced: meta, observed,
  // kind, (op), then the body fields with their defaults.
  const ev: Msg = {
    seq: (m.seq as bigint | undefined) ?? 0n,
    tsNs: (m.tsNs as bigint | undefined) ?? 0n,
    tid: (m.tid as number | undefined) ?? 0,
    overlap: (m.overlap as number | undefined) ?? 0,
  };
  // Absent rather than 0, so events of the traced process keep their shape.
  if (m.pid !== undefined && m.pid !== 0) ev.pid = m.pid;
  if (m.observed !== undefined) ev.observed = observedFromWire(m.observed as Msg) as unknown as Msg;
  const successor = t.members.get(member)!.deprecated ? SUCCESSORS[member] : undefined;
  if (successor !== undefined) return Object.assign(ev, successor((m[member] as Msg) ?? {})) as unknown as TraceEvent;
  const kind = t.kinds.get(member)!;
  ev.kind = kind;
  const bodyField = t.members.get(member)!;
  const ops = t.opBodies.get(member);
  if (ops !== undefined) {
    const body = m[member] as Msg;
    let op: { field: FieldInfo; op: string } | undefined;
    for (const o of ops) {
      if (body[o.field.name] !== undefined) {
        op = o;
        break;
      }
    }
    if (op === undefined) throw new UserError(`${kind} event has no operation (an op this reader does not know?)`, { file: ctx.file, event: ctx.event, offset: at });
    ev.op = op.op;
    assignWithDefaults(op.field.msg!, body[op.field.name] as Msg, ev);
  } else {
    assignWithDefaults(bodyField.msg!, m[member] as Msg, ev);
    if (ACCESS_KINDS.has(kind)) {
      const bad = accessLenProblem(kind, ev.len as number);
      if (bad !== null) throw new UserError(bad, { file: ctx.file, event: ctx.event, offset: at });
    }
  }
  return ev as unknown as TraceEvent;
}

/**
 * How each Observed wire field becomes the in-memory Observed ("empty means absent" and friends),
 * in the order the properties are set. observedFromWire follows it, and so do the generated event
 * decoders (event-fast.ts), so both build identical objects with identical key order. A field the
 * schema has and this table lacks is dropped here and sends the fast path to this one.
 */
export type ObservedRule =
  | 'keep' // present -> copied
  | 'non-empty' // present and not '' -> copied
  | 'true' // only `true` is kept
  | 'split' // a comma-separated list: '' = seen, empty
  | ((m: Msg) => Observed[keyof Observed]); // a nested message, converted

export const OBSERVED_RULES: readonly (readonly [keyof Observed, ObservedRule])[] = [
  ['ret', 'keep'],
  ['errno', 'non-empty'],
  ['data', 'keep'],
  ['signal', (s) => ({ signal: (s.signal as string) ?? '', code: (s.code as string) ?? '', addr: (s.addr as bigint | undefined) ?? null })],
  [
    'vmmExit',
    (v) => ({
      how: ((v.how as string) ?? 'exited') as 'exited' | 'signaled' | 'kvm-run-error',
      status: (v.status as number) ?? 0,
      signal: (v.signal as string) ?? '',
      errno: (v.errno as string) ?? '',
    }),
  ],
  ['powerState', 'non-empty'],
  ['blocked', 'true'],
  ['kernelLog', 'non-empty'],
  ['kernelFailure', (f) => ({ kind: (f.kind as string) ?? '', where: (f.where as string) ?? '', consequence: (f.consequence as string) ?? '' })],
  ['text', 'keep'],
  ['signaled', 'split'],
];

function observedFromWire(m: Msg): Observed {
  const o: Record<string, unknown> = {};
  for (const [name, rule] of OBSERVED_RULES) {
    const v = m[name];
    if (v === undefined) continue;
    if (rule === 'keep') o[name] = v;
    else if (rule === 'non-empty') {
      if (v !== '') o[name] = v;
    } else if (rule === 'true') {
      if (v === true) o[name] = true;
    } else if (rule === 'split') o[name] = v === '' ? [] : (v as string).split(',');
    else o[name] = rule(v as Msg);
  }
  return o as Observed;
}

// ----- model -> wire ---------------------------------------------------------------------------

/** Copies the fields `info` knows from `src` (recursing into messages and repeated messages). */
function pick(info: MessageInfo, src: Record<string, unknown>): Msg {
  const out: Msg = {};
  for (const f of info.ordered) {
    const v = src[f.name];
    if (v === undefined || v === null) continue;
    if (f.kind === 'msg') {
      if (f.repeated) out[f.name] = (v as Record<string, unknown>[]).map((x) => pick(f.msg!, x));
      else out[f.name] = pick(f.msg!, v as Record<string, unknown>);
    } else out[f.name] = v as Value;
  }
  return out;
}

export function headerToWire(h: TraceHeader): Msg {
  const { packet } = schema();
  const header = pick(packet.byName.get('header')!.msg!, h as unknown as Record<string, unknown>);
  const t = h.device.traits;
  if (t !== undefined && traitsEmpty(t)) delete (header.device as Msg).traits; // canonical: absent = defaults
  if (h.device.sysfs !== undefined && deviceSysfsEmpty(h.device.sysfs)) delete (header.device as Msg).sysfs;
  return { header };
}

export function eventToWire(e: TraceEvent): Msg {
  const { packet } = schema();
  const m: Msg = { seq: e.seq, tsNs: e.tsNs, tid: e.tid, overlap: e.overlap };
  if (e.pid !== undefined && e.pid !== 0) m.pid = e.pid;
  if (e.observed !== undefined) m.observed = observedToWire(e.observed);
  const member = camel(e.kind);
  const f = packet.byName.get(member);
  if (f === undefined || f.oneof !== 'body' || member === 'header' || f.deprecated) throw new RangeError(`unknown event kind ${e.kind}`);
  const src = e as unknown as Record<string, unknown>;
  if (e.kind === 'ioctl' || e.kind === 'iommufd') {
    const opName = camel(e.op);
    const opField = f.msg!.byName.get(opName);
    if (opField === undefined) throw new RangeError(`unknown ${e.kind} op ${e.op}`);
    m[member] = { [opName]: pick(opField.msg!, src) };
  } else {
    m[member] = pick(f.msg!, src);
  }
  return m;
}

function observedToWire(o: Observed): Msg {
  const m: Msg = {};
  if (o.ret !== undefined) m.ret = o.ret;
  if (o.errno !== undefined) m.errno = o.errno;
  if (o.data !== undefined) m.data = o.data;
  if (o.signal !== undefined) {
    m.signal = { signal: o.signal.signal, code: o.signal.code };
    if (o.signal.addr !== null) (m.signal as Msg).addr = o.signal.addr;
  }
  if (o.vmmExit !== undefined) m.vmmExit = { ...o.vmmExit };
  if (o.powerState !== undefined) m.powerState = o.powerState;
  if (o.blocked === true) m.blocked = true;
  if (o.kernelLog !== undefined && o.kernelLog !== '') m.kernelLog = o.kernelLog;
  if (o.kernelFailure !== undefined) m.kernelFailure = { ...o.kernelFailure };
  if (o.text !== undefined) m.text = o.text;
  if (o.signaled !== undefined) m.signaled = o.signaled.join(',');
  return m;
}

/** The event kinds the schema knows, in field-number order (for `info`, tests, the generator); deprecated bodies are none. */
export function eventKinds(): string[] {
  const { packet } = schema();
  return packet.ordered.filter((f) => f.oneof === 'body' && f.name !== 'header' && !f.deprecated).map((f) => kebab(f.name));
}

/** The ioctl ops the schema knows. */
export function ioctlOps(): string[] {
  const { packet } = schema();
  return packet.byName.get('ioctl')!.msg!.ordered.map((f) => kebab(f.name));
}

/** The iommufd ops the schema knows. */
export function iommufdOps(): string[] {
  const { packet } = schema();
  return packet.byName.get('iommufd')!.msg!.ordered.map((f) => kebab(f.name));
}

export type { EventBody };
