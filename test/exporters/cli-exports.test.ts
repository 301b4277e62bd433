// Trace outputs through the real CLI, for what a user must be able to trust: trace ids that belong
// to one run (no two runs or scenarios share one, an edited scenario is another run, --epoch still
// gives byte-identical files); I/Os still in flight at the end marked as such in spans and in
// Perfetto; the OTEL_* settings honoured or refused before the run; empty file names, a full disk
// and out-of-range epochs told in one clear line; and an early end (an interrupted run) that still
// leaves every output whole.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { RUN_ENDED_EVENT } from '../../probes/spans.js';
import { runWithExports, type MachineRunner } from '../../tui/exports.js';
import { prepareRun } from '../../tui/run.js';
import { loadScenario } from '../../tui/scenario.js';
import { checkPerfettoTrace } from '../helpers/perfetto-check.js';
import { repoRoot } from '../helpers/repo.js';
import { cli, cliEnv, scratchDirs } from './harness.js';

const EPOCH = '1763856000000000000';

const freshDir = scratchDirs('kiotrace-cli-exports-');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function kiotrace(args: readonly string[], env: Readonly<Record<string, string>> = {}, cwd: string = repoRoot()): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, env: cliEnv(env), maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The usage text after a usage error's message (test/tui/cli.test.ts holds its exact words). */
const USAGE = kiotrace(['run', '--no-such-flag']).stderr.replace(/^kiotrace: unknown option "--no-such-flag"\n/, '');

interface JaegerTag {
  readonly key: string;
  readonly value: string | number | boolean;
}
interface JaegerSpan {
  readonly traceID: string;
  readonly operationName: string;
  readonly tags: readonly JaegerTag[];
  readonly logs: readonly { readonly timestamp: number; readonly fields: readonly JaegerTag[] }[];
}
interface JaegerFile {
  readonly data: readonly { readonly traceID: string; readonly spans: readonly JaegerSpan[] }[];
}
const readJaeger = (path: string): JaegerFile => JSON.parse(readFileSync(path, 'utf8')) as JaegerFile;
const traceIds = (path: string): Set<string> => new Set(readJaeger(path).data.map((t) => t.traceID));
const tag = (s: JaegerSpan, key: string) => s.tags.find((t) => t.key === key)?.value;

/** `kiotrace run ARGS --jaeger DIR/NAME`: the run and the file. */
function runToJaeger(args: readonly string[], env: Readonly<Record<string, string>> = {}): { run: Run; file: string } {
  const file = join(freshDir(), 'trace.json');
  const run = kiotrace(['run', ...args, '--jaeger', file], env);
  assert.equal(run.code, 0, run.stderr);
  return { run, file };
}

// ---- 1. trace ids belong to one run ----------------------------------------------------------

test('two scenarios exported to Jaeger share no trace id (same seed, same --epoch)', () => {
  const read = traceIds(runToJaeger(['blocking-read', '--epoch', EPOCH]).file);
  const fault = traceIds(runToJaeger(['page-fault', '--epoch', EPOCH]).file);
  assert.equal(read.size, 5);
  assert.equal(fault.size, 5);
  assert.deepEqual([...read].filter((id) => fault.has(id)), []);
});

test('an edited scenario file under the same name is another run: other trace ids; the same file and --epoch: the same bytes', () => {
  const dir = freshDir();
  const original = readFileSync(join(repoRoot(), 'traces', 'scenarios', 'blocking-read.json'), 'utf8');
  const edited = original.replace('"size": "4k"', '"size": "8k"');
  assert.notEqual(edited, original);
  writeFileSync(join(dir, 'a.json'), original);
  writeFileSync(join(dir, 'b.json'), edited);
  const a1 = runToJaeger([join(dir, 'a.json'), '--epoch', EPOCH]);
  const a2 = runToJaeger([join(dir, 'a.json'), '--epoch', EPOCH]);
  const b = runToJaeger([join(dir, 'b.json'), '--epoch', EPOCH]);
  assert.ok(readFileSync(a1.file).equals(readFileSync(a2.file)), 'the same run twice with --epoch is byte-identical');
  const ids = traceIds(a1.file);
  assert.deepEqual([...traceIds(b.file)].filter((id) => ids.has(id)), []);
  // the description and the --steps display are not the run: the same ids
  const reworded = original.replace(/"description": "[^"]*"/, '"description": "another text"').replace('"steps": 1', '"steps": 2');
  assert.notEqual(reworded, original);
  writeFileSync(join(dir, 'c.json'), reworded);
  assert.deepEqual(traceIds(runToJaeger([join(dir, 'c.json'), '--epoch', EPOCH]).file), ids);
});

