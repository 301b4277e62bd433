// The static types of the bpftrace-compatible language (bpftrace's src/types.h `SizedType`): what
// every expression, variable and map holds, known when the program compiles. Integers have a
// width and a sign, strings a size (with the NUL), pointers a pointee, tuples and records their
// element types. Also C's sizes and alignment on x86-64 (LP64) for sizeof/offsetof, and the C
// declarations a script may carry (`struct Foo { int x; char y[8]; };`, `enum E { A = 1 };`),
// laid out as a C compiler lays them out.

import { intTypeByName, PointerValue, RecordValue, TupleValue, type Value } from './values.js';

export type IntBits = 8 | 16 | 32 | 64;

export type SType =
  | { readonly kind: 'int'; readonly bits: IntBits; readonly signed: boolean }
  | { readonly kind: 'bool' }
  /** `size` counts the NUL, as bpftrace's string[N]; 0 when it is not known here. */
  | { readonly kind: 'string'; readonly size: number }
  | { readonly kind: 'pointer'; readonly to: SType }
  /** A struct or union by name: the kernel's (BTF) or one the script declares. */
  | { readonly kind: 'struct'; readonly name: string; readonly union?: boolean }
  | { readonly kind: 'array'; readonly of: SType; readonly size: number }
  | { readonly kind: 'tuple'; readonly items: readonly SType[] }
  | { readonly kind: 'record'; readonly fields: readonly (readonly [string, SType])[] }
  /** A value of a declared enum: an integer that prints as its enumerator's name. */
  | { readonly kind: 'enum'; readonly name: string; readonly bits: IntBits }
  | { readonly kind: 'buffer'; readonly size: number }
  | { readonly kind: 'stack'; readonly user: boolean }
  /** A resolved name: `func`, `ksym()`. */
  | { readonly kind: 'symbol' }
  /** `void` as a pointee. */
  | { readonly kind: 'void' }
  /** What a statement without a value (`print()`, an assignment) gives. */
  | { readonly kind: 'none' }
  /** Not known when the program compiles (kiotrace reads it at run time). */
  | { readonly kind: 'unknown' };

const intCache = new Map<string, SType>();

export function intT(bits: IntBits, signed: boolean): SType {
  const key = `${signed ? 's' : 'u'}${bits}`;
  let t = intCache.get(key);
  if (t === undefined) {
    t = Object.freeze({ kind: 'int', bits, signed });
    intCache.set(key, t);
  }
  return t;
}

export const INT64_T = intT(64, true);
export const UINT64_T = intT(64, false);
export const UINT32_T = intT(32, false);
export const INT32_T = intT(32, true);
export const BOOL_T: SType = Object.freeze({ kind: 'bool' });
export const NONE_T: SType = Object.freeze({ kind: 'none' });
export const UNKNOWN_T: SType = Object.freeze({ kind: 'unknown' });
export const VOID_T: SType = Object.freeze({ kind: 'void' });
export const SYMBOL_T: SType = Object.freeze({ kind: 'symbol' });

export function stringT(size: number): SType {
  return { kind: 'string', size };
}

export function pointerT(to: SType): SType {
  return { kind: 'pointer', to };
}

export function tupleT(items: readonly SType[]): SType {
  return { kind: 'tuple', items };
}

/** The type of an integer literal, as bpftrace 0.26 gives it: the smallest signed type that holds it, else uint64. */
export function literalT(v: bigint): SType {
  for (const bits of [8, 16, 32, 64] as const) {
    const half = 1n << BigInt(bits - 1);
    if (v >= -half && v < half) return intT(bits, true);
  }
  return UINT64_T;
}

/** C's integer type names (and bpftrace's) on x86-64. */
const C_INT_TYPES: ReadonlyMap<string, SType> = new Map<string, SType>([
  ...(['char', 'signed char', 's8', '__s8', 'int8_t'] as const).map((n) => [n, intT(8, true)] as const),
  ...(['unsigned char', 'u8', '__u8', 'uint8_t'] as const).map((n) => [n, intT(8, false)] as const),
  ...(['short', 'short int', 'signed short', 's16', '__s16', 'int16_t'] as const).map((n) => [n, intT(16, true)] as const),
  // the kernel's __bitwise byte-order types are plain unsigned integers to BTF (bswap() swaps their width)
  ...(['unsigned short', 'unsigned short int', 'u16', '__u16', 'uint16_t', '__be16', '__le16'] as const).map((n) => [n, intT(16, false)] as const),
  ...(['int', 'signed', 'signed int', 's32', '__s32', 'int32_t', 'pid_t', 'blk_status_t'] as const).map((n) => [n, intT(32, true)] as const),
  ...(['unsigned', 'unsigned int', 'u32', '__u32', 'uint32_t', '__be32', '__le32', 'dev_t', 'uid_t', 'gid_t', 'blk_opf_t'] as const).map((n) => [n, intT(32, false)] as const),
  ...(['long', 'long int', 'signed long', 'long long', 'long long int', 's64', '__s64', 'int64_t', 'ssize_t', 'loff_t', 'time64_t', '__kernel_time64_t', '__kernel_old_time_t'] as const).map((n) => [n, intT(64, true)] as const),
  ...(['unsigned long', 'unsigned long int', 'unsigned long long', 'u64', '__u64', 'uint64_t', '__be64', '__le64', 'size_t', 'sector_t', 'pgoff_t', 'ino_t', 'uintptr_t'] as const).map(
    (n) => [n, intT(64, false)] as const,
  ),
]);

