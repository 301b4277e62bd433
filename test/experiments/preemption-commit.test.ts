// The journal-commit side of the preemption experiment (traces/experiments/preemption-commit*.json):
// with data=journal, each 64 MiB fsync makes jbd2 log 64 MiB of data pages, a CPU-bound loop that
// four interactive tasks (a wakeup every 0.5 ms between them) want to interrupt. The preemption
// model decides how long a wakeup that finds the commit thread on the CPU waits (NONE: the
// cond_resched() after each descriptor's 250 blocks; VOLUNTARY and FULL: a block's work); the
// commit thread's priority decides how long its CPU-bound stretch takes (SCHED_FIFO: nobody
// interleaves). Waits count from when preemption became due: the wakeup, or the end of the slice
// a fair task keeps once it has the CPU.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHED_NORMAL } from '../../core/kernel/sched/task.js';
import { attach } from '../../probes/attach.js';
import { runScript } from '../../probes/script.js';
import { scriptOptions } from '../helpers/script.js';
import { bootExperiment, EXPERIMENTS_DIR as DIR, oncePerFile } from '../helpers/experiment.js';



interface CommitRun {
  /** Waits (ns) of interactive wakeups that found the commit thread on the CPU. */
  readonly waitNs: number[];
  /** Each commit's CPU-bound logging stretch: jbd2_commit_logging to the thread's first sleep, ns. */
  readonly stretchNs: number[];
  /** Each commit's duration, jbd2_start_commit to jbd2_end_commit, ns. */
  readonly commitNs: number[];
  /** Times the commit thread was preempted inside a commit. */
  preemptions: number;
}

const run = oncePerFile(runVariant);

const isJbd2 = (comm: unknown): boolean => String(comm).startsWith('jbd2/');

function runVariant(file: string): CommitRun {
  const { m, durationNs } = bootExperiment(file);
  const cpu = m.k.sched.cpu(0);
  const out: CommitRun = { waitNs: [], stretchNs: [], commitNs: [], preemptions: 0 };
  const pending = new Map<number, number>();
  let commitStartNs = -1;
  let loggingNs = -1;
  attach(m, 'tracepoint:jbd2:jbd2_start_commit', (h) => {
    commitStartNs = h.timeNs;
  });
  attach(m, 'tracepoint:jbd2:jbd2_commit_logging', (h) => {
    loggingNs = h.timeNs;
  });
  attach(m, 'tracepoint:jbd2:jbd2_end_commit', (h) => {
    out.commitNs.push(h.timeNs - commitStartNs);
    commitStartNs = -1;
  });
  attach(m, 'tracepoint:sched:sched_wakeup', (h) => {
    if (h.fields['comm'] !== 'interactive' || !isJbd2(cpu.current.comm)) return;
    const fair = cpu.current.policy === SCHED_NORMAL;
    pending.set(Number(h.fields['pid']), Math.max(h.timeNs, fair ? cpu.sliceEndNs : h.timeNs));
  });
  attach(m, 'tracepoint:sched:sched_switch', (h) => {
    const dueNs = pending.get(Number(h.fields['next_pid']));
    if (dueNs !== undefined) {
      if (isJbd2(h.fields['prev_comm'])) out.waitNs.push(Math.max(0, h.timeNs - dueNs));
      pending.delete(Number(h.fields['next_pid']));
    }
    if (!isJbd2(h.fields['prev_comm'])) return;
    if (h.fields['prev_state'] === 256 && commitStartNs >= 0) out.preemptions++;
    if (h.fields['prev_state'] === 2 && loggingNs >= 0) {
      out.stretchNs.push(h.timeNs - loggingNs);
      loggingNs = -1;
    }
  });
  m.run(durationNs);
  return out;
}

