// Models: drivers/ata/libahci.c with drivers/scsi/sd.c and scsi_lib.c on top: one hardware queue
// with NCQ tags (ahci_qc_issue), one port interrupt, and completion finished in BLOCK_SOFTIRQ
// (blk_mq_complete_request raises it when the queue has a single hardware context).

import type { Kernel } from '../../kernel/kernel.js';
import type { BlkMqOps, CpuCost, HwCtx, MqRequest, QueueRqResult, RequestQueue } from '../../block/blk-mq.js';
import { BlkStatus } from '../../block/blk_types.js';
import type { HitContext } from '../../trace/probe.js';
import { SOFTIRQ, type Cpu } from '../../kernel/sched/core.js';
import { BlockDriverHost } from '../blk-host.js';
import { AHCI_QUEUE_CMD_NS, HARDIRQ_BASE_NS, IRQ_PER_COMPLETION_NS, SOFTIRQ_BASE_NS } from '../../hw/cpu.js';

/** The AHCI controller's MSI irq number. */
const AHCI_IRQ = 28;

export class AhciDriver extends BlockDriverHost implements BlkMqOps {
  readonly name = 'ahci';

  constructor(
    k: Kernel,
    q: RequestQueue,
    /** The CPU the port interrupt is routed to (smp_affinity). */
    private readonly irqCpuId: number,
  ) {
    super(k, q);
  }

  get queueDepth(): number {
    return this.hw.queueDepth;
  }

  irqCpu(): Cpu {
    return this.k.sched.cpu(this.irqCpuId);
  }

  queueRq(_hctx: HwCtx, rq: MqRequest, ctx: HitContext, cost: CpuCost): QueueRqResult {
    if (this.outstanding[0]!.size >= this.hw.queueDepth) return 'busy';
    cost.ns += AHCI_QUEUE_CMD_NS;
    const cmd = this.command(rq, ctx, cost);
    this.q.startRequest(rq, ctx);
    this.outstanding[0]!.set(cmd.cid, rq);
    this.hw.submit(0, cmd);
    return 'ok';
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
        // scsi_done -> blk_mq_complete_request: one hardware queue, so finish in BLOCK_SOFTIRQ
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
              this.q.endRequest(rq, comp.status === 0 ? BlkStatus.OK : BlkStatus.IOERR, sc, cost);
            }
            return cost.ns;
          },
        });
        return 0;
      },
    });
  }
}
