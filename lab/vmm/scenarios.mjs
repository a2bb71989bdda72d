// Guest-side scenarios the inner guest runs against the assigned e1000e (script language: see
// lab/vmm/inner/main.c). Each runs once per VMM and per variant: `mmap` (QEMU maps the BARs into
// the guest directly) and `no-mmap` (`x-no-mmap=on`: every BAR access traps to pread/pwrite).
//
// Addresses are placed explicitly (not left to each QEMU's SeaBIOS) so the guest-physical addresses
// are the same across QEMU versions. e1000e: BAR0 128K MMIO, BAR1 128K MMIO (flash), BAR2 32 B I/O,
// BAR3 16K MMIO (MSI-X table at 0, emulated by QEMU). PM capability at 0xc8, PMCSR at 0xcc.
// Registers used: STATUS (BAR0+0x8, read-only), RDBAL0 (BAR0+0x2800, plain read/write storage).

export const DEVICE_ID = '8086:10d3';
export const BAR0 = 0xc0000000;
export const PMCSR = '0xcc';

/** Find the device, disable decoding, place BAR0/1/3, enable MEM (IO stays as firmware left it). */
const PLACE = `find ${DEVICE_ID}; bars; mem 0; bar 0 0xc0000000; bar 1 0xc0020000; bar 3 0xc0040000; mem 1`;

export const VARIANTS = ['mmap', 'no-mmap'];
/**
 * Variants run only when asked for (--variant): `attach` (mmap, but QEMU starts paused with -S, and
 * `strace -f -tt -p PID` attaches once the device is open, as a reporter attaches to a running VMM);
 * `bad-name` (a second -device vfio-pci whose sysfsdev names a function that is not in the group:
 * QEMU's VFIO_GROUP_GET_DEVICE_FD fails with the kernel's ENODEV, and realize stops QEMU);
 * `stamped` (x-no-mmap with -msg timestamp=on, as libvirt runs QEMU: dated stderr and trace lines).
 */
export const EXTRA_VARIANTS = ['attach', 'bad-name', 'stamped'];

export const SCENARIOS = [
  {
    name: 'bar-sizing',
    what: 'size every BAR with MEM off, place BAR0/1/3, enable MEM, read STATUS, BAR1 and the MSI-X table, write and read back RDBAL0',
    script: `find ${DEVICE_ID}; bars; mem 0; size; bar 0 0xc0000000; bar 1 0xc0020000; bar 3 0xc0040000; mem 1; rd 0 0x8; rd 1 0x0; rd 3 0x0; wr 0 0x2800 0x12345670; rd 0 0x2800`,
  },
  {
    name: 'mem-toggle',
    what: 'store a known RDBAL0, COMMAND.MEM off, read STATUS and write RDBAL0 while off, MEM on, read both back',
    // The first write makes the read-back independent of what an earlier run left in RDBAL0 (the
    // device keeps it across VMM runs).
    script: `${PLACE}; wr 0 0x2800 0x5a5a5a50; rd 0 0x8; mem 0; rd 0 0x8; wr 0 0x2800 0xa5a5a5a0; mem 1; rd 0 0x2800; rd 0 0x8`,
  },
  {
    name: 'd3hot-read',
    what: 'D0 -> D3hot, read PMCSR, read BAR0 STATUS in D3hot, back to D0, read again',
    script: `${PLACE}; rd 0 0x8; pm 3; cr ${PMCSR} 2; rd 0 0x8; pm 0; cr ${PMCSR} 2; rd 0 0x8`,
  },
  {
    name: 'd3hot-write',
    what: 'D0 -> D3hot, write RDBAL0 in D3hot, back to D0, read it',
    script: `${PLACE}; wr 0 0x2800 0x11111110; pm 3; wr 0 0x2800 0x22222220; pm 0; rd 0 0x2800`,
  },
  {
    name: 'd3hot-d0-read',
    what: 'D0 -> D3hot -> D0 with no access in between, then read and write BAR0',
    script: `${PLACE}; rd 0 0x8; pm 3; cr ${PMCSR} 2; pm 0; cr ${PMCSR} 2; rd 0 0x8; wr 0 0x2800 0x33333330; rd 0 0x2800`,
  },
  {
    name: 'd3hot-mem-orders',
    what: 'MEM off -> D3hot -> MEM on -> D0 -> read; then D3hot -> MEM off -> D0 -> MEM on -> read',
    script: `${PLACE}; mem 0; pm 3; mem 1; pm 0; rd 0 0x8; pm 3; mem 0; pm 0; mem 1; rd 0 0x8`,
  },
  {
    name: 'd3hot-mem-on-read',
    what: 'MEM off -> D3hot -> MEM on (still D3hot) -> read BAR0',
    script: `${PLACE}; mem 0; pm 3; mem 1; cr ${PMCSR} 2; rd 0 0x8; pm 0; rd 0 0x8`,
  },
  {
    name: 'd1-d2',
    what: 'request D1 and D2 (not in PMC), read PMCSR and BAR0 after each; D3hot -> D1 (an invalid transition); D0',
    script: `${PLACE}; cr 0xc8 2; pm 1; cr ${PMCSR} 2; rd 0 0x8; pm 2; cr ${PMCSR} 2; rd 0 0x8; pm 0; pm 3; pm 1; cr ${PMCSR} 2; pm 0; cr ${PMCSR} 2; rd 0 0x8`,
  },
  {
    name: 'bar-move',
    what: 'move BAR0 while MEM is on, read at the new address and at the old one',
    script: `${PLACE}; rd 0 0x8; bar 0 0xc0100000; rd 0 0x8; ra 0xc0000008; cr 0x10 4`,
  },
  {
    name: 'io-bar-d3hot',
    what: 'the I/O BAR (IOADDR/IODATA) in D0, in D3hot, and back in D0',
    script: `${PLACE}; io 1; iow 2 0x0 0x8; ior 2 0x4; pm 3; iow 2 0x0 0x8; ior 2 0x4; pm 0; iow 2 0x0 0x8; ior 2 0x4`,
  },
];

