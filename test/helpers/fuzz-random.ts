// The seeded generator the fuzz tests draw from: the simulation's own (core/sim/random.ts) with the
// few picks a fuzzer needs, so every failing case replays from its seed.
import { Random } from '../../core/sim/random.js';

export class FuzzRandom extends Random {
  /** Uniform integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}
