// Readahead knobs (kernel-model-facts.md §3): a device's read_ahead_kb bounds the window of every
// file opened on it; posix_fadvise (mm/fadvise.c) doubles it, turns it off (FMODE_RANDOM), reads
// ahead on demand (WILLNEED) or drops clean cached pages (DONTNEED); madvise's VM_RAND_READ /
// VM_SEQ_READ decide how a fault reads. Sizes are read off block:block_rq_issue, exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec, type Machine, type MachineSpec, type ProbeHit } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { sysClose, sysMmap, sysOpenat, AT_FDCWD } from '../../../core/fs/open.js';
import { sysPread64, sysPwrite64 } from '../../../core/fs/read_write.js';
import { FMODE, O } from '../../../core/fs/types.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { userAccess } from '../../../core/mm/memory.js';
import { mappingTryInvalidate, POSIX_FADV, sysFadvise64 } from '../../../core/mm/fadvise.js';
import { MADV, sysMadvise } from '../../../core/mm/madvise.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';
import { runScript } from '../../../probes/script.js';
import { scriptOptions } from '../../helpers/script.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const PATH = '/mnt/nvme/ra.dat';

function machineWith(readAheadKb: number | undefined): MachineSpec {
  const [nvme, ...rest] = DEFAULT_MACHINE.devices;
  return { ...DEFAULT_MACHINE, devices: [{ ...nvme!, ...(readAheadKb !== undefined ? { readAheadKb } : {}) }, ...rest] };
}

/** Runs one fio job and returns the sizes of the read requests issued, in order. */
function readIssues(job: JobSpec, machine: MachineSpec = DEFAULT_MACHINE): { m: Machine; bytes: number[] } {
  const m = bootMachine(machine, 1);
  layoutJobFiles(m, [job]);
  const bytes: number[] = [];
  attach(m, 'tracepoint:block:block_rq_issue', (hit) => {
    if (String(hit.fields['rwbs']).includes('R')) bytes.push(Number(hit.fields['bytes']));
  });
  m.startJobs([job], 1_000_000_000);
  m.run(1_000_000_000);
  assert.equal(m.jobs[0]!.stats.errors, 0);
  return { m, bytes };
}

/** A 1 MiB file read 4 KiB at a time from the start (plain read(): no hint unless asked). */
function seqReader(over: Partial<JobSpec> = {}): JobSpec {
  return jobSpec({ name: 'seq', filename: PATH, size: MiB, fadviseHint: 'none', ...over });
}

const windows = (...kib: number[]): number[] => kib.map((k) => k * KiB);

test('read_ahead_kb = 64: windows ramp 8, 16, 32, 64 KiB and stay at 64 (16-page ra_pages)', () => {
  const { m, bytes } = readIssues(seqReader(), machineWith(64));
  // get_init_ra_size(1, 16) = 2 pages; then x2 up to max/2, then max; 256 pages = 2+4+8+15x16+2
  assert.deepEqual(bytes, windows(8, 16, 32, ...Array<number>(15).fill(64), 8));
  const report = m.report('ra', 1);
  assert.equal(report.devices[0]!.readAheadKb, 64);
  assert.equal(report.devices[1]!.readAheadKb, 128, 'the other disk keeps the default');
});

test('read_ahead_kb = 0: every 4 KiB read is one 4 KiB request, nothing read ahead', () => {
  const { m, bytes } = readIssues(seqReader(), machineWith(0));
  assert.deepEqual(bytes, Array<number>(256).fill(4096));
  assert.equal(m.k.stat.readaheadPages, 256, 'only the pages read');
});

test("fio's default fadvise_hint=1 gives a sequential reader POSIX_FADV_SEQUENTIAL: windows up to 256 KiB", () => {
  const { bytes } = readIssues(seqReader({ size: 4 * MiB, fadviseHint: 'type' }));
  // ra_pages doubled to 64: 4, 8, 16, 32, 64, 64, ... pages; 1024 pages = 60 + 15 x 64 + 4
  assert.deepEqual(bytes, windows(16, 32, 64, 128, ...Array<number>(15).fill(256), 16));
});

