// The I/O inspector's recorder: the span builder (the same layers the OpenTelemetry traces have)
// driven by a small in-process tracer that keeps plain records instead of exporting spans. Only
// a few I/Os per task per window are recorded, so the live view stays cheap; the last ones
// completed are kept for the inspector to show as waterfalls.

import {
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Context,
  type HrTime,
  type Span,
  type SpanAttributeValue,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';
import type { Machine, ProbeHit } from '../../core/index.js';
import { ATTR, SimClock, SimIdGenerator, SpanBuilder } from '../../probes/spans.js';

/** One layer of one I/O: a span, as the waterfall shows it. */
export interface IoLayer {
  readonly name: string;
  readonly depth: number;
  readonly startNs: number;
  readonly endNs: number;
  readonly error: boolean;
  readonly detail: string;
}

export interface FaultChain {
  readonly va: number;
  readonly vpn: number;
  readonly inode: number;
  readonly pgoff: number;
  readonly block: number;
  readonly sector: number;
  readonly pfn: number;
}

/** A finished I/O, as plain data (it crosses the worker boundary). */
export interface IoRecord {
  readonly ioId: number;
  /** The root: the syscall's name, page_fault, writeback or readahead. */
  readonly origin: string;
  readonly task: string;
  readonly pid: number;
  /** The device it reached, '' when it never left the page cache. */
  readonly device: string;
  readonly startNs: number;
  readonly durationNs: number;
  readonly error: boolean;
  readonly layers: readonly IoLayer[];
  readonly faultChain: FaultChain | undefined;
}

const hrNs = (t: TimeInput | undefined): number => (Array.isArray(t) ? (t as HrTime)[0] * 1e9 + (t as HrTime)[1] : 0);

interface TraceRec {
  readonly spans: InspectorSpan[];
}

/** A span that records into its trace; nothing is exported. */
class InspectorSpan implements Span {
  readonly attributes: Attributes;
  endNs = -1;
  error = false;

  constructor(
    readonly rec: TraceRec,
    readonly name: string,
    readonly startNs: number,
    readonly parent: InspectorSpan | undefined,
    private readonly context: SpanContext,
    attributes: Attributes | undefined,
  ) {
    this.attributes = { ...attributes };
    rec.spans.push(this);
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: SpanAttributeValue): this {
    this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    Object.assign(this.attributes, attributes);
    return this;
  }

  addEvent(): this {
    return this;
  }

  addLink(): this {
    return this;
  }

  addLinks(): this {
    return this;
  }

  setStatus(status: SpanStatus): this {
    this.error = status.code === SpanStatusCode.ERROR;
    return this;
  }

  updateName(): this {
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.endNs < 0) this.endNs = hrNs(endTime);
  }

  isRecording(): boolean {
    return true;
  }

  recordException(): void {}
}

/**
 * Traces started per task and origin per window: enough to see every task, cheap at any I/O rate.
 * Per origin too, so a task's rare I/Os (an fsync after 32 writes, a readahead, a major fault)
 * are not crowded out by its frequent ones; those rare ones are what reach the slow devices.
 */
const TRACES_PER_ORIGIN_PER_WINDOW = 8;
const WINDOW_NS = 10_000_000;
/** Finished I/Os kept for the inspector: the last ones of all, and the last ones of each device. */
export const KEEP_RECENT = 64;
export const KEEP_PER_DEVICE = 16;

/** Which I/Os to record: a few per task and origin (the probe site that starts it) per window of simulated time, decided at the first hit. */
class Admission {
  private windowStartNs = -1;
  private readonly startedInWindow = new Map<ProbeHit['site'], Map<number, number>>();

  admit(h: ProbeHit): boolean {
    if (h.timeNs >= this.windowStartNs + WINDOW_NS) {
      this.windowStartNs = h.timeNs - (h.timeNs % WINDOW_NS);
      this.startedInWindow.clear();
    }
    let byTask = this.startedInWindow.get(h.site);
    if (!byTask) this.startedInWindow.set(h.site, (byTask = new Map()));
    const n = byTask.get(h.tid) ?? 0;
    if (n >= TRACES_PER_ORIGIN_PER_WINDOW) return false;
    byTask.set(h.tid, n + 1);
    return true;
  }
}

/** A Tracer (the OpenTelemetry API's interface) whose spans are plain records kept per trace. */
class InspectorTracer implements Tracer {
  readonly traces = new Map<string, TraceRec>();

  constructor(private readonly ids: SimIdGenerator) {}

  startSpan(name: string, options: SpanOptions = {}, context?: Context): Span {
    const parent = context ? trace.getSpan(context) : undefined;
    const startNs = hrNs(options.startTime);
    const ctx: SpanContext = { traceId: this.ids.generateTraceId(), spanId: this.ids.generateSpanId(), traceFlags: TraceFlags.SAMPLED };
    if (parent instanceof InspectorSpan && !options.root) return new InspectorSpan(parent.rec, name, startNs, parent, ctx, options.attributes);
    const rec: TraceRec = { spans: [] };
    this.traces.set(ctx.traceId, rec);
    return new InspectorSpan(rec, name, startNs, undefined, ctx, options.attributes);
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest[rest.length - 1] as F;
    return fn(this.startSpan(name)) as ReturnType<F>;
  }
}

