// The trace recorder (ARCHITECTURE §6): attaches to the probe sites and turns their hits into a
// timeline for a writer such as the Perfetto exporter: thread slices nested by layer, one track per
// in-flight device request, interrupt slices per CPU, counters, scheduler events in ftrace's own
// terms, and flows that follow one ioId from its submission to the device, the interrupt that
// completed it and the task it woke.

import type { Machine, ProbeHit, Request, TaskInfo, TcpSock } from '../core/index.js';
import { attach } from './attach.js';

export interface TimelineAnnotation {
  readonly name: string;
  readonly value: number | string;
}

export type CounterUnit = 'count' | 'bytes';

/** What a timeline writer implements (an ops table: the recorder never knows the file format). */
export interface TimelineSink {
  start(info: TimelineStart): void;
  /** Processes and threads that now exist (sent again for tasks that appear later). */
  processes(tsNs: number, tasks: readonly TaskInfo[]): void;
  defineThreadTrack(trackId: number, pid: number, tid: number, name: string): void;
  /** A plain track (a group when nothing is written on it) or a counter track. */
  defineTrack(trackId: number, name: string, parentTrackId: number | undefined, counterUnit?: CounterUnit): void;
  sliceBegin(trackId: number, tsNs: number, name: string, category: string, annotations?: readonly TimelineAnnotation[], flowIds?: readonly number[]): void;
  sliceEnd(trackId: number, tsNs: number, annotations?: readonly TimelineAnnotation[], flowIds?: readonly number[], terminatingFlowIds?: readonly number[]): void;
  instant(trackId: number, tsNs: number, name: string, category: string, annotations?: readonly TimelineAnnotation[], terminatingFlowIds?: readonly number[]): void;
  counter(trackId: number, tsNs: number, value: number): void;
  /** sched:sched_switch as ftrace records it; `commonPid` is the task the event fired in (prev). */
  schedSwitch(cpu: number, tsNs: number, prevComm: string, prevPid: number, prevPrio: number, prevState: number, nextComm: string, nextPid: number, nextPrio: number): void;
  schedWaking(cpu: number, tsNs: number, commonPid: number, comm: string, pid: number, prio: number, targetCpu: number): void;
  /** irq:irq_handler_entry/exit and irq:softirq_entry/exit as ftrace records them (`vec` for softirqs). */
  irqHandler(cpu: number, tsNs: number, commonPid: number, entry: boolean, irq: number, name: string, ret: number): void;
  softirq(cpu: number, tsNs: number, commonPid: number, entry: boolean, vec: number): void;
  finish(endNs: number): void;
}

export interface TimelineStart {
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly pageSizeBytes: number;
  /** uname -r of the simulated kernel; trace viewers decode sched states by it. */
  readonly kernelRelease: string;
  readonly machineName: string;
}

/** The kernel version the simulator follows (the tracepoint formats are 6.18's). */
export const SIMULATED_KERNEL_RELEASE = '6.18.0-kiotrace';

/** The arg of a slice still open when the run ended: it ends at the end of the run, not of its work. */
export const UNFINISHED: readonly TimelineAnnotation[] = [{ name: 'unfinished', value: 'run ended first' }];

/** Modeled functions drawn as thread slices, with the layer each belongs to. */
const FUNCTION_LAYERS: Readonly<Record<string, string>> = {
  vfs_read: 'vfs',
  vfs_write: 'vfs',
  vfs_open: 'vfs',
  vfs_create: 'vfs',
  vfs_fsync: 'vfs',
  vfs_fsync_range: 'vfs',
  vfs_llseek: 'vfs',
  ext4_file_read_iter: 'fs',
  ext4_file_write_iter: 'fs',
  ext4_sync_file: 'fs',
  filemap_read: 'pagecache',
  filemap_fault: 'pagecache',
  page_cache_sync_ra: 'readahead',
  page_cache_async_ra: 'readahead',
  handle_mm_fault: 'mm',
  submit_bio: 'block',
  tcp_sendmsg: 'net',
  tcp_recvmsg: 'net',
  nvme_queue_rq: 'driver',
  do_nanosleep: 'sched',
};

const SOFTIRQ_NAMES = ['HI', 'TIMER', 'NET_TX', 'NET_RX', 'BLOCK', 'IRQ_POLL', 'TASKLET', 'SCHED', 'HRTIMER', 'RCU'];

