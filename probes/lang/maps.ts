// bpftrace maps: a store of named maps (`@`, `@x`), scalar or keyed, holding plain values or
// aggregations (count, sum, avg, min, max, stats, hist, lhist) with bpftrace's bucket arithmetic
// (bpftrace src/ast/passes/codegen_llvm.cpp `createLog2Function`, `createLinearFunction`), and
// the operations clear/zero/delete/has_key/len plus the max-entries cap (`max_map_keys`).
//
// Hot path: a key is looked up without building a string. Single keys that are ints, strings or
// bools index a JS Map directly; tuple keys walk one nested Map level per element. Only composite
// elements (a tuple inside a key, a pointer, a record) get a canonical string.

import {
  BufferValue,
  INT64,
  PointerValue,
  RecordValue,
  SymbolValue,
  TupleValue,
  UINT64,
  intMax,
  intMin,
  wrapInt,
  zeroValueLike,
  ArrayValue,
  type IntType,
  type Value,
} from './values.js';
import type { HelperErrorInfo, OutputSink, SourceLocation } from './output.js';
import type { RepeatingWarnings } from './warnings.js';

/** What a total kept as a plain number may reach (2^52: one more add of a small number stays exact). */
const SMALL_TOTAL_MAX = 2 ** 52;

/** A count is a uint64: past this it wraps to 0. */
const COUNT_MAX = (1n << 64n) - 1n;

export type AggKind = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'stats' | 'hist' | 'lhist' | 'tseries';
/** `value`: assignments, `++`, `+=`; strings and tuples too. The others are aggregations. */
export type MapValueKind = 'value' | AggKind;

/** How one key field sorts when the map is printed by key (bpftrace `sort_by_key`). */
export type KeyFieldType = IntType | 'string' | 'other';

export interface LhistArgs {
  readonly min: number;
  readonly max: number;
  readonly step: number;
}

/** How `tseries()` combines the values that land in one interval (`none`: the last one wins). */
export type TseriesAgg = 'none' | 'avg' | 'max' | 'min' | 'sum';

/** `tseries(n, interval, num_intervals[, agg])`. */
export interface TseriesArgs {
  readonly intervalNs: bigint;
  readonly numIntervals: number;
  readonly agg: TseriesAgg;
  /** Whether the values are signed (int64) or not (uint64), from the recorded expression's type. */
  readonly signed: boolean;
}

/**
 * One interval slot of a time series (bpftrace's ts_struct): the epoch (clock / interval) it
 * holds, its value and the aggregation's bookkeeping (a timestamp, a sample count, a set flag).
 * Slot `epoch % num_intervals` is reused when its epoch comes round again.
 */
export class TseriesSlot {
  epoch = 0n;
  value = 0n;
  meta = 0n;
}

export interface MapDecl {
  /** Fixed on first update when not declared. */
  readonly kind?: MapValueKind;
  /** Scalar (`@x = ...`) or keyed (`@x[k] = ...`); fixed on first use when not declared. */
  readonly scalar?: boolean;
  /** `let @a = hash(N)` / `lruhash(N)`; default the store's `maxMapKeys`. */
  readonly maxEntries?: number;
  /** `lruhash`: a full map evicts its least recently updated key instead of refusing. */
  readonly lru?: boolean;
  /**
   * Integer type that results wrap to: the assigned type for `value` maps, the argument's type
   * for sum/min/max/avg/stats (signed -> int64, unsigned -> uint64). Default int64; count is
   * always uint64.
   */
  readonly valueType?: IntType;
  /** Key field types, for printing sorted by key: ints compare signed at their width. */
  readonly keyTypes?: readonly KeyFieldType[];
  /** `hist(n, bits)`. */
  readonly histBits?: number;
  /** `lhist(n, min, max, step)`. */
  readonly lhist?: LhistArgs;
}

/** bpftrace's text for a refused insert (`map_update_elem` returning -E2BIG). */
export const MAP_FULL_MESSAGE =
  "Map full; can't update element. Try increasing max_map_keys config or manually setting the max entries in a map declaration e.g. `let @a = hash(5000)`";
/** The helper and return code bpftrace reports with MAP_FULL_MESSAGE. */
export const MAP_FULL_HELPER = 'map_update_elem';
export const MAP_FULL_RETCODE = -7; // -E2BIG
/** strerror(E2BIG): the `msg` of the JSON `helper_error` record. */
export const MAP_FULL_STRERROR = 'Argument list too long';

/** The helper error bpftrace reports when a full map refuses a new key. */
export function mapFullError(loc?: SourceLocation): HelperErrorInfo {
  return { msg: MAP_FULL_MESSAGE, helper: MAP_FULL_HELPER, retcode: MAP_FULL_RETCODE, errnoText: MAP_FULL_STRERROR, loc };
}

export const DEFAULT_MAX_MAP_KEYS = 4096;

