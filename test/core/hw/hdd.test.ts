// Tests for core/hw/hdd.ts: the physics of a 7200 rpm SATA disk must emerge from geometry, seek curve,
// rotation and caches (anchor A3 of kernel-model-facts.md §23; HC310 figures of §17.1).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Environment } from '../../../core/sim/engine.js';
import { Random } from '../../../core/sim/random.js';
import { SimBug } from '../../../core/sim/errors.js';
import type {
  DeviceCommand,
  DeviceHost,
  DeviceOp,
  DmaDirection,
  MediaDetail,
} from '../../../core/hw/device.js';
import {
  DEFAULT_HDD_CONFIG,
  HDD_STATUS_LBA_OUT_OF_RANGE,
  Hdd,
  HddGeometry,
  READ_SEEK_CURVE,
  WRITE_SEEK_CURVE,
  deriveSeekCurve,
  seekTimeNs,
  weightedAverageSeekNs,
  type HddConfig,
  type SeekCurve,
} from '../../../core/hw/hdd.js';

const MiB = 1024 * 1024;

interface MediaRec {
  readonly tNs: number;
  readonly cid: number;
  readonly detail: MediaDetail;
}
interface DmaRec {
  readonly tNs: number;
  readonly cid: number;
  readonly direction: DmaDirection;
  readonly bytes: number;
  readonly startNs: number;
  readonly endNs: number;
}
interface DoneRec {
  readonly tNs: number;
  readonly cid: number;
  readonly op: DeviceOp;
  readonly status: number;
}

/** A host that records every call and hands completions to a callback. */
class FakeHost implements DeviceHost {
  readonly env = new Environment();
  interrupts = 0;
  readonly fetches: { tNs: number; cid: number }[] = [];
  readonly media: MediaRec[] = [];
  readonly dmas: DmaRec[] = [];
  readonly done: DoneRec[] = [];
  hdd: Hdd | undefined;
  onComplete: (cmd: DeviceCommand) => void = () => {};

  raiseInterrupt(vector: number): void {
    assert.equal(vector, 0);
    this.interrupts++;
    const completions = this.hdd!.reap(0);
    for (const c of completions) {
      this.done.push({ tNs: this.env.nowNs, cid: c.cmd.cid, op: c.cmd.op, status: c.status });
      this.onComplete(c.cmd);
    }
  }
  onFetch(qid: number, cmd: DeviceCommand): void {
    assert.equal(qid, 0);
    this.fetches.push({ tNs: this.env.nowNs, cid: cmd.cid });
  }
  onMediaStart(qid: number, cmd: DeviceCommand, detail: MediaDetail): void {
    assert.equal(qid, 0);
    this.media.push({ tNs: this.env.nowNs, cid: cmd.cid, detail });
  }
  onDma(qid: number, cmd: DeviceCommand, direction: DmaDirection, bytes: number, startNs: number, endNs: number): void {
    assert.equal(qid, 0);
    this.dmas.push({ tNs: this.env.nowNs, cid: cmd.cid, direction, bytes, startNs, endNs });
  }
}

function makeDisk(overrides: Partial<HddConfig> = {}): { host: FakeHost; hdd: Hdd } {
  const host = new FakeHost();
  const hdd = new Hdd(host, { ...DEFAULT_HDD_CONFIG, ...overrides });
  host.hdd = hdd;
  return { host, hdd };
}

function cmdOf(cid: number, op: DeviceOp, sector: number, nrSectors: number, fua = false): DeviceCommand {
  return { cid, op, sector, nrSectors, fua, sgList: [{ dmaAddr: 0x1000_0000 + cid * 0x10_0000, lenBytes: nrSectors * 512 }] };
}

interface LoadResult {
  readonly iops: number;
  readonly mbPerSec: number;
  readonly meanLatencyNs: number;
  readonly latenciesNs: number[];
  readonly completionTimesNs: number[];
  readonly counters: Readonly<Record<string, number>>;
  readonly host: FakeHost;
}

