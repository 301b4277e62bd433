// Models: fs/ext4/super.c, fs/ext4/mballoc.c and fs/ext4/inode.c as far as the data path needs:
// a filesystem on a block device with 4 KiB blocks, a block allocator handing out runs of free
// blocks (files laid out in flex groups, not perfectly contiguous), inodes with extent trees, and
// a journal area at a fixed place on the device, with the handles fs/ext4/ext4_jbd2.c starts:
// ext4_mark_inode_dirty (i_sync_tid, i_datasync_tid), allocations dirtying bitmaps and adding
// data=ordered ranges, and data=journal's ext4_journalled_write_end.
// SIMPLIFICATION: a flat namespace (path -> inode, no directories or dentry cache); allocation is
// a bump allocator per flex group (mballoc's goal-based preallocation gives similar layouts).

import { ExtentTree } from './extents.js';
import { AddressSpace, PAGE_SIZE, type Folio } from '../../mm/mm_types.js';
import { EXT4_HT, Journal, type Transaction } from '../jbd2/journal.js';
import { DEFAULT_MOUNT_OPTIONS, type MountOptions } from '../../userspace/job.js';
import { S_IFREG, type AddressSpaceOps, type FileOperations, type Inode, type MappedExtent } from '../types.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Random } from '../../sim/random.js';
import { SimBug } from '../../sim/errors.js';

export const EXT4_BLOCK_SIZE = 4096;
/** Blocks per flex group (16 block groups of 32768 blocks = 2 GiB). */
const FLEX_GROUP_BLOCKS = 16 * 32768;
/** Journal size of a filesystem of 16 GiB and more: 128 MiB, in the middle of the disk as mkfs.ext4 places it. */
export const JOURNAL_BLOCKS = 32768;
/** mballoc's stripe of a large allocation: files are laid out in runs of this many blocks. */
const ALLOC_RUN_BLOCKS = 8192;
/** Blocks skipped after a full run, as other allocations interleave on a real disk. */
const RUN_GAP_BLOCKS = 16;

/** Where mkfs put things: the first free block of each flex group, and the journal. */
export interface Ext4Layout {
  readonly totalBlocks: number;
  /** One entry per flex group; group g spans [g * FLEX_GROUP_BLOCKS, groupEnd(g)). */
  readonly groupFirstFree: readonly number[];
  readonly journalStartBlock: number;
  readonly journalBlocks: number;
}

/**
 * mke2fs's default journal size (ext2fs_default_journal_size) for a filesystem of `totalBlocks`.
 * SIMPLIFICATION: capped at 128 MiB (newer e2fsprogs give filesystems over 32 GiB up to 1 GiB).
 */
function journalBlocksFor(totalBlocks: number): number {
  if (totalBlocks < 32768) return 1024; // 4 MiB
  if (totalBlocks < 256 * 1024) return 4096; // 16 MiB
  if (totalBlocks < 512 * 1024) return 8192; // 32 MiB
  if (totalBlocks < 4096 * 1024) return 16384; // 64 MiB
  return JOURNAL_BLOCKS;
}

/** The end (exclusive) of flex group g: the last group also takes the blocks past the last whole group. */
function groupEnd(g: number, groups: number, totalBlocks: number): number {
  return g === groups - 1 ? totalBlocks : (g + 1) * FLEX_GROUP_BLOCKS;
}

/**
 * The layout mkfs.ext4 gives a device of `capacityBytes`: 2 GiB flex groups, each starting with
 * its bitmaps and inode tables (~1% of the group), and the journal at the start of the middle group.
 */
