import { describe, expect, it } from 'vitest';
import { SudoConversation } from '../src/ssh/sudo.js';

const h = { prompt: '[kbootstrap sudo 5e] password:', marker: '@@kbootstrap-sudo-ok 5e', password: 'pw' };
const feedAll = (c: SudoConversation, parts: string[]) => parts.map((p) => c.feed(Buffer.from(p)));

describe('the sudo conversation on stderr', () => {
  it('no prompt (NOPASSWD, a cached credential): the password is never asked for, stdin goes once the marker is seen', () => {
    const c = new SudoConversation(h);
    const ev = feedAll(c, ['@@kbootstrap-sudo-ok 5e\nwarn: x\n']);
    expect(ev).toEqual([{ sendPassword: false, refuse: false, started: true }]);
    expect(c.stderr()).toBe('warn: x\n');
  });

  it('a prompt split across chunks, then the marker split across chunks: one password, then stdin', () => {
    const c = new SudoConversation(h);
    const ev = feedAll(c, ['[kbootstrap su', 'do 5e] password:', '@@kbootstrap-sudo-', 'ok 5e', '\n']);
    expect(ev.filter((e) => e.sendPassword)).toHaveLength(1);
    expect(ev.findIndex((e) => e.sendPassword)).toBe(1);
    expect(ev.findIndex((e) => e.started)).toBe(4);
    expect(ev.some((e) => e.refuse)).toBe(false);
    expect(c.stderr()).toBe('');
  });

  it('a second prompt means a wrong password: refuse (end stdin), never send it twice; sudo\'s words are kept without the prompts', () => {
    const c = new SudoConversation(h);
    const ev = feedAll(c, ['[kbootstrap sudo 5e] password:', 'Sorry, try again.\n[kbootstrap sudo 5e] password:', 'sudo: no password was provided\nsudo: 1 incorrect password attempt\n']);
    expect(ev.map((e) => [e.sendPassword, e.refuse, e.started])).toEqual([[true, false, false], [false, true, false], [false, false, false]]);
    expect(c.stderr()).toBe('Sorry, try again.\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n');
  });

  it('text that only looks like a prompt (another nonce, or sudo\'s default prompt) is not answered', () => {
    const c = new SudoConversation(h);
    const ev = feedAll(c, ['[kbootstrap sudo 99] password:', '[sudo] password for kb: ']);
    expect(ev.some((e) => e.sendPassword || e.started)).toBe(false);
  });
});

describe('sudo-rs', () => {
  it('wraps the -p prompt as "[sudo: PROMPT] Password: " (0.2.15): answered once, and not left in what the command said', () => {
    const c = new SudoConversation(h);
    const ev = feedAll(c, ['[sudo: [kbootstrap sudo 5e] password:] Password: ', '\n@@kbootstrap-sudo-ok 5e\n']);
    expect(ev.map((e) => [e.sendPassword, e.started])).toEqual([[true, false], [false, true]]);
    expect(c.stderr()).toBe('');
  });
});
