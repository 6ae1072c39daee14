/**
 * What each check prints on a converged host of the example inventories,
 * written out by hand from the inventories and from what the real programs
 * print (lsmod, sysctl, dpkg-query, rpm, firewall-cmd, kubectl -o json). It
 * does not call the code under test to build its answers; only the digests
 * of managed files come from the files' content, which the goldens pin.
 */
import type { AnyStep, StepContext } from '../../src/steps/types.js';
import { sha256 } from '../../src/steps/files.js';

type InvName = 'lab' | 'rocky-ha' | 'rocky-kube-vip' | 'jammy';

const HOSTS: Record<InvName, string[]> = {
  lab: ['192.168.40.128 k8s-master', '192.168.40.129 k8s-node01', '192.168.40.130 k8s-node02'],
  'rocky-ha': ['192.168.60.11 cp-1', '192.168.60.12 cp-2', '192.168.60.13 cp-3', '192.168.60.21 worker-1', '192.168.60.22 worker-2'],
  'rocky-kube-vip': ['192.168.70.11 cp-1', '192.168.70.12 cp-2', '192.168.70.13 cp-3', '192.168.70.21 worker-1', '192.168.70.22 worker-2'],
  jammy: ['192.168.56.10 ctl', '192.168.56.11 work-1', '192.168.56.12 work-2'],
};

