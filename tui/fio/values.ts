// fio's value syntax (parse.c: str_to_decimal, __get_mult_bytes, get_mult_time; HOWTO "Parameter
// types"): sizes with kb_base, percentages, ranges, per-direction comma lists, bssplit, times with
// suffixes, booleans, float lists and parenthesised arithmetic. Pure functions; no I/O.
//
// Where fio silently reads a value as something the user surely did not mean ("1.5m" is 1 byte,
// "10sec" is 10 microseconds, an unknown suffix multiplies by 1), kiotrace refuses it and says what
// fio would have done; everything fio reads as intended is read the same way.

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** A value quoted back in a message, cut short when long (a hostile value stays one line). */
export function shown(text: string, maxChars = 40): string {
  return JSON.stringify(text.length > maxChars ? `${text.slice(0, maxChars - 3)}...` : text);
}

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const bad = <T>(error: string): Parsed<T> => ({ ok: false, error });

/** fio's kb_base: 1024 (default, "compatibility mode") or 1000 (SI/IEC as the standards say). */
export type KbBase = 1000 | 1024;

/** Largest integer a value may reach: JobSpec holds numbers, exact only up to 2^53. */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Bytes per unit for a size suffix: k/kb/K/KB (and m, g, t, p) are powers of kb_base (1024 by
 * default, 1000 with kb_base=1000); the IEC spellings ki/kib/KiB are always powers of 1024, as
 * their names say. Case does not matter and a trailing b/B means bytes, not bits.
 * SIMPLIFICATION (deliberate): fio with kb_base=1024 reads the IEC spellings as powers of 1000
 * ("opposite units, for compatibility with old scripts": 4KiB is 4000 bytes); kiotrace keeps
 * KiB = 1024 always, as its scenarios always have. No fio example job file uses them.
 */
function suffixMultiplier(suffix: string, kbBase: KbBase): bigint | undefined {
  const s = suffix.toLowerCase();
  if (s === '' || s === 'b') return 1n;
  const m = /^([kmgtp])(i?)(b?)$/.exec(s);
  if (m === null) return undefined;
  const pow = BigInt('kmgtp'.indexOf(m[1]!) + 1);
  const base = m[2] === 'i' ? 1024n : BigInt(kbBase);
  return base ** pow;
}

function toSafe(value: bigint, text: string): Parsed<number> {
  if (value > MAX_SAFE) return bad(`${shown(text)} is too large (at most ${Number.MAX_SAFE_INTEGER})`);
  return ok(Number(value));
}

/** A size or a percentage (fio stores "50%" apart from bytes and resolves it against the file). */
export type SizeOrPercent = { readonly kind: 'bytes'; readonly bytes: number } | { readonly kind: 'percent'; readonly percent: number };

/**
 * A fio size: decimal or 0x hex, an optional suffix (k, kb, kib, m, ..., p; b), or a parenthesised
 * expression. "1.5m" is refused: fio's strtoll stops at the '.', so fio would read 1 byte.
 */
export function parseSize(text: string, kbBase: KbBase): Parsed<number> {
  const r = parseSizeOrPercent(text, kbBase);
  if (!r.ok) return r;
  if (r.value.kind === 'percent') return bad(`a percentage is not allowed here (got ${shown(text)}); give a size like 4k`);
  return ok(r.value.bytes);
}

export function parseSizeOrPercent(text: string, kbBase: KbBase): Parsed<SizeOrPercent> {
  const t = text.trim();
  if (t.startsWith('(')) {
    const e = evaluateExpression(t, (suffix) => suffixMultiplier(suffix, kbBase));
    if (!e.ok) return e;
    if (e.value < 0 || !Number.isInteger(e.value)) return bad(`${shown(text)} evaluates to ${e.value}; a size must be a whole number of bytes, 0 or more`);
    return ok({ kind: 'bytes', bytes: e.value });
  }
  const m = /^(0x[0-9a-f]+|\d+)(\.\d+)?\s*([a-z%]*)$/i.exec(t);
  if (m === null) return bad(`${shown(text)} is not a size; write a number with an optional suffix, like 4k, 64m or 1g`);
  if (m[2] !== undefined) {
    return bad(`${shown(text)} has a fraction; fio reads only the whole part (${m[1]}${m[3]}), so write the size in a smaller unit, like 1536k for 1.5m`);
  }
  const n = BigInt(m[1]!);
  const suffix = m[3]!;
  if (suffix === '%') {
    if (n < 1n || n > 100n) return bad(`a percentage must be from 1% to 100% (got ${shown(text)})`);
    return ok({ kind: 'percent', percent: Number(n) });
  }
  const mult = suffixMultiplier(suffix, kbBase);
  if (mult === undefined) return bad(`unknown size suffix ${shown(suffix)} in ${shown(text)}; use k, m, g, t or p (with an optional b or ib)`);
  const r = toSafe(n * mult, text);
  return r.ok ? ok({ kind: 'bytes', bytes: r.value }) : r;
}

