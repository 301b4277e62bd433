// The io-latency experiment (traces/experiments/io-latency*.json): an interactive reader (4 KiB
// random O_DIRECT reads, QD1) in a cgroup with io.latency target=30000 shares a 7200 rpm disk with
// a bulk reader (64 KiB random reads at iodepth 32) in a cgroup with no target. Without the target
// the interactive reads wait behind the bulk group's queue (about 160 ms each); with it,
// blk-iolatency halves the bulk group's depth once per missed window (at most every 500 ms) down to
// 1, and the interactive reads come back to near their target.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { CgroupIoLatencyReport, RunReport } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { bootExperiment, timePreads, oncePerFile } from '../helpers/experiment.js';

const MS = 1e6;
/** The last stretch, once the depth has come down (it reaches 1 at about 5 s). */
const SETTLED_FROM_NS = 6000 * MS;

interface LatencyRun {
  readonly report: RunReport;
  /** Mean of the interactive job's preads (syscall entry to exit), over the run and since SETTLED_FROM_NS, ns. */
  readonly meanNs: number;
  readonly settledMeanNs: number;
  /** The bulk group's depth changes in order: [time, old, new]. */
  readonly steps: readonly (readonly [number, number, number])[];
}

const run = oncePerFile(measure);

function measure(file: string): LatencyRun {
  const { m, durationNs, name } = bootExperiment(file);
  let n = 0;
  let sumNs = 0;
  let settledN = 0;
  let settledSumNs = 0;
  timePreads(m, 'interactive', (startNs, durNs) => {
    n++;
    sumNs += durNs;
    if (startNs >= SETTLED_FROM_NS) {
      settledN++;
      settledSumNs += durNs;
    }
  });
  const steps: [number, number, number][] = [];
  attach(m, 'tracepoint:kiotrace:iolatency_scale', (h) => {
    if (h.fields.cgroup === 'bulk') steps.push([h.timeNs, Number(h.fields.old_depth), Number(h.fields.new_depth)]);
  });
  m.run(durationNs);
  const report = m.report(name, 1);
  const r: LatencyRun = { report, meanNs: sumNs / n, settledMeanNs: settledSumNs / settledN, steps };
  return r;
}

function latencyOf(r: LatencyRun, cgroup: string): CgroupIoLatencyReport {
  const l = r.report.cgroups?.find((g) => g.name === cgroup)?.ioLatency?.[0];
  assert.ok(l, `${cgroup} reports its io.latency state`);
  return l;
}

test('with io.latency the bulk group is scaled down by halving from nr_requests to 1, no faster than every 500 ms', () => {
  const r = run('io-latency.json');
  const downs = r.steps.filter(([, o, nw]) => nw < Math.min(o, 64)).map(([, , nw]) => nw);
  // mq-deadline's nr_requests is 64: the first step takes "max" to 32
  assert.deepEqual(downs.slice(0, 6), [32, 16, 8, 4, 2, 1], `depth steps: ${JSON.stringify(r.steps)}`);
  for (let i = 1; i < r.steps.length; i++) {
    assert.ok(r.steps[i]![0] - r.steps[i - 1]![0] >= 500 * MS, `scale events at least 500 ms apart: ${JSON.stringify(r.steps)}`);
  }
  // once the interactive group meets its target the bulk group gets nr_requests/16 back
  assert.ok(r.steps.some(([, o, nw]) => o === 1 && nw === 5), `a scale-up from 1 to 5: ${JSON.stringify(r.steps)}`);
  const bulk = latencyOf(r, 'bulk');
  assert.equal(bulk.targetUs, null);
  assert.equal(bulk.minDepth, 1);
  assert.ok(bulk.depth !== null && bulk.depth <= 5, `bulk depth at the end: ${bulk.depth}`);
  // the protected group itself is never throttled; a rotational disk's window is the target x16
  const interactive = latencyOf(r, 'interactive');
  assert.equal(interactive.targetUs, 30000);
  assert.equal(interactive.depth, null);
  assert.equal(interactive.ssd, false);
  assert.equal(interactive.winMs, 480);
});

test('io.latency brings the interactive reads from about 160 ms to near their 30 ms target', () => {
  const on = run('io-latency.json');
  const off = run('io-latency-off.json');
  assert.equal(off.steps.length, 0, 'no io.latency, no scaling');
  assert.equal(off.report.cgroups?.find((g) => g.name === 'bulk')?.ioLatency, undefined);
  assert.ok(off.settledMeanNs > 120 * MS, `without: ${off.settledMeanNs / MS} ms`);
  assert.ok(on.settledMeanNs < 45 * MS && on.settledMeanNs > 15 * MS, `with, once scaled down: ${on.settledMeanNs / MS} ms`);
  assert.ok(on.settledMeanNs * 3 < off.settledMeanNs, `${on.settledMeanNs / MS} ms vs ${off.settledMeanNs / MS} ms`);
  assert.ok(on.meanNs * 2 < off.meanNs, `over the whole run: ${on.meanNs / MS} ms vs ${off.meanNs / MS} ms`);
  // the bulk reader pays: it keeps going at a lower rate
  const bulkIos = (r: LatencyRun): number => r.report.jobs.find((j) => j.name === 'bulk')!.read.ios;
  assert.ok(bulkIos(on) > 0 && bulkIos(on) < bulkIos(off), `bulk reads: ${bulkIos(on)} vs ${bulkIos(off)}`);
});
