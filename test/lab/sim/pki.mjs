// kblab: real X.509 certificates for the simulated kubeadm, made with the
// machine's openssl (`openssl ca`, which takes explicit -startdate/-enddate,
// so the lab's simulated cluster clock can age them). kbootstrap reads them
// with openssl on the host like on a real cluster.
//
// The set and the names are kubeadm's (cmd/kubeadm/app/phases/certs/certlist.go,
// and the kubeconfigs of cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go;
// kubeadm certs check-expiration lists them:
// https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/, read 2026-12-07):
// three CAs (ca, front-proxy-ca, etcd/ca; 10 years), their leaf certificates
// and the client certificates embedded in admin.conf, super-admin.conf (1.29+,
// init host only), controller-manager.conf and scheduler.conf (1 year), and
// the kubelet's client certificate in /var/lib/kubelet/pki/kubelet-client-current.pem
// (certificate and key in one file, as the kubelet writes it), which
// kubelet.conf names once kubeadm's kubelet-finalize phase has run.
//
// Simplifications (none is read by kbootstrap): P-256 keys (kubeadm's default is
// RSA-2048; v1beta4's encryptionAlgorithm allows ECDSA-P256), no SANs, keys kept
// on renewal and ageing, a re-signed leaf allowed both server and client auth
// (the files and dates are what is checked), serials from openssl ca.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const PKI = '/etc/kubernetes/pki';
export const KUBELET_PEM = '/var/lib/kubelet/pki/kubelet-client-current.pem';
const YEAR = 365 * 24 * 3600e3;
export const DEFAULT_VALIDITY = { cert: YEAR, ca: 10 * YEAR };

export const CAS = [
  { file: 'ca', name: 'ca', cn: 'kubernetes' },
  { file: 'front-proxy-ca', name: 'front-proxy-ca', cn: 'front-proxy-ca' },
  { file: 'etcd/ca', name: 'etcd-ca', cn: 'etcd-ca' },
];

/** the leaf certificates of a control plane, as check-expiration names them, with their CA */
export const LEAVES = (node) => [
  { file: 'apiserver', name: 'apiserver', ca: 'ca', subj: '/CN=kube-apiserver', eku: 'serverAuth' },
  { file: 'apiserver-etcd-client', name: 'apiserver-etcd-client', ca: 'etcd/ca', subj: '/CN=kube-apiserver-etcd-client', eku: 'clientAuth' },
  { file: 'apiserver-kubelet-client', name: 'apiserver-kubelet-client', ca: 'ca', subj: '/O=kubeadm:cluster-admins/CN=kube-apiserver-kubelet-client', eku: 'clientAuth' },
  { file: 'etcd/healthcheck-client', name: 'etcd-healthcheck-client', ca: 'etcd/ca', subj: '/CN=kube-etcd-healthcheck-client', eku: 'clientAuth' },
  { file: 'etcd/peer', name: 'etcd-peer', ca: 'etcd/ca', subj: `/CN=${node}`, eku: 'serverAuth,clientAuth' },
  { file: 'etcd/server', name: 'etcd-server', ca: 'etcd/ca', subj: `/CN=${node}`, eku: 'serverAuth,clientAuth' },
  { file: 'front-proxy-client', name: 'front-proxy-client', ca: 'front-proxy-ca', subj: '/CN=front-proxy-client', eku: 'clientAuth' },
];

/** the kubeconfigs with a client certificate signed by ca (super-admin.conf: kubeadm >= 1.29, on the init host) */
export const KUBECONFIGS = {
  'admin.conf': { user: 'kubernetes-admin', subj: '/O=kubeadm:cluster-admins/CN=kubernetes-admin' },
  'super-admin.conf': { user: 'kubernetes-super-admin', subj: '/O=system:masters/CN=kubernetes-super-admin' },
  'controller-manager.conf': { user: 'system:kube-controller-manager', subj: '/CN=system:kube-controller-manager' },
  'scheduler.conf': { user: 'system:kube-scheduler', subj: '/CN=system:kube-scheduler' },
};

const CONFIG = `[ ca ]
default_ca = kb
[ kb ]
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
organizationName = optional
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyEncipherment,keyCertSign
subjectKeyIdentifier = hash
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = \${ENV::KB_EKU}
`;

const openssl = (args, opts = {}) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });

/** YYYYMMDDHHMMSSZ, the GeneralizedTime openssl ca takes for -startdate/-enddate */
const asn1 = (ms) => new Date(ms).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');

export const newKey = () => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);

/**
 * A certificate for key with subject subj, valid from start to end (ms), signed by ca ({ crt, key } PEM)
 * or self-signed as a CA when ca is undefined. Returns the PEM.
 */
