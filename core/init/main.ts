// Models: init/main.c (start_kernel -> rest_init): build the machine: CPUs with their idle tasks,
// memory, block devices with drivers and elevators, filesystems mounted on them with their
// flusher and journal threads, and init (pid 1) which forks the workload's processes.

import { NetNamespace } from '../net/net_namespace.js';
import { Environment, Priority } from '../sim/engine.js';
import { crashFileReport } from '../mm/data-gen.js';
import type { Inode } from '../fs/types.js';
import { Random } from '../sim/random.js';
import { ProbeRegistry } from '../trace/probe.js';
import { createProbeSites } from '../trace/events.js';
import { Kernel, mkdev } from '../kernel/kernel.js';
import { DEFAULT_PREEMPT_MODEL, PREEMPT_MODEL_NAMES, Scheduler, type PreemptModel } from '../kernel/sched/core.js';
import { Task, DEFAULT_PRIO, SCHED, SCHED_FIFO, TaskState, type TaskBody } from '../kernel/sched/task.js';
import { kernelClone } from '../kernel/fork.js';
import { LoadAvg } from '../kernel/sched/loadavg.js';
import { MemoryManager } from '../mm/page_alloc.js';
import { MEMCG_MAX, NO_LIMITS, type MemCgroup } from '../cgroup/memcontrol.js';
import { throtlSetLimits, throtlStartWorker } from '../block/blk-throttle.js';
import { IOLAT_DEPTH_MAX, iolatencySetLimit } from '../block/blk-iolatency.js';
import { lsmStatsOf, type LsmStats } from '../userspace/engines/lsm.js';
import { MmStruct, PAGE_SIZE } from '../mm/mm_types.js';
import { Writeback } from '../mm/page-writeback.js';
import { Vfs, type FsStruct } from '../fs/namei.js';
import type { CfsRqView } from '../trace/btf.js';

import { FdTable } from '../fs/types.js';
import { Ext4Fs, ext4FreeBlocks } from '../fs/ext4/super.js';
import { ext4FileOperations } from '../fs/ext4/file.js';
import { BdevInode, bdClaim, blkdevFileOperations } from '../fs/block_dev.js';
import { RequestQueue } from '../block/blk-mq.js';
import { elevatorCreate } from '../block/elevator.js';
import { NvmePciDriver } from '../drivers/nvme/host/pci.js';
import { AhciDriver } from '../drivers/ata/ahci.js';
import type { BlockDriverHost } from '../drivers/blk-host.js';
import { FaultInjector } from '../hw/fault-inject.js';
import { NvmeSsd, DEFAULT_NVME_CONFIG, INTERRUPT_COALESCING_TIME_UNIT_NS, type InterruptCoalescingConfig, type NvmeSsdConfig } from '../hw/nvme/controller.js';
import { nvmeCapacitySectors, nvmeGeometryFor } from '../hw/nvme/ftl.js';
import { Hdd, HddGeometry, NCQ_DEPTH, hddConfigForCapacity } from '../hw/hdd.js';
import type { BlockSizeSpec, DeviceSpec, HostSpec, JobSpec, MachineSpec, IrqCoalescingSpec, NetworkSpec, ScenarioEvent, SsdSpec } from '../userspace/job.js';
import { DEFAULT_LINK, EthernetSwitch } from '../hw/nic/link.js';
import { defaultNicConfig, Nic } from '../hw/nic/nic.js';
import { Mlx5eDriver } from '../drivers/net/mlx5e.js';
import { scheduleEvents, type EventLog } from '../userspace/events.js';
import { fioJob, JobRandom, JobStats, type DirStats, type JobControl } from '../userspace/fio.js';
import { FlowTable } from '../userspace/flow.js';
import { WaitQueue } from '../sim/process.js';
import { loopbackNetInit } from '../drivers/net/loopback.js';
import { inetInit } from '../net/ipv4/af_inet.js';
import type { BlockDeviceHw } from '../hw/device.js';
import { DeviceTable } from '../drivers/base/core.js';
import { Buses } from '../drivers/base/bus.js';
import { PowerManagement, type PowerReport } from '../power/power.js';
import { C1_ONLY_CSTATES, INTEL_SKX_CSTATES } from '../power/cpuidle.js';
import { DEFAULT_POWER } from '../userspace/job.js';
import { LatencyHistogram, SAMPLE_INTERVAL_NS, summarizeSamples } from '../userspace/stats.js';
import { LpDevice } from '../drivers/char/lp.js';
import { DevMem } from '../drivers/char/mem.js';
import { SerialPrinter } from '../hw/printer.js';
import { lpdDaemon, paperJobs, PrintQueue, Spooler } from '../userspace/lpd.js';
import { CAP_FULL_SET } from '../kernel/capability.js';
import { Nfsd } from '../fs/nfsd/nfssvc.js';
import { ipv4String } from '../net/netdevice.js';
import { mountNetworkFilesystems } from '../fs/nfs/super.js';
import { RpcStreamRendezvous, svcTcpListen, xsTcpTransport } from '../net/sunrpc/xprtsock.js';
import type { PrinterReport, CgroupIoLatencyReport, CgroupIoReport, CgroupReport, CrashReport, DeviceReport, DirectionReport, JobReport, KernelCounters, LatencySummary, RunReport, LayoutReport, NetworkReport } from '../userspace/report.js';

/** Where a CPU's struct cfs_rq is said to be (in its struct rq, per-CPU data). */
const CFS_RQ_OFFSET = 0x2c0;

/** BLK_DEF_MAX_SECTORS_CAP: 1280 KiB requests; BLK_MAX_SEGMENTS: 128. */
const DEFAULT_LIMITS = { maxSectors: 2560, maxSegments: 128, logicalBlockSizeBytes: 512 } as const;
const NVME_MAJOR = 259;
const SD_MAJOR = 8;

/** One fio job process (a numjobs clone), from fork to exit. */
export interface RunningJob {
  readonly spec: JobSpec;
  /** Which clone of its job this is (0-based). */
  readonly jobIndex: number;
  readonly task: Task;
  readonly stats: JobStats;
  /** The job has finished its I/O and is exiting (what stonewall and wait_for wait for). */
  done: boolean;
  /** Its stonewall phase: jobs between two stonewalls run together (exit_what=stonewall). */
  readonly phase: number;
  readonly control: JobControl;
}

export interface BlockDevice {
  readonly name: string;
  readonly q: RequestQueue;
  readonly hw: BlockDeviceHw;
  /** Its driver: stateHook / setOffline are the "device failed" / "device back" points. */
  readonly driver: BlockDriverHost;
  readonly scheduler: string;
  readonly fs: Ext4Fs | undefined;
}

/** Instantaneous machine-wide gauges, as /proc/meminfo and /proc/sched_debug would show them. */
export interface MachineGauges {
  readonly dirtyPages: number;
  readonly writebackPages: number;
  /** File pages in the page cache (Cached in /proc/meminfo). */
  readonly pageCachePages: number;
  readonly freePages: number;
  /** Tasks on each CPU's runqueue, the running one included (rq->nr_running). */
  readonly runQueueLengths: readonly number[];
}

