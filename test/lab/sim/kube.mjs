// Simulated kubeadm and kubectl. The cluster (tokens, certificate keys,
// nodes, objects) is shared state under /var/lib/kblab-cluster that every
// lab host reads and writes, so a join on one host shows up in kubectl on another.
import { randomBytes, createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
// yaml (the same dist/index.js an import of it loads on Node.js) only for the calls that read or
// write YAML: loading it costs about as much as a bare Node.js start, which `kubectl get -o json`
// (a no-op run's one cluster read) would otherwise pay for nothing
const yaml = () => createRequire(import.meta.url)('yaml');
const parseAllDocuments = (...a) => yaml().parseAllDocuments(...a);
const stringify = (...a) => yaml().stringify(...a);
const parse = (...a) => yaml().parse(...a);
import { KINDS, OLD_KNOWN, REMOVED_GATES, SERVED, unknownFields } from './kubeadm-schema.mjs';
import {
  Exit, fail, readText, readStdin, writeText, exists, isDir, remove, hostname, hw, units, saveUnits,
  withClusterLock, clusterState, saveClusterState, CLUSTER, STATE, readJson, writeJson,
} from './lib.mjs';
import { clientDir, etcdPki, memberAdd, memberRemove, readRecord, realEtcd, shareClientCredentials, startEtcd, stopEtcd } from './etcd.mjs';
import { db } from './packages.mjs';
import { criStatus, criError, holdsImage, pullImage } from './runtime.mjs';
import { loadedModules } from './system.mjs';
import { KUBE_VIP_MANIFEST, startKubeVip, waitForVip } from './kube-vip.mjs';
import { DEFAULT_VALIDITY, KUBECONFIGS, KUBELET_PEM, PKI, dates, kubeconfigFor, kubeconfigText, localCas, makeCas, resignLeaves, writeCas, writeKubeletPem, writeLeaves } from './pki.mjs';

const DAY = 24 * 3600 * 1000;

// ---------------------------------------------------------------- helpers
export function parseDuration(s) {
  if (s === '0' || s === '0s') return 0;
  const re = /(\d+(?:\.\d+)?)(h|m|s|ms)/g;
  let total = 0;
  let seen = '';
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * { h: 3600e3, m: 60e3, s: 1e3, ms: 1 }[m[2]];
    seen += m[0];
  }
  if (!seen || seen !== s) return undefined;
  return total;
}

function fmtDuration(ms) {
  if (ms <= 0) return '<forever>';
  const h = Math.floor(ms / 3600e3);
  const m = Math.floor((ms % 3600e3) / 60e3);
  return h ? `${h}h` : `${m}m`;
}

const rand = (n) => randomBytes(n).toString('hex');
const tokenId = () => randomBytes(6).toString('base64').replace(/[^a-z0-9]/g, '').toLowerCase().padEnd(6, 'a').slice(0, 6);
const tokenSecret = () => rand(8).slice(0, 16);

/** the binary's own version (gitVersion), without a .deb's revision (1.30.4-1.1) */
function kubeadmVersion() {
  return db().kubeadm?.version.replace(/-.*$/, '');
}

/** Warnings kubeadm logs while reading its config (klog W lines on stderr), printed before the command's own output. */
export const configWarnings = [];

/** A klog header as kubeadm prints it: Lmmdd hh:mm:ss.uuuuuu pid file:line] */
function klog(level, where, msg) {
  const d = new Date();
  const p2 = (n) => String(n).padStart(2, '0');
  return `${level}${p2(d.getMonth() + 1)}${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds() * 1000).padStart(6, '0')} ${String(process.pid).padStart(7)} ${where}] ${msg}`;
}

function parseConfigFile(path) {
  if (!exists(path)) fail(1, `unable to read config from "${path}" : open ${path}: no such file or directory`);
  const docs = parseAllDocuments(readText(path)).map((d) => d.toJS()).filter(Boolean);
  const minor = minorOf(kubeadmVersion());
  for (const d of docs) {
    if (!d.apiVersion || !d.kind) fail(1, `${path}: invalid configuration: missing apiVersion or kind`);
    if (!/^kubeadm\.k8s\.io\//.test(d.apiVersion)) continue;
    // cmd/kubeadm/app/util/config/common.go, validateSupportedVersion: removed versions name the last kubeadm that reads them
    const last = OLD_KNOWN(minor)[d.apiVersion];
    if (last) fail(1, `your configuration file uses an old API spec: "${d.apiVersion}" (kind: "${d.kind}"). Please use kubeadm ${last} instead and run 'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write the new, similar spec using a newer API version.\nTo see the stack trace of this error execute with --v=5 or higher`);
    // a version this kubeadm's scheme never had (v1beta4 before 1.31): the API machinery's own error
    if (!SERVED(minor).includes(d.apiVersion)) {
      fail(1, `no kind "${d.kind}" is registered for version "${d.apiVersion}" in scheme "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"\nTo see the stack trace of this error execute with --v=5 or higher`);
    }
    if (d.apiVersion === 'kubeadm.k8s.io/v1beta3' && minor >= 31) {
      configWarnings.push(klog('W', 'common.go:101', `your configuration file uses a deprecated API spec: "${d.apiVersion}" (kind: "${d.kind}"). Please use 'kubeadm config migrate --old-config old-config-file --new-config new-config-file', which will write the new, similar spec using a newer API version.`));
    }
    // cmd/kubeadm/app/features: an unknown gate key is an error ("unrecognized feature-gate key")
    const gone = Object.keys(d.featureGates ?? {}).filter((g) => REMOVED_GATES(minor).includes(g));
    if (gone.length) fail(1, `unrecognized feature-gate key: ${gone[0]}\nTo see the stack trace of this error execute with --v=5 or higher`);
    const schema = KINDS[d.apiVersion]?.[d.kind];
    if (!schema) fail(1, `no kind "${d.kind}" is registered for version "${d.apiVersion}" in scheme "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"`);
    // kubeadm decodes strictly first and only warns, then decodes leniently: an unknown or misplaced field
    // is logged and IGNORED, so its setting silently does not apply (as in
    // "error unmarshaling configuration schema.GroupVersionKind{...}: strict decoding error: unknown field \"apiServer.timeoutForControlPlane\"" with kubeadm 1.32)
    const unknown = unknownFields(d, schema);
    if (unknown.length) {
      const [group, version] = d.apiVersion.split('/');
      configWarnings.push(klog('W', 'initconfiguration.go:333', `error unmarshaling configuration schema.GroupVersionKind{Group:"${group}", Version:"${version}", Kind:"${d.kind}"}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`));
      for (const u of unknown) {
        const keys = u.split('.');
        let o = d;
        for (const k of keys.slice(0, -1)) o = o?.[k];
        if (o) delete o[keys.at(-1)];
      }
    }
  }
  return Object.fromEntries(docs.map((d) => [d.kind, d]));
}

const minorOf = (v) => Number(String(v ?? '0.0').replace(/^v/, '').split('.')[1]);

function readProc(path) {
  const v = readText(path, null);
  return v === null ? undefined : v.trim();
}

/** kubeadm's preflight checks against this host's (simulated) state. */
function preflight({ controlPlane, criSocket, ignore, join }) {
  const errors = [];
  const warnings = [];
  const h = hw();
  if (controlPlane && h.cpus < 2) errors.push(['NumCPU', `the number of available CPUs ${h.cpus} is less than the required 2`]);
  if (controlPlane && h.memMiB < 1700) errors.push(['Mem', `the system RAM (${h.memMiB} MB) is less than the minimum 1700 MB`]);
  const swaps = readText('/proc/swaps').split('\n').slice(1).filter(Boolean);
  if (swaps.length) errors.push(['Swap', 'running with swap on is not supported. Please disable swap']);
  const bridge = '/proc/sys/net/bridge/bridge-nf-call-iptables';
  if (!loadedModules().includes('br_netfilter')) errors.push([`FileContent--proc-sys-net-bridge-bridge-nf-call-iptables`, `${bridge} does not exist`]);
  else if (readProc(bridge) !== '1') errors.push([`FileContent--proc-sys-net-bridge-bridge-nf-call-iptables`, `${bridge} contents are not set to 1`]);
  if (readProc('/proc/sys/net/ipv4/ip_forward') !== '1') errors.push(['FileContent--proc-sys-net-ipv4-ip_forward', '/proc/sys/net/ipv4/ip_forward contents are not set to 1']);
  const cri = criStatus(criSocket);
  if (!cri.ok) {
    errors.push(['CRI', `container runtime is not running: output: time="${new Date().toISOString()}" level=fatal msg="${criError(criSocket.replace('/run/', '/var/run/'), cri).replace(/"/g, '\\"')}"\n, error: exit status 1`]);
  }
  if (!exists('/usr/bin/crictl')) errors.push(['FileExisting-crictl', 'crictl not found in system path']);
  if (controlPlane) {
    for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) {
      const f = `/etc/kubernetes/manifests/${c}.yaml`;
      if (exists(f)) errors.push([`FileAvailable--etc-kubernetes-manifests-${c}.yaml`, `${f} already exists`]);
    }
    if (exists('/etc/kubernetes/manifests/kube-apiserver.yaml')) errors.push(['Port-6443', 'Port 6443 is in use']);
    if (isDir('/var/lib/etcd') && readdirSync('/var/lib/etcd').length) errors.push(['DirAvailable--var-lib-etcd', '/var/lib/etcd is not empty']);
  }
  if (join) {
    for (const f of ['/etc/kubernetes/kubelet.conf', '/etc/kubernetes/pki/ca.crt']) {
      if (exists(f)) errors.push([`FileAvailable-${f.replace(/\//g, '-')}`, `${f} already exists`]);
    }
  }
  if (isDir('/etc/kubernetes/manifests') && readdirSync('/etc/kubernetes/manifests').length && !controlPlane) {
    errors.push(['DirAvailable--etc-kubernetes-manifests', '/etc/kubernetes/manifests is not empty']);
  }
  const u = units();
  if (u['kubelet.service']?.installed && !u['kubelet.service'].enabled) warnings.push(['Service-Kubelet', "kubelet service is not enabled, please run 'systemctl enable kubelet.service'"]);
  if (u['firewalld.service']?.active) warnings.push(['Firewalld', `firewalld is active, please ensure ports [${controlPlane ? '6443 10250' : '10250'}] are open or your cluster may not function correctly`]);
  const all = ignore.includes('all');
  const fatal = errors.filter(([n]) => !all && !ignore.includes(n.toLowerCase()));
  const warnText = [...warnings, ...errors.filter((e) => !fatal.includes(e))].map(([n, m]) => `\t[WARNING ${n}]: ${m}\n`).join('');
  if (fatal.length) {
    fail(1, `${warnText}error execution phase preflight: [preflight] Some fatal errors occurred:\n${fatal.map(([n, m]) => `\t[ERROR ${n}]: ${m}\n`).join('')}[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\`\nTo see the stack trace of this error execute with --v=5 or higher`,
      '[preflight] Running pre-flight checks\n');
  }
  return warnText;
}

/**
 * kubeadm's own image tags for a minor: sim/fast/kubeadm-image-tags (its sources there), under the
 * host's /var/lib/kblab/kubeadm-image-tags when a test gave this host's kubeadm other constants.
 * sim/fast/kubeadm.sh reads the same files.
 */
function kubeadmTags(minor) {
  const rows = [readText(new URL('./fast/kubeadm-image-tags', import.meta.url)), readText(`${STATE}/kubeadm-image-tags`)].join('\n');
  let t;
  for (const l of rows.split('\n')) {
    const [m, pause, etcd, coredns] = l.trim().split(/\s+/);
    if (Number(m) === minor && coredns) t = { pause, etcd, coredns };
  }
  return t;
}

/**
 * The images a control plane runs (images.GetControlPlaneImages: kube-apiserver, -controller-manager,
 * -scheduler, kube-proxy at the version, CoreDNS under coredns/ on registry.k8s.io only, pause, etcd;
 * kubernetes/kubernetes cmd/kubeadm/app/images/images.go, read 2026-12-07).
 */
