// Models: a 3.5" 7200 rpm SATA disk (WD Ultrastar DC HC310-like) with NCQ and a volatile write cache: the
// device behind drivers/ata/ahci.c and drivers/scsi/sd.c (zoned platters, seek curve, rotation, SATA link).
//
// Sources: /work/shared/reference/kernel-model-facts.md §17.1 (HC310 seek/latency figures, zoning,
// Ruemmler & Wilkes seek shape, HGST sustained-rate formula), §23 anchor A3 (random vs sequential), and the
// HGST/WD OEM specifications' definition of "average seek" (weighted average of all possible seek
// combinations). Every figure below says where it comes from; [mem] marks values not re-verified.
//
// The mechanism is one actuator that does one thing at a time: serve a host command from the NCQ queue,
// destage a cached write, or (when idle) keep reading ahead after the last read. Which queued command goes
// next is chosen by shortest positioning time (seek + rotational wait), as NCQ firmware does.

import type {
  BlockDeviceHw,
  DeviceCommand,
  DeviceCompletion,
  DeviceHost,
  DmaDirection,
  MediaDetail,
} from './device.js';
import { Priority } from '../sim/engine.js';
import { SimBug, bugOn } from '../sim/errors.js';
import { SenseKey, diskFaultStatus, senseStatus, type FaultInjector } from './fault-inject.js';

// ---------------------------------------------------------------------------------------------------
// Constants (each with its source)

/** Logical sector (the unit of DeviceCommand.sector); 512e drive. */
export const HDD_SECTOR_BYTES = 512;
/** Spindle speed: HC310 is 7200 rpm (§17.1). One revolution = 60e9 / 7200 = 8 333 333.3 ns. */
export const HDD_RPM = 7200;
/** Read seeks, without command overhead, including settling: HC310 spec §4.5.1.1/§4.5.1.2 (§17.1). */
export const SINGLE_TRACK_SEEK_READ_NS = 230_000;
export const AVERAGE_SEEK_READ_NS = 7_400_000;
/** Write seeks settle longer (write needs tighter track-following): HC310 0.32 ms / 8.2 ms (§17.1). */
export const SINGLE_TRACK_SEEK_WRITE_NS = 320_000;
export const AVERAGE_SEEK_WRITE_NS = 8_200_000;
/**
 * Full stroke: not in the HC310 excerpt; older 5400/7200 rpm specs give 20 ms read / 21 ms write (§17.1).
 * A modern 3.5" actuator is faster: 16 / 17 ms [mem], inside the 15-20 ms band, write +1 ms as there.
 */
export const FULL_STROKE_SEEK_READ_NS = 16_000_000;
export const FULL_STROKE_SEEK_WRITE_NS = 17_000_000;
/**
 * SIMPLIFICATION: a head switch costs the same as a single-track seek (read 0.23 / write 0.32 ms): on
 * high-TPI drives the new head must settle onto its own track, which is what a one-track seek measures.
 */
export const HEAD_SWITCH_READ_NS = SINGLE_TRACK_SEEK_READ_NS;
export const HEAD_SWITCH_WRITE_NS = SINGLE_TRACK_SEEK_WRITE_NS;
/**
 * Track skew margin: each track's first sector is placed (switch time + this margin) after the previous
 * track's first sector, so a sequential transfer crossing a track never misses a revolution (standard
 * track/cylinder skew; the value is a modelling choice of ~10 sectors).
 */
export const TRACK_SKEW_MARGIN_NS = 20_000;
/**
 * Firmware command overhead (decode the FIS, look up the cache, plan the seek). Spec sheets list a
 * "command overhead" item without a value in the excerpts we have; ~0.1 ms is typical [mem].
 */
export const COMMAND_OVERHEAD_NS = 100_000;
/**
 * A read the buffer cannot serve costs the firmware more before the seek starts (schedule the media
 * access, set up the read channel): an Ultrastar spec gives command overhead < 30 µs on a cache hit and
 * < 400 µs on a miss (Ultrastar 146Z10 OEM spec §4.5.1). Charged as the 0.3 ms a miss adds to the
 * 0.1 ms above. SIMPLIFICATION: write-through/FUA writes reach the media queue without it.
 */
export const READ_MISS_OVERHEAD_NS = 300_000;
/**
 * SATA 6 Gb/s after 8b/10b encoding ≈ 600 MB/s (§17.2) [mem].
 * SIMPLIFICATION: FIS headers, DMA Setup / SDB FIS exchanges and link turnaround are not charged.
 */
export const SATA_LINK_BYTES_PER_SEC = 600_000_000;
/** NCQ: 32 tags per port (SATA NCQ / AHCI). */
export const NCQ_DEPTH = 32;
/**
 * HC310 buffer: 256 MiB [mem]. SIMPLIFICATION: all of it is write cache; the read-ahead buffer is not
 * charged against it.
 */
export const WRITE_CACHE_BYTES = 256 * 1024 * 1024;
/** Largest run the firmware coalesces and writes back in one go (a track's worth or so; modelling choice). */
export const MAX_DESTAGE_BYTES = 2 * 1024 * 1024;
/** How many of the oldest dirty extents the destage scheduler considers for SPTF (modelling choice). */
export const DESTAGE_WINDOW = 64;
/** Read-ahead after each read while the actuator is idle: ~one outer track (modelling choice). */
export const READ_AHEAD_BYTES = 2 * 1024 * 1024;
/**
 * Starvation guard for SPTF: a command queued this long is served next regardless of position. Real
 * firmware ages commands too; the value is a modelling choice far below sd's 30 s timeout (§18).
 */
export const MAX_COMMAND_AGE_NS = 500_000_000;
/**
 * Zoned recording (§17.1: outer ≈ 2x inner; modern 7200 rpm ≈ 200-270 MB/s outer). 4224 sectors/track
 * outer, 2112 inner: 4224 x 512 B per (8.333 + 0.34 skew) ms ≈ 249 MB/s outer, ≈ 125 MB/s inner.
 * 30 zones as on the Deskstar 7K500 (§17.1). 8 heads x 307 200 cylinders gives ≈ 4 TB (an HC310 4 TB).
 */
export const OUTER_SECTORS_PER_TRACK = 4224;
export const INNER_SECTORS_PER_TRACK = 2112;
export const ZONE_COUNT = 30;
export const CYLINDERS_PER_ZONE = 10_240;
export const HEAD_COUNT = 8;
/** Device status for a command outside the LBA range (SCSI ASC 21h, LBA out of range, §18). */
export const HDD_STATUS_LBA_OUT_OF_RANGE = senseStatus({ key: SenseKey.ILLEGAL_REQUEST, asc: 0x21, ascq: 0x00 });
/**
 * SIMPLIFICATION: float rounding guard. Event times are whole ns, so an operation that continues exactly
 * where the previous one stopped may start up to half a ns "late"; lateness up to this is not a miss.
 */
const ROTATION_SLACK_NS = 2;

// ---------------------------------------------------------------------------------------------------
// Seek curve (Ruemmler & Wilkes 1994 shape)

