// Models: the flash translation layer of an NVMe SSD's firmware: a page-mapped FTL (logical 4 KiB page ->
// physical page) with log-structured open blocks per die, over-provisioning, and garbage collection with
// a selectable victim policy (greedy, cost-benefit), after MQSim / FEMU bbssd / NVMeVirt conv_ftl
// (kernel-model-facts §10). The geometry scales with the requested capacity so the namespace is exact.

import { SimBug } from '../../sim/errors.js';
import { Kfifo } from '../../lib/kfifo.js';
import { LOGICAL_PAGE_BYTES, flashPageReadNs } from './nand.js';

export const SECTOR_BYTES = 512;
export const SECTORS_PER_PAGE = LOGICAL_PAGE_BYTES / SECTOR_BYTES;

/** Spare space over the exported capacity, (physical - logical) / logical. MQSim ssdconfig.xml 7 %; the 970 PRO's 512 GiB raw for 512 GB. */
export const OVER_PROVISIONING = 0.07;
/** Start GC on a die when free blocks fall below this fraction of its blocks. MQSim's hard threshold 0.5 % (GC_Hard_Threshold). */
export const GC_THRESHOLD_FRACTION = 0.005;
/** Free blocks per die that only GC may take, so GC can always relocate a victim. Assumption. */
export const GC_RESERVE_BLOCKS = 2;
/** Host open blocks per die when multi-stream is on: one for detected sequential runs or long-lived host streams, one for the rest. */
export const MULTI_STREAM_COUNT = 2;

/** Victim selection of garbage collection. */
export type GcPolicyName = 'greedy' | 'cost-benefit';
export const GC_POLICIES: readonly GcPolicyName[] = ['greedy', 'cost-benefit'];

export interface FtlConfig {
  readonly channels: number;
  readonly diesPerChannel: number;
  /** 4 KiB logical pages per flash page (the unit of one tR and one tPROG). */
  readonly pagesPerFlashPage: number;
  /** 4 KiB pages per erase block (a multiple of pagesPerFlashPage). */
  readonly pagesPerBlock: number;
  readonly blocksPerDie: number;
  /** Requested spare space, (physical - logical) / logical. */
  readonly overProvisioning: number;
  readonly gcThresholdFraction: number;
  readonly gcReserveBlocks: number;
  readonly gcPolicy: GcPolicyName;
  /** Host writes of different streams go to different open blocks. */
  readonly multiStream: boolean;
  /** Exported namespace in 512-byte sectors; absent: what blocksPerDie leaves after over-provisioning. */
  readonly capacitySectors?: number;
  /**
   * How the drive starts: 'sequential' full, every page written once in order (the default), or
   * 'random': then overwritten at random RANDOM_PRECONDITION_DRIVE_WRITES times over, in GC's steady state.
   */
  readonly precondition?: PreconditionName;
}

export type PreconditionName = 'sequential' | 'random';
/** Random overwrites of a 'random' precondition, in drive capacities (SNIA SSS PTS fills twice; GC settles within about that). */
export const RANDOM_PRECONDITION_DRIVE_WRITES = 3;

/** Which geometry fields the user fixed (the rest scale with the capacity). */
export interface FixedGeometry {
  readonly dies: boolean;
  readonly blockSize: boolean;
}

/** Blocks per die below which a capacity gets smaller erase blocks and then fewer dies. */
const MIN_LOGICAL_BLOCKS_PER_DIE = 64;
/** The smallest erase block the scaling goes down to, in flash pages. */
const MIN_FLASH_PAGES_PER_BLOCK = 2;
/** Largest pages per die before the scaling adds dies: keeps per-die numbers far from 2^31. */
const MAX_PAGES_PER_DIE = 2 ** 30;
/** Upper bound of dies per channel the scaling adds (the 8 TB class packs 16 to 32). */
const MAX_DIES_PER_CHANNEL = 64;

/** Free blocks a die must keep beyond the reserve: one open block per host stream, GC's, and one to make progress. */
function minSpareBlocks(c: Pick<FtlConfig, 'gcReserveBlocks' | 'multiStream'>): number {
  return c.gcReserveBlocks + (c.multiStream ? MULTI_STREAM_COUNT : 1) + 2;
}

