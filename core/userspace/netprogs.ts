// Models: the network programs a scenario event starts on a machine, as a shell would start a
// daemon or a load generator (rows of core/userspace/commands.ts's table): `sink` (a server that
// reads what its clients send, optionally slowly: a slow upstream), `client` (a sender, at a
// rate or as fast as the connection takes), `proxy` (a single-threaded, non-blocking
// store-and-forward relay in the style of an nginx worker: it logs every byte it receives to a
// file with buffered write() and forwards from that log to its upstream as the upstream's socket
// takes it), `file-server` (serves a file to each connection with read()+write() or sendfile()),
// and `fetch` (connects, reads to the end). They are user space only: every effect they have on
// the machine goes through syscalls, so what a script sees is what these programs ask of the
// kernel. Each prints what a real tool would log (start, each connection's end, totals).
// SIMPLIFICATION: addresses are IPv4 literals (or localhost); no name resolution.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { USER_IO_OVERHEAD_NS } from '../hw/cpu.js';
import { nanosleep } from '../kernel/time/timer.js';
import { sysClose, sysMmap, sysOpenat, AT_FDCWD } from '../fs/open.js';
import { sysPread64, sysRead, sysWrite } from '../fs/read_write.js';
import { sysSendfile64 } from '../fs/splice.js';
import { EPOLL, O } from '../fs/types.js';
import { sysEpollCreate1, sysEpollCtl, sysEpollWait, EPOLL_CTL, type EpollEvent } from '../fs/eventpoll.js';
import { MAP, PROT } from '../mm/mmap.js';
import { sockaddrInBytes, sysAccept4, sysBind, sysConnect, sysListen, sysRecvfrom, sysSendto, sysSocket } from '../net/socket.js';
import { AF_INET, SOCK_NONBLOCK, SOCK_STREAM } from '../net/sock.js';
import { ipv4, ipv4String } from '../net/netdevice.js';
import { EAGAIN, EINPROGRESS } from '../uapi/errno.js';
import { strerror } from '../uapi/errno.js';
import { parsedCommand, type CommandOutput, type CommandResult, type UserCommand } from './commands.js';

const KiB = 1024;
const NS_PER_S = 1_000_000_000;
/** The most a program's buffer may be (a user-sized allocation has a ceiling). */
export const MAX_BUFFER_BYTES = 64 * 1024 * KiB;
/** How many connections a server keeps open at once. */
export const MAX_CONNECTIONS = 1024;

// ---- argument parsing (load-time checks and run-time values are the same function) -------------

/** `64k`, `1m`, `4096`: bytes (K, M, G are 1024-based, as fio and dd read them). */
export function parseBytes(text: string): number | undefined {
  const m = /^(\d+)([kKmMgG]?)$/.exec(text);
  if (m === null) return undefined;
  const mult = { '': 1, k: KiB, m: KiB ** 2, g: KiB ** 3 }[m[2]!.toLowerCase()]!;
  const n = Number(m[1]) * mult;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** `10ms`, `1s`, `250us`, `100ns`: nanoseconds. */
export function parseNs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s)$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]) * { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[m[2] as 'ns' | 'us' | 'ms' | 's'];
  return Number.isSafeInteger(Math.round(n)) ? Math.round(n) : undefined;
}

export interface Endpoint {
  readonly addr: number;
  readonly port: number;
}