/**
 * seek(d) = aNs + bNs·√d for 1 ≤ d < thresholdCyl, cNs + eNs·d for d ≥ thresholdCyl (d in cylinders).
 * SIMPLIFICATION: inward and outward seeks take the same time, and every seek of a length takes exactly
 * the curve's time (no settle variance).
 */
export interface SeekCurve {
  readonly aNs: number;
  readonly bNs: number;
  readonly cNs: number;
  readonly eNs: number;
  readonly thresholdCyl: number;
  /** Longest seek (cylinders − 1). */
  readonly maxCyl: number;
}

export interface SeekAnchors {
  readonly singleTrackNs: number;
  /** Weighted average over all possible seek combinations (the HGST/WD spec definition). */
  readonly averageNs: number;
  readonly fullStrokeNs: number;
}

/** Seek time for a move of `distanceCyl` cylinders (0 for no move). Float ns. */
export function seekTimeNs(curve: SeekCurve, distanceCyl: number): number {
  if (distanceCyl <= 0) return 0;
  if (distanceCyl < curve.thresholdCyl) return curve.aNs + curve.bNs * Math.sqrt(distanceCyl);
  return curve.cNs + curve.eNs * distanceCyl;
}

/**
 * The spec's "average seek": Σ_{n=1..max} (max+1−n)(T_in(n)+T_out(n)) / ((max+1)·max), i.e. the mean over
 * all ordered pairs of distinct cylinders. Computed in closed form (continuum over [0, max]); the discrete
 * sum differs by O(1/max).
 */
export function weightedAverageSeekNs(curve: SeekCurve): number {
  const m = curve.maxCyl;
  const t = curve.thresholdCyl;
  const part1 = curve.aNs * (m * t - (t * t) / 2) + curve.bNs * ((m * 2 * t ** 1.5) / 3 - (2 * t ** 2.5) / 5);
  const part2 = (curve.cNs * (m - t) ** 2) / 2 + curve.eNs * ((m * (m * m - t * t)) / 2 - (m ** 3 - t ** 3) / 3);
  return (part1 + part2) / ((m * m) / 2);
}

function curveForThreshold(anchors: SeekAnchors, maxCyl: number, thresholdCyl: number): SeekCurve {
  // Tangent continuity at the threshold T: b = 2e√T and a + b√T = c + eT  ⇒  a = c − eT.
  // seek(1) = a + b = single, seek(max) = c + e·max = full  ⇒  e = (full − single) / (max + T − 2√T).
  const s = Math.sqrt(thresholdCyl);
  const eNs = (anchors.fullStrokeNs - anchors.singleTrackNs) / (maxCyl + thresholdCyl - 2 * s);
  const cNs = anchors.fullStrokeNs - eNs * maxCyl;
  const bNs = 2 * eNs * s;
  const aNs = cNs - eNs * thresholdCyl;
  return { aNs, bNs, cNs, eNs, thresholdCyl, maxCyl };
}

/**
 * Derives a, b, c, e and the threshold so that seek(1) = single-track, seek(max) = full stroke, the
 * weighted average equals the spec's average, and the two pieces join with equal value and slope.
 * The average grows monotonically with the threshold (more of the stroke on the concave √d piece), so
 * the threshold is found by bisection.
 */
export function deriveSeekCurve(anchors: SeekAnchors, cylinders: number): SeekCurve {
  const maxCyl = cylinders - 1;
  bugOn(maxCyl < 4, `seek curve needs at least 5 cylinders, got ${cylinders}`);
  let lo = 1;
  let hi = maxCyl;
  const avgLo = weightedAverageSeekNs(curveForThreshold(anchors, maxCyl, lo));
  const avgHi = weightedAverageSeekNs(curveForThreshold(anchors, maxCyl, hi));
  if (!(anchors.averageNs >= avgLo && anchors.averageNs <= avgHi)) {
    throw new SimBug(
      `seek anchors unreachable: average ${anchors.averageNs} ns outside [${avgLo.toFixed(0)}, ${avgHi.toFixed(0)}] ns`,
    );
  }
  for (let i = 0; i < 200 && hi - lo > 1e-6; i++) {
    const mid = (lo + hi) / 2;
    if (weightedAverageSeekNs(curveForThreshold(anchors, maxCyl, mid)) < anchors.averageNs) lo = mid;
    else hi = mid;
  }
  return curveForThreshold(anchors, maxCyl, (lo + hi) / 2);
}

// ---------------------------------------------------------------------------------------------------
// Configuration

export type HddScheduling = 'sptf' | 'fifo';

export interface HddConfig {
  readonly model: string;
  readonly rpm: number;
  readonly heads: number;
  readonly zones: number;
  readonly cylindersPerZone: number;
  /** Sectors per track of zone 0 (outermost) and of the last zone; zones in between are interpolated. */
  readonly outerSectorsPerTrack: number;
  readonly innerSectorsPerTrack: number;
  readonly readSeek: SeekAnchors;
  readonly writeSeek: SeekAnchors;
  readonly headSwitchReadNs: number;
  readonly headSwitchWriteNs: number;
  readonly trackSkewMarginNs: number;
  readonly commandOverheadNs: number;
  /** Extra firmware time before a read that misses the buffer joins the media queue. */
  readonly readMissOverheadNs: number;
  readonly linkBytesPerSec: number;
  readonly queueDepth: number;
  /** NCQ reordering: 'sptf' (shortest positioning time first) or 'fifo' (arrival order). */
  readonly scheduling: HddScheduling;
  readonly maxCommandAgeNs: number;
  /** Volatile write cache (hdparm -W1); when off every write goes to the platter before completing. */
  readonly writeCacheEnabled: boolean;
  readonly writeCacheBytes: number;
  readonly maxDestageBytes: number;
  readonly destageWindow: number;
  /** Read-ahead after a read (0 disables the track buffer). */
  readonly readAheadBytes: number;
  /**
   * The LBA count the drive reports (IDENTIFY's max LBA + 1, the IDEMA capacity); absent: every sector
   * of the geometry. Sectors of the last cylinder past it are spare, and the actuator's stroke ends at
   * the cylinder holding the last LBA.
   */
  readonly capacitySectors?: number;
}

export const DEFAULT_HDD_CONFIG: HddConfig = {
  model: 'WDC HUS726T4TALA6L4 (Ultrastar DC HC310-like, 7200 rpm)',
  rpm: HDD_RPM,
  heads: HEAD_COUNT,
  zones: ZONE_COUNT,
  cylindersPerZone: CYLINDERS_PER_ZONE,
  outerSectorsPerTrack: OUTER_SECTORS_PER_TRACK,
  innerSectorsPerTrack: INNER_SECTORS_PER_TRACK,
  readSeek: {
    singleTrackNs: SINGLE_TRACK_SEEK_READ_NS,
    averageNs: AVERAGE_SEEK_READ_NS,
    fullStrokeNs: FULL_STROKE_SEEK_READ_NS,
  },
  writeSeek: {
    singleTrackNs: SINGLE_TRACK_SEEK_WRITE_NS,
    averageNs: AVERAGE_SEEK_WRITE_NS,
    fullStrokeNs: FULL_STROKE_SEEK_WRITE_NS,
  },
  headSwitchReadNs: HEAD_SWITCH_READ_NS,
  headSwitchWriteNs: HEAD_SWITCH_WRITE_NS,
  trackSkewMarginNs: TRACK_SKEW_MARGIN_NS,
  commandOverheadNs: COMMAND_OVERHEAD_NS,
  readMissOverheadNs: READ_MISS_OVERHEAD_NS,
  linkBytesPerSec: SATA_LINK_BYTES_PER_SEC,
  queueDepth: NCQ_DEPTH,
  scheduling: 'sptf',
  maxCommandAgeNs: MAX_COMMAND_AGE_NS,
  writeCacheEnabled: true,
  writeCacheBytes: WRITE_CACHE_BYTES,
  maxDestageBytes: MAX_DESTAGE_BYTES,
  destageWindow: DESTAGE_WINDOW,
  readAheadBytes: READ_AHEAD_BYTES,
};

