// fio's job loop: queue depth, batching, rates, offsets, ordering and the statistics of the report.
// Most tests drive the loop through a fixed-latency engine (no kernel under it) so what they see
// is the loop's own behaviour; the sync-engine and diskstats tests run the real kernel.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec, type Machine, type RunReport } from '../../../core/index.js';
import { registerEngine } from '../../../core/userspace/engines/index.js';
import { BlockDistribution, RandomMap } from '../../../core/userspace/fio.js';
import { Random } from '../../../core/sim/random.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';
import { fixedLatencyEngine, newLog, type EngineLog } from './fixed-latency-engine.js';
import { copyNs, TLB_MISS_NS } from '../../../core/hw/cpu.js';

const MiB = 1024 * 1024;
const MS = 1_000_000;
const DEV = '/dev/nvme0n1';

function run(jobs: JobSpec[], stopNs: number, seed = 1): { m: Machine; r: RunReport } {
  const m = bootMachine(DEFAULT_MACHINE, seed);
  layoutJobFiles(m, jobs);
  m.startJobs(jobs, stopNs);
  m.run(stopNs);
  return { m, r: m.report('t', seed) };
}

/** Runs jobs whose ioengine=libaio is served by a fixed-latency engine. */
function runAsync(jobs: JobSpec[], latencyNs: number, stopNs: number): { m: Machine; r: RunReport; log: EngineLog } {
  const log = newLog();
  registerEngine('libaio', () => fixedLatencyEngine(latencyNs, log));
  const { m, r } = run(jobs, stopNs);
  return { m, r, log };
}

function asyncJob(over: Partial<JobSpec>): JobSpec {
  return jobSpec({ name: 'aio', filename: DEV, ioengine: 'libaio', direct: true, size: 64 * MiB, ...over });
}

