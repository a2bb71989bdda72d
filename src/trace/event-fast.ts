// The event fast path: per Packet body member (and per op of the ioctl/iommufd bodies), a decoder
// generated from the schema tables that builds the in-memory TraceEvent straight from the bytes,
// instead of the generic Msg objects of wire-fast.ts (packet, body, observed) that fromWire then
// copies into the event. One object per event, filled in the order fromWire fills it (meta,
// observed, kind, op, body fields with their defaults), so both paths give the same objects with
// the same key order.
//
// The fall-back rule is wire-fast.ts's: it handles only the ordinary well-formed event packet, and
// on ANYTHING else (a header, an unknown or repeated field, a duplicate, a wrong wire type, an
// out-of-range value, invalid UTF-8, an access length fromWire refuses, a deprecated body, an
// ioctl without an op, a body or op with message-typed fields) it returns null with no side
// effects. The caller then decodes the packet with decodeMessage + fromWire, which produces the
// event, the header, the unknown-field count or the located error exactly as before.
import { META, OBSERVED_RULES, bodyTables, type ObservedRule } from './convert.js';
import { ACCESS_KINDS, accessLenProblem } from './limits.js';
import type { FieldInfo, MessageInfo } from './schema.js';
import type { Observed, TraceEvent } from './types.js';
import { R, SMALL_BIGINTS, bytes, defaultSource, fastDecoder, rv, s64, str, u64, varintValue } from './wire-fast.js';

export type FastEventDecoder = (buf: Uint8Array, pos: number, end: number) => TraceEvent | null;

/** The meta values every body builder receives (pid: undefined when absent or 0). */
type BodyBuilder = (
  buf: Uint8Array,
  pos: number,
  end: number,
  seq: bigint,
  tsNs: bigint,
  tid: number,
  overlap: number,
  pid: number | undefined,
  observed: Observed | undefined,
) => TraceEvent | null;

const HELPERS = { R, rv, u64, s64, str, bytes, accessLenProblem, SMALL_BIGINTS };

/** Collects the values a generated function closes over, named d0, d1, ... in its source. */
class Deps {
  readonly values: unknown[] = [];
  readonly name = (x: unknown): string => {
    this.values.push(x);
    return `d${this.values.length - 1}`;
  };
  /**
   * Compiles `src` (the body of a function returning the generated function). The source is built
   * from the schema tables only (field numbers, names as JSON literals): no trace bytes reach it.
   */
  make<T>(src: string): T {
    const names = [...Object.keys(HELPERS), ...this.values.map((_, i) => `d${i}`)];
    return new Function(...names, src)(...Object.values(HELPERS), ...this.values) as T;
  }
}

/** Reads the tag at `pos` into `tag` (one-byte tags inline), or gives up. */
const READ_TAG = `let tag = buf[pos];
      if (tag < 0x80) pos++;
      else {
        pos = rv(buf, pos, end);
        if (pos < 0 || R.hi !== 0) return null;
        tag = R.lo;
      }`;

/** Reads a length prefix at `pos` and declares `stop`, or gives up when it runs past `end`. */
const READ_LEN = `pos = rv(buf, pos, end); if (pos < 0 || R.hi !== 0 || R.lo > end - pos) return null; const stop = pos + R.lo;`;

function wireOf(f: FieldInfo): number {
  return f.kind === 'string' || f.kind === 'bytes' || f.kind === 'msg' ? 2 : 0;
}

function tagOf(f: FieldInfo): number {
  return ((f.id << 3) | wireOf(f)) >>> 0;
}

/** A `case` reading scalar field `f` (not yet seen) into local `v`; null for message fields. */
function scalarCase(f: FieldInfo, v: string, deps: Deps): string | null {
  let read: string;
  if (f.kind === 'msg') return null;
  if (wireOf(f) === 0) {
    // A one-byte value (most u32s, small u64s) inline, without the call and the R registers.
    const one = f.kind === 'u32' || f.kind === 'i32' ? `${v} = b;` : f.kind === 'u64' ? `${v} = SMALL_BIGINTS[b];` : `R.lo = b; R.hi = 0; ${varintValue(f, v, deps.name)}`;
    read = `let b; if (pos < end && (b = buf[pos]) < 0x80) { pos++; ${one} } else { pos = rv(buf, pos, end); if (pos < 0) return null; ${varintValue(f, v, deps.name)} }`;
  }
  else if (f.kind === 'bytes') read = `${READ_LEN} ${v} = bytes(buf, pos, stop); pos = stop;`;
  else read = `${READ_LEN} ${v} = str(buf, pos, stop); if (${v} === null) return null; pos = stop;`;
  return `case ${tagOf(f)}: { if (${v} !== undefined) return null; ${read} break; }`;
}

/** A loop over the fields of one message, each `case` given; anything else gives up. */
function fieldLoop(cases: string[]): string {
  return `while (pos < end) {
      ${READ_TAG}
      switch (tag) {
        ${cases.join('\n        ')}
        default: return null;
      }
    }`;
}

const builders = new Map<string, BodyBuilder | null>();

