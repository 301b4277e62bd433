// Output of the bpftrace-compatible language, text and JSON, byte for byte as bpftrace HEAD
// prints it (src/output/text.cpp, src/output/json.cpp, src/types_format.cpp): map dumps for
// `print(@m[, top[, div]])` and the end of the run, histograms, printf lines, values, time,
// runtime warnings and lost events. Everything here returns strings; the caller writes them.

import {
  INT64,
  RecordValue,
  PointerValue,
  SymbolValue,
  TupleValue,
  ArrayValue,
  BufferValue,
  valueText,
  type IntType,
  type Value,
} from './values.js';
import {
  compareBytes,
  type BpfMap,
  type KeyFieldType,
  type LhistArgs,
  type MapEntry,
  type TseriesArgs,
  type MapStore,
} from './maps.js';
import { underlinedLine } from './diagnostics.js';

// -------------------------------------------------------------------------------------------
// Histograms

/** A bucket bound. `int` bounds are plain integers (adjacent ones make `[N]` rows); the others are symbolic (`1K`). */
export interface HistLabel {
  readonly text: string;
  readonly num: bigint;
  readonly int: boolean;
}

/** bpftrace's `Value::Histogram`: labels are upper bounds; a missing last label is the open top bucket. */
export interface HistData {
  /** Lower bound of the first printed bucket; undefined when it is the negative bucket. */
  readonly lowerBound: HistLabel | undefined;
  readonly labels: readonly HistLabel[];
  readonly counts: readonly number[];
}

const EMPTY_HIST: HistData = { lowerBound: undefined, labels: [], counts: [] };

function intLabel(n: number): HistLabel {
  return { text: String(n), num: BigInt(n), int: true };
}

/** The start of hist bucket `index` with bits `k`, with a K/M/G/T/P/E suffix per power of 1024. */
function histIndexLabel(index: number, k: number): HistLabel {
  const n = 1 << k;
  const interval = index & (n - 1);
  let power = (index >> k) - 1;
  const value = BigInt.asUintN(64, (1n << BigInt(power)) * BigInt(n + interval));
  const decade = Math.floor(power / 10);
  const suffix = ['', 'K', 'M', 'G', 'T', 'P', 'E'][decade] ?? '';
  power -= 10 * decade;
  const text = ((1n << BigInt(power)) * BigInt(n + interval)).toString() + suffix;
  return { text, num: value, int: false };
}

function usedRange(values: readonly number[]): [number, number] {
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < values.length; i++) {
    if ((values[i] as number) > 0) {
      if (lo === -1) lo = i;
      hi = i;
    }
  }
  return [lo, hi];
}

/** `hist()` buckets (index as `histIndex`) as printed: first to last non-zero bucket, counts / div. */
export function buildHistogram(values: readonly number[], k: number, div = 1): HistData {
  const [lo, hi] = usedRange(values);
  if (lo === -1) return EMPTY_HIST;
  const d = div === 0 ? 1 : div;
  let lowerBound: HistLabel | undefined;
  if (lo !== 0) lowerBound = lo - 1 <= 2 << k ? intLabel(lo - 1) : histIndexLabel(lo - 1, k);
  const labels: HistLabel[] = [];
  const counts: number[] = [];
  for (let i = lo; i <= hi; i++) {
    if (i === 0) labels.push(intLabel(0));
    else if (i <= 2 << k) labels.push(intLabel(i));
    else labels.push(histIndexLabel(i, k));
    counts.push(Math.floor((values[i] as number) / d));
  }
  return { lowerBound, labels, counts };
}

function lhistLabel(n: number, step: number): HistLabel {
  if (step % 1024 !== 0) return intLabel(n);
  let text: string;
  if (n === 0) text = '0';
  else if (n % (1024 * 1024) === 0) text = `${n / (1024 * 1024)}M`;
  else if (n % 1024 === 0) text = `${n / 1024}K`;
  else text = String(n);
  return { text, num: BigInt(n), int: false };
}

/** `lhist()` buckets (index as `lhistIndex`) as printed. bpftrace applies no `div` to lhist. */
export function buildLinearHistogram(values: readonly number[], args: LhistArgs): HistData {
  const { min, max, step } = args;
  const [lo, hi] = usedRange(values);
  if (lo === -1) return EMPTY_HIST;
  const lowerBound = lo !== 0 ? lhistLabel(min + (lo - 1) * step, step) : undefined;
  const labels: HistLabel[] = [];
  const counts: number[] = [];
  for (let i = lo; i <= hi; i++) {
    if (min + i * step <= max) labels.push(lhistLabel(min + i * step, step));
    counts.push(values[i] as number);
  }
  return { lowerBound, labels, counts };
}

