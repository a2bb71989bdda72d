// Builds the lab's inner guest once and runs it on the host's QEMU against an EMULATED e1000e (no
// vfio, no lab; or another device: `device` is its -device argument): the script interpreter, the serial format and isa-debug-exit are the same code the
// nested runs use, so they can be checked here in well under a second per run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..', '..');
let elf = '';

export function innerElf(): string {
  if (elf) return elf;
  const dir = mkdtempSync(join(tmpdir(), 'inner-guest-'));
  const out = join(dir, 'inner.elf');
  const r = spawnSync('sh', [join(repo, 'lab/vmm/inner/build.sh'), out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build.sh failed: ${r.stderr}`);
  elf = out;
  return elf;
}

export interface GuestRun {
  status: number | null;
  serial: string;
  /** Serial lines without the `# step` echo lines. */
  lines: string[];
}

export function runInner(script: string, device = 'e1000e,rombar=0'): GuestRun {
  const dir = mkdtempSync(join(tmpdir(), 'inner-run-'));
  const serialPath = join(dir, 'serial.txt');
  const r = spawnSync(
    'timeout',
    ['-s', 'KILL', '30', 'qemu-system-x86_64',
      '-machine', 'pc', '-accel', 'tcg', '-m', '64M', '-smp', '1', '-nodefaults', '-no-user-config',
      '-display', 'none', '-monitor', 'none', '-no-reboot', '-serial', `file:${serialPath}`,
      '-device', device, '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
      '-kernel', innerElf(), '-append', script],
    { encoding: 'utf8' },
  );
  const serial = readFileSync(serialPath, 'latin1');
  return { status: r.status, serial, lines: serial.split('\n').filter((l) => l !== '' && !l.startsWith('# step ')) };
}
