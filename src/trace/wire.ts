// Protobuf wire format <-> generic objects, driven by the schema tables (schema.ts).
//
// Decoding is a hand-written walk of the wire format instead of protobufjs' generated decoders,
// because the trace reader must (1) reject a known field sent with the wrong wire type (protobufjs
// reads it as if it were right and yields garbage), (2) count every unknown field per message and
// field number instead of dropping it, (3) produce bigint for every u64 directly, and (4) say at
// which byte offset a malformed packet went wrong. Encoding uses protobufjs' Writer, writing fields
// in field-number order and omitting implicit-presence defaults, which makes it canonical.
import protobuf from 'protobufjs';
import { UserError } from '../errors.js';
import type { FieldInfo, MessageInfo } from './schema.js';
import { bytes, defaultsFiller, fastDecoder, str } from './wire-fast.js';

/** A decoded message: field name -> value. Enums are kebab-case names, u64/s64 are bigint. */
export type Value = bigint | number | boolean | string | Uint8Array | Msg | Value[];
export interface Msg {
  [name: string]: Value;
}

/** Where decoding happens, for located errors and unknown-field accounting. */
export interface DecodeContext {
  file: string;
  /** Event index of the packet being decoded, when it is known to be an event. */
  event?: number;
  /** File offset of byte 0 of the buffer handed to decodeMessage. */
  base: number;
  /** "Message.field-number" -> occurrences; shared across a whole file. */
  unknown: Map<string, number>;
  /**
   * Running sum of the `unknown` counts, when the caller wants one: lets the reader tell whether
   * a packet added unknown fields without summing the Map per packet.
   */
  unknownTotal?: number;
}

function fail(ctx: DecodeContext, pos: number, message: string): never {
  throw new UserError(message, { file: ctx.file, event: ctx.event, offset: ctx.base + pos });
}

// Varint result registers: avoids allocating a pair per varint on the hot path.
let vLo = 0;
let vHi = 0;

/** Reads a varint at `pos` into vLo/vHi (unsigned 32-bit halves); returns the new position. */
function readVarint(buf: Uint8Array, pos: number, end: number, ctx: DecodeContext): number {
  const start = pos;
  let lo = 0;
  let hi = 0;
  for (let i = 0; ; i++) {
    if (pos >= end) fail(ctx, start, 'truncated varint');
    const b = buf[pos++];
    if (i < 4) lo |= (b & 0x7f) << (7 * i);
    else if (i === 4) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >> 4;
    } else if (i < 9) hi |= (b & 0x7f) << (7 * i - 32);
    else {
      // 10th byte: only bit 0 is left of a 64-bit value.
      if (b > 1) fail(ctx, start, 'varint overflows 64 bits');
      hi |= b << 31;
    }
    if ((b & 0x80) === 0) break;
    if (i === 9) fail(ctx, start, 'varint longer than 10 bytes');
  }
  vLo = lo >>> 0;
  vHi = hi >>> 0;
  return pos;
}

function u64(): bigint {
  return vHi === 0 ? BigInt(vLo) : (BigInt(vHi) << 32n) | BigInt(vLo);
}

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32', 'invalid (6)', 'invalid (7)'];

function expectedWire(f: FieldInfo): number {
  return f.kind === 'string' || f.kind === 'bytes' || f.kind === 'msg' ? 2 : 0;
}

/** Reads one scalar varint-encoded value of field `f` from vLo/vHi. */
function scalarFromVarint(f: FieldInfo, ctx: DecodeContext, at: number, msgName: string): Value {
  switch (f.kind) {
    case 'u64':
      return u64();
    case 's64': {
      // zigzag: (n >>> 1) ^ -(n & 1)
      const n = u64();
      return (n & 1n) === 0n ? n >> 1n : -(n >> 1n) - 1n;
    }
    case 'u32':
      if (vHi !== 0) fail(ctx, at, `${msgName}.${f.protoName}: value ${u64()} does not fit in uint32`);
      return vLo;
    case 'i32': {
      // int32 is sign-extended to 64 bits on the wire.
      const ok = (vHi === 0 && vLo < 0x80000000) || (vHi === 0xffffffff && vLo >= 0x80000000);
      if (!ok) fail(ctx, at, `${msgName}.${f.protoName}: value does not fit in int32`);
      return vLo | 0;
    }
    case 's32': {
      if (vHi !== 0) fail(ctx, at, `${msgName}.${f.protoName}: value does not fit in sint32`);
      return (vLo >>> 1) ^ -(vLo & 1);
    }
    case 'bool':
      if (vHi !== 0 || vLo > 1) fail(ctx, at, `${msgName}.${f.protoName}: bool value ${u64()} is not 0 or 1`);
      return vLo === 1;
    case 'enum': {
      const name = vHi === 0 ? f.enumNames!.get(vLo) : undefined;
      if (name === undefined) fail(ctx, at, `${msgName}.${f.protoName}: unknown enum value ${u64()}`);
      return name;
    }
    default:
      throw new Error(`scalarFromVarint: ${f.kind}`);
  }
}

