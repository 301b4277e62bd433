// Models: io_uring/notif.c (io_alloc_notif, io_tx_ubuf_complete, io_notif_flush): the notification
// of an IORING_OP_SEND_ZC. It is a ubuf_info the socket's skbs hold while they reference the
// user's pages, plus a request of the ring; the send request holds one reference until it has
// posted its own CQE, and the last reference going posts the NOTIF CQE (same user_data,
// IORING_CQE_F_NOTIF): from then on the buffer may be reused. With
// IORING_SEND_ZC_REPORT_USAGE its res says whether the kernel copied after all.
// SIMPLIFICATION: the notification CQE is posted from the context that drops the last reference
// (the ACK's softirq), as io_uring.ts posts every CQE; Linux posts it from task_work.

import type { Kernel } from '../kernel/kernel.js';
import type { UbufInfo } from '../net/skbuff.js';
import { IORING_CQE_F, IORING_NOTIF_USAGE_ZC_COPIED, IORING_OP, ioAllocReq, ioReqComplete, type IoKiocb } from './io_uring.js';

/** struct io_notif_data: the notification's ubuf_info and its usage report. */
export class IoNotif implements UbufInfo {
  private refs = 1;
  /** Some skb sent the pages by reference (nd->zc_used). */
  zcUsed = false;
  /** Some holder copied the pages instead (nd->zc_copied). */
  zcCopied = false;

  constructor(
    readonly k: Kernel,
    /** The notification's own request (its CQE's user_data is the send's). */
    readonly req: IoKiocb,
    readonly zcReport: boolean,
  ) {}

  /** net_zcopy_get: one more skb holds the pages. */
  hold(): void {
    this.refs++;
  }

  /** io_tx_ubuf_complete from an skb's end: `zerocopy` false when it had to copy. */
  complete(zerocopy: boolean): void {
    if (this.zcReport) {
      if (zerocopy) this.zcUsed = true;
      else this.zcCopied = true;
    }
    this.put();
  }

  /** io_notif_flush: the send request lets go once its result is posted. */
  flush(): void {
    this.put();
  }

  private put(): void {
    if (--this.refs > 0) return;
    const res = this.zcReport && (this.zcCopied || !this.zcUsed) ? IORING_NOTIF_USAGE_ZC_COPIED | 0 : 0;
    ioReqComplete(this.k, this.k.sched.ctxCpu, this.req, res, IORING_CQE_F.NOTIF);
  }
}

/** io_alloc_notif: a notification request for `req`, carrying its user_data and ioId. */
export function ioAllocNotif(k: Kernel, req: IoKiocb, zcReport: boolean): IoNotif {
  const nreq = ioAllocReq(k, req.ctx);
  nreq.ioId = req.ioId;
  nreq.opcode = IORING_OP.NOP;
  nreq.userData = req.userData;
  nreq.reqFlags = 0;
  nreq.file = undefined;
  nreq.notif = undefined;
  return new IoNotif(k, nreq, zcReport);
}
