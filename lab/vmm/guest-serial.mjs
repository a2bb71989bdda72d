// The inner guest's serial log as guest-side events, merged into an imported trace.
//
// `vfio-replay import` sees guest config accesses (QEMU's vfio_pci_read/write_config trace) and
// trapped BAR accesses (vfio_region_read/write), but an access through a directly mapped BAR leaves
// no trace line and no syscall: only the guest knows it made it, and what it read. The inner guest
// prints every access to the device in text-twin syntax (lab/vmm/README.md), so its MMIO lines fill
// that gap: each one is placed after the imported guest config access the guest made just before it
// (the serial log and the trace agree on the order of config accesses; the guest's are the last
// ones in the trace, after the firmware's), on the same vCPU thread, with the same timestamp.
// An access without `=>` is the one the VMM died on: the host-side fault event right after it
// (the SIGBUS and the VMM's death) is folded into it, so the VMM's death is the guest access's
// observed outcome.

const EVENT = /^(guest-(?:cfg|mmio)-(?:read|write)) (.*?)(?: =>(.*))?$/;

/** Guest events from serial.txt: { kind, args, observed (string | null when the VMM died on it) }. */
export function parseSerial(text) {
  const out = [];
  for (const line of text.split('\n')) {
    const m = EVENT.exec(line);
    if (!m) continue; // `#` comments, the script echo
    out.push({ kind: m[1], args: m[2].trim(), observed: m[3] === undefined ? null : m[3].trim() });
  }
  return out;
}

const TWIN_EVENT = /^(\d+)((?: (?:t|tid|race)=\d+)*) (\S+) ?(.*)$/;

/** Parses `0x04 len=2 val=0x0103` / `0xcc len=2` into comparable numbers. */
function cfgKey(args) {
  const m = /^(0x[0-9a-f]+) len=(\d+)(?: val=(0x[0-9a-f]+))?/.exec(args);
  if (!m) return null;
  return { offset: Number(m[1]), len: Number(m[2]), val: m[3] === undefined ? null : BigInt(m[3]) };
}

function sameCfg(a, b) {
  const x = cfgKey(a);
  const y = cfgKey(b);
  return x !== null && y !== null && x.offset === y.offset && x.len === y.len && (x.val === null || y.val === null || x.val === y.val);
}

/**
 * Merges the serial log's MMIO accesses into a canonical text twin (`vfio-replay dump` output).
 * Returns { text, inserted, present, folded, cfgChecked, problems } where text has no sequence numbers
 * on event lines (the encoder renumbers them).
 */