function adjacent(a: HistLabel, b: HistLabel): boolean {
  return a.int && b.int && a.num + 1n === b.num;
}

const BAR_WIDTH = 52;

/**
 * Histogram rows: a 16-wide left label, an 8-wide right count, ` |`, a 52-wide bar of `@`
 * (`int(count / (float)max * 52)`, in float as bpftrace computes it), `|`.
 */
export function histText(h: HistData): string {
  let max = 0;
  for (const c of h.counts) if (c > max) max = c;
  const rows = Math.max(h.counts.length, h.labels.length);
  let out = '';
  for (let i = 0; i < rows; i++) {
    let header: string;
    const label = h.labels[i];
    if (i === 0) {
      const lb = h.lowerBound;
      if (lb === undefined) header = `(..., ${label?.text ?? ''})`;
      else if (label === undefined) header = `[${lb.text}, ...)`;
      else if (adjacent(lb, label)) header = `[${lb.text}]`;
      else header = `[${lb.text}, ${label.text})`;
    } else {
      const prev = h.labels[i - 1] as HistLabel;
      if (label === undefined) header = `[${prev.text}, ...)`;
      else if (adjacent(prev, label)) header = `[${prev.text}]`;
      else header = `[${prev.text}, ${label.text})`;
    }
    const count = h.counts[i] ?? 0;
    const bar = max === 0 ? 0 : Math.trunc(Math.fround(Math.fround(Math.fround(count) / Math.fround(max)) * BAR_WIDTH));
    out += header.padEnd(16) + String(count).padStart(8) + ' |' + '@'.repeat(bar).padEnd(BAR_WIDTH) + '|\n';
  }
  return out;
}

// -------------------------------------------------------------------------------------------
// Map dumps: a map formatted, sorted and cut to `top`, ready for a sink

export interface MapDumpEntry {
  readonly key: Value;
  readonly value: Value;
}

export interface HistDumpEntry {
  readonly key: Value;
  readonly hist: HistData;
}

/** One interval of a time series as printed: its start (wall-clock ns) and value (undefined: no value). */
export interface TseriesPoint {
  readonly startNs: bigint;
  readonly value: bigint | undefined;
}

export interface TseriesDumpEntry {
  readonly key: Value;
  readonly series: readonly TseriesPoint[];
}

export type MapDump =
  /** `signed`: int64 values (the graph's bounds may go below 0), else uint64. */
  | { readonly shape: 'tseries'; readonly signed: boolean; readonly series: readonly TseriesPoint[] }
  | { readonly shape: 'keyedTseries'; readonly signed: boolean; readonly entries: readonly TseriesDumpEntry[] }
  /** `@x: 5`; `stats` for avg/stats maps (JSON type "stats"). */
  | { readonly shape: 'scalar'; readonly stats: boolean; readonly value: Value }
  | { readonly shape: 'hist'; readonly hist: HistData }
  | { readonly shape: 'keyed'; readonly stats: boolean; readonly entries: readonly MapDumpEntry[] }
  | { readonly shape: 'keyedHist'; readonly entries: readonly HistDumpEntry[] };

function keyFieldTypeOf(v: Value | undefined): KeyFieldType {
  if (typeof v === 'bigint') return INT64;
  if (typeof v === 'string') return 'string';
  return 'other';
}

