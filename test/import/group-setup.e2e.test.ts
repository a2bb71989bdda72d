// A real capture of the container/group set-up with failed VFIO_GROUP_GET_DEVICE_FDs (the lab's
// `group-setup` scenario run on the real vfio-pci driver under the project's tracer, strace plus
// the ioctl argument capture; traces/lab/<kernel>/group-setup.*), imported and replayed through
// the built CLI: each failed GET_DEVICE_FD is a PREDICTED failure with its errno (not unsupported,
// not an open), and the device's open count stays right after it.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, repo, run } from '../e2e/cli.js';

const kernels = ['6.1', '6.12', '7.2'].filter((k) => existsSync(join(repo, 'traces/lab', k, 'group-setup.strace')));
const out = mkdtempSync(join(tmpdir(), 'group-setup-'));

beforeAll(assertBuilt);

describe('real capture: failed GET_DEVICE_FD and the set-up around it', { timeout: 60_000 }, () => {
  it('the lab capture exists (npm run lab -- --kernel 6.1 lab/scenarios/group-setup.txt)', () => {
    expect(kernels).toContain('6.1');
  });

  it.each(kernels)('%s: strace + ioctl-args import, and every failure replays as the model predicts it', (k) => {
    const dir = join(repo, 'traces/lab', k);
    const pb = join(out, `${k}.pb`);
    const header = join(dir, 'group-setup.pb');
    const imp = run(['import', '--strace', join(dir, 'group-setup.strace'), '--ioctl-args', join(dir, 'group-setup.ioctl-args'), '--header-from', header, '-o', pb], { cwd: repo });
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stderr).toMatch(/failed GET_DEVICE_FD \(no open\) 4/);
    const r = run(['replay', pb], { cwd: repo });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const failed = lines.filter((l) => /ioctl get-device-fd .*=> -E/.test(l));
    expect(failed.map((l) => /=> (\S+) \[([^\]]+)\]/.exec(l)!.slice(1).join(' '))).toEqual([
      '-EINVAL group.get-device-fd.no-iommu', // before SET_CONTAINER
      '-EINVAL group.get-device-fd.no-iommu', // before SET_IOMMU
      '-ENODEV group.get-device-fd.no-such-device',
      '-EINVAL group.get-device-fd.no-iommu', // after the group's release took the container
    ]);
    // Nothing was opened by a failure: the first success is the device's first open (enable).
    expect(lines.find((l) => /ioctl get-device-fd .*=> ok/.test(l))).toMatch(/\[core\.open\.enable\]$/);
    expect(r.stdout).toMatch(/^summary: \d+ events, 0 divergences, 0 unsupported/m);
  });

  it('6.1: strace alone (no argument capture): a failure whose name strace cannot show is unsupported, naming why; a success is named after the device it opened; the open count stays right', () => {
    const dir = join(repo, 'traces/lab/6.1');
    const pb = join(out, 'plain.pb');
    const imp = run(['import', '--strace', join(dir, 'group-setup.strace'), '--header-from', join(dir, 'group-setup.pb'), '-o', pb], { cwd: repo });
    expect(imp.code, imp.stderr).toBe(0);
    expect(imp.stderr).toMatch(/failed GET_DEVICE_FD \(no open\) 4, GET_DEVICE_FD names not shown, taken from the device fd they returned 2/);
    const r = run(['replay', pb], { cwd: repo });
    const lines = r.stdout.split('\n').filter((l) => /^#\d+ host  ioctl get-device-fd /.test(l));
    // On 6.1 the name is looked up before the container check, so even the EINVALs depend on it;
    // the ENODEV (GET_DEVICE_FD("no-such-device")) is no longer predicted as an open.
    expect(lines.map((l) => /name=(\S+)\s+=> (\S+).*\[([^\]]+)\]$/.exec(l)!.slice(1).join(' '))).toEqual([
      '- unsupported group.get-device-fd.name-unknown',
      '- unsupported group.get-device-fd.name-unknown',
      '- unsupported group.get-device-fd.name-unknown',
      '0000:00:03.0 ok core.open.enable',
      '0000:00:03.0 ok core.open.already-enabled',
      '- unsupported group.get-device-fd.name-unknown',
    ]);
    expect(r.stdout).toMatch(/name was not captured \(strace shows only its pointer\).*capture the ioctl arguments with tracer\/vfio-trace/);
    // Nothing opened by a failure: the second close is the last one (the device is disabled).
    expect(r.stdout.split('\n').filter((l) => /^#\d+ host  close /.test(l)).map((l) => /\[([^\]]+)\]$/.exec(l)![1])).toEqual(['core.close.not-last', 'core.close.disable']);
    expect(r.stdout).toMatch(/^summary: 30 events, 0 divergences, 4 unsupported/m);
  });
});
