// Errors and retries below the filesystem: injected faults, the SCSI midlayer's disposition by
// sense key and its error handler, NVMe's retries and DNR, the errno an application gets, and
// fsync's once-per-file report of a failed writeback (errseq_t).
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, type Machine, type MachineSpec } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import type { FaultSpec } from '../../../core/hw/fault-inject.js';
import { FaultInjector, SenseKey } from '../../../core/hw/fault-inject.js';
import { scsiCheckSense } from '../../../core/drivers/scsi/scsi_error.js';
import { BlkStatus } from '../../../core/block/blk_types.js';
import { errseqCheckAndAdvance, errseqSample, errseqSet } from '../../../core/lib/errseq.js';
import { AT_FDCWD, sysClose, sysFsync, sysMmap, sysOpenat } from '../../../core/fs/open.js';
import { sysPread64, sysPwrite64 } from '../../../core/fs/read_write.js';
import { O } from '../../../core/fs/types.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { userAccess } from '../../../core/mm/memory.js';
import { attach } from '../../../probes/attach.js';
import { Random } from '../../../core/sim/random.js';

const range = (first: number, last: number, rest: Partial<FaultSpec>): FaultSpec => ({ op: 'any', kind: 'permanent', count: 0, firstSector: first, lastSector: last, probability: 0, ...rest });

function machine(kind: 'hdd' | 'nvme', faults: FaultSpec[], mount = ''): Machine {
  const spec: MachineSpec = {
    cpus: 2,
    memoryBytes: 2 ** 30,
    devices: [{ name: kind === 'hdd' ? 'sda' : 'nvme0n1', kind, capacityBytes: 2 ** 30, scheduler: kind === 'hdd' ? 'mq-deadline' : 'none', mount, faults }],
  };
  return bootMachine(spec, 1);
}

/** Runs `body` as a process to its end; returns what it recorded and when each record was made. */
function inProcess(m: Machine, runNs: number, body: (t: Task, out: Record<string, number>) => Generator<number, void, void>): Record<string, number> {
  const out: Record<string, number> = {};
  m.spawn('errors-test', false, (t) => body(t, out), m.init);
  m.run(runNs);
  return out;
}

/** One 4 KiB O_DIRECT pread of the raw device at `sector`: its result and latency. */
function* directRead(m: Machine, t: Task, dev: string, sector: number, out: Record<string, number>, key: string): Generator<number, void, void> {
  const k = m.k;
  const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
  const fd = yield* sysOpenat(k, t, AT_FDCWD, `/dev/${dev}`, O.RDONLY | O.DIRECT, 0);
  const start = k.env.nowNs;
  out[key] = yield* sysPread64(k, t, fd, buf, 4096, sector * 512);
  out[`${key}Ns`] = k.env.nowNs - start;
  yield* sysClose(k, t, fd);
}

test('scsi_check_sense: medium errors 11/13/14 fail at once, link and unit-attention errors are retried, recovered errors succeed', () => {
  const d = (key: number, asc: number, ascq = 0) => scsiCheckSense({ key, asc, ascq });
  assert.deepEqual(d(SenseKey.MEDIUM_ERROR, 0x11), { retry: false, status: BlkStatus.MEDIUM });
  assert.deepEqual(d(SenseKey.MEDIUM_ERROR, 0x14), { retry: false, status: BlkStatus.MEDIUM });
  assert.deepEqual(d(SenseKey.MEDIUM_ERROR, 0x0c), { retry: true, status: BlkStatus.IOERR });
  assert.deepEqual(d(SenseKey.ABORTED_COMMAND, 0x47), { retry: true, status: BlkStatus.IOERR });
  assert.deepEqual(d(SenseKey.UNIT_ATTENTION, 0x29), { retry: true, status: BlkStatus.IOERR });
  assert.deepEqual(d(SenseKey.NOT_READY, 0x04, 0x01), { retry: true, status: BlkStatus.IOERR });
  assert.deepEqual(d(SenseKey.NOT_READY, 0x3a), { retry: false, status: BlkStatus.IOERR });
  assert.deepEqual(d(SenseKey.HARDWARE_ERROR, 0x44), { retry: false, status: BlkStatus.TARGET });
  assert.deepEqual(d(SenseKey.ILLEGAL_REQUEST, 0x21), { retry: false, status: BlkStatus.TARGET });
  assert.deepEqual(d(SenseKey.DATA_PROTECT, 0x27, 0x07), { retry: false, status: BlkStatus.NOSPC });
  assert.deepEqual(d(SenseKey.RECOVERED_ERROR, 0x17), { retry: false, status: BlkStatus.OK });
});