function controlPlaneImages(version, repo) {
  const t = kubeadmTags(minorOf(version));
  if (!t) fail(1, `kbootstrap lab: the simulated kubeadm has no image tags for ${version}`);
  return [
    ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((n) => `${repo}/${n}:v${version}`),
    `${repo === 'registry.k8s.io' ? `${repo}/coredns` : repo}/coredns:${t.coredns}`, `${repo}/pause:${t.pause}`, `${repo}/etcd:${t.etcd}`,
  ];
}

/**
 * The preflight's image pull on a control plane (init, and a join with controlPlane): kubeadm prints
 * the three lines, then pulls, through the CRI, each image the runtime does not hold
 * (kubernetes/kubernetes cmd/kubeadm/app/cmd/phases/join/preflight.go runPreflight and
 * cmd/kubeadm/app/preflight/checks.go ImagePullCheck: ImageExists, else PullImage; read 2026-12-07).
 */
function preflightPulls(version, repo) {
  for (const ref of controlPlaneImages(version, repo)) if (!holdsImage(ref)) pullImage(ref, 'kubeadm');
  return ['[preflight] Pulling images required for setting up a Kubernetes cluster',
    '[preflight] This might take a minute or two, depending on the speed of your internet connection',
    "[preflight] You can also perform this action beforehand using 'kubeadm config images pull'"];
}

function startKubelet() {
  const u = units();
  if (u['kubelet.service']) u['kubelet.service'].active = true;
  saveUnits(u);
}

function nodeRecord(name, controlPlane, cluster) {
  const u = units();
  return {
    address: execFileSync('hostname', ['-I'], { encoding: 'utf8' }).trim().split(/\s+/)[0],
    controlPlane,
    labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}) },
    kubeletActive: true,
    runtimeActive: ['containerd.service', 'cri-docker.service'].some((x) => u[x]?.active),
    // the kubelet reports its own binary's version (status.nodeInfo.kubeletVersion), not the cluster's
    version: `v${db().kubelet?.version.replace(/-.*$/, '') ?? cluster.version}`,  // a .deb's version carries its revision (1.30.4-1.1)
    unschedulable: false,
    created: Date.now(),
  };
}

/**
 * The files kubeadm init/join leave on a node, with real certificates (sim/pki.mjs): the CAs (control
 * planes get the keys: kubeadm join --control-plane downloads them from the kubeadm-certs Secret),
 * the kubelet's client certificate and a kubelet.conf naming it (kubeadm's kubelet-finalize phase),
 * and on a control plane its leaf certificates and kubeconfigs.
 */
function writeNodeFiles(cluster, controlPlane) {
  const now = Date.now();
  const validity = cluster.validity ?? DEFAULT_VALIDITY;
  const node = hostname();
  writeCas(cluster.pki, controlPlane, { keepEtcd: realEtcd() });
  writeKubeletPem(cluster.pki, node, now, validity);
  writeText('/etc/kubernetes/kubelet.conf', kubeconfigText({ server: cluster.endpoint, clusterName: cluster.name, user: `system:node:${node}`, caCrt: cluster.pki.ca.crt, certFile: KUBELET_PEM }), 0o600);
  // kubeadm's KubeletConfiguration turns client certificate rotation on (rotateCertificates: true,
  // cmd/kubeadm/app/componentconfigs/kubelet.go)
  writeText('/var/lib/kubelet/config.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nrotateCertificates: true\n');
  if (controlPlane) {
    writeLeaves(cluster.pki, node, now, validity, { keepEtcd: realEtcd() });
    // controller-manager.conf and scheduler.conf name the local API server on a real control plane; the lab reads none of them
    for (const name of ['admin.conf', 'controller-manager.conf', 'scheduler.conf']) {
      writeText(`/etc/kubernetes/${name}`, kubeconfigFor({ server: cluster.endpoint, clusterName: cluster.name, ...KUBECONFIGS[name], cas: cluster.pki, now, validity }), 0o600);
    }
    for (const c of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) writeText(`/etc/kubernetes/manifests/${c}.yaml`, staticPod(c, cluster));
    // kubeadm never touches etcd's data itself: with the lab's real etcd (a restore) the member's data stays
    if (!realEtcd()) writeText('/var/lib/etcd/member/snap/db', 'kblab\n');
  }
}

/**
 * A static Pod manifest as far as the lab needs one: the component's image,
 * whose tag kubeadm sets to the cluster's version (init, join --control-plane,
 * upgrade apply/node rewrite it; etcd keeps its own release line).
 */
function staticPod(component, cluster) {
  const tag = component === 'etcd' ? '3.5.15-0' : `v${cluster.version}`;
  return `# kblab static pod ${component}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: ${component}\n  namespace: kube-system\nspec:\n  containers:\n  - name: ${component}\n    image: ${cluster.imageRepository ?? 'registry.k8s.io'}/${component}:${tag}\n`;
}

function proxyConfig(mode) {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    bindAddress: '0.0.0.0',
    clusterCIDR: '',
    detectLocalMode: '',
    ipvs: { scheduler: '', strictARP: false },
    kind: 'KubeProxyConfiguration',
    mode,
  }).trimEnd();
}

// ---------------------------------------------------------------- kubeadm
export function kubeadm(args) {
  if (!kubeadmVersion()) fail(127, 'kubeadm: command not found');
  const warn = () => (configWarnings.length ? `${configWarnings.join('\n')}\n` : '');
  try {
    const r = kubeadmVerb(args);
    return { ...r, stderr: warn() + (r.stderr ?? '') };
  } catch (e) {
    if (e instanceof Exit) e.stderr = warn() + e.stderr;
    throw e;
  }
}

function kubeadmVerb(args) {
  const [verb, ...rest] = args;
  switch (verb) {
    case 'version': return { stdout: rest.includes('short') ? `v${kubeadmVersion()}\n` : `kubeadm version: &version.Info{Major:"1", Minor:"${minorOf(kubeadmVersion())}", GitVersion:"v${kubeadmVersion()}"}\n`, code: 0 };
    case 'init': return rest[0] === 'phase' ? initPhase(rest.slice(1)) : init(rest);
    case 'join': return join(rest);
    case 'token': return token(rest);
    case 'reset': return reset(rest);
    case 'upgrade': return upgrade(rest);
    case 'certs': return certs(rest);
    case 'config': return config(rest);
    default: fail(1, `unknown command "${verb}" for "kubeadm"\nRun 'kubeadm --help' for usage.`);
  }
}

/**
 * `kubeadm config images list [--kubernetes-version V] [--image-repository R]`: the images kubeadm
 * init pulls for that version, one a line, in images.GetControlPlaneImages' order (kube-apiserver,
 * -controller-manager, -scheduler, kube-proxy, CoreDNS, pause, etcd); without --kubernetes-version
 * kubeadm asks dl.k8s.io for stable-1, which the lab cannot reach: its own version then, as kubeadm
 * falls back to it (https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-config/
 * "kubeadm config images list", defaults "stable-1" and "registry.k8s.io"; read 2026-12-07). The
 * version is checked as configutil's NormalizeKubernetesVersion does (not below MinimumControlPlaneVersion).
 */
function config(args) {
  if (args[0] !== 'images' || args[1] !== 'list') fail(1, `kbootstrap lab: kubeadm config is simulated for "images list" only (got "${args.slice(0, 2).join(' ')}")`);
  const { f, pos } = flags(args.slice(2), { 'kubernetes-version': true, 'image-repository': true });
  if (pos.length) fail(1, `unknown command "${pos[0]}" for "kubeadm config images list"`);
  const version = String(f['kubernetes-version'] ?? `v${kubeadmVersion()}`).replace(/^v/, '');
  if (!/^\d+\.\d+\.\d+$/.test(version)) fail(1, `couldn't parse Kubernetes version "${f['kubernetes-version']}"\nTo see the stack trace of this error execute with --v=5 or higher`);
  // constants.MinimumControlPlaneVersion is the minor before kubeadm's own; a newer version is only a preflight matter (init)
  if (minorOf(version) < minorOf(kubeadmVersion()) - 1) {
    fail(1, `this version of kubeadm only supports deploying clusters with the control plane version >= 1.${minorOf(kubeadmVersion()) - 1}.0. Current version: v${version}\nTo see the stack trace of this error execute with --v=5 or higher`);
  }
  return { stdout: controlPlaneImages(version, f['image-repository'] ?? 'registry.k8s.io').join('\n') + '\n', code: 0 };
}

function flags(args, known) {
  const f = {};
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) { pos.push(a); continue; }
    const eq = a.indexOf('=');
    const name = (eq > 0 ? a.slice(0, eq) : a).replace(/^-+/, '');
    if (!(name in known)) fail(1, `unknown flag: ${a.slice(0, eq > 0 ? eq : a.length)}\nTo see the stack trace of this error execute with --v=5 or higher`);
    if (known[name]) f[name] = eq > 0 ? a.slice(eq + 1) : args[++i];
    else f[name] = true;
  }
  return { f, pos };
}

/**
 * The bootstrap tokens kubeadm init creates: InitConfiguration.bootstrapTokens, each with its
 * token (random when unset), description and ttl (24h when unset, 0 never expires); an empty or
 * missing list is one such token with neither token nor description (kubeadm
 * cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go SetDefaults_BootstrapTokens, and
 * bootstraptoken/v1 SetDefaults_BootstrapToken; "The default bootstrap token generated by
 * 'kubeadm init'." is only the description of the token the command-line flags make, which
 * --config replaces: cmd/kubeadm/app/cmd/init.go, read 2026-12-05).
 */
function initTokens(list) {
  const wanted = Array.isArray(list) && list.length ? list : [{}];
  return wanted.map((bt) => {
    let [id, secret] = [tokenId(), tokenSecret()];
    if (bt.token !== undefined) {
      if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(String(bt.token))) fail(1, `bootstrapTokens[0].token: Invalid value: "${String(bt.token).replace(/\..*/, '.<redacted>')}": the bootstrap token is invalid`);
      [id, secret] = String(bt.token).split('.');
    }
    const ttl = bt.ttl === undefined ? DAY : parseDuration(String(bt.ttl));
    if (ttl === undefined) fail(1, `bootstrapTokens.ttl: time: invalid duration "${bt.ttl}"`);
    return { id, secret, expires: ttl === 0 ? null : Date.now() + ttl, description: bt.description ?? '' };
  });
}