/** Skips an unknown field's payload; returns the position after it. */
function skipField(buf: Uint8Array, pos: number, end: number, wire: number, ctx: DecodeContext, at: number): number {
  switch (wire) {
    case 0:
      return readVarint(buf, pos, end, ctx);
    case 1:
      if (pos + 8 > end) fail(ctx, at, 'truncated fixed64 field');
      return pos + 8;
    case 5:
      if (pos + 4 > end) fail(ctx, at, 'truncated fixed32 field');
      return pos + 4;
    case 2: {
      pos = readVarint(buf, pos, end, ctx);
      if (vHi !== 0 || vLo > end - pos) fail(ctx, at, 'length-delimited field runs past the end of its message');
      return pos + vLo;
    }
    default:
      fail(ctx, at, `unsupported wire type ${WIRE_NAMES[wire]}`);
  }
}

// Field lookup by number on the hot path: a dense array per message (field numbers are small;
// Packet's largest is 64) instead of a Map probe per field. Built once per message type.
const denseById = new Map<MessageInfo, (FieldInfo | undefined)[]>();

function fieldTable(info: MessageInfo): (FieldInfo | undefined)[] {
  let t = denseById.get(info);
  if (t === undefined) {
    t = [];
    for (const f of info.ordered) t[f.id] = f;
    // Fill the holes so the array stays packed (no prototype walk on a miss below the top id).
    for (let i = 0; i < t.length; i++) if (t[i] === undefined) t[i] = undefined;
    denseById.set(info, t);
  }
  return t;
}

/**
 * Decodes buf[pos, end) as message `info`. Only fields present on the wire appear in the result
 * (repeated ones as arrays). A non-repeated field seen twice, or two members of one oneof, is an
 * error: no writer of this format emits that, so it means corruption.
 */
export function decodeMessage(info: MessageInfo, buf: Uint8Array, pos: number, end: number, ctx: DecodeContext): Msg {
  // The generated fast path takes the common well-formed case; it gives up, without side
  // effects, on anything the walk below must judge (see wire-fast.ts).
  return fastDecoder(info)(buf, pos, end) ?? decodeGeneric(info, buf, pos, end, ctx);
}

/**
 * The generic walk. With `pure`, nested messages take it too (never the fast path): the reference
 * the fast path is tested against (test/trace/wire-fast.property.test.ts).
 */
