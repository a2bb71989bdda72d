// vfio_pci_probe_mmaps(): which BARs may be mmapped (bar_mmap_supported[]), recomputed at open [S].

import type { Kctx } from './context.js';

export function barMmapSupported(k: Kctx, i: number): boolean {
  const b = k.g.bars[i];
  if (b === undefined) return false;
  if (k.dev.quirks.nonMappableBars) return false; // pdev->non_mappable_bars (6.15+; CONFIG_VFIO_PCI_MMAP before)
  if (b.kind !== 'mem' || b.size === 0n) return false;
  if (b.size >= k.g.pageSize) return true;
  // Sub-page BAR: only when it starts page aligned (the rest of the page is reserved by a dummy resource) [S].
  return b.start % k.g.pageSize === 0n;
}