/** A scalar type by name: bpftrace's `int8`..`uint64`, `bool`, C's and the kernel's integer names, `void`. */
export function scalarTypeByName(name: string): SType | undefined {
  const it = intTypeByName(name);
  if (it) return intT(it.bits, it.signed);
  if (name === 'bool' || name === '_Bool') return BOOL_T;
  if (name === 'void') return VOID_T;
  return C_INT_TYPES.get(name.replace(/\s+/g, ' ').trim());
}

/** bpftrace's spelling of a type in messages and `typeof`: `uint32`, `string[16]`, `int8 *`, `(int64,string[2])`. */
export function typeName(t: SType): string {
  switch (t.kind) {
    case 'int':
      return `${t.signed ? '' : 'u'}int${t.bits}`;
    case 'bool':
      return 'bool';
    case 'string':
      return t.size > 0 ? `string[${t.size}]` : 'string';
    case 'pointer':
      return `${typeName(t.to)} *`;
    case 'struct':
      return `${t.union ? 'union' : 'struct'} ${t.name}`;
    case 'array':
      return `${typeName(t.of)}[${t.size}]`;
    case 'tuple':
      return `(${t.items.map(typeName).join(',')})`;
    case 'record':
      return `record { ${t.fields.map(([n, ft]) => `${typeName(ft)} ${n}`).join(', ')} }`;
    case 'enum':
      return `enum ${t.name}`;
    case 'buffer':
      return `buffer[${t.size}]`;
    case 'stack':
      return t.user ? 'ustack' : 'kstack';
    case 'symbol':
      return 'ksym_t';
    case 'void':
      return 'void';
    case 'none':
      return 'none';
    case 'unknown':
      return 'other';
  }
}

/** What a variable or map of type `t` holds before anything is assigned: 0, false, "", zeroed tuples and records. */
export function zeroValueOf(t: SType): Value {
  switch (t.kind) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'pointer':
      return new PointerValue(0n, typeName(t));
    case 'tuple':
      return new TupleValue(t.items.map(zeroValueOf));
    case 'record':
      return new RecordValue(t.fields.map(([n, ft]) => [n, zeroValueOf(ft)] as const));
    default:
      return 0n;
  }
}

export function isIntegerT(t: SType): boolean {
  return t.kind === 'int' || t.kind === 'enum';
}

export function sameType(a: SType, b: SType): boolean {
  return typeName(a) === typeName(b);
}

// ---------------------------------------------------------------------------------------------
// C layout

export interface Field {
  readonly name: string;
  readonly type: SType;
  readonly offsetBytes: number;
}

export interface StructLayout {
  readonly name: string;
  readonly union: boolean;
  readonly fields: readonly Field[];
  readonly sizeBytes: number;
  readonly alignBytes: number;
}

export interface EnumDef {
  readonly name: string;
  readonly values: ReadonlyMap<string, bigint>;
}

/** The C declarations of a script: its structs and unions, its enums and their constants. */
export class UserTypes {
  readonly structs = new Map<string, StructLayout>();
  readonly enums = new Map<string, EnumDef>();
  /** Enumerators by name: their value and the enum they belong to. */
  readonly constants = new Map<string, { readonly value: bigint; readonly enumName: string }>();
  private anonymousEnums = 0;

  /** An enum value's enumerator name, when `value` is one of `enumName`'s. */
  enumeratorName(enumName: string, value: bigint): string | undefined {
    const e = this.enums.get(enumName);
    if (!e) return undefined;
    for (const [n, v] of e.values) if (v === value) return n;
    return undefined;
  }

