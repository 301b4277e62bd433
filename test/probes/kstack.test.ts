// kstack as a user reads it: the frames follow the call path the simulator actually took, entry
// frames come off when functions return, and the text is bpftrace's (8-space frames, stable offsets).
import test from 'node:test';
import assert from 'node:assert/strict';
import { scenario } from '../helpers/machine.js';
import { prepareRun } from '../../tui/run.js';
import { runScript } from '../../probes/script.js';
import { KernelStacks } from '../../probes/kstack.js';
import { scriptOptions } from '../helpers/script.js';

/** Runs `program` on `default` for `durationNs` and returns stdout (exit code must be 0). */
function trace(program: string, durationNs: number): string {
  const m = prepareRun(scenario('default'), { seed: 1, durationNs });
  let stdout = '';
  const r = runScript(
    m,
    scriptOptions(program, durationNs, (t, stream) => {
      if (stream === 'stdout') stdout += t;
    }, { quiet: true }),
  );
  assert.equal(r.exitCode, 0);
  return stdout;
}

/** The distinct stacks printed as `@[...]: N` keys, each as function names innermost first. */
function stacks(out: string): string[][] {
  return [...out.matchAll(/@\[\n((?: {8}\S+\n)*)\]: \d+\n/g)].map((mm) =>
    mm[1]!
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.trim().replace(/\+\d+$/, '')),
  );
}

test('format: a leading newline, 8-space frames with decimal offsets, the limit applied', () => {
  const text = KernelStacks.format(['vfs_read', 'ksys_read', 'do_syscall_64']);
  assert.match(text, /^\n {8}vfs_read\+\d+\n {8}ksys_read\+\d+\n {8}do_syscall_64\+\d+\n$/);
  assert.equal(KernelStacks.format(['vfs_read', 'ksys_read', 'do_syscall_64']), text, 'offsets are stable');
  assert.equal(KernelStacks.format(['vfs_read', 'ksys_read'], 1), text.split('\n').slice(0, 2).join('\n') + '\n');
  assert.equal(KernelStacks.format([]), '\n');
});

test('kprobe:vfs_read sees itself on top of the pread64 syscall path; kretprobe sees its caller', () => {
  const entry = stacks(trace('kprobe:vfs_read { @[kstack] = count(); }', 5e6));
  assert.deepEqual(entry, [['vfs_read', '__x64_sys_pread64', 'x64_sys_call', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']]);
  const ret = stacks(trace('kretprobe:vfs_read { @[kstack] = count(); }', 5e6));
  assert.deepEqual(ret, [['__x64_sys_pread64', 'x64_sys_call', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']]);
});

test('a major fault blocks under filemap_fault, below the page-fault entry, and the entry is gone after', () => {
  const switches = stacks(trace('tracepoint:sched:sched_switch /comm == "mmap-reader"/ { @[kstack] = count(); }', 40e6));
  assert.ok(switches.some((s) => s.join(' ') === '__schedule schedule filemap_fault handle_mm_fault do_user_addr_fault exc_page_fault asm_exc_page_fault'));
  // think time between pages sleeps in do_nanosleep (fio's usleep: clock_nanosleep) with no fault frames left behind
  assert.ok(switches.some((s) => s.join(' ') === '__schedule schedule do_nanosleep hrtimer_nanosleep common_nsleep __x64_sys_clock_nanosleep x64_sys_call do_syscall_64 entry_SYSCALL_64_after_hwframe'));
  assert.ok(switches.every((s) => s.filter((f) => f === 'asm_exc_page_fault').length <= 1));
});

test('completions run in the NVMe interrupt or the block softirq (AHCI), on top of whatever the CPU was doing', () => {
  const completions = stacks(trace('tracepoint:block:block_rq_complete { @[kstack(8)] = count(); }', 20e6));
  const paths = new Set<string>();
  for (const s of completions) {
    assert.deepEqual(s.slice(0, 2), ['blk_update_request', 'blk_mq_end_request']);
    paths.add(s.slice(2, 4).join(' '));
    assert.ok(s.length <= 8);
  }
  assert.deepEqual([...paths].sort(), ['blk_done_softirq handle_softirqs', 'blk_mq_complete_request nvme_irq']);
});

test('profile samples every CPU: idle CPUs in the idle loop, user-mode samples as an empty stack', () => {
  const out = trace('profile:hz:99 { @[kstack] = count(); @cpus[cpu] = count(); }', 100e6);
  const all = stacks(out);
  assert.ok(all.some((s) => s.join(' ') === 'default_idle default_idle_call do_idle cpu_startup_entry start_secondary common_startup_64'));
  // user-mode samples: a finer rate finds the readers between their syscalls
  assert.ok(stacks(trace('profile:hz:997 { @[kstack] = count(); }', 100e6)).some((s) => s.length === 0));
  // 100 ms at 99 Hz is 9 samples on each of the default machine's CPUs
  const perCpu = [...out.matchAll(/@cpus\[(\d+)\]: (\d+)\n/g)].map((mm) => [Number(mm[1]), Number(mm[2])]);
  assert.ok(perCpu.length >= 2);
  for (const [, n] of perCpu) assert.equal(n, 9);
});
