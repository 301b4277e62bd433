// Models: include/trace/events/*.h (TRACE_EVENT declarations: name, fields, TP_fast_assign) and
// the kprobe-able kernel functions kiotrace models. Field names and types are Linux 6.18's; the
// kiotrace: system holds steps Linux has no tracepoint for (device fetch, media, DMA, PTE install).

import { FuncProbe, ProbeRegistry, Tracepoint, type FieldRecord, type ProbeHit } from './probe.js';
import { natural, TRACEPOINT_FORMATS, type FormatField } from './formats.js';
import type { Task } from '../kernel/sched/task.js';
import type { Bio } from '../block/blk_types.js';
import { fillRwbs } from '../block/blk_types.js';
import type { Request } from '../block/blkdev.js';
import type { Folio, FileRaState, Vma } from '../mm/mm_types.js';
import type { File, Inode } from '../fs/types.js';
import type { SkBuff } from '../net/skbuff.js';
import type { NapiStruct, NetDevice } from '../net/netdevice.js';
import type { Sock } from '../net/sock.js';
import type { TcpSock } from '../net/tcp_sock.js';
import type { RpcTask } from '../net/sunrpc/sched.js';
import type { RpcRqst, RpcXprt } from '../net/sunrpc/xprt.js';
import type { SvcRqst } from '../net/sunrpc/svc.js';
import type { NfsInode } from '../fs/nfs/inode.js';
import type { NfsReadHeader } from '../fs/nfs/read.js';
import type { NfsCommitData, NfsWriteHeader } from '../fs/nfs/write.js';

/** struct transaction_run_stats_s as jbd2_run_stats reports it: times in jiffies. */
export interface Jbd2RunStats {
  readonly wait: number;
  readonly requestDelay: number;
  readonly running: number;
  readonly locked: number;
  readonly flushing: number;
  readonly logging: number;
  readonly handleCount: number;
  readonly blocks: number;
  readonly blocksLogged: number;
}

/** A request as block tracepoints see it: the request plus its queue's device number. */
export interface TracedRequest extends Request {
  readonly dev: number;
}

function tp<P extends readonly unknown[]>(
  reg: ProbeRegistry,
  key: string,
  assign: (hit: ProbeHit, ...args: P) => FieldRecord,
  fields?: readonly FormatField[],
): Tracepoint<P> {
  const f = fields ?? TRACEPOINT_FORMATS[key];
  if (!f) throw new Error(`no format for tracepoint ${key}`);
  return reg.add(new Tracepoint<P>(`tracepoint:${key}`, f, assign));
}

/** Lays out kiotrace: fields after the 8 common bytes, naturally aligned. */
function kiotraceFields(decls: readonly [decl: string, size: number, signed: boolean][]): FormatField[] {
  return natural(decls);
}

/** x86-64 syscall numbers of the modeled syscalls. */
export const SYSCALL_NR = {
  read: 0,
  write: 1,
  open: 2,
  close: 3,
  lseek: 8,
  mmap: 9,
  munmap: 11,
  msync: 26,
  pread64: 17,
  pwrite64: 18,
  fsync: 74,
  // fs/sync.c: write back everything (a scenario's `sync` command)
  sync: 162,
  fdatasync: 75,
  // the access-pattern hints (mm/madvise.c, mm/fadvise.c)
  madvise: 28,
  fadvise64: 221,
  // fs/fcntl.c: F_SET_RW_HINT / F_GET_RW_HINT, the data-lifetime hint of a file's inode
  fcntl: 72,
  io_setup: 206,
  io_destroy: 207,
  io_getevents: 208,
  io_submit: 209,
  openat: 257,
  openat2: 437,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  // fs/select.c and fs/eventpoll.c: poll(2), ppoll(2) and epoll(7)
  poll: 7,
  ppoll: 271,
  select: 23,
  epoll_create: 213,
  epoll_create1: 291,
  epoll_ctl: 233,
  epoll_wait: 232,
  epoll_pwait: 281,
  // fs/pipe.c and fs/splice.c: pipes, splice(2) and sendfile(2)
  pipe2: 293,
  splice: 275,
  sendfile64: 40,
  // net/socket.c: the socket calls (send/recv are libc wrappers of sendto/recvfrom on x86-64)
  socket: 41,
  connect: 42,
  accept: 43,
  sendto: 44,
  recvfrom: 45,
  sendmsg: 46,
  recvmsg: 47,
  shutdown: 48,
  bind: 49,
  listen: 50,
  setsockopt: 54,
  getsockopt: 55,
  accept4: 288,
  // sleeping, syncing, process life and stat
  nanosleep: 35,
  clock_nanosleep: 230,
  syncfs: 306,
  sync_file_range: 277,
  execve: 59,
  execveat: 322,
  clone: 56,
  fork: 57,
  vfork: 58,
  exit_group: 231,
  newstat: 4,
  newfstat: 5,
  newlstat: 6,
  newfstatat: 262,
  statx: 332,
  statfs: 137,
  kill: 62,
  tkill: 200,
  tgkill: 234,
} as const;
export type SyscallName = keyof typeof SYSCALL_NR;

/** A syscall argument as the 8-byte, unsigned tracepoint slot holds it: ints are zero-extended. */
function syscallSlot(decl: string, v: number): number {
  if (v < 0 && /^(const )?int |^pid_t |^umode_t /.test(decl)) return v >>> 0;
  return v;
}

function syscallEvents(reg: ProbeRegistry) {
  const enter = {} as Record<SyscallName, Tracepoint<[args: readonly number[]]>>;
  const exit = {} as Record<SyscallName, Tracepoint<[ret: number]>>;
  for (const name of Object.keys(SYSCALL_NR) as SyscallName[]) {
    const nr = SYSCALL_NR[name];
    const fmt = TRACEPOINT_FORMATS[`syscalls:sys_enter_${name}`];
    if (!fmt) throw new Error(`no format for sys_enter_${name}`);
    const params = fmt.slice(1);
    enter[name] = tp<[args: readonly number[]]>(reg, `syscalls:sys_enter_${name}`, (_h, args) => {
      const rec: Record<string, number> = { __syscall_nr: nr };
      params.forEach(([decl, field], i) => {
        rec[field] = syscallSlot(decl, args[i] ?? 0);
      });
      return rec;
    });
    exit[name] = tp<[ret: number]>(reg, `syscalls:sys_exit_${name}`, (_h, ret) => ({ __syscall_nr: nr, ret }));
  }
  return { enter, exit };
}

const bioFields = (h: ProbeHit, bio: Bio): FieldRecord => ({
  dev: bio.dev,
  sector: bio.sector,
  nr_sector: bio.nrSectors,
  rwbs: fillRwbs(bio.op, bio.flags),
  comm: h.comm,
});

const rqFields = (h: ProbeHit, rq: TracedRequest): FieldRecord => ({
  dev: rq.dev,
  sector: rq.sector,
  nr_sector: rq.nrSectors,
  bytes: rq.nrSectors * 512,
  ioprio: 0,
  rwbs: fillRwbs(rq.op, rq.cmdFlags),
  comm: h.comm,
  cmd: '',
});

const rqDoneFields = (_h: ProbeHit, rq: TracedRequest, error: number, nrBytes: number): FieldRecord => ({
  dev: rq.dev,
  sector: rq.sector,
  nr_sector: Math.floor(nrBytes / 512),
  error,
  ioprio: 0,
  rwbs: fillRwbs(rq.op, rq.cmdFlags),
  cmd: '',
});

const wakeFields = (_h: ProbeHit, p: Task, targetCpu: number): FieldRecord => ({
  comm: p.comm,
  pid: p.pid,
  prio: p.prio,
  target_cpu: targetCpu,
});

const folioFields = (_h: ProbeHit, folio: Folio): FieldRecord => ({
  pfn: folio.pfn,
  i_ino: folio.mapping?.host.ino ?? 0,
  index: folio.index,
  s_dev: folio.mapping?.host.sDev ?? 0,
  order: 0,
});

const raFields = (_h: ProbeHit, inode: Inode, index: number, ra: FileRaState, reqCount: number): FieldRecord => ({
  i_ino: inode.ino,
  s_dev: inode.sDev,
  index,
  order: 0,
  size: ra.size,
  async_size: ra.asyncSize,
  ra_pages: ra.raPages,
  mmap_miss: ra.mmapMiss,
  prev_pos: ra.prevPos,
  req_count: reqCount,
});

/** The fields of writeback's writeback_work_class events. */
export interface WritebackWork {
  readonly bdiName: string;
  readonly nrPages: number;
  readonly sbDev: number;
  /** 0 WB_SYNC_NONE, 1 WB_SYNC_ALL */
  readonly syncMode: number;
  readonly forKupdate: boolean;
  readonly forBackground: boolean;
  /** enum wb_reason: 0 background, 2 sync, 3 periodic. */
  readonly reason: number;
}

const wbWorkFields = (_h: ProbeHit, w: WritebackWork): FieldRecord => ({
  name: w.bdiName,
  nr_pages: w.nrPages,
  sb_dev: w.sbDev,
  sync_mode: w.syncMode,
  for_kupdate: w.forKupdate ? 1 : 0,
  range_cyclic: 1,
  for_background: w.forBackground ? 1 : 0,
  reason: w.reason,
  cgroup_ino: 1,
});

/** What nvme_setup_cmd / nvme_complete_rq record about a command. */
export interface NvmeCmdInfo {
  readonly disk: string;
  readonly ctrlId: number;
  readonly qid: number;
  readonly cid: number;
  /** nvme_cmd_read 0x02, nvme_cmd_write 0x01, nvme_cmd_flush 0x00 */
  readonly opcode: number;
  readonly nsid: number;
  readonly slba: number;
  /** Number of logical blocks, 0-based as in the command. */
  readonly nlb: number;
  readonly status: number;
  /** nvme_req(rq)->retries (0 on a first attempt). */
  readonly retries: number;
  /** The write's stream (Streams directive DSPEC), 0 for none. */
  readonly dspec: number;
}

/** cdw10..cdw15 as bytes: SLBA (cdw10-11), NLB and DTYPE (cdw12), DSPEC (cdw13's upper half). */
function cdw10Bytes(slba: number, nlb: number, dspec: number): number[] {
  const bytes = new Array<number>(24).fill(0);
  let lo = slba % 2 ** 32;
  let hi = Math.floor(slba / 2 ** 32);
  for (let i = 0; i < 4; i++) {
    bytes[i] = lo & 0xff;
    lo = Math.floor(lo / 256);
    bytes[4 + i] = hi & 0xff;
    hi = Math.floor(hi / 256);
  }
  bytes[8] = nlb & 0xff;
  bytes[9] = (nlb >> 8) & 0xff;
  if (dspec > 0) {
    bytes[10] = 0x10; // NVME_RW_DTYPE_STREAMS (1 << 20)
    bytes[14] = dspec & 0xff;
    bytes[15] = (dspec >> 8) & 0xff;
  }
  return bytes;
}

/** Device-side step of a command, for kiotrace:device_* sites. */
export interface DeviceStep {
  readonly dev: number;
  readonly qid: number;
  readonly cid: number;
  readonly sector: number;
  readonly nrSectors: number;
  readonly rwbs: string;
  /** The request the command carries (the driver's qid/cid table entry), for consumers that follow it. */
  readonly rq: TracedRequest | undefined;
}

/**
 * A DMA transfer. The NVMe model reports it when the transfer ends, the HDD when it starts
 * (its data moves while the platter turns); startNs/endNs say when it really ran.
 */
export interface DmaStep extends DeviceStep {
  readonly toDevice: boolean;
  readonly bytes: number;
  readonly nrSg: number;
  readonly dmaAddr: number;
  readonly durationNs: number;
  readonly startNs: number;
  readonly endNs: number;
}

export interface MediaStep extends DeviceStep {
  readonly channel: number;
  readonly die: number;
  readonly seekNs: number;
  readonly rotationNs: number;
  readonly mediaNs: number;
  readonly cacheHit: boolean;
}

