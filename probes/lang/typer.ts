// The type pass of the bpftrace-compatible language (bpftrace's semantic analyser's typing): the
// static type of every expression, from literals, builtins, casts, the types variables and maps
// were given by their assignments, the probe's tracepoint fields, the kernel's BTF members and the
// script's own declarations. Code generation (compile.ts) asks it for types and tells it, through
// TypingScope, what it has learned so far: each variable's and map's type, the probe being compiled.

import { BTF, type ProbeSite } from '../../core/index.js';
import type * as A from './ast.js';
import { blockValue, byteLength, foldLiterals, INT64_MAX, MAX_COMPILE_DEPTH, parseInetAddress, positionalNumber } from './fold.js';
import type { Loc } from './source.js';
import { isBuiltin } from './tokens.js';
import {
  BOOL_T,
  INT32_T,
  INT64_T,
  NONE_T,
  SYMBOL_T,
  UINT32_T,
  UINT64_T,
  UNKNOWN_T,
  intT,
  isIntegerT,
  literalT,
  pointerT,
  scalarTypeByName,
  stringT,
  tupleT,
  type SType,
  type UserTypes,
} from './types.js';
import { ownValue } from './values.js';

/** What the type pass asks code generation: the program and what its compilation has fixed so far. */
export interface TypingScope {
  readonly program: A.Program;
  readonly userTypes: UserTypes;
  readonly positionalArgs: readonly string[];
  /** A scratch variable's type, fixed by its first assignment. */
  varType(name: string): SType | undefined;
  /** A map's value type, fixed by its first use. */
  mapType(name: string): SType | undefined;
  /** The probe sites of the probe being compiled. */
  sites(): readonly ProbeSite[];
  /** How deep code generation is now (typing stops at the same overall depth). */
  compileDepth(): number;
  /** config()'s fields and values. */
  configRecord(): readonly (readonly [string, bigint | boolean | string])[];
}

/** A BTF member's C type as a static type: `struct x *`, embedded `struct qstr`, `char[16]`, integers. */
export function btfMemberType(c: string): SType {
  const text = c.replace(/\bconst\s+/g, '').trim();
  const struct = /^struct (\w+)\s*(\*?)$/.exec(text);
  if (struct) return struct[2] ? pointerT({ kind: 'struct', name: struct[1]! }) : { kind: 'struct', name: struct[1]! };
  const chars = /^char\s*\[(\d+)\]$/.exec(text);
  if (chars) return stringT(Number(chars[1]));
  if (/^(unsigned )?char\s*\*$/.test(text)) return stringT(0);
  if (/^enum \w+$/.test(text)) return INT32_T;
  return scalarTypeByName(text) ?? (text === 'atomic_t' ? INT32_T : UNKNOWN_T);
}

/** `struct __kernel_timespec * rqtp` -> `__kernel_timespec`: a tracepoint field pointing at a struct kiotrace describes. */
export function argStructName(decl: string): string | undefined {
  const mm = /^(?:const )?struct (\w+) ?\*(?:const )?\s*\w+$/.exec(decl.trim());
  return mm && BTF.has(mm[1]!) ? mm[1] : undefined;
}

/** The task members bpftrace's stdlib aliases read (src/stdlib/base.bt). */
const TASK_ALIASES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  ppid: ['real_parent', 'pid'],
  pcomm: ['real_parent', 'comm'],
  leader_tid: ['group_leader', 'pid'],
  leader_comm: ['group_leader', 'comm'],
});

export class Typer {
  constructor(private readonly scope: TypingScope) {}

  /**
   * The static type of an expression (bpftrace's semantic analyser's job): from literals,
   * builtins, casts, the types variables and maps were given by their assignments, the probe's
   * tracepoint fields and the kernel's BTF members. `unknown` where kiotrace only knows at run time.
   */
  typeOf(e: A.Expr): SType {
    // each node is typed once, when first asked (its parent asks again): linear in the tree
    let t = this.exprTypes.get(e);
    if (t === undefined) {
      // a tree deeper than code generation accepts (macros expanding into macros) is refused there:
      // typing stops at the same depth instead of running out of stack first
      if (this.typeDepth + this.scope.compileDepth() >= MAX_COMPILE_DEPTH) return UNKNOWN_T;
      this.typeDepth++;
      try {
        t = this.typeOfNode(e);
      } finally {
        this.typeDepth--;
      }
      this.exprTypes.set(e, t);
    }
    return t;
  }

