// Models: fs/select.c: poll(2), ppoll(2) and select(2) (do_sys_poll -> do_poll -> do_pollfd), the poll table
// they hand each file's ->poll (poll_initwait, __pollwait, pollwake, poll_freewait), the sleep
// between scans (poll_schedule_timeout with the triggered flag that closes the race between a
// scan and the sleep) and select_estimate_accuracy, the timer slack every poll-style timeout gets
// (0.1% of the timeout, 0.5% for a niced task, at least timer_slack_ns, at most 100 ms, none for
// real-time tasks). vfs_poll: a file without ->poll is always ready (DEFAULT_POLLMASK).
// SIMPLIFICATION: the timeout's hrtimer fires at its hard expiry (timeout + slack); Linux may run
// it as early as the soft expiry when another timer interrupt comes by.
// SIMPLIFICATION: every task has the default timer_slack_ns (no prctl(PR_SET_TIMERSLACK)).
// SIMPLIFICATION: ppoll's signal mask is checked (sigsetsize) but not installed: kiotrace's
// signals have no masks.
// select(2) (core_sys_select -> do_select) scans the fds of its three sets the same way.
// SIMPLIFICATION: select's n is not clamped to the fd table's size (a set bit past it is -EBADF,
// not ignored), and the timeval is not updated with the time left; no pselect6.
// SIMPLIFICATION: no busy polling (net.core.busy_poll is 0 by default).

