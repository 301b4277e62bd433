// Models: drivers/nvme/host/core.c nvme_configure_apst (Linux 5.15+): the APST table the host
// writes with Set Features, built from the controller's power state descriptors. Walking from the
// deepest state up, a non-operational state whose exit latency is within ps_max_latency_us
// (nvme_core.default_ps_max_latency_us = 100000, or power/pm_qos_latency_tolerance_us) becomes the
// target of every shallower state, after apst_primary_timeout_ms (100) when its entry + exit
// latency is within apst_primary_latency_tol_us (15000), or apst_secondary_timeout_ms (2000)
// within apst_secondary_latency_tol_us (100000); at most one state of each kind is used.

import type { ApstEntry, NvmePowerState } from '../../../hw/nvme-apst.js';

/** nvme_core module parameters' defaults. */
export const NVME_DEFAULT_PS_MAX_LATENCY_US = 100_000;
export const APST_PRIMARY_TIMEOUT_MS = 100;
export const APST_SECONDARY_TIMEOUT_MS = 2000;
export const APST_PRIMARY_LATENCY_TOL_US = 15_000;
export const APST_SECONDARY_LATENCY_TOL_US = 100_000;

/**
 * The APST table for `states` under `psMaxLatencyUs` (0 disables APST: no table). Entry i names
 * the state to go to from state i, and after how long idle.
 */
export function nvmeConfigureApst(states: readonly NvmePowerState[], psMaxLatencyUs: number): (ApstEntry | undefined)[] | undefined {
  if (psMaxLatencyUs <= 0) return undefined;
  const table: (ApstEntry | undefined)[] = states.map(() => undefined);
  let target: ApstEntry | undefined;
  // nvme_apst_get_transition_time's last_index: one primary and one secondary state at most
  let lastIndex = Infinity;
  let any = false;
  for (let state = states.length - 1; state >= 0; state--) {
    if (target) table[state] = target;
    const ps = states[state]!;
    if (!ps.nonOperational || ps.exitLatUs > psMaxLatencyUs) continue;
    const totalLatencyUs = ps.exitLatUs + ps.entryLatUs;
    let idleTimeMs: number;
    if (totalLatencyUs <= APST_PRIMARY_LATENCY_TOL_US) {
      if (lastIndex === 1) continue;
      lastIndex = 1;
      idleTimeMs = APST_PRIMARY_TIMEOUT_MS;
    } else if (totalLatencyUs <= APST_SECONDARY_LATENCY_TOL_US) {
      if (lastIndex <= 2) continue;
      lastIndex = 2;
      idleTimeMs = APST_SECONDARY_TIMEOUT_MS;
    } else {
      continue;
    }
    target = { targetPs: state, idleTimeMs };
    any = true;
  }
  return any ? table : undefined;
}
