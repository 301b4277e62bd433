// The Ink components rendered to strings (ink-testing-library): the screen paints exactly the
// view-model's lines, and the app turns keys (one at a time or in a burst) into UI state and
// commands for the simulation.
import test from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import { Dashboard, Screen, TopApp, type ExportResult, type SimLink } from '../../../tui/top/app.js';
import { KeyDecoder } from '../../../tui/top/key-decoder.js';
import { lineText } from '../../../tui/top/ansi.js';
import type { IoRecord } from '../../../tui/top/inspector.js';
import type { SimCommand } from '../../../tui/top/keys.js';
import type { Snapshot } from '../../../tui/top/snapshot.js';
import { buildView, INITIAL_UI, plainText } from '../../../tui/top/view-model.js';
import { snapshotsAt } from '../../helpers/top.js';

const history = snapshotsAt('default', [100_000_000, 200_000_000]);

test('Screen paints the view-model line for line (no colour)', () => {
  const view = buildView(history, INITIAL_UI, 100, 30);
  const { lastFrame, unmount } = render(<Screen view={view} color={false} />);
  // Ink drops trailing blanks; an empty line is still a row
  assert.deepEqual(
    lastFrame()!.split('\n').map((l) => l.trimEnd()),
    view.lines.map(plainText),
  );
  unmount();
});

test('lineText: one string per line, SGR colours per tone, none without colour', () => {
  const line = [{ text: 'p99 ' }, { text: '26 ms', tone: 'bad' as const }, { text: ' ok', tone: 'good' as const }];
  assert.equal(lineText(line, true), 'p99 \u001b[31m26 ms\u001b[0m\u001b[32m ok\u001b[0m');
  assert.equal(lineText([{ text: 'a', tone: 'bad' }, { text: 'b', tone: 'bad' }, { text: '  ', tone: 'good' }, { text: 'c' }], true), '\u001b[31mab\u001b[0m  c');
  assert.equal(lineText(line, false), 'p99 26 ms ok');
  assert.equal(lineText([], true), ' ');
  assert.equal(lineText([{ text: 'x  ' }, { text: '   ', tone: 'good' }], true), 'x', 'trailing blanks are dropped');
});

/** A link that hands out snapshots on demand and records the commands it gets. */
class FakeLink implements SimLink {
  readonly commands: SimCommand[] = [];
  readonly exports: { ioId: number; path: string }[] = [];
  private snapshotListener: ((s: Snapshot) => void) | undefined;
  private statusListener: ((paused: boolean, speed: number) => void) | undefined;

  onSnapshot(l: (s: Snapshot) => void): () => void {
    this.snapshotListener = l;
    return () => (this.snapshotListener = undefined);
  }

  onStatus(l: (paused: boolean, speed: number) => void): () => void {
    this.statusListener = l;
    return () => (this.statusListener = undefined);
  }

  exportIo(io: IoRecord, path: string): ExportResult {
    this.exports.push({ ioId: io.ioId, path });
    return path.startsWith('taken') ? { ok: false, text: `not written: ${path}: it exists already; give another name` } : { ok: true, text: `wrote ${path}` };
  }

  send(c: SimCommand): void {
    this.commands.push(c);
    if (c.kind === 'pause') this.statusListener?.(true, history.at(-1)!.speed);
  }

  push(s: Snapshot): void {
    this.snapshotListener?.(s);
  }
}

/**
 * Polls until `ok` holds. The bound is generous: a loaded machine is slow, never wrong, so the
 * test waits for what it expects instead of for a time.
 */