/**
 * pid 1 (systemd) after it forked the workload: it sleeps, waiting for its children (do_wait), for
 * the whole run; it never exits.
 * SIMPLIFICATION: it does not reap its children (no wait4), so their exit wakes nothing.
 */
function* initBody(t: Task): TaskBody {
  for (;;) {
    t.state = TaskState.INTERRUPTIBLE;
    yield SCHED;
  }
}

/** A task as a trace's process tree names it. */
export interface TaskInfo {
  readonly pid: number;
  readonly tgid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly kthread: boolean;
}

export class Machine {
  readonly jobs: RunningJob[] = [];
  /** Line printers (/dev/lp0, ...); their queues are k.spool's. */
  readonly printers: LpDevice[] = [];
  /** The NFS server (machine.nfsd), which serves calls its transports hand it (nfsd.serv.enqueue). */
  nfsd: Nfsd | undefined;
  /** Jobs waiting for a stonewall or wait_for sleep here; every job exit wakes them to look again. */
  private readonly jobExits = new WaitQueue();
  private readonly allDoneCallbacks: (() => void)[] = [];
  readonly devices: BlockDevice[] = [];
  /** The run is over before its bound: a job file's jobs have all exited (fio exits then). */
  ended = false;
  /** What layoutJobFiles created before the run. */
  layout: readonly LayoutReport[] = [];
  init!: Task;
  /** What survived a simulated crash (crashAt), once it happened. */
  crash: CrashReport | undefined;
  /** The scenario's events (scheduleEvents), as they ran. */
  private eventLog: EventLog | undefined;
  /** Its Ethernet NICs' drivers (eth0, ...), in the spec's order. */
  readonly nics: Mlx5eDriver[] = [];
  /** The network its NICs plug into (shared with the other hosts), when it has NICs or hosts. */
  network: EthernetSwitch | undefined;
  /** The other hosts on the network (bootHosts): their own kernels, on this machine's clock. */
  readonly hosts: Machine[] = [];
  /** Its name on the network (a "hosts" entry's name; the scenario's own machine is localhost). */
  hostname = 'localhost';

  constructor(
    readonly k: Kernel,
    readonly spec: MachineSpec,
  ) {}

  get env(): Environment {
    return this.k.env;
  }

  /** kernel_clone + wake_up_new_task: a new process (or kernel thread) running `body`. */
  spawn(comm: string, kthread: boolean, makeBody: (t: Task) => TaskBody, parent?: Task): Task {
    const k = this.k;
    const pid = k.nextPid++;
    const t = new Task(
      k.kaddr(),
      pid,
      pid,
      comm,
      DEFAULT_PRIO,
      kthread,
      kthread ? undefined : new MmStruct(k.kaddr()),
      kthread ? undefined : new FdTable(),
      parent?.cpu ?? 0,
      (task) => k.sched.wakeFromContext(task),
    );
    t.realParent = parent;
    k.tasks.push(t);
    // chrt -f on the tasks the machine names (a kernel thread's, as `chrt -f -p 50 $(pgrep jbd2)`)
    for (const rule of this.spec.schedFifo ?? []) {
      if (rule.comm.endsWith('*') ? comm.startsWith(rule.comm.slice(0, -1)) : comm === rule.comm) k.sched.setScheduler(t, SCHED_FIFO, rule.rtPriority);
    }
    // a process of the workload is forked by its parent (init); pid 1 and the kernel's threads are
    // made by the kernel itself (rest_init, kthreadd)
    if (parent && !kthread) kernelClone(k, parent, t, makeBody(t));
    else k.sched.wakeUpNewTask(t, makeBody(t), k.sched.cpu(parent?.cpu ?? 0));
    return t;
  }

  /**
   * Starts fio jobs, forked from init now: numjobs clones of each, in the list's order. A job with
   * stonewall, and every job after it up to the next stonewall, waits for every job before the
   * stonewall to exit; one with wait_for waits for every
   * clone of that job. Waiting jobs are forked at once and sleep until then, as fio's jobs are
   * created up front and held back by the main process.
   */
  startJobs(jobs: readonly JobSpec[], stopAtNs: number): void {
    const k = this.k;
    const started: RunningJob[][] = [];
    // fio adds every job's flow weight when it reads the job file, before any job runs
    const flows = new FlowTable();
    let phase = 0;
    // the jobs of earlier phases: a stonewall holds back its own job and every job after it up to
    // the next stonewall (fio starts a phase only when all jobs before it have exited)
    let earlierPhases: RunningJob[] = [];
    for (const spec of jobs) {
      if (spec.stonewall && started.length > 0) {
        phase++;
        earlierPhases = started.flat();
      }
      let deps: RunningJob[] = earlierPhases;
      if (spec.waitFor !== '') {
        const waitee = jobs.findIndex((j) => j.name === spec.waitFor);
        if (waitee < 0 || waitee >= started.length) {
          throw new Error(`job ${spec.name}: wait_for=${spec.waitFor}: no job of that name comes before it in the job list`);
        }
        deps = [...new Set([...deps, ...started[waitee]!])];
      }
      const clones: RunningJob[] = [];
      for (let i = 0; i < spec.numjobs; i++) {
        const stats = new JobStats();
        // every job forks the machine's generator, so the machine's own stream does not depend
        // on randrepeat; randrepeat=1 jobs draw from their own seed instead
        const rand = JobRandom.forJob(spec, i, k.rng.fork());
        const holder: { job?: RunningJob } = {};
        const gate = deps.length > 0 ? { isOpen: () => deps.every((d) => d.done), waiters: this.jobExits } : undefined;
        const onExit = () => this.jobExited(holder.job!);
        const control: JobControl = { terminated: false };
        const flow = spec.flow > 0 ? flows.join(spec.flowId, spec.flow) : undefined;
        const task = this.spawn(spec.name.slice(0, 15), false, (t) => fioJob(k, t, { job: spec, cloneIndex: i, stats, rand, stopAtNs, gate, onExit, control, flow }), this.init);
        // fio's cgroup=: the job runs in that group, made if the machine does not list it
        if (spec.cgroup !== '') task.memcg = k.mm.memcgByName(spec.cgroup) ?? k.mm.createMemcg(spec.cgroup, NO_LIMITS);
        holder.job = { spec, jobIndex: i, task, stats, done: false, phase, control };
        this.wakeLock(spec, i, true);
        clones.push(holder.job);
        this.jobs.push(holder.job);
      }
      started.push(clones);
    }
  }

