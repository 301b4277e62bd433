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
export const EMFILE = 24;
export const ENOSPC = 28;
export const ESPIPE = 29;
export const EROFS = 30;
export const EPIPE = 32;
export const ELOOP = 40;
export const ENODATA = 61;
export const ETIME = 62;
export const ENOLINK = 67;
export const ENOTSOCK = 88;
export const EDESTADDRREQ = 89;
export const ENOPROTOOPT = 92;
export const EPROTONOSUPPORT = 93;
export const EOPNOTSUPP = 95;
export const EAFNOSUPPORT = 97;
export const EADDRINUSE = 98;
export const EADDRNOTAVAIL = 99;
export const ENETUNREACH = 101;
export const ECONNRESET = 104;
export const EISCONN = 106;
export const ENOTCONN = 107;
export const ETIMEDOUT = 110;
export const ECONNREFUSED = 111;
export const EALREADY = 114;
export const EINPROGRESS = 115;
export const ESTALE = 116;
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
  [EMFILE]: 'EMFILE',
  [ENOSPC]: 'ENOSPC',
  [ESPIPE]: 'ESPIPE',
  [EROFS]: 'EROFS',
  [EPIPE]: 'EPIPE',
  [ELOOP]: 'ELOOP',
  [ENODATA]: 'ENODATA',
  [ETIME]: 'ETIME',
  [ENOLINK]: 'ENOLINK',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
  [ETIMEDOUT]: 'ETIMEDOUT',
  [ESTALE]: 'ESTALE',
  [ECONNRESET]: 'ECONNRESET',
  [ENOTCONN]: 'ENOTCONN',
  [EREMOTEIO]: 'EREMOTEIO',
  [ENOTSOCK]: 'ENOTSOCK',
  [EDESTADDRREQ]: 'EDESTADDRREQ',
  [ENOPROTOOPT]: 'ENOPROTOOPT',
  [EPROTONOSUPPORT]: 'EPROTONOSUPPORT',
  [EAFNOSUPPORT]: 'EAFNOSUPPORT',
  [EADDRINUSE]: 'EADDRINUSE',
  [EADDRNOTAVAIL]: 'EADDRNOTAVAIL',
  [ENETUNREACH]: 'ENETUNREACH',
  [EISCONN]: 'EISCONN',
  [ECONNREFUSED]: 'ECONNREFUSED',
  [EALREADY]: 'EALREADY',
  [EINPROGRESS]: 'EINPROGRESS',
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
  [EPIPE]: 'Broken pipe',
  [EADDRINUSE]: 'Address already in use',
  [ECONNREFUSED]: 'Connection refused',
  [ECONNRESET]: 'Connection reset by peer',
};

/** strerror(-ret): the text a C program prints for an errno. */
export function strerror(ret: number): string {
  return STRERROR[Math.abs(ret)] ?? errnoName(ret);
}
