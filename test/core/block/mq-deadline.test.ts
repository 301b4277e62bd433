// Tests for core/block/mq-deadline.ts: dispatch order (C-SCAN batches from latest_pos, read preference,
// writes_starved, fifo_batch, expiry, at-head) and the merge paths, table-driven against a fake host.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { createMqDeadline, DEADLINE_DEFAULTS } from '../../../core/block/mq-deadline.js';
import type { DeadlineTunables } from '../../../core/block/mq-deadline.js';
import { ElvMerge } from '../../../core/block/blkdev.js';
import type { ElevatorHost, ElevatorMqOps, QueueLimits, Request } from '../../../core/block/blkdev.js';
import { BlkStatus, ReqOp } from '../../../core/block/blk_types.js';
import type { Bio } from '../../../core/block/blk_types.js';

const MS = 1_000_000;

type Op = 'R' | 'W';

function reqOp(op: Op): ReqOp {
  return op === 'R' ? ReqOp.READ : ReqOp.WRITE;
}

let nextKaddr = 0x1000;

function makeBio(op: Op, sector: number, nrSectors: number, segs = 1): Bio {
  const vecs = [];
  for (let i = 0; i < segs; i++) vecs.push({ pfn: 100 + i, offsetBytes: 0, lenBytes: 512 });
  return {
    kaddr: nextKaddr++,
    ioId: nextKaddr,
    op: reqOp(op),
    flags: 0,
    dev: (8 << 20) | 0,
    sector,
    nrSectors,
    vecs,
    status: BlkStatus.OK,
    submitterPid: 42,
    submitterComm: 'fio',
    blkcg: undefined,
    writeHint: 0,
    endIo: undefined,
    private_: undefined,
  };
}

/** A request whose tag is its test id. */
function makeRq(id: number, op: Op, sector: number, nrSectors: number, segs = 1): Request {
  return {
    kaddr: 0x10000 + id * 0x100,
    tag: id,
    hwq: 0,
    op: reqOp(op),
    cmdFlags: 0,
    sector,
    nrSectors,
    bios: [makeBio(op, sector, nrSectors, segs)],
    startTimeNs: 0,
    ioStartTimeNs: 0,
    fifoTimeNs: 0,
    elvPriv: undefined,
    nrPhysSegments: segs,
    submitterPid: 42,
    submitterComm: 'fio',
  };
}

interface FakeHost {
  readonly host: ElevatorHost;
  clockNs: number;
  /** Merge notifications in order: "bio <tag> back|front" and "rq <tag><<tag>". */
  readonly calls: string[];
}

/** A host doing the real sector arithmetic with max_sectors 2560 and max_segments 128. */
function makeHost(): FakeHost {
  const limits: QueueLimits = { maxSectors: 2560, maxSegments: 128, logicalBlockSizeBytes: 512 };
  const fake: FakeHost = {
    clockNs: 0,
    calls: [],
    host: {
      nowNs: () => fake.clockNs,
      limits,
      bioMergeOk(rq: Request, bio: Bio, where: ElvMerge): boolean {
        if (rq.op !== bio.op) return false;
        if (where === ElvMerge.BACK_MERGE && rq.sector + rq.nrSectors !== bio.sector) return false;
        if (where === ElvMerge.FRONT_MERGE && bio.sector + bio.nrSectors !== rq.sector) return false;
        if (rq.nrSectors + bio.nrSectors > limits.maxSectors) return false;
        return rq.nrPhysSegments + bio.vecs.length <= limits.maxSegments;
      },
      mergeBio(rq: Request, bio: Bio, where: ElvMerge): void {
        if (where === ElvMerge.FRONT_MERGE) {
          rq.sector = bio.sector;
          rq.bios.unshift(bio);
        } else {
          rq.bios.push(bio);
        }
        rq.nrSectors += bio.nrSectors;
        rq.nrPhysSegments += bio.vecs.length;
        fake.calls.push(`bio ${rq.tag} ${where === ElvMerge.FRONT_MERGE ? 'front' : 'back'}`);
      },
      requestMergeOk(rq: Request, next: Request): boolean {
        if (rq.op !== next.op || rq.sector + rq.nrSectors !== next.sector) return false;
        if (rq.nrSectors + next.nrSectors > limits.maxSectors) return false;
        return rq.nrPhysSegments + next.nrPhysSegments <= limits.maxSegments;
      },
      mergeRequests(rq: Request, next: Request): void {
        rq.nrSectors += next.nrSectors;
        rq.nrPhysSegments += next.nrPhysSegments;
        rq.bios.push(...next.bios);
        if (next.startTimeNs < rq.startTimeNs) rq.startTimeNs = next.startTimeNs;
        next.bios = [];
        next.nrSectors = 0;
        fake.calls.push(`rq ${rq.tag}<${next.tag}`);
      },
      dev: 8 << 20,
      rotational: true,
      armTimer(): void {},
      runQueues(): void {},
      ioContext: (rq: Request) => ({ pid: rq.submitterPid, ioprio: 4, cgroup: '', cgroupWeight: 100 }),
      elvTrace: { kyberLatency() {}, kyberAdjust() {}, kyberThrottled() {}, bfqExpire() {}, bfqWeightRaise() {} },
    },
  };
  return fake;
}

