// The composition root of a run with trace outputs: Perfetto (trace recorder -> writer), and the
// span builder's OpenTelemetry traces to a Jaeger JSON file, an OTLP/JSON file and/or an OTLP
// endpoint. Files are written beside their destination and renamed into place at the end, so an
// interrupted run never leaves a half-written trace under the user's name.

import { closeSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Machine, Scenario } from '../core/index.js';
import { PerfettoWriter } from '../exporters/perfetto.js';
import { JaegerFileExporter } from '../exporters/jaeger.js';
import { CountingOtlpExporter, OtlpJsonFileExporter } from '../exporters/otlp.js';
import { TraceRecorder } from '../probes/recorder.js';
import { CompleteTraceProcessor, PacedBatchProcessor, createTracing, type Tracing } from '../probes/tracing.js';

export interface ExportRequest {
  readonly perfetto?: string;
  readonly jaeger?: string;
  readonly otlpFile?: string;
  /** Send spans over OTLP/HTTP; `url` undefined means the exporter's default or OTEL_* variables. */
  readonly otlp?: { readonly url: string | undefined };
  readonly sampleRatio: number;
  /** Wall-clock ns of simulated t=0; undefined: now. */
  readonly epochNs?: bigint;
  /** Ignore OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (the shipped example files). */
  readonly ignoreEnvironment?: boolean;
}

/**
 * A file written through a temporary name and renamed into place on close. Devices and pipes
 * (/dev/null, /dev/stdout, a FIFO) are written directly: there is nothing to replace.
 */
class OutputFile {
  private readonly fd: number;
  private readonly tmpPath: string | undefined;
  bytes = 0;

  constructor(readonly path: string) {
    let special = false;
    try {
      special = !statSync(path).isFile();
    } catch {
      special = false;
    }
    this.tmpPath = special ? undefined : `${path}.kiotrace-partial`;
    this.fd = openSync(this.tmpPath ?? path, 'w');
  }

  write(data: Uint8Array | string): void {
    const n = typeof data === 'string' ? writeSync(this.fd, data) : writeSync(this.fd, data);
    this.bytes += n;
  }

  commit(): void {
    closeSync(this.fd);
    if (this.tmpPath !== undefined) renameSync(this.tmpPath, this.path);
  }

  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    if (this.tmpPath !== undefined) rmSync(this.tmpPath, { force: true });
  }
}

/** Simulated time run between turns of the event loop while spans go over the network. */
const OTLP_SLICE_NS = 1_000_000;

export interface ExportOutcome {
  /** What was written, and what was not delivered and why: one line each, for stderr. */
  readonly lines: readonly string[];
  /** Every span reached every destination. */
  readonly complete: boolean;
}

/**
 * What tells this run from another of the same scenario name, seed and epoch: the scenario's
 * content (an edited file under the same name is another run) and the duration asked for.
 */
function runIdentity(scenario: Scenario, durationNs: number): string {
  return `${JSON.stringify(scenario)}\0${durationNs}`;
}

