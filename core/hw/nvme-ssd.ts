// Models: an NVMe SSD controller and NAND back end (the device behind drivers/nvme/host/pci.c), after
// NVMeVirt's Samsung 970 PRO profile: SQ fetch, firmware, DRAM write buffer, page-mapped FTL + GC, PCIe DMA, MSI-X.

import { Priority, type Environment } from '../sim/engine.js';
import { SimBug } from '../sim/errors.js';
import type { Random } from '../sim/random.js';
import { Kfifo } from '../lib/kfifo.js';
import type { NvmeApst } from './nvme-apst.js';
import type {
  BlockDeviceHw,
  DeviceCommand,
  DeviceCompletion,
  DeviceHost,
  DmaDirection,
  MediaDetail,
} from './device.js';

// ---- Units ----------------------------------------------------------------------------------------

export const SECTOR_BYTES = 512;
/** FTL mapping unit: 4 KiB logical page (NVMeVirt spp->pgsz = 8 sectors of 512 B). */
export const LOGICAL_PAGE_BYTES = 4096;
export const SECTORS_PER_PAGE = LOGICAL_PAGE_BYTES / SECTOR_BYTES;

// ---- Timing constants (ns) and bandwidths ---------------------------------------------------------

/** Doorbell write -> SQE fetched: one 64-byte PCIe read round trip plus arbitration. Assumption (~1 µs). */
export const SQE_FETCH_LATENCY_NS = 1_000;
/** Firmware time of a read of at most 4 KiB. NVMeVirt ssd_config.h SAMSUNG_970PRO FW_4KB_READ_LATENCY. */
export const FW_4KB_READ_LATENCY_NS = 21_500;
/** Firmware time of a larger read. NVMeVirt SAMSUNG_970PRO FW_READ_LATENCY. */
export const FW_READ_LATENCY_NS = 30_490;
/** Fixed firmware cost of a write into the DRAM buffer. NVMeVirt SAMSUNG_970PRO FW_WBUF_LATENCY0. */
export const FW_WRITE_BUFFER_LATENCY_NS = 4_000;
/** Per-4-KiB firmware cost of a buffered write. NVMeVirt SAMSUNG_970PRO FW_WBUF_LATENCY1. */
export const FW_WRITE_BUFFER_PER_PAGE_NS = 460;
/** Firmware cost of a Flush. Assumption: the same fixed cost as a buffered write (NVMeVirt charges none). */
export const FW_FLUSH_LATENCY_NS = 4_000;
/** tR of a 4 KiB read. NVMeVirt NAND_4KB_READ_LATENCY_{LSB,MSB} = 35760 ∓ 6000 ns (mean). */
export const NAND_READ_4KB_NS = 35_760;
/** tR of a read of more than 4 KiB of one flash page. NVMeVirt NAND_READ_LATENCY_{LSB,MSB} = 36013 ∓ 6000 (mean). */
export const NAND_READ_PAGE_NS = 36_013;
/** tPROG of one flash page (one-shot program). NVMeVirt SAMSUNG_970PRO NAND_PROG_LATENCY. */
export const NAND_PROGRAM_NS = 185_000;
/** tBERS. MQSim default (NVMeVirt's 970 PRO profile sets 0, "not modelled"); kernel-model-facts §10. */
export const NAND_ERASE_NS = 3_800_000;
/** NAND channel bus: NVMeVirt NAND_CHANNEL_BANDWIDTH 800 "MB/s", where its MB() is 2^20 bytes. */
export const NAND_CHANNEL_BYTES_PER_SEC = 800 * 2 ** 20;
/** PCIe 3.0 x4 effective DMA bandwidth: NVMeVirt PCIE_BANDWIDTH 3360 "MB/s" (2^20) = 3.52 GB/s. */
export const PCIE_BYTES_PER_SEC = 3_360 * 2 ** 20;
/** Per scatter-gather segment cost of a DMA (descriptor fetch, DMA engine setup). Assumption; NVMeVirt has none. */
export const PCIE_SG_ENTRY_OVERHEAD_NS = 100;
/** NVMe Set Features 08h: the aggregation time field counts 100 µs units (kernel-model-facts §13). */
export const INTERRUPT_COALESCING_TIME_UNIT_NS = 100_000;

// ---- Geometry and policy defaults ----------------------------------------------------------------

/** DRAM write buffer. Assumption (the brief's 64 MiB); NVMeVirt's 970 PRO uses only 1 MiB (GLOBAL_WB_SIZE). */
export const WRITE_BUFFER_BYTES = 64 * 2 ** 20;
/** Start GC on a die when free blocks fall below this fraction. MQSim GC_Exec_Threshold 0.05. */
export const GC_THRESHOLD_FRACTION = 0.05;
/** Physical space hidden from the host. MQSim ssdconfig.xml 7 %; NVMeVirt OP_AREA_PERCENT 0.07. */
export const OVER_PROVISIONING = 0.07;
/** Free blocks per die that only GC may take, so GC can always relocate a victim. Assumption. */
export const GC_RESERVE_BLOCKS = 2;
/** Usable entries per I/O queue: nvme.io_queue_depth 1024 minus the one slot that marks a full ring. */
export const NVME_QUEUE_DEPTH = 1023;

/** NVMe generic status "LBA Out of Range" (SCT 0, SC 80h). */
export const NVME_SC_LBA_RANGE = 0x80;

/** NVMe Set Features 08h (Interrupt Coalescing). Either field 0 disables it. */
export interface InterruptCoalescingConfig {
  /** THR: completions per interrupt, 0's based (THR = 3 -> one interrupt per 4 completions). */
  readonly aggregationThreshold: number;
  /** TIME: longest delay of an interrupt, in 100 µs units. */
  readonly aggregationTime100us: number;
}

