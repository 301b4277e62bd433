// Models: drivers/scsi/scsi_error.c (scsi_check_sense's disposition by sense key, the error
// handler's escalation abort -> device reset -> target reset -> bus reset -> host reset -> offline)
// and the retry half of drivers/scsi/scsi_lib.c (scsi_decide_disposition's retry budget,
// scsi_queue_insert -> blk_mq_requeue_request, scsi_result_to_blk_status), with drivers/scsi/sd.h's
// SD_TIMEOUT and SD_MAX_RETRIES and the CDBs sd_setup_read_write_cmnd builds.

import { BlkStatus, ReqOp } from '../../block/blk_types.js';
import type { MqRequest } from '../../block/blk-mq.js';
import type { Kernel } from '../../kernel/kernel.js';
import { Priority } from '../../sim/engine.js';
import { SenseKey, type ScsiSense } from '../../hw/fault-inject.js';

/** SD_TIMEOUT: a disk command's timeout (/sys/block/sdX/device/timeout), 30 s. */
export const SD_TIMEOUT_NS = 30e9;
/** SD_MAX_RETRIES: scmd->allowed for disk reads and writes. */
export const SD_MAX_RETRIES = 5;
/** SCSI_DEFAULT_EH_TIMEOUT: how long an error-handler command (TMF, TEST UNIT READY) may take. */
export const SCSI_DEFAULT_EH_TIMEOUT_NS = 10e9;
/** BUS_RESET_SETTLE_TIME and HOST_RESET_SETTLE_TIME: the wait after a reset before commands resume. */
export const BUS_RESET_SETTLE_TIME_NS = 10e9;
export const HOST_RESET_SETTLE_TIME_NS = 10e9;
/**
 * A task-management function that the device answers: one exchange over the link and the
 * firmware's turnaround. SIMPLIFICATION: a fixed round trip (an assumption, sub-millisecond).
 */
export const SCSI_TMF_ROUND_TRIP_NS = 100_000;

/** SAM status bytes. */
export const SAM_STAT_GOOD = 0x00;
export const SAM_STAT_CHECK_CONDITION = 0x02;
/** Host bytes (result bits 16-23). */
export const DID_TIME_OUT = 0x03;
/** The error handler's SUCCESS / FAILED (include/scsi/scsi.h). */
export const SCSI_EH_SUCCESS = 0x2002;
export const SCSI_EH_FAILED = 0x2003;
/** scsi_dispatch_cmd_error's rtn when queuecommand defers (SCSI_MLQUEUE_DEVICE_BUSY). */
export const SCSI_MLQUEUE_DEVICE_BUSY = 0x1056;

/** What the midlayer does with a completed command that carries sense data. */
export interface SenseDisposition {
  /** NEEDS_RETRY (while scmd->retries < allowed). */
  readonly retry: boolean;
  /** The block status if the command ends now (BLK_STS_OK for a recovered error). */
  readonly status: BlkStatus;
}

const RETRY_IOERR: SenseDisposition = { retry: true, status: BlkStatus.IOERR };
const FAIL_IOERR: SenseDisposition = { retry: false, status: BlkStatus.IOERR };
const FAIL_MEDIUM: SenseDisposition = { retry: false, status: BlkStatus.MEDIUM };
const FAIL_TARGET: SenseDisposition = { retry: false, status: BlkStatus.TARGET };
const FAIL_NOSPC: SenseDisposition = { retry: false, status: BlkStatus.NOSPC };
const RECOVERED: SenseDisposition = { retry: false, status: BlkStatus.OK };

/**
 * scsi_check_sense + scsi_io_completion_action, by sense key (§18). Medium errors on unreadable
 * data (ASC 11h, 13h, 14h) fail at once with the "medium error" ml byte (BLK_STS_MEDIUM); other
 * medium errors, ABORTED COMMAND (a link CRC error) and UNIT ATTENTION are retried; HARDWARE ERROR
 * is a target failure (retry_hwerror is off for disks).
 */