test('a sync engine with iodepth=8 runs as fio does: one I/O at a time, every submit and reap of 1, depth bucket 1', () => {
  const base = { name: 'p', filename: DEV, rw: 'randread', direct: true, size: 64 * MiB, timeBased: true, runtimeNs: 20 * MS } as const;
  const deep = run([jobSpec({ ...base, iodepth: 8 })], 30 * MS).r.jobs[0]!;
  const shallow = run([jobSpec({ ...base, iodepth: 1 })], 30 * MS).r.jobs[0]!;
  const n = deep.read.ios;
  assert.ok(n > 100, `${n} reads`);
  assert.deepEqual(deep.depths.depth, [n, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(deep.depths.submit, [0, n, 0, 0, 0, 0, 0]);
  assert.deepEqual(deep.depths.complete, [0, n, 0, 0, 0, 0, 0]);
  assert.equal(deep.read.slat.count, 0, 'no slat for a sync engine');
  assert.equal(deep.read.lat.meanNs, deep.read.clat.meanNs, 'lat = clat for a sync engine');
  assert.equal(Math.abs(n - shallow.read.ios) <= 1, true, `iodepth 8: ${n}, iodepth 1: ${shallow.read.ios}`);
});

test('an async engine keeps iodepth I/Os in flight: Little\'s law, depths 15-16, slat + clat = lat', () => {
  const { r, log } = runAsync([asyncJob({ rw: 'randread', iodepth: 16, timeBased: true, runtimeNs: 50 * MS })], 100_000, 60 * MS);
  const j = r.jobs[0]!;
  assert.equal(log.maxInFlight, 16);
  // every I/O takes 100 us in the engine: 16 in flight gives 160k IOPS less the loop's own time
  assert.ok(j.read.iops > 140_000 && j.read.iops <= 160_000, `${j.read.iops} IOPS`);
  // Little's law: IOPS x mean latency is the mean number of io_us in flight, a little under 16
  // because each spends the loop's fill time (800 ns) outside its latency
  const littleDepth = (j.read.iops * j.read.lat.meanNs) / 1e9;
  assert.ok(littleDepth > 15.5 && littleDepth <= 16, `Little's law: ${littleDepth}`);
  // clat: the engine's 100 us plus the wake-up that sees the completion
  assert.ok(j.read.clat.minNs >= 100_000 && j.read.clat.minNs < 105_000, `clat min ${j.read.clat.minNs}`);
  assert.ok(j.read.slat.count === j.read.ios && j.read.slat.minNs > 0);
  assert.ok(Math.abs(j.read.slat.meanNs + j.read.clat.meanNs - j.read.lat.meanNs) <= 1);
  const [d1, d2, d4, d8, d16, d32, d64] = j.depths.depth;
  // after the first fill the queue never drops below 14: each reap frees 1-2 io_us, each is
  // queued again at once (depth 15 or 16 at submission: buckets 8-15 and 16-31)
  assert.deepEqual([d1, d2, d4, d32, d64], [1, 2, 4, 0, 0], 'the first fill: depths 1, 2-3, 4-7');
  const submitted = j.depths.depth.reduce((a, b) => a + b, 0);
  assert.ok(submitted >= j.read.ios && submitted <= j.read.ios + 16, 'one count per submitted I/O');
  assert.ok(d8! > 8 && d16! > 0.4 * submitted, `depths ${j.depths.depth}`);
});

test('iodepth_batch_submit=8 stages 8 io_us per commit; iodepth_batch_complete_min=4 reaps at least 4', () => {
  const { r, log } = runAsync([asyncJob({ rw: 'randread', iodepth: 16, iodepthBatchSubmit: 8, iodepthBatchCompleteMin: 4, timeBased: true, runtimeNs: 20 * MS })], 100_000, 30 * MS);
  const j = r.jobs[0]!;
  assert.ok(log.commits.length > 10);
  assert.ok(log.commits.every((c) => c.count === 8), `commit sizes ${[...new Set(log.commits.map((c) => c.count))]}`);
  const waits = log.reaps.filter((x) => x.min > 0);
  assert.ok(waits.every((x) => x.min >= 4 && x.got >= 4), 'each blocking reap returns at least 4');
  assert.equal(j.depths.submit[2], log.commits.length, 'submit bucket 5-8');
});

test('iodepth_low=4: once the queue is full it drains to 4 before queueing more', () => {
  const { log } = runAsync([asyncJob({ rw: 'randread', iodepth: 16, iodepthLow: 4, iodepthBatchCompleteMax: 16, timeBased: true, runtimeNs: 10 * MS })], 100_000, 20 * MS);
  assert.equal(log.maxInFlight, 16);
  // the loop queues until all 16 io_us are taken (in flight or done but not yet reaped), then
  // reaps until 4 are left: every refill starts from at most 4 in flight
  let refills = 0;
  for (let i = 1; i < log.queued.length; i++) {
    if (log.queued[i]!.inFlight >= log.queued[i - 1]!.inFlight) continue;
    assert.ok(log.queued[i]!.inFlight <= 4, `refill ${i} started with ${log.queued[i]!.inFlight} in flight`);
    refills++;
  }
  assert.ok(refills > 5, `${refills} refills`);
});

test('rate_iops=1000 (linear): 1000 IOPS within 1%, issues 1 ms apart', () => {
  const { r, log } = runAsync([asyncJob({ rw: 'randread', iodepth: 4, rateIops: { read: 1000, write: 0 }, timeBased: true, runtimeNs: 2000 * MS })], 100_000, 2100 * MS);
  const j = r.jobs[0]!;
  assert.ok(Math.abs(j.read.iops - 1000) / 1000 < 0.01, `${j.read.iops} IOPS`);
  // the first I/O goes at once; each later one wakes from its sleep at its due time (the wake-up
  // adds the same few us to each), so from the second on they are exactly 1 ms apart
  const gaps = log.queued.slice(2).map((q, i) => q.atNs - log.queued[i + 1]!.atNs);
  assert.ok(gaps.length > 1900 && gaps.every((g) => g === 1 * MS), `gaps ${[...new Set(gaps)].slice(0, 5)}`);
});

test('rate_process=poisson: open-loop exponential gaps (coefficient of variation about 1), arrivals not held back by completions', () => {
  // 2000 IOPS of 400 us I/Os: a closed loop would space issues at least 400 us apart
  const { r, log } = runAsync([asyncJob({ rw: 'randread', iodepth: 32, rateIops: { read: 2000, write: 0 }, rateProcess: 'poisson', timeBased: true, runtimeNs: 2000 * MS })], 400_000, 2100 * MS);
  const gaps = log.queued.slice(1).map((q, i) => q.atNs - log.queued[i]!.atNs);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / (gaps.length - 1));
  assert.ok(Math.abs(mean - 500_000) / 500_000 < 0.05, `mean gap ${mean}`);
  assert.ok(Math.abs(sd / mean - 1) < 0.1, `CV ${sd / mean}`);
  assert.ok(gaps.filter((g) => g < 400_000).length > gaps.length * 0.4, 'many issues come while the previous I/O is in flight');
  assert.ok(Math.abs(r.jobs[0]!.read.iops - 2000) / 2000 < 0.05);
});

test('zipf and pareto concentrate accesses: the hottest 10% of blocks get most I/Os; uniform random does not', () => {
  const share = (dist: JobSpec['randomDistribution']) => {
    const nBlocks = 10_000;
    const d = new BlockDistribution(dist, nBlocks, new Random(7));
    const counts = new Array<number>(nBlocks).fill(0);
    for (let i = 0; i < 100_000; i++) counts[d.next()]!++;
    counts.sort((a, b) => b - a);
    return counts.slice(0, nBlocks / 10).reduce((a, b) => a + b, 0) / 100_000;
  };
  const zipf = share({ kind: 'zipf', theta: 1.2 });
  const pareto = share({ kind: 'pareto', h: 0.2 });
  const uniform = share({ kind: 'random' });
  assert.ok(zipf > 0.7, `zipf:1.2 top 10% share ${zipf}`);
  assert.ok(pareto > 0.7, `pareto:0.2 top 10% share ${pareto}`);
  assert.ok(uniform < 0.2, `random top 10% share ${uniform}`);
  // normal: most accesses within a few stddevs of the centre (before the rank scramble)
  const normal = share({ kind: 'normal', stdDevPercent: 5 });
  assert.ok(normal > 0.2, `normal:5 top 10% share ${normal}`);
});

test('zipf in a job: the loop draws offsets from the distribution', () => {
  const { log } = runAsync([asyncJob({ rw: 'randread', size: 4 * MiB, iodepth: 4, randomDistribution: { kind: 'zipf', theta: 1.2 }, timeBased: true, runtimeNs: 20 * MS })], 50_000, 30 * MS);
  const counts = new Map<number, number>();
  for (const q of log.queued) counts.set(q.offsetBytes, (counts.get(q.offsetBytes) ?? 0) + 1);
  const sorted = [...counts.values()].sort((a, b) => b - a);
  const top = sorted.slice(0, 102).reduce((a, b) => a + b, 0); // 10% of 1024 blocks
  assert.ok(top / log.queued.length > 0.7, `top share ${top / log.queued.length}`);
});

test('the random map touches every block once per loop (loops=3); norandommap repeats blocks', () => {
  const { r, log } = runAsync([asyncJob({ rw: 'randread', size: 256 * 4096, iodepth: 4, loops: 3 })], 20_000, 1000 * MS);
  assert.equal(r.jobs[0]!.read.ios, 768);
  for (let loop = 0; loop < 3; loop++) {
    const offs = new Set(log.queued.slice(loop * 256, (loop + 1) * 256).map((q) => q.offsetBytes));
    assert.equal(offs.size, 256, `loop ${loop}: each of 256 blocks once`);
  }
  const nomap = runAsync([asyncJob({ rw: 'randread', size: 256 * 4096, iodepth: 4, norandommap: true })], 20_000, 1000 * MS);
  assert.equal(nomap.log.queued.length, 256);
  assert.ok(new Set(nomap.log.queued.map((q) => q.offsetBytes)).size < 200, 'without the map, blocks repeat');
});

test('RandomMap: nextFree wraps, and a full map says so', () => {
  const map = new RandomMap(70);
  for (let b = 0; b < 70; b++) if (b !== 3 && b !== 65) map.mark(b);
  assert.equal(map.nextFree(10), 65);
  assert.equal(map.nextFree(66), 3);
  map.mark(3);
  map.mark(65);
  assert.equal(map.full, true);
  assert.equal(map.nextFree(0), -1);
});

test('offset_increment places numjobs clones: clone i reads [offset + i x increment, + size)', () => {
  const { log } = runAsync([asyncJob({ rw: 'read', size: 64 * 1024, offsetBytes: 1 * MiB, offsetIncrementBytes: 4 * MiB, numjobs: 3, iodepth: 1 })], 20_000, 100 * MS);
  const starts = [...new Set(log.queued.map((q) => Math.floor((q.offsetBytes - MiB) / (4 * MiB))))].sort();
  assert.deepEqual(starts, [0, 1, 2]);
  for (const q of log.queued) {
    const clone = Math.floor((q.offsetBytes - MiB) / (4 * MiB));
    const rel = q.offsetBytes - MiB - clone * 4 * MiB;
    assert.ok(rel >= 0 && rel + q.lenBytes <= 64 * 1024, `offset ${q.offsetBytes}`);
  }
  assert.equal(log.queued.length, 3 * 16);
});

test('bsrange picks multiples of the minimum; bssplit follows its percentages', () => {
  const { log } = runAsync([asyncJob({ rw: 'randread', iodepth: 1, timeBased: true, runtimeNs: 20 * MS, blockSizes: { read: { minBytes: 4096, maxBytes: 16384, split: [] }, write: { minBytes: 4096, maxBytes: 4096, split: [] } } })], 10_000, 30 * MS);
  const sizes = new Set(log.queued.map((q) => q.lenBytes));
  assert.deepEqual([...sizes].sort((a, b) => a - b), [4096, 8192, 12288, 16384]);
  const split = runAsync([asyncJob({ rw: 'randread', iodepth: 1, timeBased: true, runtimeNs: 50 * MS, blockSizes: { read: { minBytes: 4096, maxBytes: 65536, split: [{ bytes: 4096, percent: 75 }, { bytes: 65536, percent: 25 }] }, write: { minBytes: 4096, maxBytes: 4096, split: [] } } })], 10_000, 60 * MS);
  const small = split.log.queued.filter((q) => q.lenBytes === 4096).length / split.log.queued.length;
  assert.ok(Math.abs(small - 0.75) < 0.03, `4k share ${small}`);
});

test('rwmixread=70 and several files: 70% reads, files taken round robin', () => {
  const { log } = runAsync([asyncJob({ rw: 'randrw', rwmixread: 70, iodepth: 2, files: [DEV, '/dev/sda'], filename: `${DEV}:/dev/sda`, timeBased: true, runtimeNs: 20 * MS })], 10_000, 30 * MS);
  const reads = log.queued.filter((q) => q.ddir === 'read').length / log.queued.length;
  assert.ok(Math.abs(reads - 0.7) < 0.03, `read share ${reads}`);
  assert.ok(log.queued.every((q, i) => q.fileIndex === i % 2));
});

test('ramp_time: the first 500 ms do not count, runtime excludes them', () => {
  const { r, m } = runAsync([asyncJob({ rw: 'randread', iodepth: 4, rateIops: { read: 1000, write: 0 }, rampTimeNs: 500 * MS, runtimeNs: 1000 * MS, timeBased: true })], 100_000, 2000 * MS);
  const j = r.jobs[0]!;
  const s = m.jobs[0]!.stats;
  assert.equal(s.statsStartNs - s.startNs, 500 * MS);
  const ranNs = m.jobs[0]!.stats.endNs - s.startNs;
  assert.ok(ranNs >= 1500 * MS && ranNs < 1501 * MS, `ran ${ranNs} ns: ramp + runtime, then the last I/Os drain`);
  assert.ok(Math.abs(j.runtimeNs - 1000 * MS) < 1 * MS, `runtime ${j.runtimeNs}`);
  assert.ok(Math.abs(j.read.ios - 1000) <= 2, `${j.read.ios} I/Os counted, not 1500`);
});

test('bw and iops samples: one per 500 ms of runtime, with min/max/mean/stdev', () => {
  const { r } = runAsync([asyncJob({ rw: 'randread', iodepth: 4, rateIops: { read: 1000, write: 0 }, runtimeNs: 2300 * MS, timeBased: true })], 100_000, 3000 * MS);
  const j = r.jobs[0]!;
  assert.equal(j.read.iopsSamples.samples, 4);
  assert.equal(j.read.bwSamples.samples, 4);
  assert.equal(j.write.iopsSamples.samples, 0, 'no writes, no write samples');
  assert.ok(Math.abs(j.read.iopsSamples.mean - 1000) <= 2, `mean ${j.read.iopsSamples.mean}`);
  assert.ok(j.read.iopsSamples.min >= 998 && j.read.iopsSamples.max <= 1002);
  assert.ok(Math.abs(j.read.bwSamples.mean - 1000 * 4096) <= 2 * 4096);
});

test('percentile_list decides the clat percentiles, in its order', () => {
  const { r } = runAsync([asyncJob({ rw: 'randread', iodepth: 1, percentileList: [99.9, 50, 10], timeBased: true, runtimeNs: 10 * MS })], 100_000, 20 * MS);
  const j = r.jobs[0]!;
  assert.deepEqual(j.read.clat.percentiles.map((p) => p.percent), [99.9, 50, 10]);
  // the engine's 100 us plus the wake-up after its completion
  assert.ok(j.read.clat.percentiles.every((p) => p.ns === j.read.clat.minNs && p.ns < 110_000), JSON.stringify(j.read.clat));
  assert.deepEqual(j.read.slat.percentiles, []);
  assert.deepEqual(j.read.lat.percentiles, []);
  // every I/O took 100 us + the loop's slat: all in the usec bucket [100, 250)
  assert.equal(j.latencyBuckets.usec[6], j.read.ios);
});

test('stonewall: the second group starts after the first has exited; wait_for waits for a named job; onAllJobsDone fires at the end', () => {
  const a = asyncJob({ name: 'a', rw: 'read', size: 1 * MiB, numjobs: 2, iodepth: 4 });
  const b = asyncJob({ name: 'b', rw: 'read', size: 2 * MiB, stonewall: true, groupId: 1 });
  const c = asyncJob({ name: 'c', rw: 'read', size: 512 * 1024, waitFor: 'b', groupId: 1 });
  const log = newLog();
  registerEngine('libaio', () => fixedLatencyEngine(50_000, log));
  const m = bootMachine(DEFAULT_MACHINE, 1);
  m.startJobs([a, b, c], 10_000 * MS);
  let doneAt = -1;
  m.onAllJobsDone(() => (doneAt = m.env.nowNs));
  assert.equal(m.allJobsDone, false);
  m.run(10_000 * MS);
  assert.equal(m.allJobsDone, true);
  const [a0, a1, b0, c0] = m.jobs.map((j) => j.stats);
  assert.ok(b0!.startNs >= Math.max(a0!.endNs, a1!.endNs), 'b waits for both clones of a');
  assert.ok(c0!.startNs >= b0!.endNs, 'c waits for b');
  // the callback runs as the last job exits: after its end (its munmap and close), within 1 ms
  const lastEnd = Math.max(...m.jobs.map((j) => j.stats.endNs));
  assert.ok(doneAt >= lastEnd && doneAt - lastEnd < 1 * MS, `done at ${doneAt}, last end ${lastEnd}`);
});

test('stonewall holds back its whole phase: a job after the stonewall job starts with it, not with the jobs before', () => {
  const a = asyncJob({ name: 'a', rw: 'read', size: 1 * MiB, iodepth: 4 });
  const b = asyncJob({ name: 'b', rw: 'read', size: 1 * MiB, stonewall: true, groupId: 1 });
  const c = asyncJob({ name: 'c', rw: 'read', size: 1 * MiB, groupId: 1 });
  const log = newLog();
  registerEngine('libaio', () => fixedLatencyEngine(50_000, log));
  const m = bootMachine(DEFAULT_MACHINE, 1);
  m.startJobs([a, b, c], 10_000 * MS);
  m.run(10_000 * MS);
  assert.equal(m.allJobsDone, true);
  const [a0, b0, c0] = m.jobs.map((j) => j.stats);
  assert.ok(b0!.startNs >= a0!.endNs, 'b waits for a');
  assert.ok(c0!.startNs >= a0!.endNs, `c is in b's phase and waits for a too: c starts at ${c0!.startNs}, a ends at ${a0!.endNs}`);
  assert.ok(c0!.startNs < b0!.endNs, 'c runs alongside b');
});

test('group_reporting sums a group into one report: jobs, I/Os and histograms', () => {
  const job = (gr: boolean) => asyncJob({ rw: 'randread', iodepth: 2, numjobs: 4, groupReporting: gr, timeBased: true, runtimeNs: 10 * MS });
  const single = runAsync([job(false)], 50_000, 20 * MS).r.jobs;
  const merged = runAsync([job(true)], 50_000, 20 * MS).r.jobs;
  assert.equal(single.length, 4);
  assert.equal(merged.length, 1);
  assert.equal(merged[0]!.jobs, 4);
  assert.equal(merged[0]!.read.ios, single.reduce((a, j) => a + j.read.ios, 0));
  assert.equal(merged[0]!.read.clat.count, merged[0]!.read.ios);
  assert.equal(merged[0]!.depths.depth.reduce((a, b) => a + b, 0), single.reduce((a, j) => a + j.depths.depth.reduce((x, y) => x + y, 0), 0));
});

test('randrepeat=1 repeats the same offsets under any --seed; randrepeat=0 follows the seed', () => {
  const offsets = (seed: number, randrepeat: boolean) => {
    const log = newLog();
    registerEngine('libaio', () => fixedLatencyEngine(20_000, log));
    const job = asyncJob({ rw: 'randread', iodepth: 1, randrepeat, timeBased: true, runtimeNs: 2 * MS });
    const m = bootMachine(DEFAULT_MACHINE, seed);
    m.startJobs([job], 3 * MS);
    m.run(3 * MS);
    return log.queued.map((q) => q.offsetBytes).join(',');
  };
  assert.equal(offsets(1, true), offsets(2, true));
  assert.notEqual(offsets(1, false), offsets(2, false));
});

test('fsync=4 with a sync engine: a fsync after every 4 writes; end_fsync adds one more, outside the sync statistics', () => {
  const job = jobSpec({ name: 'w', filename: '/mnt/nvme/w.dat', rw: 'write', size: 64 * 1024, fsync: 4, endFsync: true });
  const { r } = run([job], 1000 * MS);
  const j = r.jobs[0]!;
  assert.equal(j.write.ios, 16);
  assert.equal(j.fsyncs, 4);
  assert.equal(j.errors, 0);
});

test('diskstats: merges and ticks per direction, ticks cover what the device saw, time_in_queue sums them', () => {
  const jobs = [
    jobSpec({ name: 'rr', filename: '/mnt/nvme/rr.dat', rw: 'randread', direct: true, size: 16 * MiB, timeBased: true }),
    jobSpec({ name: 'sw', filename: '/mnt/hdd/sw.dat', rw: 'write', size: 8 * MiB, fsync: 320, timeBased: true }),
  ];
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, jobs);
  const issuedAt = new Map<string, number>();
  const deviceNs = new Map<number, { read: number; write: number }>();
  attach(m, 'tracepoint:block:block_rq_issue', (h) => {
    issuedAt.set(`${h.fields['dev']}:${h.fields['sector']}`, h.timeNs);
  });
  attach(m, 'tracepoint:block:block_rq_complete', (h) => {
    const key = `${h.fields['dev']}:${h.fields['sector']}`;
    const t0 = issuedAt.get(key);
    if (t0 === undefined) return;
    issuedAt.delete(key);
    const dev = Number(h.fields['dev']);
    const e = deviceNs.get(dev) ?? { read: 0, write: 0 };
    const rwbs = String(h.fields['rwbs']);
    if (rwbs.includes('R')) e.read += h.timeNs - t0;
    else if (rwbs.includes('W')) e.write += h.timeNs - t0;
    deviceNs.set(dev, e);
  });
  m.startJobs(jobs, 300 * MS);
  m.run(300 * MS);
  const r = m.report('t', 1);
  const [nvme, hdd] = r.devices;
  const nvmeSeen = deviceNs.get(m.devices[0]!.q.dev)!;
  const hddSeen = deviceNs.get(m.devices[1]!.q.dev)!;
  assert.ok(nvme!.readIos > 100 && nvme!.readTicksNs >= nvmeSeen.read, `nvme read ticks ${nvme!.readTicksNs} >= ${nvmeSeen.read}`);
  assert.ok(hdd!.writeIos > 0 && hdd!.writeTicksNs >= hddSeen.write, `hdd write ticks ${hdd!.writeTicksNs} >= ${hddSeen.write}`);
  assert.ok(hdd!.writeMerges > 0, 'buffered sequential writes merge');
  assert.equal(nvme!.readMerges, 0, 'O_DIRECT random 4k reads do not');
  const totalMerges = r.devices.reduce((a, d) => a + d.readMerges + d.writeMerges, 0);
  assert.equal(totalMerges, r.counters.bioBackMerges + r.counters.bioFrontMerges + r.counters.requestMerges);
  for (const [i, d] of r.devices.entries()) {
    const flushNs = m.devices[i]!.q.stats.flushTicksNs;
    assert.equal(d.inQueueNs, d.readTicksNs + d.writeTicksNs + flushNs);
  }
});

