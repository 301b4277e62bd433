// Models: block/blk-merge.c: whether a bio may join a request (back/front merge), whether two
// requests may merge, and the physical-segment accounting: a bio's segments are its runs of
// contiguous memory; merging adds the counts (ll_new_hw_segment, ll_merge_requests_fn) and only
// the DMA mapping later coalesces across bio boundaries.

import type { Bio } from './blk_types.js';
import { REQ_NOMERGE_FLAGS, ReqOp } from './blk_types.js';
import { ElvMerge, type QueueLimits, type Request } from './blkdev.js';


/** rq_mergeable (include/linux/blkdev.h) */
export function rqMergeable(rq: Request): boolean {
  if (rq.op !== ReqOp.READ && rq.op !== ReqOp.WRITE) return false;
  return (rq.cmdFlags & REQ_NOMERGE_FLAGS) === 0;
}

/** bio_mergeable (include/linux/bio.h) */
export function bioMergeable(bio: Bio): boolean {
  return (bio.flags & REQ_NOMERGE_FLAGS) === 0;
}

/** elv_bio_merge_ok -> blk_rq_merge_ok, the checks that do not involve the queue limits. */
export function bioMergeCandidateOk(rq: Request, bio: Bio): boolean {
  return rqMergeable(rq) && bio.op === rq.op && rq.bios[0]?.writeHint === bio.writeHint;
}

/** blk_try_merge: where `bio` would join `rq`, by position only. */
export function tryMerge(rq: Request, bio: Bio): ElvMerge {
  if (rq.sector + rq.nrSectors === bio.sector) return ElvMerge.BACK_MERGE;
  if (rq.sector - bio.nrSectors === bio.sector) return ElvMerge.FRONT_MERGE;
  return ElvMerge.NO_MERGE;
}

/** BLK_MAX_SEGMENT_SIZE: 64 KiB per physical segment. */
export const MAX_SEGMENT_BYTES = 65536;

/**
 * Walks the physical segments of a list of bios: memory that continues the previous vector joins
 * its segment, up to 64 KiB. Calls `onSegment(busAddr, lenBytes)` per segment; returns the count.
 * Shared by segment counting and by dma_map_sg.
 */
export function forEachPhysSegment<T>(bios: readonly Bio[], onSegment?: (arg: T, addr: number, lenBytes: number) => void, arg?: T): number {
  let n = 0;
  let segAddr = -1;
  let segBytes = 0;
  for (const bio of bios) {
    for (const v of bio.vecs) {
      const addr = v.pfn * 4096 + v.offsetBytes;
      if (segAddr >= 0 && addr === segAddr + segBytes && segBytes + v.lenBytes <= MAX_SEGMENT_BYTES) {
        segBytes += v.lenBytes;
      } else {
        if (segAddr >= 0 && onSegment) onSegment(arg!, segAddr, segBytes);
        n++;
        segAddr = addr;
        segBytes = v.lenBytes;
      }
    }
  }
  if (segAddr >= 0 && onSegment) onSegment(arg!, segAddr, segBytes);
  return n;
}

/** Physical segments of a list of bios (bio_split_rw's count for one bio). */
export function countPhysSegments(bios: readonly Bio[]): number {
  return forEachPhysSegment(bios);
}

const oneBio: Bio[] = [];
/** Segments of one bio, without allocating. */
export function bioPhysSegments(bio: Bio): number {
  oneBio[0] = bio;
  const n = forEachPhysSegment(oneBio);
  oneBio.length = 0;
  return n;
}

/** blk_rq_merge_ok + ll_back/front_merge_fn: same op, mergeable flags, within limits. */
export function bioMergeOk(limits: QueueLimits, rq: Request, bio: Bio, where: ElvMerge): boolean {
  if (rq.op !== bio.op) return false;
  if ((rq.cmdFlags | bio.flags) & REQ_NOMERGE_FLAGS) return false;
  // blk_rq_merge_ok: data of different lifetimes stays in different requests (and device streams)
  if (rq.bios[0]?.writeHint !== bio.writeHint) return false;
  if (rq.nrSectors + bio.nrSectors > limits.maxSectors) return false;
  // adjacency first: it is what rules out almost every random I/O, and costs no segment walk
  if (where === ElvMerge.BACK_MERGE ? rq.sector + rq.nrSectors !== bio.sector : where !== ElvMerge.FRONT_MERGE || bio.sector + bio.nrSectors !== rq.sector) return false;
  return rq.nrPhysSegments + bioPhysSegments(bio) <= limits.maxSegments;
}

/** Applies a bio merge to the request (bio_attempt_back_merge / bio_attempt_front_merge). */
export function applyBioMerge(rq: Request, bio: Bio, where: ElvMerge): void {
  if (where === ElvMerge.BACK_MERGE) {
    rq.bios.push(bio);
  } else {
    rq.bios.unshift(bio);
    rq.sector = bio.sector;
  }
  rq.nrSectors += bio.nrSectors;
  rq.nrPhysSegments += bioPhysSegments(bio);
}

/** attempt_merge's checks: `next` directly follows `rq` and the result fits. */
export function requestMergeOk(limits: QueueLimits, rq: Request, next: Request): boolean {
  if (rq.op !== next.op) return false;
  if ((rq.cmdFlags | next.cmdFlags) & REQ_NOMERGE_FLAGS) return false;
  if (rq.sector + rq.nrSectors !== next.sector) return false;
  if (rq.bios[0]?.writeHint !== next.bios[0]?.writeHint) return false;
  if (rq.nrSectors + next.nrSectors > limits.maxSectors) return false;
  if (rq.nrPhysSegments + next.nrPhysSegments > limits.maxSegments) return false;
  return true;
}

export function applyRequestMerge(rq: Request, next: Request): void {
  for (const b of next.bios) rq.bios.push(b);
  rq.nrSectors += next.nrSectors;
  rq.nrPhysSegments += next.nrPhysSegments;
  // attempt_merge keeps the older start time; FIFO deadlines are the elevator's business
  if (next.startTimeNs < rq.startTimeNs) rq.startTimeNs = next.startTimeNs;
}
