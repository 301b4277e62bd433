// traces/experiments/nfs-revalidation.bt on an NFS client reading an unchanging file every
// second: the script prints GETATTR at 3, 9, 21, 45, 93, 153 s and counts the calls.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sysMmap, sysOpenat, AT_FDCWD } from '../../../../core/fs/open.js';
import { sysPread64 } from '../../../../core/fs/read_write.js';
import { O } from '../../../../core/fs/types.js';
import { MAP, PROT } from '../../../../core/mm/mmap.js';
import { nanosleep } from '../../../../core/kernel/time/timer.js';
import { runScript } from '../../../../probes/script.js';
import { scriptOptions } from '../../../helpers/script.js';
import { repoRoot } from '../../../helpers/repo.js';
import { bootNfsPair } from '../../../helpers/nfs.js';

const SEC = 1_000_000_000;

test('nfs-revalidation.bt shows the GETATTR cadence of an unchanging file', () => {
  const p = bootNfsPair('vers=3,proto=tcp');
  p.client.spawn('reader', false, (t) => (function* () {
    const k = p.client.k;
    const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nfs/data', O.RDONLY, 0);
    for (;;) {
      yield* sysPread64(k, t, fd, buf, 4096, 0);
      yield* nanosleep(k, t, SEC);
    }
  })(), p.client.init);
  const text = readFileSync(join(repoRoot(), 'traces', 'experiments', 'nfs-revalidation.bt'), 'utf8');
  let out = '';
  const r = runScript(p.client, scriptOptions(text, 160 * SEC, (s, stream) => {
    if (stream === 'stdout') out += s;
  }, { quiet: true, sourceName: 'nfs-revalidation.bt' }));
  assert.equal(r.exitCode, 0);
  const lines = out.split('\n').filter((l) => l.startsWith('GETATTR'));
  assert.deepEqual(lines.map((l) => l.replace(/\s+/g, ' ').replace(/\.\d{3} s/, ' s')), [
    'GETATTR fileid 12 at 3 s (+3 s)',
    'GETATTR fileid 12 at 9 s (+6 s)',
    'GETATTR fileid 12 at 21 s (+12 s)',
    'GETATTR fileid 12 at 45 s (+24 s)',
    'GETATTR fileid 12 at 93 s (+48 s)',
    'GETATTR fileid 12 at 153 s (+60 s)',
  ]);
  assert.match(out, /@calls\[GETATTR\]: 6/);
  assert.match(out, /@calls\[READ\]: 1/);
  assert.match(out, /@calls\[LOOKUP\]: 1/);
});