function depthOf(s: InspectorSpan): number {
  let d = 0;
  for (let p = s.parent; p; p = p.parent) d++;
  return d;
}

function detailOf(a: Attributes): string {
  const parts: string[] = [];
  const dev = a[ATTR.device];
  if (typeof dev === 'string') parts.push(dev);
  const bytes = a[ATTR.bytes];
  if (typeof bytes === 'number') parts.push(`${bytes} B`);
  const qd = a[ATTR.queueDepth];
  if (typeof qd === 'number') parts.push(`qd ${qd}`);
  const irq = a[ATTR.irq];
  if (typeof irq === 'number') parts.push(`vector ${irq}`);
  const err = a[ATTR.errorType];
  if (typeof err === 'string') parts.push(err);
  return parts.join(', ');
}

function toRecord(ioId: number, rec: TraceRec): IoRecord | undefined {
  const root = rec.spans.find((s) => !s.parent);
  if (!root) return undefined;
  const spans = [...rec.spans].sort((a, b) => a.startNs - b.startNs || depthOf(a) - depthOf(b));
  const endNs = Math.max(root.endNs, ...spans.map((s) => s.endNs));
  const a = root.attributes;
  const num = (k: string): number => (typeof a[k] === 'number' ? (a[k] as number) : 0);
  const device = spans.map((s) => s.attributes[ATTR.device]).find((d) => typeof d === 'string');
  return {
    ioId,
    origin: root.name,
    task: typeof a[ATTR.threadName] === 'string' ? (a[ATTR.threadName] as string) : '?',
    pid: num(ATTR.pid),
    device: typeof device === 'string' ? device : '',
    startNs: root.startNs,
    durationNs: endNs - root.startNs,
    error: spans.some((s) => s.error),
    layers: spans.map((s) => ({ name: s.name, depth: depthOf(s), startNs: s.startNs, endNs: s.endNs < 0 ? endNs : s.endNs, error: s.error, detail: detailOf(s.attributes) })),
    faultChain:
      a[ATTR.pfn] !== undefined
        ? { va: num(ATTR.va), vpn: num(ATTR.vpn), inode: num(ATTR.inode), pgoff: num(ATTR.pgoff), block: num(ATTR.block), sector: num(ATTR.sector), pfn: num(ATTR.pfn) }
        : undefined,
  };
}

/**
 * Records I/Os of a running machine for the inspector while it is open (attached, the span
 * builder costs the simulation time); `recent()` gives the last ones finished.
 */
export class IoInspector {
  private readonly tracer: InspectorTracer;
  private readonly builder: SpanBuilder;
  /** The last KEEP_RECENT I/Os finished, and the last KEEP_PER_DEVICE of each device, numbered in the order they finished. */
  private readonly done: { seq: number; io: IoRecord }[] = [];
  private readonly doneByDevice = new Map<string, { seq: number; io: IoRecord }[]>();
  private finished = 0;

  constructor(
    private readonly m: Machine,
    seed: number,
  ) {
    const ids = new SimIdGenerator(seed);
    const admission = new Admission();
    this.tracer = new InspectorTracer(ids);
    this.builder = new SpanBuilder(m, this.tracer, ids, new SimClock(0n), (traceId) => this.complete(traceId), (h) => admission.admit(h));
    this.builder.start();
  }

  /** Detaches; I/Os still in flight are dropped. */
  stop(): void {
    this.builder.stop(this.m.env.nowNs);
  }

  private complete(traceId: string): void {
    const rec = this.tracer.traces.get(traceId);
    if (!rec) return;
    this.tracer.traces.delete(traceId);
    const ioId = Number.parseInt(traceId.slice(8, 24), 16);
    const r = toRecord(ioId, rec);
    if (!r) return;
    const entry = { seq: this.finished++, io: r };
    this.done.push(entry);
    if (this.done.length > KEEP_RECENT) this.done.shift();
    // a slow device finishes few I/Os: its own ring keeps them after the fast ones pushed them out
    if (r.device === '') return;
    let ring = this.doneByDevice.get(r.device);
    if (!ring) this.doneByDevice.set(r.device, (ring = []));
    ring.push(entry);
    if (ring.length > KEEP_PER_DEVICE) ring.shift();
  }

  /** The I/Os kept, in the order they finished, oldest first. */
  recent(): readonly IoRecord[] {
    const kept = new Map<number, IoRecord>();
    for (const e of this.done) kept.set(e.seq, e.io);
    for (const ring of this.doneByDevice.values()) for (const e of ring) kept.set(e.seq, e.io);
    return [...kept.entries()].sort((a, b) => a[0] - b[0]).map(([, io]) => io);
  }
}