  /** The group's io.max lines and blk-throttle's counts under them (nothing when it has none). */
  private ioReportOf(g: MemCgroup): { io?: CgroupIoReport[] } {
    const io: CgroupIoReport[] = [];
    const limit = (n: number): number | null => (n === Infinity ? null : n);
    for (const d of this.devices) {
      const tg = d.q.throtl?.groups[g.id];
      if (tg === undefined) continue;
      const [r, w] = tg.stats;
      io.push({
        device: d.name,
        rbps: limit(tg.limits.rbps),
        wbps: limit(tg.limits.wbps),
        riops: limit(tg.limits.riops),
        wiops: limit(tg.limits.wiops),
        rbytes: r.bytes,
        wbytes: w.bytes,
        rios: r.ios,
        wios: w.ios,
        throttledReadBios: r.throttledBios,
        throttledWriteBios: w.throttledBios,
        throttledReadNs: r.throttledNs,
        throttledWriteNs: w.throttledNs,
      });
    }
    return io.length > 0 ? { io } : {};
  }

  /** The group's io.latency state on each device blk-iolatency runs on (nothing when none does). */
  private ioLatencyReportOf(g: MemCgroup): { ioLatency?: CgroupIoLatencyReport[] } {
    const out: CgroupIoLatencyReport[] = [];
    const depth = (n: number): number | null => (n === IOLAT_DEPTH_MAX ? null : n);
    for (const d of this.devices) {
      const bl = d.q.iolat;
      if (bl === undefined) continue;
      const lat = bl.groups[g.id];
      if (lat === undefined) continue;
      out.push({
        device: d.name,
        targetUs: lat.minLatNs === 0 ? null : lat.minLatNs / 1000,
        ssd: lat.ssd,
        depth: depth(lat.maxDepth),
        minDepth: depth(lat.minDepth),
        scaleEvents: lat.scaleEvents,
        useDelay: lat.useDelay,
        avgLatUs: Math.floor(lat.latAvgNs / 1000),
        winMs: Math.floor(lat.curWinNs / 1e6),
        missed: lat.stat.missed,
        total: lat.stat.total,
      });
    }
    return out.length > 0 ? { ioLatency: out } : {};
  }

  /** A job has finished: wake the jobs waiting on it, and tell whoever waits for the last one. */
  private jobExited(j: RunningJob): void {
    j.done = true;
    this.wakeLock(j.spec, j.jobIndex, false);
    if (j.spec.exitall) {
      // fio's exitall: end the jobs exit_what names that are still running (or yet to start)
      const what = j.spec.exitWhat;
      for (const other of this.jobs) {
        if (other.done || other.control.terminated) continue;
        if (what === 'all' || (what === 'group' && other.spec.groupId === j.spec.groupId) || (what === 'stonewall' && other.phase === j.phase)) {
          other.control.terminated = true;
          other.control.terminate?.();
        }
      }
    }
    this.jobExits.wakeAll();
    if (this.allJobsDone) for (const cb of this.allDoneCallbacks.splice(0)) cb();
  }

  /** A job named in machine.power's wake locks holds one (/sys/power/wake_lock) while it runs. */
  private wakeLock(spec: JobSpec, index: number, hold: boolean): void {
    if (!(this.spec.power?.wakeLockJobs.includes(spec.name) ?? false)) return;
    const ws = this.k.power.wakeupSource(spec.numjobs > 1 ? `${spec.name}.${index}` : spec.name);
    if (hold) this.k.power.stayAwake(ws);
    else this.k.power.relax(ws);
  }

  /** The machine's power report (per-state time and energy), when the scenario sets machine.power. */
  powerReport(): PowerReport | undefined {
    return this.spec.power === undefined ? undefined : this.k.power.report();
  }

  /** Every job started so far has finished (true before any job starts). */
  get allJobsDone(): boolean {
    return this.jobs.every((j) => j.done);
  }

  /** Calls `cb` once, in simulation context, when the last running job finishes. */
  onAllJobsDone(cb: () => void): void {
    this.allDoneCallbacks.push(cb);
  }

  /** The disk behind a device number, for BTF readers (request->q->disk, bio->bi_bdev). */
  diskOf(dev: number): { readonly name: string; readonly dev: number; readonly kaddr: number } | undefined {
    const d = this.devices.find((x) => x.q.dev === dev);
    return d ? { name: d.name, dev, kaddr: d.q.hctxs[0]?.kaddr ?? 0 } : undefined;
  }

  /** task->se.cfs_rq, for BTF readers (runqlen): the CFS tasks of the task's CPU, queued and running. */
  runQueueOf(task: Task): CfsRqView | undefined {
    const cpu = this.k.sched.cpus[task.cpu];
    if (!cpu) return undefined;
    let nrQueued = cpu.current !== cpu.idle && cpu.current.policy !== SCHED_FIFO ? 1 : 0;
    for (const t of cpu.rq) if (t.policy !== SCHED_FIFO) nrQueued++;
    return { kaddr: cpu.idle.kaddr + CFS_RQ_OFFSET, nrQueued };
  }

/** current->fs, for BTF readers (curtask->fs->pwd): the task's root and working directory. */
  taskFs(task: Task): FsStruct | undefined {
    return task.mm ? this.k.vfs.fsStruct(this.k, task) : undefined;
  }

  /** Gauges read now; cheap enough to sample often (counters kept by the kernel, no walks). */
  gauges(): MachineGauges {
    const mm = this.k.mm;
    return {
      dirtyPages: mm.nrDirty,
      writebackPages: mm.nrWriteback,
      pageCachePages: mm.nrFilePages,
      freePages: mm.freePages,
      runQueueLengths: this.k.sched.cpus.map((c) => c.rq.length + (c.current === c.idle ? 0 : 1)),
    };
  }

  /** Every task that exists now, idle tasks excluded, in pid order. */
  tasks(): TaskInfo[] {
    return this.k.tasks
      .filter((t) => t.pid !== 0)
      .map((t) => ({ pid: t.pid, tgid: t.tgid, ppid: t.realParent?.tgid ?? 0, comm: t.comm, kthread: t.kthread }))
      .sort((a, b) => a.pid - b.pid);
  }

  /**
   * A simulated crash (power loss) at `atNs`: the machine stops there, and what the devices hold
   * of the jobs' files is what survives; page-cache data not written back is gone.
   */
  crashAt(atNs: number): void {
    this.env.at(atNs, Priority.URGENT, () => this.crashNow(), 0);
  }

  /** A scenario's events: each runs at its time in a process forked from init. */
  scheduleEvents(events: readonly ScenarioEvent[]): void {
    if (events.length === 0) return;
    this.eventLog = scheduleEvents(events, (e) => {
      const on = e.host === undefined ? this : this.hosts.find((h) => h.hostname === e.host);
      if (on === undefined) throw new Error(`scenario event on host ${e.host}: the network has no host of that name`);
      return { k: on.k, spawn: (comm, makeBody) => void on.spawn(comm, false, makeBody, on.init) };
    });
  }