export function scsiCheckSense(s: ScsiSense): SenseDisposition {
  switch (s.key) {
    case SenseKey.NO_SENSE:
    case SenseKey.RECOVERED_ERROR:
      return RECOVERED;
    case SenseKey.NOT_READY:
      // 04/01 "becoming ready" and friends are waited out; anything else will not change
      return s.asc === 0x04 && (s.ascq === 0x01 || s.ascq === 0x05 || s.ascq === 0x06 || s.ascq === 0x07 || s.ascq === 0x08) ? RETRY_IOERR : FAIL_IOERR;
    case SenseKey.UNIT_ATTENTION:
    case SenseKey.ABORTED_COMMAND:
      return s.key === SenseKey.ABORTED_COMMAND && s.asc === 0x10 ? FAIL_TARGET : RETRY_IOERR;
    case SenseKey.MEDIUM_ERROR:
      return s.asc === 0x11 || s.asc === 0x13 || s.asc === 0x14 ? FAIL_MEDIUM : RETRY_IOERR;
    case SenseKey.HARDWARE_ERROR:
      return FAIL_TARGET;
    case SenseKey.ILLEGAL_REQUEST:
      return s.asc === 0x20 || s.asc === 0x21 || s.asc === 0x22 || s.asc === 0x24 || s.asc === 0x26 || s.asc === 0x27 ? FAIL_TARGET : FAIL_IOERR;
    case SenseKey.DATA_PROTECT:
      return s.asc === 0x27 && s.ascq === 0x07 ? FAIL_NOSPC : FAIL_TARGET;
    case SenseKey.COPY_ABORTED:
    case SenseKey.VOLUME_OVERFLOW:
    case SenseKey.MISCOMPARE:
    case SenseKey.BLANK_CHECK:
      return FAIL_TARGET;
    default:
      return FAIL_IOERR;
  }
}

/** SCSI opcodes sd uses. */
const READ_10 = 0x28;
const WRITE_10 = 0x2a;
const SYNCHRONIZE_CACHE = 0x35;
const READ_16 = 0x88;
const WRITE_16 = 0x8a;
const FUA_BIT = 0x08;

/**
 * sd_setup_read_write_cmnd / sd_setup_flush_cmnd: the CDB of a request. sd_read_capacity turns on
 * 16-byte commands (use_16_for_rw) for disks past 2^32 sectors.
 */
