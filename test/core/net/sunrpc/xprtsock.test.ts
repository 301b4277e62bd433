// RPC over a byte stream (xprtsock/svcsock record marking) on a test-only pipe with bandwidth,
// latency and a send buffer: record sizes cost wire time, partial sends wait for write space.
import test from 'node:test';
import assert from 'node:assert/strict';
import { sysClose, sysMmap, sysOpenat, AT_FDCWD } from '../../../../core/fs/open.js';
import { sysPread64, sysWrite } from '../../../../core/fs/read_write.js';
import { O } from '../../../../core/fs/types.js';
import { MAP, PROT } from '../../../../core/mm/mmap.js';
import { RpcRecordStream } from '../../../../core/net/sunrpc/xprtsock.js';
import { bootNfsPairStream, record } from '../../../helpers/nfs.js';

const SEC = 1_000_000_000;

test('records: a message is handed over when its last byte (marker included) arrives, in order', () => {
  const s = new RpcRecordStream<string>();
  assert.equal(s.push('a', 96), 100);
  assert.equal(s.push('b', 4), 8);
  assert.deepEqual(s.received(99), []);
  assert.deepEqual(s.received(1), ['a']);
  assert.deepEqual(s.received(7), []);
  assert.deepEqual(s.received(1), ['b']);
});

test('NFS over a stream: a 1 MiB READ reply costs its wire time, writes bigger than the send buffer go out in pieces', () => {
  // 1 GB/s each way (1 byte/ns), 50 us one way, 256 KiB send buffers
  const p = bootNfsPairStream('rsize=1048576,wsize=1048576', { data: 4 << 20 }, { oneWayNs: 50_000, bytesPerNs: 1, sndbufBytes: 256 * 1024 });
  const lat = record(p.client, ['tracepoint:sunrpc:rpc_stats_latency', 'tracepoint:sunrpc:rpc_task_sleep']);
  let readNs = -1;
  p.client.spawn('app', false, (t) => (function* () {
    const k = p.client.k;
    const buf = yield* sysMmap(k, t, 0, 1 << 20, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nfs/data', O.RDWR, 0);
    // POSIX_FADV_RANDOM-free 1 MiB read at 2 MiB: readahead asks for 1 MiB (the request) in one READ
    const t0 = k.env.nowNs;
    assert.equal(yield* sysPread64(k, t, fd, buf, 1 << 20, 2 << 20), 1 << 20);
    readNs = k.env.nowNs - t0;
    assert.equal(yield* sysWrite(k, t, fd, buf, 1 << 20), 1 << 20);
    assert.equal(yield* sysClose(k, t, fd), 0);
  })(), p.client.init);
  p.client.run(SEC);
  // the reply's 1 MiB at 1 byte/ns, plus two hops
  assert.ok(readNs > (1 << 20) + 100_000, `read ${readNs}`);
  const reads = lat.filter((h) => h.fields['procname'] === 'READ');
  assert.ok(reads.length >= 1 && reads.every((h) => Number(h.fields['rtt']) >= 1048), JSON.stringify(reads.map((h) => h.fields['rtt'])));
  // the WRITE call (1 MiB) did not fit the 256 KiB send buffer: its task waited for write space
  assert.ok(p.pipe.shortSends > 0);
  assert.ok(lat.some((h) => h.site.fullName === 'tracepoint:sunrpc:rpc_task_sleep' && h.fields['q_name'] === 'xprt_pending' && h.fields['status'] === -11));
  assert.equal(p.server.k.vfs.lookup('/export/data')?.sizeBytes, 4 << 20);
  const writes = lat.filter((h) => h.fields['procname'] === 'WRITE');
  assert.equal(writes.length, 1);
});
