// Terminal input as keys: what stdin gives in raw mode (bytes, or text already decoded) becomes
// the keys of keys.ts. Every input is accepted. Escape sequences this view has no use for
// (colours typed or pasted, terminal replies, mouse reports, function keys) and invalid UTF-8 are
// dropped whole, never typed as text; a sequence split across reads is completed by the next
// read; an ESC that nothing follows is the Escape key once the caller calls `flush`, which it
// does when no more input came for ESCAPE_WAIT_MS. Ctrl-C is the interrupt key in every state.
// Sequences as xterm sends them (ECMA-48 CSI and SS3, OSC/DCS strings, X10 and SGR mouse,
// bracketed paste).

import type { KeyName } from './keys.js';

/**
 * Quiet time after which an unfinished sequence is given up (a lone ESC becomes the Escape key):
 * a terminal sends a sequence in one write, so its pieces arrive well within this.
 */
export const ESCAPE_WAIT_MS = 50;

/** Parameter characters kept of a CSI sequence (the keys used have at most a few); longer ones are skipped whole. */
const MAX_CSI_PARAMS = 16;
/** Characters of one bracketed paste kept; the rest is dropped (the filter and the path are short). */
export const MAX_PASTE_CHARS = 1024;

const ESC = '\u001b';
const PASTE_END = `${ESC}[201~`;

type State =
  | { readonly kind: 'ground' }
  /** After ESC. */
  | { readonly kind: 'escape' }
  /** After ESC [: parameter and intermediate characters up to the final one. */
  | { readonly kind: 'csi'; params: string; overlong: boolean }
  /** After ESC O (cursor keys in application mode). */
  | { readonly kind: 'ss3' }
  /** An OSC, DCS, SOS, PM or APC string: skipped up to BEL or ESC \. */
  | { readonly kind: 'string'; afterEsc: boolean }
  /** The three characters of an X10 mouse report (ESC [ M b x y). */
  | { readonly kind: 'mouse'; left: number }
  /** Between ESC [200~ and ESC [201~: text, never commands; `matched` characters of the end marker seen. */
  | { readonly kind: 'paste'; text: string; chars: number; matched: number };

const GROUND: State = { kind: 'ground' };

/** A character that may be typed as text: not a control character, not half a surrogate pair, not a decoding error. */
function isText(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  return c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c <= 0x9f) && !(c >= 0xd800 && c <= 0xdfff) && c !== 0xfffd;
}

/** The key a CSI sequence names, if it is one this view uses. */
function csiKey(params: string, final: string): KeyName | 'paste' | undefined {
  // modifiers (ESC [ 1 ; 5 A is Ctrl-Up) do not change what an arrow does here
  if (!/^[\d;]*$/.test(params)) return undefined;
  if (final === 'A') return 'up';
  if (final === 'B') return 'down';
  // Shift-Tab moves on as Tab does
  if (final === 'Z') return 'tab';
  if (final === '~') {
    const code = params.split(';', 1)[0];
    // the Delete key edits as Backspace does
    if (code === '3') return 'backspace';
    if (code === '200') return 'paste';
  }
  return undefined;
}

