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
//   power          -> the kernel model's power state after the event must be the sampled one
//                     (when the caller passes it; a shallower sample is first learned as a device
//                     refusal, src/model/kernel/learn.ts)
//   kernel failure -> the prediction must be a kernel failure of that kind; `where` (when given) a
//                     part of the predicted one, the consequence (when given) equal
//   (a `may` prediction, a racing event, agrees when any of its outcomes agrees)
//   data           -> bytes came back, so the access completed: like `ret`, the prediction must be a
//                     returning outcome (a VMM the model kills there, a SIGBUS, an errno disagree);
//                     and where the prediction has data, every bit the model owns (`own`, see
//                     src/model/data-owner.ts) must be equal. Observed bytes past the predicted data
//                     are the caller's buffer (the kernel wrote only its struct), not compared.
// Bits the model does not own are device data: register contents only the device knows. The
// kernel model's `observe` compares those it knows (hardware state: config registers, the power
// state) and reports a difference as a device note, not here (src/model/kernel/learn.ts).
// A `hazard` counts as "returned": it says the access reached a non-decoding device, which on an
// emulated or forgiving platform completes normally; the hazard itself is visible in the log.
// An `unsupported` prediction is never a divergence: it is counted apart (exit 125).

import type { Outcome, PowerState } from '../model/outcome.js';
import type { EventBody, Observed, VmmExit } from '../trace/types.js';
import { hexBytes } from '../trace/hex-bytes.js';

/** Calls whose return value is a new file descriptor: only their success is comparable. */
export function returnsHandle(ev: EventBody): boolean {
  return ev.kind === 'open' || ev.kind === 'vfio-open' || (ev.kind === 'ioctl' && (ev.op === 'dma-buf' || ev.op === 'get-device-fd'));
}

/**
 * `null` when the prediction agrees with every compared field, else the observation as printed
 * after `!= observed: `. Pass the event so fd-returning calls are compared on success only.
 */
export function compareObserved(predicted: Outcome, observed: Observed | undefined, ev: EventBody, power?: PowerState): string | null {
  if (observed === undefined || predicted.kind === 'unsupported') return null;
  // The sampled power state, after the kernel model learned what the device showed (learn.ts): a
  // difference left is the kernel's (it suspended, resumed or not when the model says otherwise).
  if (power !== undefined && observed.powerState !== undefined && observed.powerState !== '' && observed.powerState !== power)
    return `power=${observed.powerState} (model ${power})`;
  if (predicted.kind === 'may') {
    // A racing event agrees when any outcome its interleavings can give agrees.
    let first: string | null = null;
    for (const o of predicted.outcomes) {
      const d = compareObserved(o, observed, ev);
      if (d === null) return null;
      first ??= d;
    }
    return first;
  }
  const { errno, ret, signal, vmmExit, blocked, data, kernelFailure } = observed;
  if (kernelFailure !== undefined) {
    const f = kernelFailure;
    if (
      predicted.kind !== 'kernel-failure' ||
      (f.kind !== '' && predicted.failure !== f.kind) ||
      (f.where !== '' && !predicted.where.includes(f.where)) ||
      (f.consequence !== '' && predicted.consequence !== f.consequence)
    )
      return `kernel-failure ${[f.kind, f.where, f.consequence].filter((x) => x !== '').join(' ')}`;
  }
  if (errno !== undefined && errno !== '') {
    if (predicted.kind !== 'errno' || predicted.errno !== errno) return `-${errno}`;
    // A failing call that still copies a struct back (hot-reset info's -ENOSPC header): its bytes
    // are the model's like an info struct's.
    if (predicted.data !== undefined && data !== undefined) return compareData(predicted.data, undefined, data);
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
    if (!returns(predicted)) return `data=${hexBytes(data)}`;
  }
  // A sysfs read's text: the model says what the file holds.
  if (observed.text !== undefined) {
    if (predicted.kind !== 'ok' || (predicted.text !== undefined && predicted.text !== observed.text)) return `text=${JSON.stringify(observed.text)}`;
  }
  // The interrupt eventfds signaled: compared where the model predicts them (device interrupts).
  if (observed.signaled !== undefined && predicted.kind === 'ok' && predicted.signaled !== undefined) {
    const seen = [...observed.signaled].sort().join(',');
    if (seen !== [...predicted.signaled].sort().join(',')) return `signaled=${seen === '' ? '-' : seen}`;
  }
  if (data !== undefined) {
    if (predicted.kind === 'ok' && predicted.data !== undefined) return compareData(predicted.data, predicted.own, data);
    if (predicted.kind === 'all-ones') return compareData(allOnes(predicted.len), undefined, data);
  }
  return null;
}

/**
 * `null` when every owned bit agrees, else `data[i]=<observed byte> (model <byte>)` for the first
 * differing byte, and how many more differ.
 */
export function compareData(model: Uint8Array, own: Uint8Array | undefined, observed: Uint8Array): string | null {
  const n = Math.min(model.length, observed.length);
  let first = -1;
  let more = 0;
  for (let i = 0; i < n; i++) {
    const mask = own === undefined ? 0xff : own[i];
    if (((model[i] ^ observed[i]) & mask) === 0) continue;
    if (first < 0) first = i;
    else more++;
  }
  if (first < 0) return null;
  const h = (b: number): string => b.toString(16).padStart(2, '0');
  return `data[${first}]=${h(observed[first])} (model ${h(model[first])}${own !== undefined && own[first] !== 0xff ? ` mask ${h(own[first])}` : ''})${more > 0 ? ` +${more} bytes` : ''}`;
}

function allOnes(len: number): Uint8Array {
  return new Uint8Array(len).fill(0xff);
}

function returns(o: Outcome): boolean {
  switch (o.kind) {
    case 'ok':
    case 'hazard':
    case 'all-ones':
    case 'dropped':
    case 'unassigned':
      return true;
    case 'kernel-failure':
      // A WARN or lockdep splat leaves the call to complete.
      return o.consequence === 'continues';
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
