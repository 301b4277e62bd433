// A program's output file (-o FILE), written as the output is produced, as bpftrace writes it:
// a user can `tail -f` it, and memory stays flat however much a program prints. The file is
// opened in place (a symlink is written through to its target, an existing file keeps its mode,
// a new one gets the umask's), and only once the program has compiled, so a script with a
// mistake never truncates what the user had.

import { closeSync, openSync, writeSync } from 'node:fs';

/** strerror() text of a Node file-system error, as bpftrace and coreutils print it. */
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
    ENXIO: 'No such device or address',
    EPIPE: 'Broken pipe',
  };
  if (code !== undefined && Object.hasOwn(texts, code)) return texts[code]!;
  return code ?? (e instanceof Error ? e.message : String(e));
}

/** Bytes gathered before a write(2): few system calls for a flood of short lines. */
const BUFFER_BYTES = 64 * 1024;

export class StreamedFile {
  private fd: number | undefined;
  private readonly pending: string[] = [];
  private pendingBytes = 0;
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
    this.pendingBytes += text.length;
    if (this.pendingBytes >= BUFFER_BYTES) this.flush();
  }

  /** Writes what is buffered (the caller flushes between simulation slices, so `tail -f` follows). */
  flush(): void {
    if (this.error !== undefined) return;
    try {
      this.fd ??= openSync(this.path, 'w');
      if (this.pending.length === 0) return;
      const data = Buffer.from(this.pending.join(''));
      this.pending.length = 0;
      this.pendingBytes = 0;
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
      this.pendingBytes = 0;
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
