// The print spooler through scenario events: lp spools a document through the VFS and queues it,
// the printer's daemon prints one job at a time, and the control tools list, remove, stop and
// start, with lpq's listing, lprm's ownership rule and lpc's privilege as the tools print them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, type Machine } from '../../../core/index.js';
import { parseCommand } from '../../../core/userspace/tools.js';
import { findCommand } from '../../../core/userspace/commands.js';

function machine(): Machine {
  return bootMachine({ ...DEFAULT_MACHINE, printers: [{ name: 'lp0', baud: 115200 }] }, 1);
}

/** Runs `lines` as scenario events at their times and returns what each printed. */
function runEvents(m: Machine, lines: readonly (readonly [number, string])[], untilNs: number): string[] {
  m.scheduleEvents(lines.map(([atNs, line]) => ({ kind: 'run', atNs, argv: line.split(/\s+/) })));
  m.run(untilNs);
  return (m.report('t', 1).events ?? []).map((e) => `${e.command} -> ${e.status}${e.output === '' ? '' : `: ${e.output.split('\n').join(' | ')}`}`);
}

test('the spooler lists, removes, stops and starts, and prints whole jobs one at a time', () => {
  const m = machine();
  const out = runEvents(
    m,
    [
      [0, 'yes alice | head -c 600 | sudo -u alice lp -t one'],
      [1_000_000, 'yes bob | head -c 300 | lpr -U bob -J two'],
      [2_000_000, 'yes carol | head -c 200 | sudo -u carol lp -t three'],
      [2_500_000, 'lpq'],
      [3_000_000, 'sudo -u dave lprm 2'],
      [3_100_000, 'sudo -u dave cupsdisable lp0'],
      [3_200_000, 'lpc stop lp0'],
      [4_000_000, 'sudo -u bob lprm 2'],
      [100_000_000, 'lpq'],
      [200_000_000, 'cupsenable lp0'],
      [400_000_000, 'lpq'],
    ],
    500_000_000,
  );
  assert.deepEqual(out, [
    'yes alice | head -c 600 | sudo -u alice lp -t one -> 0: request id is lp0-1 (0 file(s))',
    'yes bob | head -c 300 | lpr -U bob -J two -> 0',
    'yes carol | head -c 200 | sudo -u carol lp -t three -> 0: request id is lp0-3 (0 file(s))',
    'lpq -> 0: lp0 is ready and printing | Rank   Owner      Job  Files                                 Total Size | active alice      1    one                                   600 bytes | 1st    bob        2    two                                   300 bytes | 2nd    carol      3    three                                 200 bytes',
    'sudo -u dave lprm 2 -> 1: lprm: lp0: job 2: Permission denied (owned by bob)',
    'sudo -u dave cupsdisable lp0 -> 1: cupsdisable: Forbidden',
    'lpc stop lp0 -> 0',
    'sudo -u bob lprm 2 -> 0: dfA002localhost dequeued',
    'lpq -> 0: lp0 is not ready | Rank   Owner      Job  Files                                 Total Size | 1st    carol      3    three                                 200 bytes',
    'cupsenable lp0 -> 0',
    'lpq -> 0: lp0 is ready | no entries',
  ]);
  const q = m.k.spool!.queue('lp0')!;
  assert.deepEqual(q.jobs.map((j) => `${j.id} ${j.owner} ${j.state}`), ['1 alice done', '2 bob removed', '3 carol done']);
  const enc = new TextEncoder();
  const expected = new Uint8Array([...enc.encode('alice\n'.repeat(100)), ...enc.encode('carol\n'.repeat(34)).subarray(0, 200)]);
  assert.deepEqual(m.printers[0]!.printer.paper(), expected);
  // job 3 waited for printing to be started again
  assert.ok(q.jobs[2]!.startNs >= 200_000_000);
  assert.deepEqual(m.report('t', 1).printers?.[0]?.paperJobs, [1, 3]);
});