const max = (xs: readonly number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const FAIR = ['preemption-commit.json', 'preemption-commit-voluntary.json', 'preemption-commit-full.json'];

test('a wakeup that finds the commit thread logging waits for its next cond_resched under NONE, a block\'s work under VOLUNTARY and FULL', () => {
  const none = run('preemption-commit.json');
  const voluntary = run('preemption-commit-voluntary.json');
  const full = run('preemption-commit-full.json');
  for (const r of [none, voluntary, full]) assert.ok(r.waitNs.length >= 8, `${r.waitNs.length} wakeups found jbd2 running`);
  // 250 blocks of 400 ns between cond_resched() points: up to 100 µs, tens on average
  assert.ok(max(none.waitNs) > 10_000 && max(none.waitNs) <= 100_000, `none max ${max(none.waitNs)}`);
  // the next block's lock_buffer() (VOLUNTARY), or the end of the block's CPU segment (FULL)
  assert.ok(max(voluntary.waitNs) <= 400, `voluntary max ${max(voluntary.waitNs)}`);
  assert.ok(max(full.waitNs) <= max(voluntary.waitNs), `full max ${max(full.waitNs)}`);
  assert.ok(max(none.waitNs) > 50 * max(voluntary.waitNs), `none ${max(none.waitNs)} vs voluntary ${max(voluntary.waitNs)}`);
});

test('the commit thread SCHED_FIFO: a shorter CPU-bound stretch and shorter commits, paid for in milliseconds of waiting', () => {
  const fifo = run('preemption-commit-fifo.json');
  assert.equal(fifo.preemptions, 0);
  assert.ok(max(fifo.waitNs) > 500_000, `fifo max wait ${max(fifo.waitNs)}`);
  for (const file of FAIR) {
    const fair = run(file);
    assert.equal(fair.stretchNs.length, fifo.stretchNs.length, file);
    assert.ok(fair.preemptions >= 10, `${file}: ${fair.preemptions} preemptions in commits`);
    // the interactive tasks' spins no longer land inside the stretch: about a third shorter
    assert.ok(mean(fifo.stretchNs) < 0.75 * mean(fair.stretchNs), `${file}: stretch ${mean(fair.stretchNs)} vs fifo ${mean(fifo.stretchNs)}`);
    // the log writes in flight hide most of it: commits shorter by 1 to 5 %
    const saved = 1 - mean(fifo.commitNs) / mean(fair.commitNs);
    assert.ok(saved > 0.01 && saved < 0.05, `${file}: commits ${mean(fair.commitNs)} vs fifo ${mean(fifo.commitNs)}`);
    assert.ok(max(fair.waitNs) < max(fifo.waitNs) / 10, file);
  }
  // the preemption model itself barely moves the commit: the spins land in it under every model
  const stretches = FAIR.map((f) => mean(run(f).stretchNs));
  assert.ok(max(stretches) / Math.min(...stretches) < 1.05, `stretches ${stretches.join(' ')}`);
});

test('preemption-commit.bt measures the same waits and stretch as the kernel-side view', () => {
  for (const file of ['preemption-commit.json', 'preemption-commit-fifo.json']) {
    const { m, durationNs } = bootExperiment(file);
    let out = '';
    const result = runScript(m, scriptOptions(readFileSync(join(DIR, 'preemption-commit.bt'), 'utf8'), durationNs, (s, stream) => {
      if (stream === 'stdout') out += s;
    }));
    assert.equal(result.exitCode, 0, out);
    const r = run(file);
    assert.match(out, new RegExp(`^@wait_max_ns: ${max(r.waitNs)}$`, 'm'));
    const stretch = /^@logging_stretch_us: \{ \.count = (\d+), \.average = (\d+),/m.exec(out);
    assert.ok(stretch, out);
    assert.equal(Number(stretch[1]), r.stretchNs.length);
    assert.ok(Math.abs(Number(stretch[2]) - mean(r.stretchNs) / 1000) <= 1, `${stretch[2]} vs ${mean(r.stretchNs)}`);
  }
});