  /** Size in bytes of a type, when it is known: C's on x86-64; undefined for kernel structs and unknown types. */
  sizeOf(t: SType): number | undefined {
    switch (t.kind) {
      case 'int':
        return t.bits / 8;
      case 'enum':
        return t.bits / 8;
      case 'bool':
        return 1;
      case 'pointer':
        return 8;
      case 'string':
        return t.size > 0 ? t.size : undefined;
      case 'array': {
        const of = this.sizeOf(t.of);
        return of === undefined ? undefined : of * t.size;
      }
      case 'struct':
        return this.structs.get(t.name)?.sizeBytes;
      case 'tuple': {
        // bpftrace lays tuples out as C structs: each element at its alignment, the whole padded to the largest
        let offset = 0;
        let align = 1;
        for (const it of t.items) {
          const size = this.sizeOf(it);
          if (size === undefined) return undefined;
          const a = this.alignOf(it);
          align = Math.max(align, a);
          offset = Math.ceil(offset / a) * a + size;
        }
        return Math.ceil(offset / align) * align;
      }
      case 'record': {
        return this.sizeOf(tupleT(t.fields.map((f) => f[1])));
      }
      case 'buffer':
        return t.size + 4;
      case 'stack':
        return 8;
      case 'symbol':
        return 8;
      case 'void':
        return 1;
      case 'none':
        return 0;
      case 'unknown':
        return undefined;
    }
  }

  alignOf(t: SType): number {
    switch (t.kind) {
      case 'int':
      case 'enum':
        return t.bits / 8;
      case 'pointer':
      case 'stack':
      case 'symbol':
        return 8;
      case 'array':
        return this.alignOf(t.of);
      case 'struct':
        return this.structs.get(t.name)?.alignBytes ?? 8;
      case 'tuple':
        return t.items.reduce((a, it) => Math.max(a, this.alignOf(it)), 1);
      case 'record':
        return t.fields.reduce((a, f) => Math.max(a, this.alignOf(f[1])), 1);
      default:
        return 1;
    }
  }

  /**
   * Reads one top-level C definition as the script wrote it (`struct Foo { ... };`,
   * `enum { A = 1 };`); returns an error message for what it cannot read.
   */
  declare(text: string): string | undefined {
    const code = text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, ' ');
    const tokens = code.match(/[A-Za-z_]\w*|0[xX][0-9a-fA-F]+|\d+|\S/g) ?? [];
    const r = new DeclReader(tokens, this);
    try {
      r.definition();
      return undefined;
    } catch (e) {
      if (e instanceof DeclError) return e.message;
      throw e;
    }
  }

  /** Adds an enum; an anonymous one gets a name of its own. */
  addEnum(name: string | undefined, values: Map<string, bigint>): void {
    const n = name ?? `anon_enum_${++this.anonymousEnums}`;
    this.enums.set(n, { name: n, values });
    for (const [k, v] of values) this.constants.set(k, { value: v, enumName: n });
  }

  /** Lays out and adds a struct or union. */
  addStruct(name: string, union: boolean, members: readonly { name: string; type: SType }[], packed: boolean): void {
    const fields: Field[] = [];
    let offset = 0;
    let size = 0;
    let align = 1;
    for (const m of members) {
      const s = this.sizeOf(m.type) ?? 8;
      const a = packed ? 1 : this.alignOf(m.type);
      align = Math.max(align, a);
      if (union) {
        fields.push({ name: m.name, type: m.type, offsetBytes: 0 });
        size = Math.max(size, s);
      } else {
        offset = Math.ceil(offset / a) * a;
        fields.push({ name: m.name, type: m.type, offsetBytes: offset });
        offset += s;
        size = offset;
      }
    }
    this.structs.set(name, { name, union, fields, sizeBytes: Math.ceil(size / align) * align, alignBytes: align });
  }
}

class DeclError {
  constructor(readonly message: string) {}
}

/** A small reader for the C definitions scripts declare: structs, unions and enums of scalars, pointers, arrays and other structs. */
class DeclReader {
  private i = 0;
  private anonymous = 0;
  constructor(
    private readonly t: readonly string[],
    private readonly types: UserTypes,
  ) {}

  private peek(k = 0): string | undefined {
    return this.t[this.i + k];
  }

  private next(): string {
    const s = this.t[this.i++];
    if (s === undefined) throw new DeclError('unexpected end of the C definition');
    return s;
  }

  private expect(s: string): void {
    const got = this.next();
    if (got !== s) throw new DeclError(`C definition: expected '${s}', found '${got}'`);
  }

