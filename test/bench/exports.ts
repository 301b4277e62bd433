// The trace-output figures of `npm run bench`: Perfetto events written per wall second and bytes
// per event on `default`, and spans built and exported to a file per wall second next to the bare
// OpenTelemetry SDK making as many spans into a no-op exporter.
import { closeSync, openSync, writeSync } from 'node:fs';
import { ROOT_CONTEXT, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { AlwaysOnSampler, NodeTracerProvider, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import type { Machine } from '../../core/index.js';
import { JaegerFileExporter } from '../../exporters/jaeger.js';
import { PerfettoWriter } from '../../exporters/perfetto.js';
import { TraceRecorder } from '../../probes/recorder.js';
import { CompleteTraceProcessor, createTracing } from '../../probes/tracing.js';
import { prepareRun } from '../../tui/run.js';
import { scenario } from '../helpers/machine.js';

/** Attaches a Perfetto writer whose bytes go to `fd`; returns what finishes it and its counts. */
export function attachPerfetto(m: Machine, fd: number): { finish: (endNs: number) => void; writer: PerfettoWriter } {
  const writer = new PerfettoWriter((chunk) => {
    writeSync(fd, chunk);
  });
  const recorder = new TraceRecorder(m, writer);
  recorder.start();
  return { finish: (endNs) => recorder.stop(endNs), writer };
}

/** `default` for `simNs` with Perfetto written to /dev/null: events, bytes and the wall time. */
export function perfettoRun(simNs: number): { events: number; bytes: number; wallNs: number } {
  const s = scenario('default');
  const fd = openSync('/dev/null', 'w');
  try {
    const t0 = process.hrtime.bigint();
    const m = prepareRun(s, { seed: 1, durationNs: simNs });
    const { finish, writer } = attachPerfetto(m, fd);
    m.run(simNs);
    finish(m.env.nowNs);
    const wallNs = Number(process.hrtime.bigint() - t0);
    return { events: writer.eventsWritten, bytes: writer.bytesWritten, wallNs };
  } finally {
    closeSync(fd);
  }
}

/** `default` for `simNs` with every I/O's spans written as Jaeger JSON to /dev/null. */
export async function spanFileRun(simNs: number): Promise<{ spans: number; attributes: number; wallNs: number }> {
  const s = scenario('default');
  const fd = openSync('/dev/null', 'w');
  try {
    const t0 = process.hrtime.bigint();
    const m = prepareRun(s, { seed: 1, durationNs: simNs });
    const exporter = new JaegerFileExporter((text) => {
      writeSync(fd, text);
    });
    let attributes = 0;
    const counting: SpanExporter = {
      export(spans: ReadableSpan[], done) {
        for (const sp of spans) attributes += Object.keys(sp.attributes).length;
        exporter.export(spans, done);
      },
      shutdown: () => exporter.shutdown(),
    };
    const processor = new CompleteTraceProcessor([counting]);
    const { provider, builder } = createTracing(m, {
      scenario: 'default',
      seed: 1,
      sampleRatio: 1,
      epochNs: 1_763_856_000_000_000_000n,
      processors: [processor],
      onTraceComplete: (id) => processor.traceComplete(id),
      useEnvironment: false,
    });
    builder.start();
    m.run(simNs);
    builder.stop(m.env.nowNs);
    await provider.shutdown();
    const wallNs = Number(process.hrtime.bigint() - t0);
    if (exporter.spansWritten !== builder.spansStarted) throw new Error(`spans written ${exporter.spansWritten} != built ${builder.spansStarted}`);
    return { spans: exporter.spansWritten, attributes, wallNs };
  } finally {
    closeSync(fd);
  }
}

/**
 * The bare SDK making `n` spans with explicit HrTimes and parents (one root, the rest its
 * children, in traces of `perTrace`), `attrsPerSpan` attributes each, into a no-op exporter.
 */
export async function bareSdkSpans(n: number, perTrace: number, attrsPerSpan: number): Promise<number> {
  const noop: SpanExporter = {
    export(_spans, done) {
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: async () => {},
  };
  const provider = new NodeTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new SimpleSpanProcessor(noop)] });
  const tracer = provider.getTracer('bare');
  const attrs: Attributes = {};
  for (let i = 0; i < attrsPerSpan; i++) attrs[`attr.${i}`] = i;
  const t0 = process.hrtime.bigint();
  let made = 0;
  for (let t = 0; made < n; t++) {
    const start: HrTime = [1_763_856_000 + t, 0];
    const end: HrTime = [1_763_856_000 + t, 1000];
    const root = tracer.startSpan('root', { root: true, startTime: start, attributes: attrs }, ROOT_CONTEXT);
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    made++;
    for (let c = 1; c < perTrace && made < n; c++, made++) tracer.startSpan('child', { startTime: start, attributes: attrs }, ctx).end(end);
    root.end(end);
  }
  await provider.shutdown();
  return Number(process.hrtime.bigint() - t0);
}
