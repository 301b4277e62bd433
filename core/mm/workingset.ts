// Models: mm/workingset.c: refault detection for the two-list LRU. Each lruvec keeps a
// nonresident_age clock that ticks on every eviction and every activation; an evicted folio leaves a
// shadow entry in its mapping at its index holding that clock's value (plus its node, memcg and
// whether it was part of the working set, PG_workingset). When the index is read again, the refault
// distance (now - then) is how much longer the inactive list would have had to be to keep the folio;
// if the active list is at least that long, the folio would have stayed resident by displacing
// active folios, so it starts active (workingset_refault).
// SIMPLIFICATION: shadows are never reclaimed (Linux's shadow-node shrinker, count_shadow_nodes),
// and the clock has no bucket_order: distances are exact to the page.

import type { Kernel } from '../kernel/kernel.js';
import { PG, type Folio } from './mm_types.js';
import type { Lruvec } from './vmscan.js';

/**
 * A shadow entry packs (eviction, memcg id, node id, workingset) into one number, as pack_shadow
 * packs them into an xarray value: 1 bit workingset, NODE_BITS node, MEMCG_BITS memcg id, and the
 * rest of a double's 53 exact bits for the eviction clock (EVICTION_BITS, which wraps).
 */
const NODE_SPAN = 2 ** 6;
const MEMCG_SPAN = 2 ** 16;
export const EVICTION_SPAN = 2 ** 30;

export type Shadow = number;

export function packShadow(eviction: number, memcgId: number, nid: number, workingset: boolean): Shadow {
  return (((eviction % EVICTION_SPAN) * MEMCG_SPAN + memcgId) * NODE_SPAN + nid) * 2 + (workingset ? 1 : 0);
}

export interface UnpackedShadow {
  readonly eviction: number;
  readonly memcgId: number;
  readonly nid: number;
  readonly workingset: boolean;
}

export function unpackShadow(shadow: Shadow): UnpackedShadow {
  const workingset = shadow % 2 === 1;
  let rest = Math.floor(shadow / 2);
  const nid = rest % NODE_SPAN;
  rest = Math.floor(rest / NODE_SPAN);
  const memcgId = rest % MEMCG_SPAN;
  const eviction = Math.floor(rest / MEMCG_SPAN);
  return { eviction, memcgId, nid, workingset };
}

/** workingset_age_nonresident: evictions and activations advance the lruvec's clock. */
export function workingsetAgeNonresident(lruvec: Lruvec, nrPages: number): void {
  for (let lv: Lruvec | undefined = lruvec; lv !== undefined; lv = lv.parent) lv.nonresidentAge += nrPages;
}

/** workingset_eviction: the shadow a folio reclaimed from `lruvec` leaves behind. */
export function workingsetEviction(lruvec: Lruvec, f: Folio): Shadow {
  const eviction = lruvec.nonresidentAge;
  workingsetAgeNonresident(lruvec, 1);
  return packShadow(eviction, lruvec.memcgId, lruvec.pgdat.nodeId, (f.flags & PG.workingset) !== 0);
}

/** workingset_activation: a folio promoted by folio_mark_accessed ages the clock too. */
export function workingsetActivation(lruvec: Lruvec): void {
  workingsetAgeNonresident(lruvec, 1);
}

/** The refault distance of `shadow` against its lruvec's clock now (wrapping like EVICTION_MASK). */
export function refaultDistance(lruvec: Lruvec, shadow: Shadow): number {
  const { eviction } = unpackShadow(shadow);
  const refault = lruvec.nonresidentAge % EVICTION_SPAN;
  return (refault - eviction + EVICTION_SPAN) % EVICTION_SPAN;
}

/**
 * workingset_test_recent for a file folio: would it have stayed resident had the inactive list been
 * `distance` pages longer? Compared with the working set a file refault competes with: the active
 * file list (the anon lists too only with swap, which these machines do not have).
 */
export function workingsetTestRecent(lruvec: Lruvec, shadow: Shadow): boolean {
  return refaultDistance(lruvec, shadow) <= lruvec.nrActiveFile;
}

/**
 * workingset_refault: `f` is being added at an index that held `shadow` (the refault is counted by
 * the caller, whatever the policy), to be put on `lruvec`; the distance is read on the clock of the
 * lruvec it was evicted from (its group's then). If it is recent, the folio starts active (and PG_workingset if it was part of the working set when
 * evicted: a restore). Called before the folio goes on the LRU, as filemap_add_folio does.
 */
export function workingsetRefault(k: Kernel, lruvec: Lruvec, f: Folio, shadow: Shadow, evictionLruvec: Lruvec): void {
  if (!workingsetTestRecent(evictionLruvec, shadow)) return;
  f.flags |= PG.active;
  workingsetAgeNonresident(lruvec, 1);
  k.stat.workingsetActivateFile++;
  lruvec.workingsetActivateFile++;
  if (unpackShadow(shadow).workingset) {
    f.flags |= PG.workingset;
    k.stat.workingsetRestoreFile++;
  }
}