function compareField(a: Value | undefined, b: Value | undefined, t: KeyFieldType): number {
  if (t === 'other') return 0;
  if (t === 'string') return typeof a === 'string' && typeof b === 'string' ? compareBytes(a, b) : 0;
  if (typeof a !== 'bigint' || typeof b !== 'bigint') return 0;
  // bpftrace compares integer keys as signed integers of the key's width.
  const x = BigInt.asIntN((t as IntType).bits, a);
  const y = BigInt.asIntN((t as IntType).bits, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** bpftrace `sort_by_key`: tuple keys by field, stable sorts applied last field first. */
function sortByKey(entries: MapEntry[], map: BpfMap): void {
  const first = entries[0];
  if (first === undefined) return;
  const k0 = first.key;
  if (k0 instanceof TupleValue) {
    const n = k0.items.length;
    for (let f = n - 1; f >= 0; f--) {
      const t = map.keyTypes?.[f] ?? keyFieldTypeOf(k0.items[f]);
      if (t === 'other') continue;
      entries.sort((a, b) => compareField((a.key as TupleValue).items[f], (b.key as TupleValue).items[f], t));
    }
    return;
  }
  const t = map.keyTypes?.[0] ?? keyFieldTypeOf(k0);
  if (t !== 'other') entries.sort((a, b) => compareField(a.key, b.key, t));
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function average(e: MapEntry): bigint {
  return e.n === 0n ? 0n : e.acc / e.n;
}

function histTotal(e: MapEntry): number {
  let s = 0;
  if (e.buckets !== null) for (const c of e.buckets) s += c;
  return s;
}

// -------------------------------------------------------------------------------------------
// Time series (bpftrace src/util/tseries.cpp, types_format.cpp build_time_series, text.cpp)

/**
 * A key's slots reduced to epoch -> value (bpftrace's reduce_tseries_value, then emplace: the
 * first value for an epoch stays). A slot never written (or zeroed) holds epoch 0 and gives
 * (0, 0), as bpftrace's reduction of an unused slot does.
 */
function reduceSlots(e: MapEntry, avg: boolean, signed: boolean): Map<bigint, bigint> {
  const out = new Map<bigint, bigint>();
  if (e.slots === null) return out;
  for (const slot of e.slots.values()) {
    if (slot.epoch === 0n) {
      if (!out.has(0n)) out.set(0n, 0n);
      continue;
    }
    if (out.has(slot.epoch)) continue;
    const v = signed ? slot.value : BigInt.asUintN(64, slot.value);
    out.set(slot.epoch, avg && slot.meta !== 0n ? v / (signed ? slot.meta : BigInt.asUintN(64, slot.meta)) : v);
  }
  return out;
}

/** How bpftrace's std::map orders the keys' bytes: strings by bytes, integers little-endian byte by byte. */
function opaqueKeyCompare(a: Value, b: Value): number {
  if (typeof a === 'string' && typeof b === 'string') return compareBytes(a, b);
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    let x = BigInt.asUintN(64, a);
    let y = BigInt.asUintN(64, b);
    for (let i = 0; i < 8; i++, x >>= 8n, y >>= 8n) {
      const d = Number(x & 0xffn) - Number(y & 0xffn);
      if (d !== 0) return d;
    }
  }
  return 0;
}

function dumpTseries(map: BpfMap, entries: MapEntry[], scalar: boolean): MapDump {
  const a: TseriesArgs | undefined = map.tseriesArgs;
  if (a === undefined) return scalar ? { shape: 'tseries', signed: true, series: [] } : { shape: 'keyedTseries', signed: true, entries: [] };
  const reduced = entries.map((e) => ({ key: e.key, values: reduceSlots(e, a.agg === 'avg', a.signed) }));
  reduced.sort((x, y) => (x.key === undefined || y.key === undefined ? 0 : opaqueKeyCompare(x.key, y.key)));
  // the window: the last num_intervals epochs up to the latest of any key (uint64 arithmetic, as bpftrace's)
  let last = -1n;
  for (const r of reduced) for (const epoch of r.values.keys()) if (epoch > last) last = epoch;
  if (last < 0n) last = UINT64_MAX;
  const first = BigInt.asUintN(64, last - BigInt(a.numIntervals) + 1n);
  const build = (values: Map<bigint, bigint>): TseriesPoint[] => {
    let firstSeen = last;
    for (const epoch of values.keys()) if (epoch >= first && epoch < firstSeen) firstSeen = epoch;
    const points: TseriesPoint[] = [];
    for (let epoch = first; epoch <= last; epoch++) {
      if (epoch >= firstSeen) points.push({ startNs: epoch * a.intervalNs, value: values.get(epoch) });
    }
    return points;
  };
  if (scalar) return { shape: 'tseries', signed: a.signed, series: reduced[0] ? build(reduced[0].values) : [] };
  return { shape: 'keyedTseries', signed: a.signed, entries: reduced.map((r) => ({ key: r.key as Value, series: build(r.values) })) };
}

const UINT64_MAX = (1n << 64n) - 1n;

/** Width of the graph, bars included (text.cpp's graph_width), and of the left label column. */
const TSERIES_GRAPH_WIDTH = 53;
const TSERIES_LABEL_PADDING = 21;

/** util::duration_str: the unit the intervals are shown in, as the digits of a second it shows. */
function tseriesUnit(intervalNs: bigint): { readonly name: string; readonly digits: number } {
  if (intervalNs >= 1_000_000_000n) return { name: 's', digits: 0 };
  if (intervalNs >= 1_000_000n) return { name: 'ms', digits: 3 };
  if (intervalNs >= 1000n) return { name: 'μs', digits: 6 };
  return { name: 'ns', digits: 9 };
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** std::setw on a stream: pads to `width` bytes (left- or right-aligned). */
function setw(text: string, width: number, left: boolean): string {
  const pad = ' '.repeat(Math.max(0, width - utf8Length(text)));
  return left ? text + pad : pad + text;
}

/** `(float)a * (float)b / (float)c` truncated to an int, in C's single precision. */
function floatScale(a: number, b: number, c: number): number {
  return Math.trunc(Math.fround(Math.fround(Math.fround(a) * Math.fround(b)) / Math.fround(c)));
}

/** The interval start as text.cpp prints it: %H:%M:%S (UTC here) and the unit's digits of a second. */
function tseriesTime(ns: bigint, digits: number): string {
  const totalS = ns / 1_000_000_000n;
  const sod = Number(totalS % 86400n);
  const two = (n: number): string => String(n).padStart(2, '0');
  const hms = `${two(Math.floor(sod / 3600))}:${two(Math.floor(sod / 60) % 60)}:${two(sod % 60)}`;
  if (digits === 0) return hms;
  const frac = (ns % 1_000_000_000n) / 10n ** BigInt(9 - digits);
  return `${hms}.${String(frac).padStart(digits, '0')}`;
}

/** A time series as bpftrace's text output draws it: one row per interval, `*` at the value. */
export function tseriesText(series: readonly TseriesPoint[], signed: boolean): string {
  if (series.length === 0) return '<no data>';
  let min = series[0]!.value ?? 0n;
  let max = min;
  for (const p of series) {
    if (p.value === undefined) continue;
    if (p.value < min) min = p.value;
    if (p.value > max) max = p.value;
  }
  if (min === max) {
    // room on both sides of a flat line, without going past the type's bounds (try_dec/try_inc)
    if (signed ? min > -(1n << 63n) : min > 0n) min--;
    if (signed ? max < (1n << 63n) - 1n : max < (1n << 64n) - 1n) max++;
  }
  const interval = (series[series.length - 1]!.startNs - series[0]!.startNs) / BigInt(series.length > 1 ? series.length - 1 : 1);
  const unit = tseriesUnit(interval);
  const timeFmt = unit.digits > 0 ? `hh:mm:ss.${unit.name}` : 'hh:mm:ss';
  const timeSize = 8 + (unit.digits > 0 ? 1 + unit.digits : 0);
  const W = TSERIES_GRAPH_WIDTH;
  const bounds = setw(String(min), TSERIES_LABEL_PADDING, true) + setw(String(max), W - TSERIES_LABEL_PADDING, false);
  let out = ' '.repeat(timeSize + 1) + bounds + '\n';
  out += setw(timeFmt, timeSize + 1, true) + '|' + '_'.repeat(W - 2) + '|\n';
  const zeroOffset = min < 0n && max > 0n ? floatScale(W, Number(min), Number(min - max)) : 0;
  for (const p of series) {
    const line = new Array<string>(W).fill(' ');
    line[0] = '|';
    line[W - 1] = '|';
    if (zeroOffset > 0) line[zeroOffset] = '.';
    out += tseriesTime(p.startNs, unit.digits) + ' ';
    if (p.value !== undefined) {
      const at = floatScale(W - 1, Number(p.value - min), Number(max - min));
      line[Math.max(0, Math.min(W - 1, at))] = '*';
      out += line.join('') + ' ' + String(p.value) + '\n';
    } else {
      out += line.join('') + ' -\n';
    }
  }
  out += ' '.repeat(timeSize) + ' v' + '_'.repeat(W - 2) + 'v\n';
  out += ' '.repeat(timeSize) + ' ' + bounds + '\n';
  return out;
}

/** A time series as bpftrace's JSON output writes it: the intervals that have a value. */
export function tseriesJson(series: readonly TseriesPoint[]): string {
  const parts: string[] = [];
  for (const p of series) {
    if (p.value === undefined) continue;
    parts.push(`{"interval_start":"${tseriesIsoTime(p.startNs)}","value":${String(p.value)}}`);
  }
  return '[' + parts.join(',') + ']';
}

/** C++20 chrono's default text of a system-clock time in ns: `1970-01-01 00:00:00.500000000` (UTC). */
function tseriesIsoTime(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms - (ms % 1000));
  const iso = d.toISOString().slice(0, 19).replace('T', ' ');
  return `${iso}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

/**
 * A map as `print(@m, top, div)` and the end of the run show it (bpftrace `format(BpfMap)`):
 * count/sum/int maps and min/max ascending by value, avg/stats by average, hist/lhist by total
 * count, everything else by key; `top` keeps the last `top` entries; `div` divides values.
 * Ties keep key order (bpftrace's order for ties is the kernel hash order).
 */
export function dumpMap(map: BpfMap, top = 0, div = 1): MapDump {
  const d = div === 0 ? 1n : BigInt(div);
  const kind = map.kind ?? 'value';
  const entries = map.entries();
  const scalar = map.scalar !== false;

  if (kind === 'hist' || kind === 'lhist') {
    const build = (e: MapEntry | undefined): HistData => {
      if (e === undefined || e.buckets === null) return EMPTY_HIST;
      if (kind === 'hist') return buildHistogram(e.buckets, map.histBits ?? 0, Number(d));
      return map.lhistArgs === undefined ? EMPTY_HIST : buildLinearHistogram(e.buckets, map.lhistArgs);
    };
    if (scalar) return { shape: 'hist', hist: build(entries[0]) };
    sortByKey(entries, map);
    entries.sort((a, b) => histTotal(a) - histTotal(b));
    const kept = top > 0 && entries.length > top ? entries.slice(entries.length - top) : entries;
    return { shape: 'keyedHist', entries: kept.map((e) => ({ key: e.key as Value, hist: build(e) })) };
  }

  if (kind === 'tseries') return dumpTseries(map, entries, scalar);

  const stats = kind === 'avg' || kind === 'stats';
  const value = (e: MapEntry): Value => {
    switch (kind) {
      case 'count':
      case 'sum':
        return e.acc / d;
      case 'min':
      case 'max':
        return (e.set ? e.acc : 0n) / d;
      case 'avg':
        return average(e) / d;
      case 'stats':
        return new RecordValue([
          ['count', e.n],
          ['average', average(e) / d],
          ['total', e.acc],
        ]);
      default:
        return typeof e.v === 'bigint' ? e.v / d : e.v;
    }
  };

  if (scalar) {
    const e = entries[0];
    if (e !== undefined) return { shape: 'scalar', stats, value: value(e) };
    const zero: Value =
      kind === 'stats'
        ? new RecordValue([
            ['count', 0n],
            ['average', 0n],
            ['total', 0n],
          ])
        : map.get();
    return { shape: 'scalar', stats, value: zero };
  }

  sortByKey(entries, map);
  switch (kind) {
    case 'count':
    case 'sum':
      entries.sort((a, b) => cmpBig(a.acc, b.acc));
      break;
    case 'min':
    case 'max':
      // bpftrace compares min/max values as uint64.
      entries.sort((a, b) => cmpBig(BigInt.asUintN(64, a.set ? a.acc : 0n), BigInt.asUintN(64, b.set ? b.acc : 0n)));
      break;
    case 'avg':
    case 'stats':
      entries.sort((a, b) => cmpBig(average(a), average(b)));
      break;
    default:
      if (entries.every((e) => typeof e.v === 'bigint')) entries.sort((a, b) => cmpBig(a.v as bigint, b.v as bigint));
      break;
  }
  const kept = top > 0 && entries.length > top ? entries.slice(entries.length - top) : entries;
  return { shape: 'keyed', stats, entries: kept.map((e) => ({ key: e.key as Value, value: value(e) })) };
}

// -------------------------------------------------------------------------------------------
// JSON encoding

/** A JSON string as bpftrace escapes it: `\" \\ \n \r \t`, other control characters `\u00XX`. */
export function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c <= 0x1f) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += s[i];
  }
  return out + '"';
}

