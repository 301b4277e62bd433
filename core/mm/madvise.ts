// Models: mm/madvise.c: madvise(2)'s access-pattern hints on mappings. MADV_SEQUENTIAL and
// MADV_RANDOM set VM_SEQ_READ / VM_RAND_READ, which decide how a major fault reads ahead
// (filemap.ts: doSyncMmapReadahead); MADV_WILLNEED on a file mapping is POSIX_FADV_WILLNEED on
// the mapped range.
// SIMPLIFICATION: a hint covering part of a VMA applies to the whole VMA (Linux splits it).
// SIMPLIFICATION: only MADV_NORMAL, RANDOM, SEQUENTIAL and WILLNEED; other advice is -EINVAL.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { PAGE_SIZE, VM } from './mm_types.js';
import { genericFadvise, POSIX_FADV } from './fadvise.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';
import { EINVAL, ENOMEM } from '../uapi/errno.js';

/** include/uapi/asm-generic/mman-common.h */
export const MADV = { NORMAL: 0, RANDOM: 1, SEQUENTIAL: 2, WILLNEED: 3 } as const;

/** madvise(start, len, behavior): 0, or -errno (-ENOMEM when part of the range is not mapped). */
export function* sysMadvise(k: Kernel, task: Task, startVa: number, lenBytes: number, behavior: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'madvise', startVa, lenBytes, behavior);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const ret = yield* doMadvise(k, task, ioId, startVa, lenBytes, behavior);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'madvise', ret);
}

function* doMadvise(k: Kernel, task: Task, ioId: number, startVa: number, lenBytes: number, behavior: number): Generator<number, number, void> {
  const mm = task.mm;
  if (!mm || startVa % PAGE_SIZE !== 0 || lenBytes < 0) return -EINVAL;
  if (behavior !== MADV.NORMAL && behavior !== MADV.RANDOM && behavior !== MADV.SEQUENTIAL && behavior !== MADV.WILLNEED) return -EINVAL;
  const endVa = startVa + Math.ceil(lenBytes / PAGE_SIZE) * PAGE_SIZE;
  if (endVa === startVa) return 0;
  const vmas = mm.vmas.filter((v) => v.endVa > startVa && v.startVa < endVa).sort((a, b) => a.startVa - b.startVa);
  let covered = startVa;
  let unmapped = false;
  for (const vma of vmas) {
    if (vma.startVa > covered) unmapped = true;
    const from = Math.max(startVa, vma.startVa);
    const to = Math.min(endVa, vma.endVa);
    covered = to;
    if (behavior === MADV.WILLNEED) {
      // madvise_willneed: only file mappings; the file range behind [from, to)
      if (vma.file) yield* genericFadvise(k, task, ioId, vma.file, from - vma.startVa + vma.pgoff * PAGE_SIZE, to - from, POSIX_FADV.WILLNEED);
      continue;
    }
    vma.flags &= ~(VM.SEQ_READ | VM.RAND_READ);
    if (behavior === MADV.SEQUENTIAL) vma.flags |= VM.SEQ_READ;
    else if (behavior === MADV.RANDOM) vma.flags |= VM.RAND_READ;
  }
  return unmapped || covered < endVa ? -ENOMEM : 0;
}
