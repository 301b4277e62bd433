// The simulation's thread for `kiotrace top`: drawing the screen never slows the simulated
// machine, and a busy simulation never stalls the keys. Commands come in as messages; a
// snapshot goes out every sampling interval.

import { parentPort, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadScenario } from '../scenario.js';
import { prepareRun } from '../run.js';
import { SimDriver } from './driver.js';
import type { Snapshot } from './snapshot.js';

export interface WorkerStart {
  readonly scenario: string;
  readonly scenariosDir: string;
  readonly seed: number;
  readonly durationNs: number | undefined;
  readonly speed: number;
  readonly sampleIntervalMs: number;
}

export type ToWorker =
  | { readonly type: 'pause' }
  | { readonly type: 'speed'; readonly speed: number }
  | { readonly type: 'inspect'; readonly on: boolean }
  | { readonly type: 'probes'; readonly on: boolean }
  | { readonly type: 'stop' };
export type FromWorker =
  | { readonly type: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly type: 'status'; readonly paused: boolean; readonly speed: number }
  | { readonly type: 'error'; readonly message: string };

const wallNs = (): number => Number(process.hrtime.bigint());

async function main(port: NonNullable<typeof parentPort>, start: WorkerStart): Promise<void> {
  const loaded = loadScenario(start.scenario, start.scenariosDir);
  if (!loaded.ok) {
    port.postMessage({ type: 'error', message: `scenario ${start.scenario} does not load` } satisfies FromWorker);
    return;
  }
  const endNs = start.durationNs ?? loaded.scenario.durationNs;
  const m = prepareRun(loaded.scenario, { seed: start.seed, durationNs: endNs });
  const driver = new SimDriver(m, loaded.scenario.name, start.seed, endNs, start.speed, wallNs());
  let stopped = false;
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'pause') driver.togglePause(wallNs());
    else if (msg.type === 'speed') driver.setSpeed(msg.speed, wallNs());
    else if (msg.type === 'inspect') driver.inspect(msg.on);
    else if (msg.type === 'probes') driver.countProbes(msg.on);
    else stopped = true;
    if (msg.type === 'pause' || msg.type === 'speed') port.postMessage({ type: 'status', paused: driver.paused, speed: driver.speed } satisfies FromWorker);
  });
  const intervalNs = start.sampleIntervalMs * 1e6;
  let nextSnapshotNs = wallNs();
  let sampledAtSimNs = -1;
  while (!stopped) {
    const behind = driver.step(wallNs());
    const now = wallNs();
    // a paused or finished machine keeps its last snapshot: rates over no time say nothing
    if (now >= nextSnapshotNs && m.env.nowNs !== sampledAtSimNs) {
      nextSnapshotNs = now + intervalNs;
      sampledAtSimNs = m.env.nowNs;
      port.postMessage({ type: 'snapshot', snapshot: driver.snapshot(now) } satisfies FromWorker);
    }
    // behind: let messages in and go on; caught up, paused or done: wait for the clock
    if (behind) await new Promise((resolve) => setImmediate(resolve));
    else await sleep(driver.done || driver.paused ? 20 : 1);
  }
}

if (parentPort) {
  const port = parentPort;
  main(port, workerData as WorkerStart).catch((e: unknown) => {
    port.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies FromWorker);
  });
}
