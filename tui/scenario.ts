// Scenario files: a machine plus fio jobs, as JSON, or an fio job file run unmodified (format:
// traces/README.md). Both read their jobs through one fio option table (tui/fio/).
// Reading one never throws for a user mistake: every problem becomes a Diagnostic with the field
// path, the source position when we have the text, what is wrong and what to write instead, and
// all of them are collected, not just the first.

import { existsSync, readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { printableText } from '../probes/lang/diagnostics.js';
import { readTextFile } from './input-files.js';
import {
  DEFAULT_MACHINE,
  DEFAULT_MOUNT_OPTIONS,
  DEFAULT_POWER,
  DEFAULT_VM,
  EXT4_BLOCK_SIZE,
  ext4FileCostBlocks,
  filesystemFreeBlocks,
  LRU_POLICIES,
  attributePaths,
  findAttribute,
  findCommand,
  readAheadKbProblem,
  USER_COMMANDS,
  type ScenarioEvent,
  type DataMode,
  NvmeStatus,
  NVME_STATUS_CRD_SHIFT,
  SenseKey,
  type FaultKind,
  type FaultOp,
  type FaultSpec,
  type ScsiSense,
  type DeviceKind,
  type DeviceSpec,
  type SsdSpec,
  type IrqCoalescingSpec,
  type JobSpec,
  type MachineSpec,
  type MountOptions,
  type Scenario,
  type SchedulerName,
  type VmSpec,
  type CgroupSpec,
  type PrinterSpec,
  type PreemptModelName,
  type SchedFifoSpec,
  deviceNumbers,
  mkdev,
  type PowerSpec,
  type CpufreqSpec,
  type HostSpec,
  type NetworkSpec,
  type NicCoalesceSpec,
  type NicSpec,
} from '../core/index.js';
import { DEFAULT_LINK } from '../core/hw/nic/link.js';
import { ipv4String } from '../core/net/netdevice.js';
import { MAX_STEP_IOS } from './steps.js';
import { DEFAULT_NFS_MOUNT_OPTIONS, parseNfsMountOptions, type NfsMountOptions } from '../core/fs/nfs/super.js';
import type { NetworkMountSpec, NfsdSpec } from '../core/userspace/job.js';
import { NFSD_DEFAULT_THREADS } from '../core/fs/nfsd/nfssvc.js';
import { DEFAULT_CPUFREQ_MAX_MHZ, DEFAULT_CPUFREQ_MIN_MHZ, DEFAULT_SUGOV_RATE_LIMIT_US } from '../core/power/cpufreq.js';
import { formatBytes, formatSizeFio, MAX_DURATION_NS, parseDuration, parseSize, printable, type TimeUnit } from './units.js';
import { ownValue } from '../probes/lang/values.js';
import { closestWord } from './fio/suggest.js';
import { readIni, type IniOption, type Where } from './fio/ini.js';
import { impliedDurationNs, resolveJobs, resolveTarget, type JobInput, type OptionInput, type ResolveContext, type ResolvedJob } from './fio/jobfile.js';

// ---------------------------------------------------------------------------------------------
// Diagnostics

export type DiagnosticCode =
  | 'json-syntax'
  | 'wrong-type'
  | 'missing-key'
  | 'unknown-key'
  | 'unsupported-option'
  | 'duplicate-key'
  | 'bad-value'
  | 'not-on-device'
  | 'conflict'
  | 'unknown-scenario'
  | 'unreadable-file'
  | 'job-file-syntax'
  | 'too-many';

export interface SourceLocation {
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
  /** How many characters the caret line underlines (at least 1, never past the line's end). */
  readonly length: number;
  /** The source line, without its line break. */
  readonly lineText: string;
  /** Job files say `file:line:` as fio users expect; JSON scenarios `file:line:column:`. */
  readonly lineOnly?: boolean;
}

export interface Diagnostic {
  readonly code: DiagnosticCode;
  /** The file as the user named it, or "kiotrace" for problems finding the file at all. */
  readonly source: string;
  /** Field path such as `jobs[1].size`; '' when the problem is the whole file. */
  readonly path: string;
  readonly message: string;
  /** Present when the scenario came from text (not from an already-parsed value). */
  readonly location?: SourceLocation;
}

/**
 * `file:line:col: path: message`, then the source line and a caret line (bpftrace-style), or just
 * `file: path: message` when there is no location.
 */
export function renderDiagnostic(d: Diagnostic): string {
  const where =
    d.location === undefined ? d.source : d.location.lineOnly === true ? `${d.source}:${d.location.line}` : `${d.source}:${d.location.line}:${d.location.column}`;
  // Names, keys and file text reach the terminal escaped: a scenario cannot move the cursor.
  const head = printable(`${where}: ${d.path === '' ? '' : `${d.path}: `}${d.message}`);
  if (d.location === undefined) return head;
  const { lineText, column, length } = d.location;
  // A long line (minified JSON) is shown as a window around the caret.
  let start = 0;
  let end = lineText.length;
  if (lineText.length > SHOWN_LINE_CHARS) {
    start = Math.max(0, Math.min(column - 1 - SHOWN_LINE_CHARS / 4, lineText.length - SHOWN_LINE_CHARS));
    end = start + SHOWN_LINE_CHARS;
  }
  const before = `${start > 0 ? '...' : ''}${printableSource(lineText.slice(start, column - 1))}`;
  const marked = printableSource(lineText.slice(column - 1, Math.min(end, column - 1 + length)));
  const shown = `${before}${printableSource(lineText.slice(column - 1, end))}${end < lineText.length ? '...' : ''}`;
  // Keep tabs in the caret line so it lines up under the source line in any terminal.
  const pad = before.replace(/[^\t]/g, ' ');
  return `${head}\n${shown}\n${pad}^${'~'.repeat(Math.max(0, marked.length - 1))}`;
}

/** A source line as printed: escaped like printable(), but tabs stay tabs (JSON's whitespace). */
function printableSource(text: string): string {
  return printableText(text, { keepTabs: true });
}

/** Source lines longer than this are shown as a window of this many characters around the caret. */
const SHOWN_LINE_CHARS = 160;

export type ScenarioResult =
  | { readonly ok: true; readonly scenario: Scenario }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

interface Span {
  readonly offset: number;
  readonly length: number;
}

function locate(text: string, span: Span): SourceLocation {
  const offset = Math.min(span.offset, text.length);
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd === -1) lineEnd = text.length;
  const lineText = text.slice(lineStart, lineEnd).replace(/\r$/, '');
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (text.charCodeAt(i) === 10) line++;
  const column = offset - lineStart + 1;
  const length = Math.max(1, Math.min(span.length, lineText.length - (column - 1)));
  return { line, column, length, lineText };
}

// ---------------------------------------------------------------------------------------------
// JSON with positions. JSON.parse forgets where values were (and its messages differ between
// Node versions), so scenario text goes through this small strict RFC 8259 parser instead.

type JsonNode = JsonObject | JsonArray | JsonString | JsonNumber | JsonBoolean | JsonNull | JsonOther;

interface JsonEntry {
  readonly key: string;
  readonly keySpan: Span | undefined;
  readonly value: JsonNode;
}
interface JsonObject {
  readonly kind: 'object';
  readonly span: Span | undefined;
  readonly entries: readonly JsonEntry[];
}
interface JsonArray {
  readonly kind: 'array';
  readonly span: Span | undefined;
  readonly items: readonly JsonNode[];
}
interface JsonString {
  readonly kind: 'string';
  readonly span: Span | undefined;
  readonly value: string;
}
interface JsonNumber {
  readonly kind: 'number';
  readonly span: Span | undefined;
  readonly value: number;
  readonly raw: string;
}
interface JsonBoolean {
  readonly kind: 'boolean';
  readonly span: Span | undefined;
  readonly value: boolean;
}
interface JsonNull {
  readonly kind: 'null';
  readonly span: Span | undefined;
}
/** A JavaScript value JSON cannot hold (undefined, a function, NaN...), from parseScenario(unknown). */
interface JsonOther {
  readonly kind: 'other';
  readonly span: Span | undefined;
  readonly description: string;
}

class JsonSyntaxError {
  constructor(
    readonly span: Span,
    readonly message: string,
  ) {}
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Deepest nesting of objects and arrays a scenario may have (it needs 4: jobs, a job, ...). Like
 * other JSON parsers' limits, it keeps a hostile file from exhausting the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** `text` in double quotes, cut short when long: what messages quote back from the file. */
function quote(text: string, maxChars = 40): string {
  return JSON.stringify(text.length > maxChars ? `${text.slice(0, maxChars - 3)}...` : text);
}

class JsonParser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1; // UTF-8 BOM
  }

  parseDocument(): JsonNode {
    this.skipSpace();
    if (this.pos >= this.text.length) throw new JsonSyntaxError({ offset: 0, length: 1 }, 'the file is empty; expected a JSON object');
    const value = this.parseValue();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail(`unexpected ${this.describeHere()} after the end of the JSON value`);
    return value;
  }

  private fail(message: string, offset = this.pos, length = 1): never {
    throw new JsonSyntaxError({ offset, length }, message);
  }

  /** Points an end-of-file error just past the last real character, not at an empty last line. */
  private failAtEnd(message: string): never {
    let end = this.text.length;
    while (end > 0 && /\s/.test(this.text[end - 1]!)) end--;
    this.fail(`unexpected end of file; ${message}`, end);
  }

  private describeHere(): string {
    const word = /[A-Za-z_$][\w$]*/y;
    word.lastIndex = this.pos;
    const m = word.exec(this.text);
    return m !== null ? `word ${quote(m[0])}` : `character ${JSON.stringify(this.text[this.pos])}`;
  }

  private skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const ch = t[this.pos]!;
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') this.pos++;
      else if (ch === '/' && (t[this.pos + 1] === '/' || t[this.pos + 1] === '*')) this.fail('comments are not allowed in JSON', this.pos, 2);
      else return;
    }
  }

  private parseValue(): JsonNode {
    const ch = this.text[this.pos];
    if (ch === undefined) this.failAtEnd('expected a value');
    if (ch === '{' || ch === '[') {
      if (this.depth >= MAX_JSON_DEPTH) this.fail(`nested deeper than ${MAX_JSON_DEPTH} levels; a scenario needs at most 4 (see traces/README.md)`);
      this.depth++;
      const node = ch === '{' ? this.parseObject() : this.parseArray();
      this.depth--;
      return node;
    }
    if (ch === '"') return this.parseString();
    if (ch === '-' || (ch >= '0' && ch <= '9')) return this.parseNumber();
    if (ch === "'") this.fail('strings must use double quotes in JSON');
    const word = /[A-Za-z_$][\w$]*/y;
    word.lastIndex = this.pos;
    const m = word.exec(this.text);
    if (m !== null) {
      const span = { offset: this.pos, length: m[0].length };
      this.pos += m[0].length;
      if (m[0] === 'true' || m[0] === 'false') return { kind: 'boolean', span, value: m[0] === 'true' };
      if (m[0] === 'null') return { kind: 'null', span };
      this.fail(`unexpected word ${quote(m[0])}; strings must be in double quotes`, span.offset, span.length);
    }
    this.fail(`unexpected character ${JSON.stringify(ch)}; expected a value`);
  }

  private parseObject(): JsonObject {
    const start = this.pos++;
    const entries: JsonEntry[] = [];
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { kind: 'object', span: { offset: start, length: this.pos - start }, entries };
    }
    let comma = -1;
    for (;;) {
      this.skipSpace();
      const ch = this.text[this.pos];
      if (ch === undefined) this.failAtEnd('expected a property name or "}"');
      if (ch === '}' && comma !== -1) this.fail('trailing comma before "}" is not allowed in JSON', comma);
      if (ch === "'") this.fail('property names must use double quotes in JSON');
      if (ch !== '"') this.fail(`expected a property name in double quotes, found ${this.describeHere()}`);
      const keyNode = this.parseString();
      this.skipSpace();
      if (this.text[this.pos] === undefined) this.failAtEnd(`expected ":" after ${quote(keyNode.value)}`);
      if (this.text[this.pos] !== ':') this.fail(`expected ":" after ${quote(keyNode.value)}, found ${this.describeHere()}`);
      this.pos++;
      this.skipSpace();
      const value = this.parseValue();
      entries.push({ key: keyNode.value, keySpan: keyNode.span, value });
      this.skipSpace();
      const next = this.text[this.pos];
      if (next === ',') {
        comma = this.pos++;
        continue;
      }
      if (next === '}') {
        this.pos++;
        return { kind: 'object', span: { offset: start, length: this.pos - start }, entries };
      }
      if (next === undefined) this.failAtEnd('expected "," or "}"');
      this.fail(`expected "," or "}" after the value of ${quote(keyNode.value)}, found ${this.describeHere()}`);
    }
  }

  private parseArray(): JsonArray {
    const start = this.pos++;
    const items: JsonNode[] = [];
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { kind: 'array', span: { offset: start, length: this.pos - start }, items };
    }
    let comma = -1;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === ']' && comma !== -1) this.fail('trailing comma before "]" is not allowed in JSON', comma);
      items.push(this.parseValue());
      this.skipSpace();
      const next = this.text[this.pos];
      if (next === ',') {
        comma = this.pos++;
        continue;
      }
      if (next === ']') {
        this.pos++;
        return { kind: 'array', span: { offset: start, length: this.pos - start }, items };
      }
      if (next === undefined) this.failAtEnd('expected "," or "]"');
      this.fail(`expected "," or "]" after an array element, found ${this.describeHere()}`);
    }
  }

  private parseString(): JsonString {
    const t = this.text;
    const start = this.pos++;
    let out = '';
    for (;;) {
      const ch = t[this.pos];
      if (ch === undefined || ch === '\n' || ch === '\r') this.fail('unterminated string (a string cannot span lines)', start, this.pos - start);
      if (ch === '"') {
        this.pos++;
        return { kind: 'string', span: { offset: start, length: this.pos - start }, value: out };
      }
      if (ch === '\\') {
        const esc = t[this.pos + 1];
        const simple = esc === undefined ? undefined : ownValue(SIMPLE_ESCAPES, esc);
        if (simple !== undefined) {
          out += simple;
          this.pos += 2;
          continue;
        }
        if (esc === 'u' && /^[0-9a-fA-F]{4}$/.test(t.slice(this.pos + 2, this.pos + 6))) {
          out += String.fromCharCode(parseInt(t.slice(this.pos + 2, this.pos + 6), 16));
          this.pos += 6;
          continue;
        }
        this.fail(`invalid escape ${JSON.stringify(t.slice(this.pos, this.pos + 2))} in string`, this.pos, 2);
      }
      if (ch < ' ') this.fail('control character in string; write it as an escape such as \\t');
      out += ch;
      this.pos++;
    }
  }

  private parseNumber(): JsonNumber {
    const re = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    const after = m === null ? this.pos : this.pos + m[0].length;
    // "-4k" and "4k" are not JSON numbers: say so in terms of what the user meant.
    if (m === null || /[\w.]/.test(this.text[after] ?? '')) {
      const tokenRe = /[-\w.]+/y;
      tokenRe.lastIndex = this.pos;
      const token = tokenRe.exec(this.text)?.[0] ?? this.text[this.pos]!;
      const shown = token.length > 40 ? `${token.slice(0, 37)}...` : token;
      this.fail(`invalid number ${shown}; write sizes and durations with a unit as strings, e.g. "${shown}"`, this.pos, token.length);
    }
    const span = { offset: this.pos, length: m[0].length };
    this.pos = after;
    return { kind: 'number', span, value: Number(m[0]), raw: m[0] };
  }
}

/**
 * Narrows an already-parsed value (JSON.parse output or a literal) into nodes. There is no text, so
 * a span's offset is the node's pre-order index: diagnostics still sort into document order.
 */
function fromUnknown(value: unknown, order: { next: number } = { next: 0 }, seen: Set<object> = new Set(), depth = 0): JsonNode {
  const span: Span = { offset: order.next++, length: 1 };
  if (value === null) return { kind: 'null', span };
  if (typeof value === 'string') return { kind: 'string', span, value };
  if (typeof value === 'boolean') return { kind: 'boolean', span, value };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { kind: 'other', span, description: String(value) };
    return { kind: 'number', span, value, raw: String(value) };
  }
  if (typeof value === 'object') {
    if (seen.has(value)) return { kind: 'other', span, description: 'a circular reference' };
    if (depth >= MAX_JSON_DEPTH) return { kind: 'other', span, description: `a value nested deeper than ${MAX_JSON_DEPTH} levels` };
    seen.add(value);
    try {
      if (Array.isArray(value)) {
        const items: JsonNode[] = [];
        for (const item of value as readonly unknown[]) items.push(fromUnknown(item, order, seen, depth + 1));
        return { kind: 'array', span, items };
      }
      const entries: JsonEntry[] = [];
      for (const [key, v] of Object.entries(value as Readonly<Record<string, unknown>>)) {
        const keySpan: Span = { offset: order.next++, length: 1 };
        entries.push({ key, keySpan, value: fromUnknown(v, order, seen, depth + 1) });
      }
      return { kind: 'object', span, entries };
    } finally {
      seen.delete(value);
    }
  }
  return { kind: 'other', span, description: typeof value === 'undefined' ? 'undefined' : `a ${typeof value}` };
}

function describe(node: JsonNode): string {
  switch (node.kind) {
    case 'string':
      return quote(node.value);
    case 'number':
      return node.raw;
    case 'boolean':
      return String(node.value);
    case 'null':
      return 'null';
    case 'array':
      return 'an array';
    case 'object':
      return 'an object';
    case 'other':
      return node.description;
  }
}

// ---------------------------------------------------------------------------------------------
// Validation


interface Found {
  readonly code: DiagnosticCode;
  readonly path: string;
  readonly span: Span | undefined;
  readonly message: string;
}

/** More problems than this are counted, not listed: a file of 100,000 mistakes gets a readable answer. */
const MAX_DIAGNOSTICS = 50;

class Checker {
  private readonly found: Found[] = [];
  /** Diagnostics of other files (a scenario's job file), listed after this file's own. */
  private readonly others: Diagnostic[] = [];

  constructor(
    private readonly source: string,
    private readonly text: string | undefined,
  ) {}

  report(code: DiagnosticCode, path: string, span: Span | undefined, message: string): void {
    this.found.push({ code, path, span, message });
  }

  external(d: Diagnostic): void {
    this.others.push(d);
  }

  get count(): number {
    return this.found.length + this.others.length;
  }

  /** In file order (stable for equal offsets), so the list reads top to bottom; located only when shown. */
  diagnostics(): Diagnostic[] {
    const sorted = [...this.found].sort((a, b) => (a.span?.offset ?? Infinity) - (b.span?.offset ?? Infinity));
    const all = [
      ...sorted.map((f): Diagnostic => {
        const base = { code: f.code, source: this.source, path: f.path, message: f.message };
        return f.span !== undefined && this.text !== undefined ? { ...base, location: locate(this.text, f.span) } : base;
      }),
      ...this.others.filter((d) => d.code !== 'too-many'),
    ];
    const shown = all.slice(0, MAX_DIAGNOSTICS);
    if (all.length > MAX_DIAGNOSTICS) {
      const more = all.length - MAX_DIAGNOSTICS;
      shown.push({ code: 'too-many', source: this.source, path: '', message: `${more} more problem${more === 1 ? '' : 's'} not shown; fix these first` });
    }
    return shown;
  }
}

/** A key as a field path shows it: `size`, or quoted (and cut short) when it is not a plain word. */
function join2(path: string, key: string): string {
  if (/^[A-Za-z0-9_$-]{1,40}$/.test(key)) return path === '' ? key : `${path}.${key}`;
  const shown = key.length > 40 ? `${key.slice(0, 37)}...` : key;
  return `${path}[${JSON.stringify(shown)}]`;
}

interface KeySpec {
  readonly known: readonly string[];
  /** Spellings that mean a known key in fio or elsewhere, suggested rather than guessed. */
  readonly aliases: Readonly<Record<string, string>>;
  /** Real fio options kiotrace does not model. */
  readonly unsupported?: ReadonlySet<string>;
  readonly noun: 'key' | 'option';
}

