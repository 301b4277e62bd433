// The print spooler: lp spools a document through the VFS and queues it, the printer's daemon
// prints one job at a time, and the control commands list, remove, stop and start, with
// lpq's listing, lprm's ownership rule and lpc's privilege as the commands print them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, type Machine } from '../../../core/index.js';
import { parseCommand } from '../../../core/userspace/shell.js';

function machine(): Machine {
  return bootMachine({ ...DEFAULT_MACHINE, printers: [{ name: 'lp0', baud: 115200 }] }, 1);
}

function consoleText(m: Machine): string[] {
  return m.console.map((l) => `${l.comm}: ${l.text}`);
}

test('the spooler lists, removes, stops and starts, and prints whole jobs one at a time', () => {
  const m = machine();
  m.commandAt(0, 'yes alice | head -c 600 | lp -U alice -t one');
  m.commandAt(1_000_000, 'yes bob | head -c 300 | lpr -U bob -J two');
  m.commandAt(2_000_000, 'yes carol | head -c 200 | lp -U carol -t three');
  m.commandAt(2_500_000, 'lpq');
  m.commandAt(3_000_000, 'lprm 2'); // not the user's job
  m.commandAt(3_100_000, 'cupsdisable lp0'); // not root
  m.commandAt(3_200_000, 'sudo lpc stop lp0');
  m.commandAt(4_000_000, 'sudo lprm 2');
  m.commandAt(100_000_000, 'lpq');
  m.commandAt(200_000_000, 'sudo cupsenable lp0');
  m.commandAt(400_000_000, 'lpq');
  m.run(500_000_000);
  assert.deepEqual(consoleText(m), [
    'lp: request id is lp0-1 (0 file(s))',
    'lp: request id is lp0-3 (0 file(s))',
    'lpq: lp0 is ready and printing',
    'lpq: Rank   Owner      Job  Files                                 Total Size',
    'lpq: active alice      1    one                                   600 bytes',
    'lpq: 1st    bob        2    two                                   300 bytes',
    'lpq: 2nd    carol      3    three                                 200 bytes',
    'lprm: lprm: lp0: job 2: Permission denied (owned by bob)',
    'cupsdisable: cupsdisable: Forbidden',
    'lprm: dfA002localhost dequeued',
    'lpq: lp0 is not ready',
    'lpq: Rank   Owner      Job  Files                                 Total Size',
    'lpq: 1st    carol      3    three                                 200 bytes',
    'lpq: lp0 is ready',
    'lpq: no entries',
  ]);
  const q = m.spool!.queue('lp0')!;
  assert.deepEqual(q.jobs.map((j) => `${j.id} ${j.state}`), ['1 done', '2 removed', '3 done']);
  const carol = new TextEncoder().encode('carol\n'.repeat(34)).subarray(0, 200);
  const alice = new TextEncoder().encode('alice\n'.repeat(100));
  const expected = new Uint8Array([...alice, ...carol]);
  assert.deepEqual(m.printers[0]!.printer.paper(), expected);
  // job 3 waited for printing to be started again
  assert.ok(q.jobs[2]!.startNs >= 200_000_000);
});

test('command lines that cannot run say why', () => {
  const errors = ['lp', 'yes x | lp', 'echo x | lp file.txt', 'lprm', 'lprm x', 'cupsdisable', 'lpc down lp0', 'rm -rf /', 'echo "x | lp', 'devmem2'].map((c) => {
    const r = parseCommand(c);
    return typeof r === 'string' ? r : 'ok';
  });
  assert.deepEqual(errors, [
    'lp reads its document from a pipe here: `echo hello | lp` or `yes hello | head -c 2K | lp`',
    'yes must be cut short by `head -c N` (N bytes, at most 16M), like `yes hello | head -c 2K | lp`',
    'lp: prints its standard input here; no file operands (got file.txt)',
    'lprm: give the job numbers to remove (as lpq lists them), like `lprm 2`',
    'lprm: give the job numbers to remove (as lpq lists them), like `lprm 2`',
    'cupsdisable: name one printer, like `cupsdisable lp0`',
    'lpc: `lpc stop PRINTER` or `lpc start PRINTER`',
    'unknown command "rm"; kiotrace runs lp, lpr, lpq, lprm, lpc, cupsdisable, cupsenable, devmem2, echo TEXT > PATH (each may follow sudo)',
    'unterminated " quote',
    'devmem2: give one physical address, like `devmem2 0x380000000000`',
  ]);
});

test('a direct writer meets the spooler: EBUSY while lpd has the printer, through once it is idle; devmem2 needs root', () => {
  const m = machine();
  m.commandAt(0, 'yes alice | head -c 600 | lp -U alice');
  m.commandAt(10_000_000, 'echo hello > /dev/lp0');
  m.commandAt(100_000_000, 'echo hello > /dev/lp0');
  m.commandAt(100_000_000, 'devmem2 0x380000000008');
  m.commandAt(110_000_000, 'sudo devmem2 0x380000000008');
  m.commandAt(120_000_000, 'sudo devmem2 4096');
  m.run(200_000_000);
  assert.deepEqual(consoleText(m), [
    'lp: request id is lp0-1 (0 file(s))',
    'sh: sh: 1: cannot create /dev/lp0: Device or resource busy',
    'devmem2: Error (13) [Permission denied]',
    'devmem2: /dev/mem opened.',
    'devmem2: Memory mapped at address 0x7effffffe008.',
    'devmem2: Value at address 0x380000000008 (0x7effffffe008): 0x10400',
    'devmem2: /dev/mem opened.',
    'devmem2: Error (1) [Operation not permitted]',
  ]);
  assert.equal(new TextDecoder().decode(m.printers[0]!.printer.paper()), 'alice\n'.repeat(100) + 'hello\n');
});
