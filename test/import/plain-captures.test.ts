// Issue 20, "Done when": each nested-lab session recorded the way a user without the tracer would
// (traces/qemu-plain/<ver>/<run>/: plain strace -f -tt, QEMU -trace log without timestamps, a log
// in libvirt's layout, lspci -vvv -xxxx, dmesg; lab/vmm/outer-init.sh capture_plain) imports with no
// hand-made file or flag, and replays with the same end verdict as the tracer's capture of the same
// scenario (traces/qemu/<ver>/<run>, whose golden is the reference): the VMM killed by SIGBUS at
// the same guest access, reads that came back all-ones at the same guest addresses, and no
// divergence. The plain capture cannot see direct-mapped accesses that did not fault (QEMU 10.0's
// read of an unmapped BAR in D3hot, which returns 0, is in neither log): those are not compared.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repo } from './helpers.js';

const cli = join(repo, 'dist/src/cli/main.js');
const plainRoot = join(repo, 'traces/qemu-plain');
const tracerRoot = join(repo, 'traces/qemu');
const out = mkdtempSync(join(tmpdir(), 'plain-captures-'));

const all = existsSync(plainRoot)
  ? readdirSync(plainRoot).flatMap((v) => readdirSync(join(plainRoot, v)).filter((r) => existsSync(join(plainRoot, v, r, 'meta.json'))).map((r) => `${v}/${r}`))
  : [];
const variantOf = (s: string): string => (JSON.parse(readFileSync(join(plainRoot, s, 'meta.json'), 'utf8')) as { variant: string }).variant;
/** Sessions with a tracer capture of the same run (mmap/no-mmap); attach runs compare with their scenario's. */
const sessions = all.filter((s) => ['mmap', 'no-mmap', 'attach'].includes(variantOf(s)));
const attached = all.filter((s) => variantOf(s) === 'attach');
const badName = all.filter((s) => variantOf(s) === 'bad-name');
const stamped = all.filter((s) => variantOf(s) === 'stamped');

/** What a replay log says happened at the end: the VMM's death and all-ones reads, by guest address. */
function verdict(log: string): string[] {
  const v: string[] = [];
  for (const line of log.split('\n')) {
    // A fault's direction is not in strace (a SIGBUS says neither load nor store): the address and
    // the outcome are the verdict.
    const m = /^#\d+ guest mmio-(?:read|write) (0x[0-9a-f]+) len=\d+(?: val=\S+)?\s+=> (vmm-exit killed \S+|all-ones)/.exec(line);
    if (m) v.push(`${m[1]} ${m[2]}`);
  }
  return v;
}

/** The session imported from its plain files alone (positional, no flags); the .pb path. */
function importPlain(s: string): { pb: string; stderr: string; status: number | null } {
  const dir = join(plainRoot, s);
  const files = ['qemu.strace', 'qemu-trace.log', 'libvirt.log', 'lspci.txt', 'dmesg.txt'].map((f) => join(dir, f));
  const pb = join(out, `${s.replace('/', '-')}.pb`);
  const imp = spawnSync(process.execPath, [cli, 'import', ...files, '-o', pb], { encoding: 'utf8' });
  return { pb, stderr: imp.stderr, status: imp.status };
}

function goldenOf(dir: string, run: string): string {
  const g = readdirSync(dir).find((f) => f.startsWith(`${run}@`) && f.endsWith('.golden'));
  if (g === undefined) throw new Error(`no golden for ${run} in ${dir}`);
  return readFileSync(join(dir, g), 'utf8');
}

