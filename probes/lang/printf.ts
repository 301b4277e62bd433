// printf(fmt, ...) for the bpftrace-compatible language: parsing a format string into literal
// fragments and conversion specs (for the compiler's argument checks), and formatting values with
// C semantics. Like bpftrace, integer conversions cast as C does: `%d`/`%i` to 32-bit int and
// `%u %o %x %X` to 32-bit unsigned unless a length modifier widens (`l ll j z t L`) or narrows
// (`h` 16-bit, `hh` 8-bit) them: printf("%d", 5000000000) prints 705032704.

import { BufferValue, formatBuffer, valueText, valueToBigInt, type Value } from './values.js';

/** The conversions bpftrace's format regex recognises (src/format_string.cpp). */
const KNOWN_CONVERSIONS = 'diouxXeEfFgGaAcspn';
/** Conversions bpftrace can format; the others are reported as unsupported. */
const SUPPORTED = new Set(['d', 'i', 'u', 'o', 'x', 'X', 'c', 's', 'p', 'r', 'rx', 'rh', 'gr']);
const INTEGER_CONVERSIONS = new Set(['d', 'i', 'u', 'o', 'x', 'X', 'c', 'p']);
const BUFFER_CONVERSIONS = new Set(['r', 'rx', 'rh']);

export interface PrintfSpec {
  /** The spec as written, e.g. `%-08lx`. */
  readonly text: string;
  /** Offset of its `%` in the format string. */
  readonly offset: number;
  readonly minus: boolean;
  readonly plus: boolean;
  readonly space: boolean;
  readonly hash: boolean;
  readonly zero: boolean;
  /** Minimum field width; `*` is accepted and ignored, as bpftrace does. */
  readonly width: number | undefined;
  /** `.N`; `.` alone is 0. */
  readonly precision: number | undefined;
  /** Length modifier as written: '', 'hh', 'h', 'l', 'll', 'j', 'z', 't', 'L'. */
  readonly length: string;
  /** 'd', 'x', 's', ..., or 'r', 'rx', 'rh' for buffers. */
  readonly conversion: string;
}

