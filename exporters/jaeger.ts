// Jaeger UI's JSON upload format ({data:[{traceID, spans, processes}]}, microsecond times,
// CHILD_OF for the parent, FOLLOWS_FROM for links), written as a SpanExporter that streams: each
// export() call gets whole traces (the span builder hands them over complete) and appends them.
// Like every OpenTelemetry exporter it never throws: a failed write is reported in the result.

import { type Attributes, type AttributeValue, SpanKind, SpanStatusCode, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';

/** A tag as Jaeger writes it: `{"key":..,"type":..,"value":..}`, serialized directly (this is the hot path). */
function tagJson(key: string, value: AttributeValue | undefined): string {
  if (value === undefined || value === null) return '';
  const k = JSON.stringify(key);
  if (typeof value === 'string') return `{"key":${k},"type":"string","value":${JSON.stringify(value)}}`;
  if (typeof value === 'boolean') return `{"key":${k},"type":"bool","value":${value}}`;
  if (typeof value === 'number') return `{"key":${k},"type":"${Number.isInteger(value) ? 'int64' : 'float64'}","value":${Number.isFinite(value) ? value : JSON.stringify(String(value))}}`;
  return `{"key":${k},"type":"string","value":${JSON.stringify(JSON.stringify(value))}}`;
}

function tagsJson(attributes: Attributes, out: string[]): void {
  for (const key of Object.keys(attributes)) {
    const t = tagJson(key, attributes[key]);
    if (t !== '') out.push(t);
  }
}

/**
 * µs since the epoch as decimal text, the sub-µs part rounded down or up. A double holds it exactly
 * up to 2^53 µs (the year 2255); later --epochs (up to 2^64-1 ns) take the exact BigInt way.
 */
function hrUsText(t: HrTime, roundUp: boolean): string {
  const us = roundUp ? Math.ceil(t[1] / 1000) : Math.floor(t[1] / 1000);
  const v = t[0] * 1_000_000 + us;
  return Number.isSafeInteger(v) ? String(v) : String(BigInt(t[0]) * 1_000_000n + BigInt(us));
}
/** end (rounded up) - start (rounded down) in µs: small within a run, so exact as a number. */
const hrUsSpan = (start: HrTime, end: HrTime): number => (end[0] - start[0]) * 1_000_000 + Math.ceil(end[1] / 1000) - Math.floor(start[1] / 1000);
/** b - a in ns; differences within a run are small, so a double holds them exactly. */
const hrDiffNs = (a: HrTime, b: HrTime): number => (b[0] - a[0]) * 1_000_000_000 + (b[1] - a[1]);

const KIND_NAMES: Readonly<Record<number, string>> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
};

/** One span in Jaeger's shape, as JSON text. Times round outwards to whole µs so children stay inside parents. */
export function jaegerSpanJson(span: ReadableSpan): string {
  const ctx = span.spanContext();
  const refs: string[] = [];
  if (span.parentSpanContext) refs.push(`{"refType":"CHILD_OF","traceID":"${span.parentSpanContext.traceId}","spanID":"${span.parentSpanContext.spanId}"}`);
  for (const link of span.links) refs.push(`{"refType":"FOLLOWS_FROM","traceID":"${link.context.traceId}","spanID":"${link.context.spanId}"}`);
  const tags: string[] = [];
  tagsJson(span.attributes, tags);
  tags.push(tagJson('span.kind', KIND_NAMES[span.kind] ?? 'internal'));
  tags.push(tagJson('otel.scope.name', span.instrumentationScope.name));
  // µs lose the simulator's nanoseconds; the exact duration rides along
  tags.push(tagJson('kiotrace.duration_ns', hrDiffNs(span.startTime, span.endTime)));
  if (span.status.code === SpanStatusCode.ERROR) {
    tags.push(tagJson('otel.status_code', 'ERROR'));
    if (span.status.message) tags.push(tagJson('otel.status_description', span.status.message));
    tags.push(tagJson('error', true));
  } else if (span.status.code === SpanStatusCode.OK) {
    tags.push(tagJson('otel.status_code', 'OK'));
  }
  const logs = span.events.map((e) => {
    const fields = [tagJson('event', e.name)];
    tagsJson(e.attributes ?? {}, fields);
    return `{"timestamp":${hrUsText(e.time, false)},"fields":[${fields.join(',')}]}`;
  });
  return (
    `{"traceID":"${ctx.traceId}","spanID":"${ctx.spanId}","operationName":${JSON.stringify(span.name)},"references":[${refs.join(',')}],` +
    `"startTime":${hrUsText(span.startTime, false)},"duration":${hrUsSpan(span.startTime, span.endTime)},"tags":[${tags.join(',')}],"logs":[${logs.join(',')}],"processID":"p1","warnings":null}`
  );
}

/** The process entry of every trace: the resource, as Jaeger shows it. */
function jaegerProcessJson(span: ReadableSpan): string {
  const attrs = span.resource.attributes;
  const serviceName = attrs['service.name'];
  const rest: Attributes = {};
  for (const k of Object.keys(attrs)) if (k !== 'service.name') rest[k] = attrs[k];
  const tags: string[] = [];
  tagsJson(rest, tags);
  return `{"serviceName":${JSON.stringify(typeof serviceName === 'string' ? serviceName : 'kiotrace')},"tags":[${tags.join(',')}]}`;
}

export class JaegerFileExporter implements SpanExporter {
  tracesWritten = 0;
  spansWritten = 0;
  private started = false;
  private closed = false;
  /** The resource is the same for every span of a run: serialized once. */
  private processJson: string | undefined;

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
        this.processJson ??= jaegerProcessJson(list[0]!);
        text += `${this.started || text !== '' ? ',\n' : '{"data":[\n'}{"traceID":"${traceID}","spans":[${list.map(jaegerSpanJson).join(',')}],"processes":{"p1":${this.processJson}},"warnings":null}`;
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
