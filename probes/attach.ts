// The programmatic attach API: a probe spec string (bpftrace syntax: provider aliases, `*`
// wildcards, several specs separated by commas) resolved against a machine's probe sites.

import type { Machine, ProbeHandler, ProbeProvider, ProbeSite } from '../core/index.js';
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
};

export class AttachError extends Error {
  constructor(
    message: string,
    readonly spec: string,
  ) {
    super(message);
    this.name = 'AttachError';
  }
}

/** Canonical full-name glob for one spec: `t:block:*` -> `tracepoint:block:*`. */
export function canonicalSpec(spec: string): string {
  const s = spec.trim();
  const colon = s.indexOf(':');
  if (colon < 0) return s;
  const provider = ownValue(PROVIDER_ALIASES, s.slice(0, colon).toLowerCase());
  return provider ? provider + s.slice(colon) : s;
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