/** Seek curves of the default geometry, derived from the anchors above. */
export const READ_SEEK_CURVE: SeekCurve = deriveSeekCurve(
  DEFAULT_HDD_CONFIG.readSeek,
  DEFAULT_HDD_CONFIG.zones * DEFAULT_HDD_CONFIG.cylindersPerZone,
);
export const WRITE_SEEK_CURVE: SeekCurve = deriveSeekCurve(
  DEFAULT_HDD_CONFIG.writeSeek,
  DEFAULT_HDD_CONFIG.zones * DEFAULT_HDD_CONFIG.cylindersPerZone,
);

// ---------------------------------------------------------------------------------------------------
// Geometry: LBA → (cylinder, head, sector in track), outer zones first

export interface TrackLocation {
  readonly cyl: number;
  readonly head: number;
  /** Sector index within the track. */
  readonly sector: number;
  readonly sectorsPerTrack: number;
}

/**
 * SIMPLIFICATION: equal cylinders per zone, sectors/track interpolated linearly from outer to inner
 * (rounded to 8 sectors = one 4 KiB physical sector), LBAs laid out cylinder-major (all heads of a
 * cylinder, then the next cylinder inward); no spare sectors, no defect slipping, no serpentine layout.
 */
export class HddGeometry {
  readonly cylinders: number;
  readonly heads: number;
  readonly capacitySectors: number;
  /** Per zone: sectors per track, first LBA, first cylinder. */
  readonly zoneSectorsPerTrack: readonly number[];
  readonly zoneStartLba: readonly number[];
  private readonly cylindersPerZone: number;

  constructor(config: HddConfig) {
    bugOn(config.zones < 1 || config.cylindersPerZone < 1 || config.heads < 1, 'HDD geometry must be non-empty');
    this.heads = config.heads;
    this.cylindersPerZone = config.cylindersPerZone;
    const spt = zoneSectorsPerTrack(config.zones, config.outerSectorsPerTrack, config.innerSectorsPerTrack);
    const start: number[] = [];
    let lba = 0;
    for (const s of spt) {
      start.push(lba);
      lba += s * config.heads * config.cylindersPerZone;
    }
    this.zoneSectorsPerTrack = spt;
    this.zoneStartLba = start;
    const reported = config.capacitySectors ?? lba;
    bugOn(!(Number.isInteger(reported) && reported >= 1 && reported <= lba), `HDD reports ${reported} sectors of ${lba}`);
    this.capacitySectors = reported;
    // The stroke spans the cylinders that hold LBAs: the spare tail of the last one is never sought to.
    this.cylinders = reported === lba ? config.zones * config.cylindersPerZone : this.locate(reported - 1).cyl + 1;
  }

  zoneOfCylinder(cyl: number): number {
    return Math.floor(cyl / this.cylindersPerZone);
  }

  sectorsPerTrackAt(cyl: number): number {
    return this.zoneSectorsPerTrack[this.zoneOfCylinder(cyl)]!;
  }

  zoneOfLba(lba: number): number {
    // Binary search for the last zone whose start ≤ lba.
    let lo = 0;
    let hi = this.zoneStartLba.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.zoneStartLba[mid]! <= lba) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  locate(lba: number): TrackLocation {
    bugOn(!(lba >= 0 && lba < this.capacitySectors), `LBA ${lba} outside the disk`);
    const z = this.zoneOfLba(lba);
    const spt = this.zoneSectorsPerTrack[z]!;
    const rel = lba - this.zoneStartLba[z]!;
    const trackInZone = Math.floor(rel / spt);
    return {
      cyl: z * this.cylindersPerZone + Math.floor(trackInZone / this.heads),
      head: trackInZone % this.heads,
      sector: rel - trackInZone * spt,
      sectorsPerTrack: spt,
    };
  }

  /** First LBA of a track. */
  trackStartLba(cyl: number, head: number): number {
    const z = this.zoneOfCylinder(cyl);
    const spt = this.zoneSectorsPerTrack[z]!;
    const cylInZone = cyl - z * this.cylindersPerZone;
    return this.zoneStartLba[z]! + (cylInZone * this.heads + head) * spt;
  }
}

/** Sectors per track of each zone, outer to inner: linear from outer to inner, in whole 4 KiB physical sectors. */
function zoneSectorsPerTrack(zones: number, outer: number, inner: number): number[] {
  const spt: number[] = [];
  for (let z = 0; z < zones; z++) {
    const frac = zones === 1 ? 0 : z / (zones - 1);
    spt.push(Math.max(8, Math.round((outer - (outer - inner) * frac) / 8) * 8));
  }
  return spt;
}

/**
 * Fewest cylinders a disk is built with: below this the stroke would be a handful of tracks, so a tiny
 * disk gets shorter tracks instead (modelling choice; 240 = 8 per zone).
 */
export const MIN_HDD_CYLINDERS = 240;

/**
 * The drive of a family (`base`) that reports exactly `capacityBytes` (rounded down to whole sectors), as
 * a vendor builds one model line: fewer heads for a small disk (one per 1/8 of the base capacity, at
 * most the base's), the cylinder count scaled so the LBAs fill the platter from the outer edge to the
 * inner, and the LBA count clipped to the request (IDEMA capacity; the rest of the last cylinder is
 * spare). The seek anchors (single track, average, full stroke) stay those of the family, so a random
 * read over the whole LBA range pays the family's average seek whatever the size.
 * SIMPLIFICATION: a disk too small for MIN_HDD_CYLINDERS at the family's track lengths gets one head and
 * proportionally shorter tracks (a slower sequential rate); a disk larger than the base gets more
 * cylinders (higher track density), never more heads.
 */
