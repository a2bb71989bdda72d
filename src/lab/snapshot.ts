// Turns the guest's sysfs snapshot of the device (lab/guest/init.sh: config, resource,
// reset_method, iommu_group, uname -r) into the trace header's DeviceSnapshot, so the model
// replays against the config space and BAR layout the real kernel had.
import type { BarInfo, DeviceSnapshot } from '../trace/types.js';
import type { LabConsole } from './serial.js';
import { sriovCapOffset, vfBarsFromResource } from '../import/sysfs-sriov.js';

// include/linux/ioport.h resource flags, as sysfs `resource` prints them.
const IORESOURCE_IO = 0x100n;
const IORESOURCE_MEM = 0x200n;
const IORESOURCE_PREFETCH = 0x2000n;
const IORESOURCE_MEM_64 = 0x100000n;

export interface LabSnapshot {
  device: DeviceSnapshot;
  kernelRelease: string;
  /** sysfs power_state before binding (informational). */
  powerState: string;
  /** vfio_pci's parameters as sysfs showed them after insmod (`vfio_pci.disable_idle_d3=N`); [] when not printed. */
  moduleParams: string[];
  /** The guest's /proc/cmdline words; [] when not printed. */
  kernelCmdline: string[];
}

function resourceLine(line: string): { start: bigint; end: bigint; flags: bigint } {
  const [s, e, f] = line.trim().split(/\s+/).map((x) => BigInt(x));
  return { start: s ?? 0n, end: e ?? 0n, flags: f ?? 0n };
}

function configBytes(rows: string[]): Uint8Array {
  return Uint8Array.from(rows.flatMap((row) => row.trim().split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16))));
}

/**
 * The snapshot for one scenario: the boot-time sysfs facts, with the config space read right
 * before that scenario ran when the console has it (vfio-pci's close leaves COMMAND and other
 * hardware state different from what firmware left at boot).
 */
export function snapshotFromConsole(c: LabConsole, scenario?: string): LabSnapshot {
  const f = c.snapshot.fields;
  const ids = /^0x([0-9a-f]+) device 0x([0-9a-f]+)$/i.exec(f.get('vendor') ?? '');
  if (!ids) throw new Error('lab console: no device snapshot (vendor/device line missing)');
  const perScenario = scenario !== undefined ? c.scenarioConfig.get(scenario) : undefined;
  const config = configBytes(perScenario && perScenario.length > 0 ? perScenario : c.snapshot.config);
  const res = c.snapshot.resource.map(resourceLine);
  const bars: BarInfo[] = [];
  for (let i = 0; i < 6 && i < res.length; i++) {
    const r = res[i];
    if (r.start === 0n && r.end === 0n) continue;
    const io = (r.flags & IORESOURCE_IO) !== 0n;
    if (!io && (r.flags & IORESOURCE_MEM) === 0n) continue;
    bars.push({
      index: i,
      size: r.end - r.start + 1n,
      kind: io ? 'io' : 'mem',
      is64: (r.flags & IORESOURCE_MEM_64) !== 0n,
      prefetchable: (r.flags & IORESOURCE_PREFETCH) !== 0n,
    });
  }
  const rom = res[6];
  const romSize = rom && (rom.start !== 0n || rom.end !== 0n) ? rom.end - rom.start + 1n : 0n;
  const group = Number(f.get('iommu_group') ?? '-1');
  const page = Number(f.get('pagesize') ?? '4096');
  const sysfs = scenario !== undefined ? c.scenarioSysfs.get(scenario) : undefined;
  return {
    kernelRelease: f.get('uname') ?? '',
    powerState: f.get('power_state') ?? '',
    moduleParams: (f.get('modparams') ?? '').split(/\s+/).filter(Boolean).sort(),
    kernelCmdline: (f.get('cmdline') ?? '').split(/\s+/).filter(Boolean),
    device: {
      bdf: f.get('bdf') ?? '',
      vendorId: parseInt(ids[1], 16),
      deviceId: parseInt(ids[2], 16),
      config,
      bars,
      romSize,
      quirks: { nonMappableBars: false, noCommandMemory: false, isVirtfn: false, resourceBusyBars: [], iomapFailBars: [] },
      resetMethods: (f.get('reset_method') ?? '').split(/\s+/).filter(Boolean),
      pageSize: Number.isFinite(page) && page > 0 ? page : 4096,
      vga: false,
      iommuGroup: Number.isFinite(group) ? group : -1,
      ...(sysfs !== undefined ? { sysfs } : {}),
      ...sriovBlocks(f, config),
    },
  };
}

const physfnOf = (f: Map<string, string>): string | undefined => f.get('physfn');

/**
 * The SR-IOV blocks from init.sh's `sriov`, `pfresource`, `physfn` and `vfindex` lines: a VF gets
 * its PF's capability (quirk is_virtfn too), a PF its own. The lab binds the device under test to
 * vfio-pci (a VF's PF too), so that is the driver the trace starts with. A PF's own token is the
 * random one vfio-pci gives it at bind (""); a VF's PF has the all-zero one init.sh set.
 */
function sriovBlocks(f: Map<string, string>, config: Uint8Array): Pick<DeviceSnapshot, 'sriov' | 'sriovVf'> & { quirks?: DeviceSnapshot['quirks'] } {
  const line = f.get('sriov');
  if (line === undefined) return {};
  const kv = new Map(line.split(/\s+/).map((w) => w.split('=') as [string, string]));
  const num = (k: string, radix = 10): number => {
    const v = kv.get(k) ?? '';
    const n = radix === 16 ? parseInt(v.replace(/^0x/i, ''), 16) : Number(v);
    return Number.isFinite(n) ? n : 0;
  };
  // init.sh prints the PF's resource lines 8-13 (VF BARs 0-5) as `pfresource`; they are lines 7-12 of the file.
  const res = (f.get('pfresource') ?? '').split(';').filter((l) => l.trim() !== '').map(resourceLine);
  const vfBars = vfBarsFromResource([...Array.from({ length: 7 }, () => ({ start: 0n, end: 0n, flags: 0n })), ...res], num('totalvfs'));
  const physfn = physfnOf(f);
  const cap = {
    // The PF's own config has it; a VF's snapshot is the VF's config, without the PF's.
    capOffset: physfnOf(f) === undefined ? sriovCapOffset(config) : 0,
    totalVfs: num('totalvfs'),
    numVfs: num('numvfs'),
    firstVfOffset: num('offset'),
    vfStride: num('stride'),
    vfDeviceId: num('vfdevice', 16),
    vfBars,
    driver: 'vfio-pci',
    vfToken: '',
    vfUsers: 0,
    enableSriov: kv.get('enable_sriov') === 'Y',
  };
  if (physfn === undefined) return { sriov: { ...cap, numVfs: 0 } };
  const pfBdf = physfn.split(/\s+/)[0] ?? '';
  const index = Number(f.get('vfindex') ?? '0');
  // init.sh opened the PF once with the all-zero token (`pftoken` line) so the VF can be opened.
  const opened = f.get('pftoken') ?? '';
  const pfToken = /@@R 0 /.test(opened) && !/errno=/.test(opened) ? '00000000-0000-0000-0000-000000000000' : '';
  return {
    sriovVf: { pfBdf, vfIndex: Number.isFinite(index) ? index : 0, pf: { ...cap, vfToken: pfToken } },
    quirks: { nonMappableBars: false, noCommandMemory: true, isVirtfn: true, resourceBusyBars: [], iomapFailBars: [] },
  };
}
