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

/**
 * The host's PAGE_SIZE: a power of two from 4 KiB (x86, arm64 4K) to 1 MiB (the largest any Linux
 * architecture configures; arm64/ppc64 go to 64K). The model divides BAR offsets and huge-page
 * block sizes by it, so 4 bytes or 3000 are not something to replay (a fuzzed `page-size=4`
 * ended in a division by zero in the huge_fault levels). 0 = not recorded (the model takes 4096).
 */
export const MIN_PAGE_SIZE = 4096;
export const MAX_PAGE_SIZE = 1 << 20;

/** Why `size` cannot be a host page size, or null. */
export function pageSizeProblem(size: number): string | null {
  if (size === 0) return null;
  if (size >= MIN_PAGE_SIZE && size <= MAX_PAGE_SIZE && (size & (size - 1)) === 0) return null;
  return `page size ${size} is not a power of two from ${MIN_PAGE_SIZE} to ${MAX_PAGE_SIZE} (a host PAGE_SIZE)`;
}

/** Why a device config image of `size` bytes cannot be, or null. */
export function configSizeProblem(size: number): string | null {
  return size > MAX_CONFIG_SIZE ? `config size ${size} is larger than ${MAX_CONFIG_SIZE}` : null;
}
