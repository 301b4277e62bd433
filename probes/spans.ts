// The span builder (ARCHITECTURE §6): one OpenTelemetry trace per ioId, made with the real SDK
// from probe hits. The root is the I/O's origin (a syscall, a page fault, a writeback flush, an
// asynchronous readahead); under it one span per layer the I/O crosses: VFS, page cache, fs
// mapping, bio, block request (with its queue wait), driver, device, DMA, interrupt, and the
// wake-up of the task that waited. Times are simulated nanoseconds passed as HrTime; parents are
// explicit contexts; ids come from (run, ioId, ordinal), the run being its seed, scenario and epoch.

import { ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type HrTime, type Span, type Tracer } from '@opentelemetry/api';
import type { IdGenerator } from '@opentelemetry/sdk-trace-node';
import { errnoName, type Bio, type DeviceStep, type DmaStep, type Machine, type ProbeHit, type Request } from '../core/index.js';
import { attach } from './attach.js';

/** Attribute names: OpenTelemetry semantic conventions where one exists, else `kiotrace.*`. */
export const ATTR = {
  ioId: 'kiotrace.io.id',
  pid: 'process.pid',
  threadId: 'thread.id',
  threadName: 'thread.name',
  cpu: 'cpu.logical_number',
  device: 'system.device',
  errorType: 'error.type',
  errno: 'kiotrace.errno',
  ret: 'kiotrace.syscall.ret',
  va: 'kiotrace.fault.va',
  vpn: 'kiotrace.fault.vpn',
  inode: 'kiotrace.inode',
  pgoff: 'kiotrace.pgoff',
  block: 'kiotrace.block',
  sector: 'kiotrace.sector',
  pfn: 'kiotrace.pfn',
  majorFault: 'kiotrace.fault.major',
  bytes: 'kiotrace.bytes',
  rwbs: 'kiotrace.rwbs',
  queueDepth: 'kiotrace.queue_depth',
  queueWaitNs: 'kiotrace.queue_wait_ns',
  tag: 'kiotrace.tag',
  hwQueue: 'kiotrace.hw_queue',
  irq: 'kiotrace.irq.vector',
  irqName: 'kiotrace.irq.name',
  merged: 'kiotrace.merged',
  wokenPid: 'kiotrace.woken.pid',
  targetCpu: 'kiotrace.target_cpu',
  /** The run ended before this span did: its end is the end of the run, not of the work. */
  unfinished: 'kiotrace.unfinished',
} as const;

/** The event on a span the run's end cut short, at the end of the run. */
export const RUN_ENDED_EVENT = 'run ended before this span did';

/** Modeled functions that become layer spans, under their Linux names. */
const LAYER_FUNCTIONS = [
  'vfs_read',
  'vfs_write',
  'vfs_open',
  'vfs_create',
  'vfs_fsync',
  'vfs_fsync_range',
  'vfs_llseek',
  'ext4_file_read_iter',
  'ext4_file_write_iter',
  'ext4_sync_file',
  'filemap_read',
  'filemap_fault',
  'filemap_get_pages',
  'page_cache_sync_ra',
  'handle_mm_fault',
  'submit_bio',
  'do_nanosleep',
];

/**
 * Trace and span ids from (run, ioId, ordinal). A trace id is [run word][ioId as 64 bits][mix of
 * run and ioId], a span id [that mix][ordinal + 1]: readable in a UI, unique within a run by
 * construction, and different between runs. The run's 64 bits hash what identifies it (the seed,
 * and from the caller the scenario's name and content, the duration, the epoch), so two runs share
 * a trace id only if those 64 bits collide, while the same run with the same --epoch gets the same
 * ids. The SDK asks for ids with no arguments, so the builder sets them first.
 */
export class SimIdGenerator implements IdGenerator {
  private traceId = '';
  private spanId = '';
  private readonly runHex: string;
  /** Mixed with each ioId: the second 32 bits of the run's identity. */
  private readonly runMix: number;

