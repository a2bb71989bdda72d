// `lspci -vvv -xxx` / `-xxxx` (-s BDF or the whole bus) -> a device snapshot, for captures without a
// sysfs copy (what most bug reports attach). What lspci shows and what it does not:
//   header line `BB:DD.F Class: Name` or with -D `DDDD:BB:DD.F ...`      -> bdf
//   `NN: xx xx ...` hex dump (-xxx: 256 bytes, -xxxx: 4096)               -> config, vendor/device
//   `Region N: Memory at ADDR (64-bit, prefetchable) [size=128K]`        -> BAR N size/kind/flags
//   `Region N: I/O ports at ADDR [size=32]`, `Expansion ROM at ... [size=64K]`
//   `IOMMU group: N` (pciutils >= 3.6.3), `Kernel driver in use: vfio-pci`
// Not shown: sysfs reset_method: inferred from the config dump's capabilities (flr from the PCIe
// DevCap FLR bit, af_flr from the AF capability, pm from a PM capability without NoSoftRst); a bus
// reset depends on the topology and stays unknown (absent). The host page size (4096 assumed).

import { UserError } from '../errors.js';
import { emptyDeviceSnapshot, type BarInfo, type DeviceSnapshot } from '../trace/types.js';

export interface LspciDevice {
  device: DeviceSnapshot;
  driver: string;
  /** 1-based line of the device's header line, for messages. */
  line: number;
  /** What the snapshot was built from (for the import report and the header's source note). */
  inferred: string[];
}

const HEADER = /^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])\s+\S/;
const UNITS: Record<string, bigint> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };

function sizeOf(text: string): bigint | null {
  const m = /\[size=(\d+)([KMGT]?)\]/.exec(text);
  return m ? BigInt(m[1]!) * UNITS[m[2]!]! : null;
}

/** Whether the text looks like lspci -v output with a hex dump (used by the input detector). */
export function looksLikeLspci(text: string): boolean {
  const lines = text.split('\n', 400);
  return lines.some((l) => HEADER.test(l)) && lines.some((l) => /^[0-9a-f]{2,3}: ([0-9a-f]{2} ){15}[0-9a-f]{2}\s*$/.test(l));
}

/** Every device in an lspci listing that carries a hex dump of its config space. */
export function readLspci(text: string, file: string): LspciDevice[] {
  const out: LspciDevice[] = [];
  let cur: { bdf: string; line: number; config: Map<number, number>; bars: BarInfo[]; rom: bigint; group: number; driver: string } | null = null;
  const flush = (): void => {
    if (cur === null) return;
    if (cur.config.size > 0) {
      const len = Math.max(...cur.config.keys()) + 1;
      const config = new Uint8Array(len <= 256 ? 256 : 4096);
      for (const [o, b] of cur.config) config[o] = b;
      const dev = emptyDeviceSnapshot();
      dev.bdf = cur.bdf;
      dev.config = config.slice(0, len <= 256 ? Math.min(256, len) : len);
      dev.vendorId = config[0]! | (config[1]! << 8);
      dev.deviceId = config[2]! | (config[3]! << 8);
      dev.bars = cur.bars;
      dev.romSize = cur.rom;
      dev.iommuGroup = cur.group;
      dev.vga = config[0x0b] === 0x03 && config[0x0a] === 0x00;
      dev.resetMethods = resetMethodsFromConfig(dev.config);
      const inferred = [`config ${dev.config.length} bytes`, `reset methods [${dev.resetMethods.join(' ')}] from capabilities (bus reset unknown)`];
      if (cur.bars.length) inferred.push(`BARs ${cur.bars.map((b) => b.index).join(',')} from Region lines`);
      if (cur.group >= 0) inferred.push(`IOMMU group ${cur.group}`);
      out.push({ device: dev, driver: cur.driver, line: cur.line, inferred });
    }
    cur = null;
  };
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const h = HEADER.exec(line);
    if (h) {
      flush();
      cur = { bdf: `${(h[1] ?? '0000').toLowerCase()}:${h[2]!.toLowerCase()}:${h[3]!.toLowerCase()}.${h[4]}`, line: i + 1, config: new Map(), bars: [], rom: 0n, group: -1, driver: '' };
      return;
    }
    if (cur === null) return;
    const c = cur as NonNullable<typeof cur>;
    const dump = /^([0-9a-f]{2,3}): ((?:[0-9a-f]{2} ){15}[0-9a-f]{2})\s*$/.exec(line);
    if (dump) {
      const base = parseInt(dump[1]!, 16);
      if (base % 16 !== 0 || base >= 4096) throw new UserError(`config dump offset ${dump[1]} is not a multiple of 16 below 0x1000`, { file, line: i + 1, column: 1 });
      dump[2]!.split(' ').forEach((b, k) => c.config.set(base + k, parseInt(b, 16)));
      return;
    }
    const t = line.trim();
    let m = /^Region (\d): (Memory|I\/O ports) at /.exec(t);
    if (m) {
      const size = sizeOf(t);
      const index = Number(m[1]);
      if (size !== null && size > 0n && index <= 5) {
        const mem = m[2] === 'Memory';
        c.bars.push({ index, size, kind: mem ? 'mem' : 'io', is64: mem && /\(64-bit/.test(t), prefetchable: mem && /[ (]prefetchable\)/.test(t) && !/non-prefetchable/.test(t) });
      }
      return;
    }
    if (/^Expansion ROM at /.test(t)) {
      c.rom = sizeOf(t) ?? 0n;
      return;
    }
    if ((m = /^IOMMU group: (\d+)$/.exec(t))) {
      c.group = Number(m[1]);
      return;
    }
    if ((m = /^Kernel driver in use: (\S+)$/.exec(t))) c.driver = m[1]!;
  });
  flush();
  return out;
}