export function decodeGeneric(info: MessageInfo, buf: Uint8Array, pos: number, end: number, ctx: DecodeContext, pure = false): Msg {
  const out: Msg = {};
  const table = fieldTable(info);
  // The members seen of each oneof. Messages of this schema have at most one oneof, so the first
  // one is tracked in two locals (no allocation per packet); a Map is made only for a second.
  let oneof1: string | null = null;
  let member1 = '';
  let moreOneofs: Map<string, string> | undefined;
  while (pos < end) {
    const at = pos;
    pos = readVarint(buf, pos, end, ctx);
    if (vHi !== 0) fail(ctx, at, 'field tag out of range');
    const tag = vLo;
    const id = tag >>> 3;
    const wire = tag & 7;
    if (id === 0) fail(ctx, at, `${info.name}: field number 0 is invalid`);
    const f = id < table.length ? table[id] : undefined;
    if (f === undefined) {
      pos = skipField(buf, pos, end, wire, ctx, at);
      const key = `${info.name}.${id}`;
      ctx.unknown.set(key, (ctx.unknown.get(key) ?? 0) + 1);
      if (ctx.unknownTotal !== undefined) ctx.unknownTotal++;
      continue;
    }
    const want = expectedWire(f);
    const packed = f.repeated && want === 0 && wire === 2;
    if (wire !== want && !packed) {
      fail(ctx, at, `${info.name}.${f.protoName}: wrong wire type ${WIRE_NAMES[wire]} (expected ${WIRE_NAMES[want]})`);
    }
    if (!f.repeated && out[f.name] !== undefined) fail(ctx, at, `${info.name}.${f.protoName} appears twice`);
    if (f.oneof !== null) {
      let other: string | undefined;
      if (oneof1 === null) {
        oneof1 = f.oneof;
        member1 = f.protoName;
      } else if (oneof1 === f.oneof) {
        other = member1;
      } else {
        moreOneofs ??= new Map();
        other = moreOneofs.get(f.oneof);
        if (other === undefined) moreOneofs.set(f.oneof, f.protoName);
      }
      if (other !== undefined) fail(ctx, at, `${info.name}: both ${other} and ${f.protoName} of oneof ${f.oneof} are set`);
    }
    let value: Value;
    if (wire === 0) {
      pos = readVarint(buf, pos, end, ctx);
      value = scalarFromVarint(f, ctx, at, info.name);
    } else {
      pos = readVarint(buf, pos, end, ctx);
      if (vHi !== 0 || vLo > end - pos) {
        const len = u64();
        fail(ctx, at, `${info.name}.${f.protoName}: length ${len} runs past the end of its message (${end - pos} bytes left)`);
      }
      const stop = pos + vLo;
      if (packed) {
        const list = (out[f.name] as Value[] | undefined) ?? [];
        while (pos < stop) {
          const vat = pos;
          pos = readVarint(buf, pos, stop, ctx);
          list.push(scalarFromVarint(f, ctx, vat, info.name));
        }
        out[f.name] = list;
        continue;
      }
      if (f.kind === 'msg') {
        // Inside a header packet there is no event to name in an error (the reader numbered the
        // packet as if it were one, before knowing).
        const event = ctx.event;
        if (f.msg!.name === 'Header') ctx.event = undefined;
        value = pure ? decodeGeneric(f.msg!, buf, pos, stop, ctx, true) : decodeMessage(f.msg!, buf, pos, stop, ctx);
        ctx.event = event;
      }
      // Always a fresh plain Uint8Array: a Buffer's slice() would alias the (reused) read buffer.
      else if (f.kind === 'bytes') value = bytes(buf, pos, stop);
      else value = decodeUtf8(buf, pos, stop, ctx, at, info, f);
      pos = stop;
    }
    if (f.repeated) {
      const list = (out[f.name] as Value[] | undefined) ?? [];
      list.push(value);
      out[f.name] = list;
    } else out[f.name] = value;
  }
  return out;
}

/**
 * Strings are decoded by the fast path's helper (an ASCII shortcut, else the fatal decoder); here an
 * invalid UTF-8 string becomes the located error.
 */
function decodeUtf8(buf: Uint8Array, pos: number, stop: number, ctx: DecodeContext, at: number, info: MessageInfo, f: FieldInfo): string {
  const s = str(buf, pos, stop);
  if (s === null) fail(ctx, at, `${info.name}.${f.protoName}: string is not valid UTF-8`);
  return s;
}

/**
 * Returns a copy of `m` with every implicit-presence field filled with its default and every
 * non-oneof message field filled recursively; explicit-presence scalars (proto3 `optional`) and
 * oneof members stay absent when absent.
 */
export function withDefaults(info: MessageInfo, m: Msg): Msg {
  return assignWithDefaults(info, m, {});
}

/**
 * withDefaults, written into `out` (field by field, in field-number order) instead of a new
 * object: the event decoder builds each event in one object this way rather than spreading copies.
 */
export function assignWithDefaults(info: MessageInfo, m: Msg, out: Msg): Msg {
  const fill = defaultsFiller(info);
  return fill !== null ? fill(m, out) : assignWithDefaultsGeneric(info, m, out);
}

/** The loop the generated fillers replace; the reference they are tested against. */
export function assignWithDefaultsGeneric(info: MessageInfo, m: Msg, out: Msg): Msg {
  const fields = info.ordered;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const v = m[f.name];
    if (f.repeated) {
      out[f.name] = v === undefined ? [] : f.kind === 'msg' ? (v as Msg[]).map((x) => withDefaults(f.msg!, x)) : v;
      continue;
    }
    if (f.kind === 'msg') {
      if (v !== undefined) out[f.name] = withDefaults(f.msg!, v as Msg);
      else if (f.oneof === null) out[f.name] = withDefaults(f.msg!, {});
      continue;
    }
    if (v !== undefined) out[f.name] = v;
    else if (!f.presence) out[f.name] = defaultOf(f);
  }
  return out;
}

function defaultOf(f: FieldInfo): Value {
  switch (f.kind) {
    case 'u64':
    case 's64':
      return 0n;
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return new Uint8Array(0);
    case 'enum':
      return f.enumNames!.get(0)!;
    default:
      return 0;
  }
}

