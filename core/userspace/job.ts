// Models: fio's job file (fio(1) HOWTO): the options kiotrace's workloads accept, with fio's names
// and meanings. A scenario is a machine plus jobs.

export type RwMode = 'read' | 'write' | 'randread' | 'randwrite' | 'rw' | 'randrw';
export type IoEngine = 'psync' | 'sync' | 'mmap';

/** One fio job (after validation and unit conversion). */
export interface JobSpec {
  readonly name: string;
  /** Path of a file inside a mount, or a raw block device such as /dev/nvme0n1. */
  readonly filename: string;
  readonly rw: RwMode;
  /** Block size in bytes. */
  readonly bs: number;
  /** Size of the file / I/O region in bytes. */
  readonly size: number;
  readonly iodepth: number;
  readonly ioengine: IoEngine;
  /** O_DIRECT */
  readonly direct: boolean;
  readonly numjobs: number;
  /** Stop the job after this long (0: no limit). */
  readonly runtimeNs: number;
  /** Keep going over the region until runtime or the end of the run (fio time_based). */
  readonly timeBased: boolean;
  /** fsync the file after every N writes (0: never). */
  readonly fsync: number;
  /** Percentage of reads in a mixed workload (fio rwmixread). */
  readonly rwmixread: number;
  /** User-space time between I/Os (fio thinktime, stored in ns). */
  readonly thinktimeNs: number;
  /** Delay before the job starts (fio startdelay, in ns). */
  readonly startdelayNs: number;
}

export type DeviceKind = 'nvme' | 'hdd';
export type SchedulerName = 'none' | 'mq-deadline';

export interface DeviceSpec {
  /** Kernel name: nvme0n1, sda, ... */
  readonly name: string;
  readonly kind: DeviceKind;
  readonly capacityBytes: number;
  readonly scheduler: SchedulerName;
  /** Where its ext4-like filesystem is mounted ('' for no filesystem). */
  readonly mount: string;
}

export interface MachineSpec {
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly devices: readonly DeviceSpec[];
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly machine: MachineSpec;
  /** Default run length when --duration is not given. */
  readonly durationNs: number;
  readonly jobs: readonly JobSpec[];
  /** How many of the run's first data I/Os `kiotrace run` shows step by step (absent or 0: none). */
  readonly steps?: number;
}

export const DEFAULT_MACHINE: MachineSpec = {
  cpus: 4,
  memoryBytes: 4 * 1024 ** 3,
  devices: [
    { name: 'nvme0n1', kind: 'nvme', capacityBytes: 512 * 1024 ** 3, scheduler: 'none', mount: '/mnt/nvme' },
    { name: 'sda', kind: 'hdd', capacityBytes: 1024 ** 4, scheduler: 'mq-deadline', mount: '/mnt/hdd' },
  ],
};
