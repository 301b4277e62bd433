// Runtime warnings that can come back on every firing: a while loop cut at its bound, a probe over
// its instruction budget, a value grown too big, a full map, a map key of the wrong size. bpftrace
// prints each one each time, which a hot probe turns into megabytes of stderr; here each is
// printed the first time and counted after, and the end of the run says how many there were.

import type { OutputSink } from './output.js';

interface Warning {
  count: number;
  /** The end-of-run line, given the count. */
  readonly summary: (n: number) => string;
}

/** Every repeating warning of one run, for the compiler and the maps alike. */
export class RepeatingWarnings {
  /** Warnings that have happened, in the order of their first time. */
  private readonly happened: Warning[] = [];

  constructor(
    private readonly sink: OutputSink,
    /** Writes to the sink's diagnostic stream. */
    private readonly write: (text: string) => void,
  ) {}

  /**
   * A warning: each call of the returned function is one occurrence. The first writes what
   * `first` renders with the sink; the rest are only counted. `summary(n)` is the end-of-run line.
   */
  add(first: (sink: OutputSink) => string, summary: (n: number) => string): () => void {
    const w: Warning = { count: 0, summary };
    return () => {
      if (++w.count > 1) return;
      this.happened.push(w);
      this.write(first(this.sink));
    };
  }

  /** The end-of-run lines in the sink's format, one for each warning that came back, in the order they first came. */
  summaries(): string {
    let out = '';
    for (const w of this.happened) if (w.count > 1) out += this.sink.runtimeError(w.summary(w.count));
    return out;
  }
}