test('POSIX_FADV_RANDOM (fadvise_hint=random) on a sequential reader: no readahead at all', () => {
  const { m, bytes } = readIssues(seqReader({ fadviseHint: 'random' }));
  assert.deepEqual(bytes, Array<number>(256).fill(4096));
  assert.equal(m.k.stat.readaheadPages, 256);
  // and 64 KiB reads read exactly 64 KiB
  const big = readIssues(seqReader({ fadviseHint: 'random', bs: 64 * KiB }));
  assert.deepEqual(big.bytes, Array<number>(16).fill(64 * KiB));
});

test('fio random readers advise POSIX_FADV_RANDOM: only the requested pages are cached', () => {
  const job = jobSpec({ name: 'rand', filename: PATH, rw: 'randread', size: 64 * MiB, timeBased: true, runtimeNs: 5_000_000 });
  const { m, bytes } = readIssues(job);
  const reads = m.jobs[0]!.stats.read.count;
  assert.ok(reads > 20);
  assert.deepEqual([...new Set(bytes)], [4096]);
  assert.equal(m.k.vfs.lookup(PATH)!.mapping.pages.size, reads, 'one cached page per read');
});

/** Runs `body` as a process on a machine with the 1 MiB file laid out; returns the machine. */
function inProcess(body: (m: Machine, t: Task) => Generator<number, void, void>, spec: MachineSpec = DEFAULT_MACHINE): Machine {
  const m = bootMachine(spec, 1);
  layoutJobFiles(m, [seqReader()]);
  m.spawn('advisor', false, (t) => body(m, t), m.init);
  return m;
}

test('syscalls:sys_enter/exit_fadvise64 carry fd, offset, len, advice and ret; bad advice is -EINVAL', () => {
  const enters: ProbeHit[] = [];
  const exits: ProbeHit[] = [];
  const out: number[] = [];
  const m = inProcess(function* (m, t) {
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, PATH, O.RDONLY, 0);
    out.push(yield* sysFadvise64(m.k, t, fd, 8192, 65536, POSIX_FADV.RANDOM));
    assert.equal(t.files!.get(fd)!.fMode & FMODE.RANDOM, FMODE.RANDOM);
    out.push(yield* sysFadvise64(m.k, t, fd, 0, 0, POSIX_FADV.SEQUENTIAL));
    assert.equal(t.files!.get(fd)!.fMode & FMODE.RANDOM, 0);
    assert.equal(t.files!.get(fd)!.ra.raPages, 64);
    out.push(yield* sysFadvise64(m.k, t, fd, 0, 0, POSIX_FADV.NORMAL));
    assert.equal(t.files!.get(fd)!.ra.raPages, 32);
    out.push(yield* sysFadvise64(m.k, t, fd, 0, 0, 42));
    out.push(yield* sysFadvise64(m.k, t, fd, 0, -1, POSIX_FADV.DONTNEED));
    out.push(yield* sysFadvise64(m.k, t, 77, 0, 0, POSIX_FADV.NORMAL));
  });
  attach(m, 'tracepoint:syscalls:sys_enter_fadvise64', (h) => enters.push(h));
  attach(m, 'tracepoint:syscalls:sys_exit_fadvise64', (h) => exits.push(h));
  m.run(100_000_000);
  assert.deepEqual(out, [0, 0, 0, -22, -22, -9]);
  assert.deepEqual({ ...enters[0]!.fields }, { __syscall_nr: 221, fd: 3, offset: 8192, len: 65536, advice: 1 });
  assert.deepEqual(
    exits.map((h) => h.fields['ret']),
    out,
  );
  assert.ok(exits.every((h) => h.fields['__syscall_nr'] === 221));
});

