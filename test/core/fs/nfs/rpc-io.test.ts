// NFS reads and writes over the RPC layer: a miss costs the round trip plus the server's disk,
// writes go out as WRITE UNSTABLE + COMMIT on close and fsync, the tracepoints carry Linux's
// fields (read by a bpftrace script), the slot table bounds calls in flight, soft mounts time out.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { Task } from '../../../../core/kernel/sched/task.js';
import { sysClose, sysFsync, sysMmap, sysOpenat, AT_FDCWD } from '../../../../core/fs/open.js';
import { sysPread64, sysWrite } from '../../../../core/fs/read_write.js';
import { O } from '../../../../core/fs/types.js';
import { sysSync } from '../../../../core/fs/sync.js';
import { sysNewfstatat } from '../../../../core/fs/stat.js';
import { nanosleep } from '../../../../core/kernel/time/timer.js';
import { MAP, PROT } from '../../../../core/mm/mmap.js';
import { mkdev } from '../../../../core/kernel/kernel.js';
import { NFS3PROC } from '../../../../core/fs/nfs/nfs3xdr.js';
import { parseNfsMountOptions, mountNfs } from '../../../../core/fs/nfs/super.js';
import { Environment } from '../../../../core/sim/engine.js';
import { bootMachine, DEFAULT_MACHINE, type Machine } from '../../../../core/index.js';
import { xprtConnected, xprtDisconnectDone, type RpcRqst, type RpcXprtOps } from '../../../../core/net/sunrpc/xprt.js';
import { runScript } from '../../../../probes/script.js';
import { scriptOptions } from '../../../helpers/script.js';
import { bootNfsPair, record, type NfsPair } from '../../../helpers/nfs.js';

const SEC = 1_000_000_000;
const US = 1000;

function onClient(p: { client: Machine }, body: (m: Machine, t: Task, buf: number) => Generator<number, void, void>): void {
  p.client.spawn('app', false, (t) => (function* () {
    const buf = yield* sysMmap(p.client.k, t, 0, 1 << 20, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    yield* body(p.client, t, buf);
  })(), p.client.init);
}

/** The latency of one 4 KiB pread of each path in turn (each opened first, outside the timing). */
function readLatencies(p: NfsPair, paths: readonly string[]): number[] {
  const out: number[] = [];
  onClient(p, function* (m, t, buf) {
    for (const path of paths) {
      const fd = yield* sysOpenat(m.k, t, AT_FDCWD, path, O.RDONLY, 0);
      const t0 = m.env.nowNs;
      assert.equal(yield* sysPread64(m.k, t, fd, buf, 4096, 0), 4096);
      out.push(m.env.nowNs - t0);
    }
  });
  p.client.run(p.env.nowNs + SEC / 10);
  return out;
}

test('an NFS page-cache miss costs the round trip more than a local ext4 miss; a hit costs neither', () => {
  const oneWay = 100 * US;
  const p = bootNfsPair('', { data: 1 << 20 }, oneWay);
  p.client.k.vfs.fsFor('/mnt/nvme')!.createFile('/mnt/nvme/local', 1 << 20, '/mnt/nvme/local');
  const [local, nfs] = readLatencies(p, ['/mnt/nvme/local', '/mnt/nfs/data']) as [number, number];
  // the NFS miss: the round trip, the server's own miss on the same kind of disk, RPC and nfsd CPU
  assert.ok(nfs - local >= 2 * oneWay, `nfs ${nfs} local ${local}`);
  assert.ok(nfs - local <= 2 * oneWay + local, `nfs ${nfs} local ${local}`);
  // a second read of the same page: no RPC at all
  const before = p.transport.calls.length;
  const [hit] = readLatencies(p, ['/mnt/nfs/data']) as [number];
  assert.ok(hit < 10 * US, `hit ${hit}`);
  // open's close-to-open GETATTR is the only call
  assert.deepEqual(p.transport.calls.slice(before), [NFS3PROC.GETATTR]);
});

test('the tracepoints carry Linux fields that a bpftrace script reads', () => {
  const p = bootNfsPair('');
  onClient(p, function* (m, t, buf) {
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDONLY, 0);
    assert.equal(yield* sysPread64(m.k, t, fd, buf, 65536, 0), 65536);
  });
  let out = '';
  const script = [
    'tracepoint:sunrpc:rpc_request { @calls[str(args.progname), args.version, str(args.procname), args.async] = count(); }',
    'tracepoint:nfs:nfs_initiate_read { @read[args.offset, args.count] = count(); }',
    'tracepoint:nfs:nfs_readpage_done { @done[args.res_count, args.eof, args.error, args.dev] = count(); }',
    'tracepoint:nfs:nfs_lookup_exit { @lookup[str(args.name), args.error] = count(); }',
    'tracepoint:sunrpc:rpc_task_sleep { @sleep[str(args.q_name)] = count(); }',
  ].join('\n');
  const r = runScript(p.client, scriptOptions(script, SEC, (text, stream) => {
    if (stream === 'stdout') out += text;
  }, { quiet: true }));
  assert.equal(r.exitCode, 0);
  assert.match(out, /@calls\[nfs, 3, LOOKUP, 0\]: 1/);
  assert.match(out, /@calls\[nfs, 3, ACCESS, 0\]: 1/);
  assert.match(out, /@calls\[nfs, 3, READ, 1\]: 1/);
  // the first read of 64 KiB: readahead's first window (4x the request, capped at ra_pages = 128 KiB) as one READ
  assert.match(out, /@read\[0, 131072\]: 1/);
  assert.match(out, new RegExp(`@done\\[131072, 0, 0, ${mkdev(0, 50)}\\]: 1`));
  assert.match(out, /@lookup\[data, 0\]: 1/);
  assert.match(out, /@sleep\[xprt_pending\]: 3/);
});

