// Exclusive claims on block devices (block/bdev.c bd_prepare_to_claim): open(O_EXCL) fails with
// EBUSY while the device is mounted or another O_EXCL opener holds it; plain opens never conflict;
// the claim goes with the last close. O_CREAT|O_EXCL on an existing file is EEXIST.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, type Machine } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { sysClose, sysOpenat, AT_FDCWD } from '../../../core/fs/open.js';
import { O } from '../../../core/fs/types.js';

const MACHINE = {
  ...DEFAULT_MACHINE,
  devices: [
    { name: 'nvme0n1', kind: 'nvme' as const, capacityBytes: 1024 ** 3, scheduler: 'none' as const, mount: '/mnt/nvme' },
    { name: 'sda', kind: 'hdd' as const, capacityBytes: 1024 ** 3, scheduler: 'mq-deadline' as const, mount: '' },
  ],
};

function run(body: (m: Machine, t: Task, out: Record<string, number>) => Generator<number, void, void>): Record<string, number> {
  const m = bootMachine(MACHINE, 1);
  const out: Record<string, number> = {};
  m.spawn('claim', false, (t) => body(m, t, out), m.init);
  m.run(100_000_000);
  return out;
}

test('O_EXCL on a block device: EBUSY while mounted or exclusively held, free after the holder closes', () => {
  const out = run(function* (m, t, out) {
    const k = m.k;
    const open = (path: string, flags: number) => sysOpenat(k, t, AT_FDCWD, path, flags, 0);
    out['mountedExcl'] = yield* open('/dev/nvme0n1', O.RDWR | O.EXCL);
    out['mountedPlain'] = yield* open('/dev/nvme0n1', O.RDWR);
    const a = yield* open('/dev/sda', O.RDWR | O.EXCL);
    out['firstExcl'] = a;
    out['secondExcl'] = yield* open('/dev/sda', O.RDONLY | O.EXCL);
    out['plainBesideExcl'] = yield* open('/dev/sda', O.RDONLY);
    out['close'] = yield* sysClose(k, t, a);
    out['exclAfterClose'] = yield* open('/dev/sda', O.RDWR | O.EXCL);
    out['createExclExisting'] = yield* open('/dev/sda', O.RDWR | O.CREAT | O.EXCL);
    out['createExclNew'] = yield* open('/mnt/nvme/new', O.RDWR | O.CREAT | O.EXCL);
    out['createExclAgain'] = yield* open('/mnt/nvme/new', O.RDWR | O.CREAT | O.EXCL);
  });
  assert.deepEqual(out, {
    mountedExcl: -16, // EBUSY: ext4 holds it
    mountedPlain: 3,
    firstExcl: 4,
    secondExcl: -16,
    plainBesideExcl: 5,
    close: 0,
    exclAfterClose: 4,
    createExclExisting: -17, // EEXIST
    createExclNew: 6,
    createExclAgain: -17,
  });
});
