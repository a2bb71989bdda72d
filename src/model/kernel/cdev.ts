// drivers/vfio/device_cdev.c and the cdev half of vfio_main.c (6.6+): a file on
// /dev/vfio/devices/vfioN gives no access until VFIO_DEVICE_BIND_IOMMUFD, which opens the device
// (vfio_df_open -> vfio_pci_core_enable) and binds it to an iommufd; ATTACH/DETACH_IOMMUFD_PT put
// it on an IOAS or HWPT; the last close unbinds. Evidence: [S] device_cdev.c, vfio_main.c,
// iommufd/device.c at 6.12, vfio_df_check_token (6.17); [L] traces/lab/6.12-iommufd.

import type { EventMeta } from '../../trace/types.js';
import { step, type Effect, type Step } from '../outcome.js';
import { leBytes } from '../pci/config-image.js';
import type { Kctx } from './context.js';
import { allocId, ctxByFd, fillFails, hasDomain, markDmabufsMapped } from './iommufd.js';
import type { CdevFile, IommufdCtx } from './iommufd-state.js';
import { checkVfToken } from './sriov.js';

const ATTACH_PASID = 0x1;
const BIND_FLAG_TOKEN = 0x1;
/** offsetofend(struct vfio_device_bind_iommufd, out_devid) / attach's pt_id / detach's flags. */
const BIND_MINSZ = 16;
/** offsetofend(struct vfio_device_bind_iommufd, token_uuid_ptr) (6.17+). */
const BIND_TOKEN_MINSZ = 24;
const ATTACH_MINSZ = 12;
const DETACH_MINSZ = 8;

const err = (errno: string, rule: string): Step => step({ kind: 'errno', errno }, rule);

export function cdevFile(k: Kctx, file: number | undefined): CdevFile | undefined {
  return file === undefined ? undefined : k.st.iommufd.cdevFiles.find((f) => f.file === file);
}

/** open(/dev/vfio/devices/vfioN): only a vfio_device_file; the device is not touched. */
export function cdevOpen(k: Kctx, file: number, meta: EventMeta): Step {
  k.st.iommufd.cdevFiles.push({ file, bound: false, iommufd: -1, devId: 0, ptId: 0, hwpt: 0 });
  return step({ kind: 'ok', ...(meta.observed?.ret !== undefined ? { ret: meta.observed.ret } : {}) }, 'cdev.open.ok');
}

/** What a BIND_IOMMUFD carries (the ioctl's struct; the token is the 16 bytes token_uuid_ptr points at). */
export interface BindArgs {
  iommufd: number;
  flags: number;
  argsz: number;
  /** "" = not recorded (the tracer's capture reads the struct, not what its pointer points at). */
  vfToken: string;
}

/**
 * VFIO_DEVICE_BIND_IOMMUFD [S vfio_df_ioctl_bind_iommufd]: argsz/flags/negative fd -> EINVAL, a
 * second bind -> EINVAL, the VF token (where the release checks one), an fd that is no iommufd
 * -> EBADF; then the device opens like a group open (`open` does the enabling and may fail) and
 * gets an iommufd device id (the data).
 */
export function cdevBind(k: Kctx, f: CdevFile, a: BindArgs, open: () => Step): Step {
  const validFlags = k.v.cdevBindVfToken ? BIND_FLAG_TOKEN : 0;
  if (a.argsz < BIND_MINSZ || a.flags & ~validFlags || a.iommufd < 0) return err('EINVAL', 'cdev.bind.bad-args-einval');
  if (f.bound) return err('EINVAL', 'cdev.bind.twice-einval');
  const token = bindToken(k, a);
  if (token.fail !== undefined) return token.fail;
  const ctx = ctxByFd(k, a.iommufd);
  if (ctx === undefined) return err('EBADF', 'cdev.bind.not-an-iommufd-ebadf');
  const s = open();
  if (s.outcome.kind !== 'ok') return s;
  const devId = allocId(ctx);
  ctx.objects.push({ id: devId, type: 'device' });
  Object.assign(f, { bound: true, iommufd: ctx.fd, devId });
  return step({ kind: 'ok', ret: 0n, data: leBytes(BigInt(devId), 4) }, token.rule ?? 'cdev.bind.ok', s.effects);
}

/**
 * The VF token of a BIND [S vfio_df_check_token, 6.17+]: without the flag the check runs with no
 * token (a VF of a vfio-pci PF, or a PF with VF users, is -EACCES), with it the kernel reads 16
 * bytes at token_uuid_ptr (zero-filled when argsz stops before it: -EFAULT) and checks them like
 * a GET_DEVICE_FD name's vf_token= (sriov.ts checkVfToken, which also lets a PF's opener set the
 * token). Before 6.17 the cdev path checked nothing: a VF the group path refuses binds.
 */
function bindToken(k: Kctx, a: BindArgs): { fail?: Step; rule?: string } {
  if (!k.v.cdevBindVfToken) return checkVfToken(k, undefined).fail !== undefined ? { rule: 'cdev.bind.vf-token-unchecked' } : {};
  if (!(a.flags & BIND_FLAG_TOKEN)) return checkVfToken(k, undefined);
  if (a.argsz < BIND_TOKEN_MINSZ) return { fail: err('EFAULT', 'cdev.bind.token-null-efault') };
  if (a.vfToken === '') return { fail: step({ kind: 'unsupported', reason: 'BIND_IOMMUFD with BIND_FLAG_TOKEN: the token was not recorded' }, 'cdev.bind.token-unrecorded-unsupported') };
  return checkVfToken(k, a.vfToken);
}

