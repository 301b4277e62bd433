// Models: an NVMe SSD controller (the device behind drivers/nvme/host/pci.c), after NVMeVirt's Samsung
// 970 PRO profile: SQ fetch, firmware on a few controller cores, DRAM write buffer, PCIe DMA, MSI-X with
// interrupt coalescing; the FTL (ftl.ts) and the NAND dies and channels (nand.ts) behind it.

import { Priority, type Environment } from '../../sim/engine.js';
import { SimBug } from '../../sim/errors.js';
import type { Random } from '../../sim/random.js';
import { Kfifo } from '../../lib/kfifo.js';
import { NvmeStatus, nvmeFaultStatus, type FaultInjector } from '../fault-inject.js';
import type { NvmeApst } from '../nvme-apst.js';
import type { BlockDeviceHw, DeviceCommand, DeviceCompletion, DeviceHost, DmaDirection, MediaDetail } from '../device.js';
import {
  DieOp,
  LOGICAL_PAGE_BYTES,
  NAND_ERASE_NS,
  NAND_PROGRAM_NS,
  NandArray,
  channelTransferNs,
  flashPageReadNs,
  type DieOpOwner,
} from './nand.js';
import {
  Ftl,
  GC_RESERVE_BLOCKS,
  GC_THRESHOLD_FRACTION,
  MULTI_STREAM_COUNT,
  OVER_PROVISIONING,
  RANDOM_PRECONDITION_DRIVE_WRITES,
  SECTORS_PER_PAGE,
  SECTOR_BYTES,
  type FtlConfig,
  type FtlObserver,
} from './ftl.js';

// ---- Timing constants (ns) and bandwidths ---------------------------------------------------------

/** Doorbell write -> SQE fetched: one 64-byte PCIe read round trip plus arbitration. Assumption (~1 µs). */
export const SQE_FETCH_LATENCY_NS = 1_000;
/** Firmware time of a read of at most 4 KiB. NVMeVirt ssd_config.h SAMSUNG_970PRO FW_4KB_READ_LATENCY. */
export const FW_4KB_READ_LATENCY_NS = 21_500;
/** Firmware time of a larger read. NVMeVirt SAMSUNG_970PRO FW_READ_LATENCY. */
export const FW_READ_LATENCY_NS = 30_490;
/**
 * Fixed firmware time of a write into the DRAM buffer (SQE decode, buffer allocation, the mapping
 * update in DRAM) before the data is fetched. Calibrated so a QD1 4 KiB random write lands near the
 * 970 PRO 512GB's rated 55K IOPS (kernel-model-facts §17.2: write to buffer ≈ 10–20 µs); NVMeVirt's
 * FW_WBUF_LATENCY0 of 4 µs gives 93K.
 */
export const FW_WRITE_BUFFER_LATENCY_NS = 12_000;
/** Per-4-KiB firmware cost of a buffered write. NVMeVirt SAMSUNG_970PRO FW_WBUF_LATENCY1. */
export const FW_WRITE_BUFFER_PER_PAGE_NS = 460;
/** Uniform spread of a write's firmware time, in [-x, +x]. Assumption (cache-line and DRAM-bank effects). */
export const FW_WRITE_JITTER_NS = 1_500;
/** Firmware cost of a Flush. Assumption: 4 µs, NVMeVirt's buffered-write fixed cost (it charges none). */
export const FW_FLUSH_LATENCY_NS = 4_000;
/**
 * Firmware cores that process I/O commands. The 970 PRO's Phoenix controller has five ARM cores, one
 * of them kept for the host interface (Samsung's Phoenix description). Assumption: 4 for I/O.
 */