/** How often the gauges (memory, run queues) are looked at; only changes are written. */
const GAUGE_PERIOD_NS = 100_000;
const PAGE_SIZE_BYTES = 4096;

/** One open interrupt-context slice on a CPU, and the I/Os it completed. */
interface IrqFrame {
  readonly completed: number[];
  readonly woke: Set<number>;
  /** What ftrace's exit event needs if the run ends inside it: the softirq vector, else the irq. */
  readonly softirqVec: number;
  readonly irq: number;
  readonly tid: number;
}

/** One ioId's arrow chain: how many of its requests are in flight, where it started. */
interface FlowState {
  inflight: number;
  sightings: number;
  readonly startTrackId: number;
}

/** A request on its device track. */
interface InFlight {
  readonly trackId: number;
  readonly slot: number;
  readonly dev: number;
}

interface DeviceTracks {
  readonly name: string;
  readonly groupTrackId: number;
  readonly depthTrackId: number;
  readonly slotTrackIds: number[];
  readonly freeSlots: number[];
  inflight: number;
}

type BlockRequest = Request & { readonly dev: number };

/** One TCP connection's counter tracks. */
interface TcpTracks {
  readonly sndWnd: number;
  readonly rcvWnd: number;
  readonly cwnd: number;
  readonly sendQueue: number;
  readonly sndbuf: number;
  readonly recvQueue: number;
  readonly rcvbuf: number;
  readonly freeWindow: number;
}

export class TraceRecorder {
  private nextTrackId = 1;
  private readonly threadTracks = new Map<number, number>();
  /** Per tid: names of the open slices on its track, innermost last. */
  private readonly threadStacks = new Map<number, string[]>();
  private readonly knownPids = new Set<number>();
  private readonly irqStacks: IrqFrame[][] = [];
  private readonly irqTrackIds: number[] = [];
  private readonly devices = new Map<number, DeviceTracks>();
  private readonly inFlight = new Map<BlockRequest, InFlight>();
  private readonly flows = new Map<number, FlowState>();
  /** tid -> the ioId whose completion woke it, until it next runs. */
  private readonly wokenBy = new Map<number, number>();
  /** tid -> the fault chain seen at set_pte, written on the fault slice's end. */
  private readonly faultChains = new Map<number, TimelineAnnotation[]>();
  private readonly gaugeTracks: { dirty: number; writeback: number; cache: number; free: number; runQueues: number[] };
  private readonly lastGauge = new Map<number, number>();
  /** Per TCP connection (by its sock), its window, cwnd and buffer counter tracks, made on first sight. */
  private readonly tcpTracks = new Map<TcpSock, TcpTracks>();
  private tcpGroupTrackId: number | undefined;
  /** tid -> the sock its tcp_sendmsg / tcp_recvmsg is in, for the gauges at the return. */
  private readonly tcpCallSocks = new Map<number, TcpSock>();
  /** Per CPU, the sock of the __tcp_select_window in progress (its kretprobe has no arguments). */
  private readonly selectingSocks: (TcpSock | undefined)[] = [];
  /** Per CPU, its frequency counter track (kHz): only when cpufreq scales the CPUs. */
  private readonly freqTrackIds: number[] = [];
  private nextGaugeNs = 0;
  private readonly memGroupTrackId: number;
  /** balance_dirty_pages' limit and setpoint, made when it first runs. */
  private dirtyLimitTracks: { readonly limit: number; readonly setpoint: number } | undefined;
  /** Writers asleep in balance_dirty_pages (their slice ends when they run again). */
  private readonly dirtyPaused = new Set<number>();
  private detach: (() => void) | undefined;