export function hddConfigForCapacity(capacityBytes: number, base: HddConfig = DEFAULT_HDD_CONFIG): HddConfig {
  const sectors = Math.floor(capacityBytes / HDD_SECTOR_BYTES);
  bugOn(!(sectors >= 1 && Number.isSafeInteger(sectors)), `HDD capacity ${capacityBytes} bytes is not a disk`);
  const zones = base.zones;
  const perCylinderSet = (spt: readonly number[]): number => spt.reduce((a, b) => a + b, 0);
  let outer = base.outerSectorsPerTrack;
  let inner = base.innerSectorsPerTrack;
  const baseSet = perCylinderSet(zoneSectorsPerTrack(zones, outer, inner));
  const heads = Math.min(base.heads, Math.max(1, Math.ceil(sectors / (baseSet * base.cylindersPerZone))));
  let cylindersPerZone = Math.ceil(sectors / (heads * baseSet));
  if (zones * cylindersPerZone < MIN_HDD_CYLINDERS) {
    // Shorter tracks, same outer/inner ratio, so the LBAs still spread over MIN_HDD_CYLINDERS cylinders.
    const minPerZone = Math.ceil(MIN_HDD_CYLINDERS / zones);
    const scale = sectors / (heads * baseSet * minPerZone);
    outer = Math.max(8, Math.ceil((outer * scale) / 8) * 8);
    inner = Math.max(8, Math.ceil((inner * scale) / 8) * 8);
    cylindersPerZone = Math.ceil(sectors / (heads * perCylinderSet(zoneSectorsPerTrack(zones, outer, inner))));
  }
  // The drive reads ahead about one outer track (READ_AHEAD_BYTES): shorter tracks, shorter read-ahead.
  const readAheadBytes = Math.min(base.readAheadBytes, Math.round((base.readAheadBytes * outer) / base.outerSectorsPerTrack));
  return { ...base, heads, cylindersPerZone, outerSectorsPerTrack: outer, innerSectorsPerTrack: inner, readAheadBytes, capacitySectors: sectors };
}

// ---------------------------------------------------------------------------------------------------
// The drive

/** A piece of a transfer on one track: sectors [lba, lba+nr) pass under the head from startNs. */
interface Segment {
  readonly lba: number;
  readonly nr: number;
  readonly startNs: number;
  readonly sectorNs: number;
  readonly cyl: number;
  readonly head: number;
}

interface MediaRun {
  readonly endNs: number;
  readonly segments: Segment[];
}

/**
 * The read-ahead stream (track buffer): after a read the head keeps reading sequentially while the drive
 * is idle. SIMPLIFICATION: one stream (one buffer segment); real firmware keeps several segments and
 * adapts the read-ahead length. Sector x is in the buffer once it has passed under the head (availNs(x) ≤ now) and the head was
 * still streaming then. `limitLba` caps the read-ahead; a stopped stream has limitLba cut to what was read.
 */
interface Stream {
  startLba: number;
  limitLba: number;
  segments: Segment[];
  /** Infinity while the head is still on the stream; the time it left otherwise. */
  stopNs: number;
}

interface QueuedCommand {
  readonly cmd: DeviceCommand;
  readonly readyNs: number;
  readonly arrival: number;
  readonly loc: TrackLocation;
  readonly write: boolean;
}

interface DirtyExtent {
  readonly lba: number;
  nr: number;
  /** Admission sequence of the oldest write merged into it (flush ordering). */
  readonly seq: number;
  readonly loc: TrackLocation;
  /** Taken for destaging (removed from the list lazily). */
  taken: boolean;
}

/** Cached writes in admission order. Destage takes from the front window, so removal is lazy. */
class DirtyList {
  private items: DirtyExtent[] = [];
  private head = 0;
  private live = 0;

  get size(): number {
    return this.live;
  }

  push(e: DirtyExtent): void {
    this.items.push(e);
    this.live++;
  }

  /** The newest extent while it still waits (a following sequential write can be merged into it). */
  tail(): DirtyExtent | undefined {
    const t = this.items[this.items.length - 1];
    return t && !t.taken ? t : undefined;
  }

  /** The oldest waiting extent. */
  first(): DirtyExtent | undefined {
    return this.items[this.head];
  }

  /** Up to `n` oldest waiting extents. */
  window(n: number): DirtyExtent[] {
    const out: DirtyExtent[] = [];
    for (let i = this.head; i < this.items.length && out.length < n; i++) {
      const e = this.items[i]!;
      if (!e.taken) out.push(e);
    }
    return out;
  }

  take(e: DirtyExtent): void {
    bugOn(e.taken, 'dirty extent taken twice');
    e.taken = true;
    this.live--;
    while (this.head < this.items.length && this.items[this.head]!.taken) this.head++;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  some(pred: (e: DirtyExtent) => boolean): boolean {
    for (let i = this.head; i < this.items.length; i++) {
      const e = this.items[i]!;
      if (!e.taken && pred(e)) return true;
    }
    return false;
  }
}

interface FlushWaiter {
  readonly cmd: DeviceCommand;
  /** Every cached write admitted with seq < this must be on the platter. */
  readonly seqMark: number;
}

type DmaPurpose = 'read-complete' | 'cache-insert' | 'to-media-queue';

interface DmaJob {
  readonly cmd: DeviceCommand;
  readonly direction: DmaDirection;
  readonly bytes: number;
  readonly startNs: number;
  readonly endNs: number;
  readonly purpose: DmaPurpose;
  readonly seq: number;
}

type ActuatorOp =
  | { readonly kind: 'read'; readonly cmd: DeviceCommand }
  | { readonly kind: 'write'; readonly cmd: DeviceCommand }
  | { readonly kind: 'destage'; readonly extent: DirtyExtent };

interface Position {
  readonly seekNs: number;
  readonly rotationNs: number;
  readonly distanceCyl: number;
}

/** What onMediaStart reports for a command served from the drive's buffer/cache. */
const CACHE_HIT_MEDIA: MediaDetail = { channel: -1, die: -1, seekNs: 0, rotationNs: 0, mediaNs: 0, cacheHit: true };

/**
 * SIMPLIFICATION: media errors come only from injected faults (hw/fault-inject.ts, §18), no thermal
 * recalibration, no spin-down or power states (§20), no SMR.
 * SIMPLIFICATION: data contents are not modelled, so a FUA write over an LBA that is also dirty in the
 * cache does not cancel the older cached copy (both reach the platter, in the order they are scheduled).
 */
export class Hdd implements BlockDeviceHw {
  readonly model: string;
  readonly capacitySectors: number;
  readonly rotational = true;
  readonly queueCount = 1;
  readonly queueDepth: number;
  readonly geometry: HddGeometry;
  readonly readCurve: SeekCurve;
  readonly writeCurve: SeekCurve;
  /** One revolution in (fractional) ns. */
  readonly revolutionNs: number;

  private readonly host: DeviceHost;
  private readonly config: HddConfig;
  private readonly skewFrac: number;
  private readonly readAheadSectors: number;
  private readonly maxDestageSectors: number;

  /** cids of commands accepted and not yet completed. */
  private readonly outstanding = new Set<number>();
  private readonly completions: DeviceCompletion[] = [];
  /** Commands ready for the actuator (reads, and FUA / write-through writes whose data is in). */
  private readonly mediaQueue: QueuedCommand[] = [];
  private arrivals = 0;
  /** Writes waiting for room in the write cache, oldest first. */
  private readonly admissionQueue: DeviceCommand[] = [];
  /** Cached writes not yet on the platter, oldest admission first. */
  private readonly dirty = new DirtyList();
  /** Bytes reserved in the cache (dirty, being DMA'd in, or being destaged). */
  private cacheUsedBytes = 0;
  private nextAdmitSeq = 0;
  /** Seqs of writes whose data is crossing the link into the cache, in link (FIFO) order. */
  private readonly admittingSeqs: number[] = [];
  private destaging: DirtyExtent | null = null;
  /** Sectors in `dirty` plus the extent being destaged. */
  private dirtySectors = 0;
  private readonly flushWaiters: FlushWaiter[] = [];