/** [id, op, sector, nrSectors, segments?] */
type RqSpec = readonly [number, Op, number, number, number?];

type Step =
  /** Set the clock to this many ms. */
  | { readonly atMs: number }
  | { readonly ins: readonly RqSpec[]; readonly head?: boolean }
  /** Submit a bio; `merged` is what bioMerge must return. */
  | { readonly bio: readonly [Op, number, number, number?]; readonly merged: boolean }
  /** Dispatch this many requests (each must exist). */
  | { readonly dispatch: number };

interface Row {
  readonly name: string;
  readonly tunables?: Partial<DeadlineTunables>;
  readonly steps: readonly Step[];
  /** Ids in dispatch order, including the final drain. */
  readonly order: readonly number[];
  /** Exact merge notifications (default: none). */
  readonly calls?: readonly string[];
  /** [id, sector, nrSectors] of dispatched requests. */
  readonly shapes?: readonly (readonly [number, number, number])[];
  /** [id, fifo deadline in ms] of dispatched requests. */
  readonly fifoMs?: readonly (readonly [number, number])[];
}

function range(from: number, toInclusive: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= toInclusive; i++) out.push(i);
  return out;
}

/** `count` requests with ids from `firstId`, sectors from `firstSector` with gaps (no adjacency). */
function spread(firstId: number, count: number, op: Op, firstSector: number): RqSpec[] {
  return range(0, count - 1).map((i): RqSpec => [firstId + i, op, firstSector + 16 * i, 8]);
}

/**
 * A write and then a read dispatched before the row's requests, far above them: the queue has been
 * running (last_dir READ, both latest_pos past everything), so the row's first dispatch in either
 * direction starts a new batch at the FIFO head, as it would after a batch that ran out of higher
 * sectors. (A fresh queue has latest_pos 0 and last_dir WRITE: see the rows without it.)
 */
const WARM: readonly Step[] = [{ ins: [[998, 'W', 1e9, 8], [999, 'R', 1e9, 8]] }, { dispatch: 2 }];

interface Outcome {
  order: number[];
  calls: string[];
  shapes: Map<number, readonly [number, number]>;
  fifoMs: Map<number, number>;
  elv: ElevatorMqOps;
}

function run(row: Row): Outcome {
  const fake = makeHost();
  const elv = createMqDeadline(fake.host, row.tunables);
  const order: number[] = [];
  const shapes = new Map<number, readonly [number, number]>();
  const fifoMs = new Map<number, number>();
  const take = (): boolean => {
    const rq = elv.dispatchRequest();
    if (rq === undefined) return false;
    order.push(rq.tag);
    shapes.set(rq.tag, [rq.sector, rq.nrSectors]);
    fifoMs.set(rq.tag, rq.fifoTimeNs / MS);
    return true;
  };
  for (const step of row.steps) {
    if ('atMs' in step) {
      fake.clockNs = step.atMs * MS;
    } else if ('ins' in step) {
      const rqs = step.ins.map(([id, op, sector, nr, segs]) => makeRq(id, op, sector, nr, segs));
      elv.insertRequests(rqs, step.head ?? false);
    } else if ('bio' in step) {
      const [op, sector, nr, segs] = step.bio;
      assert.equal(elv.bioMerge(makeBio(op, sector, nr, segs)), step.merged, `bio ${op}@${sector}+${nr}`);
    } else {
      for (let i = 0; i < step.dispatch; i++) assert.ok(take(), `dispatch step ran dry after ${order.length}`);
    }
  }
  let guard = 0;
  while (take()) assert.ok(++guard < 100_000, 'dispatch never ran dry');
  return { order, calls: fake.calls, shapes, fifoMs, elv };
}

