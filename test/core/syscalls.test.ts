// Syscall argument checks return errno values as Linux does, and the probe listing.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec, type Machine } from '../../core/index.js';
import type { Task } from '../../core/kernel/sched/task.js';
import { sysClose, sysFsync, sysMmap, sysMunmap, sysOpen, sysOpenat, AT_FDCWD } from '../../core/fs/open.js';
import { sysLseek, sysPread64, sysPwrite64, sysRead, sysWrite } from '../../core/fs/read_write.js';
import { O } from '../../core/fs/types.js';
import { MAP, PROT } from '../../core/mm/mmap.js';
import { listProbes } from '../../probes/list.js';
import { jobSpec } from '../helpers/jobs.js';
import { attach } from '../../probes/attach.js';
import { userAccess } from '../../core/mm/memory.js';

const file: JobSpec = jobSpec({ name: 'f', filename: '/mnt/nvme/data', size: 1 << 20 });

/** Runs `body` as a user process and returns what it recorded. */
function inProcess(body: (m: Machine, t: Task, out: Record<string, number>) => Generator<number, void, void>): Record<string, number> {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [file]);
  const out: Record<string, number> = {};
  m.spawn('errno-test', false, (t) => body(m, t, out), m.init);
  m.run(1_000_000_000);
  return out;
}

test('bad arguments return the errno Linux returns', () => {
  const out = inProcess(function* (m, t, out) {
    const k = m.k;
    const buf = yield* sysMmap(k, t, 0, 8192, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    out['mmapAnon'] = buf > 0 ? 1 : buf;
    out['readBadFd'] = yield* sysRead(k, t, 42, buf, 4096);
    out['openMissing'] = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/nope', O.RDONLY, 0);
    out['openRelative'] = yield* sysOpen(k, t, 'data', O.RDONLY, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDONLY, 0);
    out['fd'] = fd;
    out['writeReadOnly'] = yield* sysWrite(k, t, fd, buf, 4096);
    out['readUnmappedBuf'] = yield* sysRead(k, t, fd, 0x1000, 4096);
    out['preadNegative'] = yield* sysPread64(k, t, fd, buf, 4096, -4096);
    out['lseekBadWhence'] = yield* sysLseek(k, t, fd, 0, 7);
    out['lseekNegative'] = yield* sysLseek(k, t, fd, -1, 0);
    out['lseekEnd'] = yield* sysLseek(k, t, fd, 0, 2);
    out['mmapZeroLen'] = yield* sysMmap(k, t, 0, 0, PROT.READ, MAP.SHARED, fd, 0);
    out['mmapUnaligned'] = yield* sysMmap(k, t, 0, 4096, PROT.READ, MAP.SHARED, fd, 100);
    out['mmapWriteSharedRo'] = yield* sysMmap(k, t, 0, 4096, PROT.WRITE, MAP.SHARED, fd, 0);
    out['munmapUnaligned'] = yield* sysMunmap(k, t, 123, 4096);
    out['fsyncBadFd'] = yield* sysFsync(k, t, 99);
    const dfd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR | O.DIRECT, 0);
    out['directMisalignedOff'] = yield* sysPread64(k, t, dfd, buf, 4096, 100);
    out['directMisalignedLen'] = yield* sysPread64(k, t, dfd, buf, 1000, 0);
    out['directMisalignedBuf'] = yield* sysPread64(k, t, dfd, buf + 8, 4096, 0);
    out['directOk'] = yield* sysPread64(k, t, dfd, buf, 4096, 0);
    out['pwriteOk'] = yield* sysPwrite64(k, t, dfd, buf, 4096, 8192);
    out['readEof'] = yield* sysPread64(k, t, fd, buf, 4096, 1 << 20);
    out['closeTwice1'] = yield* sysClose(k, t, fd);
    out['closeTwice2'] = yield* sysClose(k, t, fd);
  });
  assert.deepEqual(out, {
    mmapAnon: 1,
    readBadFd: -9, // EBADF
    openMissing: -2, // ENOENT
    openRelative: -2,
    fd: 3,
    writeReadOnly: -9,
    readUnmappedBuf: -14, // EFAULT
    preadNegative: -22, // EINVAL
    lseekBadWhence: -22,
    lseekNegative: -22,
    lseekEnd: 1 << 20,
    mmapZeroLen: -22,
    mmapUnaligned: -22,
    mmapWriteSharedRo: -13, // EACCES
    munmapUnaligned: -22,
    fsyncBadFd: -9,
    directMisalignedOff: -22,
    directMisalignedLen: -22,
    directMisalignedBuf: -22,
    directOk: 4096,
    pwriteOk: 4096,
    readEof: 0,
    closeTwice1: 0,
    closeTwice2: -9,
  });
});