export class KeyDecoder {
  private state: State = GROUND;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: false });

  /** An unfinished sequence is waiting for more input (call `flush` if none comes). */
  get pending(): boolean {
    return this.state.kind !== 'ground';
  }

  /** The keys in `chunk`; what a sequence still unfinished at its end needs comes with the next chunk. */
  push(chunk: string | Uint8Array): KeyName[] {
    // stream: a UTF-8 character split across reads is completed by the next one
    const text = typeof chunk === 'string' ? chunk : this.utf8.decode(chunk, { stream: true });
    const keys: KeyName[] = [];
    for (const ch of text) this.take(ch, keys);
    return keys;
  }

  /** No more input came: a lone ESC is the Escape key, a paste without its end is the text so far, any other unfinished sequence is dropped. */
  flush(): KeyName[] {
    const s = this.state;
    this.state = GROUND;
    if (s.kind === 'escape') return ['escape'];
    if (s.kind === 'paste' && s.text !== '') return [{ paste: s.text }];
    return [];
  }

  private take(ch: string, keys: KeyName[]): void {
    if (ch === '\u0003') {
      // Ctrl-C quits from anywhere, even from inside a sequence
      this.state = GROUND;
      keys.push('interrupt');
      return;
    }
    const s = this.state;
    switch (s.kind) {
      case 'ground':
        return this.ground(ch, keys);
      case 'escape':
        if (ch === '[') this.state = { kind: 'csi', params: '', overlong: false };
        else if (ch === 'O') this.state = { kind: 'ss3' };
        else if (ch === ']' || ch === 'P' || ch === 'X' || ch === '^' || ch === '_') this.state = { kind: 'string', afterEsc: false };
        else {
          // ESC and then a key (Alt-key, or Escape pressed just before it): both, in order
          keys.push('escape');
          this.state = GROUND;
          this.ground(ch, keys);
        }
        return;
      case 'csi': {
        const c = ch.charCodeAt(0);
        if (c >= 0x20 && c <= 0x3f) {
          if (s.params.length < MAX_CSI_PARAMS) s.params += ch;
          else s.overlong = true;
          return;
        }
        if (c >= 0x40 && c <= 0x7e) {
          this.state = GROUND;
          if (s.params === '' && ch === 'M') this.state = { kind: 'mouse', left: 3 };
          const key = s.overlong ? undefined : csiKey(s.params, ch);
          if (key === 'paste') this.state = { kind: 'paste', text: '', chars: 0, matched: 0 };
          else if (key !== undefined) keys.push(key);
          return;
        }
        // not part of a CSI: the sequence is cut off, and this character counts on its own
        this.state = GROUND;
        return this.ground(ch, keys);
      }
      case 'ss3': {
        this.state = GROUND;
        if (ch === 'A') keys.push('up');
        else if (ch === 'B') keys.push('down');
        else if (!(ch >= '@' && ch <= '~')) this.ground(ch, keys);
        return;
      }
      case 'string':
        if (ch === '\u0007' || (s.afterEsc && ch === '\\')) this.state = GROUND;
        else if (s.afterEsc) {
          // ESC and not a terminator: the string was cut off, a new sequence starts
          this.state = { kind: 'escape' };
          this.take(ch, keys);
        } else s.afterEsc = ch === ESC;
        return;
      case 'mouse':
        if (!isText(ch)) {
          this.state = GROUND;
          return this.ground(ch, keys);
        }
        if (--s.left === 0) this.state = GROUND;
        return;
      case 'paste':
        return this.paste(s, ch, keys);
    }
  }

  private ground(ch: string, keys: KeyName[]): void {
    if (ch === ESC) this.state = { kind: 'escape' };
    else if (ch === '\r' || ch === '\n') keys.push('enter');
    else if (ch === '\t') keys.push('tab');
    else if (ch === '\u007f' || ch === '\b') keys.push('backspace');
    else if (isText(ch)) keys.push({ char: ch });
    // other control characters, C1 codes and decoding errors are no keys
  }

  private paste(s: Extract<State, { kind: 'paste' }>, ch: string, keys: KeyName[]): void {
    if (ch === PASTE_END[s.matched]) {
      if (++s.matched < PASTE_END.length) return;
      this.state = GROUND;
      if (s.text !== '') keys.push({ paste: s.text });
      return;
    }
    // what looked like the end marker was text after all; only its first character is an ESC,
    // so a new match can start only here
    const seen = PASTE_END.slice(0, s.matched);
    s.matched = ch === PASTE_END[0] ? 1 : 0;
    for (const c of s.matched === 1 ? seen : seen + ch) {
      if (isText(c) && s.chars < MAX_PASTE_CHARS) {
        s.text += c;
        s.chars++;
      }
    }
  }
}
