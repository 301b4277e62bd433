#!/usr/bin/env -S node --optimize-for-size
// The kiotrace command: `run` a scenario, `-l`/`-lv` list probes, --help, --version.
// V8 runs with --optimize-for-size: a simulation allocates fast and keeps little, and without it
// V8 lets garbage grow to ~4x the live heap between full collections, so memory grew with run length.
// Exit codes (ARCHITECTURE §7): 0 ok, 1 runtime failure, 2 usage or scenario error. Never a stack
// trace. Only node: built-ins load up front; the simulator loads after the arguments parse, so
// --help, --version and usage errors stay fast.

import { execSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostAccess } from '../probes/lang/compile.js';
import type { MachineSpec, Scenario } from '../core/index.js';
import { HELP, parseCommand, USAGE, UsageError, type Command, type ScenarioFlags } from './args.js';
import type { LoadOptions } from './scenario.js';
import { exportSettingsProblem } from './export-settings.js';
import { printable } from './units.js';
import { Interruption, ProgressLine, runMachine, signalExitCode, type RunEnd, type RunLoopOptions } from './run-loop.js';
import { fsErrorText, outputProblem, sameFile, StreamedFile } from './output-files.js';
import { readHostFile, readTextFile } from './input-files.js';

/** bpftrace scripts are small: a bigger file is refused before it is read. */
const MAX_SCRIPT_BYTES = 1024 * 1024;
/** cat() prints 10240 characters at most; this many bytes hold them in any UTF-8. */
const CAT_READ_BYTES = 4 * 10240;

/** The package root: the nearest directory above this file holding package.json (dist/tui/ -> ./). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error(`cannot find package.json above ${fileURLToPath(import.meta.url)}`);
}

function readVersion(root: string): string {
  const parsed: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') return parsed.version;
  throw new Error('package.json has no "version"');
}

/** A terminal that went away (SIGHUP, EIO): later writes to it are dropped, so the run still ends and closes its files. */
const streamGone = { stdout: false, stderr: false };
/** Standard output failed for another reason than a reader that left (a full disk): exit 1, not 0. */
let stdoutLost = false;

function out(text: string): void {
  if (!streamGone.stdout) process.stdout.write(text);
}

function err(text: string): void {
  if (!streamGone.stderr) process.stderr.write(text);
}