/** `10.0.0.2:9000`, `localhost:9000`. */
export function parseEndpoint(text: string): Endpoint | undefined {
  const m = /^(localhost|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  if (m[1] !== 'localhost' && m[1]!.split('.').some((p) => Number(p) > 255)) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { addr: m[1] === 'localhost' ? ipv4('127.0.0.1') : ipv4(m[1]!), port };
}

export function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** One option a program takes: its name (`--bs`) and how its value reads. */
export interface OptionSpec {
  readonly what: string;
  readonly parse: (text: string) => number | string | undefined;
}

export type Parsed = { readonly opts: ReadonlyMap<string, number | string>; readonly operands: readonly string[] };

export const BYTES: OptionSpec = { what: 'a size like 64k', parse: (t) => { const n = parseBytes(t); return n !== undefined && n > 0 && n <= MAX_BUFFER_BYTES ? n : undefined; } };
const RATE: OptionSpec = { what: 'bytes per second like 10m', parse: (t) => { const n = parseBytes(t); return n !== undefined && n > 0 ? n : undefined; } };
const COUNT: OptionSpec = { what: 'a size like 1g', parse: (t) => { const n = parseBytes(t); return n !== undefined && n > 0 ? n : undefined; } };
const OFFSET: OptionSpec = { what: 'a byte offset', parse: (t) => parseBytes(t) };
export const PATH: OptionSpec = { what: 'an absolute path', parse: (t) => (/^\/[^\s]*$/.test(t) && !t.split('/').includes('..') ? t : undefined) };
const ENDPOINT: OptionSpec = { what: 'an address like 10.0.0.2:9000', parse: (t) => (parseEndpoint(t) !== undefined ? t : undefined) };
const PORT: OptionSpec = { what: 'a port 1-65535', parse: (t) => parsePort(t) };
const MODE: OptionSpec = { what: 'rw or sendfile', parse: (t) => (t === 'rw' || t === 'sendfile' ? t : undefined) };

/** GNU-style `--name value` / `--name=value` options and operands; a string is the problem. */
export function parseArgs(args: readonly string[], specs: Readonly<Record<string, OptionSpec>>, operandCount: number, operandWhat: string): Parsed | string {
  const opts = new Map<string, number | string>();
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      operands.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const spec = specs[name];
    if (spec === undefined) return `has no option --${name} (options: ${Object.keys(specs).map((s) => `--${s}`).join(', ') || 'none'})`;
    const text = eq < 0 ? args[++i] : a.slice(eq + 1);
    if (text === undefined) return `--${name} needs ${spec.what}`;
    const v = spec.parse(text);
    if (v === undefined) return `--${name} must be ${spec.what} (got ${JSON.stringify(text)})`;
    opts.set(name, v);
  }
  if (operands.length !== operandCount) return `takes ${operandWhat}`;
  return { opts, operands };
}

export function num(p: Parsed, name: string, dflt: number): number {
  const v = p.opts.get(name);
  return typeof v === 'number' ? v : dflt;
}
export function str(p: Parsed, name: string): string | undefined {
  const v = p.opts.get(name);
  return typeof v === 'string' ? v : undefined;
}

// ---- what the programs share: buffers, addresses, listening and connecting ----------------------

/** A program's memory: one data buffer and a scratch page for sockaddrs and epoll events. */
export interface ProgramMemory {
  readonly buf: number;
  readonly scratch: number;
}

export function* programMemory(k: Kernel, t: Task, bufBytes: number): Generator<number, ProgramMemory, void> {
  const buf = yield* sysMmap(k, t, 0, bufBytes, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS | MAP.POPULATE, -1, 0);
  const scratch = yield* sysMmap(k, t, 0, 4 * KiB, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS | MAP.POPULATE, -1, 0);
  return { buf, scratch };
}

/** Puts a sockaddr_in in the scratch page and returns its address. */
function sockaddr(t: Task, mem: ProgramMemory, ep: Endpoint): number {
  t.mm!.userBytes.set(mem.scratch, sockaddrInBytes(ep));
  return mem.scratch;
}

