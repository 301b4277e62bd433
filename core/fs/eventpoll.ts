// Models: fs/eventpoll.c: epoll_create/epoll_create1, epoll_ctl (ADD / MOD / DEL) and
// epoll_wait / epoll_pwait. An epoll instance (struct eventpoll) is a file of its own (anon_inode:[eventpoll]) holding its
// watched items (struct epitem, keyed by file and fd) and a ready list. Each item puts a callback
// (ep_poll_callback) on the wait queues its file's ->poll names, and the callback stays there
// across wakeups: a wakeup whose key matches the item's events queues it on the ready list and
// wakes one epoll_wait sleeper (they wait exclusively) and whoever polls the epoll file itself.
// epoll_wait (ep_send_events) re-polls each ready item: level-triggered items that still have
// events go back on the ready list, edge-triggered ones wait for a new wakeup, EPOLLONESHOT ones
// are disabled until EPOLL_CTL_MOD; items left over past maxevents stay first in line. EPOLLEXCLUSIVE
// items are exclusive entries on their file's queue, so one wakeup wakes one of the epoll sets.
// An epoll file is pollable (readable while an item is ready), so epoll sets nest; adding one
// refuses loops and paths deeper than EP_MAX_NESTS (-ELOOP). Timeouts get the poll-style slack
// (select_estimate_accuracy).
// SIMPLIFICATION: a scan of the ready list is atomic (its CPU time is charged after it), so events
// never arrive during one and there is no ovflist.
// SIMPLIFICATION: no max_user_watches limit (-ENOSPC) and no reverse_path_check of wakeup paths;
// EPOLLWAKEUP is accepted and ignored (no wakeup sources).
// SIMPLIFICATION: the callback's own CPU time (in the waker's context) is not charged.
// SIMPLIFICATION: -EFAULT is decided before the wait, by the whole events array being mapped
// (Linux fails at the copy, returning -EFAULT only if no event was copied).

import { fileRaStateInit } from '../mm/mm_types.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { signalPending } from '../kernel/signal.js';
import { userRangeMapped } from '../mm/memory.js';
import { EP_PUT_UEVENT_NS, EPOLL_CTL_NS, POLL_WAIT_ENTRY_NS, VFS_DISPATCH_NS, VFS_POLL_NS } from '../hw/cpu.js';
import { EBADF, EEXIST, EFAULT, EINTR, EINVAL, ELOOP, ENODEV, ENOENT, EPERM } from '../uapi/errno.js';
import { WaitQueue, type WaitQueueEntry } from '../sim/process.js';
import { EPOLL, O, type File, type FileEpHead, type FileOperations, type Inode, type PollTable } from './types.js';
import { anonInode } from './anon_inodes.js';
import { pollExpiryNs, scheduleHrtimeoutRange, SIGSET_BYTES, vfsPoll } from './select.js';

/** epoll_ctl ops (include/uapi/linux/eventpoll.h). */
export const EPOLL_CTL = { ADD: 1, DEL: 2, MOD: 3 } as const;
/** EPOLL_CLOEXEC = O_CLOEXEC. */
export const EPOLL_CLOEXEC = 0o2000000;
/** EP_MAX_NESTS: how many epoll sets may sit inside one another. */
export const EP_MAX_NESTS = 4;
/** sizeof(struct epoll_event): packed on x86-64 (u32 events, u64 data). */
export const EPOLL_EVENT_BYTES = 12;
/** EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event). */
export const EP_MAX_EVENTS = Math.floor(0x7fffffff / EPOLL_EVENT_BYTES);

/** Bits that are not events: they say how the item behaves. */
const EP_PRIVATE_BITS = EPOLL.WAKEUP | EPOLL.ONESHOT | EPOLL.ET | EPOLL.EXCLUSIVE;
const EPOLLINOUT_BITS = EPOLL.IN | EPOLL.OUT;
/** What may come with EPOLLEXCLUSIVE. */
const EPOLLEXCLUSIVE_OK_BITS = EPOLLINOUT_BITS | EPOLL.ERR | EPOLL.HUP | EPOLL.WAKEUP | EPOLL.ET | EPOLL.EXCLUSIVE;

/** struct epoll_event */
export interface EpollEvent {
  events: number;
  /** epoll_data: the caller's u64, handed back with the events. */
  data: number;
}