type Fields = Map<string, JsonNode>;

function readObject(c: Checker, node: JsonNode, path: string, what: string, spec: KeySpec): { fields: Fields; node: JsonObject } | undefined {
  if (node.kind !== 'object') {
    c.report('wrong-type', path, node.span, `must be ${what} (got ${describe(node)})`);
    return undefined;
  }
  const fields: Fields = new Map();
  for (const entry of node.entries) {
    const p = join2(path, entry.key);
    if (fields.has(entry.key)) {
      c.report('duplicate-key', p, entry.keySpan, `given twice; remove one (JSON keeps only the last)`);
    } else if (spec.known.includes(entry.key)) {
      fields.set(entry.key, entry.value);
    } else if (spec.unsupported?.has(entry.key) === true) {
      c.report('unsupported-option', p, entry.keySpan, `fio option not supported by kiotrace (supported: ${spec.known.join(', ')})`);
    } else {
      const suggestion = ownValue(spec.aliases, entry.key) ?? ownValue(spec.aliases, entry.key.toLowerCase()) ?? closestWord(entry.key, spec.known);
      c.report(
        'unknown-key',
        p,
        entry.keySpan,
        suggestion !== undefined ? `unknown ${spec.noun}; did you mean "${suggestion}"?` : `unknown ${spec.noun} (expected one of: ${spec.known.join(', ')})`,
      );
    }
  }
  return { fields, node };
}

function missing(c: Checker, obj: JsonObject, path: string, key: string, example: string): void {
  c.report('missing-key', join2(path, key), obj.span === undefined ? undefined : { offset: obj.span.offset, length: 1 }, `required but missing (e.g. ${example})`);
}

/** A non-empty name of at most `maxChars` characters. */
function readName(c: Checker, node: JsonNode, path: string, maxChars: number): string | undefined {
  if (node.kind !== 'string' || node.value === '') {
    c.report('wrong-type', path, node.span, `must be a non-empty string (got ${describe(node)})`);
    return undefined;
  }
  if (node.value.length > maxChars) {
    c.report('bad-value', path, node.span, `is ${node.value.length} characters long; give at most ${maxChars}`);
    return undefined;
  }
  return node.value;
}

interface SizeRule {
  /** What the user could write, e.g. "64m". */
  readonly example: string;
  readonly minBytes: number;
  readonly maxBytes: number;
  /** Sizes must be a multiple of this (1 for any). */
  readonly multipleOf: number;
  /** The unit `multipleOf` is, for the message: "4k pages". */
  readonly multipleName: string;
}

/** Bytes from "64m" or a JSON integer (bytes), within the rule's bounds. */
function readSize(c: Checker, node: JsonNode, path: string, rule: SizeRule): number | undefined {
  let bytes: number | undefined;
  if (node.kind === 'string') bytes = parseSize(node.value);
  else if (node.kind === 'number' && Number.isSafeInteger(node.value) && node.value >= 0) bytes = node.value;
  let problem: string | undefined;
  if (bytes === undefined || bytes === 0) problem = `must be a positive size like "${rule.example}"`;
  else if (bytes % rule.multipleOf !== 0) problem = `must be a whole number of ${rule.multipleName}`;
  else if (bytes < rule.minBytes) problem = `must be at least ${formatSizeFio(rule.minBytes)}`;
  else if (bytes > rule.maxBytes) problem = `must be at most ${formatSizeFio(rule.maxBytes)}`;
  if (problem !== undefined) {
    c.report('bad-value', path, node.span, `${problem} (got ${describe(node)})`);
    return undefined;
  }
  return bytes;
}


interface DurationRule {
  readonly bareUnit: TimeUnit;
  /** What the user could write, e.g. `"2s" or "500ms"`. */
  readonly hint: string;
  readonly allowZero: boolean;
}

function readDuration(c: Checker, node: JsonNode, path: string, rule: DurationRule): number | undefined {
  let ns: number | undefined;
  if (node.kind === 'string') ns = parseDuration(node.value, rule.bareUnit);
  else if (node.kind === 'number' && node.value >= 0) ns = parseDuration(node.raw, rule.bareUnit);
  if (ns === undefined || (ns === 0 && !rule.allowZero)) {
    c.report('bad-value', path, node.span, `must be a ${rule.allowZero ? '' : 'positive '}duration like ${rule.hint} (got ${describe(node)})`);
    return undefined;
  }
  if (ns > MAX_DURATION_NS) {
    c.report('bad-value', path, node.span, `must be at most 1h of simulated time (got ${describe(node)})`);
    return undefined;
  }
  return ns;
}

function readInt(c: Checker, node: JsonNode, path: string, min: number, max: number): number | undefined {
  let n: number | undefined;
  if (node.kind === 'number' && Number.isInteger(node.value)) n = node.value;
  else if (node.kind === 'string' && /^\d+$/.test(node.value)) n = Number(node.value);
  if (n === undefined || n < min || n > max) {
    c.report('bad-value', path, node.span, `must be an integer from ${min} to ${max} (got ${describe(node)})`);
    return undefined;
  }
  return n;
}

function readChoice<T extends string>(
  c: Checker,
  node: JsonNode,
  path: string,
  choices: readonly T[],
  aliases: Readonly<Record<string, T>>,
  unknownText: (got: string) => string,
): T | undefined {
  if (node.kind === 'string') {
    const value = node.value;
    const hit = choices.find((x) => x === value) ?? ownValue(aliases, value);
    if (hit !== undefined) return hit;
    const suggestion = closestWord(value, choices);
    c.report('bad-value', path, node.span, `${unknownText(describe(node))}${suggestion !== undefined ? `; did you mean "${suggestion}"?` : ''}`);
    return undefined;
  }
  c.report('wrong-type', path, node.span, unknownText(describe(node)));
  return undefined;
}

/** An absolute path with no empty, "." or ".." components and no trailing slash. */
function isCleanAbsolutePath(p: string): boolean {
  return p.startsWith('/') && p.length > 1 && p.slice(1).split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** PATH_MAX less its terminating NUL. */
const MAX_PATH_CHARS = 4095;

/**
 * Why `p` cannot be a Linux path (what to write instead), or undefined when it can. `what` is the
 * message for a path of the wrong shape.
 */
function pathProblem(node: JsonNode, what: string): string | undefined {
  if (node.kind !== 'string' || !isCleanAbsolutePath(node.value)) return `${what} (got ${describe(node)})`;
  if (node.value.includes('\0')) return `must not contain a NUL byte: Linux paths end at the first one (got ${describe(node)})`;
  if (node.value.length > MAX_PATH_CHARS) return `is ${node.value.length} characters long; Linux paths are at most ${MAX_PATH_CHARS} (PATH_MAX)`;
  return undefined;
}

const TOP_KEYS: KeySpec = {
  known: ['name', 'description', 'duration', 'machine', 'jobs', 'job_file', 'steps', 'crash_at', 'events', 'hosts', 'network'],
  aliases: { event: 'events', at: 'events', job: 'jobs', runtime: 'duration', desc: 'description', jobfile: 'job_file', file: 'job_file', host: 'hosts', peers: 'hosts', remotes: 'hosts', net: 'network', link: 'network' },
  noun: 'key',
};
const MACHINE_FILE_KEYS: KeySpec = { known: ['machine'], aliases: { machines: 'machine', host: 'machine' }, noun: 'key' };
const MACHINE_KEYS: KeySpec = {
  known: ['cpus', 'memory', 'devices', 'vm', 'cgroups', 'preempt', 'sched_fifo', 'printers', 'power', 'nics', 'mounts', 'nfsd'],
  aliases: { cpu: 'cpus', mem: 'memory', ram: 'memory', disks: 'devices', sysctl: 'vm', preemption: 'preempt', chrt: 'sched_fifo', printer: 'printers', lp: 'printers', nic: 'nics', interfaces: 'nics', netdevs: 'nics', mount: 'mounts', nfs: 'mounts', 'rpc.nfsd': 'nfsd', exports: 'nfsd' },
  noun: 'key',
};
const PRINTER_KEYS: KeySpec = { known: ['name', 'baud'], aliases: { speed: 'baud', rate: 'baud' }, noun: 'key' };
/** The serial line speeds (termios Bxxx) a printer may run at; 9600 unless given. */
const BAUD_RATES = [300, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600] as const;
const DEFAULT_BAUD = 9600;
const MAX_PRINTERS = 4;

/** machine.printers: [{"name": "lp0", "baud": 9600}], line printers /dev/lp0.. with their spool queues. */
function readPrinters(c: Checker, node: JsonNode, blockNames: readonly string[]): PrinterSpec[] {
  if (node.kind !== 'array' || node.items.length === 0 || node.items.length > MAX_PRINTERS) {
    c.report(node.kind !== 'array' ? 'wrong-type' : 'bad-value', 'machine.printers', node.span, `must be an array of 1 to ${MAX_PRINTERS} printers like [{"name": "lp0", "baud": 9600}] (got ${describe(node)})`);
    return [];
  }
  const out: PrinterSpec[] = [];
  node.items.forEach((item, i) => {
    const path = `machine.printers[${i}]`;
    const obj = readObject(c, item, path, 'an object like {"name": "lp0", "baud": 9600}', PRINTER_KEYS);
    if (obj === undefined) return;
    const nameNode = obj.fields.get('name');
    let name: string | undefined;
    if (nameNode === undefined) missing(c, obj.node, path, 'name', '"name": "lp0"');
    else if (nameNode.kind !== 'string' || !/^lp[0-9]$/.test(nameNode.value)) c.report('bad-value', join2(path, 'name'), nameNode.span, `must be a line printer name lp0 to lp9 (got ${describe(nameNode)})`);
    else if (out.some((p) => p.name === nameNode.value)) c.report('conflict', join2(path, 'name'), nameNode.span, `duplicate printer name ${quote(nameNode.value)}; give each printer its own`);
    else if (blockNames.includes(nameNode.value)) c.report('conflict', join2(path, 'name'), nameNode.span, `${quote(nameNode.value)} is already a block device's name`);
    else name = nameNode.value;
    const baudNode = obj.fields.get('baud');
    let baud: number = DEFAULT_BAUD;
    if (baudNode !== undefined) {
      const n = baudNode.kind === 'number' ? baudNode.value : baudNode.kind === 'string' && /^\d+$/.test(baudNode.value) ? Number(baudNode.value) : NaN;
      if ((BAUD_RATES as readonly number[]).includes(n)) baud = n;
      else c.report('bad-value', join2(path, 'baud'), baudNode.span, `must be a serial line speed: one of ${BAUD_RATES.join(', ')} (got ${describe(baudNode)})`);
    }
    if (name !== undefined) out.push({ name, baud });
  });
  return out;
}
// ---- the network: machine.nics, "hosts" and "network" ----

const NIC_KEYS: KeySpec = {
  known: ['name', 'address', 'speed', 'queues', 'max_frags', 'mtu', 'tso', 'gro', 'tx_ring', 'rx_ring', 'coalescing'],
  aliases: { ifname: 'name', addr: 'address', ip: 'address', bandwidth: 'speed', channels: 'queues', combined: 'queues', sg_limit: 'max_frags', frags: 'max_frags', tx_ring_size: 'tx_ring', rx_ring_size: 'rx_ring', coalesce: 'coalescing', irq_coalescing: 'coalescing' },
  noun: 'key',
};
const COALESCING_KEYS: KeySpec = {
  known: ['rx_usecs', 'rx_frames', 'tx_usecs', 'tx_frames', 'adaptive_rx'],
  aliases: { 'rx-usecs': 'rx_usecs', 'rx-frames': 'rx_frames', 'tx-usecs': 'tx_usecs', 'tx-frames': 'tx_frames', 'adaptive-rx': 'adaptive_rx', adaptive: 'adaptive_rx' },
  noun: 'key',
};
const HOST_KEYS: KeySpec = { known: ['name', 'address', 'cpus', 'memory', 'devices', 'nics', 'nfsd'], aliases: { hostname: 'name', ip: 'address', addr: 'address', cpu: 'cpus', mem: 'memory', ram: 'memory', disks: 'devices', nic: 'nics' }, noun: 'key' };
const NETWORK_KEYS: KeySpec = { known: ['bandwidth', 'latency'], aliases: { speed: 'bandwidth', rate: 'bandwidth', delay: 'latency', propagation: 'latency', rtt: 'latency' }, noun: 'key' };
/** Ethernet speeds ethtool reports, in Mb/s, by the names a scenario gives them. */
const LINK_SPEEDS: Readonly<Record<string, number>> = { '100m': 100, '1g': 1000, '2.5g': 2500, '5g': 5000, '10g': 10_000, '25g': 25_000, '40g': 40_000, '50g': 50_000, '100g': 100_000 };
/** ETH_MIN_MTU, and the largest MTU an mlx5 port takes (a 9978-byte jumbo frame payload). */
const ETH_MIN_MTU = 68;
const MLX5E_MAX_MTU = 9978;
/** IFNAMSIZ less the NUL. */
const MAX_IFNAME_CHARS = 15;
const MAX_NICS = 4;
const MAX_HOSTS = 16;
const MAX_QUEUES = 64;
/** The rings ethtool -g accepts on an mlx5-class NIC. */
const MIN_RING = 64;
const MAX_RING = 8192;
/** A host's default prefix (a /24 LAN) and the main machine's NIC default address. */
const DEFAULT_PREFIX_LEN = 24;

/** An Ethernet speed: "10g", "1g", ... or a number of Mb/s. Bits per second. */
function readLinkSpeed(c: Checker, node: JsonNode, path: string): number | undefined {
  const mbps = node.kind === 'string' ? LINK_SPEEDS[node.value.toLowerCase()] : node.kind === 'number' && Object.values(LINK_SPEEDS).includes(node.value) ? node.value : undefined;
  if (mbps === undefined) {
    c.report('bad-value', path, node.span, `must be an Ethernet speed: one of ${Object.keys(LINK_SPEEDS).map((k) => `"${k}"`).join(', ')} (got ${describe(node)})`);
    return undefined;
  }
  return mbps * 1_000_000;
}

/** "10.0.0.1" or "10.0.0.1/24": an IPv4 address (host order) and its prefix length. */
function readIpv4(c: Checker, node: JsonNode, path: string): { addr: number; prefixLen: number } | undefined {
  const m = node.kind === 'string' ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(node.value) : null;
  const octets = m === null ? [] : [m[1], m[2], m[3], m[4]].map(Number);
  const prefixLen = m?.[5] === undefined ? DEFAULT_PREFIX_LEN : Number(m[5]);
  if (m === null || octets.some((o) => o > 255) || prefixLen < 1 || prefixLen > 32) {
    c.report('bad-value', path, node.span, `must be an IPv4 address like "10.0.0.2" or "10.0.0.2/24" (got ${describe(node)})`);
    return undefined;
  }
  const addr = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  if (addr === 0 || octets[0] === 127 || octets[0]! >= 224) {
    c.report('bad-value', path, node.span, `must be a unicast address of a host (not 0.0.0.0, loopback 127/8 or multicast) (got ${describe(node)})`);
    return undefined;
  }
  return { addr, prefixLen };
}

/** machine.nics[i].coalescing: ethtool -C's rx-usecs, rx-frames, tx-usecs, tx-frames, adaptive-rx. */
function readNicCoalescing(c: Checker, node: JsonNode, path: string): NicCoalesceSpec | undefined {
  const obj = readObject(c, node, path, 'an object like {"rx_usecs": 8, "rx_frames": 128, "adaptive_rx": false}', COALESCING_KEYS);
  if (obj === undefined) return undefined;
  const out: { -readonly [K in keyof NicCoalesceSpec]: NicCoalesceSpec[K] } = {};
  const int = (key: string, max: number): number | undefined => {
    const n = obj.fields.get(key);
    return n === undefined ? undefined : readInt(c, n, join2(path, key), 0, max);
  };
  const rxUsecs = int('rx_usecs', 4095);
  const rxFrames = int('rx_frames', 65535);
  const txUsecs = int('tx_usecs', 4095);
  const txFrames = int('tx_frames', 65535);
  if (rxUsecs !== undefined) out.rxUsecs = rxUsecs;
  if (rxFrames !== undefined) out.rxFrames = rxFrames;
  if (txUsecs !== undefined) out.txUsecs = txUsecs;
  if (txFrames !== undefined) out.txFrames = txFrames;
  const adaptive = obj.fields.get('adaptive_rx');
  if (adaptive !== undefined) {
    if (adaptive.kind === 'boolean') out.adaptiveRx = adaptive.value;
    else if (adaptive.kind === 'string' && (adaptive.value === 'on' || adaptive.value === 'off')) out.adaptiveRx = adaptive.value === 'on';
    else c.report('bad-value', join2(path, 'adaptive_rx'), adaptive.span, `must be true or false ("on"/"off", as ethtool -C takes it) (got ${describe(adaptive)})`);
  }
  return out;
}

/** One NIC: {"name": "eth0", "address": "10.0.0.1/24", "speed": "10g", ...}. */
function readNic(c: Checker, node: JsonNode, path: string): NicSpec | undefined {
  const obj = readObject(c, node, path, 'an object like {"name": "eth0", "address": "10.0.0.1/24"}', NIC_KEYS);
  if (obj === undefined) return undefined;
  const f = obj.fields;
  const nameNode = f.get('name');
  let name = 'eth0';
  if (nameNode !== undefined) {
    if (nameNode.kind !== 'string' || !/^[a-z][a-z0-9_]*$/.test(nameNode.value) || nameNode.value.length > MAX_IFNAME_CHARS) {
      c.report('bad-value', join2(path, 'name'), nameNode.span, `must be an interface name like "eth0" (lower-case letters, digits, at most ${MAX_IFNAME_CHARS}) (got ${describe(nameNode)})`);
    } else if (nameNode.value === 'lo') {
      c.report('bad-value', join2(path, 'name'), nameNode.span, '"lo" is the loopback device every machine has; name the NIC e.g. "eth0"');
    } else name = nameNode.value;
  }
  const addrNode = f.get('address');
  if (addrNode === undefined) {
    missing(c, obj.node, path, 'address', '"address": "10.0.0.1/24"');
    return undefined;
  }
  const ip = readIpv4(c, addrNode, join2(path, 'address'));
  const opt = <T>(key: string, read: (n: JsonNode, p: string) => T | undefined): T | undefined => {
    const n = f.get(key);
    return n === undefined ? undefined : read(n, join2(path, key));
  };
  const bitsPerSec = opt('speed', (n, p) => readLinkSpeed(c, n, p));
  const queues = opt('queues', (n, p) => readInt(c, n, p, 1, MAX_QUEUES));
  const maxFrags = opt('max_frags', (n, p) => readInt(c, n, p, 1, 17));
  // ETH_MIN_MTU to the largest an mlx5 port takes (its max_mtu for a 9 KiB jumbo frame)
  const mtu = opt('mtu', (n, p) => readInt(c, n, p, ETH_MIN_MTU, MLX5E_MAX_MTU));
  const txRingSize = opt('tx_ring', (n, p) => readInt(c, n, p, MIN_RING, MAX_RING));
  const rxRingSize = opt('rx_ring', (n, p) => readInt(c, n, p, MIN_RING, MAX_RING));
  const flag = (n: JsonNode, p: string): boolean | undefined => {
    if (n.kind === 'boolean') return n.value;
    c.report('wrong-type', p, n.span, `must be true or false (got ${describe(n)})`);
    return undefined;
  };
  const tso = opt('tso', flag);
  const gro = opt('gro', flag);
  const coalesce = opt('coalescing', (n, p) => readNicCoalescing(c, n, p));
  if (ip === undefined) return undefined;
  return {
    name,
    addr: ip.addr,
    prefixLen: ip.prefixLen,
    ...(bitsPerSec === undefined ? {} : { bitsPerSec }),
    ...(queues === undefined ? {} : { queues }),
    ...(maxFrags === undefined ? {} : { maxFrags }),
    ...(mtu === undefined ? {} : { mtu }),
    ...(tso === undefined ? {} : { tso }),
    ...(gro === undefined ? {} : { gro }),
    ...(txRingSize === undefined ? {} : { txRingSize }),
    ...(rxRingSize === undefined ? {} : { rxRingSize }),
    ...(coalesce === undefined ? {} : { coalesce }),
  };
}

/** A list of NICs (machine.nics, hosts[i].nics): unique names; addresses checked network-wide later. */
function readNics(c: Checker, node: JsonNode, path: string): NicSpec[] {
  if (node.kind !== 'array' || node.items.length === 0 || node.items.length > MAX_NICS) {
    c.report(node.kind !== 'array' ? 'wrong-type' : 'bad-value', path, node.span, `must be an array of 1 to ${MAX_NICS} NICs like [{"name": "eth0", "address": "10.0.0.1/24"}] (got ${describe(node)})`);
    return [];
  }
  const out: NicSpec[] = [];
  node.items.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const nic = readNic(c, item, p);
    if (nic === undefined) return;
    if (out.some((n) => n.name === nic.name)) c.report('conflict', `${p}.name`, childSpan(item, 'name') ?? item.span, `duplicate interface name ${quote(nic.name)}; give each NIC its own`);
    else out.push(nic);
  });
  return out;
}

