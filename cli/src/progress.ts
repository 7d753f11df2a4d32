/**
 * A progress bar on stderr, drawn only when stderr is a terminal (so pipes and scripts get
 * clean output) and redrawn at most every 50 ms.
 */
import type { Io } from './command';

/** A progress bar; a no-op when stderr is not a TTY. */
export interface Progress {
  update(done: number, total?: number, label?: string): void;
  /** Clears the bar's line. */
  finish(): void;
}

const WIDTH = 30;

/** Renders one bar line (no terminal control characters). */
export function renderBar(label: string, done: number, total: number | undefined): string {
  if (total === undefined || total <= 0) return `${label} ${String(done)}`;
  const ratio = Math.min(1, Math.max(0, done / total));
  const filled = Math.round(ratio * WIDTH);
  return `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(done)}/${String(total)} ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

/** A progress bar labelled `label`; `enabled` false (e.g. for --json) draws nothing. */
export function progressBar(io: Io, label: string, enabled = true): Progress {
  const tty = enabled && io.stderr.isTTY === true;
  let last = 0;
  let drawn = false;
  let current = label;
  return {
    update(done, total, newLabel) {
      if (!tty) return;
      if (newLabel !== undefined) current = newLabel;
      const now = io.now();
      if (now - last < 50 && done !== total) return;
      last = now;
      drawn = true;
      io.stderr.write(`\r\x1b[2K${renderBar(current, done, total)}`);
    },
    finish() {
      if (tty && drawn) io.stderr.write('\r\x1b[2K');
    },
  };
}
