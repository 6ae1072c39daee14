/**
 * The steps of the commands that build and move a cluster (up, upgrade, certs
 * renew), each paired with its phases: a command owns its list, as k0sctl's
 * actions build their own phase lists. Adding a step to up is its file, its
 * templates and its place in UP_STEPS.
 */
import type { AnyStep } from './types.js';
import { clusterVersionStep } from './cluster-version.js';
import { hostnameStep } from './hostname.js';
import { hostsFileStep } from './hosts-file.js';
import { selinuxStep } from './selinux.js';
import { firewallStep } from './firewall.js';
import { swapStep } from './swap.js';
import { kernelModulesStep } from './kernel-modules.js';
import { sysctlStep } from './sysctl.js';
import { baseRepositoriesStep } from './base-repositories.js';
import { containerRuntimeStep } from './container-runtime.js';
import { crictlStep } from './crictl.js';
import { bundleImagesStep, bundleServeStep, bundleUploadStep } from './bundle.js';
import { kubePackagesStep } from './kube-packages.js';
import { imagesStep } from './images.js';
import { loadBalancerStep } from './load-balancer.js';
import { kubeadmInitStep } from './kubeadm-init.js';
import { joinStep } from './join.js';
import { cniStep } from './cni.js';
import { kubeProxyModeStep } from './kube-proxy-mode.js';
import { nodeLabelsStep } from './node-labels.js';
import { verifyStep } from './verify.js';
import { certRenewalTimerStep } from './cert-renewal-timer.js';
import { certsPreflightStep, certsRenewStep, kubeletRotationStep } from './certs.js';
import { upgradeApplyStep, upgradeCniStep, upgradeKubeadmStep, upgradeKubeletStep, upgradeNodeStep, upgradePreflightStep, upgradeRepositoryStep } from './upgrade.js';

/** A command's steps, by the id of the phase (src/phases.ts) that runs them, in the order they run there. */
export type PhaseSteps = Readonly<Record<string, readonly AnyStep[]>>;

/** The steps of `up`, phase by phase (src/phases.ts PHASES). */
export const UP_STEPS: PhaseSteps = {
  gate: [clusterVersionStep],
  // up --bundle only: without a bundle these steps have no hosts
  bundle: [bundleUploadStep, bundleServeStep],
  prepare: [hostnameStep, hostsFileStep, selinuxStep, firewallStep, swapStep, kernelModulesStep, sysctlStep, baseRepositoriesStep, containerRuntimeStep, crictlStep, bundleImagesStep, kubePackagesStep, imagesStep],
  init: [loadBalancerStep, kubeadmInitStep, certRenewalTimerStep],
  'join-control-planes': [loadBalancerStep, certRenewalTimerStep, joinStep],
  'join-workers': [joinStep],
  cluster: [cniStep, kubeProxyModeStep, nodeLabelsStep, verifyStep],
};

/** Every step of up, once each, in the order up first runs it: what --steps/--skip-steps and completion name. */
export const STEPS: readonly AnyStep[] = [...new Set(Object.values(UP_STEPS).flat())];

export const STEP_IDS: readonly string[] = STEPS.map((s) => s.id);

/**
 * The steps of `kbootstrap upgrade`, phase by phase (src/phases.ts UPGRADE_PHASES).
 * The container runtime step comes back per node: a new minor may want another
 * sandbox (pause) image in the containerd config.
 */
export const UPGRADE_STEPS: PhaseSteps = {
  'upgrade-preflight': [upgradePreflightStep, upgradeCniStep],
  // upgrade --bundle only: the target version's bundle served, its images imported before kubeadm upgrade needs them
  bundle: [bundleUploadStep, bundleServeStep],
  // the target version's images on every host before any node moves: imported from the bundle, or pulled (what
  // kubeadm upgrade apply's preflight and the kubelets of the new kube-proxy DaemonSet would pull one node at a time)
  'upgrade-repositories': [upgradeRepositoryStep, bundleImagesStep, imagesStep],
  'upgrade-first-control-plane': [upgradeKubeadmStep, upgradeApplyStep, containerRuntimeStep, upgradeKubeletStep],
  'upgrade-control-planes': [upgradeKubeadmStep, upgradeNodeStep, containerRuntimeStep, upgradeKubeletStep],
  'upgrade-workers': [upgradeKubeadmStep, containerRuntimeStep, upgradeKubeletStep],
  'upgrade-verify': [verifyStep],
};

/** The steps of `kbootstrap certs renew`, phase by phase (src/phases.ts CERTS_RENEW_PHASES). */
export const certsRenewSteps = (minRemainingMs: number): PhaseSteps => ({
  'certs-preflight': [certsPreflightStep],
  'certs-control-planes': [certsRenewStep(minRemainingMs)],
  'certs-kubelets': [kubeletRotationStep],
});
