/**
 * The step registry: every step, in plan order. The plan, the dry run,
 * --steps/--skip-steps, the progress view and the tests all read this list;
 * adding a step is its file, its templates and one line here.
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

export const STEPS: readonly AnyStep[] = [
  clusterVersionStep,
  bundleUploadStep,
  bundleServeStep,
  hostnameStep,
  hostsFileStep,
  selinuxStep,
  firewallStep,
  swapStep,
  kernelModulesStep,
  sysctlStep,
  baseRepositoriesStep,
  containerRuntimeStep,
  crictlStep,
  bundleImagesStep,
  kubePackagesStep,
  loadBalancerStep,
  kubeadmInitStep,
  certRenewalTimerStep,
  joinStep,
  cniStep,
  kubeProxyModeStep,
  nodeLabelsStep,
  verifyStep,
];

export const STEP_IDS: readonly string[] = STEPS.map((s) => s.id);



/**
 * The steps of `kbootstrap upgrade`, in order (src/phases.ts UPGRADE_PHASES
 * places them). The container runtime step comes back per node: a new minor
 * may want another sandbox (pause) image in the containerd config.
 */
export const UPGRADE_STEPS: readonly AnyStep[] = [
  upgradePreflightStep,
  upgradeCniStep,
  upgradeRepositoryStep,
  upgradeKubeadmStep,
  upgradeApplyStep,
  upgradeNodeStep,
  containerRuntimeStep,
  upgradeKubeletStep,
  verifyStep,
];

/** The steps of `kbootstrap certs renew` (src/phases.ts CERTS_RENEW_PHASES places them). */
export const certsRenewSteps = (minRemainingMs: number): readonly AnyStep[] => [
  certsPreflightStep,
  certsRenewStep(minRemainingMs),
  kubeletRotationStep,
];
