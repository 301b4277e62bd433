// The Ink side of `kiotrace top`: paints the view-model's lines and turns keys into UI state and
// commands for the simulation. Everything shown is decided by buildView; nothing here computes.

import { Component, useEffect, useReducer, useState, type ReactNode } from 'react';
import { Box, Text, useApp, useStdin, useStdout } from 'ink';
import { lineText } from './ansi.js';
import type { IoRecord } from './inspector.js';
import { ESCAPE_WAIT_MS, KeyDecoder } from './key-decoder.js';
import { reduceKey, type KeyName, type SimCommand } from './keys.js';
import type { Snapshot } from './snapshot.js';
import { buildView, drillNames, INITIAL_UI, rowCount, visibleIos, type StartInfo, type UiState, type ViewModel } from './view-model.js';


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
  /** Writes one I/O as a Perfetto trace to `path`, never over an existing file; the line to show says where it went, or why not. */
  exportIo(io: IoRecord, path: string): ExportResult | Promise<ExportResult>;
}

export interface ExportResult {
  readonly ok: boolean;
  readonly text: string;
}

/** Snapshots kept for the sparklines. */
const HISTORY = 120;

/** A command waiting to be sent, numbered so that acknowledging it never drops a later one. */
interface Outgoing {
  readonly seq: number;
  readonly command: SimCommand;
}

interface State {
  readonly history: readonly Snapshot[];
  readonly ui: UiState;
  /** Commands the keys produced, sent by an effect after the render and then acknowledged. */
  readonly outbox: readonly Outgoing[];
  readonly nextSeq: number;
}

type Action =
  | { readonly type: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly type: 'status'; readonly paused: boolean; readonly speed: number }
  | { readonly type: 'keys'; readonly keys: readonly KeyName[] }
  /** Commands up to and including `upToSeq` went out; later ones (keys typed since) stay. */
  | { readonly type: 'sent'; readonly upToSeq: number }
  | { readonly type: 'message'; readonly text: string }
  /** An export could not be written: say why and ask again with the same path. */
  | { readonly type: 'exportFailed'; readonly text: string; readonly path: string };

function reducer(state: State, action: Action): State {
  if (action.type === 'snapshot') return { ...state, history: [...state.history.slice(-(HISTORY - 1)), action.snapshot] };
  if (action.type === 'status') {
    const last = state.history[state.history.length - 1];
    if (!last) return state;
    return { ...state, history: [...state.history.slice(0, -1), { ...last, paused: action.paused, speed: action.speed }] };
  }
  if (action.type === 'sent') return state.outbox.some((o) => o.seq <= action.upToSeq) ? { ...state, outbox: state.outbox.filter((o) => o.seq > action.upToSeq) } : state;
  if (action.type === 'message') return { ...state, ui: { ...state.ui, message: action.text } };
  if (action.type === 'exportFailed') return { ...state, ui: { ...state.ui, message: action.text, exportPath: state.ui.openIo ? action.path : undefined } };
  // keys go through the reducer so that several key events before a repaint all see fresh state
  let ui = state.ui;
  const outbox = [...state.outbox];
  let nextSeq = state.nextSeq;
  const last = state.history[state.history.length - 1];
  let speed = last?.speed ?? 1;
  for (const k of action.keys) {
    const r = reduceKey(ui, k, { speed, rows: rowCount(last, ui.focus), ios: visibleIos(last, ui), drill: drillNames(last, ui), hasScript: last?.script !== undefined });
    ui = r.ui;
    for (const c of r.commands) {
      outbox.push({ seq: nextSeq++, command: c });
      // a burst of + or - walks on from the speed just asked for
      if (c.kind === 'speed') speed = c.speed;
    }
    if (r.commands.some((c) => c.kind === 'quit')) break;
  }
  return { ...state, ui, outbox, nextSeq };
}

interface TopProps {
  readonly link: SimLink;
  readonly color: boolean;
  readonly start?: StartInfo;
  /**
   * A bug in the dashboard itself (a render, an effect, the keys' handling threw): told once, as
   * the error; the screen goes blank and the owner ends the run (one line, never a stack).
   */
  readonly onInternalError?: (error: unknown) => void;
}

/** Catches what the app's render and effects throw, so that Ink never paints its stack trace. */
class InternalErrorBoundary extends Component<{ readonly onError: (error: unknown) => void; readonly children: ReactNode }, { readonly failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override componentDidCatch(error: unknown): void {
    this.props.onError(error);
  }

  override render(): ReactNode {
    return this.state.failed ? null : this.props.children;
  }
}

/** The dashboard with its own failures caught: what `kiotrace top` renders. */
export function Dashboard(props: TopProps) {
  const onError = props.onInternalError ?? (() => undefined);
  return (
    <InternalErrorBoundary onError={onError}>
      <TopApp {...props} />
    </InternalErrorBoundary>
  );
}

export function TopApp({ link, color, start, onInternalError }: TopProps) {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const { stdin, isRawModeSupported } = useStdin();
  const [state, dispatch] = useReducer(reducer, { history: [], ui: INITIAL_UI, outbox: [], nextSeq: 1 });
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
    // a resize between the first render and now went unheard
    setSize({ columns: stdout.columns || 120, rows: stdout.rows || 40 });
    return () => {
      offSnapshot();
      offStatus();
      stdout.off('resize', onResize);
    };
  }, [link, stdout]);

  useEffect(() => {
    if (state.outbox.length === 0) return;
    for (const { command } of state.outbox) {
      if (command.kind === 'export') {
        const path = command.path;
        void Promise.resolve(link.exportIo(command.io, path)).then(
          (r) => dispatch(r.ok ? { type: 'message', text: r.text } : { type: 'exportFailed', text: r.text, path }),
          (e: unknown) => dispatch({ type: 'exportFailed', text: `not written: ${e instanceof Error ? e.message : String(e)}`, path }),
        );
      } else link.send(command);
      if (command.kind === 'quit') exit();
    }
    dispatch({ type: 'sent', upToSeq: state.outbox[state.outbox.length - 1]!.seq });
  }, [state.outbox, link, exit]);

  // stdin read here, not by Ink's useInput: its parser threw on some escape sequences (ESC [ 3 1 m
  // typed or pasted ended the process). The terminal is in raw mode already (run-top.ts).
  useEffect(() => {
    // without a TTY on stdin there are no keys
    if (isRawModeSupported !== true) return;
    const decoder = new KeyDecoder();
    let quiet: NodeJS.Timeout | undefined;
    const deliver = (keys: readonly KeyName[]): void => {
      if (keys.length > 0) dispatch({ type: 'keys', keys });
    };
    // a throw here would end the process from an event handler, past any error boundary
    const guarded =
      (f: () => void) =>
      (): void => {
        try {
          f();
        } catch (e) {
          stdin.off('readable', onReadable);
          onInternalError?.(e);
        }
      };
    const onReadable = guarded(() => {
      clearTimeout(quiet);
      let chunk: unknown;
      while ((chunk = stdin.read()) !== null) {
        if (typeof chunk === 'string' || chunk instanceof Uint8Array) deliver(decoder.push(chunk));
      }
      // a lone ESC is the Escape key only once nothing follows it
      if (decoder.pending) quiet = setTimeout(guarded(() => deliver(decoder.flush())), ESCAPE_WAIT_MS);
    });
    stdin.on('readable', onReadable);
    return () => {
      stdin.off('readable', onReadable);
      clearTimeout(quiet);
    };
  }, [stdin, isRawModeSupported, onInternalError]);

  return <Screen view={buildView(state.history, state.ui, size.columns, size.rows, start)} color={color} />;
}
