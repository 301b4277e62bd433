// bpftrace's command line as kiotrace takes it: the flags a simulation has no use for are refused
// with the reason (exit 2, not "unknown option"), --info describes the simulated kernel in
// bpftrace --info's layout, and a listing of a probe type that does not exist fails as bpftrace's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo.js';
import { parseCommand, UsageError } from '../../tui/args.js';

const CLI = join(repoRoot(), 'dist', 'tui', 'cli.js');

function kiotrace(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function refusal(args: string[]): string {
  const c = parseCommand(args);
  assert.ok(c instanceof UsageError, args.join(' '));
  return c.message;
}

test('each bpftrace flag kiotrace does not model is refused with its reason, wherever it stands', () => {
  const cases: [string[], string][] = [
    [['-p', '42', '-e', 'BEGIN {}'], '-p: not supported by kiotrace: the program traces a simulated machine, not a host process; filter on the simulated pid in the program, e.g. /pid == 4/'],
    [['-e', 'BEGIN {}', '--pid=42'], '--pid: not supported by kiotrace: the program traces a simulated machine, not a host process; filter on the simulated pid in the program, e.g. /pid == 4/'],
    [['-B', 'line', '-e', 'BEGIN {}'], '-B: not supported by kiotrace: output is written as the simulation produces it, with no BPF ring buffer or stdout buffering mode to choose'],
    [['-k', 'x.bt'], '-k: not supported by kiotrace: probe read helpers cannot fail here: every kernel object a program reads is a simulated one that exists'],
    [['-dast', '-e', 'BEGIN {}'], '-d: not supported by kiotrace: the program is interpreted against the simulation; there is no LLVM, BPF bytecode, libbpf or verifier stage to show'],
    [['-I', '/usr/include', 'x.bt'], "-I: not supported by kiotrace: there is no C preprocessor or kernel header to include; the simulated kernel's structs are built in"],
    [['--include', 'linux/blkdev.h', 'x.bt'], "--include: not supported by kiotrace: there is no C preprocessor or kernel header to include; the simulated kernel's structs are built in"],
    [['--usdt-file-activation', 'x.bt'], '--usdt-file-activation: not supported by kiotrace: the simulated machine runs no user binaries, so there are no USDT semaphores to activate'],
    [['--emit-llvm', 'out', 'x.bt'], '--emit-llvm: not supported by kiotrace: the program is interpreted against the simulation; no ELF, LLVM IR or BPF object is generated'],
    [['--no-feature', 'btf', 'x.bt'], "--no-feature: not supported by kiotrace: the simulated kernel's BPF features are fixed; kiotrace --info lists them"],
    [['--verify-llvm-ir', 'x.bt'], '--verify-llvm-ir: not supported by kiotrace: the program is interpreted against the simulation; no LLVM IR is generated'],
  ];
  for (const [args, message] of cases) assert.equal(refusal(args), message);
  // a program's own text is not a flag, nor is what follows --
  assert.ok(!(parseCommand(['-e', '-p']) instanceof UsageError));
  assert.ok(!(parseCommand(['x.bt', '--', '-p']) instanceof UsageError));
});

test('a refused flag exits 2 with the message on stderr, not "unknown option"', () => {
  const r = kiotrace('-p', '1', '-e', 'BEGIN { exit(); }');
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^kiotrace: -p: not supported by kiotrace: /);
  assert.doesNotMatch(r.stderr, /unknown option/);
});

test('-b/--btf are accepted and ignored, --quiet and --output are -q and -o, --no-warnings silences warnings', () => {
  const c = parseCommand(['-b', '--quiet', '--output', 'o.txt', '--no-warnings', '-e', 'BEGIN {}']);
  assert.ok(!(c instanceof UsageError) && c.kind === 'script');
  assert.equal(c.quiet, true);
  assert.equal(c.outFile, 'o.txt');
  assert.equal(c.noWarnings, true);
  // an unused map is a compile warning bpftrace prints; --no-warnings drops it
  const program = 'BEGIN { @a = 1; printf("x\\n"); exit(); }';
  const without = kiotrace('-q', '--no-warnings', '-e', program);
  assert.equal(without.code, 0);
  assert.equal(without.stderr, '');
});

test('--info lays the simulated kernel out as bpftrace --info does, with two 35-column cells a line', () => {
  const r = kiotrace('--info');
  assert.equal(r.code, 0);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(0, 3), ['System', '  OS: Linux 6.18.0-kiotrace #1 SMP PREEMPT_DYNAMIC (simulated)', '  Arch: x86_64']);
  for (const section of ['Build', 'Kernel helpers', 'Kernel features', 'Map types', 'Probe types']) assert.ok(lines.includes(section), section);
  assert.ok(lines.includes(`${'  kprobe: yes'.padEnd(35)}${'tracepoint: yes'.padEnd(35)}`));
  assert.ok(lines.includes(`${'  perf_event: yes'.padEnd(35)}${'fentry: yes'.padEnd(35)}`));
  assert.ok(lines.includes(`${'  probe_read_user: no'.padEnd(35)}${'probe_read_user_str: no'.padEnd(35)}`));
  assert.ok(lines.includes(`${'  Instruction limit: 100000'.padEnd(35)}${'btf: yes'.padEnd(35)}`));
});

test("-l 'blok:*' fails as bpftrace's listing does; a provider-less pattern or a known type with no match is empty", () => {
  const r = kiotrace('-l', 'blok:*');
  assert.deepEqual(r, { code: 1, stdout: '', stderr: 'listing:1:1-1: ERROR: Invalid probe type: blok\nblok:*\n\n' });
  assert.deepEqual(kiotrace('-l', 'kprobe:no_such_fn*'), { code: 0, stdout: '', stderr: '' });
  assert.equal(kiotrace('-l', 'block:block_rq_issue').stdout, 'tracepoint:block:block_rq_issue\n');
});