/** The fault chain of one page fault, as far as it has been resolved. */
export interface FaultChain {
  readonly address: number;
  readonly vpn: number;
  readonly ino: number;
  readonly pgoff: number;
  /** Filesystem block, -1 when the page was cached (no block lookup needed). */
  readonly block: number;
  /** First 512-byte sector of that block, -1 when cached. */
  readonly sector: number;
  readonly pfn: number;
  readonly major: boolean;
}

const DEVICE_STEP_DECLS: [string, number, boolean][] = [
  ['dev_t dev', 4, false],
  ['int qid', 4, true],
  ['int cid', 4, true],
  ['sector_t sector', 8, false],
  ['unsigned int nr_sector', 4, false],
  ['char rwbs[10]', 10, false],
];

const deviceStepFields = (s: DeviceStep): Record<string, number | string> => ({
  dev: s.dev,
  qid: s.qid,
  cid: s.cid,
  sector: s.sector,
  nr_sector: s.nrSectors,
  rwbs: s.rwbs,
});

function sched(reg: ProbeRegistry) {
  return {
    sched_switch: tp<[preempt: boolean, prev: Task, next: Task, prevState: number]>(
      reg,
      'sched:sched_switch',
      (_h, _preempt, prev, next, prevState) => ({
        prev_comm: prev.comm,
        prev_pid: prev.pid,
        prev_prio: prev.prio,
        prev_state: prevState,
        next_comm: next.comm,
        next_pid: next.pid,
        next_prio: next.prio,
      }),
    ),
    sched_waking: tp<[p: Task, targetCpu: number]>(reg, 'sched:sched_waking', wakeFields),
    sched_wakeup: tp<[p: Task, targetCpu: number]>(reg, 'sched:sched_wakeup', wakeFields),
    sched_wakeup_new: tp<[p: Task, targetCpu: number]>(reg, 'sched:sched_wakeup_new', wakeFields),
    sched_migrate_task: tp<[p: Task, origCpu: number, destCpu: number]>(reg, 'sched:sched_migrate_task', (_h, p, o, d) => ({
      comm: p.comm,
      pid: p.pid,
      prio: p.prio,
      orig_cpu: o,
      dest_cpu: d,
    })),
    sched_process_fork: tp<[parent: Task, child: Task]>(reg, 'sched:sched_process_fork', (_h, parent, child) => ({
      parent_comm: parent.comm,
      parent_pid: parent.pid,
      child_comm: child.comm,
      child_pid: child.pid,
    })),
    sched_process_exec: tp<[p: Task, oldPid: number, filename: string]>(reg, 'sched:sched_process_exec', (_h, p, oldPid, filename) => ({
      filename,
      pid: p.pid,
      old_pid: oldPid,
    })),
    sched_process_exit: tp<[p: Task]>(reg, 'sched:sched_process_exit', (_h, p) => ({
      comm: p.comm,
      pid: p.pid,
      prio: p.prio,
      group_dead: 1,
    })),
    sched_stat_runtime: tp<[p: Task, runtimeNs: number]>(reg, 'sched:sched_stat_runtime', (_h, p, runtime) => ({
      comm: p.comm,
      pid: p.pid,
      runtime,
    })),
  };
}

function irq(reg: ProbeRegistry) {
  return {
    irq_handler_entry: tp<[irq: number, name: string]>(reg, 'irq:irq_handler_entry', (_h, irq, name) => ({ irq, name })),
    irq_handler_exit: tp<[irq: number, ret: number]>(reg, 'irq:irq_handler_exit', (_h, irq, ret) => ({ irq, ret })),
    softirq_raise: tp<[vec: number]>(reg, 'irq:softirq_raise', (_h, vec) => ({ vec })),
    softirq_entry: tp<[vec: number]>(reg, 'irq:softirq_entry', (_h, vec) => ({ vec })),
    softirq_exit: tp<[vec: number]>(reg, 'irq:softirq_exit', (_h, vec) => ({ vec })),
  };
}

function block(reg: ProbeRegistry) {
  return {
    block_bio_queue: tp<[bio: Bio]>(reg, 'block:block_bio_queue', bioFields),
    block_bio_backmerge: tp<[bio: Bio]>(reg, 'block:block_bio_backmerge', bioFields),
    block_bio_frontmerge: tp<[bio: Bio]>(reg, 'block:block_bio_frontmerge', bioFields),
    block_getrq: tp<[bio: Bio]>(reg, 'block:block_getrq', bioFields),
    block_split: tp<[bio: Bio, newSector: number]>(reg, 'block:block_split', (h, bio, newSector) => ({
      dev: bio.dev,
      sector: bio.sector,
      new_sector: newSector,
      rwbs: fillRwbs(bio.op, bio.flags),
      comm: h.comm,
    })),
    block_bio_complete: tp<[bio: Bio, error: number]>(reg, 'block:block_bio_complete', (_h, bio, error) => ({
      dev: bio.dev,
      sector: bio.sector,
      nr_sector: bio.nrSectors,
      error,
      rwbs: fillRwbs(bio.op, bio.flags),
    })),
    block_plug: tp<[]>(reg, 'block:block_plug', (h) => ({ comm: h.comm })),
    block_unplug: tp<[nrRq: number]>(reg, 'block:block_unplug', (h, nrRq) => ({ nr_rq: nrRq, comm: h.comm })),
    block_rq_insert: tp<[rq: TracedRequest]>(reg, 'block:block_rq_insert', rqFields),
    block_rq_issue: tp<[rq: TracedRequest]>(reg, 'block:block_rq_issue', rqFields),
    block_rq_merge: tp<[rq: TracedRequest]>(reg, 'block:block_rq_merge', rqFields),
    block_io_start: tp<[rq: TracedRequest]>(reg, 'block:block_io_start', rqFields),
    block_io_done: tp<[rq: TracedRequest]>(reg, 'block:block_io_done', rqFields),
    block_rq_requeue: tp<[rq: TracedRequest]>(reg, 'block:block_rq_requeue', (_h, rq) => ({
      dev: rq.dev,
      sector: rq.sector,
      nr_sector: rq.nrSectors,
      ioprio: 0,
      rwbs: fillRwbs(rq.op, rq.cmdFlags),
      cmd: '',
    })),
    block_rq_complete: tp<[rq: TracedRequest, error: number, nrBytes: number]>(reg, 'block:block_rq_complete', rqDoneFields),
    block_rq_error: tp<[rq: TracedRequest, error: number, nrBytes: number]>(reg, 'block:block_rq_error', rqDoneFields),
    // request-based device mapper (dm-rq: multipath) remapping a request to a path's queue.
    // SIMPLIFICATION: no request-based dm target is modelled, so it never fires (as on a machine without multipath)
    block_rq_remap: tp<[rq: TracedRequest, oldDev: number, oldSector: number]>(reg, 'block:block_rq_remap', (_h, rq, oldDev, oldSector) => ({
      dev: rq.dev,
      sector: rq.sector,
      nr_sector: rq.nrSectors,
      old_dev: oldDev,
      old_sector: oldSector,
      nr_bios: rq.bios.length,
      rwbs: fillRwbs(rq.op, rq.cmdFlags),
    })),
  };
}

function nvme(reg: ProbeRegistry) {
  const setupFields = kiotraceFields([
    ['char disk[32]', 32, false],
    ['int ctrl_id', 4, true],
    ['int qid', 4, true],
    ['u8 opcode', 1, false],
    ['u8 flags', 1, false],
    ['u8 fctype', 1, false],
    ['u16 cid', 2, false],
    ['u32 nsid', 4, false],
    ['bool metadata', 1, false],
    ['u8 cdw10[24]', 24, false],
  ]);
  const completeFields = kiotraceFields([
    ['char disk[32]', 32, false],
    ['int ctrl_id', 4, true],
    ['int qid', 4, true],
    ['int cid', 4, true],
    ['u64 result', 8, false],
    ['u8 retries', 1, false],
    ['u8 flags', 1, false],
    ['u16 status', 2, false],
  ]);
  return {
    nvme_setup_cmd: tp<[c: NvmeCmdInfo]>(
      reg,
      'nvme:nvme_setup_cmd',
      (_h, c) => ({
        disk: c.disk,
        ctrl_id: c.ctrlId,
        qid: c.qid,
        opcode: c.opcode,
        flags: 0,
        fctype: 0,
        cid: c.cid,
        nsid: c.nsid,
        metadata: 0,
        cdw10: cdw10Bytes(c.slba, c.nlb, c.dspec),
      }),
      setupFields,
    ),
    nvme_complete_rq: tp<[c: NvmeCmdInfo]>(
      reg,
      'nvme:nvme_complete_rq',
      (_h, c) => ({
        disk: c.disk,
        ctrl_id: c.ctrlId,
        qid: c.qid,
        cid: c.cid,
        result: 0,
        retries: c.retries,
        flags: 0,
        status: c.status,
      }),
      completeFields,
    ),
  };
}

/** What the scsi:scsi_dispatch_cmd_* events record about a command (struct scsi_cmnd). */
export interface ScsiCmdInfo {
  readonly hostNo: number;
  readonly channel: number;
  readonly id: number;
  readonly lun: number;
  /** cmd->result (host byte << 16 | ml byte << 8 | SAM status), or queuecommand's rtn. */
  readonly result: number;
  readonly cdb: readonly number[];
  readonly driverTag: number;
  readonly schedulerTag: number;
  readonly dataSglen: number;
  readonly senseKey: number;
  readonly asc: number;
  readonly ascq: number;
}

/** One rung of the SCSI error handler's escalation (kiotrace:scsi_eh_step). */
export interface ScsiEhStep {
  readonly hostNo: number;
  readonly step: string;
  /** SUCCESS 0x2002 or FAILED 0x2003. */
  readonly result: number;
  readonly durationNs: number;
}

function scsi(reg: ProbeRegistry) {
  const head: [string, number, boolean][] = [
    ['unsigned int host_no', 4, false],
    ['unsigned int channel', 4, false],
    ['unsigned int id', 4, false],
    ['unsigned int lun', 4, false],
  ];
  const tail: [string, number, boolean][] = [
    ['unsigned int opcode', 4, false],
    ['unsigned int cmd_len', 4, false],
    ['int driver_tag', 4, true],
    ['int scheduler_tag', 4, true],
    ['unsigned int data_sglen', 4, false],
    ['unsigned int prot_sglen', 4, false],
    ['unsigned char prot_op', 1, false],
    ['__data_loc unsigned char[] cmnd', 4, false],
  ];
  const sense: [string, number, boolean][] = [
    ['u8 sense_key', 1, false],
    ['u8 asc', 1, false],
    ['u8 ascq', 1, false],
  ];
  const cmdFields = (c: ScsiCmdInfo): Record<string, number | string | readonly number[]> => ({
    host_no: c.hostNo,
    channel: c.channel,
    id: c.id,
    lun: c.lun,
    opcode: c.cdb[0] ?? 0,
    cmd_len: c.cdb.length,
    driver_tag: c.driverTag,
    scheduler_tag: c.schedulerTag,
    data_sglen: c.dataSglen,
    prot_sglen: 0,
    prot_op: 0,
    cmnd: c.cdb,
  });
  const doneFields = kiotraceFields([...head, ['int result', 4, true], ...tail, ...sense]);
  const done = (_h: ProbeHit, c: ScsiCmdInfo): FieldRecord => ({ ...cmdFields(c), result: c.result, sense_key: c.senseKey, asc: c.asc, ascq: c.ascq });
  return {
    scsi_dispatch_cmd_start: tp<[c: ScsiCmdInfo]>(reg, 'scsi:scsi_dispatch_cmd_start', (_h, c) => cmdFields(c), kiotraceFields([...head, ...tail])),
    scsi_dispatch_cmd_error: tp<[c: ScsiCmdInfo]>(reg, 'scsi:scsi_dispatch_cmd_error', (_h, c) => ({ ...cmdFields(c), rtn: c.result }), kiotraceFields([...head, ['int rtn', 4, true], ...tail])),
    scsi_dispatch_cmd_done: tp<[c: ScsiCmdInfo]>(reg, 'scsi:scsi_dispatch_cmd_done', done, doneFields),
    scsi_dispatch_cmd_timeout: tp<[c: ScsiCmdInfo]>(reg, 'scsi:scsi_dispatch_cmd_timeout', done, doneFields),
    scsi_eh_wakeup: tp<[hostNo: number]>(reg, 'scsi:scsi_eh_wakeup', (_h, hostNo) => ({ host_no: hostNo }), kiotraceFields([['unsigned int host_no', 4, false]])),
    scsi_eh_step: tp<[s: ScsiEhStep]>(
      reg,
      'kiotrace:scsi_eh_step',
      (_h, s) => ({ host_no: s.hostNo, step: s.step, result: s.result, duration_ns: s.durationNs }),
      kiotraceFields([
        ['unsigned int host_no', 4, false],
        ['char step[16]', 16, false],
        ['int result', 4, true],
        ['u64 duration_ns', 8, false],
      ]),
    ),
  };
}

