// Models: net/ipv4/inet_connection_sock.c: a listening socket's side of connections.
// inet_csk_listen_start (the listen hash, TCP_LISTEN, the backlog as sk_max_ack_backlog) and
// inet_csk_accept (the oldest established child off the accept queue; sleeps in
// inet_csk_wait_for_connect, or -EAGAIN when nonblocking).

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { EADDRINUSE, EAGAIN, EINVAL } from '../../uapi/errno.js';
import { TCP, skWaitEvent, type Sock } from '../sock.js';
import type { TcpSock } from '../tcp_sock.js';
import { inetCskGetPort, tcpHashinfo } from './tcp_ipv4.js';
import { tcpSetState } from './tcp.js';

/** inet_csk_listen_start: the socket takes connections on its port. */
export function inetCskListenStart(k: Kernel, tp: TcpSock, backlog: number): number {
  tp.maxAckBacklog = backlog;
  if (tp.state === TCP.LISTEN) return 0;
  if (tp.state !== TCP.CLOSE) return -EINVAL;
  if (tp.num === 0 && inetCskGetPort(k, tp, 0) < 0) return -EADDRINUSE;
  const h = tcpHashinfo(k);
  if (h.listening.has(tp.num)) return -EADDRINUSE;
  tp.ackBacklog = 0;
  tcpSetState(k, tp, TCP.LISTEN, k.sched.cpu(tp.cpu));
  h.listening.set(tp.num, tp);
  return 0;
}

/** inet_csk_accept: the next established connection, or -errno. kretprobe's retval is the child's address, or 0 (NULL). */
export function* inetCskAccept(k: Kernel, tp: TcpSock, task: Task, nonblock: boolean): Generator<number, Sock | number, void> {
  const fn = k.fn.inet_csk_accept;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), task.ioId, tp, 0);
  let ret: Sock | number;
  for (;;) {
    if (tp.state !== TCP.LISTEN) {
      ret = -EINVAL;
      break;
    }
    const child = tp.acceptQueue.shift();
    if (child !== undefined) {
      // reqsk_queue_remove: sk_acceptq_removed
      tp.ackBacklog--;
      child.parent = undefined;
      child.cpu = task.cpu;
      ret = child;
      break;
    }
    if (nonblock) {
      ret = -EAGAIN;
      break;
    }
    // inet_csk_wait_for_connect
    const w = yield* skWaitEvent(k, task, tp);
    if (w < 0) {
      ret = w;
      break;
    }
  }
  // retval is the accepted sock's address (`(struct sock *)retval` reads the sock itself), or NULL
  // on an error, which Linux passes back in arg->err
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), task.ioId, typeof ret === 'number' ? 0 : ret.kaddr, typeof ret === 'number' ? undefined : ret);
  return ret;
}
