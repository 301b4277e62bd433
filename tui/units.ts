// Units for the command line and scenario files: fio-style sizes and durations in, integers out
// (bytes, ns), and short human forms back out. Pure functions; no I/O.
//
// Sizes follow fio's default kb_base=1024: "4k", "4K", "4kb", "4KiB" all mean 4096 bytes.
// SIMPLIFICATION: fio (kb_base=1024) reads "KiB" as 1000 for compatibility with old job files;
// kiotrace has no decimal size suffix, so every k/m/g/t/p suffix is a power of 1024.
//
// Durations take fio's time suffixes: ns, us (usec, µs), ms (msec), s (sec), m (min), h, d.
// A bare number uses the option's default unit, as fio does: seconds for runtime, startdelay,
// the scenario duration and --duration; microseconds for thinktime.

import { printableText } from '../probes/lang/diagnostics.js';
import { ownValue } from '../probes/lang/values.js';

const SIZE_SHIFT: Readonly<Record<string, bigint>> = {
  '': 0n,
  k: 10n,
  m: 20n,
  g: 30n,
  t: 40n,
  p: 50n,
};

export type TimeUnit = 'ns' | 'us' | 'ms' | 's';

const TIME_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  nsec: 1n,
  us: 1_000n,
  usec: 1_000n,
  µs: 1_000n,
  ms: 1_000_000n,
  msec: 1_000_000n,
  s: 1_000_000_000n,
  sec: 1_000_000_000n,
  m: 60_000_000_000n,
  min: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);


/**
 * digits[.digits] times `multiplier`, exactly (BigInt, so "1.1s" is 1100000000 and not off by a
 * float ulp). Undefined when the result is not a whole number or exceeds 2^53-1.
 */
function scaleDecimal(intPart: string, fracPart: string, multiplier: bigint): number | undefined {
  const scale = 10n ** BigInt(fracPart.length);
  const numerator = (BigInt(intPart) * scale + BigInt(fracPart === '' ? '0' : fracPart)) * multiplier;
  if (numerator % scale !== 0n) return undefined;
  const value = numerator / scale;
  // too large to hold exactly: Infinity, so callers say "at most ..." rather than "not a number"
  return value > MAX_SAFE ? Infinity : Number(value);
}

/**
 * A fio size ("4k", "256m", "1g", "512", "4KiB", "1.5m") in bytes, or undefined if it is not one.
 * Negative sizes and sizes that are not a whole number of bytes are rejected; 0 is accepted (the
 * caller decides whether zero makes sense).
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)(?:\.(\d+))?([kmgtp])?(?:i?b)?$/i.exec(text.trim());
  if (m === null) return undefined;
  const shift = ownValue(SIZE_SHIFT, (m[3] ?? '').toLowerCase());
  if (shift === undefined) return undefined;
  const bytes = scaleDecimal(m[1]!, m[2] ?? '', 1n << shift);
  return bytes === Infinity ? undefined : bytes;
}

/** The longest simulated time any duration may ask for (a scenario's or --duration): runs are simulated event by event. */
export const MAX_DURATION_NS = 3_600_000_000_000;

/**
 * A fio time value in ns, Infinity if well formed but beyond 2^53 ns, or undefined. `bareUnit` is the unit of a number without a suffix
 * (fio: seconds for runtime/startdelay, microseconds for thinktime).
 */
export function parseDuration(text: string, bareUnit: TimeUnit = 's'): number | undefined {
  const m = /^(\d+)(?:\.(\d+))?([a-zµ]*)$/i.exec(text.trim());
  if (m === null) return undefined;
  const suffix = m[3]!.toLowerCase();
  const multiplier = ownValue(TIME_NS, suffix === '' ? bareUnit : suffix);
  if (multiplier === undefined) return undefined;
  return scaleDecimal(m[1]!, m[2] ?? '', multiplier);
}

/** Number with at most one decimal, dropping a trailing ".0" ("4", "1.5", "48.1"). */
function shortNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return value < 100 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
}

