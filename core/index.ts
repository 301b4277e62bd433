// The public surface of core/: what probes/, exporters/ and tui/ may use.

export { bootMachine, deviceCapacityBytes, filesystemFreeBlocks, layoutJobFiles, Machine, type BlockDevice, type MachineGauges, type RunningJob, type TaskInfo } from './init/main.js';
export type { Request } from './block/blkdev.js';
export type { Bio } from './block/blk_types.js';
export { Environment, Priority } from './sim/engine.js';
export { EventQueue } from './sim/event-queue.js';
export { Random } from './sim/random.js';
export { Process, WaitQueue, SLEEP, type ProcessBody, type Waker } from './sim/process.js';
export { SimBug } from './sim/errors.js';
export { ProbeHit, ProbeRegistry, ProbeSite, FuncProbe, Tracepoint, globMatches, registerValue } from './trace/probe.js';
export type { FieldRecord, FieldValue, HitContext, ProbeHandler, ProbeProvider, FuncParam } from './trace/probe.js';
export type { FormatField } from './trace/formats.js';
export { SYSCALL_NR, type DeviceStep, type DmaStep } from './trace/events.js';
export { errnoName } from './uapi/errno.js';
export { BTF, btfCast, type BtfContext, type BtfMember, type BtfPointer, type BtfStruct, type BtfValue } from './trace/btf.js';
export type { Kernel } from './kernel/kernel.js';
export type { Cpu } from './kernel/sched/core.js';
export { completeJob, DEFAULT_MACHINE, DEFAULT_VM, JOB_DEFAULTS } from './userspace/job.js';
export { LRU_POLICIES } from './mm/vmscan.js';
export type { BlockSizeSpec, BsSplitEntry, CgroupSpec, DeviceKind, DeviceSpec, FadviseHint, FallocateMode, FileServiceType, IoEngine, JobSpec, MachineSpec, PerDirection, PrinterSpec, RandomDistribution, RwMode, Scenario, ScenarioEvent, SchedulerName, SyncMode, UnifiedRwReporting, VmSpec } from './userspace/job.js';
export type { CgroupReport, CpuUsage, CrashReport, DepthDistributions, EventReport, DeviceReport, DirectionReport, JobReport, KernelCounters, LatencyBin, LatencyBuckets, LatencySummary, LayoutReport, Percentile, PrinterReport, PrintJobReport, RunReport, SampleSummary } from './userspace/report.js';
export { LatencyHistogram } from './userspace/stats.js';
export { EXT4_BLOCK_SIZE, ext4FileCostBlocks } from './fs/ext4/super.js';
export type { CrashFileReport, LostPage } from './mm/data-gen.js';
export { attributePaths, findAttribute } from './fs/sysfs.js';
export { findCommand, USER_COMMANDS } from './userspace/commands.js';
export { eventCommandLine } from './userspace/events.js';
export { readAheadKbProblem } from './mm/readahead.js';
