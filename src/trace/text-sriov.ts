// The SR-IOV header lines of the text twin (issue 15), both directions, so the two stay in step:
//
//   sriov total-vfs=7 num-vfs=2 first-vf-offset=0x80 vf-stride=0x2 vf-device=10ca cap=0x160 driver=vfio-pci vf-token=UUID vf-users=1 enable-sriov
//   sriov-vf pf=0000:01:00.0 index=1 total-vfs=7 ... (the PF's capability, same keys)
//   vf-bar 0 size=0x4000 base=0xfe000000 64 prefetch   (a VF BAR of the capability above: per-VF size)
//
// `sriov` describes the traced function as a PF, `sriov-vf` as a VF (the capability is its PF's).
// Keys left at their default are not printed.

import type { Args } from './text-parse.js';
import type { LineCtx } from './text-lex.js';
import { fmtStr, hex, parseStr, parseU32, textError } from './text-lex.js';
import { emptySriovCap, type DeviceSnapshot, type SriovCap } from './types.js';

function capWords(c: SriovCap): string[] {
  const w: string[] = [];
  w.push(`total-vfs=${c.totalVfs}`, `num-vfs=${c.numVfs}`);
  if (c.firstVfOffset !== 0) w.push(`first-vf-offset=${hex(c.firstVfOffset)}`);
  if (c.vfStride !== 0) w.push(`vf-stride=${hex(c.vfStride)}`);
  if (c.vfDeviceId !== 0) w.push(`vf-device=${c.vfDeviceId.toString(16).padStart(4, '0')}`);
  if (c.capOffset !== 0) w.push(`cap=${hex(c.capOffset)}`);
  if (c.driver !== '') w.push(`driver=${fmtStr(c.driver)}`);
  if (c.vfToken !== '') w.push(`vf-token=${fmtStr(c.vfToken)}`);
  if (c.vfUsers !== 0) w.push(`vf-users=${c.vfUsers}`);
  if (c.enableSriov) w.push('enable-sriov');
  return w;
}

/** The header lines of a device's SR-IOV blocks (none for a function that is neither VF nor PF). */
export function printSriovLines(d: DeviceSnapshot): string[] {
  const cap = d.sriovVf?.pf ?? d.sriov;
  if (cap === undefined) return [];
  const lines: string[] = [];
  if (d.sriov !== undefined) lines.push(['sriov', ...capWords(d.sriov)].join(' '));
  if (d.sriovVf !== undefined) {
    lines.push(['sriov-vf', `pf=${fmtStr(d.sriovVf.pfBdf)}`, `index=${d.sriovVf.vfIndex}`, ...capWords(d.sriovVf.pf)].join(' '));
  }
  for (const b of cap.vfBars) {
    const base = b.base !== 0n ? ` base=${hex(b.base)}` : '';
    lines.push(`vf-bar ${b.index} size=${hex(b.size)}${base}${b.is64 ? ' 64' : ''}${b.prefetchable ? ' prefetch' : ''}`);
  }
  return lines;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A VF token as the kernel parses it (uuid_parse: 36 characters, hex and dashes). */
export function parseVfToken(raw: string, col: number, ctx: LineCtx, what: string): string {
  const s = parseStr(raw, col, ctx, what);
  if (!UUID.test(s)) throw textError(ctx, col, `${what}: expected a UUID (8-4-4-4-12 hex digits), got ${JSON.stringify(s)}`);
  return s.toLowerCase();
}

function parseCap(a: Args, ctx: LineCtx): SriovCap {
  const c = emptySriovCap();
  c.totalVfs = a.u32('total-vfs');
  c.numVfs = a.u32('num-vfs', 0);
  if (c.numVfs > c.totalVfs) {
    const kv = a.opt('num-vfs')!;
    throw textError(ctx, kv.col, `num-vfs=${c.numVfs} is more than total-vfs=${c.totalVfs}`);
  }
  c.firstVfOffset = a.u32('first-vf-offset', 0);
  c.vfStride = a.u32('vf-stride', 0);
  const dev = a.opt('vf-device');
  if (dev !== undefined) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(dev.raw)) throw textError(ctx, dev.col, `vf-device: expected a device id in hex (10ca), got ${JSON.stringify(dev.raw)}`);
    c.vfDeviceId = parseInt(dev.raw, 16);
  }
  c.capOffset = a.u32('cap', 0);
  c.driver = a.str('driver', '');
  const tok = a.opt('vf-token');
  if (tok !== undefined) c.vfToken = parseVfToken(tok.raw, tok.col, ctx, 'vf-token');
  c.vfUsers = a.u32('vf-users', 0);
  c.enableSriov = a.flag('enable-sriov');
  return c;
}

/** `sriov ...`: the function is a PF. */
export function parseSriovLine(a: Args, ctx: LineCtx, d: DeviceSnapshot): void {
  if (d.sriovVf !== undefined) throw textError(ctx, 0, 'a function is a PF (sriov) or a VF (sriov-vf), not both');
  d.sriov = parseCap(a, ctx);
}

/** `sriov-vf pf=BDF index=N ...`: the function is a VF of that PF. */
export function parseSriovVfLine(a: Args, ctx: LineCtx, d: DeviceSnapshot): void {
  if (d.sriov !== undefined) throw textError(ctx, 0, 'a function is a PF (sriov) or a VF (sriov-vf), not both');
  const pf = a.req('pf');
  const pfBdf = parseStr(pf.raw, pf.col, ctx, 'pf');
  const index = a.u32('index');
  const cap = parseCap(a, ctx);
  if (cap.totalVfs > 0 && index >= cap.totalVfs) {
    const kv = a.opt('index')!;
    throw textError(ctx, kv.col, `index=${index} is past total-vfs=${cap.totalVfs} (VFs count from 0)`);
  }
  d.sriovVf = { pfBdf, vfIndex: index, pf: cap };
}

/** `vf-bar N size=S [64] [prefetch]`: a VF BAR of the capability given above it. */
export function parseVfBarLine(a: Args, ctx: LineCtx, d: DeviceSnapshot, col: number): void {
  const cap = d.sriovVf?.pf ?? d.sriov;
  if (cap === undefined) throw textError(ctx, col, 'vf-bar needs an "sriov" or "sriov-vf" line before it');
  const n = a.next('VF BAR number');
  const index = parseU32(n.text, n.col, ctx, 'VF BAR number');
  if (index > 5) throw textError(ctx, n.col, `VF BAR number must be 0..5, got ${index}`);
  if (cap.vfBars.some((b) => b.index === index)) throw textError(ctx, n.col, `VF BAR ${index} given twice`);
  const size = a.u64('size');
  const base = a.u64('base', 0n);
  const is64 = a.flag('64');
  const prefetchable = a.flag('prefetch');
  cap.vfBars.push({ index, size, is64, prefetchable, base });
  cap.vfBars.sort((x, y) => x.index - y.index);
}