export interface NvmeSsdConfig {
  readonly model: string;
  /** I/O queue pairs (the driver maps one per CPU); qids are 0..queueCount-1, MSI-X vector = qid. */
  readonly queueCount: number;
  /** The most I/O queue pairs the controller grants (Set Features, Number of Queues). */
  readonly maxIoQueuePairs: number;
  readonly queueDepth: number;
  readonly channels: number;
  readonly diesPerChannel: number;
  /** 4 KiB logical pages per flash page (the unit of one tR and one tPROG). */
  readonly pagesPerFlashPage: number;
  /** 4 KiB pages per erase block (a multiple of pagesPerFlashPage). */
  readonly pagesPerBlock: number;
  readonly blocksPerDie: number;
  /** Fraction of physical blocks hidden from the host. */
  readonly overProvisioning: number;
  readonly writeBufferBytes: number;
  readonly gcThresholdFraction: number;
  readonly gcReserveBlocks: number;
  /** Uniform jitter added to each tR, in [-readJitterNs, +readJitterNs]; 0 draws no random numbers. */
  readonly readJitterNs: number;
  readonly interruptCoalescing: InterruptCoalescingConfig;
}

/**
 * A 512 GB class Samsung 970 PRO (PCIe 3.0 x4, MLC) after NVMeVirt's profile: 8 channels x 2 dies,
 * 32 KiB flash pages, 4 MiB blocks, 8192 blocks per die (NVMeVirt BLKS_PER_PLN) = 512 GiB raw,
 * 476 GiB (511 GB) after 7 % OP. Aggregate program bandwidth 16 x 32 KiB / (39 µs + 185 µs) = 2.3 GB/s
 * (the 512 GB part's rated 2.3 GB/s sequential write); random 4 KiB reads peak near 16 / 40.6 µs = 390 K IOPS.
 */
export const DEFAULT_NVME_CONFIG: NvmeSsdConfig = {
  model: 'Samsung SSD 970 PRO 512GB (NVMeVirt profile)',
  queueCount: 4,
  // SIMPLIFICATION: 64 granted pairs (real controllers offer 16 to 128); each pair preallocates a
  // request per tag, so this also bounds what a many-CPU machine costs to boot
  maxIoQueuePairs: 64,
  queueDepth: NVME_QUEUE_DEPTH,
  channels: 8, // NVMeVirt NAND_CHANNELS
  diesPerChannel: 2, // NVMeVirt LUNS_PER_NAND_CH
  pagesPerFlashPage: 8, // NVMeVirt FLASH_PAGE_SIZE = ONESHOT_PAGE_SIZE = 32 KiB
  pagesPerBlock: 1024, // 4 MiB blocks
  blocksPerDie: 8192, // NVMeVirt BLKS_PER_PLN
  overProvisioning: OVER_PROVISIONING,
  writeBufferBytes: WRITE_BUFFER_BYTES,
  gcThresholdFraction: GC_THRESHOLD_FRACTION,
  gcReserveBlocks: GC_RESERVE_BLOCKS,
  readJitterNs: 1_000, // assumption: a small spread (NVMeVirt splits tR ±6 µs by page type instead)
  interruptCoalescing: { aggregationThreshold: 0, aggregationTime100us: 0 },
};

/**
 * Blocks per die the host sees: the over-provisioning fraction hidden, but never fewer spares than
 * GC needs. With fewer spare blocks than the reserve plus the two open blocks plus one, every
 * closed block could be fully valid while free blocks are down to the reserve, and GC could never
 * make room. On a large drive 7 % is far more than that; on a small one (a few blocks per die) the
 * floor decides, as firmware of small drives reserves whole blocks rather than a percentage.
 */
export function nvmeLogicalBlocksPerDie(config: Pick<NvmeSsdConfig, 'blocksPerDie' | 'overProvisioning' | 'gcReserveBlocks'>): number {
  const byFraction = Math.floor(config.blocksPerDie * (1 - config.overProvisioning));
  return Math.min(byFraction, config.blocksPerDie - (config.gcReserveBlocks + 3));
}

/** Host-visible capacity in 512-byte sectors of a drive of this geometry. */
export function nvmeCapacitySectors(config: NvmeSsdConfig): number {
  return nvmeLogicalBlocksPerDie(config) * config.pagesPerBlock * config.channels * config.diesPerChannel * SECTORS_PER_PAGE;
}

// ---- Internal state --------------------------------------------------------------------------------

/** A command the controller has taken in. */
interface CmdState {
  readonly qid: number;
  readonly cmd: DeviceCommand;
  readonly firstLpn: number;
  readonly pageCount: number;
  /** Reads: NAND operations still running. FUA writes: buffered pages not yet programmed. */
  opsLeft: number;
  mediaReported: boolean;
  /** When a write started waiting for buffer space. */
  waitStartNs: number;
  dmaStartNs: number;
}

/** A 4 KiB page of host data held in the write buffer until it is programmed. */
interface WriteEntry {
  readonly lpn: number;
  readonly seq: number;
  /** The FUA write waiting for this page to be programmed, if any. */
  readonly fuaCmd: CmdState | null;
}

const BLOCK_OPEN = 0;
const BLOCK_CLOSED = 1;
const BLOCK_VICTIM = 2;

interface BlockState {
  readonly index: number;
  validCount: number;
  /** Reverse map page -> LPN (-1 = never written); null for a block still in the preconditioned layout. */
  readonly lpns: Int32Array | null;
  state: number;
  writePtr: number;
}

type Phase = { readonly kind: 'busy'; readonly ns: number } | { readonly kind: 'xfer'; readonly bytes: number };

type DieOpKind = 'read' | 'program' | 'gc';

/** One operation a die performs; the die holds it from start to the end of its last phase. */
class DieOp {
  phases: Phase[] = [];
  phaseIdx = 0;
  /** read: pages of one flash page; program/gc: pages programmed. */
  pageCount = 0;
  /** gc: true when this step erases the victim. */
  erase = false;

  constructor(
    readonly kind: DieOpKind,
    readonly die: Die,
    readonly enqueuedNs: number,
    readonly cmd: CmdState | null,
  ) {}
}

