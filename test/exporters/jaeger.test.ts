// kiotrace run --jaeger / --otlp-file through the real CLI: Jaeger UI's upload format (traces,
// processes, CHILD_OF references, microseconds rounded outwards with the exact nanoseconds in a
// tag), OTLP/JSON lines with exact nanoseconds, byte-identical files with --epoch, the resource
// from OTEL_SERVICE_NAME, error spans, and bad output paths refused before anything is written.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attach } from '../../probes/attach.js';
import { prepareRun } from '../../tui/run.js';
import { scenario } from '../helpers/machine.js';
import { repoRoot } from '../helpers/repo.js';
import { cli, cliEnv, scratchDirs } from './harness.js';

const EPOCH = 1763856000000000000n;

const run = (args: readonly string[], env: NodeJS.ProcessEnv = cliEnv()) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: repoRoot(), env });
const freshDir = scratchDirs('kiotrace-jaeger-test-');

interface JaegerTag {
  readonly key: string;
  readonly type: string;
  readonly value: string | number | boolean;
}
interface JaegerSpan {
  readonly traceID: string;
  readonly spanID: string;
  readonly operationName: string;
  readonly references: readonly { readonly refType: string; readonly traceID: string; readonly spanID: string }[];
  readonly startTime: number;
  readonly duration: number;
  readonly tags: readonly JaegerTag[];
  readonly logs: readonly { readonly timestamp: number; readonly fields: readonly JaegerTag[] }[];
  readonly processID: string;
  readonly warnings: null;
}
interface JaegerTrace {
  readonly traceID: string;
  readonly spans: readonly JaegerSpan[];
  readonly processes: Readonly<Record<string, { readonly serviceName: string; readonly tags: readonly JaegerTag[] }>>;
  readonly warnings: null;
}
interface JaegerFile {
  readonly data: readonly JaegerTrace[];
}

interface OtlpValue {
  readonly stringValue?: string;
  readonly intValue?: number | string;
  readonly boolValue?: boolean;
}
interface OtlpSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly status: { readonly code: number; readonly message?: string };
}
interface OtlpRequest {
  readonly resourceSpans: readonly {
    readonly resource: { readonly attributes: readonly { readonly key: string; readonly value: OtlpValue }[] };
    readonly scopeSpans: readonly { readonly scope: { readonly name: string }; readonly spans: readonly OtlpSpan[] }[];
  }[];
}

const tagValue = (tags: readonly JaegerTag[], key: string): JaegerTag['value'] | undefined => tags.find((t) => t.key === key)?.value;
const readJaeger = (path: string): JaegerFile => JSON.parse(readFileSync(path, 'utf8')) as JaegerFile;
function readOtlp(path: string): OtlpRequest[] {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'), 'JSON Lines: every line ends with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as OtlpRequest);
}
const otlpSpans = (reqs: readonly OtlpRequest[]): OtlpSpan[] => reqs.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));