async function main(argv: readonly string[]): Promise<number> {
  const cmd = parseCommand(argv);
  if (cmd instanceof UsageError) {
    err(`kiotrace: ${printable(cmd.message)}\n${USAGE}`);
    return 2;
  }
  // a signal while the scenario loads and the machine boots (a second or more on a busy host)
  // must end the run as a normal end too, not kill it by the signal's default action
  if (cmd.kind === 'run' || (cmd.kind === 'script' && !cmd.tui)) listenForStopSignals();
  switch (cmd.kind) {
    case 'help':
      out(HELP);
      return 0;
    case 'version':
      out(`kiotrace ${readVersion(packageRoot())}\n`);
      return 0;
    case 'info': {
      const { kernelInfo } = await import('./info.js');
      out(kernelInfo(readVersion(packageRoot())));
      return 0;
    }
    case 'list': {
      const { listingError, listProbes } = await import('../probes/list.js');
      const refused = listingError(cmd.pattern);
      if (refused !== undefined) {
        // as bpftrace -l 'blok:*': the listing's probe type is refused, exit 1
        err(refused);
        return 1;
      }
      const lines = listProbes(cmd.pattern, cmd.verbose);
      out(lines.length === 0 ? '' : `${lines.join('\n')}\n`);
      return 0;
    }
    case 'script':
      return runProgram(cmd);
    case 'top': {
      const { loadScenario, renderDiagnostic } = await import('./scenario.js');
      const dir = join(packageRoot(), 'traces', 'scenarios');
      const load = await loadOptions(cmd);
      if (load === undefined) return 2;
      // check the scenario here, where a mistake can still be a clear message and exit 2
      const loaded = loadScenario(cmd.scenario, dir, load);
      if (!loaded.ok) {
        for (const d of loaded.diagnostics) err(`${renderDiagnostic(d)}\n`);
        return 2;
      }
      const { runTop } = await import('./top/run-top.js');
      return runTop({ scenario: cmd.scenario, scenariosDir: dir, seed: cmd.seed, durationNs: cmd.durationNs, speed: cmd.speed, load });
    }
    case 'run': {
      const { loadScenario, renderDiagnostic } = await import('./scenario.js');
      const load = await loadOptions(cmd);
      if (load === undefined) return 2;
      const loaded = loadScenario(cmd.scenario, join(packageRoot(), 'traces', 'scenarios'), load);
      if (!loaded.ok) {
        for (const d of loaded.diagnostics) err(`${renderDiagnostic(d)}\n`);
        return 2;
      }
      const outputs = [
        { flag: '--perfetto', path: cmd.exports.perfetto },
        { flag: '--jaeger', path: cmd.exports.jaeger },
        { flag: '--otlp-file', path: cmd.exports.otlpFile },
      ].filter((o): o is { flag: string; path: string } => o.path !== undefined);
      const refusal = outputsRefused(outputs, 'replaced', await scenarioInput(cmd.scenario));
      if (refusal !== undefined) {
        err(`${refusalText(refusal, 'the trace')}\n`);
        return 2;
      }
      const durationNs = cmd.durationNs ?? loaded.scenario.durationNs;
      let exitCode = 0;
      const x = cmd.exports;
      const refused = exportSettingsProblem(x, process.env, durationNs);
      if (refused !== undefined) {
        err(`kiotrace: ${refused}\n`);
        return 2;
      }
      const { prepareRun } = await import('./run.js');
      const crashAtNs = cmd.crashAtNs ?? loaded.scenario.crashAtNs;
      if (crashAtNs !== undefined && crashAtNs > durationNs) {
        const { formatNs } = await import('./units.js');
        err(`kiotrace: the crash at ${formatNs(crashAtNs)} is after the run's end (${formatNs(durationNs)}); crash within the run (--crash-at, or --duration longer)\n`);
        return 2;
      }
      const m = prepareRun(loaded.scenario, { seed: cmd.seed, durationNs, ...(crashAtNs !== undefined ? { crashAtNs } : {}) });
      const stepIos = cmd.json || cmd.outputFormat !== 'normal' ? 0 : (cmd.steps ?? loaded.scenario.steps ?? 0);
      const steps = stepIos > 0 ? (await import('./steps.js')).recordSteps(m, stepIos) : undefined;
      const control = runControl(durationNs);
      let end: RunEnd;
      const exporting = x.perfetto !== undefined || x.jaeger !== undefined || x.otlpFile !== undefined || x.otlp !== undefined;
      try {
        if (exporting) {
          // the OpenTelemetry and protobuf libraries load only when a trace output is asked for
          const { runWithExports } = await import('./exports.js');
          let exportEnd: RunEnd = { kind: 'completed' };
          const outcome = await runWithExports(
            m,
            durationNs,
            loaded.scenario,
            cmd.seed,
            cmd.exports,
            async (machine, untilNs, afterSlice) => {
              exportEnd = await runMachine(machine, untilNs, { ...control.options, ...(afterSlice ? { afterSlice } : {}) });
            },
            (line) => {
              control.progress?.clear();
              err(`${line}\n`);
            },
          );
          end = exportEnd;
          for (const line of outcome.lines) err(`${line}\n`);
          if (!outcome.complete) exitCode = 1;
        } else {
          end = await runMachine(m, durationNs, control.options);
        }
      } finally {
        control.dispose();
      }
      const report = m.report(loaded.scenario.name, cmd.seed);
      if (crashAtNs !== undefined && report.crash === undefined && end.kind !== 'interrupted') {
        const { formatNs } = await import('./units.js');
        err(`kiotrace: the run ended at ${formatNs(m.env.nowNs)}, before the crash at ${formatNs(crashAtNs)}: nothing was lost\n`);
      }
      const interrupted = end.kind === 'interrupted' ? { signal: end.signal, atNs: m.env.nowNs, durationNs } : undefined;
      if (cmd.json) {
        out(`${JSON.stringify(interrupted ? { interrupted, ...report } : report, null, 2)}\n`);
      } else if (cmd.outputFormat !== 'normal') {
        const { formatFioJson } = await import('./fio-json.js');
        const { formatNs } = await import('./units.js');
        // stdout stays one JSON document: the stop is said on stderr and recorded under "kiotrace"
        if (interrupted) err(`kiotrace: interrupted by ${interrupted.signal} at ${formatNs(interrupted.atNs)} of ${formatNs(durationNs)} simulated; the report covers the time simulated so far\n`);
        out(formatFioJson(report, { version: readVersion(packageRoot()), plus: cmd.outputFormat === 'json+', ...(interrupted ? { interrupted } : {}) }));
      } else {
        const { formatReport } = await import('./summary.js');
        const { formatNs } = await import('./units.js');
        if (interrupted) out(`kiotrace: interrupted by ${interrupted.signal} at ${formatNs(interrupted.atNs)} of ${formatNs(durationNs)} simulated; the summary covers the time simulated so far\n`);
        out(formatReport(report, { version: readVersion(packageRoot()) }));
        if (steps !== undefined) out(`\n${steps.render()}`);
      }
      if (end.kind === 'interrupted') {
        return signalExitCode(end.signal);
      }
      return exitCode;
    }
  }
}

