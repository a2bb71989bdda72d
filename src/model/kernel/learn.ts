// Learning from observations (issue 21): where an observed outcome shows hardware-owned state
// differently from the model (a PMCSR read-back, a config register the function passes through, a
// `power=` sample, the kernel's "Refused to change power state" line), the model adopts what the
// hardware showed and reports it once as a device note, not a divergence: the device is not the
// kernel under test. Everything after is predicted from the corrected hardware state, as the real
// kernel would (it reads the power state back: current_state is what the device says).
// Kernel- and VMM-owned state is never adopted: a disagreement there stays a divergence
// (replay/compare.ts).

import type { Observed, TraceEvent } from '../../trace/types.js';
import type { PowerState, Step } from '../outcome.js';
import * as R from '../pci/regs.js';
import type { Kctx } from './context.js';
import { dropPmSave } from './power.js';
import { cfgRead } from './config.js';
import { regionRw } from './rdwr.js';
import { bytesValue, isZero, regKey, storeValue, valueHex, type RegKey, type RegValue } from './written.js';

/** What one observation taught: the device note, and the event's step predicted again from it. */
export interface Learned {
  note: string | null;
  /** Set when the adopted trait changes this very event's outcome (the kernel read the device). */
  corrected?: Step;
}

const STATE_OF: PowerState[] = ['D0', 'D1', 'D2', 'D3hot'];
const CODE: Record<PowerState, number> = { D0: 0, D1: 1, D2: 2, D3hot: 3, D3cold: 3 };
const DEPTH: Record<PowerState, number> = { D0: 0, D1: 1, D2: 2, D3hot: 3, D3cold: 4 };
const REFUSED = /Refused to change power state from (D0|D1|D2|D3hot|D3cold) to (D0|D1|D2|D3hot|D3cold)/i;

/**
 * Compares what `obs` shows of the hardware with the model's hardware state after `s`; adopts the
 * difference and returns the device note, or null when the hardware agrees (or nothing shows it).
 */
export function observeHardware(k: Kctx, ev: TraceEvent, obs: Observed, s: Step): Learned {
  // One call per observed event of a replay: no closure, no result object when nothing is learned.
  let note: string | null = null;
  if (obs.kernelLog !== undefined) note = joinNotes(note, fromKernelLog(k, obs.kernelLog));
  const o = s.outcome;
  if (obs.data !== undefined && o.kind === 'ok' && o.data !== undefined && o.own !== undefined) {
    const off = ev.kind === 'cfg-read' ? ev.offset : ev.kind === 'region-read' && ev.region === 7 ? Number(ev.offset) : -1;
    if (off >= 0) note = joinNotes(note, fromConfigRead(k, off, o.data, o.own, obs.data));
  }
  if (obs.powerState !== undefined && obs.powerState !== '') note = joinNotes(note, fromPowerSample(k, obs.powerState));
  note = joinNotes(note, fromRegisters(k, ev, obs));
  const cfg = fromConfigSize(k, ev, obs, s);
  if (cfg !== null) return { note: joinNotes(note, cfg.note), corrected: cfg.corrected };
  const rom = fromRomRead(k, ev, obs, s);
  if (rom !== null) return { note: joinNotes(note, rom.note), corrected: rom.corrected };
  return note === null ? NOTHING_LEARNED : { note };
}

/** What most observations teach (shared: callers only read it). */
const NOTHING_LEARNED: Learned = Object.freeze({ note: null });

function joinNotes(note: string | null, n: string | null): string | null {
  return n === null ? note : note === null ? n : `${note}; ${n}`;
}

/**
 * Register values around a reset: a device register written before a successful reset (function or
 * hot reset) and read back after it with the same value shows a reset that clears nothing
 * (trait reset-clears=no). A zero written proves nothing (the reset value), nor does a read without
 * a reset in between (registers are not memory).
 */
