// CPU frequency scaling: CPU work in cycles (a lower frequency stretches it by f_max / f_cur), the
// powersave governor, schedutil's ramp under load and its iowait boost, power:cpu_frequency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, type DeviceSpec, type Machine, type PowerSpec } from '../../../core/index.js';
import { DEFAULT_POWER, type CpufreqSpec } from '../../../core/userspace/job.js';
import { DEFAULT_SUGOV_RATE_LIMIT_US } from '../../../core/power/cpufreq.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { jobSpec } from '../../helpers/jobs.js';
import { PerfettoWriter, loadPerfettoSchema } from '../../../exporters/perfetto.js';
import { TraceRecorder } from '../../../probes/recorder.js';
import { checkPerfettoTrace } from '../../helpers/perfetto-check.js';

const MiB = 2 ** 20;
const MS = 1_000_000;

const nvme: DeviceSpec = { name: 'nvme0n1', kind: 'nvme', capacityBytes: 256 * MiB, scheduler: 'none', mount: '' };

function boot(governor: CpufreqSpec['governor'] | undefined): Machine {
  const power: PowerSpec | undefined = governor === undefined ? undefined : { ...DEFAULT_POWER, cpufreq: { governor, minMhz: 800, maxMhz: 3500, rateLimitUs: DEFAULT_SUGOV_RATE_LIMIT_US } };
  return bootMachine({ cpus: 2, memoryBytes: 512 * MiB, devices: [nvme], ...(power ? { power } : {}) }, 1);
}

/** QD1 4 KiB O_DIRECT random reads for `durationNs`: the reader's CPU time, reads done and mean latency. */
function qd1(governor: CpufreqSpec['governor'] | undefined, durationNs = 20 * MS): { cpuNs: number; meanNs: number; ios: number; m: Machine } {
  const m = boot(governor);
  m.startJobs([jobSpec({ name: 'r', filename: '/dev/nvme0n1', size: 64 * MiB, rw: 'randread', direct: true, runtimeNs: durationNs, timeBased: true })], durationNs);
  m.run(durationNs);
  const reader = m.k.tasks.find((t) => t.comm === 'r')!;
  const r = m.report('x', 1).jobs[0]!.read;
  return { cpuNs: reader.sumExecRuntimeNs, meanNs: r.clat.meanNs, ios: r.ios, m };
}

/** The reader's CPU time per read in steady state: between 10 and 20 ms (the job's setup left out). */
function cpuPerReadNs(governor: CpufreqSpec['governor']): number {
  const a = qd1(governor, 10 * MS);
  const b = qd1(governor, 20 * MS);
  return (b.cpuNs - a.cpuNs) / (b.ios - a.ios);
}

test('the default (no cpufreq, or performance) runs every CPU at f_max: same numbers as before', () => {
  const none = qd1(undefined);
  const perf = qd1('performance');
  assert.equal(perf.ios, none.ios);
  assert.equal(perf.meanNs, none.meanNs);
  assert.equal(perf.m.k.power.cpufreq, undefined);
  assert.equal(perf.m.k.sched.cpus[0]!.freqSlowdown, 1);
});

test('powersave: the CPU part of a QD1 O_DIRECT read takes f_max / f_min = 4.375x longer; the device part does not change', () => {
  const perfCpuNs = cpuPerReadNs('performance');
  const psCpuNs = cpuPerReadNs('powersave');
  const ratio = psCpuNs / perfCpuNs;
  assert.ok(Math.abs(ratio - 3500 / 800) < 0.01, `CPU per read ${perfCpuNs} -> ${psCpuNs} ns (x${ratio})`);
  // the latency grows by (4.375 - 1) x the CPU part on the path (syscall, submission, IRQ, completion)
  const perf20 = qd1('performance');
  const ps20 = qd1('powersave');
  const growthNs = ps20.meanNs - perf20.meanNs;
  assert.ok(growthNs > 3 * 1000 && growthNs < 20 * 1000, `mean ${perf20.meanNs} -> ${ps20.meanNs} ns`);
  assert.ok(ps20.ios < perf20.ios, `${perf20.ios} -> ${ps20.ios}`);
  assert.equal(ps20.m.k.power.cpufreq!.policies[0]!.curKhz, 800_000);
});

/** A CPU-bound task: `burns` bursts of 100 µs (at f_max) of CPU work, nothing else. */
function spinner(m: Machine, burns: number): Task {
  return m.spawn('spin', false, () =>
    (function* () {
      for (let i = 0; i < burns; i++) yield 100_000;
    })(),
  );
}

test('schedutil: an idle CPU sits at f_min; a busy one ramps to f_max in 100 MHz steps as its invariant util grows, reported by power:cpu_frequency', () => {
  const m = boot('schedutil');
  const cf = m.k.power.cpufreq!;
  assert.deepEqual(
    cf.policies.map((p) => p.curKhz),
    [800_000, 800_000],
  );
  const changes: { t: number; khz: number; cpu: number }[] = [];
  m.k.tp.cpu_frequency.attach((h) => changes.push({ t: h.timeNs, khz: Number(h.fields.state), cpu: Number(h.fields.cpu_id) }));
  m.run(10 * MS);
  assert.equal(changes.length, 0, 'nothing runs: no change');
  const t = spinner(m, 1_000_000);
  m.run(400 * MS);
  const cpu = t.cpu;
  const mine = changes.filter((c) => c.cpu === cpu);
  const ms = (c: { t: number }): number => (c.t - 10 * MS) / MS;
  // at f_min a busy CPU's util approaches 800/3500 x 1024 = 234 (32 ms half-life); 1.25 x util
  // asks for more than 800 MHz once it passes 187, after about 74 ms
  assert.ok(ms(mine[0]!) > 60 && ms(mine[0]!) < 90, `first step at ${ms(mine[0]!)} ms`);
  assert.equal(mine[0]!.khz, 900_000);
  // then one 100 MHz step at a time, each a rate-limited decision (>= 2 ms apart), to f_max
  for (let i = 1; i < mine.length; i++) {
    assert.equal(mine[i]!.khz - mine[i - 1]!.khz, 100_000, JSON.stringify(mine));
    assert.ok(mine[i]!.t - mine[i - 1]!.t >= DEFAULT_SUGOV_RATE_LIMIT_US * 1000);
  }
  assert.equal(mine.at(-1)!.khz, 3_500_000);
  const reachedMs = ms(mine.at(-1)!);
  assert.ok(reachedMs > 250 && reachedMs < 350, `f_max after ${reachedMs} ms`);
  // the other CPU stayed idle and at f_min
  assert.equal(cf.policies[1 - cpu]!.curKhz, 800_000);
});

