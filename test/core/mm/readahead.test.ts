// Tests for core/mm/readahead.ts against Linux 6.10+ mm/readahead.c (kernel-model-facts.md §3, §7 and
// anchor A4): the window arithmetic as tables, then the ramp observed on block:block_rq_issue of a
// booted machine.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  DEFAULT_RA_PAGES,
  MMAP_LOTSAMISS,
  asyncRaWindow,
  initRaSize,
  nextRaSize,
  readAroundWindow,
  syncRaWindow,
  type RaWindow,
} from '../../../core/mm/readahead.js';
import type { FileRaState } from '../../../core/mm/mm_types.js';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';

const PAGE = 4096;
const KiB = 1024;
const MiB = 1024 * 1024;

function raState(over: Partial<FileRaState> = {}): FileRaState {
  return { start: 0, size: 0, asyncSize: 0, raPages: DEFAULT_RA_PAGES, mmapMiss: 0, prevPos: -1, ...over };
}

/** A page cache in which exactly the pages in `cached` are present. */
function prevMissIn(cached: (i: number) => boolean): (index: number, max: number) => number {
  // page_cache_prev_miss: the nearest uncached index at or below `index` within `max`, -1 if the
  // whole stretch back to page 0 is cached
  return (index, max) => {
    for (let i = index; i >= 0 && index - i < max; i--) if (!cached(i)) return i;
    return index - max < 0 ? -1 : index - max;
  };
}

function nextMissIn(cached: (i: number) => boolean): (index: number, max: number) => number {
  return (index, max) => {
    for (let i = index; i < index + max; i++) if (!cached(i)) return i;
    return -1;
  };
}

const noneCached = prevMissIn(() => false);

// ---- get_init_ra_size / get_next_ra_size ------------------------------------------------------

test('initRaSize (get_init_ra_size): x4 up to max/32, x2 up to max/4, else max', () => {
  const table: [req: number, max: number, want: number][] = [
    // ra_pages = 32 (read_ahead_kb = 128)
    [1, 32, 4],
    [2, 32, 4], // roundup 2: 2 > 32/32, 2 <= 8 -> 4
    [3, 32, 8], // roundup 4 -> x2
    [4, 32, 8],
    [5, 32, 16], // roundup 8 -> x2
    [8, 32, 16],
    [9, 32, 32], // roundup 16 > 8 -> max
    [16, 32, 32],
    [32, 32, 32],
    [64, 32, 32],
    // ra_pages = 128 (read_ahead_kb = 512)
    [1, 128, 4],
    [4, 128, 16],
    [5, 128, 16], // roundup 8 > 4, 8 <= 32 -> 16
    [32, 128, 64],
    [33, 128, 128],
    // a bdi io_pages-raised max (ractl_max_pages)
    [64, 64, 64],
    [256, 320, 320],
  ];
  for (const [req, max, want] of table) assert.equal(initRaSize(req, max), want, `initRaSize(${req}, ${max})`);
});

test('nextRaSize (get_next_ra_size): x4 below max/16, x2 up to max/2, else max', () => {
  const table: [cur: number, max: number, want: number][] = [
    [1, 32, 4],
    [2, 32, 4], // 2 < 2 is false -> x2
    [3, 32, 6],
    [4, 32, 8],
    [8, 32, 16],
    [16, 32, 32],
    [17, 32, 32],
    [32, 32, 32],
    [64, 32, 32],
    [4, 128, 16],
    [7, 128, 28],
    [8, 128, 16],
    [64, 128, 128],
  ];
  for (const [cur, max, want] of table) assert.equal(nextRaSize(cur, max), want, `nextRaSize(${cur}, ${max})`);
});

test(
  'nextRaSize uses integer division like get_next_ra_size when ra_pages is not a multiple of 16',
  () => {
    // read_ahead_kb = 160 -> 40 pages: 40/16 = 2 in C, so cur = 2 is not "< max/16"
    assert.equal(nextRaSize(2, 40), 4);
    // read_ahead_kb = 96 -> 24 pages: 24/16 = 1
    assert.equal(nextRaSize(1, 24), 2);
  },
);

// ---- page_cache_sync_ra ----------------------------------------------------------------------