  private crashNow(): void {
    const inodes = new Set<Inode>();
    for (const j of this.jobs) {
      for (const path of [...j.spec.files, ...j.spec.cloneFiles.flat()]) {
        const inode = this.k.vfs.lookup(path);
        if (inode) inodes.add(inode);
      }
    }
    const files = [...inodes].map(crashFileReport).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    this.crash = { atNs: this.env.nowNs, files };
    this.ended = true;
    this.env.stop();
  }

  /** Runs the simulation until `untilNs`, or for at most `maxEvents` callbacks (Environment.run). */
  run(untilNs: number, maxEvents = Infinity): number {
    return this.k.env.run(untilNs, maxEvents);
  }

  report(scenario: string, seed: number): RunReport {
    const k = this.k;
    const durationNs = k.env.nowNs;
    const jobs = this.jobReports(durationNs);
    let irqs = 0;
    let softirqs = 0;
    for (const c of k.sched.cpus) {
      irqs += c.irqCount;
      softirqs += c.softirqCount;
    }
    const counters: KernelCounters = {
      pageCacheHits: k.stat.pgcacheHit,
      pageCacheMisses: k.stat.pgcacheMiss,
      readaheadPages: k.stat.readaheadPages,
      minorFaults: k.stat.pgfault - k.stat.pgmajfault,
      majorFaults: k.stat.pgmajfault,
      contextSwitches: k.sched.stats.contextSwitches,
      irqs,
      softirqs,
      bioBackMerges: k.stat.bioBackMerges,
      bioFrontMerges: k.stat.bioFrontMerges,
      requestMerges: k.stat.requestMerges,
      pagesDirtied: k.stat.pgdirtied,
      pagesWrittenBack: k.stat.pgwriteback,
      nrDirty: k.mm.nrDirty,
      nrWriteback: k.mm.nrWriteback,
      dirtyThrottlePauses: k.stat.dirtyThrottlePauses,
      dirtyThrottlePauseNs: k.stat.dirtyThrottlePauseNs,
      syscalls: k.stat.syscalls,
      userCopyBytes: k.stat.userCopyBytes,
      pgscanKswapd: k.stat.pgscanKswapd,
      pgscanDirect: k.stat.pgscanDirect,
      pgstealKswapd: k.stat.pgstealKswapd,
      pgstealDirect: k.stat.pgstealDirect,
      pgactivate: k.stat.pgactivate,
      pgdeactivate: k.stat.pgdeactivate,
      allocstall: k.stat.allocstall,
      workingsetRefaultFile: k.stat.workingsetRefaultFile,
      workingsetActivateFile: k.stat.workingsetActivateFile,
      workingsetRestoreFile: k.stat.workingsetRestoreFile,
    };
    const devices: DeviceReport[] = this.devices.map((d) => ({
      name: d.name,
      scheduler: d.scheduler,
      readAheadKb: (d.q.raPages * PAGE_SIZE) / 1024,
      readIos: d.q.stats.readIos,
      writeIos: d.q.stats.writeIos,
      readBytes: d.q.stats.readBytes,
      writeBytes: d.q.stats.writeBytes,
      readMerges: d.q.stats.readMerges,
      writeMerges: d.q.stats.writeMerges,
      readTicksNs: d.q.stats.readTicksNs,
      writeTicksNs: d.q.stats.writeTicksNs,
      inQueueNs: d.q.stats.readTicksNs + d.q.stats.writeTicksNs + d.q.stats.flushTicksNs,
      busyNs: d.q.busyTimeNs(),
      hw: d.hw.counters(),
    }));
    const memcgs = k.mm.memcgs.slice(1);
    const bytes = (pages: number): number | null => (pages === MEMCG_MAX ? null : pages * 4096);
    const cgroups: CgroupReport[] = memcgs.map((g) => ({
      name: g.name,
      memoryCurrentBytes: g.usagePages * 4096,
      memoryPeakBytes: g.peakPages * 4096,
      memoryMinBytes: g.limits.minPages * 4096,
      memoryLowBytes: g.limits.lowPages * 4096,
      memoryHighBytes: bytes(g.limits.highPages),
      memoryMaxBytes: bytes(g.limits.maxPages),
      events: { low: g.eventsLow, high: g.eventsHigh, max: g.eventsMax },
      ...this.ioReportOf(g),
      ...this.ioLatencyReportOf(g),
    }));
    const printers = this.printerReports();
    const power = this.powerReport();
    const c = k.net.copies;
    const moved = c.userToSkbBytes + c.skbToUserBytes + c.pageToSkbBytes + c.linearizeBytes + c.zerocopyBytes + k.net.stat.txDropped + k.net.stat.rxDropped;
    const network: NetworkReport | undefined = moved > 0 ? { ...c, kernelCopyBytes: k.stat.kernelCopyBytes, txDropped: k.net.stat.txDropped, rxDropped: k.net.stat.rxDropped } : undefined;
    return {
      scenario,
      seed,
      durationNs,
      eventsRun: k.env.eventsRun,
      jobs,
      layout: this.layout,
      counters,
      devices,
      ...(cgroups.length > 0 ? { cgroups } : {}),
      ...(this.crash ? { crash: this.crash } : {}),
      ...(printers.length > 0 ? { printers } : {}),
      ...(this.eventLog ? { events: this.eventLog.report() } : {}),
      ...(power ? { power } : {}),
      ...(network ? { network } : {}),
    };
  }

  /** Each printer's line, paper and queue. */
  private printerReports(): PrinterReport[] {
    return this.printers.map((lp) => {
      const q = this.k.spool?.queue(lp.name);
      const jobs = q?.jobs ?? [];
      return {
        name: lp.name,
        baud: lp.printer.config.baud,
        printedBytes: lp.printer.printedBytes,
        paperJobs: paperJobs(lp.printer.paper(), jobs),
        enabled: q?.enabled ?? true,
        jobs: jobs.map((j) => ({ id: j.id, owner: j.owner, title: j.title, bytes: j.data.length, state: j.state, queuedNs: j.queuedNs, startNs: j.startNs, endNs: j.endNs })),
      };
    });
  }

  /**
   * One report per job, except that the jobs of a group whose jobs say group_reporting are summed
   * into one report (at the place of the group's first job), as fio's sum_thread_stats does.
   */
  jobReports(durationNs: number): JobReport[] {
    const out: JobReport[] = [];
    const groups = new Map<number, RunningJob[]>();
    for (const j of this.jobs) {
      if (!j.spec.groupReporting) continue;
      const list = groups.get(j.spec.groupId);
      if (list) list.push(j);
      else groups.set(j.spec.groupId, [j]);
    }
    for (const j of this.jobs) {
      if (!j.spec.groupReporting) {
        out.push(jobReport([j], durationNs));
        continue;
      }
      const group = groups.get(j.spec.groupId)!;
      if (group[0] === j) out.push(jobReport(group, durationNs));
    }
    return out;
  }
}

