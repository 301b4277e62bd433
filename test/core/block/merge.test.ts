// Tests for core/block/blk-merge.ts (block/blk-merge.c): bio back/front merges, request merges and
// physical segment counting as tables; then, on a booted machine, how buffered sequential 4 KiB
// writes leave the page cache as a few large requests (->writepages builds one bio per contiguous
// run of blocks, at most BIO_MAX_VECS pages, and requests stop growing at max_sectors = 2560).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { applyBioMerge, applyRequestMerge, bioMergeCandidateOk, bioMergeOk, countPhysSegments, requestMergeOk } from '../../../core/block/blk-merge.js';
import { ElvMerge, type QueueLimits, type Request } from '../../../core/block/blkdev.js';
import { BlkStatus, ReqFlag, ReqOp, type Bio, type BioVec } from '../../../core/block/blk_types.js';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec, type Machine } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';

const LIMITS: QueueLimits = { maxSectors: 2560, maxSegments: 128, logicalBlockSizeBytes: 512 };
const PAGE = 4096;
const KiB = 1024;
const MiB = 1024 * 1024;

let nextAddr = 0x1000;

/** Page-sized vecs on consecutive PFNs starting at `pfn`. */
function pages(pfn: number, n: number): BioVec[] {
  return Array.from({ length: n }, (_, i) => ({ pfn: pfn + i, offsetBytes: 0, lenBytes: PAGE }));
}

function mkBio(op: ReqOp, sector: number, vecs: BioVec[], flags = 0): Bio {
  const bytes = vecs.reduce((s, v) => s + v.lenBytes, 0);
  return {
    kaddr: nextAddr++,
    ioId: nextAddr,
    op,
    flags,
    dev: 8 << 20,
    sector,
    nrSectors: bytes / 512,
    vecs,
    status: BlkStatus.OK,
    submitterPid: 100,
    submitterComm: 'fio',
    blkcg: undefined,
    writeHint: 0,
    endIo: undefined,
    private_: undefined,
  };
}

function mkRq(bios: Bio[], over: Partial<Request> = {}): Request {
  const first = bios[0]!;
  return {
    kaddr: nextAddr++,
    tag: 0,
    hwq: 0,
    op: first.op,
    cmdFlags: first.flags,
    sector: first.sector,
    nrSectors: bios.reduce((s, b) => s + b.nrSectors, 0),
    bios,
    startTimeNs: 0,
    ioStartTimeNs: 0,
    fifoTimeNs: 0,
    elvPriv: undefined,
    nrPhysSegments: countPhysSegments(bios),
    submitterPid: 100,
    submitterComm: 'fio',
    ...over,
  };
}

const R = ReqOp.READ;
const W = ReqOp.WRITE;

// ---- countPhysSegments ---------------------------------------------------------------------------

test('countPhysSegments: adjacent PFNs form one segment of at most 64 KiB', () => {
  const table: [name: string, bios: Bio[], want: number][] = [
    ['no bios', [], 0],
    ['one page', [mkBio(W, 0, pages(10, 1))], 1],
    ['4 adjacent pages', [mkBio(W, 0, pages(10, 4))], 1],
    ['pfn 0 and 1 are adjacent too', [mkBio(W, 0, pages(0, 2))], 1],
    ['a gap in the PFNs', [mkBio(W, 0, [...pages(10, 2), ...pages(13, 2)])], 2],
    ['descending PFNs never merge', [mkBio(W, 0, [...pages(11, 1), ...pages(10, 1)])], 2],
    ['the same PFN twice does not merge', [mkBio(W, 0, [...pages(10, 1), ...pages(10, 1)])], 2],
    ['16 adjacent pages: exactly 64 KiB, one segment', [mkBio(W, 0, pages(10, 16))], 1],
    ['17 adjacent pages: 64 KiB + 4 KiB', [mkBio(W, 0, pages(10, 17))], 2],
    ['32 adjacent pages: two 64 KiB segments', [mkBio(W, 0, pages(10, 32))], 2],
    ['256 adjacent pages (1 MiB): 16 segments', [mkBio(W, 0, pages(1000, 256))], 16],
    ['256 scattered pages: 256 segments', [mkBio(W, 0, Array.from({ length: 256 }, (_, i) => ({ pfn: 10 + 2 * i, offsetBytes: 0, lenBytes: PAGE })))], 256],
    ['adjacent across two bios of a request', [mkBio(W, 0, pages(10, 2)), mkBio(W, 16, pages(12, 2))], 1],
    ['not adjacent across bios', [mkBio(W, 0, pages(10, 2)), mkBio(W, 16, pages(20, 2))], 2],
    ['a vec that starts inside its page starts a segment', [mkBio(W, 0, [{ pfn: 10, offsetBytes: 0, lenBytes: PAGE }, { pfn: 11, offsetBytes: 512, lenBytes: 512 }])], 2],
  ];
  for (const [name, bios, want] of table) assert.equal(countPhysSegments(bios), want, name);
});