/** "hosts": [{"name": "server", "address": "10.0.0.2", "cpus": 4, "memory": "4g", "devices": [...]}]. */
function readHosts(c: Checker, node: JsonNode): HostSpec[] {
  if (node.kind !== 'array' || node.items.length === 0 || node.items.length > MAX_HOSTS) {
    c.report(node.kind !== 'array' ? 'wrong-type' : 'bad-value', 'hosts', node.span, `must be an array of 1 to ${MAX_HOSTS} hosts like [{"name": "server", "address": "10.0.0.2"}] (got ${describe(node)})`);
    return [];
  }
  const out: HostSpec[] = [];
  node.items.forEach((item, i) => {
    const path = `hosts[${i}]`;
    const obj = readObject(c, item, path, 'an object like {"name": "server", "address": "10.0.0.2", "cpus": 4}', HOST_KEYS);
    if (obj === undefined) return;
    const f = obj.fields;
    const nameNode = f.get('name');
    let name: string | undefined;
    if (nameNode === undefined) missing(c, obj.node, path, 'name', '"name": "server"');
    else name = readName(c, nameNode, `${path}.name`, MAX_NAME_CHARS);
    if (name !== undefined && out.some((h) => h.name === name)) c.report('conflict', `${path}.name`, nameNode?.span, `duplicate host name ${quote(name)}; give each host its own`);
    const cpusNode = f.get('cpus');
    const cpus = cpusNode === undefined ? DEFAULT_MACHINE.cpus : (readInt(c, cpusNode, `${path}.cpus`, 1, MAX_CPUS) ?? DEFAULT_MACHINE.cpus);
    const memNode = f.get('memory');
    const memoryBytes = memNode === undefined ? DEFAULT_MACHINE.memoryBytes : (readSize(c, memNode, `${path}.memory`, MEMORY_RULE) ?? DEFAULT_MACHINE.memoryBytes);
    const devices: DeviceSpec[] = [];
    const devNode = f.get('devices');
    if (devNode !== undefined) {
      if (devNode.kind !== 'array' || devNode.items.length > MAX_DEVICES) {
        c.report(devNode.kind !== 'array' ? 'wrong-type' : 'bad-value', `${path}.devices`, devNode.span, `must be an array of at most ${MAX_DEVICES} devices (got ${describe(devNode)})`);
      } else {
        devNode.items.forEach((d, j) => {
          const dev = readDevice(c, d, `${path}.devices[${j}]`);
          if (dev === undefined) return;
          if (devices.some((x) => x.name === dev.name)) c.report('conflict', `${path}.devices[${j}].name`, childSpan(d, 'name'), `duplicate device name ${quote(dev.name)}; give each device its own name`);
          else devices.push(dev);
        });
      }
    }
    const addrNode = f.get('address');
    const nicsNode = f.get('nics');
    let nics: NicSpec[] = [];
    if (addrNode !== undefined && nicsNode !== undefined) {
      c.report('conflict', `${path}.address`, addrNode.span, 'give either "address" (the host\'s eth0) or "nics", not both');
    } else if (addrNode !== undefined) {
      const ip = readIpv4(c, addrNode, `${path}.address`);
      if (ip !== undefined) nics = [{ name: 'eth0', addr: ip.addr, prefixLen: ip.prefixLen }];
    } else if (nicsNode !== undefined) {
      nics = readNics(c, nicsNode, `${path}.nics`);
    } else {
      missing(c, obj.node, path, 'address', '"address": "10.0.0.2"');
    }
    // rpc.nfsd on the host: an export of one of its filesystems
    const nfsdNode = f.get('nfsd');
    const nfsd = nfsdNode === undefined ? undefined : readNfsd(c, nfsdNode, devices, `${path}.nfsd`);
    if (name !== undefined) out.push({ name, machine: { cpus, memoryBytes, devices, nics, ...(nfsd === undefined ? {} : { nfsd }) } });
  });
  return out;
}

/** "network": {"bandwidth": "10g", "latency": "5us"}: the switch's port speed and one-way latency. */
function readNetwork(c: Checker, node: JsonNode): NetworkSpec | undefined {
  const obj = readObject(c, node, 'network', 'an object like {"bandwidth": "10g", "latency": "5us"}', NETWORK_KEYS);
  if (obj === undefined) return undefined;
  const bwNode = obj.fields.get('bandwidth');
  const latNode = obj.fields.get('latency');
  const bitsPerSec = bwNode === undefined ? DEFAULT_LINK.bitsPerSec : readLinkSpeed(c, bwNode, 'network.bandwidth');
  const propagationNs = latNode === undefined ? DEFAULT_LINK.propagationNs : readDuration(c, latNode, 'network.latency', { bareUnit: 'us', hint: '"5us" or "1ms"', allowZero: true });
  if (bitsPerSec === undefined || propagationNs === undefined) return undefined;
  return { bitsPerSec, propagationNs };
}

/** Every address on the network belongs to one NIC. */
function checkAddresses(c: Checker, root: JsonNode | undefined, machine: MachineSpec, hosts: readonly HostSpec[]): void {
  const seen = new Map<number, string>();
  const claim = (nics: readonly NicSpec[] | undefined, where: string, node: JsonNode | undefined): void => {
    (nics ?? []).forEach((n) => {
      const other = seen.get(n.addr);
      if (other !== undefined) c.report('conflict', where, node?.span, `address ${ipv4String(n.addr)} is already ${other}'s; give each NIC its own`);
      else seen.set(n.addr, `${where} (${n.name})`);
    });
  };
  claim(machine.nics, 'machine.nics', childNode(childNode(root, 'machine'), 'nics'));
  hosts.forEach((h, i) => claim(h.machine.nics, `hosts[${i}]`, childNode(root, 'hosts')?.kind === 'array' ? (childNode(root, 'hosts') as JsonArray).items[i] : undefined));
}

const NET_MOUNT_KEYS: KeySpec = { known: ['type', 'source', 'target', 'options'], aliases: { fstype: 'type', src: 'source', export: 'source', mountpoint: 'target', dir: 'target', opts: 'options', o: 'options' }, noun: 'key' };
const MAX_NET_MOUNTS = 8;

/**
 * machine.mounts: [{"type": "nfs", "source": "server:/export", "target": "/mnt/nfs", "options":
 * "vers=3,actimeo=0"}], NFS mounts (nfs(5)'s options and defaults).
 */
function readNetworkMounts(c: Checker, node: JsonNode, devices: readonly DeviceSpec[]): NetworkMountSpec[] {
  const example = '[{"type": "nfs", "source": "server:/export", "target": "/mnt/nfs"}]';
  if (node.kind !== 'array' || node.items.length === 0 || node.items.length > MAX_NET_MOUNTS) {
    c.report(node.kind !== 'array' ? 'wrong-type' : 'bad-value', 'machine.mounts', node.span, `must be an array of 1 to ${MAX_NET_MOUNTS} mounts like ${example} (got ${describe(node)})`);
    return [];
  }
  const out: NetworkMountSpec[] = [];
  node.items.forEach((item, i) => {
    const path = `machine.mounts[${i}]`;
    const obj = readObject(c, item, path, `an object like ${example.slice(1, -1)}`, NET_MOUNT_KEYS);
    if (obj === undefined) return;
    let ok = true;
    const typeNode = obj.fields.get('type');
    if (typeNode !== undefined && (typeNode.kind !== 'string' || typeNode.value !== 'nfs')) {
      c.report('bad-value', join2(path, 'type'), typeNode.span, `must be "nfs", the one network filesystem kiotrace models (got ${describe(typeNode)})`);
      ok = false;
    }
    const sourceNode = obj.fields.get('source');
    let source = '';
    if (sourceNode === undefined) {
      missing(c, obj.node, path, 'source', '"source": "server:/export"');
      ok = false;
    } else if (sourceNode.kind !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9.-]*:\/\S*$/.test(sourceNode.value)) {
      c.report('bad-value', join2(path, 'source'), sourceNode.span, `must be host:/path, the server and the directory it exports (got ${describe(sourceNode)})`);
      ok = false;
    } else source = sourceNode.value;
    const targetNode = obj.fields.get('target');
    let target = '';
    if (targetNode === undefined) {
      missing(c, obj.node, path, 'target', '"target": "/mnt/nfs"');
      ok = false;
    } else {
      const problem = pathProblem(targetNode, 'must be an absolute path where the export appears, like "/mnt/nfs"');
      const t = targetNode.kind === 'string' ? targetNode.value : '';
      const clash = devices.find((d) => d.mount !== '' && (d.mount === t || t.startsWith(`${d.mount}/`) || d.mount.startsWith(`${t}/`)));
      if (problem !== undefined) c.report('bad-value', join2(path, 'target'), targetNode.span, problem);
      else if (t === '/') c.report('bad-value', join2(path, 'target'), targetNode.span, 'must not be /: the root filesystem is the first device\'s');
      else if (clash !== undefined) c.report('conflict', join2(path, 'target'), targetNode.span, `${quote(t)} nests with ${quote(clash.mount)} (mount of ${clash.name}); mounts must not contain each other`);
      else if (out.some((m) => m.target === t)) c.report('conflict', join2(path, 'target'), targetNode.span, `${quote(t)} is already the target of another mount`);
      else target = t;
      if (target === '') ok = false;
    }
    const optNode = obj.fields.get('options');
    let optionsText = '';
    let options: NfsMountOptions | undefined = DEFAULT_NFS_MOUNT_OPTIONS;
    if (optNode !== undefined) {
      if (optNode.kind !== 'string') {
        c.report('wrong-type', join2(path, 'options'), optNode.span, `must be mount -o text like "vers=3,actimeo=0" (got ${describe(optNode)})`);
        options = undefined;
      } else {
        optionsText = optNode.value;
        const parsed = parseNfsMountOptions(optNode.value);
        if (parsed.ok) options = parsed.options;
        else {
          c.report('bad-value', join2(path, 'options'), optNode.span, parsed.message);
          options = undefined;
        }
      }
    }
    if (ok && options !== undefined) out.push({ type: 'nfs', source, target, optionsText, options });
  });
  return out;
}
const NFSD_KEYS: KeySpec = { known: ['export', 'threads'], aliases: { exports: 'export', path: 'export', nthreads: 'threads', count: 'threads' }, noun: 'key' };
/** RPCNFSDCOUNT, and a bound on what a scenario may ask for. */
const MAX_NFSD_THREADS = 256;

/** machine.nfsd: {"export": "/export", "threads": 8}: this machine serves NFS from a mounted filesystem. */
function readNfsd(c: Checker, node: JsonNode, devices: readonly DeviceSpec[], base = 'machine.nfsd'): NfsdSpec | undefined {
  const obj = readObject(c, node, `${base}`, 'an object like {"export": "/export", "threads": 8}', NFSD_KEYS);
  if (obj === undefined) return undefined;
  const exportNode = obj.fields.get('export');
  let exportPath: string | undefined;
  if (exportNode === undefined) missing(c, obj.node, `${base}`, 'export', '"export": "/export"');
  else {
    const problem = pathProblem(exportNode, 'must be an absolute path on one of the machine\'s filesystems, like "/export"');
    const p = exportNode.kind === 'string' ? exportNode.value : '';
    if (problem !== undefined) c.report('bad-value', `${base}.export`, exportNode.span, problem);
    // a path under no device's mount is on the root filesystem, the first mounted device's
    else if (!devices.some((d) => d.mount !== '')) c.report('bad-value', `${base}.export`, exportNode.span, `${quote(p)} cannot be exported: no device of the machine has a filesystem (give one a "mount")`);
    else exportPath = p;
  }
  const threadsNode = obj.fields.get('threads');
  const threads = threadsNode === undefined ? NFSD_DEFAULT_THREADS : readInt(c, threadsNode, `${base}.threads`, 1, MAX_NFSD_THREADS);
  return exportPath === undefined || threads === undefined ? undefined : { export: exportPath, threads };
}
/** /proc/sys/vm's sysctls kiotrace models, by their Linux names, and the LRU policy. */
const VM_KEYS: KeySpec = {
  known: ['dirty_ratio', 'dirty_background_ratio', 'dirty_bytes', 'dirty_background_bytes', 'dirty_expire_centisecs', 'dirty_writeback_centisecs', 'min_free_kbytes', 'watermark_scale_factor', 'lru', 'lru_gen'],
  aliases: { 'vm.dirty_ratio': 'dirty_ratio', 'vm.dirty_background_ratio': 'dirty_background_ratio', 'vm.dirty_bytes': 'dirty_bytes', 'vm.dirty_background_bytes': 'dirty_background_bytes', lru_policy: 'lru', mglru: 'lru_gen' },
  noun: 'key',
};
/** dirty_bytes' least value (dirty_bytes_min: two pages); any size up to the largest machine's memory. */
const DIRTY_BYTES_RULE: SizeRule = { example: '64m', minBytes: 2 * 4096, maxBytes: 64 * 2 ** 30, multipleOf: 1, multipleName: 'bytes' };
const DIRTY_BACKGROUND_BYTES_RULE: SizeRule = { ...DIRTY_BYTES_RULE, minBytes: 1 };
/** Centisecond sysctls: up to an hour, the longest run. */
const MAX_CENTISECS = 360_000;
/** The SSD geometry and FTL keys of a device (nvme only). */
const SSD_KEYS = ['over_provisioning', 'page_size', 'block_size', 'channels', 'dies', 'gc_policy', 'multi_stream', 'precondition', 'crdt', 'irq_coalescing'] as const;
const DEVICE_KEYS: KeySpec = {
  known: ['name', 'type', 'capacity', 'scheduler', 'mount', 'read_ahead_kb', 'mount_options', 'faults', 'autosuspend_delay_ms', 'power_control', 'pm_qos_latency_tolerance_us', 'queue_depth', 'cache_type', ...SSD_KEYS],
  aliases: {
    kind: 'type',
    size: 'capacity',
    elevator: 'scheduler',
    mountpoint: 'mount',
    readahead: 'read_ahead_kb',
    ra_kb: 'read_ahead_kb',
    read_ahead: 'read_ahead_kb',
    op: 'over_provisioning',
    overprovisioning: 'over_provisioning',
    flash_page_size: 'page_size',
    erase_block_size: 'block_size',
    nand_dies: 'dies',
    luns: 'dies',
    gc: 'gc_policy',
    streams: 'multi_stream',
    errors: 'faults',
    fault: 'faults',
    options: 'mount_options',
    mount_opts: 'mount_options',
    'power/autosuspend_delay_ms': 'autosuspend_delay_ms',
    'power/control': 'power_control',
    'power/pm_qos_latency_tolerance_us': 'pm_qos_latency_tolerance_us',
    ps_max_latency_us: 'pm_qos_latency_tolerance_us',
    interrupt_coalescing: 'irq_coalescing',
    coalescing: 'irq_coalescing',
  },
  noun: 'key',
};
/** The policy /sys/kernel/mm/lru_gen/enabled switches on (core/mm/mglru.ts). */
const MGLRU_POLICY = 'mglru';
/** vm.min_free_kbytes and vm.watermark_scale_factor accept what the sysctls accept (min_free_kbytes >= 0 in Linux; 1 page at least here). */
const MIN_FREE_KBYTES_RANGE = [4, 4 * 2 ** 20] as const;
const WATERMARK_SCALE_FACTOR_RANGE = [1, 3000] as const;


const CGROUP_KEYS: KeySpec = { known: ['memory.min', 'memory.low', 'memory.high', 'memory.max', 'io.max', 'io.weight', 'io.latency'], aliases: { 'io.throttle': 'io.max', 'blkio.throttle': 'io.max' }, noun: 'key' };
/** io.max's keys (blk-throttle's tg_set_limit); each is a number or "max". */
const IO_MAX_KEYS: KeySpec = { known: ['rbps', 'wbps', 'riops', 'wiops'], aliases: { read_bps: 'rbps', write_bps: 'wbps', read_iops: 'riops', write_iops: 'wiops' }, noun: 'key' };
/** io.max rates: at least 1 byte or I/O per second; bps as sizes ("10m" is 10 MiB/s), up to 2^53-1. */
const IO_MAX_BPS_RULE: SizeRule = { example: '10m', minBytes: 1, maxBytes: Number.MAX_SAFE_INTEGER, multipleOf: 1, multipleName: 'bytes' };
const IO_MAX_IOPS_MAX = 2 ** 32 - 1;

type IoMaxLine = { device: string; rbps: number; wbps: number; riops: number; wiops: number };

/**
 * A cgroup's io.max: {"nvme0n1": {"rbps": "10m", "wiops": 500}} (devices by name or "MAJ:MIN"), or
 * Linux's own lines, "259:0 rbps=10485760 wiops=500" (one string, lines joined by newlines, or an
 * array of them). A device given twice keeps its last line, as writing io.max again does.
 */
function readIoMax(c: Checker, node: JsonNode, path: string, devices: readonly DeviceSpec[]): IoMaxLine[] {
  const out: IoMaxLine[] = [];
  const file: CgroupIoFile = { objectExample: '{"nvme0n1": {"rbps": "10m", "wiops": 500}}', lineExample: '259:0 rbps=10485760 wiops=500' };
  forEachDeviceLine(c, node, path, devices, file, {
    object: (device, value, p) => {
      const obj = readObject(c, value, p, 'an object like {"rbps": "10m", "wiops": 500}', IO_MAX_KEYS);
      if (obj === undefined) return;
      const line: IoMaxLine = { device, rbps: Infinity, wbps: Infinity, riops: Infinity, wiops: Infinity };
      for (const key of ['rbps', 'wbps', 'riops', 'wiops'] as const) {
        const v = obj.fields.get(key);
        if (v === undefined || (v.kind === 'string' && v.value === 'max')) continue;
        const n = key.endsWith('bps') ? readSize(c, v, join2(p, key), IO_MAX_BPS_RULE) : readInt(c, v, join2(p, key), 1, IO_MAX_IOPS_MAX);
        if (n !== undefined) line[key] = n;
      }
      putByDevice(out, device, line);
    },
    line: (device, words, span, p) => {
      const line: IoMaxLine = { device, rbps: Infinity, wbps: Infinity, riops: Infinity, wiops: Infinity };
      for (const word of words) {
        const kv = /^(rbps|wbps|riops|wiops)=(max|\d+)$/.exec(word);
        const n = kv === null || kv[2] === 'max' ? Infinity : Number(kv[2]);
        if (kv === null || n === 0 || (n !== Infinity && n > (kv[1]!.endsWith('bps') ? Number.MAX_SAFE_INTEGER : IO_MAX_IOPS_MAX))) {
          c.report('bad-value', p, span, `${quote(word)} is not KEY=VALUE with KEY one of rbps, wbps, riops, wiops and VALUE a positive integer or "max"`);
          return;
        }
        line[kv[1] as 'rbps' | 'wbps' | 'riops' | 'wiops'] = n;
      }
      putByDevice(out, device, line);
    },
  });
  return out;
}

