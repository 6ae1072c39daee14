// kblab: the part of a control plane's kubelet that matters for the VIP,
// as one long-running process per host (a lab host has no real kubelet):
//   - "kube-apiserver": while /etc/kubernetes/manifests/kube-apiserver.yaml
//     exists and the kubelet unit is active, a real TCP listener on
//     0.0.0.0:6443 that answers every connection with `kblab-apiserver HOST`;
//   - "kube-vip": while /etc/kubernetes/manifests/kube-vip.yaml exists and the
//     kubelet is active, leader election on a lease in the shared cluster
//     state (the manifest's vip_leaseduration and vip_retryperiod), and on the
//     leader the real `ip addr add VIP/32 dev vip_interface` in this host's
//     network namespace plus gratuitous ARP (garp.py), as kube-vip does in
//     ARP mode: at once, then again every vip_arpRate milliseconds while it
//     leads (default 3000, under 500 taken as 3000: pkg/kubevip/config_environment.go
//     and the manager's broadcast loop), alternating request and reply
//     (pkg/vip/arp.go, gratuitousARP); a host that is not the leader removes
//     the address.
//   - when kube-apiserver.yaml changes (kubeadm upgrade apply/node writes a
//     new one), the kubelet replaces the static Pod: the listener is gone
//     for APISERVER_RESTART_MS (kubeadm waits for that restart: it watches
//     the static Pod's hash change, cmd/kubeadm/app/phases/upgrade/staticpods.go).
//     A leader cannot renew its Lease meanwhile: kube-vip reaches the API
//     server at kubernetes:6443, this host (kube-vip's NewManager in
//     pkg/cluster/clusterLeaderElection.go), or through admin.conf at the VIP,
//     which it holds itself (dell/omnia#4992): so the VIP points at nothing
//     until the API server is back, or until the Lease runs out;
//   - when kube-apiserver.yaml leaves the manifests directory (kubeadm's documented
//     static Pod restart after `kubeadm certs renew`) the listener closes, and when
//     it comes back the Pod starts again: the same APISERVER_RESTART_MS;
//   - a kube-vip whose manifest is removed stops gracefully and gives up its
//     Lease (ReleaseOnCancel: true, same file), so another control plane
//     takes over within its retry period instead of waiting out the lease.
// kube-vip's kubeconfig (the manifest's hostPath) must exist, and on
// Kubernetes >= 1.29 admin.conf has no rights while `kubeadm init` runs
// (kube-vip/kube-vip#684): during init only super-admin.conf works.
// Started by the simulated kubeadm (init, control-plane join) when a
// kube-vip manifest is there; one per host (pid file).
import net from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
// yaml only when a manifest is read (see kube.mjs)
const parse = (...a) => createRequire(import.meta.url)('yaml').parse(...a);
import { CLUSTER, clusterState, exists, hostname, readJson, readText, saveClusterState, units, withClusterLock } from './lib.mjs';

export const KUBE_VIP_MANIFEST = '/etc/kubernetes/manifests/kube-vip.yaml';
export const PID_FILE = '/var/lib/kblab/kube-vip.pid';
const APISERVER_MANIFEST = '/etc/kubernetes/manifests/kube-apiserver.yaml';
/** a real API server takes longer; long enough that a probe every 200 ms cannot miss it */
const APISERVER_RESTART_MS = 3000;
const LOG = '/var/log/kblab/kube-vip.log';
const me = hostname();

const log = (msg) => { try { appendFileSync(LOG, `${new Date().toISOString()} ${msg}\n`); } catch { /* best effort */ } };

