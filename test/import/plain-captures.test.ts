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

const sessions = existsSync(plainRoot)
  ? readdirSync(plainRoot).flatMap((v) => readdirSync(join(plainRoot, v)).filter((r) => existsSync(join(plainRoot, v, r, 'meta.json'))).map((r) => `${v}/${r}`))
  : [];

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
      const reference = verdict(goldenOf(join(tracerRoot, ver), run));
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
  it.runIf(sessions.includes('7.2/d3hot-read'))('attach to a running VMM: the real log from GET_DEVICE_FD on (no openat of the group) imports the same device events', () => {
    // What `strace -f -p PID` started after the group's openat would hold: the same lines from there on.
    const dir = join(plainRoot, '7.2/d3hot-read');
    const lines = readFileSync(join(dir, 'qemu.strace'), 'latin1').split('\n');
    const at = lines.findIndex((l) => l.includes('VFIO_GROUP_GET_DEVICE_FD'));
    expect(lines.slice(0, at).some((l) => /openat\(AT_FDCWD, "\/dev\/vfio\/2"/.test(l))).toBe(true);
    const attached = join(out, 'attached.strace');
    writeFileSync(attached, lines.slice(at).join('\n'), 'latin1');
    const pb = join(out, 'attached.pb');
    const imp = spawnSync(process.execPath, [cli, 'import', attached, join(dir, 'qemu-trace.log'), join(dir, 'libvirt.log'), join(dir, 'lspci.txt'), '-o', pb], { encoding: 'utf8' });
    expect(imp.status, imp.stderr).toBe(0);
    expect(imp.stderr).toMatch(/GET_DEVICE_FD on a group fd opened before the capture 1/);
    const v = verdict(spawnSync(process.execPath, [cli, 'replay', pb], { encoding: 'utf8' }).stdout);
    expect(v).toEqual(['0xc0000008 vmm-exit killed SIGBUS']);
  });
  it.runIf(sessions.includes('7.2/d3hot-read.no-mmap'))('QEMU 7.2 x-no-mmap=on d3hot-read: the read in D3hot returns all-ones', () => {
    const v = verdict(spawnSync(process.execPath, [cli, 'replay', importPlain('7.2/d3hot-read.no-mmap').pb], { encoding: 'utf8' }).stdout);
    expect(v).toEqual(['0xc0000008 all-ones']);
  });
});