  /** `runIdentity`: text that tells this run from others with the same seed (empty: the seed alone). */
  constructor(seed: number, runIdentity = '') {
    const h = fnv1a64(`${seed}\0${runIdentity}`);
    const lo = Number(h & 0xffff_ffffn);
    const hi = Number(h >> 32n);
    // a bijection of the 64 bits, so that distinct hashes stay distinct ids, with every bit of the hash in the first word
    this.runMix = mix32(lo);
    this.runHex = hex32(mix32(hi ^ this.runMix));
  }

  private lastIoId = -1;
  private mixedHex = '';

  /** Ids for the next span: ordinal 0 is the trace's root. */
  prepare(ioId: number, ordinal: number): void {
    if (ioId !== this.lastIoId) {
      // an I/O's spans are mostly made back to back: its trace id is worked out once
      this.lastIoId = ioId;
      this.mixedHex = hex32(mix32(ioId ^ this.runMix));
      this.traceId = this.runHex + hex32(Math.floor(ioId / 0x1_0000_0000)) + hex32(ioId >>> 0) + this.mixedHex;
    }
    this.spanId = this.mixedHex + hex32(ordinal + 1);
  }

  traceIdOf(ioId: number): string {
    this.prepare(ioId, 0);
    return this.traceId;
  }

  generateTraceId(): string {
    return this.traceId;
  }

  generateSpanId(): string {
    return this.spanId;
  }
}

/** FNV-1a, 64 bits, over the text's UTF-8: once per run, so BigInt is fast enough. */
function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xffff_ffff_ffff_ffffn;
  return h;
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** murmur3's 32-bit finalizer (a bijection): spreads consecutive ioIds over the whole id space (and the sampler's). */
function mix32(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Converts simulated ns to wall-clock HrTime: simulated t=0 is `epochNs`. */
export class SimClock {
  private readonly epochSec: number;
  private readonly epochNanos: number;

  constructor(epochNs: bigint) {
    this.epochSec = Number(epochNs / 1_000_000_000n);
    this.epochNanos = Number(epochNs % 1_000_000_000n);
  }

  hrTime(simNs: number): HrTime {
    const nanos = this.epochNanos + (simNs % 1_000_000_000);
    return [this.epochSec + Math.floor(simNs / 1_000_000_000) + Math.floor(nanos / 1_000_000_000), nanos % 1_000_000_000];
  }
}

/**
 * A map that remembers at least its last `capacity` keys, in two generations: O(1) always.
 * (Deleting a Map's oldest key one at a time leaves holes V8 walks over on every next delete.)
 */
class RecentMap<V> {
  private current = new Map<number, V>();
  private previous = new Map<number, V>();

  constructor(private readonly capacity: number) {}

  get(key: number): V | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }

  has(key: number): boolean {
    return this.current.has(key) || this.previous.has(key);
  }

  set(key: number, value: V): void {
    this.current.set(key, value);
    if (this.current.size >= this.capacity) {
      this.previous = this.current;
      this.current = new Map();
    }
  }
}

/** Told when every span of a trace has ended, so file exporters can write the trace whole. */
export type TraceCompleteListener = (traceId: string) => void;

interface IoTrace {
  readonly ioId: number;
  ordinal: number;
  readonly root: Span;
  readonly rootContext: Context;
  readonly origin: 'syscall' | 'fault' | 'other';
  /** Spans started and not yet ended, the root included. */
  open: number;
  /** Requests of this I/O in the block layer. */
  requests: number;
  originDone: boolean;
  rootEnded: boolean;
  wake: Span | undefined;
  /** The task the wake-up is for, until it is back on a CPU. */
  wokenPid: number;
}

interface FunctionFrame {
  readonly name: string;
  readonly io: IoTrace;
  readonly span: Span;
  readonly context: Context;
}

interface RequestSpans {
  readonly io: IoTrace;
  readonly span: Span;
  readonly context: Context;
  queue: Span | undefined;
  driver: Span | undefined;
  driverContext: Context | undefined;
  device: Span | undefined;
  insertedNs: number;
  readonly deviceName: string;
}

