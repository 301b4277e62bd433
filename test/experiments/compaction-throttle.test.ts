// The compaction-throttle experiment (traces/experiments/compaction-throttle*.json): an LSM-tree
// store (ioengine=lsm) whose compaction thread runs in a cgroup, with nothing, 64 MiB/s or
// 16 MiB/s of io.max on it. The throttle does what it was set for (compaction moves less, and
// each foreground pread waits less behind it), and compaction falls behind the puts: level 0
// piles up, each lookup preads one more file per L0 file, and the lookups' latency rises
// (the seed's unintended consequence: read amplification).
import test from 'node:test';
import assert from 'node:assert/strict';
import type { JobReport, LsmStats, RunReport } from '../../core/index.js';
import { bootExperiment, timePreads, oncePerFile } from '../helpers/experiment.js';

const MIB = 2 ** 20;

interface StoreRun {
  readonly report: RunReport;
  readonly db: JobReport;
  readonly lsm: LsmStats;
  /** Mean time of the lookups' preads (syscall entry to exit), ns. */
  readonly preadMeanNs: number;
}

const run = oncePerFile(measure);

function measure(file: string): StoreRun {
  const { m, durationNs, name } = bootExperiment(file);
  let preads = 0;
  let preadNs = 0;
  timePreads(m, 'db', (_startNs, durNs) => {
    preads++;
    preadNs += durNs;
  });
  m.run(durationNs);
  const report = m.report(name, 1);
  const db = report.jobs.find((j) => j.name === 'db');
  assert.ok(db?.lsm, `${file}: the db job reports its store`);
  const r: StoreRun = { report, db, lsm: db.lsm, preadMeanNs: preadNs / preads };
  return r;
}

const perLookup = (r: StoreRun): number => r.lsm.probes / r.lsm.lookups;

test('unthrottled, compaction keeps level 0 at its trigger: about 4.4 preads per lookup', () => {
  const r = run('compaction-throttle-none.json');
  assert.ok(r.lsm.maxL0Files <= 5, `L0 files at most: ${r.lsm.maxL0Files}`);
  assert.ok(perLookup(r) > 3.5 && perLookup(r) < 5.5, `preads per lookup: ${perLookup(r)}`);
  assert.ok(r.lsm.compactions >= 20, `compactions: ${r.lsm.compactions}`);
  assert.equal(r.lsm.lookups, 2000, 'the 500 lookups/s are all served');
});

test('throttling compaction piles up level 0 and multiplies the preads per lookup', () => {
  const none = run('compaction-throttle-none.json');
  const mid = run('compaction-throttle-64m.json');
  const tight = run('compaction-throttle.json');
  // the throttle works: compaction moves a fraction of the bytes, within its budget
  assert.ok(tight.lsm.compactionWriteBytes * 10 < none.lsm.compactionWriteBytes, `compaction writes ${tight.lsm.compactionWriteBytes} vs ${none.lsm.compactionWriteBytes}`);
  const io = tight.report.cgroups?.find((g) => g.name === 'compaction')?.io?.[0];
  assert.ok(io, 'the compaction cgroup reports its io.max');
  assert.ok(io.rbytes <= 16 * MIB * 4.2 && io.wbytes <= 16 * MIB * 4.2, `16 MiB/s for 4 s: read ${io.rbytes}, written ${io.wbytes}`);
  assert.ok(io.throttledReadBios > 0 && io.throttledReadNs > 1e9, `compaction's reads wait: ${io.throttledReadBios} bios, ${io.throttledReadNs} ns`);
  // ...and level 0 grows with the throttle, and with it the preads of every lookup
  assert.ok(mid.lsm.l0Files > 2 * none.lsm.maxL0Files && tight.lsm.l0Files > mid.lsm.l0Files, `L0 files: ${none.lsm.l0Files}, ${mid.lsm.l0Files}, ${tight.lsm.l0Files}`);
  assert.ok(tight.lsm.l0Files >= 20, `L0 files under 16 MiB/s: ${tight.lsm.l0Files}`);
  assert.ok(perLookup(mid) > 1.8 * perLookup(none), `preads per lookup: ${perLookup(none)} -> ${perLookup(mid)}`);
  assert.ok(perLookup(tight) > 3 * perLookup(none), `preads per lookup: ${perLookup(none)} -> ${perLookup(tight)}`);
});

test('each pread gets faster, yet the lookups get slower: read amplification wins', () => {
  const none = run('compaction-throttle-none.json');
  const mid = run('compaction-throttle-64m.json');
  const tight = run('compaction-throttle.json');
  // less compaction traffic on the device: each foreground pread waits less behind it
  assert.ok(tight.preadMeanNs < 0.75 * none.preadMeanNs, `mean pread: ${none.preadMeanNs} -> ${tight.preadMeanNs} ns`);
  // but a lookup makes so many more of them that its latency rises
  const mean = (r: StoreRun): number => r.db.read.clat.meanNs;
  const p50 = (r: StoreRun): number => r.db.read.clat.p50Ns;
  assert.ok(mean(mid) > mean(none) && mean(tight) > mean(mid), `mean lookup: ${mean(none)}, ${mean(mid)}, ${mean(tight)} ns`);
  assert.ok(mean(tight) > 1.4 * mean(none), `mean lookup: ${mean(none)} -> ${mean(tight)} ns`);
  assert.ok(p50(mid) > 1.4 * p50(none) && p50(tight) > 2.5 * p50(none), `median lookup: ${p50(none)}, ${p50(mid)}, ${p50(tight)} ns`);
});