const IPVS_MODULES = ['overlay', 'br_netfilter', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh'];
// CentOS 7's 3.10 names conntrack nf_conntrack_ipv4 (before the 4.19 merge), Rocky 9's 5.14 nf_conntrack
const MODULES: Record<InvName, string[]> = { lab: [...IPVS_MODULES, 'nf_conntrack_ipv4'], 'rocky-ha': [...IPVS_MODULES, 'nf_conntrack'], 'rocky-kube-vip': [...IPVS_MODULES, 'nf_conntrack'], jammy: ['overlay', 'br_netfilter'] };

// kubeadm's ports per role plus calico's (the RHEL inventories use calico)
const CALICO = ['179/tcp', '4789/udp', '5473/tcp'];
const PORTS = {
  'control-plane': ['6443/tcp', '2379-2380/tcp', '10250/tcp', '10257/tcp', '10259/tcp', '10256/tcp', ...CALICO],
  worker: ['10250/tcp', '10256/tcp', '30000-32767/tcp', '30000-32767/udp', ...CALICO],
};

/** Node labels as kubeadm and `kbootstrap up` leave them. */
function nodeLabels(inv: InvName, name: string, role: string): Record<string, string> {
  const own: Record<string, string> = inv === 'rocky-ha' && name.startsWith('worker') ? { tier: 'apps' } : {};
  return {
    'kubernetes.io/hostname': name,
    ...(role === 'control-plane' ? { 'node-role.kubernetes.io/control-plane': '' } : { 'node-role.kubernetes.io/worker': '' }),
    ...own,
  };
}

/** The one-line JSON document `kubectl get nodes,configmaps,daemonsets,pods -A -o json` prints on a healthy cluster. */
function clusterJson(inv: InvName, version: string): string {
  const nodes = HOSTS[inv].map((l) => l.split(' ')[1]!).map((name, i) => ({
    kind: 'Node',
    metadata: { name, labels: nodeLabels(inv, name, i === 0 || (inv.startsWith('rocky') && i < 3) ? 'control-plane' : 'worker') },
    status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: `v${version}` } },
  }));
  const mode = inv === 'jammy' ? 'iptables' : 'ipvs';
  const items: unknown[] = [
    ...nodes,
    // kubeadm writes it at init and rewrites it at upgrade apply; kubeadm-config's own layout
    { kind: 'ConfigMap', metadata: { name: 'kubeadm-config', namespace: 'kube-system' }, data: { ClusterConfiguration: `apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v${version}\n` } },
    { kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ${mode}\n` } },
    { kind: 'Pod', metadata: { name: 'kube-apiserver-x', namespace: 'kube-system' }, status: { phase: 'Running', containerStatuses: [{ ready: true }] } },
    { kind: 'Pod', metadata: { name: 'coredns-abc', namespace: 'kube-system' }, status: { phase: 'Running', containerStatuses: [{ ready: true }] } },
    { kind: 'Pod', metadata: { name: 'job-done', namespace: 'kube-system' }, status: { phase: 'Succeeded', containerStatuses: [{ ready: false }] } },
  ];
  if (inv === 'jammy') {
    items.push({ kind: 'ConfigMap', metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel' }, data: { 'net-conf.json': '{\n  "Network": "10.244.0.0/16",\n  "Backend": { "Type": "vxlan" }\n}\n' } });
  } else {
    items.push({ kind: 'DaemonSet', metadata: { name: 'calico-node', namespace: 'kube-system' }, spec: { template: { spec: { containers: [{ name: 'calico-node', env: [{ name: 'CALICO_IPV4POOL_CIDR', value: '10.244.0.0/16' }] }] } } } });
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/**
 * Every image the cluster runs, as `kubeadm config images list` prints them for the version and
 * imageRepository (tags: the versions table's pause/etcd/CoreDNS columns of the minor), plus kube-vip's
 * and the CNI release's (calico's manifests/calico.yaml, flannel's kube-flannel.yml at the tag). A
 * converged host holds all of them (a worker more than it needs: still done).
 */
const kubeadm = (repo: string, v: string, coredns: string, pause: string, etcd: string): string[] => [
  ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((n) => `${repo}/${n}:v${v}`),
  `${repo === 'registry.k8s.io' ? 'registry.k8s.io/coredns' : repo}/coredns:${coredns}`, `${repo}/pause:${pause}`, `${repo}/etcd:${etcd}`,
];
const calico = (registry: string, tag: string): string[] => ['cni', 'node', 'kube-controllers'].map((n) => `${registry}/calico/${n}:${tag}`);
const IMAGES: Record<InvName, string[]> = {
  lab: [...kubeadm('registry.aliyuncs.com/google_containers', '1.30.4', 'v1.11.3', '3.9', '3.5.15-0'), ...calico('docker.io', 'v3.29.7')],
  'rocky-ha': [...kubeadm('registry.k8s.io', '1.36.4', 'v1.14.2', '3.10.2', '3.6.8-0'), ...calico('quay.io', 'v3.32.1')],
  'rocky-kube-vip': [...kubeadm('registry.k8s.io', '1.35.9', 'v1.13.1', '3.10.1', '3.6.6-0'), 'ghcr.io/kube-vip/kube-vip:v1.2.3', ...calico('quay.io', 'v3.32.1')],
  jammy: [...kubeadm('registry.k8s.io', '1.36.4', 'v1.14.2', '3.10.2', '3.6.8-0'), 'ghcr.io/flannel-io/flannel:v0.28.9', 'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3'],
};

/** Steps that skip on a host of this inventory, with the reason they give. */
export const EXPECTED_SKIPS: Record<InvName, Record<string, RegExp>> = {
  lab: { 'cert-renewal-timer': /certRenewal is not timer/ },
  'rocky-ha': { 'base-repositories': /own repositories are left as they are/, 'cert-renewal-timer': /certRenewal is not timer/ },
  'rocky-kube-vip': { 'base-repositories': /own repositories are left as they are/ },
  jammy: {
    'cert-renewal-timer': /certRenewal is not timer/,
    selinux: /not managed on the Debian family/,
    firewall: /not managed on the Debian family/,
    'base-repositories': /own repositories are left as they are/,
  },
};

export function convergedOutput(step: AnyStep, ctx: StepContext): string {
  const inv = ctx.inv.cluster.name as InvName;
  const name = ctx.host.name;
  const rpm = ctx.host.facts.family === 'rhel';
  const files = (step.managedFiles?.(ctx) ?? []).map((f) => `file=${f.path} ${sha256(f.content)} ${f.mode}`);
  const version = ctx.cluster.kubernetesVersion;
  const lines: string[] = [...files];
  switch (step.id) {
    case 'hostname': lines.push(`current=${name}`, `static=${name}`); break;
    case 'hosts-file':
      lines.push(...['# BEGIN kbootstrap managed hosts', `# cluster ${inv}: kbootstrap rewrites the lines between these markers`, ...HOSTS[inv], '# END kbootstrap managed hosts'].map((l) => `line=${l}`), 'blocks=1');
      break;
    case 'selinux': lines.push('runtime=Permissive', 'config=permissive'); break;
    case 'firewall':
      lines.push('active=yes', 'enabled=yes', ...PORTS[ctx.host.spec.role].flatMap((p) => [`permanent=${p}`, `runtime=${p}`]),
        'permanent-protocol=4', 'runtime-protocol=4');
      break;
    case 'swap': lines.push('checked=swap'); break;
    case 'kernel-modules': lines.push(...MODULES[inv].map((m) => `loaded=${m}`)); break;
    case 'sysctl':
      lines.push('live=net.bridge.bridge-nf-call-iptables=1', 'live=net.bridge.bridge-nf-call-ip6tables=1', 'live=net.ipv4.ip_forward=1',
        'set=/etc/sysctl.d/99-kubernetes.conf=net.ipv4.ip_forward=1');
      break;
    case 'base-repositories': break;
    case 'container-runtime':
      if (inv === 'jammy') {
        lines.push('pkg=containerd.io=1.7.22-1', 'pkg=docker-ce=5:27.3.1-1~ubuntu.22.04~jammy', 'pkg=docker-ce-cli=5:27.3.1-1~ubuntu.22.04~jammy', 'pkg=cri-dockerd=0.3.16.3-0.ubuntu-jammy',
          'key=/etc/apt/keyrings/docker.asc=present', 'enabled=docker=enabled', 'active=docker=yes', 'enabled=cri-docker.service=enabled', 'active=cri-docker.service=yes');
      } else {
        lines.push('pkg=containerd.io=1.6.33', 'config=same', 'enabled=containerd=enabled', 'active=containerd=yes', 'key=/etc/pki/rpm-gpg/kbootstrap-docker.asc=present');
      }
      break;
    case 'crictl': break;
    case 'images': lines.push('runtime=ok', ...IMAGES[inv].map((i) => `image=${i}`)); break;
    case 'kube-packages':
      lines.push(...['kubelet', 'kubeadm', 'kubectl'].map((p) => `pkg=${p}=${rpm ? version : `${version}-1.1`}`), 'unit=kubelet enabled active');
      if (inv !== 'jammy') lines.push('pkg=ipset=7.1', 'pkg=ipvsadm=1.31', 'key=/etc/pki/rpm-gpg/kbootstrap-kubernetes.asc=present');
      else lines.push('held=kubeadm', 'held=kubectl', 'held=kubelet', 'key=/etc/apt/keyrings/kubernetes-apt-keyring.asc=present');
      break;
    // the interface the inventory names, admin.conf written by init or join, the VIP in the manifest
    case 'load-balancer': lines.push('iface=eth0', 'admin-conf=present', 'vip=192.168.70.100'); break;
    case 'kubeadm-init': lines.push('cluster=present', `state=${clusterJson(inv, version)}`, 'kubeconfig=same', 'leftovers=manifests'); break;
    case 'join':
      lines.push('kubelet-conf=present', 'leftovers=pki');
      if (ctx.host.spec.role === 'control-plane') lines.push('leftovers=manifests', 'kubeconfig=same');
      break;
    case 'cert-renewal-timer': lines.push('unit=kbootstrap-certs-renew.timer enabled active'); break;
    case 'cni': case 'kube-proxy-mode': case 'node-labels': case 'verify': case 'cluster-version':
      lines.push('cluster=present', `state=${clusterJson(inv, version)}`);
      break;
    default: throw new Error(`no converged output for step ${step.id}: write one here`);
  }
  return lines.join('\n') + '\n';
}
