// Every hand-written text twin in the corpus and its committed .pb must say the same thing: the
// goldens are made from the .pb, reviewers read the .txt.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { encodeTrace, loadTrace } from '../../src/trace/codec.js';

const root = fileURLToPath(new URL('../../traces/seeds', import.meta.url));

function twins(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...twins(p));
    else if (e.name.endsWith('.txt')) out.push(p);
  }
  return out.sort();
}

describe('seed text twins match their .pb', () => {
  for (const txt of twins(root)) {
    test(txt.slice(root.length + 1), async () => {
      const pb = txt.replace(/\.txt$/, '.pb');
      expect(existsSync(pb), `${pb} missing: run vfio-replay encode ${txt} -o ${pb}`).toBe(true);
      const encoded = encodeTrace(await loadTrace(txt));
      expect(Buffer.from(encoded).equals(readFileSync(pb)), `${pb} is stale: run vfio-replay encode ${txt} -o ${pb}`).toBe(true);
    });
  }
});
