// The dashboard fuzzed: seeded random key sequences (the bindings, escape sequences, pastes,
// wide and combining characters, random bytes) typed into the app rendered by ink-testing-library,
// on terminals from 30 to 120 columns. Nothing throws, nothing is told as an internal error, and
// every frame fits the terminal: no line wider than its columns, no more lines than its rows,
// the footer always the last line.
import test from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { Dashboard, type ExportResult, type SimLink } from '../../../tui/top/app.js';
import type { IoRecord } from '../../../tui/top/inspector.js';
import type { SimCommand } from '../../../tui/top/keys.js';
import type { Snapshot } from '../../../tui/top/snapshot.js';
import { cellWidth } from '../../../tui/top/cells.js';
import { Random } from '../../../core/sim/random.js';
import { snapshotsAt } from '../../helpers/top.js';

const ROWS = 40;
/** Terminal widths tried: wide, the usual, and narrower than the 60 columns the view is laid out for. */
const COLUMNS = [120, 100, 80, 59, 30];

/** Text that is hard to lay out: wide, combining, zero-width, right-to-left, very long. */
const HARD_TEXT = ['中文字', '😀', 'é', 'e\u0301', '\u200b', 'עברית', 'x'.repeat(150), '全角ＡＢＣ'];

/** An I/O with names and layers that are hard to lay out. */
function io(ioId: number, name: string): IoRecord {
  return {
    ioId,
    origin: `pread64${name}`,
    task: `task-${name}`,
    pid: 5,
    device: ioId % 2 === 0 ? 'nvme0n1' : '',
    startNs: 1000 * ioId,
    durationNs: 5000 + ioId,
    error: ioId % 3 === 0,
    layers: [
      { name: 'pread64', depth: 0, startNs: 1000 * ioId, endNs: 1000 * ioId + 5000, error: false, detail: name },
      { name: `blk_mq ${name}`, depth: 1, startNs: 1000 * ioId + 100, endNs: 1000 * ioId + 4000, error: ioId % 3 === 0, detail: name.repeat(3) },
    ],
    faultChain: ioId % 4 === 0 ? { va: 0x7f00_0000_1000, vpn: 0x7f00_0000_1, inode: 12, pgoff: 3, block: ioId % 8 === 0 ? -1 : 99, sector: 792, pfn: 0x1234 } : undefined,
  };
}

const base = snapshotsAt('default', [100_000_000, 200_000_000]);
const last: Snapshot = {
  ...base[1]!,
  ios: HARD_TEXT.map((t, i) => io(i + 1, t)),
  script: { maps: ['@reads[中文字]: 12', `@long[${'y'.repeat(200)}]: 1`, '@h:', '[4K, 8K)  3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|'].join('\n'), output: HARD_TEXT, exited: false },
};
const history = [{ ...base[0]!, script: { maps: '', output: [], exited: false } }, last];

/** Snapshots on demand; every command and export recorded, pause and speed answered. */
class FakeLink implements SimLink {
  readonly commands: SimCommand[] = [];
  private statusListener: ((paused: boolean, speed: number) => void) | undefined;

  onSnapshot(l: (s: Snapshot) => void): () => void {
    for (const s of history) l(s);
    return () => undefined;
  }

  onStatus(l: (paused: boolean, speed: number) => void): () => void {
    this.statusListener = l;
    return () => (this.statusListener = undefined);
  }

  send(c: SimCommand): void {
    this.commands.push(c);
    if (c.kind === 'pause') this.statusListener?.(this.commands.filter((x) => x.kind === 'pause').length % 2 === 1, 1);
    if (c.kind === 'speed') this.statusListener?.(false, c.speed);
  }

  exportIo(_io: IoRecord, path: string): ExportResult {
    return path.length % 2 === 0 ? { ok: true, text: `wrote ${path}` } : { ok: false, text: `not written: ${path}: it exists already; give another name` };
  }
}

