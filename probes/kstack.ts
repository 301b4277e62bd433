// bpftrace's `kstack`: the kernel call chain at a probe hit, as bpftrace prints it (one
// `function+offset` per line, innermost first, indented 8 spaces).
//
// The simulator has no machine stack to unwind, so the chain is kept as it happens: while a
// program uses kstack, a tracker listens on every modeled kernel function's entry and return
// (the kprobe/kretprobe sites) and on the syscall, page-fault and interrupt entry points, and
// keeps one frame list per task. A hit's stack is that list, plus the function the tracepoint
// sits in, plus the entry code beneath (syscall entry, fault entry, kthread/worker base).
// Nothing is tracked when no program asks for kstack: the sites stay disabled.
//
// SIMPLIFICATION: only functions the simulator models as probe sites appear, so stacks are
// shorter than a real kernel's (no inlined helpers, no locking or allocation frames).
// SIMPLIFICATION: offsets are synthetic but stable: the simulator has no machine code. Each
// function has a size (a hash of its name, 96 bytes to 2 KiB) and each call site an offset inside
// its caller (a hash of caller and callee); a kprobe's own frame is its entry (+1, past the int3
// the kprobe placed there, as bpftrace shows it). A stable offset keeps identical paths
// aggregating to one map key.

import type { Cpu, Machine, ProbeHit, ProbeSite } from '../core/index.js';

/** bpftrace's default kstack depth (`kstack` = `kstack(bpftrace, 127)`). */
export const KSTACK_DEFAULT_LIMIT = 127;

const FRAME_INDENT = '        ';

/** Functions a tracepoint is emitted from (its TRACE_EVENT call site in Linux 6.18), innermost first. */
const TRACEPOINT_HOME: Readonly<Record<string, readonly string[]>> = {
  'tracepoint:block:block_bio_backmerge': ['bio_attempt_back_merge'],
  'tracepoint:block:block_bio_frontmerge': ['bio_attempt_front_merge'],
  'tracepoint:block:block_bio_complete': ['bio_endio'],
  'tracepoint:block:block_bio_queue': ['submit_bio_noacct_nocheck'],
  'tracepoint:block:block_getrq': ['blk_mq_get_new_requests'],
  'tracepoint:block:block_io_done': ['blk_account_io_done'],
  'tracepoint:block:block_io_start': ['blk_account_io_start'],
  'tracepoint:block:block_plug': ['blk_add_rq_to_plug'],
  'tracepoint:block:block_unplug': ['blk_mq_flush_plug_list'],
  'tracepoint:block:block_rq_complete': ['blk_update_request'],
  'tracepoint:block:block_rq_insert': ['blk_mq_insert_request'],
  'tracepoint:block:block_rq_issue': ['blk_mq_start_request'],
  'tracepoint:block:block_rq_merge': ['attempt_merge'],
  'tracepoint:block:block_rq_requeue': ['blk_mq_requeue_request'],
  'tracepoint:block:block_split': ['bio_split'],
  'tracepoint:ext4:ext4_da_write_begin': ['ext4_da_write_begin'],
  'tracepoint:ext4:ext4_ext_map_blocks_enter': ['ext4_ext_map_blocks'],
  'tracepoint:ext4:ext4_ext_map_blocks_exit': ['ext4_ext_map_blocks'],
  'tracepoint:ext4:ext4_sync_file_enter': ['ext4_sync_file'],
  'tracepoint:ext4:ext4_sync_file_exit': ['ext4_sync_file'],
  'tracepoint:filemap:mm_filemap_add_to_page_cache': ['__filemap_add_folio'],
  'tracepoint:filemap:mm_filemap_delete_from_page_cache': ['__filemap_remove_folio'],
  'tracepoint:filemap:mm_filemap_fault': ['filemap_fault'],
  'tracepoint:filemap:mm_filemap_get_pages': ['filemap_get_pages'],
  'tracepoint:filemap:mm_filemap_map_pages': ['filemap_map_pages'],
  'tracepoint:jbd2:jbd2_checkpoint': ['jbd2_log_do_checkpoint'],
  'tracepoint:jbd2:jbd2_commit_flushing': ['jbd2_journal_commit_transaction'],
  'tracepoint:jbd2:jbd2_commit_locking': ['jbd2_journal_commit_transaction'],
  'tracepoint:jbd2:jbd2_commit_logging': ['jbd2_journal_commit_transaction'],
  'tracepoint:jbd2:jbd2_end_commit': ['jbd2_journal_commit_transaction'],
  'tracepoint:jbd2:jbd2_handle_start': ['start_this_handle', 'jbd2__journal_start'],
  'tracepoint:jbd2:jbd2_run_stats': ['jbd2_journal_commit_transaction'],
  'tracepoint:jbd2:jbd2_start_commit': ['jbd2_journal_commit_transaction'],
  'tracepoint:jbd2:jbd2_update_log_tail': ['__jbd2_update_log_tail'],
  'tracepoint:nvme:nvme_complete_rq': ['nvme_complete_rq'],
  'tracepoint:nvme:nvme_setup_cmd': ['nvme_setup_cmd'],
  'tracepoint:readahead:page_cache_async_ra': ['page_cache_async_ra'],
  'tracepoint:readahead:page_cache_sync_ra': ['page_cache_sync_ra'],
  'tracepoint:sched:sched_migrate_task': ['set_task_cpu'],
  'tracepoint:sched:sched_process_exec': ['exec_binprm'],
  'tracepoint:sched:sched_process_exit': ['do_exit'],
  'tracepoint:sched:sched_process_fork': ['copy_process'],
  'tracepoint:sched:sched_stat_runtime': ['update_curr'],
  'tracepoint:sched:sched_switch': ['__schedule', 'schedule'],
  'tracepoint:sched:sched_wakeup': ['ttwu_do_activate', 'try_to_wake_up'],
  'tracepoint:sched:sched_wakeup_new': ['wake_up_new_task'],
  'tracepoint:sched:sched_waking': ['try_to_wake_up'],
  'tracepoint:writeback:balance_dirty_pages': ['balance_dirty_pages', 'balance_dirty_pages_ratelimited_flags'],
  'tracepoint:writeback:bdi_dirty_ratelimit': ['wb_update_dirty_ratelimit', '__wb_update_bandwidth', 'balance_dirty_pages', 'balance_dirty_pages_ratelimited_flags'],
  'tracepoint:writeback:global_dirty_state': ['domain_dirty_limits'],
  'tracepoint:writeback:writeback_dirty_folio': ['folio_account_dirtied'],
  'tracepoint:writeback:writeback_exec': ['wb_do_writeback'],
  'tracepoint:writeback:writeback_queue': ['wb_queue_work'],
  'tracepoint:writeback:writeback_start': ['wb_writeback'],
  'tracepoint:writeback:writeback_wake_background': ['wb_start_background_writeback'],
  'tracepoint:writeback:writeback_written': ['wb_writeback'],
};

