// The kiotrace command line, parsed: argv in, a Command or a UsageError out. Pure (no I/O, no
// exits), so every mistake gets a message in our words and the parser can be fuzzed in-process.
// Hand-written: node:util parseArgs words its errors its own way.

import { posix } from 'node:path';
import { MAX_DURATION_NS, parseDuration } from './units.js';
import { isHttpUrl, outputPathProblem, parseEpochNs, parseRatio, type ExportRequest } from './export-settings.js';

export const USAGE = `usage: kiotrace run [SCENARIO | JOB.fio] [--seed N] [--duration T] [--output-format F] [--json]
                    [--steps[=N]] [--perfetto FILE] [--jaeger FILE] [--otlp-file FILE] [--otlp [URL]]
                    [--sample R] [--epoch NS] [--machine FILE] [--directory DIR] [--crash-at T]
       kiotrace top [SCENARIO | JOB.fio] [--seed N] [--duration T] [--speed X]
       kiotrace -e PROGRAM | FILE.bt [-c SCENARIO] [-f text|json] [-o FILE]
       kiotrace -l [PATTERN] | -lv [PATTERN]
       kiotrace --help | --version
`;

export const HELP = `kiotrace: a deterministic simulator of the Linux kernel I/O stack, traced like a real kernel

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

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  /** --info: the simulated kernel's BPF features, laid out as bpftrace --info lays out a real one's. */
  | { readonly kind: 'info' }
  | { readonly kind: 'list'; readonly pattern: string | undefined; readonly verbose: boolean }
  | ({ readonly kind: 'top'; readonly scenario: string; readonly seed: number; readonly durationNs: number | undefined; readonly speed: number } & ScenarioFlags)
  | ({
      readonly kind: 'run';
      readonly scenario: string;
      readonly seed: number;
      readonly durationNs: number | undefined;
      readonly json: boolean;
      /** --output-format: fio's text (normal) or JSON (json, json+). */
      readonly outputFormat: OutputFormat;
      readonly exports: ExportRequest;
      /** --steps: data I/Os to show step by step (undefined: the scenario's "steps"). */
      readonly steps: number | undefined;
      /** --crash-at: a simulated crash ends the run then (undefined: the scenario's "crash_at"). */
      readonly crashAtNs: number | undefined;
    } & ScenarioFlags)
  | ({
      readonly kind: 'script';
      /** -e text, or undefined when `file` names the script. */
      readonly program: string | undefined;
      readonly file: string | undefined;
      readonly positional: readonly string[];
      readonly scenario: string;
      readonly seed: number;
      readonly durationNs: number | undefined;
      readonly format: 'text' | 'json';
      readonly outFile: string | undefined;
      readonly quiet: boolean;
      readonly verbose: boolean;
      readonly dryRun: boolean;
      readonly unsafe: boolean;
      /** --no-warnings: no warning is printed (bpftrace's flag). */
      readonly noWarnings: boolean;
      /** --probe-filter REGEX: only the probes whose names match run (BEGIN and END always do). */
      readonly probeFilter: string | undefined;
      /** Show the program's maps live next to the dashboard (kiotrace top). */
      readonly tui: boolean;
      /** --epoch: the wall-clock ns simulated t=0 maps to, for strftime's dates (undefined: the run's start). */
      readonly epochNs: bigint | undefined;
    } & ScenarioFlags);

/** How the scenario is read: --machine (for job files) and --directory. Absent when not given. */
export interface ScenarioFlags {
  /** --machine FILE, as given (a host path). */
  readonly machineFile?: string;
  /** --directory DIR: a clean absolute path on the simulated machine. */
  readonly directory?: string;
}

export type OutputFormat = 'normal' | 'json' | 'json+';

export class UsageError {
  constructor(readonly message: string) {}
}

const LONG_OPTIONS = [
  '--seed',
  '--duration',
  '--crash-at',
  '--json',
  '--list',
  '--verbose',
  '--help',
  '--version',
  '--dry-run',
  '--unsafe',
  '--perfetto',
  '--jaeger',
  '--otlp',
  '--otlp-file',
  '--sample',
  '--epoch',
  '--probe-filter',
  '--steps',
  '--output-format',
  '--machine',
  '--directory',
  '--info',
  '--no-warnings',
  '--quiet',
  '--output',
];

/**
 * bpftrace 0.24's flags (and 0.26's long forms) that have no counterpart in a simulation: they are
 * bpftrace's, so they are refused with the reason, not as an unknown option. `value`: the flag
 * takes an argument, skipped with it.
 */
const UNMODELED_FLAGS: readonly { readonly names: readonly string[]; readonly value: boolean; readonly why: string }[] = [
  { names: ['-p', '--pid'], value: true, why: 'the program traces a simulated machine, not a host process; filter on the simulated pid in the program, e.g. /pid == 4/' },
  { names: ['--cmd'], value: true, why: 'no host command is run; kiotrace\'s -c names the scenario to trace (-c default)' },
  { names: ['-B'], value: true, why: 'output is written as the simulation produces it, with no BPF ring buffer or stdout buffering mode to choose' },
  { names: ['-k', '--warnings'], value: false, why: 'probe read helpers cannot fail here: every kernel object a program reads is a simulated one that exists' },
  { names: ['-d', '--debug'], value: true, why: 'the program is interpreted against the simulation; there is no LLVM, BPF bytecode, libbpf or verifier stage to show' },
  { names: ['-I'], value: true, why: 'there is no C preprocessor or kernel header to include; the simulated kernel\'s structs are built in' },
  { names: ['--include'], value: true, why: 'there is no C preprocessor or kernel header to include; the simulated kernel\'s structs are built in' },
  { names: ['--usdt-file-activation'], value: false, why: 'the simulated machine runs no user binaries, so there are no USDT semaphores to activate' },
  { names: ['--dwarf-pid'], value: true, why: 'the simulated machine runs no user binaries to unwind' },
  { names: ['--debuginfo'], value: true, why: 'there is no DWARF to read; the simulated kernel\'s types are built in' },
  { names: ['--traceable-functions'], value: true, why: 'the simulated kernel\'s probeable functions are fixed; kiotrace -l \'kprobe:*\' lists them' },
  { names: ['--no-feature'], value: true, why: 'the simulated kernel\'s BPF features are fixed; kiotrace --info lists them' },
  { names: ['--emit-elf', '--emit-llvm', '--aot'], value: true, why: 'the program is interpreted against the simulation; no ELF, LLVM IR or BPF object is generated' },
  { names: ['--verify-llvm-ir'], value: false, why: 'the program is interpreted against the simulation; no LLVM IR is generated' },
  { names: ['--test-mode', '--mode'], value: true, why: 'bpftrace\'s developer modes (codegen, bench, test probes) have no counterpart in kiotrace' },
  { names: ['--test', '--bench', '--fmt'], value: false, why: 'bpftrace\'s developer modes (codegen, bench, test probes, formatting) have no counterpart in kiotrace' },
];

/** A bpftrace flag kiotrace refuses, and how many argv words it takes (1 or 2); undefined for any other token. */
function unmodeledFlag(token: string): { readonly error: UsageError; readonly words: number } | undefined {
  for (const f of UNMODELED_FLAGS) {
    for (const name of f.names) {
      const long = name.startsWith('--');
      // -p 42, -p42; --pid 42, --pid=42
      const attached = long ? token.startsWith(`${name}=`) : f.value && token.length > name.length && token.startsWith(name);
      if (token !== name && !attached) continue;
      return { error: new UsageError(`${name}: not supported by kiotrace: ${f.why}`), words: f.value && !attached ? 2 : 1 };
    }
  }
  return undefined;
}


/** `scriptMode`: the command runs a program (-e or a .bt file), whose own options go after `--`. */
function unknownOption(token: string, scriptMode: boolean): UsageError {
  const name = token.split('=')[0]!;
  // A near miss of a long option (--sed, --durations) gets a suggestion.
  const near = LONG_OPTIONS.find((o) => name.startsWith('--') && (o.startsWith(name) || name.startsWith(o) || oneEditApart(name, o)));
  const hint = near !== undefined && near !== name ? `; did you mean "${near}"?` : scriptMode && name.startsWith('--') ? `; a script's own options (getopt) go after --, e.g. -- ${token}` : '';
  return new UsageError(`unknown option "${token}"${hint}`);
}