interface LoadSpec {
  readonly qd: number;
  readonly count: number;
  readonly op?: DeviceOp;
  readonly sizeSectors?: number;
  /** Fraction of the disk the random offsets cover, starting at startFraction. */
  readonly spanFraction?: number;
  readonly startFraction?: number;
  readonly sequential?: boolean;
  readonly seed?: number;
  readonly config?: Partial<HddConfig>;
}

/** Closed loop: `qd` commands outstanding; each completion submits the next (same tag). */
function runLoad(spec: LoadSpec): LoadResult {
  const { host, hdd } = makeDisk(spec.config);
  const size = spec.sizeSectors ?? 8;
  const op = spec.op ?? 'read';
  const rng = new Random(spec.seed ?? 42);
  const base = Math.floor((hdd.capacitySectors * (spec.startFraction ?? 0)) / 8) * 8;
  const span = Math.floor((hdd.capacitySectors * (spec.spanFraction ?? 1)) / 8) * 8;
  const slots = Math.floor((span - size) / 8);
  let nextSeq = base;
  let issued = 0;
  const submitAt = new Map<number, number>();
  const latencies: number[] = [];
  const issue = (cid: number): void => {
    let sector: number;
    if (spec.sequential) {
      sector = nextSeq;
      nextSeq += size;
    } else {
      sector = base + rng.int(slots) * 8;
    }
    issued++;
    submitAt.set(cid, host.env.nowNs);
    hdd.submit(0, cmdOf(cid, op, sector, size));
  };
  host.onComplete = (cmd) => {
    latencies.push(host.env.nowNs - submitAt.get(cmd.cid)!);
    if (issued < spec.count) issue(cmd.cid);
  };
  for (let cid = 0; cid < spec.qd; cid++) issue(cid);
  host.env.run(Infinity);
  const lastNs = host.done[host.done.length - 1]!.tNs;
  assert.equal(latencies.length, spec.count);
  return {
    iops: spec.count / (lastNs / 1e9),
    mbPerSec: (spec.count * size * 512) / (lastNs / 1e9) / 1e6,
    meanLatencyNs: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    latenciesNs: latencies,
    completionTimesNs: host.done.map((d) => d.tNs),
    counters: hdd.counters(),
    host,
  };
}

/** The spec's weighted average, summed exactly over every seek length (HGST/WD definition). */
function discreteWeightedAverageNs(curve: SeekCurve): number {
  const m = curve.maxCyl;
  let num = 0;
  for (let n = 1; n <= m; n++) num += (m + 1 - n) * 2 * seekTimeNs(curve, n);
  return num / ((m + 1) * m);
}

// ---------------------------------------------------------------------------------------------------
// Geometry and seek curve

test('geometry: zoned recording, outer zones first, ≈ 4 TB', () => {
  const g = new HddGeometry(DEFAULT_HDD_CONFIG);
  assert.equal(g.cylinders, 307_200);
  assert.equal(g.heads, 8);
  assert.equal(g.capacitySectors, 7_785_676_800);
  assert.ok(g.capacitySectors * 512 > 3.9e12 && g.capacitySectors * 512 < 4.1e12);
  const spt = g.zoneSectorsPerTrack;
  assert.equal(spt[0], 4224);
  assert.equal(spt[spt.length - 1], 2112);
  assert.equal(spt[0]! / spt[spt.length - 1]!, 2); // outer ≈ 2x inner (§17.1)
  for (let z = 1; z < spt.length; z++) assert.ok(spt[z]! <= spt[z - 1]!, 'sectors/track shrink inward');
  for (const s of spt) assert.equal(s % 8, 0, 'whole 4 KiB physical sectors per track');

  assert.deepEqual(g.locate(0), { cyl: 0, head: 0, sector: 0, sectorsPerTrack: 4224 });
  assert.deepEqual(g.locate(4224), { cyl: 0, head: 1, sector: 0, sectorsPerTrack: 4224 });
  assert.deepEqual(g.locate(8 * 4224), { cyl: 1, head: 0, sector: 0, sectorsPerTrack: 4224 });
  assert.deepEqual(g.locate(g.capacitySectors - 1), { cyl: 307_199, head: 7, sector: 2111, sectorsPerTrack: 2112 });
  assert.throws(() => g.locate(g.capacitySectors), SimBug);

  const rng = new Random(3);
  for (let i = 0; i < 2000; i++) {
    const cyl = rng.int(g.cylinders);
    const head = rng.int(g.heads);
    const lba = g.trackStartLba(cyl, head);
    const loc = g.locate(lba);
    assert.deepEqual([loc.cyl, loc.head, loc.sector], [cyl, head, 0]);
    const mid = g.locate(lba + loc.sectorsPerTrack - 1);
    assert.deepEqual([mid.cyl, mid.head, mid.sector], [cyl, head, loc.sectorsPerTrack - 1]);
  }
});