function filemap(reg: ProbeRegistry) {
  return {
    mm_filemap_add_to_page_cache: tp<[folio: Folio]>(reg, 'filemap:mm_filemap_add_to_page_cache', folioFields),
    mm_filemap_delete_from_page_cache: tp<[folio: Folio]>(reg, 'filemap:mm_filemap_delete_from_page_cache', folioFields),
    mm_filemap_fault: tp<[inode: Inode, index: number]>(reg, 'filemap:mm_filemap_fault', (_h, inode, index) => ({
      i_ino: inode.ino,
      s_dev: inode.sDev,
      index,
    })),
    mm_filemap_get_pages: tp<[inode: Inode, index: number, lastIndex: number]>(reg, 'filemap:mm_filemap_get_pages', (_h, inode, index, last) => ({
      i_ino: inode.ino,
      s_dev: inode.sDev,
      index,
      last_index: last,
    })),
    mm_filemap_map_pages: tp<[inode: Inode, index: number, lastIndex: number]>(reg, 'filemap:mm_filemap_map_pages', (_h, inode, index, last) => ({
      i_ino: inode.ino,
      s_dev: inode.sDev,
      index,
      last_index: last,
    })),
    page_cache_sync_ra: tp<[inode: Inode, index: number, ra: FileRaState, reqCount: number]>(reg, 'readahead:page_cache_sync_ra', raFields),
    page_cache_async_ra: tp<[inode: Inode, index: number, ra: FileRaState, reqCount: number]>(reg, 'readahead:page_cache_async_ra', raFields),
    page_fault_user: tp<[address: number, ip: number, errorCode: number]>(reg, 'exceptions:page_fault_user', (_h, address, ip, errorCode) => ({
      address,
      ip,
      error_code: errorCode,
    })),
  };
}

function writeback(reg: ProbeRegistry) {
  return {
    writeback_dirty_folio: tp<[bdiName: string, ino: number, index: number]>(reg, 'writeback:writeback_dirty_folio', (_h, name, ino, index) => ({
      name,
      ino,
      index,
    })),
    writeback_queue: tp<[w: WritebackWork]>(reg, 'writeback:writeback_queue', wbWorkFields),
    writeback_exec: tp<[w: WritebackWork]>(reg, 'writeback:writeback_exec', wbWorkFields),
    writeback_start: tp<[w: WritebackWork]>(reg, 'writeback:writeback_start', wbWorkFields),
    writeback_written: tp<[w: WritebackWork]>(reg, 'writeback:writeback_written', wbWorkFields),
    writeback_wake_background: tp<[bdiName: string]>(reg, 'writeback:writeback_wake_background', (_h, name) => ({ name, cgroup_ino: 1 })),
    global_dirty_state: tp<[nrDirty: number, nrWriteback: number, bgThresh: number, thresh: number, dirtyLimit: number, nrDirtied: number, nrWritten: number]>(
      reg,
      'writeback:global_dirty_state',
      (_h, nrDirty, nrWriteback, bg, thresh, dirtyLimit, dirtied, written) => ({
        nr_dirty: nrDirty,
        nr_writeback: nrWriteback,
        background_thresh: bg,
        dirty_thresh: thresh,
        dirty_limit: dirtyLimit,
        nr_dirtied: dirtied,
        nr_written: written,
      }),
    ),
    // balance_dirty_pages' control law: pages, rates in KB/s, times in ms (as TP_fast_assign converts them)
    balance_dirty_pages: tp<[bdi: string, limit: number, setpoint: number, dirty: number, wbSetpoint: number, wbDirty: number, dirtyRatelimitKBps: number, taskRatelimitKBps: number, dirtied: number, dirtiedPause: number, pausedMs: number, pauseMs: number, periodMs: number, thinkMs: number]>(
      reg,
      'writeback:balance_dirty_pages',
      (_h, bdi, limit, setpoint, dirty, wbSetpoint, wbDirty, dirtyRatelimit, taskRatelimit, dirtied, dirtiedPause, paused, pause, period, think) => ({
        bdi,
        limit,
        setpoint,
        dirty,
        wb_setpoint: wbSetpoint,
        wb_dirty: wbDirty,
        dirty_ratelimit: dirtyRatelimit,
        task_ratelimit: taskRatelimit,
        dirtied,
        dirtied_pause: dirtiedPause,
        paused,
        pause,
        period,
        think,
        cgroup_ino: 1,
      }),
    ),
    bdi_dirty_ratelimit: tp<[bdi: string, writeBwKBps: number, avgWriteBwKBps: number, dirtyRateKBps: number, dirtyRatelimitKBps: number, taskRatelimitKBps: number, balancedKBps: number]>(
      reg,
      'writeback:bdi_dirty_ratelimit',
      (_h, bdi, writeBw, avgWriteBw, dirtyRate, dirtyRatelimit, taskRatelimit, balanced) => ({
        bdi,
        write_bw: writeBw,
        avg_write_bw: avgWriteBw,
        dirty_rate: dirtyRate,
        dirty_ratelimit: dirtyRatelimit,
        task_ratelimit: taskRatelimit,
        balanced_dirty_ratelimit: balanced,
        cgroup_ino: 1,
      }),
    ),
  };
}

/** include/trace/events/vmscan.h */
function vmscan(reg: ProbeRegistry) {
  return {
    mm_vmscan_kswapd_sleep: tp<[nid: number]>(reg, 'vmscan:mm_vmscan_kswapd_sleep', (_h, nid) => ({ nid })),
    mm_vmscan_kswapd_wake: tp<[nid: number, zid: number, order: number]>(reg, 'vmscan:mm_vmscan_kswapd_wake', (_h, nid, zid, order) => ({ nid, zid, order })),
    mm_vmscan_wakeup_kswapd: tp<[nid: number, zid: number, order: number, gfpFlags: number]>(reg, 'vmscan:mm_vmscan_wakeup_kswapd', (_h, nid, zid, order, gfpFlags) => ({
      nid,
      zid,
      order,
      gfp_flags: gfpFlags,
    })),
    mm_vmscan_direct_reclaim_begin: tp<[order: number, gfpFlags: number]>(reg, 'vmscan:mm_vmscan_direct_reclaim_begin', (_h, order, gfpFlags) => ({ order, gfp_flags: gfpFlags })),
    mm_vmscan_direct_reclaim_end: tp<[nrReclaimed: number]>(reg, 'vmscan:mm_vmscan_direct_reclaim_end', (_h, nrReclaimed) => ({ nr_reclaimed: nrReclaimed })),
    mm_vmscan_memcg_reclaim_begin: tp<[order: number, gfpFlags: number]>(reg, 'vmscan:mm_vmscan_memcg_reclaim_begin', (_h, order, gfpFlags) => ({ order, gfp_flags: gfpFlags })),
    mm_vmscan_memcg_reclaim_end: tp<[nrReclaimed: number]>(reg, 'vmscan:mm_vmscan_memcg_reclaim_end', (_h, nrReclaimed) => ({ nr_reclaimed: nrReclaimed })),
    mm_vmscan_lru_isolate: tp<[highestZoneidx: number, order: number, nrRequested: number, nrScanned: number, nrSkipped: number, nrTaken: number, isolateMode: number, lru: number]>(
      reg,
      'vmscan:mm_vmscan_lru_isolate',
      (_h, highestZoneidx, order, nrRequested, nrScanned, nrSkipped, nrTaken, isolateMode, lru) => ({
        highest_zoneidx: highestZoneidx,
        order,
        nr_requested: nrRequested,
        nr_scanned: nrScanned,
        nr_skipped: nrSkipped,
        nr_taken: nrTaken,
        isolate_mode: isolateMode,
        lru,
      }),
    ),
    mm_vmscan_lru_shrink_inactive: tp<
      [nid: number, nrScanned: number, nrReclaimed: number, nrDirty: number, nrWriteback: number, nrImmediate: number, nrActivateFile: number, nrRefKeep: number, nrUnmapFail: number, priority: number, reclaimFlags: number]
    >(reg, 'vmscan:mm_vmscan_lru_shrink_inactive', (_h, nid, nrScanned, nrReclaimed, nrDirty, nrWriteback, nrImmediate, nrActivateFile, nrRefKeep, nrUnmapFail, priority, reclaimFlags) => ({
      nid,
      nr_scanned: nrScanned,
      nr_reclaimed: nrReclaimed,
      nr_dirty: nrDirty,
      nr_writeback: nrWriteback,
      nr_congested: 0,
      nr_immediate: nrImmediate,
      nr_activate0: 0,
      nr_activate1: nrActivateFile,
      nr_ref_keep: nrRefKeep,
      nr_unmap_fail: nrUnmapFail,
      priority,
      reclaim_flags: reclaimFlags,
    })),
    mm_vmscan_lru_shrink_active: tp<[nid: number, nrTaken: number, nrActive: number, nrDeactivated: number, nrReferenced: number, priority: number, reclaimFlags: number]>(
      reg,
      'vmscan:mm_vmscan_lru_shrink_active',
      (_h, nid, nrTaken, nrActive, nrDeactivated, nrReferenced, priority, reclaimFlags) => ({
        nid,
        nr_taken: nrTaken,
        nr_active: nrActive,
        nr_deactivated: nrDeactivated,
        nr_referenced: nrReferenced,
        priority,
        reclaim_flags: reclaimFlags,
      }),
    ),
  };
}

