// The Ink side of `kiotrace top`: paints the view-model's lines and turns keys into UI state and
// commands for the simulation. Everything shown is decided by buildView; nothing here computes.

import { useEffect, useReducer, useState } from 'react';
import { Box, Text, useApp, useInput, useStdin, useStdout } from 'ink';
import type { IoRecord } from './inspector.js';
import { keysOf, reduceKey, type KeyName, type SimCommand } from './keys.js';
import type { Snapshot } from './snapshot.js';
import { buildView, drillNames, INITIAL_UI, rowCount, visibleIos, type Line, type Tone, type UiState, type ViewModel } from './view-model.js';

/** SGR codes per tone: one pre-coloured string per line is cheaper for Ink than nested Texts. */
const TONE_SGR: Readonly<Record<Tone, string>> = {
  good: '32',
  warn: '33',
  bad: '31',
  dim: '2',
  accent: '36',
  title: '1',
  selected: '7',
  badge: '30;43',
};

/** A line as text with ANSI colours (or none): Ink measures and paints it as one node. */
export function lineText(line: Line, color: boolean): string {
  let out = '';
  let open: Tone | undefined;
  // trailing blanks are cells Ink would measure every frame for nothing
  let last = line.length - 1;
  while (last >= 0 && line[last]!.text.trim() === '') last--;
  // fewer escape codes, less for Ink to tokenize every frame: runs of one tone share one code,
  // and blanks need none
  for (let i = 0; i <= last; i++) {
    const seg = line[i]!;
    const text = i === last ? seg.text.trimEnd() : seg.text;
    const tone = color && seg.tone && text.trim() !== '' ? seg.tone : undefined;
    if (tone !== open) {
      if (open) out += '\u001b[0m';
      if (tone) out += `\u001b[${TONE_SGR[tone]}m`;
      open = tone;
    }
    out += text;
  }
  if (open) out += '\u001b[0m';
  // an empty line still takes its row
  return out === '' ? ' ' : out;
}

/** The screen: one Text per line, nothing else (Ink's cost is per cell, so fewer nodes and glyphs). */
export function Screen({ view, color }: { readonly view: ViewModel; readonly color: boolean }) {
  return (
    <Box flexDirection="column">
      {view.lines.map((line, i) => (
        <Text key={i}>{lineText(line, color)}</Text>
      ))}
    </Box>
  );
}

/** Where snapshots come from and where commands go: the simulation's worker, or a test. */
export interface SimLink {
  onSnapshot(listener: (s: Snapshot) => void): () => void;
  onStatus(listener: (paused: boolean, speed: number) => void): () => void;
  /** Commands for the simulation (pause, speed, inspect, quit). */
  send(command: SimCommand): void;
  /** Writes one I/O as a Perfetto trace; returns the line to show (where it went, or why not). */
  exportIo(io: IoRecord): string;
}

/** Snapshots kept for the sparklines. */
const HISTORY = 120;

interface State {
  readonly history: readonly Snapshot[];
  readonly ui: UiState;
  /** Commands the keys produced, sent (and cleared) by an effect after the render. */
  readonly outbox: readonly SimCommand[];
}

type Action =
  | { readonly type: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly type: 'status'; readonly paused: boolean; readonly speed: number }
  | { readonly type: 'keys'; readonly keys: readonly KeyName[] }
  | { readonly type: 'sent' }
  | { readonly type: 'message'; readonly text: string };

function reducer(state: State, action: Action): State {
  if (action.type === 'snapshot') return { ...state, history: [...state.history.slice(-(HISTORY - 1)), action.snapshot] };
  if (action.type === 'status') {
    const last = state.history[state.history.length - 1];
    if (!last) return state;
    return { ...state, history: [...state.history.slice(0, -1), { ...last, paused: action.paused, speed: action.speed }] };
  }
  if (action.type === 'sent') return state.outbox.length === 0 ? state : { ...state, outbox: [] };
  if (action.type === 'message') return { ...state, ui: { ...state.ui, message: action.text } };
  // keys go through the reducer so that several key events before a repaint all see fresh state
  let ui = state.ui;
  const outbox = [...state.outbox];
  const last = state.history[state.history.length - 1];
  let speed = last?.speed ?? 1;
  for (const k of action.keys) {
    const r = reduceKey(ui, k, { speed, rows: rowCount(last, ui.focus), ios: visibleIos(last, ui), drill: drillNames(last, ui), hasScript: last?.script !== undefined });
    ui = r.ui;
    for (const c of r.commands) {
      outbox.push(c);
      // a burst of + or - walks on from the speed just asked for
      if (c.kind === 'speed') speed = c.speed;
    }
    if (r.commands.some((c) => c.kind === 'quit')) break;
  }
  return { ...state, ui, outbox };
}

export function TopApp({ link, color }: { readonly link: SimLink; readonly color: boolean }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const { isRawModeSupported } = useStdin();
  const [state, dispatch] = useReducer(reducer, { history: [], ui: INITIAL_UI, outbox: [] });
  const [size, setSize] = useState({ columns: stdout.columns || 120, rows: stdout.rows || 40 });

  useEffect(() => {
    const offSnapshot = link.onSnapshot((snapshot) => dispatch({ type: 'snapshot', snapshot }));
    const offStatus = link.onStatus((paused, speed) => dispatch({ type: 'status', paused, speed }));
    const onResize = (): void => {
      // the terminal has rewrapped the old frame: clear it, or its pieces stay above the new one
      stdout.write('\u001b[2J\u001b[3J\u001b[H');
      setSize({ columns: stdout.columns || 120, rows: stdout.rows || 40 });
    };
    stdout.on('resize', onResize);
    return () => {
      offSnapshot();
      offStatus();
      stdout.off('resize', onResize);
    };
  }, [link, stdout]);

  useEffect(() => {
    if (state.outbox.length === 0) return;
    for (const command of state.outbox) {
      if (command.kind === 'export') dispatch({ type: 'message', text: link.exportIo(command.io) });
      else link.send(command);
      if (command.kind === 'quit') exit();
    }
    dispatch({ type: 'sent' });
  }, [state.outbox, link, exit]);

  useInput(
    (input, key) => dispatch({ type: 'keys', keys: keysOf(input, key) }),
    // without a TTY on stdin there are no keys (and Ink would throw trying raw mode)
    { isActive: isRawModeSupported === true },
  );

  return <Screen view={buildView(state.history, state.ui, size.columns, size.rows)} color={color} />;
}
