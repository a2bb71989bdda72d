// Reads a lab device's traits from what the real kernel showed: the config snapshot (capabilities,
// config space size, NoSoftRst, FLR, reset methods), the `probe` scenario's outcomes
// (PMCSR read back after each D-state request, a scratch register read back after a reset) and
// dmesg ("Refused to change power state"). The line it prints follows the issue's
// `device-traits key=value ...` form, so it can move into the trace header as is.
import { findCap, walkCapabilities } from '../model/pci/caps.js';
import { ConfigImage } from '../model/pci/config-image.js';
import type { DeviceSnapshot, DeviceTraits as HeaderTraits, Trace } from '../trace/types.js';

const STATE = ['D0', 'D1', 'D2', 'D3hot'];

export interface LabDeviceTraits {
  configSize: number;
  pm: boolean;
  /** D-states the PMC advertises (D0 and D3hot always, D1/D2 by their support bits). */
  dStates: string[];
  /** Advertised D-states requested through PMCSR that did not read back (the device stayed put). */
  pmRefuses: string[];
  /** dmesg lines "Refused to change power state" while the lab ran. */
  refusedMessages: number;
  noSoftReset: boolean | null;
  flr: boolean;
  resetMethods: string[];
  /** Whether VFIO_DEVICE_RESET cleared the scratch register: null when the device has none. */
  resetClears: boolean | null;
  msi: boolean;
  msixVectors: number;
  pcie: boolean;
  /** Bytes of the ROM BAR the ROM image fills (the romfile's PCIR chain, src/lab/rom-image.ts); 0 unknown. */
  romImage: number;
}

export function deviceTraits(device: DeviceSnapshot, probe: Trace | undefined, dmesg: string, romImage = 0): LabDeviceTraits {
  const img = new ConfigImage(device.config);
  const walk = walkCapabilities(img);
  const pm = findCap(walk, 'std', 0x01);
  const pcie = findCap(walk, 'std', 0x10);
  const msix = findCap(walk, 'std', 0x11);
  const pmc = pm ? img.u16(pm.offset + 2) : 0;
  const dStates = pm ? ['D0', ...(pmc & 0x200 ? ['D1'] : []), ...(pmc & 0x400 ? ['D2'] : []), 'D3hot'] : ['D0'];
  const refuses = new Set<string>();
  let resetClears: boolean | null = null;
  if (probe) {
    const ev = probe.events;
    let written: string | null = null;
    let sawReset = false;
    for (let i = 0; i < ev.length; i++) {
      const e = ev[i];
      if (pm && e.kind === 'cfg-write' && e.offset === pm.offset + 4 && e.data.length >= 1) {
        const want = e.data[0] & 3;
        const back = ev.slice(i + 1).find((x) => x.kind === 'cfg-read' && x.offset === pm.offset + 4);
        const got = back?.observed?.data;
        // Only states the PMC advertises: the PCI core does not even try the others.
        if (got && got.length >= 1 && (got[0] & 3) !== want && dStates.includes(STATE[want])) refuses.add(STATE[want]);
      }
      if (e.kind === 'region-write' && written === null) written = Buffer.from(e.data).toString('hex');
      if (e.kind === 'ioctl' && e.op === 'reset' && e.observed?.ret === 0n) sawReset = true;
      if (sawReset && resetClears === null && written !== null && e.kind === 'region-read' && e.observed?.data) {
        resetClears = Buffer.from(e.observed.data).toString('hex') !== written;
      }
    }
  }
  return {
    configSize: device.config.length > 256 ? 4096 : 256,
    pm: pm !== undefined,
    dStates,
    pmRefuses: STATE.filter((s) => refuses.has(s)),
    refusedMessages: (dmesg.match(/Refused to change power state/g) ?? []).length,
    noSoftReset: pm ? (img.u16(pm.offset + 4) & 0x8) !== 0 : null,
    flr: pcie !== undefined && (img.u32(pcie.offset + 4) & (1 << 28)) !== 0,
    resetMethods: device.resetMethods,
    resetClears,
    msi: findCap(walk, 'std', 0x05) !== undefined,
    msixVectors: msix ? (img.u16(msix.offset + 2) & 0x7ff) + 1 : 0,
    pcie: pcie !== undefined,
    // Only an image smaller than the BAR is a trait (a full one is the default).
    romImage: romImage > 0 && BigInt(romImage) < device.romSize ? romImage : 0,
  };
}

const yn = (b: boolean | null): string => (b === null ? 'unknown' : b ? 'yes' : 'no');

/** `device-traits key=value ...`: one line, every key always present. */
export function traitsLine(t: LabDeviceTraits): string {
  return [
    'device-traits',
    `config-size=${t.configSize}`,
    `pcie=${yn(t.pcie)}`,
    `pm=${yn(t.pm)}`,
    `d-states=${t.dStates.join(',')}`,
    `pm-refuses=${t.pmRefuses.length ? t.pmRefuses.join(',') : '-'}`,
    `refused-msgs=${t.refusedMessages}`,
    `no-soft-reset=${yn(t.noSoftReset)}`,
    `flr=${yn(t.flr)}`,
    `reset-methods=${t.resetMethods.length ? t.resetMethods.join(',') : '-'}`,
    `reset-clears=${yn(t.resetClears)}`,
    `msi=${yn(t.msi)}`,
    `msix=${t.msixVectors}`,
    `rom-image=${t.romImage > 0 ? `0x${t.romImage.toString(16)}` : '-'}`,
  ].join(' ');
}

/** The traits as the trace header carries them (`device-traits ...`, DeviceSnapshot.traits). */
export function headerTraits(t: LabDeviceTraits): HeaderTraits {
  const yesNo = (b: boolean | null): string => (b === null ? '' : b ? 'yes' : 'no');
  return {
    dStates: t.dStates.filter((s) => !t.pmRefuses.includes(s)),
    pmRefuses: t.pmRefuses,
    resetClears: yesNo(t.resetClears),
    noSoftReset: yesNo(t.noSoftReset),
    configSize: t.configSize,
    flr: yesNo(t.flr),
    busReset: t.resetMethods.includes('bus') ? 'yes' : 'no',
    source: 'lab-probe',
    romImage: t.romImage,
  };
}

/** `trace` with the probed traits in its header(s). */
export function withTraits(trace: Trace, t: LabDeviceTraits): Trace {
  const traits = headerTraits(t);
  const h = (x: Trace['header']): Trace['header'] => ({ ...x, device: { ...x.device, traits } });
  return { ...trace, header: h(trace.header), ...(trace.moreHeaders ? { moreHeaders: trace.moreHeaders.map((m) => ({ ...m, header: h(m.header) })) } : {}) };
}