test('cpu: user time is the loop\'s own work, system the rest of the task\'s run time while the job ran; faults per task', () => {
  const job = jobSpec({ name: 'mm', filename: '/mnt/nvme/mm.dat', rw: 'read', size: 1 * MiB, ioengine: 'mmap' });
  const { r, m } = run([job], 1000 * MS);
  const j = r.jobs[0]!;
  assert.equal(j.read.ios, 256);
  // fio's own loop per I/O, plus the loads through the mapping (the copy and a TLB miss per page)
  assert.equal(j.cpu.userNs, 256 * (800 + copyNs(4096) + TLB_MISS_NS));
  const s = m.jobs[0]!.stats;
  assert.equal(j.cpu.userNs + j.cpu.systemNs, s.cpuAtEndNs - s.cpuAtStartNs);
  assert.ok(s.cpuAtStartNs > 0 && s.cpuAtEndNs <= m.jobs[0]!.task.sumExecRuntimeNs, 'the exec and set-up before, the clean-up after are left out');
  assert.ok(j.cpu.majorFaults > 0 && j.cpu.minorFaults >= 0);
  assert.equal(j.cpu.majorFaults + j.cpu.minorFaults <= r.counters.majorFaults + r.counters.minorFaults, true);
});

test('sync=dsync on the raw device and sync=sync on ext4: every write reaches the media (one device flush each)', () => {
  const rows: [string, JobSpec['sync'], number, number][] = [];
  for (const [file, sync] of [[DEV, 'dsync'], [DEV, 'none'], ['/mnt/nvme/s.dat', 'sync'], ['/mnt/nvme/s.dat', 'none']] as const) {
    const { r } = run([jobSpec({ name: 'w', filename: file, rw: 'write', size: 64 * 1024, sync })], 1000 * MS);
    rows.push([file, sync, r.jobs[0]!.write.ios, r.devices[0]!.hw['flushCommands']!]);
  }
  assert.deepEqual(rows, [
    [DEV, 'dsync', 16, 16],
    [DEV, 'none', 16, 0],
    ['/mnt/nvme/s.dat', 'sync', 16, 16],
    ['/mnt/nvme/s.dat', 'none', 16, 0],
  ]);
});

