// The emulated PCI devices the lab can bind to vfio-pci, as data: how QEMU creates each one and
// which of its registers are safe for the lab to touch. "Safe" is a property of QEMU's device
// model, read from its source and confirmed in the lab: a stable register reads without side
// effects (no clear-on-read, no doorbell), a scratch register stores what is written and starts
// nothing (no DMA, no reset, no command). Everything else in a BAR is left alone: the lab tests
// vfio-pci, not the device.

export interface DeviceRegister {
  bar: number;
  offset: number;
  len: 1 | 2 | 4 | 8;
  /** Bits the register stores (scratch registers): random values are masked with it. */
  mask?: number;
}

export interface LabDevice {
  /** The QEMU `-device` driver name, also the name `--device` takes and the traces' folder name. */
  name: string;
  vendor: number;
  device: number;
  /** What it is and which traits made it worth a place in the lab (docs/lab.md has the probe). */
  about: string;
  /** Extra `-device` properties (after `driver,bus=...,addr=...`). */
  props: string[];
  /** QEMU arguments the device needs besides its `-device` (a memory backend it names in props). */
  qemuArgs?: string[];
  /** Registers that read without side effects. */
  stable: DeviceRegister[];
  /** Registers that store what is written and trigger nothing. */
  scratch: DeviceRegister[];
  /**
   * The option ROM file QEMU loads into the ROM BAR by default (its `romfile`, from the ipxe-qemu
   * package); the lab reads the image size from its PCIR chain (trait `rom-image`). None: no ROM.
   */
  romfile?: string;
  /** The outer QEMU: the host's (7.2) unless the device needs a newer one (lab/lib/qemu10.mjs). */
  qemu?: 'qemu10';
  /** Where QEMU puts it (lab/lib/qemu.mjs topologyArgs): the root bus unless given. */
  topology?: 'root' | 'root-port';
  /**
   * An SR-IOV VF: the lab boots with this PF (the device QEMU creates), binds it to vfio-pci with
   * enable_sriov=1, writes 1 to its sriov_numvfs and tests the VF that appears (lab/guest/init.sh).
   */
  pf?: { name: string; vendor: number; device: number };
}

