// libaio and io_uring in the kernel model, driven through fio's engine ops by a small loop that
// keeps iodepth I/Os in flight (the generic fio runner lands separately).
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec, type Machine, type ProbeHit } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { sysMmap, sysOpenat, AT_FDCWD } from '../../../core/fs/open.js';
import { O } from '../../../core/fs/types.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { Random } from '../../../core/sim/random.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { FIO_Q, type EngineContext, type IoEngineOps, type IoU } from '../../../core/userspace/engines/engine.js';
import { ioUringEngine } from '../../../core/userspace/engines/io_uring.js';
import { libaioEngine } from '../../../core/userspace/engines/libaio.js';
import { ioUringParams, ioUringState, IORING_ENTER, IORING_OP, IORING_SETUP, IOSQE, sysIoUringEnter, sysIoUringSetup } from '../../../core/io_uring/io_uring.js';
import { IORING_REGISTER, sysIoUringRegister } from '../../../core/io_uring/rsrc.js';
import { jobSpec } from '../../helpers/jobs.js';

const MiB = 1024 * 1024;

interface Outcome {
  ios: number;
  bytes: number;
  errors: number;
  elapsedNs: number;
  iops: number;
  syscalls: number;
  userCopyBytes: number;
  /** ioId of every completed I/O, in completion order. */
  ioIds: number[];
  comms: string[];
  initErr: number;
}

interface DriveOpts {
  readonly engine: IoEngineOps;
  readonly job: Partial<JobSpec>;
  readonly totalIos: number;
  readonly seed?: number;
  /** Sleep this long after half the I/Os (lets an SQ thread go idle). */
  readonly pauseNs?: number;
  readonly record?: readonly string[];
}

/** Boots the default machine, runs the loop as a user process, returns what it measured. */
function drive(opts: DriveOpts): { out: Outcome; hits: ProbeHit[]; m: Machine } {
  const job = jobSpec({ name: 'j', filename: '/mnt/nvme/data', size: 64 * MiB, rw: 'randread', bs: 4096, ...opts.job });
  const m = bootMachine(DEFAULT_MACHINE, opts.seed ?? 7);
  layoutJobFiles(m, [job]);
  const hits: ProbeHit[] = [];
  for (const name of opts.record ?? []) {
    const site = m.k.registry.get(name);
    assert.ok(site, name);
    site.attach((h) => hits.push(h));
  }
  const out: Outcome = { ios: 0, bytes: 0, errors: 0, elapsedNs: 0, iops: 0, syscalls: 0, userCopyBytes: 0, ioIds: [], comms: [], initErr: 0 };
  m.spawn('fio', false, (t) => loop(m, t, job, opts, out), m.init);
  m.run(60_000_000_000);
  out.comms = m.tasks().map((t) => t.comm);
  return { out, hits, m };
}

