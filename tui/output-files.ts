// The files a run writes. Neither kind ever throws: the first error is kept and reported in one
// line, and the run goes on. A symlink is written through to its target, an existing file keeps
// its mode, and a new file gets the umask's.
// - StreamedFile: a program's output (-o FILE), written in place as it is produced, as bpftrace
//   writes it: a user can `tail -f` it, and memory stays flat however much a program prints.
// - ReplacedFile: a trace file, written beside its destination and renamed into place at the
//   end, so a failed or killed run never leaves a half-written trace under the user's name.

import { accessSync, closeSync, constants as fsConstants, fchmodSync, lstatSync, openSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ownValue } from '../probes/lang/values.js';

/** strerror() text of a Node file-system error, as bpftrace and coreutils print it (with a hint where it helps). */
export function fsErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const texts: Readonly<Record<string, string>> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    EPERM: 'Operation not permitted',
    EISDIR: 'Is a directory',
    ENOTDIR: 'Not a directory',
    ENOSPC: 'No space left on device (disk full)',
    EDQUOT: 'Disk quota exceeded',
    EFBIG: 'File too large',
    EROFS: 'Read-only file system',
    EIO: 'Input/output error',
    ENAMETOOLONG: 'File name too long',
    ELOOP: 'Too many levels of symbolic links',
    ENXIO: 'No such device or address (a FIFO with no reader?)',
    EPIPE: 'Broken pipe (nothing reads it any more)',
    EINVAL: 'Invalid argument (it cannot be read or written like a file)',
  };
  return (code !== undefined ? ownValue(texts, code) : undefined) ?? code ?? (e instanceof Error ? e.message : String(e));
}

/**
 * Where bytes written to `path` land: symlinks followed, also to a file that is not there yet
 * (a dangling link, or a new name in a linked directory).
 */
export function outputTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // not there (yet): a dangling link points at its target's name, else the name in its real directory
  }
  try {
    if (lstatSync(path).isSymbolicLink()) return resolve(dirname(path), readlinkSync(path));
  } catch {
    // no such link either
  }
  try {
    return resolve(realpathSync(dirname(path)), basename(path));
  } catch {
    return resolve(path);
  }
}

/** Two paths name one file: one target, or one device and inode (hard links). */
export function sameFile(a: string, b: string): boolean {
  if (outputTarget(a) === outputTarget(b)) return true;
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/**
 * Write ends of FIFOs opened without blocking when they were checked, held until the output
 * opens them for real: opening a FIFO waits for a reader (forever, deaf to signals, if none
 * comes), and closing the probe before the real open would hand the reader an end of file.
 */
const fifoWriteEnds = new Map<string, number>();

/** Why the FIFO at `path` cannot be written now (no reader), or undefined, holding a write end. */
function fifoProblem(path: string): string | undefined {
  if (fifoWriteEnds.has(path)) return undefined;
  try {
    fifoWriteEnds.set(path, openSync(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENXIO') return 'it is a FIFO with nothing reading it; start the reader first';
    return fsErrorText(e);
  }
}

/** Opens `path` to write it from the start; a FIFO only when a reader is there, never waiting. */
function openForWriting(path: string): number {
  let fifo = false;
  try {
    fifo = statSync(path).isFIFO();
  } catch {
    fifo = false;
  }
  if (!fifo) return openSync(path, 'w');
  const problem = fifoProblem(path);
  if (problem !== undefined) throw Object.assign(new Error(problem), { code: 'ENXIO' });
  // a reader is there, so this open does not wait; then the probe's end can go
  const fd = openSync(path, 'w');
  closeSync(fifoWriteEnds.get(path)!);
  fifoWriteEnds.delete(path);
  return fd;
}

/**
 * Why `path` cannot be written as `how` writes it, found without creating or touching anything;
 * undefined when it can. In place (-o) needs the file writable, or its directory for a new one;
 * replaced (trace files) needs the target's directory too, for the temporary file beside it.
 */
export function outputProblem(path: string, how: 'in-place' | 'replaced'): string | undefined {
  if (path === '') return 'No such file or directory (an empty file name)';
  let special = false;
  try {
    const st = statSync(path);
    if (st.isDirectory()) return 'Is a directory';
    if (st.isFIFO()) return fifoProblem(path);
    // open(2) of a socket fails (ENXIO), after the whole run; /dev/stdout is one under a program
    // that started kiotrace with a socket pair for its output (Node's child_process does)
    if (st.isSocket()) return 'it is a socket, which cannot be opened like a file; write to a file or a FIFO';
    accessSync(path, fsConstants.W_OK);
    special = !st.isFile();
    if (how === 'in-place' || special) return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return fsErrorText(e);
  }
  // open(2) refuses to create "x.json/" (EISDIR); path functions would drop the slash and write x.json
  if (path.endsWith('/')) return 'Is a directory (a name ending in "/"; give a file name)';
  try {
    const dir = dirname(outputTarget(path));
    if (!statSync(dir).isDirectory()) return 'Not a directory';
    accessSync(dir, fsConstants.W_OK);
    return undefined;
  } catch (e) {
    return fsErrorText(e);
  }
}

/** Bytes gathered before a write(2): few system calls for a flood of short lines. */
const BUFFER_BYTES = 64 * 1024;

export class StreamedFile {
  private fd: number | undefined;
  private readonly pending: string[] = [];
  /** UTF-16 units buffered: near enough to bytes to decide when to write. */
  private pendingUnits = 0;
  /** The first write error; once set, later output is counted, not written. */
  error: string | undefined;
  bytesWritten = 0;
  bytesLost = 0;

  constructor(readonly path: string) {}

  write(text: string): void {
    if (this.error !== undefined) {
      this.bytesLost += Buffer.byteLength(text);
      return;
    }
    this.pending.push(text);
    this.pendingUnits += text.length;
    if (this.pendingUnits >= BUFFER_BYTES) this.flush();
  }

  /** Writes what is buffered (the caller flushes between simulation slices, so `tail -f` follows). */
  flush(): void {
    if (this.error !== undefined) return;
    try {
      this.fd ??= openForWriting(this.path);
      if (this.pending.length === 0) return;
      const data = Buffer.from(this.pending.join(''));
      this.pending.length = 0;
      this.pendingUnits = 0;
      let offset = 0;
      try {
        while (offset < data.length) offset += writeSync(this.fd, data, offset);
      } finally {
        this.bytesWritten += offset;
        this.bytesLost += data.length - offset;
      }
    } catch (e) {
      this.error = fsErrorText(e);
      for (const t of this.pending) this.bytesLost += Buffer.byteLength(t);
      this.pending.length = 0;
      this.pendingUnits = 0;
    }
  }

  /** Flushes and closes; returns the error that lost output, if any. */
  close(): string | undefined {
    this.flush();
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch (e) {
        this.error ??= fsErrorText(e);
      }
      this.fd = undefined;
    }
    return this.error;
  }
}

/** Temporary files not yet renamed into place: a process that exits at once (a second Ctrl-C) removes them. */
const partialFiles = new Set<string>();
let exitHookInstalled = false;

function trackPartial(path: string): void {
  partialFiles.add(path);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of partialFiles) rmSync(p, { force: true });
  });
}

