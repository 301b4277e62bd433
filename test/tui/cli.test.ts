// The kiotrace command as a user runs it: exit codes and the exact text on stdout and stderr.
// (`run`'s own output is tested through its trace outputs: test/exporters/jaeger.test.ts.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listExperimentNames, listScenarioNames } from '../../tui/scenario.js';
import { repoRoot } from '../helpers/repo.js';

const ROOT = repoRoot();
const CLI = join(ROOT, 'dist', 'tui', 'cli.js');

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function kiotrace(...args: string[]): Outcome {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const USAGE = `usage: kiotrace run [SCENARIO | JOB.fio] [--seed N] [--duration T] [--output-format F] [--json]
                    [--steps[=N]] [--perfetto FILE] [--jaeger FILE] [--otlp-file FILE] [--otlp [URL]]
                    [--sample R] [--epoch NS] [--machine FILE] [--directory DIR] [--crash-at T]
       kiotrace top [SCENARIO | JOB.fio] [--seed N] [--duration T] [--speed X]
       kiotrace -e PROGRAM | FILE.bt [-c SCENARIO] [-f text|json] [-o FILE]
       kiotrace -l [PATTERN] | -lv [PATTERN]
       kiotrace --help | --version
`;

function usageError(message: string): Outcome {
  return { code: 2, stdout: '', stderr: `kiotrace: ${message}\n${USAGE}` };
}

const tmp = mkdtempSync(join(tmpdir(), 'kiotrace-cli-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function scenarioFile(name: string, text: string): string {
  const file = join(tmp, name);
  writeFileSync(file, text);
  return file;
}

test('--help prints the help on stdout and exits 0', () => {
  const expected = `kiotrace: a deterministic simulator of the Linux kernel I/O stack, traced like a real kernel

usage:
  kiotrace run [SCENARIO] [--seed N] [--duration T] [--output-format F] [--json]
      Run a scenario and print fio's report of it, then kernel counters.
      SCENARIO        a scenario name from traces/scenarios (default: default),
                      the path of a scenario .json file, or an fio job file
                      (.fio, .job, .ini) run unmodified
      --machine FILE  the machine a job file runs on: a JSON file
                      {"machine": {...}} as scenarios write it (default: 4 CPUs,
                      4 GiB, nvme0n1 on /mnt/nvme, sda on /mnt/hdd; the first
                      mounted device is also the root filesystem)
      --directory DIR the working directory of relative file names in jobs
                      (an absolute simulated path; default: /root)
      --seed N        seed of the machine's random generator (default: 1);
                      the same seed and scenario give the same run
      --duration T    simulated time to run: 500ms, 2s, 100us, 1m (a bare number
                      is seconds; default: the scenario's "duration")
      --output-format F
                      normal (default): fio 3.36's text report; json: fio's
                      JSON (kiotrace's own figures under the "kiotrace" key);
                      json+: JSON with each latency histogram's bins
      --json          print kiotrace's own run report as JSON instead
      --crash-at T    crash (lose power) at simulated time T: the run stops there
                      and the report lists, per file of the jobs, the pages whose
                      last write is not on the device (lost) against those kept
                      (a scenario's "crash_at" does the same)
      --steps[=N]     after the summary, show the first N data I/Os (default 1)
                      probe hit by probe hit: a read() from syscall to return,
                      a page fault's chain VA -> VPN -> block -> sector -> PFN
                      (blocking-read and page-fault show theirs by default)
    trace outputs (a Perfetto timeline; one OpenTelemetry trace per I/O):
      --perfetto FILE   write a Perfetto trace; open it at ui.perfetto.dev
      --jaeger FILE     write the traces in Jaeger UI's JSON upload format
      --otlp-file FILE  write the traces as OTLP/JSON, one request per line
      --otlp [URL]      send the traces over OTLP (default
                        http://localhost:4318/v1/traces; OTEL_EXPORTER_OTLP_PROTOCOL
                        picks http/protobuf, http/json or grpc, and the other
                        OTEL_EXPORTER_OTLP_* and OTEL_SERVICE_NAME variables apply)
      --sample R        trace a fraction R of the I/Os, chosen by trace id
                        (default: OTEL_TRACES_SAMPLER's ratio, else 1: every I/O)
      --epoch NS        wall-clock ns that simulated t=0 maps to (default: now; a program's strftime dates too);
                        fix it for byte-identical files

  kiotrace top [SCENARIO] [--seed N] [--duration T] [--speed X]
      Watch the scenario run live: devices, page cache, CPUs and tasks, refreshed
      ten times a second. Keys: space pause, +/- speed, tab panel, ? help, q quit.
      Without a terminal it prints the same panels as text once a second.
      --speed X       simulated ms per wall ms (default: 1), or max
      --machine FILE, --directory DIR   as for run

  kiotrace -e PROGRAM | FILE.bt [ARG...] [options]
      Run a bpftrace program against a simulated run of a scenario; output
      goes to stdout as bpftrace prints it. $1, $2... are the ARGs.
      -c SCENARIO     the scenario to trace (default: default)
      --seed N, --duration T, --machine FILE, --directory DIR   as for run
      -f text|json    output format (default: text)
      -o FILE         write the program's output to FILE
      -q              do not print "Attached N probes"
      -v              also list each attached probe on stderr
      --dry-run       check and attach the program, but do not run it
      --unsafe        allow system() and cat(), which reach the host machine
      --no-warnings   do not print warnings
      --tui           show the program's maps live in kiotrace top's dashboard
      -- --NAME[=V]   named options a script reads with getopt("NAME")

  kiotrace -l [PATTERN]    list probes matching PATTERN, e.g. 'block:*'
  kiotrace -lv [PATTERN]   the same, with each probe's fields (also: -l -v)
  kiotrace --info          the simulated kernel's BPF features, as bpftrace --info
  kiotrace -h, --help      show this help
  kiotrace -V, --version   print the version

Scenario files and fio job files are described in traces/README.md.
Ctrl-C (or SIGTERM, SIGHUP) stops the simulation where it is and ends the run
as its normal end does: END probes, maps, the summary, every trace file closed.
A second Ctrl-C quits at once.
bpftrace's flags that have no meaning in a simulation (-p, -B, -k, -d, -I,
--usdt-file-activation...) are refused with the reason.
Exit status: 0 ok, 1 runtime failure (also: spans not delivered), 2 usage or
scenario error; a run stopped by a signal exits 128+N (130 for Ctrl-C) after
its summary and files are written; a program stopped by one exits 0, as bpftrace.
`;
  assert.deepEqual(kiotrace('--help'), { code: 0, stdout: expected, stderr: '' });
  assert.deepEqual(kiotrace('-h'), { code: 0, stdout: expected, stderr: '' });
  assert.deepEqual(kiotrace('run', '--bogus', '--help'), { code: 0, stdout: expected, stderr: '' });
});

test('--version prints the version from package.json', () => {
  const pkg: unknown = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.ok(typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string');
  const expected = { code: 0, stdout: `kiotrace ${pkg.version}\n`, stderr: '' };
  assert.deepEqual(kiotrace('--version'), expected);
  assert.deepEqual(kiotrace('-V'), expected);
});

test('usage errors: a message, the short usage, exit 2', () => {
  assert.deepEqual(kiotrace('--frobnicate'), usageError('unknown option "--frobnicate"'));
  assert.deepEqual(kiotrace('-e', 'BEGIN { }', '--byname'), usageError('unknown option "--byname"; a script\'s own options (getopt) go after --, e.g. -- --byname'));
  assert.deepEqual(kiotrace('run', '--sed', '3'), usageError('unknown option "--sed"; did you mean "--seed"?'));
  assert.deepEqual(kiotrace('run', '-x'), usageError('unknown option "-x"'));
  assert.deepEqual(kiotrace(), usageError('missing command (run, top, -l or --help)'));
  assert.deepEqual(kiotrace('walk'), usageError('unknown command "walk" (expected run, top, -e PROGRAM, a .bt file, -l or --help)'));
  assert.deepEqual(kiotrace('run', 'a', 'b'), usageError('run takes one SCENARIO (got 2: a b)'));
  assert.deepEqual(kiotrace('run', '--seed'), usageError('--seed needs a value'));
  assert.deepEqual(kiotrace('-v'), usageError("-v only works with -l (e.g. kiotrace -lv 'block:*')"));
  assert.deepEqual(kiotrace('-l', '--seed', '2'), usageError('--seed only works with run'));
  assert.deepEqual(kiotrace('-l', 'a', 'b'), usageError("-l takes one PATTERN (got 2 arguments); quote patterns like 'block:*'"));
  assert.deepEqual(kiotrace('top', '--speed', 'fast'), usageError('--speed: simulated ms per wall ms, like 1, 0.1 or 10, or max (got "fast")'));
  assert.deepEqual(kiotrace('top', '--speed', '0'), usageError('--speed: simulated ms per wall ms, like 1, 0.1 or 10, or max (got "0")'));
  assert.deepEqual(kiotrace('run', '--speed', '2'), usageError('--speed only works with top'));
  assert.deepEqual(kiotrace('top', '--json'), usageError('--json only works with run'));
  assert.deepEqual(kiotrace('top', 'a', 'b'), usageError('top takes one SCENARIO (got 2: a b)'));
  assert.deepEqual(kiotrace('run', '--tui'), usageError("--tui goes with a program: kiotrace -e 'PROGRAM' --tui (for the live view alone: kiotrace top)"));
  assert.deepEqual(kiotrace('-e', 'BEGIN {}', '--tui', '-f', 'json'), usageError('--tui shows the program live; -f, -o and --dry-run go without it'));
});

test('-e PROGRAM --tui without a terminal: panels with the maps, then the maps as bpftrace prints them at exit', () => {
  const r = kiotrace('-e', 'tracepoint:block:block_rq_issue { @[args.rwbs] = count(); }', '--tui', '-c', 'blocking-read');
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\u001b/);
  assert.match(r.stdout, /\n {2}Program maps {3}live, as bpftrace prints them\n {2}@\[RA\]: 1\n/);
  assert.ok(r.stdout.endsWith('\n\n@[RA]: 1\n'), JSON.stringify(r.stdout.slice(-60)));
  const bad = kiotrace('-e', 'tracepoint:block:block_rq_isue { @ = count(); }', '--tui');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^stdin:1:1-31: ERROR: No matches for tracepoint block:block_rq_isue\./);
});

test('top without a terminal: the panels as plain text until the scenario ends, no escape codes', () => {
  const r = kiotrace('top', 'blocking-read', '--speed', 'max');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.doesNotMatch(r.stdout, /\u001b/);
  const blocks = r.stdout.trimEnd().split(/\n+(?=kiotrace top )/);
  assert.ok(blocks.length >= 2, 'a first snapshot, then the last');
  const last = blocks.at(-1)!.split('\n');
  assert.equal(last[0], 'kiotrace top  blocking-read  seed 1  sim 20 ms / 20 ms  speed max  ' + last[0]!.split('speed max  ')[1]);
  assert.match(last[0]!, /DONE$/);
  assert.deepEqual(last.slice(1, 3), ['  Devices', '  DEVICE    STATE     SCHED           IOPS    MiB/s   QD       p50       p99  MERGE/s  UTIL  IOPS   p99']);
  assert.ok(last.some((l) => /^ {2}cold-read {12}4 {2}X exit/.test(l)), last.join('\n'));
  assert.deepEqual(kiotrace('top', 'nope').code, 2);
});

test('bad --seed and --duration values', () => {
  assert.deepEqual(kiotrace('run', '--seed', 'abc'), usageError('--seed: must be a non-negative integer (got "abc")'));
  assert.deepEqual(kiotrace('run', '--seed=-1'), usageError('--seed: must be a non-negative integer (got "-1")'));
  assert.deepEqual(kiotrace('run', '--duration', '5x'), usageError('--duration: must be a positive duration like "500ms" or "2s" (got "5x")'));
  assert.deepEqual(kiotrace('run', 'default', '--duration=0'), usageError('--duration: must be a positive duration like "500ms" or "2s" (got "0")'));
  // at most an hour, as a scenario's "duration": 2h used to be accepted and simulate for many hours of wall time
  assert.deepEqual(kiotrace('-e', 'BEGIN { exit(); }', '--duration', '2h'), usageError('--duration: must be at most 1h of simulated time, as a scenario\'s "duration" (got "2h")'));
  assert.deepEqual(kiotrace('run', '--duration', '3600000000001ns'), usageError('--duration: must be at most 1h of simulated time, as a scenario\'s "duration" (got "3600000000001ns")'));
  // beyond 2^53 ns it is still a duration, only too long
  assert.deepEqual(kiotrace('run', '--duration', '3000h'), usageError('--duration: must be at most 1h of simulated time, as a scenario\'s "duration" (got "3000h")'));
});

test('an unknown scenario lists the available scenarios and experiments', () => {
  const names = listScenarioNames(join(ROOT, 'traces', 'scenarios'));
  const experiments = listExperimentNames(join(ROOT, 'traces', 'experiments'));
  assert.ok(names.includes('default') && experiments.includes('queue-depth-nvme'));
  assert.deepEqual(kiotrace('run', 'nope'), {
    code: 2,
    stdout: '',
    stderr: `kiotrace: unknown scenario or experiment "nope" (scenarios: ${names.join(', ')}; experiments: ${experiments.join(', ')}; or give the path of a .json scenario or an fio job file)\n`,
  });
  const missing = join(tmp, 'missing.json');
  assert.deepEqual(kiotrace('run', missing), { code: 2, stdout: '', stderr: `kiotrace: cannot read scenario file "${missing}": no such file\n` });
});

test('an invalid scenario file prints every diagnostic and exits 2', () => {
  const file = scenarioFile(
    'bad.json',
    `{
  "name": "bad",
  "duration": "1s",
  "jobs": [
    { "name": "neg", "filename": "/mnt/nvme/a", "size": "-4k" },
    { "name": "lost", "filename": "/dev/sdz", "size": "64m" },
    { "name": "mode", "filename": "/mnt/hdd/m", "size": "64m", "rw": "randomread" },
    { "name": "big", "filename": "/mnt/nvme/b", "size": "4m", "bs": "8m" }
  ]
}
`,
  );
  const expected = [
    `${file}:5:57: jobs[0].size: "-4k" is not a size; write a number with an optional suffix, like 4k, 64m or 1g`,
    '    { "name": "neg", "filename": "/mnt/nvme/a", "size": "-4k" },',
    '                                                        ^~~~~',
    `${file}:6:35: jobs[1].filename: "/dev/sdz" is not a device of this machine (raw devices: /dev/nvme0n1, /dev/sda)`,
    '    { "name": "lost", "filename": "/dev/sdz", "size": "64m" },',
    '                                  ^~~~~~~~~~',
    `${file}:7:70: jobs[2].rw: unknown mode "randomread" (expected one of: read, write, randread, randwrite, rw, readwrite, randrw); did you mean "randread"?`,
    '    { "name": "mode", "filename": "/mnt/hdd/m", "size": "64m", "rw": "randomread" },',
    '                                                                     ^~~~~~~~~~~~',
    `${file}:8:69: jobs[3].bs: 8m is larger than size (4m)`,
    '    { "name": "big", "filename": "/mnt/nvme/b", "size": "4m", "bs": "8m" }',
    '                                                                    ^~~~',
    '',
  ].join('\n');
  assert.deepEqual(kiotrace('run', file, '--seed', '3'), { code: 2, stdout: '', stderr: expected });
});

test('an unknown device type and bad JSON', () => {
  const device = scenarioFile(
    'device.json',
    '{"name": "d", "duration": "1s",\n "machine": {"devices": [{"name": "nvme0n1", "type": "ssd", "mount": "/mnt/nvme"}]},\n "jobs": [{"name": "j", "filename": "/mnt/nvme/f", "size": "1m"}]}\n',
  );
  assert.deepEqual(kiotrace('run', device), {
    code: 2,
    stdout: '',
    stderr: [
      `${device}:2:54: machine.devices[0].type: unknown device type "ssd" (expected nvme or hdd)`,
      ' "machine": {"devices": [{"name": "nvme0n1", "type": "ssd", "mount": "/mnt/nvme"}]},',
      '                                                     ^~~~~',
      '',
    ].join('\n'),
  });
  const syntax = scenarioFile('syntax.json', '{\n  "name": "s",\n  "duration": 2s\n}\n');
  assert.deepEqual(kiotrace('run', syntax), {
    code: 2,
    stdout: '',
    stderr: [
      `${syntax}:3:15: invalid JSON: invalid number 2s; write sizes and durations with a unit as strings, e.g. "2s"`,
      '  "duration": 2s',
      '              ^~',
      '',
    ].join('\n'),
  });
});

test('-l with a pattern that backtracks a regular expression (*a*a*a...b) answers at once: globs match without one', () => {
  const pattern = `${'*a'.repeat(40)}*b`;
  // a bound so that the old exponential match fails the test instead of hanging it
  const r = spawnSync(process.execPath, [CLI, '-l', pattern], { encoding: 'utf8', cwd: ROOT, timeout: 60_000 });
  assert.deepEqual({ code: r.status, stdout: r.stdout, stderr: r.stderr }, { code: 0, stdout: '', stderr: '' });
  assert.equal(kiotrace('-l', 'block:block_rq_i*ue').stdout, 'tracepoint:block:block_rq_issue\n');
});

test('standard output that cannot be written (/dev/full): one clear line and exit 1, not 0; a bad input keeps its 2', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, () => {
  const toFull = (...args: string[]): Outcome => {
    const full = openSync('/dev/full', 'w');
    try {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, stdio: ['ignore', full, 'pipe'] });
      return { code: r.status, stdout: '', stderr: r.stderr };
    } finally {
      closeSync(full);
    }
  };
  const lost = 'kiotrace: cannot write to standard output: No space left on device (disk full)\n';
  assert.deepEqual(toFull('run', 'blocking-read', '--duration', '1ms'), { code: 1, stdout: '', stderr: lost });
  assert.deepEqual(toFull('-q', '-e', 'BEGIN { printf("x\\n"); exit(); }'), { code: 1, stdout: '', stderr: lost });
  assert.deepEqual(toFull('--help'), { code: 1, stdout: '', stderr: lost });
  assert.equal(toFull('run', 'no-such-scenario').code, 2);
});

test('a scenario that cannot be read like a file (/proc/self/pagemap reads only in 8-byte records) says so, in words fit for reading', { skip: !existsSync('/proc/self/pagemap') && 'no /proc/self/pagemap here' }, () => {
  assert.deepEqual(kiotrace('run', '/proc/self/pagemap'), {
    code: 2,
    stdout: '',
    stderr: 'kiotrace: cannot read scenario file "/proc/self/pagemap": Invalid argument (it cannot be read or written like a file)\n',
  });
});

test('--epoch pins the date a program prints with strftime; a bad value is refused', () => {
  const ok = kiotrace('--epoch', '1700000000000000000', '-e', 'BEGIN { printf("%s\\n", strftime("%m/%d/%y %H:%M:%S", nsecs)); exit(); }');
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.split('\n')[0], '11/14/23 22:13:20');
  const bad = kiotrace('--epoch', 'soon', '-e', 'BEGIN { exit(); }');
  assert.equal(bad.code, 2);
});
