// Models: kernel/sched/core.c and kernel/sched/fair.c: per-CPU runqueues, try_to_wake_up,
// schedule() with a context-switch cost, time slices and wakeup preemption, and hardirqs that
// preempt whatever the CPU was doing. Tasks consume simulated CPU time in "segments".
// The preemption model (CONFIG_PREEMPT_NONE, _VOLUNTARY, PREEMPT, or preempt= under
// PREEMPT_DYNAMIC) decides where a task running kernel code may lose the CPU: NONE only where it
// blocks, returns to user space or calls cond_resched(); VOLUNTARY also at might_resched() (the
// might_sleep() points); FULL anywhere preempt_count is zero (a resched IPI or the interrupt return
// preempts at once). A SCHED_FIFO task runs before every fair task and has no time slice.
// SIMPLIFICATION: fair tasks are CFS-like, all nice 0: pick the lowest vruntime, place woken tasks
// at min_vruntime - latency/2; RT is SCHED_FIFO only (no SCHED_RR, no RT throttling); no periodic
// load balancing (wakeups pick an idle CPU instead, as select_idle_sibling does); without cpuidle
// (core/power/cpuidle.ts) one idle-exit latency stands for every C-state.
// CPU work is given as time at the highest frequency (cycles): a CPU running at f_cur below f_max
// stretches every burn and handler by f_max / f_cur (cpufreq, core/power/cpufreq.ts).
// SIMPLIFICATION: a frequency change applies from the next burn or handler; one already running
// (or its remainder after an interruption) keeps the frequency it started with.
// SIMPLIFICATION: need_resched at return to user space is acted on at the end of the next CPU burn
// the task spends in user mode (Linux checks it on the way out of the kernel).

import { Priority, type Environment } from '../../sim/engine.js';
import { SimBug } from '../../sim/errors.js';
import type { HitContext } from '../../trace/probe.js';
import { SYSCALL_NR, type ProbeSites } from '../../trace/events.js';
import { CONTEXT_SWITCH_NS, IDLE_EXIT_NS, IPI_LATENCY_NS } from '../../hw/cpu.js';
import { MAX_RT_PRIO, PREEMPT, SCHED, SCHED_FIFO, SCHED_NORMAL, Task, TaskState, TASK_REPORT_PREEMPTED, DEFAULT_PRIO, type TaskBody } from './task.js';

/** The kernel's preemption model, as /sys/kernel/debug/sched/preempt names it. */
export const PreemptModel = { NONE: 0, VOLUNTARY: 1, FULL: 2 } as const;
export type PreemptModel = (typeof PreemptModel)[keyof typeof PreemptModel];
/** Names by model, as preempt= on the kernel command line takes them. */
export const PREEMPT_MODEL_NAMES: readonly string[] = ['none', 'voluntary', 'full'];
/**
 * The default: PREEMPT_VOLUNTARY, what distribution kernels (Debian, Ubuntu, Fedora, RHEL) boot
 * with (PREEMPT_DYNAMIC defaults to it when CONFIG_PREEMPT_VOLUNTARY=y); the Kconfig default
 * itself is PREEMPT_NONE.
 */
export const DEFAULT_PREEMPT_MODEL: PreemptModel = PreemptModel.VOLUNTARY;

/** sysctl_sched_base_slice since 6.15 (0.70 ms) scaled by 1 + ilog2(min(ncpus, 8)). */
export function baseSliceNs(nrCpus: number): number {
  return 700_000 * (1 + Math.floor(Math.log2(Math.min(Math.max(nrCpus, 1), 8))));
}

/** Wakeup preemption granularity (sysctl_sched_wakeup_granularity 1 ms, scaled like the slice). */
export function wakeupGranNs(nrCpus: number): number {
  return 1_000_000 * (1 + Math.floor(Math.log2(Math.min(Math.max(nrCpus, 1), 8))));
}

/** An interrupt waiting for, or running on, a CPU. */
export interface IrqWork {
  readonly irq: number;
  readonly name: string;
  /** The I/O the interrupt is for (the first one it completes), for the handler tracepoints. */
  ioId: number;
  /** Simulated CPU time the handler takes (entry/exit included). */
  costNs: number;
  /** Runs at the end of the handler's time: completes I/O, wakes tasks. Returns extra CPU ns spent. */
  handler: (cpu: Cpu) => number;
}

/** A softirq vector raised on a CPU (irq_stat's pending bits, with the work attached). */
export interface SoftirqWork {
  readonly vec: number;
  ioId: number;
  costNs: number;
  handler: (cpu: Cpu) => number;
}

export const SOFTIRQ = { HI: 0, TIMER: 1, NET_TX: 2, NET_RX: 3, BLOCK: 4, IRQ_POLL: 5, TASKLET: 6, SCHED: 7, HRTIMER: 8, RCU: 9 } as const;

