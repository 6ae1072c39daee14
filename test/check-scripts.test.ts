// The checks rewritten to start fewer processes (issue 24: shell builtins instead of pipelines), run by
// real bash against stand-in programs and files: each prints what its parser reads, as the pipelines
// did, with the options off as in a batch and under `set -euo pipefail` as in a script of its own.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { render } from '../src/shell/templates.js';
import { batchBody, withPrelude } from '../src/shell/prelude.js';

const root = mkdtempSync(join(tmpdir(), 'kb-check-scripts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

interface Host {
  /** stand-in programs: name -> sh script body */
  bin?: Record<string, string>;
  /** files: the absolute path the check reads -> content (written under a scratch directory; the script is pointed there) */
  files?: Record<string, string>;
}

/** Run a rendered check with stand-ins; both with options off (a batch) and on (set -euo pipefail): same output, code 0. */
function run(script: string, host: Host = {}): string {
  const dir = join(root, String(n++));
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const [name, body] of Object.entries(host.bin ?? {})) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const paths = Object.keys(host.files ?? {}).sort((a, b) => a.length - b.length);
  for (const path of paths) {
    const local = join(dir, 'root', path);
    mkdirSync(join(local, '..'), { recursive: true });
    const content = host.files![path]!;
    if (content === '<dir>') mkdirSync(local, { recursive: true });
    else writeFileSync(local, content);
  }
  // every path the check reads moved under dir/root, in one pass (longest first: a directory's file before the directory)
  const alt = paths.reverse().map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  const s = alt ? withPrelude(script).replace(new RegExp(alt, 'g'), (p) => join(dir, 'root', p)) : withPrelude(script);
  const outs = ['set +euo pipefail', 'set -euo pipefail'].map((opts) => {
    const r = spawnSync('bash', ['-c', `${opts}\n${s}`], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir } });
    expect(r.stderr, opts).toBe('');
    expect(r.status, `${opts}: ${r.stdout}`).toBe(0);
    return r.stdout.split(dir + '/root').join('');
  });
  expect(outs[1]).toBe(outs[0]);
  return outs[0]!;
}

describe('firewall/check', () => {
  const fw = `case "$*" in
  "--permanent --list-ports") echo "6443/tcp 10250/tcp  2379-2380/tcp" ;;
  "--list-ports") echo "6443/tcp" ;;
  "--permanent --list-protocols") echo "4" ;;
  "--list-protocols") echo "" ;;
esac`;

  it('active: every word of each list on a line of its own, none for an empty list', () => {
    expect(run(render('firewall/check', {}), { bin: { systemctl: 'exit 0', 'firewall-cmd': fw } })).toBe([
      'active=yes', 'enabled=yes',
      'permanent=6443/tcp', 'permanent=10250/tcp', 'permanent=2379-2380/tcp',
      'runtime=6443/tcp',
      'permanent-protocol=4',
      '',
    ].join('\n'));
  });

  it('a word with a glob character is printed as it is, not matched against files', () => {
    expect(run(render('firewall/check', {}), { bin: { systemctl: 'exit 0', 'firewall-cmd': 'echo "/*"' } })).toContain('runtime=/*\n');
  });

  it('words on several lines (as tr and sed split them too)', () => {
    expect(run(render('firewall/check', {}), { bin: { systemctl: 'exit 0', 'firewall-cmd': 'printf "a/tcp\\nb/udp c/tcp\\n"' } }))
      .toContain('runtime=a/tcp\nruntime=b/udp\nruntime=c/tcp\n');
  });

  it('inactive: no lists', () => {
    expect(run(render('firewall/check', {}), { bin: { systemctl: '[ "$1" = is-enabled ]', 'firewall-cmd': 'echo 1/tcp' } })).toBe('active=no\nenabled=yes\n');
  });
});