test('thinktime=1ms, thinktime_blocks=4: a sleep after every 4 completed I/Os, the queue drained first', () => {
  // iodepth 1: every 4th I/O is followed by the sleep
  const one = runAsync([asyncJob({ rw: 'randread', iodepth: 1, thinktimeNs: 1 * MS, thinktimeBlocks: 4, timeBased: true, runtimeNs: 20 * MS })], 10_000, 30 * MS).log;
  const gaps = one.queued.slice(1).map((q, i) => q.atNs - one.queued[i]!.atNs);
  const after = gaps.map((g, i) => (g >= 1 * MS ? i + 1 : -1)).filter((i) => i > 0);
  assert.ok(after.length > 5);
  assert.deepEqual(after, after.map((_, i) => 4 * (i + 1)), 'sleeps before I/Os 4, 8, 12, ...');
  // iodepth 8: completions decide, and nothing is in flight during a sleep
  const deep = runAsync([asyncJob({ rw: 'randread', iodepth: 8, thinktimeNs: 1 * MS, thinktimeBlocks: 4, timeBased: true, runtimeNs: 20 * MS })], 10_000, 30 * MS).log;
  const sleeps = deep.queued.map((q, i) => (i > 0 && q.atNs - deep.queued[i - 1]!.atNs >= 1 * MS ? i : -1)).filter((i) => i > 0);
  assert.ok(sleeps.length > 5);
  for (const i of sleeps) assert.equal(deep.queued[i]!.inFlight, 0, `I/O ${i} after a sleep finds the queue drained`);
  for (let s = 1; s < sleeps.length; s++) assert.ok(sleeps[s]! - sleeps[s - 1]! >= 4, 'at least 4 I/Os between sleeps');
});