export interface ParsedFormat {
  /** Literal text around the specs (`%%` already turned into `%`): specs.length + 1 strings. */
  readonly fragments: readonly string[];
  readonly specs: readonly PrintfSpec[];
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * Splits a format string. A `%` that does not start a recognisable spec (e.g. `%y`, a trailing
 * `%`) stays literal text, as in bpftrace; `%%` is a literal `%`.
 */
export function parsePrintf(fmt: string): ParsedFormat {
  const fragments: string[] = [];
  const specs: PrintfSpec[] = [];
  let lit = '';
  let i = 0;
  while (i < fmt.length) {
    const ch = fmt[i] as string;
    if (ch !== '%') {
      lit += ch;
      i++;
      continue;
    }
    if (fmt[i + 1] === '%') {
      lit += '%';
      i += 2;
      continue;
    }
    let j = i + 1;
    let minus = false;
    let plus = false;
    let space = false;
    let hash = false;
    let zero = false;
    for (;;) {
      const f = fmt[j];
      if (f === '-') minus = true;
      else if (f === '+') plus = true;
      else if (f === ' ') space = true;
      else if (f === '#') hash = true;
      else if (f === '0') zero = true;
      else break;
      j++;
    }
    let width: number | undefined;
    if (fmt[j] === '*') {
      j++;
    } else if (isDigit(fmt[j])) {
      let w = 0;
      while (isDigit(fmt[j])) w = w * 10 + Number(fmt[j++]);
      width = w;
    }
    let precision: number | undefined;
    if (fmt[j] === '.') {
      j++;
      if (fmt[j] === '*') {
        j++;
      } else {
        let p = 0;
        while (isDigit(fmt[j])) p = p * 10 + Number(fmt[j++]);
        precision = p;
      }
    }
    const lenStart = j;
    while (j < fmt.length && 'hlLjzt'.includes(fmt[j] as string)) j++;
    const length = fmt.slice(lenStart, j);
    const c = fmt[j];
    let conversion: string | undefined;
    if (c === 'r') {
      conversion = fmt[j + 1] === 'x' || fmt[j + 1] === 'h' ? 'r' + fmt[j + 1] : 'r';
    } else if (c === 'g' && fmt[j + 1] === 'r') {
      conversion = 'gr';
    } else if (c !== undefined && KNOWN_CONVERSIONS.includes(c)) {
      conversion = c;
    }
    if (conversion === undefined) {
      // Not a spec: the `%` is literal text.
      lit += '%';
      i++;
      continue;
    }
    j += conversion.length;
    fragments.push(lit);
    lit = '';
    specs.push({ text: fmt.slice(i, j), offset: i, minus, plus, space, hash, zero, width, precision, length, conversion });
    i = j;
  }
  fragments.push(lit);
  return { fragments, specs };
}

/** What the compiler knows about one printf argument. */
export type PrintfArgKind = 'integer' | 'bool' | 'pointer' | 'string' | 'buffer' | 'other';

export interface PrintfArgType {
  readonly kind: PrintfArgKind;
  /** Type as bpftrace names it in messages: `string[6]`, `uint64`, `(int8,string[2])`. */
  readonly name: string;
}

/**
 * Checks argument count and types against the specs. Returns bpftrace's message
 * (src/format_string.cpp `FormatString::check`) or undefined when fine.
 */
export function checkPrintfArgs(parsed: ParsedFormat, args: readonly PrintfArgType[]): string | undefined {
  const n = parsed.specs.length;
  if (args.length < n) return `not enough arguments for format string (${args.length} supplied, ${n} expected)`;
  if (args.length > n) return `too many arguments for format string (${args.length} supplied, ${n} expected)`;
  for (let i = 0; i < n; i++) {
    const spec = parsed.specs[i] as PrintfSpec;
    const arg = args[i] as PrintfArgType;
    const conv = spec.conversion;
    if (!SUPPORTED.has(conv)) return `unsupported format specifier: ${conv}`;
    if (conv === 's') continue;
    const ok = BUFFER_CONVERSIONS.has(conv) ? arg.kind === 'buffer' : arg.kind === 'integer' || arg.kind === 'bool' || arg.kind === 'pointer';
    if (!ok) return `unsupported format specifier for type '${arg.name}': ${conv}`;
  }
  return undefined;
}

// -------------------------------------------------------------------------------------------
// Formatting

function lengthBits(length: string): 8 | 16 | 32 | 64 {
  if (length === '') return 32;
  if (/[lLjzt]/.test(length)) return 64;
  return length === 'h' ? 16 : 8;
}

function pad(body: string, spec: PrintfSpec): string {
  const w = spec.width;
  if (w === undefined || body.length >= w) return body;
  return spec.minus ? body + ' '.repeat(w - body.length) : ' '.repeat(w - body.length) + body;
}

/** C integer formatting of an already-cast value. */
function formatInteger(v: bigint, spec: PrintfSpec, conv: string, signed: boolean): string {
  const neg = signed && v < 0n;
  const mag = neg ? -v : v;
  let digits: string;
  if (conv === 'o') digits = mag.toString(8);
  else if (conv === 'x' || conv === 'p') digits = mag.toString(16);
  else if (conv === 'X') digits = mag.toString(16).toUpperCase();
  else digits = mag.toString(10);
  const prec = spec.precision;
  if (prec !== undefined) {
    if (prec === 0 && mag === 0n) digits = '';
    else if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits;
  }
  let prefix = '';
  if (signed) prefix = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  if (conv === 'p') {
    prefix = '0x';
  } else if (spec.hash) {
    if (conv === 'o') {
      if (!digits.startsWith('0')) digits = '0' + digits;
    } else if ((conv === 'x' || conv === 'X') && mag !== 0n) {
      prefix = conv === 'x' ? '0x' : '0X';
    }
  }
  const w = spec.width;
  const len = prefix.length + digits.length;
  if (w !== undefined && len < w && spec.zero && !spec.minus && prec === undefined) {
    return prefix + '0'.repeat(w - len) + digits;
  }
  return pad(prefix + digits, spec);
}

/** One spec applied to one value. Values that do not fit print `!{error}`, as bpftrace does. */
export function formatSpec(spec: PrintfSpec, v: Value): string {
  const conv = spec.conversion;
  if (conv === 'gr') {
    const n = valueToBigInt(v);
    return n === undefined ? `!{invalid GFP flags conversion: ${valueText(v)}}` : pad(gfpFlagsText(BigInt.asUintN(64, n)), spec);
  }
  if (INTEGER_CONVERSIONS.has(conv)) {
    const n = valueToBigInt(v);
    if (n === undefined) return `!{invalid integer conversion: ${valueText(v)}}`;
    switch (conv) {
      case 'd':
      case 'i':
        return formatInteger(BigInt.asIntN(lengthBits(spec.length), n), spec, conv, true);
      case 'c':
        return pad(String.fromCharCode(Number(BigInt.asUintN(8, n))), spec);
      case 'p': {
        const p = BigInt.asUintN(64, n);
        if (p === 0n) return pad('(nil)', spec);
        return formatInteger(p, spec, conv, false);
      }
      default:
        return formatInteger(BigInt.asUintN(lengthBits(spec.length), n), spec, conv, false);
    }
  }
  let s: string;
  if (BUFFER_CONVERSIONS.has(conv) && v instanceof BufferValue) {
    s = conv === 'r' ? formatBuffer(v.bytes, true, true) : conv === 'rx' ? formatBuffer(v.bytes, false, true) : formatBuffer(v.bytes, false, false);
  } else {
    s = valueText(v);
  }
  if (conv === 's' && spec.precision !== undefined && s.length > spec.precision) s = s.slice(0, spec.precision);
  return pad(s, spec);
}

// GFP flags (include/linux/gfp_types.h bits) and the names %gr gives them, compound masks first,
// in bpftrace's order (src/util/gfp_flags.cpp, after the kernel's __def_gfpflag_names)
const GFP = {
  DMA: 1n << 0n,
  HIGHMEM: 1n << 1n,
  DMA32: 1n << 2n,
  MOVABLE: 1n << 3n,
  HIGH: 1n << 5n,
  IO: 1n << 6n,
  FS: 1n << 7n,
  ZERO: 1n << 8n,
  DIRECT_RECLAIM: 1n << 10n,
  KSWAPD_RECLAIM: 1n << 11n,
  WRITE: 1n << 12n,
  NOWARN: 1n << 13n,
  RETRY_MAYFAIL: 1n << 14n,
  NOFAIL: 1n << 15n,
  NORETRY: 1n << 16n,
  MEMALLOC: 1n << 17n,
  COMP: 1n << 18n,
  NOMEMALLOC: 1n << 19n,
  HARDWALL: 1n << 20n,
  THISNODE: 1n << 21n,
  ACCOUNT: 1n << 22n,
  ZEROTAGS: 1n << 23n,
  SKIP_ZERO: 1n << 24n,
  SKIP_KASAN: 1n << 25n,
  NO_OBJ_EXT: 1n << 26n,
};
const GFP_RECLAIM = GFP.DIRECT_RECLAIM | GFP.KSWAPD_RECLAIM;
const GFP_KERNEL = GFP_RECLAIM | GFP.IO | GFP.FS;
const GFP_NOIO = GFP_RECLAIM;
const GFP_NOFS = GFP_NOIO | GFP.IO;
const GFP_USER = GFP_NOFS | GFP.FS | GFP.HARDWALL;
const GFP_HIGHUSER = GFP_USER | GFP.HIGHMEM;
const GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | GFP.MOVABLE | GFP.SKIP_KASAN;
const GFP_TRANSHUGE_LIGHT = (GFP_HIGHUSER_MOVABLE | GFP.COMP | GFP.NOMEMALLOC | GFP.NOWARN) & ~GFP_RECLAIM;
const GFP_NAMES: readonly (readonly [bigint, string])[] = [
  [GFP_TRANSHUGE_LIGHT | GFP.DIRECT_RECLAIM, 'GFP_TRANSHUGE'],
  [GFP_TRANSHUGE_LIGHT, 'GFP_TRANSHUGE_LIGHT'],
  [GFP_HIGHUSER_MOVABLE, 'GFP_HIGHUSER_MOVABLE'],
  [GFP_HIGHUSER, 'GFP_HIGHUSER'],
  [GFP_USER, 'GFP_USER'],
  [GFP_KERNEL | GFP.ACCOUNT, 'GFP_KERNEL_ACCOUNT'],
  [GFP_KERNEL, 'GFP_KERNEL'],
  [GFP_NOFS, 'GFP_NOFS'],
  [GFP.HIGH | GFP.KSWAPD_RECLAIM, 'GFP_ATOMIC'],
  [GFP_NOIO, 'GFP_NOIO'],
  [GFP.KSWAPD_RECLAIM | GFP.NOWARN, 'GFP_NOWAIT'],
  [GFP.DMA, 'GFP_DMA'],
  [GFP.HIGHMEM, '__GFP_HIGHMEM'],
  [GFP.DMA32, 'GFP_DMA32'],
  [GFP.HIGH, '__GFP_HIGH'],
  [GFP.IO, '__GFP_IO'],
  [GFP.FS, '__GFP_FS'],
  [GFP.ZERO, '__GFP_ZERO'],
  [GFP.DIRECT_RECLAIM, '__GFP_DIRECT_RECLAIM'],
  [GFP.KSWAPD_RECLAIM, '__GFP_KSWAPD_RECLAIM'],
  [GFP.WRITE, '__GFP_WRITE'],
  [GFP.NOWARN, '__GFP_NOWARN'],
  [GFP.RETRY_MAYFAIL, '__GFP_RETRY_MAYFAIL'],
  [GFP.NOFAIL, '__GFP_NOFAIL'],
  [GFP.NORETRY, '__GFP_NORETRY'],
  [GFP.MEMALLOC, '__GFP_MEMALLOC'],
  [GFP.COMP, '__GFP_COMP'],
  [GFP.NOMEMALLOC, '__GFP_NOMEMALLOC'],
  [GFP.HARDWALL, '__GFP_HARDWALL'],
  [GFP.THISNODE, '__GFP_THISNODE'],
  [GFP.ACCOUNT, '__GFP_ACCOUNT'],
  [GFP.ZEROTAGS, '__GFP_ZEROTAGS'],
  [GFP.SKIP_ZERO, '__GFP_SKIP_ZERO'],
  [GFP.SKIP_KASAN, '__GFP_SKIP_KASAN'],
  [GFP.NO_OBJ_EXT, '__GFP_NO_OBJ_EXT'],
];

/** `%gr`: GFP flags by name, the masks that match taken out in order, leftover bits in hex. */
export function gfpFlagsText(flags: bigint): string {
  if (flags === 0n) return '0';
  const names: string[] = [];
  let remaining = flags;
  for (const [mask, name] of GFP_NAMES) {
    if ((remaining & mask) === mask) {
      names.push(name);
      remaining &= ~mask;
    }
  }
  if (remaining !== 0n) names.push('0x' + remaining.toString(16));
  return names.join('|');
}

const parseCache = new Map<string, ParsedFormat>();
const PARSE_CACHE_MAX = 1024;

function parsedOf(fmt: string | ParsedFormat): ParsedFormat {
  if (typeof fmt !== 'string') return fmt;
  let p = parseCache.get(fmt);
  if (p === undefined) {
    p = parsePrintf(fmt);
    if (parseCache.size >= PARSE_CACHE_MAX) parseCache.clear();
    parseCache.set(fmt, p);
  }
  return p;
}

/**
 * printf: the formatted string. `fmt` is the format text (parsed once and cached) or a
 * ParsedFormat. Missing arguments format as nothing; extra ones are ignored (the compiler's
 * checkPrintfArgs rejects both).
 */
export function formatPrintf(fmt: string | ParsedFormat, args: readonly Value[]): string {
  const p = parsedOf(fmt);
  let out = p.fragments[0] as string;
  for (let i = 0; i < p.specs.length; i++) {
    const a = args[i];
    if (a !== undefined) out += formatSpec(p.specs[i] as PrintfSpec, a);
    out += p.fragments[i + 1] as string;
  }
  return out;
}

/** A formatter bound to one format string (what generated code calls per event). */
export function compilePrintf(fmt: string): (args: readonly Value[]) => string {
  const p = parsePrintf(fmt);
  if (p.specs.length === 0) {
    const text = p.fragments[0] as string;
    return () => text;
  }
  return (args) => formatPrintf(p, args);
}
