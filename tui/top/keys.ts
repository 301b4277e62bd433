// Keys of the live view as a pure reducer: one key at a time (key-decoder.ts splits what stdin
// gives into keys), giving the new UI state and what the simulation should do.

import type { IoRecord } from './inspector.js';
import { PANELS, SPEEDS, type PanelId, type UiState } from './view-model.js';

/**
 * `interrupt` is Ctrl-C: it quits from anywhere, even while a filter or a path is being typed.
 * `paste` is text the terminal marked as pasted (bracketed paste): typed into a filter or a
 * path, never taken as commands.
 */
export type KeyName = 'up' | 'down' | 'tab' | 'escape' | 'enter' | 'backspace' | 'interrupt' | { readonly char: string } | { readonly paste: string };

/** Characters a filter or an export path may have: enough for any of them, and a bound on what a paste can add. */
export const MAX_TYPED_CHARS = 256;

export type SimCommand =
  | { readonly kind: 'quit' }
  | { readonly kind: 'pause' }
  | { readonly kind: 'speed'; readonly speed: number }
  | { readonly kind: 'inspect'; readonly on: boolean }
  | { readonly kind: 'probes'; readonly on: boolean }
  /** Write `io` as a Perfetto trace to `path` (never over an existing file). */
  | { readonly kind: 'export'; readonly io: IoRecord; readonly path: string };

/** What the reducer needs to know of the screen: the speed, the focused panel's rows, the I/O list. */
export interface KeyContext {
  readonly speed: number;
  readonly rows: number;
  /** The I/O list as shown (filtered and sorted). */
  readonly ios: readonly IoRecord[];
  /** Names of the focused panel's rows that Enter drills into (devices, tasks); may be empty. */
  readonly drill?: readonly string[];
  /** A program is attached (-e --tui): tab visits its maps panel too. */
  readonly hasScript?: boolean;
}

/** `text` with what `key` types added (printable characters, at most MAX_TYPED_CHARS in all); undefined when `key` types nothing. */
function typed(text: string, key: KeyName): string | undefined {
  const added = typeof key !== 'object' ? undefined : 'char' in key ? key.char : key.paste;
  if (added === undefined || added < ' ') return undefined;
  return [...(text + added)].slice(0, MAX_TYPED_CHARS).join('');
}

/** The next speed step up (faster) or down from `speed`. */
export function stepSpeed(speed: number, faster: boolean): number {
  // 0 is "max": the fastest step
  const i = SPEEDS.indexOf(speed);
  const at = i < 0 ? SPEEDS.indexOf(1) : i;
  return SPEEDS[Math.max(0, Math.min(SPEEDS.length - 1, at + (faster ? 1 : -1)))]!;
}

type Result = { readonly ui: UiState; readonly commands: readonly SimCommand[] };

const stay = (ui: UiState): Result => ({ ui, commands: [] });
const send = (ui: UiState, command: SimCommand): Result => ({ ui, commands: [command] });

/**
 * Focus a panel. The I/O inspector and the probes panel cost the simulation speed, so the
 * simulation records for them only while they are open: entering or leaving one says so.
 */
function focus(ui: UiState, to: PanelId): Result {
  const next: UiState = { ...ui, focus: to, selected: 0, openIo: undefined, filtering: false, message: '' };
  const commands: SimCommand[] = [];
  for (const [panel, kind] of [
    ['ios', 'inspect'],
    ['probes', 'probes'],
  ] as const) {
    if ((ui.focus === panel) !== (to === panel)) commands.push({ kind, on: to === panel });
  }
  return { ui: next, commands };
}

/** Moves the I/O list's selection by `delta` rows, by id. */
function moveIo(ui: UiState, ios: readonly IoRecord[], delta: number): UiState {
  if (ios.length === 0) return ui;
  const at = ios.findIndex((io) => io.ioId === ui.selectedIoId);
  const next = at < 0 ? 0 : Math.max(0, Math.min(ios.length - 1, at + delta));
  return { ...ui, selectedIoId: ios[next]!.ioId };
}

/** `text` without its last character (a whole one: never half of a surrogate pair). */
function dropLast(text: string): string {
  return [...text].slice(0, -1).join('');
}

