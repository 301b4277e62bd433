// ioengine=lsm (core/userspace/engines/lsm.ts): its options are read with RocksDB's names and
// defaults and checked; its lookups pread one block per level-0 file and one per deeper level;
// its flush and compaction threads are threads of the job (one thread group) and the compaction
// thread runs in compaction_cgroup.
import test from 'node:test';
import assert from 'node:assert/strict';
import { LSM_DEFAULTS } from '../../../core/index.js';
import { parseScenario, renderDiagnostic, type ScenarioResult } from '../../../tui/scenario.js';
import { prepareRun } from '../../../tui/run.js';

const scenario = (job: Record<string, unknown>): unknown => ({
  name: 'lsm',
  duration: '300ms',
  machine: { cpus: 2, memory: '256m', devices: [{ name: 'nvme0n1', type: 'nvme', capacity: '2g', mount: '/mnt/nvme' }] },
  jobs: [{ name: 'db', filename: '/mnt/nvme/db', size: '1g', ioengine: 'lsm', rw: 'randread', direct: 1, ...job }],
});

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

test('lsm options take RocksDB names and defaults, and only with ioengine=lsm', () => {
  const d = parseScenario(scenario({}), 'lsm.json');
  assert.ok(d.ok);
  assert.deepEqual(d.scenario.jobs[0]!.lsm, LSM_DEFAULTS);
  const s = parseScenario(scenario({ write_buffer_size: '2m', target_file_size_base: '4m', level0_file_num_compaction_trigger: 8, compaction_cgroup: 'bg' }), 'lsm.json');
  assert.ok(s.ok);
  assert.equal(s.scenario.jobs[0]!.lsm?.writeBufferSizeBytes, 2 * 2 ** 20);
  assert.equal(s.scenario.jobs[0]!.lsm?.level0FileNumCompactionTrigger, 8);
  assert.equal(s.scenario.jobs[0]!.lsm?.compactionCgroup, 'bg');
  assert.match(errors(parseScenario(scenario({ ioengine: 'psync', put_rate: '8m' }), 'lsm.json')), /put_rate is an option of ioengine=lsm \(this job uses psync\)/);
  assert.match(errors(parseScenario(scenario({ rw: 'randwrite' }), 'lsm.json')), /rw must be randread or read \(got randwrite\)/);
  assert.match(errors(parseScenario(scenario({ write_buffer_size: '8m', target_file_size_base: '4m' }), 'lsm.json')), /write_buffer_size \(8m\) must fit in target_file_size_base \(4m\)/);
  assert.match(errors(parseScenario(scenario({ level0_slowdown_writes_trigger: 40 }), 'lsm.json')), /must not exceed level0_stop_writes_trigger \(36\)/);
});

test('a lookup preads every level-0 file and one file per deeper level; the background threads share the job\'s process', () => {
  const r = parseScenario(
    scenario({ put_rate: '32m', write_buffer_size: '1m', target_file_size_base: '2m', max_bytes_for_level_base: '8m', level0_file_num_compaction_trigger: 100, level0_slowdown_writes_trigger: 100, level0_stop_writes_trigger: 100, rate_iops: 200, compaction_cgroup: 'bg' }),
    'lsm.json',
  );
  if (!r.ok) assert.fail(r.diagnostics.map(renderDiagnostic).join('\n'));
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  m.run(r.scenario.durationNs);
  const lsm = m.report('lsm', 1).jobs[0]!.lsm!;
  // no compaction (trigger 100): a flush every 31 ms, each lookup one more pread per L0 file
  assert.equal(lsm.compactions, 0);
  assert.ok(lsm.flushes >= 8 && lsm.flushes <= 10, `flushes: ${lsm.flushes}`);
  assert.equal(lsm.l0Files, lsm.flushes);
  // half the 1 GiB file loaded: levels 1 (8 MiB), 2 (80 MiB) and 3 (the other 424 MiB)
  assert.equal(lsm.probes, lsm.l0FilesProbed + 3 * lsm.lookups);
  const db = m.k.tasks.find((t) => t.comm === 'db')!;
  const high = m.k.tasks.find((t) => t.comm === 'rocksdb:high')!;
  const low = m.k.tasks.find((t) => t.comm === 'rocksdb:low')!;
  assert.equal(high.tgid, db.pid);
  assert.equal(low.tgid, db.pid);
  assert.equal(high.files, db.files);
  assert.equal(low.memcg?.name, 'bg');
  assert.equal(high.memcg, db.memcg);
});

test('a file too small for the store is refused; one that fills up stops flushes and compactions, not the run', () => {
  assert.match(errors(parseScenario(scenario({ size: '64m' }), 'lsm.json')), /jobs\[0\]\.size: ioengine=lsm keeps its SST files in slots of target_file_size_base \(64m\): the file needs at least 16 of them \(1g\)/);
  // 16 slots of 2 MiB, half loaded; 1 MiB memtables at 64 MiB/s and no compaction fill the rest in 0.25 s
  const r = parseScenario(
    scenario({ size: '32m', put_rate: '64m', write_buffer_size: '1m', target_file_size_base: '2m', level0_file_num_compaction_trigger: 100, level0_slowdown_writes_trigger: 100, level0_stop_writes_trigger: 100 }),
    'lsm.json',
  );
  if (!r.ok) assert.fail(r.diagnostics.map(renderDiagnostic).join('\n'));
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  m.run(r.scenario.durationNs);
  const lsm = m.report('lsm', 1).jobs[0]!.lsm!;
  assert.equal(lsm.outOfSpace, true);
  assert.equal(lsm.flushes, 8);
  assert.ok(lsm.lookups > 0);
});