/** An integer as JSON: a number, or a string when a double cannot hold it exactly. */
export function jsonInt(v: bigint): string {
  return BigInt(Number(v)) === v ? v.toString() : `"${v.toString()}"`;
}

/** A value as bpftrace's JSON output encodes it (tuples/arrays `[1,"a"]`, records `{"a": 1}`). */
export function jsonValue(v: Value): string {
  switch (typeof v) {
    case 'bigint':
      return jsonInt(v);
    case 'string':
      return jsonString(v);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      break;
  }
  if (v instanceof TupleValue || v instanceof ArrayValue) return '[' + v.items.map(jsonValue).join(',') + ']';
  if (v instanceof RecordValue) return '{' + v.fields.map(([n, f]) => jsonString(n) + ': ' + jsonValue(f)).join(', ') + '}';
  if (v instanceof PointerValue) return jsonInt(v.addr);
  if (v instanceof SymbolValue) return jsonInt(BigInt.asUintN(64, v.numeric));
  if (v instanceof BufferValue) return '[' + Array.from(v.bytes, (b) => String(b > 127 ? b - 256 : b)).join(',') + ']';
  return 'null';
}

/** Map keys in JSON: the text form, tuple parentheses stripped, and every space removed but a stack's line indentation. */
export function jsonKey(key: Value): string {
  return jsonString(textKey(key).replace(/(\n +)| /g, (_m, indent: string | undefined) => indent ?? ''));
}