export function ext4Layout(capacityBytes: number): Ext4Layout {
  const totalBlocks = Math.floor(capacityBytes / EXT4_BLOCK_SIZE);
  const groups = Math.max(1, Math.floor(totalBlocks / FLEX_GROUP_BLOCKS));
  const metadataBlocks = Math.ceil(Math.min(FLEX_GROUP_BLOCKS, totalBlocks) / 100);
  const groupFirstFree: number[] = [];
  for (let g = 0; g < groups; g++) groupFirstFree.push(g * FLEX_GROUP_BLOCKS + metadataBlocks);
  const jg = Math.floor(groups / 2);
  const journalStartBlock = jg * FLEX_GROUP_BLOCKS + metadataBlocks;
  const journalBlocks = journalBlocksFor(totalBlocks);
  groupFirstFree[jg] = journalStartBlock + journalBlocks;
  return { totalBlocks, groupFirstFree, journalStartBlock, journalBlocks };
}

/** Blocks files can have on a fresh filesystem of `capacityBytes` (0 when metadata and journal fill it). */
export function ext4FreeBlocks(capacityBytes: number): number {
  const layout = ext4Layout(capacityBytes);
  const groups = layout.groupFirstFree.length;
  let free = 0;
  for (let g = 0; g < groups; g++) free += Math.max(0, groupEnd(g, groups, layout.totalBlocks) - layout.groupFirstFree[g]!);
  return free;
}

/**
 * Blocks a file of `sizeBytes` takes from the allocator: its data, plus the gap left after each
 * full allocation run (see allocate), so that a set of files whose costs sum to at most
 * ext4FreeBlocks() is sure to be laid out.
 */
export function ext4FileCostBlocks(sizeBytes: number): number {
  const blocks = Math.ceil(sizeBytes / EXT4_BLOCK_SIZE);
  return blocks + RUN_GAP_BLOCKS * Math.floor(blocks / ALLOC_RUN_BLOCKS);
}

export class Ext4Inode implements Inode {
  readonly mapping: AddressSpace;
  readonly extents = new ExtentTree();
  /**
   * i_sync_tid / i_datasync_tid: the last transaction that changed the inode at all (fsync waits
   * for it) and the last that changed what fdatasync needs (size, blocks, journalled data).
   */
  syncTid = 0;
  datasyncTid = 0;
  /** The jiffy of the last timestamp update (file_update_time changes them once per clock tick). */
  timesJiffy = -1;
  writeHint = 0;
  fs!: Ext4Fs;

  constructor(
    readonly kaddr: number,
    readonly ino: number,
    readonly sDev: number,
    readonly bdevDev: number,
    readonly mode: number,
    public sizeBytes: number,
    readonly blockSizeBytes: number,
    readonly aops: AddressSpaceOps,
    readonly fops: FileOperations,
    readonly path: string,
    mappingKaddr: number,
  ) {
    this.mapping = new AddressSpace(mappingKaddr, this);
  }

  /** Metadata fdatasync needs is in a transaction not yet committed. */
  get metadataDirty(): boolean {
    return this.datasyncTid > this.fs.journal.commitSequence;
  }

  /** Setting it is ext4_mark_inode_dirty of a size or block change (the VFS's generic paths do). */
  set metadataDirty(v: boolean) {
    if (v) this.fs.markInodeDirty(this, true);
  }
}

export class Ext4Fs {
  readonly inodes = new Map<string, Ext4Inode>();
  private nextIno = 12; // the first non-reserved inode (EXT4_FIRST_INO 11 is lost+found)
  /** Next free block per flex group. */
  private readonly groupNext: number[] = [];
  readonly totalBlocks: number;
  readonly journalStartBlock: number;
  readonly journalBlocks: number;
  readonly journal: Journal;
  readonly aops: AddressSpaceOps;
  /** sb->s_flags & SB_RDONLY: ext4 goes read-only when its journal aborts; writes then fail with -EROFS. */
  get readOnly(): boolean {
    return this.journal.aborted;
  }

