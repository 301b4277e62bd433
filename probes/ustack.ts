// bpftrace's `ustack`: the user-space call chain of the task a probe hit, in bpftrace's text form
// (one `function+offset` per line, innermost first, as kstack prints).
//
// The simulated programs run no machine code, so there is nothing to unwind: a task's user stack
// is the call chain the real program has at that point, from the program it exec'd (mm's exe
// path) and the syscall it is in. fio (fio 3.x, fork per job): main -> fio_backend ->
// run_threads -> fork_main -> thread_main -> do_io -> td_io_queue -> the ioengine's queue or
// commit function -> the C library's syscall wrapper.
// SIMPLIFICATION: only fio's stacks are described; other programs (and kernel threads, as in
// Linux) have an empty user stack. Offsets are synthetic but stable, as kstack's.

import type { Task } from '../core/index.js';
import { KernelStacks } from './kstack.js';

/** fio's frames below the I/O loop, innermost first (the process a job forks). */
const FIO_MAIN = ['thread_main', 'fork_main', 'run_threads', 'fio_backend', 'main', '__libc_start_call_main', '__libc_start_main_impl', '_start'];

/** fio's I/O path into an ioengine, innermost first. */
const FIO_IO = ['td_io_queue', 'do_io', ...FIO_MAIN];

/** What fio calls each syscall from, innermost first, above FIO_MAIN (the default: the wrapper alone). */
const FIO_SYSCALL_FRAMES: Readonly<Record<string, readonly string[]>> = {
  // psync (pread/pwrite), sync (read/write), and fsync/fdatasync issued as a DDIR_SYNC io_u
  pread64: ['__libc_pread64', 'fio_psyncio_queue', ...FIO_IO],
  pwrite64: ['__libc_pwrite64', 'fio_psyncio_queue', ...FIO_IO],
  preadv2: ['preadv2', 'fio_pvsyncio2_queue', ...FIO_IO],
  pwritev2: ['pwritev2', 'fio_pvsyncio2_queue', ...FIO_IO],
  read: ['__libc_read', 'fio_syncio_queue', ...FIO_IO],
  write: ['__libc_write', 'fio_syncio_queue', ...FIO_IO],
  fsync: ['fsync', 'do_io_u_sync', 'fio_psyncio_queue', ...FIO_IO],
  fdatasync: ['fdatasync', 'do_io_u_sync', 'fio_psyncio_queue', ...FIO_IO],
  // libaio and io_uring submit through syscall(2)
  io_submit: ['syscall', 'io_submit', 'fio_libaio_commit', 'td_io_commit', 'do_io', ...FIO_MAIN],
  io_getevents: ['syscall', 'io_getevents', 'fio_libaio_getevents', 'td_io_getevents', 'io_u_queued_complete', 'do_io', ...FIO_MAIN],
  io_uring_enter: ['syscall', 'io_uring_enter', 'fio_ioring_commit', 'td_io_commit', 'do_io', ...FIO_MAIN],
  // thinktime and startdelay sleep through usleep()
  clock_nanosleep: ['clock_nanosleep', 'usleep', 'usec_sleep', 'handle_thinktime', 'do_io', ...FIO_MAIN],
  nanosleep: ['nanosleep', 'usleep', 'usec_sleep', 'handle_thinktime', 'do_io', ...FIO_MAIN],
  openat: ['__libc_open64', 'generic_open_file', 'td_io_open_file', 'open_files', ...FIO_MAIN],
  close: ['__close', 'generic_close_file', 'td_io_close_file', 'close_files', ...FIO_MAIN],
  fadvise64: ['posix_fadvise', 'file_invalidate_cache', 'td_io_open_file', 'open_files', ...FIO_MAIN],
  execve: ['execve', 'main', '__libc_start_call_main', '__libc_start_main_impl', '_start'],
};

/** The frames of a task's user stack now, innermost first (empty: no user stack). */
export function userFrames(task: Task | undefined): readonly string[] {
  if (task === undefined || task.kthread || task.mm?.exePath !== '/usr/bin/fio') return [];
  const sc = task.syscall;
  if (sc === undefined) return ['do_io', ...FIO_MAIN];
  return FIO_SYSCALL_FRAMES[sc] ?? [sc, ...FIO_MAIN];
}

/** `ustack` / `ustack(limit)` as bpftrace prints it. */
export function formatUserStack(task: Task | undefined, limit: number): string {
  return KernelStacks.format(userFrames(task), limit);
}

