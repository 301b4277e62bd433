// The simulated kernel's global variables as a script reads them by address: `kaddr("avenrun")`
// gives the symbol's address and `*addr` reads the unsigned long there, as loads.bt does with
// avenrun[0..2].
//
// SIMPLIFICATION: only the variables listed here have addresses (the simulated kernel's objects
// are reached through typed pointers, not raw memory); reading any other address gives 0.

import type { Machine } from '../core/index.js';

/** A kernel variable: where it sits and how to read the 8-byte word at an offset into it. */
interface KernelVariable {
  readonly addr: number;
  readonly sizeBytes: number;
  /** The unsigned long at `offsetBytes` (a multiple of 8) into the variable. */
  readonly readWord: (offsetBytes: number) => number;
}

function variables(m: Machine): ReadonlyMap<string, KernelVariable> {
  const l = m.k.loadavg;
  return new Map<string, KernelVariable>([
    // kernel/sched/loadavg.c: unsigned long avenrun[3]
    ['avenrun', { addr: l.kaddr, sizeBytes: 24, readWord: (off) => l.avenrun[off / 8] ?? 0 }],
  ]);
}

/** The kernel symbols a script can take the address of, and what their memory holds. */
export class KernelMemory {
  private readonly vars: ReadonlyMap<string, KernelVariable>;

  constructor(m: Machine) {
    this.vars = variables(m);
  }

  /** kallsyms: the address of a variable, undefined when kiotrace gives it none. */
  addressOf(symbol: string): number | undefined {
    return this.vars.get(symbol)?.addr;
  }

  /** The `bytes`-wide little-endian value at `addr` (0 outside the known variables). */
  read(addr: bigint, bytes: number): bigint {
    for (const v of this.vars.values()) {
      const off = Number(addr) - v.addr;
      if (off < 0 || off >= v.sizeBytes) continue;
      const wordOff = off - (off % 8);
      const word = BigInt(v.readWord(wordOff));
      return BigInt.asUintN(bytes * 8, word >> BigInt((off - wordOff) * 8));
    }
    return 0n;
  }
}
