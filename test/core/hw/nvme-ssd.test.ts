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
  DEFAULT_NVME_CONFIG,
  FW_4KB_READ_LATENCY_NS,
  FW_FLUSH_LATENCY_NS,
  FW_WRITE_BUFFER_LATENCY_NS,
  FW_WRITE_BUFFER_PER_PAGE_NS,
  FW_WRITE_CORE_NS,
  CONTROLLER_IO_CORES,
  INTERRUPT_COALESCING_TIME_UNIT_NS,
  NVME_SC_LBA_RANGE,
  NvmeSsd,
  PCIE_SG_ENTRY_OVERHEAD_NS,
  SQE_FETCH_LATENCY_NS,
  pcieTransferNs,
  type NvmeSsdConfig,
} from '../../../core/hw/nvme/controller.js';
import { LOGICAL_PAGE_BYTES, NAND_ERASE_NS, NAND_PROGRAM_NS, NAND_READ_4KB_NS, channelTransferNs } from '../../../core/hw/nvme/nand.js';
import { SECTORS_PER_PAGE } from '../../../core/hw/nvme/ftl.js';

interface Done {
  readonly qid: number;
  readonly cid: number;
  readonly op: DeviceOp;
  readonly status: number;
  readonly submitNs: number;
  readonly doneNs: number;
}

interface Spec {
  readonly op: DeviceOp;
  readonly sector: number;
  readonly nrSectors: number;
  readonly fua?: boolean;
}

/** A host that records every call and reaps on each interrupt. */
class FakeHost implements DeviceHost {
  readonly env = new Environment();
  ssd: NvmeSsd | null = null;
  readonly done: Done[] = [];
  readonly interrupts: { vector: number; timeNs: number }[] = [];
  readonly fetches: { qid: number; cid: number; timeNs: number }[] = [];
  readonly media: { qid: number; cid: number; detail: MediaDetail; timeNs: number }[] = [];
  readonly dmas: {
    qid: number;
    cid: number;
    direction: DmaDirection;
    bytes: number;
    startNs: number;
    endNs: number;
    timeNs: number;
  }[] = [];
  onDone: ((d: Done) => void) | null = null;
  private readonly submitNs = new Map<string, number>();
  private nextCid = 0;

  raiseInterrupt(vector: number): void {
    this.interrupts.push({ vector, timeNs: this.env.nowNs });
    for (const c of this.ssd!.reap(vector)) {
      const key = `${vector}:${c.cmd.cid}`;
      const d: Done = {
        qid: vector,
        cid: c.cmd.cid,
        op: c.cmd.op,
        status: c.status,
        submitNs: this.submitNs.get(key)!,
        doneNs: this.env.nowNs,
      };
      this.submitNs.delete(key);
      this.done.push(d);
      this.onDone?.(d);
    }
  }

  onFetch(qid: number, cmd: DeviceCommand): void {
    this.fetches.push({ qid, cid: cmd.cid, timeNs: this.env.nowNs });
  }

  onMediaStart(qid: number, cmd: DeviceCommand, detail: MediaDetail): void {
    this.media.push({ qid, cid: cmd.cid, detail, timeNs: this.env.nowNs });
  }

  onDma(qid: number, cmd: DeviceCommand, direction: DmaDirection, bytes: number, startNs: number, endNs: number): void {
    this.dmas.push({ qid, cid: cmd.cid, direction, bytes, startNs, endNs, timeNs: this.env.nowNs });
  }

  submit(qid: number, spec: Spec): number {
    const cid = this.nextCid++;
    const cmd: DeviceCommand = {
      cid,
      op: spec.op,
      sector: spec.sector,
      nrSectors: spec.nrSectors,
      fua: spec.fua ?? false,
      sgList: spec.nrSectors > 0 ? [{ dmaAddr: 0x10000 * (cid + 1), lenBytes: spec.nrSectors * 512 }] : [],
    };
    this.submitNs.set(`${qid}:${cid}`, this.env.nowNs);
    this.ssd!.submit(qid, cmd);
    return cid;
  }
}

function makeDevice(overrides: Partial<NvmeSsdConfig> = {}, seed = 1): { host: FakeHost; ssd: NvmeSsd } {
  const host = new FakeHost();
  // write jitter off unless asked: exact timings below
  const ssd = new NvmeSsd(host, { ...DEFAULT_NVME_CONFIG, writeJitter: false, ...overrides }, new Random(seed));
  host.ssd = ssd;
  return { host, ssd };
}