/** How a cgroup io file (io.max, io.latency) is written: as an object by device, or in Linux's lines. */
interface CgroupIoFile {
  readonly objectExample: string;
  readonly lineExample: string;
}

/** What to do with one device's entry: its object value, or its line's words after the device. */
interface DeviceLineHandlers {
  object(device: string, value: JsonNode, p: string): void;
  line(device: string, words: readonly string[], span: Span | undefined, p: string): void;
}

/**
 * Walks a cgroup io file: {"DEVICE": {...}} entries, or Linux's lines "MAJ:MIN KEY=VALUE ..." (one
 * string, lines joined by newlines, or an array of them), devices by name or "MAJ:MIN". A device
 * this machine lacks is reported; the rest go to the handlers in order.
 */
function forEachDeviceLine(c: Checker, node: JsonNode, path: string, devices: readonly DeviceSpec[], file: CgroupIoFile, on: DeviceLineHandlers): void {
  const devs = deviceNumbers(devices);
  const deviceOf = (key: string): string | undefined => {
    const mm = /^(\d+):(\d+)$/.exec(key);
    if (mm === null) return devices.find((d) => d.name === key)?.name;
    const i = devs.findIndex((dev) => dev === mkdev(Number(mm[1]), Number(mm[2])));
    return i < 0 ? undefined : devices[i]!.name;
  };
  const known = (): string => devices.map((d, i) => `${d.name} (${Math.floor(devs[i]! / 2 ** 20)}:${devs[i]! % 2 ** 20})`).join(', ');
  if (node.kind === 'object') {
    for (const entry of node.entries) {
      const p = join2(path, entry.key);
      const device = deviceOf(entry.key);
      if (device === undefined) c.report('bad-value', p, entry.keySpan, `names no device of this machine (devices: ${known()})`);
      else on.object(device, entry.value, p);
    }
    return;
  }
  const lines: { text: string; span: Span | undefined; p: string }[] = [];
  if (node.kind === 'string') {
    for (const text of node.value.split('\n')) if (text.trim() !== '') lines.push({ text, span: node.span, p: path });
  } else if (node.kind === 'array') {
    node.items.forEach((item, i) => {
      if (item.kind === 'string') lines.push({ text: item.value, span: item.span, p: `${path}[${i}]` });
      else c.report('wrong-type', `${path}[${i}]`, item.span, `must be a line like "${file.lineExample}" (got ${describe(item)})`);
    });
  } else {
    c.report('wrong-type', path, node.span, `must be ${file.objectExample} or a line like "${file.lineExample}" (got ${describe(node)})`);
    return;
  }
  for (const { text, span, p } of lines) {
    const words = text.trim().split(/\s+/);
    const device = deviceOf(words[0]!);
    if (device === undefined) c.report('bad-value', p, span, `${quote(words[0]!)} names no device of this machine (devices: ${known()})`);
    else on.line(device, words.slice(1), span, p);
  }
}

/** A device given twice keeps its last line, as writing the file again does; undefined removes it. */
function putByDevice<L extends { readonly device: string }>(out: L[], device: string, line: L | undefined): void {
  const at = out.findIndex((l) => l.device === device);
  if (at >= 0) out.splice(at, 1);
  if (line !== undefined) out.push(line);
}

/** io.latency targets: 1 us up to an hour (Linux takes any u64; past that nothing is throttled in a run). */
const IO_LATENCY_TARGET_US_MAX = 3_600_000_000;
type IoLatencyLine = { device: string; targetUs: number };
const IO_LATENCY_KEYS: KeySpec = { known: ['target'], aliases: {}, noun: 'key' };

/**
 * A cgroup's io.latency: {"sda": {"target": 20000}} (target in us), or Linux's own lines,
 * "8:0 target=20000". "target=max" (or 0) removes a device's target, as in Linux.
 */
function readIoLatency(c: Checker, node: JsonNode, path: string, devices: readonly DeviceSpec[]): IoLatencyLine[] {
  const out: IoLatencyLine[] = [];
  const put = (device: string, targetUs: number): void => putByDevice(out, device, targetUs > 0 ? { device, targetUs } : undefined);
  forEachDeviceLine(c, node, path, devices, { objectExample: '{"sda": {"target": 20000}}', lineExample: '8:0 target=20000' }, {
    object: (device, value, p) => {
      const obj = readObject(c, value, p, 'an object like {"target": 20000} (microseconds)', IO_LATENCY_KEYS);
      if (obj === undefined) return;
      const v = obj.fields.get('target');
      if (v === undefined) {
        // an unknown key was reported already
        if (value.kind === 'object' && value.entries.length === 0) c.report('bad-value', p, value.span, 'needs a "target" in microseconds, like {"target": 20000}');
      } else if (v.kind === 'string' && v.value === 'max') {
        put(device, 0);
      } else {
        const n = readInt(c, v, join2(p, 'target'), 0, IO_LATENCY_TARGET_US_MAX);
        if (n !== undefined) put(device, n);
      }
    },
    line: (device, words, span, p) => {
      const kv = words.length === 1 ? /^target=(max|\d+)$/.exec(words[0]!) : null;
      const n = kv === null ? NaN : kv[1] === 'max' ? 0 : Number(kv[1]);
      if (kv === null || n > IO_LATENCY_TARGET_US_MAX) {
        c.report('bad-value', p, span, `${quote(words.join(' '))} is not target=USEC with USEC a number of microseconds up to ${IO_LATENCY_TARGET_US_MAX} or "max"`);
        return;
      }
      put(device, n);
    },
  });
  return out;
}

/** A cgroup's memory settings: whole pages, up to 64 GiB (the largest machine). */
const CGROUP_MEMORY_RULE: SizeRule = { example: '64m', minBytes: 4096, maxBytes: 64 * 2 ** 30, multipleOf: 4096, multipleName: '4k pages' };
const MAX_CGROUPS = 64;

const PREEMPT_MODELS: readonly PreemptModelName[] = ['none', 'voluntary', 'full'];
/** The Kconfig names of the same models. */
const PREEMPT_ALIASES: Readonly<Record<string, PreemptModelName>> = { PREEMPT_NONE: 'none', PREEMPT_VOLUNTARY: 'voluntary', PREEMPT: 'full', PREEMPT_FULL: 'full' };
/** TASK_COMM_LEN less its NUL, and a '*' to end a prefix. */
const MAX_COMM_PATTERN_CHARS = 16;

/** machine.sched_fifo: {"COMM": rt_priority, "jbd2/*": 50}, as chrt -f -p PRIO on those tasks. */
function readSchedFifo(c: Checker, node: JsonNode): SchedFifoSpec[] {
  if (node.kind !== 'object') {
    c.report('wrong-type', 'machine.sched_fifo', node.span, `must be an object of task names and RT priorities like {"jbd2/*": 50} (got ${describe(node)})`);
    return [];
  }
  const out: SchedFifoSpec[] = [];
  for (const entry of node.entries) {
    const path = `machine.sched_fifo.${entry.key}`;
    const comm = entry.key;
    const bare = comm.endsWith('*') ? comm.slice(0, -1) : comm;
    if (bare === '' || bare.includes('*') || comm.length > MAX_COMM_PATTERN_CHARS) {
      c.report('bad-value', path, entry.value.span, `a task name is a comm of at most 15 characters, or a prefix ending in "*" like "jbd2/*" (got ${JSON.stringify(comm.slice(0, 40))})`);
      continue;
    }
    const rtPriority = readInt(c, entry.value, path, 1, 99);
    if (rtPriority !== undefined) out.push({ comm, rtPriority });
  }
  return out;
}

/** machine.cgroups: {"NAME": {"memory.low": "64m", ...}}, cgroup v2 groups under the root. */
function readCgroups(c: Checker, node: JsonNode, devices: readonly DeviceSpec[]): CgroupSpec[] {
  if (node.kind !== 'object') {
    c.report('wrong-type', 'machine.cgroups', node.span, `must be an object of groups like {"reader": {"memory.low": "64m"}} or {"batch": {"io.max": {"nvme0n1": {"wbps": "10m"}}}} (got ${describe(node)})`);
    return [];
  }
  if (node.entries.length > MAX_CGROUPS) {
    c.report('bad-value', 'machine.cgroups', node.span, `lists ${node.entries.length} groups; a machine may have at most ${MAX_CGROUPS}`);
    return [];
  }
  const out: CgroupSpec[] = [];
  for (const entry of node.entries) {
    const path = `machine.cgroups.${entry.key}`;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(entry.key) || entry.key === '.' || entry.key === '..') {
      c.report('bad-value', path, entry.value.span, 'a cgroup name is letters, digits, _ . - (at most 64), like "reader"');
      continue;
    }
    const obj = readObject(c, entry.value, path, 'an object like {"memory.low": "64m", "memory.max": "max"}', CGROUP_KEYS);
    if (obj === undefined) continue;
    const spec: { name: string; memoryMinBytes?: number; memoryLowBytes?: number; memoryHighBytes?: number; memoryMaxBytes?: number; ioMax?: IoMaxLine[]; ioWeight?: number; ioLatency?: IoLatencyLine[] } = { name: entry.key };
    const ioMaxNode = obj.fields.get('io.max');
    if (ioMaxNode !== undefined) spec.ioMax = readIoMax(c, ioMaxNode, `${path}.io.max`, devices);
    const ioLatencyNode = obj.fields.get('io.latency');
    if (ioLatencyNode !== undefined) spec.ioLatency = readIoLatency(c, ioLatencyNode, `${path}.io.latency`, devices);
    const keys = [
      ['memory.min', 'memoryMinBytes'],
      ['memory.low', 'memoryLowBytes'],
      ['memory.high', 'memoryHighBytes'],
      ['memory.max', 'memoryMaxBytes'],
    ] as const;
    for (const [key, field] of keys) {
      const v = obj.fields.get(key);
      if (v === undefined || (v.kind === 'string' && v.value === 'max')) continue;
      const bytes = readSize(c, v, `${path}.${key}`, CGROUP_MEMORY_RULE);
      if (bytes !== undefined) spec[field] = bytes;
    }
    // io.weight: "default 100" or a bare weight, 1..10000 (CGROUP_WEIGHT_MIN/MAX)
    const weightNode = obj.fields.get('io.weight');
    if (weightNode !== undefined) {
      const bare: JsonNode = weightNode.kind === 'string' ? { kind: 'string', span: weightNode.span, value: weightNode.value.replace(/^default\s+/, '') } : weightNode;
      const w = readInt(c, bare, `${path}.io.weight`, 1, 10000);
      if (w !== undefined) spec.ioWeight = w;
    }
    out.push(spec);
  }
  return out;
}

const DEVICE_KINDS: readonly DeviceKind[] = ['nvme', 'hdd'];
const CACHE_TYPES = ['write back', 'write through'] as const;
const SCHEDULERS: readonly SchedulerName[] = ['none', 'mq-deadline', 'bfq', 'kyber'];

const PAGE_BYTES = 4096;
const SECTOR_BYTES = 512;
/**
 * Memory: at least enough for the kernel's reserve and a page cache; at most what the host can
 * simulate (every page the cache fills is an object on the host).
 */
const MEMORY_RULE: SizeRule = { example: '4g', minBytes: 64 * 2 ** 20, maxBytes: 64 * 2 ** 30, multipleOf: PAGE_BYTES, multipleName: '4k pages' };
/**
 * Device capacity: at least room for ext4's journal and metadata with space left for files; at
 * most what the models address (an SSD's physical pages are int32 numbers).
 */
const CAPACITY_RULES: Readonly<Record<DeviceKind, SizeRule>> = {
  // an SSD's geometry scales to any capacity (core/hw/nvme/ftl.ts); mapping tables are allocated as written
  nvme: { example: '512g', minBytes: 2 ** 20, maxBytes: 64 * 2 ** 40, multipleOf: SECTOR_BYTES, multipleName: '512-byte sectors' },
  hdd: { example: '1t', minBytes: 2 ** 20, maxBytes: 64 * 2 ** 40, multipleOf: SECTOR_BYTES, multipleName: '512-byte sectors' },
};
/** Each NVMe drive preallocates up to 64 x 1023 requests (blk_mq_alloc_rqs): devices are bounded. */
const MAX_DEVICES = 8;
const MAX_JOBS = 64;
/**
 * Processes all jobs together may fork (numjobs summed), and CPUs a machine may have. Simulated
 * time costs wall time in proportion to the CPUs kept busy (64 jobs reading cached pages on 64
 * CPUs take about 15 s of wall time per 100 ms simulated), so these bound how slow a run can be.
 */
const MAX_PROCESSES = 64;
const MAX_CPUS = 64;
const MAX_NAME_CHARS = 128;
const MAX_DESCRIPTION_CHARS = 4096;
/** DISK_NAME_LEN less its NUL. */
const MAX_DISK_NAME_CHARS = 31;

interface Devices {
  readonly list: readonly DeviceSpec[];
  /** False when machine.devices itself was unusable: then job filenames are not checked against it. */
  readonly usable: boolean;
}

function defaultsFor(kind: DeviceKind): { capacityBytes: number; scheduler: SchedulerName } {
  const model = DEFAULT_MACHINE.devices.find((d) => d.kind === kind);
  if (model !== undefined) return { capacityBytes: model.capacityBytes, scheduler: model.scheduler };
  // Linux's defaults: no elevator for NVMe, mq-deadline for rotational disks.
  return kind === 'nvme' ? { capacityBytes: 512 * 2 ** 30, scheduler: 'none' } : { capacityBytes: 2 ** 40, scheduler: 'mq-deadline' };
}

function readDevice(c: Checker, node: JsonNode, path: string): DeviceSpec | undefined {
  const obj = readObject(c, node, path, 'an object like {"name": "nvme1n1", "type": "nvme", "mount": "/mnt/data"}', DEVICE_KEYS);
  if (obj === undefined) return undefined;
  const f = obj.fields;
  let name: string | undefined;
  const nameNode = f.get('name');
  if (nameNode === undefined) missing(c, obj.node, path, 'name', '"name": "nvme1n1"');
  else if (nameNode.kind === 'string' && /^[a-z][a-z0-9]*$/.test(nameNode.value) && nameNode.value.length <= MAX_DISK_NAME_CHARS) name = nameNode.value;
  else c.report('bad-value', join2(path, 'name'), nameNode.span, `must be a kernel block device name like "nvme1n1" or "sdb", at most ${MAX_DISK_NAME_CHARS} characters (got ${describe(nameNode)})`);

  let kind: DeviceKind | undefined;
  const typeNode = f.get('type');
  if (typeNode === undefined) missing(c, obj.node, path, 'type', '"type": "nvme"');
  else kind = readChoice(c, typeNode, join2(path, 'type'), DEVICE_KINDS, {}, (got) => `unknown device type ${got} (expected nvme or hdd)`);

  const defaults = defaultsFor(kind ?? 'nvme');
  let capacityBytes = defaults.capacityBytes;
  const capNode = f.get('capacity');
  if (capNode !== undefined) {
    const p = join2(path, 'capacity');
    capacityBytes = readSize(c, capNode, p, CAPACITY_RULES[kind ?? 'nvme']) ?? capacityBytes;
  }

  let scheduler = defaults.scheduler;
  const schedNode = f.get('scheduler');
  if (schedNode !== undefined) {
    scheduler =
      readChoice(c, schedNode, join2(path, 'scheduler'), SCHEDULERS, {}, (got) => `unknown scheduler ${got} (expected none, mq-deadline, bfq or kyber)`) ?? scheduler;
  }

  let mount = '';
  const mountNode = f.get('mount');
  if (mountNode !== undefined) {
    const p = join2(path, 'mount');
    // "/" is allowed: the root filesystem (otherwise the first mounted device is also mounted there)
    const problem = mountNode.kind === 'string' && mountNode.value === '/' ? undefined : pathProblem(mountNode, 'must be an absolute directory path like "/mnt/data" (or "/" for the root filesystem), without ".", ".." or "//"');
    if (problem !== undefined || mountNode.kind !== 'string') {
      c.report('bad-value', p, mountNode.span, problem ?? '');
    } else if (mountNode.value === '/dev' || mountNode.value.startsWith('/dev/')) {
      c.report('bad-value', p, mountNode.span, `cannot be under /dev, where raw devices live (got ${describe(mountNode)}); use a path like "/mnt/data"`);
    } else {
      mount = mountNode.value;
    }
  }
  let readAheadKb: number | undefined;
  const raNode = f.get('read_ahead_kb');
  if (raNode !== undefined) readAheadKb = readReadAheadKb(c, raNode, join2(path, 'read_ahead_kb'));
  let mountOptions: MountOptions | undefined;
  const optNode = f.get('mount_options');
  if (optNode !== undefined) {
    if (mountNode === undefined) c.report('bad-value', join2(path, 'mount_options'), optNode.span, 'needs a filesystem: give the device a "mount" too');
    else mountOptions = readMountOptions(c, optNode, join2(path, 'mount_options'));
  }
  const ssd = readSsd(c, f, path, kind, capacityBytes);
  const faultsNode = f.get('faults');
  const faults = faultsNode === undefined ? undefined : readFaults(c, faultsNode, join2(path, 'faults'), kind ?? 'nvme', capacityBytes / SECTOR_BYTES, ssd?.crdt);
  const pm = readDevicePower(c, f, path, kind);
  // queue_depth: the SCSI device's /sys/block/<dev>/device/queue_depth (NCQ tags; 1 turns NCQ off)
  let queueDepth: number | undefined;
  const qdNode = f.get('queue_depth');
  if (qdNode !== undefined) {
    if (kind !== 'hdd') c.report('bad-value', join2(path, 'queue_depth'), qdNode.span, 'is a SATA disk\'s NCQ depth: only a device of type "hdd" has it');
    else queueDepth = readInt(c, qdNode, join2(path, 'queue_depth'), 1, 32);
  }
  // cache_type: the scsi_disk's /sys/class/scsi_disk/*/cache_type ("write through" = hdparm -W0)
  let cacheType: 'write back' | 'write through' | undefined;
  const ctNode = f.get('cache_type');
  if (ctNode !== undefined) {
    const p = join2(path, 'cache_type');
    if (kind !== 'hdd') c.report('bad-value', p, ctNode.span, 'is a SATA disk\'s write cache setting: only a device of type "hdd" has it');
    else cacheType = readChoice(c, ctNode, p, CACHE_TYPES, {}, (got) => `unknown cache_type ${got} (expected "write back" or "write through")`);
  }
  if (name === undefined) return undefined;
  return {
    name,
    kind: kind ?? 'nvme',
    capacityBytes,
    scheduler,
    mount,
    ...(readAheadKb !== undefined ? { readAheadKb } : {}),
    ...(mountOptions !== undefined ? { mountOptions } : {}),
    ...(faults !== undefined ? { faults } : {}),
    ...(ssd !== undefined ? { ssd } : {}),
    ...pm,
    ...(queueDepth !== undefined ? { queueDepth } : {}),
    ...(cacheType !== undefined ? { cacheType } : {}),
  };
}

/** ext4's data= modes. */
const DATA_MODES: readonly DataMode[] = ['ordered', 'writeback', 'journal'];
/** The mount options kiotrace models, as mount -o spells them. */
const MOUNT_OPTION_NAMES = ['data', 'commit', 'barrier', 'nobarrier', 'defaults'] as const;
/** commit= in seconds: up to an hour, the longest run (0 means the default, as in ext4). */
const MAX_COMMIT_SEC = 3600;

/**
 * mount_options: the filesystem's options as `mount -o` takes them, e.g. "data=journal,commit=5".
 * Each mistake points at its own option inside the string.
 */
