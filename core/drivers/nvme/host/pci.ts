// Models: drivers/nvme/host/pci.c and core.c: nvme_queue_rq (nvme_setup_cmd, DMA mapping,
// blk_mq_start_request, SQ doorbell) on the queue pair of the submitting CPU, and nvme_irq on that
// queue's MSI-X vector, completing requests in hardirq context (nvme_complete_rq ->
// blk_mq_end_request), as Linux does when each CPU has its own queue. An error status goes through
// nvme_decide_disposition (retried up to nvme_core.max_retries unless the drive set DNR; mapped by
// nvme_error_status; after the Command Retry Delay its CRD field selects, nvme_retry_req); a
// command the drive never answers through nvme_timeout (abort, then controller reset, then a dead
// controller).

import type { Kernel } from '../../../kernel/kernel.js';
import type { BlkMqOps, CpuCost, HwCtx, MqRequest, QueueRqResult, RequestQueue } from '../../../block/blk-mq.js';
import { BlkStatus, ReqOp } from '../../../block/blk_types.js';
import { NVME_STATUS_CRD_SHIFT, NvmeStatus } from '../../../hw/fault-inject.js';
import { Priority } from '../../../sim/engine.js';
import type { HitContext } from '../../../trace/probe.js';
import type { Cpu } from '../../../kernel/sched/core.js';
import type { NvmeCmdInfo } from '../../../trace/events.js';
import type { DeviceCommand } from '../../../hw/device.js';
import { BlockDriverHost } from '../../blk-host.js';
import { HARDIRQ_BASE_NS, IRQ_PER_COMPLETION_NS, NVME_QUEUE_RQ_NS } from '../../../hw/cpu.js';
import { DeviceState } from '../../base/core.js';
import { RWH_WRITE_LIFE } from '../../../fs/types.js';

/** First MSI-X irq number of the controller (an x86 PCI MSI range). */
const NVME_IRQ_BASE = 120;
const NVME_OPC = { flush: 0x00, write: 0x01, read: 0x02 } as const;
/** Host Aborted Command (path status 71h): what nvme_cancel_request completes a request with. */
const NVME_SC_HOST_ABORTED_CMD = 0x371;

/** nvme_core.io_timeout: 30 s. */
export const NVME_IO_TIMEOUT_NS = 30e9;
/** nvme_core.max_retries: 5. */
export const NVME_MAX_RETRIES = 5;
/** Command Abort Requested (generic status 07h): what an aborted command completes with. */
export const NVME_SC_ABORT_REQ = 0x007;
/**
 * CAP.TO: how long the host waits for CSTS.RDY after enabling the controller, in 500 ms units.
 * SIMPLIFICATION: 20 (10 s), an assumed value; drives report their own.
 */
export const NVME_CAP_TO_NS = 20 * 500e6;
/** An Abort admin command the controller answers: one round trip. SIMPLIFICATION: fixed (assumed). */
export const NVME_ABORT_ROUND_TRIP_NS = 100_000;
/** CRDT's unit: 100 ms. */
export const NVME_CRDT_UNIT_NS = 100e6;

/** What the host reads of Identify Controller and sets with Set Features for retries. */
export interface NvmeRetryCtrl {
  /** CRDT1-3, in 100 ms units. */
  readonly crdt: readonly [number, number, number];
  /** Host Behavior Support: Advanced Command Retry Enable. */
  acre: boolean;
}

/** nvme_error_status: an NVMe status (SCT << 8 | SC, DNR and More masked off) as a blk_status_t. */
export function nvmeErrorStatus(status: number): BlkStatus {
  switch (status & 0x7ff) {
    case 0:
      return BlkStatus.OK;
    case 0x081: // Capacity Exceeded
      return BlkStatus.NOSPC;
    case NvmeStatus.LBA_RANGE:
      return BlkStatus.TARGET;
    case 0x001: // Invalid Command Opcode
    case 0x002: // Invalid Field in Command
    case 0x00b: // Invalid Namespace or Format
      return BlkStatus.NOTSUPP;
    case NvmeStatus.WRITE_FAULT:
    case NvmeStatus.READ_ERROR:
    case 0x285: // Compare Failure
    case 0x286: // Access Denied
    case 0x287: // Deallocated or Unwritten Logical Block
      return BlkStatus.MEDIUM;
    default:
      return BlkStatus.IOERR;
  }
}

/**
 * nvme_assign_write_stream: a write's lifetime hint as a stream of the Streams directive (SHORT is
 * stream 1 .. EXTREME stream 4); no hint, NONE, or a stream the namespace lacks: no directive.
 * SIMPLIFICATION: Linux had this mapping from 4.13 to 5.17 (NVMe Streams, dropped in 5.18); 6.x
 * passes only io_uring's bi_write_stream to FDP drives, and per-inode hints reach SCSI alone.
 */
function nvmeWriteStream(rq: MqRequest, nrStreams: number): number {
  const hint = rq.bios[0]?.writeHint ?? RWH_WRITE_LIFE.NOT_SET;
  if (hint <= RWH_WRITE_LIFE.NONE) return 0;
  const stream = hint - 1;
  return stream <= nrStreams ? stream : 0;
}

