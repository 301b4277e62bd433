// The programmatic attach API: a probe spec string (bpftrace syntax: provider aliases, `*`
// wildcards, several specs separated by commas) resolved against a machine's probe sites.

import { VMLINUX, type Machine, type ProbeHandler, type ProbeProvider, type ProbeSite } from '../core/index.js';
import { ownValue } from './lang/values.js';

/**
 * bpftrace's names and aliases of the providers a machine has probe sites of, lower case (a
 * provider is case-insensitive). The language adds the providers it fires itself (compile.ts).
 */
export const PROVIDER_ALIASES: Readonly<Record<string, ProbeProvider>> = {
  t: 'tracepoint',
  tracepoint: 'tracepoint',
  k: 'kprobe',
  kprobe: 'kprobe',
  kr: 'kretprobe',
  kretprobe: 'kretprobe',
  // other views of the same sites (core/trace/probe.ts ViewSite)
  f: 'fentry',
  fentry: 'fentry',
  kfunc: 'fentry',
  fr: 'fexit',
  fexit: 'fexit',
  kretfunc: 'fexit',
  rt: 'rawtracepoint',
  rawtracepoint: 'rawtracepoint',
};

/**
 * bpftrace's probe types that have nothing to attach to in the simulation, each with its aliases
 * and why: refused with the reason, not as a typo.
 */
const UNSUPPORTED_PROBE_TYPES: readonly { readonly names: readonly string[]; readonly why: string }[] = [
  { names: ['uprobe', 'u'], why: 'the simulated machine runs no user binaries to place a breakpoint in (fio and the tools are modelled as kernel work); trace their syscalls (tracepoint:syscalls:*) instead' },
  { names: ['uretprobe', 'ur'], why: 'the simulated machine runs no user binaries to place a breakpoint in (fio and the tools are modelled as kernel work); trace their syscalls (tracepoint:syscalls:sys_exit_*) instead' },
  { names: ['usdt', 'U'], why: 'the simulated machine runs no user binaries, so there are no USDT notes' },
  { names: ['hardware', 'h'], why: 'the simulated CPUs have no performance counters (cache misses, cycles); sample with profile:hz:99 instead' },
  { names: ['software', 's'], why: 'of the perf software events only cpu-clock (alias cpu) is modelled, as a sampling timer; for faults use tracepoint:exceptions:page_fault_user' },
  { names: ['watchpoint', 'w'], why: 'the simulated memory has no addresses a debug register could watch' },
  { names: ['asyncwatchpoint', 'aw'], why: 'the simulated memory has no addresses a debug register could watch' },
  { names: ['iter', 'it'], why: 'there are no BPF iterators over the simulated kernel\'s objects' },
];

/** `X probes are not supported by kiotrace: why` for a bpftrace probe type kiotrace does not have; undefined otherwise. */
export function unsupportedProbeType(provider: string): string | undefined {
  const found = UNSUPPORTED_PROBE_TYPES.find((t) => t.names.includes(provider));
  return found === undefined ? undefined : `${found.names[0]!} probes are not supported by kiotrace: ${found.why}`;
}

/** Whether `name` is one of bpftrace's probe types or aliases (kiotrace's or not). */
export function isProbeType(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    ownValue(PROVIDER_ALIASES, lower) !== undefined ||
    unsupportedProbeType(name) !== undefined ||
    ['begin', 'end', 'self', 'bench', 'interval', 'i', 'profile', 'p'].includes(lower)
  );
}

export class AttachError extends Error {
  constructor(
    message: string,
    readonly spec: string,
  ) {
    super(message);
    this.name = 'AttachError';
  }
}

/**
 * Canonical full-name glob for one spec: `t:block:*` -> `tracepoint:block:*`; a view without its
 * module gets it, as bpftrace looks the function up: `fentry:vfs_read` -> `fentry:vmlinux:vfs_read`.
 */
export function canonicalSpec(spec: string): string {
  const s = spec.trim();
  const colon = s.indexOf(':');
  if (colon < 0) return s;
  const provider = ownValue(PROVIDER_ALIASES, s.slice(0, colon).toLowerCase());
  if (!provider) return s;
  const rest = s.slice(colon + 1);
  if ((provider === 'fentry' || provider === 'fexit' || provider === 'rawtracepoint') && !rest.includes(':')) return `${provider}:${VMLINUX}:${rest}`;
  return `${provider}:${rest}`;
}

/** Sites a spec matches (an exact name or a glob). */
export function resolveSpec(m: Machine, spec: string): ProbeSite[] {
  const canon = canonicalSpec(spec);
  const reg = m.k.registry;
  if (!canon.includes('*') && !canon.includes('?')) {
    const site = reg.get(canon);
    return site ? [site] : [];
  }
  return reg.match(canon);
}

/**
 * Attaches `handler` to every site the comma-separated spec matches. Throws AttachError for a
 * spec that matches nothing. Returns a function that detaches everything it attached.
 */
export function attach(m: Machine, spec: string, handler: ProbeHandler): () => void {
  const detachers: (() => void)[] = [];
  for (const part of spec.split(',')) {
    const sites = resolveSpec(m, part);
    if (sites.length === 0) {
      for (const d of detachers) d();
      throw new AttachError(`No matches for probe ${part.trim()}`, part.trim());
    }
    for (const s of sites) detachers.push(s.attach(handler));
  }
  return () => {
    for (const d of detachers) d();
  };
}