test('POSIX_FADV_DONTNEED drops clean pages, starts writeback of dirty ones and keeps mapped ones', () => {
  const dropped: number[] = [];
  const seen: Record<string, number> = {};
  const m = inProcess(function* (m, t) {
    const k = m.k;
    const buf = yield* sysMmap(k, t, 0, MiB, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, PATH, O.RDWR, 0);
    assert.equal(yield* sysPread64(k, t, fd, buf, MiB, 0), MiB);
    const map = yield* sysMmap(k, t, 0, 4096, PROT.READ, MAP.SHARED, fd, 0);
    assert.equal(yield* userAccess(k, t, map, 1, false), 0); // page 0 mapped
    assert.equal(yield* sysPwrite64(k, t, fd, buf, 4096, 8192), 4096); // page 2 dirty
    const mapping = k.vfs.lookup(PATH)!.mapping;
    seen['cachedBefore'] = mapping.pages.size;
    const writtenBefore = k.stat.pgwriteback;
    seen['ret'] = yield* sysFadvise64(k, t, fd, 0, 0, POSIX_FADV.DONTNEED);
    seen['writebackStarted'] = k.stat.pgwriteback - writtenBefore;
    seen['cachedAfter'] = mapping.pages.size;
    // under writeback when the walk reached it (the write may have finished since)
    seen['page2Kept'] = mapping.pages.has(2) ? 1 : 0;
    seen['page0Kept'] = mapping.pages.has(0) ? 1 : 0;
    // once written, the page is clean and a second DONTNEED drops it; the mapped one stays
    yield* nanosleep(k, t, 10_000_000);
    yield* sysFadvise64(k, t, fd, 0, 0, POSIX_FADV.DONTNEED);
    seen['cachedAtEnd'] = mapping.pages.size;
    // what could not be dropped: the mapped page, and a page dirtied again (asked directly, without writeback first)
    assert.equal(yield* sysPwrite64(k, t, fd, buf, 4096, 4096 * 5), 4096);
    const r = yield* mappingTryInvalidate(k, t, 0, mapping, 0, 255);
    seen['failed'] = r.failed;
    seen['invalidated'] = r.invalidated;
    yield* sysClose(k, t, fd);
  });
  attach(m, 'kretprobe:mapping_try_invalidate', (h) => dropped.push(h.retval!));
  m.run(100_000_000);
  assert.deepEqual(seen, {
    cachedBefore: 256,
    ret: 0,
    writebackStarted: 1,
    cachedAfter: 2,
    page2Kept: 1,
    page0Kept: 1,
    cachedAtEnd: 1,
    failed: 2,
    invalidated: 0,
  });
  assert.deepEqual(dropped, [254, 1, 0]);
});

test('DONTNEED keeps partial pages at either end of the range, except the file\'s last page', () => {
  const seen: number[] = [];
  inProcess(function* (m, t) {
    const k = m.k;
    const buf = yield* sysMmap(k, t, 0, MiB, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, PATH, O.RDONLY, 0);
    yield* sysPread64(k, t, fd, buf, MiB, 0);
    const pages = k.vfs.lookup(PATH)!.mapping.pages;
    // bytes 100 .. 3*4096+99: only pages 1 and 2 are whole
    yield* sysFadvise64(k, t, fd, 100, 3 * 4096, POSIX_FADV.DONTNEED);
    seen.push(pages.size, pages.has(0) ? 1 : 0, pages.has(1) ? 1 : 0, pages.has(3) ? 1 : 0);
    // a range ending in the file's last byte takes the last page too
    yield* sysFadvise64(k, t, fd, MiB - 4096, 4096, POSIX_FADV.DONTNEED);
    seen.push(pages.has(255) ? 1 : 0);
  }).run(100_000_000);
  assert.deepEqual(seen, [254, 1, 0, 1, 0]);
});

test('POSIX_FADV_WILLNEED reads ahead at most max(io_pages, ra_pages): 1280 KiB of a 4 MiB file', () => {
  const bytes: number[] = [];
  const seen: number[] = [];
  const spec: MachineSpec = DEFAULT_MACHINE;
  const m = bootMachine(spec, 1);
  layoutJobFiles(m, [seqReader({ size: 4 * MiB })]);
  attach(m, 'tracepoint:block:block_rq_issue', (h) => bytes.push(Number(h.fields['bytes'])));
  m.spawn(
    'advisor',
    false,
    (t) =>
      (function* () {
        const fd = yield* sysOpenat(m.k, t, AT_FDCWD, PATH, O.RDONLY, 0);
        seen.push(yield* sysFadvise64(m.k, t, fd, 0, 0, POSIX_FADV.WILLNEED));
        yield* nanosleep(m.k, t, 10_000_000);
        seen.push(m.k.vfs.lookup(PATH)!.mapping.pages.size);
      })(),
    m.init,
  );
  m.run(100_000_000);
  // max_sectors_kb 1280 = 320 pages (bdi->io_pages) > ra_pages 32; read as one 1280 KiB request
  assert.deepEqual(seen, [0, 320]);
  assert.deepEqual(bytes, [1280 * KiB]);
});