function readMountOptions(c: Checker, node: JsonNode, path: string): MountOptions | undefined {
  if (node.kind !== 'string') {
    c.report('wrong-type', path, node.span, `must be a string of ext4 mount options like "data=journal,commit=5" (got ${describe(node)})`);
    return undefined;
  }
  const text = node.value;
  // the option's own place in the JSON text, when the string has no escapes to shift it
  const exact = node.span !== undefined && node.span.length === text.length + 2;
  const spanAt = (at: number, len: number): Span | undefined => (exact && node.span ? { offset: node.span.offset + 1 + at, length: Math.max(1, len) } : node.span);
  let data: DataMode = DEFAULT_MOUNT_OPTIONS.data;
  let commitSec = DEFAULT_MOUNT_OPTIONS.commitSec;
  let barrier = DEFAULT_MOUNT_OPTIONS.barrier;
  const before = c.count;
  let at = 0;
  for (const raw of text.split(',')) {
    const opt = raw.trim();
    const optAt = at + raw.indexOf(opt);
    at += raw.length + 1;
    const eq = opt.indexOf('=');
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? undefined : opt.slice(eq + 1);
    const here = spanAt(optAt, opt.length);
    if (opt === '') {
      c.report('bad-value', path, spanAt(optAt, 1), 'has an empty option (two commas, or one at an end)');
    } else if (key === 'data') {
      const mode = DATA_MODES.find((m) => m === value);
      if (mode !== undefined) data = mode;
      else {
        const suggestion = closestWord(value ?? '', DATA_MODES);
        c.report('bad-value', path, here, `data= must be ordered, writeback or journal (got "${opt}")${suggestion !== undefined && value ? `; did you mean "data=${suggestion}"?` : ''}`);
      }
    } else if (key === 'commit') {
      const n = value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
      if (n === undefined || n > MAX_COMMIT_SEC) c.report('bad-value', path, here, `commit= must be a whole number of seconds from 0 to ${MAX_COMMIT_SEC} (0: the default, 5) (got "${opt}")`);
      else commitSec = n === 0 ? DEFAULT_MOUNT_OPTIONS.commitSec : n;
    } else if (key === 'barrier') {
      if (value === undefined || value === '1') barrier = true;
      else if (value === '0') barrier = false;
      else c.report('bad-value', path, here, `barrier takes 0 or 1, or no value (got "${opt}")`);
    } else if (opt === 'nobarrier') {
      barrier = false;
    } else if (opt === 'defaults') {
      // mount(8)'s defaults: nothing to change
    } else {
      const suggestion = closestWord(key, MOUNT_OPTION_NAMES);
      c.report('bad-value', path, here, `unknown mount option "${opt}" (kiotrace models data=, commit=, barrier and nobarrier)${suggestion !== undefined ? `; did you mean "${suggestion}"?` : ''}`);
    }
  }
  return c.count === before ? { data, commitSec, barrier } : undefined;
}

// ---- device faults (errors and retries) -------------------------------------------------------

const FAULT_KEYS: KeySpec = {
  known: ['sectors', 'probability', 'op', 'kind', 'count', 'sense', 'status', 'dnr', 'crd'],
  aliases: { range: 'sectors', lba: 'sectors', sector: 'sectors', p: 'probability', rate: 'probability', type: 'kind', times: 'count', asc: 'sense', sc: 'status', nvme_status: 'status', retry_delay: 'crd' },
  noun: 'key',
};
const FAULT_KINDS: readonly FaultKind[] = ['transient', 'permanent', 'timeout'];
const FAULT_OPS: readonly FaultOp[] = ['read', 'write', 'any'];
/** At most this many faults per device (each is checked against every command of the device). */
const MAX_FAULTS = 16;
const SENSE_KEY_NAMES = Object.keys(SenseKey) as (keyof typeof SenseKey)[];

/**
 * A device's "faults": [{"sectors": "1000-1999", "op": "read", "kind": "transient", "count": 2,
 * "sense": "ABORTED_COMMAND/0x47/0x00"}, {"probability": 0.001, "kind": "permanent"}]. A fault
 * with neither sectors nor probability covers the whole device. sense is for a disk (hdd), status,
 * dnr and crd (the Command Retry Delay, 1 to 3, against the device's "crdt") for an NVMe drive.
 */
function readFaults(c: Checker, node: JsonNode, path: string, kind: DeviceKind, capacitySectors: number, crdt: readonly number[] | undefined): FaultSpec[] | undefined {
  if (node.kind !== 'array') {
    c.report('wrong-type', path, node.span, `must be an array of faults like [{"sectors": "1000-1999", "kind": "permanent"}] (got ${describe(node)})`);
    return undefined;
  }
  if (node.items.length > MAX_FAULTS) {
    c.report('bad-value', path, node.span, `lists ${node.items.length} faults; a device may have at most ${MAX_FAULTS}`);
    return undefined;
  }
  const before = c.count;
  const out: FaultSpec[] = [];
  node.items.forEach((item, i) => {
    const spec = readFault(c, item, `${path}[${i}]`, kind, capacitySectors, crdt);
    if (spec !== undefined) out.push(spec);
  });
  return c.count > before ? undefined : out;
}

function readFault(c: Checker, node: JsonNode, path: string, kind: DeviceKind, capacitySectors: number, crdt: readonly number[] | undefined): FaultSpec | undefined {
  const obj = readObject(c, node, path, 'a fault like {"sectors": "1000-1999", "op": "read", "kind": "transient", "count": 2}', FAULT_KEYS);
  if (obj === undefined) return undefined;
  const f = obj.fields;
  const before = c.count;
  const kindNode = f.get('kind');
  let faultKind: FaultKind | undefined;
  if (kindNode === undefined) missing(c, obj.node, path, 'kind', '"kind": "transient"');
  else faultKind = readChoice(c, kindNode, join2(path, 'kind'), FAULT_KINDS, { temporary: 'transient', hard: 'permanent', hang: 'timeout' }, (got) => `unknown fault kind ${got} (expected transient, permanent or timeout)`);
  const opNode = f.get('op');
  const op = opNode === undefined ? 'any' : readChoice(c, opNode, join2(path, 'op'), FAULT_OPS, { rw: 'any', both: 'any' }, (got) => `unknown op ${got} (expected read, write or any)`);

  let firstSector = -1;
  let lastSector = -1;
  const sectorsNode = f.get('sectors');
  if (sectorsNode !== undefined) {
    const p = join2(path, 'sectors');
    const m = sectorsNode.kind === 'string' ? /^(\d+)(?:-(\d+))?$/.exec(sectorsNode.value) : undefined;
    const a = sectorsNode.kind === 'number' && Number.isSafeInteger(sectorsNode.value) ? sectorsNode.value : m ? Number(m[1]) : undefined;
    const b = sectorsNode.kind === 'number' ? a : m?.[2] !== undefined ? Number(m[2]) : a;
    if (a === undefined || b === undefined) c.report('bad-value', p, sectorsNode.span, `must be a sector or an inclusive range of 512-byte sectors like "1000-1999" (got ${describe(sectorsNode)})`);
    else if (b < a) c.report('bad-value', p, sectorsNode.span, `ends before it starts; write the lower sector first, e.g. "${b}-${a}"`);
    else if (b >= capacitySectors) c.report('bad-value', p, sectorsNode.span, `reaches sector ${b}, past the device's last sector ${capacitySectors - 1}`);
    else {
      firstSector = a;
      lastSector = b;
    }
  }
  let probability = 0;
  const probNode = f.get('probability');
  if (probNode !== undefined) {
    if (probNode.kind !== 'number' || !(probNode.value > 0 && probNode.value <= 1)) {
      c.report('bad-value', join2(path, 'probability'), probNode.span, `must be a number above 0 and at most 1: the chance that a command meets a new defect (got ${describe(probNode)})`);
    } else {
      probability = probNode.value;
    }
  }
  const countNode = f.get('count');
  let count = faultKind === 'transient' ? 1 : 0;
  if (countNode !== undefined) {
    if (faultKind === 'permanent') c.report('conflict', join2(path, 'count'), countNode.span, 'a permanent fault fails every time; give "kind": "transient" to fail a number of times');
    else count = readInt(c, countNode, join2(path, 'count'), 1, 1_000_000) ?? count;
  }

  let sense: ScsiSense | undefined;
  const senseNode = f.get('sense');
  if (senseNode !== undefined) {
    const p = join2(path, 'sense');
    if (kind !== 'hdd') c.report('conflict', p, senseNode.span, 'SCSI sense data is what a disk (hdd) reports; an NVMe drive reports a "status" like "0x281"');
    else sense = readSense(c, senseNode, p);
  }
  let nvmeStatus: number | undefined;
  const statusNode = f.get('status');
  if (statusNode !== undefined) {
    const p = join2(path, 'status');
    if (kind !== 'nvme') c.report('conflict', p, statusNode.span, 'an NVMe status is what an NVMe drive reports; a disk (hdd) reports "sense" like "MEDIUM_ERROR/0x11/0x00"');
    else {
      const v = statusNode.kind === 'number' ? statusNode.value : statusNode.kind === 'string' && /^0x[0-9a-f]+$/i.test(statusNode.value) ? Number.parseInt(statusNode.value.slice(2), 16) : undefined;
      if (v === undefined || !Number.isInteger(v) || v <= 0 || v > 0x7ff) c.report('bad-value', p, statusNode.span, `must be an NVMe status (SCT << 8 | SC) from 0x001 to 0x7ff, like "0x281" (Unrecovered Read Error) (got ${describe(statusNode)})`);
      else nvmeStatus = v;
    }
  }
  const dnrNode = f.get('dnr');
  if (dnrNode !== undefined) {
    const p = join2(path, 'dnr');
    if (kind !== 'nvme') c.report('conflict', p, dnrNode.span, 'the Do Not Retry bit is an NVMe status bit; a disk\'s retries follow its sense data');
    else if (dnrNode.kind !== 'boolean') c.report('wrong-type', p, dnrNode.span, `must be true or false (got ${describe(dnrNode)})`);
    else if (dnrNode.value) nvmeStatus = (nvmeStatus ?? NvmeStatus.READ_ERROR) | NvmeStatus.DNR;
  }
  const crdNode = f.get('crd');
  if (crdNode !== undefined) {
    const p = join2(path, 'crd');
    const crd = kind === 'nvme' ? readInt(c, crdNode, p, 1, 3) : undefined;
    if (kind !== 'nvme') c.report('conflict', p, crdNode.span, 'the Command Retry Delay is an NVMe status field; a disk\'s retries follow its sense data');
    else if (crd === undefined) {
      // readInt reported it
    } else if (nvmeStatus !== undefined && (nvmeStatus & NvmeStatus.DNR) !== 0) {
      c.report('conflict', p, crdNode.span, 'a status with "dnr": true is never retried, so there is no retry to delay');
    } else if (crdt === undefined || crdt[0] === 0) {
      c.report('conflict', p, crdNode.span, `the drive reports no Command Retry Delay Times (CRDT1-3 are 0, as on the 970 PRO), so Linux leaves ACRE off and the drive clears CRD; give the device "crdt": [1, 5, 10] (in 100 ms units)`);
    } else {
      nvmeStatus = (nvmeStatus ?? NvmeStatus.READ_ERROR) | (crd << NVME_STATUS_CRD_SHIFT);
    }
  }
  if (faultKind === 'timeout' && (senseNode !== undefined || statusNode !== undefined || crdNode !== undefined)) {
    c.report('conflict', join2(path, 'kind'), kindNode?.span, 'a timeout is a command the device never answers: it carries no sense data or status');
  }
  if (c.count > before || faultKind === undefined || op === undefined) return undefined;
  return {
    op,
    kind: faultKind,
    count,
    firstSector,
    lastSector,
    probability,
    ...(sense !== undefined ? { sense } : {}),
    ...(nvmeStatus !== undefined ? { nvmeStatus } : {}),
  };
}

/** "KEY/0xASC/0xASCQ" with the key by name (MEDIUM_ERROR) or number (0x3). */
function readSense(c: Checker, node: JsonNode, path: string): ScsiSense | undefined {
  const parts = node.kind === 'string' ? node.value.split('/') : [];
  const byte = (t: string | undefined): number | undefined => {
    if (t === undefined || !/^(0x[0-9a-f]{1,2}|\d{1,3})$/i.test(t)) return undefined;
    const v = t.toLowerCase().startsWith('0x') ? Number.parseInt(t.slice(2), 16) : Number(t);
    return v <= 0xff ? v : undefined;
  };
  const keyText = parts[0] ?? '';
  const named = SENSE_KEY_NAMES.find((n) => n === keyText.toUpperCase());
  const key = named !== undefined ? SenseKey[named] : byte(keyText);
  const asc = byte(parts[1]);
  const ascq = byte(parts[2]);
  if (parts.length !== 3 || key === undefined || key > 0xf || asc === undefined || ascq === undefined) {
    const upper = keyText.toUpperCase();
    const suggestion = named === undefined && /^[A-Z_]+$/.test(upper) ? (closestWord(upper, SENSE_KEY_NAMES) ?? SENSE_KEY_NAMES.find((n) => n.startsWith(upper))) : undefined;
    c.report('bad-value', path, node.span, `must be sense key/ASC/ASCQ like "MEDIUM_ERROR/0x11/0x00" (key one of ${SENSE_KEY_NAMES.join(', ')})${suggestion !== undefined ? `; did you mean "${suggestion}"?` : ''} (got ${describe(node)})`);
    return undefined;
  }
  if (key === SenseKey.NO_SENSE) {
    c.report('bad-value', path, node.span, 'NO_SENSE is no error; give the sense key the device reports, e.g. MEDIUM_ERROR');
    return undefined;
  }
  return { key, asc, ascq };
}

/** NAND flash page: 4 KiB to 64 KiB (2D SLC parts had 4 KiB, 3D TLC has 16 KiB, 970 PRO's one-shot unit 32 KiB). */
const PAGE_SIZE_RULE: SizeRule = { example: '16k', minBytes: 4096, maxBytes: 64 * 1024, multipleOf: 4096, multipleName: '4k pages' };
/** Erase block: up to 256 MiB (3D NAND blocks are 4 to 48 MiB; wide "superblocks" larger). */
const BLOCK_SIZE_RULE: SizeRule = { example: '4m', minBytes: 8192, maxBytes: 256 * 2 ** 20, multipleOf: 4096, multipleName: '4k pages' };
const MAX_CHANNELS = 32;
const MAX_DIES = 1024;
/** Over-provisioning in percent: from none to 4x the capacity (enterprise drives ship 28 % or 100 %+). */
const MAX_OVER_PROVISIONING_PERCENT = 400;
const PRECONDITIONS: readonly NonNullable<SsdSpec['precondition']>[] = ['sequential', 'random'];
/** A random precondition costs host time at boot (about 3 s for 256 MiB at 7 % spare, more the less spare): bounded. */
const MAX_RANDOM_PRECONDITION_BYTES = 256 * 2 ** 20;
const GC_POLICY_NAMES: readonly NonNullable<SsdSpec['gcPolicy']>[] = ['greedy', 'cost-benefit'];

/**
 * An NVMe device's SSD keys: "over_provisioning": "7%" (or 7), "page_size": "16k", "block_size":
 * "4m", "channels": 8, "dies": 16, "gc_policy": "greedy", "multi_stream": true. Absent keys keep the
 * 970 PRO-like defaults, scaled to the capacity.
 */
function readSsd(c: Checker, f: Fields, path: string, kind: DeviceKind | undefined, capacityBytes: number): SsdSpec | undefined {
  const given = SSD_KEYS.filter((k) => f.has(k));
  if (given.length === 0) return undefined;
  if (kind === 'hdd') {
    for (const k of given) c.report('bad-value', join2(path, k), f.get(k)!.span, `is an SSD setting; a "type": "hdd" device has no flash (remove it or use "type": "nvme")`);
    return undefined;
  }
  const spec: {
    overProvisioningPercent?: number;
    pageSizeBytes?: number;
    blockSizeBytes?: number;
    channels?: number;
    dies?: number;
    gcPolicy?: 'greedy' | 'cost-benefit';
    multiStream?: boolean;
    precondition?: 'sequential' | 'random';
    crdt?: readonly [number, number, number];
    irqCoalescing?: IrqCoalescingSpec;
  } = {};
  const opNode = f.get('over_provisioning');
  if (opNode !== undefined) {
    const text = opNode.kind === 'string' ? opNode.value.trim() : opNode.kind === 'number' ? String(opNode.value) : '';
    const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text);
    const pct = m !== null ? Number(m[1]) : undefined;
    if (pct === undefined || pct > MAX_OVER_PROVISIONING_PERCENT) {
      c.report('bad-value', join2(path, 'over_provisioning'), opNode.span, `must be a percent of the capacity from 0 to ${MAX_OVER_PROVISIONING_PERCENT} like "7%" or 28 (spare flash over the capacity) (got ${describe(opNode)})`);
    } else {
      spec.overProvisioningPercent = pct;
    }
  }
  const pageNode = f.get('page_size');
  if (pageNode !== undefined) {
    const p = join2(path, 'page_size');
    const bytes = readSize(c, pageNode, p, PAGE_SIZE_RULE);
    if (bytes !== undefined && (bytes & (bytes - 1)) !== 0) c.report('bad-value', p, pageNode.span, `must be a power of two like "16k" or "32k" (got ${describe(pageNode)})`);
    else if (bytes !== undefined) spec.pageSizeBytes = bytes;
  }
  const blockNode = f.get('block_size');
  if (blockNode !== undefined) {
    const p = join2(path, 'block_size');
    const bytes = readSize(c, blockNode, p, BLOCK_SIZE_RULE);
    const pageBytes = spec.pageSizeBytes ?? 32 * 1024;
    if (bytes !== undefined && (bytes % pageBytes !== 0 || bytes < 2 * pageBytes)) {
      c.report('bad-value', p, blockNode.span, `must be a multiple of the ${formatSizeFio(pageBytes)} flash page${spec.pageSizeBytes === undefined ? ' (the default; set "page_size" for another)' : ''}, at least two pages (got ${describe(blockNode)})`);
    } else if (bytes !== undefined) {
      spec.blockSizeBytes = bytes;
    }
  }
  const chNode = f.get('channels');
  if (chNode !== undefined) spec.channels = readInt(c, chNode, join2(path, 'channels'), 1, MAX_CHANNELS);
  const diesNode = f.get('dies');
  if (diesNode !== undefined) {
    const p = join2(path, 'dies');
    const dies = readInt(c, diesNode, p, 1, MAX_DIES);
    if (dies !== undefined && spec.channels !== undefined && dies % spec.channels !== 0) {
      c.report('bad-value', p, diesNode.span, `must be a multiple of "channels" (${spec.channels}): every channel has as many dies (got ${dies})`);
    } else if (dies !== undefined) {
      spec.dies = dies;
    }
  }
  if (spec.channels === undefined) delete spec.channels;
  if (spec.dies === undefined) delete spec.dies;
  const gcNode = f.get('gc_policy');
  if (gcNode !== undefined) {
    const policy = readChoice(c, gcNode, join2(path, 'gc_policy'), GC_POLICY_NAMES, { 'cost_benefit': 'cost-benefit', costbenefit: 'cost-benefit' }, (got) => `unknown GC policy ${got} (expected greedy or cost-benefit)`);
    if (policy !== undefined) spec.gcPolicy = policy;
  }
  const msNode = f.get('multi_stream');
  if (msNode !== undefined) {
    if (msNode.kind !== 'boolean') c.report('wrong-type', join2(path, 'multi_stream'), msNode.span, `must be true (separate open blocks per write stream) or false (got ${describe(msNode)})`);
    else spec.multiStream = msNode.value;
  }
  const preNode = f.get('precondition');
  if (preNode !== undefined) {
    const p = join2(path, 'precondition');
    const how = readChoice(c, preNode, p, PRECONDITIONS, {}, (got) => `unknown precondition ${got} (expected sequential: full, written in order; or random: then overwritten at random to GC's steady state)`);
    if (how === 'random' && capacityBytes > MAX_RANDOM_PRECONDITION_BYTES) {
      c.report('bad-value', p, preNode.span, `"random" rewrites the drive three times at boot, at most ${formatSizeFio(MAX_RANDOM_PRECONDITION_BYTES)} (the capacity is ${formatSizeFio(capacityBytes)}); use a smaller device`);
    } else if (how !== undefined) {
      spec.precondition = how;
    }
  }
  const crdtNode = f.get('crdt');
  if (crdtNode !== undefined) {
    const crdt = readCrdt(c, crdtNode, join2(path, 'crdt'));
    if (crdt !== undefined) spec.crdt = crdt;
  }
  const icNode = f.get('irq_coalescing');
  if (icNode !== undefined) {
    const ic = readIrqCoalescing(c, icNode, join2(path, 'irq_coalescing'));
    if (ic !== undefined) spec.irqCoalescing = ic;
  }
  return spec;
}