// ---- memory ---------------------------------------------------------------------------------
// Every map lives in this process's heap. A key limit alone does not bound it: a million keys of
// lhist(n, 0, 1000, 1) are a thousand buckets each, 8 GB. So every entry is charged what it is
// estimated to take (measured on V8: an entry with an integer key and a count is about 190 bytes,
// a bucket 8, a one-byte string its length plus a header), all maps share one budget, and an entry
// that does not fit is refused as a full map refuses one.

/** What all maps of one program may take together, in estimated bytes of heap. */
export const MAP_MEMORY_BUDGET_BYTES = 1 << 30;
/** An entry without its key and value: the MapEntry, its slot in the key Map and in the entry Set. */
export const MAP_ENTRY_BYTES = 224;
/** A JS Map of one more level, for each element of a tuple key after the first. */
export const KEY_LEVEL_BYTES = 160;
/** A bigint (a heap object) or any other small value. */
export const SMALL_VALUE_BYTES = 16;
/** A string's header; its characters take up to 2 bytes each (UTF-16 when not one-byte). */
const STRING_HEADER_BYTES = 24;
/** An array's or object's header. */
export const OBJECT_HEADER_BYTES = 48;
/** A histogram bucket (a number in a JS array). */
const BUCKET_BYTES = 8;

/** Estimated heap bytes of a string of `length` UTF-16 code units. */
export function stringBytes(length: number): number {
  return STRING_HEADER_BYTES + 2 * length;
}

/** Estimated heap bytes of one value, as a key element or a map value. */
export function valueBytes(v: Value): number {
  switch (typeof v) {
    case 'string':
      return stringBytes(v.length);
    case 'bigint':
    case 'boolean':
      return SMALL_VALUE_BYTES;
    default:
      break;
  }
  if (v instanceof TupleValue || v instanceof ArrayValue) return v.items.reduce((n, x) => n + valueBytes(x), OBJECT_HEADER_BYTES);
  if (v instanceof RecordValue) return v.fields.reduce((n, [name, x]) => n + stringBytes(name.length) + valueBytes(x), OBJECT_HEADER_BYTES);
  if (v instanceof SymbolValue) return OBJECT_HEADER_BYTES + stringBytes(v.symbol.length);
  if (v instanceof BufferValue) return OBJECT_HEADER_BYTES + v.bytes.length;
  return OBJECT_HEADER_BYTES;
}

/**
 * Estimated heap bytes of a key element: the value, and for one that is not a primitive (a nested
 * tuple, a record, a buffer...) the text the key's Map level is indexed by (see `prim`), which
 * can be several times the value: a string of control characters is 6 characters of JSON each.
 */
function keyElementBytes(x: Value): number {
  const t = typeof x;
  return valueBytes(x) + (t === 'bigint' || t === 'string' || t === 'boolean' ? 0 : stringBytes(1 + canonical(x).length));
}

/** Estimated heap bytes of a key: its elements, and a Map level for each element after the first. */
export function keyBytes(key: Value | undefined): number {
  if (key === undefined) return 0;
  if (key instanceof TupleValue) return key.items.reduce((n, x) => n + keyElementBytes(x), (key.items.length - 1) * KEY_LEVEL_BYTES);
  return keyElementBytes(key);
}

/** Buckets of `hist(n, bits)` up to the largest value (2^63 - 1): what one key may come to hold. */
export function histBucketCount(bits: number): number {
  return histIndex((1n << 63n) - 1n, bits) + 1;
}

/** Estimated heap bytes of `buckets` histogram buckets. */
export function bucketsBytes(buckets: number): number {
  return OBJECT_HEADER_BYTES + BUCKET_BYTES * buckets;
}

/** Bytes as a short text: `512 B`, `8.0 KiB`, `1.0 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes / 1024;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${n.toFixed(1)} ${units[u]}`;
}

/** A wrong operation on a map (the compiler's type checks should make this unreachable). */
export class MapKindError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MapKindError';
  }
}

/** One key's slot. Fields are all present on every entry so the shape stays monomorphic. */
export class MapEntry {
  /** Key as given (a TupleValue for multi-keys); undefined for a scalar map. */
  readonly key: Value | undefined;
  /** `value` maps: the value. */
  v: Value = 0n;
  /** The part of `acc` kept as a bigint. */
  private accBig = 0n;
  /**
   * The part of `acc` kept as a plain number: count() and sum() of numbers add here while the
   * total is a safe integer and nothing else was stored (so no bigint is made per update).
   */
  accSmall = 0;

  /** count/sum: running total; min/max: current extreme; avg/stats: total. */
  get acc(): bigint {
    return this.accSmall === 0 ? this.accBig : this.accBig + BigInt(this.accSmall);
  }

  set acc(v: bigint) {
    this.accBig = v;
    this.accSmall = 0;
  }