function fromRegisters(k: Kctx, ev: TraceEvent, obs: Observed): string | null {
  const hw = k.hw;
  const w = hw.written;
  const ok = (obs.errno === undefined || obs.errno === '') && obs.signal === undefined;
  if (ev.kind === 'ioctl' && (ev.op === 'reset' || ev.op === 'hot-reset') && obs.ret === 0n) {
    // Every value written so far now predates a reset (the entries keep their count).
    hw.resets++;
    return null;
  }
  let bar: number;
  let seen: RegValue;
  if (ev.kind === 'region-write' && ev.region < 6 && ok) {
    remember(hw, regKey(ev.region, ev.offset, ev.data.length), bytesValue(ev.data, ev.data.length));
    return null;
  } else if (ev.kind === 'mem-write' && ok) {
    remember(hw, regKey(ev.bar, ev.offset, ev.len), storeValue(ev.value, ev.len));
    return null;
  } else if (ev.kind === 'region-read' && ev.region < 6 && ok && obs.data !== undefined) {
    bar = ev.region;
  } else if (ev.kind === 'mem-read' && ok && obs.data !== undefined) {
    bar = ev.bar;
  } else return null;
  const was = w.get(regKey(bar, ev.offset, ev.len));
  if (was === undefined || was.resets === hw.resets) return null;
  seen = bytesValue(obs.data, ev.len);
  if (seen !== was.value || isZero(was.value) || !k.hw.traits.resetClears) return null;
  k.hw.traits.resetClears = false;
  return `the reset clears nothing (bar${bar}+0x${ev.offset.toString(16)} reads back ${valueHex(seen)}, written before the reset), adopted`;
}

/** Records a register write; an entry already there is updated in place (its map position kept). */
function remember(hw: Kctx['hw'], key: RegKey, value: RegValue): void {
  const e = hw.written.get(key);
  if (e === undefined) hw.written.set(key, { value, resets: hw.resets });
  else {
    e.value = value;
    e.resets = hw.resets;
  }
}

/**
 * A config read past 256 bytes shows the function's config space size (pdev->cfg_size, which
 * vfio-pci bounds every access with: -EFAULT past it): a read there that comes back means 4096
 * bytes, -EFAULT means 256. A snapshot of only 256 bytes (lspci -x) or a padded one says otherwise.
 */
function fromConfigSize(k: Kctx, ev: TraceEvent, obs: Observed, s: Step): { note: string; corrected: Step } | null {
  if (ev.kind !== 'cfg-read' && !(ev.kind === 'region-read' && ev.region === 7)) return null;
  const off = Number(ev.offset);
  if (off < 256 || off + ev.len > 4096) return null;
  const len = ev.len;
  const failed = obs.errno === 'EFAULT';
  const came = (obs.errno === undefined || obs.errno === '') && obs.signal === undefined && (obs.ret !== undefined || obs.data !== undefined);
  const size = k.hw.traits.cfgSize;
  let learned: 256 | 4096;
  if (came && size === 256 && s.rule === 'config.read.out-of-range-efault') learned = 4096;
  else if (failed && size === 4096 && s.outcome.kind !== 'errno') learned = 256;
  else return null;
  k.hw.traits.cfgSize = learned;
  const r = cfgRead(k, off, len);
  return {
    note: `config space is ${learned} bytes (a read at 0x${off.toString(16)} ${came ? 'comes back' : 'fails -EFAULT'}), adopted`,
    corrected: { ...r, effects: s.effects },
  };
}

/**
 * A ROM read the model failed with -EIO (memory disabled) came back: the BAR there is past the
 * ROM image, which vfio fills with 0xff without the memory test. The image ends at or before the
 * read's offset (the device's trait `rom-image`); the read is predicted again from it.
 */
function fromRomRead(k: Kctx, ev: TraceEvent, obs: Observed, s: Step): { note: string; corrected?: Step } | null {
  if (ev.kind !== 'region-read' || ev.region !== 6 || s.rule !== 'rdwr.rom.memory-disabled-eio') return null;
  const came = (obs.errno === undefined || obs.errno === '') && obs.signal === undefined && (obs.ret !== undefined || obs.data !== undefined);
  // The fill is all 0xff: other bytes came from the device, so memory was enabled after all (the
  // model's power or MSE belief is what is wrong) and the image size is not what it shows.
  const fill = obs.data === undefined || obs.data.subarray(0, ev.len).every((b) => b === 0xff);
  if (!came || !fill || ev.offset >= k.hw.traits.romImage) return null;
  k.hw.traits.romImage = ev.offset;
  const r = regionRw(k, 6, ev.offset, ev.len, false);
  return { note: `ROM image ends at or before rom+0x${ev.offset.toString(16)} (vfio reads 0xff past it with memory disabled), adopted`, corrected: { ...r, effects: s.effects } };
}

