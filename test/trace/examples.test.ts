// The committed example traces: their .pb files are exactly what `encode` makes of the .txt, both
// round trips hold byte for byte, and together they use every event kind and ioctl op.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTrace, encodeTrace, loadTrace } from '../../src/trace/codec.js';
import { parseText } from '../../src/trace/text-parse.js';
import { printText } from '../../src/trace/text-print.js';
import { eventKinds, iommufdOps, ioctlOps } from '../../src/trace/convert.js';

const dir = join(import.meta.dirname, '../../traces/examples');
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => f.slice(0, -4));

describe('traces/examples', () => {
  it('has at least three examples', () => {
    expect(names.length).toBeGreaterThanOrEqual(3);
  });

  for (const name of names) {
    const txtPath = join(dir, `${name}.txt`);
    const pbPath = join(dir, `${name}.pb`);
    it(`${name}: the committed .pb is the encoding of the .txt`, () => {
      const pb = readFileSync(pbPath);
      expect(Buffer.from(encodeTrace(parseText(readFileSync(txtPath, 'utf8'), txtPath))).equals(pb)).toBe(true);
    });
    it(`${name}: pb -> text -> pb is byte-identical`, () => {
      const pb = readFileSync(pbPath);
      const text = printText(decodeTrace(pb, pbPath));
      expect(Buffer.from(encodeTrace(parseText(text, 'dump.txt'))).equals(pb)).toBe(true);
    });
    it(`${name}: canonical text -> pb -> text is the identity`, () => {
      const canonical = printText(parseText(readFileSync(txtPath, 'utf8'), txtPath));
      expect(printText(decodeTrace(encodeTrace(parseText(canonical, 'c.txt')), 'c.pb'))).toBe(canonical);
    });
    it(`${name}: loadTrace reads both forms alike`, async () => {
      expect(await loadTrace(pbPath)).toEqual(await loadTrace(txtPath));
    });
  }

  it('together use every event kind, every ioctl op and every iommufd op', () => {
    const kinds = new Set<string>();
    const ops = new Set<string>();
    const iommufd = new Set<string>();
    for (const name of names) {
      for (const e of decodeTrace(readFileSync(join(dir, `${name}.pb`)), name).events) {
        kinds.add(e.kind);
        if (e.kind === 'ioctl') ops.add(e.op);
        if (e.kind === 'iommufd') iommufd.add(e.op);
      }
    }
    expect([...kinds].sort()).toEqual(eventKinds().sort());
    expect([...ops].sort()).toEqual(ioctlOps().sort());
    expect([...iommufd].sort()).toEqual(iommufdOps().sort());
  });

  it('the e1000e device block has a correct capability chain', () => {
    const text = `vfio-trace 1\n${readFileSync(join(dir, '../devices/e1000e.txt'), 'utf8')}`;
    const d = parseText(text, 'e1000e.txt').header.device;
    expect(d.config.length).toBe(256);
    expect(d.config[0x06] & 0x10).toBe(0x10); // STATUS.CAP_LIST
    const chain: number[] = [];
    for (let p = d.config[0x34]; p !== 0; p = d.config[p + 1]) chain.push(d.config[p]);
    expect(chain).toEqual([0x01, 0x05, 0x10, 0x11]); // PM, MSI, PCIe, MSI-X
    expect(d.resetMethods).toEqual(['pm']);
  });
});