/**
 * Blocks per die the host sees when no capacity is given: the over-provisioning hidden, but never
 * fewer spares than GC needs (every closed block could be fully valid while free blocks are down to
 * the reserve, and GC could never make room).
 */
export function nvmeLogicalBlocksPerDie(config: Pick<FtlConfig, 'blocksPerDie' | 'overProvisioning' | 'gcReserveBlocks' | 'multiStream'>): number {
  const byFraction = Math.floor(config.blocksPerDie / (1 + config.overProvisioning));
  return Math.min(byFraction, config.blocksPerDie - minSpareBlocks(config));
}

/** Host-visible capacity in 512-byte sectors of a drive of this geometry. */
export function nvmeCapacitySectors(config: FtlConfig): number {
  if (config.capacitySectors !== undefined) return config.capacitySectors;
  return nvmeLogicalBlocksPerDie(config) * config.pagesPerBlock * config.channels * config.diesPerChannel * SECTORS_PER_PAGE;
}

/** Logical pages the static striping puts on die `die` of `dies` (die 0 holds the most). */
export function logicalPagesOnDie(logicalPages: number, pagesPerFlashPage: number, dies: number, die: number): number {
  const groups = Math.floor(logicalPages / pagesPerFlashPage);
  const rest = logicalPages % pagesPerFlashPage;
  const extra = groups % dies;
  return Math.floor(groups / dies) * pagesPerFlashPage + (die < extra ? pagesPerFlashPage : 0) + (die === extra ? rest : 0);
}

/**
 * The geometry of a drive exporting exactly `capacityBytes`: blocks per die from the capacity plus
 * the over-provisioning (never fewer spares than GC needs). A small drive gets smaller erase blocks
 * and then fewer dies (unless the user fixed them) so the requested spare fraction still means
 * something; a huge one gets more dies per channel. Never fails: any capacity has a geometry.
 */
export function nvmeGeometryFor<T extends FtlConfig>(base: T, capacityBytes: number, fixed: FixedGeometry): T {
  const capacitySectors = Math.max(1, Math.floor(capacityBytes / SECTOR_BYTES));
  const logicalPages = Math.ceil(capacitySectors / SECTORS_PER_PAGE);
  const f = base.pagesPerFlashPage;
  let ppb = base.pagesPerBlock;
  let channels = base.channels;
  let diesPerChannel = base.diesPerChannel;
  const blocksOnDie0 = (): number => Math.ceil(logicalPagesOnDie(logicalPages, f, channels * diesPerChannel, 0) / ppb);
  if (!fixed.blockSize) {
    while (ppb >= 2 * MIN_FLASH_PAGES_PER_BLOCK * f && blocksOnDie0() < MIN_LOGICAL_BLOCKS_PER_DIE) ppb /= 2;
  }
  if (!fixed.dies) {
    while (channels * diesPerChannel > 1 && blocksOnDie0() < MIN_LOGICAL_BLOCKS_PER_DIE) {
      if (diesPerChannel > 1) diesPerChannel /= 2;
      else channels = Math.ceil(channels / 2);
    }
    while (diesPerChannel < MAX_DIES_PER_CHANNEL && blocksOnDie0() * ppb * (1 + base.overProvisioning) > MAX_PAGES_PER_DIE) diesPerChannel *= 2;
  }
  const logicalBlocks = blocksOnDie0();
  const spare = Math.max(Math.ceil(logicalBlocks * base.overProvisioning), minSpareBlocks(base));
  return { ...base, channels, diesPerChannel, pagesPerBlock: ppb, blocksPerDie: logicalBlocks + spare, capacitySectors };
}

// ---- Blocks and dies ------------------------------------------------------------------------------

const BLOCK_OPEN = 0;
const BLOCK_CLOSED = 1;
const BLOCK_VICTIM = 2;

