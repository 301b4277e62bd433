// Models: the tools a scenario event runs for the print spooler and for raw device access, as
// rows of core/userspace/commands.ts's table: lp and lpr fed by a pipe (`echo TEXT | lp`,
// `yes TEXT | head -c N | lp -t title`), lpq, lprm, lpc stop/start, cupsdisable/cupsenable,
// devmem2, sh's `echo TEXT > PATH`, and sudo in front of any of them: events run in a root shell
// (every capability); `sudo -u USER ...` runs one as an ordinary user (no capabilities), who
// prints under their own name, may remove only their own jobs and may not stop a printer.
// SIMPLIFICATION: a pipeline's producer (echo TEXT, yes TEXT | head -c N) is no process of its own:
// its output is the document lp reads, as if the pipe had already been filled.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { CAP_FULL_SET } from '../kernel/capability.js';
import { parsedCommand, type CommandResult, type UserCommand } from './commands.js';
import { sysExecve } from '../fs/exec.js';
import { strerror } from '../uapi/errno.js';
import { sysClose, sysMmap, sysOpenat, AT_FDCWD } from '../fs/open.js';
import { sysWrite } from '../fs/read_write.js';
import { O } from '../fs/types.js';
import { MAP, PROT } from '../mm/mmap.js';
import { PAGE_SIZE } from '../mm/mm_types.js';
import { lprSubmit, type PrintQueue } from './lpd.js';
import { devmem2 } from './devmem2.js';

/** CPU time of a command's own work (parsing its arguments, formatting what it prints). */
const COMMAND_NS = 20_000;
/** The superuser: events run as root unless `sudo -u USER` says otherwise. */
export const ROOT = 'root';

/** A parsed command line. */
export type Command =
  | { readonly kind: 'lp'; readonly program: 'lp' | 'lpr'; readonly dest: string | undefined; readonly title: string; readonly owner: string | undefined; readonly data: Uint8Array }
  | { readonly kind: 'lpq'; readonly dest: string | undefined }
  | { readonly kind: 'lprm'; readonly dest: string | undefined; readonly jobs: readonly number[] }
  | { readonly kind: 'queue'; readonly program: string; readonly enable: boolean; readonly dest: string }
  | { readonly kind: 'devmem2'; readonly addr: number }
  /** `echo TEXT > PATH`: the shell opens PATH (O_WRONLY|O_CREAT|O_TRUNC) and echo writes to it. */
  | { readonly kind: 'redirect'; readonly path: string; readonly data: Uint8Array };

export interface CommandLine {
  readonly text: string;
  /** Who runs it: root (every capability), or the ordinary user `sudo -u` names (none). */
  readonly user: string;
  readonly command: Command;
}

/** Splits a command line into words and `|`, honouring '...' and "..." quoting. */
function words(line: string): string[] | string {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === "'" || ch === '"') {
      const end = line.indexOf(ch, i + 1);
      if (end < 0) return `unterminated ${ch} quote`;
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '|' || ch === '>') {
      if (inWord) out.push(cur);
      out.push(ch);
      cur = '';
      inWord = false;
    } else if (ch === ' ' || ch === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/** head -c's byte counts: N, or N with K (1024), M, KB (1000), MB. */
function parseCount(s: string): number | undefined {
  const m = /^(\d+)(K|k|M|m|KB|kB|MB)?$/.exec(s);
  if (!m) return undefined;
  const mult = { K: 1024, k: 1024, M: 1024 ** 2, m: 1024 ** 2, KB: 1000, kB: 1000, MB: 1000 ** 2 }[m[2] ?? ''] ?? 1;
  const n = Number(m[1]) * mult;
  return n > 0 && n <= 16 * 1024 ** 2 ? n : undefined;
}

const encoder = new TextEncoder();

/** The bytes a pipeline's producer writes: `echo TEXT...` or `yes TEXT... | head -c N`. */
function producerOutput(stages: string[][]): Uint8Array | string {
  const first = stages[0]!;
  if (first[0] === 'echo' && stages.length === 1) return encoder.encode(`${first.slice(1).join(' ')}\n`);
  if (first[0] === 'yes') {
    const head = stages[1];
    const n = stages.length === 2 && head?.[0] === 'head' && head[1] === '-c' && head.length === 3 ? parseCount(head[2]!) : undefined;
    if (n === undefined) return 'yes must be cut short by `head -c N` (N bytes, at most 16M), like `yes hello | head -c 2K | lp`';
    const line = encoder.encode(`${first.length > 1 ? first.slice(1).join(' ') : 'y'}\n`);
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += line.length) out.set(line.subarray(0, Math.min(line.length, n - off)), off);
    return out;
  }
  return 'the document comes from `echo TEXT` or `yes TEXT | head -c N` piped into lp or lpr';
}

