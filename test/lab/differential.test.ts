// The lab differential judges the kernel model as replay does: outcomes, and the bytes the model
// owns. Bits a config read passes through from the function are the device's (a device note).
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
    // BAR1 (0x14) is vfio-pci's vconfig: the model owns every bit of it (replay's own
    // comparison, compareObserved, catches it first).
    const edited = `${text.trimEnd()}\n3 cfg-read 0x14 len=4 => ret=4 data=00000000\n`;
    const ds = disagreements(parseText(edited, found), 'linux-6.12');
    expect(ds.map((d) => d.index)).toEqual([3]);
  });
  test('a data finding\'s signature keeps the words and drops the values', () => {
    const d = { index: 2, event: 'cfg-read 0x44 len=1', rule: 'config.read', predicted: 'data=03', observed: 'data=04', what: 'data' as const };
    expect(signature(d)).toBe('data config.read cfg-read: data=# vs data=');
  });
});
