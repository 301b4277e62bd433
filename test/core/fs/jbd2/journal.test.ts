// core/fs/jbd2: the journal thread, its periodic and forced commits, the data= modes, checkpoint
// and abort, seen through the jbd2:* tracepoints and the block requests they issue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec, type Machine, type MachineSpec } from '../../../../core/index.js';
import type { MountOptions } from '../../../../core/userspace/job.js';
import { DEFAULT_MOUNT_OPTIONS } from '../../../../core/userspace/job.js';
import type { Ext4Fs } from '../../../../core/fs/ext4/super.js';
import { BlkStatus, ReqFlag } from '../../../../core/block/blk_types.js';
import { attach } from '../../../../probes/attach.js';
import { jobSpec } from '../../../helpers/jobs.js';

const MS = 1_000_000;
const KiB = 1024;
const MiB = 1024 * KiB;

/** The default machine with mount options on the filesystem of `dev` (and a capacity for it, if given). */
function machine(opts: Partial<MountOptions> = {}, dev = 'sda', capacityBytes?: number): MachineSpec {
  return {
    ...DEFAULT_MACHINE,
    devices: DEFAULT_MACHINE.devices.map((d) => (d.name === dev ? { ...d, mountOptions: { ...DEFAULT_MOUNT_OPTIONS, ...opts }, ...(capacityBytes ? { capacityBytes } : {}) } : d)),
  };
}

interface Hit {
  readonly name: string;
  readonly timeNs: number;
  readonly comm: string;
  readonly f: Readonly<Record<string, unknown>>;
}

function run(spec: MachineSpec, jobs: JobSpec[], stopNs: number, prepare?: (m: Machine) => void): { m: Machine; hits: Hit[]; fs: Ext4Fs } {
  const m = bootMachine(spec, 1);
  prepare?.(m);
  layoutJobFiles(m, jobs);
  const hits: Hit[] = [];
  attach(m, 'tracepoint:jbd2:*,tracepoint:ext4:ext4_sync_file_enter,tracepoint:ext4:ext4_sync_file_exit', (h) => {
    hits.push({ name: h.site.fullName.replace(/^tracepoint:\w+:/, ''), timeNs: h.timeNs, comm: h.comm, f: h.fields });
  });
  attach(m, 'tracepoint:block:block_rq_issue', (h) => {
    if (h.fields.dev === m.devices[1]!.q.dev) hits.push({ name: 'issue', timeNs: h.timeNs, comm: h.comm, f: h.fields });
  });
  m.startJobs(jobs, stopNs);
  m.run(stopNs);
  return { m, hits, fs: m.devices[1]!.fs! };
}

/** A buffered writer of `size` bytes in 4 KiB writes to a new (sparse) file on the HDD. */
function writer(over: Partial<JobSpec>): JobSpec {
  return jobSpec({ name: 'w', filename: '/mnt/hdd/w.dat', rw: 'write', size: 64 * KiB, fallocate: 'none', ...over });
}