async function waitFor<T>(get: () => T, ok: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = get();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

type App = ReturnType<typeof render>;
const frameOf = (app: App) => (): string => app.lastFrame() ?? '';
const untilFrame = (app: App, ok: (frame: string) => boolean, what: string): Promise<string> => waitFor(frameOf(app), ok, what);

test('TopApp: snapshots arrive, keys move the focus and selection, commands go to the simulation', async () => {
  const link = new FakeLink();
  const app = render(<TopApp link={link} color={false} start={{ scenario: 'default', seed: 1, speed: 1 }} />);
  await untilFrame(app, (f) => f !== '', 'the first frame');
  assert.equal(app.lastFrame(), 'kiotrace top  default  seed 1  speed 1x  starting the simulation…\nq quit  space pause  +/- speed  tab panel  ↑↓ select  ? help');
  for (const s of history) link.push(s);
  await untilFrame(app, (f) => f.includes('sim 200 ms'), 'the second snapshot');
  assert.match(app.lastFrame()!, /^kiotrace top {2}default {2}seed 1 {2}sim 200 ms \/ 2\.00 s {2}speed 1x {2}363k events\/s {2}● running\n▶ Devices/);
  assert.match(app.lastFrame()!, /\n> nvme0n1 /);
  // a burst: down, then tab twice to the CPUs panel, then down twice, as one string where it can be
  app.stdin.write('j');
  await untilFrame(app, (f) => /\n> sda /.test(f), 'sda selected');
  app.stdin.write('\t');
  await untilFrame(app, (f) => f.includes('\n▶ Page cache'), 'the cache panel focused');
  app.stdin.write('\t');
  await untilFrame(app, (f) => f.includes('\n▶ CPUs'), 'the CPUs panel focused');
  app.stdin.write('jj');
  await untilFrame(app, (f) => /\n> 2 {4}/.test(f), 'CPU 2 selected');
  app.stdin.write('++-');
  await waitFor(() => link.commands.length, (n) => n >= 3, 'three speed commands');
  assert.deepEqual(link.commands, [
    { kind: 'speed', speed: 2 },
    { kind: 'speed', speed: 5 },
    { kind: 'speed', speed: 2 },
  ]);
  app.stdin.write(' ');
  await untilFrame(app, (f) => / {2}PAUSED$/.test(f.split('\n')[0]!), 'the PAUSED badge');
  app.stdin.write('?');
  await untilFrame(app, (f) => f.split('\n')[1] === 'Keys', 'the help');
  app.stdin.write('\u001b');
  await untilFrame(app, (f) => f.includes('\n▶ CPUs'), 'the dashboard again');
  app.stdin.write('q');
  await waitFor(() => link.commands.at(-1), (c) => c?.kind === 'quit', 'the quit command');
  app.unmount();
});

/** The app with the dashboard up (the last snapshot changed by `last`). */
async function dashboard(last: (s: Snapshot) => Snapshot = (s) => s): Promise<{ link: FakeLink; app: App }> {
  const link = new FakeLink();
  const app = render(<TopApp link={link} color={false} />);
  link.push(history[0]!);
  link.push(last(history[1]!));
  await untilFrame(app, (f) => f.includes('sim 200 ms'), 'the dashboard');
  return { link, app };
}

test('TopApp: keys 1 ms apart are all applied, the quit after a speed change too', async () => {
  const { link, app } = await dashboard();
  const keys = ['+', '-', '+', '-', '+', '-', '+', '-', '+', '-', ' ', ' ', '+', 'q'];
  for (const k of keys) {
    app.stdin.write(k);
    await new Promise((r) => setTimeout(r, 1));
  }
  await waitFor(() => link.commands.at(-1), (c) => c?.kind === 'quit', 'the quit command');
  assert.deepEqual(
    link.commands.map((c) => (c.kind === 'speed' ? c.speed : c.kind)),
    // the fake simulation never changes speed: each + asks for 2x, each - for 0.5x
    [2, 0.5, 2, 0.5, 2, 0.5, 2, 0.5, 2, 0.5, 'pause', 'pause', 2, 'quit'],
  );
  app.unmount();
});

test('TopApp: Ctrl-C quits even while a filter is being typed', async () => {
  const { link, app } = await dashboard();
  app.stdin.write('6/ab');
  await untilFrame(app, (f) => f.includes('filter: ab█'), 'the filter being typed');
  app.stdin.write('\u0003');
  await waitFor(() => link.commands.at(-1), (c) => c?.kind === 'quit', 'the quit command');
  app.unmount();
});

test('TopApp: e asks where to write the I/O; an existing file is not written over and the prompt stays', async () => {
  const io = { ioId: 42, origin: 'pread64', task: 'rand-direct', pid: 5, device: 'nvme0n1', startNs: 1000, durationNs: 5000, error: false, layers: [{ name: 'pread64', depth: 0, startNs: 1000, endNs: 6000, error: false, detail: '' }], faultChain: undefined };
  const { link, app } = await dashboard((s) => ({ ...s, ios: [io] }));
  app.stdin.write('6');
  await untilFrame(app, (f) => /\n {2}42 +pread64/.test(f), 'the I/O listed');
  app.stdin.write('\r');
  await untilFrame(app, (f) => f.includes('\nI/O 42  pread64 by rand-direct'), 'the waterfall');
  app.stdin.write('e');
  const prompt = await untilFrame(app, (f) => f.includes('export to:'), 'the export prompt');
  assert.match(prompt, /\n {2}export to: kiotrace-io-42\.pftrace█ {3}enter writes it \(never over an existing file\), esc cancels/);
  assert.deepEqual(link.exports, [], 'nothing is written before enter');
  // the path is edited in place: backspace over ".pftrace", type another name
  app.stdin.write('\u007f'.repeat('kiotrace-io-42.pftrace'.length));
  app.stdin.write('taken.pftrace');
  await untilFrame(app, (f) => f.includes('export to: taken.pftrace█'), 'the edited path');
  app.stdin.write('\r');
  const refused = await untilFrame(app, (f) => f.includes('it exists already'), 'the refusal');
  assert.match(refused, /\n {2}export to: taken\.pftrace█/, 'the prompt stays open with the path');
  app.stdin.write('\u007f'.repeat('taken.pftrace'.length) + 'mine.pftrace\r');
  await untilFrame(app, (f) => f.includes('wrote mine.pftrace'), 'the export message');
  assert.deepEqual(link.exports, [
    { ioId: 42, path: 'taken.pftrace' },
    { ioId: 42, path: 'mine.pftrace' },
  ]);
  assert.doesNotMatch(app.lastFrame()!, /export to:/);
  app.unmount();
});

test('TopApp: escape sequences, mouse reports, pastes and control bytes are never commands and never crash it; the keys around them count', async () => {
  const { link, app } = await dashboard();
  // a colour sequence typed (Ink's own input parser threw on it and ended the process)
  app.stdin.write('\u001b[31m');
  app.stdin.write('j');
  await untilFrame(app, (f) => /\n> sda /.test(f), 'sda selected after the colour sequence');
  // split across reads, mouse reports, a terminal's reply, control bytes: nothing happens
  for (const input of ['\u001b[', '1;31m', '\u001b[M !!', '\u001b[<0;10;20M', '\u001b]11;rgb:0000/0000/0000\u0007', '\u0000\u0001\u001c', '\u001b[200~q ?+\u001b[201~']) app.stdin.write(input);
  app.stdin.write('k');
  await untilFrame(app, (f) => /\n> nvme0n1 /.test(f), 'nvme0n1 selected again');
  assert.deepEqual(link.commands, [], 'no quit, pause or speed from the paste');
  // a lone ESC still closes the help
  app.stdin.write('?');
  await untilFrame(app, (f) => f.split('\n')[1] === 'Keys', 'the help');
  app.stdin.write('\u001b');
  await untilFrame(app, (f) => f.includes('\n▶ Devices'), 'the dashboard again');
  // a paste goes into the filter as text
  app.stdin.write('6/');
  app.stdin.write('\u001b[200~rand q\u001b[201~');
  await untilFrame(app, (f) => f.includes('filter: rand q█'), 'the pasted filter');
  app.stdin.write('\u0003');
  await waitFor(() => link.commands.at(-1), (c) => c?.kind === 'quit', 'the quit command');
  app.unmount();
});

test('Dashboard: an exception while painting is told once to its owner, and no stack trace is painted', async () => {
  const link = new FakeLink();
  const errors: unknown[] = [];
  const app = render(<Dashboard link={link} color={false} onInternalError={(e) => errors.push(e)} />);
  link.push(history[0]!);
  await untilFrame(app, (f) => f.includes('sim 100 ms'), 'the dashboard');
  // a snapshot the view cannot paint (devices that throw when read)
  link.push(new Proxy(history[1]!, { get: (t, k) => (k === 'devices' ? assert.fail('injected by the test') : (Reflect.get(t, k) as unknown)) }));
  await waitFor(() => errors.length, (n) => n > 0, 'the error told');
  await untilFrame(app, (f) => f === '', 'the blank screen');
  assert.deepEqual(errors.map((e) => (e as Error).message), ['injected by the test']);
  assert.ok(app.frames.every((f) => !/ERROR|\n\s+(?:at |- )/.test(f)), 'no error overview, no stack');
  app.unmount();
});

test('Dashboard: an exception while reading the keys is told to its owner, never thrown out of the input handler', async () => {
  const push = KeyDecoder.prototype.push;
  KeyDecoder.prototype.push = function (this: KeyDecoder, chunk: string | Uint8Array) {
    if (chunk === '!') throw new Error('injected by the test');
    return push.call(this, chunk);
  };
  try {
    const link = new FakeLink();
    const errors: unknown[] = [];
    const app = render(<Dashboard link={link} color={false} onInternalError={(e) => errors.push(e)} />);
    for (const s of history) link.push(s);
    await untilFrame(app, (f) => f.includes('sim 200 ms'), 'the dashboard');
    app.stdin.write('!');
    assert.deepEqual(errors.map((e) => (e as Error).message), ['injected by the test']);
    // the keys are no longer read: the owner is ending the run
    app.stdin.write('q');
    assert.deepEqual(link.commands, []);
    app.unmount();
  } finally {
    KeyDecoder.prototype.push = push;
  }
});