  constructor(
    private readonly k: Kernel,
    readonly dev: number,
    readonly mountPoint: string,
    capacityBytes: number,
    readonly fops: FileOperations,
    private readonly rng: Random,
    readonly mountOptions: MountOptions = DEFAULT_MOUNT_OPTIONS,
    devName = '',
  ) {
    const layout = ext4Layout(capacityBytes);
    this.totalBlocks = layout.totalBlocks;
    this.groupNext.push(...layout.groupFirstFree);
    this.journalStartBlock = layout.journalStartBlock;
    this.journalBlocks = layout.journalBlocks;
    this.journal = new Journal(k, {
      dev,
      devName,
      startBlock: layout.journalStartBlock,
      blocks: layout.journalBlocks,
      dataMode: mountOptions.data,
      commitSec: mountOptions.commitSec,
      barrier: mountOptions.barrier,
    });
    const mapBlocks = (inode: Inode, lblk: number, len: number, create: boolean) => this.mapBlocks(inode as Ext4Inode, lblk, len, create);
    this.aops = mountOptions.data === 'journal' ? { mapBlocks, writeEnd: (inode, f) => this.journalledWriteEnd(inode as Ext4Inode, f) } : { mapBlocks };
  }

  /** The inode-table block holding `inode` (16 inodes of 256 bytes per block, spread over flex groups). */
  private inodeTableBlock(inode: Ext4Inode): number {
    const groups = this.groupNext.length;
    return (inode.ino % groups) * FLEX_GROUP_BLOCKS + 2 + Math.floor(inode.ino / groups / 16);
  }

  /**
   * ext4_mark_inode_dirty in a handle: the inode's table block joins the running transaction, and
   * the inode remembers the transaction (ext4_update_inode_fsync_trans) for fsync, and for
   * fdatasync when `datasync` (size or block changes).
   */
  markInodeDirty(inode: Ext4Inode, datasync: boolean, t: Transaction = this.journal.handle(EXT4_HT.INODE, 1)): void {
    const j = this.journal;
    j.dirtyMetadata(t, this.inodeTableBlock(inode));
    inode.syncTid = t.tid;
    if (datasync) inode.datasyncTid = t.tid;
  }

  /**
   * file_update_time -> ext4_dirty_inode: mtime/ctime change at most once per clock tick (the
   * coarse clock), each change a handle that only fsync (not fdatasync) must wait for.
   * SIMPLIFICATION: no multigrain timestamps (Linux 6.13+ gives a queried inode fine-grained ones).
   */
  fileUpdateTime(inode: Ext4Inode, jiffy: number): void {
    if (inode.timesJiffy === jiffy) return;
    inode.timesJiffy = jiffy;
    this.markInodeDirty(inode, false);
  }

  /**
   * ext4_journalled_write_end (data=journal): the page's block is allocated now (no delayed
   * allocation with data=journal) and its buffer joins the running transaction as metadata does.
   */
  private journalledWriteEnd(inode: Ext4Inode, f: Folio): void {
    const bpp = PAGE_SIZE / EXT4_BLOCK_SIZE;
    const ext = this.mapBlocks(inode, f.index * bpp, bpp, true);
    const j = this.journal;
    const t = j.handle(EXT4_HT.WRITE_PAGE, 1);
    if (ext) j.dirtyData(t, f, ext.pblk);
    inode.datasyncTid = t.tid;
    inode.syncTid = t.tid;
  }

  /**
   * Creates a regular file of `sizeBytes` at `path` (under this filesystem's own mount point),
   * fully allocated (as fio lays out its files). `shownPath` is the name it was created by (through
   * a bind mount it differs), which traces show.
   */
  createFile(path: string, sizeBytes: number, shownPath = path): Ext4Inode {
    const existing = this.inodes.get(path);
    if (existing) return existing;
    const inode = this.newInode(path, sizeBytes, shownPath);
    const blocks = Math.ceil(sizeBytes / EXT4_BLOCK_SIZE);
    // Orlov-like: spread new files over flex groups, pick one from the seeded PRNG
    const group = this.rng.int(this.groupNext.length);
    // the scenario validator checks that files fit, so a short allocation is our bug
    if (this.allocate(inode, 0, blocks, group) < blocks) throw new SimBug(`${path}: does not fit on ${this.mountPoint}`);
    return inode;
  }

