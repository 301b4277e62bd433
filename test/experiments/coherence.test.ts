// traces/experiments/coherence.fio and coherence-direct.fio: what readers see and what a crash
// keeps. Page versions (core/mm/data-gen.ts) stand for the bytes: a write() or a store through a
// MAP_SHARED mapping makes a page's next version in its folio, a read of the device fills a folio
// with the block's version, a direct write makes it on the device when it lands.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { CrashReport, Machine, ProbeHit, RunReport } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { loadScenario, parseScenarioText, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { parseCommand, UsageError } from '../../tui/args.js';
import { repoRoot } from '../helpers/repo.js';

const DIR = join(repoRoot(), 'traces', 'experiments');
const MS = 1_000_000;
/** pid -> the sync syscalls it made, in order (filled by runJobFile). */
const syncCalls = new Map<number, string[]>();

interface Access {
  readonly timeNs: number;
  readonly comm: string;
  readonly ino: number;
  readonly index: number;
  readonly version: number;
  readonly written: number;
}

/** Runs a job file (optionally crashing at crashAtNs), recording data writes, loads and failed invalidations. */
function runJobFile(file: string, crashAtNs?: number): { m: Machine; r: RunReport; writes: ProbeHit[]; loads: Access[]; invalidateFails: ProbeHit[] } {
  const loaded = loadScenario(join(DIR, file), join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  const m = prepareRun(loaded.scenario, { seed: 1, durationNs: loaded.scenario.durationNs, ...(crashAtNs !== undefined ? { crashAtNs } : {}) });
  const writes: ProbeHit[] = [];
  const loads: Access[] = [];
  const invalidateFails: ProbeHit[] = [];
  attach(m, 'tracepoint:kiotrace:page_data_write', (h) => writes.push(h));
  attach(m, 'tracepoint:kiotrace:page_data_access', (h) => {
    if (Number(h.fields['write']) !== 0) return;
    const f = h.fields;
    loads.push({ timeNs: h.timeNs, comm: h.comm, ino: Number(f['i_ino']), index: Number(f['index']), version: Number(f['version']), written: Number(f['written']) });
  });
  attach(m, 'tracepoint:kiotrace:dio_invalidate_fail', (h) => invalidateFails.push(h));
  syncCalls.clear();
  for (const name of ['fsync', 'msync']) {
    attach(m, `tracepoint:syscalls:sys_enter_${name}`, (h) => syncCalls.set(h.pid, [...(syncCalls.get(h.pid) ?? []), name]));
  }
  m.run(loaded.scenario.durationNs);
  return { m, r: m.report(loaded.scenario.name, 1), writes, loads, invalidateFails };
}

function crashFile(crash: CrashReport | undefined, name: string): CrashReport['files'][number] {
  assert.ok(crash, 'the run crashed');
  const f = crash.files.find((x) => x.path.endsWith(`/${name}`));
  assert.ok(f, `${name} is in the crash report`);
  return f;
}

test('write() is visible at once through a MAP_SHARED mapping of the same file: no stale load, no I/O', () => {
  const { r, m, writes, loads } = runJobFile('coherence.fio');
  const bufferedWrites = writes.filter((w) => w.fields['source'] === 'write');
  assert.equal(bufferedWrites.length, 16);
  const readerLoads = loads.filter((l) => l.comm === 'reader');
  assert.ok(readerLoads.length > 1000, `the reader loads over and over: ${readerLoads.length}`);
  // every load sees the page's last write: the folio the writer copied into is the one mapped
  assert.deepEqual(readerLoads.filter((l) => l.version !== l.written), []);
  // and each write is seen by the reader's next pass over the file, within a few tens of us
  for (const w of bufferedWrites) {
    const index = Number(w.fields['index']);
    const seen = readerLoads.find((l) => l.index === index && l.timeNs >= w.timeNs);
    assert.ok(seen && seen.version === Number(w.fields['version']) && seen.timeNs - w.timeNs < 50_000, `page ${index} seen ${seen ? seen.timeNs - w.timeNs : '-'} ns after its write`);
  }
  const reader = r.jobs.find((j) => j.name === 'reader')!;
  assert.ok(reader.cpu.majorFaults <= 1, 'the reader reads the file from the device once at most');
  // the mmap engine syncs with msync(MS_SYNC), the psync engine with fsync
  const mapper = m.jobs.find((j) => j.spec.name === 'mapper')!;
  const writer = m.jobs.find((j) => j.spec.name === 'writer')!;
  assert.equal(mapper.task.comm, 'mapper');
  assert.deepEqual(syncCalls.get(mapper.task.pid), ['msync']);
  assert.deepEqual(syncCalls.get(writer.task.pid), ['fsync']);
});

test('a crash before fsync/msync loses the pages on the device; after them every page is kept', () => {
  const before = runJobFile('coherence.fio', 2 * MS);
  assert.equal(before.r.crash?.atNs, 2 * MS);
  assert.equal(before.m.env.nowNs, 2 * MS, 'the run stops at the crash');
  for (const name of ['coherence.dat', 'coherence-mmap.dat']) {
    const f = crashFile(before.r.crash, name);
    assert.equal(f.pagesWritten, 16);
    assert.equal(f.pagesKept, 0);
    assert.deepEqual(f.lost.map((p) => [p.index, p.writtenVersion, p.deviceVersion]), Array.from({ length: 16 }, (_, i) => [i, 1, 0]));
  }
  const after = runJobFile('coherence.fio', 7 * MS);
  for (const name of ['coherence.dat', 'coherence-mmap.dat']) {
    const f = crashFile(after.r.crash, name);
    assert.equal(f.pagesKept, 16, `${name}: the sync made all 16 durable`);
    assert.deepEqual(f.lost, []);
  }
});

test('O_DIRECT and a mapping: the kernel unmaps and invalidates so a reader stays coherent, except for pages dirty in the cache', () => {
  const { r, writes, loads, invalidateFails } = runJobFile('coherence-direct.fio', 300 * MS);
  // phase 1: a pure reader; each direct write drops its page from the cache and the reader's
  // page table, and the reader faults the new data in
  // (each page's first write: version 1)
  const direct1 = writes.filter((w) => w.fields['source'] === 'direct' && Number(w.fields['version']) === 1);
  assert.equal(direct1.length, 16, 'every phase-1 direct write went to the device');
  assert.deepEqual(invalidateFails.filter((h) => h.comm === 'direct-writer'), []);
  assert.deepEqual(loads.filter((l) => l.comm === 'reader' && l.version < l.written), [], 'the reader never loads a page older than its last write');
  const reader = r.jobs.find((j) => j.name === 'reader')!;
  assert.ok(reader.cpu.majorFaults > 1, `the reader refaults pages the direct writes invalidated: ${reader.cpu.majorFaults}`);
  const sawNew = new Set(loads.filter((l) => l.comm === 'reader' && l.version === 1).map((l) => l.index));
  assert.ok(sawNew.size >= 8, `the reader loaded the direct writes' data of ${sawNew.size} pages`);
  // phase 2: a buffered writer dirties pages as the direct writes go on
  assert.ok(invalidateFails.length >= 1, 'a dirty page could not be invalidated');
  const stale = loads.filter((l) => l.comm === 'reader-2' && l.version < l.written);
  assert.ok(stale.length > 100, `the second reader keeps loading a page older than the direct write: ${stale.length} loads`);
  const failedPages = new Set(invalidateFails.map((h) => Number(h.fields['index'])));
  for (const l of stale) assert.ok(failedPages.has(l.index), `stale page ${l.index} is one the invalidation left`);
  // the stale page's writeback (the buffered writer's fsync) overwrote the direct write on the disk
  const f = crashFile(r.crash, 'coherence-direct.dat');
  assert.ok(f.lost.length >= 1, 'a direct write was lost');
  for (const p of f.lost) {
    assert.ok(failedPages.has(p.index), `lost page ${p.index} is one the invalidation left`);
    assert.ok(p.deviceVersion < p.writtenVersion);
  }
});

test('crash_at in a scenario and --crash-at on the command line; bad values are usage errors', () => {
  const scenario = (crashAt: string): ReturnType<typeof parseScenarioText> =>
    parseScenarioText(`{"name": "c", "duration": "10ms", "crash_at": ${crashAt}, "jobs": [{"name": "w", "filename": "/mnt/nvme/c.dat", "rw": "write", "size": "64k"}]}`, 'c.json');
  const ok = scenario('"2ms"');
  assert.ok(ok.ok);
  assert.equal(ok.scenario.crashAtNs, 2 * MS);
  // the scenario event alone crashes the run
  const m = prepareRun(ok.scenario, { seed: 1, durationNs: ok.scenario.durationNs });
  m.run(ok.scenario.durationNs);
  assert.equal(m.report('c', 1).crash?.atNs, 2 * MS);
  for (const bad of ['"soon"', '"0ms"', '"20ms"']) {
    const r = scenario(bad);
    assert.ok(!r.ok, `crash_at ${bad} is refused`);
    assert.match(renderDiagnostic(r.diagnostics[0]!), /crash_at/);
  }
  const cmd = parseCommand(['run', 'x.fio', '--crash-at', '5ms']);
  assert.ok(!(cmd instanceof UsageError) && cmd.kind === 'run' && cmd.crashAtNs === 5 * MS);
  for (const argv of [['run', '--crash-at', 'abc'], ['run', '--crash-at=0'], ['top', '--crash-at', '1ms'], ['run', '--crash-at']]) {
    const r = parseCommand(argv);
    assert.ok(r instanceof UsageError, `${argv.join(' ')} is a usage error`);
    assert.match(r.message, /crash-at/);
  }
});