test('a fault injector fails a range transiently N times, permanently always, and draws defects deterministically', () => {
  const cmd = (sector: number, op: 'read' | 'write' = 'read') => ({ cid: 0, op, sector, nrSectors: 8, fua: false, sgList: [] });
  const inj = new FaultInjector([range(100, 107, { kind: 'transient', count: 2, op: 'read' }), range(200, 200, {})], new Random(1));
  assert.equal(inj.check(cmd(96, 'write')), undefined, 'writes are not in a read fault');
  assert.ok(inj.check(cmd(96)));
  assert.ok(inj.check(cmd(104)));
  assert.equal(inj.check(cmd(100)), undefined, 'recovered after two failures');
  for (let i = 0; i < 10; i++) assert.ok(inj.check(cmd(196, i % 2 ? 'read' : 'write')));
  assert.equal(inj.check({ ...cmd(200), op: 'flush', nrSectors: 0 }), undefined);
  const draws = (seed: number) => {
    const p = new FaultInjector([{ ...range(-1, -1, {}), probability: 0.01 }], new Random(seed));
    const hits: number[] = [];
    for (let s = 0; s < 100_000; s += 8) if (p.check(cmd(s))) hits.push(s);
    return hits;
  };
  assert.deepEqual(draws(7), draws(7));
  assert.ok(draws(7).length > 60 && draws(7).length < 200, `${draws(7).length} defects in 12500 commands at p=0.01`);
  assert.equal(inj.answersCommands(), true);
  assert.equal(new FaultInjector([range(-1, -1, { kind: 'timeout' })], new Random(1)).answersCommands(), false);
});

test('NVMe: a status without DNR is retried nvme_max_retries (5) times, with DNR not at all; O_DIRECT gets -ENODATA', () => {
  const m = machine('nvme', [range(64, 71, { op: 'read', nvmeStatus: 0x281 }), range(128, 135, { op: 'read', nvmeStatus: 0x4281 }), range(256, 263, { op: 'read', kind: 'transient', count: 3, nvmeStatus: 0x281 })]);
  const retries: [number, number, number][] = [];
  attach(m, 'tracepoint:nvme:nvme_complete_rq', (h) => {
    if (h.fields['status'] !== 0) retries.push([Number(h.fields['cid']), Number(h.fields['status']), Number(h.fields['retries'])]);
  });
  let requeues = 0;
  attach(m, 'tracepoint:block:block_rq_requeue', () => requeues++);
  const out = inProcess(m, 1e9, function* (t, o) {
    yield* directRead(m, t, 'nvme0n1', 64, o, 'noDnr');
    yield* directRead(m, t, 'nvme0n1', 128, o, 'dnr');
    yield* directRead(m, t, 'nvme0n1', 256, o, 'transient');
  });
  assert.equal(out['noDnr'], -61);
  assert.equal(out['dnr'], -61);
  assert.equal(out['transient'], 4096);
  assert.deepEqual(retries.map(([, status, n]) => [status, n]), [
    [0x281, 0], [0x281, 1], [0x281, 2], [0x281, 3], [0x281, 4], [0x281, 5],
    [0x4281, 0],
    [0x281, 0], [0x281, 1], [0x281, 2],
  ]);
  assert.equal(requeues, 5 + 3);
});

test('a disk that stops answering: 30 s command timeout, then abort succeeds and the command is retried', () => {
  const m = machine('hdd', [range(64, 71, { op: 'read', kind: 'timeout', count: 1 })]);
  const out = inProcess(m, 60e9, function* (t, o) {
    yield* directRead(m, t, 'sda', 64, o, 'hung');
  });
  assert.equal(out['hung'], 4096);
  // SD_TIMEOUT, the abort's round trip, then the retried read (one rotation or less)
  assert.ok(out['hungNs']! > 30e9 && out['hungNs']! < 30e9 + 20e6, `${out['hungNs']} ns`);
});

