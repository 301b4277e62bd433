// nfs-revalidation: an unchanging NFS file read every second is revalidated (one GETATTR) when its
// attribute cache expires, the timeout doubling from acregmin 3 s to acregmax 60 s: at 3, 9, 21,
// 45, 93 and 153 s. Every read in between is served from the client's page cache. And a cold
// read over NFS costs a round trip plus the server's own miss: more than ten local misses.
import test from 'node:test';
import assert from 'node:assert/strict';
import { attach } from '../../probes/attach.js';
import { bootExperiment, oncePerFile } from '../helpers/experiment.js';

const run = oncePerFile((file: string) => {
  const { m, durationNs, name } = bootExperiment(file);
  let firstRpcNs = -1;
  const procs: string[] = [];
  const getattrAtNs: number[] = [];
  attach(m, 'tracepoint:sunrpc:rpc_request', (h) => {
    if (firstRpcNs < 0) firstRpcNs = h.timeNs;
    procs.push(String(h.fields.procname));
  });
  attach(m, 'tracepoint:nfs:nfs_revalidate_inode_enter', (h) => {
    if (Number(h.fields.fileid) === 12) getattrAtNs.push(h.timeNs - firstRpcNs);
  });
  m.run(durationNs);
  const report = m.report(name, 1);
  const clat = (job: string) => report.jobs.find((j) => j.name === job)!.read.clat.meanNs;
  return { getattrAtNs, procs, reads: report.jobs.find((j) => j.name === 'reader')!.read.ios, localNs: clat('local-miss'), nfsNs: clat('nfs-miss') };
});

test('an unchanging file read every second: GETATTR at 3, 9, 21, 45, 93 and 153 s after the first fetch', () => {
  const r = run('nfs-revalidation.json');
  // the first fetch is open's close-to-open GETATTR (fio stats the file first: its LOOKUP)
  const first = r.getattrAtNs[0]!;
  assert.ok(first < 10_000_000, `open's GETATTR at ${first} ns`);
  assert.deepEqual(
    r.getattrAtNs.slice(1).map((ns) => Math.round((ns - first) / 1e8) / 10),
    [3, 9, 21, 45, 93, 153],
  );
  // 160 reads, two READs (the reader's first and nfs-miss's), everything else from the page cache
  assert.ok(r.reads >= 159, `${r.reads} reads`);
  assert.deepEqual(
    r.procs.filter((p) => p !== 'GETATTR'),
    ['LOOKUP', 'ACCESS', 'READ', 'LOOKUP', 'ACCESS', 'READ'],
  );
  // the reader's open and six expiries, and nfs-miss's open
  assert.equal(r.procs.filter((p) => p === 'GETATTR').length, 8);
});

test('a cold read: an NFS miss costs more than ten local ext4 misses', () => {
  const r = run('nfs-revalidation.json');
  assert.ok(r.localNs > 30_000 && r.localNs < 150_000, `local miss ${r.localNs} ns`);
  // a 1 ms round trip plus the server's NVMe read
  assert.ok(r.nfsNs > 1_000_000 && r.nfsNs < 1_500_000, `NFS miss ${r.nfsNs} ns`);
  assert.ok(r.nfsNs / r.localNs > 10, `ratio ${(r.nfsNs / r.localNs).toFixed(1)}`);
});