interface BioSpan {
  readonly io: IoTrace;
  readonly span: Span;
  readonly context: Context;
}

interface IrqFrame {
  readonly startNs: number;
  readonly name: string;
  readonly vector: number;
  readonly completed: { io: IoTrace; parent: Context }[];
}

type BlockRequest = Request & { readonly dev: number };

export class SpanBuilder {
  /** Spans started (sampled ones only): what the exporters should receive. */
  spansStarted = 0;
  private readonly traces = new Map<number, IoTrace>();
  /** Ordinals of recently finished traces, in case a late hit of the same I/O comes in. */
  private readonly finishedOrdinals = new RecentMap<number>(4096);
  private readonly stacks = new Map<number, FunctionFrame[]>();
  private readonly bios = new Map<Bio, BioSpan>();
  private readonly requests = new Map<BlockRequest, RequestSpans>();
  /** Every request on a device now, traced or not: the queue depth a driver span reports. */
  private readonly onDevice = new Set<BlockRequest>();
  private readonly irqFrames: IrqFrame[][] = [];
  private readonly deviceInFlight = new Map<number, number>();
  private readonly unsampled = new RecentMap<true>(65536);
  private detach: (() => void) | undefined;

  constructor(
    private readonly m: Machine,
    private readonly tracer: Tracer,
    private readonly ids: SimIdGenerator,
    private readonly clock: SimClock,
    private readonly onTraceComplete: TraceCompleteListener,
    /** Decides, from the hit that starts an I/O, whether to trace it at all (before any id or span work). */
    private readonly admit: (h: ProbeHit) => boolean = () => true,
  ) {
    for (let c = 0; c < m.spec.cpus; c++) this.irqFrames.push([]);
  }

  start(): void {
    const m = this.m;
    const detachers: (() => void)[] = [];
    const on = (spec: string, handler: (hit: ProbeHit) => void): void => {
      detachers.push(attach(m, spec, handler));
    };
    on('tracepoint:syscalls:sys_enter_*', (h) => this.originEnter(h, h.site.fullName.slice('tracepoint:syscalls:sys_enter_'.length), 'syscall'));
    on('tracepoint:syscalls:sys_exit_*', (h) => this.syscallExit(h));
    on('tracepoint:exceptions:page_fault_user', (h) => this.originEnter(h, 'page_fault', 'fault'));
    on('tracepoint:kiotrace:set_pte', (h) => this.setPte(h));
    on('tracepoint:writeback:writeback_start', (h) => this.originEnter(h, 'writeback', 'other'));
    on('tracepoint:writeback:writeback_written', (h) => this.otherOriginDone(h));
    on('kprobe:page_cache_async_ra', (h) => this.originEnter(h, 'readahead', 'other'));
    // an io_uring SQE and a libaio iocb are I/Os of their own, from submission to completion
    on('tracepoint:io_uring:io_uring_submit_req', (h) => this.originEnter(h, `io_uring ${String(h.fields.op_str)}`, 'other'));
    on('tracepoint:io_uring:io_uring_complete', (h) => this.asyncDone(h, Number(h.fields.res)));
    on('kprobe:io_submit_one', (h) => this.originEnter(h, 'iocb', 'other'));
    on('kprobe:aio_complete_rw', (h) => this.asyncDone(h, h.argValue(1)));
    on('kretprobe:page_cache_async_ra', (h) => this.otherOriginDone(h));
    for (const fn of LAYER_FUNCTIONS) {
      if (!m.k.registry.get(`kprobe:${fn}`)) continue;
      on(`kprobe:${fn}`, (h) => this.functionEnter(h, fn));
      on(`kretprobe:${fn}`, (h) => this.functionReturn(h, fn));
    }
    on('tracepoint:ext4:ext4_ext_map_blocks_enter', (h) => this.functionEnter(h, 'ext4_ext_map_blocks'));
    on('tracepoint:ext4:ext4_ext_map_blocks_exit', (h) => this.functionReturn(h, 'ext4_ext_map_blocks'));
    on('kprobe:submit_bio', (h) => this.submitBio(h));
    on('tracepoint:block:block_bio_backmerge', (h) => this.bioMerged(h, 'back'));
    on('tracepoint:block:block_bio_frontmerge', (h) => this.bioMerged(h, 'front'));
    on('tracepoint:block:block_rq_insert', (h) => this.requestInsert(h));
    on('tracepoint:block:block_rq_issue', (h) => this.requestIssue(h));
    on('tracepoint:block:block_rq_merge', (h) => this.requestMerged(h));
    on('tracepoint:block:block_rq_requeue', (h) => this.requestRequeued(h));
    on('tracepoint:kiotrace:device_fetch', (h) => this.deviceFetch(h));
    on('tracepoint:kiotrace:dma_transfer', (h) => this.dmaTransfer(h));
    on('tracepoint:block:block_rq_complete', (h) => this.requestComplete(h));
    on('tracepoint:irq:irq_handler_entry', (h) => this.irqEnter(h, `irq/${String(h.fields.irq)} ${String(h.fields.name)}`, Number(h.fields.irq)));
    on('tracepoint:irq:irq_handler_exit', (h) => this.irqExit(h));
    on('tracepoint:irq:softirq_entry', (h) => this.irqEnter(h, `softirq ${Number(h.fields.vec) === 4 ? 'BLOCK' : String(h.fields.vec)}`, Number(h.fields.vec)));
    on('tracepoint:irq:softirq_exit', (h) => this.irqExit(h));
    on('tracepoint:sched:sched_waking', (h) => this.waking(h));
    on('tracepoint:sched:sched_switch', (h) => this.switched(h));
    this.detach = () => {
      for (const d of detachers) d();
    };
  }