test('file_service_type: roundrobin alternates, sequential finishes a file first, random mixes', () => {
  const files = (t: JobSpec['fileServiceType']) =>
    runAsync([asyncJob({ rw: 'read', iodepth: 1, size: 128 * 1024, files: [DEV, '/dev/sda'], filename: `${DEV}:/dev/sda`, fileServiceType: t })], 10_000, 100 * MS).log.queued.map((q) => q.fileIndex);
  assert.deepEqual(files('roundrobin'), Array.from({ length: 32 }, (_, i) => i % 2));
  assert.deepEqual(files('sequential'), [...Array<number>(16).fill(0), ...Array<number>(16).fill(1)]);
  const random = files('random');
  assert.equal(random.length, 32);
  assert.ok(random.some((f, i) => i > 0 && f === random[i - 1]) && random.includes(0) && random.includes(1));
});

test('fdatasync=8: fdatasync after every 8 writes, counted with the syncs', () => {
  const { r, m } = run([jobSpec({ name: 'w', filename: '/mnt/hdd/d.dat', rw: 'write', size: 128 * 1024, fdatasync: 8 })], 2000 * MS);
  assert.equal(r.jobs[0]!.write.ios, 32);
  assert.equal(r.jobs[0]!.fsyncs, 4);
  assert.ok(m.jobs[0]!.done);
});

