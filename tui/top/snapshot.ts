// What the live view knows about the running machine: a Snapshot of plain data, taken every
// sampling interval next to the simulation (it crosses a worker boundary, so no class instances).
// The Sampler computes per-interval rates from the kernel's cumulative counters, and request
// latencies from two block tracepoints.

import { DEVICE_STATE_NAMES, LatencyHistogram, type KDevice, type Machine, type ProbeHit, type Request } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import type { IoRecord } from './inspector.js';

export interface DeviceSnapshot {
  readonly name: string;
  readonly scheduler: string;
  readonly iops: number;
  readonly bytesPerSec: number;
  /** Requests on the device now. */
  readonly queueDepth: number;
  /** Issue-to-completion latency percentiles over the interval (0 when nothing completed). */
  readonly p50Ns: number;
  readonly p99Ns: number;
  /** Bio and request merges per second. */
  readonly mergesPerSec: number;
  /** Share of the interval with at least one request on the device, 0..1. */
  readonly utilization: number;
  /** The device-status table's entry (the seed's Figure 12.10): state, type, address, request in progress. */
  readonly status: DeviceStatusSnapshot;
}

export interface DeviceStatusSnapshot {
  /** idle, busy, suspended or failed. */
  readonly state: string;
  readonly type: string;
  /** major:minor and the bus address (PCI 0000:01:00.0, ATA ata1.00). */
  readonly devt: string;
  readonly address: string;
  /** The request in progress as blktrace prints it (R 2048 + 8 [task]), '' when none. */
  readonly request: string;
}

export interface CpuSnapshot {
  readonly utilization: number;
  readonly runQueue: number;
  readonly irqsPerSec: number;
}

export interface TaskSnapshot {
  readonly name: string;
  readonly pid: number;
  readonly iops: number;
  readonly bytesPerSec: number;
  readonly p50Ns: number;
  readonly p99Ns: number;
  /** R running or runnable, S sleeping, D waiting for I/O, X exited. */
  readonly state: 'R' | 'S' | 'D' | 'X';
}

export interface Snapshot {
  readonly scenario: string;
  readonly seed: number;
  /** Simulated time now, and the scenario's end. */
  readonly simNs: number;
  readonly endNs: number;
  /** Simulated ns per wall ns asked for; 0 = as fast as it goes. */
  readonly speed: number;
  /** Simulated ns per wall ns it ran at over the interval (undefined: it did not run long enough to say). */
  readonly achievedSpeed: number | undefined;
  /** It ran clearly slower than asked: the machine cannot keep up. */
  readonly behind: boolean;
  readonly paused: boolean;
  /** Engine events per wall second over the interval. */
  readonly eventsPerSec: number;
  readonly devices: readonly DeviceSnapshot[];
  readonly pageCache: {
    readonly hitRatio: number;
    readonly lookupsPerSec: number;
    readonly dirtyBytes: number;
    readonly writebackBytes: number;
    readonly cachedBytes: number;
    readonly readaheadBytesPerSec: number;
    /** /proc/vmstat rates: folios reclaim scanned and freed (kswapd + direct), refaults of evicted ones. */
    readonly scannedPerSec: number;
    readonly stolenPerSec: number;
    readonly refaultsPerSec: number;
    /** Direct reclaim runs (allocstall) per second. */
    readonly allocStallsPerSec: number;
    /** balance_dirty_pages pauses per second and their mean length (0 when none). */
    readonly throttlePausesPerSec: number;
    readonly throttleMeanPauseNs: number;
  };
  readonly cpus: readonly CpuSnapshot[];
  readonly contextSwitchesPerSec: number;
  readonly tasks: readonly TaskSnapshot[];
  /** The inspector's recent I/Os, oldest first; empty while the inspector is closed. */
  readonly ios: readonly IoRecord[];
  /** Probe sites by hits per second, busiest first; empty unless the probes panel is open. */
  readonly probes: readonly ProbeRate[];
  /** The attached program (`-e PROGRAM --tui`): its maps as bpftrace prints them, and its output. */
  readonly script?: { readonly maps: string; readonly output: readonly string[]; readonly exited: boolean };
}