/** The device of an lspci listing the capture is about: the given BDF, else the one vfio-pci has, else the only one. */
export function pickLspciDevice(devices: LspciDevice[], bdf: string, file: string): LspciDevice {
  const norm = (s: string) => (/^[0-9a-f]{4}:/i.test(s) ? s : `0000:${s}`).toLowerCase();
  if (bdf !== '') {
    const d = devices.find((x) => x.device.bdf === norm(bdf));
    if (!d) throw new UserError(`no device ${bdf} with a config dump in this lspci output (it has ${devices.map((x) => x.device.bdf).join(', ') || 'none'}): run lspci -vvv -xxxx -s ${bdf}`, { file });
    return d;
  }
  if (devices.length === 0) throw new UserError('no device with a config dump in this lspci output: run lspci -vvv -xxxx -s BDF', { file });
  const vfio = devices.filter((x) => x.driver === 'vfio-pci');
  if (vfio.length === 1) return vfio[0]!;
  if (devices.length === 1) return devices[0]!;
  throw new UserError(`${devices.length} devices in this lspci output and ${vfio.length} bound to vfio-pci: pass --bdf, or run lspci -vvv -xxxx -s BDF`, { file });
}

/** Standard capabilities: id -> config offset of the first one. */
function capabilities(c: Uint8Array): Map<number, number> {
  const caps = new Map<number, number>();
  if (c.length < 0x40 || (c[0x06]! & 0x10) === 0) return caps; // Status: capabilities list
  let at = c[0x34]! & 0xfc;
  for (let n = 0; at >= 0x40 && at + 1 < c.length && n < 48; n++) {
    if (!caps.has(c[at]!)) caps.set(c[at]!, at);
    at = c[at + 1]! & 0xfc;
  }
  return caps;
}

/**
 * The function resets the kernel would list in sysfs reset_method for this config, in its order
 * (pci_reset_fn_methods: flr, af_flr, pm): what a config dump can tell without sysfs.
 */
export function resetMethodsFromConfig(c: Uint8Array): string[] {
  const caps = capabilities(c);
  const out: string[] = [];
  const u32 = (o: number) => (c[o]! | (c[o + 1]! << 8) | (c[o + 2]! << 16) | (c[o + 3]! << 24)) >>> 0;
  const exp = caps.get(0x10);
  if (exp !== undefined && exp + 8 <= c.length && (u32(exp + 4) & (1 << 28)) !== 0) out.push('flr'); // DevCap FLR
  const af = caps.get(0x13);
  if (af !== undefined && af + 3 < c.length && (c[af + 3]! & 0x3) === 0x3) out.push('af_flr'); // AF cap: TP + FLR
  const pm = caps.get(0x01);
  if (pm !== undefined && pm + 5 < c.length && (c[pm + 4]! & 0x08) === 0) out.push('pm'); // PMCSR NoSoftRst-
  return out;
}
