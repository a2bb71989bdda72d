// Header.module_params (13) and Header.kernel_cmdline (14), added after format 1 shipped: the text
// twin's `module-params` / `kernel-cmdline` lines, the binary round trip, and absence when empty
// (every trace written before them encodes byte for byte as before).
import { describe, expect, it } from 'vitest';
import { decodeTrace, encodeHeaderPacket, encodeTrace } from '../../src/trace/codec.js';
import { parseText } from '../../src/trace/text-parse.js';
import { printText } from '../../src/trace/text-print.js';

const trace = (...lines: string[]) => parseText(['vfio-trace 1', 'kernel 6.1.0-57-amd64', ...lines, 'open', ''].join('\n'), 't.txt');

describe('module-params / kernel-cmdline header lines', () => {
  it('parse one word each, print after `kernel` in that order, and reparse to the same text', () => {
    const t = trace('module-params vfio_pci.disable_idle_d3=Y vfio_pci.nointxmask=N', 'kernel-cmdline iommu=pt "root=UUID=a b" quiet');
    expect(t.header.moduleParams).toEqual(['vfio_pci.disable_idle_d3=Y', 'vfio_pci.nointxmask=N']);
    expect(t.header.kernelCmdline).toEqual(['iommu=pt', 'root=UUID=a b', 'quiet']);
    const text = printText(t);
    expect(text).toContain('kernel 6.1.0-57-amd64\nkernel-cmdline iommu=pt "root=UUID=a b" quiet\nmodule-params vfio_pci.disable_idle_d3=Y vfio_pci.nointxmask=N\nvmm ');
    expect(printText(parseText(text, 'again.txt'))).toBe(text);
  });
  it('round-trip through the binary form', () => {
    const t = trace('module-params vfio_pci.disable_idle_d3=Y', 'kernel-cmdline iommu=pt');
    expect(decodeTrace(encodeTrace(t), 't.pb')).toEqual(t);
  });
  it('are absent when not recorded: no line, no bytes', () => {
    const t = trace();
    expect(t.header.moduleParams).toBeUndefined();
    expect(printText(t)).not.toMatch(/module-params|kernel-cmdline/);
    const withEmpty = encodeHeaderPacket({ ...t.header, moduleParams: [], kernelCmdline: [] });
    expect(Buffer.from(withEmpty).equals(Buffer.from(encodeHeaderPacket(t.header)))).toBe(true);
    expect(decodeTrace(encodeTrace(t), 't.pb').header.moduleParams).toBeUndefined();
  });
  it('an empty line or a second line is an error at line:column', () => {
    expect(() => trace('module-params')).toThrowError(/t\.txt:3:14: module-params: expected at least one word/);
    expect(() => trace('kernel-cmdline a', 'kernel-cmdline b')).toThrowError(/t\.txt:4:1: kernel-cmdline given twice/);
  });
});
