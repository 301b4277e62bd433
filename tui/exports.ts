// The composition root of a run with trace outputs: Perfetto (trace recorder -> writer), and the
// span builder's OpenTelemetry traces to a Jaeger JSON file, an OTLP/JSON file and/or an OTLP
// endpoint. Files are written beside their destination and renamed into place at the end, so an
// interrupted or failed run never leaves a half-written trace under the user's name, and a write
// error (a full disk) costs that one output, never the others or the run.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Machine, Scenario } from '../core/index.js';
import { PerfettoWriter } from '../exporters/perfetto.js';
import { JaegerFileExporter } from '../exporters/jaeger.js';
import { CountingOtlpExporter, OtlpJsonFileExporter, createOtlpExporter } from '../exporters/otlp.js';
import { TraceRecorder } from '../probes/recorder.js';
import { CompleteTraceProcessor, PacedBatchProcessor, createTracing, type Tracing } from '../probes/tracing.js';
import { resolveSpanSettings, type Environment, type ExportRequest } from './export-settings.js';
import { ReplacedFile } from './output-files.js';
import { runMachine } from './run-loop.js';

export type { ExportRequest } from './export-settings.js';

/**
 * Runs the machine to `untilNs` (or stops it earlier: an interrupted run). `afterSlice`, when
 * given, must be awaited every so often: it lets spans go out over the network at the pace the
 * endpoint takes them. Whatever time the machine has reached when this resolves is the run's end.
 */
export type MachineRunner = (m: Machine, untilNs: number, afterSlice?: () => Promise<void>) => Promise<void>;

/** The whole run, in the command's slices (without its signal handling or progress line). */
const runToEnd: MachineRunner = async (m, untilNs, afterSlice) => {
  await runMachine(m, untilNs, afterSlice ? { afterSlice } : {});
};

export interface ExportOutcome {
  /** What was written, and what was not delivered and why: one line each, for stderr. */
  readonly lines: readonly string[];
  /** Every span reached every destination. */
  readonly complete: boolean;
}

/**
 * What tells this run from another of the same scenario name, seed and epoch: what the scenario
 * runs (an edited machine or job under the same name is another run) and the duration asked for.
 * Its description and its --steps display are not the run: editing them keeps the ids.
 */
function runIdentity(scenario: Scenario, durationNs: number): string {
  return `${JSON.stringify([scenario.machine, scenario.jobs, scenario.durationNs])}\0${durationNs}`;
}

/** The wall clock now, in ns (to the µs: two runs a moment apart get different epochs, so different trace ids). */
function nowEpochNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/**
 * Runs `m` to `durationNs` with the requested outputs attached, through `runMachine` (which may
 * stop early: every output is then finished as of the time reached, in-flight I/Os marked).
 * `notify` hears what cannot wait for the end (an OTLP endpoint that fails during the run).
 * Check the request with exportSettingsProblem() first: settings it refuses throw here.
 */