/** Syscall entry on x86-64, outermost first; the __x64_sys_ frame is added per syscall. */
const SYSCALL_ENTRY = ['entry_SYSCALL_64_after_hwframe', 'do_syscall_64', 'x64_sys_call'];
/** User page fault entry, outermost first (exceptions:page_fault_user fires in exc_page_fault). */
const FAULT_ENTRY = ['asm_exc_page_fault', 'exc_page_fault', 'do_user_addr_fault'];
/** Hardware interrupt entry, outermost first; the driver's handler goes on top. */
const IRQ_ENTRY = ['asm_common_interrupt', 'common_interrupt', '__common_interrupt', 'handle_edge_irq', 'handle_irq_event', '__handle_irq_event_percpu'];
/** Softirqs run on interrupt exit, outermost first; the vector's action goes on top. */
const SOFTIRQ_ENTRY = ['asm_common_interrupt', 'common_interrupt', '__irq_exit_rcu', 'handle_softirqs'];
const SOFTIRQ_ACTION = ['', 'run_timer_softirq', 'net_tx_action', 'net_rx_action', 'blk_done_softirq', 'irq_poll_softirq', 'tasklet_action', 'sched_balance_softirq', 'hrtimer_run_softirq', 'rcu_core_si'];
/** Bottom of every kernel thread, outermost first. */
const KTHREAD_BASE = ['ret_from_fork_asm', 'ret_from_fork', 'kthread'];
const KWORKER_BASE = [...KTHREAD_BASE, 'worker_thread', 'process_one_work'];
/** A CPU with nothing to run, outermost first. */
const IDLE_STACK = ['common_startup_64', 'start_secondary', 'cpu_startup_entry', 'do_idle', 'default_idle_call', 'default_idle'];

