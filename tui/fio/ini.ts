// fio's job file reader (init.c __parse_jobs_ini, parse.c strip_blank_end, options.c
// fio_option_dup_subs and fio_keyword_replace), rewritten: sections and their options with the
// place each came from, `include`, `${VAR}` and the $pagesize/$mb_memory/$ncpus keywords.
//
// As fio reads a line: leading blanks go; a line whose first character is ';' or '#' is a comment;
// anything from the first ';' or '#' on is cut (so a value cannot contain either); trailing blanks
// go. "[name]" opens a section (a name beginning "global" is a global one); "include FILE" pulls the
// options of FILE into the current section (FILE may not open sections); "key=value" and a bare
// "key" are options. fio sorts a section's options by its own table before applying them, so their
// order within a section does not matter (the resolver reads them in its own order).
// Unlike fio, a problem does not stop the reading: every one is collected (bounded by the caller).

import { dirname, isAbsolute, join } from 'node:path';
import { evaluateKeywordMath } from './values.js';

/** Where something is in a job file: enough to print `file:line:` and a caret under it. */
export interface Where {
  /** The file as the user named it (an included file: its path as the including file implies). */
  readonly source: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, UTF-16 code units. */
  readonly column: number;
  readonly length: number;
  readonly lineText: string;
}

export interface IniOption {
  /** As written (lower-cased: fio's option names are case-insensitive). */
  readonly key: string;
  /** After ${VAR} and keyword substitution; undefined for a bare `key`. */
  readonly value: string | undefined;
  readonly keyAt: Where;
  /** The value as written (the key's place for a bare key). */
  readonly valueAt: Where;
}

export interface IniSection {
  readonly name: string;
  readonly global: boolean;
  readonly at: Where;
  readonly options: readonly IniOption[];
}

export interface IniProblem {
  readonly at: Where | undefined;
  readonly source: string;
  /** The option or directive concerned ('' for the file as a whole). */
  readonly option: string;
  readonly message: string;
}

/** What ${VAR} and the keywords expand to. */
export interface ExpansionContext {
  /** The environment for ${VAR} (passed in, never read from process.env here). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** fio's reserved keywords from the simulated machine: $pagesize, $mb_memory, $ncpus. */
  readonly pageSizeBytes: number;
  readonly memoryMb: number;
  readonly cpus: number;
}

export interface IncludeReader {
  /** The text of `hostPath`, or why it cannot be read. */
  read(hostPath: string): string | { readonly reason: string };
}

/** Included files may include others, to this depth (fio has no limit; a cycle would never end). */
export const MAX_INCLUDE_DEPTH = 8;
/** All the included text together, and how many includes: wide includes are bounded as deep ones are. */
export const MAX_INCLUDED_BYTES = 4 * 1024 * 1024;
export const MAX_INCLUDES = 256;
/** Sections a job file may have (jobs are bounded again, lower, by the resolver). */
export const MAX_SECTIONS = 256;
/** fio's OPT_LEN_MAX: the longest option line, before and after ${VAR} expansion. */
export const MAX_OPTION_CHARS = 8192;
/** fio's section names are read with %255[^\n]. */
const MAX_SECTION_NAME_CHARS = 255;

interface FileInput {
  readonly text: string;
  readonly source: string;
  /** Host path, for resolving includes; undefined for text given directly. */
  readonly hostPath: string | undefined;
}

