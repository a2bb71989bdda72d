// The text twin parser (docs/text-format.md). Line-oriented: TextParser takes one line at a time
// and hands back the packets it completes, so `encode` can stream; parseText builds a whole Trace.
// Every error is a UserError at file:line:column.
import type {
  Accelerator,
  BarInfo,
  CaptureSource,
  DeviceTraits,
  DmabufImporterOp,
  EventBody,
  Observed,
  PowerRequest,
  Trace,
  TraceEvent,
  TraceHeader,
  UserBuf,
  VmmExit,
} from './types.js';
import { FAILURE_CONSEQUENCES, KERNEL_FAILURE_KINDS, emptyDeviceSnapshot, emptyTraits } from './types.js';
import { setupRequestNames, setupRequestNumber } from './setup-requests.js';
import { FORMAT_VERSION } from './schema.js';
import { parseSriovLine, parseSriovVfLine, parseVfBarLine, parseVfToken } from './text-sriov.js';
import { accessLenProblem, configSizeProblem, pageSizeProblem } from './limits.js';
import {
  leBytes,
  parseBytes,
  parseOption,
  parsePlace,
  parseSigned,
  parseStr,
  parseU32,
  parseUnsigned,
  textError,
  tokenize,
  type LineCtx,
  type Token,
} from './text-lex.js';

const U64_MAX = (1n << 64n) - 1n;
const SOURCES: CaptureSource[] = ['unknown', 'strace', 'qemu-log', 'lab', 'hand-written', 'synthetic'];
const ACCELS: Accelerator[] = ['unknown', 'kvm', 'tcg', 'mshv'];
const DMABUF_OPS: DmabufImporterOp[] = ['attach', 'map', 'unmap', 'detach', 'mmap', 'close'];
const POWER: PowerRequest[] = ['entry', 'entry-with-wakeup', 'exit'];
const EXIT_HOW: VmmExit['how'][] = ['exited', 'signaled', 'kvm-run-error'];
const HEADER_WORDS = new Set(['source', 'kernel', 'kernel-cmdline', 'module-params', 'vmm', 'vmm-options', 'tracer', 'title', 'device', 'device-traits', 'device-sysfs', 'reset-methods', 'quirks', 'bar', 'rom', 'vga', 'config', 'sriov', 'sriov-vf', 'vf-bar']);

interface KV {
  raw: string;
  col: number; // column of the value
  keyCol: number;
}

/** The arguments of one line: positional words and `key=value` words. */
export class Args {
  private readonly pos: Token[] = [];
  private posUsed = 0;
  private readonly kv = new Map<string, KV>();
  private readonly kvUsed = new Set<string>();

  constructor(
    tokens: Token[],
    private readonly ctx: LineCtx,
    private readonly eol: number,
  ) {
    for (const t of tokens) {
      const m = t.text.startsWith('"') ? null : /^([a-z][a-z0-9-]*)=/.exec(t.text);
      if (m === null) {
        this.pos.push(t);
        continue;
      }
      if (this.kv.has(m[1])) throw textError(ctx, t.col, `${m[1]}= given twice`);
      this.kv.set(m[1], { raw: t.text.slice(m[0].length), col: t.col + m[0].length, keyCol: t.col });
    }
  }

  /** The next positional word. */
  next(what: string): Token {
    const t = this.pos[this.posUsed];
    if (t === undefined) throw textError(this.ctx, this.eol, `missing ${what}`);
    this.posUsed++;
    return t;
  }

  /** The next positional word if it is one of `words` (a flag). */
  flag(word: string): boolean {
    const t = this.pos[this.posUsed];
    if (t !== undefined && t.text === word) {
      this.posUsed++;
      return true;
    }
    return false;
  }

  /** Whether positional words remain. */
  more(): boolean {
    return this.posUsed < this.pos.length;
  }

  has(key: string): boolean {
    return this.kv.has(key);
  }

  opt(key: string): KV | undefined {
    const v = this.kv.get(key);
    if (v !== undefined) this.kvUsed.add(key);
    return v;
  }

  req(key: string): KV {
    const v = this.opt(key);
    if (v === undefined) throw textError(this.ctx, this.eol, `missing ${key}=`);
    return v;
  }

  u32(key: string, dflt?: number): number {
    const v = dflt === undefined ? this.req(key) : this.opt(key);
    return v === undefined ? dflt! : parseU32(v.raw, v.col, this.ctx, key);
  }

  i32(key: string, dflt?: number): number {
    const v = dflt === undefined ? this.req(key) : this.opt(key);
    return v === undefined ? dflt! : Number(parseSigned(v.raw, 32, v.col, this.ctx, key));
  }

  u64(key: string, dflt?: bigint): bigint {
    const v = dflt === undefined ? this.req(key) : this.opt(key);
    return v === undefined ? dflt! : parseUnsigned(v.raw, 64, v.col, this.ctx, key);
  }

