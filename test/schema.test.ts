/**
 * The inventory contract: each bad inventory gets one exact message with
 * file:line:col and the field path, and `kbootstrap` exits 2 without
 * connecting anywhere. Each case edits test/fixtures/base.yaml.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneSubnet, parseInventory } from '../src/inventory/load.js';
import { InventoryError, formatProblem } from '../src/errors.js';
import { main } from '../src/cli.js';

const BASE = readFileSync(join(import.meta.dirname, 'fixtures', 'base.yaml'), 'utf8');

function edit(from: string, to: string): string {
  if (from === '') return to;
  if (!BASE.includes(from)) throw new Error(`fixture has no ${JSON.stringify(from)}`);
  return BASE.replace(from, to);
}

function problems(text: string): string[] {
  try {
    parseInventory(text, 'lab.yaml');
  } catch (e) {
    if (e instanceof InventoryError) return e.problems.filter((p) => p.severity === 'error').map(formatProblem);
    throw e;
  }
  return [];
}

// [case, text to replace in base.yaml, replacement, exact errors]
const BAD: [string, string, string, string[]][] = [
  ["role master", "    role: worker", "    role: master", ["lab.yaml:21:11 hosts[1].role: expected \"control-plane\" or \"worker\", got \"master\""]],
  ["unknown host field", "    role: worker", "    role: worker\n    adress: 1.2.3.4", ["lab.yaml:22:5 hosts[1].adress: unknown field (did you mean \"address\"?)"]],
  ["unknown cluster field", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  podSubnets: 10.0.0.0/8", ["lab.yaml:12:3 cluster.podSubnets: unknown field (did you mean \"podSubnet\"?)"]],
  ["unknown top field", "kind: Inventory", "kind: Inventory\nhost: []", ["lab.yaml:3:1 host: unknown field (did you mean \"hosts\"?)"]],
  ["wrong apiVersion", "apiVersion: kbootstrap/v1", "apiVersion: kbootstrap/v2", ["lab.yaml:1:13 apiVersion: expected \"kbootstrap/v1\", got \"kbootstrap/v2\""]],
  ["wrong kind", "kind: Inventory", "kind: Cluster", ["lab.yaml:2:7 kind: expected \"Inventory\", got \"Cluster\""]],
  ["missing cluster name", "  name: lab\n", "", ["lab.yaml:4:3 cluster.name: required field is missing"]],
  ["missing version", "  kubernetesVersion: \"1.36.4\"\n", "", ["lab.yaml:4:3 cluster.kubernetesVersion: required field is missing"]],
  ["bad version", "\"1.36.4\"", "\"1.30\"", ["lab.yaml:5:22 cluster.kubernetesVersion: expected a release version like \"1.37.1\", got \"1.30\""]],
  ["version latest", "\"1.36.4\"", "latest", ["lab.yaml:5:22 cluster.kubernetesVersion: expected a release version like \"1.37.1\", got \"latest\""]],
  ["version too old", "\"1.36.4\"", "\"1.23.0\"", ["lab.yaml:5:22 cluster.kubernetesVersion: Kubernetes 1.23 is not supported: kbootstrap installs 1.24 or later (the pkgs.k8s.io package layout; dockershim is gone)"]],
  ["version as number", "\"1.36.4\"", "1.30", ["lab.yaml:5:22 cluster.kubernetesVersion: expected a string, got the number 1.3 (YAML reads 1.30 as 1.3): quote it: \"1.30\""]],
  ["major 2", "\"1.36.4\"", "\"2.0.0\"", ["lab.yaml:5:22 cluster.kubernetesVersion: Kubernetes 2.x does not exist; expected 1.24.0 or later"]],
  ["bad cluster name", "  name: lab", "  name: Lab_1", ["lab.yaml:4:9 cluster.name: \"Lab_1\" is not a valid DNS-1123 label (lowercase letters, digits and \"-\", starting and ending with a letter or digit, at most 63 characters)"]],
  ["duplicate host name", "  - name: k8s-node01", "  - name: k8s-master", ["lab.yaml:19:11 hosts[1].name: duplicate host name \"k8s-master\" (also hosts[0])"]],
  ["duplicate address", "192.168.40.129", "192.168.40.128", ["lab.yaml:20:14 hosts[1].address: duplicate address 192.168.40.128 (also hosts[0])"]],
  ["bad host name uppercase", "  - name: k8s-node01", "  - name: K8s-Node01", ["lab.yaml:19:11 hosts[1].name: \"K8s-Node01\" is not a valid DNS-1123 label (lowercase letters, digits and \"-\", starting and ending with a letter or digit, at most 63 characters)"]],
  ["bad host name underscore", "  - name: k8s-node01", "  - name: k8s_node01", ["lab.yaml:19:11 hosts[1].name: \"k8s_node01\" is not a valid DNS-1123 label (lowercase letters, digits and \"-\", starting and ending with a letter or digit, at most 63 characters)"]],
  ["bad address", "192.168.40.129", "192.168.40.300", ["lab.yaml:20:14 hosts[1].address: expected an IPv4 address like 192.168.40.128, got \"192.168.40.300\""]],
  ["address hostname", "192.168.40.129", "node01.example.com", ["lab.yaml:20:14 hosts[1].address: expected an IPv4 address like 192.168.40.128, got \"node01.example.com\""]],
  ["bad pod cidr", "10.244.0.0/16", "10.244.0.0/33", ["lab.yaml:6:14 cluster.podSubnet: expected an IPv4 CIDR like 10.244.0.0/16, got \"10.244.0.0/33\""]],
  ["pod cidr host bits", "10.244.0.0/16", "10.244.1.0/16", ["lab.yaml:6:14 cluster.podSubnet: host bits are set (did you mean 10.244.0.0/16?), got \"10.244.1.0/16\""]],
  ["service cidr garbage", "10.96.0.0/12", "ten.ninety-six", ["lab.yaml:7:18 cluster.serviceSubnet: expected an IPv4 CIDR like 10.244.0.0/16, got \"ten.ninety-six\""]],
  ["overlap subnets", "10.96.0.0/12", "10.244.128.0/20", ["lab.yaml:7:18 cluster.serviceSubnet: overlaps podSubnet 10.244.0.0/16"]],
  ["host in pod subnet", "192.168.40.129", "10.244.3.4", ["lab.yaml:20:14 hosts[1].address: 10.244.3.4 lies inside cluster.podSubnet 10.244.0.0/16"]],
  ["host in service subnet", "192.168.40.129", "10.96.0.10", ["lab.yaml:20:14 hosts[1].address: 10.96.0.10 lies inside cluster.serviceSubnet 10.96.0.0/12"]],
  ["no control plane", "    role: control-plane", "    role: worker", ["lab.yaml:16:3 hosts: no host has role \"control-plane\": a cluster needs at least one"]],
  ["no hosts", "hosts:\n  - name: k8s-master\n    address: 192.168.40.128\n    role: control-plane\n  - name: k8s-node01\n    address: 192.168.40.129\n    role: worker\n", "hosts: []\n", ["lab.yaml:15:8 hosts: at least one host is needed"]],
  ["bad runtime", "containerRuntime: containerd", "containerRuntime: crio", ["lab.yaml:9:21 cluster.containerRuntime: expected \"containerd\" or \"docker\", got \"crio\""]],
  ["docker on aliyun without cri-dockerd", "containerRuntime: containerd", "containerRuntime: docker", ["lab.yaml:9:21 cluster.criDockerd.sha256: docker installs cri-dockerd 0.4.10 from a release file, and its project publishes no checksum kbootstrap could pin: set cluster.criDockerd.sha256 to the sha256 of each file your hosts install, by file name (e.g. cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb, cri-dockerd-0.4.10-3.el8.x86_64.rpm)", "lab.yaml:9:21 cluster.containerRuntime: docker needs cri-dockerd (Kubernetes 1.24+ has no dockershim), and the aliyun mirror does not carry it: set cluster.criDockerd.url to a copy of its release files, or use containerd"]],
  ["bad cni", "{ plugin: calico }", "{ plugin: weave }", ["lab.yaml:10:18 cluster.cni.plugin: expected one of \"calico\", \"flannel\", \"none\", got \"weave\""]],
  ["cni missing manifest file", "{ plugin: calico }", "{ plugin: calico, manifest: ./nope.yaml }", ["lab.yaml:10:36 cluster.cni.manifest: no such file \"./nope.yaml\" next to the inventory (expected an https URL or a local file)"]],
  ["bad proxy mode", "kubeProxyMode: iptables", "kubeProxyMode: userspace", ["lab.yaml:11:18 cluster.kubeProxyMode: expected one of \"iptables\", \"ipvs\", \"nftables\", got \"userspace\""]],
  ["bad mirror", "packageMirror: aliyun", "packageMirror: tsinghua", ["lab.yaml:8:18 cluster.packageMirror: expected \"upstream\", \"aliyun\" or an https base URL (letters, digits and ._~:@%+,=/- only: no quotes, $, backticks, spaces, query or fragment), got \"tsinghua\""]],
  ["bad endpoint", "  podSubnet: 10.244.0.0/16", "  controlPlaneEndpoint: 192.168.40.128\n  podSubnet: 10.244.0.0/16", ["lab.yaml:6:25 cluster.controlPlaneEndpoint: expected host:port like \"192.168.40.128:6443\", got \"192.168.40.128\""]],
  ["port string", "  port: 22", "  port: \"22\"", ["lab.yaml:14:9 ssh.port: expected number, got \"22\""]],
  ["port too big", "  port: 22", "  port: 70000", ["lab.yaml:14:9 ssh.port: expected at most 65535, got number 70000"]],
  ["bad ssh user", "  user: root", "  user: \"root; rm -rf /\"", ["lab.yaml:13:9 ssh.user: not a valid user name: \"root; rm -rf /\""]],
  ["bad registry mirror", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  registryMirrors: [\"mirror.example.com\"]", ["lab.yaml:12:21 cluster.registryMirrors[0]: expected an http(s) URL, got \"mirror.example.com\""]],
  ["offline server not a host", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  offline: { server: k8s-node1 }", ["lab.yaml:12:22 cluster.offline.server: no host is named \"k8s-node1\": the bundle server is one of hosts[].name (did you mean k8s-node01?)"]],
  ["offline unknown field", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  offline: { host: k8s-node01 }", ["lab.yaml:12:14 cluster.offline.host: unknown field"]],
  ["bad insecure registry", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  insecureRegistries: [\"http://10.0.0.66:5000\"]", ["lab.yaml:12:24 cluster.insecureRegistries[0]: expected a registry host or host:port like registry.local:5000, got \"http://10.0.0.66:5000\""]],
  ["bad os", "    role: worker", "    role: worker\n    os: windows", ["lab.yaml:22:9 hosts[1].os: expected one of \"rhel\", \"centos7\", \"rocky8\", \"rocky9\", \"rocky10\", \"alma8\", \"alma9\", \"alma10\", \"rhel8\", \"rhel9\", \"rhel10\", \"debian\", \"debian11\", \"debian12\", \"debian13\", \"ubuntu20.04\", \"ubuntu22.04\", \"ubuntu24.04\", \"ubuntu26.04\", got \"windows\""]],
  ["yaml syntax", "  name: lab", "  name: [lab", ["lab.yaml:5:3 YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]"]],
  ["duplicate key", "  name: lab", "  name: lab\n  name: lab2", ["lab.yaml:5:3 YAML syntax: Map keys must be unique"]],
  ["hosts not a list", "", "apiVersion: kbootstrap/v1\nkind: Inventory\ncluster: { name: a, kubernetesVersion: \"1.30.1\" }\nhosts: { a: 1 }\n", ["lab.yaml:4:8 hosts: expected a list, got a mapping"]],
  ["not a mapping", "", "- a\n- b\n", ["lab.yaml:1:1 expected a mapping with apiVersion, kind, cluster, ssh and hosts"]],
  ["bad label key", "    role: worker", "    role: worker\n    labels: { \"bad key\": x }", ["lab.yaml:22:26 hosts[1].labels.bad key: not a valid label key: \"bad key\""]],
  ["bad image repo", "  packageMirror: aliyun", "  packageMirror: aliyun\n  imageRepository: \"registry example.com\"", ["lab.yaml:9:20 cluster.imageRepository: expected an image repository like \"registry.aliyuncs.com/google_containers\", got \"registry example.com\""]],
  ["ssh host override typo", "    role: worker", "    role: worker\n    ssh: { usr: ubuntu }", ["lab.yaml:22:12 hosts[1].ssh.usr: unknown field (did you mean \"user\"?)"]],
  // cluster.loadBalancer (issue 14): the base fixture has one control plane at 192.168.40.128 and a worker at .129
  ["kube-vip VIP is a host's address", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  loadBalancer: { type: kube-vip, address: 192.168.40.129 }", ["lab.yaml:12:44 cluster.loadBalancer.address: 192.168.40.129 is the address of hosts[1] (k8s-node01): the VIP must be an address no host uses"]],
  ["kube-vip VIP outside the control planes' subnet", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  loadBalancer: { type: kube-vip, address: 192.168.41.100 }", ["lab.yaml:12:44 cluster.loadBalancer.address: 192.168.41.100 is outside the control planes' subnet 192.168.40.0/24 (the /24 around their addresses, or the prefix they share when they span more): kube-vip announces the VIP with ARP, which reaches only their own network"]],
  ["kube-vip VIP in podSubnet", "  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n  packageMirror: aliyun\n  containerRuntime: containerd\n  cni: { plugin: calico }\n  kubeProxyMode: iptables", "  podSubnet: 192.168.40.96/28\n  serviceSubnet: 10.96.0.0/12\n  packageMirror: aliyun\n  containerRuntime: containerd\n  cni: { plugin: calico }\n  kubeProxyMode: iptables\n  loadBalancer: { type: kube-vip, address: 192.168.40.100 }", ["lab.yaml:12:44 cluster.loadBalancer.address: 192.168.40.100 lies inside cluster.podSubnet 192.168.40.96/28"]],
  ["kube-vip VIP in serviceSubnet", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  loadBalancer: { type: kube-vip, address: 10.96.0.1 }", ["lab.yaml:12:44 cluster.loadBalancer.address: 10.96.0.1 lies inside cluster.serviceSubnet 10.96.0.0/12", "lab.yaml:12:44 cluster.loadBalancer.address: 10.96.0.1 is outside the control planes' subnet 192.168.40.0/24 (the /24 around their addresses, or the prefix they share when they span more): kube-vip announces the VIP with ARP, which reaches only their own network"]],
  ["kube-vip VIP a name", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  loadBalancer: { type: kube-vip, address: vip.example.com }", ["lab.yaml:12:44 cluster.loadBalancer.address: kube-vip holds an IPv4 address: expected one like 192.168.40.100, got \"vip.example.com\""]],
  ["endpoint differs from the load balancer", "  podSubnet: 10.244.0.0/16", "  controlPlaneEndpoint: \"192.168.40.100:8443\"\n  loadBalancer: { type: kube-vip, address: 192.168.40.100 }\n  podSubnet: 10.244.0.0/16", ["lab.yaml:6:25 cluster.controlPlaneEndpoint: \"192.168.40.100:8443\" differs from cluster.loadBalancer (192.168.40.100:6443): the endpoint is the load balancer's address; drop controlPlaneEndpoint or make the two equal"]],
  ["bad kube-vip interface", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  loadBalancer: { type: kube-vip, address: 192.168.40.100, interface: \"eth0; reboot\" }", ["lab.yaml:12:71 cluster.loadBalancer.interface: expected a network interface name like eth0, got \"eth0; reboot\""]],
  ["kube-vip on another port", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  loadBalancer: { type: kube-vip, address: 192.168.40.100, port: 8443 }", ["lab.yaml:12:66 cluster.loadBalancer.port: kube-vip moves only the address: clients reach the API server's own port 6443 through it, got 8443"]],
  ["bad load balancer type", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  loadBalancer: { type: keepalived, address: 192.168.40.100 }", ["lab.yaml:12:25 cluster.loadBalancer.type: expected \"kube-vip\" or \"external\", got \"keepalived\""]],
  // kubeadm v1beta4's validity periods (issue 22): Kubernetes 1.31+, Go durations
  ["certificateValidityPeriod before 1.31", "  kubernetesVersion: \"1.36.4\"\n", "  kubernetesVersion: \"1.30.4\"\n  certificateValidityPeriod: 17520h\n", ["lab.yaml:6:30 cluster.certificateValidityPeriod: needs kubeadm's v1beta4 configuration, which Kubernetes 1.31 and later read; this inventory asks for 1.30.4"]],
  ["caCertificateValidityPeriod not a duration", "  kubernetesVersion: \"1.36.4\"\n", "  kubernetesVersion: \"1.36.4\"\n  caCertificateValidityPeriod: 10y\n", ["lab.yaml:6:32 cluster.caCertificateValidityPeriod: expected a Go duration of hours, minutes and seconds like \"8760h\" or \"8760h0m0s\", got \"10y\""]],
  ["certRenewal other than timer", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  certRenewal: cron", ["lab.yaml:12:16 cluster.certRenewal: expected \"timer\", got \"cron\""]],
];

// valid inventories and the warnings they get
const WARN: [string, string, string, string[]][] = [
  ["version v prefix ok", "\"1.36.4\"", "v1.36.4", []],
  ["even control planes", "    role: worker", "    role: control-plane", ["lab.yaml:16:3 warning: hosts: 2 control planes: etcd keeps quorum no better than with 1; use an odd number", "lab.yaml:4:3 warning: cluster.controlPlaneEndpoint: several control planes but no controlPlaneEndpoint: joins and kubeconfigs will use the first control plane's address, which is a single point of failure; put a load balancer or VIP here"]],
  ["kube-vip with one control plane", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  loadBalancer: { type: kube-vip, address: 192.168.40.100 }", ["lab.yaml:12:25 warning: cluster.loadBalancer.type: kube-vip with one control plane: the VIP has no other host to move to (it does let control planes join later without changing the endpoint)"]],
  ["external load balancer by name, kube-vip fields ignored", "  kubeProxyMode: iptables", "  kubeProxyMode: iptables\n  loadBalancer: { type: external, address: lb.example.com, interface: eth0 }", ["lab.yaml:12:71 warning: cluster.loadBalancer.interface: ignored: only type kube-vip uses it"]],
];

describe('inventory validation', () => {
  it('accepts the base fixture', () => {
    expect(problems(BASE)).toEqual([]);
  });

  it('has a table of at least 30 bad inventories', () => expect(BAD.length).toBeGreaterThanOrEqual(30));

  it.each(BAD)('%s', (_name, from, to, expected) => {
    expect(problems(edit(from, to))).toEqual(expected);
  });

  it.each(WARN)('%s is valid, with warnings', (_name, from, to, expected) => {
    const r = parseInventory(edit(from, to), 'lab.yaml');
    // the fixture's Aliyun mirror with upstream images and manifest: those warnings are test/first-hour.test.ts's subject
    expect(r.warnings.filter((w) => !w.message.includes('says the upstream sites may be out of reach')).map(formatProblem)).toEqual(expected);
  });

  it('the CLI prints the error with the file name and exits 2 without connecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-inv-'));
    const file = join(dir, 'lab.yaml');
    writeFileSync(file, edit('    role: worker', '    role: master'));
    let out = '';
    let err = '';
    const code = await main(['node', 'kbootstrap', 'up', file], { out: (s) => { out += s; }, err: (s) => { err += s; }, isTTY: false });
    expect(code).toBe(2);
    expect(err).toBe(`${file}:21:11 hosts[1].role: expected "control-plane" or "worker", got "master"\n`);
    expect(out).toBe('');
  });

  it('controlPlaneEndpoint defaults to the load balancer address and port', () => {
    const r = parseInventory(edit('  kubeProxyMode: iptables', '  kubeProxyMode: iptables\n  loadBalancer: { type: external, address: 192.168.40.100, port: 8443 }'), 'lab.yaml');
    expect(r.inventory.cluster.controlPlaneEndpoint).toBe('192.168.40.100:8443');
    expect(r.inventory.cluster.loadBalancer).toEqual({ type: 'external', address: '192.168.40.100', port: 8443 });
    const kv = parseInventory(edit('  kubeProxyMode: iptables', '  kubeProxyMode: iptables\n  loadBalancer: { type: kube-vip, address: 192.168.40.100 }'), 'lab.yaml');
    expect(kv.inventory.cluster.controlPlaneEndpoint).toBe('192.168.40.100:6443');
  });

  it('kube-vip with two control planes: the quorum warning, not the missing-endpoint one', () => {
    const text = edit('    role: worker', '    role: control-plane').replace('  kubeProxyMode: iptables', '  kubeProxyMode: iptables\n  loadBalancer: { type: kube-vip, address: 192.168.40.100 }');
    expect(parseInventory(text, 'lab.yaml').warnings.filter((w) => !w.message.includes('says the upstream sites may be out of reach')).map(formatProblem))
      .toEqual(['lab.yaml:17:3 warning: hosts: 2 control planes: etcd keeps quorum no better than with 1; use an odd number']);
  });

  it('the control planes\' subnet is their /24, wider when they span several', () => {
    const ip = (s: string) => s.split('.').reduce((n, p) => n * 256 + Number(p), 0);
    expect(controlPlaneSubnet([ip('10.1.2.3'), ip('10.1.2.200')])?.text).toBe('10.1.2.0/24');
    expect(controlPlaneSubnet([ip('10.1.2.3'), ip('10.1.3.3')])?.text).toBe('10.1.2.0/23');
    expect(controlPlaneSubnet([ip('10.1.2.3'), ip('10.1.4.3')])?.text).toBe('10.1.0.0/21');
  });

  it('a missing file is a usage error', async () => {
    let err = '';
    const code = await main(['node', 'kbootstrap', 'up', '/nonexistent/inv.yaml', '--dry-run'], { out: () => {}, err: (s) => { err += s; }, isTTY: false });
    expect(code).toBe(2);
    expect(err).toContain('/nonexistent/inv.yaml:1:1 cannot read inventory: no such file');
  });
});
