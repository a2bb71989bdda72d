// vfio_pci_config.c: the virtual config space (vconfig), the per-byte permission model, COMMAND
// (MSE/IO mirroring, zap on MSE clear, back-door reset detection), BAR/ROM sizing, PMCSR power
// changes, PCIe/AF FLR, MSI/MSI-X capability writes. Evidence per rule in the comments.

import { step, type Effect, type Step, type PowerState } from '../outcome.js';
import { ConfigImage, leBytes, leValue } from '../pci/config-image.js';
import * as R from '../pci/regs.js';
import { emulatesCommandMemory, exemptFromMse, memoryEnabled, takeWriter, zapBars, type Kctx } from './context.js';
import { revokeAll, unrevokeIfEnabled } from './dmabuf.js';
import { buildPerms, ByteKind } from './perms.js';
import { vfioSetPowerState } from './power.js';
import { functionReset } from './reset.js';
import { isVf, pfKeepsD0, vfVconfig } from './sriov.js';

/** vfio_config_init(): vconfig from the hardware after enable, hidden caps unlinked [S/M]. */
export function initVconfig(k: Kctx): void {
  const vc = k.hw.config.clone();
  k.st.perms = buildPerms(vc, k.g.walk, { pmeVirtualized: k.v.d3hotBlocksAccess });
  if (k.v.d3hotBlocksAccess && k.g.pm !== 0) {
    // PME bits read 0 in vconfig (5.19+) [S comment]
    vc.setU16(k.g.pm + R.PCI_PM_PMC, vc.u16(k.g.pm + R.PCI_PM_PMC) & ~R.PCI_PM_CAP_PME_MASK);
    vc.setU16(k.g.pm + R.PCI_PM_CTRL, vc.u16(k.g.pm + R.PCI_PM_CTRL) & ~(R.PCI_PM_CTRL_PME_ENABLE | R.PCI_PM_CTRL_PME_STATUS));
  }
  if (exemptFromMse(k)) vc.setU16(R.PCI_COMMAND, vc.u16(R.PCI_COMMAND) | R.PCI_COMMAND_MEMORY);
  vfVconfig(k, vc);
  k.st.vconfig = vc;
  k.st.bardirty = true;
  k.st.rbar = [];
  for (let i = 0; i < 7; i++) k.st.rbar.push(k.hw.config.u32(i < 6 ? R.PCI_BASE_ADDRESS_0 + 4 * i : R.PCI_ROM_ADDRESS));
}