test('seek curve: single-track, spec-weighted average and full stroke anchors hold (HC310)', () => {
  const r = READ_SEEK_CURVE;
  const w = WRITE_SEEK_CURVE;
  assert.equal(Math.round(seekTimeNs(r, 1)), 230_000);
  assert.equal(Math.round(seekTimeNs(w, 1)), 320_000);
  assert.equal(Math.round(seekTimeNs(r, r.maxCyl)), 16_000_000);
  assert.equal(Math.round(seekTimeNs(w, w.maxCyl)), 17_000_000);
  assert.equal(seekTimeNs(r, 0), 0);
  // Average over all seek combinations (closed form, and the exact discrete sum of the spec formula).
  assert.ok(Math.abs(weightedAverageSeekNs(r) - 7_400_000) < 1);
  assert.ok(Math.abs(weightedAverageSeekNs(w) - 8_200_000) < 1);
  assert.ok(Math.abs(discreteWeightedAverageNs(r) - 7_400_000) < 5_000);
  assert.ok(Math.abs(discreteWeightedAverageNs(w) - 8_200_000) < 5_000);
  // The 1/3-stroke seek is a little above the weighted average (the curve is concave).
  const thirdRead = seekTimeNs(r, r.maxCyl / 3);
  const thirdWrite = seekTimeNs(w, w.maxCyl / 3);
  assert.ok(thirdRead > 7_400_000 && thirdRead < 8_000_000, `1/3 stroke read ${thirdRead}`);
  assert.ok(thirdWrite > 8_200_000 && thirdWrite < 9_000_000, `1/3 stroke write ${thirdWrite}`);
  for (const c of [r, w]) {
    // a + b√d below the threshold, c + e·d above, joined with equal value and slope.
    const t = c.thresholdCyl;
    assert.ok(t > 1 && t < c.maxCyl / 3);
    assert.ok(Math.abs(c.aNs + c.bNs * Math.sqrt(t) - (c.cNs + c.eNs * t)) < 1e-3);
    assert.ok(Math.abs(c.bNs / (2 * Math.sqrt(t)) - c.eNs) < 1e-9);
    let prev = 0;
    for (let d = 1; d <= c.maxCyl; d += 997) {
      const s = seekTimeNs(c, d);
      assert.ok(s > prev, 'seek time grows with distance');
      prev = s;
    }
  }
  // Short seeks: 1 % of the stroke ≈ 1.5 ms, the "seek ≈ 1–2 ms" of a short-stroked disk (A3).
  const short = seekTimeNs(r, r.maxCyl / 100);
  assert.ok(short > 1_000_000 && short < 2_000_000, `short seek ${short}`);
  // The derivation works for other geometries too.
  const small = deriveSeekCurve({ singleTrackNs: 1_000_000, averageNs: 10_000_000, fullStrokeNs: 20_000_000 }, 50_000);
  assert.ok(Math.abs(weightedAverageSeekNs(small) - 10_000_000) < 1);
  assert.throws(() => deriveSeekCurve({ singleTrackNs: 1e5, averageNs: 19e6, fullStrokeNs: 20e6 }, 50_000), SimBug);
});

