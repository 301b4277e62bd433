// The OpenTelemetry side of the span builder: the tracer provider (real SDK, explicit sampler,
// deterministic ids, the run's resource) and a span processor that hands file exporters whole
// traces, batched, so a trace is never split across a file's records.

import { type Context } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Machine } from '../core/index.js';
import { SimClock, SimIdGenerator, SpanBuilder } from './spans.js';

/** Spans per export call of the file processors. */
const FILE_BATCH_SPANS = 2048;

/**
 * Keeps each trace's ended spans until the span builder says the trace is complete, then queues
 * them for its exporters; every FILE_BATCH_SPANS spans go out in one export call.
 */
export class CompleteTraceProcessor implements SpanProcessor {
  exportedSpans = 0;
  failedSpans = 0;
  readonly failures: string[] = [];
  private readonly pending = new Map<string, ReadableSpan[]>();
  private batch: ReadableSpan[] = [];

  constructor(private readonly exporters: readonly SpanExporter[]) {}

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    const id = span.spanContext().traceId;
    let list = this.pending.get(id);
    if (!list) this.pending.set(id, (list = []));
    list.push(span);
  }

  traceComplete(traceId: string): void {
    const list = this.pending.get(traceId);
    if (!list) return;
    this.pending.delete(traceId);
    for (const s of list) this.batch.push(s);
    if (this.batch.length >= FILE_BATCH_SPANS) this.exportBatch();
  }

  private exportBatch(): void {
    if (this.batch.length === 0) return;
    const spans = this.batch;
    this.batch = [];
    for (const e of this.exporters) {
      e.export(spans, (r) => {
        if (r.code === ExportResultCode.SUCCESS) this.exportedSpans += spans.length;
        else {
          this.failedSpans += spans.length;
          const why = r.error?.message ?? 'export failed';
          if (!this.failures.includes(why)) this.failures.push(why);
        }
      });
    }
  }

  async forceFlush(): Promise<void> {
    for (const id of [...this.pending.keys()]) this.traceComplete(id);
    this.exportBatch();
    await Promise.all(this.exporters.map((e) => e.forceFlush?.()));
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    await Promise.all(this.exporters.map((e) => e.shutdown()));
  }
}

/**
 * Batches spans for a network exporter at the pace the endpoint takes them: a bounded queue,
 * a few exports in flight, and `backpressure()` for the simulation loop to wait on while the
 * endpoint is slow but answering. When it fails (down, refusing), nobody waits: one export at a
 * time probes it, the queue fills, and what it cannot hold is dropped and counted, never silently.
 * (The SDK's BatchSpanProcessor exports everything at once on flush and loses what exceeds the
 * exporter's concurrency limit; a simulator outruns any endpoint, so it needs the pacing.)
 */
export class PacedBatchProcessor implements SpanProcessor {
  /** Spans dropped because the queue was full. */
  dropped = 0;
  /** Spans never handed to the exporter because the endpoint was failing when the run ended. */
  abandoned = 0;
  private batches: ReadableSpan[][] = [];
  private current: ReadableSpan[] = [];
  private queued = 0;
  private inFlight = 0;
  private healthy = true;
  private closed = false;
  /** Flushing at the end of a run: a failing endpoint gets no more probes. */
  private ending = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly exporter: SpanExporter,
    private readonly batchSpans = 2048,
    private readonly maxQueuedSpans = 1 << 17,
    private readonly maxInFlight = 8,
  ) {}

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed) return;
    if (this.queued >= this.maxQueuedSpans) {
      this.dropped++;
      return;
    }
    this.current.push(span);
    this.queued++;
    if (this.current.length >= this.batchSpans) {
      this.batches.push(this.current);
      this.current = [];
      this.pump();
    }
  }

  private pump(): void {
    // a failing endpoint gets one export at a time: enough to notice when it is back
    while (this.batches.length > 0 && this.inFlight < (this.healthy ? this.maxInFlight : this.ending ? 0 : 1)) {
      const batch = this.batches.shift()!;
      this.inFlight++;
      this.exporter.export(batch, (r) => {
        this.inFlight--;
        this.queued -= batch.length;
        this.healthy = r.code === ExportResultCode.SUCCESS;
        this.pump();
        this.wake();
      });
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private settled(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once the queue is below half full, or at once if the endpoint is failing. */
  async backpressure(): Promise<void> {
    while (this.healthy && this.queued > this.maxQueuedSpans / 2 && this.inFlight > 0) await this.settled();
  }

  async forceFlush(): Promise<void> {
    this.ending = true;
    if (this.current.length > 0) {
      this.batches.push(this.current);
      this.current = [];
    }
    this.pump();
    // a slow endpoint is waited for; a failing one gets what is in flight, the rest is abandoned
    while (this.inFlight > 0 || (this.healthy && this.batches.length > 0)) {
      await this.settled();
    }
    for (const b of this.batches) {
      this.abandoned += b.length;
      this.queued -= b.length;
    }
    this.batches = [];
    this.ending = false;
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    this.closed = true;
    await this.exporter.shutdown();
  }
}

export interface TracingOptions {
  readonly scenario: string;
  readonly seed: number;
  /** Fraction of I/Os traced, decided by trace id (1 = every I/O, 0 = none). */
  readonly sampleRatio: number;
  /**
   * What else tells this run from others with the same scenario name, seed and epoch (the caller
   * knows the scenario's content and the duration): part of the hash behind every trace id.
   */
  readonly runIdentity?: string;
  /** Wall-clock ns that simulated t=0 maps to. */
  readonly epochNs: bigint;
  readonly processors: readonly SpanProcessor[];
  /** Told when a trace is complete (the CompleteTraceProcessors want to know). */
  readonly onTraceComplete: (traceId: string) => void;
  /** Let OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES shape the resource (not for reproducible files). */
  readonly useEnvironment?: boolean;
}

export interface Tracing {
  readonly provider: NodeTracerProvider;
  readonly builder: SpanBuilder;
  /** The run's id generator (traceIdOf(ioId) names an I/O's trace). */
  readonly ids: SimIdGenerator;
}

/** The resource: service kiotrace (or OTEL_SERVICE_NAME), the scenario and the seed. */
function runResource(scenario: string, seed: number, useEnvironment: boolean) {
  const ours = defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'kiotrace', 'kiotrace.scenario': scenario, 'kiotrace.seed': seed }));
  return useEnvironment ? ours.merge(detectResources({ detectors: [envDetector] })) : ours;
}

export function createTracing(m: Machine, opts: TracingOptions): Tracing {
  const ids = new SimIdGenerator(opts.seed, JSON.stringify([opts.scenario, String(opts.epochNs), opts.runIdentity ?? '']));
  const sampler =
    opts.sampleRatio >= 1
      ? new AlwaysOnSampler()
      : opts.sampleRatio <= 0
        ? new AlwaysOffSampler()
        : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.sampleRatio) });
  const provider = new NodeTracerProvider({
    resource: runResource(opts.scenario, opts.seed, opts.useEnvironment ?? true),
    idGenerator: ids,
    sampler,
    spanProcessors: [...opts.processors],
  });
  const tracer = provider.getTracer('kiotrace');
  const builder = new SpanBuilder(m, tracer, ids, new SimClock(opts.epochNs), opts.onTraceComplete);
  return { provider, builder, ids };
}