test('without --epoch, two runs of the same scenario share no trace id (t=0 is now)', () => {
  const first = traceIds(runToJaeger(['blocking-read']).file);
  const second = traceIds(runToJaeger(['blocking-read']).file);
  assert.equal(first.size, 5);
  assert.deepEqual([...second].filter((id) => first.has(id)), []);
});

// ---- 2. I/Os in flight when the run ends -------------------------------------------------------

// blocking-read's read() is on the NVMe from 156.65 us to 221.455 us: 200us cuts it mid-flight
const CUT = ['blocking-read', '--duration', '200us', '--epoch', EPOCH];

test('spans the end of the run cut short say so: kiotrace.unfinished and a "run ended" event at the end', () => {
  const dir = freshDir();
  const r = kiotrace(['run', ...CUT, '--jaeger', join(dir, 't.json')]);
  assert.equal(r.code, 0, r.stderr);
  const spans = readJaeger(join(dir, 't.json')).data.flatMap((t) => t.spans);
  const cut = spans.filter((s) => tag(s, 'kiotrace.unfinished') === true);
  assert.deepEqual(cut.map((s) => s.operationName).sort(), ['bio', 'device', 'driver', 'ext4_file_read_iter', 'filemap_read', 'read', 'request', 'vfs_read']);
  for (const s of cut) {
    // the run's end, in µs since the epoch
    assert.deepEqual(
      s.logs.map((l) => [l.timestamp, l.fields.find((f) => f.key === 'event')?.value]),
      [[1763856000000200, RUN_ENDED_EVENT]],
      s.operationName,
    );
  }
  assert.equal(RUN_ENDED_EVENT, 'run ended before this span did');
  // the I/Os that finished carry no such mark
  const finished = spans.filter((s) => s.traceID !== cut[0]!.traceID);
  assert.deepEqual([...new Set(finished.map((s) => s.operationName))].sort(), ['mmap', 'openat', 'vfs_open']);
  for (const s of finished) assert.equal(tag(s, 'kiotrace.unfinished'), undefined);
});

test('Perfetto slices still open at the end get the arg unfinished, and the trace stays valid', () => {
  const dir = freshDir();
  const r = kiotrace(['run', ...CUT, '--perfetto', join(dir, 't.pftrace')]);
  assert.equal(r.code, 0, r.stderr);
  const { issues, summary } = checkPerfettoTrace(readFileSync(join(dir, 't.pftrace')));
  assert.deepEqual(issues, []);
  const cut = summary.slices.filter((s) => s.args.unfinished !== undefined);
  assert.deepEqual(
    cut.map((s) => [s.name, s.ts, s.endTs, s.args.unfinished]),
    [
      ['read', 155940n, 200000n, 'run ended first'],
      ['vfs_read', 156080n, 200000n, 'run ended first'],
      ['ext4_file_read_iter', 156080n, 200000n, 'run ended first'],
      ['filemap_read', 156080n, 200000n, 'run ended first'],
      ['RA', 156930n, 200000n, 'run ended first'],
    ],
  );
  // slices that ended by themselves have no such arg
  assert.ok(summary.slices.some((s) => s.name === 'openat' && s.endTs !== undefined && s.args.unfinished === undefined));
});

// ---- 3. OpenTelemetry settings, honoured or refused ---------------------------------------------

