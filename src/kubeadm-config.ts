/** kubeadm configuration files, rendered from the inventory as YAML documents. */
import { stringify } from 'yaml';
import type { ClusterSpec, HostSpec } from './inventory/model.js';
import { criSocket } from './kube/runtime.js';
import type { JoinSecrets } from './run/join-credentials.js';
import { kubeadmApiVersion as apiForMinor } from './versions/index.js';
import { kubeProxyFeatureGates } from './kube/proxy-mode.js';

/** v1beta4 where the minor's kubeadm reads it (1.31 on; the only one from 1.37), v1beta3 before: the versions table's kubeadmApis. */
export function kubeadmApiVersion(cluster: ClusterSpec): string {
  return apiForMinor(cluster.minor);
}

function docs(...objs: object[]): string {
  return objs.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

/**
 * Extra names in the API server certificate: with a load balancer, its
 * address and controlPlaneEndpoint's host (kubeadm adds the endpoint itself
 * too; listing both keeps the VIP in even if the two ever differ).
 * apiServer.certSANs is the same field in v1beta3 and v1beta4:
 * https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/#kubeadm-k8s-io-v1beta4-APIServer
 */
export function apiServerCertSANs(cluster: ClusterSpec): string[] {
  if (!cluster.loadBalancer) return [];
  const endpointHost = cluster.controlPlaneEndpoint.replace(/:\d+$/, '');
  return [...new Set([cluster.loadBalancer.address, endpointHost])];
}

/**
 * kubeadm init always creates a bootstrap token (24 hours unless told otherwise) and kbootstrap
 * never joins with it: it creates short-lived tokens of its own when a join needs one. So init's
 * token is named and short-lived here, and the kubeadm-init step deletes it right after init.
 * InitConfiguration.bootstrapTokens ("describes a set of Bootstrap Tokens to create"; each
 * token's value is random when unset) is the same field in v1beta3 and v1beta4:
 * https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/#kubeadm-k8s-io-v1beta4-InitConfiguration
 * (read 2026-12-05). Skipping init's bootstrap-token phase instead would also skip the RBAC and
 * cluster-info ConfigMap that every join needs
 * (https://kubernetes.io/docs/reference/setup-tools/kubeadm/generated/kubeadm_init_phase_bootstrap-token/).
 * The description stays free of characters JSON escapes, so the step can find it in `kubeadm token list -o json`.
 */
export const INIT_TOKEN = { description: 'made by kubeadm init, deleted by kbootstrap once init is done', ttl: '15m' } as const;

/**
 * kube-proxy's configuration: its mode, and on a minor where nftables is alpha (1.29, 1.30) the
 * NFTablesProxyMode gate it needs (KubeProxyConfiguration.featureGates, read by kube-proxy only:
 * KEP-3866 kep.yaml feature-gates components).
 * https://kubernetes.io/docs/reference/config-api/kube-proxy-config.v1alpha1/ (mode, featureGates), read 2026-12-07.
 */
function kubeProxyConfig(cluster: ClusterSpec): object {
  const gates = kubeProxyFeatureGates(cluster.kubeProxyMode, cluster.minor);
  return { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: cluster.kubeProxyMode, ...(Object.keys(gates).length ? { featureGates: gates } : {}) };
}

export function initConfig(cluster: ClusterSpec, host: HostSpec): string {
  const api = kubeadmApiVersion(cluster);
  return '# kbootstrap: kubeadm init configuration\n' + docs(
    {
      apiVersion: api,
      kind: 'InitConfiguration',
      bootstrapTokens: [{ description: INIT_TOKEN.description, ttl: INIT_TOKEN.ttl }],
      localAPIEndpoint: { advertiseAddress: host.address, bindPort: 6443 },
      nodeRegistration: { name: host.name, criSocket: criSocket(cluster) },
    },
    {
      apiVersion: api,
      kind: 'ClusterConfiguration',
      clusterName: cluster.name,
      kubernetesVersion: `v${cluster.kubernetesVersion}`,
      controlPlaneEndpoint: cluster.controlPlaneEndpoint,
      ...(apiServerCertSANs(cluster).length ? { apiServer: { certSANs: apiServerCertSANs(cluster) } } : {}),
      imageRepository: cluster.imageRepository,
      networking: { podSubnet: cluster.podSubnet, serviceSubnet: cluster.serviceSubnet },
      // v1beta4 only (the inventory refuses them for a minor that writes v1beta3); kubeadm certs renew reads them back from kubeadm-config
      ...(api === 'kubeadm.k8s.io/v1beta4' && cluster.certificateValidityPeriod ? { certificateValidityPeriod: cluster.certificateValidityPeriod } : {}),
      ...(api === 'kubeadm.k8s.io/v1beta4' && cluster.caCertificateValidityPeriod ? { caCertificateValidityPeriod: cluster.caCertificateValidityPeriod } : {}),
    },
    { apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', cgroupDriver: 'systemd' },
    kubeProxyConfig(cluster),
  );
}

export function joinConfig(cluster: ClusterSpec, host: HostSpec, s: JoinSecrets): string {
  const api = kubeadmApiVersion(cluster);
  const cfg: Record<string, unknown> = {
    apiVersion: api,
    kind: 'JoinConfiguration',
    discovery: { bootstrapToken: { apiServerEndpoint: s.endpoint, token: s.token, caCertHashes: [s.caCertHash] } },
    nodeRegistration: { name: host.name, criSocket: criSocket(cluster) },
  };
  if (host.role === 'control-plane') {
    cfg.controlPlane = { localAPIEndpoint: { advertiseAddress: host.address, bindPort: 6443 }, certificateKey: s.certificateKey };
  }
  return '# kbootstrap: kubeadm join configuration (holds secrets; removed after the join)\n' + docs(cfg);
}