  /**
   * Creates a sparse file: `sizeBytes` long with no blocks (ftruncate of a new file); writes
   * allocate as they go, reads of holes return zeros without I/O.
   */
  createSparseFile(path: string, sizeBytes: number, shownPath = path): Ext4Inode {
    return this.inodes.get(path) ?? this.newInode(path, sizeBytes, shownPath);
  }

  private newInode(path: string, sizeBytes: number, shownPath: string): Ext4Inode {
    const inode = new Ext4Inode(this.k.kaddr(), this.nextIno++, this.dev, this.dev, S_IFREG | 0o644, sizeBytes, EXT4_BLOCK_SIZE, this.aops, this.fops, shownPath, this.k.kaddr());
    inode.fs = this;
    this.inodes.set(path, inode);
    return inode;
  }

  /**
   * Allocates up to `count` blocks for inode starting at lblk, in runs, starting in `group`.
   * Returns how many it got (fewer only when the filesystem is full).
   */
  private allocate(inode: Ext4Inode, lblk: number, count: number, group: number): number {
    let remaining = count;
    let g = group;
    let l = lblk;
    let tries = 0;
    while (remaining > 0) {
      const next = this.groupNext[g]!;
      const free = groupEnd(g, this.groupNext.length, this.totalBlocks) - next;
      if (free <= 0) {
        g = (g + 1) % this.groupNext.length;
        if (++tries > this.groupNext.length) return count - remaining; // ENOSPC
        continue;
      }
      const run = Math.min(remaining, free, ALLOC_RUN_BLOCKS);
      inode.extents.insert(l, next, run);
      this.groupNext[g] = next + run;
      // a small gap between runs, as other allocations interleave on a real disk
      if (run === ALLOC_RUN_BLOCKS) this.groupNext[g] = this.groupNext[g]! + RUN_GAP_BLOCKS;
      l += run;
      remaining -= run;
    }
    return count;
  }

  /** ext4_map_blocks: map, allocating holes when `create`. */
  mapBlocks(inode: Ext4Inode, lblk: number, len: number, create: boolean): MappedExtent | undefined {
    const hit = inode.extents.lookup(lblk);
    if (hit) return hit;
    if (!create) return undefined;
    const holeEnd = inode.extents.nextMapped(lblk);
    const n = Math.max(1, Math.min(len, holeEnd - lblk));
    // goal: the group of the file's last extent (mballoc's goal block), else group 0
    const all = inode.extents.all();
    const last = all[all.length - 1];
    const group = last ? Math.min(this.groupNext.length - 1, Math.floor(last.pblk / FLEX_GROUP_BLOCKS)) : 0;
    if (this.allocate(inode, lblk, n, group) === 0) return undefined; // -ENOSPC
    const ext = inode.extents.lookup(lblk);
    // ext4_ext_map_blocks in a handle: the block bitmap of the group the blocks came from, the
    // group descriptor block and the inode (its extents and i_disksize) join the running
    // transaction; with data=ordered the new blocks' data must be on disk before it commits
    // (ext4_jbd2_inode_add_wait)
    const j = this.journal;
    // ext4_writepages' handle (EXT4_HT_WRITE_PAGE): the inode, a bitmap and a group descriptor
    const t = j.handle(EXT4_HT.WRITE_PAGE, 3);
    const allocGroup = Math.floor((ext?.pblk ?? 0) / FLEX_GROUP_BLOCKS);
    j.dirtyMetadata(t, allocGroup * FLEX_GROUP_BLOCKS);
    j.dirtyMetadata(t, 1);
    this.markInodeDirty(inode, true, t);
    if (j.dataMode === 'ordered') j.inodeAddWrite(t, inode, lblk * EXT4_BLOCK_SIZE, (lblk + n) * EXT4_BLOCK_SIZE);
    return ext;
  }
}