/** Keeps `qd` commands outstanding on queue 0 until `total` have completed. */
function closedLoop(host: FakeHost, qd: number, total: number, next: (i: number) => Spec): Done[] {
  let issued = 0;
  const results: Done[] = [];
  host.onDone = (d) => {
    results.push(d);
    if (issued < total) host.submit(0, next(issued++));
  };
  while (issued < Math.min(qd, total)) host.submit(0, next(issued++));
  host.env.run(Infinity);
  host.onDone = null;
  assert.equal(results.length, total);
  return results;
}

const PAGE_SECTORS = SECTORS_PER_PAGE;
const CH_4K_NS = channelTransferNs(LOGICAL_PAGE_BYTES);
const PCIE_4K_NS = pcieTransferNs(LOGICAL_PAGE_BYTES) + PCIE_SG_ENTRY_OVERHEAD_NS;
/** QD1 4 KiB read that misses the buffer: fetch + firmware + tR + channel + PCIe. */
const QD1_READ_NS = SQE_FETCH_LATENCY_NS + FW_4KB_READ_LATENCY_NS + NAND_READ_4KB_NS + CH_4K_NS + PCIE_4K_NS;
/** QD1 4 KiB write acknowledged from the buffer. */
const QD1_WRITE_NS = SQE_FETCH_LATENCY_NS + FW_WRITE_BUFFER_LATENCY_NS + FW_WRITE_BUFFER_PER_PAGE_NS + PCIE_4K_NS;

/** A deliberately tiny device: 2 dies, 16-page blocks, 32 blocks per die, 768 logical pages. */
const TINY: Partial<NvmeSsdConfig> = {
  channels: 2,
  diesPerChannel: 1,
  pagesPerFlashPage: 4,
  pagesPerBlock: 16,
  blocksPerDie: 32,
  overProvisioning: 1 / 3,
  gcThresholdFraction: 0.1,
  gcReserveBlocks: 2,
  writeBufferBytes: 16 * LOGICAL_PAGE_BYTES,
  readJitterNs: 0,
};

test('derived constants have the expected magnitudes', () => {
  assert.equal(CH_4K_NS, 4883); // 4096 B at 800 MiB/s
  assert.equal(pcieTransferNs(LOGICAL_PAGE_BYTES), 1163); // 4096 B at 3360 MiB/s
  assert.equal(QD1_READ_NS, 64_406);
  assert.equal(QD1_WRITE_NS, 14_723);
  const { ssd } = makeDevice();
  // 8 ch x 2 dies x 7656 logical blocks x 4 MiB = 513.7 GB (8192 blocks = 7656 x 1.07).
  assert.equal(ssd.capacitySectors, 16 * 7656 * 1024 * 8);
  assert.equal(ssd.queueCount, 4);
  assert.equal(ssd.queueDepth, 1023);
  assert.equal(ssd.rotational, false);
});

test('QD1 4 KiB read latency is fetch + firmware + tR + channel + PCIe, exactly without jitter', () => {
  const { host } = makeDevice({ readJitterNs: 0 });
  const sector = 123_456 * PAGE_SECTORS;
  host.submit(2, { op: 'read', sector, nrSectors: PAGE_SECTORS });
  host.env.run(Infinity);
  assert.equal(host.done.length, 1);
  const d = host.done[0]!;
  assert.equal(d.status, 0);
  assert.equal(d.doneNs - d.submitNs, QD1_READ_NS);
  // MSI-X vector = qid, one interrupt per completion with coalescing off.
  assert.deepEqual(host.interrupts, [{ vector: 2, timeNs: QD1_READ_NS }]);
  assert.deepEqual(host.fetches, [{ qid: 2, cid: 0, timeNs: SQE_FETCH_LATENCY_NS }]);
  assert.equal(host.media.length, 1);
  const m = host.media[0]!;
  assert.equal(m.timeNs, SQE_FETCH_LATENCY_NS + FW_4KB_READ_LATENCY_NS);
  assert.equal(m.detail.seekNs, 0);
  assert.equal(m.detail.rotationNs, -1);
  assert.equal(m.detail.mediaNs, NAND_READ_4KB_NS + CH_4K_NS);
  assert.equal(m.detail.cacheHit, false);
  assert.deepEqual(host.dmas, [
    {
      qid: 2,
      cid: 0,
      direction: 'from-device',
      bytes: 4096,
      startNs: QD1_READ_NS - PCIE_4K_NS,
      endNs: QD1_READ_NS,
      timeNs: QD1_READ_NS,
    },
  ]);
});

