// Models: fs/ext4/extents.c: a file's logical blocks map to physical blocks through a sorted list
// of extents (ext4_ext_find_extent / ext4_ext_map_blocks).
// SIMPLIFICATION: the extent tree is a flat sorted array (one leaf), which is what a small file's
// in-inode extent tree is; depth and index blocks are not modelled.

import type { MappedExtent } from '../types.js';
import { SimBug } from '../../sim/errors.js';

/** EXT_INIT_MAX_LEN: one extent covers at most 32768 blocks. */
export const EXT_MAX_LEN = 32768;

export class ExtentTree {
  private readonly extents: MappedExtent[] = [];

  get count(): number {
    return this.extents.length;
  }

  all(): readonly MappedExtent[] {
    return this.extents;
  }

  /** The extent containing `lblk`, trimmed to start at lblk, or undefined for a hole. */
  lookup(lblk: number): MappedExtent | undefined {
    const ex = this.extents;
    let lo = 0;
    let hi = ex.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = ex[mid]!;
      if (lblk < e.lblk) hi = mid - 1;
      else if (lblk >= e.lblk + e.len) lo = mid + 1;
      else return { lblk, pblk: e.pblk + (lblk - e.lblk), len: e.len - (lblk - e.lblk) };
    }
    return undefined;
  }

  /** First mapped logical block after `lblk` (the end of a hole), or Infinity. */
  nextMapped(lblk: number): number {
    return this.extents[this.firstStartingAfter(lblk, true)]?.lblk ?? Infinity;
  }

  /**
   * Index of the first extent starting after `lblk` (`strictly`) or at/after it, by binary search:
   * fio lays out a multi-terabyte file as hundreds of thousands of extents.
   */
  private firstStartingAfter(lblk: number, strictly: boolean): number {
    const ex = this.extents;
    let lo = 0;
    let hi = ex.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const start = ex[mid]!.lblk;
      if (start < lblk || (strictly && start === lblk)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Inserts a new mapping for a hole, merging with a physically contiguous neighbour. */
  insert(lblk: number, pblk: number, len: number): void {
    if (len <= 0) return;
    const ex = this.extents;
    const i = this.firstStartingAfter(lblk, false);
    const prev = ex[i - 1];
    if (prev && prev.lblk + prev.len > lblk) throw new SimBug(`extent overlap at ${lblk}`);
    const next = ex[i];
    if (next && lblk + len > next.lblk) throw new SimBug(`extent overlap at ${lblk}`);
    const joinsPrev = prev !== undefined && prev.lblk + prev.len === lblk && prev.pblk + prev.len === pblk && prev.len + len <= EXT_MAX_LEN;
    const joinsNext = next !== undefined && lblk + len === next.lblk && pblk + len === next.pblk && next.len + len <= EXT_MAX_LEN;
    if (joinsPrev && joinsNext && prev.len + len + next.len <= EXT_MAX_LEN) {
      ex.splice(i - 1, 2, { lblk: prev.lblk, pblk: prev.pblk, len: prev.len + len + next.len });
    } else if (joinsPrev) {
      ex[i - 1] = { lblk: prev.lblk, pblk: prev.pblk, len: prev.len + len };
    } else if (joinsNext) {
      ex[i] = { lblk, pblk, len: len + next.len };
    } else {
      ex.splice(i, 0, { lblk, pblk, len });
    }
  }
}