// ---------------------------------------------------------------------------------------------------
// Exact mechanics

test('first read: rotational wait from the deterministic platter angle, transfer, then DMA', () => {
  const { host, hdd } = makeDisk();
  hdd.submit(0, cmdOf(5, 'read', 0, 8));
  host.env.run(Infinity);
  const rev = 60e9 / 7200;
  // Ready after the 0.1 ms command overhead and the 0.3 ms a buffer miss adds; sector 0 of track 0
  // sits at angle 0, so the head waits for the rest of the revolution; 8 sectors of a 4224-sector
  // track; 4 KiB over a 600 MB/s link.
  assert.deepEqual(host.fetches, [{ tNs: 0, cid: 5 }]);
  assert.equal(host.media.length, 1);
  const m = host.media[0]!;
  assert.equal(m.tNs, 400_000);
  assert.deepEqual(m.detail, {
    channel: -1,
    die: -1,
    seekNs: 0,
    rotationNs: Math.round(rev - 400_000),
    mediaNs: Math.round((8 * rev) / 4224),
    cacheHit: false,
  });
  assert.equal(m.detail.rotationNs, 7_933_333);
  assert.equal(m.detail.mediaNs, 15_783);
  const mediaEndNs = Math.round(400_000 + (rev - 400_000) + (8 * rev) / 4224);
  assert.equal(mediaEndNs, 8_349_116);
  assert.deepEqual(host.dmas, [
    { tNs: mediaEndNs, cid: 5, direction: 'from-device', bytes: 4096, startNs: mediaEndNs, endNs: mediaEndNs + 6827 },
  ]);
  assert.deepEqual(host.done, [{ tNs: 8_355_943, cid: 5, op: 'read', status: 0 }]);
  assert.equal(host.interrupts, 1);
  assert.equal(hdd.counters()['seeks'], 0);
});

test('one-cylinder and head-switch moves cost the single-track seek; far moves follow the curve', () => {
  const { host, hdd } = makeDisk({ readAheadBytes: 0 });
  const g = hdd.geometry;
  const targets = [
    { lba: g.trackStartLba(1, 0), seekNs: 230_000 },
    { lba: g.trackStartLba(1, 3), seekNs: 230_000 }, // head switch
    { lba: g.trackStartLba(200_001, 3), seekNs: Math.round(seekTimeNs(READ_SEEK_CURVE, 200_000)) },
    { lba: g.trackStartLba(200_001, 3) + 100, seekNs: 0 }, // same track: rotation only
  ];
  let i = 0;
  host.onComplete = () => {
    const t = targets[i++];
    if (t) hdd.submit(0, cmdOf(1, 'read', t.lba, 8));
  };
  hdd.submit(0, cmdOf(1, 'read', 0, 8));
  host.env.run(Infinity);
  const seeks = host.media.map((m) => m.detail.seekNs);
  assert.deepEqual(seeks, [0, ...targets.map((t) => t.seekNs)]);
  assert.equal(hdd.counters()['seeks'], 2);
  for (const m of host.media) assert.ok(m.detail.rotationNs >= 0 && m.detail.rotationNs < 8_333_334);
});

// ---------------------------------------------------------------------------------------------------
// Anchor A3: random vs sequential

test('A3: QD1 4 KiB random reads over the full disk ≈ 80–86 IOPS (mean service ≈ 11.6–12.7 ms)', () => {
  const r = runLoad({ qd: 1, count: 2000 });
  const meanMs = r.meanLatencyNs / 1e6;
  assert.ok(r.iops >= 75 && r.iops <= 90, `IOPS ${r.iops}`);
  assert.ok(meanMs >= 11 && meanMs <= 13, `mean service ${meanMs} ms`);
  const c = r.counters;
  const meanSeekMs = c['totalSeekNs']! / c['seeks']! / 1e6;
  const meanRotMs = c['totalRotationNs']! / 2000 / 1e6;
  assert.ok(meanSeekMs > 6.5 && meanSeekMs < 8, `mean seek ${meanSeekMs} ms`);
  assert.ok(Math.abs(meanRotMs - 4.17) < 0.3, `mean rotational latency ${meanRotMs} ms`);
  assert.ok(r.mbPerSec > 0.3 && r.mbPerSec < 0.37, `MB/s ${r.mbPerSec}`);
});