  private actuatorBusy = false;
  private headCyl = 0;
  private headHead = 0;
  private stream: Stream | null = null;
  private linkFreeNs = 0;
  /** Injected media faults (the scenario's device "faults"); undefined on a healthy disk. */
  faults: FaultInjector | undefined = undefined;

  private readonly stats = {
    commands: 0,
    reads: 0,
    writes: 0,
    flushes: 0,
    mediaReads: 0,
    mediaWrites: 0,
    seeks: 0,
    totalSeekNs: 0,
    totalRotationNs: 0,
    totalMediaNs: 0,
    readCacheHits: 0,
    readAheadStreamReads: 0,
    readWriteCacheHits: 0,
    cacheWriteHits: 0,
    cacheFullWaits: 0,
    destagedWrites: 0,
    destagedBytes: 0,
    maxDirtyBytes: 0,
    agedPicks: 0,
    dmaBytesToDevice: 0,
    dmaBytesFromDevice: 0,
    errors: 0,
  };

  // SIMPLIFICATION: no randomness: the platter's angle is (t mod T_rev) / T_rev from t = 0, and every
  // other quantity is mechanical, so the disk needs no random stream.
  constructor(host: DeviceHost, config: HddConfig) {
    this.host = host;
    this.config = config;
    this.model = config.model;
    this.queueDepth = config.queueDepth;
    this.geometry = new HddGeometry(config);
    this.capacitySectors = this.geometry.capacitySectors;
    this.readCurve = deriveSeekCurve(config.readSeek, this.geometry.cylinders);
    this.writeCurve = deriveSeekCurve(config.writeSeek, this.geometry.cylinders);
    this.revolutionNs = 60e9 / config.rpm;
    const switchNs = Math.max(
      config.headSwitchReadNs,
      config.headSwitchWriteNs,
      config.readSeek.singleTrackNs,
      config.writeSeek.singleTrackNs,
    );
    this.skewFrac = (switchNs + config.trackSkewMarginNs) / this.revolutionNs;
    bugOn(this.skewFrac >= 1, 'track skew longer than a revolution');
    this.readAheadSectors = Math.floor(config.readAheadBytes / HDD_SECTOR_BYTES);
    this.maxDestageSectors = Math.max(1, Math.floor(config.maxDestageBytes / HDD_SECTOR_BYTES));
  }

  // -------------------------------------------------------------------------------------------------
  // BlockDeviceHw

  submit(qid: number, cmd: DeviceCommand): void {
    bugOn(qid !== 0, `SATA disk has one queue, got qid ${qid}`);
    bugOn(this.outstanding.size >= this.queueDepth, `NCQ overflow: ${this.queueDepth} commands already outstanding`);
    bugOn(this.outstanding.has(cmd.cid), `NCQ tag ${cmd.cid} already outstanding`);
    this.outstanding.add(cmd.cid);
    this.stats.commands++;
    // SIMPLIFICATION: the same command overhead for every command (hits, misses and flushes alike).
    this.host.onFetch(0, cmd);
    this.host.env.after(this.config.commandOverheadNs, Priority.URGENT, this.onReadyFn, cmd);
  }

  reap(qid: number): DeviceCompletion[] {
    bugOn(qid !== 0, `SATA disk has one queue, got qid ${qid}`);
    return this.completions.splice(0, this.completions.length);
  }

  counters(): Readonly<Record<string, number>> {
    return { ...this.stats, dirtyBytes: this.dirtyBytes(), queued: this.mediaQueue.length };
  }

  // -------------------------------------------------------------------------------------------------
  // Introspection for tests and reports

  /** Platter angle at time t as a fraction of a revolution (deterministic: (t mod T_rev) / T_rev). */
  angleAt(tNs: number): number {
    return (tNs % this.revolutionNs) / this.revolutionNs;
  }

  /** Angle (fraction of a revolution) where sector `loc` starts, including the track's skew. */
  sectorAngle(loc: TrackLocation): number {
    const track = loc.cyl * this.geometry.heads + loc.head;
    const a = track * this.skewFrac + loc.sector / loc.sectorsPerTrack;
    return a - Math.floor(a);
  }

  /** Bytes of written data in the cache that are not yet on the platter. */
  dirtyBytes(): number {
    return this.dirtySectors * HDD_SECTOR_BYTES;
  }

  // -------------------------------------------------------------------------------------------------
  // Command arrival

  private readonly onReadyFn = (cmd: DeviceCommand): void => {
    this.onReady(cmd);
  };

  private readonly onReadMissFn = (cmd: DeviceCommand): void => {
    this.onReadMiss(cmd);
  };

  /** The miss is set up: the read waits for the actuator. */
  private onReadMiss(cmd: DeviceCommand): void {
    this.enqueueMedia(cmd, this.host.env.nowNs, false);
    this.kick();
  }

  private onReady(cmd: DeviceCommand): void {
    const now = this.host.env.nowNs;
    if (cmd.op === 'flush') {
      this.stats.flushes++;
      this.flushWaiters.push({ cmd, seqMark: this.nextAdmitSeq });
      this.checkFlushes();
      this.kick();
      return;
    }
    if (!(cmd.nrSectors > 0 && cmd.sector >= 0 && cmd.sector + cmd.nrSectors <= this.capacitySectors)) {
      // SIMPLIFICATION: the error is posted without touching the media (ATA IDNF / SCSI 05/21h).
      this.stats.errors++;
      this.complete(cmd, HDD_STATUS_LBA_OUT_OF_RANGE);
      return;
    }
    if (cmd.op === 'read') {
      this.stats.reads++;
      if (this.tryServeReadFromBuffer(cmd, now)) return;
      if (this.config.readMissOverheadNs > 0) {
        this.host.env.after(this.config.readMissOverheadNs, Priority.URGENT, this.onReadMissFn, cmd);
        return;
      }
      this.onReadMiss(cmd);
      return;
    }
    this.stats.writes++;
    const bytes = cmd.nrSectors * HDD_SECTOR_BYTES;
    if (this.config.writeCacheEnabled && !cmd.fua && bytes <= this.config.writeCacheBytes) {
      this.admissionQueue.push(cmd);
      this.tryAdmit();
      if (this.admissionQueue.length > 0) {
        this.stats.cacheFullWaits++;
        this.kick();
      }
      return;
    }
    // FUA or write-through: the data crosses the link into the buffer first, then waits for the platter.
    // SIMPLIFICATION: the buffer always has room for a write-through command's data.
    this.startDma(cmd, 'to-device', bytes, 'to-media-queue', -1);
  }