test('madvise: MADV_RANDOM faults read one page, MADV_SEQUENTIAL reads the on-demand window, default reads around', () => {
  const faultReads = (advice: number | undefined): number[] => {
    const bytes: number[] = [];
    const m = inProcess(function* (m, t) {
      const fd = yield* sysOpenat(m.k, t, AT_FDCWD, PATH, O.RDONLY, 0);
      const map = yield* sysMmap(m.k, t, 0, MiB, PROT.READ, MAP.SHARED, fd, 0);
      if (advice !== undefined) assert.equal(yield* sysMadvise(m.k, t, map, MiB, advice), 0);
      // touch page 64, then page 65
      assert.equal(yield* userAccess(m.k, t, map + 64 * 4096, 1, false), 0);
      assert.equal(yield* userAccess(m.k, t, map + 65 * 4096, 1, false), 0);
    });
    attach(m, 'tracepoint:block:block_rq_issue', (h) => bytes.push(Number(h.fields['bytes'])));
    m.run(100_000_000);
    return bytes;
  };
  assert.deepEqual(faultReads(MADV.RANDOM), [4096, 4096]);
  // read-around: ra_pages (32) centred on the fault, one request
  assert.deepEqual(faultReads(undefined), [128 * KiB]);
  // VM_SEQ_READ: page_cache_sync_ra with req = ra_pages: a 32-page window from the fault
  assert.deepEqual(faultReads(MADV.SEQUENTIAL), [128 * KiB]);
  assert.deepEqual(faultReads(MADV.NORMAL), [128 * KiB]);
});

test('madvise errors: unaligned start is -EINVAL, a range beyond the mapping -ENOMEM, other advice -EINVAL', () => {
  const out: number[] = [];
  inProcess(function* (m, t) {
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, PATH, O.RDONLY, 0);
    const map = yield* sysMmap(m.k, t, 0, 8192, PROT.READ, MAP.SHARED, fd, 0);
    out.push(yield* sysMadvise(m.k, t, map + 1, 4096, MADV.RANDOM));
    out.push(yield* sysMadvise(m.k, t, map, 3 * 4096, MADV.RANDOM));
    out.push(yield* sysMadvise(m.k, t, map, 4096, 100));
    out.push(yield* sysMadvise(m.k, t, map, 0, MADV.RANDOM));
  }).run(100_000_000);
  assert.deepEqual(out, [-22, -12, -22, 0]);
});

test('scripts read a file\'s readahead state and f_mode through BTF, before and after the advice', () => {
  const m = bootMachine(machineWith(64), 1);
  const jobs = [seqReader({ name: 'seq' }), seqReader({ name: 'rand', filename: '/mnt/nvme/r.dat', rw: 'randread', fadviseHint: 'type' })];
  layoutJobFiles(m, jobs);
  m.startJobs(jobs, 10_000_000);
  let out = '';
  const program = `kprobe:generic_fadvise { printf("%s advice=%d ra_pages=%d random=%d\\n", comm, arg3, ((struct file *)arg0)->f_ra.ra_pages, (((struct file *)arg0)->f_mode & 0x1000) != 0); }
kretprobe:generic_fadvise { printf("ret=%d\\n", retval); }`;
  const r = runScript(m, scriptOptions(program, 10_000_000, (t, stream) => { if (stream === 'stdout') out += t; }, { quiet: true }));
  assert.equal(r.exitCode, 0);
  // fadvise_hint=0 advises nothing; the random job gets POSIX_FADV_RANDOM on a 64 KiB (16-page) device
  assert.equal(out.trim(), 'rand advice=1 ra_pages=16 random=0\nret=0');
});