export interface BlockState {
  readonly index: number;
  validCount: number;
  /** Reverse map page -> LPN (-1 = never written); null for a block still in the preconditioned layout. */
  readonly lpns: Float64Array | null;
  state: number;
  writePtr: number;
  /** When a page was last programmed into it (0: preconditioned); cost-benefit's age. */
  lastWriteNs: number;
}

/** The FTL's state of one die. */
export class FtlDie {
  /** Block states for blocks that left the preconditioned layout or were allocated (sparse). */
  readonly blocks = new Map<number, BlockState>();
  /** Closed blocks with at least one invalid page: GC's candidates. */
  readonly candidates = new Set<number>();
  nextFreshBlock: number;
  readonly erasedBlocks = new Kfifo<number>();
  /** Open block per host stream. */
  readonly hostOpen: (BlockState | null)[];
  gcOpen: BlockState | null = null;
  gcActive = false;
  gcVictim = -1;
  gcCursor = 0;
  /** Pages the victim held valid when GC chose it. */
  gcVictimValid = 0;

  constructor(
    readonly index: number,
    /** Pages of the preconditioned layout on this die: indices [0, preconditionedPages). */
    readonly preconditionedPages: number,
    pagesPerBlock: number,
    streams: number,
  ) {
    this.nextFreshBlock = Math.ceil(preconditionedPages / pagesPerBlock);
    this.hostOpen = new Array<BlockState | null>(streams).fill(null);
  }
}

/** A pluggable GC victim policy (an ops table, like the elevator ops). */
export interface GcPolicyOps {
  readonly name: GcPolicyName;
  /** The candidate block to clean next, or -1 when there is none. */
  selectVictim(die: FtlDie, pagesPerBlock: number, nowNs: number): number;
}

/** Greedy: the closed block with the fewest valid pages (first found on ties). */
const greedy: GcPolicyOps = {
  name: 'greedy',
  selectVictim(die, pagesPerBlock) {
    let best = -1;
    let bestValid = pagesPerBlock;
    for (const index of die.candidates) {
      const v = die.blocks.get(index)!.validCount;
      if (v < bestValid) {
        best = index;
        bestValid = v;
        if (v === 0) break;
      }
    }
    return best;
  },
};

/**
 * Cost-benefit (Kawaguchi et al., USENIX 1995, after Rosenblum's LFS cleaner): the block with the
 * highest (1 - u) * age / 2u, u its valid fraction and age the time since it was last written; cold
 * blocks are cleaned at a higher utilisation than hot ones, whose pages are still dying.
 */
const costBenefit: GcPolicyOps = {
  name: 'cost-benefit',
  selectVictim(die, pagesPerBlock, nowNs) {
    let best = -1;
    let bestScore = -1;
    for (const index of die.candidates) {
      const blk = die.blocks.get(index)!;
      if (blk.validCount === 0) return index;
      const u = blk.validCount / pagesPerBlock;
      const score = ((1 - u) * (nowNs - blk.lastWriteNs + 1)) / (2 * u);
      if (score > bestScore) {
        best = index;
        bestScore = score;
      }
    }
    return best;
  },
};

export const GC_POLICY_OPS: Readonly<Record<GcPolicyName, GcPolicyOps>> = { greedy, 'cost-benefit': costBenefit };

/** What the FTL tells the controller. */
export interface FtlObserver {
  /** GC should run on this die (queue a GC step). */
  requestGc(die: number): void;
  /** GC chose a victim block holding `validPages` valid pages; `freeBlocks` are left on the die. */
  onGcVictim(die: number, block: number, validPages: number, freeBlocks: number): void;
  /** GC erased a block after copying `copiedPages` out of it. */
  onErase(die: number, block: number, copiedPages: number): void;
}

/** LPNs per chunk of the sparse remap table. */
const MAP_CHUNK_PAGES = 4096;

/** The page-mapped FTL: mapping, blocks, and garbage collection (the die operations are the controller's). */
export class Ftl {
  readonly dieCount: number;
  readonly pagesPerFlashPage: number;
  readonly pagesPerBlock: number;
  readonly blocksPerDie: number;
  readonly pagesPerDie: number;
  readonly logicalPages: number;
  readonly capacitySectors: number;
  readonly streams: number;
  readonly dies: FtlDie[] = [];
  private readonly gcThresholdBlocks: number;
  private readonly gcReserveBlocks: number;
  private readonly policy: GcPolicyOps;