class Die {
  readonly ops = new Kfifo<DieOp>();
  busy = false;
  dispatching = false;
  /** Buffered pages for this die in arrival order: [head, takeIdx) are being programmed, [takeIdx, end) wait. */
  pending: WriteEntry[] = [];
  pendingHead = 0;
  takeIdx = 0;
  programQueued = false;
  /** A host program found no free block (only the GC reserve left); it resumes after the next erase. */
  programBlocked = false;
  /** Block states for blocks that left the preconditioned layout or were allocated (sparse). */
  readonly blocks = new Map<number, BlockState>();
  /** Closed blocks with at least one invalid page: the greedy GC's victims. */
  readonly candidates = new Set<number>();
  nextFreshBlock: number;
  readonly erasedBlocks = new Kfifo<number>();
  hostOpen: BlockState | null = null;
  gcOpen: BlockState | null = null;
  gcActive = false;
  gcVictim = -1;
  gcCursor = 0;

  constructor(
    readonly index: number,
    readonly channel: number,
    /** Index of the die on its channel. */
    readonly way: number,
    firstFreeBlock: number,
  ) {
    this.nextFreshBlock = firstFreeBlock;
  }
}

/** LPNs per chunk of the sparse remap table. */
const MAP_CHUNK_SHIFT = 12;
const MAP_CHUNK_MASK = (1 << MAP_CHUNK_SHIFT) - 1;

interface Counters {
  readCommands: number;
  writeCommands: number;
  fuaWriteCommands: number;
  flushCommands: number;
  errorCommands: number;
  hostReadPages: number;
  hostWritePages: number;
  bufferReadHitPages: number;
  bufferedWriteCompletions: number;
  bufferFullStalls: number;
  bufferStallNs: number;
  nandReadPages: number;
  nandWritePages: number;
  hostProgramPages: number;
  gcCopies: number;
  erases: number;
  gcBlockedPrograms: number;
  dmaBytesToDevice: number;
  dmaBytesFromDevice: number;
  completions: number;
  interrupts: number;
}

export class NvmeSsd implements BlockDeviceHw {
  readonly model: string;
  readonly capacitySectors: number;
  readonly rotational = false;
  readonly queueCount: number;
  readonly queueDepth: number;

  private readonly env: Environment;
  private readonly dieCount: number;
  private readonly pagesPerFlashPage: number;
  private readonly pagesPerBlock: number;
  private readonly blocksPerDie: number;
  private readonly pagesPerDie: number;
  private readonly logicalBlocksPerDie: number;
  private readonly logicalPages: number;
  private readonly gcThresholdBlocks: number;
  private readonly gcReserveBlocks: number;
  private readonly readJitterNs: number;
  private readonly coalesceThreshold: number;
  private readonly coalesceTimeNs: number;

  private readonly cq: DeviceCompletion[][];
  private readonly outstandingCids: Set<number>[];
  private readonly dies: Die[];
  private readonly channelFreeAtNs: number[];
  private pcieFreeAtNs = 0;

  /** LPN -> PPN for LPNs that left their preconditioned location, in chunks allocated on first write. */
  private readonly remap = new Map<number, Int32Array>();

  private readonly bufferCapacityPages: number;
  private bufferUsedPages = 0;
  /** LPN -> number of its copies in the write buffer (reads of these are served from DRAM). */
  private readonly bufferResident = new Map<number, number>();
  private readonly admission = new Kfifo<CmdState>();
  private lastSeq = 0;
  private readonly flushWaiters = new Kfifo<{ readonly st: CmdState; readonly snapshotSeq: number }>();

  private readonly irqPending: number[];
  private readonly irqDeadlineNs: number[];
  /** Autonomous power state transitions, once the host has set them up (core/hw/nvme-apst.ts). */
  apst: NvmeApst | undefined;

  private readonly c: Counters = {
    readCommands: 0,
    writeCommands: 0,
    fuaWriteCommands: 0,
    flushCommands: 0,
    errorCommands: 0,
    hostReadPages: 0,
    hostWritePages: 0,
    bufferReadHitPages: 0,
    bufferedWriteCompletions: 0,
    bufferFullStalls: 0,
    bufferStallNs: 0,
    nandReadPages: 0,
    nandWritePages: 0,
    hostProgramPages: 0,
    gcCopies: 0,
    erases: 0,
    gcBlockedPrograms: 0,
    dmaBytesToDevice: 0,
    dmaBytesFromDevice: 0,
    completions: 0,
    interrupts: 0,
  };

  constructor(
    private readonly host: DeviceHost,
    config: NvmeSsdConfig,
    private readonly rng: Random,
  ) {
    this.env = host.env;
    this.model = config.model;
    this.queueCount = config.queueCount;
    this.queueDepth = config.queueDepth;
    this.dieCount = config.channels * config.diesPerChannel;
    this.pagesPerFlashPage = config.pagesPerFlashPage;
    this.pagesPerBlock = config.pagesPerBlock;
    this.blocksPerDie = config.blocksPerDie;
    this.pagesPerDie = config.blocksPerDie * config.pagesPerBlock;
    this.logicalBlocksPerDie = nvmeLogicalBlocksPerDie(config);
    this.logicalPages = this.logicalBlocksPerDie * config.pagesPerBlock * this.dieCount;
    this.capacitySectors = this.logicalPages * SECTORS_PER_PAGE;
    this.gcReserveBlocks = config.gcReserveBlocks;
    this.gcThresholdBlocks = Math.max(
      config.gcReserveBlocks + 1,
      Math.ceil(config.gcThresholdFraction * config.blocksPerDie),
    );
    this.readJitterNs = config.readJitterNs;
    const ic = config.interruptCoalescing;
    const coalescing = ic.aggregationThreshold > 0 && ic.aggregationTime100us > 0;
    this.coalesceThreshold = coalescing ? ic.aggregationThreshold + 1 : 0;
    this.coalesceTimeNs = coalescing ? ic.aggregationTime100us * INTERRUPT_COALESCING_TIME_UNIT_NS : 0;
    this.bufferCapacityPages = Math.max(1, Math.floor(config.writeBufferBytes / LOGICAL_PAGE_BYTES));

    if (config.queueCount < 1 || config.queueDepth < 1) throw new SimBug('NvmeSsd: need at least one queue slot');
    if (config.channels < 1 || config.diesPerChannel < 1) throw new SimBug('NvmeSsd: need at least one die');
    if (config.pagesPerFlashPage < 1 || config.pagesPerBlock % config.pagesPerFlashPage !== 0) {
      throw new SimBug('NvmeSsd: pagesPerBlock must be a multiple of pagesPerFlashPage');
    }
    if (this.dieCount * this.pagesPerDie >= 2 ** 31) throw new SimBug('NvmeSsd: physical pages exceed int32 PPNs');
    if (this.logicalBlocksPerDie < 1) throw new SimBug(`NvmeSsd: ${config.blocksPerDie} blocks per die leave none for the host after GC's spares`);

    this.cq = [];
    this.outstandingCids = [];
    this.irqPending = [];
    this.irqDeadlineNs = [];
    for (let q = 0; q < config.queueCount; q++) {
      this.cq.push([]);
      this.outstandingCids.push(new Set<number>());
      this.irqPending.push(0);
      this.irqDeadlineNs.push(-1);
    }
    this.dies = [];
    for (let d = 0; d < this.dieCount; d++) {
      // Consecutive dies sit on different channels, so striping spreads over channels first.
      this.dies.push(new Die(d, d % config.channels, Math.floor(d / config.channels), this.logicalBlocksPerDie));
    }
    this.channelFreeAtNs = new Array<number>(config.channels).fill(0);
  }

