// `kiotrace -l [PATTERN]` / `-lv`: probe names the way `bpftrace -l` prints them, and with -v each
// tracepoint's fields (common_* omitted) or each kprobe's parameters, with their C types.

import { BTF, bootMachine, DEFAULT_MACHINE, globMatches, type ProbeSite } from '../core/index.js';
import { canonicalSpec, isProbeType } from './attach.js';

function describe(site: ProbeSite): string[] {
  if (site.provider === 'tracepoint') return site.fields.map(([decl]) => `    ${decl}`);
  const lines = site.params.map((p) => `    ${p.type}${p.type.endsWith('*') ? '' : ' '}${p.name}`);
  if (site.provider === 'kretprobe' || site.provider === 'fexit') lines.push('    retval');
  return lines;
}

/** interval and profile probes, each unit. */
const TIMER_PROBES: readonly string[] = ['interval', 'profile'].flatMap((p) => ['hz', 'ms', 's', 'us'].map((u) => `${p}:${u}:`));

/**
 * Lines to print. A pattern without a provider also matches the name after the provider, so
 * `block:*` lists `tracepoint:block:*` and `vfs_*` lists `kprobe:vfs_*` and `kretprobe:vfs_*`.
 */
export function listProbes(pattern: string | undefined, verbose: boolean): string[] {
  // several patterns, comma-separated ('kprobe:vfs_read,struct file'): each one's lines in turn
  if (pattern !== undefined && pattern.includes(',')) return pattern.split(',').flatMap((p) => listProbes(p.trim(), verbose));
  // `struct NAME`: the kernel struct's definition, as its BTF describes it here
  const struct = pattern !== undefined ? /^struct\s+(\w+)$/.exec(pattern.trim()) : null;
  if (struct) return structDefinition(struct[1]!);
  const m = bootMachine(DEFAULT_MACHINE, 1);
  // the fentry/fexit/rawtracepoint views too, as bpftrace -l lists them
  const sites = [...m.k.registry.all(), ...m.k.registry.views().values()].sort((a, b) => (a.fullName < b.fullName ? -1 : a.fullName > b.fullName ? 1 : 0));
  let selected = sites;
  if (pattern !== undefined && pattern !== '' && pattern !== '*') {
    const full = canonicalSpec(pattern);
    selected = sites.filter((s) => globMatches(full, s.fullName) || globMatches(pattern, s.fullName.slice(s.fullName.indexOf(':') + 1)));
  }
  const out: string[] = [];
  for (const s of selected) {
    out.push(s.fullName);
    if (verbose) out.push(...describe(s));
  }
  // the timer probes, listed by unit as bpftrace lists them (the rate or period follows the last colon)
  for (const name of TIMER_PROBES) {
    if (pattern === undefined || pattern === '' || pattern === '*' || globMatches(pattern, name) || globMatches(canonicalSpec(pattern), name)) out.push(name);
  }
  return out;
}

/** bpftrace -lv 'struct NAME': the struct's members with their C types (only those kiotrace describes). */
function structDefinition(name: string): string[] {
  const s = BTF.get(name);
  if (s === undefined) return [];
  return [`vmlinux: struct ${name} {`, ...[...s.members.values()].map((mem) => `\t${mem.type} ${mem.name};`), '};'];
}

/**
 * Why `-l PATTERN` is refused, in bpftrace's words, or undefined. bpftrace refuses a listing whose
 * probe type is no probe type (`-l 'blok:*'`: "Invalid probe type: blok", exit 1); kiotrace also
 * reads a pattern without a probe type (`block:*`), so only one that matches nothing is refused.
 */
export function listingError(pattern: string | undefined): string | undefined {
  if (pattern === undefined || !pattern.includes(':')) return undefined;
  const type = pattern.slice(0, pattern.indexOf(':'));
  if (type.includes('*') || type.includes('?') || isProbeType(type)) return undefined;
  if (listProbes(pattern, false).length > 0) return undefined;
  // the listing is parsed as a program named "listing" whose attach point has no location
  return `listing:1:1-1: ERROR: Invalid probe type: ${type}\n${pattern}\n\n`;
}