test('QD1 random reads with default jitter stay within ±readJitterNs of the nominal latency', () => {
  const { host, ssd } = makeDevice();
  const rng = new Random(7);
  const pages = ssd.capacitySectors / PAGE_SECTORS;
  const res = closedLoop(host, 1, 200, () => ({ op: 'read', sector: rng.int(pages) * PAGE_SECTORS, nrSectors: 8 }));
  const lat = res.map((d) => d.doneNs - d.submitNs);
  for (const l of lat) assert.ok(Math.abs(l - QD1_READ_NS) <= DEFAULT_NVME_CONFIG.readJitterNs, `latency ${l}`);
  assert.ok(new Set(lat).size > 50, 'jitter varies the latency');
  assert.equal(ssd.counters()['nandReadPages'], 200);
});

test('32 concurrent random reads finish far sooner than 32 QD1 reads (die parallelism)', () => {
  const { host, ssd } = makeDevice({ readJitterNs: 0 });
  const rng = new Random(3);
  const pages = ssd.capacitySectors / PAGE_SECTORS;
  for (let i = 0; i < 32; i++) host.submit(0, { op: 'read', sector: rng.int(pages) * PAGE_SECTORS, nrSectors: 8 });
  host.env.run(Infinity);
  assert.equal(host.done.length, 32);
  const makespanNs = Math.max(...host.done.map((d) => d.doneNs));
  // 32 reads on 16 dies: some die serves at least two, so the makespan exceeds QD1 by one tR at least.
  assert.ok(makespanNs >= QD1_READ_NS + NAND_READ_4KB_NS, `makespan ${makespanNs}`);
  assert.ok(makespanNs < (32 * QD1_READ_NS) / 4, `makespan ${makespanNs} vs serial ${32 * QD1_READ_NS}`);
  // Media waits show up as queueing behind the die.
  assert.ok(host.media.some((m) => m.detail.seekNs > 0));
});

test('dies on one channel share its bus; dies on different channels share the PCIe link', () => {
  // LPN groups of one flash page (8 pages) stripe over the 16 dies; die d sits on channel d % 8.
  // LPN 0 -> die 0 (channel 0, way 0); LPN 64 -> die 8 (channel 0, way 1); LPN 8 -> die 1 (channel 1).
  const sameChannel = makeDevice({ readJitterNs: 0 }).host;
  sameChannel.submit(0, { op: 'read', sector: 0, nrSectors: 8 });
  sameChannel.submit(0, { op: 'read', sector: 64 * PAGE_SECTORS, nrSectors: 8 });
  sameChannel.env.run(Infinity);
  assert.deepEqual(
    sameChannel.done.map((d) => d.doneNs),
    [QD1_READ_NS, QD1_READ_NS + CH_4K_NS], // the second page waits for the bus
  );
  assert.deepEqual(
    sameChannel.media.map((m) => [m.detail.channel, m.detail.die]),
    [
      [0, 0],
      [0, 1],
    ],
  );

  const twoChannels = makeDevice({ readJitterNs: 0 }).host;
  twoChannels.submit(0, { op: 'read', sector: 0, nrSectors: 8 });
  twoChannels.submit(0, { op: 'read', sector: 8 * PAGE_SECTORS, nrSectors: 8 });
  twoChannels.env.run(Infinity);
  assert.deepEqual(
    twoChannels.done.map((d) => d.doneNs),
    [QD1_READ_NS, QD1_READ_NS + PCIE_4K_NS], // the second DMA waits for the link
  );

  // Eight 128 KiB writes arriving together, one firmware core each: their DMAs run back to back on the link.
  const link = makeDevice({ readJitterNs: 0, controllerCores: 8 }).host;
  for (let i = 0; i < 8; i++) link.submit(i % 4, { op: 'write', sector: i * 256, nrSectors: 256 });
  link.env.run(Infinity);
  const dmaNs = pcieTransferNs(128 * 1024) + PCIE_SG_ENTRY_OVERHEAD_NS;
  const start = SQE_FETCH_LATENCY_NS + FW_WRITE_BUFFER_LATENCY_NS + 32 * FW_WRITE_BUFFER_PER_PAGE_NS;
  assert.deepEqual(
    link.dmas.map((d) => [d.startNs, d.endNs]),
    Array.from({ length: 8 }, (_, i) => [start + i * dmaNs, start + (i + 1) * dmaNs]),
  );
  assert.deepEqual(
    link.done.map((d) => d.doneNs),
    Array.from({ length: 8 }, (_, i) => start + (i + 1) * dmaNs),
  );
});