  // ---- BlockDeviceHw ------------------------------------------------------------------------------

  submit(qid: number, cmd: DeviceCommand): void {
    const cids = this.outstandingCids[qid];
    if (cids === undefined) throw new SimBug(`NvmeSsd: no I/O queue ${qid}`);
    if (cids.has(cmd.cid)) throw new SimBug(`NvmeSsd: cid ${cmd.cid} already outstanding on queue ${qid}`);
    if (cids.size >= this.queueDepth) throw new SimBug(`NvmeSsd: queue ${qid} overflow (depth ${this.queueDepth})`);
    cids.add(cmd.cid);
    const pageCount =
      cmd.op === 'flush' || cmd.nrSectors <= 0
        ? 0
        : Math.floor((cmd.sector + cmd.nrSectors - 1) / SECTORS_PER_PAGE) -
          Math.floor(cmd.sector / SECTORS_PER_PAGE) +
          1;
    const st: CmdState = {
      qid,
      cmd,
      firstLpn: Math.floor(cmd.sector / SECTORS_PER_PAGE),
      pageCount,
      opsLeft: 0,
      mediaReported: false,
      waitStartNs: 0,
      dmaStartNs: 0,
    };
    // SIMPLIFICATION: SQE fetches do not occupy the PCIe link and every command is fetched a fixed
    // time after its doorbell (no arbitration burst limit between queues).
    // A controller in a non-operational power state first returns to PS0 (its exit latency).
    const wakeNs = this.apst === undefined ? 0 : this.apst.commandArrived();
    this.env.after(SQE_FETCH_LATENCY_NS + wakeNs, Priority.URGENT, this.fetched, st);
  }

  reap(qid: number): DeviceCompletion[] {
    const entries = this.cq[qid];
    if (entries === undefined) throw new SimBug(`NvmeSsd: no I/O queue ${qid}`);
    if (entries.length === 0) return [];
    this.cq[qid] = [];
    return entries;
  }

  counters(): Readonly<Record<string, number>> {
    const c = this.c;
    const nandHostAndGc = c.hostProgramPages + c.gcCopies;
    let trackedBlocks = 0;
    let freeBlocks = 0;
    for (const die of this.dies) {
      trackedBlocks += die.blocks.size;
      freeBlocks += this.freeBlocks(die);
    }
    return {
      ...c,
      writeAmplification: c.hostProgramPages > 0 ? nandHostAndGc / c.hostProgramPages : 0,
      bufferUsedPages: this.bufferUsedPages,
      freeBlocks,
      trackedBlocks,
      remapChunks: this.remap.size,
    };
  }

  /**
   * Checks the FTL bookkeeping against the mapping table: every LPN maps to a page on its own die
   * whose reverse map names it, and each tracked block's valid count matches. Walks every LPN, so it
   * is meant for tests on small devices. Throws SimBug on a mismatch.
   */
  auditFtl(): void {
    const validPerBlock = new Map<number, number>();
    for (let lpn = 0; lpn < this.logicalPages; lpn++) {
      const ppn = this.lookup(lpn);
      const die = this.dieOfPpn(ppn);
      if (die !== this.dieOfLpn(lpn)) throw new SimBug(`NvmeSsd audit: LPN ${lpn} left its die`);
      const blockIndex = Math.floor((ppn % this.pagesPerDie) / this.pagesPerBlock);
      const blk = die.blocks.get(blockIndex);
      const mapsBack =
        blk !== undefined && blk.lpns !== null
          ? blk.lpns[ppn % this.pagesPerBlock] === lpn
          : this.defaultPpn(lpn) === ppn;
      if (!mapsBack) throw new SimBug(`NvmeSsd audit: reverse map of PPN ${ppn} does not name LPN ${lpn}`);
      const key = die.index * this.blocksPerDie + blockIndex;
      validPerBlock.set(key, (validPerBlock.get(key) ?? 0) + 1);
    }
    for (const die of this.dies) {
      for (const blk of die.blocks.values()) {
        const expected = validPerBlock.get(die.index * this.blocksPerDie + blk.index) ?? 0;
        if (blk.validCount !== expected) {
          throw new SimBug(
            `NvmeSsd audit: die ${die.index} block ${blk.index} counts ${blk.validCount} valid, has ${expected}`,
          );
        }
        const isCandidate = die.candidates.has(blk.index);
        const shouldBe = blk.state === BLOCK_CLOSED && blk.validCount < this.pagesPerBlock;
        if (isCandidate !== shouldBe) throw new SimBug(`NvmeSsd audit: GC candidate set wrong for block ${blk.index}`);
      }
    }
  }

  // ---- Command front end --------------------------------------------------------------------------

