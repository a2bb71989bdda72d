// OpenVMM's one-pass capability discovery, as introduced by PR #3609 (`discover_capabilities` in
// vm/devices/pci/vfio_assigned_device/src/lib.rs). It walks the standard chain (from 0x34) and the
// extended chain (from 0x100) once, finds the first MSI-X and the first PM capability, and builds
// the patch-on-read table that hides capabilities the guest must not see. Read errors end a walk
// (they never abort discovery), so a short config space or a broken chain still yields a result.

/** Reads one dword of config space at a dword-aligned offset; null = the read failed. */
export type ConfigDwordReader = (offset: number) => number | null;

export interface ConfigPatch {
  /** Bits taken from `value`; the rest come from hardware: `(hw & ~mask) | (value & mask)`. */
  mask: number;
  value: number;
}

export interface MsixDiscovery {
  capOffset: number;
  vectorCount: number;
  tableBar: number;
  /** [start, end) offsets within the table BAR. */
  tableRange: [number, number];
  pbaBar: number;
  pbaRange: [number, number];
}

export interface DiscoveredCapabilities {
  msix: MsixDiscovery | null;
  /** PMCSR offset = PM capability offset + 4. */
  pmCsrOffset: number | null;
  /** Keyed by dword-aligned offset. */
  configPatches: Map<number, ConfigPatch>;
  /** What the walk logged (cycle guard, malformed pointers, filtered capabilities). */
  log: string[];
}

export const CAP_ID_PM = 0x01;
export const CAP_ID_MSIX = 0x11;
export const EXT_CAP_ARI = 0x0e;
export const EXT_CAP_SRIOV = 0x10;
export const EXT_CAP_REBAR = 0x15;
const EXT_CAP_START = 0x100;
/** Guard against cycles and absurdly long standard chains (MAX_CAPS in lib.rs). */
export const MAX_CAPS = 48;
/** Same for the extended chain (MAX_EXT_CAPS). */
export const MAX_EXT_CAPS = 256;
const BIST_HEADER = 0x0c;
/** BistHeader.multi_function: bit 7 of the header-type byte, i.e. bit 23 of the 0x0C dword. */
const MULTI_FUNCTION_MASK = 0x0080_0000;
const FILTERED_EXT_CAPS: ReadonlySet<number> = new Set([EXT_CAP_SRIOV, EXT_CAP_ARI, EXT_CAP_REBAR]);

export function discoverCapabilities(read: ConfigDwordReader): DiscoveredCapabilities {
  const result: DiscoveredCapabilities = {
    msix: null,
    pmCsrOffset: null,
    configPatches: new Map(),
    log: [],
  };
  // The assigned function is presented as single-function.
  result.configPatches.set(BIST_HEADER, { mask: MULTI_FUNCTION_MASK, value: 0 });

  walkStandard(read, result);
  walkExtended(read, result);
  return result;
}

function walkStandard(read: ConfigDwordReader, result: DiscoveredCapabilities): void {
  const capPtrDword = read(0x34);
  if (capPtrDword === null) return;
  let capPtr = capPtrDword & 0xfc; // bits 1:0 are reserved
  let iterations = 0;
  while (capPtr !== 0) {
    if (iterations >= MAX_CAPS) {
      result.log.push(`PCI capability list exceeded ${MAX_CAPS} entries, aborting walk`);
      break;
    }
    iterations++;
    const header = read(capPtr);
    if (header === null) break;
    const capId = header & 0xff;
    const nextPtr = (header >>> 8) & 0xfc;

    if (capId === CAP_ID_MSIX && result.msix === null) {
      const msgCtrl = header >>> 16;
      const tableCount = (msgCtrl & 0x7ff) + 1;
      const tableDword = read(capPtr + 4);
      if (tableDword === null) break;
      const pbaDword = read(capPtr + 8);
      if (pbaDword === null) break;
      const tableOffset = (tableDword & ~0x7) >>> 0;
      const pbaOffset = (pbaDword & ~0x7) >>> 0;
      const tableSize = tableCount * 16;
      const pbaSize = Math.ceil(tableCount / 64) * 8; // one bit per vector, whole qwords
      result.msix = {
        capOffset: capPtr,
        vectorCount: tableCount,
        tableBar: tableDword & 0x7,
        tableRange: [tableOffset, tableOffset + tableSize],
        pbaBar: pbaDword & 0x7,
        pbaRange: [pbaOffset, pbaOffset + pbaSize],
      };
      result.log.push(`discovered MSI-X capability at 0x${capPtr.toString(16)}`);
    } else if (capId === CAP_ID_PM && result.pmCsrOffset === null) {
      result.pmCsrOffset = capPtr + 4;
      result.log.push(`discovered PCI Power Management capability at 0x${capPtr.toString(16)}`);
    }
    capPtr = nextPtr;
  }
}

function walkExtended(read: ConfigDwordReader, result: DiscoveredCapabilities): void {
  // Extended space is only walked when its first dword is readable (a 256-byte config region is not).
  if (read(EXT_CAP_START) === null) return;
  let offset = EXT_CAP_START;
  let iterations = 0;
  for (;;) {
    if (iterations >= MAX_EXT_CAPS) {
      result.log.push(`extended capability list exceeded ${MAX_EXT_CAPS} entries, aborting walk`);
      break;
    }
    iterations++;
    const header = read(offset);
    if (header === null || header === 0) break;
    const capId = header & 0xffff;
    const next = (header >>> 20) & 0xfff;
    if (FILTERED_EXT_CAPS.has(capId)) {
      // Zero the ID (low 16 bits) and keep the version/next pointer so the chain stays walkable.
      result.configPatches.set(offset, { mask: 0x0000_ffff, value: 0 });
      result.log.push(`filtering extended capability 0x${capId.toString(16)} at 0x${offset.toString(16)}`);
    }
    if (next === 0) break;
    if (next < EXT_CAP_START || (next & 0x3) !== 0) {
      result.log.push(
        `malformed extended capability next pointer 0x${next.toString(16)} at 0x${offset.toString(16)}, aborting walk`,
      );
      break;
    }
    offset = next;
  }
}

/** A reader over a captured config image (little-endian); reads past its end fail like VFIO's do. */
export function imageReader(config: Uint8Array): ConfigDwordReader {
  return (offset) => {
    if (offset < 0 || offset + 4 > config.length) return null;
    return (config[offset] | (config[offset + 1] << 8) | (config[offset + 2] << 16) | (config[offset + 3] << 24)) >>> 0;
  };
}

/** Apply the patch table to a dword read at `alignedOffset`. */
export function applyPatch(patches: Map<number, ConfigPatch>, alignedOffset: number, hw: number): number {
  const p = patches.get(alignedOffset);
  if (!p) return hw >>> 0;
  return ((hw & ~p.mask) | (p.value & p.mask)) >>> 0;
}