test(
  'countPhysSegments: physical contiguity is about addresses, not just PFNs',
  () => {
    // 512 bytes at the start of pfn 10, then pfn 11: bytes 512..4095 of pfn 10 lie between them
    assert.equal(countPhysSegments([mkBio(W, 0, [{ pfn: 10, offsetBytes: 0, lenBytes: 512 }, { pfn: 11, offsetBytes: 0, lenBytes: PAGE }])]), 2);
    // two halves of one page are one contiguous range (biovec_phys_mergeable)
    assert.equal(countPhysSegments([mkBio(W, 0, [{ pfn: 10, offsetBytes: 0, lenBytes: 2048 }, { pfn: 10, offsetBytes: 2048, lenBytes: 2048 }])]), 1);
  },
);

// ---- bioMergeOk ------------------------------------------------------------------------------

interface BioMergeCase {
  name: string;
  rq: () => Request;
  bio: () => Bio;
  back: boolean;
  front: boolean;
}

// a request for sectors [1000, 1008): one 4 KiB page
const rq4k = (op: ReqOp = W, flags = 0) => mkRq([mkBio(op, 1000, pages(50, 1), flags)]);

const BIO_MERGE_CASES: BioMergeCase[] = [
  { name: 'back merge: the bio starts where the request ends', rq: () => rq4k(), bio: () => mkBio(W, 1008, pages(51, 1)), back: true, front: false },
  { name: 'front merge: the bio ends where the request starts', rq: () => rq4k(), bio: () => mkBio(W, 992, pages(49, 1)), back: false, front: true },
  { name: 'back merge of reads', rq: () => rq4k(R), bio: () => mkBio(R, 1008, pages(51, 2)), back: true, front: false },
  { name: 'a one-sector gap: no merge', rq: () => rq4k(), bio: () => mkBio(W, 1009, pages(51, 1)), back: false, front: false },
  { name: 'overlapping: no merge', rq: () => rq4k(), bio: () => mkBio(W, 1004, pages(51, 1)), back: false, front: false },
  { name: 'the same sector: no merge', rq: () => rq4k(), bio: () => mkBio(W, 1000, pages(51, 1)), back: false, front: false },
  { name: 'a read never joins a write (back)', rq: () => rq4k(W), bio: () => mkBio(R, 1008, pages(51, 1)), back: false, front: false },
  { name: 'a write never joins a read (front)', rq: () => rq4k(R), bio: () => mkBio(W, 992, pages(49, 1)), back: false, front: false },
  { name: 'FUA bio refused', rq: () => rq4k(), bio: () => mkBio(W, 1008, pages(51, 1), ReqFlag.FUA), back: false, front: false },
  { name: 'PREFLUSH bio refused', rq: () => rq4k(), bio: () => mkBio(W, 1008, pages(51, 1), ReqFlag.PREFLUSH), back: false, front: false },
  { name: 'NOMERGE bio refused', rq: () => rq4k(), bio: () => mkBio(W, 1008, pages(51, 1), ReqFlag.NOMERGE), back: false, front: false },
  { name: 'FUA request refused', rq: () => rq4k(W, ReqFlag.FUA), bio: () => mkBio(W, 1008, pages(51, 1)), back: false, front: false },
  { name: 'PREFLUSH request refused', rq: () => rq4k(W, ReqFlag.PREFLUSH), bio: () => mkBio(W, 992, pages(49, 1)), back: false, front: false },
  { name: 'NOMERGE request refused', rq: () => rq4k(W, ReqFlag.NOMERGE), bio: () => mkBio(W, 1008, pages(51, 1)), back: false, front: false },
  { name: 'RAHEAD on one side only does not matter', rq: () => rq4k(R, ReqFlag.RAHEAD), bio: () => mkBio(R, 1008, pages(51, 1)), back: true, front: false },
  { name: 'META on one side only does not matter', rq: () => rq4k(W, ReqFlag.META), bio: () => mkBio(W, 992, pages(49, 1)), back: false, front: true },
  {
    name: 'up to exactly max_sectors (2048 + 512 = 2560)',
    rq: () => mkRq([mkBio(W, 0, pages(1000, 256))]),
    bio: () => mkBio(W, 2048, pages(2000, 64)),
    back: true,
    front: false,
  },
  {
    name: 'beyond max_sectors (2048 + 520 sectors)',
    rq: () => mkRq([mkBio(W, 0, pages(1000, 256))]),
    bio: () => mkBio(W, 2048, [...pages(2000, 64), { pfn: 3000, offsetBytes: 0, lenBytes: 4096 }]),
    back: false,
    front: false,
  },
  {
    name: 'beyond max_sectors in front too',
    rq: () => mkRq([mkBio(W, 4096, pages(1000, 256))]),
    bio: () => mkBio(W, 4096 - 520, [...pages(2000, 64), { pfn: 3000, offsetBytes: 0, lenBytes: 4096 }]),
    back: false,
    front: false,
  },
  {
    name: 'up to exactly max_segments (127 + 1)',
    rq: () => mkRq([mkBio(W, 0, Array.from({ length: 127 }, (_, i) => ({ pfn: 10 + 2 * i, offsetBytes: 0, lenBytes: PAGE })))]),
    bio: () => mkBio(W, 127 * 8, pages(5000, 1)),
    back: true,
    front: false,
  },
  {
    name: 'beyond max_segments (128 + 1)',
    rq: () => mkRq([mkBio(W, 0, Array.from({ length: 128 }, (_, i) => ({ pfn: 10 + 2 * i, offsetBytes: 0, lenBytes: PAGE })))]),
    bio: () => mkBio(W, 128 * 8, pages(5000, 1)),
    back: false,
    front: false,
  },
];