  constructor(
    private readonly m: Machine,
    private readonly sink: TimelineSink,
  ) {
    const cpus = m.spec.cpus;
    sink.start({
      cpus,
      memoryBytes: m.spec.memoryBytes,
      pageSizeBytes: PAGE_SIZE_BYTES,
      kernelRelease: SIMULATED_KERNEL_RELEASE,
      machineName: 'kiotrace',
    });
    const now = m.env.nowNs;
    const tasks = m.tasks();
    for (const t of tasks) this.knownPids.add(t.pid);
    sink.processes(now, tasks);

    const devicesGroup = this.track('Block devices', undefined);
    for (const d of m.devices) {
      const groupTrackId = this.track(d.name, devicesGroup);
      const depthTrackId = this.track(`${d.name} queue depth`, groupTrackId, 'count');
      this.devices.set(d.q.dev, { name: d.name, groupTrackId, depthTrackId, slotTrackIds: [], freeSlots: [], inflight: 0 });
    }
    const cpuGroup = this.track('CPUs', undefined);
    const runQueues: number[] = [];
    for (let c = 0; c < cpus; c++) {
      this.irqTrackIds.push(this.track(`CPU ${c} interrupts`, cpuGroup));
      this.irqStacks.push([]);
    }
    for (let c = 0; c < cpus; c++) runQueues.push(this.track(`CPU ${c} run queue`, cpuGroup, 'count'));
    const cpufreq = m.k.power.cpufreq;
    if (cpufreq !== undefined) {
      for (let c = 0; c < cpus; c++) {
        this.freqTrackIds.push(this.track(`CPU ${c} frequency (kHz)`, cpuGroup, 'count'));
        this.emitCounter(this.freqTrackIds[c]!, now, cpufreq.policies[c]!.curKhz);
      }
    }
    const memGroup = this.track('Memory', undefined);
    this.memGroupTrackId = memGroup;
    this.gaugeTracks = {
      dirty: this.track('Dirty', memGroup, 'bytes'),
      writeback: this.track('Writeback', memGroup, 'bytes'),
      cache: this.track('Page cache', memGroup, 'bytes'),
      free: this.track('Free memory', memGroup, 'bytes'),
      runQueues,
    };
    for (const d of this.devices.values()) this.emitCounter(d.depthTrackId, now, 0);
    this.sampleGauges(now);
  }

  /** Attaches to every site the timeline needs. */
  start(): void {
    const m = this.m;
    const detachers: (() => void)[] = [];
    const on = (spec: string, handler: (hit: ProbeHit) => void): void => {
      detachers.push(attach(m, spec, handler));
    };
    on('tracepoint:syscalls:sys_enter_*', (h) => this.syscallEnter(h));
    on('tracepoint:syscalls:sys_exit_*', (h) => this.syscallExit(h));
    for (const fn of Object.keys(FUNCTION_LAYERS)) {
      if (!m.k.registry.get(`kprobe:${fn}`)) continue;
      const layer = FUNCTION_LAYERS[fn]!;
      on(`kprobe:${fn}`, (h) => this.functionEnter(h, fn, layer));
      on(`kretprobe:${fn}`, (h) => this.functionReturn(h, fn));
    }
    on('tracepoint:exceptions:page_fault_user', (h) => this.faultEnter(h));
    on('tracepoint:kiotrace:set_pte', (h) => this.setPte(h));
    on('tracepoint:ext4:ext4_ext_map_blocks_enter', (h) => this.functionEnter(h, 'ext4_ext_map_blocks', 'fs'));
    on('tracepoint:ext4:ext4_ext_map_blocks_exit', (h) => this.functionReturn(h, 'ext4_ext_map_blocks'));
    on('tracepoint:block:block_rq_issue', (h) => this.requestIssue(h));
    on('tracepoint:block:block_rq_complete', (h) => this.requestDone(h, true));
    on('tracepoint:block:block_rq_requeue', (h) => this.requestDone(h, false));
    // interrupts twice: in ftrace's own format (the viewer's per-CPU IRQ rows), and as slices on
    // a per-CPU track, because only track-event slices can be the ends of arrows
    on('tracepoint:irq:irq_handler_entry', (h) => {
      this.sink.irqHandler(h.cpu, h.timeNs, h.tid, true, Number(h.fields.irq), String(h.fields.name), 0);
      this.irqEnter(h, `irq/${String(h.fields.irq)} ${String(h.fields.name)}`, -1, Number(h.fields.irq));
    });
    on('tracepoint:irq:irq_handler_exit', (h) => {
      this.sink.irqHandler(h.cpu, h.timeNs, h.tid, false, Number(h.fields.irq), '', Number(h.fields.ret));
      this.irqExit(h);
    });
    on('tracepoint:irq:softirq_entry', (h) => {
      this.sink.softirq(h.cpu, h.timeNs, h.tid, true, Number(h.fields.vec));
      this.irqEnter(h, `softirq ${SOFTIRQ_NAMES[Number(h.fields.vec)] ?? String(h.fields.vec)}`, Number(h.fields.vec), -1);
    });
    on('tracepoint:irq:softirq_exit', (h) => {
      this.sink.softirq(h.cpu, h.timeNs, h.tid, false, Number(h.fields.vec));
      this.irqExit(h);
    });
    on('tracepoint:sched:sched_switch', (h) => this.schedSwitch(h));
    if (this.freqTrackIds.length > 0) on('tracepoint:power:cpu_frequency', (h) => this.emitCounter(this.freqTrackIds[Number(h.fields.cpu_id)]!, h.timeNs, Number(h.fields.state)));
    on('tracepoint:sched:sched_waking', (h) => this.schedWaking(h));
    on('tracepoint:writeback:balance_dirty_pages', (h) => this.dirtyThrottle(h));
    if (m.k.registry.get('tracepoint:tcp:tcp_probe')) {
      on('tracepoint:tcp:tcp_probe', (h) => this.tcpProbe(h));
      for (const fn of ['tcp_sendmsg', 'tcp_recvmsg']) {
        on(`kprobe:${fn}`, (h) => this.tcpCallEnter(h));
        on(`kretprobe:${fn}`, (h) => this.tcpCallReturn(h));
      }
      on('kprobe:__tcp_select_window', (h) => {
        this.selectingSocks[h.cpu] = h.args[0] as TcpSock;
      });
      on('kretprobe:__tcp_select_window', (h) => this.tcpSelectWindowReturn(h));
    }
    on('tracepoint:sched:sched_process_fork', (h) => this.newTasks(h.timeNs));
    on('tracepoint:sched:sched_process_exec', (h) => this.newTasks(h.timeNs));
    this.detach = () => {
      for (const d of detachers) d();
    };
  }

