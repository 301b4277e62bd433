// Models: a request/response service and its open-loop load generator, as a scenario event starts
// them (rows of core/userspace/commands.ts's table). `rr-server` is a single-threaded epoll event
// loop in the style of a memcached or nginx worker: for each request of --request bytes a client
// sends, it preads one --bs block at a random aligned offset of its file with O_DIRECT (so every
// request reaches the device) and writes the block back as the response. `rr-client` is an
// open-loop load generator in the style of wrk2 or mutilate: Poisson arrivals at --rate requests/s
// drawn from the machine's seeded RNG, spread round-robin over --connections connections so a slow
// reply never holds back the next arrival; each request's latency runs from its scheduled send time
// (wrk2's correction for coordinated omission) to the last byte of its response; at exit it prints
// the count, mean, p50, p99, p99.9 and max.
// SIMPLIFICATION: requests and responses are fixed-size byte strings (no parsing); the server picks
// the block itself (a request carries no key).
// SIMPLIFICATION: latencies go into fio's log-linear histogram (about 1.6 % resolution), so the
// percentiles are bucket midpoints, as fio's and HdrHistogram's are.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { USER_IO_OVERHEAD_NS } from '../hw/cpu.js';
import { nanosleep } from '../kernel/time/timer.js';
import { copyThread } from '../kernel/fork.js';
import { sysClose, sysOpenat, AT_FDCWD } from '../fs/open.js';
import { SEEK, sysLseek, sysPread64 } from '../fs/read_write.js';
import { EPOLL, O } from '../fs/types.js';
import { sysEpollCreate1, sysEpollCtl, sysEpollWait, EPOLL_CTL, type EpollEvent } from '../fs/eventpoll.js';
import { sysAccept4, sysRecvfrom, sysSendto, sysSetsockopt } from '../net/socket.js';
import { SOL_TCP, TCP_NODELAY } from '../net/sock.js';
import { EAGAIN, ECONNRESET, EINVAL, strerror } from '../uapi/errno.js';
import { LatencyHistogram } from './stats.js';
import { parsedCommand, type CommandOutput, type CommandResult, type UserCommand } from './commands.js';
import {
  BYTES,
  MAX_CONNECTIONS,
  PATH,
  connectTo,
  endpointText,
  fail,
  listenOn,
  msText,
  num,
  parseEndpoint,
  parsePort,
  programMemory,
  str,
  withEndpoint,
  withPort,
  type OptionSpec,
  type Parsed,
} from './netprogs.js';

const KiB = 1024;
const NS_PER_S = 1_000_000_000;
/** What one recv() takes at most (a socket read buffer). */
const RECV_BYTES = 64 * KiB;
/** The most requests one client run makes (its latency histogram is bounded anyway; this bounds its send-time queues). */
const MAX_REQUESTS = 1_000_000;
const MAX_RATE = 10_000_000;

/** A positive integer up to `max` (a count or a rate). */
function countSpec(what: string, max: number): OptionSpec {
  return { what, parse: (t) => (/^\d{1,9}$/.test(t) && Number(t) >= 1 && Number(t) <= max ? Number(t) : undefined) };
}

// ---- rr-server: one event loop; per request a pread of one block (O_DIRECT), then the response -----

const SERVER_OPTS = { file: PATH, bs: BYTES, request: BYTES };

