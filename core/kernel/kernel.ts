// Models: the kernel's global state that Linux keeps in per-subsystem globals (init_task, the
// runqueues, vm_stat, the block device list, the mount table), gathered in one object per machine
// so several simulated machines can live in one process.

import type { Environment } from '../sim/engine.js';
import type { Random } from '../sim/random.js';
import type { ProbeRegistry } from '../trace/probe.js';
import type { FuncProbes, ProbeSites, Tracepoints } from '../trace/events.js';
import type { Scheduler } from './sched/core.js';
import type { LoadAvg } from './sched/loadavg.js';
import type { Task } from './sched/task.js';
import type { MemoryManager } from '../mm/page_alloc.js';
import type { Vfs } from '../fs/namei.js';
import type { RequestQueue } from '../block/blk-mq.js';
import type { Writeback } from '../mm/page-writeback.js';
import type { AioState } from '../fs/aio.js';
import type { IoUringState } from '../io_uring/io_uring.js';
import type { Spooler } from '../userspace/lpd.js';
import type { DevMem } from '../drivers/char/mem.js';
import type { DeviceTable } from '../drivers/base/core.js';
import type { PowerManagement } from '../power/power.js';
import type { NetNamespace } from '../net/net_namespace.js';

/** Counters the run report prints (the /proc/vmstat and /proc/stat subset kiotrace keeps). */
export interface VmStat {
  pgcacheHit: number;
  pgcacheMiss: number;
  readaheadPages: number;
  pgfault: number;
  pgmajfault: number;
  bioBackMerges: number;
  bioFrontMerges: number;
  requestMerges: number;
  pgdirtied: number;
  pgwriteback: number;
  /** balance_dirty_pages() sleeps, and their total length. */
  dirtyThrottlePauses: number;
  dirtyThrottlePauseNs: number;
  syscalls: number;
  /** Data bytes copied between user and kernel memory (copy_to_user/copy_from_user of read/write). */
  userCopyBytes: number;
  /** Data bytes copied from one kernel page to another (splice from a pipe into the page cache). */
  kernelCopyBytes: number;
  /** Reclaim (/proc/vmstat): folios scanned on the inactive lists and reclaimed, by kswapd or direct. */
  pgscanKswapd: number;
  pgscanDirect: number;
  pgstealKswapd: number;
  pgstealDirect: number;
  /** Folios scanned on the active lists (pgrefill), moved active and moved inactive. */
  pgrefill: number;
  pgactivate: number;
  pgdeactivate: number;
  /** Direct reclaim runs (allocstall_normal). */
  allocstall: number;
  /** Page-cache misses over a shadow entry, those activated (recent), and those that were working set. */
  workingsetRefaultFile: number;
  workingsetActivateFile: number;
  workingsetRestoreFile: number;
  /** Folios a direct write could not invalidate (dio_warn_stale_pagecache): stale cache. */
  dioStalePages: number;
}

/** Address space layout of simulated kernel objects (what kprobe args and pointers read). */
const KADDR_BASE = 0x1_0000_0000_0000;
const KADDR_STRIDE = 64;

export class Kernel {
  readonly stat: VmStat = {
    pgcacheHit: 0,
    pgcacheMiss: 0,
    readaheadPages: 0,
    pgfault: 0,
    pgmajfault: 0,
    bioBackMerges: 0,
    bioFrontMerges: 0,
    requestMerges: 0,
    pgdirtied: 0,
    pgwriteback: 0,
    dirtyThrottlePauses: 0,
    dirtyThrottlePauseNs: 0,
    syscalls: 0,
    userCopyBytes: 0,
    kernelCopyBytes: 0,
    pgscanKswapd: 0,
    pgscanDirect: 0,
    pgstealKswapd: 0,
    pgstealDirect: 0,
    pgrefill: 0,
    pgactivate: 0,
    pgdeactivate: 0,
    allocstall: 0,
    workingsetRefaultFile: 0,
    workingsetActivateFile: 0,
    workingsetRestoreFile: 0,
    dioStalePages: 0,
  };
  /** Async I/O state (fs/aio.c contexts, io_uring rings), created by core/fs/aio.ts and core/io_uring on first use. */
  asyncIo: { aio?: AioState; ioUring?: IoUringState } = {};
  readonly tp: Tracepoints;
  readonly fn: FuncProbes;
  sched!: Scheduler;
  /** The global load average (avenrun), folded every LOAD_FREQ. */
  loadavg!: LoadAvg;
  mm!: MemoryManager;
  vfs!: Vfs;
  wb!: Writeback;
  /** The device-status table (drivers/base) and power management (drivers/base/power, kernel/power). */
  devices!: DeviceTable;
  power!: PowerManagement;
  /** The machine's network namespace: devices, protocol handlers, sysctls, copy counters (core/net). */
  net!: NetNamespace;
  readonly queues: RequestQueue[] = [];
  readonly tasks: Task[] = [];
  /** The print spooler's queues (core/userspace/lpd.ts), when the machine has printers. */
  spool: Spooler | undefined;
  /** /dev/mem and the physical address map it checks (core/drivers/char/mem.ts). */
  devMem: DevMem | undefined;
  private nextKaddr = KADDR_BASE;
  private nextIoId = 1;
  nextPid = 1;

  constructor(
    readonly env: Environment,
    readonly rng: Random,
    readonly registry: ProbeRegistry,
    readonly sites: ProbeSites,
    readonly seed: number,
  ) {
    this.tp = sites.tp;
    this.fn = sites.fn;
  }

  /** A fresh kernel address for a new object (a slab allocation, for kprobe arguments). */
  kaddr(): number {
    const a = this.nextKaddr;
    this.nextKaddr += KADDR_STRIDE;
    return a;
  }

  /** A new I/O id, at an origin: syscall entry, page fault, writeback flush, async readahead. */
  newIoId(): number {
    return this.nextIoId++;
  }

  /** The last id handed out (ids are 1..lastIoId). */
  get lastIoId(): number {
    return this.nextIoId - 1;
  }

  queueByDev(dev: number): RequestQueue | undefined {
    for (const q of this.queues) if (q.dev === dev) return q;
    return undefined;
  }
}

/** MKDEV as the kernel encodes dev_t inside tracepoints: MAJOR << 20 | MINOR. */
export function mkdev(major: number, minor: number): number {
  return major * 2 ** 20 + minor;
}