export class NvmePciDriver extends BlockDriverHost implements BlkMqOps {
  readonly name = 'nvme';
  /** Each I/O queue's MSI-X vector name as /proc/interrupts shows it (nvme0q1, ...). */
  private readonly irqNames: string[] = [];
  /** iod->aborted: requests whose first timeout sent an Abort. */
  private readonly aborted = new Set<MqRequest>();
  /** A controller reset is in progress: nothing new is dispatched. */
  private resetting = false;
  /** ctrl->crdt: the retry delays CRD 1-3 select, in ns (0 until Identify reports them). */
  private readonly crdtNs: [number, number, number] = [0, 0, 0];

  constructor(
    k: Kernel,
    q: RequestQueue,
    readonly diskName: string,
    readonly ctrlId: number,
  ) {
    super(k, q);
  }

  private irqName(qid: number): string {
    return (this.irqNames[qid] ??= `nvme${this.ctrlId}q${qid + 1}`);
  }

  get queueDepth(): number {
    return this.hw.queueDepth;
  }

  /** nvme_setup_cmd and nvme_complete_rq number I/O queues from 1 (0 is the admin queue). */
  protected override tracedQid(qid: number): number {
    return qid + 1;
  }

  /** The controller changed power state on its own (APST): the status table follows. */
  onPowerState(_ps: number, nonOperational: boolean): void {
    this.k.devices.setState(this.q.device, nonOperational ? DeviceState.SUSPENDED : DeviceState.IDLE, undefined);
  }

  irqCpu(qid: number): Cpu {
    return this.k.sched.cpu(qid % this.k.sched.cpus.length);
  }

  private info(qid: number, cmd: DeviceCommand, status: number, retries = 0): NvmeCmdInfo {
    return {
      disk: this.diskName,
      ctrlId: this.ctrlId,
      qid: this.tracedQid(qid),
      cid: cmd.cid,
      opcode: NVME_OPC[cmd.op],
      nsid: 1,
      slba: cmd.sector,
      nlb: Math.max(0, cmd.nrSectors - 1),
      status,
      retries,
      dspec: cmd.dspec ?? 0,
    };
  }

  /**
   * nvme_init_identify keeps CRDT1-3; nvme_configure_acre then enables Advanced Command Retry
   * (Host Behavior Support) when the controller reports a first delay, so that it may set CRD.
   */
  initIdentify(ctrl: NvmeRetryCtrl): void {
    for (let i = 0; i < 3; i++) this.crdtNs[i] = ctrl.crdt[i]! * NVME_CRDT_UNIT_NS;
    if (ctrl.crdt[0] > 0) ctrl.acre = true;
  }

  /** Arms nvme_core.io_timeout (the drive can stop answering). */
  enableTimeouts(): void {
    this.rqTimeoutNs = NVME_IO_TIMEOUT_NS;
  }

  queueRq(hctx: HwCtx, rq: MqRequest, ctx: HitContext, cost: CpuCost): QueueRqResult {
    const qid = hctx.queueNum % this.hw.queueCount;
    const fn = this.k.fn.nvme_queue_rq;
    if (fn.entry.enabled) fn.enter(ctx, rq.ioId, hctx, rq);
    if (this.offline) {
      // nvme_fail_nonready_command on a dead controller
      if (fn.ret.enabled) fn.exit(ctx, rq.ioId, BlkStatus.IOERR);
      return 'ioerr';
    }
    if (this.resetting || this.outstanding[qid]!.size >= this.hw.queueDepth) {
      if (fn.ret.enabled) fn.exit(ctx, rq.ioId, 9); // BLK_STS_RESOURCE
      return 'busy';
    }
    cost.ns += NVME_QUEUE_RQ_NS;
    const streams = this.hw.writeStreams;
    const cmd = this.command(rq, ctx, cost, streams !== undefined && streams > 0 && rq.op === ReqOp.WRITE ? nvmeWriteStream(rq, streams) : 0);
    if (this.k.tp.nvme_setup_cmd.enabled) this.k.tp.nvme_setup_cmd.emit(ctx, rq.ioId, this.info(qid, cmd, 0));
    this.q.startRequest(rq, ctx);
    this.outstanding[qid]!.set(cmd.cid, rq);
    if (this.rqTimeoutNs > 0) this.armTimeout(rq);
    this.hw.submit(qid, cmd);
    if (fn.ret.enabled) fn.exit(ctx, rq.ioId, 0);
    return 'ok';
  }

  /**
   * nvme_complete_rq for a failed command: nvme_decide_disposition retries while the drive did not
   * set DNR and the budget lasts, and nvme_retry_req requeues it at once (block_rq_requeue) but
   * kicks the requeue list only after crdt[CRD - 1] * 100 ms when the status carries a CRD;
   * otherwise the request ends with nvme_error_status.
   */
  private completeError(rq: MqRequest, status: number, cpu: Cpu, cost: CpuCost): void {
    this.aborted.delete(rq);
    if (!(status & NvmeStatus.DNR) && rq.retries < NVME_MAX_RETRIES) {
      const crd = (status & NvmeStatus.CRD) >> NVME_STATUS_CRD_SHIFT;
      rq.retries++;
      this.q.requeueRequest(rq, cpu, cost, crd === 0 ? 0 : this.crdtNs[crd - 1]!);
      return;
    }
    this.q.endRequest(rq, nvmeErrorStatus(status), cpu, cost);
  }