/** CPU time a scan spent calling ->poll and copying events, charged when it is done. */
interface ScanCost {
  /** ->poll calls. */
  polls: number;
  /** Wait queues joined (poll_wait). */
  queued: number;
  /** Events copied to the caller. */
  copied: number;
}

function scanCost(): ScanCost {
  return { polls: 0, queued: 0, copied: 0 };
}

function scanCostNs(cost: ScanCost): number {
  return cost.polls * VFS_POLL_NS + cost.queued * POLL_WAIT_ENTRY_NS + cost.copied * EP_PUT_UEVENT_NS;
}

/** struct epitem with its eppoll_entry: one watched (file, fd) and its callback on the file's queues. */
class Epitem implements WaitQueueEntry {
  /** On the ready list (ep_is_linked). */
  ready = false;
  /** The wait queues the callback sits on (pwqlist). */
  readonly pwqlist: WaitQueue[] = [];

  constructor(
    readonly ep: Eventpoll,
    readonly file: File,
    readonly fd: number,
    /** event.events, with EPOLLERR | EPOLLHUP always in; only the private bits after a ONESHOT fired. */
    public events: number,
    public data: number,
    /** EPOLLEXCLUSIVE, fixed at ADD. */
    readonly exclusive: boolean,
  ) {}

  wakeFunc(key: number): boolean {
    return epPollCallback(this, key);
  }
}

/** struct epitems_head: the items watching one file (file->f_ep). */
class EpitemsHead implements FileEpHead {
  readonly items: Epitem[] = [];

  /** eventpoll_release: the file's last reference went; it leaves every set. */
  eventpollRelease(): void {
    for (const epi of this.items.slice()) epRemove(epi.ep, epi);
  }
}

/** struct eventpoll */
export class Eventpoll {
  /** Tasks sleeping in epoll_wait (exclusive waiters). */
  readonly wq = new WaitQueue();
  /** poll_wait: who polls this epoll file (an outer epoll's item, a poll() caller). */
  readonly pollWait = new WaitQueue();
  /** rdllist, in the order items became ready. */
  rdllist: Epitem[] = [];
  /** rbr: the items, by file then fd. */
  readonly items = new Map<File, Map<number, Epitem>>();
  /** Loop-check generation and the depth found in it. */
  gen = 0;
  loopCheckDepth = 0;
  readonly file: EpollFile;

  constructor(k: Kernel, flags: number) {
    this.file = new EpollFile(k, this, flags);
  }
}

/** The epoll instance's file: ep->file, whose private_data is the eventpoll. */
export class EpollFile implements File {
  readonly kaddr: number;
  readonly inode: Inode;
  readonly flags: number;
  posBytes = 0;
  readonly ra = fileRaStateInit();
  fMode = 0;
  refcount = 1;
  fWbErr = 0;
  fEp: EpitemsHead | undefined;

  constructor(
    k: Kernel,
    readonly ep: Eventpoll,
    flags: number,
  ) {
    this.kaddr = k.kaddr();
    this.flags = O.RDWR | (flags & EPOLL_CLOEXEC);
    this.inode = anonInode(k, '[eventpoll]', eventpollFops);
  }
}

/** is_file_epoll */
export function isFileEpoll(file: File): file is EpollFile {
  return file instanceof EpollFile;
}

/** eventpoll_fops: no read, write or mmap; pollable; release frees the set. */
const eventpollFops: FileOperations = {
  name: 'eventpoll_fops',
  *readIter() {
    return -EINVAL;
  },
  *writeIter() {
    return -EINVAL;
  },
  *fsync() {
    return -EINVAL;
  },
  mmap() {
    return -ENODEV;
  },
  poll(file, pt) {
    return isFileEpoll(file) ? epEventpollPoll(file.ep, pt, 0, scanCost()) : 0;
  },
  release(_inode, file) {
    // ep_eventpoll_release -> ep_clear_and_put
    if (isFileEpoll(file)) for (const byFd of [...file.ep.items.values()]) for (const epi of [...byFd.values()]) epRemove(file.ep, epi);
  },
};

/**
 * ep_eventpoll_poll: an epoll file is readable while one of its ready items still has events;
 * items that turn out not ready are dropped from the ready list on the way.
 */
