// Test helpers: a client and an NFS server machine on one simulated clock, joined by a test-only
// RPC transport (a fixed one-way delay each way, no bytes on a wire), the server exporting
// /export from its ext4 NVMe disk and the client mounting it at /mnt/nfs.
import { Environment, Priority } from '../../core/sim/engine.js';
import { bootMachine, DEFAULT_MACHINE, type Machine, type MachineSpec } from '../../core/index.js';
import type { Nfsd } from '../../core/fs/nfsd/nfssvc.js';
import { mountNetworkFilesystems, parseNfsMountOptions, type NfsServer } from '../../core/fs/nfs/super.js';
import { xprtCompleteRqst, xprtLookupRqst, type RpcRqst, type RpcXprt, type RpcXprtOps, type RpcReplyMsg } from '../../core/net/sunrpc/xprt.js';
import { SvcXprt, type SvcServ } from '../../core/net/sunrpc/svc.js';
import { RpcRecordStream, SvcTcpTransport, XsTcpTransport, type RpcStreamSocket } from '../../core/net/sunrpc/xprtsock.js';
import type { RpcCallMsg } from '../../core/net/sunrpc/xprt.js';
import type { ProbeHit } from '../../core/trace/probe.js';

/** The server machine: one NVMe disk with ext4 at /export. */
export const SERVER_MACHINE: MachineSpec = {
  cpus: 2,
  memoryBytes: 4 * 1024 ** 3,
  devices: [{ name: 'nvme0n1', kind: 'nvme', capacityBytes: 64 * 1024 ** 3, scheduler: 'none', mount: '/export' }],
};

/**
 * A test transport: a call reaches the server `oneWayNs` after it is sent, the reply reaches the
 * client `oneWayNs` after the server thread sends it. Counts calls per procedure number.
 */
export class TestRpcTransport implements RpcXprtOps {
  readonly name = 'test';
  readonly calls: number[] = [];
  xprt: RpcXprt | undefined;
  private readonly svcXprt: SvcXprt;
  constructor(
    private readonly env: Environment,
    private readonly serv: SvcServ,
    readonly oneWayNs: number,
  ) {
    const self = this;
    this.svcXprt = new SvcXprt({ name: 'test', sendto: (_x, reply) => self.deliverReply(reply) }, 'client');
  }

  sendRequest(req: RpcRqst): number {
    const call = req.rqCall!;
    this.xprt = req.rqXprt;
    this.calls.push(call.proc);
    this.env.after(this.oneWayNs, Priority.URGENT, (c) => this.serv.enqueue(this.svcXprt, c), call);
    return 0;
  }

  private deliverReply(reply: RpcReplyMsg): void {
    this.env.after(this.oneWayNs, Priority.URGENT, (r) => {
      const req = xprtLookupRqst(this.xprt!, r.xid);
      if (req) xprtCompleteRqst(req, r);
    }, reply);
  }
}

export interface NfsPair {
  readonly env: Environment;
  readonly client: Machine;
  readonly server: Machine;
  readonly nfsd: Nfsd;
  readonly transport: TestRpcTransport;
  readonly mount: NfsServer;
}

/** The two machines on one clock, the server's files made in /export. */
function bootMachines(files: Readonly<Record<string, number>>, seed: number): { env: Environment; server: Machine; client: Machine; nfsd: Nfsd } {
  const env = new Environment();
  const server = bootMachine({ ...SERVER_MACHINE, nfsd: { export: '/export', threads: 8 } }, seed + 1, { env });
  const client = bootMachine(DEFAULT_MACHINE, seed, { env });
  const fs = server.k.vfs.fsFor('/export')!;
  for (const [name, bytes] of Object.entries(files)) fs.createFile(`/export/${name}`, bytes, `/export/${name}`);
  return { env, server, client, nfsd: server.nfsd! };
}

/** machine.mounts' server:/export at /mnt/nfs with `options`, over `xprtOps`. */
function mountExport(client: Machine, nfsd: Nfsd, options: string, xprtOps: RpcXprtOps): NfsServer {
  const parsed = parseNfsMountOptions(options);
  if (!parsed.ok) throw new Error(parsed.message);
  const spec = { type: 'nfs' as const, source: 'server:/export', target: '/mnt/nfs', optionsText: options, options: parsed.options };
  const { mounted, failed } = mountNetworkFilesystems(client.k, [spec], 'client', (host, path) => {
    const info = host === 'server' ? nfsd.exportInfo(path) : undefined;
    return info && { xprtOps, info, connected: true };
  });
  if (failed.length > 0) throw new Error(`could not mount ${failed.join(', ')}`);
  return mounted[0]!;
}

