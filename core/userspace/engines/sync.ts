// Models: fio's sync engine (engines/sync.c: fio_syncio_prep + fio_syncio_queue): lseek(2) to the
// io_u's offset when the file position is elsewhere, then read(2) / write(2); fsync(2) /
// fdatasync(2) for sync io_us. FIO_SYNCIO: every I/O completes inside queue().

import type { EngineContext, IoEngineOps, IoU, QueueResult } from './engine.js';
import { FIO_Q } from './engine.js';
import { sysLseek, sysRead, sysWrite, SEEK } from '../../fs/read_write.js';
import { EBADF } from '../../uapi/errno.js';
import { syncIoU } from './psync.js';

export function createSyncEngine(): IoEngineOps {
  // fio's f->last_pos: where each file's position is, so a sequential job seeks only once
  const filePosBytes = new Map<number, number>();
  return {
    name: 'sync',
    sync: true,
    *init(): Generator<number, number, void> {
      return 0;
    },
    *queue(ctx: EngineContext, io: IoU): Generator<number, QueueResult, void> {
      if (io.ddir === 'fsync' || io.ddir === 'fdatasync') {
        io.result = yield* syncIoU(ctx, io);
        return FIO_Q.COMPLETED;
      }
      const fd = ctx.fds[io.fileIndex] ?? -1;
      if (fd < 0) {
        io.result = -EBADF;
        return FIO_Q.COMPLETED;
      }
      if ((filePosBytes.get(fd) ?? 0) !== io.offsetBytes) {
        const r = yield* sysLseek(ctx.k, ctx.task, fd, io.offsetBytes, SEEK.SET);
        if (r < 0) {
          io.result = r;
          return FIO_Q.COMPLETED;
        }
      }
      const ret = io.ddir === 'write' ? yield* sysWrite(ctx.k, ctx.task, fd, io.bufVa, io.lenBytes) : yield* sysRead(ctx.k, ctx.task, fd, io.bufVa, io.lenBytes);
      filePosBytes.set(fd, io.offsetBytes + Math.max(0, ret));
      io.result = ret;
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
