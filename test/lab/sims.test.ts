/**
 * The simulated programs behave like the real ones, not like kbootstrap
 * expects: kubeadm's preflight errors and discovery failures with kubeadm's
 * own text, token expiry, nodes turning Ready only with a CNI and a running
 * runtime, crictl without an endpoint, package managers' refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_SKIP_REASON } from './support.js';
import { CENTOS7_BASE_REPO_STOCK, CENTOS7_BASE_REPO_VAULT, GATEWAY, IN_HOST_LAB, labDown, labExec, labSh, labUp, outsideLog, setHardware, setOffline } from './lab.js';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fakeRpmTree } from '../support/bundle-fixture.js';

const KUBE_REPO = '[kubernetes]\nname=Kubernetes\nbaseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/\nenabled=1\nexclude=kubelet kubeadm kubectl cri-tools kubernetes-cni\n';
const DOCKER_REPO = '[docker-ce-stable]\nname=Docker CE\nbaseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable\nenabled=1\n';

const sh = (host: string, script: string) => labSh(host, script);

/*
 * The lab's bash fast paths (sim/fast) must answer exactly as the Node.js simulation they stand in
 * front of: the same stdout, stderr and exit code and the same call-log line (its time stamp aside).
 * Each call runs once through the wrapper with its last line (the `exec node` fallback) replaced by a
 * failure, so a fast path that stopped answering fails here instead of passing through Node.js unnoticed.
 */
const sq = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

interface Answer { code: number; stdout: string; stderr: string; log: Record<string, unknown> }

/** The last call-log line, without its time stamp (checked for its form). */
function lastLog(host: string): Record<string, unknown> {
  const line = labSh(host, 'tail -n 1 /var/log/kblab/calls.jsonl').stdout;
  const { at, ...rest } = JSON.parse(line) as Record<string, unknown>;
  expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(Math.abs(Date.parse(at as string) - Date.now())).toBeLessThan(60_000);
  return rest;
}

/** PROG ARGS through its fast path alone, then through the Node.js simulation: both answers. */
function both(host: string, prog: string, args: string[]): { fast: Answer; node: Answer } {
  const a = args.map(sq).join(' ');
  const fastOnly = `/tmp/kblab-fast-${prog}`;
  expect(labSh(host, `sed '$s/^exec .*/echo kblab-fell-through >\\&2; exit 99/' "$(command -v ${prog})" >${fastOnly}`).code).toBe(0);
  const f = labSh(host, `bash ${fastOnly} ${a}`);
  expect(f.stderr, `${prog} ${args.join(' ')} on ${host}: the fast path did not answer`).not.toContain('kblab-fell-through');
  const fast = { ...f, log: lastLog(host) };
  const n = labSh(host, `/usr/bin/node ${IN_HOST_LAB}/sim/main.mjs ${prog} ${a}`);
  return { fast, node: { ...n, log: lastLog(host) } };
}

function same(host: string, prog: string, ...args: string[]): Answer {
  const { fast, node } = both(host, prog, args);
  expect(fast, `${prog} ${args.join(' ')} on ${host}`).toEqual(node);
  return fast;
}


function initConfig(address: string): string {
  return `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
localAPIEndpoint: { advertiseAddress: ${address}, bindPort: 6443 }
nodeRegistration: { name: lab-01, criSocket: unix:///run/containerd/containerd.sock }
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.30.4
clusterName: sims
networking: { podSubnet: 10.244.0.0/16 }
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: ipvs
`;
}

