// traces/experiments/spool.json: three users print at once to one slow printer. The spool keeps
// the printer's output a sequence of whole jobs (checked byte for byte), the control tools list,
// remove, stop and start the queue, and the printer's one-opener rule turns a direct writer away.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Machine, ProbeHit, RunReport } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';

const DIR = join(repoRoot(), 'traces', 'experiments');
const MS = 1_000_000;
/** 9600 baud, 8N1: 10 bits a byte. */
const CHAR_NS = Math.round(1e10 / 9600);

function runSpool(): { m: Machine; r: RunReport; states: string[]; openErrors: ProbeHit[] } {
  const loaded = loadScenario(join(DIR, 'spool.json'), join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  const m = prepareRun(loaded.scenario, { seed: 1, durationNs: loaded.scenario.durationNs });
  const states: string[] = [];
  const openErrors: ProbeHit[] = [];
  attach(m, 'tracepoint:kiotrace:spool_job', (h) => states.push(`${Math.floor(h.timeNs / MS)}ms job ${String(h.fields['job'])} ${String(h.fields['owner'])} ${String(h.fields['state'])}`));
  attach(m, 'tracepoint:syscalls:sys_exit_openat', (h) => {
    if (Number(h.fields['ret']) < 0) openErrors.push(h);
  });
  m.run(loaded.scenario.durationNs);
  return { m, r: m.report(loaded.scenario.name, 1), states, openErrors };
}

/** `yes TEXT | head -c N`: TEXT's lines cut at N bytes. */
function yesHead(text: string, bytes: number): Uint8Array {
  const line = new TextEncoder().encode(`${text}\n`);
  const out = new Uint8Array(bytes);
  for (let off = 0; off < bytes; off += line.length) out.set(line.subarray(0, Math.min(line.length, bytes - off)), off);
  return out;
}

test('three users print at once: the paper is alice then carol, each whole, byte for byte; bob removed his', () => {
  const { m, r } = runSpool();
  const alice = yesHead('alice: quarterly report, page 1', 2048);
  const carol = yesHead('carol: letter to the editor', 1500);
  const paper = m.printers[0]!.printer.paper();
  assert.deepEqual(paper, new Uint8Array([...alice, ...carol]));
  assert.deepEqual(r.printers?.[0]?.paperJobs, [1, 3]);
  const jobs = r.printers![0]!.jobs;
  assert.deepEqual(jobs.map((j) => `${j.id} ${j.owner} ${j.title} ${j.bytes} ${j.state}`), ['1 alice report 2048 done', '2 bob menu 1024 removed', '3 carol letter 1500 done']);
  // all three were spooled within a millisecond of asking, though only one could print
  for (const j of jobs) assert.ok(j.queuedNs < MS, `job ${j.id} queued at ${j.queuedNs} ns`);
  // each job takes its bytes' time on the line: write() returns once all but the last FIFO fill is out
  const a = jobs[0]!;
  assert.ok(a.endNs - a.startNs >= (2048 - 16) * CHAR_NS && a.endNs - a.startNs <= 2048 * CHAR_NS, `alice printed in ${a.endNs - a.startNs} ns`);
  // carol waited for the printer to be started again at 4 s, though it was idle from about 2.1 s
  const c = jobs[2]!;
  assert.ok(c.startNs >= 4000 * MS && c.startNs < 4001 * MS, `carol started at ${c.startNs}`);
  assert.ok(c.endNs - c.startNs >= (1500 - 16) * CHAR_NS && c.endNs - c.startNs <= 1500 * CHAR_NS);
});

test('the queue is listed, a job removed by its owner only, printing stopped and started; a direct writer gets EBUSY', () => {
  const { r, states, openErrors } = runSpool();
  const ev = (r.events ?? []).map((e) => `${e.command} -> ${e.status}${e.output === '' ? '' : `: ${e.output.split('\n').join(' | ')}`}`);
  assert.deepEqual(ev, [
    'yes alice: quarterly report, page 1 | head -c 2K | sudo -u alice lp -t report -> 0: request id is lp0-1 (0 file(s))',
    'yes bob: lunch menu | head -c 1K | sudo -u bob lp -t menu -> 0: request id is lp0-2 (0 file(s))',
    'yes carol: letter to the editor | head -c 1500 | sudo -u carol lp -t letter -> 0: request id is lp0-3 (0 file(s))',
    'lpq -> 0: lp0 is ready and printing | Rank   Owner      Job  Files                                 Total Size | active alice      1    report                                2048 bytes | 1st    bob        2    menu                                  1024 bytes | 2nd    carol      3    letter                                1500 bytes',
    'echo hello > /dev/lp0 -> 2: sh: 1: cannot create /dev/lp0: Device or resource busy',
    'sudo -u carol lprm 2 -> 1: lprm: lp0: job 2: Permission denied (owned by bob)',
    'sudo -u bob lprm 2 -> 0: dfA002localhost dequeued',
    'cupsdisable lp0 -> 0',
    'lpq -> 0: lp0 is not ready | Rank   Owner      Job  Files                                 Total Size | 1st    carol      3    letter                                1500 bytes',
    'cupsenable lp0 -> 0',
    'lpq -> 0: lp0 is ready | no entries',
  ]);
  assert.deepEqual(states, [
    '0ms job 1 alice queued',
    '0ms job 2 bob queued',
    '0ms job 3 carol queued',
    '0ms job 1 alice printing',
    '310ms job 2 bob removed',
    '1000ms job 3 carol suspended',
    '2117ms job 1 alice done',
    '4000ms job 3 carol resumed',
    '4000ms job 3 carol printing',
    '5550ms job 3 carol done',
  ]);
  // the one refused open: sh's, on the printer lpd held (EBUSY)
  assert.deepEqual(openErrors.map((h) => `${h.comm} ${Number(h.fields['ret'])}`), ['sh -16']);
});
