// libata's non-NCQ exclusion on a SATA disk: FLUSH CACHE EXT cannot run beside NCQ commands, so
// ata_std_qc_defer refuses it (ATA_DEFER_LINK), queuecommand returns SCSI_MLQUEUE_DEVICE_BUSY
// (scsi_dispatch_cmd_error rtn=4182), blk-mq requeues it and the blocked device takes it again
// only when the NCQ commands have drained; while it runs, NCQ commands are deferred the same way.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, type Machine } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { AT_FDCWD, sysClose, sysFsync, sysMmap, sysOpenat } from '../../../core/fs/open.js';
import { sysPread64 } from '../../../core/fs/read_write.js';
import { O } from '../../../core/fs/types.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { attach } from '../../../probes/attach.js';

const US = 1000;

function hddMachine(): Machine {
  return bootMachine({ cpus: 2, memoryBytes: 2 ** 30, devices: [{ name: 'sda', kind: 'hdd', capacityBytes: 2 ** 30, scheduler: 'mq-deadline', mount: '' }] }, 1);
}

/** A process that sleeps `delayNs`, then does `io` on /dev/sda (O_DIRECT). */
function spawnIo(m: Machine, comm: string, delayNs: number, io: (t: Task, fd: number, buf: number) => Generator<number, number, void>): void {
  const k = m.k;
  m.spawn(comm, false, function* (t) {
    const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/dev/sda', O.RDWR | O.DIRECT, 0);
    if (delayNs > 0) yield* nanosleep(k, t, delayNs);
    const r = yield* io(t, fd, buf);
    assert.ok(r >= 0, `${comm}: ${r}`);
    yield* sysClose(k, t, fd);
  }, m.init);
}

test('a cache flush behind NCQ reads is deferred (rtn 4182), requeued, and issued once the reads drain; a read behind the running flush waits for it', () => {
  const m = hddMachine();
  const k = m.k;
  const events: string[] = [];
  const times: number[] = [];
  const note = (s: string, t: number): void => {
    events.push(s);
    times.push(t);
  };
  // opcodes: READ(10) 0x28 = 40, SYNCHRONIZE CACHE(10) 0x35 = 53
  attach(m, 'tracepoint:block:block_rq_issue', (h) => note(`issue ${h.fields['rwbs']}`, h.timeNs));
  attach(m, 'tracepoint:block:block_rq_requeue', (h) => note(`requeue ${h.fields['rwbs']}`, h.timeNs));
  attach(m, 'tracepoint:block:block_rq_complete', (h) => note(`complete ${h.fields['rwbs']}`, h.timeNs));
  attach(m, 'tracepoint:scsi:scsi_dispatch_cmd_error', (h) => note(`error ${h.fields['opcode']} rtn=${h.fields['rtn']}`, h.timeNs));
  // three reads across the platter, a flush 50 us later, another read while the flush waits
  for (const [i, sector] of [1_000_000, 1_500_000, 1_900_000].entries()) spawnIo(m, `reader${i}`, 0, (t, fd, buf) => sysPread64(k, t, fd, buf, 4096, sector * 512));
  spawnIo(m, 'flusher', 50 * US, (t, fd) => sysFsync(k, t, fd));
  spawnIo(m, 'late', 100 * US, (t, fd, buf) => sysPread64(k, t, fd, buf, 4096, 64 * 512));
  m.run(200e6);
  assert.deepEqual(events, [
    'issue R', 'issue R', 'issue R',
    // libata refuses the non-NCQ flush while reads are queued on the link
    'issue FF', 'error 53 rtn=4182', 'requeue FF',
    'complete R', 'complete R', 'complete R',
    // at zero depth the blocked device takes it; the late read, dispatched meanwhile, is refused
    'issue FF', 'issue R', 'error 40 rtn=4182', 'requeue R',
    'complete FF',
    'issue R', 'complete R',
  ]);
  const at = (e: string, nth = 0): number => times[events.reduce<number[]>((acc, x, i) => (x === e ? [...acc, i] : acc), [])[nth]!]!;
  // nothing went to the disk between the deferral and the last read's completion: the flush went right after it
  assert.equal(at('issue FF', 1), at('complete R', 2));
  assert.ok(at('issue R', 4) >= at('complete FF'), 'the late read waited for the flush');
});
