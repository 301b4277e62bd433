// Models: drivers/ata/libahci.c with drivers/scsi/sd.c and scsi_lib.c on top: one hardware queue
// with NCQ tags (ahci_qc_issue), one port interrupt, and completion finished in BLOCK_SOFTIRQ
// (blk_mq_complete_request raises it when the queue has a single hardware context); a command
// that ends in CHECK CONDITION goes through the midlayer's sense disposition and retries, one the
// disk never answers through scsi_timeout and the error handler (drivers/scsi/scsi_error.ts).
// Non-NCQ commands (FLUSH CACHE EXT) run alone on the link: libata's ata_std_qc_defer refuses one
// while NCQ commands are in flight, and any command while it runs (ATA_DEFER_LINK), so
// queuecommand returns SCSI_MLQUEUE_DEVICE_BUSY (scsi_dispatch_cmd_error), the request is requeued
// and the blocked device (max_device_blocked 1) takes it again only at zero depth.

import type { Kernel } from '../../kernel/kernel.js';
import type { BlkMqOps, CpuCost, HwCtx, MqRequest, QueueRqResult, RequestQueue } from '../../block/blk-mq.js';
import { BlkStatus, ReqFlag, ReqOp } from '../../block/blk_types.js';
import type { ScsiCmdInfo } from '../../trace/events.js';
import { statusSense } from '../../hw/fault-inject.js';
import { SAM_STAT_CHECK_CONDITION, SCSI_MLQUEUE_DEVICE_BUSY, SD_MAX_RETRIES, SD_TIMEOUT_NS, ScsiErrorHandler, scsiCdb, scsiCheckSense, type ScsiEhHost } from '../scsi/scsi_error.js';
import type { HitContext } from '../../trace/probe.js';
import { SOFTIRQ, type Cpu } from '../../kernel/sched/core.js';
import { BlockDriverHost } from '../blk-host.js';
import { AHCI_QUEUE_CMD_NS, HARDIRQ_BASE_NS, IRQ_PER_COMPLETION_NS, SOFTIRQ_BASE_NS } from '../../hw/cpu.js';

/** The AHCI controller's MSI irq number. */
const AHCI_IRQ = 28;
/**
 * sdev->max_device_blocked as ata_scsi_sdev_config sets it: 1, so that every deferred command comes
 * back to ->qc_defer as soon as the device is at zero depth (the midlayer's default is 3).
 */
const ATA_MAX_DEVICE_BLOCKED = 1;
/** ATA_TAG_POISON: link->active_tag when no non-NCQ command is in flight. */
const ATA_TAG_POISON = -1;

export class AhciDriver extends BlockDriverHost implements BlkMqOps, ScsiEhHost {
  readonly name = 'ahci';
  /** The SCSI host this port is (host_no: scsi0 for ata1). */
  readonly hostNo: number;
  private readonly eh: ScsiErrorHandler;
  /** sdev->device_blocked: set when queuecommand defers; dispatch waits for zero depth while it lasts. */
  private deviceBlocked = 0;
  /** link->active_tag: the tag of the non-NCQ command in flight (it owns the link). */
  private activeTag = ATA_TAG_POISON;

  constructor(
    k: Kernel,
    q: RequestQueue,
    /** The CPU the port interrupt is routed to (smp_affinity). */
    private readonly irqCpuId: number,
    hostNo = 0,
  ) {
    super(k, q);
    this.hostNo = hostNo;
    this.eh = new ScsiErrorHandler(k, hostNo, this);
    this.rqTimeoutNs = 0;
  }

  /** Arms sd's 30 s command timeout (the device can stop answering). */
  enableTimeouts(): void {
    this.rqTimeoutNs = SD_TIMEOUT_NS;
  }

  get queueDepth(): number {
    return this.hw.queueDepth;
  }

  irqCpu(): Cpu {
    return this.k.sched.cpu(this.irqCpuId);
  }

