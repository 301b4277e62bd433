// Test helpers for poll/epoll: a pollable fake file whose ->poll mask the test sets and whose wait
// queue it wakes from a timer (as a socket's data arrival would), a machine with one test task,
// and a user buffer for the events arrays.
import { fileRaStateInit } from '../../core/mm/mm_types.js';
import { bootMachine, DEFAULT_MACHINE, type Machine } from '../../core/index.js';
import type { Task } from '../../core/kernel/sched/task.js';
import { Priority } from '../../core/sim/engine.js';
import { WaitQueue } from '../../core/sim/process.js';
import { anonInode } from '../../core/fs/anon_inodes.js';
import { O, type File, type FileOperations } from '../../core/fs/types.js';
import { sysMmap } from '../../core/fs/open.js';
import { MAP, PROT } from '../../core/mm/mmap.js';
import { nanosleep } from '../../core/kernel/time/timer.js';

/** A file whose readiness the test drives: ->poll reports `mask` and registers on `wq`. */
export class FakePollable {
  mask = 0;
  readonly wq = new WaitQueue();
  readonly file: File;
  /** ->poll calls seen. */
  polls = 0;
  /** Called from ->poll (after registering), to time an event against a scan. */
  onPoll: (() => void) | undefined;

  constructor(m: Machine) {
    const self = this;
    const fops: FileOperations = {
      name: 'fake_poll_fops',
      *readIter() {
        return -22;
      },
      *writeIter() {
        return -22;
      },
      *fsync() {
        return -22;
      },
      mmap() {
        return -19;
      },
      poll(file, pt) {
        self.polls++;
        pt?.wait(file, self.wq);
        self.onPoll?.();
        return self.mask;
      },
    };
    this.file = {
      kaddr: m.k.kaddr(),
      inode: anonInode(m.k, '[fake]', fops),
      flags: O.RDWR,
      posBytes: 0,
      ra: fileRaStateInit(),
      fMode: 0,
      refcount: 0,
      fWbErr: 0,
    };
  }

  /** Installs the file in the task's fd table (a new reference). */
  install(t: Task): number {
    this.file.refcount++;
    return t.files!.install(this.file);
  }

  /** At absolute time `atNs` the mask becomes `mask` and the queue is woken (wake_up_poll with `key`, the mask by default). */
  fire(m: Machine, atNs: number, mask: number, all = false, key = mask): void {
    m.k.env.after(atNs - m.k.env.nowNs, Priority.NORMAL, () => {
      this.mask = mask;
      if (all) this.wq.wakeAll(key);
      else this.wq.wakeOne(key);
    }, undefined);
  }
}

/** A fresh machine (seed 1) with nothing running. */
export function machine(): Machine {
  return bootMachine(DEFAULT_MACHINE, 1);
}

/** Spawns a task running `body`. */
export function spawn(m: Machine, name: string, body: (t: Task) => Generator<number, void, void>): Task {
  return m.spawn(name, false, body, m.init);
}

/** One anonymous page (mapped at once) for events / pollfd arrays. */
export function* userPage(m: Machine, t: Task): Generator<number, number, void> {
  return yield* sysMmap(m.k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
}

/** Sleeps until absolute time `atNs`. */
export function* sleepUntil(m: Machine, t: Task, atNs: number): Generator<number, void, void> {
  if (atNs > m.k.env.nowNs) yield* nanosleep(m.k, t, atNs - m.k.env.nowNs);
}
