// Trace outputs through the real CLI, for what a user must be able to trust: trace ids that belong
// to one run (no two runs or scenarios share one, an edited scenario is another run, --epoch still
// gives byte-identical files); I/Os still in flight at the end marked as such in spans and in
// Perfetto.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_ENDED_EVENT } from '../../probes/spans.js';
import { checkPerfettoTrace } from '../helpers/perfetto-check.js';
import { repoRoot } from '../helpers/repo.js';

const EPOCH = '1763856000000000000';

const cli = join(repoRoot(), 'dist', 'tui', 'cli.js');
const root = mkdtempSync(join(tmpdir(), 'kiotrace-cli-exports-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
function freshDir(): string {
  const dir = join(root, String(dirs++));
  mkdirSync(dir);
  return dir;
}

/** The test's environment without OTEL_* variables, plus `env`. */
function cliEnv(env: Readonly<Record<string, string>> = {}): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_') && v !== undefined) base[k] = v;
  return { ...base, ...env };
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function kiotrace(args: readonly string[], env: Readonly<Record<string, string>> = {}, cwd: string = repoRoot()): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd, env: cliEnv(env), maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}


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
      ['read', 155660n, 200000n, 'run ended first'],
      ['vfs_read', 155800n, 200000n, 'run ended first'],
      ['ext4_file_read_iter', 155800n, 200000n, 'run ended first'],
      ['filemap_read', 155800n, 200000n, 'run ended first'],
      ['RA', 156650n, 200000n, 'run ended first'],
    ],
  );
  // slices that ended by themselves have no such arg
  assert.ok(summary.slices.some((s) => s.name === 'openat' && s.endTs !== undefined && s.args.unfinished === undefined));
});