// ---------------------------------------------------------------------------------------------

const dispatchRows: Row[] = [
  {
    name: 'sector order within a batch, starting from the FIFO head',
    steps: [
      ...WARM,{ ins: [[1, 'R', 100, 8], [2, 'R', 400, 8], [3, 'R', 200, 8], [4, 'R', 300, 8], [5, 'R', 50, 8]] }],
    // 100 (FIFO head), then one-way upward 200, 300, 400, then wrap: FIFO head again (50).
    order: [998, 999, 1, 3, 4, 2, 5],
  },
  {
    name: 'wrap restarts at the FIFO head, not at the lowest sector',
    steps: [
      ...WARM,{ ins: [[1, 'R', 100, 8], [2, 'R', 30, 8], [3, 'R', 10, 8]] }],
    order: [998, 999, 1, 2, 3],
  },
  {
    name: 'reads are preferred over older writes',
    steps: [
      ...WARM,{ ins: [[1, 'W', 0, 8], [2, 'W', 64, 8]] }, { atMs: 1 }, { ins: [[3, 'R', 1000, 8]] }],
    order: [998, 999, 3, 1, 2],
  },
  {
    name: 'writes_starved=2: a waiting write goes after two read batches',
    steps: [
      ...WARM,{ ins: [[1, 'W', 1000, 8], [2, 'R', 100, 8], [3, 'R', 50, 8], [4, 'R', 10, 8]] }],
    order: [998, 999, 2, 3, 1, 4],
  },
  {
    name: 'writes_starved=1: after one read batch',
    tunables: { writesStarved: 1 },
    steps: [
      ...WARM,{ ins: [[1, 'W', 1000, 8], [2, 'R', 100, 8], [3, 'R', 50, 8], [4, 'R', 10, 8]] }],
    order: [998, 999, 2, 1, 3, 4],
  },
  {
    name: 'writes_starved=0: writes first',
    tunables: { writesStarved: 0 },
    steps: [
      ...WARM,{ ins: [[1, 'W', 1000, 8], [2, 'R', 100, 8], [3, 'R', 50, 8], [4, 'R', 10, 8]] }],
    order: [998, 999, 1, 2, 3, 4],
  },
  {
    name: 'fifo_batch=16 ends a read batch and the direction is chosen again (writes_starved=1)',
    tunables: { writesStarved: 1 },
    steps: [
      ...WARM,{ ins: [[100, 'W', 100_000, 8], ...spread(0, 20, 'R', 1000)] }],
    order: [998, 999, ...range(0, 15), 100, ...range(16, 19)],
  },
  {
    name: 'fifo_batch=4 (tunable) cuts the batch after 4',
    tunables: { writesStarved: 1, fifoBatch: 4 },
    steps: [
      ...WARM,{ ins: [[100, 'W', 100_000, 8], ...spread(0, 20, 'R', 1000)] }],
    order: [998, 999, 0, 1, 2, 3, 100, ...range(4, 19)],
  },
  {
    name: 'defaults: the re-evaluation after 16 reads still picks reads (starved 1 < 2)',
    steps: [
      ...WARM,{ ins: [[100, 'W', 100_000, 8], ...spread(0, 20, 'R', 1000)] }],
    order: [998, 999, ...range(0, 19), 100],
  },
  {
    name: 'expired read FIFO head (>500 ms) is served at the next batch start, before the sort-order successor',
    steps: [
      ...WARM,
      { ins: [[1, 'R', 1000, 8]] },
      { atMs: 10 },
      { ins: [[2, 'R', 10, 8]] },
      { atMs: 20 },
      { ins: spread(3, 20, 'R', 1016) },
      { dispatch: 16 },
      { atMs: 600 },
    ],
    order: [998, 999, 1, ...range(3, 17), 2, ...range(18, 22)],
  },
  {
    name: 'read deadline is inclusive (now == fifo_time counts as expired)',
    steps: [
      ...WARM,
      { ins: [[1, 'R', 1000, 8]] },
      { atMs: 10 },
      { ins: [[2, 'R', 10, 8]] },
      { atMs: 20 },
      { ins: spread(3, 20, 'R', 1016) },
      { dispatch: 16 },
      { atMs: 510 },
    ],
    order: [998, 999, 1, ...range(3, 17), 2, ...range(18, 22)],
  },
  {
    name: 'unexpired read FIFO head waits: the batch continues in sector order, then wraps',
    steps: [
      ...WARM,
      { ins: [[1, 'R', 1000, 8]] },
      { atMs: 10 },
      { ins: [[2, 'R', 10, 8]] },
      { atMs: 20 },
      { ins: spread(3, 20, 'R', 1016) },
      { dispatch: 16 },
      { atMs: 509 },
    ],
    order: [998, 999, 1, ...range(3, 22), 2],
  },
  {
    name: 'writes do not expire after 500 ms',
    steps: [
      ...WARM,
      { ins: [[1, 'W', 1000, 8]] },
      { atMs: 10 },
      { ins: [[2, 'W', 10, 8]] },
      { atMs: 20 },
      { ins: spread(3, 20, 'W', 1016) },
      { dispatch: 16 },
      { atMs: 5009 },
    ],
    order: [998, 999, 1, ...range(3, 22), 2],
  },
  {
    name: 'write expiry at 5 s',
    steps: [
      ...WARM,
      { ins: [[1, 'W', 1000, 8]] },
      { atMs: 10 },
      { ins: [[2, 'W', 10, 8]] },
      { atMs: 20 },
      { ins: spread(3, 20, 'W', 1016) },
      { dispatch: 16 },
      { atMs: 5010 },
    ],
    order: [998, 999, 1, ...range(3, 17), 2, ...range(18, 22)],
    fifoMs: [[1, 5000], [2, 5010], [3, 5020]],
  },
  {
    name: 'at-head inserts go first, each one ahead of the previous (list_add)',
    steps: [
      { ins: [[1, 'R', 100, 8], [2, 'R', 200, 8]] },
      { atMs: 3 },
      { ins: [[3, 'W', 5000, 8], [4, 'R', 7000, 8]], head: true },
    ],
    order: [4, 3, 1, 2],
    fifoMs: [[4, 3], [3, 3], [1, 500]],
  },
  {
    name: 'after a write batch, reads resume where they left off (latest_pos), then wrap to the FIFO head',
    tunables: { writesStarved: 1, fifoBatch: 2 },
    steps: [
      ...WARM,{ ins: [[1, 'R', 100, 8], [2, 'R', 10, 8], [3, 'R', 200, 8], [4, 'R', 300, 8], [9, 'W', 90_000, 8]] }],
    // 100, 200 (batch of 2), the write, then 300 after the last read, then the FIFO head (10).
    order: [998, 999, 1, 3, 9, 4, 2],
  },
  {
    name: 'the batch successor is absorbed by a merge into a request below latest_pos: the batch goes on above it',
    steps: [
      ...WARM,
      { ins: [[1, 'R', 300, 8], [2, 'R', 292, 16], [3, 'R', 316, 8], [4, 'R', 500, 8]] },
      { dispatch: 1 },
      { bio: ['R', 308, 8], merged: true },
    ],
    // After #1 (300), #3 merged into #2, which starts at 292: the lookup from 300 finds #4, then wraps to #2.
    order: [998, 999, 1, 4, 2],
    calls: ['bio 2 back', 'rq 2<3'],
    shapes: [[2, 292, 32]],
  },
  {
    name: 'an at-head insert does not break the running batch',
    steps: [
      ...WARM,
      { ins: [[1, 'R', 100, 8], [2, 'R', 200, 8], [5, 'R', 50, 8]] },
      { dispatch: 1 },
      { ins: [[3, 'W', 5000, 8]], head: true },
    ],
    order: [998, 999, 1, 3, 2, 5],
  },
  {
    name: 'a fresh queue: last_dir WRITE and latest_pos 0, so a waiting write batch goes first, from the lowest sector',
    steps: [{ ins: [[1, 'W', 64, 8], [2, 'W', 0, 8], [3, 'R', 1000, 8]] }],
    order: [2, 1, 3],
  },
  {
    name: "the seed's example: the head near the beginning; reads for the end, the beginning and the middle go 2, 3, 1",
    steps: [{ ins: [[10, 'R', 0, 8]] }, { dispatch: 1 }, { ins: [[1, 'R', 2_000_000, 8], [2, 'R', 100, 8], [3, 'R', 1_000_000, 8]] }],
    order: [10, 2, 3, 1],
  },
  {
    name: 'a request inserted above the last position joins the running batch (looked up from latest_pos)',
    steps: [{ ins: [[1, 'R', 100, 8], [2, 'R', 300, 8]] }, { dispatch: 1 }, { ins: [[3, 'R', 200, 8]] }],
    order: [1, 3, 2],
  },
];

