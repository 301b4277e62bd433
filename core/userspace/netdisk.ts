// Models: a program that stores a file arriving over the network on a disk, as the seed's double
// buffering example tells it (a row of core/userspace/commands.ts's table): `recv-to-disk` accepts
// one connection, receives into a buffer until it is full, then asks for the buffer to be written
// to the file (Linux native AIO, io_submit, as libaio programs do) and goes on receiving into the
// next free buffer. With one buffer there is no next one: it waits (io_getevents) for the write to
// finish before it receives again, the socket's receive queue fills meanwhile, the advertised
// window closes and the sender stalls. With two, the network fills one buffer while the disk
// writes the other. It prints the bytes and throughput, the time it spent in recv() and in
// io_submit() (an O_DIRECT write builds its bios there), the time it waited for a free buffer
// (the producer's stall) and the time no write was in flight (the disk idle). Only O_DIRECT writes
// are asynchronous under native AIO; buffered ones copy into the page cache inside io_submit (the
// page cache is then the second buffer, and writeback the consumer).
// SIMPLIFICATION: completions are noticed at the next recv() (io_getevents with a zero timeout
// after each one) or when the program waits for a buffer, so the idle time it reports starts at
// that moment, not at the interrupt; a bpftrace script on block_rq_complete sees the exact time.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { USER_IO_OVERHEAD_NS } from '../hw/cpu.js';
import { sysClose, sysFdatasync, sysOpenat, AT_FDCWD } from '../fs/open.js';
import { sysPwrite64 } from '../fs/read_write.js';
import { sysFcntl, F_GETFL, F_SETFL } from '../fs/fcntl.js';
import { IOCB_CMD, sysIoDestroy, sysIoGetevents, sysIoSetup, sysIoSubmit, type IoEvent } from '../fs/aio.js';
import { O } from '../fs/types.js';
import { sysAccept4, sysRecvfrom, sysSetsockopt } from '../net/socket.js';
import { SO, SOL_SOCKET } from '../net/sock.js';
import { strerror } from '../uapi/errno.js';
import { parsedCommand, type CommandOutput, type CommandResult, type UserCommand } from './commands.js';
import { BYTES, MAX_BUFFER_BYTES, PATH, fail, listenOn, msText, num, parsePort, programMemory, str, withPort, type OptionSpec } from './netprogs.js';

/** The most buffers the program rotates through. */
const MAX_BUFFERS = 16;
/**
 * What an O_DIRECT write's buffer, length and offset must be a multiple of: a 4 KiB logical block
 * covers every disk the machine may have (statx's STATX_DIOALIGN would give the exact figure).
 */
const DIO_ALIGN_BYTES = 4096;
const BUFFERS: OptionSpec = { what: `a count 1-${MAX_BUFFERS}`, parse: (t) => (/^\d{1,2}$/.test(t) && Number(t) >= 1 && Number(t) <= MAX_BUFFERS ? Number(t) : undefined) };
const RECV_TO_DISK_OPTS = { file: PATH, buffers: BUFFERS, 'buffer-size': BYTES, rcvbuf: BYTES };

interface RecvToDiskArgs {
  readonly port: number;
  readonly path: string;
  readonly buffers: number;
  readonly bufferBytes: number;
  /** SO_RCVBUF on the listening socket (the accepted one inherits it); 0: tcp_rmem's autotuning. */
  readonly rcvbufBytes: number;
  readonly direct: boolean;
}

function recvToDiskArgs(args: readonly string[]): RecvToDiskArgs | string {
  // --direct is a flag (as dd's oflag=direct), the rest are --name value options
  const direct = args.includes('--direct');
  const p = withPort(RECV_TO_DISK_OPTS)(args.filter((a) => a !== '--direct'));
  if (typeof p === 'string') return p;
  const path = str(p, 'file');
  if (path === undefined) return 'needs --file PATH';
  const buffers = num(p, 'buffers', 2);
  const bufferBytes = num(p, 'buffer-size', 1024 * 1024);
  if (buffers * bufferBytes > MAX_BUFFER_BYTES) return `--buffers x --buffer-size must be at most ${MAX_BUFFER_BYTES} bytes (got ${buffers} x ${bufferBytes})`;
  if (direct && bufferBytes % DIO_ALIGN_BYTES !== 0) return `with --direct, --buffer-size must be a multiple of ${DIO_ALIGN_BYTES} (got ${bufferBytes})`;
  return { port: parsePort(p.operands[0]!)!, path, buffers, bufferBytes, rcvbufBytes: num(p, 'rcvbuf', 0), direct };
}

function mbPerS(bytes: number, ns: number): string {
  return ns > 0 ? `${((bytes * 1e3) / ns).toFixed(1)} MB/s` : '-';
}