  private readonly fetched = (st: CmdState): void => {
    const cmd = st.cmd;
    this.host.onFetch(st.qid, cmd);
    // SIMPLIFICATION: firmware time is a pure delay per command (as in NVMeVirt); the controller's
    // cores are never a bottleneck.
    if (cmd.op === 'flush') {
      this.c.flushCommands++;
      this.env.after(FW_FLUSH_LATENCY_NS, Priority.URGENT, this.startFlush, st);
      return;
    }
    const outOfRange = cmd.sector < 0 || cmd.nrSectors < 0 || cmd.sector + cmd.nrSectors > this.capacitySectors;
    if (cmd.op === 'read') {
      this.c.readCommands++;
      const fwNs = cmd.nrSectors * SECTOR_BYTES <= LOGICAL_PAGE_BYTES ? FW_4KB_READ_LATENCY_NS : FW_READ_LATENCY_NS;
      this.env.after(fwNs, Priority.URGENT, outOfRange ? this.failRange : this.startRead, st);
      return;
    }
    this.c.writeCommands++;
    if (cmd.fua) this.c.fuaWriteCommands++;
    const fwNs = FW_WRITE_BUFFER_LATENCY_NS + FW_WRITE_BUFFER_PER_PAGE_NS * st.pageCount;
    this.env.after(fwNs, Priority.URGENT, outOfRange ? this.failRange : this.admitWrite, st);
  };

  private readonly failRange = (st: CmdState): void => {
    this.c.errorCommands++;
    this.postCompletion(st, NVME_SC_LBA_RANGE);
  };

  // ---- Reads --------------------------------------------------------------------------------------

  private readonly startRead = (st: CmdState): void => {
    this.c.hostReadPages += st.pageCount;
    const ops: DieOp[] = [];
    let cur: DieOp | null = null;
    let curFlashPage = -1;
    for (let i = 0; i < st.pageCount; i++) {
      const lpn = st.firstLpn + i;
      if (this.bufferResident.has(lpn)) {
        this.c.bufferReadHitPages++;
        cur = null;
        continue;
      }
      const ppn = this.lookup(lpn);
      // Like NVMeVirt's conv_read, consecutive LPNs on the same flash page share one tR.
      const flashPage = Math.floor(ppn / this.pagesPerFlashPage);
      if (cur !== null && flashPage === curFlashPage) {
        cur.pageCount++;
        continue;
      }
      cur = new DieOp('read', this.dieOfPpn(ppn), this.env.nowNs, st);
      cur.pageCount = 1;
      curFlashPage = flashPage;
      ops.push(cur);
    }
    st.opsLeft = ops.length;
    if (ops.length === 0) {
      // Every page came from the write buffer (or the read was empty).
      this.reportMedia(st, this.dieOfLpn(st.firstLpn), 0, 0, true);
      this.startDma(st);
      return;
    }
    for (const op of ops) this.enqueueOp(op);
  };

  // ---- Writes -------------------------------------------------------------------------------------

  private readonly admitWrite = (st: CmdState): void => {
    st.waitStartNs = this.env.nowNs;
    this.admission.push(st);
    this.tryAdmit();
  };

  /** Admits waiting writes into the buffer in arrival order while there is room. */
  private tryAdmit(): void {
    for (;;) {
      const st = this.admission.peek();
      if (st === undefined) return;
      // A command larger than the whole buffer goes in alone once the buffer has drained.
      if (this.bufferUsedPages > 0 && this.bufferUsedPages + st.pageCount > this.bufferCapacityPages) return;
      this.admission.shift();
      this.bufferUsedPages += st.pageCount;
      const waitedNs = this.env.nowNs - st.waitStartNs;
      if (waitedNs > 0) {
        this.c.bufferFullStalls++;
        this.c.bufferStallNs += waitedNs;
      }
      if (!st.cmd.fua) this.reportMedia(st, this.dieOfLpn(st.firstLpn), waitedNs, 0, true);
      this.startDma(st);
    }
  }

  /** The write's data is in the buffer: queue its pages for programming. */
  private insertIntoBuffer(st: CmdState): void {
    const fuaCmd = st.cmd.fua ? st : null;
    st.opsLeft = st.pageCount;
    this.c.hostWritePages += st.pageCount;
    for (let i = 0; i < st.pageCount; i++) {
      const lpn = st.firstLpn + i;
      // SIMPLIFICATION: a partial 4 KiB page is written as a whole page (no read-modify-write), and
      // rewrites of a page still in the buffer are not coalesced (each copy is programmed).
      this.bufferResident.set(lpn, (this.bufferResident.get(lpn) ?? 0) + 1);
      const die = this.dieOfLpn(lpn);
      die.pending.push({ lpn, seq: ++this.lastSeq, fuaCmd });
      this.enqueueProgram(die);
    }
  }

  private readonly startFlush = (st: CmdState): void => {
    const snapshotSeq = this.lastSeq;
    if (snapshotSeq < this.oldestBufferedSeq()) {
      this.postCompletion(st, 0);
      return;
    }
    this.flushWaiters.push({ st, snapshotSeq });
  };

  /** Seq of the oldest page not yet programmed (Infinity when the buffer is empty). */
  private oldestBufferedSeq(): number {
    let oldest = Infinity;
    for (const die of this.dies) {
      const head = die.pending[die.pendingHead];
      if (head !== undefined && head.seq < oldest) oldest = head.seq;
    }
    return oldest;
  }

  private checkFlushes(): void {
    if (this.flushWaiters.length === 0) return;
    const oldest = this.oldestBufferedSeq();
    for (;;) {
      const w = this.flushWaiters.peek();
      if (w === undefined || w.snapshotSeq >= oldest) return;
      this.flushWaiters.shift();
      this.postCompletion(w.st, 0);
    }
  }

  // ---- DMA ----------------------------------------------------------------------------------------

  /** Moves the command's data over the shared PCIe link (serialised, first come first served). */
  private startDma(st: CmdState): void {
    const bytes = st.cmd.nrSectors * SECTOR_BYTES;
    const durationNs = pcieTransferNs(bytes) + PCIE_SG_ENTRY_OVERHEAD_NS * st.cmd.sgList.length;
    const startNs = Math.max(this.env.nowNs, this.pcieFreeAtNs);
    const endNs = startNs + durationNs;
    this.pcieFreeAtNs = endNs;
    st.dmaStartNs = startNs;
    // SIMPLIFICATION: a read's DMA starts after its last NAND page reached the controller (NVMeVirt
    // overlaps PCIe with channel transfers chunk by chunk).
    this.env.at(endNs, Priority.URGENT, this.dmaDone, st);
  }

