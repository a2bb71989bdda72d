// The lab's D3cold platform (topology root-d3cold): the SSDT that gives the e1000e ACPI power
// resources compiles with iasl, holds what Linux needs to see a device it can power off
// (a PowerResource, _PR0 and _PR3 on the function's ACPI companion), and the topology adds it to
// QEMU's arguments and `quirks d3cold=wakes` to the trace header.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { needsTool } from '../helpers/needs-tool.js';
// @ts-expect-error -- plain ESM modules of the lab runner, without types
import { buildAcpiTable } from '../../lab/lib/acpi.mjs';
// @ts-expect-error -- plain ESM modules of the lab runner, without types
import { topologyArgs, topologyQuirks, TOPOLOGIES } from '../../lab/lib/qemu.mjs';

const LAB = join(import.meta.dirname, '../../lab');

describe('root-d3cold topology', () => {
  it('passes the SSDT to QEMU on the root bus; the header gets d3cold=wakes; other topologies get neither', () => {
    const args = topologyArgs('root-d3cold', undefined, 'amd64', { ssdt: '/x/d3cold-ssdt.aml' }) as string[];
    expect(args).toContain('e1000e,bus=pcie.0,addr=0x3');
    expect(args.slice(-2)).toEqual(['-acpitable', 'file=/x/d3cold-ssdt.aml']);
    expect(topologyArgs('root') as string[]).not.toContain('-acpitable');
    expect(Object.keys(TOPOLOGIES)).toContain('root-d3cold');
    expect(topologyQuirks('root-d3cold')).toEqual({ d3cold: 'wakes' });
    expect(topologyQuirks('root-port')).toEqual({});
  });

  it.runIf(needsTool('iasl'))('the SSDT compiles; its AML has a PowerResource and _PR0/_PR3 for \\_SB.PCI0.S18', () => {
    const aml = readFileSync(buildAcpiTable(LAB, mkdtempSync(join(tmpdir(), 'acpi-')), 'd3cold-ssdt') as string);
    expect(aml.subarray(0, 4).toString('latin1')).toBe('SSDT');
    expect(aml.includes(Buffer.from([0x5b, 0x84]))).toBe(true); // PowerResourceOp
    for (const name of ['PRD3', '_PR0', '_PR3', 'S18_', '_OFF', '_ON_']) expect(aml.includes(Buffer.from(name, 'latin1'))).toBe(true);
  });
});