interface Outputs {
  readonly dir: string;
  readonly jaeger: string;
  readonly otlp: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** `kiotrace run SCENARIO --jaeger DIR/trace.json --otlp-file DIR/trace.otlp.json --epoch EPOCH ...extra`. */
function runToFiles(scenarioArg: string, extra: readonly string[] = [], env?: NodeJS.ProcessEnv): Outputs {
  const dir = freshDir();
  const jaeger = join(dir, 'trace.json');
  const otlp = join(dir, 'trace.otlp.json');
  const r = run(['run', scenarioArg, '--jaeger', jaeger, '--otlp-file', otlp, '--epoch', String(EPOCH), ...extra], env);
  assert.equal(r.status, 0, r.stderr);
  return { dir, jaeger, otlp, stdout: r.stdout, stderr: r.stderr };
}

let blockingRead: Outputs | undefined;
const blockingReadFiles = (): Outputs => (blockingRead ??= runToFiles('blocking-read'));

/** sys_enter_read / sys_exit_read of blocking-read in simulated ns, from an in-process run. */
function readSyscallTimes(): { enter: number; exit: number } {
  const s = scenario('blocking-read');
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const enter: number[] = [];
  const exit: number[] = [];
  attach(m, 'tracepoint:syscalls:sys_enter_read', (h) => enter.push(h.timeNs));
  attach(m, 'tracepoint:syscalls:sys_exit_read', (h) => exit.push(h.timeNs));
  m.run(s.durationNs);
  assert.equal(enter.length, 1);
  assert.equal(exit.length, 1);
  return { enter: enter[0]!, exit: exit[0]! };
}

test('--jaeger: Jaeger UI upload format, one trace per I/O, parents by CHILD_OF, µs times with the exact ns in a tag', () => {
  const out = blockingReadFiles();
  assert.equal(out.stderr, `jaeger: ${out.jaeger}: 5 traces, 20 spans\notlp-file: ${out.otlp}: 20 spans\n`);
  assert.match(out.stdout, /^scenario blocking-read: seed=1, duration=20ms/m);
  assert.deepEqual(readdirSync(out.dir).sort(), ['trace.json', 'trace.otlp.json'], 'no partial files left behind');

  const file = readJaeger(out.jaeger);
  assert.deepEqual(Object.keys(file), ['data']);
  assert.equal(file.data.length, 5);
  let spanCount = 0;
  let errorSpans = 0;
  for (const trace of file.data) {
    assert.deepEqual(Object.keys(trace), ['traceID', 'spans', 'processes', 'warnings']);
    assert.match(trace.traceID, /^[0-9a-f]{32}$/);
    assert.equal(trace.warnings, null);
    assert.deepEqual(Object.keys(trace.processes), ['p1']);
    const p1 = trace.processes.p1!;
    assert.equal(p1.serviceName, 'kiotrace');
    assert.deepEqual(
      p1.tags.filter((t) => t.key.startsWith('kiotrace.')),
      [
        { key: 'kiotrace.scenario', type: 'string', value: 'blocking-read' },
        { key: 'kiotrace.seed', type: 'int64', value: 1 },
      ],
    );
    assert.equal(tagValue(p1.tags, 'service.name'), undefined, 'the service name is serviceName, not a tag');

    const ids = new Set(trace.spans.map((s) => s.spanID));
    assert.equal(ids.size, trace.spans.length, 'span ids are unique in a trace');
    const roots = trace.spans.filter((s) => !s.references.some((r) => r.refType === 'CHILD_OF'));
    assert.equal(roots.length, 1, 'one root per trace');
    for (const s of trace.spans) {
      spanCount++;
      assert.equal(s.traceID, trace.traceID);
      assert.match(s.spanID, /^[0-9a-f]{16}$/);
      assert.equal(s.processID, 'p1');
      assert.ok(s.processID in trace.processes);
      assert.equal(s.warnings, null);
      if (s !== roots[0]) {
        const parent = s.references[0];
        assert.ok(parent, `${s.operationName} has a reference`);
        assert.equal(parent.refType, 'CHILD_OF');
        assert.equal(parent.traceID, trace.traceID);
        assert.ok(ids.has(parent.spanID), `${s.operationName}: parent ${parent.spanID} is in the trace`);
        assert.notEqual(parent.spanID, s.spanID);
      }
      assert.ok(Number.isInteger(s.startTime) && s.startTime >= 1763856000000000, `startTime ${s.startTime} is µs since 1970`);
      assert.ok(s.startTime < 1763856000000000 + 20_000, 'within the 20 ms run');
      assert.ok(Number.isInteger(s.duration) && s.duration >= 0);
      const ns = tagValue(s.tags, 'kiotrace.duration_ns');
      assert.equal(typeof ns, 'number');
      assert.ok(Number.isInteger(ns) && (ns as number) >= 0);
      assert.ok(s.duration * 1000 >= (ns as number), `${s.operationName}: ${s.duration} µs covers ${String(ns)} ns`);
      assert.equal(tagValue(s.tags, 'span.kind'), 'internal');
      assert.equal(tagValue(s.tags, 'otel.scope.name'), 'kiotrace');
      if (tagValue(s.tags, 'error') !== undefined) errorSpans++;
    }
  }
  assert.equal(spanCount, 20);
  assert.equal(errorSpans, 0, 'blocking-read has no failing syscall');

  // the read, by layer; its root has the I/O's process and result
  const read = file.data.find((t) => t.spans.some((s) => s.operationName === 'read'))!;
  assert.deepEqual(read.spans.map((s) => s.operationName).sort(), [
    'bio',
    'device',
    'dma',
    'driver',
    'ext4_ext_map_blocks',
    'ext4_file_read_iter',
    'filemap_read',
    'irq/124 nvme0q4',
    'page_cache_sync_ra',
    'queue wait',
    'read',
    'request',
    'submit_bio',
    'vfs_read',
    'wakeup',
  ]);
  const rootSpan = read.spans.find((s) => s.operationName === 'read')!;
  assert.deepEqual(rootSpan.references, []);
  assert.equal(tagValue(rootSpan.tags, 'kiotrace.io.id'), 3);
  assert.equal(tagValue(rootSpan.tags, 'thread.name'), 'cold-read');
  assert.equal(tagValue(rootSpan.tags, 'kiotrace.syscall.ret'), 4096);
  const wakeup = read.spans.find((s) => s.operationName === 'wakeup')!;
  assert.deepEqual(
    wakeup.logs.map((l) => tagValue(l.fields, 'event')),
    ['sched_switch'],
  );
  assert.ok(wakeup.logs[0]!.timestamp >= wakeup.startTime && wakeup.logs[0]!.timestamp <= wakeup.startTime + wakeup.duration);
});

test('--otlp-file: OTLP/JSON lines with the same spans, to the nanosecond; Jaeger rounds them outwards', () => {
  const out = blockingReadFiles();
  const reqs = readOtlp(out.otlp);
  assert.equal(reqs.length, 1, 'one export request for 20 spans');
  for (const req of reqs) {
    assert.equal(req.resourceSpans.length, 1);
    const attrs = req.resourceSpans[0]!.resource.attributes;
    assert.deepEqual(
      attrs.find((a) => a.key === 'service.name'),
      { key: 'service.name', value: { stringValue: 'kiotrace' } },
    );
    assert.deepEqual(
      attrs.find((a) => a.key === 'kiotrace.scenario'),
      { key: 'kiotrace.scenario', value: { stringValue: 'blocking-read' } },
    );
    assert.deepEqual(
      req.resourceSpans[0]!.scopeSpans.map((s) => s.scope.name),
      ['kiotrace'],
    );
  }
  const spans = otlpSpans(reqs);
  const jaeger = readJaeger(out.jaeger);
  const jaegerSpans = new Map(jaeger.data.flatMap((t) => t.spans).map((s) => [`${s.traceID}/${s.spanID}`, s]));
  assert.equal(spans.length, jaegerSpans.size);
  for (const o of spans) {
    const j = jaegerSpans.get(`${o.traceId}/${o.spanId}`);
    assert.ok(j, `${o.name} is in the Jaeger file`);
    assert.equal(j.operationName, o.name);
    assert.match(o.startTimeUnixNano, /^\d+$/);
    const start = BigInt(o.startTimeUnixNano);
    const end = BigInt(o.endTimeUnixNano);
    assert.ok(start >= EPOCH && end >= start);
    assert.equal(BigInt(j.startTime), start / 1000n, `${o.name}: start floors to the µs`);
    assert.equal(BigInt(j.startTime + j.duration), (end + 999n) / 1000n, `${o.name}: end ceils to the µs`);
    assert.equal(BigInt(tagValue(j.tags, 'kiotrace.duration_ns') as number), end - start, `${o.name}: exact duration`);
    assert.equal(j.references.find((r) => r.refType === 'CHILD_OF')?.spanID, o.parentSpanId, `${o.name}: same parent`);
    assert.equal(o.status.code, 0);
  }
  // the read's root: exactly EPOCH + the simulated ns of its syscall entry and exit
  const { enter, exit } = readSyscallTimes();
  const readRoot = spans.find((s) => s.name === 'read')!;
  assert.equal(readRoot.parentSpanId, undefined);
  assert.equal(readRoot.startTimeUnixNano, String(EPOCH + BigInt(enter)));
  assert.equal(readRoot.endTimeUnixNano, String(EPOCH + BigInt(exit)));
  const jRoot = jaegerSpans.get(`${readRoot.traceId}/${readRoot.spanId}`)!;
  assert.equal(jRoot.startTime, Number((EPOCH + BigInt(enter)) / 1000n));
  assert.ok((EPOCH + BigInt(enter)) % 1000n !== 0n, 'the root starts inside a µs: the floor is tested');
});

test('--epoch: the same command writes byte-identical files', () => {
  const a = blockingReadFiles();
  const b = runToFiles('blocking-read');
  assert.ok(readFileSync(a.jaeger).equals(readFileSync(b.jaeger)), 'Jaeger files are identical');
  assert.ok(readFileSync(a.otlp).equals(readFileSync(b.otlp)), 'OTLP files are identical');
  assert.equal(a.stdout, b.stdout);
  // and the epoch is what sets the times
  const c = runToFiles('blocking-read', ['--epoch', '1000000000000000000']);
  const shift = (f: JaegerFile) => f.data.flatMap((t) => t.spans.map((s) => s.startTime));
  const later = shift(readJaeger(a.jaeger));
  const earlier = shift(readJaeger(c.jaeger));
  assert.equal(later.length, earlier.length);
  for (let i = 0; i < later.length; i++) assert.equal(later[i]! - earlier[i]!, Number((EPOCH - 1000000000000000000n) / 1000n));
});

test('OTEL_SERVICE_NAME names the service in both files', () => {
  const out = runToFiles('blocking-read', [], cliEnv({ OTEL_SERVICE_NAME: 'svc-x' }));
  const file = readJaeger(out.jaeger);
  assert.equal(file.data.length, 5);
  for (const t of file.data) assert.equal(t.processes.p1!.serviceName, 'svc-x');
  for (const req of readOtlp(out.otlp)) {
    assert.deepEqual(
      req.resourceSpans[0]!.resource.attributes.find((a) => a.key === 'service.name'),
      { key: 'service.name', value: { stringValue: 'svc-x' } },
    );
  }
});

test('failing syscalls: ERROR spans, error=true in Jaeger, status 2 in OTLP', () => {
  const dir = freshDir();
  const scenarioFile = join(dir, 'einval.json');
  // O_DIRECT needs 512-byte alignment: every 1000-byte pread64 fails with EINVAL
  writeFileSync(scenarioFile, JSON.stringify({ name: 'einval', duration: '1ms', jobs: [{ name: 'd', filename: '/mnt/nvme/x', bs: '1000', size: '4000', direct: 1 }] }));
  const out = runToFiles(scenarioFile);
  assert.match(out.stdout, /\n {5}errors    : total=4, first_error=22\/<EINVAL>\n[^]*\n  d: pid=\d+, filename=[^\n]*, 4 syscalls failed \(first: EINVAL\)\n/);
  const spans = readJaeger(out.jaeger).data.flatMap((t) => t.spans);
  const failed = spans.filter((s) => tagValue(s.tags, 'error') !== undefined);
  assert.deepEqual(
    failed.map((s) => s.operationName),
    ['pread64', 'pread64', 'pread64', 'pread64'],
  );
  for (const s of failed) {
    assert.deepEqual(
      s.tags.filter((t) => ['error', 'otel.status_code', 'otel.status_description', 'error.type', 'kiotrace.errno'].includes(t.key)),
      [
        { key: 'error.type', type: 'string', value: 'EINVAL' },
        { key: 'kiotrace.errno', type: 'int64', value: 22 },
        { key: 'otel.status_code', type: 'string', value: 'ERROR' },
        { key: 'otel.status_description', type: 'string', value: 'EINVAL' },
        { key: 'error', type: 'bool', value: true },
      ],
    );
  }
  for (const s of spans.filter((x) => !failed.includes(x))) assert.equal(tagValue(s.tags, 'otel.status_code'), undefined, s.operationName);
  const statuses = otlpSpans(readOtlp(out.otlp)).filter((s) => s.status.code !== 0);
  assert.deepEqual(
    statuses.map((s) => [s.name, s.status]),
    Array.from({ length: 4 }, () => ['pread64', { code: 2, message: 'EINVAL' }]),
  );
});

test('bad output paths are refused up front (exit 2), and a failing run leaves existing files alone', () => {
  const missing = run(['run', 'blocking-read', '--jaeger', '/nonexistent-dir/x.json']);
  assert.equal(missing.status, 2);
  assert.equal(missing.stdout, '');
  assert.equal(missing.stderr, 'ERROR: --jaeger: cannot write "/nonexistent-dir/x.json": No such file or directory\n');
  const missingOtlp = run(['run', 'blocking-read', '--otlp-file', '/nonexistent-dir/x.otlp.json']);
  assert.equal(missingOtlp.status, 2);
  assert.equal(missingOtlp.stderr, 'ERROR: --otlp-file: cannot write "/nonexistent-dir/x.otlp.json": No such file or directory\n');

  const dir = freshDir();
  const jaeger = join(dir, 'keep.json');
  const otlp = join(dir, 'keep.otlp.json');
  writeFileSync(jaeger, 'old jaeger\n');
  writeFileSync(otlp, 'old otlp\n');
  const cases: readonly (readonly string[])[] = [
    ['run', 'blocking-read', '--jaeger', jaeger, '--otlp-file', otlp, '--sample', '2'],
    ['run', 'blocking-read', '--jaeger', jaeger, '--otlp-file', otlp, '--epoch', '-1'],
    ['run', 'no-such-scenario', '--jaeger', jaeger, '--otlp-file', otlp],
    ['run', 'blocking-read', '--jaeger', jaeger, '--otlp-file', join(dir, 'missing', 'x.json')],
  ];
  for (const args of cases) {
    const r = run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    assert.equal(readFileSync(jaeger, 'utf8'), 'old jaeger\n', args.join(' '));
    assert.equal(readFileSync(otlp, 'utf8'), 'old otlp\n', args.join(' '));
    assert.deepEqual(readdirSync(dir).sort(), ['keep.json', 'keep.otlp.json'], `${args.join(' ')}: nothing else written`);
  }
  assert.match(run(cases[0]!).stderr, /^kiotrace: --sample: must be a ratio in \(0, 1\]/);
});

test('device outputs are written in place: --perfetto /dev/null leaves /dev/null a device', () => {
  const r = run(['run', 'blocking-read', '--perfetto', '/dev/null', '--epoch', String(EPOCH)]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, 'perfetto: /dev/null: 68 events, 3239 bytes (open it at https://ui.perfetto.dev)\n');
  assert.equal(statSync('/dev/null').isCharacterDevice(), true);
  assert.deepEqual(readdirSync('/dev').filter((f) => f.startsWith('null.kiotrace-partial')), []);
});
