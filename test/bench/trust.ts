// Figures for issue 9 (a tool users can trust), measured on the real command:
// - how long `kiotrace top` takes to show its first frame, and to exit after `q` (in tmux, as a
//   person sees it);
// - peak memory of a printf flood written with -o FILE, short vs long (streamed: flat);
// - what running in interruptible slices costs against one uninterrupted run.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadScenario } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { runMachine } from '../../tui/run-loop.js';
import { forceGc, nowNs, repoRoot } from './workloads.js';

const CLI = join(repoRoot(), 'dist', 'tui', 'cli.js');

export const hasTmux = (): boolean => spawnSync('tmux', ['-V']).status === 0;

/** One `kiotrace top` in a fresh tmux session: ms to the first visible frame, then ms from `q` to exit. */
export async function topFirstFrameAndQuit(): Promise<{ firstFrameMs: number; quitMs: number }> {
  const socket = `kiotrace-bench-${process.pid}`;
  const tmux = (...args: string[]): string => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' }).stdout;
  const alive = (): boolean => spawnSync('tmux', ['-L', socket, 'has-session', '-t', 'b']).status === 0;
  const t0 = nowNs();
  tmux('new-session', '-d', '-s', 'b', '-x', '120', '-y', '40', `${process.execPath} ${CLI} top default --duration 600s`);
  try {
    while (!tmux('capture-pane', '-p', '-t', 'b').includes('kiotrace top')) await sleep(5);
    const firstFrameMs = Number(nowNs() - t0) / 1e6;
    // the dashboard proper (Ink running) before quitting, as a user would
    while (!tmux('capture-pane', '-p', '-t', 'b').includes('Devices')) await sleep(5);
    const tq = nowNs();
    tmux('send-keys', '-t', 'b', 'q');
    while (alive()) await sleep(5);
    return { firstFrameMs, quitMs: Number(nowNs() - tq) / 1e6 };
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
  }
}

/** Peak RSS (VmHWM) of `kiotrace -e FLOOD -o /dev/null --duration D`, read from /proc while it runs. */
export async function floodPeakRssMib(durationText: string): Promise<number> {
  const program = 'kprobe:vfs_read { printf("%d %s %d\\n", nsecs, comm, tid); }';
  const child = spawn(process.execPath, [CLI, '-q', '-e', program, '-o', '/dev/null', '--duration', durationText], { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => (exited = true));
  let peakKib = 0;
  while (!exited) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid!}/status`, 'utf8'));
      if (m) peakKib = Math.max(peakKib, Number(m[1]));
    } catch {
      // gone between the check and the read
    }
    await sleep(20);
  }
  return peakKib / 1024;
}

export const canReadProc = (): boolean => existsSync('/proc/self/status');

/** Wall ns of `default` for `simNs`, run whole (m.run) or in the CLI's interruptible slices. */
export async function defaultRunWallNs(simNs: number, sliced: boolean): Promise<number> {
  const loaded = loadScenario('default', join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) throw new Error('default scenario does not load');
  const m = prepareRun(loaded.scenario, { seed: 1, durationNs: simNs });
  forceGc();
  const t0 = nowNs();
  if (sliced) await runMachine(m, simNs);
  else m.run(simNs);
  return Number(nowNs() - t0);
}
