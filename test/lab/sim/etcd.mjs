// kblab: a REAL etcd (Debian's 3.5 build, bound into the host at /usr/lib/kblab-etcd by the lab
// when it is started with `etcd`) as the store of a lab cluster, run the way kubeadm's stacked
// etcd static pod runs it: one member per control plane, TLS for clients and peers with
// kubeadm's certificate layout under /etc/kubernetes/pki/etcd (made here with openssl),
// listening on 127.0.0.1:2379 and the host's address, data in /var/lib/etcd.
// kubeadm's manifest flags: cmd/kubeadm/app/phases/etcd/local.go getEtcdCommand; the join:
// "[etcd] Announced new etcd member joining to the existing etcd cluster" (member add, then the
// new member starts with --initial-cluster-state=existing); reset removes the member
// (cmd/kubeadm/app/cmd/phases/reset/removeetcdmember.go). Read 2026-12-07.
//
// The simulated API server keeps a cluster's record (nodes, objects, tokens) as one JSON value
// under /registry/kblab/cluster in that etcd, so kubectl reads and writes real etcd data, and a
// snapshot (kbootstrap backup) and its restore move it. Without the binaries the lab keeps the
// record in the shared JSON file, as before.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';

export const ETCD_DIR = '/usr/lib/kblab-etcd';
export const realEtcd = () => existsSync(`${ETCD_DIR}/etcd`);
const PKI = '/etc/kubernetes/pki/etcd';
const PID = '/var/lib/kblab/etcd.pid';
const KEY = '/registry/kblab/cluster';

/** Where the simulated API server keeps its etcd client credentials, shared by every host (the cluster directory). */
export const clientDir = (clusterDir, endpoint) => join(clusterDir, 'etcd', endpoint.replace(/[^A-Za-z0-9.-]/g, '_'));

function openssl(args, input) {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'], encoding: 'utf8' });
}

/** A key and a certificate signed by the etcd CA, with kubeadm's usages and SANs. */
function leaf(name, cn, usage, sans) {
  const dir = mkdtempSync('/tmp/kblab-etcd-');
  try {
    writeFileSync(join(dir, 'ext'), `extendedKeyUsage=${usage}\n${sans.length ? `subjectAltName=${sans.join(',')}\n` : ''}`);
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${PKI}/${name}.key`]);
    openssl(['req', '-new', '-key', `${PKI}/${name}.key`, '-subj', `/CN=${cn}`, '-out', join(dir, 'csr')]);
    openssl(['x509', '-req', '-in', join(dir, 'csr'), '-CA', `${PKI}/ca.crt`, '-CAkey', `${PKI}/ca.key`, '-CAcreateserial', '-CAserial', join(dir, 'srl'), '-days', '365', '-extfile', join(dir, 'ext'), '-out', `${PKI}/${name}.crt`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * kubeadm's etcd certificates for this host (cmd/kubeadm/app/phases/certs: etcd/ca, etcd/server and
 * etcd/peer with the host's name, localhost and addresses, etcd/healthcheck-client, apiserver-etcd-client).
 * An etcd CA already there (restored, or copied from the cluster on join) is used, as kubeadm does.
 */
export function etcdPki(name, address, ca) {
  mkdirSync(PKI, { recursive: true });
  if (ca) { writeFileSync(`${PKI}/ca.crt`, ca.crt); writeFileSync(`${PKI}/ca.key`, ca.key, { mode: 0o600 }); }
  if (!existsSync(`${PKI}/ca.crt`)) {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${PKI}/ca.key`]);
    openssl(['req', '-x509', '-new', '-key', `${PKI}/ca.key`, '-subj', '/CN=etcd-ca', '-days', '3650', '-out', `${PKI}/ca.crt`]);
  }
  const sans = [`DNS:${name}`, 'DNS:localhost', `IP:${address}`, 'IP:127.0.0.1'];
  leaf('server', name, 'serverAuth,clientAuth', sans);
  leaf('peer', name, 'serverAuth,clientAuth', sans);
  leaf('healthcheck-client', 'kube-etcd-healthcheck-client', 'clientAuth', []);
  leaf('../apiserver-etcd-client', 'kube-apiserver-etcd-client', 'clientAuth', []);
}

/** The simulated API server's credentials, in the shared cluster directory (copied from a control plane). */
export function shareClientCredentials(dir) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'ca.crt'), readFileSync(`${PKI}/ca.crt`));
  writeFileSync(join(dir, 'ca.key'), readFileSync(`${PKI}/ca.key`), { mode: 0o600 });
  writeFileSync(join(dir, 'client.crt'), readFileSync('/etc/kubernetes/pki/apiserver-etcd-client.crt'));
  writeFileSync(join(dir, 'client.key'), readFileSync('/etc/kubernetes/pki/apiserver-etcd-client.key'), { mode: 0o600 });
}