describe.skipIf(!!LAB_SKIP_REASON)('simulated programs', () => {
  beforeAll(async () => {
    labDown();
    await labUp({ hosts: 2, centos7Repos: 'vault', family: 'rhel' });
    for (const h of ['lab-01', 'lab-02']) {
      expect(sh(h, `printf '%s' '${KUBE_REPO}' > /etc/yum.repos.d/kubernetes.repo && printf '%s' '${DOCKER_REPO}' > /etc/yum.repos.d/docker-ce.repo && hostnamectl set-hostname ${h}`).code).toBe(0);
    }
  });
  afterAll(() => labDown());

  it('yum honours the repo files: no repo, excludes, versions of the repo\'s minor only, in each release\'s dialect', () => {
    // CentOS 7: yum 3 does not see excluded packages, says "No package X available." and, with nothing left, "Error: Nothing to do"
    const ex = sh('lab-01', 'yum install -y kubeadm-1.30.4');
    expect(ex).toMatchObject({ code: 1, stderr: 'Error: Nothing to do\n' });
    expect(ex.stdout).toContain('No package kubeadm-1.30.4 available.\n');
    // Rocky 9: dnf names the exclude filter and fails the whole request
    const dnfEx = sh('lab-02', 'yum install -y kubeadm-1.30.4');
    expect(dnfEx.code).toBe(1);
    expect(dnfEx.stderr).toBe('All matches were filtered out by exclude filtering for argument: kubeadm-1.30.4\nError: Unable to find a match: kubeadm-1.30.4\n');
    expect(sh('lab-02', 'yum install -y --disableexcludes=kubernetes kubeadm-1.31.0').stderr).toBe('No match for argument: kubeadm-1.31.0\nError: Unable to find a match: kubeadm-1.31.0\n');
    // yum 3 skips a missing name and installs the rest with exit 0 (skip_missing_names_on_install=True): only rpm -q tells
    const partial = sh('lab-01', 'yum install -y --disableexcludes=kubernetes kubectl-1.30.4 kubeadm-1.31.0');
    expect(partial.code).toBe(0);
    expect(partial.stdout).toContain('No package kubeadm-1.31.0 available.\n');
    expect(sh('lab-01', 'rpm -q kubeadm kubectl').stdout).toBe('package kubeadm is not installed\nkubectl-1.30.4-1.x86_64\n');
    expect(sh('lab-01', 'yum install kubeadm-1.30.4 --disableexcludes=kubernetes').stderr).toContain('Exiting on user command');
    expect(sh('lab-02', 'yum install kubeadm-1.30.4 --disableexcludes=kubernetes').stderr).toContain('Operation aborted.');
    expect(sh('lab-01', 'yum install -y --disableexcludes=kubernetes kubelet-1.30.4 kubeadm-1.30.4 kubectl-1.30.4').code).toBe(0);
    expect(sh('lab-01', 'yum install -y --disableexcludes=kubernetes kubectl-1.30.4').stdout).toContain('Package kubectl-1.30.4-150500.1.1.x86_64 already installed and latest version\nNothing to do\n');
    expect(sh('lab-01', "rpm -q --qf '%{VERSION}\\n' kubeadm cri-tools").stdout).toBe('1.30.4\n1.30.1\n');
    expect(sh('lab-01', 'yum --bogus install x').code).toBe(2);
  });

  it('dnf on a repository of the lab network: fetches and checks its metadata and packages, and fails where real dnf fails', async () => {
    // a made-up repository served from the machine (10.213.0.1, on the lab network) by python's http.server
    const root = mkdtempSync(join(tmpdir(), 'kb-sim-rpm-'));
    const put = (path: string, body: string | Buffer) => { mkdirSync(dirname(join(root, path)), { recursive: true }); writeFileSync(join(root, path), body); };
    fakeRpmTree(put, 'good', [{ name: 'kblab-hello', ver: '1.2', rel: '1.el9', requires: [{ name: 'kblab-dep', flags: 'GE', ver: '1.0' }] }, { name: 'kblab-dep', ver: '1.0', rel: '1.el9' }, { name: 'kblab-lonely', ver: '1.0', rel: '1.el9', requires: [{ name: 'kblab-nowhere', flags: 'GE', ver: '1.0' }] }], 'test');
    fakeRpmTree(put, 'bad', [{ name: 'kblab-hello', ver: '1.2', rel: '1.el9' }], 'test');
    put('bad/Packages/kblab-hello-1.2-1.el9.x86_64.rpm', 'one byte changed');
    const port = 18473;
    const server = spawn('python3', ['-m', 'http.server', '--bind', GATEWAY, '--directory', root, String(port)], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 600));
      const repo = (id: string, path: string, extra = '') => `[${id}]\nname=${id}\nbaseurl=http://${GATEWAY}:${port}/${path}/\nenabled=0\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9\n${extra}`;
      expect(sh('lab-02', `printf '%s' '${repo('good', 'good')}
${repo('bad', 'bad')}
${repo('gone', 'nothing-here')}
${repo('nokey', 'good').replace('RPM-GPG-KEY-Rocky-9', 'RPM-GPG-KEY-absent')}' > /etc/yum.repos.d/labnet.repo`).code).toBe(0);
      const y = (repos: string, pkgs: string) => sh('lab-02', `yum install -y --disablerepo='*' --enablerepo=${repos} ${pkgs}`);
      // a name the tree does not have; a requirement nothing provides (libsolv's problem text)
      expect(y('good', 'kblab-absent')).toMatchObject({ code: 1, stderr: 'No match for argument: kblab-absent\nError: Unable to find a match: kblab-absent\n' });
      expect(y('good', 'kblab-lonely').stderr).toContain('nothing provides kblab-nowhere >= 1.0 needed by kblab-lonely-1.0-1.el9.x86_64');
      // a package whose bytes are not those primary.xml gives
      const bad = y('bad', 'kblab-hello');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^\[MIRROR\] kblab-hello-1\.2-1\.el9\.x86_64\.rpm: Downloading successful, but checksum doesn't match\. Calculated: [0-9a-f]{64}\(sha256\) {2}Expected: [0-9a-f]{64}\(sha256\)$/m);
      // a repository that does not answer stops everything, unless skip_if_unavailable
      const gone = y('good,gone', 'kblab-hello');
      expect(gone.code).toBe(1);
      expect(gone.stderr).toContain(`Errors during downloading metadata for repository 'gone':\n  - Status code: 404 for http://${GATEWAY}:${port}/nothing-here/repodata/repomd.xml`);
      // a repository file whose section names no place to fetch from
      expect(sh('lab-02', `printf '[nourl]\\nname=nourl\\nenabled=0\\n' > /etc/yum.repos.d/nourl.repo && yum install -y --disablerepo='*' --enablerepo=nourl kblab-hello; r=$?; rm -f /etc/yum.repos.d/nourl.repo; exit $r`))
        .toMatchObject({ code: 1, stderr: 'Error: Cannot find a valid baseurl for repo: nourl\n' });
      // gpgcheck=1 with no key file where gpgkey= says
      expect(y('nokey', 'kblab-hello').stderr).toContain('Error: GPG check FAILED');
      expect(sh('lab-02', 'rpm -q kblab-hello').code).toBe(1);
      // the right tree installs the package and what it requires
      expect(y('good,gone', 'kblab-hello --setopt=skip_if_unavailable=True').code).toBe(0);
      expect(sh('lab-02', 'rpm -q --qf "%{NAME} %{VERSION}\\n" kblab-hello kblab-dep').stdout).toBe('kblab-hello 1.2\nkblab-dep 1.0\n');
      // offline, a repository outside the lab network does not answer, and the try is on record
      setOffline('lab-02');
      const out = sh('lab-02', 'yum install -y kubectl');
      expect(out.code).toBe(1);
      expect(out.stderr).toContain("Error: Failed to download metadata for repo 'docker-ce-stable'");
      expect(outsideLog('lab-02').some((l) => l.includes('https://download.docker.com/linux/centos/9/x86_64/stable'))).toBe(true);
    } finally {
      server.kill();
      sh('lab-02', 'rm -f /var/lib/kblab/offline /etc/yum.repos.d/labnet.repo');
    }
  }, 60_000);

  it('kubeadm init runs the preflight checks on the host\'s state and fails with kubeadm\'s lines', () => {
    sh('lab-01', `cat > /root/init.yaml <<'EOF'\n${initConfig('10.213.0.11')}EOF`);
    const r = sh('lab-01', 'kubeadm init --config /root/init.yaml --upload-certs');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('[preflight] Running pre-flight checks');
    expect(r.stderr).toContain('error execution phase preflight: [preflight] Some fatal errors occurred:\n');
    expect(r.stderr).toContain('\t[ERROR Swap]: running with swap on is not supported. Please disable swap\n');
    expect(r.stderr).toContain('\t[ERROR FileContent--proc-sys-net-bridge-bridge-nf-call-iptables]: /proc/sys/net/bridge/bridge-nf-call-iptables does not exist\n');
    expect(r.stderr).toContain('\t[ERROR FileContent--proc-sys-net-ipv4-ip_forward]: /proc/sys/net/ipv4/ip_forward contents are not set to 1\n');
    expect(r.stderr).toMatch(/\t\[ERROR CRI\]: container runtime is not running: output: time=".*" level=fatal msg="validate service connection: validate CRI v1 runtime API for endpoint \\"unix:\/\/\/var\/run\/containerd\/containerd.sock\\": rpc error: code = Unavailable desc = connection error: desc = \\"transport: Error while dialing: dial unix \/run\/containerd\/containerd.sock: connect: no such file or directory\\""/);
    expect(r.stderr).toContain('[WARNING Firewalld]: firewalld is active, please ensure ports [6443 10250] are open');
    expect(r.stderr).toContain("you can make a check non-fatal with `--ignore-preflight-errors=...`");
  });

  it('counts CPUs and memory on a control plane, and bridge sysctls need br_netfilter', () => {
    setHardware('lab-01', { cpus: 1, memMiB: 1024 });
    sh('lab-01', 'swapoff -a; modprobe br_netfilter; sysctl -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=0 >/dev/null');
    const r = sh('lab-01', 'kubeadm init --config /root/init.yaml');
    expect(r.stderr).toContain('\t[ERROR NumCPU]: the number of available CPUs 1 is less than the required 2\n');
    expect(r.stderr).toContain('\t[ERROR Mem]: the system RAM (1024 MB) is less than the minimum 1700 MB\n');
    expect(r.stderr).toContain('\t[ERROR FileContent--proc-sys-net-bridge-bridge-nf-call-iptables]: /proc/sys/net/bridge/bridge-nf-call-iptables contents are not set to 1\n');
    expect(r.stderr).not.toContain('ERROR Swap');
    setHardware('lab-01', { cpus: 2, memMiB: 2048 });
    sh('lab-01', 'sysctl -w net.bridge.bridge-nf-call-iptables=1 >/dev/null');
  });

  it('containerd.io\'s packaged config disables CRI, as the real package does', () => {
    sh('lab-01', 'yum install -y containerd.io && systemctl enable --now containerd');
    same('lab-01', 'containerd', 'config', 'default');
    const r = sh('lab-01', 'kubeadm init --config /root/init.yaml');
    expect(r.stderr).toContain('rpc error: code = Unimplemented desc = unknown service runtime.v1.RuntimeService');
    const c = sh('lab-01', 'crictl info');
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('WARN[0000] runtime connect using default endpoints');
    sh('lab-01', 'containerd config default > /etc/containerd/config.toml && systemctl restart containerd');
    expect(sh('lab-01', 'crictl info').code).toBe(0);
  });

  it('kubeadm config images list: the images init pulls, one a line; the sh fast path answers as the Node.js simulation', () => {
    const list = 'kubeadm config images list --kubernetes-version v1.30.4 --image-repository';
    const viaNode = (args: string) => sh('lab-01', `/usr/bin/node ${IN_HOST_LAB}/sim/main.mjs ${args}`);
    const want = ['kube-apiserver:v1.30.4', 'kube-controller-manager:v1.30.4', 'kube-scheduler:v1.30.4', 'kube-proxy:v1.30.4', 'coredns/coredns:v1.11.3', 'pause:3.9', 'etcd:3.5.15-0'];
    const fast = sh('lab-01', `${list} registry.k8s.io`);
    same('lab-01', 'kubeadm', ...`${list} registry.k8s.io`.split(' ').slice(1));
    expect(fast).toMatchObject({ code: 0, stdout: want.map((i) => `registry.k8s.io/${i}\n`).join('') });
    expect(viaNode(`${list} registry.k8s.io`)).toMatchObject({ code: 0, stdout: fast.stdout });
    // another repository: CoreDNS directly under it
    const mirror = sh('lab-01', `${list} mirror.example/k8s`);
    expect(mirror.stdout).toContain('mirror.example/k8s/coredns:v1.11.3\n');
    expect(viaNode(`${list} mirror.example/k8s`).stdout).toBe(mirror.stdout);
    // a kubeadm build with other constants (the host's own table) is read by both
    sh('lab-01', "echo '30 3.9 3.5.99-0 v1.11.3' >/var/lib/kblab/kubeadm-image-tags");
    try {
      expect(sh('lab-01', `${list} registry.k8s.io`).stdout).toContain('registry.k8s.io/etcd:3.5.99-0\n');
      expect(viaNode(`${list} registry.k8s.io`).stdout).toContain('registry.k8s.io/etcd:3.5.99-0\n');
    } finally {
      sh('lab-01', 'rm -f /var/lib/kblab/kubeadm-image-tags');
    }
    // below the minimum control plane version: kubeadm's error (the fast path leaves it to the Node.js simulation)
    const old = sh('lab-01', 'kubeadm config images list --kubernetes-version v1.28.0 --image-repository registry.k8s.io');
    expect(old).toMatchObject({ code: 1, stdout: '' });
    expect(old.stderr).toContain('this version of kubeadm only supports deploying clusters with the control plane version >= 1.29.0. Current version: v1.28.0');
  });

  it('crictl pulls into the runtime\'s image store, lists it and inspects it', () => {
    const none = sh('lab-01', 'crictl inspecti registry.k8s.io/pause:3.9');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('FATA[0000] no such image "registry.k8s.io/pause:3.9" present\n');
    expect(sh('lab-01', 'crictl pull registry.k8s.io/pause:3.9').stdout).toMatch(/^Image is up to date for sha256:[0-9a-f]{64}\n$/);
    expect(sh('lab-01', 'crictl inspecti registry.k8s.io/pause:3.9').code).toBe(0);
    // Docker Hub's short names are named in full by the CRI
    sh('lab-01', 'crictl pull calico/node:v3.29.7');
    const printed = sh('lab-01', 'crictl images');
    // the fast path answers only with the endpoint configured (as the images step's hosts have it)
    sh('lab-01', "echo 'runtime-endpoint: unix:///var/run/containerd/containerd.sock' >/etc/crictl.yaml");
    expect(same('lab-01', 'crictl', 'images').stdout).toBe(printed.stdout);
    sh('lab-01', 'rm /etc/crictl.yaml');
    // the sh fast path (sim/fast/crictl.sh) logs the call and prints what the Node.js simulation prints
    expect(sh('lab-01', 'tail -n 1 /var/log/kblab/calls.jsonl').stdout).toMatch(/"prog":"crictl","args":\["images"\]/);
    expect(sh('lab-01', `/usr/bin/node ${IN_HOST_LAB}/sim/main.mjs crictl images`)).toEqual(printed);
    const list = printed.stdout.split('\n');
    expect(list[0]).toMatch(/^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
    expect(list.slice(1).filter(Boolean).map((l) => l.split(/\s+/).slice(0, 2).join(':'))).toEqual(['registry.k8s.io/pause:3.9', 'docker.io/calico/node:v3.29.7']);
  });

  it('init, tokens with TTLs, joins that check token, hash and certificate key', () => {
    const init = sh('lab-01', 'kubeadm init --config /root/init.yaml --upload-certs --skip-token-print --skip-certificate-key-print');
    expect(init.stdout).toContain('Your Kubernetes control-plane has initialized successfully!');
    // the preflight pulls the control plane's images the runtime lacks (pause was pulled above): kubeadm's list for 1.30.4
    expect(init.stdout).toContain('[preflight] Pulling images required for setting up a Kubernetes cluster\n');
    const pulls = sh('lab-01', 'cat /var/log/kblab/image-pulls.jsonl').stdout.trim().split('\n').map((l) => JSON.parse(l) as { ref: string; by: string });
    expect(pulls.filter((p) => p.by === 'kubeadm').map((p) => p.ref)).toEqual([
      'registry.k8s.io/kube-apiserver:v1.30.4', 'registry.k8s.io/kube-controller-manager:v1.30.4', 'registry.k8s.io/kube-scheduler:v1.30.4',
      'registry.k8s.io/kube-proxy:v1.30.4', 'registry.k8s.io/coredns/coredns:v1.11.3', 'registry.k8s.io/etcd:3.5.15-0',
    ]);
    expect(init.stdout).not.toMatch(/--token|certificate key:/);
    expect(sh('lab-01', 'kubeadm init --config /root/init.yaml').stderr).toContain('[ERROR Port-6443]: Port 6443 is in use');
    expect(sh('lab-01', 'kubectl --kubeconfig=/etc/kubernetes/admin.conf get --raw=/readyz').stdout).toBe('ok');

    // lab-02: ready to join
    sh('lab-02', 'swapoff -a; modprobe br_netfilter; sysctl -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 >/dev/null; yum install -y containerd.io && containerd config default > /etc/containerd/config.toml && systemctl enable --now containerd && yum install -y --disableexcludes=kubernetes kubelet-1.30.4 kubeadm-1.30.4');

    const short = sh('lab-01', 'kubeadm token create --print-join-command --ttl 1s').stdout.trim();
    expect(short).toMatch(/^kubeadm join 10\.213\.0\.11:6443 --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[a-f0-9]{64}$/);
    labExec('lab-02', ['sleep', '1.5']);
    const expired = sh('lab-02', short);
    expect(expired.code).toBe(1);
    const id = /--token ([a-z0-9]{6})/.exec(short)![1];
    expect(expired.stderr).toContain(`error execution phase preflight: couldn't validate the identity of the API Server: could not find a JWS signature in the cluster-info ConfigMap for token ID "${id}"`);

    const join = sh('lab-01', 'kubeadm token create --print-join-command --ttl 10m').stdout.trim();
    const tid = /--token ([a-z0-9]{6})/.exec(join)![1];
    const wrongHash = join.replace(/sha256:[a-f0-9]{64}/, `sha256:${'0'.repeat(64)}`);
    expect(sh('lab-02', wrongHash).stderr).toContain('cluster CA found in cluster-info ConfigMap is invalid: none of the public keys');
    expect(sh('lab-01', `kubeadm token delete ${tid}`).stdout).toBe(`bootstrap token "${tid}" deleted\n`);
    expect(sh('lab-02', join).stderr).toContain(`could not find a JWS signature in the cluster-info ConfigMap for token ID "${tid}"`);

    const cpJoin = sh('lab-01', 'kubeadm token create --print-join-command').stdout.trim() + ` --control-plane --certificate-key ${'a'.repeat(64)}`;
    expect(sh('lab-02', cpJoin).stderr).toContain('error decoding certs: failed to decrypt data: cipher: message authentication failed');

    const good = sh('lab-01', 'kubeadm token create --print-join-command').stdout.trim();
    const joined = sh('lab-02', good);
    expect(joined.stdout).toContain('This node has joined the cluster');
    expect(sh('lab-02', good).stderr).toContain('[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists');
  });

  it('nodes turn Ready only after a CNI manifest is applied and the runtime runs', () => {
    const k = 'kubectl --kubeconfig=/etc/kubernetes/admin.conf';
    expect(sh('lab-01', `${k} get nodes --no-headers`).stdout).toMatch(/^lab-01\s+NotReady\s+control-plane.*\nlab-02\s+NotReady\s+<none>/);
    expect(sh('lab-01', `${k} apply -f /work/does-not-exist.yaml`).stderr).toContain('error: the path "/work/does-not-exist.yaml" does not exist');
    const fixture = `${IN_HOST_LAB}/fixtures/calico.yaml`;
    expect(sh('lab-01', `${k} apply -f ${fixture}`).stdout).toContain('daemonset.apps/calico-node created');
    sh('lab-02', 'systemctl stop containerd');
    expect(sh('lab-01', `${k} get nodes --no-headers`).stdout).toMatch(/lab-01\s+Ready[\s\S]*lab-02\s+NotReady/);
    const w = sh('lab-01', `${k} wait --for=condition=Ready --timeout=1s node/lab-02`);
    expect(w.stderr).toContain('error: timed out waiting for the condition on nodes/lab-02');
    sh('lab-02', 'systemctl start containerd');
    expect(sh('lab-01', `${k} wait --for=condition=Ready --timeout=5s node/lab-01 node/lab-02`).stdout).toBe('node/lab-01 condition met\nnode/lab-02 condition met\n');
    expect(sh('lab-02', 'yum install -y --disableexcludes=kubernetes kubectl-1.30.4 >/dev/null; kubectl get nodes').stderr).toContain('The connection to the server localhost:8080 was refused');
  });

  it('refuses unknown flags the way the real programs do', () => {
    expect(sh('lab-01', 'kubeadm init --bogus').stderr).toContain('unknown flag: --bogus');
    expect(sh('lab-01', 'kubectl --kubeconfig=/etc/kubernetes/admin.conf get nodes --bogus').stderr).toContain('error: unknown flag: --bogus');
    expect(sh('lab-01', 'systemctl --bogus status x').stderr).toContain("unrecognized option '--bogus'");
    expect(sh('lab-01', 'modprobe nosuchmod').stderr).toMatch(/modprobe: FATAL: Module nosuchmod not found in directory \/lib\/modules\//);
    expect(sh('lab-01', 'systemctl enable nosuch').stderr).toContain('Failed to enable unit: Unit file nosuch.service does not exist.');
  });

  it('kubeadm reads its config like the real one of that minor: served apiVersions, unknown or misplaced fields warned about and ignored', () => {
    const cfg = (api: string, extra = '') => `cat > /root/k.yaml <<'EOF'\napiVersion: kubeadm.k8s.io/${api}\nkind: InitConfiguration\nnodeRegistration: { name: lab-02 }\n---\napiVersion: kubeadm.k8s.io/${api}\nkind: ClusterConfiguration\nkubernetesVersion: v1.30.4\n${extra}EOF\nkubeadm init --config /root/k.yaml`;
    // 1.30 has no v1beta4 (enabled in 1.31)
    expect(sh('lab-02', cfg('v1beta4')).stderr).toContain('no kind "InitConfiguration" is registered for version "kubeadm.k8s.io/v1beta4" in scheme "k8s.io/kubernetes/cmd/kubeadm/app/apis/kubeadm/scheme/scheme.go:31"');
    // a field in the wrong kind is logged and dropped; kubeadm goes on (here to its preflight)
    const misplaced = sh('lab-02', cfg('v1beta3', 'localAPIEndpoint: { advertiseAddress: 10.213.0.12 }\nnetworking: { podSubnet: 10.244.0.0/16, podCIDR: x }\n'));
    expect(misplaced.stderr).toMatch(/^W\d{4} [\d:.]+ +\d+ initconfiguration\.go:333\] error unmarshaling configuration schema\.GroupVersionKind\{Group:"kubeadm\.k8s\.io", Version:"v1beta3", Kind:"ClusterConfiguration"\}: strict decoding error: unknown field "localAPIEndpoint", unknown field "networking\.podCIDR"\n/);
    expect(misplaced.stdout).toContain('[preflight] Running pre-flight checks');
    // 1.31: v1beta3 still read, with the deprecation warning; v1beta4 dropped apiServer.timeoutForControlPlane
    const to = (minor: number) => `sed -i 's#v1\\.[0-9]*/rpm#v1.${minor}/rpm#' /etc/yum.repos.d/kubernetes.repo && yum install -y --disableexcludes=kubernetes kubeadm-1.${minor}.0 >/dev/null`;
    expect(sh('lab-02', to(31)).code).toBe(0);
    expect(sh('lab-02', cfg('v1beta3')).stderr).toContain('your configuration file uses a deprecated API spec: "kubeadm.k8s.io/v1beta3" (kind: "InitConfiguration").');
    expect(sh('lab-02', cfg('v1beta4', 'apiServer: { timeoutForControlPlane: 4m0s }\n')).stderr).toContain('Version:"v1beta4", Kind:"ClusterConfiguration"}: strict decoding error: unknown field "apiServer.timeoutForControlPlane"');
    // 1.36 still reads v1beta3 (deprecated) and refuses the gate it removed; 1.37 removed v1beta3 (kubernetes/kubernetes#136016)
    expect(sh('lab-02', to(36)).code).toBe(0);
    expect(sh('lab-02', cfg('v1beta3')).stderr).toContain('your configuration file uses a deprecated API spec: "kubeadm.k8s.io/v1beta3"');
    expect(sh('lab-02', cfg('v1beta4', 'featureGates: { ControlPlaneKubeletLocalMode: true }\n')).stderr).toContain('unrecognized feature-gate key: ControlPlaneKubeletLocalMode');
    expect(sh('lab-02', to(37)).code).toBe(0);
    const old = sh('lab-02', cfg('v1beta3'));
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('your configuration file uses an old API spec: "kubeadm.k8s.io/v1beta3" (kind: "InitConfiguration"). Please use kubeadm v1.35 instead and run \'kubeadm config migrate --old-config old-config-file --new-config new-config-file\'');
  });
});

