/**
 * The inventory contract (apiVersion kbootstrap/v1). Field names are the
 * users' contract: renaming one breaks their files. The JSON Schema in
 * schema/inventory.schema.json is generated from this (npm run schema:json).
 */
import { z } from 'zod';
import { OS_NAMES, type OsName } from './os-names.js';
import { CNI_NAMES } from '../cni/names.js';

export { OS_NAMES, type OsName };

const sshSettings = {
  user: z.string().min(1).describe('SSH login user; non-root users run mutating commands through sudo'),
  port: z.number().int().min(1).max(65535).describe('SSH port'),
  privateKeyPath: z.string().min(1).describe('Private key file (~ is expanded); the passphrase comes from KBOOTSTRAP_SSH_PASSPHRASE or a prompt'),
  knownHostsPath: z.string().min(1).describe('known_hosts file used in addition to ~/.ssh/known_hosts'),
  connectTimeoutSeconds: z.number().int().min(1).max(600).describe('TCP + SSH handshake timeout per attempt'),
};

const bastionSchema = z.strictObject({
  address: z.string().min(1).describe('Jump host address or name'),
  port: sshSettings.port.optional(),
  user: sshSettings.user.optional(),
  privateKeyPath: sshSettings.privateKeyPath.optional(),
}).describe('Jump host the connections go through (like ssh -J)');

// No defaults here: a field the inventory leaves out is taken from OpenSSH's
// configuration (~/.ssh/config) first, and only then from kbootstrap's
// defaults (user root, port 22, 10 s), as ssh itself orders them.
export const sshDefaultsSchema = z.strictObject({
  user: sshSettings.user.optional().describe('SSH login user (default: ~/.ssh/config, else root); non-root users run mutating commands through sudo'),
  port: sshSettings.port.optional().describe('SSH port (default: ~/.ssh/config, else 22)'),
  privateKeyPath: sshSettings.privateKeyPath.optional(),
  knownHostsPath: sshSettings.knownHostsPath.optional(),
  connectTimeoutSeconds: sshSettings.connectTimeoutSeconds.optional().describe('TCP + SSH handshake timeout per attempt (default: ~/.ssh/config, else 10)'),
  bastion: bastionSchema.optional(),
  configFile: z.string().min(1).optional()
    .describe('OpenSSH client configuration read for Host aliases, HostName, User, Port, IdentityFile, ProxyJump, UserKnownHostsFile (default ~/.ssh/config; none: ignore it); what the inventory sets wins'),
});

const sshOverrideSchema = z.strictObject({
  host: z.string().min(1).optional()
    .describe('The name given to ssh for this host: an alias of the OpenSSH configuration or a DNS name (default: address)'),
  user: sshSettings.user.optional(),
  port: sshSettings.port.optional(),
  privateKeyPath: sshSettings.privateKeyPath.optional(),
  knownHostsPath: sshSettings.knownHostsPath.optional(),
  connectTimeoutSeconds: sshSettings.connectTimeoutSeconds.optional(),
  bastion: bastionSchema.optional(),
});