describe('kernel-modules/check', () => {
  const lsmod = 'printf "Module                  Size  Used by\\nkbtest_mod_rr          16384  0\\nkbtest_other           16384  1 kbtest_mod_rr\\n"; exit 1';

  it('a module is loaded when lsmod names it exactly (not the header, not a longer name)', () => {
    expect(run(render('kernel-modules/check', { modules: ['kbtest_mod', 'kbtest_mod_rr', 'kbtest_other', 'Module'] }), { bin: { lsmod } })).toBe(
      'missing=kbtest_mod\nloaded=kbtest_mod_rr\nloaded=kbtest_other\nmissing=Module\n');
  });

  it('no lsmod output: every module missing', () => {
    expect(run(render('kernel-modules/check', { modules: ['kbtest_mod'] }), { bin: { lsmod: 'exit 1' } })).toBe('missing=kbtest_mod\n');
  });
});

describe('sysctl/check', () => {
  it("each KEY = VALUE line sysctl prints, even when it fails for a key it does not have", () => {
    const out = run(render('sysctl/check', { keys: ['a.b', 'c', 'gone'] }), {
      bin: { sysctl: 'printf "a.b = 1\\nc = x = y\\nnot a setting\\n"; echo "sysctl: cannot stat gone" >&2; exit 255' },
    });
    expect(out.split('\n').filter((l) => l.startsWith('live='))).toEqual(['live=a.b=1', 'live=c=x = y']);
  });
});

describe('packages-state', () => {
  it('rpm: only the pkg= lines (not the "is not installed" ones)', () => {
    expect(run(render('os/rhel/packages-state', { packages: ['kubelet', 'kubeadm'] }), {
      bin: { rpm: 'printf "pkg=kubelet=1.30.4\\npackage kubeadm is not installed\\n"; exit 1' },
    })).toBe('pkg=kubelet=1.30.4\n');
  });

  it('dpkg-query: installed ones (2nd letter i, no error flag), selection install or hold', () => {
    expect(run(render('os/debian/packages-state', { packages: ['kubelet', 'kubeadm', 'kubectl', 'broken'] }), {
      bin: { 'dpkg-query': 'printf "pkg=kubelet=ii =1.30.4-1.1\\npkg=kubeadm=hi =1.30.4-1.1\\npkg=kubectl=un =\\npkg=broken=iF =1\\n"; exit 1' },
    })).toBe('pkg=kubelet=1.30.4-1.1\npkg=kubeadm=1.30.4-1.1\n');
  });

  it('apt-mark showhold: held= each, nothing when none', () => {
    expect(run(render('os/debian/holds-check', {}), { bin: { 'apt-mark': 'printf "kubelet\\nkubeadm\\n"' } })).toBe('held=kubelet\nheld=kubeadm\n');
    expect(run(render('os/debian/holds-check', {}), { bin: { 'apt-mark': 'exit 1' } })).toBe('');
  });
});

describe('selinux/check, hostname/check, swap/check', () => {
  it('selinux: each SELINUX= line (a last line without a newline too), not SELINUXTYPE=', () => {
    expect(run(render('selinux/check', {}), {
      bin: { getenforce: 'echo Permissive' },
      files: { '/etc/selinux/config': '# SELINUX=disabled\nSELINUX=enforcing # here\nSELINUXTYPE=targeted\n  SELINUX=no\nSELINUX=permissive' },
    })).toBe('runtime=Permissive\nconfig=enforcing\nconfig=permissive\n');
    expect(run(render('selinux/check', {}), { files: { '/etc/selinux': '<dir>' } })).toBe('runtime=absent\nconfig=absent\n');
  });

  it('hostname: the first line of /etc/hostname, as it is', () => {
    expect(run(render('hostname/check', {}), { bin: { hostname: 'echo node-1' }, files: { '/etc/hostname': ' node-1 \nsecond\n' } }))
      .toBe('current=node-1\nstatic= node-1 \n');
    expect(run(render('hostname/check', {}), { bin: { hostname: 'echo node-1' }, files: { '/etc/hostname': 'no-newline' } }))
      .toBe('current=node-1\nstatic=no-newline\n');
    expect(run(render('hostname/check', {}), { bin: { hostname: 'echo node-1' }, files: { '/etc/hostname': '' } }))
      .toBe('current=node-1\nstatic=\n');
  });

  it('swap: the active areas below the header, then the swap lines of fstab with their line numbers', () => {
    const out = run(render('swap/check', { zramMarker: '# no zram' }), {
      files: {
        '/proc/swaps': 'Filename\tType\tSize\tUsed\tPriority\n/dev/sda2 partition 1000 0 -2\n',
        '/etc/fstab': '# /dev/sdb none swap sw 0 0\n/dev/sda1 / ext4 defaults 0 1\n/dev/sda2 none swap sw 0 0\n',
        '/usr/lib/systemd': '<dir>',
        '/etc/systemd': '<dir>',
      },
    });
    expect(out).toBe('checked=swap\nactive=/dev/sda2\nfstab=3 /dev/sda2\n');
  });
});

