// The VMM's options for the traced device, read from its command line (the tracer's
// `vmm_cmdline`, /proc/PID/cmdline with its NULs turned into spaces). QEMU only for now: the
// `-device vfio-pci,host=BDF,opt=val,...` (or JSON `-device {"driver":"vfio-pci",...}`) of this BDF.
// They matter to replay: `x-no-mmap=on` makes QEMU trap every BAR access instead of mapping BARs.

/** Properties naming which device this is: already in DeviceSnapshot.bdf, so left out. */
const ADDRESS_KEYS = new Set(['driver', 'host', 'sysfsdev']);

/** "0000:01:00.0", "01:00.0" and a sysfs path all name the same device: compare without domain 0000. */
function sameDevice(value: string, bdf: string): boolean {
  const norm = (s: string) => {
    const last = s.replace(/\/+$/, '').split('/').pop() ?? '';
    return (/^[0-9a-f]{4}:/i.test(last) ? last : `0000:${last}`).toLowerCase();
  };
  return norm(value) === norm(bdf);
}

/** QEMU's `-device` option string: `driver,key=val,...` where `,,` stands for a literal comma. */
function splitQemuOpts(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== ',') cur += s[i];
    else if (s[i + 1] === ',') {
      cur += ',';
      i++;
    } else {
      out.push(cur);
      cur = '';
    }
  }
  out.push(cur);
  return out;
}

interface VfioDevice {
  address: string; // host= or sysfsdev= value, "" when neither was given
  options: string[];
}

function parseDeviceArg(arg: string): VfioDevice | null {
  if (arg.startsWith('{')) {
    let v: unknown;
    try {
      v = JSON.parse(arg);
    } catch {
      return null; // a JSON -device that held spaces: the joined command line cannot be split back
    }
    if (typeof v !== 'object' || v === null || (v as Record<string, unknown>).driver !== 'vfio-pci') return null;
    const o = v as Record<string, unknown>;
    const address = typeof o.host === 'string' ? o.host : typeof o.sysfsdev === 'string' ? o.sysfsdev : '';
    const options = Object.entries(o)
      .filter(([k]) => !ADDRESS_KEYS.has(k))
      .map(([k, x]) => `${k}=${typeof x === 'boolean' ? (x ? 'on' : 'off') : String(x)}`);
    return { address, options };
  }
  const parts = splitQemuOpts(arg);
  const first = parts[0];
  const driverIsFirst = first === 'vfio-pci';
  if (!driverIsFirst && !parts.includes('driver=vfio-pci')) return null;
  let address = '';
  const options: string[] = [];
  for (const [i, p] of parts.entries()) {
    if (i === 0 && driverIsFirst) continue;
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    if (ADDRESS_KEYS.has(key)) {
      if (key !== 'driver' && address === '') address = p.slice(eq + 1);
      continue;
    }
    if (p !== '') options.push(p);
  }
  return { address, options };
}

/**
 * The options of the `-device vfio-pci` that assigned `bdf`, in command-line order, without the
 * driver name and host=/sysfsdev= (the snapshot's bdf says which device). When `bdf` is unknown
 * ("") and exactly one vfio-pci device is on the line, that one. [] when none matches.
 */
export function vfioDeviceOptions(cmdline: string, bdf: string): string[] {
  const words = cmdline.split(/\s+/).filter((w) => w !== '');
  const devices: VfioDevice[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    let arg: string | undefined;
    if (w === '-device' || w === '--device') arg = words[++i];
    else if (w.startsWith('-device=') || w.startsWith('--device=')) arg = w.slice(w.indexOf('=') + 1);
    if (arg === undefined) continue;
    const d = parseDeviceArg(arg);
    if (d !== null) devices.push(d);
  }
  if (bdf === '') return devices.length === 1 ? devices[0].options : [];
  const mine = devices.find((d) => d.address !== '' && sameDevice(d.address, bdf));
  return mine?.options ?? [];
}
