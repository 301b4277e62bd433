// Models: the BSD line printer spooler (lpd(8), lpr(1), lpq(1), lprm(1), lpc(8)) with CUPS's names
// for its switches (cupsdisable/cupsenable): a printer cannot take interleaved output, so a client
// writes each document whole into a file of the printer's spool directory
// (/var/spool/lpd/<printer>/dfA<job>localhost) with ordinary open/write/close and then queues it;
// the printer's daemon prints queued files one at a time: it opens the device (one opener: its
// own), reads the spool file and writes it to the device, which holds it to the line's speed.
// The control interface lists the queue, removes jobs and stops and starts printing.
// SIMPLIFICATION: the client queues its job with a function call where lpr talks to lpd over a
// socket (no control file cfA..., no socket syscalls); spool files stay after printing (no unlink).
// SIMPLIFICATION: the model's files carry page versions, not bytes: a job keeps its document's
// bytes with its queue entry, and the daemon's buffer is filled from there after each read().
// SIMPLIFICATION: stopping a queue (cupsdisable, lpc stop) lets the job printing finish, as
// `cupsdisable --hold` and lpc stop do (CUPS's plain cupsdisable stops it and reprints it whole later).

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { SCHED, TaskState } from '../kernel/sched/task.js';
import { WaitQueue } from '../sim/process.js';
import { sysClose, sysMmap, sysOpenat, AT_FDCWD } from '../fs/open.js';
import { sysRead, sysWrite } from '../fs/read_write.js';
import { O } from '../fs/types.js';
import { MAP, PROT } from '../mm/mmap.js';
import { sysClockNanosleep } from '../kernel/time/timer.js';
import { EBUSY } from '../uapi/errno.js';
import { flushSignals, SIG, sysKill } from '../kernel/signal.js';

/** lpd's and lpr's copy buffer (BUFSIZ). */
export const SPOOL_BUF_BYTES = 8192;
/** How long the daemon waits before opening a busy printer again (CUPS's backends wait 10 s). */
export const BUSY_RETRY_NS = 10_000_000_000;
/** CPU time of a command's own work (parsing, formatting a listing). */
const COMMAND_NS = 20_000;

/** A print job's life: spooled and waiting, on the printer, printed, removed (lprm). */
export type SpoolJobState = 'queued' | 'printing' | 'done' | 'removed';

/** One entry of a printer's queue (what lpd's control file says about a job). */
export interface SpoolJob {
  readonly id: number;
  readonly owner: string;
  readonly title: string;
  /** The spool file holding the document. */
  readonly path: string;
  readonly data: Uint8Array;
  state: SpoolJobState;
  readonly queuedNs: number;
  startNs: number;
  endNs: number;
}

/** A printer's queue and its daemon (an lpd child per printer). */
export class PrintQueue {
  readonly jobs: SpoolJob[] = [];
  /** Printing enabled (lpc start / cupsenable) or stopped (lpc stop / cupsdisable). */
  enabled = true;
  /** The daemon sleeps here until there is work. */
  readonly waitq = new WaitQueue();
  active: SpoolJob | undefined;
  daemon: Task | undefined;
  /** Jobs ever numbered on this queue (lpd's .seq file). */
  private seq = 0;

  constructor(
    readonly printer: string,
    readonly spoolDir: string,
  ) {}

  get devicePath(): string {
    return `/dev/${this.printer}`;
  }

  /** Next job number and its spool file (dfA<job>localhost, job numbers mod 1000). */
  nextJob(): { id: number; path: string } {
    const id = ++this.seq;
    return { id, path: `${this.spoolDir}/dfA${String(id % 1000).padStart(3, '0')}localhost` };
  }

  /** Jobs not yet printed or removed, in printing order (the active one first). */
  pending(): SpoolJob[] {
    return this.jobs.filter((j) => j.state === 'queued' || j.state === 'printing');
  }
}

/** The machine's spooler: a queue per printer, and what its commands printed. */
export class Spooler {
  readonly queues = new Map<string, PrintQueue>();

  constructor(private readonly k: Kernel) {}

  queue(printer: string): PrintQueue | undefined {
    return this.queues.get(printer);
  }

