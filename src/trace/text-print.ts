// The text twin printer: the canonical text of a trace (docs/text-format.md). Streaming-friendly:
// TextPrinter turns one packet at a time into lines, so `dump` of a large file never holds it.
import { setupRequestName } from './setup-requests.js';
import { VFIO_SETUP, deviceSysfsEmpty, traitsEmpty, type DeviceTraits, type IoctlOp, type IommufdOp, type Observed, type Trace, type TraceEvent, type TraceHeader, type UserBuf } from './types.js';
import type { TracePacket } from './reader.js';
import { printSriovLines } from './text-sriov.js';
import { fmtBytes, fmtOption, fmtPlace, fmtStr, hex, hexPad, leValue } from './text-lex.js';

/** A written value, padded to two hex digits per byte of the access (accesses are <= 8 bytes). */
function val(v: bigint, len: number): string {
  return hexPad(v, len <= 8 ? 2 * len : 1);
}

// Config offsets are < 4096: their text is computed once (the replay log prints one per config access).
const CFG_OFFSETS: readonly string[] = Array.from({ length: 4096 }, (_, i) => hexPad(i, 2));

function cfgOffset(off: number): string {
  return off >= 0 && off < 4096 && Number.isInteger(off) ? CFG_OFFSETS[off] : hexPad(off, 2);
}

/** `len=2 val=0x0106` for writes of up to 8 bytes, `data=0102...` beyond. */
function dataArgs(data: Uint8Array): string {
  const n = data.length;
  if (n <= 6) {
    // Up to 48 bits: exact as a JS number, so no bigint per event (the replay log's hot path).
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + data[i];
    return `len=${n} val=${hexPad(v, 2 * n)}`;
  }
  if (n <= 8) return `len=${n} val=${hexPad(leValue(data), 2 * n)}`;
  return `data=${fmtBytes(data)}`;
}

function ioctlArgs(e: IoctlOp): string {
  switch (e.op) {
    case 'get-info':
    case 'get-hot-reset-info':
      return `argsz=${e.argsz}`;
    case 'get-region-info':
    case 'get-irq-info':
      return `index=${e.index} argsz=${e.argsz}`;
    case 'set-irqs':
      return `flags=${hex(e.flags)} index=${e.index} start=${e.start} count=${e.count} argsz=${e.argsz}${e.fds.length === 0 ? '' : ` fds=${e.fds.join(',')}`}`;
    case 'reset':
      return '';
    case 'hot-reset':
      return `flags=${hex(e.flags)} fds=${e.groupFds.length === 0 ? '-' : e.groupFds.join(',')}`;
    case 'ioeventfd':
      return `flags=${hex(e.flags)} offset=${hex(e.offset)} data=${hex(e.data)} fd=${e.fd}`;
    case 'feature':
      return `flags=${hex(e.flags)} feature=${e.feature} payload=${fmtBytes(e.payload)}`;
    case 'low-power': {
      const fd = e.request === 'entry-with-wakeup' || e.wakeupFd !== 0 ? ` fd=${e.wakeupFd}` : '';
      return `${e.request}${fd} flags=${hex(e.flags)}`;
    }
    case 'dma-buf': {
      const ranges = e.ranges.length === 0 ? '-' : e.ranges.map((r) => `${hex(r.offset)}:${hex(r.length)}`).join(',');
      return `region=${e.regionIndex} ranges=${ranges} open-flags=${hex(e.openFlags)} dmabuf-flags=${hex(e.dmaBufFlags)} flags=${hex(e.flags)}`;
    }
    case 'raw':
      return `fd=${fmtStr(e.fdKind)} req=${hex(e.request)} name=${fmtStr(e.name)} arg=${fmtBytes(e.arg)}`;
    case 'container-op': {
      const name = setupRequestName(e.request);
      const arg = e.request === VFIO_SETUP.GET_API_VERSION && e.arg === 0 ? '' : ` arg=${e.arg}`;
      return `fd=${e.fd} ${name ?? `req=${hex(e.request)}`}${arg}`;
    }
    case 'group-op': {
      const name = setupRequestName(e.request);
      const c = e.request === VFIO_SETUP.GROUP_SET_CONTAINER || e.containerFd !== 0 ? ` container=${e.containerFd}` : '';
      return `fd=${e.fd} ${name ?? `req=${hex(e.request)}`}${c}`;
    }
    case 'get-device-fd':
      return `fd=${e.fd} name=${fmtStr(e.name)}`;
    case 'bind-iommufd':
      return `iommufd=${e.iommufd} flags=${hex(e.flags)} argsz=${e.argsz}${e.vfToken === '' ? '' : ` vf-token=${fmtStr(e.vfToken)}`}`;
    case 'attach-iommufd-pt':
      return `pt=${e.ptId} flags=${hex(e.flags)} argsz=${e.argsz}`;
    case 'detach-iommufd-pt':
      return `flags=${hex(e.flags)} argsz=${e.argsz}`;
  }
}

