// The live view's figures for `npm run bench`: how fast the simulation runs flat out with the UI
// drawing next to it (against the same worker with nobody drawing), the UI thread's CPU at 10
// refreshes a second, and how many frames it writes.
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SimLink } from '../../tui/top/app.js';
import type { IoRecord } from '../../tui/top/inspector.js';
import type { SimCommand } from '../../tui/top/keys.js';
import type { Snapshot } from '../../tui/top/snapshot.js';
import type { FromWorker, WorkerStart } from '../../tui/top/sim-worker.js';
import { repoRoot } from './workloads.js';

/** A terminal for Ink to draw into: 120x40, counting frames and bytes. */
class FakeTty extends Writable {
  readonly isTTY = true;
  readonly columns = 120;
  readonly rows = 40;
  /** Frames: Ink brackets each one in synchronized-output marks (ESC [?2026h ... ESC [?2026l). */
  writes = 0;
  bytes = 0;

  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    const text = chunk.toString();
    this.writes += text.split('\u001b[?2026h').length - 1;
    this.bytes += chunk.length;
    done();
  }
}

/** Ink, React and the app, loaded with React's production build as `kiotrace top` loads them. */
async function ui() {
  process.env['NODE_ENV'] ??= 'production';
  const [{ render }, { createElement }, { TopApp }] = await Promise.all([import('ink'), import('react'), import('../../tui/top/app.js')]);
  return { render, createElement, TopApp };
}

const workerUrl = (): URL => new URL('../../tui/top/sim-worker.js', import.meta.url);

/** Runs `default` flat out in the UI's worker for `wallMs`; returns simulated ns reached, with or without the UI drawing. */
export async function simulatedNsFlatOut(wallMs: number, withUi: boolean): Promise<{ simNs: number; frames: number }> {
  const start: WorkerStart = { scenario: 'default', scenariosDir: join(repoRoot(), 'traces', 'scenarios'), seed: 1, durationNs: 3_600_000_000_000, speed: 0, sampleIntervalMs: 100 };
  const worker = new Worker(workerUrl(), { workerData: start });
  let last: Snapshot | undefined;
  const listeners = new Set<(s: Snapshot) => void>();
  worker.on('message', (m: FromWorker) => {
    if (m.type !== 'snapshot') return;
    last = m.snapshot;
    for (const l of listeners) l(m.snapshot);
  });
  const tty = new FakeTty();
  let unmount = (): void => {};
  if (withUi) {
    const { render, createElement, TopApp } = await ui();
    const link: SimLink = {
      onSnapshot: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      onStatus: () => () => undefined,
      send: (_c: SimCommand) => undefined,
      exportIo: (_io: IoRecord) => ({ ok: false, text: '' }),
    };
    const instance = render(createElement(TopApp, { link, color: true }), { stdout: tty as unknown as NodeJS.WriteStream, exitOnCtrlC: false, patchConsole: false, maxFps: 20 });
    unmount = () => instance.unmount();
  }
  // the first snapshot marks the start: module loading and boot are not what is measured
  while (!last) await new Promise((r) => setTimeout(r, 10));
  const from = last.simNs;
  const framesBefore = tty.writes;
  await new Promise((r) => setTimeout(r, wallMs));
  const reached = last.simNs - from;
  const frames = tty.writes - framesBefore;
  unmount();
  await worker.terminate();
  return { simNs: reached, frames };
}

/**
 * The UI thread alone: TopApp fed real snapshots at 10 per second through a fake link, drawing
 * into a fake terminal. Returns CPU time used per wall second and frames per second.
 */
export async function uiCpuAt10Hz(snapshots: readonly Snapshot[], wallMs: number): Promise<{ cpuShare: number; processCpuShare: number; framesPerSec: number; bytesPerSec: number }> {
  const listeners = new Set<(s: Snapshot) => void>();
  const link: SimLink = {
    onSnapshot: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onStatus: () => () => undefined,
    send: () => undefined,
    exportIo: () => ({ ok: false, text: '' }),
  };
  const tty = new FakeTty();
  const { render, createElement, TopApp } = await ui();
  const instance = render(createElement(TopApp, { link, color: true }), { stdout: tty as unknown as NodeJS.WriteStream, exitOnCtrlC: false, patchConsole: false, maxFps: 20 });
  let i = 0;
  const push = (): void => {
    for (const l of listeners) l(snapshots[i++ % snapshots.length]!);
  };
  push();
  await new Promise((r) => setTimeout(r, 300));
  // the UI thread's share: event-loop utilization (busy time of this thread); process CPU also
  // counts V8's GC and compiler threads, reported beside it
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const writes0 = tty.writes;
  const bytes0 = tty.bytes;
  const timer = setInterval(push, 100);
  await new Promise((r) => setTimeout(r, wallMs));
  clearInterval(timer);
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = { cpuShare: elu.utilization, processCpuShare: (cpu.user + cpu.system) / 1e6 / wallS, framesPerSec: (tty.writes - writes0) / wallS, bytesPerSec: (tty.bytes - bytes0) / wallS };
  instance.unmount();
  return out;
}