/** The idle loop's hooks into cpuidle (core/power/): a CPU goes idle; a CPU wakes and pays the exit latency. */
export interface IdleOps {
  enter(cpu: Cpu): void;
  /** Returns the wake-up latency (0 when the CPU was not in an idle state). */
  exit(cpu: Cpu): number;
}

/** cpufreq_update_util's flags: SCHED_CPUFREQ_IOWAIT (a task woken from io_schedule()). */
export const SCHED_CPUFREQ_IOWAIT = 1;

/** The scheduler's hook into cpufreq (cpufreq_update_util): called when the CPU's load changes. */
export interface FreqOps {
  update(cpu: Cpu, flags: number): void;
}

/** One CPU: its runqueue, what runs on it now, and its interrupt state. */
export class Cpu implements HitContext {
  current: Task;
  readonly rq: Task[] = [];
  minVruntimeNs = 0;
  /** A task segment is consuming CPU until segEndNs. */
  segActive = false;
  segStartNs = 0;
  segEndNs = 0;
  /** Bumped to invalidate a scheduled segment end (lazy cancel). */
  segGen = 0;
  needResched = false;
  sliceEndNs = 0;
  /** Handler running (hardirq or softirq); other interrupts queue behind it (IRQs masked). */
  inIrq = false;
  readonly irqQueue: IrqWork[] = [];
  readonly softirqQueue: SoftirqWork[] = [];
  /** ioId the CPU is working for while in interrupt context (for hits fired from handlers). */
  irqIoId = 0;
  kickPending = false;
  /** A do_softirq for softirqs raised outside interrupt context is scheduled. */
  softirqKickPending = false;
  /** f_max / f_cur: wall time per ns of work given at f_max (1 at f_max, where cpufreq leaves it by default). */
  freqSlowdown = 1;
  /** Accounting. */
  busyNs = 0;
  irqNs = 0;
  irqCount = 0;
  softirqCount = 0;
  private busySinceNs = -1;
  readonly segmentEndFn: (gen: number) => void;
  readonly tickFn: (gen: number) => void;

  constructor(
    readonly id: number,
    readonly idle: Task,
    private readonly env: Environment,
    sched: Scheduler,
  ) {
    this.current = idle;
    idle.onCpu = true;
    this.segmentEndFn = (gen) => sched.segmentEnd(this, gen);
    this.tickFn = (gen) => sched.sliceTick(this, gen);
  }

  get cpuId(): number {
    return this.id;
  }
  get nowNs(): number {
    return this.env.nowNs;
  }
  get pid(): number {
    return this.current.tgid;
  }
  get tid(): number {
    return this.current.pid;
  }
  get comm(): string {
    return this.current.comm;
  }

  /** Utilisation bookkeeping: called whenever the CPU switches between idle and busy. */
  markBusy(busy: boolean): void {
    const now = this.env.nowNs;
    if (busy && this.busySinceNs < 0) this.busySinceNs = now;
    else if (!busy && this.busySinceNs >= 0) {
      this.busyNs += now - this.busySinceNs;
      this.busySinceNs = -1;
    }
  }

  /** Busy time so far, including the current busy stretch. */
  busyTimeNs(): number {
    return this.busyNs + (this.busySinceNs >= 0 ? this.env.nowNs - this.busySinceNs : 0);
  }
}

export interface SchedStats {
  contextSwitches: number;
  wakeups: number;
  migrations: number;
}

/** The scheduler: owns every CPU and moves tasks between running, runnable and sleeping. */
export class Scheduler {
  readonly cpus: Cpu[] = [];
  readonly stats: SchedStats = { contextSwitches: 0, wakeups: 0, migrations: 0 };
  readonly sliceNs: number;
  readonly wakeupGranNs: number;
  /** The CPU whose code is executing right now (for wakeups that come through a WaitQueue). */
  ctxCpu!: Cpu;
  /** cpuidle and power collapse; undefined: one fixed idle-exit latency (IDLE_EXIT_NS). */
  idleOps: IdleOps | undefined;
  /** cpufreq's governor hook; undefined: every CPU stays at f_max. */
  freqOps: FreqOps | undefined;
  /** Called when a task's body returns (exit path). */
  onExit: ((task: Task) => void) | undefined;
  /** The preemption model (set at boot, before any task runs). */
  preemptModel: PreemptModel = DEFAULT_PREEMPT_MODEL;

