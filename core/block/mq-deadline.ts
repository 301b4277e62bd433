// Models: block/mq-deadline.c: the deadline I/O scheduler as of v6.3+ (latest_pos[] batches), plus the
// elevator merge paths it plugs into (block/elevator.c elv_merge/insert merge, blk-mq-sched.c try_merge).

import { ReqOp } from './blk_types.js';
import type { Bio } from './blk_types.js';
import { ElvMerge } from './blkdev.js';
import { bioMergeable, bioMergeCandidateOk, rqMergeable, tryMerge } from './blk-merge.js';
import type { ElevatorHost, ElevatorMqOps, Request } from './blkdev.js';
import { bugOn } from '../sim/errors.js';
import { ELEVATOR_DEADLINE_NS } from '../hw/cpu.js';

/** The sysfs knobs of /sys/block/<dev>/queue/iosched/ for mq-deadline (times in ns, not ms). */
export interface DeadlineTunables {
  /**
   * read_expire: a read's deadline after insertion (HZ/2 = 500 ms).
   * SIMPLIFICATION: deadlines are kept in ns, not jiffies, so they are not rounded to a tick.
   */
  readonly readExpireNs: number;
  /** write_expire: a write's deadline after insertion (5*HZ = 5 s). */
  readonly writeExpireNs: number;
  /** writes_starved: how many times reads may be chosen over waiting writes (2). */
  readonly writesStarved: number;
  /** fifo_batch: requests dispatched in sector order before the direction is chosen again (16). */
  readonly fifoBatch: number;
  /** front_merges: look up front-merge candidates in the sort list (1). */
  readonly frontMerges: boolean;
}

export const DEADLINE_DEFAULTS: DeadlineTunables = Object.freeze({
  readExpireNs: 500_000_000,
  writeExpireNs: 5_000_000_000,
  writesStarved: 2,
  fifoBatch: 16,
  frontMerges: true,
});

/** enum dd_data_dir */
const DD_READ = 0;
const DD_WRITE = 1;
type DdDir = typeof DD_READ | typeof DD_WRITE;


/** rq_data_dir / bio_data_dir: op_is_write() is the low bit of the op (REQ_OP_FLUSH is even). */
function dataDir(op: ReqOp): DdDir {
  return op === ReqOp.WRITE ? DD_WRITE : DD_READ;
}


/** Where a request sits inside the scheduler. */
const Where = {
  NONE: 0,
  /** On sort_list[dir] and fifo_list[dir] (and in the hash when mergeable). */
  SORTED: 1,
  /** On dd->dispatch (an at-head insert). */
  DISPATCH: 2,
} as const;
type Where = (typeof Where)[keyof typeof Where];

/**
 * What Linux embeds in struct request for the elevator (rb_node, queuelist, hash node), kept in
 * rq.elvPriv. `owner` ties it to one scheduler instance.
 */
class DdNode {
  where: Where = Where.NONE;
  dir: DdDir;
  /** blk_rq_pos() when the request was put on the sort list (its key there). */
  sortKey = 0;
  /** rq_hash_key() (end sector) when hashed, or -1 when not in the hash. */
  hashKey = -1;
  fifoPrev: Request | undefined = undefined;
  fifoNext: Request | undefined = undefined;

  readonly owner: object;

  constructor(owner: object, dir: DdDir) {
    this.owner = owner;
    this.dir = dir;
  }
}

/** A sector-sorted list (the rb-tree sort_list[dir]): parallel arrays, binary search. */
class SortList {
  readonly rqs: Request[] = [];
  readonly keys: number[] = [];

  get size(): number {
    return this.rqs.length;
  }

  /** First index whose key is >= sector. */
  private lowerBound(sector: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < sector) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose key is > sector. */
  private upperBound(sector: number): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! <= sector) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** elv_rb_add: equal keys go to the right, so requests at one sector keep insertion order. */
  add(rq: Request, key: number): void {
    const i = this.upperBound(key);
    this.rqs.splice(i, 0, rq);
    this.keys.splice(i, 0, key);
  }

  /** deadline_from_pos: the first request at or above `sector`. */
  fromPos(sector: number): Request | undefined {
    return this.rqs[this.lowerBound(sector)];
  }

  indexOf(rq: Request, key: number): number {
    for (let i = this.lowerBound(key); i < this.keys.length && this.keys[i] === key; i++) {
      if (this.rqs[i] === rq) return i;
    }
    return -1;
  }

  remove(index: number): void {
    this.rqs.splice(index, 1);
    this.keys.splice(index, 1);
  }

  at(index: number): Request | undefined {
    return index >= 0 ? this.rqs[index] : undefined;
  }

  /** elv_rb_find: a request starting exactly at `sector` (the leftmost of equals). */
  find(sector: number): Request | undefined {
    const i = this.lowerBound(sector);
    return this.keys[i] === sector ? this.rqs[i] : undefined;
  }
}

