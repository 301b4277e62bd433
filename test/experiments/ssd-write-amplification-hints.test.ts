// traces/experiments/ssd-write-amplification-hints.json: fio's write_hint reaches the SSD (fcntl
// F_SET_RW_HINT -> the inode's i_write_hint -> bio->bi_write_hint -> the NVMe Streams directive), and
// a multi-stream drive that writes short- and long-lived data into different erase blocks copies
// less in garbage collection than one that mixes them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attach } from '../../probes/attach.js';
import { runScript } from '../../probes/script.js';
import { bootExperiment, EXPERIMENTS_DIR } from '../helpers/experiment.js';
import { scriptOptions } from '../helpers/script.js';

test('ssd-write-amplification-hints: with the hints the drive separates the lifetimes and WA falls from 3.53 to 2.95', () => {
  const { m, durationNs, name } = bootExperiment('ssd-write-amplification-hints.json');
  // the stream each NVMe write carries: DSPEC, byte 14 of nvme_setup_cmd's cdw10..cdw15
  const streams = new Map<string, number>();
  attach(m, 'tracepoint:nvme:nvme_setup_cmd', (h) => {
    if (Number(h.fields['opcode']) !== 1) return;
    const key = `${String(h.fields['disk'])}:${(h.fields['cdw10'] as readonly number[])[14]}`;
    streams.set(key, (streams.get(key) ?? 0) + 1);
  });
  m.run(durationNs);
  const r = m.report(name, 1);
  const [plain, hinted] = [r.devices[0]!.hw, r.devices[1]!.hw];
  const ios = (job: string): number => r.jobs.find((j) => j.name === job)!.write.ios;
  // nvme0n1: no directive at all; nvme1n1: short is stream 1, long stream 3, one command per write
  // (plus the one write of each job still in flight at the end)
  assert.deepEqual([...streams.keys()].sort(), ['nvme0n1:0', 'nvme1n1:1', 'nvme1n1:3']);
  const within = (key: string, done: number, jobs: number): void => {
    const n = streams.get(key)!;
    assert.ok(n >= done && n <= done + jobs, `${key}: ${n} commands, ${done} writes done`);
  };
  within('nvme0n1:0', ios('cold') + ios('hot'), 2);
  within('nvme1n1:1', ios('hot-short'), 1);
  within('nvme1n1:3', ios('cold-long'), 1);
  // the hot file's pages are rewritten more often than the cold one's (2 MiB against 9 MiB)
  assert.ok(ios('hot') / 512 > 2 * (ios('cold') / 2304), `hot ${ios('hot')}, cold ${ios('cold')} writes`);
  const wa = [plain['writeAmplification']!, hinted['writeAmplification']!];
  assert.ok(wa[0]! > 3.3 && wa[0]! < 3.7, `WA without hints ${wa[0]}`);
  assert.ok(wa[1]! > 2.8 && wa[1]! < 3.1, `WA with hints ${wa[1]}`);
  assert.ok(wa[1]! < 0.88 * wa[0]!, `hints lower WA by more than 12 %: ${wa.join(' -> ')}`);
  // less copying per erase: GC's victims hold fewer valid pages
  assert.ok(hinted['gcCopies']! / hinted['erases']! < plain['gcCopies']! / plain['erases']!);
});

test('ssd-write-amplification-hints.bt reads the hint at each layer: fcntl, bio->bi_write_hint, the NVMe stream', () => {
  const { m, durationNs } = bootExperiment('ssd-write-amplification-hints.json');
  const text = readFileSync(join(EXPERIMENTS_DIR, 'ssd-write-amplification-hints.bt'), 'utf8');
  let out = '';
  const res = runScript(m, scriptOptions(text, durationNs, (t, stream) => { if (stream === 'stdout') out += t; }, { quiet: true, sourceName: 'ssd-write-amplification-hints.bt' }));
  assert.equal(res.exitCode, 0);
  // fio tries the per-file hint first (O_DIRECT), then the inode's: RWH_WRITE_LIFE_SHORT 2, LONG 4
  assert.match(out, /^@fcntl\[hot-short, 1036, 2\]: 1$/m);
  assert.match(out, /^@fcntl\[cold-long, 1038, 4\]: 1$/m);
  assert.match(out, /^@bio_write_hint\[hot-short, 2\]: \d+$/m);
  assert.match(out, /^@bio_write_hint\[cold-long, 4\]: \d+$/m);
  assert.match(out, /^@bio_write_hint\[hot, 0\]: \d+$/m);
  assert.match(out, /^@nvme_write_stream\[nvme1n1, 3\]: \d+$/m);
  assert.match(out, /^@nvme_write_stream\[nvme0n1, 0\]: \d+$/m);
  assert.doesNotMatch(out, /^@nvme_write_stream\[nvme0n1, [1-9]/m);
});
