// The live view as a pure function: (recent snapshots, UI state, terminal size) -> lines of
// styled text. Ink only paints what this returns, the plain-text mode prints the same lines,
// and tests compare them exactly.

import { parseDuration, printable } from '../units.js';
import { cellWidth, fitCells } from './cells.js';
import type { IoRecord } from './inspector.js';
import type { Snapshot } from './snapshot.js';

/** How a piece of text should look; the renderer maps tones to colours (or to nothing). */
export type Tone = 'good' | 'warn' | 'bad' | 'dim' | 'accent' | 'title' | 'selected' | 'badge';

export interface Segment {
  readonly text: string;
  readonly tone?: Tone;
}

export type Line = readonly Segment[];

export type PanelId = 'devices' | 'cache' | 'cpus' | 'tasks' | 'probes' | 'ios' | 'maps';
/** Panel order for tab and the number keys; probes, ios (the I/O inspector) and maps have the screen to themselves. */
export const PANELS: readonly PanelId[] = ['devices', 'cache', 'cpus', 'tasks', 'probes', 'ios', 'maps'];
const PANEL_TITLES: Readonly<Record<PanelId, string>> = {
  devices: 'Devices',
  cache: 'Page cache',
  cpus: 'CPUs',
  tasks: 'Tasks',
  probes: 'Top probes',
  ios: 'I/O inspector',
  maps: 'Program maps',
};

export interface UiState {
  /** False for the plain-text mode: no focus or selection markers. */
  readonly interactive: boolean;
  readonly focus: PanelId;
  /** Selected row in the focused panel. */
  readonly selected: number;
  readonly help: boolean;
  /** The I/O list's selection, by id, so it stays put while the list moves. */
  readonly selectedIoId: number;
  /** The I/O whose waterfall is open; kept even after it leaves the recent list. */
  readonly openIo: IoRecord | undefined;
  /** The I/O list's filter (task, device or origin), and whether it is being typed. */
  readonly filter: string;
  readonly filtering: boolean;
  readonly sortByLatency: boolean;
  /** Tasks and devices by IOPS, busiest first, instead of as the scenario lists them. */
  readonly sortByIops: boolean;
  /** The export prompt's path while it is being typed; undefined when the prompt is closed. */
  readonly exportPath: string | undefined;
  /** A one-line message (what an export wrote). */
  readonly message: string;
}

export const INITIAL_UI: UiState = {
  interactive: true,
  focus: 'devices',
  selected: 0,
  help: false,
  selectedIoId: 0,
  openIo: undefined,
  filter: '',
  filtering: false,
  sortByLatency: false,
  sortByIops: false,
  exportPath: undefined,
  message: '',
};
export const PLAIN_UI: UiState = { ...INITIAL_UI, interactive: false };

export interface ViewModel {
  readonly lines: readonly Line[];
}

/** Simulated-speed steps that + and - walk through (0 = as fast as it goes). */
export const SPEEDS: readonly number[] = [0.001, 0.01, 0.1, 0.25, 0.5, 1, 2, 5, 10, 100, 0];

// ---- units ------------------------------------------------------------------------------

export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
  if (a >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return a >= 10 || n === 0 ? n.toFixed(0) : n.toFixed(1);
}

