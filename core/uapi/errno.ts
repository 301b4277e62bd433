// Models: include/uapi/asm-generic/errno-base.h and errno.h: the errno values the simulated
// kernel returns (negated, as kernel functions return them).

export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const ENXIO = 6;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const ENOTBLK = 15;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EISDIR = 21;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EROFS = 30;
export const ENODATA = 61;
export const ETIME = 62;
export const ENOLINK = 67;
export const EOPNOTSUPP = 95;
export const ETIMEDOUT = 110;
export const ESTALE = 116;
// the transport's errors an RPC retries after reconnecting (net/sunrpc/clnt.c call_status)
export const EPIPE = 32;
export const ECONNRESET = 104;
export const ENOTCONN = 107;
export const EREMOTEIO = 121;

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [EINTR]: 'EINTR',
  [EIO]: 'EIO',
  [ENXIO]: 'ENXIO',
  [EBADF]: 'EBADF',
  [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM',
  [EACCES]: 'EACCES',
  [EFAULT]: 'EFAULT',
  [ENOTBLK]: 'ENOTBLK',
  [EBUSY]: 'EBUSY',
  [EEXIST]: 'EEXIST',
  [ENODEV]: 'ENODEV',
  [EISDIR]: 'EISDIR',
  [EINVAL]: 'EINVAL',
  [ENOSPC]: 'ENOSPC',
  [EROFS]: 'EROFS',
  [ENODATA]: 'ENODATA',
  [ETIME]: 'ETIME',
  [ENOLINK]: 'ENOLINK',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
  [ETIMEDOUT]: 'ETIMEDOUT',
  [ESTALE]: 'ESTALE',
  [EPIPE]: 'EPIPE',
  [ECONNRESET]: 'ECONNRESET',
  [ENOTCONN]: 'ENOTCONN',
  [EREMOTEIO]: 'EREMOTEIO',
};

/** The symbolic name of an errno (positive or negated), as strace prints it. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[Math.abs(errno)] ?? `E${Math.abs(errno)}`;
}

/** strerror(3)'s text for the errnos the tools print. */
const STRERROR: Readonly<Record<number, string>> = {
  [EPERM]: 'Operation not permitted',
  [ENOENT]: 'No such file or directory',
  [EACCES]: 'Permission denied',
  [EFAULT]: 'Bad address',
  [EBUSY]: 'Device or resource busy',
  [EEXIST]: 'File exists',
  [EISDIR]: 'Is a directory',
  [EINVAL]: 'Invalid argument',
};

/** strerror(-ret): the text a C program prints for an errno. */
export function strerror(ret: number): string {
  return STRERROR[Math.abs(ret)] ?? errnoName(ret);
}
