// Decoding of guest config-space accesses, shared by every VMM model: byte enables inside a dword,
// merging a narrow write into a register, and the guest-visible BAR registers (sizing, placement).
// A guest config access is at most a dword and never crosses one (PCI config cycles are dword
// cycles with byte enables); the VMM models refuse anything else as `unsupported`.

import type { BarInfo } from '../../trace/types.js';

export const PCI_COMMAND = 0x04;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_BAR0 = 0x10;
export const PCI_BAR_END = 0x28; // one past BAR5
export const PM_PMC = 2;
export const PM_CTRL = 4;
export const PM_CAP_D1 = 0x200;
export const PM_CAP_D2 = 0x400;
export const MSIX_ENABLE = 0x8000;

/** True when the access stays inside one dword, as real config cycles do. */
export function withinDword(offset: number, len: number): boolean {
  return len >= 1 && len <= 4 && offset >= 0 && (offset & 3) + len <= 4;
}

/** Byte-enable bits (bit i = byte i of the dword) of an access. */
export function byteEnables(offset: number, len: number): number {
  return ((1 << len) - 1) << (offset & 3);
}

/** Bit mask (in the dword) of the enabled bytes. */
export function bitMask(enables: number): number {
  let m = 0;
  for (let i = 0; i < 4; i++) if (enables & (1 << i)) m |= 0xff << (8 * i);
  return m >>> 0;
}

/** Does the access [offset, offset+len) cover byte `at`? (QEMU range_covers_byte) */
export function coversByte(offset: number, len: number, at: number): boolean {
  return at >= offset && at < offset + len;
}

/** Does the access overlap [start, start+size)? */
export function overlaps(offset: number, len: number, start: number, size: number): boolean {
  return offset < start + size && start < offset + len;
}

/**
 * Merge the bytes a write puts into register [regOffset, regOffset+regLen) into its old value.
 * Bytes of the write outside the register are ignored; bytes of the register not written are kept.
 */
export function mergeInto(old: number, regOffset: number, regLen: number, offset: number, len: number, value: bigint): number {
  let out = old >>> 0;
  for (let i = 0; i < len; i++) {
    const at = offset + i;
    if (at < regOffset || at >= regOffset + regLen) continue;
    const byte = Number((value >> BigInt(8 * i)) & 0xffn);
    const sh = 8 * (at - regOffset);
    out = ((out & ~(0xff << sh)) | (byte << sh)) >>> 0;
  }
  return out;
}

/** The `len` bytes at `offset` of a dword that starts at `alignedOffset`. */
export function extract(dword: number, alignedOffset: number, offset: number, len: number): bigint {
  const sh = 8 * (offset - alignedOffset);
  const v = BigInt((dword >>> 0) >>> 0) >> BigInt(sh);
  return v & ((1n << BigInt(8 * len)) - 1n);
}

export function allOnes(len: number): bigint {
  return (1n << BigInt(8 * len)) - 1n;
}

export function hex(v: number | bigint): string {
  return '0x' + v.toString(16);
}

/** The guest-visible BAR registers every VMM emulates (none lets the guest program the real BARs). */
export class GuestBars {
  private readonly regs = new Uint32Array(6);
  private readonly masks = new Uint32Array(6);
  private readonly flags = new Uint32Array(6);
  /** BAR index -> its info, for the index holding the low half. */
  private readonly byIndex = new Map<number, BarInfo>();

  constructor(bars: readonly BarInfo[]) {
    for (const b of bars) {
      if (b.index < 0 || b.index > 5 || b.size <= 0n) continue;
      this.byIndex.set(b.index, b);
      const sizeMask = ~(b.size - 1n) & 0xffff_ffff_ffff_ffffn;
      const f = b.kind === 'io' ? 0x1 : (b.is64 ? 0x4 : 0) | (b.prefetchable ? 0x8 : 0);
      this.flags[b.index] = f;
      const lowBits = b.kind === 'io' ? 0x3 : 0xf;
      this.masks[b.index] = (Number(sizeMask & 0xffff_ffffn) & ~lowBits) >>> 0;
      this.regs[b.index] = f;
      if (b.kind === 'mem' && b.is64 && b.index < 5) this.masks[b.index + 1] = Number(sizeMask >> 32n) >>> 0;
    }
  }

  /** Implemented memory BARs (low index), ascending. */
  memBars(): BarInfo[] {
    return [...this.byIndex.values()].filter((b) => b.kind === 'mem').sort((a, b) => a.index - b.index);
  }

  info(index: number): BarInfo | undefined {
    return this.byIndex.get(index);
  }

  read(index: number): number {
    return this.regs[index];
  }

  /** Apply a write of `mergedValue` (already merged into the old register value) to register `index`. */
  set(index: number, mergedValue: number): void {
    this.regs[index] = ((mergedValue & this.masks[index]) | this.flags[index]) >>> 0;
  }

  /** Write the bytes of a guest access that fall in BAR registers; returns the indexes touched. */
  writeAccess(offset: number, len: number, value: bigint): number[] {
    const touched: number[] = [];
    for (let i = 0; i < 6; i++) {
      const reg = PCI_BAR0 + 4 * i;
      if (!overlaps(offset, len, reg, 4)) continue;
      this.set(i, mergeInto(this.regs[i], reg, 4, offset, len, value));
      touched.push(i);
    }
    return touched;
  }

  /** The dword at BAR register `index`, for reads. */
  dword(index: number): number {
    return this.regs[index];
  }

  /**
   * Where the guest placed a memory BAR, or null when it is not placed: address 0, or a sizing
   * pattern / range that wraps (QEMU pci_bar_address(): last address must stay below 4 GiB for a
   * 32-bit BAR and below 2^64-1 for a 64-bit one).
   */
  placement(index: number): bigint | null {
    const b = this.byIndex.get(index);
    if (!b || b.kind !== 'mem') return null;
    let addr = BigInt(this.regs[index] & ~0xf) & 0xffff_ffffn;
    if (b.is64 && index < 5) addr |= BigInt(this.regs[index + 1]) << 32n;
    if (addr === 0n) return null;
    const last = addr + b.size - 1n;
    const limit = b.is64 ? 0xffff_ffff_ffff_ffffn : 0xffff_ffffn;
    if (last >= limit) return null;
    return addr;
  }

  /** Reset the registers to their type bits (power-on). */
  reset(): void {
    for (let i = 0; i < 6; i++) this.regs[i] = this.flags[i];
  }
}