/** min/max/mean/stdev and the job's percentiles of a latency histogram. */
export function summarizeLatency(h: LatencyHistogram, percentileList: readonly number[]): LatencySummary {
  return {
    count: h.count,
    minNs: h.count ? h.minNs : 0,
    maxNs: h.maxNs,
    meanNs: Math.round(h.meanNs),
    stdevNs: h.stdevNs,
    p50Ns: h.percentileNs(50),
    p99Ns: h.percentileNs(99),
    p999Ns: h.percentileNs(99.9),
    percentiles: percentileList.map((percent) => ({ percent, ns: h.percentileNs(percent) })),
    ...(percentileList.length > 0 ? { bins: h.bins() } : {}),
  };
}

/** How long a job's statistics ran: from the end of its ramp to its end (or the run's). */
function statsRuntimeNs(s: JobStats, durationNs: number): number {
  if (s.statsStartNs < 0) return 0;
  const endNs = s.endNs >= 0 ? s.endNs : durationNs;
  return Math.max(0, endNs - s.statsStartNs);
}

function directionReport(d: DirStats, runtimeNs: number, percentileList: readonly number[]): DirectionReport {
  const perSec = (n: number) => (runtimeNs > 0 ? (n * 1e9) / runtimeNs : 0);
  // fio's bw/iops samples: one per complete 500 ms window of the run, for a direction with I/O
  const windows = d.ios > 0 ? Math.floor(runtimeNs / SAMPLE_INTERVAL_NS) : 0;
  return {
    ios: d.ios,
    bytes: d.bytes,
    iops: perSec(d.ios),
    bandwidthBytesPerSec: perSec(d.bytes),
    shortIos: d.shortIos,
    droppedIos: d.droppedIos,
    slat: summarizeLatency(d.slat, []),
    clat: summarizeLatency(d.clat, percentileList),
    lat: summarizeLatency(d.latency, []),
    bwSamples: summarizeSamples(d.windows.bytes, windows),
    iopsSamples: summarizeSamples(d.windows.ios, windows),
  };
}

/** The report of one job, or of a group_reporting group (its jobs summed). */
/** ioengine=lsm's store counters, copied at report time. */
function lsmReportOf(task: Task): { lsm?: LsmStats } {
  const s = lsmStatsOf(task);
  return s === undefined ? {} : { lsm: { ...s } };
}

function jobReport(group: readonly RunningJob[], durationNs: number): JobReport {
  const first = group[0]!;
  const spec = first.spec;
  let stats = first.stats;
  let runtimeNs = statsRuntimeNs(first.stats, durationNs);
  if (group.length > 1) {
    stats = new JobStats();
    for (const j of group) {
      stats.add(j.stats);
      runtimeNs = Math.max(runtimeNs, statsRuntimeNs(j.stats, durationNs));
    }
  }
  let userNs = 0;
  let execNs = 0;
  let contextSwitches = 0;
  let majorFaults = 0;
  let minorFaults = 0;
  for (const j of group) {
    userNs += j.stats.userNs;
    execNs += (j.stats.cpuAtEndNs >= 0 ? j.stats.cpuAtEndNs : j.task.sumExecRuntimeNs) - j.stats.cpuAtStartNs;
    contextSwitches += j.task.nvcsw + j.task.nivcsw;
    majorFaults += j.task.majFlt;
    minorFaults += j.task.minFlt;
  }
  const sizes = (b: BlockSizeSpec | undefined): readonly [number, number] => {
    if (!b) return [spec.bs, spec.bs];
    if (b.split.length === 0) return [b.minBytes, b.maxBytes];
    const all = b.split.map((e) => e.bytes);
    return [Math.min(...all), Math.max(...all)];
  };
  return {
    name: spec.name,
    jobIndex: first.jobIndex,
    jobs: group.length,
    groupId: spec.groupId,
    pid: first.task.pid,
    filename: spec.filename,
    rw: spec.rw,
    ioengine: spec.ioengine,
    iodepth: spec.iodepth,
    direct: spec.direct,
    bs: spec.bs,
    blockSizes: { read: sizes(spec.blockSizes?.read), write: sizes(spec.blockSizes?.write) },
    runtimeNs,
    read: directionReport(stats.rd, runtimeNs, spec.percentileList),
    write: directionReport(stats.wr, runtimeNs, spec.percentileList),
    fsyncs: stats.fsync.count,
    fsyncLat: summarizeLatency(stats.fsync, spec.percentileList),
    errors: stats.errors,
    firstErrno: stats.firstErrno,
    // user: the job's own code (filling and reaping io_us); system: the rest of its CPU time
    cpu: { userNs, systemNs: Math.max(0, execNs - userNs), contextSwitches, majorFaults, minorFaults },
    depths: { depth: [...stats.depth], submit: [...stats.submit], complete: [...stats.complete] },
    latencyBuckets: { nsec: [...stats.latencyBuckets.nsec], usec: [...stats.latencyBuckets.usec], msec: [...stats.latencyBuckets.msec] },
    unifiedRwReporting: spec.unifiedRwReporting,
    ...lsmReportOf(first.task),
    latencyTarget: {
      targetNs: spec.latencyTargetNs,
      windowUs: Math.floor(spec.latencyWindowNs / 1000),
      percentile: spec.latencyPercentile,
      depth: first.stats.latencyDepth || spec.iodepth,
    },
  };
}

/** Set Features 08h's fields for a scenario's coalescing: TIME in 100 µs units, THR 0's based. */
function interruptCoalescingOf(spec: IrqCoalescingSpec): InterruptCoalescingConfig {
  return {
    aggregationTime100us: Math.floor(spec.timeUs * 1000 / INTERRUPT_COALESCING_TIME_UNIT_NS),
    aggregationThreshold: Math.max(0, spec.threshold - 1),
  };
}

/** The smallest SSD write buffer: NVMeVirt's 970 PRO profile's 1 MiB (GLOBAL_WB_SIZE). */
const MIN_NVME_WRITE_BUFFER_BYTES = 2 ** 20;

/**
 * The NVMe SSD for a device spec: the default (970 PRO-like) drive with the scenario's geometry and
 * policies, scaled to export exactly the requested capacity (ftl.ts nvmeGeometryFor).
 */