test('large sequential reads are PCIe-bound, large sequential writes NAND-program-bound', () => {
  const n = 2000;
  const reads = makeDevice().host;
  closedLoop(reads, 32, n, (i) => ({ op: 'read', sector: i * 256, nrSectors: 256 }));
  const readBytesPerSec = (n * 128 * 1024 * 1e9) / reads.env.nowNs;
  const linkBytesPerSec = (128 * 1024 * 1e9) / (pcieTransferNs(128 * 1024) + PCIE_SG_ENTRY_OVERHEAD_NS);
  assert.ok(readBytesPerSec <= linkBytesPerSec && readBytesPerSec > 0.97 * linkBytesPerSec, `${readBytesPerSec}`);

  // 16 dies x 32 KiB per (channel transfer + tPROG) = 2.34 GB/s once the 64 MiB buffer is full.
  const writes = makeDevice().host;
  const total = 8000; // 1000 MiB
  closedLoop(writes, 32, total, (i) => ({ op: 'write', sector: i * 256, nrSectors: 256 }));
  const f = DEFAULT_NVME_CONFIG.pagesPerFlashPage;
  const programNs = channelTransferNs(f * LOGICAL_PAGE_BYTES) + NAND_PROGRAM_NS;
  const nandBytesPerSec = (16 * f * LOGICAL_PAGE_BYTES * 1e9) / programNs;
  const writeBytesPerSec = (total * 128 * 1024 * 1e9) / writes.env.nowNs;
  assert.ok(writeBytesPerSec < 0.8 * linkBytesPerSec, `${writeBytesPerSec}`);
  assert.ok(writeBytesPerSec > 0.95 * nandBytesPerSec, `${writeBytesPerSec}`);
  assert.ok(writeBytesPerSec < 1.1 * nandBytesPerSec, `${writeBytesPerSec}`);
});

test('a buffered write completes in much less than tPROG; a FUA write waits for the program', () => {
  const { host, ssd } = makeDevice({ readJitterNs: 0 });
  host.submit(1, { op: 'write', sector: 8 * 1000, nrSectors: 8 });
  host.env.run(Infinity);
  const w = host.done[0]!;
  assert.equal(w.doneNs - w.submitNs, QD1_WRITE_NS);
  assert.ok(QD1_WRITE_NS < NAND_PROGRAM_NS / 10);
  assert.equal(host.media[0]!.detail.cacheHit, true);
  assert.equal(host.media[0]!.detail.seekNs, 0);
  assert.equal(host.dmas[0]!.direction, 'to-device');
  // The buffered page was programmed in the background.
  assert.equal(ssd.counters()['hostProgramPages'], 1);
  assert.equal(ssd.counters()['bufferUsedPages'], 0);

  const t0 = host.env.nowNs;
  host.submit(1, { op: 'write', sector: 8 * 2000, nrSectors: 8, fua: true });
  host.env.run(Infinity);
  const f = host.done[1]!;
  assert.equal(f.submitNs, t0);
  assert.equal(f.doneNs - f.submitNs, QD1_WRITE_NS + CH_4K_NS + NAND_PROGRAM_NS);
  const fm = host.media[1]!;
  assert.equal(fm.detail.cacheHit, false);
  assert.equal(fm.detail.mediaNs, CH_4K_NS + NAND_PROGRAM_NS);
  assert.equal(ssd.counters()['fuaWriteCommands'], 1);
});

