// Models: BUG_ON (include/asm-generic/bug.h): a broken invariant inside the simulator.
// The simulated kernel reports its own failures as errno values; SimBug is only for our bugs.

export class SimBug extends Error {
  constructor(message: string) {
    super(`kiotrace internal error (SimBug): ${message}`);
    this.name = 'SimBug';
  }
}

/** BUG_ON analog: throws SimBug when the condition holds. */
export function bugOn(condition: boolean, message: string): void {
  if (condition) throw new SimBug(message);
}