/** The arguments of an `iommufd OP ...` line (docs/iommufd.md). */
function iommufdArgs(e: IommufdOp): string {
  switch (e.op) {
    case 'ioas-alloc':
      return `flags=${hex(e.flags)}`;
    case 'ioas-map':
      return `ioas=${e.ioasId} flags=${hex(e.flags)} va=${hex(e.userVa)} len=${hex(e.length)} iova=${hex(e.iova)}`;
    case 'ioas-map-file':
      return `ioas=${e.ioasId} flags=${hex(e.flags)} fd=${e.fd} start=${hex(e.start)} len=${hex(e.length)} iova=${hex(e.iova)}`;
    case 'ioas-unmap':
      return `ioas=${e.ioasId} iova=${hex(e.iova)} len=${hex(e.length)}`;
    case 'ioas-iova-ranges':
      return `ioas=${e.ioasId} num=${e.numIovas}`;
    case 'hwpt-alloc':
      return `flags=${hex(e.flags)} dev=${e.devId} pt=${e.ptId}`;
    case 'destroy':
      return `id=${e.id}`;
  }
}

/** ` buf=bar0+0x100` when the user buffer lies in a BAR mapping, else nothing. */
function userBuf(e: UserBuf): string {
  return e.bufBar === undefined ? '' : ` buf=${fmtPlace(e.bufBar, e.bufOffset ?? 0n)}`;
}

function join(kind: string, args: string): string {
  return args === '' ? kind : `${kind} ${args}`;
}

/**
 * The event itself as text, without seq/time/tid/race and without the observed outcome:
 * `cfg-write 0x04 len=2 val=0x0106`. The replay's outcome log reuses it.
 */