  /** LPN -> PPN for LPNs that left their preconditioned location, in chunks allocated on first write. */
  private readonly remap = new Map<number, Float64Array>();

  // counters
  hostProgramPages = 0;
  gcCopies = 0;
  erases = 0;
  gcVictims = 0;
  /** tR of the GC step planned last (read by the controller to build its phases). */
  gcStepReadNs = 0;
  /** Preconditioning: GC runs at once, inside the write that needs it, and nothing is reported. */
  private inline = false;

  constructor(
    config: FtlConfig,
    private readonly observer: FtlObserver,
  ) {
    this.dieCount = config.channels * config.diesPerChannel;
    this.pagesPerFlashPage = config.pagesPerFlashPage;
    this.pagesPerBlock = config.pagesPerBlock;
    this.blocksPerDie = config.blocksPerDie;
    this.pagesPerDie = config.blocksPerDie * config.pagesPerBlock;
    this.capacitySectors = nvmeCapacitySectors(config);
    this.logicalPages = Math.ceil(this.capacitySectors / SECTORS_PER_PAGE);
    this.streams = config.multiStream ? MULTI_STREAM_COUNT : 1;
    this.gcReserveBlocks = config.gcReserveBlocks;
    this.gcThresholdBlocks = Math.max(config.gcReserveBlocks + 1, Math.ceil(config.gcThresholdFraction * config.blocksPerDie));
    this.policy = GC_POLICY_OPS[config.gcPolicy];
    if (this.pagesPerBlock % this.pagesPerFlashPage !== 0) {
      throw new SimBug('NvmeSsd: pagesPerBlock must be a multiple of pagesPerFlashPage');
    }
    for (let d = 0; d < this.dieCount; d++) {
      const pages = logicalPagesOnDie(this.logicalPages, this.pagesPerFlashPage, this.dieCount, d);
      this.dies.push(new FtlDie(d, pages, this.pagesPerBlock, this.streams));
    }
    const spare = this.blocksPerDie - this.dies[0]!.nextFreshBlock;
    if (spare < minSpareBlocks(config)) {
      throw new SimBug(`NvmeSsd: ${this.blocksPerDie} blocks per die leave ${spare} spare, GC needs ${minSpareBlocks(config)}`);
    }
  }

  /** Physical pages over logical pages, less one: the over-provisioning the drive really has. */
  effectiveOverProvisioning(): number {
    return (this.dieCount * this.pagesPerDie) / this.logicalPages - 1;
  }

  // ---- Mapping ----------------------------------------------------------------------------------

  /** Preconditioned location: flash-page-sized groups of LPNs striped over dies, then packed per die. */
  private defaultPpn(lpn: number): number {
    const f = this.pagesPerFlashPage;
    const group = Math.floor(lpn / f);
    const die = group % this.dieCount;
    const indexInDie = Math.floor(group / this.dieCount) * f + (lpn % f);
    return die * this.pagesPerDie + indexInDie;
  }

  /** Inverse of defaultPpn for a page of a block still in the preconditioned layout (-1: none there). */
  private defaultLpnAt(die: FtlDie, block: number, page: number): number {
    const f = this.pagesPerFlashPage;
    const indexInDie = block * this.pagesPerBlock + page;
    if (indexInDie >= die.preconditionedPages) return -1;
    return (Math.floor(indexInDie / f) * this.dieCount + die.index) * f + (indexInDie % f);
  }

  lookup(lpn: number): number {
    const chunk = this.remap.get(Math.floor(lpn / MAP_CHUNK_PAGES));
    if (chunk !== undefined) {
      const ppn = chunk[lpn % MAP_CHUNK_PAGES]!;
      if (ppn >= 0) return ppn;
    }
    return this.defaultPpn(lpn);
  }