// ----- encoding --------------------------------------------------------------------------------

function isDefault(f: FieldInfo, v: Value): boolean {
  switch (f.kind) {
    case 'u64':
    case 's64':
      return v === 0n;
    case 'bool':
      return v === false;
    case 'string':
      return v === '';
    case 'bytes':
      return (v as Uint8Array).length === 0;
    case 'enum':
      return f.enumValues!.get(v as string) === 0;
    case 'msg':
      return false;
    default:
      return v === 0;
  }
}

const U64_MAX = (1n << 64n) - 1n;

function longOf(v: bigint, what: string): protobuf.Long {
  if (v < 0n || v > U64_MAX) throw new RangeError(`${what}: ${v} is not a 64-bit value`);
  return { low: Number(v & 0xffffffffn) | 0, high: Number(v >> 32n) | 0, unsigned: true } as protobuf.Long;
}

function writeScalar(w: protobuf.Writer, f: FieldInfo, v: Value, where: string): void {
  switch (f.kind) {
    case 'u64':
      w.uint64(longOf(v as bigint, where));
      return;
    case 's64': {
      const b = v as bigint;
      if (b < -(1n << 63n) || b >= 1n << 63n) throw new RangeError(`${where}: ${b} is not a signed 64-bit value`);
      w.sint64(longOf(BigInt.asUintN(64, b), where));
      return;
    }
    case 'u32':
      checkInt(v as number, 0, 0xffffffff, where);
      w.uint32(v as number);
      return;
    case 'i32':
      checkInt(v as number, -0x80000000, 0x7fffffff, where);
      w.int32(v as number);
      return;
    case 's32':
      checkInt(v as number, -0x80000000, 0x7fffffff, where);
      w.sint32(v as number);
      return;
    case 'bool':
      w.bool(v as boolean);
      return;
    case 'enum': {
      const n = f.enumValues!.get(v as string);
      if (n === undefined) throw new RangeError(`${where}: unknown enum name ${String(v)}`);
      w.uint32(n);
      return;
    }
    case 'string':
      w.string(wellFormed(v as string));
      return;
    case 'bytes':
      w.bytes(v as Uint8Array);
      return;
    case 'msg':
      throw new Error('writeScalar: message');
  }
}

// In a `u` regex a surrogate pair is one code point, so this matches only LONE surrogates.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;

/**
 * The string with every lone surrogate replaced by U+FFFD, as a UTF-8 encoder must (protobufjs'
 * would write it as 3 bytes no UTF-8 decoder accepts, a file our own reader then refuses). The
 * readers never produce one (the text parser refuses them, binary strings are decoded strictly);
 * this keeps a Trace built in memory from writing invalid UTF-8.
 */
export function wellFormed(s: string): string {
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATES, '\uFFFD') : s;
}

function checkInt(v: number, lo: number, hi: number, where: string): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`${where}: ${v} is out of range`);
}

/**
 * Writes message `m` (without tag/length) in canonical form. Values out of their field's range
 * are a programming error in the caller (the text parser and importers range-check user input),
 * hence RangeError rather than UserError.
 */
export function encodeMessage(w: protobuf.Writer, info: MessageInfo, m: Msg): void {
  for (const f of info.ordered) {
    const v = m[f.name];
    if (v === undefined) continue;
    const where = `${info.name}.${f.protoName}`;
    if (f.repeated) {
      const list = v as Value[];
      if (list.length === 0) continue;
      if (f.kind === 'msg') {
        for (const item of list) {
          w.uint32((f.id << 3) | 2).fork();
          encodeMessage(w, f.msg!, item as Msg);
          w.ldelim();
        }
      } else if (expectedWire(f) === 0) {
        // proto3 packs repeated scalars.
        w.uint32((f.id << 3) | 2).fork();
        for (const item of list) writeScalar(w, f, item, where);
        w.ldelim();
      } else {
        for (const item of list) {
          w.uint32((f.id << 3) | 2);
          writeScalar(w, f, item, where);
        }
      }
      continue;
    }
    if (f.kind === 'msg') {
      w.uint32((f.id << 3) | 2).fork();
      encodeMessage(w, f.msg!, v as Msg);
      w.ldelim();
      continue;
    }
    if (!f.presence && isDefault(f, v)) continue;
    w.uint32((f.id << 3) | expectedWire(f));
    writeScalar(w, f, v, where);
  }
}