  str(key: string, dflt?: string): string {
    const v = dflt === undefined ? this.req(key) : this.opt(key);
    return v === undefined ? dflt! : parseStr(v.raw, v.col, this.ctx, key);
  }

  bytes(key: string): Uint8Array {
    const v = this.opt(key);
    return v === undefined ? new Uint8Array(0) : parseBytes(v.raw, v.col, this.ctx, key);
  }

  /** Everything given was used: anything left is a typo the user should hear about. */
  done(): void {
    const extra = this.pos[this.posUsed];
    if (extra !== undefined) throw textError(this.ctx, extra.col, `unexpected ${JSON.stringify(extra.text)}`);
    for (const [k, v] of this.kv) if (!this.kvUsed.has(k)) throw textError(this.ctx, v.keyCol, `unknown argument ${k}=`);
  }
}

function oneOf<T extends string>(t: Token, allowed: readonly T[], ctx: LineCtx, what: string): T {
  if ((allowed as readonly string[]).includes(t.text)) return t.text as T;
  throw textError(ctx, t.col, `unknown ${what} ${JSON.stringify(t.text)} (expected ${allowed.join(', ')})`);
}

const D_STATES = ['D0', 'D1', 'D2', 'D3hot', 'D3cold'] as const;
const TRI = ['yes', 'no'] as const;

/** `device-traits d-states=D0,D3hot pm-refuses=D1,D2 reset-clears=no no-soft-reset=yes config-size=256 flr=no bus-reset=yes rom-image=0x3d000 source=lab-probe`. */
function parseTraits(a: Args, ctx: LineCtx): DeviceTraits {
  const t = emptyTraits();
  const states = (key: string): string[] => {
    const kv = a.opt(key);
    return kv === undefined ? [] : listOf(kv, (raw, col) => oneOf({ text: raw, col }, D_STATES, ctx, 'D-state'));
  };
  const tri = (key: string): string => {
    const kv = a.opt(key);
    return kv === undefined ? '' : oneOf({ text: kv.raw, col: kv.col }, TRI, ctx, key);
  };
  t.dStates = states('d-states');
  t.pmRefuses = states('pm-refuses');
  t.resetClears = tri('reset-clears');
  t.noSoftReset = tri('no-soft-reset');
  const size = a.opt('config-size');
  if (size !== undefined) {
    t.configSize = parseU32(size.raw, size.col, ctx, 'config-size');
    if (t.configSize !== 256 && t.configSize !== 4096) throw textError(ctx, size.col, `config-size: expected 256 or 4096, got ${size.raw}`);
  }
  t.flr = tri('flr');
  t.busReset = tri('bus-reset');
  const rom = a.opt('rom-image');
  if (rom !== undefined) t.romImage = parseU32(rom.raw, rom.col, ctx, 'rom-image');
  const src = a.opt('source');
  if (src !== undefined) t.source = parseStr(src.raw, src.col, ctx, 'source');
  a.done();
  return t;
}

function listOf<T>(kv: KV, item: (raw: string, col: number) => T): T[] {
  if (kv.raw === '-') return [];
  const out: T[] = [];
  let col = kv.col;
  for (const part of kv.raw.split(',')) {
    out.push(item(part, col));
    col += part.length + 1;
  }
  return out;
}

/** `len=N val=V` (value little-endian in N bytes, N <= 8) or `data=hex`. */
function writeData(a: Args, ctx: LineCtx): Uint8Array {
  const data = a.opt('data');
  if (data !== undefined) {
    const bytes = parseBytes(data.raw, data.col, ctx, 'data');
    const len = a.opt('len');
    if (len !== undefined && parseU32(len.raw, len.col, ctx, 'len') !== bytes.length) {
      throw textError(ctx, len.col, `len=${len.raw} does not match the ${bytes.length} bytes of data=`);
    }
    if (a.has('val')) throw textError(ctx, a.req('val').keyCol, 'give either val= or data=, not both');
    return bytes;
  }
  const len = a.req('len');
  const n = parseU32(len.raw, len.col, ctx, 'len');
  if (n > 8) throw textError(ctx, len.col, `len=${n} with val= is limited to 8 bytes; use data= for longer writes`);
  const val = a.req('val');
  const v = parseUnsigned(val.raw, 64, val.col, ctx, 'val');
  if (v >> BigInt(8 * n) !== 0n) throw textError(ctx, val.col, `val=${val.raw} does not fit in ${n} bytes`);
  return leBytes(v, n);
}

function cfgOffset(a: Args, ctx: LineCtx): number {
  const t = a.next('config offset');
  return parseU32(t.text, t.col, ctx, 'config offset');
}

function place(a: Args, ctx: LineCtx): { region: number; offset: bigint } {
  const t = a.next('region place (bar0+0x10)');
  return parsePlace(t.text, t.col, ctx);
}

