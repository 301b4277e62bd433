// Tests for core/fs/ext4/extents.ts (the extent tree: lookup, holes, insert, merging, EXT_MAX_LEN)
// and for Ext4Fs.createFile / mapBlocks in core/fs/ext4/super.ts on a booted machine, down to the
// sectors block_rq_issue reports (sector = pblk * 8 with 4 KiB blocks).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { EXT_MAX_LEN, ExtentTree } from '../../../../core/fs/ext4/extents.js';
import { EXT4_BLOCK_SIZE, JOURNAL_BLOCKS, type Ext4Fs } from '../../../../core/fs/ext4/super.js';
import type { MappedExtent } from '../../../../core/fs/types.js';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec } from '../../../../core/index.js';
import { attach } from '../../../../probes/attach.js';
import { jobSpec } from '../../../helpers/jobs.js';

const MiB = 1024 * 1024;

type Ext = [lblk: number, pblk: number, len: number];

function tree(...exts: Ext[]): ExtentTree {
  const t = new ExtentTree();
  for (const [l, p, n] of exts) t.insert(l, p, n);
  return t;
}

function dump(t: ExtentTree): Ext[] {
  return t.all().map((e) => [e.lblk, e.pblk, e.len]);
}

// ---- lookup ------------------------------------------------------------------------------------

test('ExtentTree.lookup: inside, at both edges, and in holes', () => {
  // [0,10) -> 1000, hole [10,20), [20,25) -> 2000, hole from 25 on
  const t = tree([0, 1000, 10], [20, 2000, 5]);
  const table: [lblk: number, want: MappedExtent | undefined][] = [
    [0, { lblk: 0, pblk: 1000, len: 10 }], // first block of an extent
    [3, { lblk: 3, pblk: 1003, len: 7 }], // inside: trimmed to start at lblk
    [9, { lblk: 9, pblk: 1009, len: 1 }], // last block
    [10, undefined], // one past the end: a hole
    [15, undefined],
    [19, undefined], // the block before the next extent
    [20, { lblk: 20, pblk: 2000, len: 5 }],
    [24, { lblk: 24, pblk: 2004, len: 1 }],
    [25, undefined],
    [1_000_000, undefined],
    [-1, undefined],
  ];
  for (const [lblk, want] of table) assert.deepEqual(t.lookup(lblk), want, `lookup(${lblk})`);
  assert.equal(new ExtentTree().lookup(0), undefined);
});

test('ExtentTree.lookup agrees with a linear scan over many extents', () => {
  const t = new ExtentTree();
  const ref: Ext[] = [];
  // 500 extents of growing length with holes between them, physically scattered
  let l = 0;
  for (let i = 0; i < 500; i++) {
    const len = 1 + (i % 7);
    const p = 1_000_000 - i * 100;
    t.insert(l, p, len);
    ref.push([l, p, len]);
    l += len + (i % 3); // holes of 0, 1 or 2 blocks (0: logically adjacent, not physically)
  }
  assert.equal(t.count, 500, 'physically discontiguous neighbours never merge');
  for (let lblk = -2; lblk < l + 3; lblk++) {
    const e = ref.find(([el, , en]) => lblk >= el && lblk < el + en);
    const want = e ? { lblk, pblk: e[1] + (lblk - e[0]), len: e[2] - (lblk - e[0]) } : undefined;
    assert.deepEqual(t.lookup(lblk), want, `lookup(${lblk})`);
  }
});

test('ExtentTree.nextMapped: where a hole ends', () => {
  const t = tree([0, 1000, 10], [20, 2000, 5]);
  const table: [number, number][] = [
    [10, 20],
    [15, 20],
    [19, 20],
    [0, 20], // inside the first extent: the next extent's start
    [20, Infinity],
    [25, Infinity],
    [-5, 0],
  ];
  for (const [lblk, want] of table) assert.equal(t.nextMapped(lblk), want, `nextMapped(${lblk})`);
  assert.equal(new ExtentTree().nextMapped(0), Infinity);
});

// ---- insert ------------------------------------------------------------------------------------

interface InsertCase {
  name: string;
  inserts: Ext[];
  want: Ext[];
}