  /** A read whose every sector is already in the read-ahead buffer or in one cached write. */
  private tryServeReadFromBuffer(cmd: DeviceCommand, now: number): boolean {
    const end = cmd.sector + cmd.nrSectors;
    const s = this.stream;
    let hit = false;
    if (s && cmd.sector >= s.startLba && end <= s.limitLba) {
      const lastNs = this.availNs(s, end - 1);
      if (lastNs <= now && lastNs <= s.stopNs) {
        hit = true;
        this.stats.readCacheHits++;
      }
    }
    if (!hit) {
      // SIMPLIFICATION: only a read inside a single cached (dirty) extent is served from the write cache.
      const inExtent = (e: DirtyExtent | null): boolean => e !== null && cmd.sector >= e.lba && end <= e.lba + e.nr;
      if (inExtent(this.destaging) || this.dirty.some(inExtent)) {
        hit = true;
        this.stats.readWriteCacheHits++;
      }
    }
    if (!hit) return false;
    this.host.onMediaStart(0, cmd, CACHE_HIT_MEDIA);
    this.startDma(cmd, 'from-device', cmd.nrSectors * HDD_SECTOR_BYTES, 'read-complete', -1);
    return true;
  }

  private enqueueMedia(cmd: DeviceCommand, now: number, write: boolean): void {
    this.mediaQueue.push({ cmd, readyNs: now, arrival: this.arrivals++, loc: this.geometry.locate(cmd.sector), write });
  }

  // -------------------------------------------------------------------------------------------------
  // Write cache

  private tryAdmit(): void {
    for (;;) {
      const cmd = this.admissionQueue[0];
      if (!cmd) return;
      const bytes = cmd.nrSectors * HDD_SECTOR_BYTES;
      if (this.cacheUsedBytes + bytes > this.config.writeCacheBytes) return;
      this.admissionQueue.shift();
      this.cacheUsedBytes += bytes;
      const seq = this.nextAdmitSeq++;
      this.admittingSeqs.push(seq);
      this.stats.cacheWriteHits++;
      this.host.onMediaStart(0, cmd, CACHE_HIT_MEDIA);
      this.startDma(cmd, 'to-device', bytes, 'cache-insert', seq);
    }
  }

  private insertDirty(cmd: DeviceCommand, seq: number): void {
    const head = this.admittingSeqs.shift();
    bugOn(head !== seq, `write cache admission order broken (${head} vs ${seq})`);
    this.invalidateStream(cmd.sector, cmd.nrSectors);
    const tail = this.dirty.tail();
    if (tail && tail.lba + tail.nr === cmd.sector && tail.nr + cmd.nrSectors <= this.maxDestageSectors) {
      tail.nr += cmd.nrSectors; // a sequential writer's extents coalesce into one destage run
    } else {
      this.dirty.push({ lba: cmd.sector, nr: cmd.nrSectors, seq, loc: this.geometry.locate(cmd.sector), taken: false });
    }
    this.dirtySectors += cmd.nrSectors;
    const dirtyBytes = this.dirtyBytes();
    if (dirtyBytes > this.stats.maxDirtyBytes) this.stats.maxDirtyBytes = dirtyBytes;
  }

  /** Oldest admission seq whose data is not yet on the platter (Infinity when the cache is clean). */
  private oldestDirtySeq(): number {
    let m = Infinity;
    const a = this.admittingSeqs[0];
    if (a !== undefined) m = Math.min(m, a);
    const d = this.dirty.first();
    if (d) m = Math.min(m, d.seq);
    if (this.destaging) m = Math.min(m, this.destaging.seq);
    return m;
  }

  private checkFlushes(): void {
    while (this.flushWaiters.length > 0) {
      const f = this.flushWaiters[0]!;
      if (this.oldestDirtySeq() < f.seqMark) return;
      this.flushWaiters.shift();
      this.complete(f.cmd, 0);
    }
  }

  // -------------------------------------------------------------------------------------------------
  // Link (SATA DMA)

  private startDma(cmd: DeviceCommand, direction: DmaDirection, bytes: number, purpose: DmaPurpose, seq: number): void {
    const now = this.host.env.nowNs;
    const startNs = Math.max(now, this.linkFreeNs);
    const endNs = startNs + Math.round((bytes * 1e9) / this.config.linkBytesPerSec);
    this.linkFreeNs = endNs;
    if (direction === 'to-device') this.stats.dmaBytesToDevice += bytes;
    else this.stats.dmaBytesFromDevice += bytes;
    const job: DmaJob = { cmd, direction, bytes, startNs, endNs, purpose, seq };
    if (startNs === now) this.onDmaStart(job);
    else this.host.env.at(startNs, Priority.URGENT, this.onDmaStartFn, job);
    this.host.env.at(endNs, Priority.URGENT, this.onDmaDoneFn, job);
  }

  private readonly onDmaStartFn = (job: DmaJob): void => {
    this.onDmaStart(job);
  };

  private onDmaStart(job: DmaJob): void {
    this.host.onDma(0, job.cmd, job.direction, job.bytes, job.startNs, job.endNs);
  }

  private readonly onDmaDoneFn = (job: DmaJob): void => {
    this.onDmaDone(job);
  };

  private onDmaDone(job: DmaJob): void {
    switch (job.purpose) {
      case 'read-complete':
        this.complete(job.cmd, 0);
        return;
      case 'cache-insert':
        this.insertDirty(job.cmd, job.seq);
        this.complete(job.cmd, 0);
        this.kick();
        return;
      case 'to-media-queue':
        this.enqueueMedia(job.cmd, this.host.env.nowNs, true);
        this.kick();
        return;
    }
  }

  private complete(cmd: DeviceCommand, status: number): void {
    bugOn(!this.outstanding.delete(cmd.cid), `completing tag ${cmd.cid} that is not outstanding`);
    if (this.faults !== undefined && status === 0) {
      // SIMPLIFICATION: a faulty command fails when it would have completed (no extra internal
      // retries of the drive); a cached write fails at once instead of as a deferred error.
      const fault = this.faults.check(cmd);
      if (fault !== undefined) {
        this.stats.errors++;
        if (fault.kind === 'timeout') return; // the drive never answers: the host's timer fires
        status = diskFaultStatus(fault, cmd.op);
      }
    }
    this.completions.push({ cmd, status });
    this.host.raiseInterrupt(0);
  }

  // -------------------------------------------------------------------------------------------------
  // Mechanics

  /** Rotational wait from time t until the platter brings angle `angleFrac` under the head. */
  private rotationalWaitNs(tNs: number, angleFrac: number): number {
    let w = angleFrac - this.angleAt(tNs);
    w -= Math.floor(w);
    const waitNs = w * this.revolutionNs;
    return waitNs > this.revolutionNs - ROTATION_SLACK_NS ? 0 : waitNs;
  }

  /** Seek (or head switch) plus rotational wait to get from a track to the start of `loc`. */
  private position(fromCyl: number, fromHead: number, tNs: number, loc: TrackLocation, write: boolean): Position {
    const distanceCyl = Math.abs(loc.cyl - fromCyl);
    let seekNs = 0;
    if (distanceCyl > 0) seekNs = seekTimeNs(write ? this.writeCurve : this.readCurve, distanceCyl);
    else if (loc.head !== fromHead) seekNs = write ? this.config.headSwitchWriteNs : this.config.headSwitchReadNs;
    const rotationNs = this.rotationalWaitNs(tNs + seekNs, this.sectorAngle(loc));
    return { seekNs, rotationNs, distanceCyl };
  }

