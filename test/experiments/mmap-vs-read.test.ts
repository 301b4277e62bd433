// traces/experiments/mmap-vs-read.fio: a cached 64 MiB file scanned once per job by read() and
// through a MAP_SHARED mapping at 4 KiB to 1 MiB chunks. Both copy every byte once; read() adds a
// syscall per chunk, mmap a fault per 16 pages and a TLB miss per page. The crossover emerges
// from those named CPU costs: mmap wins at small chunks, read() at large ones.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { JobReport, RunReport } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';
import {
  FAULT_VMA_LOOKUP_NS,
  HANDLE_MM_FAULT_NS,
  PAGE_CACHE_LOOKUP_NS,
  PAGE_FAULT_ENTRY_NS,
  PTE_INSTALL_NS,
  copyNs,
} from '../../core/hw/cpu.js';

const DIR = join(repoRoot(), 'traces', 'experiments');
const FILE_BYTES = 64 << 20;
const PAGES = FILE_BYTES / 4096;

function job(r: RunReport, name: string): JobReport {
  const j = r.jobs.find((x) => x.name === name);
  assert.ok(j, `job ${name}`);
  return j;
}

/** The CPU a job spent (user and kernel), per 4 KiB page of the file. */
const cpuPerPageNs = (j: JobReport): number => (j.cpu.userNs + j.cpu.systemNs) / PAGES;

test('mmap vs read on a cached file: a fault per 16 pages against a syscall per chunk; mmap wins at 4 KiB, read() from 16 KiB up', () => {
  const loaded = loadScenario(join(DIR, 'mmap-vs-read.fio'), join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  const m = prepareRun(loaded.scenario, { seed: 1, durationNs: loaded.scenario.durationNs });
  const faultStart = new Map<number, number>();
  const faultNs = new Map<string, number[]>();
  const kernelCopied = new Map<string, number>();
  attach(m, 'tracepoint:exceptions:page_fault_user', (h) => faultStart.set(h.tid, h.timeNs));
  attach(m, 'kretprobe:handle_mm_fault', (h) => {
    const t0 = faultStart.get(h.tid);
    if (t0 === undefined) return;
    faultStart.delete(h.tid);
    const list = faultNs.get(h.comm) ?? [];
    list.push(h.timeNs - t0);
    faultNs.set(h.comm, list);
  });
  attach(m, 'kprobe:copy_page_to_iter', (h) => kernelCopied.set(h.comm, (kernelCopied.get(h.comm) ?? 0) + Number(h.args[2])));
  m.run(loaded.scenario.durationNs);
  assert.ok(m.allJobsDone, 'every job ended');
  const r = m.report(loaded.scenario.name, 1);

  // a fault-around fault: exception entry, VMA lookup, page-table walk, the xarray walk and 16 PTEs
  const faultAroundNs = PAGE_FAULT_ENTRY_NS + FAULT_VMA_LOOKUP_NS + HANDLE_MM_FAULT_NS + PAGE_CACHE_LOOKUP_NS + 16 * PTE_INSTALL_NS;
  for (const bs of ['4k', '16k', '128k', '1m']) {
    const mm = job(r, `mmap-${bs}`);
    const rd = job(r, `read-${bs}`);
    // one fault per 16 pages (fault_around_bytes = 64 KiB), whatever the chunk size
    assert.ok(mm.cpu.minorFaults >= PAGES / 16 && mm.cpu.minorFaults <= PAGES / 16 + 2, `mmap-${bs}: ${mm.cpu.minorFaults} faults for ${PAGES} pages`);
    assert.equal(mm.cpu.majorFaults, 0, 'the file is cached');
    const faults = faultNs.get(`mmap-${bs}`) ?? [];
    // (a page still carrying readahead's PG_readahead marker is left to a fault of its own)
    const full = faults.filter((ns) => ns === faultAroundNs).length;
    assert.ok(full >= PAGES / 16 - 2, `mmap-${bs}: ${full} faults of 16 PTEs cost ${faultAroundNs} ns each`);
    // read() copies every byte in the kernel; mmap copies none there (its memcpy is user time)
    assert.equal(kernelCopied.get(`read-${bs}`), FILE_BYTES);
    assert.equal(kernelCopied.get(`mmap-${bs}`), undefined);
    assert.equal(rd.cpu.minorFaults, 0);
  }
  // per page, the fault is a fraction of the copy: ~58 ns against 410 ns for 4 KiB
  const faultPerPageNs = faultAroundNs / 16;
  const copyPerPageNs = copyNs(4096);
  assert.ok(faultPerPageNs > 40 && faultPerPageNs < 80, `fault cost per page ${faultPerPageNs} ns (A7: ~0.06 us)`);
  assert.ok(copyPerPageNs / faultPerPageNs > 5, `copy ${copyPerPageNs} ns/page vs fault ${faultPerPageNs} ns/page`);
  // large reads cost little more than the copy: the syscall is amortised
  const read1m = cpuPerPageNs(job(r, 'read-1m'));
  assert.ok(read1m > copyPerPageNs && read1m < copyPerPageNs * 1.05, `read-1m: ${read1m} ns/page, the copy alone ${copyPerPageNs}`);

  const per = (name: string): number => cpuPerPageNs(job(r, name));
  // small chunks: a syscall per 4 KiB costs more than a fault per 16 pages plus a TLB miss per page
  assert.ok(per('mmap-4k') < per('read-4k') * 0.95, `4k: mmap ${per('mmap-4k')} < read ${per('read-4k')} ns/page`);
  // large chunks: read()'s toll is amortised, mmap's per-page fault and TLB share is not
  for (const bs of ['16k', '128k', '1m']) {
    assert.ok(per(`read-${bs}`) < per(`mmap-${bs}`), `${bs}: read ${per(`read-${bs}`)} < mmap ${per(`mmap-${bs}`)} ns/page`);
  }
  assert.ok(per('mmap-1m') / per('read-1m') > 1.1 && per('mmap-1m') / per('read-1m') < 1.5, `1m: mmap/read ${per('mmap-1m') / per('read-1m')}`);
  // mmap's copy shows as user time, read()'s as system time
  assert.ok(job(r, 'mmap-1m').cpu.userNs > job(r, 'mmap-1m').cpu.systemNs * 4);
  assert.ok(job(r, 'read-1m').cpu.systemNs > job(r, 'read-1m').cpu.userNs * 4);
});
