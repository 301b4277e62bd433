// Models: lib/kfifo.c's idea: a ring buffer with power-of-two capacity and free-running indices,
// so a long-lived queue reuses one backing array instead of reallocating as items pass through.
// SIMPLIFICATION: it grows (doubling) when full instead of refusing items, since simulated
// queues have no fixed size.

export class Kfifo<T> {
  private items: (T | undefined)[];
  private mask: number;
  private in = 0;
  private out = 0;

  constructor(initialCapacity = 16) {
    let cap = 1;
    while (cap < initialCapacity) cap *= 2;
    this.items = new Array<T | undefined>(cap).fill(undefined);
    this.mask = cap - 1;
  }

  get length(): number {
    return this.in - this.out;
  }

  push(item: T): void {
    if (this.in - this.out === this.items.length) this.grow();
    this.items[this.in & this.mask] = item;
    this.in++;
  }

  peek(): T | undefined {
    return this.in === this.out ? undefined : this.items[this.out & this.mask];
  }

  shift(): T | undefined {
    if (this.in === this.out) return undefined;
    const i = this.out & this.mask;
    const item = this.items[i];
    this.items[i] = undefined;
    this.out++;
    if (this.out === this.in) this.in = this.out = 0; // keep the indices small
    return item;
  }

  private grow(): void {
    const n = this.items.length;
    const bigger = new Array<T | undefined>(n * 2).fill(undefined);
    for (let k = 0; k < n; k++) bigger[k] = this.items[(this.out + k) & this.mask];
    this.items = bigger;
    this.mask = n * 2 - 1;
    this.in = n;
    this.out = 0;
  }
}