  constructor(
    private readonly env: Environment,
    private readonly sites: ProbeSites,
    nrCpus: number,
    makeIdle: (cpu: number) => Task,
  ) {
    for (let i = 0; i < nrCpus; i++) this.cpus.push(new Cpu(i, makeIdle(i), env, this));
    this.ctxCpu = this.cpus[0]!;
    this.sliceNs = baseSliceNs(nrCpus);
    this.wakeupGranNs = wakeupGranNs(nrCpus);
  }

  cpu(id: number): Cpu {
    const c = this.cpus[id];
    if (!c) throw new SimBug(`no CPU ${id}`);
    return c;
  }

  /** wake_up_new_task: a freshly forked task becomes runnable on the least busy CPU. */
  wakeUpNewTask(task: Task, body: TaskBody, wakerCpu: Cpu): void {
    task.body = body;
    task.state = TaskState.RUNNING;
    const target = this.selectTaskRq(task, wakerCpu);
    task.cpu = target.id;
    task.vruntimeNs = target.minVruntimeNs;
    if (this.sites.tp.sched_wakeup_new.enabled) this.sites.tp.sched_wakeup_new.emit(wakerCpu, 0, task, target.id);
    this.enqueue(target, task);
    this.afterEnqueue(target, task, wakerCpu);
  }

  /**
   * try_to_wake_up. Safe from any context. A task still on its CPU (it set its state but has not
   * reached schedule() yet) just becomes RUNNING again and will not sleep.
   */
  tryToWakeUp(task: Task, wakerCpu: Cpu, wakerIoId: number): boolean {
    if (task.state === TaskState.RUNNING) return false;
    // the hits belong to the I/O the sleeper waits for; the waker's id only when it has none
    const ioId = task.ioId || wakerIoId;
    const fn = this.sites.fn.try_to_wake_up;
    if (fn.entry.enabled) fn.enter(wakerCpu, ioId, task, task.state, 0);
    if (this.sites.tp.sched_waking.enabled) this.sites.tp.sched_waking.emit(wakerCpu, ioId, task, task.cpu);
    task.state = TaskState.RUNNING;
    this.stats.wakeups++;
    if (task.onCpu || task.onRq) {
      // ttwu_runnable: still on its CPU, or preempted before it could sleep: just runnable again
      if (this.sites.tp.sched_wakeup.enabled) this.sites.tp.sched_wakeup.emit(wakerCpu, ioId, task, task.cpu);
      if (fn.ret.enabled) fn.exit(wakerCpu, ioId, 1);
      return true;
    }
    const target = this.selectTaskRq(task, this.cpu(task.cpu));
    if (target.id !== task.cpu) {
      this.stats.migrations++;
      if (this.sites.tp.sched_migrate_task.enabled) this.sites.tp.sched_migrate_task.emit(wakerCpu, ioId, task, task.cpu, target.id);
      task.cpu = target.id;
    }
    // place_entity: a sleeper gets at most half a latency period of credit
    task.vruntimeNs = Math.max(task.vruntimeNs, target.minVruntimeNs - this.sliceNs / 2);
    task.lastWakeNs = this.env.nowNs;
    this.enqueue(target, task);
    // enqueue_task_fair: a task woken from io_schedule() asks cpufreq for an iowait boost
    if (this.freqOps !== undefined) this.freqOps.update(target, task.inIowait ? SCHED_CPUFREQ_IOWAIT : 0);
    if (this.sites.tp.sched_wakeup.enabled) this.sites.tp.sched_wakeup.emit(wakerCpu, ioId, task, target.id);
    this.afterEnqueue(target, task, wakerCpu);
    if (fn.ret.enabled) fn.exit(wakerCpu, ioId, 1);
    return true;
  }

  /** select_task_rq_fair, simplified: previous CPU if idle, else an idle CPU, else the least loaded. */
  private selectTaskRq(task: Task, prev: Cpu): Cpu {
    if (idleForWakeup(prev)) return prev;
    const n = this.cpus.length;
    for (let i = 1; i <= n; i++) {
      const c = this.cpus[(prev.id + i) % n]!;
      if (idleForWakeup(c)) return c;
    }
    let best = prev;
    for (const c of this.cpus) if (c.rq.length < best.rq.length) best = c;
    void task;
    return best;
  }

  private enqueue(cpu: Cpu, task: Task): void {
    task.onRq = true;
    cpu.rq.push(task);
  }

