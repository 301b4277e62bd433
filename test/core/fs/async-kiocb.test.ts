// Async kiocbs (ki_complete, IOCB_NOWAIT) under the VFS, and fs/aio.c's syscalls.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type Machine } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { sysMmap, sysOpenat, AT_FDCWD } from '../../../core/fs/open.js';
import { EIOCBQUEUED, O, type File, type Kiocb } from '../../../core/fs/types.js';
import type { Kernel } from '../../../core/kernel/kernel.js';
import { kiocbRw } from '../../../core/fs/read_write.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { IOCB_CMD, sysIoDestroy, sysIoGetevents, sysIoSetup, sysIoSubmit, type IoEvent } from '../../../core/fs/aio.js';
import { PG } from '../../../core/mm/mm_types.js';
import { jobSpec } from '../../helpers/jobs.js';

const file = jobSpec({ name: 'f', filename: '/mnt/nvme/data', size: 1 << 20 });

/** A kiocb as an async submitter sets one up (aio_prep_rw / io_prep_rw), for ->read_iter tests. */
function kiocb(k: Kernel, t: Task, f: File, posBytes: number, opts: { nowait?: boolean; kiComplete?: (res: number) => void }): Kiocb {
  const done = opts.kiComplete;
  return { kaddr: k.kaddr(), file: f, posBytes, ioId: k.newIoId(), direct: (f.flags & O.DIRECT) !== 0, task: t, nowait: opts.nowait, kiComplete: done ? (_iocb, res) => done(res) : undefined };
}

function inProcess(body: (m: Machine, t: Task, out: Record<string, number>) => Generator<number, void, void>): Record<string, number> {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [file]);
  const out: Record<string, number> = {};
  m.spawn('kiocb-test', false, (t) => body(m, t, out), m.init);
  m.run(2_000_000_000);
  return out;
}

test('an async O_DIRECT kiocb returns -EIOCBQUEUED without sleeping; ki_complete brings the result from interrupt context', () => {
  const out = inProcess(function* (m, t, out) {
    const k = m.k;
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR | O.DIRECT, 0);
    const buf = yield* sysMmap(k, t, 0, 8192, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const f = t.files!.get(fd)!;
    const switches = t.nvcsw;
    const t0 = k.env.nowNs;
    let completedAt = -1;
    let inIrq = 0;
    const ret = yield* kiocbRw(
      kiocb(k, t, f, 4096, {
        kiComplete: (res) => {
          out['res'] = res;
          completedAt = k.env.nowNs;
          inIrq = k.sched.ctxCpu.inIrq ? 1 : 0;
        },
      }),
      { va: buf, lenBytes: 8192 },
      false,
    );
    out['ret'] = ret;
    out['slept'] = t.nvcsw - switches;
    out['returnedBeforeCompletion'] = completedAt < 0 ? 1 : 0;
    out['submitUnder10us'] = k.env.nowNs - t0 < 10_000 ? 1 : 0;
    // let it finish
    while (completedAt < 0) yield 1000;
    out['inIrq'] = inIrq;
    // an async write past EOF grows i_size at completion
    const size0 = f.inode.sizeBytes;
    let wres = 0;
    const w = yield* kiocbRw(kiocb(k, t, f, size0, { kiComplete: (res) => (wres = res) }), { va: buf, lenBytes: 4096 }, true);
    out['writeRet'] = w;
    while (wres === 0) yield 1000;
    out['writeRes'] = wres;
    out['grew'] = f.inode.sizeBytes - size0;
  });
  assert.deepEqual(out, {
    ret: -EIOCBQUEUED,
    slept: 0,
    returnedBeforeCompletion: 1,
    submitUnder10us: 1,
    res: 8192,
    inIrq: 1,
    writeRet: -EIOCBQUEUED,
    writeRes: 4096,
    grew: 4096,
  });
});