test('schedutil iowait boost: a thread doing QD1 I/O (CPU mostly idle) runs at f_max; without I/O wakeups the same low load stays at f_min', () => {
  const m0 = boot('schedutil');
  const changes: { t: number; khz: number }[] = [];
  m0.k.tp.cpu_frequency.attach((h) => changes.push({ t: h.timeNs, khz: Number(h.fields.state) }));
  const durationNs = 20 * MS;
  m0.startJobs([jobSpec({ name: 'r', filename: '/dev/nvme0n1', size: 64 * MiB, rw: 'randread', direct: true, runtimeNs: durationNs, timeBased: true })], durationNs);
  m0.run(durationNs);
  // the boost starts at capacity/8 (1.25 x 128/1024 x 3.5 GHz: still f_min), doubles once per
  // decision while reads keep waking the thread: 256 -> 1.1 GHz, 512 -> 2.2 GHz, 1024 -> f_max
  assert.deepEqual(
    changes.map((c) => c.khz),
    [1_100_000, 2_200_000, 3_500_000],
  );
  for (const [i, c] of changes.entries()) assert.ok(c.t > (4 + 2 * i) * MS && c.t < (4.3 + 2 * i) * MS, `${JSON.stringify(changes)}`);
  // cpufreq stats: time_in_state adds up to the run on every CPU; the reader's CPU spent most of it at f_max
  const stats = m0.k.power.report().cpufreq!;
  assert.equal(stats.governor, 'schedutil');
  for (const c of stats.cpus) assert.equal(c.timeInState.reduce((a, s) => a + s.timeNs, 0), durationNs);
  const busy = stats.cpus.find((c) => c.transitions > 1)!;
  assert.deepEqual(
    busy.timeInState.map((s) => s.khz),
    [800_000, 1_100_000, 2_200_000, 3_500_000],
  );
  assert.equal(busy.timeInState.at(-1)!.timeNs, durationNs - changes.at(-1)!.t);
  // so the reads run at f_max speed after 8 ms: the mean sits near performance's, far from powersave's
  const io = m0.report('x', 1).jobs[0]!.read.clat.meanNs;
  const perf = qd1('performance').meanNs;
  const ps = qd1('powersave').meanNs;
  assert.ok(io > perf && io - perf < (ps - perf) / 3, `performance ${perf}, schedutil ${io}, powersave ${ps} ns`);
  // the same utilisation without iowait (a 3 µs burn every 70 µs): util ~ 4 % at f_min keeps f_min
  const m = boot('schedutil');
  m.spawn('ticker', false, (task) =>
    (function* () {
      for (;;) {
        yield 3_000;
        yield* nanosleep(m.k, task, 70_000);
      }
    })(),
  );
  m.run(20 * MS);
  assert.deepEqual(
    m.k.power.cpufreq!.policies.map((x) => x.curKhz),
    [800_000, 800_000],
  );
});

test('Perfetto: with cpufreq on, a counter track per CPU holds its frequency (kHz), starting at f_min and following power:cpu_frequency', () => {
  const schema = loadPerfettoSchema();
  const m = boot('schedutil');
  const chunks: Uint8Array[] = [];
  const recorder = new TraceRecorder(m, new PerfettoWriter((c) => chunks.push(c.slice()), schema));
  recorder.start();
  const durationNs = 10 * MS;
  m.startJobs([jobSpec({ name: 'r', filename: '/dev/nvme0n1', size: 64 * MiB, rw: 'randread', direct: true, runtimeNs: durationNs, timeBased: true })], durationNs);
  m.run(durationNs);
  recorder.stop(m.env.nowNs);
  const bytes = Buffer.concat(chunks);
  const { issues, summary } = checkPerfettoTrace(bytes);
  assert.deepEqual(
    issues.filter((i) => i.severity === 'error'),
    [],
  );
  const freqTracks = [...summary.tracks].filter(([, t]) => t.kind === 'counter' && (t.name ?? '').endsWith('frequency (kHz)'));
  assert.deepEqual(
    freqTracks.map(([, t]) => t.name),
    ['CPU 0 frequency (kHz)', 'CPU 1 frequency (kHz)'],
  );
  const trace = schema.lookupType('perfetto.protos.Trace').decode(bytes).toJSON() as { packet: { trackEvent?: { trackUuid?: string; counterValue?: string } }[] };
  const values = (uuid: bigint): number[] => trace.packet.filter((p) => p.trackEvent?.trackUuid === String(uuid) && p.trackEvent.counterValue !== undefined).map((p) => Number(p.trackEvent!.counterValue));
  assert.deepEqual(values(freqTracks[0]![0]), [800_000]);
  assert.deepEqual(values(freqTracks[1]![0]), [800_000, 1_100_000, 2_200_000, 3_500_000]);
});