export const LAB_DEVICES: readonly LabDevice[] = [
  {
    name: 'e1000e',
    vendor: 0x8086,
    device: 0x10d3,
    about: 'Intel 82574L: PCIe endpoint, PM (NoSoftRst-, D0/D3hot), MSI, MSI-X in BAR3, I/O BAR, ROM; reset_method pm',
    props: [],
    stable: [{ bar: 0, offset: 0x8, len: 4 }], // STATUS
    scratch: [{ bar: 0, offset: 0x2800, len: 4, mask: 0xfffffff0 }], // RDBAL0
    romfile: 'efi-e1000e.rom',
  },
  {
    name: 'rtl8139',
    vendor: 0x10ec,
    device: 0x8139,
    about: 'Realtek 8139: conventional PCI, 256-byte config space, no capabilities at all (no PM, no MSI/MSI-X), no reset method, 256-byte BARs (sub-page), ROM',
    props: [],
    stable: [{ bar: 1, offset: 0x0, len: 4 }], // IDR0-3 (MAC address)
    scratch: [{ bar: 1, offset: 0x8, len: 4 }], // MAR0-3 (multicast filter)
    romfile: 'efi-rtl8139.rom',
  },
  {
    name: 'nvme',
    vendor: 0x1b36,
    device: 0x0010,
    about: 'QEMU NVMe: PCIe endpoint with FLR (reset_method flr), PM capability with NoSoftRst+, MSI-X in BAR0 next to the registers, one 64-bit BAR, no ROM',
    props: ['serial=lab0'],
    stable: [{ bar: 0, offset: 0x8, len: 4 }], // VS
    scratch: [{ bar: 0, offset: 0x24, len: 4, mask: 0x0fff0fff }], // AQA
  },
  {
    name: 'virtio-net-pci',
    vendor: 0x1af4,
    device: 0x1041,
    about: 'virtio-net, modern layout only (1af4:1041): 256-byte config space on the root bus, no PM and no PCIe capability, no reset method, MSI-X in BAR1, vendor capabilities pointing into 64-bit BAR4',
    props: ['disable-legacy=on'],
    stable: [{ bar: 4, offset: 0x14, len: 1 }], // common cfg: device_status
    scratch: [{ bar: 4, offset: 0x0, len: 4, mask: 0x1 }], // common cfg: device_feature_select
    romfile: 'efi-virtio.rom',
  },
  {
    name: 'i82559er',
    vendor: 0x8086,
    device: 0x1209,
    about: 'Intel 82559ER (eepro100): conventional PCI, 256-byte config space, PM capability claiming D1/D2 (PMC 0x7e21), no MSI/MSI-X; reset_method pm',
    props: [],
    stable: [{ bar: 0, offset: 0x4, len: 4 }], // SCB general pointer
    scratch: [{ bar: 0, offset: 0x4, len: 4 }], // SCB general pointer: stored, used only by a later command
    romfile: 'pxe-eepro100.rom', // a 0x20000 ROM BAR: the legacy PXE image, not the EFI one
  },
  {
    name: 'igb',
    vendor: 0x8086,
    device: 0x10c9,
    about: 'Intel 82576 (QEMU igb, QEMU >= 8.0): PCIe endpoint with an SR-IOV capability (7 VFs, VF BARs 0 and 3, 16K each), FLR, PM, MSI/MSI-X, I/O BAR; the PF side of the SR-IOV scenarios',
    props: [],
    stable: [{ bar: 0, offset: 0x8, len: 4 }], // STATUS
    scratch: [{ bar: 0, offset: 0xc000, len: 4, mask: 0xffffff80 }], // RDBAL0 (82576 queue 0)
    qemu: 'qemu10',
    topology: 'root-port',
  },
  {
    name: 'igb-vf',
    vendor: 0x8086,
    device: 0x10ca,
    about: 'Intel 82576 VF (QEMU igbvf), created through the igb PF\'s sriov_numvfs with the PF bound to vfio-pci: memory enable hard-wired to 0 (vfio-pci emulates COMMAND.MEM), ids and BARs virtualized from the PF\'s SR-IOV capability, FLR, MSI-X in BAR3, VF token required',
    props: [],
    stable: [{ bar: 0, offset: 0x8, len: 4 }], // STATUS (the VF's view)
    scratch: [{ bar: 0, offset: 0x2800, len: 4, mask: 0xffffff80 }], // RDBAL0 of the VF's queue 0
    qemu: 'qemu10',
    topology: 'root-port',
    pf: { name: 'igb', vendor: 0x8086, device: 0x10c9 },
  },
  {
    name: 'ich9-intel-hda',
    vendor: 0x8086,
    device: 0x293e,
    about: 'ICH9 HD Audio: PCIe root-complex integrated endpoint, MSI only, one 16K BAR',
    props: [],
    stable: [{ bar: 0, offset: 0x0, len: 2 }], // GCAP
    scratch: [{ bar: 0, offset: 0x40, len: 4, mask: 0xffffff80 }], // CORBLBASE
  },
  {
    name: 'ivshmem-plain',
    vendor: 0x1af4,
    device: 0x1110,
    about: 'QEMU ivshmem without interrupts: conventional PCI, no capabilities, 256-byte register BAR0 and a 1G 64-bit prefetchable BAR2 (its memory backend): big enough for PMD and PUD mappings of a BAR (huge_fault, 6.12+)',
    props: ['memdev=labshm'],
    // RAM QEMU allocates only where the guest touches it; 1G so that a PUD fits (BARs are aligned to their size).
    qemuArgs: ['-object', 'memory-backend-ram,id=labshm,size=1G'],
    stable: [{ bar: 0, offset: 0x8, len: 4 }], // IVPosition (-1 without a server)
    scratch: [{ bar: 2, offset: 0x0, len: 4 }], // shared memory: RAM
  },
];

export function findLabDevice(name: string): LabDevice | undefined {
  return LAB_DEVICES.find((d) => d.name === name);
}

/** The lab device whose vendor:device ids these are, if any. */
export function labDeviceById(vendor: number, device: number): LabDevice | undefined {
  return LAB_DEVICES.find((d) => d.vendor === vendor && d.device === device);
}