/** `buf=bar0+0x100`: the pread/pwrite's user buffer lies in a BAR mapping (absent = ordinary). */
function userBuf(a: Args, ctx: LineCtx): UserBuf {
  const v = a.opt('buf');
  if (v === undefined) return {};
  const p = parsePlace(v.raw, v.col, ctx);
  if (p.region > 5) throw textError(ctx, v.col, `buf= must name a BAR (bar0..bar5), got ${JSON.stringify(v.raw)}`);
  return { bufBar: p.region, bufOffset: p.offset };
}

function parseBody(kindTok: Token, a: Args, ctx: LineCtx): EventBody {
  const kind = kindTok.text;
  switch (kind) {
    case 'open': {
      const tok = a.opt('vf-token');
      return tok === undefined ? { kind } : { kind, vfToken: parseVfToken(tok.raw, tok.col, ctx, 'vf-token') };
    }
    case 'close':
      return { kind };
    case 'sriov-numvfs':
      // The first form of a sriov_numvfs write (Packet 52, deprecated): read as the sysfs write it is.
      return { kind: 'sysfs', path: 'sriov_numvfs', write: String(a.u32('num-vfs')) };
    case 'cfg-read': {
      const offset = cfgOffset(a, ctx);
      return { kind, offset, len: a.u32('len'), ...userBuf(a, ctx) };
    }
    case 'cfg-write': {
      const offset = cfgOffset(a, ctx);
      return { kind, offset, data: writeData(a, ctx), ...userBuf(a, ctx) };
    }
    case 'region-read': {
      const p = place(a, ctx);
      return { kind, region: p.region, offset: p.offset, len: a.u32('len'), ...userBuf(a, ctx) };
    }
    case 'region-write': {
      const p = place(a, ctx);
      return { kind, region: p.region, offset: p.offset, data: writeData(a, ctx), ...userBuf(a, ctx) };
    }
    case 'mmap': {
      const p = place(a, ctx);
      return { kind, region: p.region, offset: p.offset, length: a.u64('len'), prot: a.u32('prot', 0), addr: a.u64('addr', 0n) };
    }
    case 'munmap':
      return { kind, addr: a.u64('addr'), length: a.u64('len') };
    case 'mem-read': {
      const p = place(a, ctx);
      return { kind, bar: p.region, offset: p.offset, len: a.u32('len') };
    }
    case 'mem-write': {
      const p = place(a, ctx);
      return { kind, bar: p.region, offset: p.offset, len: a.u32('len'), value: a.u64('val') };
    }
    case 'ioctl':
      return parseIoctl(a, ctx);
    case 'dmabuf': {
      const n = a.next('dmabuf number');
      const dmabuf = parseU32(n.text, n.col, ctx, 'dmabuf number');
      return { kind, dmabuf, op: oneOf(a.next('importer op'), DMABUF_OPS, ctx, 'dmabuf importer op') };
    }
    case 'map-dma':
      return { kind, vaddr: a.u64('vaddr'), iova: a.u64('iova'), size: a.u64('size'), flags: a.u32('flags', 0) };
    case 'unmap-dma':
      return { kind, iova: a.u64('iova'), size: a.u64('size'), flags: a.u32('flags', 0) };
    case 'memslot':
      return { kind, slot: a.u32('slot'), flags: a.u32('flags', 0), gpa: a.u64('gpa'), size: a.u64('size'), uaddr: a.u64('uaddr') };
    case 'kvm-run':
      return { kind, vcpu: a.u32('vcpu', 0) };
    case 'vfio-open': {
      // `vfio-open container fd=3` or `vfio-open group=7 fd=4`.
      const container = a.flag('container');
      if (!container && !a.has('group')) throw textError(ctx, kindTok.col, 'vfio-open needs "container" or group=N');
      return { kind, fd: a.i32('fd'), container, group: a.u32('group', container ? 0 : undefined) };
    }
    case 'vfio-close':
      return { kind, fd: a.i32('fd') };
    case 'fork': {
      const child = a.req('child');
      const n = parseU32(child.raw, child.col, ctx, 'child');
      if (n === 0) throw textError(ctx, child.col, 'child=0 is the traced process itself; a forked child needs a non-zero pid');
      return { kind, child: n };
    }
    case 'process-exit':
      return { kind };
    case 'eventfd-signal':
      return { kind, fd: a.i32('fd') };
    case 'device-irq':
      return { kind, index: a.u32('index'), vector: a.u32('vector', 0) };
    case 'sysfs': {
      // `sysfs power_state` (a read), `sysfs reset write=1`.
      const p = a.next('sysfs file');
      const path = parseOption(p.text, p.col, ctx);
      if (path === '') throw textError(ctx, p.col, 'sysfs: the file name is empty');
      const w = a.opt('write');
      return w === undefined ? { kind, path } : { kind, path, write: parseStr(w.raw, w.col, ctx, 'write') };
    }
    case 'cdev-open':
      return { kind, index: a.u32('vfio') };
    case 'iommufd-open':
      return { kind };
    case 'iommufd':
      return parseIommufd(a, ctx);
    case 'guest-cfg-read': {
      const offset = cfgOffset(a, ctx);
      return { kind, offset, len: a.u32('len') };
    }
    case 'guest-cfg-write': {
      const offset = cfgOffset(a, ctx);
      return { kind, offset, len: a.u32('len'), value: a.u64('val') };
    }
    case 'guest-mmio-read':
    case 'guest-mmio-write': {
      const t = a.next('guest-physical address');
      const gpa = parseUnsigned(t.text, 64, t.col, ctx, 'guest-physical address');
      const len = a.u32('len');
      return kind === 'guest-mmio-read' ? { kind, gpa, len } : { kind, gpa, len, value: a.u64('val') };
    }
    default:
      throw textError(ctx, kindTok.col, `unknown event kind ${JSON.stringify(kind)}`);
  }
}

