// Models: what a file's bytes are, where Linux keeps them: in page-cache folios (mm/filemap.c) and
// in the device's blocks, and the points where they move between the two (a read fills a folio
// from its block, writeback and O_DIRECT write blocks when the write completes on the device).
// kiotrace stores no data bytes; each page of a file carries a version instead: every write()
// into a folio, every store through a MAP_SHARED mapping and every O_DIRECT write makes the next
// version of the pages it covers. A folio holds the version it was filled with or last written;
// a device block holds the version of the last write that completed there. A reader sees its
// folio's version, so coherence (same folio, same version) and durability (which version a
// crash leaves on the device) can be read off.
// SIMPLIFICATION: a device block's version is kept per file page (address_space, index), so the
// same block written through the raw device node and read through the filesystem is not seen as
// one; versions are per page, not per byte.
// SIMPLIFICATION: a write is durable once it completes on the device: the devices' volatile
// write caches are treated as power-safe (flushes do not change what a crash keeps).

import type { AddressSpace } from './mm_types.js';
import type { Inode } from '../fs/types.js';

/** One file's page versions: the last one written by anyone, and the one on the device. */
export class PageVersions {
  /** index -> the version of the last write()/store/O_DIRECT write of that page. */
  readonly written = new Map<number, number>();
  /** index -> the version the device block of that page holds (absent: never written, 0). */
  readonly onDevice = new Map<number, number>();
}

function versionsOf(mapping: AddressSpace): PageVersions {
  let v = mapping.versions;
  if (!v) {
    v = new PageVersions();
    mapping.versions = v;
  }
  return v;
}

/** A write of page `index` begins: returns its new version (one more than the last written). */
export function nextPageVersion(mapping: AddressSpace, index: number): number {
  const v = versionsOf(mapping);
  const next = (v.written.get(index) ?? 0) + 1;
  v.written.set(index, next);
  return next;
}

/** The version of the last write of page `index` (0: never written in this run). */
export function lastWrittenVersion(mapping: AddressSpace, index: number): number {
  return mapping.versions?.written.get(index) ?? 0;
}

/** The version the device block of page `index` holds (0: as laid out before the run). */
export function deviceVersion(mapping: AddressSpace, index: number): number {
  return mapping.versions?.onDevice.get(index) ?? 0;
}

/**
 * A write of page `index` carrying `version` completed on the device. Writes can complete out of
 * order (a writeback and an O_DIRECT write of one block): the device keeps what landed last.
 */
export function persistPageVersion(mapping: AddressSpace, index: number, version: number): void {
  versionsOf(mapping).onDevice.set(index, version);
}

/** A page whose device block does not hold its last written version. */
export interface LostPage {
  readonly index: number;
  readonly writtenVersion: number;
  readonly deviceVersion: number;
}

/** What a crash leaves of one file: pages written in the run, pages kept and pages lost. */
export interface CrashFileReport {
  readonly path: string;
  readonly ino: number;
  readonly pagesWritten: number;
  readonly pagesKept: number;
  readonly lost: readonly LostPage[];
}

/** What survives of `inode` on its device at a crash: every page written is compared. */
export function crashFileReport(inode: Inode): CrashFileReport {
  const v = inode.mapping.versions;
  const lost: LostPage[] = [];
  let pagesWritten = 0;
  if (v) {
    const indices = [...v.written.keys()].sort((a, b) => a - b);
    for (const index of indices) {
      pagesWritten++;
      const written = v.written.get(index)!;
      const onDevice = v.onDevice.get(index) ?? 0;
      if (onDevice !== written) lost.push({ index, writtenVersion: written, deviceVersion: onDevice });
    }
  }
  return { path: inode.path, ino: inode.ino, pagesWritten, pagesKept: pagesWritten - lost.length, lost };
}
