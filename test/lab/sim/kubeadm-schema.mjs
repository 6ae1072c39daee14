// Which kubeadm config API versions a kubeadm minor serves, and the fields
// of each kind in each version, for the simulated kubeadm's config checks.
//
// Versions:
// - kubeadm.k8s.io/v1beta4 was enabled in 1.31, which deprecated v1beta3
//   (kubernetes/kubernetes#125029, release note: "v1beta3 is now marked as
//   deprecated but will continue to be supported until version 1.34 or later").
// - v1beta3 was removed in 1.37 (kubernetes/kubernetes#136016, in
//   CHANGELOG-1.37.md v1.37.0-alpha.1: "removed the v1beta3 API which was
//   deprecated since v1.31. The 1.35 kubeadm binary can be used to migrate";
//   kubernetes/kubernetes@df0a31e010eab41eb769fbd6ecb09391707bd2eb, read
//   2026-12-05), so 1.31-1.36 read both; v1beta2 was removed in 1.27
//   (kubernetes#114540), so 1.27-1.30 serve v1beta3 only. The same facts are
//   kbootstrap's versions table's kubeadmApis (src/versions/table.ts); this
//   copy is the simulated kubeadm's own, so a wrong row there shows here.
//
// Feature gates kubeadm removed (its ClusterConfiguration.featureGates refuses
// an unknown key): ControlPlaneKubeletLocalMode in 1.36 (#135773,
// CHANGELOG-1.36.md, kubernetes/kubernetes@008b3652959ca58af8be3fb5b6ecfe9ae7638282);
// PublicKeysECDSA (#136016) and NodeLocalCRISocket (#138645) in 1.37
// (CHANGELOG-1.37.md alpha.1).
//
// Fields: the kubeadm API reference pages
//   https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta3/
//   https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/
// (InitConfiguration, ClusterConfiguration, JoinConfiguration and the types
// they nest). Only the objects kbootstrap could plausibly write are listed in
// depth; a nested object not listed here is not checked below its own name.

export const SERVED = (minor) => [
  ...(minor <= 36 ? ['kubeadm.k8s.io/v1beta3'] : []),
  ...(minor >= 31 ? ['kubeadm.k8s.io/v1beta4'] : []),
];

/** kubeadm's map of removed versions to the last kubeadm that read them (cmd/kubeadm/app/util/config/common.go, validateSupportedVersion). */
export const OLD_KNOWN = (minor) => ({
  'kubeadm.k8s.io/v1alpha1': 'v1.11', 'kubeadm.k8s.io/v1alpha2': 'v1.12', 'kubeadm.k8s.io/v1alpha3': 'v1.14',
  'kubeadm.k8s.io/v1beta1': 'v1.15', 'kubeadm.k8s.io/v1beta2': 'v1.22',
  ...(minor >= 37 ? { 'kubeadm.k8s.io/v1beta3': 'v1.35' } : {}),
});

/** kubeadm feature gates gone in the minor (see above): a config naming one is refused. */
export const REMOVED_GATES = (minor) => [
  ...(minor >= 36 ? ['ControlPlaneKubeletLocalMode'] : []),
  ...(minor >= 37 ? ['PublicKeysECDSA', 'NodeLocalCRISocket'] : []),
];

const component3 = ['extraArgs', 'extraVolumes'];
const component4 = ['extraArgs', 'extraVolumes', 'extraEnvs'];
const apiEndpoint = { advertiseAddress: null, bindPort: null };
const discoveryToken = { token: null, apiServerEndpoint: null, caCertHashes: null, unsafeSkipCAVerification: null };
const bootstrapTokens = null; // a list of BootstrapToken objects (token, description, ttl, expires, usages, groups): not descended into
const etcd = { local: { imageRepository: null, imageTag: null, dataDir: null, extraArgs: null, extraEnvs: null, serverCertSANs: null, peerCertSANs: null }, external: { endpoints: null, caFile: null, certFile: null, keyFile: null } };

function nodeRegistration(v4) {
  return { name: null, criSocket: null, taints: null, kubeletExtraArgs: null, ignorePreflightErrors: null, imagePullPolicy: null, ...(v4 ? { imagePullSerial: null } : {}) };
}

const timeouts = { controlPlaneComponentHealthCheck: null, kubeletHealthCheck: null, kubernetesAPICall: null, etcdAPICall: null, tlsBootstrap: null, discovery: null, upgradeManifests: null };

const fields = (names) => Object.fromEntries(names.map((n) => [n, null]));

export const KINDS = {
  'kubeadm.k8s.io/v1beta3': {
    InitConfiguration: { bootstrapTokens, nodeRegistration: nodeRegistration(false), localAPIEndpoint: apiEndpoint, certificateKey: null, skipPhases: null, patches: { directory: null } },
    ClusterConfiguration: {
      etcd, networking: { serviceSubnet: null, podSubnet: null, dnsDomain: null }, kubernetesVersion: null, controlPlaneEndpoint: null,
      apiServer: { ...fields(component3), certSANs: null, timeoutForControlPlane: null }, controllerManager: fields(component3), scheduler: fields(component3),
      dns: { imageRepository: null, imageTag: null, disabled: null }, certificatesDir: null, imageRepository: null, featureGates: null, clusterName: null,
    },
    JoinConfiguration: {
      nodeRegistration: nodeRegistration(false), caCertPath: null,
      discovery: { bootstrapToken: discoveryToken, file: { kubeConfigPath: null }, tlsBootstrapToken: null, timeout: null },
      controlPlane: { localAPIEndpoint: apiEndpoint, certificateKey: null }, skipPhases: null, patches: { directory: null },
    },
  },
  'kubeadm.k8s.io/v1beta4': {
    InitConfiguration: { bootstrapTokens, dryRun: null, nodeRegistration: nodeRegistration(true), localAPIEndpoint: apiEndpoint, certificateKey: null, skipPhases: null, patches: { directory: null }, timeouts },
    ClusterConfiguration: {
      etcd, networking: { serviceSubnet: null, podSubnet: null, dnsDomain: null }, kubernetesVersion: null, controlPlaneEndpoint: null,
      apiServer: { ...fields(component4), certSANs: null }, controllerManager: fields(component4), scheduler: fields(component4),
      dns: { imageRepository: null, imageTag: null, disabled: null }, proxy: { disabled: null }, certificatesDir: null, imageRepository: null,
      featureGates: null, clusterName: null, encryptionAlgorithm: null, certificateValidityPeriod: null, caCertificateValidityPeriod: null,
    },
    JoinConfiguration: {
      dryRun: null, nodeRegistration: nodeRegistration(true), caCertPath: null,
      discovery: { bootstrapToken: discoveryToken, file: { kubeConfigPath: null }, tlsBootstrapToken: null },
      controlPlane: { localAPIEndpoint: apiEndpoint, certificateKey: null }, skipPhases: null, patches: { directory: null }, timeouts,
    },
  },
};

/** Dotted paths of the fields in obj that the schema does not have, in document order. */
export function unknownFields(obj, schema, prefix = '') {
  const out = [];
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (!prefix && (k === 'apiVersion' || k === 'kind')) continue;
    const path = prefix ? `${prefix}.${k}` : k;
    if (!(k in schema)) { out.push(path); continue; }
    if (schema[k] && typeof schema[k] === 'object') out.push(...unknownFields(v, schema[k], path));
  }
  return out;
}