const ESC = '\u001b';
/** What a user might type: every binding, arrows and other sequences, pastes, hard text. q and Ctrl-C are rare (they end the sequence). */
const TYPED = [
  ...'1234567890jkse/ +-=_?xa.'.split(''),
  '\t', '\r', '\n', '\u007f', '\b', ESC, `${ESC}[A`, `${ESC}[B`, `${ESC}OA`, `${ESC}[Z`, `${ESC}[3~`, `${ESC}[31m`, `${ESC}[M !!`, `${ESC}[<0;3;4M`,
  `${ESC}]0;t\u0007`, `${ESC}[200~${HARD_TEXT.join(' ')}${ESC}[201~`, `${ESC}[200~q?${ESC}[201~`, '\u0000', ...HARD_TEXT,
];

function randomInput(rng: Random): string {
  const r = rng.next();
  if (r < 0.01) return rng.next() < 0.5 ? 'q' : '\u0003';
  if (r < 0.08) return Buffer.from(Array.from({ length: 1 + rng.int(6) }, () => rng.int(256))).toString('latin1');
  return TYPED[rng.int(TYPED.length)]!;
}

/** Every way a frame could not fit `columns`, as text (empty when it fits). */
function misfit(frame: string, columns: number): string[] {
  // (under CI=true Ink writes its last frame again at unmount, followed by a newline: after a quit, nothing)
  const body = frame.replace(/\n$/, '');
  if (body === '') return [];
  const lines = body.split('\n');
  const problems: string[] = [];
  lines.forEach((l, i) => {
    if (cellWidth(l) > columns) problems.push(`line ${i} is ${cellWidth(l)} cells: ${JSON.stringify(l)}`);
  });
  if (lines.length > ROWS - 1) problems.push(`${lines.length} lines`);
  if (!lines.at(-1)!.startsWith('q quit  space pause')) problems.push(`the last line is not the footer: ${JSON.stringify(lines.at(-1))}`);
  return problems;
}

/** Sets what the terminal's width reads as. */
const setColumns = (app: ReturnType<typeof render>, columns: number): void => {
  Object.defineProperty(app.stdout, 'columns', { value: columns, configurable: true });
};

test('TopApp fuzz: 30 seeded sequences of 50 random inputs never throw and every frame fits the terminal', async () => {
  const rng = new Random(7);
  let frames = 0;
  for (let sequence = 0; sequence < 30; sequence++) {
    const columns = COLUMNS[sequence % COLUMNS.length]!;
    const link = new FakeLink();
    const errors: unknown[] = [];
    const app = render(<Dashboard link={link} color={false} onInternalError={(e) => errors.push(e)} />);
    // the app lays out for `columns` (told by a resize)...
    setColumns(app, columns);
    app.stdout.emit('resize');
    const told = 'kiotrace top  default  seed 1  sim 200 ms'.slice(0, columns).trimEnd();
    for (let i = 0; !(app.lastFrame() ?? '').startsWith(told); i++) {
      if (i > 10_000) assert.fail(`the dashboard at ${columns} columns never came: ${app.lastFrame()}`);
      await new Promise((r) => setImmediate(r));
    }
    // ...and Ink, which reads the width at every render, gets room to spare: a line too wide
    // shows wider than `columns` instead of being wrapped by Ink at `columns` (which would hide it)
    setColumns(app, 2 * columns);
    const from = app.frames.length;
    const typed: string[] = [];
    for (let i = 0; i < 50 && link.commands.at(-1)?.kind !== 'quit'; i++) {
      const input = randomInput(rng);
      typed.push(input);
      app.stdin.write(input);
      // let the app render (and its effects send) before the next input, some of the time
      if (rng.next() < 0.5) await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setImmediate(r));
    const what = `sequence ${sequence}: ${JSON.stringify(typed)}`;
    assert.deepEqual(errors, [], what);
    for (const frame of app.frames.slice(from)) assert.deepEqual(misfit(frame, columns), [], `${what}\n${frame}`);
    frames += app.frames.length - from;
    app.unmount();
  }
  // not vacuous: Ink coalesces renders when the machine is busy (589 frames at load 10, about 900 idle)
  assert.ok(frames > 30 * 10, `frames checked: ${frames}`);
});