  /**
   * Ends every span still open at `endNs`: I/Os still in flight when the run stopped. Each such span
   * says so (kiotrace.unfinished and a "run ended" event at `endNs`), so a span cut short by the end
   * of the run is never read as one that took that long.
   */
  stop(endNs: number): void {
    this.detach?.();
    this.detach = undefined;
    const t = this.clock.hrTime(endNs);
    const cut = (span: Span | undefined): void => {
      if (!span) return;
      span.setAttribute(ATTR.unfinished, true);
      span.addEvent(RUN_ENDED_EVENT, {}, t);
      span.end(t);
    };
    for (const r of this.requests.values()) {
      cut(r.queue);
      cut(r.device);
      cut(r.driver);
      cut(r.span);
    }
    for (const b of this.bios.values()) cut(b.span);
    for (const stack of this.stacks.values()) for (const f of stack) cut(f.span);
    for (const io of this.traces.values()) {
      cut(io.wake);
      if (!io.rootEnded) cut(io.root);
      this.onTraceComplete(io.root.spanContext().traceId);
    }
    this.traces.clear();
    this.requests.clear();
    this.bios.clear();
    this.stacks.clear();
  }

  // ---- traces and spans -------------------------------------------------------------------

  private startSpan(io: IoTrace, name: string, startNs: number, parent: Context, attributes: Attributes): Span {
    this.ids.prepare(io.ioId, io.ordinal++);
    io.open++;
    this.spansStarted++;
    return this.tracer.startSpan(name, { startTime: this.clock.hrTime(startNs), attributes }, parent);
  }

  private endSpan(io: IoTrace, span: Span, endNs: number): void {
    span.end(this.clock.hrTime(endNs));
    io.open--;
    this.maybeComplete(io, endNs);
  }

  /** A trace is written once its origin is done and nothing of it is left open. */
  private maybeComplete(io: IoTrace, nowNs: number): void {
    if (io.origin === 'other' && io.originDone && io.open === 1 && io.requests === 0) {
      io.root.end(this.clock.hrTime(nowNs));
      io.rootEnded = true;
      io.open = 0;
    }
    if (io.open !== 0) return;
    this.traces.delete(io.ioId);
    this.finishedOrdinals.set(io.ioId, io.ordinal);
    this.onTraceComplete(io.root.spanContext().traceId);
  }