/** Bytes for humans: "512 B", "4 KiB", "1.5 MiB", "256 MiB", "1 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${shortNumber(value)} ${units[i]!}`;
}

/** Nanoseconds for humans: "850 ns", "12.5 µs", "3 ms", "2 s". */
export function formatNs(ns: number): string {
  const units = ['ns', 'µs', 'ms', 's'];
  let value = ns;
  let i = 0;
  while (Math.abs(value) >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  return `${shortNumber(value)} ${units[i]!}`;
}

/**
 * A size in the shortest fio spelling that is exact: 8388608 -> "8m", 4096 -> "4k", 1000 -> "1000".
 * Used in messages that quote sizes back to the user in the form they write them.
 */
export function formatSizeFio(bytes: number): string {
  const suffixes: ReadonlyArray<[string, number]> = [
    ['p', 2 ** 50],
    ['t', 2 ** 40],
    ['g', 2 ** 30],
    ['m', 2 ** 20],
    ['k', 2 ** 10],
  ];
  for (const [suffix, unitBytes] of suffixes) {
    if (bytes >= unitBytes && bytes % unitBytes === 0) return `${bytes / unitBytes}${suffix}`;
  }
  return String(bytes);
}

/** A duration in the shortest fio spelling that is exact: 2e9 -> "2s", 5e5 -> "500us". */
export function formatDurationFio(ns: number): string {
  const suffixes: ReadonlyArray<[string, number]> = [
    ['h', 3_600_000_000_000],
    ['m', 60_000_000_000],
    ['s', 1_000_000_000],
    ['ms', 1_000_000],
    ['us', 1_000],
  ];
  for (const [suffix, unitNs] of suffixes) {
    if (ns >= unitNs && ns % unitNs === 0) return `${ns / unitNs}${suffix}`;
  }
  return `${ns}ns`;
}

export type Num2StrUnit = '' | 'B' | 'B/s';

/**
 * fio's num2str() (lib/num2str.c): `num` shortened to at most `maxDigits` digits before the unit
 * prefix, with decimals filling the remaining width. pow2 selects Ki/Mi/Gi (1024) over k/M/G (1000).
 * fio prints IOPS with (4, SI, ''), bandwidth with (4, pow2, 'B/s') and sizes with (4, pow2, 'B').
 */
export function num2str(num: number, maxDigits: number, pow2: boolean, unit: Num2StrUnit): string {
  const prefixes = pow2 ? ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'] : ['', 'k', 'M', 'G', 'T', 'P'];
  const thousand = pow2 ? 1024 : 1000;
  let n = Math.max(0, Math.floor(num));
  let post = 0;
  let modulo = -1;
  while (post < prefixes.length - 1 && String(n).length > maxDigits) {
    modulo = n % thousand;
    n = Math.floor(n / thousand);
    post++;
  }
  const unitStr = (p: number): string => `${prefixes[p]!}${unit}`;
  if (modulo === -1) return `${n}${unitStr(post)}`;
  const room = maxDigits - String(n).length;
  if (room <= 1) {
    // No room for decimals: round to nearest, as fio does with its carry.
    if (modulo >= thousand / 2) n++;
    return `${n}${unitStr(post)}`;
  }
  const decimals = cFixedFraction(modulo / thousand, room - 1);
  // "%.2f" of 0.999 is "1.00": fio carries into the integer part and keeps the zeros ("2.00MiB")
  if (decimals.startsWith('1')) return `${n + 1}.${decimals.slice(2)}${unitStr(post)}`;
  return `${n}.${decimals.slice(2)}${unitStr(post)}`;
}

/**
 * printf("%.Nf") of a fraction in [0, 1): glibc rounds an exact tie to even (0.125 to "0.12"),
 * where toFixed rounds it up; ties are exact binary fractions, so the scaled value shows them.
 */
function cFixedFraction(value: number, digits: number): string {
  const scaled = value * 10 ** digits;
  const floor = Math.floor(scaled);
  if (scaled - floor === 0.5 && floor % 2 === 0) return (floor / 10 ** digits).toFixed(digits);
  return value.toFixed(digits);
}

/**
 * `text` safe to print on a terminal: control characters (ESC, BEL, CR, ...), bidirectional
 * overrides and lone surrogates come out as JavaScript escapes (`\x1b`, `\u202e`), so a name from
 * a scenario or job file can never move the cursor, recolour the screen or reorder the line.
 * (One implementation for every layer: probes/lang/diagnostics.ts.)
 */
export function printable(text: string): string {
  return printableText(text);
}