function oneEditApart(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(i + 1) === b.slice(i + 1) || a.slice(i + 1) === b.slice(i) || a.slice(i) === b.slice(i + 1);
}

/** Hand-written so every mistake gets a message in our words (node:util parseArgs has its own). */
export function parseCommand(argv: readonly string[]): Command | UsageError {
  // --help and --version win wherever they are, even next to a mistake.
  const end = argv.indexOf('--');
  for (const token of end === -1 ? argv : argv.slice(0, end)) {
    if (token === '-h' || token === '--help') return { kind: 'help' };
    if (token === '-V' || token === '--version') return { kind: 'version' };
  }
  // bpftrace's flags with no counterpart here: refused with the reason, wherever they are
  for (let i = 0; i < (end === -1 ? argv.length : end); i++) {
    const token = argv[i]!;
    // a program's text (-e 'PROGRAM') is not a flag
    if (token === '-e' || token === '-c' || token === '-o' || token === '-f') {
      i++;
      continue;
    }
    const refused = unmodeledFlag(token);
    if (refused !== undefined) return refused.error;
  }
  if (argv.slice(0, end === -1 ? argv.length : end).includes('--info')) return { kind: 'info' };
  const positionals: string[] = [];
  let list = false;
  let verbose = false;
  let json = false;
  let seedText: string | undefined;
  let durationText: string | undefined;
  let crashAtText: string | undefined;
  let speedText: string | undefined;
  // bpftrace's flags for running a program
  let program: string | undefined;
  let scenarioFlag: string | undefined;
  let formatText: string | undefined;
  let outFile: string | undefined;
  let quiet = false;
  let dryRun = false;
  let unsafe = false;
  let noWarnings = false;
  let probeFilter: string | undefined;
  let tui = false;
  // trace outputs of run
  const exportTexts = new Map<string, string>();
  let otlpUrl: string | undefined;
  let otlp = false;
  let stepsText: string | undefined;
  let outputFormatText: string | undefined;
  let machineFile: string | undefined;
  let directoryText: string | undefined;

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    // bpftrace 0.26's long forms of -o and -q
    const longOutput = /^--output(?:=(.*))?$/.exec(token);
    if (longOutput !== null) {
      const value = longOutput[1] ?? argv[++i];
      if (value === undefined || (longOutput[1] === undefined && value.startsWith('-') && value.length > 1)) return new UsageError('--output needs a value');
      outFile = value;
      continue;
    }
    if (token === '--quiet') {
      quiet = true;
      continue;
    }
    if (token === '--no-warnings') {
      noWarnings = true;
      continue;
    }
    const filterFlag = /^--probe-filter(?:=(.*))?$/.exec(token);
    if (filterFlag !== null) {
      const value = filterFlag[1] ?? argv[++i];
      if (value === undefined) return new UsageError('--probe-filter needs a value (a regular expression over probe names)');
      probeFilter = value;
      continue;
    }
    // bpftrace's -b / --btf: BTF is always used (bpftrace ignores them too)
    if (token === '-b' || token === '--btf') continue;
    const short = /^-([ecfo])$/.exec(token);
    if (short !== null) {
      const value = argv[i + 1];
      if (value === undefined) return new UsageError(`-${short[1]!} needs a value`);
      // `-o --json` is a forgotten value, not a file named --json (a program's text is taken as it is)
      if (short[1] !== 'e' && value.startsWith('-') && value.length > 1) return new UsageError(`-${short[1]!} needs a value (got the option "${value}")`);
      i++;
      if (short[1] === 'e') program = value;
      else if (short[1] === 'c') scenarioFlag = value;
      else if (short[1] === 'f') formatText = value;
      else outFile = value;
      continue;
    }
    if (token === '-q') {
      quiet = true;
      continue;
    }
    if (token === '--dry-run') {
      dryRun = true;
      continue;
    }
    if (token === '--unsafe') {
      unsafe = true;
      continue;
    }
    if (token === '--tui') {
      tui = true;
      continue;
    }
    const outputFormatFlag = /^--output-format(?:=(.*))?$/.exec(token);
    if (outputFormatFlag !== null) {
      outputFormatText = outputFormatFlag[1];
      if (outputFormatText === undefined) {
        outputFormatText = argv[++i];
        if (outputFormatText === undefined || (outputFormatText.startsWith('-') && outputFormatText.length > 1)) return new UsageError('--output-format needs a value: normal, json or json+');
      }
      continue;
    }
    const stepsFlag = /^--steps(?:=(.*))?$/.exec(token);
    if (stepsFlag !== null) {
      stepsText = stepsFlag[1] ?? '1';
      continue;
    }
    const otlpFlag = /^--otlp(?:=(.*))?$/.exec(token);
    if (otlpFlag !== null) {
      otlp = true;
      otlpUrl = otlpFlag[1];
      // the URL is optional: take the next word only when it looks like one
      if (otlpUrl === undefined && (argv[i + 1] ?? '').includes('://')) otlpUrl = argv[++i];
      continue;
    }
    const exportFlag = /^--(perfetto|jaeger|otlp-file|sample|epoch)(?:=(.*))?$/.exec(token);
    if (exportFlag !== null) {
      let value = exportFlag[2];
      if (value === undefined) {
        value = argv[i + 1];
        if (value === undefined || (value.startsWith('-') && value.length > 1)) return new UsageError(`--${exportFlag[1]!} needs a value`);
        i++;
      }
      exportTexts.set(exportFlag[1]!, value);
      continue;
    }
    const scenarioFlag2 = /^--(machine|directory)(?:=(.*))?$/.exec(token);
    if (scenarioFlag2 !== null) {
      let value = scenarioFlag2[2];
      if (value === undefined) {
        value = argv[i + 1];
        if (value === undefined || (value.startsWith('-') && value.length > 1)) return new UsageError(`--${scenarioFlag2[1]!} needs a value`);
        i++;
      }
      if (scenarioFlag2[1] === 'machine') machineFile = value;
      else directoryText = value;
      continue;
    }
    const valued = /^--(seed|duration|speed|crash-at)(?:=(.*))?$/.exec(token);
    if (valued !== null) {
      let value = valued[2];
      if (value === undefined) {
        value = argv[i + 1];
        if (value === undefined) return new UsageError(`--${valued[1]!} needs a value`);
        i++;
      }
      if (valued[1] === 'seed') seedText = value;
      else if (valued[1] === 'speed') speedText = value;
      else if (valued[1] === 'crash-at') crashAtText = value;
      else durationText = value;
    } else if (token === '--json') {
      json = true;
    } else if (token === '--list') {
      list = true;
    } else if (token === '--verbose') {
      verbose = true;
    } else if (/^-[lv]+$/.test(token)) {
      // -l, -v, -lv, -vl: bpftrace's short flags, grouped or not.
      if (token.includes('l')) list = true;
      if (token.includes('v')) verbose = true;
    } else if (token.startsWith('-') && token !== '-') {
      return unknownOption(token, argv.includes('-e') || argv.some((a) => a.endsWith('.bt')));
    } else {
      positionals.push(token);
    }
  }

  // --epoch also pins a program's strftime dates; the trace outputs go with run only
  const isScript = program !== undefined || (positionals[0] !== undefined && positionals[0] !== 'run' && /\.bt$|^-$/.test(positionals[0]));
  const exportFlagUsed = otlp ? '--otlp' : [...exportTexts.keys()].filter((k) => !(isScript && k === 'epoch')).map((k) => `--${k}`)[0];
  if (exportFlagUsed !== undefined && (list || program !== undefined || positionals[0] !== 'run')) {
    return new UsageError(`${exportFlagUsed} only works with run (e.g. kiotrace run blocking-read ${exportFlagUsed === '--otlp' ? '--otlp' : `${exportFlagUsed} ${exportExample(exportFlagUsed)}`})`);
  }

  if (outputFormatText !== undefined && (list || program !== undefined || positionals[0] !== 'run')) {
    return new UsageError('--output-format only works with run (e.g. kiotrace run default --output-format=json); a program takes -f text|json');
  }

  if (stepsText !== undefined && (list || program !== undefined || positionals[0] !== 'run')) {
    return new UsageError('--steps only works with run (e.g. kiotrace run default --steps=2)');
  }

  let flags: ScenarioFlags = {};
  if (machineFile !== undefined || directoryText !== undefined) {
    if (list) return new UsageError(`${machineFile !== undefined ? '--machine' : '--directory'} goes with run, top or a program (it shapes the machine a scenario runs on)`);
    if (machineFile === '') return new UsageError('--machine: needs the path of a machine .json file');
    if (machineFile?.includes('\0') === true) return new UsageError('--machine: a path cannot contain a NUL byte');
    if (directoryText !== undefined) {
      const d = simulatedDirectory(directoryText);
      if (d instanceof UsageError) return d;
      flags = { directory: d };
    }
    if (machineFile !== undefined) flags = { ...flags, machineFile };
  }

  if (crashAtText !== undefined && (list || program !== undefined || positionals[0] !== 'run')) return new UsageError('--crash-at only works with run (e.g. kiotrace run coherence.fio --crash-at 5ms)');
  if (list) {
    if (positionals[0] === 'run') return new UsageError('-l cannot be combined with run');
    const runOnly = seedText !== undefined ? '--seed' : durationText !== undefined ? '--duration' : json ? '--json' : undefined;
    if (runOnly !== undefined) return new UsageError(`${runOnly} only works with run`);
    if (positionals.length > 1) return new UsageError(`-l takes one PATTERN (got ${positionals.length} arguments); quote patterns like 'block:*'`);
    return { kind: 'list', pattern: positionals[0], verbose };
  }
  const scriptFile = program === undefined && positionals[0] !== undefined && positionals[0] !== 'run' && /\.bt$|^-$/.test(positionals[0]) ? positionals[0] : undefined;
  if (program !== undefined || scriptFile !== undefined) {
    if (json) return new UsageError('--json only works with run; use -f json');
    if (tui && (formatText !== undefined || outFile !== undefined || dryRun)) return new UsageError('--tui shows the program live; -f, -o and --dry-run go without it');
    const format = formatText ?? 'text';
    if (format !== 'text' && format !== 'json') return new UsageError(`-f: unknown output format "${format}" (expected text or json)`);
    const run = parseRunOptions(seedText, durationText);
    if (run instanceof UsageError) return run;
    const { seed, durationNs } = run;
    // --epoch pins the date strftime prints (time("%H:%M:%S") and strftime of nsecs)
    const epochNs = readEpoch(exportTexts.get('epoch'));
    if (epochNs instanceof UsageError) return epochNs;
    // `kiotrace run NAME -e PROGRAM` traces NAME, as `kiotrace -e PROGRAM -c NAME` does
    const runNamed = program !== undefined && positionals[0] === 'run';
    if (runNamed && scenarioFlag !== undefined && positionals[1] !== undefined) {
      return new UsageError(`the scenario is named twice (run ${positionals[1]} and -c ${scenarioFlag}); give one`);
    }
    return {
      kind: 'script',
      program,
      file: scriptFile,
      positional: scriptFile !== undefined ? positionals.slice(1) : runNamed ? positionals.slice(2) : positionals,
      scenario: scenarioFlag ?? (runNamed ? positionals[1] : undefined) ?? 'default',
      seed,
      durationNs,
      format,
      outFile,
      quiet,
      verbose,
      dryRun,
      unsafe,
      noWarnings,
      probeFilter,
      tui,
      epochNs,
      ...flags,
    };
  }
  if (tui) return new UsageError("--tui goes with a program: kiotrace -e 'PROGRAM' --tui (for the live view alone: kiotrace top)");
  if (scenarioFlag !== undefined || formatText !== undefined || outFile !== undefined || quiet || dryRun || unsafe || noWarnings) {
    return new UsageError('-c, -f, -o, -q, --dry-run, --no-warnings and --unsafe go with a program (-e PROGRAM or FILE.bt)');
  }
  if (verbose) return new UsageError('-v only works with -l (e.g. kiotrace -lv \'block:*\')');
  if (positionals.length === 0) return new UsageError('missing command (run, top, -l or --help)');
  if (positionals[0] !== 'run' && positionals[0] !== 'top') return new UsageError(`unknown command "${positionals[0]!}" (expected run, top, -e PROGRAM, a .bt file, -l or --help)`);
  if (positionals.length > 2) return new UsageError(`${positionals[0]} takes one SCENARIO (got ${positionals.length - 1}: ${positionals.slice(1).join(' ')})`);
  if (speedText !== undefined && positionals[0] !== 'top') return new UsageError('--speed only works with top');
  if (positionals[0] === 'top' && json) return new UsageError('--json only works with run');

  const run = parseRunOptions(seedText, durationText);
  if (run instanceof UsageError) return run;
  const { seed, durationNs } = run;
  if (positionals[0] === 'top') {
    let speed = 1;
    if (speedText !== undefined) {
      speed = speedText === 'max' ? 0 : Number(speedText);
      if (speedText !== 'max' && (!/^\d*\.?\d+$/.test(speedText) || !(speed > 0) || speed > 1e6)) {
        return new UsageError(`--speed: simulated ms per wall ms, like 1, 0.1 or 10, or max (got "${speedText}")`);
      }
    }
    return { kind: 'top', scenario: positionals[1] ?? 'default', seed, durationNs, speed, ...flags };
  }
  const exports = parseExports(exportTexts, otlp, otlpUrl);
  if (exports instanceof UsageError) return exports;
  const outputFormat = parseOutputFormat(outputFormatText, json);
  if (outputFormat instanceof UsageError) return outputFormat;
  let steps: number | undefined;
  if (stepsText !== undefined) {
    steps = Number(stepsText);
    if (!/^\d{1,2}$/.test(stepsText) || steps < 1 || steps > 16) return new UsageError(`--steps: how many I/Os to show, from 1 to 16 (got "${stepsText}")`);
    if (json) return new UsageError('--steps prints text after the summary; leave out --json');
    if (outputFormat !== 'normal') return new UsageError(`--steps prints text after the summary; leave out --output-format=${outputFormat}`);
  }
  let crashAtNs: number | undefined;
  if (crashAtText !== undefined) {
    crashAtNs = parseDuration(crashAtText, 's');
    if (crashAtNs === undefined || crashAtNs === 0) return new UsageError(`--crash-at: must be a positive simulated time like "5ms" or "1s" (got "${crashAtText}")`);
    if (crashAtNs > MAX_DURATION_NS) return new UsageError(`--crash-at: must be at most 1h of simulated time (got "${crashAtText}")`);
  }
  return { kind: 'run', scenario: positionals[1] ?? 'default', seed, durationNs, json, outputFormat, exports, steps, crashAtNs, ...flags };
}

