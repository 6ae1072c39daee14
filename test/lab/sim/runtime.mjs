// Simulated container runtimes and network tools: containerd, docker,
// cri-dockerd, crictl, ipvsadm, ipset, iptables, conntrack, kubelet.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { STATE, fail, readText, exists, units, readJson, writeJson, withLock } from './lib.mjs';
import { db } from './packages.mjs';
import { ON_VM, containerdCri } from './platform.mjs';

/** `containerd config default` of containerd 1.6/1.7: config version 2 (shared with the sh fast path). */
export const CONTAINERD_DEFAULT = readFileSync(new URL('./fast/containerd-default.toml', import.meta.url), 'utf8');
/**
 * `containerd config default` of containerd.io 2.1.4 (Docker's package everywhere but EL7):
 * config version 3, and no SystemdCgroup line under the runc options (containerd/containerd#12101,
 * fixed by #12244 only in later releases), pause 3.10 and an empty registry config_path. Text as
 * printed by 2.1.4 in a public install guide (the tables after the runc options are left out:
 * nothing kbootstrap reads or writes lives there).
 */
export const CONTAINERD_DEFAULT_V3 = readFileSync(new URL('./fast/containerd-default-v3.toml', import.meta.url), 'utf8');

export function containerd(args) {
  const version = db()['containerd.io']?.version ?? '2.1.4';
  if (args[0] === 'config' && args[1] === 'default' && args.length === 2) return { stdout: version.startsWith('2.') ? CONTAINERD_DEFAULT_V3 : CONTAINERD_DEFAULT, code: 0 };
  if (args[0] === '--version' || args[0] === '-v') return { stdout: `containerd containerd.io ${version} 7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c\n`, code: 0 };
  if (args[0] === 'config' && args[1] === 'dump') return { stdout: readText('/etc/containerd/config.toml'), code: 0 };
  fail(1, `containerd: the lab simulates "containerd config default", "config dump" and "--version" (the daemon itself is systemctl state)`);
}

export function dockerd(args) {
  if (args[0] === '--version') return { stdout: 'Docker version 27.3.1, build ce12230\n', code: 0 };
  fail(1, 'dockerd: the lab runs the daemon as systemctl state only');
}

