// Models: fio's engine registry (ioengines.c: load_ioengine / find_ioengine): an ioengine= name
// resolves to its ops table. Each job gets its own instance, as each fio thread loads its engine.

import type { IoEngineOps } from './engine.js';
import { createPsyncEngine } from './psync.js';
import { createSyncEngine } from './sync.js';
import { createMmapEngine } from './mmap.js';
import { libaioEngine } from './libaio.js';
import { ioUringEngine } from './io_uring.js';
import { createLsmEngine } from './lsm.js';

/** Makes a fresh engine for one job (engines keep per-job state: maps, rings, file positions). */
export type EngineFactory = () => IoEngineOps;

const registry = new Map<string, EngineFactory>([
  ['psync', createPsyncEngine],
  ['sync', createSyncEngine],
  ['mmap', createMmapEngine],
  // the async engines keep their per-job state keyed on the job's EngineContext
  ['libaio', () => libaioEngine],
  ['io_uring', () => ioUringEngine],
  // kiotrace's own: an LSM-tree store whose reads are point lookups (core/userspace/engines/lsm.ts)
  ['lsm', createLsmEngine],
]);

/**
 * Adds an engine under its ioengine= name (libaio and io_uring register here). A stateless ops
 * table may be given as is; an engine with per-job state gives a factory.
 */
export function registerEngine(name: string, engine: EngineFactory | IoEngineOps): void {
  registry.set(name, typeof engine === 'function' ? engine : () => engine);
}

/** A new instance of the named engine, or undefined when no engine has that name. */
export function createEngine(name: string): IoEngineOps | undefined {
  return registry.get(name)?.();
}

/** The ioengine= names that resolve, in registration order. */
export function engineNames(): string[] {
  return [...registry.keys()];
}
