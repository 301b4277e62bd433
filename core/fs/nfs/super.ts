// Models: fs/nfs/super.c, fs/nfs/fs_context.c and fs/nfs/client.c: the mount options of nfs(5)
// (vers, proto, acregmin/acregmax/acdirmin/acdirmax/actimeo/noac, cto/nocto, rsize/wsize bounded
// by the server's rtmax/wtmax, timeo, retrans, hard/soft) and struct nfs_server: the RPC client
// over the transport, the superblock's anonymous dev_t and its own bdi (0:N, ra_pages 128 KiB,
// io_pages = rsize), the inode table (one inode per fileid) and the dentry cache of the export.
// SIMPLIFICATION: the MOUNT protocol and the FSINFO/GETATTR of the root at mount time are not
// simulated: the mount is handed the export's root handle, attributes and rtmax/wtmax.

import type { Kernel } from '../../kernel/kernel.js';
import { mkdev } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { NS_PER_JIFFY, HZ } from '../../mm/page-writeback-throttle.js';
import { DEFAULT_RA_PAGES } from '../../mm/readahead.js';
import { PAGE_SIZE } from '../../mm/mm_types.js';
import { RpcClnt } from '../../net/sunrpc/clnt.js';
import { RpcXprt, tcpTimeout, type RpcXprtOps } from '../../net/sunrpc/xprt.js';
import type { AddressSpaceOps, FileOperations, Inode, InodeOperations } from '../types.js';
import type { NetworkMountSpec } from '../../userspace/job.js';
import { NFS3_VERSION, NFS_PROGRAM, type Fattr3, type Nfs3Fh } from './nfs3xdr.js';
import { NfsInode, nfsFhget, nfsGetattr } from './inode.js';
import { nfsFattr } from './nfs3proc.js';
import { nfsFileOperations } from './file.js';
import { nfsReadahead } from './read.js';
import { nfsWritepages } from './write.js';
import { nfsRemoteMount, type NfsDentry } from './dir.js';

/** NFS_MAX_FILE_IO_SIZE / NFS_DEF_FILE_IO_SIZE: rsize and wsize default to (and are capped at) 1 MiB. */
export const NFS_MAX_FILE_IO_SIZE = 1 << 20;
export const NFS_MIN_FILE_IO_SIZE = 1024;

/** The options nfs(5) documents that kiotrace models, with Linux's defaults. */
export interface NfsMountOptions {
  readonly vers: 3;
  readonly proto: 'tcp';
  /** Attribute cache bounds, seconds (NFS_DEF_ACREGMIN 3, ACREGMAX 60, ACDIRMIN 30, ACDIRMAX 60). */
  readonly acregmin: number;
  readonly acregmax: number;
  readonly acdirmin: number;
  readonly acdirmax: number;
  /** noac: no attribute caching, and writes are synchronous. */
  readonly noac: boolean;
  /** nocto: no close-to-open revalidation on open. */
  readonly nocto: boolean;
  readonly rsize: number;
  readonly wsize: number;
  /** timeo in deciseconds (600 for TCP), retrans (2 for TCP). */
  readonly timeo: number;
  readonly retrans: number;
  readonly soft: boolean;
}

export const DEFAULT_NFS_MOUNT_OPTIONS: NfsMountOptions = {
  vers: 3,
  proto: 'tcp',
  acregmin: 3,
  acregmax: 60,
  acdirmin: 30,
  acdirmax: 60,
  noac: false,
  nocto: false,
  rsize: NFS_MAX_FILE_IO_SIZE,
  wsize: NFS_MAX_FILE_IO_SIZE,
  timeo: 600,
  retrans: 2,
  soft: false,
};

/** The options that take a number, with their bounds. */
const NUMERIC: Readonly<Record<string, readonly [min: number, max: number]>> = {
  acregmin: [0, 3600],
  acregmax: [0, 3600],
  acdirmin: [0, 3600],
  acdirmax: [0, 3600],
  actimeo: [0, 3600],
  rsize: [1, 2 ** 31 - 1],
  wsize: [1, 2 ** 31 - 1],
  timeo: [1, 6000],
  retrans: [0, 100],
};

/** Options nfs(5) knows that change nothing kiotrace models. */
const ACCEPTED = new Set(['rw', 'ro', 'async', 'noatime', 'relatime', 'nolock', 'lock', 'intr', 'nointr', 'ac', 'hard', 'cto', 'sync']);

