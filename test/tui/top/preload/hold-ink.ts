// Preloaded with `node --import` by the tmux test: holds the loading of Ink until the file named
// by KIOTRACE_TEST_INK_GATE exists, so the test can see what is on the screen before Ink loads.
import { register } from 'node:module';

register(new URL('./hold-ink-hooks.js', import.meta.url));