/** vfio_bar_fixup(): sizing emulation of the virtual BARs [S]. */
function barFixup(k: Kctx, vc: ConfigImage): void {
  for (let i = 0; i < 6; i++) {
    const b = k.g.bars[i];
    const at = R.PCI_BASE_ADDRESS_0 + 4 * i;
    if (b === undefined || b.kind === 'none' || b.start === 0n || b.size === 0n) {
      // unimplemented BAR, or the upper half of a 64-bit BAR (handled with its lower half below)
      if (!(i > 0 && k.g.bars[i - 1]?.is64 === true && k.g.bars[i - 1]?.size !== 0n)) vc.setU32(at, 0);
      continue;
    }
    const mask = ~(b.size - 1n);
    let flags = 0;
    if (b.kind === 'io') flags = R.PCI_BASE_ADDRESS_SPACE_IO;
    else flags = (b.is64 ? R.PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (b.prefetch ? R.PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
    vc.setU32(at, ((vc.u32(at) & Number(mask & 0xffffffffn) & (b.kind === 'io' ? ~0x3 : ~0xf)) | flags) >>> 0);
    if (b.is64 && i < 5) vc.setU32(at + 4, (vc.u32(at + 4) & Number((mask >> 32n) & 0xffffffffn)) >>> 0);
  }
  if (k.g.romSize > 0n && k.g.romStart !== 0n) {
    const mask = Number(~(k.g.romSize - 1n) & 0xffffffffn) | R.PCI_ROM_ADDRESS_ENABLE;
    vc.setU32(R.PCI_ROM_ADDRESS, (vc.u32(R.PCI_ROM_ADDRESS) & mask) >>> 0);
  } else vc.setU32(R.PCI_ROM_ADDRESS, 0);
}

function touchesBars(off: number, len: number): boolean {
  const end = off + len;
  return (off < 0x28 && end > 0x10) || (off < 0x34 && end > 0x30);
}

/** Chunks of 4/2/1 aligned bytes, as vfio_config_do_rw splits an access. */
function chunks(off: number, len: number): { pos: number; size: number }[] {
  const out: { pos: number; size: number }[] = [];
  let pos = off;
  let left = len;
  while (left > 0) {
    const size = left >= 4 && pos % 4 === 0 ? 4 : left >= 2 && pos % 2 === 0 ? 2 : 1;
    out.push({ pos, size });
    pos += size;
    left -= size;
  }
  return out;
}

function readBytes(k: Kctx, vc: ConfigImage, pos: number, size: number): bigint {
  const p = k.st.perms;
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) {
    const at = pos + i;
    const virt = p?.virt[at] ?? 0;
    const byte = (k.hw.config.u8(at) & ~virt) | (vc.u8(at) & virt);
    v = (v << 8n) | BigInt(byte & 0xff);
  }
  // no_command_memory devices: vconfig MSE OR-ed into COMMAND reads [S]
  if (pos <= R.PCI_COMMAND && pos + size > R.PCI_COMMAND && emulatesCommandMemory(k)) {
    v |= BigInt(vc.u16(R.PCI_COMMAND) & R.PCI_COMMAND_MEMORY) << BigInt(8 * (R.PCI_COMMAND - pos));
  }
  return v;
}

/** Read as the user would, without side effects (KernelView.peekConfig). */
export function peekConfig(k: Kctx, off: number, len: number): bigint {
  if (!k.st.open) return leValue(k.hw.config.slice(off, len));
  // A peek has no side effects: a pending BAR fixup is applied to a copy of vconfig (cfgRead
  // commits it itself). Without one, readBytes only reads vconfig, so no copy is needed; copying
  // the whole image on every read was a hot spot of small-trace replays.
  let vc = k.st.vconfig;
  if (k.st.bardirty && touchesBars(off, len)) {
    vc = vc.clone();
    barFixup(k, vc);
  }
  let v = 0n;
  let shift = 0n;
  for (const c of chunks(off, len)) {
    v |= readBytes(k, vc, c.pos, c.size) << shift;
    shift += BigInt(8 * c.size);
  }
  return v;
}

/** pdev->cfg_size bounds every access [S vfio_config_do_rw]: the function's size, as learned (learn.ts). */
function rangeOk(k: Kctx, off: number, len: number): boolean {
  const size = k.hw.traits.cfgSize;
  return off >= 0 && off < size && off + len <= size;
}

export function cfgRead(k: Kctx, off: number, len: number): Step {
  if (len === 0) return step({ kind: 'ok', ret: 0n }, 'config.read.zero-length');
  if (!rangeOk(k, off, len)) return step({ kind: 'errno', errno: 'EFAULT' }, 'config.read.out-of-range-efault');
  if (off + len > k.g.knownCfg)
    return step({ kind: 'unsupported', reason: `config bytes past 0x${k.g.knownCfg.toString(16)} are not in the device snapshot` }, 'config.read.snapshot-short');
  if (k.st.bardirty && touchesBars(off, len)) {
    barFixup(k, k.st.vconfig);
    k.st.bardirty = false;
  }
  if (hiddenHeadOutOfBounds(k, off, len))
    return step({ kind: 'kernel-failure', failure: 'warn', where: 'vfio_pci_config_rw', consequence: 'continues' }, 'config.ecap.hidden-head-perms-oob-warn');
  const v = peekConfig(k, off, len);
  return step({ kind: 'ok', ret: BigInt(len), data: leBytes(v, len), own: configOwnMask(k, off, len) }, readRule(k, off, len));
}

/** Which rule a config read shows: BAR sizing emulation, or for a VF what vfio-pci makes up. */
function readRule(k: Kctx, off: number, len: number): string {
  const end = off + len;
  if (isVf(k)) {
    if (touchesBars(off, len)) return 'config.vf.bar-from-pf-sriov';
    if (off < 4 || (off <= R.PCI_INTERRUPT_PIN && end > R.PCI_INTERRUPT_PIN)) return 'config.vf.ids-and-pin-virtualized';
    if (off <= R.PCI_COMMAND && end > R.PCI_COMMAND && exemptFromMse(k)) return 'config.vf.command-mem-emulated';
  }
  return touchesBars(off, len) ? 'config.read.bar-emulated' : 'config.read';
}


/**
 * Catalog bug hidden-first-ecap (fixed by fe4bf8d0b671): the first extended capability is hidden
 * because its ID is above PCI_EXT_CAP_ID_MAX; pci_config_map keeps that ID, and a read of its
 * header indexes ecap_perms[] with it: WARN_ON in vfio_config_do_rw and perm bits read out of
 * bounds (what the read returns is then undefined). Fixed versions read it through direct
 * read-only perms: the zeroed anchor from vconfig.
 */
function hiddenHeadOutOfBounds(k: Kctx, off: number, len: number): boolean {
  if (!k.v.bugFirstEcapPermsOob || off >= R.PCI_CFG_SPACE_SIZE + 4 || off + len <= R.PCI_CFG_SPACE_SIZE) return false;
  const head = k.g.walk.caps.find((c) => c.space === 'ext' && c.offset === R.PCI_CFG_SPACE_SIZE);
  return head !== undefined && head.id > R.PCI_EXT_CAP_ID_ABOVE_ANY_MAX;
}

/**
 * The bits of a config read vfio-pci decides: the virtualized ones (served from vconfig, per the
 * release's permission tables), plus COMMAND.MEM of a function without one (OR-ed in from vconfig).
 * The rest pass through from the function: hardware state (kernel/learn.ts) [data-owner.ts].
 */
export function configOwnMask(k: Kctx, off: number, len: number): Uint8Array {
  const own = new Uint8Array(len);
  const virt = k.st.perms?.virt;
  if (virt !== undefined) for (let i = 0; i < len; i++) own[i] = virt[off + i] ?? 0;
  const at = R.PCI_COMMAND - off;
  if (at >= 0 && at < len && emulatesCommandMemory(k)) own[at] |= R.PCI_COMMAND_MEMORY;
  return own;
}

/** vfio_default_config_write(): virt&write bits to vconfig, ~virt&write bits to HW [S]. */
function defaultWrite(k: Kctx, pos: number, size: number, val: bigint): void {
  const p = k.st.perms;
  if (p === null) return;
  for (let i = 0; i < size; i++) {
    const at = pos + i;
    const b = Number((val >> BigInt(8 * i)) & 0xffn);
    const w = p.write[at] ?? 0;
    const virt = p.virt[at] ?? 0;
    if (w & virt) k.st.vconfig.setU8(at, (k.st.vconfig.u8(at) & ~(w & virt)) | (b & w & virt));
    if (w & ~virt) hwWriteByte(k, at, b, w & ~virt);
  }
}

/** A config write reaching the function: only the bits it implements as writable stick. */
function hwWriteByte(k: Kctx, at: number, b: number, mask: number): void {
  const m = mask & (k.hw.wmask[at] ?? 0);
  k.hw.config.setU8(at, (k.hw.config.u8(at) & ~m) | (b & m));
}

function rawWrite(k: Kctx, pos: number, size: number, val: bigint): void {
  for (let i = 0; i < size; i++) hwWriteByte(k, pos + i, Number((val >> BigInt(8 * i)) & 0xffn), 0xff);
}

interface WriteResult {
  rule: string;
  effects: Effect[];
}

export function cfgWrite(k: Kctx, off: number, data: Uint8Array): Step {
  const len = data.length;
  if (len === 0) return step({ kind: 'ok', ret: 0n }, 'config.write.zero-length');
  const effects: Effect[] = [];
  let rule = 'config.write.default';
  for (const c of chunks(off, len)) {
    // Each chunk is range-checked; earlier chunks stay written when a later one fails [S].
    if (!rangeOk(k, c.pos, c.size)) return step({ kind: 'errno', errno: 'EFAULT' }, 'config.write.out-of-range-efault', effects);
    const val = leValue(data.subarray(c.pos - off, c.pos - off + c.size));
    const r = writeChunk(k, c.pos, c.size, val);
    effects.push(...r.effects);
    if (r.rule !== 'config.write.default') rule = r.rule;
  }
  return step({ kind: 'ok', ret: BigInt(len) }, rule, effects);
}

function writeChunk(k: Kctx, pos: number, size: number, val: bigint): WriteResult {
  const p = k.st.perms;
  const kind = (p?.kind[pos] ?? ByteKind.Raw) as ByteKind;
  const capOff = pos - (p?.capStart[pos] ?? 0);
  switch (kind) {
    case ByteKind.Raw:
      rawWrite(k, pos, size, val);
      return { rule: 'config.write.unassigned-raw', effects: [] };
    case ByteKind.Header:
      return headerWrite(k, pos, size, val);
    case ByteKind.Pm:
      return pmWrite(k, pos, size, val, capOff);
    case ByteKind.Exp:
      return expWrite(k, pos, size, val, capOff);
    case ByteKind.Af:
      return afWrite(k, pos, size, val, capOff);
    case ByteKind.Msix:
      return { rule: 'config.msix.write-dropped', effects: [] };
    case ByteKind.VndrRaw:
      if (capOff >= 2 || pos >= R.PCI_CFG_SPACE_SIZE) rawWrite(k, pos, size, val);
      return { rule: 'config.vndr.write-raw', effects: [] };
    case ByteKind.Msi:
      defaultWrite(k, pos, size, val);
      msiFixup(k, pos, size);
      return { rule: 'config.msi.write-virtual', effects: [] };
    case ByteKind.Direct:
    case ByteKind.ExtDirect:
      return { rule: 'config.cap.write-dropped', effects: [] };
    default:
      defaultWrite(k, pos, size, val);
      return { rule: 'config.write.default', effects: [] };
  }
}

// ----- standard header -------------------------------------------------------------------------

function needBarRestore(k: Kctx): boolean {
  for (let i = 0; i < 6; i++) if (k.hw.config.u32(R.PCI_BASE_ADDRESS_0 + 4 * i) !== k.st.rbar[i]) return true;
  return false;
}

function barRestore(k: Kctx): Effect[] {
  for (let i = 0; i < 6; i++) k.hw.config.setU32(R.PCI_BASE_ADDRESS_0 + 4 * i, k.st.rbar[i] ?? 0);
  k.hw.config.setU32(R.PCI_ROM_ADDRESS, k.st.rbar[6] ?? 0);
  return [{ kind: 'restore-bars' }];
}

function headerWrite(k: Kctx, pos: number, size: number, val: bigint): WriteResult {
  const effects: Effect[] = [];
  let rule = 'config.write.default';
  if (pos === R.PCI_COMMAND) {
    const newCmd = Number(val & (size >= 2 ? 0xffffn : 0xffn));
    const newMem = (newCmd & R.PCI_COMMAND_MEMORY) !== 0;
    const newIo = (newCmd & R.PCI_COMMAND_IO) !== 0;
    if (k.v.blockDisabledMmio) {
      // 5.8+: zap + memory_lock write (+ revoke, 6.19) when MEM is written 0, even if already 0 [S].
      if (!newMem) {
        effects.push(...zapBars(k));
        takeWriter(k);
        effects.push(...revokeAll(k));
        rule = 'config.command.mse-clear-zaps';
      } else {
        takeWriter(k);
        rule = 'config.command.mse-set';
      }
    } else rule = newMem ? 'config.command.mse-set' : 'config.command.mse-clear-no-zap';
    const phys = k.hw.config.u16(R.PCI_COMMAND);
    const virt = k.st.vconfig.u16(R.PCI_COMMAND);
    const noCmdMem = emulatesCommandMemory(k);
    const memLost = newMem && (virt & R.PCI_COMMAND_MEMORY) !== 0 && !(phys & R.PCI_COMMAND_MEMORY) && !noCmdMem;
    const ioLost = newIo && (virt & R.PCI_COMMAND_IO) !== 0 && !(phys & R.PCI_COMMAND_IO);
    if (memLost || ioLost || needBarRestore(k)) {
      // Back-door reset detected: write the BARs captured at open back [S vfio_bar_restore].
      effects.push(...barRestore(k));
      rule = 'config.command.backdoor-restore-bars';
    }
    const oldVirtIntx = (virt & R.PCI_COMMAND_INTX_DISABLE) !== 0;
    defaultWrite(k, pos, size, val);
    // Mirror MEM/IO into vconfig for the test above and (5.8+) for memory_enabled [S].
    const vc = k.st.vconfig.u16(R.PCI_COMMAND);
    k.st.vconfig.setU16(R.PCI_COMMAND, (vc & ~(R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_IO)) | (newCmd & (R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_IO)));
    if (k.v.blockDisabledMmio) effects.push(...unrevokeIfEnabled(k));
    if (size >= 2) {
      const newVirtIntx = (k.st.vconfig.u16(R.PCI_COMMAND) & R.PCI_COMMAND_INTX_DISABLE) !== 0;
      if (newVirtIntx !== oldVirtIntx) k.st.virqDisabled = newVirtIntx;
    }
    return { rule, effects };
  }
  defaultWrite(k, pos, size, val);
  if (pos === R.PCI_COMMAND + 1) {
    k.st.virqDisabled = (k.st.vconfig.u16(R.PCI_COMMAND) & R.PCI_COMMAND_INTX_DISABLE) !== 0;
  }
  if (touchesBars(pos, size)) {
    k.st.bardirty = true;
    rule = 'config.bar.write-virtual';
  }
  return { rule, effects };
}

/**
 * vfio_msi_config_write: the virtual ENABLE bit only stays set while MSI is enabled through
 * SET_IRQS, and QSIZE is clamped to msi_qmax [S/M; L cfg-perms #29/#35: ENABLE and QSIZE read 0].
 */
function msiFixup(k: Kctx, pos: number, size: number): void {
  const at = k.g.msi + R.PCI_MSI_FLAGS;
  if (pos > at || pos + size <= at) return;
  let flags = k.st.vconfig.u16(at);
  if (k.st.irqType !== 'msi') flags &= ~R.PCI_MSI_FLAGS_ENABLE;
  if (((flags & R.PCI_MSI_FLAGS_QSIZE) >> 4) > k.st.msiQmax) flags = (flags & ~R.PCI_MSI_FLAGS_QSIZE) | (k.st.msiQmax << 4);
  k.st.vconfig.setU16(at, flags);
}

// ----- power management ------------------------------------------------------------------------

const STATES: PowerState[] = ['D0', 'D1', 'D2', 'D3hot'];

function pmWrite(k: Kctx, pos: number, size: number, val: bigint, capOff: number): WriteResult {
  defaultWrite(k, pos, size, val);
  if (capOff !== R.PCI_PM_CTRL) return { rule: 'config.pm.write-default', effects: [] };
  const target = STATES[Number(val & 3n)] ?? 'D0';
  const effects: Effect[] = [];
  if (!k.v.d3hotBlocksAccess) {
    // Pre-5.19: vfio_pci_set_power_state directly, no memory_lock, no zap [S @cc10385b].
    effects.push(...vfioSetPowerState(k, target));
    return { rule: target === 'D3hot' ? 'config.pm.d3hot-no-zap' : 'config.pm.set-state', effects };
  }
  // 5.19+: vfio_lock_and_set_power_state [S]
  let rule = 'config.pm.set-state';
  if (target === 'D3hot') {
    effects.push(...zapBars(k));
    takeWriter(k);
    effects.push(...revokeAll(k));
    rule = 'config.pm.d3hot-zaps';
  } else takeWriter(k);
  const before = k.hw.power;
  if (target !== 'D0' && pfKeepsD0(k)) {
    // A PF with VFs: vfio_pci_set_power_state returns -EBUSY, which the PMCSR write ignores; the
    // zap above has happened, the function stays in D0 [P: 5.19 "Change the PF power state to D0
    // before enabling VFs"].
    effects.push(...unrevokeIfEnabled(k));
    return { rule: 'sriov.pf.low-power-busy', effects };
  }
  effects.push(...vfioSetPowerState(k, target));
  if (k.hw.power === before && before !== target) rule = 'config.pm.state-refused';
  else if (before === 'D3hot' && target === 'D0') rule = k.g.needsPmRestore ? 'config.pm.d0-restore-nosoftrst' : 'config.pm.d3hot-to-d0';
  effects.push(...unrevokeIfEnabled(k));
  return { rule, effects };
}

// ----- PCIe / AF FLR ---------------------------------------------------------------------------

function flrSequence(k: Kctx, has: boolean, which: string): WriteResult {
  if (!has) return { rule: `config.${which}.flr-not-supported`, effects: [] };
  const effects: Effect[] = [];
  if (k.v.blockDisabledMmio) {
    effects.push(...zapBars(k));
    takeWriter(k);
    effects.push(...revokeAll(k));
  }
  effects.push(...functionReset(k, which === 'exp' ? 'flr' : 'af_flr'));
  if (k.v.blockDisabledMmio) effects.push(...unrevokeIfEnabled(k));
  return { rule: `config.${which}.flr`, effects };
}

function expWrite(k: Kctx, pos: number, size: number, val: bigint, capOff: number): WriteResult {
  defaultWrite(k, pos, size, val);
  const ctl = (k.st.perms?.capStart[pos] ?? 0) + R.PCI_EXP_DEVCTL;
  if (pos <= ctl + 1 && pos + size > ctl + 1 && (k.st.vconfig.u16(ctl) & R.PCI_EXP_DEVCTL_BCR_FLR)) {
    k.st.vconfig.setU16(ctl, k.st.vconfig.u16(ctl) & ~R.PCI_EXP_DEVCTL_BCR_FLR); // always reads back 0 [S]
    return flrSequence(k, k.g.expFlr, 'exp');
  }
  return { rule: capOff === R.PCI_EXP_DEVCTL ? 'config.exp.devctl-write' : 'config.exp.write-default', effects: [] };
}

function afWrite(k: Kctx, pos: number, size: number, val: bigint, capOff: number): WriteResult {
  defaultWrite(k, pos, size, val);
  const ctl = (k.st.perms?.capStart[pos] ?? 0) + R.PCI_AF_CTRL;
  if (pos <= ctl && pos + size > ctl && (k.st.vconfig.u8(ctl) & R.PCI_AF_CTRL_FLR)) {
    k.st.vconfig.setU8(ctl, k.st.vconfig.u8(ctl) & ~R.PCI_AF_CTRL_FLR);
    return flrSequence(k, k.g.afFlr, 'af');
  }
  return { rule: capOff === R.PCI_AF_CTRL ? 'config.af.ctrl-write' : 'config.af.write-default', effects: [] };
}

export { memoryEnabled };