/** nfs_parse_mount_options: "vers=3,actimeo=0,..." -> options, or the offending option's message. */
export function parseNfsMountOptions(text: string): { ok: true; options: NfsMountOptions } | { ok: false; message: string } {
  const o: { -readonly [K in keyof NfsMountOptions]: NfsMountOptions[K] } = { ...DEFAULT_NFS_MOUNT_OPTIONS };
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    const bounds = NUMERIC[key];
    if (bounds) {
      const n = value === undefined || !/^\d+$/.test(value) ? NaN : Number(value);
      if (!Number.isInteger(n) || n < bounds[0] || n > bounds[1]) return { ok: false, message: `NFS option ${key} needs an integer from ${bounds[0]} to ${bounds[1]}, got "${value ?? ''}"` };
      if (key === 'actimeo') {
        o.acregmin = o.acregmax = o.acdirmin = o.acdirmax = n;
      } else if (key === 'rsize' || key === 'wsize' || key === 'timeo' || key === 'retrans' || key === 'acregmin' || key === 'acregmax' || key === 'acdirmin' || key === 'acdirmax') {
        o[key] = n;
      }
      continue;
    }
    if (key === 'vers' || key === 'nfsvers') {
      if (value !== '3') return { ok: false, message: `NFS version ${value ?? ''} is not modelled (only vers=3)` };
      continue;
    }
    if (key === 'proto') {
      if (value !== 'tcp') return { ok: false, message: `NFS transport proto=${value ?? ''} is not modelled (only proto=tcp)` };
      continue;
    }
    if (value !== undefined) return { ok: false, message: `unknown NFS option ${key}=${value}` };
    if (key === 'noac') o.noac = true;
    else if (key === 'nocto') o.nocto = true;
    else if (key === 'soft') o.soft = true;
    else if (key === 'hard') o.soft = false;
    else if (key === 'cto') o.nocto = false;
    else if (!ACCEPTED.has(key)) return { ok: false, message: `unknown NFS option ${key}` };
  }
  if (o.noac) o.acregmin = o.acregmax = o.acdirmin = o.acdirmax = 0;
  return { ok: true, options: o };
}

/** nfs_io_size: clamp to [1 KiB, 1 MiB] and round down to a power of two (nfs_block_size). */
export function nfsIoSize(bytes: number): number {
  const b = Math.min(Math.max(bytes, NFS_MIN_FILE_IO_SIZE), NFS_MAX_FILE_IO_SIZE);
  return 2 ** Math.floor(Math.log2(b));
}

/** What the server's MOUNT and FSINFO replies give the client at mount time. */
export interface NfsExportInfo {
  readonly rootFh: Nfs3Fh;
  readonly rootAttr: Fattr3;
  /** FSINFO rtmax / wtmax: the largest READ and WRITE the server takes. */
  readonly rtmaxBytes: number;
  readonly wtmaxBytes: number;
}

/** Superblocks mounted per machine (for their anonymous device numbers). */
const anonDevs = new WeakMap<Kernel, number>();

/** struct nfs_server (with its super_block). */
export class NfsServer {
  readonly client: RpcClnt;
  readonly sDev: number;
  readonly rsize: number;
  readonly wsize: number;
  readonly rpages: number;
  readonly wpages: number;
  readonly acregminJiffies: number;
  readonly acregmaxJiffies: number;
  readonly acdirminJiffies: number;
  readonly acdirmaxJiffies: number;
  readonly inodes = new Map<number, NfsInode>();
  /** The dcache below the mount point: name -> dentry (positive or negative). */
  readonly dentries = new Map<string, NfsDentry>();
  readonly root: NfsInode;
  readonly fops: FileOperations;
  readonly aops: AddressSpaceOps;
  readonly iop: InodeOperations;
  private attrGeneration = 0;

