// The back end of the bpftrace-compatible language: attach-point resolution against a machine's
// probe sites, semantic checks that report bpftrace's errors with locations, and compilation of
// each probe body to closures over a per-firing context (the analog of bpftrace's codegen; the
// closures never evaluate user text as code). Integer values are bigints with 64-bit semantics.

import { KSTACK_DEFAULT_LIMIT } from '../kstack.js';
import { KernelMemory } from '../kmem.js';
import { formatUserStack } from '../ustack.js';
import {
  BTF,
  BTF_ENUMS,
  BTF_LAYOUTS,
  btfCast,
  SYSCALL_NR,
  type BtfPointer,
  type BtfValue,
  type Cpu,
  type Machine,
  type ProbeHit,
  type ProbeProvider,
  type ProbeSite,
} from '../../core/index.js';
import type * as A from './ast.js';
import { childNodes } from './ast.js';
import { errorAt, warningAt, type Diagnostic } from './diagnostics.js';
import { PROVIDER_ALIASES, resolveSpec, unsupportedProbeType } from '../attach.js';
import {
  bucketsBytes,
  checkLhistArgs,
  DEFAULT_MAX_MAP_KEYS,
  formatBytes,
  histBucketCount,
  KEY_LEVEL_BYTES,
  lhistBucketCount,
  MAP_ENTRY_BYTES,
  MapStore,
  OBJECT_HEADER_BYTES,
  SMALL_VALUE_BYTES,
  stringBytes,
  type AggKind,
  type TseriesAgg,
  type TseriesArgs,
  type BpfMap,
} from './maps.js';
import { INT64_T, intT, scalarTypeByName, tupleT, typeName, UNKNOWN_T, UserTypes, zeroValueOf, type SType } from './types.js';
import { ArrayValue, BufferValue, PointerValue, VarPointer, valueEquals, RecordValue, SymbolValue, TupleValue, intTypeByName, ownValue, tuple, valueText, valueToBigInt, wrapInt, type Value } from './values.js';
import { checkPrintfArgs, compilePrintf, parsePrintf, type PrintfArgType } from './printf.js';
import { printMap, type OutputSink, type SourceLocation } from './output.js';
import { printType } from './parser.js';
import { isBuiltin } from './tokens.js';
import { blockValue, byteLength, divideByZeroMessage, foldLiterals, MAX_COMPILE_DEPTH, parseInetAddress, positionalNumber, type Folded } from './fold.js';
import { argStructName, Typer } from './typer.js';
import type { Task } from '../../core/index.js';
import { formatLoc, type Loc, type SourceFile } from './source.js';
import type { RepeatingWarnings } from './warnings.js';

/** A pointer to a simulated kernel object: what casts of kprobe args and BTF members give. */
export class ObjPointer extends PointerValue {
  constructor(readonly ptr: BtfPointer) {
    super(BigInt(ptr.addr), `struct ${ptr.structName} *`);
  }
}

/** Static kinds the checker tracks (enough for map consistency and printf). */
/**
 * The struct a cast points to: `(struct request *)`, or `(file *)` where the name is a kernel
 * struct (bpftrace resolves bare struct names through BTF).
 */
function castStructName(t: A.TypeSpec): string | undefined {
  if (t.kind !== 'PointerType') return undefined;
  if (t.to.kind === 'TaggedType' && t.to.tag === 'struct') return t.to.name;
  if (t.to.kind === 'NamedType' && BTF.has(t.to.name)) return t.to.name;
  return undefined;
}

/**
 * A copy of an AST subtree with some nodes replaced: `replace` sees every node with a `kind` and
 * returns its stand-in, or undefined to copy it and look inside.
 */
function substituteAst<T>(node: T, replace: (n: A.Identifier | A.Variable | A.MapRef) => A.Expr | undefined): T {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    if ('kind' in v && v.kind === 'NamedType') {
      // a parameter bound to `typeof(...)` stands for that type where a type is written: `(a *)-1`, `sizeof(b)`
      const named = v as A.NamedType;
      const stand = replace({ kind: 'Identifier', loc: named.loc, name: named.name });
      if (stand?.kind === 'TypeExpr') return stand.type;
    }
    if ('kind' in v && (v.kind === 'Identifier' || v.kind === 'Variable' || v.kind === 'Map')) {
      const stand = replace(v as A.Identifier | A.Variable | A.MapRef);
      if (stand !== undefined) return stand;
    }
    if (!('kind' in v)) return v; // locations and other leaves are shared
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v)) out[k] = walk(child);
    return out;
  };
  return walk(node) as T;
}


type Kind = 'int' | 'string' | 'bool' | 'pointer' | 'tuple' | 'other' | 'none';

/** The kind the older checks look at, of a static type. */
function kindOfType(t: SType): Kind {
  switch (t.kind) {
    case 'int':
    case 'enum':
      return 'int';
    case 'bool':
      return 'bool';
    case 'string':
    case 'stack':
      return 'string';
    case 'pointer':
      return 'pointer';
    case 'tuple':
      return 'tuple';
    case 'none':
      return 'none';
    default:
      return 'other';
  }
}

/** How many kernel object addresses a program remembers for casts back to pointers. */
const KERNEL_OBJECTS_KEPT = 4096;

/** How many array elements join() reads (bpftrace's join_args: 16). */
const JOIN_MAX_ARGS = 16;

/** A scratch variable's type from what is assigned to it: an integer literal makes it an int64, as in bpftrace; anything else keeps its type. */
function variableType(t: SType, value: A.Expr): SType {
  const literal = value.kind === 'Int' || (value.kind === 'Unary' && value.op === '-' && value.operand.kind === 'Int');
  return literal && t.kind === 'int' ? intT(64, t.signed) : t;
}

/** Control flow out of a statement. */
const enum Flow {
  Normal = 0,
  Break = 1,
  Continue = 2,
  Return = 3,
}

/** What one firing of a probe body sees. */
export interface ExecCtx {
  hit: ProbeHit | undefined;
  /** The CPU a profile sample interrupted (profile probes only). */
  sampledCpu: Cpu | undefined;
  /** The full probe name for `probe`. */
  probeName: string;
  nowNs: number;
  cpu: number;
  pid: number;
  tid: number;
  comm: string;
  ioId: number;
  vars: Map<string, Value>;
  /** Instructions left in this firing (the verifier's limit analog). */
  budget: number;
}

type ExprFn<T extends Value = Value> = (c: ExecCtx) => T;
type StmtFn = (c: ExecCtx) => Flow;

/** The runtime a compiled program talks to: output, exit, the machine's clock. */
export interface ScriptRuntime {
  readonly sink: OutputSink;
  readonly store: MapStore;
  /** Warnings firings may repeat, the maps' among them: printed once, counted, summed up at the end. */
  readonly warnings: RepeatingWarnings;
  write(text: string, stream: 'stdout' | 'stderr'): void;
  exit(code: number): void;
  startNs: number;
  /** The kernel stack at this firing, in bpftrace's text form (only called when usesKstack). */
  kstack(c: ExecCtx, limit: number): string;
}

/** interval fires once per period on one CPU; profile fires on every CPU, in the context it interrupts. */
export type SpecialProbe =
  | { readonly kind: 'begin' }
  | { readonly kind: 'end' }
  | { readonly kind: 'interval' | 'profile'; readonly periodNs: number; readonly raw: string };

export interface CompiledProbe {
  readonly sites: readonly ProbeSite[];
  readonly special: SpecialProbe | undefined;
  readonly run: (c: ExecCtx) => void;
  /** The body has scratch variables, so each firing needs its own variable map. */
  readonly usesVars: boolean;
}

export interface CompiledProgram {
  readonly probes: readonly CompiledProbe[];
  readonly diagnostics: readonly Diagnostic[];
  /** Number of attach points actually attached (bpftrace's "Attached N probes"). */
  readonly attachCount: number;
  /** Some probe reads kstack, so the runtime must track kernel call chains. */
  readonly usesKstack: boolean;
  /** kprobes on functions the kernel does not have: bpftrace fails to attach them at run time. */
  readonly unattachable: readonly { readonly probe: string; readonly fatal: boolean }[];
}

/**
 * The host machine, for the builtins that leave the simulation (system(), cat()). Supplied by the
 * command line only with --unsafe; a run without it is fully simulated and deterministic.
 */
export interface HostAccess {
  /** Runs a shell command and returns its stdout (bpftrace's system()). */
  run(command: string): string;
  /** A file's text, or why it could not be read (bpftrace's cat()). */
  readFile(path: string): { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string };
}

export interface CompileOptions {
  readonly positional: readonly string[];
  readonly unsafe: boolean;
  readonly host?: HostAccess;
  /** The program's text, for the locations errorf/warnf print. */
  readonly source: SourceFile;
  /** Wall-clock ns that simulated t=0 stands for (strftime's dates, nsecs(tai)); 0, 1970-01-01, when not given. */
  readonly epochNs?: bigint;
  /**
   * BPFTRACE_DUMMY_TS_MAP: the scalar map whose value tseries() takes as the time instead of
   * the clock (bpftrace's hook for its own tests).
   */
  readonly dummyTsMap?: string;
  /** --no-warnings: warnf() prints nothing either. */
  readonly noWarnings?: boolean;
  /** --probe-filter: only probes whose names match are kept (BEGIN and END always are). */
  readonly probeFilter?: RegExp;
}

/** The instruction budget of one firing (BPF_COMPLEXITY_LIMIT_INSNS is 1M; loops are bounded). */
export const FIRING_BUDGET = 100_000;
/** bpftrace's default max_strlen, and the largest one kiotrace takes. */
export const DEFAULT_MAX_STRLEN = 1024;
export const MAX_STRLEN_CEILING = 1 << 20;
/** What all the keys of one map may take, at max_strlen bytes a key. */
const MAP_MEMORY_BYTES = 1 << 30;
/** Keys one map may hold whatever max_strlen is (a JS Map holds at most 2^24). */
const MAP_KEYS_CEILING = 1 << 22;

/** The largest max_map_keys (or `hash(N)`) with keys of `maxStrlen` bytes: 1048576 at the default 1024. */
export function maxMapKeysCeiling(maxStrlen: number): number {
  return Math.min(MAP_KEYS_CEILING, Math.floor(MAP_MEMORY_BYTES / maxStrlen));
}

/** `let @m = TYPE(N)` types (bpftrace's BPF_MAP_TYPES that hold keys). */
const MAP_DECL_TYPES: readonly string[] = ['hash', 'lruhash', 'percpuhash', 'percpulruhash'];

/** Widest printf field width or precision: no field needs to be wider than the longest string. */
export const MAX_PRINTF_FIELD = DEFAULT_MAX_STRLEN;

/**
 * The shortest interval/profile period: 10 us, i.e. 100 kHz, Linux's default
 * perf_event_max_sample_rate. A faster timer would be all the simulation does.
 */
export const MIN_TIMER_PERIOD_NS = 10_000;

/** Longest attach point: Linux names a kernel symbol in at most 512 bytes (KSYM_NAME_LEN). */
const MAX_ATTACH_POINT_LENGTH = 1024;
/** Unmatched attach points that get a "did you mean" (as many as errors are shown), and the longest. */
const MAX_SUGGESTIONS = 20;
const MAX_SUGGESTED_LENGTH = 200;

/** bpftrace's max_cat_bytes default. */
const MAX_CAT_BYTES = 10240;
/** How many statements and expressions a program may compile to, macro expansions included. */
export const MAX_COMPILED_NODES = 250_000;
/** Iterations a `while` loop may run in one firing. */
export const MAX_LOOP_ITERATIONS = 10_000;

class BudgetExceeded {
  constructor(readonly loc: A.Expr['loc'] | A.Stmt['loc']) {}
}

/**
 * bpftrace 0.24's configuration keys (src/config.cpp), with the deprecated names it still takes.
 * SIMPLIFICATION: kiotrace acts on missing_probes, max_map_keys, max_strlen, print_maps_on_exit
 * and license; the others (symbol caches, BPF log and ring-buffer sizes, stack layout, unstable
 * feature gates) tune what a simulator has no use for, and are accepted as they are.
 */
const CONFIG_KEYS: ReadonlySet<string> = new Set([
  'cache_user_symbols', 'cpp_demangle', 'lazy_symbolication', 'license', 'log_size', 'max_bpf_progs', 'max_cat_bytes', 'max_map_keys', 'max_probes',
  'max_strlen', 'on_stack_limit', 'perf_rb_pages', 'stack_mode', 'str_trunc_trailer', 'missing_probes', 'print_maps_on_exit', 'use_blazesym',
  'show_debug_info', 'unstable_import', 'unstable_macro', 'unstable_map_decl', 'unstable_tseries', 'unstable_addr',
  'strlen', 'no_cpp_demangle', 'cat_bytes_max', 'map_keys_max',
]);

/** The licenses a BPF program may declare (what the kernel's license_is_gpl_compatible takes). */
const LICENSES: readonly string[] = ['Dual MIT/GPL', 'Dual BSD/GPL', 'Dual MPL/GPL', 'GPL and additional rights', 'GPL v2', 'GPL'];

/** INITIAL_JIFFIES (include/linux/jiffies.h) at HZ=1000: -300 s, so the 32-bit counter wraps 5 minutes after boot. */
const INITIAL_JIFFIES = BigInt.asUintN(64, BigInt.asUintN(32, -300n * 1000n));
/** TAI is ahead of UTC by 37 s (leap seconds since 1972, as of 2017). */
const TAI_OFFSET_NS = 37_000_000_000n;
const AF_INET = 2;
const AF_INET6 = 10;
/**
 * signal_name()'s text of each signal number on x86-64 Linux: strsignal(3)'s, as bpftrace's own
 * table gives it (src/stdlib/strings/signal.h); real-time signals 34..64 are worked out.
 */
const SIGNAL_TEXT: readonly string[] = [
  'Unknown signal 0',
  'Hangup',
  'Interrupt',
  'Quit',
  'Illegal instruction',
  'Trace/breakpoint trap',
  'Aborted',
  'Bus error',
  'Floating point exception',
  'Killed',
  'User defined signal 1',
  'Segmentation fault',
  'User defined signal 2',
  'Broken pipe',
  'Alarm clock',
  'Terminated',
  'Stack fault',
  'Child exited',
  'Continued',
  'Stopped (signal)',
  'Stopped',
  'Stopped (tty input)',
  'Stopped (tty output)',
  'Urgent I/O condition',
  'CPU time limit exceeded',
  'File size limit exceeded',
  'Virtual timer expired',
  'Profiling timer expired',
  'Window changed',
  'I/O possible',
  'Power failure',
  'Bad system call',
  'Unknown signal 32',
  'Unknown signal 33',
  ...Array.from({ length: 31 }, (_, i) => `Real-time signal ${i}`),
];

/** A string's code units as bytes (`\xNN` escapes are one unit a byte), then its NUL. */
function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length + 1);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** The low `n` bytes of an integer, little-endian (x86-64's order). */
function leBytes(v: bigint, n: number): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(n * 8, v);
  for (let i = 0; i < n; i++, x >>= 8n) out.push(Number(x & 0xffn));
  return out;
}

