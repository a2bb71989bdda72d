// Property: a damaged trace (truncated, bytes flipped, two files spliced; text lines mangled)
// either still reads or fails ONLY with a UserError that says where (byte offset, or line and
// column), never with an internal exception.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../src/errors.js';
import { decodeTrace } from '../../src/trace/codec.js';
import { readPackets } from '../../src/trace/reader.js';
import { parseText } from '../../src/trace/text-parse.js';

const dir = join(import.meta.dirname, '../../traces/examples');
const pbs = readdirSync(dir).filter((f) => f.endsWith('.pb')).map((f) => new Uint8Array(readFileSync(join(dir, f))));
const txts = readdirSync(dir).filter((f) => f.endsWith('.txt')).map((f) => readFileSync(join(dir, f), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'vfio-mutation-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Mutation =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; flips: { at: number; xor: number }[] }
  | { op: 'splice'; other: number; cutA: number; cutB: number }
  | { op: 'insert'; at: number; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('flip' as const), flips: fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constant('splice' as const), other: fc.nat(), cutA: fc.nat(), cutB: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

function apply(src: Uint8Array, m: Mutation): Uint8Array {
  switch (m.op) {
    case 'truncate':
      return src.slice(0, m.at % src.length);
    case 'flip': {
      const out = src.slice();
      for (const f of m.flips) out[f.at % out.length] ^= f.xor;
      return out;
    }
    case 'splice': {
      const other = pbs[m.other % pbs.length];
      return Buffer.concat([src.subarray(0, m.cutA % src.length), other.subarray(m.cutB % other.length)]);
    }
    case 'insert': {
      const at = m.at % src.length;
      return Buffer.concat([src.subarray(0, at), m.bytes, src.subarray(at)]);
    }
  }
}

function expectLocatedBinary(err: unknown, file: string): void {
  if (!(err instanceof UserError)) throw err;
  expect(err.location.file).toBe(file);
  expect(typeof err.location.offset).toBe('number');
  expect(err.message.split('\n')).toHaveLength(1);
}

describe('damaged binary traces', { timeout: 60_000 }, () => {
  it('decodeTrace succeeds or throws a located UserError', () => {
    fc.assert(
      fc.property(fc.nat(), mutation, (which, m) => {
        const bytes = apply(pbs[which % pbs.length], m);
        try {
          decodeTrace(bytes, 'm.pb');
        } catch (err) {
          expectLocatedBinary(err, 'm.pb');
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('the streaming reader agrees with decodeTrace on damaged files', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), mutation, async (which, m) => {
        const bytes = apply(pbs[which % pbs.length], m);
        const file = join(tmp, 'm.pb');
        writeFileSync(file, bytes);
        let streamed: string;
        try {
          let n = 0;
          for await (const p of readPackets(file)) if (p.type === 'event') n++;
          streamed = `ok ${n}`;
        } catch (err) {
          expectLocatedBinary(err, file);
          streamed = `error at ${(err as UserError).location.offset}`;
        }
        let whole: string;
        try {
          const t = decodeTrace(bytes, file);
          whole = `ok ${t.events.length}`;
        } catch (err) {
          expectLocatedBinary(err, file);
          // decodeTrace additionally requires a header first; the stream does not.
          const msg = (err as UserError).message;
          whole = /header packet/.test(msg) ? streamed : `error at ${(err as UserError).location.offset}`;
        }
        expect(streamed).toBe(whole);
      }),
      { numRuns: 150 },
    );
  });
});

type TextMutation = { line: number; op: 'delete' | 'insert' | 'duplicate' | 'swap'; at: number; ch: string };

const textMutation: fc.Arbitrary<TextMutation> = fc.record({
  line: fc.nat(),
  op: fc.constantFrom('delete' as const, 'insert' as const, 'duplicate' as const, 'swap' as const),
  at: fc.nat(),
  ch: fc.constantFrom(' ', '=', '"', '#', 'x', '0', '-', ',', ':', '+', '>', 'é', '\t'),
});

function mutateText(text: string, m: TextMutation): string {
  const lines = text.split('\n');
  const i = m.line % lines.length;
  const l = lines[i];
  const at = l.length === 0 ? 0 : m.at % l.length;
  const words = l.split(' ');
  switch (m.op) {
    case 'delete':
      lines[i] = l.slice(0, at) + l.slice(at + 1);
      break;
    case 'insert':
      lines[i] = l.slice(0, at) + m.ch + l.slice(at);
      break;
    case 'duplicate': {
      const w = m.at % words.length;
      words.splice(w, 0, words[w]);
      lines[i] = words.join(' ');
      break;
    }
    case 'swap': {
      const w = m.at % words.length;
      const v = (w + 1) % words.length;
      [words[w], words[v]] = [words[v], words[w]];
      lines[i] = words.join(' ');
      break;
    }
  }
  return lines.join('\n');
}

describe('damaged text traces', { timeout: 60_000 }, () => {
  it('parseText succeeds or throws a UserError at line:column', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(textMutation, { minLength: 1, maxLength: 3 }), (which, ms) => {
        let text = txts[which % txts.length];
        for (const m of ms) text = mutateText(text, m);
        try {
          parseText(text, 'm.txt');
        } catch (err) {
          if (!(err instanceof UserError)) throw err;
          expect(err.location.file).toBe('m.txt');
          expect(err.location.line).toBeGreaterThanOrEqual(1);
          expect(err.location.column).toBeGreaterThanOrEqual(1);
          expect(err.message).toMatch(/^m\.txt:\d+:\d+: [^\n]+$/);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