export function nvmeConfigFor(capacityBytes: number, cpus: number, ssd: SsdSpec = {}): NvmeSsdConfig {
  const c = DEFAULT_NVME_CONFIG;
  const pagesPerFlashPage = ssd.pageSizeBytes !== undefined ? ssd.pageSizeBytes / 4096 : c.pagesPerFlashPage;
  const channels = ssd.channels ?? (ssd.dies !== undefined ? Math.min(c.channels, ssd.dies) : c.channels);
  const base: NvmeSsdConfig = {
    ...c,
    // nvme_setup_io_queues: one queue pair per CPU, up to what the controller offers (CPUs share beyond)
    queueCount: Math.min(cpus, c.maxIoQueuePairs),
    channels,
    diesPerChannel: ssd.dies !== undefined ? Math.max(1, Math.floor(ssd.dies / channels)) : c.diesPerChannel,
    pagesPerFlashPage,
    pagesPerBlock: ssd.blockSizeBytes !== undefined ? ssd.blockSizeBytes / 4096 : Math.max(c.pagesPerBlock, 2 * pagesPerFlashPage),
    overProvisioning: ssd.overProvisioningPercent !== undefined ? ssd.overProvisioningPercent / 100 : c.overProvisioning,
    gcPolicy: ssd.gcPolicy ?? c.gcPolicy,
    multiStream: ssd.multiStream ?? c.multiStream,
    precondition: ssd.precondition ?? 'sequential',
    crdt: ssd.crdt ?? c.crdt,
    interruptCoalescing: ssd.irqCoalescing === undefined ? c.interruptCoalescing : interruptCoalescingOf(ssd.irqCoalescing),
    // DRAM for the write buffer grows with the drive (about 1/1024 of it), between 1 and 64 MiB
    writeBufferBytes: Math.min(c.writeBufferBytes, Math.max(MIN_NVME_WRITE_BUFFER_BYTES, Math.floor(capacityBytes / 1024 / 4096) * 4096)),
  };
  return nvmeGeometryFor(base, capacityBytes, { dies: ssd.dies !== undefined || ssd.channels !== undefined, blockSize: ssd.blockSizeBytes !== undefined });
}

/**
 * The capacity the device built for `spec` reports: exactly what was asked, for an SSD and a disk
 * alike (the geometry is scaled to it).
 */
export function deviceCapacityBytes(spec: DeviceSpec): number {
  if (spec.kind === 'nvme') return nvmeCapacitySectors(nvmeConfigFor(spec.capacityBytes, 1, spec.ssd)) * 512;
  return new HddGeometry(hddConfigForCapacity(spec.capacityBytes)).capacitySectors * 512;
}

/** Blocks the files of a scenario may take on the filesystem mkfs puts on the device built for `spec`. */
export function filesystemFreeBlocks(spec: DeviceSpec): number {
  return ext4FreeBlocks(deviceCapacityBytes(spec));
}

/** Builds a machine from its spec. Same spec and seed: the same machine, event for event. */
/** What hosts on one network share: the clock and the switch. */
export interface SharedNetwork {
  readonly env: Environment;
  /** Absent: machines that share only the clock (a test's hand-made transport between them). */
  readonly network?: EthernetSwitch;
}