/** Interrupt handler function by the irq action's name (request_irq's `name`). */
function irqHandlerFunction(actionName: string): string {
  if (actionName.startsWith('nvme')) return 'nvme_irq';
  if (actionName.startsWith('ahci')) return 'ahci_single_level_irq_intr';
  return 'handle_irq_event';
}

/** FNV-1a of a string. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A function's code size in bytes: 96 to 2048, a multiple of 16 (functions are 16-byte aligned). */
export function functionBytes(fn: string): number {
  return 0x60 + (fnv1a(fn) % 0x7a) * 16;
}

/** The kprobe's own frame: the breakpoint replaces the first instruction, the trap leaves ip one byte in. */
export const KPROBE_ENTRY_OFFSET = 1;

/**
 * A stable pseudo return-address offset in `caller` of its call to `callee` (or of the point a
 * tracepoint or a sample interrupts, callee ''): past the prologue and at least a call
 * instruction before the function's end.
 */
function frameOffset(caller: string, callee: string): number {
  return 0x10 + (fnv1a(caller + '>' + callee) % (functionBytes(caller) - 0x18));
}

/** Syscalls whose body runs through functions the simulator does not probe, innermost last. */
const SYSCALL_BODY: Readonly<Record<string, readonly string[]>> = {
  // kernel/time/posix-timers.c: clock_nanosleep -> common_nsleep -> hrtimer_nanosleep -> do_nanosleep
  clock_nanosleep: ['common_nsleep', 'hrtimer_nanosleep'],
  nanosleep: ['hrtimer_nanosleep'],
};

/** One task's live frames, outermost first; `marks` remember where entry groups began. */
interface TaskStack {
  readonly frames: string[];
  readonly marks: number[];
}

export class KernelStacks {
  private readonly byTask = new Map<number, TaskStack>();
  private readonly detachers: (() => void)[] = [];

  constructor(private readonly m: Machine) {}

  /** Starts tracking. Attach before the script's own handlers, so entries push before they read. */
  attach(): void {
    const reg = this.m.k.registry;
    const on = (site: ProbeSite | undefined, handler: (hit: ProbeHit) => void): void => {
      if (site) this.detachers.push(site.attach(handler));
    };
    for (const site of reg.all()) {
      const name = site.fullName;
      if (site.provider === 'kprobe') {
        const fn = name.slice('kprobe:'.length);
        on(site, (hit) => this.stackOf(hit.tid, hit.cpu).frames.push(fn));
      } else if (site.provider === 'kretprobe') {
        const fn = name.slice('kretprobe:'.length);
        on(site, (hit) => {
          const s = this.stackOf(hit.tid, hit.cpu);
          const at = s.frames.lastIndexOf(fn);
          if (at >= 0) this.truncate(s, at);
          // the fault entry ends when its handler returns
          if (fn === 'handle_mm_fault') this.popGroup(s, FAULT_ENTRY[0]!);
        });
      } else if (name.startsWith('tracepoint:syscalls:sys_enter_')) {
        const call = name.slice('tracepoint:syscalls:sys_enter_'.length);
        const frames = [...SYSCALL_ENTRY, `__x64_sys_${call}`, ...(SYSCALL_BODY[call] ?? [])];
        on(site, (hit) => this.pushGroup(this.stackOf(hit.tid, hit.cpu), frames));
      } else if (name.startsWith('tracepoint:syscalls:sys_exit_')) {
        on(site, (hit) => this.popGroup(this.stackOf(hit.tid, hit.cpu), SYSCALL_ENTRY[0]!));
      }
    }
    on(reg.get('tracepoint:exceptions:page_fault_user'), (hit) => this.pushGroup(this.stackOf(hit.tid, hit.cpu), FAULT_ENTRY));
    on(reg.get('tracepoint:irq:irq_handler_entry'), (hit) => {
      const action = hit.args[1];
      this.pushGroup(this.stackOf(hit.tid, hit.cpu), [...IRQ_ENTRY, irqHandlerFunction(typeof action === 'string' ? action : '')]);
    });
    on(reg.get('tracepoint:irq:irq_handler_exit'), (hit) => this.popGroup(this.stackOf(hit.tid, hit.cpu), IRQ_ENTRY[0]!));
    on(reg.get('tracepoint:irq:softirq_entry'), (hit) => {
      const vec = hit.args[0];
      const action = typeof vec === 'number' ? SOFTIRQ_ACTION[vec] : undefined;
      this.pushGroup(this.stackOf(hit.tid, hit.cpu), action ? [...SOFTIRQ_ENTRY, action] : SOFTIRQ_ENTRY);
    });
    on(reg.get('tracepoint:irq:softirq_exit'), (hit) => this.popGroup(this.stackOf(hit.tid, hit.cpu), SOFTIRQ_ENTRY[0]!));
  }