/** A plain integer (decimal, 0x hex, or an expression), for counts such as iodepth or numjobs. */
export function parseInteger(text: string): Parsed<number> {
  const t = text.trim();
  if (t.startsWith('(')) {
    const e = evaluateExpression(t, (s) => (s === '' ? 1n : undefined));
    if (!e.ok) return e;
    if (!Number.isInteger(e.value)) return bad(`${shown(text)} evaluates to ${e.value}, not a whole number`);
    return ok(e.value);
  }
  const m = /^(-?)(0x[0-9a-f]+|\d+)$/i.exec(t);
  if (m === null) return bad(`${shown(text)} is not a whole number`);
  const n = BigInt(m[2]!);
  if (n > MAX_SAFE) return bad(`${shown(text)} is too large`);
  return ok(m[1] === '-' ? -Number(n) : Number(n));
}

/** Microseconds per unit of fio's time suffixes (get_mult_time): us, usec, ms, msec, s, m, h, d. */
const TIME_US: Readonly<Record<string, bigint>> = {
  us: 1n,
  usec: 1n,
  ms: 1_000n,
  msec: 1_000n,
  s: 1_000_000n,
  m: 60_000_000n,
  h: 3_600_000_000n,
  d: 86_400_000_000n,
};

/**
 * A fio time in ns. `bareUnit` is the unit of a number without a suffix: seconds for runtime,
 * ramp_time and startdelay; microseconds for thinktime. fio multiplies an unknown suffix by 1
 * ("10sec" is 10 units), so kiotrace refuses it instead. In a parenthesised expression a bare
 * number is microseconds, as fio's HOWTO says.
 */
export function parseTime(text: string, bareUnit: 's' | 'us'): Parsed<number> {
  const t = text.trim();
  if (t.startsWith('(')) {
    const e = evaluateExpression(t, (s) => (s === '' ? 1n : Object.hasOwn(TIME_US, s.toLowerCase()) ? TIME_US[s.toLowerCase()] : undefined));
    if (!e.ok) return e;
    if (e.value < 0 || !Number.isInteger(e.value)) return bad(`${shown(text)} evaluates to ${e.value} us; a time must be a whole number of microseconds, 0 or more`);
    return ok(e.value * 1000);
  }
  const m = /^(\d+)\s*([a-zµ]*)$/i.exec(t);
  if (m === null) {
    if (/^\d+\.\d/.test(t)) return bad(`${shown(text)} has a fraction; fio reads only the whole part, so use a smaller unit, like 1500ms for 1.5s`);
    return bad(`${shown(text)} is not a time; write a number with an optional suffix (us, ms, s, m, h, d), like 10s or 500ms`);
  }
  const suffix = m[2]!.toLowerCase();
  const mult = suffix === '' ? (bareUnit === 's' ? TIME_US.s! : 1n) : Object.hasOwn(TIME_US, suffix) ? TIME_US[suffix] : undefined;
  if (mult === undefined) {
    return bad(`unknown time suffix ${shown(m[2]!)} in ${shown(text)}; fio knows us, ms, s, m, h and d (and would read this as ${m[1]} microseconds)`);
  }
  const ns = BigInt(m[1]!) * mult * 1000n;
  return toSafe(ns, text);
}

/** fio's bool (check_int with maxval 1): 0 or 1; true/false also read, as JSON scenarios write them. */
export function parseBool(text: string): Parsed<boolean> {
  const t = text.trim().toLowerCase();
  if (t === '1' || t === 'true') return ok(true);
  if (t === '0' || t === 'false') return ok(false);
  return bad(`${shown(text)} is not a boolean; write 1 or 0 (or true/false)`);
}