const INSERT_CASES: InsertCase[] = [
  { name: 'keeps extents sorted by logical block', inserts: [[100, 9000, 5], [0, 5000, 5], [50, 7000, 5]], want: [[0, 5000, 5], [50, 7000, 5], [100, 9000, 5]] },
  { name: 'appends to a logically and physically contiguous predecessor', inserts: [[0, 1000, 10], [10, 1010, 5]], want: [[0, 1000, 15]] },
  { name: 'grows a run by repeated appends', inserts: [[0, 1000, 1], [1, 1001, 1], [2, 1002, 1], [3, 1003, 1]], want: [[0, 1000, 4]] },
  { name: 'no merge across a logical gap, even when physically contiguous', inserts: [[0, 1000, 10], [11, 1010, 5]], want: [[0, 1000, 10], [11, 1010, 5]] },
  { name: 'no merge when logically adjacent but physically apart', inserts: [[0, 1000, 10], [10, 1011, 5]], want: [[0, 1000, 10], [10, 1011, 5]] },
  { name: 'no merge when physically behind', inserts: [[0, 1000, 10], [10, 990, 5]], want: [[0, 1000, 10], [10, 990, 5]] },
  { name: 'merges up to exactly EXT_MAX_LEN', inserts: [[0, 0, 32000], [32000, 32000, 768]], want: [[0, 0, EXT_MAX_LEN]] },
  { name: 'refuses to merge beyond EXT_MAX_LEN', inserts: [[0, 0, EXT_MAX_LEN], [EXT_MAX_LEN, EXT_MAX_LEN, 1]], want: [[0, 0, EXT_MAX_LEN], [EXT_MAX_LEN, EXT_MAX_LEN, 1]] },
  { name: 'ignores empty and negative lengths', inserts: [[0, 1000, 0], [5, 1000, -3]], want: [] },
];

for (const c of INSERT_CASES) {
  test(`ExtentTree.insert ${c.name}`, () => {
    assert.deepEqual(dump(tree(...c.inserts)), c.want);
  });
}

test('EXT_MAX_LEN is EXT_INIT_MAX_LEN (32768 blocks)', () => {
  assert.equal(EXT_MAX_LEN, 32768);
});

/**
 * ext4_ext_insert_extent also merges a new extent into its right neighbour (prepend) and, after
 * inserting, ext4_ext_try_to_merge joins left and right: filling a hole between two physically
 * contiguous neighbours leaves one extent. The model only appends to the left neighbour.
 */
const INSERT_MERGE_RIGHT: InsertCase[] = [
  { name: 'prepends to a logically and physically contiguous successor', inserts: [[10, 1010, 5], [5, 1005, 5]], want: [[5, 1005, 10]] },
  { name: 'filling the hole between two contiguous neighbours leaves one extent', inserts: [[0, 1000, 5], [10, 1010, 5], [5, 1005, 5]], want: [[0, 1000, 15]] },
];
for (const c of INSERT_MERGE_RIGHT) {
  test(`ExtentTree.insert ${c.name}`, () => {
    assert.deepEqual(dump(tree(...c.inserts)), c.want);
  });
}

test('ExtentTree.insert refuses overlaps and leaves the tree unchanged', () => {
  const base: Ext[] = [
    [0, 1000, 10],
    [20, 2000, 5],
  ];
  const overlaps: Ext[] = [
    [5, 5000, 2], // inside the first extent
    [9, 5000, 1], // its last block
    [0, 5000, 1], // its first block (same lblk)
    [-2, 5000, 3], // ends inside it from the left
    [8, 5000, 5], // straddles its end
    [19, 5000, 2], // straddles the second extent's start
    [15, 5000, 20], // covers the whole second extent
    [22, 2002, 1], // inside, even at the "right" physical block
  ];
  for (const [l, p, n] of overlaps) {
    const t = tree(...base);
    assert.throws(() => t.insert(l, p, n), /extent overlap at/, `insert(${l}, ${p}, ${n})`);
    assert.deepEqual(dump(t), base, `unchanged after insert(${l}, ${p}, ${n})`);
  }
  // the holes themselves are fine, right up to both edges
  const t = tree(...base);
  t.insert(10, 3000, 10);
  t.insert(25, 4000, 1);
  assert.deepEqual(dump(t), [...base.slice(0, 1), [10, 3000, 10], [20, 2000, 5], [25, 4000, 1]]);
});

// ---- Ext4Fs on a booted machine --------------------------------------------------------------

function bootFs(): { fs: Ext4Fs; hddFs: Ext4Fs } {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  return { fs: m.devices[0]!.fs!, hddFs: m.devices[1]!.fs! };
}