export function describeEvent(e: TraceEvent): string {
  switch (e.kind) {
    case 'open':
      return e.vfToken === undefined ? 'open' : `open vf-token=${fmtStr(e.vfToken)}`;
    case 'close':
      return e.kind;
    case 'cfg-read':
      return `cfg-read ${cfgOffset(e.offset)} len=${e.len}${userBuf(e)}`;
    case 'cfg-write':
      return `cfg-write ${cfgOffset(e.offset)} ${dataArgs(e.data)}${userBuf(e)}`;
    case 'region-read':
      return `region-read ${fmtPlace(e.region, e.offset)} len=${e.len}${userBuf(e)}`;
    case 'region-write':
      return `region-write ${fmtPlace(e.region, e.offset)} ${dataArgs(e.data)}${userBuf(e)}`;
    case 'mmap':
      return `mmap ${fmtPlace(e.region, e.offset)} len=${hex(e.length)} prot=${hex(e.prot)} addr=${hex(e.addr)}`;
    case 'munmap':
      return `munmap addr=${hex(e.addr)} len=${hex(e.length)}`;
    case 'mem-read':
      return `mem-read ${fmtPlace(e.bar, e.offset)} len=${e.len}`;
    case 'mem-write':
      return `mem-write ${fmtPlace(e.bar, e.offset)} len=${e.len} val=${val(e.value, e.len)}`;
    case 'ioctl':
      return join(`ioctl ${e.op}`, ioctlArgs(e));
    case 'dmabuf':
      return `dmabuf ${e.dmabuf} ${e.op}`;
    case 'map-dma':
      return `map-dma vaddr=${hex(e.vaddr)} iova=${hex(e.iova)} size=${hex(e.size)} flags=${hex(e.flags)}`;
    case 'unmap-dma':
      return `unmap-dma iova=${hex(e.iova)} size=${hex(e.size)} flags=${hex(e.flags)}`;
    case 'memslot':
      return `memslot slot=${e.slot} flags=${hex(e.flags)} gpa=${hex(e.gpa)} size=${hex(e.size)} uaddr=${hex(e.uaddr)}`;
    case 'kvm-run':
      return `kvm-run vcpu=${e.vcpu}`;
    case 'vfio-open':
      return e.container ? `vfio-open container fd=${e.fd}${e.group !== 0 ? ` group=${e.group}` : ''}` : `vfio-open group=${e.group} fd=${e.fd}`;
    case 'vfio-close':
      return `vfio-close fd=${e.fd}`;
    case 'fork':
      return `fork child=${e.child}`;
    case 'process-exit':
      return 'process-exit';
    case 'eventfd-signal':
      return `eventfd-signal fd=${e.fd}`;
    case 'device-irq':
      return `device-irq index=${e.index}${e.vector === 0 ? '' : ` vector=${e.vector}`}`;
    case 'sysfs':
      return `sysfs ${fmtOption(e.path)}${e.write !== undefined ? ` write=${fmtStr(e.write)}` : ''}`;
    case 'cdev-open':
      return `cdev-open vfio=${e.index}`;
    case 'iommufd-open':
      return 'iommufd-open';
    case 'iommufd':
      return `iommufd ${e.op} ${iommufdArgs(e)}`;
    case 'guest-cfg-read':
      return `guest-cfg-read ${cfgOffset(e.offset)} len=${e.len}`;
    case 'guest-cfg-write':
      return `guest-cfg-write ${cfgOffset(e.offset)} len=${e.len} val=${val(e.value, e.len)}`;
    case 'guest-mmio-read':
      return `guest-mmio-read ${hex(e.gpa)} len=${e.len}`;
    case 'guest-mmio-write':
      return `guest-mmio-write ${hex(e.gpa)} len=${e.len} val=${val(e.value, e.len)}`;
  }
}

/** The observed outcome as text (what follows `=>`); "" for an empty observation. */
export function describeObserved(o: Observed): string {
  const t: string[] = [];
  if (o.ret !== undefined) t.push(`ret=${o.ret}`);
  if (o.errno !== undefined) t.push(`errno=${fmtStr(o.errno)}`);
  if (o.data !== undefined) t.push(`data=${fmtBytes(o.data)}`);
  if (o.signal !== undefined) {
    t.push(`signal=${fmtStr(o.signal.signal)} code=${fmtStr(o.signal.code)}`);
    if (o.signal.addr !== null) t.push(`addr=${hex(o.signal.addr)}`);
  }
  if (o.vmmExit !== undefined) {
    const v = o.vmmExit;
    t.push(`vmm-exit=${v.how}`);
    if (v.status !== 0) t.push(`status=${v.status}`);
    if (v.signal !== '') t.push(`exit-signal=${fmtStr(v.signal)}`);
    if (v.errno !== '') t.push(`exit-errno=${fmtStr(v.errno)}`);
  }
  if (o.powerState !== undefined) t.push(`power=${fmtStr(o.powerState)}`);
  if (o.blocked === true) t.push('blocked');
  if (o.kernelLog !== undefined && o.kernelLog !== '') t.push(`klog=${fmtStr(o.kernelLog)}`);
  if (o.text !== undefined) t.push(`text=${fmtStr(o.text)}`);
  if (o.signaled !== undefined) t.push(`signaled=${o.signaled.length === 0 ? '-' : o.signaled.join(',')}`);
  if (o.kernelFailure !== undefined) {
    const f = o.kernelFailure;
    t.push(`kernel-failure=${fmtStr(f.kind)}`);
    if (f.where !== '') t.push(`where=${fmtStr(f.where)}`);
    if (f.consequence !== '') t.push(`consequence=${fmtStr(f.consequence)}`);
  }
  return t.join(' ');
}