  private process(h: ProbeHit): Attributes {
    return { [ATTR.ioId]: h.ioId, [ATTR.pid]: h.pid, [ATTR.threadId]: h.tid, [ATTR.threadName]: h.comm, [ATTR.cpu]: h.cpu };
  }

  private newTrace(h: ProbeHit, name: string, origin: IoTrace['origin']): IoTrace | undefined {
    if (this.unsampled.has(h.ioId)) return undefined;
    if (!this.admit(h)) {
      this.skip(h.ioId);
      return undefined;
    }
    const ordinal = this.finishedOrdinals.get(h.ioId) ?? 0;
    this.ids.prepare(h.ioId, ordinal);
    const root = this.tracer.startSpan(name, { root: true, startTime: this.clock.hrTime(h.timeNs), attributes: this.process(h) }, ROOT_CONTEXT);
    if (!root.isRecording()) {
      // sampled out by trace id: nothing else of this I/O is built
      this.skip(h.ioId);
      return undefined;
    }
    this.spansStarted++;
    const io: IoTrace = {
      ioId: h.ioId,
      ordinal: ordinal + 1,
      root,
      rootContext: trace.setSpan(ROOT_CONTEXT, root),
      origin,
      open: 1,
      requests: 0,
      originDone: false,
      rootEnded: false,
      wake: undefined,
      wokenPid: -1,
    };
    this.traces.set(h.ioId, io);
    return io;
  }

  private skip(ioId: number): void {
    this.unsampled.set(ioId, true);
  }

  /** The trace of a hit's I/O, begun at this hit if the I/O is new to us. */
  private traceOf(h: ProbeHit, name: string): IoTrace | undefined {
    if (h.ioId === 0) return undefined;
    return this.traces.get(h.ioId) ?? this.newTrace(h, name, 'other');
  }

  private inInterrupt(cpu: number): boolean {
    return (this.irqFrames[cpu]?.length ?? 0) > 0;
  }

  // ---- origins ------------------------------------------------------------------------------

  private originEnter(h: ProbeHit, name: string, origin: IoTrace['origin']): void {
    if (h.ioId === 0 || this.traces.has(h.ioId)) return;
    const io = this.newTrace(h, name, origin);
    if (io && origin === 'fault') io.root.setAttribute(ATTR.va, Number(h.fields.address));
  }

  private syscallExit(h: ProbeHit): void {
    const io = this.traces.get(h.ioId);
    if (!io || io.origin !== 'syscall') return;
    const ret = Number(h.fields.ret);
    io.root.setAttribute(ATTR.ret, ret);
    if (ret < 0) {
      io.root.setAttribute(ATTR.errorType, errnoName(ret));
      io.root.setAttribute(ATTR.errno, -ret);
      io.root.setStatus({ code: SpanStatusCode.ERROR, message: errnoName(ret) });
    }
    this.finishOrigin(io, h);
  }

  private finishOrigin(io: IoTrace, h: ProbeHit): void {
    const stack = this.stacks.get(h.tid);
    while (stack && stack.length > 0 && stack[stack.length - 1]!.io === io) {
      const f = stack.pop()!;
      this.endSpan(io, f.span, h.timeNs);
    }
    if (io.wake) {
      const wake = io.wake;
      io.wake = undefined;
      this.endSpan(io, wake, h.timeNs);
    }
    io.originDone = true;
    io.root.end(this.clock.hrTime(h.timeNs));
    io.rootEnded = true;
    io.open--;
    this.maybeComplete(io, h.timeNs);
  }

  /** An async I/O's completion (a CQE posted, an io_event filled): its result, then the end of its origin. */
  private asyncDone(h: ProbeHit, res: number): void {
    const io = this.traces.get(h.ioId);
    if (!io || io.origin !== 'other') return;
    io.root.setAttribute(ATTR.ret, res);
    if (res < 0) {
      io.root.setAttribute(ATTR.errorType, errnoName(res));
      io.root.setAttribute(ATTR.errno, -res);
      io.root.setStatus({ code: SpanStatusCode.ERROR, message: errnoName(res) });
    }
    this.otherOriginDone(h);
  }