  /** After a task is queued on `target`: get it running (idle CPU) or consider preempting. */
  private afterEnqueue(target: Cpu, task: Task, wakerCpu: Cpu): void {
    if (target.current === target.idle) {
      if (target.inIrq || target.kickPending) return; // irq exit / pending kick will pick it up
      target.kickPending = true;
      const latencyNs = (this.idleOps === undefined ? IDLE_EXIT_NS : this.idleOps.exit(target)) + (target === wakerCpu ? 0 : IPI_LATENCY_NS);
      this.env.after(latencyNs, Priority.NORMAL, kickIdle, { sched: this, cpu: target });
      return;
    }
    const curr = target.current;
    if (task.policy === SCHED_FIFO) {
      // check_preempt_curr_rt: a higher RT priority (lower prio) preempts; fair tasks always lose
      if (curr.policy !== SCHED_FIFO || task.prio < curr.prio) target.needResched = true;
    } else if (curr.policy === SCHED_NORMAL && curr.vruntimeNs - task.vruntimeNs > this.wakeupGranNs) {
      // check_preempt_wakeup_fair
      target.needResched = true;
    }
    // PREEMPT_FULL: the resched IPI (or the local interrupt return) preempts at once
    if (this.preemptModel === PreemptModel.FULL && target.needResched && target.segActive && !target.inIrq && curr.preemptCount === 0) {
      this.env.after(target === wakerCpu ? 0 : IPI_LATENCY_NS, Priority.NORMAL, target.tickFn, target.segGen);
      return;
    }
    // make sure a long segment does not outlast the current task's slice while others wait
    if (target.segActive && !target.inIrq && target.segEndNs > target.sliceEndNs) {
      this.env.at(Math.max(this.env.nowNs, target.sliceEndNs), Priority.NORMAL, target.tickFn, target.segGen);
    }
  }

  /** Wakes a task from whatever context is running now (a WaitQueue's wake()). */
  wakeFromContext(task: Task): void {
    const cpu = this.ctxCpu;
    this.tryToWakeUp(task, cpu, cpu.inIrq ? cpu.irqIoId : cpu.current.ioId);
  }

  /** @internal the idle CPU wakes up (after IPI + C-state exit) and schedules. */
  kick(cpu: Cpu): void {
    cpu.kickPending = false;
    if (cpu.current !== cpu.idle || cpu.inIrq) return;
    if (cpu.rq.length > 0) this.schedule(cpu, false);
    else if (this.idleOps !== undefined) this.idleOps.enter(cpu);
  }

  /** Starts running `ns` of CPU work for the current task. */
  private startSegment(cpu: Cpu, ns: number): void {
    const now = this.env.nowNs;
    cpu.segActive = true;
    cpu.segStartNs = now;
    cpu.segEndNs = now + Math.max(1, Math.round(ns));
    this.env.at(cpu.segEndNs, Priority.NORMAL, cpu.segmentEndFn, ++cpu.segGen);
  }

  /** Stops the running segment (interrupt or preemption); the rest becomes pending work. */
  private pauseSegment(cpu: Cpu): void {
    if (!cpu.segActive) return;
    const now = this.env.nowNs;
    const t = cpu.current;
    t.pendingBurnNs += cpu.segEndNs - now;
    this.accountRuntime(cpu, t, now - cpu.segStartNs);
    cpu.segActive = false;
    cpu.segGen++;
  }

  private accountRuntime(cpu: Cpu, t: Task, ns: number): void {
    t.sumExecRuntimeNs += ns;
    t.vruntimeNs += ns;
    if (t.vruntimeNs > cpu.minVruntimeNs && cpu.rq.length === 0 && t.policy === SCHED_NORMAL) cpu.minVruntimeNs = t.vruntimeNs;
  }

  /** @internal a segment's scheduled end arrived. */
  segmentEnd(cpu: Cpu, gen: number): void {
    if (gen !== cpu.segGen || !cpu.segActive) return; // stale: the segment was paused or replaced
    const t = cpu.current;
    cpu.segActive = false;
    this.accountRuntime(cpu, t, this.env.nowNs - cpu.segStartNs);
    if (this.shouldPreempt(cpu) && this.preemptible(t)) {
      this.schedule(cpu, true);
      return;
    }
    this.resume(cpu);
  }

  /**
   * @internal slice expiry while other tasks wait (or a resched IPI): cut the segment and
   * preempt. Code that cannot be preempted here only gets need_resched set, as the tick does.
   */
  sliceTick(cpu: Cpu, gen: number): void {
    if (gen !== cpu.segGen || !cpu.segActive || cpu.inIrq) return;
    if (!this.shouldPreempt(cpu)) return;
    if (!this.preemptible(cpu.current)) {
      cpu.needResched = true;
      return;
    }
    this.pauseSegment(cpu);
    this.schedule(cpu, true);
  }

  /** need_resched, or the slice is over while others wait (a SCHED_FIFO task has no slice). */
  private shouldPreempt(cpu: Cpu): boolean {
    if (cpu.rq.length === 0) return false;
    return cpu.needResched || (this.env.nowNs >= cpu.sliceEndNs && cpu.current.policy !== SCHED_FIFO);
  }

