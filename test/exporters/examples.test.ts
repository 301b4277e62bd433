// The example traces in traces/examples/ are what `npm run traces` makes today (output is
// deterministic, so a stale file is a real difference), and they are sound traces.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_SCENARIOS, exampleFiles, writeExamples } from '../../tui/examples.js';
import { checkPerfettoTrace } from '../helpers/perfetto-check.js';
import { repoRoot } from '../helpers/repo.js';

test('traces/examples/ matches a fresh `npm run traces`', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-examples-'));
  try {
    await writeExamples(repoRoot(), dir);
    for (const name of EXAMPLE_SCENARIOS) {
      for (const file of Object.values(exampleFiles(name))) {
        const shipped = readFileSync(join(repoRoot(), 'traces', 'examples', file));
        const fresh = readFileSync(join(dir, file));
        assert.ok(shipped.equals(fresh), `traces/examples/${file} is stale: run npm run traces`);
      }
      const pftrace = readFileSync(join(repoRoot(), 'traces', 'examples', exampleFiles(name).perfetto));
      assert.deepEqual(checkPerfettoTrace(pftrace).issues, [], name);
      const jaeger = JSON.parse(readFileSync(join(repoRoot(), 'traces', 'examples', exampleFiles(name).jaeger), 'utf8')) as { data: { spans: unknown[] }[] };
      assert.equal(jaeger.data.length, 5, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