const cniSchema = z.strictObject({
  plugin: z.enum([...CNI_NAMES, 'none']).describe(`CNI plugin to install (${CNI_NAMES.join(', ')}); none leaves networking to you`),
  version: z.string().regex(/^v?\d+\.\d+\.\d+$/, 'expected a version like v3.33.0').optional()
    .describe('Plugin release (default: the newest release in kbootstrap\'s versions table tested against kubernetesVersion)'),
  manifest: z.string().min(1).optional()
    .describe('Manifest URL (fetched on the control plane) or local file under the inventory\'s directory (uploaded, at most 4 MiB); its pod CIDR is set to podSubnet'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 digest: 64 lowercase hex digits').optional()
    .describe('sha256 of the manifest fetched by URL, checked on the host before it is applied (needed unless kbootstrap pins the digest of that release)'),
});

const loadBalancerSchema = z.strictObject({
  type: z.enum(['kube-vip', 'external'])
    .describe('kube-vip: kbootstrap runs kube-vip (ARP, leader election) as a static pod on every control plane to hold the address; external: a load balancer you run'),
  address: z.string().min(1).describe('The virtual IP (kube-vip: an unused IPv4 address on the control planes\' network) or the external load balancer\'s address'),
  port: z.number().int().min(1).max(65535).default(6443).describe('Port the API server is reached on through the address'),
  // Linux interface names: at most 15 bytes (IFNAMSIZ 16 with the NUL), no "/" or whitespace
  interface: z.string().regex(/^[A-Za-z0-9_.:@-]{1,15}$/, 'expected a network interface name like eth0').optional()
    .describe('kube-vip: interface that holds the VIP (default: the one holding each control plane\'s address, read at run time)'),
  image: z.string().min(1).optional()
    .describe('kube-vip: image to run, by tag or pinned by digest (repo/kube-vip@sha256:...) (default: the pinned kube-vip release, from imageRepository when that is a mirror)'),
});

const registrySchema = z.strictObject({
  host: z.string().min(1).describe('The registry as image names spell it: host or host:port, e.g. registry.lab:5000'),
  mirrorOf: z.array(z.string().min(1)).default([])
    .describe('Upstream registries this registry stands in for (docker.io, quay.io, ghcr.io, registry.k8s.io...): containerd pulls their images from here first, then from the upstream'),
  caFile: z.string().min(1).optional()
    .describe('PEM file of the CA that signed the registry\'s certificate, under the inventory\'s directory (relative to it); uploaded to every host and named in the runtime\'s registry configuration'),
  plainHttp: z.boolean().default(false).describe('The registry speaks plain HTTP, not TLS (only when it really does)'),
  credentials: z.strictObject({
    username: z.string().min(1).describe('User name (not secret)'),
    passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name like KB_REGISTRY_PASSWORD').optional()
      .describe('Environment variable holding the password, read by kbootstrap at run time'),
    passwordFile: z.string().min(1).optional()
      .describe('File holding the password on its first line (~ is expanded), read by kbootstrap at run time; never the password itself in the inventory'),
  }).optional().describe('Basic-auth credentials for the registry: the password comes from passwordEnv or passwordFile, exactly one'),
});

export const clusterSchema = z.strictObject({
  name: z.string().describe('Cluster name (DNS-1123 label); also the kubeconfig cluster/context name'),
  kubernetesVersion: z.string().describe('Kubernetes version to install, e.g. "1.37.1"'),
  controlPlaneEndpoint: z.string().optional()
    .describe('host:port of the API server for joins and kubeconfigs (default: loadBalancer address:port, else first control plane address:6443)'),
  loadBalancer: loadBalancerSchema.optional().describe('The address in front of the control planes'),
  podSubnet: z.string().default('10.244.0.0/16').describe('Pod network CIDR; the CNI manifest is made to match'),
  serviceSubnet: z.string().default('10.96.0.0/12').describe('Service network CIDR'),
  imageRepository: z.string().min(1).default('registry.k8s.io')
    .describe('Where control-plane and pause images come from, e.g. registry.aliyuncs.com/google_containers'),
  packageMirror: z.string().min(1).default('upstream')
    .describe('upstream | aliyun | https base URL of a mirror laid out like mirrors.aliyun.com'),
  repositoryKeyFingerprints: z.array(z.string()).default([])
    .describe('OpenPGP fingerprints (40 hex digits) accepted for repository signing keys besides the pinned upstream ones (Docker, pkgs.k8s.io): for a packageMirror that signs with its own key'),
  allowInsecureHttp: z.boolean().default(false)
    .describe('Allow plain http:// for packageMirror, cni.manifest and criDockerd.url (packages then rest on their signing keys and sha256 digests alone); refused otherwise'),
  prepullImages: z.boolean().default(true)
    .describe('Pull the images each host\'s role runs during prepare (step images), all hosts at once, so kubeadm init and the joins pull nothing; false leaves the pulls to kubeadm and the kubelet'),
  containerRuntime: z.enum(['containerd', 'docker']).default('containerd')
    .describe('containerd, or docker (docker-ce + cri-dockerd)'),
  criDockerd: z.strictObject({
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'expected a version like 0.4.10').optional()
      .describe('cri-dockerd release (default: the newest in kbootstrap\'s versions table)'),
    url: z.string().optional().describe('Base URL holding the cri-dockerd release files (default: the project\'s GitHub releases)'),
    sha256: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 digest: 64 lowercase hex digits')).optional()
      .describe('sha256 of each release file the hosts install, by file name (cri-dockerd_0.3.16.3-0.ubuntu-jammy_amd64.deb: <digest>); checked on the host before install. Required: cri-dockerd publishes no checksums'),
  }).optional().describe('Where cri-dockerd comes from when containerRuntime is docker'),
  cni: cniSchema.default({ plugin: 'calico' }),
  kubeProxyMode: z.enum(['iptables', 'ipvs', 'nftables']).default('iptables')
    .describe('kube-proxy mode: iptables (its default), ipvs (deprecated from 1.35), nftables (GA from 1.33; the CNI plugin\'s own nftables setting follows it)'),
  registryMirrors: z.array(z.string()).default([]).describe('Pull-through mirrors for docker.io, e.g. https://xxxx.mirror.aliyuncs.com'),
  insecureRegistries: z.array(z.string()).default([]).describe('host:port registries reached over plain HTTP'),
  registries: z.array(registrySchema).default([])
    .describe('Private registries: what they mirror, their CA and credentials, written where containerd (or docker) reads them'),
  firewall: z.enum(['open', 'disable']).default('open')
    .describe('RHEL family: open the kubeadm ports in firewalld when it runs (open), or stop and disable firewalld (disable)'),
  certificateValidityPeriod: z.string().optional()
    .describe('Validity of the certificates kubeadm makes and renews, as a Go duration like "8760h" (kubeadm v1beta4, Kubernetes 1.31 or later; kubeadm\'s default is one year)'),
  caCertificateValidityPeriod: z.string().optional()
    .describe('Validity of the CAs kubeadm init makes, as a Go duration like "87600h" (kubeadm v1beta4, Kubernetes 1.31 or later; kubeadm\'s default is ten years)'),
  offline: z.strictObject({
    server: z.string().optional()
      .describe('The host (a name of hosts) that receives the bundle and serves it over HTTP to the others during up/upgrade --bundle (default: the first control plane); it needs python3'),
  }).optional().describe('up --bundle / upgrade --bundle: how the bundle reaches the hosts'),
  certRenewal: z.enum(['timer']).optional()
    .describe('timer: a systemd timer on every control plane renews kubeadm\'s certificates when one has less than 30 days left (kbootstrap certs renew does it on demand)'),
});

export const hostSchema = z.strictObject({
  name: z.string().describe('Hostname and node name (DNS-1123 label)'),
  address: z.string().describe('IPv4 address: SSH target, /etc/hosts entry and advertise address'),
  role: z.enum(['control-plane', 'worker']),
  os: z.enum(OS_NAMES).optional()
    .describe('OS for dry runs only; a real run reads /etc/os-release'),
  labels: z.record(z.string(), z.string()).optional().describe('Extra node labels'),
  ssh: sshOverrideSchema.optional(),
});

export const inventorySchema = z.strictObject({
  apiVersion: z.literal('kbootstrap/v1'),
  kind: z.literal('Inventory'),
  cluster: clusterSchema,
  ssh: sshDefaultsSchema.default({}),
  hosts: z.array(hostSchema).min(1, 'at least one host is needed'),
});

export type ParsedInventory = z.output<typeof inventorySchema>;
