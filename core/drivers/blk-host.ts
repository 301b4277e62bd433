// Models: the host side shared by the block drivers (drivers/nvme/host/pci.c, drivers/ata/
// libahci.c): turning a request into a device command over DMA-mapped pages, tracking
// outstanding commands by id, and firing the kiotrace: sites for steps only the hardware sees
// (command fetch, media, DMA).

import type { Kernel } from '../kernel/kernel.js';
import type { BlockDeviceHw, DeviceCommand, DeviceHost, DmaDirection, MediaDetail } from '../hw/device.js';
import type { CpuCost, MqRequest, RequestQueue } from '../block/blk-mq.js';
import type { HitContext } from '../trace/probe.js';
import type { DeviceStep } from '../trace/events.js';
import { ReqFlag, ReqOp, fillRwbs } from '../block/blk_types.js';
import { dmaMapSg } from '../kernel/dma/mapping.js';
import { Priority, type Environment } from '../sim/engine.js';
import type { Cpu } from '../kernel/sched/core.js';

/** A device's state as the device-status table shows it: running, or failed (offline / dead). */
export type DeviceRunState = 'running' | 'failed';
/** Called when a driver takes its device offline after failed recovery, or brings it back. */
export type DeviceStateHook = (dev: number, state: DeviceRunState) => void;

/** Outstanding requests of one hardware queue, indexed by command id (the request's tag). */
export class CmdTable {
  private readonly byCid: (MqRequest | undefined)[] = [];
  size = 0;

  get(cid: number): MqRequest | undefined {
    return this.byCid[cid];
  }

  set(cid: number, rq: MqRequest): void {
    if (this.byCid[cid] === undefined) this.size++;
    this.byCid[cid] = rq;
  }

  /** The outstanding request with the lowest command id (a walk: for readers, not the I/O path). */
  first(): MqRequest | undefined {
    if (this.size === 0) return undefined;
    for (const rq of this.byCid) if (rq !== undefined) return rq;
    return undefined;
  }

  delete(cid: number): void {
    if (this.byCid[cid] === undefined) return;
    this.byCid[cid] = undefined;
    this.size--;
  }
}

export abstract class BlockDriverHost implements DeviceHost {
  hw!: BlockDeviceHw;
  /** Outstanding requests by queue and command id. */
  protected readonly outstanding: CmdTable[] = [];

  /**
   * The request timeout (blk_queue_rq_timeout: sd's 30 s, nvme_core.io_timeout 30 s), armed only
   * when it can fire. SIMPLIFICATION: a device without injected faults always answers well within
   * the timeout, so its requests carry no timer (0).
   */
  rqTimeoutNs = 0;
  /** SDEV_OFFLINE / NVME_CTRL_DEAD: every request fails at once with BLK_STS_IOERR. */
  offline = false;
  /** The "device failed" / "device back" hook (the device-status table wires it). */
  stateHook: DeviceStateHook | undefined = undefined;

  constructor(
    protected readonly k: Kernel,
    readonly q: RequestQueue,
  ) {}

  /** Takes the device offline (failed recovery) or brings it back (echo running > .../state). */
  setOffline(offline: boolean): void {
    if (this.offline === offline) return;
    this.offline = offline;
    this.stateHook?.(this.q.dev, offline ? 'failed' : 'running');
    if (!offline) {
      const cpu = this.irqCpu(0);
      const cost: CpuCost = { ns: 0 };
      for (const h of this.q.hctxs) this.q.runHwQueue(h, cpu, cost);
    }
  }

  /** blk_add_timer: arms the request's timeout as it goes to the device. */
  protected armTimeout(rq: MqRequest): void {
    const deadline = this.k.env.nowNs + this.rqTimeoutNs;
    rq.deadlineNs = deadline;
    this.k.env.at(deadline, Priority.NORMAL, this.timeoutFn, rq);
  }

  private readonly timeoutFn = (rq: MqRequest): void => {
    // blk_mq_check_expired: a request completed, requeued or reissued since carries another deadline
    if (rq.state !== 'in_flight' || rq.deadlineNs !== this.k.env.nowNs) return;
    this.timedOut(rq);
  };

  /** ->timeout: the driver's reaction to a request the device did not answer in time. */
  protected abstract timedOut(rq: MqRequest): void;

  /** Finds where an outstanding request sits (queue, command id). */
  protected findOutstanding(rq: MqRequest): number {
    for (let qid = 0; qid < this.outstanding.length; qid++) {
      if (this.outstanding[qid]!.get(rq.tag) === rq) return qid;
    }
    return -1;
  }

  get env(): Environment {
    return this.k.env;
  }

  attach(hw: BlockDeviceHw): void {
    this.hw = hw;
    for (let i = 0; i < hw.queueCount; i++) this.outstanding.push(new CmdTable());
  }

  /** The CPU that takes this queue's interrupt (and where device-side hits are reported). */
  abstract irqCpu(qid: number): Cpu;

  abstract raiseInterrupt(vector: number): void;