  private setMapping(lpn: number, ppn: number): void {
    const key = Math.floor(lpn / MAP_CHUNK_PAGES);
    let chunk = this.remap.get(key);
    if (chunk === undefined) {
      chunk = new Float64Array(MAP_CHUNK_PAGES).fill(-1);
      this.remap.set(key, chunk);
    }
    chunk[lpn % MAP_CHUNK_PAGES] = ppn;
  }

  /** Static allocation (MQSim CWDP-like): an LPN always lives on the die of its preconditioned place. */
  dieOfLpn(lpn: number): number {
    return Math.floor(lpn / this.pagesPerFlashPage) % this.dieCount;
  }

  dieOfPpn(ppn: number): number {
    return Math.floor(ppn / this.pagesPerDie);
  }

  freeBlocks(die: FtlDie): number {
    return this.blocksPerDie - die.nextFreshBlock + die.erasedBlocks.length;
  }

  private blockBasePpn(die: FtlDie, blk: BlockState): number {
    return (die.index * this.blocksPerDie + blk.index) * this.pagesPerBlock;
  }

  /** Writes `lpn` at the block's write pointer, invalidating its old page. */
  private place(lpn: number, die: FtlDie, blk: BlockState, nowNs: number): void {
    const page = blk.writePtr++;
    this.invalidate(this.lookup(lpn));
    this.setMapping(lpn, this.blockBasePpn(die, blk) + page);
    blk.lpns![page] = lpn;
    blk.validCount++;
    blk.lastWriteNs = nowNs;
  }

  private invalidate(ppn: number): void {
    const die = this.dies[this.dieOfPpn(ppn)]!;
    const blockIndex = Math.floor((ppn % this.pagesPerDie) / this.pagesPerBlock);
    let blk = die.blocks.get(blockIndex);
    if (blk === undefined) {
      const ppb = this.pagesPerBlock;
      const valid = Math.min(ppb, die.preconditionedPages - blockIndex * ppb);
      if (valid <= 0) throw new SimBug(`NvmeSsd: mapped page in untracked block ${blockIndex}`);
      // First invalidation in a block of the preconditioned layout: start tracking it.
      blk = { index: blockIndex, validCount: valid, lpns: null, state: BLOCK_CLOSED, writePtr: ppb, lastWriteNs: 0 };
      die.blocks.set(blockIndex, blk);
    }
    blk.validCount--;
    if (blk.state === BLOCK_CLOSED) die.candidates.add(blockIndex);
  }

  /** The die's open block for host data of `stream` (or GC copies) with room, allocating one if needed. */
  private openBlock(die: FtlDie, stream: number, nowNs: number): BlockState | null {
    const forGc = stream < 0;
    const cur = forGc ? die.gcOpen : die.hostOpen[stream]!;
    if (cur !== null && cur.writePtr < this.pagesPerBlock) return cur;
    const free = this.freeBlocks(die);
    if (forGc ? free === 0 : free <= this.gcReserveBlocks) return null;
    const index = die.nextFreshBlock < this.blocksPerDie ? die.nextFreshBlock++ : die.erasedBlocks.shift()!;
    const blk: BlockState = {
      index,
      validCount: 0,
      lpns: new Float64Array(this.pagesPerBlock).fill(-1),
      state: BLOCK_OPEN,
      writePtr: 0,
      lastWriteNs: nowNs,
    };
    die.blocks.set(index, blk);
    if (forGc) die.gcOpen = blk;
    else die.hostOpen[stream] = blk;
    if (this.freeBlocks(die) < this.gcThresholdBlocks) this.startGc(die);
    return blk;
  }

  private closeBlock(die: FtlDie, blk: BlockState): void {
    blk.state = BLOCK_CLOSED;
    if (blk.validCount < this.pagesPerBlock) die.candidates.add(blk.index);
  }

  /**
   * Room for a host program of up to `want` pages of `stream` on the die: the pages its open block
   * takes before it is full (0: only the GC reserve is left, GC has been asked to run).
   */
  hostRoom(dieIndex: number, stream: number, want: number, nowNs: number): number {
    const die = this.dies[dieIndex]!;
    const blk = this.openBlock(die, stream, nowNs);
    if (blk === null) {
      this.startGc(die);
      return 0;
    }
    return Math.min(want, this.pagesPerBlock - blk.writePtr);
  }

