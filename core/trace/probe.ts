// Models: include/linux/tracepoint.h and kernel/kprobes.c: named probe sites that cost one boolean
// load when nobody listens, and hand a hit record to every attached handler when someone does;
// fentry/fexit (kernel/bpf/trampoline.c) and rawtracepoint (bpf_raw_tracepoint) views of them.

import type { FormatField } from './formats.js';

/** A value a tracepoint field can hold: integers, C strings (char[] and __data_loc), integer arrays. */
export type FieldValue = number | string | readonly number[];
export type FieldRecord = Readonly<Record<string, FieldValue>>;

/** What a site reads from the CPU it fires on (the kernel's `current` and smp_processor_id()). */
export interface HitContext {
  readonly cpuId: number;
  readonly nowNs: number;
  /** Thread group id of `current` (bpftrace's `pid`). */
  readonly pid: number;
  /** Thread id of `current` (bpftrace's `tid`). */
  readonly tid: number;
  readonly comm: string;
}

export type ProbeProvider = 'tracepoint' | 'kprobe' | 'kretprobe' | ViewProvider;
/** bpftrace's other ways into the same sites: BPF trampolines on a BTF-typed function, a tracepoint's raw arguments. */
export type ViewProvider = 'fentry' | 'fexit' | 'rawtracepoint';
/** The module every simulated function and tracepoint is in, as `bpftrace -l 'fentry:*'` names it. */
export const VMLINUX = 'vmlinux';
export type ProbeHandler = (hit: ProbeHit) => void;

/** One kprobe parameter, as BTF would describe it. */
export interface FuncParam {
  readonly type: string;
  readonly name: string;
}

/** One firing of one site. Fields are built only if a handler asks for them (TP_fast_assign, lazily). */
export class ProbeHit {
  private cachedFields: FieldRecord | undefined;

  constructor(
    readonly site: ProbeSite,
    readonly timeNs: number,
    readonly cpu: number,
    readonly pid: number,
    readonly tid: number,
    readonly comm: string,
    /** The I/O that caused this hit, 0 where there is none. */
    readonly ioId: number,
    /** Raw arguments: TP_PROTO for tracepoints, the function's arguments for kprobes. */
    readonly args: readonly unknown[],
    /** The return value (kretprobe only). */
    readonly retval: number | undefined,
    /** The object a function returning a pointer returned (its address is `retval`), for casts of retval. */
    readonly retObject?: unknown,
  ) {}

  /** Tracepoint fields by name, as `args.<field>` reads them in bpftrace. Empty for kprobes. */
  get fields(): FieldRecord {
    if (this.cachedFields === undefined) this.cachedFields = this.site.buildFields(this);
    return this.cachedFields;
  }

  /** argN as a 64-bit register value: integers as-is, kernel objects as their address. */
  argValue(index: number): number {
    return registerValue(this.args[index]);
  }
}

/** The register view of a simulated value: numbers pass through, kernel objects give their kaddr. */
export function registerValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'object' && v !== null && 'kaddr' in v) {
    const addr = (v as { kaddr: unknown }).kaddr;
    if (typeof addr === 'number') return addr;
  }
  return 0;
}

const EMPTY_FIELDS: FieldRecord = Object.freeze({});

/** A probe site: a tracepoint, or one side (entry or return) of a probed kernel function. */
export class ProbeSite {
  /** The static-key analog: call sites test this before building anything. */
  enabled = false;
  /** Firings while enabled (all of them while counting is on): what a live view ranks sites by. */
  hits = 0;
  private counting = false;
  private handlers: ProbeHandler[] = [];

  constructor(
    readonly provider: ProbeProvider,
    /** Full probe name, e.g. `tracepoint:block:block_rq_issue` or `kprobe:vfs_read`. */
    readonly fullName: string,
    /** Tracepoint fields (format-file order); empty for kprobes. */
    readonly fields: readonly FormatField[],
    /** Function parameters (kprobes) for `-lv`; empty for tracepoints. */
    readonly params: readonly FuncParam[],
    private readonly assign: ((hit: ProbeHit) => FieldRecord) | undefined,
  ) {}

  get handlerCount(): number {
    return this.handlers.length;
  }

