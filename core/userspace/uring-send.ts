// Models: two user programs for zero-copy send and its buffer-reuse hazard (rows of
// core/userspace/commands.ts's table). `zc-send ADDR:PORT` sends --count messages of --bs bytes
// from ONE buffer, message i filled with the byte pattern of i, by io_uring IORING_OP_SEND or
// IORING_OP_SEND_ZC (liburing style: SQE, io_uring_enter, CQEs), send(MSG_ZEROCOPY) with
// SO_ZEROCOPY (completions read with recvmsg(MSG_ERRQUEUE) after poll's POLLERR), or write().
// --reuse early refills the buffer for the next message as soon as the send's result is back;
// --reuse notif first waits for the zero-copy notification of that message (the NOTIF CQE, or the
// error-queue range covering its call id). `zc-check PORT` receives and checks every byte against
// the pattern its position in the stream should have, and reports the messages that arrived intact
// and the ones that did not (overwritten before the NIC read them).
// SIMPLIFICATION: user-space work is charged as fixed CPU time per call plus memset time per fill.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { USER_IO_OVERHEAD_NS, copyNs } from '../hw/cpu.js';
import { sysClose, sysMmap } from '../fs/open.js';
import { sysWrite } from '../fs/read_write.js';
import { sysPoll, type PollFd } from '../fs/select.js';
import { MAP, PROT } from '../mm/mmap.js';
import { cmsgSockExtendedErr, putMsghdr, putMsghdrControl, sockaddrInBytes, sysAccept4, sysBind, sysConnect, sysListen, sysRecvfrom, sysRecvmsg, sysSendto, sysSetsockopt, sysSocket } from '../net/socket.js';
import { AF_INET, MSG, SO, SOCK_STREAM, SOL_SOCKET, SO_EE_CODE_ZEROCOPY_COPIED, SO_EE_ORIGIN_ZEROCOPY } from '../net/sock.js';
import { ipv4String } from '../net/netdevice.js';
import { strerror } from '../uapi/errno.js';
import { IORING_CQE_F, IORING_ENTER, IORING_OP, IORING_RECVSEND, ioUringParams, sysIoUringEnter, sysIoUringSetup, type IoRings } from '../io_uring/io_uring.js';
import { parsedCommand, type CommandOutput, type CommandResult, type UserCommand } from './commands.js';
import { BYTES, num, parseArgs, parseEndpoint, str, type Endpoint, type OptionSpec } from './netprogs.js';

const KiB = 1024;
const MODES = ['send', 'send-zc', 'msg-zerocopy', 'write'] as const;
type Mode = (typeof MODES)[number];
const REUSES = ['early', 'notif'] as const;
type Reuse = (typeof REUSES)[number];

/** The byte every position of message `i` holds: 1..251, so a zero (never written) never matches. */
export function messagePattern(i: number): number {
  return (i % 251) + 1;
}

interface SendArgs {
  readonly server: Endpoint;
  readonly mode: Mode;
  readonly bs: number;
  readonly count: number;
  readonly reuse: Reuse;
}

interface CheckArgs {
  readonly port: number;
  readonly bs: number;
}

const oneOf = (values: readonly string[]): OptionSpec => ({ what: values.join(' or '), parse: (t) => (values.includes(t) ? t : undefined) });
const SEND_OPTS: Readonly<Record<string, OptionSpec>> = {
  mode: oneOf(MODES),
  reuse: oneOf(REUSES),
  bs: BYTES,
  count: { what: 'a number of messages 1-999999', parse: (t) => (/^\d{1,6}$/.test(t) && Number(t) > 0 ? Number(t) : undefined) },
};
const CHECK_OPTS: Readonly<Record<string, OptionSpec>> = { bs: BYTES };

function sendArgs(args: readonly string[]): SendArgs | string {
  const p = parseArgs(args, SEND_OPTS, 1, 'one operand, the server to connect to, like 10.0.0.2:9000');
  if (typeof p === 'string') return p;
  const server = parseEndpoint(p.operands[0]!);
  if (server === undefined) return `needs a server address like 10.0.0.2:9000 (got ${JSON.stringify(p.operands[0])})`;
  return { server, mode: (str(p, 'mode') ?? 'send-zc') as Mode, reuse: (str(p, 'reuse') ?? 'notif') as Reuse, bs: num(p, 'bs', 64 * KiB), count: num(p, 'count', 16) };
}