test('a read of a page still in the write buffer is served from DRAM', () => {
  const { host, ssd } = makeDevice({ readJitterNs: 0 });
  host.onDone = (d) => {
    if (d.op === 'write') host.submit(0, { op: 'read', sector: 8 * 42, nrSectors: 8 });
  };
  host.submit(0, { op: 'write', sector: 8 * 42, nrSectors: 8 });
  host.env.run(Infinity);
  const r = host.done[1]!;
  assert.equal(r.op, 'read');
  assert.equal(r.doneNs - r.submitNs, SQE_FETCH_LATENCY_NS + FW_4KB_READ_LATENCY_NS + PCIE_4K_NS);
  assert.equal(host.media[1]!.detail.cacheHit, true);
  assert.equal(ssd.counters()['bufferReadHitPages'], 1);
  assert.equal(ssd.counters()['nandReadPages'], 0);
});

test('flush completes exactly when the buffered write before it is programmed', () => {
  const { host } = makeDevice({ readJitterNs: 0 });
  host.onDone = (d) => {
    if (d.op === 'write') host.submit(0, { op: 'flush', sector: 0, nrSectors: 0 });
  };
  host.submit(0, { op: 'write', sector: 8 * 77, nrSectors: 8 });
  host.env.run(Infinity);
  const [w, f] = host.done;
  assert.equal(f!.op, 'flush');
  assert.equal(f!.submitNs, w!.doneNs);
  // The program started when the data landed in the buffer (= the write's completion).
  assert.equal(f!.doneNs, w!.doneNs + CH_4K_NS + NAND_PROGRAM_NS);

  // With nothing buffered, a flush costs only fetch + firmware.
  const t0 = host.env.nowNs;
  host.submit(0, { op: 'flush', sector: 0, nrSectors: 0 });
  host.env.run(Infinity);
  assert.equal(host.done[2]!.doneNs - t0, SQE_FETCH_LATENCY_NS + FW_FLUSH_LATENCY_NS);
});

test('flush after many writes waits for every earlier page to be programmed', () => {
  const { host, ssd } = makeDevice({ readJitterNs: 0 });
  const rng = new Random(11);
  const pages = ssd.capacitySectors / PAGE_SECTORS;
  let writesDone = 0;
  let usedAtFlush = -1;
  host.onDone = (d) => {
    if (d.op === 'write' && ++writesDone === 200) host.submit(0, { op: 'flush', sector: 0, nrSectors: 0 });
    if (d.op === 'flush') usedAtFlush = ssd.counters()['bufferUsedPages']!;
  };
  for (let i = 0; i < 200; i++) host.submit(0, { op: 'write', sector: rng.int(pages) * PAGE_SECTORS, nrSectors: 8 });
  host.env.run(Infinity);
  const flush = host.done.find((d) => d.op === 'flush')!;
  const lastWrite = Math.max(...host.done.filter((d) => d.op === 'write').map((d) => d.doneNs));
  assert.equal(usedAtFlush, 0);
  assert.ok(flush.doneNs >= lastWrite + NAND_PROGRAM_NS);
  assert.equal(ssd.counters()['hostProgramPages'], 200);
});