/** Reads `-x value` options from `args`; the rest are operands. */
function options(args: readonly string[], valued: readonly string[]): { opts: Map<string, string>; operands: string[] } | string {
  const opts = new Map<string, string>();
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-') && a.length > 1 && !/^-?\d+$/.test(a)) {
      const name = a.slice(0, 2);
      if (!valued.includes(name)) return `unknown option ${a}`;
      const value = a.length > 2 ? a.slice(2) : args[++i];
      if (value === undefined) return `option ${name} needs a value`;
      opts.set(name, value);
    } else {
      operands.push(a);
    }
  }
  return { opts, operands };
}

const KNOWN = 'lp, lpr, lpq, lprm, lpc, cupsdisable, cupsenable, devmem2, echo TEXT > PATH (each may follow sudo)';

/** sh's `echo TEXT > PATH`: the shell opens the file, echo writes its line, the shell closes it. */
function* echoTo(k: Kernel, task: Task, path: string, data: Uint8Array, print: (line: string) => void): Generator<number, void, void> {
  const fd = yield* sysOpenat(k, task, AT_FDCWD, path, O.WRONLY | O.CREAT | O.TRUNC, 0o666);
  if (fd < 0) {
    print(`sh: 1: cannot create ${path}: ${strerror(fd)}`);
    task.exitCode = 2;
    return;
  }
  const buf = yield* sysMmap(k, task, 0, PAGE_SIZE, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
  task.mm!.userBytes.set(buf, data);
  const ret = yield* sysWrite(k, task, fd, buf, data.length);
  if (ret < 0) {
    print(`sh: echo: I/O error: ${strerror(ret)}`);
    task.exitCode = 1;
  }
  yield* sysClose(k, task, fd);
}

/** A leading `sudo [-u USER]`: who runs the rest (root without -u); `user` when there is none. */
function sudo(w: readonly string[], user: string): { user: string; rest: string[] } | string {
  if (w[0] !== 'sudo') return { user, rest: [...w] };
  const asUser = w[1] === '-u';
  const name = asUser ? w[2] : ROOT;
  if (name === undefined || !/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) return 'needs a user name after -u, like `sudo -u alice lpq`';
  const rest = w.slice(asUser ? 3 : 1);
  if (rest.length === 0 || rest[0] === '|') return 'needs a command to run, like `sudo -u alice lpq`';
  return { user: name, rest };
}

/** Parses a scenario command line; a string says what is wrong with it. */
export function parseCommand(text: string): CommandLine | string {
  const all = words(text);
  if (typeof all === 'string') return all;
  const front = sudo(all, ROOT);
  if (typeof front === 'string') return front;
  let user = front.user;
  const w = front.rest;
  const redirect = w.indexOf('>');
  if (redirect >= 0) {
    const path = w[redirect + 1];
    if (w[0] !== 'echo' || redirect !== w.length - 2 || path === undefined || !path.startsWith('/') || w.includes('|')) return 'a redirection here is `echo TEXT > /absolute/path`';
    if (path.startsWith('/sys/') || path.startsWith('/proc/')) return `writes ${path} as an event of its own: {"at": "...", "write": "${path}", "value": "${w.slice(1, redirect).join(' ')}"}`;
    return { text, user, command: { kind: 'redirect', path, data: encoder.encode(`${w.slice(1, redirect).join(' ')}\n`) } };
  }
  const stages: string[][] = [[]];
  for (const word of w) {
    if (word === '|') stages.push([]);
    else stages[stages.length - 1]!.push(word);
  }
  if (stages.some((s) => s.length === 0)) return 'empty command (a | with nothing on one side?)';
  // the command at the end of a pipe may run under sudo of its own
  const tail = sudo(stages[stages.length - 1]!, user);
  if (typeof tail === 'string') return tail;
  user = tail.user;
  stages[stages.length - 1] = tail.rest;
  const last = tail.rest;
  const program = last[0]!;
  const args = last.slice(1);
  if (program === 'lp' || program === 'lpr') {
    if (stages.length === 1) return `reads its document from a pipe here: \`echo hello | ${program}\` or \`yes hello | head -c 2K | ${program}\``;
    const data = producerOutput(stages.slice(0, -1));
    if (typeof data === 'string') return data;
    // lp: -d dest -t title -U user; lpr: -P dest -J/-T title -U user
    const o = options(args, program === 'lp' ? ['-d', '-t', '-U'] : ['-P', '-J', '-T', '-U']);
    if (typeof o === 'string') return o;
    if (o.operands.length > 0) return `prints its standard input here; no file operands (got ${o.operands.join(' ')})`;
    const dest = o.opts.get(program === 'lp' ? '-d' : '-P');
    const title = o.opts.get('-t') ?? o.opts.get('-J') ?? o.opts.get('-T') ?? (program === 'lp' ? '(stdin)' : '(standard input)');
    return { text, user, command: { kind: 'lp', program, dest, title, owner: o.opts.get('-U'), data } };
  }
  if (stages.length > 1) return `only lp and lpr read a pipe (got ${program})`;
  if (program === 'lpq') {
    const o = options(args, ['-P']);
    if (typeof o === 'string') return o;
    return { text, user, command: { kind: 'lpq', dest: o.opts.get('-P') } };
  }
  if (program === 'lprm') {
    const o = options(args, ['-P']);
    if (typeof o === 'string') return o;
    const jobs = o.operands.map(Number);
    if (jobs.length === 0 || jobs.some((j) => !Number.isInteger(j) || j <= 0)) return 'needs the numbers of the jobs to remove (as lpq lists them), like `lprm 2`';
    return { text, user, command: { kind: 'lprm', dest: o.opts.get('-P'), jobs } };
  }
  if (program === 'cupsdisable' || program === 'cupsenable') {
    const o = options(args, []);
    if (typeof o === 'string' || o.operands.length !== 1) return `names one printer, like \`${program} lp0\``;
    return { text, user, command: { kind: 'queue', program, enable: program === 'cupsenable', dest: o.operands[0]! } };
  }
  if (program === 'lpc') {
    if (args.length !== 2 || (args[0] !== 'stop' && args[0] !== 'start')) return 'here is `lpc stop PRINTER` or `lpc start PRINTER`';
    return { text, user, command: { kind: 'queue', program: `lpc ${args[0]}`, enable: args[0] === 'start', dest: args[1]! } };
  }
  if (program === 'devmem2') {
    const addr = args.length === 1 ? Number(args[0]) : NaN;
    if (!Number.isSafeInteger(addr) || addr < 0) return 'takes one physical address, like `devmem2 0x380000000000`';
    return { text, user, command: { kind: 'devmem2', addr } };
  }
  return `cannot run ${JSON.stringify(program)} here; the tools: ${KNOWN}`;
}

/** Runs a parsed command line in `task`: what it printed, and its exit status. */
export function* runTool(k: Kernel, task: Task, line: CommandLine): Generator<number, CommandResult, void> {
  const lines: string[] = [];
  yield* toolBody(k, task, line, (text) => lines.push(text));
  return { exitStatus: task.exitCode, output: lines.join('\n') };
}

function* toolBody(k: Kernel, task: Task, line: CommandLine, print: (text: string) => void): Generator<number, void, void> {
  task.capEffective = line.user === ROOT ? CAP_FULL_SET : 0;
  const c = line.command;
  // the shell (and sudo) exec the tool: the process takes its name
  task.comm = c.kind === 'lp' ? c.program : c.kind === 'queue' ? c.program.split(' ')[0]! : c.kind === 'redirect' ? 'sh' : c.kind;
  const words = line.text.trim().split(/\s+/);
  yield* sysExecve(k, task, `/usr/bin/${task.comm}`, words[0] === 'sudo' ? words.slice(1) : words);
  yield COMMAND_NS;
  if (c.kind === 'devmem2') {
    yield* devmem2(k, task, c.addr, k.devMem, print);
    return;
  }
  if (c.kind === 'redirect') {
    yield* echoTo(k, task, c.path, c.data, print);
    return;
  }
  const spool = k.spool;
  const dest = c.kind === 'queue' ? c.dest : c.dest;
  const q: PrintQueue | undefined = dest === undefined ? spool?.defaultQueue : spool?.queue(dest);
  if (!spool || !q) {
    print(`${task.comm}: ${dest === undefined ? 'no default destination' : `The printer or class "${dest}" does not exist`}`);
    task.exitCode = 1;
    return;
  }
  const user = line.user;
  const root = user === ROOT;
  switch (c.kind) {
    case 'lp': {
      const job = yield* lprSubmit(k, task, spool, q, c.owner ?? user, c.title, c.data);
      if (typeof job === 'number') {
        print(`${c.program}: ${q.spoolDir}: ${strerror(job)}`);
        task.exitCode = 1;
      } else if (c.program === 'lp') {
        print(`request id is ${q.printer}-${job.id} (0 file(s))`);
      }
      return;
    }
    case 'lpq':
      for (const l of spool.lpq(q)) print(l);
      return;
    case 'lprm':
      // a user removes their own jobs; root removes anyone's
      for (const id of c.jobs) {
        const r = spool.lprm(task, q, id, root ? undefined : user);
        for (const l of r.lines) print(l);
        if (!r.ok) task.exitCode = 1;
      }
      return;
    case 'queue':
      // stopping and starting a printer is the administrator's (lpc: root; CUPS: lpadmin)
      if (!root) {
        print(c.program.startsWith('lpc') ? '?Privileged command' : `${c.program}: Forbidden`);
        task.exitCode = 1;
      } else if (c.enable) spool.enable(task, q);
      else spool.disable(task, q);
      return;
  }
}

/** A table row for each tool: its check parses the whole line at load, its run does it. */
function tool(name: string, usage: string): UserCommand {
  return parsedCommand(name, usage, (args) => parseCommand([name, ...args].join(' ')), (k, task, r) => runTool(k, task, r));
}

/** The spooler's tools, devmem2, echo/yes pipelines and sudo, for core/userspace/commands.ts. */
export const SPOOL_TOOLS: readonly UserCommand[] = [
  tool('lp', 'TEXT-PRODUCER | lp [-d printer] [-t title] [-U user]'),
  tool('lpr', 'TEXT-PRODUCER | lpr [-P printer] [-J title] [-U user]'),
  tool('lpq', 'lpq [-P printer]'),
  tool('lprm', 'lprm [-P printer] JOB...'),
  tool('lpc', 'lpc stop|start PRINTER'),
  tool('cupsdisable', 'cupsdisable PRINTER'),
  tool('cupsenable', 'cupsenable PRINTER'),
  tool('devmem2', 'devmem2 ADDRESS'),
  tool('echo', 'echo TEXT | lp ... or echo TEXT > PATH'),
  tool('yes', 'yes TEXT | head -c N | lp ...'),
  tool('sudo', 'sudo [-u USER] COMMAND'),
];
