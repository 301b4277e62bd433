// `kiotrace run --steps`: the first data I/Os of a run, tracepoint hit by tracepoint hit, as the
// README's tour tells them: a read() from syscall entry through the device and the interrupt back
// to user space; a page fault's chain VA -> VPN -> (inode, pgoff) -> block -> sector -> PFN and its
// PTE install. Every line comes from a probe hit (time, CPU, task, fields); the step headings are
// a table of which probe opens which step, as a bpftrace script would name them.

import type { FieldRecord, FieldValue, Machine, ProbeHit } from '../core/index.js';
import { attach } from '../probes/attach.js';
import { printable } from './units.js';

/** The most I/Os one run may show step by step (each is tens of lines). */
export const MAX_STEP_IOS = 16;

/** One hit, copied when it fired (its fields read kernel objects that change afterwards). */
interface StepHit {
  readonly timeNs: number;
  readonly cpu: number;
  readonly pid: number;
  readonly comm: string;
  /** `system:event`, without the `tracepoint:` provider. */
  readonly probe: string;
  readonly fields: FieldRecord;
}

interface TracedIo {
  readonly ioId: number;
  /** The task whose syscall or fault started the I/O. */
  readonly pid: number;
  readonly comm: string;
  readonly start: StepHit;
  readonly hits: StepHit[];
  /** Its syscall returned, or its fault installed the PTE: nothing more belongs to it. */
  ended: boolean;
}

/** A step of the tour: the probe hit that opens it (steps only move forward). */
interface Step {
  readonly title: string;
  readonly opens: (hit: StepHit, io: TracedIo) => boolean;
}

const probeIs =
  (...names: readonly string[]) =>
  (hit: StepHit): boolean =>
    names.includes(hit.probe);

/** The I/O's task gets the CPU back (not the switch that put it to sleep). */
const backOnCpu = (hit: StepHit, io: TracedIo): boolean => hit.probe === 'sched:sched_switch' && hit.fields['next_pid'] === io.pid;

const SYSCALL_STARTS = ['syscalls:sys_enter_read', 'syscalls:sys_enter_pread64', 'syscalls:sys_enter_write', 'syscalls:sys_enter_pwrite64'];
const FAULT_START = 'exceptions:page_fault_user';
/** The last step of a fault: the PTE is in place and the access is retried. */
const FAULT_END = 'tracepoint:kiotrace:set_pte';

/** The ten steps of a blocking read() (README "What to look at"); a write takes the same path down. */
const SYSCALL_STEPS: readonly Step[] = [
  { title: 'syscall entry', opens: probeIs(...SYSCALL_STARTS) },
  { title: 'cache check', opens: probeIs('filemap:mm_filemap_get_pages') },
  { title: 'wait queue: the task waits for the locked folio', opens: probeIs('kiotrace:folio_wait') },
  { title: 'driver: schedule() flushes the plug, the request is issued', opens: probeIs('block:block_unplug', 'block:block_rq_insert', 'nvme:nvme_setup_cmd', 'block:block_rq_issue') },
  { title: 'controller: command fetch and media', opens: probeIs('kiotrace:device_fetch', 'kiotrace:device_media') },
  { title: 'DMA into memory', opens: probeIs('kiotrace:dma_transfer') },
  { title: 'interrupt', opens: probeIs('irq:irq_handler_entry') },
  { title: 'handler: the request completes', opens: probeIs('nvme:nvme_complete_rq', 'irq:softirq_entry', 'block:block_rq_complete') },
  { title: 'wake-up', opens: probeIs('sched:sched_waking', 'sched:sched_wakeup') },
  { title: 'back on CPU and return to user', opens: (hit, io) => backOnCpu(hit, io) || hit.probe.startsWith('syscalls:sys_exit_') },
];

