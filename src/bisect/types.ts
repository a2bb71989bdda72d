// The vocabulary of bisection. Bisect works over an ordered list of *version points* (model
// variants: a kernel release or patch-series version, or a VMM version, with the other axis held
// fixed). Each point is replayed in-process; no rebuild, no DAG: the list is the history.

import type { Outcome } from '../model/outcome.js';

/** Which axis varies. The other one is held at a fixed version for the whole run. */
export type Axis = 'kernel' | 'vmm';

/** One point of the version axis: the models a single replay runs under. */
export interface VersionPoint {
  /** The id of the version that varies along the axis (`linux-7.0`, `barmap-at-enable@v2`, `qemu-10.0`). */
  id: string;
  kernel: string;
  /** VMM version id, or null for a host-only replay (no VMM model). */
  vmm: string | null;
}

/** One event of one replay, reduced to what bisect compares and reports. */
export interface EventResult {
  /** 0-based index of the event in the trace. */
  index: number;
  /** The full outcome-log line as the replay renders it (what the diff shows). */
  line: string;
  /** The event itself, rendered (`host ioctl dma-buf region=0 ...`), for table summaries. */
  what: string;
  /** The predicted outcome's kind (`ok`, `errno`, `signal`, ..., `unsupported`). */
  kind: Outcome['kind'];
  /** The predicted outcome, rendered (`ok ret=5`, `-ENODEV`, `SIGBUS BUS_ADRERR`). */
  outcome: string;
  /** The predicted effects, rendered, in the order the model reported them (`zap(bar0)`, `revoke(dmabuf1)`). */
  effects: string[];
  /** The rule that decided the outcome. */
  rule: string;
  /** An `unsupported` outcome that is this version's own gap (see Outcome): makes the version a skip. */
  versionUnknown: boolean;
}

/** Everything one replay produced. */
export interface VersionRun {
  point: VersionPoint;
  events: EventResult[];
}

/** Replays the trace at one version point. Injected so tests and the benchmark can count calls. */
export type ReplayFn = (point: VersionPoint) => VersionRun;

/**
 * git bisect's three answers: old (exit 0 / good), new (1 / bad), skip (125: this version cannot
 * say). `reason` is a short human explanation printed in the bisect log.
 */
export type Verdict = 'old' | 'new' | 'skip';

export interface Classified {
  verdict: Verdict;
  reason: string;
}