function epEventpollPoll(ep: Eventpoll, pt: PollTable | undefined, depth: number, cost: ScanCost): number {
  pt?.wait(ep.file, ep.pollWait);
  const list = ep.rdllist;
  while (list.length > 0) {
    const epi = list[0]!;
    if (epItemPoll(epi, undefined, depth + 1, cost) !== 0) return EPOLL.IN | EPOLL.RDNORM;
    epi.ready = false;
    list.shift();
  }
  return 0;
}

/** ep_item_poll: the item's file's events, of those it watches; an epoll file is polled at depth+1. */
function epItemPoll(epi: Epitem, pt: PollTable | undefined, depth: number, cost: ScanCost): number {
  cost.polls++;
  const f = epi.file;
  const mask = isFileEpoll(f) ? epEventpollPoll(f.ep, pt, depth, cost) : vfsPoll(f, pt);
  return (mask & epi.events) >>> 0;
}

/** ep_insert / ep_modify on an item found ready: queue it and wake, unless it is queued already. */
function epLinkAndWake(ep: Eventpoll, epi: Epitem): void {
  if (epi.ready) return;
  epi.ready = true;
  ep.rdllist.push(epi);
  if (ep.wq.length > 0) ep.wq.wakeOne();
  epPollSafewake(ep);
}

/** ep_poll_safewake: tell whoever polls this epoll file that it became readable. */
function epPollSafewake(ep: Eventpoll): void {
  if (ep.pollWait.length > 0) ep.pollWait.wakeOne(EPOLL.IN);
}

/**
 * ep_poll_callback: the item's file woke its queue with `key` (0 = unknown events). A disabled
 * (fired ONESHOT) item or events it does not watch change nothing. Returns whether this counts as
 * a wakeup for an exclusive wake_up: always for non-exclusive items; for EPOLLEXCLUSIVE ones only
 * if a task was waiting and the events are ones it watches.
 */
function epPollCallback(epi: Epitem, key: number): boolean {
  const ep = epi.ep;
  const events = epi.events;
  let ewake = false;
  if ((events & ~EP_PRIVATE_BITS) !== 0 && !(key !== 0 && (key & events) === 0)) {
    if (!epi.ready) {
      epi.ready = true;
      ep.rdllist.push(epi);
    }
    if (ep.wq.length > 0) {
      if (epi.exclusive) {
        const inout = key & EPOLLINOUT_BITS;
        if (inout === 0 || (inout === EPOLL.IN && events & EPOLL.IN) || (inout === EPOLL.OUT && events & EPOLL.OUT)) ewake = true;
      }
      ep.wq.wakeOne();
    }
    epPollSafewake(ep);
  }
  return epi.exclusive ? ewake : true;
}

/** ep_find */
function epFind(ep: Eventpoll, file: File, fd: number): Epitem | undefined {
  return ep.items.get(file)?.get(fd);
}

/** ep_insert: the item joins the set and its file's queues; it is queued at once if already ready. */
function epInsert(ep: Eventpoll, event: EpollEvent, file: File, fd: number, cost: ScanCost): void {
  const epi = new Epitem(ep, file, fd, event.events, event.data, (event.events & EPOLL.EXCLUSIVE) !== 0);
  let byFd = ep.items.get(file);
  if (byFd === undefined) ep.items.set(file, (byFd = new Map()));
  byFd.set(fd, epi);
  let head = file.fEp;
  if (head === undefined) file.fEp = head = new EpitemsHead();
  (head as EpitemsHead).items.push(epi);
  // ep_ptable_queue_proc: the callback on every queue ->poll names, exclusive ones at the tail
  const pt: PollTable = {
    wait(_f, wq) {
      wq.addEntry(epi);
      epi.pwqlist.push(wq);
      cost.queued++;
    },
  };
  if (epItemPoll(epi, pt, 1, cost) !== 0) epLinkAndWake(ep, epi);
}

/** ep_remove: off its file's queues, the ready list, the set and the file's list. */
function epRemove(ep: Eventpoll, epi: Epitem): void {
  for (const wq of epi.pwqlist) wq.removeEntry(epi);
  epi.pwqlist.length = 0;
  if (epi.ready) {
    epi.ready = false;
    ep.rdllist.splice(ep.rdllist.indexOf(epi), 1);
  }
  const byFd = ep.items.get(epi.file);
  byFd?.delete(epi.fd);
  if (byFd?.size === 0) ep.items.delete(epi.file);
  const head = epi.file.fEp as EpitemsHead | undefined;
  if (head !== undefined) {
    head.items.splice(head.items.indexOf(epi), 1);
    if (head.items.length === 0) epi.file.fEp = undefined;
  }
}