  /** The first printer: the default destination (lpr's PRINTER, lp's -d). */
  get defaultQueue(): PrintQueue | undefined {
    return this.queues.values().next().value;
  }

  /** A job's state changed: the kiotrace:spool_job probe. */
  noteState(task: Task, q: PrintQueue, job: SpoolJob, state: SpoolJobState | 'suspended' | 'resumed'): void {
    const k = this.k;
    if (k.tp.spool_job.enabled) k.tp.spool_job.emit(k.sched.cpu(task.cpu), task.ioId, q.printer, job.id, job.owner, job.data.length, state);
  }

  /** lpr's last step: the spooled file becomes a queued job and the daemon is told. */
  enqueue(task: Task, q: PrintQueue, job: SpoolJob): void {
    q.jobs.push(job);
    this.noteState(task, q, job, 'queued');
    q.waitq.wakeAll();
  }

  /** lpq: the queue as lpq lists it. */
  lpq(q: PrintQueue): string[] {
    const pending = q.pending();
    const status = !q.enabled ? `${q.printer} is not ready` : q.active ? `${q.printer} is ready and printing` : `${q.printer} is ready`;
    if (pending.length === 0) return [status, 'no entries'];
    const lines = [status, `${'Rank'.padEnd(7)}${'Owner'.padEnd(11)}${'Job'.padEnd(5)}${'Files'.padEnd(38)}Total Size`];
    let rank = 0;
    for (const j of pending) {
      const r = j.state === 'printing' ? 'active' : ordinal(++rank);
      lines.push(`${r.padEnd(7)}${j.owner.slice(0, 10).padEnd(11)}${String(j.id).padEnd(5)}${j.title.slice(0, 37).padEnd(38)}${j.data.length} bytes`);
    }
    return lines;
  }

  /**
   * lprm: remove job `id` from its queue. A queued job is dequeued; the active one is cut short:
   * lprm signals the printing daemon (lpd's SIGINT to its child), whose blocked write() returns. `user` may remove only their own jobs
   * (undefined: root, anyone's). Returns whether it did, and what lprm prints.
   */
  lprm(task: Task, q: PrintQueue, id: number, user: string | undefined): { ok: boolean; lines: string[] } {
    const job = q.jobs.find((j) => j.id === id && (j.state === 'queued' || j.state === 'printing'));
    if (!job) return { ok: false, lines: [`lprm: ${q.printer}: job ${id} not found`] };
    if (user !== undefined && job.owner !== user) return { ok: false, lines: [`lprm: ${q.printer}: job ${id}: Permission denied (owned by ${job.owner})`] };
    const name = job.path.slice(job.path.lastIndexOf('/') + 1);
    const lines = job.state === 'printing' ? [`${q.printer}: cancelled active job ${id}`, `${name} dequeued`] : [`${name} dequeued`];
    const active = job.state === 'printing';
    job.state = 'removed';
    job.endNs = this.k.env.nowNs;
    this.noteState(task, q, job, 'removed');
    if (active && q.daemon) sysKill(this.k, task, q.daemon, SIG.INT);
    return { ok: true, lines };
  }

  /** cupsdisable / lpc stop: no new job starts (the one printing finishes). */
  disable(task: Task, q: PrintQueue): void {
    if (!q.enabled) return;
    q.enabled = false;
    // the job that now waits: the first queued one (the one printing goes on)
    const waiting = q.jobs.find((j) => j.state === 'queued');
    if (waiting) this.noteState(task, q, waiting, 'suspended');
  }