for (const c of BIO_MERGE_CASES) {
  test(`bioMergeOk: ${c.name}`, () => {
    const rq = c.rq();
    const bio = c.bio();
    assert.equal(bioMergeOk(LIMITS, rq, bio, ElvMerge.BACK_MERGE), c.back, 'BACK_MERGE');
    assert.equal(bioMergeOk(LIMITS, rq, bio, ElvMerge.FRONT_MERGE), c.front, 'FRONT_MERGE');
    assert.equal(bioMergeOk(LIMITS, rq, bio, ElvMerge.NO_MERGE), false, 'NO_MERGE');
  });
}

test('bioMergeOk: the limits come from the queue (a smaller max_sectors refuses earlier)', () => {
  const small: QueueLimits = { maxSectors: 16, maxSegments: 2, logicalBlockSizeBytes: 512 };
  const rq = rq4k();
  assert.equal(bioMergeOk(small, rq, mkBio(W, 1008, pages(70, 1)), ElvMerge.BACK_MERGE), true, '8 + 8 <= 16, 1 + 1 <= 2');
  assert.equal(bioMergeOk(small, rq, mkBio(W, 1008, pages(70, 2)), ElvMerge.BACK_MERGE), false, '8 + 16 > 16');
  assert.equal(bioMergeOk({ ...small, maxSectors: 64 }, rq, mkBio(W, 1008, [...pages(70, 1), ...pages(80, 1)]), ElvMerge.BACK_MERGE), false, '1 + 2 segments > 2');
});

test(
  'bioMergeOk: REQ_SYNC on one side only does not prevent a merge (blk_rq_merge_ok has no such check)',
  () => {
    assert.equal(bioMergeOk(LIMITS, rq4k(W, ReqFlag.SYNC), mkBio(W, 1008, pages(51, 1)), ElvMerge.BACK_MERGE), true);
    assert.equal(bioMergeOk(LIMITS, rq4k(W), mkBio(W, 992, pages(49, 1), ReqFlag.SYNC), ElvMerge.FRONT_MERGE), true);
  },
);

// ---- applyBioMerge ---------------------------------------------------------------------------------

test('applyBioMerge BACK: appends the bio; the start sector stays; sizes and segments add up', () => {
  const a = mkBio(W, 1000, pages(50, 2));
  const rq = mkRq([a]);
  const b = mkBio(W, 1016, pages(52, 2)); // physically right after a's pages
  assert.equal(bioMergeOk(LIMITS, rq, b, ElvMerge.BACK_MERGE), true);
  applyBioMerge(rq, b, ElvMerge.BACK_MERGE);
  assert.deepEqual(rq.bios, [a, b]);
  assert.equal(rq.sector, 1000);
  assert.equal(rq.nrSectors, 32);
  assert.equal(rq.nrPhysSegments, 2, 'merging adds the bio\'s segments (ll_new_hw_segment); only DMA mapping coalesces');
  const c = mkBio(W, 1032, pages(90, 1));
  applyBioMerge(rq, c, ElvMerge.BACK_MERGE);
  assert.deepEqual(rq.bios, [a, b, c]);
  assert.equal(rq.nrSectors, 40);
  assert.equal(rq.nrPhysSegments, 3);
});

