// Models: a failing medium, as the test devices Linux ships inject it (scsi_debug's medium-error
// ranges and every_nth/opts, null_blk's badblocks, dm-flakey): commands that touch a bad sector
// range, or that draw a defect with some probability, end with a device error instead of data.
// The device decides whether a command fails; what the error means is the driver's business
// (SCSI sense key / ASC / ASCQ for the disk, an NVMe status code for the SSD).

import type { Random } from '../sim/random.js';
import type { DeviceCommand } from './device.js';

/** Which commands a fault applies to. */
export type FaultOp = 'read' | 'write' | 'any';

/**
 * transient: the range fails `count` commands, then reads and writes succeed (a marginal sector the
 * drive recovers on a later try). permanent: every command that touches it fails (an unreadable
 * sector). timeout: the device never answers the command (a hung drive): the host's timer fires.
 */
export type FaultKind = 'transient' | 'permanent' | 'timeout';

/** SCSI sense data as the disk returns it in fixed-format sense (SPC-4 4.5.3). */
export interface ScsiSense {
  readonly key: number;
  readonly asc: number;
  readonly ascq: number;
}

/** One fault as the scenario gives it. */
export interface FaultSpec {
  readonly op: FaultOp;
  readonly kind: FaultKind;
  /** transient and timeout faults: how many commands fail before the range recovers (timeout 0: forever). */
  readonly count: number;
  /** The bad sector range, inclusive; firstSector -1 means "anywhere" (a probability fault). */
  readonly firstSector: number;
  readonly lastSector: number;
  /** 0: every command touching the range fails; otherwise each command draws (a new defect under it). */
  readonly probability: number;
  /** What the disk reports (absent: MEDIUM ERROR 11/00 for reads, 0C/00 for writes). */
  readonly sense?: ScsiSense;
  /** What the SSD reports: status field (SCT << 8 | SC), with DNR and CRD when the drive sets them. */
  readonly nvmeStatus?: number;
}

/** SCSI sense keys (SPC-4 table 27; include/scsi/scsi_proto.h). */
export const SenseKey = {
  NO_SENSE: 0x0,
  RECOVERED_ERROR: 0x1,
  NOT_READY: 0x2,
  MEDIUM_ERROR: 0x3,
  HARDWARE_ERROR: 0x4,
  ILLEGAL_REQUEST: 0x5,
  UNIT_ATTENTION: 0x6,
  DATA_PROTECT: 0x7,
  BLANK_CHECK: 0x8,
  COPY_ABORTED: 0xa,
  ABORTED_COMMAND: 0xb,
  VOLUME_OVERFLOW: 0xd,
  MISCOMPARE: 0xe,
} as const;

/** NVMe status values as nvme_req(req)->status holds them (include/linux/nvme.h). */
export const NvmeStatus = {
  /** Generic: LBA Out of Range. */
  LBA_RANGE: 0x080,
  /** Media and data integrity errors (SCT 2). */
  WRITE_FAULT: 0x280,
  READ_ERROR: 0x281,
  /** Command Retry Delay (bits 12:11): which of the controller's CRDT1-3 the host waits before a retry. */
  CRD: 0x1800,
  /** Do Not Retry. */
  DNR: 0x4000,
} as const;
/** Where the CRD field sits in the status (NVME_STATUS_CRD >> 11 is 0..3). */
export const NVME_STATUS_CRD_SHIFT = 11;

/**
 * A device completion status carrying sense data: CHECK CONDITION with the sense key, ASC and ASCQ
 * packed below (bits 16-19 key, 8-15 ASC, 0-7 ASCQ). 0 is GOOD status.
 */
export function senseStatus(s: ScsiSense): number {
  return 0x100000 | (s.key << 16) | (s.asc << 8) | s.ascq;
}

/** Unpacks a disk completion status built by senseStatus. */
export function statusSense(status: number): ScsiSense {
  return { key: (status >> 16) & 0xf, asc: (status >> 8) & 0xff, ascq: status & 0xff };
}

