// Models: include/uapi/asm-generic/errno-base.h: the errno values the simulated kernel returns
// (negated, as kernel functions return them).

export const ENOENT = 2;
export const EIO = 5;
export const EBADF = 9;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENOSPC = 28;

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  [ENOENT]: 'ENOENT',
  [EIO]: 'EIO',
  [EBADF]: 'EBADF',
  [ENOMEM]: 'ENOMEM',
  [EACCES]: 'EACCES',
  [EFAULT]: 'EFAULT',
  [EISDIR]: 'EISDIR',
  [EINVAL]: 'EINVAL',
  [ENOSPC]: 'ENOSPC',
};

/** The symbolic name of an errno (positive or negated), as strace prints it. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[Math.abs(errno)] ?? `E${Math.abs(errno)}`;
}