export function docker(args) {
  const active = units()['docker.service']?.active;
  if (args[0] === '--version') return { stdout: 'Docker version 27.3.1, build ce12230\n', code: 0 };
  if (!active) fail(1, 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
  if (args[0] === 'info') {
    const cfg = readJson('/etc/docker/daemon.json', {});
    const driver = (cfg['exec-opts'] ?? []).includes('native.cgroupdriver=systemd') ? 'systemd' : 'cgroupfs';
    return { stdout: `Server Version: 27.3.1\n Cgroup Driver: ${driver}\n Registry Mirrors:\n${(cfg['registry-mirrors'] ?? []).map((m) => `  ${m}/\n`).join('')}`, code: 0 };
  }
  if (args[0] === 'version') return { stdout: 'Client: Docker Engine - Community\n Version: 27.3.1\nServer: Docker Engine - Community\n Version: 27.3.1\n', code: 0 };
  if (args[0] === 'ps') return { stdout: 'CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS   NAMES\n', code: 0 };
  // `docker images` / `docker image ls`: REPOSITORY, TAG, IMAGE ID, CREATED, SIZE, Docker Hub's images by their short names
  // (docker/cli cli/command/image/list.go and formatter/image.go, read 2026-12-07)
  if (args[0] === 'images' || (args[0] === 'image' && (args[1] === 'ls' || args[1] === 'list'))) {
    return { stdout: cols('REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE') + heldImages().map((r) => { const [repo, tag] = split(dockerName(r)); return cols(repo, tag, imageId(r).slice(0, 12), '2 weeks ago', '10MB'); }).join(''), code: 0 };
  }
  if (args[0] === 'pull' || (args[0] === 'image' && args[1] === 'pull')) {
    const ref = args[args[0] === 'pull' ? 1 : 2];
    if (!ref) fail(1, '"docker pull" requires exactly 1 argument.\nSee \'docker pull --help\'.\n\nUsage:  docker pull [OPTIONS] NAME[:TAG|@DIGEST]\n\nDownload an image from a registry');
    const [, tag] = split(dockerName(ref));
    const full = pullImage(ref, 'docker');
    return { stdout: `${tag}: Pulling from ${split(dockerName(ref))[0]}\nDigest: sha256:${imageId(full)}\nStatus: Downloaded newer image for ${dockerName(full)}\n${full}\n`, code: 0 };
  }
  fail(1, `docker: '${args[0]}' is not a docker command.\nSee 'docker --help'`);
}

export function criDockerd(args) {
  if (args[0] === '--version') return { stdout: 'cri-dockerd 0.3.16 (7119864)\n', code: 0 };
  if (ON_VM && args.some((a) => a.startsWith('--container-runtime-endpoint'))) {
    // on a VM the daemon is real systemd's: cri-dockerd first connects to dockerd and exits when it cannot
    // (its wrapper in test/lab/vm/repo.ts then stays as the daemon)
    if (!exists('/run/docker.sock')) fail(1, 'level=fatal msg="Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"');
    return { code: 0 };
  }
  fail(1, 'cri-dockerd: the lab runs the daemon as systemctl state only');
}

/** Is a CRI endpoint serving? Used by crictl and kubeadm's preflight. */
export function criStatus(endpoint) {
  const path = endpoint.replace(/^unix:\/\//, '').replace(/^\/var\/run\//, '/run/');
  const u = units();
  if (ON_VM && path === '/run/containerd/containerd.sock') return containerdCri(path);
  if (path === '/run/containerd/containerd.sock') {
    if (!u['containerd.service']?.active || !exists(path)) return { ok: false, why: `dial unix ${path}: connect: no such file or directory`, code: 'Unavailable' };
    if (readText(`${STATE}/containerd-cri`).trim() !== 'on') return { ok: false, why: 'unknown service runtime.v1.RuntimeService', code: 'Unimplemented' };
    return { ok: true };
  }
  if (path === '/run/cri-dockerd.sock') {
    if (!u['cri-docker.service']?.active || !exists(path)) return { ok: false, why: `dial unix ${path}: connect: no such file or directory`, code: 'Unavailable' };
    if (!u['docker.service']?.active) return { ok: false, why: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock', code: 'Unknown' };
    return { ok: true };
  }
  return { ok: false, why: `dial unix ${path}: connect: no such file or directory`, code: 'Unavailable' };
}

export function criError(endpoint, st) {
  return st.code === 'Unimplemented'
    ? `validate service connection: validate CRI v1 runtime API for endpoint "${endpoint}": rpc error: code = Unimplemented desc = ${st.why}`
    : `validate service connection: validate CRI v1 runtime API for endpoint "${endpoint}": rpc error: code = ${st.code} desc = connection error: desc = "transport: Error while dialing: ${st.why}"`;
}

// ---------------------------------------------------------------- image store
// The images a host's runtime holds, one list per host (a host runs one runtime), and every pull with
// who made it (crictl, docker, kubeadm's preflight), so that a test can tell who pulled what.
const IMAGES = `${STATE}/images.json`;
const PULLS = '/var/log/kblab/image-pulls.jsonl';

/** A reference as containerd and the CRI name it: Docker Hub's short names in full (docker.io/library/…). */
export function fullRef(ref) {
  const first = ref.split('/')[0];
  if (ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return ref;
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

/** docker's own name for it: Docker Hub's images without docker.io/ (and library/). */
const dockerName = (ref) => ref.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');

export const heldImages = () => readJson(IMAGES, []);
export const holdsImage = (ref) => heldImages().includes(fullRef(ref));

/** Pull an image into the host's store (the lab has no registry: every pull that no fault stops succeeds) and record who pulled it. */
export function pullImage(ref, by) {
  const full = fullRef(ref);
  // pulls run side by side (kbootstrap's images step, kubeadm's preflight): the store is changed under a lock
  withLock(`${STATE}/images.lock`, 'image store', () => {
    const held = heldImages();
    if (!held.includes(full)) writeJson(IMAGES, [...held, full]);
  });
  try {
    mkdirSync('/var/log/kblab', { recursive: true });
    appendFileSync(PULLS, JSON.stringify({ ref: full, by, at: new Date().toISOString() }) + '\n');
  } catch { /* the record must never break the pull */ }
  return full;
}

const split = (ref) => {
  const at = ref.lastIndexOf(':');
  return at > ref.lastIndexOf('/') ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, 'latest'];
};
const imageId = (ref) => createHash('sha256').update(ref).digest('hex');
/** crictl's and docker's table columns, padded as their tabwriter pads them (width 20, at least one space). */
const cols = (...c) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(Math.max(20, x.length + 1)))).join('') + '\n';

const DEFAULT_ENDPOINTS = ['unix:///run/containerd/containerd.sock', 'unix:///run/crio/crio.sock', 'unix:///var/run/cri-dockerd.sock'];

export function crictl(args) {
  const cfgText = readText('/etc/crictl.yaml');
  const m = /^runtime-endpoint:\s*(\S+)/m.exec(cfgText);
  let stderr = '';
  let endpoint = m?.[1];
  const verbs = ['info', 'ps', 'images', 'version', 'pods', 'config', 'pull', 'inspecti'];
  const verb = args.find((a) => !a.startsWith('-'));
  if (!verbs.includes(verb)) fail(1, `No help topic for '${verb}'`);
  if (verb === 'config') return { stdout: cfgText, code: 0 };
  if (!endpoint) {
    stderr += `WARN[0000] runtime connect using default endpoints: [${DEFAULT_ENDPOINTS.join(' ')}]. As the default settings are now deprecated, you should set the endpoint instead.\n`;
    endpoint = DEFAULT_ENDPOINTS.find((e) => criStatus(e).ok) ?? DEFAULT_ENDPOINTS[0];
  }
  const st = criStatus(endpoint);
  if (!st.ok) fail(1, `${stderr}FATA[0000] ${criError(endpoint, st)}`);
  const rest = args.filter((x) => !x.startsWith('-') && x !== verb);
  // crictl pull: "Image is up to date for sha256:…" once the CRI's PullImage answers (cri-tools cmd/crictl/image.go, read 2026-12-07)
  if (verb === 'pull') {
    if (!rest[0]) fail(1, `${stderr}FATA[0000] PullImage: image name cannot be empty`);
    const full = pullImage(rest[0], 'crictl');
    return { stdout: `Image is up to date for sha256:${imageId(full)}\n`, stderr, code: 0 };
  }
  // crictl inspecti: the image's status, or "no such image" (cri-tools cmd/crictl/image.go, read 2026-12-07)
  if (verb === 'inspecti') {
    if (!rest[0]) fail(1, `${stderr}FATA[0000] ID cannot be empty`);
    if (!holdsImage(rest[0])) fail(1, `${stderr}FATA[0000] no such image "${rest[0]}" present`);
    const full = fullRef(rest[0]);
    return { stdout: JSON.stringify({ status: { id: `sha256:${imageId(full)}`, repoTags: [full], repoDigests: [], size: '10000000' } }, null, 2) + '\n', stderr, code: 0 };
  }
  const out = { info: '{\n  "status": {\n    "conditions": [\n      { "type": "RuntimeReady", "status": true }\n    ]\n  }\n}\n',
    ps: 'CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID              POD\n',
    // IMAGE, TAG, IMAGE ID (13 hex digits), SIZE; the CRI names Docker Hub's images in full
    images: cols('IMAGE', 'TAG', 'IMAGE ID', 'SIZE') + heldImages().map((r) => { const [repo, tag] = split(r); return cols(repo, tag, imageId(r).slice(0, 13), '10MB'); }).join(''),
    pods: 'POD ID              CREATED             STATE               NAME                NAMESPACE           ATTEMPT             RUNTIME\n',
    version: `Version:  0.1.0\nRuntimeName:  ${endpoint.includes('docker') ? 'docker' : 'containerd'}\nRuntimeApiVersion:  v1\n` }[verb];
  return { stdout: out, stderr, code: 0 };
}

const NET = `${STATE}/netfilter.json`;

export function ipvsadm(args) {
  const st = readJson(NET, { ipvs: [], iptables: {} });
  if (args[0] === '--clear' || args[0] === '-C') { st.ipvs = []; writeJson(NET, st); return { stdout: '', code: 0 }; }
  if (args[0] === '-Ln' || (args[0] === '-L' && args[1] === '-n') || args.length === 0) {
    return { stdout: `IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n${st.ipvs.join('\n')}${st.ipvs.length ? '\n' : ''}`, code: 0 };
  }
  fail(2, `ipvsadm: invalid option -- '${args[0]}'`);
}

export function ipset(args) {
  if (args[0] === 'list' || args[0] === 'version' || args[0] === '-v') return { stdout: args[0] === 'list' ? '' : 'ipset v7.11, protocol version: 7\n', code: 0 };
  if (args[0] === 'destroy' || args[0] === 'flush') return { stdout: '', code: 0 };
  fail(1, `ipset v7.11: Unknown command "${args[0]}"`);
}

/** iptables: only what a reset needs (flush, delete chains, save). */
export function iptables(args) {
  const st = readJson(NET, { ipvs: [], iptables: {} });
  let table = 'filter';
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-t') table = args[++i];
    else rest.push(args[i]);
  }
  if (rest[0] === '-F' || rest[0] === '--flush') { st.iptables[table] = []; writeJson(NET, st); return { stdout: '', code: 0 }; }
  if (rest[0] === '-X' || rest[0] === '--delete-chain') { writeJson(NET, st); return { stdout: '', code: 0 }; }
  if (rest[0] === '-S' || rest[0] === '-L') return { stdout: (st.iptables[table] ?? []).join('\n') + '\n', code: 0 };
  if (rest[0] === '-A') { (st.iptables[table] ??= []).push(rest.join(' ')); writeJson(NET, st); return { stdout: '', code: 0 }; }
  fail(2, `iptables v1.8.9 (nf_tables): unknown option "${rest[0]}"\nTry \`iptables -h' or 'iptables --help' for more information.`);
}

export function iptablesSave() {
  const st = readJson(NET, { ipvs: [], iptables: {} });
  return { stdout: Object.entries(st.iptables).map(([t, rules]) => `*${t}\n${rules.join('\n')}\nCOMMIT\n`).join(''), code: 0 };
}

export function kubelet(args) {
  if (args[0] === '--version') return { stdout: `Kubernetes v${db().kubelet?.version.replace(/-.*$/, '') ?? '0.0.0'}\n`, code: 0 };
  if (ON_VM) {
    // run by real systemd (kubelet.service with kubeadm's 10-kubeadm.conf): like the real kubelet it exits
    // while its configuration is missing, and systemd restarts it every 10 s (Restart=always, RestartSec=10)
    // until kubeadm init or join writes it; then it runs until systemd stops it
    const config = args.find((a) => a.startsWith('--config='))?.slice('--config='.length) ?? '/var/lib/kubelet/config.yaml';
    if (!exists(config)) fail(1, `E0000 run.go:74] "command failed" err="failed to load kubelet config file, path: ${config}, error: failed to load Kubelet config file ${config}, error failed to read kubelet config file \\"${config}\\", error: open ${config}: no such file or directory"`);
    execFileSync('sleep', ['infinity'], { stdio: 'ignore' });
    return { code: 0 };
  }
  fail(1, 'kubelet: the lab runs the kubelet as systemctl state only');
}

/**
 * ctr, as up --bundle runs it (templates/bundle): `ctr -n k8s.io images import FILE` reads the OCI
 * archive's index.json and names each image from its io.containerd.image.name annotation (containerd's
 * cmd/ctr/commands/images/import.go and its archive importer, read 2026-12-07), into the host's image
 * store; `ctr -n k8s.io images ls -q` lists the references. An archive with no such name imports
 * nothing the CRI can find (ctr prints nothing either). Anything else answers empty, as before.
 */
export function ctr(args) {
  const a = args[0] === '-n' ? args.slice(2) : args;
  const ns = args[0] === '-n' ? args[1] : 'default';
  if (a[0] === 'images' && (a[1] === 'ls' || a[1] === 'list')) return { stdout: ns === 'k8s.io' ? heldImages().map((r) => `${r}\n`).join('') : '', code: 0 };
  if (a[0] === 'images' && a[1] === 'import') {
    const file = a[2];
    if (!file || !exists(file)) fail(1, `ctr: open ${file}: no such file or directory`);
    let index;
    try {
      index = JSON.parse(execFileSync('tar', ['-xOf', file, 'index.json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    } catch {
      fail(1, 'ctr: unrecognized image format');
    }
    let out = '';
    for (const m of index.manifests ?? []) {
      const ref = m.annotations?.['io.containerd.image.name'];
      if (!ref) continue;
      if (ns === 'k8s.io') pullImage(ref, 'ctr import');
      out += `unpacking ${ref} (${m.digest})...done\n`;
    }
    return { stdout: out, code: 0 };
  }
  return { stdout: '', code: 0 };
}
export const conntrack = () => ({ stdout: '', code: 0 });

/**
 * nft, from the nftables package: its version (Debian 12's nftables 1.0.6-2+deb12u2, apt-cache policy on
 * the lab machine, 2026-12-07; EL7's is 0.8) and the rule set, which the lab keeps empty (kube-proxy and
 * the CNI run as Pod states only).
 */
export function nft(args) {
  if (args[0] === '--version' || args[0] === '-v') return { stdout: `nftables v${db().nftables?.version ?? '1.0.6'} (Lester Gooch #5)\n`, code: 0 };
  if (args[0] === 'list') return { stdout: '', code: 0 };
  if (args[0] === 'delete' || args[0] === 'flush') return { stdout: '', code: 0 };
  fail(1, `Error: syntax error, unexpected ${args[0] ?? 'end of file'}`);
}
