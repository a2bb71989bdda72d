// The lab differential judges the kernel model by replay's own comparison: outcomes, and the bits
// of returned bytes the model owns. Bits a config read passes through are the device's (a note).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { disagreements, signature } from '../../src/lab/random/differential.js';
import { parseText } from '../../src/trace/text-parse.js';

const found = join(import.meta.dirname, '..', '..', 'traces', 'lab', 'found', '6.12', 'config-read.txt');
const text = readFileSync(found, 'utf8');

describe('lab differential: config read data', () => {
  test('a pass-through byte the device kept (its vendor capability dropped the write) is no disagreement', () => {
    // Real run (virtio-net-pci, 6.12.117): cfg-write 0x44 0x0003 passes through vfio-pci, QEMU's
    // virtio capability is read-only, the read-back shows 04.
    expect(disagreements(parseText(text, found), 'linux-6.12')).toEqual([]);
  });
  test('a virtualized byte that differs is still a data disagreement', () => {
    // BAR1 (0x14) is vfio-pci's vconfig: the model owns every bit of it.
    const edited = `${text.trimEnd()}\n3 cfg-read 0x14 len=4 => ret=4 data=00000000\n`;
    const ds = disagreements(parseText(edited, found), 'linux-6.12');
    expect(ds.map((d) => d.index)).toEqual([3]);
  });
  test('a finding\'s signature keeps the rule, the event kind and the outcome kinds, not the values', () => {
    const d = { index: 4, event: 'dmabuf 0 close', rule: 'dmabuf.importer.unknown-fd', predicted: '{"kind":"errno","errno":"EBADF"}', observed: 'ret=0', what: 'outcome' as const };
    expect(signature(d)).toBe('outcome dmabuf.importer.unknown-fd dmabuf: errno EBADF vs ret=');
  });
});
