// The view-model's lines as terminal text: one string per line with SGR colours per tone. Kept
// apart from the Ink app so the first frame can be written before Ink and React are loaded.

import type { Line, Tone } from './view-model.js';

/** SGR codes per tone: one pre-coloured string per line is cheaper for Ink than nested Texts. */
const TONE_SGR: Readonly<Record<Tone, string>> = {
  good: '32',
  warn: '33',
  bad: '31',
  dim: '2',
  accent: '36',
  title: '1',
  selected: '7',
  badge: '30;43',
};

/** A line as text with ANSI colours (or none): Ink measures and paints it as one node. */
export function lineText(line: Line, color: boolean): string {
  let out = '';
  let open: Tone | undefined;
  // trailing blanks are cells Ink would measure every frame for nothing
  let last = line.length - 1;
  while (last >= 0 && line[last]!.text.trim() === '') last--;
  // fewer escape codes, less for Ink to tokenize every frame: runs of one tone share one code,
  // and blanks need none
  for (let i = 0; i <= last; i++) {
    const seg = line[i]!;
    const text = i === last ? seg.text.trimEnd() : seg.text;
    const tone = color && seg.tone && text.trim() !== '' ? seg.tone : undefined;
    if (tone !== open) {
      if (open) out += '\u001b[0m';
      if (tone) out += `\u001b[${TONE_SGR[tone]}m`;
      open = tone;
    }
    out += text;
  }
  if (open) out += '\u001b[0m';
  // an empty line still takes its row
  return out === '' ? ' ' : out;
}