interface SyncCase {
  name: string;
  ra: Partial<FileRaState>;
  index: number;
  req: number;
  ioPages?: number;
  /** Which pages the cache holds (for the context-readahead probe). */
  cached?: (i: number) => boolean;
  want: RaWindow;
  /** The state afterwards; undefined: must be left exactly as it was. */
  wantRa?: Partial<FileRaState>;
}

const SYNC_CASES: SyncCase[] = [
  {
    name: 'cold read of page 0: initial window 4 pages, async part 3 (marker on page 1)',
    ra: {},
    index: 0,
    req: 1,
    want: { start: 0, size: 4, asyncSize: 3 },
    wantRa: { start: 0, size: 4, asyncSize: 3 },
  },
  {
    name: 'page 0 with a 4-page request: 8 pages, 4 of them async',
    ra: {},
    index: 0,
    req: 4,
    want: { start: 0, size: 8, asyncSize: 4 },
    wantRa: { start: 0, size: 8, asyncSize: 4 },
  },
  {
    name: 'page 0 with a 16-page request: the max window, the rest async',
    ra: {},
    index: 0,
    req: 16,
    want: { start: 0, size: 32, asyncSize: 16 },
    wantRa: { start: 0, size: 32, asyncSize: 16 },
  },
  {
    name: 'sequential cache miss (index = prev_index + 1): initial window at the index',
    ra: { prevPos: 10 * PAGE, start: 999, size: 7, asyncSize: 7 },
    index: 11,
    req: 1,
    want: { start: 11, size: 4, asyncSize: 3 },
    wantRa: { start: 11, size: 4, asyncSize: 3 },
  },
  {
    name: 'unaligned re-read of the same page (index = prev_index): initial window',
    ra: { prevPos: 11 * PAGE + 100 },
    index: 11,
    req: 1,
    want: { start: 11, size: 4, asyncSize: 3 },
    wantRa: { start: 11, size: 4, asyncSize: 3 },
  },
  {
    name: 'random small read forward, nothing cached behind it: exactly the request, state untouched',
    ra: { prevPos: 10 * PAGE, start: 3, size: 8, asyncSize: 8 },
    index: 500,
    req: 1,
    cached: () => false,
    want: { start: 500, size: 1, asyncSize: 0 },
  },
  {
    name: 'random 2-page read with exactly 2 cached pages behind it (history == request): as is',
    ra: { prevPos: 10 * PAGE },
    index: 500,
    req: 2,
    cached: (i) => i === 498 || i === 499,
    want: { start: 500, size: 2, asyncSize: 0 },
  },
  {
    name: 'context readahead: 10 cached pages behind the index -> history + request, async 1',
    ra: { prevPos: 10 * PAGE },
    index: 500,
    req: 1,
    cached: (i) => i >= 490 && i < 500,
    want: { start: 500, size: 11, asyncSize: 1 },
    wantRa: { start: 500, size: 11, asyncSize: 1 },
  },
  {
    name: 'context readahead capped at ra_pages',
    ra: { prevPos: 10 * PAGE },
    index: 500,
    req: 1,
    cached: (i) => i >= 400 && i < 500,
    want: { start: 500, size: 32, asyncSize: 1 },
    wantRa: { start: 500, size: 32, asyncSize: 1 },
  },
  {
    name: 'file cached from the start: history doubled (5 pages -> 10, +1 request)',
    ra: { prevPos: 2 * PAGE },
    index: 5,
    req: 1,
    cached: (i) => i < 5,
    want: { start: 5, size: 11, asyncSize: 1 },
    wantRa: { start: 5, size: 11, asyncSize: 1 },
  },
  {
    name: 'oversized read (64 pages, no io_pages): one max window at the index',
    ra: { prevPos: 10 * PAGE },
    index: 500,
    req: 64,
    want: { start: 500, size: 32, asyncSize: 32 >> 1 },
    wantRa: { start: 500, size: 32, asyncSize: 16 },
  },
  {
    name: 'request above ra_pages with io_pages: the max rises to the request (ractl_max_pages)',
    ra: {},
    index: 0,
    req: 64,
    ioPages: 320,
    want: { start: 0, size: 64, asyncSize: 64 >> 1 },
    wantRa: { start: 0, size: 64, asyncSize: 32 },
  },
  {
    name: 'request of exactly ra_pages at page 0: size = max, async = size/2',
    ra: {},
    index: 0,
    req: 32,
    want: { start: 0, size: 32, asyncSize: 16 },
    wantRa: { start: 0, size: 32, asyncSize: 16 },
  },
  {
    name: 'random small read backwards (index < prev_index): exactly the request, state untouched',
    ra: { prevPos: 101 * PAGE, start: 100, size: 4, asyncSize: 3 },
    index: 50,
    req: 1,
    cached: () => false,
    want: { start: 50, size: 1, asyncSize: 0 },
  },
];

