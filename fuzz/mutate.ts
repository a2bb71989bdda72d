// Seeded mutators for the fuzz campaign: a small PRNG (the same seed gives the same inputs on any
// machine) and byte- and line-level mutations aimed at what the parsers check: numbers at and past
// their ranges, varints, truncation, line breaks, quotes and escapes.

/** mulberry32: a 32-bit PRNG, enough for choosing mutations reproducibly. */
export class Rng {
  constructor(private s: number) {}
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
}

/** Numbers at the edges of every width the formats use, in the spellings the parsers accept. */
const EDGE_NUMBERS = [
  '0', '1', '-1', '7', '8', '9', '255', '256', '4095', '4096', '4097', '65535', '65536', '2147483647', '2147483648',
  '4294967295', '4294967296', '9007199254740993', '9223372036854775807', '9223372036854775808', '18446744073709551615',
  '18446744073709551616', '340282366920938463463374607431768211456', '0x0', '0xffffffff', '0x100000000', '0xffffffffffffffff',
  '0x10000000000000000', '-4096', '-9223372036854775809', '1e9', '0x', '00', '',
];

const EDGE_TOKENS = ['\r', '\t', '"', '\\', '\\ud800', '"\\ud800"', '\u0000', '#', '=>', '=', '...', '<unfinished ...>', '\u00ff', '\u{1F600}', ' '];

/** One byte-level mutation of a binary input. */
export function mutateBytes(rng: Rng, input: Uint8Array, donor: Uint8Array): Uint8Array {
  const b = Uint8Array.from(input);
  const at = b.length === 0 ? 0 : rng.int(b.length);
  switch (rng.int(9)) {
    case 0: // flip a bit
      if (b.length > 0) b[at] ^= 1 << rng.int(8);
      return b;
    case 1: // an interesting byte
      if (b.length > 0) b[at] = rng.pick([0x00, 0x01, 0x0a, 0x7f, 0x80, 0xff, 0xfe, 0x08, 0x10, 0x12]);
      return b;
    case 2: // truncate
      return b.subarray(0, at);
    case 3: { // delete a run
      const n = 1 + rng.int(16);
      return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + n)));
    }
    case 4: { // insert random bytes
      const ins = Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256));
      return concat(b.subarray(0, at), ins, b.subarray(at));
    }
    case 5: { // a maximal varint (10 bytes) or an overlong one
      const v = rng.pick([[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0xff, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], [0x80, 0x80, 0x80, 0x80, 0x08]]);
      return concat(b.subarray(0, at), Uint8Array.from(v), b.subarray(at + 1));
    }
    case 6: { // splice in a slice of another input (a packet of another trace)
      const s = donor.length === 0 ? 0 : rng.int(donor.length);
      return concat(b.subarray(0, at), donor.subarray(s, s + 1 + rng.int(64)), b.subarray(at));
    }
    case 7: { // duplicate a run (repeated fields, repeated packets)
      const n = 1 + rng.int(32);
      return concat(b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n));
    }
    default: // several small ones
      return mutateBytes(rng, mutateBytes(rng, b, donor), donor);
  }
}

/** One line-level mutation of a text input (text twin, strace log, QEMU log). */
export function mutateText(rng: Rng, input: string, donor: string): string {
  const lines = input.split('\n');
  const i = rng.int(lines.length);
  const line = lines[i];
  switch (rng.int(8)) {
    case 0: { // a number replaced by an edge value
      const nums = [...line.matchAll(/-?(?:0x[0-9a-fA-F]+|\d+)/g)];
      if (nums.length === 0) return mutateText(rng, input, donor);
      const m = rng.pick(nums);
      lines[i] = line.slice(0, m.index) + rng.pick(EDGE_NUMBERS) + line.slice(m.index! + m[0].length);
      break;
    }
    case 1: { // an edge token inserted
      const at = rng.int(line.length + 1);
      lines[i] = line.slice(0, at) + rng.pick(EDGE_TOKENS) + line.slice(at);
      break;
    }
    case 2: // line deleted
      lines.splice(i, 1);
      break;
    case 3: // line duplicated
      lines.splice(i, 0, line);
      break;
    case 4: { // a line of another input
      const d = donor.split('\n');
      lines.splice(i, 0, d[rng.int(d.length)]);
      break;
    }
    case 5: // line cut short
      lines[i] = line.slice(0, rng.int(line.length + 1));
      break;
    case 6: { // a word dropped or doubled
      const w = line.split(' ');
      const k = rng.int(w.length);
      if (rng.int(2) === 0) w.splice(k, 1);
      else w.splice(k, 0, w[k]);
      lines[i] = w.join(' ');
      break;
    }
    default:
      return mutateText(rng, mutateText(rng, input, donor), donor);
  }
  return lines.join('\n');
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
