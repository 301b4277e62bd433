// A scenario's "events": a root shell writing sysfs/procfs files and running commands at given
// times. Checked at load (located errors for paths, values and commands), and in the run: each
// write lands in its store handler (the machine changes from then on), each command runs in its
// own process, and the report lists what each did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunReport, Scenario } from '../../core/index.js';
import { parseScenario, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { formatReport } from '../../tui/summary.js';

const base = (events: unknown, jobs?: unknown): unknown => ({
  name: 'ev',
  duration: '40ms',
  machine: { cpus: 2, memory: '256m', vm: { dirty_writeback_centisecs: 0 }, devices: [{ name: 'nvme0n1', type: 'nvme', capacity: '8g', mount: '/mnt/nvme' }] },
  jobs: jobs ?? [{ name: 'r', filename: '/mnt/nvme/f', size: '2m', rw: 'read', bs: '4k', startdelay: '10ms' }],
  events,
});

function ok(result: ScenarioResult): Scenario {
  if (!result.ok) assert.fail(result.diagnostics.map(renderDiagnostic).join('\n'));
  return result.scenario;
}

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

function run(s: Scenario): RunReport & { readonly pageCachePages: number } {
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  m.run(s.durationNs);
  return { ...m.report(s.name, 1), pageCachePages: m.gauges().pageCachePages };
}

test('events are read in time order (equal times keep theirs); none leaves the scenario without them', () => {
  const s = ok(parseScenario(base([{ at: '20ms', run: 'sync' }, { at: '5ms', write: '/proc/sys/vm/drop_caches', value: 1 }, { at: '5ms', run: 'sync' }]), 'ev.json'));
  assert.deepEqual(s.events, [
    { kind: 'write', atNs: 5_000_000, path: '/proc/sys/vm/drop_caches', value: '1' },
    { kind: 'run', atNs: 5_000_000, argv: ['sync'] },
    { kind: 'run', atNs: 20_000_000, argv: ['sync'] },
  ]);
  assert.equal(ok(parseScenario(base([]), 'ev.json')).events, undefined);
});

test('a bad event says what is wrong, where, and what the machine has', () => {
  const e = (events: unknown) => errors(parseScenario(base(events), 'ev.json'));
  assert.equal(
    e([{ at: '1ms', write: '/sys/block/nvme0n1/queue/read_ahead', value: 64 }]),
    'ev.json: events[0].write: "/sys/block/nvme0n1/queue/read_ahead" is not a file kiotrace can write on this machine; did you mean "/sys/block/nvme0n1/queue/read_ahead_kb"? (the writable files: /sys/block/nvme0n1/queue/read_ahead_kb, /proc/sys/vm/drop_caches, /sys/block/nvme0n1/queue/scheduler)',
  );
  assert.equal(e([{ at: '1ms', write: '/sys/block/sda/queue/read_ahead_kb', value: 64 }]).startsWith('ev.json: events[0].write: "/sys/block/sda/queue/read_ahead_kb" is not a file kiotrace can write on this machine'), true);
  assert.equal(e([{ at: '1ms', write: '/sys/block/nvme0n1/queue/read_ahead_kb', value: 6 }]), 'ev.json: events[0].value: must be a whole number of 4 KiB pages, e.g. 4 or 8 (got 6)');
  assert.equal(e([{ at: '1ms', write: '/proc/sys/vm/drop_caches', value: '5' }]), 'ev.json: events[0].value: must be 1 (page cache), 2 (slab), 3 (both) or 4 (quiet) (got "5")');
  assert.equal(e([{ at: "1ms", write: "/proc/sys/vm/drop_caches" }]), 'ev.json: events[0].value: required but missing (e.g. "value": "3")');
  assert.equal(e([{ at: '1ms', run: 'sync', write: '/proc/sys/vm/drop_caches', value: 1 }]), 'ev.json: events[0]: must have either "write" (a /sys or /proc file, with "value") or "run" (a command line), not both or neither');
  assert.equal(e([{ at: '1ms', run: 'synk' }]), 'ev.json: events[0].run: "synk" is not a command kiotrace has; did you mean "sync"? (the commands: sync, lp, lpr, lpq, lprm, lpc, cupsdisable, cupsenable, devmem2, echo, yes, sudo, iperf3, sink, client, proxy, file-server, fetch, recv-to-disk, rr-server, rr-client, zc-send, zc-check)');
  assert.equal(e([{ at: '1ms', run: 'sync -f' }]), 'ev.json: events[0].run: sync takes no arguments (it writes back every file) (usage: sync)');
  assert.equal(e([{ at: '50ms', run: 'sync' }]), 'ev.json: events[0].at: is after the run\'s end ("50ms" > the duration); give a time within it');
  assert.equal(e([{ run: 'sync' }]), 'ev.json: events[0].at: required but missing (e.g. "at": "50ms")');
  assert.equal(e({ at: '1ms' }), 'ev.json: events: must be an array of events like [{"at": "50ms", "write": "/proc/sys/vm/drop_caches", "value": "1"}, {"at": "80ms", "run": "sync"}] (got an object)');
});

test('read_ahead_kb written mid-run: a file opened afterwards reads ahead in the new window', () => {
  const plain = run(ok(parseScenario(base([]), 'ev.json')));
  const small = run(ok(parseScenario(base([{ at: '2ms', write: '/sys/block/nvme0n1/queue/read_ahead_kb', value: 16 }]), 'ev.json')));
  const reads = (r: RunReport) => r.devices.find((d) => d.name === 'nvme0n1')!.readIos;
  // fio's fadvise_hint (POSIX_FADV_SEQUENTIAL) doubles each: 2 MiB in windows ramping to 256 KiB,
  // against windows of 32 KiB
  assert.equal(reads(plain), 12);
  assert.equal(reads(small), 66);
  assert.deepEqual(small.events, [{ command: 'echo 16 > /sys/block/nvme0n1/queue/read_ahead_kb', atNs: 2_000_000, doneNs: 2_004_100, status: '0', output: '' }]);
});

test('sync writes back every dirty page and waits; drop_caches then empties the page cache', () => {
  const writer = [{ name: 'w', filename: '/mnt/nvme/f', size: '4m', rw: 'write', bs: '64k' }];
  const without = run(ok(parseScenario(base([], writer), 'ev.json')));
  assert.equal(without.counters.nrDirty, 1024, 'with periodic writeback off, the written file stays dirty');
  assert.equal(without.pageCachePages, 1024);
  const synced = run(ok(parseScenario(base([{ at: '20ms', run: 'sync' }, { at: '30ms', write: '/proc/sys/vm/drop_caches', value: 3 }], writer), 'ev.json')));
  assert.equal(synced.counters.nrDirty, 0);
  assert.equal(synced.counters.pagesWrittenBack, 1024);
  assert.equal(synced.pageCachePages, 0, 'every clean page is dropped');
  const text = formatReport(synced);
  const events = text.slice(text.indexOf('Scenario events:'));
  assert.match(events, /^Scenario events:\n {2}at 20ms: sync -> 0, took [\d.]+ ms\n {2}at 30ms: echo 3 > \/proc\/sys\/vm\/drop_caches -> 0, took [\d.]+ µs\n$/);
});

test('an event writes /sys/block/<disk>/queue/scheduler: the disk runs on under the new elevator; an unknown one is refused at load', () => {
  const machine = { cpus: 2, memory: '256m', devices: [{ name: 'sda', type: 'hdd', capacity: '1t', scheduler: 'mq-deadline' }] };
  const jobs = [{ name: 'r', filename: '/dev/sda', rw: 'randread', direct: 1, numjobs: 4, time_based: 1, runtime: '100ms' }];
  const scenario = (value: string): unknown => ({ name: 'ev', duration: '100ms', machine, jobs, events: [{ at: '50ms', write: '/sys/block/sda/queue/scheduler', value }] });
  assert.match(errors(parseScenario(scenario('cfq'), 'ev.json')), /must be one of none, mq-deadline, bfq, kyber/);
  const r = run(ok(parseScenario(scenario('kyber'), 'ev.json')));
  assert.equal(r.devices[0]!.scheduler, 'kyber');
  assert.ok(r.jobs.every((j) => j.errors === 0 && j.read.ios > 0));
});
