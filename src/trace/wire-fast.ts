// The fast path of the wire decoder (wire.ts): per message type, a decoder generated from the
// schema tables at first use, with one `case` per expected tag and named property stores, so V8
// sees one object shape per message instead of the generic walk's keyed stores and table lookups.
//
// It handles only well-formed input of the common shape: every known non-repeated field, with the
// expected wire type, at most once, at most one member per oneof. On ANYTHING else (an unknown or
// repeated field, a wrong wire type, a truncated varint, a length past the end, an out-of-range
// value, invalid UTF-8, in this message or any nested one) it returns null WITHOUT side effects,
// and the caller decodes the message again with the generic decoder, which produces the located
// error or counts the unknown field exactly as before. Hence: same results, same errors; this
// file only decides how fast the ordinary case goes.
import type { FieldInfo, MessageInfo } from './schema.js';
import type { Msg } from './wire.js';

export type FastDecoder = (buf: Uint8Array, pos: number, end: number) => Msg | null;

/** Varint result registers of the fast paths (this file's and event-fast.ts's). */
export const R = { lo: 0, hi: 0 };

/** Reads a varint into R; returns the new position, or -1 for anything the generic path must judge. */
export function rv(buf: Uint8Array, pos: number, end: number): number {
  // Up to 4 bytes (28 bits: tags, lengths, lens, offsets, most values) in Smi arithmetic without
  // the general loop's per-byte position tests.
  if (pos + 4 <= end) {
    const b0 = buf[pos];
    if (b0 < 0x80) {
      R.lo = b0;
      R.hi = 0;
      return pos + 1;
    }
    const b1 = buf[pos + 1];
    if (b1 < 0x80) {
      R.lo = (b0 & 0x7f) | (b1 << 7);
      R.hi = 0;
      return pos + 2;
    }
    const b2 = buf[pos + 2];
    if (b2 < 0x80) {
      R.lo = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
      R.hi = 0;
      return pos + 3;
    }
    const b3 = buf[pos + 3];
    if (b3 < 0x80) {
      R.lo = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | (b3 << 21);
      R.hi = 0;
      return pos + 4;
    }
    // 5 to 9 bytes (timestamps, addresses: up to 63 bits), unrolled like the above.
    if (pos + 9 <= end) {
      const b4 = buf[pos + 4];
      const lo = ((b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | ((b3 & 0x7f) << 21) | ((b4 & 0x0f) << 28)) >>> 0;
      let hi = (b4 & 0x7f) >> 4;
      let n = 5;
      if (b4 >= 0x80) {
        const b5 = buf[pos + 5];
        hi |= (b5 & 0x7f) << 3;
        n = 6;
        if (b5 >= 0x80) {
          const b6 = buf[pos + 6];
          hi |= (b6 & 0x7f) << 10;
          n = 7;
          if (b6 >= 0x80) {
            const b7 = buf[pos + 7];
            hi |= (b7 & 0x7f) << 17;
            n = 8;
            if (b7 >= 0x80) {
              const b8 = buf[pos + 8];
              // A 10th byte follows: the general loop judges it (overflow, over-long).
              if (b8 >= 0x80) return rvLoop(buf, pos, end);
              hi |= (b8 & 0x7f) << 24;
              n = 9;
            }
          }
        }
      }
      R.lo = lo;
      R.hi = hi >>> 0;
      return pos + n;
    }
  }
  return rvLoop(buf, pos, end);
}

/** The general varint loop (up to 10 bytes, 64 bits, every overflow rule); rv's reference. */
export function rvLoop(buf: Uint8Array, pos: number, end: number): number {
  let lo = 0;
  let hi = 0;
  for (let i = 0; ; i++) {
    if (pos >= end) return -1;
    const b = buf[pos++];
    if (i < 4) lo |= (b & 0x7f) << (7 * i);
    else if (i === 4) {
      lo |= (b & 0x0f) << 28;
      hi |= (b & 0x7f) >> 4;
    } else if (i < 9) hi |= (b & 0x7f) << (7 * i - 32);
    else {
      if (b > 1) return -1;
      hi |= b << 31;
    }
    if ((b & 0x80) === 0) break;
    if (i === 9) return -1;
  }
  R.lo = lo >>> 0;
  R.hi = hi >>> 0;
  return pos;
}

/**
 * The bigints 0..4095, made once: a u64 field's value is a bigint (a heap object per BigInt()
 * call), and most offsets, lengths and return values are small. Shared values are safe: bigints
 * are immutable primitives.
 */
export const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 4096 }, (_, i) => BigInt(i));