  /** Whether the whole total is in `accSmall` (or is 0). */
  get small(): boolean {
    return this.accBig === 0n;
  }

  /** avg/stats: number of samples. */
  n = 0n;
  /** min/max: whether a sample has been seen since creation or zero(). */
  set = false;
  /** hist/lhist bucket counts, index as `histIndex`/`lhistIndex`. */
  buckets: number[] | null = null;
  /** tseries interval slots by index (epoch % num_intervals), those written so far. */
  slots: Map<number, TseriesSlot> | null = null;
  /** Estimated heap bytes this entry is charged against the store's memory budget. */
  bytes = 0;
  /** The part of `bytes` charged for a `value` map's value (it grows with a longer string). */
  valueBytes = 0;

  constructor(
    key: Value | undefined,
    readonly seq: number,
  ) {
    this.key = key;
  }
}

type Prim = bigint | string | boolean;
interface Level extends Map<Prim, Level | MapEntry> {}

/** Injective text for key elements that are not primitives (never equal to a real string key). */
function canonical(v: Value): string {
  switch (typeof v) {
    case 'bigint':
      return 'n' + v.toString();
    case 'string':
      return 's' + JSON.stringify(v);
    case 'boolean':
      return v ? 'T' : 'F';
    default:
      break;
  }
  if (v instanceof TupleValue) return '(' + v.items.map(canonical).join(',') + ')';
  if (v instanceof ArrayValue) return '[' + v.items.map(canonical).join(',') + ']';
  if (v instanceof RecordValue) return '{' + v.fields.map(([n, f]) => JSON.stringify(n) + ':' + canonical(f)).join(',') + '}';
  if (v instanceof PointerValue) return 'p' + v.addr.toString(16);
  if (v instanceof SymbolValue) return 'y' + v.numeric.toString() + JSON.stringify(v.symbol);
  if (v instanceof BufferValue) return 'b' + Array.from(v.bytes).join('.');
  return '?';
}

function prim(v: Value): Prim {
  const t = typeof v;
  if (t === 'bigint' || t === 'string' || t === 'boolean') return v as Prim;
  return '\u0000' + canonical(v);
}

// -------------------------------------------------------------------------------------------
// Bucket arithmetic

const TWO32 = 4294967296;

/**
 * `hist(n, k)` bucket: 0 for n < 0 (n read as int64); n+1 for n < 2^k; else with l = floor(log2 n)
 * `((l-k+1) << k) + ((n >> (l-k)) & (2^k - 1)) + 1`.
 */
export function histIndex(value: bigint | number, k: number): number {
  const x = Number(value);
  if (x >= 0 && x < 9007199254740992) {
    // the common case, in doubles; k = 0 (plain hist) is one clz: index = floor(log2 x) + 2
    if (k === 0) return x === 0 ? 1 : x < TWO32 ? 33 - Math.clz32(x) : 65 - Math.clz32(Math.floor(x / TWO32));
    if (x < 1 << k) return x + 1;
    const l = x < TWO32 ? 31 - Math.clz32(x) : 63 - Math.clz32(Math.floor(x / TWO32));
    return ((l - k + 1) << k) + (Math.floor(x / 2 ** (l - k)) & ((1 << k) - 1)) + 1;
  }
  if (typeof value === 'number') return x < 0 ? 0 : histIndex(BigInt(Math.trunc(x)), k);
  const n = BigInt.asIntN(64, value);
  if (n < 0n) return 0;
  if (n <= 0x1fffffffffffffn) {
    const x = Number(n);
    if (x < 1 << k) return x + 1;
    const l = x < TWO32 ? 31 - Math.clz32(x) : 63 - Math.clz32(Math.floor(x / TWO32));
    return ((l - k + 1) << k) + (Math.floor(x / 2 ** (l - k)) & ((1 << k) - 1)) + 1;
  }
  const l = n.toString(2).length - 1;
  return ((l - k + 1) << k) + Number((n >> BigInt(l - k)) & BigInt((1 << k) - 1)) + 1;
}

/** `lhist(n, min, max, step)` bucket: 0 below min, `1 + (n-min)/step` below max, else the overflow bucket. */
export function lhistIndex(value: bigint, min: number, max: number, step: number): number {
  const n = BigInt.asIntN(64, value);
  if (n > -0x20000000000000n && n < 0x20000000000000n) {
    const x = Number(n);
    if (x < min) return 0;
    if (x < max) return 1 + Math.floor((x - min) / step);
    return 1 + Math.floor((max - min) / step);
  }
  return n < 0n ? 0 : 1 + Math.floor((max - min) / step);
}

/** Number of lhist buckets: below-min, the linear ones, overflow. */
export function lhistBucketCount(a: LhistArgs): number {
  return 2 + Math.floor((a.max - a.min) / a.step);
}

/**
 * The compiler's checks on `lhist(n, min, max, step)` literals, with bpftrace's messages
 * (src/ast/passes/pre_type_check.cpp); empty when valid.
 */