/** The function did not go to `to` and stays in `stayed`: it refuses `to` from now on. */
function adoptRefusal(k: Kctx, to: PowerState, stayed: PowerState, evidence: string): string | null {
  const known = !k.hw.traits.accepts.has(to) && k.hw.power === stayed;
  k.hw.traits.accepts.delete(to);
  if (k.hw.power !== stayed) {
    setPowerBits(k, stayed);
    // vfio saves NoSoftRst- state only when current_state >= D3hot after the call [S]: nothing to restore.
    if (DEPTH[stayed] < DEPTH.D3hot) dropPmSave(k);
  }
  return known ? null : `device refuses ${to}, stays in ${stayed} (${evidence})`;
}

function setPowerBits(k: Kctx, p: PowerState): void {
  k.hw.power = p;
  if (k.g.pm === 0) return;
  const at = k.g.pm + R.PCI_PM_CTRL;
  k.hw.config.setU16(at, (k.hw.config.u16(at) & ~R.PCI_PM_CTRL_STATE_MASK) | CODE[p]);
}

function fromKernelLog(k: Kctx, log: string): string | null {
  const m = REFUSED.exec(log);
  if (m === null) return null;
  // The message names the state read back (current_state) first, then the one asked for.
  const stayed = normState(m[1]!);
  const to = normState(m[2]!);
  return adoptRefusal(k, to, stayed, 'kernel log');
}

function normState(s: string): PowerState {
  const l = s.toLowerCase();
  return l === 'd3hot' ? 'D3hot' : l === 'd3cold' ? 'D3cold' : (s.toUpperCase() as PowerState);
}

/** Config bits the function passes through (not owned by vfio): the function's registers. */
function fromConfigRead(k: Kctx, off: number, model: Uint8Array, own: Uint8Array, seen: Uint8Array): string | null {
  const n = Math.min(model.length, seen.length);
  let first = -1;
  let count = 0;
  let note: string | null = null;
  const pmcsr = k.g.pm !== 0 ? k.g.pm + R.PCI_PM_CTRL : -1;
  for (let i = 0; i < n; i++) {
    const dev = ~own[i]! & 0xff;
    if (((model[i]! ^ seen[i]!) & dev) === 0) continue;
    const at = off + i;
    if (at === pmcsr && ((model[i]! ^ seen[i]!) & R.PCI_PM_CTRL_STATE_MASK) !== 0) {
      const shown = STATE_OF[seen[i]! & R.PCI_PM_CTRL_STATE_MASK]!;
      if (DEPTH[shown] < DEPTH[k.hw.power]) note = adoptRefusal(k, k.hw.power, shown, `PMCSR reads ${shown}`);
      else {
        note = `device is in ${shown}, model had ${k.hw.power} (PMCSR)`;
        setPowerBits(k, shown);
      }
    }
    // Adopt the function's bits of this byte (the virtualized ones stay vfio's).
    k.hw.config.setU8(at, (k.hw.config.u8(at) & ~dev) | (seen[i]! & dev));
    if (first < 0) first = i;
    count++;
  }
  if (first < 0) return null;
  if (note !== null && count === 1) return note;
  const h = (b: number): string => b.toString(16).padStart(2, '0');
  const reg = `config 0x${(off + first).toString(16)} reads ${h(seen[first]!)} where the model had ${h(model[first]!)}${count > 1 ? ` (+${count - 1} bytes)` : ''}, adopted`;
  return note === null ? reg : `${note}; ${reg}`;
}

function fromPowerSample(k: Kctx, sample: string): string | null {
  const shown = STATE_OF.find((s) => s === sample) ?? (sample === 'D3cold' ? 'D3cold' : undefined);
  if (shown === undefined || shown === k.hw.power) return null;
  // The device can stay shallower than asked (a refusal); it cannot go deeper by itself: a deeper
  // sample is the kernel's doing and stays a divergence (compare.ts).
  if (DEPTH[shown] < DEPTH[k.hw.power]) return adoptRefusal(k, k.hw.power, shown, `power=${shown} sampled`);
  return null;
}
