// The generated scenario sets of the lab's SR-IOV devices and of a BAR shared by registers and the
// MSI-X table (src/lab/device-scenarios.ts), built from the committed survey snapshots, and what
// the model predicts for them (the lab's runs are in traces/lab/<kernel>/<device>/).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceScenarios } from '../../src/lab/device-scenarios.js';
import { toOpScript } from '../../src/lab/op-script.js';
import { parseText } from '../../src/trace/text-parse.js';
import { VfioPciKernelModel } from '../../src/model/kernel/index.js';
import type { DeviceSnapshot, TraceEvent } from '../../src/trace/types.js';

const repo = join(import.meta.dirname, '../..');
const HEAD = 'vfio-trace 1\nsource hand-written\nkernel -\nvmm - - unknown\ntracer -\ntitle "device"\n';

function device(name: string): DeviceSnapshot {
  const f = join(repo, 'traces/devices', `${name}.txt`);
  return parseText(HEAD + readFileSync(f, 'utf8'), f).header.device;
}

function rules(dev: DeviceSnapshot, events: TraceEvent[], version = 'linux-6.12'): string[] {
  const m = new VfioPciKernelModel(dev, version);
  return events.map((e) => (e.kind.startsWith('guest-') ? 'guest' : m.host(e as never, e).rule));
}

describe('SR-IOV and layout scenarios', () => {
  it('the PF gets sriov-pf, the VF sriov-vf, nvme msix-layout; the others do not', () => {
    const names = (n: string) => deviceScenarios(device(n), n).map((s) => s.name);
    expect(names('igb')).toEqual(['probe', 'pm-mse', 'reset-reopen', 'edges', 'sriov-pf']);
    expect(names('igb-vf')).toEqual(['probe', 'pm-mse', 'reset-reopen', 'edges', 'sriov-vf']);
    expect(names('nvme')).toEqual(['probe', 'pm-mse', 'reset-reopen', 'edges', 'msix-layout']);
    expect(names('virtio-net-pci')).not.toContain('msix-layout'); // MSI-X has BAR1 to itself
  });

  it("every open of a VF scenario carries the PF's token, except sriov-vf's refused ones", () => {
    for (const s of deviceScenarios(device('igb-vf'), 'igb-vf')) {
      const opens = s.trace.events.filter((e) => e.kind === 'open').map((e) => (e.kind === 'open' ? (e.vfToken ?? '-') : ''));
      if (s.name === 'sriov-vf') expect(opens).toEqual(['-', '0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b', '00000000-0000-0000-0000-000000000000']);
      else expect(opens.every((t) => t === '00000000-0000-0000-0000-000000000000')).toBe(true);
      // The runner gets the token on its open line.
      expect(toOpScript(s.trace).text).toMatch(/ open 00000000-0000-0000-0000-000000000000\n/);
    }
  });

  it('the model walks sriov-pf through enable, busy, the power guard and disable', () => {
    const pf = device('igb');
    const s = deviceScenarios(pf, 'igb').find((x) => x.name === 'sriov-pf')!;
    const r = rules(pf, s.trace.events);
    expect(r.slice(0, 5)).toEqual(['open.vf-token.pf-sets-token', 'sriov.feature.vf-token-get-einval', 'sriov.feature.vf-token-probe', 'sriov.feature.vf-token-short', 'sriov.feature.vf-token-set']);
    for (const rule of ['sriov.numvfs.enable', 'sriov.pf.low-power-busy', 'sriov.numvfs.already-enabled', 'sriov.numvfs.unchanged', 'sriov.numvfs.disable', 'sriov.numvfs.enable-pf-to-d0'])
      expect(r).toContain(rule);
  });

  it('msix-layout reads the MSI-X table as 0xff through pread and drops the pwrite', () => {
    const nvme = device('nvme');
    const s = deviceScenarios(nvme, 'nvme').find((x) => x.name === 'msix-layout')!;
    const r = rules(nvme, s.trace.events);
    expect(r).toContain('core.region-info.msix-mappable');
    expect(r).toContain('rdwr.bar.msix-table-reads-ff');
    expect(r).toContain('rdwr.bar.msix-table-write-dropped');
    expect(r).toContain('ioeventfd.msix-table');
  });
});
