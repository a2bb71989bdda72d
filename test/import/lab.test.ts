// The lab's captures of the REAL vfio-pci driver (traces/lab/<kernel>/*.strace and *.ioctl-args,
// recorded by tracer/vfio-trace running in the lab guest around the same host operations) import
// into traces that replay exactly as the lab's own traces do: same divergences (zero where the lab's
// trace has zero), nothing unsupported, and the imported events are the lab's events, in order,
// minus what strace cannot see (successful CPU accesses through mappings; a faulting access is
// compared by place and signal, see `key`). The ioctl argument capture is what lets SET_IRQS,
// DEVICE_FEATURE (low power, DMABUF), HOT_RESET, IOEVENTFD and MAP_DMA import as themselves; a
// capture without it (older runs) is checked for decoding only.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIoctlArgs } from '../../src/import/ioctl-args.js';
import { importTrace } from '../../src/import/importer.js';
import { replayFile } from '../../src/replay/run.js';
import { encodeTrace, loadTrace } from '../../src/trace/codec.js';
import { describeEvent, describeObserved } from '../../src/trace/text-print.js';
import type { Trace } from '../../src/trace/types.js';
import { repo } from './helpers.js';
import { isSetupEvent } from '../../src/trace/setup-requests.js';

const labRoot = join(repo, 'traces/lab');
/**
 * traces/lab/<kernel>/ holds what `npm run lab` writes (the tracer picked an event probe there);
 * test/fixtures/import/lab-kprobe/<kernel>/ three scenarios of `npm run lab -- --tracer-probe
 * kprobe --out ...`: the same capture through the tracer's kprobe fallback (kernels before 5.15).
 */
const roots = [labRoot, join(repo, 'test/fixtures/import/lab-kprobe')];
const captures: [string, string][] = roots.flatMap((root) =>
  existsSync(root)
    ? readdirSync(root).flatMap((k) =>
        readdirSync(join(root, k))
          .filter((f) => f.endsWith('.strace') && existsSync(join(root, k, f.replace(/\.strace$/, '.pb'))))
          .map((f): [string, string] => [relative(repo, join(root, k)), f.replace(/\.strace$/, '')]),
      )
    : [],
);
/**
 * Lab captures the importer cannot follow yet, each with why (none today: the iommufd runner's
 * dup2 of /dev/iommu to fd 100 is followed since the tracer records dup2 and the fd table knows
 * aliases, docs/importing.md "fd aliases").
 */
const IMPORT_GAPS: Record<string, string> = {};
const followed = captures.filter(([k]) => IMPORT_GAPS[k] === undefined);
const scratch = mkdtempSync(join(tmpdir(), 'lab-import-'));

/** strace shows what an ioctl returned, not what the kernel wrote into its struct (`data=`). */
const seen = (e: Trace['events'][number]): Trace['events'][number]['observed'] => {
  if ((e.kind !== 'ioctl' && e.kind !== 'iommufd' && e.kind !== 'map-dma' && e.kind !== 'unmap-dma') || !e.observed?.data) return e.observed;
  const { data: _data, ...rest } = e.observed;
  return rest;
};
const line = (e: Trace['events'][number]): string => {
  const o = seen(e);
  // An empty observation (the lab's `fork child=1 =>`) says as much as none.
  const text = o ? describeObserved(o) : '';
  return describeEvent(e) + (text ? ` => ${text}` : '');
};

/**
 * A file descriptor the runner made itself stands in for the trace's number (its group fd for a
 * hot reset, a fresh eventfd for a wakeup or an ioeventfd): the real capture shows the runner's
 * number, the lab trace the scenario's. Only the sign matters to the kernel's checks.
 */
const runnerFd = (e: Trace['events'][number]): Trace['events'][number] => {
  const fd = (n: number) => (n >= 0 ? 1000 : n);
  // The runner dup2s /dev/iommu to 100 and writes 100 as the open's result; the import names the
  // file by the number its open returned (docs/importing.md "fd aliases"), a BIND too.
  if (e.kind === 'iommufd-open' && e.observed?.ret !== undefined && e.observed.ret >= 0n) return { ...e, observed: { ...e.observed, ret: 1000n } };
  if (e.kind !== 'ioctl') return e;
  if (e.op === 'bind-iommufd') return { ...e, iommufd: fd(e.iommufd) };
  // A scenario's DATA_EVENTFD SET_IRQS has no fds (the runner makes fresh eventfds); the capture
  // shows the runner's: compared as not recorded, like the scenario.
  if (e.op === 'set-irqs') return { ...e, fds: [] };
  // The runner's group fd is -1 in the cdev scenarios (it opened no group): any number stands for it.
  if (e.op === 'hot-reset') return { ...e, groupFds: e.groupFds.map(() => 1000) };
  if (e.op === 'ioeventfd') return { ...e, fd: fd(e.fd) };
  if (e.op === 'low-power' && e.request === 'entry-with-wakeup') return { ...e, wakeupFd: fd(e.wakeupFd) };
  if (e.op === 'get-device-fd') return { ...e, fd: fd(e.fd) }; // the runner's group fd for the scenario's
  return e;
};

/**
 * A faulting CPU access as strace shows it: the place and the signal, not the width or direction
 * (the importer writes a 1-byte mem-read); the lab recorded what the program really did.
 */
const key = (e: Trace['events'][number]): string =>
  (e.kind === 'mem-read' || e.kind === 'mem-write') && e.observed?.signal
    ? `fault bar${e.bar}+${e.offset.toString(16)} => ${describeObserved(e.observed)}`
    : line(withoutBufBytes(runnerFd(asLabOpen(e))));