function ext4(reg: ProbeRegistry) {
  return {
    ext4_ext_map_blocks_enter: tp<[inode: Inode, lblk: number, len: number, flags: number]>(reg, 'ext4:ext4_ext_map_blocks_enter', (_h, inode, lblk, len, flags) => ({
      dev: inode.sDev,
      ino: inode.ino,
      lblk,
      len,
      flags,
    })),
    ext4_ext_map_blocks_exit: tp<[inode: Inode, flags: number, pblk: number, lblk: number, len: number, ret: number]>(
      reg,
      'ext4:ext4_ext_map_blocks_exit',
      (_h, inode, flags, pblk, lblk, len, ret) => ({
        dev: inode.sDev,
        ino: inode.ino,
        flags,
        pblk,
        lblk,
        len,
        mflags: 0,
        ret,
      }),
    ),
    ext4_sync_file_enter: tp<[inode: Inode, datasync: boolean]>(reg, 'ext4:ext4_sync_file_enter', (_h, inode, datasync) => ({
      dev: inode.sDev,
      ino: inode.ino,
      parent: 2,
      datasync: datasync ? 1 : 0,
    })),
    ext4_sync_file_exit: tp<[inode: Inode, ret: number]>(reg, 'ext4:ext4_sync_file_exit', (_h, inode, ret) => ({
      dev: inode.sDev,
      ino: inode.ino,
      ret,
    })),
    ext4_da_write_begin: tp<[inode: Inode, pos: number, len: number]>(reg, 'ext4:ext4_da_write_begin', (_h, inode, pos, len) => ({
      dev: inode.sDev,
      ino: inode.ino,
      pos,
      len,
    })),
    // jbd2 (include/trace/events/jbd2.h): the commit phases, the run statistics, checkpointing
    jbd2_start_commit: tp<[dev: number, sync: number, tid: number]>(reg, 'jbd2:jbd2_start_commit', (_h, dev, sync, tid) => ({ dev, sync_commit: sync, transaction: tid })),
    jbd2_commit_locking: tp<[dev: number, sync: number, tid: number]>(reg, 'jbd2:jbd2_commit_locking', (_h, dev, sync, tid) => ({ dev, sync_commit: sync, transaction: tid })),
    jbd2_commit_flushing: tp<[dev: number, sync: number, tid: number]>(reg, 'jbd2:jbd2_commit_flushing', (_h, dev, sync, tid) => ({ dev, sync_commit: sync, transaction: tid })),
    jbd2_commit_logging: tp<[dev: number, sync: number, tid: number]>(reg, 'jbd2:jbd2_commit_logging', (_h, dev, sync, tid) => ({ dev, sync_commit: sync, transaction: tid })),
    jbd2_end_commit: tp<[dev: number, sync: number, tid: number, head: number]>(reg, 'jbd2:jbd2_end_commit', (_h, dev, sync, tid, head) => ({
      dev,
      sync_commit: sync,
      transaction: tid,
      head,
    })),
    jbd2_run_stats: tp<[dev: number, tid: number, s: Jbd2RunStats]>(reg, 'jbd2:jbd2_run_stats', (_h, dev, tid, s) => ({
      dev,
      tid,
      wait: s.wait,
      request_delay: s.requestDelay,
      running: s.running,
      locked: s.locked,
      flushing: s.flushing,
      logging: s.logging,
      handle_count: s.handleCount,
      blocks: s.blocks,
      blocks_logged: s.blocksLogged,
    })),
    jbd2_handle_start: tp<[dev: number, tid: number, type: number, requestedBlocks: number]>(reg, 'jbd2:jbd2_handle_start', (_h, dev, tid, type, requestedBlocks) => ({
      dev,
      tid,
      type,
      line_no: 0,
      requested_blocks: requestedBlocks,
    })),
    jbd2_checkpoint: tp<[dev: number, result: number]>(reg, 'jbd2:jbd2_checkpoint', (_h, dev, result) => ({ dev, result })),
    jbd2_update_log_tail: tp<[dev: number, tailSequence: number, firstTid: number, blockNr: number, freed: number]>(
      reg,
      'jbd2:jbd2_update_log_tail',
      (_h, dev, tailSequence, firstTid, blockNr, freed) => ({ dev, tail_sequence: tailSequence, first_tid: firstTid, block_nr: blockNr, freed }),
    ),
  };
}

function kiotrace(reg: ProbeRegistry) {
  return {
    folio_wait: tp<[folio: Folio, bit: string]>(
      reg,
      'kiotrace:folio_wait',
      (_h, folio, bit) => ({
        s_dev: folio.mapping?.host.sDev ?? 0,
        i_ino: folio.mapping?.host.ino ?? 0,
        index: folio.index,
        pfn: folio.pfn,
        bit,
      }),
      kiotraceFields([
        ['dev_t s_dev', 4, false],
        ['unsigned long i_ino', 8, false],
        ['unsigned long index', 8, false],
        ['unsigned long pfn', 8, false],
        ['char bit[16]', 16, false],
      ]),
    ),
    device_fetch: tp<[s: DeviceStep]>(reg, 'kiotrace:device_fetch', (_h, s) => deviceStepFields(s), kiotraceFields(DEVICE_STEP_DECLS)),
    device_media: tp<[s: MediaStep]>(
      reg,
      'kiotrace:device_media',
      (_h, s) => ({
        ...deviceStepFields(s),
        channel: s.channel,
        die: s.die,
        seek_ns: s.seekNs,
        rotation_ns: s.rotationNs,
        media_ns: s.mediaNs,
        cache_hit: s.cacheHit ? 1 : 0,
      }),
      kiotraceFields([
        ...DEVICE_STEP_DECLS,
        ['int channel', 4, true],
        ['int die', 4, true],
        ['s64 seek_ns', 8, true],
        ['s64 rotation_ns', 8, true],
        ['s64 media_ns', 8, true],
        ['bool cache_hit', 1, false],
      ]),
    ),
    dma_transfer: tp<[s: DmaStep]>(
      reg,
      'kiotrace:dma_transfer',
      (_h, s) => ({
        ...deviceStepFields(s),
        to_device: s.toDevice ? 1 : 0,
        bytes: s.bytes,
        nr_sg: s.nrSg,
        dma_addr: s.dmaAddr,
        duration_ns: s.durationNs,
      }),
      kiotraceFields([
        ...DEVICE_STEP_DECLS,
        ['bool to_device', 1, false],
        ['unsigned int bytes', 4, false],
        ['unsigned int nr_sg', 4, false],
        ['dma_addr_t dma_addr', 8, false],
        ['u64 duration_ns', 8, false],
      ]),
    ),
    fault_vma: tp<[address: number, vma: Vma, inode: Inode, pgoff: number]>(
      reg,
      'kiotrace:fault_vma',
      (_h, address, vma, inode, pgoff) => ({
        address,
        vpn: Math.floor(address / 4096),
        vm_start: vma.startVa,
        vm_end: vma.endVa,
        s_dev: inode.sDev,
        i_ino: inode.ino,
        pgoff,
      }),
      kiotraceFields([
        ['unsigned long address', 8, false],
        ['unsigned long vpn', 8, false],
        ['unsigned long vm_start', 8, false],
        ['unsigned long vm_end', 8, false],
        ['dev_t s_dev', 4, false],
        ['unsigned long i_ino', 8, false],
        ['unsigned long pgoff', 8, false],
      ]),
    ),
    set_pte: tp<[chain: FaultChain]>(
      reg,
      'kiotrace:set_pte',
      (_h, c) => ({
        address: c.address,
        vpn: c.vpn,
        i_ino: c.ino,
        pgoff: c.pgoff,
        block: c.block,
        sector: c.sector,
        pfn: c.pfn,
        major: c.major ? 1 : 0,
      }),
      kiotraceFields([
        ['unsigned long address', 8, false],
        ['unsigned long vpn', 8, false],
        ['unsigned long i_ino', 8, false],
        ['unsigned long pgoff', 8, false],
        ['s64 block', 8, true],
        ['s64 sector', 8, true],
        ['unsigned long pfn', 8, false],
        ['bool major', 1, false],
      ]),
    ),
    // data versions (core/mm/data-gen.ts): what a page holds, for coherence and durability
    page_data_write: tp<[inode: Inode, index: number, version: number, source: string]>(
      reg,
      'kiotrace:page_data_write',
      (_h, inode, index, version, source) => ({ s_dev: inode.sDev, i_ino: inode.ino, index, version, source }),
      kiotraceFields([
        ['dev_t s_dev', 4, false],
        ['unsigned long i_ino', 8, false],
        ['unsigned long index', 8, false],
        ['unsigned long version', 8, false],
        ['char source[8]', 8, false],
      ]),
    ),
    page_data_access: tp<[inode: Inode, index: number, version: number, written: number, onDevice: number, write: number]>(
      reg,
      'kiotrace:page_data_access',
      (_h, inode, index, version, written, onDevice, write) => ({ s_dev: inode.sDev, i_ino: inode.ino, index, version, written, on_device: onDevice, write }),
      kiotraceFields([
        ['dev_t s_dev', 4, false],
        ['unsigned long i_ino', 8, false],
        ['unsigned long index', 8, false],
        ['unsigned long version', 8, false],
        ['unsigned long written', 8, false],
        ['unsigned long on_device', 8, false],
        ['bool write', 1, false],
      ]),
    ),
    dio_invalidate_fail: tp<[inode: Inode, index: number, version: number]>(
      reg,
      'kiotrace:dio_invalidate_fail',
      (_h, inode, index, version) => ({ s_dev: inode.sDev, i_ino: inode.ino, index, version }),
      kiotraceFields([
        ['dev_t s_dev', 4, false],
        ['unsigned long i_ino', 8, false],
        ['unsigned long index', 8, false],
        ['unsigned long version', 8, false],
      ]),
    ),
    // SSD firmware (core/hw/nvme/ftl.ts): garbage collection and erases, no host command attached
    ftl_gc: tp<[dev: number, die: number, block: number, validPages: number, freeBlocks: number]>(
      reg,
      'kiotrace:ftl_gc',
      (_h, dev, die, block, validPages, freeBlocks) => ({ dev, die, block, valid_pages: validPages, free_blocks: freeBlocks }),
      kiotraceFields([
        ['dev_t dev', 4, false],
        ['int die', 4, true],
        ['unsigned int block', 4, false],
        ['unsigned int valid_pages', 4, false],
        ['unsigned int free_blocks', 4, false],
      ]),
    ),
    ftl_erase: tp<[dev: number, die: number, block: number, copiedPages: number, hostPages: number, nandPages: number]>(
      reg,
      'kiotrace:ftl_erase',
      (_h, dev, die, block, copiedPages, hostPages, nandPages) => ({ dev, die, block, copied_pages: copiedPages, host_pages: hostPages, nand_pages: nandPages }),
      kiotraceFields([
        ['dev_t dev', 4, false],
        ['int die', 4, true],
        ['unsigned int block', 4, false],
        ['unsigned int copied_pages', 4, false],
        ['u64 host_pages', 8, false],
        ['u64 nand_pages', 8, false],
      ]),
    ),
    // blk-throttle (io.max): Linux logs these only as blktrace messages ("throtl ...")
    throtl_bio_queue: tp<[bio: Bio, cgroup: string, bytesDisp: number, ioDisp: number, nrQueued: number]>(
      reg,
      'kiotrace:throtl_bio_queue',
      (_h, bio, cgroup, bytesDisp, ioDisp, nrQueued) => ({ ...throtlBioFields(bio, cgroup), bytes_disp: bytesDisp, io_disp: ioDisp, nr_queued: nrQueued }),
      kiotraceFields([...THROTL_BIO_DECLS, ['u64 bytes_disp', 8, false], ['unsigned int io_disp', 4, false], ['unsigned int nr_queued', 4, false]]),
    ),
    throtl_bio_dispatch: tp<[bio: Bio, cgroup: string, waitNs: number]>(
      reg,
      'kiotrace:throtl_bio_dispatch',
      (_h, bio, cgroup, waitNs) => ({ ...throtlBioFields(bio, cgroup), wait_ns: waitNs }),
      kiotraceFields([...THROTL_BIO_DECLS, ['u64 wait_ns', 8, false]]),
    ),
  };
}

// the print spooler (core/userspace/lpd.ts): a job's state changes (queued, printing, done,
// removed, and its queue suspended or resumed), as lpd's status file and CUPS's job-state report them
function spool(reg: ProbeRegistry) {
  return {
    spool_job: tp<[printer: string, job: number, owner: string, sizeBytes: number, state: string]>(
      reg,
      'kiotrace:spool_job',
      (_h, printer, job, owner, sizeBytes, state) => ({ printer, job, owner, size_bytes: sizeBytes, state }),
      kiotraceFields([
        ['char printer[16]', 16, false],
        ['int job', 4, true],
        ['char owner[16]', 16, false],
        ['u64 size_bytes', 8, false],
        ['char state[12]', 12, false],
      ]),
    ),
  };
}

