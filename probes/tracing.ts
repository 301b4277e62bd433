// The OpenTelemetry side of the span builder: the tracer provider (real SDK, explicit sampler,
// deterministic ids, the run's resource) and a span processor that hands file exporters whole
// traces, batched, so a trace is never split across a file's records.

import { type Context } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
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

export interface TracingOptions {
  readonly scenario: string;
  readonly seed: number;
  /** Fraction of I/Os traced, decided by trace id (1 = every I/O). */
  readonly sampleRatio: number;
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
}

/** The resource: service kiotrace (or OTEL_SERVICE_NAME), the scenario and the seed. */
function runResource(scenario: string, seed: number, useEnvironment: boolean) {
  const ours = defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'kiotrace', 'kiotrace.scenario': scenario, 'kiotrace.seed': seed }));
  return useEnvironment ? ours.merge(detectResources({ detectors: [envDetector] })) : ours;
}

export function createTracing(m: Machine, opts: TracingOptions): Tracing {
  const ids = new SimIdGenerator(opts.seed);
  const sampler = opts.sampleRatio >= 1 ? new AlwaysOnSampler() : new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.sampleRatio) });
  const provider = new NodeTracerProvider({
    resource: runResource(opts.scenario, opts.seed, opts.useEnvironment ?? true),
    idGenerator: ids,
    sampler,
    spanProcessors: [...opts.processors],
  });
  const tracer = provider.getTracer('kiotrace');
  const builder = new SpanBuilder(m, tracer, ids, new SimClock(opts.epochNs), opts.onTraceComplete);
  return { provider, builder };
}