  /** May the task lose the CPU at an arbitrary point (a burn's end, an interrupt return, a tick)? */
  private preemptible(t: Task): boolean {
    return t.preemptCount === 0 && (!t.inKernel || this.preemptModel === PreemptModel.FULL);
  }

  /**
   * cond_resched(): true when the task must yield PREEMPT here (need_resched is set and the model
   * is NONE or VOLUNTARY; under PREEMPT_FULL it is a no-op, the preemption happened already).
   * Use as `if (k.sched.condResched(task)) yield PREEMPT;` inside long kernel loops.
   */
  condResched(task: Task): boolean {
    if (this.preemptModel === PreemptModel.FULL || task.preemptCount > 0) return false;
    return this.shouldPreempt(this.cpus[task.cpu]!);
  }

  /**
   * The CPU time of a loop whose per-item costs were added up (`ns`), spent in pieces of `pieceNs`
   * with a cond_resched() after each, as the loop would reach one every so many items.
   */
  *burnWithCondResched(task: Task, ns: number, pieceNs: number): Generator<number, void, void> {
    let leftNs = ns;
    while (leftNs > 0) {
      const piece = Math.min(leftNs, pieceNs);
      leftNs -= piece;
      yield piece;
      if (leftNs > 0 && this.condResched(task)) yield PREEMPT;
    }
  }

  /** might_resched() (from might_sleep()): a preemption point under PREEMPT_VOLUNTARY only. */
  mightResched(task: Task): boolean {
    if (this.preemptModel !== PreemptModel.VOLUNTARY || task.preemptCount > 0) return false;
    return this.shouldPreempt(this.cpus[task.cpu]!);
  }

  /** preempt_disable() (spin_lock and friends): no preemption until the matching preemptEnable. */
  preemptDisable(task: Task): void {
    task.preemptCount++;
  }

  /**
   * preempt_enable(): under PREEMPT_FULL, true when the task must yield PREEMPT now (need_resched
   * was set while preemption was off). `if (k.sched.preemptEnable(task)) yield PREEMPT;`
   */
  preemptEnable(task: Task): boolean {
    if (task.preemptCount <= 0) throw new SimBug(`preempt_enable without preempt_disable in ${task.comm}/${task.pid}`);
    task.preemptCount--;
    if (this.preemptModel !== PreemptModel.FULL || task.preemptCount > 0) return false;
    return this.shouldPreempt(this.cpus[task.cpu]!);
  }

  /**
   * sched_setscheduler: SCHED_FIFO with an RT priority 1..99 (as chrt -f), or back to SCHED_NORMAL.
   * Takes effect at the task's next scheduling decision.
   */
  setScheduler(task: Task, policy: number, rtPriority: number): void {
    if (policy === SCHED_FIFO) {
      if (!(rtPriority >= 1 && rtPriority <= MAX_RT_PRIO - 1)) throw new SimBug(`SCHED_FIFO priority ${rtPriority} outside 1..99`);
      task.policy = SCHED_FIFO;
      task.rtPriority = rtPriority;
      task.prio = MAX_RT_PRIO - 1 - rtPriority;
    } else {
      task.policy = SCHED_NORMAL;
      task.rtPriority = 0;
      task.prio = DEFAULT_PRIO;
    }
  }

  /**
   * The running task spends `ns` of CPU time in place, without yielding, when nothing could
   * happen meanwhile: exactly what resume() does when the task yields a burn nobody interrupts,
   * minus the walk up and down the generator chain. Returns false when the caller must yield the
   * burn instead (an event is due before its end, or it would end in a preemption).
   * Use as `if (!k.sched.burnInline(task, ns)) yield ns;` on hot paths.
   */
  burnInline(task: Task, ns: number): boolean {
    if (ns === 0) return true;
    const cpu = this.cpus[task.cpu]!;
    if (cpu.current !== task || cpu.inIrq || cpu.segActive || task.pendingBurnNs > 0 || this.ctxCpu !== cpu) return false;
    if (this.freqOps !== undefined) this.freqOps.update(cpu, 0);
    const startNs = this.env.nowNs;
    const endNs = startNs + Math.max(1, Math.round(ns * cpu.freqSlowdown));
    // shouldPreempt at the end of the burn: nothing that decides it can change during it
    if (cpu.rq.length > 0 && (cpu.needResched || endNs >= cpu.sliceEndNs)) return false;
    if (!this.env.tryAdvanceTo(endNs)) return false;
    this.accountRuntime(cpu, task, endNs - startNs);
    return true;
  }

