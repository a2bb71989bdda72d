// QEMU trace events the importer reads, in QEMU's own trace-events syntax
// (`name(C args) "printf format"`, PRIx64-style macros spliced between string pieces), and the
// machinery to turn a format into a matcher. Sources: hw/vfio/trace-events, hw/pci/trace-events
// (reference vmm-and-tracing.md §1.2-§1.4). The formats of these events did not change across the
// QEMU versions read; what changed are names of other events (RENAMED below), which are known and
// skipped rather than reported as unknown.

export const USED_EVENTS = `
vfio_pci_read_config(const char *name, int addr, int len, int val) " (%s, @0x%x, len=0x%x) 0x%x"
vfio_pci_write_config(const char *name, int addr, int val, int len) " (%s, @0x%x, 0x%x, len=0x%x)"
vfio_region_write(const char *name, int index, uint64_t addr, uint64_t data, unsigned size) " (%s:region%d+0x%"PRIx64", 0x%"PRIx64 ", %d)"
vfio_region_read(char *name, int index, uint64_t addr, unsigned size, uint64_t data) " (%s:region%d+0x%"PRIx64", %d) = 0x%"PRIx64
vfio_region_mmaps_set_enabled(const char *name, bool enabled) "Region %s mmaps enabled: %d"
pci_pm_bad_transition(const char *dev, uint32_t bus, uint32_t slot, uint32_t func, uint8_t old, uint8_t new) "%s %02x:%02x.%x REJECTED PM transition D%d->D%d"
pci_pm_transition(const char *dev, uint32_t bus, uint32_t slot, uint32_t func, uint8_t old, uint8_t new) "%s %02x:%02x.%x PM transition D%d->D%d"
pci_update_mappings_del(const char *dev, uint32_t bus, uint32_t slot, uint32_t func, int bar, uint64_t addr, uint64_t size) "%s %02x:%02x.%x %d,0x%"PRIx64"+0x%"PRIx64
pci_update_mappings_add(const char *dev, uint32_t bus, uint32_t slot, uint32_t func, int bar, uint64_t addr, uint64_t size) "%s %02x:%02x.%x %d,0x%"PRIx64"+0x%"PRIx64
`;

/** Events QEMU emits that carry nothing the trace records: known, counted, skipped. */
export const KNOWN_SKIPPED = [
  // hw/vfio (newest layout)
  'vfio_intx_interrupt', 'vfio_pci_intx_eoi', 'vfio_intx_enable_kvm', 'vfio_intx_disable_kvm', 'vfio_intx_update',
  'vfio_intx_enable', 'vfio_intx_disable', 'vfio_msi_interrupt', 'vfio_msix_vector_do_use', 'vfio_msix_vector_release',
  'vfio_msix_enable', 'vfio_msix_pba_disable', 'vfio_msix_pba_enable', 'vfio_msix_disable', 'vfio_msix_fixup',
  'vfio_msix_relo', 'vfio_msi_enable', 'vfio_msi_disable', 'vfio_pci_load_rom', 'vfio_rom_read', 'vfio_pci_size_rom',
  'vfio_vga_write', 'vfio_vga_read', 'vfio_msi_setup', 'vfio_msix_early_setup', 'vfio_check_pcie_flr',
  'vfio_check_pm_reset', 'vfio_check_af_flr', 'vfio_pci_hot_reset', 'vfio_pci_hot_reset_has_dep_devices',
  'vfio_pci_hot_reset_dep_devices', 'vfio_pci_hot_reset_result', 'vfio_pci_populate_device_config',
  'vfio_pci_populate_device_get_irq_info_failure', 'vfio_mdev', 'vfio_add_ext_cap_dropped', 'vfio_pci_reset',
  'vfio_pci_reset_flr', 'vfio_pci_reset_pm', 'vfio_pci_emulated_vendor_id', 'vfio_pci_emulated_device_id',
  'vfio_pci_emulated_sub_vendor_id', 'vfio_pci_emulated_sub_device_id', 'vfio_pci_emulated_class_code',
  'vfio_region_setup', 'vfio_region_dmabuf', 'vfio_region_mmap_fault', 'vfio_region_mmap', 'vfio_region_exit',
  'vfio_region_finalize', 'vfio_region_unmap', 'vfio_region_sparse_mmap_header', 'vfio_region_sparse_mmap_entry',
  'vfio_listener_region_add_iommu', 'vfio_listener_region_del_iommu', 'vfio_listener_region_add_ram',
  'vfio_listener_region_del', 'vfio_listener_region_skip', 'vfio_known_safe_misalignment',
  'vfio_listener_region_add_no_dma_map', 'vfio_listener_region_skip_dma_map', 'vfio_iommu_map_notify',
  'vfio_device_dirty_tracking_update', 'vfio_device_dirty_tracking_start', 'vfio_iommu_map_dirty_notify',
  'vfio_container_query_dirty_bitmap', 'vfio_container_disconnect', 'vfio_group_put', 'vfio_device_get',
  'vfio_device_put', 'vfio_device_get_region_info_type', 'vfio_device_reset_handler', 'vfio_device_attach',
  'vfio_device_detach', 'vfio_pci_synthesize_pasid_cap', 'vfio_pci_igd_opregion_enabled', 'vfio_ioeventfd_exit',
  'vfio_ioeventfd_handler', 'vfio_ioeventfd_init',
  'iommufd_cdev_connect_and_bind', 'iommufd_cdev_getfd', 'iommufd_cdev_alloc_ioas', 'iommufd_cdev_device_info',
  'iommufd_backend_map_dma', 'iommufd_backend_map_file_dma', 'iommufd_backend_unmap_dma',
  // hw/pci, accel/kvm
  'pci_cfg_read', 'pci_cfg_write', 'pci_route_irq', 'pci_nvme_read', 'kvm_set_user_memory', 'kvm_run_exit',
];