export async function runWithExports(
  m: Machine,
  durationNs: number,
  scenario: Scenario,
  seed: number,
  req: ExportRequest,
  runMachine: MachineRunner = runToEnd,
  notify: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<ExportOutcome> {
  const environment: Environment = req.ignoreEnvironment === true ? {} : process.env;
  const settings = resolveSpanSettings(req, environment, durationNs);
  if ('error' in settings) throw new Error(settings.error);
  const files: ReplacedFile[] = [];
  const open = (flag: string, path: string): ReplacedFile => {
    const f = new ReplacedFile(flag, path);
    files.push(f);
    return f;
  };
  try {
    const lines: string[] = [...settings.notes];
    let perfetto: { file: ReplacedFile; writer: PerfettoWriter; recorder: TraceRecorder } | undefined;
    if (req.perfetto !== undefined) {
      const file = open('--perfetto', req.perfetto);
      const writer = new PerfettoWriter((chunk) => file.write(chunk));
      const recorder = new TraceRecorder(m, writer);
      recorder.start();
      perfetto = { file, writer, recorder };
    }

    let tracing: Tracing | undefined;
    let fileProcessor: CompleteTraceProcessor | undefined;
    let jaeger: { file: ReplacedFile; exporter: JaegerFileExporter } | undefined;
    let otlpFile: { file: ReplacedFile; exporter: OtlpJsonFileExporter } | undefined;
    let network: CountingOtlpExporter | undefined;
    let paced: PacedBatchProcessor | undefined;
    // live notices are for while the run goes on; after it, its last lines say it all
    let running = true;
    const wantsSpans = req.jaeger !== undefined || req.otlpFile !== undefined || req.otlp !== undefined;
    if (wantsSpans && settings.disabled) {
      const unwritten = [req.jaeger, req.otlpFile].filter((f) => f !== undefined);
      const what = [
        ...(unwritten.length > 0 ? [`${unwritten.join(' and ')} ${unwritten.length > 1 ? 'were' : 'was'} not written`] : []),
        ...(req.otlp !== undefined ? ['nothing was sent over OTLP'] : []),
      ];
      lines.push(`spans: OTEL_SDK_DISABLED=true, so no spans were built: ${what.join(' and ')}`);
    } else if (wantsSpans) {
      const processors: SpanProcessor[] = [];
      const fileExporters: SpanExporter[] = [];
      if (req.jaeger !== undefined) {
        const file = open('--jaeger', req.jaeger);
        jaeger = { file, exporter: new JaegerFileExporter((t) => file.write(t)) };
        fileExporters.push(jaeger.exporter);
      }
      if (req.otlpFile !== undefined) {
        const file = open('--otlp-file', req.otlpFile);
        otlpFile = { file, exporter: new OtlpJsonFileExporter((b) => file.write(b)) };
        fileExporters.push(otlpFile.exporter);
      }
      if (fileExporters.length > 0) processors.push((fileProcessor = new CompleteTraceProcessor(fileExporters)));
      if (settings.otlp !== undefined) {
        const url = settings.otlp.url;
        network = new CountingOtlpExporter(await createOtlpExporter(settings.otlp.protocol, url), url, (reason) => {
          if (running) notify(`otlp: ${url}: ${reason} (the run goes on; its last line counts what was not delivered)`);
        });
        processors.push((paced = new PacedBatchProcessor(network)));
      }
      const onComplete = fileProcessor ? fileProcessor.traceComplete.bind(fileProcessor) : () => undefined;
      tracing = createTracing(m, {
        scenario: scenario.name,
        seed,
        sampleRatio: settings.sampleRatio,
        runIdentity: runIdentity(scenario, durationNs),
        epochNs: req.epochNs ?? nowEpochNs(),
        processors,
        onTraceComplete: onComplete,
        useEnvironment: req.ignoreEnvironment !== true,
      });
      tracing.builder.start();
    }

    // let the exporter's requests and retries run while the simulation goes on, at the pace of an
    // endpoint that is slow but answering
    const pacedProcessor = paced;
    await runMachine(
      m,
      durationNs,
      pacedProcessor
        ? async () => {
            await yieldToEventLoop();
            await pacedProcessor.backpressure();
          }
        : undefined,
    );
    const endNs = m.env.nowNs;
    running = false;

    let complete = true;
    const fileLine = (file: ReplacedFile, ok: string): void => {
      if (file.failed) {
        complete = false;
        lines.push(file.errorLine());
      } else lines.push(ok);
    };
    if (perfetto) {
      perfetto.recorder.stop(endNs);
      perfetto.file.error ??= perfetto.writer.outputError;
      perfetto.file.commit();
      const w = perfetto.writer;
      fileLine(perfetto.file, `perfetto: ${perfetto.file.path}: ${w.eventsWritten} events, ${w.bytesWritten} bytes (open it at https://ui.perfetto.dev)`);
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
        fileLine(jaeger.file, `jaeger: ${jaeger.file.path}: ${jaeger.exporter.tracesWritten} traces, ${jaeger.exporter.spansWritten} spans`);
      }
      if (otlpFile) {
        otlpFile.file.commit();
        fileLine(otlpFile.file, `otlp-file: ${otlpFile.file.path}: ${otlpFile.exporter.spansWritten} spans`);
      }
      if (fileProcessor && fileProcessor.failedSpans > 0) {
        complete = false;
        lines.push(`files: ${fileProcessor.failedSpans} spans not written: ${fileProcessor.failures.join('; ')}`);
      }
      if (network && paced && settings.otlp) {
        const r = network.report();
        const where = settings.otlp.url;
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