/** A set-up ioctl's request: its name as a word (`set-iommu`) or `req=0x3b66`. */
function setupRequest(a: Args, ctx: LineCtx, on: 'container' | 'group'): number {
  const r = a.opt('req');
  if (r !== undefined) return parseU32(r.raw, r.col, ctx, 'req');
  const t = a.next(`${on} ioctl name (${setupRequestNames(on).join(', ')}) or req=`);
  const n = setupRequestNumber(t.text, on);
  if (n === undefined) throw textError(ctx, t.col, `unknown ${on} ioctl ${JSON.stringify(t.text)} (known: ${setupRequestNames(on).join(', ')})`);
  return n;
}

function parseIoctl(a: Args, ctx: LineCtx): EventBody {
  const t = a.next('ioctl op');
  const kind = 'ioctl' as const;
  switch (t.text) {
    case 'get-info':
      return { kind, op: 'get-info', argsz: a.u32('argsz', 0) };
    case 'get-region-info':
      return { kind, op: 'get-region-info', index: a.u32('index'), argsz: a.u32('argsz', 0) };
    case 'get-irq-info':
      return { kind, op: 'get-irq-info', index: a.u32('index'), argsz: a.u32('argsz', 0) };
    case 'set-irqs': {
      const head = { flags: a.u32('flags'), index: a.u32('index'), start: a.u32('start', 0), count: a.u32('count', 0), argsz: a.u32('argsz', 0) };
      const raw = a.opt('fds');
      const fds = raw === undefined ? [] : listOf(raw, (r, col) => Number(parseSigned(r, 32, col, ctx, 'fd')));
      return { kind, op: 'set-irqs', ...head, fds };
    }
    case 'reset':
      return { kind, op: 'reset' };
    case 'get-hot-reset-info':
      return { kind, op: 'get-hot-reset-info', argsz: a.u32('argsz', 0) };
    case 'hot-reset': {
      const fds = a.opt('fds');
      const groupFds = fds === undefined ? [] : listOf(fds, (raw, col) => Number(parseSigned(raw, 32, col, ctx, 'fd')));
      return { kind, op: 'hot-reset', flags: a.u32('flags', 0), groupFds };
    }
    case 'ioeventfd':
      return { kind, op: 'ioeventfd', flags: a.u32('flags'), offset: a.u64('offset'), data: a.u64('data', 0n), fd: a.i32('fd') };
    case 'feature':
      return { kind, op: 'feature', flags: a.u32('flags'), feature: a.u32('feature'), payload: a.bytes('payload') };
    case 'low-power': {
      const request = oneOf(a.next('low-power request'), POWER, ctx, 'low-power request');
      return { kind, op: 'low-power', request, flags: a.u32('flags', 0), wakeupFd: a.i32('fd', 0) };
    }
    case 'dma-buf': {
      const r = a.opt('ranges');
      const ranges =
        r === undefined
          ? []
          : listOf(r, (raw, col) => {
              const m = /^([^:]+):(.+)$/.exec(raw);
              if (m === null) throw textError(ctx, col, `range ${JSON.stringify(raw)}: expected offset:length`);
              return {
                offset: parseUnsigned(m[1], 64, col, ctx, 'range offset'),
                length: parseUnsigned(m[2], 64, col + m[1].length + 1, ctx, 'range length'),
              };
            });
      return {
        kind,
        op: 'dma-buf',
        regionIndex: a.u32('region'),
        ranges,
        openFlags: a.u32('open-flags', 0),
        dmaBufFlags: a.u32('dmabuf-flags', 0),
        flags: a.u32('flags', 0),
      };
    }
    case 'raw':
      return { kind, op: 'raw', fdKind: a.str('fd'), request: a.u32('req'), name: a.str('name', ''), arg: a.bytes('arg') };
    case 'bind-iommufd':
      return { kind, op: 'bind-iommufd', iommufd: a.i32('iommufd'), flags: a.u32('flags', 0), argsz: a.u32('argsz', 0), vfToken: a.str('vf-token', '') };
    case 'attach-iommufd-pt':
      return { kind, op: 'attach-iommufd-pt', ptId: a.u32('pt'), flags: a.u32('flags', 0), argsz: a.u32('argsz', 0) };
    case 'detach-iommufd-pt':
      return { kind, op: 'detach-iommufd-pt', flags: a.u32('flags', 0), argsz: a.u32('argsz', 0) };
    case 'container-op': {
      const fd = a.i32('fd');
      return { kind, op: 'container-op', fd, request: setupRequest(a, ctx, 'container'), arg: a.u32('arg', 0) };
    }
    case 'group-op': {
      const fd = a.i32('fd');
      return { kind, op: 'group-op', fd, request: setupRequest(a, ctx, 'group'), containerFd: a.i32('container', 0) };
    }
    case 'get-device-fd':
      return { kind, op: 'get-device-fd', fd: a.i32('fd'), name: a.str('name') };
    default:
      throw textError(ctx, t.col, `unknown ioctl op ${JSON.stringify(t.text)}`);
  }
}