export function bootMachine(spec: MachineSpec, seed: number, shared?: SharedNetwork): Machine {
  const env = shared?.env ?? new Environment();
  const rng = new Random(seed);
  const registry = new ProbeRegistry();
  const sites = createProbeSites(registry);
  const k = new Kernel(env, rng, registry, sites, seed);
  const m = new Machine(k, spec);
  k.sched = new Scheduler(env, sites, spec.cpus, (cpu) => {
    const idle = new Task(k.kaddr(), 0, 0, `swapper/${cpu}`, DEFAULT_PRIO, true, undefined, undefined, cpu, () => undefined);
    return idle;
  });
  k.loadavg = new LoadAvg(k);
  k.loadavg.start();
  k.sched.preemptModel = spec.preempt === undefined ? DEFAULT_PREEMPT_MODEL : (PREEMPT_MODEL_NAMES.indexOf(spec.preempt) as PreemptModel);
  k.mm = new MemoryManager(k, spec.memoryBytes, spec.vm);
  k.mm.spawnKthread = (comm, body) => m.spawn(comm, true, body, undefined);
  for (const cg of spec.cgroups ?? []) {
    const pages = (bytes: number | undefined, none: number): number => (bytes === undefined ? none : Math.floor(bytes / 4096));
    k.mm.createMemcg(cg.name, {
      minPages: pages(cg.memoryMinBytes, 0),
      lowPages: pages(cg.memoryLowBytes, 0),
      highPages: pages(cg.memoryHighBytes, MEMCG_MAX),
      maxPages: pages(cg.memoryMaxBytes, MEMCG_MAX),
    });
  }
  k.wb = new Writeback(k, spec.vm);
  k.vfs = new Vfs();
  k.devices = new DeviceTable(k);
  k.power = new PowerManagement(k);
  k.net = new NetNamespace();
  // loopback_net_init (lo is ifindex 1) and inet_init (AF_INET sockets, ip_rcv)
  loopbackNetInit(k);
  inetInit(k);
  const power = spec.power ?? DEFAULT_POWER;
  const buses = new Buses(k);
  // init (pid 1): the parent of the workload
  m.init = m.spawn('systemd', false, initBody, undefined);
  const devMem = new DevMem(spec.memoryBytes, k);
  k.devMem = devMem;
  k.vfs.devNodes.set('/dev/mem', devMem.inode);

  // each cgroup's io.weight (block/blk-cgroup.c: blkcg), what bfq gives the group
  const ioWeights = new Map<string, number>();
  for (const cg of spec.cgroups ?? []) ioWeights.set(cg.name, cg.ioWeight ?? 100);
  const ioWeightOf = (cgroup: string): number => ioWeights.get(cgroup) ?? 100;
  const devs = deviceNumbers(spec.devices);
  spec.devices.forEach((d, devIndex) => {
    const dev = devs[devIndex]!;
    let q: RequestQueue;
    let hw: BlockDeviceHw;
    let driver: BlockDriverHost;
    // injected faults draw from a stream of their own (forked only when there are some)
    const faults = d.faults !== undefined && d.faults.length > 0 ? new FaultInjector(d.faults, rng.fork()) : undefined;
    const timeouts = d.faults?.some((f) => f.kind === 'timeout') ?? false;
    if (d.kind === 'nvme') {
      const ssdConfig = nvmeConfigFor(d.capacityBytes, spec.cpus, d.ssd);
      q = new RequestQueue(k, dev, d.name, DEFAULT_LIMITS, false);
      const drv = new NvmePciDriver(k, q, d.name, dev & 0xfffff);
      const ssd = new NvmeSsd(drv, ssdConfig, rng.fork());
      ssd.faults = faults;
      hw = ssd;
      drv.attach(hw);
      drv.initIdentify(ssd);
      if (timeouts) drv.enableTimeouts();
      driver = drv;
      q.driver = drv;
      q.initHctxs(hw.queueCount, hw.queueDepth);
      buses.addNvme(q, drv, ssd, dev & 0xfffff, d.psMaxLatencyUs ?? power.defaultPsMaxLatencyUs);
    } else {
      q = new RequestQueue(k, dev, d.name, DEFAULT_LIMITS, true);
      const drv = new AhciDriver(k, q, 0);
      const hddConfig = hddConfigForCapacity(d.capacityBytes);
      // SIMPLIFICATION: a write-through disk still receives the block layer's cache flushes (Linux
      // drops them when the queue has no write cache); with its cache empty they complete at once.
      const disk = new Hdd(drv, {
        ...hddConfig,
        ...(d.queueDepth !== undefined ? { queueDepth: d.queueDepth } : {}),
        ...(d.cacheType === 'write through' ? { writeCacheEnabled: false } : {}),
      });
      disk.faults = faults;
      hw = disk;
      drv.attach(hw);
      if (timeouts) drv.enableTimeouts();
      driver = drv;
      q.driver = drv;
      // nr_requests = 2 * min(tag set depth, BLKDEV_DEFAULT_RQ) with an elevator; the tag set is the
      // AHCI port's 32 command slots whatever the device's queue_depth (which only limits dispatch)
      q.initHctxs(1, d.scheduler === 'none' ? NCQ_DEPTH : 2 * Math.min(NCQ_DEPTH, 128));
      buses.addSataDisk(q, drv, (dev & 0xfffff) / 16 + 1, d.powerControl ?? 'auto', d.autosuspendDelayMs ?? -1);
    }
    q.ioWeightOf = ioWeightOf;
    q.elevator = elevatorCreate(q, d.scheduler);
    if (d.readAheadKb !== undefined) q.raPages = Math.floor((d.readAheadKb * 1024) / PAGE_SIZE); // queue_ra_store
    k.queues.push(q);
    const capacityBytes = hw.capacitySectors * 512;
    const bdev = new BdevInode(k.kaddr(), 1000 + k.queues.length, dev, dev, capacityBytes, blkdevFileOperations(k), `/dev/${d.name}`, k.kaddr());
    k.vfs.devNodes.set(`/dev/${d.name}`, bdev);
    let fs: Ext4Fs | undefined;
    if (d.mount) {
      const fsRef: { fs?: Ext4Fs } = {};
      fs = new Ext4Fs(k, dev, d.mount, capacityBytes, ext4FileOperations(k, () => fsRef.fs!), rng.fork(), d.mountOptions, d.name);
      fsRef.fs = fs;
      // get_tree_bdev opens the device exclusively, the filesystem its holder (bd_holder)
      bdClaim(bdev, fs);
      k.vfs.mount(fs);
      k.wb.startFlusher(dev, (comm, body) => m.spawn(comm, true, body, undefined));
      fs.journal.start((comm, body) => m.spawn(comm, true, body, undefined));
    }
    // the errors side's "device failed" / "device back" land in the device-status table
    driver.stateHook = (devt, state) => {
      const entry = k.devices.byDev(devt);
      if (entry === undefined) return;
      if (state === 'failed') k.devices.markFailed(entry);
      else k.devices.markRunning(entry);
    };
    m.devices.push({
      name: d.name,
      q,
      hw,
      driver,
      // what /sys/block/<dev>/queue/scheduler shows now (it can be switched at run time)
      get scheduler(): string {
        return q.elevator?.name ?? 'none';
      },
      fs,
    });
    devMem.addBar(d.name, d.kind === 'nvme' ? NVME_BAR0_BYTES : AHCI_ABAR_BYTES, d.kind === 'nvme' ? nvmeRegs(hw) : ahciRegs(hw));
  });
  // cgroup io.max: each limited (group, device) pair gets its throtl_grp; each limited queue its worker
  for (const cg of spec.cgroups ?? []) {
    for (const line of cg.ioMax ?? []) {
      const d = m.devices.find((x) => x.name === line.device);
      const memcg = k.mm.memcgByName(cg.name);
      if (d === undefined || memcg === undefined) throw new Error(`cgroup ${cg.name}: io.max names no device ${line.device}`);
      throtlSetLimits(k, d.q, memcg, line);
    }
  }
  // cgroup io.latency: a queue with a target gets blk-iolatency's rq_qos (every group's I/O on it is then tracked)
  for (const cg of spec.cgroups ?? []) {
    for (const line of cg.ioLatency ?? []) {
      const d = m.devices.find((x) => x.name === line.device);
      const memcg = k.mm.memcgByName(cg.name);
      if (d === undefined || memcg === undefined) throw new Error(`cgroup ${cg.name}: io.latency names no device ${line.device}`);
      iolatencySetLimit(k, d.q, memcg, line.targetUs * 1000);
    }
  }
  for (const d of m.devices) {
    if (d.q.throtl !== undefined) throtlStartWorker(d.q.throtl, (comm, body) => m.spawn(comm, true, body, undefined));
  }
  // The root filesystem: a device mounted at / has it; else the first mounted filesystem is also
  // bind-mounted at /, so /tmp/testfile and /root/x work as on any Linux machine.
  // SIMPLIFICATION: a real machine has a root partition of its own; here / shares the first
  // filesystem (a file at /x is the file <first mount>/x).
  if (power.cpuidle !== 'off' || power.autosleep !== 'off') {
    k.power.enableIdle(power.cpuidle === 'menu' ? INTEL_SKX_CSTATES : C1_ONLY_CSTATES, power.cpuidle, power.autosleep === 'freeze');
  }
  // performance (the default) keeps every CPU at f_max: no policy, no cost
  if (power.cpufreq !== undefined && power.cpufreq.governor !== 'performance') k.power.enableCpufreq(power.cpufreq);
    const first = m.devices.find((d) => d.fs !== undefined)?.fs;
  if (first && !k.vfs.isMountPoint('/')) k.vfs.bindMount(first, '/');
  bootPrinters(m, spec);
  // rpc.nfsd: the server threads wait for calls from whatever transport reaches this machine
  if (spec.nfsd) m.nfsd = new Nfsd(k, spec.nfsd.export, spec.nfsd.threads);
  bootNics(m, spec, shared?.network);
  return m;
}

/** The machine's NICs, each on a port of the network (a new switch unless one is shared). */
function bootNics(m: Machine, spec: MachineSpec, network: EthernetSwitch | undefined): void {
  const nics = spec.nics ?? [];
  if (network === undefined && nics.length === 0) return;
  const net = network ?? new EthernetSwitch(m.env, DEFAULT_LINK);
  m.network = net;
  nics.forEach((n, i) => {
    const link = { bitsPerSec: n.bitsPerSec ?? net.link.bitsPerSec, propagationNs: net.link.propagationNs };
    const base = defaultNicConfig(link, n.queues ?? spec.cpus);
    const config = {
      ...base,
      maxFrags: n.maxFrags ?? base.maxFrags,
      mtu: n.mtu ?? base.mtu,
      tso: n.tso ?? base.tso,
      gro: n.gro ?? base.gro,
      txRingSize: n.txRingSize ?? base.txRingSize,
      rxRingSize: n.rxRingSize ?? base.rxRingSize,
      coalesce: { ...base.coalesce, ...(n.coalesce ?? {}) },
    };
    const nic = new Nic(m.env, config, net, [n.addr]);
    m.nics.push(new Mlx5eDriver(m.k, nic, { name: n.name, addr: n.addr, prefixLen: n.prefixLen, bus: 0x3b + i }));
  });
}

