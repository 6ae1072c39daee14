/**
 * kube-proxy's nftables mode against the minor and the host, from the versions table
 * (src/versions/table.ts NFTABLES_PROXY and each minor's kubeProxyModes; KEP-3866).
 */
import { NFTABLES_PROXY, proxyModeStatus } from '../versions/index.js';

const KEP = 'KEP-3866';

/** What validate says of mode nftables on the minor: a refusal where the minor has no such mode, a warning where it is alpha or beta, else nothing. */
export function nftablesProxyWarning(minor: number): { refuse: boolean; text: string } | undefined {
  const stage = proxyModeStatus(minor, 'nftables');
  const gate = NFTABLES_PROXY.gate;
  if (stage === undefined) {
    return { refuse: true, text: `kube-proxy 1.${minor} has no nftables mode: it came as alpha in 1.29 and is GA from 1.33 (${KEP}); use iptables, or Kubernetes 1.33 or later` };
  }
  if (stage === 'alpha') {
    return { refuse: false, text: `kube-proxy's nftables mode is alpha in 1.${minor}, behind the ${gate} feature gate, off by default (${KEP}): kbootstrap turns the gate on in kube-proxy's configuration; alpha features are not for production, and nftables is GA from 1.33` };
  }
  if (stage === 'beta') {
    return { refuse: false, text: `kube-proxy's nftables mode is beta in 1.${minor} (the ${gate} feature gate is on by default, ${KEP}); it is GA from 1.33` };
  }
  return undefined;
}

/** The kube-proxy feature gates kbootstrap sets for a mode on a minor: the nftables gate where it is alpha (off by default). */
export function kubeProxyFeatureGates(mode: string, minor: number): Record<string, boolean> {
  return mode === 'nftables' && proxyModeStatus(minor, 'nftables') === 'alpha' ? { [NFTABLES_PROXY.gate]: true } : {};
}

const kernelVersion = (release: string): [number, number] | undefined => {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
};

/** Why a host's kernel cannot run kube-proxy in nftables mode (older than 5.13), or undefined. */
export function nftablesKernelRefusal(kernel: string): string | undefined {
  const k = kernelVersion(kernel);
  const [major, minor] = NFTABLES_PROXY.minKernel;
  if (!k || k[0] > major || (k[0] === major && k[1] >= minor)) return undefined;
  return `kernel ${kernel} is older than ${major}.${minor}: kube-proxy's nftables mode needs ${major}.${minor} or later (kubernetes.io, Virtual IPs and Service Proxies): use iptables on this cluster`;
}

/** `nft --version` output (nftables v1.0.6 (Lester Gooch #5)) against the nft calico's nftables data plane asks for; undefined when fine. */
export function nftVersionProblem(nftVersion: string): string | undefined {
  if (!nftVersion) return `no nft program: kbootstrap up installs the nftables package (calico's nftables data plane asks for nft ${NFTABLES_PROXY.minNft} or later on the host)`;
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(nftVersion);
  if (!m) return undefined;
  const [a, b, c] = NFTABLES_PROXY.minNft.split('.').map(Number) as [number, number, number];
  const v = [Number(m[1]), Number(m[2]), Number(m[3])];
  const older = v[0]! - a || v[1]! - b || v[2]! - c;
  return older < 0 ? `nft ${v.join('.')} is older than ${NFTABLES_PROXY.minNft}, which calico's nftables data plane asks for on the host` : undefined;
}
