// Models: mm/memcontrol.c and Documentation/admin-guide/cgroup-v2.rst's memory controller: a
// memory cgroup charges the folios its tasks allocate (memory.current), owns one lruvec per node
// (its folios' LRU lists), and sets memory.min / memory.low (reclaim protection: below min never
// reclaimed, below low only when nothing unprotected is left) and memory.high / memory.max (over
// them, the group's allocations reclaim from the group itself first). Reclaim scans each group's
// lruvec in proportion to its size, less the share its protection covers
// (apply_proportional_protection in mm/vmscan.c).
// Over memory.high with reclaim making no progress, the task sleeps off its overage
// (calculate_high_delay, core/mm/vmscan.ts).
// SIMPLIFICATION: one level under the root (effective protection is the group's own setting, as
// for a child of the root in effective_protection); the over-high check and its sleep happen at the
// next allocation rather than on return to user space, for one nominal charge batch; over
// memory.max with nothing left to reclaim an allocation fails (-ENOMEM) instead of invoking the OOM
// killer.

import type { Lruvec } from '../mm/vmscan.js';

/** "max": no limit. */
export const MEMCG_MAX = Number.MAX_SAFE_INTEGER;

/** The settings of one memory cgroup, in pages. */
export interface MemcgLimits {
  readonly minPages: number;
  readonly lowPages: number;
  readonly highPages: number;
  readonly maxPages: number;
}

/** struct mem_cgroup */
export class MemCgroup {
  /** Pages charged (page_counter memory: memory.current), and the most ever (memory.peak). */
  usagePages = 0;
  peakPages = 0;
  /** memory.events: low (reclaimed while below low), high, max. */
  eventsLow = 0;
  eventsHigh = 0;
  eventsMax = 0;
  /** One lruvec per node (mem_cgroup_per_node). */
  readonly lruvecs: Lruvec[] = [];

  constructor(
    /** The cgroup id shadow entries carry (mem_cgroup_id); 0 is the root. */
    readonly id: number,
    /** Its name under /sys/fs/cgroup ("" for the root). */
    readonly name: string,
    readonly limits: MemcgLimits,
  ) {}

  /** The effective protection (memory.emin / memory.elow) of a child of the root. */
  get emin(): number {
    return this.id === 0 ? 0 : this.limits.minPages;
  }

  get elow(): number {
    return this.id === 0 ? 0 : this.limits.lowPages;
  }

  /** mem_cgroup_below_min / mem_cgroup_below_low: usage within the protection. */
  belowMin(): boolean {
    return this.emin > 0 && this.usagePages <= this.emin;
  }

  belowLow(): boolean {
    return this.elow > 0 && this.usagePages <= this.elow;
  }

  /** Over memory.high or at memory.max: its next allocation reclaims from it first. */
  get overLimit(): boolean {
    return this.usagePages >= this.limits.maxPages || this.usagePages > this.limits.highPages;
  }
}

export const NO_LIMITS: MemcgLimits = { minPages: 0, lowPages: 0, highPages: MEMCG_MAX, maxPages: MEMCG_MAX };