  /** Runs the current task's body until it consumes CPU time, sleeps or exits. */
  resume(cpu: Cpu): void {
    const t = cpu.current;
    this.ctxCpu = cpu;
    if (t === cpu.idle) return;
    if (t.pendingBurnNs > 0) {
      const ns = t.pendingBurnNs;
      t.pendingBurnNs = 0;
      this.startSegment(cpu, ns);
      return;
    }
    const body = t.body;
    if (!body) throw new SimBug(`task ${t.pid} has no body`);
    for (;;) {
      const r = body.next();
      if (r.done) {
        this.exitTask(cpu, t);
        return;
      }
      let v = r.value;
      if (v > 0) {
        // the scheduler's own cpufreq_update_util (update_curr/the tick): the governor sees the load
        if (this.freqOps !== undefined) this.freqOps.update(cpu, 0);
        v *= cpu.freqSlowdown;
        // nothing can interrupt the burn: account it and go on, as segmentEnd would at its end
        const endNs = this.env.nowNs + Math.max(1, Math.round(v));
        const startNs = this.env.nowNs;
        if (!cpu.inIrq && this.env.tryAdvanceTo(endNs)) {
          this.accountRuntime(cpu, t, endNs - startNs);
          if (this.shouldPreempt(cpu) && this.preemptible(t)) {
            this.schedule(cpu, true);
            return;
          }
          continue;
        }
        this.startSegment(cpu, v);
        return;
      }
      if (v === 0) continue;
      if (v === PREEMPT) {
        // a preemption point the caller found due: __schedule(SM_PREEMPT)
        if (this.shouldPreempt(cpu)) {
          this.schedule(cpu, true);
          return;
        }
        continue;
      }
      if (v !== SCHED) throw new SimBug(`task ${t.comm}/${t.pid} yielded ${v}`);
      if (t.state === TaskState.RUNNING && !this.shouldPreempt(cpu)) continue;
      this.schedule(cpu, false);
      return;
    }
  }

  private exitTask(cpu: Cpu, t: Task): void {
    // a process's last thread leaves through exit_group(2) (glibc's exit()), which never returns;
    // a kernel thread or an io thread just returns from its function
    if (!t.kthread && !t.inKernel && t.pid === t.tgid) {
      const enter = this.sites.sysEnter.exit_group;
      const raw = this.sites.tp.sys_enter;
      if (enter.enabled || raw.enabled) {
        const args = [t.exitCode, 0, 0, 0, 0, 0];
        if (raw.enabled) raw.emit(cpu, t.ioId, SYSCALL_NR.exit_group, args);
        if (enter.enabled) enter.emit(cpu, t.ioId, args);
      }
    }
    if (this.sites.tp.sched_process_exit.enabled) this.sites.tp.sched_process_exit.emit(cpu, t.ioId, t);
    t.state = TaskState.DEAD;
    this.onExit?.(t);
    this.schedule(cpu, false);
  }

  /** __schedule: put prev away (sleeping, preempted, or dead), pick next, switch. */
  schedule(cpu: Cpu, preempt: boolean): void {
    const prev = cpu.current;
    const now = this.env.nowNs;
    if (cpu.segActive) this.pauseSegment(cpu);
    let prevState: number = prev.state;
    if (prev !== cpu.idle) {
      if (preempt || prev.state === TaskState.RUNNING) {
        // preempted (even between setting its sleep state and calling schedule(), as
        // __schedule(SM_PREEMPT) does) or yielded: back on the runqueue
        if (preempt && prev.policy === SCHED_FIFO) {
          // a preempted RT task stays at the head of its priority's queue
          prev.onRq = true;
          cpu.rq.unshift(prev);
        } else {
          this.enqueue(cpu, prev);
        }
        if (preempt) {
          prev.nivcsw++;
          prevState = TASK_REPORT_PREEMPTED;
        }
      } else {
        prev.nvcsw++;
      }
      // update_curr's report at the switch: CPU time since the task was switched in
      if (this.sites.tp.sched_stat_runtime.enabled) this.sites.tp.sched_stat_runtime.emit(cpu, prev.ioId, prev, prev.sumExecRuntimeNs - prev.runtimeAtSwitchInNs);
    }
    const next = this.pickNext(cpu);
    cpu.needResched = false;
    if (next === prev) {
      if (prev.onRq) this.dequeue(cpu, prev);
      cpu.sliceEndNs = now + this.sliceNs;
      this.resume(cpu);
      return;
    }
    if (next !== cpu.idle) this.dequeue(cpu, next);
    if (this.sites.tp.sched_switch.enabled) {
      const ioId = next !== cpu.idle ? next.ioId : prev.ioId;
      this.sites.tp.sched_switch.emit(cpu, ioId, preempt, prev, next, prev === cpu.idle ? 0 : prevState);
    }
    prev.onCpu = false;
    next.onCpu = true;
    next.cpu = cpu.id;
    next.runtimeAtSwitchInNs = next.sumExecRuntimeNs;
    cpu.current = next;
    this.stats.contextSwitches++;
    cpu.sliceEndNs = now + this.sliceNs;
    if (next === cpu.idle) {
      cpu.markBusy(cpu.inIrq);
      if (this.idleOps !== undefined && !cpu.inIrq) this.idleOps.enter(cpu);
      return;
    }
    cpu.markBusy(true);
    next.pendingBurnNs += CONTEXT_SWITCH_NS * cpu.freqSlowdown;
    this.resume(cpu);
  }

