/**
 * sudo-rs for a lab host (issue 23: Ubuntu 26.04 ships sudo-rs as `sudo`).
 *
 * Debian's sid carries the current sudo-rs (0.2.15 on 2026-12-05; Ubuntu
 * 26.04 ships a 0.2.1x release: `-p`/`--prompt` exists since 0.2.6, sudo-rs
 * CHANGELOG.md). sid's build needs a newer glibc than this Debian 12 machine
 * has, so it is fetched with apt-get download from a private apt state (the
 * machine's own apt state is never touched), unpacked with dpkg -x beside
 * sid's libc6, and pointed at that loader and library directory with
 * patchelf. Inside a lab host the three files go under LIB_DIR and the
 * binary becomes a setuid-root /usr/bin/sudo; PAM, /etc/sudoers and the
 * users are the host's own.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, debianMirror } from './vm/image.js';
import { labExec } from './lab.js';

/** Where the files live inside a lab host. */
const LIB_DIR = '/usr/lib/kblab-sudo-rs';

function sh(cmd: string, args: string[], cwd?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Why sudo-rs cannot be had here, or undefined. */
export function sudoRsUnavailable(): string | undefined {
  for (const [bin, pkg] of [['patchelf', 'patchelf'], ['apt-get', 'apt'], ['dpkg', 'dpkg']]) {
    if (!sh('sh', ['-c', `command -v ${bin}`]).ok) return `${bin} is missing (apt-get install ${pkg})`;
  }
  return undefined;
}

/** Fetch (once, cached) sid's sudo-rs and libc6 and relocate sudo-rs onto that libc; returns the folder and the version. */
export function prepareSudoRs(): { dir: string; version: string } {
  const root = join(cacheRoot(), 'sudo-rs');
  const apt = join(root, 'apt');
  const ready = join(root, 'ready');
  if (existsSync(join(ready, 'version'))) return { dir: ready, version: readFileSync(join(ready, 'version'), 'utf8').trim() };
  for (const d of ['lists/partial', 'cache/archives/partial', 'debs']) mkdirSync(join(apt, d), { recursive: true });
  writeFileSync(join(apt, 'sources.list'), `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${debianMirror()} sid main\n`);
  const o = ['-o', `Dir::Etc::SourceList=${join(apt, 'sources.list')}`, '-o', 'Dir::Etc::SourceParts=/dev/null', '-o', `Dir::State::Lists=${join(apt, 'lists')}`,
    '-o', `Dir::Cache=${join(apt, 'cache')}`, '-o', 'APT::Sandbox::User=root'];
  const upd = sh('apt-get', [...o, 'update', '-q']);
  if (!upd.ok) throw new Error(`apt-get update (sid) failed:\n${upd.out}`);
  // the /sid suffix: a package installed on the machine must not decide which version is fetched
  const dl = sh('apt-get', [...o, 'download', 'sudo-rs/sid', 'libc6/sid'], join(apt, 'debs'));
  if (!dl.ok) throw new Error(`apt-get download sudo-rs/sid libc6/sid failed:\n${dl.out}`);
  const stage = join(root, 'stage');
  mkdirSync(stage, { recursive: true });
  for (const deb of readdirSync(join(apt, 'debs')).filter((f) => f.endsWith('.deb'))) {
    const x = sh('dpkg', ['-x', join(apt, 'debs', deb), stage]);
    if (!x.ok) throw new Error(`dpkg -x ${deb}: ${x.out}`);
  }
  mkdirSync(ready, { recursive: true });
  const lib = join(stage, 'usr/lib/x86_64-linux-gnu');
  copyFileSync(join(lib, 'libc.so.6'), join(ready, 'libc.so.6'));
  copyFileSync(join(lib, 'ld-linux-x86-64.so.2'), join(ready, 'ld-linux-x86-64.so.2'));
  copyFileSync(join(stage, 'usr/lib/cargo/bin/sudo'), join(ready, 'sudo'));
  const pe = sh('patchelf', ['--set-interpreter', `${LIB_DIR}/ld-linux-x86-64.so.2`, '--set-rpath', LIB_DIR, join(ready, 'sudo')]);
  if (!pe.ok) throw new Error(`patchelf: ${pe.out}`);
  const version = readdirSync(join(apt, 'debs')).find((f) => f.startsWith('sudo-rs_'))!.split('_')[1]!;
  writeFileSync(join(ready, 'version'), `${version}\n`);
  return { dir: ready, version };
}

/** Make sudo-rs the host's /usr/bin/sudo (setuid root), as on Ubuntu 26.04. */
export function installSudoRs(host: string, dir: string): void {
  for (const f of ['ld-linux-x86-64.so.2', 'libc.so.6', 'sudo']) {
    const mode = f === 'sudo' ? '4755' : '0755';
    const dest = f === 'sudo' ? '/usr/bin/sudo' : `${LIB_DIR}/${f}`;
    const r = labExec(host, ['/bin/sh', '-c', `mkdir -p ${LIB_DIR} && base64 -d > ${dest}.new && chmod ${mode} ${dest}.new && mv ${dest}.new ${dest}`], readFileSync(join(dir, f)).toString('base64'));
    if (r.code !== 0) throw new Error(`installing sudo-rs on ${host}: ${r.stderr}`);
  }
}