  detach(): void {
    for (const d of this.detachers.splice(0)) d();
  }

  /** The stack at a probe hit, innermost first. */
  framesAtHit(hit: ProbeHit): string[] {
    // the idle loop calls schedule_idle() from do_idle(), not from inside default_idle()
    if (hit.tid === 0 && hit.site.fullName === 'tracepoint:sched:sched_switch') return ['__schedule', 'schedule_idle', ...IDLE_STACK.slice(0, 4).reverse()];
    const live = this.stackOf(hit.tid, hit.cpu).frames;
    const home = TRACEPOINT_HOME[hit.site.fullName] ?? [];
    const inner: string[] = [];
    // the tracepoint's own function, unless the tracker already has it on top
    for (let i = home.length - 1; i >= 0; i--) {
      const fn = home[i]!;
      if (inner.length === 0 && live[live.length - 1] === fn) continue;
      inner.push(fn);
    }
    return [...inner.reverse(), ...this.withBase(hit.tid, live).reverse()];
  }

  /** What a timer sample on `cpu` interrupts, innermost first (profile probes). */
  framesOnCpu(cpu: Cpu): string[] {
    const task = cpu.current;
    if (task === cpu.idle) return this.withBase(0, this.byTask.get(this.key(0, cpu.id))?.frames ?? []).reverse();
    const live = this.byTask.get(this.key(task.pid, cpu.id))?.frames ?? [];
    // a user task with nothing on its kernel stack was sampled in user mode: bpftrace's empty kstack
    if (live.length === 0 && !task.kthread) return [];
    return this.withBase(task.pid, live).reverse();
  }

  /**
   * bpftrace's text form: a leading newline, then one indented `function+offset` per line
   * (decimal). `topAtEntry`: the innermost frame is a kprobe's function, stopped at its entry.
   */
  static format(framesInnermostFirst: readonly string[], limit: number = KSTACK_DEFAULT_LIMIT, topAtEntry = false): string {
    let text = '\n';
    const n = Math.min(limit, framesInnermostFirst.length);
    for (let i = 0; i < n; i++) {
      const fn = framesInnermostFirst[i]!;
      const offset = i === 0 ? (topAtEntry ? KPROBE_ENTRY_OFFSET : frameOffset(fn, '')) : frameOffset(fn, framesInnermostFirst[i - 1]!);
      text += `${FRAME_INDENT}${fn}+${offset}\n`;
    }
    return text;
  }

  /** Whether a hit's innermost frame is the probed function's entry (kprobe, fentry). */
  static stopsAtEntry(hit: ProbeHit): boolean {
    return hit.site.provider === 'kprobe' || hit.site.provider === 'fentry';
  }

  // idle tasks all have pid 0: key them by CPU
  private key(tid: number, cpuId: number): number {
    return tid === 0 ? -1 - cpuId : tid;
  }

  private stackOf(tid: number, cpuId: number): TaskStack {
    const key = this.key(tid, cpuId);
    let s = this.byTask.get(key);
    if (!s) {
      s = { frames: [], marks: [] };
      this.byTask.set(key, s);
    }
    return s;
  }

  /** Live frames (outermost first) with the kernel-thread base beneath them. */
  private withBase(tid: number, live: readonly string[]): string[] {
    if (tid === 0) return [...IDLE_STACK, ...live];
    const task = this.m.k.tasks.find((t) => t.pid === tid);
    if (!task?.kthread) return [...live];
    return [...(task.comm.startsWith('kworker/') ? KWORKER_BASE : KTHREAD_BASE), ...live];
  }

  private pushGroup(s: TaskStack, frames: readonly string[]): void {
    s.marks.push(s.frames.length);
    s.frames.push(...frames);
  }

  /** Ends the innermost entry group that starts with `first` (and anything above it). */
  private popGroup(s: TaskStack, first: string): void {
    for (let i = s.marks.length - 1; i >= 0; i--) {
      const at = s.marks[i]!;
      if (s.frames[at] === first) {
        this.truncate(s, at);
        return;
      }
    }
  }

  private truncate(s: TaskStack, length: number): void {
    s.frames.length = length;
    while (s.marks.length > 0 && s.marks[s.marks.length - 1]! >= length) s.marks.pop();
  }
}