/** A decimal number (for zipf theta, percentile lists). */
export function parseFloatValue(text: string): Parsed<number> {
  const t = text.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return bad(`${shown(text)} is not a number`);
  return ok(Number(t));
}

/**
 * fio's per-direction lists (bs, bsrange, bssplit, rate, rate_iops...): "a" applies to reads and
 * writes; "a,b" is read a, write b; an empty field keeps the default ("bs=,8k"); a third field is
 * for trims, which kiotrace does not issue, so it is checked and dropped.
 */
export function splitDirections(text: string): Parsed<{ readonly read: string | undefined; readonly write: string | undefined }> {
  const parts = text.split(',');
  if (parts.length > 3) return bad(`${shown(text)} has ${parts.length} comma-separated values; give at most 3 (read, write, trim)`);
  const field = (s: string | undefined): string | undefined => (s === undefined || s.trim() === '' ? undefined : s.trim());
  const read = field(parts[0]);
  // "A value not terminated in a comma applies to subsequent types."
  const write = parts.length === 1 ? read : field(parts[1]);
  return ok({ read, write });
}

/** "4k-16k" or "4k:16k" (swapped when low > high, as fio does). */
export function parseSizeRange(text: string, kbBase: KbBase): Parsed<{ readonly minBytes: number; readonly maxBytes: number }> {
  const m = /^([^-:]+)[-:]([^-:]+)$/.exec(text.trim());
  if (m === null) {
    const single = parseSize(text, kbBase);
    return single.ok ? ok({ minBytes: single.value, maxBytes: single.value }) : single;
  }
  const lo = parseSize(m[1]!, kbBase);
  if (!lo.ok) return lo;
  const hi = parseSize(m[2]!, kbBase);
  if (!hi.ok) return hi;
  return ok({ minBytes: Math.min(lo.value, hi.value), maxBytes: Math.max(lo.value, hi.value) });
}

/**
 * One direction of bssplit: "4k/10:64k/50:32k/40". Blank percentages share what is left evenly
 * (fio: "4k/50:1k/:32k/" is 50/25/25); more than 100 in all is an error; at most 64 entries.
 */
export function parseBsSplit(text: string, kbBase: KbBase): Parsed<readonly { readonly bytes: number; readonly percent: number }[]> {
  const items = text.split(':').filter((s) => s.trim() !== '');
  if (items.length === 0) return bad('bssplit needs at least one size/percent pair, like 4k/10:64k/90');
  if (items.length > 64) return bad(`${items.length} sizes in one direction; fio allows at most 64`);
  const entries: { bytes: number; percent: number | undefined }[] = [];
  for (const item of items) {
    const m = /^([^/]+)(?:\/(.*))?$/.exec(item.trim());
    if (m === null) return bad(`${shown(item)} is not size/percent`);
    const size = parseSize(m[1]!, kbBase);
    if (!size.ok) return size;
    if (size.value === 0) return bad(`block size 0 in ${shown(item)}`);
    let percent: number | undefined;
    if (m[2] !== undefined && m[2].trim() !== '') {
      const p = parseFloatValue(m[2]);
      if (!p.ok || p.value < 0 || p.value > 100) return bad(`percentage ${shown(m[2]!)} in ${shown(item)} must be from 0 to 100`);
      percent = p.value;
    }
    entries.push({ bytes: size.value, percent });
  }
  const given = entries.reduce((s, e) => s + (e.percent ?? 0), 0);
  if (given > 100) return bad(`the percentages add up to ${given}; they must add up to 100`);
  const blanks = entries.filter((e) => e.percent === undefined).length;
  const share = blanks === 0 ? 0 : (100 - given) / blanks;
  const out = entries.map((e) => ({ bytes: e.bytes, percent: e.percent ?? share }));
  const total = out.reduce((s, e) => s + e.percent, 0);
  if (Math.abs(total - 100) > 1e-9) return bad(`the percentages add up to ${total}; they must add up to 100`);
  return ok(out);
}