function jsonLabel(l: HistLabel): string {
  return l.int ? jsonInt(BigInt.asIntN(64, l.num)) : jsonInt(l.num);
}

function jsonOneLess(l: HistLabel): string {
  if (l.int) return jsonInt(BigInt.asIntN(64, l.num - 1n));
  return jsonInt(l.num === 0n ? -1n : BigInt.asIntN(64, l.num - 1n));
}

/** Histogram buckets in JSON: `[{"min": 2, "max": 3, "count": 1},...]` (closed intervals). */
export function histJson(h: HistData): string {
  const parts: string[] = [];
  for (let i = 0; i < h.counts.length; i++) {
    let s = '{';
    if (i === 0 && h.lowerBound !== undefined) s += '"min": ' + jsonLabel(h.lowerBound) + ', ';
    else if (i > 0) s += '"min": ' + jsonLabel(h.labels[i - 1] as HistLabel) + ', ';
    const label = h.labels[i];
    if (label !== undefined) s += '"max": ' + jsonOneLess(label) + ', ';
    s += '"count": ' + String(h.counts[i]) + '}';
    parts.push(s);
  }
  return '[' + parts.join(',') + ']';
}

// -------------------------------------------------------------------------------------------
// Locations and runtime warnings

export interface SourceLocation {
  /** `stdin` for -e, else the script path. */
  readonly filename: string;
  readonly line: number;
  /** 1-based first column. */
  readonly col: number;
  /** 1-based column after the last one. */
  readonly colEnd?: number;
  /** The source line, printed under the message with a `~` underline. */
  readonly source?: string;
}