function init(args) {
  const { f } = flags(args, { config: true, 'upload-certs': false, 'skip-token-print': false, 'skip-certificate-key-print': false, 'ignore-preflight-errors': true, v: true, 'dry-run': false });
  if (!f.config) fail(1, 'kbootstrap lab: kubeadm init is simulated with --config only');
  const cfg = parseConfigFile(f.config);
  const ic = cfg.InitConfiguration ?? {};
  const cc = cfg.ClusterConfiguration ?? {};
  const version = String(cc.kubernetesVersion ?? `v${kubeadmVersion()}`).replace(/^v/, '');
  if (minorOf(version) > minorOf(kubeadmVersion())) {
    fail(1, `this version of kubeadm only supports deploying clusters with the control plane version >= 1.${minorOf(kubeadmVersion()) - 1}.0. Current version: v${version}`);
  }
  const name = ic.nodeRegistration?.name ?? hostname();
  const criSocket = ic.nodeRegistration?.criSocket ?? 'unix:///var/run/containerd/containerd.sock';
  const stdout = [`[init] Using Kubernetes version: v${version}`, '[preflight] Running pre-flight checks'];
  const warn = preflight({ controlPlane: true, criSocket, ignore: String(f['ignore-preflight-errors'] ?? '').toLowerCase().split(','), join: false });
  stdout.push(...preflightPulls(version, cc.imageRepository ?? 'registry.k8s.io'));
  const address = ic.localAPIEndpoint?.advertiseAddress ?? execFileSync('hostname', ['-I'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
  const endpoint = cc.controlPlaneEndpoint ?? `${address}:${ic.localAPIEndpoint?.bindPort ?? 6443}`;
  // a real etcd (sim/etcd.mjs): kubeadm's etcd certificates, the static pod started on /var/lib/etcd,
  // which after a restore already holds the cluster's data (the --initial-cluster flags then do not apply)
  let etcd;
  let restored;
  if (realEtcd()) {
    if (clusterState().clusters[endpoint]) fail(1, `${warn}error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR Port-6443]: Port 6443 is in use\n[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\``);
    etcdPki(name, address);
    startEtcd({ name, address, initialCluster: `${name}=https://${address}:2380`, state: 'new' });
    etcd = { endpoints: [`https://${address}:2379`], dir: clientDir(CLUSTER, endpoint) };
    shareClientCredentials(etcd.dir);
    restored = readRecord(etcd.dir, etcd.endpoints);
  }
  const result = withClusterLock(() => {
    const s = clusterState();
    if (s.clusters[endpoint]) fail(1, `${warn}error execution phase preflight: [preflight] Some fatal errors occurred:\n\t[ERROR Port-6443]: Port 6443 is in use\n[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\``);
    const caHash = createHash('sha256').update(rand(16)).digest('hex');
    // ClusterConfiguration.certificateValidityPeriod / caCertificateValidityPeriod (v1beta4; the schema check
    // above already dropped them from a v1beta3 file); kubeadm's defaults are 8760h and 87600h
    const validity = {
      cert: cc.certificateValidityPeriod ? parseDuration(String(cc.certificateValidityPeriod)) ?? fail(1, `certificateValidityPeriod: time: invalid duration "${cc.certificateValidityPeriod}"`) : DEFAULT_VALIDITY.cert,
      ca: cc.caCertificateValidityPeriod ? parseDuration(String(cc.caCertificateValidityPeriod)) ?? fail(1, `caCertificateValidityPeriod: time: invalid duration "${cc.caCertificateValidityPeriod}"`) : DEFAULT_VALIDITY.ca,
    };
    const cluster = {
      validity,
      pki: makeCas(Date.now(), validity),
      name: cc.clusterName ?? 'kubernetes', version, endpoint, caHash,
      podSubnet: cc.networking?.podSubnet, serviceSubnet: cc.networking?.serviceSubnet ?? '10.96.0.0/12',
      imageRepository: cc.imageRepository ?? 'registry.k8s.io',
      tokens: initTokens(ic.bootstrapTokens),
      certKey: f['upload-certs'] ? { key: rand(32), expires: Date.now() + 2 * 3600e3 } : undefined,
      nodes: {},
      objects: {},
      cni: undefined,
    };
    const mode = cfg.KubeProxyConfiguration?.mode ?? '';
    cluster.objects['ConfigMap/kube-system/kube-proxy'] = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': proxyConfig(mode), 'kubeconfig.conf': 'apiVersion: v1\nkind: Config' } };
    cluster.objects['DaemonSet/kube-system/kube-proxy'] = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'kube-proxy', namespace: 'kube-system', generation: 1 }, spec: { template: { metadata: { annotations: {} } } } };
    // kubeadm init uploads its ClusterConfiguration ("[upload-config] Storing the configuration used in ConfigMap \"kubeadm-config\"");
    // upgrade apply rewrites kubernetesVersion (https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-upgrade/)
    cluster.objects['ConfigMap/kube-system/kubeadm-config'] = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubeadm-config', namespace: 'kube-system' }, data: { ClusterConfiguration: `apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v${version}\n` } };
    cluster.objects['Deployment/kube-system/coredns'] = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'coredns', namespace: 'kube-system' } };
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) cluster.objects[`Namespace//${ns}`] = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } };
    cluster.nodes[name] = nodeRecord(name, true, cluster);
    if (restored) {
      // the restored cluster: its objects and nodes are back. The nodes whose kubelets are gone are
      // marked NotReady by the node lifecycle controller once they stop posting status
      // (kube-controller-manager --node-monitor-grace-period); kubeadm init re-uploads its own
      // ConfigMaps and kube-proxy, and adds its tokens to those in etcd. This node's Node keeps its labels.
      for (const n of Object.values(restored.nodes ?? {})) n.kubeletActive = false;
      const mine = restored.nodes?.[name];
      cluster.nodes = { ...restored.nodes, [name]: { ...cluster.nodes[name], labels: { ...mine?.labels, ...cluster.nodes[name].labels }, created: mine?.created ?? Date.now() } };
      cluster.objects = { ...restored.objects, ...cluster.objects };
      cluster.tokens = [...(restored.tokens ?? []), ...cluster.tokens];
      cluster.cni = restored.cni;
    }
    if (etcd) cluster.etcd = etcd;
    // with kube-vip, init waits for the API server through the VIP; the kube-vip simulation reads this (sim/kube-vip.mjs)
    if (exists(KUBE_VIP_MANIFEST)) cluster.initializing = hostname();
    s.clusters[endpoint] = cluster;
    saveClusterState(s);
    return cluster;
  });
  writeNodeFiles(result, true);
  // kubeadm >= 1.29 writes the break-glass super-admin.conf, on the init host only
  if (minorOf(version) >= 29) writeText('/etc/kubernetes/super-admin.conf', kubeconfigFor({ server: endpoint, clusterName: result.name, ...KUBECONFIGS['super-admin.conf'], cas: result.pki, now: Date.now(), validity: result.validity }), 0o600);
  startKubelet();
  if (exists(KUBE_VIP_MANIFEST)) {
    startKubeVip();
    const up = waitForVip(40_000);
    withClusterLock(() => {
      const s = clusterState();
      if (up) delete s.clusters[endpoint].initializing;
      else { delete s.clusters[endpoint]; (s.removed ??= []).push(endpoint); }
      saveClusterState(s);
    });
    if (!up) {
      fail(1, `${stdout.join('\n')}\n[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "/etc/kubernetes/manifests"\nerror execution phase upload-config/kubeadm: error uploading the kubeadm ClusterConfiguration: Get "https://${endpoint}/api/v1/namespaces/kube-system/configmaps/kubeadm-config?timeout=10s": dial tcp ${endpoint}: connect: no route to host\nTo see the stack trace of this error execute with --v=5 or higher`);
    }
  }
  stdout.push('[certs] Using certificateDir folder "/etc/kubernetes/pki"', '[kubeconfig] Writing "admin.conf" kubeconfig file', '[control-plane] Creating static Pod manifest for "kube-apiserver"',
    '[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace', '', 'Your Kubernetes control-plane has initialized successfully!', '');
  if (!f['skip-token-print']) {
    const t = result.tokens[0];
    stdout.push('Then you can join any number of worker nodes by running the following on each as root:', '', `kubeadm join ${endpoint} --token ${t.id}.${t.secret} \\`, `\t--discovery-token-ca-cert-hash sha256:${result.caHash}`);
  }
  if (f['upload-certs'] && !f['skip-certificate-key-print']) stdout.push(`[upload-certs] Using certificate key:`, result.certKey.key);
  return { stdout: stdout.join('\n') + '\n', stderr: warn, code: 0 };
}

function initPhase(args) {
  if (args[0] !== 'upload-certs') fail(1, `kbootstrap lab: kubeadm init phase ${args[0]} is not simulated`);
  const { f } = flags(args.slice(1), { 'upload-certs': false, 'certificate-key': true, config: true, kubeconfig: true, 'skip-certificate-key-print': false });
  if (!f['upload-certs']) fail(1, 'error execution phase upload-certs: --upload-certs is required');
  const cluster = adminCluster(f.kubeconfig);
  const key = f['certificate-key'] ?? rand(32);
  withClusterLock(() => {
    const s = clusterState();
    s.clusters[cluster.endpoint].certKey = { key, expires: Date.now() + 2 * 3600e3 };
    saveClusterState(s);
  });
  const lines = ['[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace'];
  if (!f['skip-certificate-key-print']) lines.push('[upload-certs] Using certificate key:', key);
  return { stdout: lines.join('\n') + '\n', code: 0 };
}

/** The cluster an admin kubeconfig points at (for kubeadm token / upload-certs). */
function adminCluster(path = '/etc/kubernetes/admin.conf') {
  if (!exists(path)) fail(1, `failed to load admin kubeconfig: open ${path}: no such file or directory\nTo see the stack trace of this error execute with --v=5 or higher`);
  const server = serverOf(readText(path));
  const c = clusterState().clusters[server];
  if (!c) fail(1, `failed to create API client configuration from kubeconfig: Get "https://${server}/api?timeout=32s": dial tcp ${server}: connect: connection refused`);
  return c;
}

function serverOf(kubeconfigText) {
  let cfg;
  try { cfg = parseRemembered(kubeconfigText); } catch { cfg = undefined; }
  const url = cfg?.clusters?.[0]?.cluster?.server ?? '';
  return url.replace(/^https?:\/\//, '');
}

/**
 * YAML a `kubectl get` reads on every call (the kubeconfig; kube-proxy's config.conf, which decides
 * whether its Pods run): parse() is a function of the text alone, so its value is remembered by
 * the text's sha256 (the last 16) in the host's state. Each call would otherwise load and run the
 * YAML parser on the same text, about as long as a bare Node.js start (the no-op run's one cluster
 * read). Other text is parsed afresh, with the same value or the same error; a value JSON cannot
 * carry as it is (.inf, .nan) is never remembered.
 */
const PARSED_YAML = `${STATE}/parsed-yaml.json`;
function parseRemembered(text) {
  const key = createHash('sha256').update(text).digest('hex');
  const known = readJson(PARSED_YAML, {});
  if (Object.hasOwn(known, key)) return known[key];
  const value = parse(text);
  const json = JSON.stringify(value);
  if (json !== undefined && isDeepStrictEqual(JSON.parse(json), value)) {
    try {
      writeJson(PARSED_YAML, Object.fromEntries([...Object.entries(known).filter(([k]) => k !== key).slice(-15), [key, value]]));
    } catch { /* a state that cannot be written: parsed again next time */ }
  }
  return value;
}

function join(args) {
  const { f, pos } = flags(args, { config: true, token: true, 'discovery-token-ca-cert-hash': true, 'control-plane': false, 'certificate-key': true, 'ignore-preflight-errors': true, v: true, 'node-name': true, 'cri-socket': true, 'apiserver-advertise-address': true });
  let endpoint = pos[0];
  let tok = f.token;
  let hashes = f['discovery-token-ca-cert-hash'] ? [f['discovery-token-ca-cert-hash']] : [];
  let cp = Boolean(f['control-plane']);
  let certKey = f['certificate-key'];
  let name = f['node-name'] ?? hostname();
  let criSocket = f['cri-socket'] ?? 'unix:///var/run/containerd/containerd.sock';
  if (f.config) {
    const jc = parseConfigFile(f.config).JoinConfiguration;
    if (!jc) fail(1, `no JoinConfiguration found in ${f.config}`);
    const bt = jc.discovery?.bootstrapToken ?? {};
    endpoint = bt.apiServerEndpoint; tok = bt.token; hashes = bt.caCertHashes ?? [];
    cp = Boolean(jc.controlPlane); certKey = jc.controlPlane?.certificateKey;
    name = jc.nodeRegistration?.name ?? name; criSocket = jc.nodeRegistration?.criSocket ?? criSocket;
  }
  if (!endpoint || !tok) fail(1, 'discovery: Invalid value: "": bootstrapToken or file must be set');
  if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(tok)) fail(1, `discovery.bootstrapToken.token: Invalid value: "${tok.replace(/\..*/, '.<redacted>')}": the bootstrap token is invalid`);
  const stdout = ['[preflight] Running pre-flight checks'];
  const warn = preflight({ controlPlane: cp, criSocket, ignore: String(f['ignore-preflight-errors'] ?? '').toLowerCase().split(','), join: true });
  const prefix = `${warn}error execution phase preflight: couldn't validate the identity of the API Server: `;
  const result = withClusterLock(() => {
    const s = clusterState();
    const c = s.clusters[endpoint];
    if (!c) fail(1, `${prefix}Get "https://${endpoint}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": dial tcp ${endpoint}: connect: connection refused\nTo see the stack trace of this error execute with --v=5 or higher`);
    const [id, secret] = tok.split('.');
    const t = c.tokens.find((x) => x.id === id);
    if (!t || t.secret !== secret || (t.expires && t.expires < Date.now())) {
      fail(1, `${prefix}could not find a JWS signature in the cluster-info ConfigMap for token ID "${id}"\nTo see the stack trace of this error execute with --v=5 or higher`);
    }
    if (!hashes.includes(`sha256:${c.caHash}`)) {
      fail(1, `${prefix}cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:${c.caHash}" are pinned\nTo see the stack trace of this error execute with --v=5 or higher`);
    }
    if (cp) {
      if (!c.certKey || c.certKey.expires < Date.now()) {
        fail(1, `error execution phase control-plane-prepare/download-certs: error downloading certs: error downloading the secret: Secret "kubeadm-certs" was not found in the "kube-system" Namespace. This Secret might have expired. Please, run \`kubeadm init phase upload-certs --upload-certs\` on a control plane to generate a new one\nTo see the stack trace of this error execute with --v=5 or higher`);
      }
      if (c.certKey.key !== certKey) fail(1, 'error execution phase control-plane-prepare/download-certs: error downloading certs: error decoding certs: failed to decrypt data: cipher: message authentication failed\nTo see the stack trace of this error execute with --v=5 or higher');
    }
    // kubeadm refuses only a Node of that name whose Ready condition is True (cmd/kubeadm/app/cmd/phases/join/kubelet.go,
    // runKubeletStartJoinPhase: "A new Node with the same name as an existing control-plane Node can cause undefined
    // behavior"); a NotReady one (its kubelet gone, a cluster restored from a backup) is taken over. Read 2026-12-07.
    if (c.nodes[name] && !c.nodes[name].deleted && nodeReady(c, c.nodes[name])) {
      fail(1, `error execution phase kubelet-start: a Node with name "${name}" and status "Ready" already exists in the cluster. You must delete the existing Node or change the name of this new joining Node\nTo see the stack trace of this error execute with --v=5 or higher`);
    }
    const before = c.nodes[name];
    c.nodes[name] = nodeRecord(name, cp, c);
    // the kubelet registers against the Node that is there: its labels stay
    if (before && !before.deleted) c.nodes[name] = { ...c.nodes[name], labels: { ...before.labels, ...c.nodes[name].labels }, created: before.created };
    saveClusterState(s);
    return c;
  });
  if (cp) stdout.push('[preflight] Running pre-flight checks before initializing the new control plane instance', ...preflightPulls(result.version, result.imageRepository ?? 'registry.k8s.io'));
  writeNodeFiles(result, cp);
  if (cp && result.etcd) joinEtcd(result, endpoint, name);
  startKubelet();
  if (cp) startKubeVip();
  stdout.push('[kubelet-start] Starting the kubelet', '', 'This node has joined the cluster:', '* Certificate signing request was sent to apiserver and a response was received.');
  return { stdout: stdout.join('\n') + '\n', stderr: warn, code: 0 };
}