test('A3: short-stroked random reads (1 % of the disk) ≈ 170–230 IOPS', () => {
  const r = runLoad({ qd: 1, count: 2000, spanFraction: 0.01 });
  assert.ok(r.iops >= 170 && r.iops <= 230, `IOPS ${r.iops}`);
});

test('A3: NCQ with SPTF at QD32 beats QD1 by ≥ 1.4x; FIFO at QD32 does not', () => {
  const qd1 = runLoad({ qd: 1, count: 2000 });
  const sptf = runLoad({ qd: 32, count: 4000 });
  const fifo = runLoad({ qd: 32, count: 2000, config: { scheduling: 'fifo' } });
  const gain = sptf.iops / qd1.iops;
  assert.ok(gain >= 1.4, `SPTF gain ${gain}`);
  assert.ok(gain <= 3.2, `SPTF gain ${gain} implausibly high`);
  assert.ok(fifo.iops / qd1.iops < 1.1, `FIFO gain ${fifo.iops / qd1.iops}`);
  // Little's law holds for the closed loop: L = λW.
  assert.ok(Math.abs((sptf.iops * sptf.meanLatencyNs) / 1e9 - 32) < 1);
});

test('A3: sequential 1 MiB reads stream at ≥ 150 MB/s on outer tracks, about half on inner tracks', () => {
  const outer = runLoad({ qd: 1, count: 300, sizeSectors: 2048, sequential: true });
  const inner = runLoad({ qd: 1, count: 300, sizeSectors: 2048, sequential: true, startFraction: 0.99 });
  assert.ok(outer.mbPerSec >= 150 && outer.mbPerSec <= 260, `outer ${outer.mbPerSec} MB/s`);
  assert.ok(inner.mbPerSec >= 100 && inner.mbPerSec < 0.6 * outer.mbPerSec, `inner ${inner.mbPerSec} MB/s`);
  // The track buffer keeps reading ahead while the host turns the command around.
  assert.equal(outer.counters['readAheadStreamReads']! + outer.counters['readCacheHits']!, 299);
  assert.equal(outer.counters['seeks'], 0);
  // Ratio to QD1 random (A3: ≈ 500–750x).
  const random = runLoad({ qd: 1, count: 500 });
  const ratio = outer.mbPerSec / random.mbPerSec;
  assert.ok(ratio > 500 && ratio < 800, `sequential/random ${ratio}`);
  // Without read-ahead a QD1 stream loses most of a revolution per command.
  const noRa = runLoad({ qd: 1, count: 100, sizeSectors: 2048, sequential: true, config: { readAheadBytes: 0 } });
  assert.ok(noRa.mbPerSec < 0.5 * outer.mbPerSec, `no read-ahead ${noRa.mbPerSec} MB/s`);
});

test('small sequential reads are served from the read-ahead buffer', () => {
  const r = runLoad({ qd: 1, count: 1000, sizeSectors: 8, sequential: true });
  assert.ok(r.counters['readCacheHits']! > 900, `hits ${r.counters['readCacheHits']}`);
  // A buffer hit costs the command overhead plus the DMA: 0.1 ms + 6.8 µs.
  const sorted = [...r.latenciesNs].sort((a, b) => a - b);
  assert.equal(sorted[500], 106_827);
});

// ---------------------------------------------------------------------------------------------------
// Write cache, FUA, flush