test('kiotrace -l lists probes by pattern, bpftrace-style', () => {
  const block = listProbes('block:*', false);
  assert.ok(block.includes('tracepoint:block:block_rq_issue'));
  assert.ok(block.every((l) => l.startsWith('tracepoint:block:')));
  assert.deepEqual(listProbes('kprobe:vfs_*', false), [
    'kprobe:vfs_create', 'kprobe:vfs_fsync', 'kprobe:vfs_fsync_range',
    'kprobe:vfs_llseek',
    'kprobe:vfs_open',
    'kprobe:vfs_read',
    'kprobe:vfs_write',
  ]);
  assert.deepEqual(listProbes('tracepoint:block:block_rq_issue', true), [
    'tracepoint:block:block_rq_issue',
    '    dev_t dev',
    '    sector_t sector',
    '    unsigned int nr_sector',
    '    unsigned int bytes',
    '    unsigned short ioprio',
    '    char rwbs[10]',
    '    char comm[16]',
    '    __data_loc char[] cmd',
  ]);
  assert.deepEqual(listProbes('kretprobe:vfs_read', true), [
    'kretprobe:vfs_read',
    '    struct file *file',
    '    char *buf',
    '    size_t count',
    '    loff_t *pos',
    '    retval',
  ]);
  // every tracepoint the issue names is there
  const all = new Set(listProbes(undefined, false));
  for (const name of [
    'exceptions:page_fault_user', 'filemap:mm_filemap_add_to_page_cache', 'filemap:mm_filemap_delete_from_page_cache', 'filemap:mm_filemap_fault',
    'block:block_bio_queue', 'block:block_getrq', 'block:block_rq_insert', 'block:block_rq_issue', 'block:block_rq_merge', 'block:block_bio_backmerge',
    'block:block_bio_frontmerge', 'block:block_plug', 'block:block_unplug', 'block:block_rq_complete', 'block:block_io_start', 'block:block_io_done',
    'nvme:nvme_setup_cmd', 'nvme:nvme_complete_rq', 'irq:irq_handler_entry', 'irq:irq_handler_exit', 'irq:softirq_entry', 'irq:softirq_exit',
    'irq:softirq_raise', 'sched:sched_switch', 'sched:sched_wakeup', 'sched:sched_waking', 'sched:sched_wakeup_new', 'sched:sched_process_fork',
    'sched:sched_process_exec', 'sched:sched_process_exit', 'writeback:writeback_start', 'writeback:writeback_written', 'writeback:writeback_dirty_folio',
    'raw_syscalls:sys_enter', 'raw_syscalls:sys_exit',
  ]) assert.ok(all.has(`tracepoint:${name}`), name);
  for (const sc of ['open', 'openat', 'close', 'read', 'pread64', 'write', 'pwrite64', 'lseek', 'fsync', 'fdatasync', 'mmap', 'munmap']) {
    assert.ok(all.has(`tracepoint:syscalls:sys_enter_${sc}`) && all.has(`tracepoint:syscalls:sys_exit_${sc}`), sc);
  }
  for (const fn of ['vfs_read', 'vfs_write', 'vfs_open', 'vfs_fsync_range', 'filemap_read', 'filemap_fault', 'handle_mm_fault', 'submit_bio', 'blk_mq_submit_bio',
    'blk_mq_start_request', 'blk_mq_end_request', 'blk_account_io_start', 'blk_account_io_done', 'nvme_queue_rq', 'dma_map_sg']) {
    assert.ok(all.has(`kprobe:${fn}`) && all.has(`kretprobe:${fn}`), fn);
  }
});