/**
 * A control plane joins the stacked etcd as kubeadm does: the etcd CA comes with the control-plane
 * certificates, the member is announced (member add), and this host's etcd starts with
 * --initial-cluster-state=existing; the API server then knows one more endpoint.
 */
function joinEtcd(c, endpoint, name) {
  const address = execFileSync('hostname', ['-I'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
  etcdPki(name, address, { crt: readText(`${c.etcd.dir}/ca.crt`), key: readText(`${c.etcd.dir}/ca.key`) });
  const initialCluster = memberAdd(c.etcd.dir, c.etcd.endpoints, name, address);
  startEtcd({ name, address, initialCluster, state: 'existing' });
  withClusterLock(() => {
    const s = clusterState();
    const e = s.clusters[endpoint]?.etcd;
    if (e && !e.endpoints.includes(`https://${address}:2379`)) e.endpoints.push(`https://${address}:2379`);
    saveClusterState(s);
  });
}

function token(args) {
  const [sub, ...rest] = args;
  const { f, pos } = flags(rest, { 'print-join-command': false, ttl: true, description: true, kubeconfig: true, usages: true, groups: true, 'certificate-key': true, o: true, output: true });
  const cluster = adminCluster(f.kubeconfig);
  if (sub === 'create') {
    const ttl = f.ttl === undefined ? DAY : parseDuration(f.ttl);
    if (ttl === undefined) fail(1, `invalid argument "${f.ttl}" for "--ttl" flag: time: invalid duration "${f.ttl}"`);
    let id = tokenId();
    let secret = tokenSecret();
    if (pos[0]) {
      if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(pos[0])) fail(1, `token "${pos[0]}" was not of form "\\\\A([a-z0-9]{6})\\\\.([a-z0-9]{16})\\\\z"`);
      [id, secret] = pos[0].split('.');
    }
    withClusterLock(() => {
      const s = clusterState();
      s.clusters[cluster.endpoint].tokens.push({ id, secret, expires: ttl === 0 ? null : Date.now() + ttl, description: f.description ?? '' });
      saveClusterState(s);
    });
    if (f['print-join-command']) {
      const extra = f['certificate-key'] ? ` --control-plane --certificate-key ${f['certificate-key']}` : '';
      return { stdout: `kubeadm join ${cluster.endpoint} --token ${id}.${secret} --discovery-token-ca-cert-hash sha256:${cluster.caHash}${extra} \n`, code: 0 };
    }
    return { stdout: `${id}.${secret}\n`, code: 0 };
  }
  if (sub === 'list') {
    const now = Date.now();
    const live = cluster.tokens.filter((t) => !t.expires || t.expires > now);
    const output = f.o ?? f.output;
    if (output === 'json') {
      // one BootstrapToken object of output.kubeadm.k8s.io per token, one after another, as kubeadm's
      // printer writes them (cmd/kubeadm/app/cmd/token.go, `kubeadm token list -o json`)
      const objs = live.map((t) => JSON.stringify({
        kind: 'BootstrapToken', apiVersion: 'output.kubeadm.k8s.io/v1alpha3', creationTimestamp: null,
        token: `${t.id}.${t.secret}`, ...(t.description ? { description: t.description } : {}),
        ...(t.expires ? { ttl: fmtDuration(t.expires - now), expires: new Date(t.expires).toISOString().replace(/\.\d+Z/, 'Z') } : {}),
        usages: ['authentication', 'signing'], groups: ['system:bootstrappers:kubeadm:default-node-token'],
      }, null, 4));
      return { stdout: objs.map((o) => `${o}\n`).join(''), code: 0 };
    }
    if (output !== undefined && output !== 'text') fail(1, `error: output format "${output}" not recognized`);
    const rows = live.map((t) => `${`${t.id}.${t.secret}`.padEnd(24)}${(t.expires ? fmtDuration(t.expires - now) : '<forever>').padEnd(8)}${(t.expires ? new Date(t.expires).toISOString().replace(/\.\d+Z/, 'Z') : '<never>').padEnd(22)}authentication,signing   ${t.description || '<none>'}`.padEnd(0) + '   system:bootstrappers:kubeadm:default-node-token');
    return { stdout: live.length ? `TOKEN                   TTL     EXPIRES               USAGES                   DESCRIPTION                                                EXTRA GROUPS\n${rows.join('\n')}\n` : '', code: 0 };
  }
  if (sub === 'delete') {
    if (!pos.length) fail(1, 'missing argument; \'token delete\' is missing token of form "[a-z0-9]{6}" or "[a-z0-9]{6}\\.[a-z0-9]{16}"');
    const out = [];
    withClusterLock(() => {
      const s = clusterState();
      const c = s.clusters[cluster.endpoint];
      for (const p of pos) {
        const id = p.split('.')[0];
        if (!/^[a-z0-9]{6}$/.test(id)) fail(1, `given token didn't match pattern "[a-z0-9]{6}" or "[a-z0-9]{6}\\.[a-z0-9]{16}"`);
        const i = c.tokens.findIndex((t) => t.id === id);
        if (i < 0) fail(1, `failed to delete bootstrap token with name "bootstrap-token-${id}": secrets "bootstrap-token-${id}" not found`);
        c.tokens.splice(i, 1);
        out.push(`bootstrap token "${id}" deleted`);
      }
      saveClusterState(s);
    });
    return { stdout: out.join('\n') + '\n', code: 0 };
  }
  fail(1, `unknown command "${sub}" for "kubeadm token"`);
}

function reset(args) {
  const { f } = flags(args, { f: false, force: false, v: true, 'cri-socket': true, 'cleanup-tmp-dir': false });
  if (!f.f && !f.force) {
    fail(1, '[reset] Are you sure you want to proceed? [y/N]: error execution phase preflight: won\'t proceed; the user didn\'t answer (Y|y) in order to continue\nTo see the stack trace of this error execute with --v=5 or higher', 'W1123 [reset] WARNING: Changes made to this host by \'kubeadm init\' or \'kubeadm join\' will be reverted.\n');
  }
  const name = hostname();
  const wasCp = exists('/etc/kubernetes/manifests/kube-apiserver.yaml');
  const server = exists('/etc/kubernetes/kubelet.conf') ? serverOf(readText('/etc/kubernetes/kubelet.conf')) : undefined;
  let etcdWarning = '';
  if (server) {
    withClusterLock(() => {
      const s = clusterState();
      const c = s.clusters[server];
      if (c) { const n = c.nodes?.[name]; if (n) n.kubeletActive = false; }
      if (c && wasCp) {
        // etcd member removed; the last control plane takes the cluster with it (its Node may be deleted already: drained first)
        if (c.nodes[name]) c.nodes[name].controlPlaneGone = true;
        const remaining = Object.entries(c.nodes).filter(([n, x]) => n !== name && x.controlPlane && !x.controlPlaneGone);
        if (!remaining.length) { delete s.clusters[server]; (s.removed ??= []).push(server); }
        else if (c.etcd) {
          saveClusterState(s);
          // kubeadm reset removes this node's etcd member; a failure is a warning, and the member stays
          const why = memberRemove(c.etcd.dir, c.etcd.endpoints, name);
          if (why) etcdWarning = `W1207 [reset] Failed to remove etcd member: ${why}, please manually remove this etcd member using etcdctl\n`;
          const address = execFileSync('hostname', ['-I'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
          c.etcd.endpoints = c.etcd.endpoints.filter((e) => e !== `https://${address}:2379`);
        }
      }
      saveClusterState(s);
    });
  }
  // the kubelet no longer runs the etcd static pod
  if (realEtcd()) stopEtcd();
  for (const p of ['/etc/kubernetes/manifests', '/etc/kubernetes/pki', '/etc/kubernetes/admin.conf', '/etc/kubernetes/super-admin.conf', '/etc/kubernetes/kubelet.conf',
    '/etc/kubernetes/bootstrap-kubelet.conf', '/etc/kubernetes/controller-manager.conf', '/etc/kubernetes/scheduler.conf', '/var/lib/etcd', '/var/lib/kubelet']) remove(p);
  const u = units();
  if (u['kubelet.service']) u['kubelet.service'].active = false;
  saveUnits(u);
  return {
    stderr: etcdWarning,
    stdout: '[reset] Deleted contents of the etcd data directory: /var/lib/etcd\n[reset] Stopping the kubelet service\n[reset] Unmounting mounted directories in "/var/lib/kubelet"\n[reset] Deleting contents of directories: [/etc/kubernetes/manifests /var/lib/kubelet /etc/kubernetes/pki]\n\nThe reset process does not clean CNI configuration. To do so, you must remove /etc/cni/net.d\n\nThe reset process does not reset or clean up iptables rules or IPVS tables.\nIf you wish to reset iptables, you must do so manually by using the "iptables" command.\n\nIf your cluster was setup to utilize IPVS, run ipvsadm --clear (or similar)\nto reset your system\'s IPVS tables.\n\nThe reset process does not clean your kubeconfig files and you must remove them manually.\nPlease, check the contents of the $HOME/.kube/config file.\n',
    code: 0,
  };
}

// ---------------------------------------------------------------- kubeadm upgrade
// kubeadm's procedure (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/):
// `upgrade plan` and `upgrade apply vX.Y.Z` on the first control plane, `upgrade node` on the
// others and on the workers. The texts are kubeadm's (cmd/kubeadm/app/cmd/upgrade/{apply,plan,node}.go,
// cmd/kubeadm/app/phases/upgrade/policy.go), as printed by kubeadm 1.28-1.31.
const STACK = '\nTo see the stack trace of this error execute with --v=5 or higher';
const semver = (v) => String(v).replace(/^v/, '').split('.').map(Number);
const cmpVersion = (a, b) => { const [x, y] = [semver(a), semver(b)]; return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; };

/** The cluster's version as kubeadm reads it: the kubeadm-config ConfigMap's ClusterConfiguration.kubernetesVersion. */
function clusterVersionOf(c) {
  const cc = c.objects['ConfigMap/kube-system/kubeadm-config']?.data?.ClusterConfiguration;
  const v = cc ? parse(cc)?.kubernetesVersion : undefined;
  return String(v ?? `v${c.version}`).replace(/^v/, '');
}

const CONFIG_LINES = [
  '[upgrade/config] Making sure the configuration is correct:',
  '[upgrade/config] Reading configuration from the cluster...',
  "[upgrade/config] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'",
  '[preflight] Running pre-flight checks.',
  '[upgrade] Running cluster health checks',
];

/**
 * The health check apply and plan run first: every control-plane node Ready
 * (ControlPlaneNodesReady, cmd/kubeadm/app/phases/upgrade/health.go), with
 * kubeadm's preflight wording as printed on a cluster with a NotReady control plane.
 */
function upgradeHealth(c, ignore) {
  const notReady = Object.entries(c.nodes).filter(([, n]) => n.controlPlane && !n.deleted && !n.controlPlaneGone && !nodeReady(c, n)).map(([name]) => name);
  if (!notReady.length || ignore.includes('all') || ignore.includes('controlplanenodesready')) return;
  fail(1, `[upgrade/health] FATAL: [preflight] Some fatal errors occurred:\n\t[ERROR ControlPlaneNodesReady]: there are NotReady control-planes in the cluster: [${notReady.join(' ')}]\n[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\`${STACK}`, CONFIG_LINES.join('\n') + '\n');
}

/**
 * EnforceVersionPolicies (cmd/kubeadm/app/phases/upgrade/policy.go): mandatory
 * errors (a skip of more than MaximumAllowedMinorVersionUpgradeSkew = 1 minor,
 * a downgrade of more than one minor, a target minor above kubeadm's own) and
 * skippable ones (--force): a target patch above kubeadm's, a kubeadm newer
 * than the target minor, kubelets too old for the target.
 */
function versionPolicy(c, target, kubeadmV) {
  const cluster = clusterVersionOf(c);
  const [t, cv, k] = [semver(target), semver(cluster), semver(kubeadmV)];
  const T = `v${target}`;
  const mandatory = [];
  const skippable = [];
  if (t[1] > cv[1] + 1) mandatory.push(`Specified version to upgrade to "${T}" is too high; kubeadm can upgrade only 1 minor version at a time`);
  if (t[1] < cv[1] - 1) mandatory.push(`Specified version to downgrade to "${T}" is too low; kubeadm can downgrade only 1 minor version at a time`);
  if (cmpVersion(kubeadmV, target) < 0) {
    if (t[1] > k[1]) mandatory.push(`Specified version to upgrade to "${T}" is at least one minor release higher than the kubeadm minor release (${t[1]} > ${k[1]}). Such an upgrade is not supported`);
    else skippable.push(`Specified version to upgrade to "${T}" is higher than the kubeadm version "v${kubeadmV}". Upgrade kubeadm first using the tool you used to install kubeadm`);
  }
  if (k[0] > t[0] || k[1] > t[1]) skippable.push(`Kubeadm version v${kubeadmV} can only be used to upgrade to Kubernetes version ${k[0]}.${k[1]}`);
  const old = [...new Set(Object.values(c.nodes).filter((n) => !n.deleted && t[1] > semver(n.version)[1] + 1).map((n) => n.version))];
  if (old.length) skippable.push(`There are kubelets in this cluster that are too old that have these versions [${old.join(' ')}]`);
  return { cluster, mandatory, skippable };
}

const formatErrs = (errs) => errs.map((e) => `\t- ${e}\n`).join('');

function upgrade(args) {
  const [sub, ...rest] = args;
  if (sub === 'plan') return upgradePlan(rest);
  if (sub === 'apply') return upgradeApply(rest);
  if (sub === 'node') return upgradeNode(rest);
  fail(1, `unknown command "${sub}" for "kubeadm upgrade"\nRun 'kubeadm upgrade --help' for usage.`);
}

function upgradePlan(args) {
  const { f, pos } = flags(args, { config: true, kubeconfig: true, 'ignore-preflight-errors': true, v: true, 'allow-experimental-upgrades': false, 'allow-release-candidate-upgrades': false, 'print-config': false, o: true, output: true });
  const c = adminCluster(f.kubeconfig);
  upgradeHealth(c, String(f['ignore-preflight-errors'] ?? '').toLowerCase().split(','));
  const cluster = clusterVersionOf(c);
  const k = kubeadmVersion();
  // without an argument kubeadm offers the newest stable release it may go to; the lab has no dl.k8s.io: kubeadm's own version stands in
  const target = String(pos[0] ?? `v${k}`).replace(/^v/, '');
  const out = [...CONFIG_LINES, `[upgrade] Fetching available versions to upgrade to`, `[upgrade/versions] Cluster version: v${cluster}`, `[upgrade/versions] kubeadm version: v${k}`, `[upgrade/versions] Target version: v${target}`];
  if (cmpVersion(target, cluster) <= 0) {
    out.push('', "Awesome, you're up-to-date! Enjoy!");
    return { stdout: out.join('\n') + '\n', code: 0 };
  }
  const nodes = Object.entries(c.nodes).filter(([, n]) => !n.deleted);
  const cps = nodes.filter(([, n]) => n.controlPlane && !n.controlPlaneGone);
  const rows1 = [['COMPONENT', 'NODE', 'CURRENT', 'TARGET'], ...nodes.map(([name, n]) => ['kubelet', name, n.version, `v${target}`])];
  const rows2 = [['COMPONENT', 'NODE', 'CURRENT', 'TARGET'],
    ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].flatMap((comp) => cps.map(([name]) => [comp, name, `v${cluster}`, `v${target}`])),
    ['kube-proxy', '', `${cluster}`, `v${target}`]];
  out.push('', "Components that must be upgraded manually after you have upgraded the control plane with 'kubeadm upgrade apply':", table(rows1).trimEnd(),
    '', 'Upgrade to the latest stable version:', '', table(rows2).trimEnd(), '',
    'You can now apply the upgrade by executing the following command:', '', `\tkubeadm upgrade apply v${target}`, '');
  // plan.go: printed when the target is newer than the kubeadm binary
  if (cmpVersion(k, target) < 0) out.push(`Note: Before you can perform this upgrade, you have to update kubeadm to v${target}.`, '');
  out.push('_____________________________________________________________________', '');
  return { stdout: out.join('\n') + '\n', code: 0 };
}

function upgradeApply(args) {
  const { f, pos } = flags(args, { y: false, yes: false, f: false, force: false, config: true, kubeconfig: true, 'ignore-preflight-errors': true, v: true, 'dry-run': false, 'etcd-upgrade': true, 'certificate-renewal': true, 'allow-experimental-upgrades': false, 'allow-release-candidate-upgrades': false, 'print-config': false });
  if (!pos[0]) fail(1, `version string can't be empty${STACK}`);
  if (!/^v?\d+\.\d+\.\d+$/.test(pos[0])) fail(1, `[upgrade/version] FATAL: unable to parse normalized version "${pos[0]}" as a semantic version${STACK}`);
  const target = pos[0].replace(/^v/, '');
  const force = f.f || f.force;
  const out = [...CONFIG_LINES];
  withClusterLock(() => {
    const s = clusterState();
    const c = s.clusters[adminCluster(f.kubeconfig).endpoint];
    upgradeHealth(c, String(f['ignore-preflight-errors'] ?? '').toLowerCase().split(','));
    const k = kubeadmVersion();
    const p = versionPolicy(c, target, k);
    out.push(`[upgrade/version] You have chosen to change the cluster version to "v${target}"`, `[upgrade/versions] Cluster version: v${p.cluster}`, `[upgrade/versions] kubeadm version: v${k}`);
    const stdout = out.join('\n') + '\n';
    if (p.mandatory.length) fail(1, `[upgrade/version] FATAL: the --version argument is invalid due to these fatal errors:\n\n${formatErrs(p.mandatory)}\nPlease fix the misalignments highlighted above and try upgrading again${STACK}`, stdout);
    if (p.skippable.length && !force) fail(1, `[upgrade/version] FATAL: the --version argument is invalid due to these errors:\n\n${formatErrs(p.skippable)}\nCan be bypassed if you pass the --force flag${STACK}`, stdout);
    // apply asks before it changes anything unless -y/--yes (or --force) makes it non-interactive
    if (!f.y && !f.yes && !force) fail(1, `won't proceed; the user didn't answer (Y|y) in order to continue${STACK}`, `${stdout}[upgrade/confirm] Are you sure you want to proceed with the upgrade? [y/N]: `);
    c.version = target;
    const cm = c.objects['ConfigMap/kube-system/kubeadm-config'];
    if (cm) cm.data.ClusterConfiguration = cm.data.ClusterConfiguration.replace(/^kubernetesVersion: .*$/m, `kubernetesVersion: v${target}`);
    saveClusterState(s);
    writeStaticPods(c);
  });
  for (const comp of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) out.push(`[upgrade/staticpods] Component "${comp}" upgraded successfully!`);
  out.push('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace',
    '[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"',
    '[addons] Applied essential addon: CoreDNS', '[addons] Applied essential addon: kube-proxy', '',
    `[upgrade/successful] SUCCESS! Your cluster was upgraded to "v${target}". Enjoy!`, '',
    "[upgrade/kubelet] Now that your control plane is upgraded, please proceed with upgrading your kubelets if you haven't already done so.");
  return { stdout: out.join('\n') + '\n', code: 0 };
}

/** This host's control-plane static Pods at the cluster's version (only on a control plane: kubeadm skips the phase elsewhere). */
function writeStaticPods(c) {
  if (!exists('/etc/kubernetes/manifests/kube-apiserver.yaml')) return false;
  for (const comp of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) writeText(`/etc/kubernetes/manifests/${comp}.yaml`, staticPod(comp, c));
  return true;
}

/**
 * `kubeadm upgrade node`: reads the ClusterConfiguration from the cluster,
 * upgrades this control plane's static Pods to its kubernetesVersion (skipped
 * on a worker) and rewrites the kubelet's configuration. The kubelet itself
 * is the package manager's job ("Now you should go ahead and upgrade the
 * kubelet package"), so the node's reported version does not change here.
 */
function upgradeNode(args) {
  const { f } = flags(args, { kubeconfig: true, 'ignore-preflight-errors': true, v: true, 'dry-run': false, 'etcd-upgrade': true, 'certificate-renewal': true, 'skip-phases': true, 'patches': true });
  const path = f.kubeconfig ?? '/etc/kubernetes/kubelet.conf';
  if (!exists(path)) fail(1, `error execution phase preflight: unable to fetch the kubeadm-config ConfigMap: failed to load kubeconfig: open ${path}: no such file or directory${STACK}`);
  const c = clusterState().clusters[serverOf(readText(path))];
  if (!c) fail(1, `unable to fetch the kubeadm-config ConfigMap: Get "https://${serverOf(readText(path))}/api/v1/namespaces/kube-system/configmaps/kubeadm-config?timeout=10s": dial tcp: connect: connection refused${STACK}`);
  const version = clusterVersionOf(c);
  const out = ['[upgrade] Reading configuration from the cluster...', "[upgrade] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'", '[preflight] Running pre-flight checks'];
  if (writeStaticPods({ ...c, version })) {
    out.push(`[upgrade] Upgrading your Static Pod-hosted control plane instance to version "v${version}"...`, '[upgrade] The control plane instance for this node was successfully upgraded!');
  } else {
    out.push('[preflight] Skipping prepull. Not a control plane node.', '[upgrade] Skipping phase. Not a control plane node.');
  }
  writeText('/var/lib/kubelet/config.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n');
  out.push('[kubelet-start] Writing kubelet configuration to file "/var/lib/kubelet/config.yaml"', '[upgrade] The configuration for this node was successfully upgraded!',
    '[upgrade] Now you should go ahead and upgrade the kubelet package using your package manager.');
  return { stdout: out.join('\n') + '\n', code: 0 };
}

export const kubeadmMutates = (args) => !['version', 'config'].includes(args[0]) && !(args[0] === 'certs' && args[1] === 'check-expiration') && !(args[0] === 'token' && args[1] === 'list') && !(args[0] === 'upgrade' && args[1] === 'plan');

// ---------------------------------------------------------------- kubeadm certs

/**
 * What `kubeadm certs renew all` prints per certificate: each renew subcommand's own description
 * (https://kubernetes.io/docs/reference/setup-tools/kubeadm/generated/kubeadm_certs/, e.g.
 * kubeadm_certs_renew_admin.conf: "Renew the certificate embedded in the kubeconfig file for the admin
 * to use and for kubeadm itself"; read 2026-12-07) followed by "renewed".
 */
const RENEWED = {
  'admin.conf': 'certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself',
  apiserver: 'certificate for serving the Kubernetes API',
  'apiserver-etcd-client': 'certificate the apiserver uses to access etcd',
  'apiserver-kubelet-client': 'certificate for the API server to connect to kubelet',
  'controller-manager.conf': 'certificate embedded in the kubeconfig file for the controller manager to use',
  'etcd-healthcheck-client': 'certificate for liveness probes to healthcheck etcd',
  'etcd-peer': 'certificate for etcd nodes to communicate with each other',
  'etcd-server': 'certificate for serving etcd',
  'front-proxy-client': 'certificate for the front proxy client',
  'scheduler.conf': 'certificate embedded in the kubeconfig file for the scheduler manager to use',
  'super-admin.conf': 'certificate embedded in the kubeconfig file for the super-admin',
};
const CA_OF = { apiserver: 'ca', 'apiserver-etcd-client': 'etcd-ca', 'apiserver-kubelet-client': 'ca', 'etcd-healthcheck-client': 'etcd-ca', 'etcd-peer': 'etcd-ca', 'etcd-server': 'etcd-ca', 'front-proxy-client': 'front-proxy-ca' };
const LEAF_FILE = { apiserver: 'apiserver', 'apiserver-etcd-client': 'apiserver-etcd-client', 'apiserver-kubelet-client': 'apiserver-kubelet-client', 'etcd-healthcheck-client': 'etcd/healthcheck-client', 'etcd-peer': 'etcd/peer', 'etcd-server': 'etcd/server', 'front-proxy-client': 'front-proxy-client' };

/** renew and check-expiration read the ClusterConfiguration from the cluster first, and go on with defaults when they cannot */
function renewConfig(kubeconfigPath, verb) {
  const lines = [`[${verb}] Reading configuration from the cluster...`, `[${verb}] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'`];
  try {
    const c = adminCluster(kubeconfigPath);
    return { lines, validity: c.validity ?? DEFAULT_VALIDITY };
  } catch {
    return { lines: [`[${verb}] Error reading configuration from the Cluster. Falling back to default configuration`], validity: DEFAULT_VALIDITY };
  }
}

/** k8s.io/apimachinery/pkg/util/duration ShortHumanDuration, which check-expiration prints */
function shortHuman(ms) {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  const h = Math.floor(s / 3600);
  if (h < 48) return `${h}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  return `${Math.floor(h / 24 / 365)}y`;
}

/** "Jan 02, 2006 15:04 UTC", check-expiration's date layout */
function expiresText(ms) {
  const d = new Date(ms);
  const p2 = (n) => String(n).padStart(2, '0');
  return `${d.toUTCString().slice(8, 11)} ${p2(d.getUTCDate())}, ${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())} UTC`;
}

function kubeconfigCert(name) {
  const text = readText(`/etc/kubernetes/${name}`, null);
  const m = text && /^ *client-certificate-data: *(\S+)/m.exec(text);
  return m ? Buffer.from(m[1], 'base64').toString('utf8') : undefined;
}

function certs(args) {
  const [sub, what, ...rest] = args;
  if (sub === 'check-expiration') {
    const { f } = flags([what, ...rest].filter((x) => x !== undefined), { config: true, kubeconfig: true, 'cert-dir': true, o: true, output: true });
    const { lines } = renewConfig(f.kubeconfig, 'check-expiration');
    const now = Date.now();
    const row = (name, pem, ca) => {
      if (!pem) return [`!MISSING! ${name}`, '', '', ...(ca === undefined ? [] : [ca]), ''];
      const d = dates(pem);
      return [name, expiresText(d.end), shortHuman(d.end - now), ...(ca === undefined ? [] : [ca]), 'no'];
    };
    const names = Object.keys(RENEWED).filter((n) => n !== 'super-admin.conf' || exists('/etc/kubernetes/super-admin.conf')).sort();
    const rows = names.map((n) => (n.endsWith('.conf') ? row(n, kubeconfigCert(n), 'ca') : row(n, readText(`${PKI}/${LEAF_FILE[n]}.crt`, null) ?? undefined, CA_OF[n])));
    const cas = [['ca', 'ca'], ['etcd-ca', 'etcd/ca'], ['front-proxy-ca', 'front-proxy-ca']].map(([n, file]) => row(n, readText(`${PKI}/${file}.crt`, null) ?? undefined));
    const out = [...lines, '', table([['CERTIFICATE', 'EXPIRES', 'RESIDUAL TIME', 'CERTIFICATE AUTHORITY', 'EXTERNALLY MANAGED'], ...rows]).trimEnd(), '',
      table([['CERTIFICATE AUTHORITY', 'EXPIRES', 'RESIDUAL TIME', 'EXTERNALLY MANAGED'], ...cas]).trimEnd()];
    return { stdout: out.join('\n') + '\n', code: 0 };
  }
  if (sub === 'renew') {
    if (!(what in RENEWED) && what !== 'all') fail(1, `unknown command "${what ?? ''}" for "kubeadm certs renew"\nRun 'kubeadm certs renew --help' for usage.`);
    if (what !== 'all') fail(1, 'kbootstrap lab: kubeadm certs renew is simulated for all only');
    const { f } = flags(rest, { config: true, kubeconfig: true, 'cert-dir': true });
    const { lines, validity } = renewConfig(f.kubeconfig, 'renew');
    const cas = localCas();
    // renewal signs with the CA of the local PKI; without its key (not a control plane) there is nothing to renew with
    if (!cas) fail(1, `${lines.join('\n')}\nerror: failed to renew certificates: the CA key is missing in ${PKI}: this is not a control plane, or its CA is external${STACK}`);
    const now = Date.now();
    const done = resignLeaves(cas, hostname(), () => ({ start: now, end: now + validity.cert }));
    const order = done.filter((n) => n !== 'super-admin.conf').sort().concat(done.includes('super-admin.conf') ? ['super-admin.conf'] : []);
    const out = [...lines, '', ...order.map((n) => `${RENEWED[n]} renewed`), '',
      'Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, so that they can use the new certificates.'];
    return { stdout: out.join('\n') + '\n', code: 0 };
  }
  fail(1, `unknown command "${sub ?? ''}" for "kubeadm certs"\nRun 'kubeadm certs --help' for usage.`);
}

// ---------------------------------------------------------------- kubectl
const CLUSTER_SCOPED = new Set(['Namespace', 'Node', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass', 'PodSecurityPolicy', 'APIService']);
const KIND_ALIASES = { cm: 'ConfigMap', configmap: 'ConfigMap', configmaps: 'ConfigMap', ds: 'DaemonSet', daemonset: 'DaemonSet', daemonsets: 'DaemonSet', deploy: 'Deployment', deployment: 'Deployment', deployments: 'Deployment', ns: 'Namespace', namespace: 'Namespace', namespaces: 'Namespace', secret: 'Secret', secrets: 'Secret', svc: 'Service', service: 'Service' };
const PLURAL = { ConfigMap: 'configmaps', DaemonSet: 'daemonsets.apps', Deployment: 'deployments.apps', Namespace: 'namespaces', Secret: 'secrets', Service: 'services' };

function objKey(o, defaultNs) {
  const ns = CLUSTER_SCOPED.has(o.kind) ? '' : o.metadata?.namespace ?? defaultNs;
  return `${o.kind}/${ns}/${o.metadata?.name}`;
}

function nodeReady(c, n) {
  return n.kubeletActive && n.runtimeActive && Boolean(c.cni) && !n.deleted;
}

function shortHash(s) {
  return createHash('sha1').update(s).digest('hex').replace(/[0-9]/g, (d) => 'bcdfghjklm'[Number(d)]).slice(0, 5);
}

function pods(c) {
  const out = [];
  const proxy = kubeProxyVerdict(c);
  const nodes = Object.entries(c.nodes).filter(([, n]) => !n.deleted);
  const anyReady = nodes.some(([, n]) => nodeReady(c, n));
  for (const [name, n] of nodes) {
    const up = n.kubeletActive && n.runtimeActive;
    if (n.controlPlane && !n.controlPlaneGone) for (const p of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']) out.push({ ns: 'kube-system', name: `${p}-${name}`, running: up });
    out.push({ ns: 'kube-system', name: `kube-proxy-${shortHash(name)}`, running: up && proxy.ok, node: name, daemonSet: true, ...(proxy.ok ? {} : { crash: true }) });
    // every DaemonSet a CNI manifest applied runs on every node (calico-node, kube-flannel-ds, a third plugin's)
    for (const ds of cniDaemonSets(c)) {
      const ok = cniAgrees(ds, proxy.mode);
      out.push({ ns: ds.metadata.namespace, name: `${ds.metadata.name}-${shortHash(`${ds.metadata.name}${name}`)}`, running: up && ok, node: name, daemonSet: true, ...(ok ? {} : { crash: true }) });
    }
  }
  for (const i of [1, 2]) out.push({ ns: 'kube-system', name: `coredns-7db6d8ff4d-${shortHash(`dns${i}`)}`, running: anyReady, pending: !anyReady });
  // and every Deployment it applied (calico-kube-controllers) once a node is Ready
  for (const d of Object.values(c.objects).filter((o) => o.kind === 'Deployment' && o.metadata?.labels?.['kblab/cni'] === 'true')) {
    out.push({ ns: d.metadata.namespace, name: `${d.metadata.name}-77d59654f4-${shortHash(d.metadata.name)}`, running: anyReady, pending: !anyReady });
  }
  return out;
}

function kubectlArgs(args) {
  const g = { ns: 'default', nsSet: false, allNs: false, output: undefined, noHeaders: false, showLabels: false, overwrite: false, files: [], raw: undefined, rest: [], timeout: undefined, forCond: undefined, all: false, fieldSelector: undefined, extra: {} };
  const valueFlags = new Set(['--kubeconfig', '-n', '--namespace', '-o', '--output', '--request-timeout', '-f', '--filename', '--raw', '--timeout', '--for', '--field-selector', '-l', '--selector', '--grace-period', '-c', '--containers']);
  const boolFlags = new Set(['--no-headers', '--show-labels', '-A', '--all-namespaces', '--overwrite', '--all', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--client', '--wait']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) { g.rest.push(a); continue; }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    if (valueFlags.has(name)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) fail(1, `error: flag needs an argument: ${name}`);
      if (name === '--kubeconfig') g.kubeconfig = v;
      if (name === '-n' || name === '--namespace') { g.ns = v; g.nsSet = true; }
      if (name === '-o' || name === '--output') g.output = v;
      if (name === '-f' || name === '--filename') g.files.push(v);
      if (name === '--raw') g.raw = v;
      if (name === '--timeout') g.timeout = v;
      if (name === '--for') g.forCond = v;
      if (name === '--field-selector') g.fieldSelector = v;
      if (name === '-c' || name === '--containers') g.containers = v;
      continue;
    }
    if (boolFlags.has(name)) {
      if (name === '--no-headers') g.noHeaders = true;
      if (name === '--show-labels') g.showLabels = true;
      if (name === '-A' || name === '--all-namespaces') g.allNs = true;
      if (name === '--overwrite') g.overwrite = true;
      if (name === '--all') g.all = true;
      if (name === '--ignore-daemonsets') g.ignoreDaemonsets = true;
      continue;
    }
    fail(1, `error: unknown flag: ${name}\nSee 'kubectl ${g.rest[0] ?? ''} --help' for usage.`);
  }
  return g;
}

function connect(g) {
  const home = process.env.HOME || '/root';
  const path = g.kubeconfig ?? (process.env.KUBECONFIG || `${home}/.kube/config`);
  if (!exists(path)) {
    if (g.kubeconfig) fail(1, `error: stat ${path}: no such file or directory`);
    fail(1, 'The connection to the server localhost:8080 was refused - did you specify the right host or port?');
  }
  const server = serverOf(readText(path));
  const s = clusterState();
  const c = s.clusters[server];
  if (!c) fail(1, `The connection to the server ${server} was refused - did you specify the right host or port?`);
  // a kube-vip cluster's endpoint is a real address on the lab network (sim/kube-vip.mjs): kubectl must reach it over TCP
  if (s.kubeVip?.[server.replace(/:\d+$/, '')]) probeTcp(server);
  return { s, c, server };
}

function probeTcp(server) {
  const [host, port] = [server.replace(/:\d+$/, ''), server.replace(/^.*:/, '')];
  try {
    execFileSync('timeout', ['5', 'bash', '-c', 'exec 3<>"/dev/tcp/$1/$2"', 'probe', host, port], { stdio: 'ignore' });
  } catch (e) {
    fail(1, e.status === 124 ? `Unable to connect to the server: dial tcp ${server}: i/o timeout` : `The connection to the server ${server} was refused - did you specify the right host or port?`);
  }
}

export function kubectl(args) {
  const g = kubectlArgs(args);
  const [verb, ...rest] = g.rest;
  if (verb === 'version' && args.includes('--client')) return { stdout: `Client Version: v${db().kubectl?.version}\nKustomize Version: v5.0.4\n`, code: 0 };
  if (!verb) fail(1, 'kubectl controls the Kubernetes cluster manager.\n\nerror: a command is required');
  switch (verb) {
    case 'get': return kGet(g, rest);
    case 'apply': case 'replace': case 'create': return kApply(g, verb);
    case 'label': return kLabel(g, rest);
    case 'rollout': return kRollout(g, rest);
    case 'set': return kSet(g, rest);
    case 'wait': return kWait(g, rest);
    case 'drain': case 'cordon': case 'uncordon': return kCordon(g, verb, rest);
    case 'delete': return kDelete(g, rest);
    case 'version': { const { c } = connect(g); return { stdout: `Client Version: v${db().kubectl?.version}\nServer Version: v${c.version}\n`, code: 0 }; }
    case 'cluster-info': { const { server } = connect(g); return { stdout: `Kubernetes control plane is running at https://${server}\n`, code: 0 }; }
    default: fail(1, `error: unknown command "${verb}" for "kubectl"`);
  }
}

