// Shared helpers for the kernel-model tests: build a model on the e1000e-like device, feed events.
import type { EventMeta, HostEvent } from '../../../src/trace/types.js';
import { e1000eSnapshot, type E1000eOverrides } from '../../../src/model/devices/e1000e.js';
import { VfioPciKernelModel } from '../../../src/model/kernel/index.js';
import type { Step } from '../../../src/model/outcome.js';
import { leBytes } from '../../../src/model/pci/config-image.js';

let seq = 0n;
export function meta(m: Partial<EventMeta> = {}): EventMeta {
  seq += 1n;
  return { seq, tsNs: 0n, tid: 1, overlap: 0, ...m };
}

export function model(version: string, dev: E1000eOverrides = {}): VfioPciKernelModel {
  return new VfioPciKernelModel(e1000eSnapshot(dev), version);
}

export function run(m: VfioPciKernelModel, ev: HostEvent, mm: Partial<EventMeta> = {}): Step {
  return m.host(ev, meta(mm));
}

export const BAR0_ADDR = 0x7f0000000000n;
export const BAR3_ADDR = 0x7f0000100000n;

export function cfgw(offset: number, value: number, len = 2): HostEvent {
  return { kind: 'cfg-write', offset, data: leBytes(BigInt(value), len) };
}

export function cfgr(offset: number, len: number): HostEvent {
  return { kind: 'cfg-read', offset, len };
}

/** Open, enable memory + bus master, mmap BAR0 (and BAR3), touch BAR0 so its PTEs are live. */
export function openMapped(version: string, dev: E1000eOverrides = {}): VfioPciKernelModel {
  const m = model(version, dev);
  run(m, { kind: 'open' });
  run(m, cfgw(0x04, 0x0006));
  run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr: BAR0_ADDR });
  run(m, { kind: 'mem-read', bar: 0, offset: 0x8n, len: 4 });
  return m;
}

export function regionRead(region: number, offset: bigint, len: number): HostEvent {
  return { kind: 'region-read', region, offset, len };
}

export function render(s: Step): string {
  const o = s.outcome;
  switch (o.kind) {
    case 'ok':
      return 'ok';
    case 'errno':
      return `-${o.errno}`;
    case 'signal':
      return o.signal;
    default:
      return o.kind;
  }
}

import { ConfigImage } from '../../../src/model/pci/config-image.js';
import type { Effect, Outcome } from '../../../src/model/outcome.js';
import { expect } from 'vitest';

/** Device overrides whose config space is the e1000e's, edited by `edit`. */
export function withConfig(edit: (c: ConfigImage) => void, more: E1000eOverrides = {}): E1000eOverrides {
  const c = new ConfigImage(e1000eSnapshot().config);
  edit(c);
  return { ...more, config: c.bytes };
}

/** e1000e with an Advanced Features capability at 0x40 (AF_CAP = `afCap`) linked first. */
export function withAf(afCap = 0x03): E1000eOverrides {
  return withConfig((c) => {
    c.setU8(0x34, 0x40);
    c.setU8(0x40, 0x13);
    c.setU8(0x41, 0xc8);
    c.setU8(0x42, 0x06);
    c.setU8(0x43, afCap);
  });
}

export const withExpFlr = (): E1000eOverrides => withConfig((c) => c.setU32(0xe4, c.u32(0xe4) | 0x10000000));

export function expectStep(s: Step, outcome: Partial<Outcome> & { kind: Outcome['kind'] }, rule: string, effects?: Effect[]): void {
  expect(s.rule).toBe(rule);
  expect(s.outcome).toMatchObject(outcome);
  if (effects !== undefined) expect(s.effects).toEqual(effects);
}

export const ok = { kind: 'ok' } as const;
export const err = (errno: string) => ({ kind: 'errno', errno }) as const;
export const sigbus = { kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' } as const;