/** ep_modify: new events and data; an item that is ready now (a re-armed ONESHOT) is queued. */
function epModify(ep: Eventpoll, epi: Epitem, event: EpollEvent, cost: ScanCost): void {
  epi.events = event.events;
  epi.data = event.data;
  if (epItemPoll(epi, undefined, 1, cost) !== 0) epLinkAndWake(ep, epi);
}

// ep_loop_check: adding epoll set `to` into `ep` must not close a loop, and the longest chain of
// nested sets through the new link (down from `to`, up from `ep`) may have at most EP_MAX_NESTS links.
let loopCheckGen = 0;

/** ep_loop_check_proc: how deep the sets below `ep` go, or more than EP_MAX_NESTS on a loop. */
function epLoopCheckProc(ep: Eventpoll, insertingInto: Eventpoll, depth: number): number {
  if (ep.gen === loopCheckGen) return ep.loopCheckDepth;
  ep.gen = loopCheckGen;
  let result = 0;
  for (const byFd of ep.items.values()) {
    for (const epi of byFd.values()) {
      if (!isFileEpoll(epi.file)) continue;
      const next = epi.file.ep;
      if (next === insertingInto || depth > EP_MAX_NESTS) result = EP_MAX_NESTS + 1;
      else result = Math.max(result, epLoopCheckProc(next, insertingInto, depth + 1) + 1);
      if (result > EP_MAX_NESTS) break;
    }
    if (result > EP_MAX_NESTS) break;
  }
  ep.loopCheckDepth = result;
  return result;
}

/** ep_get_upwards_depth_proc: how many sets sit above `ep`. */
function epGetUpwardsDepthProc(ep: Eventpoll): number {
  if (ep.gen === loopCheckGen) return ep.loopCheckDepth;
  let result = 0;
  const head = ep.file.fEp;
  if (head !== undefined) for (const epi of head.items) result = Math.max(result, epGetUpwardsDepthProc(epi.ep) + 1);
  ep.gen = loopCheckGen;
  ep.loopCheckDepth = result;
  return result;
}

/** ep_loop_check: 0, or -1 for a loop or a chain too deep. */
function epLoopCheck(ep: Eventpoll, to: Eventpoll): number {
  loopCheckGen++;
  const depth = epLoopCheckProc(to, ep, 0);
  if (depth > EP_MAX_NESTS) return -1;
  const upwards = epGetUpwardsDepthProc(ep);
  return depth + 1 + upwards > EP_MAX_NESTS ? -1 : 0;
}

/** The eventpoll behind fd, or the errno epoll_ctl/epoll_wait give. */
function epOfFd(task: Task, epfd: number): Eventpoll | number {
  const f = task.files?.get(epfd);
  if (f === undefined) return -EBADF;
  return isFileEpoll(f) ? f.ep : -EINVAL;
}

/** do_epoll_create: ep_alloc + anon_inode_getfile + fd_install. */
function* doEpollCreate(k: Kernel, task: Task, flags: number): Generator<number, number, void> {
  if (flags & ~EPOLL_CLOEXEC) return -EINVAL;
  if (!task.files) return -EBADF;
  yield VFS_DISPATCH_NS;
  return task.files.install(new Eventpoll(k, flags).file);
}

/** epoll_create1(flags): the new epoll fd, or -EINVAL for flags other than EPOLL_CLOEXEC. */
export function* sysEpollCreate1(k: Kernel, task: Task, flags: number): Generator<number, number, void> {
  syscallEnter(k, task, 'epoll_create1', flags);
  yield SYSCALL_ENTRY_NS;
  const ret = yield* doEpollCreate(k, task, flags);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'epoll_create1', ret);
}

/** epoll_create(size): epoll_create1(0) for a positive size (a hint Linux has ignored since 2.6.8). */
export function* sysEpollCreate(k: Kernel, task: Task, size: number): Generator<number, number, void> {
  syscallEnter(k, task, 'epoll_create', size);
  yield SYSCALL_ENTRY_NS;
  const ret = size > 0 ? yield* doEpollCreate(k, task, 0) : -EINVAL;
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'epoll_create', ret);
}

