// The runtime value model of the bpftrace-compatible language: integers are `bigint` kept
// normalized to their declared type (int8..int64, uint8..uint64), bool is a JS boolean, strings
// are JS strings; tuples, records, arrays, pointers, symbolic values (enums, symbols) and buffers
// are small immutable classes. Also the text form of every value as bpftrace prints it in text
// mode (bpftrace src/output/text.cpp `TextEmitter<Primitive>`).

export type IntTypeName = 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64';
export type ScalarTypeName = IntTypeName | 'bool';

/** A fixed-width integer type. Values of this type are bigints in [min, max]. */
export interface IntType {
  readonly name: IntTypeName;
  readonly bits: 8 | 16 | 32 | 64;
  readonly signed: boolean;
}

function intType(name: IntTypeName, bits: 8 | 16 | 32 | 64, signed: boolean): IntType {
  return Object.freeze({ name, bits, signed });
}

export const INT8 = intType('int8', 8, true);
export const INT16 = intType('int16', 16, true);
export const INT32 = intType('int32', 32, true);
export const INT64 = intType('int64', 64, true);
export const UINT8 = intType('uint8', 8, false);
export const UINT16 = intType('uint16', 16, false);
export const UINT32 = intType('uint32', 32, false);
export const UINT64 = intType('uint64', 64, false);

export const INT_TYPES: Readonly<Record<IntTypeName, IntType>> = Object.freeze({
  int8: INT8,
  int16: INT16,
  int32: INT32,
  int64: INT64,
  uint8: UINT8,
  uint16: UINT16,
  uint32: UINT32,
  uint64: UINT64,
});

/**
 * `table[key]` for a key from user text: only the table's own entries, so `constructor` or
 * `__proto__` finds nothing instead of what every object inherits.
 */
export function ownValue<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** `int32` -> INT32; anything else -> undefined. */
export function intTypeByName(name: string): IntType | undefined {
  return ownValue<IntType>(INT_TYPES, name);
}

/** Truncates (and sign-extends, for signed types) `v` to type `t`: C's integer conversion. */
export function wrapInt(v: bigint, t: IntType): bigint {
  return t.signed ? BigInt.asIntN(t.bits, v) : BigInt.asUintN(t.bits, v);
}

export function intMin(t: IntType): bigint {
  return t.signed ? -(1n << BigInt(t.bits - 1)) : 0n;
}

export function intMax(t: IntType): bigint {
  return t.signed ? (1n << BigInt(t.bits - 1)) - 1n : (1n << BigInt(t.bits)) - 1n;
}

/** True when `v` is representable in `t` without wrapping. */
export function fitsInt(v: bigint, t: IntType): boolean {
  return v >= intMin(t) && v <= intMax(t);
}

/**
 * The type bpftrace (0.26) gives a positive or negative integer literal: the smallest signed type
 * that holds it, or uint64 above INT64_MAX.
 */
export function literalIntType(v: bigint): IntType {
  for (const t of [INT8, INT16, INT32, INT64]) if (fitsInt(v, t)) return t;
  return UINT64;
}

// -------------------------------------------------------------------------------------------
// Composite values

/** How deep a tuple or record is (itself included) and how many plain values it holds in all: what printing it walks. */
export interface Extent {
  readonly depth: number;
  readonly size: number;
}

function extentOf(values: readonly Value[]): Extent {
  let depth = 0;
  let size = 0;
  for (const v of values) {
    if (v instanceof TupleValue || v instanceof RecordValue) {
      const e = v.extent;
      depth = Math.max(depth, e.depth);
      size += e.size;
    } else size++;
  }
  return { depth: depth + 1, size };
}

/** `(1, "a", (2, 3))`. */
export class TupleValue {
  private extentCache: Extent | undefined = undefined;
  constructor(readonly items: readonly Value[]) {}

  /** Worked out on first use (map keys of plain values never need it). */
  get extent(): Extent {
    return (this.extentCache ??= extentOf(this.items));
  }
}