  /** Programs host page `lpn` into the stream's open block (hostRoom said there is room). */
  programHost(dieIndex: number, stream: number, lpn: number, nowNs: number): void {
    const die = this.dies[dieIndex]!;
    const blk = die.hostOpen[stream]!;
    this.place(lpn, die, blk, nowNs);
    this.hostProgramPages++;
    if (blk.writePtr === this.pagesPerBlock) {
      this.closeBlock(die, blk);
      die.hostOpen[stream] = null;
    }
  }

  // ---- Garbage collection -----------------------------------------------------------------------

  private startGc(die: FtlDie): void {
    if (die.gcActive) return;
    die.gcActive = true;
    if (!this.inline) {
      this.observer.requestGc(die.index);
      return;
    }
    for (;;) {
      const copied = this.gcStep(die.index, 0);
      if (copied < 0 || !this.gcStepDone(die.index, copied === 0)) return;
    }
  }

  /**
   * Brings the drive to GC's steady state without simulated time: `pages` uniformly random host
   * page writes through the mapping and GC (as a SNIA-style preconditioning run would, but with no
   * die timing), then the counters start from zero. Cost: about 16 µs of host time a page written at
   * 7 % spare (the GC copies it causes included).
   */
  precondition(pages: number, randomLpn: () => number): void {
    this.inline = true;
    for (let i = 0; i < pages; i++) {
      const lpn = randomLpn();
      const die = this.dieOfLpn(lpn);
      // the first try may find only the reserve and clean a block (inline); the second has room
      if (this.hostRoom(die, 0, 1, 0) === 0 && this.hostRoom(die, 0, 1, 0) === 0) throw new SimBug(`NvmeSsd: precondition found no room on die ${die}`);
      this.programHost(die, 0, lpn, 0);
    }
    this.inline = false;
    this.hostProgramPages = 0;
    this.gcCopies = 0;
    this.erases = 0;
    this.gcVictims = 0;
  }

  /**
   * Plans one GC step on the die: relocates up to a flash page of the victim's valid pages (their
   * tR in gcStepReadNs) and returns how many, or returns 0 when the victim is empty and is to be
   * erased, or -1 when there is nothing to clean (GC stops).
   */
  gcStep(dieIndex: number, nowNs: number): number {
    const die = this.dies[dieIndex]!;
    this.gcStepReadNs = 0;
    if (die.gcVictim < 0) {
      const victim = this.policy.selectVictim(die, this.pagesPerBlock, nowNs);
      if (victim < 0) {
        die.gcActive = false;
        return -1;
      }
      const blk = die.blocks.get(victim)!;
      die.candidates.delete(victim);
      blk.state = BLOCK_VICTIM;
      die.gcVictim = victim;
      die.gcCursor = 0;
      die.gcVictimValid = blk.validCount;
      this.gcVictims++;
      if (!this.inline) this.observer.onGcVictim(die.index, victim, blk.validCount, this.freeBlocks(die));
    }
    const victim = die.blocks.get(die.gcVictim)!;
    const victimBasePpn = this.blockBasePpn(die, victim);
    let dest: BlockState | null = null;
    let limit = this.pagesPerFlashPage;
    let copied = 0;
    let readNs = 0;
    let lastFlashPage = -1;
    let lastFlashPageCount = 0;
    while (die.gcCursor < this.pagesPerBlock && copied < limit && victim.validCount > 0) {
      const page = die.gcCursor++;
      const lpn = victim.lpns !== null ? victim.lpns[page]! : this.defaultLpnAt(die, victim.index, page);
      if (lpn < 0 || this.lookup(lpn) !== victimBasePpn + page) continue;
      if (dest === null) {
        dest = this.openBlock(die, -1, nowNs);
        if (dest === null) throw new SimBug(`NvmeSsd: die ${die.index} GC reserve exhausted`);
        // A step programs one flash page's worth and never spans two destination blocks.
        limit = Math.min(limit, this.pagesPerBlock - dest.writePtr);
      }
      const flashPage = Math.floor(page / this.pagesPerFlashPage);
      if (flashPage !== lastFlashPage) {
        readNs += flashPageReadNs(lastFlashPageCount);
        lastFlashPage = flashPage;
        lastFlashPageCount = 0;
      }
      lastFlashPageCount++;
      this.place(lpn, die, dest, nowNs);
      copied++;
    }
    readNs += flashPageReadNs(lastFlashPageCount);
    if (dest !== null && dest.writePtr === this.pagesPerBlock) {
      this.closeBlock(die, dest);
      die.gcOpen = null;
    }
    if (copied === 0 && victim.validCount > 0) {
      throw new SimBug(`NvmeSsd: GC victim ${victim.index} counts ${victim.validCount} valid pages but has none`);
    }
    this.gcCopies += copied;
    this.gcStepReadNs = readNs;
    return copied;
  }

