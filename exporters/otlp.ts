// OTLP out of kiotrace: to a file (OTLP/JSON through the official serializer, one
// ExportTraceServiceRequest per line, as the collector's otlpjsonfile receiver reads it) and over
// the network (the official OTLP/HTTP protobuf exporter, wrapped to count what was delivered).

import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-node';

export class OtlpJsonFileExporter implements SpanExporter {
  spansWritten = 0;
  private closed = false;

  constructor(private readonly write: (bytes: Uint8Array) => void) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.closed) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('OTLP file exporter is shut down') });
      return;
    }
    try {
      const body = JsonTraceSerializer.serializeRequest(spans);
      if (!body) throw new Error('OTLP JSON serializer returned nothing');
      this.write(body);
      this.write(NEWLINE);
      this.spansWritten += spans.length;
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (e) {
      resultCallback({ code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }

  async shutdown(): Promise<void> {
    this.closed = true;
  }

  async forceFlush(): Promise<void> {}
}

const NEWLINE = new Uint8Array([0x0a]);

/** What happened to the spans handed to a network exporter. */
export interface DeliveryReport {
  readonly delivered: number;
  readonly failed: number;
  /** Distinct failure reasons, in the order first seen. */
  readonly reasons: readonly string[];
}

/**
 * The official OTLP/HTTP protobuf exporter (it retries with backoff and honours the
 * OTEL_EXPORTER_OTLP_* variables), counting delivered and failed spans so a run can say how many
 * never arrived, and why.
 */
export class CountingOtlpExporter implements SpanExporter {
  private readonly inner: OTLPTraceExporter;
  private delivered = 0;
  private failed = 0;
  private readonly reasons: string[] = [];

  /** `url` undefined: the exporter's own default or OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT. */
  constructor(url: string | undefined) {
    this.inner = new OTLPTraceExporter(url !== undefined ? { url } : {});
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      this.inner.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) this.delivered += spans.length;
        else this.fail(spans.length, result.error?.message ?? 'export failed');
        resultCallback(result);
      });
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      this.fail(spans.length, error.message);
      resultCallback({ code: ExportResultCode.FAILED, error });
    }
  }

  private fail(count: number, reason: string): void {
    this.failed += count;
    if (!this.reasons.includes(reason)) this.reasons.push(reason);
  }

  report(): DeliveryReport {
    return { delivered: this.delivered, failed: this.failed, reasons: [...this.reasons] };
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown().catch(() => undefined);
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush().catch(() => undefined);
  }
}