export function mergeSerialIntoTwin(twin, serialText) {
  const serial = parseSerial(serialText);
  const lines = twin.split('\n');
  const events = []; // { index, kind, rest, meta }
  lines.forEach((l, i) => {
    const m = TWIN_EVENT.exec(l);
    if (m && !l.startsWith('config ')) events.push({ index: i, seq: m[1], meta: m[2], kind: m[3], rest: m[4] });
  });
  const problems = [];
  const twinCfg = events.filter((e) => e.kind === 'guest-cfg-read' || e.kind === 'guest-cfg-write');
  const serialCfg = serial.filter((e) => e.kind.startsWith('guest-cfg'));
  if (serialCfg.length > twinCfg.length) {
    problems.push(`serial log has ${serialCfg.length} config accesses, the trace ${twinCfg.length}`);
    return { text: twin, inserted: 0, present: 0, cfgChecked: 0, problems };
  }
  // The guest's config accesses are the last ones in the trace (the firmware's come first).
  const offset = twinCfg.length - serialCfg.length;
  let cfgChecked = 0;
  serialCfg.forEach((s, i) => {
    const t = twinCfg[offset + i];
    if (t.kind !== s.kind || !sameCfg(t.rest, s.args)) problems.push(`config access ${i}: serial "${s.kind} ${s.args}" vs trace "${t.kind} ${t.rest}"`);
    else cfgChecked++;
  });
  if (problems.length) return { text: twin, inserted: 0, present: 0, cfgChecked, problems };

  // Walk the serial log; remember the trace event of the latest config access; MMIO lines go after
  // it (after any guest MMIO events the importer already placed there, i.e. trapped accesses).
  const insertAfter = new Map(); // line index -> [lines to insert]
  const dropped = new Set(); // line indices of host events folded into a guest access
  const bars = barSizes(lines);
  let folded = 0;
  let cfgIdx = -1;
  let inserted = 0;
  let present = 0;
  let cursor = null; // the twin event after which MMIO accesses follow
  const consumed = new Set();
  for (const s of serial) {
    if (s.kind.startsWith('guest-cfg')) {
      cfgIdx++;
      cursor = twinCfg[offset + cfgIdx];
      continue;
    }
    if (cursor === null) {
      problems.push(`MMIO access before any config access: ${s.kind} ${s.args}`);
      continue;
    }
    // A trapped access is already in the trace (from QEMU's log): the next guest MMIO event of the
    // same kind and address after the cursor, before the next guest config access.
    const start = events.indexOf(cursor);
    let found = null;
    for (let k = start + 1; k < events.length; k++) {
      const e = events[k];
      if (e.kind.startsWith('guest-cfg')) break;
      if (!e.kind.startsWith('guest-mmio') || consumed.has(e) || e.rest.split(' ')[0] !== s.args.split(' ')[0]) continue;
      // The importer also infers guest accesses from a fault in a guest-placed BAR mapping (a 1-byte
      // read: strace sees neither width nor direction) and from a failed trapped pread/pwrite (no
      // value): those match by address whatever their kind.
      if (e.kind === s.kind || inferredAccess(e)) {
        found = e;
        break;
      }
    }
    if (found) {
      consumed.add(found);
      cursor = found;
      present++;
      const [args, obs] = found.rest.split(' => ');
      if (found.kind !== s.kind || args.trim() !== s.args.trim() || (obs === undefined && s.observed)) {
        // The guest's own line is exact: it replaces the inferred access, keeping the VMM's death.
        dropped.add(found.index);
        const observed = vmmExitPart(obs ?? '') ?? s.observed;
        const line = `${found.meta.replace(/ race=\d+/, '').trim()} ${s.kind} ${s.args}${observed === null ? '' : observed === '' ? ' =>' : ` => ${observed}`}`.trim();
        const list = insertAfter.get(found.index) ?? [];
        list.push(line);
        insertAfter.set(found.index, list);
        folded++;
      }
      continue;
    }
    const meta = cursor.meta.replace(/ race=\d+/, '');
    // The host call that served this access, if the importer saw one right after the cursor: the
    // fault of a stale direct mapping (mem-read/-write, carrying the signal and the VMM's death) or
    // a trapped pread/pwrite that QEMU's log did not show (it logs successful ones only). It is
    // folded into the guest access, as the importer folds the ones it can pair itself.
    let observed = s.observed;
    const next = events[events.indexOf(cursor) + 1];
    if (next && !next.kind.startsWith('guest-') && !consumed.has(next) && servesAccess(next, s, bars)) {
      consumed.add(next);
      dropped.add(next.index);
      folded++;
      if (next.kind.startsWith('mem-')) observed = vmmExitPart(next.rest.split(' => ')[1] ?? '') ?? observed;
    }
    const line = `${meta.trim()} ${s.kind} ${s.args}${observed === null ? '' : observed === '' ? ' =>' : ` => ${observed}`}`.trim();
    const list = insertAfter.get(cursor.index) ?? [];
    list.push(line);
    insertAfter.set(cursor.index, list);
    inserted++;
  }
  const out = [];
  lines.forEach((l, i) => {
    const m = TWIN_EVENT.exec(l);
    if (!dropped.has(i)) out.push(m && !l.startsWith('config ') ? l.slice(m[1].length + 1) : l);
    for (const extra of insertAfter.get(i) ?? []) out.push(extra);
  });
  return { text: out.join('\n'), inserted, present, folded, cfgChecked, problems };
}

/**
 * The VMM's death out of a host fault's observation (`signal=SIGBUS code=BUS_ADRERR addr=0x...
 * vmm-exit=signaled status=135 exit-signal=SIGBUS`): what the guest access observed. The signal
 * itself belongs to the host access the VMM made on the guest's behalf (the model predicts it as
 * the forwarded access); the raw strace.log keeps si_code and si_addr.
 */
function vmmExitPart(obs) {
  const m = /vmm-exit=\S+(?: status=-?\d+)?(?: exit-(?:signal|errno)=\S+)?/.exec(obs);
  return m ? m[0] : null;
}

/** A guest access the importer inferred (fault: `len=1 => vmm-exit=...`; failed trapped call: no `=>`). */
function inferredAccess(e) {
  const [args, obs] = e.rest.split(' => ');
  return obs === undefined || (/ len=1$/.test(args.trim()) && /vmm-exit=/.test(obs));
}

/** BAR sizes from the header (`bar 0 mem size=0x20000`): index -> size. */
function barSizes(lines) {
  const bars = new Map();
  for (const l of lines) {
    const m = /^bar (\d) (mem|io) size=(0x[0-9a-f]+)/.exec(l);
    if (m) bars.set(Number(m[1]), BigInt(m[3]));
  }
  return bars;
}

/**
 * Whether host event `e` (`mem-read bar0+0x8 len=1 ...`, `region-write bar0+0x2800 len=4 ...`) is
 * the VMM serving guest access `s` (`0xc0000008 len=4`): same direction, and the guest address
 * lies at that offset of the (naturally aligned) BAR. A fault's length and direction are unknown to
 * the importer.
 */
function servesAccess(e, s, bars) {
  const dir = s.kind.endsWith('read') ? 'read' : 'write';
  // A SIGBUS does not say whether the faulting access was a load or a store: the importer writes
  // every fault as `mem-read ... len=1`, so a fault may serve a guest write too.
  if (!e.kind.startsWith('mem-') && e.kind !== `region-${dir}`) return false;
  const h = /^bar(\d)\+(0x[0-9a-f]+) len=(\d+)/.exec(e.rest);
  const g = /^(0x[0-9a-f]+) len=(\d+)/.exec(s.args);
  if (!h || !g) return false;
  const size = bars.get(Number(h[1]));
  if (size === undefined || BigInt(g[1]) % size !== BigInt(h[2])) return false;
  return e.kind.startsWith('mem-') || h[3] === g[2];
}