  /** A GC step ended; `erased` when it erased the victim. True when GC goes on with another step. */
  gcStepDone(dieIndex: number, erased: boolean): boolean {
    const die = this.dies[dieIndex]!;
    if (erased) {
      const victim = die.gcVictim;
      die.blocks.delete(victim);
      die.erasedBlocks.push(victim);
      die.gcVictim = -1;
      this.erases++;
      if (!this.inline) this.observer.onErase(die.index, victim, die.gcVictimValid);
    }
    // SIMPLIFICATION: GC runs until the free-block threshold is met again, in steps queued FIFO with
    // host work on the die (no program/erase suspension, no read priority).
    if (die.gcVictim >= 0 || this.freeBlocks(die) < this.gcThresholdBlocks) return true;
    die.gcActive = false;
    return false;
  }

  // ---- Inspection -------------------------------------------------------------------------------

  stats(): { trackedBlocks: number; freeBlocks: number; remapChunks: number } {
    let trackedBlocks = 0;
    let freeBlocks = 0;
    for (const die of this.dies) {
      trackedBlocks += die.blocks.size;
      freeBlocks += this.freeBlocks(die);
    }
    return { trackedBlocks, freeBlocks, remapChunks: this.remap.size };
  }

  /**
   * Checks the bookkeeping against the mapping table: every LPN maps to a page on its own die whose
   * reverse map names it, and each tracked block's valid count matches. Walks every LPN, so it is
   * meant for tests on small devices. Throws SimBug on a mismatch.
   */
  audit(): void {
    const validPerBlock = new Map<number, number>();
    for (let lpn = 0; lpn < this.logicalPages; lpn++) {
      const ppn = this.lookup(lpn);
      const dieIndex = this.dieOfPpn(ppn);
      if (dieIndex !== this.dieOfLpn(lpn)) throw new SimBug(`NvmeSsd audit: LPN ${lpn} left its die`);
      const die = this.dies[dieIndex]!;
      const blockIndex = Math.floor((ppn % this.pagesPerDie) / this.pagesPerBlock);
      const blk = die.blocks.get(blockIndex);
      const mapsBack =
        blk !== undefined && blk.lpns !== null ? blk.lpns[ppn % this.pagesPerBlock] === lpn : this.defaultPpn(lpn) === ppn;
      if (!mapsBack) throw new SimBug(`NvmeSsd audit: reverse map of PPN ${ppn} does not name LPN ${lpn}`);
      const key = dieIndex * this.blocksPerDie + blockIndex;
      validPerBlock.set(key, (validPerBlock.get(key) ?? 0) + 1);
    }
    for (const die of this.dies) {
      for (const blk of die.blocks.values()) {
        const expected = validPerBlock.get(die.index * this.blocksPerDie + blk.index) ?? 0;
        if (blk.validCount !== expected) {
          throw new SimBug(`NvmeSsd audit: die ${die.index} block ${blk.index} counts ${blk.validCount} valid, has ${expected}`);
        }
        const isCandidate = die.candidates.has(blk.index);
        const shouldBe = blk.state === BLOCK_CLOSED && blk.validCount < this.pagesPerBlock;
        if (isCandidate !== shouldBe) throw new SimBug(`NvmeSsd audit: GC candidate set wrong for block ${blk.index}`);
      }
    }
  }
}
