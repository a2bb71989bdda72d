// A stable sort of a stream by a bigint key that holds only a window of it (issue 19 item 3:
// bounded-memory import). The time merge sorts strace and QEMU-log events by their stamps; each
// log is already in time order, or nearly (a fork event carries its clone's entry stamp, QEMU's
// threads race to its log): an item comes at most `window` items after one with a later stamp.
// Under that assumption the items come out exactly as a stable sort of the whole stream would
// give them. An input more out of order than the window is not sorted wrongly: push() throws
// WindowExceeded and the importer merges that input holding it whole (importer.ts).

/** An input whose stamps go back further than the window allows. */
export class WindowExceeded extends Error {
  constructor(
    readonly what: string,
    readonly window: number,
  ) {
    super(`${what}: stamps out of order by more than ${window} items`);
  }
}

export class WindowSort<T> {
  // Pending items in stable key order, from `head` on (taken items are left behind the head and
  // cut off now and then: shifting a long array per item would be quadratic).
  private items: T[] = [];
  private keys: bigint[] = [];
  private head = 0;
  // Keys of the last `window` arrivals (a ring), and the largest key that fell out of it: no
  // later arrival may have a smaller key.
  private readonly recent: bigint[] = [];
  private arrivals = 0;
  private low: bigint | null = null;
  private ended = false;
  /** Whether any item went before one pushed ahead of it (the output differs from the input order). */
  reordered = false;

  constructor(
    private readonly key: (t: T) => bigint,
    readonly window: number,
    private readonly what: string,
  ) {
    if (!(window >= 1)) throw new Error('WindowSort: window must be at least 1');
  }

  /** Adds the next item of the stream; throws WindowExceeded when it sorts before `floor`. */
  push(t: T): void {
    const k = this.key(t);
    if (this.low !== null && k < this.low) throw new WindowExceeded(this.what, this.window);
    const slot = this.arrivals % this.window;
    if (this.arrivals >= this.window) {
      const old = this.recent[slot]!;
      if (this.low === null || old > this.low) this.low = old;
    }
    this.recent[slot] = k;
    this.arrivals++;
    // Stable: after every pending item of an equal key (nearly always at the very end).
    let i = this.keys.length;
    while (i > this.head && this.keys[i - 1]! > k) i--;
    if (i === this.keys.length) {
      this.items.push(t);
      this.keys.push(k);
    } else {
      this.reordered = true;
      this.items.splice(i, 0, t);
      this.keys.splice(i, 0, k);
    }
  }

  /** No more items will be pushed: everything pending can be taken. */
  end(): void {
    this.ended = true;
  }

  get done(): boolean {
    return this.ended && this.size === 0;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /**
   * The lowest key a later push may have (null: any). Items at or below it are in their final
   * order: equal keys pushed later go after them.
   */
  get floor(): bigint | null {
    return this.low;
  }

  /** Whether the first pending item is final: nothing pushed later can sort before it. */
  canTake(): boolean {
    if (this.size === 0) return false;
    return this.ended || (this.low !== null && this.keys[this.head]! <= this.low);
  }

  peek(): T | undefined {
    return this.size > 0 ? this.items[this.head] : undefined;
  }

  peekKey(): bigint | undefined {
    return this.size > 0 ? this.keys[this.head] : undefined;
  }

  take(): T {
    if (this.size === 0) throw new Error('WindowSort: take from an empty window');
    const t = this.items[this.head]!;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.keys = this.keys.slice(this.head);
      this.head = 0;
    }
    return t;
  }
}
