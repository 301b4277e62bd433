// Test helper: an asynchronous engine whose every I/O takes exactly `latencyNs` from commit to
// completion, with no kernel underneath, so the job loop's own behaviour (depth, batching,
// iodepth_low, rate, open-loop arrivals) is what a test sees.
import type { EngineContext, IoEngineOps, IoU, QueueResult } from '../../../core/userspace/engines/engine.js';
import { FIO_Q } from '../../../core/userspace/engines/engine.js';
import { WaitQueue } from '../../../core/sim/process.js';
import { Priority } from '../../../core/sim/engine.js';
import { scheduleTimeout } from '../../../core/kernel/time/timer.js';
import { SCHED, TaskState } from '../../../core/kernel/sched/task.js';

export interface EngineLog {
  /** Each queued io_u: when, where, and how many were in flight (committed, not reaped) then. */
  readonly queued: { atNs: number; ddir: string; fileIndex: number; offsetBytes: number; lenBytes: number; inFlight: number }[];
  /** Each commit: when and how many it submitted. */
  readonly commits: { atNs: number; count: number }[];
  /** Each getevents: min, max and how many it returned. */
  readonly reaps: { atNs: number; min: number; max: number; got: number }[];
  maxInFlight: number;
}

export function fixedLatencyEngine(latencyNs: number, log: EngineLog): IoEngineOps {
  const staged: IoU[] = [];
  const done: IoU[] = [];
  let inFlight = 0;
  const wq = new WaitQueue();
  return {
    name: 'fixed-latency',
    sync: false,
    *init(): Generator<number, number, void> {
      return 0;
    },
    *queue(ctx: EngineContext, io: IoU): Generator<number, QueueResult, void> {
      log.queued.push({ atNs: ctx.k.env.nowNs, ddir: io.ddir, fileIndex: io.fileIndex, offsetBytes: io.offsetBytes, lenBytes: io.lenBytes, inFlight });
      staged.push(io);
      return FIO_Q.QUEUED;
    },
    *commit(ctx: EngineContext): Generator<number, number, void> {
      const k = ctx.k;
      const batch = staged.splice(0);
      yield 1000; // the submitting syscall's CPU time
      log.commits.push({ atNs: k.env.nowNs, count: batch.length });
      for (const io of batch) {
        io.issueNs = k.env.nowNs;
        inFlight++;
        log.maxInFlight = Math.max(log.maxInFlight, inFlight);
        k.env.after(latencyNs, Priority.NORMAL, (x: IoU) => {
          x.result = x.lenBytes;
          inFlight--;
          done.push(x);
          wq.wakeAll();
        }, io);
      }
      return batch.length;
    },
    *getevents(ctx: EngineContext, min: number, max: number, timeoutNs?: number): Generator<number, readonly IoU[], void> {
      const k = ctx.k;
      const deadlineNs = timeoutNs === undefined ? Infinity : k.env.nowNs + timeoutNs;
      while (done.length < min && k.env.nowNs < deadlineNs) {
        wq.add(ctx.task);
        if (deadlineNs === Infinity) {
          ctx.task.state = TaskState.INTERRUPTIBLE;
          yield SCHED;
        } else {
          yield* scheduleTimeout(k, ctx.task, deadlineNs - k.env.nowNs, TaskState.INTERRUPTIBLE);
        }
        wq.remove(ctx.task);
      }
      const got = done.splice(0, max);
      log.reaps.push({ atNs: k.env.nowNs, min, max, got: got.length });
      return got;
    },
    *cleanup(): Generator<number, void, void> {},
  };
}

export function newLog(): EngineLog {
  return { queued: [], commits: [], reaps: [], maxInFlight: 0 };
}