const IRQ_COALESCING_KEYS: KeySpec = {
  known: ['time_us', 'threshold'],
  aliases: { time: 'time_us', aggregation_time: 'time_us', usecs: 'time_us', rx_usecs: 'time_us', thr: 'threshold', aggregation_threshold: 'threshold', frames: 'threshold', rx_frames: 'threshold' },
  noun: 'key',
};
/** Set Features 08h: TIME is 8 bits of 100 µs units, THR 8 bits 0's based. */
const IRQ_COALESCING_TIME_UNIT_US = 100;
const MAX_IRQ_COALESCING_TIME_US = 255 * IRQ_COALESCING_TIME_UNIT_US;
const MAX_IRQ_COALESCING_THRESHOLD = 256;

/**
 * "irq_coalescing": {"time_us": 100, "threshold": 8}: NVMe Interrupt Coalescing (Set Features 08h),
 * an interrupt per 8 completions or 100 µs after the first unsignalled one, whichever comes first.
 */
function readIrqCoalescing(c: Checker, node: JsonNode, path: string): IrqCoalescingSpec | undefined {
  const obj = readObject(c, node, path, 'an object like {"time_us": 100, "threshold": 8} (NVMe interrupt coalescing: aggregation time and threshold)', IRQ_COALESCING_KEYS);
  if (obj === undefined) return undefined;
  const f = obj.fields;
  const before = c.count;
  let timeUs: number | undefined;
  const timeNode = f.get('time_us');
  if (timeNode === undefined) missing(c, obj.node, path, 'time_us', '"time_us": 100');
  else {
    const p = join2(path, 'time_us');
    const n = timeNode.kind === 'number' && Number.isInteger(timeNode.value) ? timeNode.value : undefined;
    if (n === undefined || n < 0 || n > MAX_IRQ_COALESCING_TIME_US || n % IRQ_COALESCING_TIME_UNIT_US !== 0) {
      c.report('bad-value', p, timeNode.span, `must be a multiple of ${IRQ_COALESCING_TIME_UNIT_US} µs from 0 to ${MAX_IRQ_COALESCING_TIME_US} (the aggregation time counts 100 µs units; 0 turns coalescing off) (got ${describe(timeNode)})`);
    } else {
      timeUs = n;
    }
  }
  let threshold: number | undefined;
  const thrNode = f.get('threshold');
  if (thrNode === undefined) missing(c, obj.node, path, 'threshold', '"threshold": 8');
  else threshold = readInt(c, thrNode, join2(path, 'threshold'), 1, MAX_IRQ_COALESCING_THRESHOLD);
  if (c.count > before || timeUs === undefined || threshold === undefined) return undefined;
  return { timeUs, threshold };
}

/** CRDT1-3 are 16-bit fields of Identify Controller, in 100 ms units. */
const MAX_CRDT = 0xffff;

/**
 * "crdt": [1, 5, 10]: the controller's Command Retry Delay Times CRDT1-3 in 100 ms units (fewer
 * than three: the rest 0). Linux enables ACRE only when CRDT1 is set.
 */
function readCrdt(c: Checker, node: JsonNode, path: string): readonly [number, number, number] | undefined {
  if (node.kind !== 'array' || node.items.length < 1 || node.items.length > 3) {
    c.report('wrong-type', path, node.span, `must be one to three Command Retry Delay Times in 100 ms units, CRDT1 first, like [1, 5, 10] (got ${describe(node)})`);
    return undefined;
  }
  const before = c.count;
  const v = node.items.map((item, i) => readInt(c, item, `${path}[${i}]`, 0, MAX_CRDT) ?? 0);
  if (c.count > before) return undefined;
  return [v[0] ?? 0, v[1] ?? 0, v[2] ?? 0];
}

/** An object's member node, if it is an object with that key. */
function childNode(node: JsonNode | undefined, key: string): JsonNode | undefined {
  return node?.kind === 'object' ? node.entries.find((e) => e.key === key)?.value : undefined;
}

function childSpan(node: JsonNode | undefined, key: string): Span | undefined {
  return childNode(node, key)?.span;
}

/** Largest autosuspend delay and APST latency tolerance: an hour, the longest run. */
const MAX_AUTOSUSPEND_DELAY_MS = 3_600_000;
const MAX_PS_MAX_LATENCY_US = 3_600_000_000;

/**
 * A device's runtime PM knobs (its sysfs power/ files): a disk's autosuspend_delay_ms (-1: never)
 * and control; an NVMe controller's pm_qos_latency_tolerance_us (APST's exit-latency bound, 0: off).
 */
function readDevicePower(c: Checker, f: Fields, path: string, kind: DeviceKind | undefined): Pick<DeviceSpec, 'autosuspendDelayMs' | 'powerControl' | 'psMaxLatencyUs'> {
  const out: { autosuspendDelayMs?: number; powerControl?: 'auto' | 'on'; psMaxLatencyUs?: number } = {};
  const delayNode = f.get('autosuspend_delay_ms');
  const controlNode = f.get('power_control');
  const tolNode = f.get('pm_qos_latency_tolerance_us');
  if (kind === 'nvme') {
    // the NVMe block queue has no runtime PM (its controller's power is APST's)
    for (const [key, node] of [['autosuspend_delay_ms', delayNode], ['power_control', controlNode]] as const) {
      if (node !== undefined) c.report('bad-value', join2(path, key), node.span, 'applies to SATA disks (type "hdd"); an NVMe SSD saves power by APST: set pm_qos_latency_tolerance_us (0 turns APST off)');
    }
  }
  if (kind === 'hdd' && tolNode !== undefined) {
    c.report('bad-value', join2(path, 'pm_qos_latency_tolerance_us'), tolNode.span, 'applies to NVMe SSDs (APST); a SATA disk suspends by autosuspend_delay_ms');
  }
  if (kind === 'hdd' && delayNode !== undefined) {
    const v = delayNode.kind === 'number' && delayNode.value === -1 ? -1 : readInt(c, delayNode, join2(path, 'autosuspend_delay_ms'), -1, MAX_AUTOSUSPEND_DELAY_MS);
    if (v !== undefined) out.autosuspendDelayMs = v;
  }
  if (kind === 'hdd' && controlNode !== undefined) {
    const v = readChoice(c, controlNode, join2(path, 'power_control'), ['auto', 'on'] as const, {}, (got) => `must be "auto" (runtime PM allowed) or "on" (never suspend) (got ${got})`);
    if (v !== undefined) out.powerControl = v;
  }
  if (kind === 'nvme' && tolNode !== undefined) {
    const v = readInt(c, tolNode, join2(path, 'pm_qos_latency_tolerance_us'), 0, MAX_PS_MAX_LATENCY_US);
    if (v !== undefined) out.psMaxLatencyUs = v;
  }
  return out;
}

const POWER_KEYS: KeySpec = {
  known: ['autosleep', 'cpuidle', 'default_ps_max_latency_us', 'wake_lock', 'cpufreq'],
  aliases: { 'nvme_core.default_ps_max_latency_us': 'default_ps_max_latency_us', cpuidle_governor: 'cpuidle', governor: 'cpuidle', wake_locks: 'wake_lock', wakelock: 'wake_lock', wakelocks: 'wake_lock' },
  noun: 'key',
};

/** machine.power: autosleep, the cpuidle governor, APST's default latency bound, jobs holding wake locks. */
function readPower(c: Checker, node: JsonNode): PowerSpec | undefined {
  const obj = readObject(c, node, 'machine.power', 'an object like {"autosleep": "freeze", "cpuidle": "menu", "wake_lock": ["player"]}', POWER_KEYS);
  if (obj === undefined) return undefined;
  const f = obj.fields;
  const before = c.count;
  const autosleepNode = f.get('autosleep');
  const autosleep = autosleepNode === undefined ? DEFAULT_POWER.autosleep : readChoice(c, autosleepNode, 'machine.power.autosleep', ['off', 'freeze'] as const, { s2idle: 'freeze' }, (got) => `must be "off" or "freeze" (suspend to idle whenever no wake lock is held) (got ${got})`);
  const cpuidleNode = f.get('cpuidle');
  const cpuidle = cpuidleNode === undefined ? DEFAULT_POWER.cpuidle : readChoice(c, cpuidleNode, 'machine.power.cpuidle', ['menu', 'off'] as const, {}, (got) => `must be "menu" (C-states chosen by the menu governor) or "off" (got ${got})`);
  const latNode = f.get('default_ps_max_latency_us');
  const defaultPsMaxLatencyUs = latNode === undefined ? DEFAULT_POWER.defaultPsMaxLatencyUs : readInt(c, latNode, 'machine.power.default_ps_max_latency_us', 0, MAX_PS_MAX_LATENCY_US);
  const wlNode = f.get('wake_lock');
  const wakeLockJobs: string[] = [];
  if (wlNode !== undefined) {
    if (wlNode.kind !== 'array' || wlNode.items.some((i) => i.kind !== 'string' || i.value === '')) {
      c.report('wrong-type', 'machine.power.wake_lock', wlNode.span, `must be an array of job names whose processes hold a wake lock while they run, like ["player"] (got ${describe(wlNode)})`);
    } else {
      for (const i of wlNode.items) if (i.kind === 'string') wakeLockJobs.push(i.value);
    }
  }
  const cpufreqNode = f.get('cpufreq');
  const cpufreq = cpufreqNode === undefined ? undefined : readCpufreq(c, cpufreqNode);
  if (c.count > before || autosleep === undefined || cpuidle === undefined || defaultPsMaxLatencyUs === undefined) return undefined;
  return { autosleep, cpuidle, defaultPsMaxLatencyUs, wakeLockJobs, ...(cpufreq === undefined ? {} : { cpufreq }) };
}

const CPUFREQ_KEYS: KeySpec = {
  known: ['governor', 'min_mhz', 'max_mhz', 'rate_limit_us'],
  aliases: { scaling_governor: 'governor', 'schedutil/rate_limit_us': 'rate_limit_us' },
  noun: 'key',
};

/** The highest frequency a scenario may give a CPU (MHz). */
const MAX_CPU_MHZ = 10_000;

/** machine.power.cpufreq: the governor, the CPUs' frequency range and schedutil's rate limit. */
function readCpufreq(c: Checker, node: JsonNode): CpufreqSpec | undefined {
  const obj = readObject(c, node, 'machine.power.cpufreq', 'an object like {"governor": "schedutil", "min_mhz": 800, "max_mhz": 3500}', CPUFREQ_KEYS);
  if (obj === undefined) return undefined;
  const f = obj.fields;
  const before = c.count;
  const govNode = f.get('governor');
  const governor =
    govNode === undefined
      ? 'performance'
      : readChoice(c, govNode, 'machine.power.cpufreq.governor', ['performance', 'powersave', 'schedutil'] as const, {}, (got) => `must be "performance" (always the highest frequency), "powersave" (always the lowest) or "schedutil" (follows the CPU's load) (got ${got})`);
  const minNode = f.get('min_mhz');
  const minMhz = minNode === undefined ? DEFAULT_CPUFREQ_MIN_MHZ : readInt(c, minNode, 'machine.power.cpufreq.min_mhz', 100, MAX_CPU_MHZ);
  const maxNode = f.get('max_mhz');
  const maxMhz = maxNode === undefined ? DEFAULT_CPUFREQ_MAX_MHZ : readInt(c, maxNode, 'machine.power.cpufreq.max_mhz', 100, MAX_CPU_MHZ);
  const rateNode = f.get('rate_limit_us');
  const rateLimitUs = rateNode === undefined ? DEFAULT_SUGOV_RATE_LIMIT_US : readInt(c, rateNode, 'machine.power.cpufreq.rate_limit_us', 0, 1_000_000);
  if (minMhz !== undefined && maxMhz !== undefined && minMhz > maxMhz) {
    c.report('bad-value', 'machine.power.cpufreq.min_mhz', (minNode ?? maxNode)!.span, `must not exceed max_mhz (${minMhz} > ${maxMhz})`);
  }
  if (c.count > before || governor === undefined || minMhz === undefined || maxMhz === undefined || rateLimitUs === undefined) return undefined;
  return { governor, minMhz, maxMhz, rateLimitUs };
}

/**
 * read_ahead_kb: KiB as sysfs takes it, a whole number of 4 KiB pages (Linux would round a 6 down
 * to 4 without a word; here that is a mistake to point at). 0 turns readahead off.
 */
function readReadAheadKb(c: Checker, node: JsonNode, path: string): number | undefined {
  const kb = node.kind === 'number' && Number.isSafeInteger(node.value) ? node.value : node.kind === 'string' && /^\d+$/.test(node.value) ? Number(node.value) : undefined;
  const problem = kb === undefined ? 'must be a number of KiB like 128 (0 turns readahead off)' : readAheadKbProblem(kb);
  if (problem !== undefined) {
    c.report('bad-value', path, node.span, `${problem} (got ${describe(node)})`);
    return undefined;
  }
  return kb;
}

/**
 * machine.vm: the dirty-page sysctls. A ratio and its _bytes variant exclude each other (writing
 * one zeroes the other in /proc/sys/vm), so only one of each pair may be given.
 */
function readVm(c: Checker, node: JsonNode): VmSpec | undefined {
  const obj = readObject(c, node, 'machine.vm', 'an object of vm sysctls like {"dirty_ratio": 20, "min_free_kbytes": 8192, "lru": "two-list"}', VM_KEYS);
  if (obj === undefined) return undefined;
  const f = obj.fields;
  const before = c.count;
  const pct = (key: string): number | undefined => {
    const n = f.get(key);
    return n === undefined ? undefined : readInt(c, n, `machine.vm.${key}`, 0, 100);
  };
  const bytes = (key: string, rule: SizeRule): number | undefined => {
    const n = f.get(key);
    return n === undefined ? undefined : readSize(c, n, `machine.vm.${key}`, rule);
  };
  const centisecs = (key: string): number | undefined => {
    const n = f.get(key);
    return n === undefined ? undefined : readInt(c, n, `machine.vm.${key}`, 0, MAX_CENTISECS);
  };
  for (const [ratio, byteKey] of [['dirty_ratio', 'dirty_bytes'], ['dirty_background_ratio', 'dirty_background_bytes']] as const) {
    const byteNode = f.get(byteKey);
    if (f.has(ratio) && byteNode !== undefined) {
      c.report('conflict', `machine.vm.${byteKey}`, byteNode.span, `give either ${ratio} or ${byteKey}, not both (setting one zeroes the other, as in /proc/sys/vm)`);
    }
  }
  const dirtyRatio = pct('dirty_ratio');
  const dirtyBackgroundRatio = pct('dirty_background_ratio');
  const dirtyBytes = bytes('dirty_bytes', DIRTY_BYTES_RULE);
  const dirtyBackgroundBytes = bytes('dirty_background_bytes', DIRTY_BACKGROUND_BYTES_RULE);
  const dirtyExpireCentisecs = centisecs('dirty_expire_centisecs');
  const dirtyWritebackCentisecs = centisecs('dirty_writeback_centisecs');
  const minFreeNode = f.get('min_free_kbytes');
  const minFreeKbytes = minFreeNode === undefined ? undefined : readInt(c, minFreeNode, 'machine.vm.min_free_kbytes', ...MIN_FREE_KBYTES_RANGE);
  const scaleNode = f.get('watermark_scale_factor');
  const watermarkScaleFactor = scaleNode === undefined ? undefined : readInt(c, scaleNode, 'machine.vm.watermark_scale_factor', ...WATERMARK_SCALE_FACTOR_RANGE);
  const lruNode = f.get('lru');
  const lruNames = [...LRU_POLICIES.keys()];
  const expected = `${lruNames.slice(0, -1).join(', ')} or ${lruNames[lruNames.length - 1]}`;
  let lru = lruNode === undefined ? undefined : readChoice(c, lruNode, 'machine.vm.lru', lruNames, { 'lru-gen': MGLRU_POLICY, multigen: MGLRU_POLICY }, (got) => `unknown LRU policy ${got} (expected ${expected})`);
  // lru_gen is Linux's switch (/sys/kernel/mm/lru_gen/enabled): true means "lru": "mglru", false rules it out
  const lruGen = f.get('lru_gen');
  if (lruGen !== undefined) {
    if (lruGen.kind !== 'boolean') {
      c.report('wrong-type', 'machine.vm.lru_gen', lruGen.span, `must be true (MGLRU) or false (got ${describe(lruGen)})`);
    } else if (lru !== undefined && (lru === MGLRU_POLICY) !== lruGen.value) {
      c.report('bad-value', 'machine.vm.lru_gen', lruGen.span, `is ${lruGen.value} but machine.vm.lru is "${lru}": "lru_gen": true means "lru": "${MGLRU_POLICY}"; keep one of the two`);
    } else if (lruGen.value) {
      lru = MGLRU_POLICY;
    }
  }
  if (c.count > before) return undefined;
  return {
    dirtyRatio: dirtyBytes !== undefined ? 0 : (dirtyRatio ?? DEFAULT_VM.dirtyRatio),
    dirtyBackgroundRatio: dirtyBackgroundBytes !== undefined ? 0 : (dirtyBackgroundRatio ?? DEFAULT_VM.dirtyBackgroundRatio),
    dirtyBytes: dirtyBytes ?? 0,
    dirtyBackgroundBytes: dirtyBackgroundBytes ?? 0,
    dirtyExpireCentisecs: dirtyExpireCentisecs ?? DEFAULT_VM.dirtyExpireCentisecs,
    dirtyWritebackCentisecs: dirtyWritebackCentisecs ?? DEFAULT_VM.dirtyWritebackCentisecs,
    ...(minFreeKbytes === undefined ? {} : { minFreeKbytes }),
    ...(watermarkScaleFactor === undefined ? {} : { watermarkScaleFactor }),
    ...(lru === undefined ? {} : { lru }),
  };
}