/** A major page fault, link by link of its chain. */
const FAULT_STEPS: readonly Step[] = [
  { title: 'VA: the user access faults', opens: probeIs(FAULT_START) },
  { title: 'VPN and (inode, pgoff): the VMA maps the address to the file', opens: probeIs('kiotrace:fault_vma') },
  { title: 'page cache miss', opens: probeIs('filemap:mm_filemap_fault') },
  { title: 'PFN: a page frame joins the page cache', opens: probeIs('filemap:mm_filemap_add_to_page_cache') },
  { title: 'block: ext4 maps (inode, pgoff) to a disk block', opens: probeIs('ext4:ext4_ext_map_blocks_enter', 'ext4:ext4_ext_map_blocks_exit') },
  { title: 'sector: the bio is queued', opens: probeIs('block:block_bio_queue') },
  { title: 'request: through the I/O scheduler to the driver', opens: probeIs('block:block_getrq', 'block:block_rq_insert', 'block:block_rq_issue') },
  { title: 'device: command fetch', opens: probeIs('kiotrace:device_fetch') },
  { title: 'wait queue: the task sleeps on the locked folio', opens: probeIs('kiotrace:folio_wait') },
  { title: 'media: seek, rotation and transfer', opens: probeIs('kiotrace:device_media') },
  { title: 'DMA into memory', opens: probeIs('kiotrace:dma_transfer') },
  { title: 'interrupt', opens: probeIs('irq:irq_handler_entry') },
  { title: 'completion', opens: probeIs('irq:softirq_entry', 'nvme:nvme_complete_rq', 'block:block_rq_complete') },
  { title: 'wake-up', opens: probeIs('sched:sched_waking', 'sched:sched_wakeup') },
  { title: 'back on CPU', opens: backOnCpu },
  { title: 'PTE installed: the access is retried and succeeds', opens: probeIs('kiotrace:set_pte') },
];

/** Fields that add nothing to a step line (duplicated elsewhere on it, or always zero here). */
const QUIET_FIELDS = new Set(['__syscall_nr', 'ioprio', 'cmd', 'prio', 'prev_prio', 'next_prio', 'ctrl_id', 'metadata', 'nsid', 'fctype', 'retries', 'flags', 'mflags']);
/** Fields holding addresses, printed in hex as the kernel prints pointers. */
const ADDRESS_FIELDS = new Set(['address', 'vm_start', 'vm_end', 'buf', 'dma_addr', 'ip', 'vpn']);

export interface StepsRecorder {
  /** The text printed after the summary ('' when no data I/O started). */
  render(): string;
  /** Stops recording (the probes detach). */
  detach(): void;
}

/**
 * Records, from now on, every tracepoint hit of the first `ioCount` data I/Os (a read or write
 * syscall, or a user page fault) and renders them as the tour's steps.
 */
export function recordSteps(m: Machine, ioCount: number): StepsRecorder {
  const traced: TracedIo[] = [];
  const byIoId = new Map<number, TracedIo>();
  const copy = (h: ProbeHit): StepHit => ({
    timeNs: h.timeNs,
    cpu: h.cpu,
    pid: h.pid,
    comm: h.comm,
    probe: h.site.fullName.slice('tracepoint:'.length),
    fields: { ...h.fields },
  });
  let open = 0;
  let detached = false;
  const detachProbes = attach(m, 'tracepoint:*', (h) => {
    if (h.ioId === 0) return;
    const io = byIoId.get(h.ioId);
    if (io !== undefined) {
      if (io.ended) return;
      // raw_syscalls:* repeat the syscalls:* hits next to them
      if (!h.site.fullName.startsWith('tracepoint:raw_syscalls:')) io.hits.push(copy(h));
      const name = h.site.fullName;
      if (name === FAULT_END || name.startsWith('tracepoint:syscalls:sys_exit_')) {
        io.ended = true;
        // every I/O it traces is over: stop paying for probes on the rest of the run
        if (--open === 0 && traced.length >= ioCount) detach();
      }
      return;
    }
    if (traced.length >= ioCount) return;
    const name = h.site.fullName.slice('tracepoint:'.length);
    if (name !== FAULT_START && !SYSCALL_STARTS.includes(name)) return;
    const start = copy(h);
    const fresh: TracedIo = { ioId: h.ioId, pid: h.pid, comm: h.comm, start, hits: [start], ended: false };
    traced.push(fresh);
    byIoId.set(h.ioId, fresh);
    open++;
  });
  const detach = (): void => {
    if (detached) return;
    detached = true;
    detachProbes();
  };
  return { render: () => traced.map(renderIo).join(''), detach };
}

