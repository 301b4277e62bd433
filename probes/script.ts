// Running a bpftrace-style program against a machine: parse, compile, attach, fire begin probes,
// run the simulation (interval probes on the simulated clock), then end probes and the exit map
// dump, as bpftrace's BPFtrace::run does. Output goes through a writer the caller provides.

import { KernelStacks } from './kstack.js';
import { Priority, type Machine, type ProbeHit } from '../core/index.js';
import { SourceFile } from './lang/source.js';
import { parse } from './lang/parser.js';
import { hasErrors, renderDiagnostics, type Diagnostic } from './lang/diagnostics.js';
import { compileProgram, FIRING_BUDGET, formatDuration, type CompiledProbe, type ExecCtx, type HostAccess, type ScriptRuntime } from './lang/compile.js';
import { MapStore } from './lang/maps.js';
import { createSink, printMapsAtExit, printNonEmptyMaps } from './lang/output.js';
import { RepeatingWarnings } from './lang/warnings.js';

export interface ScriptOptions {
  /** `stdin` for -e, else the script's path (as diagnostics print it). */
  readonly sourceName: string;
  readonly text: string;
  readonly format: 'text' | 'json';
  readonly positional: readonly string[];
  readonly unsafe: boolean;
  /** The host machine for system()/cat(); given only with --unsafe. */
  readonly host?: HostAccess;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly dryRun: boolean;
  /** --no-warnings: compile-time and run-time warnings are not printed (bpftrace's flag). */
  readonly noWarnings?: boolean;
  /** Simulated time to run when the program does not exit by itself. */
  readonly durationNs: number;
  /** Wall-clock ns that simulated t=0 stands for (strftime's dates); 1970-01-01 when not given. */
  readonly epochNs?: bigint;
  /** __BPFTRACE_NOTIFY_PROBES_ATTACHED: say so on stdout once the probes are attached (bpftrace's test hook). */
  readonly notifyProbesAttached?: boolean;
  /** --probe-filter: a regular expression over probe names; only matching probes (and BEGIN/END) run. */
  readonly probeFilter?: string;
  /** BPFTRACE_DUMMY_TS_MAP: tseries() reads its time from this scalar map (bpftrace's test hook). */
  readonly dummyTsMap?: string;
  write(text: string, stream: 'stdout' | 'stderr'): void;
}