/** "99:99.9:99.99" (fio's float_list), each in (0, 100], at most 20 (FIO_IO_U_LIST_MAX_LEN). */
export function parsePercentileList(text: string): Parsed<readonly number[]> {
  const parts = text.split(':');
  if (parts.length > 20) return bad(`${parts.length} percentiles; fio lists at most 20`);
  const out: number[] = [];
  for (const p of parts) {
    const v = parseFloatValue(p);
    if (!v.ok || v.value <= 0 || v.value > 100) return bad(`${shown(p)} is not a percentile from 0 (exclusive) to 100`);
    out.push(v.value);
  }
  return ok(out);
}

// ---------------------------------------------------------------------------------------------
// Arithmetic: fio evaluates a value that starts with '(' (exp/expression-parser.y): + - * / % ^,
// parentheses, unary minus, numbers with the option's unit suffixes. Division of integers truncates
// as in C when both sides are whole.

class ExprError {
  constructor(readonly message: string) {}
}

/** Deepest parenthesis nesting an expression may have (a hostile value cannot exhaust the stack). */
const MAX_EXPR_DEPTH = 32;

export function evaluateExpression(text: string, unit: (suffix: string) => bigint | undefined): Parsed<number> {
  let pos = 0;
  let depth = 0;
  const src = text;
  const space = (): void => {
    while (pos < src.length && /\s/.test(src[pos]!)) pos++;
  };
  const primary = (): number => {
    space();
    const ch = src[pos];
    if (ch === '(') {
      if (++depth > MAX_EXPR_DEPTH) throw new ExprError(`nested deeper than ${MAX_EXPR_DEPTH} parentheses`);
      pos++;
      const v = sum();
      space();
      if (src[pos] !== ')') throw new ExprError('missing ")"');
      pos++;
      depth--;
      return v;
    }
    if (ch === '-') {
      pos++;
      return -primary();
    }
    const m = /(\d+(?:\.\d+)?)([a-zA-Zµ]*)/y;
    m.lastIndex = pos;
    const hit = m.exec(src);
    if (hit === null) throw new ExprError(ch === undefined ? 'unexpected end of expression' : `unexpected ${JSON.stringify(ch)}`);
    pos += hit[0].length;
    const mult = unit(hit[2]!);
    if (mult === undefined) throw new ExprError(`unknown unit ${JSON.stringify(hit[2])}`);
    return Number(hit[1]) * Number(mult);
  };
  const power = (): number => {
    const base = primary();
    space();
    if (src[pos] === '^') {
      pos++;
      return base ** power();
    }
    return base;
  };
  const product = (): number => {
    let v = power();
    for (;;) {
      space();
      const op = src[pos];
      if (op !== '*' && op !== '/' && op !== '%') return v;
      pos++;
      const r = power();
      if ((op === '/' || op === '%') && r === 0) throw new ExprError('division by zero');
      if (op === '*') v *= r;
      else if (op === '%') v %= r;
      else v = Number.isInteger(v) && Number.isInteger(r) ? Math.trunc(v / r) : v / r;
    }
  };
  const sum = (): number => {
    let v = product();
    for (;;) {
      space();
      const op = src[pos];
      if (op !== '+' && op !== '-') return v;
      pos++;
      const r = product();
      v = op === '+' ? v + r : v - r;
    }
  };
  try {
    const v = sum();
    space();
    if (pos < src.length) throw new ExprError(`unexpected ${JSON.stringify(src[pos])}`);
    if (!Number.isFinite(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER) throw new ExprError('the result is too large');
    return ok(v);
  } catch (e) {
    if (e instanceof ExprError) return bad(`cannot evaluate ${shown(text)}: ${e.message}`);
    throw e;
  }
}

/**
 * fio's keyword step (options.c fio_keyword_replace then bc_calc): after $pagesize, $mb_memory and
 * $ncpus are replaced, a value with + - * / is computed in integer arithmetic, as bc does.
 */
export function evaluateKeywordMath(value: string): Parsed<string> {
  if (!/[+\-*/]/.test(value) || value.includes("'")) return ok(value);
  const e = evaluateExpression(`(${value})`, (s) => (s === '' ? 1n : undefined));
  if (!e.ok) return bad(`cannot compute ${shown(value)}: fio hands a value with $pagesize, $mb_memory or $ncpus and + - * / to bc, which needs plain numbers`);
  return ok(String(Math.trunc(e.value)));
}
