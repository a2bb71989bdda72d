// A function that did not come back from D3cold (`quirks d3cold=no-wake`): power-up left it
// inaccessible, so config reads through vfio-pci return all ones (vconfig was built from all-ones
// reads at open; the root port completes the rest with all-ones data) and config writes go
// nowhere. BAR pread/pwrite and faults need no rule here: current_state stayed D3cold, so
// memory_enabled is false and they fail as in D3hot (-EIO, SIGBUS) on 5.19+. What a VMM then
// sees: a config space of 0xff bytes (QEMU's realize fails on it), no working reset.
// SOURCE-ONLY: the lab's emulated devices have no platform D3cold [M: pci_power_up "device
// inaccessible", what vfio_config_init makes of all-ones reads].

import { step, type Step } from '../outcome.js';
import type { HostEvent } from '../../trace/types.js';
import type { Kctx } from './context.js';

const allOnes = (len: number): Uint8Array => new Uint8Array(len).fill(0xff);

/** The step for a pread/pwrite of a lost function, or null when `ev` is not one (or the function answers). */
export function lostAccess(k: Kctx, ev: HostEvent): Step | null {
  if (!k.hw.lost) return null;
  switch (ev.kind) {
    case 'cfg-read':
      return step({ kind: 'ok', ret: BigInt(ev.len), data: allOnes(ev.len) }, 'config.read.device-lost-all-ones');
    case 'region-read':
      return ev.region === 7 ? step({ kind: 'ok', ret: BigInt(ev.len), data: allOnes(ev.len) }, 'config.read.device-lost-all-ones') : null;
    case 'cfg-write':
      return step({ kind: 'ok', ret: BigInt(ev.data.length) }, 'config.write.device-lost-dropped');
    case 'region-write':
      return ev.region === 7 ? step({ kind: 'ok', ret: BigInt(ev.data.length) }, 'config.write.device-lost-dropped') : null;
    default:
      return null;
  }
}
