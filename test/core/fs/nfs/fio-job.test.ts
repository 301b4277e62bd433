// A fio job on an NFS mount: layout leaves the file to the server, the job's reads go through
// the client's page cache and attribute cache (the nfs-revalidation experiment's workload).
import test from 'node:test';
import assert from 'node:assert/strict';
import { layoutJobFiles } from '../../../../core/index.js';
import { jobSpec } from '../../../helpers/jobs.js';
import { bootNfsPair, record } from '../../../helpers/nfs.js';

const SEC = 1_000_000_000;

test('fio: 4 KiB reads of an NFS file every second (thinktime=1s): GETATTR at 3, 9, 21, 45 s', () => {
  const p = bootNfsPair('', { data: 4096 });
  const job = jobSpec({ name: 'reader', filename: '/mnt/nfs/data', size: 4096, bs: 4096, rw: 'read', timeBased: true, thinktimeNs: SEC });
  assert.deepEqual(layoutJobFiles(p.client, [job]), []);
  const hits = record(p.client, ['tracepoint:sunrpc:rpc_request']);
  const reads = record(p.client, ['tracepoint:syscalls:sys_exit_pread64', 'tracepoint:syscalls:sys_exit_read']);
  p.client.startJobs([job], 50 * SEC);
  p.client.run(50 * SEC);
  const t0 = hits[0]!.timeNs;
  const at = (proc: string): number[] => hits.filter((h) => h.fields['procname'] === proc).map((h) => Math.round((h.timeNs - t0) / SEC));
  // fio stats the file first (LOOKUP), then opens it: close-to-open revalidates on open (the
  // GETATTR at 0, nfs_lookup_verify_inode's LOOKUP_OPEN); the attribute cache then expires at +3, +9...
  assert.deepEqual(at('GETATTR'), [0, 3, 9, 21, 45]);
  assert.deepEqual(at('READ'), [0]);
  // one 4 KiB read a second, all answered
  assert.ok(reads.length >= 49 && reads.every((h) => h.fields['ret'] === 4096), `${reads.length} reads`);
});
