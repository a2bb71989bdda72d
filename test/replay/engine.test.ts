import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Replayer, RULE_NO_VMM } from '../../src/replay/engine.js';
import { replayFile, type ReplayObserver } from '../../src/replay/run.js';
import { selectVersions, unknownVersion } from '../../src/replay/select-versions.js';
import { loadTrace } from '../../src/trace/codec.js';
import { encodeTrace } from '../../src/trace/codec.js';
import type { TraceHeader } from '../../src/trace/types.js';
import { UserError } from '../../src/errors.js';

const seeds = fileURLToPath(new URL('../../traces/seeds/', import.meta.url));
const S004 = join(seeds, '004-mse-live-mappings/mse-live-mappings.pb');
const S002 = join(seeds, '002-guest-d3hot-mmio/guest-d3hot-mmio.pb');

const collect = (): ReplayObserver & { lines: string[] } => {
  const lines: string[] = [];
  return { lines, event: (line) => void lines.push(line) };
};

async function header(path: string): Promise<TraceHeader> {
  return (await loadTrace(path)).header;
}

describe('version selection', () => {
  test('flags win over the header', async () => {
    const h = await header(S002);
    expect(selectVersions(h, { kernel: 'linux-5.8', vmm: null }).selection).toEqual({ kernel: 'linux-5.8', vmm: null });
  });
  test('header: the kernel release maps to the nearest modeled release not newer, with a warning', async () => {
    const h = await header(S004);
    // 6.13.2 descends from mainline 6.13 (not modeled), so from linux-6.12 but from no 6.12.y point.
    const r = selectVersions({ ...h, kernelRelease: '6.13.2' }, {});
    expect(r.selection.kernel).toBe('linux-6.12');
    expect(r.warnings).toHaveLength(1);
    expect(selectVersions({ ...h, kernelRelease: '4.19.0' }, {}).selection.kernel).toBe('linux-5.7');
    expect(() => selectVersions({ ...h, kernelRelease: '' }, {})).toThrow(UserError);
  });
  test('header: VMM name + version map to the nearest modeled VMM version', async () => {
    const h = await header(S002);
    const vmm = (name: string, version: string) => selectVersions({ ...h, vmm: { ...h.vmm, name, version } }, {});
    expect(vmm('openvmm', '3336')).toEqual({ selection: { kernel: 'linux-6.19', vmm: 'openvmm-3336' }, warnings: [] }); // 6.19.0 is 6.19 itself
    expect(vmm('openvmm', '3700').selection.vmm).toBe('openvmm-3609');
    expect(vmm('qemu', '7.2.15').warnings.filter((w) => w.includes('qemu'))).toEqual([]);
    expect(vmm('qemu', '7.2.15').selection.vmm).toBe('qemu-7.2');
    expect(vmm('qemu', '9.1.0').selection.vmm).toBe('qemu-7.2');
    expect(vmm('qemu', '10.1.2').selection.vmm).toBe('qemu-10.0');
    expect(vmm('qemu', '6.2.0').selection.vmm).toBe('qemu-7.2');
    expect(vmm('cloud-hypervisor', '45.0').selection.vmm).toBe('cloud-hypervisor');
    expect(vmm('', '').selection.vmm).toBeNull();
    expect(vmm('crosvm', '1').selection.vmm).toBeNull();
  });
  test('vmm.version.required: a QEMU without a version is refused, never replayed as the newest model', async () => {
    const h = await header(S002);
    const vmm = (version: string) => () => selectVersions({ ...h, vmm: { ...h.vmm, name: 'qemu', version } }, {});
    expect(vmm('')).toThrow(/names no version for qemu.*qemu-7\.2, qemu-10\.0.*--vmm ID, or re-import with --vmm-version/);
    expect(vmm('git-HEAD')).toThrow(/"git-HEAD", which is not a number/);
    expect(selectVersions({ ...h, vmm: { ...h.vmm, name: 'qemu', version: '' } }, { vmm: 'qemu-7.2' }).selection.vmm).toBe('qemu-7.2');
  });
  test('unknown ids are reported, not thrown, for check', () => {
    expect(unknownVersion({ kernel: 'linux-5.8', vmm: null })).toBeNull();
    expect(unknownVersion({ kernel: 'linux-9.9', vmm: null })).toMatch(/linux-9\.9/);
    expect(unknownVersion({ kernel: 'linux-5.8', vmm: 'qemu-1.0' })).toMatch(/qemu-1\.0/);
  });
});

describe('the engine', () => {
  test('guest events without a VMM are unsupported, never a throw', async () => {
    const t = await loadTrace(S002);
    const r = new Replayer(t.header, { kernel: 'linux-6.19', vmm: null });
    const s = r.apply(t.events[0]);
    expect(s.outcome.kind).toBe('unsupported');
    expect(s.rule).toBe(RULE_NO_VMM);
  });
  test('same trace + same versions = identical logs (pure models)', async () => {
    const a = collect();
    const b = collect();
    await replayFile(S004, { kernel: 'linux-5.8' }, a);
    await replayFile(S004, { kernel: 'linux-5.8' }, b);
    expect(a.lines).toEqual(b.lines);
    expect(a.lines).toHaveLength(17);
  });
  test('summary: first divergence with K lines of context and the last state change', async () => {
    const o = collect();
    const s = await replayFile(S002, { kernel: 'linux-6.19', vmm: 'openvmm-3609', context: 2 }, o);
    expect(s.divergences).toBe(1);
    expect(s.first?.index).toBe(4);
    expect(s.first?.context).toEqual(o.lines.slice(2, 4));
    expect(s.first?.line).toBe(o.lines[4]);
    expect(s.first?.lastChange).toBe(o.lines[3]);
    expect(s.guest).toBe(9);
  });
  test('context 0 keeps nothing', async () => {
    const s = await replayFile(S002, { kernel: 'linux-6.19', vmm: 'openvmm-3609', context: 0 }, collect());
    expect(s.first?.context).toEqual([]);
  });
  test('a concatenated trace resets the models at its second header', async () => {
    const t = await loadTrace(S004);
    const one = encodeTrace(t);
    const both = Buffer.concat([one, one]);
    const p = join(mkdtempSync(join(tmpdir(), 'vfio-cat-')), 'twice.pb');
    writeFileSync(p, both);
    const starts: number[] = [];
    const o = { ...collect(), start: (x: { headerNumber: number }) => void starts.push(x.headerNumber) };
    const s = await replayFile(p, { kernel: 'linux-5.8' }, o);
    expect(starts).toEqual([1, 2]);
    expect(s.events).toBe(34);
    // The second half replays like the first: a fresh device, not one left closed by the first half.
    expect(o.lines.slice(17).map((l) => l.slice(5))).toEqual(o.lines.slice(0, 17).map((l) => l.slice(5)));
  });
});