/** do_epoll_ctl, after the event was copied in. */
function doEpollCtl(task: Task, epfd: number, op: number, fd: number, event: EpollEvent | undefined, cost: ScanCost): number {
  const file = task.files?.get(epfd);
  if (file === undefined) return -EBADF;
  const tfile = task.files?.get(fd);
  if (tfile === undefined) return -EBADF;
  // file_can_poll: regular files and others without ->poll cannot be watched
  if (tfile.inode.fops.poll === undefined) return -EPERM;
  if (file === tfile || !isFileEpoll(file)) return -EINVAL;
  const ep = file.ep;
  if (event !== undefined && event.events & EPOLL.EXCLUSIVE) {
    if (op === EPOLL_CTL.MOD) return -EINVAL;
    if (op === EPOLL_CTL.ADD && (isFileEpoll(tfile) || event.events & ~EPOLLEXCLUSIVE_OK_BITS)) return -EINVAL;
  }
  if (op === EPOLL_CTL.ADD && isFileEpoll(tfile) && epLoopCheck(ep, tfile.ep) !== 0) return -ELOOP;
  const epi = epFind(ep, tfile, fd);
  switch (op) {
    case EPOLL_CTL.ADD:
      if (epi !== undefined) return -EEXIST;
      epInsert(ep, { events: (event!.events | EPOLL.ERR | EPOLL.HUP) >>> 0, data: event!.data }, tfile, fd, cost);
      return 0;
    case EPOLL_CTL.DEL:
      if (epi === undefined) return -ENOENT;
      epRemove(ep, epi);
      return 0;
    case EPOLL_CTL.MOD:
      if (epi === undefined) return -ENOENT;
      // an EPOLLEXCLUSIVE item cannot be modified
      if (epi.exclusive) return -EINVAL;
      epModify(ep, epi, { events: (event!.events | EPOLL.ERR | EPOLL.HUP) >>> 0, data: event!.data }, cost);
      return 0;
    default:
      return -EINVAL;
  }
}

/**
 * epoll_ctl(epfd, op, fd, event): 0 or -errno. `event` is the struct epoll_event at `eventVa` in
 * the caller's memory (ADD and MOD read it: it must be there and mapped; DEL ignores it).
 */
export function* sysEpollCtl(k: Kernel, task: Task, epfd: number, op: number, fd: number, event: EpollEvent | undefined, eventVa = 0): Generator<number, number, void> {
  syscallEnter(k, task, 'epoll_ctl', epfd, op, fd, eventVa);
  yield SYSCALL_ENTRY_NS;
  let ret: number;
  // ep_op_has_event: copy_from_user of the event
  if (op !== EPOLL_CTL.DEL && (event === undefined || !userRangeMapped(task, eventVa, EPOLL_EVENT_BYTES))) ret = -EFAULT;
  else {
    const cost = scanCost();
    ret = doEpollCtl(task, epfd, op, fd, op === EPOLL_CTL.DEL ? undefined : event, cost);
    yield EPOLL_CTL_NS + scanCostNs(cost);
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'epoll_ctl', ret);
}

/** ep_events_available */
function epEventsAvailable(ep: Eventpoll): boolean {
  return ep.rdllist.length > 0;
}

/**
 * ep_send_events: up to maxevents ready items, each re-polled; level-triggered ones with events
 * left go back to the ready list's tail, ONESHOT ones are disabled, items past maxevents keep
 * their place at the head. If items remain, another epoll_wait sleeper is woken (ep_done_scan).
 */
function epSendEvents(ep: Eventpoll, events: EpollEvent[], maxevents: number, cost: ScanCost): number {
  const txlist = ep.rdllist;
  ep.rdllist = [];
  let res = 0;
  let i = 0;
  for (; i < txlist.length && res < maxevents; i++) {
    const epi = txlist[i]!;
    epi.ready = false;
    const revents = epItemPoll(epi, undefined, 1, cost);
    if (revents === 0) continue;
    events.push({ events: revents, data: epi.data });
    res++;
    if (epi.events & EPOLL.ONESHOT) epi.events = (epi.events & EP_PRIVATE_BITS) >>> 0;
    else if (!(epi.events & EPOLL.ET)) {
      epi.ready = true;
      ep.rdllist.push(epi);
    }
  }
  cost.copied += res;
  if (i < txlist.length) ep.rdllist = txlist.slice(i).concat(ep.rdllist);
  if (ep.rdllist.length > 0 && ep.wq.length > 0) ep.wq.wakeOne();
  return res;
}

