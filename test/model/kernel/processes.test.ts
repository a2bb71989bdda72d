// One test per process rule (fork, child accesses, process exit, fds shared with a child) and per
// user-buffer rule (a pread/pwrite whose buffer is a BAR mapping of the same device), named after
// the rule id. Versions: 5.7 (PTEs premapped), 5.8 (vm_ops->open zaps the child), 6.1 (child copies
// untracked, lab-checked), 6.12 (copies reached by unmap_mapping_range).
import { describe, expect, it } from 'vitest';
import type { EventMeta, HostEvent } from '../../../src/trace/types.js';
import { BAR0_ADDR, cfgr, cfgw, err, expectStep, model, ok, openMapped, run, sigbus } from './helpers.js';

const child = { pid: 1 } satisfies Partial<EventMeta>;
const memr = (offset = 0x8n): HostEvent => ({ kind: 'mem-read', bar: 0, offset, len: 4 });
const fork: HostEvent = { kind: 'fork', child: 1 };
const exit: HostEvent = { kind: 'process-exit' };
const bufRead = (offset = 0x2800n): HostEvent => ({ kind: 'cfg-read', offset: 0, len: 4, bufBar: 0, bufOffset: offset });
const bufWrite = (offset = 0x8n): HostEvent => ({ kind: 'cfg-write', offset: 0x3c, data: new Uint8Array([0x05, 1, 0, 0]), bufBar: 0, bufOffset: offset });
const mseOff = cfgw(0x04, 0x0000);

describe('fork', () => {
  it('proc.fork.child-inherits-ptes', () => {
    const m = openMapped('linux-6.12');
    expectStep(run(m, fork), ok, 'proc.fork.child-inherits-ptes', [{ kind: 'populate', bar: 0 }]);
    expectStep(run(m, memr(), child), ok, 'mem.pte-present');
    // unmap_mapping_range reaches the child's VMA too: both fault and SIGBUS.
    expect(run(m, mseOff).effects).toEqual([{ kind: 'zap', bars: [0] }]);
    expectStep(run(m, memr(), child), sigbus, 'fault.memory-disabled-sigbus');
    expectStep(run(m, memr()), sigbus, 'fault.memory-disabled-sigbus');
    // Before 5.8 the copied PTEs are premapped and never zapped.
    const old = openMapped('linux-5.7');
    expectStep(run(old, fork), ok, 'proc.fork.child-inherits-ptes');
    run(old, mseOff);
    expectStep(run(old, memr(), child), { kind: 'hazard' }, 'mem.premapped-reaches-disabled-device');
  });
  it('proc.fork.vm-open-zaps-child-ptes', () => {
    const m = openMapped('linux-5.8');
    expectStep(run(m, fork), ok, 'proc.fork.vm-open-zaps-child-ptes', []);
    expectStep(run(m, memr(), child), ok, 'fault.populate'); // the child faults: now on vma_list
    run(m, mseOff);
    expectStep(run(m, memr(), child), sigbus, 'fault.memory-disabled-sigbus');
  });
  it('proc.fork.child-ptes-untracked', () => {
    // Catalog bug fork-untracked-ptes: 6.1.192 (lab), not mainline 6.1 whose ->open zaps the copies.
    const m = openMapped('linux-6.1.192');
    expectStep(run(m, fork), ok, 'proc.fork.child-ptes-untracked', [{ kind: 'populate', bar: 0 }]);
    // vma_list has only the parent's VMA: the zap leaves the child's copies (lab fork-userbuf#7).
    run(m, mseOff);
    expectStep(run(m, memr(), child), { kind: 'hazard' }, 'mem.pte-present-reaches-disabled-device');
    expectStep(run(m, memr()), sigbus, 'fault.memory-disabled-sigbus');
    // Nothing faulted before the fork: the child faults itself, joins vma_list, and zaps reach it.
    const f = model('linux-6.1.192');
    run(f, { kind: 'open' });
    run(f, { kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 3, addr: BAR0_ADDR });
    expectStep(run(f, fork), ok, 'proc.fork.child-inherits-ptes', []);
    expectStep(run(f, memr(), child), ok, 'fault.populate');
    run(f, mseOff);
    expectStep(run(f, memr(), child), sigbus, 'fault.memory-disabled-sigbus');
  });
  it('proc.fork.no-bar-mappings', () => {
    const m = model('linux-6.12');
    run(m, { kind: 'open' });
    expectStep(run(m, fork), ok, 'proc.fork.no-bar-mappings', []);
    // The child has the fd: it can read config.
    expectStep(run(m, cfgr(0x04, 2), child), { kind: 'ok', ret: 2n }, 'config.read');
  });
  it('proc.fork.pid-in-use', () => {
    const m = openMapped('linux-6.12');
    run(m, fork);
    expectStep(run(m, fork), { kind: 'unsupported' }, 'proc.fork.pid-in-use');
  });
  it('proc.unknown-process', () => {
    const m = openMapped('linux-6.12');
    expectStep(run(m, memr(), { pid: 7 }), { kind: 'unsupported' }, 'proc.unknown-process');
    run(m, fork);
    run(m, exit, child);
    expectStep(run(m, memr(), child), { kind: 'unsupported' }, 'proc.unknown-process');
  });
});