/** The run in progress, for the stdout handler to stop when nobody reads it any more. */
let runningInterruption: Interruption | undefined;
/** The progress line of the run in progress, erased before the stop message. */
let runningProgress: ProgressLine | undefined;

/**
 * Listens for SIGINT, SIGTERM and SIGHUP from the start of a command that runs the machine: the
 * first one stops the run where it is (before it starts, if it comes during setup), a second
 * exits at once.
 */
function listenForStopSignals(): Interruption {
  const interruption = new Interruption(
    process,
    (code) => process.exit(code),
    (signal) => {
      runningProgress?.clear();
      err(`kiotrace: ${signal}: stopping at the current simulated time and keeping the results (again to quit at once)\n`);
    },
  );
  if (streamGone.stdout) interruption.requestStop();
  runningInterruption = interruption;
  return interruption;
}

/**
 * Signal handling and the progress line for one run: the first Ctrl-C (SIGTERM, SIGHUP) stops
 * the simulation at the current simulated time and the run ends as it normally does; a second
 * exits at once. The progress line shows only on a terminal's stderr.
 */
function runControl(durationNs: number): { readonly options: RunLoopOptions; readonly progress: ProgressLine | undefined; dispose(): void } {
  const progress = process.stderr.isTTY ? new ProgressLine(process.stderr, durationNs) : undefined;
  runningProgress = progress;
  const interruption = runningInterruption ?? listenForStopSignals();
  return {
    options: { interruption, ...(progress ? { progress } : {}) },
    progress,
    dispose: () => {
      interruption.dispose();
      runningInterruption = undefined;
      runningProgress = undefined;
    },
  };
}