/** A BPF helper failing at run time (bpftrace `RuntimeErrorId::HELPER_ERROR`). */
export interface HelperErrorInfo {
  /** Text-mode message, e.g. maps.ts's MAP_FULL_MESSAGE. */
  readonly msg: string;
  /** Helper name: `map_update_elem`. */
  readonly helper: string;
  /** Negative errno: -7. */
  readonly retcode: number;
  /** strerror(-retcode): the JSON `msg`. */
  readonly errnoText: string;
  readonly loc?: SourceLocation;
}

/**
 * `<file>:<line>:<col>-<colEnd>: LEVEL: msg`, then the source line (tabs as 4 spaces) and a `~`
 * underline of [col, colEnd); without a location just `LEVEL: msg`. Ends with a newline.
 */
export function renderDiagnostic(level: 'ERROR' | 'WARNING', msg: string, loc?: SourceLocation): string {
  if (loc === undefined) return `${level}: ${msg}\n`;
  const range = loc.colEnd !== undefined ? `${loc.col}-${loc.colEnd}` : `${loc.col}`;
  let out = `${loc.filename}:${loc.line}:${range}: ${level}: ${msg}\n`;
  if (loc.source !== undefined) {
    for (const l of underlinedLine(loc.source, loc.col, loc.colEnd ?? loc.col + 1)) out += l + '\n';
  }
  return out;
}

// -------------------------------------------------------------------------------------------
// Sinks

/** Strips a tuple key's parentheses, as bpftrace does for `@m[k1, k2]` (any text in parentheses). */
export function textKey(key: Value): string {
  const s = valueText(key);
  return s.length >= 2 && s[0] === '(' && s[s.length - 1] === ')' ? s.slice(1, -1) : s;
}

/**
 * Producer of bpftrace's output, as strings. printf, print, maps, time, cat, join and system go
 * to stdout; the rest to `diagnosticStream` (stderr in text mode, stdout in JSON mode).
 */
