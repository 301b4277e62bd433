// The preemption experiment (traces/experiments/preemption*.json): an interactive task and a
// committer (1 MiB buffered writes, fsync every 64 MiB) on one CPU. How long a wakeup that finds
// the committer in the kernel waits depends on the preemption model: NONE until the write returns
// to user space or writeback's next cond_resched(), VOLUNTARY until the next might_sleep() (one
// page's work), FULL not at all. A SCHED_FIFO committer is never preempted by the fair task: the
// interactive task waits milliseconds while the fsync's writeback loop runs uninterrupted.
// Delays are measured from when the preemption became due: the later of the wakeup and the end of
// the committer's slice (a fair task that just got the CPU keeps it for its slice in every model).
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { attach } from '../../probes/attach.js';
import { runScript } from '../../probes/script.js';
import { scriptOptions } from '../helpers/script.js';
import { bootExperiment, EXPERIMENTS_DIR as DIR, oncePerFile } from '../helpers/experiment.js';



interface PreemptionRun {
  /** Delays (ns) of wakeups that came while the committer was in pwrite(), and in fsync(). */
  readonly inWriteNs: number[];
  readonly inFsyncNs: number[];
  /** Each fsync's time from entry to the committer's first sleep (the writeback loop), ns. */
  readonly fsyncLoopNs: number[];
}

const run = oncePerFile(runVariant);

function runVariant(file: string): PreemptionRun {
  const { m, durationNs } = bootExperiment(file);
  const cpu = m.k.sched.cpu(0);
  let phase: 'user' | 'write' | 'fsync' = 'user';
  let fsyncStartNs = -1;
  let pending: { dueNs: number; phase: string } | undefined;
  const out: PreemptionRun = { inWriteNs: [], inFsyncNs: [], fsyncLoopNs: [] };
  attach(m, 'tracepoint:syscalls:sys_enter_pwrite64', (h) => {
    if (h.comm === 'commit') phase = 'write';
  });
  attach(m, 'tracepoint:syscalls:sys_exit_pwrite64', (h) => {
    if (h.comm === 'commit') phase = 'user';
  });
  attach(m, 'tracepoint:syscalls:sys_enter_fsync', (h) => {
    if (h.comm !== 'commit') return;
    phase = 'fsync';
    fsyncStartNs = h.timeNs;
  });
  attach(m, 'tracepoint:syscalls:sys_exit_fsync', (h) => {
    if (h.comm === 'commit') phase = 'user';
  });
  attach(m, 'tracepoint:sched:sched_wakeup', (h) => {
    if (h.fields['comm'] !== 'interactive' || cpu.current.comm !== 'commit') return;
    pending = { dueNs: Math.max(h.timeNs, cpu.current.policy === 0 ? cpu.sliceEndNs : h.timeNs), phase };
  });
  attach(m, 'tracepoint:sched:sched_switch', (h) => {
    if (h.fields['prev_comm'] === 'commit' && h.fields['prev_state'] === 2 && fsyncStartNs >= 0) {
      out.fsyncLoopNs.push(h.timeNs - fsyncStartNs);
      fsyncStartNs = -1;
    }
    if (h.fields['next_comm'] !== 'interactive' || !pending) return;
    const delayNs = Math.max(0, h.timeNs - pending.dueNs);
    if (pending.phase === 'write') out.inWriteNs.push(delayNs);
    if (pending.phase === 'fsync') out.inFsyncNs.push(delayNs);
    pending = undefined;
  });
  m.run(durationNs);
  return out;
}

const max = (xs: readonly number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

test('PREEMPT_NONE: a wakeup waits for the 1 MiB write to return to user space, or for writeback\'s next cond_resched', () => {
  const none = run('preemption.json');
  assert.ok(none.inWriteNs.length >= 10 && none.inFsyncNs.length >= 5, `${none.inWriteNs.length} wakeups in write, ${none.inFsyncNs.length} in fsync`);
  // the rest of a 1 MiB generic_perform_write: tens of µs, at most the whole write's ~136 µs
  assert.ok(mean(none.inWriteNs) > 20_000, `mean ${mean(none.inWriteNs)}`);
  assert.ok(max(none.inWriteNs) > 60_000 && max(none.inWriteNs) <= 140_000, `max ${max(none.inWriteNs)}`);
  // writeback reschedules every 31 folios (about 11 µs of work)
  assert.ok(max(none.inFsyncNs) > 1_000 && max(none.inFsyncNs) <= 12_000, `fsync max ${max(none.inFsyncNs)}`);
});

test('the wakeup latency falls from none to voluntary to full', () => {
  const none = run('preemption.json');
  const voluntary = run('preemption-voluntary.json');
  const full = run('preemption-full.json');
  // VOLUNTARY: the next folio lock's might_sleep(), under a microsecond away
  assert.ok(max(voluntary.inWriteNs) <= 1_000 && max(voluntary.inFsyncNs) <= 1_000, `voluntary max ${max(voluntary.inWriteNs)} / ${max(voluntary.inFsyncNs)}`);
  // FULL: at once, but for an interrupt handler under way or the spinlocked part of a folio's
  // writeback set-up (a few hundred ns at most)
  assert.ok(max(full.inWriteNs) <= 300 && max(full.inFsyncNs) <= 300, `full max ${max(full.inWriteNs)} / ${max(full.inFsyncNs)}`);
  for (const phase of ['inWriteNs', 'inFsyncNs'] as const) {
    assert.ok(max(none[phase]) > 10 * max(voluntary[phase]), `${phase}: none ${max(none[phase])} vs voluntary ${max(voluntary[phase])}`);
    assert.ok(max(voluntary[phase]) > max(full[phase]), `${phase}: voluntary ${max(voluntary[phase])} vs full ${max(full[phase])}`);
  }
});

test('a SCHED_FIFO committer keeps the CPU until it sleeps: milliseconds of wait, and a shorter writeback loop', () => {
  const full = run('preemption-full.json');
  const fifo = run('preemption-fifo.json');
  assert.ok(max(fifo.inWriteNs) > 5_000_000, `fifo max wait ${max(fifo.inWriteNs)}`);
  // the fair committer's fsync loop lends the CPU to the interactive task (100 µs spins);
  // the FIFO one does not
  assert.equal(fifo.fsyncLoopNs.length, full.fsyncLoopNs.length);
  const savedNs = mean(full.fsyncLoopNs) - mean(fifo.fsyncLoopNs);
  assert.ok(savedNs > 100_000 && savedNs < 400_000, `FIFO loop shorter by ${savedNs} ns`);
});

test('preemption.bt runs on the FIFO variant, and curtask reads the committer\'s policy and RT priority', () => {
  const { m, durationNs } = bootExperiment('preemption-fifo.json');
  const text = `${readFileSync(join(DIR, 'preemption.bt'), 'utf8')}
tracepoint:syscalls:sys_enter_fsync { @policy[comm, curtask->policy, curtask->rt_priority, curtask->prio] = count(); }`;
  let out = '';
  const result = runScript(m, scriptOptions(text, durationNs, (s, stream) => {
    if (stream === 'stdout') out += s;
  }));
  assert.equal(result.exitCode, 0, out);
  // SCHED_FIFO is policy 1; rt_priority 50 is prio 99 - 50
  assert.match(out, /^@policy\[commit, 1, 50, 49\]: 5$/m);
  // a wakeup during a write waited for the FIFO committer to sleep: milliseconds
  assert.ok(Number(/^@in_write_max_ns: (\d+)$/m.exec(out)?.[1] ?? 0) > 5_000_000, out);
  assert.match(out, /^@preempted\[interactive\]: \d+$/m);
});
