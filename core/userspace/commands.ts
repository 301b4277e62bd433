// Models: the userspace tools a scenario event runs on the machine (coreutils' sync, and the
// tools other subsystems add: a spooler's lpq/lprm, ...), each a short-lived process whose
// output goes to the run's event log, as a shell running them at that moment would print.
// Each command is a row of USER_COMMANDS: its usage, the argument check (run at scenario load, so
// a bad command line is a located error before the run) and its body, in its own task.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { sysSync } from '../fs/sync.js';
import { SPOOL_TOOLS } from './tools.js';
import { IPERF3 } from './iperf3.js';
import { NET_PROGRAMS } from './netprogs.js';
import { RECV_TO_DISK } from './netdisk.js';
import { RR_PROGRAMS } from './rr.js';
import { URING_SEND_PROGRAMS } from './uring-send.js';

/** What a command left: its exit status and what it printed. */
export interface CommandResult {
  readonly exitStatus: number;
  readonly output: string;
}

/**
 * Where a command prints as it runs (its stdout): a long-running program's lines show in the run
 * report even when the run ends before the program does.
 */
export interface CommandOutput {
  print(text: string): void;
}

/** One tool: argv[0] is its name. */
export interface UserCommand {
  readonly name: string;
  /** The synopsis its usage message prints, e.g. "lprm JOB". */
  readonly usage: string;
  /** Why these arguments (argv without the name) cannot run, or undefined. */
  check(args: readonly string[]): string | undefined;
  /** Runs it; what it prints at exit is `output` of the result, what it printed before is on `out`. */
  run(k: Kernel, task: Task, args: readonly string[], out: CommandOutput): Generator<number, CommandResult, void>;
}

/**
 * A command whose whole line is parsed by one function, at load (check) and at run: a string is
 * what is wrong with it.
 */
export function parsedCommand<P>(
  name: string,
  usage: string,
  parse: (args: readonly string[]) => P | string,
  body: (k: Kernel, task: Task, parsed: P, out: CommandOutput) => Generator<number, CommandResult, void>,
): UserCommand {
  return {
    name,
    usage,
    check(args) {
      const p = parse(args);
      return typeof p === 'string' ? p : undefined;
    },
    *run(k, task, args, out) {
      const p = parse(args);
      if (typeof p === 'string') return { exitStatus: 2, output: `${name}: ${p}\n` };
      return yield* body(k, task, p, out);
    },
  };
}

/** coreutils sync: sync(2), nothing printed. */
const SYNC: UserCommand = {
  name: 'sync',
  usage: 'sync',
  check: (args) => (args.length === 0 ? undefined : 'takes no arguments (it writes back every file)'),
  *run(k, task) {
    yield* sysSync(k, task);
    return { exitStatus: 0, output: '' };
  },
};

/** Every command a scenario event may run. */
export const USER_COMMANDS: readonly UserCommand[] = [SYNC, ...SPOOL_TOOLS, IPERF3, ...NET_PROGRAMS, RECV_TO_DISK, ...RR_PROGRAMS, ...URING_SEND_PROGRAMS];

export function findCommand(name: string): UserCommand | undefined {
  return USER_COMMANDS.find((c) => c.name === name);
}