/** Older names of events (≈ QEMU 8.x-9.x, the common.c era) -> the newer name. */
export const RENAMED: Record<string, string> = {
  vfio_intx_eoi: 'vfio_pci_intx_eoi',
  vfio_populate_device_config: 'vfio_pci_populate_device_config',
  vfio_populate_device_get_irq_info_failure: 'vfio_pci_populate_device_get_irq_info_failure',
  vfio_attach_device: 'vfio_device_attach',
  vfio_detach_device: 'vfio_device_detach',
  vfio_realize: 'vfio_device_attach',
  vfio_get_dev_region: 'vfio_device_get_region_info_type',
  vfio_disconnect_container: 'vfio_container_disconnect',
  vfio_put_group: 'vfio_group_put',
  vfio_get_device: 'vfio_device_get',
  vfio_put_base_device: 'vfio_device_put',
  vfio_get_dirty_bitmap: 'vfio_container_query_dirty_bitmap',
  vfio_listener_region_add_skip: 'vfio_listener_region_skip',
  vfio_listener_region_del_skip: 'vfio_listener_region_skip',
  vfio_quirk_rom_blacklisted: 'vfio_quirk_rom_in_denylist',
  vfio_state_pending_estimate: 'vfio_state_pending',
  vfio_state_pending_exact: 'vfio_state_pending',
  vfio_reset_handler: 'vfio_device_reset_handler', // seen in real QEMU 10.0 logs (traces/qemu/10.0)
};

export interface TraceEventDecl {
  name: string;
  args: { type: string; name: string }[];
  /** The C format string with the PRI macros expanded as on LP64 (PRIx64 -> "lx"). */
  format: string;
}

const PRI: Record<string, string> = { PRIx64: 'lx', PRIu64: 'lu', PRId64: 'ld', PRIxPTR: 'lx', PRIu32: 'u', PRIx32: 'x', PRId32: 'd', PRIx16: 'x', PRIx8: 'x' };

/** Parse one line of trace-events syntax; null for comments and blank lines. */
export function parseTraceEventDecl(line: string): TraceEventDecl | null {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return null;
  const m = /^([a-z0-9_]+)\((.*?)\)\s+(".*)$/.exec(t);
  if (!m) throw new Error(`not a trace-events line: ${line}`);
  const args =
    m[2]!.trim() === 'void'
      ? []
      : m[2]!.split(',').map((a) => {
          const am = /^(.*?)([A-Za-z_][A-Za-z0-9_]*)$/.exec(a.trim())!;
          return { type: am[1]!.replace(/\s+/g, ' ').trim(), name: am[2]! };
        });
  // The format: string pieces and PRI macros, concatenated as the C compiler would.
  let format = '';
  const re = /"((?:[^"\\]|\\.)*)"|(PRI[a-zA-Z0-9]+)|\s+/g;
  let k: RegExpExecArray | null;
  const src = m[3]!;
  let pos = 0;
  while ((k = re.exec(src)) !== null) {
    if (k.index !== pos) throw new Error(`bad format in trace-events line: ${line}`);
    pos = re.lastIndex;
    if (k[1] !== undefined) format += k[1].replace(/\\t/g, '\t').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    else if (k[2] !== undefined) {
      const p = PRI[k[2]];
      if (p === undefined) throw new Error(`unknown macro ${k[2]}`);
      format += p;
    }
  }
  return { name: m[1]!, args, format };
}

export function parseTraceEvents(text: string): TraceEventDecl[] {
  return text.split('\n').map(parseTraceEventDecl).filter((d): d is TraceEventDecl => d !== null);
}

/** One conversion in a printf format. */
export interface Conversion {
  spec: string; // the whole "%06lx"
  conv: string; // "x", "d", "u", "s", "c", "p"
}

/** Split a printf format into literal pieces and conversions. */
export function splitFormat(format: string): (string | Conversion)[] {
  const parts: (string | Conversion)[] = [];
  const re = /%([-+ #0]*)(\d*)(?:\.(\d+))?(hh|h|ll|l|z|j|t)?([diuxXcsp%])/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(format)) !== null) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    if (m[5] === '%') parts.push('%');
    else parts.push({ spec: m[0], conv: m[5]! });
    last = re.lastIndex;
  }
  if (last < format.length) parts.push(format.slice(last));
  return parts;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A regex matching exactly what `format` prints (leading blanks of the format are optional). */
export function formatToRegex(format: string): RegExp {
  let src = '';
  for (const p of splitFormat(format.trimStart())) {
    if (typeof p === 'string') src += escapeRe(p);
    else if (p.conv === 's') src += '(.*?)';
    else if (p.conv === 'd' || p.conv === 'i') src += '(-?\\d+)';
    else if (p.conv === 'u') src += '(\\d+)';
    else if (p.conv === 'x' || p.conv === 'X') src += '([0-9a-fA-F]+)';
    else if (p.conv === 'c') src += '([\\s\\S])';
    else if (p.conv === 'p') src += '(0x[0-9a-fA-F]+|\\(nil\\))';
  }
  return new RegExp(`^${src}\\s*$`);
}