export const CONTROLLER_IO_CORES = 4;
/** Core time a read command occupies (part of its firmware time). Assumption: caps reads near 570K IOPS, above the NAND's 390K. */
export const FW_READ_CORE_NS = 7_000;
/** Core time a write command occupies, plus FW_WRITE_BUFFER_PER_PAGE_NS a page: 4 cores give ~500K IOPS, the rated QD32 random write. */
export const FW_WRITE_CORE_NS = 7_500;
/** Uniform spread of tPROG, in [-x, +x]: programs take longer on some word lines. Assumption (10 %). */
export const NAND_PROGRAM_JITTER_NS = 18_500;
/** PCIe 3.0 x4 effective DMA bandwidth: NVMeVirt PCIE_BANDWIDTH 3360 "MB/s" (2^20) = 3.52 GB/s. */
export const PCIE_BYTES_PER_SEC = 3_360 * 2 ** 20;
/** Per scatter-gather segment cost of a DMA (descriptor fetch, DMA engine setup). Assumption; NVMeVirt has none. */
export const PCIE_SG_ENTRY_OVERHEAD_NS = 100;
/** NVMe Set Features 08h: the aggregation time field counts 100 µs units (kernel-model-facts §13). */
export const INTERRUPT_COALESCING_TIME_UNIT_NS = 100_000;

/** DRAM write buffer. Assumption (the brief's 64 MiB); NVMeVirt's 970 PRO uses only 1 MiB (GLOBAL_WB_SIZE). */
export const WRITE_BUFFER_BYTES = 64 * 2 ** 20;
/** Usable entries per I/O queue: nvme.io_queue_depth 1024 minus the one slot that marks a full ring. */
export const NVME_QUEUE_DEPTH = 1023;
/** NVMe generic status "LBA Out of Range" (SCT 0, SC 80h). */
export const NVME_SC_LBA_RANGE = NvmeStatus.LBA_RANGE;
/** Write streams the namespace allocates (NSSA): one per lifetime hint the host can give, SHORT .. EXTREME. */
export const NVME_WRITE_STREAMS = 4;

/**
 * The FTL's open-block stream for a host write stream: the shorter-lived half (SHORT, MEDIUM)
 * with the hot data (stream 0), the longer-lived half (LONG, EXTREME) with the cold (stream 1).
 * SIMPLIFICATION: the drive keeps MULTI_STREAM_COUNT open blocks per die, fewer than the host's
 * streams, so neighbouring lifetimes share one (a drive with an open block per stream needs more spare).
 */
function ftlStreamOfDirective(dspec: number): number {
  return Math.min(MULTI_STREAM_COUNT - 1, Math.floor(((dspec - 1) * MULTI_STREAM_COUNT) / NVME_WRITE_STREAMS));
}

/** Recent write ends the sequential-stream detector remembers. Assumption. */
const STREAM_DETECTOR_SLOTS = 8;

/**
 * NVMe Set Features 08h (Interrupt Coalescing). Either field 0 disables it. It covers every I/O
 * queue's vector alike. SIMPLIFICATION: no Interrupt Vector Configuration (Feature 09h) to exempt a
 * vector (Coalescing Disable), and no admin queue vector (which the spec never coalesces).
 */
export interface InterruptCoalescingConfig {
  /** THR: completions per interrupt, 0's based (THR = 3 -> one interrupt per 4 completions). */
  readonly aggregationThreshold: number;
  /** TIME: longest delay of an interrupt, in 100 µs units. */
  readonly aggregationTime100us: number;
}

export interface NvmeSsdConfig extends FtlConfig {
  readonly model: string;
  /** I/O queue pairs (the driver maps one per CPU); qids are 0..queueCount-1, MSI-X vector = qid. */
  readonly queueCount: number;
  /** The most I/O queue pairs the controller grants (Set Features, Number of Queues). */
  readonly maxIoQueuePairs: number;
  readonly queueDepth: number;
  readonly writeBufferBytes: number;
  /** Uniform jitter added to each tR, in [-readJitterNs, +readJitterNs]; 0 draws no random numbers. */
  readonly readJitterNs: number;
  /** Uniform jitter of each tPROG and of a write's firmware time; false draws no random numbers for writes. */
  readonly writeJitter: boolean;
  readonly controllerCores: number;
  readonly interruptCoalescing: InterruptCoalescingConfig;
  /** Identify Controller CRDT1-3: the Command Retry Delay Times a CRD field selects, in 100 ms units. */
  readonly crdt: readonly [number, number, number];
}

/**
 * A 512 GB class Samsung 970 PRO (PCIe 3.0 x4, MLC) after NVMeVirt's profile: 8 channels x 2 dies,
 * 32 KiB flash pages, 4 MiB blocks, 8192 blocks per die (NVMeVirt BLKS_PER_PLN) = 512 GiB raw,
 * 7656 of them for the host (7 % spare). Aggregate program bandwidth 16 x 32 KiB / (39 µs + 185 µs) =
 * 2.3 GB/s (the 512 GB part's rated 2.3 GB/s sequential write); random 4 KiB reads peak near 16 /
 * 40.6 µs = 390 K IOPS. A scenario's device gets this geometry scaled to its capacity (ftl.ts).
 */