function* rrServer(k: Kernel, t: Task, p: Parsed, out: CommandOutput): Generator<number, CommandResult, void> {
  const port = parsePort(p.operands[0]!)!;
  const path = str(p, 'file')!;
  const bs = num(p, 'bs', 4 * KiB);
  const requestBytes = num(p, 'request', 64);
  const rng = k.rng.fork();
  // the receive buffer, then the block buffer (page aligned, as O_DIRECT needs)
  const mem = yield* programMemory(k, t, RECV_BYTES + bs);
  const blockBuf = mem.buf + RECV_BYTES;
  const fd = yield* sysOpenat(k, t, AT_FDCWD, path, O.RDONLY | O.DIRECT, 0);
  if (fd < 0) return fail(out, 'rr-server', `open ${path}`, fd);
  const sizeBytes = yield* sysLseek(k, t, fd, 0, SEEK.END);
  if (sizeBytes < bs) return fail(out, 'rr-server', `${path} is smaller than one block`, sizeBytes < 0 ? sizeBytes : -EINVAL);
  const blocks = Math.floor(sizeBytes / bs);
  const lfd = yield* listenOn(k, t, mem, port, true);
  if (lfd < 0) return fail(out, 'rr-server', `listen on port ${port}`, lfd);
  const ep = yield* sysEpollCreate1(k, t, 0);
  yield* sysEpollCtl(k, t, ep, EPOLL_CTL.ADD, lfd, { events: EPOLL.IN, data: lfd }, mem.scratch);
  out.print(`rr-server: listening on 0.0.0.0:${port}, ${requestBytes}-byte requests, each a ${bs}-byte O_DIRECT pread of ${path}\n`);
  // per connection: bytes of a request not yet complete, requests answered
  const conns = new Map<number, { partialBytes: number; served: number }>();
  const events: EpollEvent[] = [];
  for (;;) {
    events.length = 0;
    const n = yield* sysEpollWait(k, t, ep, events, 64, -1, mem.scratch);
    if (n < 0) return fail(out, 'rr-server', 'epoll_wait', n);
    for (const ev of events) {
      if (ev.data === lfd) {
        for (;;) {
          // blocking connections: epoll says when a request is there; a response write may wait for room
          const conn = yield* sysAccept4(k, t, lfd, 0, 0, 0);
          if (conn < 0) break;
          if (conns.size >= MAX_CONNECTIONS) {
            yield* sysClose(k, t, conn);
            continue;
          }
          // a small response goes out at once, not held by Nagle for the last one's ACK (memcached does the same)
          yield* sysSetsockopt(k, t, conn, SOL_TCP, TCP_NODELAY, 1);
          conns.set(conn, { partialBytes: 0, served: 0 });
          yield* sysEpollCtl(k, t, ep, EPOLL_CTL.ADD, conn, { events: EPOLL.IN, data: conn }, mem.scratch);
        }
        continue;
      }
      const conn = ev.data;
      const c = conns.get(conn);
      if (c === undefined) continue;
      const r = yield* sysRecvfrom(k, t, conn, mem.buf, RECV_BYTES);
      if (r === -EAGAIN) continue;
      if (r <= 0) {
        out.print(`rr-server: connection ${conn} closed after ${c.served} requests\n`);
        conns.delete(conn);
        yield* sysClose(k, t, conn);
        continue;
      }
      c.partialBytes += r;
      while (c.partialBytes >= requestBytes) {
        c.partialBytes -= requestBytes;
        const offset = rng.int(blocks) * bs;
        const got = yield* sysPread64(k, t, fd, blockBuf, bs, offset);
        if (got < 0) return fail(out, 'rr-server', `pread ${path}`, got);
        // the request's own work: parse it, build the response header
        yield USER_IO_OVERHEAD_NS;
        const w = yield* sysSendto(k, t, conn, blockBuf, bs);
        if (w < 0) {
          out.print(`rr-server: write to connection ${conn}: ${strerror(w)}\n`);
          break;
        }
        c.served++;
      }
    }
  }
}

// ---- rr-client: open-loop Poisson arrivals over several connections; latency from send to reply ----

const CLIENT_OPTS = {
  rate: countSpec('requests per second like 5000', MAX_RATE),
  requests: countSpec(`a request count up to ${MAX_REQUESTS}`, MAX_REQUESTS),
  connections: countSpec(`a connection count up to ${MAX_CONNECTIONS}`, MAX_CONNECTIONS),
  request: BYTES,
  response: BYTES,
};

/** The send times of one connection's requests still waiting for their response (a FIFO: replies come in order). */
interface Outstanding {
  readonly fd: number;
  readonly sentNs: number[];
  head: number;
  /** Bytes of the response being received. */
  gotBytes: number;
}

function usText(ns: number): string {
  return `${(ns / 1e3).toFixed(1)} us`;
}