import type { Kernel } from '../kernel/kernel.js';
import { TaskState, SCHED_FIFO, type Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { scheduleTimeout } from '../kernel/time/timer.js';
import { ioSchedule } from '../block/blk-core.js';
import { signalPending } from '../kernel/signal.js';
import { userRangeMapped } from '../mm/memory.js';
import { POLL_WAIT_ENTRY_NS, VFS_POLL_NS } from '../hw/cpu.js';
import { EBADF, EFAULT, EINTR, EINVAL } from '../uapi/errno.js';
import type { WaitQueue, WaitQueueEntry } from '../sim/process.js';
import { DEFAULT_POLLMASK, EPOLL, type File, type PollTable } from './types.js';

/** POLLNVAL (include/uapi/asm-generic/poll.h): the fd is not open. */
export const POLLNVAL = 0x20;
/** sizeof(struct pollfd): int fd, short events, short revents. */
export const POLLFD_BYTES = 8;
/** sizeof(sigset_t) on x86-64, what ppoll and epoll_pwait want in sigsetsize. */
export const SIGSET_BYTES = 8;
/** RLIMIT_NOFILE's default soft limit: poll() takes at most this many fds. */
export const RLIMIT_NOFILE_DEFAULT = 1024;
/** init_task.timer_slack_ns: 50 µs. */
export const TIMER_SLACK_NS = 50_000;
/** MAX_SLACK: 100 ms. */
const MAX_SLACK_NS = 100_000_000;
/** The nice 0 prio (DEFAULT_PRIO). */
const DEFAULT_PRIO = 120;

/** struct pollfd: revents is written back by poll(). */
export interface PollFd {
  fd: number;
  events: number;
  revents: number;
}

// How a file becomes pollable (what a socket does, include/net/sock.h and net/core/sock.c):
//  - ->poll(file, pt): call `pt?.wait(file, wq)` for the wait queue its state changes are
//    announced on (sk_sleep(sk)), then return the EPOLL* events true now. pt is undefined on
//    re-checks (epoll_wait, poll's later scans): report only.
//  - on a change, wake that queue with the events as the key: data or a connection to accept
//    (sk_data_ready) `wq.wakeOne(EPOLL.IN | EPOLL.PRI | EPOLL.RDNORM | EPOLL.RDBAND)`; room to write
//    (sk_write_space) `wq.wakeOne(EPOLL.OUT | EPOLL.WRNORM | EPOLL.WRBAND)`; an error
//    (sk_error_report) `wq.wakeOne(EPOLL.ERR)`; a state change (sk_state_change)
//    `wq.wakeAll()`. wakeOne is wake_up_poll: every poll()/select() entry and every plain epoll
//    item hears it, one task sleeping in the file's own wait (and one EPOLLEXCLUSIVE item) wakes.
//    A key of 0 means "something changed" and reaches every entry.

/** vfs_poll: the file's ->poll, or DEFAULT_POLLMASK for a file without one. */
export function vfsPoll(file: File, pt: PollTable | undefined): number {
  const poll = file.inode.fops.poll;
  return poll === undefined ? DEFAULT_POLLMASK : poll(file, pt);
}

/**
 * select_estimate_accuracy: the slack a timeout of `timeoutNs` from now gets. Real-time tasks get
 * none; others 0.1% (0.5% when niced: divfactor 1000 / 5), at most 100 ms, at least timer_slack_ns.
 */
export function selectEstimateAccuracy(task: Task, timeoutNs: number): number {
  if (task.policy === SCHED_FIFO) return 0;
  const divfactor = task.prio > DEFAULT_PRIO ? 1000 / 5 : 1000;
  const slack = Math.min(Math.floor(timeoutNs / divfactor), MAX_SLACK_NS);
  return Math.max(slack, TIMER_SLACK_NS);
}

/**
 * The absolute time a poll-style sleep of `timeoutNs` ends at (hrtimer hard expiry: the timeout
 * plus its slack), Infinity for no timeout; a zero timeout means "do not sleep" and gives the
 * current time.
 */
export function pollExpiryNs(k: Kernel, task: Task, timeoutNs: number | undefined): number {
  if (timeoutNs === undefined) return Infinity;
  if (timeoutNs <= 0) return k.env.nowNs;
  return k.env.nowNs + timeoutNs + selectEstimateAccuracy(task, timeoutNs);
}

/**
 * schedule_hrtimeout_range in TASK_INTERRUPTIBLE until `expiryNs` (Infinity: until woken). The
 * caller has put the task on its wait queue(s) already. True when the timer ran out.
 */
export function* scheduleHrtimeoutRange(k: Kernel, task: Task, expiryNs: number): Generator<number, boolean, void> {
  if (expiryNs === Infinity) {
    task.state = TaskState.INTERRUPTIBLE;
    yield* ioSchedule(k, task, false);
    return false;
  }
  if (k.env.nowNs >= expiryNs) return true;
  yield* scheduleTimeout(k, task, expiryNs - k.env.nowNs, TaskState.INTERRUPTIBLE);
  return k.env.nowNs >= expiryNs;
}

/** struct poll_table_entry: poll's entry on one file's wait queue; pollwake wakes the poller. */
class PollTableEntry implements WaitQueueEntry {
  readonly exclusive = false;
  constructor(
    private readonly pwq: PollWqueues,
    readonly wq: WaitQueue,
    /** The events the poller asked of this fd (with POLLERR | POLLHUP). */
    private readonly key: number,
  ) {}

  /** pollwake: only events the poller asked for wake it (a key of 0 says nothing, and wakes). */
  wakeFunc(key: number): boolean {
    if (key !== 0 && (key & this.key) === 0) return false;
    this.pwq.triggered = true;
    this.pwq.task.wake();
    return true;
  }
}

/** struct poll_wqueues: the poll table of one poll() call. */
class PollWqueues implements PollTable {
  /** Set by pollwake: an event came since the last scan, so do not sleep. */
  triggered = false;
  /** pt->_key: the events of the fd being polled. */
  key = 0;
  /** Wait queues joined by this scan, not yet charged. */
  newEntries = 0;
  private readonly entries: PollTableEntry[] = [];

  constructor(readonly task: Task) {}

  /** __pollwait */
  wait(_file: File, wq: WaitQueue): void {
    const e = new PollTableEntry(this, wq, this.key);
    wq.addEntry(e);
    this.entries.push(e);
    this.newEntries++;
  }

  /** poll_freewait */
  free(): void {
    for (const e of this.entries) e.wq.removeEntry(e);
  }
}

/** do_pollfd: one fd's revents; `pt` undefined once registration is over. */
function doPollfd(task: Task, pfd: PollFd, pwq: PollWqueues, register: boolean): number {
  if (pfd.fd < 0) return 0;
  const file = task.files?.get(pfd.fd);
  if (file === undefined) return POLLNVAL;
  // demangle_poll(events) | EPOLLERR | EPOLLHUP: errors and hang-ups are always reported
  const filter = (pfd.events & 0xffff) | EPOLL.ERR | EPOLL.HUP;
  pwq.key = filter;
  return vfsPoll(file, register ? pwq : undefined) & filter;
}

/**
 * One scan over the fds (do_poll's or do_select's inner loop): how many are ready. `register`:
 * join the wait queues of the fds scanned until the first ready one.
 */
type PollScan = (pwq: PollWqueues, register: boolean) => number;

/** The loop do_poll and do_select share: scan until something is ready, the timeout passes or a signal comes. */
function* pollLoop(k: Kernel, task: Task, nfds: number, expiryNs: number, scan: PollScan): Generator<number, number, void> {
  const pwq = new PollWqueues(task);
  // a zero timeout: one scan, no wait-queue registration
  let register = expiryNs > k.env.nowNs;
  let timedOut = !register;
  let count = 0;
  for (;;) {
    count = scan(pwq, register);
    register = false;
    yield nfds * VFS_POLL_NS + pwq.newEntries * POLL_WAIT_ENTRY_NS;
    pwq.newEntries = 0;
    if (count === 0 && signalPending(task)) count = -EINTR;
    if (count !== 0 || timedOut) break;
    // poll_schedule_timeout: a wakeup since the scan means scan again at once
    if (!pwq.triggered) timedOut = yield* scheduleHrtimeoutRange(k, task, expiryNs);
    pwq.triggered = false;
  }
  pwq.free();
  return count;
}

/** do_poll */
function doPoll(k: Kernel, task: Task, fds: readonly PollFd[], expiryNs: number): Generator<number, number, void> {
  return pollLoop(k, task, fds.length, expiryNs, (pwq, register) => {
    let count = 0;
    for (const pfd of fds) {
      const mask = doPollfd(task, pfd, pwq, register);
      pfd.revents = mask;
      if (mask !== 0) {
        count++;
        // one ready fd is enough: no more registering
        register = false;
      }
    }
    return count;
  });
}

/** do_sys_poll: copy the pollfds in, poll, copy revents back. */
function* doSysPoll(k: Kernel, task: Task, ufds: PollFd[], nfds: number, ufdsVa: number, expiryNs: number): Generator<number, number, void> {
  if (!Number.isInteger(nfds) || nfds < 0 || nfds > RLIMIT_NOFILE_DEFAULT) return -EINVAL;
  if (nfds > ufds.length || !userRangeMapped(task, ufdsVa, nfds * POLLFD_BYTES)) return -EFAULT;
  return yield* doPoll(k, task, nfds === ufds.length ? ufds : ufds.slice(0, nfds), expiryNs);
}

/**
 * poll(ufds, nfds, timeout_msecs): how many fds have events (their revents set), 0 on timeout, or
 * -errno. A negative timeout waits forever, 0 does not wait. `ufdsVa` is where the array lives in
 * the caller's memory (it must be mapped).
 */
export function* sysPoll(k: Kernel, task: Task, ufds: PollFd[], nfds: number, timeoutMsecs: number, ufdsVa: number): Generator<number, number, void> {
  syscallEnter(k, task, 'poll', ufdsVa, nfds, timeoutMsecs);
  yield SYSCALL_ENTRY_NS;
  const expiryNs = pollExpiryNs(k, task, timeoutMsecs < 0 ? undefined : timeoutMsecs * 1_000_000);
  const ret = yield* doSysPoll(k, task, ufds, nfds, ufdsVa, expiryNs);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'poll', ret);
}

