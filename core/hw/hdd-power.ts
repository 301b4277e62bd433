// Models: a 3.5" 7200 rpm SATA disk's power conditions (ATA ACS: active/idle, standby after
// STANDBY IMMEDIATE, spin-up on the next media access) as drivers/scsi/sd.c's runtime suspend and
// resume use them (sd_suspend_runtime: SYNCHRONIZE CACHE then START STOP UNIT stop; resume: start).
// SIMPLIFICATION: fixed times and powers, assumptions of the datasheet kind [mem]: spin-up about
// 8 s from standby, spin-down (cache flush, heads unloaded) about 1 s; 7 W seeking/transferring,
// 5 W idle spinning, 0.8 W in standby.

import type { DevPmOps } from '../power/runtime.js';

export const HDD_SPIN_UP_NS = 8_000_000_000;
export const HDD_SPIN_DOWN_NS = 1_000_000_000;
export const HDD_BUSY_W = 7;
export const HDD_IDLE_W = 5;
export const HDD_STANDBY_W = 0.8;

/** The disk's runtime PM callbacks and power figures; `busy` says whether requests are pending. */
export function hddPmOps(busy: () => boolean): DevPmOps {
  return { suspendNs: HDD_SPIN_DOWN_NS, resumeNs: HDD_SPIN_UP_NS, idleW: HDD_IDLE_W, busyW: HDD_BUSY_W, suspendedW: HDD_STANDBY_W, busy };
}