// blk-iolatency (io.latency): Linux has no tracepoint for it (iocost has iocost:*); a group's window
// check (the latency it measured against its target) and a group's depth change
function iolatency(reg: ProbeRegistry) {
  return {
    iolatency_check: tp<[dev: number, cgroup: string, targetNs: number, winNs: number, samples: number, missed: number, meanNs: number, ok: number, cookie: number]>(
      reg,
      'kiotrace:iolatency_check',
      (_h, dev, cgroup, targetNs, winNs, samples, missed, meanNs, ok, cookie) => ({ dev, cgroup, target_ns: targetNs, win_ns: winNs, samples, missed, mean_ns: meanNs, ok, scale_cookie: cookie }),
      kiotraceFields([
        ['dev_t dev', 4, false],
        ['char cgroup[64]', 64, false],
        ['u64 target_ns', 8, false],
        ['u64 win_ns', 8, false],
        ['u64 samples', 8, false],
        ['u64 missed', 8, false],
        ['u64 mean_ns', 8, false],
        ['int ok', 4, true],
        ['unsigned int scale_cookie', 4, false],
      ]),
    ),
    iolatency_scale: tp<[dev: number, cgroup: string, oldDepth: number, newDepth: number, useDelay: number, cookie: number, scaleLatNs: number, latNs: number]>(
      reg,
      'kiotrace:iolatency_scale',
      (_h, dev, cgroup, oldDepth, newDepth, useDelay, cookie, scaleLatNs, latNs) => ({ dev, cgroup, old_depth: oldDepth, new_depth: newDepth, use_delay: useDelay, scale_cookie: cookie, scale_lat_ns: scaleLatNs, lat_ns: latNs }),
      kiotraceFields([
        ['dev_t dev', 4, false],
        ['char cgroup[64]', 64, false],
        ['unsigned int old_depth', 4, false],
        ['unsigned int new_depth', 4, false],
        ['int use_delay', 4, true],
        ['unsigned int scale_cookie', 4, false],
        ['u64 scale_lat_ns', 8, false],
        ['u64 lat_ns', 8, false],
      ]),
    ),
  };
}

/** The bio and group fields both kiotrace:throtl_* sites start with. */
const THROTL_BIO_DECLS: readonly [decl: string, size: number, signed: boolean][] = [
  ['dev_t dev', 4, false],
  ['sector_t sector', 8, false],
  ['unsigned int nr_sector', 4, false],
  ['char rwbs[8]', 8, false],
  ['char cgroup[64]', 64, false],
];

function throtlBioFields(bio: Bio, cgroup: string): FieldRecord {
  return { dev: bio.dev, sector: bio.sector, nr_sector: bio.nrSectors, rwbs: fillRwbs(bio.op, bio.flags), cgroup };
}

/** What io_uring tracepoints read from a request (struct io_kiocb). */
export interface TracedIoReq {
  readonly kaddr: number;
  readonly ctxKaddr: number;
  readonly userData: number;
  readonly opcode: number;
  readonly opStr: string;
  /** req->flags (REQ_F_*). */
  readonly reqFlags: number;
}

function ioUring(reg: ProbeRegistry) {
  return {
    io_uring_create: tp<[fd: number, ctx: number, sqEntries: number, cqEntries: number, flags: number]>(
      reg,
      'io_uring:io_uring_create',
      (_h, fd, ctx, sqEntries, cqEntries, flags) => ({ fd, ctx, sq_entries: sqEntries, cq_entries: cqEntries, flags }),
    ),
    io_uring_register: tp<[ctx: number, opcode: number, nrFiles: number, nrBufs: number, ret: number]>(
      reg,
      'io_uring:io_uring_register',
      (_h, ctx, opcode, nrFiles, nrBufs, ret) => ({ ctx, opcode, nr_files: nrFiles, nr_bufs: nrBufs, ret }),
    ),
    io_uring_file_get: tp<[req: TracedIoReq, fd: number]>(reg, 'io_uring:io_uring_file_get', (_h, req, fd) => ({
      ctx: req.ctxKaddr,
      req: req.kaddr,
      user_data: req.userData,
      fd,
    })),
    io_uring_submit_req: tp<[req: TracedIoReq, sqThread: boolean]>(reg, 'io_uring:io_uring_submit_req', (_h, req, sqThread) => ({
      ctx: req.ctxKaddr,
      req: req.kaddr,
      user_data: req.userData,
      opcode: req.opcode,
      flags: req.reqFlags,
      sq_thread: sqThread ? 1 : 0,
      op_str: req.opStr,
    })),
    io_uring_queue_async_work: tp<[req: TracedIoReq, work: number, hashed: boolean]>(reg, 'io_uring:io_uring_queue_async_work', (_h, req, work, hashed) => ({
      ctx: req.ctxKaddr,
      req: req.kaddr,
      user_data: req.userData,
      opcode: req.opcode,
      flags: req.reqFlags,
      work,
      rw: hashed ? 1 : 0,
      op_str: req.opStr,
    })),
    io_uring_complete: tp<[req: TracedIoReq, res: number, cflags: number]>(reg, 'io_uring:io_uring_complete', (_h, req, res, cflags) => ({
      ctx: req.ctxKaddr,
      req: req.kaddr,
      user_data: req.userData,
      res,
      cflags,
      extra1: 0,
      extra2: 0,
    })),
    io_uring_cqe_overflow: tp<[req: TracedIoReq, res: number, cflags: number, ocqe: number]>(reg, 'io_uring:io_uring_cqe_overflow', (_h, req, res, cflags, ocqe) => ({
      ctx: req.ctxKaddr,
      user_data: req.userData,
      res,
      cflags,
      ocqe,
    })),
    io_uring_cqring_wait: tp<[ctx: number, minEvents: number]>(reg, 'io_uring:io_uring_cqring_wait', (_h, ctx, minEvents) => ({ ctx, min_events: minEvents })),
    io_uring_poll_arm: tp<[req: TracedIoReq, mask: number, events: number]>(reg, 'io_uring:io_uring_poll_arm', (_h, req, mask, events) => ({
      ctx: req.ctxKaddr,
      req: req.kaddr,
      user_data: req.userData,
      opcode: req.opcode,
      mask,
      events,
      op_str: req.opStr,
    })),
    io_uring_task_add: tp<[req: TracedIoReq, mask: number]>(reg, 'io_uring:io_uring_task_add', (_h, req, mask) => ({
      ctx: req.ctxKaddr,
      req: req.kaddr,
      user_data: req.userData,
      opcode: req.opcode,
      mask,
      op_str: req.opStr,
    })),
  };
}

function raw(reg: ProbeRegistry) {
  return {
    sys_enter: tp<[id: number, args: readonly number[]]>(reg, 'raw_syscalls:sys_enter', (_h, id, args) => ({
      id,
      args: [0, 1, 2, 3, 4, 5].map((i) => args[i] ?? 0),
    })),
    sys_exit: tp<[id: number, ret: number]>(reg, 'raw_syscalls:sys_exit', (_h, id, ret) => ({ id, ret })),
  };
}

function p(type: string, name: string) {
  return { type, name };
}

function funcs(reg: ProbeRegistry) {
  const fn = <P extends readonly unknown[]>(name: string, params: { type: string; name: string }[], ret: string) =>
    reg.addFunc(new FuncProbe<P>(name, params, ret));
  return {
    ksys_read: fn<[fd: number, buf: number, count: number]>('ksys_read', [p('unsigned int', 'fd'), p('char *', 'buf'), p('size_t', 'count')], 'ssize_t'),
    vfs_read: fn<[file: File, buf: number, count: number, pos: number]>(
      'vfs_read',
      [p('struct file *', 'file'), p('char *', 'buf'), p('size_t', 'count'), p('loff_t *', 'pos')],
      'ssize_t',
    ),
    vfs_write: fn<[file: File, buf: number, count: number, pos: number]>(
      'vfs_write',
      [p('struct file *', 'file'), p('const char *', 'buf'), p('size_t', 'count'), p('loff_t *', 'pos')],
      'ssize_t',
    ),
    vfs_open: fn<[path: object, file: File]>('vfs_open', [p('const struct path *', 'path'), p('struct file *', 'file')], 'int'),
    // fs/namei.c and fs/dcache.c: path walk through the dentry cache (dcsnoop's probes)
    lookup_fast: fn<[nd: object]>('lookup_fast', [p('struct nameidata *', 'nd')], 'struct dentry *'),
    __d_lookup_rcu: fn<[parent: object, name: object, seqp: number]>(
      '__d_lookup_rcu',
      [p('const struct dentry *', 'parent'), p('const struct qstr *', 'name'), p('unsigned int *', 'seqp')],
      'struct dentry *',
    ),
    d_lookup: fn<[parent: object, name: object]>('d_lookup', [p('const struct dentry *', 'parent'), p('const struct qstr *', 'name')], 'struct dentry *'),
    // security/commoncap.c: the capability check behind capable() (capable.bt)
    cap_capable: fn<[cred: number, targNs: number, cap: number, opts: number]>(
      'cap_capable',
      [p('const struct cred *', 'cred'), p('struct user_namespace *', 'targ_ns'), p('int', 'cap'), p('unsigned int', 'opts')],
      'int',
    ),
    vfs_fsync: fn<[file: File, datasync: number]>('vfs_fsync', [p('struct file *', 'file'), p('int', 'datasync')], 'int'),
    vfs_create: fn<[idmap: number, dir: Inode | undefined, dentry: object, mode: number, wantExcl: number]>(
      'vfs_create',
      [p('struct mnt_idmap *', 'idmap'), p('struct inode *', 'dir'), p('struct dentry *', 'dentry'), p('umode_t', 'mode'), p('bool', 'want_excl')],
      'int',
    ),
    vfs_fsync_range: fn<[file: File, start: number, end: number, datasync: number]>(
      'vfs_fsync_range',
      [p('struct file *', 'file'), p('loff_t', 'start'), p('loff_t', 'end'), p('int', 'datasync')],
      'int',
    ),
    vfs_llseek: fn<[file: File, offset: number, whence: number]>('vfs_llseek', [p('struct file *', 'file'), p('loff_t', 'offset'), p('int', 'whence')], 'loff_t'),
    filemap_read: fn<[iocb: object, iter: number, alreadyRead: number]>(
      'filemap_read',
      [p('struct kiocb *', 'iocb'), p('struct iov_iter *', 'iter'), p('ssize_t', 'already_read')],
      'ssize_t',
    ),
    filemap_get_pages: fn<[iocb: object, count: number, fbatch: number, needUptodate: number]>(
      'filemap_get_pages',
      [p('struct kiocb *', 'iocb'), p('size_t', 'count'), p('struct folio_batch *', 'fbatch'), p('bool', 'need_uptodate')],
      'int',
    ),
    filemap_fault: fn<[vmf: object]>('filemap_fault', [p('struct vm_fault *', 'vmf')], 'vm_fault_t'),
    handle_mm_fault: fn<[vma: Vma, address: number, flags: number, regs: number]>(
      'handle_mm_fault',
      [p('struct vm_area_struct *', 'vma'), p('unsigned long', 'address'), p('unsigned int', 'flags'), p('struct pt_regs *', 'regs')],
      'vm_fault_t',
    ),
    page_cache_sync_ra: fn<[ractl: object, reqCount: number]>('page_cache_sync_ra', [p('struct readahead_control *', 'ractl'), p('unsigned long', 'req_count')], 'void'),
    page_cache_async_ra: fn<[ractl: object, folio: Folio, reqCount: number]>(
      'page_cache_async_ra',
      [p('struct readahead_control *', 'ractl'), p('struct folio *', 'folio'), p('unsigned long', 'req_count')],
      'void',
    ),
    // mm/fadvise.c and what its advice runs: forced readahead, invalidation (returns the folios dropped)
    force_page_cache_ra: fn<[ractl: object, nrToRead: number]>('force_page_cache_ra', [p('struct readahead_control *', 'ractl'), p('unsigned long', 'nr_to_read')], 'void'),
    generic_fadvise: fn<[file: File, offset: number, len: number, advice: number]>(
      'generic_fadvise',
      [p('struct file *', 'file'), p('loff_t', 'offset'), p('loff_t', 'len'), p('int', 'advice')],
      'int',
    ),
    mapping_try_invalidate: fn<[mapping: object, start: number, end: number]>(
      'mapping_try_invalidate',
      [p('struct address_space *', 'mapping'), p('unsigned long', 'start'), p('unsigned long', 'end'), p('unsigned long *', 'nr_failed')],
      'unsigned long',
    ),
    folio_mark_dirty: fn<[folio: Folio]>('folio_mark_dirty', [p('struct folio *', 'folio')], 'bool'),
    ext4_file_read_iter: fn<[iocb: object, to: number]>('ext4_file_read_iter', [p('struct kiocb *', 'iocb'), p('struct iov_iter *', 'to')], 'ssize_t'),
    ext4_file_write_iter: fn<[iocb: object, from: number]>('ext4_file_write_iter', [p('struct kiocb *', 'iocb'), p('struct iov_iter *', 'from')], 'ssize_t'),
    ext4_sync_file: fn<[file: File, start: number, end: number, datasync: number]>(
      'ext4_sync_file',
      [p('struct file *', 'file'), p('loff_t', 'start'), p('loff_t', 'end'), p('int', 'datasync')],
      'int',
    ),
    submit_bio: fn<[bio: Bio]>('submit_bio', [p('struct bio *', 'bio')], 'void'),
    blk_mq_submit_bio: fn<[bio: Bio]>('blk_mq_submit_bio', [p('struct bio *', 'bio')], 'void'),
    blk_mq_start_request: fn<[rq: Request]>('blk_mq_start_request', [p('struct request *', 'rq')], 'void'),
    blk_mq_end_request: fn<[rq: Request, error: number]>('blk_mq_end_request', [p('struct request *', 'rq'), p('blk_status_t', 'error')], 'void'),
    blk_mq_complete_request: fn<[rq: Request]>('blk_mq_complete_request', [p('struct request *', 'rq')], 'void'),
    blk_account_io_start: fn<[req: Request]>('blk_account_io_start', [p('struct request *', 'req')], 'void'),
    blk_account_io_done: fn<[req: Request, now: number]>('blk_account_io_done', [p('struct request *', 'req'), p('u64', 'now')], 'void'),
    nvme_queue_rq: fn<[hctx: object, rq: Request]>('nvme_queue_rq', [p('struct blk_mq_hw_ctx *', 'hctx'), p('const struct blk_mq_queue_data *', 'bd')], 'blk_status_t'),
    dma_map_sg: fn<[dev: number, nents: number, dir: number]>(
      'dma_map_sg',
      [p('struct device *', 'dev'), p('struct scatterlist *', 'sg'), p('int', 'nents'), p('enum dma_data_direction', 'dir')],
      'int',
    ),
    io_submit_one: fn<[ctx: object, userIocb: number, compat: number]>(
      'io_submit_one',
      [p('struct kioctx *', 'ctx'), p('const struct iocb *', 'user_iocb'), p('bool', 'compat')],
      'int',
    ),
    // lib/iov_iter.c: the copies between the page cache and user memory (what O_DIRECT and
    // registered buffers avoid); arg2 is the bytes copied
    copy_page_to_iter: fn<[page: object, offset: number, bytes: number]>(
      'copy_page_to_iter',
      [p('struct page *', 'page'), p('size_t', 'offset'), p('size_t', 'bytes'), p('struct iov_iter *', 'i')],
      'size_t',
    ),
    copy_page_from_iter_atomic: fn<[page: object, offset: number, bytes: number]>(
      'copy_page_from_iter_atomic',
      [p('struct page *', 'page'), p('size_t', 'offset'), p('size_t', 'bytes'), p('struct iov_iter *', 'i')],
      'size_t',
    ),
    aio_complete_rw: fn<[kiocb: object, res: number]>('aio_complete_rw', [p('struct kiocb *', 'kiocb'), p('long', 'res')], 'void'),
    do_nanosleep: fn<[t: number, mode: number]>('do_nanosleep', [p('struct hrtimer_sleeper *', 't'), p('enum hrtimer_mode', 'mode')], 'int'),
    try_to_wake_up: fn<[p: Task, state: number, wakeFlags: number]>(
      'try_to_wake_up',
      [p('struct task_struct *', 'p'), p('unsigned int', 'state'), p('int', 'wake_flags')],
      'int',
    ),
  };
}