test('a dead disk: the error handler climbs abort, device, target, bus and host reset, then takes the device offline; later I/O fails at once', () => {
  const m = machine('hdd', [range(-1, -1, { kind: 'timeout' })]);
  const states: string[] = [];
  m.devices[0]!.driver.stateHook = (_dev, state) => states.push(`${m.env.nowNs / 1e9}s ${state}`);
  const steps: string[] = [];
  attach(m, 'tracepoint:kiotrace:scsi_eh_step', (h) => steps.push(`${h.timeNs / 1e9}s ${String(h.fields['step'])} ${Number(h.fields['result']).toString(16)}`));
  let timeouts = 0;
  attach(m, 'tracepoint:scsi:scsi_dispatch_cmd_timeout', () => timeouts++);
  const out = inProcess(m, 200e9, function* (t, o) {
    yield* directRead(m, t, 'sda', 0, o, 'first');
    yield* directRead(m, t, 'sda', 8, o, 'after');
  });
  assert.equal(timeouts, 1);
  assert.deepEqual(steps.map((s) => s.replace(/^(\d+)\.0*\d*s/, '$1s')), ['40s abort 2003', '50s device reset 2003', '60s target reset 2003', '70s bus reset 2003', '80s host reset 2003']);
  assert.equal(out['first'], -5);
  assert.ok(Math.abs(out['firstNs']! - 80e9) < 1e6, `${out['firstNs']} ns`);
  assert.equal(out['after'], -5);
  assert.ok(out['afterNs']! < 1e6, 'an offline device rejects I/O at once');
  assert.equal(states.length, 1);
  assert.match(states[0]!, /^80\.\d+s failed$/);
  // "device back" (echo running > /sys/block/sda/device/state): the hook reports it
  m.devices[0]!.driver.setOffline(false);
  assert.match(states[1]!, / running$/);
});

test('errseq: a writeback error is reported once to each file open when it happened, not to a later opener', () => {
  let mapping = 0;
  const a = errseqSample(mapping);
  const b = errseqSample(mapping);
  mapping = errseqSet(mapping, -5);
  const later = errseqSample(mapping); // not seen yet: a new opener will see it too
  let r = errseqCheckAndAdvance(mapping, a);
  assert.equal(r.err, -5);
  mapping = r.eseq;
  const fileA = r.since;
  assert.equal(errseqCheckAndAdvance(mapping, fileA).err, 0, 'reported once');
  r = errseqCheckAndAdvance(mapping, b);
  assert.equal(r.err, -5, 'the other open file sees it too');
  assert.equal(errseqCheckAndAdvance(mapping, later).err, -5);
  const afterSeen = errseqSample(mapping);
  assert.equal(errseqCheckAndAdvance(mapping, afterSeen).err, 0, 'opened after it was seen: nothing to report');
  // a second error after the first was seen is new to everyone
  mapping = errseqSet(mapping, -28);
  assert.equal(errseqCheckAndAdvance(mapping, fileA).err, -28);
});

test('fsync after a failed writeback: the error reaches each fd open when it happened, once; the page stays clean', () => {
  // where the file's data block goes: the same run on a healthy disk shows it (allocation is deterministic)
  const probe = machine('hdd', [], '/mnt/hdd');
  const dataSectors: number[] = [];
  attach(probe, 'tracepoint:block:block_rq_issue', (h) => {
    if (h.fields['rwbs'] === 'WS') dataSectors.push(Number(h.fields['sector']));
  });
  const body = function* (m: Machine, t: Task, o: Record<string, number>): Generator<number, void, void> {
    const k = m.k;
    const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const fd1 = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/hdd/f', O.RDWR | O.CREAT, 0o644);
    const fd2 = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/hdd/f', O.RDWR, 0);
    o['write'] = yield* sysPwrite64(k, t, fd1, buf, 4096, 0);
    o['fsync1'] = yield* sysFsync(k, t, fd1);
    o['fsync1again'] = yield* sysFsync(k, t, fd1);
    o['fsync2'] = yield* sysFsync(k, t, fd2);
    const fd3 = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/hdd/f', O.RDWR, 0);
    o['fsync3'] = yield* sysFsync(k, t, fd3);
    // the page was left clean: the cached data still reads back, and nothing is written again
    o['read'] = yield* sysPread64(k, t, fd1, buf, 4096, 0);
    o['dirty'] = m.k.vfs.resolve('/mnt/hdd/f')!.fs.inodes.get('/mnt/hdd/f')!.mapping.nrDirty;
  };
  inProcess(probe, 5e9, (t, o) => body(probe, t, o));
  const data = dataSectors[0]!;
  const m = machine('hdd', [range(data, data + 7, { op: 'write', sense: { key: SenseKey.HARDWARE_ERROR, asc: 0x44, ascq: 0 } })], '/mnt/hdd');
  const out = inProcess(m, 5e9, (t, o) => body(m, t, o));
  assert.equal(out['write'], 4096);
  assert.equal(out['fsync1'], -121, 'HARDWARE ERROR is a target failure: BLK_STS_TARGET, -EREMOTEIO');
  assert.equal(out['fsync1again'], 0);
  assert.equal(out['fsync2'], -121);
  assert.equal(out['fsync3'], 0);
  assert.equal(out['read'], 4096);
  assert.equal(out['dirty'], 0);
});