export const DEFAULT_NVME_CONFIG: NvmeSsdConfig = {
  model: 'Samsung SSD 970 PRO 512GB (NVMeVirt profile)',
  queueCount: 4,
  // an NVMe 1.3 drive: CRDT (NVMe 1.4) reads 0, so the host leaves ACRE off and no retry waits
  crdt: [0, 0, 0],
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
  gcThresholdFraction: GC_THRESHOLD_FRACTION,
  gcReserveBlocks: GC_RESERVE_BLOCKS,
  gcPolicy: 'greedy',
  multiStream: false,
  writeBufferBytes: WRITE_BUFFER_BYTES,
  readJitterNs: 1_000, // assumption: a small spread (NVMeVirt splits tR ±6 µs by page type instead)
  writeJitter: true,
  controllerCores: CONTROLLER_IO_CORES,
  interruptCoalescing: { aggregationThreshold: 0, aggregationTime100us: 0 },
};

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
  /** Host write stream (0 unless multi-stream separates it). */
  stream: number;
}

/** A 4 KiB page of host data held in the write buffer until it is programmed. */
interface WriteEntry {
  readonly lpn: number;
  readonly seq: number;
  readonly stream: number;
  /** The FUA write waiting for this page to be programmed, if any. */
  readonly fuaCmd: CmdState | null;
}

/** The controller's per-die write queue: buffered pages for the die in arrival order. */
class DieQueue {
  /** [head, takeIdx) are being programmed, [takeIdx, end) wait. */
  pending: WriteEntry[] = [];
  pendingHead = 0;
  takeIdx = 0;
  programQueued = false;
  /** A host program found no free block (only the GC reserve left); it resumes after the next erase. */
  programBlocked = false;
}

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
  firmwareQueuedCommands: number;
  firmwareQueueNs: number;
  nandReadPages: number;
  nandWritePages: number;
  gcBlockedPrograms: number;
  sequentialStreamPages: number;
  dmaBytesToDevice: number;
  dmaBytesFromDevice: number;
  completions: number;
  interrupts: number;
}

type Op = DieOp<CmdState>;

export class NvmeSsd implements BlockDeviceHw, DieOpOwner<CmdState>, FtlObserver {
  readonly model: string;
  readonly capacitySectors: number;
  readonly rotational = false;
  readonly queueCount: number;
  readonly queueDepth: number;
  readonly ftl: Ftl;
  /** Streams directive: the write streams the namespace gets with multi-stream on (one per lifetime hint). */
  readonly writeStreams: number;

  private readonly env: Environment;
  private readonly nand: NandArray<CmdState>;
  private readonly pagesPerFlashPage: number;
  private readonly readJitterNs: number;
  private readonly writeJitter: boolean;
  private readonly multiStream: boolean;
  private readonly coalesceThreshold: number;
  private readonly coalesceTimeNs: number;

  private readonly cq: DeviceCompletion[][];
  /** Injected media faults (the scenario's device "faults"); undefined on a healthy drive. */
  faults: FaultInjector | undefined = undefined;
  private readonly outstandingCids: Set<number>[];
  private readonly queues: DieQueue[] = [];
  /** When each firmware core is next free: commands take the earliest-free core, first come first served. */
  private readonly coreFreeAtNs: number[];
  private pcieFreeAtNs = 0;

  private readonly bufferCapacityPages: number;
  private bufferUsedPages = 0;
  /** LPN -> number of its copies in the write buffer (reads of these are served from DRAM). */
  private readonly bufferResident = new Map<number, number>();
  private readonly admission = new Kfifo<CmdState>();
  private lastSeq = 0;
  private readonly flushWaiters = new Kfifo<{ readonly st: CmdState; readonly snapshotSeq: number }>();

  /** Sequential-stream detector: the LPN after each recent write, and when it was last extended. */
  private readonly streamNextLpn = new Float64Array(STREAM_DETECTOR_SLOTS).fill(-1);
  private readonly streamLastUse = new Float64Array(STREAM_DETECTOR_SLOTS);
  private streamClock = 0;

