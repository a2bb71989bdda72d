// A VMM model over the real kernel model (linux-6.19 unless told), fed guest/host events in order.
import { createKernelModel } from '../../../src/model/kernel/index.js';
import { createVmmModel } from '../../../src/model/vmm/index.js';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';
import { renderEffect, renderOutcome } from '../../../src/model/outcome.js';
import type { Step } from '../../../src/model/outcome.js';
import type { Accelerator, DeviceSnapshot, EventMeta, GuestEvent, HostEvent } from '../../../src/trace/types.js';

/** e1000e without its I/O BAR: OpenVMM refuses PIO BARs, and the scenarios compare all VMMs on one device. */
export function memOnlyE1000e(): DeviceSnapshot {
  const d = e1000eSnapshot();
  return { ...d, bars: d.bars.filter((b) => b.kind === 'mem') };
}

export const BAR0_GPA = 0xfe000000n;
export const PMCSR = 0xcc; // e1000e PM cap at 0xc8

export const cfgW = (offset: number, len: number, value: number | bigint): GuestEvent => ({
  kind: 'guest-cfg-write',
  offset,
  len,
  value: BigInt(value),
});
export const cfgR = (offset: number, len: number): GuestEvent => ({ kind: 'guest-cfg-read', offset, len });
export const mmioR = (gpa: bigint, len = 4): GuestEvent => ({ kind: 'guest-mmio-read', gpa, len });
export const mmioW = (gpa: bigint, value: bigint, len = 4): GuestEvent => ({ kind: 'guest-mmio-write', gpa, len, value });

export interface Rig {
  guest(ev: GuestEvent): Step;
  host(ev: HostEvent): Step;
  readonly vmm: ReturnType<typeof createVmmModel>;
  readonly kernel: ReturnType<typeof createKernelModel>;
}

export function rig(versionId: string, opts: { accel?: Accelerator; device?: DeviceSnapshot; kernel?: string; options?: string[] } = {}): Rig {
  const device = opts.device ?? memOnlyE1000e();
  const kernel = createKernelModel(device, opts.kernel ?? 'linux-6.19');
  const vmm = createVmmModel(kernel, device, versionId, opts.accel ?? 'kvm', opts.options ?? []);
  let seq = 0n;
  const meta = (): EventMeta => ({ seq: seq++, tsNs: 0n, tid: 1, overlap: 0 });
  return {
    vmm,
    kernel,
    guest: (ev) => vmm.guest(ev, meta()),
    host: (ev) => vmm.host(ev, meta()),
  };
}

/** Guest programs BAR0 and turns on memory decoding (and bus mastering). */
export function bootBar0(r: Rig): void {
  r.guest(cfgW(0x10, 4, BAR0_GPA));
  r.guest(cfgW(0x04, 2, 0x0006));
}

export const effects = (s: Step): string[] => s.effects.map(renderEffect);
export const forwards = (s: Step): string[] => s.effects.filter((e) => e.kind === 'forward').map(renderEffect);
export const show = (s: Step): string => `${renderOutcome(s.outcome)} [${s.rule}] ${effects(s).join(' ')}`;