  /**
   * Detaches, closes whatever is still open at `endNs` (so every slice is balanced) and finishes.
   * A slice the end of the run cut short says so in its args (UNFINISHED), so its length is not
   * read as the work's.
   */
  stop(endNs: number): void {
    this.detach?.();
    this.detach = undefined;
    for (const [tid, stack] of this.threadStacks) {
      const trackId = this.threadTracks.get(tid)!;
      while (stack.length > 0) {
        stack.pop();
        this.sink.sliceEnd(trackId, endNs, UNFINISHED);
      }
    }
    for (let c = 0; c < this.irqStacks.length; c++) {
      const stack = this.irqStacks[c]!;
      while (stack.length > 0) {
        const f = stack.pop()!;
        this.sink.sliceEnd(this.irqTrackIds[c]!, endNs, UNFINISHED);
        // the run ended inside a handler: its ftrace exit, so the CPU's IRQ rows are balanced
        if (f.softirqVec >= 0) this.sink.softirq(c, endNs, f.tid, false, f.softirqVec);
        else this.sink.irqHandler(c, endNs, f.tid, false, f.irq, '', 0);
      }
    }
    for (const f of this.inFlight.values()) this.sink.sliceEnd(f.trackId, endNs, UNFINISHED);
    this.inFlight.clear();
    // an arrow needs two ends: a chain seen only once (submitted, never issued) ends where it began
    for (const [ioId, st] of this.flows) {
      if (st.sightings === 1) this.sink.instant(st.startTrackId, endNs, 'in flight at end of trace', 'block', [{ name: 'ioid', value: ioId }], [ioId]);
    }
    this.flows.clear();
    for (const d of this.devices.values()) this.emitCounter(d.depthTrackId, endNs, d.inflight);
    this.sink.finish(endNs);
  }

  // ---- tracks -------------------------------------------------------------------------------

  private track(name: string, parent: number | undefined, unit?: CounterUnit): number {
    const id = this.nextTrackId++;
    this.sink.defineTrack(id, name, parent, unit);
    return id;
  }

  private threadTrack(tid: number, pid: number, comm: string, tsNs: number): number {
    let id = this.threadTracks.get(tid);
    if (id === undefined) {
      if (!this.knownPids.has(pid)) this.newTasks(tsNs);
      id = this.nextTrackId++;
      this.sink.defineThreadTrack(id, pid, tid, comm);
      this.threadTracks.set(tid, id);
      this.threadStacks.set(tid, []);
    }
    return id;
  }

