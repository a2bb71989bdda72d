// Lexical layer of the text twin (docs/text-format.md): splitting a line into words, and the
// value syntaxes shared by the parser and the printer (strings, numbers, hex bytes, region places),
// so that what the printer writes is exactly what the parser reads.
import { UserError } from '../errors.js';

export interface Token {
  text: string; // raw source text of the word, quotes included
  col: number; // 1-based column of its first character
}

export interface LineCtx {
  file: string;
  line: number;
}

export function textError(ctx: LineCtx, col: number, message: string): UserError {
  return new UserError(message, { file: ctx.file, line: ctx.line, column: col });
}

/**
 * Splits a line into whitespace-separated words. A `"` starts a JSON string that may contain
 * spaces and `#`; outside strings `#` starts a comment.
 */
export function tokenize(line: string, ctx: LineCtx): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') break;
    const start = i;
    while (i < n) {
      const d = line[i];
      if (d === ' ' || d === '\t' || d === '\r' || d === '#') break;
      if (d === '"') {
        i++;
        while (i < n && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
        if (i >= n) throw textError(ctx, start + 1, 'unterminated string');
      }
      i++;
    }
    out.push({ text: line.slice(start, i), col: start + 1 });
  }
  return out;
}

// ----- strings ---------------------------------------------------------------------------------

const BARE = /^[A-Za-z0-9._:+/@~^%-]+$/;

/** A string as one word: `-` for "", bare when safe, else a JSON string. */
export function fmtStr(s: string): string {
  if (s === '') return '-';
  if (s !== '-' && BARE.test(s)) return s;
  return JSON.stringify(s);
}

export function parseStr(raw: string, col: number, ctx: LineCtx, what: string): string {
  if (raw === '-') return '';
  if (raw.startsWith('"')) {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      throw textError(ctx, col, `${what}: bad quoted string ${raw}`);
    }
    if (typeof v !== 'string') throw textError(ctx, col, `${what}: bad quoted string ${raw}`);
    // JSON allows "\ud800"; UTF-8 (and so the binary trace) cannot hold a lone surrogate.
    const lone = /[\uD800-\uDFFF]/u.exec(v);
    if (lone !== null) throw textError(ctx, col, `${what}: lone surrogate \\u${lone[0].charCodeAt(0).toString(16)} in a string (not valid Unicode text)`);
    return v;
  }
  if (!BARE.test(raw)) throw textError(ctx, col, `${what}: ${raw} must be quoted ("...")`);
  return raw;
}

// A VMM device option (`x-no-mmap=on`, `romfile=/a,b`): bare when safe, which here also allows
// `=` and `,`; else a JSON string. `-` is "" as for fmtStr.
const BARE_OPTION = /^[A-Za-z0-9._:+/@~^%=,-]+$/;

export function fmtOption(s: string): string {
  if (s === '') return '-';
  if (s !== '-' && BARE_OPTION.test(s)) return s;
  return JSON.stringify(s);
}

export function parseOption(raw: string, col: number, ctx: LineCtx): string {
  if (raw === '-' || raw.startsWith('"')) return parseStr(raw, col, ctx, 'vmm option');
  if (!BARE_OPTION.test(raw)) throw textError(ctx, col, `vmm option: ${raw} must be quoted ("...")`);
  return raw;
}

// ----- numbers ---------------------------------------------------------------------------------

export function hex(v: bigint | number): string {
  return '0x' + v.toString(16);
}

/** Hex padded to at least `digits` digits (values print with 2 digits per byte of their access). */
export function hexPad(v: bigint | number, digits: number): string {
  return '0x' + v.toString(16).padStart(Math.max(1, digits), '0');
}

const NUM = /^(0x[0-9a-fA-F]+|[0-9]+)$/;

/** Unsigned integer of `bits` bits, decimal or 0x hex. */
export function parseUnsigned(raw: string, bits: number, col: number, ctx: LineCtx, what: string): bigint {
  if (!NUM.test(raw)) throw textError(ctx, col, `${what}: expected a number, got ${JSON.stringify(raw)}`);
  const v = BigInt(raw);
  if (v >= 1n << BigInt(bits)) throw textError(ctx, col, `${what}: ${raw} does not fit in ${bits} bits`);
  return v;
}

export function parseU32(raw: string, col: number, ctx: LineCtx, what: string): number {
  return Number(parseUnsigned(raw, 32, col, ctx, what));
}

/** Signed integer of `bits` bits, optional leading '-'. */
export function parseSigned(raw: string, bits: number, col: number, ctx: LineCtx, what: string): bigint {
  const neg = raw.startsWith('-');
  const body = neg ? raw.slice(1) : raw;
  if (!NUM.test(body)) throw textError(ctx, col, `${what}: expected a number, got ${JSON.stringify(raw)}`);
  const v = neg ? -BigInt(body) : BigInt(body);
  const lim = 1n << BigInt(bits - 1);
  if (v < -lim || v >= lim) throw textError(ctx, col, `${what}: ${raw} does not fit in signed ${bits} bits`);
  return v;
}

// ----- bytes -----------------------------------------------------------------------------------

export function fmtBytes(b: Uint8Array): string {
  if (b.length === 0) return '-';
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function parseBytes(raw: string, col: number, ctx: LineCtx, what: string): Uint8Array {
  if (raw === '-' || raw === '') return new Uint8Array(0);
  if (!/^([0-9a-fA-F]{2})+$/.test(raw)) throw textError(ctx, col, `${what}: expected hex bytes (two digits each), got ${JSON.stringify(raw)}`);
  const out = new Uint8Array(raw.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(raw.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Little-endian bytes -> value. */
export function leValue(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
}

/** Value -> `len` little-endian bytes (caller checked that it fits). */
export function leBytes(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

// ----- region places ---------------------------------------------------------------------------

export function regionName(region: number): string {
  if (region <= 5) return `bar${region}`;
  if (region === 6) return 'rom';
  if (region === 8) return 'vga';
  return `region${region}`;
}

/** `bar0+0x100`, `rom+0x0`, `vga+0x3c0`, `region9+0x0`. */
export function fmtPlace(region: number, offset: bigint): string {
  return `${regionName(region)}+${hex(offset)}`;
}

export function parsePlace(raw: string, col: number, ctx: LineCtx): { region: number; offset: bigint } {
  const m = /^(bar([0-5])|rom|vga|region([0-9]+))\+(.+)$/.exec(raw);
  if (m === null) throw textError(ctx, col, `expected a region place like bar0+0x10, rom+0x0, vga+0x3c0 or region9+0x0, got ${JSON.stringify(raw)}`);
  let region: number;
  if (m[2] !== undefined) region = Number(m[2]);
  else if (m[1] === 'rom') region = 6;
  else if (m[1] === 'vga') region = 8;
  else region = parseU32(m[3], col, ctx, 'region index');
  const offset = parseUnsigned(m[4], 64, col + m[1].length + 1, ctx, 'offset');
  return { region, offset };
}
