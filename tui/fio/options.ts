// The fio options kiotrace reads (fio's options.c names and aliases, HOWTO meanings), one table for
// job files and JSON scenarios alike. Every option is one of:
//   model    - read into JobSpec (jobfile.ts converts it);
//   accepted - changes nothing a simulation can show, said why here, never silently dropped: the
//              reason is the decision;
//   refused  - kiotrace cannot model it: naming it is an error that says why.
// A name in none of these is unknown and gets "did you mean".

import { OTHER_FIO_OPTIONS } from './fio-names.js';

export type OptionStatus =
  | { readonly kind: 'model' }
  | { readonly kind: 'accepted'; readonly why: string }
  | { readonly kind: 'refused'; readonly why: string };

export interface OptionDef {
  /** fio's name. */
  readonly name: string;
  readonly aliases: readonly string[];
  readonly status: OptionStatus;
}

const model = (name: string, ...aliases: string[]): OptionDef => ({ name, aliases, status: { kind: 'model' } });
const accepted = (name: string, aliases: readonly string[], why: string): OptionDef => ({ name, aliases, status: { kind: 'accepted', why } });
const refused = (name: string, aliases: readonly string[], why: string): OptionDef => ({ name, aliases, status: { kind: 'refused', why } });

const NO_DATA = 'data verification needs real data; kiotrace simulates only timing, not contents';
const NO_LOGS = 'kiotrace writes no fio log files; trace the run with a bpftrace script or --export instead';
const NO_CPU_PLACEMENT = 'kiotrace places tasks with its own scheduler model and has no CPU affinity, priorities or NUMA';
const NO_NET = 'kiotrace simulates local block devices only (no network, no client/server)';
const NO_ZONES = 'the simulated devices are conventional (no zoned namespaces)';
const NO_CONTENT = 'buffer contents are not simulated (only timing), so data patterns change nothing';

