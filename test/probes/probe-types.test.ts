// bpftrace's probe types: fentry/kfunc and fexit/kretfunc are typed views of the kprobe sites,
// rawtracepoint one of the tracepoints; the types with nothing to attach to in a simulation are
// refused with their reason, apart from a typo's "Invalid probe type".
import test from 'node:test';
import assert from 'node:assert/strict';
import { scenario } from '../helpers/machine.js';
import { prepareRun } from '../../tui/run.js';
import { runScript } from '../../probes/script.js';
import { scriptOptions } from '../helpers/script.js';
import { listProbes } from '../../probes/list.js';

function trace(program: string, durationNs: number): { code: number; stdout: string; stderr: string } {
  const m = prepareRun(scenario('default'), { seed: 1, durationNs });
  let stdout = '';
  let stderr = '';
  const r = runScript(
    m,
    scriptOptions(program, durationNs, (t, stream) => {
      if (stream === 'stdout') stdout += t;
      else stderr += t;
    }, { quiet: true }),
  );
  return { code: r.exitCode, stdout, stderr };
}

test('probe types with nothing to attach to are refused with the reason; a typo stays "Invalid probe type"', () => {
  const cases: [string, string][] = [
    ['uprobe:/bin/bash:readline', 'uprobe probes are not supported by kiotrace: the simulated machine runs no user binaries to place a breakpoint in'],
    ['u:/bin/bash:readline', 'uprobe probes are not supported by kiotrace: '],
    ['uretprobe:/bin/bash:readline', 'uretprobe probes are not supported by kiotrace: '],
    ['usdt:/usr/bin/x:p:q', 'usdt probes are not supported by kiotrace: the simulated machine runs no user binaries, so there are no USDT notes'],
    ['hardware:cache-misses:1000', 'hardware probes are not supported by kiotrace: the simulated CPUs have no performance counters'],
    ['software:page-faults:1', 'software probes are not supported by kiotrace: '],
    ['watchpoint:0x1000:8:w', 'watchpoint probes are not supported by kiotrace: '],
    ['asyncwatchpoint:0x1000:8:w', 'asyncwatchpoint probes are not supported by kiotrace: '],
    ['iter:task', "iter probes are not supported by kiotrace: there are no BPF iterators over the simulated kernel's objects"],
    ['blok:x', 'Invalid probe type: blok'],
  ];
  for (const [ap, message] of cases) {
    const r = trace(`${ap} { }`, 1e6);
    assert.equal(r.code, 2, ap);
    assert.ok(r.stderr.includes(`ERROR: ${message}`), `${ap}: ${r.stderr}`);
  }
});

test('fentry/kfunc give the function its typed args, fexit/kretfunc its args and retval', () => {
  const r = trace('fentry:vfs_read { @e[probe, func, args.count] = count(); } kretfunc:vmlinux:vfs_read { @x[args.count, retval] = count(); } kprobe:vfs_read { @k = count(); }', 5e6);
  assert.equal(r.code, 0, r.stderr);
  const entries = Number(/@e\[fentry:vmlinux:vfs_read, vfs_read, 4096\]: (\d+)/.exec(r.stdout)?.[1]);
  const kprobes = Number(/@k: (\d+)/.exec(r.stdout)?.[1]);
  const exits = Number(/@x\[4096, 4096\]: (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(kprobes > 100, r.stdout);
  assert.equal(entries, kprobes, 'fentry fires where the kprobe does');
  // reads in flight at the end have entered but not returned
  assert.ok(exits <= entries && exits >= entries - 4, r.stdout);
});

test('args of a kprobe or retval of an fentry are refused as bpftrace refuses them', () => {
  assert.match(trace('kprobe:vfs_read { @ = args.count; }', 1e6).stderr, /The args builtin can only be used with tracepoint\/fentry\/uprobe probes/);
  assert.match(trace('fentry:vfs_read { @ = retval; }', 1e6).stderr, /The retval builtin can only be used with/);
});

test('rawtracepoint attaches to the tracepoint by event name, its arguments raw (arg0..)', () => {
  const r = trace('rawtracepoint:block_rq_issue { @[probe, arg0 != 0] = count(); } tracepoint:block:block_rq_issue { @tp = count(); }', 5e6);
  assert.equal(r.code, 0, r.stderr);
  const raw = Number(/@\[rawtracepoint:vmlinux:block_rq_issue, true\]: (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(raw > 0);
  assert.equal(raw, Number(/@tp: (\d+)/.exec(r.stdout)?.[1]));
});

test('-l lists the views as bpftrace does (module vmlinux), -lv with the parameters', () => {
  assert.deepEqual(listProbes('fentry:vfs_rea*', false), ['fentry:vmlinux:vfs_read']);
  assert.deepEqual(listProbes('fexit:vmlinux:vfs_read', true), ['fexit:vmlinux:vfs_read', '    struct file *file', '    char *buf', '    size_t count', '    loff_t *pos', '    retval']);
  assert.deepEqual(listProbes('rawtracepoint:*block_rq_issue', false), ['rawtracepoint:vmlinux:block_rq_issue']);
  // a plain pattern is the kprobe's, as before
  assert.deepEqual(listProbes('vfs_read', false), ['kprobe:vfs_read', 'kretprobe:vfs_read']);
});