/**
 * A pwrite from a BAR-mapped buffer: strace shows the pointer, not the bytes (the importer takes
 * them from the last access that showed them); the lab's trace has the scenario's placeholder.
 */
const withoutBufBytes = (e: Trace['events'][number]): Trace['events'][number] =>
  (e.kind === 'cfg-write' || e.kind === 'region-write') && e.bufBar !== undefined ? { ...e, data: new Uint8Array(e.data.length) } : e;

/** The lab numbers forked children 1, 2, ...; strace shows their real pids: renumbered in fork order. */
function labPids(events: Trace['events']): Trace['events'] {
  const n = new Map<number, number>();
  for (const e of events) if (e.kind === 'fork') n.set(e.child, n.size + 1);
  if (n.size === 0) return events;
  return events.map((e) => {
    const pid = e.pid === undefined ? undefined : (n.get(e.pid) ?? e.pid);
    const body = e.kind === 'fork' ? { ...e, child: n.get(e.child) ?? e.child } : e;
    return pid === undefined ? body : { ...body, pid };
  });
}

/**
 * The runner sets up its container and group before the scenario (not trace events there) and
 * writes its GET_DEVICE_FD (failed or not) as `open`: the import has both as themselves.
 */
const asLabOpen = (e: Trace['events'][number]): Trace['events'][number] => {
  if (e.kind !== 'ioctl' || e.op !== 'get-device-fd') return e;
  const { op: _op, fd: _fd, name: _name, ...rest } = e;
  return { ...rest, kind: 'open' };
};

async function summary(path: string) {
  return replayFile(path, {}, { event: () => undefined });
}

describe('lab captures of the real vfio-pci driver', { timeout: 60_000 }, () => {
  it('exist (the lab has run)', () => {
    expect(captures.length).toBeGreaterThan(0);
  });

  it.each(followed)('%s/%s imports and replays like the lab trace', async (kernel, name) => {
    const dir = join(repo, kernel);
    const lab = await loadTrace(join(dir, `${name}.pb`));
    const argsFile = join(dir, `${name}.ioctl-args`);
    const withArgs = existsSync(argsFile);
    const { trace } = importTrace({ strace: join(dir, `${name}.strace`), ...(withArgs ? { ioctlArgs: argsFile } : {}), header: lab.header, tracerVersion: 't' });
    // Every imported event is the lab's next matching event (a subsequence, in order).
    const labLines = lab.events.map(key);
    let j = 0;
    for (const e of labPids(trace.events)) {
      if ((e.kind === 'ioctl' && e.op === 'raw') || isSetupEvent(e)) continue;
      const l = key(e);
      while (j < labLines.length && labLines[j] !== l) j++;
      expect(j, `imported "${l}" is not next in the lab trace`).toBeLessThan(labLines.length);
      j++;
    }
    const out = join(scratch, `${kernel.replace(/\//g, '-')}-${name}.pb`);
    writeFileSync(out, encodeTrace(trace));
    const mine = await summary(out);
    const theirs = await summary(join(dir, `${name}.pb`));
    // A failed GET_DEVICE_FD stays the group ioctl it was (the importer writes no open for it):
    // raw by design, not for want of its argument.
    const undecoded = trace.events.some((e) => e.kind === 'ioctl' && e.op === 'raw' && !(e.fdKind === 'group' && e.request === 0x3b6a && e.observed?.errno));
    if (withArgs) expect(undecoded, 'a VFIO ioctl stayed raw despite the argument capture').toBe(false);
    if (!undecoded) {
      expect(mine.unsupported).toBe(0);
      expect(mine.divergences).toBe(theirs.divergences);
      if (theirs.divergences === 0) expect(mine.first).toBeNull();
    }
  });

  it("the tracer zeroed every word past a struct's argsz before writing ioctl-args", () => {
    let structs = 0;
    for (const [kernel, name] of captures) {
      const file = join(repo, kernel, `${name}.ioctl-args`);
      if (!existsSync(file)) continue;
      for (const r of parseIoctlArgs(readFileSync(file, 'latin1'), file).records) {
        const argsz = r.bytes.length >= 4 ? new DataView(r.bytes.buffer).getUint32(0, true) : 0;
        if (argsz < 4 || argsz > r.bytes.length) continue;
        structs++;
        const past = r.bytes.slice(Math.ceil(argsz / 8) * 8);
        expect(past.every((b) => b === 0), `${file}:${r.line}`).toBe(true);
      }
    }
    expect(structs).toBeGreaterThan(100);
  });

  it('through the built CLI: import low-power with its argument capture, then replay exits 0', () => {
    const cli = join(repo, 'dist/src/cli/main.js');
    const [kernel, name] = captures.find(([, n]) => n === 'low-power') ?? captures[0]!;
    const dir = join(repo, kernel);
    const out = join(scratch, 'cli.pb');
    const imp = spawnSync(
      process.execPath,
      [cli, 'import', '--strace', join(dir, `${name}.strace`), '--ioctl-args', join(dir, `${name}.ioctl-args`), '--header-from', join(dir, `${name}.pb`), '-o', out],
      { encoding: 'utf8' },
    );
    expect(imp.stderr).toMatch(/events: /);
    expect(imp.stderr).toMatch(/ioctl arguments .*: \d+ records, \d+ paired with strace calls/);
    expect(imp.stderr).not.toMatch(/without their struct/);
    expect(imp.status).toBe(0);
    const rep = spawnSync(process.execPath, [cli, 'replay', out, '--summary-only'], { encoding: 'utf8' });
    expect(rep.stdout).toMatch(/0 divergences, 0 unsupported/);
    expect(rep.status).toBe(0);
  });
});