function typeFilter(ui: UiState, key: KeyName): Result {
  if (key === 'enter') return stay({ ...ui, filtering: false });
  if (key === 'escape') return stay({ ...ui, filtering: false, filter: '' });
  if (key === 'backspace') return stay({ ...ui, filter: dropLast(ui.filter) });
  const filter = typed(ui.filter, key);
  return stay(filter === undefined ? ui : { ...ui, filter });
}

/** The export prompt: the path is edited in place; enter writes, esc cancels. */
function typeExportPath(ui: UiState, path: string, key: KeyName): Result {
  if (key === 'escape') return stay({ ...ui, exportPath: undefined, message: '' });
  if (key === 'backspace') return stay({ ...ui, exportPath: dropLast(path) });
  if (key === 'enter') {
    if (path.trim() === '' || !ui.openIo) return stay(ui);
    return send({ ...ui, exportPath: undefined, message: '' }, { kind: 'export', io: ui.openIo, path: path.trim() });
  }
  const exportPath = typed(path, key);
  return stay(exportPath === undefined ? ui : { ...ui, exportPath });
}

/** Where `e` proposes to write an I/O: the working directory, a name saying what it is. */
export function defaultExportPath(io: IoRecord): string {
  return `kiotrace-io-${io.ioId}.pftrace`;
}

export function reduceKey(ui: UiState, key: KeyName, ctx: KeyContext): Result {
  if (key === 'interrupt') return send(ui, { kind: 'quit' });
  if (ui.exportPath !== undefined) return typeExportPath(ui, ui.exportPath, key);
  if (ui.filtering) return typeFilter(ui, key);
  const inIos = ui.focus === 'ios' && !ui.help;
  if (key === 'escape') {
    if (ui.help) return stay({ ...ui, help: false });
    if (inIos && ui.openIo) return stay({ ...ui, openIo: undefined, message: '' });
    if (inIos && ui.filter !== '') return stay({ ...ui, filter: '' });
    return stay({ ...ui, message: '' });
  }
  if (key === 'tab') {
    const panels = ctx.hasScript === true ? PANELS : PANELS.filter((p) => p !== 'maps');
    return focus(ui, panels[(panels.indexOf(ui.focus) + 1) % panels.length]!);
  }
  if (key === 'up' || key === 'down') {
    const delta = key === 'up' ? -1 : 1;
    if (inIos && !ui.openIo) return stay(moveIo(ui, ctx.ios, delta));
    return stay({ ...ui, selected: Math.max(0, Math.min(Math.max(0, ctx.rows - 1), ui.selected + delta)) });
  }
  if (key === 'enter') {
    const name = ctx.drill?.[ui.selected];
    if (!inIos && !ui.help && name !== undefined) {
      // drill down: this device's or task's I/Os in the inspector
      const r = focus(ui, 'ios');
      return { ...r, ui: { ...r.ui, filter: name } };
    }
    if (!inIos || ui.openIo) return stay(ui);
    const io = ctx.ios.find((x) => x.ioId === ui.selectedIoId) ?? ctx.ios[0];
    return stay(io ? { ...ui, openIo: io, selectedIoId: io.ioId } : ui);
  }
  // a paste is text, never commands
  if (key === 'backspace' || 'paste' in key) return stay(ui);
  const c = key.char;
  if (c === 'q') return send(ui, { kind: 'quit' });
  if (c === ' ') return send(ui, { kind: 'pause' });
  if (c === '?') return stay({ ...ui, help: !ui.help });
  if (c === '+' || c === '=') return send(ui, { kind: 'speed', speed: stepSpeed(ctx.speed, true) });
  if (c === '-' || c === '_') return send(ui, { kind: 'speed', speed: stepSpeed(ctx.speed, false) });
  if (c === 'k') return reduceKey(ui, 'up', ctx);
  if (c === 'j') return reduceKey(ui, 'down', ctx);
  if (c === '/' && inIos && !ui.openIo) return stay({ ...ui, filtering: true });
  if (c === 's' && inIos && !ui.openIo) return stay({ ...ui, sortByLatency: !ui.sortByLatency });
  if (c === 's' && (ui.focus === 'tasks' || ui.focus === 'devices')) return stay({ ...ui, sortByIops: !ui.sortByIops });
  if (c === 'e' && inIos && ui.openIo) return stay({ ...ui, exportPath: defaultExportPath(ui.openIo), message: '' });
  if (c >= '1' && c <= String(PANELS.length)) return focus(ui, PANELS[Number(c) - 1]!);
  return stay(ui);
}