function checkArgs(args: readonly string[]): CheckArgs | string {
  const p = parseArgs(args, CHECK_OPTS, 1, 'one operand, the port to listen on (1-65535)');
  if (typeof p === 'string') return p;
  const portText = p.operands[0]!;
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return `port must be 1-65535 (got ${JSON.stringify(portText)})`;
  return { port: Number(portText), bs: num(p, 'bs', 64 * KiB) };
}

function fail(out: CommandOutput, name: string, what: string, ret: number): CommandResult {
  out.print(`${name}: ${what}: ${strerror(ret)}\n`);
  return { exitStatus: 1, output: '' };
}

function usText(ns: number): string {
  return `${(ns / 1000).toFixed(1)} us`;
}

function* anonBuffer(k: Kernel, t: Task, bytes: number): Generator<number, number, void> {
  return yield* sysMmap(k, t, 0, bytes, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS | MAP.POPULATE, -1, 0);
}

// ---- zc-send --------------------------------------------------------------------------------

/** What the sender saw of each message: when its send returned and when its notification came. */
interface SendTimes {
  readonly resultNs: number[];
  readonly notifNs: number[];
  /** Notifications that said the kernel copied after all. */
  copied: number;
}

/** io_uring_wait_cqe + io_uring_cqe_seen for every CQE there, handing each to `seen`. */
function* reapCqes(k: Kernel, t: Task, ringFd: number, rings: IoRings, wait: boolean, seen: (userData: number, res: number, flags: number) => void): Generator<number, number, void> {
  if (wait && rings.cqReady === 0) {
    const r = yield* sysIoUringEnter(k, t, ringFd, 0, 1, IORING_ENTER.GETEVENTS);
    if (r < 0) return r;
  }
  while (rings.cqReady > 0) {
    const cqe = rings.cqes[rings.cqHead & (rings.cqEntries - 1)]!;
    rings.cqHead++;
    seen(cqe.userData, cqe.res, cqe.flags);
  }
  return 0;
}