test('create_on_open: the file is opened (O_CREAT) at the first I/O, after the job started', () => {
  const job = jobSpec({ name: 'c', filename: '/mnt/nvme/c.dat', rw: 'write', size: 16 * 1024, createOnOpen: true });
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const opens: { flags: number; timeNs: number }[] = [];
  attach(m, 'tracepoint:syscalls:sys_enter_openat', (h) => opens.push({ flags: Number(h.fields['flags']), timeNs: h.timeNs }));
  let mmapNs = -1;
  attach(m, 'tracepoint:syscalls:sys_enter_mmap', (h) => {
    if (mmapNs < 0) mmapNs = h.timeNs;
  });
  m.startJobs([job], 100 * MS);
  m.run(100 * MS);
  assert.equal(opens.length, 1);
  assert.ok(opens[0]!.flags & 0o100, 'O_CREAT');
  assert.ok(opens[0]!.timeNs > mmapNs, 'opened after the buffers were set up, at the first I/O');
  assert.equal(m.report('t', 1).jobs[0]!.write.ios, 4);
});

test('rate= in bytes per second: 4 MiB/s of 4 KiB reads is 1024 IOPS; startdelay holds the first I/O back', () => {
  const { r, m, log } = runAsync([asyncJob({ rw: 'read', iodepth: 2, rateBytesPerSec: { read: 4 * MiB, write: 0 }, startdelayNs: 100 * MS, timeBased: true, runtimeNs: 1000 * MS })], 50_000, 1200 * MS);
  const j = r.jobs[0]!;
  assert.ok(Math.abs(j.read.iops - 1024) / 1024 < 0.01, `${j.read.iops} IOPS`);
  assert.ok(m.jobs[0]!.stats.startNs >= 100 * MS && log.queued[0]!.atNs > 100 * MS);
});

test('iodepth_batch_complete_max=2: no reap returns more than 2 until the final drain', () => {
  const { log } = runAsync([asyncJob({ rw: 'randread', iodepth: 16, iodepthBatchCompleteMax: 2, timeBased: true, runtimeNs: 10 * MS })], 100_000, 20 * MS);
  assert.ok(log.reaps.length > 100);
  // the end of the job waits for all that is left (fio: min = max = cur_depth); every other reap is capped
  const last = log.reaps.at(-1)!;
  assert.ok(last.min > 2 && last.got === last.min);
  assert.ok(log.reaps.slice(0, -1).every((x) => x.got <= 2 && x.max <= 2), `reap sizes ${[...new Set(log.reaps.map((x) => x.got))]}`);
});