test('a cached write completes in < 1 ms and is destaged when the drive is idle', () => {
  const { host, hdd } = makeDisk();
  hdd.submit(0, cmdOf(3, 'write', 123_456 * 8, 8));
  host.env.run(1_000_000);
  assert.deepEqual(host.done, [{ tNs: 106_827, cid: 3, op: 'write', status: 0 }]);
  assert.deepEqual(host.media[0]!.detail, { channel: -1, die: -1, seekNs: 0, rotationNs: 0, mediaNs: 0, cacheHit: true });
  const dma = host.dmas[0]!;
  assert.deepEqual([dma.direction, dma.bytes, dma.startNs, dma.endNs], ['to-device', 4096, 100_000, 106_827]);
  assert.equal(hdd.counters()['cacheWriteHits'], 1);
  assert.equal(hdd.dirtyBytes(), 4096);
  host.env.run(Infinity);
  assert.equal(hdd.dirtyBytes(), 0);
  assert.equal(hdd.counters()['destagedWrites'], 1);
  assert.equal(hdd.counters()['destagedBytes'], 4096);
});

test('flush completes only when every earlier cached write is on the platter', () => {
  const { host, hdd } = makeDisk();
  const rng = new Random(11);
  for (let cid = 0; cid < 16; cid++) hdd.submit(0, cmdOf(cid, 'write', rng.int(hdd.capacitySectors / 8 - 1) * 8, 8));
  let flushSubmittedNs = -1;
  let destagedAtFlush = -1;
  let dirtyAtFlush = -1;
  host.onComplete = (cmd) => {
    if (cmd.op === 'write' && host.done.filter((d) => d.op === 'write').length === 16) {
      flushSubmittedNs = host.env.nowNs;
      hdd.submit(0, cmdOf(99, 'flush', 0, 0));
    }
    if (cmd.op === 'flush') {
      destagedAtFlush = hdd.counters()['destagedWrites']!;
      dirtyAtFlush = hdd.dirtyBytes();
    }
  };
  host.env.run(Infinity);
  const writes = host.done.filter((d) => d.op === 'write');
  const flush = host.done.find((d) => d.op === 'flush')!;
  assert.ok(writes.every((w) => w.tNs < 1_000_000), 'all 16 writes were cache hits');
  assert.ok(flushSubmittedNs > 0);
  assert.equal(destagedAtFlush, 16);
  assert.equal(dirtyAtFlush, 0);
  const flushLatencyMs = (flush.tNs - flushSubmittedNs) / 1e6;
  assert.ok(flushLatencyMs > 10, `flush latency ${flushLatencyMs} ms`);
  // A flush of a clean cache only costs the command overhead.
  hdd.submit(0, cmdOf(100, 'flush', 0, 0));
  const before = host.env.nowNs;
  host.env.run(Infinity);
  assert.equal(host.done[host.done.length - 1]!.tNs - before, 100_000);
});

test('FUA write goes to the platter: data over the link first, then seek + rotation + media', () => {
  const { host, hdd } = makeDisk();
  hdd.submit(0, cmdOf(4, 'write', 1_000_000_000, 8, true));
  host.env.run(Infinity);
  const dma = host.dmas[0]!;
  const m = host.media[0]!;
  const done = host.done[0]!;
  assert.equal(dma.direction, 'to-device');
  assert.equal(dma.startNs, 100_000);
  assert.equal(m.tNs, dma.endNs, 'positioning starts when the data is in the buffer');
  assert.equal(m.detail.cacheHit, false);
  assert.ok(m.detail.seekNs > 320_000);
  assert.equal(done.tNs, m.tNs + m.detail.seekNs + m.detail.rotationNs + m.detail.mediaNs);
  assert.ok(done.tNs > 1_000_000);
  assert.equal(hdd.counters()['mediaWrites'], 1);
  assert.equal(hdd.dirtyBytes(), 0);
});

test('write cache disabled: writes complete only after the media write', () => {
  const r = runLoad({ qd: 1, count: 500, op: 'write', config: { writeCacheEnabled: false } });
  const meanMs = r.meanLatencyNs / 1e6;
  // Write seeks average 8.2 ms, plus 4.17 ms rotation.
  assert.ok(meanMs > 11.5 && meanMs < 13.5, `mean write ${meanMs} ms`);
  assert.equal(r.counters['cacheWriteHits'], 0);
});