  private otherOriginDone(h: ProbeHit): void {
    const io = this.traces.get(h.ioId);
    if (!io || io.origin !== 'other') return;
    io.originDone = true;
    this.maybeComplete(io, h.timeNs);
  }

  private setPte(h: ProbeHit): void {
    const io = this.traces.get(h.ioId);
    if (!io) return;
    const f = h.fields;
    io.root.setAttributes({
      [ATTR.vpn]: Number(f.vpn),
      [ATTR.inode]: Number(f.i_ino),
      [ATTR.pgoff]: Number(f.pgoff),
      [ATTR.block]: Number(f.block),
      [ATTR.sector]: Number(f.sector),
      [ATTR.pfn]: Number(f.pfn),
      [ATTR.majorFault]: Boolean(f.major),
    });
  }

  // ---- process-context layers -------------------------------------------------------------

  private parentFor(tid: number, io: IoTrace): Context {
    const stack = this.stacks.get(tid);
    const top = stack?.[stack.length - 1];
    return top && top.io === io ? top.context : io.rootContext;
  }

  private functionEnter(h: ProbeHit, name: string): void {
    if (this.inInterrupt(h.cpu)) return;
    const io = this.traceOf(h, name);
    if (!io) return;
    const span = this.startSpan(io, name, h.timeNs, this.parentFor(h.tid, io), {});
    let stack = this.stacks.get(h.tid);
    if (!stack) this.stacks.set(h.tid, (stack = []));
    stack.push({ name, io, span, context: trace.setSpan(ROOT_CONTEXT, span) });
  }

  private functionReturn(h: ProbeHit, name: string): void {
    if (this.inInterrupt(h.cpu)) return;
    const stack = this.stacks.get(h.tid);
    if (!stack) return;
    let at = stack.length - 1;
    while (at >= 0 && stack[at]!.name !== name) at--;
    if (at < 0) return;
    while (stack.length > at) {
      const f = stack.pop()!;
      this.endSpan(f.io, f.span, h.timeNs);
    }
    if (stack.length === 0) this.stacks.delete(h.tid);
    if (name === 'handle_mm_fault') {
      const io = this.traces.get(h.ioId);
      if (io && io.origin === 'fault') this.finishOrigin(io, h);
    }
  }

  // ---- the block layer --------------------------------------------------------------------

  private deviceName(dev: number): string {
    return this.m.diskOf(dev)?.name ?? String(dev);
  }

  private submitBio(h: ProbeHit): void {
    const bio = h.args[0] as Bio;
    const io = this.traceOf(h, 'submit_bio');
    if (!io) return;
    const span = this.startSpan(io, 'bio', h.timeNs, this.parentFor(h.tid, io), {
      [ATTR.sector]: bio.sector,
      [ATTR.bytes]: bio.nrSectors * 512,
      [ATTR.device]: this.deviceName(bio.dev),
    });
    this.bios.set(bio, { io, span, context: trace.setSpan(ROOT_CONTEXT, span) });
  }

  private bioMerged(h: ProbeHit, where: string): void {
    this.bios.get(h.args[0] as Bio)?.span.setAttribute(ATTR.merged, where);
  }

  private requestSpans(rq: BlockRequest, h: ProbeHit): RequestSpans | undefined {
    let r = this.requests.get(rq);
    if (r) return r;
    const first = rq.bios[0];
    const owner = first ? this.bios.get(first) : undefined;
    const io = owner?.io ?? (first ? this.traces.get(first.ioId) : undefined);
    if (!io) return undefined;
    const context = owner?.context ?? io.rootContext;
    const span = this.startSpan(io, 'request', h.timeNs, context, {
      [ATTR.device]: this.deviceName(rq.dev),
      [ATTR.sector]: rq.sector,
      [ATTR.bytes]: rq.nrSectors * 512,
    });
    io.requests++;
    r = {
      io,
      span,
      context: trace.setSpan(ROOT_CONTEXT, span),
      queue: undefined,
      driver: undefined,
      driverContext: undefined,
      device: undefined,
      insertedNs: h.timeNs,
      deviceName: this.deviceName(rq.dev),
    };
    this.requests.set(rq, r);
    return r;
  }

