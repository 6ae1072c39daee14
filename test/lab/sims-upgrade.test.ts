/**
 * The simulations upgrade the way kubeadm's procedure behaves
 * (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/):
 * repositories that carry only their own minor, `kubeadm upgrade plan`,
 * `upgrade apply` refusing what kubeadm's version policy refuses
 * (cmd/kubeadm/app/phases/upgrade/policy.go), `upgrade node`, a node's
 * kubelet version that moves only when the new kubelet runs, drain refusing
 * DaemonSet-managed Pods without --ignore-daemonsets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_SKIP_REASON } from './support.js';
import { IN_HOST_LAB, labDown, labSh, labUp } from './lab.js';

const KUBE_REPO = '[kubernetes]\nname=Kubernetes\nbaseurl=https://pkgs.k8s.io/core:/stable:/v1.30/rpm/\nenabled=1\nexclude=kubelet kubeadm kubectl cri-tools kubernetes-cni\n';
const DOCKER_REPO = '[docker-ce-stable]\nname=Docker CE\nbaseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable\nenabled=1\n';
const K = 'kubectl --kubeconfig=/etc/kubernetes/admin.conf';
const sh = (host: string, script: string) => labSh(host, script);
const ok = (host: string, script: string) => {
  const r = sh(host, script);
  expect(r.code, `${host}: ${script}\n${r.stderr}`).toBe(0);
  return r;
};
const versions = () => Object.fromEntries(sh('lab-01', `${K} get nodes --no-headers`).stdout.trim().split('\n').map((l) => l.split(/\s+/)).map((c) => [c[0], `${c[1]} ${c[4]}`]));
const toMinor = (m: number) => `sed -i 's#v1\\.[0-9]*/rpm#v1.${m}/rpm#' /etc/yum.repos.d/kubernetes.repo`;

const INIT = `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
localAPIEndpoint: { advertiseAddress: 10.213.0.11, bindPort: 6443 }
nodeRegistration: { name: lab-01, criSocket: unix:///run/containerd/containerd.sock }
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.30.4
clusterName: upg
`;