function ctxOf(k: Kctx, f: CdevFile): IommufdCtx | undefined {
  return k.st.iommufd.contexts.find((c) => c.objects.some((o) => o.type === 'device' && o.id === f.devId));
}

/**
 * VFIO_DEVICE_ATTACH_IOMMUFD_PT [S vfio_df_ioctl_attach_pt, iommufd_device_change_pt]: an IOAS
 * gets an automatic HWPT (a domain: every area is pinned now, a BAR area fails it -EFAULT), a
 * HWPT is used as is; anything else -> EINVAL, no such id -> ENOENT. Attaching again replaces.
 * The HWPT id is written back into pt_id (the data).
 */
export function cdevAttach(k: Kctx, f: CdevFile, ptId: number, flags: number, argsz: number): Step {
  if (argsz < ATTACH_MINSZ) return err('EINVAL', 'cdev.attach.bad-args-einval');
  if (flags & ~ATTACH_PASID) return err('EINVAL', 'cdev.attach.bad-args-einval');
  if (flags & ATTACH_PASID) return step({ kind: 'unsupported', reason: 'ATTACH_IOMMUFD_PT with a PASID is not modeled' }, 'cdev.attach.pasid-unsupported');
  const ctx = ctxOf(k, f);
  if (ctx === undefined) return err('ENOENT', 'cdev.attach.unknown-pt-enoent');
  const pt = ctx.objects.find((o) => o.id === ptId);
  if (pt === undefined) return err('ENOENT', 'cdev.attach.unknown-pt-enoent');
  if (pt.type === 'device') return err('EINVAL', 'cdev.attach.not-a-page-table-einval');
  const eff: Effect[] = [];
  if (pt.type === 'hwpt') {
    releaseAuto(ctx, f);
    Object.assign(f, { ptId, hwpt: pt.id });
    return step({ kind: 'ok', ret: 0n, data: leBytes(BigInt(pt.id), 4) }, 'cdev.attach.hwpt-ok', eff);
  }
  // The same IOAS again: the automatic domain in use stays [S iommufd_device_auto_get_domain reuses it].
  if (f.hwpt !== 0 && f.ptId === ptId) return step({ kind: 'ok', ret: 0n, data: leBytes(BigInt(f.hwpt), 4) }, 'cdev.attach.ioas-ok');
  const reuse = ctx.objects.find((o) => o.type === 'hwpt' && o.auto && o.ioas === ptId);
  if (reuse === undefined && !hasDomain(ctx, ptId)) {
    const fail = fillFails(ctx, ptId);
    if (fail !== undefined) return err(fail, fail === 'EFAULT' ? 'cdev.attach.bar-area-efault' : 'cdev.attach.reserved-overlaps-area-eaddrinuse');
  }
  releaseAuto(ctx, f);
  const id = reuse?.id ?? allocId(ctx);
  if (reuse === undefined) ctx.objects.push({ id, type: 'hwpt', ioas: ptId, auto: true });
  markDmabufsMapped(k, ctx, ptId);
  Object.assign(f, { ptId, hwpt: id });
  return step({ kind: 'ok', ret: 0n, data: leBytes(BigInt(id), 4) }, 'cdev.attach.ioas-ok', eff);
}

/** The automatic HWPT of the file's attachment goes with it when no other file uses it. */
function releaseAuto(ctx: IommufdCtx, f: CdevFile): void {
  const old = ctx.objects.find((o) => o.id === f.hwpt);
  f.ptId = 0;
  f.hwpt = 0;
  if (old?.type === 'hwpt' && old.auto) ctx.objects = ctx.objects.filter((o) => o !== old);
}

/** VFIO_DEVICE_DETACH_IOMMUFD_PT: detaching a device that is not attached is no error [S vfio_iommufd_physical_detach_ioas]. */
export function cdevDetach(k: Kctx, f: CdevFile, flags: number, argsz: number): Step {
  if (argsz < DETACH_MINSZ || flags & ~ATTACH_PASID) return err('EINVAL', 'cdev.detach.bad-args-einval');
  if (flags & ATTACH_PASID) return step({ kind: 'unsupported', reason: 'DETACH_IOMMUFD_PT with a PASID is not modeled' }, 'cdev.detach.pasid-unsupported');
  const ctx = ctxOf(k, f);
  if (ctx !== undefined) releaseAuto(ctx, f);
  return step({ kind: 'ok', ret: 0n }, 'cdev.detach.ok');
}

/** Last close of a cdev file: unbind (detach, drop the iommufd device) before the device closes. */
export function cdevRelease(k: Kctx, file: number): void {
  const f = cdevFile(k, file);
  if (f === undefined) return;
  const ctx = ctxOf(k, f);
  if (ctx !== undefined) {
    releaseAuto(ctx, f);
    ctx.objects = ctx.objects.filter((o) => !(o.type === 'device' && o.id === f.devId));
  }
  k.st.iommufd.cdevFiles = k.st.iommufd.cdevFiles.filter((x) => x !== f);
}