function age(ms) {
  const s = Math.max(1, Math.floor((Date.now() - ms) / 1000));
  return s < 120 ? `${s}s` : `${Math.floor(s / 60)}m`;
}

function kGet(g, rest) {
  const { c } = connect(g);
  if (g.raw) {
    if (['/readyz', '/healthz', '/livez'].includes(g.raw)) return { stdout: 'ok', code: 0 };
    fail(1, `Error from server (NotFound): the server could not find the requested resource`);
  }
  const [what, name] = rest;
  if (!what) fail(1, 'You must specify the type of resource to get.');
  if (what.includes(',')) return kGetList(g, c, what.split(','), name);
  if (['nodes', 'node', 'no'].includes(what)) {
    let nodes = Object.entries(c.nodes).filter(([, n]) => !n.deleted);
    if (name) { nodes = nodes.filter(([n]) => n === name); if (!nodes.length) fail(1, `Error from server (NotFound): nodes "${name}" not found`); }
    if (g.output === 'json' || g.output === 'yaml') {
      const items = nodes.map(([n, v]) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels: v.labels }, spec: { unschedulable: v.unschedulable || undefined }, status: { conditions: [{ type: 'Ready', status: nodeReady(c, v) ? 'True' : 'False' }], nodeInfo: { kubeletVersion: v.version }, addresses: [{ type: 'InternalIP', address: v.address }] } }));
      const obj = name ? items[0] : { apiVersion: 'v1', kind: 'List', items };
      return { stdout: g.output === 'json' ? JSON.stringify(obj, null, 2) + '\n' : stringify(obj), code: 0 };
    }
    const rows = nodes.map(([n, v]) => {
      const roles = Object.keys(v.labels).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.split('/')[1]).join(',') || '<none>';
      const status = (nodeReady(c, v) ? 'Ready' : 'NotReady') + (v.unschedulable ? ',SchedulingDisabled' : '');
      const cols = [n, status, roles, age(v.created), v.version];
      if (g.output === 'wide') cols.push(v.address);
      if (g.showLabels) cols.push(Object.entries(v.labels).map(([k, x]) => `${k}=${x}`).join(',') || '<none>');
      return cols;
    });
    const header = ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', ...(g.output === 'wide' ? ['INTERNAL-IP'] : []), ...(g.showLabels ? ['LABELS'] : [])];
    return { stdout: table(g.noHeaders ? rows : [header, ...rows]), code: 0 };
  }
  if (['pods', 'pod', 'po'].includes(what)) {
    const list = pods(c).filter((p) => g.allNs || p.ns === g.ns);
    if (!list.length) return { stdout: '', stderr: `No resources found in ${g.ns} namespace.\n`, code: 0 };
    const rows = list.map((p) => [...(g.allNs ? [p.ns] : []), p.name, p.running ? '1/1' : '0/1', p.running ? 'Running' : p.crash ? 'CrashLoopBackOff' : p.pending ? 'Pending' : 'ContainerCreating', p.crash ? '5' : '0', '5m']);
    const header = [...(g.allNs ? ['NAMESPACE'] : []), 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'];
    return { stdout: table(g.noHeaders ? rows : [header, ...rows]), code: 0 };
  }
  const kind = KIND_ALIASES[what];
  if (!kind) fail(1, `error: the server doesn't have a resource type "${what}"`);
  const key = `${kind}/${CLUSTER_SCOPED.has(kind) ? '' : g.ns}/${name}`;
  const obj = c.objects[key];
  if (!obj) fail(1, `Error from server (NotFound): ${PLURAL[kind] ?? kind.toLowerCase()} "${name}" not found`);
  if (g.output === 'json') return { stdout: JSON.stringify(obj, null, 2) + '\n', code: 0 };
  if (g.output === 'yaml') return { stdout: stringify(obj, { lineWidth: 0 }), code: 0 };
  return { stdout: table([['NAME', 'AGE'], [name, '5m']]), code: 0 };
}