/** The host, for system() and cat() under --unsafe: the only way a script reaches outside the simulation. */
function hostAccess(): HostAccess {
  return {
    run(command) {
      try {
        return execSync(command, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      } catch (e) {
        // a failing command still prints what it wrote, as system() does
        const stdout = (e as { stdout?: unknown }).stdout;
        return typeof stdout === 'string' ? stdout : '';
      }
    },
    readFile(path) {
      // cat() prints at most max_cat_bytes (10240) characters: a bounded read, never waiting on a FIFO
      const text = readHostFile(path, CAT_READ_BYTES);
      return typeof text === 'string' ? { ok: true, text } : { ok: false, reason: text.reason };
    },
  };
}

/** `kiotrace -e PROGRAM` / `kiotrace FILE.bt`: run a program against a scenario. */
async function runProgram(cmd: Extract<Command, { kind: 'script' }>): Promise<number> {
  let text: string;
  if (cmd.program !== undefined) text = cmd.program;
  // `kiotrace -`: the program on standard input, as bpftrace reads it
  else if (cmd.file === '-') text = readFileSync(0, 'utf8');
  else {
    const read = readTextFile(cmd.file!, { what: 'a script', maxBytes: MAX_SCRIPT_BYTES, instead: 'give a .bt file', strerror: true });
    if (typeof read !== 'string') {
      err(`ERROR: failed to open file '${printable(cmd.file!)}': ${read.reason}\n`);
      return 2;
    }
    text = read;
  }
  if (cmd.outFile !== undefined) {
    const inputs = [...(cmd.file !== undefined ? [{ what: 'the script', path: cmd.file }] : []), ...(await scenarioInput(cmd.scenario))];
    const refusal = outputsRefused([{ flag: '-o', path: cmd.outFile }], 'in-place', inputs);
    if (refusal !== undefined) {
      // like bpftrace, an -o FILE that cannot be written is refused before tracing anything
      err(`${'problem' in refusal ? `ERROR: Failed to open output file: ${cmd.outFile}: ${refusal.problem}` : refusalText(refusal, 'the output')}\n`);
      return 2;
    }
  }
  const { loadScenario, renderDiagnostic } = await import('./scenario.js');
  const load = await loadOptions(cmd);
  if (load === undefined) return 2;
  const loaded = loadScenario(cmd.scenario, join(packageRoot(), 'traces', 'scenarios'), load);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) err(`${renderDiagnostic(d)}\n`);
    return 2;
  }
  const durationNs = cmd.durationNs ?? loaded.scenario.durationNs;
  if (cmd.tui) return runProgramLive(cmd, text, loaded.scenario, durationNs, load);
  const { prepareRun } = await import('./run.js');
  const { startScript } = await import('../probes/script.js');
  const m = prepareRun(loaded.scenario, { seed: cmd.seed, durationNs });
  // -o FILE is opened at the first output, after the program compiled: a mistake keeps the old file
  const file = cmd.outFile !== undefined ? new StreamedFile(cmd.outFile) : undefined;
  const control = runControl(durationNs);
  try {
    const started = startScript(m, {
      sourceName: cmd.program !== undefined || cmd.file === '-' ? 'stdin' : cmd.file!,
      text,
      format: cmd.format,
      positional: cmd.positional,
      unsafe: cmd.unsafe,
      ...(cmd.unsafe ? { host: hostAccess() } : {}),
      quiet: cmd.quiet,
      verbose: cmd.verbose,
      dryRun: cmd.dryRun,
      // strftime's dates: --epoch, else the run starts now on the wall clock, as bpftrace's would
      epochNs: cmd.epochNs ?? BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n,
      noWarnings: cmd.noWarnings,
      ...(process.env['BPFTRACE_DUMMY_TS_MAP'] !== undefined ? { dummyTsMap: process.env['BPFTRACE_DUMMY_TS_MAP'] } : {}),
      ...(process.env['__BPFTRACE_NOTIFY_PROBES_ATTACHED'] !== undefined ? { notifyProbesAttached: true } : {}),
      ...(cmd.probeFilter !== undefined ? { probeFilter: cmd.probeFilter } : {}),
      durationNs,
      write: (t, stream) => {
        control.progress?.clear();
        if (stream === 'stderr') err(t);
        else if (file !== undefined) file.write(t);
        else out(t);
      },
    });
    let result: { readonly exitCode: number };
    if ('finish' in started) {
      await runMachine(m, m.env.nowNs + durationNs, { ...control.options, ...(file ? { afterSlice: async () => file.flush() } : {}) });
      // bpftrace on Ctrl-C: END probes run, the maps print, exit 0
      result = started.finish();
    } else {
      result = started;
    }
    if (file !== undefined && result.exitCode !== 2) {
      const problem = file.close();
      if (problem !== undefined) {
        err(`ERROR: -o ${file.path}: ${problem}; ${file.bytesLost} bytes of output were not written\n`);
        return 1;
      }
    }
    return result.exitCode;
  } finally {
    control.dispose();
  }
}

/** The scenario file a run reads (a shipped one too: an output must not overwrite it either). */
async function scenarioInput(scenario: string): Promise<{ what: string; path: string }[]> {
  const { scenarioFile } = await import('./scenario.js');
  return [{ what: 'the scenario', path: scenarioFile(scenario, join(packageRoot(), 'traces', 'scenarios')).file }];
}

interface Output {
  readonly flag: string;
  readonly path: string;
}

type OutputRefusal =
  | { readonly output: Output; readonly problem: string }
  | { readonly output: Output; readonly input: { readonly what: string; readonly path: string } }
  | { readonly output: Output; readonly other: Output };

/**
 * The first output that cannot be written, or that is an input or another output: the same file
 * by its target or its inode, so through symlinks and hard links too. Found before anything is
 * run or written.
 */
