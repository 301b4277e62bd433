// The dirty-throttle experiment (traces/experiments/dirty-throttle.*): one buffered writer much
// faster than its HDD. balance_dirty_pages() lets it run free below the freerun ceiling, then
// paces it so dirty memory settles near the setpoint, with pauses sized from the disk's write
// bandwidth: all read from writeback:balance_dirty_pages, as the README paragraph says.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Machine, ProbeHit, RunReport, Scenario } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';

const DIR = join(repoRoot(), 'traces', 'experiments');

function load(): Scenario {
  const loaded = loadScenario(join(DIR, 'dirty-throttle.json'), join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  return loaded.scenario;
}

interface Traced {
  readonly r: RunReport;
  readonly m: Machine;
  readonly bdp: ProbeHit[];
  readonly ratelimit: ProbeHit[];
  /** [start, end) of each cache flush the disk ran (FLUSH CACHE EXT holds the SATA link alone). */
  readonly flushes: [number, number][];
}

/** Runs the scenario to its end with both throttling tracepoints recorded. */
function run(scenario: Scenario): Traced {
  const m = prepareRun(scenario, { seed: 1, durationNs: scenario.durationNs });
  const bdp: ProbeHit[] = [];
  const ratelimit: ProbeHit[] = [];
  attach(m, 'tracepoint:writeback:balance_dirty_pages', (h) => bdp.push(h));
  attach(m, 'tracepoint:writeback:bdi_dirty_ratelimit', (h) => ratelimit.push(h));
  // a flush libata deferred is issued, requeued, and issued again: the window is the last issue's
  const flushes: [number, number][] = [];
  let flushIssuedNs = -1;
  attach(m, 'tracepoint:block:block_rq_issue', (h) => {
    if (h.fields['rwbs'] === 'FF') flushIssuedNs = h.timeNs;
  });
  attach(m, 'tracepoint:block:block_rq_complete', (h) => {
    if (h.fields['rwbs'] === 'FF') flushes.push([flushIssuedNs, h.timeNs]);
  });
  m.run(scenario.durationNs);
  assert.ok(m.allJobsDone, 'the writer ended');
  return { r: m.report(scenario.name, 1), m, bdp, ratelimit, flushes };
}

const num = (h: ProbeHit, f: string): number => Number(h.fields[f]);
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

test('dirty throttling: free below the freerun ceiling, dirty settles near the setpoint, pauses sized from the write bandwidth', () => {
  const seq = run(load());
  // dirtyable memory (free + file pages) barely moves while the cache fills: page cache replaces free pages
  const avail = seq.m.k.mm.dirtyablePages + 1;
  const pct = (pages: number): number => (pages / avail) * 100;
  const first = seq.bdp[0]!;
  const limit = num(first, 'limit');
  const setpoint = num(first, 'setpoint');
  const freerun = 2 * setpoint - limit;
  assert.ok(Math.abs(pct(limit) - 20) < 0.1 && Math.abs(pct(setpoint) - 17.5) < 0.1 && Math.abs(pct(freerun) - 15) < 0.1, `limit ${pct(limit)}%, setpoint ${pct(setpoint)}%, freerun ${pct(freerun)}%`);

  // below freerun the writer never enters the control law; it does as soon as dirty crosses it
  assert.ok(seq.bdp.every((h) => num(h, 'dirty') > 2 * num(h, 'setpoint') - num(h, 'limit')), 'no balance_dirty_pages hit below the freerun ceiling');
  assert.ok(pct(num(first, 'dirty')) < 15.2, `throttling starts at ${pct(num(first, 'dirty'))}% dirty`);
  assert.ok(first.timeNs < 100_000_000, `the writer reached freerun at full speed (${first.timeNs} ns)`);

  // steady state (the last third of the run): dirty within 2 points of the 17.5% setpoint
  const endNs = seq.bdp.at(-1)!.timeNs;
  const late = seq.bdp.filter((h) => h.timeNs > endNs - 4e9);
  const lateDirty = mean(late.map((h) => pct(num(h, 'dirty'))));
  assert.ok(lateDirty > 15.5 && lateDirty < 19.5, `late dirty ${lateDirty}% is within 2 points of 17.5%`);
  // the journal's periodic commit flushes the disk's cache: the non-NCQ FLUSH CACHE EXT holds the
  // link for over a second while the drive destages, writeback stops and dirty climbs to the limit;
  // the rest of the time the control law keeps it off the limit
  const inFlush = (h: ProbeHit): boolean => seq.flushes.some(([a, b]) => h.timeNs >= a && h.timeNs < b);
  const longFlush = seq.flushes.find(([a, b]) => b - a > 1e9 && a > endNs - 4e9);
  assert.ok(longFlush !== undefined, `a commit's cache flush in the last 4 s takes over a second: ${JSON.stringify(seq.flushes)}`);
  assert.ok(late.filter((h) => !inFlush(h)).every((h) => pct(num(h, 'dirty')) < 19.5), 'never near the limit once settled, but while a flush holds the disk');
  assert.ok(late.some((h) => inFlush(h) && pct(num(h, 'dirty')) > 19.9), 'at the limit while the flush holds the disk');

  // pauses: between wb_min_pause (half the 10 ms target + 1) and MAX_PAUSE
  const pauses = seq.bdp.filter((h) => num(h, 'pause') > 0).map((h) => num(h, 'pause'));
  assert.ok(pauses.length > 500, `${pauses.length} pauses`);
  assert.ok(pauses.every((p) => p >= 6 && p <= 200), `pauses ${Math.min(...pauses)}..${Math.max(...pauses)} ms`);
  const pausedMs = pauses.reduce((a, b) => a + b, 0);
  assert.equal(seq.r.counters.dirtyThrottlePauses, pauses.length);
  assert.equal(seq.r.counters.dirtyThrottlePauseNs, pausedMs * 1e6);

  // the writer runs at the disk's pace (what it dirtied the disk wrote, but for what stays dirty
  // at the end), not at its own GB/s
  const disk = seq.r.devices[0]!;
  const runtimeS = seq.r.jobs[0]!.runtimeNs / 1e9;
  const diskBps = disk.writeBytes / runtimeS;
  const writerBps = seq.r.jobs[0]!.write.bandwidthBytesPerSec;
  assert.ok(Math.abs(writerBps / diskBps - 1) < 0.1, `writer ${writerBps} B/s vs disk ${diskBps} B/s`);
  const lastRl = seq.ratelimit.at(-1)!;
  const bwKBps = num(lastRl, 'avg_write_bw');
  // (within 20%: the estimate averages over the second-long flush stalls, which pass no writeback)
  assert.ok(Math.abs(bwKBps * 1024 / diskBps - 1) < 0.2, `estimated write bandwidth ${bwKBps} KB/s vs the disk's ${diskBps / 1024} KB/s`);
  assert.ok(num(lastRl, 'dirty_ratelimit') > 102_400, `dirty_ratelimit rose from INIT_BW (100 MB/s) towards the disk's ${bwKBps} KB/s: ${num(lastRl, 'dirty_ratelimit')}`);

  // a slower disk (the same HDD under 4 KiB random writes): lower rate limits, longer pauses
  const base = load();
  const job = base.jobs[0]!;
  const slow = run({ ...base, durationNs: 3.2e9, jobs: [{ ...job, rw: 'randwrite', bs: 4096, runtimeNs: 3e9 }] });
  // (the estimate lags: it still falls from the drive's write-cache burst after 3 s)
  const writeBw = (t: Traced): number => num(t.ratelimit.at(-1)!, 'write_bw');
  assert.ok(writeBw(slow) < writeBw(seq) / 2, `write_bw ${writeBw(slow)} KB/s on the slow disk vs ${writeBw(seq)} KB/s`);
  // compared once the slow disk's dirty pages reached their level (after 1.5 s), in the same window
  const windowPauses = (t: Traced): number[] => t.bdp.filter((h) => num(h, 'pause') > 0 && h.timeNs > 1.5e9 && h.timeNs < 3e9).map((h) => num(h, 'pause'));
  const slowPauses = windowPauses(slow);
    assert.ok(slowPauses.every((p) => p > 0 && p <= 200), `slow pauses ${Math.min(...slowPauses)}..${Math.max(...slowPauses)} ms`);
  assert.ok(median(slowPauses) > 4 * median(windowPauses(seq)), `median pause ${median(slowPauses)} ms on the slow disk vs ${median(windowPauses(seq))} ms`);
  const trl = (t: Traced): number => median(t.bdp.filter((h) => h.timeNs > 1.5e9 && h.timeNs < 3e9).map((h) => num(h, 'task_ratelimit')));
  assert.ok(trl(slow) < trl(seq) / 10, `task_ratelimit ${trl(slow)} KB/s on the slow disk vs ${trl(seq)} KB/s`);
});