/**
 * Boots both machines (the server with machine.nfsd exporting /export), makes /export/<name> of
 * each size on the server, and mounts server:/export at /mnt/nfs on the client with `options`,
 * as a scenario's machine.mounts would be mounted.
 */
export function bootNfsPair(options: string, files: Readonly<Record<string, number>> = { data: 1 << 20 }, oneWayNs = 100_000, seed = 1): NfsPair {
  const { env, server, client, nfsd } = bootMachines(files, seed);
  const transport = new TestRpcTransport(env, nfsd.serv, oneWayNs);
  return { env, client, server, nfsd, transport, mount: mountExport(client, nfsd, options, transport) };
}

/** Records every hit of the named sites of a machine, with its fields as they were at the hit. */
export function record(m: Machine, names: readonly string[]): ProbeHit[] {
  const hits: ProbeHit[] = [];
  for (const n of names) {
    const site = m.k.registry.get(n);
    if (!site) throw new Error(`no site ${n}`);
    // build the fields now: they read objects that change later
    site.attach((h) => {
      void h.fields;
      hits.push(h);
    });
  }
  return hits;
}

/**
 * A test-only byte pipe between two stream endpoints: each direction serializes what is sent at
 * `bytesPerNs` and delivers it `oneWayNs` later; a sender may have at most `sndbufBytes` not yet
 * delivered (sendmsg takes less, and write space is signalled as deliveries drain it).
 */
export class TestBytePipe {
  private readonly ends: { inflight: number; busyUntilNs: number; peer: () => StreamEnd | undefined; self: () => StreamEnd | undefined }[];
  constructor(
    private readonly env: Environment,
    readonly oneWayNs: number,
    readonly bytesPerNs: number,
    readonly sndbufBytes: number,
  ) {
    this.ends = [
      { inflight: 0, busyUntilNs: 0, peer: () => this.b, self: () => this.a },
      { inflight: 0, busyUntilNs: 0, peer: () => this.a, self: () => this.b },
    ];
  }
  a: StreamEnd | undefined;
  b: StreamEnd | undefined;
  /** Partial sends (the sender hit its send buffer). */
  shortSends = 0;

  /** The socket of end 0 (client) or 1 (server). */
  socket(end: 0 | 1): RpcStreamSocket {
    const e = this.ends[end]!;
    return {
      sendmsg: (bytes: number) => {
        const n = Math.min(bytes, this.sndbufBytes - e.inflight);
        if (n < bytes) this.shortSends++;
        if (n <= 0) return 0;
        e.inflight += n;
        const start = Math.max(this.env.nowNs, e.busyUntilNs);
        e.busyUntilNs = start + Math.ceil(n / this.bytesPerNs);
        this.env.at(e.busyUntilNs + this.oneWayNs, Priority.URGENT, () => {
          e.inflight -= n;
          e.peer()?.dataReady(n);
          e.self()?.writeSpace();
        }, undefined);
        return n;
      },
    };
  }
}

interface StreamEnd {
  dataReady(bytes: number): void;
  writeSpace(): void;
}

/** bootNfsPair over TCP-like record marking (xprtsock) on a TestBytePipe. */
export function bootNfsPairStream(options: string, files: Readonly<Record<string, number>>, pipe: { oneWayNs: number; bytesPerNs: number; sndbufBytes: number }, seed = 1): NfsPair & { readonly pipe: TestBytePipe } {
  const { env, server, client, nfsd } = bootMachines(files, seed);
  const p = new TestBytePipe(env, pipe.oneWayNs, pipe.bytesPerNs, pipe.sndbufBytes);
  const calls = new RpcRecordStream<RpcCallMsg>();
  const replies = new RpcRecordStream<RpcReplyMsg>();
  const clientEnd = new XsTcpTransport(p.socket(0), calls, replies);
  p.a = clientEnd;
  p.b = new SvcTcpTransport(p.socket(1), nfsd.serv, calls, replies, 'client');
  // (the datagram transport is there for NfsPair's shape; nothing is sent through it)
  const transport = new TestRpcTransport(env, nfsd.serv, 0);
  return { env, client, server, nfsd, transport, mount: mountExport(client, nfsd, options, clientEnd), pipe: p };
}
