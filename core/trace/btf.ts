// Models: the kernel's BTF (/sys/kernel/btf/vmlinux) for the structs I/O scripts dereference:
// type names, member names and C types as in Linux 6.18, each member read from the simulated
// object that plays the struct's role. Pointer members return typed pointers, so
// `((struct request *)arg0)->q->disk->disk_name` walks the model.
// SIMPLIFICATION: only the members the published tools and the one-liners read are described;
// embedded structs (bio->bi_iter, dentry->d_name, nfs_inode->vfs_inode) are views on their parent
// object, so a struct inode * of an NFS file casts to struct nfs_inode * without container_of.

import type { Request } from '../block/blkdev.js';
import type { Bio } from '../block/blk_types.js';
import type { File, Inode, Kiocb } from '../fs/types.js';
import type { FileRaState, Folio, Vma } from '../mm/mm_types.js';
import type { Task } from '../kernel/sched/task.js';
import { DEVICE_STATE_NAMES, type KDevice } from '../drivers/base/core.js';
import type { Dentry, FsStruct, MountNode, Nameidata } from '../fs/namei.js';
import type { DevPmInfo } from '../power/runtime.js';
import type { Sock } from '../net/sock.js';
import type { TcpSock } from '../net/tcp_sock.js';
import type { NfsInode } from '../fs/nfs/inode.js';

/** A typed pointer to a simulated kernel object (or a view of an embedded struct). */
export interface BtfPointer {
  readonly structName: string;
  readonly obj: object;
  /** What the pointer prints as (the object's kaddr). */
  readonly addr: number;
}

export type BtfValue = number | string | BtfPointer | undefined;

/** What member readers may ask of the machine (resolving a device number to its disk). */
export interface BtfContext {
  diskOf(dev: number): { readonly name: string; readonly dev: number; readonly kaddr: number } | undefined;
  /** current->fs of a task: its root and working directory in the dentry cache. */
  taskFs?(task: Task): FsStruct | undefined;
  /** The run queue of the CPU a task is on (task->se.cfs_rq). */
  runQueueOf?(task: Task): CfsRqView | undefined;
}

/** struct rq of one CPU: its number and the tasks on it, the running one included (nr_running). */
export interface RqView {
  readonly kaddr: number;
  readonly cpu: number;
  nrRunning(): number;
}

/** struct cfs_rq of one CPU as runqlen reads it: the CFS tasks it holds, the running one counted. */
export interface CfsRqView {
  readonly kaddr: number;
  /** nr_queued (nr_running before 6.14): queued CFS tasks plus the one running. */
  readonly nrQueued: number;
}

export interface BtfMember {
  readonly name: string;
  /** C type as BTF names it, e.g. `sector_t`, `struct request_queue *`, `char[32]`. */
  readonly type: string;
  readonly read: (obj: object, ctx: BtfContext) => BtfValue;
}

export interface BtfStruct {
  readonly name: string;
  readonly members: ReadonlyMap<string, BtfMember>;
}

function ptr(structName: string, obj: object | undefined, addr?: number): BtfPointer | undefined {
  if (!obj) return undefined;
  const a = addr ?? ('kaddr' in obj && typeof obj.kaddr === 'number' ? obj.kaddr : 0);
  return { structName, obj, addr: a };
}

function struct<T extends object>(name: string, members: readonly [name: string, type: string, read: (o: T, ctx: BtfContext) => BtfValue][]): BtfStruct {
  const map = new Map<string, BtfMember>();
  for (const [m, type, read] of members) map.set(m, { name: m, type, read: (o, ctx) => read(o as T, ctx) });
  return { name, members: map };
}

/** A disk view: what request->q, ->q->disk and bio->bi_bdev->bd_disk point at. */
interface DiskView {
  readonly kaddr: number;
  readonly dev: number;
  readonly name: string;
}