/**
 * `kubectl get TYPE,TYPE,... [-A] -o json`: one List with the items of every
 * type, as kubectl prints several resource types at once.
 */
function kGetList(g, c, types, name) {
  if (name) fail(1, 'error: you may only specify a single resource type when naming a resource');
  if (g.output !== 'json') fail(1, 'kbootstrap lab: kubectl get of several types is simulated for -o json only');
  const items = [];
  for (const t of types) {
    if (['nodes', 'node', 'no'].includes(t)) {
      for (const [n, v] of Object.entries(c.nodes).filter(([, x]) => !x.deleted)) {
        items.push({ apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels: v.labels }, spec: { unschedulable: v.unschedulable || undefined }, status: { conditions: [{ type: 'Ready', status: nodeReady(c, v) ? 'True' : 'False' }], nodeInfo: { kubeletVersion: v.version }, addresses: [{ type: 'InternalIP', address: v.address }] } });
      }
    } else if (['pods', 'pod', 'po'].includes(t)) {
      for (const p of pods(c).filter((x) => g.allNs || x.ns === g.ns)) {
        items.push({ apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.ns }, status: { phase: p.running || p.crash ? 'Running' : 'Pending', containerStatuses: [{ name: p.name.split('-')[0], ready: Boolean(p.running), ...(p.crash ? { restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } } : {}) }] } });
      }
    } else {
      const kind = KIND_ALIASES[t];
      if (!kind) fail(1, `error: the server doesn't have a resource type "${t}"`);
      for (const [key, obj] of Object.entries(c.objects)) {
        const [k, ns] = key.split('/');
        if (k === kind && (g.allNs || CLUSTER_SCOPED.has(kind) || ns === g.ns)) items.push(obj);
      }
    }
  }
  return { stdout: JSON.stringify({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, null, 4) + '\n', code: 0 };
}