test('writes: buffered, then WRITE UNSTABLE and COMMIT on close; the server has the data', () => {
  const p = bootNfsPair('', {});
  const hits = record(p.client, ['tracepoint:nfs:nfs_initiate_write', 'tracepoint:nfs:nfs_writeback_done', 'tracepoint:nfs:nfs_commit_done']);
  let closedAt = -1;
  onClient(p, function* (m, t, buf) {
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/new', O.WRONLY | O.CREAT, 0o644);
    assert.ok(fd >= 0);
    for (let i = 0; i < 3; i++) assert.equal(yield* sysWrite(m.k, t, fd, buf, 1 << 20), 1 << 20);
    // nothing has gone to the server yet
    assert.equal(p.transport.calls.filter((c) => c === NFS3PROC.WRITE).length, 0);
    assert.equal(yield* sysClose(m.k, t, fd), 0);
    closedAt = m.env.nowNs;
  });
  p.client.run(SEC);
  assert.ok(closedAt > 0);
  const calls = p.transport.calls;
  assert.deepEqual(calls.slice(0, 2), [NFS3PROC.LOOKUP, NFS3PROC.CREATE]);
  // wsize = 1 MiB: three WRITEs, then one COMMIT
  assert.equal(calls.filter((c) => c === NFS3PROC.WRITE).length, 3);
  assert.equal(calls.filter((c) => c === NFS3PROC.COMMIT).length, 1);
  assert.equal(calls[calls.length - 1], NFS3PROC.COMMIT);
  const writes = hits.filter((h) => h.site.fullName === 'tracepoint:nfs:nfs_initiate_write');
  assert.deepEqual(writes.map((h) => [h.fields['offset'], h.fields['count'], h.fields['stable']]), [
    [0, 1 << 20, 0],
    [1 << 20, 1 << 20, 0],
    [2 << 20, 1 << 20, 0],
  ]);
  assert.equal(hits.filter((h) => h.site.fullName === 'tracepoint:nfs:nfs_commit_done' && h.fields['error'] === 0).length, 1);
  assert.equal(p.server.k.vfs.lookup('/export/new')?.sizeBytes, 3 << 20);
});