function diskView(ctx: BtfContext, dev: number): DiskView | undefined {
  return ctx.diskOf(dev);
}

/** The unspecified IPv6 address (::), what an IPv4 socket's v6 fields hold. */
const V6_ANY = { kaddr: 0 };

/** A host-order port as the kernel stores a __be16, read as a little-endian u16. */
function be16(port: number): number {
  return ((port & 0xff) << 8) | ((port >>> 8) & 0xff);
}

/** A host-order IPv4 address as a __be32, read as a little-endian u32 (what ntop() takes). */
function be32(addr: number): number {
  return (((addr & 0xff) << 24) | (((addr >>> 8) & 0xff) << 16) | (((addr >>> 16) & 0xff) << 8) | ((addr >>> 24) & 0xff)) >>> 0;
}

/** offsetof(struct task_struct, se) (Linux 6.18, x86-64 defconfig). */
const TASK_SE_OFFSET = 0xc0;

/** offsetof(struct mount, mnt). */
const MOUNT_MNT_OFFSET = 32;

/** offsetof(struct fs_struct, root) and (..., pwd). */
const FS_ROOT_OFFSET = 8;
const FS_PWD_OFFSET = 24;

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

const STRUCTS: readonly BtfStruct[] = [
  struct<Task>('task_struct', [
    ['pid', 'pid_t', (t) => t.pid],
    ['tgid', 'pid_t', (t) => t.tgid],
    ['comm', 'char[16]', (t) => t.comm],
    ['prio', 'int', (t) => t.prio],
    ['__state', 'unsigned int', (t) => t.state],
    ['policy', 'unsigned int', (t) => t.policy],
    ['rt_priority', 'unsigned int', (t) => t.rtPriority],
    ['group_leader', 'struct task_struct *', (t) => ptr('task_struct', t)],
    ['real_parent', 'struct task_struct *', (t) => ptr('task_struct', t.realParent)],
    ['parent', 'struct task_struct *', (t) => ptr('task_struct', t.realParent)],
    ['fs', 'struct fs_struct *', (t, ctx) => (t.kthread ? undefined : ptr('fs_struct', ctx.taskFs?.(t)))],
    ['se', 'struct sched_entity', (t) => ptr('sched_entity', t, t.kaddr + TASK_SE_OFFSET)],
  ]),
  // the task's CFS entity and its CPU's run queue (kernel/sched/sched.h)
  struct<Task>('sched_entity', [
    ['vruntime', 'u64', (t) => t.vruntimeNs],
    ['sum_exec_runtime', 'u64', (t) => t.sumExecRuntimeNs],
    ['cfs_rq', 'struct cfs_rq *', (t, ctx) => ptr('cfs_rq', ctx.runQueueOf?.(t))],
  ]),
  // a CPU's run queue (kernel/sched/sched.h struct rq), as percpu_kaddr("runqueues", cpu) finds it
  struct<RqView>('rq', [
    ['nr_running', 'unsigned int', (q) => q.nrRunning()],
    ['cpu', 'int', (q) => q.cpu],
  ]),
  struct<CfsRqView>('cfs_rq', [
    ['nr_queued', 'unsigned int', (q) => q.nrQueued],
    ['h_nr_queued', 'unsigned int', (q) => q.nrQueued],
    ['h_nr_runnable', 'unsigned int', (q) => q.nrQueued],
  ]),
  // the path walk and the mount tree (fs/namei.c, fs/dcache.c, fs/mount.h): what dcsnoop and
  // opensnoop's cwd reconstruction read
  struct<FsStruct>('fs_struct', [
    ['root', 'struct path', (f) => ptr('path', f.root, f.kaddr + FS_ROOT_OFFSET)],
    ['pwd', 'struct path', (f) => ptr('path', f.pwd, f.kaddr + FS_PWD_OFFSET)],
  ]),
  struct<MountNode>('vfsmount', [
    ['mnt_root', 'struct dentry *', (m) => ptr('dentry', m.root)],
    ['mnt_flags', 'int', () => 0],
  ]),
  // struct mount embeds its vfsmount at offset 32 (after mnt_hash, mnt_parent, mnt_mountpoint)
  struct<MountNode>('mount', [
    ['mnt_parent', 'struct mount *', (m) => ptr('mount', m.parent)],
    ['mnt_mountpoint', 'struct dentry *', (m) => ptr('dentry', m.mountpoint)],
    ['mnt', 'struct vfsmount', (m) => ptr('vfsmount', m, m.kaddr + MOUNT_MNT_OFFSET)],
    ['mnt_devname', 'const char *', (m) => m.mount?.fs.mountPoint ?? 'rootfs'],
  ]),
  // nanosleep's and clock_nanosleep's rqtp, in the caller's memory (mm.userStructs)
  struct<{ readonly tv_sec: number; readonly tv_nsec: number }>('__kernel_timespec', [
    ['tv_sec', '__kernel_time64_t', (t) => t.tv_sec],
    ['tv_nsec', 'long long', (t) => t.tv_nsec],
  ]),
  // the same memory as the C library's struct timespec (naptime.bt casts rqtp to it)
  struct<{ readonly tv_sec: number; readonly tv_nsec: number }>('timespec', [
    ['tv_sec', '__kernel_old_time_t', (t) => t.tv_sec],
    ['tv_nsec', 'long', (t) => t.tv_nsec],
  ]),
  struct<Nameidata>('nameidata', [
    ['path', 'struct path', (n) => ptr('path', n.path, n.kaddr)],
    ['last', 'struct qstr', (n) => ptr('qstr', n.last, n.kaddr + 16)],
  ]),
  struct<Request & { readonly dev: number }>('request', [
    ['__sector', 'sector_t', (r) => r.sector],
    ['__data_len', 'unsigned int', (r) => r.nrSectors * 512],
    ['cmd_flags', 'blk_opf_t', (r) => r.op | (r.cmdFlags << 8)],
    ['tag', 'int', (r) => r.tag],
    ['start_time_ns', 'u64', (r) => r.startTimeNs],
    ['io_start_time_ns', 'u64', (r) => r.ioStartTimeNs],
    ['q', 'struct request_queue *', (r, ctx) => ptr('request_queue', diskView(ctx, r.dev))],
    ['part', 'struct block_device *', (r, ctx) => ptr('block_device', diskView(ctx, r.dev))],
    ['bio', 'struct bio *', (r) => ptr('bio', r.bios[0])],
  ]),
  struct<DiskView>('request_queue', [['disk', 'struct gendisk *', (d) => ptr('gendisk', d)]]),
  struct<DiskView>('gendisk', [
    ['disk_name', 'char[32]', (d) => d.name],
    ['major', 'int', (d) => Math.floor(d.dev / 2 ** 20)],
    ['first_minor', 'int', (d) => d.dev % 2 ** 20],
  ]),
  struct<DiskView>('block_device', [
    ['bd_dev', 'dev_t', (d) => d.dev],
    ['bd_disk', 'struct gendisk *', (d) => ptr('gendisk', d)],
  ]),
  struct<Bio>('bio', [
    ['bi_iter', 'struct bvec_iter', (b) => ptr('bvec_iter', b)],
    ['bi_opf', 'blk_opf_t', (b) => b.op | (b.flags << 8)],
    ['bi_status', 'blk_status_t', (b) => b.status],
    ['bi_write_hint', 'enum rw_hint', (b) => b.writeHint],
    ['bi_bdev', 'struct block_device *', (b, ctx) => ptr('block_device', diskView(ctx, b.dev))],
  ]),
  struct<Bio>('bvec_iter', [
    ['bi_sector', 'sector_t', (b) => b.sector],
    ['bi_size', 'unsigned int', (b) => b.nrSectors * 512],
  ]),
  struct<File>('file', [
    ['f_path', 'struct path', (f) => ptr('path', f)],
    ['f_inode', 'struct inode *', (f) => ptr('inode', f.inode)],
    ['f_pos', 'loff_t', (f) => f.posBytes],
    ['f_flags', 'unsigned int', (f) => f.flags],
    ['f_mapping', 'struct address_space *', (f) => ptr('address_space', f.inode.mapping)],
    // the FMODE_RANDOM / FMODE_NOREUSE bits posix_fadvise sets, and the readahead state
    ['f_mode', 'fmode_t', (f) => f.fMode],
    ['f_ra', 'struct file_ra_state', (f) => ptr('file_ra_state', f.ra, f.kaddr)],
  ]),
  struct<FileRaState>('file_ra_state', [
    ['start', 'pgoff_t', (r) => r.start],
    ['size', 'unsigned int', (r) => r.size],
    ['async_size', 'unsigned int', (r) => r.asyncSize],
    ['ra_pages', 'unsigned int', (r) => r.raPages],
    ['mmap_miss', 'unsigned int', (r) => r.mmapMiss],
    ['prev_pos', 'loff_t', (r) => r.prevPos],
  ]),
  // struct path is met as file->f_path (a view of the file) and as vfs_open's argument
  struct<{ readonly inode?: Inode; readonly dentry?: { readonly d_name: { readonly name: string } }; readonly mnt?: MountNode }>('path', [
    ['dentry', 'struct dentry *', (p) => ptr('dentry', p.dentry ?? { name: p.inode ? basename(p.inode.path) : '' })],
    ['mnt', 'struct vfsmount *', (p) => (p.mnt ? ptr('vfsmount', p.mnt, p.mnt.kaddr + MOUNT_MNT_OFFSET) : undefined)],
  ]),
  struct<{ readonly name?: string; readonly d_name?: { readonly name: string }; readonly parent?: Dentry; readonly inode?: Inode }>('dentry', [
    ['d_name', 'struct qstr', (d) => ptr('qstr', { name: d.d_name?.name ?? d.name ?? '' })],
    ['d_parent', 'struct dentry *', (d) => ptr('dentry', d.parent)],
    ['d_inode', 'struct inode *', (d) => ptr('inode', d.inode)],
  ]),
  struct<{ readonly name: string }>('qstr', [
    ['name', 'const unsigned char *', (q) => q.name],
    ['len', 'u32', (q) => q.name.length],
  ]),
  struct<Inode>('inode', [
    ['i_ino', 'unsigned long', (i) => i.ino],
    ['i_size', 'loff_t', (i) => i.sizeBytes],
    ['i_mode', 'umode_t', (i) => i.mode],
    ['i_write_hint', 'enum rw_hint', (i) => i.writeHint],
    ['i_sb', 'struct super_block *', (i) => ptr('super_block', i)],
  ]),
  struct<Inode>('super_block', [['s_dev', 'dev_t', (i) => i.sDev]]),
  // the NFS client's inode (fs/nfs: include/linux/nfs_fs.h) and its attribute cache
  struct<NfsInode>('nfs_inode', [
    ['fileid', '__u64', (n) => n.fileid],
    ['attrtimeo', 'unsigned long', (n) => n.attrtimeo],
    ['attrtimeo_timestamp', 'unsigned long', (n) => n.attrtimeoTimestamp],
    ['read_cache_jiffies', 'unsigned long', (n) => n.readCacheJiffies],
    ['cache_validity', 'unsigned long', (n) => n.cacheValidity],
    ['attr_gencount', 'unsigned long', (n) => n.attrGencount],
    ['vfs_inode', 'struct inode', (n) => ptr('inode', n)],
  ]),
  struct<Kiocb>('kiocb', [
    ['ki_filp', 'struct file *', (k) => ptr('file', k.file)],
    ['ki_pos', 'loff_t', (k) => k.posBytes],
  ]),
  struct<Folio>('folio', [
    ['index', 'unsigned long', (f) => f.index],
    ['flags', 'unsigned long', (f) => f.flags],
    ['mapping', 'struct address_space *', (f) => ptr('address_space', f.mapping)],
  ]),
  struct<{ readonly host: Inode; readonly pages: ReadonlyMap<number, unknown> }>('address_space', [
    ['host', 'struct inode *', (a) => ptr('inode', a.host)],
    ['nrpages', 'unsigned long', (a) => a.pages.size],
  ]),
  struct<Vma>('vm_area_struct', [
    ['vm_start', 'unsigned long', (v) => v.startVa],
    ['vm_end', 'unsigned long', (v) => v.endVa],
    ['vm_pgoff', 'unsigned long', (v) => v.pgoff],
    ['vm_flags', 'vm_flags_t', (v) => v.flags],
    ['vm_file', 'struct file *', (v) => ptr('file', v.file)],
  ]),
  // the device model (drivers/base): struct device with its runtime PM state, and the seed's
  // device-status table entry (a kiotrace extension: Linux has no such struct)
  struct<KDevice>('device', [
    ['kobj', 'struct kobject', (d) => ptr('kobject', d)],
    ['parent', 'struct device *', (d) => ptr('device', d.parent)],
    ['devt', 'dev_t', (d) => d.devt],
    ['type', 'const struct device_type *', (d) => ptr('device_type', d)],
    ['power', 'struct dev_pm_info', (d) => (d.power ? ptr('dev_pm_info', d.power, d.kaddr) : undefined)],
    ['kiotrace_status', 'struct kiotrace_device_status', (d) => ptr('kiotrace_device_status', d)],
  ]),
  struct<KDevice>('kobject', [['name', 'const char *', (d) => d.name]]),
  struct<KDevice>('device_type', [['name', 'const char *', (d) => d.type]]),
  struct<DevPmInfo>('dev_pm_info', [
    ['runtime_status', 'enum rpm_status', (p) => p.runtimeStatus],
    ['usage_count', 'atomic_t', (p) => p.usageCount],
    ['child_count', 'atomic_t', (p) => p.childCount],
    ['disable_depth', 'unsigned int', (p) => p.disableDepth],
    ['runtime_auto', 'bool', (p) => (p.runtimeAuto ? 1 : 0)],
    ['use_autosuspend', 'bool', (p) => (p.useAutosuspend ? 1 : 0)],
    ['autosuspend_delay', 'int', (p) => p.autosuspendDelayMs],
    ['last_busy', 'u64', (p) => p.lastBusyNs],
  ]),
  struct<KDevice>('kiotrace_device_status', [
    ['state', 'int', (d) => d.state],
    ['state_name', 'char[12]', (d) => DEVICE_STATE_NAMES[d.state] ?? ''],
    ['address', 'char[32]', (d) => d.busAddress],
    ['major', 'int', (d) => d.major],
    ['minor', 'int', (d) => d.minor],
    ['in_flight', 'int', (d) => d.inFlight()],
    ['request', 'struct request *', (d) => ptr('request', d.inProgress())],
  ]),
  // the network stack: struct sock with its sock_common, inet_sock and tcp_sock (one object plays
  // all four, as the kernel embeds them); addresses and ports as the kernel stores them: __be32 and
  // __be16 in network byte order, read little-endian (bpftrace tools ntop() and bswap() them)
  struct<Sock>('sock', [
    ['__sk_common', 'struct sock_common', (s) => ptr('sock_common', s)],
    ['sk_rcvbuf', 'int', (s) => s.rcvbuf],
    ['sk_sndbuf', 'int', (s) => s.sndbuf],
    ['sk_wmem_queued', 'int', (s) => s.wmemQueued],
    ['sk_rmem_alloc', 'atomic_t', (s) => s.rmemAlloc],
    ['sk_ack_backlog', 'u32', (s) => s.ackBacklog],
    ['sk_max_ack_backlog', 'u32', (s) => s.maxAckBacklog],
    ['sk_err', 'int', (s) => s.err],
    ['sk_shutdown', 'u8', (s) => s.shutdown],
    ['sk_userlocks', 'u8', (s) => s.userlocks],
    ['sk_protocol', 'u16', () => 6],
    ['sk_type', 'u16', () => 1],
  ]),
  struct<Sock>('sock_common', [
    ['skc_family', 'unsigned short', (s) => s.family],
    ['skc_state', 'volatile unsigned char', (s) => s.state],
    ['skc_num', '__u16', (s) => s.num],
    ['skc_dport', '__be16', (s) => be16(s.dport)],
    ['skc_daddr', '__be32', (s) => be32(s.daddr)],
    ['skc_rcv_saddr', '__be32', (s) => be32(s.rcvSaddr)],
    ['skc_cookie', 'atomic64_t', (s) => s.cookie],
    // IPv6 addresses: the model's sockets are IPv4, so these read as ::
    ['skc_v6_daddr', 'struct in6_addr', () => ptr('in6_addr', V6_ANY)],
    ['skc_v6_rcv_saddr', 'struct in6_addr', () => ptr('in6_addr', V6_ANY)],
  ]),
  struct<object>('in6_addr', [['in6_u', 'union in6_u', () => ptr('in6_u', V6_ANY)]]),
  struct<object>('in6_u', [['u6_addr8', '__u8[16]', () => '']]),
  struct<Sock>('inet_sock', [
    ['sk', 'struct sock', (s) => ptr('sock', s)],
    ['inet_sport', '__be16', (s) => be16(s.num)],
    ['inet_saddr', '__be32', (s) => be32(s.rcvSaddr)],
  ]),
  struct<TcpSock>('inet_connection_sock', [
    ['icsk_inet', 'struct inet_sock', (t) => ptr('inet_sock', t)],
    ['icsk_rto', '__u32', (t) => Math.round(t.rtoNs / 1_000_000)],
    ['icsk_retransmits', '__u8', (t) => t.retransmits],
    ['icsk_backoff', '__u8', (t) => t.backoff],
    ['icsk_probes_out', '__u8', (t) => t.probesOut],
    ['icsk_pending', '__u8', (t) => t.retransmitTimer.pending],
  ]),
  struct<TcpSock>('tcp_sock', [
    ['inet_conn', 'struct inet_connection_sock', (t) => ptr('inet_connection_sock', t)],
    ['snd_cwnd', 'u32', (t) => t.sndCwnd],
    ['snd_ssthresh', 'u32', (t) => t.sndSsthresh],
    ['srtt_us', 'u32', (t) => t.srttUs],
    ['mdev_us', 'u32', (t) => t.mdevUs],
    ['rcv_wnd', 'u32', (t) => t.rcvWnd],
    ['snd_wnd', 'u32', (t) => t.sndWnd],
    ['max_window', 'u32', (t) => t.maxWindow],
    ['window_clamp', 'u32', (t) => t.windowClamp],
    ['rcv_ssthresh', 'u32', (t) => t.rcvSsthresh],
    ['mss_cache', 'u32', (t) => t.mssCache],
    ['snd_una', 'u32', (t) => t.sndUna >>> 0],
    ['snd_nxt', 'u32', (t) => t.sndNxt >>> 0],
    ['write_seq', 'u32', (t) => t.writeSeq >>> 0],
    ['rcv_nxt', 'u32', (t) => t.rcvNxt >>> 0],
    ['copied_seq', 'u32', (t) => t.copiedSeq >>> 0],
    ['packets_out', 'u32', (t) => t.packetsOut],
    ['retrans_out', 'u32', (t) => t.retransOut],
    ['total_retrans', 'u32', (t) => t.totalRetrans],
    ['segs_in', 'u32', (t) => t.segsIn],
    ['segs_out', 'u32', (t) => t.segsOut],
    ['data_segs_in', 'u32', (t) => t.dataSegsIn],
    ['data_segs_out', 'u32', (t) => t.dataSegsOut],
    ['bytes_received', 'u64', (t) => t.bytesReceived],
    ['bytes_acked', 'u64', (t) => t.bytesAcked],
    ['bytes_sent', 'u64', (t) => t.bytesSent],
    ['bytes_retrans', 'u64', (t) => t.bytesRetrans],
    ['nonagle', 'u8', (t) => (t.nodelay ? 1 : 0)],
  ]),
];