test('IOCB_NOWAIT: a buffered miss starts readahead and returns -EAGAIN; a hit reads; O_DIRECT refuses what would block', () => {
  const out = inProcess(function* (m, t, out) {
    const k = m.k;
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR, 0);
    const dfd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR | O.DIRECT, 0);
    const buf = yield* sysMmap(k, t, 0, 8192, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const f = t.files!.get(fd)!;
    const df = t.files!.get(dfd)!;
    const copies0 = k.stat.userCopyBytes;
    out['miss'] = yield* kiocbRw(kiocb(k, t, f, 0, { nowait: true }), { va: buf, lenBytes: 4096 }, false);
    const folio = f.inode.mapping.pages.get(0);
    out['readaheadStarted'] = folio ? 1 : 0;
    out['folioLocked'] = folio && folio.flags & PG.locked ? 1 : 0;
    out['copiedOnMiss'] = k.stat.userCopyBytes - copies0;
    // once the readahead lands, the same read is a hit
    while (folio && !(folio.flags & PG.uptodate)) yield 1000;
    out['hit'] = yield* kiocbRw(kiocb(k, t, f, 0, { nowait: true }), { va: buf, lenBytes: 4096 }, false);
    out['copiedOnHit'] = k.stat.userCopyBytes - copies0;
    // buffered writes are refused outright (ext4 wants them from a context that may block)
    out['bufferedWrite'] = yield* kiocbRw(kiocb(k, t, f, 0, { nowait: true }), { va: buf, lenBytes: 4096 }, true);
    // O_DIRECT over cached pages would have to write back first
    out['directOverCache'] = yield* kiocbRw(kiocb(k, t, df, 0, { nowait: true }), { va: buf, lenBytes: 4096 }, false);
    // O_DIRECT write that extends the file would allocate
    out['directExtend'] = yield* kiocbRw(kiocb(k, t, df, 1 << 20, { nowait: true }), { va: buf, lenBytes: 4096 }, true);
    // an uncached, allocated range goes (synchronous kiocb: bytes)
    out['directOk'] = yield* kiocbRw(kiocb(k, t, df, 512 * 1024, { nowait: true }), { va: buf, lenBytes: 4096 }, false);
  });
  assert.deepEqual(out, {
    miss: -11, // EAGAIN
    readaheadStarted: 1,
    folioLocked: 1,
    copiedOnMiss: 0,
    hit: 4096,
    copiedOnHit: 4096,
    bufferedWrite: -11,
    directOverCache: -11,
    directExtend: -11,
    directOk: 4096,
  });
});