/** One event line: `12 t=1500 tid=4242 cfg-read 0x04 len=2 => ret=2 data=0601`. */
export function printEventLine(e: TraceEvent): string {
  let s = `${e.seq}`;
  if (e.tsNs !== 0n) s += ` t=${e.tsNs}`;
  if (e.tid !== 0) s += ` tid=${e.tid}`;
  if (e.pid !== undefined && e.pid !== 0) s += ` pid=${e.pid}`;
  if (e.overlap !== 0) s += ` race=${e.overlap}`;
  s += ' ' + describeEvent(e);
  if (e.observed !== undefined) {
    const o = describeObserved(e.observed);
    s += o === '' ? ' =>' : ` => ${o}`;
  }
  return s;
}

/** `device-traits d-states=D0,D3hot pm-refuses=D3hot reset-clears=no ...`: only the traits that are set. */
export function printTraitsLine(t: DeviceTraits): string {
  const w: string[] = ['device-traits'];
  if (t.dStates.length > 0) w.push(`d-states=${t.dStates.join(',')}`);
  if (t.pmRefuses.length > 0) w.push(`pm-refuses=${t.pmRefuses.join(',')}`);
  if (t.resetClears !== '') w.push(`reset-clears=${t.resetClears}`);
  if (t.noSoftReset !== '') w.push(`no-soft-reset=${t.noSoftReset}`);
  if (t.configSize !== 0) w.push(`config-size=${t.configSize}`);
  if (t.flr !== '') w.push(`flr=${t.flr}`);
  if (t.busReset !== '') w.push(`bus-reset=${t.busReset}`);
  if (t.romImage !== 0) w.push(`rom-image=0x${t.romImage.toString(16)}`);
  if (t.source !== '') w.push(`source=${fmtStr(t.source)}`);
  return w.join(' ');
}