const mergeRows: Row[] = [
  {
    name: 'back merges found through the end-sector hash (re-keyed after each merge)',
    steps: [
      { ins: [[1, 'R', 100, 8], [2, 'R', 500, 8]] },
      { bio: ['R', 508, 8], merged: true },
      { bio: ['R', 108, 8], merged: true },
      { bio: ['R', 516, 8], merged: true },
    ],
    order: [1, 2],
    calls: ['bio 2 back', 'bio 1 back', 'bio 2 back'],
    shapes: [[1, 100, 16], [2, 500, 24]],
  },
  {
    name: 'front merge through the sort list, request re-sorted',
    steps: [
      { ins: [[1, 'R', 100, 8], [2, 'R', 500, 8]] },
      { bio: ['R', 492, 8], merged: true },
      { bio: ['R', 484, 8], merged: true },
      // Move last_merge to #1, then find #2 in the sort list by its new start (484).
      { bio: ['R', 108, 8], merged: true },
      { bio: ['R', 476, 8], merged: true },
    ],
    order: [1, 2],
    calls: ['bio 2 front', 'bio 2 front', 'bio 1 back', 'bio 2 front'],
    shapes: [[1, 100, 16], [2, 476, 32]],
  },
  {
    name: 'front_merges=0: no front merge through the sort list',
    tunables: { frontMerges: false },
    steps: [{ ins: [[1, 'R', 100, 8], [2, 'R', 500, 8]] }, { bio: ['R', 492, 8], merged: false }],
    order: [1, 2],
    shapes: [[2, 500, 8]],
  },
  {
    name: 'front_merges=0 still front-merges through the last_merge one-hit cache (as Linux)',
    tunables: { frontMerges: false },
    steps: [{ ins: [[1, 'R', 100, 8]] }, { bio: ['R', 92, 8], merged: true }],
    order: [1],
    calls: ['bio 1 front'],
    shapes: [[1, 92, 16]],
  },
  {
    name: 'back merge then the next request merges in (block_rq_merge); FIFO deadline and slot inherited',
    steps: [
      ...WARM,
      { ins: [[9, 'W', 90_000, 8]] },
      { atMs: 10 },
      { ins: [[2, 'R', 116, 8]] },
      { atMs: 50 },
      { ins: [[3, 'R', 5000, 8]] },
      { atMs: 100 },
      { ins: [[1, 'R', 100, 8]] },
      { bio: ['R', 108, 8], merged: true },
      // Move last_merge to #3, then find #1 by its re-hashed end sector (124).
      { bio: ['R', 5008, 8], merged: true },
      { bio: ['R', 124, 8], merged: true },
    ],
    // #1 takes #2's place at the head of the read FIFO, so it goes before #3.
    order: [998, 999, 1, 3, 9],
    calls: ['bio 1 back', 'rq 1<2', 'bio 3 back', 'bio 1 back'],
    shapes: [[1, 100, 32], [3, 5000, 16]],
    fifoMs: [[1, 510], [3, 550]],
  },
  {
    name: 'front merge then merge into the previous request',
    steps: [
      { ins: [[2, 'R', 116, 8]] },
      { atMs: 100 },
      { ins: [[1, 'R', 100, 8]] },
      { bio: ['R', 108, 8], merged: true },
    ],
    order: [1],
    calls: ['bio 2 front', 'rq 1<2'],
    shapes: [[1, 100, 24]],
    fifoMs: [[1, 500]],
  },
  {
    name: 'no merge across directions',
    steps: [
      { ins: [[1, 'W', 100, 8]] },
      { bio: ['R', 108, 8], merged: false },
      { bio: ['R', 92, 8], merged: false },
      { bio: ['W', 108, 8], merged: true },
    ],
    order: [1],
    calls: ['bio 1 back'],
    shapes: [[1, 100, 16]],
  },
  {
    name: 'the hash returns the newest request ending at a sector (a write here), hiding the read',
    steps: [
      ...WARM,{ ins: [[9, 'W', 90_000, 8], [1, 'R', 100, 8], [5, 'W', 60, 48]] }, { bio: ['R', 108, 8], merged: false }],
    order: [998, 999, 1, 9, 5],
  },
  {
    name: 'bio merge refused past max_sectors (2560), accepted exactly at it',
    steps: [
      { ins: [[1, 'R', 0, 2552]] },
      { bio: ['R', 2552, 16], merged: false },
      { bio: ['R', 2552, 8], merged: true },
    ],
    order: [1],
    calls: ['bio 1 back'],
    shapes: [[1, 0, 2560]],
  },
  {
    name: 'bio merge refused past max_segments (128)',
    steps: [{ ins: [[1, 'R', 0, 8, 128]] }, { bio: ['R', 8, 8], merged: false }],
    order: [1],
    shapes: [[1, 0, 8]],
  },
  {
    name: 'back merge succeeds but the follow-up request merge would exceed max_sectors',
    steps: [{ ins: [[1, 'R', 0, 2544], [2, 'R', 2552, 16]] }, { bio: ['R', 2544, 8], merged: true }],
    order: [1, 2],
    calls: ['bio 1 back'],
    shapes: [[1, 0, 2552], [2, 2552, 16]],
  },
  {
    name: 'follow-up request merge exactly at max_sectors',
    steps: [{ ins: [[1, 'R', 0, 2544], [2, 'R', 2552, 8]] }, { bio: ['R', 2544, 8], merged: true }],
    order: [1],
    calls: ['bio 1 back', 'rq 1<2'],
    shapes: [[1, 0, 2560]],
  },
  {
    name: 'insert merge into the last_merge request (elv_attempt_insert_merge)',
    steps: [{ ins: [[1, 'R', 100, 8], [3, 'R', 116, 8]] }, { ins: [[2, 'R', 108, 8]] }],
    order: [1, 3],
    calls: ['rq 1<2'],
    shapes: [[1, 100, 16], [3, 116, 8]],
  },
  {
    name: 'insert merge tries last_merge before the hash (whose newest entry here is a write)',
    steps: [
      ...WARM,{ ins: [[1, 'R', 100, 8], [5, 'W', 60, 48]] }, { ins: [[2, 'R', 108, 8]] }],
    order: [998, 999, 1, 5],
    calls: ['rq 1<2'],
    shapes: [[1, 100, 16]],
  },
  {
    name: 'insert merge through the hash, chaining backwards',
    steps: [
      ...WARM,
      { ins: [[9, 'W', 90_000, 8], [1, 'R', 100, 8], [0, 'R', 92, 8]] },
      { ins: [[2, 'R', 108, 8]] },
    ],
    order: [998, 999, 0, 9],
    calls: ['rq 1<2', 'rq 0<1'],
    shapes: [[0, 92, 24]],
  },
];