function* rrClient(k: Kernel, t: Task, p: Parsed, out: CommandOutput): Generator<number, CommandResult, void> {
  const ep = parseEndpoint(p.operands[0]!)!;
  const rate = num(p, 'rate', 1000);
  const requests = num(p, 'requests', 1000);
  const connections = num(p, 'connections', 8);
  const requestBytes = num(p, 'request', 64);
  const responseBytes = num(p, 'response', 4 * KiB);
  const rng = k.rng.fork();
  const mem = yield* programMemory(k, t, Math.max(RECV_BYTES, requestBytes));
  const epfd = yield* sysEpollCreate1(k, t, 0);
  const conns: Outstanding[] = [];
  for (let i = 0; i < connections; i++) {
    const fd = yield* connectTo(k, t, mem, ep, false);
    if (fd < 0) return fail(out, 'rr-client', `connect to ${endpointText(ep)}`, fd);
    // each request leaves when sent, as wrk2 and mutilate set it
    yield* sysSetsockopt(k, t, fd, SOL_TCP, TCP_NODELAY, 1);
    conns.push({ fd, sentNs: [], head: 0, gotBytes: 0 });
    yield* sysEpollCtl(k, t, epfd, EPOLL_CTL.ADD, fd, { events: EPOLL.IN, data: i }, mem.scratch);
  }
  const startNs = k.env.nowNs;
  const meanGapNs = NS_PER_S / rate;
  let sent = 0;
  let sendError = 0;

  // the sender: a thread that sleeps to each arrival and sends, whatever the replies are doing
  copyThread(k, t, 'rr-client:send', (st) =>
    (function* sender(): Generator<number, void, void> {
      let dueNs = startNs;
      for (let i = 0; i < requests; i++) {
        dueNs += Math.max(1, Math.round(rng.exponential(meanGapNs)));
        if (dueNs > k.env.nowNs) yield* nanosleep(k, st, dueNs - k.env.nowNs);
        const c = conns[i % connections]!;
        c.sentNs.push(dueNs);
        const w = yield* sysSendto(k, st, c.fd, mem.buf, requestBytes);
        if (w < 0) {
          c.sentNs.pop();
          sendError = w;
          return;
        }
        sent++;
      }
    })(),
  );

  const hist = new LatencyHistogram();
  const events: EpollEvent[] = [];
  while (hist.count < requests && sendError === 0) {
    events.length = 0;
    const n = yield* sysEpollWait(k, t, epfd, events, 64, -1, mem.scratch);
    if (n < 0) return fail(out, 'rr-client', 'epoll_wait', n);
    for (const ev of events) {
      const c = conns[ev.data]!;
      const r = yield* sysRecvfrom(k, t, c.fd, mem.buf, RECV_BYTES);
      if (r === -EAGAIN) continue;
      if (r <= 0) return fail(out, 'rr-client', `connection ${c.fd} closed by the server`, r === 0 ? -ECONNRESET : r);
      c.gotBytes += r;
      while (c.gotBytes >= responseBytes && c.head < c.sentNs.length) {
        c.gotBytes -= responseBytes;
        hist.record(k.env.nowNs - c.sentNs[c.head]!);
        c.head++;
      }
      // a drained FIFO starts over, so a connection's queue holds only what is outstanding
      if (c.head === c.sentNs.length) {
        c.sentNs.length = 0;
        c.head = 0;
      }
    }
    yield USER_IO_OVERHEAD_NS;
  }
  for (const c of conns) yield* sysClose(k, t, c.fd);
  const elapsedNs = k.env.nowNs - startNs;
  if (sendError !== 0) out.print(`rr-client: send after ${sent} requests: ${strerror(sendError)}\n`);
  out.print(
    `rr-client: ${hist.count} requests to ${endpointText(ep)} at ${rate}/s (Poisson) over ${connections} connections in ${msText(elapsedNs)}: ` +
      `${Math.round((hist.count * NS_PER_S) / Math.max(1, elapsedNs))} requests/s\n` +
      `rr-client: latency mean ${usText(hist.meanNs)}, p50 ${usText(hist.percentileNs(50))}, p99 ${usText(hist.percentileNs(99))}, ` +
      `p99.9 ${usText(hist.percentileNs(99.9))}, max ${usText(hist.maxNs)}\n`,
  );
  return { exitStatus: sendError === 0 ? 0 : 1, output: '' };
}

// ---- the table ---------------------------------------------------------------------------------

function serverArgs(args: readonly string[]): Parsed | string {
  const p = withPort(SERVER_OPTS)(args);
  if (typeof p === 'string') return p;
  if (!p.opts.has('file')) return 'needs --file PATH';
  // O_DIRECT reads whole logical blocks
  return num(p, 'bs', 4 * KiB) % 512 === 0 ? p : `--bs must be a multiple of 512 for O_DIRECT (got ${num(p, 'bs', 0)})`;
}

function clientArgs(args: readonly string[]): Parsed | string {
  return withEndpoint(CLIENT_OPTS)(args);
}

/** The request/response service and its load generator, for core/userspace/commands.ts. */
export const RR_PROGRAMS: readonly UserCommand[] = [
  parsedCommand('rr-server', 'rr-server PORT --file PATH [--bs SIZE] [--request SIZE]', serverArgs, rrServer),
  parsedCommand('rr-client', 'rr-client ADDR:PORT [--rate REQ/S] [--requests N] [--connections N] [--request SIZE] [--response SIZE]', clientArgs, rrClient),
];
