// The Ink side of `kiotrace top`: paints the view-model's lines and turns keys into UI state and
// commands for the simulation. Everything shown is decided by buildView; nothing here computes.

import { useEffect, useReducer, useState } from 'react';
import { Box, Text, useApp, useInput, useStdin, useStdout } from 'ink';
import { keysOf, reduceKey, type KeyName, type SimCommand } from './keys.js';
import type { Snapshot } from './snapshot.js';
import { buildView, INITIAL_UI, rowCount, type Line, type Tone, type UiState, type ViewModel } from './view-model.js';

interface ToneStyle {
  readonly color?: string;
  readonly backgroundColor?: string;
  readonly bold?: boolean;
  readonly dimColor?: boolean;
  readonly inverse?: boolean;
}

const TONES: Readonly<Record<Tone, ToneStyle>> = {
  good: { color: 'green' },
  warn: { color: 'yellow' },
  bad: { color: 'red' },
  dim: { dimColor: true },
  accent: { color: 'cyan' },
  title: { bold: true },
  selected: { inverse: true },
  badge: { color: 'black', backgroundColor: 'yellow' },
};

function ScreenLine({ line, color }: { readonly line: Line; readonly color: boolean }) {
  // an empty line still takes its row
  if (line.length === 0) return <Text> </Text>;
  if (!color) return <Text>{line.map((s) => s.text).join('')}</Text>;
  return (
    <Text>
      {line.map((s, i) => (
        <Text key={i} {...(s.tone ? TONES[s.tone] : {})}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
}

/** The screen: one Text per line, nothing else (Ink's cost is per cell, so fewer nodes and glyphs). */
export function Screen({ view, color }: { readonly view: ViewModel; readonly color: boolean }) {
  return (
    <Box flexDirection="column">
      {view.lines.map((line, i) => (
        <ScreenLine key={i} line={line} color={color} />
      ))}
    </Box>
  );
}

/** Where snapshots come from and where commands go: the simulation's worker, or a test. */
export interface SimLink {
  onSnapshot(listener: (s: Snapshot) => void): () => void;
  onStatus(listener: (paused: boolean, speed: number) => void): () => void;
  send(command: SimCommand): void;
}

/** Snapshots kept for the sparklines. */
const HISTORY = 120;

interface State {
  readonly history: readonly Snapshot[];
  readonly ui: UiState;
}

type Action =
  | { readonly type: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly type: 'status'; readonly paused: boolean; readonly speed: number }
  | { readonly type: 'keys'; readonly keys: readonly KeyName[] };

function reducer(state: State, action: Action): State {
  if (action.type === 'snapshot') return { ...state, history: [...state.history.slice(-(HISTORY - 1)), action.snapshot] };
  if (action.type === 'status') {
    const last = state.history[state.history.length - 1];
    if (!last) return state;
    return { ...state, history: [...state.history.slice(0, -1), { ...last, paused: action.paused, speed: action.speed }] };
  }
  // keys go through the reducer so that several key events before a repaint all see fresh state
  let ui = state.ui;
  const last = state.history[state.history.length - 1];
  for (const k of action.keys) ui = reduceKey(ui, k, last?.speed ?? 1, rowCount(last, ui.focus)).ui;
  return ui === state.ui ? state : { ...state, ui };
}

export function TopApp({ link, color }: { readonly link: SimLink; readonly color: boolean }) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const { isRawModeSupported } = useStdin();
  const [state, dispatch] = useReducer(reducer, { history: [], ui: INITIAL_UI });
  const [size, setSize] = useState({ columns: stdout.columns || 120, rows: stdout.rows || 40 });

  useEffect(() => {
    const offSnapshot = link.onSnapshot((snapshot) => dispatch({ type: 'snapshot', snapshot }));
    const offStatus = link.onStatus((paused, speed) => dispatch({ type: 'status', paused, speed }));
    const onResize = (): void => setSize({ columns: stdout.columns || 120, rows: stdout.rows || 40 });
    stdout.on('resize', onResize);
    return () => {
      offSnapshot();
      offStatus();
      stdout.off('resize', onResize);
    };
  }, [link, stdout]);

  useInput(
    (input, key) => {
      const keys = keysOf(input, key);
      let speed = state.history[state.history.length - 1]?.speed ?? 1;
      for (const k of keys) {
        // commands depend on no UI state; the speed walks on within a burst of + or -
        const command = reduceKey(INITIAL_UI, k, speed, 0).command;
        if (command?.kind === 'quit') {
          link.send(command);
          exit();
          return;
        }
        if (command?.kind === 'speed') speed = command.speed;
        if (command) link.send(command);
      }
      dispatch({ type: 'keys', keys });
    },
    // without a TTY on stdin there are no keys (and Ink would throw trying raw mode)
    { isActive: isRawModeSupported === true },
  );

  return <Screen view={buildView(state.history, state.ui, size.columns, size.rows)} color={color} />;
}
