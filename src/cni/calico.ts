/**
 * Calico from its manifest (manifests/calico.yaml of a release tag): calico-node
 * and calico-kube-controllers in kube-system, the Kubernetes datastore.
 * Ports: https://docs.tigera.io/calico/latest/getting-started/kubernetes/requirements#network-requirements
 */
import { render } from '../shell/templates.js';
import { CNI_NFTABLES, compareVersions } from '../versions/index.js';
import type { CniPlugin } from './types.js';
import { imageTag, tableFacts } from './table-facts.js';

const DS = 'kube-system/calico-node';

/**
 * Felix's NFTablesMode (env FELIX_NFTABLESMODE) from the versions table (CNI_NFTABLES.calico, with its
 * sources): kbootstrap sets Enabled explicitly for nftables on every release, so that the setting is
 * the same whatever the release's default (Disabled before v3.32, Auto after).
 */
const NFT = CNI_NFTABLES.calico;

export const calico: CniPlugin = {
  id: 'calico',
  ...tableFacts('calico'),
  manifestUrl: (version) => `https://raw.githubusercontent.com/projectcalico/calico/${version.startsWith('v') ? version : `v${version}`}/manifests/calico.yaml`,
  defaultPodCidr: '192.168.0.0/16',
  podCidrEdit: (cidr) => ({
    sed: [
      // calico.yaml ships the pool CIDR commented out: uncomment it, then set the value on the next line
      `/# - name: CALICO_IPV4POOL_CIDR/{s|# ||;n;s|#   value:.*|  value: "${cidr}"|;}`,
      `/- name: CALICO_IPV4POOL_CIDR/{n;s|value:.*|value: "${cidr}"|;}`,
    ],
    expect: [`value: "${cidr}"`],
    what: 'pod CIDR setting (CALICO_IPV4POOL_CIDR)',
  }),
  ports: [
    // BGP carries calico's routes between nodes (calico.yaml's default backend: bird)
    { port: '179', proto: 'tcp', purpose: 'calico BGP', listens: false },
    // only for VXLAN pools and Typha, which the stock calico.yaml does not enable; kept for
    // manifests that do (a custom cni.manifest)
    { port: '4789', proto: 'udp', purpose: 'calico VXLAN', listens: false },
    { port: '5473', proto: 'tcp', purpose: 'calico typha', listens: false },
  ],
  /**
   * calico.yaml's default pool is IP-in-IP (CALICO_IPV4POOL_IPIP: Always), IP protocol 4, which no
   * port opens. By number, because protocol 4's name differs: `ipencap` in Debian's netbase, `ipv4`
   * on CentOS, and `ipip` is protocol 94 (docs/compatibility.md D4). firewalld accepts a number:
   * its checkProtocol takes int(protocol) in 0..255 before trying getprotobyname
   * (firewalld src/firewall/functions.py).
   */
  protocols: [{ protocol: '4', purpose: 'calico IP-in-IP' }],
  installed(state) {
    const ds = state.daemonSets.get(DS);
    if (!ds) return undefined;
    const env = ds.get('calico-node');
    return {
      cidr: env?.get('CALICO_IPV4POOL_CIDR'),
      nftables: env?.get('FELIX_NFTABLESMODE') === 'Enabled',
      version: imageTag(state.daemonSetImages.get(DS)?.get('calico-node')),
    };
  },
  nftables: {
    since: NFT.since,
    source: `${NFT.setting}: ${NFT.sources[0]!.ref}, read ${NFT.sources[0]!.read}`,
    preview: (version) => (compareVersions(version, NFT.ga!) < 0
      ? `calico ${version}'s nftables data plane is a tech preview (v3.29.0 release notes); it is generally available from ${NFT.ga!}`
      : undefined),
    // inserted before FELIX_IPV6SUPPORT, which every calico.yaml from v3.28 to v3.32 sets in calico-node's env
    edit: (on) => (on
      ? {
        sed: ['s/^\\( *\\)- name: FELIX_IPV6SUPPORT$/\\1- name: FELIX_NFTABLESMODE\\n\\1  value: "Enabled"\\n&/'],
        expect: ['- name: FELIX_NFTABLESMODE'],
        what: 'calico-node environment (FELIX_IPV6SUPPORT, before which FELIX_NFTABLESMODE goes)',
      }
      : undefined),
    switchScript: (on) => render('cni/calico-nftables', { env: `FELIX_NFTABLESMODE=${on ? 'Enabled' : 'Disabled'}` }),
  },
};