/**
 * A file written through a temporary name beside its destination and renamed into place by
 * commit(). Devices and pipes (/dev/null, /dev/stdout, a FIFO) are written directly: there is
 * nothing to replace.
 */
export class ReplacedFile {
  private fd: number | undefined;
  /** Where the data ends up: the path, or the target of the symlink it is. */
  private readonly target: string;
  private readonly tmpPath: string | undefined;
  /** A regular file was there before: a failed run leaves it as it was. */
  private readonly replaces: boolean;
  bytes = 0;
  error: unknown;

  constructor(
    /** The flag that named it, for messages (--perfetto). */
    readonly flag: string,
    readonly path: string,
  ) {
    let special = false;
    let mode: number | undefined;
    try {
      const st = statSync(path);
      special = !st.isFile();
      if (!special) mode = st.mode & 0o7777;
    } catch {
      special = false;
    }
    this.target = outputTarget(path);
    this.replaces = mode !== undefined;
    // the pid keeps two runs writing the same name out of each other's temporary file
    this.tmpPath = special ? undefined : `${this.target}.kiotrace-partial-${process.pid}`;
    try {
      this.fd = this.tmpPath !== undefined ? openSync(this.tmpPath, 'w') : openForWriting(path);
      if (this.tmpPath !== undefined) trackPartial(this.tmpPath);
      // the file that replaces the user's keeps its permissions
      if (mode !== undefined) fchmodSync(this.fd, mode);
    } catch (e) {
      this.error = e;
    }
  }

  get failed(): boolean {
    return this.error !== undefined;
  }

  write(data: Uint8Array | string): void {
    if (this.fd === undefined || this.error !== undefined) return;
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    try {
      // a device or pipe may take part of a buffer
      for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at, bytes.length - at);
      this.bytes += bytes.length;
    } catch (e) {
      this.error = e;
    }
  }

  /** Closes it and puts it in place; on an error the temporary file goes and the destination stays as it was. */
  commit(): void {
    this.close();
    if (this.tmpPath === undefined) return;
    if (this.error === undefined) {
      try {
        renameSync(this.tmpPath, this.target);
        partialFiles.delete(this.tmpPath);
        return;
      } catch (e) {
        this.error = e;
      }
    }
    this.removePartial();
  }

  /** Closes it and removes the temporary file: the destination stays as it was. */
  abandon(): void {
    this.close();
    this.removePartial();
  }

  private close(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch (e) {
      this.error ??= e;
    }
    this.fd = undefined;
  }

  private removePartial(): void {
    if (this.tmpPath === undefined) return;
    rmSync(this.tmpPath, { force: true });
    partialFiles.delete(this.tmpPath);
  }

  /** The line for stderr when it could not be written. */
  errorLine(): string {
    const kept = this.tmpPath === undefined ? '' : this.replaces ? `; the ${this.path} that was there is unchanged` : `; no ${this.path} was written`;
    return `ERROR: ${this.flag} ${this.path}: ${fsErrorText(this.error)}${kept}`;
  }
}
