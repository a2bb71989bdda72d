// Catalog bug sme-encrypted-bar-pte (7b06a56d468b): the host trait `mem_encrypt=on` on the kernel
// command line, and one test per rule it decides, named after the rule.
import { describe, expect, it } from 'vitest';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';
import { VfioPciKernelModel } from '../../../src/model/kernel/index.js';
import { resolveHostConfig, type HostLists } from '../../../src/model/kernel/host-config.js';
import { findKernelVersion } from '../../../src/model/versions/kernel.js';
import { BAR0_ADDR, cfgw, expectStep, ok, run } from './helpers.js';

const SME: HostLists = { kernelCmdline: ['quiet', 'mem_encrypt=on'] };

function mapped(version: string, host: HostLists): VfioPciKernelModel {
  const m = new VfioPciKernelModel(e1000eSnapshot(), version, host);
  run(m, { kind: 'open' });
  run(m, cfgw(0x04, 0x0006));
  run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr: BAR0_ADDR });
  return m;
}
const read8 = { kind: 'mem-read', bar: 0, offset: 0x8n, len: 4 } as const;
const hazard = { kind: 'hazard', reason: 'SME: the BAR PTE is encrypted (remap_pfn_range without pgprot_decrypted)' } as const;

describe('sme-encrypted-bar-pte', () => {
  it('mem_encrypt=on is read from the command line; off or absent is no SME', () => {
    expect(resolveHostConfig(SME).memEncrypt).toBe(true);
    expect(resolveHostConfig({ kernelCmdline: ['mem_encrypt=off'] }).memEncrypt).toBe(false);
    expect(resolveHostConfig(undefined).memEncrypt).toBe(false);
  });
  it('is in 5.8 .. 5.10.3 and fixed in 5.10.4 and 5.11+', () => {
    expect(['linux-5.7', 'linux-5.8', 'linux-5.10', 'linux-5.10.3', 'linux-5.10.4', 'linux-5.14'].map((v) => findKernelVersion(v)!.switches.bugSmeEncryptedBarPte)).toEqual([
      false, true, true, true, false, false,
    ]);
  });
  it('fault.populated-encrypted-pte', () => expectStep(run(mapped('linux-5.10.3', SME), read8), hazard, 'fault.populated-encrypted-pte'));
  it('mem.encrypted-pte', () => {
    const m = mapped('linux-5.10.3', SME);
    run(m, read8);
    expectStep(run(m, read8), hazard, 'mem.encrypted-pte');
  });
  it('fixed versions, and hosts without SME, map the BAR decrypted', () => {
    expectStep(run(mapped('linux-5.10.4', SME), read8), ok, 'fault.populate');
    expectStep(run(mapped('linux-5.10.3', {}), read8), ok, 'fault.populate');
  });
});
