// Models: the kernel's BTF (/sys/kernel/btf/vmlinux) for the structs I/O scripts dereference:
// type names, member names and C types as in Linux 6.18, each member read from the simulated
// object that plays the struct's role. Pointer members return typed pointers, so
// `((struct request *)arg0)->q->disk->disk_name` walks the model.
// SIMPLIFICATION: only the members the published tools and the one-liners read are described;
// embedded structs (bio->bi_iter, dentry->d_name) are views on their parent object.

import type { Request } from '../block/blkdev.js';
import type { Bio } from '../block/blk_types.js';
import type { File, Inode, Kiocb } from '../fs/types.js';
import type { FileRaState, Folio, Vma } from '../mm/mm_types.js';
import type { Task } from '../kernel/sched/task.js';
import { DEVICE_STATE_NAMES, type KDevice } from '../drivers/base/core.js';
import type { Dentry, FsStruct, MountNode, Nameidata } from '../fs/namei.js';
import type { DevPmInfo } from '../power/runtime.js';

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

/** offsetof(struct task_struct, se) (Linux 6.18, x86-64 defconfig). */
const TASK_SE_OFFSET = 0xc0;

/** offsetof(struct mount, mnt). */
const MOUNT_MNT_OFFSET = 32;

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
  struct<CfsRqView>('cfs_rq', [
    ['nr_queued', 'unsigned int', (q) => q.nrQueued],
    ['h_nr_queued', 'unsigned int', (q) => q.nrQueued],
    ['h_nr_runnable', 'unsigned int', (q) => q.nrQueued],
  ]),
  // the path walk and the mount tree (fs/namei.c, fs/dcache.c, fs/mount.h): what dcsnoop and
  // opensnoop's cwd reconstruction read
  struct<FsStruct>('fs_struct', [
    ['root', 'struct path', (f) => ptr('path', f.root, f.kaddr + 8)],
    ['pwd', 'struct path', (f) => ptr('path', f.pwd, f.kaddr + 24)],
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
];

/** The BTF-like type table: struct name (without `struct `) -> its members. */
export const BTF: ReadonlyMap<string, BtfStruct> = new Map(STRUCTS.map((s) => [s.name, s]));

/** A pointer to a kprobe argument object, typed as `structName` (a cast in a script). */
export function btfCast(structName: string, value: unknown): BtfPointer | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  return ptr(structName, value);
}
