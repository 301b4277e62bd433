// ARCHITECTURE §1 as a test: read every import edge of core/, probes/, exporters/ and tui/ and fail
// on any edge against the layer table; and keep core/ deterministic (no Date, Math.random, process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { repoRoot } from './helpers/repo.js';

const ROOT = repoRoot();
const LAYERS = ['core', 'probes', 'exporters', 'tui'] as const;
type Layer = (typeof LAYERS)[number];

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// A small scanner: comments out, and a second view with string and regex contents blanked too.
// Both views keep every character's position, so a match in one can be checked in the other.

const REGEX_AFTER_WORD = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await']);

interface Views {
  /** Comments replaced by spaces; strings intact. */
  readonly code: string;
  /** Also string, template-text and regex contents replaced by spaces. */
  readonly bare: string;
}

function scan(src: string): Views {
  const code: string[] = [];
  const bare: string[] = [];
  const blank = (ch: string): string => (ch === '\n' ? '\n' : ' ');
  const keep = (ch: string): void => {
    code.push(ch);
    bare.push(ch);
  };
  const hide = (ch: string, inCode: boolean): void => {
    code.push(inCode ? ch : blank(ch));
    bare.push(blank(ch));
  };
  const templateDepths: number[] = [];
  let depth = 0;
  let i = 0;

  const regexAllowed = (): boolean => {
    let j = code.length - 1;
    while (j >= 0 && /\s/.test(code[j]!)) j--;
    if (j < 0) return true;
    const prev = code[j]!;
    if (/[\w$]/.test(prev)) {
      let k = j;
      while (k >= 0 && /[\w$]/.test(code[k]!)) k--;
      return REGEX_AFTER_WORD.has(code.slice(k + 1, j + 1).join(''));
    }
    return !/[)\]}]/.test(prev);
  };

  const templateText = (): void => {
    while (i < src.length) {
      const ch = src[i]!;
      if (ch === '\\') {
        hide(ch, true);
        if (i + 1 < src.length) hide(src[i + 1]!, true);
        i += 2;
      } else if (ch === '`') {
        keep(ch);
        i++;
        return;
      } else if (ch === '$' && src[i + 1] === '{') {
        keep('$');
        keep('{');
        i += 2;
        templateDepths.push(depth);
        depth++;
        return;
      } else {
        hide(ch, true);
        i++;
      }
    }
  };

  while (i < src.length) {
    const ch = src[i]!;
    const next = src[i + 1];
    if (ch === '/' && next === '/') {
      while (i < src.length && src[i] !== '\n') hide(src[i++]!, false);
    } else if (ch === '/' && next === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end === -1 ? src.length : end + 2;
      while (i < stop) hide(src[i++]!, false);
    } else if (ch === '"' || ch === "'") {
      keep(ch);
      i++;
      // A string ends at its quote, or (for robustness with JSX text like "don't") at the line end.
      while (i < src.length && src[i] !== ch && src[i] !== '\n') {
        if (src[i] === '\\' && i + 1 < src.length) hide(src[i++]!, true);
        hide(src[i++]!, true);
      }
      if (src[i] === ch) keep(src[i++]!);
    } else if (ch === '`') {
      keep(ch);
      i++;
      templateText();
    } else if (ch === '}' && templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === depth - 1) {
      templateDepths.pop();
      depth--;
      keep(ch);
      i++;
      templateText();
    } else if (ch === '/' && regexAllowed()) {
      keep(ch);
      i++;
      let inClass = false;
      while (i < src.length && src[i] !== '\n' && (inClass || src[i] !== '/')) {
        if (src[i] === '\\' && i + 1 < src.length) hide(src[i++]!, true);
        else if (src[i] === '[') inClass = true;
        else if (src[i] === ']') inClass = false;
        hide(src[i++]!, true);
      }
      if (src[i] === '/') keep(src[i++]!);
    } else {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
      keep(ch);
      i++;
    }
  }
  return { code: code.join(''), bare: bare.join('') };
}

