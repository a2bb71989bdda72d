// Who owns the bytes a read returns. The replay compares read data only where the model is the
// authority (src/replay/compare.ts); everything else is device data.
//
// An `ok` outcome's `own` is one bit mask per data byte: a set bit is decided by the kernel or VMM
// model (a virtualized config bit, an info-struct field, a value vfio substitutes), so a different
// observed bit is a model divergence. A clear bit belongs to the device: its register contents,
// which only a device model knows (src/model/devices/), or the hardware state the kernel model
// tracks from the snapshot and the device traits (pass-through config bits, the power state);
// those the kernel model checks itself and reports as device notes (kernel/learn.ts). No `own` =
// the model owns every bit. Bytes past the predicted data (the rest of the caller's buffer) are
// never compared.
//
// The masks are data, per register and per release: config space takes them from vfio-pci's
// permission tables (kernel/perms.ts: the virt bits, which differ by release, e.g. PME since
// 5.19), the ioctls from the struct layout of the release (versions/kernel.ts switches).

/** A mask owning every bit of `len` bytes except the byte ranges given ([from, to)). */
export function ownAllBut(len: number, ...notOwned: [number, number][]): Uint8Array {
  const own = new Uint8Array(len).fill(0xff);
  for (const [from, to] of notOwned) own.fill(0, Math.max(0, from), Math.min(len, to));
  return own;
}