/** The wall clock now, in ns (to the µs: two runs a moment apart get different epochs, so different trace ids). */
function nowEpochNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** Runs `m` to `durationNs` with the requested outputs attached. */
export async function runWithExports(m: Machine, durationNs: number, scenario: Scenario, seed: number, req: ExportRequest): Promise<ExportOutcome> {
  const files: OutputFile[] = [];
  const open = (path: string): OutputFile => {
    const f = new OutputFile(path);
    files.push(f);
    return f;
  };
  try {
    let perfetto: { file: OutputFile; writer: PerfettoWriter; recorder: TraceRecorder } | undefined;
    if (req.perfetto !== undefined) {
      const file = open(req.perfetto);
      const writer = new PerfettoWriter((chunk) => file.write(chunk));
      const recorder = new TraceRecorder(m, writer);
      recorder.start();
      perfetto = { file, writer, recorder };
    }

    let tracing: Tracing | undefined;
    let fileProcessor: CompleteTraceProcessor | undefined;
    let jaeger: { file: OutputFile; exporter: JaegerFileExporter } | undefined;
    let otlpFile: { file: OutputFile; exporter: OtlpJsonFileExporter } | undefined;
    let network: CountingOtlpExporter | undefined;
    let paced: PacedBatchProcessor | undefined;
    if (req.jaeger !== undefined || req.otlpFile !== undefined || req.otlp !== undefined) {
      const processors: SpanProcessor[] = [];
      const fileExporters = [];
      if (req.jaeger !== undefined) {
        const file = open(req.jaeger);
        jaeger = { file, exporter: new JaegerFileExporter((t) => file.write(t)) };
        fileExporters.push(jaeger.exporter);
      }
      if (req.otlpFile !== undefined) {
        const file = open(req.otlpFile);
        otlpFile = { file, exporter: new OtlpJsonFileExporter((b) => file.write(b)) };
        fileExporters.push(otlpFile.exporter);
      }
      if (fileExporters.length > 0) processors.push((fileProcessor = new CompleteTraceProcessor(fileExporters)));
      if (req.otlp !== undefined) {
        network = new CountingOtlpExporter(req.otlp.url);
        processors.push((paced = new PacedBatchProcessor(network)));
      }
      const onComplete = fileProcessor ? fileProcessor.traceComplete.bind(fileProcessor) : () => undefined;
      tracing = createTracing(m, {
        scenario: scenario.name,
        seed,
        sampleRatio: req.sampleRatio,
        runIdentity: runIdentity(scenario, durationNs),
        epochNs: req.epochNs ?? nowEpochNs(),
        processors,
        onTraceComplete: onComplete,
        useEnvironment: req.ignoreEnvironment !== true,
      });
      tracing.builder.start();
    }

    if (paced) {
      // let the exporter's requests and retries run while the simulation goes on, at the pace
      // of an endpoint that is slow but answering
      for (let t = Math.min(OTLP_SLICE_NS, durationNs); ; t = Math.min(t + OTLP_SLICE_NS, durationNs)) {
        m.run(t);
        await yieldToEventLoop();
        await paced.backpressure();
        if (t >= durationNs) break;
      }
    } else {
      m.run(durationNs);
    }
    const endNs = m.env.nowNs;

    const lines: string[] = [];
    let complete = true;
    if (perfetto) {
      perfetto.recorder.stop(endNs);
      perfetto.file.commit();
      const w = perfetto.writer;
      lines.push(`perfetto: ${perfetto.file.path}: ${w.eventsWritten} events, ${w.bytesWritten} bytes (open it at https://ui.perfetto.dev)`);
    }
    if (tracing) {
      tracing.builder.stop(endNs);
      // the batch processor rejects when its last exports failed; the counts below say what was lost
      let shutdownError: string | undefined;
      await tracing.provider.shutdown().catch((e: unknown) => {
        shutdownError = e instanceof Error ? e.message : Array.isArray(e) ? e.map(String).join('; ') : String(e);
      });
      const spans = tracing.builder.spansStarted;
      if (jaeger) {
        jaeger.file.commit();
        lines.push(`jaeger: ${jaeger.file.path}: ${jaeger.exporter.tracesWritten} traces, ${jaeger.exporter.spansWritten} spans`);
      }
      if (otlpFile) {
        otlpFile.file.commit();
        lines.push(`otlp-file: ${otlpFile.file.path}: ${otlpFile.exporter.spansWritten} spans`);
      }
      if (fileProcessor && fileProcessor.failedSpans > 0) complete = false;
      if (fileProcessor && fileProcessor.failedSpans > 0) lines.push(`files: ${fileProcessor.failedSpans} spans not written: ${fileProcessor.failures.join('; ')}`);
      if (network && paced) {
        const r = network.report();
        const where = req.otlp?.url ?? 'the OTLP endpoint';
        const missing = spans - r.delivered;
        if (missing === 0) lines.push(`otlp: ${r.delivered} spans delivered to ${where}`);
        else {
          complete = false;
          const why = [...r.reasons];
          if (paced.dropped > 0) why.push(`${paced.dropped} dropped while the endpoint was failing`);
          if (paced.abandoned > 0) why.push(`${paced.abandoned} still queued when the run ended`);
          if (why.length === 0) why.push(shutdownError ?? 'lost before export');
          lines.push(`otlp: ${missing} of ${spans} spans were not delivered to ${where}: ${why.join('; ')}`);
        }
      }
    }
    return { lines, complete };
  } catch (e) {
    for (const f of files) f.abandon();
    throw e;
  }
}