function table(rows) {
  if (!rows.length) return '';
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  return rows.map((r) => r.map((x, i) => (i === r.length - 1 ? String(x) : String(x).padEnd(w[i] + 3))).join('')).join('\n') + '\n';
}

function readManifests(g) {
  if (!g.files.length) fail(1, 'error: must specify one of -f and -k');
  const docs = [];
  for (const f of g.files) {
    const text = f === '-' ? readStdin() : (exists(f) ? readText(f) : fail(1, `error: the path "${f}" does not exist`));
    for (const d of parseAllDocuments(text)) {
      if (d.errors.length) fail(1, `error: error parsing ${f}: error converting YAML to JSON: yaml: ${d.errors[0].message.split('\n')[0]}`);
      const o = d.toJS();
      if (!o) continue;
      if (!o.kind || !o.apiVersion) fail(1, `error: error validating "${f}": error validating data: [apiVersion not set, kind not set]; if you choose to ignore these errors, turn validation off with --validate=false`);
      docs.push({ o, f });
    }
  }
  return docs;
}

function kApply(g, verb) {
  const docs = readManifests(g);
  if (!docs.length) fail(1, `error: no objects passed to ${verb}`);
  const cniFiles = new Set(docs.filter(({ o }) => o.kind === 'DaemonSet').map(({ f }) => f));
  const out = [];
  withClusterLock(() => {
    const { s, server } = connect(g);
    const c = s.clusters[server];
    for (const { o, f } of docs) {
      const key = objKey(o, g.ns);
      const ns = key.split('/')[1];
      if (ns && !c.objects[`Namespace//${ns}`]) {
        fail(1, `Error from server (NotFound): error when creating "${f}": namespaces "${ns}" not found`);
      }
      const kindName = `${o.kind.toLowerCase()}${o.apiVersion.includes('/') && !o.apiVersion.startsWith('v1') ? `.${o.apiVersion.split('/')[0]}` : ''}/${o.metadata?.name}`;
      const existing = c.objects[key];
      if (verb === 'replace' && !existing) fail(1, `Error from server (NotFound): error when replacing "${f}": ${PLURAL[o.kind] ?? o.kind.toLowerCase()} "${o.metadata?.name}" not found`);
      if (verb === 'create' && existing) fail(1, `Error from server (AlreadyExists): error when creating "${f}": ${PLURAL[o.kind] ?? o.kind.toLowerCase()} "${o.metadata?.name}" already exists`);
      // what a CNI manifest (a file with a DaemonSet) creates: its DaemonSets make the nodes' network (c.cni), and
      // they and its Deployments run as the lab's Pods (pods()); marked before the comparison, so a second apply is unchanged
      if (['DaemonSet', 'Deployment'].includes(o.kind) && cniFiles.has(f) && key !== 'DaemonSet/kube-system/kube-proxy') {
        o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kblab/cni': 'true' };
        if (o.kind === 'DaemonSet') c.cni = o.metadata.name;
      }
      const same = existing && JSON.stringify(existing) === JSON.stringify(o);
      c.objects[key] = o;
      out.push(`${kindName} ${verb === 'replace' ? 'replaced' : verb === 'create' ? 'created' : same ? 'unchanged' : existing ? 'configured' : 'created'}`);
    }
    saveClusterState(s);
  });
  return { stdout: out.join('\n') + '\n', code: 0 };
}

