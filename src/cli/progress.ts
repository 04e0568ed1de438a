/**
 * The demo's live status line: rewritten in place on a terminal, printed every
 * few seconds otherwise (CI logs, pipes), never both.
 */
export class StatusLine {
  private last = 0;
  private shown = false;
  constructor(private readonly out: NodeJS.WriteStream = process.stderr, private readonly everyMs = out.isTTY ? 250 : 5_000) {}

  update(text: () => string, force = false): void {
    const now = Date.now();
    if (!force && now - this.last < this.everyMs) return;
    this.last = now;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${text()}`);
      this.shown = true;
    } else {
      this.out.write(`${text()}\n`);
    }
  }

  done(): void {
    if (this.shown) this.out.write('\n');
    this.shown = false;
  }
}