/** socket + bind 0.0.0.0:port + listen; the listening fd or -errno. */
export function* listenOn(k: Kernel, t: Task, mem: ProgramMemory, port: number, nonblock: boolean): Generator<number, number, void> {
  const fd = yield* sysSocket(k, t, AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return fd;
  const b = yield* sysBind(k, t, fd, sockaddr(t, mem, { addr: 0, port }), 16);
  if (b < 0) return b;
  const l = yield* sysListen(k, t, fd, 511);
  return l < 0 ? l : fd;
}

/** socket + connect (a blocking connect, or one in progress for a non-blocking socket). */
export function* connectTo(k: Kernel, t: Task, mem: ProgramMemory, ep: Endpoint, nonblock: boolean): Generator<number, number, void> {
  const fd = yield* sysSocket(k, t, AF_INET, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return fd;
  const r = yield* sysConnect(k, t, fd, sockaddr(t, mem, ep), 16);
  return r < 0 && r !== -EINPROGRESS ? r : fd;
}

export function endpointText(ep: Endpoint): string {
  return `${ipv4String(ep.addr)}:${ep.port}`;
}

export function msText(ns: number): string {
  return `${(ns / 1e6).toFixed(3)} ms`;
}

export function fail(out: CommandOutput, name: string, what: string, ret: number): CommandResult {
  out.print(`${name}: ${what}: ${strerror(ret)}\n`);
  return { exitStatus: 1, output: '' };
}

// ---- sink: read everything every client sends, optionally at a limited rate --------------------

const SINK_OPTS = { bs: BYTES, rate: RATE };

function* sink(k: Kernel, t: Task, p: Parsed, out: CommandOutput): Generator<number, CommandResult, void> {
  const port = parsePort(p.operands[0]!)!;
  const bs = num(p, 'bs', 64 * KiB);
  const rate = num(p, 'rate', 0);
  const mem = yield* programMemory(k, t, bs);
  const lfd = yield* listenOn(k, t, mem, port, true);
  if (lfd < 0) return fail(out, 'sink', `listen on port ${port}`, lfd);
  const ep = yield* sysEpollCreate1(k, t, 0);
  yield* sysEpollCtl(k, t, ep, EPOLL_CTL.ADD, lfd, { events: EPOLL.IN, data: lfd }, mem.scratch);
  out.print(`sink: listening on 0.0.0.0:${port}${rate > 0 ? `, reading at most ${rate} bytes/s` : ''}\n`);
  const received = new Map<number, number>();
  const events: EpollEvent[] = [];
  for (;;) {
    events.length = 0;
    const n = yield* sysEpollWait(k, t, ep, events, 64, -1, mem.scratch);
    if (n < 0) return fail(out, 'sink', 'epoll_wait', n);
    for (const ev of events) {
      if (ev.data === lfd) {
        for (;;) {
          const fd = yield* sysAccept4(k, t, lfd, 0, 0, SOCK_NONBLOCK);
          if (fd < 0) break;
          if (received.size >= MAX_CONNECTIONS) {
            yield* sysClose(k, t, fd);
            continue;
          }
          received.set(fd, 0);
          yield* sysEpollCtl(k, t, ep, EPOLL_CTL.ADD, fd, { events: EPOLL.IN, data: fd }, mem.scratch);
        }
        continue;
      }
      const fd = ev.data;
      const r = yield* sysRecvfrom(k, t, fd, mem.buf, bs);
      yield USER_IO_OVERHEAD_NS;
      if (r === -EAGAIN) continue;
      if (r <= 0) {
        out.print(`sink: connection ${fd} closed after ${received.get(fd) ?? 0} bytes\n`);
        received.delete(fd);
        yield* sysClose(k, t, fd);
        continue;
      }
      received.set(fd, (received.get(fd) ?? 0) + r);
      // a slow consumer: the time this much data takes at its rate
      if (rate > 0) yield* nanosleep(k, t, Math.round((r * NS_PER_S) / rate));
    }
  }
}

// ---- client: send to a server, at a rate or as fast as the connection takes ---------------------

const CLIENT_OPTS = { bs: BYTES, rate: RATE, size: COUNT };

function* client(k: Kernel, t: Task, p: Parsed, out: CommandOutput): Generator<number, CommandResult, void> {
  const ep = parseEndpoint(p.operands[0]!)!;
  const bs = num(p, 'bs', 64 * KiB);
  const rate = num(p, 'rate', 0);
  const size = num(p, 'size', Infinity);
  const mem = yield* programMemory(k, t, bs);
  const fd = yield* connectTo(k, t, mem, ep, false);
  if (fd < 0) return fail(out, 'client', `connect to ${endpointText(ep)}`, fd);
  const startNs = k.env.nowNs;
  let sent = 0;
  while (sent < size) {
    const n = yield* sysSendto(k, t, fd, mem.buf, Math.min(bs, size - sent));
    yield USER_IO_OVERHEAD_NS;
    if (n < 0) {
      out.print(`client: send after ${sent} bytes: ${strerror(n)}\n`);
      break;
    }
    sent += n;
    if (rate > 0) {
      // pace to the rate: sleep until the time these bytes are due
      const dueNs = startNs + Math.round((sent * NS_PER_S) / rate);
      if (dueNs > k.env.nowNs) yield* nanosleep(k, t, dueNs - k.env.nowNs);
    }
  }
  yield* sysClose(k, t, fd);
  out.print(`client: sent ${sent} bytes to ${endpointText(ep)} in ${msText(k.env.nowNs - startNs)}\n`);
  return { exitStatus: 0, output: '' };
}

// ---- proxy: non-blocking event loop; log every byte to a file, forward from the log ------------

const PROXY_OPTS = { listen: PORT, upstream: ENDPOINT, log: PATH, bs: BYTES };

function* proxy(k: Kernel, t: Task, p: Parsed, out: CommandOutput): Generator<number, CommandResult, void> {
  const port = num(p, 'listen', 0);
  const upstream = parseEndpoint(str(p, 'upstream')!)!;
  const logPath = str(p, 'log')!;
  const bs = num(p, 'bs', 16 * KiB);
  const mem = yield* programMemory(k, t, bs);
  const logFd = yield* sysOpenat(k, t, AT_FDCWD, logPath, O.RDWR | O.CREAT | O.TRUNC, 0o644);
  if (logFd < 0) return fail(out, 'proxy', `open ${logPath}`, logFd);
  const up = yield* connectTo(k, t, mem, upstream, true);
  if (up < 0) return fail(out, 'proxy', `connect to ${endpointText(upstream)}`, up);
  const lfd = yield* listenOn(k, t, mem, port, true);
  if (lfd < 0) return fail(out, 'proxy', `listen on port ${port}`, lfd);
  const ep = yield* sysEpollCreate1(k, t, 0);
  yield* sysEpollCtl(k, t, ep, EPOLL_CTL.ADD, lfd, { events: EPOLL.IN, data: lfd }, mem.scratch);
  // the upstream is watched for room only while there is a backlog to forward
  yield* sysEpollCtl(k, t, ep, EPOLL_CTL.ADD, up, { events: EPOLL.OUT, data: up }, mem.scratch);
  out.print(`proxy: listening on 0.0.0.0:${port}, forwarding to ${endpointText(upstream)}, logging to ${logPath}\n`);
  let logged = 0;
  let forwarded = 0;
  let watchingUp = true;
  const clients = new Set<number>();
  const events: EpollEvent[] = [];

  /** Sends what the log holds beyond what went upstream, until the upstream's socket is full. */
  function* forward(): Generator<number, void, void> {
    while (forwarded < logged) {
      const n = Math.min(bs, logged - forwarded);
      const r = yield* sysPread64(k, t, logFd, mem.buf, n, forwarded);
      if (r <= 0) return;
      const s = yield* sysSendto(k, t, up, mem.buf, r);
      yield USER_IO_OVERHEAD_NS;
      if (s === -EAGAIN) {
        if (!watchingUp) {
          yield* sysEpollCtl(k, t, ep, EPOLL_CTL.MOD, up, { events: EPOLL.OUT, data: up }, mem.scratch);
          watchingUp = true;
        }
        return;
      }
      if (s < 0) return;
      forwarded += s;
    }
    if (watchingUp) {
      yield* sysEpollCtl(k, t, ep, EPOLL_CTL.MOD, up, { events: 0, data: up }, mem.scratch);
      watchingUp = false;
    }
  }

  for (;;) {
    events.length = 0;
    const n = yield* sysEpollWait(k, t, ep, events, 64, -1, mem.scratch);
    if (n < 0) return fail(out, 'proxy', 'epoll_wait', n);
    for (const ev of events) {
      if (ev.data === lfd) {
        for (;;) {
          const fd = yield* sysAccept4(k, t, lfd, 0, 0, SOCK_NONBLOCK);
          if (fd < 0) break;
          clients.add(fd);
          yield* sysEpollCtl(k, t, ep, EPOLL_CTL.ADD, fd, { events: EPOLL.IN, data: fd }, mem.scratch);
        }
      } else if (ev.data === up) {
        yield* forward();
      } else {
        const fd = ev.data;
        const r = yield* sysRecvfrom(k, t, fd, mem.buf, bs);
        yield USER_IO_OVERHEAD_NS;
        if (r === -EAGAIN) continue;
        if (r <= 0) {
          clients.delete(fd);
          yield* sysClose(k, t, fd);
          continue;
        }
        // the log write is buffered: it returns once the bytes are in the page cache, unless
        // balance_dirty_pages makes this whole event loop wait for writeback
        const w = yield* sysWrite(k, t, logFd, mem.buf, r);
        if (w < 0) return fail(out, 'proxy', `write ${logPath}`, w);
        logged += w;
        // a full upstream is retried only when epoll says it has room (as an nginx worker waits
        // for EPOLLOUT), not after every client read
        if (!watchingUp) yield* forward();
      }
    }
  }
}

// ---- file-server: serve a file to each connection, by read()+write() or sendfile() -------------

const FILE_SERVER_OPTS = { file: PATH, mode: MODE, bs: BYTES, offset: OFFSET };

function* fileServer(k: Kernel, t: Task, p: Parsed, out: CommandOutput): Generator<number, CommandResult, void> {
  const port = parsePort(p.operands[0]!)!;
  const path = str(p, 'file')!;
  const mode = str(p, 'mode') ?? 'rw';
  const bs = num(p, 'bs', 64 * KiB);
  const offset = num(p, 'offset', 0);
  const mem = yield* programMemory(k, t, bs);
  const lfd = yield* listenOn(k, t, mem, port, false);
  if (lfd < 0) return fail(out, 'file-server', `listen on port ${port}`, lfd);
  out.print(`file-server: serving ${path} from byte ${offset} on 0.0.0.0:${port} by ${mode === 'rw' ? 'read()+write()' : 'sendfile()'}\n`);
  for (;;) {
    const conn = yield* sysAccept4(k, t, lfd, 0, 0, 0);
    if (conn < 0) return fail(out, 'file-server', 'accept', conn);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, path, O.RDONLY, 0);
    if (fd < 0) return fail(out, 'file-server', `open ${path}`, fd);
    const startNs = k.env.nowNs;
    let sent = 0;
    let pos = offset;
    for (;;) {
      let n: number;
      if (mode === 'sendfile') {
        const off = { value: pos };
        n = yield* sysSendfile64(k, t, conn, fd, off, bs);
      } else {
        const r = yield* sysPread64(k, t, fd, mem.buf, bs, pos);
        n = r <= 0 ? r : yield* sysWrite(k, t, conn, mem.buf, r);
      }
      yield USER_IO_OVERHEAD_NS;
      if (n <= 0) {
        if (n < 0) out.print(`file-server: ${mode} after ${sent} bytes: ${strerror(n)}\n`);
        break;
      }
      sent += n;
      pos += n;
    }
    yield* sysClose(k, t, fd);
    yield* sysClose(k, t, conn);
    out.print(`file-server: sent ${sent} bytes in ${msText(k.env.nowNs - startNs)}\n`);
  }
}

// ---- fetch: connect, read to the end ----------------------------------------------------------

const FETCH_OPTS = { bs: BYTES };

function* fetch(k: Kernel, t: Task, p: Parsed, out: CommandOutput): Generator<number, CommandResult, void> {
  const ep = parseEndpoint(p.operands[0]!)!;
  const bs = num(p, 'bs', 64 * KiB);
  const mem = yield* programMemory(k, t, bs);
  const fd = yield* connectTo(k, t, mem, ep, false);
  if (fd < 0) return fail(out, 'fetch', `connect to ${endpointText(ep)}`, fd);
  const startNs = k.env.nowNs;
  let got = 0;
  for (;;) {
    const n = yield* sysRead(k, t, fd, mem.buf, bs);
    yield USER_IO_OVERHEAD_NS;
    if (n <= 0) break;
    got += n;
  }
  yield* sysClose(k, t, fd);
  out.print(`fetch: received ${got} bytes from ${endpointText(ep)} in ${msText(k.env.nowNs - startNs)}\n`);
  return { exitStatus: 0, output: '' };
}

// ---- the table ---------------------------------------------------------------------------------

export function withPort(specs: Readonly<Record<string, OptionSpec>>) {
  return (args: readonly string[]): Parsed | string => {
    const p = parseArgs(args, specs, 1, 'one operand, the port to listen on');
    if (typeof p === 'string') return p;
    return parsePort(p.operands[0]!) === undefined ? `port must be 1-65535 (got ${JSON.stringify(p.operands[0])})` : p;
  };
}

export function withEndpoint(specs: Readonly<Record<string, OptionSpec>>) {
  return (args: readonly string[]): Parsed | string => {
    const p = parseArgs(args, specs, 1, 'one operand, the server to connect to, like 10.0.0.2:9000');
    if (typeof p === 'string') return p;
    return parseEndpoint(p.operands[0]!) === undefined ? `needs a server address like 10.0.0.2:9000 (got ${JSON.stringify(p.operands[0])})` : p;
  };
}

function proxyArgs(args: readonly string[]): Parsed | string {
  const p = parseArgs(args, PROXY_OPTS, 0, 'no operands, only options');
  if (typeof p === 'string') return p;
  for (const need of ['listen', 'upstream', 'log']) if (!p.opts.has(need)) return `needs --${need}`;
  return p;
}

function fileServerArgs(args: readonly string[]): Parsed | string {
  const p = withPort(FILE_SERVER_OPTS)(args);
  if (typeof p === 'string') return p;
  return p.opts.has('file') ? p : 'needs --file PATH';
}

/** The network programs, for core/userspace/commands.ts. */
export const NET_PROGRAMS: readonly UserCommand[] = [
  parsedCommand('sink', 'sink PORT [--bs SIZE] [--rate BYTES/S]', withPort(SINK_OPTS), sink),
  parsedCommand('client', 'client ADDR:PORT [--bs SIZE] [--rate BYTES/S] [--size BYTES]', withEndpoint(CLIENT_OPTS), client),
  parsedCommand('proxy', 'proxy --listen PORT --upstream ADDR:PORT --log PATH [--bs SIZE]', proxyArgs, proxy),
  parsedCommand('file-server', 'file-server PORT --file PATH [--mode rw|sendfile] [--bs SIZE] [--offset BYTES]', fileServerArgs, fileServer),
  parsedCommand('fetch', 'fetch ADDR:PORT [--bs SIZE]', withEndpoint(FETCH_OPTS), fetch),
];