/** fio's --output-format values kiotrace prints (terse and comma lists are fio's too, but not kiotrace's). */
function parseOutputFormat(text: string | undefined, json: boolean): OutputFormat | UsageError {
  if (text === undefined) return 'normal';
  if (json) return new UsageError(`--json prints kiotrace's own report; it cannot be combined with --output-format=${text}`);
  if (text === 'normal' || text === 'json' || text === 'json+') return text;
  if (text === 'terse' || text.includes(',')) return new UsageError(`--output-format: "${text}" is not supported; use one of normal, json or json+`);
  return new UsageError(`--output-format: unknown format "${text}" (expected normal, json or json+)`);
}

/** --directory: an absolute path on the simulated machine, cleaned ("/mnt/nvme/", "/a/./b" -> "/a/b"). */
function simulatedDirectory(text: string): string | UsageError {
  if (!text.startsWith('/')) return new UsageError(`--directory: must be an absolute path on the simulated machine, like /mnt/nvme (got "${text}")`);
  if (text.includes('\0')) return new UsageError('--directory: a path cannot contain a NUL byte');
  const clean = posix.normalize(text).replace(/(.)\/+$/, '$1');
  if (clean.length > 4095) return new UsageError(`--directory: the path is ${clean.length} characters long; Linux paths are at most 4095 (PATH_MAX)`);
  return clean;
}