describe('kubeadm-init/check', () => {
  const getent = 'if [ "$2" = root ]; then echo "root:x:0:0:root:$HOME/h:/bin/bash"; else exit 2; fi';
  const script = (user: string) => render('kubeadm-init/check', { user });

  it("the user's kubeconfig against admin.conf; leftovers are any entry but kube-vip.yaml, dot files too", () => {
    const same = 'apiVersion: v1\n';
    const files = (manifests: Record<string, string>) => ({
      '/etc/kubernetes/admin.conf': same,
      '/etc/kubernetes/manifests': '<dir>',
      ...Object.fromEntries(Object.entries(manifests).map(([k, v]) => [`/etc/kubernetes/manifests/${k}`, v])),
    });
    // getent gives $HOME/h; the stand-in writes the user's kubeconfig there first
    const withHome = { getent: `mkdir -p "$HOME/h/.kube" && printf 'apiVersion: v1\\n' >"$HOME/h/.kube/config"\n${getent}` };
    expect(run(script('root'), { bin: withHome, files: files({ 'kube-vip.yaml': 'x' }) })).toBe('kubeconfig=same\n');
    expect(run(script('root'), { bin: withHome, files: files({ 'kube-vip.yaml': 'x', 'etcd.yaml': 'x' }) })).toBe('kubeconfig=same\nleftovers=manifests\n');
    expect(run(script('root'), { bin: withHome, files: files({ '.hidden': 'x' }) })).toBe('kubeconfig=same\nleftovers=manifests\n');
    expect(run(script('root'), { bin: withHome, files: files({ '..x': 'x' }) })).toBe('kubeconfig=same\nleftovers=manifests\n');
    expect(run(script('root'), { bin: withHome, files: files({}) })).toBe('kubeconfig=same\n');
    // no such user: no home, so never the same
    expect(run(script('nobody'), { bin: withHome, files: files({}) })).toBe('kubeconfig=differs\n');
  });

  it('a dangling link in manifests is an entry too', () => {
    const dir = join(root, 'dangling');
    mkdirSync(join(dir, 'manifests'), { recursive: true });
    symlinkSync(join(dir, 'nowhere'), join(dir, 'manifests', 'gone.yaml'));
    const s = withPrelude(script('root')).split('/etc/kubernetes/manifests').join(join(dir, 'manifests'));
    const r = spawnSync('bash', ['-c', s], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: dir } });
    expect(r.stdout).toContain('leftovers=manifests\n');
  });
});

describe('unit-state, services-state', () => {
  it("systemctl's answers, whatever its exit code", () => {
    const systemctl = 'case "$1" in is-enabled) echo disabled; exit 1 ;; is-active) [ "$2" = --quiet ] && exit 3; echo inactive; exit 3 ;; esac';
    expect(run(render('facts/unit-state', { unit: 'kubelet' }), { bin: { systemctl } })).toBe('unit=kubelet disabled inactive\n');
    expect(run(render('container-runtime/services-state', { services: ['containerd'] }), { bin: { systemctl } })).toBe('enabled=containerd=disabled\nactive=containerd=no\n');
    expect(run(render('facts/unit-state', { unit: 'kubelet' }), { bin: { systemctl: 'exit 4' } })).toBe('unit=kubelet unknown unknown\n');
  });
});