  /** How deep typeOf is in the expression tree now. */
  private typeDepth = 0;

  private readonly exprTypes = new WeakMap<A.Expr, SType>();

  private typeOfNode(e: A.Expr): SType {
    switch (e.kind) {
      case 'Int':
        return literalT(e.value);
      case 'PositionalCount':
        return INT64_T;
      case 'Positional': {
        const raw = this.scope.positionalArgs[e.index - 1];
        if (raw === undefined) return INT64_T;
        const n = positionalNumber(raw);
        return n === undefined ? stringT(byteLength(raw) + 1) : n > INT64_MAX ? UINT64_T : INT64_T;
      }
      case 'Variable':
        return this.scope.varType(e.name) ?? UNKNOWN_T;
      case 'Map':
      case 'MapAccess':
        return this.scope.mapType(e.kind === 'Map' ? e.name : e.map.name) ?? UNKNOWN_T;
      case 'Cast':
        return this.specType(e.type) ?? UNKNOWN_T;
      case 'Unary':
        switch (e.op) {
          case '!':
            return BOOL_T;
          case '&':
            return pointerT(this.typeOf(e.operand));
          case '*': {
            const t = this.typeOf(e.operand);
            // an integer dereferenced is an address holding a u64 (bpftrace's rule)
            if (t.kind === 'int') return UINT64_T;
            return t.kind === 'pointer' && t.to.kind !== 'void' ? t.to : UNKNOWN_T;
          }
          case '-': {
            const t = this.typeOf(e.operand);
            if (e.operand.kind === 'Int') return literalT(-e.operand.value);
            return t.kind === 'int' ? intT(t.bits, true) : INT64_T;
          }
          default: {
            const t = this.typeOf(e.operand);
            return t.kind === 'int' || t.kind === 'pointer' ? t : INT64_T;
          }
        }
      case 'Ternary': {
        const t = this.typeOf(e.then ?? e.else);
        return t.kind === 'unknown' && e.then ? this.typeOf(e.else) : t;
      }
      case 'String':
        return stringT(byteLength(e.value) + 1);
      case 'Bool':
        return BOOL_T;
      case 'Tuple':
        return tupleT(e.elements.map((x) => this.typeOf(x)));
      case 'Record':
        return { kind: 'record', fields: e.fields.map((f) => [f.name, this.typeOf(f.value)] as const) };
      case 'Builtin': {
        const alias = this.taskAlias(e.name, undefined, e.loc);
        return alias ? this.typeOf(alias) : this.builtinType(e.name);
      }
      case 'Identifier': {
        // `__builtin_comm` is bpftrace's own name of the `comm` builtin (what the stdlib's wrappers call)
        const wrapped = /^__builtin_(\w+)$/.exec(e.name)?.[1];
        if (wrapped !== undefined && isBuiltin(wrapped)) return this.builtinType(wrapped);
        const constant = this.scope.userTypes.constants.get(e.name);
        if (constant) return { kind: 'enum', name: constant.enumName, bits: 64 };
        return UNKNOWN_T;
      }
      case 'Binary': {
        if (['==', '!=', '<', '<=', '>', '>=', '&&', '||'].includes(e.op)) return BOOL_T;
        const l = this.typeOf(e.left);
        const r = this.typeOf(e.right);
        // pointer arithmetic keeps the pointer's type: `(int8 *)0x32 + 1` is an int8 * at 0x33
        if ((e.op === '+' || e.op === '-') && l.kind === 'pointer' && isIntegerT(r)) return l;
        if (e.op === '+' && r.kind === 'pointer' && isIntegerT(l)) return r;
        // a non-negative literal takes the other side's sign, as bpftrace's literals adapt: `$u % 10` stays unsigned
        const unsignedSide = (t: SType, x: A.Expr): boolean => (t.kind === 'int' && !t.signed) || (x.kind === 'Int' && x.value >= 0n);
        if (l.kind === 'int' && r.kind === 'int' && unsignedSide(l, e.left) && unsignedSide(r, e.right) && (!l.signed || !r.signed)) return UINT64_T;
        return INT64_T;
      }
      case 'Call':
        return this.callType(e);
      case 'FieldAccess':
        return this.fieldType(e);
      case 'TupleAccess': {
        const t = this.typeOf(e.object);
        if (t.kind === 'tuple') return t.items[e.index] ?? UNKNOWN_T;
        return UNKNOWN_T;
      }
      case 'Index': {
        const t = this.typeOf(e.object);
        if (t.kind === 'array') return t.of;
        if (t.kind === 'pointer' && t.to.kind !== 'void') return t.to;
        if (t.kind === 'string') return intT(8, true);
        if (t.kind === 'tuple') {
          const folded = foldLiterals(e.index);
          return folded !== undefined && 'value' in folded ? (t.items[Number(folded.value)] ?? UNKNOWN_T) : UNKNOWN_T;
        }
        return UNKNOWN_T;
      }
      case 'Sizeof':
      case 'Offsetof':
        return UINT64_T;
      case 'BlockExpr': {
        const value = blockValue(e.block);
        return value ? this.typeOf(value) : NONE_T;
      }
      case 'TypeExpr':
        return this.specType(e.type) ?? UNKNOWN_T;
    }
  }

