// The nvme-coalescing experiment (traces/experiments/nvme-coalescing.json): NVMe Interrupt
// Coalescing (Set Features 08h) with a 100 µs aggregation time and a threshold of 8 completions.
// A lone 4 KiB read (qd1) waits the whole aggregation time for its interrupt: its latency grows by
// 100 µs and there is still one interrupt per completion. At iodepth 32 eight CQEs share an
// interrupt: interrupts fall to an eighth of the completions and so does the hard-irq entry cost
// per I/O. Without the key the drive interrupts once per completion, as Linux leaves it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunReport, Scenario } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { runScript } from '../../probes/script.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';
import { scriptOptions } from '../helpers/script.js';
import { oncePerFile } from '../helpers/experiment.js';

const US = 1e3;

function load(name: string): Scenario {
  const loaded = loadScenario(name, join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  return loaded.scenario;
}

interface Phase {
  interrupts: number;
  completions: number;
  /** Time in the NVMe hard-irq handlers (irq_handler_entry to exit), ns. */
  irqNs: number;
}

interface Run {
  readonly report: RunReport;
  readonly qd1: Phase;
  readonly qd32: Phase;
}

const traced = oncePerFile(measure);

function measure(name: string): Run {
  const s = load(name);
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const qd1: Phase = { interrupts: 0, completions: 0, irqNs: 0 };
  const qd32: Phase = { interrupts: 0, completions: 0, irqNs: 0 };
  // the qd32 phase starts (stonewall) with its job's first command
  let phase = qd1;
  attach(m, 'tracepoint:nvme:nvme_setup_cmd', (h) => {
    if (h.comm === 'qd32') phase = qd32;
  });
  const entered = new Map<number, number>();
  attach(m, 'tracepoint:irq:irq_handler_entry', (h) => {
    if (!String(h.fields['name']).startsWith('nvme')) return;
    phase.interrupts++;
    entered.set(h.cpu, h.timeNs);
  });
  attach(m, 'tracepoint:irq:irq_handler_exit', (h) => {
    const t = entered.get(h.cpu);
    if (t === undefined) return;
    entered.delete(h.cpu);
    phase.irqNs += h.timeNs - t;
  });
  attach(m, 'tracepoint:nvme:nvme_complete_rq', () => phase.completions++);
  m.run(s.durationNs);
  assert.ok(m.allJobsDone, 'both phases finished');
  const r: Run = { report: m.report(s.name, 1), qd1, qd32 };
  return r;
}

const job = (r: Run, name: string) => r.report.jobs.find((j) => j.name === name)!.read;

test('nvme-coalescing-off is the same run with coalescing at its reset value', () => {
  const on = load('nvme-coalescing');
  const off = load('nvme-coalescing-off');
  assert.deepEqual(on.machine.devices[0]!.ssd, { irqCoalescing: { timeUs: 100, threshold: 8 } });
  assert.equal(off.machine.devices[0]!.ssd, undefined);
  assert.deepEqual({ ...off.machine, devices: [] }, { ...on.machine, devices: [] });
  assert.deepEqual(off.jobs, on.jobs);
});

test('nvme-coalescing: a lone read waits the 100 µs aggregation time; one interrupt per completion still', () => {
  const on = traced('nvme-coalescing');
  const off = traced('nvme-coalescing-off');
  assert.equal(off.qd1.interrupts, off.qd1.completions);
  assert.equal(on.qd1.interrupts, on.qd1.completions, 'the threshold is never reached at QD1: the timer fires every time');
  const onClat = job(on, 'qd1').clat;
  const offClat = job(off, 'qd1').clat;
  const addedNs = onClat.meanNs - offClat.meanNs;
  assert.ok(Math.abs(addedNs - 100 * US) < 1 * US, `added latency ${addedNs / US} µs`);
  // the timer is the same for every read: the spread does not grow
  assert.ok(onClat.maxNs - onClat.minNs <= offClat.maxNs - offClat.minNs + 1 * US, `spread ${(onClat.maxNs - onClat.minNs) / US} vs ${(offClat.maxNs - offClat.minNs) / US} µs`);
  assert.ok(job(on, 'qd1').ios * 2 < job(off, 'qd1').ios, `QD1 IOPS fall with the latency: ${job(on, 'qd1').ios} vs ${job(off, 'qd1').ios} reads`);
});

test('nvme-coalescing: at iodepth 32 eight completions share an interrupt and the irq time per I/O falls', () => {
  const on = traced('nvme-coalescing');
  const off = traced('nvme-coalescing-off');
  assert.equal(off.qd32.interrupts, off.qd32.completions, 'off: one interrupt per completion');
  const perIrq = on.qd32.completions / on.qd32.interrupts;
  assert.ok(perIrq > 7.5 && perIrq <= 8, `completions per interrupt: ${on.qd32.completions} / ${on.qd32.interrupts}`);
  // the device's own counters diverge the same way
  const hw = on.report.devices[0]!.hw;
  assert.equal(hw['interrupts'], on.qd1.interrupts + on.qd32.interrupts);
  assert.equal(hw['completions'], on.qd1.completions + on.qd32.completions);
  const onIrqPerIo = on.qd32.irqNs / on.qd32.completions;
  const offIrqPerIo = off.qd32.irqNs / off.qd32.completions;
  assert.ok(onIrqPerIo < 0.6 * offIrqPerIo, `hard-irq ns per completion: ${onIrqPerIo} vs ${offIrqPerIo}`);
  // waiting for the eighth CQE costs some latency, bounded by the aggregation time
  const added = job(on, 'qd32').clat.meanNs - job(off, 'qd32').clat.meanNs;
  assert.ok(added >= 0 && added < 100 * US, `QD32 added latency ${added / US} µs`);
});

/** nvme-coalescing.bt's counts: [@irqs, @cqes, @irq_ns]. */
function scriptCounts(name: string): [number, number, number] {
  const s = load(name);
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  let out = '';
  const text = readFileSync(join(repoRoot(), 'traces', 'experiments', 'nvme-coalescing.bt'), 'utf8');
  const r = runScript(m, scriptOptions(text, s.durationNs, (t, stream) => { if (stream === 'stdout') out += t; }, { quiet: true, sourceName: 'nvme-coalescing.bt' }));
  assert.equal(r.exitCode, 0);
  const count = (map: string): number => Number(new RegExp(`^@${map}: (\\d+)$`, 'm').exec(out)?.[1] ?? NaN);
  assert.match(out, /^@rq_lat_us:$/m);
  return [count('irqs'), count('cqes'), count('irq_ns')];
}

test('nvme-coalescing.bt: interrupts fall below completions, and irq time with them', () => {
  const [onIrqs, onCqes, onIrqNs] = scriptCounts('nvme-coalescing');
  const [offIrqs, offCqes, offIrqNs] = scriptCounts('nvme-coalescing-off');
  assert.equal(offIrqs, offCqes);
  assert.ok(onIrqs * 5 < onCqes, `@irqs ${onIrqs}, @cqes ${onCqes}`);
  assert.ok(onIrqNs / onCqes < 0.6 * (offIrqNs / offCqes), `@irq_ns per CQE ${onIrqNs / onCqes} vs ${offIrqNs / offCqes}`);
});