/** etcdctl as the API server runs it: the shared client certificate, every member's client URL. */
export function etcdctl(dir, endpoints, args, input) {
  return execFileSync(`${ETCD_DIR}/etcdctl`, ['--endpoints', endpoints.join(','), '--cacert', join(dir, 'ca.crt'), '--cert', join(dir, 'client.crt'), '--key', join(dir, 'client.key'),
    '--dial-timeout', '2s', '--command-timeout', '5s', ...args], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

export function readRecord(dir, endpoints) {
  const out = etcdctl(dir, endpoints, ['get', KEY, '--print-value-only']);
  return out.trim() ? JSON.parse(out) : undefined;
}

export function writeRecord(dir, endpoints, record) {
  // the value on stdin: `etcdctl put KEY` reads it when no value is given
  etcdctl(dir, endpoints, ['put', KEY], JSON.stringify(record));
}

/** Start this host's etcd member (the kubelet running the etcd static pod) and wait until it answers. */
export function startEtcd({ name, address, initialCluster, state }) {
  stopEtcd();
  mkdirSync('/var/lib/etcd', { recursive: true, mode: 0o700 });
  mkdirSync('/var/log/kblab', { recursive: true });
  const log = openSync('/var/log/kblab/etcd.log', 'a');
  const child = spawn(`${ETCD_DIR}/etcd`, [
    `--name=${name}`, '--data-dir=/var/lib/etcd',
    `--listen-client-urls=https://127.0.0.1:2379,https://${address}:2379`, `--advertise-client-urls=https://${address}:2379`,
    `--listen-peer-urls=https://${address}:2380`, `--initial-advertise-peer-urls=https://${address}:2380`,
    `--initial-cluster=${initialCluster}`, `--initial-cluster-state=${state}`,
    '--client-cert-auth=true', `--trusted-ca-file=${PKI}/ca.crt`, `--cert-file=${PKI}/server.crt`, `--key-file=${PKI}/server.key`,
    '--peer-client-cert-auth=true', `--peer-trusted-ca-file=${PKI}/ca.crt`, `--peer-cert-file=${PKI}/peer.crt`, `--peer-key-file=${PKI}/peer.key`,
    '--snapshot-count=10000', '--listen-metrics-urls=http://127.0.0.1:2381',
  ], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  writeFileSync(PID, `${child.pid}\n`);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      execFileSync(`${ETCD_DIR}/etcdctl`, ['--endpoints', 'https://127.0.0.1:2379', '--cacert', `${PKI}/ca.crt`, '--cert', `${PKI}/healthcheck-client.crt`, '--key', `${PKI}/healthcheck-client.key`,
        '--dial-timeout', '1s', '--command-timeout', '2s', 'endpoint', 'health'], { stdio: 'ignore' });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`etcd on ${address} did not become healthy; see /var/log/kblab/etcd.log`);
      execFileSync('sleep', ['0.2']);
    }
  }
}

/** The kubelet stops the etcd static pod (its manifest went, or the kubelet stopped). */
export function stopEtcd() {
  let pid;
  try { pid = Number(readFileSync(PID, 'utf8').trim()); } catch { return; }
  rmSync(PID, { force: true });
  if (!pid) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  // gone, or a zombie its parent has not reaped yet
  const alive = () => { try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };
  for (let i = 0; i < 100; i++) {
    if (!alive()) return;
    execFileSync('sleep', ['0.1']);
  }
  try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
}

/** `member add`: returns ETCD_INITIAL_CLUSTER for the new member, as etcdctl prints it. */
export function memberAdd(dir, endpoints, name, address) {
  // etcd refuses a new voting member until the members are connected to the leader for a while
  // ("etcdserver: unhealthy cluster", etcd's --strict-reconfig-check); kubeadm retries the add with a
  // backoff (cmd/kubeadm/app/util/etcd/etcd.go, AddMember). Read 2026-12-07.
  let out;
  for (let i = 0; ; i++) {
    try {
      out = etcdctl(dir, endpoints, ['member', 'add', name, `--peer-urls=https://${address}:2380`]);
      break;
    } catch (e) {
      if (i >= 40) throw new Error(`etcdctl member add ${name}: ${String(e.stderr || e.message).trim()}`);
      execFileSync('sleep', ['0.5']);
    }
  }
  const m = /ETCD_INITIAL_CLUSTER="([^"]*)"/.exec(out);
  if (!m) throw new Error(`etcdctl member add printed no ETCD_INITIAL_CLUSTER: ${out}`);
  return m[1];
}

/** Remove this node's member, if it still is one; returns an error message, or undefined. */
export function memberRemove(dir, endpoints, name) {
  try {
    const list = etcdctl(dir, endpoints, ['member', 'list', '-w', 'simple']);
    const line = list.split('\n').find((l) => l.split(',').map((s) => s.trim())[2] === name);
    if (!line) return undefined;
    etcdctl(dir, endpoints, ['member', 'remove', line.split(',')[0].trim()]);
    return undefined;
  } catch (e) {
    return String(e.stderr || e.message).trim().split('\n').pop();
  }
}
