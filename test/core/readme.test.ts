// core/README.md maps every core file to the Linux mechanism it models; it must not fall behind.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../helpers/repo.js';

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('every core file has a Models header and a row in core/README.md with its SIMPLIFICATION count', () => {
  const core = join(repoRoot(), 'core');
  const readme = readFileSync(join(core, 'README.md'), 'utf8');
  const files = tsFiles(core);
  assert.ok(files.length > 40);
  for (const f of files) {
    const rel = relative(core, f).split('\\').join('/');
    const src = readFileSync(f, 'utf8');
    if (rel !== 'index.ts') assert.match(src, /^\/\/ Models: /, `${rel} opens with a Models: header`);
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${rel}\` |`));
    assert.ok(row, `${rel} is listed in core/README.md`);
    const count = (src.match(/SIMPLIFICATION/g) ?? []).length;
    assert.ok(row.endsWith(`| ${count} |`), `${rel}: README says ${row.slice(row.lastIndexOf('|', row.length - 2))}, the file has ${count}`);
  }
});