export function checkLhistArgs(min: number, max: number, step: number): string[] {
  if (min < 0) return ['lhist: invalid min value (must be non-negative literal)'];
  if (max < 0) return ['lhist: invalid max value (must be non-negative literal)'];
  if (step < 0) return ['lhist: invalid step value'];
  const errors: string[] = [];
  if (step === 0) {
    errors.push(`lhist() step must be >= 1 (${step} provided)`);
  } else {
    const buckets = Math.trunc((max - min) / step);
    if (buckets > 1000) errors.push(`lhist() too many buckets, must be <= 1000 (would need ${buckets})`);
  }
  if (min > max) errors.push(`lhist() min must be less than max (provided min ${min} and max ${max})`);
  if (max - min < step) errors.push(`lhist() step is too large for the given range (provided step ${step} for range ${max - min})`);
  return errors;
}

/** `hist: bits N must be 0..5` when out of range. */
export function checkHistBits(bits: number): string | undefined {
  return Number.isInteger(bits) && bits >= 0 && bits <= 5 ? undefined : `hist: bits ${bits} must be 0..5`;
}

// -------------------------------------------------------------------------------------------

export class BpfMap {
  kind: MapValueKind | undefined;
  scalar: boolean | undefined;
  maxEntries: number;
  lru: boolean;
  valueType: IntType;
  /** valueType's bounds, worked out again when it changes (sum() checks them on every update). */
  private rangeOf: IntType | undefined;
  private rangeMin = 0n;
  private rangeMax = 0n;
  keyTypes: readonly KeyFieldType[] | undefined;
  histBits: number | undefined;
  lhistArgs: LhistArgs | undefined;
  /** Fixed by the first tseries() update. */
  tseriesArgs: TseriesArgs | undefined;
  /** Says and counts updates refused because the map was full (see RepeatingWarnings); made at the first. */
  private refusedWarning: (() => void) | undefined;
  /** Says and counts reads and updates skipped because the key had another number of elements than the map's. */
  private wrongKeyWarning: (() => void) | undefined;
  /** Says and counts updates refused because all maps together were at the memory budget. */
  private memoryWarning: (() => void) | undefined;

  private arity = 0;

  /** Elements in this map's keys (1 for a plain key), 0 before the first key. */
  get keyArity(): number {
    return this.arity;
  }
  private root: Level = new Map();
  private scalarEntry: MapEntry | null = null;
  /** All keyed entries in insertion (for lru: recency) order. */
  private readonly all = new Set<MapEntry>();
  private seq = 0;
  /** First value assigned to a `value` map: what a missing key reads as, zeroed. */
  private template: Value | undefined;

  constructor(
    readonly name: string,
    decl: MapDecl,
    private readonly store: MapStore,
  ) {
    this.kind = decl.kind;
    this.scalar = decl.scalar;
    this.maxEntries = decl.maxEntries ?? store.maxMapKeys;
    this.lru = decl.lru ?? false;
    this.valueType = decl.kind === 'count' ? UINT64 : (decl.valueType ?? INT64);
    this.keyTypes = decl.keyTypes;
    this.histBits = decl.histBits;
    this.lhistArgs = decl.lhist;
  }

  /** Applies a later declaration (fields it sets win). */
  refine(decl: MapDecl): void {
    if (decl.kind !== undefined) this.kind = decl.kind;
    if (decl.scalar !== undefined) this.scalar = decl.scalar;
    if (decl.maxEntries !== undefined) this.maxEntries = decl.maxEntries;
    if (decl.lru !== undefined) this.lru = decl.lru;
    if (decl.valueType !== undefined) this.valueType = decl.valueType;
    if (this.kind === 'count') this.valueType = UINT64;
    if (decl.keyTypes !== undefined) this.keyTypes = decl.keyTypes;
    if (decl.histBits !== undefined) this.histBits = decl.histBits;
    if (decl.lhist !== undefined) this.lhistArgs = decl.lhist;
  }

  /** Number of keys (a scalar map: 0 or 1). `len(@m)`. */
  get size(): number {
    return this.scalar === true ? (this.scalarEntry ? 1 : 0) : this.all.size;
  }

  // ---- lookup -------------------------------------------------------------------------------

  private useKind(kind: MapValueKind): void {
    if (this.kind === kind) return;
    if (this.kind === undefined) {
      this.kind = kind;
      if (kind === 'count') this.valueType = UINT64;
      return;
    }
    throw new MapKindError(`${this.name}: ${kind} update on a map holding ${this.kind}`);
  }

  private useShape(key: Value | undefined): void {
    const scalar = key === undefined;
    if (this.scalar === scalar) return;
    if (this.scalar === undefined) {
      this.scalar = scalar;
      return;
    }
    throw new MapKindError(scalar ? `${this.name}: keyed map used without a key` : `${this.name}: scalar map used with a key`);
  }

