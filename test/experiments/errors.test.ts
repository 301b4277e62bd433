// traces/experiments/errors.json: a transient error on sda is retried by the SCSI midlayer and
// hidden from the application (only its latency shows it); a permanent one reaches read() as -EIO,
// with the disk's sense data visible to a script.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { runScript } from '../../probes/script.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';
import { scriptOptions } from '../helpers/script.js';

const DIR = join(repoRoot(), 'traces', 'experiments');

function load(): Scenario {
  const loaded = loadScenario('errors', join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  return loaded.scenario;
}

/** The same machine with healthy disks: the baseline latency of the retried read. */
function healthy(s: Scenario): Scenario {
  return { ...s, machine: { ...s.machine, devices: s.machine.devices.map(({ faults: _faults, ...d }) => d) } };
}

interface Trace {
  /** Per job: each pread64's [offset, result, latency ns], in order. */
  readonly preads: Map<string, [number, number, number][]>;
  readonly requeues: number[];
  readonly senses: string[];
  readonly rqErrors: [number, number][];
}

function traced(s: Scenario): Trace {
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const t: Trace = { preads: new Map(), requeues: [], senses: [], rqErrors: [] };
  const open = new Map<number, [number, number]>();
  attach(m, 'tracepoint:syscalls:sys_enter_pread64', (h) => open.set(h.tid, [Number(h.fields['pos']), h.timeNs]));
  attach(m, 'tracepoint:syscalls:sys_exit_pread64', (h) => {
    const [pos, start] = open.get(h.tid)!;
    const list = t.preads.get(h.comm) ?? [];
    list.push([pos, Number(h.fields['ret']), h.timeNs - start]);
    t.preads.set(h.comm, list);
  });
  attach(m, 'tracepoint:block:block_rq_requeue', (h) => t.requeues.push(Number(h.fields['sector'])));
  attach(m, 'tracepoint:scsi:scsi_dispatch_cmd_done', (h) => {
    const f = h.fields;
    if (f['result'] !== 0) t.senses.push(`${Number(f['result'])} ${Number(f['sense_key']).toString(16)}/${Number(f['asc']).toString(16)}/${Number(f['ascq']).toString(16)}`);
  });
  attach(m, 'tracepoint:block:block_rq_error', (h) => t.rqErrors.push([Number(h.fields['sector']), Number(h.fields['error'])]));
  m.run(s.durationNs);
  assert.ok(m.allJobsDone, 'both readers finished');
  return t;
}

test('errors: the transient error is retried twice and hidden; the permanent one reaches read() as -EIO with its sense data', () => {
  const s = load();
  const t = traced(s);
  const base = traced(healthy(s));

  // retried: every read succeeds, the first after two requeues of the same request
  const retried = t.preads.get('retried')!;
  assert.equal(retried.length, 16);
  assert.ok(retried.every(([, ret]) => ret === 4096), 'the application sees no error');
  assert.deepEqual(t.requeues, [2048, 2048]);
  // the first read pays for the two failed attempts: each retry finds the sector just gone past
  // the head and waits a whole revolution (60 s / 7200 rpm), so it is two revolutions slower than
  // on a healthy disk; the later reads are not slowed by it
  const first = retried[0]![2];
  const firstHealthy = base.preads.get('retried')![0]![2];
  const REVOLUTION_NS = 60e9 / 7200;
  assert.ok(Math.abs(first - firstHealthy - 2 * REVOLUTION_NS) < 0.02 * 2 * REVOLUTION_NS, `first read ${first} ns vs ${firstHealthy} ns healthy`);
  const later = (list: [number, number, number][]) => list.slice(1).reduce((a, [, , ns]) => a + ns, 0);
  assert.ok(later(retried) < later(base.preads.get('retried')!) + REVOLUTION_NS / 2, `later reads ${later(retried)} ns vs ${later(base.preads.get('retried')!)} ns healthy`);

  // failing: the readahead request and the page read again alone both end in CHECK CONDITION with
  // MEDIUM ERROR 11/00, are not retried, and fail with BLK_STS_MEDIUM (-ENODATA); read() says -EIO
  const failing = t.preads.get('failing')!;
  assert.equal(failing.length, 16);
  assert.deepEqual(failing[0]!.slice(0, 2), [4 * 2 ** 20, -5]);
  assert.ok(failing.slice(1).every(([, ret]) => ret === 4096), 'the pages after the bad sectors read fine');
  assert.deepEqual(t.rqErrors, [[8192, -61], [8192, -61]]);
  // SAM_STAT_CHECK_CONDITION (2) with the sense each fault gives: ABORTED COMMAND 47/00 twice, MEDIUM ERROR 11/00 twice
  assert.deepEqual([...t.senses].sort(), ['2 3/11/0', '2 3/11/0', '2 b/47/0', '2 b/47/0']);

  // a healthy disk shows none of it
  assert.equal(base.requeues.length, 0);
  assert.equal(base.senses.length, 0);
  assert.ok(base.preads.get('failing')!.every(([, ret]) => ret === 4096));
});

test('errors.bt prints the requeues, the sense data, the failed requests and the -EIO', () => {
  const s = load();
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  let out = '';
  const text = readFileSync(join(DIR, 'errors.bt'), 'utf8');
  const r = runScript(m, scriptOptions(text, s.durationNs, (t, stream) => { if (stream === 'stdout') out += t; }, { quiet: true, sourceName: 'errors.bt' }));
  assert.equal(r.exitCode, 0);
  assert.match(out, /^requeue {3}R sector 2048 \+ 8$/m);
  assert.match(out, /^scsi done result=0x2 sense key=0xb asc=0x47 ascq=0x0 /m);
  assert.match(out, /^scsi done result=0x2 sense key=0x3 asc=0x11 ascq=0x0 /m);
  assert.match(out, /^rq_error {2}RA sector 8192 \+ 8 error -61$/m);
  assert.match(out, /^failing: pread64 = -5$/m);
  assert.match(out, /^@requeues: 2$/m);
  assert.match(out, /^@failed\[failing, -5\]: 1$/m);
  assert.match(out, /^@sense\[3, 17, 0\]: 2$/m);
  assert.match(out, /^@sense\[11, 71, 0\]: 2$/m);
  assert.doesNotMatch(out, /retried: pread64 = -/);
});
