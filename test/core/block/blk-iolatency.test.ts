// cgroup v2 io.latency (core/block/blk-iolatency.ts): a group with a target that misses it scales
// its siblings' queue depth down; on an SSD the window counts the reads at or over the target (90th
// percentile), on a disk it takes the mean; the target comes from the scenario's io.latency, in
// Linux's line format or as an object. Without io.latency the queue has no rq_qos state.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { CgroupIoLatencyReport, Machine } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { parseScenario, renderDiagnostic, type ScenarioResult } from '../../../tui/scenario.js';
import { prepareRun } from '../../../tui/run.js';

const MS = 1_000_000;

function scenario(ioLatency: unknown, device: Record<string, unknown>, duration: string): unknown {
  return {
    name: 'iolat',
    duration,
    machine: {
      cpus: 2,
      memory: '512m',
      cgroups: { fast: ioLatency === undefined ? {} : { 'io.latency': ioLatency }, bulk: {} },
      devices: [device],
    },
    jobs: [
      { name: 'fast', cgroup: 'fast', filename: `/dev/${String(device.name)}`, size: '1g', rw: 'randread', bs: '4k', direct: 1, time_based: 1, runtime: duration },
      { name: 'bulk', cgroup: 'bulk', filename: `/dev/${String(device.name)}`, rw: 'randread', bs: '64k', direct: 1, ioengine: 'libaio', iodepth: 32, time_based: 1, runtime: duration },
    ],
  };
}

const NVME = { name: 'nvme0n1', type: 'nvme', capacity: '4g' };
const HDD_NONE = { name: 'sda', type: 'hdd', capacity: '1t', scheduler: 'none' };

function boot(json: unknown): { m: Machine; durationNs: number } {
  const r = parseScenario(json, 'iolat.json');
  if (!r.ok) assert.fail(r.diagnostics.map(renderDiagnostic).join('\n'));
  return { m: prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs }), durationNs: r.scenario.durationNs };
}

function latOf(m: Machine, group: string): CgroupIoLatencyReport {
  const l = m.report('iolat', 1).cgroups?.find((g) => g.name === group)?.ioLatency?.[0];
  assert.ok(l, `${group} reports io.latency`);
  return l;
}

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

test('on a disk without an elevator (nr_requests 32) a missed mean target halves the sibling from 32: 16, then 8', () => {
  const { m, durationNs } = boot(scenario('8:0 target=5000', HDD_NONE, '1500ms'));
  const checks: { ok: number; meanNs: number; samples: number }[] = [];
  const steps: [string, number, number][] = [];
  attach(m, 'tracepoint:kiotrace:iolatency_check', (h) => checks.push({ ok: Number(h.fields.ok), meanNs: Number(h.fields.mean_ns), samples: Number(h.fields.samples) }));
  attach(m, 'tracepoint:kiotrace:iolatency_scale', (h) => steps.push([String(h.fields.cgroup), Number(h.fields.old_depth), Number(h.fields.new_depth)]));
  m.run(durationNs);
  // 5 ms x16 is under the 100 ms floor: a window ends at the first completion 100 ms after the last
  assert.ok(checks.length >= 5, `window checks: ${checks.length}`);
  assert.ok(checks.every((c) => c.ok === 0 && c.meanNs > 5 * MS), JSON.stringify(checks));
  // no scale event in the first 500 ms, then one per 500 ms at most: two in 1.5 s
  assert.deepEqual(steps, [
    ['bulk', 0xffff_ffff, 16],
    ['bulk', 16, 8],
  ]);
  const bulk = latOf(m, 'bulk');
  assert.equal(bulk.depth, 8);
  const fast = latOf(m, 'fast');
  assert.equal(fast.depth, null, 'the group with the target is never scaled');
  assert.equal(fast.winMs, 100);
  assert.ok(fast.avgLatUs > 0, 'lat_avg folds in the window means');
});