/**
 * The builder of events of `kind` (and `op`) from the bytes of body message `info`, or null when
 * that message has a (non-repeated) message-typed field (left to the generic path whole).
 */
function bodyBuilder(info: MessageInfo, kind: string, op: string | null): BodyBuilder | null {
  const key = op === null ? kind : `${kind} ${op}`;
  if (builders.has(key)) return builders.get(key)!;
  let made: BodyBuilder | null = null;
  // Repeated message fields (dma-buf ranges) are fine: like every repeated field, absent or give up.
  if (info.ordered.every((f) => f.kind !== 'msg' || f.repeated)) {
    const deps = new Deps();
    const fields = info.ordered;
    const cases: string[] = [];
    // A repeated field is absent ([]) on this path: when present it has no case, so gives up.
    fields.forEach((f, i) => {
      if (!f.repeated) cases.push(scalarCase(f, `v${i}`, deps)!);
    });
    // The final value of each field: present, or its default; explicit presence stays absent.
    const value = (f: FieldInfo, i: number): string => (f.repeated ? '[]' : `v${i} !== undefined ? v${i} : ${defaultSource(f, deps.name)}`);
    let check = '';
    if (ACCESS_KINDS.has(kind)) {
      const i = fields.findIndex((f) => f.name === 'len');
      check = `if (accessLenProblem(${JSON.stringify(kind)}, ${i < 0 ? 'undefined' : `(${value(fields[i], i)})`}) !== null) return null;`;
    }
    // The object literal takes every field up to the first explicit-presence one (one allocation,
    // properties in-object); from there, stores in field order keep fromWire's key order.
    const cut = fields.findIndex((f) => f.presence && !f.repeated);
    const head = (cut < 0 ? fields : fields.slice(0, cut)).map((f, i) => `${JSON.stringify(f.name)}: ${value(f, i)}`);
    const tail = cut < 0 ? [] : fields.slice(cut).map((f, j) => {
      const i = cut + j;
      const prop = `ev[${JSON.stringify(f.name)}]`;
      return f.presence && !f.repeated ? `if (v${i} !== undefined) ${prop} = v${i};` : `${prop} = ${value(f, i)};`;
    });
    const bodyProps = [`"kind": ${JSON.stringify(kind)}`, ...(op === null ? [] : [`"op": ${JSON.stringify(op)}`]), ...head].join(', ');
    const literal = (withPid: boolean, withObserved: boolean): string =>
      `{ "seq": seq, "tsNs": tsNs, "tid": tid, "overlap": overlap, ${withPid ? '"pid": pid, ' : ''}${withObserved ? '"observed": observed, ' : ''}${bodyProps} }`;
    const locals = fields.length > 0 ? `let ${fields.map((_, i) => `v${i}`).join(', ')};` : '';
    made = deps.make<BodyBuilder>(`
  return function build(buf, pos, end, seq, tsNs, tid, overlap, pid, observed) {
    ${locals}
    ${fieldLoop(cases)}
    ${check}
    let ev;
    if (pid === undefined) ev = observed === undefined ? ${literal(false, false)} : ${literal(false, true)};
    else ev = observed === undefined ? ${literal(true, false)} : ${literal(true, true)};
    ${tail.join('\n    ')}
    return ev;
  };`);
  }
  builders.set(key, made);
  return made;
}

/**
 * The builder for an op body (Ioctl, Iommufd: one `op` oneof of messages): finds the one op set
 * and hands its bytes to that op's builder. Gives up on no op, two ops or an op it cannot build.
 */
function opBodyBuilder(ops: { field: FieldInfo; op: string }[], kind: string): BodyBuilder {
  const deps = new Deps();
  const cases: string[] = [];
  const calls: string[] = [];
  ops.forEach(({ field, op }, i) => {
    const b = bodyBuilder(field.msg!, kind, op);
    if (b === null) return;
    cases.push(`case ${tagOf(field)}: { if (which !== 0) return null; ${READ_LEN} which = ${i + 1}; at = pos; stop1 = stop; pos = stop; break; }`);
    calls.push(`case ${i + 1}: return ${deps.name(b)}(buf, at, stop1, seq, tsNs, tid, overlap, pid, observed);`);
  });
  return deps.make<BodyBuilder>(`
  return function buildOp(buf, pos, end, seq, tsNs, tid, overlap, pid, observed) {
    let which = 0, at = 0, stop1 = 0;
    ${fieldLoop(cases)}
    switch (which) {
      ${calls.join('\n      ')}
      default: return null;
    }
  };`);
}

type ObservedDecoder = (buf: Uint8Array, pos: number, end: number) => Observed | null;