  /**
   * bpftrace's stdlib macros over a task (`ppid`, `pcomm`, `leader_tid`, `leader_comm`, bare or
   * called with a task): the member chain they stand for, `task.real_parent.pid` and so on, with
   * curtask when no task is given. Undefined for any other name, or when the script defines a
   * macro of that name (it wins, as in bpftrace).
   */
  taskAlias(name: string, task: A.Expr | undefined, loc: Loc): A.Expr | undefined {
    const chain = ownValue(TASK_ALIASES, name);
    if (chain === undefined || this.scope.program.macros.some((d) => d.name === name)) return undefined;
    let e: A.Expr = task ?? { kind: 'Builtin', loc, name: 'curtask' };
    for (const field of chain) e = { kind: 'FieldAccess', loc, object: e, field, arrow: true };
    return e;
  }

  private builtinType(name: string): SType {
    switch (name) {
      case 'usermode':
        return intT(8, false);
      case 'pid':
      case 'tid':
      case 'cpu':
      case 'uid':
      case 'gid':
      case 'rand':
        return UINT32_T;
      case 'nsecs':
      case 'elapsed':
      case 'ioid':
      case 'ncpus':
        return UINT64_T;
      case 'comm':
        return stringT(16);
      case 'username':
      case 'probetype':
        return stringT(0);
      case 'cgroup':
        return UINT64_T;
      case 'config':
        return { kind: 'record', fields: this.scope.configRecord().map(([k, v]) => [k, typeof v === 'bigint' ? UINT64_T : typeof v === 'boolean' ? BOOL_T : stringT(0)] as const) };
      case 'probe':
        return stringT(0);
      case 'func':
        return SYMBOL_T;
      case 'kstack':
        return { kind: 'stack', user: false };
      case 'ustack':
        return { kind: 'stack', user: true };
      case 'curtask':
        return pointerT({ kind: 'struct', name: 'task_struct' });
      case 'args':
        return UNKNOWN_T;
      case 'retval':
        return INT64_T;
      default:
        return /^arg\d+$/.test(name) ? UINT64_T : INT64_T;
    }
  }