test('applyBioMerge FRONT: prepends the bio and moves the start sector back', () => {
  const a = mkBio(R, 1000, pages(50, 1));
  const rq = mkRq([a]);
  const b = mkBio(R, 984, pages(48, 2)); // sectors [984, 1000), PFNs 48, 49 then 50
  assert.equal(bioMergeOk(LIMITS, rq, b, ElvMerge.FRONT_MERGE), true);
  applyBioMerge(rq, b, ElvMerge.FRONT_MERGE);
  assert.deepEqual(rq.bios, [b, a]);
  assert.equal(rq.sector, 984);
  assert.equal(rq.nrSectors, 24);
  assert.equal(rq.nrPhysSegments, 2, 'segment counts add on a merge');
  // the merged request now accepts a bio at its new front or its old end
  assert.equal(bioMergeOk(LIMITS, rq, mkBio(R, 976, pages(47, 1)), ElvMerge.FRONT_MERGE), true);
  assert.equal(bioMergeOk(LIMITS, rq, mkBio(R, 1008, pages(51, 1)), ElvMerge.BACK_MERGE), true);
  assert.equal(bioMergeOk(LIMITS, rq, mkBio(R, 992, pages(51, 1)), ElvMerge.FRONT_MERGE), false, 'the old front is inside now');
});

test('bio merges grow a request only up to max_sectors: 4 KiB bios stop at 1280 KiB', () => {
  const rq = mkRq([mkBio(W, 0, pages(10_000, 1))]);
  let sector = 8;
  let merged = 0;
  for (let i = 1; i < 400; i++) {
    const bio = mkBio(W, sector, pages(10_000 + i, 1));
    if (!bioMergeOk(LIMITS, rq, bio, ElvMerge.BACK_MERGE)) break;
    applyBioMerge(rq, bio, ElvMerge.BACK_MERGE);
    sector += 8;
    merged++;
  }
  // each 4 KiB bio adds a segment, so max_segments (128) binds before max_sectors (2560)
  assert.equal(merged, 127);
  assert.equal(rq.nrSectors, 1024);
  assert.equal(rq.bios.length, 128);
  assert.equal(rq.nrPhysSegments, 128);
});

// ---- requestMergeOk / applyRequestMerge ------------------------------------------------------------

test('requestMergeOk: next must directly follow rq, same op, mergeable flags, within limits', () => {
  const table: [name: string, rq: Request, next: Request, want: boolean][] = [
    ['adjacent writes', rq4k(), mkRq([mkBio(W, 1008, pages(60, 1))]), true],
    ['adjacent reads', rq4k(R), mkRq([mkBio(R, 1008, pages(60, 1))]), true],
    ['next before rq (only rq -> next merges)', rq4k(), mkRq([mkBio(W, 992, pages(60, 1))]), false],
    ['a gap', rq4k(), mkRq([mkBio(W, 1016, pages(60, 1))]), false],
    ['read + write', rq4k(R), mkRq([mkBio(W, 1008, pages(60, 1))]), false],
    ['FUA next', rq4k(), mkRq([mkBio(W, 1008, pages(60, 1), ReqFlag.FUA)]), false],
    ['PREFLUSH rq', rq4k(W, ReqFlag.PREFLUSH), mkRq([mkBio(W, 1008, pages(60, 1))]), false],
    ['NOMERGE next', rq4k(), mkRq([mkBio(W, 1008, pages(60, 1), ReqFlag.NOMERGE)]), false],
    ['SYNC on one side only', rq4k(W, ReqFlag.SYNC), mkRq([mkBio(W, 1008, pages(60, 1))]), true],
    ['exactly max_sectors', mkRq([mkBio(W, 0, pages(1000, 256))]), mkRq([mkBio(W, 2048, pages(3000, 64))]), true],
    ['beyond max_sectors', mkRq([mkBio(W, 0, pages(1000, 256))]), mkRq([mkBio(W, 2048, pages(3000, 65))]), false],
    ['beyond max_segments', mkRq([mkBio(W, 0, pages(0, 1))], { nrPhysSegments: 100 }), mkRq([mkBio(W, 8, pages(500, 1))], { nrPhysSegments: 29 }), false],
    ['exactly max_segments', mkRq([mkBio(W, 0, pages(0, 1))], { nrPhysSegments: 100 }), mkRq([mkBio(W, 8, pages(500, 1))], { nrPhysSegments: 28 }), true],
  ];
  for (const [name, rq, next, want] of table) assert.equal(requestMergeOk(LIMITS, rq, next), want, name);
});

