// `kiotrace -l [PATTERN]` / `-lv`: probe names the way `bpftrace -l` prints them, and with -v each
// tracepoint's fields (common_* omitted) or each kprobe's parameters, with their C types.

import { bootMachine, DEFAULT_MACHINE, globMatches, type ProbeSite } from '../core/index.js';
import { canonicalSpec } from './attach.js';

function describe(site: ProbeSite): string[] {
  if (site.provider === 'tracepoint') return site.fields.map(([decl]) => `    ${decl}`);
  const lines = site.params.map((p) => `    ${p.type}${p.type.endsWith('*') ? '' : ' '}${p.name}`);
  if (site.provider === 'kretprobe') lines.push('    retval');
  return lines;
}

/**
 * Lines to print. A pattern without a provider also matches the name after the provider, so
 * `block:*` lists `tracepoint:block:*` and `vfs_*` lists `kprobe:vfs_*` and `kretprobe:vfs_*`.
 */
export function listProbes(pattern: string | undefined, verbose: boolean): string[] {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const sites = m.k.registry.all();
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
  return out;
}