test('on an SSD a window misses when 10% of its reads reach the target; io.stat counts missed and total', () => {
  const { m, durationNs } = boot(scenario({ nvme0n1: { target: 50 } }, NVME, '650ms'));
  const checks: { missed: number; samples: number; ok: number }[] = [];
  attach(m, 'tracepoint:kiotrace:iolatency_check', (h) => checks.push({ missed: Number(h.fields.missed), samples: Number(h.fields.samples), ok: Number(h.fields.ok) }));
  m.run(durationNs);
  assert.ok(checks.length >= 5, `window checks: ${checks.length}`);
  for (const c of checks) assert.equal(c.ok, c.missed < Math.max(1, Math.floor(c.samples / 10)) ? 1 : 0, JSON.stringify(c));
  assert.ok(checks.some((c) => c.ok === 0), 'a 50 us target is missed under the bulk reader');
  const fast = latOf(m, 'fast');
  assert.equal(fast.ssd, true);
  assert.ok(fast.total >= fast.missed, `stat missed=${fast.missed} total=${fast.total}`);
  const bulk = latOf(m, 'bulk');
  // NVMe's nr_requests (its tag set) halved once after 500 ms
  assert.equal(bulk.scaleEvents, 1);
  assert.ok(bulk.depth !== null && bulk.depth >= 64, `bulk depth: ${bulk.depth}`);
});

test('without io.latency the queue has no rq_qos state and no group reports one', () => {
  const { m, durationNs } = boot(scenario(undefined, NVME, '20ms'));
  let scaled = 0;
  attach(m, 'tracepoint:kiotrace:iolatency_scale', () => scaled++);
  m.run(durationNs);
  assert.equal(scaled, 0);
  assert.ok(m.report('iolat', 1).cgroups?.every((g) => g.ioLatency === undefined));
});

test('io.latency is read from an object or Linux lines, with located errors', () => {
  const parse = (ioLatency: unknown) => parseScenario(scenario(ioLatency, NVME, '20ms'), 'iolat.json');
  const ok = parse(['259:0 target=100', 'nvme0n1 target=250']);
  assert.ok(ok.ok);
  assert.deepEqual(ok.scenario.machine.cgroups?.[0]?.ioLatency, [{ device: 'nvme0n1', targetUs: 250 }]);
  const removed = parse('259:0 target=100\n259:0 target=max');
  assert.ok(removed.ok);
  assert.deepEqual(removed.scenario.machine.cgroups?.[0]?.ioLatency, []);
  const obj = parse({ '259:0': { target: 2000 } });
  assert.ok(obj.ok);
  assert.deepEqual(obj.scenario.machine.cgroups?.[0]?.ioLatency, [{ device: 'nvme0n1', targetUs: 2000 }]);
  assert.equal(errors(parse({ sda: { target: 10 } })), 'iolat.json: machine.cgroups.fast.io.latency.sda: names no device of this machine (devices: nvme0n1 (259:0))');
  assert.equal(errors(parse('259:0 target=fast')), 'iolat.json: machine.cgroups.fast.io.latency: "target=fast" is not target=USEC with USEC a number of microseconds up to 3600000000 or "max"');
  assert.equal(errors(parse({ nvme0n1: { target: -1 } })), 'iolat.json: machine.cgroups.fast.io.latency.nvme0n1.target: must be an integer from 0 to 3600000000 (got -1)');
  assert.equal(errors(parse({ nvme0n1: { targte: 10 } })), 'iolat.json: machine.cgroups.fast.io.latency.nvme0n1.targte: unknown key; did you mean "target"?');
  assert.equal(errors(parse({ nvme0n1: {} })), 'iolat.json: machine.cgroups.fast.io.latency.nvme0n1: needs a "target" in microseconds, like {"target": 20000}');
  assert.equal(errors(parse(5)), 'iolat.json: machine.cgroups.fast.io.latency: must be {"sda": {"target": 20000}} or a line like "8:0 target=20000" (got 5)');
});