  /** Attaches a handler; returns the function that detaches it. Handlers run in attach order. */
  attach(handler: ProbeHandler): () => void {
    this.handlers = [...this.handlers, handler];
    this.enabled = true;
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      const i = this.handlers.indexOf(handler);
      if (i >= 0) this.handlers = [...this.handlers.slice(0, i), ...this.handlers.slice(i + 1)];
      this.enabled = this.handlers.length > 0 || this.counting;
    };
  }

  /**
   * Counts every firing, with or without handlers (the site is enabled, so call sites pay their
   * argument work; no hit record is built when nobody listens).
   */
  setCounting(on: boolean): void {
    this.counting = on;
    this.enabled = this.handlers.length > 0 || on;
  }

  /** @internal Builds the field record for a hit. */
  buildFields(hit: ProbeHit): FieldRecord {
    return this.assign ? this.assign(hit) : EMPTY_FIELDS;
  }

  /** Fires the site. Callers guard with `if (site.enabled)` so this is never reached when off. */
  fire(ctx: HitContext, ioId: number, args: readonly unknown[], retval: number | undefined, retObject?: unknown): void {
    this.hits++;
    const list = this.handlers;
    if (list.length === 0) return;
    const hit = new ProbeHit(this, ctx.nowNs, ctx.cpuId, ctx.pid, ctx.tid, ctx.comm, ioId, args, retval, retObject);
    for (let i = 0; i < list.length; i++) list[i]!(hit);
  }
}

/** A tracepoint with a typed TP_PROTO. */
export class Tracepoint<P extends readonly unknown[]> extends ProbeSite {
  constructor(fullName: string, fields: readonly FormatField[], assign: (hit: ProbeHit, ...args: P) => FieldRecord) {
    super('tracepoint', fullName, fields, [], (hit) => assign(hit, ...(hit.args as unknown as P)));
  }

  emit(ctx: HitContext, ioId: number, ...args: P): void {
    this.fire(ctx, ioId, args, undefined);
  }
}

/** kprobe and kretprobe sites of one modeled kernel function. */
export class FuncProbe<P extends readonly unknown[]> {
  readonly entry: ProbeSite;
  readonly ret: ProbeSite;

  constructor(
    readonly func: string,
    readonly params: readonly FuncParam[],
    readonly returnType: string,
  ) {
    this.entry = new ProbeSite('kprobe', `kprobe:${func}`, [], params, undefined);
    this.ret = new ProbeSite('kretprobe', `kretprobe:${func}`, [], params, undefined);
  }

  enter(ctx: HitContext, ioId: number, ...args: P): void {
    this.entry.fire(ctx, ioId, args, undefined);
  }

  /** The return; a function returning a kernel object passes it, retval is then its address. */
  exit(ctx: HitContext, ioId: number, retval: number, retObject?: unknown): void {
    this.ret.fire(ctx, ioId, [], retval, retObject);
  }
}

/** A C type's size in bytes as an 8-byte register slot holds it (pointers, longs: 8). */
function cTypeBytes(type: string): number {
  if (type.endsWith('*')) return 8;
  if (/\b(char|u8|s8|bool)$/.test(type)) return 1;
  if (/\b(short|u16|s16|umode_t)$/.test(type)) return 2;
  if (/\b(int|u32|s32|pid_t|fmode_t|blk_opf_t|blk_status_t|dev_t|gfp_t)$/.test(type) && !/long/.test(type)) return 4;
  return 8;
}

/**
 * fentry/fexit (a BPF trampoline on a function: its arguments as `args.NAME`, fexit with
 * `retval`) and rawtracepoint (a tracepoint's TP_PROTO arguments unformatted, arg0..argN): other
 * views of a site the kernel fires. Attaching to a view attaches to that site; each hit is handed
 * on as the view's, so `probe` names the view and `args` reads the function's parameters.
 * SIMPLIFICATION: a view costs one hit record more per firing than its site, not less (a real
 * fentry is cheaper than a kprobe); only when attached.
 */
export class ViewSite extends ProbeSite {
  constructor(
    provider: ViewProvider,
    fullName: string,
    params: readonly FuncParam[],
    private readonly base: ProbeSite,
    /** fexit: the function's entry, whose arguments the return's hit is given. */
    private readonly entry: ProbeSite | undefined,
  ) {
    let offset = 0;
    const fields: FormatField[] =
      provider === 'rawtracepoint'
        ? []
        : params.map((p) => {
            const size = cTypeBytes(p.type);
            const f: FormatField = [`${p.type}${p.type.endsWith('*') ? '' : ' '}${p.name}`, p.name, offset, size, !/unsigned|^u\d|size_t|\*$/.test(p.type)];
            offset += 8;
            return f;
          });
    super(provider, fullName, fields, params, (hit) => {
      const rec: Record<string, FieldValue> = {};
      params.forEach((p, i) => {
        const v = hit.args[i];
        rec[p.name] = typeof v === 'string' ? v : registerValue(v);
      });
      return rec;
    });
  }

