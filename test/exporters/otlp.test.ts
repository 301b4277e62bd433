// OTLP round trip: the official OTLP/HTTP protobuf exporter sends the span builder's spans to a
// receiver on 127.0.0.1, and an independent decoder (protobufjs code generated from the official
// OTLP protos, published on npm as @opentelemetry/otlp-transformer 0.200.0) reads them back: ids,
// parents, names, attributes and nanosecond times equal what was built. Then through the CLI:
// OTEL_* variables, retries, and the one line about spans that never arrived.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { CountingOtlpExporter } from '../../exporters/otlp.js';
import { createTracing } from '../../probes/tracing.js';
import { prepareRun } from '../../tui/run.js';
import { scenario } from '../helpers/machine.js';
import { repoRoot } from '../helpers/repo.js';

interface DecodedAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
}
interface DecodedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: DecodedAttribute[];
  links?: { traceId: string; spanId: string }[];
  status?: { code?: number };
}
interface DecodedRequest {
  resourceSpans: { resource: { attributes: DecodedAttribute[] }; scopeSpans: { spans: DecodedSpan[] }[] }[];
}
interface GeneratedRequestType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: { longs: StringConstructor; bytes: StringConstructor; defaults: boolean }): unknown;
}

const generated = createRequire(import.meta.url)('otlp-generated-root/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: GeneratedRequestType } } } } };
};
const RequestType = generated.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

function decode(body: Uint8Array): DecodedRequest {
  const obj = RequestType.toObject(RequestType.decode(body), { longs: String, bytes: String, defaults: false }) as DecodedRequest;
  // ids come back base64; the SDK speaks hex
  const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
  for (const rs of obj.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        s.traceId = hex(s.traceId);
        s.spanId = hex(s.spanId);
        if (s.parentSpanId) s.parentSpanId = hex(s.parentSpanId);
        for (const l of s.links ?? []) {
          l.traceId = hex(l.traceId);
          l.spanId = hex(l.spanId);
        }
      }
    }
  }
  return obj;
}

/** An OTLP/HTTP receiver: answers each POST with `status(n)` and keeps the bodies it accepted. */
async function receiver(status: (n: number) => number = () => 200): Promise<{ url: string; bodies: Buffer[]; paths: string[]; server: Server }> {
  const bodies: Buffer[] = [];
  const paths: string[] = [];
  let n = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const code = status(n++);
      if (code === 200) {
        bodies.push(Buffer.concat(chunks));
        paths.push(req.url ?? '');
      }
      res.writeHead(code, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1/traces`, bodies, paths, server };
}

const hrNs = (t: readonly [number, number]) => (BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])).toString();

function attributeValue(a: DecodedAttribute): string | number | boolean | undefined {
  const v = a.value;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  return v.doubleValue;
}

test('OTLP round trip: what the receiver decodes equals what was built, to the nanosecond', async () => {
  const rx = await receiver();
  try {
    const s = scenario('page-fault');
    const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
    const memory = new InMemorySpanExporter();
    const network = new CountingOtlpExporter(rx.url);
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
    assert.equal(BigInt(fault.startTimeUnixNano) % 1000n, (1_763_856_000_123_456_789n + 155_660n) % 1000n);
  } finally {
    rx.server.close();
  }
});

const cli = join(repoRoot(), 'dist', 'tui', 'cli.js');

/** The CLI with OTEL_* cleared, plus `env`. */
function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_') && v !== undefined) base[k] = v;
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...base, ...env }, cwd: repoRoot() }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('--otlp with no URL follows OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME', async () => {
  const rx = await receiver();
  try {
    const base = rx.url.replace(/\/v1\/traces$/, '');
    const r = await runCli(['run', 'blocking-read', '--otlp'], { OTEL_EXPORTER_OTLP_ENDPOINT: base, OTEL_SERVICE_NAME: 'svc-under-test' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'otlp: 20 spans delivered to the OTLP endpoint\n');
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

test('an endpoint that is down: the run completes, one line says what was lost and why, exit 1', async () => {
  // a port with nobody listening: bind one, then close it
  const rx = await receiver();
  rx.server.close();
  const r = await runCli(['run', 'blocking-read', '--otlp', rx.url], { OTEL_EXPORTER_OTLP_TIMEOUT: '1500' });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^scenario blocking-read: seed=1/);
  assert.equal(r.stderr, `otlp: 20 of 20 spans were not delivered to ${rx.url}: connect ECONNREFUSED ${rx.url.slice('http://'.length).replace('/v1/traces', '')}\n`);
});
