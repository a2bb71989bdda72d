// Device interrupts (src/model/kernel/device-irq.ts): what the kernel signals when the device raises
// INTx or an MSI/MSI-X vector, with and without DisINTx masking; one test per rule, named after it,
// and catalog bug intx-auto-enable-depth (fe9a7082684e) through the interleaving explorer.
import { describe, expect, it } from 'vitest';
import { e1000eSnapshot } from '../../../src/model/devices/e1000e.js';
import { VfioPciKernelModel } from '../../../src/model/kernel/index.js';
import type { HostLists } from '../../../src/model/kernel/host-config.js';
import { renderOutcome } from '../../../src/model/outcome.js';
import { Replayer } from '../../../src/replay/engine.js';
import { RaceStepper } from '../../../src/replay/race/stepper.js';
import type { HostEvent, TraceEvent, TraceHeader } from '../../../src/trace/types.js';
import { findKernelVersion } from '../../../src/model/versions/kernel.js';
import { expectStep, run } from './helpers.js';

const NOINTXMASK: HostLists = { moduleParams: ['vfio_pci.nointxmask=Y'] };
const irq = (index = 0, vector = 0): HostEvent => ({ kind: 'device-irq', index, vector });
const set = (flags: number, index: number, count: number, fds: number[] = []): HostEvent => ({ kind: 'ioctl', op: 'set-irqs', flags, index, start: 0, count, argsz: 20 + 4 * count, fds });
const INTX_ON = set(0x24, 0, 1, [12]);
const UNMASK = set(0x11, 0, 1);

function opened(version: string, host: HostLists = {}): VfioPciKernelModel {
  const m = new VfioPciKernelModel(e1000eSnapshot(), version, host);
  run(m, { kind: 'open' });
  return m;
}

describe('device interrupts', () => {
  it('intrs.device-irq.no-handler', () => expectStep(run(opened('linux-6.12'), irq()), { kind: 'ok', signaled: [] }, 'intrs.device-irq.no-handler'));
  it('intrs.device-irq.intx-signal', () => {
    const m = opened('linux-6.12');
    run(m, INTX_ON);
    expectStep(run(m, irq()), { kind: 'ok', signaled: ['intx'] }, 'intrs.device-irq.intx-signal');
  });
  it('intrs.device-irq.intx-masked', () => {
    // DisINTx masking: the handler masked INTx in the device; until the unmask it does not assert.
    const m = opened('linux-6.12');
    run(m, INTX_ON);
    run(m, irq());
    expectStep(run(m, irq()), { kind: 'ok', signaled: [] }, 'intrs.device-irq.intx-masked');
    run(m, UNMASK);
    expectStep(run(m, irq()), { kind: 'ok', signaled: ['intx'] }, 'intrs.device-irq.intx-signal');
  });
  it('intrs.device-irq.intx-line-disabled', () => {
    // Without DisINTx the handler disables the host line; the next interrupt waits for the unmask.
    const m = opened('linux-6.12', NOINTXMASK);
    run(m, INTX_ON);
    run(m, irq());
    expectStep(run(m, irq()), { kind: 'ok', signaled: [] }, 'intrs.device-irq.intx-line-disabled', [{ kind: 'irq-pending', irq: 'intx' }]);
    expectStep(run(m, UNMASK), { kind: 'ok', ret: 0n, signaled: ['intx'] }, 'intrs.set-irqs.intx-unmask');
  });
  it('intrs.device-irq.intx-masked-no-signal', () => {
    // Since 18c198c96a81 the handler outlives a deconfigured trigger: it masks, with nothing to signal.
    const m = opened('linux-6.12');
    run(m, INTX_ON);
    run(m, set(0x24, 0, 1, [-1]));
    expectStep(run(m, irq()), { kind: 'ok', signaled: [] }, 'intrs.device-irq.intx-masked-no-signal');
    // Before, deconfiguring the trigger freed the handler too.
    const old = opened('linux-6.6.23');
    run(old, INTX_ON);
    run(old, set(0x24, 0, 1, [-1]));
    expectStep(run(old, irq()), { kind: 'ok', signaled: [] }, 'intrs.device-irq.no-handler');
  });
  it('intrs.device-irq.msi-signal', () => {
    const m = opened('linux-6.12');
    run(m, set(0x24, 2, 2, [20, 21]));
    expectStep(run(m, irq(2, 1)), { kind: 'ok', signaled: ['msix:1'] }, 'intrs.device-irq.msi-signal');
    expectStep(run(m, irq(2, 4)), { kind: 'ok', signaled: [] }, 'intrs.device-irq.no-handler');
  });
  it('intrs.device-irq.bad-index', () => expectStep(run(opened('linux-6.12'), irq(3)), { kind: 'unsupported' }, 'intrs.device-irq.bad-index'));
});

function header(): TraceHeader {
  return { formatVersion: 1, source: 'hand-written', kernelRelease: '', vmm: { name: '', version: '', accel: 'unknown', options: [] }, tracerVersion: '', device: e1000eSnapshot(), title: 't', moduleParams: NOINTXMASK.moduleParams };
}
let seq = 0n;
const ev = (body: HostEvent, tid = 1, overlap = 0): TraceEvent => ({ seq: ++seq, tsNs: 0n, tid, overlap, ...body }) as TraceEvent;
function replay(version: string, interleaving: number | null): string[] {
  const events = [ev({ kind: 'open' }), ev(INTX_ON, 101, 1), ev(irq(), 102, 1), ev(UNMASK), ev(irq())];
  const st = new RaceStepper(new Replayer(header(), { kernel: version, vmm: null }), interleaving, 't');
  const out: string[] = [];
  events.forEach((e, i) => out.push(...st.push(i, e).map((x) => `${renderOutcome(x.step.outcome)} [${x.step.rule}]`)));
  out.push(...st.end().map((x) => `${renderOutcome(x.step.outcome)} [${x.step.rule}]`));
  return out;
}

describe('intx-auto-enable-depth (fe9a7082684e, CVE-2024-27437)', () => {
  it('is in 6.6.23 and fixed in 6.6.24, 5.10.215 and mainline', () => {
    expect(['linux-5.10.214', 'linux-5.10.215', 'linux-6.6.23', 'linux-6.6.24', 'linux-6.12'].map((v) => findKernelVersion(v)!.switches.bugIntxAutoEnable)).toEqual([true, false, true, false, false]);
  });
  it('an interrupt between request_irq and the masked check disables the line twice: the next one never comes', () => {
    expect(replay('linux-6.6.23', 1)[4]).toBe('ok signaled=- [intrs.device-irq.intx-line-disabled]');
    expect(replay('linux-6.6.24', 1)[4]).toBe('ok signaled=intx [intrs.device-irq.intx-signal]');
  });
  it('fixed: the interrupt in the window waits for the enable, which delivers it', () => {
    expect(replay('linux-6.6.24', null)[1]).toBe('may: ok ret=0 | ok ret=0 signaled=intx [intrs.set-irqs.intx-enable|intrs.set-irqs.intx-enable]');
    expect(replay('linux-6.6.23', null)[1]).toBe('ok ret=0 [intrs.set-irqs.intx-enable]');
  });
});
