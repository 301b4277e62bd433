// Models: a root shell on the machine running a scenario's events at their times: `echo VALUE >
// /sys/...` (the write(2) lands in the attribute's ->store, core/fs/sysfs.ts) or a command line
// (core/userspace/commands.ts), each in a process of its own forked from init.
// SIMPLIFICATION: the shell's fork/exec and the attribute file's open/close cost nothing; the
// write is one write(2) on fd 3.

import type { Kernel } from '../kernel/kernel.js';
import type { Task, TaskBody } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { Priority } from '../sim/engine.js';
import { SimBug } from '../sim/errors.js';
import { errnoName } from '../uapi/errno.js';
import { findAttribute } from '../fs/sysfs.js';
import { findCommand } from './commands.js';
import type { ScenarioEvent } from './job.js';
import type { EventReport } from './report.js';

/** The fd the shell's redirection opens the attribute on. */
const REDIRECT_FD = 3;

/** A shell line for an event, as the log shows it (a remote host's line after its name, as ssh would run it). */
export function eventCommandLine(e: ScenarioEvent): string {
  const line = e.kind === 'write' ? `echo ${e.value} > ${e.path}` : e.argv.join(' ');
  return e.host === undefined ? line : `${e.host}: ${line}`;
}

/** Where an event runs: the machine's kernel and how it forks a process there. */
export interface EventPlace {
  readonly k: Kernel;
  readonly spawn: (comm: string, makeBody: (t: Task) => TaskBody) => void;
}

/** Schedules each event: at its time a process runs it on its machine; the log fills as they finish. */
export function scheduleEvents(events: readonly ScenarioEvent[], placeOf: (e: ScenarioEvent) => EventPlace): EventLog {
  const log = new EventLog(events);
  events.forEach((e, i) => {
    const { k, spawn } = placeOf(e);
    const diskNames = k.queues.map((q) => q.diskName);
    k.env.at(
      e.atNs,
      Priority.NORMAL,
      () =>
        spawn(e.kind === 'write' ? 'sh' : (e.argv[0] ?? 'sh'), (task) =>
          (function* (): TaskBody {
            log.start(i);
            const done = (status: string, output: string) => log.finish(i, k.env.nowNs, status, output);
            if (e.kind === 'write') {
              const found = findAttribute(e.path, diskNames);
              if (found === undefined) throw new SimBug(`scenario event writes ${e.path}, which the loader accepted but the machine lacks`);
              syscallEnter(k, task, 'write', REDIRECT_FD, 0, e.value.length + 1);
              yield SYSCALL_ENTRY_NS;
              const err = yield* found.attribute.store(k, task, found.target, e.value);
              yield SYSCALL_EXIT_NS;
              syscallExit(k, task, 'write', err < 0 ? err : e.value.length + 1);
              done(err < 0 ? errnoName(err) : '0', '');
            } else {
              const command = findCommand(e.argv[0] ?? '');
              if (command === undefined) throw new SimBug(`scenario event runs ${e.argv[0] ?? ''}, which the loader accepted but the machine lacks`);
              const result = yield* command.run(k, task, e.argv.slice(1), { print: (text) => log.print(i, text) });
              done(String(result.exitStatus), result.output);
            }
          })(),
        ),
      0,
    );
  });
  return log;
}

/** What the events did, in the scenario's order. */
export class EventLog {
  private readonly entries: { atNs: number; doneNs: number | null; status: string; output: string; command: string }[];

  constructor(events: readonly ScenarioEvent[]) {
    this.entries = events.map((e) => ({ atNs: e.atNs, doneNs: null, status: 'not run', output: '', command: eventCommandLine(e) }));
  }

  start(index: number): void {
    const entry = this.entries[index];
    if (entry !== undefined) entry.status = 'running';
  }

  /** What a running command printed so far. */
  print(index: number, text: string): void {
    const entry = this.entries[index];
    if (entry !== undefined) entry.output += text;
  }

  finish(index: number, nowNs: number, status: string, output: string): void {
    const entry = this.entries[index];
    if (entry === undefined) return;
    entry.doneNs = nowNs;
    entry.status = status;
    entry.output += output;
  }

  report(): EventReport[] {
    return this.entries.map((e) => ({ ...e }));
  }
}