/** `iommufd OP key=value...`: an ioctl on /dev/iommu (docs/iommufd.md). */
function parseIommufd(a: Args, ctx: LineCtx): EventBody {
  const t = a.next('iommufd op');
  const kind = 'iommufd' as const;
  switch (t.text) {
    case 'ioas-alloc':
      return { kind, op: 'ioas-alloc', flags: a.u32('flags', 0) };
    case 'ioas-map':
      return { kind, op: 'ioas-map', ioasId: a.u32('ioas'), flags: a.u32('flags'), userVa: a.u64('va'), length: a.u64('len'), iova: a.u64('iova', 0n) };
    case 'ioas-map-file':
      return {
        kind,
        op: 'ioas-map-file',
        ioasId: a.u32('ioas'),
        flags: a.u32('flags'),
        fd: a.i32('fd'),
        start: a.u64('start', 0n),
        length: a.u64('len'),
        iova: a.u64('iova', 0n),
      };
    case 'ioas-unmap':
      return { kind, op: 'ioas-unmap', ioasId: a.u32('ioas'), iova: a.u64('iova'), length: a.u64('len') };
    case 'ioas-iova-ranges':
      return { kind, op: 'ioas-iova-ranges', ioasId: a.u32('ioas'), numIovas: a.u32('num', 0) };
    case 'hwpt-alloc':
      return { kind, op: 'hwpt-alloc', flags: a.u32('flags', 0), devId: a.u32('dev'), ptId: a.u32('pt') };
    case 'destroy':
      return { kind, op: 'destroy', id: a.u32('id') };
    default:
      throw textError(ctx, t.col, `unknown iommufd op ${JSON.stringify(t.text)}`);
  }
}

function parseObserved(tokens: Token[], ctx: LineCtx, eol: number): Observed {
  const a = new Args(tokens, ctx, eol);
  const o: Observed = {};
  const ret = a.opt('ret');
  if (ret !== undefined) o.ret = parseSigned(ret.raw, 64, ret.col, ctx, 'ret');
  if (a.has('errno')) o.errno = a.str('errno');
  const data = a.opt('data');
  if (data !== undefined) o.data = parseBytes(data.raw, data.col, ctx, 'data');
  if (a.has('signal')) {
    o.signal = { signal: a.str('signal'), code: a.str('code', ''), addr: a.has('addr') ? a.u64('addr') : null };
  }
  const how = a.opt('vmm-exit');
  if (how !== undefined) {
    const h = oneOf({ text: how.raw, col: how.col }, EXIT_HOW, ctx, 'vmm-exit');
    o.vmmExit = { how: h, status: a.i32('status', 0), signal: a.str('exit-signal', ''), errno: a.str('exit-errno', '') };
  }
  if (a.has('power')) o.powerState = a.str('power');
  if (a.flag('blocked')) o.blocked = true;
  const klog = a.opt('klog');
  if (klog !== undefined) o.kernelLog = parseStr(klog.raw, klog.col, ctx, 'klog');
  const text = a.opt('text');
  if (text !== undefined) o.text = parseStr(text.raw, text.col, ctx, 'text');
  const signaled = a.opt('signaled');
  if (signaled !== undefined) o.signaled = signaled.raw === '-' ? [] : listOf(signaled, (raw, col) => parseIrqName(raw, col, ctx));
  const failure = a.opt('kernel-failure');
  if (failure !== undefined) {
    const kind = failure.raw === '' ? '' : oneOf({ text: failure.raw, col: failure.col }, KERNEL_FAILURE_KINDS, ctx, 'kernel-failure');
    const consequence = a.str('consequence', '');
    if (consequence !== '' && !(FAILURE_CONSEQUENCES as readonly string[]).includes(consequence))
      throw textError(ctx, failure.col, `consequence must be one of ${FAILURE_CONSEQUENCES.join(', ')}`);
    o.kernelFailure = { kind, where: a.str('where', ''), consequence };
  }
  a.done();
  return o;
}