function* loop(m: Machine, task: Task, job: JobSpec, opts: DriveOpts, out: Outcome): Generator<number, void, void> {
  const k = m.k;
  const fd = yield* sysOpenat(k, task, AT_FDCWD, job.filename, O.RDONLY | (job.direct ? O.DIRECT : 0), 0);
  assert.ok(fd >= 0);
  const buf = yield* sysMmap(k, task, 0, job.iodepth * job.bs, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
  assert.ok(buf > 0);
  const ious: IoU[] = [];
  for (let i = 0; i < job.iodepth; i++) {
    ious.push({ index: i, bufVa: buf + i * job.bs, bufBytes: job.bs, ddir: 'read', fileIndex: 0, offsetBytes: 0, lenBytes: job.bs, result: 0, startNs: 0, issueNs: 0, ioId: 0 });
  }
  const ctx: EngineContext = { k, task, job, fds: [fd], ious, pendingUserNs: 0, userNs: 0 };
  const r = yield* opts.engine.init(ctx);
  if (r < 0) {
    out.initErr = r;
    return;
  }
  const rng = new Random(opts.seed ?? 7);
  const blocks = Math.floor(job.size / job.bs);
  const syscalls0 = k.stat.syscalls;
  const copies0 = k.stat.userCopyBytes;
  const t0 = k.env.nowNs;
  const free = [...ious].reverse();
  let issued = 0;
  let staged = 0;
  let paused = false;
  while (out.ios < opts.totalIos) {
    if (opts.pauseNs && !paused && out.ios >= opts.totalIos / 2) {
      paused = true;
      yield* nanosleep(k, task, opts.pauseNs);
    }
    while (free.length > 0 && issued < opts.totalIos) {
      const io = free.pop()!;
      io.ddir = 'read';
      io.offsetBytes = rng.int(blocks) * job.bs;
      io.lenBytes = job.bs;
      io.startNs = k.env.nowNs;
      const queued = opts.engine.queue(ctx, io);
      const q = typeof queued === 'number' ? queued : yield* queued;
      if (q === FIO_Q.BUSY) {
        free.push(io);
        break;
      }
      issued++;
      if (q === FIO_Q.COMPLETED) {
        complete(io);
        continue;
      }
      if (++staged >= job.iodepthBatchSubmit) {
        yield* opts.engine.commit(ctx);
        staged = 0;
      }
    }
    if (staged > 0) {
      yield* opts.engine.commit(ctx);
      staged = 0;
    }
    const done = yield* opts.engine.getevents(ctx, job.iodepthBatchCompleteMin, job.iodepthBatchCompleteMax);
    for (const io of done) complete(io);
  }
  out.elapsedNs = k.env.nowNs - t0;
  out.syscalls = k.stat.syscalls - syscalls0;
  out.userCopyBytes = k.stat.userCopyBytes - copies0;
  out.iops = Math.round((out.ios * 1e9) / out.elapsedNs);
  if (process.env['KIOTRACE_ASYNC_DEBUG']) console.log(JSON.stringify({ engine: opts.engine.name, iodepth: job.iodepth, batch: job.iodepthBatchSubmit, iops: out.iops, syscallsPerIo: out.syscalls / out.ios, copiesPerByte: out.userCopyBytes / out.bytes }));
  yield* opts.engine.cleanup(ctx);

  function complete(io: IoU): void {
    out.ios++;
    if (io.result < 0) out.errors++;
    else out.bytes += io.result;
    out.ioIds.push(io.ioId);
    free.push(io);
  }
}

const directRead = (iodepth: number, batch: number, over: Partial<JobSpec> = {}): Partial<JobSpec> => ({
  direct: true,
  iodepth,
  iodepthBatchSubmit: batch,
  iodepthBatchCompleteMin: batch,
  iodepthBatchCompleteMax: iodepth,
  ...over,
});

test('io_uring: iodepth=32 4k O_DIRECT randread on NVMe gives several times the IOPS of iodepth=1, under 0.2 syscalls per I/O', () => {
  const qd1 = drive({ engine: ioUringEngine, job: directRead(1, 1), totalIos: 2000 }).out;
  const qd32 = drive({ engine: ioUringEngine, job: directRead(32, 16), totalIos: 4000 }).out;
  assert.equal(qd1.errors, 0);
  assert.equal(qd32.errors, 0);
  assert.equal(qd32.bytes, 4000 * 4096);
  assert.ok(qd32.iops >= 4 * qd1.iops, `qd32 ${qd32.iops} IOPS vs qd1 ${qd1.iops}`);
  assert.ok(qd32.syscalls / qd32.ios < 0.2, `${qd32.syscalls} syscalls for ${qd32.ios} I/Os`);
  // iodepth=1: one io_uring_enter submits and waits for each I/O... plus the reap enter
  assert.ok(qd1.syscalls / qd1.ios >= 1, `${qd1.syscalls} syscalls for ${qd1.ios}`);
});

test('libaio: iodepth=32 gives several times the IOPS of iodepth=1, under 0.2 syscalls per I/O', () => {
  const qd1 = drive({ engine: libaioEngine, job: directRead(1, 1), totalIos: 2000 }).out;
  const qd32 = drive({ engine: libaioEngine, job: directRead(32, 16), totalIos: 4000 }).out;
  assert.equal(qd1.errors + qd32.errors, 0);
  assert.ok(qd32.iops >= 4 * qd1.iops, `qd32 ${qd32.iops} IOPS vs qd1 ${qd1.iops}`);
  assert.ok(qd32.syscalls / qd32.ios < 0.2, `${qd32.syscalls} syscalls for ${qd32.ios} I/Os`);
  // io_submit + io_getevents for every I/O at depth 1
  assert.equal(qd1.syscalls, 2 * 2000);
});

test('one ioId per SQE: the ioId an io_u gets is the one at io_uring_submit_req, block_rq_issue and io_uring_complete', () => {
  const { out, hits } = drive({
    engine: ioUringEngine,
    job: directRead(8, 4),
    totalIos: 200,
    record: ['tracepoint:io_uring:io_uring_submit_req', 'tracepoint:block:block_rq_issue', 'tracepoint:io_uring:io_uring_complete'],
  });
  const ids = (name: string) => new Set(hits.filter((h) => h.site.fullName === `tracepoint:${name}`).map((h) => h.ioId));
  const submit = ids('io_uring:io_uring_submit_req');
  const issue = ids('block:block_rq_issue');
  const complete = ids('io_uring:io_uring_complete');
  assert.equal(out.ioIds.length, 200);
  assert.equal(new Set(out.ioIds).size, 200);
  for (const id of out.ioIds) {
    assert.ok(id > 0);
    assert.ok(submit.has(id) && issue.has(id) && complete.has(id), `ioId ${id}`);
  }
  const c = hits.find((h) => h.site.fullName === 'tracepoint:io_uring:io_uring_complete')!;
  assert.equal(c.fields['res'], 4096);
  const s = hits.find((h) => h.site.fullName === 'tracepoint:io_uring:io_uring_submit_req')!;
  assert.equal(s.fields['op_str'], 'READ');
  assert.equal(s.fields['sq_thread'], 0);
});

test('libaio: each iocb has its own ioId, seen at block_rq_issue; buffered iocbs complete inside io_submit', () => {
  const { out, hits } = drive({ engine: libaioEngine, job: directRead(8, 4), totalIos: 100, record: ['tracepoint:block:block_rq_issue'] });
  const issued = new Set(hits.map((h) => h.ioId));
  assert.equal(new Set(out.ioIds).size, 100);
  for (const id of out.ioIds) assert.ok(issued.has(id), `ioId ${id}`);
  // buffered: io_submit blocks in filemap_read, so io_getevents never has to sleep for them
  const buffered = drive({ engine: libaioEngine, job: directRead(8, 4, { direct: false }), totalIos: 100, record: ['tracepoint:sched:sched_switch'] });
  assert.equal(buffered.out.errors, 0);
  assert.equal(buffered.out.userCopyBytes, 100 * 4096);
});

test('copies per byte: 0 with fixedbufs and O_DIRECT, 1 with buffered reads', () => {
  const fixed = drive({ engine: ioUringEngine, job: directRead(16, 8, { fixedbufs: true, registerfiles: true }), totalIos: 500 }).out;
  assert.equal(fixed.errors, 0);
  assert.equal(fixed.bytes, 500 * 4096);
  assert.equal(fixed.userCopyBytes, 0);
  const buffered = drive({ engine: ioUringEngine, job: directRead(16, 8, { direct: false }), totalIos: 500 }).out;
  assert.equal(buffered.errors, 0);
  assert.equal(buffered.userCopyBytes / buffered.bytes, 1);
});

test('a buffered read miss is punted to io-wq: iou-wrk workers appear, never more than min(sq_entries, 4 x CPUs)', () => {
  const { out, hits, m } = drive({
    engine: ioUringEngine,
    job: directRead(32, 8, { direct: false, size: 256 * MiB }),
    totalIos: 600,
    record: ['tracepoint:io_uring:io_uring_queue_async_work', 'tracepoint:sched:sched_process_fork'],
  });
  assert.equal(out.errors, 0);
  const punts = hits.filter((h) => h.site.fullName === 'tracepoint:io_uring:io_uring_queue_async_work');
  assert.ok(punts.length > 0);
  assert.equal(punts[0]!.fields['op_str'], 'READ');
  assert.equal(punts[0]!.fields['rw'], 0); // reads are not hashed
  const fio = m.k.tasks.find((t) => t.comm === 'fio')!;
  const workers = m.k.tasks.filter((t) => t.comm === `iou-wrk-${fio.pid}`);
  assert.ok(workers.length > 1);
  for (const w of workers) assert.equal(w.tgid, fio.tgid); // threads of fio
  const bound = Math.min(32, 4 * DEFAULT_MACHINE.cpus);
  const st = ioUringState(m.k);
  assert.ok(st.maxWorkersSeen <= bound, `${st.maxWorkersSeen} workers, bound ${bound}`);
  assert.equal(st.maxWorkersSeen, bound); // every worker blocks on its miss, so the pool fills
  const wq = st.wqOfTask.get(fio)!;
  assert.equal(wq.bounded.maxWorkers, 16);
  // unbounded work (sockets, pipes) is capped by RLIMIT_NPROC: max_threads / 2 for 4 GiB
  assert.equal(wq.unbounded.maxWorkers, 16384);
  assert.equal(wq.unbounded.maxSeen, 0);
  // and with a small ring the bound is the ring: min(sq_entries = 4, 16)
  const small = drive({ engine: ioUringEngine, job: directRead(4, 4, { direct: false, size: 256 * MiB }), totalIos: 200 });
  assert.equal(ioUringState(small.m.k).maxWorkersSeen, 4);
});

test('registered buffers are charged to RLIMIT_MEMLOCK: 8 MiB fits, one page more is -ENOMEM', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const res: Record<string, number> = {};
  m.spawn('reg', false, (t) => (function* () {
    const k = m.k;
    const buf = yield* sysMmap(k, t, 0, 9 * MiB, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const p = ioUringParams();
    const fd = yield* sysIoUringSetup(k, t, 8, p);
    res['fd'] = fd;
    res['sq'] = p.sqEntries;
    res['cq'] = p.cqEntries;
    res['exact'] = yield* sysIoUringRegister(k, t, fd, IORING_REGISTER.BUFFERS, { iovecs: [{ va: buf, lenBytes: 8 * MiB }] }, 1);
    res['lockedAfterExact'] = ioUringState(k).lockedVmBytes;
    res['busy'] = yield* sysIoUringRegister(k, t, fd, IORING_REGISTER.BUFFERS, { iovecs: [{ va: buf, lenBytes: 4096 }] }, 1);
    res['unregister'] = yield* sysIoUringRegister(k, t, fd, IORING_REGISTER.UNREGISTER_BUFFERS, {}, 0);
    res['over'] = yield* sysIoUringRegister(k, t, fd, IORING_REGISTER.BUFFERS, { iovecs: [{ va: buf, lenBytes: 4 * MiB }, { va: buf + 4 * MiB, lenBytes: 4 * MiB + 4096 }] }, 2);
    res['lockedAfterOver'] = ioUringState(k).lockedVmBytes;
    res['unmapped'] = yield* sysIoUringRegister(k, t, fd, IORING_REGISTER.BUFFERS, { iovecs: [{ va: 0x1000, lenBytes: 4096 }] }, 1);
    res['setupZero'] = yield* sysIoUringSetup(k, t, 0, ioUringParams());
    res['setupTooBig'] = yield* sysIoUringSetup(k, t, 32769, ioUringParams());
    const clamp = ioUringParams({ flags: IORING_SETUP.CLAMP });
    yield* sysIoUringSetup(k, t, 100000, clamp);
    res['clampSq'] = clamp.sqEntries;
    const odd = ioUringParams();
    yield* sysIoUringSetup(k, t, 33, odd);
    res['oddSq'] = odd.sqEntries;
    res['oddCq'] = odd.cqEntries;
  })(), m.init);
  m.run(1_000_000_000);
  assert.deepEqual(res, {
    fd: 3,
    sq: 8,
    cq: 16,
    exact: 0,
    lockedAfterExact: 8 * MiB,
    busy: -16, // EBUSY
    unregister: 0,
    over: -12, // ENOMEM, and the first buffer's charge is given back
    lockedAfterOver: 0,
    unmapped: -14, // EFAULT
    setupZero: -22,
    setupTooBig: -22,
    clampSq: 32768,
    oddSq: 64,
    oddCq: 128,
  });
  // a fio job whose fixedbufs need more than 8 MiB fails at init with -ENOMEM
  const big = drive({ engine: ioUringEngine, job: directRead(64, 16, { fixedbufs: true, bs: 256 * 1024 }), totalIos: 10 }).out;
  assert.equal(big.initErr, -12);
});

test('SQPOLL: the iou-sqp thread submits without syscalls, sleeps after sq_thread_idle and needs IORING_ENTER_SQ_WAKEUP', () => {
  const { out, hits } = drive({
    engine: ioUringEngine,
    job: directRead(16, 8, { sqthreadPoll: true }),
    totalIos: 1000,
    pauseNs: 1_500_000_000,
    record: ['tracepoint:syscalls:sys_enter_io_uring_enter', 'tracepoint:io_uring:io_uring_submit_req'],
  });
  assert.equal(out.errors, 0);
  assert.ok(out.comms.some((c) => /^iou-sqp-\d+$/.test(c)));
  const subs = hits.filter((h) => h.site.fullName === 'tracepoint:io_uring:io_uring_submit_req');
  assert.equal(subs.length, 1000);
  assert.ok(subs.every((h) => h.fields['sq_thread'] === 1 && /^iou-sqp-/.test(h.comm)));
  const enters = hits.filter((h) => h.site.fullName === 'tracepoint:syscalls:sys_enter_io_uring_enter');
  // only after the 1.5 s pause had the thread gone to sleep: the commits right after it wake it
  // (the second one too, as the thread clears IORING_SQ_NEED_WAKEUP only once it runs)
  const wakeups = enters.filter((h) => (Number(h.fields['flags']) & 2) !== 0);
  assert.equal(wakeups.length, 2);
  assert.ok(wakeups.every((h) => h.timeNs > 1_500_000_000));
  assert.ok(enters.every((h) => h.fields['to_submit'] === 0 || (Number(h.fields['flags']) & 2) !== 0));
});

test('hipri (IORING_SETUP_IOPOLL): polled completions, the reaper spins instead of sleeping', () => {
  const { out, hits } = drive({ engine: ioUringEngine, job: directRead(8, 4, { hipri: true }), totalIos: 300, record: ['tracepoint:io_uring:io_uring_cqring_wait'] });
  assert.equal(out.errors, 0);
  assert.equal(out.bytes, 300 * 4096);
  assert.equal(hits.length, 0);
  // polling needs O_DIRECT: a buffered read on an IOPOLL ring fails with -EOPNOTSUPP
  const buffered = drive({ engine: ioUringEngine, job: directRead(4, 4, { hipri: true, direct: false }), totalIos: 8 }).out;
  assert.equal(buffered.errors, 8);
});

test('async engines are deterministic: the same seed gives the same numbers', () => {
  for (const engine of [ioUringEngine, libaioEngine]) {
    const a = drive({ engine, job: directRead(32, 16), totalIos: 1000, seed: 3 }).out;
    const b = drive({ engine, job: directRead(32, 16), totalIos: 1000, seed: 3 }).out;
    assert.deepEqual(a, b);
  }
});

test('io_uring writes: O_DIRECT inline, buffered writes hashed on the inode in io-wq, FSYNC punted; bad SQEs fail in their CQE', () => {
  const m = bootMachine(DEFAULT_MACHINE, 5);
  layoutJobFiles(m, [jobSpec({ name: 'w', filename: '/mnt/nvme/w', size: 4 * MiB })]);
  const hits: ProbeHit[] = [];
  for (const n of ['tracepoint:io_uring:io_uring_queue_async_work', 'tracepoint:io_uring:io_uring_file_get', 'tracepoint:io_uring:io_uring_create', 'tracepoint:io_uring:io_uring_register']) {
    m.k.registry.get(n)!.attach((h) => hits.push(h));
  }
  const res: Record<string, number | string> = {};
  m.spawn('writer', false, (t) => (function* () {
    const k = m.k;
    const dfd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/w', O.RDWR | O.DIRECT, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/w', O.RDWR, 0);
    const buf = yield* sysMmap(k, t, 0, 16 * 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const p = ioUringParams();
    const rfd = yield* sysIoUringSetup(k, t, 16, p);
    const rings = p.rings!;
    res['registerFiles'] = yield* sysIoUringRegister(k, t, rfd, IORING_REGISTER.FILES, { fds: [dfd, -1] }, 2);
    const put = (o: { opcode: number; fd: number; off?: number; len?: number; flags?: number; userData: number; opFlags?: number }): void => {
      const sqe = rings.sqes[rings.sqTail & (rings.sqEntries - 1)]!;
      Object.assign(sqe, { opcode: o.opcode, fd: o.fd, off: o.off ?? 0, addr: buf, len: o.len ?? 4096, flags: o.flags ?? 0, userData: o.userData, opFlags: o.opFlags ?? 0, bufIndex: 0, ioId: 0 });
      rings.sqTail++;
    };
    put({ opcode: IORING_OP.WRITE, fd: 0, flags: IOSQE.FIXED_FILE, off: 0, userData: 1 }); // fixed file 0: O_DIRECT
    put({ opcode: IORING_OP.WRITE, fd, off: 8192, userData: 2 }); // buffered: punted, hashed
    put({ opcode: IORING_OP.WRITE, fd, off: 12288, userData: 3 }); // same inode: waits for 2
    put({ opcode: IORING_OP.FSYNC, fd, userData: 4 });
    put({ opcode: IORING_OP.READ, fd: 1, flags: IOSQE.FIXED_FILE, userData: 5 }); // sparse slot
    put({ opcode: IORING_OP.READ_FIXED, fd, userData: 6 }); // no buffers registered
    put({ opcode: 200, fd, userData: 7 });
    put({ opcode: IORING_OP.NOP, fd: -1, userData: 8 });
    res['submitted'] = yield* sysIoUringEnter(k, t, rfd, 8, 8, IORING_ENTER.GETEVENTS);
    const byData: string[] = [];
    while (rings.cqReady > 0) {
      const c = rings.cqes[rings.cqHead & (rings.cqEntries - 1)]!;
      rings.cqHead++;
      byData.push(`${c.userData}:${c.res}`);
    }
    res['cqes'] = byData.sort().join(' ');
    res['enterBadFd'] = yield* sysIoUringEnter(k, t, 77, 0, 0, 0);
    res['enterNotRing'] = yield* sysIoUringEnter(k, t, fd, 0, 0, 0);
  })(), m.init);
  m.run(5_000_000_000);
  assert.deepEqual(res, {
    registerFiles: 0,
    submitted: 8,
    cqes: '1:4096 2:4096 3:4096 4:0 5:-9 6:-14 7:-22 8:0',
    enterBadFd: -9,
    enterNotRing: -95, // EOPNOTSUPP
  });
  const punts = hits.filter((h) => h.site.fullName.endsWith('io_uring_queue_async_work'));
  assert.deepEqual(punts.map((h) => `${String(h.fields['op_str'])} rw=${String(h.fields['rw'])}`), ['WRITE rw=1', 'WRITE rw=1', 'FSYNC rw=0']);
  const create = hits.find((h) => h.site.fullName.endsWith('io_uring_create'))!;
  assert.deepEqual([create.fields['sq_entries'], create.fields['cq_entries'], create.fields['fd']], [16, 32, 5]);
  const reg = hits.find((h) => h.site.fullName.endsWith('io_uring_register'))!;
  assert.deepEqual([reg.fields['opcode'], reg.fields['nr_files'], reg.fields['ret']], [2, 2, 0]);
  // only non-fixed files are looked up per request (SQEs 2, 3, 4; 6 and 7 fail before the lookup)
  assert.equal(hits.filter((h) => h.site.fullName.endsWith('io_uring_file_get')).length, 3);
});