/**
 * Two details the table pins down: async_size = size >> 1 when the window is not larger than the
 * request, and `index - prev_index <= 1UL` is unsigned, so a backwards seek is not sequential.
 */
for (const c of SYNC_CASES) {
  test(`syncRaWindow (page_cache_sync_ra): ${c.name}`, () => {
    const ra = raState(c.ra);
    const before = { ...ra };
    const w = syncRaWindow(ra, c.index, c.req, c.ioPages ?? 0, c.cached ? prevMissIn(c.cached) : noneCached);
    assert.deepEqual(w, c.want);
    assert.deepEqual(ra, c.wantRa ? { ...before, ...c.wantRa } : before);
  });
}

test('syncRaWindow probes the page cache from index - 1 with the max window', () => {
  const calls: [number, number][] = [];
  syncRaWindow(raState({ prevPos: 0 }), 300, 2, 0, (index, max) => {
    calls.push([index, max]);
    return index;
  });
  assert.deepEqual(calls, [[299, 32]]);
  // the sequential and start-of-file paths never look at the cache
  const none: number[] = [];
  syncRaWindow(raState(), 0, 1, 0, (i) => (none.push(i), -1));
  syncRaWindow(raState({ prevPos: 7 * PAGE }), 8, 1, 0, (i) => (none.push(i), -1));
  assert.deepEqual(none, []);
});

// ---- page_cache_async_ra ---------------------------------------------------------------------

test('asyncRaWindow (page_cache_async_ra): hitting the expected marker pushes the window and ramps it', () => {
  const table: [ra: Partial<FileRaState>, index: number, want: RaWindow][] = [
    [{ start: 0, size: 4, asyncSize: 3 }, 1, { start: 4, size: 8, asyncSize: 8 }],
    [{ start: 4, size: 8, asyncSize: 8 }, 4, { start: 12, size: 16, asyncSize: 16 }],
    [{ start: 12, size: 16, asyncSize: 16 }, 12, { start: 28, size: 32, asyncSize: 32 }],
    [{ start: 28, size: 32, asyncSize: 32 }, 28, { start: 60, size: 32, asyncSize: 32 }],
    // context-readahead state (async 1): marker on the last page
    [{ start: 500, size: 11, asyncSize: 1 }, 510, { start: 511, size: 22, asyncSize: 22 }],
    // a window larger than ra_pages (from io_pages) does not shrink: max(size, next)
    [{ start: 0, size: 64, asyncSize: 32 }, 32, { start: 64, size: 64, asyncSize: 64 }],
  ];
  for (const [over, index, want] of table) {
    const ra = raState(over);
    const w = asyncRaWindow(ra, index, 1, 0, () => {
      throw new Error('the expected-marker path must not probe the cache');
    });
    assert.deepEqual(w, want, JSON.stringify(over));
    assert.deepEqual({ start: ra.start, size: ra.size, asyncSize: ra.asyncSize }, want);
  }
});

test('asyncRaWindow: a marker hit without valid state ramps from the cached run (interleaved streams)', () => {
  // another stream owns ra; this reader hits a marker at 40 with pages 40..47 cached
  const cached = (i: number) => i >= 40 && i < 48;
  const ra = raState({ start: 5000, size: 32, asyncSize: 32 });
  const probes: [number, number][] = [];
  const nextMiss = nextMissIn(cached);
  const w = asyncRaWindow(ra, 40, 1, 0, (i, max) => (probes.push([i, max]), nextMiss(i, max)));
  assert.deepEqual(probes, [[41, 32]]);
  // size = next(48 - 40 + 1 = 9) = 18
  assert.deepEqual(w, { start: 48, size: 18, asyncSize: 18 });
  assert.deepEqual(ra, raState({ start: 48, size: 18, asyncSize: 18 }));
});

