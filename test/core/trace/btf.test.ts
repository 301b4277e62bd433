// The BTF-like type table: scripts' casts and member chains walk the simulated objects.
import test from 'node:test';
import assert from 'node:assert/strict';
import { BTF, btfCast, bootMachine, DEFAULT_MACHINE, layoutJobFiles, type BtfPointer, type BtfValue, type Machine } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';

/** Follows `a->b->c` from a typed pointer, as a compiled script would. */
function walk(m: Machine, p: BtfValue, path: string[]): BtfValue {
  let cur = p;
  for (const name of path) {
    if (cur === undefined || typeof cur !== 'object') throw new Error(`cannot read ${name} of ${String(cur)}`);
    const member = BTF.get(cur.structName)?.members.get(name);
    if (!member) throw new Error(`struct ${cur.structName} has no member ${name}`);
    cur = member.read(cur.obj, m);
  }
  return cur;
}

test('casts and member chains: request, bio, path, file', () => {
  const job = jobSpec({ name: 'r', filename: '/mnt/nvme/btf.dat', size: 1 << 20, direct: true, rw: 'randread' });
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [job]);
  const seen: Record<string, BtfValue> = {};
  const detach = attach(m, 'kprobe:blk_mq_start_request', (h) => {
    const rq = btfCast('request', h.args[0]);
    seen['disk'] = walk(m, rq, ['q', 'disk', 'disk_name']);
    seen['len'] = walk(m, rq, ['__data_len']);
    seen['sector=bio'] = walk(m, rq, ['__sector']) === walk(m, rq, ['bio', 'bi_iter', 'bi_sector']) ? 1 : 0;
    seen['bdev'] = walk(m, rq, ['bio', 'bi_bdev', 'bd_disk', 'disk_name']);
    seen['major'] = walk(m, rq, ['q', 'disk', 'major']);
    detach();
  });
  const d2 = attach(m, 'kprobe:vfs_open', (h) => {
    seen['open'] = walk(m, btfCast('path', h.args[0]), ['dentry', 'd_name', 'name']);
    seen['file'] = walk(m, btfCast('file', h.args[1]), ['f_path', 'dentry', 'd_name', 'name']);
    seen['ino'] = walk(m, btfCast('file', h.args[1]), ['f_inode', 'i_ino']);
    d2();
  });
  m.startJobs([job], 50_000_000);
  m.run(50_000_000);
  assert.deepEqual(seen, { open: 'btf.dat', file: 'btf.dat', ino: 12, disk: 'nvme0n1', len: 4096, 'sector=bio': 1, bdev: 'nvme0n1', major: 259 });
  const rqType = BTF.get('request')!;
  assert.equal(rqType.members.get('__data_len')!.type, 'unsigned int');
  assert.equal(rqType.members.get('q')!.type, 'struct request_queue *');
  assert.equal(btfCast('request', 42), undefined);
  const p = btfCast('task_struct', m.init) as BtfPointer;
  assert.equal(p.addr, m.init.kaddr);
});