function* recvToDisk(k: Kernel, t: Task, a: RecvToDiskArgs, out: CommandOutput): Generator<number, CommandResult, void> {
  const name = 'recv-to-disk';
  const size = a.bufferBytes;
  const mem = yield* programMemory(k, t, a.buffers * size);
  const fileFd = yield* sysOpenat(k, t, AT_FDCWD, a.path, O.WRONLY | O.CREAT | O.TRUNC | (a.direct ? O.DIRECT : 0), 0o644);
  if (fileFd < 0) return fail(out, name, `open ${a.path}`, fileFd);
  const aio = { ctxId: 0 };
  const s = yield* sysIoSetup(k, t, a.buffers, aio);
  if (s < 0) return fail(out, name, 'io_setup', s);
  const lfd = yield* listenOn(k, t, mem, a.port, false);
  if (lfd < 0) return fail(out, name, `listen on port ${a.port}`, lfd);
  if (a.rcvbufBytes > 0) yield* sysSetsockopt(k, t, lfd, SOL_SOCKET, SO.RCVBUF, a.rcvbufBytes);
  out.print(
    `${name}: listening on 0.0.0.0:${a.port}; ${a.buffers} buffer${a.buffers === 1 ? '' : 's'} of ${size} bytes, ` +
      `each written to ${a.path} by io_submit${a.direct ? ' with O_DIRECT' : ''}\n`,
  );
  const conn = yield* sysAccept4(k, t, lfd, 0, 0, 0);
  if (conn < 0) return fail(out, name, 'accept', conn);

  const startNs = k.env.nowNs;
  const free: number[] = [];
  for (let b = 0; b < a.buffers; b++) free.push(b);
  const events: IoEvent[] = [];
  const ioIds: number[] = [];
  let inflight = 0;
  let received = 0;
  let written = 0;
  let writes = 0;
  let recvNs = 0;
  let submitNs = 0;
  let waitFreeNs = 0;
  let diskIdleNs = 0;
  let idleSinceNs = startNs;
  let writeError = 0;

  /** io_getevents: waits for at least minNr completions (0: only what is there) and frees their buffers. */
  function* reap(minNr: number): Generator<number, void, void> {
    events.length = 0;
    const n = yield* sysIoGetevents(k, t, aio.ctxId, minNr, a.buffers, events, minNr === 0 ? 0 : undefined);
    if (n < 0) {
      writeError = n;
      inflight = 0;
      return;
    }
    for (const ev of events) {
      free.push(ev.data);
      inflight--;
      if (ev.res < 0) writeError = ev.res;
      else written += ev.res;
    }
    if (n > 0 && inflight === 0) idleSinceNs = k.env.nowNs;
  }

  let eof = false;
  while (!eof && writeError === 0) {
    if (free.length === 0) {
      // every buffer is being written: nothing to receive into until one is done
      const waitStartNs = k.env.nowNs;
      yield* reap(1);
      waitFreeNs += k.env.nowNs - waitStartNs;
      continue;
    }
    const b = free.shift()!;
    const va = mem.buf + b * size;
    let fill = 0;
    while (fill < size) {
      const recvStartNs = k.env.nowNs;
      const r = yield* sysRecvfrom(k, t, conn, va + fill, size - fill);
      recvNs += k.env.nowNs - recvStartNs;
      yield USER_IO_OVERHEAD_NS;
      if (r <= 0) {
        if (r < 0) out.print(`${name}: recv after ${received + fill} bytes: ${strerror(r)}\n`);
        eof = true;
        break;
      }
      fill += r;
      if (inflight > 0) yield* reap(0);
    }
    received += fill;
    if (fill === 0) {
      free.push(b);
      break;
    }
    if (a.direct && fill % DIO_ALIGN_BYTES !== 0) {
      // the last, short buffer cannot go O_DIRECT: drop the flag for it, as dd oflag=direct does
      while (inflight > 0 && writeError === 0) yield* reap(1);
      const flags = yield* sysFcntl(k, t, fileFd, F_GETFL, 0);
      yield* sysFcntl(k, t, fileFd, F_SETFL, flags & ~O.DIRECT);
      const w = yield* sysPwrite64(k, t, fileFd, va, fill, writes * size);
      if (w < 0) writeError = w;
      else written += w;
      writes++;
      free.push(b);
      continue;
    }
    const submitStartNs = k.env.nowNs;
    const r = yield* sysIoSubmit(k, t, aio.ctxId, [{ data: b, opcode: IOCB_CMD.PWRITE, fd: fileFd, buf: va, nbytes: fill, offset: writes * size }], ioIds);
    submitNs += k.env.nowNs - submitStartNs;
    if (r < 0) {
      writeError = r;
      break;
    }
    if (inflight === 0) diskIdleNs += k.env.nowNs - idleSinceNs;
    inflight++;
    writes++;
  }
  while (inflight > 0 && writeError === 0) yield* reap(1);
  const d = writeError === 0 ? yield* sysFdatasync(k, t, fileFd) : 0;
  const elapsedNs = k.env.nowNs - startNs;
  yield* sysIoDestroy(k, t, aio.ctxId);
  yield* sysClose(k, t, conn);
  yield* sysClose(k, t, lfd);
  yield* sysClose(k, t, fileFd);
  if (writeError < 0) return fail(out, name, `write ${a.path} after ${written} bytes`, writeError);
  if (d < 0) return fail(out, name, `fdatasync ${a.path}`, d);
  out.print(`${name}: received ${received} bytes, wrote ${written} in ${writes} writes, in ${msText(elapsedNs)}: ${mbPerS(written, elapsedNs)}\n`);
  out.print(
    `${name}: in recv() ${msText(recvNs)}, in io_submit() ${msText(submitNs)}, waiting for a free buffer ${msText(waitFreeNs)}, ` +
      // a buffered write is done when its bytes are in the page cache: the disk sees them at writeback
      (a.direct ? `disk idle (no write in flight) ${msText(diskIdleNs)}\n` : 'disk writes at writeback (buffered)\n'),
  );
  return { exitStatus: 0, output: '' };
}

/** recv-to-disk, for core/userspace/commands.ts. */
export const RECV_TO_DISK: UserCommand = parsedCommand(
  'recv-to-disk',
  'recv-to-disk PORT --file PATH [--buffers 1-16] [--buffer-size SIZE] [--rcvbuf BYTES] [--direct]',
  recvToDiskArgs,
  recvToDisk,
);