/** `(a = 1, b = "x")`, and structs printed as records. Field order is declaration order. */
export class RecordValue {
  private extentCache: Extent | undefined = undefined;
  constructor(readonly fields: readonly (readonly [string, Value])[]) {}

  /** As TupleValue's. */
  get extent(): Extent {
    return (this.extentCache ??= extentOf(this.fields.map((f) => f[1])));
  }

  get(name: string): Value | undefined {
    for (const [n, v] of this.fields) if (n === name) return v;
    return undefined;
  }
}

/** C arrays: `int x[4]` prints `[1,2,3,4]`. */
export class ArrayValue {
  constructor(readonly items: readonly Value[]) {}
}

/** A pointer: prints `0x...` in text, as a number in JSON and `%d`. */
export class PointerValue {
  /** `addr` is kept as an unsigned 64-bit value. */
  readonly addr: bigint;
  constructor(addr: bigint, readonly typeName?: string) {
    this.addr = BigInt.asUintN(64, addr);
  }

  /** The pointer `deltaBytes` further on (pointer arithmetic), typed `typeName`. */
  moved(deltaBytes: bigint, typeName: string | undefined): PointerValue {
    return new PointerValue(this.addr + deltaBytes, typeName);
  }
}

/**
 * `&$a`: the address of a scratch variable in the probe's (simulated) stack frame. It keeps the
 * variable it points into, so `*$b` reads the variable and `*(int8 *)&$s` a string's bytes.
 */
export class VarPointer extends PointerValue {
  constructor(
    readonly vars: Map<string, Value>,
    readonly name: string,
    readonly offsetBytes: bigint,
    addr: bigint,
    typeName?: string,
  ) {
    super(addr, typeName);
  }

  override moved(deltaBytes: bigint, typeName: string | undefined): PointerValue {
    return new VarPointer(this.vars, this.name, this.offsetBytes + deltaBytes, this.addr + deltaBytes, typeName);
  }

  /** What `*p` reads: the variable itself at offset 0, else the byte of a string at the offset (0 past it). */
  read(byteSized: boolean): Value {
    const v = this.vars.get(this.name) ?? 0n;
    if (typeof v === 'string' && byteSized) return BigInt(v.charCodeAt(Number(this.offsetBytes)) || 0);
    return this.offsetBytes === 0n ? v : 0n;
  }
}

/** A value with a name and a number: enum values, resolved symbols. Text prints the name. */
export class SymbolValue {
  constructor(
    readonly symbol: string,
    readonly numeric: bigint,
  ) {}
}

/** `buf(ptr, len)`: raw bytes. Text form keeps printable ASCII and escapes the rest as `\xNN`. */
export class BufferValue {
  constructor(readonly bytes: Uint8Array) {}
}

export type Value = bigint | boolean | string | TupleValue | RecordValue | ArrayValue | PointerValue | SymbolValue | BufferValue;

/** Convenience constructors for tests and generated code. */
export function tuple(...items: Value[]): TupleValue {
  return new TupleValue(items);
}

export function record(fields: Readonly<Record<string, Value>>): RecordValue {
  return new RecordValue(Object.entries(fields));
}

// -------------------------------------------------------------------------------------------
// Text form (bpftrace text mode)

/**
 * `buf` bytes as bpftrace's `hex_format_buffer`: with `keepAscii`, bytes 32..126 print as
 * themselves; others print `\xNN` (`escape`) or `NN` separated by spaces (`%rh`).
 */
export function formatBuffer(bytes: Uint8Array, keepAscii = true, escape = true): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] ?? 0;
    if (keepAscii && b >= 32 && b <= 126) {
      s += String.fromCharCode(b);
    } else if (escape) {
      s += '\\x' + b.toString(16).padStart(2, '0');
    } else {
      s += b.toString(16).padStart(2, '0');
      if (i < bytes.length - 1) s += ' ';
    }
  }
  return s;
}

/**
 * The text form of a value, as `print(x)`, `%s` and map printing show it: strings bare, bool
 * `true`/`false`, tuples `(1, 2, str)` (an empty string element prints nothing: `(0, )`),
 * records `{ .a = 1, .b = x }` (empty `{}`), arrays `[1,2,3]`, pointers `0x1f`.
 */
