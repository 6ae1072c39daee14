/**
 * The VM lab's package repository: signed apt trees served over plain HTTP on the bridge address
 * (repo-server.mjs), laid out like the upstream trees kbootstrap's templates point at with
 * `packageMirror: http://<bridge>:<port>` (src/os/mirrors.ts, src/os/debian.ts):
 *   /debian (dists/bookworm, dists/trixie)     Debian's own containerd, runc, containernetworking-plugins (and kblab-sim)
 *                                              of each release (the VMs' distribution archive: they reach no Debian mirror)
 *   /docker-ce/linux/debian (gpg, dists/bookworm/stable, dists/trixie/stable)   containerd.io, docker-ce, docker-ce-cli
 *                                              (trixie: containerd.io only; cri-dockerd has no package for Debian 13)
 *   /cri-dockerd/<release file>.deb            cri-dockerd (cluster.criDockerd.url)
 *   /kubernetes-new/core/stable/v1.30/deb (Release.key, flat)  kubeadm kubelet kubectl cri-tools kubernetes-cni
 * Every tree is signed (InRelease, Release.gpg) with the lab's archive key, which the image trusts
 * for /debian and kbootstrap fetches for the other two like any third-party key.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_DIR, REPO } from '../lab.js';
import { cacheRoot, ensureArchiveDebs, VM_OSES, type VmImage, type VmOs } from './image.js';

const VM_DIR = dirname(fileURLToPath(import.meta.url));
/** The repository's port on the bridge address; $KBLAB_REPO_PORT moves it. */
export const REPO_PORT = Number(process.env.KBLAB_REPO_PORT ?? 8080);
const pidFile = () => join(LAB_DIR, 'repo-server.pid');

/** The Kubernetes minor the lab serves, with pkgs.k8s.io's version strings for it (apt-cache madison on pkgs.k8s.io/core:/stable:/v1.30/deb). */
export const KUBE = { minor: 'v1.30', version: '1.30.4-1.1', criTools: '1.30.1-1.1', cni: '1.4.0-1.1' };

