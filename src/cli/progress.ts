// Progress on a TTY only: one line on stderr, redrawn at most 10 times a second. Off when
// stderr is not a terminal, with --quiet, and with --json.

export class Progress {
  private lastDrawMs = 0;
  private readonly enabled: boolean;
  private drawn = false;

  constructor(private label: string, quiet = false, private stream: NodeJS.WriteStream = process.stderr) {
    this.enabled = !quiet && stream.isTTY === true;
  }

  update(done: number, total: number, what = ''): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDrawMs < 100 && done < total) return;
    this.lastDrawMs = now;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 30;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    this.stream.write(`\r${this.label} [${bar}] ${(frac * 100).toFixed(1).padStart(5)}% ${what}`.padEnd(79).slice(0, 100));
    this.drawn = true;
  }

  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\r' + ' '.repeat(100) + '\r');
  }
}