export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v.toFixed(0)} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]!}`;
}

export function fmtNs(ns: number): string {
  if (ns <= 0) return '-';
  if (ns < 1_000) return `${ns.toFixed(0)} ns`;
  if (ns < 1_000_000) return `${(ns / 1e3).toFixed(ns < 10_000 ? 1 : 0)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1e6).toFixed(ns < 10_000_000 ? 1 : 0)} ms`;
  const sec = ns / 1e9;
  return `${sec.toFixed(sec < 10 ? 2 : sec < 100 ? 1 : 0)} s`;
}

export function fmtSpeed(speed: number): string {
  return speed === 0 ? 'max' : `${speed}x`;
}

const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

/** Latency tone: under 1 ms fine, under 10 ms slow, beyond that bad. */
function latencyTone(ns: number): Tone | undefined {
  if (ns <= 0) return undefined;
  return ns < 1_000_000 ? 'good' : ns < 10_000_000 ? 'warn' : 'bad';
}

function loadTone(x: number): Tone {
  return x < 0.7 ? 'good' : x < 0.9 ? 'warn' : 'bad';
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** A sparkline of the last `width` values, scaled to their maximum. */
export function sparkline(values: readonly number[], width: number): string {
  const recent = values.slice(-width);
  const max = Math.max(0, ...recent);
  let s = '';
  for (const v of recent) s += max <= 0 ? ' ' : BLOCKS[Math.min(7, Math.floor((v / max) * 7.999))]!;
  return s.padEnd(width);
}

/** A horizontal bar of `width` cells for a 0..1 share (full blocks, then a light shade). */
function bar(share: number, width: number): string {
  const full = Math.round(Math.max(0, Math.min(1, share)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** `text` in a column `width` cells wide: cut with an ellipsis, or padded (by cells: a wide name keeps the columns after it in place). */
const cell = (text: string, width: number, right = false): string => {
  const t = cellWidth(text) > width ? fitCells(text, width - 1) + '…' : text;
  const pad = ' '.repeat(Math.max(0, width - cellWidth(t)));
  return right ? pad + t : t + pad;
};

// ---- panels -------------------------------------------------------------------------------

function title(id: PanelId, ui: UiState, extra = ''): Line {
  const focused = ui.interactive && ui.focus === id;
  return [{ text: `${focused ? '▶ ' : '  '}${PANEL_TITLES[id]}`, tone: 'title' }, { text: extra, tone: 'dim' }];
}

/** Rows in the order shown: as listed, or by IOPS when `s` says so; with their index in the snapshot. */
function ordered<T extends { readonly iops: number }>(items: readonly T[], ui: UiState): { item: T; index: number }[] {
  const rows = items.map((item, index) => ({ item, index }));
  return ui.sortByIops ? rows.sort((a, b) => b.item.iops - a.item.iops || a.index - b.index) : rows;
}

function row(ui: UiState, id: PanelId, index: number, segments: Segment[]): Line {
  const selected = ui.interactive && ui.focus === id && ui.selected === index;
  return [{ text: selected ? '> ' : '  ', tone: selected ? 'selected' : undefined }, ...segments];
}

/** The device-status table's states: failed is bad, suspended dim (saving power), busy loaded. */
const STATE_TONES: Readonly<Record<string, Tone | undefined>> = { idle: undefined, busy: 'accent', suspended: 'dim', failed: 'bad' };

function devicesPanel(history: readonly Snapshot[], ui: UiState, width: number): Line[] {
  const s = history[history.length - 1]!;
  // two sparklines side by side: IOPS and p99 latency, over the same samples
  const sparkWidth = Math.max(6, Math.floor((width - 111) / 2));
  const lines: Line[] = [title('devices', ui)];
  lines.push([{ text: `  ${cell('DEVICE', 10)}${cell('STATE', 10)}${cell('SCHED', 12)}${cell('IOPS', 8, true)}${cell('MiB/s', 9, true)}${cell('QD', 5, true)}${cell('p50', 10, true)}${cell('p99', 10, true)}${cell('MERGE/s', 9, true)}${cell('UTIL', 6, true)}  ${cell('IOPS', sparkWidth)} p99`, tone: 'dim' }]);
  ordered(s.devices, ui).forEach(({ item: d, index: i }, at) => {
    const iopsHistory = history.map((h) => h.devices[i]?.iops ?? 0);
    const p99History = history.map((h) => h.devices[i]?.p99Ns ?? 0);
    lines.push(
      row(ui, 'devices', at, [
        { text: cell(printable(d.name), 10) },
        { text: cell(d.status.state, 10), tone: STATE_TONES[d.status.state] },
        { text: cell(d.scheduler, 12) + cell(fmtCount(d.iops), 8, true) + cell((d.bytesPerSec / 1048576).toFixed(1), 9, true) + cell(String(d.queueDepth), 5, true) },
        { text: cell(fmtNs(d.p50Ns), 10, true), tone: latencyTone(d.p50Ns) },
        { text: cell(fmtNs(d.p99Ns), 10, true), tone: latencyTone(d.p99Ns) },
        { text: cell(fmtCount(d.mergesPerSec), 9, true) },
        { text: cell(pct(d.utilization), 6, true), tone: loadTone(d.utilization) },
        { text: '  ' + sparkline(iopsHistory, sparkWidth), tone: 'accent' },
        { text: ' ' + sparkline(p99History, sparkWidth), tone: latencyTone(d.p99Ns) ?? 'accent' },
      ]),
    );
    // the selected device's status-table entry: type, address, the request in progress
    if (ui.interactive && ui.focus === 'devices' && ui.selected === at) {
      const st = d.status;
      lines.push([{ text: `    ${st.type} ${st.devt}  ${printable(st.address)}  ${st.request === '' ? 'no request in progress' : `in progress: ${printable(st.request)}`}`, tone: 'dim' }]);
    }
  });
  return lines;
}

function cachePanel(s: Snapshot, ui: UiState): Line[] {
  const c = s.pageCache;
  return [
    title('cache', ui),
    [
      { text: '  hit ratio ' },
      { text: c.lookupsPerSec > 0 ? `${(c.hitRatio * 100).toFixed(1)}%` : '-', tone: c.lookupsPerSec > 0 ? (c.hitRatio >= 0.9 ? 'good' : c.hitRatio >= 0.5 ? 'warn' : 'bad') : undefined },
      { text: `   lookups ${fmtCount(c.lookupsPerSec)}/s   readahead ${fmtBytes(c.readaheadBytesPerSec)}/s   dirty ${fmtBytes(c.dirtyBytes)}   writeback ${fmtBytes(c.writebackBytes)}   cached ${fmtBytes(c.cachedBytes)}` },
    ],
    // the memory-pressure side: reclaim and its misses (refaults), direct-reclaim stalls and dirty throttling
    [
      { text: `  reclaim scanned ${fmtCount(c.scannedPerSec)}/s   stolen ${fmtCount(c.stolenPerSec)}/s   refaults ` },
      { text: `${fmtCount(c.refaultsPerSec)}/s`, tone: c.refaultsPerSec > 0 ? 'warn' : undefined },
      { text: '   direct stalls ' },
      { text: `${fmtCount(c.allocStallsPerSec)}/s`, tone: c.allocStallsPerSec > 0 ? 'bad' : undefined },
      { text: '   dirty throttled ' },
      { text: c.throttlePausesPerSec > 0 ? `${fmtCount(c.throttlePausesPerSec)}/s, ${fmtNs(c.throttleMeanPauseNs)} each` : '0/s', tone: c.throttlePausesPerSec > 0 ? 'warn' : undefined },
    ],
  ];
}

function cpusPanel(s: Snapshot, ui: UiState): Line[] {
  const lines: Line[] = [title('cpus', ui, `   context switches ${fmtCount(s.contextSwitchesPerSec)}/s`)];
  lines.push([{ text: `  ${cell('CPU', 5)}${cell('UTIL', 18)}${cell('RUNQ', 6, true)}${cell('IRQ/s', 9, true)}`, tone: 'dim' }]);
  s.cpus.forEach((c, i) => {
    lines.push(
      row(ui, 'cpus', i, [
        { text: cell(String(i), 5) },
        { text: bar(c.utilization, 12), tone: loadTone(c.utilization) },
        { text: cell(pct(c.utilization), 6, true) },
        { text: cell(String(c.runQueue), 6, true) + cell(fmtCount(c.irqsPerSec), 9, true) },
      ]),
    );
  });
  return lines;
}

const STATE_NAMES: Readonly<Record<string, string>> = { R: 'R run', S: 'S sleep', D: 'D I/O', X: 'X exit' };

function tasksPanel(s: Snapshot, ui: UiState): Line[] {
  const lines: Line[] = [title('tasks', ui)];
  lines.push([{ text: `  ${cell('TASK', 16)}${cell('PID', 6, true)}  ${cell('STATE', 8)}${cell('IOPS', 8, true)}${cell('MiB/s', 9, true)}${cell('p50', 10, true)}${cell('p99', 10, true)}`, tone: 'dim' }]);
  ordered(s.tasks, ui).forEach(({ item: t }, i) => {
    lines.push(
      row(ui, 'tasks', i, [
        { text: cell(printable(t.name), 16) + cell(String(t.pid), 6, true) + '  ' },
        { text: cell(STATE_NAMES[t.state] ?? t.state, 8), tone: t.state === 'D' ? 'warn' : t.state === 'X' ? 'dim' : undefined },
        { text: cell(fmtCount(t.iops), 8, true) + cell((t.bytesPerSec / 1048576).toFixed(1), 9, true) },
        { text: cell(fmtNs(t.p50Ns), 10, true), tone: latencyTone(t.p50Ns) },
        { text: cell(fmtNs(t.p99Ns), 10, true), tone: latencyTone(t.p99Ns) },
      ]),
    );
  });
  return lines;
}

export const KEY_HELP: readonly (readonly [string, string])[] = [
  ['space', 'pause / resume the simulation'],
  ['+ / -', 'run faster / slower (1x = 1 simulated ms per wall ms; max = as fast as it goes)'],
  ['tab / 1-7', 'focus the next panel / panel N (5: top probes, 6: the I/O inspector, 7: the program\'s maps)'],
  ['↑ ↓  k j', 'select a row in the focused panel'],
  ['enter', 'on a device or task: its I/Os in the inspector; in the inspector: the waterfall'],
  ['esc', 'back (close the waterfall, clear the filter, close this help)'],
  ['/', 'I/O inspector: filter by task, device, origin or latency (>1ms, <100us); enter keeps it, esc clears'],
  ['s', 'sort: tasks and devices by IOPS / as listed; the I/O inspector by latency / by time'],
  ['e', 'waterfall: export this I/O as a Perfetto trace (asks where; never writes over a file)'],
  ['?', 'show or hide this help'],
  ['q', 'quit'],
];

/** A speed as a ratio with two or three significant digits: 0.42, 3.10, 12.5, 250. */
function fmtRatio(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function header(s: Snapshot): Line {
  const done = s.simNs >= s.endNs;
  const state: Segment = done ? { text: ' DONE ', tone: 'badge' } : s.paused ? { text: ' PAUSED ', tone: 'badge' } : { text: '● running', tone: 'good' };
  // the speed it really ran at when that fell short of the speed asked for
  const behind = s.behind && s.achievedSpeed !== undefined && !done && !s.paused;
  return [
    { text: 'kiotrace top', tone: 'title' },
    { text: `  ${printable(s.scenario)}  seed ${s.seed}  sim ${fmtNs(s.simNs)} / ${fmtNs(s.endNs)}  speed ` },
    behind ? { text: `${fmtRatio(s.achievedSpeed!)}x of ${fmtSpeed(s.speed)}, behind`, tone: 'warn' } : { text: fmtSpeed(s.speed) },
    { text: `  ${fmtCount(s.eventsPerSec)} events/s  ` },
    state,
  ];
}

const FOOTER: Line = [{ text: 'q quit  space pause  +/- speed  tab panel  ↑↓ select  ? help', tone: 'dim' }];

// ---- the attached program's maps ---------------------------------------------------------------

/** The maps as bpftrace prints them (hist/lhist as bars, counts sorted), then the program's output. */
function mapsPanel(s: Snapshot, ui: UiState, maxRows: number): Line[] {
  const lines: Line[] = [title('maps', ui, s.script ? (s.script.exited ? '   the program called exit()' : '   live, as bpftrace prints them') : '')];
  if (!s.script) {
    lines.push([{ text: "  no program attached: run kiotrace -e 'PROGRAM' --tui (or FILE.bt --tui)", tone: 'dim' }]);
    return lines;
  }
  const maps = s.script.maps.replace(/\n+$/, '').split('\n');
  const output = s.script.output;
  const room = Math.max(1, maxRows);
  // the maps first; the program's latest printf lines in what is left
  const mapRows = maps.length > 0 && maps[0] !== '' ? maps.slice(0, room) : [];
  for (const l of mapRows) lines.push([{ text: '  ' + printable(l) }]);
  if (mapRows.length === 0) lines.push([{ text: '  (no map has entries yet)', tone: 'dim' }]);
  const left = room - mapRows.length - 1;
  if (output.length > 0 && left > 0) {
    lines.push([{ text: '  output', tone: 'dim' }]);
    for (const l of output.slice(-left + 1)) lines.push([{ text: '  ' + printable(l) }]);
  }
  return lines;
}

// ---- top probes -------------------------------------------------------------------------------

function probesPanel(s: Snapshot, ui: UiState, maxRows: number): Line[] {
  const total = s.probes.reduce((a, p) => a + p.perSec, 0);
  const lines: Line[] = [title('probes', ui, '   hits per simulated second, every probe site counted while this panel is open')];
  lines.push([{ text: `  ${cell('#', 4)}${cell('PROBE', 52)}${cell('HITS/s', 10, true)}${cell('TOTAL', 10, true)}${cell('SHARE', 8, true)}`, tone: 'dim' }]);
  if (s.probes.length === 0) lines.push([{ text: '  counting probe hits…', tone: 'dim' }]);
  s.probes.slice(0, maxRows).forEach((p, i) => {
    const share = total > 0 ? p.perSec / total : 0;
    lines.push(
      row(ui, 'probes', i, [
        { text: cell(String(i + 1), 4) + cell(p.name, 52) + cell(fmtCount(p.perSec), 10, true) + cell(fmtCount(p.total), 10, true) + cell(pct(share), 8, true) + '  ' },
        { text: bar(share, 20), tone: 'accent' },
      ]),
    );
  });
  return lines;
}

// ---- the I/O inspector ------------------------------------------------------------------------

/**
 * The I/Os the list shows: filtered, then newest first or slowest first. A filter is words that
 * must all match: text (task, device or origin), or a latency bound like `>1ms` or `<100us`.
 */
export function visibleIos(s: Snapshot | undefined, ui: UiState): IoRecord[] {
  const words = ui.filter.toLowerCase().split(/\s+/).filter((w) => w !== '');
  const tests = words.map((w): ((io: IoRecord) => boolean) => {
    const bound = /^([<>])(.+)$/.exec(w);
    const ns = bound ? parseDuration(bound[2]!, 'us') : undefined;
    if (bound && ns !== undefined) return bound[1] === '>' ? (io) => io.durationNs > ns : (io) => io.durationNs < ns;
    return (io) => `${io.origin} ${io.task} ${io.device}`.toLowerCase().includes(w);
  });
  const list = (s?.ios ?? []).filter((io) => tests.every((t) => t(io)));
  return ui.sortByLatency ? list.sort((a, b) => b.durationNs - a.durationNs || b.ioId - a.ioId) : list.reverse();
}

function ioListPanel(s: Snapshot, ui: UiState, maxRows: number): Line[] {
  const all = visibleIos(s, ui);
  // a window of the list that keeps the selected row on screen
  const at = Math.max(0, all.findIndex((io) => io.ioId === ui.selectedIoId));
  const first = Math.max(0, Math.min(at - Math.floor(maxRows / 2), all.length - maxRows));
  const list = all.slice(first, first + Math.max(1, maxRows));
  const filter = ui.filtering ? `   filter: ${printable(ui.filter)}█` : ui.filter !== '' ? `   filter: ${printable(ui.filter)}` : '';
  const lines: Line[] = [title('ios', ui, `   ${all.length} of ${s.ios.length} recent I/Os, ${ui.sortByLatency ? 'slowest' : 'newest'} first${filter}`)];
  lines.push([{ text: `  ${cell('IOID', 9)}${cell('ORIGIN', 14)}${cell('TASK', 16)}${cell('DEVICE', 10)}${cell('STARTED', 11, true)}${cell('LATENCY', 11, true)}${cell('LAYERS', 8, true)}`, tone: 'dim' }]);
  if (s.ios.length === 0) lines.push([{ text: '  recording I/Os (a few per task and kind every 10 ms of simulated time; the last ones of every device kept)…', tone: 'dim' }]);
  for (const io of list) {
    const selected = ui.interactive && io.ioId === ui.selectedIoId;
    lines.push([
      { text: selected ? '> ' : '  ', tone: selected ? 'selected' : undefined },
      { text: cell(String(io.ioId), 9) + cell(printable(io.origin), 14) + cell(printable(io.task), 16) + cell(printable(io.device) || '-', 10) + cell(fmtNs(io.startNs), 11, true) },
      { text: cell(fmtNs(io.durationNs), 11, true), tone: io.error ? 'bad' : latencyTone(io.durationNs) },
      { text: cell(String(io.layers.length), 8, true) },
    ]);
  }
  return lines;
}

/** Time in a layer not covered by its children: where the I/O waited in that layer itself. */
export function selfTimeNs(io: IoRecord, index: number): number {
  const l = io.layers[index]!;
  const children: [number, number][] = [];
  for (let i = index + 1; i < io.layers.length && io.layers[i]!.depth > l.depth; i++) {
    const c = io.layers[i]!;
    if (c.depth === l.depth + 1) children.push([Math.max(l.startNs, c.startNs), Math.min(l.endNs, c.endNs)]);
  }
  children.sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let until = l.startNs;
  for (const [a, b] of children) {
    if (b <= until) continue;
    covered += b - Math.max(a, until);
    until = b;
  }
  return Math.max(0, l.endNs - l.startNs - covered);
}

function waterfall(io: IoRecord, width: number, exportPath: string | undefined): Line[] {
  const axis = Math.max(16, width - 78);
  const total = Math.max(1, io.durationNs);
  const lines: Line[] = [
    [
      { text: `I/O ${io.ioId}`, tone: 'title' },
      { text: `  ${printable(io.origin)} by ${printable(io.task)} (pid ${io.pid})${io.device ? ` on ${printable(io.device)}` : ''}  ` },
      { text: fmtNs(io.durationNs), tone: io.error ? 'bad' : latencyTone(io.durationNs) },
      { text: `  started at ${fmtNs(io.startNs)}${io.error ? '  FAILED' : ''}` },
    ],
    [{ text: `  ${cell('LAYER', 28)}${cell('START', 10, true)}${cell('DURATION', 10, true)}${cell('WAIT', 10, true)}  ${cell('DETAIL', 14)}  ${'time →'.padEnd(axis)}`, tone: 'dim' }],
  ];
  io.layers.forEach((l, i) => {
    const from = Math.min(axis - 1, Math.floor(((l.startNs - io.startNs) / total) * axis));
    const to = Math.max(from + 1, Math.min(axis, Math.ceil(((l.endNs - io.startNs) / total) * axis)));
    lines.push([
      { text: `  ${cell('  '.repeat(l.depth) + printable(l.name), 28)}${cell(`+${fmtNs(l.startNs - io.startNs).replace('-', '0 ns')}`, 10, true)}${cell(fmtNs(l.endNs - l.startNs), 10, true)}${cell(fmtNs(selfTimeNs(io, i)), 10, true)}  ${cell(printable(l.detail), 14)}  ` },
      { text: ' '.repeat(from) + '█'.repeat(to - from), tone: l.error ? 'bad' : 'accent' },
    ]);
  });
  if (io.faultChain) {
    const c = io.faultChain;
    lines.push([]);
    lines.push([{ text: '  fault chain  ', tone: 'title' }, { text: `VA 0x${c.va.toString(16)} -> VPN 0x${c.vpn.toString(16)} -> inode ${c.inode}, pgoff ${c.pgoff}` }]);
    // block -1: the page was already being read by another I/O (readahead); this fault waited for it
    lines.push([
      {
        text: c.block >= 0 ? `               -> block ${c.block} -> sector ${c.sector} -> PFN 0x${c.pfn.toString(16)}` : `               -> page already being read by another I/O (no block of its own) -> PFN 0x${c.pfn.toString(16)}`,
      },
    ]);
  }
  lines.push([]);
  lines.push(
    exportPath !== undefined
      ? [{ text: '  export to: ', tone: 'title' }, { text: `${printable(exportPath)}█` }, { text: '   enter writes it (never over an existing file), esc cancels', tone: 'dim' }]
      : [{ text: '  e export this I/O as a Perfetto trace   esc back to the list', tone: 'dim' }],
  );
  return lines;
}

/** What is known before the first snapshot, for the first frame. */
export interface StartInfo {
  readonly scenario: string;
  readonly seed: number;
  readonly speed: number;
}

/** The frame before the first snapshot: what is starting, and the keys (q works already). */
function startingLines(start: StartInfo | undefined): Line[] {
  const what = start ? `  ${printable(start.scenario)}  seed ${start.seed}  speed ${fmtSpeed(start.speed)}  ` : '  ';
  return [[{ text: 'kiotrace top', tone: 'title' }, { text: what }, { text: 'starting the simulation…', tone: 'dim' }], FOOTER];
}

/** The whole screen for the latest snapshot (the last of `history`), at most `rows - 1` lines. */
export function buildView(history: readonly Snapshot[], ui: UiState, columns: number, rows: number, start?: StartInfo): ViewModel {
  const s = history[history.length - 1];
  // laid out for at least 60 columns, cut to the terminal's: a narrower one sees the left part
  const width = Math.max(60, columns);
  const fit = (lines: Line[]): ViewModel => ({ lines: lines.map((l) => clip(l, Math.max(1, columns))) });
  if (!s) return fit(startingLines(start));
  let body: Line[];
  if (ui.help) {
    body = [[{ text: 'Keys', tone: 'title' }], ...KEY_HELP.map(([k, what]): Line => [{ text: `  ${cell(k, 12)}`, tone: 'accent' }, { text: what }])];
  } else if (ui.focus === 'ios' && ui.openIo) {
    body = waterfall(ui.openIo, width, ui.exportPath);
  } else if (ui.focus === 'ios') {
    body = ioListPanel(s, ui, Math.max(1, rows - 6));
  } else if (ui.focus === 'probes') {
    body = probesPanel(s, ui, Math.max(1, rows - 6));
  } else if (ui.focus === 'maps') {
    body = mapsPanel(s, ui, Math.max(1, rows - 5));
  } else {
    body = [...devicesPanel(history, ui, width), [], ...cachePanel(s, ui), [], ...cpusPanel(s, ui), [], ...tasksPanel(s, ui)];
    // an attached program's maps go under the dashboard, as far as the screen reaches
    const room = rows - 3 - body.length - 2;
    if (s.script && room >= 3) body = [...body, [], ...mapsPanel(s, ui, room - 1)];
  }
  if (ui.message !== '') body = [...body, [], [{ text: printable(ui.message), tone: 'accent' }]];
  const maxBody = Math.max(1, rows - 3);
  const lines: Line[] = [header(s), ...body.slice(0, maxBody), FOOTER];
  return fit(lines);
}

/** Cuts a line to `width` terminal cells, so the frame never wraps. */
function clip(line: Line, width: number): Line {
  const out: Segment[] = [];
  let left = width;
  for (const seg of line) {
    if (left <= 0) break;
    const text = fitCells(seg.text, left);
    out.push(seg.tone ? { text, tone: seg.tone } : { text });
    left -= cellWidth(text);
  }
  return out;
}

/** Rows the focused panel has (for moving the selection). */
export function rowCount(s: Snapshot | undefined, focus: PanelId): number {
  if (!s) return 0;
  return focus === 'devices' ? s.devices.length : focus === 'cpus' ? s.cpus.length : focus === 'tasks' ? s.tasks.length : focus === 'ios' ? s.ios.length : focus === 'probes' ? s.probes.length : 0;
}

/** The names of the focused panel's rows, where Enter can drill down into the I/O inspector. */
export function drillNames(s: Snapshot | undefined, ui: UiState): string[] {
  const focus = ui.focus;
  if (!s) return [];
  return focus === 'devices' ? ordered(s.devices, ui).map((r) => r.item.name) : focus === 'tasks' ? ordered(s.tasks, ui).map((r) => r.item.name) : [];
}

/** A line as plain text (the no-TTY mode and tests). */
export function plainText(line: Line): string {
  return line.map((s) => s.text).join('').trimEnd();
}