test('a full write cache makes writes wait for destage', () => {
  const r = runLoad({ qd: 32, count: 400, op: 'write', config: { writeCacheBytes: 64 * 1024 } });
  assert.ok(r.counters['cacheFullWaits']! > 0);
  assert.ok(r.counters['maxDirtyBytes']! <= 64 * 1024);
  assert.equal(r.counters['destagedBytes'], 400 * 4096);
  // Throughput is bounded by destaging (SPTF over the cached extents), not by the link.
  assert.ok(r.iops > 80 && r.iops < 400, `IOPS ${r.iops}`);
});

test('sequential cached writes coalesce and destage at media speed', () => {
  const r = runLoad({ qd: 1, count: 1000, op: 'write', sizeSectors: 2048, sequential: true });
  // 1000 MiB: the host sees link speed until the 256 MiB cache fills, then the platter's ≈ 249 MB/s...
  const hostMbPerSec = r.mbPerSec;
  assert.ok(hostMbPerSec > 300 && hostMbPerSec < 360, `host MB/s ${hostMbPerSec}`);
  // ...and the platter, measured until the cache has drained, writes at media speed.
  const mediaMbPerSec = (1000 * MiB) / (r.host.env.nowNs / 1e9) / 1e6;
  assert.ok(mediaMbPerSec > 235 && mediaMbPerSec < 255, `media MB/s ${mediaMbPerSec}`);
  assert.equal(r.counters['dirtyBytes'], 0);
  assert.ok(r.counters['destagedWrites']! <= 510, 'extents merged up to 2 MiB runs');
});

test('a read of data still in the write cache is served without the platter', () => {
  const { host, hdd } = makeDisk();
  hdd.submit(0, cmdOf(1, 'write', 4096, 64));
  host.onComplete = (cmd) => {
    if (cmd.cid === 1) hdd.submit(0, cmdOf(2, 'read', 4096 + 8, 8));
  };
  host.env.run(Infinity);
  const read = host.done.find((d) => d.cid === 2)!;
  const write = host.done.find((d) => d.cid === 1)!;
  assert.equal(read.tNs - write.tNs, 100_000 + 6827);
  assert.equal(hdd.counters()['readWriteCacheHits'], 1);
});

// ---------------------------------------------------------------------------------------------------
// Interface behaviour and determinism

test('same inputs give identical completion times', () => {
  const spec: LoadSpec = { qd: 8, count: 600, seed: 5 };
  const a = runLoad(spec);
  const b = runLoad(spec);
  assert.deepEqual(a.completionTimesNs, b.completionTimesNs);
  assert.deepEqual(a.counters, b.counters);
  for (const t of a.completionTimesNs) assert.ok(Number.isInteger(t));
  for (const m of a.host.media) {
    assert.ok(Number.isInteger(m.detail.seekNs) && Number.isInteger(m.detail.rotationNs));
    assert.ok(Number.isInteger(m.detail.mediaNs));
  }
  // Mixed reads, writes and flushes are deterministic too.
  const mixed = (): number[] => {
    const { host, hdd } = makeDisk();
    const rng = new Random(9);
    let n = 0;
    const issue = (cid: number): void => {
      const k = rng.int(10);
      const op: DeviceOp = k < 5 ? 'read' : k < 9 ? 'write' : 'flush';
      const sector = op === 'flush' ? 0 : rng.int(1_000_000) * 8;
      hdd.submit(0, cmdOf(cid, op, sector, op === 'flush' ? 0 : 8 * (1 + rng.int(16)), k === 8));
      n++;
    };
    host.onComplete = (cmd) => {
      if (n < 400) issue(cmd.cid);
    };
    for (let cid = 0; cid < 4; cid++) issue(cid);
    host.env.run(Infinity);
    return host.done.map((d) => d.tNs * 100 + d.cid);
  };
  assert.deepEqual(mixed(), mixed());
});

