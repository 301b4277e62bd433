// core/hw/nvme/: the geometry a capacity gets (exact at every size, lazy memory), GC policies,
// multi-stream placement, the random precondition and the firmware cores.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Environment } from '../../../core/sim/engine.js';
import { Random } from '../../../core/sim/random.js';
import type { DeviceCommand, DeviceHost } from '../../../core/hw/device.js';
import { DEFAULT_NVME_CONFIG, NvmeSsd, type NvmeSsdConfig } from '../../../core/hw/nvme/controller.js';
import { nvmeCapacitySectors } from '../../../core/hw/nvme/ftl.js';
import { bootMachine, nvmeConfigFor } from '../../../core/init/main.js';
import type { DeviceSpec } from '../../../core/userspace/job.js';

const KiB = 1024;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

/** A host that counts completions and GC/erase hooks; `next` issues the following command. */
class Host implements DeviceHost {
  readonly env = new Environment();
  ssd: NvmeSsd | null = null;
  completed = 0;
  failed = 0;
  gcVictims: number[] = [];
  erases = 0;
  lastErase = { host: 0, nand: 0 };
  next: (() => void) | null = null;
  private cid = 0;
  raiseInterrupt(vector: number): void {
    for (const c of this.ssd!.reap(vector)) {
      this.completed++;
      if (c.status !== 0) this.failed++;
      this.next?.();
    }
  }
  onFetch(): void {}
  onMediaStart(): void {}
  onDma(): void {}
  onFtlGc(_die: number, _block: number, validPages: number): void {
    this.gcVictims.push(validPages);
  }
  onFtlErase(_die: number, _block: number, _copied: number, host: number, nand: number): void {
    this.erases++;
    this.lastErase = { host, nand };
  }
  write(sector: number, nrSectors = 8): void {
    const cmd: DeviceCommand = { cid: this.cid++ & 0xffff, op: 'write', sector, nrSectors, fua: false, sgList: [{ dmaAddr: 0x1000, lenBytes: nrSectors * 512 }] };
    this.ssd!.submit(0, cmd);
  }
  read(sector: number, nrSectors = 8): void {
    const cmd: DeviceCommand = { cid: this.cid++ & 0xffff, op: 'read', sector, nrSectors, fua: false, sgList: [{ dmaAddr: 0x1000, lenBytes: nrSectors * 512 }] };
    this.ssd!.submit(0, cmd);
  }
}

function device(config: NvmeSsdConfig, seed = 1): Host {
  const host = new Host();
  host.ssd = new NvmeSsd(host, config, new Random(seed));
  return host;
}

/** Keeps `qd` writes outstanding until `total` completed; `sector(i)` picks the i-th. */
function writes(host: Host, qd: number, total: number, sector: (i: number) => number): void {
  let issued = 0;
  host.next = () => {
    if (issued < total) host.write(sector(issued++));
  };
  while (issued < Math.min(qd, total)) host.write(sector(issued++));
  host.env.run(Infinity);
  host.next = null;
}

test('every capacity from 1m to 64t is exported exactly, with spares for GC, without eager per-page memory', () => {
  const sizes = [MiB, MiB + 4 * KiB, MiB + 12 * KiB, 5 * MiB + 36 * KiB, 64 * MiB, 3 * GiB, 4 * GiB, 4 * GiB + 4 * KiB, TiB, 64 * TiB];
  for (const bytes of sizes) {
    const c = nvmeConfigFor(bytes, 1);
    assert.equal(nvmeCapacitySectors(c) * 512, bytes, `${bytes} bytes`);
    const before = process.memoryUsage().arrayBuffers;
    const host = device(c);
    const ssd = host.ssd!;
    assert.equal(ssd.capacitySectors * 512, bytes);
    // over-provisioning at least the 7 % asked (more on small drives: GC's floor of spare blocks)
    assert.ok(ssd.counters()['overProvisioning']! >= 0.0699, `${bytes}: ${ssd.counters()['overProvisioning']}`);
    // the last page and the first are writable and readable; past the end is an error
    const last = Math.floor((bytes - 4096) / 512);
    host.write(last);
    host.write(0);
    host.read(last);
    host.read(Math.floor(bytes / 512));
    host.env.run(Infinity);
    assert.equal(host.completed, 4);
    assert.equal(host.failed, 1);
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 16 * MiB, `${bytes}: ${grown} bytes of buffers`);
  }
});

test('a machine boots with 1m, 3g, 4g, 1t and 64t NVMe drives of exactly those sizes', () => {
  const dev = (name: string, capacityBytes: number, mount = ''): DeviceSpec => ({ name, kind: 'nvme', capacityBytes, scheduler: 'none', mount });
  const sizes = [MiB, 3 * GiB, 4 * GiB, TiB, 64 * TiB];
  const m = bootMachine({ cpus: 2, memoryBytes: GiB, devices: sizes.map((b, i) => dev(`nvme${i}n1`, b, i === 4 ? '/mnt/big' : '')) }, 1);
  assert.deepEqual(
    m.devices.map((d) => d.hw.capacitySectors * 512),
    sizes,
  );
});