  private newTasks(tsNs: number): void {
    const fresh = this.m.tasks().filter((t) => !this.knownPids.has(t.pid));
    if (fresh.length === 0) return;
    for (const t of fresh) this.knownPids.add(t.pid);
    this.sink.processes(tsNs, fresh);
  }

  private inInterrupt(cpu: number): boolean {
    return (this.irqStacks[cpu]?.length ?? 0) > 0;
  }

  // ---- process context: syscalls, faults, kernel functions --------------------------------

  private syscallEnter(h: ProbeHit): void {
    this.tick(h.timeNs);
    if (h.tid === 0 || this.inInterrupt(h.cpu)) return;
    const name = h.site.fullName.slice('tracepoint:syscalls:sys_enter_'.length);
    this.pushThreadSlice(h, name, 'syscall', [{ name: 'ioid', value: h.ioId }]);
  }

  private syscallExit(h: ProbeHit): void {
    this.tick(h.timeNs);
    if (h.tid === 0 || this.inInterrupt(h.cpu)) return;
    const name = h.site.fullName.slice('tracepoint:syscalls:sys_exit_'.length);
    this.popThreadSlice(h, name, [{ name: 'ret', value: Number(h.fields.ret) }]);
  }

  private functionEnter(h: ProbeHit, fn: string, layer: string): void {
    this.tick(h.timeNs);
    if (h.tid === 0 || this.inInterrupt(h.cpu)) return;
    let flowIds: number[] | undefined;
    if (fn === 'submit_bio' && h.ioId !== 0) {
      // the arrow chain of this I/O starts where it enters the block layer (a later bio steps on);
      // the driver may issue the request before submit_bio returns, so not at the return
      const trackId = this.threadTrack(h.tid, h.pid, h.comm, h.timeNs);
      const st = this.flows.get(h.ioId);
      if (st) st.sightings++;
      else this.flows.set(h.ioId, { inflight: 0, sightings: 1, startTrackId: trackId });
      flowIds = [h.ioId];
    }
    this.pushThreadSlice(h, fn, layer, undefined, flowIds);
  }

  private functionReturn(h: ProbeHit, fn: string): void {
    this.tick(h.timeNs);
    if (h.tid === 0 || this.inInterrupt(h.cpu)) return;
    this.popThreadSlice(h, fn);
    if (fn === 'handle_mm_fault') {
      // the fault ends when its handler returns; its chain is known by then
      this.popThreadSlice(h, 'page_fault', this.faultChains.get(h.tid));
      this.faultChains.delete(h.tid);
    }
  }

  private faultEnter(h: ProbeHit): void {
    this.tick(h.timeNs);
    if (h.tid === 0 || this.inInterrupt(h.cpu)) return;
    this.pushThreadSlice(h, 'page_fault', 'fault', [
      { name: 'ioid', value: h.ioId },
      { name: 'va', value: Number(h.fields.address) },
    ]);
  }

  private setPte(h: ProbeHit): void {
    const f = h.fields;
    this.faultChains.set(h.tid, [
      { name: 'vpn', value: Number(f.vpn) },
      { name: 'inode', value: Number(f.i_ino) },
      { name: 'pgoff', value: Number(f.pgoff) },
      { name: 'block', value: Number(f.block) },
      { name: 'sector', value: Number(f.sector) },
      { name: 'pfn', value: Number(f.pfn) },
      { name: 'major', value: Number(f.major) },
    ]);
  }

  private pushThreadSlice(h: ProbeHit, name: string, category: string, annotations?: readonly TimelineAnnotation[], flowIds?: readonly number[]): void {
    const trackId = this.threadTrack(h.tid, h.pid, h.comm, h.timeNs);
    this.threadStacks.get(h.tid)!.push(name);
    this.sink.sliceBegin(trackId, h.timeNs, name, category, annotations, flowIds);
  }

  /** Closes `name` on the hit's thread, and anything left open inside it (a return never seen). */
  private popThreadSlice(h: ProbeHit, name: string, annotations?: readonly TimelineAnnotation[]): void {
    this.popThreadSliceAt(h.tid, h.timeNs, name, annotations);
  }

  private popThreadSliceAt(tid: number, tsNs: number, name: string, annotations?: readonly TimelineAnnotation[]): void {
    const stack = this.threadStacks.get(tid);
    if (!stack) return;
    const at = stack.lastIndexOf(name);
    if (at < 0) return;
    const trackId = this.threadTracks.get(tid)!;
    while (stack.length > at + 1) {
      stack.pop();
      this.sink.sliceEnd(trackId, tsNs);
    }
    stack.pop();
    this.sink.sliceEnd(trackId, tsNs, annotations);
  }