function* zcSend(k: Kernel, t: Task, a: SendArgs, out: CommandOutput): Generator<number, CommandResult, void> {
  const buf = yield* anonBuffer(k, t, a.bs);
  const scratch = yield* anonBuffer(k, t, 4 * KiB);
  const content = new Uint8Array(a.bs);
  t.mm!.userBytes.set(buf, content);
  const fd = yield* sysSocket(k, t, AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return fail(out, 'zc-send', 'socket', fd);
  t.mm!.userBytes.set(scratch, sockaddrInBytes(a.server));
  const c = yield* sysConnect(k, t, fd, scratch, 16);
  const where = `${ipv4String(a.server.addr)}:${a.server.port}`;
  if (c < 0) return fail(out, 'zc-send', `connect to ${where}`, c);
  const times: SendTimes = { resultNs: [], notifNs: [], copied: 0 };
  const startNs = k.env.nowNs;
  let err = 0;
  if (a.mode === 'send' || a.mode === 'send-zc') err = yield* sendByUring(k, t, a, fd, buf, content, times);
  else err = yield* sendBySyscalls(k, t, a, fd, buf, scratch, content, times);
  yield* sysClose(k, t, fd);
  if (err < 0) return fail(out, 'zc-send', `${a.mode} after ${times.resultNs.length} messages`, err);
  const elapsed = k.env.nowNs - startNs;
  let line = `zc-send: ${times.resultNs.length} messages of ${a.bs} bytes to ${where} by ${a.mode}, reuse ${a.reuse}, in ${(elapsed / 1e6).toFixed(3)} ms`;
  if (times.notifNs.length > 0) {
    const gaps = times.notifNs.map((n, i) => n - times.resultNs[i]!);
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    line += `; ${times.notifNs.length} notifications (${times.copied} copied), each ${usText(Math.min(...gaps))}..${usText(Math.max(...gaps))} (mean ${usText(mean)}) after its send's result`;
  }
  out.print(`${line}\n`);
  return { exitStatus: 0, output: '' };
}

/** Fill the buffer with message i's pattern (a memset in user space). */
function* fill(content: Uint8Array, i: number): Generator<number, void, void> {
  content.fill(messagePattern(i));
  yield copyNs(content.length);
}

/**
 * SEND / SEND_ZC through a ring: one SQE per message (MSG_WAITALL, so one result for the whole
 * message), a result CQE (F_MORE for SEND_ZC) and, for SEND_ZC, a NOTIF CQE later.
 */
function* sendByUring(k: Kernel, t: Task, a: SendArgs, fd: number, buf: number, content: Uint8Array, times: SendTimes): Generator<number, number, void> {
  const params = ioUringParams();
  const ringFd = yield* sysIoUringSetup(k, t, 8, params);
  if (ringFd < 0) return ringFd;
  const rings = params.rings!;
  const zc = a.mode === 'send-zc';
  let err = 0;
  const seen = (userData: number, res: number, flags: number): void => {
    if ((flags & IORING_CQE_F.NOTIF) !== 0) {
      times.notifNs[userData] = k.env.nowNs;
      if (res !== 0) times.copied++;
      return;
    }
    if (res < 0 && err === 0) err = res;
    times.resultNs[userData] = k.env.nowNs;
  };
  for (let i = 0; i < a.count && err === 0; i++) {
    yield* fill(content, i);
    const sqe = rings.sqes[rings.sqTail & (rings.sqEntries - 1)]!;
    sqe.opcode = zc ? IORING_OP.SEND_ZC : IORING_OP.SEND;
    sqe.flags = 0;
    sqe.fd = fd;
    sqe.addr = buf;
    sqe.len = a.bs;
    sqe.off = 0;
    sqe.opFlags = MSG.WAITALL;
    sqe.ioprio = zc ? IORING_RECVSEND.SEND_ZC_REPORT_USAGE : 0;
    sqe.userData = i;
    sqe.bufIndex = 0;
    sqe.ioId = 0;
    rings.sqTail++;
    yield USER_IO_OVERHEAD_NS;
    const r = yield* sysIoUringEnter(k, t, ringFd, 1, 0, 0);
    if (r < 0) return r;
    // the result first; with --reuse notif also the notification that the buffer is free again
    while (err === 0 && (times.resultNs[i] === undefined || (zc && a.reuse === 'notif' && times.notifNs[i] === undefined))) {
      const w = yield* reapCqes(k, t, ringFd, rings, true, seen);
      if (w < 0) return w;
    }
  }
  // every notification before the buffer goes away
  while (zc && err === 0 && times.notifNs.filter((n) => n !== undefined).length < times.resultNs.length) {
    const w = yield* reapCqes(k, t, ringFd, rings, true, seen);
    if (w < 0) return w;
  }
  yield* sysClose(k, t, ringFd);
  return err;
}

/** send(MSG_ZEROCOPY) with its error-queue completions, or plain write(). */
function* sendBySyscalls(k: Kernel, t: Task, a: SendArgs, fd: number, buf: number, scratch: number, content: Uint8Array, times: SendTimes): Generator<number, number, void> {
  const zc = a.mode === 'msg-zerocopy';
  const msgVa = scratch + 64;
  const controlVa = scratch + 512;
  if (zc) {
    const r = yield* sysSetsockopt(k, t, fd, SOL_SOCKET, SO.ZEROCOPY, 1);
    if (r < 0) return r;
    putMsghdr(t, msgVa, scratch + 256, []);
    putMsghdrControl(t, msgVa, controlVa, 128);
  }
  /** Reads what the error queue holds; with `block`, first waits for POLLERR. */
  function* completions(block: boolean): Generator<number, number, void> {
    if (block) {
      const pfd: PollFd[] = [{ fd, events: 0, revents: 0 }];
      const p = yield* sysPoll(k, t, pfd, 1, -1, scratch + 1024);
      if (p < 0) return p;
    }
    for (;;) {
      putMsghdrControl(t, msgVa, controlVa, 128);
      const r = yield* sysRecvmsg(k, t, fd, msgVa, MSG.ERRQUEUE);
      if (r < 0) return 0;
      const serr = cmsgSockExtendedErr(t, controlVa);
      if (serr === undefined || serr.eeOrigin !== SO_EE_ORIGIN_ZEROCOPY) continue;
      for (let id = serr.eeInfo; id <= serr.eeData; id++) {
        times.notifNs[id] = k.env.nowNs;
        if ((serr.eeCode & SO_EE_CODE_ZEROCOPY_COPIED) !== 0) times.copied++;
      }
    }
  }
  for (let i = 0; i < a.count; i++) {
    yield* fill(content, i);
    const n = zc ? yield* sysSendto(k, t, fd, buf, a.bs, MSG.ZEROCOPY) : yield* sysWrite(k, t, fd, buf, a.bs);
    yield USER_IO_OVERHEAD_NS;
    if (n < 0) return n;
    times.resultNs[i] = k.env.nowNs;
    if (!zc) continue;
    const c = yield* completions(false);
    if (c < 0) return c;
    while (a.reuse === 'notif' && times.notifNs[i] === undefined) {
      const w = yield* completions(true);
      if (w < 0) return w;
    }
  }
  while (zc && times.notifNs.filter((n) => n !== undefined).length < a.count) {
    const w = yield* completions(true);
    if (w < 0) return w;
  }
  return 0;
}

// ---- zc-check ---------------------------------------------------------------------------------

function* zcCheck(k: Kernel, t: Task, a: CheckArgs, out: CommandOutput): Generator<number, CommandResult, void> {
  const bufBytes = 64 * KiB;
  const buf = yield* anonBuffer(k, t, bufBytes);
  const scratch = yield* anonBuffer(k, t, 4 * KiB);
  const lfd = yield* sysSocket(k, t, AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) return fail(out, 'zc-check', 'socket', lfd);
  t.mm!.userBytes.set(scratch, sockaddrInBytes({ addr: 0, port: a.port }));
  const b = yield* sysBind(k, t, lfd, scratch, 16);
  if (b < 0) return fail(out, 'zc-check', `bind port ${a.port}`, b);
  const l = yield* sysListen(k, t, lfd, 16);
  if (l < 0) return fail(out, 'zc-check', 'listen', l);
  out.print(`zc-check: listening on 0.0.0.0:${a.port}, messages of ${a.bs} bytes\n`);
  for (;;) {
    const fd = yield* sysAccept4(k, t, lfd, 0, 0, 0);
    if (fd < 0) return fail(out, 'zc-check', 'accept', fd);
    let pos = 0;
    /** Per message: how many of its bytes differ from its pattern. */
    const wrong: number[] = [];
    for (;;) {
      const n = yield* sysRecvfrom(k, t, fd, buf, bufBytes);
      yield USER_IO_OVERHEAD_NS;
      if (n <= 0) break;
      const got = t.mm!.userBytes.get(buf);
      for (let i = 0; i < n; i++, pos++) {
        const msg = Math.floor(pos / a.bs);
        wrong[msg] ??= 0;
        if (got === undefined || got[i] !== messagePattern(msg)) wrong[msg]++;
      }
      yield copyNs(n);
    }
    yield* sysClose(k, t, fd);
    const bad = wrong.filter((w) => w > 0);
    const badList = wrong.flatMap((w, i) => (w > 0 ? [i] : [])).slice(0, 8);
    out.print(
      `zc-check: connection closed after ${pos} bytes: ${wrong.length - bad.length} of ${wrong.length} messages intact, ${bad.length} corrupted` +
        (bad.length > 0 ? ` (${bad.reduce((s, w) => s + w, 0)} bytes differ; messages ${badList.join(', ')}${bad.length > badList.length ? ', ...' : ''})` : '') +
        '\n',
    );
  }
}

/** The programs, for core/userspace/commands.ts. */
export const URING_SEND_PROGRAMS: readonly UserCommand[] = [
  parsedCommand('zc-send', 'zc-send ADDR:PORT [--mode send|send-zc|msg-zerocopy|write] [--bs SIZE] [--count N] [--reuse early|notif]', sendArgs, zcSend),
  parsedCommand('zc-check', 'zc-check PORT [--bs SIZE]', checkArgs, zcCheck),
];
