/**
 * Flannel from its release asset kube-flannel.yml: the kube-flannel-ds DaemonSet and
 * the kube-flannel-cfg ConfigMap (net-conf.json) in the kube-flannel namespace.
 * Ports: https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md#vxlan
 */
import { render } from '../shell/templates.js';
import { CNI_NFTABLES } from '../versions/index.js';
import type { CniPlugin } from './types.js';
import { imageTag, tableFacts } from './table-facts.js';

const CM = 'kube-flannel/kube-flannel-cfg';
const DS = 'kube-flannel/kube-flannel-ds';

/** net-conf.json's EnableNFTables, from the versions table (CNI_NFTABLES.flannel, with its sources): experimental in every release read. */
const NFT = CNI_NFTABLES.flannel;

function netConf(state: Parameters<CniPlugin['installed']>[0]): { Network?: string; EnableNFTables?: boolean } {
  try {
    return JSON.parse(state.configMaps.get(CM)?.['net-conf.json'] ?? '{}') as { Network?: string; EnableNFTables?: boolean };
  } catch {
    return {};
  }
}

export const flannel: CniPlugin = {
  id: 'flannel',
  ...tableFacts('flannel'),
  manifestUrl: (version) => `https://github.com/flannel-io/flannel/releases/download/${version.startsWith('v') ? version : `v${version}`}/kube-flannel.yml`,
  defaultPodCidr: '10.244.0.0/16',
  podCidrEdit: (cidr) => ({ sed: [`s#"Network": *"[^"]*"#"Network": "${cidr}"#`], expect: [`"Network": "${cidr}"`], what: 'pod CIDR setting ("Network" in net-conf.json)' }),
  ports: [{ port: '8472', proto: 'udp', purpose: 'flannel VXLAN', listens: false }],
  protocols: [],
  installed(state) {
    if (!state.configMaps.has(CM)) return undefined;
    const conf = netConf(state);
    return { cidr: conf.Network, nftables: conf.EnableNFTables === true, version: imageTag(state.daemonSetImages.get(DS)?.get('kube-flannel')) };
  },
  nftables: {
    since: NFT.since,
    source: `${NFT.setting}: ${NFT.sources[0]!.ref}, read ${NFT.sources[0]!.read}`,
    preview: (version) => `flannel ${version}'s EnableNFTables is experimental (its Documentation/configuration.md)`,
    edit: (on) => (on
      ? { sed: ['s#"EnableNFTables": *[a-z]*#"EnableNFTables": true#'], expect: ['"EnableNFTables": true'], what: 'nftables setting ("EnableNFTables" in net-conf.json, flannel v0.25.0 or later)' }
      : undefined),
    switchScript: (on) => render('cni/flannel-nftables', { sed: `s#"EnableNFTables": *[a-z]*#"EnableNFTables": ${on}#` }),
  },
};
