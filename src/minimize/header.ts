// Header pass of `minimize`: device facts the goal does not need are dropped, one at a time, each
// kept only if every selection still sees the goal: VMM device options, reset methods, fault
// injection lists, the ROM, BARs, the extended config space, and capability rows of config space.

import type { DeviceSnapshot, TraceHeader } from '../trace/types.js';
import type { Candidate } from './goal.js';
import type { Session } from './session.js';

type HeaderEdit = (h: TraceHeader) => TraceHeader | null;

function device(h: TraceHeader, d: Partial<DeviceSnapshot>): TraceHeader {
  return { ...h, device: { ...h.device, ...d } };
}

/** The edits to try on this header, in order; each returns null when it does not apply. */
function edits(h: TraceHeader): HeaderEdit[] {
  const out: HeaderEdit[] = [];
  for (const opt of h.vmm.options)
    out.push((x) => (x.vmm.options.includes(opt) ? { ...x, vmm: { ...x.vmm, options: x.vmm.options.filter((o) => o !== opt) } } : null));
  out.push((x) => (x.device.resetMethods.length > 0 ? device(x, { resetMethods: [] }) : null));
  for (const m of h.device.resetMethods)
    out.push((x) => (x.device.resetMethods.includes(m) ? device(x, { resetMethods: x.device.resetMethods.filter((r) => r !== m) }) : null));
  out.push((x) => (x.device.quirks.resourceBusyBars.length > 0 ? device(x, { quirks: { ...x.device.quirks, resourceBusyBars: [] } }) : null));
  out.push((x) => (x.device.quirks.iomapFailBars.length > 0 ? device(x, { quirks: { ...x.device.quirks, iomapFailBars: [] } }) : null));
  out.push((x) => (x.device.romSize !== 0n ? device(x, { romSize: 0n }) : null));
  for (const bar of h.device.bars)
    out.push((x) => (x.device.bars.some((b) => b.index === bar.index) ? device(x, { bars: x.device.bars.filter((b) => b.index !== bar.index) }) : null));
  out.push((x) => (x.device.config.length > 256 ? device(x, { config: x.device.config.slice(0, 256) }) : null));
  // Rows below 0x40 are the type-0 header every model reads; capability rows may be unused.
  for (let off = 0x40; off < h.device.config.length; off += 16) {
    out.push((x) => {
      const row = x.device.config.subarray(off, off + 16);
      if (row.length === 0 || row.every((b) => b === 0)) return null;
      const config = x.device.config.slice();
      config.fill(0, off, off + 16);
      return device(x, { config });
    });
  }
  return out;
}

export function shrinkHeader(c: Candidate, s: Session): Candidate {
  for (const edit of edits(c.header)) {
    const header = edit(c.header);
    if (header === null) continue;
    const next = { ...c, header };
    if (s.holds(next)) c = next;
  }
  return c;
}
