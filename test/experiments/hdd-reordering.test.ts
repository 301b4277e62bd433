// traces/experiments/hdd-reordering.json: on a disk with NCQ off, only the I/O scheduler orders the
// requests. Three readers at the disk's start, middle and end cost the same travel in any cyclic
// order, so none, mq-deadline and kyber serve them alike; bfq idles on one sequential reader at a
// time (once its weight raising ends) and the head stays put. With 16 random readers mq-deadline's
// sector-sorted batches cut the travel and raise throughput; bfq and kyber serve them in arrival order.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { attach } from '../../probes/attach.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';

const PHASE_NS = 6_000_000_000;
const SCHEDULERS = ['none', 'mq-deadline', 'bfq', 'kyber'] as const;
type Sched = (typeof SCHEDULERS)[number];

interface Phase {
  reads: number;
  travelSectors: number;
}

function run(): { three: Record<Sched, Phase>; many: Record<Sched, Phase>; schedulerSeen: string[] } {
  const loaded = loadScenario('hdd-reordering', join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  const s = loaded.scenario;
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const phases: Phase[] = Array.from({ length: 8 }, () => ({ reads: 0, travelSectors: 0 }));
  const schedulerSeen: string[] = [];
  let last = -1;
  attach(m, 'tracepoint:block:block_rq_issue', (h) => {
    const i = Math.floor(m.env.nowNs / PHASE_NS);
    const p = phases[i]!;
    const sector = Number(h.fields['sector']);
    if (schedulerSeen.length === i) schedulerSeen.push(m.devices[0]!.scheduler);
    p.reads++;
    if (last >= 0) p.travelSectors += Math.abs(sector - last);
    last = sector;
  });
  m.run(s.durationNs);
  const pick = (offset: number): Record<Sched, Phase> => Object.fromEntries(SCHEDULERS.map((name, i) => [name, phases[offset + i]!])) as Record<Sched, Phase>;
  return { three: pick(0), many: pick(4), schedulerSeen };
}

const meanTravel = (p: Phase): number => p.travelSectors / p.reads;

test('hdd-reordering: three readers gain only from bfq\'s idling; sixteen random readers gain from mq-deadline\'s sorting', () => {
  const { three, many, schedulerSeen } = run();
  assert.deepEqual(schedulerSeen, [...SCHEDULERS, ...SCHEDULERS]);
  // three regions 512 GiB apart: FIFO travels 2/3 of the stroke per request (start-middle-end-start)
  const stroke = 2 ** 40 / 512;
  assert.ok(Math.abs(meanTravel(three.none) / stroke - 2 / 3) < 0.02, `none: ${meanTravel(three.none) / stroke} strokes`);
  for (const s of ['mq-deadline', 'kyber'] as const) {
    assert.ok(Math.abs(three[s].reads / three.none.reads - 1) < 0.15, `${s}: ${three[s].reads} vs none ${three.none.reads}`);
    assert.ok(Math.abs(meanTravel(three[s]) / meanTravel(three.none) - 1) < 0.05, `${s} travel`);
  }
  assert.ok(three.bfq.reads > 20 * three.none.reads, `bfq ${three.bfq.reads} vs none ${three.none.reads}`);
  assert.ok(meanTravel(three.bfq) < meanTravel(three.none) / 20, `bfq travel ${meanTravel(three.bfq)} vs ${meanTravel(three.none)}`);
  // sixteen random readers: FIFO travels a third of the stroke; C-SCAN batches of 16 far less
  assert.ok(Math.abs(meanTravel(many.none) / stroke - 1 / 3) < 0.05, `none: ${meanTravel(many.none) / stroke} strokes`);
  assert.ok(meanTravel(many['mq-deadline']) < meanTravel(many.none) / 3, `mq-deadline travel ${meanTravel(many['mq-deadline'])} vs ${meanTravel(many.none)}`);
  assert.ok(many['mq-deadline'].reads > 1.4 * many.none.reads, `mq-deadline ${many['mq-deadline'].reads} vs none ${many.none.reads}`);
  for (const s of ['bfq', 'kyber'] as const) {
    assert.ok(Math.abs(many[s].reads / many.none.reads - 1) < 0.1, `${s}: ${many[s].reads} vs none ${many.none.reads}`);
    assert.ok(Math.abs(meanTravel(many[s]) / meanTravel(many.none) - 1) < 0.1, `${s} travel`);
  }
});
