// The replay's buffered line writer (output.ts) gathers lines into batches before encoding them:
// whatever the lines and wherever the flushes fall, the bytes written are the lines, each followed
// by a newline, in order, UTF-8 encoded.
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { LineWriter } from '../../src/replay/output.js';
import { hexBytes } from '../../src/trace/hex-bytes.js';

class Collect extends Writable {
  parts: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.parts.push(Buffer.from(chunk));
    done();
  }
}

describe('LineWriter', () => {
  test('writes every line and a newline, in order, across batches and flushes', async () => {
    const line = fc.string({ unit: fc.constantFrom('a', '#', ' ', 'é', '€', '😀'), maxLength: 300 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(line, fc.boolean()), { maxLength: 700 }), async (xs) => {
        const sink = new Collect();
        const w = new LineWriter(sink);
        for (const [l, flush] of xs) {
          w.line(l);
          if (flush) await w.flush();
        }
        await w.flush();
        expect(Buffer.concat(sink.parts).toString('utf8')).toBe(xs.map(([l]) => l + '\n').join(''));
      }),
      { numRuns: 200 },
    );
  }, 60_000);
});

describe('hexBytes', () => {
  test("is Buffer#toString('hex'), short and long", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(8), (b, skip) => {
        const view = b.subarray(Math.min(skip, b.length));
        expect(hexBytes(view)).toBe(Buffer.from(view).toString('hex'));
      }),
      { numRuns: 2000 },
    );
  }, 60_000);
});