export interface ProbeRate {
  readonly name: string;
  readonly perSec: number;
  /** Hits since counting began. */
  readonly total: number;
}

interface DeviceCounters {
  readonly dev: number;
  completions: number;
  bytes: number;
  merges: number;
  inflight: number;
  busySinceNs: number;
  busyNs: number;
  latency: LatencyHistogram;
}

type BlockRequest = Request & { readonly dev: number };

const PAGE_BYTES = 4096;

/** Samples a machine; call `take()` once per interval. Attach before the run starts. */
export class Sampler {
  private readonly devices: DeviceCounters[];
  private readonly issuedAt = new Map<BlockRequest, number>();
  private readonly detach: () => void;
  private last:
    | {
        simNs: number;
        wallNs: number;
        events: number;
        hits: number;
        misses: number;
        readahead: number;
        scanned: number;
        stolen: number;
        refaults: number;
        allocStalls: number;
        pauses: number;
        pauseNs: number;
        switches: number;
        cpuBusy: number[];
        cpuIrqs: number[];
        jobs: { ios: number; bytes: number; read: LatencyHistogram; write: LatencyHistogram }[];
      }
    | undefined;

  constructor(
    private readonly m: Machine,
    private readonly scenario: string,
    private readonly seed: number,
    private readonly endNs: number,
    /** Wall clock when sampling began: the first interval's rates are measured from it. */
    private readonly startWallNs: number,
  ) {
    this.devices = m.devices.map((d) => ({ dev: d.q.dev, completions: 0, bytes: 0, merges: 0, inflight: 0, busySinceNs: -1, busyNs: 0, latency: new LatencyHistogram() }));
    const byDev = new Map(this.devices.map((d) => [d.dev, d]));
    const detachers = [
      attach(m, 'tracepoint:block:block_rq_issue', (h: ProbeHit) => {
        const rq = h.args[0] as BlockRequest;
        const d = byDev.get(rq.dev);
        if (!d || this.issuedAt.has(rq)) return;
        this.issuedAt.set(rq, h.timeNs);
        if (d.inflight++ === 0) d.busySinceNs = h.timeNs;
      }),
      attach(m, 'tracepoint:block:block_rq_complete', (h: ProbeHit) => {
        const rq = h.args[0] as BlockRequest;
        const d = byDev.get(rq.dev);
        const at = this.issuedAt.get(rq);
        if (!d || at === undefined) return;
        this.issuedAt.delete(rq);
        d.completions++;
        d.bytes += Number(h.args[2] ?? 0);
        d.latency.record(h.timeNs - at);
        if (--d.inflight === 0) {
          d.busyNs += h.timeNs - d.busySinceNs;
          d.busySinceNs = -1;
        }
      }),
      attach(m, 'tracepoint:block:block_bio_backmerge,tracepoint:block:block_bio_frontmerge,tracepoint:block:block_rq_merge', (h: ProbeHit) => {
        const dev = (h.args[0] as { dev: number }).dev;
        const d = byDev.get(dev);
        if (d) d.merges++;
      }),
    ];
    this.detach = () => {
      for (const d of detachers) d();
    };
  }

  stop(): void {
    this.detach();
  }

  private counting = false;
  private readonly lastHits = new Map<string, number>();
  private readonly countedFrom = new Map<string, number>();

  /** Counts every probe site's firings (it costs the simulation some speed) or stops. */
  countProbes(on: boolean): void {
    if (on === this.counting) return;
    this.counting = on;
    for (const site of this.m.k.registry.all()) {
      site.setCounting(on);
      this.lastHits.set(site.fullName, site.hits);
      this.countedFrom.set(site.fullName, site.hits);
    }
  }