for (const row of [...dispatchRows, ...mergeRows]) {
  test(`mq-deadline: ${row.name}`, () => {
    const out = run(row);
    assert.deepEqual(out.order, row.order, 'dispatch order');
    assert.deepEqual(out.calls, row.calls ?? [], 'merge notifications');
    for (const [id, sector, nr] of row.shapes ?? []) {
      assert.deepEqual(out.shapes.get(id), [sector, nr], `shape of #${id}`);
    }
    for (const [id, ms] of row.fifoMs ?? []) assert.equal(out.fifoMs.get(id), ms, `fifo time of #${id}`);
    assert.equal(out.elv.hasWork(), false);
  });
}

test('mq-deadline: hasWork, empty dispatch, nextWakeNs, name', () => {
  const fake = makeHost();
  const elv = createMqDeadline(fake.host);
  assert.equal(elv.name, 'mq-deadline');
  assert.equal(elv.hasWork(), false);
  assert.equal(elv.dispatchRequest(), undefined);
  elv.insertRequests([makeRq(1, 'W', 8, 8)], false);
  assert.equal(elv.hasWork(), true);
  assert.equal(elv.nextWakeNs(), Infinity);
  const rq = elv.dispatchRequest();
  assert.equal(rq?.tag, 1);
  assert.equal(elv.hasWork(), false);
  elv.completedRequest(rq!, 0);
  assert.equal(elv.dispatchRequest(), undefined);
  elv.insertRequests([makeRq(2, 'R', 8, 8)], true);
  assert.equal(elv.hasWork(), true);
  assert.equal(elv.dispatchRequest()?.tag, 2);
  assert.equal(elv.hasWork(), false);
});