  constructor(
    readonly k: Kernel,
    readonly xprt: RpcXprt,
    /** "server:/export" */
    readonly source: string,
    readonly mountPoint: string,
    readonly options: NfsMountOptions,
    info: NfsExportInfo,
    nodename: string,
  ) {
    const n = anonDevs.get(k) ?? 0;
    anonDevs.set(k, n + 1);
    // get_anon_bdev: the superblock's dev_t, which is also its bdi's name
    this.sDev = mkdev(0, 50 + n);
    this.client = new RpcClnt(k, xprt, NFS_PROGRAM, NFS3_VERSION, nodename, options.soft);
    this.rsize = nfsIoSize(Math.min(options.rsize, info.rtmaxBytes));
    this.wsize = nfsIoSize(Math.min(options.wsize, info.wtmaxBytes));
    this.rpages = Math.ceil(this.rsize / PAGE_SIZE);
    this.wpages = Math.ceil(this.wsize / PAGE_SIZE);
    this.acregminJiffies = options.acregmin * HZ;
    this.acregmaxJiffies = options.acregmax * HZ;
    this.acdirminJiffies = options.acdirmin * HZ;
    this.acdirmaxJiffies = options.acdirmax * HZ;
    const self = this;
    this.fops = nfsFileOperations(k);
    this.aops = {
      // no blocks: NFS pages are read and written by RPC
      mapBlocks: () => undefined,
      readahead: (task, inode, folios, ioId) => nfsReadahead(k, task, inode as NfsInode, folios, ioId),
      writepages: (task, inode, ioId, syncMode, startBytes, endBytes, maxPages) => nfsWritepages(k, task, inode as NfsInode, ioId, syncMode, startBytes, endBytes, maxPages),
      bdi: { raPages: DEFAULT_RA_PAGES, ioPages: this.rpages },
    };
    this.iop = {
      getattr: (task: Task, ioId: number, inode: Inode) => nfsGetattr(k, task, ioId, inode as NfsInode),
    };
    this.root = nfsFhget(k, self, info.rootFh, nfsFattr(info.rootAttr, { timeStartJiffies: this.jiffies(), gencount: this.incAttrGeneration() }), mountPoint);
  }

  jiffies(): number {
    return Math.floor(this.k.env.nowNs / NS_PER_JIFFY);
  }

  /** nfs_inc_attr_generation_counter */
  incAttrGeneration(): number {
    return ++this.attrGeneration;
  }
}

/**
 * nfs_get_tree for NFSv3 over a transport: the RPC client, the superblock and its flusher. The
 * caller adds it to the mount table (Vfs.mountRemote).
 */
export function nfsMount(k: Kernel, xprtOps: RpcXprtOps, source: string, mountPoint: string, options: NfsMountOptions, info: NfsExportInfo, nodename: string, connected: boolean): NfsServer {
  const host = source.slice(0, Math.max(0, source.indexOf(':')));
  const xprt = new RpcXprt(k, xprtOps, host, host, '2049', tcpTimeout(options.timeo, options.retrans));
  xprt.connected = connected;
  const server = new NfsServer(k, xprt, source, mountPoint, options, info, nodename);
  k.wb.startFlusher(server.sDev, (comm, body) => k.mm.spawnKthread(comm, body));
  return server;
}

/** mount -t nfs: nfsMount, then the export appears at `mountPoint` in the VFS. */
export function mountNfs(k: Kernel, xprtOps: RpcXprtOps, source: string, mountPoint: string, options: NfsMountOptions, info: NfsExportInfo, nodename: string, connected: boolean): NfsServer {
  const server = nfsMount(k, xprtOps, source, mountPoint, options, info, nodename, connected);
  k.vfs.mountRemote(nfsRemoteMount(k, server));
  return server;
}

/** How a client reaches the server of a mount: the transport to it, and what MOUNT/FSINFO answered. */
export interface NfsServerReach {
  readonly xprtOps: RpcXprtOps;
  readonly info: NfsExportInfo;
  /** Whether the transport is connected already (else the first call connects it). */
  readonly connected: boolean;
}

/**
 * mount -a -t nfs for machine.mounts: each mount whose server `reach(host, exportPath)` finds is
 * mounted; the sources it could not reach are returned apart (mount.nfs would fail them).
 */
export function mountNetworkFilesystems(
  k: Kernel,
  mounts: readonly NetworkMountSpec[],
  nodename: string,
  reach: (host: string, exportPath: string) => NfsServerReach | undefined,
): { readonly mounted: NfsServer[]; readonly failed: string[] } {
  const mounted: NfsServer[] = [];
  const failed: string[] = [];
  for (const m of mounts) {
    const colon = m.source.indexOf(':');
    const r = reach(m.source.slice(0, colon), m.source.slice(colon + 1));
    if (!r) failed.push(m.source);
    else mounted.push(mountNfs(k, r.xprtOps, m.source, m.target, m.options, r.info, nodename, r.connected));
  }
  return { mounted, failed };
}
