// Models: the attribute files of sysfs (fs/sysfs, kernfs: a kobj_attribute's ->show/->store) and
// procfs's sysctl table (kernel/sysctl.c, proc_dointvec handlers): what `echo VALUE > /sys/...`
// or `> /proc/sys/...` does when a scenario event writes one while the machine runs.
// Each attribute is a row of SYSFS_ATTRIBUTES: the path (with {disk} for a block device's name),
// the value check the store handler does (run at scenario load, so a bad value is a located
// error before the run), and the store itself, in the writing task's context.
// SIMPLIFICATION: only the attributes in the table exist; no directories, listing or permissions
// (the writer is root); a value is one line of text without its newline.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { mappingTryInvalidate } from '../mm/fadvise.js';
import { readAheadKbProblem } from '../mm/readahead.js';
import { EINVAL, ENODEV } from '../uapi/errno.js';
import { ELEVATOR_NAMES, elvIoschedStore, isElevatorName } from '../block/elevator.js';
import { allInodes } from './sync.js';

/** What the placeholders of an attribute's path named. */
export interface SysfsTarget {
  /** The block device's kernel name, for /sys/block/{disk}/... */
  readonly disk: string;
}

/** One attribute file: struct kobj_attribute (or a ctl_table row), with its store handler. */
export interface SysfsAttribute {
  /** The path, with {disk} standing for a block device's name. */
  readonly path: string;
  /** An example value, for messages. */
  readonly example: string;
  /** Why the store handler would refuse `value` (what to write instead), or undefined. */
  check(value: string): string | undefined;
  /** ->store: applies `value` (already checked); 0 or -errno. */
  store(k: Kernel, task: Task, target: SysfsTarget, value: string): Generator<number, number, void>;
}

/** A non-negative decimal integer as kstrtoul reads it (a trailing newline is not part of the value here). */
function parseUnsigned(value: string): number | undefined {
  return /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}

/** The cost of one attribute write past the syscall: kernfs_fop_write_iter's copy and the lookup. */
const ATTRIBUTE_STORE_NS = 500;

/** /sys/block/<disk>/queue/read_ahead_kb (queue_ra_store): files opened afterwards start with this window. */
const READ_AHEAD_KB: SysfsAttribute = {
  path: '/sys/block/{disk}/queue/read_ahead_kb',
  example: '128',
  check(value) {
    const kb = parseUnsigned(value);
    return kb === undefined ? 'must be a number of KiB like 128 (0 turns readahead off)' : readAheadKbProblem(kb);
  },
  *store(k, _task, target, value) {
    const q = k.queues.find((queue) => queue.diskName === target.disk);
    if (q === undefined) return -ENODEV;
    yield ATTRIBUTE_STORE_NS;
    // ra_kb >> (PAGE_SHIFT - 10): open files keep the window they started with (file_ra_state_init)
    q.raPages = Number(value) / 4;
    return 0;
  },
};

/**
 * /proc/sys/vm/drop_caches (drop_caches_sysctl_handler): 1 drops the clean, unmapped page cache of
 * every inode (invalidate_mapping_pages), 2 the slab caches, 3 both; dirty pages stay (run sync first).
 */
const DROP_CACHES: SysfsAttribute = {
  path: '/proc/sys/vm/drop_caches',
  example: '3',
  check(value) {
    const n = parseUnsigned(value);
    return n === undefined || n < 1 || n > 4 ? 'must be 1 (page cache), 2 (slab), 3 (both) or 4 (quiet)' : undefined;
  },
  *store(k, task, _target, value) {
    const n = Number(value);
    if (n < 1 || n > 4) return -EINVAL;
    yield ATTRIBUTE_STORE_NS;
    // SIMPLIFICATION: no slab caches (dentries, inodes) are modelled, so 2 has nothing to drop
    if (n & 1) {
      for (const inode of allInodes(k)) {
        if (inode.mapping.pages.size === 0) continue;
        yield* mappingTryInvalidate(k, task, task.ioId, inode.mapping, 0, Number.MAX_SAFE_INTEGER);
      }
    }
    return 0;
  },
};

/**
 * /sys/block/<disk>/queue/scheduler (elv_iosched_store -> elevator_switch): the disk's I/O scheduler
 * changes on the live queue; requests it holds move to the new one (core/block/elevator.ts).
 */
const SCHEDULER: SysfsAttribute = {
  path: '/sys/block/{disk}/queue/scheduler',
  example: 'bfq',
  check(value) {
    return isElevatorName(value.trim()) ? undefined : `must be one of ${ELEVATOR_NAMES.join(', ')}`;
  },
  *store(k, _task, target, value) {
    const q = k.queues.find((queue) => queue.diskName === target.disk);
    if (q === undefined) return -ENODEV;
    yield ATTRIBUTE_STORE_NS;
    return elvIoschedStore(q, value);
  },
};

/** Every attribute a scenario event may write. */
export const SYSFS_ATTRIBUTES: readonly SysfsAttribute[] = [READ_AHEAD_KB, DROP_CACHES, SCHEDULER];

/** The attribute at `path` on a machine with these disks, with what its placeholders named. */
export function findAttribute(path: string, diskNames: readonly string[]): { readonly attribute: SysfsAttribute; readonly target: SysfsTarget } | undefined {
  for (const attribute of SYSFS_ATTRIBUTES) {
    const [before, after] = attribute.path.split('{disk}') as [string, string | undefined];
    if (after === undefined) {
      if (path === before) return { attribute, target: { disk: '' } };
      continue;
    }
    if (!path.startsWith(before) || !path.endsWith(after) || path.length <= before.length + after.length) continue;
    const disk = path.slice(before.length, path.length - after.length);
    if (diskNames.includes(disk)) return { attribute, target: { disk } };
  }
  return undefined;
}

/** The paths a machine with these disks has, for "did you mean" lists. */
export function attributePaths(diskNames: readonly string[]): string[] {
  return SYSFS_ATTRIBUTES.flatMap((a) => (a.path.includes('{disk}') ? diskNames.map((d) => a.path.replace('{disk}', d)) : [a.path]));
}