  /**
   * writeback:balance_dirty_pages with a pause: the writer sleeps from here until it is switched
   * back in, drawn as a balance_dirty_pages slice inside its write(); the limit and setpoint the
   * control law used go on counter tracks beside Dirty.
   */
  private dirtyThrottle(h: ProbeHit): void {
    this.tick(h.timeNs);
    const f = h.fields;
    this.dirtyLimitTracks ??= {
      limit: this.track('Dirty limit (balance_dirty_pages)', this.memGroupTrackId, 'bytes'),
      setpoint: this.track('Dirty setpoint (balance_dirty_pages)', this.memGroupTrackId, 'bytes'),
    };
    this.emitCounter(this.dirtyLimitTracks.limit, h.timeNs, Number(f.limit) * PAGE_SIZE_BYTES);
    this.emitCounter(this.dirtyLimitTracks.setpoint, h.timeNs, Number(f.setpoint) * PAGE_SIZE_BYTES);
    const pauseMs = Number(f.pause);
    if (pauseMs <= 0 || h.tid === 0 || this.inInterrupt(h.cpu)) return;
    this.pushThreadSlice(h, 'balance_dirty_pages', 'writeback', [
      { name: 'pause_ms', value: pauseMs },
      { name: 'dirty_bytes', value: Number(f.dirty) * PAGE_SIZE_BYTES },
      { name: 'limit_bytes', value: Number(f.limit) * PAGE_SIZE_BYTES },
    ]);
    this.dirtyPaused.add(h.tid);
  }

  // ---- the block device: one track per request in flight -----------------------------------

  private requestIssue(h: ProbeHit): void {
    this.tick(h.timeNs);
    const rq = h.args[0] as BlockRequest;
    const dev = this.devices.get(rq.dev);
    if (!dev) return;
    if (this.inFlight.has(rq)) this.requestDone(h, false);
    let slot = dev.freeSlots.pop();
    if (slot === undefined) {
      slot = dev.slotTrackIds.length;
      dev.slotTrackIds.push(this.track(`${dev.name} requests`, dev.groupTrackId));
    }
    const trackId = dev.slotTrackIds[slot]!;
    this.inFlight.set(rq, { trackId, slot, dev: rq.dev });
    const ioIds: number[] = [];
    for (const bio of rq.bios) {
      if (bio.ioId !== 0 && !ioIds.includes(bio.ioId)) ioIds.push(bio.ioId);
    }
    for (const ioId of ioIds) {
      const st = this.flows.get(ioId);
      if (st) {
        st.inflight++;
        st.sightings++;
      } else this.flows.set(ioId, { inflight: 1, sightings: 1, startTrackId: trackId });
    }
    const f = h.fields;
    this.sink.sliceBegin(
      trackId,
      h.timeNs,
      String(f.rwbs),
      'block',
      [
        { name: 'ioid', value: ioIds[0] ?? 0 },
        { name: 'bios', value: rq.bios.length },
        { name: 'sector', value: Number(f.sector) },
        { name: 'bytes', value: Number(f.bytes) },
        { name: 'tag', value: rq.tag },
        { name: 'queue_depth', value: dev.inflight + 1 },
      ],
      ioIds,
    );
    dev.inflight++;
    this.emitCounter(dev.depthTrackId, h.timeNs, dev.inflight);
  }

  private requestDone(h: ProbeHit, completed: boolean): void {
    this.tick(h.timeNs);
    const rq = h.args[0] as BlockRequest;
    const f = this.inFlight.get(rq);
    if (!f) return;
    this.inFlight.delete(rq);
    const dev = this.devices.get(f.dev)!;
    dev.freeSlots.push(f.slot);
    dev.freeSlots.sort((a, b) => b - a);
    dev.inflight--;
    this.sink.sliceEnd(f.trackId, h.timeNs, completed ? [{ name: 'error', value: Number(h.fields.error) }] : [{ name: 'requeued', value: 1 }]);
    this.emitCounter(dev.depthTrackId, h.timeNs, dev.inflight);
    if (!completed) return;
    const frame = this.irqStacks[h.cpu]?.at(-1);
    for (const bio of rq.bios) {
      const st = bio.ioId !== 0 ? this.flows.get(bio.ioId) : undefined;
      if (!st) continue;
      st.inflight--;
      if (frame) {
        if (!frame.completed.includes(bio.ioId)) frame.completed.push(bio.ioId);
      } else if (st.inflight <= 0) {
        // completed in process context (polling): the chain ends on the device slice's track
        this.sink.instant(f.trackId, h.timeNs, 'completed', 'block', undefined, [bio.ioId]);
        this.flows.delete(bio.ioId);
      }
    }
  }