test('applyRequestMerge: bios concatenate, sizes and segment counts add, the older start time stays', () => {
  const a = mkBio(W, 1000, pages(50, 1));
  const b = mkBio(W, 1008, pages(51, 1));
  const c = mkBio(W, 1016, pages(80, 1));
  const rq = mkRq([a], { fifoTimeNs: 5000, startTimeNs: 700 });
  const next = mkRq([b, c], { fifoTimeNs: 3000, startTimeNs: 500 });
  applyRequestMerge(rq, next);
  assert.deepEqual(rq.bios, [a, b, c]);
  assert.equal(rq.sector, 1000);
  assert.equal(rq.nrSectors, 24);
  assert.equal(rq.nrPhysSegments, 3, 'll_merge_requests_fn adds the two counts');
  assert.equal(rq.startTimeNs, 500);
  assert.equal(rq.fifoTimeNs, 5000, 'FIFO deadlines are left to the elevator (dd_merged_requests)');
});

// ---- on a booted machine: writeback turns 4 KiB writes into a few large requests -----------------

interface Traced {
  site: string;
  bytes: number;
  rwbs: string;
  sector: number;
}

function writeJob(over: Partial<JobSpec>): JobSpec {
  return jobSpec({ name: 'w', filename: '/mnt/hdd/w.dat', rw: 'write', size: 1 * MiB, fsync: 256, ...over });
}

function runTraced(job: JobSpec, prepare?: (m: Machine) => void): { m: Machine; ev: Traced[] } {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  prepare?.(m);
  layoutJobFiles(m, [job]);
  const ev: Traced[] = [];
  attach(m, 'tracepoint:block:block_rq_issue,tracepoint:block:block_bio_queue,tracepoint:block:block_bio_backmerge,tracepoint:block:block_bio_frontmerge,tracepoint:block:block_rq_merge', (h) => {
    const f = h.fields;
    ev.push({ site: h.site.fullName.replace('tracepoint:block:', ''), bytes: Number(f.bytes ?? Number(f.nr_sector) * 512), rwbs: String(f.rwbs), sector: Number(f.sector) });
  });
  const stopNs = 1_000_000_000;
  m.startJobs([job], stopNs);
  m.run(stopNs);
  const s = m.jobs[0]!.stats;
  assert.ok(s.endNs > 0 && s.errors === 0, 'the job finished cleanly');
  return { m, ev };
}

/** Data writes: WS (fsync's WB_SYNC_ALL writeback); the journal's are WSM, then FF + WFSM. */
const dataIssues = (ev: Traced[]) => ev.filter((e) => e.site === 'block_rq_issue' && e.rwbs === 'WS');

test('writeback: 256 sequential 4 KiB buffered writes + fsync leave as one 1 MiB request', () => {
  const job = writeJob({});
  const { m, ev } = runTraced(job);
  const s = m.jobs[0]!.stats;
  assert.equal(s.write.count, 256);
  assert.equal(s.fsync.count, 1);
  assert.equal(m.k.stat.pgdirtied, 256);
  assert.equal(m.k.stat.pgwriteback, 256);

  const inode = m.devices[1]!.fs!.inodes.get(job.filename)!;
  assert.equal(inode.extents.count, 1, 'the laid-out file is one contiguous run');
  const base = inode.extents.lookup(0)!.pblk * 8;

  // one contiguous run -> one bio of 256 pages -> one request
  const dataBios = ev.filter((e) => e.site === 'block_bio_queue' && e.rwbs === 'WS');
  assert.deepEqual(dataBios, [{ site: 'block_bio_queue', bytes: 1 * MiB, rwbs: 'WS', sector: base }]);
  assert.deepEqual(dataIssues(ev), [{ site: 'block_rq_issue', bytes: 1 * MiB, rwbs: 'WS', sector: base }]);
  // the fsync's journal commit: descriptor + inode block, then the commit block, which the flush
  // machinery sends as a preflush (FF) and then the block itself with FUA (WFSM: jbd2 writes it
  // with JBD2_JOURNAL_REQ_FLAGS, REQ_META among them)
  assert.deepEqual(
    ev.filter((e) => e.site === 'block_rq_issue' && e.rwbs !== 'WS').map((e) => [e.rwbs, e.bytes]),
    [
      ['WSM', 8 * KiB],
      ['FF', 0],
      ['WFSM', 4 * KiB],
    ],
  );
  const sda = m.report('merge', 1).devices.find((d) => d.name === 'sda')!;
  assert.equal(sda.writeIos, 3);
  assert.equal(sda.writeBytes, 1 * MiB + 12 * KiB);
});