test('asyncRaWindow: no readahead when ra_pages is 0 or the cached run is too long', () => {
  const r0 = raState({ raPages: 0, start: 0, size: 4, asyncSize: 3 });
  assert.equal(asyncRaWindow(r0, 1, 1, 0, () => 2), undefined);
  assert.deepEqual(r0, raState({ raPages: 0, start: 0, size: 4, asyncSize: 3 }));

  for (const miss of [-1, 0]) {
    const ra = raState({ start: 5000, size: 32, asyncSize: 32 });
    assert.equal(asyncRaWindow(ra, 40, 1, 0, () => miss), undefined, `nextMiss -> ${miss}`);
    assert.deepEqual(ra, raState({ start: 5000, size: 32, asyncSize: 32 }), 'state untouched');
  }
  // start - index > max_pages
  const far = raState({ start: 5000, size: 32, asyncSize: 32 });
  assert.equal(asyncRaWindow(far, 40, 1, 0, () => 40 + 33), undefined);
  // exactly max_pages ahead is still accepted
  const edge = raState({ start: 5000, size: 32, asyncSize: 32 });
  assert.deepEqual(asyncRaWindow(edge, 40, 1, 0, () => 40 + 32), { start: 72, size: 32, asyncSize: 32 });
});

// ---- a cold sequential reader, pure --------------------------------------------------------------

test('a cold sequential 4 KiB reader: windows 4, 8, 16, 32, 32 pages with the marker at start+size-async', () => {
  const cached = new Set<number>();
  const markers = new Set<number>();
  const ra = raState();
  const windows: { w: RaWindow; marker: number; by: string }[] = [];
  const apply = (w: RaWindow, by: string) => {
    for (let i = w.start; i < w.start + w.size; i++) cached.add(i);
    const marker = w.start + w.size - w.asyncSize;
    if (w.asyncSize > 0) markers.add(marker);
    windows.push({ w, marker, by });
  };
  for (let index = 0; index < 100; index++) {
    if (!cached.has(index)) apply(syncRaWindow(ra, index, 1, 0, prevMissIn((i) => cached.has(i))), 'sync');
    if (markers.delete(index)) {
      const w = asyncRaWindow(ra, index, 1, 0, nextMissIn((i) => cached.has(i)));
      assert.ok(w, `marker at ${index} must trigger readahead`);
      apply(w, 'async');
    }
    ra.prevPos = (index + 1) * PAGE;
  }
  assert.deepEqual(
    windows.map(({ w, marker, by }) => [by, w.start, w.size, marker]),
    [
      ['sync', 0, 4, 1],
      ['async', 4, 8, 4],
      ['async', 12, 16, 12],
      ['async', 28, 32, 28],
      ['async', 60, 32, 60],
      ['async', 92, 32, 92],
      ['async', 124, 32, 124],
    ],
  );
  assert.deepEqual(
    windows.map(({ w }) => (w.size * PAGE) / KiB),
    [16, 32, 64, 128, 128, 128, 128],
  );
});

// ---- mmap read-around --------------------------------------------------------------------------

test('readAroundWindow (do_sync_mmap_readahead): ra_pages centred on the fault, a quarter async', () => {
  const table: [pgoff: number, raPages: number, want: RaWindow][] = [
    [100, 32, { start: 84, size: 32, asyncSize: 8 }],
    [16, 32, { start: 0, size: 32, asyncSize: 8 }],
    [5, 32, { start: 0, size: 32, asyncSize: 8 }], // clamped at the start of the file
    [0, 32, { start: 0, size: 32, asyncSize: 8 }],
    [1000, 128, { start: 936, size: 128, asyncSize: 32 }],
    [7, 6, { start: 4, size: 6, asyncSize: 1 }],
  ];
  for (const [pgoff, raPages, want] of table) {
    const ra = raState({ raPages });
    assert.deepEqual(readAroundWindow(ra, pgoff), want, `pgoff ${pgoff} ra_pages ${raPages}`);
    assert.deepEqual(ra, { ...raState({ raPages }), ...want, mmapMiss: 1 });
  }
  const off = raState({ raPages: 0 });
  assert.equal(readAroundWindow(off, 10), undefined);
  assert.equal(off.mmapMiss, 0, 'no readahead, no miss accounting');
});

