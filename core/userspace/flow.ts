// Models: fio's flow.c (flow=, flow_id=, flow_sleep=): token-based flow control between jobs.
// Jobs of one flow_id share a counter; each job counts its own turns too, and a job whose share
// of the turns is above its share of the flow's weight waits. fio adds every job's weight when it
// parses the job file (flow_init_job in add_job) and takes its turns and weight back when the job
// exits (flow_exit_job), so jobs held back by stonewall already count.

import { WaitQueue } from '../sim/process.js';

/** struct fio_flow: one flow_id's shared counter and total weight. */
export class FioFlow {
  /** Turns taken by every job of the flow, plus one (flow_get starts it at 1). */
  counter = 1;
  totalWeight = 0;
  /** Jobs waiting for their share to drop (kiotrace's stand-in for fio's spin: see JobRun). */
  readonly waiters = new WaitQueue();

  constructor(readonly id: number) {}
}

/** One job's place in its flow (td->flow, td->flow_counter, td->o.flow). */
export class FlowMember {
  /** Turns this job has taken (td->flow_counter). */
  turns = 0;

  constructor(
    readonly flow: FioFlow,
    readonly weight: number,
  ) {
    flow.totalWeight += weight;
  }

  /**
   * flow_threshold_exceeded: true when this job has had more than its share of the flow's turns
   * (it must wait); otherwise it takes a turn.
   */
  exceeded(): boolean {
    const flow = this.flow;
    if (this.turns / flow.counter > this.weight / flow.totalWeight) return true;
    flow.counter++;
    this.turns++;
    // every turn taken changes the others' shares
    flow.waiters.wakeAll();
    return false;
  }

  /** flow_exit_job: the job's turns and weight leave the flow. */
  leave(): void {
    this.flow.counter -= this.turns;
    this.flow.totalWeight -= this.weight;
    this.turns = 0;
    this.flow.waiters.wakeAll();
  }
}

/** The flows of one fio run, by flow_id (fio's flow_list). */
export class FlowTable {
  private readonly flows = new Map<number, FioFlow>();

  /** flow_init_job for a job with flow=weight (> 0). */
  join(flowId: number, weight: number): FlowMember {
    let flow = this.flows.get(flowId);
    if (!flow) {
      flow = new FioFlow(flowId);
      this.flows.set(flowId, flow);
    }
    return new FlowMember(flow, weight);
  }
}