// ---- power management and the device-status table (rpm.h, power.h; kiotrace:device_state) ----

/** What the rpm_* tracepoints read from a device (its name and struct dev_pm_info). */
export interface RpmTraced {
  readonly name: string;
  readonly power: { readonly usageCount: number; readonly disableDepth: number; readonly runtimeAuto: boolean; readonly childCount: number } | undefined;
}

/** A device-status table entry as kiotrace:device_state reads it. */
export interface DeviceStateTraced {
  readonly name: string;
  readonly devt: number;
  readonly state: number;
}

/** PWR_EVENT_EXIT: cpu_idle's state on leaving idle ((u32)-1). */
export const PWR_EVENT_EXIT = 0xffff_ffff;

function power(reg: ProbeRegistry) {
  const rpm = (_h: ProbeHit, d: RpmTraced, flags: number): FieldRecord => ({
    name: d.name,
    flags,
    usage_count: d.power?.usageCount ?? 0,
    disable_depth: d.power?.disableDepth ?? 0,
    runtime_auto: d.power?.runtimeAuto ? 1 : 0,
    request_pending: 0,
    irq_safe: 0,
    child_count: d.power?.childCount ?? 0,
  });
  return {
    rpm_idle: tp<[d: RpmTraced, flags: number]>(reg, 'rpm:rpm_idle', rpm),
    rpm_suspend: tp<[d: RpmTraced, flags: number]>(reg, 'rpm:rpm_suspend', rpm),
    rpm_resume: tp<[d: RpmTraced, flags: number]>(reg, 'rpm:rpm_resume', rpm),
    cpu_idle: tp<[state: number, cpuId: number]>(reg, 'power:cpu_idle', (_h, state, cpuId) => ({ state, cpu_id: cpuId })),
    cpu_idle_miss: tp<[cpuId: number, state: number, below: boolean]>(reg, 'power:cpu_idle_miss', (_h, cpuId, state, below) => ({ cpu_id: cpuId, state, below: below ? 1 : 0 })),
    cpu_frequency: tp<[stateKhz: number, cpuId: number]>(reg, 'power:cpu_frequency', (_h, state, cpuId) => ({ state, cpu_id: cpuId })),
    suspend_resume: tp<[action: string, val: number, start: boolean]>(reg, 'power:suspend_resume', (_h, action, val, start) => ({ action, val, start: start ? 1 : 0 })),
    wakeup_source_activate: tp<[name: string, state: number]>(reg, 'power:wakeup_source_activate', (_h, name, state) => ({ name, state })),
    wakeup_source_deactivate: tp<[name: string, state: number]>(reg, 'power:wakeup_source_deactivate', (_h, name, state) => ({ name, state })),
    device_state: tp<[d: DeviceStateTraced, oldState: number, rq: TracedRequest | undefined]>(
      reg,
      'kiotrace:device_state',
      (_h, d, oldState, rq) => ({
        dev: d.devt,
        name: d.name,
        old_state: oldState,
        new_state: d.state,
        sector: rq ? rq.sector : -1,
        rwbs: rq ? fillRwbs(rq.op, rq.cmdFlags) : '',
      }),
      kiotraceFields([
        ['dev_t dev', 4, false],
        ['char name[32]', 32, false],
        ['int old_state', 4, true],
        ['int new_state', 4, true],
        ['s64 sector', 8, true],
        ['char rwbs[10]', 10, false],
      ]),
    ),
  };
}

/** The runtime PM entry points drivers call (kprobe-able; arg0 is the struct device). */
function powerFuncs(reg: ProbeRegistry) {
  const fn = <P extends readonly unknown[]>(name: string) =>
    reg.addFunc(new FuncProbe<P>(name, [p('struct device *', 'dev'), p('int', 'rpmflags')], 'int'));
  return {
    __pm_runtime_idle: fn<[dev: object, rpmflags: number]>('__pm_runtime_idle'),
    __pm_runtime_suspend: fn<[dev: object, rpmflags: number]>('__pm_runtime_suspend'),
    __pm_runtime_resume: fn<[dev: object, rpmflags: number]>('__pm_runtime_resume'),
  };
}

/** The elevators' sites: kyber's tracepoints, and kiotrace: sites for bfq, which has none upstream. */
function elevators(reg: ProbeRegistry) {
  return {
    kyber_latency: tp<[dev: number, domain: string, type: string, percentile: number, numerator: number, denominator: number, samples: number]>(
      reg,
      'kyber:kyber_latency',
      (_h, dev, domain, type, percentile, numerator, denominator, samples) => ({ dev, domain, type, percentile, numerator, denominator, samples }),
    ),
    kyber_adjust: tp<[dev: number, domain: string, depth: number]>(reg, 'kyber:kyber_adjust', (_h, dev, domain, depth) => ({ dev, domain, depth })),
    kyber_throttled: tp<[dev: number, domain: string]>(reg, 'kyber:kyber_throttled', (_h, dev, domain) => ({ dev, domain })),
    // bfq_bfqq_expire: the queue in service gives up the device (reason as enum bfqq_expiration)
    bfq_expire: tp<[dev: number, pid: number, reason: string, service: number, budget: number, nextBudget: number, weight: number]>(
      reg,
      'kiotrace:bfq_expire',
      (_h, dev, pid, reason, service, budget, nextBudget, weight) => ({ dev, pid, reason, service, budget, next_budget: nextBudget, weight }),
      kiotraceFields([
        ['dev_t dev', 4, false],
        ['pid_t pid', 4, true],
        ['char reason[20]', 20, false],
        ['unsigned int service', 4, false],
        ['unsigned int budget', 4, false],
        ['unsigned int next_budget', 4, false],
        ['unsigned int weight', 4, false],
      ]),
    ),
    // low_latency: a queue's weight raised (interactive or soft real-time) or back to normal
    bfq_weight_raise: tp<[dev: number, pid: number, wrCoeff: number, durationNs: number, kind: string]>(
      reg,
      'kiotrace:bfq_weight_raise',
      (_h, dev, pid, wrCoeff, durationNs, kind) => ({ dev, pid, wr_coeff: wrCoeff, duration_ns: durationNs, kind }),
      kiotraceFields([
        ['dev_t dev', 4, false],
        ['pid_t pid', 4, true],
        ['unsigned int wr_coeff', 4, false],
        ['s64 duration_ns', 8, true],
        ['char kind[12]', 12, false],
      ]),
    ),
  };
}

// ---- network devices, NAPI and skbs (include/trace/events/net.h, napi.h, skb.h) ----

/** The location a kfree_skb/consume_skb reports (a kernel text address; one per caller kind). */
export const SKB_LOCATION = { consume: 0xffff_ffff_81a0_0000, drop: 0xffff_ffff_81a0_1000 } as const;