test('DMA: reads cross the link after the media read, writes before', () => {
  const r = runLoad({ qd: 4, count: 200, op: 'read', seed: 3 });
  const mediaEnd = new Map<number, number>();
  for (const m of r.host.media) mediaEnd.set(m.cid, m.tNs + m.detail.seekNs + m.detail.rotationNs + m.detail.mediaNs);
  // Every read DMA starts no earlier than its command's media end (tags are reused, so compare in order).
  const byCid = new Map<number, number[]>();
  for (const m of r.host.media) {
    const arr = byCid.get(m.cid) ?? [];
    arr.push(m.tNs + m.detail.seekNs + m.detail.rotationNs + m.detail.mediaNs);
    byCid.set(m.cid, arr);
  }
  const seen = new Map<number, number>();
  for (const d of r.host.dmas) {
    const k = seen.get(d.cid) ?? 0;
    seen.set(d.cid, k + 1);
    const end = byCid.get(d.cid)![k]!;
    assert.equal(d.direction, 'from-device');
    assert.ok(d.startNs >= end - 2, `DMA at ${d.startNs} before media end ${end}`);
    assert.equal(d.endNs - d.startNs, 6827);
  }
  // The link carries one transfer at a time.
  const sorted = [...r.host.dmas].sort((a, b) => a.startNs - b.startNs);
  for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]!.startNs >= sorted[i - 1]!.endNs);
});

test('NCQ limits: 32 outstanding tags, unique tags, one queue; bad LBAs fail', () => {
  const { host, hdd } = makeDisk();
  assert.equal(hdd.rotational, true);
  assert.equal(hdd.queueCount, 1);
  assert.equal(hdd.queueDepth, 32);
  assert.equal(hdd.capacitySectors, 7_785_676_800);
  for (let cid = 0; cid < 32; cid++) hdd.submit(0, cmdOf(cid, 'read', cid * 1_000_000, 8));
  assert.throws(() => hdd.submit(0, cmdOf(40, 'read', 0, 8)), SimBug);
  host.env.run(Infinity);
  assert.equal(host.done.length, 32);
  hdd.submit(0, cmdOf(1, 'read', 0, 8));
  assert.throws(() => hdd.submit(0, cmdOf(1, 'read', 8, 8)), SimBug);
  assert.throws(() => hdd.submit(1, cmdOf(2, 'read', 8, 8)), SimBug);
  hdd.submit(0, cmdOf(77, 'read', hdd.capacitySectors - 4, 8));
  host.env.run(Infinity);
  const bad = host.done.find((d) => d.cid === 77)!;
  assert.equal(bad.status, HDD_STATUS_LBA_OUT_OF_RANGE);
  assert.equal(hdd.counters()['errors'], 1);
});

test('reap drains completions oldest first, and every completion raises the port interrupt', () => {
  const host = new FakeHost();
  const hdd = new Hdd(host, DEFAULT_HDD_CONFIG);
  // Do not reap from the interrupt: let completions pile up.
  host.raiseInterrupt = function (this: FakeHost) {
    this.interrupts++;
  };
  for (let cid = 0; cid < 8; cid++) hdd.submit(0, cmdOf(cid, 'write', cid * 64, 8));
  host.env.run(Infinity);
  assert.equal(host.interrupts, 8);
  const comps = hdd.reap(0);
  assert.deepEqual(
    comps.map((c) => c.cmd.cid),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  assert.deepEqual(hdd.reap(0), []);
});

test('starvation guard: no queued command waits much longer than the age limit under SPTF', () => {
  const r = runLoad({ qd: 32, count: 3000 });
  const maxMs = Math.max(...r.latenciesNs) / 1e6;
  // Age limit 500 ms plus at most the commands already ahead of it.
  assert.ok(maxMs < 1000, `max latency ${maxMs} ms`);
  assert.ok(r.counters['agedPicks']! >= 0);
});