  queueRq(_hctx: HwCtx, rq: MqRequest, ctx: HitContext, cost: CpuCost): QueueRqResult {
    // scsi_prep_state_check: an offline device rejects I/O; a host in recovery takes none
    if (this.offline) return 'ioerr';
    const outstanding = this.outstanding[0]!;
    if (this.eh.active || outstanding.size >= this.hw.queueDepth) return 'busy';
    // scsi_dev_queue_ready: a blocked device gets no budget until it is at zero depth
    if (this.deviceBlocked > 0) {
      if (outstanding.size > 0) return 'busy';
      this.deviceBlocked--;
    }
    cost.ns += AHCI_QUEUE_CMD_NS;
    // ata_std_qc_defer: a non-NCQ command needs an idle link; an NCQ one, no non-NCQ command on it
    const ncq = rq.op !== ReqOp.FLUSH && this.hw.queueDepth > 1;
    if (this.activeTag !== ATA_TAG_POISON || (!ncq && outstanding.size > 0)) return this.defer(rq, ctx);
    const cmd = this.command(rq, ctx, cost);
    this.q.startRequest(rq, ctx);
    if (!ncq) this.activeTag = cmd.cid;
    outstanding.set(cmd.cid, rq);
    if (this.rqTimeoutNs > 0) this.armTimeout(rq);
    if (this.k.tp.scsi_dispatch_cmd_start.enabled) this.k.tp.scsi_dispatch_cmd_start.emit(ctx, rq.ioId, this.cmdInfo(rq, cmd.sgList.length, 0, 0));
    this.hw.submit(0, cmd);
    return 'ok';
  }

  /**
   * scsi_dispatch_cmd with ata_scsi_translate deferring (ATA_DEFER_LINK): the request was started,
   * queuecommand returns SCSI_MLQUEUE_DEVICE_BUSY, scsi_set_blocked blocks the device and blk-mq
   * puts the request back at the head of hctx->dispatch (block_rq_requeue).
   * SIMPLIFICATION: the sg list is mapped on the attempt that goes out (Linux maps it once, on the
   * first attempt, and keeps it under RQF_DONTPREP): the same one mapping either way.
   */
  private defer(rq: MqRequest, ctx: HitContext): QueueRqResult {
    this.q.startRequest(rq, ctx);
    const tp = this.k.tp;
    if (tp.scsi_dispatch_cmd_start.enabled) tp.scsi_dispatch_cmd_start.emit(ctx, rq.ioId, this.cmdInfo(rq, rq.nrPhysSegments, 0, 0));
    if (tp.scsi_dispatch_cmd_error.enabled) tp.scsi_dispatch_cmd_error.emit(ctx, rq.ioId, this.cmdInfo(rq, rq.nrPhysSegments, SCSI_MLQUEUE_DEVICE_BUSY, 0));
    this.deviceBlocked = ATA_MAX_DEVICE_BLOCKED;
    this.q.handleDevResource(rq, ctx);
    return 'busy';
  }

  /** Takes a command off the port; a finished non-NCQ command frees the link (active_tag). */
  protected override complete(qid: number, cid: number): MqRequest | undefined {
    if (cid === this.activeTag) this.activeTag = ATA_TAG_POISON;
    return super.complete(qid, cid);
  }

  /** The scsi_cmnd view of a request, for the scsi: tracepoints. */
  private cmdInfo(rq: MqRequest, sgCount: number, result: number, senseStatus: number): ScsiCmdInfo {
    const sense = statusSense(senseStatus);
    return {
      hostNo: this.hostNo,
      channel: 0,
      id: 0,
      lun: 0,
      result,
      cdb: scsiCdb(rq, this.hw.capacitySectors > 0xffffffff, (rq.cmdFlags & ReqFlag.FUA) !== 0),
      driverTag: rq.tag,
      schedulerTag: this.q.elevator ? rq.tag : -1,
      dataSglen: sgCount,
      senseKey: senseStatus === 0 ? 0 : sense.key,
      asc: senseStatus === 0 ? 0 : sense.asc,
      ascq: senseStatus === 0 ? 0 : sense.ascq,
    };
  }

  /**
   * scsi_complete for a command that ended in CHECK CONDITION: the disposition of its sense data
   * (scsi_decide_disposition): finish, or requeue within SD_MAX_RETRIES.
   */
  private scsiComplete(rq: MqRequest, status: number, cpu: Cpu, cost: CpuCost): void {
    const d = scsiCheckSense(statusSense(status));
    if (d.retry && ++rq.retries <= SD_MAX_RETRIES) this.q.requeueRequest(rq, cpu, cost);
    else this.q.endRequest(rq, d.status, cpu, cost);
  }

