// OTLP out of kiotrace: to a file (OTLP/JSON through the official serializer, one
// ExportTraceServiceRequest per line, as the collector's otlpjsonfile receiver reads it) and over
// the network (the official OTLP exporters, HTTP/protobuf, HTTP/JSON or gRPC, wrapped to count what
// was delivered and to tell of trouble as it happens).

import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
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

/** OTLP's transports, as OTEL_EXPORTER_OTLP_PROTOCOL names them. */
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/**
 * The official exporter for `protocol`, sending to `url` (its other settings, headers, timeout,
 * compression, certificates, from the OTEL_EXPORTER_OTLP_* variables as the exporter reads them).
 * Loaded on demand: gRPC's library is large and only a gRPC run needs it.
 */
export async function createOtlpExporter(protocol: OtlpProtocol, url: string): Promise<SpanExporter> {
  if (protocol === 'grpc') return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter({ url });
  if (protocol === 'http/json') return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ url });
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter({ url });
}

/** What happened to the spans handed to a network exporter. */
export interface DeliveryReport {
  readonly delivered: number;
  readonly failed: number;
  /** Distinct failure reasons, in the order first seen. */
  readonly reasons: readonly string[];
}

/** The User-Agent the official HTTP exporters send: how their requests are told from others. */
const EXPORTER_USER_AGENT = 'OTel-OTLP-Exporter-JavaScript/';

/**
 * An official OTLP exporter (it retries with backoff), counting delivered and failed spans so a
 * run can say how many never arrived, and why. `onProblem` hears of the first trouble as soon as
 * it happens: a failed export, or (over HTTP) a request that could not reach the endpoint, which
 * the exporter would otherwise retry in silence until its timeout.
 */
export class CountingOtlpExporter implements SpanExporter {
  private delivered = 0;
  private failed = 0;
  private readonly reasons: string[] = [];
  private problemReported = false;
  private readonly unwatch: (() => void) | undefined;

  constructor(
    private readonly inner: SpanExporter,
    private readonly url: string,
    private readonly onProblem: (reason: string) => void = () => undefined,
  ) {
    if (url.startsWith('http')) this.unwatch = this.watchRequests();
  }

  /** Node's http client publishes every request that fails to connect: the first one to our endpoint is reported. */
  private watchRequests(): () => void {
    const target = new URL(this.url);
    const where = `${target.protocol}//${target.host}${target.pathname}${target.search}`;
    const listener = (message: unknown): void => {
      if (this.problemReported || typeof message !== 'object' || message === null) return;
      const { request, error } = message as { request?: ClientRequest; error?: unknown };
      if (!request || typeof request.getHeader !== 'function') return;
      const agent = request.getHeader('user-agent');
      if (typeof agent !== 'string' || !agent.includes(EXPORTER_USER_AGENT)) return;
      if (`${request.protocol}//${String(request.getHeader('host'))}${request.path}` !== where) return;
      this.problem(error instanceof Error ? error.message : String(error));
    };
    diagnostics.subscribe('http.client.request.error', listener);
    return () => diagnostics.unsubscribe('http.client.request.error', listener);
  }

  private problem(reason: string): void {
    if (this.problemReported) return;
    this.problemReported = true;
    this.onProblem(reason);
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

  private fail(count: number, message: string): void {
    // gRPC ends its messages with an empty "Resolution note:"
    const reason = message.replace(/\s*Resolution note:\s*$/, '').trim();
    this.failed += count;
    if (!this.reasons.includes(reason)) this.reasons.push(reason);
    this.problem(reason);
  }

  report(): DeliveryReport {
    return { delivered: this.delivered, failed: this.failed, reasons: [...this.reasons] };
  }

  shutdown(): Promise<void> {
    this.unwatch?.();
    return this.inner.shutdown().catch(() => undefined);
  }

  forceFlush(): Promise<void> {
    return (this.inner.forceFlush?.() ?? Promise.resolve()).catch(() => undefined);
  }
}