/**
 * ppoll(ufds, nfds, tsp, sigmask, sigsetsize): poll with a timespec timeout (`timeoutNs`
 * undefined = tsp NULL = forever) and a signal mask (sigmaskVa 0 = none).
 */
export function* sysPpoll(
  k: Kernel,
  task: Task,
  ufds: PollFd[],
  nfds: number,
  timeoutNs: number | undefined,
  ufdsVa: number,
  tspVa = 0,
  sigmaskVa = 0,
  sigsetsize = SIGSET_BYTES,
): Generator<number, number, void> {
  syscallEnter(k, task, 'ppoll', ufdsVa, nfds, tspVa, sigmaskVa, sigsetsize);
  yield SYSCALL_ENTRY_NS;
  let ret: number;
  // poll_select_set_timeout: timespec64_valid; set_user_sigmask: the size must match
  if (timeoutNs !== undefined && !(timeoutNs >= 0)) ret = -EINVAL;
  else if (sigmaskVa !== 0 && sigsetsize !== SIGSET_BYTES) ret = -EINVAL;
  else ret = yield* doSysPoll(k, task, ufds, nfds, ufdsVa, pollExpiryNs(k, task, timeoutNs));
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'ppoll', ret);
}

// select(2): three fd sets in, the ready subsets out.
const POLLIN_SET = EPOLL.RDNORM | EPOLL.RDBAND | EPOLL.IN | EPOLL.HUP | EPOLL.ERR;
const POLLOUT_SET = EPOLL.WRBAND | EPOLL.WRNORM | EPOLL.OUT | EPOLL.ERR;
const POLLEX_SET = EPOLL.PRI;