interface Import {
  readonly specifier: string;
  /** A dynamic import whose argument is not a plain string literal. */
  readonly computed: boolean;
}

function importsOf(src: string): Import[] {
  const { code, bare } = scan(src);
  const found: Import[] = [];
  // Only matches that start in code (not inside a string that happens to say "import").
  const inCode = (index: number, word: string): boolean => bare.startsWith(word, index);
  const staticRe = /\b(import|export)\s+(?:type\s+)?(?:[\w*${}\s,]+?\s+from\s*)?(['"])([^'"\n]+)\2/g;
  for (const m of code.matchAll(staticRe)) if (inCode(m.index, m[1]!)) found.push({ specifier: m[3]!, computed: false });
  const dynamicRe = /\b(import|require)\s*\(\s*([^)]*)\)/g;
  for (const m of code.matchAll(dynamicRe)) {
    if (!inCode(m.index, m[1]!)) continue;
    const literal = /^(['"`])([^'"`$]*)\1\s*(?:,[\s\S]*)?$/.exec(m[2]!.trim());
    found.push(literal !== null ? { specifier: literal[2]!, computed: false } : { specifier: m[2]!.trim(), computed: true });
  }
  return found;
}

/** Uses of nondeterminism core/ may not have, found in code only (not comments or strings). */
function forbiddenIn(src: string): string[] {
  const { bare } = scan(src);
  const rules: ReadonlyArray<[RegExp, string]> = [
    [/(?<![\w$.])Date\b/, 'Date'],
    [/(?<![\w$.])Math\s*\.\s*random\b/, 'Math.random'],
    [/(?<![\w$.])process\s*\./, 'process.'],
    [/(?<![\w$.])performance\s*\.\s*now\b/, 'performance.now'],
    [/(?<![\w$.])crypto\s*\./, 'crypto.'],
  ];
  return rules.filter(([re]) => re.test(bare)).map(([, name]) => name);
}

// ---------------------------------------------------------------------------------------------
// The layer table

type Target = { readonly kind: 'node' } | { readonly kind: 'package' } | { readonly kind: 'local'; readonly rel: string };

function target(fileRel: string, specifier: string): Target {
  if (specifier.startsWith('node:')) return { kind: 'node' };
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) return { kind: 'package' };
  const joined = posix.normalize(posix.join(posix.dirname(fileRel), specifier));
  return { kind: 'local', rel: joined.replace(/\.jsx?$/, (ext) => (ext === '.jsx' ? '.tsx' : '.ts')) };
}

function layerOf(rel: string): string {
  return rel.startsWith('../') ? 'outside the repo' : (rel.split('/')[0] ?? '');
}

/** The rule an edge breaks, or undefined if the edge is allowed. */
function ruleBroken(fileRel: string, imp: Import): string | undefined {
  const from = layerOf(fileRel) as Layer;
  if (imp.computed) return from === 'tui' ? undefined : `${from} may not import computed specifiers; the layer check cannot follow them`;
  const t = target(fileRel, imp.specifier);
  switch (from) {
    case 'core':
      if (t.kind === 'node') return 'core may not use node: modules';
      if (t.kind === 'package') return 'core may not import packages';
      return layerOf(t.rel) === 'core' ? undefined : 'core may import only core';
    case 'probes':
      if (t.kind === 'node') return 'probes may import core (through core/index.ts), probes and packages, not node: modules';
      if (t.kind === 'package') return undefined;
      if (layerOf(t.rel) === 'probes') return undefined;
      if (t.rel === 'core/index.ts') return undefined;
      if (layerOf(t.rel) === 'core') return 'probes reach core only through core/index.ts';
      return 'probes may import core (through core/index.ts), probes and packages';
    case 'exporters':
      if (t.kind !== 'local') return undefined;
      return ['core', 'probes', 'exporters'].includes(layerOf(t.rel)) ? undefined : 'exporters may import core, probes, exporters, packages and node: modules';
    case 'tui':
      return undefined;
  }
  return `${fileRel} is in no layer`;
}

// ---------------------------------------------------------------------------------------------

function toPosix(p: string): string {
  return p.split(sep).join('/');
}

test('every import edge follows ARCHITECTURE §1, and core/ stays deterministic', () => {
  const files = LAYERS.flatMap((layer) => sourceFiles(join(ROOT, layer)));
  const rels = files.map((f) => toPosix(relative(ROOT, f)));
  // The check must have something to check, or it passes by looking at nothing.
  assert.ok(rels.filter((r) => r.startsWith('core/')).length >= 5, `too few core files found under ${ROOT}`);
  assert.ok(rels.length >= 10, `only ${rels.length} source files found under ${ROOT}`);

  const violations: string[] = [];
  let edges = 0;
  files.forEach((file, n) => {
    const rel = rels[n]!;
    const src = readFileSync(file, 'utf8');
    for (const imp of importsOf(src)) {
      edges++;
      const broken = ruleBroken(rel, imp);
      if (broken !== undefined) violations.push(`${rel}: imports ${imp.specifier} (${broken})`);
    }
    if (rel.startsWith('core/')) {
      for (const name of forbiddenIn(src)) violations.push(`${rel}: uses ${name} (core is deterministic: no Date, Math.random, process, performance.now or crypto)`);
    }
  });
  assert.ok(edges >= 10, `only ${edges} import edges found`);
  assert.deepEqual(violations, []);
});

test('the checker itself catches what it should (so the test above can fail)', () => {
  const core = `
    import { a } from './a.js';
    import type { B } from '../probes/b.js';
    import {
      c,
      d,
    } from 'node:fs';
    export * from 'some-package';
    const lazy = await import('../tui/cli.js');
    const msg = "import x from 'ignored-in-string'";
    // import y from 'ignored-in-comment';
    const re = /import z from 'ignored-in-regex'/;
    const when = Date.now(); // Date in a comment is fine
    const r = Math.random();
    const s = 'process.exit in a string is fine';
    const t = \`\${process.env.X} and process.y in template text is fine\`;
  `;
  const specs = importsOf(core).map((i) => i.specifier);
  assert.deepEqual(specs.sort(), ['../probes/b.js', '../tui/cli.js', './a.js', 'node:fs', 'some-package']);
  assert.deepEqual(
    importsOf(core).map((i) => ruleBroken('core/y.ts', i)).filter((r) => r !== undefined),
    ['core may import only core', 'core may not use node: modules', 'core may not import packages', 'core may import only core'],
  );
  assert.deepEqual(forbiddenIn(core), ['Date', 'Math.random', 'process.']);
  assert.deepEqual(forbiddenIn('const p = task.process.pid; // Date\nconst s = "Math.random()";'), []);

  const probe = (spec: string): string | undefined => ruleBroken('probes/lang/parse.ts', { specifier: spec, computed: false });
  assert.equal(probe('../../core/index.js'), undefined);
  assert.equal(probe('./lexer.js'), undefined);
  assert.equal(probe('protobufjs'), undefined);
  assert.equal(probe('../../core/block/bio.js'), 'probes reach core only through core/index.ts');
  assert.equal(probe('../../exporters/perfetto.js'), 'probes may import core (through core/index.ts), probes and packages');
  assert.equal(probe('node:fs'), 'probes may import core (through core/index.ts), probes and packages, not node: modules');

  const exporter = (spec: string): string | undefined => ruleBroken('exporters/otlp.ts', { specifier: spec, computed: false });
  assert.equal(exporter('../core/block/bio.js'), undefined);
  assert.equal(exporter('../probes/index.js'), undefined);
  assert.equal(exporter('node:fs'), undefined);
  assert.equal(exporter('../tui/run.js'), 'exporters may import core, probes, exporters, packages and node: modules');

  assert.equal(ruleBroken('tui/cli.ts', { specifier: '../test/x.js', computed: false }), undefined);
  assert.equal(ruleBroken('core/a.ts', { specifier: 'name', computed: true }), 'core may not import computed specifiers; the layer check cannot follow them');
  assert.deepEqual(importsOf('const m = await import(name);'), [{ specifier: 'name', computed: true }]);
});