test('a journal write that fails aborts the journal: fsync returns -EIO and later writes -EROFS', () => {
  const probe = machine('hdd', [], '/mnt/hdd');
  const fs = probe.devices[0]!.fs!;
  const first = fs.journalStartBlock * 8;
  const last = (fs.journalStartBlock + fs.journalBlocks) * 8 - 1;
  const m = machine('hdd', [range(first, last, { op: 'write' })], '/mnt/hdd');
  const out = inProcess(m, 5e9, function* (t, o) {
    const k = m.k;
    const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/hdd/log', O.RDWR | O.CREAT, 0o644);
    o['write'] = yield* sysPwrite64(k, t, fd, buf, 4096, 0);
    o['fsync'] = yield* sysFsync(k, t, fd);
    o['after'] = yield* sysPwrite64(k, t, fd, buf, 4096, 4096);
  });
  assert.deepEqual(out, { write: 4096, fsync: -5, after: -30 });
  assert.equal(m.devices[0]!.fs!.readOnly, true);
});

test('NVMe timeouts: an abort the controller answers retries the command; a dead controller is reset, fails and goes offline at 70 s', () => {
  const lost = machine('nvme', [range(0, 7, { op: 'read', kind: 'timeout', count: 1 })]);
  const statuses: number[] = [];
  attach(lost, 'tracepoint:nvme:nvme_complete_rq', (h) => statuses.push(Number(h.fields['status'])));
  const a = inProcess(lost, 60e9, function* (t, o) {
    yield* directRead(lost, t, 'nvme0n1', 0, o, 'read');
  });
  assert.equal(a['read'], 4096);
  assert.ok(a['readNs']! > 30e9 && a['readNs']! < 30e9 + 1e6, `${a['readNs']} ns`);
  // Command Abort Requested (07h), then the retried read's success
  assert.deepEqual(statuses, [0x007, 0]);

  const dead = machine('nvme', [range(-1, -1, { kind: 'timeout' })]);
  const states: string[] = [];
  dead.devices[0]!.driver.stateHook = (_dev, state) => states.push(state);
  const b = inProcess(dead, 200e9, function* (t, o) {
    yield* directRead(dead, t, 'nvme0n1', 0, o, 'read');
    yield* directRead(dead, t, 'nvme0n1', 8, o, 'after');
  });
  // io_timeout, the abort's own io_timeout, then CAP.TO waiting for a ready controller
  assert.equal(b['read'], -5);
  assert.ok(Math.abs(b['readNs']! - 70e9) < 1e6, `${b['readNs']} ns`);
  assert.equal(b['after'], -5);
  assert.ok(b['afterNs']! < 1e6);
  assert.deepEqual(states, ['failed']);
});

test('a page fault on an unreadable page reads it again once, alone, then gives SIGBUS (-EIO to the access)', () => {
  const m = machine('hdd', [range(64, 71, { op: 'read' })]);
  const failed: number[] = [];
  attach(m, 'tracepoint:block:block_rq_error', (h) => failed.push(Number(h.fields['nr_sector'])));
  const out = inProcess(m, 5e9, function* (t, o) {
    const k = m.k;
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/dev/sda', O.RDONLY, 0);
    const va = yield* sysMmap(k, t, 0, 64 * 4096, PROT.READ, MAP.SHARED, fd, 0);
    o['good'] = yield* userAccess(k, t, va, 4096, false);
    o['bad'] = yield* userAccess(k, t, va + 8 * 4096, 4096, false);
  });
  // the first fault's read-around covers the bad sectors: it fails whole (no retry for 11/00), so
  // the first page is read again alone and succeeds; the bad page's re-read fails: SIGBUS
  assert.equal(out['good'], 0);
  assert.equal(out['bad'], -5);
  // the read-around (128 KiB: 256 sectors), then the bad page's re-read; the good page's re-read succeeded
  assert.deepEqual(failed, [256, 8]);
});
