import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module without type declarations
import { lastGuestLine, vmmDeath } from '../../lab/vmm/collect.mjs';

describe('lab/vmm collect', () => {
  it('reads a SIGBUS kill from strace', () => {
    const strace = '164   02:22:21.670774 --- SIGBUS {si_signo=SIGBUS, si_code=BUS_ADRERR, si_addr=0x7ffff4d5c008} ---\n163   02:22:21.678452 +++ killed by SIGBUS +++\n';
    expect(vmmDeath(135, strace)).toEqual({ how: 'signaled', signal: 'SIGBUS', text: 'killed by SIGBUS' });
  });

  it('reads isa-debug-exit as a plain exit', () => {
    expect(vmmDeath(1, '+++ exited with 1 +++\n')).toMatchObject({ how: 'exited', text: 'exit(1)' });
  });

  it('reads a timeout kill without strace as a signal', () => {
    expect(vmmDeath(137, '')).toMatchObject({ how: 'signaled', text: 'signal 9' });
  });

  it('takes the last serial line: an access without => is the one the VMM died on', () => {
    expect(lastGuestLine('# step rd 0 0x8\nguest-mmio-read 0xc0000008 len=4')).toBe('guest-mmio-read 0xc0000008 len=4');
    expect(lastGuestLine('a\n# exit 0x0\n\n')).toBe('# exit 0x0');
    expect(lastGuestLine('')).toBe('');
  });
});