function netdev(reg: ProbeRegistry) {
  const devTemplate = (_h: ProbeHit, skb: SkBuff, dev: NetDevice): FieldRecord => ({ skbaddr: skb.kaddr, len: skb.lenBytes, name: dev.name });
  // the fields net_dev_start_xmit and the net_dev_rx_verbose class share (no VLANs are modelled)
  const verbose = (skb: SkBuff, dev: NetDevice): FieldRecord => ({
    name: dev.name,
    queue_mapping: skb.queueMapping,
    skbaddr: skb.kaddr,
    vlan_tagged: 0,
    vlan_proto: 0,
    vlan_tci: 0,
    protocol: skb.protocol,
    len: skb.lenBytes,
    data_len: skb.dataLenBytes,
    gso_size: skb.gsoSize,
  });
  return {
    net_dev_queue: tp<[skb: SkBuff, dev: NetDevice]>(reg, 'net:net_dev_queue', devTemplate),
    netif_receive_skb: tp<[skb: SkBuff, dev: NetDevice]>(reg, 'net:netif_receive_skb', devTemplate),
    net_dev_xmit: tp<[skb: SkBuff, rc: number, dev: NetDevice, len: number]>(reg, 'net:net_dev_xmit', (_h, skb, rc, dev, len) => ({ skbaddr: skb.kaddr, len, rc, name: dev.name })),
    net_dev_start_xmit: tp<[skb: SkBuff, dev: NetDevice]>(reg, 'net:net_dev_start_xmit', (_h, skb, dev) => ({
      ...verbose(skb, dev),
      ip_summed: 3, // CHECKSUM_PARTIAL: the NIC computes it
      network_offset: 14,
      transport_offset_valid: 1,
      transport_offset: 34,
      tx_flags: 0,
      gso_segs: skb.gsoSegs,
      gso_type: skb.gsoSize > 0 ? 1 : 0, // SKB_GSO_TCPV4
    })),
    napi_gro_receive_entry: tp<[skb: SkBuff, dev: NetDevice, napi: NapiStruct]>(reg, 'net:napi_gro_receive_entry', (_h, skb, dev, napi) => ({
      ...verbose(skb, dev),
      napi_id: napi.index + 1,
      ip_summed: 1, // CHECKSUM_UNNECESSARY: the NIC checked it
      hash: 0,
      l4_hash: 0,
      truesize: 2048,
      mac_header_valid: 1,
      mac_header: -14,
      nr_frags: skb.frags.length,
      gso_type: 0,
    })),
    napi_poll: tp<[napi: NapiStruct, napiAddr: number, work: number, budget: number]>(reg, 'napi:napi_poll', (_h, napi, napiAddr, work, budget) => ({ napi: napiAddr, dev_name: napi.dev.name, work, budget })),
    kfree_skb: tp<[skb: SkBuff, reason: number]>(reg, 'skb:kfree_skb', (_h, skb, reason) => ({ skbaddr: skb.kaddr, location: SKB_LOCATION.drop, rx_sk: 0, protocol: skb.protocol, reason })),
    consume_skb: tp<[skb: SkBuff]>(reg, 'skb:consume_skb', (_h, skb) => ({ skbaddr: skb.kaddr, location: SKB_LOCATION.consume })),
    // the NIC's DMA engine read a packet's buffers (its content is fixed from here: zero-copy reuse before this goes out)
    nic_tx_dma: tp<[dev: NetDevice, qid: number, skb: SkBuff, bytes: number, nrBufs: number, frames: number, startNs: number, endNs: number]>(
      reg,
      'kiotrace:nic_tx_dma',
      (_h, dev, qid, skb, bytes, nrBufs, frames, startNs, endNs) => ({ name: dev.name, qid, skbaddr: skb.kaddr, bytes, nr_bufs: nrBufs, frames, start_ns: startNs, duration_ns: endNs - startNs }),
      kiotraceFields([
        ['char name[16]', 16, false],
        ['int qid', 4, true],
        ['void * skbaddr', 8, false],
        ['unsigned int bytes', 4, false],
        ['unsigned int nr_bufs', 4, false],
        ['unsigned int frames', 4, false],
        ['s64 start_ns', 8, true],
        ['s64 duration_ns', 8, true],
      ]),
    ),
  };
}

// ---- sockets and TCP (include/trace/events/sock.h, tcp.h) and the kprobe-able TCP functions ----

/** An IPv4 address as a __u8[4] field holds it (network order). */
function in4Bytes(addr: number): number[] {
  return [(addr >>> 24) & 0xff, (addr >>> 16) & 0xff, (addr >>> 8) & 0xff, addr & 0xff];
}

const V6_ZERO: readonly number[] = new Array<number>(16).fill(0);

/** struct sockaddr_in in a __u8[28] (sockaddr_in6-sized) field: family, port, address. */
function sockaddrBytes(addr: number, port: number): number[] {
  const b = new Array<number>(28).fill(0);
  b[0] = 2; // AF_INET, little-endian u16
  b[2] = (port >>> 8) & 0xff;
  b[3] = port & 0xff;
  const a = in4Bytes(addr);
  for (let i = 0; i < 4; i++) b[4 + i] = a[i]!;
  return b;
}

/** TP_STORE_ADDRS / the sport..daddr_v6 fields of the tcp_event_sk class. */
function skAddrFields(sk: Sock): Record<string, number | readonly number[]> {
  return {
    sport: sk.num,
    dport: sk.dport,
    family: sk.family,
    saddr: in4Bytes(sk.rcvSaddr),
    daddr: in4Bytes(sk.daddr),
    saddr_v6: V6_ZERO,
    daddr_v6: V6_ZERO,
  };
}

function net(reg: ProbeRegistry) {
  const eventSk = (_h: ProbeHit, sk: Sock): FieldRecord => ({ skaddr: sk.kaddr, ...skAddrFields(sk), sock_cookie: sk.cookie });
  return {
    inet_sock_set_state: tp<[sk: Sock, oldstate: number, newstate: number]>(reg, 'sock:inet_sock_set_state', (_h, sk, oldstate, newstate) => ({
      skaddr: sk.kaddr,
      oldstate,
      newstate,
      protocol: 6,
      ...skAddrFields(sk),
    })),
    sock_rcvqueue_full: tp<[sk: Sock, truesize: number]>(reg, 'sock:sock_rcvqueue_full', (_h, sk, truesize) => ({
      rmem_alloc: sk.rmemAlloc,
      truesize,
      sk_rcvbuf: sk.rcvbuf,
    })),
    sock_exceed_buf_limit: tp<[sk: Sock, kind: number, allocated: number, mem: readonly number[], rmem: readonly number[], wmem: readonly number[]]>(
      reg,
      'sock:sock_exceed_buf_limit',
      (_h, sk, kind, allocated, mem, rmem, wmem) => ({
        name: sk.prot.name,
        sysctl_mem: mem,
        allocated,
        sysctl_rmem: rmem[0] ?? 0,
        rmem_alloc: sk.rmemAlloc,
        sysctl_wmem: wmem[0] ?? 0,
        wmem_alloc: 0,
        wmem_queued: sk.wmemQueued,
        kind,
      }),
    ),
    tcp_retransmit_skb: tp<[sk: Sock, skb: SkBuff, err: number]>(reg, 'tcp:tcp_retransmit_skb', (_h, sk, skb, err) => ({
      skbaddr: skb.kaddr,
      skaddr: sk.kaddr,
      state: sk.state,
      ...skAddrFields(sk),
      err,
    })),
    tcp_probe: tp<[tp: TcpSock, skb: SkBuff]>(reg, 'tcp:tcp_probe', (_h, t, skb) => ({
      saddr: sockaddrBytes(t.rcvSaddr, t.num),
      daddr: sockaddrBytes(t.daddr, t.dport),
      sport: t.num,
      dport: t.dport,
      family: t.family,
      mark: 0,
      data_len: (skb.lenBytes - skb.headerBytes) & 0xffff,
      snd_nxt: t.sndNxt >>> 0,
      snd_una: t.sndUna >>> 0,
      snd_cwnd: t.sndCwnd,
      ssthresh: t.sndSsthresh,
      snd_wnd: t.sndWnd,
      srtt: t.srttUs >> 3,
      rcv_wnd: t.rcvWnd,
      sock_cookie: t.cookie,
      skbaddr: skb.kaddr,
      skaddr: t.kaddr,
    })),
    // reason: enum sk_rst_reason (SK_RST_REASON_NO_SOCKET = 1 for a segment nobody listens for)
    tcp_send_reset: tp<[sk: Sock | undefined, skb: SkBuff, reason: number]>(reg, 'tcp:tcp_send_reset', (_h, sk, skb, reason) => ({
      skbaddr: skb.kaddr,
      skaddr: sk?.kaddr ?? 0,
      state: sk?.state ?? 7,
      reason,
      saddr: sockaddrBytes(skb.flow.daddr, skb.flow.dport),
      daddr: sockaddrBytes(skb.flow.saddr, skb.flow.sport),
    })),
    tcp_receive_reset: tp<[sk: Sock]>(reg, 'tcp:tcp_receive_reset', eventSk),
    tcp_destroy_sock: tp<[sk: Sock]>(reg, 'tcp:tcp_destroy_sock', eventSk),
    tcp_rcv_space_adjust: tp<[sk: Sock]>(reg, 'tcp:tcp_rcv_space_adjust', eventSk),
  };
}

function netFuncs(reg: ProbeRegistry) {
  const fn = <P extends readonly unknown[]>(name: string, params: { type: string; name: string }[], ret: string) =>
    reg.addFunc(new FuncProbe<P>(name, params, ret));
  const sk = p('struct sock *', 'sk');
  return {
    tcp_sendmsg: fn<[sk: Sock, msg: number, size: number]>('tcp_sendmsg', [sk, p('struct msghdr *', 'msg'), p('size_t', 'size')], 'int'),
    tcp_recvmsg: fn<[sk: Sock, msg: number, len: number, flags: number, addrLen: number]>(
      'tcp_recvmsg',
      [sk, p('struct msghdr *', 'msg'), p('size_t', 'len'), p('int', 'flags'), p('int *', 'addr_len')],
      'int',
    ),
    tcp_cleanup_rbuf: fn<[sk: Sock, copied: number]>('tcp_cleanup_rbuf', [sk, p('int', 'copied')], 'void'),
    tcp_v4_connect: fn<[sk: Sock, uaddr: number, addrLen: number]>('tcp_v4_connect', [sk, p('struct sockaddr *', 'uaddr'), p('int', 'addr_len')], 'int'),
    tcp_connect: fn<[sk: Sock]>('tcp_connect', [sk], 'int'),
    inet_csk_accept: fn<[sk: Sock, arg: number]>('inet_csk_accept', [sk, p('struct proto_accept_arg *', 'arg')], 'struct sock *'),
    tcp_set_state: fn<[sk: Sock, state: number]>('tcp_set_state', [sk, p('int', 'state')], 'void'),
    tcp_retransmit_skb: fn<[sk: Sock, skb: SkBuff, segs: number]>('tcp_retransmit_skb', [sk, p('struct sk_buff *', 'skb'), p('int', 'segs')], 'int'),
    tcp_rcv_established: fn<[sk: Sock, skb: SkBuff]>('tcp_rcv_established', [sk, p('struct sk_buff *', 'skb')], 'void'),
    tcp_send_probe0: fn<[sk: Sock]>('tcp_send_probe0', [sk], 'void'),
    tcp_close: fn<[sk: Sock, timeout: number]>('tcp_close', [sk, p('long', 'timeout')], 'void'),
    // skb_linearize -> __pskb_pull_tail(skb, skb->data_len): arg1 is the bytes copied out of the frags
    __pskb_pull_tail: fn<[skb: SkBuff, delta: number]>('__pskb_pull_tail', [p('struct sk_buff *', 'skb'), p('int', 'delta')], 'void *'),
    // the window a segment is about to advertise (0: the receive queue is full)
    __tcp_select_window: fn<[sk: Sock]>('__tcp_select_window', [sk], 'u32'),
  };
}

// ---- sunrpc and nfs (include/trace/events/sunrpc.h, fs/nfs/nfstrace.h) ----

/** nfs_umode_to_dtype: DT_DIR / DT_REG. */
function nfsDtype(inode: NfsInode): number {
  return inode.isDir ? 4 : 8;
}

/** nfs_initiate_read / nfs_initiate_commit: the file and the range. */
function pgioStart(inode: NfsInode, args: { readonly offset: number; readonly count: number }): FieldRecord {
  return { dev: inode.sDev, fhandle: inode.fhandleHash, fileid: inode.fileid, offset: args.offset, count: args.count };
}