export type TextPacket = { type: 'header'; header: TraceHeader; line: number } | { type: 'event'; event: TraceEvent; line: number };

function emptyHeader(): TraceHeader {
  return {
    formatVersion: FORMAT_VERSION,
    source: 'unknown',
    kernelRelease: '',
    vmm: { name: '', version: '', accel: 'unknown', options: [] },
    tracerVersion: '',
    device: emptyDeviceSnapshot(),
    title: '',
  };
}

/** Parses the text twin one line at a time. */
export class TextParser {
  private header: TraceHeader | undefined; // the header block being read, until its first event
  private seen = new Set<string>();
  private configSize = -1;
  private nextSeq = 0n;
  private sawHeader = false;

  constructor(private readonly file: string) {}

  /** Feeds line `lineNo` (1-based, without its newline); returns the packets it completes. */
  line(text: string, lineNo: number): TextPacket[] {
    const ctx: LineCtx = { file: this.file, line: lineNo };
    // Lines end at LF (lines.ts); the CR of a CRLF ending is dropped, any other CR is refused
    // rather than read as a break by some readers and as a space by others.
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const cr = text.indexOf('\r');
    if (cr >= 0) throw textError(ctx, cr + 1, 'carriage return (CR) inside a line: lines end with LF or CRLF');
    const tokens = tokenize(text, ctx);
    if (tokens.length === 0) return [];
    const eol = text.replace(/\s+$/, '').length + 1;
    const first = tokens[0];
    if (first.text === 'vfio-trace') {
      const out = this.flushHeader();
      const a = new Args(tokens.slice(1), ctx, eol);
      const v = a.next('format version');
      const version = parseU32(v.text, v.col, ctx, 'format version');
      if (version !== FORMAT_VERSION) throw textError(ctx, v.col, `format version ${version} is not supported (this reader knows ${FORMAT_VERSION})`);
      a.done();
      this.header = emptyHeader();
      this.headerLine = lineNo;
      this.seen = new Set();
      this.configSize = -1;
      this.sawHeader = true;
      return out;
    }
    if (HEADER_WORDS.has(first.text)) {
      if (this.header === undefined) {
        throw textError(ctx, first.col, this.sawHeader ? `header line after events: start a new header block with "vfio-trace ${FORMAT_VERSION}"` : `header line before "vfio-trace ${FORMAT_VERSION}"`);
      }
      if (first.text === 'vmm-options' || first.text === 'kernel-cmdline' || first.text === 'module-params') this.wordList(first, tokens.slice(1), ctx, eol);
      else this.headerItem(first, new Args(tokens.slice(1), ctx, eol), ctx);
      return [];
    }
    if (!this.sawHeader) throw textError(ctx, first.col, `a trace starts with "vfio-trace ${FORMAT_VERSION}"`);
    const out = this.flushHeader();
    out.push({ type: 'event', event: this.event(tokens, ctx, eol), line: lineNo });
    return out;
  }

  /** Call at end of input: returns the last header block if no event followed it. */
  finish(): TextPacket[] {
    const out = this.flushHeader();
    if (!this.sawHeader) throw textError({ file: this.file, line: 1 }, 1, `empty trace: a trace starts with "vfio-trace ${FORMAT_VERSION}"`);
    return out;
  }

  private headerLine = 0;

  private flushHeader(): TextPacket[] {
    if (this.header === undefined) return [];
    const h = this.header;
    this.header = undefined;
    return [{ type: 'header', header: h, line: this.headerLine }];
  }

  private once(word: Token, ctx: LineCtx): void {
    if (this.seen.has(word.text)) throw textError(ctx, word.col, `${word.text} given twice in this header block`);
    this.seen.add(word.text);
  }

  /**
   * `vmm-options x-no-mmap=on rombar=0`, `kernel-cmdline iommu=pt quiet`, `module-params
   * vfio_pci.disable_idle_d3=Y`: each word is one string (printed by fmtOption). Read without Args
   * because every word looks like a `key=value` argument.
   */
  private wordList(word: Token, words: Token[], ctx: LineCtx, eol: number): void {
    this.once(word, ctx);
    if (words.length === 0) throw textError(ctx, eol, `${word.text}: expected at least one ${word.text === 'vmm-options' ? 'option' : 'word'}`);
    const list = words.map((t) => parseOption(t.text, t.col, ctx));
    if (word.text === 'vmm-options') this.header!.vmm.options = list;
    else if (word.text === 'kernel-cmdline') this.header!.kernelCmdline = list;
    else this.header!.moduleParams = list; // `module.param=value`; other words are kept, unread (as on the wire)
  }