test('a small drive scales its geometry down and still runs GC under random overwrite', () => {
  const c = nvmeConfigFor(MiB, 1);
  assert.equal(c.channels * c.diesPerChannel, 1);
  const host = device(c);
  const pages = MiB / 4096;
  const rng = new Random(3);
  writes(host, 4, 8 * pages, () => rng.int(pages) * 8);
  assert.equal(host.failed, 0);
  assert.ok(host.erases > 0);
  host.ssd!.auditFtl();
});

/** A 64-block die with hot and cold data: 1/8 of the pages take 7/8 of the writes. */
function hotCold(policy: NvmeSsdConfig['gcPolicy']): { wa: number; host: Host } {
  const c: NvmeSsdConfig = { ...nvmeConfigFor(8 * MiB, 1, { dies: 1, blockSizeBytes: 128 * KiB, overProvisioningPercent: 25 }), gcPolicy: policy, writeJitter: false, readJitterNs: 0, precondition: 'random' };
  const host = device(c);
  const pages = (8 * MiB) / 4096;
  const rng = new Random(11);
  writes(host, 8, 4 * pages, () => (rng.next() < 7 / 8 ? rng.int(pages / 8) : pages / 8 + rng.int((pages * 7) / 8)) * 8);
  host.ssd!.auditFtl();
  return { wa: host.ssd!.counters()['writeAmplification']!, host };
}

test('cost-benefit GC copies less than greedy under hot/cold writes (it lets hot blocks die first)', () => {
  const greedy = hotCold('greedy');
  const cb = hotCold('cost-benefit');
  assert.ok(cb.wa < greedy.wa, `cost-benefit ${cb.wa} against greedy ${greedy.wa}`);
  // the erase probe's totals give the counters' WA
  const e = greedy.host.lastErase;
  assert.ok(Math.abs(e.nand / e.host - greedy.wa) < 0.05, `${e.nand / e.host} vs ${greedy.wa}`);
  assert.ok(greedy.host.gcVictims.length >= greedy.host.erases);
});

test('multi-stream: a sequential run and random writes go to different blocks, and GC copies less', () => {
  function run(multiStream: boolean): number {
    const c: NvmeSsdConfig = { ...nvmeConfigFor(8 * MiB, 1, { dies: 1, blockSizeBytes: 128 * KiB, overProvisioningPercent: 25 }), multiStream, writeJitter: false, readJitterNs: 0 };
    const host = device(c);
    const pages = (8 * MiB) / 4096;
    const hot = pages / 8;
    const rng = new Random(5);
    let seq = 0;
    // one sequential write (over the cold 7/8) for each random one (over the hot 1/8)
    writes(host, 1, 6 * pages, (i) => (i % 2 === 0 ? hot + (seq++ % (pages - hot)) : rng.int(hot)) * 8);
    host.ssd!.auditFtl();
    const counters = host.ssd!.counters();
    if (multiStream) assert.ok(counters['sequentialStreamPages']! > 2.9 * pages, `${counters['sequentialStreamPages']}`);
    return counters['writeAmplification']!;
  }
  const mixed = run(false);
  const separated = run(true);
  assert.ok(separated < 0.9 * mixed, `streams ${separated} against mixed ${mixed}`);
});

test('the random precondition starts in GC steady state: the first random writes already copy', () => {
  const c: NvmeSsdConfig = { ...nvmeConfigFor(16 * MiB, 1, { dies: 1, blockSizeBytes: 256 * KiB, overProvisioningPercent: 25 }), writeJitter: false };
  const fresh = device(c);
  const steady = device({ ...c, precondition: 'random' });
  for (const host of [fresh, steady]) {
    const rng = new Random(9);
    writes(host, 8, 2048, () => rng.int(4096) * 8);
    host.ssd!.auditFtl();
  }
  // sequentially full: the first 2048 random writes mostly land in never-GCed spare blocks
  assert.ok(steady.ssd!.counters()['writeAmplification']! > fresh.ssd!.counters()['writeAmplification']! + 0.5);
  assert.ok(steady.ssd!.counters()['writeAmplification']! > 2.2);
});

test('firmware cores cap the command rate at depth: 4 cores take a 4 KiB write each ~2 µs', () => {
  function rate(cores: number): number {
    const host = device({ ...DEFAULT_NVME_CONFIG, controllerCores: cores, writeJitter: false });
    const rng = new Random(2);
    writes(host, 64, 4000, () => rng.int(1 << 20) * 8);
    return 4000 / host.env.nowNs;
  }
  const four = rate(4);
  const one = rate(1);
  // one core: 7.96 µs a write; four: a quarter of that (the buffer is not full in 4000 writes)
  assert.ok(Math.abs(one * 7_960 - 1) < 0.05, `one core: ${one * 1e9} IOPS`);
  assert.ok(four > 3.5 * one, `four cores ${four * 1e9} IOPS against one ${one * 1e9}`);
});