export function sign({ key, subj, start, end, ca, eku = 'clientAuth' }) {
  const dir = mkdtempSync(join(tmpdir(), 'kblab-pki-'));
  try {
    writeFileSync(join(dir, 'ca.cnf'), CONFIG);
    writeFileSync(join(dir, 'index.txt'), '');
    writeFileSync(join(dir, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
    writeFileSync(join(dir, 'key.pem'), key, { mode: 0o600 });
    openssl(['req', '-new', '-key', 'key.pem', '-subj', subj, '-out', 'req.csr'], { cwd: dir });
    const common = ['ca', '-batch', '-config', 'ca.cnf', '-in', 'req.csr', '-startdate', asn1(start), '-enddate', asn1(end), '-notext', '-out', 'out.crt'];
    if (ca) {
      writeFileSync(join(dir, 'ca.crt'), ca.crt);
      writeFileSync(join(dir, 'ca.key'), ca.key, { mode: 0o600 });
      openssl([...common, '-cert', 'ca.crt', '-keyfile', 'ca.key', '-extensions', 'leaf'], { cwd: dir, env: { ...process.env, KB_EKU: eku } });
    } else {
      openssl([...common, '-selfsign', '-keyfile', 'key.pem', '-extensions', 'v3_ca'], { cwd: dir, env: { ...process.env, KB_EKU: eku } });
    }
    return readFileSync(join(dir, 'out.crt'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** notBefore/notAfter of a PEM, ms */
export function dates(pem) {
  const x = new X509Certificate(pem);
  return { start: Date.parse(x.validFrom), end: Date.parse(x.validTo), subject: x.subject };
}

/** the subject of a PEM as openssl -subj takes it (/O=.../CN=...) */
function subjOf(pem) {
  return '/' + new X509Certificate(pem).subject.split('\n').join('/');
}

/** A cluster's three CAs, new: { 'ca': { crt, key }, ... } */
export function makeCas(now, validity) {
  return Object.fromEntries(CAS.map((c) => {
    const key = newKey();
    return [c.file, { key, crt: sign({ key, subj: `/CN=${c.cn}`, start: now, end: now + validity.ca }) }];
  }));
}

const write = (path, text, mode = 0o644) => { mkdirSync(dirname(path), { recursive: true }); writeFileSync(path, text, { mode }); };

/** The CAs' files on a control plane (certificate and key), or on any node (ca.crt only). */
export function writeCas(cas, controlPlane) {
  for (const c of CAS) {
    if (!controlPlane && c.file !== 'ca') continue;
    write(`${PKI}/${c.file}.crt`, cas[c.file].crt);
    if (controlPlane) write(`${PKI}/${c.file}.key`, cas[c.file].key, 0o600);
  }
}

/** A control plane's leaf certificates under /etc/kubernetes/pki, new keys, valid from now. */
export function writeLeaves(cas, node, now, validity) {
  for (const l of LEAVES(node)) {
    const key = newKey();
    write(`${PKI}/${l.file}.key`, key, 0o600);
    write(`${PKI}/${l.file}.crt`, sign({ key, subj: l.subj, start: now, end: now + validity.cert, ca: cas[l.ca], eku: l.eku }));
  }
}

/** A kubeconfig with an embedded client certificate signed by the cluster CA. */
export function kubeconfigFor({ server, clusterName, user, subj, cas, now, validity }) {
  const key = newKey();
  const crt = sign({ key, subj, start: now, end: now + validity.cert, ca: cas.ca });
  return kubeconfigText({ server, clusterName, user, caCrt: cas.ca.crt, crt, key });
}

export function kubeconfigText({ server, clusterName, user, caCrt, crt, key, certFile }) {
  const b64 = (s) => Buffer.from(s).toString('base64');
  const userBlock = certFile
    ? `    client-certificate: ${certFile}\n    client-key: ${certFile}\n`
    : `    client-certificate-data: ${b64(crt)}\n    client-key-data: ${b64(key)}\n`;
  return `apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: ${b64(caCrt)}\n    server: https://${server}\n  name: ${clusterName}\ncontexts:\n- context:\n    cluster: ${clusterName}\n    user: ${user}\n  name: ${user}@${clusterName}\ncurrent-context: ${user}@${clusterName}\nkind: Config\npreferences: {}\nusers:\n- name: ${user}\n  user:\n${userBlock}`;
}

/** The kubelet's client certificate (system:node:NAME in system:nodes), certificate and key in one file. */
export function writeKubeletPem(cas, node, now, validity) {
  const key = newKey();
  const crt = sign({ key, subj: `/O=system:nodes/CN=system:node:${node}`, start: now, end: now + validity.cert, ca: cas.ca });
  write(KUBELET_PEM, crt + key, 0o600);
}

const b64field = (text, field) => {
  const m = new RegExp(`^ *${field}: *(\\S+)`, 'm').exec(text);
  return m ? Buffer.from(m[1], 'base64').toString('utf8') : undefined;
};

/** Re-sign a certificate: same key and subject, dates from newDates(old dates). */
function resign(pem, key, ca, newDates) {
  const d = dates(pem);
  const { start, end } = newDates(d);
  return sign({ key, subj: subjOf(pem), start, end, ca, eku: 'serverAuth,clientAuth' });
}

/**
 * Every certificate on this host that renew all renews (leaves and kubeconfigs) re-signed by its CA with
 * newDates. Returns the check-expiration names touched, in kubeadm's order of `certs renew all`.
 */
export function resignLeaves(cas, node, newDates) {
  const done = [];
  for (const name of Object.keys(KUBECONFIGS)) {
    const path = `/etc/kubernetes/${name}`;
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    const crt = b64field(text, 'client-certificate-data');
    const key = b64field(text, 'client-key-data');
    if (!crt || !key) continue;
    const fresh = resign(crt, key, cas.ca, newDates);
    write(path, text.replace(/^( *client-certificate-data: *)\S+/m, `$1${Buffer.from(fresh).toString('base64')}`), 0o600);
    done.push(name);
  }
  for (const l of LEAVES(node)) {
    const path = `${PKI}/${l.file}.crt`;
    if (!existsSync(path)) continue;
    write(path, resign(readFileSync(path, 'utf8'), readFileSync(`${PKI}/${l.file}.key`, 'utf8'), cas[l.ca], newDates));
    done.push(l.name);
  }
  return done;
}

/** The CAs as this control plane has them (certificate and key files). */
export function localCas() {
  const out = {};
  for (const c of CAS) {
    const crt = `${PKI}/${c.file}.crt`;
    const key = `${PKI}/${c.file}.key`;
    if (!existsSync(crt) || !existsSync(key)) return undefined;
    out[c.file] = { crt: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') };
  }
  return out;
}

/** The cluster CAs aged: same keys, dates moved ms into the past. */
export function ageCas(cas, ms) {
  return Object.fromEntries(Object.entries(cas).map(([file, c]) => {
    const d = dates(c.crt);
    return [file, { key: c.key, crt: sign({ key: c.key, subj: subjOf(c.crt), start: d.start - ms, end: d.end - ms }) }];
  }));
}

/**
 * This host's certificates aged ms (the lab's cluster clock, test/lab/lab.ts advanceClusterClock):
 * the CAs replaced by the already aged ones of the cluster state, every leaf, kubeconfig and the
 * kubelet's certificate re-signed with its dates moved ms into the past.
 */
export function ageHost(cas, node, ms) {
  const controlPlane = existsSync(`${PKI}/ca.key`);
  if (existsSync(`${PKI}/ca.crt`)) writeCas(cas, controlPlane);
  const back = (d) => ({ start: d.start - ms, end: d.end - ms });
  if (controlPlane) resignLeaves(cas, node, back);
  if (existsSync(KUBELET_PEM)) {
    const text = readFileSync(KUBELET_PEM, 'utf8');
    const crt = text.slice(0, text.indexOf('-----END CERTIFICATE-----') + 26);
    const key = text.slice(text.indexOf('-----BEGIN PRIVATE KEY-----'));
    write(KUBELET_PEM, resign(crt, key, cas.ca, back) + key, 0o600);
  }
}

// node pki.mjs age-cas STATEFILE MS    (on the machine: the cluster state's CAs)
// node pki.mjs age-host MS             (inside a lab host: its own files)
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const [verb, a, b] = process.argv.slice(2);
  if (verb === 'age-cas') {
    const s = JSON.parse(readFileSync(a, 'utf8'));
    for (const c of Object.values(s.clusters)) if (c.pki) c.pki = ageCas(c.pki, Number(b));
    writeFileSync(a, JSON.stringify(s, null, 2) + '\n');
  } else if (verb === 'age-host') {
    const s = JSON.parse(readFileSync('/var/lib/kblab-cluster/state.json', 'utf8'));
    const kubelet = existsSync('/etc/kubernetes/kubelet.conf') ? readFileSync('/etc/kubernetes/kubelet.conf', 'utf8') : '';
    const server = (/server: https:\/\/(\S+)/.exec(kubelet) ?? [])[1];
    const c = server && s.clusters[server];
    if (c?.pki) ageHost(c.pki, execFileSync('hostname', { encoding: 'utf8' }).trim(), Number(a));
  } else {
    process.stderr.write('usage: pki.mjs age-cas STATEFILE MS | age-host MS\n');
    process.exitCode = 2;
  }
}
