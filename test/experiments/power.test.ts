// traces/experiments/power.json: an idle NVMe drive goes to a low-power state (APST: PS4 after
// 100 ms) and the first read after pays its exit latency, against a drive with APST off; a wake
// lock keeps the machine out of power collapse (autosleep's s2idle), which takes it as soon as the
// lock is gone.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Scenario } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';

const MS = 1_000_000;
const NVME0 = 259 * 2 ** 20;
const NVME1 = NVME0 + 1;

function load(): Scenario {
  const loaded = loadScenario('power', join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  return loaded.scenario;
}

/** Runs the scenario; per device the issue-to-complete latency of every request, and the collapses. */
function run(s: Scenario) {
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const started = new Map<string, number>();
  const latencies = new Map<number, number[]>();
  const collapses: { startNs: number; endNs: number }[] = [];
  const released: number[] = [];
  attach(m, 'tracepoint:block:block_rq_issue', (h) => void started.set(`${h.fields['dev']}:${h.fields['sector']}`, h.timeNs));
  attach(m, 'tracepoint:block:block_rq_complete', (h) => {
    const key = `${h.fields['dev']}:${h.fields['sector']}`;
    const dev = Number(h.fields['dev']);
    latencies.set(dev, [...(latencies.get(dev) ?? []), h.timeNs - started.get(key)!]);
  });
  attach(m, 'tracepoint:power:suspend_resume', (h) => {
    if (Number(h.fields['start']) === 1) collapses.push({ startNs: h.timeNs, endNs: -1 });
    else collapses.at(-1)!.endNs = h.timeNs;
  });
  attach(m, 'tracepoint:power:wakeup_source_deactivate', (h) => void released.push(h.timeNs));
  m.run(s.durationNs);
  return { m, report: m.report(s.name, 1), latencies, collapses, released };
}

test('power: reads after 150 ms idle pay PS4 exit on the APST drive; a wake lock holds off power collapse', () => {
  const s = load();
  const { report, latencies, collapses, released } = run(s);
  const apst = latencies.get(NVME0)!;
  const noApst = latencies.get(NVME1)!;
  // seven reads each in the first second (one every 150 ms + service), seven more on nvme0n1 after
  assert.ok(apst.length >= 12, `${apst.length}`);
  assert.ok(noApst.length >= 6, `${noApst.length}`);
  // every read but the very first finds nvme0n1 in PS4: 8 ms exit (+ the read itself)
  const slow = apst.filter((ns) => ns >= 8 * MS && ns < 8.5 * MS).length;
  assert.ok(slow >= apst.length - 2, `${slow} of ${apst.length}: ${apst.join(' ')}`);
  assert.ok(Math.max(...noApst) < 400_000, `nvme1n1 max ${Math.max(...noApst)}`);
  const sorted = [...apst].sort((a, b) => a - b);
  assert.ok(sorted[Math.floor(sorted.length / 2)]! > 20 * Math.max(...noApst), 'APST median > 20x the no-APST maximum');
  // the device-status table saw nvme0n1 suspend (PS4) again and again; nvme1n1 never
  const p = report.power!;
  const ps4 = p.devices.find((d) => d.name === 'nvme0n1')!.states.find((x) => x.state === 'PS4')!;
  // each 150 ms gap: 100 ms in PS0 waiting for APST's timeout, then about 50 ms in PS4
  assert.ok(ps4.timeNs > 550 * MS && ps4.timeNs < 750 * MS, `PS4 ${ps4.timeNs}`);
  assert.equal(p.devices.find((d) => d.name === 'nvme1n1')!.states.find((x) => x.state === 'PS4')!.timeNs, 0);
  // power collapse only after the player's wake lock went (at the end of its 1 s), then in every gap
  assert.equal(released.length, 1);
  assert.ok(collapses.length >= 5, `${collapses.length} collapses`);
  assert.ok(collapses.every((c) => c.startNs > released[0]!), 'no collapse while the lock is held');
  assert.ok(p.collapseNs > 500 * MS && p.collapseNs < 900 * MS, `collapse ${p.collapseNs}`);
  assert.equal(p.wakeupSources[0]!.name, 'player');
  assert.ok(Math.abs(p.wakeupSources[0]!.totalTimeNs - 1100 * MS) < 60 * MS, `${p.wakeupSources[0]!.totalTimeNs}`);
});

test('power: with the background job holding a wake lock too, the machine never collapses', () => {
  const s = load();
  const power = s.machine.power!;
  const locked: Scenario = { ...s, machine: { ...s.machine, power: { ...power, wakeLockJobs: ['player', 'background'] } } };
  const { report, collapses } = run(locked);
  assert.equal(collapses.length, 0);
  assert.equal(report.power!.collapseNs, 0);
  // the same reads, the same APST exits: the lock keeps the CPUs from s2idle, not the drive from PS4
  assert.ok(report.power!.devices[0]!.states.find((x) => x.state === 'PS4')!.timeNs > 550 * MS);
});
