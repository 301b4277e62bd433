// double-buffering: 16 MiB from a sender on a 25 Gb/s link to recv-to-disk, which writes each full
// 1 MiB buffer to an NVMe SSD with O_DIRECT. With one buffer (and a small socket receive buffer)
// receiving and writing take turns: the program waits for every write, the window closes and the
// wire falls silent. With two the network fills one buffer while the disk writes the other: the
// stalls go, the disk is kept busy and throughput rises towards the slower of the two rates. With
// one buffer but TCP's autotuned receive buffer the kernel's socket buffer does much of the second
// buffer's work.
import test from 'node:test';
import assert from 'node:assert/strict';
import { attach } from '../../probes/attach.js';
import { bootExperiment, oncePerFile } from '../helpers/experiment.js';

interface Measured {
  readonly bytes: number;
  readonly elapsedNs: number;
  readonly mbPerS: number;
  readonly recvNs: number;
  readonly waitFreeNs: number;
  /** block_rq_issue .. block_rq_complete with anything in the device. */
  readonly diskBusyNs: number;
  /** Gaps over 50 us between segments arriving on the connection: the sender was not sending. */
  readonly wireSilentNs: number;
}

const ms = (text: string): number => Math.round(Number(text) * 1e6);

const run = oncePerFile((file: string): Measured => {
  const { m, durationNs, name } = bootExperiment(file);
  let inflight = 0;
  let busySinceNs = 0;
  let diskBusyNs = 0;
  attach(m, 'tracepoint:block:block_rq_issue', (h) => {
    if (inflight++ === 0) busySinceNs = h.timeNs;
  });
  attach(m, 'tracepoint:block:block_rq_complete', (h) => {
    if (inflight > 0 && --inflight === 0) diskBusyNs += h.timeNs - busySinceNs;
  });
  let lastSegNs = -1;
  let wireSilentNs = 0;
  attach(m, 'tracepoint:tcp:tcp_probe', (h) => {
    if (Number(h.fields.sport) !== 9000) return;
    if (lastSegNs >= 0 && h.timeNs - lastSegNs > 50_000) wireSilentNs += h.timeNs - lastSegNs;
    lastSegNs = h.timeNs;
  });
  m.run(durationNs);
  const ev = m.report(name, 1).events![0]!;
  assert.equal(ev.status, '0', `${file}: recv-to-disk ended within the run: ${ev.output}`);
  const total = /received (\d+) bytes, wrote \d+ in \d+ writes, in ([\d.]+) ms: ([\d.]+) MB\/s/.exec(ev.output);
  const times = /in recv\(\) ([\d.]+) ms, in io_submit\(\) [\d.]+ ms, waiting for a free buffer ([\d.]+) ms/.exec(ev.output);
  assert.ok(total && times, ev.output);
  return {
    bytes: Number(total[1]),
    elapsedNs: ms(total[2]!),
    mbPerS: Number(total[3]),
    recvNs: ms(times[1]!),
    waitFreeNs: ms(times[2]!),
    diskBusyNs,
    wireSilentNs,
  };
});

test('one buffer: receiving and writing take turns, the program waits for every write and the sender for the window', () => {
  const one = run('double-buffering-1.json');
  assert.equal(one.bytes, 16 << 20);
  // nothing overlaps: time in recv() plus time waiting for the write fill nearly all of it
  assert.ok(one.recvNs + one.waitFreeNs > 0.85 * one.elapsedNs, `recv ${one.recvNs} + wait ${one.waitFreeNs} of ${one.elapsedNs} ns`);
  // each of the 16 writes (about 0.43 ms) is waited for in full
  assert.ok(one.waitFreeNs > 0.8 * one.diskBusyNs, `waited ${one.waitFreeNs} ns of the disk's ${one.diskBusyNs} ns busy`);
  // the 256 KiB socket buffer fills early in each write: the wire is silent for most of it
  assert.ok(one.wireSilentNs > 0.6 * one.waitFreeNs, `wire silent ${one.wireSilentNs} ns`);
  assert.ok(one.diskBusyNs < 0.65 * one.elapsedNs, `disk busy ${one.diskBusyNs} of ${one.elapsedNs} ns`);
});

test('two buffers: the network fills one while the disk writes the other; throughput 1.5x, the stalls cut more than fivefold', () => {
  const one = run('double-buffering-1.json');
  const two = run('double-buffering.json');
  assert.equal(two.bytes, 16 << 20);
  assert.ok(two.mbPerS / one.mbPerS > 1.5, `${two.mbPerS} vs ${one.mbPerS} MB/s`);
  // the producer's stall: waiting for a free buffer falls more than fivefold, and the sender's with it
  // (not to zero: the wire fills a buffer in 0.357 ms, faster than the 0.43 ms write)
  assert.ok(two.waitFreeNs < one.waitFreeNs / 5, `waited ${two.waitFreeNs} vs ${one.waitFreeNs} ns`);
  assert.ok(two.wireSilentNs < one.wireSilentNs / 5, `wire silent ${two.wireSilentNs} vs ${one.wireSilentNs} ns`);
  // the disk is the slower side and is kept busy: the transfer takes little more than its busy time
  assert.ok(two.diskBusyNs > 0.85 * two.elapsedNs, `disk busy ${two.diskBusyNs} of ${two.elapsedNs} ns`);
  assert.ok(two.elapsedNs < 0.75 * (two.recvNs + two.diskBusyNs), 'receiving and writing overlap');
  // the same writes either way
  assert.ok(Math.abs(two.diskBusyNs / one.diskBusyNs - 1) < 0.05, `${two.diskBusyNs} vs ${one.diskBusyNs} ns busy`);
});

test('one buffer with an autotuned receive buffer: the socket buffer plays the second buffer, in between', () => {
  const one = run('double-buffering-1.json');
  const two = run('double-buffering.json');
  const auto = run('double-buffering-autotuned.json');
  assert.ok(auto.mbPerS > 1.25 * one.mbPerS && auto.mbPerS < two.mbPerS, `${one.mbPerS} < ${auto.mbPerS} < ${two.mbPerS} MB/s`);
  // the program still waits for every write, but the sender mostly does not
  assert.ok(auto.waitFreeNs > 0.8 * one.waitFreeNs, `waited ${auto.waitFreeNs} ns`);
  assert.ok(auto.wireSilentNs < one.wireSilentNs / 3, `wire silent ${auto.wireSilentNs} vs ${one.wireSilentNs} ns`);
});
