// The one place that decides whether a predicted outcome agrees with what was observed.
//
// An observation is partial: an importer or the lab fills only what its source shows. We compare
// only the fields the observation carries, and only these (the brief's contract, documented in the
// docs/replay.md):
//   errno          -> the prediction must be that errno
//   ret            -> the prediction must be a returning outcome (ok, or one that returns to the
//                     caller: hazard, all-ones, dropped, unassigned); for `ok` with a predicted
//                     `ret`, the values must be equal, except for calls that return a new file
//                     descriptor (open, DMABUF export): the number is the process's, not the model's
//   signal + code  -> the prediction must be that signal with that si_code
//   vmm exit       -> the prediction must be a vmm-exit of the same mechanism (and status when the
//                     observation is an exit status)
//   blocked        -> the prediction must be `blocked`
//   data           -> bytes came back, so the access completed: like `ret`, the prediction must be a
//                     returning outcome (a VMM the model kills there, a SIGBUS, an errno disagree)
// The data bytes themselves and the power state are not compared: the model does not simulate device registers,
// and the tracer's power-state sample is taken at a different moment than the event.
// A `hazard` counts as "returned": it says the access reached a non-decoding device, which on an
// emulated or forgiving platform completes normally; the hazard itself is visible in the log.
// An `unsupported` prediction is never a divergence: it is counted apart (exit 125).

import type { Outcome } from '../model/outcome.js';
import type { EventBody, Observed, VmmExit } from '../trace/types.js';

/** Calls whose return value is a new file descriptor: only their success is comparable. */
export function returnsHandle(ev: EventBody): boolean {
  return ev.kind === 'open' || (ev.kind === 'ioctl' && ev.op === 'dma-buf');
}

/**
 * `null` when the prediction agrees with every compared field, else the observation as printed
 * after `!= observed: `. Pass the event so fd-returning calls are compared on success only.
 */
export function compareObserved(predicted: Outcome, observed: Observed | undefined, ev: EventBody): string | null {
  if (observed === undefined || predicted.kind === 'unsupported') return null;
  const { errno, ret, signal, vmmExit, blocked, data } = observed;
  if (errno !== undefined && errno !== '') {
    if (predicted.kind !== 'errno' || predicted.errno !== errno) return `-${errno}`;
  }
  if (signal !== undefined) {
    if (predicted.kind !== 'signal' || predicted.signal !== signal.signal || predicted.code !== signal.code)
      return `${signal.signal} ${signal.code}`;
  }
  if (vmmExit !== undefined) {
    if (!vmmExitAgrees(predicted, vmmExit)) return renderObservedExit(vmmExit);
  }
  if (blocked === true) {
    if (predicted.kind !== 'blocked') return 'blocked';
  }
  if (ret !== undefined) {
    if (!returns(predicted)) return `ret=${ret}`;
    if (predicted.kind === 'ok' && predicted.ret !== undefined && predicted.ret !== ret && !(ev !== undefined && returnsHandle(ev)))
      return `ret=${ret}`;
  }
  if (data !== undefined && ret === undefined && errno === undefined && signal === undefined && vmmExit === undefined) {
    if (!returns(predicted)) return `data=${Buffer.from(data).toString('hex')}`;
  }
  return null;
}

function returns(o: Outcome): boolean {
  switch (o.kind) {
    case 'ok':
    case 'hazard':
    case 'all-ones':
    case 'dropped':
    case 'unassigned':
      return true;
    default:
      return false;
  }
}

function vmmExitAgrees(o: Outcome, x: VmmExit): boolean {
  if (o.kind !== 'vmm-exit') return false;
  switch (x.how) {
    case 'kvm-run-error':
      return o.how === 'kvm-run-efault' && (x.errno === '' || x.errno === 'EFAULT');
    case 'signaled':
      return o.how === 'killed-sigbus' && (x.signal === '' || x.signal === 'SIGBUS');
    case 'exited':
      return o.how === 'exit' && o.status === x.status;
  }
}

function renderObservedExit(x: VmmExit): string {
  switch (x.how) {
    case 'kvm-run-error':
      return `vmm-exit KVM_RUN -${x.errno === '' ? 'EFAULT' : x.errno}`;
    case 'signaled':
      return `vmm-exit killed ${x.signal === '' ? 'by signal' : x.signal} status=${x.status}`;
    case 'exited':
      return `vmm-exit status=${x.status}`;
  }
}
