// What the exporter tests share. Receivers for the OTLP exporters, on 127.0.0.1: OTLP/HTTP
// (protobuf or JSON bodies, kept as they came) and OTLP/gRPC (a minimal TraceService/Export server
// on @grpc/grpc-js, which the official gRPC exporter brings); an independent decoder for the
// protobuf bodies (protobufjs code generated from the official OTLP protos, published on npm as
// @opentelemetry/otlp-transformer 0.200.0); the CLI as a child process with the OTEL_* variables
// of the test's own environment cleared; and scratch directories removed after the tests.
import { after } from 'node:test';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { repoRoot } from '../helpers/repo.js';

export interface DecodedAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
}
export interface DecodedSpan {
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
export interface DecodedRequest {
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

/** An ExportTraceServiceRequest in protobuf, with ids in hex as the SDK speaks them. */
export function decode(body: Uint8Array): DecodedRequest {
  const obj = RequestType.toObject(RequestType.decode(body), { longs: String, bytes: String, defaults: false }) as DecodedRequest;
  // ids come back base64
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

export const spansOf = (reqs: readonly DecodedRequest[]): DecodedSpan[] => reqs.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));

export function attributeValue(a: DecodedAttribute): string | number | boolean | undefined {
  const v = a.value;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.boolValue !== undefined) return v.boolValue;
  return v.doubleValue;
}

/** A span as one line of text (ids, parent, name, exact times, attributes): what two encodings must agree on. */
export function spanLine(s: DecodedSpan): string {
  const attrs = (s.attributes ?? []).map((a) => `${a.key}=${JSON.stringify(attributeValue(a))}`).sort();
  return `${s.traceId}/${s.spanId} <- ${s.parentSpanId ?? '-'} ${s.name} ${s.startTimeUnixNano}..${s.endTimeUnixNano} ${attrs.join(' ')}`;
}

export interface HttpReceiver {
  readonly url: string;
  readonly bodies: Buffer[];
  readonly paths: string[];
  readonly contentTypes: string[];
  /** Each accepted request's headers. */
  readonly headers: IncomingMessage['headers'][];
  readonly server: Server;
}

/** An OTLP/HTTP receiver: answers each POST with `status(n)` and keeps the bodies it accepted. */
export async function receiver(status: (n: number) => number = () => 200): Promise<HttpReceiver> {
  const bodies: Buffer[] = [];
  const paths: string[] = [];
  const contentTypes: string[] = [];
  const headers: IncomingMessage['headers'][] = [];
  let n = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const code = status(n++);
      if (code === 200) {
        bodies.push(Buffer.concat(chunks));
        paths.push(req.url ?? '');
        contentTypes.push(req.headers['content-type'] ?? '');
        headers.push(req.headers);
      }
      const json = req.headers['content-type'] === 'application/json';
      res.writeHead(code, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json && code === 200 ? '{}' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/v1/traces`, bodies, paths, contentTypes, headers, server };
}

export interface GrpcReceiver {
  readonly url: string;
  readonly bodies: Buffer[];
  readonly server: grpc.Server;
}

/** An OTLP/gRPC receiver: TraceService/Export, keeping each request's bytes and answering an empty response. */
export async function grpcReceiver(): Promise<GrpcReceiver> {
  const bodies: Buffer[] = [];
  const server = new grpc.Server();
  const bytes = (b: Buffer): Buffer => b;
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: bytes,
        requestDeserialize: bytes,
        responseSerialize: bytes,
        responseDeserialize: bytes,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        bodies.push(call.request);
        // an empty ExportTraceServiceResponse: everything accepted
        callback(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  return { url: `http://127.0.0.1:${port}`, bodies, server };
}

export const cli = join(repoRoot(), 'dist', 'tui', 'cli.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a child CLI: the test's own without OTEL_*, plus `env`. */
export function cliEnv(env: Readonly<Record<string, string>> = {}): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_') && v !== undefined) base[k] = v;
  return { ...base, ...env };
}

/** The CLI as a child process (asynchronous: a receiver in this process must go on answering). */
export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}, cwd: string = repoRoot()): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: cliEnv(env), cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A new empty directory per call, all under one temporary root that goes when the file's tests end. */
export function scratchDirs(prefix: string): () => string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(root, { recursive: true, force: true }));
  let made = 0;
  return () => {
    const dir = join(root, String(made++));
    mkdirSync(dir);
    return dir;
  };
}