test('a direct writer meets the spooler: EBUSY while lpd has the printer, through once it is idle; devmem2 needs root', () => {
  const m = machine();
  const out = runEvents(
    m,
    [
      [0, 'yes alice | head -c 600 | lp'],
      [10_000_000, 'echo hello > /dev/lp0'],
      [100_000_000, 'echo hello > /dev/lp0'],
      [100_000_000, 'sudo -u alice devmem2 0x380000000008'],
      [110_000_000, 'devmem2 0x380000000008'],
      [120_000_000, 'devmem2 4096'],
    ],
    200_000_000,
  );
  assert.deepEqual(out, [
    'yes alice | head -c 600 | lp -> 0: request id is lp0-1 (0 file(s))',
    'echo hello > /dev/lp0 -> 2: sh: 1: cannot create /dev/lp0: Device or resource busy',
    'echo hello > /dev/lp0 -> 0',
    'sudo -u alice devmem2 0x380000000008 -> 1: Error (13) [Permission denied]',
    'devmem2 0x380000000008 -> 0: /dev/mem opened. | Memory mapped at address 0x7effffffe008. | Value at address 0x380000000008 (0x7effffffe008): 0x10400',
    'devmem2 4096 -> 1: /dev/mem opened. | Error (1) [Operation not permitted]',
  ]);
  assert.equal(new TextDecoder().decode(m.printers[0]!.printer.paper()), 'alice\n'.repeat(100) + 'hello\n');
});

test('command lines that cannot run say why (checked when the scenario loads)', () => {
  const lines = ['lp', 'yes x | lp', 'echo x | lp file.txt', 'lprm', 'lprm x', 'cupsdisable', 'lpc down lp0', 'sudo -u alice rm -rf /', 'echo "x | lp', 'devmem2', 'sudo -u', 'sudo -u Bob lpq', 'echo 1 > /proc/sys/vm/drop_caches'];
  const errors = lines.map((line) => {
    const argv = line.split(/\s+/);
    return `${argv[0]}: ${findCommand(argv[0]!)?.check(argv.slice(1)) ?? 'ok'}`;
  });
  assert.deepEqual(errors, [
    'lp: reads its document from a pipe here: `echo hello | lp` or `yes hello | head -c 2K | lp`',
    'yes: yes must be cut short by `head -c N` (N bytes, at most 16M), like `yes hello | head -c 2K | lp`',
    'echo: prints its standard input here; no file operands (got file.txt)',
    'lprm: needs the numbers of the jobs to remove (as lpq lists them), like `lprm 2`',
    'lprm: needs the numbers of the jobs to remove (as lpq lists them), like `lprm 2`',
    'cupsdisable: names one printer, like `cupsdisable lp0`',
    'lpc: here is `lpc stop PRINTER` or `lpc start PRINTER`',
    'sudo: cannot run "rm" here; the tools: lp, lpr, lpq, lprm, lpc, cupsdisable, cupsenable, devmem2, echo TEXT > PATH (each may follow sudo)',
    'echo: unterminated " quote',
    'devmem2: takes one physical address, like `devmem2 0x380000000000`',
    'sudo: needs a user name after -u, like `sudo -u alice lpq`',
    'sudo: needs a user name after -u, like `sudo -u alice lpq`',
    'echo: writes /proc/sys/vm/drop_caches as an event of its own: {"at": "...", "write": "/proc/sys/vm/drop_caches", "value": "1"}',
  ]);
  assert.equal(typeof parseCommand('yes a | head -c 1K | sudo -u alice lp'), 'object');
});

test('lprm of the job printing cuts it short at once (a signal ends lpd\'s blocked write): a partial job, then the next one whole', () => {
  const m = machine();
  const out = runEvents(
    m,
    [
      [0, 'yes alice | head -c 20K | lp'],
      [1_000_000, 'echo bob | lp'],
      [100_000_000, 'lprm 1'],
    ],
    1_000_000_000,
  );
  assert.deepEqual(out.slice(2), ['lprm 1 -> 0: lp0: cancelled active job 1 | dfA001localhost dequeued']);
  const paper = new TextDecoder().decode(m.printers[0]!.printer.paper());
  // lprm signalled lpd: its write() returned at once, and only what was in the printer's 16-byte
  // FIFO went on printing; then bob's job, whole
  const charNs = Math.round(1e10 / 115200);
  const aliceBytes = paper.length - 'bob\n'.length;
  assert.equal(paper, 'alice\n'.repeat(400).slice(0, aliceBytes) + 'bob\n');
  assert.ok(aliceBytes >= Math.floor(99_800_000 / charNs) - 16 && aliceBytes <= Math.ceil(100_000_000 / charNs) + 16, `alice printed ${aliceBytes} bytes before the lprm took effect`);
  // read back: no whole job at the start (alice's is cut short), so nothing explains the paper
  assert.deepEqual(m.report('t', 1).printers?.[0]?.paperJobs, [-1]);
});