  /** cupsenable / lpc start: printing goes on with the next job. */
  enable(task: Task, q: PrintQueue): void {
    if (q.enabled) return;
    q.enabled = true;
    const head = q.pending()[0];
    if (head) this.noteState(task, q, head, 'resumed');
    q.waitq.wakeAll();
  }
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

/** A private buffer of the process (malloc): mapped, so the kernel's copies find it. */
function* userBuffer(k: Kernel, task: Task, bytes: number): Generator<number, number, void> {
  return yield* sysMmap(k, task, 0, bytes, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
}

/**
 * lpr: copy the document into the spool directory with open(O_CREAT|O_EXCL)/write/close, then
 * queue it. Returns the job, or a negative errno when the spool file could not be written.
 */
export function* lprSubmit(k: Kernel, task: Task, spool: Spooler, q: PrintQueue, owner: string, title: string, data: Uint8Array): Generator<number, SpoolJob | number, void> {
  const { id, path } = q.nextJob();
  const buf = yield* userBuffer(k, task, SPOOL_BUF_BYTES);
  if (buf < 0) return buf;
  const fd = yield* sysOpenat(k, task, AT_FDCWD, path, O.WRONLY | O.CREAT | O.EXCL, 0o660);
  if (fd < 0) return fd;
  for (let off = 0; off < data.length; ) {
    const n = Math.min(SPOOL_BUF_BYTES, data.length - off);
    task.mm!.userBytes.set(buf, data.subarray(off, off + n));
    const ret = yield* sysWrite(k, task, fd, buf, n);
    if (ret <= 0) {
      yield* sysClose(k, task, fd);
      return ret < 0 ? ret : -EBUSY;
    }
    off += ret;
  }
  yield* sysClose(k, task, fd);
  const job: SpoolJob = { id, owner, title, path, data, state: 'queued', queuedNs: k.env.nowNs, startNs: -1, endNs: -1 };
  spool.enqueue(task, q, job);
  return job;
}

/**
 * The printer's daemon (lpd's printjob loop): sleep until a job is queued and printing is on,
 * then print it whole: open the device, read the spool file, write it to the device.
 */
export function* lpdDaemon(k: Kernel, task: Task, spool: Spooler, q: PrintQueue): Generator<number, void, void> {
  const buf = yield* userBuffer(k, task, SPOOL_BUF_BYTES);
  for (;;) {
    const job = q.enabled ? q.jobs.find((j) => j.state === 'queued') : undefined;
    if (!job) {
      task.state = TaskState.INTERRUPTIBLE;
      q.waitq.add(task);
      yield SCHED;
      continue;
    }
    const dev = yield* sysOpenat(k, task, AT_FDCWD, q.devicePath, O.WRONLY, 0);
    if (dev < 0) {
      // someone else has the printer (lp allows one opener): try again later
      yield* sysClockNanosleep(k, task, BUSY_RETRY_NS);
      continue;
    }
    const fd = yield* sysOpenat(k, task, AT_FDCWD, job.path, O.RDONLY, 0);
    q.active = job;
    job.state = 'printing';
    job.startNs = k.env.nowNs;
    spool.noteState(task, q, job, 'printing');
    let off = 0;
    while (fd >= 0 && off < job.data.length && job.state === 'printing') {
      const n = yield* sysRead(k, task, fd, buf, SPOOL_BUF_BYTES);
      if (n <= 0) break;
      task.mm!.userBytes.set(buf, job.data.subarray(off, off + n));
      const w = yield* sysWrite(k, task, dev, buf, n);
      if (w <= 0) break;
      off += w;
    }
    if (fd >= 0) yield* sysClose(k, task, fd);
    yield* sysClose(k, task, dev);
    // the interrupt that cut the job short has been dealt with
    flushSignals(task);
    q.active = undefined;
    if (job.state === 'printing') {
      job.state = 'done';
      job.endNs = k.env.nowNs;
      spool.noteState(task, q, job, 'done');
    }
    yield COMMAND_NS;
  }
}

/**
 * Reads a printer's paper back as jobs: from the start, each stretch must be one job's document
 * whole (the first not yet matched whose bytes are there). Returns the job ids in paper order;
 * a stretch no job explains (interleaved or cut-short output) is -1, and the reading stops there.
 */
export function paperJobs(paper: Uint8Array, jobs: readonly SpoolJob[]): number[] {
  const out: number[] = [];
  const left = [...jobs];
  let off = 0;
  while (off < paper.length) {
    const i = left.findIndex((j) => j.data.length > 0 && off + j.data.length <= paper.length && sameBytes(paper, off, j.data));
    if (i < 0) {
      out.push(-1);
      break;
    }
    out.push(left[i]!.id);
    off += left[i]!.data.length;
    left.splice(i, 1);
  }
  return out;
}

function sameBytes(paper: Uint8Array, off: number, data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) if (paper[off + i] !== data[i]) return false;
  return true;
}
