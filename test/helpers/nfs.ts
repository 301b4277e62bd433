// Test helpers: a client and an NFS server machine on one simulated clock, joined by a test-only
// RPC transport (a fixed one-way delay each way, no bytes on a wire), the server exporting
// /export from its ext4 NVMe disk and the client mounting it at /mnt/nfs.
import { Environment, Priority } from '../../core/sim/engine.js';
import { bootMachine, DEFAULT_MACHINE, type Machine, type MachineSpec } from '../../core/index.js';
import { Nfsd } from '../../core/fs/nfsd/nfssvc.js';
import { mountNetworkFilesystems, parseNfsMountOptions, type NfsServer } from '../../core/fs/nfs/super.js';
import { xprtCompleteRqst, xprtLookupRqst, type RpcRqst, type RpcXprt, type RpcXprtOps, type RpcReplyMsg } from '../../core/net/sunrpc/xprt.js';
import { SvcXprt, type SvcServ } from '../../core/net/sunrpc/svc.js';
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

/**
 * Boots both machines (the server with machine.nfsd exporting /export), makes /export/<name> of
 * each size on the server, and mounts server:/export at /mnt/nfs on the client with `options`,
 * as a scenario's machine.mounts would be mounted.
 */
export function bootNfsPair(options: string, files: Readonly<Record<string, number>> = { data: 1 << 20 }, oneWayNs = 100_000, seed = 1): NfsPair {
  const env = new Environment();
  const server = bootMachine({ ...SERVER_MACHINE, nfsd: { export: '/export', threads: 8 } }, seed + 1, env);
  const client = bootMachine(DEFAULT_MACHINE, seed, env);
  const fs = server.k.vfs.fsFor('/export')!;
  for (const [name, bytes] of Object.entries(files)) fs.createFile(`/export/${name}`, bytes, `/export/${name}`);
  const nfsd = server.nfsd!;
  const transport = new TestRpcTransport(env, nfsd.serv, oneWayNs);
  const parsed = parseNfsMountOptions(options);
  if (!parsed.ok) throw new Error(parsed.message);
  const spec = { type: 'nfs' as const, source: 'server:/export', target: '/mnt/nfs', optionsText: options, options: parsed.options };
  const { mounted, failed } = mountNetworkFilesystems(client.k, [spec], 'client', (host, path) => {
    const info = host === 'server' ? nfsd.exportInfo(path) : undefined;
    return info && { xprtOps: transport, info, connected: true };
  });
  if (failed.length > 0) throw new Error(`could not mount ${failed.join(', ')}`);
  return { env, client, server, nfsd, transport, mount: mounted[0]! };
}

/** Records every hit of the named sites of a machine. */
export function record(m: Machine, names: readonly string[]): ProbeHit[] {
  const hits: ProbeHit[] = [];
  for (const n of names) {
    const site = m.k.registry.get(n);
    if (!site) throw new Error(`no site ${n}`);
    site.attach((h) => hits.push(h));
  }
  return hits;
}
