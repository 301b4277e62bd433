// Options for runScript as the CLI sets them by default (text output, safe mode, banner shown).
import type { ScriptOptions } from '../../probes/script.js';

export function scriptOptions(text: string, durationNs: number, write: ScriptOptions['write'], extra: Partial<ScriptOptions> = {}): ScriptOptions {
  return { sourceName: 'stdin', text, format: 'text', positional: [], unsafe: false, quiet: false, verbose: false, dryRun: false, durationNs, write, ...extra };
}