/** Every option the table knows, model ones first. */
export const OPTIONS: readonly OptionDef[] = [
  // --- modelled: JobSpec fields (core/userspace/job.ts) ---
  model('name'),
  model('description'),
  model('filename'),
  model('directory'),
  model('nrfiles', 'nr_files'),
  model('filename_format'),
  model('opendir'),
  model('size'),
  model('filesize'),
  model('io_size', 'io_limit'),
  model('offset', 'fileoffset'),
  model('offset_increment'),
  model('rw', 'readwrite'),
  model('rwmixread'),
  model('rwmixwrite'),
  model('bs', 'blocksize'),
  model('bsrange', 'blocksize_range'),
  model('bssplit'),
  model('blockalign', 'ba'),
  model('kb_base'),
  model('ioengine'),
  model('iodepth'),
  model('iodepth_batch_submit', 'iodepth_batch'),
  model('iodepth_batch_complete_min', 'iodepth_batch_complete'),
  model('iodepth_batch_complete_max'),
  model('iodepth_low'),
  model('direct'),
  model('buffered'),
  model('sync'),
  model('numjobs'),
  model('runtime', 'timeout'),
  model('time_based'),
  model('ramp_time'),
  model('startdelay'),
  model('cgroup'),
  model('loops'),
  model('number_ios'),
  model('fsync'),
  model('fdatasync'),
  model('end_fsync'),
  model('thinktime'),
  model('thinktime_blocks'),
  model('thinktime_spin'),
  model('norandommap'),
  model('randrepeat'),
  model('random_distribution'),
  model('rate'),
  model('rate_min', 'ratemin'),
  model('rate_iops_min'),
  model('rate_cycle', 'ratecycle'),
  model('rate_iops'),
  model('rate_process'),
  model('fallocate'),
  model('create_on_open'),
  model('overwrite'),
  model('allow_mounted_write'),
  model('file_service_type'),
  model('fadvise_hint'),
  model('write_hint'),
  model('sqthread_poll'),
  model('fixedbufs'),
  model('registerfiles'),
  model('hipri'),
  // ioengine=lsm's options (kiotrace's engine; RocksDB's option names)
  model('put_rate'),
  model('write_buffer_size'),
  model('max_write_buffer_number'),
  model('target_file_size_base'),
  model('max_bytes_for_level_base'),
  model('max_bytes_for_level_multiplier'),
  model('level0_file_num_compaction_trigger'),
  model('level0_slowdown_writes_trigger'),
  model('level0_stop_writes_trigger'),
  model('delayed_write_rate'),
  model('num_levels'),
  model('compaction_cgroup'),
  model('stonewall', 'wait_for_previous'),
  model('new_group'),
  model('exitall'),
  model('flow'),
  model('flow_id'),
  model('flow_sleep'),
  model('latency_target'),
  model('latency_window'),
  model('latency_percentile'),
  model('latency_run'),
  model('exit_what'),
  model('wait_for'),
  model('group_reporting'),
  model('percentile_list'),
  model('unified_rw_reporting'),
  model('ioscheduler'),
  model('io_submit_mode'),

  // --- accepted: no effect a simulation can show ---
  accepted('thread', ['threads'], 'fio runs each job as a thread instead of a process; kiotrace runs jobs as processes, and the I/O path is the same either way'),
  accepted('invalidate', [], 'nothing of a job file is in the page cache when the machine boots, which is what invalidate=1 ensures; SIMPLIFICATION: pages an earlier job cached stay cached'),
  accepted('allow_file_create', [], 'kiotrace lays out every file a job names before the run, as fio does with allow_file_create=1 (the default)'),
  accepted('create_serialize', [], 'file layout happens before the run and costs no simulated time, so serialising it changes nothing'),
  accepted('clat_percentiles', [], 'completion-latency percentiles are always reported'),
  accepted('disk_util', [], 'disk statistics come from the simulated block layer either way'),
  accepted('random_generator', [], "kiotrace draws offsets from the machine's seeded generator (--seed), whatever fio's generator would be"),
  accepted('unit_base', [], 'SIMPLIFICATION: the report prints bytes whatever unit_base says'),
  accepted('lockmem', [], 'the simulated machine has memory to spare for fio itself; job memory is modelled through the page cache'),
  accepted('stats', [], 'statistics are always collected (the simulation measures them at no cost)'),
  accepted('gtod_reduce', [], 'the simulation reads its clock at no cost, so reducing gettimeofday calls changes nothing'),
  accepted('clocksource', [], "the simulation's clock is exact whatever clock fio would read"),

  // --- refused: kiotrace cannot model them ---
  refused('verify', [], NO_DATA),
  refused('verify_pattern', [], NO_DATA),
  refused('verify_interval', [], NO_DATA),
  refused('verify_offset', [], NO_DATA),
  refused('verify_fatal', [], NO_DATA),
  refused('verify_backlog', [], NO_DATA),
  refused('verify_async', [], NO_DATA),
  refused('verify_only', [], NO_DATA),
  refused('verify_dump', [], NO_DATA),
  refused('do_verify', [], NO_DATA),
  refused('verify_state_save', [], NO_DATA),
  refused('trim_percentage', [], 'the simulated devices take reads and writes only (no discard/trim)'),
  refused('buffer_pattern', [], NO_CONTENT),
  refused('buffer_compress_percentage', [], NO_CONTENT),
  refused('dedupe_percentage', [], NO_CONTENT),
  refused('refill_buffers', [], NO_CONTENT),
  refused('scramble_buffers', [], NO_CONTENT),
  refused('zero_buffers', [], NO_CONTENT),
  refused('write_bw_log', [], NO_LOGS),
  refused('write_lat_log', [], NO_LOGS),
  refused('write_iops_log', [], NO_LOGS),
  refused('write_hist_log', [], NO_LOGS),
  refused('log_avg_msec', [], NO_LOGS),
  refused('per_job_logs', [], NO_LOGS),
  refused('write_iolog', [], NO_LOGS),
  refused('read_iolog', [], 'replaying an I/O log is not supported; describe the workload with rw, bs and size'),
  refused('cpus_allowed', [], NO_CPU_PLACEMENT),
  refused('cpumask', [], NO_CPU_PLACEMENT),
  refused('cpus_allowed_policy', [], NO_CPU_PLACEMENT),
  refused('numa_cpu_nodes', [], NO_CPU_PLACEMENT),
  refused('numa_mem_policy', [], NO_CPU_PLACEMENT),
  refused('nice', [], NO_CPU_PLACEMENT),
  refused('prio', [], 'I/O priorities are not modelled (no ioprio in the simulated block layer)'),
  refused('prioclass', [], 'I/O priorities are not modelled (no ioprio in the simulated block layer)'),
  refused('cmdprio_percentage', [], 'I/O priorities are not modelled (no ioprio in the simulated block layer)'),
  refused('cmdprio_bssplit', [], 'I/O priorities are not modelled (no ioprio in the simulated block layer)'),
  refused('cpuload', [], 'the cpuio engine is not modelled: kiotrace simulates the I/O path'),
  refused('hostname', [], NO_NET),
  refused('port', [], NO_NET),
  refused('zonemode', [], NO_ZONES),
  refused('zonesize', [], NO_ZONES),
  refused('zonerange', [], NO_ZONES),
  refused('zoneskip', [], NO_ZONES),
  refused('max_open_zones', [], NO_ZONES),
  refused('openfiles', [], 'a job keeps all its files open (nrfiles of them); a limit on open files is not modelled'),
  refused('exitall_on_error', [], 'every job runs to its own end; ending all jobs when one fails is not modelled'),
  refused('continue_on_error', [], 'a job stops at its first I/O error; continuing past errors is not modelled'),
  refused('max_latency', [], 'ending a job on a latency limit is not modelled'),
  refused('ss', ['steadystate'], "fio's steady-state detection is not modelled; use runtime"),
  refused('ss_dur', ['steadystate_duration'], "fio's steady-state detection is not modelled; use runtime"),
  refused('ss_ramp', ['steadystate_ramp_time'], "fio's steady-state detection is not modelled; use runtime"),
  refused('fsync_on_close', [], 'fsync when a file is closed is not modelled; end_fsync=1 does the same at the end of the job'),
  refused('sync_file_range', [], 'sync_file_range is not a syscall of the simulated kernel'),
  refused('pre_read', [], 'pre-reading files into the cache is not modelled'),
  refused('lockfile', [], 'file locking between jobs is not modelled'),
  refused('mem', ['iomem'], 'I/O buffers are always anonymous memory (fio mem=malloc); shared memory and huge pages are not modelled'),
  refused('iomem_align', ['mem_align'], 'I/O buffers are always page-aligned'),
  refused('hugepage-size', [], 'huge pages are not modelled'),
  refused('fill_device', ['fill_fs'], 'filling a device until ENOSPC is not modelled'),
  refused('percentage_random', [], 'a job is either sequential or random (rw=); a mix is not modelled'),
  refused('rw_sequencer', [], 'rw=read:N style holes and sequencers are not modelled'),
  refused('bs_unaligned', ['blocksize_unaligned'], 'block sizes in a range are always multiples of the smallest, as fio picks them by default'),
  refused('bs_is_seq_rand', [], 'block sizes are per direction (read, write), not per sequential/random'),
  refused('offset_align', [], 'percentage offsets are aligned to the smallest block size, the default'),
  refused('randseed', [], 'the random sequence comes from the run seed; give --seed N instead'),
  refused('exec_prerun', [], 'kiotrace runs no host commands'),
  refused('exec_postrun', [], 'kiotrace runs no host commands'),
  refused('uid', [], 'jobs run as one simulated user'),
  refused('gid', [], 'jobs run as one simulated user'),
  refused('cgroup_weight', [], 'cgroups are not modelled'),
  refused('serialize_overlap', [], 'overlapping in-flight I/Os are not serialised by the runner'),
  refused('trim_backlog', [], 'the simulated devices take reads and writes only (no discard/trim)'),
  refused('unlink', [], 'files are laid out before the run and stay; unlinking them after the job is not modelled'),
  refused('unlink_each_loop', [], 'files are laid out before the run and stay; unlinking them is not modelled'),
  refused('file_append', [], 'appending past the end of a file is not modelled; jobs do I/O within their region'),
  refused('replay_redirect', [], 'replaying an I/O log is not supported'),
];

