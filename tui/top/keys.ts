// Keys of the live view as a pure reducer: one key at a time (a burst typed or pasted arrives as
// one string and is split here), giving the new UI state and what the simulation should do.

import { PANELS, SPEEDS, type UiState } from './view-model.js';

export type KeyName = 'up' | 'down' | 'tab' | 'escape' | 'enter' | { readonly char: string };

export type SimCommand = { readonly kind: 'quit' } | { readonly kind: 'pause' } | { readonly kind: 'speed'; readonly speed: number };

/** What Ink's useInput reports, reduced to the keys we use. */
export function keysOf(input: string, key: { upArrow?: boolean; downArrow?: boolean; tab?: boolean; escape?: boolean; return?: boolean; ctrl?: boolean }): KeyName[] {
  if (key.upArrow) return ['up'];
  if (key.downArrow) return ['down'];
  if (key.tab) return ['tab'];
  if (key.escape) return ['escape'];
  if (key.return) return ['enter'];
  if (key.ctrl && input === 'c') return [{ char: 'q' }];
  // a burst keeps control characters inside the string: name them one by one
  return [...input].map((char): KeyName => (char === '\t' ? 'tab' : char === '\r' ? 'enter' : char === '\u001b' ? 'escape' : { char }));
}

/** The next speed step up (faster) or down from `speed`. */
export function stepSpeed(speed: number, faster: boolean): number {
  // 0 is "max": the fastest step
  const order = SPEEDS;
  const i = order.indexOf(speed);
  const at = i < 0 ? order.indexOf(1) : i;
  return order[Math.max(0, Math.min(order.length - 1, at + (faster ? 1 : -1)))]!;
}

export function reduceKey(ui: UiState, key: KeyName, speed: number, rowsInFocus: number): { ui: UiState; command?: SimCommand } {
  if (key === 'escape') return { ui: { ...ui, help: false } };
  if (key === 'tab') return { ui: { ...ui, focus: PANELS[(PANELS.indexOf(ui.focus) + 1) % PANELS.length]!, selected: 0 } };
  if (key === 'up') return { ui: { ...ui, selected: Math.max(0, ui.selected - 1) } };
  if (key === 'down') return { ui: { ...ui, selected: Math.min(Math.max(0, rowsInFocus - 1), ui.selected + 1) } };
  if (key === 'enter') return { ui };
  const c = key.char;
  if (c === 'q') return { ui, command: { kind: 'quit' } };
  if (c === ' ') return { ui, command: { kind: 'pause' } };
  if (c === '?') return { ui: { ...ui, help: !ui.help } };
  if (c === '+' || c === '=') return { ui, command: { kind: 'speed', speed: stepSpeed(speed, true) } };
  if (c === '-' || c === '_') return { ui, command: { kind: 'speed', speed: stepSpeed(speed, false) } };
  if (c === 'k') return reduceKey(ui, 'up', speed, rowsInFocus);
  if (c === 'j') return reduceKey(ui, 'down', speed, rowsInFocus);
  if (c >= '1' && c <= String(PANELS.length)) return { ui: { ...ui, focus: PANELS[Number(c) - 1]!, selected: 0 } };
  return { ui };
}
