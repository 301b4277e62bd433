// The root filesystem and path resolution: every absolute path lands on a mount (longest prefix),
// / is the first filesystem bind-mounted unless a device is mounted there, and fio's layout phase
// prefills, preallocates or leaves sparse what the jobs need.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type Machine, type MachineSpec } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { sysClose, sysMmap, sysOpenat, AT_FDCWD } from '../../../core/fs/open.js';
import { sysPread64, sysPwrite64 } from '../../../core/fs/read_write.js';
import { O } from '../../../core/fs/types.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { jobSpec } from '../../helpers/jobs.js';

function inProcess(m: Machine, body: (t: Task, out: Record<string, number>) => Generator<number, void, void>): Record<string, number> {
  const out: Record<string, number> = {};
  m.spawn('rootfs-test', false, (t) => body(t, out), m.init);
  m.run(1_000_000_000);
  return out;
}

test('paths resolve by the longest mount prefix; / is the first filesystem bound again', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const vfs = m.k.vfs;
  const nvme = m.devices[0]!.fs!;
  const hdd = m.devices[1]!.fs!;
  const cases: ReadonlyArray<[string, string, string]> = [
    ['/tmp/testfile', 'nvme0n1', '/mnt/nvme/tmp/testfile'],
    ['/root/fio-rand-read', 'nvme0n1', '/mnt/nvme/root/fio-rand-read'],
    ['/mnt/nvme/x', 'nvme0n1', '/mnt/nvme/x'],
    ['/mnt/hdd/x', 'sda', '/mnt/hdd/x'],
    ['/mnt/hddx', 'nvme0n1', '/mnt/nvme/mnt/hddx'],
    ['/', 'nvme0n1', '/mnt/nvme'],
  ];
  for (const [path, device, fsPath] of cases) {
    const r = vfs.resolve(path);
    assert.ok(r, path);
    assert.equal(r.fs === nvme ? 'nvme0n1' : r.fs === hdd ? 'sda' : '?', device, path);
    assert.equal(r.fsPath, fsPath, path);
  }
  assert.equal(vfs.isMountPoint('/'), true);
  assert.equal(vfs.isMountPoint('/mnt/hdd'), true);
  assert.equal(vfs.isMountPoint('/tmp'), false);
});

test('a device mounted at / is the root; nothing is bound over it', () => {
  const spec: MachineSpec = {
    ...DEFAULT_MACHINE,
    devices: [
      { name: 'sda', kind: 'hdd', capacityBytes: 2 ** 30, scheduler: 'mq-deadline', mount: '/data' },
      { name: 'nvme0n1', kind: 'nvme', capacityBytes: 2 ** 30, scheduler: 'none', mount: '/' },
    ],
  };
  const m = bootMachine(spec, 1);
  assert.equal(m.k.vfs.mounts.length, 2);
  assert.equal(m.k.vfs.resolve('/tmp/a')!.fs, m.devices[1]!.fs);
  assert.equal(m.k.vfs.resolve('/tmp/a')!.fsPath, '/tmp/a');
  assert.equal(m.k.vfs.resolve('/data/a')!.fs, m.devices[0]!.fs);
});

test('a file created at /tmp/testfile is the same file under the first mount, and keeps its name', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const out = inProcess(m, function* (t, out) {
    const k = m.k;
    const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/tmp/testfile', O.RDWR | O.CREAT, 0o644);
    out['written'] = yield* sysPwrite64(k, t, fd, buf, 4096, 0);
    yield* sysClose(k, t, fd);
    const again = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/tmp/testfile', O.RDONLY, 0);
    out['readBack'] = yield* sysPread64(k, t, again, buf, 4096, 0);
    out['rootIsDir'] = yield* sysOpenat(k, t, AT_FDCWD, '/', O.RDONLY, 0);
  });
  assert.deepEqual(out, { written: 4096, readBack: 4096, rootIsDir: -21 });
  assert.equal(m.k.vfs.lookup('/tmp/testfile')!.path, '/tmp/testfile');
});

test('layout: files a job reads are prefilled, a writer\'s are preallocated or sparse, create_on_open and raw devices are left alone', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const MiB = 2 ** 20;
  const laidOut = layoutJobFiles(m, [
    jobSpec({ name: 'reader', filename: '/root/r', files: ['/root/r'], size: 8 * MiB, rw: 'randread' }),
    jobSpec({ name: 'writer', filename: '/root/w', size: 8 * MiB, rw: 'write' }),
    jobSpec({ name: 'sparse', filename: '/root/s', size: 8 * MiB, rw: 'randwrite', fallocate: 'none' }),
    jobSpec({ name: 'over', filename: '/root/o', size: 8 * MiB, rw: 'write', overwrite: true, fallocate: 'none' }),
    jobSpec({ name: 'lazy', filename: '/root/l', size: 8 * MiB, createOnOpen: true }),
    jobSpec({ name: 'raw', filename: '/dev/nvme0n1', size: 8 * MiB }),
    jobSpec({ name: 'two', filename: '/root/a:/root/b', files: ['/root/a', '/root/b'], size: 8 * MiB }),
    jobSpec({ name: 'again', filename: '/root/r', size: 8 * MiB }),
  ]);
  assert.deepEqual(laidOut, [
    { job: 'reader', files: 1, bytes: 8 * MiB, how: 'prefilled' },
    { job: 'writer', files: 1, bytes: 8 * MiB, how: 'preallocated' },
    { job: 'sparse', files: 1, bytes: 8 * MiB, how: 'sparse' },
    { job: 'over', files: 1, bytes: 8 * MiB, how: 'prefilled' },
    { job: 'two', files: 2, bytes: 8 * MiB, how: 'prefilled' },
  ]);
  const blocks = (path: string): number => {
    const r = m.k.vfs.resolve(path)!;
    return r.fs.inodes.get(r.fsPath)!.extents.all().reduce((n, e) => n + e.len, 0);
  };
  assert.equal(blocks('/root/r'), 2048);
  assert.equal(blocks('/root/w'), 2048);
  assert.equal(blocks('/root/s'), 0);
  assert.equal(m.k.vfs.lookup('/root/s')!.sizeBytes, 8 * MiB);
  assert.equal(blocks('/root/a'), 1024, 'two files share the size');
  assert.equal(m.k.vfs.lookup('/root/l'), undefined);
  // no simulated time passed
  assert.equal(m.env.nowNs, 0);
});