/** The header block's lines. */
export function printHeaderLines(h: TraceHeader): string[] {
  const d = h.device;
  const lines = [
    `vfio-trace ${h.formatVersion}`,
    `source ${h.source}`,
    `kernel ${fmtStr(h.kernelRelease)}`,
    ...(h.kernelCmdline !== undefined && h.kernelCmdline.length > 0 ? [`kernel-cmdline ${h.kernelCmdline.map(fmtOption).join(' ')}`] : []),
    ...(h.moduleParams !== undefined && h.moduleParams.length > 0 ? [`module-params ${h.moduleParams.map(fmtOption).join(' ')}`] : []),
    `vmm ${fmtStr(h.vmm.name)} ${fmtStr(h.vmm.version)} ${h.vmm.accel}`,
    ...(h.vmm.options.length > 0 ? [`vmm-options ${h.vmm.options.map(fmtOption).join(' ')}`] : []),
    `tracer ${fmtStr(h.tracerVersion)}`,
    `title ${JSON.stringify(h.title)}`,
    `device ${fmtStr(d.bdf)} ${d.vendorId.toString(16).padStart(4, '0')}:${d.deviceId.toString(16).padStart(4, '0')} page-size=${d.pageSize} iommu-group=${d.iommuGroup}`,
  ];
  if (d.resetMethods.length > 0) lines.push(`reset-methods ${d.resetMethods.map(fmtStr).join(' ')}`);
  const q = d.quirks;
  const quirks: string[] = [];
  if (q.nonMappableBars) quirks.push('non_mappable_bars');
  if (q.noCommandMemory) quirks.push('no_command_memory');
  if (q.isVirtfn) quirks.push('is_virtfn');
  if (q.resourceBusyBars.length > 0) quirks.push(`resource-busy=${q.resourceBusyBars.join(',')}`);
  if (q.iomapFailBars.length > 0) quirks.push(`iomap-fail=${q.iomapFailBars.join(',')}`);
  if (q.d3cold !== undefined && q.d3cold !== '') quirks.push(`d3cold=${fmtStr(q.d3cold)}`);
  if (quirks.length > 0) lines.push(`quirks ${quirks.join(' ')}`);
  if (d.traits !== undefined && !traitsEmpty(d.traits)) lines.push(printTraitsLine(d.traits));
  if (d.sysfs !== undefined && !deviceSysfsEmpty(d.sysfs)) {
    const p = d.sysfs;
    const w = ['device-sysfs'];
    if (p.powerState !== '') w.push(`power-state=${fmtStr(p.powerState)}`);
    if (p.runtimeStatus !== '') w.push(`runtime-status=${fmtStr(p.runtimeStatus)}`);
    if (p.control !== '') w.push(`control=${fmtStr(p.control)}`);
    if (p.d3coldAllowed !== '') w.push(`d3cold-allowed=${fmtStr(p.d3coldAllowed)}`);
    if (p.driverOverride !== '') w.push(`driver-override=${fmtStr(p.driverOverride)}`);
    lines.push(w.join(' '));
  }
  lines.push(...printSriovLines(d));
  for (const b of d.bars) {
    lines.push(`bar ${b.index} ${b.kind} size=${hex(b.size)}${b.is64 ? ' 64' : ''}${b.prefetchable ? ' prefetch' : ''}`);
  }
  if (d.romSize !== 0n) lines.push(`rom size=${hex(d.romSize)}`);
  if (d.vga) lines.push('vga');
  if (d.config.length > 0) {
    lines.push(`config size=${d.config.length}`);
    for (let off = 0; off < d.config.length; off += 16) {
      const row = d.config.subarray(off, off + 16);
      if (row.every((b) => b === 0)) continue;
      const bytes = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
      lines.push(`config ${hexPad(off, 3)} ${bytes}`);
    }
  }
  return lines;
}

/** Prints packets one at a time: header blocks are separated from events by blank lines. */
export class TextPrinter {
  private started = false;
  private lastWasHeader = false;

  /** The text for one packet, newline-terminated. */
  packet(p: TracePacket | { type: 'header'; header: TraceHeader } | { type: 'event'; event: TraceEvent }): string {
    let out = '';
    if (p.type === 'header') {
      if (this.started) out += '\n';
      out += printHeaderLines(p.header).join('\n') + '\n';
      this.lastWasHeader = true;
    } else {
      if (this.lastWasHeader) out += '\n';
      out += printEventLine(p.event) + '\n';
      this.lastWasHeader = false;
    }
    this.started = true;
    return out;
  }
}

/** The canonical text of a whole trace. */
export function printText(trace: Trace): string {
  const pr = new TextPrinter();
  const more = [...(trace.moreHeaders ?? [])].sort((a, b) => a.before - b.before);
  let out = pr.packet({ type: 'header', header: trace.header });
  let k = 0;
  trace.events.forEach((e, i) => {
    while (k < more.length && more[k].before <= i) out += pr.packet({ type: 'header', header: more[k++].header });
    out += pr.packet({ type: 'event', event: e });
  });
  while (k < more.length) out += pr.packet({ type: 'header', header: more[k++].header });
  return out;
}