export function readIni(
  main: FileInput,
  ctx: ExpansionContext,
  includes: IncludeReader | undefined,
): { readonly sections: readonly IniSection[]; readonly problems: readonly IniProblem[] } {
  const problems: IniProblem[] = [];
  const sections: { name: string; global: boolean; at: Where; options: IniOption[] }[] = [];
  let current: (typeof sections)[number] | undefined;
  let tooMany = false;
  /** After a header that was reported, its options are skipped quietly (they belong to it). */
  let skipping = false;
  let includedChars = 0;
  let includeCount = 0;

  const problem = (at: Where | undefined, source: string, option: string, message: string): void => {
    problems.push({ at, source, option, message });
  };

  const readFile = (file: FileInput, depth: number, stack: readonly string[]): void => {
    if (file.text.includes('\0')) {
      problem(undefined, file.source, '', 'contains NUL bytes: it is a binary file, not an fio job file');
      return;
    }
    const lines = file.text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!.replace(/\r$/, '');
      const lineNo = i + 1;
      const where = (column: number, length: number): Where => ({ source: file.source, line: lineNo, column, length: Math.max(1, length), lineText: raw });
      const lead = raw.length - raw.trimStart().length;
      let body = raw.slice(lead);
      if (body === '' || body[0] === ';' || body[0] === '#') continue;
      const cut = body.search(/[;#]/);
      if (cut !== -1) body = body.slice(0, cut);
      body = body.trimEnd();
      if (body === '') continue;
      const startCol = lead + 1;

      if (body[0] === '[') {
        if (depth > 0) {
          problem(where(startCol, body.length), file.source, '', 'an included file may not open sections (fio: "No new sections in included files"); put the section in the including file');
          continue;
        }
        const m = /^\[(.+)\]$/.exec(body);
        if (m === null || m[1]!.trim() === '') {
          problem(where(startCol, body.length), file.source, '', `${JSON.stringify(body)} is not a section header; write [jobname]`);
          current = undefined;
          skipping = true;
          continue;
        }
        const name = m[1]!;
        if (name.length > MAX_SECTION_NAME_CHARS) {
          problem(where(startCol + 1, name.length), file.source, '', `the section name is ${name.length} characters long; fio reads at most ${MAX_SECTION_NAME_CHARS}`);
        }
        if (sections.length >= MAX_SECTIONS) {
          if (!tooMany) problem(where(startCol, body.length), file.source, '', `more than ${MAX_SECTIONS} sections; a job file may have at most ${MAX_SECTIONS}`);
          tooMany = true;
          current = undefined;
          continue;
        }
        skipping = false;
        current = { name, global: name.startsWith('global'), at: where(startCol + 1, name.length), options: [] };
        sections.push(current);
        continue;
      }

      if (current === undefined) {
        if (!tooMany && !skipping && depth === 0) problem(where(startCol, body.length), file.source, '', `${JSON.stringify(body.length > 40 ? `${body.slice(0, 37)}...` : body)} is outside of a [section]; put options under [global] or a [job] header`);
        continue;
      }

      const inc = /^include\s+(.+)$/.exec(body);
      if (inc !== null) {
        readInclude(file, inc[1]!.trim(), where(startCol + body.indexOf(inc[1]!), inc[1]!.length), depth, stack);
        continue;
      }

      if (body.length > MAX_OPTION_CHARS) {
        problem(where(startCol, 40), file.source, '', `the line is ${body.length} characters long; fio reads at most ${MAX_OPTION_CHARS}`);
        continue;
      }
      const eq = body.indexOf('=');
      const keyText = (eq === -1 ? body : body.slice(0, eq)).trimEnd();
      const keyAt = where(startCol, keyText.length);
      if (keyText === '') {
        problem(keyAt, file.source, '', `${JSON.stringify(body)} has no option name before "="`);
        continue;
      }
      if (eq === -1) {
        current.options.push({ key: keyText.toLowerCase(), value: undefined, keyAt, valueAt: keyAt });
        continue;
      }
      const rawValue = body.slice(eq + 1);
      const valueLead = rawValue.length - rawValue.trimStart().length;
      const valueText = rawValue.trim();
      const valueAt = where(startCol + eq + 1 + valueLead, valueText.length);
      const expanded = expand(valueText, ctx);
      if (!expanded.ok) {
        problem(valueAt, file.source, keyText.toLowerCase(), expanded.error);
        continue;
      }
      current.options.push({ key: keyText.toLowerCase(), value: expanded.value, keyAt, valueAt });
    }
  };

  const readInclude = (from: FileInput, name: string, at: Where, depth: number, stack: readonly string[]): void => {
    const source = isAbsolute(name) ? name : join(dirname(from.source), name);
    if (depth + 1 > MAX_INCLUDE_DEPTH) {
      problem(at, from.source, 'include', `includes nest deeper than ${MAX_INCLUDE_DEPTH} files; flatten them`);
      return;
    }
    if (includes === undefined || from.hostPath === undefined) {
      problem(at, from.source, 'include', 'include needs a job file read from disk (this text has no directory to look in)');
      return;
    }
    if (name.includes('\0')) {
      problem(at, from.source, 'include', 'a path cannot contain a NUL byte');
      return;
    }
    // Relative to the including file, as fio does when the name is not found as given.
    const hostPath = isAbsolute(name) ? name : join(dirname(from.hostPath), name);
    if (stack.includes(hostPath)) {
      problem(at, from.source, 'include', `${JSON.stringify(name)} includes itself (through ${[...stack.slice(stack.indexOf(hostPath)), hostPath].map((p) => JSON.stringify(p)).join(' -> ')}); remove the cycle`);
      return;
    }
    if (++includeCount > MAX_INCLUDES) {
      if (includeCount === MAX_INCLUDES + 1) problem(at, from.source, 'include', `more than ${MAX_INCLUDES} includes in all; a job file may include at most ${MAX_INCLUDES}`);
      return;
    }
    const text = includes.read(hostPath);
    if (typeof text !== 'string') {
      problem(at, from.source, 'include', `cannot read ${JSON.stringify(name)}: ${text.reason}`);
      return;
    }
    includedChars += text.length;
    if (includedChars > MAX_INCLUDED_BYTES) {
      problem(at, from.source, 'include', `the included files come to more than ${MAX_INCLUDED_BYTES / 1024 / 1024} MiB in all; a job file may include at most that`);
      includeCount = MAX_INCLUDES + 1; // read no more
      return;
    }
    readFile({ text, source, hostPath }, depth + 1, [...stack, hostPath]);
  };

  readFile(main, 0, main.hostPath === undefined ? [] : [main.hostPath]);
  return { sections, problems };
}

/**
 * ${VAR} from the environment (undefined or empty: the empty string, as fio does), then fio's
 * reserved keywords; with a keyword present, + - * / are computed as fio's bc step does.
 */
export function expand(value: string, ctx: ExpansionContext): { ok: true; value: string } | { ok: false; error: string } {
  let out = '';
  let i = 0;
  while (i < value.length) {
    if (value[i] === '$' && value[i + 1] === '{') {
      const close = value.indexOf('}', i + 2);
      if (close > i + 2) {
        const name = value.slice(i + 2, close);
        const env = Object.hasOwn(ctx.env, name) ? ctx.env[name] : undefined;
        out += env ?? '';
        if (out.length > MAX_OPTION_CHARS) return { ok: false, error: `expanding \${${name.slice(0, 40)}} makes the value longer than ${MAX_OPTION_CHARS} characters (fio's OPT_LEN_MAX)` };
        i = close + 1;
        continue;
      }
    }
    out += value[i]!;
    i++;
  }
  let keyword = false;
  for (const [word, replacement] of [
    ['$pagesize', String(ctx.pageSizeBytes)],
    ['$mb_memory', String(ctx.memoryMb)],
    ['$ncpus', String(ctx.cpus)],
  ] as const) {
    if (out.includes(word)) {
      out = out.split(word).join(replacement);
      keyword = true;
    }
  }
  if (!keyword) return { ok: true, value: out };
  const calc = evaluateKeywordMath(out);
  return calc.ok ? { ok: true, value: calc.value } : { ok: false, error: calc.error };
}