describe('files shared with a child, process exit', () => {
  it('proc.close.file-held-by-other-process', () => {
    const m = model('linux-6.12');
    run(m, { kind: 'open' });
    run(m, fork);
    expectStep(run(m, { kind: 'close' }), { kind: 'ok', ret: 0n }, 'proc.close.file-held-by-other-process', []);
    expect(m.view.isOpen).toBe(true);
    expectStep(run(m, cfgr(0x04, 2)), err('EBADF'), 'core.fd.not-open'); // the parent's fd is gone
    expectStep(run(m, cfgr(0x04, 2), child), { kind: 'ok' }, 'config.read');
  });
  it('proc.exit', () => {
    const m = model('linux-6.12');
    run(m, { kind: 'open' });
    run(m, fork);
    expectStep(run(m, exit, child), ok, 'proc.exit', []);
    expect(m.view.isOpen).toBe(true); // the parent still has its fd
  });
  it('proc.exit.unmaps', () => {
    const m = openMapped('linux-6.12');
    run(m, fork);
    expectStep(run(m, exit, child), ok, 'proc.exit.unmaps', []);
    expectStep(run(m, memr()), ok, 'mem.pte-present'); // the parent's mapping is its own
  });
  it('proc.exit.releases-device', () => {
    const m = openMapped('linux-6.12');
    run(m, fork);
    run(m, { kind: 'munmap', addr: BAR0_ADDR, length: 0x20000n });
    run(m, { kind: 'close' });
    expectStep(run(m, memr(), child), ok, 'mem.pte-present'); // the child's VMA and fd keep it open
    const s = run(m, exit, child);
    expectStep(s, ok, 'proc.exit.releases-device');
    expect(s.effects).toContainEqual({ kind: 'release', what: 'device' });
    expect(m.view.isOpen).toBe(false);
  });
});

describe('user buffer in a BAR mapping of the same device', () => {
  it('rdwr.user-buf.unmapped-efault', () => {
    const m = openMapped('linux-6.12');
    expectStep(run(m, { kind: 'cfg-read', offset: 0, len: 4, bufBar: 1, bufOffset: 0n }), err('EFAULT'), 'rdwr.user-buf.unmapped-efault');
  });
  it('rdwr.user-buf.crosses-mapping-end', () => {
    const m = openMapped('linux-6.12');
    expectStep(run(m, bufRead(0x1fffen)), { kind: 'unsupported' }, 'rdwr.user-buf.crosses-mapping-end');
  });
  it('rdwr.user-buf.readonly-mapping-efault', () => {
    const m = model('linux-6.12');
    run(m, { kind: 'open' });
    run(m, { kind: 'mmap', region: 0, offset: 0n, length: 0x20000n, prot: 1, addr: BAR0_ADDR });
    expectStep(run(m, bufRead()), err('EFAULT'), 'rdwr.user-buf.readonly-mapping-efault');
    // Reading from the read-only mapping (a pwrite's source) works.
    expectStep(run(m, bufWrite()), { kind: 'ok', ret: 4n }, 'config.write.default');
  });
  it('rdwr.user-buf.fault-refused-efault', () => {
    const m = openMapped('linux-6.12');
    run(m, mseOff);
    // A read: the config read happens, the copy-out fault is refused: -EFAULT, no signal.
    expectStep(run(m, bufRead()), err('EFAULT'), 'rdwr.user-buf.fault-refused-efault');
    // A write: the copy-in comes first, the config write never happens.
    expectStep(run(m, bufWrite()), err('EFAULT'), 'rdwr.user-buf.fault-refused-efault');
    expect(m.k.st.vconfig.u8(0x3c)).not.toBe(0x05);
    // A BAR read's own -EIO comes before the copy.
    expectStep(run(m, { kind: 'region-read', region: 0, offset: 0x8n, len: 4, bufBar: 0, bufOffset: 0x2800n }), err('EIO'), 'rdwr.bar.memory-disabled-eio');
    // With memory enabled the copy faults the buffer's page in.
    run(m, cfgw(0x04, 0x0006));
    const s = run(m, bufRead());
    expectStep(s, { kind: 'ok', ret: 4n }, 'config.read');
    expect(s.effects).toEqual([{ kind: 'populate', bar: 0 }, { kind: 'device-access', what: 'bar0+0x2800' }]);
  });
  it('rdwr.user-buf.fault-waits-for-writer', () => {
    const m = openMapped('linux-6.12');
    run(m, mseOff);
    run(m, cfgw(0x04, 0x0006), { overlap: 3, tid: 2 });
    expectStep(run(m, bufRead(), { overlap: 3, tid: 1 }), { kind: 'blocked' }, 'rdwr.user-buf.fault-waits-for-writer');
  });
  it('rdwr.user-buf.fault-contended-efault', () => {
    const m = openMapped('block-disabled-mmio@v1');
    run(m, mseOff);
    run(m, cfgw(0x04, 0x0006), { overlap: 3, tid: 2 });
    expectStep(run(m, bufRead(), { overlap: 3, tid: 1 }), err('EFAULT'), 'rdwr.user-buf.fault-contended-efault');
  });
});
