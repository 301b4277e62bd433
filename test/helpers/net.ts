// Test helper: small socket programs over loopback, written as task bodies against the syscalls.
import { bootMachine, DEFAULT_MACHINE, type Machine } from '../../core/index.js';
import type { Task } from '../../core/kernel/sched/task.js';
import { sysMmap } from '../../core/fs/open.js';
import { MAP, PROT } from '../../core/mm/mmap.js';
import { sockaddrInBytes, sysBind, sysConnect, sysListen, sysSocket, sysAccept4, sysRecvfrom } from '../../core/net/socket.js';
import { AF_INET, SOCK_STREAM } from '../../core/net/sock.js';
import { ipv4, NETIF_F, type NetDevice } from '../../core/net/netdevice.js';

export const LOCALHOST = ipv4('127.0.0.1');

/** A booted default machine (the network stack boots with it). */
export function netMachine(seed = 1): Machine {
  return bootMachine(DEFAULT_MACHINE, seed);
}

/** Loopback as a 1500-byte Ethernet link without TSO/GSO: the stack cuts MSS-sized segments itself. */
export function ethernetSizedLoopback(m: Machine): NetDevice {
  const lo = m.k.net.deviceByName('lo')!;
  lo.mtu = 1500;
  lo.features &= ~(NETIF_F.TSO | NETIF_F.GSO);
  return lo;
}

/** A populated anonymous buffer of `len` bytes; returns its address. */
export function* userBuffer(m: Machine, t: Task, len: number): Generator<number, number, void> {
  return yield* sysMmap(m.k, t, 0, len, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS | MAP.POPULATE, -1, 0);
}

/** A sockaddr_in in the task's memory at a fixed scratch address; returns the address. */
export function sockaddr(t: Task, addr: number, port: number, va = 0x7f00_0000_0000): number {
  t.mm!.userBytes.set(va, sockaddrInBytes({ addr, port }));
  return va;
}

/** socket + bind + listen on 127.0.0.1:port; returns the listening fd. */
export function* tcpListen(m: Machine, t: Task, port: number, backlog = 16, type = SOCK_STREAM): Generator<number, number, void> {
  const fd = yield* sysSocket(m.k, t, AF_INET, type, 0);
  const b = yield* sysBind(m.k, t, fd, sockaddr(t, LOCALHOST, port), 16);
  if (b < 0) return b;
  const l = yield* sysListen(m.k, t, fd, backlog);
  return l < 0 ? l : fd;
}

/** socket + connect to 127.0.0.1:port; returns the connected fd or -errno. */
export function* tcpConnect(m: Machine, t: Task, port: number, type = SOCK_STREAM): Generator<number, number, void> {
  const fd = yield* sysSocket(m.k, t, AF_INET, type, 0);
  const r = yield* sysConnect(m.k, t, fd, sockaddr(t, LOCALHOST, port, 0x7f00_0000_1000), 16);
  return r < 0 && r !== -115 ? r : fd;
}

/** accept4 without the peer's address. */
export function* tcpAccept(m: Machine, t: Task, fd: number, flags = 0): Generator<number, number, void> {
  return yield* sysAccept4(m.k, t, fd, 0, 0, flags);
}

/** recv() until end of stream (or an error); returns the bytes read. */
export function* recvAll(m: Machine, t: Task, fd: number, buf: number, chunkBytes = 1 << 20): Generator<number, number, void> {
  let total = 0;
  for (;;) {
    const n = yield* sysRecvfrom(m.k, t, fd, buf, chunkBytes);
    if (n <= 0) return total;
    total += n;
  }
}
