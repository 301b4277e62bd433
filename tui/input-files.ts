// The files a run reads that the user names: scenario files, script files, and cat() under
// --unsafe. Each is opened without blocking (a FIFO with no writer would wait forever, and
// signals with it), checked by type and size before a byte is read, and read up to a ceiling,
// so no file can hang the command or fill its memory.

import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from 'node:fs';
import { fsErrorText } from './output-files.js';
import { formatBytes } from './units.js';

export interface TextFileRules {
  /** What the file is, for messages ("a scenario file"). */
  readonly what: string;
  /** The largest file accepted, in bytes. */
  readonly maxBytes: number;
  /** What to give instead of something that is not a regular file ("give a .json file"). */
  readonly instead: string;
  /** Open errors in strerror()'s words ("No such file or directory"), as bpftrace prints them. */
  readonly strerror?: boolean;
}

/** Why a path cannot be opened, worded for the user. */
function openProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ENXIO') return 'it is a socket or a device without a reader';
  return fsErrorText(e);
}

/** The kind of a file that is not a regular one, for messages. */
function kindOf(st: { isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  return st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
}

/**
 * The UTF-8 text of a regular file of at most `rules.maxBytes` (a leading BOM dropped), or why
 * it cannot be one.
 */
export function readTextFile(path: string, rules: TextFileRules): string | { readonly reason: string } {
  const fd = openForReading(path, rules.strerror === true ? fsErrorText : openProblem);
  if (typeof fd !== 'number') return fd;
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { reason: 'it is a directory' };
    if (!st.isFile()) return { reason: `it is ${kindOf(st)}, not a regular file; ${rules.instead}` };
    if (st.size > rules.maxBytes) return { reason: `it is ${formatBytes(st.size)}; ${rules.what} is at most ${formatBytes(rules.maxBytes)}` };
    const bytes = readUpTo(fd, rules.maxBytes + 1);
    // the file may have grown since fstat
    if (bytes.length > rules.maxBytes) return { reason: `it is over ${formatBytes(rules.maxBytes)}; ${rules.what} is at most that` };
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return { reason: 'it is not UTF-8 text' };
    }
  } catch (e) {
    return { reason: fsErrorText(e) };
  } finally {
    closeSync(fd);
  }
}

/**
 * At most `maxBytes` of whatever `path` is (a device or FIFO too, as cat(1) reads it, but never
 * waiting for data that is not there yet), as text; or why it cannot be read, in strerror()'s
 * words as bpftrace's cat() prints them.
 */
export function readHostFile(path: string, maxBytes: number): string | { readonly reason: string } {
  const fd = openForReading(path, fsErrorText);
  if (typeof fd !== 'number') return fd;
  try {
    if (fstatSync(fd).isDirectory()) return { reason: 'it is a directory' };
    return new TextDecoder('utf-8').decode(readUpTo(fd, maxBytes));
  } catch (e) {
    return { reason: fsErrorText(e) };
  } finally {
    closeSync(fd);
  }
}

/**
 * `path` opened for reading without ever blocking (a FIFO with no writer, a terminal), or why it
 * cannot be, in `describe`'s words.
 */
function openForReading(path: string, describe: (e: unknown) => string): number | { readonly reason: string } {
  if (path.includes('\0')) return { reason: 'a path cannot contain a NUL byte' };
  try {
    return openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK | fsConstants.O_NOCTTY);
  } catch (e) {
    return { reason: describe(e) };
  }
}

/** Reads until end of file, `limit` bytes, or no data ready (EAGAIN on a FIFO or device). */
function readUpTo(fd: number, limit: number): Buffer {
  const buffer = Buffer.alloc(limit);
  let length = 0;
  while (length < limit) {
    let n: number;
    try {
      n = readSync(fd, buffer, length, limit - length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw e;
    }
    if (n === 0) break;
    length += n;
  }
  return buffer.subarray(0, length);
}
