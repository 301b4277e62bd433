// The dentry cache behind path lookup: the first walk of a path misses on every component it has
// not seen (lookup_fast finds nothing, d_lookup runs), later walks hit; a name that does not
// exist is cached as a negative dentry, which creating the file turns positive; the stat family
// walks the same cache; struct dentry, nameidata, fs_struct and mount read through BTF.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles } from '../../../core/index.js';
import { AT_FDCWD, sysClose, sysOpenat } from '../../../core/fs/open.js';
import { sysNewfstatat } from '../../../core/fs/stat.js';
import { O } from '../../../core/fs/types.js';
import { BTF } from '../../../core/trace/btf.js';
import type { Dentry, Nameidata } from '../../../core/fs/namei.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';

test('lookups hit once a path was walked; misses run d_lookup; negative dentries turn positive on create', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [jobSpec({ name: 'f', filename: '/mnt/nvme/data', size: 1 << 20 })]);
  const fast: string[] = [];
  const rcuMisses: string[] = [];
  const slow: string[] = [];
  attach(m, 'kprobe:lookup_fast', (h) => fast.push((h.args[0] as Nameidata).last.name));
  let pending = '';
  attach(m, 'kprobe:__d_lookup_rcu', (h) => (pending = (h.args[1] as { name: string }).name));
  attach(m, 'kretprobe:__d_lookup_rcu', (h) => {
    if (h.retval === 0) rcuMisses.push(pending);
  });
  attach(m, 'kprobe:d_lookup', (h) => slow.push(`${(h.args[0] as Dentry).d_name.name}/${(h.args[1] as { name: string }).name}`));
  const out: Record<string, number> = {};
  m.spawn(
    'walker',
    false,
    (t) =>
      (function* () {
        const k = m.k;
        out['stat1'] = yield* sysNewfstatat(k, t, AT_FDCWD, '/mnt/nvme/data', 0);
        out['stat2'] = yield* sysNewfstatat(k, t, AT_FDCWD, '/mnt/nvme/data', 0);
        out['missing'] = yield* sysNewfstatat(k, t, AT_FDCWD, '/mnt/nvme/new', 0);
        const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/new', O.RDWR | O.CREAT, 0o644);
        out['created'] = fd >= 0 ? 1 : 0;
        yield* sysClose(k, t, fd);
        out['statNew'] = yield* sysNewfstatat(k, t, AT_FDCWD, '/mnt/nvme/new', 0);
      })(),
    m.init,
  );
  m.run(100_000_000);
  assert.deepEqual(out, { stat1: 0, stat2: 0, missing: -2, created: 1, statNew: 0 });
  // 5 walks of 3 components each, every one through lookup_fast
  assert.deepEqual(fast, ['mnt', 'nvme', 'data', 'mnt', 'nvme', 'data', 'mnt', 'nvme', 'new', 'mnt', 'nvme', 'new', 'mnt', 'nvme', 'new']);
  // the first walk misses everywhere; "new" misses once and is then a (negative, later positive) hit
  assert.deepEqual(rcuMisses, ['mnt', 'nvme', 'data', 'new']);
  // d_lookup names the parent: "nvme" is looked up in the root fs's "mnt", "data" in the nvme fs's root
  assert.deepEqual(slow, ['//mnt', 'mnt/nvme', '//data', '//new']);
  assert.deepEqual(m.k.vfs.dcacheStats, { hits: 11, misses: 4 });
  assert.equal(m.k.vfs.cachedDentry('/mnt/nvme/new')?.positive, true);
});

test('curtask->fs->pwd walks up to the root through d_parent and the mount tree (opensnoop, dcsnoop)', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const t = m.init;
  const fs = m.taskFs(t)!;
  const read = (struct: string, member: string, obj: object): unknown => BTF.get(struct)!.members.get(member)!.read(obj, m);
  const pwd = read('fs_struct', 'pwd', fs) as { obj: object };
  const dentry = read('path', 'dentry', pwd.obj) as { obj: Dentry };
  assert.equal(dentry.obj.d_name.name, 'root');
  const parent = read('dentry', 'd_parent', dentry.obj) as { obj: Dentry };
  assert.equal(parent.obj.d_name.name, '/');
  assert.equal(read('dentry', 'd_parent', parent.obj) && (read('dentry', 'd_parent', parent.obj) as { obj: Dentry }).obj, parent.obj, 'the root is its own parent');
  const vfsmnt = read('path', 'mnt', pwd.obj) as { obj: object; addr: number };
  assert.equal((read('vfsmount', 'mnt_root', vfsmnt.obj) as { obj: Dentry }).obj, parent.obj);
  // the embedded vfsmount sits at offsetof(struct mount, mnt) = 32 in its struct mount
  const mount = vfsmnt.obj as { kaddr: number };
  assert.equal(vfsmnt.addr, mount.kaddr + 32);
  assert.equal((read('mount', 'mnt_parent', mount) as { obj: object }).obj, mount, 'the root mount is its own parent');
  assert.equal(read('task_struct', 'fs', m.k.tasks.find((x) => x.kthread)!), undefined, 'a kernel thread has no fs here');
});