test('Ext4Fs.createFile: fully allocated, logically gap-free, physically increasing in runs', () => {
  const { fs } = bootFs();
  const sizes = [1, 4096, 4097, 5 * MiB, 100 * MiB];
  for (const [i, size] of sizes.entries()) {
    const path = `/mnt/nvme/f${i}`;
    const inode = fs.createFile(path, size);
    assert.equal(inode.sizeBytes, size);
    assert.equal(inode.blockSizeBytes, EXT4_BLOCK_SIZE);
    assert.equal(inode.metadataDirty, false, 'fio lays files out before the run');
    assert.equal(fs.createFile(path, 1), inode, 'creating again returns the same inode');
    const blocks = Math.ceil(size / EXT4_BLOCK_SIZE);
    const exts = inode.extents.all();
    let lblk = 0;
    let prevEnd = -1;
    for (const e of exts) {
      assert.equal(e.lblk, lblk, `${path}: no logical holes`);
      assert.ok(e.len > 0 && e.len <= EXT_MAX_LEN);
      assert.ok(e.pblk > prevEnd, `${path}: physical blocks increase from run to run`);
      assert.ok(e.pblk + e.len <= fs.totalBlocks);
      // a run never overlaps the journal
      assert.ok(e.pblk + e.len <= fs.journalStartBlock || e.pblk >= fs.journalStartBlock + JOURNAL_BLOCKS);
      lblk += e.len;
      prevEnd = e.pblk + e.len - 1;
    }
    assert.equal(lblk, blocks, `${path}: every block mapped`);
  }
  // 100 MiB = 25600 blocks: mballoc-like runs of 8192 blocks, so 3 full runs and a 1024-block tail
  const big = fs.inodes.get('/mnt/nvme/f4')!;
  assert.deepEqual(
    big.extents.all().map((e) => e.len),
    [8192, 8192, 8192, 1024],
  );
  // inode numbers are handed out in order from the first non-reserved inode
  assert.deepEqual(
    sizes.map((_, i) => fs.inodes.get(`/mnt/nvme/f${i}`)!.ino),
    [12, 13, 14, 15, 16],
  );
});

test('Ext4Fs.createFile: two files never share a physical block', () => {
  const { fs } = bootFs();
  const owner = new Map<number, string>();
  for (let i = 0; i < 6; i++) {
    const path = `/mnt/nvme/s${i}`;
    for (const e of fs.createFile(path, (3 + i) * MiB).extents.all()) {
      // run starts are enough to catch a reuse of the same free space
      for (const b of [e.pblk, e.pblk + e.len - 1]) {
        assert.equal(owner.get(b), undefined, `block ${b} of ${path} already belongs to ${owner.get(b)}`);
        owner.set(b, path);
      }
    }
  }
  const all = [...fs.inodes.values()].flatMap((ino) => ino.extents.all().map((e) => [e.pblk, e.pblk + e.len] as const));
  all.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < all.length; i++) assert.ok(all[i]![0] >= all[i - 1]![1], 'extents of different files overlap');
});

test('Ext4Fs.mapBlocks(create=false): the extent from lblk on, undefined past the end', () => {
  const { fs } = bootFs();
  const inode = fs.createFile('/mnt/nvme/m', 40 * MiB); // 10240 blocks: runs of 8192 + 2048
  const [r0, r1] = inode.extents.all();
  assert.ok(r0 && r1);
  const table: [lblk: number, want: MappedExtent | undefined][] = [
    [0, { lblk: 0, pblk: r0.pblk, len: 8192 }],
    [100, { lblk: 100, pblk: r0.pblk + 100, len: 8092 }],
    [8191, { lblk: 8191, pblk: r0.pblk + 8191, len: 1 }],
    [8192, { lblk: 8192, pblk: r1.pblk, len: 2048 }],
    [10239, { lblk: 10239, pblk: r1.pblk + 2047, len: 1 }],
    [10240, undefined],
    [50_000, undefined],
  ];
  for (const [lblk, want] of table) {
    assert.deepEqual(fs.mapBlocks(inode, lblk, 4, false), want, `mapBlocks(${lblk})`);
    // the address_space operation the page cache uses is the same mapping
    assert.deepEqual(inode.aops.mapBlocks(inode, lblk, 4, false), want);
  }
  assert.equal(inode.metadataDirty, false, 'lookups dirty nothing');
  // mapping an already-mapped block with create=true allocates nothing
  const before = inode.extents.count;
  assert.deepEqual(fs.mapBlocks(inode, 5, 1, true), { lblk: 5, pblk: r0.pblk + 5, len: 8187 });
  assert.equal(inode.extents.count, before);
  assert.equal(inode.metadataDirty, false);
});