  /**
   * nvme_timeout: the first time, an Abort for the command (it completes with Command Abort
   * Requested if the controller answers); a command that times out again after its abort resets
   * the controller, and a controller that never gets ready is dead (nvme_remove_dead_ctrl).
   */
  protected timedOut(rq: MqRequest): void {
    const qid = this.findOutstanding(rq);
    if (qid < 0) return;
    const answers = this.hw.faults?.answersCommands() ?? true;
    if (!this.aborted.has(rq)) {
      this.aborted.add(rq);
      if (answers) this.k.env.after(NVME_ABORT_ROUND_TRIP_NS, Priority.URGENT, this.abortDoneFn, rq);
      this.armTimeout(rq); // BLK_EH_RESET_TIMER
      return;
    }
    // "I/O tag N (QID q) timeout, reset controller": nvme_dev_disable, then the reset work
    this.resetting = true;
    this.k.env.after(answers ? NVME_ABORT_ROUND_TRIP_NS : NVME_CAP_TO_NS, Priority.NORMAL, this.resetDoneFn, answers);
  }

  private readonly abortDoneFn = (rq: MqRequest): void => {
    const qid = this.findOutstanding(rq);
    if (qid < 0 || rq.state !== 'in_flight') return;
    this.outstanding[qid]!.delete(rq.tag);
    const cpu = this.irqCpu(qid);
    const cost: CpuCost = { ns: 0 };
    if (this.k.tp.nvme_complete_rq.enabled) this.k.tp.nvme_complete_rq.emit(cpu, rq.ioId, this.rqInfo(qid, rq, NVME_SC_ABORT_REQ));
    this.completeError(rq, NVME_SC_ABORT_REQ, cpu, cost);
  };

  private readonly resetDoneFn = (ready: boolean): void => {
    this.resetting = false;
    // nvme_dev_disable cancelled every outstanding command (host aborted); a dead controller fails them
    for (let qid = 0; qid < this.outstanding.length; qid++) {
      const cpu = this.irqCpu(qid);
      const cost: CpuCost = { ns: 0 };
      for (let cid = 0; cid < this.hw.queueDepth; cid++) {
        const rq = this.complete(qid, cid);
        if (!rq) continue;
        this.aborted.delete(rq);
        if (ready) this.completeError(rq, NVME_SC_HOST_ABORTED_CMD, cpu, cost);
        else this.q.endRequest(rq, BlkStatus.IOERR, cpu, cost);
      }
    }
    if (!ready) this.setOffline(true);
    else this.setOffline(false);
    const cost: CpuCost = { ns: 0 };
    for (const h of this.q.hctxs) this.q.runHwQueue(h, this.irqCpu(0), cost);
  };

  private rqInfo(qid: number, rq: MqRequest, status: number): NvmeCmdInfo {
    return {
      disk: this.diskName,
      ctrlId: this.ctrlId,
      qid: this.tracedQid(qid),
      cid: rq.tag,
      opcode: rq.op === ReqOp.WRITE ? NVME_OPC.write : rq.op === ReqOp.READ ? NVME_OPC.read : NVME_OPC.flush,
      nsid: 1,
      slba: rq.sector,
      nlb: Math.max(0, rq.nrSectors - 1),
      status,
      retries: rq.retries,
      dspec: 0,
    };
  }

  /** The MSI-X message for queue `vector`: nvme_irq reaps the CQ on that queue's CPU. */
  raiseInterrupt(vector: number): void {
    const qid = vector;
    const completions = this.hw.reap(qid);
    const cpu = this.irqCpu(qid);
    const first = completions[0];
    this.k.sched.raiseIrq(cpu, {
      irq: NVME_IRQ_BASE + qid + 1,
      name: this.irqName(qid),
      ioId: first ? this.ioIdOf(qid, first.cmd.cid) : 0,
      costNs: HARDIRQ_BASE_NS + IRQ_PER_COMPLETION_NS * completions.length,
      handler: (c) => {
        const cost: CpuCost = { ns: 0 };
        for (const comp of completions) {
          const rq = this.complete(qid, comp.cmd.cid);
          if (!rq) continue;
          c.irqIoId = rq.ioId;
          if (this.k.tp.nvme_complete_rq.enabled) this.k.tp.nvme_complete_rq.emit(c, rq.ioId, this.info(qid, comp.cmd, comp.status, rq.retries));
          if (comp.status !== 0) {
            this.completeError(rq, comp.status, c, cost);
            continue;
          }
          const fn = this.k.fn.blk_mq_complete_request;
          if (fn.entry.enabled) fn.enter(c, rq.ioId, rq);
          this.q.endRequest(rq, BlkStatus.OK, c, cost);
          if (fn.ret.enabled) fn.exit(c, rq.ioId, 0);
        }
        return cost.ns;
      },
    });
  }
}