  private callType(e: A.Call): SType {
    const alias = e.args.length <= 1 ? this.taskAlias(e.name, e.args[0], e.loc) : undefined;
    if (alias) return this.typeOf(alias);
    switch (e.name) {
      case 'getopt':
        return e.args[1] === undefined ? BOOL_T : this.typeOf(e.args[1]);
      case 'strcontains':
      case 'has_key':
        return BOOL_T;
      case 'str':
      case 'strerror':
      case 'syscall_name':
      case 'strftime':
      case 'ntop':
      case 'signal_name':
        return stringT(0);
      case 'bswap': {
        const t = e.args[0] !== undefined ? this.typeOf(e.args[0]) : UNKNOWN_T;
        return t.kind === 'int' ? intT(t.bits, false) : UINT64_T;
      }
      case 'buf': {
        const a1 = e.args[1];
        const folded = a1 !== undefined ? foldLiterals(a1) : undefined;
        return { kind: 'buffer', size: folded !== undefined && 'value' in folded ? Number(folded.value) : 0 };
      }
      case 'pton': {
        const a0 = e.args[0];
        const n = a0?.kind === 'String' ? (parseInetAddress(a0.value)?.length ?? 4) : 4;
        return { kind: 'array', of: intT(8, false), size: n };
      }
      case 'ksym':
      case 'usym':
        return SYMBOL_T;
      case 'kaddr':
      case 'percpu_kaddr':
        return UINT64_T;
      case 'kstack':
        return { kind: 'stack', user: false };
      case 'ustack':
        return { kind: 'stack', user: true };
      case 'pid':
      case 'tid':
      case 'comm':
      case 'nsecs':
      case 'cpu':
      case 'elapsed':
      case 'uid':
      case 'gid':
      case 'retval':
      case 'func':
      case 'probe':
      case 'probetype':
      case 'cgroup':
      case 'config':
      case 'username':
      case 'ncpus':
      case 'jiffies':
      case 'numaid':
      case 'usermode':
      case 'ioid':
        return e.args.length === 0 && !this.scope.program.macros.some((d) => d.name === e.name) ? this.builtinType(e.name) : UNKNOWN_T;
      default: {
        const macro = this.scope.program.macros.find((d) => d.name === e.name);
        if (macro) return UNKNOWN_T;
        return INT64_T;
      }
    }
  }

  /** A member's type: a tracepoint field's, a record's, a kernel (BTF) struct's or a declared struct's. */
  private fieldType(e: A.FieldAccess): SType {
    if (e.object.kind === 'Builtin' && e.object.name === 'args') {
      for (const s of this.scope.sites()) {
        const f = s.fields.find((x) => x[1] === e.field);
        if (!f) continue;
        const struct = argStructName(f[0]);
        if (struct !== undefined) return pointerT({ kind: 'struct', name: struct });
        return /^char |\[\]|char\[/.test(f[0]) || f[0].includes('char ') ? stringT(0) : INT64_T;
      }
      return UNKNOWN_T;
    }
    const t = this.typeOf(e.object);
    if (t.kind === 'record') return t.fields.find((f) => f[0] === e.field)?.[1] ?? UNKNOWN_T;
    const struct = t.kind === 'struct' ? t : t.kind === 'pointer' && t.to.kind === 'struct' ? t.to : undefined;
    if (struct) {
      const member = BTF.get(struct.name)?.members.get(e.field);
      if (member) return btfMemberType(member.type);
      const field = this.scope.userTypes.structs.get(struct.name)?.fields.find((f) => f.name === e.field);
      if (field) return field.type;
    }
    return UNKNOWN_T;
  }

  /** A type as written (`uint32`, `struct request *`, `int8[4]`, `enum E`) as a static type; undefined when unknown (not reported here). */
  specType(t: A.TypeSpec): SType | undefined {
    switch (t.kind) {
      case 'TypeofType': {
        if (t.type) return this.specType(t.type);
        const e = t.expr!;
        // `typeof(size_t)`: a bare word there may name a type
        if (e.kind === 'Identifier') return this.specType({ kind: 'NamedType', loc: e.loc, name: e.name });
        const found = this.typeOf(e);
        return found.kind === 'unknown' ? undefined : found;
      }
      case 'NamedType': {
        const scalar = scalarTypeByName(t.name);
        if (scalar) return scalar;
        if (t.name === 'string') return stringT(0);
        if (BTF.has(t.name) || this.scope.userTypes.structs.has(t.name)) return { kind: 'struct', name: t.name };
        return undefined;
      }
      case 'TaggedType':
        if (t.tag === 'enum') return { kind: 'enum', name: t.name, bits: 64 };
        return { kind: 'struct', name: t.name, ...(t.tag === 'union' ? { union: true } : {}) };
      case 'PointerType': {
        const to = this.specType(t.to);
        return to === undefined ? undefined : pointerT(to);
      }
      case 'ArrayType': {
        const of = this.specType(t.of);
        return of === undefined ? undefined : { kind: 'array', of, size: t.size ?? 0 };
      }
    }
  }
}