test('filling the write buffer makes later writes wait for programs (backpressure)', () => {
  // 256 buffer pages; 4 dies program slower than the firmware cores take writes in
  const { host, ssd } = makeDevice({ readJitterNs: 0, writeBufferBytes: 2 ** 20, channels: 2, diesPerChannel: 2 });
  const rng = new Random(5);
  const pages = ssd.capacitySectors / PAGE_SECTORS;
  const n = 1000;
  for (let i = 0; i < n; i++) host.submit(i % 4, { op: 'write', sector: rng.int(pages) * PAGE_SECTORS, nrSectors: 8 });
  host.env.run(Infinity);
  assert.equal(host.done.length, n);
  const times = host.done.map((d) => d.doneNs).sort((a, b) => a - b);
  // The first write is acknowledged from the buffer at QD1 speed.
  assert.equal(times[0], QD1_WRITE_NS);
  // Then the firmware cores (slower than the link here) pace them: the 256 writes that fit finish
  // one core slot apart.
  const perWriteNs = Math.max(PCIE_4K_NS, Math.ceil((FW_WRITE_CORE_NS + FW_WRITE_BUFFER_PER_PAGE_NS) / CONTROLLER_IO_CORES));
  assert.ok(perWriteNs > PCIE_4K_NS);
  assert.ok(times[255]! <= QD1_WRITE_NS + 255 * perWriteNs, `${times[255]}`);
  // The last ones waited for NAND programs to free buffer space.
  assert.ok(times[n - 1]! > 3 * NAND_PROGRAM_NS, `last write at ${times[n - 1]}`);
  const c = ssd.counters();
  assert.ok(c['bufferFullStalls']! > 0);
  assert.ok(c['bufferStallNs']! > 0);
  // Once the buffer is full, writes complete at the NAND program rate, not the PCIe rate.
  const dies = 4;
  const f = DEFAULT_NVME_CONFIG.pagesPerFlashPage;
  const maxPagesPerNs = (dies * f) / (channelTransferNs(f * LOGICAL_PAGE_BYTES) + NAND_PROGRAM_NS);
  const steadyRate = (n - 1 - 400) / (times[n - 1]! - times[400]!);
  assert.ok(steadyRate <= maxPagesPerNs * 1.01, `rate ${steadyRate * 1e6} pages/ms`);
  assert.ok(steadyRate >= maxPagesPerNs * 0.4, `rate ${steadyRate * 1e6} pages/ms`);
  assert.ok(steadyRate < (1 / PCIE_4K_NS) * 0.9);
});

test('GC on a tiny device: random overwrites give write amplification > 1', () => {
  const { host, ssd } = makeDevice(TINY);
  const pages = ssd.capacitySectors / PAGE_SECTORS;
  assert.equal(pages, 768);
  const rng = new Random(99);
  closedLoop(host, 8, pages * 8, () => ({ op: 'write', sector: rng.int(pages) * PAGE_SECTORS, nrSectors: 8 }));
  const c = ssd.counters();
  assert.equal(c['hostWritePages'], pages * 8);
  assert.equal(c['hostProgramPages'], pages * 8);
  assert.equal(c['nandWritePages'], c['hostProgramPages']! + c['gcCopies']!);
  assert.ok(c['gcCopies']! > 0);
  assert.ok(c['erases']! > 0);
  assert.ok(c['writeAmplification']! > 1.2, `WA ${c['writeAmplification']}`);
  ssd.auditFtl();
  // Every page is still readable.
  closedLoop(host, 4, pages, (i) => ({ op: 'read', sector: i * PAGE_SECTORS, nrSectors: 8 }));
});

test('GC on a tiny device: purely sequential overwrites erase blocks without copies (WA == 1)', () => {
  const { host, ssd } = makeDevice(TINY);
  const pages = ssd.capacitySectors / PAGE_SECTORS;
  const passes = 5;
  closedLoop(host, 8, pages * passes, (i) => ({ op: 'write', sector: (i % pages) * PAGE_SECTORS, nrSectors: 8 }));
  const c = ssd.counters();
  assert.equal(c['hostProgramPages'], pages * passes);
  assert.equal(c['gcCopies'], 0);
  assert.ok(c['erases']! >= (pages * (passes - 1)) / 16 / 2, `erases ${c['erases']}`);
  assert.equal(c['writeAmplification'], 1);
  // GC started early enough (at the free-block threshold) that host programs never hit the reserve.
  assert.equal(c['gcBlockedPrograms'], 0);
  ssd.auditFtl();
});

test('GC competes with host reads: reads during heavy random overwrite see die queueing', () => {
  const { host, ssd } = makeDevice(TINY);
  const pages = ssd.capacitySectors / PAGE_SECTORS;
  const rng = new Random(4);
  const res = closedLoop(host, 8, 4000, (i) =>
    i % 4 === 0
      ? { op: 'read', sector: rng.int(pages) * PAGE_SECTORS, nrSectors: 8 }
      : { op: 'write', sector: rng.int(pages) * PAGE_SECTORS, nrSectors: 8 },
  );
  const readLat = res.filter((d) => d.op === 'read').map((d) => d.doneNs - d.submitNs);
  // Reads queue behind programs, and some behind a whole block erase.
  assert.ok(Math.max(...readLat) > QD1_READ_NS + NAND_ERASE_NS, `max read ${Math.max(...readLat)}`);
  assert.ok(readLat.filter((l) => l > QD1_READ_NS + NAND_PROGRAM_NS).length > readLat.length / 4);
  assert.ok(ssd.counters()['erases']! > 0);
  ssd.auditFtl();
});