  private pickNext(cpu: Cpu): Task {
    const rq = cpu.rq;
    if (rq.length === 0) return cpu.idle;
    let best = rq[0]!;
    let rt: Task | undefined = best.policy === SCHED_FIFO ? best : undefined;
    for (let i = 1; i < rq.length; i++) {
      const t = rq[i]!;
      if (t.policy === SCHED_FIFO) {
        // the RT class first: the highest priority, first queued among equals
        if (!rt || t.prio < rt.prio) rt = t;
      } else if (t.vruntimeNs < best.vruntimeNs || best.policy === SCHED_FIFO) {
        best = t;
      }
    }
    if (rt) return rt;
    if (best.vruntimeNs > cpu.minVruntimeNs) cpu.minVruntimeNs = best.vruntimeNs;
    return best;
  }

  private dequeue(cpu: Cpu, t: Task): void {
    const i = cpu.rq.indexOf(t);
    if (i >= 0) cpu.rq.splice(i, 1);
    t.onRq = false;
  }

  // ---- interrupts ---------------------------------------------------------------------------

  /** A hardirq arrives at `cpu`: it preempts the running segment at once (or queues behind one). */
  raiseIrq(cpu: Cpu, work: IrqWork): void {
    cpu.irqCount++;
    if (cpu.inIrq) {
      cpu.irqQueue.push(work);
      return;
    }
    if (this.idleOps !== undefined && cpu.current === cpu.idle) {
      // the interrupt first brings the CPU out of its idle state
      const exitNs = this.idleOps.exit(cpu);
      if (exitNs > 0) {
        cpu.inIrq = true;
        this.env.after(exitNs, Priority.URGENT, enterIrqAfterIdle, { sched: this, cpu, work });
        return;
      }
    }
    this.enterIrq(cpu, work);
  }

  /** @internal */
  enterIrqLate(cpu: Cpu, work: IrqWork): void {
    this.enterIrq(cpu, work);
  }

  private enterIrq(cpu: Cpu, work: IrqWork): void {
    this.pauseSegment(cpu);
    cpu.inIrq = true;
    cpu.markBusy(true);
    cpu.irqIoId = work.ioId;
    if (this.sites.tp.irq_handler_entry.enabled) this.sites.tp.irq_handler_entry.emit(cpu, work.ioId, work.irq, work.name);
    this.env.after(work.costNs * cpu.freqSlowdown, Priority.URGENT, finishIrq, { sched: this, cpu, work });
  }

  /** @internal the handler's time is over: run its body, then softirqs, then return. */
  finishIrq(cpu: Cpu, work: IrqWork): void {
    cpu.irqNs += work.costNs * cpu.freqSlowdown;
    this.ctxCpu = cpu;
    const extraNs = work.handler(cpu) * cpu.freqSlowdown;
    if (extraNs > 0) {
      cpu.irqNs += extraNs;
      this.env.after(extraNs, Priority.URGENT, exitIrq, { sched: this, cpu, work });
      return;
    }
    this.exitIrq(cpu, work);
  }

  /** @internal */
  exitIrq(cpu: Cpu, work: IrqWork): void {
    if (this.sites.tp.irq_handler_exit.enabled) this.sites.tp.irq_handler_exit.emit(cpu, work.ioId, work.irq, 1);
    this.irqTail(cpu);
  }

  /**
   * raise_softirq: from an interrupt handler it runs when the handler returns (irq_exit →
   * __do_softirq). From process context (a task's local_bh_enable after netif_rx, a timer's expiry)
   * it runs as do_softirq does there: at once, on this CPU, before the interrupted task goes on.
   */
  raiseSoftirq(cpu: Cpu, work: SoftirqWork): void {
    if (this.sites.tp.softirq_raise.enabled) this.sites.tp.softirq_raise.emit(cpu, work.ioId, work.vec);
    cpu.softirqQueue.push(work);
    if (cpu.inIrq || cpu.softirqKickPending) return;
    cpu.softirqKickPending = true;
    // SIMPLIFICATION: do_softirq starts when the raising code's current step ends (same instant),
    // not in the middle of it: a task's CPU burn begins, then the softirq preempts it
    this.env.after(0, Priority.URGENT, doSoftirq, { sched: this, cpu });
  }