export interface OutputSink {
  readonly format: 'text' | 'json';
  readonly diagnosticStream: 'stdout' | 'stderr';
  /** A printf line (already formatted). */
  printf(text: string): string;
  /** `print(x)` of a non-map value, and `print(@m[k])`. */
  value(v: Value): string;
  /**
   * A map, from dumpMap: `print(@m)` and the end-of-run dump, in pieces of an entry or so each
   * (nothing when nothing is printed): written one by one, a map of a million long keys never
   * has to be one string (V8 refuses strings past 2^29 characters and runs out of heap first).
   */
  map(name: string, dump: MapDump): Iterable<string>;
  /** `time()` output (already strftime-formatted). */
  time(text: string): string;
  cat(text: string): string;
  join(text: string): string;
  /** `system()` output. */
  syscall(text: string): string;
  /** Events dropped between the simulated kernel and user space. */
  lostEvents(count: number): string;
  /** "Attached N probes" (stderr in text mode; suppressed by -q, which the caller handles). */
  attachedProbes(count: number): string;
  /** `errorf()` / `warnf()` from the script. */
  errorf(msg: string, loc: SourceLocation): string;
  warnf(msg: string, loc: SourceLocation): string;
  /** A failed helper, e.g. maps.ts's mapFullError(). */
  helperError(err: HelperErrorInfo): string;
  /** Any other runtime error (divide by zero, ...). */
  runtimeError(msg: string, loc?: SourceLocation): string;
  /** A failure of user space, not of the program (cat() of a missing file): no location, as bpftrace prints it. */
  userSpaceError(msg: string): string;
  /** Before the exit map dump: `\n\n` in text mode, nothing in JSON. */
  end(): string;
}

export class TextSink implements OutputSink {
  readonly format = 'text' as const;
  readonly diagnosticStream = 'stderr' as const;

  printf(text: string): string {
    return text;
  }

  value(v: Value): string {
    return valueText(v) + '\n';
  }

  *map(name: string, dump: MapDump): Iterable<string> {
    switch (dump.shape) {
      case 'scalar':
        yield `${name}: ${valueText(dump.value)}\n`;
        return;
      case 'hist':
        yield `${name}:\n${histText(dump.hist)}\n`;
        return;
      case 'keyed':
        for (const e of dump.entries) yield `${name}[${textKey(e.key)}]: ${valueText(e.value)}\n`;
        return;
      case 'keyedHist':
        for (const e of dump.entries) yield `${name}[${textKey(e.key)}]:\n${histText(e.hist)}\n`;
        return;
      case 'tseries':
        yield `${name}:\n${tseriesText(dump.series, dump.signed)}\n`;
        return;
      case 'keyedTseries':
        for (const e of dump.entries) yield `${name}[${textKey(e.key)}]:\n${tseriesText(e.series, dump.signed)}\n`;
        return;
    }
  }

  time(text: string): string {
    return text;
  }

  cat(text: string): string {
    return text;
  }

  join(text: string): string {
    return text + '\n';
  }

  syscall(text: string): string {
    // the command's output as it wrote it (its own newline included)
    return text;
  }

  lostEvents(count: number): string {
    return `Lost ${count} events\n`;
  }

  attachedProbes(count: number): string {
    return count === 1 ? 'Attached 1 probe\n' : `Attached ${count} probes\n`;
  }

  errorf(msg: string, loc: SourceLocation): string {
    return renderDiagnostic('ERROR', msg, loc);
  }

  warnf(msg: string, loc: SourceLocation): string {
    return renderDiagnostic('WARNING', msg, loc);
  }

  helperError(err: HelperErrorInfo): string {
    return renderDiagnostic('WARNING', `${err.msg}\nAdditional Info - helper: ${err.helper}, retcode: ${err.retcode}`, err.loc);
  }

  runtimeError(msg: string, loc?: SourceLocation): string {
    return renderDiagnostic('WARNING', msg, loc);
  }

  userSpaceError(msg: string): string {
    return `ERROR: ${msg}\n`;
  }

  end(): string {
    return '\n\n';
  }
}

function jsonLoc(loc: SourceLocation | undefined): string {
  if (loc === undefined) return '';
  return `, "filename": ${jsonString(loc.filename)}, "line": ${loc.line}, "col": ${loc.col}`;
}

function jsonRecord(type: string, data: string): string {
  return `{"type": "${type}", "data": ${data}}\n`;
}

export class JsonSink implements OutputSink {
  readonly format = 'json' as const;
  readonly diagnosticStream = 'stdout' as const;

