// Models: block/elevator.c: the registered I/O schedulers (elevator_find, elv_iosched_show), a
// queue's scheduler at boot (elevator_init_mq) and the write of /sys/block/<dev>/queue/scheduler
// (elv_iosched_store -> elevator_change -> elevator_switch), which swaps it on a live queue.

import type { ElevatorMqOps } from './blkdev.js';
import type { MqRequest, RequestQueue } from './blk-mq.js';
import { createMqDeadline } from './mq-deadline.js';
import { createBfq } from './bfq-iosched.js';
import { createKyber } from './kyber-iosched.js';
import { EINVAL } from '../uapi/errno.js';

/** Every scheduler a queue can take, "none" included, in the order Linux lists them. */
export const ELEVATOR_NAMES = ['none', 'mq-deadline', 'bfq', 'kyber'] as const;
export type ElevatorName = (typeof ELEVATOR_NAMES)[number];

export function isElevatorName(name: string): name is ElevatorName {
  return (ELEVATOR_NAMES as readonly string[]).includes(name);
}

/** elevator_find + ops.init_sched: a new instance for `q` ("none": no elevator). */
export function elevatorCreate(q: RequestQueue, name: ElevatorName): ElevatorMqOps | undefined {
  switch (name) {
    case 'none':
      return undefined;
    case 'mq-deadline':
      return createMqDeadline(q);
    case 'bfq':
      return createBfq(q);
    case 'kyber':
      return createKyber(q);
  }
}

/** elv_iosched_show: the choices with the current one bracketed, "[mq-deadline] kyber bfq none". */
export function elvIoschedShow(q: RequestQueue): string {
  const cur = q.elevator?.name ?? 'none';
  return ELEVATOR_NAMES.map((n) => (n === cur ? `[${n}]` : n)).join(' ');
}

/**
 * elevator_switch: quiesce, take the queued requests from the old scheduler (elevator_exit), set
 * up the new one and hand them to it (to the hardware queue's dispatch list for "none"), then run
 * the queue. Requests already at the driver finish as they are; their completion reaches the new
 * scheduler, which ignores what it did not dispatch.
 * SIMPLIFICATION: Linux freezes the queue (new submitters wait in blk_queue_enter) and drains
 * every request through the old scheduler first; here the switch is instant and the queued
 * requests move across. The tag set keeps its size (nr_requests is not reallocated).
 */
export function elevatorSwitch(q: RequestQueue, name: ElevatorName): void {
  const cur = q.elevator?.name ?? 'none';
  if (cur === name) return; // elevator_match: nothing to do
  const moved = (q.elevator?.exit() ?? []) as MqRequest[];
  q.elevator = elevatorCreate(q, name);
  if (moved.length > 0) {
    if (q.elevator) q.elevator.insertRequests(moved, false);
    else for (const rq of moved) rq.hctx.dispatchList.push(rq);
  }
  q.runQueues();
}

/**
 * elv_iosched_store: what a write of `text` to /sys/block/<dev>/queue/scheduler does. Surrounding
 * whitespace (echo's newline) is stripped; an unknown name is -EINVAL. Returns 0 or -errno.
 */
export function elvIoschedStore(q: RequestQueue, text: string): number {
  const name = text.trim();
  if (!isElevatorName(name)) return -EINVAL;
  elevatorSwitch(q, name);
  return 0;
}
