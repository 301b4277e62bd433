// cgroup v2 io.max (core/block/blk-throttle.ts): a group's bios are held to its rates per 100 ms
// slice and released by the pending timer; a bio split to the queue limits counts one I/O per
// piece; the limits come from the scenario's io.max, in Linux's line format or as an object.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { CgroupIoReport, Machine } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { parseScenario, renderDiagnostic, type ScenarioResult } from '../../../tui/scenario.js';
import { prepareRun } from '../../../tui/run.js';

const MS = 1_000_000;

function scenario(ioMax: unknown, jobs: readonly Record<string, unknown>[]): unknown {
  return {
    name: 'iomax',
    duration: '500ms',
    machine: {
      cpus: 2,
      memory: '512m',
      cgroups: { batch: { 'io.max': ioMax } },
      devices: [{ name: 'nvme0n1', type: 'nvme', capacity: '4g', mount: '/mnt/nvme' }],
    },
    jobs: jobs.map((j) => ({ size: '64m', direct: 1, cgroup: 'batch', time_based: 1, runtime: '500ms', ...j })),
  };
}

function boot(json: unknown): { m: Machine; durationNs: number } {
  const r = parseScenario(json, 'iomax.json');
  if (!r.ok) assert.fail(r.diagnostics.map(renderDiagnostic).join('\n'));
  return { m: prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs }), durationNs: r.scenario.durationNs };
}

function ioOf(m: Machine): CgroupIoReport {
  const io = m.report('iomax', 1).cgroups?.find((g) => g.name === 'batch')?.io?.[0];
  assert.ok(io, 'the group reports its io.max line');
  return io;
}

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

test('riops and wbps hold a group to its rates; the probes see each held bio queued and dispatched', () => {
  const { m, durationNs } = boot(
    scenario('259:0 wbps=10485760 riops=200', [
      { name: 'w', filename: '/mnt/nvme/w', rw: 'write', bs: '1m' },
      { name: 'r', filename: '/mnt/nvme/r', rw: 'randread', bs: '4k' },
    ]),
  );
  const waits: number[] = [];
  let queued = 0;
  attach(m, 'tracepoint:kiotrace:throtl_bio_queue', () => queued++);
  attach(m, 'tracepoint:kiotrace:throtl_bio_dispatch', (h) => waits.push(Number(h.fields.wait_ns)));
  m.run(durationNs);
  const io = ioOf(m);
  // 200 IOPS for 0.5 s: 20 reads per 100 ms slice, the first slice's budget at once
  assert.ok(io.rios >= 100 && io.rios <= 101, `reads charged: ${io.rios}`);
  // 10 MiB/s for 0.5 s: five or six 1 MiB writes (a slice's budget may be spent at its start)
  assert.ok(io.wbytes >= 5 * 2 ** 20 && io.wbytes <= 6 * 2 ** 20, `bytes written: ${io.wbytes}`);
  assert.deepEqual([io.rbps, io.wbps, io.riops, io.wiops], [null, 10485760, 200, null]);
  // QD1 reads spend a slice's 20 I/Os in a few ms, then the 21st waits for the next slice
  assert.ok(io.throttledReadBios >= 4 && io.throttledReadBios <= 5, `reads held: ${io.throttledReadBios}`);
  assert.equal(queued, io.throttledReadBios + io.throttledWriteBios);
  assert.ok(waits.length <= queued && waits.length >= queued - 2, `dispatched ${waits.length} of ${queued} held`);
  assert.ok(waits.every((w) => w > 0 && w <= 200 * MS), 'a held bio waits at most two slices');
  const jobs = m.report('iomax', 1).jobs;
  const r = jobs.find((j) => j.name === 'r')!;
  assert.ok(r.read.lat.maxNs >= 50 * MS, `a held read waits tens of ms: ${r.read.lat.maxNs}`);
});

test('a bio split to max_sectors counts one I/O per piece against wiops', () => {
  const { m, durationNs } = boot(scenario({ nvme0n1: { wiops: 40 } }, [{ name: 'w', filename: '/mnt/nvme/w', rw: 'write', bs: '4m' }]));
  let splits = 0;
  attach(m, 'tracepoint:block:block_split', () => splits++);
  m.run(durationNs);
  const io = ioOf(m);
  const writes = io.wbytes / (4 * 2 ** 20);
  // 4 MiB bios over 1280 KiB max_sectors_kb: four pieces each, so 40 wiops lets ~10 writes/s through
  assert.ok(splits >= 3 * (Math.ceil(writes) - 1) && splits <= 3 * Math.ceil(writes), `splits: ${splits} for ${writes} writes`);
  assert.ok(io.wios >= 20 && io.wios <= 22, `pieces charged in 0.5 s: ${io.wios}`);
  assert.ok(writes >= 5 && writes <= 6, `4 MiB writes in 0.5 s: ${writes}`);
});

test('without io.max nothing is throttled and the queue has no throttle state', () => {
  const { m, durationNs } = boot(scenario({ nvme0n1: {} }, [{ name: 'r', filename: '/mnt/nvme/r', rw: 'randread', bs: '4k', runtime: '20ms' }]));
  m.run(durationNs);
  const io = ioOf(m);
  assert.equal(io.throttledReadBios, 0);
  assert.ok(io.rios > 100);
});

test('io.max is read from an object or Linux lines, with located errors', () => {
  const parse = (ioMax: unknown) => parseScenario(scenario(ioMax, [{ name: 'r', filename: '/mnt/nvme/r', rw: 'randread', bs: '4k' }]), 'iomax.json');
  const ok = parse(['259:0 rbps=max wbps=1048576', 'nvme0n1 riops=100']);
  assert.ok(ok.ok);
  assert.deepEqual(ok.scenario.machine.cgroups?.[0]?.ioMax, [{ device: 'nvme0n1', rbps: Infinity, wbps: Infinity, riops: 100, wiops: Infinity }]);
  assert.equal(errors(parse({ sda: { rbps: '1m' } })), 'iomax.json: machine.cgroups.batch.io.max.sda: names no device of this machine (devices: nvme0n1 (259:0))');
  assert.equal(errors(parse('259:0 rbps=fast')), 'iomax.json: machine.cgroups.batch.io.max: "rbps=fast" is not KEY=VALUE with KEY one of rbps, wbps, riops, wiops and VALUE a positive integer or "max"');
  assert.equal(errors(parse({ nvme0n1: { riops: 0 } })), 'iomax.json: machine.cgroups.batch.io.max.nvme0n1.riops: must be an integer from 1 to 4294967295 (got 0)');
  assert.equal(errors(parse({ nvme0n1: { rbsp: '1m' } })), 'iomax.json: machine.cgroups.batch.io.max.nvme0n1.rbsp: unknown key; did you mean "rbps"?');
});
