// Models: io_uring/net.c: IORING_OP_SEND, IORING_OP_RECV and IORING_OP_SEND_ZC on a socket
// (io_send, io_recv, io_send_zc_prep, io_send_zc). Issued inline with MSG_DONTWAIT; -EAGAIN arms
// the internal poll (poll.ts) rather than blocking a worker. With MSG_WAITALL on a stream socket a
// short transfer keeps its progress (done_io) and waits for the rest (io_net_retry). SEND_ZC
// passes its notification as msg_ubuf, so the user pages go to the NIC by reference, and posts
// two CQEs: the result with IORING_CQE_F_MORE, then the notification (notif.ts) once no skb
// holds the pages any more.
// SIMPLIFICATION: no registered buffers (IORING_RECVSEND_FIXED_BUF), provided buffers or
// multishot receive; msg_flags other than MSG_WAITALL / MSG_DONTWAIT / MSG_NOSIGNAL are passed
// through unchecked.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { immediate } from '../fs/read_write.js';
import { EAGAIN, EINVAL, ENOTSOCK } from '../uapi/errno.js';
import { MSG } from '../net/sock.js';
import { sockFromFile, sockRecvmsgUser, sockSendmsgUser } from '../net/socket.js';
import { IORING_OP, IORING_RECVSEND, type IoKiocb } from './io_uring.js';
import { ioAllocNotif } from './notif.js';

/**
 * io_send_zc_prep: the notification is allocated with the request. 0 or -errno (ioprio flags
 * outside IO_ZC_FLAGS_VALID, less FIXED_BUF, which is not modelled).
 */
export function ioSendZcPrep(k: Kernel, req: IoKiocb): number {
  if ((req.ioprio & ~(IORING_RECVSEND.POLL_FIRST | IORING_RECVSEND.SEND_ZC_REPORT_USAGE)) !== 0) return -EINVAL;
  req.notif = ioAllocNotif(k, req, (req.ioprio & IORING_RECVSEND.SEND_ZC_REPORT_USAGE) !== 0);
  return 0;
}

/** io_send / io_send_zc / io_recv, as the opcode says: bytes, -errno, or (nonblock) -EAGAIN to poll. */
export function ioNet(k: Kernel, req: IoKiocb, task: Task, nonblock: boolean): Generator<number, number, void> {
  const sock = req.file === undefined ? undefined : sockFromFile(req.file);
  if (sock === undefined) return immediate(-ENOTSOCK);
  // IORING_RECVSEND_POLL_FIRST: wait for readiness before the first try
  if (nonblock && !req.polled && (req.ioprio & IORING_RECVSEND.POLL_FIRST) !== 0) return immediate(-EAGAIN);
  return ioNetIssue(k, req, task, nonblock);
}

function* ioNetIssue(k: Kernel, req: IoKiocb, task: Task, nonblock: boolean): Generator<number, number, void> {
  const sock = sockFromFile(req.file!)!;
  let flags = req.opFlags | MSG.NOSIGNAL;
  if (nonblock) flags |= MSG.DONTWAIT;
  const zc = req.opcode === IORING_OP.SEND_ZC;
  if (zc) flags |= MSG.ZEROCOPY;
  const va = req.addr + req.doneBytes;
  const len = req.len - req.doneBytes;
  const waitall = (req.opFlags & MSG.WAITALL) !== 0;
  let ret =
    req.opcode === IORING_OP.RECV
      ? yield* sockRecvmsgUser(k, task, sock, va, len, flags)
      : yield* sockSendmsgUser(k, task, sock, va, len, flags, zc ? req.notif : undefined);
  const minRet = waitall ? len : 1;
  if (ret < minRet) {
    if (ret === -EAGAIN && nonblock) return -EAGAIN;
    // io_net_retry: a stream socket with MSG_WAITALL keeps what it moved and waits for more
    // (a receive that hit the end of the stream, ret 0, is done)
    if (ret > 0 && waitall && nonblock) {
      req.doneBytes += ret;
      return -EAGAIN;
    }
  }
  if (ret >= 0) ret += req.doneBytes;
  else if (req.doneBytes > 0) ret = req.doneBytes;
  return ret;
}