export function valueText(v: Value): string {
  switch (typeof v) {
    case 'bigint':
      return v.toString();
    case 'string':
      return v;
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      break;
  }
  if (v instanceof TupleValue) {
    let s = '(';
    for (let i = 0; i < v.items.length; i++) {
      if (i > 0) s += ', ';
      s += valueText(v.items[i] as Value);
    }
    return s + ')';
  }
  if (v instanceof RecordValue) {
    if (v.fields.length === 0) return '{}';
    let s = '{ ';
    for (let i = 0; i < v.fields.length; i++) {
      const [name, fv] = v.fields[i] as readonly [string, Value];
      if (i > 0) s += ', ';
      s += '.' + name + ' = ' + valueText(fv);
    }
    return s + ' }';
  }
  if (v instanceof ArrayValue) {
    let s = '[';
    for (let i = 0; i < v.items.length; i++) {
      if (i > 0) s += ',';
      s += valueText(v.items[i] as Value);
    }
    return s + ']';
  }
  if (v instanceof PointerValue) return '0x' + v.addr.toString(16);
  if (v instanceof SymbolValue) return v.symbol;
  return formatBuffer(v.bytes);
}

/**
 * The integer a value stands for in integer contexts (`%d`, arithmetic): bool 0/1, pointer
 * address, symbol number. Undefined for strings and composites.
 */
export function valueToBigInt(v: Value): bigint | undefined {
  switch (typeof v) {
    case 'bigint':
      return v;
    case 'boolean':
      return v ? 1n : 0n;
    case 'string':
      return undefined;
    default:
      break;
  }
  if (v instanceof PointerValue) return v.addr;
  if (v instanceof SymbolValue) return v.numeric;
  return undefined;
}

/** Structural equality (`==` on strings and ints; map-key identity). */
export function valueEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof TupleValue && b instanceof TupleValue) return itemsEqual(a.items, b.items);
  if (a instanceof ArrayValue && b instanceof ArrayValue) return itemsEqual(a.items, b.items);
  if (a instanceof RecordValue && b instanceof RecordValue) {
    if (a.fields.length !== b.fields.length) return false;
    for (let i = 0; i < a.fields.length; i++) {
      const fa = a.fields[i] as readonly [string, Value];
      const fb = b.fields[i] as readonly [string, Value];
      if (fa[0] !== fb[0] || !valueEquals(fa[1], fb[1])) return false;
    }
    return true;
  }
  if (a instanceof PointerValue && b instanceof PointerValue) return a.addr === b.addr;
  if (a instanceof SymbolValue && b instanceof SymbolValue) return a.numeric === b.numeric && a.symbol === b.symbol;
  if (a instanceof BufferValue && b instanceof BufferValue) {
    if (a.bytes.length !== b.bytes.length) return false;
    for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return false;
    return true;
  }
  return false;
}

function itemsEqual(a: readonly Value[], b: readonly Value[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!valueEquals(a[i] as Value, b[i] as Value)) return false;
  return true;
}

/**
 * The zero of a value's type, as `zero(@m)` leaves it and as an unset map reads: ints 0, bool
 * false, strings "", and composites zeroed field by field (`{ .a = 0, .b = (0, ) }`).
 */
export function zeroValueLike(v: Value): Value {
  switch (typeof v) {
    case 'bigint':
      return 0n;
    case 'boolean':
      return false;
    case 'string':
      return '';
    default:
      break;
  }
  if (v instanceof TupleValue) return new TupleValue(v.items.map(zeroValueLike));
  if (v instanceof RecordValue) return new RecordValue(v.fields.map(([n, fv]) => [n, zeroValueLike(fv)] as const));
  if (v instanceof ArrayValue) return new ArrayValue(v.items.map(zeroValueLike));
  if (v instanceof PointerValue) return new PointerValue(0n, v.typeName);
  if (v instanceof SymbolValue) return 0n;
  return new BufferValue(new Uint8Array(v.bytes.length));
}
