// tracer/vfio-trace's args_redact, the step between the kernel's ioctl argument records and the
// file a bug reporter attaches: it keeps only the traced threads' records and zeroes every word
// past a struct's argsz. The function is taken from the script itself and run by bash with the
// awk this machine has and with busybox's (the lab guest's), on a real lab capture plus records
// of a process strace did not follow (another VM on the same host).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIoctlArgs } from '../../src/import/ioctl-args.js';
import { needsTool } from '../helpers/needs-tool.js';
import { repo } from './helpers.js';

const tracer = join(repo, 'tracer/vfio-trace');
const lab = join(repo, 'traces/lab/7.2');
const scratch = mkdtempSync(join(tmpdir(), 'tracer-redact-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Another VMM's SET_IRQS (tid 9999, not in strace.log), with bytes past its argsz of 24.
const FOREIGN = '   qemu-system-x86-9999    [001] ...2.    4.300000: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=31 cmd=0x3b6e arg=0x7ffd0000 a0=0x2400000018 a1=0x0 a2=0x100000000 a3=0x6d6f682f3d454d4f a4=0x0 a5=0x0 a6=0x0 a7=0x0 a8=0x0 a9=0x0 a10=0x0 a11=0x0 a12=0x0 a13=0x0 a14=0x0 a15=0x0';
// The traced runner's own GROUP_GET_STATUS (argsz 8) as the kernel recorded it, before redaction.
const OWN_UNREDACTED =
  '          runner-10034   [000] ...2.     4.254999: vfio_ioctl: (syscalls.sys_enter_ioctl) fd=6 cmd=0x3b67 arg=0x7fffffffea38 a0=0x8 a1=0x6966762f7665642f a2=0x312f6f a3=0xadffe8 a4=0x1 a5=0x0 a6=0x0 a7=0x0 a8=0x0 a9=0x7375622f7379732f a10=0x7665642f6963702f a11=0x3030302f73656369 a12=0x2e33303a30303a30 a13=0x2f7265776f702f30 a14=0x5f656d69746e7572 a15=0x737574617473';

function redact(awkDir: string | null): string {
  const dir = mkdtempSync(join(scratch, 'out-'));
  copyFileSync(join(lab, 'low-power.strace'), join(dir, 'strace.log'));
  const real = readFileSync(join(lab, 'low-power.ioctl-args'), 'utf8');
  writeFileSync(join(dir, 'ioctl-args'), OWN_UNREDACTED + '\n' + FOREIGN + '\n' + real);
  const fn = /^args_redact\(\) \{[\s\S]*?^\}$/m.exec(readFileSync(tracer, 'utf8'))![0];
  const script = `set -u; out=${JSON.stringify(dir)}; ARG_BYTES=128\n${fn}\nargs_redact`;
  const env = { ...process.env, PATH: awkDir ? `${awkDir}:${process.env.PATH}` : process.env.PATH };
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return readFileSync(join(dir, 'ioctl-args'), 'utf8');
}

function check(text: string): void {
  const log = parseIoctlArgs(text, 'ioctl-args');
  expect(log.records.some((r) => r.tid === 9999)).toBe(false);
  const real = parseIoctlArgs(readFileSync(join(lab, 'low-power.ioctl-args'), 'utf8'), 'lab');
  expect(log.records).toHaveLength(real.records.length + 1);
  const own = log.records[0]!;
  expect(own.cmd).toBe(0x3b67);
  expect(Array.from(own.bytes.slice(0, 8))).toEqual([8, 0, 0, 0, 0, 0, 0, 0]);
  expect(own.bytes.slice(8).every((b) => b === 0)).toBe(true); // the VMM's strings after the struct are gone
  expect(log.records.slice(1).map((r) => r.line - 1)).toEqual(real.records.map((r) => r.line));
}

describe('tracer args_redact', () => {
  it('with this machine\'s awk: foreign threads dropped, words past argsz zeroed', () => {
    check(redact(null));
  });

  it.runIf(needsTool('busybox'))("with busybox's awk (the lab guest's)", () => {
    const bin = join(scratch, 'bb');
    mkdirSync(bin);
    symlinkSync(spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim(), join(bin, 'awk'));
    check(redact(bin));
  });
});