test('rw=read:N and rw=randread:N: holes after each I/O, reading backwards with wrap to the end, runs of N from each random offset', () => {
  const offsets = (over: Partial<JobSpec>, n: number): number[] => {
    const { log } = runAsync([asyncJob({ size: 64 * 1024, bs: 4096, iodepth: 1, ...over })], 100_000, 50 * MS);
    return log.queued.slice(0, n).map((q) => q.offsetBytes / 1024);
  };
  assert.deepEqual(offsets({ rw: 'read', seqAddBytes: 8192 }, 6), [0, 12, 24, 36, 48, 60]);
  // fio's backwards-read: the first read at 0, then from the end back, 4k at a time
  assert.deepEqual(offsets({ rw: 'read', seqAddBytes: -8192 }, 6), [0, 56, 52, 48, 44, 40]);
  const runs = offsets({ rw: 'randread', randomRunIos: 4, norandommap: true }, 12);
  for (let i = 0; i < 12; i += 4) assert.deepEqual(runs.slice(i, i + 4), [0, 4, 8, 12].map((d) => runs[i]! + d), `a run of 4 from ${runs[i]}: ${runs.join(',')}`);
});

test('zoned distribution: each zone gets its share of the I/Os, uniformly inside it; blockalign aligns random offsets', () => {
  const { log } = runAsync(
    [asyncJob({ rw: 'randread', size: 4 * MiB, iodepth: 4, randomDistribution: { kind: 'zoned', zones: [{ accessPercent: 50, sizePercent: 5 }, { accessPercent: 30, sizePercent: 15 }, { accessPercent: 20, sizePercent: 80 }] }, timeBased: true, runtimeNs: 20 * MS })],
    20_000,
    30 * MS,
  );
  const offs = log.queued.map((q) => q.offsetBytes / (4 * MiB));
  const inZone = (lo: number, hi: number): number => offs.filter((x) => x >= lo && x < hi).length / offs.length;
  assert.ok(offs.length > 1000, `${offs.length} I/Os`);
  assert.ok(Math.abs(inZone(0, 0.05) - 0.5) < 0.04, `first 5%: ${inZone(0, 0.05)}`);
  assert.ok(Math.abs(inZone(0.05, 0.2) - 0.3) < 0.04, `next 15%: ${inZone(0.05, 0.2)}`);
  assert.ok(Math.abs(inZone(0.2, 1) - 0.2) < 0.04, `last 80%: ${inZone(0.2, 1)}`);
  const aligned = runAsync([asyncJob({ rw: 'randread', bs: 512, blockAlignBytes: 4096, size: 4 * MiB, iodepth: 4, norandommap: true, timeBased: true, runtimeNs: 5 * MS })], 20_000, 10 * MS).log;
  assert.ok(aligned.queued.length > 100);
  assert.deepEqual(aligned.queued.filter((q) => q.offsetBytes % 4096 !== 0), []);
});

test('number_ios: the job ends once it has issued that many, across loops, never past its size', () => {
  const ios = (over: Partial<JobSpec>): number => runAsync([asyncJob({ rw: 'randread', size: 64 * 1024, iodepth: 4, ...over })], 20_000, 20 * MS).r.jobs[0]!.read.ios;
  assert.equal(ios({ numberIos: 10, loops: 3 }), 10);
  assert.equal(ios({ numberIos: 40, loops: 3 }), 40, 'across loops (16 I/Os each)');
  assert.equal(ios({ numberIos: 1000 }), 16, 'the size still ends the job first');
});

test('exitall: when a job ends, exit_what decides which others end with it (its group, its stonewall phase, or all)', () => {
  const ends = (exitWhat: JobSpec['exitWhat']): number[] => {
    const jobs = [
      jobSpec({ name: 'short', filename: DEV, rw: 'randread', direct: true, size: 64 * 1024, exitall: true, exitWhat }),
      jobSpec({ name: 'long-same-group', filename: DEV, rw: 'randread', direct: true, size: 64 * MiB, timeBased: true, runtimeNs: 50 * MS }),
      jobSpec({ name: 'long-other-group', filename: DEV, rw: 'randread', direct: true, size: 64 * MiB, timeBased: true, runtimeNs: 50 * MS, groupId: 1 }),
    ];
    const { m } = run(jobs, 100 * MS);
    return m.jobs.map((j) => j.stats.endNs);
  };
  const group = ends('group');
  assert.ok(group[0]! < 5 * MS, `the short job reads 16 blocks: ${group[0]}`);
  assert.ok(Math.abs(group[1]! - group[0]!) < 1 * MS, `its group ends with it: ${group}`);
  assert.ok(group[2]! >= 50 * MS, `another group runs on: ${group}`);
  const all = ends('all');
  assert.ok(all.every((e) => Math.abs(e - all[0]!) < 1 * MS), `all end together: ${all}`);
  // the three share one stonewall phase here
  const phase = ends('stonewall');
  assert.ok(phase.every((e) => Math.abs(e - phase[0]!) < 1 * MS), `the phase ends together: ${phase}`);
});

test('rate_min: after 2 s, a direction that falls below its least bandwidth ends the job with EIO (fio check_min_rate)', () => {
  const job = (rateMinBytesPerSec: number): JobSpec =>
    jobSpec({ name: 'r', filename: DEV, rw: 'randread', direct: true, size: 64 * MiB, timeBased: true, runtimeNs: 5000 * MS, rateBytesPerSec: { read: 40_960, write: 0 }, rateMinBytesPerSec: { read: rateMinBytesPerSec, write: rateMinBytesPerSec } });
  const failing = run([job(100_000)], 6000 * MS).r.jobs[0]!;
  assert.equal(failing.firstErrno, 5, 'EIO');
  assert.ok(failing.runtimeNs > 2000 * MS && failing.runtimeNs < 4000 * MS, `ended after the settling period and one cycle: ${failing.runtimeNs}`);
  const meeting = run([job(20_000)], 6000 * MS).r.jobs[0]!;
  assert.equal(meeting.errors, 0, 'the write direction did no I/O and is not checked');
  assert.ok(meeting.runtimeNs >= 5000 * MS);
});

