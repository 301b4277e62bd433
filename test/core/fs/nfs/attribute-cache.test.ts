// The NFS client's attribute cache (fs/nfs/inode.c): GETATTR cadence with attrtimeo doubling,
// reset and invalidation on a remote change, noac/actimeo=0, close-to-open, and page-cache hits.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { Task } from '../../../../core/kernel/sched/task.js';
import { sysClose, sysMmap, sysOpenat, AT_FDCWD } from '../../../../core/fs/open.js';
import { sysPread64, sysPwrite64 } from '../../../../core/fs/read_write.js';
import { sysNewfstatat } from '../../../../core/fs/stat.js';
import { O } from '../../../../core/fs/types.js';
import { MAP, PROT } from '../../../../core/mm/mmap.js';
import { nanosleep } from '../../../../core/kernel/time/timer.js';
import type { Machine } from '../../../../core/index.js';
import { bootNfsPair, record, type NfsPair } from '../../../helpers/nfs.js';

const SEC = 1_000_000_000;

/** A client process: `body` with a 64 KiB buffer. */
function onClient(p: NfsPair, body: (m: Machine, t: Task, buf: number) => Generator<number, void, void>): void {
  p.client.spawn('reader', false, (t) => (function* () {
    const buf = yield* sysMmap(p.client.k, t, 0, 65536, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    yield* body(p.client, t, buf);
  })(), p.client.init);
}

/** GETATTRs the client sent, as seconds after `t0Ns` (rounded to the nearest second). */
function getattrSeconds(p: NfsPair, hits: ReturnType<typeof record>, t0Ns: number): number[] {
  return hits.filter((h) => h.fields['procname'] === 'GETATTR').map((h) => Math.round((h.timeNs - t0Ns) / SEC));
}

test('an unchanging file read every second: GETATTR at 3, 9, 21, 45, 93, 153 s after the first fetch', () => {
  const p = bootNfsPair('vers=3,proto=tcp');
  const hits = record(p.client, ['tracepoint:sunrpc:rpc_request']);
  let reads = 0;
  onClient(p, function* (m, t, buf) {
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDONLY, 0);
    for (let i = 0; i < 161; i++) {
      assert.equal(yield* sysPread64(m.k, t, fd, buf, 4096, 0), 4096);
      reads++;
      yield* nanosleep(m.k, t, SEC);
    }
  });
  p.client.run(160 * SEC + SEC / 2);
  assert.ok(reads >= 160);
  const procs = hits.map((h) => h.fields['procname']);
  // the first attributes come with open's LOOKUP
  assert.equal(procs[0], 'LOOKUP');
  assert.deepEqual(getattrSeconds(p, hits, hits[0]!.timeNs), [3, 9, 21, 45, 93, 153]);
  // one READ: every later read is a page-cache hit
  assert.equal(procs.filter((x) => x === 'READ').length, 1);
});

/** A reader that reads 4 KiB every second `times` times, returning the GETATTR and READ counts. */
function readEverySecond(options: string, times: number): { getattr: number; read: number; reads: number } {
  const p = bootNfsPair(options);
  const hits = record(p.client, ['tracepoint:sunrpc:rpc_request']);
  let reads = 0;
  onClient(p, function* (m, t, buf) {
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDONLY, 0);
    for (let i = 0; i < times; i++) {
      assert.equal(yield* sysPread64(m.k, t, fd, buf, 4096, 0), 4096);
      reads++;
      yield* nanosleep(m.k, t, SEC);
    }
  });
  p.client.run(times * SEC);
  const procs = hits.map((h) => h.fields['procname']);
  return { getattr: procs.filter((x) => x === 'GETATTR').length, read: procs.filter((x) => x === 'READ').length, reads };
}

test('noac and actimeo=0: one GETATTR per read, data still from the page cache', () => {
  for (const options of ['noac', 'actimeo=0']) {
    const r = readEverySecond(options, 6);
    assert.deepEqual(r, { getattr: 6, read: 1, reads: 6 }, options);
  }
  // the default caches: no GETATTR within the first 3 s
  assert.deepEqual(readEverySecond('', 3), { getattr: 0, read: 1, reads: 3 });
});

test('stat every second follows the same cadence (nfs_getattr)', () => {
  const p = bootNfsPair('');
  const hits = record(p.client, ['tracepoint:sunrpc:rpc_request']);
  onClient(p, function* (m, t) {
    for (let i = 0; i < 50; i++) {
      assert.equal(yield* sysNewfstatat(m.k, t, AT_FDCWD, '/mnt/nfs/data', 0), 0);
      yield* nanosleep(m.k, t, SEC);
    }
  });
  p.client.run(50 * SEC);
  assert.equal(hits[0]!.fields['procname'], 'LOOKUP');
  // the file at 3, 9, 21, 45; the path walk's directory (acdirmin 30 s) at 30
  assert.deepEqual(getattrSeconds(p, hits, hits[0]!.timeNs), [3, 9, 21, 30, 45]);
});

test('a change on the server: the next GETATTR sees it, attrtimeo drops to acregmin, the cached pages go', () => {
  const p = bootNfsPair('');
  const hits = record(p.client, ['tracepoint:sunrpc:rpc_request', 'tracepoint:nfs:nfs_invalidate_mapping_enter']);
  onClient(p, function* (m, t, buf) {
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDONLY, 0);
    for (let i = 0; i < 36; i++) {
      assert.equal(yield* sysPread64(m.k, t, fd, buf, 4096, 0), 4096);
      yield* nanosleep(m.k, t, SEC);
    }
  });
  // a process on the server writes the exported file at 10.5 s
  p.server.spawn('writer', false, (t) => (function* () {
    const k = p.server.k;
    const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    yield* nanosleep(k, t, 10.5 * SEC);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/export/data', O.WRONLY, 0);
    assert.equal(yield* sysPwrite64(k, t, fd, buf, 4096, 8192), 4096);
    yield* sysClose(k, t, fd);
  })(), p.server.init);
  p.client.run(36 * SEC);
  const t0 = hits[0]!.timeNs;
  const at = (pred: (h: (typeof hits)[number]) => boolean): number[] => hits.filter(pred).map((h) => Math.round((h.timeNs - t0) / SEC));
  assert.deepEqual(at((h) => h.fields['procname'] === 'GETATTR'), [3, 9, 21, 24, 30]);
  // the stale pages are dropped when the change is seen, and read again
  assert.deepEqual(at((h) => h.site.fullName === 'tracepoint:nfs:nfs_invalidate_mapping_enter'), [21]);
  assert.deepEqual(at((h) => h.fields['procname'] === 'READ'), [0, 21]);
});

test('close-to-open: open revalidates a cached file (GETATTR); nocto does not', () => {
  const opens = (options: string): string[] => {
    const p = bootNfsPair(options);
    const hits = record(p.client, ['tracepoint:sunrpc:rpc_request']);
    onClient(p, function* (m, t, buf) {
      for (let i = 0; i < 3; i++) {
        const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDONLY, 0);
        assert.equal(yield* sysPread64(m.k, t, fd, buf, 4096, 0), 4096);
        assert.equal(yield* sysClose(m.k, t, fd), 0);
        yield* nanosleep(m.k, t, SEC / 2);
      }
    });
    p.client.run(2 * SEC);
    return hits.map((h) => String(h.fields['procname']));
  };
  assert.deepEqual(opens(''), ['LOOKUP', 'ACCESS', 'READ', 'GETATTR', 'GETATTR']);
  assert.deepEqual(opens('nocto'), ['LOOKUP', 'ACCESS', 'READ']);
});