export function scsiCdb(rq: MqRequest, use16: boolean, fua: boolean): number[] {
  if (rq.op === ReqOp.FLUSH) return [SYNCHRONIZE_CACHE, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const write = rq.op === ReqOp.WRITE;
  const flags = fua ? FUA_BIT : 0;
  let lba = rq.sector;
  const n = rq.nrSectors;
  if (use16) {
    const cdb = [write ? WRITE_16 : READ_16, flags, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let i = 9; i >= 2; i--) {
      cdb[i] = lba % 256;
      lba = Math.floor(lba / 256);
    }
    cdb[10] = (n >>> 24) & 0xff;
    cdb[11] = (n >>> 16) & 0xff;
    cdb[12] = (n >>> 8) & 0xff;
    cdb[13] = n & 0xff;
    return cdb;
  }
  return [write ? WRITE_10 : READ_10, flags, (lba >>> 24) & 0xff, (lba >>> 16) & 0xff, (lba >>> 8) & 0xff, lba & 0xff, 0, (n >>> 8) & 0xff, n & 0xff, 0];
}

/** What the error handler asks of the host it recovers (the LLD and scsi_lib around it). */
export interface ScsiEhHost {
  /** Whether the device answers task management and TEST UNIT READY at all. */
  deviceAnswers(): boolean;
  /** scsi_queue_insert(SCSI_MLQUEUE_EH_RETRY): send the command again. */
  retry(rq: MqRequest): void;
  /** scsi_finish_command with a final status. */
  finish(rq: MqRequest, status: BlkStatus): void;
  /** scsi_eh_offline_sdevs: the device goes offline; every command it holds fails. */
  takeOffline(): void;
  /** scsi_restart_operations: the host leaves recovery and its queue runs again. */
  resume(): void;
}

/** One rung of the escalation ladder: its name and the settle time after it. */
interface EhStep {
  readonly name: string;
  readonly settleNs: number;
}

/** scsi_unjam_host's order: abort, then scsi_eh_ready_devs' resets, widest last. */
const EH_STEPS: readonly EhStep[] = [
  { name: 'abort', settleNs: 0 },
  { name: 'device reset', settleNs: 0 },
  { name: 'target reset', settleNs: 0 },
  { name: 'bus reset', settleNs: BUS_RESET_SETTLE_TIME_NS },
  { name: 'host reset', settleNs: HOST_RESET_SETTLE_TIME_NS },
];

/**
 * The error handler of one SCSI host (scsi_error_handler, the scsi_eh_N thread): timed-out
 * commands wait in the host's eh list while the host is in recovery (SHOST_RECOVERY: nothing new
 * is dispatched); each step that the device answers succeeds after a TMF round trip, one it does
 * not answer fails after the EH timeout; the first success retries the commands (within their
 * budget), and when even a host reset fails the device is taken offline.
 * SIMPLIFICATION: libata runs its own EH (port freeze, COMRESET, revalidation) under scsi_eh; the
 * ladder here is scsi_error.c's, with the time each rung takes.
 */
export class ScsiErrorHandler {
  /** SHOST_RECOVERY: set while the handler runs. */
  active = false;
  private failed: MqRequest[] = [];
  private step = 0;
  private stepStartNs = 0;

  constructor(
    private readonly k: Kernel,
    private readonly hostNo: number,
    private readonly host: ScsiEhHost,
  ) {}

  /** scsi_eh_scmd_add: a timed-out command joins the handler (waking it if idle). */
  add(rq: MqRequest): void {
    this.failed.push(rq);
    if (this.active) return;
    this.active = true;
    this.step = 0;
    if (this.k.tp.scsi_eh_wakeup.enabled) this.k.tp.scsi_eh_wakeup.emit(this.k.sched.cpu(0), rq.ioId, this.hostNo);
    this.runStep();
  }

  private runStep(): void {
    const s = EH_STEPS[this.step]!;
    const answered = this.host.deviceAnswers();
    this.stepStartNs = this.k.env.nowNs;
    const ns = (answered ? SCSI_TMF_ROUND_TRIP_NS : SCSI_DEFAULT_EH_TIMEOUT_NS) + (answered ? s.settleNs : 0);
    this.k.env.after(ns, Priority.NORMAL, this.stepDoneFn, answered);
  }

  private readonly stepDoneFn = (answered: boolean): void => {
    const s = EH_STEPS[this.step]!;
    const tp = this.k.tp.scsi_eh_step;
    if (tp.enabled) tp.emit(this.k.sched.cpu(0), this.failed[0]?.ioId ?? 0, { hostNo: this.hostNo, step: s.name, result: answered ? SCSI_EH_SUCCESS : SCSI_EH_FAILED, durationNs: this.k.env.nowNs - this.stepStartNs });
    if (!answered && this.step + 1 < EH_STEPS.length) {
      this.step++;
      this.runStep();
      return;
    }
    const failed = this.failed;
    this.failed = [];
    this.active = false;
    if (!answered) {
      this.host.takeOffline();
      for (const rq of failed) this.host.finish(rq, BlkStatus.IOERR);
      return;
    }
    // scsi_eh_flush_done_q: retry what has budget left, fail the rest (DID_TIME_OUT -> BLK_STS_IOERR)
    for (const rq of failed) {
      if (++rq.retries <= SD_MAX_RETRIES) this.host.retry(rq);
      else this.host.finish(rq, BlkStatus.IOERR);
    }
    this.host.resume();
  };
}