test('readAroundWindow gives up after MMAP_LOTSAMISS misses without hits, and the counter saturates', () => {
  assert.equal(MMAP_LOTSAMISS, 100);
  const ra = raState();
  for (let i = 1; i <= MMAP_LOTSAMISS; i++) {
    assert.ok(readAroundWindow(ra, 1000 + i), `miss #${i} still reads around`);
    assert.equal(ra.mmapMiss, i);
  }
  const before = { ...ra };
  assert.equal(readAroundWindow(ra, 5000), undefined, 'miss #101: random access, stop');
  assert.deepEqual(ra, { ...before, mmapMiss: MMAP_LOTSAMISS + 1 }, 'the window is left alone');
  // hits decrement mmap_miss (memory.ts); once back at the limit, read-around resumes
  ra.mmapMiss = MMAP_LOTSAMISS - 1;
  assert.deepEqual(readAroundWindow(ra, 5000), { start: 4984, size: 32, asyncSize: 8 });
  // saturates at 10 * MMAP_LOTSAMISS
  ra.mmapMiss = MMAP_LOTSAMISS * 10;
  assert.equal(readAroundWindow(ra, 1), undefined);
  assert.equal(ra.mmapMiss, MMAP_LOTSAMISS * 10);
});

// ---- end to end: anchor A4 on block_rq_issue -----------------------------------------------------

// plain read() as A4 describes it: fio's default fadvise_hint would double ra_pages (fadvise.test.ts)
const SEQ_JOB: JobSpec = jobSpec({ name: 'seq', filename: '/mnt/nvme/ra.dat', size: 4 * MiB, fadviseHint: 'none' });

interface Issue {
  bytes: number;
  rwbs: string;
  sector: number;
}

function runAndTraceIssues(job: JobSpec, stopNs: number) {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [job]);
  const issues: Issue[] = [];
  attach(m, 'tracepoint:block:block_rq_issue', (hit) => {
    issues.push({ bytes: Number(hit.fields.bytes), rwbs: String(hit.fields.rwbs), sector: Number(hit.fields.sector) });
  });
  m.startJobs([job], stopNs);
  m.run(stopNs);
  return { m, issues };
}

test('A4 end to end: a cold sequential 4 KiB reader issues 16, 32, 64, 128, 128 ... KiB readahead', () => {
  const stopNs = 100_000_000;
  const { m, issues } = runAndTraceIssues(SEQ_JOB, stopNs);
  const stats = m.jobs[0]!.stats;
  assert.ok(stats.endNs >= 0 && stats.endNs < stopNs, 'the job read the whole file before the stop');
  assert.equal(stats.read.count, 1024);
  assert.equal(stats.readBytes, 4 * MiB);
  assert.equal(stats.errors, 0);

  // the ramp: 1024 pages = 4 + 8 + 16 + 31 x 32 + the last window cut to 4 pages by EOF
  const want = [16384, 32768, 65536, ...Array.from({ length: 31 }, () => 131072), 16384];
  assert.deepEqual(
    issues.map((i) => i.bytes),
    want,
  );
  assert.ok(
    issues.every((i) => i.rwbs === 'RA'),
    `all readahead: ${[...new Set(issues.map((i) => i.rwbs))].join(',')}`,
  );
  // each window continues where the previous one ended, at sector = pblk * 8
  const inode = m.devices[0]!.fs!.inodes.get(SEQ_JOB.filename)!;
  const first = inode.extents.lookup(0)!;
  assert.equal(first.len >= 1024, true, 'a 4 MiB file fits one extent run');
  let sector = first.pblk * 8;
  for (const [n, i] of issues.entries()) {
    assert.equal(i.sector, sector, `request ${n}`);
    sector += i.bytes / 512;
  }
  assert.equal(m.k.stat.readaheadPages, 1024);
});

test('A4 end to end: random 4 KiB reads issue exactly 4 KiB', () => {
  const job: JobSpec = { ...SEQ_JOB, name: 'rand', rw: 'randread', size: 64 * MiB, timeBased: true, runtimeNs: 5_000_000 };
  const { m, issues } = runAndTraceIssues(job, 10_000_000);
  assert.ok(m.jobs[0]!.stats.read.count > 20);
  // (a random page can land next to cached history and get a context window; with 16384 pages
  // and this few reads it does not happen for this seed)
  assert.deepEqual([...new Set(issues.map((i) => i.bytes))], [4096]);
});