export function u64(lo: number, hi: number): bigint {
  if (hi === 0) return lo < 4096 ? SMALL_BIGINTS[lo] : BigInt(lo);
  // Below 2^53 (timestamps, addresses) the double is exact: one BigInt instead of three.
  if (hi < 0x200000) return BigInt(hi * 0x100000000 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function s64(lo: number, hi: number): bigint {
  if (hi === 0) return (lo & 1) === 0 ? u64(lo >>> 1, 0) : BigInt(-(lo >>> 1) - 1);
  const n = u64(lo, hi);
  return (n & 1n) === 0n ? n >> 1n : -(n >> 1n) - 1n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The string, or null when it is not valid UTF-8 (the generic path then reports it). */
export function str(buf: Uint8Array, pos: number, stop: number): string | null {
  if (stop - pos <= 32) {
    let s = '';
    let i = pos;
    for (; i < stop; i++) {
      const c = buf[i];
      if (c >= 0x80) break;
      s += String.fromCharCode(c);
    }
    if (i === stop) return s;
  }
  try {
    return utf8.decode(buf.subarray(pos, stop));
  } catch {
    return null;
  }
}

/** A fresh plain Uint8Array (never a view of the reader's reused buffer). */
export function bytes(buf: Uint8Array, pos: number, stop: number): Uint8Array {
  const n = stop - pos;
  if (n > 16) return new Uint8Array(buf.subarray(pos, stop));
  const v = new Uint8Array(n);
  for (let i = 0; i < n; i++) v[i] = buf[pos + i];
  return v;
}

const compiled = new Map<MessageInfo, FastDecoder>();

/** The fast decoder of `info` (generated once per message type, recursively for nested ones). */
export function fastDecoder(info: MessageInfo): FastDecoder {
  const known = compiled.get(info);
  if (known !== undefined) return known;
  // A forwarding stub first, so recursive message types resolve while being generated.
  let impl: FastDecoder | null = null;
  const stub: FastDecoder = (buf, pos, end) => impl!(buf, pos, end);
  compiled.set(info, stub);
  impl = generate(info);
  compiled.set(info, impl);
  return impl;
}

function generate(info: MessageInfo): FastDecoder {
  const deps: unknown[] = [];
  const dep = (x: unknown): string => {
    deps.push(x);
    return `d${deps.length - 1}`;
  };
  const oneofs = new Map<string, string>();
  const cases: string[] = [];
  for (const f of info.ordered) {
    if (f.repeated) continue; // rare (header lists, hot-reset fds, dma-buf ranges): generic path
    const prop = `out[${JSON.stringify(f.name)}]`;
    let check = `if (${prop} !== undefined) return null;`;
    if (f.oneof !== null) {
      let v = oneofs.get(f.oneof);
      if (v === undefined) {
        v = `o${oneofs.size}`;
        oneofs.set(f.oneof, v);
      }
      check += ` if (${v}) return null; ${v} = 1;`;
    }
    const wire = f.kind === 'string' || f.kind === 'bytes' || f.kind === 'msg' ? 2 : 0;
    const tag = ((f.id << 3) | wire) >>> 0;
    let body: string;
    if (wire === 0) {
      body = `pos = rv(buf, pos, end); if (pos < 0) return null; ${varintValue(f, prop, dep)}`;
    } else {
      const read = `pos = rv(buf, pos, end); if (pos < 0 || R.hi !== 0 || R.lo > end - pos) return null; const stop = pos + R.lo;`;
      if (f.kind === 'msg') body = `${read} const v = ${dep(fastDecoder(f.msg!))}(buf, pos, stop); if (v === null) return null; ${prop} = v; pos = stop;`;
      else if (f.kind === 'bytes') body = `${read} ${prop} = bytes(buf, pos, stop); pos = stop;`;
      else body = `${read} const v = str(buf, pos, stop); if (v === null) return null; ${prop} = v; pos = stop;`;
    }
    cases.push(`      case ${tag}: { ${check} ${body} break; }`);
  }
  const src = `
  return function fast${info.name}(buf, pos, end) {
    const out = {};
    ${[...oneofs.values()].map((v) => `let ${v} = 0;`).join(' ')}
    while (pos < end) {
      pos = rv(buf, pos, end);
      if (pos < 0 || R.hi !== 0) return null;
      switch (R.lo) {
${cases.join('\n')}
        default: return null;
      }
    }
    return out;
  };`;
  const names = ['R', 'rv', 'u64', 's64', 'str', 'bytes', ...deps.map((_, i) => `d${i}`)];
  // The source is built from the schema tables only (field numbers, names as JSON literals): no
  // trace bytes ever reach it.
  const make = new Function(...names, src) as (...args: unknown[]) => FastDecoder;
  return make(R, rv, u64, s64, str, bytes, ...deps);
}

/** Code storing the varint in R (already read) as field `f`'s value, or returning null. */
export function varintValue(f: FieldInfo, prop: string, dep: (x: unknown) => string): string {
  switch (f.kind) {
    case 'u64':
      return `${prop} = u64(R.lo, R.hi);`;
    case 's64':
      return `${prop} = s64(R.lo, R.hi);`;
    case 'u32':
      return `if (R.hi !== 0) return null; ${prop} = R.lo;`;
    case 'i32':
      return `if (!((R.hi === 0 && R.lo < 0x80000000) || (R.hi === 0xffffffff && R.lo >= 0x80000000))) return null; ${prop} = R.lo | 0;`;
    case 's32':
      return `if (R.hi !== 0) return null; ${prop} = (R.lo >>> 1) ^ -(R.lo & 1);`;
    case 'bool':
      return `if (R.hi !== 0 || R.lo > 1) return null; ${prop} = R.lo === 1;`;
    case 'enum': {
      const names: (string | undefined)[] = [];
      for (const [n, name] of f.enumNames!) if (n >= 0 && n < 4096) names[n] = name;
      for (let i = 0; i < names.length; i++) if (names[i] === undefined) names[i] = undefined;
      const t = dep(names);
      // Values outside the dense table (negative or huge) are left to the generic path.
      return `if (R.hi !== 0 || R.lo >= ${t}.length) return null; { const v = ${t}[R.lo]; if (v === undefined) return null; ${prop} = v; }`;
    }
    default:
      throw new Error(`wire-fast: ${f.kind} is not varint-encoded`);
  }
}

export type DefaultsFiller = (m: Msg, out: Msg) => Msg;

const fillers = new Map<MessageInfo, DefaultsFiller | null>();

/**
 * A generated `assignWithDefaults` (wire.ts) for messages of scalar fields only (every event body
 * but hot-reset and dma-buf): named loads and stores instead of a loop of keyed ones. null for
 * messages with message-typed or repeated fields, which keep the generic loop. Same semantics:
 * fields in field-number order; a present value is copied, an absent implicit-presence field gets
 * its default, an absent explicit-presence one stays absent.
 */
export function defaultsFiller(info: MessageInfo): DefaultsFiller | null {
  if (fillers.has(info)) return fillers.get(info)!;
  let filler: DefaultsFiller | null = null;
  if (info.ordered.every((f) => !f.repeated && f.kind !== 'msg')) {
    const deps: unknown[] = [];
    const lines = info.ordered.map((f, i) => {
      const key = JSON.stringify(f.name);
      const dflt = f.presence ? null : defaultSource(f, (x) => {
        deps.push(x);
        return `d${deps.length - 1}`;
      });
      return dflt === null
        ? `const v${i} = m[${key}]; if (v${i} !== undefined) out[${key}] = v${i};`
        : `const v${i} = m[${key}]; out[${key}] = v${i} !== undefined ? v${i} : ${dflt};`;
    });
    const src = `return function fill${info.name}(m, out) {\n  ${lines.join('\n  ')}\n  return out;\n};`;
    const make = new Function(...deps.map((_, i) => `d${i}`), src) as (...args: unknown[]) => DefaultsFiller;
    filler = make(...deps);
  }
  fillers.set(info, filler);
  return filler;
}

/**
 * Source of an expression for the default of an implicit-presence scalar field `f` (a fresh value
 * each time it runs, for bytes); `dep` names a value the generated function receives.
 */
export function defaultSource(f: FieldInfo, dep: (x: unknown) => string): string {
  switch (f.kind) {
    case 'u64':
    case 's64':
      return '0n';
    case 'bool':
      return 'false';
    case 'string':
      return "''";
    case 'bytes':
      return 'new Uint8Array(0)';
    case 'enum':
      return dep(f.enumNames!.get(0)!);
    case 'msg':
      throw new Error('defaultSource: message fields have no scalar default');
    default:
      return '0';
  }
}
