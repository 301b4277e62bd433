// Attach points that match nothing, as bpftrace treats them: a kprobe on a function this kernel
// does not have (mdflush's md_flush_request, no md driver) warns that it is not traceable and
// has no match (exit 2; with --unsafe it fails to attach, exit 1), or is skipped under
// missing_probes = "warn"; a wildcard matching
// nothing beside attach points that match (dcsnoop's lookup_fast.constprop.*) expands to nothing.
import test from 'node:test';
import assert from 'node:assert/strict';
import { scenario } from '../helpers/machine.js';
import { prepareRun } from '../../tui/run.js';
import { runScript } from '../../probes/script.js';
import { scriptOptions } from '../helpers/script.js';

function trace(program: string, durationNs: number, extra: { unsafe?: boolean } = {}): { code: number; stdout: string; stderr: string } {
  const m = prepareRun(scenario('default'), { seed: 1, durationNs });
  let stdout = '';
  let stderr = '';
  const r = runScript(m, scriptOptions(program, durationNs, (t, stream) => void (stream === 'stdout' ? (stdout += t) : (stderr += t)), { quiet: true, ...extra }));
  return { code: r.exitCode, stdout, stderr };
}

test('a kprobe on a function the kernel lacks: not traceable, and no match (exit 2, no BEGIN), as bpftrace in its safe mode', () => {
  const r = trace('BEGIN { printf("begin\\n"); } kprobe:md_flush_request { @ = count(); }', 1e6);
  const line = 'BEGIN { printf("begin\\n"); } kprobe:md_flush_request { @ = count(); }\n' + '                             ~~~~~~~~~~~~~~~~~~~~~~~\n';
  assert.deepEqual(r, {
    code: 2,
    stdout: '',
    stderr:
      'stdin:1:30-53: ERROR: No matches for kprobe md_flush_request.\n' +
      line +
      'stdin:1:30-53: WARNING: md_flush_request is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail\n' +
      line,
  });
});

test('with --unsafe bpftrace tries to attach it anyway: the warning, then the attach failure, exit 1', () => {
  const r = trace('BEGIN { printf("begin\\n"); } kprobe:md_flush_request { @ = count(); }', 1e6, { unsafe: true });
  assert.deepEqual(r, {
    code: 1,
    stdout: '',
    stderr:
      'stdin:1:30-53: WARNING: md_flush_request is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail\n' +
      'BEGIN { printf("begin\\n"); } kprobe:md_flush_request { @ = count(); }\n' +
      '                             ~~~~~~~~~~~~~~~~~~~~~~~\n' +
      "ERROR: Unable to attach probe: kprobe:md_flush_request. If this is expected, set the 'missing_probes' config variable to 'warn'.\n",
  });
});

test('under missing_probes = "warn" the attach point is skipped with a warning, its probe removed, and the program runs', () => {
  const r = trace('config = { missing_probes = "warn" } kprobe:md_flush_request { @a = count(); } interval:ms:1 { exit(); }', 5e6);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /WARNING: md_flush_request is not traceable/);
  assert.match(r.stderr, /WARNING: No matches for kprobe md_flush_request\. Skipping\.\n/);
  assert.match(r.stderr, /WARNING: Probe has no valid attach points\. It is being removed which may cause issues with program behavior\.\n/);
  const unsafe = trace('config = { missing_probes = "warn" } kprobe:md_flush_request { @a = count(); } interval:ms:1 { exit(); }', 5e6, { unsafe: true });
  assert.equal(unsafe.code, 0);
  assert.match(unsafe.stderr, /WARNING: Unable to attach probe: kprobe:md_flush_request\. Skipping\.\n/);
});

test('a typo keeps its did-you-mean error (exit 2)', () => {
  const r = trace('kprobe:vfs_reed { }', 1e6);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ERROR: No matches for kprobe vfs_reed\./);
});

test('a wildcard matching nothing next to one that matches expands to nothing; alone its probe has no attach points, an error', () => {
  const ok = trace('kprobe:lookup_fast, kprobe:lookup_fast.constprop.* { @ = count(); }', 5e6);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /@: \d+/);
  const alone = trace('kprobe:lookup_fast.constprop.* { @ = count(); }', 1e6);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /ERROR: Probe has no valid attach points\. If this is expected, set the 'missing_probes' config variable to 'warn'\./);
});