/**
 * Package repositories as they are today: CentOS 7's stock repositories are
 * gone (end of life 2024-06-30), the vault answers; apt refuses unsigned
 * repositories and versions the repository does not have.
 */
describe.skipIf(!!LAB_SKIP_REASON)('package repositories as they are today', () => {
  beforeAll(async () => {
    labDown();
    // lab-01 CentOS 7 with its stock CentOS-Base.repo, lab-02 Ubuntu 22.04
    await labUp({ hosts: 2, family: 'mixed', centos7Repos: 'eol' });
  });
  afterAll(() => labDown());

  it('a stock CentOS 7 cannot install anything, with yum 3\'s own words', () => {
    expect(sh('lab-01', 'cat /etc/yum.repos.d/CentOS-Base.repo').stdout).toBe(CENTOS7_BASE_REPO_STOCK);
    const r = sh('lab-01', 'yum install -y curl');
    expect(r.code).toBe(1);
    expect(r.stderr.startsWith('Could not retrieve mirrorlist http://mirrorlist.centos.org/?release=7&arch=x86_64&repo=os&infra=stock error was\n14: curl#6 - "Could not resolve host: mirrorlist.centos.org; Unknown error"\n\n\n One of the configured repositories failed (Unknown),\n')).toBe(true);
    expect(r.stderr).toContain('            yum --disablerepo=<repoid> ...\n');
    expect(r.stderr.endsWith('\nCannot find a valid baseurl for repo: base/7/x86_64\n')).toBe(true);
    // the same with a Docker repository added: base fails first, as yum loads every enabled repository
    sh('lab-01', `printf '%s' '${DOCKER_REPO}' > /etc/yum.repos.d/docker-ce.repo`);
    expect(sh('lab-01', 'yum install -y containerd.io').stderr).toContain('Cannot find a valid baseurl for repo: base/7/x86_64');
  });

  it('base, updates and extras on the vault (upstream or Aliyun) work; without extras containerd.io misses container-selinux', () => {
    sh('lab-01', `printf '%s' '${CENTOS7_BASE_REPO_VAULT}' > /etc/yum.repos.d/CentOS-Base.repo`);
    // extras disabled: containerd.io's dependency is not there, in yum 3's depsolve words
    const noExtras = sh('lab-01', 'yum install -y --disablerepo=extras containerd.io');
    expect(noExtras.code).toBe(1);
    expect(noExtras.stderr).toBe('Error: Package: containerd.io-1.6.33-3.1.el7.x86_64 (docker-ce-stable)\n           Requires: container-selinux >= 2:2.74\n You could try using --skip-broken to work around the problem\n You could try running: rpm -Va --nofiles --nodigest\n');
    expect(sh('lab-01', 'yum install -y containerd.io curl').code).toBe(0);
    expect(sh('lab-01', "rpm -q --qf '%{NAME} %{VERSION}\\n' containerd.io container-selinux").stdout).toBe('containerd.io 1.6.33\ncontainer-selinux 2.119.2\n');
    const aliyun = CENTOS7_BASE_REPO_VAULT.replaceAll('http://vault.centos.org/7.9.2009/', 'https://mirrors.aliyun.com/centos-vault/7.9.2009/');
    sh('lab-01', `printf '%s' '${aliyun}' > /etc/yum.repos.d/CentOS-Base.repo`);
    expect(sh('lab-01', 'yum install -y ipvsadm').code).toBe(0);
    // a baseurl on a host that does not answer: yum 3's per-URL line, the advice naming the repository, and its last line
    sh('lab-01', "sed -i 's#https://mirrors.aliyun.com/centos-vault/7.9.2009/os/#http://mirror.centos.org/centos/7/os/#' /etc/yum.repos.d/CentOS-Base.repo");
    const dead = sh('lab-01', 'yum install -y ipset');
    expect(dead.stderr.startsWith('http://mirror.centos.org/centos/7/os/x86_64/repodata/repomd.xml: [Errno 14] curl#6 - "Could not resolve host: mirror.centos.org; Unknown error"\nTrying other mirror.\n')).toBe(true);
    expect(dead.stderr).toContain(' One of the configured repositories failed (CentOS-7 - Base),\n');
    expect(dead.stderr).toContain('            yum --disablerepo=base ...\n');
    expect(dead.stderr.endsWith('failure: repodata/repomd.xml from base: [Errno 256] No more mirrors to try.\n')).toBe(true);
  });

  it('apt refuses a third-party repository without its key and a version the repository does not have', () => {
    const kube = 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /';
    sh('lab-02', `echo '${kube}' > /etc/apt/sources.list.d/kubernetes.list`);
    const noKey = sh('lab-02', 'apt-get update');
    expect(noKey.code).toBe(100);
    expect(noKey.stderr).toBe("W: GPG error: https://pkgs.k8s.io/core:/stable:/v1.30/deb/  InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 234654DA9A296436\nE: The repository 'https://pkgs.k8s.io/core:/stable:/v1.30/deb/  InRelease' is not signed.\nN: Updating from such a repository can't be done securely, and is therefore disabled by default.\nN: See apt-secure(8) manpage for repository creation and user configuration details.\n");
    // no signed-by at all: only the distribution's archive keyring is trusted on a fresh host
    sh('lab-02', "echo 'deb https://download.docker.com/linux/ubuntu jammy stable' > /etc/apt/sources.list.d/docker.list");
    expect(sh('lab-02', 'apt-get update').stderr).toContain("E: The repository 'https://download.docker.com/linux/ubuntu jammy InRelease' is not signed.");
    sh('lab-02', 'rm /etc/apt/sources.list.d/docker.list; curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.30/deb/Release.key -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg');
    expect(sh('lab-02', 'apt-get update').code).toBe(0);
    const missing = sh('lab-02', 'apt-get install -y kubelet=1.30.99-1.1');
    expect(missing).toMatchObject({ code: 100, stderr: "E: Version '1.30.99-1.1' for 'kubelet' was not found\n" });
    expect(sh('lab-02', 'apt-get install -y kubelet=1.30.4-1.1').code).toBe(0);
  });

  it('the fast paths: systemctl, getenforce, firewall-cmd, sysctl and lsmod', () => {
    const h = 'lab-01';
    for (const v of ['is-active', 'is-enabled']) {
      expect(same(h, 'systemctl', v, 'firewalld').code).toBe(0);
      same(h, 'systemctl', v, '--quiet', 'firewalld.service');
      same(h, 'systemctl', v, 'nosuch');
    }
    expect(same(h, 'systemctl', 'is-enabled', 'nosuch').stderr).toContain('Failed to get unit file state');
    expect(same(h, 'getenforce').stdout).toBe('Enforcing\n');
    for (const args of [['--list-ports'], ['--permanent', '--list-ports'], ['--list-protocols'], ['--permanent', '--list-protocols']]) same(h, 'firewall-cmd', ...args);
    expect(same(h, 'lsmod').stdout).not.toContain('br_netfilter');
    // without br_netfilter the bridge key does not exist: sysctl's error and 255
    expect(same(h, 'sysctl', 'net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables')).toMatchObject({ code: 255, stdout: 'net.ipv4.ip_forward = 0\n' });
    expect(labSh(h, 'modprobe br_netfilter && setenforce 0 && systemctl mask --now firewalld').code).toBe(0);
    expect(same(h, 'sysctl', 'net.bridge.bridge-nf-call-iptables', 'net.ipv4.ip_forward').code).toBe(0);
    expect(same(h, 'lsmod').stdout).toMatch(/^br_netfilter +\d+ +\d/m);
    expect(same(h, 'getenforce').stdout).toBe('Permissive\n');
    expect(same(h, 'firewall-cmd', '--list-ports')).toMatchObject({ code: 252, stderr: 'FirewallD is not running\n' });
    same(h, 'systemctl', 'is-enabled', 'firewalld');
    same(h, 'systemctl', 'is-active', 'firewalld');
  });

  it('the fast paths: rpm -q --qf, dpkg-query -W -f and apt-mark showhold', () => {
    // lab-01 has containerd.io and ipvsadm from the tests above, not socat
    const rpm = same('lab-01', 'rpm', '-q', '--qf', 'pkg=%{NAME}=%{VERSION}-%{RELEASE} 100%\\n', 'containerd.io', 'socat', 'ipvsadm');
    expect(rpm).toMatchObject({ code: 1, stdout: 'pkg=containerd.io=1.6.33-150500.1.1 100%\npackage socat is not installed\npkg=ipvsadm=1.31-150500.1.1 100%\n' });
    expect(labSh('lab-02', 'apt-get install -y ipset socat && apt-mark hold socat ipset').code).toBe(0);
    const fmt = '-f=pkg=${binary:Package}=${db:Status-Abbrev}=${Version}=${Status}\\n';
    // kubelet from the test above; kubeadm not installed
    expect(same('lab-02', 'dpkg-query', '-W', fmt, 'socat', 'kubeadm', 'kubelet', 'ipset')).toMatchObject({ code: 1, stdout: 'pkg=socat=hi =1.7.4-1=install ok installed\npkg=kubelet=ii =1.30.4-1.1=install ok installed\npkg=ipset=hi =7.11-1=install ok installed\n' });
    expect(labSh('lab-02', 'apt-mark unhold ipset').code).toBe(0);
    same('lab-02', 'dpkg-query', '-W', '-f=${Package} ${Version}\\n', 'ipset', 'socat');
    expect(same('lab-02', 'apt-mark', 'showhold').stdout).toBe('socat\n');
  });
});