/** The manifest's settings, or undefined when there is none (or it does not parse). */
export function kubeVipSettings(text = readText(KUBE_VIP_MANIFEST)) {
  if (!text) return undefined;
  try {
    const pod = parse(text);
    const c = pod.spec.containers[0];
    const env = Object.fromEntries((c.env ?? []).filter((e) => 'value' in e).map((e) => [e.name, e.value]));
    return {
      address: env.address,
      iface: env.vip_interface,
      leaseSeconds: Number(env.vip_leaseduration ?? 5),
      retrySeconds: Number(env.vip_retryperiod ?? 1),
      arpRateMs: Number(env.vip_arpRate) >= 500 ? Number(env.vip_arpRate) : 3000,
      kubeconfig: pod.spec.volumes?.find((v) => v.name === 'kubeconfig')?.hostPath?.path,
    };
  } catch { return undefined; }
}

const kubeletActive = () => Boolean(units()['kubelet.service']?.active);
const minorOf = (v) => Number(String(v ?? '0.0').replace(/^v/, '').split('.')[1]);

function holds(address, iface) {
  try { return execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', iface], { encoding: 'utf8' }).includes(` ${address}/`); } catch { return false; }
}

let garpKind = 'reply';
let garpAt = 0;
/** One gratuitous ARP for the VIP, the other kind than the last one (kube-vip alternates them). */
function garp(iface, address) {
  garpKind = garpKind === 'reply' ? 'request' : 'reply';
  garpAt = Date.now();
  try { execFileSync('/usr/bin/python3', [new URL('./garp.py', import.meta.url).pathname, iface, address, garpKind], { stdio: 'ignore', timeout: 5000 }); } catch (e) { log(`gratuitous ARP failed: ${e.message}`); }
}

function take(k) {
  const { address, iface } = k;
  if (holds(address, iface)) {
    // the leader keeps the neighbours' caches fresh
    if (Date.now() - garpAt >= k.arpRateMs) garp(iface, address);
    return;
  }
  execFileSync('ip', ['addr', 'add', `${address}/32`, 'dev', iface]);
  // neighbours' caches still point at the old leader's MAC: announce the move, as kube-vip does
  garp(iface, address);
  log(`took ${address} on ${iface}`);
}

function release(address, iface) {
  if (!address || !iface || !holds(address, iface)) return;
  try { execFileSync('ip', ['addr', 'del', `${address}/32`, 'dev', iface]); } catch { /* gone */ }
  log(`released ${address} from ${iface}`);
}

/** Why kube-vip cannot reach the API server with its kubeconfig, or undefined when it can. */
function noRights(k, cluster) {
  if (!k.kubeconfig || !exists(k.kubeconfig)) return `open ${k.kubeconfig}: no such file or directory`;
  if (k.kubeconfig.endsWith('/admin.conf') && cluster?.initializing === me && minorOf(cluster.version) >= 29) {
    return 'leases.coordination.k8s.io "plndr-cp-lock" is forbidden: User "kubernetes-admin" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "kube-system"';
  }
  return undefined;
}

/** One round of leader election; returns whether this host leads. */
function elect(k) {
  return withClusterLock(() => {
    const s = clusterState();
    const cluster = Object.values(s.clusters).find((c) => c.endpoint?.startsWith(`${k.address}:`));
    const why = noRights(k, cluster);
    if (why) { log(why); return false; }
    s.kubeVip ??= {};
    const l = s.kubeVip[k.address];
    const now = Date.now();
    if (l && l.holder !== me && now - l.renewed < k.leaseSeconds * 1000) return false;
    // this host's API server is restarting: no renewal, the lease it has runs on
    if (restarting()) {
      if (l?.holder === me && now - l.renewed < k.leaseSeconds * 1000) return true;
      log('cannot renew the lease: the API server is restarting');
      return false;
    }
    s.kubeVip[k.address] = { holder: me, renewed: now, leaseSeconds: k.leaseSeconds };
    saveClusterState(s);
    return true;
  });
}

/** Start the process unless it runs already (it checks its pid file itself). */
export function startKubeVip() {
  if (!exists(KUBE_VIP_MANIFEST)) return;
  spawn(process.execPath, [new URL(import.meta.url).pathname], { detached: true, stdio: 'ignore' }).unref();
}

/** Wait until this host holds the VIP (kubeadm init waits for the API server through it). */
export function waitForVip(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const k = kubeVipSettings();
    if (k && holds(k.address, k.iface)) return true;
    if (Date.now() > deadline) return false;
    execFileSync('sleep', ['0.2']);
  }
}

