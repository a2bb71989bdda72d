// Honest uncertainty (issue 20, item 7). A device ioctl whose argument was not captured (strace
// alone: VFIO_DEVICE_FEATURE, SET_IRQS, PCI_HOT_RESET imported as `raw`) replays `unsupported`, but
// it may have changed the device: a low-power FEATURE puts it in D3cold, a hot reset resets it,
// SET_IRQS changes the MSI/MSI-X enables and INTx masking seen in config space. From there on the
// outcomes that depend on that state are not predictions the model can make: they replay
// `unsupported` naming the call ("after opaque #N"), instead of confident guesses.

import type { Step } from '../model/outcome.js';
import { step } from '../model/outcome.js';
import type { DeviceSnapshot, EventKind, TraceEvent } from '../trace/types.js';

export const RULE_AFTER_OPAQUE = 'replay.after-opaque';

/** What an opaque call may have changed: the whole device, or only its config space. */
type Scope = 'device' | 'config';

/** Request numbers of device ioctls that change state (include/uapi/linux/vfio.h). */
const OPAQUE_SCOPE: ReadonlyMap<number, Scope> = new Map([
  [0x3b75, 'device'], // VFIO_DEVICE_FEATURE (low power entry/exit, DMABUF, migration state)
  [0x3b71, 'device'], // VFIO_DEVICE_PCI_HOT_RESET
  [0x3b6e, 'config'], // VFIO_DEVICE_SET_IRQS
]);

/** Event kinds whose outcome reads device state, per scope. */
const DEPENDS: Record<Scope, ReadonlySet<EventKind>> = {
  config: new Set<EventKind>(['cfg-read', 'guest-cfg-read']),
  device: new Set<EventKind>([
    'cfg-read', 'cfg-write', 'region-read', 'region-write', 'mmap', 'mem-read', 'mem-write', 'dmabuf',
    'guest-cfg-read', 'guest-cfg-write', 'guest-mmio-read', 'guest-mmio-write',
  ]),
};

/**
 * Config ranges SET_IRQS can change as reads see them: the MSI (id 5) and MSI-X (id 0x11)
 * capabilities (enable bits, vector control). null when the snapshot has no config to find them in.
 */
function irqCapRanges(config: Uint8Array): [number, number][] | null {
  if (config.length < 0x40 || (config[0x06]! & 0x10) === 0) return null;
  const out: [number, number][] = [];
  let at = config[0x34]! & 0xfc;
  for (let n = 0; at >= 0x40 && at + 1 < config.length && n < 48; n++) {
    if (config[at] === 0x05) out.push([at, at + 24]);
    if (config[at] === 0x11) out.push([at, at + 12]);
    at = config[at + 1]! & 0xfc;
  }
  return out;
}

export class OpaqueTracker {
  private readonly irqRanges: [number, number][] | null;
  constructor(device: DeviceSnapshot) {
    this.irqRanges = irqCapRanges(device.config);
  }

  /** The first opaque call of each scope (the one the outcomes name). */
  private readonly since = new Map<Scope, { seq: bigint; name: string }>();
  /** Outcomes replaced because of an opaque call. */
  count = 0;
  /** The first opaque call seen, for the summary. */
  first: { seq: bigint; name: string } | null = null;

  private touchesIrqState(ev: TraceEvent): boolean {
    if (this.irqRanges === null) return true;
    if (ev.kind !== 'cfg-read' && ev.kind !== 'guest-cfg-read') return false;
    const end = ev.offset + ev.len;
    return this.irqRanges.some(([a, b]) => ev.offset < b && a < end);
  }

  /** The step to report for `ev`, given what the model predicted. */
  apply(ev: TraceEvent, s: Step): Step {
    if (s.outcome.kind !== 'unsupported') {
      for (const [scope, call] of this.since) {
        if (!DEPENDS[scope].has(ev.kind)) continue;
        if (scope === 'config' && !this.touchesIrqState(ev)) continue;
        this.count++;
        return step(
          { kind: 'unsupported', reason: `after opaque #${String(call.seq).padStart(4, '0')} (${call.name} without its arguments): the state it may have changed is unknown` },
          RULE_AFTER_OPAQUE,
        );
      }
    }
    if (ev.kind === 'ioctl' && ev.op === 'raw' && ev.fdKind === 'device' && ev.arg.length === 0) {
      const scope = OPAQUE_SCOPE.get(ev.request);
      if (scope !== undefined) {
        const call = { seq: ev.seq, name: ev.name || `0x${ev.request.toString(16)}` };
        if (!this.since.has(scope)) this.since.set(scope, call);
        if (scope === 'device' && !this.since.has('config')) this.since.set('config', call);
        this.first ??= call;
      }
    }
    return s;
  }
}
