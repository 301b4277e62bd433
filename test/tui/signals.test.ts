// Results are never lost: a signal ends a run the way its normal end does (END probes, maps,
// summary, every export closed as a valid file); -o FILE streams; outputs never overwrite inputs.
// Real processes, real signals; every wait is for a condition (output seen, a file grown).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, linkSync, lstatSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../helpers/repo.js';
import { checkPerfettoTrace } from '../helpers/perfetto-check.js';
import { Interruption, ProgressLine, progressText, signalExitCode, type StopSignal } from '../../tui/run-loop.js';

const ROOT = repoRoot();
const CLI = join(ROOT, 'dist', 'tui', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'kiotrace-signals-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function start(args: readonly string[], cwd = tmp): Running {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
  const r: Running = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (r.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (r.stderr += d));
  return r;
}

/** CPU time the process has used (user + system), from /proc: a measure of work done, not of waiting. */
function cpuMs(r: Running): number {
  try {
    const fields = readFileSync(`/proc/${r.child.pid!}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // after the comm: state is field 3, utime 14 and stime 15 (in clock ticks of 10 ms)
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** Bytes in the trace file being written in `dir` (its temporary name), 0 while there is none. */
function partialSize(dir: string): number {
  const partial = readdirSync(dir).find((f) => f.startsWith('F.pftrace.kiotrace-partial'));
  try {
    return partial === undefined ? 0 : statSync(join(dir, partial)).size;
  } catch {
    return 0;
  }
}

/** Polls `condition` until it holds; fails (naming `what`) only if the process ends first. */
async function until(r: Running, what: string, condition: () => boolean): Promise<void> {
  let ended = false;
  void r.exited.then(() => (ended = true));
  while (!condition()) {
    if (ended) assert.fail(`the process ended before ${what}; stderr: ${r.stderr}`);
    await sleep(10);
  }
}

function kiotrace(args: readonly string[], cwd = tmp, shellPrefix = ''): { code: number | null; stdout: string; stderr: string } {
  const r = shellPrefix
    ? spawnSync('sh', ['-c', `${shellPrefix} exec "$0" "$@"`, process.execPath, CLI, ...args], { cwd, encoding: 'utf8' })
    : spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TICKING = `BEGIN { printf("begin\\n"); } interval:ms:20 { printf("tick\\n"); } tracepoint:block:block_rq_issue { @issued = count(); } END { printf("end ran\\n"); }`;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`${signal} to a running program: END probes run, the maps print as at a normal end, exit 0`, async () => {
    const r = start(['-e', TICKING, '--duration', '3600s']);
    await until(r, 'the first tick', () => r.stdout.includes('tick\n'));
    r.child.kill(signal);
    assert.equal(await r.exited, 0);
    assert.match(r.stdout, /^begin\n(tick\n)+end ran\n\n\n@issued: \d+\n$/);
    assert.equal(r.stderr, `Attached 4 probes\nkiotrace: ${signal}: stopping at the current simulated time and keeping the results (again to quit at once)\n`);
  });
}

test('SIGINT to the real biolatency.bt prints its histogram and exits 0', async () => {
  const r = start([join(ROOT, 'traces', 'scripts', 'biolatency.bt'), '--duration', '3600s']);
  await until(r, 'tracing to start', () => r.stdout.includes('Hit Ctrl-C to end.'));
  // the histogram needs completed I/Os: let the simulation do some work first
  await until(r, 'the simulation to run a while', () => cpuMs(r) >= 400);
  r.child.kill('SIGINT');
  assert.equal(await r.exited, 0);
  // a histogram with a bar on some line (the smallest bucket may be too small to draw)
  assert.match(r.stdout, /\n@usecs:\n(\[\d+K?, \d+K?\)\s+\d+ \|.*\|\n)*\[\d+K?, \d+K?\)\s+\d+ \|@+/);
});

test('SIGINT during run --perfetto: a valid trace under its name, no partial file, the summary says interrupted, exit 130', async () => {
  const dir = mkdtempSync(join(tmp, 'perfetto-'));
  const r = start(['run', 'default', '--duration', '3600s', '--perfetto', 'F.pftrace'], dir);
  await until(r, 'the trace to be written', () => partialSize(dir) > 0);
  r.child.kill('SIGINT');
  assert.equal(await r.exited, signalExitCode('SIGINT'));
  assert.deepEqual(readdirSync(dir), ['F.pftrace']);
  const { issues, summary } = checkPerfettoTrace(readFileSync(join(dir, 'F.pftrace')));
  assert.deepEqual(issues.filter((i) => i.severity === 'error'), []);
  assert.ok(summary.slicesBegun > 0);
  assert.equal(summary.slicesBegun, summary.slicesEnded, "every slice ended, including I/Os in flight at the stop");
  assert.match(r.stdout, /^kiotrace: interrupted by SIGINT at [\d.]+ (ns|µs|ms|s) of 3600 s simulated; the summary covers the time simulated so far\nseq-reader: \(g=0\)[^]*\nscenario default: seed=1, duration=\d+ns/);
  assert.match(r.stderr, /^kiotrace: SIGINT: stopping[^\n]*\nperfetto: F\.pftrace: \d+ events, \d+ bytes/);
});

/**
 * Runs the CLI with a module hook that sends `signal` to the process when the machine's code
 * (tui/run.js) loads: after the arguments parse, before the run starts. Deterministic: the signal
 * is raised at that exact point, where a busy host spends a second or more.
 */
function signalledDuringSetup(args: readonly string[], signal: StopSignal, cwd: string): { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const hooks = join(cwd, 'hooks.mjs');
  writeFileSync(hooks, `export async function load(url, context, nextLoad) {\n  if (url.endsWith('/tui/run.js')) process.kill(process.pid, '${signal}');\n  return nextLoad(url, context);\n}\n`);
  const register = join(cwd, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

test('a signal while the run is being set up ends it as a normal end at 0 ns: summary, trace file, exit 128+N (it used to kill the process with no output)', () => {
  const dir = mkdtempSync(join(tmp, 'setup-'));
  const r = signalledDuringSetup(['run', 'default', '--duration', '3600s', '--jaeger', 'F.json'], 'SIGTERM', dir);
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 143, signal: null });
  assert.match(r.stdout, /^kiotrace: interrupted by SIGTERM at 0 ns of 3600 s simulated; the summary covers the time simulated so far\nseq-reader: \(g=0\)[^]*\nscenario default: seed=1, duration=0ns, events=0\n/);
  assert.equal(r.stderr, 'kiotrace: SIGTERM: stopping at the current simulated time and keeping the results (again to quit at once)\njaeger: F.json: 0 traces, 0 spans\n');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'F.json'), 'utf8')), { data: [] });
});

test('a signal while a program is being set up: END probes run, exit 0, as bpftrace', () => {
  const dir = mkdtempSync(join(tmp, 'setup-'));
  const r = signalledDuringSetup(['-e', TICKING, '--duration', '3600s'], 'SIGINT', dir);
  assert.deepEqual({ code: r.code, signal: r.signal, stdout: r.stdout }, { code: 0, signal: null, stdout: 'begin\nend ran\n\n\n' });
  assert.equal(r.stderr, 'kiotrace: SIGINT: stopping at the current simulated time and keeping the results (again to quit at once)\nAttached 4 probes\n');
});

test('SIGTERM during run --json: the report for the time simulated so far, marked interrupted, exit 143', async () => {
  const r = start(['run', 'default', '--duration', '3600s', '--json']);
  await until(r, 'the simulation to run a while', () => cpuMs(r) >= 600);
  r.child.kill('SIGTERM');
  assert.equal(await r.exited, 143);
  const report = JSON.parse(r.stdout) as { interrupted: { signal: string; atNs: number; durationNs: number }; durationNs: number; scenario: string };
  assert.equal(report.interrupted.signal, 'SIGTERM');
  assert.equal(report.interrupted.durationNs, 3600e9);
  assert.ok(report.interrupted.atNs < 3600e9);
});

test('Interruption: the first signal asks the run to stop, a second exits at once with 128+N; so does one after another kind of stop', () => {
  const listeners = new Map<StopSignal, () => void>();
  const source = {
    on: (s: StopSignal, l: () => void) => listeners.set(s, l),
    off: (s: StopSignal) => listeners.delete(s),
  };
  const events: string[] = [];
  const i = new Interruption(source, (code) => events.push(`exit ${code}`), (s) => events.push(`first ${s}`));
  assert.deepEqual([...listeners.keys()].sort(), ['SIGHUP', 'SIGINT', 'SIGTERM']);
  listeners.get('SIGTERM')!();
  assert.equal(i.signal, 'SIGTERM');
  assert.deepEqual(events, ['first SIGTERM']);
  listeners.get('SIGINT')!();
  assert.deepEqual(events, ['first SIGTERM', 'exit 130']);
  i.dispose();
  assert.equal(listeners.size, 0);

  // kiotrace top: q already asked to stop, so the first signal is the impatient second one
  const quit = new Interruption(source, (code) => events.push(`exit ${code}`), () => events.push('first'), () => true);
  listeners.get('SIGHUP')!();
  assert.deepEqual(events.slice(-1), ['exit 129']);
  quit.dispose();
});

test('the progress line: only after a second of wall time, at most four times a second, erased before other output', () => {
  let wallMs = 0;
  const written: string[] = [];
  const p = new ProgressLine({ write: (t: string) => written.push(t) }, 10e9, () => wallMs);
  p.update(1e6, 1000);
  wallMs = 900;
  p.update(2e8, 1_000_000);
  assert.deepEqual(written, [], 'nothing in the first second');
  wallMs = 1000;
  p.update(2.5e9, 4_000_000);
  assert.deepEqual(written, [`\r\x1b[K${progressText(2.5e9, 10e9, 4e6)}`]);
  wallMs = 1100;
  p.update(2.6e9, 4_100_000);
  assert.equal(written.length, 1, 'not again within 250 ms');
  p.clear();
  assert.equal(written[1], '\r\x1b[K');
  p.clear();
  assert.equal(written.length, 2, 'nothing to erase twice');
  assert.equal(progressText(2.5e9, 10e9, 4e6), 'kiotrace: simulated 2.5 s of 10 s (25%), 4.0M events/s; Ctrl-C stops and keeps the results');
});

test('no progress line when stderr is not a terminal', () => {
  const r = kiotrace(['run', 'blocking-read']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
});

test('-o FILE streams: the output is in the file while the program runs, and complete after Ctrl-C', async () => {
  const file = join(tmp, 'stream.txt');
  const r = start(['-e', TICKING, '-o', file, '--duration', '3600s']);
  await until(r, 'output in the file', () => existsSync(file) && readFileSync(file, 'utf8').includes('tick\n'));
  r.child.kill('SIGINT');
  assert.equal(await r.exited, 0);
  assert.equal(r.stdout, '');
  assert.match(readFileSync(file, 'utf8'), /^begin\n(tick\n)+end ran\n\n\n@issued: \d+\n$/);
});

test('-o FILE: a program with a mistake leaves the old FILE as it was', () => {
  const file = join(tmp, 'kept.txt');
  writeFileSync(file, 'precious\n');
  const r = kiotrace(['-e', 'BEGIN { @x = 1 + ; }', '-o', file]);
  assert.equal(r.code, 2);
  assert.equal(readFileSync(file, 'utf8'), 'precious\n');
});

test('outputs never overwrite inputs: s.bt -o s.bt, -o through a symlink to the script, run in.json --perfetto in.json', () => {
  const script = join(tmp, 's.bt');
  const text = 'BEGIN { printf("hi\\n"); exit(); }\n';
  writeFileSync(script, text);
  let r = kiotrace([script, '-o', script]);
  assert.deepEqual(r, { code: 2, stdout: '', stderr: `ERROR: -o ${script} would overwrite the script ${script}; write the output to another file\n` });
  const link = join(tmp, 's-link.txt');
  symlinkSync(script, link);
  r = kiotrace([script, '-o', link]);
  assert.equal(r.code, 2);
  assert.equal(readFileSync(script, 'utf8'), text);

  const scenario = join(tmp, 'in.json');
  const scenarioText = readFileSync(join(ROOT, 'traces', 'scenarios', 'blocking-read.json'), 'utf8');
  writeFileSync(scenario, scenarioText);
  for (const flag of ['--perfetto', '--jaeger', '--otlp-file']) {
    r = kiotrace(['run', scenario, flag, scenario]);
    assert.deepEqual(r, { code: 2, stdout: '', stderr: `ERROR: ${flag} ${scenario} would overwrite the scenario ${scenario}; write the trace to another file\n` });
  }
  r = kiotrace(['-e', 'BEGIN { exit(); }', '-c', scenario, '-o', scenario]);
  assert.equal(r.code, 2);
  assert.equal(readFileSync(scenario, 'utf8'), scenarioText);
});

test('-o through a symlink writes the target and keeps its mode; a new file gets the umask mode', () => {
  const target = join(tmp, 'target.txt');
  writeFileSync(target, 'old\n');
  chmodSync(target, 0o640);
  const link = join(tmp, 'link.txt');
  symlinkSync(target, link);
  let r = kiotrace(['-e', 'BEGIN { printf("new\\n"); exit(); }', '-o', link]);
  assert.equal(r.code, 0);
  assert.equal(readFileSync(target, 'utf8'), 'new\n\n\n');
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  assert.equal(statSync(target).mode & 0o777, 0o640);
  const fresh = join(tmp, 'fresh.txt');
  r = kiotrace(['-e', 'BEGIN { printf("x\\n"); exit(); }', '-o', fresh], tmp, 'umask 027;');
  assert.equal(r.code, 0);
  assert.equal(statSync(fresh).mode & 0o777, 0o640);
});

test('-o /dev/full: a clear "disk full" line, exit 1, no stack trace', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, () => {
  const r = kiotrace(['-e', 'BEGIN { printf("%s\\n", "data"); exit(); }', '-o', '/dev/full']);
  assert.deepEqual(r, { code: 1, stdout: '', stderr: 'Attached 1 probe\nERROR: -o /dev/full: No space left on device (disk full); 7 bytes of output were not written\n' });
});

test('--perfetto and --jaeger through a symlink replace the target, keep its mode, and leave the link a link', () => {
  const dir = mkdtempSync(join(tmp, 'links-'));
  const target = join(dir, 'real.json');
  writeFileSync(target, 'old');
  chmodSync(target, 0o600);
  const link = join(dir, 'trace.json');
  symlinkSync(target, link);
  const r = kiotrace(['run', 'blocking-read', '--jaeger', link, '--epoch', '1700000000000000000'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(statSync(target).mode & 0o777, 0o600);
  assert.match(readFileSync(target, 'utf8'), /^\{"data":\[/);
  assert.deepEqual(readdirSync(dir).sort(), ['real.json', 'trace.json']);
  const fresh = join(dir, 'new.pftrace');
  assert.equal(kiotrace(['run', 'blocking-read', '--perfetto', fresh], dir, 'umask 077;').code, 0);
  assert.equal(statSync(fresh).mode & 0o777, 0o600);
});

test('a second SIGINT quits at once and leaves no partial trace file behind', async () => {
  const dir = mkdtempSync(join(tmp, 'twice-'));
  // a slow end: every span of a long run still to be written when the first signal comes
  const r = start(['run', 'default', '--duration', '3600s', '--perfetto', 'F.pftrace'], dir);
  await until(r, 'the trace to be written', () => partialSize(dir) > 0);
  r.child.kill('SIGINT');
  // the second only once the first has been taken (two signals sent together may arrive as one)
  await until(r, 'the first SIGINT to be taken', () => r.stderr.includes('SIGINT: stopping'));
  r.child.kill('SIGINT');
  const code = await r.exited;
  // (a second that lands after the run has stopped listening, its files written, takes the default action)
  assert.ok(code === 130 || r.child.signalCode === 'SIGINT', `exit ${code}, signal ${r.child.signalCode}`);
  // the second came while the end was written (no file) or after it was renamed into place (a valid one)
  const left = readdirSync(dir);
  assert.ok(left.length === 0 || (left.length === 1 && left[0] === 'F.pftrace'), `no partial file: ${left.join(' ')}`);
  if (left.length === 1) assert.deepEqual(checkPerfettoTrace(readFileSync(join(dir, 'F.pftrace'))).issues.filter((i) => i.severity === 'error'), []);
});

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

test('a closed terminal (SIGHUP, then writes fail) still ends the run with its trace file complete', { skip: !hasTmux && 'tmux is not installed (apt-get install tmux)' }, async () => {
  const dir = mkdtempSync(join(tmp, 'hangup-'));
  const socket = `kiotrace-hangup-${process.pid}`;
  const command = `echo $$ > pid; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} run default --duration 3600s --perfetto F.pftrace`;
  assert.equal(spawnSync('tmux', ['-L', socket, 'new-session', '-d', '-s', 'hangup', '-x', '100', '-y', '30', '-c', dir, command]).status, 0);
  try {
    while (partialSize(dir) === 0) await sleep(10);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    // the terminal goes away: the process gets SIGHUP and its terminal writes fail from now on
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    while (existsSync(`/proc/${pid}`) && !/^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/, 'x'))) await sleep(10);
    assert.deepEqual(readdirSync(dir).sort(), ['F.pftrace', 'pid']);
    assert.deepEqual(checkPerfettoTrace(readFileSync(join(dir, 'F.pftrace'))).issues.filter((i) => i.severity === 'error'), []);
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  }
});

test('an output named with a trailing slash is refused before the run, not written under the name without it', () => {
  const dir = mkdtempSync(join(tmp, 'slash-'));
  let r = kiotrace(['run', 'blocking-read', '--jaeger', 'x.json/'], dir);
  assert.deepEqual(r, { code: 2, stdout: '', stderr: 'ERROR: --jaeger: cannot write "x.json/": Is a directory (a name ending in "/"; give a file name)\n' });
  r = kiotrace(['-e', 'BEGIN { printf("x\\n"); exit(); }', '-o', 'x.txt/'], dir);
  assert.deepEqual(r, { code: 2, stdout: '', stderr: 'ERROR: Failed to open output file: x.txt/: Is a directory (a name ending in "/"; give a file name)\n' });
  assert.deepEqual(readdirSync(dir), []);
});

test('an output that is a socket (/dev/stdout under a parent that reads through a socket pair) is refused before the run', () => {
  // spawnSync gives the child a socket pair for its standard output
  let r = kiotrace(['run', 'blocking-read', '--perfetto', '/dev/stdout']);
  assert.deepEqual(r, { code: 2, stdout: '', stderr: 'ERROR: --perfetto: cannot write "/dev/stdout": it is a socket, which cannot be opened like a file; write to a file or a FIFO\n' });
  r = kiotrace(['-e', 'BEGIN { printf("x\\n"); exit(); }', '-o', '/dev/stdout']);
  assert.deepEqual(r, { code: 2, stdout: '', stderr: 'ERROR: Failed to open output file: /dev/stdout: it is a socket, which cannot be opened like a file; write to a file or a FIFO\n' });
});

test('two outputs that are one file (a symlink, a hard link) are refused before the run', () => {
  const dir = mkdtempSync(join(tmp, 'same-'));
  writeFileSync(join(dir, 'a.json'), 'mine');
  symlinkSync(join(dir, 'a.json'), join(dir, 'b.json'));
  let r = kiotrace(['run', 'blocking-read', '--perfetto', 'a.json', '--jaeger', 'b.json'], dir);
  assert.deepEqual(r, { code: 2, stdout: '', stderr: 'ERROR: --jaeger b.json is the file --perfetto a.json writes too; give each output its own file\n' });
  linkSync(join(dir, 'a.json'), join(dir, 'c.json'));
  r = kiotrace(['run', 'blocking-read', '--otlp-file', 'c.json', '--jaeger', 'a.json'], dir);
  assert.deepEqual(r, { code: 2, stdout: '', stderr: 'ERROR: --otlp-file c.json is the file --jaeger a.json writes too; give each output its own file\n' });
  // a dangling link to a file not there yet is still the same file
  symlinkSync(join(dir, 'new.json'), join(dir, 'd.json'));
  r = kiotrace(['run', 'blocking-read', '--perfetto', 'new.json', '--jaeger', 'd.json'], dir);
  assert.equal(r.code, 2);
  assert.equal(readFileSync(join(dir, 'a.json'), 'utf8'), 'mine');
  assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'b.json', 'c.json', 'd.json']);
});

const asRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };
/** Another user can run kiotrace from here (a clone inside a private directory, e.g. mktemp -d, it cannot). */
const nobodyRunsCli =
  asRoot && spawnSync(process.execPath, ['-e', 'require("fs").accessSync(process.argv[1], require("fs").constants.R_OK)', CLI], NOBODY).status === 0;

test('a writable trace file in a directory it cannot write beside is refused before the run (its temporary file goes there)', { skip: !asRoot ? 'needs root to run as another user' : !nobodyRunsCli && 'user nobody cannot reach this checkout (it lies in a private directory)' }, () => {
  const dir = mkdtempSync(join(tmp, 'ro-'));
  chmodSync(dir, 0o755);
  chmodSync(tmp, 0o755);
  writeFileSync(join(dir, 't.json'), 'old');
  chmodSync(join(dir, 't.json'), 0o666);
  const nobody = NOBODY;
  const r = spawnSync(process.execPath, [CLI, 'run', 'blocking-read', '--jaeger', join(dir, 't.json')], { cwd: '/', encoding: 'utf8', ...nobody });
  assert.deepEqual({ code: r.status, stderr: r.stderr, stdout: r.stdout }, { code: 2, stdout: '', stderr: `ERROR: --jaeger: cannot write "${join(dir, 't.json')}": Permission denied\n` });
  assert.equal(readFileSync(join(dir, 't.json'), 'utf8'), 'old');
  // -o writes in place: the file alone must be writable
  const o = spawnSync(process.execPath, [CLI, '-e', 'BEGIN { printf("x\\n"); exit(); }', '-o', join(dir, 't.json')], { cwd: '/', encoding: 'utf8', ...nobody });
  assert.equal(o.status, 0, o.stderr);
  assert.equal(readFileSync(join(dir, 't.json'), 'utf8'), 'x\n\n\n');
});

test('a reader that stops reading (| head) ends the run as a normal end: files closed, the exit status its own', async () => {
  for (const [args, code] of [
    [['run', 'blocking-read', '--jaeger', '/dev/full'], 1],
    [['-e', 'kprobe:vfs_read { printf("%d\\n", nsecs); }', '--duration', '3600s'], 0],
  ] as const) {
    const r = start(args);
    // read one chunk, then close the pipe as head does
    await until(r, 'the first output', () => r.stdout.length > 0);
    r.child.stdout.destroy();
    assert.equal(await r.exited, code, r.stderr);
  }
});

test('an output that is a FIFO: refused up front while nothing reads it, written when a reader is there', async () => {
  const dir = mkdtempSync(join(tmp, 'fifo-'));
  const fifo = join(dir, 'ff');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  assert.deepEqual(kiotrace(['run', 'blocking-read', '--perfetto', fifo]), { code: 2, stdout: '', stderr: `ERROR: --perfetto: cannot write "${fifo}": it is a FIFO with nothing reading it; start the reader first\n` });
  assert.deepEqual(kiotrace(['-e', 'BEGIN { exit(); }', '-o', fifo]), { code: 2, stdout: '', stderr: `ERROR: Failed to open output file: ${fifo}: it is a FIFO with nothing reading it; start the reader first\n` });
  const reader = spawn('cat', [fifo]);
  let read = '';
  reader.stdout.setEncoding('utf8').on('data', (d: string) => (read += d));
  const readerDone = new Promise((resolve) => reader.on('exit', resolve));
  // cat may not have opened its end yet: until it has, kiotrace finds nobody reading and says so
  let r = kiotrace(['-e', 'BEGIN { printf("through the fifo\\n"); exit(); }', '-o', fifo]);
  while (r.code === 2 && r.stderr.includes('nothing reading it')) r = kiotrace(['-e', 'BEGIN { printf("through the fifo\\n"); exit(); }', '-o', fifo]);
  assert.equal(r.code, 0, r.stderr);
  await readerDone;
  assert.equal(read, 'through the fifo\n\n\n');
});

test('script files: a FIFO or a device is refused before reading, a BOM is dropped, text that is not UTF-8 is refused', () => {
  const dir = mkdtempSync(join(tmp, 'bt-'));
  const fifo = join(dir, 'f.bt');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  assert.deepEqual(kiotrace([fifo]), { code: 2, stdout: '', stderr: `ERROR: failed to open file '${fifo}': it is a FIFO, not a regular file; give a .bt file\n` });
  writeFileSync(join(dir, 'bom.bt'), '\ufeffBEGIN { printf("bom\\n"); exit(); }');
  assert.deepEqual(kiotrace(['-q', join(dir, 'bom.bt')]), { code: 0, stdout: 'bom\n\n\n', stderr: '' });
  writeFileSync(join(dir, 'latin1.bt'), Buffer.from('BEGIN { printf("\xe9\\n"); exit(); }', 'latin1'));
  assert.deepEqual(kiotrace([join(dir, 'latin1.bt')]), { code: 2, stdout: '', stderr: `ERROR: failed to open file '${join(dir, 'latin1.bt')}': it is not UTF-8 text\n` });
});

test('cat() under --unsafe reads a bounded amount and never waits: /dev/zero and a FIFO with no writer', () => {
  const dir = mkdtempSync(join(tmp, 'cat-'));
  const fifo = join(dir, 'f');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const r = kiotrace(['-q', '--unsafe', '-e', `BEGIN { cat("/dev/zero"); printf("|"); cat("${fifo}"); printf("end\\n"); exit(); }`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${'\0'.repeat(10240)}|end\n\n\n`);
});

test('-o with a forgotten value or an empty name is refused before anything runs', () => {
  assert.equal(kiotrace(['-e', 'BEGIN { exit(); }', '-o', '--json']).stderr.split('\n')[0], 'kiotrace: -o needs a value (got the option "--json")');
  assert.deepEqual(kiotrace(['-e', 'BEGIN { printf("x\\n"); exit(); }', '-o', '']), { code: 2, stdout: '', stderr: 'ERROR: Failed to open output file: : No such file or directory (an empty file name)\n' });
});
