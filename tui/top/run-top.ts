// `kiotrace top [SCENARIO]`: the simulation in a worker thread, and either the Ink dashboard
// (a terminal) or, when stdout is not a terminal, the same panels as plain text once a second
// until the scenario ends. Never an escape code into a pipe.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { writeIoPerfetto } from './export-io.js';
import type { IoRecord } from './inspector.js';
import type { SimCommand } from './keys.js';
import type { Snapshot } from './snapshot.js';
import type { FromWorker, ToWorker, WorkerScript, WorkerStart } from './sim-worker.js';
import { buildView, PLAIN_UI, plainText } from './view-model.js';

export interface TopOptions {
  /** A checked bpftrace program to run next to the view. */
  readonly script?: WorkerScript;
  readonly scenario: string;
  readonly scenariosDir: string;
  readonly seed: number;
  readonly durationNs: number | undefined;
  /** Simulated ns per wall ns; 0 = as fast as it goes. */
  readonly speed: number;
}

class WorkerLink {
  private readonly snapshotListeners = new Set<(s: Snapshot) => void>();
  private readonly statusListeners = new Set<(paused: boolean, speed: number) => void>();
  readonly worker: Worker;
  error: string | undefined;
  /** What the program printed at exit, once the worker has stopped. */
  finalText: Promise<string>;
  private resolveFinal: (text: string) => void = () => undefined;

  constructor(start: WorkerStart, onError: (message: string) => void) {
    this.finalText = new Promise((resolve) => (this.resolveFinal = resolve));
    if (!start.script) this.resolveFinal('');
    this.worker = new Worker(new URL('./sim-worker.js', import.meta.url), { workerData: start });
    this.worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'snapshot') for (const l of this.snapshotListeners) l(msg.snapshot);
      else if (msg.type === 'status') for (const l of this.statusListeners) l(msg.paused, msg.speed);
      else if (msg.type === 'final') this.resolveFinal(msg.text);
      else onError((this.error = msg.message));
    });
    this.worker.on('error', (e) => onError((this.error = e.message)));
  }

  onSnapshot(listener: (s: Snapshot) => void): () => void {
    this.snapshotListeners.add(listener);
    return () => this.snapshotListeners.delete(listener);
  }

  onStatus(listener: (paused: boolean, speed: number) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  send(command: SimCommand): void {
    let msg: ToWorker;
    if (command.kind === 'quit') msg = { type: 'stop' };
    else if (command.kind === 'pause') msg = { type: 'pause' };
    else if (command.kind === 'speed') msg = { type: 'speed', speed: command.speed };
    else if (command.kind === 'inspect') msg = { type: 'inspect', on: command.on };
    else if (command.kind === 'probes') msg = { type: 'probes', on: command.on };
    else return;
    this.worker.postMessage(msg);
  }

  exportIo(io: IoRecord): string {
    const path = `kiotrace-io-${io.ioId}.pftrace`;
    try {
      const chunks: Uint8Array[] = [];
      writeIoPerfetto(io, (c) => chunks.push(c.slice()));
      writeFileSync(path, Buffer.concat(chunks));
      return `wrote ${resolve(path)} (${io.layers.length} layers); open it at https://ui.perfetto.dev`;
    } catch (e) {
      return `could not write ${path}: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /** Stops the simulation; resolves with what the program printed at exit ('' without one). */
  async close(): Promise<string> {
    this.worker.postMessage({ type: 'stop' } satisfies ToWorker);
    const text = await Promise.race([this.finalText, new Promise<string>((r) => setTimeout(() => r(''), 5000))]);
    await this.worker.terminate();
    return text;
  }
}

/** Without a terminal: the dashboard's lines as text, once a second, until the scenario ends. */
async function runPlain(opts: TopOptions, write: (text: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const history: Snapshot[] = [];
    const link = new WorkerLink({ ...opts, sampleIntervalMs: 1000 }, (message) => {
      write(`kiotrace top: ${message}\n`);
      void link.close().then(() => resolve(1));
    });
    link.onSnapshot((s) => {
      history.push(s);
      if (history.length > 120) history.shift();
      const view = buildView(history, PLAIN_UI, 120, 1000);
      write(view.lines.slice(0, -1).map(plainText).join('\n') + '\n\n');
      if (s.simNs >= s.endNs || s.script?.exited === true) {
        void link.close().then((finalText) => {
          write(finalText);
          resolve(0);
        });
      }
    });
  });
}

async function runInk(opts: TopOptions): Promise<number> {
  // chalk reads the environment when it is first imported: NO_COLOR must become FORCE_COLOR=0 first
  const color = process.env['NO_COLOR'] === undefined || process.env['NO_COLOR'] === '';
  if (!color) process.env['FORCE_COLOR'] = '0';
  // React's production build: its development build checks every render (a third more CPU)
  process.env['NODE_ENV'] ??= 'production';
  const [{ render }, { createElement }, { TopApp }] = await Promise.all([import('ink'), import('react'), import('./app.js')]);
  let failure: string | undefined;
  const link = new WorkerLink({ ...opts, sampleIntervalMs: 100 }, (message) => {
    failure = message;
    instance.unmount();
  });
  const instance = render(createElement(TopApp, { link, color }), { exitOnCtrlC: false, patchConsole: false, maxFps: 20 });
  await instance.waitUntilExit();
  // like bpftrace at exit: the program's maps after the screen is gone
  const finalText = await link.close();
  if (finalText !== '') process.stdout.write(finalText);
  if (failure !== undefined) {
    process.stderr.write(`kiotrace top: ${failure}\n`);
    return 1;
  }
  return 0;
}

export function runTop(opts: TopOptions): Promise<number> {
  return process.stdout.isTTY === true ? runInk(opts) : runPlain(opts, (t) => process.stdout.write(t));
}