  private requestInsert(h: ProbeHit): void {
    const r = this.requestSpans(h.args[0] as BlockRequest, h);
    if (!r || r.queue) return;
    r.insertedNs = h.timeNs;
    r.queue = this.startSpan(r.io, 'queue wait', h.timeNs, r.context, {});
  }

  private requestIssue(h: ProbeHit): void {
    const rq = h.args[0] as BlockRequest;
    if (!this.onDevice.has(rq)) {
      this.onDevice.add(rq);
      this.deviceInFlight.set(rq.dev, (this.deviceInFlight.get(rq.dev) ?? 0) + 1);
    }
    const depth = this.deviceInFlight.get(rq.dev)!;
    const r = this.requestSpans(rq, h);
    if (!r) return;
    if (r.queue) {
      this.endSpan(r.io, r.queue, h.timeNs);
      r.queue = undefined;
    }
    // merges while it waited may have grown it (or moved its start, for a front merge)
    r.span.setAttributes({
      [ATTR.queueWaitNs]: h.timeNs - r.insertedNs,
      [ATTR.rwbs]: String(h.fields.rwbs),
      [ATTR.sector]: rq.sector,
      [ATTR.bytes]: rq.nrSectors * 512,
    });
    r.driver = this.startSpan(r.io, 'driver', h.timeNs, r.context, {
      [ATTR.device]: r.deviceName,
      [ATTR.queueDepth]: depth,
      [ATTR.tag]: rq.tag,
      [ATTR.hwQueue]: rq.hwq,
      [ATTR.cpu]: h.cpu,
    });
    r.driverContext = trace.setSpan(ROOT_CONTEXT, r.driver);
    // a merged request carries other I/Os' bios: each side links to the other
    for (const bio of rq.bios) {
      if (bio.ioId === r.io.ioId) continue;
      const b = this.bios.get(bio);
      if (!b) continue;
      b.span.addLink({ context: r.span.spanContext(), attributes: { [ATTR.merged]: 'into request' } });
      r.span.addLink({ context: b.span.spanContext(), attributes: { [ATTR.ioId]: bio.ioId } });
    }
  }

  /** The traced request a device step is for: the command carries its request. */
  private stepRequest(h: ProbeHit): RequestSpans | undefined {
    const step = h.args[0] as DeviceStep;
    return step.rq ? this.requests.get(step.rq) : undefined;
  }

  private deviceFetch(h: ProbeHit): void {
    const r = this.stepRequest(h);
    if (!r || !r.driverContext || r.device) return;
    r.device = this.startSpan(r.io, 'device', h.timeNs, r.driverContext, { [ATTR.device]: r.deviceName });
  }

  private dmaTransfer(h: ProbeHit): void {
    const r = this.stepRequest(h);
    if (!r || !r.driverContext) return;
    // devices report a transfer when it starts (HDD) or ends (NVMe): the step says when it ran
    const step = h.args[0] as DmaStep;
    const span = this.startSpan(r.io, 'dma', step.startNs, r.device ? trace.setSpan(ROOT_CONTEXT, r.device) : r.driverContext, {
      [ATTR.bytes]: step.bytes,
      'kiotrace.dma.to_device': step.toDevice,
      'kiotrace.dma.nr_sg': step.nrSg,
    });
    span.end(this.clock.hrTime(step.endNs));
    r.io.open--;
  }

  /** Another request absorbed this one (blk_attempt_req_merge): its bios finish with the survivor. */
  private requestMerged(h: ProbeHit): void {
    const rq = h.args[0] as BlockRequest;
    const r = this.requests.get(rq);
    if (!r) return;
    this.requests.delete(rq);
    if (r.queue) this.endSpan(r.io, r.queue, h.timeNs);
    r.span.setAttribute(ATTR.merged, 'into another request');
    r.io.requests--;
    this.endSpan(r.io, r.span, h.timeNs);
  }

