// I/O protection: a user task reaches a device only through syscalls, and the kernel checks what it
// is handed. A pointer outside the task's mapped memory (unmapped, or a kernel address) gets EFAULT
// on every path that copies or pins user memory: buffered read and write, O_DIRECT on a file and on
// the raw device, and the printer's lp_write; nothing reaches the device.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type Machine } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { sysMmap, sysOpenat, AT_FDCWD } from '../../../core/fs/open.js';
import { sysPread64, sysPwrite64, sysWrite } from '../../../core/fs/read_write.js';
import { O } from '../../../core/fs/types.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { jobSpec } from '../../helpers/jobs.js';

/** A kernel address (the direct map): never mapped in a user page table. */
const KERNEL_VA = 0xffff_8880_0000_0000;

test('bad user pointers get EFAULT on every path, and no I/O reaches a device', () => {
  const m: Machine = bootMachine({ ...DEFAULT_MACHINE, printers: [{ name: 'lp0', baud: 9600 }] }, 1);
  layoutJobFiles(m, [jobSpec({ name: 'f', filename: '/mnt/nvme/data', size: 1 << 20 })]);
  const out: Record<string, number> = {};
  m.spawn('efault', false, function* (t: Task) {
    const k = m.k;
    const buf = yield* sysMmap(k, t, 0, 8192, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const file = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR, 0);
    const direct = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR | O.DIRECT, 0);
    const raw = yield* sysOpenat(k, t, AT_FDCWD, '/dev/sda', O.RDWR | O.DIRECT, 0);
    const lp = yield* sysOpenat(k, t, AT_FDCWD, '/dev/lp0', O.WRONLY, 0);
    for (const [name, va] of [['unmapped', 0x1000], ['kernel', KERNEL_VA], ['straddling', buf + 4096]] as const) {
      const len = name === 'straddling' ? 8192 : 4096;
      out[`${name} buffered read`] = yield* sysPread64(k, t, file, va, len, 0);
      out[`${name} buffered write`] = yield* sysPwrite64(k, t, file, va, len, 0);
      out[`${name} direct read`] = yield* sysPread64(k, t, direct, va, len, 0);
      out[`${name} raw direct write`] = yield* sysPwrite64(k, t, raw, va, len, 0);
      out[`${name} lp write`] = yield* sysWrite(k, t, lp, va, len);
    }
    out['good buffered write'] = yield* sysPwrite64(k, t, file, buf, 4096, 0);
  }, m.init);
  m.run(50_000_000);
  const expected: Record<string, number> = {};
  for (const name of ['unmapped', 'kernel', 'straddling']) {
    for (const path of ['buffered read', 'buffered write', 'direct read', 'raw direct write', 'lp write']) expected[`${name} ${path}`] = -14;
  }
  expected['good buffered write'] = 4096;
  assert.deepEqual(out, expected);
  assert.equal(m.printers[0]!.printer.printedBytes, 0);
  assert.equal(m.devices.find((d) => d.name === 'sda')!.q.stats.writeIos, 0);
});