  /**
   * Transfer of `nr` sectors from `lba`, whose first sector starts under the head at `startNs`. Crossing a
   * track costs a head switch (or a one-cylinder seek) and whatever rotation the track skew leaves.
   */
  private mediaRun(lba: number, nr: number, startNs: number, write: boolean): MediaRun {
    const segments: Segment[] = [];
    let t = startNs;
    let cur = lba;
    let remaining = nr;
    let loc = this.geometry.locate(cur);
    for (;;) {
      const k = Math.min(remaining, loc.sectorsPerTrack - loc.sector);
      const sectorNs = this.revolutionNs / loc.sectorsPerTrack;
      segments.push({ lba: cur, nr: k, startNs: t, sectorNs, cyl: loc.cyl, head: loc.head });
      t += k * sectorNs;
      cur += k;
      remaining -= k;
      if (remaining === 0) break;
      const next = this.geometry.locate(cur);
      const p = this.position(loc.cyl, loc.head, t, next, write);
      t += p.seekNs + p.rotationNs;
      loc = next;
    }
    return { endNs: t, segments };
  }

  /** When sector `lba` of a stream has been read (end of the sector under the head). */
  private availNs(s: Stream, lba: number): number {
    for (const seg of s.segments) {
      if (lba < seg.lba + seg.nr) return seg.startNs + (lba - seg.lba + 1) * seg.sectorNs;
    }
    throw new SimBug(`LBA ${lba} beyond the read-ahead stream`);
  }

  /** Track under the head at time t while it follows stream `s` (up to its limit). */
  private streamHead(s: Stream, tNs: number): { cyl: number; head: number } {
    let cur = s.segments[0]!;
    for (const seg of s.segments) {
      if (seg.lba >= s.limitLba || seg.startNs > tNs) break;
      cur = seg;
    }
    return { cyl: cur.cyl, head: cur.head };
  }

  /** Sectors of the stream read by time t (exclusive end LBA). */
  private streamReadEnd(s: Stream, tNs: number): number {
    let end = s.startLba;
    for (const seg of s.segments) {
      if (seg.startNs > tNs) break;
      const done = Math.min(seg.nr, Math.floor((tNs - seg.startNs) / seg.sectorNs + 1e-9));
      end = seg.lba + Math.max(0, done);
      if (done < seg.nr) break;
    }
    return Math.min(end, s.limitLba);
  }

  private currentHead(tNs: number): { cyl: number; head: number } {
    const s = this.stream;
    if (s && s.stopNs === Infinity) return this.streamHead(s, tNs);
    return { cyl: this.headCyl, head: this.headHead };
  }

  /** The head leaves the stream at t: the buffer keeps what was read so far. */
  private stopStream(tNs: number): void {
    const s = this.stream;
    if (!s || s.stopNs !== Infinity) return;
    const h = this.streamHead(s, tNs);
    this.headCyl = h.cyl;
    this.headHead = h.head;
    s.limitLba = Math.max(s.startLba, this.streamReadEnd(s, tNs));
    s.stopNs = tNs;
  }

  /** Written sectors make overlapping read-ahead data stale: cut the buffer before them. */
  private invalidateStream(lba: number, nr: number): void {
    const s = this.stream;
    if (!s || lba >= s.limitLba || lba + nr <= s.startLba) return;
    s.limitLba = Math.max(s.startLba, lba);
  }

  /** Extend an active stream's read-ahead to `newLimit` (the head keeps reading, or resumes if parked). */
  private extendStream(s: Stream, newLimit: number, now: number): void {
    const limit = Math.min(newLimit, this.capacitySectors);
    const last = s.segments[s.segments.length - 1]!;
    const segEnd = last.lba + last.nr;
    if (limit <= s.limitLba || segEnd !== s.limitLba) return;
    const t = Math.max(now, last.startNs + last.nr * last.sectorNs);
    const p = this.position(last.cyl, last.head, t, this.geometry.locate(segEnd), false);
    const run = this.mediaRun(segEnd, limit - segEnd, t + p.seekNs + p.rotationNs, false);
    for (const seg of run.segments) s.segments.push(seg);
    s.limitLba = limit;
  }

  /**
   * Whether a read starting at `lba` continues the active stream (no repositioning needed): it starts in
   * the read-ahead window, or right after it when the window was not cut short by a write.
   */
  private continuesStream(lba: number): boolean {
    const s = this.stream;
    if (s === null || s.stopNs !== Infinity || lba < s.startLba || lba > s.limitLba) return false;
    if (lba < s.limitLba) return true;
    const last = s.segments[s.segments.length - 1]!;
    return last.lba + last.nr === s.limitLba && s.limitLba < this.capacitySectors;
  }

  /** SPTF key: time until the first needed sector comes under the head. */
  private positioningCostNs(q: QueuedCommand, now: number): number {
    const s = this.stream;
    if (!q.write && s && this.continuesStream(q.cmd.sector)) {
      if (q.cmd.sector < s.limitLba) {
        const first = this.availNs(s, q.cmd.sector) - this.revolutionNs / q.loc.sectorsPerTrack;
        return Math.max(0, first - now);
      }
      const last = s.segments[s.segments.length - 1]!;
      const t = Math.max(now, last.startNs + last.nr * last.sectorNs);
      const p = this.position(last.cyl, last.head, t, q.loc, false);
      return t + p.seekNs + p.rotationNs - now;
    }
    if (!q.write && s && q.cmd.sector >= s.startLba && q.cmd.sector < s.limitLba) return 0; // buffered head
    const h = this.currentHead(now);
    const p = this.position(h.cyl, h.head, now, q.loc, q.write);
    return p.seekNs + p.rotationNs;
  }

  private destageCostNs(e: DirtyExtent, now: number): number {
    const h = this.currentHead(now);
    const p = this.position(h.cyl, h.head, now, e.loc, true);
    return p.seekNs + p.rotationNs;
  }

  /**
   * Picks the next actuator operation and starts it: destage when the cache must drain (a flush or a
   * write waiting for room) or when no host command is queued; otherwise a queued command.
   * SIMPLIFICATION: destage starts as soon as the queue is empty (no idle timer), and an operation, once
   * started, is never preempted.
   */
  private kick(): void {
    if (this.actuatorBusy) return;
    const now = this.host.env.nowNs;
    const forced = this.flushWaiters.length > 0 || this.admissionQueue.length > 0;
    if (this.dirty.size > 0 && (forced || this.mediaQueue.length === 0)) {
      this.startDestage(this.pickDestage(now), now);
      return;
    }
    if (this.mediaQueue.length > 0) {
      const i = this.pickCommand(now);
      const q = this.mediaQueue[i]!;
      this.mediaQueue.splice(i, 1);
      if (q.write) this.startMediaWrite(q.cmd, now);
      else this.startMediaRead(q.cmd, now);
    }
    // Otherwise idle: an active stream keeps reading ahead up to its limit.
  }