describe.skipIf(!!LAB_SKIP_REASON)('simulated upgrades', () => {
  beforeAll(async () => {
    labDown();
    // lab-01 CentOS 7 (yum 3), lab-02 Rocky 9 (dnf)
    await labUp({ hosts: 2, centos7Repos: 'vault', family: 'rhel' });
    for (const h of ['lab-01', 'lab-02']) {
      ok(h, `printf '%s' '${KUBE_REPO}' > /etc/yum.repos.d/kubernetes.repo && printf '%s' '${DOCKER_REPO}' > /etc/yum.repos.d/docker-ce.repo && hostnamectl set-hostname ${h}
        swapoff -a; modprobe br_netfilter; sysctl -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 >/dev/null
        yum install -y containerd.io >/dev/null && containerd config default > /etc/containerd/config.toml && systemctl enable --now containerd
        yum install -y --disableexcludes=kubernetes kubelet-1.30.4 kubeadm-1.30.4 kubectl-1.30.4 >/dev/null && systemctl enable kubelet`);
    }
    ok('lab-01', `cat > /root/init.yaml <<'EOF'\n${INIT}EOF\nkubeadm init --config /root/init.yaml --ignore-preflight-errors=all >/dev/null`);
    ok('lab-02', `${sh('lab-01', 'kubeadm token create --print-join-command').stdout.trim()} --ignore-preflight-errors=all >/dev/null`);
    ok('lab-01', `${K} apply -f ${IN_HOST_LAB}/fixtures/calico.yaml >/dev/null`);
  });
  afterAll(() => labDown());

  it('a repository carries only its own minor: 1.31 is not in the 1.30 repository, in each release\'s dialect', () => {
    const yum3 = sh('lab-01', 'yum install -y --disableexcludes=kubernetes kubeadm-1.31.2');
    expect(yum3).toMatchObject({ code: 1, stderr: 'Error: Nothing to do\n' });
    expect(yum3.stdout).toContain('No package kubeadm-1.31.2 available.\n');
    expect(sh('lab-02', 'yum install -y --disableexcludes=kubernetes kubelet-1.31.2')).toMatchObject({ code: 1, stderr: 'No match for argument: kubelet-1.31.2\nError: Unable to find a match: kubelet-1.31.2\n' });
  });

  it('upgrade plan: up to date without a newer kubeadm, the components and the command for a named version', () => {
    const same = ok('lab-01', 'kubeadm upgrade plan');
    expect(same.stdout).toContain('[upgrade/versions] Cluster version: v1.30.4\n[upgrade/versions] kubeadm version: v1.30.4\n');
    expect(same.stdout).toContain("Awesome, you're up-to-date! Enjoy!");
    const plan = ok('lab-01', 'kubeadm upgrade plan v1.31.2').stdout;
    expect(plan).toMatch(/^kubelet\s+lab-01\s+v1\.30\.4\s+v1\.31\.2$/m);
    expect(plan).toMatch(/^kubelet\s+lab-02\s+v1\.30\.4\s+v1\.31\.2$/m);
    expect(plan).toMatch(/^kube-apiserver\s+lab-01\s+v1\.30\.4\s+v1\.31\.2$/m);
    expect(plan).toContain('You can now apply the upgrade by executing the following command:\n\n\tkubeadm upgrade apply v1.31.2\n');
    expect(plan).toContain('Note: Before you can perform this upgrade, you have to update kubeadm to v1.31.2.');
  });

  it('upgrade apply refuses what kubeadm\'s version policy refuses, with its words, and changes nothing', () => {
    const newerMinor = sh('lab-01', 'kubeadm upgrade apply v1.31.2 -y');
    expect(newerMinor.code).toBe(1);
    expect(newerMinor.stdout).toContain('[upgrade/version] You have chosen to change the cluster version to "v1.31.2"\n[upgrade/versions] Cluster version: v1.30.4\n[upgrade/versions] kubeadm version: v1.30.4\n');
    expect(newerMinor.stderr).toBe('[upgrade/version] FATAL: the --version argument is invalid due to these fatal errors:\n\n'
      + '\t- Specified version to upgrade to "v1.31.2" is at least one minor release higher than the kubeadm minor release (31 > 30). Such an upgrade is not supported\n'
      + '\nPlease fix the misalignments highlighted above and try upgrading again\nTo see the stack trace of this error execute with --v=5 or higher\n');
    // a newer patch than kubeadm: skippable, so --force would pass it
    expect(sh('lab-01', 'kubeadm upgrade apply v1.30.9 -y').stderr).toBe('[upgrade/version] FATAL: the --version argument is invalid due to these errors:\n\n'
      + '\t- Specified version to upgrade to "v1.30.9" is higher than the kubeadm version "v1.30.4". Upgrade kubeadm first using the tool you used to install kubeadm\n'
      + '\nCan be bypassed if you pass the --force flag\nTo see the stack trace of this error execute with --v=5 or higher\n');
    ok('lab-01', `${toMinor(31)} && yum install -y --disableexcludes=kubernetes kubeadm-1.31.2 >/dev/null`);
    // a skip: only the mandatory errors are printed when there are any
    const skip = sh('lab-01', 'kubeadm upgrade apply v1.32.0 -y');
    expect(skip.code).toBe(1);
    expect(skip.stderr).toBe('[upgrade/version] FATAL: the --version argument is invalid due to these fatal errors:\n\n'
      + '\t- Specified version to upgrade to "v1.32.0" is too high; kubeadm can upgrade only 1 minor version at a time\n'
      + '\t- Specified version to upgrade to "v1.32.0" is at least one minor release higher than the kubeadm minor release (32 > 31). Such an upgrade is not supported\n'
      + '\nPlease fix the misalignments highlighted above and try upgrading again\nTo see the stack trace of this error execute with --v=5 or higher\n');
    const noYes = sh('lab-01', 'kubeadm upgrade apply v1.31.2');
    expect(noYes.code).toBe(1);
    expect(noYes.stderr).toContain("won't proceed; the user didn't answer (Y|y) in order to continue");
    expect(sh('lab-01', `${K} -n kube-system get cm kubeadm-config -o yaml`).stdout).toContain('kubernetesVersion: v1.30.4');
  });

  it('upgrade apply moves the control plane (kubeadm-config, static Pod images); the kubelets report their old version until restarted', () => {
    const r = ok('lab-01', 'kubeadm upgrade apply v1.31.2 -y');
    expect(r.stdout).toContain('[upgrade/successful] SUCCESS! Your cluster was upgraded to "v1.31.2". Enjoy!');
    expect(sh('lab-01', `${K} -n kube-system get cm kubeadm-config -o yaml`).stdout).toContain('kubernetesVersion: v1.31.2');
    expect(sh('lab-01', 'grep image: /etc/kubernetes/manifests/kube-apiserver.yaml').stdout).toBe('    image: registry.k8s.io/kube-apiserver:v1.31.2\n');
    expect(versions()).toEqual({ 'lab-01': 'Ready v1.30.4', 'lab-02': 'Ready v1.30.4' });
    expect(ok('lab-01', 'kubeadm upgrade plan').stdout).toContain("Awesome, you're up-to-date! Enjoy!");
    // the package alone: the running kubelet is still the old one
    ok('lab-01', 'yum install -y --disableexcludes=kubernetes kubelet-1.31.2 kubectl-1.31.2 >/dev/null');
    expect(versions()['lab-01']).toBe('Ready v1.30.4');
    ok('lab-01', 'systemctl daemon-reload && systemctl restart kubelet');
    expect(versions()).toEqual({ 'lab-01': 'Ready v1.31.2', 'lab-02': 'Ready v1.30.4' });
  });

  it('drain refuses DaemonSet-managed Pods without --ignore-daemonsets and leaves the node cordoned; cordon and uncordon say when nothing changes', () => {
    const refused = sh('lab-01', `${K} drain lab-02`);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('node/lab-02 cordoned\n');
    expect(refused.stderr).toMatch(/^error: unable to drain node "lab-02" due to error: cannot delete DaemonSet-managed Pods \(use --ignore-daemonsets to ignore\): kube-system\/kube-proxy-\w+, kube-system\/calico-node-\w+, continuing command\.\.\.\nThere are pending nodes to be drained:\n lab-02\ncannot delete DaemonSet-managed Pods/);
    expect(versions()['lab-02']).toBe('Ready,SchedulingDisabled v1.30.4');
    const drained = ok('lab-01', `${K} drain lab-02 --ignore-daemonsets --delete-emptydir-data --timeout=1m`);
    expect(drained.stdout).toBe('node/lab-02 already cordoned\nnode/lab-02 drained\n');
    expect(drained.stderr).toMatch(/^Warning: ignoring DaemonSet-managed Pods: kube-system\/kube-proxy-\w+, kube-system\/calico-node-\w+\n$/);
  });

  it('upgrade node on a worker rewrites its kubelet configuration only; the kubelet moves with its package and a restart', () => {
    ok('lab-02', `${toMinor(31)} && yum install -y --disableexcludes=kubernetes kubeadm-1.31.2 >/dev/null`);
    const r = ok('lab-02', 'kubeadm upgrade node');
    expect(r.stdout).toContain('[upgrade] Skipping phase. Not a control plane node.\n');
    expect(r.stdout).toContain('[upgrade] Now you should go ahead and upgrade the kubelet package using your package manager.\n');
    expect(versions()['lab-02']).toBe('Ready,SchedulingDisabled v1.30.4');
    // "start" of a running kubelet starts no new process
    ok('lab-02', 'yum install -y --disableexcludes=kubernetes kubelet-1.31.2 >/dev/null && systemctl start kubelet');
    expect(versions()['lab-02']).toBe('Ready,SchedulingDisabled v1.30.4');
    ok('lab-02', 'systemctl restart kubelet');
    expect(ok('lab-01', `${K} uncordon lab-02`).stdout).toBe('node/lab-02 uncordoned\n');
    expect(ok('lab-01', `${K} uncordon lab-02`).stdout).toBe('node/lab-02 already uncordoned\n');
    expect(versions()).toEqual({ 'lab-01': 'Ready v1.31.2', 'lab-02': 'Ready v1.31.2' });
  });

  it('plan and apply refuse a cluster whose control plane is NotReady (ControlPlaneNodesReady)', () => {
    ok('lab-01', 'systemctl stop kubelet');
    const r = sh('lab-01', 'kubeadm upgrade plan');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[upgrade/health] FATAL: [preflight] Some fatal errors occurred:\n\t[ERROR ControlPlaneNodesReady]: there are NotReady control-planes in the cluster: [lab-01]\n');
    ok('lab-01', 'systemctl start kubelet');
    expect(ok('lab-01', 'kubeadm upgrade plan').stdout).toContain("Awesome, you're up-to-date! Enjoy!");
  });
});