function run(cmd: string, args: string[], opts: { cwd?: string; out?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  if (opts.out) writeFileSync(opts.out, r.stdout);
  return r.stdout;
}

interface DebSpec {
  name: string;
  version: string;
  description: string;
  depends?: string;
  recommends?: string;
  section?: string;
  /** files: path in the package -> content (string) or a symlink target ({ link }). */
  files: Record<string, string | { link: string } | { mode: number; text: string }>;
  postinst?: string;
  prerm?: string;
  postrm?: string;
}

function buildDeb(spec: DebSpec, outDir: string, work: string): void {
  const root = join(work, spec.name);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  for (const [path, c] of Object.entries(spec.files)) {
    const f = join(root, path);
    mkdirSync(dirname(f), { recursive: true });
    if (typeof c === 'string') writeFileSync(f, c);
    else if ('link' in c) symlinkSync(c.link, f);
    else { writeFileSync(f, c.text); chmodSync(f, c.mode); }
  }
  const control = [`Package: ${spec.name}`, `Version: ${spec.version}`, 'Architecture: amd64', 'Maintainer: kblab <kblab@lab.invalid>',
    `Section: ${spec.section ?? 'admin'}`, 'Priority: optional', ...(spec.depends ? [`Depends: ${spec.depends}`] : []),
    ...(spec.recommends ? [`Recommends: ${spec.recommends}`] : []), `Description: ${spec.description}`, ''].join('\n');
  writeFileSync(join(root, 'DEBIAN', 'control'), control);
  for (const s of ['postinst', 'prerm', 'postrm'] as const) {
    if (spec[s]) { writeFileSync(join(root, 'DEBIAN', s), `#!/bin/sh\nset -e\n${spec[s]}`); chmodSync(join(root, 'DEBIAN', s), 0o755); }
  }
  run('dpkg-deb', ['--build', '--root-owner-group', '-Zgzip', root, join(outDir, `${spec.name}_${spec.version}_amd64.deb`)]);
}

/** The Docker Engine version the lab's docker-ce carries (Debian 12's docker.io), in Docker's version scheme (5:<version>~<n>-0~debian-<codename>). */
export const DOCKER = { debVersion: '5:20.10.24~3-0~debian-bookworm' };
/** cri-dockerd as kbootstrap fetches it (src/os/debian.ts criDockerdInstall): <url>/cri-dockerd_<v>.3-0.debian-bookworm_amd64.deb. */
export const CRI_DOCKERD = { version: '0.3.16', file: 'cri-dockerd_0.3.16.3-0.debian-bookworm_amd64.deb', debVersion: '0.3.16~3-0~debian-bookworm' };

/**
 * Debian's docker.io split the way Docker's packages are: docker-ce (dockerd, docker-proxy, the units,
 * docker.io's own maintainer scripts: the docker group, the service enabled) and docker-ce-cli
 * (/usr/bin/docker). The lab cannot make a docker-ce that depends on docker.io: docker.io declares
 * `Conflicts: docker-ce, docker-ce-cli` (apt-cache show docker.io), so its real files are repackaged.
 */
function repackDockerIo(debs: string, outDir: string, work: string): void {
  const src = readdirSync(debs).find((f) => f.startsWith('docker.io_'));
  if (!src) throw new Error(`no docker.io .deb in ${debs}`);
  const cliFiles = (rel: string) => rel === 'usr/bin/docker' || rel.startsWith('usr/share/bash-completion/') || rel.startsWith('usr/share/fish/') || rel.startsWith('usr/share/zsh/') || rel.startsWith('usr/share/man/man1/docker');
  for (const [name, keep, depends] of [
    ['docker-ce', (rel: string) => !cliFiles(rel), (d: string) => d.replace(/containerd \([^)]*\)/, 'containerd.io (>= 1.6.4)') + ', docker-ce-cli'],
    ['docker-ce-cli', cliFiles, () => 'libc6 (>= 2.34)'],
  ] as const) {
    const root = join(work, name);
    rmSync(root, { recursive: true, force: true });
    run('dpkg-deb', ['-R', join(debs, src), root]);
    const walk = (d: string, rel: string): string[] => readdirSync(join(d, rel), { withFileTypes: true }).flatMap((e) => {
      const r = rel ? `${rel}/${e.name}` : e.name;
      return e.isDirectory() ? (r === 'DEBIAN' ? [] : walk(d, r)) : [r];
    });
    for (const rel of walk(root, '')) if (!keep(rel)) rmSync(join(root, rel));
    const ctl = join(root, 'DEBIAN', 'control');
    const fields = readFileSync(ctl, 'utf8').replace(/\n /g, '\u0000').split('\n').filter(Boolean);
    const out = fields.filter((f) => !/^(Source|Conflicts|Built-Using|Recommends|Suggests|Installed-Size|Pre-Depends):/.test(f)).map((f) => {
      if (f.startsWith('Package:')) return `Package: ${name}`;
      if (f.startsWith('Version:')) return `Version: ${DOCKER.debVersion}`;
      if (f.startsWith('Depends:')) return `Depends: ${depends(f.slice('Depends: '.length))}`;
      return f;
    });
    writeFileSync(ctl, out.join('\n').split('\u0000').join('\n ') + '\n');
    // the CLI package gets no maintainer scripts: they manage the daemon's units and group
    const kept = walk(root, '');
    const md5 = readFileSync(join(root, 'DEBIAN', 'md5sums'), 'utf8').split('\n').filter((l) => kept.includes(l.slice(34)));
    writeFileSync(join(root, 'DEBIAN', 'md5sums'), md5.map((l) => l + '\n').join(''));
    const conf = join(root, 'DEBIAN', 'conffiles');
    if (existsSync(conf)) writeFileSync(conf, readFileSync(conf, 'utf8').split('\n').filter((l) => l && kept.includes(l.replace(/^\//, ''))).map((l) => l + '\n').join(''));
    if (name === 'docker-ce-cli') for (const sc of ['preinst', 'postinst', 'prerm', 'postrm', 'conffiles']) rmSync(join(root, 'DEBIAN', sc), { force: true });
    run('dpkg-deb', ['--build', '--root-owner-group', '-Zgzip', root, join(outDir, `${name}_${DOCKER.debVersion.replace(/^\d+:/, '')}_amd64.deb`)]);
    rmSync(root, { recursive: true, force: true });
  }
}

/** Index and sign one tree: Packages for the .debs under `pool` (relative to `base`), Release, InRelease, Release.gpg. */
function indexTree(base: string, pool: string, distDir: string, image: VmImage, release: Record<string, string>): void {
  const packagesDir = join(base, distDir, release.binaryDir ?? '');
  mkdirSync(packagesDir, { recursive: true });
  run('apt-ftparchive', ['packages', pool], { cwd: base, out: join(packagesDir, 'Packages') });
  run('gzip', ['-kf9', join(packagesDir, 'Packages')]);
  const opts = Object.entries(release).filter(([k]) => k !== 'binaryDir').flatMap(([k, v]) => ['-o', `APT::FTPArchive::Release::${k}=${v}`]);
  const rel = join(base, distDir);
  const text = run('apt-ftparchive', [...opts, 'release', '.'], { cwd: rel });
  writeFileSync(join(rel, 'Release'), text);
  const gpg = ['--batch', '--yes', '--homedir', image.gnupgHome];
  run('gpg', [...gpg, '--clearsign', '-o', join(rel, 'InRelease'), join(rel, 'Release')]);
  run('gpg', [...gpg, '-abs', '-o', join(rel, 'Release.gpg'), join(rel, 'Release')]);
}

function armoredKey(image: VmImage): string {
  return run('gpg', ['--batch', '--homedir', image.gnupgHome, '--armor', '--export']);
}

/** kubelet.service as the pkgs.k8s.io kubelet package ships it (kubernetes/release cmd/krel/templates/latest/kubelet/kubelet.service). */
const KUBELET_SERVICE = `[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
`;

/**
 * The kubeadm package's drop-in (kubernetes/release cmd/krel/templates/latest/kubeadm/kubeadm.spec installs
 * 10-kubeadm.conf into %{_unitdir}/kubelet.service.d; its text as documented in
 * https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/kubelet-integration/).
 */
const KUBEADM_DROPIN = `# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`;

/** cri-docker.service as cri-dockerd 0.3.x ships it (Mirantis/cri-dockerd packaging/systemd/cri-docker.service). */
const CRI_DOCKER_SERVICE = `[Unit]
Description=CRI Interface for Docker Application Container Engine
Documentation=https://docs.mirantis.com
BindsTo=containerd.service
After=network-online.target firewalld.service containerd.service docker.service
Wants=network-online.target
Requires=cri-docker.socket

[Service]
Type=notify
ExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd:// --network-plugin=
ExecReload=/bin/kill -s HUP $MAINPID
TimeoutSec=0
RestartSec=2
Restart=always
StartLimitBurst=3
StartLimitInterval=60s
LimitNOFILE=infinity
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
Delegate=yes
KillMode=process

[Install]
WantedBy=multi-user.target
`;

/** cri-docker.socket (packaging/systemd/cri-docker.socket, with the cri-dockerd.sock name of Mirantis/cri-dockerd#26). */
const CRI_DOCKER_SOCKET = `[Unit]
Description=CRI Docker Socket for the API
PartOf=cri-docker.service

[Socket]
ListenStream=%t/cri-dockerd.sock
SocketMode=0660
SocketUser=root
SocketGroup=docker

[Install]
WantedBy=sockets.target
`;

/**
 * The simulated cri-dockerd: the simulation checks its arguments and the real Docker daemon; as a
 * daemon (--container-runtime-endpoint) it then becomes a process that tells systemd it is ready
 * (the unit is Type=notify, and only the main process may notify: systemd.service(5) NotifyAccess=main)
 * and stays, holding the socket systemd passed it. perl-base's Socket sends the datagram; exec keeps the pid.
 */
const criDockerdWrapper = { mode: 0o755, text: `#!/bin/sh
# kblab: simulated cri-dockerd (package cri-dockerd)
/usr/bin/node /usr/lib/kblab/lab/sim/main.mjs cri-dockerd "$@" || exit
case " $* " in *" --container-runtime-endpoint "*|*" --container-runtime-endpoint="*) ;; *) exit 0 ;; esac
exec perl -MSocket -e 'if (my $p = $ENV{NOTIFY_SOCKET}) { $p =~ s/^@/\\0/; socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!"; send($s, "READY=1", 0, pack_sockaddr_un($p)) or die "sd_notify: $!"; } sleep;'
` };

/**
 * The kubelet crash-loops under real systemd from its install until kubeadm writes its configuration (Restart=always,
 * RestartSec=10): a start of the Node.js simulation costs seconds of emulated CPU, the real kubelet's a fraction of one,
 * so three VMs spent a good part of a core on it for the whole VM test file. While the configuration is missing, this
 * sh fast path exits as the simulation does (sim/runtime.mjs kubelet: the same message, exit 1, the same call log line).
 */
const kubeletWrapper = { mode: 0o755, text: readFileSync(join(VM_DIR, 'kubelet-wrapper.sh'), 'utf8') };

const simWrapper = (prog: string) => ({ mode: 0o755, text: `#!/bin/sh\n# kblab: simulated ${prog} (package kblab-sim)\nexec /usr/bin/node /usr/lib/kblab/lab/sim/main.mjs ${prog} "$@"\n` });

/**
 * containerd.io's version for the stand-in of a release: Debian's containerd version without its
 * ~ds1 and Debian revision, as Docker numbers its builds (1.6.20~ds1-1+b1 -> 1.6.20-1).
 */
function containerdIoVersion(debs: string): string {
  const f = readdirSync(debs).find((x) => x.startsWith('containerd_'));
  const v = f ? run('dpkg-deb', ['-f', join(debs, f), 'Version']).trim() : '';
  const m = /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(v);
  if (!m) throw new Error(`no Debian containerd .deb in ${debs}`);
  return `${m[1]}-1`;
}

/** The .debs the lab builds: containerd.io and the Kubernetes packages. */
function labDebs(debs: string): DebSpec[] {
  const simFiles: DebSpec['files'] = {};
  const simDir = join(REPO, 'test', 'lab', 'sim');
  for (const f of readdirSync(simDir).filter((x) => x.endsWith('.mjs'))) simFiles[`usr/lib/kblab/lab/sim/${f}`] = readFileSync(join(simDir, f), 'utf8');
  // data files the simulations read (e.g. containerd's default config for the kubeadm preflight)
  for (const f of readdirSync(join(simDir, 'fast'))) simFiles[`usr/lib/kblab/lab/sim/fast/${f}`] = readFileSync(join(simDir, 'fast', f), 'utf8');
  // the simulations' one dependency, beside them where Node's resolution finds it
  const yamlDir = join(REPO, 'node_modules', 'yaml');
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}/${e.name}`);
      else if (e.isFile()) simFiles[`usr/lib/kblab/lab/node_modules/yaml${rel}/${e.name}`] = readFileSync(join(d, e.name), 'utf8');
    }
  };
  walk(yamlDir, '');
  // how the sims know they run on a VM, where systemd, dpkg and the kernel are real (sim/platform.mjs)
  simFiles['usr/lib/kblab/vm-host'] = 'kblab-sim: this host is a lab VM; the simulations read systemd, dpkg and the kernel (test/lab/sim/platform.mjs)\n';
  // Debian's CNI plugins live in /usr/lib/cni; kubelet and the CNI manifests look in /opt/cni/bin
  const cniPlugins = readdirSync(debs).filter((f) => f.startsWith('containernetworking-plugins_'))
    .flatMap((f) => run('dpkg-deb', ['-c', join(debs, f)]).split('\n'))
    .map((l) => /\.\/usr\/lib\/cni\/([^/\s]+)$/.exec(l)?.[1]).filter((x): x is string => !!x);
  return [
    {
      name: 'kblab-sim', version: '1.0', description: "kblab: the lab's simulated Kubernetes programs (test/lab/sim)", depends: 'nodejs', files: simFiles,
    },
    {
      name: 'kubelet', version: KUBE.version, section: 'net', description: 'Node agent for Kubernetes clusters',
      // kubernetes/release metadata.yaml (kubelet >= 1.28.0: kubernetes-cni >= 1.2.0), kubelet.spec (mount, util-linux; Recommends iptables)
      depends: 'kubernetes-cni (>= 1.2.0), mount, util-linux, kblab-sim', recommends: 'iptables (>= 1.8.4)',
      files: {
        'usr/bin/kubelet': kubeletWrapper, 'lib/systemd/system/kubelet.service': KUBELET_SERVICE,
        'etc/default/kubelet': 'KUBELET_EXTRA_ARGS=\n', 'var/lib/kubelet/.kubelet-keep': '', 'etc/kubernetes/manifests/.kubelet-keep': '',
      },
      // %systemd_post kubelet.service: enabled and started at install; it crash-loops until kubeadm writes its config,
      // as the install guide says ("The kubelet is now restarting every few seconds")
      postinst: 'if [ "$1" = configure ] && [ -d /run/systemd/system ]; then systemctl daemon-reload; systemctl enable kubelet.service >/dev/null 2>&1 || true; systemctl start kubelet.service || true; fi\n',
      prerm: 'if [ -d /run/systemd/system ]; then systemctl stop kubelet.service || true; fi\n',
      postrm: 'if [ "$1" = purge ] || [ "$1" = remove ]; then systemctl disable kubelet.service >/dev/null 2>&1 || true; fi\n',
    },
    {
      name: 'kubeadm', version: KUBE.version, description: 'Command-line utility for administering a Kubernetes cluster',
      // kubernetes/release metadata.yaml: kubeadm >= 1.30.0 < 1.32.0 depends on cri-tools >= 1.30.0 only
      depends: 'cri-tools (>= 1.30.0), kblab-sim',
      files: { 'usr/bin/kubeadm': simWrapper('kubeadm'), 'lib/systemd/system/kubelet.service.d/10-kubeadm.conf': KUBEADM_DROPIN },
      postinst: 'if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n',
    },
    { name: 'kubectl', version: KUBE.version, description: 'Command-line utility for interacting with a Kubernetes cluster', depends: 'kblab-sim', files: { 'usr/bin/kubectl': simWrapper('kubectl') } },
    { name: 'cri-tools', version: KUBE.criTools, description: 'Command-line utility for interacting with a container runtime', depends: 'kblab-sim', files: { 'usr/bin/crictl': simWrapper('crictl') } },
    {
      // Debian ships no cri-dockerd: the program is the lab's simulation; the units are cri-dockerd's own
      // (Mirantis/cri-dockerd packaging/systemd), so real systemd starts it through its socket like on a real host
      name: 'cri-dockerd', version: CRI_DOCKERD.debVersion, description: 'CRI interface for Docker (kblab: simulated daemon, real units)', depends: 'kblab-sim',
      files: { 'usr/bin/cri-dockerd': criDockerdWrapper, 'lib/systemd/system/cri-docker.service': CRI_DOCKER_SERVICE, 'lib/systemd/system/cri-docker.socket': CRI_DOCKER_SOCKET },
      postinst: 'if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n',
    },
    {
      name: 'kubernetes-cni', version: KUBE.cni, section: 'net', description: 'Binaries required to provision kubernetes container networking (kblab: Debian containernetworking-plugins)',
      depends: 'containernetworking-plugins', files: Object.fromEntries(cniPlugins.map((p) => [`opt/cni/bin/${p}`, { link: `/usr/lib/cni/${p}` }])),
    },
  ];
}

/** Fingerprints of the keys the repository serves (its Docker tree's gpg file): the lab inventory trusts them. */
export function repoKeyFingerprints(): string[] {
  const home = mkdtempSync(join(tmpdir(), 'kblab-gpg-'));
  try {
    const out = run('gpg', ['--batch', '--homedir', home, '--show-keys', '--with-colons', join(LAB_DIR, 'repo', 'docker-ce', 'linux', 'debian', 'gpg')]);
    return out.split('\n').filter((l) => l.startsWith('fpr:')).map((l) => l.split(':')[9]!).filter((f, i, all) => all.indexOf(f) === i);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** sha256 of cri-dockerd's release file as the repository serves it (the inventory's cluster.criDockerd.sha256). */
export function repoCriDockerdSha256(): string {
  return createHash('sha256').update(readFileSync(join(LAB_DIR, 'repo', 'cri-dockerd', CRI_DOCKERD.file))).digest('hex');
}

/** Docker's containerd.io bundles containerd and runc; the lab's stands in for it with the release's real Debian ones. */
const containerdIo = (debs: string): DebSpec => ({
  name: 'containerd.io', version: containerdIoVersion(debs), description: 'An open and reliable container runtime (kblab: Debian containerd and runc)',
  depends: 'containerd, runc', files: {},
});

/**
 * Lay out and sign every tree under LAB_DIR/repo, for the releases of `images` (Debian's packages of
 * each in `debs`). Every image trusts the same lab archive key (image.ts ensureArchiveKey).
 */
export function buildRepo(images: VmImage[], debs: Partial<Record<VmOs, string>>): string {
  const root = join(LAB_DIR, 'repo');
  rmSync(root, { recursive: true, force: true });
  // the trees depend only on their inputs: built once per set of inputs and copied from the cache after that (a build
  // took 31 s of CPU, 73 s on a loaded machine, 2026-12-07; the VM tests start the lab twice per run)
  const cached = join(cacheRoot(), 'repos', repoInputsHash(images, debs));
  if (existsSync(cached)) {
    run('cp', ['-a', cached, root]);
    return root;
  }
  buildRepoTrees(images, debs, root);
  const tmp = `${cached}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(cached), { recursive: true });
  run('cp', ['-a', root, tmp]);
  // another lab may have built the same trees meanwhile: either copy will do
  try { renameSync(tmp, cached); } catch { rmSync(tmp, { recursive: true, force: true }); }
  pruneRepoCache(cached);
  return root;
}

/**
 * What the trees are made of: the lab code that lays them out and the simulations kblab-sim packages (test/lab/vm,
 * test/lab/sim, the yaml module beside them), each image's recipe hash (its signing key comes with the image) and
 * the Debian packages of each release (names and sizes: they are versioned, fetched once).
 */
function repoInputsHash(images: VmImage[], debs: Partial<Record<VmOs, string>>): string {
  const h = createHash('sha256');
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? files(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []);
  for (const f of [...files(VM_DIR), ...files(join(REPO, 'test', 'lab', 'sim')), join(REPO, 'node_modules', 'yaml', 'package.json')].sort()) h.update(`${relative(REPO, f)}\0`).update(readFileSync(f)).update('\0');
  for (const i of images) {
    h.update(`image ${i.os} ${i.hash}\0`);
    const d = debs[i.os];
    if (d) for (const f of readdirSync(d).sort()) h.update(`${f} ${statSync(join(d, f)).size}\0`);
  }
  return h.digest('hex').slice(0, 16);
}

/** Keep the three newest cached repositories (each about 120 MB). */
function pruneRepoCache(keep: string): void {
  const dir = dirname(keep);
  const old = readdirSync(dir).filter((f) => !f.endsWith('.tmp')).map((f) => join(dir, f)).filter((f) => f !== keep)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs).slice(2);
  for (const f of old) rmSync(f, { recursive: true, force: true });
}

function buildRepoTrees(images: VmImage[], debs: Partial<Record<VmOs, string>>, root: string): void {
  const image = images[0]!;
  const oses = images.map((i) => i.os);
  const debsOfOs = (os: VmOs) => { const d = debs[os]; if (!d) throw new Error(`no Debian packages for ${os}`); return d; };
  const work = join(LAB_DIR, 'repo-build');
  mkdirSync(work, { recursive: true });
  const key = armoredKey(image);

  const built = join(work, 'debs');
  mkdirSync(built, { recursive: true });
  // the release-independent packages (kblab-sim, the Kubernetes packages, cri-dockerd) from the first release's Debian packages
  for (const spec of labDebs(debsOfOs(image.os))) buildDeb(spec, built, work);
  const debsOf = (names: string[], dir = built) => readdirSync(dir).filter((f) => names.some((n) => f.startsWith(`${n}_`)));

  const deb = join(root, 'debian');
  const docker = join(root, 'docker-ce', 'linux', 'debian');
  mkdirSync(docker, { recursive: true });
  writeFileSync(join(docker, 'gpg'), key);
  for (const os of oses) {
    const suite = VM_OSES[os].suite;
    const osDebs = debsOfOs(os);
    // Debian's archive layout: pool/ and dists/<suite>/main/binary-amd64, one pool per release. The lab's own kblab-sim (the
    // simulations the kube packages and cri-dockerd run) is here too: cri-dockerd is installed from its
    // release file before any Kubernetes repository exists on the host, and still needs it
    const pool = join(deb, 'pool', suite);
    mkdirSync(pool, { recursive: true });
    for (const f of readdirSync(osDebs).filter((x) => x.endsWith('.deb'))) copyFileSync(join(osDebs, f), join(pool, f));
    for (const f of debsOf(['kblab-sim'])) copyFileSync(join(built, f), join(pool, f));
    indexTree(deb, `pool/${suite}`, `dists/${suite}`, image, { Origin: 'kblab', Label: 'Debian', Suite: suite, Codename: suite, Components: 'main', Architectures: 'amd64', binaryDir: 'main/binary-amd64' });

    // Docker's tree: download.docker.com/linux/debian/{gpg, dists/<codename>/stable/binary-amd64, pool}; the
    // containerd.io stand-in of each release depends on that release's containerd and runc
    const dpool = join(docker, 'pool', suite, 'stable', 'amd64');
    mkdirSync(dpool, { recursive: true });
    const osBuilt = join(work, `debs-${suite}`);
    mkdirSync(osBuilt, { recursive: true });
    buildDeb(containerdIo(osDebs), osBuilt, work);
    // Docker on Debian 12 only: cri-dockerd publishes no package for Debian 13
    if (os === 'debian12') repackDockerIo(osDebs, osBuilt, work);
    for (const f of debsOf(['containerd.io', 'docker-ce', 'docker-ce-cli'], osBuilt)) copyFileSync(join(osBuilt, f), join(dpool, f));
    indexTree(docker, `pool/${suite}`, `dists/${suite}`, image, { Origin: 'Docker', Label: 'Docker CE', Suite: suite, Codename: suite, Components: 'stable', Architectures: 'amd64', binaryDir: 'stable/binary-amd64' });
  }

  // cri-dockerd's release files, as the inventory's cluster.criDockerd.url points at them (<url>/<file>)
  mkdirSync(join(root, 'cri-dockerd'), { recursive: true });
  copyFileSync(join(built, debsOf(['cri-dockerd'])[0]!), join(root, 'cri-dockerd', CRI_DOCKERD.file));

  // pkgs.k8s.io's per-minor flat repository ("deb [signed-by=…] …/deb/ /"): Release.key, InRelease, Packages beside the .debs
  const kube = join(root, 'kubernetes-new', 'core', 'stable', KUBE.minor, 'deb');
  mkdirSync(kube, { recursive: true });
  writeFileSync(join(kube, 'Release.key'), key);
  for (const f of debsOf(['kubeadm', 'kubelet', 'kubectl', 'cri-tools', 'kubernetes-cni', 'kblab-sim'])) copyFileSync(join(built, f), join(kube, f));
  indexTree(kube, '.', '.', image, { Origin: 'obs://build.opensuse.org/isv:kubernetes:core:stable:v1.30/deb', Label: 'isv:kubernetes:core:stable:v1.30' });
  rmSync(work, { recursive: true, force: true });
  // signing started a gpg-agent for the key's home: the lab leaves no process behind
  run('gpgconf', ['--homedir', image.gnupgHome, '--kill', 'gpg-agent']);
}

function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/** Build the trees for the releases of `images` and serve them on address:REPO_PORT (the bridge address only: never a public interface). */
export async function startRepo(images: VmImage[], address: string, say: (m: string) => void): Promise<{ url: string; pid: number }> {
  const root = buildRepo(images, Object.fromEntries(images.map((i) => [i.os, ensureArchiveDebs(i.os, say)])));
  const log = openSync(join(LAB_DIR, 'repo-server.log'), 'a');
  const child = spawn(process.execPath, [join(VM_DIR, 'repo-server.mjs'), root, address, String(REPO_PORT)], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(pidFile(), String(child.pid));
  const deadline = Date.now() + 10_000;
  while (!(await portAnswers(address, REPO_PORT))) {
    if (Date.now() > deadline) throw new Error(`the lab repository did not start on ${address}:${REPO_PORT} (${join(LAB_DIR, 'repo-server.log')})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = `http://${address}:${REPO_PORT}`;
  say(`package repository: ${url} (${root})`);
  return { url, pid: child.pid! };
}

/** Stop this lab directory's repository server (checked by its command line, so a reused pid is never killed). */
export function stopRepo(): void {
  if (!existsSync(pidFile())) return;
  const pid = Number(readFileSync(pidFile(), 'utf8').trim());
  try {
    if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('repo-server.mjs')) process.kill(pid, 'SIGKILL');
  } catch { /* gone */ }
  rmSync(pidFile(), { force: true });
}