  private headerItem(word: Token, a: Args, ctx: LineCtx): void {
    const h = this.header!;
    const d = h.device;
    switch (word.text) {
      case 'source':
        this.once(word, ctx);
        h.source = oneOf(a.next('capture source'), SOURCES, ctx, 'capture source');
        break;
      case 'kernel': {
        this.once(word, ctx);
        const t = a.next('kernel release');
        h.kernelRelease = parseStr(t.text, t.col, ctx, 'kernel release');
        break;
      }
      case 'vmm': {
        this.once(word, ctx);
        const n = a.next('vmm name');
        const v = a.next('vmm version');
        h.vmm = {
          name: parseStr(n.text, n.col, ctx, 'vmm name'),
          version: parseStr(v.text, v.col, ctx, 'vmm version'),
          accel: oneOf(a.next('accelerator'), ACCELS, ctx, 'accelerator'),
          options: h.vmm.options, // set by its own line, which may come first
        };
        break;
      }
      case 'tracer': {
        this.once(word, ctx);
        const t = a.next('tracer version');
        h.tracerVersion = parseStr(t.text, t.col, ctx, 'tracer version');
        break;
      }
      case 'title': {
        this.once(word, ctx);
        const t = a.next('title');
        h.title = parseStr(t.text, t.col, ctx, 'title');
        break;
      }
      case 'device': {
        this.once(word, ctx);
        const bdf = a.next('PCI address');
        d.bdf = parseStr(bdf.text, bdf.col, ctx, 'PCI address');
        const id = a.next('vendor:device');
        const m = /^([0-9a-fA-F]{1,8}):([0-9a-fA-F]{1,8})$/.exec(id.text);
        if (m === null) throw textError(ctx, id.col, `expected vendor:device in hex (8086:10d3), got ${JSON.stringify(id.text)}`);
        d.vendorId = parseInt(m[1], 16);
        d.deviceId = parseInt(m[2], 16);
        d.pageSize = a.u32('page-size', 4096);
        const badPage = pageSizeProblem(d.pageSize);
        if (badPage !== null) throw textError(ctx, a.opt('page-size')?.col ?? 1, badPage);
        d.iommuGroup = a.i32('iommu-group', -1);
        break;
      }
      case 'reset-methods': {
        this.once(word, ctx);
        const methods: string[] = [];
        for (let t = a.next('reset method'); ; t = a.next('reset method')) {
          methods.push(parseStr(t.text, t.col, ctx, 'reset method'));
          if (!a.more()) break;
        }
        d.resetMethods = methods;
        break;
      }
      case 'device-traits': {
        this.once(word, ctx);
        d.traits = parseTraits(a, ctx);
        break;
      }
      case 'sriov':
        this.once(word, ctx);
        parseSriovLine(a, ctx, d);
        break;
      case 'sriov-vf':
        this.once(word, ctx);
        parseSriovVfLine(a, ctx, d);
        break;
      case 'vf-bar':
        parseVfBarLine(a, ctx, d, word.col);
        break;
      case 'quirks': {
        this.once(word, ctx);
        const q = d.quirks;
        for (;;) {
          if (a.flag('non_mappable_bars')) q.nonMappableBars = true;
          else if (a.flag('no_command_memory')) q.noCommandMemory = true;
          else if (a.flag('is_virtfn')) q.isVirtfn = true;
          else break;
        }
        const busy = a.opt('resource-busy');
        if (busy !== undefined) q.resourceBusyBars = listOf(busy, (raw, col) => parseU32(raw, col, ctx, 'BAR number'));
        const iomap = a.opt('iomap-fail');
        if (iomap !== undefined) q.iomapFailBars = listOf(iomap, (raw, col) => parseU32(raw, col, ctx, 'BAR number'));
        const d3cold = a.opt('d3cold');
        if (d3cold !== undefined) {
          const v = parseStr(d3cold.raw, d3cold.col, ctx, 'd3cold');
          if (v !== '') q.d3cold = v;
        }
        break;
      }
      case 'device-sysfs': {
        // `device-sysfs power-state=D3hot runtime-status=suspended control=auto d3cold-allowed=1 driver-override=vfio-pci`
        this.once(word, ctx);
        d.sysfs = {
          powerState: a.str('power-state', ''),
          runtimeStatus: a.str('runtime-status', ''),
          control: a.str('control', ''),
          d3coldAllowed: a.str('d3cold-allowed', ''),
          driverOverride: a.str('driver-override', ''),
        };
        break;
      }
      case 'bar': {
        const n = a.next('BAR number');
        const index = parseU32(n.text, n.col, ctx, 'BAR number');
        const kind = oneOf(a.next('BAR kind'), ['mem', 'io'] as const, ctx, 'BAR kind');
        const bar: BarInfo = { index, kind, size: a.u64('size'), is64: false, prefetchable: false };
        bar.is64 = a.flag('64');
        bar.prefetchable = a.flag('prefetch');
        d.bars.push(bar);
        break;
      }
      case 'rom':
        this.once(word, ctx);
        d.romSize = a.u64('size');
        break;
      case 'vga':
        this.once(word, ctx);
        d.vga = true;
        break;
      case 'config': {
        const size = a.opt('size');
        if (size !== undefined) {
          if (this.configSize >= 0) throw textError(ctx, size.keyCol, 'config size= given twice in this header block');
          const n = parseU32(size.raw, size.col, ctx, 'config size');
          const tooBig = configSizeProblem(n);
          if (tooBig !== null) throw textError(ctx, size.col, tooBig);
          this.configSize = n;
          d.config = new Uint8Array(n);
          break;
        }
        if (this.configSize < 0) throw textError(ctx, word.col, 'config rows need a "config size=N" line first');
        const o = a.next('config row offset');
        const off = parseU32(o.text, o.col, ctx, 'config row offset');
        let i = off;
        while (a.more()) {
          const b = a.next('byte');
          if (!/^[0-9a-fA-F]{2}$/.test(b.text)) throw textError(ctx, b.col, `expected a byte as two hex digits, got ${JSON.stringify(b.text)}`);
          if (i >= this.configSize) throw textError(ctx, b.col, `config byte 0x${i.toString(16)} is past config size ${this.configSize}`);
          d.config[i++] = parseInt(b.text, 16);
        }
        break;
      }
    }
    a.done();
  }

