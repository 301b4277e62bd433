// Models: devmem2 (the classic tool: open /dev/mem O_RDWR|O_SYNC, mmap the page holding ADDR
// MAP_SHARED, load one word through the mapping, print it): a user task reaching a device's
// registers directly, the one path around the syscall interface, which the kernel guards.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { sysClose, sysMmap, sysMunmap, sysOpenat, AT_FDCWD } from '../fs/open.js';
import { O } from '../fs/types.js';
import { MAP, PROT } from '../mm/mmap.js';
import { PAGE_SIZE } from '../mm/mm_types.js';
import { strerror } from '../uapi/errno.js';
import { MMIO_READ_NS, type DevMem } from '../drivers/char/mem.js';

/** Runs devmem2 ADDR; returns 0 or the errno that stopped it. */
export function* devmem2(k: Kernel, task: Task, addr: number, mem: DevMem | undefined, print: (line: string) => void): Generator<number, number, void> {
  const fail = (ret: number) => {
    print(`Error (${-ret}) [${strerror(ret)}]`);
    task.exitCode = 1;
    return ret;
  };
  const fd = yield* sysOpenat(k, task, AT_FDCWD, '/dev/mem', O.RDWR | O.SYNC, 0);
  if (fd < 0) return fail(fd);
  print('/dev/mem opened.');
  const pageAddr = addr - (addr % PAGE_SIZE);
  const va = yield* sysMmap(k, task, 0, PAGE_SIZE, PROT.READ | PROT.WRITE, MAP.SHARED, fd, pageAddr);
  if (va < 0) {
    yield* sysClose(k, task, fd);
    return fail(va);
  }
  print(`Memory mapped at address 0x${(va + (addr - pageAddr)).toString(16)}.`);
  // the load: an uncached read the device answers
  yield MMIO_READ_NS;
  const value = mem ? mem.readl(addr) : 0xffff_ffff;
  print(`Value at address 0x${addr.toString(16).toUpperCase()} (0x${(va + (addr - pageAddr)).toString(16)}): 0x${value.toString(16).toUpperCase()}`);
  yield* sysMunmap(k, task, va, PAGE_SIZE);
  yield* sysClose(k, task, fd);
  return 0;
}