test('fsync commits; a noac mount writes FILE_SYNC and needs no COMMIT', () => {
  for (const [options, commits, stable] of [['', 1, 0], ['noac', 0, 2]] as const) {
    const p = bootNfsPair(options, { f: 0 });
    const hits = record(p.client, ['tracepoint:nfs:nfs_initiate_write']);
    onClient(p, function* (m, t, buf) {
      const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/f', O.RDWR, 0);
      assert.equal(yield* sysWrite(m.k, t, fd, buf, 8192), 8192);
      assert.equal(yield* sysFsync(m.k, t, fd), 0);
    });
    p.client.run(SEC);
    assert.equal(p.transport.calls.filter((c) => c === NFS3PROC.COMMIT).length, commits, options);
    assert.deepEqual(hits.map((h) => h.fields['stable']), [stable], options);
  }
});

test('a soft mount whose server never answers fails with EIO after timeo x (retrans + 1) with linear backoff', () => {
  const env = new Environment();
  const client = bootMachine(DEFAULT_MACHINE, 1, { env });
  const sent: number[] = [];
  // a transport into the void
  const lost: RpcXprtOps = {
    name: 'lost',
    sendRequest(_req: RpcRqst) {
      sent.push(env.nowNs);
      return 0;
    },
  };
  const parsed = parseNfsMountOptions('soft,timeo=10,retrans=2');
  assert.ok(parsed.ok);
  const root = { fsid: 1, fileid: 2 };
  const attr = { type: 2, mode: 0o755, nlink: 2, sizeBytes: 4096, usedBytes: 4096, fsid: 1, fileid: 2, atimeNs: 0, mtimeNs: 0, ctimeNs: 0 };
  mountNfs(client.k, lost, 'server:/export', '/mnt/nfs', parsed.options, { rootFh: root, rootAttr: attr, rtmaxBytes: 1 << 20, wtmaxBytes: 1 << 20 }, 'client', true);
  let ret = 0;
  let doneAt = -1;
  onClient({ client }, function* (m, t) {
    ret = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/x', O.RDONLY, 0);
    doneAt = m.env.nowNs;
  });
  client.run(20 * SEC);
  assert.equal(ret, -5);
  // timeo=10 (1 s), then 2 s, then 3 s: sends at ~0, 1, 3 s, failure at ~6 s
  assert.deepEqual(sent.map((ns) => Math.round(ns / SEC)), [0, 1, 3]);
  assert.equal(Math.round(doneAt / SEC), 6);
});

test('the slot table: calls beyond the table wait on the backlog, every one completes', () => {
  const p = bootNfsPair('', { a: 1 << 20, b: 1 << 20, c: 1 << 20 });
  // shrink the table to 2 (tcp_max_slot_table_entries=2)
  p.mount.xprt.maxReqs = 2;
  const sleeps = record(p.client, ['tracepoint:sunrpc:rpc_task_sleep']);
  let done = 0;
  for (const name of ['a', 'b', 'c']) {
    onClient(p, function* (m, t, buf) {
      const fd = yield* sysOpenat(m.k, t, AT_FDCWD, `/mnt/nfs/${name}`, O.RDONLY, 0);
      assert.equal(yield* sysPread64(m.k, t, fd, buf, 4096, 0), 4096);
      done++;
    });
  }
  p.client.run(SEC);
  assert.equal(done, 3);
  assert.ok(sleeps.some((h) => h.fields['q_name'] === 'xprt_backlog'));
  assert.equal(p.mount.xprt.numReqs, 2);
});

test('a transport that must connect first: calls wait on xprt_pending until xprtConnected', () => {
  const p = bootNfsPair('');
  const x = p.mount.xprt;
  x.connected = false;
  let connects = 0;
  // a connect that takes 1 ms (a TCP handshake), then the test transport carries the calls
  const inner = p.transport;
  const ops: RpcXprtOps = {
    name: 'connecting',
    connect(xprt) {
      connects++;
      p.env.after(1_000_000, 0, () => xprtConnected(xprt), undefined);
    },
    sendRequest: (req) => inner.sendRequest(req),
  };
  (x as { ops: RpcXprtOps }).ops = ops;
  const sleeps = record(p.client, ['tracepoint:sunrpc:rpc_task_sleep']);
  let openedAt = -1;
  onClient(p, function* (m, t) {
    assert.ok((yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDONLY, 0)) >= 0);
    openedAt = m.env.nowNs;
  });
  p.client.run(SEC);
  assert.equal(connects, 1);
  assert.ok(openedAt > 1_000_000);
  assert.deepEqual(sleeps.map((h) => h.fields['q_name']).slice(0, 2), ['xprt_pending', 'xprt_pending']);
});