  // ---- interrupt context ------------------------------------------------------------------

  private irqEnter(h: ProbeHit, name: string, softirqVec: number, irq: number): void {
    this.tick(h.timeNs);
    const stack = this.irqStacks[h.cpu];
    if (!stack) return;
    stack.push({ completed: [], woke: new Set(), softirqVec, irq, tid: h.tid });
    this.sink.sliceBegin(this.irqTrackIds[h.cpu]!, h.timeNs, name, 'irq');
  }

  private irqExit(h: ProbeHit): void {
    this.tick(h.timeNs);
    const frame = this.irqStacks[h.cpu]?.pop();
    if (!frame) return;
    let steps: number[] | undefined;
    let ends: number[] | undefined;
    for (const ioId of frame.completed) {
      const st = this.flows.get(ioId);
      if (!st) continue;
      st.sightings++;
      if (frame.woke.has(ioId) || st.inflight > 0) (steps ??= []).push(ioId);
      else {
        (ends ??= []).push(ioId);
        this.flows.delete(ioId);
      }
    }
    this.sink.sliceEnd(this.irqTrackIds[h.cpu]!, h.timeNs, undefined, steps, ends);
  }

  // ---- the scheduler ------------------------------------------------------------------------

  private schedWaking(h: ProbeHit): void {
    this.tick(h.timeNs);
    const f = h.fields;
    const pid = Number(f.pid);
    this.sink.schedWaking(h.cpu, h.timeNs, h.tid, String(f.comm), pid, Number(f.prio), Number(f.target_cpu));
    const frame = this.irqStacks[h.cpu]?.at(-1);
    if (frame && h.ioId !== 0 && frame.completed.includes(h.ioId)) {
      frame.woke.add(h.ioId);
      this.wokenBy.set(pid, h.ioId);
    }
  }

  private schedSwitch(h: ProbeHit): void {
    this.tick(h.timeNs);
    const f = h.fields;
    const nextPid = Number(f.next_pid);
    // a writer balance_dirty_pages put to sleep runs again: its pause is over
    if (this.dirtyPaused.delete(nextPid)) this.popThreadSliceAt(nextPid, h.timeNs, 'balance_dirty_pages');
    const nextComm = String(f.next_comm);
    this.sink.schedSwitch(h.cpu, h.timeNs, String(f.prev_comm), Number(f.prev_pid), Number(f.prev_prio), Number(f.prev_state), nextComm, nextPid, Number(f.next_prio));
    const ioId = this.wokenBy.get(nextPid);
    if (ioId === undefined) return;
    this.wokenBy.delete(nextPid);
    const st = this.flows.get(ioId);
    if (!st) return;
    // back on a CPU: the last arrow of the chain lands on the woken task
    const trackId = this.threadTrack(nextPid, nextPid, nextComm, h.timeNs);
    this.sink.instant(trackId, h.timeNs, 'woken by I/O completion', 'sched', [{ name: 'ioid', value: ioId }], [ioId]);
    this.flows.delete(ioId);
  }

  // ---- counters ---------------------------------------------------------------------------

  /** Every hit is a chance to look at the gauges: no extra simulator events, and no change, no write. */
  private tick(nowNs: number): void {
    if (nowNs >= this.nextGaugeNs) this.sampleGauges(nowNs);
  }

  private sampleGauges(nowNs: number): void {
    this.nextGaugeNs = nowNs + GAUGE_PERIOD_NS;
    const g = this.m.gauges();
    const t = this.gaugeTracks;
    this.emitCounter(t.dirty, nowNs, g.dirtyPages * PAGE_SIZE_BYTES);
    this.emitCounter(t.writeback, nowNs, g.writebackPages * PAGE_SIZE_BYTES);
    this.emitCounter(t.cache, nowNs, g.pageCachePages * PAGE_SIZE_BYTES);
    this.emitCounter(t.free, nowNs, g.freePages * PAGE_SIZE_BYTES);
    for (let c = 0; c < t.runQueues.length; c++) this.emitCounter(t.runQueues[c]!, nowNs, g.runQueueLengths[c] ?? 0);
  }

