// Boots the lab guest: QEMU q35 under TCG (the host has no vmx/svm), the emulated Intel IOMMU
// (Debian kernels have no VFIO_NOIOMMU, so vfio needs a real group) and an e1000e on the root bus.
// Always under `timeout`: the machine is shared.
//
// Entry point (also used by lab/vmm):
//   bootGuest({ vmlinuz, initrd, append, smp, memMb, devices, extraArgs, timeoutSec })
//     -> { serial (the guest's console text), status, wallMs, timedOut }
import { spawnSync } from 'node:child_process';

/** The emulated device the lab binds to vfio-pci (Intel 82574L) and where it sits. */
export const LAB_DEVICE = { bdf: '0000:00:03.0', vendor: 0x8086, device: 0x10d3 };

/**
 * Where the device sits. `root`: on the root bus (for the e1000e: reset_method `pm`, no slot/bus
 * reset). `root-port`: behind a PCIe root port (reset_method `pm bus`, so hot reset works); the
 * port must be forced to a gen1 x1 link or the bus reset waits for a link that never trains.
 * `device` is a QEMU -device driver with its extra properties (src/lab/devices.ts); the e1000e
 * when not given.
 */
export function topologyArgs(topology, device = { name: 'e1000e', props: [] }, arch = 'amd64', { ssdt } = {}) {
  // device.qemuArgs: what the device needs besides itself (ivshmem-plain's memory backend).
  const dev = (bus) => [...(device.qemuArgs ?? []), '-device', [device.name, bus, ...device.props].join(',')];
  // virtio-net wants a backend; a hub port with nothing else on it keeps it quiet and offline.
  const backend = device.props.some((p) => p.startsWith('netdev=')) ? ['-netdev', 'hubport,id=n0,hubid=0'] : [];
  // arm64: the virt machine's SMMUv3 is a machine option (qemuArgs), not a device.
  const iommu = arch === 'amd64' ? ['-device', 'intel-iommu'] : [];
  switch (topology) {
    case 'root':
      return [...iommu, ...backend, ...dev('bus=pcie.0,addr=0x3')];
    // `root` plus an SSDT (lab/acpi/d3cold-ssdt.asl, built by lab/lib/acpi.mjs) that gives the
    // function ACPI power resources: the platform D3cold QEMU's own tables never offer.
    case 'root-d3cold':
      return [...iommu, ...backend, ...dev('bus=pcie.0,addr=0x3'), ...(ssdt ? ['-acpitable', `file=${ssdt}`] : [])];
    case 'root-port':
      return [
        ...iommu, ...backend,
        '-device', 'pcie-root-port,id=rp1,bus=pcie.0,addr=0x4,chassis=1,x-speed=2_5,x-width=1',
        ...dev('bus=rp1,addr=0x0'),
      ];
    default:
      return undefined;
  }
}

/** The e1000e topologies by name (kept for callers that want the default device). */
export const TOPOLOGIES = { root: topologyArgs('root'), 'root-port': topologyArgs('root-port'), 'root-d3cold': topologyArgs('root-d3cold') };

/**
 * What a topology's platform adds to the trace header's device quirks: `root-d3cold`'s power
 * resource cuts (nothing) and restores power, so the function comes back (`d3cold=wakes`).
 */
export function topologyQuirks(topology) {
  return topology === 'root-d3cold' ? { d3cold: 'wakes' } : {};
}

export const BASE_APPEND = 'console=ttyS0 intel_iommu=on panic=-1 quiet loglevel=3 no_timer_check norandmaps tsc=reliable clocksource=tsc rdinit=/init';

/** arm64 (virt machine): PL011 console; the rest as on x86. */
export const BASE_APPEND_ARM64 = 'console=ttyAMA0 panic=-1 quiet loglevel=3 norandmaps rdinit=/init';

export function qemuArgs({ vmlinuz, initrd, append, smp = 1, memMb = 1024, devices, extraArgs = [], arch = 'amd64' }) {
  const devs = devices ?? ['-device', 'intel-iommu', '-device', 'e1000e,bus=pcie.0,addr=0x3'];
  // arm64: GICv3 with its ITS, so MSIs count as isolated and type1 attaches without allow_unsafe_interrupts.
  const machine = arch === 'amd64' ? 'q35,accel=tcg' : 'virt,iommu=smmuv3,gic-version=3,accel=tcg';
  append ??= arch === 'amd64' ? BASE_APPEND : BASE_APPEND_ARM64;
  return [
    '-machine', machine, '-cpu', 'max', '-smp', String(smp), '-m', String(memMb),
    '-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
    ...devs,
    '-kernel', vmlinuz, '-initrd', initrd, '-append', append,
    ...extraArgs,
  ];
}

export function bootGuest(opts) {
  const timeoutSec = opts.timeoutSec ?? 600;
  const t0 = Date.now();
  const qemu = (opts.arch ?? 'amd64') === 'amd64' ? 'qemu-system-x86_64' : 'qemu-system-aarch64';
  // opts.qemu (lib/qemu10.mjs): another QEMU build than the host's, for devices 7.2 lacks.
  const q = opts.qemu;
  const cmd = q ? [q.cmd, ...q.pre] : [qemu];
  const args = q ? qemuArgs({ ...opts, extraArgs: [...(opts.extraArgs ?? []), ...q.extraArgs] }) : qemuArgs(opts);
  const r = spawnSync('timeout', ['--kill-after=10', String(timeoutSec), ...cmd, ...args], {
    env: q ? { ...process.env, ...q.env } : process.env,
    encoding: 'latin1',
    maxBuffer: 1 << 28,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error) throw new Error(`${q ? q.label : qemu}: ${r.error.message}`);
  return {
    serial: r.stdout.replace(/\r/g, ''),
    stderr: r.stderr,
    status: r.status,
    wallMs: Date.now() - t0,
    timedOut: r.status === 124 || r.status === 137,
  };
}