  /**
   * The entry for `key` (undefined for a scalar map), created when `create` and room is left.
   * Returns undefined when missing (or refused because the map is full). `valueBytes` is what a
   * `value` map's new value takes (aggregations' values are worked out from the map's kind).
   */
  entry(key: Value | undefined, create: boolean, valueBytes = 0): MapEntry | undefined {
    if (key === undefined) {
      if (this.scalar !== true) {
        if (!create && this.scalar === undefined) return undefined;
        this.useShape(undefined);
      }
      if (this.scalarEntry === null && create) {
        const bytes = MAP_ENTRY_BYTES + this.aggregationBytes() + valueBytes;
        if (!this.reserve(bytes)) return undefined;
        this.scalarEntry = new MapEntry(undefined, this.seq++);
        this.scalarEntry.bytes = bytes;
        this.scalarEntry.valueBytes = valueBytes;
      }
      return this.scalarEntry ?? undefined;
    }
    if (this.scalar !== false) {
      if (!create && this.scalar === undefined) return undefined;
      this.useShape(key);
    }
    // Fast path: one primitive key.
    const t = typeof key;
    if (this.arity === 1 && (t === 'bigint' || t === 'string' || t === 'boolean')) {
      const e = this.root.get(key as Prim) as MapEntry | undefined;
      if (e !== undefined) {
        if (this.lru) this.touch(e);
        return e;
      }
      return create ? this.insert(key, [key], valueBytes) : undefined;
    }
    const parts: readonly Value[] = key instanceof TupleValue ? key.items : [key];
    if (this.arity === 0) {
      if (!create) return undefined;
      this.arity = parts.length;
    } else if (parts.length !== this.arity) {
      // the compiler checks the keys it can see; a variable holding a tuple only shows here
      const arity = this.arity;
      (this.wrongKeyWarning ??= this.store.repeatingWarning(
        (sink) => sink.runtimeError(`${this.name} is keyed by ${arity} element${arity === 1 ? '' : 's'}: a key of ${parts.length} was skipped`),
        (n) => `${this.name}: ${n} keys with the wrong number of elements were skipped in all`,
      ))();
      return undefined;
    }
    let level: Level = this.root;
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) {
      const next = level.get(prim(parts[i] as Value)) as Level | undefined;
      if (next === undefined) return create ? this.insert(key, parts, valueBytes) : undefined;
      level = next;
    }
    const e = level.get(prim(parts[last] as Value)) as MapEntry | undefined;
    if (e !== undefined) {
      if (this.lru) this.touch(e);
      return e;
    }
    return create ? this.insert(key, parts, valueBytes) : undefined;
  }

  /** Estimated bytes of an aggregation's value in a new entry: the buckets a histogram key may come to hold. */
  private aggregationBytes(): number {
    if (this.kind === 'hist') return bucketsBytes(histBucketCount(this.histBits ?? 0));
    if (this.kind === 'lhist' && this.lhistArgs !== undefined) return bucketsBytes(lhistBucketCount(this.lhistArgs));
    return 0;
  }

  /**
   * Takes `bytes` of the store's memory budget. When all maps are at it, an lru map makes room by
   * evicting its own least recently updated keys (as it does when it has too many); any other map
   * says it is full (once, then counts) and the update is refused.
   */
  private reserve(bytes: number): boolean {
    while (!this.store.reserve(bytes)) {
      if (this.lru && this.all.size > 0) {
        this.remove(this.all.values().next().value as MapEntry);
        continue;
      }
      const name = this.name;
      const budget = formatBytes(this.store.memoryBudgetBytes);
      (this.memoryWarning ??= this.store.repeatingWarning(
        (sink) => sink.runtimeError(`Map full: ${name} can't take a new key: all maps together are at kiotrace's map memory limit of ${budget}`),
        (n) => `Map full: ${name} refused ${n} updates in all (all maps together at the map memory limit of ${budget})`,
      ))();
      return false;
    }
    return true;
  }

  private touch(e: MapEntry): void {
    this.all.delete(e);
    this.all.add(e);
  }

  private insert(key: Value, parts: readonly Value[], valueBytes: number): MapEntry | undefined {
    if (this.all.size >= this.maxEntries) {
      if (this.lru && this.all.size > 0) {
        const oldest = this.all.values().next().value as MapEntry;
        this.remove(oldest);
      } else {
        (this.refusedWarning ??= this.store.repeatingWarning(
          (sink) => sink.helperError(mapFullError()),
          (n) => `Map full: ${this.name} refused ${n} updates in all (max entries ${this.maxEntries})`,
        ))();
        return undefined;
      }
    }
    const bytes = MAP_ENTRY_BYTES + keyBytes(key) + this.aggregationBytes() + valueBytes;
    if (!this.reserve(bytes)) return undefined;
    if (this.arity === 0) this.arity = parts.length;
    let level: Level = this.root;
    const last = parts.length - 1;
    for (let i = 0; i < last; i++) {
      const p = prim(parts[i] as Value);
      let next = level.get(p) as Level | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(p, next);
      }
      level = next;
    }
    const e = new MapEntry(key, this.seq++);
    e.bytes = bytes;
    e.valueBytes = valueBytes;
    level.set(prim(parts[last] as Value), e);
    this.all.add(e);
    return e;
  }

  private remove(e: MapEntry): void {
    const key = e.key as Value;
    const parts: readonly Value[] = this.arity > 1 && key instanceof TupleValue ? key.items : [key];
    const path: [Level, Prim][] = [];
    let level: Level = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const p = prim(parts[i] as Value);
      path.push([level, p]);
      level = level.get(p) as Level;
    }
    level.delete(prim(parts[parts.length - 1] as Value));
    for (let i = path.length - 1; i >= 0 && level.size === 0; i--) {
      const [parent, p] = path[i] as [Level, Prim];
      parent.delete(p);
      level = parent;
    }
    this.all.delete(e);
    this.store.release(e.bytes);
  }

  // ---- updates: each returns false when the map is full and the key is new -----------------

  /** `@m[k] = v`. */
  assign(key: Value | undefined, v: Value): boolean {
    this.useKind('value');
    const need = valueBytes(v);
    const e = this.entry(key, true, need);
    if (e === undefined) return false;
    // an existing key given a bigger value (a longer string) takes the difference; integers are all one size
    if (need > e.valueBytes) {
      if (!this.reserve(need - e.valueBytes)) return false;
      e.bytes += need - e.valueBytes;
      e.valueBytes = need;
    }
    if (this.template === undefined) this.template = v;
    e.v = typeof v === 'bigint' ? wrapInt(v, this.valueType) : v;
    return true;
  }

  /** `@m[k]++`, `@m[k] += d`, `--`, `-=`: returns the new value, or undefined when refused. */
  increment(key: Value | undefined, delta: bigint = 1n): bigint | undefined {
    this.useKind('value');
    const e = this.entry(key, true, SMALL_VALUE_BYTES);
    if (e === undefined) return undefined;
    const cur = e.v;
    const nv = wrapInt((typeof cur === 'bigint' ? cur : 0n) + delta, this.valueType);
    e.v = nv;
    if (this.template === undefined) this.template = nv;
    return nv;
  }

  /** `count()`. */
  count(key: Value | undefined): boolean {
    if (this.kind !== 'count') this.useKind('count');
    const e = this.entry(key, true);
    if (e === undefined) return false;
    if (e.small && e.accSmall < SMALL_TOTAL_MAX) {
      e.accSmall++;
      return true;
    }
    const n = e.acc + 1n;
    e.acc = n > COUNT_MAX ? 0n : n;
    return true;
  }

  /** `sum(v)`. */
  sum(key: Value | undefined, v: bigint | number): boolean {
    if (this.kind !== 'sum') this.useKind('sum');
    const e = this.entry(key, true);
    if (e === undefined) return false;
    if (typeof v === 'number') {
      // a number added to a small total stays a number while it is safe and inside a 64-bit type's range
      const t = e.accSmall + v;
      if (e.small && Number.isSafeInteger(v) && this.valueType.bits === 64 && t <= SMALL_TOTAL_MAX && t >= (this.valueType.signed ? -SMALL_TOTAL_MAX : 0)) {
        e.accSmall = t;
        return true;
      }
      v = BigInt(Math.trunc(v));
    }
    const n = e.acc + v;
    // wrapping makes a new bigint: only when the sum left the type's range
    if (this.rangeOf !== this.valueType) {
      this.rangeOf = this.valueType;
      this.rangeMin = intMin(this.valueType);
      this.rangeMax = intMax(this.valueType);
    }
    e.acc = n < this.rangeMin || n > this.rangeMax ? wrapInt(n, this.valueType) : n;
    return true;
  }

  /** `avg(v)`. */
  avg(key: Value | undefined, v: bigint): boolean {
    if (this.kind !== 'avg') this.useKind('avg');
    return this.sample(key, v);
  }

  /** `stats(v)`. */
  stats(key: Value | undefined, v: bigint): boolean {
    if (this.kind !== 'stats') this.useKind('stats');
    return this.sample(key, v);
  }

  private sample(key: Value | undefined, v: bigint): boolean {
    const e = this.entry(key, true);
    if (e === undefined) return false;
    e.acc = wrapInt(e.acc + v, this.valueType);
    e.n += 1n;
    return true;
  }

  /** `min(v)`: the first sample wins, then smaller ones. */
  min(key: Value | undefined, v: bigint): boolean {
    if (this.kind !== 'min') this.useKind('min');
    const e = this.entry(key, true);
    if (e === undefined) return false;
    const x = wrapInt(v, this.valueType);
    if (!e.set || x < e.acc) {
      e.acc = x;
      e.set = true;
    }
    return true;
  }

  /** `max(v)`. */
  max(key: Value | undefined, v: bigint): boolean {
    if (this.kind !== 'max') this.useKind('max');
    const e = this.entry(key, true);
    if (e === undefined) return false;
    const x = wrapInt(v, this.valueType);
    if (!e.set || x > e.acc) {
      e.acc = x;
      e.set = true;
    }
    return true;
  }

  /** `hist(v, bits)`; bits defaults to the declared one, else 0. */
  hist(key: Value | undefined, v: bigint | number, bits?: number): boolean {
    if (this.kind !== 'hist') this.useKind('hist');
    let k = this.histBits;
    if (k === undefined) {
      k = bits ?? 0;
      const err = checkHistBits(k);
      if (err !== undefined) throw new MapKindError(err);
      this.histBits = k;
    } else if (bits !== undefined && bits !== k) {
      throw new MapKindError(`${this.name}: hist bits ${bits} on a map using ${k}`);
    }
    const e = this.entry(key, true);
    if (e === undefined) return false;
    const idx = histIndex(v, k);
    let b = e.buckets;
    if (b === null) {
      b = [];
      e.buckets = b;
    }
    while (b.length <= idx) b.push(0);
    b[idx] = (b[idx] as number) + 1;
    return true;
  }

  /** `lhist(v, min, max, step)`; the arguments default to the declared ones. */
  lhist(key: Value | undefined, v: bigint, min?: number, max?: number, step?: number): boolean {
    if (this.kind !== 'lhist') this.useKind('lhist');
    let a = this.lhistArgs;
    if (a === undefined) {
      if (min === undefined || max === undefined || step === undefined) {
        throw new MapKindError(`${this.name}: lhist needs min, max and step`);
      }
      const errs = checkLhistArgs(min, max, step);
      if (errs.length > 0) throw new MapKindError(errs.join('; '));
      a = { min, max, step };
      this.lhistArgs = a;
    }
    const e = this.entry(key, true);
    if (e === undefined) return false;
    let b = e.buckets;
    if (b === null) {
      b = new Array<number>(lhistBucketCount(a)).fill(0);
      e.buckets = b;
    }
    const idx = lhistIndex(v, a.min, a.max, a.step);
    b[idx] = (b[idx] as number) + 1;
    return true;
  }

  /**
   * `tseries(v, interval, n[, agg])` at time `nowNs` (the sw_tai clock): the slot of the current
   * interval takes the value, as bpftrace's generated code does (a slot still holding an older
   * epoch starts over for the aggregating forms).
   */
  tseries(key: Value | undefined, v: bigint, nowNs: bigint, a: TseriesArgs): boolean {
    if (this.kind !== 'tseries') this.useKind('tseries');
    this.tseriesArgs ??= a;
    const e = this.entry(key, true);
    if (e === undefined) return false;
    const epoch = nowNs / a.intervalNs;
    const index = Number(epoch % BigInt(a.numIntervals));
    const slots = (e.slots ??= new Map());
    let slot = slots.get(index);
    if (slot === undefined) slots.set(index, (slot = new TseriesSlot()));
    if (a.agg !== 'none' && epoch !== slot.epoch) {
      slot.value = 0n;
      slot.meta = 0n;
    }
    switch (a.agg) {
      case 'sum':
        slot.value = BigInt.asIntN(64, slot.value + v);
        break;
      case 'min':
      case 'max':
        if (slot.meta === 0n || (a.agg === 'min' ? v < slot.value : v > slot.value)) slot.value = v;
        slot.meta = 1n;
        break;
      case 'avg':
        slot.value = BigInt.asIntN(64, slot.value + v);
        slot.meta++;
        break;
      case 'none':
        slot.value = v;
        slot.meta = nowNs;
        break;
    }
    slot.epoch = epoch;
    return true;
  }

  // ---- reads ---------------------------------------------------------------------------------

  /**
   * The value an expression reads from an entry: count/sum totals, avg and stats averages
   * (total/count truncating toward zero), min/max (0 when unset), the assigned value.
   * Histograms read as 0 (the compiler rejects that).
   */
  read(e: MapEntry): Value {
    switch (this.kind) {
      case 'value':
        return e.v;
      case 'count':
      case 'sum':
        return e.acc;
      case 'min':
      case 'max':
        return e.set ? e.acc : 0n;
      case 'avg':
      case 'stats':
        return e.n === 0n ? 0n : e.acc / e.n;
      default:
        return 0n;
    }
  }

  /** `@m[k]`: the value, or the zero of the map's value type when the key is missing. */
  get(key?: Value): Value {
    const e = this.entry(key, false);
    if (e !== undefined) return this.read(e);
    return this.template !== undefined ? zeroValueLike(this.template) : 0n;
  }

  /** The value, or undefined when the key is missing (`find`, `-k` lookups). */
  lookup(key?: Value): Value | undefined {
    const e = this.entry(key, false);
    return e === undefined ? undefined : this.read(e);
  }

  /** `has_key(@m, k)`. */
  has(key?: Value): boolean {
    return this.entry(key, false) !== undefined;
  }

  /** `delete(@m, k)` / `delete(@m)`: true when something was deleted. */
  delete(key?: Value): boolean {
    if (key === undefined) {
      if (this.scalarEntry === null) return false;
      this.store.release(this.scalarEntry.bytes);
      this.scalarEntry = null;
      return true;
    }
    const e = this.entry(key, false);
    if (e === undefined) return false;
    this.remove(e);
    return true;
  }

  /** `clear(@m)`: every key deleted. */
  clear(): void {
    for (const e of this.entries()) this.store.release(e.bytes);
    this.root = new Map();
    this.all.clear();
    this.scalarEntry = null;
    this.arity = 0;
  }

  /** `zero(@m)`: every value set to 0, keys kept. */
  zero(): void {
    for (const e of this.entries()) {
      e.acc = 0n;
      e.n = 0n;
      e.set = false;
      if (e.buckets !== null) e.buckets.fill(0);
      e.v = zeroValueLike(e.v);
      if (e.slots !== null) for (const slot of e.slots.values()) slot.epoch = slot.value = slot.meta = 0n;
    }
  }

  /** Entries in insertion order (lru maps: least recently updated first). */
  entries(): MapEntry[] {
    if (this.scalar === true) return this.scalarEntry ? [this.scalarEntry] : [];
    return Array.from(this.all);
  }
}

