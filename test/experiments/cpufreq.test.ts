// traces/experiments/cpufreq*.json: a QD1 O_DIRECT reader under the performance, powersave and
// schedutil governors. CPU work is in cycles, so powersave (800 MHz) stretches each read's CPU part
// by 3500/800; schedutil's iowait boost takes the reader's CPU to 3.5 GHz within 8 ms, after which
// its reads are as fast as performance's. cpufreq.bt prints the frequency steps.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attach } from '../../probes/attach.js';
import { runScript } from '../../probes/script.js';
import { bootExperiment, EXPERIMENTS_DIR, timePreads } from '../helpers/experiment.js';
import { scriptOptions } from '../helpers/script.js';

const MS = 1_000_000;

/** Mean pread latency of the reader (all reads, and those starting after `fromNs`), and the frequency changes. */
function run(file: string, fromNs = 0): { meanNs: number; laterMeanNs: number; reads: number; changes: { t: number; cpu: number; khz: number }[] } {
  const { m, durationNs } = bootExperiment(file);
  const all: number[] = [];
  const later: number[] = [];
  timePreads(m, 'reader', (startNs, ns) => {
    all.push(ns);
    if (startNs >= fromNs) later.push(ns);
  });
  const changes: { t: number; cpu: number; khz: number }[] = [];
  attach(m, 'tracepoint:power:cpu_frequency', (h) => void changes.push({ t: h.timeNs, cpu: Number(h.fields['cpu_id']), khz: Number(h.fields['state']) }));
  m.run(durationNs);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { meanNs: mean(all), laterMeanNs: mean(later), reads: all.length, changes };
}

test('cpufreq: powersave adds ~10.7 µs to every QD1 read (its CPU part x4.4); schedutil boosts to 3.5 GHz in 8 ms and then matches performance', () => {
  const perf = run('cpufreq-performance.json', 10 * MS);
  const ps = run('cpufreq-powersave.json', 10 * MS);
  const su = run('cpufreq.json', 10 * MS);
  // performance and powersave never change frequency (powersave set 800 MHz at boot)
  assert.deepEqual(perf.changes, []);
  assert.deepEqual(ps.changes, []);
  // powersave: 67.6 -> 78.4 µs
  const addedNs = ps.meanNs - perf.meanNs;
  assert.ok(addedNs > 10_000 && addedNs < 11_500, `performance ${perf.meanNs}, powersave ${ps.meanNs} ns`);
  assert.ok(ps.reads < perf.reads * 0.9, `${perf.reads} -> ${ps.reads} reads`);
  // schedutil: iowait boost 256, 512, 1024 at 2 ms decisions -> 1.1, 2.2, 3.5 GHz on the reader's CPU
  assert.deepEqual(
    su.changes.map((c) => c.khz),
    [1_100_000, 2_200_000, 3_500_000],
  );
  assert.ok(su.changes.at(-1)!.t < 8.5 * MS, JSON.stringify(su.changes));
  // after the ramp its reads take what performance's take; over the whole run it pays for the first 8 ms
  assert.ok(Math.abs(su.laterMeanNs - perf.laterMeanNs) < 50, `performance ${perf.laterMeanNs}, schedutil ${su.laterMeanNs} ns after 10 ms`);
  assert.ok(su.meanNs > perf.meanNs + 500 && su.meanNs < perf.meanNs + 2000, `performance ${perf.meanNs}, schedutil ${su.meanNs} ns`);
});

test('cpufreq.bt prints the three frequency steps and the reads\' mean', () => {
  const { m, durationNs } = bootExperiment('cpufreq.json');
  let out = '';
  const text = readFileSync(join(EXPERIMENTS_DIR, 'cpufreq.bt'), 'utf8');
  const r = runScript(m, scriptOptions(text, durationNs, (t, stream) => void (stream === 'stdout' ? (out += t) : undefined), { quiet: true, sourceName: 'cpufreq.bt' }));
  assert.equal(r.exitCode, 0);
  assert.match(out, /^ {2}4099 us {2}cpu1 -> 1100 MHz$/m);
  assert.match(out, /^ {2}6107 us {2}cpu1 -> 2200 MHz$/m);
  assert.match(out, /^ {2}8159 us {2}cpu1 -> 3500 MHz$/m);
  assert.match(out, /^@pread_avg_ns: 6\d{4}$/m);
});