test('mmap: MAP_SHARED stores dirty the page-cache folio; MAP_PRIVATE stores copy it (COW)', () => {
  const out = inProcess(function* (m, t, out) {
    const k = m.k;
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR, 0);
    const shared = yield* sysMmap(k, t, 0, 8192, PROT.READ | PROT.WRITE, MAP.SHARED, fd, 0);
    const priv = yield* sysMmap(k, t, 0, 8192, PROT.READ | PROT.WRITE, MAP.PRIVATE, fd, 0);
    const inode = k.vfs.lookup('/mnt/nvme/data')!;
    // a read fault through each mapping maps the page-cache folio of page 0
    out['readShared'] = yield* userAccess(k, t, shared, 16, false);
    out['readPrivate'] = yield* userAccess(k, t, priv, 16, false);
    const folio = inode.mapping.pages.get(0)!;
    const pteOf = (va: number) => t.mm!.pageTable.get(Math.floor(va / 4096))!;
    out['sharedMapsCache'] = pteOf(shared).pfn === folio.pfn ? 1 : 0;
    out['privateMapsCache'] = pteOf(priv).pfn === folio.pfn ? 1 : 0;
    out['mapcountBefore'] = folio.mapcount;
    // a store through the private mapping copies the page; the cache stays clean
    out['writePrivate'] = yield* userAccess(k, t, priv, 16, true);
    out['privateCopied'] = pteOf(priv).pfn !== folio.pfn && pteOf(priv).anon ? 1 : 0;
    out['dirtyAfterPrivate'] = inode.mapping.nrDirty;
    out['mapcountAfterCow'] = folio.mapcount;
    // a store through the shared mapping dirties the page-cache folio itself
    out['writeShared'] = yield* userAccess(k, t, shared, 16, true);
    out['dirtyAfterShared'] = inode.mapping.nrDirty;
    out['sharedStillCache'] = pteOf(shared).pfn === folio.pfn && pteOf(shared).writable ? 1 : 0;
    out['munmap'] = yield* sysMunmap(k, t, priv, 8192);
    out['faultAfterUnmap'] = yield* userAccess(k, t, priv, 16, false);
  });
  assert.deepEqual(out, {
    readShared: 0,
    readPrivate: 0,
    sharedMapsCache: 1,
    privateMapsCache: 1,
    mapcountBefore: 2,
    writePrivate: 0,
    privateCopied: 1,
    dirtyAfterPrivate: 0,
    mapcountAfterCow: 1,
    writeShared: 0,
    dirtyAfterShared: 1,
    sharedStillCache: 1,
    munmap: 0,
    faultAfterUnmap: -14, // SIGSEGV -> EFAULT
  });
});

test('a raw block device is a file too: def_blk_fops, buffered and O_DIRECT, reads past the end return 0', () => {
  const out = inProcess(function* (m, t, out) {
    const k = m.k;
    const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/dev/nvme0n1', O.RDONLY, 0);
    const dfd = yield* sysOpenat(k, t, AT_FDCWD, '/dev/nvme0n1', O.RDONLY | O.DIRECT, 0);
    const inode = k.vfs.lookup('/dev/nvme0n1')!;
    out['fops'] = inode.fops.name === 'def_blk_fops' ? 1 : 0;
    out['buffered'] = yield* sysPread64(k, t, fd, buf, 4096, 1 << 20);
    out['cached'] = inode.mapping.pages.has(256) ? 1 : 0;
    out['direct'] = yield* sysPread64(k, t, dfd, buf, 4096, 8 << 20);
    out['pastEnd'] = yield* sysPread64(k, t, fd, buf, 4096, inode.sizeBytes);
  });
  assert.deepEqual(out, { fops: 1, buffered: 4096, cached: 1, direct: 4096, pastEnd: 0 });
});

test('kprobes and kretprobes give a script the arguments and the return value', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [file]);
  const seen: string[] = [];
  attach(m, 'kprobe:vfs_read', (h) => seen.push(`enter count=${h.argValue(2)} pos=${h.argValue(3)} file=${h.argValue(0) > 0 ? 'ptr' : 'null'}`));
  attach(m, 'kretprobe:vfs_read', (h) => seen.push(`return ${h.retval}`));
  attach(m, 'kprobe:blk_mq_start_request', (h) => {
    const rq = h.args[0] as { nrSectors: number; kaddr: number };
    seen.push(`start_request sectors=${rq.nrSectors} arg0=kaddr:${h.argValue(0) === rq.kaddr}`);
  });
  m.spawn(
    'kprobe-test',
    false,
    (t) =>
      (function* () {
        const buf = yield* sysMmap(m.k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
        const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nvme/data', O.RDONLY | O.DIRECT, 0);
        yield* sysPread64(m.k, t, fd, buf, 4096, 8192);
      })(),
    m.init,
  );
  m.run(1_000_000_000);
  assert.deepEqual(seen, ['enter count=4096 pos=8192 file=ptr', 'start_request sectors=8 arg0=kaddr:true', 'return 4096']);
});