export function bootHosts(m: Machine, hosts: readonly HostSpec[], seed: number): Machine[] {
  if (hosts.length === 0) return [];
  m.network ??= new EthernetSwitch(m.env, DEFAULT_LINK);
  const shared: SharedNetwork = { env: m.env, network: m.network };
  for (const [i, h] of hosts.entries()) {
    const host = bootMachine(h.machine, seed + 0x9e37_79b9 * (i + 1), shared);
    host.hostname = h.name;
    m.hosts.push(host);
  }
  return m.hosts;
}

/** A machine and the hosts on its network (`network`: the switch's speed and latency). */
export function bootNetwork(spec: MachineSpec, seed: number, hosts: readonly HostSpec[], network: NetworkSpec | undefined): Machine {
  const env = new Environment();
  const m = bootMachine(spec, seed, { env, network: new EthernetSwitch(env, network ?? DEFAULT_LINK) });
  bootHosts(m, hosts, seed);
  bootNfsMounts([m, ...m.hosts]);
  return m;
}

/**
 * mount -a -t nfs on every machine of the network: each machine.mounts entry's server (a host by
 * name, or by address) gets its nfsd listening on TCP port 2049 (once), and the client an RPC
 * transport over a kernel TCP socket to it.
 */
function bootNfsMounts(machines: readonly Machine[]): void {
  const listening = new Map<Machine, RpcStreamRendezvous>();
  const serverOf = (host: string): Machine | undefined => machines.find((x) => x.hostname === host || x.nics.some((n) => ipv4String(n.dev.ipv4[0]?.addr ?? 0) === host));
  for (const client of machines) {
    const mounts = client.spec.mounts ?? [];
    if (mounts.length === 0) continue;
    const spawn = (comm: string, body: (t: Task) => TaskBody): Task => client.spawn(comm, true, body, undefined);
    const r = mountNetworkFilesystems(client.k, mounts, client.hostname, (host, path) => {
      const server = serverOf(host);
      const nfsd = server?.nfsd;
      const info = nfsd?.exportInfo(path);
      const addr = server?.nics[0]?.dev.ipv4[0]?.addr;
      if (server === undefined || nfsd === undefined || info === undefined || addr === undefined) return undefined;
      let rendezvous = listening.get(server);
      if (rendezvous === undefined) {
        rendezvous = new RpcStreamRendezvous();
        listening.set(server, rendezvous);
        svcTcpListen(server.k, nfsd.serv, rendezvous, (comm, body) => server.spawn(comm, true, body, undefined));
      }
      return { xprtOps: xsTcpTransport(client.k, addr, rendezvous, spawn), info, connected: false };
    });
    if (r.failed.length > 0) throw new Error(`mount.nfs: ${r.failed.join(', ')}: no host of the network exports that`);
  }
}

/** The printers: each a /dev/lpN node on its serial line, a spool queue and its daemon (lpd, as root). */
function bootPrinters(m: Machine, spec: MachineSpec): void {
  const printers = spec.printers ?? [];
  if (printers.length === 0) return;
  const k = m.k;
  const spool = new Spooler(k);
  k.spool = spool;
  printers.forEach((p, minor) => {
    const lp = new LpDevice(k, p.name, minor, new SerialPrinter(k.env, { baud: p.baud }), 1100 + minor);
    m.printers.push(lp);
    k.vfs.devNodes.set(`/dev/${p.name}`, lp.inode);
    const q = new PrintQueue(p.name, `/var/spool/lpd/${p.name}`);
    spool.queues.set(p.name, q);
    q.daemon = m.spawn('lpd', false, (t) => {
      t.capEffective = CAP_FULL_SET;
      return lpdDaemon(k, t, spool, q);
    }, m.init);
  });
}

/** NVMe BAR0 (the controller registers and doorbells, 16 KiB) and AHCI's ABAR (BAR5, 8 KiB). */
const NVME_BAR0_BYTES = 16 * 1024;
const AHCI_ABAR_BYTES = 8 * 1024;

/** NVMe controller registers: CAP (MQES = queue entries - 1, CQR, TO = 10 s in 500 ms units), VS 1.4. */
function nvmeRegs(hw: BlockDeviceHw): (offset: number) => number {
  return (offset) => (offset === 0x0 ? (hw.queueDepth - 1) | (1 << 16) | (20 << 24) : offset === 0x8 ? 0x0001_0400 : 0);
}

/** AHCI HBA registers: CAP (S64A, SNCQ, NCS = slots - 1), VS 1.3.1. */
function ahciRegs(hw: BlockDeviceHw): (offset: number) => number {
  return (offset) => (offset === 0x0 ? (0xc000_0000 | ((hw.queueDepth - 1) << 8)) >>> 0 : offset === 0x10 ? 0x0001_0301 : 0);
}

/** The dev_t of each device in order: NVMe namespaces 259:0, 259:1, ...; disks 8:0, 8:16, ... */
export function deviceNumbers(devices: readonly DeviceSpec[]): number[] {
  let nvmeIndex = 0;
  let sdIndex = 0;
  return devices.map((d) => (d.kind === 'nvme' ? mkdev(NVME_MAJOR, nvmeIndex++) : mkdev(SD_MAJOR, 16 * sdIndex++)));
}

/**
 * fio's layout phase: create the jobs' files before the run (cold: nothing of them in the page
 * cache). fio writes a file a job will read; kiotrace puts it on the simulated disk at boot instead,
 * costing no simulated time. Raw devices need nothing, and create_on_open leaves it to the job.
 */
export function layoutJobFiles(m: Machine, jobs: readonly JobSpec[]): LayoutReport[] {
  const laidOut: LayoutReport[] = [];
  for (const j of jobs) {
    if (j.createOnOpen) continue;
    const reads = j.rw !== 'write' && j.rw !== 'randwrite';
    const how: LayoutReport['how'] = reads || j.overwrite ? 'prefilled' : j.fallocate === 'none' || j.fallocate === 'truncate' ? 'sparse' : 'preallocated';
    let files = 0;
    let bytes = 0;
    for (const path of [...j.files, ...j.cloneFiles.flat()]) {
      if (path.startsWith('/dev/')) continue;
      // a file on a network mount is the server's: its machine lays it out
      if (m.k.vfs.remoteMounts.length > 0 && m.k.vfs.remoteFor(path)) continue;
      const r = m.k.vfs.resolve(path);
      if (!r) throw new Error(`${path}: not on a mounted filesystem`);
      if (r.fs.inodes.has(r.fsPath)) continue; // the first job naming a file creates it
      if (how === 'sparse') {
        r.fs.createSparseFile(r.fsPath, j.fileSizeBytes, path);
      } else {
        const inode = r.fs.createFile(r.fsPath, j.fileSizeBytes, path);
        // fallocate=keep (FALLOC_FL_KEEP_SIZE): blocks reserved past an unchanged size of 0
        if (how === 'preallocated' && j.fallocate === 'keep') inode.sizeBytes = 0;
      }
      files++;
      bytes += j.fileSizeBytes;
    }
    if (files > 0) laidOut.push({ job: j.name, files, bytes, how });
  }
  m.layout = [...m.layout, ...laidOut];
  return laidOut;
}