  /** The driver gave the request back (busy): it waits again and will be issued anew. */
  private requestRequeued(h: ProbeHit): void {
    const rq = h.args[0] as BlockRequest;
    if (this.onDevice.delete(rq)) this.deviceInFlight.set(rq.dev, Math.max(0, (this.deviceInFlight.get(rq.dev) ?? 1) - 1));
    const r = this.requests.get(rq);
    if (!r) return;
    if (r.device) this.endSpan(r.io, r.device, h.timeNs);
    r.device = undefined;
    if (r.driver) {
      r.driver.setAttribute('kiotrace.requeued', true);
      this.endSpan(r.io, r.driver, h.timeNs);
    }
    r.driver = undefined;
    r.driverContext = undefined;
    r.insertedNs = h.timeNs;
    r.queue = this.startSpan(r.io, 'queue wait', h.timeNs, r.context, {});
  }

  private requestComplete(h: ProbeHit): void {
    const rq = h.args[0] as BlockRequest;
    const r = this.requests.get(rq);
    const error = Number(h.fields.error);
    if (this.onDevice.delete(rq)) this.deviceInFlight.set(rq.dev, Math.max(0, (this.deviceInFlight.get(rq.dev) ?? 1) - 1));
    if (r) {
      this.requests.delete(rq);
      if (r.device) this.endSpan(r.io, r.device, h.timeNs);
      const frame = this.irqFrames[h.cpu]?.at(-1);
      if (frame && r.driverContext) frame.completed.push({ io: r.io, parent: r.driverContext });
      if (r.driver) this.endSpan(r.io, r.driver, h.timeNs);
      if (error !== 0) this.fail(r.span, error);
      r.io.requests--;
      this.endSpan(r.io, r.span, h.timeNs);
    }
    for (const bio of rq.bios) {
      const b = this.bios.get(bio);
      if (!b) continue;
      this.bios.delete(bio);
      if (error !== 0) this.fail(b.span, error);
      this.endSpan(b.io, b.span, h.timeNs);
    }
  }

  private fail(span: Span, error: number): void {
    span.setAttribute(ATTR.errorType, errnoName(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: errnoName(error) });
  }

  // ---- interrupts and the wake-up ---------------------------------------------------------

  private irqEnter(h: ProbeHit, name: string, vector: number): void {
    this.irqFrames[h.cpu]?.push({ startNs: h.timeNs, name, vector, completed: [] });
  }

  private irqExit(h: ProbeHit): void {
    const frame = this.irqFrames[h.cpu]?.pop();
    if (!frame) return;
    for (const c of frame.completed) {
      if (!this.traces.has(c.io.ioId)) continue;
      const span = this.startSpan(c.io, frame.name, frame.startNs, c.parent, {
        [ATTR.irq]: frame.vector,
        [ATTR.irqName]: frame.name,
        [ATTR.cpu]: h.cpu,
      });
      this.endSpan(c.io, span, h.timeNs);
    }
  }

  private waking(h: ProbeHit): void {
    if (!this.inInterrupt(h.cpu)) return;
    const io = this.traces.get(h.ioId);
    if (!io || io.wake || io.origin === 'other' || io.originDone) return;
    io.wokenPid = Number(h.fields.pid);
    io.wake = this.startSpan(io, 'wakeup', h.timeNs, io.rootContext, {
      [ATTR.wokenPid]: Number(h.fields.pid),
      [ATTR.targetCpu]: Number(h.fields.target_cpu),
      [ATTR.cpu]: h.cpu,
    });
  }

  private switched(h: ProbeHit): void {
    const io = this.traces.get(h.ioId);
    if (!io?.wake || Number(h.fields.next_pid) !== io.wokenPid) return;
    io.wokenPid = -1;
    // the woken task is back on a CPU: the rest of the span is the return to user space
    io.wake.addEvent('sched_switch', { [ATTR.cpu]: h.cpu }, this.clock.hrTime(h.timeNs));
  }
}