  /** @internal do_softirq outside interrupt context: pending softirqs run before the task resumes. */
  doSoftirq(cpu: Cpu): void {
    cpu.softirqKickPending = false;
    if (cpu.inIrq || cpu.softirqQueue.length === 0) return; // an irq_exit ran them already
    if (cpu.segActive) this.pauseSegment(cpu);
    cpu.inIrq = true;
    cpu.markBusy(true);
    // an idle CPU (a timer expiring into its softirq) first leaves its idle state
    const exitNs = this.idleOps !== undefined && cpu.current === cpu.idle ? this.idleOps.exit(cpu) : 0;
    if (exitNs > 0) this.env.after(exitNs, Priority.URGENT, softirqAfterIdle, { sched: this, cpu });
    else this.irqTail(cpu);
  }

  /** @internal */
  softirqTailLate(cpu: Cpu): void {
    this.irqTail(cpu);
  }

  private irqTail(cpu: Cpu): void {
    const soft = cpu.softirqQueue.shift();
    if (soft) {
      cpu.softirqCount++;
      cpu.irqIoId = soft.ioId;
      if (this.sites.tp.softirq_entry.enabled) this.sites.tp.softirq_entry.emit(cpu, soft.ioId, soft.vec);
      this.env.after(soft.costNs * cpu.freqSlowdown, Priority.URGENT, finishSoftirq, { sched: this, cpu, work: soft });
      return;
    }
    const next = cpu.irqQueue.shift();
    if (next) {
      cpu.irqIoId = next.ioId;
      if (this.sites.tp.irq_handler_entry.enabled) this.sites.tp.irq_handler_entry.emit(cpu, next.ioId, next.irq, next.name);
      this.env.after(next.costNs * cpu.freqSlowdown, Priority.URGENT, finishIrq, { sched: this, cpu, work: next });
      return;
    }
    cpu.inIrq = false;
    cpu.irqIoId = 0;
    // return from interrupt: preempt if a wakeup asked for it, else continue what was interrupted
    if (cpu.current === cpu.idle) {
      if (cpu.rq.length > 0) this.schedule(cpu, false);
      else {
        cpu.markBusy(false);
        if (this.idleOps !== undefined) this.idleOps.enter(cpu);
      }
      return;
    }
    if (this.shouldPreempt(cpu) && this.preemptible(cpu.current)) this.schedule(cpu, true);
    else this.resume(cpu);
  }

  /** @internal */
  finishSoftirq(cpu: Cpu, work: SoftirqWork): void {
    cpu.irqNs += work.costNs * cpu.freqSlowdown;
    this.ctxCpu = cpu;
    const extraNs = work.handler(cpu) * cpu.freqSlowdown;
    if (extraNs > 0) {
      cpu.irqNs += extraNs;
      this.env.after(extraNs, Priority.URGENT, exitSoftirq, { sched: this, cpu, work });
      return;
    }
    this.exitSoftirq(cpu, work);
  }

  /** @internal */
  exitSoftirq(cpu: Cpu, work: SoftirqWork): void {
    if (this.sites.tp.softirq_exit.enabled) this.sites.tp.softirq_exit.emit(cpu, work.ioId, work.vec);
    this.irqTail(cpu);
  }
}

/** An idle CPU that is only handling an interrupt counts as idle (it schedules on irq exit). */
function idleForWakeup(c: Cpu): boolean {
  return c.current === c.idle && c.rq.length === 0 && !c.kickPending;
}

function kickIdle(a: { sched: Scheduler; cpu: Cpu }): void {
  a.sched.kick(a.cpu);
}

function enterIrqAfterIdle(a: { sched: Scheduler; cpu: Cpu; work: IrqWork }): void {
  a.sched.enterIrqLate(a.cpu, a.work);
}

function finishIrq(a: { sched: Scheduler; cpu: Cpu; work: IrqWork }): void {
  a.sched.finishIrq(a.cpu, a.work);
}

function exitIrq(a: { sched: Scheduler; cpu: Cpu; work: IrqWork }): void {
  a.sched.exitIrq(a.cpu, a.work);
}

function exitSoftirq(a: { sched: Scheduler; cpu: Cpu; work: SoftirqWork }): void {
  a.sched.exitSoftirq(a.cpu, a.work);
}

function softirqAfterIdle(a: { sched: Scheduler; cpu: Cpu }): void {
  a.sched.softirqTailLate(a.cpu);
}

function doSoftirq(a: { sched: Scheduler; cpu: Cpu }): void {
  a.sched.doSoftirq(a.cpu);
}

function finishSoftirq(a: { sched: Scheduler; cpu: Cpu; work: SoftirqWork }): void {
  a.sched.finishSoftirq(a.cpu, a.work);
}