  private readonly dmaDone = (st: CmdState): void => {
    const bytes = st.cmd.nrSectors * SECTOR_BYTES;
    const direction: DmaDirection = st.cmd.op === 'write' ? 'to-device' : 'from-device';
    if (direction === 'to-device') this.c.dmaBytesToDevice += bytes;
    else this.c.dmaBytesFromDevice += bytes;
    this.host.onDma(st.qid, st.cmd, direction, bytes, st.dmaStartNs, this.env.nowNs);
    if (st.cmd.op === 'read') {
      this.postCompletion(st, 0);
      return;
    }
    this.insertIntoBuffer(st);
    if (!st.cmd.fua) {
      this.c.bufferedWriteCompletions++;
      this.postCompletion(st, 0);
    } else if (st.pageCount === 0) {
      this.postCompletion(st, 0);
    }
  };

  // ---- Completion and interrupts ------------------------------------------------------------------

  private postCompletion(st: CmdState, status: number): void {
    const qid = st.qid;
    this.cq[qid]!.push({ cmd: st.cmd, status });
    this.outstandingCids[qid]!.delete(st.cmd.cid);
    this.c.completions++;
    if (this.apst !== undefined) this.apst.commandDone();
    // SIMPLIFICATION: the CQE write and the MSI-X message take no link time.
    if (this.coalesceThreshold === 0) {
      this.raise(qid);
      return;
    }
    const pending = this.irqPending[qid]! + 1;
    this.irqPending[qid] = pending;
    if (pending >= this.coalesceThreshold) {
      this.raise(qid);
    } else if (this.irqDeadlineNs[qid]! < 0) {
      const deadlineNs = this.env.nowNs + this.coalesceTimeNs;
      this.irqDeadlineNs[qid] = deadlineNs;
      this.env.at(deadlineNs, Priority.URGENT, this.coalesceTimer, qid);
    }
  }

  private readonly coalesceTimer = (qid: number): void => {
    // A timer armed before an earlier threshold-triggered interrupt is stale unless re-armed for now.
    if (this.irqDeadlineNs[qid] !== this.env.nowNs || this.irqPending[qid] === 0) return;
    this.raise(qid);
  };

  private raise(qid: number): void {
    this.irqPending[qid] = 0;
    this.irqDeadlineNs[qid] = -1;
    this.c.interrupts++;
    this.host.raiseInterrupt(qid);
  }

  private reportMedia(st: CmdState, die: Die, waitNs: number, mediaNs: number, cacheHit: boolean): void {
    if (st.mediaReported) return;
    st.mediaReported = true;
    const detail: MediaDetail = {
      channel: die.channel,
      die: die.way,
      seekNs: waitNs,
      rotationNs: -1,
      mediaNs,
      cacheHit,
    };
    this.host.onMediaStart(st.qid, st.cmd, detail);
  }

  // ---- Dies and channels --------------------------------------------------------------------------

  private enqueueOp(op: DieOp): void {
    op.die.ops.push(op);
    this.dispatchDie(op.die);
  }

  /** Starts queued operations on an idle die, first come first served. */
  private dispatchDie(die: Die): void {
    if (die.dispatching) return;
    die.dispatching = true;
    while (!die.busy) {
      const op = die.ops.shift();
      if (op === undefined) break;
      if (this.beginOp(op)) {
        die.busy = true;
        this.runPhase(op);
      }
    }
    die.dispatching = false;
  }

  /** Plans the phases of an operation that reached the die; false when it has nothing to do. */
  private beginOp(op: DieOp): boolean {
    switch (op.kind) {
      case 'read':
        return this.beginRead(op);
      case 'program':
        return this.beginProgram(op);
      case 'gc':
        return this.beginGcStep(op);
    }
  }

  private runPhase(op: DieOp): void {
    const phase = op.phases[op.phaseIdx++];
    if (phase === undefined) {
      this.finishOp(op);
      return;
    }
    if (phase.kind === 'busy') {
      this.env.after(phase.ns, Priority.URGENT, this.phaseDone, op);
      return;
    }
    // The die keeps its data register (and so stays busy) until the channel has moved the data.
    const ch = op.die.channel;
    const startNs = Math.max(this.env.nowNs, this.channelFreeAtNs[ch]!);
    const endNs = startNs + channelTransferNs(phase.bytes);
    this.channelFreeAtNs[ch] = endNs;
    this.env.at(endNs, Priority.URGENT, this.phaseDone, op);
  }

  private readonly phaseDone = (op: DieOp): void => {
    this.runPhase(op);
  };

  private finishOp(op: DieOp): void {
    const die = op.die;
    die.busy = false;
    switch (op.kind) {
      case 'read':
        this.finishRead(op);
        break;
      case 'program':
        this.finishProgram(op);
        break;
      case 'gc':
        this.finishGcStep(op);
        break;
    }
    this.dispatchDie(die);
  }

  private beginRead(op: DieOp): boolean {
    let tRNs = flashPageReadNs(op.pageCount);
    // SIMPLIFICATION: NVMeVirt's LSB/MSB tR split (±6 µs by page type) is replaced by a small
    // uniform jitter around the mean.
    if (this.readJitterNs > 0) tRNs = Math.max(0, tRNs + Math.round((this.rng.next() * 2 - 1) * this.readJitterNs));
    const bytes = op.pageCount * LOGICAL_PAGE_BYTES;
    op.phases = [
      { kind: 'busy', ns: tRNs },
      { kind: 'xfer', bytes },
    ];
    this.c.nandReadPages += op.pageCount;
    const st = op.cmd!;
    this.reportMedia(st, op.die, this.env.nowNs - op.enqueuedNs, tRNs + channelTransferNs(bytes), false);
    return true;
  }

  private finishRead(op: DieOp): void {
    const st = op.cmd!;
    st.opsLeft--;
    if (st.opsLeft === 0) this.startDma(st);
  }

  // ---- Background programming of the write buffer -------------------------------------------------