test('mq-deadline: a dispatched request is no longer a merge target', () => {
  const fake = makeHost();
  const elv = createMqDeadline(fake.host);
  elv.insertRequests([makeRq(1, 'R', 100, 8)], false);
  assert.equal(elv.dispatchRequest()?.tag, 1);
  assert.equal(elv.bioMerge(makeBio('R', 108, 8)), false);
  assert.equal(elv.bioMerge(makeBio('R', 92, 8)), false);
  assert.deepEqual(fake.calls, []);
});

test('mq-deadline: defaults and tunable validation', () => {
  assert.deepEqual(
    { ...DEADLINE_DEFAULTS },
    { readExpireNs: 500 * MS, writeExpireNs: 5000 * MS, writesStarved: 2, fifoBatch: 16, frontMerges: true },
  );
  const fake = makeHost();
  assert.throws(() => createMqDeadline(fake.host, { fifoBatch: -1 }), RangeError);
  assert.throws(() => createMqDeadline(fake.host, { readExpireNs: Number.NaN }), RangeError);
  assert.throws(() => createMqDeadline(fake.host, { writesStarved: 1.5 }), RangeError);
});

test('mq-deadline: hundreds of mixed requests drain exactly once, deterministically', () => {
  const once = (): number[] => {
    const fake = makeHost();
    const elv = createMqDeadline(fake.host);
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    // Unique, non-adjacent sectors: slot * 16, length 8.
    const slots = range(0, 799);
    for (let i = slots.length - 1; i > 0; i--) {
      const j = rnd(i + 1);
      [slots[i], slots[j]] = [slots[j]!, slots[i]!];
    }
    const seen: number[] = [];
    let id = 0;
    while (id < 800 || elv.hasWork()) {
      const burst = id < 800 ? rnd(6) : 0;
      const rqs: Request[] = [];
      for (let k = 0; k < burst && id < 800; k++, id++) {
        rqs.push(makeRq(id, rnd(3) === 0 ? 'W' : 'R', slots[id]! * 16, 8));
      }
      if (rqs.length > 0) elv.insertRequests(rqs, false);
      fake.clockNs += rnd(20) * MS;
      for (let k = rnd(4); k > 0; k--) {
        const rq = elv.dispatchRequest();
        if (rq === undefined) break;
        seen.push(rq.tag);
      }
    }
    assert.deepEqual([...seen].sort((a, b) => a - b), range(0, 799));
    assert.deepEqual(fake.calls, []);
    return seen;
  };
  assert.deepEqual(once(), once());
});