test('kjournald2 commits the running transaction commit= seconds after it started, with no fsync', () => {
  // (commit= below 5: the flusher's first pass at 5 s would allocate the blocks in the transaction)
  for (const commitSec of [2, 1]) {
    const { hits } = run(machine({ commitSec }), [writer({})], (commitSec + 1) * 1000 * MS);
    const starts = hits.filter((h) => h.name === 'jbd2_start_commit');
    assert.equal(starts.length, 1, `commit=${commitSec}: one commit`);
    const s = starts[0]!;
    assert.equal(s.comm, 'jbd2/sda-8');
    assert.equal(Number(s.f.sync_commit), 0);
    // the write's first handle started the transaction a few us into the run
    assert.ok(s.timeNs >= commitSec * 1000 * MS && s.timeNs < commitSec * 1000 * MS + MS, `commit=${commitSec}: at ${s.timeNs / MS} ms`);
    const stats = hits.find((h) => h.name === 'jbd2_run_stats')!;
    assert.equal(Number(stats.f.running), commitSec * 1000, 'running: the whole commit interval, in jiffies (HZ=1000)');
    assert.equal(Number(stats.f.request_delay), 0, 'the timer commits it: nobody asked');
    // the writes fill a file of that size already (fio's ftruncate): only the timestamps changed,
    // in one clock tick, so one handle; the blocks are allocated at writeback, 30 s later
    assert.equal(Number(stats.f.handle_count), 1);
    assert.equal(Number(stats.f.blocks), 1, 'the inode block');
    // the order of the phases, all in one transaction
    const phases = hits.filter((h) => h.name.startsWith('jbd2_') && h.name !== 'jbd2_run_stats').map((h) => h.name);
    // the handle: the write's timestamp update (EXT4_HT_INODE, one credit) by the writer
    const handle = hits.find((h) => h.name === 'jbd2_handle_start')!;
    assert.deepEqual([handle.comm, Number(handle.f.type), Number(handle.f.requested_blocks), Number(handle.f.tid)], ['w', 1, 1, Number(s.f.transaction)]);
    assert.deepEqual(phases, ['jbd2_handle_start', 'jbd2_start_commit', 'jbd2_commit_locking', 'jbd2_commit_flushing', 'jbd2_commit_logging', 'jbd2_end_commit']);
  }
});

test('fsync forces a commit: the data, then descriptor + metadata, then the commit block with PREFLUSH|FUA', () => {
  const { hits, m } = run(machine(), [writer({ size: 256 * KiB, fsync: 64 })], 2000 * MS);
  const job = m.jobs[0]!.stats;
  assert.equal(job.fsync.count, 1);
  const commits = hits.filter((h) => h.name === 'jbd2_start_commit');
  assert.equal(commits.length, 1);
  assert.equal(commits[0]!.comm, 'jbd2/sda-8', 'asked for by the fsync, done by the journal thread');
  const issues = hits.filter((h) => h.name === 'issue').map((h) => `${String(h.f.rwbs)}:${Number(h.f.bytes)}`);
  // the file's 64 pages are allocated by the fsync's writeback (delayed allocation), then the
  // commit logs the bitmap, group descriptor and inode blocks behind one descriptor block
  assert.deepEqual(issues, ['WS:262144', 'WSM:16384', 'FF:0', 'WFSM:4096']);
  assert.deepEqual(hits.filter((h) => h.name === 'issue').slice(1, 3).map((h) => h.comm), ['jbd2/sda-8', 'jbd2/sda-8']);
  const stats = hits.find((h) => h.name === 'jbd2_run_stats')!;
  assert.equal(Number(stats.f.blocks), 3);
  assert.equal(Number(stats.f.blocks_logged), 5, 'descriptor + 3 blocks + commit block');
  const enter = hits.find((h) => h.name === 'ext4_sync_file_enter')!;
  const exit = hits.find((h) => h.name === 'ext4_sync_file_exit')!;
  const end = hits.find((h) => h.name === 'jbd2_end_commit')!;
  assert.ok(end.timeNs <= exit.timeNs && enter.timeNs <= commits[0]!.timeNs, 'the commit runs inside the fsync');
  assert.equal(Number(exit.f.ret), 0);
});