  /** Keeps one host program operation queued or running per die while it has buffered pages. */
  private enqueueProgram(die: Die): void {
    if (die.programQueued || die.programBlocked || die.takeIdx >= die.pending.length) return;
    die.programQueued = true;
    this.enqueueOp(new DieOp('program', die, this.env.nowNs, null));
  }

  private beginProgram(op: DieOp): boolean {
    const die = op.die;
    const available = die.pending.length - die.takeIdx;
    if (available === 0) {
      die.programQueued = false;
      return false;
    }
    const blk = this.openBlock(die, false);
    if (blk === null) {
      // Only the GC reserve is left: wait for an erase (write stalls emerge from here).
      die.programQueued = false;
      die.programBlocked = true;
      this.c.gcBlockedPrograms++;
      this.startGc(die);
      return false;
    }
    // SIMPLIFICATION: a program writes up to one flash page's worth of buffered pages at the open
    // block's write pointer without waiting to fill the flash page, padding, or aligning to it.
    const k = Math.min(available, this.pagesPerFlashPage, this.pagesPerBlock - blk.writePtr);
    const blockBasePpn = (die.index * this.blocksPerDie + blk.index) * this.pagesPerBlock;
    for (let i = 0; i < k; i++) {
      const entry = die.pending[die.takeIdx + i]!;
      this.place(entry.lpn, blk, blockBasePpn);
      if (entry.fuaCmd !== null) {
        this.reportMedia(
          entry.fuaCmd,
          die,
          this.env.nowNs - op.enqueuedNs,
          channelTransferNs(k * LOGICAL_PAGE_BYTES) + NAND_PROGRAM_NS,
          false,
        );
      }
    }
    die.takeIdx += k;
    if (blk.writePtr === this.pagesPerBlock) {
      this.closeBlock(die, blk);
      die.hostOpen = null;
    }
    op.pageCount = k;
    op.phases = [
      { kind: 'xfer', bytes: k * LOGICAL_PAGE_BYTES },
      { kind: 'busy', ns: NAND_PROGRAM_NS },
    ];
    this.c.nandWritePages += k;
    this.c.hostProgramPages += k;
    return true;
  }

  private finishProgram(op: DieOp): void {
    const die = op.die;
    for (let i = 0; i < op.pageCount; i++) {
      const entry = die.pending[die.pendingHead]!;
      die.pendingHead++;
      const copies = this.bufferResident.get(entry.lpn)!;
      if (copies <= 1) this.bufferResident.delete(entry.lpn);
      else this.bufferResident.set(entry.lpn, copies - 1);
      this.bufferUsedPages--;
      const fua = entry.fuaCmd;
      if (fua !== null) {
        fua.opsLeft--;
        if (fua.opsLeft === 0) this.postCompletion(fua, 0);
      }
    }
    if (die.pendingHead >= 1024 && die.pendingHead * 2 >= die.pending.length) {
      die.pending = die.pending.slice(die.pendingHead);
      die.takeIdx -= die.pendingHead;
      die.pendingHead = 0;
    }
    die.programQueued = false;
    this.enqueueProgram(die);
    this.tryAdmit();
    this.checkFlushes();
  }

  // ---- FTL ----------------------------------------------------------------------------------------

  /** Preconditioned location: flash-page-sized groups of LPNs striped over dies, then packed per die. */
  private defaultPpn(lpn: number): number {
    const f = this.pagesPerFlashPage;
    const group = Math.floor(lpn / f);
    const die = group % this.dieCount;
    const indexInDie = Math.floor(group / this.dieCount) * f + (lpn % f);
    return die * this.pagesPerDie + indexInDie;
  }

  /** Inverse of defaultPpn for a page of a block still in the preconditioned layout. */
  private defaultLpnAt(dieIndex: number, block: number, page: number): number {
    const f = this.pagesPerFlashPage;
    const indexInDie = block * this.pagesPerBlock + page;
    return (Math.floor(indexInDie / f) * this.dieCount + dieIndex) * f + (indexInDie % f);
  }

  private lookup(lpn: number): number {
    const chunk = this.remap.get(lpn >>> MAP_CHUNK_SHIFT);
    if (chunk !== undefined) {
      const ppn = chunk[lpn & MAP_CHUNK_MASK]!;
      if (ppn >= 0) return ppn;
    }
    return this.defaultPpn(lpn);
  }

  private setMapping(lpn: number, ppn: number): void {
    const key = lpn >>> MAP_CHUNK_SHIFT;
    let chunk = this.remap.get(key);
    if (chunk === undefined) {
      chunk = new Int32Array(1 << MAP_CHUNK_SHIFT).fill(-1);
      this.remap.set(key, chunk);
    }
    chunk[lpn & MAP_CHUNK_MASK] = ppn;
  }

  /** Static allocation (MQSim CWDP-like): an LPN always lives on the die of its preconditioned place. */
  private dieOfLpn(lpn: number): Die {
    return this.dies[Math.floor(lpn / this.pagesPerFlashPage) % this.dieCount]!;
  }

  private dieOfPpn(ppn: number): Die {
    return this.dies[Math.floor(ppn / this.pagesPerDie)]!;
  }

  private freeBlocks(die: Die): number {
    return this.blocksPerDie - die.nextFreshBlock + die.erasedBlocks.length;
  }

  /** Writes `lpn` at the block's write pointer, invalidating its old page. */
  private place(lpn: number, blk: BlockState, blockBasePpn: number): void {
    const page = blk.writePtr++;
    this.invalidate(this.lookup(lpn));
    this.setMapping(lpn, blockBasePpn + page);
    blk.lpns![page] = lpn;
    blk.validCount++;
  }

  private invalidate(ppn: number): void {
    const die = this.dieOfPpn(ppn);
    const blockIndex = Math.floor((ppn % this.pagesPerDie) / this.pagesPerBlock);
    let blk = die.blocks.get(blockIndex);
    if (blk === undefined) {
      if (blockIndex >= this.logicalBlocksPerDie) {
        throw new SimBug(`NvmeSsd: mapped page in untracked block ${blockIndex}`);
      }
      // First invalidation in a block of the preconditioned layout: start tracking it.
      const ppb = this.pagesPerBlock;
      blk = { index: blockIndex, validCount: ppb, lpns: null, state: BLOCK_CLOSED, writePtr: ppb };
      die.blocks.set(blockIndex, blk);
    }
    blk.validCount--;
    if (blk.state === BLOCK_CLOSED) die.candidates.add(blockIndex);
  }