const BY_NAME = new Map<string, OptionDef>();
for (const d of OPTIONS) {
  for (const n of [d.name, ...d.aliases]) if (!BY_NAME.has(n)) BY_NAME.set(n, d);
}
/** The rest of fio's options: real, so refused as not modelled rather than called unknown. */
const NOT_MODELLED = 'kiotrace does not model it (it would change what the job does, so it is refused rather than ignored)';
for (const n of OTHER_FIO_OPTIONS) if (!BY_NAME.has(n)) BY_NAME.set(n, refused(n, [], NOT_MODELLED));

/** The option `name` (fio's name or an alias) stands for, or undefined. */
export function findOption(name: string): OptionDef | undefined {
  return BY_NAME.get(name);
}

/** Every name and alias, for "did you mean". */
export const OPTION_NAMES: readonly string[] = [...BY_NAME.keys()];

/** fio's ioengines kiotrace runs, and its own lsm (an LSM-tree store whose reads are point lookups). */
export const IO_ENGINES = ['psync', 'sync', 'mmap', 'libaio', 'io_uring', 'lsm'] as const;

/** fio engines that exist but that kiotrace does not run, and why. */
export const REFUSED_ENGINES: Readonly<Record<string, string>> = {
  pvsync: 'preadv/pwritev are not syscalls of the simulated kernel; use psync (pread/pwrite), the same I/O path',
  pvsync2: 'preadv2/pwritev2 are not syscalls of the simulated kernel; use psync, or io_uring with hipri=1 for polled I/O',
  vsync: 'readv/writev are not syscalls of the simulated kernel; use sync (read/write), the same I/O path',
  posixaio: 'POSIX AIO is glibc threads doing pread/pwrite; use libaio or io_uring for asynchronous I/O',
  solarisaio: 'Solaris AIO does not exist on Linux; use libaio or io_uring',
  windowsaio: 'Windows I/O does not exist on Linux; use libaio or io_uring',
  null: 'the null engine does no I/O at all, so there would be nothing to simulate; use psync against a file',
  cpuio: 'the cpuio engine burns CPU without I/O; kiotrace simulates the I/O path',
  net: 'network I/O is not modelled (kiotrace simulates local block devices)',
  netsplice: 'network I/O and splice are not modelled',
  splice: 'splice is not a syscall of the simulated kernel; use sync or psync',
  sg: 'SCSI generic passthrough is not modelled; use a block device with psync, libaio or io_uring',
  io_uring_cmd: 'NVMe passthrough (uring_cmd) is not modelled; use io_uring on /dev/nvme0n1',
  e4defrag: 'online defragmentation is not modelled',
  falloc: 'the falloc engine is not modelled; fallocate= lays out files before the run',
  ftruncate: 'the ftruncate engine is not modelled',
  filecreate: 'file creation as I/O is not modelled: files are laid out before the run',
  filestat: 'stat as I/O is not modelled',
  filedelete: 'file deletion as I/O is not modelled',
  dircreate: 'directory creation as I/O is not modelled',
  dirstat: 'directory stat as I/O is not modelled',
  dirdelete: 'directory deletion as I/O is not modelled',
  exec: 'kiotrace runs no host commands',
  mtd: 'MTD flash devices are not modelled',
  rdma: 'RDMA is not modelled (no network)',
  rbd: 'Ceph RBD is not modelled (no network)',
  rados: 'Ceph RADOS is not modelled (no network)',
  http: 'HTTP storage is not modelled (no network)',
  nfs: 'NFS is not modelled (no network)',
  nbd: 'NBD is not modelled (no network)',
  libaio_cmd: 'NVMe passthrough is not modelled',
  xnvme: 'xNVMe user-space drivers are not modelled; use io_uring or libaio on /dev/nvme0n1',
  spdk: 'SPDK user-space drivers are not modelled; use io_uring or libaio on /dev/nvme0n1',
  libblkio: 'libblkio is not modelled; use io_uring or libaio',
  'dev-dax': 'DAX devices are not modelled',
  page_fault: 'the page_fault engine is not modelled; ioengine=mmap takes page faults on a shared file mapping',
  gfapi_async: 'GlusterFS is not modelled (no network)',
  ime_aio: 'DDN IME is not modelled',
  ime_psync: 'DDN IME is not modelled',
  ime_psyncv: 'DDN IME is not modelled',
  libcufile: 'GPU direct storage is not modelled',
  libhipfile: 'GPU direct storage is not modelled',
  dfs: 'DAOS is not modelled (no network)',
  libpmem: 'persistent memory is not modelled',
  pmemblk: 'persistent memory is not modelled',
  guasi: 'GUASI is not modelled; use libaio or io_uring',
  gfapi: 'GlusterFS is not modelled (no network)',
  libhdfs: 'HDFS is not modelled (no network)',
  libiscsi: 'iSCSI is not modelled (no network)',
  libzbc: 'zoned block devices are not modelled',
  external: 'external engines cannot be loaded into the simulation',
};