  /** A connection's counter tracks, made the first time it is seen. */
  private tcpTracksOf(tp: TcpSock): TcpTracks {
    let t = this.tcpTracks.get(tp);
    if (t === undefined) {
      this.tcpGroupTrackId ??= this.track('TCP connections', undefined);
      const name = `TCP :${tp.num} -> :${tp.dport}`;
      const g = this.tcpGroupTrackId;
      t = {
        sndWnd: this.track(`${name} snd_wnd (peer's window)`, g, 'bytes'),
        rcvWnd: this.track(`${name} rcv_wnd (our window)`, g, 'bytes'),
        cwnd: this.track(`${name} cwnd`, g, 'count'),
        sendQueue: this.track(`${name} send queue (sk_wmem_queued)`, g, 'bytes'),
        sndbuf: this.track(`${name} sk_sndbuf`, g, 'bytes'),
        recvQueue: this.track(`${name} receive queue (sk_rmem_alloc)`, g, 'bytes'),
        rcvbuf: this.track(`${name} sk_rcvbuf`, g, 'bytes'),
        freeWindow: this.track(`${name} free receive window (__tcp_select_window)`, g, 'bytes'),
      };
      this.tcpTracks.set(tp, t);
    }
    return t;
  }

  /**
   * A connection's buffers: the send queue against sk_sndbuf (full: send() blocks or gets EAGAIN)
   * and the receive queue against sk_rcvbuf (full: the window offered closes).
   */
  private tcpBuffers(tp: TcpSock, nowNs: number): void {
    const t = this.tcpTracksOf(tp);
    this.emitCounter(t.sendQueue, nowNs, tp.wmemQueued);
    this.emitCounter(t.sndbuf, nowNs, tp.sndbuf);
    this.emitCounter(t.recvQueue, nowNs, tp.rmemAlloc);
    this.emitCounter(t.rcvbuf, nowNs, tp.rcvbuf);
  }

  /**
   * tcp:tcp_probe (a segment arrived on an established connection): the window the peer offers
   * (snd_wnd), the one this side offers (rcv_wnd) and cwnd; and the buffers.
   */
  private tcpProbe(h: ProbeHit): void {
    const tp = h.args[0] as TcpSock;
    const t = this.tcpTracksOf(tp);
    this.emitCounter(t.sndWnd, h.timeNs, tp.sndWnd);
    this.emitCounter(t.rcvWnd, h.timeNs, tp.rcvWnd);
    this.emitCounter(t.cwnd, h.timeNs, tp.sndCwnd);
    this.tcpBuffers(tp, h.timeNs);
  }

  /** tcp_sendmsg / tcp_recvmsg: the buffers before and after a task queues or takes data. */
  private tcpCallEnter(h: ProbeHit): void {
    const tp = h.args[0] as TcpSock;
    this.tcpCallSocks.set(h.tid, tp);
    this.tcpBuffers(tp, h.timeNs);
  }

  private tcpCallReturn(h: ProbeHit): void {
    const tp = this.tcpCallSocks.get(h.tid);
    if (tp === undefined) return;
    this.tcpCallSocks.delete(h.tid);
    this.tcpBuffers(tp, h.timeNs);
  }

  /**
   * __tcp_select_window: the window free receive space allows, as a segment goes out (0 once the
   * receive queue leaves less than one MSS free: the peer is told to stop).
   */
  private tcpSelectWindowReturn(h: ProbeHit): void {
    const tp = this.selectingSocks[h.cpu];
    if (tp === undefined) return;
    this.selectingSocks[h.cpu] = undefined;
    this.emitCounter(this.tcpTracksOf(tp).freeWindow, h.timeNs, h.retval!);
    this.tcpBuffers(tp, h.timeNs);
  }

  private emitCounter(trackId: number, nowNs: number, value: number): void {
    if (this.lastGauge.get(trackId) === value) return;
    this.lastGauge.set(trackId, value);
    this.sink.counter(trackId, nowNs, value);
  }
}
