// The key decoder as a table (what stdin gives -> keys), then fuzzed: thousands of random byte
// strings (seeded, so every run sees the same ones), each fed whole and cut into random reads,
// never throw, give the same keys however they are cut, and give only keys the reducer knows.
import test from 'node:test';
import assert from 'node:assert/strict';
import { KeyDecoder, MAX_PASTE_CHARS } from '../../../tui/top/key-decoder.js';
import type { KeyName } from '../../../tui/top/keys.js';
import { Random } from '../../../core/sim/random.js';

const ESC = '\u001b';
const c = (char: string): KeyName => ({ char });

/** The keys of `reads` fed one after the other, then of a flush (no more input came). */
function decode(...reads: (string | Uint8Array)[]): KeyName[] {
  const d = new KeyDecoder();
  const keys = reads.flatMap((r) => d.push(r));
  keys.push(...d.flush());
  assert.equal(d.pending, false);
  return keys;
}

test('key decoder: a table of input and keys', () => {
  const rows: [string, (string | Uint8Array)[], KeyName[]][] = [
    ['letters and digits', ['q1 /'], [c('q'), c('1'), c(' '), c('/')]],
    ['control keys', ['\t\r\n\u007f\b'], ['tab', 'enter', 'enter', 'backspace', 'backspace']],
    ['Ctrl-C', ['\u0003'], ['interrupt']],
    ['other control bytes are no keys', ['\u0000\u0001\u0002\u001c\u001f\u0007'], []],
    ['a colour sequence typed or pasted', [`${ESC}[31m`], []],
    ['a colour sequence between letters', [`a${ESC}[1;31mb${ESC}[0m`], [c('a'), c('b')]],
    ['arrows', [`${ESC}[A${ESC}[B`], ['up', 'down']],
    ['arrows in application mode', [`${ESC}OA${ESC}OB`], ['up', 'down']],
    ['arrows with modifiers', [`${ESC}[1;5A${ESC}[1;2B`], ['up', 'down']],
    ['left, right, home, F1, F5 and Page Up are not used', [`${ESC}[C${ESC}[D${ESC}[H${ESC}OP${ESC}[15~${ESC}[5~`], []],
    ['Shift-Tab', [`${ESC}[Z`], ['tab']],
    ['Delete', [`${ESC}[3~`], ['backspace']],
    ['a lone ESC, once nothing follows', [ESC], ['escape']],
    ['two ESCs', [ESC + ESC], ['escape', 'escape']],
    ['ESC and a key', [`${ESC}q`], ['escape', c('q')]],
    ['ESC and Ctrl-C', [`${ESC}\u0003`], ['interrupt']],
    ['a sequence cut by Ctrl-C', [`${ESC}[20\u0003j`], ['interrupt', c('j')]],
    ['a sequence cut by a control character', [`${ESC}[2\rj`], ['enter', c('j')]],
    ['a sequence cut by ESC', [`${ESC}[2${ESC}[A`], ['up']],
    ['a sequence too long to be a key', [`${ESC}[${'1;'.repeat(100)}A`], []],
    ['a bracketed paste is text, never commands', [`${ESC}[200~hello q\r${ESC}[201~`], [{ paste: 'hello q' }]],
    ['an empty paste', [`${ESC}[200~${ESC}[201~`], []],
    ['a paste with something like its end marker in it', [`${ESC}[200~a${ESC}[20b${ESC}${ESC}[201~`], [{ paste: 'a[20b' }]],
    ['a paste without its end', [`${ESC}[200~abc`], [{ paste: 'abc' }]],
    ['a paste is bounded', [`${ESC}[200~${'x'.repeat(5000)}${ESC}[201~q`], [{ paste: 'x'.repeat(MAX_PASTE_CHARS) }, c('q')]],
    ['Ctrl-C in a paste', [`${ESC}[200~ab\u0003`], ['interrupt']],
    ['an X10 mouse report', [`${ESC}[M !!j`], [c('j')]],
    ['an SGR mouse report, press and release', [`${ESC}[<0;10;20M${ESC}[<0;10;20mj`], [c('j')]],
    ['an urxvt mouse report', [`${ESC}[32;10;20Mj`], [c('j')]],
    ['a focus report', [`${ESC}[I${ESC}[O`], []],
    ['an OSC reply ended by BEL', [`${ESC}]11;rgb:0000/0000/0000\u0007q`], [c('q')]],
    ['an OSC reply ended by ST', [`${ESC}]11;rgb:ffff/ffff/ffff${ESC}\\q`], [c('q')]],
    ['a DCS reply', [`${ESC}P1$r0m${ESC}\\`], []],
    ['an OSC cut by a new sequence', [`${ESC}]0;ti${ESC}[A`], ['up']],
    ['an unended OSC', [`${ESC}]0;title`], []],
    ['non-ASCII characters', ['é€😀'], [c('é'), c('€'), c('😀')]],
    ['C1 codes are no keys', ['\u0085\u009b'], []],
    ['invalid UTF-8 is no key', [Uint8Array.from([0xff, 0xfe, 0xc3, 0x71])], [c('q')]],
    ['a lone surrogate is no key', ['\ud800q'], [c('q')]],
    // split across reads
    ['ESC, then the rest of an arrow', [ESC, '[A'], ['up']],
    ['a colour sequence in three reads', [`${ESC}[`, '3', '1m'], []],
    ['an OSC in two reads', [`${ESC}]0;ti`, `tle\u0007j`], [c('j')]],
    ['a paste marker in two reads', [`${ESC}[20`, '0~ab', `${ESC}[2`, '01~'], [{ paste: 'ab' }]],
    ['a UTF-8 character in two reads', [Uint8Array.from([0xc3]), Uint8Array.from([0xa9])], [c('é')]],
    ['an emoji byte by byte', [...Buffer.from('😀')].map((b) => Uint8Array.from([b])), [c('😀')]],
  ];
  for (const [what, reads, keys] of rows) assert.deepEqual(decode(...reads), keys, what);
});

