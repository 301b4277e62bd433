// Runtime tests, bpftrace style: a table of program, scenario, seed and duration, run through the
// simulator; the exact output (stdout, then stderr after a marker) must equal the golden file.
// UPDATE_GOLDEN=1 npm test rewrites the goldens (review the diff before committing).
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo.js';
import { scenario } from '../helpers/machine.js';
import { prepareRun } from '../../tui/run.js';
import { runScript } from '../../probes/script.js';
import { CASES, type Case } from './runtime-cases.js';

function runCase(c: Case): string {
  const s = scenario(c.scenario);
  const m = prepareRun(s, { seed: c.seed, durationNs: c.durationNs });
  let stdout = '';
  let stderr = '';
  const r = runScript(m, {
    sourceName: c.file !== undefined ? `traces/scripts/${c.file}` : 'stdin',
    text: c.file !== undefined ? readFileSync(join(repoRoot(), 'traces', 'scripts', c.file), 'utf8') : c.program,
    format: c.format ?? 'text',
    positional: c.positional ?? [],
    unsafe: c.unsafe === true,
    quiet: false,
    verbose: false,
    dryRun: false,
    durationNs: c.durationNs,
    ...(c.dummyTsMap !== undefined ? { dummyTsMap: c.dummyTsMap } : {}),
    ...(c.notifyProbesAttached === true ? { notifyProbesAttached: true } : {}),
    ...(c.noWarnings === true ? { noWarnings: true } : {}),
    write: (t, stream) => {
      if (stream === 'stdout') stdout += t;
      else stderr += t;
    },
  });
  return `${stdout}--- stderr (exit ${r.exitCode}) ---\n${stderr}`;
}

const update = process.env['UPDATE_GOLDEN'] === '1';
for (const c of CASES) {
  test(`runtime: ${c.name}`, () => {
    const file = join(repoRoot(), 'test', 'probes', 'goldens', `${c.name}.out`);
    const got = runCase(c);
    if (update || !existsSync(file)) {
      if (!update) assert.fail(`no golden for ${c.name}; run UPDATE_GOLDEN=1 npm test`);
      writeFileSync(file, got);
      return;
    }
    assert.equal(got, readFileSync(file, 'utf8'));
  });
}