  private event(tokens: Token[], ctx: LineCtx, eol: number): TraceEvent {
    let i = 0;
    let seq = this.nextSeq;
    if (/^[0-9]/.test(tokens[0].text)) {
      seq = parseUnsigned(tokens[0].text, 64, tokens[0].col, ctx, 'sequence number');
      i++;
    } else if (seq > U64_MAX) {
      // The implicit number is the previous one plus one, checked like an explicit one.
      throw textError(ctx, tokens[0].col, `sequence number ${seq} does not fit in 64 bits (the previous event has the largest one)`);
    }
    let tsNs = 0n;
    let tid = 0;
    let overlap = 0;
    let pid = 0;
    for (; i < tokens.length; i++) {
      const t = tokens[i];
      if (t.text.startsWith('t=')) tsNs = parseUnsigned(t.text.slice(2), 64, t.col + 2, ctx, 't');
      else if (t.text.startsWith('tid=')) tid = parseU32(t.text.slice(4), t.col + 4, ctx, 'tid');
      else if (t.text.startsWith('pid=')) pid = parseU32(t.text.slice(4), t.col + 4, ctx, 'pid');
      else if (t.text.startsWith('race=')) overlap = parseU32(t.text.slice(5), t.col + 5, ctx, 'race');
      else break;
    }
    const kindTok = tokens[i];
    if (kindTok === undefined) throw textError(ctx, eol, 'missing event kind');
    let arrow = tokens.findIndex((t, k) => k > i && t.text === '=>');
    if (arrow < 0) arrow = tokens.length;
    const a = new Args(tokens.slice(i + 1, arrow), ctx, arrow < tokens.length ? tokens[arrow].col : eol);
    const body = parseBody(kindTok, a, ctx);
    a.done();
    if ('len' in body) {
      const bad = accessLenProblem(body.kind, body.len);
      if (bad !== null) throw textError(ctx, a.opt('len')?.col ?? kindTok.col, bad);
    }
    const event = { seq, tsNs, tid, overlap, ...(pid !== 0 ? { pid } : {}), ...body } as TraceEvent;
    if (arrow < tokens.length) event.observed = parseObserved(tokens.slice(arrow + 1), ctx, eol);
    this.nextSeq = seq + 1n;
    return event;
  }
}

/** Parses a whole text trace. */
export function parseText(text: string, file: string): Trace {
  const p = new TextParser(file);
  const packets: TextPacket[] = [];
  const lines = text.split('\n');
  lines.forEach((l, i) => packets.push(...p.line(l, i + 1)));
  packets.push(...p.finish());
  let header: TraceHeader | undefined;
  const events: TraceEvent[] = [];
  const moreHeaders: { before: number; header: TraceHeader }[] = [];
  for (const pk of packets) {
    if (pk.type === 'header') {
      if (header === undefined) header = pk.header;
      else moreHeaders.push({ before: events.length, header: pk.header });
    } else events.push(pk.event);
  }
  const trace: Trace = { header: header!, events };
  if (moreHeaders.length > 0) trace.moreHeaders = moreHeaders;
  return trace;
}

/** An interrupt eventfd's name in `signaled=`: intx, msi:N, msix:N, err, req. */
function parseIrqName(raw: string, col: number, ctx: LineCtx): string {
  if (!/^(intx|err|req|msix?:\d+)$/.test(raw)) throw textError(ctx, col, `signaled: expected intx, msi:N, msix:N, err or req, got ${JSON.stringify(raw)}`);
  return raw;
}
