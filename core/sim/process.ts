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

/**
 * A wait_queue_entry with its own ->func (epoll's ep_poll_callback, poll's pollwake): unlike a
 * sleeper it stays on the queue across wakeups until removed, and is told the wake key (the EPOLL*
 * events that happened; 0 = not said).
 */
export interface WaitQueueEntry {
  /** WQ_FLAG_EXCLUSIVE: an entry whose func returns true uses up one of a wake_up's nr_exclusive. */
  readonly exclusive: boolean;
  /** ->func: true when it woke someone. */
  wakeFunc(key: number): boolean;
}

/**
 * A FIFO of sleepers (wait_queue_head_t). Waking removes a sleeper, as autoremove_wake_function
 * does; sleepers count as exclusive waiters. Entries with a func (WaitQueueEntry) are kept apart,
 * non-exclusive ones first (add_wait_queue) and exclusive ones last (add_wait_queue_exclusive).
 */
export class WaitQueue {
  private waiters: Waker[] = [];
  /** Copied on change, so a wake walks a stable list. */
  private entries: WaitQueueEntry[] | undefined;

  get length(): number {
    return this.waiters.length + (this.entries === undefined ? 0 : this.entries.length);
  }

  add(waker: Waker): void {
    this.waiters.push(waker);
  }

  remove(waker: Waker): void {
    const i = this.waiters.indexOf(waker);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  /** add_wait_queue / add_wait_queue_exclusive for an entry with its own func. */
  addEntry(entry: WaitQueueEntry): void {
    const list = this.entries === undefined ? [] : this.entries.slice();
    if (entry.exclusive) list.push(entry);
    else list.unshift(entry);
    this.entries = list;
  }

  /** remove_wait_queue */
  removeEntry(entry: WaitQueueEntry): void {
    const list = this.entries;
    if (list === undefined) return;
    const i = list.indexOf(entry);
    if (i < 0) return;
    this.entries = list.length === 1 ? undefined : list.filter((e) => e !== entry);
  }

  /** wake_up_all (wake_up_all_poll with a key): every sleeper, every entry. */
  wakeAll(key = 0): number {
    const entries = this.entries;
    if (entries !== undefined) for (const e of entries) e.wakeFunc(key);
    const list = this.waiters;
    if (list.length === 0) return 0;
    this.waiters = [];
    for (const w of list) w.wake();
    return list.length;
  }

  /**
   * wake_up / wake_up_poll (nr_exclusive = 1): every non-exclusive entry, then the first sleeper,
   * or, with none, exclusive entries in order until one says it woke someone.
   */
  wakeOne(key = 0): boolean {
    const entries = this.entries;
    if (entries === undefined) {
      const w = this.waiters.shift();
      if (!w) return false;
      w.wake();
      return true;
    }
    let woke = false;
    for (const e of entries) {
      if (!e.exclusive) {
        if (e.wakeFunc(key)) woke = true;
        continue;
      }
      const w = this.waiters.shift();
      if (w) {
        w.wake();
        return true;
      }
      if (e.wakeFunc(key)) return true;
    }
    const w = this.waiters.shift();
    if (!w) return woke;
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