test('memory stays proportional to what is written, not to capacity', () => {
  const { host, ssd } = makeDevice();
  // Rewrite the same 1 MiB ten times on the 511 GB device.
  closedLoop(host, 16, 2560, (i) => ({ op: 'write', sector: (i % 256) * PAGE_SECTORS, nrSectors: 8 }));
  const c = ssd.counters();
  assert.equal(c['remapChunks'], 1);
  assert.ok(c['trackedBlocks']! <= 2 * 16 + 2, `tracked ${c['trackedBlocks']}`);
});

test('same seed gives identical timings; another seed differs (jitter is the only randomness)', () => {
  function run(seed: number): number[] {
    const { host, ssd } = makeDevice({}, seed);
    const rng = new Random(1234);
    const pages = ssd.capacitySectors / PAGE_SECTORS;
    const res = closedLoop(host, 16, 600, (i) => {
      if (i % 50 === 49) return { op: 'flush', sector: 0, nrSectors: 0 };
      const op: DeviceOp = rng.int(3) === 0 ? 'write' : 'read';
      return { op, sector: rng.int(pages) * PAGE_SECTORS, nrSectors: 8 * (1 + rng.int(4)) };
    });
    return res.map((d) => d.doneNs);
  }
  const a = run(42);
  assert.deepEqual(run(42), a);
  assert.notDeepEqual(run(43), a);
});

test('interrupt coalescing delays a lone completion by TIME and batches THR+1 completions', () => {
  const coalescing = { aggregationThreshold: 3, aggregationTime100us: 1 };
  // Lone read: the interrupt fires TIME after the CQE.
  {
    const { host } = makeDevice({ readJitterNs: 0, interruptCoalescing: coalescing });
    host.submit(0, { op: 'read', sector: 0, nrSectors: 8 });
    host.env.run(Infinity);
    assert.deepEqual(host.interrupts, [{ vector: 0, timeNs: QD1_READ_NS + INTERRUPT_COALESCING_TIME_UNIT_NS }]);
  }
  // Four reads on four dies: one interrupt when the fourth CQE is posted.
  const submitFour = (host: FakeHost): void => {
    for (let i = 0; i < 4; i++) host.submit(0, { op: 'read', sector: i * 8 * PAGE_SECTORS, nrSectors: 8 });
    host.env.run(Infinity);
  };
  const off = makeDevice({ readJitterNs: 0 }).host;
  submitFour(off);
  assert.equal(off.interrupts.length, 4);
  const on = makeDevice({ readJitterNs: 0, interruptCoalescing: coalescing }).host;
  submitFour(on);
  assert.deepEqual(on.interrupts, [{ vector: 0, timeNs: off.interrupts[3]!.timeNs }]);
  assert.equal(on.done.length, 4);
  // THR = 0 (one completion per interrupt) means coalescing is off.
  const thr0Config = { aggregationThreshold: 0, aggregationTime100us: 5 };
  const thr0 = makeDevice({ readJitterNs: 0, interruptCoalescing: thr0Config }).host;
  submitFour(thr0);
  assert.deepEqual(thr0.interrupts, off.interrupts);
});

test('out-of-range LBAs fail with LBA Out of Range; queue overflow and duplicate cids are bugs', () => {
  const { host, ssd } = makeDevice({ queueDepth: 2 });
  host.submit(0, { op: 'read', sector: ssd.capacitySectors - 4, nrSectors: 8 });
  host.env.run(Infinity);
  assert.equal(host.done[0]!.status, NVME_SC_LBA_RANGE);
  assert.equal(host.media.length, 0);
  host.submit(0, { op: 'read', sector: 0, nrSectors: 8 });
  host.submit(0, { op: 'read', sector: 8, nrSectors: 8 });
  assert.throws(() => host.submit(0, { op: 'read', sector: 16, nrSectors: 8 }), SimBug);
  const cmd: DeviceCommand = { cid: 1000, op: 'read', sector: 0, nrSectors: 8, fua: false, sgList: [] };
  ssd.submit(1, cmd);
  assert.throws(() => ssd.submit(1, cmd), SimBug);
  assert.throws(() => ssd.submit(9, { ...cmd, cid: 1 }), SimBug);
});