describe('plain captures (no tracer): import by content, replay, same verdict as the tracer capture', { timeout: 120_000 }, () => {
  it('the lab committed plain captures', () => {
    expect(sessions.length).toBeGreaterThan(0);
  });
  for (const s of sessions) {
    it(s, () => {
      const { pb, ...imp } = importPlain(s);
      expect(imp.stderr).not.toMatch(/unknown QEMU events/);
      expect(imp.status, imp.stderr).toBe(0);
      expect(imp.stderr).toMatch(/inferred: device snapshot from .*lspci\.txt/);
      expect(imp.stderr).toMatch(/inferred: VMM version \d+\.\d+\.\d+ from .*libvirt\.log/);
      const rep = spawnSync(process.execPath, [cli, 'replay', pb], { encoding: 'utf8' });
      expect(rep.stdout).toMatch(/summary: \d+ events, 0 divergences/);
      const [ver, run] = s.split('/') as [string, string];
      // strace -p of the same scenario: the tracer's capture of that scenario is the reference.
      const reference = verdict(goldenOf(join(tracerRoot, ver), run.replace(/\.attach$/, '')));
      // The tracer's capture knows the width of the access that faulted (the guest's serial log);
      // strace only sees the signal: compare kind, address and outcome.
      expect(verdict(rep.stdout)).toEqual(reference);
    });
  }
  it.runIf(sessions.includes('7.2/d3hot-read'))('QEMU 7.2 d3hot-read: killed by SIGBUS at the guest access after D3hot', () => {
    const v = verdict(spawnSync(process.execPath, [cli, 'replay', importPlain('7.2/d3hot-read').pb], { encoding: 'utf8' }).stdout);
    expect(v).toEqual(['0xc0000008 vmm-exit killed SIGBUS']);
  });
  it.runIf(sessions.includes('7.2/d3hot-read'))('opaque ioctls: SET_IRQS without its struct makes the MSI/MSI-X reads after it unsupported, counted', () => {
    const r = spawnSync(process.execPath, [cli, 'replay', importPlain('7.2/d3hot-read').pb], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/^#\d+ guest cfg-read 0xa0 len=2 +=> unsupported after opaque #\d+ \(VFIO_DEVICE_SET_IRQS without its arguments\)/m);
    expect(r.stdout).toMatch(/^\d+ outcomes unsupported after opaque ioctls \(first #\d+ VFIO_DEVICE_SET_IRQS, its arguments not captured\): capture with tracer\/vfio-trace/m);
  });
  it('the lab committed attach captures (npm run lab -- --vmm all --capture plain --scenario d3hot-read --variant attach)', () => {
    expect(attached).toEqual(expect.arrayContaining(['7.2/d3hot-read.attach', '10.0/d3hot-read.attach']));
  });
  for (const s of attached) {
    it(`attach to a running VMM (${s}): strace -f -tt -p after the device was opened and mapped imports with the QEMU log's help, same verdict`, () => {
      // What the log really lacks: no execve, no openat of /dev/vfio, no GET_DEVICE_FD, no mmap
      // of the device; it starts with calls in flight.
      const log = readFileSync(join(plainRoot, s, 'qemu.strace'), 'latin1');
      expect(log).not.toMatch(/execve\(|\/dev\/vfio|GET_DEVICE_FD|MAP_SHARED/);
      expect(log).toMatch(/<\.\.\. \w+ resumed>/);
      const { pb, ...imp } = importPlain(s);
      expect(imp.status, imp.stderr).toBe(0);
      expect(imp.stderr).toMatch(/device fd opened before the capture \(a config-region access on it\) \d+/);
      expect(imp.stderr).toMatch(/^\d+ events: open 1,/m);
      const rep = spawnSync(process.execPath, [cli, 'replay', pb], { encoding: 'utf8' });
      expect(rep.stdout).toMatch(/summary: \d+ events, 0 divergences/);
      if (s.startsWith('7.2/')) {
        // The fault's address lies in no mapping strace saw: QEMU's DMA listener line placed it.
        expect(imp.stderr).toMatch(/faults placed by the QEMU log's BAR mappings 1/);
        expect(verdict(rep.stdout)).toEqual(['0xc0000008 vmm-exit killed SIGBUS']);
      }
    });
  }
  it('the lab committed failed-GET_DEVICE_FD captures (--variant bad-name)', () => {
    expect(badName).toEqual(expect.arrayContaining(['7.2/d3hot-read.bad-name', '10.0/d3hot-read.bad-name']));
  });
  for (const s of badName) {
    it(`a real failed GET_DEVICE_FD (${s}: QEMU asks group 2 for a function not in it, the kernel says ENODEV): imported as the failure, no open, the name it cannot show is not guessed`, () => {
      const log = readFileSync(join(plainRoot, s, 'qemu.strace'), 'latin1');
      expect(log).toMatch(/ioctl\(\d+, VFIO_GROUP_GET_DEVICE_FD, 0x[0-9a-f]+\) = -1 ENODEV/);
      const { pb, ...imp } = importPlain(s);
      expect(imp.status, imp.stderr).toBe(0);
      expect(imp.stderr).toMatch(/failed GET_DEVICE_FD \(no open\) 1, GET_DEVICE_FD names not shown, taken from the device fd they returned 1/);
      expect(imp.stderr).toMatch(/VMM said: .*error getting device from group 2: No such device/);
      const rep = spawnSync(process.execPath, [cli, 'replay', pb], { encoding: 'utf8' });
      const calls = rep.stdout.split('\n').filter((l) => /^#\d+ host  ioctl get-device-fd /.test(l));
      expect(calls.map((l) => /name=(\S+)\s+=> (\S+).*\[([^\]]+)\]$/.exec(l)!.slice(1).join(' '))).toEqual([
        '0000:00:03.0 ok core.open.enable', // the first -device: the device's one open
        '- unsupported group.get-device-fd.name-unknown', // the second: ENODEV, not a second open
      ]);
      expect(rep.stdout).toMatch(/summary: \d+ events, 0 divergences/);
    });
  }
  it('the lab committed a capture with -msg timestamp=on (--variant stamped)', () => {
    expect(stamped).toContain('7.2/d3hot-read.stamped');
  });
  for (const s of stamped) {
    it(`${s}: QEMU run as libvirt runs it (-msg timestamp=on): the log's date dates strace -tt, the logs merge by time, same verdict as the tracer's x-no-mmap capture`, () => {
      const libvirt = readFileSync(join(plainRoot, s, 'libvirt.log'), 'latin1');
      expect(libvirt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z qemu-system-x86_64: vfio_region_read/m);
      const { pb, ...imp } = importPlain(s);
      expect(imp.status, imp.stderr).toBe(0);
      expect(imp.stderr).toMatch(/inferred: date of the strace time-of-day stamps from .*libvirt\.log:1 \(\d{4}-\d\d-\d\d, UTC\+0000\)/);
      expect(imp.stderr).not.toMatch(/share no clock/);
      const rep = spawnSync(process.execPath, [cli, 'replay', pb], { encoding: 'utf8' });
      expect(rep.stdout).toMatch(/summary: \d+ events, 0 divergences/);
      const [ver, run] = s.split('/') as [string, string];
      expect(verdict(rep.stdout)).toEqual(verdict(goldenOf(join(tracerRoot, ver), run.replace(/\.stamped$/, '.no-mmap'))));
      expect(verdict(rep.stdout)).toEqual(['0xc0000008 all-ones']);
    });
  }
  it.runIf(sessions.includes('7.2/d3hot-read.no-mmap'))('QEMU 7.2 x-no-mmap=on d3hot-read: the read in D3hot returns all-ones', () => {
    const v = verdict(spawnSync(process.execPath, [cli, 'replay', importPlain('7.2/d3hot-read.no-mmap').pb], { encoding: 'utf8' }).stdout);
    expect(v).toEqual(['0xc0000008 all-ones']);
  });
});