/** inet_ntop: dotted quad for AF_INET, RFC 5952 text (longest run of zero groups as `::`) for AF_INET6. */
function formatInetAddress(family: number, bytes: readonly number[]): string {
  if (family !== AF_INET6) return bytes.slice(0, 4).join('.');
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  return bestAt < 0 ? hex(g) : `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

/** Where the simulated stack frames of probe bodies end (an x86-64 kernel stack address). */
const STACK_FRAME_TOP = 0xffffc90000400000n;

/** exit() was called: the firing stops there (no statement after it runs), as bpftrace's exit does. */
class ProbeExit {}
const PROBE_EXIT = new ProbeExit();

/** A tuple or record built at run time past MAX_VALUE_DEPTH or MAX_VALUE_ITEMS: the firing stops. */
class ValueTooBig {
  constructor(readonly warn: () => void) {}
}

/**
 * How deep and how big a tuple or record may grow at run time. bpftrace's types are fixed at
 * compile time; here `$t = ($t, $t)` in a loop would double each time.
 */
export const MAX_VALUE_DEPTH = 32;
export const MAX_VALUE_ITEMS = 10_000;

/** Every provider a program may name (lower case): the probe sites' and the ones the runtime fires itself. */
const PROVIDERS: Readonly<Record<string, ProbeProvider | SpecialProbe['kind']>> = {
  ...PROVIDER_ALIASES,
  begin: 'begin',
  end: 'end',
  i: 'interval',
  interval: 'interval',
  p: 'profile',
  profile: 'profile',
};

/** Nanoseconds per unit of an interval/profile period; `hz` is a rate, worked out apart. */
const UNIT_NS: Readonly<Record<string, number>> = { s: 1e9, ms: 1e6, us: 1e3, ns: 1, hz: 0 };

/**
 * strerror()'s text of each errno, as bpftrace's own table gives it (the kernel's wording,
 * src/stdlib/strings/errors.h): 'I/O error', not glibc's 'Input/output error'.
 */
const ERRNO_TEXT: Readonly<Record<number, string>> = {
  0: 'Success',
  1: 'Operation not permitted',
  2: 'No such file or directory',
  3: 'No such process',
  4: 'Interrupted system call',
  5: 'I/O error',
  6: 'No such device or address',
  7: 'Argument list too long',
  8: 'Exec format error',
  9: 'Bad file number',
  10: 'No child processes',
  11: 'Try again (operation would block)',
  12: 'Out of memory',
  13: 'Permission denied',
  14: 'Bad address',
  15: 'Block device required',
  16: 'Device or resource busy',
  17: 'File exists',
  18: 'Cross-device link',
  19: 'No such device',
  20: 'Not a directory',
  21: 'Is a directory',
  22: 'Invalid argument',
  23: 'File table overflow',
  24: 'Too many open files',
  25: 'Not a typewriter',
  26: 'Text file busy',
  27: 'File too large',
  28: 'No space left on device',
  29: 'Illegal seek',
  30: 'Read-only file system',
  31: 'Too many links',
  32: 'Broken pipe',
  33: 'Math argument out of domain of func',
  34: 'Math result not representable',
  35: 'Resource deadlock would occur',
  36: 'File name too long',
  37: 'No record locks available',
  38: 'Invalid system call number',
  39: 'Directory not empty',
  40: 'Too many symbolic links encountered',
  42: 'No message of desired type',
  43: 'Identifier removed',
  44: 'Channel number out of range',
  45: 'Level 2 not synchronized',
  46: 'Level 3 halted',
  47: 'Level 3 reset',
  48: 'Link number out of range',
  49: 'Protocol driver not attached',
  50: 'No CSI structure available',
  51: 'Level 2 halted',
  52: 'Invalid exchange',
  53: 'Invalid request descriptor',
  54: 'Exchange full',
  55: 'No anode',
  56: 'Invalid request code',
  57: 'Invalid slot',
  59: 'Bad font file format',
  60: 'Device not a stream',
  61: 'No data available',
  62: 'Timer expired',
  63: 'Out of streams resources',
  64: 'Machine is not on the network',
  65: 'Package not installed',
  66: 'Object is remote',
  67: 'Link has been severed',
  68: 'Advertise error',
  69: 'Srmount error',
  70: 'Communication error on send',
  71: 'Protocol error',
  72: 'Multihop attempted',
  73: 'RFS specific error',
  74: 'Not a data message',
  75: 'Value too large for defined data type',
  76: 'Name not unique on network',
  77: 'File descriptor in bad state',
  78: 'Remote address changed',
  79: 'Can not access a needed shared library',
  80: 'Accessing a corrupted shared library',
  81: '.lib section in a.out corrupted',
  82: 'Attempting to link in too many shared libraries',
  83: 'Cannot exec a shared library directly',
  84: 'Illegal byte sequence',
  85: 'Interrupted system call should be restarted',
  86: 'Streams pipe error',
  87: 'Too many users',
  88: 'Socket operation on non-socket',
  89: 'Destination address required',
  90: 'Message too long',
  91: 'Protocol wrong type for socket',
  92: 'Protocol not available',
  93: 'Protocol not supported',
  94: 'Socket type not supported',
  95: 'Operation not supported on transport endpoint',
  96: 'Protocol family not supported',
  97: 'Address family not supported by protocol',
  98: 'Address already in use',
  99: 'Cannot assign requested address',
  100: 'Network is down',
  101: 'Network is unreachable',
  102: 'Network dropped connection because of reset',
  103: 'Software caused connection abort',
  104: 'Connection reset by peer',
  105: 'No buffer space available',
  106: 'Transport endpoint is already connected',
  107: 'Transport endpoint is not connected',
  108: 'Cannot send after transport endpoint shutdown',
  109: 'Too many references: cannot splice',
  110: 'Connection timed out',
  111: 'Connection refused',
  112: 'Host is down',
  113: 'No route to host',
  114: 'Operation already in progress',
  115: 'Operation now in progress',
  116: 'Stale file handle',
  117: 'Structure needs cleaning',
  118: 'Not a XENIX named type file',
  119: 'No XENIX semaphores available',
  120: 'Is a named type file',
  121: 'Remote I/O error',
  122: 'Quota exceeded',
  123: 'No medium found',
  124: 'Wrong medium type',
  125: 'Operation Canceled',
  126: 'Required key not available',
  127: 'Key has expired',
  128: 'Key has been revoked',
  129: 'Key was rejected by service',
  130: 'Owner died',
  131: 'State not recoverable',
  132: 'Operation not possible due to RF-kill',
  133: 'Memory page has hardware error',
};

/** The values a bool getopt() option takes, lower case. */
const BOOL_WORDS: ReadonlyMap<string, boolean> = new Map([
  ['true', true],
  ['1', true],
  ['yes', true],
  ['false', false],
  ['0', false],
  ['no', false],
]);

const SYSCALL_NAMES = new Map<number, string>(Object.entries(SYSCALL_NR).map(([n, nr]) => [nr, n]));

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

const AGGREGATIONS: readonly AggKind[] = ['count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'lhist', 'tseries'];

function isAgg(e: A.Expr): boolean {
  return e.kind === 'Call' && (AGGREGATIONS as readonly string[]).includes(e.name);
}

function toBig(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  return valueToBigInt(v) ?? 0n;
}

function truthy(v: Value): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  return true;
}

/** A tracepoint field or BTF member as a script value. */
function fieldValue(v: BtfValue | number | string | readonly number[] | undefined): Value {
  if (v === undefined) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return new ArrayValue((v as readonly number[]).map((x) => BigInt(x)));
  return new ObjPointer(v as BtfPointer);
}

/** Compiles a parsed program against a booted machine's probe sites. */
export function compileProgram(program: A.Program, m: Machine, rt: ScriptRuntime, opts: CompileOptions): CompiledProgram {
  return new Compiler(program, m, rt, opts).run();
}

class Compiler {
  private readonly diags: Diagnostic[] = [];
  /** Static kind of each map's values and its type as bpftrace spells it, fixed by first use. */
  private readonly mapKinds = new Map<string, { kind: Kind | AggKind; typeName: string; type: SType }>();
  /** Whether each map has keys, fixed by its first use (see useMapShape). */
  private readonly mapShapes = new Map<string, boolean>();
  /** Shape checks on maps not used yet where they were called for, run at the end. */
  private readonly shapeChecks: (() => void)[] = [];
  /** `hist()` bits of each histogram map, fixed by its first use. */
  private readonly histBits = new Map<string, number>();
  /** `lhist()` bounds of each linear histogram map, fixed by its first use. */
  private readonly lhistBounds = new Map<string, { readonly min: number; readonly max: number; readonly step: number }>();
  /** Key types fixed by a map's first keyed use, as bpftrace fixes them: per element kind and spelled type. */
  private readonly mapKeys = new Map<string, { kinds: readonly Kind[]; typeName: string; type: SType }>();
  private currentSites: readonly ProbeSite[] = [];
  /** Static kinds of scratch variables, from their assignments. */
  private readonly varTypes = new Map<string, SType>();
  private typerMade: Typer | undefined;

  /** The type pass: each expression's static type, from what this compilation has fixed so far (made on first use, once the constructor has run). */
  private get typer(): Typer {
    return (this.typerMade ??= new Typer({
      program: this.program,
      userTypes: this.userTypes,
      positionalArgs: this.positionalArgs,
      varType: (name) => this.varTypes.get(name),
      mapType: (name) => this.mapKinds.get(name)?.type,
      sites: () => this.currentSites,
      compileDepth: () => this.compileDepth,
      configRecord: () => this.configRecord(),
    }));
  }
  /** Stack slots of the variables whose address is taken (`&$a`). */
  private readonly varSlots = new Map<string, number>();
  /** The script's own C declarations: structs, unions, enums. */
  private readonly userTypes = new UserTypes();
  /** Elements of the tuple literal a scratch variable was assigned, when every assignment agrees. */
  private readonly varTupleSizes = new Map<string, number | 'mixed'>();
  private currentSpecial: SpecialProbe | undefined;
  private scopes: Set<string>[] = [];
  /** `config = { missing_probes = ... }`: what an attach point that matches nothing does. */
  private missingProbes: 'error' | 'warn' | 'ignore' = 'error';
  /** `unstable_tseries`: bpftrace warns by default. */
  private unstableTseries: 'error' | 'warn' | 'enable' = 'warn';
  /** kprobe:FUNC of functions the kernel does not have (see resolveProbe). */
  private readonly unattachable: { probe: string; fatal: boolean }[] = [];
  /** Arguments after the script: `--name[=value]` ones are getopt()'s, the rest are $1..$N. */
  private readonly positionalArgs: readonly string[];
  private readonly namedArgs = new Map<string, string | true>();
  /** Macro expansions in progress (a macro may not expand itself). */
  private expanding: string[] = [];
  /** Where the macros being expanded were called, outermost first (errorf's "expanded from" lines). */
  private readonly macroCallSites: Loc[] = [];
  /**
   * Arguments of macro calls, substituted into the macro's body: each is compiled with the
   * expansions in progress where it was written, so `add_one(add_one(1))` is not recursion.
   */
  private readonly macroArgs = new Map<A.Expr, string[]>();
  private expansionCount = 0;
  private usesKstack = false;
  /** "did you mean" suggestions worked out so far (see MAX_SUGGESTIONS). */
  private suggestions = 0;
  /** `config = { max_strlen = N }`: the longest string literal is one byte less. */
  private maxStrlen = DEFAULT_MAX_STRLEN;
  /** `config = { max_map_keys = N }`: the keys of a map not declared with `let`. */
  private maxMapKeys = DEFAULT_MAX_MAP_KEYS;
  /** What one entry of each keyed map may take at most (estimated heap bytes), and where the map is first used. */
  private readonly mapEntryBytes = new Map<string, { loc: Loc; keyBytes: number; valueBytes: number }>();
  /** Statements and expressions being compiled, one inside the other (see enterLevel). */
  private compileDepth = 0;
  /** Statements and expressions compiled so far, macro bodies once per expansion. */
  private compiledNodes = 0;
  /** The program outgrew MAX_COMPILE_DEPTH or MAX_COMPILED_NODES (reported once; compiling stops). */
  private reportedTooBig = false;
  /** The outermost macro call being expanded: where a program that grows too big is reported. */
  private expansionSite: Loc | undefined;

  constructor(
    private readonly program: A.Program,
    private readonly m: Machine,
    private readonly rt: ScriptRuntime,
    private readonly opts: CompileOptions,
  ) {
    this.positionalArgs = opts.positional.filter((a) => !/^--\w/.test(a));
    for (const a of opts.positional) {
      const mm = /^--(\w[\w-]*)(?:=(.*))?$/.exec(a);
      if (mm) this.namedArgs.set(mm[1]!, mm[2] ?? true);
    }
  }

  run(): CompiledProgram {
    const probes: CompiledProbe[] = [];
    let attachCount = 0;
    for (const entry of this.program.config) {
      if (!CONFIG_KEYS.has(entry.key)) {
        this.diags.push(errorAt('bad_config: not a known configuration option', entry.loc));
      } else if (entry.key === 'license') {
        const v = entry.value.kind === 'string' || entry.value.kind === 'ident' ? entry.value.value : String(entry.value.value);
        if (!LICENSES.includes(v)) this.diags.push(errorAt(`Invalid value for license. Found: ${v}. Valid values: ${LICENSES.join(', ')}`, entry.loc));
      } else if (entry.key === 'unstable_tseries') {
        const v = entry.value;
        const mode = v.kind === 'string' || v.kind === 'ident' ? v.value : String(v.value);
        if (mode === 'error' || mode === 'warn' || mode === 'enable') this.unstableTseries = mode;
        else if (mode === 'true' || mode === '1') this.unstableTseries = 'enable';
        else if (mode === 'false' || mode === '0') this.unstableTseries = 'error';
      } else if (entry.key === 'missing_probes') {
        const v = entry.value;
        const mode = v.kind === 'string' || v.kind === 'ident' ? v.value : '';
        if (mode === 'error' || mode === 'warn' || mode === 'ignore') this.missingProbes = mode;
        else this.diags.push(errorAt(`Invalid value for missing_probes: valid values are error, warn, ignore`, entry.loc));
      }
    }
    this.checkSizes();
    // SIMPLIFICATION: a C definition kiotrace cannot read (kernel types it does not model) is skipped, as before
    for (const d of this.program.cDefinitions) this.userTypes.declare(d.text);
    for (const i of this.program.imports) {
      // SIMPLIFICATION: bpftrace imports .bt libraries from disk; a kiotrace script is one file
      this.diags.push(errorAt(`import "${i.path}": kiotrace does not import script files`, i.loc, { hint: 'put the macros and probes of the library in this script' }));
    }
    for (const p of this.program.probes) {
      const resolved = this.resolveProbe(p);
      if (!resolved) continue;
      for (const r of resolved) {
        this.currentSites = r.sites;
        this.currentSpecial = r.special;
        this.scopes = [new Set()];
        this.sawVars = false;
        const body = this.block(p.block);
        const pred = p.predicate ? this.expr(p.predicate) : undefined;
        const overBudget = this.repeatingWarning(
          p.loc,
          `probe exceeded its instruction budget of ${FIRING_BUDGET}; the rest of this firing was skipped`,
          (where, n) => `the probe at ${where} exceeded its instruction budget in ${n} firings`,
        );
        const run = (c: ExecCtx): void => {
          try {
            if (pred && !truthy(pred(c))) return;
            body(c);
          } catch (e) {
            // a runaway firing stops where it is, as the verifier would not have let it start
            if (e === PROBE_EXIT) return;
            if (e instanceof BudgetExceeded) overBudget();
            else if (e instanceof ValueTooBig) e.warn();
            else throw e;
          }
        };
        probes.push({ sites: r.sites, special: r.special, run, usesVars: this.sawVars });
        attachCount += r.special ? 1 : r.sites.length;
      }
    }
    for (const check of this.shapeChecks) check();
    this.checkNamedArgs();
    this.warnUnusedMaps();
    this.checkMapMemory();
    // (a probe whose function is missing under --unsafe is kept: it fails to attach when the program starts)
    // (one --probe-filter emptied is said as bpftrace says it, when the program would start: script.ts)
    if (probes.length === 0 && this.unattachable.length === 0 && !(this.opts.probeFilter !== undefined && this.program.probes.length > 0) && !this.diags.some((d) => d.severity === 'error')) {
      // bpftrace: "No probes to attach"; an empty program or one of only comments ends up here
      const first = this.program.probes[0];
      const end = this.opts.source.loc(this.opts.source.text.length, this.opts.source.text.length);
      this.diags.push(
        errorAt('No probes to attach', first?.loc ?? end, {
          hint: first ? 'config missing_probes skipped every probe of the program' : "a program needs a probe and its action, e.g. kprobe:vfs_read { @[comm] = count(); }",
        }),
      );
    }
    return { probes, diagnostics: this.diags, attachCount, usesKstack: this.usesKstack, unattachable: this.unattachable };
  }

  /**
   * Program options (`-- --name[=v]`) no getopt() reads are refused, and `-- --help` lists the
   * ones it reads with their descriptions, in bpftrace's words (globalvars.h UnknownParamError).
   */
  private checkNamedArgs(): void {
    const unexpected = [...this.namedArgs.keys()].filter((k) => !this.getoptNames.has(k));
    if (unexpected.length === 0) return;
    const help = unexpected.includes('help');
    const bad = unexpected.filter((k) => k !== 'help').map((k) => `--${k}`);
    const expected = [...this.getoptNames];
    const hint =
      expected.length === 0
        ? 'no custom program options defined.'
        : `expected program options:${help ? '\n' : ' '}${expected.map(([n, d]) => `--${n}${help && d !== '' ? `: ${d}` : ''}`).join(help ? '\n' : ': ')}`;
    this.diags.push(errorAt(bad.length > 0 ? `unexpected program command line options: ${bad.join(', ')}` : 'the program options (--help):', undefined, { hint }));
  }

  /** getopt() options the program reads, with their descriptions. */
  private readonly getoptNames = new Map<string, string>();

  /** `let @a = hash(N);` for a map no probe or macro names: bpftrace's "Unused map" warning. */
  private warnUnusedMaps(): void {
    // (said only of a program that compiles: a refused one has more pressing things to say)
    if (this.program.mapDecls.length === 0 || this.diags.some((d) => d.severity === 'error')) return;
    const used = new Set<string>();
    const stack: A.Node[] = [...this.program.probes, ...this.program.macros];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.kind === 'Map') used.add(n.name);
      stack.push(...childNodes(n));
    }
    for (const d of this.program.mapDecls) if (!used.has(d.name)) this.diags.push(warningAt(`Unused map: ${d.name}`, d.loc));
  }

  /**
   * A runtime warning at `loc` that may come back on every firing (see RepeatingWarnings): the
   * returned function is called at each; `summary` gets where it is (`stdin:1:3-9`) and the count.
   */
  private repeatingWarning(loc: Loc, message: string, summary: (where: string, n: number) => string): () => void {
    const where = this.sourceLocation(loc);
    const at = `${where.filename}:${formatLoc(loc)}`;
    return this.rt.warnings.add(
      (sink) => sink.runtimeError(message, where),
      (n) => summary(at, n),
    );
  }

  // ---- sizes ----------------------------------------------------------------------------------

  /**
   * max_strlen, max_map_keys and `let @m = hash(N)` within what the simulation can hold: each
   * map lives in memory, and a key can be a string of max_strlen bytes.
   */
  private checkSizes(): void {
    const config = new Map(this.program.config.map((c) => [c.key, c] as const));
    const memoryHint = { hint: 'kiotrace keeps every map in memory; a smaller max_strlen allows more keys' };
    const count = (key: string, min: number, max: number, extras: { hint?: string } = {}): number | undefined => {
      const entry = config.get(key);
      if (!entry) return undefined;
      const v = entry.value;
      if (v.kind !== 'int') {
        this.diags.push(errorAt(`${key}: expecting a number, got ${v.kind === 'string' ? JSON.stringify(v.value) : String(v.value)}`, entry.loc));
        return undefined;
      }
      if (v.value < BigInt(min) || v.value > BigInt(max)) {
        this.diags.push(errorAt(`${key} ${v.value} is out of range: it must be between ${min} and ${max}`, entry.loc, extras));
        return undefined;
      }
      return Number(v.value);
    };
    this.maxStrlen = count('max_strlen', 1, MAX_STRLEN_CEILING) ?? DEFAULT_MAX_STRLEN;
    const keysCeiling = maxMapKeysCeiling(this.maxStrlen);
    this.maxMapKeys = count('max_map_keys', 1, keysCeiling, memoryHint) ?? DEFAULT_MAX_MAP_KEYS;
    for (const d of this.program.mapDecls) {
      if (!MAP_DECL_TYPES.includes(d.mapType)) {
        this.diags.push(errorAt(`Invalid bpf map type: ${d.mapType}`, d.loc, { hint: `Valid map types: ${MAP_DECL_TYPES.join(', ')}` }));
      } else if (d.maxEntries < 1n || d.maxEntries > BigInt(keysCeiling)) {
        this.diags.push(errorAt(`${d.name}: max entries ${d.maxEntries} is out of range: it must be between 1 and ${keysCeiling}`, d.loc, memoryHint));
      } else {
        this.rt.store.declare(d.name, { maxEntries: Number(d.maxEntries), lru: d.mapType.includes('lru') });
      }
    }
  }

  /**
   * A map that would outgrow the maps' memory budget by itself, full with entries of the largest
   * kind its keys and values can be (strings of max_strlen, every histogram bucket), is refused:
   * at run time all maps share the budget and a new key that does not fit is refused.
   */
  private checkMapMemory(): void {
    const budget = this.rt.store.memoryBudgetBytes;
    const declared = new Map(this.program.mapDecls.map((d) => [d.name, Number(d.maxEntries)] as const));
    for (const [name, est] of this.mapEntryBytes) {
      if (this.mapShapes.get(name) !== true) continue;
      const keys = declared.get(name) ?? this.maxMapKeys;
      const entryBytes = MAP_ENTRY_BYTES + est.keyBytes + est.valueBytes;
      if (keys * entryBytes <= budget) continue;
      const fits = Math.max(1, Math.floor(budget / entryBytes));
      const how = declared.has(name) ? `declare it smaller: let ${name} = hash(${fits})` : `lower max_map_keys to ${fits} or declare the map smaller: let ${name} = hash(${fits})`;
      this.diags.push(
        errorAt(`${name}: ${keys} keys of up to ${formatBytes(entryBytes)} each could take ${formatBytes(keys * entryBytes)}, more than the ${formatBytes(budget)} kiotrace keeps for all maps`, est.loc, {
          hint: how,
        }),
      );
    }
  }

  /** What the key or value `e` may take in a map at most (estimated heap bytes): strings max_strlen long unless known shorter. */
  private staticBytes(e: A.Expr): number {
    if (e.kind === 'Tuple') return e.elements.reduce((n, x) => n + this.staticBytes(x), OBJECT_HEADER_BYTES);
    const kind = this.kindOf(e);
    if (kind === 'string') {
      if (e.kind === 'String') return stringBytes(e.value.length);
      if (e.kind === 'Builtin' && e.name === 'comm') return stringBytes(16);
      return stringBytes(this.maxStrlen);
    }
    return kind === 'int' || kind === 'bool' ? SMALL_VALUE_BYTES : OBJECT_HEADER_BYTES;
  }

  /** Notes the largest key or value a map is given (see checkMapMemory). */
  private noteEntryBytes(ref: A.MapRef, part: 'keyBytes' | 'valueBytes', bytes: number): void {
    const est = this.mapEntryBytes.get(ref.name);
    if (!est) this.mapEntryBytes.set(ref.name, { loc: ref.loc, keyBytes: 0, valueBytes: 0, [part]: bytes });
    else est[part] = Math.max(est[part], bytes);
  }

  // ---- attach points --------------------------------------------------------------------------

  private resolveProbe(p: A.Probe): { sites: ProbeSite[]; special: SpecialProbe | undefined }[] | undefined {
    const out: { sites: ProbeSite[]; special: SpecialProbe | undefined }[] = [];
    const sites: ProbeSite[] = [];
    // a wildcard that matches nothing next to attach points that match (dcsnoop's
    // `kprobe:lookup_fast, kprobe:lookup_fast.constprop.*`) expands to no probe, as in bpftrace
    /** An attach point skipped: a wildcard matching nothing, or any missing one under missing_probes = "warn". */
    let skipped = false;
    for (const ap of p.attachPoints) {
      const provider = ownValue(PROVIDERS, ap.provider.toLowerCase());
      if (provider === 'begin' || provider === 'end') {
        if (ap.parts.length > 0) {
          this.diags.push(errorAt(`${provider} probes do not take arguments`, ap.loc));
          return undefined;
        }
        out.push({ sites: [], special: { kind: provider } });
        continue;
      }
      if (provider === 'interval' || provider === 'profile') {
        const periodNs = this.periodNs(ap);
        if (periodNs === undefined) return undefined;
        out.push({ sites: [], special: { kind: provider, periodNs, raw: ap.raw } });
        continue;
      }
      if (provider === undefined && (ap.provider === 'software' || ap.provider === 's') && (ap.parts[0] === 'cpu-clock' || ap.parts[0] === 'cpu')) {
        // perf's cpu-clock software event: a per-CPU timer every N ns of time (default 1000000),
        // each firing a sample of what the CPU runs, as profile's
        const count = ap.parts.length === 1 ? 1_000_000 : ap.parts.length === 2 && /^\d+(?:e\d+)?$/.test(ap.parts[1]!) ? Number(ap.parts[1]) : NaN;
        if (!Number.isSafeInteger(count) || count <= 0) {
          this.diags.push(errorAt(`Invalid count for software probe: ${ap.raw}`, ap.loc));
          return undefined;
        }
        if (count < MIN_TIMER_PERIOD_NS) {
          this.diags.push(errorAt(`${ap.raw} fires every ${formatDuration(count)}: faster than the simulation can run (the shortest period is 10us)`, ap.loc, { hint: 'use a count of at least 10000 (ns)' }));
          return undefined;
        }
        out.push({ sites: [], special: { kind: 'profile', periodNs: count, raw: ap.raw } });
        continue;
      }
      if (provider === undefined) {
        this.diags.push(errorAt(unsupportedProbeType(ap.provider) ?? `Invalid probe type: ${ap.provider}`, ap.loc));
        return undefined;
      }
      // `kprobe:vmlinux:vfs_read`: the kernel image is the only module, so its name adds nothing
      const kernelModule = (provider === 'kprobe' || provider === 'kretprobe') && ap.parts.length === 2 && ap.parts[0] === 'vmlinux';
      const spec = `${provider}:${(kernelModule ? ap.parts.slice(1) : ap.parts).join(':')}`;
      if (spec.length > MAX_ATTACH_POINT_LENGTH) {
        this.diags.push(errorAt(`attach point too long: ${spec.length} characters, longer than any probe name (the limit is ${MAX_ATTACH_POINT_LENGTH})`, ap.loc));
        return undefined;
      }
      const found = resolveSpec(this.m, spec);
      if (found.length === 0) {
        // a suggestion costs a comparison with every site: only for the first few, short names
        let best: ProbeSite | undefined;
        let bestD = Infinity;
        if (this.suggestions++ < MAX_SUGGESTIONS && spec.length <= MAX_SUGGESTED_LENGTH) {
          for (const s of this.m.k.registry.all()) {
            if (s.provider !== provider) continue;
            const d = levenshtein(spec, s.fullName);
            if (d < bestD) {
              bestD = d;
              best = s;
            }
          }
        }
        const hint = best && bestD <= Math.max(3, Math.floor(spec.length / 4)) ? `did you mean '${best.fullName}'?` : undefined;
        const message = `No matches for ${provider} ${ap.parts.join(':')}`;
        const wildcard = /[*?]/.test(ap.parts.join(':'));
        if (this.missingProbes === 'ignore') continue;
        if (wildcard) {
          // a wildcard expands to the functions it matches, here none: the attach point goes away,
          // and a probe left with none is pruned (below)
          skipped = true;
          continue;
        }
        if ((provider === 'kprobe' || provider === 'kretprobe') && ap.parts.length === 2 && !kernelModule) {
          this.diags.push(errorAt(`specified module ${ap.parts[0]!} in probe ${ap.provider}:${ap.parts.join(':')} is not loaded.`, ap.loc, { hint: "the simulated kernel has no loadable modules: name the function alone, or as vmlinux:function" }));
          return undefined;
        }
        if (!wildcard && (provider === 'kprobe' || provider === 'kretprobe') && (ap.parts.length === 1 || kernelModule)) {
          // a function this kernel does not have (md_flush_request without md): bpftrace warns that
          // it is not traceable; with --unsafe it skips its check of the function list and fails to
          // attach it when the program starts (unattachable)
          const fn = ap.parts[ap.parts.length - 1]!;
          this.diags.push(warningAt(`${fn} is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail`, ap.loc));
          if (this.opts.unsafe) {
            this.unattachable.push({ probe: `${provider}:${ap.parts.join(':')}`, fatal: this.missingProbes === 'error' });
            continue;
          }
        }
        // Tools list alternative names (old and new kernels) and set missing_probes to skip the absent ones.
        if (this.missingProbes === 'warn') {
          this.diags.push(warningAt(`${message}. Skipping.`, ap.loc));
          skipped = true;
          continue;
        }
        this.diags.push(errorAt(`${message}.`, ap.loc, hint ? { hint } : {}));
        return undefined;
      }
      for (const s of found) if (!sites.includes(s)) sites.push(s);
    }
    if (skipped && sites.length === 0 && out.length === 0) {
      // bpftrace's probe_prune pass
      if (this.missingProbes === 'error') {
        this.diags.push(errorAt("Probe has no valid attach points. If this is expected, set the 'missing_probes' config variable to 'warn'.", p.loc));
        return undefined;
      }
      this.diags.push(warningAt('Probe has no valid attach points. It is being removed which may cause issues with program behavior.', p.loc));
    }
    if (sites.length > 0) out.push({ sites, special: undefined });
    const filter = this.opts.probeFilter;
    if (filter === undefined) return out;
    // --probe-filter keeps the attach points whose names match (BEGIN and END always run)
    return out.flatMap((r) => {
      if (r.special !== undefined) return r.special.kind === 'begin' || r.special.kind === 'end' || filter.test(r.special.raw) ? [r] : [];
      const kept = r.sites.filter((site) => filter.test(site.fullName));
      return kept.length > 0 ? [{ sites: kept, special: undefined }] : [];
    });
  }

  private periodNs(ap: A.AttachPoint): number | undefined {
    // interval:s:1, interval:ms:100, interval:hz:10, interval:1s, interval:100
    let unit = 'ns';
    let amount = '';
    if (ap.parts.length === 2) {
      unit = ap.parts[0]!;
      amount = ap.parts[1]!;
    } else if (ap.parts.length === 1) {
      const mm = /^(\d+)(ns|us|ms|s|hz)?$/.exec(ap.parts[0]!);
      if (mm) {
        amount = mm[1]!;
        unit = mm[2] ?? 'ns';
      }
    }
    const n = Number(amount);
    const unitNs = ownValue(UNIT_NS, unit);
    const periodNs = unit === 'hz' ? Math.round(1e9 / n) : n * (unitNs ?? NaN);
    if (unitNs === undefined || !/^\d+$/.test(amount) || n <= 0 || !Number.isSafeInteger(periodNs)) {
      this.diags.push(errorAt(`Invalid rate of ${ap.provider} probe: ${ap.raw}`, ap.loc));
      return undefined;
    }
    if (periodNs < MIN_TIMER_PERIOD_NS) {
      this.diags.push(
        errorAt(`${ap.raw} fires every ${formatDuration(periodNs)}: faster than the simulation can run (the shortest period is 10us, 100000 Hz)`, ap.loc, {
          hint: `use a longer period, e.g. ${ap.provider}:hz:99 or ${ap.provider}:ms:1`,
        }),
      );
      return undefined;
    }
    return periodNs;
  }

  // ---- statements -----------------------------------------------------------------------------

  private block(b: A.Block): StmtFn {
    const stop = b.stmts.findIndex(endsFlow);
    if (stop >= 0 && stop + 1 < b.stmts.length) this.diags.push(warningAt('Unreachable statement.', b.stmts[stop + 1]!.loc));
    this.scopes.push(new Set());
    const stmts = b.stmts.map((s) => this.stmt(s));
    this.scopes.pop();
    return (c) => {
      for (let i = 0; i < stmts.length; i++) {
        const f = stmts[i]!(c);
        if (f !== Flow.Normal) return f;
      }
      return Flow.Normal;
    };
  }

  private tick(c: ExecCtx, loc: A.Stmt['loc']): void {
    if (--c.budget < 0) throw new BudgetExceeded(loc);
  }

  /**
   * Counts one level of the tree being compiled; past MAX_COMPILE_DEPTH (only macros that expand
   * into macros get there: the parser bounds everything else) reports it once and says no.
   */
  private enterLevel(loc: Loc): boolean {
    if (this.reportedTooBig) return false;
    if (++this.compiledNodes > MAX_COMPILED_NODES) {
      this.reportedTooBig = true;
      this.diags.push(errorAt(`program too large after macro expansion: more than ${MAX_COMPILED_NODES} statements and expressions`, this.expansionSite ?? loc));
      return false;
    }
    if (++this.compileDepth <= MAX_COMPILE_DEPTH) return true;
    this.compileDepth--;
    this.reportedTooBig = true;
    this.diags.push(errorAt(`nested too deeply after macro expansion: more than ${MAX_COMPILE_DEPTH} levels`, this.expansionSite ?? loc));
    return false;
  }

  private stmt(s: A.Stmt): StmtFn {
    if (!this.enterLevel(s.loc)) return () => Flow.Normal;
    try {
      return this.stmtNode(s);
    } finally {
      this.compileDepth--;
    }
  }

  private stmtNode(s: A.Stmt): StmtFn {
    switch (s.kind) {
      case 'Block':
        return this.block(s);
      case 'ExprStmt': {
        const e = this.expr(s.expr);
        return (c) => {
          this.tick(c, s.loc);
          e(c);
          return Flow.Normal;
        };
      }
      case 'Assign':
        return this.assign(s);
      case 'Let': {
        this.declareVar(s.variable.name);
        const declared = s.type ? this.typer.specType(s.type) : undefined;
        if (declared) this.varTypes.set(s.variable.name, declared);
        else if (s.init) this.varTypes.set(s.variable.name, variableType(this.typer.typeOf(s.init), s.init));
        const init = s.init ? this.expr(s.init) : undefined;
        const name = s.variable.name;
        return (c) => {
          c.vars.set(name, init ? init(c) : 0n);
          return Flow.Normal;
        };
      }
      case 'If': {
        const cond = this.expr(s.cond);
        const then = this.block(s.then);
        const els = s.else ? (s.else.kind === 'If' ? this.stmt(s.else) : this.block(s.else)) : undefined;
        return (c) => {
          this.tick(c, s.loc);
          if (truthy(cond(c))) return then(c);
          return els ? els(c) : Flow.Normal;
        };
      }
      case 'While': {
        this.diags.push(warningAt('while loops are deprecated; use a for loop over a range', s.loc));
        const cond = this.expr(s.cond);
        const body = this.block(s.body);
        const cut = this.repeatingWarning(
          s.loc,
          `while loop stopped after ${MAX_LOOP_ITERATIONS} iterations; the rest of the loop was skipped`,
          (where, n) => `the while loop at ${where} was stopped after ${MAX_LOOP_ITERATIONS} iterations in ${n} firings`,
        );
        return (c) => {
          let n = 0;
          while (truthy(cond(c))) {
            this.tick(c, s.loc);
            if (++n > MAX_LOOP_ITERATIONS) {
              cut();
              break;
            }
            const f = body(c);
            if (f === Flow.Break) break;
            if (f === Flow.Return) return f;
          }
          return Flow.Normal;
        };
      }
      case 'ForRange': {
        const start = this.expr(s.start);
        const end = this.expr(s.end);
        this.scopes.push(new Set([s.variable.name]));
        this.varTypes.set(s.variable.name, variableType(this.typer.typeOf(s.start), s.start));
        const body = this.block(s.body);
        this.scopes.pop();
        const name = s.variable.name;
        return (c) => {
          const hi = toBig(end(c));
          for (let i = toBig(start(c)); i < hi; i++) {
            this.tick(c, s.loc);
            c.vars.set(name, i);
            const f = body(c);
            if (f === Flow.Break) break;
            if (f === Flow.Return) return f;
          }
          return Flow.Normal;
        };
      }
      case 'ForMap': {
        this.requireMapShape(s.map, true, `${s.map.name} has no explicit keys (scalar map), and cannot be used for iteration`);
        const name = s.variable.name;
        const mapName = s.map.name;
        this.scopes.push(new Set([name]));
        this.varTypes.set(name, tupleT([this.mapKeys.get(mapName)?.type ?? UNKNOWN_T, this.mapKinds.get(mapName)?.type ?? UNKNOWN_T]));
        const body = this.block(s.body);
        this.scopes.pop();
        return (c) => {
          const map = this.rt.store.get(mapName);
          if (!map) return Flow.Normal;
          for (const e of map.entries()) {
            this.tick(c, s.loc);
            c.vars.set(name, tuple(e.key ?? 0n, map.read(e)));
            const f = body(c);
            if (f === Flow.Break) break;
            if (f === Flow.Return) return f;
          }
          return Flow.Normal;
        };
      }
      case 'Unroll': {
        // the count is fixed when the program compiles: a literal, literal arithmetic or a positional parameter
        const positional = s.count.kind === 'Positional' ? this.positionalArgs[s.count.index - 1] : undefined;
        const asNumber = positional !== undefined ? positionalNumber(positional) : undefined;
        const folded = s.count.kind === 'Positional' ? (asNumber !== undefined && asNumber >= 0n ? { value: asNumber } : undefined) : foldLiterals(s.count);
        let n = NaN;
        if (folded === undefined) {
          this.diags.push(
            errorAt(s.count.kind === 'Positional' ? `unroll count ${positional === undefined ? 'is not given' : `'${positional}' is not an integer`}: the parameter $${s.count.index} must be an integer` : 'unroll count must be an integer literal', s.count.loc, {
              hint: 'the count is fixed when the program compiles, e.g. unroll(5); loop a count known only at run time with for ($i : 0..$n)',
            }),
          );
        } else if (!('value' in folded)) this.diags.push(errorAt(folded.error, folded.loc));
        else {
          n = Number(folded.value);
          if (!(n >= 1)) this.diags.push(errorAt('unroll minimum value is 1', s.count.loc));
          else if (n > 100) this.diags.push(errorAt('unroll maximum value is 100', s.count.loc));
        }
        const body = this.block(s.body);
        return (c) => {
          for (let i = 0; i < n; i++) {
            const f = body(c);
            if (f === Flow.Break) break;
            if (f === Flow.Return) return f;
          }
          return Flow.Normal;
        };
      }
      case 'Return':
        return () => Flow.Return;
      case 'Break':
        return () => Flow.Break;
      case 'Continue':
        return () => Flow.Continue;
    }
  }

  /** A printf-style call's text: the format string literal and its checked arguments. */
  /**
   * A string literal an argument stands for: itself, or what a call of a macro without parameters
   * expands to when its body is one string literal (macros expand before printf checks its
   * format, as in bpftrace: `macro fmt() { "hi" } ... printf(fmt())`).
   */
  private stringLiteral(a: A.Expr | undefined, depth = 0): A.StringLit | undefined {
    if (a === undefined) return undefined;
    if (a.kind === 'String') return a;
    if (a.kind !== 'Call' || a.args.length !== 0 || depth > 16) return undefined;
    const macro = this.program.macros.find((d) => d.name === a.name && d.params.length === 0);
    const only = macro?.block.stmts.length === 1 ? macro.block.stmts[0] : undefined;
    return only?.kind === 'ExprStmt' ? this.stringLiteral(only.expr, depth + 1) : undefined;
  }

  private formatted(e: A.Call): ExprFn<string> | undefined {
    const [fmtArg0, ...rest] = e.args;
    const fmtArg = this.stringLiteral(fmtArg0);
    if (!fmtArg) {
      this.diags.push(errorAt(`${e.name}() expects a string literal as the first argument`, fmtArg0?.loc ?? e.loc));
      return undefined;
    }
    const parsed = parsePrintf(fmtArg.value);
    for (const spec of parsed.specs) {
      if (spec.width !== undefined && spec.width > MAX_PRINTF_FIELD) {
        this.diags.push(errorAt(`${e.name}: the field width of ${spec.text} is over the limit of ${MAX_PRINTF_FIELD}`, fmtArg.loc));
      } else if (spec.precision !== undefined && spec.precision > MAX_PRINTF_FIELD) {
        this.diags.push(errorAt(`${e.name}: the precision of ${spec.text} is over the limit of ${MAX_PRINTF_FIELD}`, fmtArg.loc));
      }
    }
    // kinds the checker cannot see statically are taken as integers (C's default promotion)
    const types: PrintfArgType[] = rest.map((a) => {
      if (this.typer.typeOf(a).kind === 'buffer') return { kind: 'buffer', name: typeName(this.typer.typeOf(a)) };
      const k = this.kindOf(a);
      return { kind: k === 'string' ? 'string' : k === 'bool' ? 'bool' : k === 'pointer' ? 'pointer' : k === 'tuple' ? 'other' : 'integer', name: k };
    });
    const err = checkPrintfArgs(parsed, types);
    if (err) this.diags.push(errorAt(err, e.loc));
    const fns = rest.map((a) => this.expr(a));
    const fmt = compilePrintf(fmtArg.value);
    return (c) => fmt(fns.map((f) => f(c)));
  }

  /** Whether the probe being compiled touches scratch variables. */
  private sawVars = false;

  private declareVar(name: string): void {
    this.sawVars = true;
    this.scopes[this.scopes.length - 1]!.add(name);
  }

  private varKnown(name: string): boolean {
    return this.scopes.some((s) => s.has(name));
  }

  private noteMap(ref: A.MapRef, kind: Kind | AggKind, keyed: boolean, value?: A.Expr, useLoc: Loc = ref.loc): void {
    if (!this.useMapShape(ref, keyed, useLoc)) return;
    if (value) this.noteEntryBytes(ref, 'valueBytes', this.staticBytes(value));
    else if (kind === 'int') this.noteEntryBytes(ref, 'valueBytes', SMALL_VALUE_BYTES);
    const prev = this.mapKinds.get(ref.name);
    const typeName = value ? this.bpftraceTypeName(value, kind) : kind;
    if (!prev) {
      this.mapKinds.set(ref.name, { kind, typeName, type: value ? this.typer.typeOf(value) : kind === 'int' || (AGGREGATIONS as readonly string[]).includes(kind) ? INT64_T : UNKNOWN_T });
      return;
    }
    if (prev.kind !== kind && prev.kind !== 'none' && kind !== 'none' && !(isIntLike(prev.kind) && isIntLike(kind))) {
      this.diags.push(errorAt(`Type mismatch for ${ref.name}: trying to assign value of type '${typeName}' when map already has a type '${prev.typeName}'`, ref.loc));
    }
  }

  /**
   * A use of a map with a key (`@m[k]`) or without (`@m`): the first fixes which the map is, as
   * bpftrace's scalar and non-scalar maps; a later use the other way is an error, at `loc`
   * (the access with its key, or the bare map). False when it was one.
   */
  private useMapShape(ref: A.MapRef, keyed: boolean, loc: Loc): boolean {
    const prev = this.mapShapes.get(ref.name);
    if (prev === undefined) {
      this.mapShapes.set(ref.name, keyed);
      return true;
    }
    if (prev === keyed) return true;
    this.diags.push(
      errorAt(
        keyed
          ? `${ref.name} used as a map with an explicit key (non-scalar map), previously used without an explicit key (scalar map)`
          : `${ref.name} used as a map without an explicit key (scalar map), previously used with an explicit key (non-scalar map)`,
        loc,
      ),
    );
    return false;
  }

  /**
   * has_key(), len(), delete() and for-loops need a map with keys (or without): checked now if
   * the map's shape is known, else once the whole program has been compiled.
   */
  private requireMapShape(ref: A.MapRef, keyed: boolean, message: string): void {
    const check = (): void => {
      const shape = this.mapShapes.get(ref.name);
      if (shape !== undefined && shape !== keyed) this.diags.push(errorAt(message, ref.loc));
    };
    if (this.mapShapes.has(ref.name)) check();
    else this.shapeChecks.push(check);
  }

  /** Compiles a map key, refusing one whose types differ from the map's first key (int vs string, or arity). */
  private mapKey(ref: A.MapRef, key: A.Expr): ExprFn {
    const parts = key.kind === 'Tuple' ? key.elements : [key];
    const keyType = this.typer.typeOf(key);
    // a tuple held in a variable is a key of its elements (`let $k = (tid, 1); @m[$k]` is `@m[tid, 1]`)
    const heldTuple = key.kind !== 'Tuple' && keyType.kind === 'tuple' ? keyType.items : undefined;
    const kinds = heldTuple ? heldTuple.map(kindOfType) : parts.map((p) => this.kindOf(p));
    const names = heldTuple ? heldTuple.map(typeName) : parts.map((p, i) => this.bpftraceTypeName(p, kinds[i]!));
    const typeName_ = kinds.length > 1 ? `(${names.join(',')})` : names[0]!;
    if (!heldTuple) this.noteEntryBytes(ref, 'keyBytes', parts.reduce((n, p) => n + this.staticBytes(p), (parts.length - 1) * KEY_LEVEL_BYTES));
    const prev = this.mapKeys.get(ref.name);
    const thisType = key.kind === 'Tuple' ? tupleT(parts.map((p) => this.typer.typeOf(p))) : keyType;
    if (!prev) {
      this.mapKeys.set(ref.name, { kinds, typeName: typeName_, type: thisType });
    } else if (prev.kinds.length !== kinds.length || kinds.some((k, i) => !keyKindsCompatible(prev.kinds[i]!, k))) {
      this.diags.push(errorAt(`Argument mismatch for ${ref.name}: trying to access with arguments: '${typeName_}' when map expects arguments: '${prev.typeName}'`, key.loc));
    }
    const compiled = this.expr(key);
    // the map's first key fixes whether its keys print as enum names (`@[ONE]`) or numbers
    if (prev && hasEnum(thisType) && !hasEnum(prev.type)) return (c) => withoutEnums(compiled(c));
    return compiled;
  }

  /**
   * The type as bpftrace spells it in messages: literals get the smallest signed type (0.26),
   * strings their size with the NUL (`string[2]` for "a"), builtins their kernel types.
   */
  private bpftraceTypeName(e: A.Expr, kind: Kind | AggKind): string {
    const t = this.typer.typeOf(e);
    if (t.kind === 'unknown') return kind === 'int' ? 'int64' : kind;
    return typeName(t);
  }

  private assign(s: A.Assign): StmtFn {
    const target = s.target;
    if (target.kind === 'Variable') {
      const name = target.name;
      this.declareVar(name);
      const before = this.varTypes.get(name);
      const assigned = this.typer.typeOf(s.value);
      // a record assigned to a variable that holds one takes the variable's field order (bpftrace's type is fixed by the first)
      const order = s.op === '=' && before !== undefined ? fieldOrder(before, assigned) : undefined;
      if (order) {
        const value = this.expr(s.value);
        return (c) => {
          this.tick(c, s.loc);
          const v = value(c);
          c.vars.set(name, v instanceof RecordValue ? new RecordValue(order.map((n) => [n, v.get(n) ?? 0n] as const)) : v);
          return Flow.Normal;
        };
      }
      if (s.op === '=') {
        this.varTypes.set(name, variableType(assigned, s.value));
        const size = s.value.kind === 'Tuple' ? s.value.elements.length : 'mixed';
        const before = this.varTupleSizes.get(name);
        this.varTupleSizes.set(name, before === undefined || before === size ? size : 'mixed');
      }
      const value = s.op === '=' ? this.rememberingArg(s.value, this.expr(s.value)) : this.expr(s.value);
      if (s.op === '=') {
        return (c) => {
          this.tick(c, s.loc);
          c.vars.set(name, value(c));
          return Flow.Normal;
        };
      }
      const op = s.op.slice(0, -1) as A.BinaryOp;
      if (this.typer.typeOf(target).kind === 'pointer') {
        // `$p += 1` on a pointer: pointer arithmetic, scaled by the pointee's size
        const next = this.expr({ kind: 'Binary', loc: s.loc, op, left: target, right: s.value });
        return (c) => {
          this.tick(c, s.loc);
          c.vars.set(name, next(c));
          return Flow.Normal;
        };
      }
      const divideByZero = op === '/' || op === '%' ? this.divisorCheck(op, s.value, s.loc) : undefined;
      return (c) => {
        this.tick(c, s.loc);
        c.vars.set(name, binop(op, c.vars.get(name) ?? 0n, value(c), divideByZero));
        return Flow.Normal;
      };
    }
    const ref = target.kind === 'Map' ? target : target.map;
    const keyed = target.kind === 'MapAccess';
    const key = target.kind === 'MapAccess' ? this.mapKey(ref, target.key) : undefined;
    const mapName = ref.name;
    const store0 = this.rt.store;
    if (s.value.kind === 'Call' && isAgg(s.value)) {
      if (s.op !== '=') this.diags.push(errorAt(`${s.value.name}() must be assigned directly to a map`, s.value.loc));
      return this.aggregate(s, s.value, ref, keyed, key);
    }
    const blockAgg = s.value.kind === 'BlockExpr' ? blockValue(s.value.block) : undefined;
    if (s.op === '=' && s.value.kind === 'BlockExpr' && blockAgg?.kind === 'Call' && isAgg(blockAgg)) {
      // `@ = { let $a = 100; avg($a) }`: the block's statements, then the aggregation of its value
      this.scopes.push(new Set());
      const stmts = s.value.block.stmts.slice(0, -1).map((st) => this.stmt(st));
      const update = this.aggregate(s, blockAgg, ref, keyed, key);
      this.scopes.pop();
      return (c) => {
        for (let i = 0; i < stmts.length; i++) stmts[i]!(c);
        return update(c);
      };
    }
    const op = s.op === '=' ? undefined : (s.op.slice(0, -1) as A.BinaryOp);
    if (op !== undefined && this.typer.typeOf(target).kind === 'pointer') {
      // `@p += 1` on a pointer: pointer arithmetic, scaled by the pointee's size
      const next = this.expr({ kind: 'Binary', loc: s.loc, op, left: target, right: s.value });
      return (c) => {
        this.tick(c, s.loc);
        store0.map(mapName).assign(key ? key(c) : undefined, next(c));
        return Flow.Normal;
      };
    }
    const firstType = this.mapKinds.get(mapName)?.type;
    this.noteMap(ref, this.kindOf(s.value), keyed, s.value, target.loc);
    const rawValue = s.op === '=' ? this.rememberingArg(s.value, this.expr(s.value)) : this.expr(s.value);
    // the map's first value fixes whether its values print as enum names or numbers
    const value: ExprFn = firstType !== undefined && hasEnum(this.typer.typeOf(s.value)) && !hasEnum(firstType) ? (c) => withoutEnums(rawValue(c)) : rawValue;
    const store = this.rt.store;
    if (s.op === '=') {
      return (c) => {
        this.tick(c, s.loc);
        const v = value(c);
        store.map(mapName).assign(key ? key(c) : undefined, v);
        return Flow.Normal;
      };
    }
    if (op === undefined) throw new Error('unreachable: a plain assignment returned above');
    const divideByZero = op === '/' || op === '%' ? this.divisorCheck(op, s.value, s.loc) : undefined;
    return (c) => {
      this.tick(c, s.loc);
      const map = store.map(mapName);
      const k = key ? key(c) : undefined;
      if (op === '+' || op === '-') {
        const d = toBig(value(c));
        map.increment(k, op === '+' ? d : -d);
      } else {
        map.assign(k, binop(op, map.get(k), value(c), divideByZero));
      }
      return Flow.Normal;
    };
  }

  private aggregate(s: A.Assign, call: A.Call, ref: A.MapRef, keyed: boolean, key: ExprFn | undefined): StmtFn {
    const kind = call.name as AggKind;
    this.noteMap(ref, kind, keyed, undefined, s.target.loc);
    const mapName = ref.name;
    const store = this.rt.store;
    const args = call.args.map((a) => this.expr(a));
    const want: Readonly<Record<AggKind, [number, number]>> = {
      count: [0, 0],
      sum: [1, 1],
      avg: [1, 1],
      min: [1, 1],
      max: [1, 1],
      stats: [1, 1],
      hist: [1, 2],
      lhist: [4, 4],
      tseries: [3, 4],
    };
    const [lo, hi] = want[kind];
    if (call.args.length < lo || call.args.length > hi) {
      this.diags.push(errorAt(`${kind}() requires ${lo === hi ? lo : `${lo} or ${hi}`} argument${hi === 1 ? '' : 's'} (${call.args.length} provided)`, call.loc));
      return () => Flow.Normal;
    }
    if (call.args[0] !== undefined) this.requireInteger(call, call.args[0]);
    /** A literal argument's value; a negative literal is a `-` applied to one. NaN for anything else. */
    const literal = (i: number): number => {
      const a = call.args[i];
      if (a?.kind === 'Int') return Number(a.value);
      // a numeric positional parameter is a literal (bpftrace substitutes it)
      const p = a?.kind === 'Positional' ? this.positionalArgs[a.index - 1] : undefined;
      const pn = p !== undefined ? positionalNumber(p) : undefined;
      if (pn !== undefined) return Number(pn);
      if (a?.kind === 'Unary' && a.op === '-' && a.operand.kind === 'Int') return -Number(a.operand.value);
      return NaN;
    };
    const v = args[0];
    const k = (c: ExecCtx): Value | undefined => (key ? key(c) : undefined);
    let update: (c: ExecCtx, map: BpfMap) => boolean;
    switch (kind) {
      case 'count':
        update = (c, map) => map.count(k(c));
        break;
      case 'sum': {
        const vn = call.args[0] !== undefined ? this.numeric(call.args[0]) : undefined;
        update = vn !== undefined ? (c, map) => map.sum(k(c), vn(c)) : (c, map) => map.sum(k(c), toBig(v!(c)));
        break;
      }
      case 'avg':
        update = (c, map) => map.avg(k(c), toBig(v!(c)));
        break;
      case 'min':
        update = (c, map) => map.min(k(c), toBig(v!(c)));
        break;
      case 'max':
        update = (c, map) => map.max(k(c), toBig(v!(c)));
        break;
      case 'stats':
        update = (c, map) => map.stats(k(c), toBig(v!(c)));
        break;
      case 'hist': {
        const bits = call.args.length > 1 ? literal(1) : 0;
        if (Number.isNaN(bits)) this.diags.push(errorAt('hist: invalid bits value, need integer literal', call.args[1]!.loc));
        else if (!(bits >= 0 && bits <= 5)) this.diags.push(errorAt(`hist: bits ${bits} must be 0..5`, call.loc));
        else {
          const first = this.histBits.get(mapName);
          if (first === undefined) this.histBits.set(mapName, bits);
          else if (first !== bits) this.diags.push(errorAt(`hist: bits ${bits} on ${mapName}, which is a histogram with bits ${first}`, call.loc));
        }
        if (!Number.isNaN(bits)) this.noteEntryBytes(ref, 'valueBytes', bucketsBytes(histBucketCount(Math.min(5, Math.max(0, bits)))));
        const vn = call.args[0] !== undefined ? this.numeric(call.args[0]) : undefined;
        update = vn !== undefined ? (c, map) => map.hist(k(c), vn(c), bits) : (c, map) => map.hist(k(c), toBig(v!(c)), bits);
        break;
      }
      case 'lhist': {
        // bpftrace's checks (pre_type_check.cpp): literals, step >= 1, min < max, <= 1000 buckets
        const [mn, mx, st] = [literal(1), literal(2), literal(3)];
        const problems = Number.isNaN(mn)
          ? ['lhist: invalid min value (must be non-negative literal)']
          : Number.isNaN(mx)
            ? ['lhist: invalid max value (must be non-negative literal)']
            : Number.isNaN(st)
              ? ['lhist: invalid step value']
              : checkLhistArgs(mn, mx, st);
        for (const p of problems) this.diags.push(errorAt(p, call.loc));
        if (problems.length === 0) {
          const bounds = { min: mn, max: mx, step: st };
          const first = this.lhistBounds.get(mapName);
          if (first === undefined) this.lhistBounds.set(mapName, bounds);
          else if (first.min !== mn || first.max !== mx || first.step !== st) {
            // the buckets are fixed by the first: the map's later updates would land in the wrong ones
            this.diags.push(
              errorAt('Different lhist bounds in a single map unsupported', call.loc, {
                hint: `${mapName} is an lhist(n, ${first.min}, ${first.max}, ${first.step}) where it is first used; use the same bounds or another map`,
              }),
            );
          }
          this.noteEntryBytes(ref, 'valueBytes', bucketsBytes(lhistBucketCount(bounds)));
        }
        update = (c, map) => map.lhist(k(c), toBig(v!(c)), mn, mx, st);
        break;
      }
      case 'tseries': {
        const a = this.tseriesArgs(call, mapName, literal);
        if (a === undefined) return () => Flow.Normal;
        this.noteEntryBytes(ref, 'valueBytes', bucketsBytes(3 * a.numIntervals));
        // the time is bpftrace's sw_tai clock, or a map's value under BPFTRACE_DUMMY_TS_MAP
        const dummy = this.opts.dummyTsMap;
        const taiNs = (this.opts.epochNs ?? 0n) + TAI_OFFSET_NS;
        const now = dummy !== undefined ? () => BigInt.asUintN(64, toBig(store.map(dummy).get())) : (c: ExecCtx) => taiNs + BigInt(c.nowNs);
        update = (c, map) => map.tseries(k(c), toBig(v!(c)), now(c), a);
        break;
      }
    }
    // the map object lives as long as the program (clear() empties it), so look it up once
    let map: BpfMap | undefined;
    return (c) => {
      this.tick(c, s.loc);
      map ??= store.map(mapName);
      // a full map refuses the update and reports it itself (through the store's warnings)
      update(c, map);
      return Flow.Normal;
    };
  }

  /** tseries()'s literal interval, count and aggregation, checked as bpftrace checks them; the same for every use of a map. */
  private tseriesArgs(call: A.Call, mapName: string, literal: (i: number) => number): TseriesArgs | undefined {
    if (this.unstableTseries === 'error') {
      this.diags.push(errorAt('Feature not enabled by default. To enable this unstable feature, set the config flag to enable. unstable_tseries=enable', call.loc));
      return undefined;
    }
    if (this.unstableTseries === 'warn' && !this.warnedTseries) {
      this.warnedTseries = true;
      this.diags.push(warningAt('Script is using an unstable feature: tseries. To prevent this warning you must explicitly enable it in the config e.g. unstable_tseries=enable'));
    }
    const [intervalNs, numIntervals] = [literal(1), literal(2)];
    if (Number.isNaN(intervalNs)) this.diags.push(errorAt('tseries: invalid interval_ns value (must be non-negative literal)', call.loc));
    else if (Number.isNaN(numIntervals)) this.diags.push(errorAt('tseries: invalid num_intervals value (must be non-negative literal)', call.loc));
    else if (intervalNs <= 0) this.diags.push(errorAt(`tseries() interval_ns must be >= 1 (${intervalNs} provided)`, call.loc));
    else if (numIntervals <= 0) this.diags.push(errorAt(`tseries() num_intervals must be >= 1 (${numIntervals} provided)`, call.loc));
    else if (numIntervals > 1_000_000) this.diags.push(errorAt(`tseries() num_intervals must be < 1000000 (${numIntervals} provided)`, call.loc));
    else {
      const aggArg = call.args[3];
      let agg: TseriesAgg = 'none';
      if (aggArg !== undefined) {
        const name = aggArg.kind === 'String' ? aggArg.value : '';
        if (name !== 'avg' && name !== 'max' && name !== 'min' && name !== 'sum') {
          this.diags.push(errorAt(`tseries() expects one of the following aggregation functions: avg, max, min, sum ("${name}" provided)`, call.loc));
          return undefined;
        }
        agg = name;
      }
      const vt = call.args[0] !== undefined ? this.typer.typeOf(call.args[0]) : INT64_T;
      const a: TseriesArgs = { intervalNs: BigInt(intervalNs), numIntervals, agg, signed: !(vt.kind === 'int' && !vt.signed) };
      const first = this.tseriesFirst.get(mapName);
      if (first === undefined) this.tseriesFirst.set(mapName, a);
      else if (first.intervalNs !== a.intervalNs || first.numIntervals !== a.numIntervals || first.agg !== a.agg) {
        this.diags.push(errorAt('Different tseries bounds in a single map unsupported', call.loc));
      }
      return a;
    }
    return undefined;
  }

  /** tseries() arguments of each map, fixed by its first use. */
  private readonly tseriesFirst = new Map<string, TseriesArgs>();
  private warnedTseries = false;

  // ---- expressions ----------------------------------------------------------------------------

  /** The static kind of an expression (what the older checks look at), from its type. */
  private kindOf(e: A.Expr): Kind {
    return kindOfType(this.typer.typeOf(e));
  }

  /**
   * Code giving an integer expression's value as a plain JS number, when its static type says
   * that is exact (builtins the simulator keeps as numbers below 2^53, literals that fit);
   * undefined otherwise (the bigint code is used). Typed code generation's first step.
   */
  private numeric(e: A.Expr): ((c: ExecCtx) => number) | undefined {
    if (e.kind === 'Int') {
      const v = Number(e.value);
      return Number.isSafeInteger(v) ? () => v : undefined;
    }
    if (e.kind !== 'Builtin') return undefined;
    const site = this.currentSites[0];
    switch (e.name) {
      case 'pid':
        return (c) => c.pid;
      case 'tid':
        return (c) => c.tid;
      case 'cpu':
        return (c) => c.cpu;
      case 'ioid':
        return (c) => c.ioId;
      case 'nsecs':
        return (c) => c.nowNs;
      case 'retval':
        return site?.provider === 'kretprobe' ? (c) => c.hit?.retval ?? 0 : undefined;
      default: {
        const mm = /^arg(\d+)$/.exec(e.name);
        if (!mm || site?.provider !== 'kprobe') return undefined;
        const i = Number(mm[1]);
        return (c) => c.hit?.argValue(i) ?? 0;
      }
    }
  }

  private kmem: KernelMemory | undefined;

  /** The simulated kernel's variables by name and address (made on first use). */
  private kernelMemory(): KernelMemory {
    return (this.kmem ??= new KernelMemory(this.m));
  }

  /**
   * Kernel objects whose address a script turned into a number ((uint64)$vfsmnt), by address:
   * the object at its own address and at the view's (an embedded struct's). Bounded: the oldest
   * are forgotten.
   */
  private readonly kernelObjects = new Map<number, object>();

  private rememberObject(p: BtfPointer): void {
    const base = 'kaddr' in p.obj && typeof p.obj.kaddr === 'number' ? p.obj.kaddr : undefined;
    for (const addr of base === undefined || base === p.addr ? [p.addr] : [p.addr, base]) this.rememberAt(addr, p.obj);
  }

  private rememberAt(addr: number, obj: object): void {
    this.kernelObjects.delete(addr);
    this.kernelObjects.set(addr, obj);
    if (this.kernelObjects.size > KERNEL_OBJECTS_KEPT) this.kernelObjects.delete(this.kernelObjects.keys().next().value!);
  }

  /**
   * `$sk = arg0`, `@sk[tid] = retval`: an argument (or return value) that is a kernel object kept
   * as its address is remembered, so a later `(struct sock *)$sk` reads the object as bpftrace
   * would read the memory. Other values are stored as they are, at no cost.
   */
  private rememberingArg(value: A.Expr, fn: ExprFn): ExprFn {
    if (value.kind !== 'Builtin') return fn;
    const argMatch = /^arg(\d+)$/.exec(value.name);
    if (!argMatch && value.name !== 'retval') return fn;
    const i = argMatch ? Number(argMatch[1]) : -1;
    return (c) => {
      const v = fn(c);
      const raw = i >= 0 ? c.hit?.args[i] : c.hit?.retObject;
      if (typeof raw === 'object' && raw !== null && typeof v === 'bigint' && v !== 0n) this.rememberAt(Number(v), raw);
      return v;
    };
  }

  /** `(struct mount *)(addr - offsetof(struct mount, mnt))`: the object a remembered address belongs to. */
  private knownKernelObject(structName: string, v: Value): ObjPointer | undefined {
    if (typeof v !== 'bigint') return undefined;
    const addr = Number(v);
    const obj = this.kernelObjects.get(addr);
    return obj ? new ObjPointer({ structName, obj, addr }) : undefined;
  }

  /**
   * config() as bpftrace builds it (ast/passes/builtins.cpp): every option in its order, the
   * program's `config = { ... }` values over the defaults.
   */
  private configRecord(): readonly (readonly [string, bigint | boolean | string])[] {
    const set = new Map<string, A.ConfigValue>();
    for (const e of this.program.config) set.set(e.key, e.value);
    const bool = (k: string, d: boolean): readonly [string, boolean] => {
      const v = set.get(k);
      return [k, v === undefined ? d : v.kind === 'bool' ? v.value : v.kind === 'int' ? v.value !== 0n : v.value === 'true'];
    };
    const str = (k: string, d: string): readonly [string, string] => {
      const v = set.get(k);
      return [k, v === undefined ? d : String(v.value)];
    };
    const int = (k: string, d: bigint): readonly [string, bigint] => {
      const v = set.get(k);
      return [k, v?.kind === 'int' ? v.value : d];
    };
    return [
      bool('cpp_demangle', true),
      bool('lazy_symbolication', true),
      bool('print_maps_on_exit', true),
      bool('use_blazesym', false),
      bool('show_debug_info', false),
      int('log_size', 1_000_000n),
      int('max_bpf_progs', 1024n),
      int('max_cat_bytes', 10240n),
      ['max_map_keys', BigInt(this.maxMapKeys)],
      int('max_probes', 1024n),
      ['max_strlen', BigInt(this.maxStrlen)],
      int('on_stack_limit', 32n),
      int('perf_rb_pages', 0n),
      str('str_trunc_trailer', '..'),
      str('unstable_import_statement', 'error'),
      ['unstable_tseries', this.unstableTseries],
      str('unstable_typeinfo', 'error'),
      str('unstable_dw_ustack', 'warn'),
      ['missing_probes', this.missingProbes],
      str('stack_mode', 'bpftrace'),
      str('license', 'GPL'),
    ];
  }

  /** `(struct rq *)percpu_kaddr("runqueues", 0)`: a kernel variable at that address, as the struct it is. */
  private kernelVariable(structName: string, v: Value): ObjPointer | undefined {
    if (typeof v !== 'bigint') return undefined;
    const found = this.kernelMemory().objectAt(v);
    return found && found.structName === structName ? new ObjPointer(found) : undefined;
  }

  /** The task a firing runs in (undefined in BEGIN/END). */
  private currentTask(c: ExecCtx): Task | undefined {
    return this.m.k.tasks.find((t) => t.pid === c.tid);
  }

  /**
   * What the current task's memory holds at a user address, as a typed pointer to `structName`:
   * the structs and arrays a syscall's caller handed the kernel (mm.userStructs). Undefined when
   * nothing is there.
   */
  private userObject(c: ExecCtx, structName: string, v: Value): ObjPointer | undefined {
    if (typeof v !== 'bigint' || v === 0n) return undefined;
    const addr = Number(v);
    const obj = this.currentTask(c)?.mm?.userStructs.get(addr);
    return obj ? new ObjPointer({ structName, obj, addr }) : undefined;
  }

  /** `typeof(x)` as the type it stands for, written out (what casts look at); other types as they are. */
  private writtenType(t: A.TypeSpec): A.TypeSpec {
    if (t.kind !== 'TypeofType') return t;
    const st = this.typer.specType(t);
    if (st === undefined) {
      this.diags.push(errorAt(`The type of ${printType(t)} is not known when the program compiles`, t.loc));
      return { kind: 'NamedType', loc: t.loc, name: 'int64' };
    }
    const spec = (x: SType): A.TypeSpec => {
      switch (x.kind) {
        case 'pointer':
          return { kind: 'PointerType', loc: t.loc, to: spec(x.to) };
        case 'array':
          return { kind: 'ArrayType', loc: t.loc, of: spec(x.of), size: x.size };
        case 'struct':
          return { kind: 'TaggedType', loc: t.loc, tag: x.union ? 'union' : 'struct', name: x.name };
        case 'enum':
          return { kind: 'TaggedType', loc: t.loc, tag: 'enum', name: x.name };
        default:
          return { kind: 'NamedType', loc: t.loc, name: typeName(x) };
      }
    };
    return spec(st);
  }

  private expr(e: A.Expr): ExprFn {
    if (!this.enterLevel(e.loc)) return () => 0n;
    const callerExpanding = this.macroArgs.get(e);
    const inMacro = this.expanding;
    if (callerExpanding !== undefined) this.expanding = callerExpanding;
    try {
      return this.exprNode(e);
    } finally {
      this.expanding = inMacro;
      this.compileDepth--;
    }
  }

  private exprNode(e: A.Expr): ExprFn {
    switch (e.kind) {
      case 'Int': {
        const v = e.value;
        return () => v;
      }
      case 'String': {
        const v = e.value;
        const bytes = byteLength(v);
        if (bytes > this.maxStrlen - 1) {
          // bpftrace's message (pre_type_check.cpp), the string shortened to what says which it is
          const shown = v.length > 40 ? `${v.slice(0, 40)}...` : v;
          this.diags.push(errorAt(`String is too long (over ${this.maxStrlen} bytes): ${shown}`, e.loc, { hint: 'raise config max_strlen' }));
        }
        // a C string ends at its first NUL: "hello\0world" is "hello" to every function that reads it
        const nul = v.indexOf('\0');
        const text = nul >= 0 ? v.slice(0, nul) : v;
        return () => text;
      }
      case 'Bool': {
        const v = e.value;
        return () => v;
      }
      case 'Builtin':
        return this.builtin(e);
      case 'Identifier': {
        // an enum constant from BTF (TCP_SYN_SENT): bpftrace resolves these without headers
        const enumValue = BTF_ENUMS.get(e.name);
        if (enumValue !== undefined) {
          const v = BigInt(enumValue);
          return () => v;
        }
        const wrapped = /^__builtin_(\w+)$/.exec(e.name)?.[1];
        if (wrapped !== undefined && isBuiltin(wrapped)) return this.builtin({ kind: 'Builtin', loc: e.loc, name: wrapped });
        const constant = this.userTypes.constants.get(e.name);
        if (constant) {
          const v = new SymbolValue(e.name, constant.value);
          return () => v;
        }
        // a macro without parameters may be used as a bare name (`if sysname { ... }`)
        const macro = this.program.macros.find((d) => d.name === e.name && d.params.length === 0);
        if (macro) return this.expandMacro(macro, { kind: 'Call', loc: e.loc, name: e.name, args: [] });
        this.diags.push(errorAt(`Unknown identifier: '${e.name}'`, e.loc));
        return () => 0n;
      }
      case 'Variable': {
        if (!this.varKnown(e.name)) this.diags.push(errorAt(`Undefined or undeclared variable: ${e.name}`, e.loc));
        const name = e.name;
        return (c) => c.vars.get(name) ?? 0n;
      }
      case 'Positional': {
        const raw = this.positionalArgs[e.index - 1];
        if (raw === undefined) return () => 0n;
        const v: Value = positionalNumber(raw) ?? raw;
        return () => v;
      }
      case 'PositionalCount': {
        const n = BigInt(this.positionalArgs.length);
        return () => n;
      }
      case 'Map': {
        this.useMapShape(e, false, e.loc);
        const name = e.name;
        const store = this.rt.store;
        return () => store.map(name).get(undefined);
      }
      case 'MapAccess': {
        this.useMapShape(e.map, true, e.loc);
        const name = e.map.name;
        const key = this.mapKey(e.map, e.key);
        const store = this.rt.store;
        return (c) => store.map(name).get(key(c));
      }
      case 'Tuple': {
        const items = e.elements.map((x) => this.expr(x));
        // only a tuple holding values of unknown shape can grow (`$t = ($t, $t)`)
        if (e.elements.every((x) => this.holdsPlainValue(x))) return (c) => new TupleValue(items.map((f) => f(c)));
        const tooBig = this.valueTooBig(e.loc);
        return (c) => {
          const t = new TupleValue(items.map((f) => f(c)));
          if (t.extent.depth > MAX_VALUE_DEPTH || t.extent.size > MAX_VALUE_ITEMS) throw tooBig;
          return t;
        };
      }
      case 'Record': {
        // (duplicate names are a syntax error in the parser)
        const fields = e.fields.map((f) => [f.name, this.expr(f.value)] as const);
        if (e.fields.every((f) => this.holdsPlainValue(f.value))) return (c) => new RecordValue(fields.map(([n, f]) => [n, f(c)] as const));
        const tooBig = this.valueTooBig(e.loc);
        return (c) => {
          const r = new RecordValue(fields.map(([n, f]) => [n, f(c)] as const));
          if (r.extent.depth > MAX_VALUE_DEPTH || r.extent.size > MAX_VALUE_ITEMS) throw tooBig;
          return r;
        };
      }
      case 'Binary': {
        const folded = foldLiterals(e);
        if (folded !== undefined) return this.constant(folded);
        const l = this.expr(e.left);
        const r = this.expr(e.right);
        const op = e.op;
        const resultType = this.typer.typeOf(e);
        if (resultType.kind === 'pointer' && (op === '+' || op === '-')) {
          const scale = BigInt(this.userTypes.sizeOf(resultType.to) ?? 1);
          const [ptr, n] = this.typer.typeOf(e.left).kind === 'pointer' ? [l, r] : [r, l];
          const sign = op === '-' ? -1n : 1n;
          const name = typeName(resultType);
          return (c) => {
            const p = ptr(c);
            const delta = sign * scale * toBig(n(c));
            return p instanceof PointerValue ? p.moved(delta, name) : new PointerValue(toBig(p) + delta, name);
          };
        }
        if (op === '/' || op === '%') {
          // a string or a tuple has no quotient (the division gave 0 and said nothing)
          for (const side of [e.left, e.right]) {
            const kind = this.kindOf(side);
            if (kind === 'string' || kind === 'tuple') {
              this.diags.push(errorAt(`The ${op} operator can not be used on a ${kind}`, side.loc, { hint: `${op === '/' ? 'division' : 'modulo'} takes integers` }));
              return () => 0n;
            }
          }
          const divideByZero = this.divisorCheck(op, e.right, e.loc);
          return (c) => binop(op, l(c), r(c), divideByZero);
        }
        if (op === '&&') return (c) => truthy(l(c)) && truthy(r(c));
        if (op === '||') return (c) => truthy(l(c)) || truthy(r(c));
        // integer comparisons are the usual predicates: give them a closure each, without the switch
        const lk = this.kindOf(e.left);
        const rk = this.kindOf(e.right);
        // both sides plain numbers (builtins, small literals): compared without making bigints
        const ln = this.numeric(e.left);
        const rn = this.numeric(e.right);
        if (ln !== undefined && rn !== undefined) {
          switch (op) {
            case '<':
              return (c) => ln(c) < rn(c);
            case '<=':
              return (c) => ln(c) <= rn(c);
            case '>':
              return (c) => ln(c) > rn(c);
            case '>=':
              return (c) => ln(c) >= rn(c);
            case '==':
              return (c) => ln(c) === rn(c);
            case '!=':
              return (c) => ln(c) !== rn(c);
          }
        }
        if (lk === 'int' && rk === 'int') {
          switch (op) {
            case '<':
              return (c) => toBig(l(c)) < toBig(r(c));
            case '<=':
              return (c) => toBig(l(c)) <= toBig(r(c));
            case '>':
              return (c) => toBig(l(c)) > toBig(r(c));
            case '>=':
              return (c) => toBig(l(c)) >= toBig(r(c));
            case '==':
              return (c) => toBig(l(c)) === toBig(r(c));
            case '!=':
              return (c) => toBig(l(c)) !== toBig(r(c));
          }
        }
        return (c) => binop(op, l(c), r(c));
      }
      case 'Unary':
        return this.unary(e);
      case 'Ternary': {
        const cond = this.expr(e.cond);
        const then = e.then ? this.expr(e.then) : undefined;
        const els = this.expr(e.else);
        return (c) => {
          const v = cond(c);
          return truthy(v) ? (then ? then(c) : v) : els(c);
        };
      }
      case 'FieldAccess':
        return this.field(e);
      case 'TupleAccess': {
        const objectKind = this.kindOf(e.object);
        if (objectKind === 'int' || objectKind === 'string' || objectKind === 'bool') {
          this.diags.push(errorAt(`Can not access index '${e.index}' on expression of type '${this.bpftraceTypeName(e.object, objectKind)}'`, e.loc));
          return () => 0n;
        }
        const size = this.tupleSize(e.object);
        if (size !== undefined && e.index >= size) {
          this.diags.push(errorAt(`Invalid tuple index: ${e.index}. Found ${size} elements in tuple.`, e.loc));
          return () => 0n;
        }
        const obj = this.expr(e.object);
        const i = e.index;
        return (c) => {
          const t = obj(c);
          return t instanceof TupleValue ? (t.items[i] ?? 0n) : 0n;
        };
      }
      case 'Index': {
        const obj = this.expr(e.object);
        const idx = this.expr(e.index);
        return (c) => {
          const o = obj(c);
          const i = Number(toBig(idx(c)));
          if (o instanceof ArrayValue) return o.items[i] ?? 0n;
          if (typeof o === 'string') return BigInt(o.charCodeAt(i) || 0);
          if (o instanceof TupleValue) return o.items[i] ?? 0n;
          return 0n;
        };
      }
      case 'Cast':
        return this.cast(e);
      case 'Call':
        return this.call(e);
      case 'Sizeof': {
        const sizeBytes = e.type ? this.typeSizeBytes(e.type) : this.exprSizeBytes(e.expr!);
        return sizeBytes === undefined ? () => 0n : () => sizeBytes;
      }
      case 'TypeExpr':
        this.diags.push(errorAt(`${printType(e.type)} is a type, not a value`, e.loc, { hint: 'a typeof() argument of a macro can be used where a type is written: casts, sizeof, let annotations' }));
        return () => 0n;
      case 'BlockExpr': {
        const value = blockValue(e.block);
        this.scopes.push(new Set());
        const stmts = (value ? e.block.stmts.slice(0, -1) : e.block.stmts).map((st) => this.stmt(st));
        const v = value ? this.expr(value) : undefined;
        this.scopes.pop();
        return (c) => {
          for (let i = 0; i < stmts.length; i++) stmts[i]!(c);
          return v ? v(c) : 0n;
        };
      }
      case 'Offsetof': {
        const t = e.type ? this.typer.specType(e.type) : this.typer.typeOf(e.expr!);
        const declared = t?.kind === 'struct' ? this.userTypes.structs.get(t.name) : undefined;
        if (declared) {
          // `offsetof(struct Foo, a.b)`: the member's offset, through embedded structs
          let offset = 0;
          let layout = declared;
          for (const [i, f] of e.fields.entries()) {
            const field = layout.fields.find((x) => x.name === f);
            if (!field) {
              this.diags.push(errorAt(`'struct ${layout.name}' has no field named '${f}'`, e.loc));
              return () => 0n;
            }
            offset += field.offsetBytes;
            const inner = field.type.kind === 'struct' ? this.userTypes.structs.get(field.type.name) : undefined;
            if (i < e.fields.length - 1) {
              if (!inner) {
                this.diags.push(errorAt(`'${f}' is not a struct: offsetof cannot look inside it`, e.loc));
                return () => 0n;
              }
              layout = inner;
            }
          }
          const v = BigInt(offset);
          return () => v;
        }
        if (t?.kind === 'struct' && BTF.has(t.name)) {
          // a kernel struct: its members' offsets from the layouts kiotrace gives (through embedded structs)
          let offset = 0;
          let structName = t.name;
          for (const f of e.fields) {
            const member = BTF.get(structName)?.members.get(f);
            if (!member) {
              this.diags.push(errorAt(`'struct ${structName}' has no field named '${f}'`, e.loc));
              return () => 0n;
            }
            const at = BTF_LAYOUTS.get(structName)?.offsets.get(f);
            if (at === undefined) {
              this.diags.push(errorAt(`offsetof(struct ${structName}, ${f}): kiotrace gives this member no offset`, e.loc, { hint: `the kernel structs with a layout: ${[...BTF_LAYOUTS.keys()].join(', ')}` }));
              return () => 0n;
            }
            offset += at;
            structName = /^struct (\w+)$/.exec(member.type)?.[1] ?? '';
          }
          const v = BigInt(offset);
          return () => v;
        }
        this.diags.push(errorAt(`offsetof: ${t ? typeName(t) : 'this type'} is not a struct`, e.loc));
        return () => 0n;
      }
    }
  }

  private builtin(e: A.Builtin): ExprFn {
    const special = this.currentSpecial;
    const site = this.currentSites[0];
    const alias = this.typer.taskAlias(e.name, undefined, e.loc);
    if (alias) return this.expr(alias);
    switch (e.name) {
      case 'pid':
        return (c) => BigInt(c.pid);
      case 'tid':
        return (c) => BigInt(c.tid);
      case 'uid':
      case 'gid':
        return () => 0n;
      case 'comm':
        return (c) => c.comm;
      case 'nsecs':
        return (c) => BigInt(c.nowNs);
      case 'elapsed':
        return (c) => BigInt(c.nowNs - this.rt.startNs);
      case 'cpu':
        return (c) => BigInt(c.cpu);
      case 'ncpus': {
        const n = BigInt(this.m.k.sched.cpus.length);
        return () => n;
      }
      case 'jiffies':
        // jiffies_64 at HZ=1000, from INITIAL_JIFFIES (the kernel starts it 5 minutes before wrapping 32 bits)
        return (c) => BigInt.asUintN(64, INITIAL_JIFFIES + BigInt(Math.floor(c.nowNs / 1e6)));
      case 'numaid':
        // SIMPLIFICATION: the simulated machine is one NUMA node
        return () => 0n;
      case 'usermode': {
        // whether the probe interrupted user-space code: BEGIN/END run in bpftrace's own process; a
        // timer sample in whatever its CPU ran; kernel probes in the kernel
        if (special?.kind === 'begin' || special?.kind === 'end') return () => 1n;
        if (special?.kind === 'profile' || special?.kind === 'interval') {
          return (c) => {
            const t = this.currentTask(c);
            return t !== undefined && !t.inKernel ? 1n : 0n;
          };
        }
        return () => 0n;
      }
      case 'username':
        // SIMPLIFICATION: every simulated task runs as root (uid 0)
        return () => 'root';
      case 'probetype': {
        // the probe's provider; begin, end and the timers are bpftrace's "special" probes... except interval and profile, named as themselves
        const kind = site ? site.provider : special?.kind === 'interval' || special?.kind === 'profile' ? special.kind : 'special';
        return () => kind;
      }
      case 'cgroup':
        // the task's cgroup v2 id. SIMPLIFICATION: the memory cgroup's id plus one (the root cgroup's kernfs id is 1)
        return (c) => {
          const t = this.currentTask(c);
          return BigInt(t?.memcg ? t.memcg.id + 1 : 1);
        };
      case 'config': {
        // the configuration in effect, as a record (config().max_strlen)
        const cfg = new RecordValue(this.configRecord().map(([k, v]) => [k, v] as const));
        return () => cfg;
      }
      case 'ioid':
        return (c) => BigInt(c.ioId);
      case 'probe':
        return (c) => c.probeName;
      case 'func':
        if (!site || site.provider === 'tracepoint' || site.provider === 'rawtracepoint') {
          // a begin, end, interval or profile probe runs in no kernel function
          const where = site ? 'tracepoint' : (special?.kind ?? 'tracepoint');
          this.diags.push(errorAt(`The func builtin can not be used with ${where} probes`, e.loc, { hint: 'func is the traced function of a kprobe or kretprobe' }));
        }
        return (c) => new SymbolValue(c.probeName.slice(c.probeName.lastIndexOf(':') + 1), 0n);
      case 'retval':
        if (!site || (site.provider !== 'kretprobe' && site.provider !== 'fexit')) {
          this.diags.push(errorAt('The retval builtin can only be used with kretprobe and uretprobe probes', e.loc));
        }
        return (c) => BigInt(c.hit?.retval ?? 0);
      case 'args': {
        if (!site || (site.provider !== 'tracepoint' && site.provider !== 'fentry' && site.provider !== 'fexit')) {
          this.diags.push(errorAt('The args builtin can only be used with tracepoint/fentry/uprobe probes', e.loc));
          return () => 0n;
        }
        // the whole record, as print(args) prints it: `{ .dev = 8388608, .sector = 2048, ... }`
        return (c) => new RecordValue((c.hit?.site.fields ?? site.fields).map(([, name]) => [name, fieldValue(c.hit?.fields[name])] as const));
      }
      case 'curtask':
        return (c) => {
          const t = this.currentTask(c);
          return t ? new ObjPointer({ structName: 'task_struct', obj: t, addr: t.kaddr }) : 0n;
        };
      case 'rand':
        return (c) => BigInt((c.nowNs * 2654435761) % 4294967296);
      case 'kstack':
        this.usesKstack = true;
        return (c) => this.rt.kstack(c, KSTACK_DEFAULT_LIMIT);
      case 'ustack':
        // the simulated program's call chain at this point (probes/ustack.ts)
        return (c) => formatUserStack(this.currentTask(c), KSTACK_DEFAULT_LIMIT);
      default: {
        const mm = /^arg(\d+)$/.exec(e.name);
        if (mm) {
          if (!site || (site.provider !== 'kprobe' && site.provider !== 'rawtracepoint')) this.diags.push(errorAt('The arg builtins can only be used with kprobe, uprobe and usdt probes', e.loc));
          const i = Number(mm[1]);
          return (c) => BigInt(c.hit?.argValue(i) ?? 0);
        }
        this.diags.push(errorAt(`Unknown builtin variable: '${e.name}'`, e.loc));
        return () => 0n;
      }
    }
  }

  private field(e: A.FieldAccess): ExprFn {
    if (e.object.kind === 'Builtin' && e.object.name === 'args') {
      const sites = this.currentSites;
      if (sites.length === 0 || (sites[0]!.provider !== 'tracepoint' && sites[0]!.provider !== 'fentry' && sites[0]!.provider !== 'fexit')) {
        this.diags.push(errorAt('The args builtin can only be used with tracepoint/fentry/uprobe probes', e.object.loc));
        return () => 0n;
      }
      for (const s of sites) {
        if (!s.fields.some((f) => f[1] === e.field)) {
          this.diags.push(errorAt(`Can't find field '${e.field}' in struct for ${s.fullName}`, e.loc));
          return () => 0n;
        }
      }
      const name = e.field;
      const struct = argStructName(sites[0]!.fields.find((f) => f[1] === name)![0]);
      if (struct !== undefined) {
        // a syscall's struct pointer (nanosleep's rqtp): what the caller put at that user address
        return (c) => {
          const v = fieldValue(c.hit?.fields[name]);
          return this.userObject(c, struct, v) ?? v;
        };
      }
      return (c) => fieldValue(c.hit?.fields[name]);
    }
    const structName = this.staticStruct(e.object);
    const objectKind = structName === undefined ? this.kindOf(e.object) : 'pointer';
    if (objectKind === 'int' || objectKind === 'string' || objectKind === 'bool') {
      this.diags.push(errorAt(`Can not access field '${e.field}' on expression of type '${this.bpftraceTypeName(e.object, objectKind)}'`, e.loc));
      return () => 0n;
    }
    // the script's own declaration of a struct: wholly its own, or one naming members kiotrace's kernel struct of that name lacks
    const declared = structName !== undefined && !BTF.get(structName)?.members.has(e.field) ? this.userTypes.structs.get(structName) : undefined;
    if (declared) {
      if (!declared.fields.some((f) => f.name === e.field)) {
        this.diags.push(errorAt(`Struct/union of type 'struct ${structName}' does not contain a field named '${e.field}'`, e.loc));
      }
      // SIMPLIFICATION: a declared struct's memory is not modeled (only the kernel's objects are); its members read as 0
      return () => 0n;
    }
    if (structName !== undefined && !BTF.get(structName)?.members.has(e.field)) {
      this.diags.push(errorAt(`Struct/union of type 'struct ${structName}' does not contain a field named '${e.field}'`, e.loc));
      return () => 0n;
    }
    const obj = this.expr(e.object);
    const name = e.field;
    const m = this.m;
    return (c) => {
      const o = obj(c);
      if (o instanceof ObjPointer) {
        const member = BTF.get(o.ptr.structName)?.members.get(name);
        if (!member) return 0n;
        return fieldValue(member.read(o.ptr.obj, m));
      }
      if (o instanceof TupleValue) return o.items[Number(name)] ?? 0n;
      if (o instanceof RecordValue) return o.get(name) ?? 0n;
      return 0n;
    };
  }

  /** How many elements the tuple `e` has, when it is known statically: a literal, or a variable only ever assigned literals of one size. */
  private tupleSize(e: A.Expr): number | undefined {
    if (e.kind === 'Tuple') return e.elements.length;
    if (e.kind === 'Variable') {
      const size = this.varTupleSizes.get(e.name);
      return typeof size === 'number' ? size : undefined;
    }
    return undefined;
  }

  /** The BTF struct an expression points to, when known statically: casts and member chains. */
  private staticStruct(e: A.Expr): string | undefined {
    if (e.kind === 'Cast') return castStructName(e.type);
    if (e.kind === 'Builtin' && e.name === 'curtask') return 'task_struct';
    if (e.kind === 'FieldAccess') {
      const outer = this.staticStruct(e.object);
      const type = outer !== undefined ? BTF.get(outer)?.members.get(e.field)?.type : undefined;
      // `struct request_queue *` and embedded `struct qstr` both lead to a struct's members
      const mm = type !== undefined ? /^struct (\w+)\s*\*?$/.exec(type) : null;
      return mm && BTF.has(mm[1]!) ? mm[1] : undefined;
    }
    return undefined;
  }

  /** sizeof(type): C's sizes on x86-64 for scalars, pointers and arrays of them. */
  private typeSizeBytes(t: A.TypeSpec): bigint | undefined {
    switch (t.kind) {
      case 'TypeofType': {
        const st = this.typer.specType(t);
        const size = st !== undefined ? this.userTypes.sizeOf(st) : undefined;
        if (size === undefined) this.diags.push(errorAt(`sizeof: the size of ${printType(t)} is not known`, t.loc));
        return size === undefined ? undefined : BigInt(size);
      }
      case 'PointerType':
        return 8n;
      case 'ArrayType': {
        const of = this.typeSizeBytes(t.of);
        if (of === undefined) return undefined;
        if (t.size === undefined) {
          this.diags.push(errorAt('sizeof: an array without a size has no size', t.loc));
          return undefined;
        }
        return of * BigInt(t.size);
      }
      case 'NamedType': {
        const scalar = scalarTypeByName(t.name);
        const bytes = scalar !== undefined && scalar.kind !== 'void' ? this.userTypes.sizeOf(scalar) : undefined;
        if (bytes !== undefined) return BigInt(bytes);
        this.diags.push(errorAt(`Unknown type: '${t.name}'`, t.loc));
        return undefined;
      }
      case 'TaggedType': {
        if (t.tag === 'enum') return 4n;
        const declared = this.userTypes.structs.get(t.name);
        if (declared) return BigInt(declared.sizeBytes);
        const kernelSize = BTF.has(t.name) ? BTF_LAYOUTS.get(t.name)?.sizeBytes : undefined;
        if (kernelSize) return BigInt(kernelSize);
        // SIMPLIFICATION: the simulated BTF names members and their C types, not their layout.
        this.diags.push(
          errorAt(`sizeof(${t.tag} ${t.name}): kiotrace's kernel types describe members, not their layout`, t.loc, {
            hint: 'sizeof works on integer, pointer and array types and the structs the script declares, e.g. sizeof(u64) or sizeof(char[16])',
          }),
        );
        return undefined;
      }
    }
  }

  /** sizeof(expr): the size of the value's static type, where the type is known without BTF layout. */
  private exprSizeBytes(e: A.Expr): bigint | undefined {
    if (e.kind === 'TypeExpr') return this.typeSizeBytes(e.type);
    if (e.kind === 'Cast') return this.typeSizeBytes(e.type);
    // `sizeof(u64)`: a bare word there is a type name
    if (e.kind === 'Identifier') return this.typeSizeBytes({ kind: 'NamedType', loc: e.loc, name: e.name });
    const kind = this.kindOf(e);
    if (kind === 'pointer') return 8n;
    // bpftrace stores integer map values as 64-bit
    if (kind === 'int' && (e.kind === 'Map' || e.kind === 'MapAccess')) return 8n;
    const size = this.userTypes.sizeOf(this.typer.typeOf(e));
    if (size !== undefined) return BigInt(size);
    this.diags.push(errorAt('sizeof: the size of this expression is not known; cast it to a type first, e.g. sizeof((uint32)pid)', e.loc));
    return undefined;
  }

  /**
   * The expression can only give an integer, string or bool: a literal, a builtin, arithmetic,
   * a function that is not a macro. Variables and maps can hold anything.
   */
  private holdsPlainValue(e: A.Expr): boolean {
    switch (e.kind) {
      case 'Int':
      case 'String':
      case 'Bool':
      case 'Builtin':
      case 'Positional':
      case 'PositionalCount':
      case 'Binary':
      case 'Sizeof':
      case 'Offsetof':
        return true;
      case 'Unary':
        return e.op !== '*' && e.op !== '&';
      case 'Call':
        return !this.program.macros.some((d) => d.name === e.name);
      default:
        return false;
    }
  }

  /** What a tuple or record literal at `loc` throws when it builds a value past the limits. */
  private valueTooBig(loc: Loc): ValueTooBig {
    return new ValueTooBig(
      this.repeatingWarning(
        loc,
        `this value grew past ${MAX_VALUE_DEPTH} levels of nesting or ${MAX_VALUE_ITEMS} values (a tuple built from itself?); the rest of this firing was skipped`,
        (where, n) => `the value at ${where} grew too big in ${n} firings`,
      ),
    );
  }

  /** A parse location as runtime messages print it: file, line, columns and the source line. */
  private sourceLocation(loc: Loc): SourceLocation {
    const source = this.opts.source;
    const colEnd = loc.endLine === loc.line ? loc.endCol : undefined;
    return { filename: source.name, line: loc.line, col: loc.col, colEnd, source: source.lineText(loc.line) };
  }

  /**
   * A function argument that must be an integer: a string, tuple or bool is refused now, as
   * bpftrace refuses it (it would otherwise read as 0 and count in the wrong bucket).
   */
  private requireInteger(call: A.Call, arg: A.Expr): void {
    const kind = this.kindOf(arg);
    if (kind === 'string' || kind === 'tuple' || kind === 'bool') {
      this.diags.push(errorAt(`${call.name}() only supports integer arguments (${this.bpftraceTypeName(arg, kind)} provided)`, arg.loc));
    }
  }

  /** A folded literal expression as code: its value, or 0 once why it has none is reported. */
  private constant(folded: NonNullable<Folded>): ExprFn {
    if ('value' in folded) {
      const v = folded.value;
      return () => v;
    }
    this.diags.push(errorAt(folded.error, folded.loc));
    return () => 0n;
  }

  /**
   * A division's divisor: a literal 0 is refused now (bpftrace refuses it when it folds literals);
   * one that is 0 at run time gives 1 with bpftrace's warning, said once and counted. Returns
   * what the division calls when it meets 0.
   */
  private divisorCheck(op: '/' | '%', divisor: A.Expr, loc: Loc): () => void {
    const folded = foldLiterals(divisor);
    if (folded !== undefined && 'value' in folded && folded.value === 0n) this.diags.push(errorAt(divideByZeroMessage(op), divisor.loc));
    return this.repeatingWarning(
      loc,
      'Divide or modulo by 0 detected. This can lead to unexpected results. 1 is being used as the result.',
      (where, n) => `the ${op === '/' ? 'division' : 'modulo'} at ${where} was by 0 ${n} times; 1 was used as the result`,
    );
  }

  /** kstack(limit), kstack(mode), kstack(mode, limit) */
  private kstackCall(e: A.Call): ExprFn {
    let limit = KSTACK_DEFAULT_LIMIT;
    for (const [i, a] of e.args.entries()) {
      if (i === 0 && a.kind === 'Identifier') {
        if (a.name === 'bpftrace') continue;
        // SIMPLIFICATION: perf and raw print addresses, and simulated functions have none.
        const hint = `use ${e.name} or ${e.name}(bpftrace, N): simulated ${e.name === 'kstack' ? 'kernel' : 'program'} functions have names but no addresses`;
        this.diags.push(errorAt(a.name === 'perf' || a.name === 'raw' ? `${e.name} mode '${a.name}' is not supported by kiotrace` : `Unknown stack mode: '${a.name}'`, a.loc, { hint }));
        return () => '';
      }
      if (a.kind === 'Int' && i === e.args.length - 1 && i <= 1) {
        if (a.value < 0n || a.value > 1024n) {
          this.diags.push(errorAt(`${e.name}: the limit must be between 0 and 1024`, a.loc));
          return () => '';
        }
        limit = Number(a.value);
        continue;
      }
      this.diags.push(errorAt(`${e.name}() takes an optional mode (bpftrace) and an optional integer limit, e.g. ${e.name}(bpftrace, 8)`, a.loc));
      return () => '';
    }
    if (e.name === 'ustack') return (c) => formatUserStack(this.currentTask(c), limit);
    this.usesKstack = true;
    return (c) => this.rt.kstack(c, limit);
  }

  private cast(e: A.Cast): ExprFn {
    const operand = this.expr(e.operand);
    const t = this.writtenType(e.type);
    const structName = castStructName(t);
    if (structName !== undefined && t.kind === 'PointerType' && !(this.userTypes.structs.has(structName) && !BTF.has(structName))) {
      if (!BTF.has(structName)) {
        this.diags.push(errorAt(`Unknown struct/union: 'struct ${structName}'`, t.loc));
        return () => 0n;
      }
      // the raw object behind an argN, so members can be read
      // a function that returns a kernel object: its retval cast back to the object
      if (e.operand.kind === 'Builtin' && e.operand.name === 'retval') {
        return (c) => {
          const p = btfCast(structName, c.hit?.retObject);
          return p ? new ObjPointer(p) : operand(c);
        };
      }
      const argMatch = e.operand.kind === 'Builtin' ? /^arg(\d+)$/.exec(e.operand.name) : null;
      if (argMatch) {
        const i = Number(argMatch[1]);
        return (c) => {
          const p = btfCast(structName, c.hit?.args[i]);
          return p ? new ObjPointer(p) : operand(c);
        };
      }
      return (c) => {
        const v = operand(c);
        // an integer address: a struct the current task's caller put in its memory (a syscall's argument)
        if (v instanceof ObjPointer) return new ObjPointer({ ...v.ptr, structName });
        return this.userObject(c, structName, v) ?? this.knownKernelObject(structName, v) ?? this.kernelVariable(structName, v) ?? v;
      };
    }
    if (t.kind === 'TaggedType' && t.tag === 'enum') {
      // `(enum E)333` prints the enumerator's name when 333 is one of E's values, else the number
      const def = this.userTypes.enums.get(t.name);
      if (!def) {
        this.diags.push(errorAt(`Unknown enum: '${t.name}'`, t.loc));
        return () => 0n;
      }
      const names = new Map<bigint, string>();
      if (def) for (const [n, v] of def.values) if (!names.has(v)) names.set(v, n);
      return (c) => {
        const v = toBig(operand(c));
        const name = names.get(v);
        return name !== undefined ? new SymbolValue(name, v) : v;
      };
    }
    if (t.kind === 'ArrayType') return this.arrayCast(e, t, operand);
    if (t.kind === 'PointerType') {
      // a pointer to an integer, a declared struct or void: an address that keeps its type (pointer arithmetic scales by the pointee)
      const pt = this.typer.specType(t);
      if (pt === undefined) {
        this.diags.push(errorAt(`Unknown type: '${printType(t.to)}'`, t.loc));
        return () => 0n;
      }
      const name = typeName(pt);
      // an integer becomes an address of its own width, as bpftrace converts it: (uint8 *)-1 is 0xff
      const from = this.typer.typeOf(e.operand);
      const bits = from.kind === 'int' ? from.bits : 64;
      return (c) => {
        const v = operand(c);
        return v instanceof PointerValue ? v.moved(0n, name) : new PointerValue(BigInt.asUintN(bits, toBig(v)), name);
      };
    }
    if (t.kind === 'TaggedType') {
      this.diags.push(errorAt(`Cannot cast to ${t.tag} type '${t.tag} ${t.name}': only to integers and pointers`, t.loc, { hint: `cast to a pointer, e.g. (${t.tag} ${t.name} *)arg0` }));
      return () => 0n;
    }
    if (t.kind === 'NamedType') {
      const scalar = scalarTypeByName(t.name);
      const it = scalar?.kind === 'int' ? intTypeByName(typeName(scalar)) : undefined;
      if (!scalar || scalar.kind === 'void') {
        this.diags.push(errorAt(`Unknown type: '${t.name}'`, t.loc, { hint: 'casts take integer types (int8 ... uint64, u32, ...) and pointers, e.g. (struct request *)arg0' }));
        return () => 0n;
      }
      const from = this.kindOf(e.operand);
      if (from === 'string' || from === 'tuple') {
        this.diags.push(errorAt(`Cannot cast from '${this.bpftraceTypeName(e.operand, from)}' to '${t.name}'`, e.loc));
        return () => 0n;
      }
      const fromType = this.typer.typeOf(e.operand);
      if (it && fromType.kind === 'array' && fromType.of.kind === 'int') {
        // an array's bytes read as one integer, little-endian: (uint32)pton("127.0.0.1") is 0x100007f
        const elemBits = BigInt(fromType.of.bits);
        return (c) => {
          const v = operand(c);
          let n = 0n;
          if (v instanceof ArrayValue) for (let i = v.items.length - 1; i >= 0; i--) n = (n << elemBits) | BigInt.asUintN(Number(elemBits), toBig(v.items[i]!));
          return wrapInt(n, it);
        };
      }
      if (it && fromType.kind === 'pointer' && it.bits === 64) {
        // a kernel object's address taken as a number: remembered, so arithmetic on it can be cast back (container_of)
        return (c) => {
          const v = operand(c);
          if (v instanceof ObjPointer) this.rememberObject(v.ptr);
          return wrapInt(toBig(v), it);
        };
      }
      if (it) return (c) => wrapInt(toBig(operand(c)), it);
      if (t.name === 'bool' || t.name === '_Bool') return (c) => truthy(operand(c));
    }
    return operand;
  }

  /**
   * `(int8[])"hello"`, `(int8[4])12345`, `(bool[2])(uint16)1`: the operand's bytes (an integer's
   * in little-endian order, a string's with its NUL) read as an array of the element type.
   */
  private arrayCast(e: A.Cast, t: A.ArrayType, operand: ExprFn): ExprFn {
    const of = this.typer.specType(t.of);
    const elemBytes = of !== undefined && (of.kind === 'int' || of.kind === 'bool') ? this.userTypes.sizeOf(of)! : undefined;
    const from = this.typer.typeOf(e.operand);
    let fromBytes = from.kind === 'string' || from.kind === 'int' || from.kind === 'bool' ? this.userTypes.sizeOf(from) : undefined;
    // an integer literal takes the width the array asks for, when it fits (`(int8[8])12345`)
    const literal = foldLiterals(e.operand);
    const wanted = elemBytes !== undefined && t.size !== undefined ? elemBytes * t.size : undefined;
    if (literal !== undefined && 'value' in literal && fromBytes !== undefined && wanted !== undefined && [1, 2, 4, 8].includes(wanted) && wanted > fromBytes) fromBytes = wanted;
    if (of === undefined || elemBytes === undefined || fromBytes === undefined) {
      this.diags.push(errorAt(`Cannot cast from '${typeName(from)}' to '${printType(t)}'`, e.loc, { hint: 'arrays can be cast from integers and strings, to arrays of integers or bools' }));
      return () => 0n;
    }
    const count = t.size ?? Math.floor(fromBytes / elemBytes);
    if (count * elemBytes !== fromBytes) {
      this.diags.push(errorAt(`Cannot cast from '${typeName(from)}' to '${printType(t)}': the sizes differ (${fromBytes} and ${count * elemBytes} bytes)`, e.loc));
      return () => 0n;
    }
    const signed = of.kind === 'int' && of.signed;
    const isString = from.kind === 'string';
    return (c) => {
      const v = operand(c);
      const bytes = new Uint8Array(fromBytes);
      if (isString) bytes.set(new TextEncoder().encode(valueText(v)).subarray(0, fromBytes - 1));
      else {
        let n = BigInt.asUintN(fromBytes * 8, toBig(v));
        for (let i = 0; i < fromBytes; i++, n >>= 8n) bytes[i] = Number(n & 0xffn);
      }
      const items: Value[] = [];
      for (let i = 0; i < count; i++) {
        let n = 0n;
        for (let b = elemBytes - 1; b >= 0; b--) n = (n << 8n) | BigInt(bytes[i * elemBytes + b]!);
        items.push(of.kind === 'bool' ? n !== 0n : signed ? BigInt.asIntN(elemBytes * 8, n) : n);
      }
      return new ArrayValue(items);
    };
  }

  private unary(e: A.Unary): ExprFn {
    if (e.op === '++' || e.op === '--') {
      const delta = e.op === '++' ? 1n : -1n;
      const t = e.operand;
      if ((t.kind === 'Variable' || t.kind === 'Map' || t.kind === 'MapAccess') && this.typer.typeOf(t).kind === 'pointer') {
        // `++$p`, `@p++` on a pointer step by the pointee's size
        const step = this.expr({ kind: 'Binary', loc: e.loc, op: e.op === '++' ? '+' : '-', left: t, right: { kind: 'Int', loc: e.loc, value: 1n, raw: '1' } });
        const old = this.expr(t);
        const varName = t.kind === 'Variable' ? t.name : '';
        const ref = t.kind === 'Variable' ? undefined : t.kind === 'Map' ? t : t.map;
        const key = t.kind === 'MapAccess' ? this.mapKey(t.map, t.key) : undefined;
        const store = this.rt.store;
        return (c) => {
          const before = old(c);
          const next = step(c);
          if (ref === undefined) c.vars.set(varName, next);
          else store.map(ref.name).assign(key ? key(c) : undefined, next);
          return e.prefix ? next : before;
        };
      }
      if (t.kind === 'Variable') {
        this.declareVar(t.name);
        const name = t.name;
        return (c) => {
          const old = toBig(c.vars.get(name) ?? 0n);
          c.vars.set(name, old + delta);
          return e.prefix ? old + delta : old;
        };
      }
      if (t.kind === 'Map' || t.kind === 'MapAccess') {
        const ref = t.kind === 'Map' ? t : t.map;
        this.noteMap(ref, 'int', t.kind === 'MapAccess', undefined, t.loc);
        const key = t.kind === 'MapAccess' ? this.mapKey(ref, t.key) : undefined;
        const store = this.rt.store;
        const name = ref.name;
        return (c) => {
          const n = store.map(name).increment(key ? key(c) : undefined, delta) ?? 0n;
          return e.prefix ? n : n - delta;
        };
      }
      this.diags.push(errorAt('The ++ and -- operators only work on variables and maps', e.loc));
      return () => 0n;
    }
    const folded = e.op === '-' || e.op === '~' ? foldLiterals(e) : undefined;
    if (folded !== undefined) return this.constant(folded);
    if (e.op === '&' && e.operand.kind === 'Variable') {
      // the variable's slot in a simulated stack frame: 8 bytes a variable, in the order they are first used
      if (!this.varKnown(e.operand.name)) this.diags.push(errorAt(`Undefined or undeclared variable: ${e.operand.name}`, e.operand.loc));
      let slot = this.varSlots.get(e.operand.name);
      if (slot === undefined) this.varSlots.set(e.operand.name, (slot = this.varSlots.size));
      const addr = STACK_FRAME_TOP - 64n * BigInt(slot + 1);
      const name = e.operand.name;
      const pointerName = typeName(this.typer.typeOf(e));
      return (c) => new VarPointer(c.vars, name, 0n, addr, pointerName);
    }
    const v = this.expr(e.operand);
    if (e.op === '*') {
      const pointee = this.typer.typeOf(e);
      const byteSized = pointee.kind === 'int' && pointee.bits === 8;
      const kmem = this.kernelMemory();
      const pointeeBytes = pointee.kind === 'int' ? pointee.bits / 8 : 8;
      return (c) => {
        const p = v(c);
        // SIMPLIFICATION: a pointer into a scratch variable and the kernel variables kmem knows
        // (an integer address is read as a u64) can be read; other memory reads as 0
        if (p instanceof VarPointer) return p.read(byteSized);
        if (p instanceof PointerValue) return kmem.read(p.addr, pointeeBytes);
        return typeof p === 'bigint' ? kmem.read(p, 8) : p;
      };
    }
    switch (e.op) {
      case '!':
        return (c) => !truthy(v(c));
      case '~':
        return (c) => BigInt.asUintN(64, ~toBig(v(c)));
      case '-':
        return (c) => BigInt.asIntN(64, -toBig(v(c)));
      default:
        return v;
    }
  }

  private call(e: A.Call): ExprFn {
    const rt = this.rt;
    const args = e.args;
    if ((e.name === 'kstack' || e.name === 'ustack') && args.length > 0) return this.kstackCall(e);
    const alias = args.length <= 1 ? this.typer.taskAlias(e.name, args[0], e.loc) : undefined;
    if (alias) return this.expr(alias);
    const arity = (min: number, max: number): boolean => {
      if (args.length < min || args.length > max) {
        this.diags.push(errorAt(`${e.name}() requires ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'} (${args.length} provided)`, e.loc));
        return false;
      }
      return true;
    };
    const mapArg = (i: number): A.MapRef | A.MapAccess | undefined => {
      const a = args[i];
      if (a && (a.kind === 'Map' || a.kind === 'MapAccess')) return a;
      this.diags.push(errorAt(`${e.name}() expects a map argument`, a?.loc ?? e.loc));
      return undefined;
    };
    if (e.name === 'nsecs' && !this.program.macros.some((d) => d.name === 'nsecs') && args.length === 1 && args[0]!.kind === 'Identifier') {
      // nsecs(boot|monotonic|tai|sw_tai): the clock's time now. SIMPLIFICATION: no suspend (boot = monotonic), TAI = UTC + 37 s
      const mode = args[0]!.name;
      const epochNs = this.opts.epochNs ?? 0n;
      if (mode === 'boot' || mode === 'monotonic') return (c) => BigInt(c.nowNs);
      if (mode === 'tai' || mode === 'sw_tai') return (c) => epochNs + TAI_OFFSET_NS + BigInt(c.nowNs);
      this.diags.push(errorAt(`Invalid timestamp mode: ${mode}`, args[0]!.loc, { hint: 'nsecs takes boot, monotonic, tai or sw_tai' }));
      return () => 0n;
    }
    switch (e.name) {
      case 'getopt':
        return this.getopt(e);
      case 'printf':
      case 'errorf':
      case 'warnf': {
        const text = this.formatted(e);
        if (!text) return () => 0n;
        if (e.name === 'warnf' && this.opts.noWarnings === true) return () => 0n;
        if (e.name !== 'printf') {
          // errorf/warnf report at their own call site and the program carries on
          const where = this.sourceLocation(e.loc);
          const report = e.name === 'errorf' ? rt.sink.errorf.bind(rt.sink) : rt.sink.warnf.bind(rt.sink);
          // inside macros, each call site that expanded it follows, innermost first, as bpftrace prints them
          const expandedFrom = rt.sink.format === 'text' ? this.macroCallSites.map((l) => report('expanded from', this.sourceLocation(l))).reverse().join('') : '';
          return (c) => {
            rt.write(report(text(c), where) + expandedFrom, rt.sink.diagnosticStream);
            return 0n;
          };
        }
        return (c) => {
          rt.write(rt.sink.printf(text(c)), 'stdout');
          return 0n;
        };
      }
      case 'print': {
        if (!arity(1, 3)) return () => 0n;
        const a = args[0]!;
        if (a.kind === 'Map') {
          const top = args[1] ? this.expr(args[1]) : undefined;
          const div = args[2] ? this.expr(args[2]) : undefined;
          const name = a.name;
          return (c) => {
            const map = rt.store.get(name);
            // a scalar map nothing was assigned to yet prints its type's zero, as bpftrace's (preallocated) one does
            const shown = map !== undefined && map.size > 0 ? map : this.mapShapes.get(name) === false ? this.unsetScalar(name) : undefined;
            if (shown) for (const piece of printMap(rt.sink, shown, top ? Number(toBig(top(c))) : 0, div ? Number(toBig(div(c))) : 1)) rt.write(piece, 'stdout');
            return 0n;
          };
        }
        const v = this.expr(a);
        return (c) => {
          rt.write(rt.sink.value(v(c)), 'stdout');
          return 0n;
        };
      }
      case 'clear':
      case 'zero': {
        if (!arity(1, 1)) return () => 0n;
        const ref = mapArg(0);
        if (!ref || ref.kind !== 'Map') return () => 0n;
        const name = ref.name;
        const clear = e.name === 'clear';
        return () => {
          const map = rt.store.get(name);
          if (map) (clear ? map.clear() : map.zero());
          return 0n;
        };
      }
      case 'delete': {
        if (!arity(1, 2)) return () => 0n;
        const ref = mapArg(0);
        if (!ref) return () => false;
        const name = ref.kind === 'Map' ? ref.name : ref.map.name;
        const mapRef = ref.kind === 'Map' ? ref : ref.map;
        if (ref.kind === 'MapAccess') this.useMapShape(mapRef, true, ref.loc);
        else if (args[1]) this.requireMapShape(mapRef, true, 'call to delete() with two arguments expects a map with explicit keys (non-scalar map)');
        else this.requireMapShape(mapRef, false, 'call to delete() with a single argument expects a map without explicit keys (scalar map)');
        const key = ref.kind === 'MapAccess' ? this.mapKey(mapRef, ref.key) : args[1] ? this.mapKey(mapRef, args[1]) : undefined;
        return (c) => rt.store.get(name)?.delete(key ? key(c) : undefined) ?? false;
      }
      case 'has_key': {
        if (!arity(2, 2)) return () => false;
        const ref = mapArg(0);
        if (!ref || ref.kind !== 'Map') return () => false;
        this.requireMapShape(ref, true, 'call to has_key() expects a map with explicit keys (non-scalar map)');
        const name = ref.name;
        const key = this.mapKey(ref, args[1]!);
        return (c) => rt.store.get(name)?.has(key(c)) ?? false;
      }
      case 'len': {
        if (!arity(1, 1)) return () => 0n;
        const a0 = args[0]!;
        if ((a0.kind === 'Builtin' || a0.kind === 'Call') && (a0.name === 'kstack' || a0.name === 'ustack')) {
          // a stack's depth: its text has one line per frame after the leading newline
          const stack = this.expr(a0);
          return (c) => {
            const text = stack(c);
            return typeof text === 'string' ? BigInt(Math.max(0, text.split('\n').length - 2)) : 0n;
          };
        }
        const ref = mapArg(0);
        if (!ref || ref.kind !== 'Map') return () => 0n;
        this.requireMapShape(ref, true, 'call to len() expects a map with explicit keys (non-scalar map)');
        const name = ref.name;
        return () => BigInt(rt.store.get(name)?.size ?? 0);
      }
      case 'exit': {
        if (!arity(0, 1)) return () => 0n;
        if (args[0]) {
          const kind = this.kindOf(args[0]);
          if (kind === 'string' || kind === 'tuple' || kind === 'bool') this.diags.push(errorAt(`exit() only supports int arguments (${kind} provided)`, e.loc));
        }
        const code = args[0] ? this.expr(args[0]) : undefined;
        // the exit status is one byte, as bpftrace's exit event carries it: exit(256) exits 0
        return (c) => {
          rt.exit(code ? Number(BigInt.asUintN(8, toBig(code(c)))) : 0);
          throw PROBE_EXIT;
        };
      }
      case 'str': {
        if (!arity(1, 2)) return () => '';
        const a0 = args[0]!;
        // str($1 + N): a string parameter is a char * in bpftrace, and N past it is its tail
        const offset = a0.kind === 'Binary' && a0.op === '+' && a0.left.kind === 'Positional' && a0.right.kind === 'Int' ? Number(a0.right.value) : 0;
        const param = a0.kind === 'Positional' ? a0 : a0.kind === 'Binary' && offset > 0 && a0.left.kind === 'Positional' && positionalNumber(this.positionalArgs[a0.left.index - 1] ?? '0') === undefined ? a0.left : undefined;
        if (param !== undefined) {
          // str($1): the parameter's text, a number or not
          const raw = (this.positionalArgs[param.index - 1] ?? '').slice(offset);
          const len = args[1] ? this.expr(args[1]) : undefined;
          return len ? (c) => raw.slice(0, Number(toBig(len(c)))) : () => raw;
        }
        const v = this.expr(a0);
        const len = args[1] ? this.expr(args[1]) : undefined;
        return (c) => {
          const x = v(c);
          // a user pointer (a syscall's const char *): read the string from the task's memory
          let s: string;
          if (typeof x === 'bigint') {
            const task = this.currentTask(c);
            s = task?.mm?.userStrings.get(Number(x)) ?? '';
          } else {
            s = valueText(x);
          }
          return len ? s.slice(0, Number(toBig(len(c)))) : s;
        };
      }
      case 'strncmp':
      case 'strcontains':
      case 'strstr': {
        if (!arity(e.name === 'strncmp' ? 3 : 2, e.name === 'strncmp' ? 3 : 2)) return () => 0n;
        for (const arg of args.slice(0, 2)) {
          const kind = this.kindOf(arg);
          if (kind === 'int' || kind === 'bool' || kind === 'tuple') {
            this.diags.push(errorAt(`${e.name}() only supports string arguments (${kind === 'tuple' ? 'tuple' : kind} provided)`, e.loc));
            return () => 0n;
          }
        }
        const [a, b] = [this.expr(args[0]!), this.expr(args[1]!)];
        const text = (v: Value): string => (typeof v === 'string' ? v : valueText(v));
        if (e.name === 'strcontains') return (c) => text(a(c)).includes(text(b(c)));
        if (e.name === 'strstr') return (c) => BigInt(text(a(c)).indexOf(text(b(c))));
        const n = this.expr(args[2]!);
        // like C's strncmp: 0 when the first n characters (up to a NUL) are equal
        return (c) => {
          const len = Number(toBig(n(c)));
          return text(a(c)).slice(0, len) === text(b(c)).slice(0, len) ? 0n : 1n;
        };
      }
      case 'strlen': {
        if (!arity(1, 1)) return () => 0n;
        const v = this.expr(args[0]!);
        return (c) => {
          const x = v(c);
          // \xNN escapes are single bytes (code units up to 0xff); other characters count in UTF-8
          let bytes = 0;
          for (const ch of typeof x === 'string' ? x : valueText(x)) bytes += ch.charCodeAt(0) <= 0xff ? 1 : new TextEncoder().encode(ch).length;
          return BigInt(bytes);
        };
      }
      case 'strerror': {
        if (!arity(1, 1)) return () => '';
        this.requireInteger(e, args[0]!);
        const v = this.expr(args[0]!);
        return (c) => {
          const n = Number(toBig(v(c)));
          return ERRNO_TEXT[Math.abs(n)] ?? 'Unknown error';
        };
      }
      case 'syscall_name': {
        if (!arity(1, 1)) return () => '';
        const v = this.expr(args[0]!);
        return (c) => {
          const n = Number(toBig(v(c)));
          return SYSCALL_NAMES.get(n) ?? String(n);
        };
      }
      case 'ksym':
      case 'usym': {
        if (!arity(1, 1)) return () => '';
        const v = this.expr(args[0]!);
        // SIMPLIFICATION: simulated functions (kernel and program) have no addresses, so every address is
        // unknown and prints as bpftrace prints one: the 64-bit address in hex
        return (c) => `0x${BigInt.asUintN(64, toBig(v(c))).toString(16)}`;
      }
      case 'time': {
        if (!arity(0, 1)) return () => 0n;
        const epochNs = this.opts.epochNs ?? 0n;
        const fmt = args[0] && args[0].kind === 'String' ? args[0].value : '%H:%M:%S\n';
        return (c) => {
          rt.write(rt.sink.time(strftime(fmt, BigInt(c.nowNs), epochNs)), 'stdout');
          return 0n;
        };
      }
      case 'strftime': {
        if (!arity(2, 2)) return () => '';
        const epochNs = this.opts.epochNs ?? 0n;
        const fmt = args[0]!.kind === 'String' ? args[0]!.value : '%H:%M:%S';
        const v = this.expr(args[1]!);
        // the time is a uint64 of nanoseconds, as bpftrace takes it: a negative one is far in the future, not garbage
        return (c) => strftime(fmt, BigInt.asUintN(64, toBig(v(c))), epochNs);
      }
      case 'buf': {
        // buf(data, length): the first `length` bytes of a string (with its NUL), or of an array's bytes
        if (!arity(1, 2)) return () => 0n;
        const v = this.expr(args[0]!);
        const t = this.typer.typeOf(args[0]!);
        const fixed = t.kind === 'array' ? this.userTypes.sizeOf(t) : t.kind === 'string' && t.size > 0 ? t.size : undefined;
        const len = args[1] ? this.expr(args[1]) : undefined;
        if (!len && fixed === undefined) {
          this.diags.push(errorAt('buf() expects a length argument for non-array type', e.loc));
          return () => 0n;
        }
        return (c) => {
          const x = v(c);
          const n = len ? Math.max(0, Math.min(Number(toBig(len(c))), this.maxStrlen)) : fixed!;
          const bytes = new Uint8Array(n);
          if (x instanceof ArrayValue) {
            let i = 0;
            for (const item of x.items) if (i < n) bytes[i++] = Number(BigInt.asUintN(8, toBig(item)));
          } else bytes.set(latin1Bytes(valueText(x)).subarray(0, n));
          return new BufferValue(bytes);
        };
      }
      case 'pton': {
        if (!arity(1, 1)) return () => 0n;
        const a0 = args[0]!;
        const bytes = a0.kind === 'String' ? parseInetAddress(a0.value) : undefined;
        if (a0.kind !== 'String') {
          this.diags.push(errorAt('pton() expects an string literal, got ' + typeName(this.typer.typeOf(a0)), e.loc));
          return () => 0n;
        }
        if (bytes === undefined) {
          this.diags.push(errorAt(`pton() expects a valid IPv4/IPv6 address, got ${a0.value}`, e.loc));
          return () => 0n;
        }
        const arr = new ArrayValue(bytes.map((b) => BigInt(b)));
        return () => arr;
      }
      case 'ntop': {
        if (!arity(1, 2)) return () => '';
        const af = args.length === 2 ? this.expr(args[0]!) : undefined;
        const addr = this.expr(args[args.length - 1]!);
        return (c) => {
          const a = addr(c);
          const bytes = a instanceof ArrayValue ? a.items.map((x) => Number(BigInt.asUintN(8, toBig(x)))) : a instanceof BufferValue ? [...a.bytes] : leBytes(toBig(a), 4);
          const family = af ? Number(toBig(af(c))) : bytes.length === 16 ? AF_INET6 : AF_INET;
          return formatInetAddress(family, bytes);
        };
      }
      case 'assert': {
        // bpftrace's stdlib macro: `if (!cond) { errorf("assert failed: %s", msg); exit(1); }`, reported where the stdlib has it
        const own = this.program.macros.find((d) => d.name === 'assert' && d.params.length === args.length);
        if (own) return this.expandMacro(own, e);
        if (!arity(2, 2)) return () => 0n;
        const cond = this.expr(args[0]!);
        const msg = this.expr(args[1]!);
        const where: SourceLocation = { filename: 'stdlib/base.bt', line: 6, col: 5, colEnd: 37, source: '    errorf("assert failed: %s", msg);' };
        return (c) => {
          if (truthy(cond(c))) return 0n;
          rt.write(rt.sink.errorf(`assert failed: ${valueText(msg(c))}`, where), rt.sink.diagnosticStream);
          rt.exit(1);
          throw PROBE_EXIT;
        };
      }
      case 'bswap': {
        if (!arity(1, 1)) return () => 0n;
        const t = this.typer.typeOf(args[0]!);
        const bytes = t.kind === 'int' ? t.bits / 8 : 8;
        const v = this.expr(args[0]!);
        // the bytes of an integer of the argument's width in reverse order; the result is unsigned
        return (c) => {
          let x = BigInt.asUintN(bytes * 8, toBig(v(c)));
          let out = 0n;
          for (let i = 0; i < bytes; i++, x >>= 8n) out = (out << 8n) | (x & 0xffn);
          return out;
        };
      }
      case 'kaddr': {
        // resolved when the program compiles, as bpftrace does from kallsyms
        if (!arity(1, 1)) return () => 0n;
        const a0 = args[0]!;
        if (a0.kind !== 'String') {
          this.diags.push(errorAt('kaddr() expects a string literal as the first argument', e.loc));
          return () => 0n;
        }
        const addr = this.kernelMemory().addressOf(a0.value);
        if (addr === undefined) {
          this.diags.push(errorAt(`Failed to resolve kernel symbol: ${a0.value}`, e.loc, { hint: "kiotrace gives addresses to the kernel variables scripts read (avenrun); its functions have none" }));
          return () => 0n;
        }
        const v = BigInt(addr);
        return () => v;
      }
      case 'write_user': {
        // bpf_probe_write_user: writes into the traced process's memory
        if (!this.opts.unsafe) this.diags.push(errorAt('write_user() is unsafe. To use you need the --unsafe flag', e.loc));
        else this.diags.push(errorAt('write_user() is not supported by kiotrace: the simulated programs keep no bytes in their memory to write over', e.loc));
        return () => 0n;
      }
      case 'percpu_kaddr': {
        // a per-CPU variable's copy on a CPU (the current one when none is given)
        if (!arity(1, 2)) return () => 0n;
        const a0 = args[0]!;
        const kmem = this.kernelMemory();
        if (a0.kind !== 'String') {
          this.diags.push(errorAt('percpu_kaddr() expects a string literal as the first argument', e.loc));
          return () => 0n;
        }
        if (!kmem.isPerCpu(a0.value)) {
          this.diags.push(errorAt(`Failed to resolve kernel symbol: ${a0.value}`, e.loc, { hint: 'kiotrace gives addresses to the per-CPU variables scripts read (runqueues, process_counts)' }));
          return () => 0n;
        }
        const name = a0.value;
        const cpuArg = args[1] ? this.expr(args[1]) : undefined;
        return (c) => BigInt(kmem.perCpuAddressOf(name, cpuArg ? Number(toBig(cpuArg(c))) : c.cpu));
      }
      case 'signal_name': {
        if (!arity(1, 1)) return () => '';
        const v = this.expr(args[0]!);
        return (c) => {
          // any other number: bpftrace's "N/A"
          const n = Number(toBig(v(c)));
          return SIGNAL_TEXT[n] ?? 'N/A';
        };
      }
      case 'join': {
        if (!arity(1, 2)) return () => 0n;
        const v = this.expr(args[0]!);
        const sep = args[1] ? this.expr(args[1]) : undefined;
        return (c) => {
          const x = v(c);
          // a user address (execve's argv): the strings of the array the caller put there
          const arr = typeof x === 'bigint' ? this.currentTask(c)?.mm?.userStructs.get(Number(x)) : undefined;
          const text = Array.isArray(arr) ? arr.slice(0, JOIN_MAX_ARGS).map(String).join(sep ? valueText(sep(c)) : ' ') : valueText(x);
          rt.write(rt.sink.join(text), 'stdout');
          return 0n;
        };
      }
      case 'system':
      case 'cat': {
        const host = this.opts.host;
        if (!this.opts.unsafe || !host) {
          this.diags.push(
            e.name === 'system'
              ? errorAt('system() is an unsafe function being used in safe mode', e.loc, { hint: 'run kiotrace with --unsafe' })
              : errorAt('cat() reads a file of the host machine, not of the simulated one', e.loc, { hint: 'run kiotrace with --unsafe to allow it' }),
          );
          return () => 0n;
        }
        const text = this.formatted(e);
        if (!text) return () => 0n;
        if (e.name === 'system') {
          return (c) => {
            rt.write(rt.sink.syscall(host.run(text(c))), 'stdout');
            return 0n;
          };
        }
        return (c) => {
          const path = text(c);
          const file = host.readFile(path);
          if (file.ok) rt.write(rt.sink.cat(file.text.slice(0, MAX_CAT_BYTES)), 'stdout');
          else rt.write(rt.sink.userSpaceError(`failed to open file '${path}' (${file.reason})`), rt.sink.diagnosticStream);
          return 0n;
        };
      }
      default:
        if (isAgg(e)) {
          this.diags.push(errorAt(`${e.name}() must be assigned directly to a map`, e.loc));
          return () => 0n;
        }
        if (['pid', 'tid', 'comm', 'nsecs', 'cpu', 'elapsed', 'uid', 'gid', 'kstack', 'ustack', 'retval', 'func', 'probe', 'ncpus', 'jiffies', 'numaid', 'username', 'usermode', 'ioid', 'probetype', 'cgroup', 'config'].includes(e.name) && args.length === 0) {
          return this.builtin({ kind: 'Builtin', loc: e.loc, name: e.name });
        }
        {
          const macro = this.program.macros.find((d) => d.name === e.name);
          if (macro) return this.expandMacro(macro, e);
        }
        this.diags.push(errorAt(`Unknown function: '${e.name}'`, e.loc));
        return () => 0n;
    }
  }

  /** A scalar map holding its type's zero, for printing one nothing was assigned to (not in the program's store). */
  private unsetScalar(name: string): BpfMap | undefined {
    const known = this.mapKinds.get(name);
    const scratch = new MapStore({ warnings: this.rt.warnings }).map(name);
    const kind = known?.kind ?? 'int';
    if (kind === 'count') scratch.count(undefined);
    else if (kind === 'sum' || kind === 'avg' || kind === 'min' || kind === 'max' || kind === 'stats') scratch[kind](undefined, 0n);
    else if (kind === 'hist' || kind === 'lhist') return undefined;
    else scratch.assign(undefined, zeroValueOf(known?.type ?? INT64_T));
    scratch.zero();
    return scratch;
  }

  /**
   * getopt("name"[, default[, "description"]]): the value of `--name[=value]` given after the
   * script (after `--` on the command line); its type is the default's (bool when there is none).
   */
  private getopt(e: A.Call): ExprFn {
    const [nameArg, defaultArg, descrArg] = e.args;
    if (e.args.length < 1 || e.args.length > 3 || nameArg?.kind !== 'String' || (descrArg !== undefined && descrArg.kind !== 'String')) {
      this.diags.push(errorAt('getopt() takes a string name, an optional default (bool, integer or string) and an optional string description', e.loc));
      return () => 0n;
    }
    const given = this.namedArgs.get(nameArg.value);
    this.getoptNames.set(nameArg.value, descrArg?.kind === 'String' ? descrArg.value : '');
    if (defaultArg === undefined || defaultArg.kind === 'Bool') {
      const spelled = given === true ? 'true' : given?.toLowerCase();
      if (spelled !== undefined && !BOOL_WORDS.has(spelled)) {
        this.diags.push(errorAt(`getopt: --${nameArg.value} is a bool option: its value must be true or false, not '${given}'`, e.loc, { hint: `--${nameArg.value} alone is true; --${nameArg.value}=false turns it off` }));
        return () => false;
      }
      const value = spelled === undefined ? defaultArg?.value ?? false : BOOL_WORDS.get(spelled)!;
      return () => value;
    }
    if (defaultArg.kind === 'String') {
      const value = given === undefined ? defaultArg.value : given === true ? '' : given;
      return () => value;
    }
    const fallback = this.expr(defaultArg);
    if (given === undefined) return fallback;
    const value = given === true ? undefined : positionalNumber(given);
    if (value === undefined) {
      // bpftrace's words for it
      this.diags.push(errorAt(`program command line option --${nameArg.value} invalid integer (value: ${given === true ? '' : given})`));
      return () => 0n;
    }
    return () => value;
  }

  /**
   * A `macro` call, expanded like bpftrace does: identifier parameters take the argument
   * expression, `$var` and `@map` parameters alias the caller's variable or map, and the
   * macro's own variables are renamed so they cannot collide with the caller's. The value is
   * the last statement's, when it is an expression.
   */
  private expandMacro(macro: A.MacroDef, call: A.Call): ExprFn {
    if (call.args.length !== macro.params.length) {
      this.diags.push(errorAt(`Call to macro ${macro.name}() has the wrong number of arguments: expected ${macro.params.length}, got ${call.args.length}`, call.loc));
      return () => 0n;
    }
    if (this.expanding.includes(macro.name)) {
      this.diags.push(errorAt(`Recursive macro call: ${[...this.expanding, macro.name].join(' -> ')}`, call.loc));
      return () => 0n;
    }
    const exprs = new Map<string, A.Expr>();
    const vars = new Map<string, string>();
    const maps = new Map<string, string>();
    for (const [i, param] of macro.params.entries()) {
      const arg = call.args[i]!;
      if (param.kind === 'Identifier') {
        exprs.set(param.name, arg);
        if (!this.macroArgs.has(arg)) this.macroArgs.set(arg, [...this.expanding]);
      }
      else if (param.kind === 'Variable') {
        if (arg.kind !== 'Variable') {
          this.diags.push(errorAt(`Macro ${macro.name}() expects a variable for ${param.name}`, arg.loc));
          return () => 0n;
        }
        vars.set(param.name, arg.name);
      } else {
        if (arg.kind !== 'Map') {
          this.diags.push(errorAt(`Macro ${macro.name}() expects a map for ${param.name}`, arg.loc));
          return () => 0n;
        }
        maps.set(param.name, arg.name);
      }
    }
    const suffix = `__${macro.name}_${++this.expansionCount}`;
    const body = substituteAst(macro.block, (n) => {
      if (n.kind === 'Identifier') return exprs.get(n.name);
      if (n.kind === 'Variable') return { ...n, name: vars.get(n.name) ?? n.name + suffix };
      if (n.kind === 'Map') {
        const to = maps.get(n.name);
        return to === undefined ? undefined : { ...n, name: to };
      }
      return undefined;
    });
    this.expanding.push(macro.name);
    this.macroCallSites.push(call.loc);
    const outermost = this.expansionSite === undefined;
    if (outermost) this.expansionSite = call.loc;
    const valueExpr = blockValue(body);
    // one scope for the statements and the value, so the value can read the macro's variables
    this.scopes.push(new Set());
    const stmts = (valueExpr ? body.stmts.slice(0, -1) : body.stmts).map((st) => this.stmt(st));
    const value = valueExpr ? this.expr(valueExpr) : undefined;
    this.scopes.pop();
    this.expanding.pop();
    this.macroCallSites.pop();
    if (outermost) this.expansionSite = undefined;
    return (c) => {
      for (let i = 0; i < stmts.length; i++) stmts[i]!(c);
      return value ? value(c) : 0n;
    };
  }
}