  private readonly irqPending: number[];
  private readonly irqDeadlineNs: number[];
  /** Autonomous power state transitions, once the host has set them up (core/hw/nvme-apst.ts). */
  apst: NvmeApst | undefined;
  /** Identify Controller CRDT1-3 (100 ms units). */
  readonly crdt: readonly [number, number, number];
  /** Host Behavior Support's ACRE, set by the host: until then the controller clears CRD in its statuses. */
  acre = false;

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
    firmwareQueuedCommands: 0,
    firmwareQueueNs: 0,
    nandReadPages: 0,
    nandWritePages: 0,
    gcBlockedPrograms: 0,
    sequentialStreamPages: 0,
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
    this.crdt = config.crdt;
    this.queueCount = config.queueCount;
    this.queueDepth = config.queueDepth;
    this.ftl = new Ftl(config, this);
    this.capacitySectors = this.ftl.capacitySectors;
    this.pagesPerFlashPage = config.pagesPerFlashPage;
    this.readJitterNs = config.readJitterNs;
    this.writeJitter = config.writeJitter;
    this.multiStream = config.multiStream;
    this.writeStreams = config.multiStream ? NVME_WRITE_STREAMS : 0;
    const ic = config.interruptCoalescing;
    const coalescing = ic.aggregationThreshold > 0 && ic.aggregationTime100us > 0;
    this.coalesceThreshold = coalescing ? ic.aggregationThreshold + 1 : 0;
    this.coalesceTimeNs = coalescing ? ic.aggregationTime100us * INTERRUPT_COALESCING_TIME_UNIT_NS : 0;
    this.bufferCapacityPages = Math.max(1, Math.floor(config.writeBufferBytes / LOGICAL_PAGE_BYTES));
    this.coreFreeAtNs = new Array<number>(Math.max(1, config.controllerCores)).fill(0);

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
    for (let d = 0; d < this.ftl.dieCount; d++) this.queues.push(new DieQueue());
    if (config.precondition === 'random') {
      const pages = this.ftl.logicalPages;
      this.ftl.precondition(RANDOM_PRECONDITION_DRIVE_WRITES * pages, () => this.rng.int(pages));
    }
    this.nand = new NandArray<CmdState>(this.env, config.channels, this.ftl.dieCount, this);
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
      stream: 0,
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
    const f = this.ftl;
    const nandHostAndGc = f.hostProgramPages + f.gcCopies;
    return {
      ...c,
      hostProgramPages: f.hostProgramPages,
      gcCopies: f.gcCopies,
      gcVictims: f.gcVictims,
      erases: f.erases,
      writeAmplification: f.hostProgramPages > 0 ? nandHostAndGc / f.hostProgramPages : 0,
      overProvisioning: f.effectiveOverProvisioning(),
      dies: f.dieCount,
      pagesPerBlock: f.pagesPerBlock,
      blocksPerDie: f.blocksPerDie,
      bufferUsedPages: this.bufferUsedPages,
      ...f.stats(),
    };
  }

  /** Checks the FTL bookkeeping against the mapping table (tests on small devices). */
  auditFtl(): void {
    this.ftl.audit();
  }

  // ---- Command front end --------------------------------------------------------------------------

  private readonly fetched = (st: CmdState): void => {
    const cmd = st.cmd;
    this.host.onFetch(st.qid, cmd);
    if (cmd.op === 'flush') {
      this.c.flushCommands++;
      this.env.after(FW_FLUSH_LATENCY_NS, Priority.URGENT, this.startFlush, st);
      return;
    }
    const outOfRange = cmd.sector < 0 || cmd.nrSectors < 0 || cmd.sector + cmd.nrSectors > this.capacitySectors;
    if (cmd.op === 'read') {
      this.c.readCommands++;
      const fwNs = cmd.nrSectors * SECTOR_BYTES <= LOGICAL_PAGE_BYTES ? FW_4KB_READ_LATENCY_NS : FW_READ_LATENCY_NS;
      const startNs = this.takeCore(FW_READ_CORE_NS);
      this.env.at(startNs + fwNs, Priority.URGENT, outOfRange ? this.failRange : this.startRead, st);
      return;
    }
    this.c.writeCommands++;
    if (cmd.fua) this.c.fuaWriteCommands++;
    const perPageNs = FW_WRITE_BUFFER_PER_PAGE_NS * st.pageCount;
    const startNs = this.takeCore(FW_WRITE_CORE_NS + perPageNs);
    let fwNs = FW_WRITE_BUFFER_LATENCY_NS + perPageNs;
    if (this.writeJitter) fwNs += Math.round((this.rng.next() * 2 - 1) * FW_WRITE_JITTER_NS);
    this.env.at(startNs + fwNs, Priority.URGENT, outOfRange ? this.failRange : this.admitWrite, st);
  };

  /**
   * Occupies the earliest-free firmware core for `coreNs` and returns when the command starts on it.
   * The rest of a command's firmware time overlaps other commands (hardware engines, DRAM), so at
   * low queue depth latency is the firmware time and at high depth the cores cap the command rate.
   */
  private takeCore(coreNs: number): number {
    const cores = this.coreFreeAtNs;
    let best = 0;
    for (let i = 1; i < cores.length; i++) if (cores[i]! < cores[best]!) best = i;
    const nowNs = this.env.nowNs;
    const freeAtNs = cores[best]!;
    if (freeAtNs <= nowNs) {
      cores[best] = nowNs + coreNs;
      return nowNs;
    }
    cores[best] = freeAtNs + coreNs;
    this.c.firmwareQueuedCommands++;
    this.c.firmwareQueueNs += freeAtNs - nowNs;
    return freeAtNs;
  }

  private readonly failRange = (st: CmdState): void => {
    this.c.errorCommands++;
    this.postCompletion(st, NVME_SC_LBA_RANGE);
  };

  // ---- Reads --------------------------------------------------------------------------------------

  private readonly startRead = (st: CmdState): void => {
    this.c.hostReadPages += st.pageCount;
    const ops: Op[] = [];
    let cur: Op | null = null;
    let curFlashPage = -1;
    for (let i = 0; i < st.pageCount; i++) {
      const lpn = st.firstLpn + i;
      if (this.bufferResident.has(lpn)) {
        this.c.bufferReadHitPages++;
        cur = null;
        continue;
      }
      const ppn = this.ftl.lookup(lpn);
      // Like NVMeVirt's conv_read, consecutive LPNs on the same flash page share one tR.
      const flashPage = Math.floor(ppn / this.pagesPerFlashPage);
      if (cur !== null && flashPage === curFlashPage) {
        cur.pageCount++;
        continue;
      }
      cur = new DieOp<CmdState>('read', this.ftl.dieOfPpn(ppn), this.env.nowNs, st);
      cur.pageCount = 1;
      curFlashPage = flashPage;
      ops.push(cur);
    }
    st.opsLeft = ops.length;
    if (ops.length === 0) {
      // Every page came from the write buffer (or the read was empty).
      this.reportMedia(st, this.ftl.dieOfLpn(st.firstLpn), 0, 0, true);
      this.startDma(st);
      return;
    }
    for (const op of ops) this.nand.enqueue(op);
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
      if (!st.cmd.fua) this.reportMedia(st, this.ftl.dieOfLpn(st.firstLpn), waitedNs, 0, true);
      this.startDma(st);
    }
  }

  /** The write's data is in the buffer: queue its pages for programming. */
  private insertIntoBuffer(st: CmdState): void {
    const fuaCmd = st.cmd.fua ? st : null;
    st.opsLeft = st.pageCount;
    this.c.hostWritePages += st.pageCount;
    const dspec = st.cmd.dspec ?? 0;
    const stream = !this.multiStream ? 0 : dspec > 0 ? ftlStreamOfDirective(dspec) : this.classifyStream(st);
    for (let i = 0; i < st.pageCount; i++) {
      const lpn = st.firstLpn + i;
      // SIMPLIFICATION: a partial 4 KiB page is written as a whole page (no read-modify-write), and
      // rewrites of a page still in the buffer are not coalesced (each copy is programmed).
      this.bufferResident.set(lpn, (this.bufferResident.get(lpn) ?? 0) + 1);
      const die = this.ftl.dieOfLpn(lpn);
      this.queues[die]!.pending.push({ lpn, seq: ++this.lastSeq, stream, fuaCmd });
      this.enqueueProgram(die);
    }
  }

  /**
   * Multi-stream, for a write the host gave no stream: stream 1 for a write that continues a recent
   * write (a sequential run), stream 0 for the rest, so long-lived sequential data and short-lived
   * random data fill different blocks. The device detects the streams itself, like AutoStream
   * (SYSTOR '17); a write with a Streams directive goes where the host said (ftlStreamOfDirective).
   */
  private classifyStream(st: CmdState): number {
    const next = this.streamNextLpn;
    const endLpn = st.firstLpn + st.pageCount;
    this.streamClock++;
    let lru = 0;
    for (let i = 0; i < next.length; i++) {
      if (next[i] === st.firstLpn) {
        next[i] = endLpn;
        this.streamLastUse[i] = this.streamClock;
        this.c.sequentialStreamPages += st.pageCount;
        return 1;
      }
      if (this.streamLastUse[i]! < this.streamLastUse[lru]!) lru = i;
    }
    next[lru] = endLpn;
    this.streamLastUse[lru] = this.streamClock;
    return 0;
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
    for (const q of this.queues) {
      const head = q.pending[q.pendingHead];
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
    if (this.faults !== undefined && status === 0) {
      // SIMPLIFICATION: a faulty command fails when it would have completed; a buffered write
      // fails at once instead of when its program fails.
      const fault = this.faults.check(st.cmd);
      if (fault !== undefined) {
        this.c.errorCommands++;
        if (fault.kind === 'timeout') {
          // the controller never posts a completion: the host's timer fires
          this.outstandingCids[qid]!.delete(st.cmd.cid);
          return;
        }
        status = nvmeFaultStatus(fault, st.cmd.op);
        if (!this.acre) status &= ~NvmeStatus.CRD;
      }
    }
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

  private reportMedia(st: CmdState, die: number, waitNs: number, mediaNs: number, cacheHit: boolean): void {
    if (st.mediaReported) return;
    st.mediaReported = true;
    const detail: MediaDetail = {
      channel: this.nand.channelOf(die),
      die: this.nand.wayOf(die),
      seekNs: waitNs,
      rotationNs: -1,
      mediaNs,
      cacheHit,
    };
    this.host.onMediaStart(st.qid, st.cmd, detail);
  }

  // ---- Die operations (DieOpOwner) -----------------------------------------------------------------

  beginOp(op: Op): boolean {
    switch (op.kind) {
      case 'read':
        return this.beginRead(op);
      case 'program':
        return this.beginProgram(op);
      case 'gc':
        return this.beginGcStep(op);
    }
  }

  finishOp(op: Op): void {
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
  }

  private beginRead(op: Op): boolean {
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
    this.reportMedia(op.cmd!, op.die, this.env.nowNs - op.enqueuedNs, tRNs + channelTransferNs(bytes), false);
    return true;
  }

  private finishRead(op: Op): void {
    const st = op.cmd!;
    st.opsLeft--;
    if (st.opsLeft === 0) this.startDma(st);
  }

  /** tPROG of one program, with its spread when write jitter is on. */
  private programNs(): number {
    if (!this.writeJitter) return NAND_PROGRAM_NS;
    return NAND_PROGRAM_NS + Math.round((this.rng.next() * 2 - 1) * NAND_PROGRAM_JITTER_NS);
  }

  // ---- Background programming of the write buffer -------------------------------------------------

  /** Keeps one host program operation queued or running per die while it has buffered pages. */
  private enqueueProgram(die: number): void {
    const q = this.queues[die]!;
    if (q.programQueued || q.programBlocked || q.takeIdx >= q.pending.length) return;
    q.programQueued = true;
    this.nand.enqueue(new DieOp<CmdState>('program', die, this.env.nowNs, null));
  }

  private beginProgram(op: Op): boolean {
    const q = this.queues[op.die]!;
    const available = q.pending.length - q.takeIdx;
    if (available === 0) {
      q.programQueued = false;
      return false;
    }
    // One program fills one flash page of one stream's open block: it takes the waiting pages of the
    // first page's stream, up to a flash page.
    const stream = q.pending[q.takeIdx]!.stream;
    let want = 1;
    while (want < available && want < this.pagesPerFlashPage && q.pending[q.takeIdx + want]!.stream === stream) want++;
    const nowNs = this.env.nowNs;
    const k = this.ftl.hostRoom(op.die, stream, want, nowNs);
    if (k === 0) {
      // Only the GC reserve is left: wait for an erase (write stalls emerge from here).
      q.programQueued = false;
      q.programBlocked = true;
      this.c.gcBlockedPrograms++;
      return false;
    }
    // SIMPLIFICATION: a program writes up to one flash page's worth of buffered pages at the open
    // block's write pointer without waiting to fill the flash page, padding, or aligning to it.
    const tProgNs = this.programNs();
    for (let i = 0; i < k; i++) {
      const entry = q.pending[q.takeIdx + i]!;
      this.ftl.programHost(op.die, stream, entry.lpn, nowNs);
      if (entry.fuaCmd !== null) {
        this.reportMedia(entry.fuaCmd, op.die, nowNs - op.enqueuedNs, channelTransferNs(k * LOGICAL_PAGE_BYTES) + tProgNs, false);
      }
    }
    q.takeIdx += k;
    op.pageCount = k;
    op.phases = [
      { kind: 'xfer', bytes: k * LOGICAL_PAGE_BYTES },
      { kind: 'busy', ns: tProgNs },
    ];
    this.c.nandWritePages += k;
    return true;
  }

  private finishProgram(op: Op): void {
    const q = this.queues[op.die]!;
    for (let i = 0; i < op.pageCount; i++) {
      const entry = q.pending[q.pendingHead]!;
      q.pendingHead++;
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
    if (q.pendingHead >= 1024 && q.pendingHead * 2 >= q.pending.length) {
      q.pending = q.pending.slice(q.pendingHead);
      q.takeIdx -= q.pendingHead;
      q.pendingHead = 0;
    }
    q.programQueued = false;
    this.enqueueProgram(op.die);
    this.tryAdmit();
    this.checkFlushes();
  }

  // ---- Garbage collection (the FTL decides, the dies do the work) ---------------------------------

  requestGc(die: number): void {
    this.nand.enqueue(new DieOp<CmdState>('gc', die, this.env.nowNs, null));
  }

  onGcVictim(die: number, block: number, validPages: number, freeBlocks: number): void {
    this.host.onFtlGc?.(die, block, validPages, freeBlocks);
  }

  onErase(die: number, block: number, copiedPages: number): void {
    this.host.onFtlErase?.(die, block, copiedPages, this.ftl.hostProgramPages, this.ftl.hostProgramPages + this.ftl.gcCopies);
  }

  /**
   * One GC step: relocate up to a flash page of the victim's valid pages (reads, channel out and
   * back in, one program), or erase the victim once it holds none.
   */
  private beginGcStep(op: Op): boolean {
    const copied = this.ftl.gcStep(op.die, this.env.nowNs);
    if (copied < 0) {
      if (this.queues[op.die]!.programBlocked) throw new SimBug(`NvmeSsd: die ${op.die} out of blocks with no GC victim`);
      return false;
    }
    if (copied > 0) {
      // SIMPLIFICATION: no copyback; the data crosses the channel out to the controller (ECC) and back.
      op.pageCount = copied;
      op.phases = [
        { kind: 'busy', ns: this.ftl.gcStepReadNs },
        { kind: 'xfer', bytes: 2 * copied * LOGICAL_PAGE_BYTES },
        { kind: 'busy', ns: this.programNs() },
      ];
      this.c.nandReadPages += copied;
      this.c.nandWritePages += copied;
      return true;
    }
    op.erase = true;
    op.phases = [{ kind: 'busy', ns: NAND_ERASE_NS }];
    return true;
  }

  private finishGcStep(op: Op): void {
    const more = this.ftl.gcStepDone(op.die, op.erase);
    const q = this.queues[op.die]!;
    if (op.erase && q.programBlocked) {
      q.programBlocked = false;
      this.enqueueProgram(op.die);
    }
    if (more) this.requestGc(op.die);
  }
}

/** Time to move `bytes` over the PCIe link (without the per-segment overhead). */
export function pcieTransferNs(bytes: number): number {
  return Math.round((bytes * 1e9) / PCIE_BYTES_PER_SEC);
}
