// Module resolution hooks for hold-ink.ts: `ink` resolves only once the gate file exists.
import { existsSync } from 'node:fs';

interface ResolveContext {
  readonly parentURL?: string | undefined;
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<unknown>;

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<unknown> {
  const gate = process.env['KIOTRACE_TEST_INK_GATE'];
  if (specifier === 'ink' && gate !== undefined) {
    // waits for a condition (the test creates the file), polled
    while (!existsSync(gate)) await new Promise((r) => setTimeout(r, 20));
  }
  return nextResolve(specifier, context);
}
