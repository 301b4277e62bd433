// Models: fs/fcntl.c (the fcntl syscall -> do_fcntl) for the commands that change what the I/O
// path does: F_SET_RW_HINT / F_GET_RW_HINT (fcntl_rw_hint), the expected lifetime of the data
// written to a file. The hint lives on the inode (i_write_hint), so every open file of the inode
// sees it; direct I/O and writeback copy it into each bio (bi_write_hint).
// SIMPLIFICATION: the u64 hint travels in `arg` by value instead of through a user pointer, and
// F_GET_RW_HINT returns it as the syscall's result (Linux copies it out and returns 0).
// F_GETFL / F_SETFL read and change the file's status flags (setfl: O_APPEND, O_NONBLOCK, O_DIRECT
// may change), which a socket's read/write/accept/connect consult for -EAGAIN.
// SIMPLIFICATION: the other commands (F_SETLK, ...) are -EINVAL; F_SET_FILE_RW_HINT is
// -EINVAL as on Linux since 5.17, where the per-file hint was removed.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';
import { EBADF, EINVAL } from '../uapi/errno.js';
import { O, RWH_WRITE_LIFE } from './types.js';

/** F_GETFL / F_SETFL (include/uapi/asm-generic/fcntl.h). */
export const F_GETFL = 3;
export const F_SETFL = 4;
/** SETFL_MASK: the status flags F_SETFL may change. */
const SETFL_MASK = O.APPEND | O.NONBLOCK | O.DIRECT;

/** F_LINUX_SPECIFIC_BASE + 11..14 (include/uapi/linux/fcntl.h). */
export const F_GET_RW_HINT = 1035;
export const F_SET_RW_HINT = 1036;
export const F_GET_FILE_RW_HINT = 1037;
export const F_SET_FILE_RW_HINT = 1038;

/** fcntl(fd, cmd, arg): 0 (or the hint for F_GET_RW_HINT) or -errno. */
export function* sysFcntl(k: Kernel, task: Task, fd: number, cmd: number, arg: number): Generator<number, number, void> {
  syscallEnter(k, task, 'fcntl', fd, cmd, arg);
  yield SYSCALL_ENTRY_NS;
  const file = task.files?.get(fd);
  let ret: number;
  if (file === undefined) ret = -EBADF;
  else if (cmd === F_GETFL) ret = file.flags;
  else if (cmd === F_SETFL) {
    file.flags = (file.flags & ~SETFL_MASK) | (arg & SETFL_MASK);
    ret = 0;
  } else if (cmd === F_GET_RW_HINT) ret = file.inode.writeHint;
  else if (cmd === F_SET_RW_HINT) {
    // rw_hint_valid: NOT_SET .. EXTREME
    if (!Number.isInteger(arg) || arg < RWH_WRITE_LIFE.NOT_SET || arg > RWH_WRITE_LIFE.EXTREME) ret = -EINVAL;
    else {
      yield VFS_DISPATCH_NS; // inode_lock, store
      file.inode.writeHint = arg;
      ret = 0;
    }
  } else ret = -EINVAL;
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'fcntl', ret);
}
