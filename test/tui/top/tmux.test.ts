// End to end, as a person would: the real CLI in tmux at 120x40. Start `kiotrace top`, wait for
// the dashboard, press keys and read the screen back. Skipped, saying why, only without tmux.
// Every wait is for something on the screen (polled), never for a time: a loaded machine makes
// these tests slower, not wrong.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../helpers/repo.js';

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
const session = `kiotrace-e2e-${process.pid}`;
// a tmux server of our own: other tests' sessions come and go on the default one
const socket = `kiotrace-e2e-${process.pid}`;
// tmux leaves the socket file behind when its server exits
after(() => {
  if (hasTmux) rmSync(join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
});

function tmux(...args: string[]): string {
  for (let attempt = 1; ; attempt++) {
    const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    if (r.status === 0) return r.stdout;
    // the server exits with its last session; a new session asked for meanwhile finds it leaving
    if (args[0] === 'new-session' && r.stderr.includes('server exited unexpectedly') && attempt < 20) continue;
    throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  }
}

const screen = (): string => tmux('capture-pane', '-p', '-t', session);

/** Polls the screen until `ok` holds (or gives up after `timeoutMs`, generous, with the last screen). */
async function waitFor(ok: (s: string) => boolean, what: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = screen();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; screen:\n${last}`);
}

const alive = (): boolean => spawnSync('tmux', ['-L', socket, 'has-session', '-t', session]).status === 0;

/** Polls until the session has ended (the program exited); false if it has not after a generous bound. */
async function ended(): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return !alive();
}

/** The command that starts kiotrace (CI=true would make Ink hold every frame until exit). */
const kiotrace = (args: string, opts: { env?: string; preload?: string } = {}): string =>
  `env -u CI ${opts.env ?? ''} ${JSON.stringify(process.execPath)} ${opts.preload ? `--import ${JSON.stringify(pathToFileURL(join(repoRoot(), 'dist', 'test', 'tui', 'top', 'preload', opts.preload)).href)} ` : ''}${JSON.stringify(join(repoRoot(), 'dist', 'tui', 'cli.js'))} ${args}`;
/** After the program: its exit code and the terminal's modes, for the test to read; the pane stays open. */
const AFTER = '; echo "EXIT=$?"; stty -a | grep -o -- "-\\?icanon\\|-\\?echo " | tr "\\n" " "; echo; sleep 600';
const skip = hasTmux ? false : 'tmux is not installed (apt-get install tmux); the end-to-end UI test needs it';

/** Runs `command` (followed by AFTER) in a 120x40 pane, then `body`; the pane and `dir` go in the end. */
async function inPane(command: string, body: () => Promise<void>, dir?: string): Promise<void> {
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', command + AFTER);
  try {
    await body();
  } finally {
    if (alive()) tmux('kill-session', '-t', session);
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** The screen once the program has exited (AFTER prints its exit code and the terminal's modes). */
const afterExit = (): Promise<string> => waitFor((s) => /\nEXIT=\d+\n-?icanon/.test(s), 'the exit');

test('kiotrace top in tmux: dashboard, pause, select, panel, help, inspector, export, quit', { skip }, async () => {
  // exports land in the working directory: a temporary one
  const cwd = mkdtempSync(join(tmpdir(), 'kiotrace-tmux-'));
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', cwd, kiotrace('top default --duration 600s') + AFTER);
  try {
    const first = await waitFor((s) => s.includes('● running') && s.includes('seq-reader'), 'the dashboard');
    const lines = first.split('\n');
    // (a loaded machine may not keep up at first: then the header says the speed it achieves)
    assert.match(lines[0]!, /^kiotrace top {2}default {2}seed 1 {2}sim .* \/ 600 s {2}speed (?:1x|[\d.]+x of 1x, behind) {2}.* events\/s {2}● running/);
    assert.equal(lines[1], '▶ Devices');
    assert.match(first, /\n> nvme0n1 {3}(idle|busy|suspended) +none /);
    // the frame stays below the terminal's height (a full-height Ink frame clears the screen each time)
    const footer = lines.findIndex((l) => l.startsWith('q quit'));
    assert.ok(footer > 0 && footer <= 38, `footer on row ${footer}`);

    // resizing reflows the frame: narrower lines, fewer rows, the footer still on screen
    tmux('resize-window', '-t', session, '-x', '90', '-y', '30');
    // (tmux rewraps the old frame at first; the new one starts at the top with the header)
    await waitFor((s) => {
      const rows = s.split('\n');
      const foot = rows.findIndex((l) => l.startsWith('q quit'));
      return rows[0]!.startsWith('kiotrace top ') && rows[1] === '▶ Devices' && foot > 0 && foot <= 28 && rows.every((l) => l.length <= 90);
    }, 'the frame reflowed to 90x30');
    tmux('resize-window', '-t', session, '-x', '120', '-y', '40');
    await waitFor((s) => s.includes('seq-reader'), 'the full frame again');

    tmux('send-keys', '-t', session, 'Space');
    const paused = await waitFor((s) => s.split('\n')[0]!.includes('PAUSED'), 'the PAUSED badge');
    // the worker answers pause after its last step: from the badge on, simulated time stands
    // still. A speed change is a round trip through the worker; the time is still the same after it
    const simAt = (s: string): string => /sim (.+?) \//.exec(s.split('\n')[0]!)![1]!;
    tmux('send-keys', '-t', session, '+');
    const after = await waitFor((s) => /speed 2x .* PAUSED $/.test(s.split('\n')[0]! + ' '), 'the speed change while paused');
    assert.equal(simAt(after), simAt(paused), 'paused: simulated time stands still');
    tmux('send-keys', '-t', session, '-');
    await waitFor((s) => /speed 1x .* PAUSED $/.test(s.split('\n')[0]! + ' '), 'the speed back to 1x');

    tmux('send-keys', '-t', session, 'Down');
    await waitFor((s) => /\n> sda {7}(idle|busy|suspended) +mq-deadline/.test(s), 'sda selected');
    tmux('send-keys', '-t', session, 'Tab', 'Tab');
    await waitFor((s) => s.includes('\n▶ CPUs') && /\n> 0 {4}/.test(s), 'the CPUs panel focused');

    tmux('send-keys', '-t', session, '?');
    const help = await waitFor((s) => s.includes('\nKeys\n'), 'the help');
    assert.match(help, /\n {2}q {11}quit\n/);
    tmux('send-keys', '-t', session, 'Escape');
    await waitFor((s) => s.includes('\n▶ CPUs'), 'the dashboard again');

    tmux('send-keys', '-t', session, 'Space', '+');
    await waitFor((s) => /speed (?:[\d.]+x of )?2x.*● running/.test(s.split('\n')[0]!), 'running again at 2x');

    // the I/O inspector: the list fills, Enter opens a waterfall, e exports it, Esc goes back
    // top probes: every site counted while the panel is open
    tmux('send-keys', '-t', session, '5');
    const probes = await waitFor((s) => /\n[> ] 1 {3}\S+ +[\d.]+[kM]? +[\d.]+[kM]? +\d+%/.test(s), 'probe hit rates');
    assert.match(probes, /\n▶ Top probes/);
    assert.match(probes, /tracepoint:raw_syscalls:sys_enter/);

    tmux('send-keys', '-t', session, '6');
    await waitFor((s) => /\n {2}\d+ +pread64 +rand-direct +nvme0n1 /.test(s), 'recent I/Os in the inspector');
    tmux('send-keys', '-t', session, '/', 'r', 'a', 'n', 'd', 'Enter', 'Down', 'Enter');
    const fall = await waitFor((s) => /\nI\/O \d+ {2}pread64 by rand-direct \(pid 5\) on nvme0n1/.test(s), 'a waterfall');
    assert.match(fall, /\n {2}LAYER +START +DURATION +WAIT +DETAIL/);
    assert.match(fall, /\n +driver +\+[\d.]+ [nµ]s +[\d.]+ µs/);
    const ioId = /\nI\/O (\d+) /.exec(fall)![1]!;
    // e asks where, proposing a name; enter writes there and says so
    tmux('send-keys', '-t', session, 'e');
    await waitFor((s) => s.includes(`export to: kiotrace-io-${ioId}.pftrace█`), 'the export prompt');
    assert.deepEqual(readdirSync(cwd), [], 'nothing written before enter');
    tmux('send-keys', '-t', session, 'Enter');
    await waitFor((s) => s.includes(`wrote ${join(cwd, `kiotrace-io-${ioId}.pftrace`)} (`), 'the export message');
    assert.deepEqual(readdirSync(cwd), [`kiotrace-io-${ioId}.pftrace`]);
    // again: the file is there, so it is not written over; the prompt stays for another name
    tmux('send-keys', '-t', session, 'e', 'Enter');
    await waitFor((s) => s.includes('it exists already; give another name'), 'the refusal');
    tmux('send-keys', '-t', session, ...Array<string>('.pftrace'.length).fill('BSpace'));
    tmux('send-keys', '-t', session, '-l', '--', '-2.pftrace');
    tmux('send-keys', '-t', session, 'Enter');
    await waitFor((s) => s.includes(`wrote ${join(cwd, `kiotrace-io-${ioId}-2.pftrace`)} (`), 'the second export');
    assert.doesNotMatch(screen(), /export to:/, 'the prompt closes once written');
    tmux('send-keys', '-t', session, 'Escape');
    await waitFor((s) => s.includes('▶ I/O inspector') && s.includes('filter: rand'), 'the filtered list again');

    tmux('send-keys', '-t', session, 'q');
    // the files written are named again at exit, so none is left behind unnoticed
    await afterExit();
    // (-J: the long line as one, not wrapped at 120 columns)
    const exitScreen = tmux('capture-pane', '-p', '-J', '-t', session);
    const written = `kiotrace top: I/O traces written: ${join(cwd, `kiotrace-io-${ioId}.pftrace`)}, ${join(cwd, `kiotrace-io-${ioId}-2.pftrace`)} (open them at https://ui.perfetto.dev)`;
    assert.ok(exitScreen.includes(`\n${written}\nEXIT=0\n`), exitScreen);
    assert.deepEqual(readdirSync(cwd).sort(), [`kiotrace-io-${ioId}-2.pftrace`, `kiotrace-io-${ioId}.pftrace`]);
  } finally {
    if (alive()) tmux('kill-session', '-t', session);
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('kiotrace top with NO_COLOR: no colour codes on the screen, the selection still marked', { skip }, async () => {
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', kiotrace('top default --duration 600s', { env: 'NO_COLOR=1' }));
  try {
    await waitFor((s) => s.includes('● running') && s.includes('seq-reader'), 'the dashboard');
    const withEscapes = tmux('capture-pane', '-p', '-e', '-t', session);
    assert.doesNotMatch(withEscapes, /\u001b\[(?:3[0-7]|4[0-7]|1|2|7)m/, 'no colour, bold, dim or inverse');
    assert.match(withEscapes, /\n> nvme0n1 /);
    tmux('send-keys', '-t', session, 'q');
    assert.equal(await ended(), true);
  } finally {
    if (alive()) tmux('kill-session', '-t', session);
  }
});

test('kiotrace -e PROGRAM --tui in tmux: the maps live under the dashboard and on panel 7, printed again at exit', { skip }, async () => {
  const program = 'kprobe:vfs_read { @reads[comm] = count(); } tracepoint:block:block_rq_issue { @bytes = hist(args.bytes); }';
  // the pane outlives the program, so the maps it prints at exit can be read
  await inPane(kiotrace(`-e '${program}' --tui --duration 600s`), async () => {
    // maps in bpftrace's order (by name): @bytes first, as much as fits under the dashboard
    const dash = await waitFor((s) => s.includes('Program maps') && /\n {2}@bytes:\n {2}\[0\] +\d+ \|/.test(s), 'the maps under the dashboard');
    assert.match(dash, /\n {2}Tasks\n/);
    tmux('send-keys', '-t', session, '7');
    const maps = await waitFor((s) => s.includes('\n▶ Program maps') && /@reads\[seq-reader\]: \d+/.test(s), 'panel 7 with every map');
    assert.match(maps, /\n {2}\[4K, 8K\) +\d+ \|@+ *\|/);
    tmux('send-keys', '-t', session, 'q');
    const after = await afterExit();
    assert.match(after, /\n@bytes:\n/);
    assert.match(after, /@reads\[seq-reader\]: \d+\nEXIT=0\nicanon echo *\n/);
  });
});

test('escape sequences, pastes, mouse reports and control bytes typed into kiotrace top are no keys and never end it', { skip }, async () => {
  await inPane(kiotrace('top default --duration 600s'), async () => {
    await waitFor((s) => s.includes('● running') && /\n> nvme0n1 /.test(s), 'the dashboard');
    const bytes = (text: string): string[] => [...Buffer.from(text)].map((b) => b.toString(16).padStart(2, '0'));
    // a colour sequence (Ink's input parser threw on it: a stack trace and exit 1), a bracketed
    // paste holding q, an X10 and an SGR mouse report, a terminal's reply, control bytes, invalid UTF-8
    for (const input of ['\u001b[31m', '\u001b[200~q\u001b[201~', '\u001b[M !!', '\u001b[<0;10;20M', '\u001b]11;rgb:0/0/0\u0007', '\u0000\u0001\u001c']) {
      tmux('send-keys', '-t', session, '-H', ...bytes(input));
    }
    // bytes that are not UTF-8
    tmux('send-keys', '-t', session, '-H', 'ff', 'fe', 'c3');
    tmux('send-keys', '-t', session, 'Escape', 'j');
    await waitFor((s) => /\n> sda /.test(s), 'sda selected by the j after them');
    assert.match(screen(), /● running/, 'still running, not paused');
    tmux('send-keys', '-t', session, 'q');
    assert.match(await afterExit(), /\nq quit {2}space pause[^\n]*\n+EXIT=0\nicanon echo *\n/);
  });
});

test('-e PROGRAM --tui with only BEGIN and END probes: its output as without --tui, no dashboard left, no waiting hint; exit() sets the code', { skip }, async () => {
  await inPane(kiotrace(`-e 'BEGIN { printf("hi\\n"); } END { printf("bye\\n"); }' --tui`), async () => {
    assert.match(await afterExit(), /^hi\nbye\n\n*EXIT=0\nicanon echo *\n/);
  });
  await inPane(kiotrace(`-e 'BEGIN { @x = 1; exit(3); } kprobe:vfs_read { @r = count(); }' --tui`), async () => {
    assert.match(await afterExit(), /^\n*@x: 1\nEXIT=3\nicanon echo *\n/);
  });
});

test('frames are on the screen before Ink is even loaded; keys typed meanwhile are kept for it', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-gate-'));
  const gate = join(dir, 'load-ink');
  // the preload holds the loading of Ink until the gate file exists
  await inPane(
    kiotrace('top default --duration 600s', { env: `KIOTRACE_TEST_INK_GATE=${JSON.stringify(gate)}`, preload: 'hold-ink.js' }),
    async () => {
      // the first frame says what is starting; the dashboard follows as soon as the worker sends a snapshot
      const dash = await waitFor((s) => s.includes('● running') && s.includes('seq-reader'), 'the dashboard');
      assert.equal(existsSync(gate), false, 'Ink is held: the frames came before it');
      assert.match(dash, /^kiotrace top {2}default {2}seed 1 {2}sim .*\n▶ Devices\n/);
      assert.doesNotMatch(dash, /starting the simulation/, 'each frame in the place of the last');
      const footer = dash.split('\n').findIndex((l) => l.startsWith('q quit'));
      assert.ok(footer > 0 && footer <= 38, `footer on row ${footer}`);
      // a key typed before Ink is there: Ink gets it once loaded
      tmux('send-keys', '-t', session, '?');
      writeFileSync(gate, '');
      const help = await waitFor((s) => s.includes('\nKeys\n'), 'the help, from the key typed before Ink');
      assert.match(help, /^kiotrace top {2}default /);
      tmux('send-keys', '-t', session, 'Escape');
      await waitFor((s) => s.includes('\n▶ Devices'), 'the dashboard again');
      tmux('send-keys', '-t', session, 'q');
      assert.match(await afterExit(), /\nEXIT=0\nicanon echo *\n/);
    },
    dir,
  );
});

test('q before the dashboard is up (Ink still loading) quits too', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-gate-'));
  // the gate never opens: Ink never loads
  await inPane(
    kiotrace('top default --duration 600s', { env: `KIOTRACE_TEST_INK_GATE=${JSON.stringify(join(dir, 'never'))}`, preload: 'hold-ink.js' }),
    async () => {
      // the first frame, or already the dashboard painted without Ink
      await waitFor((s) => s.startsWith('kiotrace top  default  seed 1  '), 'the first frame');
      tmux('send-keys', '-t', session, 'q');
      assert.match(await afterExit(), /\nEXIT=0\nicanon echo *\n/);
    },
    dir,
  );
});

test('a failure inside the worker: one line under the screen, exit 1, the terminal restored', { skip }, async () => {
  await inPane(kiotrace('top default --duration 600s', { env: 'KIOTRACE_TEST_INJECT=simbug', preload: 'inject-failure.js' }), async () => {
    const after = await afterExit();
    assert.match(after, /\nkiotrace top: the simulation failed at [\d.]+ [nµm]?s of simulated time: kiotrace internal error \(SimBug\): injected by the test\nEXIT=1\nicanon echo *\n/);
    assert.doesNotMatch(after, /\n\s+at /);
  });
});

test('an exception in the dashboard itself (painting, reading the keys, a listener): one line, exit 1, the terminal restored and the cursor shown', { skip }, async () => {
  for (const mode of ['render', 'keys', 'status']) {
    await inPane(kiotrace('top default --duration 600s', { env: `KIOTRACE_TEST_INJECT=${mode}`, preload: 'inject-failure.js' }), async () => {
      if (mode !== 'render') {
        await waitFor((s) => s.includes('● running'), 'the dashboard');
        // the preload makes decoding this read throw, or the status that a pause sends
        tmux('send-keys', '-t', session, mode === 'keys' ? '!' : 'Space');
      }
      const after = await afterExit();
      // (Ink painted its error overview, a stack trace, and the process ended with "kiotrace: internal error")
      assert.match(after, /(?:^|\n)kiotrace top: internal error in the dashboard: injected by the test\nEXIT=1\nicanon echo *\n/, mode);
      assert.doesNotMatch(after, /\n\s+(?:at |- )|ERROR|kiotrace: internal error/, mode);
      assert.equal(tmux('display', '-p', '-t', session, '#{cursor_flag}').trim(), '1', `${mode}: the cursor is shown again`);
    });
  }
});

test('SIGTERM, SIGHUP and SIGINT end kiotrace top as q does: terminal restored, the program\'s maps printed, exit 0', { skip }, async () => {
  for (const signal of ['TERM', 'HUP', 'INT']) {
    await inPane(kiotrace(`-e 'kprobe:vfs_read { @reads[comm] = count(); }' --tui --duration 600s`), async () => {
      await waitFor((s) => s.includes('● running') && /\n {2}@reads\[seq-reader\]: \d+/.test(s), 'the dashboard with the maps');
      // the pane runs a shell; kiotrace is its child
      const shell = tmux('display', '-p', '-t', session, '#{pane_pid}').trim();
      const pid = spawnSync('ps', ['-o', 'pid=', '--ppid', shell], { encoding: 'utf8' }).stdout.trim().split(/\s+/)[0]!;
      spawnSync('kill', [`-${signal}`, pid]);
      assert.match(await afterExit(), /\nq quit {2}space pause[^\n]*\n+@reads\[rand-direct\]: \d+\n@reads\[seq-reader\]: \d+\nEXIT=0\nicanon echo *\n/, signal);
    });
  }
});
