// Models: iperf3 (esnet/iperf: iperf3 -s / iperf3 -c HOST) as a scenario event runs it: a TCP
// server that takes connections and reads each to the end, and a client that writes a number of
// bytes (-n) or for a time (-t) in writes of -l bytes, then closes; each side prints iperf3's
// summary line. -p port (5201), -N (TCP_NODELAY), -w (SO_SNDBUF / SO_RCVBUF, which turns
// autotuning off), -1 (the server exits after one client).
// SIMPLIFICATION: no control connection or JSON exchange: one data stream per client, and the
// server's report is its own (bytes it read, over the time it read them).

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import type { CommandResult, UserCommand } from './commands.js';
import { sysExecve } from '../fs/exec.js';
import { sysClose, sysMmap } from '../fs/open.js';
import { MAP, PROT } from '../mm/mmap.js';
import { strerror } from '../uapi/errno.js';
import { ipv4 } from '../net/netdevice.js';
import { AF_INET, SO, SOCK_STREAM, SOL_SOCKET, SOL_TCP, TCP_NODELAY } from '../net/sock.js';
import { sockaddrInBytes, sysAccept4, sysBind, sysConnect, sysListen, sysRecvfrom, sysSendto, sysSetsockopt, sysSocket } from '../net/socket.js';

/** CPU time of the tool's own work (parsing, formatting its report). */
const COMMAND_NS = 20_000;
/** Where the tool keeps its sockaddr (user memory the kernel reads it from). */
const SOCKADDR_VA = 0x7ff0_0000_0000;

interface Iperf3Args {
  readonly server: boolean;
  readonly host: number;
  readonly port: number;
  readonly bytes: number | undefined;
  readonly seconds: number;
  readonly lenBytes: number;
  readonly nodelay: boolean;
  readonly windowBytes: number | undefined;
  readonly oneOff: boolean;
}

/** iperf3's size suffixes: K, M, G (powers of 1024). */
function size(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(text);
  if (!m) return undefined;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase()] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

function parse(args: readonly string[]): Iperf3Args | string {
  let server = false;
  let host: number | undefined;
  let port = 5201;
  let bytes: number | undefined;
  let seconds = 10;
  let lenBytes = 128 * 1024;
  let nodelay = false;
  let windowBytes: number | undefined;
  let oneOff = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const val = (): string | undefined => args[++i];
    if (a === '-s' || a === '--server') server = true;
    else if (a === '-1' || a === '--one-off') oneOff = true;
    else if (a === '-N' || a === '--no-delay') nodelay = true;
    else if (a === '-c' || a === '--client') {
      const h = val();
      if (h === undefined || !/^\d+\.\d+\.\d+\.\d+$/.test(h) || h.split('.').some((p) => Number(p) > 255)) return `-c needs an IPv4 address like 127.0.0.1 (got ${h ?? 'nothing'})`;
      host = ipv4(h);
    } else if (a === '-p' || a === '--port') {
      const p = Number(val());
      if (!Number.isInteger(p) || p < 1 || p > 65535) return '-p needs a port from 1 to 65535';
      port = p;
    } else if (a === '-n' || a === '--bytes') {
      const n = size(val() ?? '');
      if (n === undefined || n <= 0) return '-n needs a byte count like 4M';
      bytes = n;
    } else if (a === '-t' || a === '--time') {
      const t = Number(val());
      if (!(t > 0) || t > 3600) return '-t needs seconds from 0 to 3600';
      seconds = t;
    } else if (a === '-l' || a === '--length') {
      const n = size(val() ?? '');
      if (n === undefined || n <= 0 || n > 64 * 1024 * 1024) return '-l needs a write size like 128K (at most 64M)';
      lenBytes = n;
    } else if (a === '-w' || a === '--window') {
      const n = size(val() ?? '');
      if (n === undefined || n <= 0) return '-w needs a buffer size like 64K';
      windowBytes = n;
    } else return `unknown option ${JSON.stringify(a)}`;
  }
  if (server === (host !== undefined)) return 'needs -s (server) or -c HOST (client)';
  return { server, host: host ?? 0, port, bytes, seconds, lenBytes, nodelay, windowBytes, oneOff };
}

