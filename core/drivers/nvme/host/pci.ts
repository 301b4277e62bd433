// Models: drivers/nvme/host/pci.c and core.c: nvme_queue_rq (nvme_setup_cmd, DMA mapping,
// blk_mq_start_request, SQ doorbell) on the queue pair of the submitting CPU, and nvme_irq on that
// queue's MSI-X vector, completing requests in hardirq context (nvme_complete_rq ->
// blk_mq_end_request), as Linux does when each CPU has its own queue.

import type { Kernel } from '../../../kernel/kernel.js';
import type { BlkMqOps, CpuCost, HwCtx, MqRequest, QueueRqResult, RequestQueue } from '../../../block/blk-mq.js';
import { BlkStatus } from '../../../block/blk_types.js';
import type { HitContext } from '../../../trace/probe.js';
import type { Cpu } from '../../../kernel/sched/core.js';
import type { NvmeCmdInfo } from '../../../trace/events.js';
import type { DeviceCommand } from '../../../hw/device.js';
import { BlockDriverHost } from '../../blk-host.js';
import { HARDIRQ_BASE_NS, IRQ_PER_COMPLETION_NS, NVME_QUEUE_RQ_NS } from '../../../hw/cpu.js';
import { DeviceState } from '../../base/core.js';

/** First MSI-X irq number of the controller (an x86 PCI MSI range). */
const NVME_IRQ_BASE = 120;
const NVME_OPC = { flush: 0x00, write: 0x01, read: 0x02 } as const;

export class NvmePciDriver extends BlockDriverHost implements BlkMqOps {
  readonly name = 'nvme';
  /** Each I/O queue's MSI-X vector name as /proc/interrupts shows it (nvme0q1, ...). */
  private readonly irqNames: string[] = [];

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

  private info(qid: number, cmd: DeviceCommand, status: number): NvmeCmdInfo {
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
    };
  }

  queueRq(hctx: HwCtx, rq: MqRequest, ctx: HitContext, cost: CpuCost): QueueRqResult {
    const qid = hctx.queueNum % this.hw.queueCount;
    const fn = this.k.fn.nvme_queue_rq;
    if (fn.entry.enabled) fn.enter(ctx, rq.ioId, hctx, rq);
    if (this.outstanding[qid]!.size >= this.hw.queueDepth) {
      if (fn.ret.enabled) fn.exit(ctx, rq.ioId, 9); // BLK_STS_RESOURCE
      return 'busy';
    }
    cost.ns += NVME_QUEUE_RQ_NS;
    const cmd = this.command(rq, ctx, cost);
    if (this.k.tp.nvme_setup_cmd.enabled) this.k.tp.nvme_setup_cmd.emit(ctx, rq.ioId, this.info(qid, cmd, 0));
    this.q.startRequest(rq, ctx);
    this.outstanding[qid]!.set(cmd.cid, rq);
    this.hw.submit(qid, cmd);
    if (fn.ret.enabled) fn.exit(ctx, rq.ioId, 0);
    return 'ok';
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
          if (this.k.tp.nvme_complete_rq.enabled) this.k.tp.nvme_complete_rq.emit(c, rq.ioId, this.info(qid, comp.cmd, comp.status));
          const fn = this.k.fn.blk_mq_complete_request;
          if (fn.entry.enabled) fn.enter(c, rq.ioId, rq);
          this.q.endRequest(rq, comp.status === 0 ? BlkStatus.OK : BlkStatus.IOERR, c, cost);
          if (fn.ret.enabled) fn.exit(c, rq.ioId, 0);
        }
        return cost.ns;
      },
    });
  }
}
