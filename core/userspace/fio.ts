// Models: fio's synchronous I/O engines (psync: pread/pwrite at an offset; sync: lseek + read/
// write; mmap: loads and stores through a shared mapping) running one job per process: the only
// code in kiotrace that makes syscalls. Each job records completion latencies per direction.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import type { JobSpec } from './job.js';
import { LatencyHistogram } from './stats.js';
import { O } from '../fs/types.js';
import { sysClose, sysFsync, sysMmap, sysMunmap, sysOpenat, AT_FDCWD } from '../fs/open.js';
import { sysLseek, sysPread64, sysPwrite64, sysRead, sysWrite, SEEK } from '../fs/read_write.js';
import { MAP, PROT } from '../mm/mmap.js';
import { userAccess } from '../mm/memory.js';
import { nanosleep } from '../kernel/time/timer.js';
import { USER_IO_OVERHEAD_NS } from '../hw/cpu.js';
import type { Random } from '../sim/random.js';
import { execve } from '../fs/exec.js';

export class JobStats {
  readonly read = new LatencyHistogram();
  readonly write = new LatencyHistogram();
  readonly fsync = new LatencyHistogram();
  readBytes = 0;
  writeBytes = 0;
  errors = 0;
  firstErrno = 0;
  startNs = -1;
  endNs = -1;

  noteError(ret: number): void {
    this.errors++;
    if (this.firstErrno === 0) this.firstErrno = -ret;
  }
}

/** The body of one fio job process. `stopAtNs` is the end of the run. */
export function* fioJob(k: Kernel, task: Task, job: JobSpec, stats: JobStats, rng: Random, stopAtNs: number): Generator<number, void, void> {
  // the forked child execs fio, then runs its job
  yield execve(k, task, '/usr/bin/fio');
  if (job.startdelayNs > 0) yield* nanosleep(k, task, job.startdelayNs);
  stats.startNs = k.env.nowNs;
  const deadlineNs = Math.min(stopAtNs, job.runtimeNs > 0 ? stats.startNs + job.runtimeNs : Infinity);
  const writes = job.rw === 'write' || job.rw === 'randwrite' || job.rw === 'rw' || job.rw === 'randrw';
  const reads = job.rw === 'read' || job.rw === 'randread' || job.rw === 'rw' || job.rw === 'randrw';
  const random = job.rw.startsWith('rand');
  let flags = reads && writes ? O.RDWR : writes ? O.WRONLY : O.RDONLY;
  if (job.direct) flags |= O.DIRECT;
  if (job.ioengine === 'mmap') flags = writes ? O.RDWR : O.RDONLY;
  const fd = yield* sysOpenat(k, task, AT_FDCWD, job.filename, flags, 0o644);
  if (fd < 0) {
    stats.noteError(fd);
    stats.endNs = k.env.nowNs;
    return;
  }
  // the I/O buffer: page-aligned anonymous memory, as fio allocates it
  let buf = 0;
  let map = 0;
  if (job.ioengine === 'mmap') {
    map = yield* sysMmap(k, task, 0, job.size, PROT.READ | (writes ? PROT.WRITE : 0), MAP.SHARED, fd, 0);
    if (map < 0) {
      stats.noteError(map);
      stats.endNs = k.env.nowNs;
      return;
    }
  } else {
    buf = yield* sysMmap(k, task, 0, job.bs, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    if (buf < 0) {
      stats.noteError(buf);
      stats.endNs = k.env.nowNs;
      return;
    }
  }
  const blocks = Math.max(1, Math.floor(job.size / job.bs));
  let seqBlock = 0;
  let done = 0;
  let writesSinceFsync = 0;
  let filePos = 0;
  for (;;) {
    if (k.env.nowNs >= deadlineNs) break;
    if (!job.timeBased && done >= blocks) break;
    const block = random ? rng.int(blocks) : seqBlock;
    seqBlock = (seqBlock + 1) % blocks;
    const off = block * job.bs;
    const isWrite = reads && writes ? rng.int(100) >= job.rwmixread : writes;
    yield USER_IO_OVERHEAD_NS;
    const t0 = k.env.nowNs;
    let ret: number;
    if (job.ioengine === 'mmap') {
      ret = yield* userAccess(k, task, map + off, job.bs, isWrite);
      if (ret === 0) ret = job.bs;
    } else if (job.ioengine === 'psync') {
      ret = isWrite ? yield* sysPwrite64(k, task, fd, buf, job.bs, off) : yield* sysPread64(k, task, fd, buf, job.bs, off);
    } else {
      if (filePos !== off) {
        const r = yield* sysLseek(k, task, fd, off, SEEK.SET);
        if (r < 0) stats.noteError(r);
      }
      ret = isWrite ? yield* sysWrite(k, task, fd, buf, job.bs) : yield* sysRead(k, task, fd, buf, job.bs);
      filePos = off + Math.max(0, ret);
    }
    const latNs = k.env.nowNs - t0;
    done++;
    if (ret < 0) {
      stats.noteError(ret);
    } else if (isWrite) {
      stats.write.record(latNs);
      stats.writeBytes += ret;
    } else {
      stats.read.record(latNs);
      stats.readBytes += ret;
    }
    if (isWrite && job.fsync > 0 && ++writesSinceFsync >= job.fsync) {
      writesSinceFsync = 0;
      const t1 = k.env.nowNs;
      const r = yield* sysFsync(k, task, fd);
      if (r < 0) stats.noteError(r);
      else stats.fsync.record(k.env.nowNs - t1);
    }
    // SIMPLIFICATION: fio's usleep() sleeps without a traced clock_nanosleep syscall
    if (job.thinktimeNs > 0) yield* nanosleep(k, task, job.thinktimeNs);
  }
  stats.endNs = k.env.nowNs;
  if (map > 0) yield* sysMunmap(k, task, map, job.size);
  if (buf > 0) yield* sysMunmap(k, task, buf, job.bs);
  yield* sysClose(k, task, fd);
}