/** MEDIUM ERROR, unrecovered read error (11/00). */
export const SENSE_UNRECOVERED_READ: ScsiSense = { key: SenseKey.MEDIUM_ERROR, asc: 0x11, ascq: 0x00 };
/** MEDIUM ERROR, write error (0C/00). */
export const SENSE_WRITE_ERROR: ScsiSense = { key: SenseKey.MEDIUM_ERROR, asc: 0x0c, ascq: 0x00 };

/** What a faulty command gets: the rule it tripped. */
interface ActiveFault {
  readonly spec: FaultSpec;
  readonly firstSector: number;
  readonly lastSector: number;
  /** Failures left (Infinity for permanent). */
  left: number;
}

/** Counters for the run's report. */
export interface FaultCounters {
  injected: number;
  timeouts: number;
}

/**
 * The faults of one device. Devices call `check` once per data command at the moment the media
 * would answer; a device without faults keeps `undefined` and pays one branch.
 */
export class FaultInjector {
  private readonly ranges: ActiveFault[] = [];
  private readonly draws: FaultSpec[] = [];
  readonly counters: FaultCounters = { injected: 0, timeouts: 0 };

  constructor(
    specs: readonly FaultSpec[],
    /** The device's own stream, so draws do not disturb anything else in the machine. */
    private readonly rng: Random,
  ) {
    for (const s of specs) {
      if (s.probability > 0) this.draws.push(s);
      else this.ranges.push({ spec: s, firstSector: s.firstSector, lastSector: s.firstSector < 0 ? Infinity : s.lastSector, left: failuresOf(s) });
    }
  }

  /** The fault a command trips, or undefined when it completes normally. */
  check(cmd: DeviceCommand): FaultSpec | undefined {
    if (cmd.op === 'flush' || cmd.nrSectors <= 0) return undefined;
    const first = cmd.sector;
    const last = cmd.sector + cmd.nrSectors - 1;
    for (const r of this.ranges) {
      if (r.left <= 0 || !opMatches(r.spec.op, cmd.op) || last < r.firstSector || first > r.lastSector) continue;
      r.left--;
      return this.hit(r.spec);
    }
    for (const s of this.draws) {
      if (!opMatches(s.op, cmd.op) || (s.firstSector >= 0 && (last < s.firstSector || first > s.lastSector))) continue;
      if (this.rng.next() >= s.probability) continue;
      // a defect grows under this command: later commands over the same sectors meet it too
      this.ranges.push({ spec: s, firstSector: first, lastSector: last, left: failuresOf(s) - 1 });
      return this.hit(s);
    }
    return undefined;
  }

  /**
   * Whether the device still answers commands that touch no sectors (task management, TEST UNIT
   * READY, NVMe admin commands): not when a permanent timeout covers the whole device (it hangs).
   */
  answersCommands(): boolean {
    for (const r of this.ranges) {
      if (r.spec.kind === 'timeout' && r.left === Infinity && r.spec.firstSector < 0) return false;
    }
    return true;
  }

  private hit(s: FaultSpec): FaultSpec {
    this.counters.injected++;
    if (s.kind === 'timeout') this.counters.timeouts++;
    return s;
  }
}

function failuresOf(s: FaultSpec): number {
  return s.kind === 'permanent' || (s.kind === 'timeout' && s.count === 0) ? Infinity : s.count;
}

function opMatches(want: FaultOp, op: DeviceCommand['op']): boolean {
  return want === 'any' || want === op;
}

/** The disk's completion status for a fault (CHECK CONDITION + sense). */
export function diskFaultStatus(s: FaultSpec, op: DeviceCommand['op']): number {
  return senseStatus(s.sense ?? (op === 'write' ? SENSE_WRITE_ERROR : SENSE_UNRECOVERED_READ));
}

/** The SSD's completion status for a fault. */
export function nvmeFaultStatus(s: FaultSpec, op: DeviceCommand['op']): number {
  return s.nvmeStatus ?? (op === 'write' ? NvmeStatus.WRITE_FAULT : NvmeStatus.READ_ERROR);
}
