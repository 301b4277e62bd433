// The script figures of `npm run bench`: firings per second of a compiled program in a tight emit
// loop, and the wall-time cost of a biolatency-like script on the default scenario.
import { bootMachine, DEFAULT_MACHINE, Priority, type HitContext } from '../../core/index.js';
import { runScript } from '../../probes/script.js';
import type { File } from '../../core/fs/types.js';
import { prepareRun } from '../../tui/run.js';
import { scenario } from '../helpers/machine.js';
import { scriptOptions } from '../helpers/script.js';

export const TIGHT_LOOP_PROGRAM = 'kprobe:vfs_read /pid > 0/ { @c[comm] = count(); @s = sum(arg1); @h = hist(arg1); }';

export const BIOLATENCY_LIKE =
  'tracepoint:block:block_bio_queue { @start[args.sector] = nsecs; } ' +
  'tracepoint:block:block_rq_complete /@start[args.sector]/ { @usecs = hist((nsecs - @start[args.sector]) / 1000); delete(@start, args.sector); }';

/** Fires kprobe:vfs_read `n` times from one engine event while the program is attached. */
export function tightLoopFirings(n: number): { firings: number; wallNs: number } {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  let wallNs = 0;
  m.env.at(1, Priority.NORMAL, () => {
    const site = m.k.fn.vfs_read;
    const ctx: HitContext = { cpuId: 0, nowNs: 1, pid: 100, tid: 100, comm: 'fio' };
    const inode = m.k.vfs.lookup('/dev/nvme0n1')!;
    const file: File = { kaddr: 0x1000, inode, flags: 0, posBytes: 0, ra: { start: 0, size: 0, asyncSize: 0, raPages: 32, mmapMiss: 0, prevPos: -1 }, fMode: 0, refcount: 1, fWbErr: 0 };
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) site.enter(ctx, 1, file, i & 4095, 4096, 0);
    wallNs = Number(process.hrtime.bigint() - t0);
  }, 0);
  let out = '';
  runScript(
    m,
    scriptOptions(TIGHT_LOOP_PROGRAM, 10, (t) => {
      out += t;
    }, { quiet: true }),
  );
  if (!out.includes(`@c[fio]: ${n}`)) throw new Error(`tight loop: the program did not count ${n} firings`);
  return { firings: n, wallNs };
}

/** Wall time of `default` for `simNs`, with the program attached or with nothing. */
export function defaultWithScript(simNs: number, program: string | undefined): number {
  const s = scenario('default');
  const m = prepareRun(s, { seed: 1, durationNs: simNs });
  const t0 = process.hrtime.bigint();
  if (program === undefined) m.run(simNs);
  else {
    runScript(m, scriptOptions(program, simNs, () => {}, { quiet: true }));
  }
  return Number(process.hrtime.bigint() - t0);
}