  override attach(handler: ProbeHandler): () => void {
    const entry = this.entry;
    if (entry === undefined) {
      return this.base.attach((hit) => handler(new ProbeHit(this, hit.timeNs, hit.cpu, hit.pid, hit.tid, hit.comm, hit.ioId, hit.args, hit.retval, hit.retObject)));
    }
    // fexit: each thread's calls in flight, innermost last, so a return gets its own call's arguments
    const calls = new Map<number, (readonly unknown[])[]>();
    const detachEntry = entry.attach((hit) => {
      let stack = calls.get(hit.tid);
      if (stack === undefined) calls.set(hit.tid, (stack = []));
      stack.push(hit.args);
    });
    const detachRet = this.base.attach((hit) => {
      const args = calls.get(hit.tid)?.pop() ?? [];
      handler(new ProbeHit(this, hit.timeNs, hit.cpu, hit.pid, hit.tid, hit.comm, hit.ioId, args, hit.retval, hit.retObject));
    });
    return () => {
      detachEntry();
      detachRet();
    };
  }
}

/** All probe sites of one machine, for listing and wildcard matching. */
export class ProbeRegistry {
  private readonly sites: ProbeSite[] = [];
  private readonly byName = new Map<string, ProbeSite>();
  /** fentry/fexit/rawtracepoint views by name, made the first time they are asked for. */
  private viewSites: Map<string, ViewSite> | undefined;

  add<S extends ProbeSite>(site: S): S {
    if (this.byName.has(site.fullName)) throw new Error(`duplicate probe site ${site.fullName}`);
    this.sites.push(site);
    this.byName.set(site.fullName, site);
    return site;
  }

  addFunc<P extends readonly unknown[]>(fp: FuncProbe<P>): FuncProbe<P> {
    this.add(fp.entry);
    this.add(fp.ret);
    return fp;
  }

  get(fullName: string): ProbeSite | undefined {
    return this.byName.get(fullName) ?? (isViewName(fullName) ? this.views().get(fullName) : undefined);
  }

  /** The fentry, fexit and rawtracepoint views of every function and tracepoint, by name. */
  views(): ReadonlyMap<string, ViewSite> {
    if (this.viewSites !== undefined) return this.viewSites;
    const views = new Map<string, ViewSite>();
    for (const site of this.sites) {
      const name = site.fullName;
      if (site.provider === 'kprobe') {
        const fn = name.slice('kprobe:'.length);
        const ret = this.byName.get(`kretprobe:${fn}`);
        views.set(`fentry:${VMLINUX}:${fn}`, new ViewSite('fentry', `fentry:${VMLINUX}:${fn}`, site.params, site, undefined));
        if (ret) views.set(`fexit:${VMLINUX}:${fn}`, new ViewSite('fexit', `fexit:${VMLINUX}:${fn}`, site.params, ret, site));
      } else if (site.provider === 'tracepoint') {
        const event = name.slice(name.lastIndexOf(':') + 1);
        const raw = `rawtracepoint:${VMLINUX}:${event}`;
        // kiotrace: sites are no kernel tracepoints, so they have no raw form
        if (!name.startsWith('tracepoint:kiotrace:') && !views.has(raw)) views.set(raw, new ViewSite('rawtracepoint', raw, [], site, undefined));
      }
    }
    this.viewSites = views;
    return views;
  }

  /** Every site, sorted by full name. */
  all(): ProbeSite[] {
    return [...this.sites].sort((a, b) => (a.fullName < b.fullName ? -1 : a.fullName > b.fullName ? 1 : 0));
  }

  /** Sites whose full name matches a glob (`*` any run, `?` one char), sorted by name. */
  match(glob: string): ProbeSite[] {
    if (!isViewName(glob)) return this.all().filter((s) => globMatches(glob, s.fullName));
    return [...this.views().values()].filter((s) => globMatches(glob, s.fullName)).sort((a, b) => (a.fullName < b.fullName ? -1 : a.fullName > b.fullName ? 1 : 0));
  }
}

function isViewName(name: string): boolean {
  return name.startsWith('fentry:') || name.startsWith('fexit:') || name.startsWith('rawtracepoint:');
}

/**
 * Whether `name` matches `glob` (`*` any run, `?` one character), as the shell matches: the
 * greedy walk that backs up only to the last `*`, so O(glob x name) at worst. (A regular
 * expression of `*a*a*a...` backtracks exponentially.)
 */
export function globMatches(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const c = glob[g];
    if (c !== undefined && c !== '*' && (c === '?' || c === name[n])) {
      g++;
      n++;
    } else if (c === '*') {
      star = g++;
      resume = n;
    } else if (star >= 0) {
      g = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}