function readMachine(c: Checker, node: JsonNode | undefined): { machine: MachineSpec; devices: Devices } {
  const fallback = { machine: DEFAULT_MACHINE, devices: { list: DEFAULT_MACHINE.devices, usable: true } };
  if (node === undefined) return fallback;
  const obj = readObject(c, node, 'machine', 'an object like {"cpus": 4, "memory": "4g", "devices": [...]}', MACHINE_KEYS);
  if (obj === undefined) return { machine: DEFAULT_MACHINE, devices: { list: [], usable: false } };
  const f = obj.fields;

  const cpusNode = f.get('cpus');
  const cpus = cpusNode === undefined ? DEFAULT_MACHINE.cpus : (readInt(c, cpusNode, 'machine.cpus', 1, MAX_CPUS) ?? DEFAULT_MACHINE.cpus);

  let memoryBytes = DEFAULT_MACHINE.memoryBytes;
  const memNode = f.get('memory');
  if (memNode !== undefined) {
    memoryBytes = readSize(c, memNode, 'machine.memory', MEMORY_RULE) ?? memoryBytes;
  }

  let devices: Devices = fallback.devices;
  const devNode = f.get('devices');
  if (devNode !== undefined) {
    if (devNode.kind !== 'array') {
      c.report('wrong-type', 'machine.devices', devNode.span, `must be an array of devices (got ${describe(devNode)})`);
      devices = { list: [], usable: false };
    } else if (devNode.items.length === 0) {
      c.report('bad-value', 'machine.devices', devNode.span, 'must list at least one device, e.g. [{"name": "nvme0n1", "type": "nvme", "mount": "/mnt/nvme"}]');
      devices = { list: [], usable: false };
    } else if (devNode.items.length > MAX_DEVICES) {
      c.report('bad-value', 'machine.devices', devNode.span, `lists ${devNode.items.length} devices; a machine may have at most ${MAX_DEVICES}`);
      devices = { list: [], usable: false };
    } else {
      const list: DeviceSpec[] = [];
      devNode.items.forEach((item, i) => {
        const p = `machine.devices[${i}]`;
        const dev = readDevice(c, item, p);
        if (dev === undefined) return;
        const sameName = list.findIndex((d) => d.name === dev.name);
        const sameMount = dev.mount === '' ? -1 : list.findIndex((d) => d.mount === dev.mount);
        const nested = dev.mount === '' ? undefined : list.find((d) => d.mount !== '' && d.mount !== dev.mount && (dev.mount.startsWith(`${d.mount}/`) || d.mount.startsWith(`${dev.mount}/`)));
        const itemFields = item.kind === 'object' ? item.entries : [];
        const spanOf = (key: string): Span | undefined => itemFields.find((e) => e.key === key)?.value.span;
        if (sameName !== -1) {
          c.report('conflict', `${p}.name`, spanOf('name'), `duplicate device name ${quote(dev.name)} (also machine.devices[${sameName}]); give each device its own name`);
        } else if (sameMount !== -1) {
          c.report('conflict', `${p}.mount`, spanOf('mount'), `${quote(dev.mount)} is already the mount of ${list[sameMount]!.name}; give each device its own mount`);
        } else if (nested !== undefined) {
          c.report('conflict', `${p}.mount`, spanOf('mount'), `${quote(dev.mount)} nests with ${quote(nested.mount)} (mount of ${nested.name}); mounts must not contain each other`);
        }
        list.push(dev);
      });
      devices = { list, usable: true };
    }
  }
  const vmNode = f.get('vm');
  const vm = vmNode === undefined ? undefined : readVm(c, vmNode);
  const cgNode = f.get('cgroups');
  const cgroups = cgNode === undefined ? undefined : readCgroups(c, cgNode, devices.list);
  const powerNode = f.get('power');
  const power = powerNode === undefined ? undefined : readPower(c, powerNode);
  const lpNode = f.get('printers');
  const printers = lpNode === undefined ? undefined : readPrinters(c, lpNode, devices.list.map((d) => d.name));
  const preemptNode = f.get('preempt');
  const preempt = preemptNode === undefined ? undefined : readChoice(c, preemptNode, 'machine.preempt', PREEMPT_MODELS, PREEMPT_ALIASES, (got) => `unknown preemption model ${got} (expected "none", "voluntary" or "full", as preempt= takes them)`);
  const fifoNode = f.get('sched_fifo');
  const schedFifo = fifoNode === undefined ? undefined : readSchedFifo(c, fifoNode);
  const nicsNode = f.get('nics');
  const nics = nicsNode === undefined ? undefined : readNics(c, nicsNode, 'machine.nics');
  const mountsNode = f.get('mounts');
  const mounts = mountsNode === undefined ? undefined : readNetworkMounts(c, mountsNode, devices.list);
  const nfsdNode = f.get('nfsd');
  const nfsd = nfsdNode === undefined ? undefined : readNfsd(c, nfsdNode, devices.list);
  return {
    machine: {
      cpus,
      memoryBytes,
      devices: devices.list,
      ...(vm === undefined ? {} : { vm }),
      ...(cgroups === undefined ? {} : { cgroups }),
      ...(preempt === undefined ? {} : { preempt }),
      ...(schedFifo === undefined ? {} : { schedFifo }),
      ...(printers === undefined ? {} : { printers }),
      ...(power === undefined ? {} : { power }),
      ...(nics === undefined || nics.length === 0 ? {} : { nics }),
      ...(mounts === undefined ? {} : { mounts }),
      ...(nfsd === undefined ? {} : { nfsd }),
    },
    devices,
  };
}

/** Where a JSON job's option is: its field path and span. */
interface JsonAt {
  readonly path: string;
  readonly span: Span | undefined;
}

/**
 * A JSON job object as fio options: every value a string (numbers as written, true/false as 1/0),
 * read by the same table and code as a job file's, so the two are one workload model.
 */
function jsonJobInput(c: Checker, node: JsonNode, path: string): JobInput<JsonAt> | undefined {
  if (node.kind !== 'object') {
    c.report('wrong-type', path, node.span, `must be an object of fio options like {"name": "reader", "filename": "/mnt/nvme/data", "size": "64m"} (got ${describe(node)})`);
    return undefined;
  }
  const seen = new Set<string>();
  const options: OptionInput<JsonAt>[] = [];
  let name: string | undefined;
  let bad = false;
  for (const entry of node.entries) {
    const p = join2(path, entry.key);
    if (seen.has(entry.key)) {
      c.report('duplicate-key', p, entry.keySpan, 'given twice; remove one (JSON keeps only the last)');
      bad = true;
      continue;
    }
    seen.add(entry.key);
    const v = entry.value;
    let value: string | undefined;
    if (v.kind === 'string') value = v.value;
    else if (v.kind === 'number') value = v.raw;
    else if (v.kind === 'boolean') value = v.value ? '1' : '0';
    if (entry.key === 'name') {
      if (v.kind !== 'string' || v.value === '') {
        c.report('wrong-type', p, v.span, `must be a non-empty string (got ${describe(v)})`);
        bad = true;
        continue;
      }
      if (v.value.length > MAX_NAME_CHARS) {
        c.report('bad-value', p, v.span, `is ${v.value.length} characters long; give at most ${MAX_NAME_CHARS}`);
        bad = true;
        continue;
      }
      name = v.value;
    }
    if (value === undefined) {
      c.report('wrong-type', p, v.span, `must be a string or a number, as an fio option's value (got ${describe(v)})`);
      bad = true;
      continue;
    }
    options.push({ key: entry.key, value, keyAt: { path: p, span: entry.keySpan }, valueAt: { path: p, span: v.span } });
  }
  if (name === undefined && !node.entries.some((e) => e.key === 'name')) {
    missing(c, node, path, 'name', '"name": "reader"');
    bad = true;
  }
  // a job with problems is still read, so every problem is listed at once (it yields no JobSpec)
  void bad;
  return { sectionName: name ?? 'job', at: { path, span: node.span === undefined ? undefined : { offset: node.span.offset, length: 1 } }, options };
}

/**
 * fio lays out every job's file before the run: the files on one filesystem must fit in what mkfs
 * left free (journal and metadata taken), not just each one in the device's capacity. Paths land on
 * filesystems as resolveTarget says (longest mount prefix; "/" is the root device).
 */
function checkFilesFit<L>(jobs: readonly ResolvedJob<L>[], machine: MachineSpec, report: (at: L, message: string) => void): void {
  const byDevice = new Map<string, { device: DeviceSpec; files: Map<string, number>; lastAt: L }>();
  for (const r of jobs) {
    for (const list of [r.job.files, ...r.cloneFiles]) {
      for (const f of list) {
        const t = resolveTarget(f, machine);
        if (t.kind !== 'file') continue;
        let entry = byDevice.get(t.device.name);
        if (entry === undefined) {
          entry = { device: t.device, files: new Map(), lastAt: r.sizeAt };
          byDevice.set(t.device.name, entry);
        }
        // the first job to name a file creates it (fio: later jobs reuse it)
        if (!entry.files.has(f)) {
          entry.files.set(f, ext4FileCostBlocks(r.job.fileSizeBytes));
          entry.lastAt = r.sizeAt;
        }
      }
    }
  }
  for (const { device, files, lastAt } of byDevice.values()) {
    const neededBlocks = [...files.values()].reduce((sum, b) => sum + b, 0);
    const freeBlocks = filesystemFreeBlocks(device);
    if (neededBlocks <= freeBlocks) continue;
    const where = device.mount !== '' ? device.mount : '/';
    const what = files.size === 1 ? 'this file needs' : `the ${files.size} files on ${where} need`;
    report(
      lastAt,
      `${what} ${formatBytes(neededBlocks * EXT4_BLOCK_SIZE)} but the filesystem on ${device.name} has ${formatBytes(freeBlocks * EXT4_BLOCK_SIZE)} free after ext4's journal and metadata; make the file${files.size === 1 ? '' : 's'} smaller or the device larger`,
    );
  }
}

/** JSON jobs: each read as fio options; then names, groups, wait_for, processes and space. */
function readJsonJobs(c: Checker, jobsNode: JsonArray, machine: MachineSpec, cwd: string, devicesUsable: boolean): JobSpec[] {
  const inputs: JobInput<JsonAt>[] = [];
  jobsNode.items.forEach((item, i) => {
    const input = jsonJobInput(c, item, `jobs[${i}]`);
    if (input !== undefined) inputs.push(input);
  });
  const ctx: ResolveContext<JsonAt> = {
    machine,
    cwd,
    maxProcesses: MAX_PROCESSES,
    uniqueNames: true,
    describeJob: (i) => `jobs[${i}].name`,
    report: (code, at, _option, message) => c.report(code, at.path, at.span, message),
  };
  void devicesUsable;
  const { jobs, ok } = resolveJobs(inputs, { ...ctx, report: (code, at, _option, message) => (code === 'not-on-device' && !devicesUsable) ? undefined : c.report(code, code === 'too-many' ? 'jobs' : at.path, code === 'too-many' ? jobsNode.span : at.span, message) });
  if (ok && c.count === 0) checkFilesFit(jobs, machine, (at, message) => c.report('bad-value', /\.(file)?size$/.test(at.path) ? at.path : `${at.path}.size`, at.span, message));
  return jobs.map((j) => j.job);
}

/** What validating a JSON scenario needs from outside the text. */
interface ValidateEnv {
  /** The working directory of relative job file names (/root unless --directory). */
  readonly cwd: string;
  /** Reads "job_file" (relative to the scenario file) for the scenario's machine; absent for text with no file. */
  readonly loadJobFile: ((name: string, machine: MachineSpec) => ScenarioResult) | undefined;
}

function validate(root: JsonNode, c: Checker, defaultName: string, env: ValidateEnv): Scenario | undefined {
  const top = readObject(c, root, '', 'a JSON object with "name", "duration" and "jobs"', TOP_KEYS);
  if (top === undefined) return undefined;
  const f = top.fields;

  let name = defaultName;
  const nameNode = f.get('name');
  if (nameNode === undefined) missing(c, top.node, '', 'name', `"name": ${quote(defaultName)}`);
  else name = readName(c, nameNode, 'name', MAX_NAME_CHARS) ?? name;

  let description: string | undefined;
  const descNode = f.get('description');
  if (descNode !== undefined) {
    if (descNode.kind !== 'string') c.report('wrong-type', 'description', descNode.span, `must be a string (got ${describe(descNode)})`);
    else if (descNode.value.length > MAX_DESCRIPTION_CHARS) c.report('bad-value', 'description', descNode.span, `is ${descNode.value.length} characters long; give at most ${MAX_DESCRIPTION_CHARS}`);
    else description = descNode.value;
  }

  const jobFileNode = f.get('job_file');
  const jobsNode = f.get('jobs');
  const eventsField = f.get('events');
  const hasEvents = eventsField?.kind === 'array' && eventsField.items.length > 0;

  let durationNs: number | undefined;
  const durNode = f.get('duration');
  // a job file implies its own duration (see parseJobFileText); inline jobs need one
  if (durNode === undefined && jobFileNode === undefined) missing(c, top.node, '', 'duration', '"duration": "2s"');
  else if (durNode !== undefined) durationNs = readDuration(c, durNode, 'duration', { bareUnit: 's', hint: '"2s" or "500ms"', allowZero: false }) ?? 0;

  const { machine, devices } = readMachine(c, f.get('machine'));

  const stepsNode = f.get('steps');
  const steps = stepsNode === undefined ? undefined : readInt(c, stepsNode, 'steps', 0, MAX_STEP_IOS);

  // a scenario event: the machine crashes (loses power) then, and the run ends there
  const crashNode = f.get('crash_at');
  const crashAtNs = crashNode === undefined ? undefined : readDuration(c, crashNode, 'crash_at', { bareUnit: 's', hint: '"5ms" or "1s"', allowZero: false });

  let jobs: JobSpec[] = [];
  if (jobFileNode !== undefined && jobsNode !== undefined) {
    c.report('conflict', 'job_file', jobFileNode.span, 'give either "job_file" or "jobs", not both');
  } else if (jobFileNode !== undefined) {
    if (jobFileNode.kind !== 'string' || jobFileNode.value === '' || jobFileNode.value.includes('\0')) {
      c.report('wrong-type', 'job_file', jobFileNode.span, `must be the path of an fio job file, relative to this scenario, like "jobs/randread.fio" (got ${describe(jobFileNode)})`);
    } else if (env.loadJobFile === undefined) {
      c.report('bad-value', 'job_file', jobFileNode.span, 'a job file can be named only by a scenario read from a file (it is found relative to it)');
    } else if (devices.usable) {
      const loaded = env.loadJobFile(jobFileNode.value, machine);
      if (!loaded.ok) {
        for (const d of loaded.diagnostics) c.external(d);
        if (loaded.diagnostics.length === 0) c.report('bad-value', 'job_file', jobFileNode.span, 'the job file does not load');
      } else {
        jobs = [...loaded.scenario.jobs];
        durationNs ??= loaded.scenario.durationNs;
        if (description === undefined && loaded.scenario.description !== '') description = loaded.scenario.description;
      }
    }
  } else if (jobsNode === undefined) {
    // a scenario of events alone (printing, sysfs writes) needs no fio job
    if (!hasEvents) missing(c, top.node, '', 'jobs', '"jobs": [{"name": "reader", "filename": "/mnt/nvme/data", "size": "64m"}]');
  } else if (jobsNode.kind !== 'array') {
    c.report('wrong-type', 'jobs', jobsNode.span, `must be an array of jobs (got ${describe(jobsNode)})`);
  } else if (jobsNode.items.length === 0) {
    if (!hasEvents) c.report('bad-value', 'jobs', jobsNode.span, 'must list at least one job, e.g. [{"name": "reader", "filename": "/mnt/nvme/data", "size": "64m"}]');
  } else if (jobsNode.items.length > MAX_JOBS) {
    c.report('bad-value', 'jobs', jobsNode.span, `lists ${jobsNode.items.length} jobs; a scenario may have at most ${MAX_JOBS} (numjobs clones one)`);
  } else {
    jobs = readJsonJobs(c, jobsNode, devices.usable ? machine : { ...machine, devices: [] }, env.cwd, devices.usable);
  }

  const wakeLocks = machine.power?.wakeLockJobs ?? [];
  const unknownLock = wakeLocks.find((n) => !jobs.some((j) => j.name === n));
  if (unknownLock !== undefined && jobs.length > 0) {
    const wlSpan = childSpan(childNode(f.get('machine'), 'power'), 'wake_lock');
    c.report('bad-value', 'machine.power.wake_lock', wlSpan, `names ${quote(unknownLock)}, which is no job of this scenario (jobs: ${jobs.map((j) => j.name).join(', ')})`);
  }
  const hostsNode = f.get('hosts');
  const hosts = hostsNode === undefined ? undefined : readHosts(c, hostsNode);
  const eventsNode = f.get('events');
  const events = eventsNode === undefined ? undefined : readEvents(c, eventsNode, machine, durationNs, hosts ?? []);

  const networkNode = f.get('network');
  const network = networkNode === undefined ? undefined : readNetwork(c, networkNode);
  if (hostsNode !== undefined && (machine.nics ?? []).length === 0) {
    c.report('missing-key', 'machine.nics', hostsNode.span, 'hosts are on a network the machine is not on: give it a NIC, e.g. "nics": [{"name": "eth0", "address": "10.0.0.1/24"}]');
  }
  if (hosts !== undefined) checkAddresses(c, root, machine, hosts);
  // each NFS mount names a host of the network that exports that path
  (machine.mounts ?? []).forEach((mnt, i) => {
    const colon = mnt.source.indexOf(':');
    const host = mnt.source.slice(0, colon);
    const path = mnt.source.slice(colon + 1);
    const server = (hosts ?? []).find((h) => h.name === host || (h.machine.nics ?? []).some((n) => ipv4String(n.addr) === host));
    const mountsNode = childNode(f.get('machine'), 'mounts');
    const span = childSpan(mountsNode?.kind === 'array' ? mountsNode.items[i] : undefined, 'source');
    if (server === undefined) c.report('bad-value', `machine.mounts[${i}].source`, span, `names ${quote(host)}, which is no host of the scenario's "hosts" (${(hosts ?? []).map((h) => h.name).join(', ') || 'none'})`);
    else if (server.machine.nfsd?.export !== path) c.report('bad-value', `machine.mounts[${i}].source`, span, `${quote(host)} does not export ${quote(path)}${server.machine.nfsd ? ` (it exports ${quote(server.machine.nfsd.export)})` : ': give it "nfsd": {"export": "..."}'}`);
  });

  if (crashNode !== undefined && crashAtNs !== undefined && durationNs !== undefined && crashAtNs > durationNs) {
    c.report('bad-value', 'crash_at', crashNode.span, `is after the run's end (${describe(crashNode)} > the duration); crash within it`);
  }
  if (c.count > 0) return undefined;
  return {
    name,
    description: description ?? '',
    machine,
    durationNs: durationNs ?? 0,
    jobs,
    ...(steps !== undefined ? { steps } : {}),
    ...(crashAtNs !== undefined ? { crashAtNs } : {}),
    ...(events !== undefined && events.length > 0 ? { events } : {}),
    ...(hosts !== undefined && hosts.length > 0 ? { hosts } : {}),
    ...(network !== undefined ? { network } : {}),
  };
}

const EVENT_KEYS: KeySpec = { known: ['at', 'write', 'value', 'run', 'host'], aliases: { time: 'at', echo: 'value', path: 'write', command: 'run', cmd: 'run', on: 'host', machine: 'host' }, noun: 'key' };
/** A scenario's events: enough for any script of sysfs writes and commands, not a flood. */
const MAX_EVENTS = 1000;
/** A command line's length, as a shell line would be kept short. */
const MAX_COMMAND_CHARS = 1024;

/**
 * "events": [{"at": "50ms", "write": "/sys/block/sda/queue/read_ahead_kb", "value": "512"},
 * {"at": "80ms", "run": "sync"}]: what a root shell does on the machine at those times. A path or
 * command the machine lacks, or a value its handler would refuse, is an error here, before the run.
 * Events are sorted by time (stable, so equal times keep their order).
 */