  private probeRates(simSec: number): ProbeRate[] {
    if (!this.counting) return [];
    const rates: ProbeRate[] = [];
    for (const site of this.m.k.registry.all()) {
      const last = this.lastHits.get(site.fullName) ?? site.hits;
      this.lastHits.set(site.fullName, site.hits);
      const total = site.hits - (this.countedFrom.get(site.fullName) ?? 0);
      if (total > 0) rates.push({ name: site.fullName, perSec: (site.hits - last) / simSec, total });
    }
    return rates.sort((a, b) => b.perSec - a.perSec || b.total - a.total || (a.name < b.name ? -1 : 1)).slice(0, 40);
  }

  /** The snapshot of the interval since the last call (the driver adds the speed it achieved). */
  take(wallNs: number, speed: number, paused: boolean, ios: readonly IoRecord[] = []): Omit<Snapshot, 'achievedSpeed' | 'behind'> {
    const m = this.m;
    const k = m.k;
    const simNs = m.env.nowNs;
    const cpus = k.sched.cpus;
    const jobs = m.jobs.map((j) => ({
      ios: j.stats.read.count + j.stats.write.count,
      bytes: j.stats.readBytes + j.stats.writeBytes,
      read: j.stats.read.copy(),
      write: j.stats.write.copy(),
    }));
    const now = {
      simNs,
      wallNs,
      events: m.env.eventsRun,
      hits: k.stat.pgcacheHit,
      misses: k.stat.pgcacheMiss,
      readahead: k.stat.readaheadPages,
      scanned: k.stat.pgscanKswapd + k.stat.pgscanDirect,
      stolen: k.stat.pgstealKswapd + k.stat.pgstealDirect,
      refaults: k.stat.workingsetRefaultFile,
      allocStalls: k.stat.allocstall,
      pauses: k.stat.dirtyThrottlePauses,
      pauseNs: k.stat.dirtyThrottlePauseNs,
      switches: k.sched.stats.contextSwitches,
      cpuBusy: cpus.map((c) => c.busyTimeNs()),
      cpuIrqs: cpus.map((c) => c.irqCount + c.softirqCount),
      jobs,
    };
    const prev = this.last ?? { ...now, wallNs: this.startWallNs, simNs: 0, events: 0, hits: 0, misses: 0, readahead: 0, scanned: 0, stolen: 0, refaults: 0, allocStalls: 0, pauses: 0, pauseNs: 0, switches: 0, cpuBusy: cpus.map(() => 0), cpuIrqs: cpus.map(() => 0), jobs: jobs.map(() => ({ ios: 0, bytes: 0, read: new LatencyHistogram(), write: new LatencyHistogram() })) };
    this.last = now;
    const simSec = Math.max(1e-9, (simNs - prev.simNs) / 1e9);
    const wallSec = Math.max(1e-9, (wallNs - prev.wallNs) / 1e9);
    const perSimSec = (n: number): number => n / simSec;

    const devices = m.devices.map((d, i): DeviceSnapshot => {
      const c = this.devices[i]!;
      const busy = c.busyNs + (c.busySinceNs >= 0 ? simNs - c.busySinceNs : 0);
      const snap: DeviceSnapshot = {
        name: d.name,
        scheduler: d.scheduler,
        iops: perSimSec(c.completions),
        bytesPerSec: perSimSec(c.bytes),
        queueDepth: c.inflight,
        p50Ns: c.latency.percentileNs(50),
        p99Ns: c.latency.percentileNs(99),
        mergesPerSec: perSimSec(c.merges),
        utilization: Math.min(1, busy / Math.max(1, simNs - prev.simNs)),
        status: deviceStatus(m.k.devices.byDev(d.q.dev)),
      };
      c.completions = 0;
      c.bytes = 0;
      c.merges = 0;
      c.busyNs = 0;
      if (c.busySinceNs >= 0) c.busySinceNs = simNs;
      c.latency = new LatencyHistogram();
      return snap;
    });

    const lookups = now.hits - prev.hits + (now.misses - prev.misses);
    const g = m.gauges();
    const tasks = m.jobs.map((j, i): TaskSnapshot => {
      const p = prev.jobs[i]!;
      const n = now.jobs[i]!;
      const lat = n.read.count - p.read.count >= n.write.count - p.write.count ? n.read.since(p.read) : n.write.since(p.write);
      const t = j.task;
      // the task_struct state bits: TASK_DEAD 0x80, TASK_UNINTERRUPTIBLE 0x2
      const state: TaskSnapshot['state'] = (t.state & 0x80) !== 0 ? 'X' : t.onCpu || t.onRq ? 'R' : (t.state & 0x2) !== 0 ? 'D' : 'S';
      return { name: j.spec.name, pid: t.pid, iops: perSimSec(n.ios - p.ios), bytesPerSec: perSimSec(n.bytes - p.bytes), p50Ns: lat.percentileNs(50), p99Ns: lat.percentileNs(99), state };
    });

    return {
      scenario: this.scenario,
      seed: this.seed,
      simNs,
      // a job file's run ends when its jobs do, before its bound
      endNs: this.m.ended ? Math.min(this.endNs, simNs) : this.endNs,
      speed,
      paused,
      eventsPerSec: (now.events - prev.events) / wallSec,
      devices,
      pageCache: {
        hitRatio: lookups > 0 ? (now.hits - prev.hits) / lookups : 0,
        lookupsPerSec: perSimSec(lookups),
        dirtyBytes: g.dirtyPages * PAGE_BYTES,
        writebackBytes: g.writebackPages * PAGE_BYTES,
        cachedBytes: g.pageCachePages * PAGE_BYTES,
        readaheadBytesPerSec: perSimSec((now.readahead - prev.readahead) * PAGE_BYTES),
        scannedPerSec: perSimSec(now.scanned - prev.scanned),
        stolenPerSec: perSimSec(now.stolen - prev.stolen),
        refaultsPerSec: perSimSec(now.refaults - prev.refaults),
        allocStallsPerSec: perSimSec(now.allocStalls - prev.allocStalls),
        throttlePausesPerSec: perSimSec(now.pauses - prev.pauses),
        throttleMeanPauseNs: now.pauses > prev.pauses ? (now.pauseNs - prev.pauseNs) / (now.pauses - prev.pauses) : 0,
      },
      cpus: cpus.map((_, i) => ({
        utilization: Math.min(1, (now.cpuBusy[i]! - prev.cpuBusy[i]!) / Math.max(1, simNs - prev.simNs)),
        runQueue: g.runQueueLengths[i] ?? 0,
        irqsPerSec: perSimSec(now.cpuIrqs[i]! - prev.cpuIrqs[i]!),
      })),
      contextSwitchesPerSec: perSimSec(now.switches - prev.switches),
      tasks,
      ios,
      probes: this.probeRates(simSec),
    };
  }
}

/** A device-status table entry as plain data. */
function deviceStatus(d: KDevice | undefined): DeviceStatusSnapshot {
  if (!d) return { state: '-', type: '-', devt: '-', address: '-', request: '' };
  const rq = d.inProgress();
  const request = rq ? `${rwbsOf(rq)} ${rq.sector} + ${rq.nrSectors} [${rq.submitterComm}]` : '';
  return { state: DEVICE_STATE_NAMES[d.state] ?? '-', type: d.type, devt: `${d.major}:${d.minor}`, address: d.busAddress, request };
}

/** The request's direction as blktrace's rwbs starts: R, W, or F (flush). */
function rwbsOf(rq: Request): string {
  return rq.op === 0 ? 'R' : rq.op === 1 ? 'W' : 'F';
}
