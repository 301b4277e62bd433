// traces/experiments/readahead-knobs.json: the same sequential 4 KiB reader under each readahead
// knob gets the request sizes its window allows (read_ahead_kb, POSIX_FADV_SEQUENTIAL doubling it,
// POSIX_FADV_RANDOM turning it off), and the smaller the window, the lower its bandwidth.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobReport, RunReport } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { runScript } from '../../probes/script.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';
import { scriptOptions } from '../helpers/script.js';

const DIR = join(repoRoot(), 'traces', 'experiments');
const KiB = 1024;

function load() {
  const loaded = loadScenario('readahead-knobs', join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  return loaded.scenario;
}

function job(r: RunReport, name: string): JobReport {
  const j = r.jobs.find((x) => x.name === name);
  assert.ok(j, `job ${name}`);
  return j;
}

test('readahead knobs: 128 KiB windows plain, 256 KiB with FADV_SEQUENTIAL, 4 KiB with FADV_RANDOM, 16 KiB at read_ahead_kb 16', () => {
  const s = load();
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const sizes = new Map<string, number[]>();
  attach(m, 'tracepoint:block:block_rq_issue', (h) => {
    const list = sizes.get(h.comm) ?? [];
    list.push(Number(h.fields['bytes']));
    sizes.set(h.comm, list);
  });
  m.run(s.durationNs);
  assert.ok(m.allJobsDone, 'every reader finished its 16 MiB');
  const r = m.report(s.name, 1);
  const max = (comm: string) => Math.max(...sizes.get(comm)!);
  const count = (comm: string) => sizes.get(comm)!.length;
  const total = (comm: string) => sizes.get(comm)!.reduce((a, b) => a + b, 0);
  for (const comm of ['plain', 'sequential', 'random-hint', 'small-ra']) assert.equal(total(comm), 16 * 1024 * KiB, `${comm} read its file once`);
  assert.equal(max('plain'), 128 * KiB);
  assert.equal(max('sequential'), 256 * KiB);
  assert.deepEqual([...new Set(sizes.get('random-hint'))], [4 * KiB]);
  assert.equal(max('small-ra'), 16 * KiB);
  // 16 MiB in windows: 4 + 8 + 16 pages then the maximum; FADV_RANDOM one request per read
  assert.equal(count('random-hint'), 4096);
  assert.ok(count('plain') >= 128 && count('plain') <= 131, `plain: ${count('plain')} requests`);
  assert.ok(count('sequential') >= 64 && count('sequential') <= 68, `sequential: ${count('sequential')} requests`);
  assert.ok(count('small-ra') >= 1024 && count('small-ra') <= 1026, `small-ra: ${count('small-ra')} requests`);
  // bandwidth follows the window: without readahead every 4 KiB read waits for the device
  const bw = (name: string) => job(r, name).read.bandwidthBytesPerSec;
  assert.ok(bw('sequential') >= bw('plain'), `sequential ${bw('sequential')} >= plain ${bw('plain')}`);
  assert.ok(bw('plain') > 2 * bw('small-ra'), `plain ${bw('plain')} > 2x small-ra ${bw('small-ra')}`);
  assert.ok(bw('small-ra') > 2 * bw('random-hint'), `small-ra ${bw('small-ra')} > 2x random-hint ${bw('random-hint')}`);
  assert.equal(r.devices.find((d) => d.name === 'nvme1n1')!.readAheadKb, 16);
});

test('readahead.bt prints the advice and a request-size histogram per job', () => {
  const s = load();
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  let out = '';
  const text = readFileSync(join(DIR, 'readahead.bt'), 'utf8');
  const r = runScript(m, scriptOptions(text, s.durationNs, (t, stream) => { if (stream === 'stdout') out += t; }, { quiet: true, sourceName: 'readahead.bt' }));
  assert.equal(r.exitCode, 0);
  // fio's default advises SEQUENTIAL (2) over the job's region; fadvise_hint=random advises RANDOM (1); 0 advises nothing
  assert.match(out, /^sequential: fadvise64\(offset=0, len=16777216, advice=2\)$/m);
  assert.match(out, /^random-hint: fadvise64\(offset=0, len=16777216, advice=1\)$/m);
  assert.doesNotMatch(out, /^(plain|small-ra): fadvise64/m);
  for (const comm of ['plain', 'sequential', 'random-hint', 'small-ra']) assert.match(out, new RegExp(`@request_bytes\\[${comm}\\]:`), comm);
  assert.match(out, /@requests\[random-hint\]: 4096/);
});