  /**
   * SIMPLIFICATION: SPTF knows every positioning time exactly (the model has no settle variance, so the
   * firmware never misses a sector it planned for); real drives plan with margins, so this is a best case.
   */
  private pickCommand(now: number): number {
    const queue = this.mediaQueue;
    let oldest = 0;
    for (let i = 1; i < queue.length; i++) if (queue[i]!.arrival < queue[oldest]!.arrival) oldest = i;
    if (this.config.scheduling === 'fifo') return oldest;
    if (now - queue[oldest]!.readyNs >= this.config.maxCommandAgeNs) {
      this.stats.agedPicks++;
      return oldest;
    }
    let best = 0;
    let bestCost = Infinity;
    let bestArrival = Infinity;
    for (let i = 0; i < queue.length; i++) {
      const q = queue[i]!;
      const cost = this.positioningCostNs(q, now);
      if (cost < bestCost || (cost === bestCost && q.arrival < bestArrival)) {
        best = i;
        bestCost = cost;
        bestArrival = q.arrival;
      }
    }
    return best;
  }

  private pickDestage(now: number): DirtyExtent {
    const window = this.dirty.window(this.config.scheduling === 'fifo' ? 1 : this.config.destageWindow);
    let best = window[0]!;
    let bestCost = Infinity;
    for (const e of window) {
      const cost = this.destageCostNs(e, now);
      if (cost < bestCost) {
        best = e;
        bestCost = cost;
      }
    }
    return best;
  }

  private startMediaRead(cmd: DeviceCommand, now: number): void {
    const end = cmd.sector + cmd.nrSectors;
    const s = this.stream;
    this.stats.mediaReads++;
    if (s && this.continuesStream(cmd.sector)) this.extendStream(s, end + this.readAheadSectors, now);
    if (s && this.continuesStream(cmd.sector) && end <= s.limitLba) {
      // Sequential continuation: the head is already reading these sectors (or parked right after them).
      // SIMPLIFICATION: the buffer keeps only the current stream window; sectors before this read go.
      while (s.segments.length > 1 && s.segments[0]!.lba + s.segments[0]!.nr <= cmd.sector) s.segments.shift();
      s.startLba = Math.max(s.startLba, s.segments[0]!.lba);
      const firstNs = this.availNs(s, cmd.sector) - this.revolutionNs / this.geometry.locate(cmd.sector).sectorsPerTrack;
      const lastNs = this.availNs(s, end - 1);
      const doneNs = Math.max(now, lastNs);
      const waitNs = Math.max(0, firstNs - now);
      const alreadyIn = lastNs <= now;
      if (alreadyIn) this.stats.readCacheHits++;
      else this.stats.readAheadStreamReads++;
      this.stats.totalMediaNs += Math.round(doneNs - now - waitNs);
      this.host.onMediaStart(0, cmd, {
        channel: -1,
        die: -1,
        seekNs: 0,
        rotationNs: Math.round(waitNs),
        mediaNs: Math.round(doneNs - now - waitNs),
        cacheHit: alreadyIn,
      });
      this.beginOp({ kind: 'read', cmd }, doneNs);
      return;
    }
    // Leading sectors may still be in a stopped buffer; the rest comes off the platter.
    this.stopStream(now);
    let covered = 0;
    if (s && cmd.sector >= s.startLba && cmd.sector < s.limitLba) covered = Math.min(cmd.nrSectors, s.limitLba - cmd.sector);
    const target = cmd.sector + covered;
    const loc = this.geometry.locate(target);
    const h = this.currentHead(now);
    const p = this.position(h.cyl, h.head, now, loc, false);
    const startNs = now + p.seekNs + p.rotationNs;
    const limit = Math.min(this.capacitySectors, end + this.readAheadSectors);
    const run = this.mediaRun(target, limit - target, startNs, false);
    const ns: Stream = { startLba: target, limitLba: limit, segments: run.segments, stopNs: Infinity };
    this.stream = ns;
    const doneNs = this.availNs(ns, end - 1);
    this.accountPositioning(p);
    this.stats.totalMediaNs += Math.round(doneNs - startNs);
    this.host.onMediaStart(0, cmd, {
      channel: -1,
      die: -1,
      seekNs: Math.round(p.seekNs),
      rotationNs: Math.round(p.rotationNs),
      mediaNs: Math.round(doneNs - startNs),
      cacheHit: false,
    });
    this.beginOp({ kind: 'read', cmd }, doneNs);
  }

  private startMediaWrite(cmd: DeviceCommand, now: number): void {
    this.stats.mediaWrites++;
    const w = this.writeToPlatter(cmd.sector, cmd.nrSectors, now);
    this.host.onMediaStart(0, cmd, {
      channel: -1,
      die: -1,
      seekNs: Math.round(w.position.seekNs),
      rotationNs: Math.round(w.position.rotationNs),
      mediaNs: Math.round(w.mediaNs),
      cacheHit: false,
    });
    this.beginOp({ kind: 'write', cmd }, w.endNs);
  }

  private startDestage(e: DirtyExtent, now: number): void {
    this.dirty.take(e);
    this.destaging = e;
    const w = this.writeToPlatter(e.lba, e.nr, now);
    this.beginOp({ kind: 'destage', extent: e }, w.endNs);
  }

  private writeToPlatter(lba: number, nr: number, now: number): { position: Position; mediaNs: number; endNs: number } {
    this.stopStream(now);
    this.invalidateStream(lba, nr);
    const h = this.currentHead(now);
    const loc = this.geometry.locate(lba);
    const p = this.position(h.cyl, h.head, now, loc, true);
    const startNs = now + p.seekNs + p.rotationNs;
    const run = this.mediaRun(lba, nr, startNs, true);
    const last = run.segments[run.segments.length - 1]!;
    this.headCyl = last.cyl;
    this.headHead = last.head;
    this.accountPositioning(p);
    this.stats.totalMediaNs += Math.round(run.endNs - startNs);
    return { position: p, mediaNs: run.endNs - startNs, endNs: run.endNs };
  }

  private accountPositioning(p: Position): void {
    if (p.distanceCyl > 0) this.stats.seeks++;
    this.stats.totalSeekNs += Math.round(p.seekNs);
    this.stats.totalRotationNs += Math.round(p.rotationNs);
  }

  private beginOp(op: ActuatorOp, endNs: number): void {
    this.actuatorBusy = true;
    const now = this.host.env.nowNs;
    this.host.env.at(Math.max(now, Math.round(endNs)), Priority.URGENT, this.onOpDoneFn, op);
  }

  private readonly onOpDoneFn = (op: ActuatorOp): void => {
    this.onOpDone(op);
  };

  private onOpDone(op: ActuatorOp): void {
    this.actuatorBusy = false;
    switch (op.kind) {
      case 'read':
        // Data is in the buffer; it crosses the link after the media read.
        // SIMPLIFICATION: no overlap of media read and link transfer within one command.
        this.startDma(op.cmd, 'from-device', op.cmd.nrSectors * HDD_SECTOR_BYTES, 'read-complete', -1);
        break;
      case 'write':
        this.complete(op.cmd, 0);
        break;
      case 'destage': {
        const bytes = op.extent.nr * HDD_SECTOR_BYTES;
        this.destaging = null;
        this.dirtySectors -= op.extent.nr;
        this.cacheUsedBytes -= bytes;
        this.stats.destagedWrites++;
        this.stats.destagedBytes += bytes;
        this.tryAdmit();
        this.checkFlushes();
        break;
      }
    }
    this.kick();
  }
}