  printf(text: string): string {
    return jsonRecord('printf', jsonString(text));
  }

  value(v: Value): string {
    return jsonRecord('value', jsonValue(v));
  }

  *map(name: string, dump: MapDump): Iterable<string> {
    // one record, `{"type": T, "data": {NAME: DATA}}` as jsonRecord writes it, in pieces
    const record = (type: string): string => `{"type": "${type}", "data": {${jsonString(name)}: `;
    switch (dump.shape) {
      case 'scalar':
        yield jsonRecord(dump.stats ? 'stats' : 'map', `{${jsonString(name)}: ${jsonValue(dump.value)}}`);
        return;
      case 'hist':
        yield jsonRecord('hist', `{${jsonString(name)}: ${histJson(dump.hist)}}`);
        return;
      case 'tseries':
        yield jsonRecord('tseries', `{${jsonString(name)}: ${tseriesJson(dump.series)}}`);
        return;
      case 'keyedTseries': {
        if (dump.entries.length === 0) return;
        yield jsonRecord('tseries', `{${jsonString(name)}: {${dump.entries.map((e) => jsonKey(e.key) + ': ' + tseriesJson(e.series)).join(', ')}}}`);
        return;
      }
      case 'keyed':
      case 'keyedHist': {
        if (dump.entries.length === 0) return;
        yield record(dump.shape === 'keyedHist' ? 'hist' : dump.stats ? 'stats' : 'map') + '{';
        let first = true;
        for (const e of dump.entries) {
          yield (first ? '' : ', ') + jsonKey(e.key) + ': ' + ('hist' in e ? histJson(e.hist) : jsonValue(e.value));
          first = false;
        }
        yield '}}}\n';
        return;
      }
    }
  }

  time(text: string): string {
    return jsonRecord('time', jsonString(text));
  }

  cat(text: string): string {
    return jsonRecord('cat', jsonString(text));
  }

  join(text: string): string {
    return jsonRecord('join', jsonString(text));
  }

  syscall(text: string): string {
    return jsonRecord('syscall', jsonString(text));
  }

  lostEvents(count: number): string {
    return `{"type": "lost_events", "count": ${count}, "data": {"events": ${count}}}\n`;
  }

  attachedProbes(count: number): string {
    return `{"type": "attached_probes", "count": ${count}, "data": {"probes": ${count}}}\n`;
  }

  errorf(msg: string, loc: SourceLocation): string {
    return `{"type": "errorf", "msg": ${jsonString(msg)}${jsonLoc(loc)}}\n`;
  }

  warnf(msg: string, loc: SourceLocation): string {
    return `{"type": "warnf", "msg": ${jsonString(msg)}${jsonLoc(loc)}}\n`;
  }

  helperError(err: HelperErrorInfo): string {
    return `{"type": "helper_error", "msg": ${jsonString(err.errnoText)}, "helper": ${jsonString(err.helper)}, "retcode": ${err.retcode}${jsonLoc(err.loc)}}\n`;
  }

  runtimeError(msg: string, loc?: SourceLocation): string {
    return `{"type": "runtime_error", "msg": ${jsonString(msg)}${jsonLoc(loc)}}\n`;
  }

  userSpaceError(msg: string): string {
    return this.runtimeError(msg);
  }

  end(): string {
    return '';
  }
}

export function createSink(format: 'text' | 'json'): OutputSink {
  return format === 'json' ? new JsonSink() : new TextSink();
}

/** `print(@m)`, `print(@m, top)`, `print(@m, top, div)`: the pieces to write, in order. */
export function printMap(sink: OutputSink, map: BpfMap, top = 0, div = 1): Iterable<string> {
  return sink.map(map.name, dumpMap(map, top, div));
}

/**
 * The end of a run: `end()` (two newlines in text mode), then every non-empty map in name order,
 * unless `printMaps` is false (`config = { print_maps_on_exit = 0 }`).
 */
export function* printMapsAtExit(sink: OutputSink, store: MapStore, printMaps = true): Iterable<string> {
  const end = sink.end();
  if (end !== '') yield end;
  if (printMaps) yield* printNonEmptyMaps(sink, store);
}

/** Every non-empty map in name order, as `print(@m)` prints it, in pieces. */
export function* printNonEmptyMaps(sink: OutputSink, store: MapStore): Iterable<string> {
  for (const m of store.maps()) {
    if (m.size === 0) continue;
    yield* sink.map(m.name, dumpMap(m));
  }
}
