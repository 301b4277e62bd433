// Models: no Linux file; SimPy-style generator processes for process context, and wait queues
// (include/linux/wait.h) that sleepers park on and interrupt-context code wakes.

import { Environment, Priority } from './engine.js';
import { SimBug } from './errors.js';

/**
 * What a process generator yields: a number >= 0 is "let this much time pass"; SLEEP parks the
 * process until something calls its wake(). The scheduler's tasks use the same protocol, where a
 * number is CPU time to consume rather than wall time.
 */
export const SLEEP = -1;
export type ProcessBody = Generator<number, void, void>;

/** Anything a wait queue can wake. */
export interface Waker {
  wake(): void;
}

/** A FIFO of sleepers (wait_queue_head_t). Waking removes the entry, as autoremove_wake_function does. */
export class WaitQueue {
  private waiters: Waker[] = [];

  get length(): number {
    return this.waiters.length;
  }

  add(waker: Waker): void {
    this.waiters.push(waker);
  }

  remove(waker: Waker): void {
    const i = this.waiters.indexOf(waker);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  /** wake_up_all */
  wakeAll(): number {
    const list = this.waiters;
    if (list.length === 0) return 0;
    this.waiters = [];
    for (const w of list) w.wake();
    return list.length;
  }

  /** wake_up (exclusive waiter) */
  wakeOne(): boolean {
    const w = this.waiters.shift();
    if (!w) return false;
    w.wake();
    return true;
  }
}

/** A generator process driven directly by the engine (no CPU model): numbers are delays. */
export class Process implements Waker {
  private sleeping = false;
  private finished = false;
  private wakePending = false;

  constructor(
    private readonly env: Environment,
    private readonly body: ProcessBody,
    readonly name: string,
  ) {
    env.after(0, Priority.NORMAL, resumeProcess, this);
  }

  get done(): boolean {
    return this.finished;
  }

  wake(): void {
    if (this.finished) return;
    if (!this.sleeping) {
      this.wakePending = true;
      return;
    }
    this.sleeping = false;
    this.env.after(0, Priority.NORMAL, resumeProcess, this);
  }

  /** @internal */
  step(): void {
    for (;;) {
      const r = this.body.next();
      if (r.done) {
        this.finished = true;
        return;
      }
      const v = r.value;
      if (v === SLEEP) {
        if (this.wakePending) {
          this.wakePending = false;
          continue;
        }
        this.sleeping = true;
        return;
      }
      if (!(v >= 0)) throw new SimBug(`process ${this.name} yielded ${v}`);
      this.env.after(v, Priority.NORMAL, resumeProcess, this);
      return;
    }
  }
}

function resumeProcess(p: Process): void {
  p.step();
}
