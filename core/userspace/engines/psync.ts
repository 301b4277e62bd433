// Models: fio's psync engine (engines/sync.c: fio_psyncio_queue): pread(2) / pwrite(2) at the
// io_u's offset, fsync(2) / fdatasync(2) for the job's sync io_us. FIO_SYNCIO: every I/O completes
// inside queue(), so the job never has more than one in flight whatever its iodepth.

import type { EngineContext, IoEngineOps, IoU, QueueResult } from './engine.js';
import { FIO_Q } from './engine.js';
import { sysFdatasync, sysFsync } from '../../fs/open.js';
import { sysPread64, sysPwrite64 } from '../../fs/read_write.js';
import { EBADF } from '../../uapi/errno.js';

/** fsync/fdatasync of the io_u's file, shared by the synchronous engines (fio's do_io_u_sync). */
export function* syncIoU(ctx: EngineContext, io: IoU): Generator<number, number, void> {
  const fd = ctx.fds[io.fileIndex] ?? -1;
  if (fd < 0) return -EBADF;
  if (io.ddir === 'fdatasync') return yield* sysFdatasync(ctx.k, ctx.task, fd);
  return yield* sysFsync(ctx.k, ctx.task, fd);
}

export function createPsyncEngine(): IoEngineOps {
  return {
    name: 'psync',
    sync: true,
    *init(): Generator<number, number, void> {
      return 0;
    },
    *queue(ctx: EngineContext, io: IoU): Generator<number, QueueResult, void> {
      const fd = ctx.fds[io.fileIndex] ?? -1;
      if (io.ddir === 'fsync' || io.ddir === 'fdatasync') io.result = yield* syncIoU(ctx, io);
      else if (fd < 0) io.result = -EBADF;
      else if (io.ddir === 'write') io.result = yield* sysPwrite64(ctx.k, ctx.task, fd, io.bufVa, io.lenBytes, io.offsetBytes);
      else io.result = yield* sysPread64(ctx.k, ctx.task, fd, io.bufVa, io.lenBytes, io.offsetBytes);
      return FIO_Q.COMPLETED;
    },
    *commit(): Generator<number, number, void> {
      return 0;
    },
    *getevents(): Generator<number, readonly IoU[], void> {
      return [];
    },
    *cleanup(): Generator<number, void, void> {},
  };
}