/** An fd_set: the fds whose bits are set (a NULL pointer is undefined). select() rewrites it in place. */
export type FdSet = Set<number>;

/** FDS_BYTES: an fd_set of n bits, in whole longs. */
function fdsBytes(n: number): number {
  return Math.ceil(n / 64) * 8;
}

/** do_select: fds below n set in any of the sets; every one must be open (max_select_fd's -EBADF). */
function* doSelect(k: Kernel, task: Task, n: number, sets: readonly (FdSet | undefined)[], expiryNs: number): Generator<number, number, void> {
  const fds: number[] = [];
  for (let fd = 0; fd < n; fd++) {
    if (!sets.some((set) => set?.has(fd))) continue;
    if (task.files?.get(fd) === undefined) return -EBADF;
    fds.push(fd);
  }
  const [inp, outp, exp] = sets;
  const res: [FdSet, FdSet, FdSet] = [new Set(), new Set(), new Set()];
  const count = yield* pollLoop(k, task, fds.length, expiryNs, (pwq, register) => {
    let count = 0;
    for (const r of res) r.clear();
    for (const fd of fds) {
      const wantIn = inp?.has(fd) === true;
      const wantOut = outp?.has(fd) === true;
      const wantEx = exp?.has(fd) === true;
      // select_poll_events: the key this fd's waits are for
      pwq.key = POLLEX_SET | (wantIn ? POLLIN_SET : 0) | (wantOut ? POLLOUT_SET : 0);
      const mask = vfsPoll(task.files!.get(fd)!, register ? pwq : undefined);
      const ready = [wantIn && (mask & POLLIN_SET) !== 0, wantOut && (mask & POLLOUT_SET) !== 0, wantEx && (mask & POLLEX_SET) !== 0];
      ready.forEach((r, i) => {
        if (r) res[i]!.add(fd);
      });
      const n = ready.filter(Boolean).length;
      count += n;
      // one ready fd is enough: no more registering
      if (n > 0) register = false;
    }
    return count;
  });
  if (count >= 0) {
    // copy the ready subsets back (zero_fd_set + set_fd_set)
    sets.forEach((set, i) => {
      if (set === undefined) return;
      set.clear();
      for (const fd of res[i]!) set.add(fd);
    });
  }
  return count;
}

/**
 * select(n, inp, outp, exp, tvp): how many bits are set in the returned sets, 0 on timeout, or
 * -errno. `timeoutNs` undefined = tvp NULL = wait forever. Each set lives at its VA (0 for a
 * NULL set pointer), which must be mapped for FDS_BYTES(n).
 */
export function* sysSelect(
  k: Kernel,
  task: Task,
  n: number,
  inp: FdSet | undefined,
  outp: FdSet | undefined,
  exp: FdSet | undefined,
  timeoutNs: number | undefined,
  setVas: readonly [inpVa: number, outpVa: number, expVa: number],
  tvpVa = 0,
): Generator<number, number, void> {
  syscallEnter(k, task, 'select', n, setVas[0], setVas[1], setVas[2], tvpVa);
  yield SYSCALL_ENTRY_NS;
  const sets = [inp, outp, exp];
  let ret: number;
  if (timeoutNs !== undefined && !(timeoutNs >= 0)) ret = -EINVAL;
  else if (!Number.isInteger(n) || n < 0) ret = -EINVAL;
  else if (sets.some((set, i) => set !== undefined && !userRangeMapped(task, setVas[i]!, fdsBytes(n)))) ret = -EFAULT;
  else ret = yield* doSelect(k, task, n, sets, pollExpiryNs(k, task, timeoutNs));
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'select', ret);
}
