/**
 * The kubeadm configuration kbootstrap renders, for every minor it accepts, held to the
 * kubeadm API reference: each document parses, its apiVersion is one the target kubeadm
 * serves, its kind exists in that version and it has only that kind's fields. The field
 * table is the simulated kubeadm's (test/lab/sim/kubeadm-schema.mjs, sourced there from
 * https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta3/ and .v1beta4/),
 * so the lab and this test cannot disagree. KubeletConfiguration and KubeProxyConfiguration
 * are held to the fields kbootstrap may set, from their own references
 * (https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/,
 * https://kubernetes.io/docs/reference/config-api/kube-proxy-config.v1alpha1/).
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { initConfig, joinConfig } from '../../src/kubeadm-config.js';
import type { Inventory } from '../../src/inventory/model.js';
import { KINDS, SERVED, unknownFields, type Schema } from '../lab/sim/kubeadm-schema.mjs';
import { exampleInventory } from '../support/contexts.js';

const COMPONENT_CONFIGS: Record<string, Record<string, Schema>> = {
  'kubelet.config.k8s.io/v1beta1': { KubeletConfiguration: { cgroupDriver: null, failCgroupV1: null } },
  // mode: iptables | ipvs | nftables (nftables from 1.29)
  'kubeproxy.config.k8s.io/v1alpha1': { KubeProxyConfiguration: { mode: null } },
};

/** Every document's problems against the target minor's kubeadm; [] when kubeadm would load it. */
function problems(yaml: string, minor: number): string[] {
  const out: string[] = [];
  for (const doc of parseAllDocuments(yaml)) {
    if (doc.errors.length) { out.push(...doc.errors.map((e) => e.message)); continue; }
    const obj = doc.toJS() as { apiVersion?: string; kind?: string };
    const api = obj.apiVersion ?? '';
    const kubeadm = api.startsWith('kubeadm.k8s.io/');
    if (kubeadm && !SERVED(minor).includes(api)) { out.push(`${api} is not served by kubeadm 1.${minor}`); continue; }
    const schema = (kubeadm ? KINDS[api] : COMPONENT_CONFIGS[api])?.[obj.kind ?? ''];
    if (!schema) { out.push(`no kind ${obj.kind} in ${api}`); continue; }
    out.push(...unknownFields(obj, schema).map((f) => `${api} ${obj.kind}: unknown field ${f}`));
  }
  return out;
}

const SECRETS = { endpoint: '192.168.40.128:6443', token: 'abcdef.0123456789abcdef', caCertHash: `sha256:${'0'.repeat(64)}`, certificateKey: 'f'.repeat(64) };
const MINORS = Array.from({ length: 35 - 24 + 1 }, (_, i) => 24 + i);
const at = (inv: Inventory, minor: number): Inventory['cluster'] => ({ ...inv.cluster, minor, minorVersion: `v1.${minor}`, kubernetesVersion: `1.${minor}.0` });

describe('rendered kubeadm configuration against the kubeadm API of each minor', () => {
  for (const name of ['lab', 'rocky-ha', 'ubuntu-docker-flannel']) {
    const inv = exampleInventory(name);
    it.each(MINORS)(`${name}: init and join configs for 1.%i have only that API version's kinds and fields`, (minor) => {
      const cluster = at(inv, minor);
      const cp = inv.hosts.find((h) => h.role === 'control-plane')!;
      const worker = inv.hosts.find((h) => h.role === 'worker') ?? cp;
      expect(problems(initConfig(cluster, cp), minor)).toEqual([]);
      expect(problems(joinConfig(cluster, worker, SECRETS), minor)).toEqual([]);
      expect(problems(joinConfig(cluster, { ...cp, role: 'control-plane' }, SECRETS), minor)).toEqual([]);
    });
  }

  it('the oracle itself rejects a misplaced field, an unknown kind and an unserved version', () => {
    const v4 = 'apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  timeoutForControlPlane: 4m\n';
    expect(problems(v4, 31)).toEqual(['kubeadm.k8s.io/v1beta4 ClusterConfiguration: unknown field apiServer.timeoutForControlPlane']);
    expect(problems('apiVersion: kubeadm.k8s.io/v1beta4\nkind: Nope\n', 31)).toEqual(['no kind Nope in kubeadm.k8s.io/v1beta4']);
    expect(problems('apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n', 30)).toEqual(['kubeadm.k8s.io/v1beta4 is not served by kubeadm 1.30']);
  });
});