/** The BTF-like type table: struct name (without `struct `) -> its members. */
export const BTF: ReadonlyMap<string, BtfStruct> = new Map(STRUCTS.map((s) => [s.name, s]));

/** A struct's layout as pahole shows it: its size and its members' byte offsets. */
export interface BtfLayout {
  readonly sizeBytes: number;
  readonly offsets: ReadonlyMap<string, number>;
}

function layout(sizeBytes: number, offsets: Readonly<Record<string, number>>): BtfLayout {
  return { sizeBytes, offsets: new Map(Object.entries(offsets)) };
}

/**
 * Layouts (Linux 6.18, x86-64) of the structs scripts take offsetof/sizeof of: opensnoop's
 * container_of from a vfsmount to its struct mount, the syscall structs, the path walk's structs.
 * The embedded-struct views above use the same offsets.
 * SIMPLIFICATION: only these structs have a layout; task_struct gives the offset of `se` alone
 * (the rest of its layout depends on the kernel's configuration).
 */
export const BTF_LAYOUTS: ReadonlyMap<string, BtfLayout> = new Map([
  ['mount', layout(320, { mnt_parent: 16, mnt_mountpoint: 24, mnt: MOUNT_MNT_OFFSET })],
  ['vfsmount', layout(32, { mnt_root: 0, mnt_sb: 8, mnt_flags: 16 })],
  ['path', layout(16, { mnt: 0, dentry: 8 })],
  ['qstr', layout(16, { len: 4, name: 8 })],
  ['dentry', layout(192, { d_parent: 24, d_name: 32, d_inode: 48 })],
  ['fs_struct', layout(40, { root: FS_ROOT_OFFSET, pwd: FS_PWD_OFFSET })],
  ['__kernel_timespec', layout(16, { tv_sec: 0, tv_nsec: 8 })],
  ['timespec', layout(16, { tv_sec: 0, tv_nsec: 8 })],
  ['bvec_iter', layout(20, { bi_sector: 0, bi_size: 8 })],
  ['task_struct', layout(0, { se: TASK_SE_OFFSET })],
]);

/**
 * Enum constants the kernel's BTF carries (enum tcp_state from include/net/tcp_states.h, ...):
 * with BTF, bpftrace resolves them by name in scripts (tcplife.bt's TCP_SYN_SENT, TCP_CLOSE).
 */
export const BTF_ENUMS: ReadonlyMap<string, number> = new Map([
  ['TCP_ESTABLISHED', 1],
  ['TCP_SYN_SENT', 2],
  ['TCP_SYN_RECV', 3],
  ['TCP_FIN_WAIT1', 4],
  ['TCP_FIN_WAIT2', 5],
  ['TCP_TIME_WAIT', 6],
  ['TCP_CLOSE', 7],
  ['TCP_CLOSE_WAIT', 8],
  ['TCP_LAST_ACK', 9],
  ['TCP_LISTEN', 10],
  ['TCP_CLOSING', 11],
  ['TCP_NEW_SYN_RECV', 12],
]);

/** A pointer to a kprobe argument object, typed as `structName` (a cast in a script). */
export function btfCast(structName: string, value: unknown): BtfPointer | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return ptr(structName, value);
}
