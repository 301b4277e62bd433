// I/O protection: a user task reaches a device's registers only by mapping them through /dev/mem,
// which takes privilege: EACCES without it (the node is 0640 root:kmem), EPERM without
// CAP_SYS_RAWIO, EPERM for RAM even then; a device BAR maps and its registers read back.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, type Machine } from '../../../../core/index.js';
import type { Task } from '../../../../core/kernel/sched/task.js';
import { sysMmap, sysOpenat, AT_FDCWD } from '../../../../core/fs/open.js';
import { O } from '../../../../core/fs/types.js';
import { MAP, PROT } from '../../../../core/mm/mmap.js';
import { CAP, CAP_FULL_SET } from '../../../../core/kernel/capability.js';
import { PCI_MMIO64_BASE } from '../../../../core/drivers/char/mem.js';

function asTask(caps: number, body: (m: Machine, t: Task, out: Record<string, number>) => Generator<number, void, void>): { out: Record<string, number>; m: Machine } {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const out: Record<string, number> = {};
  m.spawn('devmem', false, (t) => {
    t.capEffective = caps;
    return body(m, t, out);
  }, m.init);
  m.run(10_000_000);
  return { out, m };
}

function* tryMap(m: Machine, t: Task, out: Record<string, number>): Generator<number, void, void> {
  const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/dev/mem', O.RDWR | O.SYNC, 0);
  out['open'] = fd;
  if (fd < 0) return;
  const bar = yield* sysMmap(m.k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.SHARED, fd, PCI_MMIO64_BASE);
  out['mapBar'] = bar > 0 ? 1 : bar;
  out['mapRam'] = yield* sysMmap(m.k, t, 0, 4096, PROT.READ, MAP.SHARED, fd, 1 << 20);
}

test('/dev/mem: EACCES for a user, EPERM without CAP_SYS_RAWIO, RAM refused, a BAR mapped for root', () => {
  assert.deepEqual(asTask(0, tryMap).out, { open: -13 });
  const noRawio = CAP_FULL_SET - 2 ** CAP.SYS_RAWIO;
  assert.deepEqual(asTask(noRawio, tryMap).out, { open: -1 });
  const { out, m } = asTask(CAP_FULL_SET, tryMap);
  assert.deepEqual(out, { open: 3, mapBar: 1, mapRam: -1 });
  // the first BAR is nvme0n1's: CAP.MQES is its queue depth less one, VS reads NVMe 1.4
  const mem = m.k.devMem!;
  assert.equal(mem.iomem[1]!.name, 'nvme0n1');
  assert.equal(mem.readl(PCI_MMIO64_BASE) & 0xffff, m.devices[0]!.hw.queueDepth - 1);
  assert.equal(mem.readl(PCI_MMIO64_BASE + 8), 0x0001_0400);
});