export interface MapStoreOptions {
  /** `max_map_keys` config (default 4096). */
  readonly maxMapKeys?: number;
  /**
   * Where a map says it refused an update because it is full, or skipped a key with another
   * number of elements than its own; without it the maps say nothing.
   */
  readonly warnings?: RepeatingWarnings;
  /** What all maps together may take, in estimated bytes (default MAP_MEMORY_BUDGET_BYTES). */
  readonly memoryBudgetBytes?: number;
}

/** All maps of one program, by name (with the `@`). */
export class MapStore {
  readonly maxMapKeys: number;
  readonly memoryBudgetBytes: number;
  private readonly byName = new Map<string, BpfMap>();
  private readonly warnings: RepeatingWarnings | undefined;
  /** Estimated bytes the entries of all maps take now. */
  private usedBytes = 0;

  constructor(opts: MapStoreOptions = {}) {
    this.maxMapKeys = opts.maxMapKeys ?? DEFAULT_MAX_MAP_KEYS;
    this.memoryBudgetBytes = opts.memoryBudgetBytes ?? MAP_MEMORY_BUDGET_BYTES;
    this.warnings = opts.warnings;
  }

  /** Estimated bytes all maps' entries take. */
  get memoryBytes(): number {
    return this.usedBytes;
  }

