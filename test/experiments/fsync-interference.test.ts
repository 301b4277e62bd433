// traces/experiments/fsync-interference.{fio,json} and fsync-interference-journal.json: O_DSYNC
// loggers share one ext4 journal with a thread that fsync()s a big, randomly updated file. One
// thread's fsync stalls the others; data=journal stalls them less than data=ordered.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Machine } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';

const DIR = join(repoRoot(), 'traces', 'experiments');
const MS = 1_000_000;
/** Long enough for three of the big file's fsyncs (one every 0.5 s at 8 MiB/s). */
const DURATION_NS = 1500 * MS;

interface Run {
  readonly m: Machine;
  /** Every logger write() latency, ns. */
  readonly loggerWrites: number[];
  /** The big file's fsync latencies, ns. */
  readonly bigFsyncs: number[];
  /** jbd2_run_stats: blocks per commit. */
  readonly commitBlocks: number[];
}

function run(file: string): Run {
  const loaded = loadScenario(join(DIR, file), join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  const m = prepareRun(loaded.scenario, { seed: 1, durationNs: DURATION_NS });
  const started = new Map<number, number>();
  const loggerWrites: number[] = [];
  const bigFsyncs: number[] = [];
  const commitBlocks: number[] = [];
  attach(m, 'tracepoint:syscalls:sys_enter_write,tracepoint:syscalls:sys_enter_pwrite64,tracepoint:syscalls:sys_enter_fsync', (h) => started.set(h.tid, h.timeNs));
  attach(m, 'tracepoint:syscalls:sys_exit_write,tracepoint:syscalls:sys_exit_pwrite64', (h) => {
    if (h.comm === 'logger') loggerWrites.push(h.timeNs - started.get(h.tid)!);
  });
  attach(m, 'tracepoint:syscalls:sys_exit_fsync', (h) => bigFsyncs.push(h.timeNs - started.get(h.tid)!));
  attach(m, 'tracepoint:jbd2:jbd2_run_stats', (h) => commitBlocks.push(Number(h.fields['blocks'])));
  m.run(DURATION_NS);
  return { m, loggerWrites, bigFsyncs, commitBlocks };
}

/** The data=ordered run, shared by both tests. */
let orderedRun: Run | undefined;
const ordered = (): Run => (orderedRun ??= run('fsync-interference.json'));

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('data=ordered: the big file fsync stalls every O_DSYNC logger for as long as it lasts', () => {
  const r = ordered();
  for (const j of r.m.jobs) assert.equal(j.stats.errors, 0, `${j.spec.name}: no errors`);
  assert.ok(r.bigFsyncs.length >= 2, `the big file was fsync()ed ${r.bigFsyncs.length} times`);
  assert.ok(r.loggerWrites.length >= 80, `${r.loggerWrites.length} logger writes`);
  const typical = median(r.loggerWrites);
  const worst = Math.max(...r.loggerWrites);
  const bigWorst = Math.max(...r.bigFsyncs);
  // an O_DSYNC append on a disk: its data, the journal blocks, a cache flush and the commit block
  assert.ok(typical > 10 * MS && typical < 60 * MS, `median logger write ${typical / MS} ms`);
  // the stall: several times the usual append, and as long as the big file's fsync
  assert.ok(worst > 3 * typical, `worst logger write ${worst / MS} ms vs median ${typical / MS} ms`);
  assert.ok(worst > 0.7 * bigWorst && worst < bigWorst + typical, `worst logger write ${worst / MS} ms vs the big fsync ${bigWorst / MS} ms`);
  // every record is its own small commit (the logger's data is at home, only metadata is logged)
  assert.ok(Math.max(...r.commitBlocks) < 16, `commits log ${Math.max(...r.commitBlocks)} blocks at most`);
});

test('data=journal: the same load stalls the loggers far less (the big file goes to the log sequentially)', () => {
  const o = ordered();
  const journal = run('fsync-interference-journal.json');
  for (const j of journal.m.jobs) assert.equal(j.stats.errors, 0, `${j.spec.name}: no errors`);
  const worst = (r: Run) => Math.max(...r.loggerWrites);
  assert.ok(worst(journal) * 4 < worst(o), `worst logger write: journal ${worst(journal) / MS} ms, ordered ${worst(o) / MS} ms`);
  assert.ok(Math.max(...journal.bigFsyncs) * 4 < Math.max(...o.bigFsyncs), `big fsync: journal ${Math.max(...journal.bigFsyncs) / MS} ms, ordered ${Math.max(...o.bigFsyncs) / MS} ms`);
  // the big file's pages went through the log: commits carry them
  assert.ok(Math.max(...journal.commitBlocks) >= 64, `journal commits log up to ${Math.max(...journal.commitBlocks)} blocks`);
  // and the loggers wrote more records in the same time
  assert.ok(journal.loggerWrites.length > o.loggerWrites.length, `${journal.loggerWrites.length} vs ${o.loggerWrites.length} logger writes`);
});