/** --seed and --duration, as every command that runs the machine takes them. */
function parseRunOptions(seedText: string | undefined, durationText: string | undefined): { seed: number; durationNs: number | undefined } | UsageError {
  let seed = 1;
  if (seedText !== undefined) {
    if (!/^\d+$/.test(seedText) || !Number.isSafeInteger(Number(seedText))) return new UsageError(`--seed: must be a non-negative integer (got "${seedText}")`);
    seed = Number(seedText);
  }
  let durationNs: number | undefined;
  if (durationText !== undefined) {
    durationNs = parseDuration(durationText, 's');
    if (durationNs === undefined || durationNs === 0) return new UsageError(`--duration: must be a positive duration like "500ms" or "2s" (got "${durationText}")`);
    if (durationNs > MAX_DURATION_NS) return new UsageError(`--duration: must be at most 1h of simulated time, as a scenario's "duration" (got "${durationText}")`);
  }
  return { seed, durationNs };
}

function exportExample(flag: string): string {
  return flag === '--perfetto' ? 'trace.pftrace' : flag === '--sample' ? '0.1' : flag === '--epoch' ? '1700000000000000000' : 'trace.json';
}

function parseExports(texts: ReadonlyMap<string, string>, otlp: boolean, otlpUrl: string | undefined): ExportRequest | UsageError {
  let sampleRatio: number | undefined;
  const sampleText = texts.get('sample');
  if (sampleText !== undefined) {
    sampleRatio = parseRatio(sampleText);
    if (sampleRatio === undefined || sampleRatio === 0) {
      return new UsageError(`--sample: must be a ratio in (0, 1], like 0.1 for one I/O in ten (got "${sampleText}")`);
    }
  }
  const epochNs = readEpoch(texts.get('epoch'));
  if (epochNs instanceof UsageError) return epochNs;
  if (otlpUrl !== undefined && !isHttpUrl(otlpUrl)) return new UsageError(`--otlp: not an http(s) URL: "${otlpUrl}" (e.g. --otlp http://localhost:4318/v1/traces)`);
  const files = new Map<string, string>();
  for (const flag of ['perfetto', 'jaeger', 'otlp-file']) {
    const path = texts.get(flag);
    if (path === undefined) continue;
    const empty = outputPathProblem(`--${flag}`, path);
    if (empty !== undefined) return new UsageError(empty);
    files.set(flag, path);
  }
  if (!otlp && files.size === 0 && (sampleText !== undefined || epochNs !== undefined)) {
    return new UsageError(`${sampleText !== undefined ? '--sample' : '--epoch'} shapes trace output: add --perfetto FILE, --jaeger FILE, --otlp-file FILE or --otlp`);
  }
  return {
    ...(files.has('perfetto') ? { perfetto: files.get('perfetto')! } : {}),
    ...(files.has('jaeger') ? { jaeger: files.get('jaeger')! } : {}),
    ...(files.has('otlp-file') ? { otlpFile: files.get('otlp-file')! } : {}),
    ...(otlp ? { otlp: { url: otlpUrl } } : {}),
    ...(sampleRatio !== undefined ? { sampleRatio } : {}),
    ...(epochNs !== undefined ? { epochNs } : {}),
  };
}

/** --epoch NS: the wall-clock ns simulated t=0 maps to (undefined when not given). */
function readEpoch(text: string | undefined): bigint | undefined | UsageError {
  if (text === undefined) return undefined;
  const parsed = parseEpochNs(text);
  return typeof parsed === 'bigint' ? parsed : new UsageError(parsed.error);
}