test('same seed, same run: every sunrpc and nfs hit at the same time with the same fields', () => {
  const once = (): string[] => {
    const p = bootNfsPair('');
    const lines: string[] = [];
    for (const site of p.client.k.registry.match('tracepoint:sunrpc:*').concat(p.client.k.registry.match('tracepoint:nfs:*'))) {
      site.attach((h) => lines.push(`${h.timeNs} ${h.site.fullName} ${JSON.stringify(h.fields)}`));
    }
    onClient(p, function* (m, t, buf) {
      const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDWR, 0);
      assert.equal(yield* sysPread64(m.k, t, fd, buf, 65536, 0), 65536);
      assert.equal(yield* sysWrite(m.k, t, fd, buf, 8192), 8192);
      assert.equal(yield* sysClose(m.k, t, fd), 0);
    });
    p.client.run(SEC);
    return lines;
  };
  const a = once();
  assert.ok(a.length > 50);
  assert.deepEqual(once(), a);
});

test("the server's page cache: a client miss the server has cached costs the round trip only, an uncached one its disk too", () => {
  const oneWay = 100 * US;
  const latency = (warmServer: boolean): number => {
    const p = bootNfsPair('', { data: 1 << 20 }, oneWay);
    if (warmServer) {
      p.server.spawn('warm', false, (t) => (function* () {
        const k = p.server.k;
        const buf = yield* sysMmap(k, t, 0, 1 << 20, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
        const fd = yield* sysOpenat(k, t, AT_FDCWD, '/export/data', O.RDONLY, 0);
        assert.equal(yield* sysPread64(k, t, fd, buf, 1 << 20, 0), 1 << 20);
      })(), p.server.init);
      p.server.run(SEC / 100);
    }
    return readLatencies(p, ['/mnt/nfs/data'])[0]!;
  };
  const cold = latency(false);
  const warm = latency(true);
  assert.ok(warm >= 2 * oneWay && warm < 2 * oneWay + 40 * US, `warm ${warm}`);
  // the server's NVMe read (tens of microseconds) on top
  assert.ok(cold - warm > 40 * US, `cold ${cold} warm ${warm}`);
});

test('a hard mount keeps retrying past the major timeout until the server answers', () => {
  const p = bootNfsPair('hard,timeo=10,retrans=2');
  const sent: number[] = [];
  const inner = p.transport;
  // the server is unreachable for the first 10 s: calls sent before then are lost
  (p.mount.xprt as { ops: RpcXprtOps }).ops = {
    name: 'flaky',
    sendRequest(req: RpcRqst) {
      sent.push(p.env.nowNs);
      return p.env.nowNs < 10 * SEC ? 0 : inner.sendRequest(req);
    },
  };
  let ret = -1;
  let doneAt = -1;
  onClient(p, function* (m, t) {
    ret = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDONLY, 0);
    doneAt = m.env.nowNs;
  });
  p.client.run(30 * SEC);
  assert.ok(ret >= 0);
  // 1 s, 2 s, 3 s (major timeout at 6 s, "still trying"), then 1 s, 2 s, ... again
  assert.deepEqual(sent.slice(0, 6).map((ns) => Math.round(ns / SEC)), [0, 1, 3, 6, 7, 9]);
  assert.equal(Math.round(doneAt / SEC), 12);
});

test('sync(2) writes an NFS file back and commits it', () => {
  const p = bootNfsPair('', { f: 0 });
  let at = -1;
  onClient(p, function* (m, t, buf) {
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/f', O.WRONLY, 0);
    assert.equal(yield* sysWrite(m.k, t, fd, buf, 65536), 65536);
    assert.equal(yield* sysSync(m.k, t), 0);
    at = p.transport.calls.length;
  });
  p.client.run(SEC);
  assert.deepEqual(p.transport.calls.slice(0, at).slice(-2), [NFS3PROC.WRITE, NFS3PROC.COMMIT]);
  assert.equal(p.server.k.vfs.lookup('/export/f')?.sizeBytes, 65536);
});