  /** scsi_timeout: scsi_dispatch_cmd_timeout, then the error handler takes the command. */
  protected timedOut(rq: MqRequest): void {
    const qid = this.findOutstanding(rq);
    if (qid < 0) return;
    this.complete(qid, rq.tag); // the LLD forgets it: the abort reclaims the tag
    const tp = this.k.tp.scsi_dispatch_cmd_timeout;
    if (tp.enabled) tp.emit(this.irqCpu(), rq.ioId, this.cmdInfo(rq, rq.nrPhysSegments, 0, 0));
    this.eh.add(rq);
  }

  // ---- ScsiEhHost --------------------------------------------------------------------------

  deviceAnswers(): boolean {
    return this.hw.faults?.answersCommands() ?? true;
  }

  retry(rq: MqRequest): void {
    this.q.requeueRequest(rq, this.irqCpu(), { ns: 0 });
  }

  finish(rq: MqRequest, status: BlkStatus): void {
    this.q.endRequest(rq, status, this.irqCpu(), { ns: 0 });
  }

  takeOffline(): void {
    // scsi_eh_offline_sdevs, then every command still held fails (the device is gone)
    this.setOffline(true);
    for (let cid = 0; cid < this.hw.queueDepth; cid++) {
      const rq = this.complete(0, cid);
      if (rq) this.finish(rq, BlkStatus.IOERR);
    }
  }

  resume(): void {
    const cost: CpuCost = { ns: 0 };
    for (const h of this.q.hctxs) this.q.runHwQueue(h, this.irqCpu(), cost);
  }

  /** ahci_single_level_irq_intr: acknowledge, then hand completions to BLOCK_SOFTIRQ. */
  raiseInterrupt(): void {
    const completions = this.hw.reap(0);
    const cpu = this.irqCpu();
    const first = completions[0];
    const firstIoId = first ? this.ioIdOf(0, first.cmd.cid) : 0;
    this.k.sched.raiseIrq(cpu, {
      irq: AHCI_IRQ,
      name: 'ahci[0000:00:17.0]',
      ioId: firstIoId,
      costNs: HARDIRQ_BASE_NS,
      handler: (c) => {
        if (completions.length === 0) return 0;
        // scsi_done (scsi_dispatch_cmd_done) -> blk_mq_complete_request: one hardware queue, so
        // finish in BLOCK_SOFTIRQ, where scsi_complete decides what the status means
        const done = this.k.tp.scsi_dispatch_cmd_done;
        if (done.enabled) {
          for (const comp of completions) {
            const rq = this.outstanding[0]!.get(comp.cmd.cid);
            if (rq) done.emit(c, rq.ioId, this.cmdInfo(rq, comp.cmd.sgList.length, comp.status === 0 ? 0 : SAM_STAT_CHECK_CONDITION, comp.status));
          }
        }
        const fn = this.k.fn.blk_mq_complete_request;
        if (fn.entry.enabled || fn.ret.enabled) {
          for (const comp of completions) {
            const rq = this.outstanding[0]!.get(comp.cmd.cid);
            if (!rq) continue;
            if (fn.entry.enabled) fn.enter(c, rq.ioId, rq);
            if (fn.ret.enabled) fn.exit(c, rq.ioId, 0);
          }
        }
        this.k.sched.raiseSoftirq(c, {
          vec: SOFTIRQ.BLOCK,
          ioId: firstIoId,
          costNs: SOFTIRQ_BASE_NS + IRQ_PER_COMPLETION_NS * completions.length,
          handler: (sc) => {
            const cost: CpuCost = { ns: 0 };
            for (const comp of completions) {
              const rq = this.complete(0, comp.cmd.cid);
              if (!rq) continue;
              sc.irqIoId = rq.ioId;
              if (comp.status === 0) this.q.endRequest(rq, BlkStatus.OK, sc, cost);
              else this.scsiComplete(rq, comp.status, sc, cost);
            }
            return cost.ns;
          },
        });
        return 0;
      },
    });
  }
}