test('writeback: 1024 pages go out as four 1 MiB requests (BIO_MAX_VECS bios; 2048 + 2048 > max_sectors)', () => {
  const job = writeJob({ size: 4 * MiB, fsync: 1024 });
  const { m, ev } = runTraced(job);
  assert.equal(m.k.stat.pgwriteback, 1024);
  const base = m.devices[1]!.fs!.inodes.get(job.filename)!.extents.lookup(0)!.pblk * 8;
  assert.deepEqual(
    dataIssues(ev).map((e) => [e.sector - base, e.bytes]),
    [
      [0, 1 * MiB],
      [2048, 1 * MiB],
      [4096, 1 * MiB],
      [6144, 1 * MiB],
    ],
  );
  assert.equal(ev.filter((e) => e.site.includes('merge')).length, 0, 'no bio or request merges');
});

test('writeback: a fragmented file goes out as one request per physical run', () => {
  const job = writeJob({});
  const { m, ev } = runTraced(job, (mm) => {
    // interleave the file's blocks with another file's in 64-block chunks, as two files growing
    // side by side would be laid out: 4 runs of 256 KiB with 256 KiB gaps
    const fs = mm.devices[1]!.fs!;
    const a = fs.createFile(job.filename, 0);
    const b = fs.createFile('/mnt/hdd/neighbour', 0);
    for (let c = 0; c < 4; c++) {
      fs.mapBlocks(a, c * 64, 64, true);
      fs.mapBlocks(b, c * 64, 64, true);
    }
    a.sizeBytes = 1 * MiB;
    b.sizeBytes = 1 * MiB;
  });
  const runs = m.devices[1]!.fs!.inodes.get(job.filename)!.extents.all();
  assert.deepEqual(
    runs.map((e) => [e.lblk, e.len, e.pblk - runs[0]!.pblk]),
    [
      [0, 64, 0],
      [64, 64, 128],
      [128, 64, 256],
      [192, 64, 384],
    ],
  );
  assert.deepEqual(
    dataIssues(ev).map((e) => [e.sector, e.bytes]),
    runs.map((e) => [e.pblk * 8, 256 * KiB]),
  );
  assert.equal(m.k.stat.pgwriteback, 256);
});

test(
  'writeback: 320 contiguous pages merge in the plug into one 1280 KiB request (blk_add_rq_to_plug)',
  () => {
    const job = writeJob({ size: 1280 * KiB, fsync: 320 });
    const { ev } = runTraced(job);
    assert.deepEqual(
      dataIssues(ev).map((e) => e.bytes),
      [1280 * KiB],
    );
  },
);

test('write hints: a bio or request merges only with data of the same lifetime (blk_rq_merge_ok, attempt_merge)', () => {
  const hinted = (sector: number, pfn: number, hint: number): Bio => ({ ...mkBio(W, sector, pages(pfn, 1)), writeHint: hint });
  const rq = mkRq([hinted(1000, 50, 2)]);
  assert.equal(bioMergeOk(LIMITS, rq, hinted(1008, 51, 2), ElvMerge.BACK_MERGE), true, 'both SHORT');
  assert.equal(bioMergeOk(LIMITS, rq, hinted(1008, 51, 4), ElvMerge.BACK_MERGE), false, 'SHORT and LONG');
  assert.equal(bioMergeOk(LIMITS, rq, hinted(1008, 51, 0), ElvMerge.BACK_MERGE), false, 'a hint and none');
  assert.equal(bioMergeOk(LIMITS, rq, hinted(992, 49, 4), ElvMerge.FRONT_MERGE), false, 'front: SHORT and LONG');
  assert.equal(bioMergeCandidateOk(rq, hinted(1008, 51, 4)), false, 'the elevator does not even try');
  assert.equal(requestMergeOk(LIMITS, rq, mkRq([hinted(1008, 51, 2)])), true);
  assert.equal(requestMergeOk(LIMITS, rq, mkRq([hinted(1008, 51, 3)])), false);
});
