// The simulated kernel's global and per-CPU variables as a script reads them by address:
// `kaddr("avenrun")` gives the symbol's address and `*addr` reads the unsigned long there, as
// loads.bt does with avenrun[0..2]; `percpu_kaddr("runqueues", cpu)` gives a CPU's copy of a
// per-CPU variable (its struct rq, read through a (struct rq *) cast).
//
// SIMPLIFICATION: only the variables listed here have addresses (the simulated kernel's objects
// are reached through typed pointers, not raw memory); reading any other address gives 0.
// SIMPLIFICATION: process_counts (forks per CPU) is not kept; each CPU's copy reads as the number
// of tasks that last ran there.

import type { Machine, RqView } from '../core/index.js';

/** A kernel variable: where it sits and how to read the 8-byte word at an offset into it. */
interface KernelVariable {
  readonly addr: number;
  readonly sizeBytes: number;
  /** The unsigned long at `offsetBytes` (a multiple of 8) into the variable. */
  readonly readWord: (offsetBytes: number) => number;
  /** The struct the variable is, for a typed pointer to it (struct rq). */
  readonly object?: { readonly structName: string; readonly obj: object };
}

/** Where the per-CPU area starts and how far apart the CPUs' copies are (__per_cpu_offset). */
const PERCPU_BASE = 0x2000_0000_0000;
const PERCPU_STRIDE = 0x4_0000;
/** Offsets of the per-CPU variables in each CPU's copy of the area. */
const PERCPU_OFFSETS: Readonly<Record<string, number>> = { runqueues: 0x2_c000, process_counts: 0x1_f0a8 };

function variables(m: Machine): ReadonlyMap<string, KernelVariable> {
  const l = m.k.loadavg;
  return new Map<string, KernelVariable>([
    // kernel/sched/loadavg.c: unsigned long avenrun[3]
    ['avenrun', { addr: l.kaddr, sizeBytes: 24, readWord: (off) => l.avenrun[off / 8] ?? 0 }],
  ]);
}

/** Each CPU's copies of the per-CPU variables, by name then CPU. */
function perCpuVariables(m: Machine): ReadonlyMap<string, readonly KernelVariable[]> {
  const cpus = m.k.sched.cpus;
  const at = (name: string, cpu: number): number => PERCPU_BASE + cpu * PERCPU_STRIDE + PERCPU_OFFSETS[name]!;
  const runqueues = cpus.map((c, i): KernelVariable => {
    const rq: RqView = { kaddr: at('runqueues', i), cpu: i, nrRunning: () => c.rq.length + (c.current === c.idle ? 0 : 1) };
    return { addr: rq.kaddr, sizeBytes: 8, readWord: () => rq.nrRunning(), object: { structName: 'rq', obj: rq } };
  });
  const processCounts = cpus.map(
    (_c, i): KernelVariable => ({ addr: at('process_counts', i), sizeBytes: 8, readWord: () => m.k.tasks.filter((t) => !t.kthread && t.cpu === i).length }),
  );
  return new Map([
    ['runqueues', runqueues],
    ['process_counts', processCounts],
  ]);
}

/** The kernel symbols a script can take the address of, and what their memory holds. */
export class KernelMemory {
  private readonly vars: ReadonlyMap<string, KernelVariable>;
  private readonly perCpu: ReadonlyMap<string, readonly KernelVariable[]>;
  private readonly all: readonly KernelVariable[];

  constructor(m: Machine) {
    this.vars = variables(m);
    this.perCpu = perCpuVariables(m);
    this.all = [...this.vars.values(), ...[...this.perCpu.values()].flat()];
  }

  /** kallsyms: the address of a variable, undefined when kiotrace gives it none. */
  addressOf(symbol: string): number | undefined {
    return this.vars.get(symbol)?.addr;
  }

  /** Whether `symbol` is a per-CPU variable here. */
  isPerCpu(symbol: string): boolean {
    return this.perCpu.has(symbol);
  }

  /** percpu_kaddr(symbol, cpu): that CPU's copy (0 for a CPU the machine does not have). */
  perCpuAddressOf(symbol: string, cpu: number): number {
    return this.perCpu.get(symbol)?.[cpu]?.addr ?? 0;
  }

  /** The struct a variable at `addr` is, for a cast to a pointer to it. */
  objectAt(addr: bigint): { readonly structName: string; readonly obj: object; readonly addr: number } | undefined {
    const v = this.all.find((x) => BigInt(x.addr) === addr);
    return v?.object ? { ...v.object, addr: v.addr } : undefined;
  }

  /** The `bytes`-wide little-endian value at `addr` (0 outside the known variables). */
  read(addr: bigint, bytes: number): bigint {
    for (const v of this.all) {
      const off = Number(addr) - v.addr;
      if (off < 0 || off >= v.sizeBytes) continue;
      const wordOff = off - (off % 8);
      const word = BigInt(v.readWord(wordOff));
      return BigInt.asUintN(bytes * 8, word >> BigInt((off - wordOff) * 8));
    }
    return 0n;
  }
}
