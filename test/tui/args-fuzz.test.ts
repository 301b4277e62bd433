// The command line never throws, however strange: seeded argument lists built from every flag,
// good and bad values, junk, control characters and very long words all come back as a Command
// with sane values or a UsageError whose message is one printable line. KIOTRACE_FUZZ_CASES
// raises the count (KIOTRACE_FUZZ_SEED changes the seed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseCommand, UsageError, type Command } from '../../tui/args.js';
import { printable } from '../../tui/units.js';
import { repoRoot } from '../helpers/repo.js';

const CASES = Number(process.env['KIOTRACE_FUZZ_CASES'] ?? 20_000);
const SEED = Number(process.env['KIOTRACE_FUZZ_SEED'] ?? 1);

/** A small seeded generator (mulberry32): the same seed, the same cases. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FLAGS = [
  'run', 'top', '-e', '-c', '-f', '-o', '-q', '-v', '-l', '-lv', '-vl', '-h', '-V', '--', '-', '--seed', '--duration',
  '--json', '--steps', '--steps=2', '--speed', '--perfetto', '--jaeger', '--otlp', '--otlp-file', '--sample', '--epoch',
  '--output-format', '--output-format=json+', '--dry-run', '--unsafe', '--tui', '--list', '--verbose', '--help', '--version', '--sed', '--durations', '--x=1',
];
const VALUES = [
  '', ' ', '0', '1', '-1', '2', '1e3', '1e400', 'NaN', 'Infinity', '0.5', '.5', '5.', '1.5.2', '9007199254740993',
  '99999999999999999999', '18446744073709551616', '500ms', '2s', '1h', '100d', '0ns', '1ns', '-5s', 'max', 'text',
  'json', 'xml', 'default', 'blocking-read', 'page-fault', 'x.bt', 'a.json', '/dev/null', '/dev/full', '/', '.',
  'http://localhost:4318/v1/traces', 'https://[::1]:4318', 'ftp://x', 'not a url', 'BEGIN { exit(); }', '__proto__',
  'constructor', 'toString', 'hasOwnProperty', '\u0000', '\u001b[2J', 'é', '\ud800', '💥', '--', '-', '=',
];

function word(r: () => number): string {
  const pick = r();
  if (pick < 0.45) return FLAGS[Math.floor(r() * FLAGS.length)]!;
  if (pick < 0.85) return VALUES[Math.floor(r() * VALUES.length)]!;
  if (pick < 0.9) return `${FLAGS[Math.floor(r() * FLAGS.length)]!}=${VALUES[Math.floor(r() * VALUES.length)]!}`;
  if (pick < 0.95) return 'x'.repeat(Math.floor(r() * 100_000));
  return String.fromCharCode(...Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 0x10000)));
}

/** What a parsed command must hold for the code that runs it. */
function checkCommand(cmd: Command, argv: readonly string[]): void {
  const where = JSON.stringify(argv).slice(0, 300);
  if (cmd.kind === 'run' || cmd.kind === 'top' || cmd.kind === 'script') {
    assert.ok(Number.isSafeInteger(cmd.seed) && cmd.seed >= 0, `seed ${cmd.seed}: ${where}`);
    if (cmd.durationNs !== undefined) assert.ok(Number.isSafeInteger(cmd.durationNs) && cmd.durationNs > 0, `duration ${cmd.durationNs}: ${where}`);
    assert.equal(typeof cmd.scenario, 'string');
  }
  if (cmd.kind === 'top') assert.ok(cmd.speed === 0 || (cmd.speed > 0 && Number.isFinite(cmd.speed)), `speed ${cmd.speed}: ${where}`);
  if (cmd.kind === 'run') {
    assert.ok(['normal', 'json', 'json+'].includes(cmd.outputFormat), `output format ${cmd.outputFormat}: ${where}`);
    if (cmd.json) assert.equal(cmd.outputFormat, 'normal', where);
    const r = cmd.exports.sampleRatio;
    if (r !== undefined) assert.ok(r > 0 && r <= 1, `sample ${r}: ${where}`);
    for (const path of [cmd.exports.perfetto, cmd.exports.jaeger, cmd.exports.otlpFile]) if (path !== undefined) assert.notEqual(path, '', where);
  }
}

test(`${CASES} generated command lines: a command or one printable line of usage error, never a throw`, () => {
  const r = rng(SEED);
  let commands = 0;
  let errors = 0;
  for (let i = 0; i < CASES; i++) {
    const argv = Array.from({ length: Math.floor(r() * 7) }, () => word(r));
    let parsed: Command | UsageError;
    try {
      parsed = parseCommand(argv);
    } catch (e) {
      assert.fail(`case ${i} threw ${String(e)}: ${JSON.stringify(argv).slice(0, 300)}`);
    }
    if (parsed instanceof UsageError) {
      errors++;
      const shown = printable(parsed.message);
      assert.ok(shown.length > 0 && !shown.includes('\n'), `case ${i}: ${JSON.stringify(parsed.message)}`);
      // words the code made up, not echoed from the user's input
      const echoed = argv.join(' ');
      for (const bad of ['undefined', '[object ', 'function ', 'NaN']) {
        if (!echoed.includes(bad)) assert.ok(!parsed.message.includes(bad), `case ${i}: ${parsed.message}`);
      }
    } else {
      commands++;
      checkCommand(parsed, argv);
    }
  }
  assert.ok(commands > 0 && errors > 0, `${commands} commands, ${errors} errors: the generator should reach both`);
});

test('a usage error shows a flag with escape codes escaped, never raw', () => {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'tui', 'cli.js'), 'run', '--\u001b[2J'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stderr.split('\n')[0], 'kiotrace: unknown option "--\\x1b[2J"');
});
