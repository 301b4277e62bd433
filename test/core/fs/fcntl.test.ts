// fcntl(F_SET_RW_HINT / F_GET_RW_HINT): the write hint lives on the inode (every open file of it
// sees it), only RWH_WRITE_LIFE_* values are taken, the per-file variant is gone (-EINVAL), and
// the hint rides in the bios of O_DIRECT and buffered writes alike.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles } from '../../../core/index.js';
import { AT_FDCWD, sysClose, sysFsync, sysMmap, sysOpenat } from '../../../core/fs/open.js';
import { sysPwrite64 } from '../../../core/fs/read_write.js';
import { O, RWH_WRITE_LIFE } from '../../../core/fs/types.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { F_GET_RW_HINT, F_SET_FILE_RW_HINT, F_SET_RW_HINT, sysFcntl } from '../../../core/fs/fcntl.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';

test('F_SET_RW_HINT sets the inode hint; bios written through any of its files carry it', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [jobSpec({ name: 'f', filename: '/mnt/nvme/data', size: 1 << 20 })]);
  const out: Record<string, number> = {};
  const bioHints: number[] = [];
  attach(m, 'kprobe:submit_bio', (h) => {
    const bio = h.args[0] as { op: number; writeHint: number };
    if (bio.op === 1) bioHints.push(bio.writeHint);
  });
  m.spawn(
    'fcntl-test',
    false,
    (t) =>
      (function* () {
        const k = m.k;
        const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
        const a = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR | O.DIRECT, 0);
        const b = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDWR, 0);
        out['getUnset'] = yield* sysFcntl(k, t, a, F_GET_RW_HINT, 0);
        out['perFile'] = yield* sysFcntl(k, t, a, F_SET_FILE_RW_HINT, RWH_WRITE_LIFE.SHORT);
        out['tooBig'] = yield* sysFcntl(k, t, a, F_SET_RW_HINT, 6);
        out['badFd'] = yield* sysFcntl(k, t, 77, F_SET_RW_HINT, RWH_WRITE_LIFE.SHORT);
        out['set'] = yield* sysFcntl(k, t, a, F_SET_RW_HINT, RWH_WRITE_LIFE.SHORT);
        out['getOther'] = yield* sysFcntl(k, t, b, F_GET_RW_HINT, 0);
        yield* sysPwrite64(k, t, a, buf, 4096, 0); // O_DIRECT: iomap's bio
        yield* sysFcntl(k, t, b, F_SET_RW_HINT, RWH_WRITE_LIFE.EXTREME);
        yield* sysPwrite64(k, t, b, buf, 4096, 8192); // buffered: writeback's bio at fsync
        yield* sysFsync(k, t, b);
        yield* sysClose(k, t, a);
        yield* sysClose(k, t, b);
      })(),
    m.init,
  );
  m.run(1_000_000_000);
  assert.deepEqual(out, { getUnset: 0, perFile: -22, tooBig: -22, badFd: -9, set: 0, getOther: 2 });
  // the data bios: SHORT from the O_DIRECT write, EXTREME from writeback (the journal's own bios carry none)
  assert.equal(bioHints[0], RWH_WRITE_LIFE.SHORT);
  assert.ok(bioHints.includes(RWH_WRITE_LIFE.EXTREME), `write bios' hints: ${bioHints.join(',')}`);
  assert.ok(bioHints.every((h) => h === RWH_WRITE_LIFE.SHORT || h === RWH_WRITE_LIFE.EXTREME || h === RWH_WRITE_LIFE.NOT_SET));
});