/**
 * QEMU's nvme (1b36:0010): one 16K 64-bit BAR0 with the registers at 0 (CAP 0x0, VS 0x8, AQA 0x24)
 * and the MSI-X table (65 vectors, 0x2000-0x240f) and PBA (0x3000) inside it. vfio-pci reports
 * MSIX_MAPPABLE for it, so QEMU maps the whole BAR and lays its table emulation over it; with
 * `x-msix-relocation=bar2` (variant msix-relo) the emulated table and PBA move to a new BAR2 and
 * BAR0 is the device's throughout. BAR2 is placed in every variant (without relocation nothing is
 * there). Reads: registers, the table (emulated: 0 and masked), the rest of the table's page, the
 * PBA, the rest of the PBA page, the MSI-X capability as the guest sees it.
 */
const NVME_ID = '1b36:0010';
export const NVME_SCENARIOS = [
  {
    name: 'nvme-msix',
    what: 'nvme BAR0 registers, the MSI-X table and PBA inside BAR0, and BAR2 (where x-msix-relocation puts them)',
    script:
      `find ${NVME_ID}; bars; mem 0; size; bar 0 0xc0000000; bar 2 0xc0010000; mem 1; cr 0x40 4; cr 0x44 4; cr 0x48 4; ` +
      'rd 0 0x8; rd 0 0x0; wr 0 0x24 0x001f001f; rd 0 0x24; rd 0 0x2000; rd 0 0x200c; wr 0 0x2000 0xfee00000; rd 0 0x2000; ' +
      'rd 0 0x2800; rd 0 0x3000; rd 0 0x3800; rd 2 0x0; rd 2 0xc; rd 2 0x410; wr 2 0x0 0xfee01000; rd 2 0x0; rd 0 0x2000; rd 0 0x24',
  },
];

/**
 * The devices the nested lab can assign: the outer guest's QEMU device (on the q35 root bus at
 * 00:03.0, behind the emulated Intel IOMMU), the ids the outer init binds to vfio-pci, the scenario
 * set and the variants (outer-init.sh turns each into -device vfio-pci options; `msix-relo` =
 * `x-msix-relocation=bar2`, QEMU 2.12+).
 */
export const DEVICES = {
  e1000e: { qemuDevice: 'e1000e', id: DEVICE_ID, scenarios: SCENARIOS, variants: VARIANTS },
  nvme: { qemuDevice: 'nvme,serial=lab0', id: NVME_ID, scenarios: NVME_SCENARIOS, variants: ['mmap', 'no-mmap', 'msix-relo'] },
};


/** `d3hot-read` + `no-mmap` -> `d3hot-read.no-mmap`; the mmap variant keeps the bare name. */
export function runName(scenario, variant) {
  return variant === 'mmap' ? scenario : `${scenario}.${variant}`;
}
