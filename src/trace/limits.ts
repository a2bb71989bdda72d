// Bounds on trace values that something downstream sizes memory by, checked where values enter:
// the text parser (at file:line:column), the binary decoder (at file/event/byte) and the writer
// (so nothing writes a trace its own reader refuses). Both readers apply the same numbers.

/** PCIe extended config space: the most a sysfs `config` read (and a config image) can hold. */
export const MAX_CONFIG_SIZE = 4096;

/**
 * A single CPU load or store, as the trace records one: a guest MMIO or config access (a KVM MMIO
 * exit carries at most 8 bytes, kvm_run.mmio.data[8], and QEMU's memory core splits anything wider
 * into accesses of at most 8), or the VMM's own load/store through a BAR mapping. The value of a
 * write is a u64 field, so 8 bytes is also all a trace can say about one. The model builds the
 * all-ones/unassigned value of a read from this length: an unchecked 2^31 would be a 2^34-bit
 * BigInt.
 */
export const MAX_ACCESS_LEN = 8;

/** Event kinds whose `len` is one CPU access (bounded by MAX_ACCESS_LEN). */
export const ACCESS_KINDS: ReadonlySet<string> = new Set(['mem-read', 'mem-write', 'guest-cfg-read', 'guest-cfg-write', 'guest-mmio-read', 'guest-mmio-write']);

/** Why `len` cannot be the length of a `kind` access, or null when it can. */
export function accessLenProblem(kind: string, len: number): string | null {
  if (!ACCESS_KINDS.has(kind)) return null;
  if (len >= 1 && len <= MAX_ACCESS_LEN) return null;
  return `${kind} len=${len}: one CPU access is 1 to ${MAX_ACCESS_LEN} bytes`;
}

/** Why a device config image of `size` bytes cannot be, or null. */
export function configSizeProblem(size: number): string | null {
  return size > MAX_CONFIG_SIZE ? `config size ${size} is larger than ${MAX_CONFIG_SIZE}` : null;
}