/** A list_head FIFO threaded through DdNode.fifoPrev/fifoNext. */
class Fifo {
  head: Request | undefined = undefined;
  tail: Request | undefined = undefined;
  size = 0;
}

/**
 * Creates one mq-deadline instance for a request queue. The merge lookups of block/elevator.c (the
 * end-sector request hash, the q->last_merge one-hit cache, elv_attempt_insert_merge) live here
 * because their outcome depends on the scheduler's lists; the host does the bio/request arithmetic
 * and fires the tracepoints.
 *
 * SIMPLIFICATION: no I/O priority classes (v5.14+ keeps per-class lists and prio_aging_expire);
 * every request is best-effort, which is exactly the DD_BE_PRIO path of v5.14..v6.2.
 * The batch continues from latest_pos[dir] (v6.3+): each dispatch looks up the first request at or
 * above where the last one of that direction started, so requests inserted while the disk was busy are
 * served in sector order from the head's position (the seed's "2, 3, 1"), and a direction switch
 * resumes where that direction left off.
 * SIMPLIFICATION: no zoned-write locking, no async_depth (a tag-allocation limit, not a dispatch
 * rule), no dispatch statistics, and no spin_trylock skip of a bio merge under contention.
 */
export function createMqDeadline(
  host: ElevatorHost,
  tunables?: Partial<DeadlineTunables>,
): ElevatorMqOps {
  const cfg: DeadlineTunables = { ...DEADLINE_DEFAULTS, ...tunables };
  for (const [name, v] of [
    ['readExpireNs', cfg.readExpireNs],
    ['writeExpireNs', cfg.writeExpireNs],
    ['fifoBatch', cfg.fifoBatch],
  ] as const) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`mq-deadline: ${name} must be >= 0, got ${v}`);
  }
  if (!Number.isInteger(cfg.writesStarved)) {
    throw new RangeError(`mq-deadline: writesStarved must be an integer, got ${cfg.writesStarved}`);
  }
  const fifoExpireNs: readonly [number, number] = [cfg.readExpireNs, cfg.writeExpireNs];

  const owner = {};
  const sortList: readonly [SortList, SortList] = [new SortList(), new SortList()];
  const fifoList: readonly [Fifo, Fifo] = [new Fifo(), new Fifo()];
  /** dd->dispatch: at-head inserts, served before anything else. */
  const dispatchList: Request[] = [];
  /** per_prio->latest_pos[]: the start sector of the last request dispatched in each direction. */
  const latestPos: [number, number] = [0, 0];
  /** dd->last_dir: the direction of the running batch (DD_WRITE at init, as dd_init_sched sets it). */
  let lastDir: DdDir = DD_WRITE;
  let batching = 0;
  let starved = 0;
  /** q->elevator->hash: end sector -> requests, most recently hashed last. */
  const hash = new Map<number, Request[]>();
  /** q->last_merge: one-hit merge cache. */
  let lastMerge: Request | undefined;

  function nodeOf(rq: Request): DdNode | undefined {
    const n = rq.elvPriv;
    return n instanceof DdNode && n.owner === owner ? n : undefined;
  }

  function sortedNode(rq: Request): DdNode {
    const n = nodeOf(rq);
    bugOn(n === undefined || n.where !== Where.SORTED, 'mq-deadline: request not on the sort list');
    return n!;
  }

  // ---- request hash (block/elevator.c: elv_rqhash_*) ----

  function hashAdd(rq: Request, n: DdNode): void {
    const key = rq.sector + rq.nrSectors;
    n.hashKey = key;
    const bucket = hash.get(key);
    if (bucket) bucket.push(rq);
    else hash.set(key, [rq]);
  }

  function hashDel(rq: Request, n: DdNode): void {
    if (n.hashKey < 0) return;
    const bucket = hash.get(n.hashKey);
    if (bucket) {
      const i = bucket.lastIndexOf(rq);
      if (i >= 0) bucket.splice(i, 1);
      if (bucket.length === 0) hash.delete(n.hashKey);
    }
    n.hashKey = -1;
  }

  /** elv_rqhash_reposition */
  function hashReposition(rq: Request): void {
    const n = nodeOf(rq);
    if (n === undefined || n.hashKey < 0) return;
    hashDel(rq, n);
    hashAdd(rq, n);
  }

  /** elv_rqhash_find: the most recently hashed request ending at `sector`. */
  function hashFind(sector: number): Request | undefined {
    const bucket = hash.get(sector);
    return bucket === undefined ? undefined : bucket[bucket.length - 1];
  }

  // ---- sort list (rb-tree) helpers ----

  function sortIndex(rq: Request, n: DdNode): number {
    const i = sortList[n.dir].indexOf(rq, n.sortKey);
    bugOn(i < 0, 'mq-deadline: request missing from its sort list');
    return i;
  }

  /** elv_rb_latter_request */
  function latterRequest(rq: Request): Request | undefined {
    const n = sortedNode(rq);
    return sortList[n.dir].at(sortIndex(rq, n) + 1);
  }

  /** elv_rb_former_request */
  function formerRequest(rq: Request): Request | undefined {
    const n = sortedNode(rq);
    return sortList[n.dir].at(sortIndex(rq, n) - 1);
  }

  /** deadline_add_rq_rb */
  function addRqRb(rq: Request, n: DdNode): void {
    n.sortKey = rq.sector;
    sortList[n.dir].add(rq, n.sortKey);
  }

  /** elv_rb_del (used by dd_request_merged's reposition). */
  function rbDel(rq: Request, n: DdNode): void {
    sortList[n.dir].remove(sortIndex(rq, n));
  }

  /** deadline_del_rq_rb */
  function delRqRb(rq: Request, n: DdNode): void {
    rbDel(rq, n);
  }

  // ---- FIFO (list_head) helpers ----

  function fifoAddTail(rq: Request, n: DdNode): void {
    const f = fifoList[n.dir];
    n.fifoPrev = f.tail;
    n.fifoNext = undefined;
    if (f.tail) nodeOf(f.tail)!.fifoNext = rq;
    else f.head = rq;
    f.tail = rq;
    f.size++;
  }

  function fifoUnlink(rq: Request, n: DdNode): void {
    const f = fifoList[n.dir];
    if (n.fifoPrev) nodeOf(n.fifoPrev)!.fifoNext = n.fifoNext;
    else f.head = n.fifoNext;
    if (n.fifoNext) nodeOf(n.fifoNext)!.fifoPrev = n.fifoPrev;
    else f.tail = n.fifoPrev;
    n.fifoPrev = undefined;
    n.fifoNext = undefined;
    f.size--;
  }

  /** list_move(&rq->queuelist, &after->queuelist): put rq right behind `after`. */
  function fifoMoveAfter(rq: Request, n: DdNode, after: Request): void {
    fifoUnlink(rq, n);
    const f = fifoList[n.dir];
    const an = nodeOf(after)!;
    n.fifoPrev = after;
    n.fifoNext = an.fifoNext;
    if (an.fifoNext) nodeOf(an.fifoNext)!.fifoPrev = rq;
    else f.tail = rq;
    an.fifoNext = rq;
    f.size++;
  }

  /** deadline_remove_request: off the sort list, the FIFO and the hash. */
  function removeRequest(rq: Request): void {
    const n = nodeOf(rq);
    if (n === undefined) return; // an insert-merge victim was never queued
    if (n.where === Where.SORTED) {
      fifoUnlink(rq, n);
      delRqRb(rq, n);
      hashDel(rq, n);
    }
    n.where = Where.NONE;
    if (lastMerge === rq) lastMerge = undefined;
    rq.elvPriv = undefined;
  }

  /** dd_merged_requests: `next` was merged into `rq`. */
  function mergedRequests(rq: Request, next: Request): void {
    const rn = nodeOf(rq);
    const nn = nodeOf(next);
    if (rn?.where === Where.SORTED && nn?.where === Where.SORTED) {
      // If next expires first, rq inherits next's deadline and FIFO position.
      if (next.fifoTimeNs < rq.fifoTimeNs) {
        fifoMoveAfter(rq, rn, next);
        rq.fifoTimeNs = next.fifoTimeNs;
      }
    }
    removeRequest(next);
  }

  /**
   * block/blk-merge.c: attempt_merge + elv_merge_requests. Merges `next` onto the end of `rq`.
   * Our structures are updated before the host merges (and frees) `next`.
   */
  function attemptMerge(rq: Request, next: Request): boolean {
    if (!rqMergeable(rq) || !rqMergeable(next)) return false;
    if (rq.op !== next.op) return false;
    if (rq.sector + rq.nrSectors !== next.sector) return false;
    if (!host.requestMergeOk(rq, next)) return false;
    mergedRequests(rq, next);
    host.mergeRequests(rq, next);
    hashReposition(rq);
    lastMerge = rq;
    return true;
  }

  /** elv_merge (block/elevator.c) with dd_request_merge as the elevator's request_merge. */
  function elvMerge(bio: Bio): { rq: Request; where: ElvMerge } | undefined {
    if (!bioMergeable(bio)) return undefined;
    // One-hit cache. Note: this can find a front merge even with front_merges=0, as in Linux.
    if (lastMerge !== undefined && bioMergeCandidateOk(lastMerge, bio)) {
      const where = tryMerge(lastMerge, bio);
      if (where !== ElvMerge.NO_MERGE) return { rq: lastMerge, where };
    }
    // Hash lookup for a back merge (one hash for both directions, as q->elevator->hash is).
    const back = hashFind(bio.sector);
    if (back !== undefined && bioMergeCandidateOk(back, bio)) {
      return { rq: back, where: ElvMerge.BACK_MERGE };
    }
    // dd_request_merge: front merge through the sort list of the bio's direction.
    if (!cfg.frontMerges) return undefined;
    const front = sortList[dataDir(bio.op)].find(bio.sector + bio.nrSectors);
    if (front !== undefined && bioMergeCandidateOk(front, bio)) {
      return { rq: front, where: ElvMerge.FRONT_MERGE };
    }
    return undefined;
  }

  /** dd_bio_merge -> blk_mq_sched_try_merge */
  function bioMerge(bio: Bio): boolean {
    const found = elvMerge(bio);
    if (found === undefined) return false;
    const { rq, where } = found;
    // bio_attempt_{back,front}_merge: the limits check; failure ends the attempt.
    if (!host.bioMergeOk(rq, bio, where)) return false;
    if (where === ElvMerge.BACK_MERGE) {
      host.mergeBio(rq, bio, where);
      // attempt_back_merge: can the next request in sort order now join rq?
      const next = latterRequest(rq);
      if (next !== undefined && attemptMerge(rq, next)) return true;
      // elv_merged_request(BACK): the end sector moved.
      hashReposition(rq);
      lastMerge = rq;
      return true;
    }
    host.mergeBio(rq, bio, where);
    // attempt_front_merge: can rq now join the previous request in sort order?
    const prev = formerRequest(rq);
    if (prev !== undefined && attemptMerge(prev, rq)) return true;
    // elv_merged_request(FRONT) -> dd_request_merged: the start sector moved; re-sort.
    const n = sortedNode(rq);
    rbDel(rq, n);
    addRqRb(rq, n);
    lastMerge = rq;
    return true;
  }

  /** elv_attempt_insert_merge (via blk_mq_sched_try_insert_merge). */
  function attemptInsertMerge(rq: Request): boolean {
    if (!rqMergeable(rq)) return false;
    if (lastMerge !== undefined && attemptMerge(lastMerge, rq)) return true;
    let merged = false;
    let cur = rq;
    for (;;) {
      const prev = hashFind(cur.sector);
      if (prev === undefined || !attemptMerge(prev, cur)) break;
      merged = true; // the grown request may now join the one before it
      cur = prev;
    }
    return merged;
  }

  /** dd_insert_request */
  function insertRequest(rq: Request, atHead: boolean): void {
    const dir = dataDir(rq.op);
    rq.elvPriv = undefined;
    // blk_mq_sched_try_insert_merge, tried before the at-head check as in Linux. A request merged
    // here is freed by host.mergeRequests (Linux skips trace_block_rq_insert for it).
    if (attemptInsertMerge(rq)) return;
    const n = new DdNode(owner, dir);
    rq.elvPriv = n;
    if (atHead) {
      // list_add: at the head, so a batch of at-head inserts is served in reverse order.
      n.where = Where.DISPATCH;
      dispatchList.unshift(rq);
      rq.fifoTimeNs = host.nowNs(); // v5.14+ stamps at-head requests with the insertion time
      return;
    }
    n.where = Where.SORTED;
    addRqRb(rq, n);
    if (rqMergeable(rq)) {
      hashAdd(rq, n);
      if (lastMerge === undefined) lastMerge = rq;
    }
    rq.fifoTimeNs = host.nowNs() + fifoExpireNs[dir];
    fifoAddTail(rq, n);
  }

  /** deadline_check_fifo: has the oldest request of `dir` reached its deadline? */
  function fifoExpired(dir: DdDir): boolean {
    const head = fifoList[dir].head;
    return head !== undefined && host.nowNs() >= head.fifoTimeNs;
  }

  /** deadline_move_request: take rq off the lists. */
  function moveRequest(rq: Request): void {
    removeRequest(rq);
  }

  /** __dd_dispatch_request */
  function dispatchRequest(): Request | undefined {
    const atHead = dispatchList.shift();
    if (atHead !== undefined) {
      const n = nodeOf(atHead);
      if (n) n.where = Where.NONE;
      atHead.elvPriv = undefined;
      // dd_start_request: the next batch looks up its successor from here
      latestPos[dataDir(atHead.op)] = atHead.sector;
      return atHead;
    }

    // Batches are reads XOR writes: continue the running one from where its direction left off.
    let rq = sortList[lastDir].fromPos(latestPos[lastDir]);
    if (rq === undefined || batching >= cfg.fifoBatch) {
      // Not running a batch: choose a direction.
      let dir: DdDir;
      if (fifoList[DD_READ].size > 0) {
        bugOn(sortList[DD_READ].size === 0, 'mq-deadline: reads on the FIFO but not sorted');
        // dd->starved++ >= dd->writes_starved, evaluated only when writes are waiting.
        if (fifoList[DD_WRITE].size > 0 && starved++ >= cfg.writesStarved) {
          dir = DD_WRITE;
          starved = 0;
        } else {
          dir = DD_READ;
        }
      } else if (fifoList[DD_WRITE].size > 0) {
        bugOn(sortList[DD_WRITE].size === 0, 'mq-deadline: writes on the FIFO but not sorted');
        starved = 0;
        dir = DD_WRITE;
      } else {
        return undefined;
      }
      const next = sortList[dir].fromPos(latestPos[dir]);
      // An expired deadline or nothing higher: restart at the FIFO head.
      rq = fifoExpired(dir) || next === undefined ? fifoList[dir].head : next;
      if (rq === undefined) return undefined;
      lastDir = dir;
      batching = 0;
    }
    batching++;
    // dd_start_request: where the next batch's successor is looked up from
    latestPos[dataDir(rq.op)] = rq.sector;
    moveRequest(rq);
    return rq;
  }

  return {
    name: 'mq-deadline',
    costNs: ELEVATOR_DEADLINE_NS,
    bioMerge,
    insertRequests(rqs: readonly Request[], atHead: boolean): void {
      for (const rq of rqs) insertRequest(rq, atHead);
    },
    dispatchRequest,
    hasWork(): boolean {
      return dispatchList.length > 0 || fifoList[DD_READ].size > 0 || fifoList[DD_WRITE].size > 0;
    },
    completedRequest(): void {
      // dd_finish_request only does zoned-write unlocking and statistics (not modelled).
    },
    nextWakeNs(): number {
      return Infinity; // mq-deadline never holds a request back
    },
    exit(): Request[] {
      const out = dispatchList.splice(0);
      for (const dir of [DD_READ, DD_WRITE] as const) {
        for (let rq = fifoList[dir].head; rq !== undefined; rq = fifoList[dir].head) {
          removeRequest(rq);
          out.push(rq);
        }
      }
      for (const rq of out) rq.elvPriv = undefined;
      return out;
    },
  };
}
