/**
 * The conversation with `sudo -S -p PROMPT` on one command's stderr (the way
 * Ansible's become plugin drives sudo): the password is written only when
 * sudo prints this command's own prompt, and the command's stdin only once the
 * command has printed its marker, i.e. runs as root. So the password can never
 * end up in what a command reads (an uploaded file), whether sudo asks or not
 * (NOPASSWD, a cached credential, `Defaults timestamp_type=global`).
 */

export interface SudoHandshake {
  /** passed as sudo -p; a per-command nonce, so nothing else on stderr can look like it */
  prompt: string;
  /** the first line the command prints to stderr, once it runs as root */
  marker: string;
  password: string;
}

/** How long sudo may take to start the command (authentication included) before kbootstrap gives up. */
export const SUDO_HANDSHAKE_MS = 30_000;

export interface SudoEvent {
  /** sudo asked for the first time: write the password */
  sendPassword: boolean;
  /** sudo asked again (the password was wrong): end stdin so it gives up */
  refuse: boolean;
  /** the command runs: send its stdin */
  started: boolean;
}

export class SudoConversation {
  private seen = Buffer.alloc(0);
  private prompts = 0;
  private before = '';
  private after = '';
  started = false;

  constructor(private h: SudoHandshake) {}

  /** Feed stderr until `started`; afterwards the caller keeps stderr itself. */
  feed(chunk: Buffer): SudoEvent {
    const ev: SudoEvent = { sendPassword: false, refuse: false, started: false };
    this.seen = Buffer.concat([this.seen, chunk]);
    const text = this.seen.toString('utf8');
    const marker = `${this.h.marker}\n`;
    const at = text.indexOf(marker);
    const upto = at >= 0 ? at : text.length;
    let count = 0;
    for (let i = text.indexOf(this.h.prompt); i >= 0 && i < upto; i = text.indexOf(this.h.prompt, i + 1)) count++;
    for (; this.prompts < count; this.prompts++) {
      if (this.prompts === 0) ev.sendPassword = true;
      else ev.refuse = true;
    }
    if (at >= 0) {
      this.started = ev.started = true;
      this.before = text.slice(0, at);
      this.after = text.slice(at + marker.length);
    }
    return ev;
  }

  /** What sudo said (its lecture, "Sorry, try again.", its errors) without the prompts and the marker. */
  stderr(): string {
    const said = this.started ? this.before : this.seen.toString('utf8');
    // sudo prints the prompt as given; sudo-rs (0.2.15) wraps it as "[sudo: PROMPT] Password: " and ends the line after the answer
    const p = this.h.prompt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return said.replace(new RegExp(`(\\[sudo: )?${p}(\\] Password: ?)?\\n?`, 'g'), '') + this.after;
  }
}