let server;
let last; // the settings the address was taken with, to release it after the manifest changes or goes
let apiserverSpec; // the manifest the running API server was started from
let restartUntil = 0;
let stoppedForRestart = false; // the manifest went away while the Pod ran: its return starts it again
const restarting = () => Date.now() < restartUntil;

/** Whether the API server runs now: its manifest is there, and it is not being replaced after a change. */
function apiserverRuns(active) {
  const text = active ? readText(APISERVER_MANIFEST) : '';
  if (!text) {
    // the manifest moved out of the kubelet's directory (certs renew's restart): the Pod stops
    if (apiserverSpec !== undefined && active) { stoppedForRestart = true; log(`${APISERVER_MANIFEST} gone: the static Pod stops`); }
    apiserverSpec = undefined;
    return false;
  }
  if ((apiserverSpec !== undefined && text !== apiserverSpec) || (apiserverSpec === undefined && stoppedForRestart)) {
    // a changed manifest is replaced, one that came back is started: either way the API server takes a while
    stoppedForRestart = false;
    restartUntil = Date.now() + APISERVER_RESTART_MS;
    log(`${APISERVER_MANIFEST} ${apiserverSpec === undefined ? 'back' : 'changed'}: the static Pod restarts`);
  }
  apiserverSpec = text;
  return !restarting();
}

/** Give the Lease up (a graceful stop): the next candidate need not wait for it to run out. */
function resign(address) {
  withClusterLock(() => {
    const s = clusterState();
    if (s.kubeVip?.[address]?.holder !== me) return;
    delete s.kubeVip[address];
    saveClusterState(s);
    log(`gave up the lease on ${address}`);
  });
}

function apiserver(on) {
  if (on && !server) {
    server = net.createServer((sock) => {
      // a client that hangs up at once (kubectl's connect probe) resets the connection: not this process's concern
      sock.on('error', () => {});
      sock.end(`kblab-apiserver ${me}\n`);
    });
    server.on('error', (e) => { log(`listen 6443: ${e.message}`); server = undefined; });
    server.listen(6443, '0.0.0.0');
  } else if (!on && server) {
    server.close();
    server = undefined;
  }
}

function tick() {
  const active = kubeletActive();
  apiserver(apiserverRuns(active));
  const k = active ? kubeVipSettings() : undefined;
  if (last && (!k || k.address !== last.address || k.iface !== last.iface)) {
    release(last.address, last.iface);
    // the manifest went (or changed): the kubelet stopped this kube-vip, which releases on cancel
    if (active) resign(last.address);
  }
  if (!k?.address || !k.iface) { last = undefined; return restarting() ? 200 : 1000; }
  last = k;
  if (elect(k)) take(k);
  else release(k.address, k.iface);
  // while the API server restarts, look again soon so it comes back on time
  return restarting() ? 200 : k.retrySeconds * 1000;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const running = Number(readText(PID_FILE).trim());
  let alive = false;
  try { if (running && running !== process.pid) { process.kill(running, 0); alive = true; } } catch { /* stale */ }
  if (!alive) {
    writeFileSync(PID_FILE, `${process.pid}\n`);
    // kube-vip keeps running whatever one round hits; so does this, and says what it was
    process.on('uncaughtException', (e) => log(`uncaught: ${e.stack ?? e}`));
    log(`started (cluster state ${CLUSTER}, ${JSON.stringify(readJson(`${CLUSTER}/state.json`, {}).kubeVip ?? {})})`);
    const loop = () => {
      let next = 1000;
      try { next = tick(); } catch (e) { log(`error: ${e.stack ?? e}`); }
      setTimeout(loop, next);
    };
    loop();
  }
}