test('fdatasync after overwriting allocated blocks commits nothing (only timestamps changed): one cache flush', () => {
  // a prefilled file: the overwrites change no size and allocate nothing
  const { hits } = run(machine(), [writer({ size: 64 * KiB, fallocate: 'native', overwrite: true, fdatasync: 16 })], 1000 * MS);
  assert.equal(hits.filter((h) => h.name === 'jbd2_start_commit').length, 0, 'no commit before the commit timer');
  const issues = hits.filter((h) => h.name === 'issue').map((h) => `${h.comm}:${String(h.f.rwbs)}`);
  assert.deepEqual(issues, ['w:WS', 'w:FF'], 'the data, then blkdev_issue_flush from the fdatasync itself');
  // fsync instead must commit the timestamp change
  const f = run(machine(), [writer({ size: 64 * KiB, fallocate: 'native', overwrite: true, fsync: 16 })], 1000 * MS);
  assert.equal(f.hits.filter((h) => h.name === 'jbd2_start_commit').length, 1);
  assert.deepEqual(
    f.hits.filter((h) => h.name === 'issue').map((h) => String(h.f.rwbs)),
    ['WS', 'WSM', 'FF', 'WFSM'],
  );
});

test('O_DSYNC appends: each write waits for its own commit; O_SYNC is write + fsync', () => {
  const { m, hits } = run(machine(), [writer({ size: 32 * KiB, sync: 'dsync' })], 2000 * MS);
  assert.equal(m.jobs[0]!.stats.errors, 0);
  // every append grows the file and allocates: 8 writes, 8 commits
  assert.equal(hits.filter((h) => h.name === 'jbd2_end_commit').length, 8);
  assert.equal(hits.filter((h) => h.name === 'ext4_sync_file_enter' && Number(h.f.datasync) === 1).length, 8);
  const s = run(machine(), [writer({ size: 32 * KiB, sync: 'sync' })], 2000 * MS);
  assert.equal(s.hits.filter((h) => h.name === 'ext4_sync_file_enter' && Number(h.f.datasync) === 0).length, 8);
});

test('data=ordered: the commit block goes out only after the data of every inode allocated in its transaction', () => {
  // a big file is written back (allocated) by its fsync while a small O_DSYNC appender asks for
  // a commit of the same transaction; the commit block must follow all of the big file's data
  const big = jobSpec({ name: 'big', filename: '/mnt/hdd/big.dat', rw: 'write', bs: 1 * MiB, size: 16 * MiB, fallocate: 'none', endFsync: true });
  const small = writer({ name: 'small', size: 4 * KiB, sync: 'dsync', startdelayNs: 10 * MS });
  for (const data of ['ordered', 'writeback'] as const) {
    const done: Hit[] = [];
    const { hits, m } = run(machine({ data }), [big, small], 2000 * MS, (mm) => {
      attach(mm, 'tracepoint:block:block_rq_complete', (h) => {
        if (h.fields.dev === mm.devices[1]!.q.dev) done.push({ name: 'complete', timeNs: h.timeNs, comm: h.comm, f: h.fields });
      });
    });
    const stats = hits.filter((h) => h.name === 'jbd2_run_stats');
    const first = stats[0]!;
    assert.ok(Number(first.f.handle_count) > 16 * 256 / 32, `${data}: the big file's allocations share the first transaction`);
    const commitBlock = hits.find((h) => h.name === 'issue' && String(h.f.rwbs) === 'WFSM')!;
    const dataDone = done.filter((h) => String(h.f.rwbs) === 'WS');
    assert.ok(dataDone.length > 0);
    const lastData = Math.max(...dataDone.filter((h) => h.timeNs < commitBlock.timeNs + 50 * MS).map((h) => h.timeNs));
    if (data === 'ordered') assert.ok(commitBlock.timeNs > lastData, `ordered: commit block at ${commitBlock.timeNs / MS} ms after the data (${lastData / MS} ms)`);
    assert.equal(m.jobs[1]!.stats.errors, 0);
  }
});