/** iperf3's summary line: interval, transfer and bitrate. */
function summary(fd: number, startNs: number, endNs: number, bytes: number, role: string): string {
  const secs = Math.max(endNs - startNs, 1) / 1e9;
  const mbytes = bytes / 1024 / 1024;
  const bits = (bytes * 8) / secs;
  const rate = bits >= 1e9 ? `${(bits / 1e9).toFixed(1)} Gbits/sec` : `${(bits / 1e6).toFixed(1)} Mbits/sec`;
  return `[${String(fd).padStart(3)}]   0.00-${secs.toFixed(2)}  sec  ${mbytes >= 1024 ? `${(mbytes / 1024).toFixed(2)} GBytes` : `${mbytes.toFixed(2)} MBytes`}  ${rate}  ${role}`;
}

function* body(k: Kernel, task: Task, a: Iperf3Args, print: (line: string) => void): Generator<number, number, void> {
  const bufBytes = a.lenBytes;
  const buf = yield* sysMmap(k, task, 0, bufBytes, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS | MAP.POPULATE, -1, 0);
  const fd = yield* sysSocket(k, task, AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return fd;
  if (a.windowBytes !== undefined) {
    yield* sysSetsockopt(k, task, fd, SOL_SOCKET, SO.SNDBUF, a.windowBytes);
    yield* sysSetsockopt(k, task, fd, SOL_SOCKET, SO.RCVBUF, a.windowBytes);
  }
  if (a.nodelay) yield* sysSetsockopt(k, task, fd, SOL_TCP, TCP_NODELAY, 1);
  task.mm!.userBytes.set(SOCKADDR_VA, sockaddrInBytes({ addr: a.server ? 0 : a.host, port: a.port }));
  if (a.server) {
    const b = yield* sysBind(k, task, fd, SOCKADDR_VA, 16);
    if (b < 0) return b;
    yield* sysListen(k, task, fd, 5);
    print('-----------------------------------------------------------');
    print(`Server listening on ${a.port}`);
    print('-----------------------------------------------------------');
    for (;;) {
      const c = yield* sysAccept4(k, task, fd, 0, 0, 0);
      if (c < 0) return c;
      const startNs = k.env.nowNs;
      let total = 0;
      for (;;) {
        const n = yield* sysRecvfrom(k, task, c, buf, bufBytes);
        if (n <= 0) break;
        total += n;
      }
      print(summary(c, startNs, k.env.nowNs, total, 'receiver'));
      yield* sysClose(k, task, c);
      if (a.oneOff) {
        yield* sysClose(k, task, fd);
        return 0;
      }
    }
  }
  const r = yield* sysConnect(k, task, fd, SOCKADDR_VA, 16);
  if (r < 0) {
    print(`iperf3: error - unable to connect to server: ${strerror(r)}`);
    return 1;
  }
  print(`Connecting to host ${a.host >>> 24}.${(a.host >>> 16) & 0xff}.${(a.host >>> 8) & 0xff}.${a.host & 0xff}, port ${a.port}`);
  const startNs = k.env.nowNs;
  const endNs = startNs + a.seconds * 1e9;
  let sent = 0;
  while (a.bytes !== undefined ? sent < a.bytes : k.env.nowNs < endNs) {
    const n = yield* sysSendto(k, task, fd, buf, a.bytes !== undefined ? Math.min(bufBytes, a.bytes - sent) : bufBytes);
    if (n < 0) {
      print(`iperf3: error - unable to write to stream socket: ${strerror(n)}`);
      yield* sysClose(k, task, fd);
      return 1;
    }
    sent += n;
  }
  print(summary(fd, startNs, k.env.nowNs, sent, 'sender'));
  yield* sysClose(k, task, fd);
  return 0;
}

/** The iperf3 row of the command table. */
export const IPERF3: UserCommand = {
  name: 'iperf3',
  usage: 'iperf3 -s [-p PORT] [-1] [-w SIZE] | iperf3 -c HOST [-p PORT] [-n BYTES | -t SECONDS] [-l LEN] [-N] [-w SIZE]',
  check(args) {
    const r = parse(args);
    return typeof r === 'string' ? r : undefined;
  },
  *run(k, task, args): Generator<number, CommandResult, void> {
    const a = parse(args);
    if (typeof a === 'string') return { exitStatus: 1, output: `iperf3: ${a}` };
    yield* sysExecve(k, task, '/usr/bin/iperf3', ['iperf3', ...args]);
    yield COMMAND_NS;
    const lines: string[] = [];
    const r = yield* body(k, task, a, (l) => lines.push(l));
    if (r < 0) lines.push(`iperf3: error - ${strerror(r)}`);
    return { exitStatus: r === 0 ? 0 : 1, output: lines.join('\n') };
  },
};