function outputsRefused(outputs: readonly Output[], how: 'in-place' | 'replaced', inputs: readonly { what: string; path: string }[]): OutputRefusal | undefined {
  for (const [i, output] of outputs.entries()) {
    const problem = outputProblem(output.path, how);
    if (problem !== undefined) return { output, problem };
    const input = inputs.find((x) => existsSync(x.path) && sameFile(output.path, x.path));
    if (input !== undefined) return { output, input };
    const other = outputs.slice(0, i).find((o) => sameFile(output.path, o.path));
    if (other !== undefined) return { output, other };
  }
  return undefined;
}

/** A refusal as its message, for outputs written by `what` (the output, the trace). */
function refusalText(r: OutputRefusal, what: string): string {
  const { flag, path } = r.output;
  if ('problem' in r) return `ERROR: ${flag}: cannot write "${path}": ${r.problem}`;
  if ('input' in r) return `ERROR: ${flag} ${path} would overwrite ${r.input.what} ${r.input.path}; write ${what} to another file`;
  return `ERROR: ${flag} ${path} is the file ${r.other.flag} ${r.other.path} writes too; give each output its own file`;
}

/** `-e PROGRAM --tui`: check the program (errors exit 2 as without --tui), then the live view with it. */
async function runProgramLive(cmd: Extract<Command, { kind: 'script' }>, text: string, scenario: Scenario, durationNs: number, load: LoadOptions): Promise<number> {
  const { prepareRun } = await import('./run.js');
  const { runScript } = await import('../probes/script.js');
  const sourceName = cmd.program !== undefined ? 'stdin' : cmd.file!;
  const check = runScript(prepareRun(scenario, { seed: cmd.seed, durationNs }), {
    sourceName,
    text,
    format: 'text',
    positional: cmd.positional,
    unsafe: false,
    quiet: true,
    verbose: false,
    dryRun: true,
    durationNs,
    write: (t, stream) => {
      if (stream === 'stderr') err(t);
    },
  });
  if (check.exitCode !== 0) return check.exitCode;
  if (cmd.unsafe) err('kiotrace: --unsafe is ignored with --tui: system() and cat() would write over the screen\n');
  const { runTop } = await import('./top/run-top.js');
  return runTop({
    scenario: cmd.scenario,
    scenariosDir: join(packageRoot(), 'traces', 'scenarios'),
    seed: cmd.seed,
    durationNs,
    speed: 1,
    script: { text, sourceName, positional: cmd.positional },
    load,
  });
}

/**
 * How the scenario is read: --machine FILE loaded (its problems printed: undefined, exit 2),
 * --directory, and the environment a job file's ${VAR} expands from.
 */
async function loadOptions(flags: ScenarioFlags): Promise<LoadOptions | undefined> {
  let machine: MachineSpec | undefined;
  if (flags.machineFile !== undefined) {
    const { loadMachineFile, renderDiagnostic } = await import('./scenario.js');
    const read = loadMachineFile(flags.machineFile);
    if (!read.ok) {
      for (const d of read.diagnostics) err(`${renderDiagnostic(d)}\n`);
      return undefined;
    }
    machine = read.machine;
  }
  return { env: { ...process.env }, ...(machine !== undefined ? { machine } : {}), ...(flags.directory !== undefined ? { directory: flags.directory } : {}) };
}

// `kiotrace run | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  streamGone.stdout = true;
  // `kiotrace ... | head`: the reader chose to stop reading; the run ends there as a normal end
  // does (its files closed, its exit status its own), with nothing more on stdout
  if (e.code === 'EPIPE') runningInterruption?.requestStop();
  else {
    // output was lost (a full disk...): the command fails, as coreutils' do, whenever this comes
    stdoutLost = true;
    if (process.exitCode === 0) process.exitCode = 1;
    err(`kiotrace: cannot write to standard output: ${fsErrorText(e)}\n`);
  }
});
process.stderr.on('error', () => {
  streamGone.stderr = true;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = stdoutLost && code === 0 ? 1 : code;
  },
  (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    err(`kiotrace: internal error: ${message.split('\n')[0]!}\n`);
    process.exitCode = 1;
  },
);