test('data=journal: the data goes through the log, and checkpoint writes it home when the log fills', () => {
  // a 4 GiB drive: a 64 MiB journal (mke2fs), 16 MiB transactions at most
  const spec = machine({ data: 'journal' }, 'nvme0n1', 4 * 1024 * MiB);
  const { m, hits } = run(spec, [writer({ filename: '/mnt/nvme/w.dat', size: 96 * MiB, bs: 1 * MiB, endFsync: true })], 2000 * MS);
  const fs = m.devices[0]!.fs!;
  assert.equal(m.jobs[0]!.stats.errors, 0);
  assert.equal(fs.journal.maxTransactionBuffers, 4096);
  const stats = hits.filter((h) => h.name === 'jbd2_run_stats');
  const logged = stats.reduce((n, h) => n + Number(h.f.blocks), 0);
  assert.ok(logged >= 96 * 256, `every data block went through the log: ${logged}`);
  // a transaction is at most a quarter of the journal (j_max_transaction_buffers)
  for (const h of stats) assert.ok(Number(h.f.blocks) <= fs.journal.maxTransactionBuffers, `tid ${String(h.f.tid)}: ${String(h.f.blocks)} blocks`);
  assert.ok(stats.length >= 2, 'the writer filled transactions and they committed as they filled');
  // 96 MiB through a 64 MiB log: checkpoints wrote blocks home to make room
  assert.ok(fs.journal.stats.checkpoints >= 1, `checkpoints: ${fs.journal.stats.checkpoints}`);
  assert.ok(hits.some((h) => h.name === 'jbd2_checkpoint'));
  assert.ok(hits.some((h) => h.name === 'jbd2_update_log_tail'));
});

test('jbd2_journal_abort: later writes get -EROFS and fsync -EIO', () => {
  const { m, fs } = run(machine(), [writer({ size: 64 * KiB, fsync: 16, startdelayNs: 10 * MS })], 1000 * MS, (mm) => {
    mm.env.at(5 * MS, 0, () => mm.devices[1]!.fs!.journal.abort(-5), 0);
  });
  assert.ok(fs.journal.aborted);
  const s = m.jobs[0]!.stats;
  assert.ok(s.errors > 0);
  assert.equal(s.firstErrno, 30, 'EROFS');
});

test('a failed log write aborts the journal: the fsync that waited for the commit gets -EIO', () => {
  const { m, fs } = run(machine(), [writer({ size: 64 * KiB, fsync: 16 })], 1000 * MS, (mm) => {
    // the device fails every journal (REQ_META) write
    const q = mm.devices[1]!.q;
    const end = q.endRequest.bind(q);
    q.endRequest = (rq, status, cpu, cost) => end(rq, rq.cmdFlags & ReqFlag.META ? BlkStatus.IOERR : status, cpu, cost);
  });
  assert.ok(fs.journal.aborted);
  assert.equal(fs.journal.abortErrno, -5);
  const s = m.jobs[0]!.stats;
  assert.equal(s.firstErrno, 5, 'EIO from the fsync');
});

test('a trickle of writes: kjournald2 commits about every commit= seconds (anchor A10), each with one preflush and one FUA commit block', () => {
  // one 4 KiB overwrite a second: each is a timestamp update, the next transaction starts with
  // the first write after a commit and is committed 5 s later
  const job = writer({ size: 64 * KiB, fallocate: 'native', overwrite: true, rw: 'randwrite', thinktimeNs: 1000 * MS, timeBased: true, runtimeNs: 17_000 * MS });
  const { hits } = run(machine(), [job], 17_000 * MS);
  const starts = hits.filter((h) => h.name === 'jbd2_start_commit').map((h) => h.timeNs);
  assert.equal(starts.length, 3);
  const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
  for (const g of gaps) assert.ok(g >= 5000 * MS && g <= 6000 * MS, `commits ${g / MS} ms apart`);
  const journalWrites = hits.filter((h) => h.name === 'issue' && String(h.f.rwbs).includes('M')).map((h) => String(h.f.rwbs));
  assert.deepEqual(journalWrites, ['WSM', 'WFSM', 'WSM', 'WFSM', 'WSM', 'WFSM']);
  assert.equal(hits.filter((h) => h.name === 'issue' && String(h.f.rwbs) === 'FF').length, 3, 'one preflush per commit');
});