test('Ext4Fs.mapBlocks(create=true) over a hole: allocates up to the hole end, at the goal, and dirties metadata', () => {
  const { fs } = bootFs();
  const inode = fs.createFile('/mnt/nvme/h', 10 * EXT4_BLOCK_SIZE); // [0,10) in one run
  const [r0] = inode.extents.all();
  assert.ok(r0 && inode.extents.count === 1 && r0.len === 10);

  // a hole past the end of the file
  assert.equal(fs.mapBlocks(inode, 20, 5, false), undefined);
  assert.equal(inode.metadataDirty, false);
  const a = fs.mapBlocks(inode, 20, 5, true);
  // goal: the file's group, where the free space starts right after its last run
  assert.deepEqual(a, { lblk: 20, pblk: r0.pblk + 10, len: 5 });
  assert.equal(inode.metadataDirty, true);
  assert.deepEqual(fs.mapBlocks(inode, 22, 1, false), { lblk: 22, pblk: r0.pblk + 12, len: 3 });

  // the hole [10, 20) between two extents: a 100-block request stops at the hole's end
  inode.metadataDirty = false;
  const b = fs.mapBlocks(inode, 10, 100, true);
  assert.deepEqual(b, { lblk: 10, pblk: r0.pblk + 15, len: 10 });
  assert.equal(inode.metadataDirty, true);
  assert.deepEqual(
    dump(inode.extents),
    [
      [0, r0.pblk, 10],
      [10, r0.pblk + 15, 10],
      [20, r0.pblk + 10, 5],
    ],
  );
  // a zero-length request still maps the one block asked about
  inode.metadataDirty = false;
  assert.deepEqual(fs.mapBlocks(inode, 40, 0, true), { lblk: 40, pblk: r0.pblk + 25, len: 1 });
  assert.equal(inode.metadataDirty, true);
});

test('Ext4Fs.mapBlocks(create=true) on an empty file allocates and appends physically contiguously', () => {
  const { hddFs } = bootFs();
  const inode = hddFs.createFile('/mnt/hdd/empty', 0);
  assert.equal(inode.extents.count, 0);
  assert.equal(hddFs.mapBlocks(inode, 0, 8, false), undefined);
  const first = hddFs.mapBlocks(inode, 0, 8, true);
  assert.ok(first);
  assert.equal(first.lblk, 0);
  assert.equal(first.len, 8);
  assert.equal(inode.metadataDirty, true);
  // extending the file block by block, delalloc-style: each new block lands right after the last
  for (let l = 8; l < 16; l++) {
    assert.deepEqual(hddFs.mapBlocks(inode, l, 1, true), { lblk: l, pblk: first.pblk + l, len: 1 });
  }
  assert.deepEqual(dump(inode.extents), [[0, first.pblk, 16]], 'appended blocks merge into one extent');
});

// ---- sectors on the wire -----------------------------------------------------------------------

test('block_rq_issue sectors are pblk * 8: O_DIRECT reads follow the extents across a run boundary', () => {
  // bs = 192 blocks: the 43rd read straddles the first run's end at block 8192;
  // size = 8448 blocks: a run of 8192 and one of 256
  const job: JobSpec = jobSpec({ name: 'dio', filename: '/mnt/nvme/x.dat', bs: 768 * 1024, size: 33 * MiB, direct: true });
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [job]);
  const issues: [sector: number, bytes: number, rwbs: string][] = [];
  attach(m, 'tracepoint:block:block_rq_issue', (h) => {
    issues.push([Number(h.fields.sector), Number(h.fields.bytes), String(h.fields.rwbs)]);
  });
  m.startJobs([job], 1_000_000_000);
  m.run(1_000_000_000);
  assert.equal(m.jobs[0]!.stats.read.count, 44);
  assert.ok(m.jobs[0]!.stats.endNs > 0);

  const inode = m.devices[0]!.fs!.inodes.get(job.filename)!;
  const [r0, r1] = inode.extents.all();
  assert.ok(r0 && r1 && inode.extents.count === 2);
  assert.deepEqual([r0.len, r1.len], [8192, 256]);

  // expected: every read maps block by block through the extents to sector = pblk * 8
  const want: [number, number, string][] = [];
  for (let off = 0; off < job.size; off += job.bs) {
    let lblk = off / EXT4_BLOCK_SIZE;
    let left = job.bs / EXT4_BLOCK_SIZE;
    while (left > 0) {
      const e = inode.extents.lookup(lblk)!;
      const n = Math.min(left, e.len);
      want.push([e.pblk * 8, n * EXT4_BLOCK_SIZE, 'R']);
      lblk += n;
      left -= n;
    }
  }
  assert.equal(want.length, 45, 'one read crosses the run boundary');
  assert.deepEqual(issues, want);
  // the straddling read: 512 KiB at the end of run 0, then 256 KiB at the start of run 1
  assert.deepEqual(issues[42], [(r0.pblk + 8192 - 128) * 8, 512 * 1024, 'R']);
  assert.deepEqual(issues[43], [r1.pblk * 8, 256 * 1024, 'R']);
});
