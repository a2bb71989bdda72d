import { describe, expect, test } from 'vitest';
import { compareObserved } from '../../src/replay/compare.js';
import type { Outcome } from '../../src/model/outcome.js';

const ok: Outcome = { kind: 'ok', ret: 4n };
const sigbus: Outcome = { kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' };
const eio: Outcome = { kind: 'errno', errno: 'EIO' };
// A plain pread: compared on every field the observation has.
const read = { kind: 'region-read', region: 0, offset: 0n, len: 4 } as const;

describe('compareObserved: only the fields the observation has', () => {
  test('no observation, or an empty one, never diverges', () => {
    expect(compareObserved(sigbus, undefined, read)).toBeNull();
    expect(compareObserved(sigbus, {}, read)).toBeNull();
  });
  test('errno must match', () => {
    expect(compareObserved(eio, { errno: 'EIO' }, read)).toBeNull();
    expect(compareObserved(ok, { errno: 'EIO' }, read)).toBe('-EIO');
    expect(compareObserved({ kind: 'errno', errno: 'EINVAL' }, { errno: 'EIO' }, read)).toBe('-EIO');
  });
  test('signal and si_code must both match', () => {
    expect(compareObserved(sigbus, { signal: { signal: 'SIGBUS', code: 'BUS_ADRERR', addr: null } }, read)).toBeNull();
    expect(compareObserved(sigbus, { signal: { signal: 'SIGBUS', code: 'BUS_OBJERR', addr: null } }, read)).toBe('SIGBUS BUS_OBJERR');
    expect(compareObserved(ok, { signal: { signal: 'SIGBUS', code: 'BUS_ADRERR', addr: null } }, read)).toBe('SIGBUS BUS_ADRERR');
  });
  test('ret: a returning prediction agrees; a predicted ret must be equal', () => {
    expect(compareObserved(ok, { ret: 4n }, read)).toBeNull();
    expect(compareObserved({ kind: 'ok' }, { ret: 4n }, read)).toBeNull();
    expect(compareObserved(ok, { ret: 2n }, read)).toBe('ret=2');
    expect(compareObserved({ kind: 'hazard', reason: 'mse-off' }, { ret: 4n }, read)).toBeNull();
    expect(compareObserved(sigbus, { ret: 4n }, read)).toBe('ret=4');
    expect(compareObserved(eio, { ret: 4n }, read)).toBe('ret=4');
  });
  test('vmm exit: same mechanism', () => {
    const efault: Outcome = { kind: 'vmm-exit', how: 'kvm-run-efault', status: 1 };
    const killed: Outcome = { kind: 'vmm-exit', how: 'killed-sigbus', status: 135 };
    expect(compareObserved(efault, { vmmExit: { how: 'kvm-run-error', status: 1, signal: '', errno: 'EFAULT' } }, read)).toBeNull();
    expect(compareObserved(killed, { vmmExit: { how: 'signaled', status: 135, signal: 'SIGBUS', errno: '' } }, read)).toBeNull();
    expect(compareObserved(killed, { vmmExit: { how: 'kvm-run-error', status: 1, signal: '', errno: 'EFAULT' } }, read)).toBe(
      'vmm-exit KVM_RUN -EFAULT',
    );
    expect(compareObserved(ok, { vmmExit: { how: 'exited', status: 1, signal: '', errno: '' } }, read)).toBe('vmm-exit status=1');
    expect(compareObserved({ kind: 'vmm-exit', how: 'exit', status: 2 }, { vmmExit: { how: 'exited', status: 1, signal: '', errno: '' } }, read)).toBe(
      'vmm-exit status=1',
    );
  });
  test('blocked must be predicted blocked', () => {
    expect(compareObserved({ kind: 'blocked' }, { blocked: true }, read)).toBeNull();
    expect(compareObserved(sigbus, { blocked: true }, read)).toBe('blocked');
  });
  test('data and power state are not compared', () => {
    expect(compareObserved(ok, { data: new Uint8Array([1, 2]), powerState: 'D3hot' }, read)).toBeNull();
    // Bytes came back: the access completed, so a predicted death or fault disagrees.
    const killed: Outcome = { kind: 'vmm-exit', how: 'killed-sigbus', status: 135 };
    expect(compareObserved(killed, { data: new Uint8Array([0, 0, 0, 0]) }, read)).toBe('data=00000000');
    expect(compareObserved(sigbus, { data: new Uint8Array([0xff]) }, read)).toBe('data=ff');
    expect(compareObserved({ kind: 'unassigned', value: 0n }, { data: new Uint8Array([0, 0, 0, 0]) }, read)).toBeNull();
  });
  test('unsupported is never a divergence (counted apart)', () => {
    expect(compareObserved({ kind: 'unsupported', reason: 'x' }, { errno: 'EIO' }, read)).toBeNull();
  });
});

describe('compareObserved: fd-returning calls', () => {
  test('open and DMABUF export compare success, not the fd number', () => {
    const open = { kind: 'open' } as const;
    expect(compareObserved({ kind: 'ok', ret: 0n }, { ret: 7n }, open)).toBeNull();
    expect(compareObserved({ kind: 'ok', ret: 0n }, { ret: 7n }, read)).toBe('ret=7');
    expect(compareObserved({ kind: 'errno', errno: 'EBUSY' }, { ret: 7n }, open)).toBe('ret=7');
    const cfg = { kind: 'cfg-read', offset: 0, len: 2 } as const;
    expect(compareObserved({ kind: 'ok', ret: 2n }, { ret: 1n }, cfg)).toBe('ret=1');
  });
});

describe('compareObserved: model-owned data', () => {
  const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
  const cfg = { kind: 'cfg-read', offset: 0, len: 4 } as const;
  test('every bit of data without an owner mask is compared; one flipped byte diverges', () => {
    const p: Outcome = { kind: 'ok', ret: 4n, data: bytes('8680d310') };
    expect(compareObserved(p, { ret: 4n, data: bytes('8680d310') }, cfg)).toBeNull();
    expect(compareObserved(p, { ret: 4n, data: bytes('8680d311') }, cfg)).toBe('data[3]=11 (model 10)');
    expect(compareObserved(p, { ret: 4n, data: bytes('0080d311') }, cfg)).toBe('data[0]=00 (model 86) +1 bytes');
  });
  test('bits outside the owner mask are device data: not compared here', () => {
    const p: Outcome = { kind: 'ok', ret: 2n, data: bytes('0301'), own: bytes('0004') };
    expect(compareObserved(p, { ret: 2n, data: bytes('0000') }, cfg)).toBeNull(); // MEM/IO: the function's
    expect(compareObserved(p, { ret: 2n, data: bytes('0305') }, cfg)).toBe('data[1]=05 (model 01 mask 04)'); // INTX_DISABLE: vconfig
  });
  test('observed bytes past the predicted struct are the caller buffer', () => {
    const p: Outcome = { kind: 'ok', ret: 0n, data: bytes('1800000003000000') };
    expect(compareObserved(p, { ret: 0n, data: bytes('1800000003000000aaaaaaaa') }, cfg)).toBeNull();
  });
  test('a predicted all-ones read must read all ones', () => {
    const g = { kind: 'guest-mmio-read', gpa: 0xfe000000n, len: 4 } as const;
    expect(compareObserved({ kind: 'all-ones', len: 4 }, { data: bytes('ffffffff') }, g)).toBeNull();
    expect(compareObserved({ kind: 'all-ones', len: 4 }, { data: bytes('ffff00ff') }, g)).toBe('data[2]=00 (model ff)');
  });
  test('a prediction without data (device registers) compares no bytes', () => {
    expect(compareObserved(ok, { ret: 4n, data: bytes('12345678') }, read)).toBeNull();
  });
});

describe('compareObserved: kernel failures and racing events', () => {
  const oops: Outcome = { kind: 'kernel-failure', failure: 'bug', where: 'remap_pfn_range', consequence: 'thread-killed' };
  const splat: Outcome = { kind: 'kernel-failure', failure: 'lockdep', where: 'recursive memory_lock', consequence: 'continues' };
  const fault = { kind: 'mem-read', bar: 0, offset: 0n, len: 4 } as const;
  test('an observed failure needs a predicted failure of that kind, where and consequence when given', () => {
    expect(compareObserved(oops, { kernelFailure: { kind: 'bug', where: 'remap_pfn_range', consequence: '' } }, fault)).toBeNull();
    expect(compareObserved(oops, { kernelFailure: { kind: 'bug', where: '', consequence: 'thread-killed' } }, fault)).toBeNull();
    expect(compareObserved(ok, { kernelFailure: { kind: 'bug', where: '', consequence: '' } }, fault)).toBe('kernel-failure bug');
    expect(compareObserved(oops, { kernelFailure: { kind: 'warn', where: '', consequence: '' } }, fault)).toBe('kernel-failure warn');
    expect(compareObserved(oops, { kernelFailure: { kind: 'bug', where: 'zap_pte_range', consequence: '' } }, fault)).toBe('kernel-failure bug zap_pte_range');
  });
  test('a failure the call survives still returns; one that kills the thread does not', () => {
    expect(compareObserved(splat, { ret: 4n }, read)).toBeNull();
    expect(compareObserved(oops, { ret: 4n }, read)).toBe('ret=4');
  });
  test('a racing event agrees when any outcome it may have agrees', () => {
    const may: Outcome = { kind: 'may', outcomes: [sigbus, ok] };
    expect(compareObserved(may, { ret: 4n }, read)).toBeNull();
    expect(compareObserved(may, { signal: { signal: 'SIGBUS', code: 'BUS_ADRERR', addr: null } }, read)).toBeNull();
    expect(compareObserved(may, { errno: 'EIO' }, read)).toBe('-EIO');
  });
});
