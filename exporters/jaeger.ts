// Jaeger UI's JSON upload format ({data:[{traceID, spans, processes}]}, microsecond times,
// CHILD_OF for the parent, FOLLOWS_FROM for links), written as a SpanExporter that streams: each
// export() call gets whole traces (the span builder hands them over complete) and appends them.
// Like every OpenTelemetry exporter it never throws: a failed write is reported in the result.

import { type Attributes, type AttributeValue, SpanKind, SpanStatusCode, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';

interface JaegerTag {
  readonly key: string;
  readonly type: 'string' | 'bool' | 'int64' | 'float64';
  readonly value: string | boolean | number;
}

function tag(key: string, value: AttributeValue | undefined): JaegerTag | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return { key, type: 'string', value };
  if (typeof value === 'boolean') return { key, type: 'bool', value };
  if (typeof value === 'number') return { key, type: Number.isInteger(value) ? 'int64' : 'float64', value };
  return { key, type: 'string', value: JSON.stringify(value) };
}

function tags(attributes: Attributes): JaegerTag[] {
  const out: JaegerTag[] = [];
  for (const key of Object.keys(attributes)) {
    const t = tag(key, attributes[key]);
    if (t) out.push(t);
  }
  return out;
}

const NS_PER_SEC = 1_000_000_000n;
const hrNs = (t: HrTime): bigint => BigInt(t[0]) * NS_PER_SEC + BigInt(t[1]);

const KIND_NAMES: Readonly<Record<number, string>> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

/** One span in Jaeger's shape. Times round outwards to whole µs so children stay inside parents. */
export function jaegerSpan(span: ReadableSpan): object {
  const ctx = span.spanContext();
  const startNs = hrNs(span.startTime);
  const endNs = hrNs(span.endTime);
  const startUs = startNs / 1000n;
  const endUs = (endNs + 999n) / 1000n;
  const references: object[] = [];
  if (span.parentSpanContext) references.push({ refType: 'CHILD_OF', traceID: span.parentSpanContext.traceId, spanID: span.parentSpanContext.spanId });
  for (const link of span.links) references.push({ refType: 'FOLLOWS_FROM', traceID: link.context.traceId, spanID: link.context.spanId });
  const spanTags = tags(span.attributes);
  spanTags.push({ key: 'span.kind', type: 'string', value: KIND_NAMES[span.kind] ?? 'internal' });
  spanTags.push({ key: 'otel.scope.name', type: 'string', value: span.instrumentationScope.name });
  // µs lose the simulator's nanoseconds; the exact duration rides along
  spanTags.push({ key: 'kiotrace.duration_ns', type: 'int64', value: Number(endNs - startNs) });
  if (span.status.code === SpanStatusCode.ERROR) {
    spanTags.push({ key: 'otel.status_code', type: 'string', value: 'ERROR' });
    if (span.status.message) spanTags.push({ key: 'otel.status_description', type: 'string', value: span.status.message });
    spanTags.push({ key: 'error', type: 'bool', value: true });
  } else if (span.status.code === SpanStatusCode.OK) {
    spanTags.push({ key: 'otel.status_code', type: 'string', value: 'OK' });
  }
  return {
    traceID: ctx.traceId,
    spanID: ctx.spanId,
    operationName: span.name,
    references,
    startTime: Number(startUs),
    duration: Number(endUs - startUs),
    tags: spanTags,
    logs: span.events.map((e) => ({
      timestamp: Number(hrNs(e.time) / 1000n),
      fields: [{ key: 'event', type: 'string', value: e.name }, ...tags(e.attributes ?? {})],
    })),
    processID: 'p1',
    warnings: null,
  };
}

/** The process entry of every trace: the resource, as Jaeger shows it. */
function jaegerProcess(span: ReadableSpan): object {
  const attrs = span.resource.attributes;
  const serviceName = attrs['service.name'];
  const rest: Attributes = {};
  for (const k of Object.keys(attrs)) if (k !== 'service.name') rest[k] = attrs[k];
  return { serviceName: typeof serviceName === 'string' ? serviceName : 'kiotrace', tags: tags(rest) };
}

export class JaegerFileExporter implements SpanExporter {
  tracesWritten = 0;
  spansWritten = 0;
  private started = false;
  private closed = false;

  /** `write` appends text to the file; it may throw, this exporter never does. */
  constructor(private readonly write: (text: string) => void) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.closed) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('Jaeger exporter is shut down') });
      return;
    }
    try {
      const byTrace = new Map<string, ReadableSpan[]>();
      for (const s of spans) {
        const id = s.spanContext().traceId;
        let list = byTrace.get(id);
        if (!list) byTrace.set(id, (list = []));
        list.push(s);
      }
      let text = '';
      for (const [traceID, list] of byTrace) {
        text += (this.started || text !== '' ? ',\n' : '{"data":[\n') + JSON.stringify({ traceID, spans: list.map(jaegerSpan), processes: { p1: jaegerProcess(list[0]!) }, warnings: null });
        this.tracesWritten++;
        this.spansWritten += list.length;
      }
      if (text !== '') {
        this.write(text);
        this.started = true;
      }
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (e) {
      resultCallback({ code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.write(this.started ? '\n]}\n' : '{"data":[]}\n');
    } catch {
      // the write error was already reported to whoever wrote the file; shutdown never throws
    }
  }

  async forceFlush(): Promise<void> {}
}