/** The field names of record type `first` when `then` has the same fields in another order; undefined otherwise. */
function fieldOrder(first: SType, then: SType): string[] | undefined {
  if (first.kind !== 'record' || then.kind !== 'record' || first.fields.length !== then.fields.length) return undefined;
  const names = first.fields.map((f) => f[0]);
  const same = names.every((n) => then.fields.some((g) => g[0] === n));
  const reordered = names.some((n, i) => then.fields[i]![0] !== n);
  return same && reordered ? names : undefined;
}

/** Whether a type holds an enum value (itself or a tuple element): what prints by enumerator name. */
function hasEnum(t: SType): boolean {
  return t.kind === 'enum' || (t.kind === 'tuple' && t.items.some(hasEnum));
}

/** Enum values (and tuple elements) as their plain numbers. */
function withoutEnums(v: Value): Value {
  if (v instanceof SymbolValue) return v.numeric;
  if (v instanceof TupleValue) return new TupleValue(v.items.map(withoutEnums));
  return v;
}

/** A statement after which none in its block runs: return, break, continue, exit(). */
function endsFlow(s: A.Stmt): boolean {
  if (s.kind === 'Return' || s.kind === 'Break' || s.kind === 'Continue') return true;
  return s.kind === 'ExprStmt' && s.expr.kind === 'Call' && s.expr.name === 'exit';
}