test('the cpu line covers the job\'s run, not its fork, exec and set-up: one cold read uses a few percent of its time', () => {
  const j = run([jobSpec({ name: 'one', filename: '/mnt/nvme/one', size: 4096 })], 20 * MS).r.jobs[0]!;
  const cpuNs = j.cpu.userNs + j.cpu.systemNs;
  assert.ok(cpuNs > 0 && cpuNs < j.runtimeNs * 0.2, `cpu ${cpuNs} ns of ${j.runtimeNs} ns`);
});

test('flow: jobs of one flow_id share its turns by weight (3:1 here, 1:1 for a butterfly), flow_sleep quiesces and sleeps', () => {
  const reads = (weights: readonly number[], extra: Partial<JobSpec> = {}, flowIds: readonly number[] = weights.map(() => 0)): number[] => {
    const jobs = weights.map((flow, i) =>
      jobSpec({ name: `j${i}`, filename: DEV, rw: i % 2 === 0 ? 'read' : 'randread', direct: true, size: 64 * MiB, timeBased: true, runtimeNs: 20 * MS, flow, flowId: flowIds[i]!, ...extra }),
    );
    return run(jobs, 40 * MS).r.jobs.map((j) => j.read.ios);
  };
  const [a, b] = reads([3, 1]);
  assert.ok(Math.abs(a! / b! - 3) < 0.05, `3:1 within a few I/Os: ${a} vs ${b}`);
  const [f, r] = reads([2, 2]);
  assert.ok(Math.abs(f! - r!) <= 1, `equal weights take turns: ${f} vs ${r}`);
  // in different flows the weights do not meet: both run freely, as fast as without a flow
  const [x, y] = reads([3, 1], {}, [1, 2]);
  const [p, q] = reads([0, 0]);
  assert.deepEqual([x, y], [p, q]);
  // flow_sleep=500us: a job over its share sleeps 500 us instead of spinning: the shares hold,
  // but the time asleep costs the pair a quarter of its I/Os
  const [s1, s2] = reads([3, 1], { flowSleepNs: 500_000 });
  assert.ok(Math.abs(s1! / s2! - 3) < 0.1, `still 3:1: ${s1} vs ${s2}`);
  assert.ok(s1! + s2! < 0.8 * (a! + b!), `sleeping costs turns: ${s1}+${s2} vs ${a}+${b}`);
});

test('latency_target: the depth doubles, then bisects to the deepest queue that meets the target; a final window at that depth is the result', () => {
  const job = jobSpec({
    name: 'lt',
    filename: DEV,
    rw: 'randread',
    ioengine: 'io_uring',
    direct: true,
    size: 64 * MiB,
    iodepth: 64,
    timeBased: true,
    runtimeNs: 1000 * MS,
    latencyTargetNs: 300_000,
    latencyWindowNs: 5 * MS,
    latencyPercentile: 99,
  });
  const found = run([job], 1000 * MS).r.jobs[0]!;
  const depth = found.latencyTarget.depth;
  assert.ok(depth > 8 && depth < 64, `the NVMe meets 300 us for 99% of reads up to a depth between its parallelism and iodepth: ${depth}`);
  assert.equal(found.errors, 0);
  assert.ok(found.runtimeNs <= 10 * MS, `the job ends after the final window (its statistics start there): ${found.runtimeNs}`);
  assert.ok(found.read.clat.p99Ns <= 300_000, `the final window meets the target: p99 ${found.read.clat.p99Ns}`);
  assert.deepEqual(
    { targetNs: found.latencyTarget.targetNs, windowUs: found.latencyTarget.windowUs, percentile: found.latencyTarget.percentile },
    { targetNs: 300_000, windowUs: 5000, percentile: 99 },
  );
  // the same depth without the search runs far over the target
  const full = run([{ ...job, latencyTargetNs: 0 }], 20 * MS).r.jobs[0]!;
  assert.ok(full.read.clat.p99Ns > 300_000, `iodepth=64 misses it: p99 ${full.read.clat.p99Ns}`);
  // a target no depth can meet, with every I/O required to: fio's lat_fatal at depth 1
  const tight = run([{ ...job, latencyTargetNs: 10_000, latencyPercentile: 100 }], 100 * MS).r.jobs[0]!;
  assert.equal(tight.firstErrno, 110, 'ETIMEDOUT');
  assert.equal(tight.latencyTarget.depth, 1);
  assert.ok(tight.runtimeNs < 1 * MS, `it fails at its first I/O: ${tight.runtimeNs}`);
});

test('ioscheduler=kyber: the job writes it to /sys/block/nvme0n1/queue/scheduler before it runs; its requests go through kyber', () => {
  const job = jobSpec({ name: 'k', filename: DEV, rw: 'randread', direct: true, ioengine: 'psync', size: 16 * MiB, timeBased: true, ioscheduler: { disk: 'nvme0n1', scheduler: 'kyber' } });
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [job]);
  const q = m.k.queues.find((queue) => queue.diskName === 'nvme0n1')!;
  const schedulerName = (): string => q.elevator?.name ?? 'none';
  assert.equal(schedulerName(), 'none', 'nvme0n1 boots with none');
  // block_rq_insert fires when a request goes to the elevator; with none, requests are issued directly
  let inserts = 0;
  attach(m, 'tracepoint:block:block_rq_insert', () => inserts++);
  m.startJobs([job], 5 * MS);
  m.run(5 * MS);
  assert.equal(schedulerName(), 'kyber');
  const ios = m.report('t', 1).jobs[0]!.read.ios;
  assert.ok(ios > 50, `${ios} reads`);
  // every read went through kyber's insert (the last one was still in flight at the stop)
  assert.equal(inserts, ios + 1, `${inserts} inserts, ${ios} reads`);
});