test('nfsdist-style kprobes: nfs_file_read/write/open and nfs_getattr with their latencies', () => {
  const p = bootNfsPair('');
  onClient(p, function* (m, t, buf) {
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDWR, 0);
    for (let i = 0; i < 4; i++) assert.equal(yield* sysPread64(m.k, t, fd, buf, 4096, i * 4096), 4096);
    assert.equal(yield* sysWrite(m.k, t, fd, buf, 4096), 4096);
    assert.equal(yield* sysNewfstatat(m.k, t, AT_FDCWD, '/mnt/nfs/data', 0), 0);
  });
  let out = '';
  const script = [
    'kprobe:nfs_file_read, kprobe:nfs_file_write, kprobe:nfs_file_open, kprobe:nfs_getattr { @start[tid] = nsecs; }',
    'kretprobe:nfs_file_read, kretprobe:nfs_file_write, kretprobe:nfs_file_open, kretprobe:nfs_getattr /@start[tid]/ { @calls[func] = count(); @slow_us[func] = max((nsecs - @start[tid]) / 1000); delete(@start[tid]); }',
  ].join('\n');
  const r = runScript(p.client, scriptOptions(script, SEC, (text, stream) => {
    if (stream === 'stdout') out += text;
  }, { quiet: true }));
  assert.equal(r.exitCode, 0);
  assert.match(out, /@calls\[nfs_file_read\]: 4/);
  assert.match(out, /@calls\[nfs_file_write\]: 1/);
  assert.match(out, /@calls\[nfs_file_open\]: 1/);
  assert.match(out, /@calls\[nfs_getattr\]: 1/);
  // the first read waited for the READ round trip (two 100 us hops)
  assert.match(out, /@slow_us\[nfs_file_read\]: [2-9]\d\d\n/);
});

test('BTF struct nfs_inode: a script reads attrtimeo as it doubles', () => {
  const p = bootNfsPair('');
  onClient(p, function* (m, t, buf) {
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDONLY, 0);
    for (let i = 0; i < 22; i++) {
      assert.equal(yield* sysPread64(m.k, t, fd, buf, 4096, 0), 4096);
      yield* nanosleep(m.k, t, SEC);
    }
  });
  let out = '';
  const script = 'kprobe:__nfs_revalidate_inode { $n = (struct nfs_inode *)arg1; printf("%d %d\\n", $n->fileid, $n->attrtimeo); }';
  const r = runScript(p.client, scriptOptions(script, 22 * SEC, (text, stream) => {
    if (stream === 'stdout') out += text;
  }, { quiet: true }));
  assert.equal(r.exitCode, 0);
  // attrtimeo in jiffies (HZ 1000) when each revalidation starts: 3 s, then 6 s, then 12 s
  assert.deepEqual(out.trim().split('\n'), ['12 3000', '12 6000', '12 12000']);
});

test('a connection reset under a call: the call reconnects and is sent again, without waiting for timeo', () => {
  const p = bootNfsPair('');
  const inner = p.transport;
  const x = p.mount.xprt;
  let sends = 0;
  let connects = 0;
  (x as { ops: RpcXprtOps }).ops = {
    name: 'resetting',
    connect(xprt) {
      connects++;
      p.env.after(1_000_000, 0, () => xprtConnected(xprt), undefined);
    },
    sendRequest(req: RpcRqst) {
      // the first call is lost with its connection, reset 5 ms later
      if (sends++ === 0) {
        p.env.after(5_000_000, 0, () => xprtDisconnectDone(x), undefined);
        return 0;
      }
      return inner.sendRequest(req);
    },
  };
  let doneAt = -1;
  onClient(p, function* (m, t) {
    assert.ok((yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nfs/data', O.RDONLY, 0)) >= 0);
    doneAt = m.env.nowNs;
  });
  p.client.run(SEC);
  assert.equal(connects, 1);
  // reset at 5 ms, reconnected at 6 ms, LOOKUP and ACCESS round trips after that
  assert.ok(doneAt > 6_000_000 && doneAt < 8_000_000, `${doneAt}`);
});