/** A simulated duration as a short text: `850ns`, `9us`, `12.5us`, `3.2ms`, `1.25s`. */
export function formatDuration(ns: number): string {
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${+(ns / 1e3).toFixed(1)}us`;
  if (ns < 1e9) return `${+(ns / 1e6).toFixed(1)}ms`;
  return `${+(ns / 1e9).toFixed(2)}s`;
}

/** Integer widths upcast as bpftrace does; strings and integers never share a key slot. 'other' is unknown: no verdict. */
function keyKindsCompatible(a: string, b: string): boolean {
  if (a === b || a === 'other' || b === 'other') return true;
  return isIntLike(a) && isIntLike(b);
}

function isIntLike(k: string): boolean {
  return k === 'int' || k === 'bool' || k === 'other';
}

/**
 * Binary operators with 64-bit semantics. `/` and `%` divide the values as they are held: int64
 * values signed, truncating toward zero as C does (-10 / 3 is -3, -10 % 3 is -1), uint64 values
 * past INT64_MAX unsigned. A divisor of 0 gives 1 and calls `divideByZero` (bpftrace's runtime
 * check, which warns and uses 1).
 */
export function binop(op: A.BinaryOp, lv: Value, rv: Value, divideByZero?: () => void): Value {
  if (op === '==' || op === '!=') {
    // buffers, tuples and records compare by content; strings by text; the rest as integers (a pointer's address)
    const composite = lv instanceof BufferValue || lv instanceof TupleValue || lv instanceof RecordValue || lv instanceof ArrayValue;
    const eq = composite ? valueEquals(lv, rv) : typeof lv === 'string' || typeof rv === 'string' ? valueText(lv) === valueText(rv) : toBig(lv) === toBig(rv);
    return op === '==' ? eq : !eq;
  }
  const l = toBig(lv);
  const r = toBig(rv);
  switch (op) {
    case '+':
      return BigInt.asIntN(64, l + r);
    case '-':
      return BigInt.asIntN(64, l - r);
    case '*':
      return BigInt.asIntN(64, l * r);
    case '/':
    case '%': {
      if (r === 0n) {
        divideByZero?.();
        return 1n;
      }
      const q = op === '/' ? l / r : l % r;
      // INT64_MIN / -1 wraps as the hardware's 64-bit division does
      return l < 0n || r < 0n ? BigInt.asIntN(64, q) : q;
    }
    case '&':
      return l & r;
    case '|':
      return l | r;
    case '^':
      return l ^ r;
    case '<<':
      return BigInt.asIntN(64, l << (r & 63n));
    case '>>':
      return BigInt.asUintN(64, l) >> (r & 63n);
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
    default:
      return 0n;
  }
}

/** strftime over simulated time (ns since boot, a uint64); %f is microseconds. */
export function strftime(fmt: string, ns: bigint, epochNs = 0n): string {
  // the time is since boot; the wall clock is the run's epoch plus it (UTC)
  const wallNs = epochNs + ns;
  const totalS = wallNs / 1_000_000_000n;
  const day = Number(totalS / 86400n);
  const secOfDay = Number(totalS % 86400n);
  const date = new Date(day * 86400000);
  const two = (n: number): string => String(n).padStart(2, '0');
  const hour = Math.floor(secOfDay / 3600);
  const year = date.getUTCFullYear();
  const yday = Math.floor((day * 86400000 - Date.UTC(year, 0, 1)) / 86400000) + 1;
  return fmt.replace(/%([HMSfsYmdyjeaAbBTDFpIZz%])/g, (_m, c: string) => {
    switch (c) {
      case 'H':
        return two(hour);
      case 'M':
        return two(Math.floor(secOfDay / 60) % 60);
      case 'S':
        return two(secOfDay % 60);
      case 'f':
        return String((wallNs % 1_000_000_000n) / 1000n).padStart(6, '0');
      case 's':
        return String(totalS);
      case 'Y':
        return String(year);
      case 'y':
        return two(year % 100);
      case 'm':
        return two(date.getUTCMonth() + 1);
      case 'd':
        return two(date.getUTCDate());
      case 'e':
        return String(date.getUTCDate()).padStart(2, ' ');
      case 'j':
        return String(yday).padStart(3, '0');
      case 'a':
        return WEEKDAYS[date.getUTCDay()]!.slice(0, 3);
      case 'A':
        return WEEKDAYS[date.getUTCDay()]!;
      case 'b':
        return MONTHS[date.getUTCMonth()]!.slice(0, 3);
      case 'B':
        return MONTHS[date.getUTCMonth()]!;
      case 'T':
        return `${two(hour)}:${two(Math.floor(secOfDay / 60) % 60)}:${two(secOfDay % 60)}`;
      case 'D':
        return `${two(date.getUTCMonth() + 1)}/${two(date.getUTCDate())}/${two(year % 100)}`;
      case 'F':
        return `${year}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}`;
      case 'p':
        return hour < 12 ? 'AM' : 'PM';
      case 'I':
        return two(((hour + 11) % 12) + 1);
      case 'Z':
        return 'UTC';
      case 'z':
        return '+0000';
      default:
        return '%';
    }
  });
}

const WEEKDAYS: readonly string[] = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS: readonly string[] = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