function kLabel(g, rest) {
  const [what, name, ...pairs] = rest;
  if (!['node', 'nodes', 'no'].includes(what)) fail(1, 'kbootstrap lab: kubectl label is simulated for nodes only');
  let changed = false;
  withClusterLock(() => {
    const { s, server } = connect(g);
    const n = s.clusters[server].nodes[name];
    if (!n || n.deleted) fail(1, `Error from server (NotFound): nodes "${name}" not found`);
    for (const p of pairs) {
      if (p.endsWith('-')) { if (p.slice(0, -1) in n.labels) { delete n.labels[p.slice(0, -1)]; changed = true; } continue; }
      const i = p.indexOf('=');
      if (i <= 0) fail(1, `error: at least one label update is required`);
      const [k, v] = [p.slice(0, i), p.slice(i + 1)];
      if (k in n.labels && n.labels[k] !== v && !g.overwrite) fail(1, `error: '${k}' already has a value (${n.labels[k]}), and --overwrite is false`);
      if (n.labels[k] !== v) changed = true;
      n.labels[k] = v;
    }
    saveClusterState(s);
  });
  return { stdout: `node/${name} ${changed ? 'labeled' : 'not labeled'}\n`, code: 0 };
}

function kRollout(g, rest) {
  const [sub, what, name] = rest;
  if (sub !== 'restart') fail(1, `kbootstrap lab: kubectl rollout ${sub} is not simulated`);
  const kind = KIND_ALIASES[what] ?? (what?.includes('/') ? KIND_ALIASES[what.split('/')[0]] : undefined);
  const objName = name ?? what?.split('/')[1];
  withClusterLock(() => {
    const { s, server } = connect(g);
    const o = s.clusters[server].objects[`${kind}/${g.ns}/${objName}`];
    if (!o) fail(1, `Error from server (NotFound): ${PLURAL[kind] ?? what} "${objName}" not found`);
    o.spec ??= {};
    o.spec.template ??= { metadata: {} };
    o.spec.template.metadata ??= {};
    o.spec.template.metadata.annotations = { ...(o.spec.template.metadata.annotations ?? {}), 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() };
    o.metadata.generation = (o.metadata.generation ?? 1) + 1;
    saveClusterState(s);
  });
  return { stdout: `${kind.toLowerCase()}.apps/${objName} restarted\n`, code: 0 };
}

/**
 * kubectl set env TYPE/NAME [-c CONTAINER] NAME=VALUE...: sets (or, NAME-, removes) env entries in
 * the Pod template, which rolls the workload out again (https://kubernetes.io/docs/reference/kubectl/generated/kubectl_set/kubectl_set_env/, read 2026-12-07).
 */
function kSet(g, rest) {
  const [sub, what, ...pairs] = rest;
  if (sub !== 'env') fail(1, `kbootstrap lab: kubectl set ${sub} is not simulated`);
  const [type, objName] = (what ?? '').split('/');
  const kind = KIND_ALIASES[type];
  if (!kind || !objName) fail(1, 'error: you must specify resources by --filename when no objects are given');
  let changed = false;
  withClusterLock(() => {
    const { s, server } = connect(g);
    const o = s.clusters[server].objects[`${kind}/${g.ns}/${objName}`];
    if (!o) fail(1, `Error from server (NotFound): ${PLURAL[kind] ?? type} "${objName}" not found`);
    for (const ct of o.spec?.template?.spec?.containers ?? []) {
      if (g.containers && g.containers !== '*' && ct.name !== g.containers) continue;
      for (const p of pairs) {
        const i = p.indexOf('=');
        const [k, v] = i > 0 ? [p.slice(0, i), p.slice(i + 1)] : [p.replace(/-$/, ''), undefined];
        const env = ct.env ?? [];
        const at = env.findIndex((e) => e.name === k);
        if (v === undefined) { if (at >= 0) { env.splice(at, 1); changed = true; } }
        else if (at < 0) { env.push({ name: k, value: v }); changed = true; }
        else if (env[at].value !== v) { env[at] = { name: k, value: v }; changed = true; }
        ct.env = env;
      }
    }
    if (changed) o.metadata.generation = (o.metadata.generation ?? 1) + 1;
    saveClusterState(s);
  });
  return { stdout: `${kind.toLowerCase()}.apps/${objName} ${changed ? 'env updated' : 'unchanged'}\n`, code: 0 };
}

/**
 * kube-proxy against its ConfigMap: mode nftables is a mode kube-proxy knows from 1.29 (alpha,
 * behind the NFTablesProxyMode gate, off by default until 1.31: KEP-3866 kep.yaml; kubernetes/website
 * feature-gates/nftables-proxy-mode.md, read 2026-12-07); a mode it does not know or a gate that is
 * off makes it exit, so its Pods never run.
 */
function kubeProxyVerdict(c) {
  const cm = c.objects['ConfigMap/kube-system/kube-proxy'];
  let conf = {};
  try { conf = parseRemembered(cm?.data?.['config.conf'] ?? '') ?? {}; } catch { conf = {}; }
  const mode = conf.mode || 'iptables';
  const minor = minorOf(c.version);
  if (mode === 'nftables') {
    if (minor < 29) return { ok: false, mode };
    const gate = conf.featureGates?.NFTablesProxyMode;
    if (minor < 31 && gate !== true) return { ok: false, mode };
    if (minor < 33 && gate === false) return { ok: false, mode };
  }
  return { ok: ['iptables', 'ipvs', 'nftables'].includes(mode), mode };
}

/** The DaemonSets a CNI manifest applied. */
function cniDaemonSets(c) {
  return Object.values(c.objects).filter((o) => o.kind === 'DaemonSet' && o.metadata?.labels?.['kblab/cni'] === 'true');
}

/**
 * calico-node's Felix must run nftables exactly when kube-proxy does ("To use Calico in nftables
 * mode, your cluster's kube-proxy must also be in nftables mode", docs.tigera.io getting-started
 * nftables; kube-proxy in nftables mode "breaks Calico unless nftables is enabled there also",
 * kubernetes-sigs/kubespray#12198; read 2026-12-07). Felix's NFTablesMode (FELIX_NFTABLESMODE) exists
 * from v3.29.0 (Disabled by default) and defaults to Auto, following kube-proxy, from v3.32
 * (projectcalico/calico felix/config/config_params.go at the tags). Other plugins are not judged.
 */
function cniAgrees(ds, proxyMode) {
  if (ds.metadata?.name !== 'calico-node') return true;
  const ct = (ds.spec?.template?.spec?.containers ?? []).find((x) => x.name === 'calico-node');
  const tag = /:v?(\d+)\.(\d+)/.exec(ct?.image ?? '');
  const minor = tag && Number(tag[1]) === 3 ? Number(tag[2]) : 0;
  const env = (ct?.env ?? []).find((e) => e.name === 'FELIX_NFTABLESMODE')?.value;
  const felixNft = minor < 29 ? false : env === 'Enabled' || (minor >= 32 && (env === undefined || env === 'Auto') && proxyMode === 'nftables');
  return felixNft === (proxyMode === 'nftables');
}

function kWait(g, rest) {
  if (g.forCond !== 'condition=Ready') fail(1, `kbootstrap lab: kubectl wait is simulated for --for=condition=Ready only`);
  const timeout = g.timeout ? parseDuration(g.timeout) : 30_000;
  const deadline = Date.now() + timeout;
  for (;;) {
    const { c } = connect(g);
    const pending = [];
    const met = [];
    if (rest[0] === 'pod' || rest[0] === 'pods') {
      for (const p of pods(c).filter((x) => x.ns === g.ns)) (p.running ? met : pending).push(`pod/${p.name}`);
    } else {
      for (const r of rest) {
        const [kind, name] = r.split('/');
        if (kind !== 'node') fail(1, `kbootstrap lab: kubectl wait is simulated for nodes and pods only`);
        const n = c.nodes[name];
        if (!n || n.deleted) fail(1, `Error from server (NotFound): nodes "${name}" not found`);
        (nodeReady(c, n) ? met : pending).push(`node/${name}`);
      }
    }
    if (!pending.length) return { stdout: met.map((m) => `${m} condition met`).join('\n') + '\n', code: 0 };
    if (Date.now() >= deadline) fail(1, `${met.map((m) => `${m} condition met`).join('\n')}${met.length ? '\n' : ''}error: timed out waiting for the condition on ${pending[0].replace(/^node\//, 'nodes/').replace(/^pod\//, 'pods/')}`);
    execFileSync('sleep', ['0.5']);
  }
}

/**
 * cordon/uncordon set spec.unschedulable (STATUS shows ",SchedulingDisabled"),
 * saying "already cordoned"/"already uncordoned" when nothing changes. drain
 * cordons first, then refuses DaemonSet-managed Pods unless --ignore-daemonsets
 * (the controller would recreate them at once); the node stays cordoned.
 * Wording of kubectl 1.26+ (staging/src/k8s.io/kubectl/pkg/drain/filters.go,
 * pkg/cmd/drain/drain.go), as in
 * "error: unable to drain node "worker2" due to error: cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ..., continuing command...".
 * Static (mirror) Pods are not evicted; the lab has no other Pods bound to a node.
 */
function kCordon(g, verb, rest) {
  const [name] = rest;
  let was = false;
  let daemonPods = [];
  withClusterLock(() => {
    const { s, server } = connect(g);
    const c = s.clusters[server];
    const n = c.nodes[name];
    if (!n || n.deleted) fail(1, `Error from server (NotFound): nodes "${name}" not found`);
    was = Boolean(n.unschedulable);
    n.unschedulable = verb !== 'uncordon';
    daemonPods = pods(c).filter((p) => p.node === name && p.daemonSet).map((p) => `${p.ns}/${p.name}`);
    saveClusterState(s);
  });
  const line = verb === 'uncordon' ? `node/${name} ${was ? 'uncordoned' : 'already uncordoned'}` : `node/${name} ${was ? 'already cordoned' : 'cordoned'}`;
  if (verb !== 'drain') return { stdout: `${line}\n`, code: 0 };
  if (daemonPods.length && !g.ignoreDaemonsets) {
    const why = `cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): ${daemonPods.join(', ')}`;
    fail(1, `error: unable to drain node "${name}" due to error: ${why}, continuing command...\nThere are pending nodes to be drained:\n ${name}\n${why}`, `${line}\n`);
  }
  const warning = daemonPods.length ? `Warning: ignoring DaemonSet-managed Pods: ${daemonPods.join(', ')}\n` : '';
  return { stdout: `${line}\nnode/${name} drained\n`, stderr: warning, code: 0 };
}

function kDelete(g, rest) {
  const [what, name] = rest;
  if (!['node', 'nodes', 'no'].includes(what)) fail(1, 'kbootstrap lab: kubectl delete is simulated for nodes only');
  withClusterLock(() => {
    const { s, server } = connect(g);
    const c = s.clusters[server];
    if (!c.nodes[name] || c.nodes[name].deleted) fail(1, `Error from server (NotFound): nodes "${name}" not found`);
    delete c.nodes[name];
    saveClusterState(s);
  });
  return { stdout: `node "${name}" deleted\n`, code: 0 };
}

export const kubectlMutates = (args) => args.some((a) => ['apply', 'replace', 'create', 'label', 'rollout', 'drain', 'cordon', 'uncordon', 'delete', 'set'].includes(a));