const REFUSED: readonly { readonly env: Readonly<Record<string, string>>; readonly args: readonly string[]; readonly message: string }[] = [
  {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' },
    args: ['--otlp'],
    message: 'OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL: "not a url" (e.g. OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318, or unset it)',
  },
  {
    env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://collector:21' },
    args: ['--otlp'],
    message: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: not an http(s) URL: "ftp://collector:21" (e.g. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://localhost:4318/v1/traces, or unset it)',
  },
  {
    env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' },
    args: ['--otlp'],
    message: 'OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL: "collector:4317" (e.g. OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317, or unset it)',
  },
  {
    env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' },
    args: ['--otlp'],
    message: 'OTEL_EXPORTER_OTLP_PROTOCOL: unknown protocol "http/xml" (expected http/protobuf, http/json or grpc)',
  },
  {
    env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'udp' },
    args: ['--otlp', 'http://127.0.0.1:4318/v1/traces'],
    message: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: unknown protocol "udp" (expected http/protobuf, http/json or grpc)',
  },
  {
    env: { OTEL_TRACES_SAMPLER: 'sometimes' },
    args: ['--jaeger', 'never-written.json'],
    message:
      'OTEL_TRACES_SAMPLER: unknown sampler "sometimes" (expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio)',
  },
  {
    env: { OTEL_TRACES_SAMPLER: 'parentbased_jaeger_remote' },
    args: ['--jaeger', 'never-written.json'],
    message:
      'OTEL_TRACES_SAMPLER: "parentbased_jaeger_remote" needs a remote sampling service, which a simulation has no use for; use always_on, always_off or traceidratio (or their parentbased_ forms), or --sample R',
  },
  {
    env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' },
    args: ['--jaeger', 'never-written.json'],
    message: 'OTEL_TRACES_SAMPLER_ARG: traceidratio needs a ratio in [0, 1], like 0.1 for one I/O in ten (got "2")',
  },
  {
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' },
    args: ['--otlp-file', 'never-written.json'],
    message: 'OTEL_TRACES_SAMPLER_ARG: parentbased_traceidratio needs a ratio in [0, 1], like 0.1 for one I/O in ten (got "half")',
  },
  {
    env: { OTEL_EXPORTER_OTLP_TIMEOUT: '99999999999999999' },
    args: ['--otlp', 'http://127.0.0.1:1/v1/traces'],
    message: 'OTEL_EXPORTER_OTLP_TIMEOUT: milliseconds an export may take, a whole number from 1 to 2147483647 (got "99999999999999999"), or unset it for 10000',
  },
  {
    env: { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2.5s', OTEL_EXPORTER_OTLP_TIMEOUT: '1000' },
    args: ['--otlp', 'http://127.0.0.1:1/v1/traces'],
    message: 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: milliseconds an export may take, a whole number from 1 to 2147483647 (got "2.5s"), or unset it for 10000',
  },
  {
    env: { OTEL_EXPORTER_OTLP_HEADERS: 'a' },
    args: ['--otlp', 'http://127.0.0.1:1/v1/traces'],
    message: 'OTEL_EXPORTER_OTLP_HEADERS: "a" is not a header; write name=value pairs separated by commas, values percent-encoded, like api-key=abc123,team=io',
  },
  {
    env: { OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'api-key=%zz' },
    args: ['--otlp', 'http://127.0.0.1:1/v1/traces'],
    message: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS: "api-key=%zz" is not a header; write name=value pairs separated by commas, values percent-encoded, like api-key=abc123,team=io',
  },
  {
    env: { OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' },
    args: ['--otlp', 'http://127.0.0.1:1/v1/traces'],
    message: 'OTEL_EXPORTER_OTLP_COMPRESSION: must be gzip or none (got "zstd")',
  },
  {
    env: { OTEL_SDK_DISABLED: 'yes' },
    args: ['--jaeger', 'never-written.json'],
    message: 'OTEL_SDK_DISABLED: must be true or false (got "yes")',
  },
];

test('OTEL_* settings that cannot be honoured are refused before the run: exit 2, one line, nothing written', () => {
  for (const c of REFUSED) {
    const dir = freshDir();
    const r = kiotrace(['run', 'blocking-read', ...c.args], c.env, dir);
    assert.deepEqual(r, { code: 2, stdout: '', stderr: `kiotrace: ${c.message}\n` }, JSON.stringify(c.env));
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
  }
});

test('OTEL_TRACES_SAMPLER always_off / parentbased_always_off: no spans; always_on: every one', () => {
  const all = runToJaeger(['blocking-read', '--epoch', EPOCH]);
  for (const sampler of ['always_off', 'parentbased_always_off', 'ALWAYS_OFF']) {
    const { run, file } = runToJaeger(['blocking-read', '--epoch', EPOCH], { OTEL_TRACES_SAMPLER: sampler });
    assert.equal(run.stderr, `jaeger: ${file}: 0 traces, 0 spans\n`, sampler);
    assert.equal(readFileSync(file, 'utf8'), '{"data":[]}\n');
  }
  for (const sampler of ['always_on', 'parentbased_always_on']) {
    const { file } = runToJaeger(['blocking-read', '--epoch', EPOCH], { OTEL_TRACES_SAMPLER: sampler });
    assert.ok(readFileSync(file).equals(readFileSync(all.file)), sampler);
  }
});

test('OTEL_TRACES_SAMPLER=[parentbased_]traceidratio with _ARG samples as --sample does', () => {
  const args = ['default', '--duration', '2ms', '--epoch', EPOCH];
  const flag = runToJaeger([...args, '--sample', '0.25']);
  const full = readJaeger(runToJaeger(args).file).data.length;
  const sampled = readJaeger(flag.file).data.length;
  assert.ok(sampled > 0 && sampled < full, `${sampled} of ${full} traces`);
  for (const sampler of ['traceidratio', 'parentbased_traceidratio']) {
    const env = runToJaeger(args, { OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: '0.25' });
    assert.ok(readFileSync(env.file).equals(readFileSync(flag.file)), sampler);
  }
  // traceidratio without an argument is the specification's default, 1.0
  assert.equal(readJaeger(runToJaeger(args, { OTEL_TRACES_SAMPLER: 'traceidratio' }).file).data.length, full);
});

test('--sample and OTEL_TRACES_SAMPLER both given: --sample wins, and a line says so', () => {
  const { run, file } = runToJaeger(['blocking-read', '--epoch', EPOCH, '--sample', '1'], { OTEL_TRACES_SAMPLER: 'always_off' });
  assert.equal(run.stderr, `sample: --sample 1 is used, not OTEL_TRACES_SAMPLER=always_off (the command line wins)\njaeger: ${file}: 5 traces, 20 spans\n`);
});

test('OTEL_SDK_DISABLED=true: no spans are built or sent, one line says so, Perfetto is still written', () => {
  const dir = freshDir();
  const r = kiotrace(['run', 'blocking-read', '--jaeger', 'spans.json', '--otlp', 'http://127.0.0.1:9/v1/traces', '--perfetto', 'run.pftrace'], { OTEL_SDK_DISABLED: 'true' }, dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stderr,
    'spans: OTEL_SDK_DISABLED=true, so no spans were built: spans.json was not written and nothing was sent over OTLP\n' +
      'perfetto: run.pftrace: 68 events, 3239 bytes (open it at https://ui.perfetto.dev)\n',
  );
  assert.deepEqual(readdirSync(dir), ['run.pftrace']);
  assert.match(r.stdout, /^scenario blocking-read: seed=1/m);
});

// ---- 4. output files --------------------------------------------------------------------------

test('an empty file name for an output is refused: exit 2, usage', () => {
  for (const [flag, example] of [
    ['--perfetto', 'trace.pftrace'],
    ['--jaeger', 'trace.json'],
    ['--otlp-file', 'trace.json'],
  ] as const) {
    for (const args of [[flag, ''], [`${flag}=`]]) {
      const r = kiotrace(['run', 'blocking-read', ...args]);
      assert.deepEqual(r, { code: 2, stdout: '', stderr: `kiotrace: ${flag} needs a file name, not an empty string (e.g. ${flag} ${example})\n${USAGE}` }, args.join(' '));
    }
  }
});

test('--epoch beyond 2^64-1 ns is refused, and so is one the run would end beyond', () => {
  for (const epoch of ['99999999999999999999', '18446744073709551616']) {
    const r = kiotrace(['run', 'blocking-read', '--jaeger', 'x.json', '--epoch', epoch]);
    assert.deepEqual(r, { code: 2, stdout: '', stderr: `kiotrace: --epoch: at most 18446744073709551615 (2^64-1 ns, in the year 2554), which OTLP's 64-bit times can hold (got "${epoch}")\n${USAGE}` });
  }
  const dir = freshDir();
  const late = kiotrace(['run', 'blocking-read', '--jaeger', 'x.json', '--epoch', '18446744073709551615'], {}, dir);
  assert.deepEqual(late, { code: 2, stdout: '', stderr: "kiotrace: --epoch: the run would end after 18446744073709551615 ns (2^64-1), beyond OTLP's 64-bit times; use an earlier --epoch\n" });
  assert.deepEqual(readdirSync(dir), []);
  // the last epoch that fits (blocking-read runs 20 ms): exact times in both files
  const last = 18446744073709551615n - 20_000_000n;
  const ok = kiotrace(['run', 'blocking-read', '--jaeger', 'x.json', '--otlp-file', 'x.otlp', '--epoch', String(last)], {}, dir);
  assert.equal(ok.code, 0, ok.stderr);
  const otlp = readFileSync(join(dir, 'x.otlp'), 'utf8');
  assert.match(otlp, /"startTimeUnixNano":"18446744073689707555"/);
  // Jaeger's µs past 2^53 are exact too (a double would round them to a multiple of 4)
  assert.match(readFileSync(join(dir, 'x.json'), 'utf8'), /"startTime":18446744073689707,/);
});

test('a full disk (/dev/full) costs that output only: one clear line, exit 1, the other output whole', () => {
  const dir = freshDir();
  const jaeger = join(dir, 't.json');
  const r = kiotrace(['run', 'blocking-read', '--perfetto', '/dev/full', '--jaeger', jaeger, '--epoch', EPOCH]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `ERROR: --perfetto /dev/full: No space left on device (disk full)\njaeger: ${jaeger}: 5 traces, 20 spans\n`);
  assert.equal(readJaeger(jaeger).data.length, 5);
  assert.match(r.stdout, /^scenario blocking-read: seed=1/m);

  const pftrace = join(dir, 't.pftrace');
  const r2 = kiotrace(['run', 'blocking-read', '--jaeger', '/dev/full', '--perfetto', pftrace]);
  assert.equal(r2.code, 1);
  assert.equal(r2.stderr, `perfetto: ${pftrace}: 68 events, 3239 bytes (open it at https://ui.perfetto.dev)\nERROR: --jaeger /dev/full: No space left on device (disk full)\n`);
  assert.deepEqual(checkPerfettoTrace(readFileSync(pftrace)).issues, []);

  const jaeger2 = join(dir, 't2.json');
  const r3 = kiotrace(['run', 'blocking-read', '--otlp-file', '/dev/full', '--jaeger', jaeger2, '--epoch', EPOCH]);
  assert.equal(r3.code, 1);
  assert.equal(r3.stderr, `jaeger: ${jaeger2}: 5 traces, 20 spans\nERROR: --otlp-file /dev/full: No space left on device (disk full)\n`);
  assert.ok(readFileSync(jaeger2).equals(readFileSync(jaeger)), 'the Jaeger file is whole: the same as the first run\'s');
});

test('a write that fails on a regular file (over the file size limit) leaves the file that was there unchanged', () => {
  const dir = freshDir();
  writeFileSync(join(dir, 'run.pftrace'), 'the trace of an earlier run\n');
  // ulimit -f 1: writes past 1 KiB fail with EFBIG (node ignores SIGXFSZ); the Perfetto file is ~3 KiB
  // (no spans sampled: the Jaeger file stays under the limit and shows the other output is whole)
  const r = spawnSync('bash', ['-c', 'ulimit -f 1 && exec "$0" "$@"', process.execPath, cli, 'run', 'blocking-read', '--perfetto', 'run.pftrace', '--jaeger', 'spans.json'], {
    encoding: 'utf8',
    cwd: dir,
    env: cliEnv({ OTEL_TRACES_SAMPLER: 'always_off' }),
  });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, 'ERROR: --perfetto run.pftrace: File too large; the run.pftrace that was there is unchanged\njaeger: spans.json: 0 traces, 0 spans\n');
  assert.equal(readFileSync(join(dir, 'run.pftrace'), 'utf8'), 'the trace of an earlier run\n');
  assert.deepEqual(readdirSync(dir).sort(), ['run.pftrace', 'spans.json'], 'no .kiotrace-partial left behind');
});

// ---- 5. a run that ends early -----------------------------------------------------------------

test('runWithExports with a runner that stops early: every output finished as of the time reached', async () => {
  const dir = freshDir();
  const loaded = loadScenario('blocking-read', join(repoRoot(), 'traces', 'scenarios'));
  assert.ok(loaded.ok);
  const s = loaded.scenario;
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const calls: [number, boolean][] = [];
  // what an interrupted run does: stop at the current simulated time, then the normal end
  const stopEarly: MachineRunner = async (machine, untilNs, afterSlice) => {
    calls.push([untilNs, afterSlice !== undefined]);
    machine.run(200_000);
  };
  const files = { perfetto: join(dir, 'cut.pftrace'), jaeger: join(dir, 'cut.json'), otlpFile: join(dir, 'cut.otlp.json') };
  const outcome = await runWithExports(m, s.durationNs, s, 1, { ...files, epochNs: BigInt(EPOCH), ignoreEnvironment: true }, stopEarly);
  assert.deepEqual(calls, [[20_000_000, false]]);
  assert.equal(m.env.nowNs, 200_000);
  assert.deepEqual(outcome, {
    lines: [
      `perfetto: ${files.perfetto}: 53 events, 2794 bytes (open it at https://ui.perfetto.dev)`,
      `jaeger: ${files.jaeger}: 3 traces, 15 spans`,
      `otlp-file: ${files.otlpFile}: 15 spans`,
    ],
    complete: true,
  });
  assert.deepEqual(readdirSync(dir).sort(), ['cut.json', 'cut.otlp.json', 'cut.pftrace'], 'renamed into place, nothing partial left');
  const { issues, summary } = checkPerfettoTrace(readFileSync(files.perfetto));
  assert.deepEqual(issues, []);
  assert.equal(summary.slices.filter((sl) => sl.args.unfinished !== undefined).length, 5);
  const spans = readJaeger(files.jaeger).data.flatMap((t) => t.spans);
  assert.equal(spans.filter((sp) => tag(sp, 'kiotrace.unfinished') === true).length, 8);
  const otlp = readFileSync(files.otlpFile, 'utf8');
  assert.ok(otlp.endsWith('\n'));
  for (const line of otlp.slice(0, -1).split('\n')) JSON.parse(line);
  assert.deepEqual(readdirSync(dirname(files.perfetto)).filter((f) => f.includes('.kiotrace-partial')), []);
});

test('Perfetto: io_uring\'s io-wq workers are threads of the submitting process, not processes of their own', () => {
  const dir = freshDir();
  const job = join(dir, 'wq.fio');
  // buffered reads that miss the cache are punted to iou-wrk-* threads
  writeFileSync(job, '[w]\nfilename=/root/wq\nsize=64m\nrw=randread\nioengine=io_uring\niodepth=8\nruntime=3ms\ntime_based\n');
  const r = kiotrace(['run', job, '--perfetto', join(dir, 'wq.pftrace')]);
  assert.equal(r.code, 0, r.stderr);
  const { issues, summary } = checkPerfettoTrace(readFileSync(join(dir, 'wq.pftrace')));
  assert.deepEqual(issues, []);
  assert.ok([...summary.processes.values()].length > 0);
});
