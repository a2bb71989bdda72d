// The replay engine: one kernel model (and a VMM model when one is selected) for one device, fed
// one event at a time. Pure like the models: no I/O here; the streaming driver is in run.ts.
//
// Routing: host events go to the VMM model when there is one (it forwards them to the kernel and
// sees e.g. its memslots; see VmmModel.host), else straight to the kernel model. Guest events need
// a VMM: without one they are `unsupported` (a kernel-only replay cannot say what the guest saw).

import { createKernelModel } from '../model/kernel/index.js';
import { createVmmModel } from '../model/vmm/index.js';
import type { KernelModel, VmmModel } from '../model/interfaces.js';
import { step, type Step } from '../model/outcome.js';
import { compareObserved } from './compare.js';
import { FaultLogJudge } from './fault-log.js';
import { GUEST_KINDS, type GuestEvent, type HostEvent, type TraceEvent, type TraceHeader } from '../trace/types.js';
import { OpaqueTracker } from './opaque.js';

/** The model versions one replay runs under. `vmm` null = kernel only. */
export interface ModelSelection {
  kernel: string;
  vmm: string | null;
}

export const RULE_NO_VMM = 'replay.guest-event-without-vmm';

const NO_VMM: Step = step({ kind: 'unsupported', reason: 'guest event without a VMM model (pass --vmm)' }, RULE_NO_VMM);

export class Replayer {
  readonly kernel: KernelModel;
  readonly vmm: VmmModel | null;
  /** Outcomes after a device ioctl whose arguments were not captured (opaque.ts). */
  readonly opaque: OpaqueTracker;

  constructor(header: TraceHeader, sel: ModelSelection) {
    this.opaque = new OpaqueTracker(header.device);
    this.kernel = createKernelModel(header.device, sel.kernel, header);
    this.vmm = sel.vmm === null ? null : createVmmModel(this.kernel, header.device, sel.vmm, header.vmm.accel, header.vmm.options ?? []);
  }

  apply(ev: TraceEvent): Step {
    return this.opaque.apply(ev, this.model(ev));
  }

  private model(ev: TraceEvent): Step {
    if (GUEST_KINDS.has(ev.kind)) {
      return this.vmm === null ? NO_VMM : this.vmm.guest(ev as TraceEvent & GuestEvent, ev);
    }
    const host = ev as TraceEvent & HostEvent;
    return this.vmm === null ? this.kernel.host(host, ev) : this.vmm.host(host, ev);
  }

  /** The device note of the last `judge`, or null. */
  note: string | null = null;

  /** The BAR fault handler's calls in the observed kernel log against the model's (fault-log.ts). */
  private readonly faultLog = new FaultLogJudge();

  /**
   * After `s = apply(ev)`: the kernel model first learns what the observation shows of the
   * hardware (a device note, kept in `note`; the model adopts it), then the observation is
   * compared with what the kernel and VMM models own: the divergence, or null. `strictDevice`
   * turns a device note into a divergence (`--strict-device`).
   */
  judge(ev: TraceEvent, s: Step, strictDevice = false): string | null {
    this.note = null;
    const obs = ev.observed;
    if (obs === undefined) return null;
    const note = this.kernel.observe(ev, obs, s);
    // The model predicts from the hardware state it adopted, for this event too: the step the
    // replay renders and compares becomes the corrected one.
    const fixed = note !== null ? (this.kernel.corrected?.() ?? null) : null;
    if (fixed !== null) Object.assign(s, fixed);
    const calls = this.faultLog.judge(s.faultLog, obs.kernelLog); // every event: it learns whether the log has the lines
    const d = compareObserved(s.outcome, obs, ev, this.kernel.view.powerState) ?? calls;
    if (note !== null && strictDevice) return d ?? `device: ${note}`;
    this.note = note;
    return d;
  }
}
