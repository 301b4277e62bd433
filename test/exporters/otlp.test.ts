// OTLP round trip: the official OTLP/HTTP protobuf exporter sends the span builder's spans to a
// receiver on 127.0.0.1, and an independent decoder reads them back: ids, parents, names,
// attributes and nanosecond times equal what was built. Then through the CLI: the three protocols
// (OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL) deliver what the OTLP/JSON file of the same run holds,
// OTEL_* variables, retries, an endpoint that is down told while the run goes on, and the one line
// about spans that never arrived, naming the URL used.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { CountingOtlpExporter } from '../../exporters/otlp.js';
import { createTracing } from '../../probes/tracing.js';
import { prepareRun } from '../../tui/run.js';
import { scenario } from '../helpers/machine.js';
import { attributeValue, cli, cliEnv, decode, grpcReceiver, receiver, runCli, spanLine, spansOf, type DecodedRequest, type DecodedSpan } from './harness.js';

const hrNs = (t: readonly [number, number]) => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();

test('OTLP round trip: what the receiver decodes equals what was built, to the nanosecond', async () => {
  const rx = await receiver();
  try {
    const s = scenario('page-fault');
    const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
    const memory = new InMemorySpanExporter();
    const network = new CountingOtlpExporter(new OTLPTraceExporter({ url: rx.url }), rx.url);
    const { provider, builder } = createTracing(m, {
      scenario: 'page-fault',
      seed: 1,
      sampleRatio: 1,
      epochNs: 1_763_856_000_123_456_789n,
      processors: [new SimpleSpanProcessor(memory), new BatchSpanProcessor(network)],
      onTraceComplete: () => undefined,
    });
    builder.start();
    m.run(s.durationNs);
    builder.stop(m.env.nowNs);
    await provider.forceFlush();
    const built: ReadableSpan[] = memory.getFinishedSpans().slice();
    await provider.shutdown();

    assert.equal(network.report().failed, 0);
    assert.equal(network.report().delivered, built.length);
    const received = rx.bodies.flatMap((b) => decode(b).resourceSpans);
    const resource = new Map(received[0]!.resource.attributes.map((a) => [a.key, attributeValue(a)]));
    assert.equal(resource.get('service.name'), 'kiotrace');
    assert.equal(resource.get('kiotrace.scenario'), 'page-fault');
    assert.equal(resource.get('kiotrace.seed'), 1);
    const spans = new Map(received.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).map((sp) => [sp.spanId + sp.traceId, sp]));
    assert.equal(spans.size, built.length);
    assert.ok(built.length >= 15, `spans built: ${built.length}`);
    for (const b of built) {
      const ctx = b.spanContext();
      const r = spans.get(ctx.spanId + ctx.traceId);
      assert.ok(r, `span ${b.name} ${ctx.spanId} arrived`);
      assert.equal(r.name, b.name);
      assert.equal(r.parentSpanId ?? undefined, b.parentSpanContext?.spanId);
      assert.equal(r.startTimeUnixNano, hrNs(b.startTime));
      assert.equal(r.endTimeUnixNano, hrNs(b.endTime));
      const attrs = Object.fromEntries((r.attributes ?? []).map((a) => [a.key, attributeValue(a)]));
      assert.deepEqual(attrs, { ...b.attributes });
    }
    // the fault's root: its chain, and a start time that keeps the epoch's odd nanoseconds
    const fault = [...spans.values()].find((sp) => sp.name === 'page_fault')!;
    const faultAttrs = Object.fromEntries((fault.attributes ?? []).map((a) => [a.key, attributeValue(a)]));
    for (const k of ['kiotrace.fault.va', 'kiotrace.fault.vpn', 'kiotrace.inode', 'kiotrace.pgoff', 'kiotrace.block', 'kiotrace.sector', 'kiotrace.pfn']) {
      assert.equal(typeof faultAttrs[k], 'number', k);
    }
    assert.match(fault.startTimeUnixNano, /^1763856000\d{9}$/);
    assert.equal(BigInt(fault.startTimeUnixNano) % 1000n, (1_763_856_000_123_456_789n + 155_940n) % 1000n);
  } finally {
    rx.server.close();
  }
});

test('--otlp with no URL follows OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME', async () => {
  const rx = await receiver();
  try {
    const base = rx.url.replace(/\/v1\/traces$/, '');
    const r = await runCli(['run', 'blocking-read', '--otlp'], { OTEL_EXPORTER_OTLP_ENDPOINT: base, OTEL_SERVICE_NAME: 'svc-under-test' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `otlp: 20 spans delivered to ${base}/v1/traces\n`);
    assert.deepEqual([...new Set(rx.paths)], ['/v1/traces']);
    const req = decode(rx.bodies[0]!);
    const service = req.resourceSpans[0]!.resource.attributes.find((a) => a.key === 'service.name');
    assert.equal(service && attributeValue(service), 'svc-under-test');
    const names = rx.bodies.flatMap((b) => decode(b).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((sp) => sp.name))));
    assert.equal(names.length, 20);
    assert.deepEqual(names.filter((n) => ['openat', 'mmap', 'read', 'munmap', 'close'].includes(n)).sort(), ['close', 'mmap', 'munmap', 'openat', 'read']);
  } finally {
    rx.server.close();
  }
});