  /** The device command for a request: a cache flush, or a read/write over its DMA-mapped pages (`dspec`: its write stream). */
  protected command(rq: MqRequest, ctx: HitContext, cost: CpuCost, dspec = 0): DeviceCommand {
    if (rq.op === ReqOp.FLUSH) return { cid: rq.tag, op: 'flush', sector: 0, nrSectors: 0, fua: false, sgList: [], dspec: 0 };
    const toDevice = rq.op === ReqOp.WRITE;
    return {
      cid: rq.tag,
      op: toDevice ? 'write' : 'read',
      sector: rq.sector,
      nrSectors: rq.nrSectors,
      fua: (rq.cmdFlags & ReqFlag.FUA) !== 0,
      sgList: dmaMapSg(this.k, ctx, rq.ioId, this.q.dev, rq, toDevice, cost),
      dspec,
    };
  }

  /** The request in progress for the device-status table: the lowest-tagged one the device holds. */
  inProgress(): MqRequest | undefined {
    for (const t of this.outstanding) {
      const rq = t.first();
      if (rq) return rq;
    }
    return undefined;
  }

  /** Takes a completed command's request off the outstanding table. */
  protected complete(qid: number, cid: number): MqRequest | undefined {
    const t = this.outstanding[qid]!;
    const rq = t.get(cid);
    if (rq) t.delete(cid);
    return rq;
  }

  private rwbsOf(qid: number, cmd: DeviceCommand): string {
    const rq = this.outstanding[qid]!.get(cmd.cid);
    return rq ? fillRwbs(rq.op, rq.cmdFlags) : cmd.op === 'flush' ? 'FF' : cmd.op === 'write' ? 'W' : 'R';
  }

  /** A hardware queue's number as the driver's own tracepoints print it (NVMe: I/O queues from 1). */
  protected tracedQid(qid: number): number {
    return qid;
  }

  protected step(qid: number, cmd: DeviceCommand): DeviceStep {
    return { dev: this.q.dev, qid: this.tracedQid(qid), cid: cmd.cid, sector: cmd.sector, nrSectors: cmd.nrSectors, rwbs: this.rwbsOf(qid, cmd), rq: this.outstanding[qid]!.get(cmd.cid) };
  }

  onFtlGc(die: number, block: number, validPages: number, freeBlocks: number): void {
    const tp = this.k.tp.ftl_gc;
    if (tp.enabled) tp.emit(this.irqCpu(0), 0, this.q.dev, die, block, validPages, freeBlocks);
  }

  onFtlErase(die: number, block: number, copiedPages: number, hostPages: number, nandPages: number): void {
    const tp = this.k.tp.ftl_erase;
    if (tp.enabled) tp.emit(this.irqCpu(0), 0, this.q.dev, die, block, copiedPages, hostPages, nandPages);
  }

  protected ioIdOf(qid: number, cid: number): number {
    return this.outstanding[qid]!.get(cid)?.ioId ?? 0;
  }

  onFetch(qid: number, cmd: DeviceCommand): void {
    const tp = this.k.tp.device_fetch;
    if (tp.enabled) tp.emit(this.irqCpu(qid), this.ioIdOf(qid, cmd.cid), this.step(qid, cmd));
  }

  onMediaStart(qid: number, cmd: DeviceCommand, d: MediaDetail): void {
    const tp = this.k.tp.device_media;
    if (tp.enabled) {
      // written out field by field: adding keys after a spread is a slow path in V8
      tp.emit(this.irqCpu(qid), this.ioIdOf(qid, cmd.cid), {
        dev: this.q.dev,
        qid: this.tracedQid(qid),
        cid: cmd.cid,
        sector: cmd.sector,
        nrSectors: cmd.nrSectors,
        rwbs: this.rwbsOf(qid, cmd),
        rq: this.outstanding[qid]!.get(cmd.cid),
        channel: d.channel,
        die: d.die,
        seekNs: d.seekNs,
        rotationNs: d.rotationNs,
        mediaNs: d.mediaNs,
        cacheHit: d.cacheHit,
      });
    }
  }

  onDma(qid: number, cmd: DeviceCommand, direction: DmaDirection, bytes: number, startNs: number, endNs: number): void {
    const tp = this.k.tp.dma_transfer;
    if (tp.enabled) {
      tp.emit(this.irqCpu(qid), this.ioIdOf(qid, cmd.cid), {
        dev: this.q.dev,
        qid: this.tracedQid(qid),
        cid: cmd.cid,
        sector: cmd.sector,
        nrSectors: cmd.nrSectors,
        rwbs: this.rwbsOf(qid, cmd),
        rq: this.outstanding[qid]!.get(cmd.cid),
        toDevice: direction === 'to-device',
        bytes,
        nrSg: cmd.sgList.length,
        dmaAddr: cmd.sgList[0]?.dmaAddr ?? 0,
        durationNs: endNs - startNs,
        startNs,
        endNs,
      });
    }
  }
}