/**
 * ep_poll: report what is ready, else sleep (an exclusive waiter on ep->wq) until an item's
 * callback wakes us, the timeout's timer runs out or a signal comes. `expiryNs`: the absolute
 * end (now = do not wait, Infinity = forever).
 */
function* epPoll(k: Kernel, task: Task, ep: Eventpoll, events: EpollEvent[], maxevents: number, expiryNs: number): Generator<number, number, void> {
  let timedOut = expiryNs <= k.env.nowNs;
  let eavail = epEventsAvailable(ep);
  for (;;) {
    if (eavail) {
      const cost = scanCost();
      const res = epSendEvents(ep, events, maxevents, cost);
      yield scanCostNs(cost);
      if (res !== 0) return res;
    }
    if (timedOut) return 0;
    if (signalPending(task)) return -EINTR;
    eavail = epEventsAvailable(ep);
    if (!eavail) {
      ep.wq.add(task);
      timedOut = yield* scheduleHrtimeoutRange(k, task, expiryNs);
      ep.wq.remove(task);
    }
    // woken by a callback: look; timed out: look only if something is there
    eavail = !timedOut || epEventsAvailable(ep);
  }
}

/** do_epoll_wait: the checks, then ep_poll. `timeoutMs` < 0 waits forever, 0 does not wait. */
function* doEpollWait(k: Kernel, task: Task, epfd: number, events: EpollEvent[], maxevents: number, timeoutMs: number, eventsVa: number): Generator<number, number, void> {
  if (!Number.isInteger(maxevents) || maxevents <= 0 || maxevents > EP_MAX_EVENTS) return -EINVAL;
  if (!userRangeMapped(task, eventsVa, maxevents * EPOLL_EVENT_BYTES)) return -EFAULT;
  const ep = epOfFd(task, epfd);
  if (typeof ep === 'number') return ep;
  // ep_timeout_to_timespec: negative = no timeout
  const expiryNs = pollExpiryNs(k, task, timeoutMs < 0 ? undefined : timeoutMs * 1_000_000);
  return yield* epPoll(k, task, ep, events, maxevents, expiryNs);
}

/**
 * epoll_wait(epfd, events, maxevents, timeout): how many events were appended to `events` (the
 * struct epoll_event array at `eventsVa`, which must be mapped for maxevents entries), 0 on
 * timeout, or -errno.
 */
export function* sysEpollWait(k: Kernel, task: Task, epfd: number, events: EpollEvent[], maxevents: number, timeoutMs: number, eventsVa: number): Generator<number, number, void> {
  syscallEnter(k, task, 'epoll_wait', epfd, eventsVa, maxevents, timeoutMs);
  yield SYSCALL_ENTRY_NS;
  const ret = yield* doEpollWait(k, task, epfd, events, maxevents, timeoutMs, eventsVa);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'epoll_wait', ret);
}

/** epoll_pwait: epoll_wait with a signal mask for the wait (sigmaskVa 0 = none). */
export function* sysEpollPwait(
  k: Kernel,
  task: Task,
  epfd: number,
  events: EpollEvent[],
  maxevents: number,
  timeoutMs: number,
  eventsVa: number,
  sigmaskVa = 0,
  sigsetsize = SIGSET_BYTES,
): Generator<number, number, void> {
  syscallEnter(k, task, 'epoll_pwait', epfd, eventsVa, maxevents, timeoutMs, sigmaskVa, sigsetsize);
  yield SYSCALL_ENTRY_NS;
  let ret: number;
  // set_user_sigmask. SIMPLIFICATION: the mask is not installed (kiotrace's signals have no masks)
  if (sigmaskVa !== 0 && sigsetsize !== SIGSET_BYTES) ret = -EINVAL;
  else ret = yield* doEpollWait(k, task, epfd, events, maxevents, timeoutMs, eventsVa);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'epoll_pwait', ret);
}