test('libaio syscalls: argument errors, a timeout, buffered iocbs done inside io_submit, io_destroy waits for in-flight I/O', () => {
  const out = inProcess(function* (m, t, out) {
    const k = m.k;
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR, 0);
    const dfd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR | O.DIRECT, 0);
    const buf = yield* sysMmap(k, t, 0, 65536, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const bad = { ctxId: 0 };
    out['setupZero'] = yield* sysIoSetup(k, t, 0, bad);
    out['setupTooMany'] = yield* sysIoSetup(k, t, 0x10001, bad);
    const c = { ctxId: 0 };
    out['setup'] = yield* sysIoSetup(k, t, 4, c);
    out['ctxIsRingVa'] = t.mm!.findVma(c.ctxId) ? 1 : 0;
    out['setupNonZeroCtxp'] = yield* sysIoSetup(k, t, 4, c);
    const ev: IoEvent[] = [];
    out['getBadCtx'] = yield* sysIoGetevents(k, t, 12345, 1, 1, ev);
    out['getMinOverNr'] = yield* sysIoGetevents(k, t, c.ctxId, 2, 1, ev);
    const t0 = k.env.nowNs;
    out['timeout'] = yield* sysIoGetevents(k, t, c.ctxId, 1, 1, ev, 1_000_000);
    out['waitedMs'] = Math.round((k.env.nowNs - t0) / 1_000_000);
    const ids: number[] = [];
    out['submitBadFd'] = yield* sysIoSubmit(k, t, c.ctxId, [{ data: 1, opcode: IOCB_CMD.PREAD, fd: 99, buf, nbytes: 4096, offset: 0 }], ids);
    out['submitBadOp'] = yield* sysIoSubmit(k, t, c.ctxId, [{ data: 1, opcode: 42, fd, buf, nbytes: 4096, offset: 0 }], ids);
    // a buffered read is done when io_submit returns: its event is there at once
    out['submitBuffered'] = yield* sysIoSubmit(k, t, c.ctxId, [{ data: 7, opcode: IOCB_CMD.PREAD, fd, buf, nbytes: 4096, offset: 0 }], ids);
    out['bufferedReady'] = yield* sysIoGetevents(k, t, c.ctxId, 0, 4, ev, 0);
    out['bufferedRes'] = ev[0]?.res ?? 0;
    out['bufferedData'] = ev[0]?.data ?? 0;
    // O_DIRECT: io_submit returns before the I/O ends; only 4 may be in flight (nr_events)
    const iocbs = [0, 1, 2, 3, 4].map((i) => ({ data: 10 + i, opcode: IOCB_CMD.PREAD, fd: dfd, buf: buf + i * 4096, nbytes: 4096, offset: (100 + i) * 4096 }));
    out['submitDirect'] = yield* sysIoSubmit(k, t, c.ctxId, iocbs, ids);
    out['directReadyAtOnce'] = yield* sysIoGetevents(k, t, c.ctxId, 0, 4, [], 0);
    out['destroy'] = yield* sysIoDestroy(k, t, c.ctxId);
    out['destroyWaited'] = (m.k.asyncIo.aio!.tables.get(t.mm!)?.size ?? 0) === 0 ? 1 : 0;
    out['afterDestroy'] = yield* sysIoSubmit(k, t, c.ctxId, iocbs, ids);
  });
  assert.deepEqual(out, {
    setupZero: -22,
    setupTooMany: -11,
    setup: 0,
    ctxIsRingVa: 1,
    setupNonZeroCtxp: -22,
    getBadCtx: -22,
    getMinOverNr: -22,
    timeout: 0,
    waitedMs: 1,
    submitBadFd: -9,
    submitBadOp: -22,
    submitBuffered: 1,
    bufferedReady: 1,
    bufferedRes: 4096,
    bufferedData: 7,
    submitDirect: 4,
    directReadyAtOnce: 0,
    destroy: 0,
    destroyWaited: 1,
    afterDestroy: -22,
  });
});

test('an async O_DSYNC O_DIRECT write is made durable with FUA on its request', () => {
  const rwbs: string[] = [];
  const out = inProcess(function* (m, t, out) {
    const k = m.k;
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR | O.DIRECT | O.DSYNC, 0);
    const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    k.registry.get('tracepoint:block:block_rq_issue')!.attach((h) => rwbs.push(String(h.fields['rwbs'])));
    let res = 0;
    out['ret'] = yield* kiocbRw(kiocb(k, t, t.files!.get(fd)!, 65536, { kiComplete: (r) => (res = r) }), { va: buf, lenBytes: 4096 }, true);
    while (res === 0) yield 1000;
    out['res'] = res;
  });
  assert.deepEqual(out, { ret: -EIOCBQUEUED, res: 4096 });
  assert.equal(rwbs.length, 1);
  assert.ok(rwbs[0]!.includes('F'), rwbs[0]);
});

test('aio contexts are per process: two processes whose rings sit at the same address each keep their own (fio numjobs=2)', () => {
  const job = jobSpec({ name: 'w', filename: '/root/w', size: 16 * 2 ** 20, rw: 'randwrite', ioengine: 'libaio', iodepth: 16, numjobs: 2, timeBased: true, runtimeNs: 2_000_000 });
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [job]);
  m.startJobs([job], 5_000_000);
  m.run(5_000_000);
  const r = m.report('aio', 1);
  assert.deepEqual(r.jobs.map((j) => [j.errors, j.write.ios > 100]), [
    [0, true],
    [0, true],
  ]);
});