  /** The die's open block for host data (or GC copies) with room, allocating one if needed. */
  private openBlock(die: Die, forGc: boolean): BlockState | null {
    const cur = forGc ? die.gcOpen : die.hostOpen;
    if (cur !== null && cur.writePtr < this.pagesPerBlock) return cur;
    const free = this.freeBlocks(die);
    if (forGc ? free === 0 : free <= this.gcReserveBlocks) return null;
    const index = die.nextFreshBlock < this.blocksPerDie ? die.nextFreshBlock++ : die.erasedBlocks.shift()!;
    const blk: BlockState = {
      index,
      validCount: 0,
      lpns: new Int32Array(this.pagesPerBlock).fill(-1),
      state: BLOCK_OPEN,
      writePtr: 0,
    };
    die.blocks.set(index, blk);
    if (forGc) die.gcOpen = blk;
    else die.hostOpen = blk;
    if (this.freeBlocks(die) < this.gcThresholdBlocks) this.startGc(die);
    return blk;
  }

  private closeBlock(die: Die, blk: BlockState): void {
    blk.state = BLOCK_CLOSED;
    if (blk.validCount < this.pagesPerBlock) die.candidates.add(blk.index);
  }

  // ---- Garbage collection -------------------------------------------------------------------------

  private startGc(die: Die): void {
    if (die.gcActive) return;
    die.gcActive = true;
    this.enqueueOp(new DieOp('gc', die, this.env.nowNs, null));
  }

  /** Greedy victim: the closed block with the fewest valid pages (first found on ties). */
  private selectVictim(die: Die): number {
    let best = -1;
    let bestValid = this.pagesPerBlock;
    for (const index of die.candidates) {
      const v = die.blocks.get(index)!.validCount;
      if (v < bestValid) {
        best = index;
        bestValid = v;
        if (v === 0) break;
      }
    }
    return best;
  }

  /**
   * One GC step: relocate up to a flash page of the victim's valid pages (reads, channel out and
   * back in, one program), or erase the victim once it holds none.
   */
  private beginGcStep(op: DieOp): boolean {
    const die = op.die;
    if (die.gcVictim < 0) {
      const victim = this.selectVictim(die);
      if (victim < 0) {
        if (die.programBlocked) throw new SimBug(`NvmeSsd: die ${die.index} out of blocks with no GC victim`);
        die.gcActive = false;
        return false;
      }
      die.candidates.delete(victim);
      die.blocks.get(victim)!.state = BLOCK_VICTIM;
      die.gcVictim = victim;
      die.gcCursor = 0;
    }
    const victim = die.blocks.get(die.gcVictim)!;
    const victimBasePpn = (die.index * this.blocksPerDie + victim.index) * this.pagesPerBlock;
    let dest: BlockState | null = null;
    let destBasePpn = 0;
    let limit = this.pagesPerFlashPage;
    let copied = 0;
    let readNs = 0;
    let lastFlashPage = -1;
    let lastFlashPageCount = 0;
    while (die.gcCursor < this.pagesPerBlock && copied < limit && victim.validCount > 0) {
      const page = die.gcCursor++;
      const lpn = victim.lpns !== null ? victim.lpns[page]! : this.defaultLpnAt(die.index, victim.index, page);
      if (lpn < 0 || this.lookup(lpn) !== victimBasePpn + page) continue;
      if (dest === null) {
        dest = this.openBlock(die, true);
        if (dest === null) throw new SimBug(`NvmeSsd: die ${die.index} GC reserve exhausted`);
        destBasePpn = (die.index * this.blocksPerDie + dest.index) * this.pagesPerBlock;
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
      this.place(lpn, dest, destBasePpn);
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
    if (copied > 0) {
      // SIMPLIFICATION: no copyback; the data crosses the channel out to the controller (ECC) and back.
      op.pageCount = copied;
      op.phases = [
        { kind: 'busy', ns: readNs },
        { kind: 'xfer', bytes: 2 * copied * LOGICAL_PAGE_BYTES },
        { kind: 'busy', ns: NAND_PROGRAM_NS },
      ];
      this.c.nandReadPages += copied;
      this.c.nandWritePages += copied;
      this.c.gcCopies += copied;
      return true;
    }
    op.erase = true;
    op.phases = [{ kind: 'busy', ns: NAND_ERASE_NS }];
    return true;
  }

  private finishGcStep(op: DieOp): void {
    const die = op.die;
    if (op.erase) {
      die.blocks.delete(die.gcVictim);
      die.erasedBlocks.push(die.gcVictim);
      die.gcVictim = -1;
      this.c.erases++;
      if (die.programBlocked) {
        die.programBlocked = false;
        this.enqueueProgram(die);
      }
    }
    // SIMPLIFICATION: GC steps queue FIFO with host work on the die (no program/erase suspension,
    // no read priority), and GC runs until the free-block threshold is met again.
    if (die.gcVictim >= 0 || this.freeBlocks(die) < this.gcThresholdBlocks) {
      this.enqueueOp(new DieOp('gc', die, this.env.nowNs, null));
    } else {
      die.gcActive = false;
    }
  }
}

/** tR of reading `pages` 4 KiB pages of one flash page (0 pages: no read). */
function flashPageReadNs(pages: number): number {
  if (pages === 0) return 0;
  return pages === 1 ? NAND_READ_4KB_NS : NAND_READ_PAGE_NS;
}

/** Time to move `bytes` over one NAND channel. */
export function channelTransferNs(bytes: number): number {
  return Math.round((bytes * 1e9) / NAND_CHANNEL_BYTES_PER_SEC);
}

/** Time to move `bytes` over the PCIe link (without the per-segment overhead). */
export function pcieTransferNs(bytes: number): number {
  return Math.round((bytes * 1e9) / PCIE_BYTES_PER_SEC);
}
