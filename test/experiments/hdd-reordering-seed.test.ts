// The seed's I/O-scheduling example (traces/experiments/hdd-reordering-seed.json): the arm is near
// the beginning of the disk when three applications queue reads near the end, the beginning and
// the middle, in that order. FIFO dispatch (none) serves them 1, 2, 3; mq-deadline, whose batch
// continues upward from the head's last position, serves them 2, 3, 1 and the arm travels a third
// less; bfq (per-process queues in arrival order) and kyber (one read domain, FIFO) do not sort.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScript } from '../../probes/script.js';
import { scriptOptions } from '../helpers/script.js';
import { bootExperiment, EXPERIMENTS_DIR } from '../helpers/experiment.js';

interface Phase {
  /** Each application's place in the round's service order after the arm's read. */
  readonly place: Record<string, number>;
  readonly latencyUs: Record<string, number>;
  readonly travelGibPerRound: number;
}

function runPhases(): { phases: Map<string, Phase>; out: string } {
  const { m, durationNs } = bootExperiment('hdd-reordering-seed.json');
  let out = '';
  const result = runScript(m, scriptOptions(readFileSync(join(EXPERIMENTS_DIR, 'hdd-reordering-seed.bt'), 'utf8'), durationNs, (s, stream) => {
    if (stream === 'stdout') out += s;
  }));
  assert.equal(result.exitCode, 0, out);
  const phases = new Map<string, Phase>();
  for (const block of out.split(/^(?=none \(FIFO\)$|mq-deadline$|bfq$|kyber$)/m)) {
    const name = /^(none \(FIFO\)|mq-deadline|bfq|kyber)$/m.exec(block)?.[1];
    if (!name) continue;
    const place: Record<string, number> = {};
    const latencyUs: Record<string, number> = {};
    for (const [, k, v] of block.matchAll(/^@place\[(\w+)\]: (\d+)$/gm)) place[k!] = Number(v);
    for (const [, k, v] of block.matchAll(/^@latency_us\[(\w+)\]: (\d+)$/gm)) latencyUs[k!] = Number(v);
    const travel = /^@travel_gib_per_round: (\d+)$/m.exec(block);
    assert.ok(travel, block);
    phases.set(name, { place, latencyUs, travelGibPerRound: Number(travel[1]) });
  }
  assert.deepEqual([...phases.keys()], ['none (FIFO)', 'mq-deadline', 'bfq', 'kyber'], out);
  return { phases, out };
}

const meanAppLatencyUs = (p: Phase): number => (p.latencyUs['app1']! + p.latencyUs['app2']! + p.latencyUs['app3']!) / 3;

test("the seed's example: FIFO serves 1, 2, 3; mq-deadline 2, 3, 1 with a third less travel and shorter waits", () => {
  const { phases, out } = runPhases();
  const fifo = phases.get('none (FIFO)')!;
  const deadline = phases.get('mq-deadline')!;
  assert.deepEqual(fifo.place, { app1: 1, app2: 2, app3: 3 }, out);
  assert.deepEqual(deadline.place, { app2: 1, app3: 2, app1: 3 }, out);
  // 0 -> 1000g -> 16g -> 500g -> back to 0: 2968 GiB a round; sorted: 0 -> 16g -> 500g -> 1000g -> 0
  assert.ok(fifo.travelGibPerRound > 2800 && fifo.travelGibPerRound < 3100, out);
  assert.ok(deadline.travelGibPerRound < 0.7 * fifo.travelGibPerRound, out);
  // the application near the end waits for the other two, each of the others waits less
  assert.ok(deadline.latencyUs['app1']! > fifo.latencyUs['app1']!, out);
  assert.ok(deadline.latencyUs['app2']! < fifo.latencyUs['app2']! / 2, out);
  assert.ok(meanAppLatencyUs(deadline) < 0.75 * meanAppLatencyUs(fifo), out);
});

test('bfq and kyber keep the arrival order here: neither sorts across processes by sector', () => {
  const { phases, out } = runPhases();
  for (const name of ['bfq', 'kyber']) {
    const p = phases.get(name)!;
    assert.deepEqual(p.place, { app1: 1, app2: 2, app3: 3 }, `${name}\n${out}`);
    assert.ok(p.travelGibPerRound > 0.9 * phases.get('none (FIFO)')!.travelGibPerRound, out);
  }
});
