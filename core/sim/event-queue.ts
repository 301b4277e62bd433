// Models: no Linux file; the discrete-event core every other part of core/ runs on.
// A binary min-heap ordered by (timeNs, priority, seq), struct-of-arrays so the hot path allocates nothing.

/** An entry's callback and its argument, stored beside the keys. */
export type EventFn<T> = (arg: T) => void;

const SEQ_BITS_SCALE = 2 ** 40; // priority * 2^40 + seq stays exact in a double for 2^44 values

/**
 * Min-heap keyed by (timeNs, priority, seq). `seq` is assigned at push time, so two events at the
 * same time and priority pop in the order they were pushed: that is what makes runs reproducible.
 */
export class EventQueue {
  private timeNs: Float64Array;
  private order: Float64Array;
  private fns: EventFn<unknown>[];
  private args: unknown[];
  private count = 0;
  private nextSeq = 0;

  constructor(initialCapacity = 1024) {
    this.timeNs = new Float64Array(initialCapacity);
    this.order = new Float64Array(initialCapacity);
    this.fns = new Array<EventFn<unknown>>(initialCapacity);
    this.args = new Array<unknown>(initialCapacity);
  }

  get size(): number {
    return this.count;
  }

  /** Time of the earliest event, or Infinity when empty. */
  peekTimeNs(): number {
    return this.count > 0 ? this.timeNs[0]! : Infinity;
  }

  push<T>(timeNs: number, priority: number, fn: EventFn<T>, arg: T): void {
    if (this.count === this.timeNs.length) this.grow();
    const key2 = priority * SEQ_BITS_SCALE + this.nextSeq++;
    // sift up
    let i = this.count++;
    const times = this.timeNs;
    const order = this.order;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < timeNs || (pt === timeNs && order[parent]! < key2)) break;
      times[i] = pt;
      order[i] = order[parent]!;
      this.fns[i] = this.fns[parent]!;
      this.args[i] = this.args[parent];
      i = parent;
    }
    times[i] = timeNs;
    order[i] = key2;
    this.fns[i] = fn as EventFn<unknown>;
    this.args[i] = arg;
  }

  /**
   * Removes the earliest event and runs nothing: the caller reads `poppedFn`/`poppedArg`/`poppedTimeNs`.
   * Returning through fields avoids allocating a tuple per event.
   */
  poppedTimeNs = 0;
  poppedFn: EventFn<unknown> | undefined;
  poppedArg: unknown;

  pop(): boolean {
    const n = this.count;
    if (n === 0) return false;
    const times = this.timeNs;
    const order = this.order;
    const fns = this.fns;
    const args = this.args;
    this.poppedTimeNs = times[0]!;
    this.poppedFn = fns[0];
    this.poppedArg = args[0];
    const last = n - 1;
    this.count = last;
    if (last === 0) {
      fns[0] = undefined as unknown as EventFn<unknown>;
      args[0] = undefined;
      return true;
    }
    const t = times[last]!;
    const o = order[last]!;
    const f = fns[last]!;
    const a = args[last];
    fns[last] = undefined as unknown as EventFn<unknown>;
    args[last] = undefined;
    // sift down from the root
    let i = 0;
    const half = last >> 1;
    while (i < half) {
      let child = 2 * i + 1;
      const right = child + 1;
      if (right < last) {
        const ct = times[child]!;
        const rt = times[right]!;
        if (rt < ct || (rt === ct && order[right]! < order[child]!)) child = right;
      }
      const ct = times[child]!;
      if (t < ct || (t === ct && o < order[child]!)) break;
      times[i] = ct;
      order[i] = order[child]!;
      fns[i] = fns[child]!;
      args[i] = args[child];
      i = child;
    }
    times[i] = t;
    order[i] = o;
    fns[i] = f;
    args[i] = a;
    return true;
  }

  private grow(): void {
    const cap = this.timeNs.length * 2;
    const t = new Float64Array(cap);
    t.set(this.timeNs);
    const o = new Float64Array(cap);
    o.set(this.order);
    this.timeNs = t;
    this.order = o;
    this.fns.length = cap;
    this.args.length = cap;
  }
}
