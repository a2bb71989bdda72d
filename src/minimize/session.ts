// The test `minimize` runs over and over: does this candidate still show the goal under every
// selection? Counts the replays it spends (the bench and the CLI report them against the trace
// length) and stops at the first selection that disagrees.

import type { ModelSelection } from '../replay/engine.js';
import { observe, type Candidate, type Goal, type Observation } from './goal.js';

export class Session {
  replays = 0;
  readonly target: Observation[];

  constructor(
    readonly goal: Goal,
    readonly selections: ModelSelection[],
    original: Candidate,
  ) {
    this.target = selections.map((sel) => this.observe(original, sel));
  }

  private observe(c: Candidate, sel: ModelSelection): Observation {
    this.replays++;
    return observe(c, sel, this.goal);
  }

  /** True when every selection sees what it saw in the original trace. */
  holds(c: Candidate): boolean {
    for (let i = 0; i < this.selections.length; i++) {
      if (this.observe(c, this.selections[i]).sig !== this.target[i].sig) return false;
    }
    return true;
  }
}