/** "155.660us": simulated time in microseconds with every nanosecond. */
function micros(ns: number): string {
  return `${(ns / 1000).toFixed(3)}us`;
}

/** "+65.7us", "+13.405ms": time since the I/O's first hit. */
function since(ns: number): string {
  if (ns < 1_000) return `+${ns}ns`;
  if (ns < 1_000_000) return `+${(ns / 1_000).toFixed(3)}us`;
  return `+${(ns / 1_000_000).toFixed(3)}ms`;
}

function fieldText(name: string, value: FieldValue): string | undefined {
  if (QUIET_FIELDS.has(name) || Array.isArray(value) || value === '') return undefined;
  if (typeof value === 'number' && ADDRESS_FIELDS.has(name)) return `${name}=0x${value.toString(16)}`;
  return `${name}=${typeof value === 'string' ? printable(value) : String(value)}`;
}

function fieldsText(fields: FieldRecord): string {
  return Object.entries(fields)
    .map(([name, value]) => fieldText(name, value))
    .filter((t): t is string => t !== undefined)
    .join(' ');
}

function describeIo(io: TracedIo): string {
  const f = io.start.fields;
  const task = `${printable(io.comm)} (pid ${io.pid})`;
  if (io.start.probe === FAULT_START) return `page fault at 0x${Number(f['address'] ?? 0).toString(16)} by ${task}`;
  const call = io.start.probe.slice('syscalls:sys_enter_'.length);
  return `${call}() of ${String(f['count'] ?? '?')} bytes from fd ${String(f['fd'] ?? '?')} by ${task}`;
}

/** The fault chain as its hits resolved it, link by link ("?" for a link no hit showed). */
function faultChain(io: TracedIo): string[] {
  const first = (probe: string): StepHit | undefined => io.hits.find((h) => h.probe === probe);
  const field = (probe: string, name: string, hex = false): string => {
    const v = first(probe)?.fields[name];
    if (typeof v !== 'number') return '?';
    return hex ? `0x${v.toString(16)}` : String(v);
  };
  const vma = 'kiotrace:fault_vma';
  const chain = [
    `VA ${field(FAULT_START, 'address', true)}`,
    `VPN ${field(vma, 'vpn', true)}`,
    `(inode ${field(vma, 'i_ino')}, pgoff ${field(vma, 'pgoff')})`,
    `block ${field('ext4:ext4_ext_map_blocks_exit', 'pblk')}`,
    `sector ${field('block:block_bio_queue', 'sector')}`,
    `PFN ${field('filemap:mm_filemap_add_to_page_cache', 'pfn')}`,
  ].join(' -> ');
  const pte = first('kiotrace:set_pte');
  const installed =
    pte === undefined
      ? 'no PTE installed yet'
      : `PTE installed at ${micros(pte.timeNs)} (${since(pte.timeNs - io.start.timeNs)}), ${pte.fields['major'] === 1 ? 'a major fault' : 'a minor fault'}`;
  return [`  fault chain: ${chain}`, `  ${installed}`];
}

function renderIo(io: TracedIo): string {
  const steps = io.start.probe === FAULT_START ? FAULT_STEPS : SYSCALL_STEPS;
  const lines = [`Steps of I/O ${io.ioId}: ${describeIo(io)}, ${io.hits.length} probe hits`];
  let step = -1;
  for (const hit of io.hits) {
    const next = steps.findIndex((s, i) => i > step && s.opens(hit, io));
    if (next !== -1) {
      step = next;
      lines.push(`  ${String(step + 1).padStart(2)} ${steps[step]!.title}`);
    }
    const task = `${printable(hit.comm)}/${hit.pid}`;
    lines.push(
      `     ${micros(hit.timeNs).padStart(13)} ${since(hit.timeNs - io.start.timeNs).padStart(10)}  cpu${hit.cpu} ${task.padEnd(16)} ${hit.probe.padEnd(38)} ${fieldsText(hit.fields)}`.trimEnd(),
    );
  }
  if (io.start.probe === FAULT_START) lines.push(...faultChain(io));
  return `${lines.join('\n')}\n\n`;
}