test('a receiver that answers 503 once gets everything after a retry', async () => {
  const rx = await receiver((n) => (n === 0 ? 503 : 200));
  try {
    const r = await runCli(['run', 'blocking-read', '--otlp', rx.url], {});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `otlp: 20 spans delivered to ${rx.url}\n`);
    assert.equal(rx.bodies.flatMap((b) => decode(b).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))).length, 20);
  } finally {
    rx.server.close();
  }
});

test('OTEL_EXPORTER_OTLP_HEADERS reach the endpoint, percent-decoded and trimmed', async () => {
  const rx = await receiver();
  try {
    const r = await runCli(['run', 'blocking-read', '--otlp', rx.url], { OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%20123, team = io' });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(rx.headers.length > 0);
    for (const h of rx.headers) assert.deepEqual([h['api-key'], h['team']], ['abc 123', 'io']);
  } finally {
    rx.server.close();
  }
});

test('an endpoint that is down: the run completes, one line says what was lost and why, exit 1', async () => {
  // a port with nobody listening: bind one, then close it
  const rx = await receiver();
  rx.server.close();
  const r = await runCli(['run', 'blocking-read', '--otlp', rx.url], { OTEL_EXPORTER_OTLP_TIMEOUT: '1500' });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^scenario blocking-read: seed=1/m);
  assert.equal(r.stderr, `otlp: 20 of 20 spans were not delivered to ${rx.url}: connect ECONNREFUSED ${rx.url.slice('http://'.length).replace('/v1/traces', '')}\n`);
});

const EPOCH = '1763856000000000000';

/** The OTLP/JSON file's spans (the official JSON serializer, as http/json sends them). */
function otlpFileSpans(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const reqs = text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as DecodedRequest);
  return spansOf(reqs).map(spanLine).sort();
}

/**
 * `kiotrace run blocking-read --otlp [URL] --otlp-file FILE` with `env`: the spans `received(...)`
 * decodes from the receiver must be the file's, one for one, and the run says where they went.
 */
async function deliversWhatTheFileHolds(otlpArgs: readonly string[], env: Readonly<Record<string, string>>, url: string, received: () => DecodedSpan[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-otlp-'));
  try {
    const file = join(dir, 'spans.json');
    const r = await runCli(['run', 'blocking-read', ...otlpArgs, '--otlp-file', file, '--epoch', EPOCH], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `otlp-file: ${file}: 20 spans\notlp: 20 spans delivered to ${url}\n`);
    const spans = received();
    assert.equal(spans.length, 20);
    assert.deepEqual(spans.map(spanLine).sort(), otlpFileSpans(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('OTEL_EXPORTER_OTLP_PROTOCOL=http/json: JSON bodies with what the run\'s OTLP/JSON file holds', async () => {
  const rx = await receiver();
  try {
    await deliversWhatTheFileHolds(['--otlp', rx.url], { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, rx.url, () =>
      spansOf(rx.bodies.map((b) => JSON.parse(b.toString('utf8')) as DecodedRequest)),
    );
    assert.deepEqual([...new Set(rx.contentTypes)], ['application/json']);
  } finally {
    rx.server.close();
  }
});

test('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc (over OTEL_EXPORTER_OTLP_PROTOCOL): a gRPC receiver gets what the OTLP/JSON file holds', async () => {
  const rx = await grpcReceiver();
  try {
    // the signal's own variables win over the general ones, and its endpoint is used as it is
    const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url };
    await deliversWhatTheFileHolds(['--otlp'], env, rx.url, () => spansOf(rx.bodies.map(decode)));
  } finally {
    rx.server.forceShutdown();
  }
});

test('--otlp with neither URL nor variable: the last line names the default URL', async () => {
  // whether or not something listens on localhost:4318, the line says where the spans went
  const r = await runCli(['run', 'blocking-read', '--otlp'], { OTEL_EXPORTER_OTLP_TIMEOUT: '500' });
  const last = r.stderr.trimEnd().split('\n').at(-1)!;
  assert.match(last, /^otlp: (20 spans delivered to|20 of 20 spans were not delivered to) http:\/\/localhost:4318\/v1\/traces/);
});

test('an endpoint that is down is told on stderr while the run goes on, then counted at the end', async () => {
  const rx = await receiver();
  rx.server.close();
  const port = new URL(rx.url).port;
  // a run long enough to export batches while it goes on (default: four jobs on two disks)
  const child = spawn(process.execPath, [cli, 'run', 'default', '--duration', '200ms', '--otlp', rx.url], { env: cliEnv({ OTEL_EXPORTER_OTLP_TIMEOUT: '1000' }) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // wait for the first whole line on stderr (or the end, if it never comes)
  const firstLine = await new Promise<{ line: string; stdoutThen: string; running: boolean }>((resolve) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
      if (stderr.includes('\n')) resolve({ line: stderr.slice(0, stderr.indexOf('\n')), stdoutThen: stdout, running: child.exitCode === null });
    });
    void exited.then(() => resolve({ line: stderr.split('\n')[0]!, stdoutThen: stdout, running: false }));
  });
  assert.equal(firstLine.line, `otlp: ${rx.url}: connect ECONNREFUSED 127.0.0.1:${port} (the run goes on; its last line counts what was not delivered)`);
  assert.equal(firstLine.stdoutThen, '', 'the run had not printed its summary yet');
  assert.ok(firstLine.running, 'the run was still going');
  assert.equal(await exited, 1);
  assert.match(stdout, /^scenario default: seed=1/m);
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, stderr);
  assert.match(lines[1]!, new RegExp(`^otlp: \\d+ of \\d+ spans were not delivered to ${rx.url.replace(/[.]/g, '\\.')}: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}; `));
});