function nfsSunrpc(reg: ProbeRegistry) {
  const running = (_h: ProbeHit, task: RpcTask, action: number): FieldRecord => ({
    task_id: task.tkPid,
    client_id: task.tkClient.clClid,
    action,
    runstate: task.tkRunstate,
    status: task.tkStatus,
    flags: task.tkFlags,
  });
  const queued = (_h: ProbeHit, task: RpcTask, qName: string, timeout: number): FieldRecord => ({
    task_id: task.tkPid,
    client_id: task.tkClient.clClid,
    timeout,
    runstate: task.tkRunstate,
    status: task.tkStatus,
    flags: task.tkFlags,
    q_name: qName,
  });
  const xprtEvent = (_h: ProbeHit, xprt: RpcXprt, xid: number, status: number): FieldRecord => ({ xid, status, addr: xprt.addr, port: xprt.port });
  const inodeEvent = (_h: ProbeHit, inode: NfsInode): FieldRecord => ({ dev: inode.sDev, fhandle: inode.fhandleHash, fileid: inode.fileid, version: inode.changeAttr });
  const inodeDone = (_h: ProbeHit, inode: NfsInode, error: number): FieldRecord => ({
    error: error < 0 ? -error : 0,
    dev: inode.sDev,
    fhandle: inode.fhandleHash,
    type: nfsDtype(inode),
    fileid: inode.fileid,
    version: inode.changeAttr,
    size: inode.sizeBytes,
    nfsi_flags: inode.nfsiFlags,
    cache_validity: inode.cacheValidity,
  });
  const lookup = (_h: ProbeHit, dir: NfsInode, dentry: NfsDentryTraced, flags: number): FieldRecord => ({ flags, dev: dir.sDev, dir: dir.fileid, name: dentry.dName.name });
  const lookupDone = (_h: ProbeHit, dir: NfsInode, dentry: NfsDentryTraced, flags: number, error: number): FieldRecord => ({
    error: error < 0 ? -error : 0,
    flags,
    dev: dir.sDev,
    dir: dir.fileid,
    name: dentry.dName.name,
  });
  const inodeTp = (name: string) => tp<[inode: NfsInode]>(reg, `nfs:${name}`, inodeEvent);
  const inodeDoneTp = (name: string) => tp<[inode: NfsInode, error: number]>(reg, `nfs:${name}`, inodeDone);
  const verifier = (verf: number): number[] => [verf & 0xff, (verf >>> 8) & 0xff, (verf >>> 16) & 0xff, (verf >>> 24) & 0xff, 0, 0, 0, 0];
  return {
    rpc_task_begin: tp<[task: RpcTask, action: number]>(reg, 'sunrpc:rpc_task_begin', running),
    rpc_task_run_action: tp<[task: RpcTask, action: number]>(reg, 'sunrpc:rpc_task_run_action', running),
    rpc_task_complete: tp<[task: RpcTask, action: number]>(reg, 'sunrpc:rpc_task_complete', running),
    rpc_task_end: tp<[task: RpcTask, action: number]>(reg, 'sunrpc:rpc_task_end', running),
    rpc_task_sleep: tp<[task: RpcTask, qName: string, timeout: number]>(reg, 'sunrpc:rpc_task_sleep', queued),
    rpc_task_wakeup: tp<[task: RpcTask, qName: string, timeout: number]>(reg, 'sunrpc:rpc_task_wakeup', queued),
    rpc_request: tp<[task: RpcTask]>(reg, 'sunrpc:rpc_request', (_h, task) => ({
      task_id: task.tkPid,
      client_id: task.tkClient.clClid,
      version: task.tkClient.clVers,
      async: task.isAsync ? 1 : 0,
      progname: task.tkClient.clProgram.name,
      procname: task.tkMsg.rpcProc.pName,
    })),
    rpc_call_status: tp<[task: RpcTask]>(reg, 'sunrpc:rpc_call_status', (_h, task) => ({ task_id: task.tkPid, client_id: task.tkClient.clClid, status: task.tkStatus })),
    rpc_stats_latency: tp<[task: RpcTask, backlogUs: number, rttUs: number, executeUs: number]>(reg, 'sunrpc:rpc_stats_latency', (_h, task, backlog, rtt, execute) => ({
      task_id: task.tkPid,
      client_id: task.tkClient.clClid,
      xid: task.tkRqstp?.rqXid ?? 0,
      version: task.tkClient.clVers,
      progname: task.tkClient.clProgram.name,
      procname: task.tkMsg.rpcProc.pName,
      backlog,
      rtt,
      execute,
    })),
    xprt_transmit: tp<[req: RpcRqst, status: number]>(reg, 'sunrpc:xprt_transmit', (_h, req, status) => ({
      task_id: req.rqTask.tkPid,
      client_id: req.rqTask.tkClient.clClid,
      xid: req.rqXid,
      seqno: req.rqSeqno,
      status,
    })),
    xprt_timer: tp<[xprt: RpcXprt, xid: number, status: number]>(reg, 'sunrpc:xprt_timer', xprtEvent),
    xprt_lookup_rqst: tp<[xprt: RpcXprt, xid: number, status: number]>(reg, 'sunrpc:xprt_lookup_rqst', xprtEvent),
    xprt_complete_rqst: tp<[xprt: RpcXprt, xid: number, status: number]>(reg, 'sunrpc:xprt_complete_rqst', xprtEvent),
    svc_process: tp<[rqstp: SvcRqst, service: string]>(reg, 'sunrpc:svc_process', (_h, r, service) => ({
      xid: r.call.xid,
      vers: r.call.vers,
      proc: r.call.proc,
      service,
      addr: r.rqXprt.remote,
    })),
    svc_send: tp<[rqstp: SvcRqst, status: number]>(reg, 'sunrpc:svc_send', (_h, r, status) => ({ xid: r.call.xid, status, flags: 0, addr: r.rqXprt.remote })),
    nfs_refresh_inode_enter: inodeTp('nfs_refresh_inode_enter'),
    nfs_refresh_inode_exit: inodeDoneTp('nfs_refresh_inode_exit'),
    nfs_revalidate_inode_enter: inodeTp('nfs_revalidate_inode_enter'),
    nfs_revalidate_inode_exit: inodeDoneTp('nfs_revalidate_inode_exit'),
    nfs_invalidate_mapping_enter: inodeTp('nfs_invalidate_mapping_enter'),
    nfs_invalidate_mapping_exit: inodeDoneTp('nfs_invalidate_mapping_exit'),
    nfs_getattr_enter: inodeTp('nfs_getattr_enter'),
    nfs_getattr_exit: inodeDoneTp('nfs_getattr_exit'),
    nfs_fsync_enter: inodeTp('nfs_fsync_enter'),
    nfs_fsync_exit: inodeDoneTp('nfs_fsync_exit'),
    nfs_access_enter: inodeTp('nfs_access_enter'),
    nfs_access_exit: tp<[inode: NfsInode, mask: number, permitted: number, error: number]>(reg, 'nfs:nfs_access_exit', (h, inode, mask, permitted, error) => ({
      ...inodeDone(h, inode, error),
      mask,
      permitted,
    })),
    nfs_lookup_enter: tp<[dir: NfsInode, dentry: NfsDentryTraced, flags: number]>(reg, 'nfs:nfs_lookup_enter', lookup),
    nfs_lookup_exit: tp<[dir: NfsInode, dentry: NfsDentryTraced, flags: number, error: number]>(reg, 'nfs:nfs_lookup_exit', lookupDone),
    nfs_lookup_revalidate_enter: tp<[dir: NfsInode, dentry: NfsDentryTraced, flags: number]>(reg, 'nfs:nfs_lookup_revalidate_enter', lookup),
    nfs_lookup_revalidate_exit: tp<[dir: NfsInode, dentry: NfsDentryTraced, flags: number, error: number]>(reg, 'nfs:nfs_lookup_revalidate_exit', lookupDone),
    nfs_create_enter: tp<[dir: NfsInode, dentry: NfsDentryTraced, flags: number]>(reg, 'nfs:nfs_create_enter', lookup),
    nfs_create_exit: tp<[dir: NfsInode, dentry: NfsDentryTraced, flags: number, error: number]>(reg, 'nfs:nfs_create_exit', lookupDone),
    nfs_initiate_read: tp<[hdr: NfsReadHeader]>(reg, 'nfs:nfs_initiate_read', (_h, hdr) => pgioStart(hdr.inode, hdr.args)),
    nfs_readpage_done: tp<[status: number, hdr: NfsReadHeader]>(reg, 'nfs:nfs_readpage_done', (_h, status, hdr) => ({
      dev: hdr.inode.sDev,
      fhandle: hdr.inode.fhandleHash,
      fileid: hdr.inode.fileid,
      offset: hdr.args.offset,
      arg_count: hdr.args.count,
      res_count: hdr.res?.count ?? 0,
      eof: hdr.res?.eof ? 1 : 0,
      error: status,
    })),
    nfs_initiate_write: tp<[hdr: NfsWriteHeader]>(reg, 'nfs:nfs_initiate_write', (_h, hdr) => ({
      dev: hdr.inode.sDev,
      fhandle: hdr.inode.fhandleHash,
      fileid: hdr.inode.fileid,
      offset: hdr.args.offset,
      count: hdr.args.count,
      stable: hdr.args.stable,
    })),
    nfs_writeback_done: tp<[status: number, hdr: NfsWriteHeader]>(reg, 'nfs:nfs_writeback_done', (_h, status, hdr) => ({
      dev: hdr.inode.sDev,
      fhandle: hdr.inode.fhandleHash,
      fileid: hdr.inode.fileid,
      offset: hdr.args.offset,
      arg_count: hdr.args.count,
      res_count: hdr.res?.count ?? 0,
      error: status,
      stable: hdr.res?.committed ?? 0,
      verifier: verifier(hdr.res?.verf ?? 0),
    })),
    nfs_initiate_commit: tp<[data: NfsCommitData]>(reg, 'nfs:nfs_initiate_commit', (_h, d) => pgioStart(d.inode, d.args)),
    nfs_commit_done: tp<[status: number, data: NfsCommitData]>(reg, 'nfs:nfs_commit_done', (_h, status, d) => ({
      dev: d.inode.sDev,
      fhandle: d.inode.fhandleHash,
      fileid: d.inode.fileid,
      offset: d.args.offset,
      error: status,
      stable: 2, // NFS_FILE_SYNC: what a COMMIT makes of the data
      verifier: verifier(d.res?.verf ?? 0),
    })),
  };
}

/** The NFS client functions nfsdist/nfsslower-style scripts kprobe (fs/nfs/file.c, inode.c). */
function nfsFuncs(reg: ProbeRegistry) {
  const fn = <P extends readonly unknown[]>(name: string, params: { type: string; name: string }[], ret: string) => reg.addFunc(new FuncProbe<P>(name, params, ret));
  return {
    nfs_file_read: fn<[iocb: object, to: number]>('nfs_file_read', [p('struct kiocb *', 'iocb'), p('struct iov_iter *', 'to')], 'ssize_t'),
    nfs_file_write: fn<[iocb: object, from: number]>('nfs_file_write', [p('struct kiocb *', 'iocb'), p('struct iov_iter *', 'from')], 'ssize_t'),
    nfs_file_open: fn<[inode: Inode, filp: File]>('nfs_file_open', [p('struct inode *', 'inode'), p('struct file *', 'filp')], 'int'),
    nfs_getattr: fn<[idmap: number, path: number, stat: number, requestMask: number, queryFlags: number]>(
      'nfs_getattr',
      [p('struct mnt_idmap *', 'idmap'), p('const struct path *', 'path'), p('struct kstat *', 'stat'), p('u32', 'request_mask'), p('unsigned int', 'query_flags')],
      'int',
    ),
    __nfs_revalidate_inode: fn<[server: object, inode: Inode]>('__nfs_revalidate_inode', [p('struct nfs_server *', 'server'), p('struct inode *', 'inode')], 'int'),
  };
}

/** A dentry as the nfs_lookup tracepoints read it. */
export interface NfsDentryTraced {
  readonly dName: { readonly name: string };
}

/** Creates every probe site of one machine. */
export function createProbeSites(reg: ProbeRegistry) {
  const sys = syscallEvents(reg);
  return {
    tp: { ...sched(reg), ...irq(reg), ...block(reg), ...nvme(reg), ...scsi(reg), ...filemap(reg), ...vmscan(reg), ...writeback(reg), ...ext4(reg), ...kiotrace(reg), ...spool(reg), ...iolatency(reg), ...ioUring(reg), ...raw(reg), ...power(reg), ...elevators(reg), ...netdev(reg), ...net(reg), ...nfsSunrpc(reg) },
    sysEnter: sys.enter,
    sysExit: sys.exit,
    fn: { ...funcs(reg), ...powerFuncs(reg), ...netFuncs(reg), ...nfsFuncs(reg) },
  };
}

export type ProbeSites = ReturnType<typeof createProbeSites>;
export type Tracepoints = ProbeSites['tp'];
export type FuncProbes = ProbeSites['fn'];