export interface ScriptResult {
  /** 0 ok (or exit(code)), 1 stopped for running more than the simulation can keep up with, 2 script error. */
  readonly exitCode: number;
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Instructions (statements) all firings together may run per simulated second, and for the first
 * one. Each firing has its own budget; this one is for a program whose probes fire often and each
 * use much of it: the simulation would crawl (hours for a 2s scenario), so the program is stopped.
 * A busy real one (300000 firings a second of a few statements) needs a tenth of it.
 */
export const RUN_BUDGET_PER_SIM_SECOND = 20_000_000;

/**
 * Lines of the maps the live view is given, more than a terminal has rows: the rest is never
 * shown, so never built (a map of 20000 long keys is 160 MB of text, asked for ten times a second).
 */
export const LIVE_MAP_LINES = 500;
/** Characters kept of one such line, more than a terminal has columns. */
export const LIVE_MAP_LINE_CHARS = 1000;

/** The first LIVE_MAP_LINES lines of `pieces`, each cut to LIVE_MAP_LINE_CHARS characters (never inside a surrogate pair), newline-terminated. */
function firstLines(pieces: Iterable<string>): string {
  const lines: string[] = [];
  let partial = '';
  for (const piece of pieces) {
    const parts = (partial + piece).split('\n');
    partial = parts.pop()!.slice(0, LIVE_MAP_LINE_CHARS + 1);
    for (const line of parts) {
      lines.push(line);
      if (lines.length === LIVE_MAP_LINES) break;
    }
    if (lines.length === LIVE_MAP_LINES) break;
  }
  if (partial !== '' && lines.length < LIVE_MAP_LINES) lines.push(partial);
  const cut = (line: string): string => {
    if (line.length <= LIVE_MAP_LINE_CHARS) return line;
    const end = (line.charCodeAt(LIVE_MAP_LINE_CHARS - 1) & 0xfc00) === 0xd800 ? LIVE_MAP_LINE_CHARS - 1 : LIVE_MAP_LINE_CHARS;
    return line.slice(0, end);
  };
  return lines.map((l) => cut(l) + '\n').join('');
}

/** The comm and pid begin/end/interval probes report: kiotrace itself, as bpftrace reports bpftrace. */
const SELF_COMM = 'kiotrace';
const SELF_PID = 1;

/** A program compiled and attached to a machine that the caller runs (the live view does). */
export interface AttachedScript {
  /** exit() was called: the caller should stop running the machine. */
  readonly exited: () => boolean;
  /**
   * The program's maps now, in bpftrace's text or JSON format (print() of every non-empty map),
   * their first LIVE_MAP_LINES lines of at most LIVE_MAP_LINE_CHARS characters: what a screen can show.
   */
  readonly maps: () => string;
  /** Detaches, fires end probes, prints the maps as bpftrace does at exit. */
  readonly finish: () => ScriptResult;
}

/**
 * Parses and compiles `opts.text` against `m` (booted, jobs started, not yet run) and runs it.
 * Returns the exit code; never throws on script mistakes.
 */
export function runScript(m: Machine, opts: ScriptOptions): ScriptResult {
  const started = startScript(m, opts);
  if (!('finish' in started)) return started;
  m.run(m.env.nowNs + opts.durationNs);
  return started.finish();
}

/**
 * The first half of runScript: compiles, fires begin probes, attaches. Returns a result when
 * there is nothing to run (errors, --dry-run, a begin-only program); else the attached script.
 */
export function startScript(m: Machine, opts: ScriptOptions): ScriptResult | AttachedScript {
  const source = new SourceFile(opts.sourceName, opts.text);
  const parsed = parse(source);
  const fail = (diags: readonly Diagnostic[]): ScriptResult => {
    opts.write(renderDiagnostics(diags, source), 'stderr');
    return { exitCode: 2, diagnostics: diags };
  };
  if (!parsed.program || hasErrors(parsed.diagnostics)) return fail(parsed.diagnostics);

  const sink = createSink(opts.format);
  let exitCode: number | undefined;
  let stacks: KernelStacks | undefined;
  let maxMapKeys = 4096;
  let printMaps = true;
  for (const c of parsed.program.config) {
    if (c.key === 'max_map_keys' && c.value.kind === 'int') maxMapKeys = Number(c.value.value);
    if (c.key === 'print_maps_on_exit' && (c.value.kind === 'int' || c.value.kind === 'bool')) printMaps = Boolean(c.value.value);
  }
  // bpftrace warns on every refused update; a hot probe on a full map made hundreds of MB of
  // stderr. Each warning is printed once, and the end of the run says how many there were.
  const warnings = new RepeatingWarnings(sink, (text) => {
    if (opts.noWarnings !== true) opts.write(text, sink.diagnosticStream);
  });
  const rt: ScriptRuntime = {
    sink,
    warnings,
    store: new MapStore({ maxMapKeys, warnings }),
    write: (text, stream) => {
      if (text) opts.write(text, stream);
    },
    exit: (code) => {
      if (exitCode === undefined) exitCode = code;
      m.env.stop();
    },
    startNs: m.env.nowNs,
    kstack: (c, limit) => {
      if (stacks === undefined) return KernelStacks.format([], limit);
      if (c.hit) return KernelStacks.format(stacks.framesAtHit(c.hit), limit, KernelStacks.stopsAtEntry(c.hit));
      return KernelStacks.format(c.sampledCpu ? stacks.framesOnCpu(c.sampledCpu) : [], limit);
    },
  };
  let probeFilter: RegExp | undefined;
  if (opts.probeFilter !== undefined) {
    try {
      probeFilter = new RegExp(opts.probeFilter);
    } catch (e) {
      opts.write(`ERROR: Invalid --probe-filter regex: ${opts.probeFilter} (${e instanceof Error ? e.message : String(e)})\n`, 'stderr');
      return { exitCode: 1, diagnostics: [] };
    }
  }
  const compiled = compileProgram(parsed.program, m, rt, {
    ...(probeFilter !== undefined ? { probeFilter } : {}),
    positional: opts.positional,
    unsafe: opts.unsafe,
    ...(opts.host ? { host: opts.host } : {}),
    ...(opts.epochNs !== undefined ? { epochNs: opts.epochNs } : {}),
    ...(opts.dummyTsMap !== undefined ? { dummyTsMap: opts.dummyTsMap } : {}),
    ...(opts.noWarnings === true ? { noWarnings: true } : {}),
    source,
  });
  const compileWarnings = compiled.diagnostics.filter((d) => d.severity === 'warning');
  if (hasErrors(compiled.diagnostics)) return fail([...parsed.diagnostics, ...compiled.diagnostics]);
  if (probeFilter !== undefined && compiled.probes.length === 0 && compiled.unattachable.length === 0) {
    // bpftrace's prerun: nothing left to attach once --probe-filter has chosen (stdout, exit 1)
    if (!opts.quiet) opts.write('No probes to attach\n', 'stdout');
    return { exitCode: 1, diagnostics: compiled.diagnostics };
  }
  if (compileWarnings.length > 0 && opts.noWarnings !== true) opts.write(renderDiagnostics(compileWarnings, source), 'stderr');

  // bpftrace attaches every probe before BEGIN: one it cannot attach stops the program (exit 1),
  // or, under missing_probes = "warn", is skipped with a warning
  for (const u of compiled.unattachable) {
    if (u.fatal) {
      opts.write(`ERROR: Unable to attach probe: ${u.probe}. If this is expected, set the 'missing_probes' config variable to 'warn'.\n`, 'stderr');
      return { exitCode: 1, diagnostics: compiled.diagnostics };
    }
    if (opts.noWarnings !== true) opts.write(`WARNING: Unable to attach probe: ${u.probe}. Skipping.\n`, 'stderr');
  }
  const begin = compiled.probes.filter((p) => p.special?.kind === 'begin');
  const end = compiled.probes.filter((p) => p.special?.kind === 'end');
  const traced = compiled.probes.filter((p) => p.special === undefined);
  const intervals = compiled.probes.filter((p) => p.special?.kind === 'interval' || p.special?.kind === 'profile');

  if (opts.verbose) {
    for (const p of compiled.probes) {
      for (const name of p.special ? [p.special.kind === 'interval' || p.special.kind === 'profile' ? p.special.raw : p.special.kind] : p.sites.map((s) => s.fullName)) {
        opts.write(`${name}\n`, 'stderr');
      }
    }
  }
  if (!opts.quiet) opts.write(sink.attachedProbes(compiled.attachCount), sink.format === 'json' ? 'stdout' : 'stderr');
  // bpftrace's runtime test framework waits for this line (stdout, after attaching, before BEGIN's output)
  if (opts.notifyProbesAttached === true) opts.write('__BPFTRACE_NOTIFY_PROBES_ATTACHED\n', 'stdout');
  if (opts.dryRun) return { exitCode: 0, diagnostics: compiled.diagnostics };
  const finishWith = (detach: readonly (() => void)[]): ScriptResult => {
    for (const d of detach) d();
    for (const p of end) fireSpecial(p, 'end', false);
    const repeated = warnings.summaries();
    if (repeated !== '' && opts.noWarnings !== true) opts.write(repeated, sink.diagnosticStream);
    for (const piece of printMapsAtExit(sink, rt.store, printMaps)) opts.write(piece, 'stdout');
    return { exitCode: exitCode ?? 0, diagnostics: compiled.diagnostics };
  };

  /** Probes without scratch variables share one (always empty) map instead of a new one per firing. */
  const noVars = new Map<string, never>();
  const selfCtx = (name: string): ExecCtx => ({
    hit: undefined,
    sampledCpu: undefined,
    probeName: name,
    nowNs: m.env.nowNs,
    cpu: 0,
    pid: SELF_PID,
    tid: SELF_PID,
    comm: SELF_COMM,
    ioId: 0,
    vars: new Map(),
    budget: FIRING_BUDGET,
  });
  /** Instructions the firings have run, and how many they may have by the current simulated time. */
  let spent = 0;
  let allowance = RUN_BUDGET_PER_SIM_SECOND;
  let runaway = false;
  /** After a firing: what it ran counts against the run's budget; over it, the program stops as exit() would stop it. */
  const charge = (ctx: ExecCtx): void => {
    spent += FIRING_BUDGET - ctx.budget;
    if (spent <= allowance) return;
    const elapsedNs = m.env.nowNs - rt.startNs;
    allowance = RUN_BUDGET_PER_SIM_SECOND * (1 + elapsedNs / 1e9);
    if (spent <= allowance || runaway) return;
    runaway = true;
    opts.write(
      sink.runtimeError(`the program was stopped at ${formatDuration(elapsedNs)} of simulated time: its probes had run ${spent} instructions, more than the simulation keeps up with (${RUN_BUDGET_PER_SIM_SECOND} per simulated second)`),
      sink.diagnosticStream,
    );
    rt.exit(1);
  };
  /** begin and interval firings count against the run's budget; end probes run after it is over. */
  const fireSpecial = (p: CompiledProbe, name: string, charged = true): void => {
    const ctx = selfCtx(name);
    p.run(ctx);
    if (charged) charge(ctx);
  };

  // exit() stops the program at once: no other probe fires after it, begin probes included
  for (const p of begin) if (exitCode === undefined) fireSpecial(p, 'begin');
  // a program with only begin/end probes exits after begin (bpftrace 0.24+)
  const onlySpecial = traced.length === 0 && intervals.length === 0;
  const detach: (() => void)[] = [];
  if (exitCode === undefined && !onlySpecial) {
    if (compiled.usesKstack) {
      // first, so a function's entry is on the stack before the script's handlers read it
      const tracker = new KernelStacks(m);
      tracker.attach();
      stacks = tracker;
      detach.push(() => tracker.detach());
    }
    for (const p of traced) {
      for (const site of p.sites) {
        // one context per site, refilled per firing: a probe body cannot fire probes itself
        const ctx: ExecCtx = { ...selfCtx(site.fullName), vars: noVars };
        detach.push(
          site.attach((hit: ProbeHit) => {
            if (runaway || exitCode !== undefined) return;
            ctx.hit = hit;
            ctx.nowNs = hit.timeNs;
            ctx.cpu = hit.cpu;
            ctx.pid = hit.pid;
            ctx.tid = hit.tid;
            ctx.comm = hit.comm;
            ctx.ioId = hit.ioId;
            ctx.vars = p.usesVars ? new Map() : noVars;
            ctx.budget = FIRING_BUDGET;
            p.run(ctx);
            charge(ctx);
          }),
        );
      }
    }
    for (const p of intervals) {
      const special = p.special;
      if (special?.kind !== 'interval' && special?.kind !== 'profile') continue;
      const period = special.periodNs;
      const name = special.raw;
      const tick = (): void => {
        if (exitCode !== undefined) return;
        if (special.kind === 'interval') fireSpecial(p, name);
        else {
          // profile: one sample per CPU, in the context of whatever that CPU is running
          for (const cpu of m.k.sched.cpus) {
            if (exitCode !== undefined) break;
            const ctx: ExecCtx = { ...selfCtx(name), sampledCpu: cpu, cpu: cpu.id, pid: cpu.pid, tid: cpu.tid, comm: cpu.comm };
            p.run(ctx);
            charge(ctx);
          }
        }
        m.env.after(period, Priority.NORMAL, tick, undefined);
      };
      m.env.after(period, Priority.NORMAL, tick, undefined);
    }
  } else {
    return finishWith(detach);
  }
  return {
    exited: () => exitCode !== undefined,
    maps: () => firstLines(printNonEmptyMaps(sink, rt.store)),
    finish: () => finishWith(detach),
  };
}