test('key decoder: an unfinished sequence waits for the next read; flush ends it', () => {
  const d = new KeyDecoder();
  assert.deepEqual(d.push(`j${ESC}`), [c('j')]);
  assert.equal(d.pending, true, 'a lone ESC might be the start of a sequence');
  assert.deepEqual(d.push('['), []);
  assert.deepEqual(d.push('B'), ['down']);
  assert.equal(d.pending, false);
  assert.deepEqual(d.push(`${ESC}[3`), []);
  assert.deepEqual(d.flush(), [], 'a cut-off sequence is dropped');
  assert.deepEqual(d.push('k'), [c('k')], 'and the next key counts');
});

/** Pieces that make the decoder's states likely: ESC and what follows it in real sequences. */
const PIECES = [ESC, '[', 'O', ']', 'P', '\\', '\u0007', '\u0003', ';', '1', '3', '~', 'M', '<', 'A', 'B', 'm', '200~', '201~', 'q', '\r', '\t', '\u007f', 'é', `${ESC}[200~`, `${ESC}[201~`, `${ESC}[M`, `${ESC}]0;`, `${ESC}[A`, `${ESC}OB`];

/** A random byte string: random bytes and pieces of sequences, mixed. */
function randomBytes(rng: Random): Uint8Array {
  const bytes: number[] = [];
  const n = rng.int(48);
  for (let i = 0; i < n; i++) {
    if (rng.next() < 0.5) bytes.push(rng.int(256));
    else bytes.push(...Buffer.from(PIECES[rng.int(PIECES.length)]!));
  }
  return Uint8Array.from(bytes);
}

/** A key the reducer knows: a named key, one printable character, or printable pasted text within the bound. */
function isKnownKey(k: KeyName): boolean {
  if (typeof k === 'string') return ['up', 'down', 'tab', 'escape', 'enter', 'backspace', 'interrupt'].includes(k);
  const printable = (t: string): boolean => !/[\u0000-\u001f\u007f-\u009f\ufffd]/u.test(t) && !/\p{Cs}/u.test(t);
  if ('char' in k) return [...k.char].length === 1 && printable(k.char);
  return k.paste !== '' && [...k.paste].length <= MAX_PASTE_CHARS && printable(k.paste);
}

test('key decoder fuzz: 5000 random byte strings never throw, give known keys, and the same keys however they are cut into reads', () => {
  // the project's seeded generator: the same strings on every run
  const rng = new Random(20261207);
  const all: KeyName[] = [];
  for (let i = 0; i < 5000; i++) {
    const bytes = randomBytes(rng);
    const whole = decode(bytes);
    // cut into reads at random places (inside sequences and inside UTF-8 characters too)
    const reads: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; ) {
      const len = 1 + rng.int(8);
      reads.push(bytes.subarray(at, at + len));
      at += len;
    }
    assert.deepEqual(decode(...reads), whole, `input ${Buffer.from(bytes).toString('hex')}`);
    for (const k of whole) assert.ok(isKnownKey(k), `${JSON.stringify(k)} from ${Buffer.from(bytes).toString('hex')}`);
    all.push(...whole);
  }
  // the fuzz reaches every kind of key, so it exercises every state
  const kinds = new Set(all.map((k) => (typeof k === 'string' ? k : 'char' in k ? 'char' : 'paste')));
  assert.deepEqual([...kinds].sort(), ['backspace', 'char', 'down', 'enter', 'escape', 'interrupt', 'paste', 'tab', 'up']);
});
