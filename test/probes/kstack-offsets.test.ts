// kstack's offsets as a reader judges them: a kprobe's own frame is the function's entry (+1, past
// the breakpoint), every caller's offset lies inside that caller's code, and -f json keeps the
// stack key's lines indented as bpftrace's JSON output does.
import test from 'node:test';
import assert from 'node:assert/strict';
import { scenario } from '../helpers/machine.js';
import { prepareRun } from '../../tui/run.js';
import { runScript } from '../../probes/script.js';
import { functionBytes, KernelStacks, KPROBE_ENTRY_OFFSET } from '../../probes/kstack.js';
import { scriptOptions } from '../helpers/script.js';

function trace(program: string, durationNs: number, format: 'text' | 'json' = 'text'): string {
  const m = prepareRun(scenario('default'), { seed: 1, durationNs });
  let stdout = '';
  const r = runScript(m, scriptOptions(program, durationNs, (t, stream) => void (stream === 'stdout' ? (stdout += t) : undefined), { quiet: true, format }));
  assert.equal(r.exitCode, 0);
  return stdout;
}

/** Every `function+offset` frame of the output, in order. */
function frames(out: string): { fn: string; offset: number }[] {
  return [...out.matchAll(/^ {8}(\w+)\+(\d+)$/gm)].map((mm) => ({ fn: mm[1]!, offset: Number(mm[2]) }));
}

test("a kprobe's top frame is its entry (+1); each caller's offset is inside the caller", () => {
  const out = trace('kprobe:vfs_read, kprobe:submit_bio { @[kstack] = count(); }', 5e6);
  const stacks = out.split('@[').slice(1).map(frames);
  assert.ok(stacks.length >= 2);
  for (const s of stacks) {
    assert.ok(s[0]!.fn === 'vfs_read' || s[0]!.fn === 'submit_bio');
    assert.equal(s[0]!.offset, KPROBE_ENTRY_OFFSET);
    for (const f of s.slice(1)) assert.ok(f.offset >= 0x10 && f.offset < functionBytes(f.fn) - 5, `${f.fn}+${f.offset} in ${functionBytes(f.fn)} bytes`);
  }
});

test('a tracepoint or a sample stops inside its function, never at the entry', () => {
  const out = trace('tracepoint:block:block_rq_issue { @[kstack(2)] = count(); } profile:hz:997 { @p[kstack(1)] = count(); }', 5e6);
  const all = frames(out);
  assert.ok(all.length > 4);
  for (const f of all) assert.ok(f.offset >= 0x10 && f.offset < functionBytes(f.fn), `${f.fn}+${f.offset}`);
});

test('function sizes are 16-byte multiples from 96 bytes to 2 KiB; the same stack prints the same', () => {
  for (const fn of ['vfs_read', 'x64_sys_call', 'do_syscall_64', 'blk_mq_start_request', 'a', 'entry_SYSCALL_64_after_hwframe']) {
    const n = functionBytes(fn);
    assert.ok(n >= 96 && n <= 2048 && n % 16 === 0, `${fn}: ${n}`);
  }
  const stack = ['vfs_read', 'ksys_read', 'do_syscall_64'];
  assert.equal(KernelStacks.format(stack, 127, true), KernelStacks.format(stack, 127, true));
  assert.match(KernelStacks.format(stack, 127, true), /^\n {8}vfs_read\+1\n {8}ksys_read\+\d+\n {8}do_syscall_64\+\d+\n$/);
});

test('-f json: a stack map key keeps its indented lines, a tuple key its commas', () => {
  const out = trace('kprobe:vfs_read { @[kstack(2)] = count(); @t[kstack(1), comm] = count(); }', 2e6, 'json');
  assert.match(out, /\{"@": \{"\\n {8}vfs_read\+1\\n {8}__x64_sys_pread64\+\d+\\n": \d+\}\}/);
  assert.match(out, /"\\n {8}vfs_read\+1\\n,seq-reader": \d+/);
});