  /** @internal Takes `bytes` of the budget for a new entry or a bigger value; false when they do not fit. */
  reserve(bytes: number): boolean {
    if (this.usedBytes + bytes > this.memoryBudgetBytes) return false;
    this.usedBytes += bytes;
    return true;
  }

  /** @internal Gives back what a deleted entry took. */
  release(bytes: number): void {
    this.usedBytes -= bytes;
  }

  /** Creates the map, or refines an existing one with `decl`. */
  declare(name: string, decl: MapDecl = {}): BpfMap {
    const m = this.byName.get(name);
    if (m !== undefined) {
      m.refine(decl);
      return m;
    }
    const created = new BpfMap(name, decl, this);
    this.byName.set(name, created);
    return created;
  }

  /** The map called `name`, created on first use. */
  map(name: string): BpfMap {
    return this.byName.get(name) ?? this.declare(name);
  }

  get(name: string): BpfMap | undefined {
    return this.byName.get(name);
  }

  /** Map names in bpftrace's exit order (byte order, as a std::map<std::string>). */
  names(): string[] {
    return Array.from(this.byName.keys()).sort(compareBytes);
  }

  /** Maps in exit order. */
  maps(): BpfMap[] {
    return this.names().map((n) => this.byName.get(n) as BpfMap);
  }

  /** @internal A warning of one of the maps (see RepeatingWarnings.add); silent without the store's `warnings`. */
  repeatingWarning(first: (sink: OutputSink) => string, summary: (n: number) => string): () => void {
    return this.warnings?.add(first, summary) ?? (() => {});
  }
}

/** Byte-wise (UTF-8 order) string comparison: code point order. */
export function compareBytes(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // UTF-16 order differs from code point order only between surrogates and U+E000..U+FFFF.
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa !== sb) return sa ? 1 : -1;
    return ca < cb ? -1 : 1;
  }
  return a.length - b.length;
}
