// End to end: tracer/vfio-trace runs here against a real process (fake-vmm, see
// test/fixtures/import/src/fake-vmm.c) with --sysfs-root pointing at a generated sysfs tree, and
// its output directory imports cleanly through the built CLI. Needs root, strace and gcc (.ci/run
// installs them; without them these tests skip, see test/helpers/needs-tool.ts); CI and this machine
// run as root.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadTrace } from '../../src/trace/codec.js';
import { needsTool } from '../helpers/needs-tool.js';
import { eventLines, fakeVmm, makeFakeSysfs, repo } from './helpers.js';

const tracer = join(repo, 'tracer/vfio-trace');
const cli = join(repo, 'dist/src/cli/main.js');
const isRoot = process.getuid?.() === 0;
const BDF = '0000:01:00.0';

function node(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
}

/** A device root for fake-vmm (sparse 9 << 40 file with config bytes), like capture.sh makes. */
function fakeDeviceRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'fake-root-'));
  const script = `
    set -e; cd "${root}"; mkdir -p dev/vfio/devices
    : >dev/vfio/vfio; : >dev/vfio/5; : >dev/iommu; : >dev/kvm; : >kvm-vm; : >kvm-vcpu
    truncate -s $((9 << 40)) vfio-device.img
    printf '\\x86\\x80\\xd3\\x10' | dd of=vfio-device.img bs=1 seek=$((7 << 40)) conv=notrunc status=none`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return root;
}

