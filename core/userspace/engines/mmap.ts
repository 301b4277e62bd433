// Models: fio's mmap engine (engines/mmap.c): each file is mapped MAP_SHARED once (fio_mmap_file)
// and I/O is loads and stores through the mapping, so data moves by page faults and writeback,
// never by read/write syscalls. FIO_SYNCIO: every I/O completes inside queue().
// SIMPLIFICATION: fadvise_hint=noreuse gives the mapping no madvise (fio fails the mapping:
// "unknown madvise type").

import type { EngineContext, IoEngineOps, IoU, QueueResult } from './engine.js';
import { FIO_Q, accessAdvice } from './engine.js';
import { MADV, sysMadvise } from '../../mm/madvise.js';
import { MS, sysMmap, sysMsync, sysMunmap } from '../../fs/open.js';
import { MAP, PROT } from '../../mm/mmap.js';
import { userAccess } from '../../mm/memory.js';
import { EBADF } from '../../uapi/errno.js';

/** Whether the job writes (a writable shared mapping) or only reads. */
function jobWrites(ctx: EngineContext): boolean {
  return ctx.job.rw !== 'read' && ctx.job.rw !== 'randread';
}

export function createMmapEngine(): IoEngineOps {
  // fd -> start VA of its mapping (fio's fmd->mmap_ptr), or -errno when mmap failed
  const maps = new Map<number, number>();
  function* mapFile(ctx: EngineContext, fd: number): Generator<number, number, void> {
    const known = maps.get(fd);
    if (known !== undefined) return known;
    const prot = PROT.READ | (jobWrites(ctx) ? PROT.WRITE : 0);
    const va = yield* sysMmap(ctx.k, ctx.task, 0, ctx.job.fileSizeBytes, prot, MAP.SHARED, fd, 0);
    maps.set(fd, va);
    // fio_madvise_file: fadvise_hint as MADV_RANDOM / MADV_SEQUENTIAL on the mapping
    const advice = accessAdvice(ctx.job);
    if (va >= 0 && (advice === 'random' || advice === 'sequential')) {
      yield* sysMadvise(ctx.k, ctx.task, va, ctx.job.fileSizeBytes, advice === 'random' ? MADV.RANDOM : MADV.SEQUENTIAL);
    }
    return va;
  }
  return {
    name: 'mmap',
    sync: true,
    *init(ctx: EngineContext): Generator<number, number, void> {
      for (const fd of ctx.fds) {
        if (fd < 0) continue; // create_on_open: mapped on first use
        const va = yield* mapFile(ctx, fd);
        if (va < 0) return va;
      }
      return 0;
    },
    *queue(ctx: EngineContext, io: IoU): Generator<number, QueueResult, void> {
      const fd = ctx.fds[io.fileIndex] ?? -1;
      if (fd < 0) {
        io.result = -EBADF;
        return FIO_Q.COMPLETED;
      }
      if (io.ddir === 'fsync' || io.ddir === 'fdatasync') {
        // fio_mmapio_queue: a sync io_u is msync(MS_SYNC) of the whole mapping
        const mva = yield* mapFile(ctx, fd);
        io.result = mva < 0 ? mva : yield* sysMsync(ctx.k, ctx.task, mva, ctx.job.fileSizeBytes, MS.SYNC);
        return FIO_Q.COMPLETED;
      }
      const va = yield* mapFile(ctx, fd);
      if (va < 0) {
        io.result = va;
        return FIO_Q.COMPLETED;
      }
      const mm = ctx.task.mm!;
      const userBefore = mm.userAccessNs;
      const r = yield* userAccess(ctx.k, ctx.task, va + io.offsetBytes, io.lenBytes, io.ddir === 'write');
      ctx.userNs += mm.userAccessNs - userBefore;
      io.result = r === 0 ? io.lenBytes : r;
      return FIO_Q.COMPLETED;
    },
    *commit(): Generator<number, number, void> {
      return 0;
    },
    *getevents(): Generator<number, readonly IoU[], void> {
      return [];
    },
    *cleanup(ctx: EngineContext): Generator<number, void, void> {
      for (const va of maps.values()) if (va >= 0) yield* sysMunmap(ctx.k, ctx.task, va, ctx.job.fileSizeBytes);
      maps.clear();
    },
  };
}
