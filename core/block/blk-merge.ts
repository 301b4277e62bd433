// Models: block/blk-merge.c: whether a bio may join a request (back/front merge), whether two
// requests may merge, and how many physical segments a request's memory forms.

import type { Bio } from './blk_types.js';
import { ReqFlag } from './blk_types.js';
import { ElvMerge, type QueueLimits, type Request } from './blkdev.js';

const NOMERGE_FLAGS = ReqFlag.NOMERGE | ReqFlag.PREFLUSH | ReqFlag.FUA;
/** BLK_MAX_SEGMENT_SIZE: 64 KiB per physical segment. */
const MAX_SEGMENT_BYTES = 65536;

/** Physical segments of a list of bios: adjacent pages merge into one segment up to 64 KiB. */
export function countPhysSegments(bios: readonly Bio[]): number {
  let n = 0;
  let endAddr = -1;
  let segBytes = 0;
  for (const bio of bios) {
    for (const v of bio.vecs) {
      const addr = v.pfn * 4096 + v.offsetBytes;
      if (addr === endAddr && segBytes + v.lenBytes <= MAX_SEGMENT_BYTES) {
        segBytes += v.lenBytes;
      } else {
        n++;
        segBytes = v.lenBytes;
      }
      endAddr = addr + v.lenBytes;
    }
  }
  return n;
}

/** blk_rq_merge_ok + ll_back/front_merge_fn: same op, mergeable flags, within limits. */
export function bioMergeOk(limits: QueueLimits, rq: Request, bio: Bio, where: ElvMerge): boolean {
  if (rq.op !== bio.op) return false;
  if ((rq.cmdFlags | bio.flags) & NOMERGE_FLAGS) return false;
  if (rq.nrSectors + bio.nrSectors > limits.maxSectors) return false;
  if (rq.nrPhysSegments + countPhysSegments([bio]) > limits.maxSegments) return false;
  if (where === ElvMerge.BACK_MERGE) return rq.sector + rq.nrSectors === bio.sector;
  if (where === ElvMerge.FRONT_MERGE) return bio.sector + bio.nrSectors === rq.sector;
  return false;
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
  rq.nrPhysSegments = countPhysSegments(rq.bios);
}

/** attempt_merge's checks: `next` directly follows `rq` and the result fits. */
export function requestMergeOk(limits: QueueLimits, rq: Request, next: Request): boolean {
  if (rq.op !== next.op) return false;
  if ((rq.cmdFlags | next.cmdFlags) & NOMERGE_FLAGS) return false;
  if (rq.sector + rq.nrSectors !== next.sector) return false;
  if (rq.nrSectors + next.nrSectors > limits.maxSectors) return false;
  if (rq.nrPhysSegments + next.nrPhysSegments > limits.maxSegments) return false;
  return true;
}

export function applyRequestMerge(rq: Request, next: Request): void {
  for (const b of next.bios) rq.bios.push(b);
  rq.nrSectors += next.nrSectors;
  rq.nrPhysSegments = countPhysSegments(rq.bios);
  if (next.fifoTimeNs < rq.fifoTimeNs) rq.fifoTimeNs = next.fifoTimeNs;
}