describe('tracer/vfio-trace', { timeout: 60_000 }, () => {
  const scratch: string[] = [];
  afterAll(() => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  });

  it('--help explains the usage; bad arguments are clear errors', () => {
    const h = spawnSync(tracer, ['--help'], { encoding: 'utf8' });
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/--bdf BDF \(--pid PID \| -- CMD ARGS\.\.\.\) -o DIR/);
    expect(h.stdout).toMatch(/--sysfs-root DIR/);
    const noBdf = spawnSync(tracer, ['-o', '/tmp/x', '--', 'true'], { encoding: 'utf8' });
    expect(noBdf.status).toBe(2);
    expect(noBdf.stderr).toMatch(/--bdf is required/);
    expect(h.stdout).toMatch(/--ioctl-args-probe auto\|eprobe\|kprobe/);
    const badProbe = spawnSync(tracer, ['--bdf', BDF, '--ioctl-args-probe', 'bpf', '-o', '/tmp/x', '--', 'true'], { encoding: 'utf8' });
    expect(badProbe.status).toBe(2);
    expect(badProbe.stderr).toBe("vfio-trace: --ioctl-args-probe must be auto, eprobe or kprobe, not 'bpf'\n");
    const noStrace = spawnSync('/bin/bash', [tracer, '--bdf', BDF, '-o', '/tmp/x', '--', 'true'], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
    expect(noStrace.status).toBe(2);
    expect(noStrace.stderr).toMatch(/strace not found: install it/);
  });

  describe.runIf(isRoot && needsTool('strace'))('as root with strace', () => {
    let sysfs = '';
    beforeAll(() => {
      sysfs = makeFakeSysfs({ bdf: BDF });
      scratch.push(sysfs);
    });

    it('refuses a device not bound to vfio-pci, and a PID that is gone', () => {
      const other = makeFakeSysfs({ bdf: BDF, driver: 'e1000e' });
      scratch.push(other);
      const r = spawnSync(tracer, ['--bdf', BDF, '--sysfs-root', other, '-o', join(other, 'out'), '--', 'true'], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/bound to e1000e, not vfio-pci/);
      const gone = spawnSync(tracer, ['--bdf', BDF, '--sysfs-root', sysfs, '--pid', '2147483646', '-o', join(sysfs, 'out')], { encoding: 'utf8' });
      expect(gone.status).toBe(2);
      expect(gone.stderr).toMatch(/process 2147483646 is gone/);
    });

    it.runIf(needsTool('gcc'))('traces fake-vmm (-- CMD) and the directory imports cleanly through the CLI', async () => {
      const vmm = fakeVmm();
      expect(vmm).not.toBeNull();
      const root = fakeDeviceRoot();
      scratch.push(root);
      const sock = join(root, 'notify.sock');
      // The ioctl supervisor runs outside the tracer, as the kernel would.
      const sup = spawn(vmm!, [root, '--supervise', sock], { stdio: 'ignore' });
      while (!existsSync(sock)) await new Promise((r) => setTimeout(r, 20));
      const out = join(root, 'capture');
      const mountsBefore = readFileSync('/proc/mounts', 'utf8');
      const t = spawnSync(tracer, ['--bdf', BDF, '--sysfs-root', sysfs, '-o', out, '--', vmm!, root, '--notify', sock], { encoding: 'utf8' });
      await new Promise((r) => (sup.exitCode !== null ? r(null) : sup.once('exit', r)));
      expect(t.stderr).toMatch(/next: vfio-replay import/);
      expect(t.status).toBe(0);
      expect(readFileSync(join(out, 'info'), 'utf8')).toMatch(new RegExp(`^bdf=${BDF}$`, 'm'));
      expect(readFileSync(join(out, 'sysfs/driver'), 'utf8').trim()).toBe('vfio-pci');
      expect(readFileSync(join(out, 'sysfs/iommu_group'), 'utf8').trim()).toBe('5');

      // The ioctl argument capture either ran (a kernel with event probes or kprobes: the
      // records are in ioctl-args and pair with strace's calls) or said why not, in both the
      // tracer's output and `info`; either way the host's mounts and dynamic events are as before.
      const info = readFileSync(join(out, 'info'), 'utf8');
      const mode = /^ioctl_args=(\S+)/m.exec(info)?.[1];
      expect(readFileSync('/proc/mounts', 'utf8')).toBe(mountsBefore);
      for (const d of ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'])
        if (existsSync(join(d, 'dynamic_events'))) expect(readFileSync(join(d, 'dynamic_events'), 'utf8')).not.toMatch(/vfio_trace_/);

      const pb = join(root, 't.pb');
      const imp = node(['import', out, '-o', pb, '--title', 'e2e']);
      expect(imp.stderr).toMatch(/wrote /);
      expect(imp.status).toBe(0);
      if (mode === 'eprobe' || mode === 'kprobe') {
        expect(t.stderr).toMatch(/capturing VFIO ioctl arguments/);
        expect(imp.stderr).toMatch(/ioctl arguments .*ioctl-args: \d+ records, [1-9]\d* paired with strace calls/);
      } else {
        expect(mode).toBe('off');
        expect(t.stderr).toMatch(/warning: no ioctl argument capture: .+; SET_IRQS, FEATURE, HOT_RESET\.\.\. will import as raw/);
        expect(info).toMatch(/^ioctl_args=off \(.+\)$/m);
        expect(imp.stderr).toMatch(/note: the tracer captured no ioctl arguments/);
      }
      const trace = await loadTrace(pb);
      expect(trace.header.source).toBe('strace');
      expect(trace.header.device.bdf).toBe(BDF);
      expect(trace.header.device.vendorId).toBe(0x8086);
      expect(trace.header.device.bars.map((b) => `${b.index}:${b.kind}:${b.size}`)).toEqual(['0:mem:131072', '1:mem:131072', '2:io:32', '3:mem:16384']);
      expect(trace.header.device.romSize).toBe(0x40000n);
      expect(trace.header.device.resetMethods).toEqual(['pm', 'bus']);
      expect(trace.header.vmm.accel).toBe('kvm');
      // The VFIO modules' parameters from <sysfs-root>/module and the host's command line.
      expect(readFileSync(join(out, 'sysfs/power_control'), 'utf8').trim()).toBe('auto');
      expect(trace.header.moduleParams).toEqual(['vfio_pci.disable_idle_d3=Y', 'vfio_pci.disable_vga=N', 'vfio_pci.nointxmask=N']);
      expect(trace.header.kernelCmdline).toEqual(readFileSync('/proc/cmdline', 'utf8').trim().split(/\s+/));
      const lines = eventLines(trace);
      // Set-up first (container, group, SET_CONTAINER, SET_IOMMU), then the device's open.
      expect(lines[0]).toMatch(/^vfio-open container fd=\d+ => ret=\d+$/);
      expect(lines.find((l) => l.startsWith('ioctl get-device-fd'))).toMatch(/^ioctl get-device-fd fd=\d+ name=\S+ => ret=\d+$/);
      expect(lines).toContain('cfg-read 0x00 len=4 => ret=4 data=8680d310');
      expect(lines).toContain('mem-read bar0+0x10 len=1 => signal=SIGBUS code=BUS_ADRERR addr=ADDR');
      // -tt stamps anchored by the info file: absolute, so a QEMU log could be merged.
      expect(trace.events[trace.events.length - 1]!.tsNs > 0n).toBe(true);
      const replay = node(['replay', pb, '--summary-only']);
      expect(replay.stdout).toMatch(/summary: \d+ events/);
    });

    it.runIf(needsTool('gcc'))('records dup2/dup3/F_DUPFD_CLOEXEC: fake-vmm --dup imports with its files named by their first numbers', async () => {
      const vmm = fakeVmm()!;
      const root = fakeDeviceRoot();
      scratch.push(root);
      const sock = join(root, 'notify.sock');
      const sup = spawn(vmm, [root, '--supervise', sock], { stdio: 'ignore' });
      while (!existsSync(sock)) await new Promise((r) => setTimeout(r, 20));
      const out = join(root, 'capture');
      const t = spawnSync(tracer, ['--bdf', BDF, '--sysfs-root', sysfs, '--no-ioctl-args', '-o', out, '--', vmm, root, '--notify', sock, '--dup'], { encoding: 'utf8' });
      await new Promise((r) => (sup.exitCode !== null ? r(null) : sup.once('exit', r)));
      expect(t.status).toBe(0);
      const log = readFileSync(join(out, 'strace.log'), 'utf8');
      expect(log).toMatch(/ dup2\(\d+</);
      expect(log).toMatch(/ dup3\(\d+<.*O_CLOEXEC\) = 120</);
      expect(log).toMatch(/ fcntl\(\d+<.*F_DUPFD_CLOEXEC, 110\) = 110</);
      const pb = join(root, 'dup.pb');
      const imp = node(['import', out, '-o', pb]);
      expect(imp.status).toBe(0);
      expect(imp.stderr).toMatch(/dup\/dup2\/dup3\/F_DUPFD of a VFIO, iommufd or KVM fd \(events name its file by its first number\) 5/);
      const lines = eventLines(await loadTrace(pb));
      const container = /^vfio-open container fd=(\d+) => ret=\1$/.exec(lines[0]!)![1];
      // The group opens at the container's first number (the container lives on as 100).
      expect(lines[1]).toBe(`vfio-open group=5 fd=1000000 => ret=${container}`);
      expect(lines).toContain(`ioctl group-op fd=1000000 set-container container=${container} => ret=0`);
      expect(lines).toContain('cfg-read 0x00 len=4 => ret=4 data=8680d310');
      expect(lines[lines.length - 1]).toBe('close => ret=0');
    });

    it('--no-ioctl-args: no argument capture, and info says so', () => {
      const out = join(sysfs, 'no-args');
      const t = spawnSync(tracer, ['--bdf', BDF, '--sysfs-root', sysfs, '--no-ioctl-args', '-o', out, '--', 'true'], { encoding: 'utf8' });
      expect(t.status).toBe(0);
      expect(t.stderr).not.toMatch(/ioctl argument/);
      expect(readFileSync(join(out, 'info'), 'utf8')).toMatch(/^ioctl_args=off \(--no-ioctl-args\)$/m);
      expect(existsSync(join(out, 'ioctl-args'))).toBe(false);
    });

    it('--pid: Ctrl-C detaches and leaves the VMM running, not stopped', async () => {
      const target = spawn('bash', ['-c', 'while :; do read -t 0.05 x </dev/zero || true; done'], { stdio: 'ignore' });
      // Both children die with the test whatever happens to it (a timeout under load once left
      // the loop, the tracer and its strace running for half an hour).
      onTestFinished(() => void target.kill('SIGKILL'));
      const out = join(sysfs, 'pid-capture');
      const t = spawn(tracer, ['--bdf', BDF, '--sysfs-root', sysfs, '--pid', String(target.pid), '-o', out], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      // Its own process group, so the strace it started goes too.
      onTestFinished(() => {
        try {
          process.kill(-t.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      });
      let err = '';
      t.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const until = async (what: string, done: () => boolean): Promise<void> => {
        const deadline = Date.now() + 50_000;
        while (!done()) {
          if (Date.now() > deadline) throw new Error(`tracer --pid: no ${what} after 50 s; stderr: ${err}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await until('Ctrl-C prompt', () => err.includes('press Ctrl-C'));
      await until('strace.log', () => existsSync(join(out, 'strace.log')));
      t.kill('SIGINT');
      const code = await new Promise<number | null>((r) => t.once('exit', (c) => r(c)));
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${target.pid}/status`, 'utf8'))![1];
      target.kill('SIGKILL');
      expect(state).not.toBe('t');
      expect(state).not.toBe('T');
      expect(code).not.toBeNull();
      expect(readFileSync(join(out, 'info'), 'utf8')).toMatch(new RegExp(`^vmm_pid=${target.pid}$`, 'm'));
    });
  });

  it.runIf(!isRoot)('refuses to run without root', () => {
    const r = spawnSync(tracer, ['--bdf', BDF, '-o', '/tmp/x', '--', 'true'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/must run as root|strace not found/);
  });
});
