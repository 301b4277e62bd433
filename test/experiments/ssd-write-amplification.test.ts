// traces/experiments/ssd-write-amplification.json: uniform random 4 KiB writes on drives in GC's
// steady state give the write amplification Xiang and Kurkoski's formula predicts for their
// over-provisioning, and the more spare, the less GC copies and the faster the writer.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { attach } from '../../probes/attach.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';

function load() {
  const loaded = loadScenario('ssd-write-amplification', join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  return loaded.scenario;
}

/** WA = a / (a + W0(-a e^-a)), a = 1 + OP, as the fixed point u = e^(-a(1-u)), WA = 1 / (1 - u). */
function xiangKurkoski(op: number): number {
  const a = 1 + op;
  let u = 0;
  for (let i = 0; i < 10_000; i++) u = Math.exp(-a * (1 - u));
  return 1 / (1 - u);
}

/**
 * Tolerance: anchor A1 allows 5 % at steady state with >= 64 pages a block; a 200 ms run erases
 * about 30 blocks a drive, so the sample adds about 2 %: 7 %.
 */
const TOLERANCE = 0.07;

test('ssd-write-amplification: WA at 12.5/25/50/100 % over-provisioning is within 7 % of Xiang-Kurkoski', () => {
  const s = load();
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const erases = new Map<number, number>();
  attach(m, 'tracepoint:kiotrace:ftl_erase', (h) => {
    const dev = Number(h.fields['dev']);
    erases.set(dev, (erases.get(dev) ?? 0) + 1);
    assert.ok(Number(h.fields['nand_pages']) >= Number(h.fields['host_pages']));
  });
  m.run(s.durationNs);
  const r = m.report(s.name, 1);
  const ops = [0.125, 0.25, 0.5, 1];
  const measured: number[] = [];
  const iops: number[] = [];
  ops.forEach((op, i) => {
    const hw = r.devices[i]!.hw;
    assert.ok(Math.abs(hw['overProvisioning']! - op) < 0.01, `device ${i} has ${hw['overProvisioning']} spare`);
    assert.ok(hw['erases']! >= 25, `device ${i}: ${hw['erases']} erases`);
    const wa = hw['writeAmplification']!;
    const expected = xiangKurkoski(op);
    assert.ok(Math.abs(wa / expected - 1) <= TOLERANCE, `OP ${op}: WA ${wa.toFixed(3)}, formula ${expected.toFixed(3)}`);
    // host pages programmed plus GC's copies are all the NAND programs
    assert.equal(hw['nandWritePages'], hw['hostProgramPages']! + hw['gcCopies']!);
    measured.push(wa);
    iops.push(r.jobs[i]!.write.ios);
  });
  // more spare: less copying and more host writes in the same time
  for (let i = 1; i < ops.length; i++) {
    assert.ok(measured[i]! < measured[i - 1]!, `WA falls with spare: ${measured.join(', ')}`);
    assert.ok(iops[i]! > iops[i - 1]!, `writes rise with spare: ${iops.join(', ')}`);
  }
  // the probe saw every erase the counters count
  assert.equal([...erases.values()].reduce((a, b) => a + b, 0), r.devices.reduce((a, d) => a + d.hw['erases']!, 0));
});

test('ssd-write-amplification-mixed: sequential bursts or separate streams lower WA against 4 KiB interleaving', () => {
  const loaded = loadScenario('ssd-write-amplification-mixed', join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  const s = loaded.scenario;
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  // the second half's WA (GC's steady state for this mix) from the running totals of ftl_erase
  const half = s.durationNs / 2;
  const at = new Map<number, { h0: number; n0: number; h1: number; n1: number }>();
  attach(m, 'tracepoint:kiotrace:ftl_erase', (h) => {
    const dev = Number(h.fields['dev']);
    const host = Number(h.fields['host_pages']);
    const nand = Number(h.fields['nand_pages']);
    const w = at.get(dev) ?? { h0: -1, n0: -1, h1: 0, n1: 0 };
    if (w.h0 < 0 && m.k.env.nowNs >= half) {
      w.h0 = host;
      w.n0 = nand;
    }
    w.h1 = host;
    w.n1 = nand;
    at.set(dev, w);
  });
  m.run(s.durationNs);
  const r = m.report(s.name, 1);
  // the same mix on every drive: 36 MiB sequential and 12 MiB random
  for (const j of r.jobs) {
    const expected = (j.name.startsWith('seq') ? 36 : 12) * 2 ** 20;
    assert.ok(Math.abs(j.write.bytes / expected - 1) < 0.01, `${j.name} wrote ${j.write.bytes}`);
  }
  const wa = r.devices.map((d) => d.hw['writeAmplification']!);
  const devs = [...at.keys()].sort((a, b) => a - b); // nvme0n1, nvme1n1, nvme2n1 by minor
  assert.equal(devs.length, 3);
  const steady = devs.map((dev) => {
    const w = at.get(dev)!;
    return (w.n1 - w.n0) / (w.h1 - w.h0);
  });
  const [interleaved, bursts, streams] = wa as [number, number, number];
  assert.ok(bursts < 0.8 * interleaved, `whole run: bursts ${bursts} against interleaved ${interleaved}`);
  assert.ok(streams < 0.9 * interleaved, `whole run: streams ${streams} against interleaved ${interleaved}`);
  const [sInterleaved, sBursts, sStreams] = steady as [number, number, number];
  assert.ok(sBursts < 0.75 * sInterleaved, `second half: bursts ${sBursts} against interleaved ${sInterleaved}`);
  assert.ok(sStreams < 0.8 * sInterleaved, `second half: streams ${sStreams} against interleaved ${sInterleaved}`);
  // the drive with streams saw the sequential writer's pages as one stream
  assert.ok(r.devices[2]!.hw['sequentialStreamPages']! >= 36 * 256 * 0.95);
});