/** Observed, built in its final form by OBSERVED_RULES (convert.ts) in their order. */
function observedDecoder(info: MessageInfo): ObservedDecoder {
  const deps = new Deps();
  const cases: string[] = [];
  const locals: string[] = [];
  const stores: string[] = [];
  const rules = new Map<string, ObservedRule>(OBSERVED_RULES);
  info.ordered.forEach((f, i) => {
    const rule = rules.get(f.name);
    // A field the rules do not know, or a repeated one, has no case: this path gives up on it.
    if (rule === undefined || f.repeated) return;
    const v = `v${i}`;
    locals.push(v);
    if (f.kind === 'msg') {
      // Rare (signals, VMM exits, kernel failures): the nested message via wire-fast's decoder.
      if (typeof rule !== 'function') throw new Error(`event-fast: Observed.${f.name} is a message but its rule is ${String(rule)}`);
      const dec = deps.name(fastDecoder(f.msg!));
      cases.push(`case ${tagOf(f)}: { if (${v} !== undefined) return null; ${READ_LEN} ${v} = ${dec}(buf, pos, stop); if (${v} === null) return null; pos = stop; break; }`);
    } else cases.push(scalarCase(f, v, deps)!);
  });
  // Stores in the rules' order (not field order): the order observedFromWire sets them in.
  for (const [name, rule] of OBSERVED_RULES) {
    const i = info.ordered.findIndex((f) => f.name === name && !f.repeated);
    if (i < 0) continue;
    const v = `v${i}`;
    const prop = `o[${JSON.stringify(name)}]`;
    if (rule === 'keep') stores.push(`if (${v} !== undefined) ${prop} = ${v};`);
    else if (rule === 'non-empty') stores.push(`if (${v} !== undefined && ${v} !== '') ${prop} = ${v};`);
    else if (rule === 'true') stores.push(`if (${v} === true) ${prop} = true;`);
    else if (rule === 'split') stores.push(`if (${v} !== undefined) ${prop} = ${v} === '' ? [] : ${v}.split(',');`);
    else stores.push(`if (${v} !== undefined) ${prop} = ${deps.name(rule)}(${v});`);
  }
  return deps.make<ObservedDecoder>(`
  return function observed(buf, pos, end) {
    ${locals.length > 0 ? `let ${locals.join(', ')};` : ''}
    ${fieldLoop(cases)}
    const o = {};
    ${stores.join('\n    ')}
    return o;
  };`);
}

let compiled: { packet: MessageInfo; decode: FastEventDecoder } | undefined;

/** The fast event decoder of Packet schema `packet` (generated once). */
export function fastEventDecoder(packet: MessageInfo): FastEventDecoder {
  if (compiled?.packet === packet) return compiled.decode;
  const decode = generatePacket(packet);
  compiled = { packet, decode };
  return decode;
}

function generatePacket(packet: MessageInfo): FastEventDecoder {
  const deps = new Deps();
  const t = bodyTables(packet);
  const cases: string[] = [];
  const locals: string[] = [];
  const meta = new Set<string>(META);
  // Meta scalars: the non-oneof Packet fields fromWire copies; any other one has no case.
  const metaVar = new Map<string, string>();
  for (const f of packet.ordered) {
    if (f.oneof !== null || !meta.has(f.name)) continue;
    if (f.kind === 'msg') {
      if (f.name !== 'observed') continue;
      const dec = deps.name(observedDecoder(f.msg!));
      cases.push(`case ${tagOf(f)}: { if (observed !== undefined) return null; ${READ_LEN} observed = ${dec}(buf, pos, stop); if (observed === null) return null; pos = stop; break; }`);
      continue;
    }
    const v = `m${f.id}`;
    metaVar.set(f.name, v);
    locals.push(v);
    cases.push(scalarCase(f, v, deps)!);
  }
  const metaValue = (name: string): string => {
    const v = metaVar.get(name);
    const f = packet.byName.get(name);
    return v === undefined || f === undefined ? 'undefined' : `${v} !== undefined ? ${v} : ${defaultSource(f, deps.name)}`;
  };
  // Body members: one case each, noting which and where; the builder runs after the loop, once
  // the meta (which may follow the body on the wire) is known.
  const calls: string[] = [];
  let n = 0;
  for (const [name, f] of t.members) {
    if (name === 'header' || f.deprecated === true) continue;
    const kind = t.kinds.get(name)!;
    const ops = t.opBodies.get(name);
    const b = ops !== undefined ? opBodyBuilder(ops, kind) : bodyBuilder(f.msg!, kind, null);
    if (b === null) continue;
    n++;
    cases.push(`case ${tagOf(f)}: { if (body !== 0) return null; ${READ_LEN} body = ${n}; at = pos; stop1 = stop; pos = stop; break; }`);
    calls.push(`case ${n}: return ${deps.name(b)}(buf, at, stop1, seq, tsNs, tid, overlap, pid, observed);`);
  }
  const pidVar = metaVar.get('pid');
  return deps.make<FastEventDecoder>(`
  return function fastEvent(buf, pos, end) {
    let observed, body = 0, at = 0, stop1 = 0${locals.length > 0 ? `, ${locals.join(', ')}` : ''};
    ${fieldLoop(cases)}
    const seq = ${metaValue('seq')}, tsNs = ${metaValue('tsNs')}, tid = ${metaValue('tid')}, overlap = ${metaValue('overlap')};
    const pid = ${pidVar === undefined ? 'undefined' : `${pidVar} === 0 ? undefined : ${pidVar}`};
    switch (body) {
      ${calls.join('\n      ')}
      default: return null;
    }
  };`);
}
