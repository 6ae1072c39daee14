import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { heredocDelimiter, MissingShellValueError, shq, shqAll } from '../src/shell/quote.js';
import { render } from '../src/shell/templates.js';

const dir = mkdtempSync(join(tmpdir(), 'kb-quote-'));
const canary = join(dir, 'pwned');

const HOSTILE = [
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `x; touch ${canary}`,
  `x && touch ${canary}`,
  `x | touch ${canary}`,
  `'; touch ${canary}; echo '`,
  `"; touch ${canary}; echo "`,
  `a\ntouch ${canary}`,
  `a\r\ntouch ${canary}`,
  `$HOME \${PATH} $((1+1))`,
  `> ${canary}`,
  `-rf / --no-preserve-root`,
  `*`,
  `~root`,
  `a\\'b`,
  `''`,
  '',
  ' leading and trailing ',
  `\u00e9\u4e2d\u6587 unicode`,
  `!$ !! history`,
];

function viaBash(word: string): string {
  return execFileSync('bash', ['-c', `printf '%s' ${word}`], { encoding: 'utf8' });
}

describe('shq', () => {
  it.each(HOSTILE.map((v) => [JSON.stringify(v), v]))('passes %s through bash as one literal word', (_label, v) => {
    expect(viaBash(shq(v))).toBe(v);
    expect(existsSync(canary)).toBe(false);
  });

  it('leaves plain words unquoted for readability', () => {
    expect(shq('k8s-master')).toBe('k8s-master');
    expect(shq('10.244.0.0/16')).toBe('10.244.0.0/16');
    expect(shq('a b')).toBe("'a b'");
  });

  it('throws on a missing value instead of rendering an empty word', () => {
    expect(() => shq(undefined, 'host name')).toThrow(MissingShellValueError);
    expect(() => shq(null)).toThrow(/missing value/);
  });

  it('refuses objects and NUL bytes', () => {
    expect(() => shq({ a: 1 })).toThrow(/object/);
    expect(() => shq('a\0b')).toThrow(/NUL/);
  });

  it('quotes lists word by word', () => {
    const words = execFileSync('bash', ['-c', `for w in ${shqAll(['a b', '$(x)', 'c'])}; do printf '[%s]' "$w"; done`], { encoding: 'utf8' });
    expect(words).toBe('[a b][$(x)][c]');
  });

  it('picks a heredoc delimiter that is not a line of the content', () => {
    expect(heredocDelimiter('x\nKBOOTSTRAP_EOF\ny')).toBe('KBOOTSTRAP_EOF_1');
    expect(heredocDelimiter('plain')).toBe('KBOOTSTRAP_EOF');
  });
});

describe('templates quote every value', () => {
  it.each(HOSTILE.filter((v) => v !== '').map((v) => [JSON.stringify(v), v]))('a hostile hostname %s stays data', (_l, v) => {
    // run the whole rendered apply with hostnamectl stubbed to record its argument
    const out = join(dir, 'arg');
    const script = `hostnamectl() { printf '%s' "$2" > ${shq(out)}; }\n${render('hostname/apply', { name: v })}`;
    execFileSync('bash', ['-c', script]);
    expect(execFileSync('cat', [out], { encoding: 'utf8' })).toBe(v);
    expect(existsSync(canary)).toBe(false);
  });

  it('a missing value makes rendering fail, not an empty argument', () => {
    expect(() => render('hostname/apply', {})).toThrow(/missing value/);
  });
});

describe('the command line sent over SSH', async () => {
  const { remoteCommandLine } = await import('../src/shell/command-line.js');
  const { spawnSync } = await import('node:child_process');
  it('wraps the script as one argument of bash, under timeout, with sudo for other users', () => {
    expect(remoteCommandLine("echo 'a b'; exit 3", 600, 'none')).toBe("timeout -k 10 600 bash -c 'echo '\\''a b'\\''; exit 3'");
    expect(remoteCommandLine('true', 0.2, 'no-password')).toBe("sudo -n -- timeout -k 10 1 bash -c 'true'");
    expect(remoteCommandLine('true', 30, { prompt: '[kb 1f] password:', marker: '@@ok 1f' })).toBe("sudo -S -p '[kb 1f] password:' -- timeout -k 10 30 bash -c 'printf '\\''%s\\n'\\'' '\\''@@ok 1f'\\'' >&2\ntrue'");
  });
  it('a hostile script runs as written and only inside its bash (checked by running it)', () => {
    const script = `printf '%s|' "$0" 'x;y' "$(echo \`echo hi\`)"; echo done; exit 7`;
    const r = spawnSync('sh', ['-c', remoteCommandLine(script, 5, 'none')], { encoding: 'utf8' });
    expect(r.stdout).toBe('bash|x;y|hi|done\n');
    expect(r.status).toBe(7);
  });
});