function readEvents(c: Checker, node: JsonNode, machine: MachineSpec, durationNs: number | undefined, hosts: readonly HostSpec[]): ScenarioEvent[] | undefined {
  const example = '[{"at": "50ms", "write": "/proc/sys/vm/drop_caches", "value": "1"}, {"at": "80ms", "run": "sync"}]';
  if (node.kind !== 'array') {
    c.report('wrong-type', 'events', node.span, `must be an array of events like ${example} (got ${describe(node)})`);
    return undefined;
  }
  if (node.items.length > MAX_EVENTS) {
    c.report('bad-value', 'events', node.span, `lists ${node.items.length} events; a scenario may have at most ${MAX_EVENTS}`);
    return undefined;
  }
  const events: ScenarioEvent[] = [];
  node.items.forEach((item, i) => {
    const path = `events[${i}]`;
    const obj = readObject(c, item, path, `an event like {"at": "50ms", "run": "sync"}`, EVENT_KEYS);
    if (obj === undefined) return;
    const f = obj.fields;
    // "host": a remote host runs it (its own devices are what a write may name)
    const hostNode = f.get('host');
    let on: { readonly host?: string } = {};
    let onMachine = machine;
    if (hostNode !== undefined) {
      const names = hosts.map((h) => h.name);
      const host = hostNode.kind === 'string' ? hosts.find((h) => h.name === hostNode.value) : undefined;
      if (host === undefined) {
        const why = names.length === 0 ? 'the scenario has no "hosts"' : `the hosts: ${names.join(', ')}`;
        c.report('bad-value', `${path}.host`, hostNode.span, `must name one of the scenario's hosts (got ${describe(hostNode)}; ${why})`);
        return;
      }
      on = { host: host.name };
      onMachine = host.machine;
    }
    const diskNames = onMachine.devices.map((d) => d.name);
    const atNode = f.get('at');
    if (atNode === undefined) {
      missing(c, obj.node, path, 'at', '"at": "50ms"');
      return;
    }
    const atNs = readDuration(c, atNode, `${path}.at`, { bareUnit: 's', hint: '"50ms" or "1s"', allowZero: true });
    if (atNs !== undefined && durationNs !== undefined && atNs > durationNs) {
      c.report('bad-value', `${path}.at`, atNode.span, `is after the run's end (${describe(atNode)} > the duration); give a time within it`);
    }
    const writeNode = f.get('write');
    const runNode = f.get('run');
    const valueNode = f.get('value');
    if ((writeNode === undefined) === (runNode === undefined)) {
      c.report('bad-value', path, item.span, 'must have either "write" (a /sys or /proc file, with "value") or "run" (a command line), not both or neither');
      return;
    }
    if (writeNode !== undefined) {
      if (writeNode.kind !== 'string') {
        c.report('wrong-type', `${path}.write`, writeNode.span, `must be the path of a /sys or /proc file, like "/proc/sys/vm/drop_caches" (got ${describe(writeNode)})`);
        return;
      }
      const found = findAttribute(writeNode.value, diskNames);
      if (found === undefined) {
        const paths = attributePaths(diskNames);
        const suggestion = closestWord(writeNode.value, paths);
        c.report('bad-value', `${path}.write`, writeNode.span, `${describe(writeNode)} is not a file kiotrace can write on this machine${suggestion !== undefined ? `; did you mean "${suggestion}"?` : ''} (the writable files: ${paths.join(', ')})`);
        return;
      }
      if (valueNode === undefined) {
        missing(c, obj.node, path, 'value', `"value": "${found.attribute.example}"`);
        return;
      }
      const value = valueNode.kind === 'string' ? valueNode.value : valueNode.kind === 'number' ? valueNode.raw : undefined;
      const problem = value === undefined ? `must be the text to write, like "${found.attribute.example}"` : found.attribute.check(value);
      if (problem !== undefined || value === undefined) {
        c.report('bad-value', `${path}.value`, valueNode.span, `${problem ?? ''} (got ${describe(valueNode)})`);
        return;
      }
      if (atNs !== undefined) events.push({ kind: 'write', atNs, path: writeNode.value, value, ...on });
      return;
    }
    if (valueNode !== undefined) c.report('bad-value', `${path}.value`, valueNode.span, '"value" goes with "write"; a command takes its arguments in "run"');
    if (runNode === undefined) return;
    if (runNode.kind !== 'string' || runNode.value.trim() === '' || runNode.value.length > MAX_COMMAND_CHARS) {
      c.report('wrong-type', `${path}.run`, runNode.span, `must be a command line of at most ${MAX_COMMAND_CHARS} characters, like "sync" (got ${describe(runNode)})`);
      return;
    }
    const argv = runNode.value.trim().split(/\s+/);
    const name = argv[0] ?? '';
    const command = findCommand(name);
    if (command === undefined) {
      const names = USER_COMMANDS.map((u) => u.name);
      const suggestion = closestWord(name, names);
      c.report('bad-value', `${path}.run`, runNode.span, `${JSON.stringify(printable(name))} is not a command kiotrace has${suggestion !== undefined ? `; did you mean "${suggestion}"?` : ''} (the commands: ${names.join(', ')})`);
      return;
    }
    const problem = command.check(argv.slice(1));
    if (problem !== undefined) {
      c.report('bad-value', `${path}.run`, runNode.span, `${name} ${problem} (usage: ${command.usage})`);
      return;
    }
    if (atNs !== undefined) events.push({ kind: 'run', atNs, argv, ...on });
  });
  return events.map((e, i) => ({ e, i })).sort((a, b) => a.e.atNs - b.e.atNs || a.i - b.i).map(({ e }) => e);
}

function baseName(source: string): string {
  const file = source.slice(Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\')) + 1);
  return file.replace(/\.(json|fio|job|ini)$/, '');
}

function finish(c: Checker, scenario: Scenario | undefined): ScenarioResult {
  if (scenario !== undefined) return { ok: true, scenario };
  return { ok: false, diagnostics: c.diagnostics() };
}

/** How a scenario or job file is read beyond its own text: the command line's --machine, --directory and the environment. */
export interface LoadOptions {
  /** --machine FILE: the machine a job file runs on (DEFAULT_MACHINE otherwise). */
  readonly machine?: MachineSpec;
  /** --directory: the working directory of relative file names (absolute, simulated). */
  readonly directory?: string;
  /** What ${VAR} in a job file expands from (the caller passes process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The working directory of a job's relative file names when --directory is not given (root's home, as `sudo fio` runs). */
export const DEFAULT_JOB_DIRECTORY = '/root';

function jsonEnv(hostPath: string | undefined, opts: LoadOptions): ValidateEnv {
  return {
    cwd: opts.directory ?? DEFAULT_JOB_DIRECTORY,
    loadJobFile:
      hostPath === undefined
        ? undefined
        : (name, machine) => {
            const file = isAbsolute(name) ? name : join(dirname(hostPath), name);
            const read = readTextFile(file, { what: 'a job file', maxBytes: MAX_SCENARIO_BYTES, instead: 'give an fio job file' });
            if (typeof read !== 'string') return loadFailure('unreadable-file', `cannot read job file ${quote(name, 256)}: ${read.reason}`);
            return parseJobFileText(read, shownPath(file), { ...opts, machine, hostPath: file });
          },
  };
}

/** Validates an already-parsed value (e.g. from JSON.parse). Diagnostics carry no line/column. */
export function parseScenario(json: unknown, sourceName: string, opts: LoadOptions = {}): ScenarioResult {
  const c = new Checker(sourceName, undefined);
  return finish(c, validate(fromUnknown(json), c, baseName(sourceName), jsonEnv(undefined, opts)));
}

/** Parses and validates scenario text; every diagnostic carries its line, column and caret. */
export function parseScenarioText(text: string, sourceName: string, opts: LoadOptions & { readonly hostPath?: string } = {}): ScenarioResult {
  const c = new Checker(sourceName, text);
  let root: JsonNode;
  try {
    root = new JsonParser(text).parseDocument();
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    c.report('json-syntax', '', err.span, `invalid JSON: ${err.message}`);
    return finish(c, undefined);
  }
  return finish(c, validate(root, c, baseName(sourceName), jsonEnv(opts.hostPath, opts)));
}

// ---------------------------------------------------------------------------------------------
// fio job files

/** Jobs a job file may define (sections other than [global]); numjobs clones are bounded by MAX_PROCESSES. */
const MAX_JOB_SECTIONS = MAX_JOBS;
/** The page size $pagesize expands to: the simulated machine's (x86-64). */
const PAGE_SIZE_BYTES = 4096;

/**
 * An fio job file (fio's INI format, read as fio reads it: tui/fio/ini.ts) as a scenario on
 * `opts.machine` (DEFAULT_MACHINE by default). The scenario is named after the file; it lasts as
 * long as its jobs can (every job time-limited: twice the sum over stonewall phases of the longest
 * startdelay + ramp_time + runtime, since each phase also sets up and drains its queue), else
 * MAX_DURATION_NS, and the run ends when every job exits.
 */
export function parseJobFileText(text: string, sourceName: string, opts: LoadOptions & { readonly hostPath?: string } = {}): ScenarioResult {
  const machine = opts.machine ?? DEFAULT_MACHINE;
  const cwd = opts.directory ?? DEFAULT_JOB_DIRECTORY;
  const found: Diagnostic[] = [];
  const seen = new Set<string>();
  const add = (code: DiagnosticCode, at: Where | undefined, source: string, option: string, message: string): void => {
    const d: Diagnostic = {
      code,
      source: at?.source ?? source,
      path: option,
      message,
      ...(at !== undefined ? { location: { line: at.line, column: at.column, length: Math.max(1, Math.min(at.length, at.lineText.length - (at.column - 1))), lineText: at.lineText, lineOnly: true } } : {}),
    };
    // an inherited [global] option is read once per job: say each problem once
    const key = `${d.source}\0${at?.line ?? 0}\0${at?.column ?? 0}\0${option}\0${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    found.push(d);
  };
  const ini = readIni(
    { text, source: sourceName, hostPath: opts.hostPath },
    { env: opts.env ?? {}, pageSizeBytes: PAGE_SIZE_BYTES, memoryMb: Math.floor(machine.memoryBytes / 2 ** 20), cpus: machine.cpus },
    { read: (path) => readTextFile(path, { what: 'a job file', maxBytes: MAX_SCENARIO_BYTES, instead: 'include an fio job file' }) },
  );
  for (const p of ini.problems) add('job-file-syntax', p.at, p.source, p.option, p.message);

  // [global] sections add to what every later job inherits; a job section is one job.
  let globals: IniOption[] = [];
  const inputs: JobInput<Where>[] = [];
  let description = '';
  for (const section of ini.sections) {
    if (section.global) {
      globals = [...globals, ...section.options];
      if (description === '') description = section.options.filter((o) => o.key === 'description').pop()?.value ?? '';
    } else {
      inputs.push({ sectionName: section.name, at: section.at, options: [...globals, ...section.options] });
    }
  }
  if (inputs.length === 0 && found.length === 0) {
    add('missing-key', undefined, sourceName, '', ini.sections.length === 0 ? 'no jobs: an fio job file has [jobname] sections of options (see traces/README.md)' : 'no jobs: the file has only [global] sections; add a [jobname] section');
  }
  if (inputs.length > MAX_JOB_SECTIONS) {
    add('too-many', inputs[MAX_JOB_SECTIONS]!.at, sourceName, '', `${inputs.length} jobs; a job file may have at most ${MAX_JOB_SECTIONS} (numjobs clones one)`);
  }
  const ctx: ResolveContext<Where> = {
    machine,
    cwd,
    maxProcesses: MAX_PROCESSES,
    uniqueNames: false,
    describeJob: (i) => `[${inputs[i]!.sectionName}] at line ${inputs[i]!.at.line}`,
    report: (code, at, option, message) => add(code, at, sourceName, option, message),
  };
  const { jobs } = resolveJobs(inputs.slice(0, MAX_JOB_SECTIONS), ctx);
  if (found.length === 0) checkFilesFit(jobs, machine, (at, message) => add('bad-value', at, sourceName, 'size', message));

  if (found.length > 0) {
    const order = (d: Diagnostic): number => (d.source === sourceName ? 0 : 1e9) + (d.location?.line ?? 0);
    const sorted = found.map((d, i) => ({ d, i })).sort((a, b) => order(a.d) - order(b.d) || a.i - b.i).map((x) => x.d);
    const shown = sorted.slice(0, MAX_DIAGNOSTICS);
    if (sorted.length > MAX_DIAGNOSTICS) {
      const more = sorted.length - MAX_DIAGNOSTICS;
      shown.push({ code: 'too-many', source: sourceName, path: '', message: `${more} more problem${more === 1 ? '' : 's'} not shown; fix these first` });
    }
    return { ok: false, diagnostics: shown };
  }
  if (description === '') description = jobs.find((j) => j.description !== '')?.description ?? '';
  const specs = jobs.map((j) => j.job);
  return {
    ok: true,
    scenario: { name: baseName(sourceName), description, machine, durationNs: Math.min(MAX_DURATION_NS, 2 * (impliedDurationNs(specs) ?? MAX_DURATION_NS)), jobs: specs, endsWithJobs: true },
  };
}

/** A job file by its name or its content: fio's extensions, or text that is not a JSON object. */
export function isJobFile(path: string, text: string): boolean {
  if (/\.(fio|job|ini)$/i.test(path)) return true;
  if (/\.json$/i.test(path)) return false;
  return !text.replace(/^\uFEFF/, '').trimStart().startsWith('{');
}

/**
 * --machine FILE: a JSON file {"machine": {...}} with the machine object scenarios use (read by
 * the same code, so the same checks and messages).
 */
export function loadMachineFile(path: string): { readonly ok: true; readonly machine: MachineSpec } | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] } {
  if (path.includes('\0')) return { ok: false, diagnostics: [{ code: 'unreadable-file', source: 'kiotrace', path: '', message: 'cannot read machine file: a path cannot contain a NUL byte' }] };
  const read = readTextFile(resolve(path), { what: 'a machine file', maxBytes: MAX_SCENARIO_BYTES, instead: 'give a .json file' });
  if (typeof read !== 'string') return { ok: false, diagnostics: [{ code: 'unreadable-file', source: 'kiotrace', path: '', message: `cannot read machine file ${quote(path, 256)}: ${read.reason}` }] };
  const c = new Checker(path, read);
  let root: JsonNode;
  try {
    root = new JsonParser(read).parseDocument();
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    c.report('json-syntax', '', err.span, `invalid JSON: ${err.message}`);
    return { ok: false, diagnostics: c.diagnostics() };
  }
  const top = readObject(c, root, '', 'a JSON object like {"machine": {"cpus": 4, "memory": "4g", "devices": [...]}}', MACHINE_FILE_KEYS);
  let machine: MachineSpec = DEFAULT_MACHINE;
  if (top !== undefined) {
    const node = top.fields.get('machine');
    if (node === undefined) missing(c, top.node, '', 'machine', '"machine": {"cpus": 4, "memory": "4g", "devices": [...]}');
    else machine = readMachine(c, node).machine;
  }
  if (c.count > 0) return { ok: false, diagnostics: c.diagnostics() };
  return { ok: true, machine };
}

// ---------------------------------------------------------------------------------------------
// Finding scenario files

/** Names of the scenarios in `dir` (its *.json files), sorted. */
export function listScenarioNames(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  } catch {
    return [];
  }
}

function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function loadFailure(code: DiagnosticCode, message: string): ScenarioResult {
  return { ok: false, diagnostics: [{ code, source: 'kiotrace', path: '', message }] };
}

/** The experiments shipped next to the scenarios: traces/experiments beside traces/scenarios. */
function experimentsDirOf(scenariosDir: string): string {
  return join(dirname(scenariosDir), 'experiments');
}

/** A JSON file that is only {"machine": ...}: a --machine file, not something to run. */
function isMachineFile(file: string): boolean {
  if (!file.endsWith('.json')) return false;
  const text = readTextFile(file, { what: 'a machine file', maxBytes: MAX_SCENARIO_BYTES, instead: '' });
  if (typeof text !== 'string') return false;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).join() === 'machine';
  } catch {
    return false;
  }
}

/** Names of the experiments in `dir` that run (its *.fio job files and *.json scenarios, not machine files), sorted, once each. */
export function listExperimentNames(dir: string): string[] {
  try {
    const names = readdirSync(dir)
      .filter((f) => /\.(fio|json)$/.test(f) && !isMachineFile(join(dir, f)))
      .map((f) => f.slice(0, f.lastIndexOf('.')));
    return [...new Set(names)].sort();
  } catch {
    return [];
  }
}

/**
 * The shipped files a bare NAME could mean, that exist: a scenario (scenarios/NAME.json), an
 * experiment's job file (experiments/NAME.fio) or its scenario or machine file (experiments/NAME.json).
 */
function shippedFiles(name: string, scenariosDir: string): string[] {
  if (!/^[\w.-]+$/.test(name)) return [];
  const experiments = experimentsDirOf(scenariosDir);
  return [join(scenariosDir, `${name}.json`), join(experiments, `${name}.fio`), join(experiments, `${name}.json`)].filter((f) => existsSync(f));
}

/** What a bare NAME runs: the shipped scenario or experiment files of that name, machine files apart. */
function shippedRunnable(name: string, scenariosDir: string): { readonly runnable: string[]; readonly machines: string[] } {
  const files = shippedFiles(name, scenariosDir);
  const machines = files.filter(isMachineFile);
  let runnable = files.filter((f) => !machines.includes(f));
  // an experiment's scenario (NAME.json: its machine and its job file) is the experiment; its
  // NAME.fio beside it is the workload the scenario runs, not a second meaning of the name
  const experiments = experimentsDirOf(scenariosDir);
  const expJson = join(experiments, `${name}.json`);
  if (runnable.includes(expJson)) runnable = runnable.filter((f) => f !== join(experiments, `${name}.fio`));
  return { runnable, machines };
}

/**
 * The file SCENARIO names: a path (ends in .json, .fio, .job or .ini, or has a slash) as it is,
 * else the one shipped scenario or experiment of that name (the first, when several are).
 */
export function scenarioFile(nameOrPath: string, scenariosDir: string): { readonly file: string; readonly isPath: boolean } {
  const isPath = /\.(json|fio|job|ini)$/i.test(nameOrPath) || nameOrPath.includes('/') || nameOrPath.includes(sep);
  if (isPath) return { file: resolve(nameOrPath), isPath };
  return { file: shippedRunnable(nameOrPath, scenariosDir).runnable[0] ?? join(scenariosDir, `${nameOrPath}.json`), isPath };
}

/**
 * A scenario by name or by path: a JSON scenario, or an fio job file (by its extension, or by
 * text that is not a JSON object), read as fio reads it. A bare name is a shipped scenario
 * (`default` -> <scenariosDir>/default.json) or experiment (`queue-depth-nvme` ->
 * traces/experiments/queue-depth-nvme.fio, or .json); a name two of them have is an error that
 * lists both, and a name none has may be a job file in the working directory, as `fio myjob`.
 */
export function loadScenario(nameOrPath: string, scenariosDir: string, opts: LoadOptions = {}): ScenarioResult {
  let { file, isPath } = scenarioFile(nameOrPath, scenariosDir);
  const { runnable: shipped, machines } = isPath ? { runnable: [], machines: [] } : shippedRunnable(nameOrPath, scenariosDir);
  if (shipped.length > 1) {
    return loadFailure(
      'unknown-scenario',
      `${quote(nameOrPath)} names more than one shipped file (${shipped.map(shownPath).join(', ')}); give the path of the one to run`,
    );
  }
  if (!isPath && shipped.length === 0 && /^[\w.-]+$/.test(nameOrPath) && existsSync(resolve(nameOrPath))) {
    file = resolve(nameOrPath);
    isPath = true;
  }
  const shown = isPath ? nameOrPath : shownPath(file);
  if (!isPath && shipped.length === 0 && machines.length > 0) {
    const machine = shownPath(machines[0]!);
    return loadFailure('unknown-scenario', `${machine} is a machine file, not a workload: run a job file on it, e.g. kiotrace run JOB.fio --machine ${machine}`);
  }
  if (!isPath && shipped.length === 0) {
    const scenarios = listScenarioNames(scenariosDir);
    const experiments = listExperimentNames(experimentsDirOf(scenariosDir));
    const list = (names: readonly string[]): string => (names.length === 0 ? 'none' : names.join(', '));
    return loadFailure(
      'unknown-scenario',
      `unknown scenario or experiment ${quote(nameOrPath)} (scenarios: ${list(scenarios)}; experiments: ${list(experiments)}; or give the path of a .json scenario or an fio job file)`,
    );
  }
  if (nameOrPath.includes('\0')) return loadFailure('unreadable-file', `cannot read scenario file ${quote(shown, 256)}: a path cannot contain a NUL byte`);
  const read = readTextFile(file, { what: 'a scenario file', maxBytes: MAX_SCENARIO_BYTES, instead: 'give a .json scenario or an fio job file' });
  if (typeof read !== 'string') return loadFailure('unreadable-file', `cannot read scenario file ${quote(shown, 256)}: ${read.reason}`);
  if (isJobFile(file, read)) return parseJobFileText(read, shown, { ...opts, hostPath: file });
  if (opts.machine !== undefined) {
    return loadFailure('conflict', `--machine is for fio job files; the JSON scenario ${quote(shown, 256)} describes its own machine (edit its "machine" instead)`);
  }
  return parseScenarioText(read, shown, { ...opts, hostPath: file });
}

/** Scenario files are small; anything bigger is not one (and is not read into memory to find out). */
export const MAX_SCENARIO_BYTES = 1024 * 1024;