  definition(): void {
    const tag = this.next();
    if (tag === 'enum') {
      const name = this.peek() !== '{' ? this.next() : undefined;
      this.enumBody(name);
    } else if (tag === 'struct' || tag === 'union') {
      const name = this.next();
      this.structBody(name, tag === 'union');
    } else throw new DeclError(`C definition: expected struct, union or enum, found '${tag}'`);
    // trailing `;` and attributes are read by structBody
  }

  private enumBody(name: string | undefined): void {
    this.expect('{');
    const values = new Map<string, bigint>();
    let next = 0n;
    while (this.peek() !== '}') {
      const n = this.next();
      if (!/^[A-Za-z_]\w*$/.test(n)) throw new DeclError(`C definition: expected an enumerator name, found '${n}'`);
      if (this.peek() === '=') {
        this.next();
        let sign = 1n;
        if (this.peek() === '-') {
          this.next();
          sign = -1n;
        }
        const v = this.next();
        if (/^(0[xX][0-9a-fA-F]+|\d+)$/.test(v)) next = sign * BigInt(v);
        else if (values.has(v)) next = sign * values.get(v)!;
        else throw new DeclError(`C definition: enumerator ${n} needs an integer value, found '${v}'`);
      }
      values.set(n, next);
      next += 1n;
      if (this.peek() === ',') this.next();
      else if (this.peek() !== '}') throw new DeclError(`C definition: expected ',' or '}', found '${this.peek() ?? 'end'}'`);
    }
    this.expect('}');
    this.types.addEnum(name, values);
  }

  private structBody(name: string, union: boolean): void {
    this.expect('{');
    const members: { name: string; type: SType }[] = [];
    while (this.peek() !== '}') {
      const base = this.baseType();
      for (;;) {
        let type = base;
        while (this.peek() === '*') {
          this.next();
          type = pointerT(type);
        }
        const n = this.next();
        if (!/^[A-Za-z_]\w*$/.test(n)) throw new DeclError(`C definition: expected a member name, found '${n}'`);
        const dims: number[] = [];
        while (this.peek() === '[') {
          this.next();
          const size = this.next();
          if (!/^\d+$/.test(size)) throw new DeclError(`C definition: array size must be an integer, found '${size}'`);
          dims.push(Number(size));
          this.expect(']');
        }
        for (let d = dims.length - 1; d >= 0; d--) type = { kind: 'array', of: type, size: dims[d]! };
        members.push({ name: n, type });
        if (this.peek() === ',') {
          this.next();
          continue;
        }
        break;
      }
      // C wants a `;` after each member; bpftrace's parser lets the last one go without
      if (this.peek() !== '}') this.expect(';');
    }
    this.expect('}');
    const packed = this.attributes();
    this.types.addStruct(name, union, members, packed);
  }

  /** `__attribute__((packed))` and friends after the closing brace; true when one is `packed`. */
  private attributes(): boolean {
    let packed = false;
    while (this.peek() === '__attribute__' || this.peek() === '__attribute') {
      this.next();
      let depth = 0;
      do {
        const s = this.next();
        if (s === '(') depth++;
        else if (s === ')') depth--;
        else if (s === 'packed' || s === '__packed__') packed = true;
      } while (depth > 0);
    }
    return packed;
  }

  private baseType(): SType {
    const words: string[] = [];
    for (;;) {
      const w = this.peek();
      if (w === 'const' || w === 'volatile') {
        this.next();
        continue;
      }
      if (w === 'struct' || w === 'union' || w === 'enum') {
        this.next();
        const n = this.peek() !== '{' ? this.next() : `anon_${w}_${++this.anonymous}`;
        // a definition inside a member's declaration (`struct Bar { int x; } bar;`) defines it too
        if (this.peek() === '{') {
          if (w === 'enum') this.enumBody(n);
          else this.structBody(n, w === 'union');
        }
        if (w === 'enum') return { kind: 'enum', name: n, bits: 32 };
        return { kind: 'struct', name: n, ...(w === 'union' ? { union: true } : {}) };
      }
      if (w !== undefined && /^(unsigned|signed|short|long|int|char)$/.test(w)) {
        words.push(this.next());
        continue;
      }
      if (words.length === 0 && w !== undefined && /^[A-Za-z_]\w*$/.test(w)) {
        this.next();
        const t = scalarTypeByName(w);
        if (t) return t;
        if (this.types.structs.has(w)) return { kind: 'struct', name: w };
        throw new DeclError(`C definition: unknown type '${w}'`);
      }
      break;
    }
    if (words.length === 0) throw new DeclError(`C definition: expected a type, found '${this.peek() ?? 'end'}'`);
    const t = scalarTypeByName(words.join(' '));
    if (!t) throw new DeclError(`C definition: unknown type '${words.join(' ')}'`);
    return t;
  }
}
