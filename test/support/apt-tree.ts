/**
 * A signed apt mirror for the bundle tests, laid out like the trees kbootstrap's templates name
 * under a packageMirror (Docker's per-distribution tree and pkgs.k8s.io's flat per-minor tree,
 * src/os/mirrors.ts), built here with Debian's own tools: dpkg-deb for tiny packages,
 * apt-ftparchive for Packages and Release, gpg for InRelease with a key made for the test.
 * Served by the VM lab's read-only repository server (test/lab/vm/repo-server.mjs) on loopback,
 * whose stdout is the access log.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';

/** arch: amd64 unless said (another one only in the flat kube tree, whose one index lists every architecture, as pkgs.k8s.io's does) */
export interface TestDeb { name: string; version: string; depends?: string; tree: 'docker' | 'kube'; arch?: string }

export interface AptMirror {
  root: string;
  fingerprint: string;
  gnupgHome: string;
  /** sign (or re-sign) the trees after a change */
  index(): void;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function buildAptMirror(dir: string, debs: TestDeb[], opts: { minor?: string; codename?: string } = {}): AptMirror {
  const minor = opts.minor ?? 'v1.30';
  const codename = opts.codename ?? 'bookworm';
  const gnupgHome = mkdtempSync(join(tmpdir(), 'kb-bundle-gpg-'));
  const gpg = ['--batch', '--homedir', gnupgHome];
  run('gpg', [...gpg, '--passphrase', '', '--quick-gen-key', 'kbootstrap bundle test <bundle@test.invalid>', 'ed25519', 'sign', 'never']);
  const fingerprint = run('gpg', [...gpg, '--with-colons', '--list-keys']).split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
  const key = run('gpg', [...gpg, '--armor', '--export']);
  const docker = join(dir, 'docker-ce', 'linux', 'debian');
  const kube = join(dir, 'kubernetes-new', 'core', 'stable', minor, 'deb');
  mkdirSync(join(docker, 'pool', 'stable', 'amd64'), { recursive: true });
  mkdirSync(kube, { recursive: true });
  writeFileSync(join(docker, 'gpg'), key);
  writeFileSync(join(kube, 'Release.key'), key);
  const work = mkdtempSync(join(tmpdir(), 'kb-bundle-debs-'));
  for (const d of debs) {
    const arch = d.arch ?? 'amd64';
    const root = join(work, `${d.name}-${d.version}-${arch}`);
    mkdirSync(join(root, 'DEBIAN'), { recursive: true });
    mkdirSync(join(root, 'usr', 'share', 'doc', d.name), { recursive: true });
    writeFileSync(join(root, 'usr', 'share', 'doc', d.name, 'README'), `${d.name} ${d.version}: a package of the bundle tests\n`);
    writeFileSync(join(root, 'DEBIAN', 'control'), [`Package: ${d.name}`, `Version: ${d.version}`, `Architecture: ${arch}`, 'Maintainer: kb <kb@test.invalid>',
      ...(d.depends ? [`Depends: ${d.depends}`] : []), `Description: ${d.name} for the bundle tests`, ''].join('\n'));
    const out = d.tree === 'docker' ? join(docker, 'pool', 'stable', 'amd64') : kube;
    run('dpkg-deb', ['--build', '--root-owner-group', '-Zgzip', root, join(out, `${d.name}_${d.version.replace(/^\d+:/, '')}_${arch}.deb`)]);
  }
  rmSync(work, { recursive: true, force: true });
  const sign = (rel: string) => {
    run('gpg', [...gpg, '--yes', '--clearsign', '-o', join(rel, 'InRelease'), join(rel, 'Release')]);
  };
  const index = () => {
    const bin = join(docker, 'dists', codename, 'stable', 'binary-amd64');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'Packages'), run('apt-ftparchive', ['packages', 'pool'], { cwd: docker }));
    run('gzip', ['-kf9', join(bin, 'Packages')]);
    const rel = join(docker, 'dists', codename);
    writeFileSync(join(rel, 'Release'), run('apt-ftparchive', ['-o', `APT::FTPArchive::Release::Codename=${codename}`, '-o', 'APT::FTPArchive::Release::Components=stable', 'release', '.'], { cwd: rel }));
    sign(rel);
    writeFileSync(join(kube, 'Packages'), run('apt-ftparchive', ['packages', '.'], { cwd: kube }));
    run('gzip', ['-kf9', join(kube, 'Packages')]);
    writeFileSync(join(kube, 'Release'), run('apt-ftparchive', ['release', '.'], { cwd: kube }).split('\n').filter((l) => !/ (InRelease|Release)$/.test(l)).join('\n'));
    sign(kube);
  };
  index();
  run('gpgconf', ['--homedir', gnupgHome, '--kill', 'gpg-agent']);
  return { root: dir, fingerprint, gnupgHome, index };
}

/** Serve `root` on 127.0.0.1:port with the lab's repository server; its access log lines arrive in `log`. */
export async function serveMirror(root: string, port: number, procs: ChildProcess[]): Promise<{ url: string; log: string[] }> {
  const log: string[] = [];
  const p = spawn(process.execPath, [join(import.meta.dirname, '..', 'lab', 'vm', 'repo-server.mjs'), root, '127.0.0.1', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(p);
  p.stdout!.on('data', (b: Buffer) => log.push(...b.toString().split('\n').filter(Boolean)));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => { const s = connect({ host: '127.0.0.1', port }); s.on('connect', () => { s.destroy(); resolve(true); }); s.on('error', () => resolve(false)); });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the repository server did not start on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${port}`, log };
}