describe('kb_key_trusted, kb_key_fprs', () => {
  const key = join(import.meta.dirname, 'fixtures', 'untrusted-signing-key.asc');
  const fpr = 'CC8C9547E95212215400FB23F91017EC67371613';
  const gpgReal = spawnSync('bash', ['-c', 'command -v gpg'], { encoding: 'utf8' }).stdout.trim();
  const check = (file: string, fprs: string) => `if kb_key_trusted ${file} '${fprs}'; then echo trusted; else echo untrusted; fi\nkb_key_fprs ${file}\n`;

  it("the installed gpg: a key is trusted only with its primary key's fingerprint", () => {
    if (!gpgReal) throw new Error('gpg is required for this test');
    expect(run(check(key, `0000000000000000000000000000000000000000 ${fpr}`))).toBe(`trusted\n${fpr}\n`);
    expect(run(check(key, '0000000000000000000000000000000000000000'))).toBe(`untrusted\n${fpr}\n`);
    expect(run(check('/nonexistent', fpr))).toBe('untrusted\n');
  });

  it('gpg 2.0 (no --show-keys): the listing of the second call; every primary key must be trusted, subkeys do not count', () => {
    const colons = 'pub:-:255:22:A:1::::::\nfpr:::::::::AAAA:\nsub:-:255:18:S:1::::::\nfpr:::::::::SUBKEY:\npub:-:255:22:B:1::::::\nfpr:::::::::BBBB:';
    const gpg20 = `case " $* " in *" --show-keys "*) echo "gpg: invalid option" >&2; exit 2 ;; esac\nprintf '%s\\n' '${colons.replace(/\n/g, "' '")}'`;
    const file = join(root, 'two-keys.asc');
    writeFileSync(file, 'stand-in\n');
    expect(run(check(file, 'AAAA BBBB'), { bin: { gpg: gpg20 } })).toBe('trusted\nAAAA\nBBBB\n');
    expect(run(check(file, 'AAAA SUBKEY'), { bin: { gpg: gpg20 } })).toBe('untrusted\nAAAA\nBBBB\n');
    // a first call that fails after listing a key: that key counts too, as when both went through one pipe
    const partial = `case " $* " in *" --show-keys "*) printf '%s\\n' 'pub:-:::' 'fpr:::::::::CCCC:'; exit 2 ;; esac\nprintf '%s\\n' 'pub:-:::' 'fpr:::::::::AAAA:'`;
    expect(run(check(file, 'AAAA'), { bin: { gpg: partial } })).toBe('untrusted\nCCCC\nAAAA\n');
    expect(run(check(file, 'AAAA CCCC'), { bin: { gpg: partial } })).toBe('trusted\nCCCC\nAAAA\n');
    // no key in the file: never trusted
    expect(run(check(file, 'AAAA'), { bin: { gpg: 'exit 2' } })).toBe('untrusted\n');
  });
});

describe('kb_file_prefetch in a batch', () => {
  it('the files of all the checks read with one sha256sum and one stat, each check printing its own lines', () => {
    const dir = join(root, 'prefetch');
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const log = join(dir, 'calls');
    for (const prog of ['sha256sum', 'stat']) {
      const real = spawnSync('bash', ['-c', `command -v ${prog}`], { encoding: 'utf8' }).stdout.trim();
      writeFileSync(join(bin, prog), `#!/bin/sh\necho ${prog} >>'${log}'\nexec '${real}' "$@"\n`);
      chmodSync(join(bin, prog), 0o755);
    }
    const a = join(dir, 'a.conf');
    const b = join(dir, "it's b.conf");
    writeFileSync(a, 'a\n');
    writeFileSync(b, 'b\n');
    chmodSync(b, 0o640);
    const checks = [
      { step: 'one', script: render('common/file-state', { paths: [a, join(dir, 'missing')] }) },
      { step: 'two', script: render('common/file-state', { paths: [b, a] }) },
    ];
    const env = { PATH: `${bin}:/usr/bin:/bin`, HOME: dir };
    const sequential = spawnSync('bash', ['-c', `set +euo pipefail\n${withPrelude(batchBody(checks))}`], { encoding: 'utf8', env }).stdout;
    writeFileSync(log, '');
    const r = spawnSync('bash', ['-c', `set +euo pipefail\n${withPrelude(batchBody(checks, true))}`], { encoding: 'utf8', env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(sequential);
    expect(r.stdout).toContain(`file=${b} ${createHash('sha256').update('b\n').digest('hex')} 640\n`);
    expect(spawnSync('cat', [log], { encoding: 'utf8' }).stdout).toBe('sha256sum\nstat\n');
  });
});
