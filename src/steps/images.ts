/**
 * `images`: every host pulls, during prepare, the images its role will run, so that `kubeadm init`
 * and the joins start without pulling and every host pulls at once (the Runner works on the hosts
 * side by side) instead of one after another. Only what the runtime does not hold yet is pulled;
 * a second run pulls nothing. With `up --bundle` the bundle-images step imports the same images
 * from the bundle instead, and this step has no hosts.
 *
 * What a host needs is one list (clusterImages): kubeadm's image list for the version under
 * imageRepository, kube-vip's image with a kube-vip load balancer, and the CNI's; a host takes the
 * part its role runs with roleImages, the filter bundle-images uses too. kubeadm's list comes from
 * kubeadm itself where it is installed: the check runs `kubeadm config images list
 * --kubernetes-version V --image-repository R` in the same script ("Print a list of images kubeadm
 * will use", https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-config/#cmd-config-images-list,
 * read 2026-12-07: the images `kubeadm init` pulls, whose etcd/CoreDNS/pause tags are the kubeadm
 * build's own constants, which patch releases change); where kubeadm is not there yet (a fresh
 * host's plan, a dry run) or cannot answer, from the versions table (src/bundle/needs.ts
 * kubeadmImages, the list a bundle carries). Every reason and the pull's note name the source.
 *
 * Why it matters: kubeadm init's preflight pulls the control plane's images one after another
 * ("[preflight] Pulling images required for setting up a Kubernetes cluster", then
 * RunPullImagesCheck: for each image not present, pull), and so does a control-plane join; a
 * worker's kubelet pulls kube-proxy's, pause and the CNI's when their pods land on it
 * (kubernetes/kubernetes cmd/kubeadm/app/cmd/phases/join/preflight.go and
 * cmd/kubeadm/app/preflight/checks.go ImagePullCheck, read 2026-12-07).
 *
 * Pulls go through the runtime, so its configured registry mirrors apply as they do to the
 * kubelet's own pulls: containerd `crictl pull` (the CRI, as kubeadm pulls), docker `docker pull`
 * (cri-dockerd hands the CRI's pulls to docker). The check lists what the runtime holds:
 * `crictl images` (IMAGE, TAG, IMAGE ID, SIZE columns; `<none>` for an untagged image:
 * kubernetes-sigs/cri-tools cmd/crictl/image.go, read 2026-12-07), `docker image ls`.
 */
import type { HostSpec, Inventory } from '../inventory/model.js';
import { readLocalManifest } from '../inventory/manifest.js';
import { render } from '../shell/templates.js';
import { minorRow, addonRow } from '../versions/index.js';
import { kubeadmImages, manifestImages } from '../bundle/needs.js';
import { pauseImage } from '../kube/runtime.js';
import { clusterCni, cniVersion } from '../cni/index.js';
import { kubeVipImage } from './load-balancer.js';
import { canonicalRef, controlPlaneOnlyImage, roleImages } from './bundle.js';
import type { Step, StepContext } from './types.js';

export interface ClusterImage {
  ref: string;
  controlPlaneOnly: boolean;
}

/** The cluster's images and, for what cannot be known before the cluster runs, why not. */
export interface ClusterImages {
  images: ClusterImage[];
  /** images left to kubeadm or the kubelet, and why (a minor the table has no tags for, a CNI manifest from a URL) */
  notes: string[];
}

/**
 * The CNI's images, when they can be known before the manifest is fetched: a local manifest's own
 * `image:` lines; for the release's own manifest (no cluster.cni.manifest), the images the versions
 * table read from it, when the release is the row's (the table names that patch's tags only).
 */
function cniImages(inv: Inventory): { refs: string[]; note?: string } {
  const c = inv.cluster;
  const plugin = clusterCni(c.cni);
  if (!plugin) return { refs: [] };
  if (c.cni.manifest && !/^https?:\/\//.test(c.cni.manifest)) {
    return { refs: manifestImages(readLocalManifest(inv.file, c.cni.manifest).content) };
  }
  if (c.cni.manifest) return { refs: [], note: `${plugin.id}'s images: cluster.cni.manifest is a URL, read only when the cni step fetches it; the kubelet pulls them` };
  const version = cniVersion(plugin, c.cni, c.minor);
  const row = addonRow(plugin.id, version);
  // a row's images carry its latest patch's tags; "flannel:v0.26.x"-like entries are not references
  const refs = row?.latest.replace(/^v/, '') === version.replace(/^v/, '') ? row.images.filter((r) => /^[^\s:]+(:\d+)?\/[^\s]+:[\w.-]+$/.test(r) && !r.endsWith('.x')) : [];
  if (!refs.length) return { refs: [], note: `${plugin.id} ${version}'s images: not in kbootstrap's versions table; the kubelet pulls them` };
  return { refs };
}

/**
 * Every image the cluster's hosts run before and right after they join, with the roles that run them.
 * `fromKubeadm`: the host's kubeadm's own list, in place of the versions table's (with the runtime's
 * sandbox image, which the kubelet needs too, when kubeadm's pause differs from it).
 */
export function clusterImages(inv: Inventory, fromKubeadm?: readonly string[]): ClusterImages {
  const c = inv.cluster;
  const notes: string[] = [];
  const refs: string[] = [];
  const row = minorRow(c.minor);
  if (fromKubeadm?.length) refs.push(...fromKubeadm, pauseImage(c));
  else if (row?.etcd && row.coredns) refs.push(...kubeadmImages(inv));
  else notes.push(`kubeadm ${c.minorVersion}'s images: the versions table has no etcd/CoreDNS tags for this minor; kubeadm pulls them`);
  if (c.loadBalancer?.type === 'kube-vip') refs.push(kubeVipImage(c));
  const cni = cniImages(inv);
  refs.push(...cni.refs);
  if (cni.note) notes.push(cni.note);
  const seen = new Set<string>();
  const images = refs.filter((r) => !seen.has(canonicalRef(r)) && seen.add(canonicalRef(r))).map((ref) => ({ ref, controlPlaneOnly: controlPlaneOnlyImage(ref) }));
  return { images, notes };
}

/** The images this host's role runs. */
export function hostImages(inv: Inventory, host: HostSpec, arch: string, fromKubeadm?: readonly string[]): string[] {
  return roleImages(clusterImages(inv, fromKubeadm).images, host, arch).map((i) => i.ref);
}

/** What the step pulls, and where kubeadm's part of the list came from (said in every reason and in the pull's note). */
export interface WantedImages {
  refs: string[];
  source: string;
}

const TABLE = "kbootstrap's versions table";

/** kubeadm's list as the check printed it (kubeadm=ok and kubeadm-image= lines), or why there is none. */
function kubeadmList(out: string): { refs?: string[]; source: string } {
  const state = line(out, 'kubeadm');
  if (state === 'ok') {
    const refs = out.split('\n').filter((l) => l.startsWith('kubeadm-image=')).map((l) => l.slice('kubeadm-image='.length).trim());
    if (refs.length) return { refs, source: 'kubeadm config images list on the host' };
    return { source: `${TABLE}, kubeadm config images list printed no image` };
  }
  if (state === 'failed') {
    const why = out.split('\n').filter((l) => l.startsWith('kubeadm-error=')).map((l) => l.slice('kubeadm-error='.length).trim()).filter(Boolean).join(' ');
    return { source: `${TABLE}, kubeadm config images list failed: ${why || 'no output'}` };
  }
  return { source: `${TABLE}, kubeadm not installed yet` };
}

const line = (out: string, key: string): string | undefined => out.split('\n').find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1).trim();

const list = (refs: readonly string[]): string => refs.join(', ');

function runtimeName(ctx: StepContext): string {
  return ctx.cluster.containerRuntime === 'docker' ? 'docker' : 'containerd';
}

/** A pull of each image can take minutes on a slow link; all of a host's run side by side. */
const PULL_TIMEOUT_MS = 30 * 60_000;

export const imagesStep: Step<WantedImages> = {
  id: 'images',
  title: 'Pull the images the host\'s role runs',
  // up --bundle: bundle-images imports them from the bundle instead
  hosts: (inv) => (inv.bundle ? [] : inv.hosts),
  // crictl comes with kubeadm's packages (cri-tools, a dependency of kubeadm in pkgs.k8s.io's packages), not with containerd.io
  requires: ['container-runtime', 'crictl', 'kube-packages'],
  skip(ctx) {
    if (!ctx.cluster.prepullImages) return 'cluster.prepullImages is false: kubeadm and the kubelet pull the images';
    if (!hostImages(ctx.inv, ctx.host.spec, ctx.host.facts.arch).length) return `no image is known before the cluster runs (${clusterImages(ctx.inv).notes.join('; ')})`;
    return undefined;
  },
  check: (ctx) => render('images/state', {
    docker: ctx.cluster.containerRuntime === 'docker',
    kubernetesVersion: `v${ctx.cluster.kubernetesVersion}`,
    imageRepository: ctx.cluster.imageRepository,
  }),
  parse(out, ctx) {
    const kubeadm = kubeadmList(out.stdout);
    const wanted = hostImages(ctx.inv, ctx.host.spec, ctx.host.facts.arch, kubeadm.refs);
    const rt = runtimeName(ctx);
    const { notes } = clusterImages(ctx.inv, kubeadm.refs);
    const left = notes.length ? ` (left out: ${notes.join('; ')})` : '';
    const from = `; kubeadm's images from ${kubeadm.source}`;
    const found = (refs: string[]): WantedImages => ({ refs, source: kubeadm.source });
    if (line(out.stdout, 'runtime') === 'no-crictl') return { done: false, reason: `crictl is not installed yet (cri-tools comes with kube-packages): ${wanted.length} images to pull: ${list(wanted)}${left}${from}`, found: found(wanted) };
    if (line(out.stdout, 'runtime') !== 'ok') return { done: false, reason: `${rt} does not answer yet: ${wanted.length} images to pull: ${list(wanted)}${left}${from}`, found: found(wanted) };
    // docker lists Docker Hub's images by their short names: compared in full, as containerd names them
    const held = new Set(out.stdout.split('\n').filter((l) => l.startsWith('image=')).map((l) => canonicalRef(l.slice('image='.length).trim())));
    const missing = wanted.filter((r) => !held.has(canonicalRef(r)));
    if (!missing.length) return { done: true, reason: `${rt} holds the ${wanted.length} images this ${ctx.host.spec.role} runs${left}${from}`, found: found([]) };
    return { done: false, reason: `${missing.length} of ${wanted.length} images missing: ${list(missing)}${left}${from}`, found: found(missing) };
  },
  // a dry run, a check that failed: the versions table's list (no kubeadm was asked)
  unknown: (ctx) => ({ refs: hostImages(ctx.inv, ctx.host.spec, ctx.host.facts.arch), source: `${TABLE}, kubeadm not asked: no check output` }),
  async apply(ctx, missing) {
    if (!missing.refs.length) return;
    const rt = runtimeName(ctx);
    await ctx.host.exec(render('images/pull', { docker: rt === 'docker', images: missing.refs }), {
      mutates: true,
      timeoutMs: PULL_TIMEOUT_MS,
      note: `pull ${missing.refs.length} images side by side with ${rt === 'docker' ? 'docker pull' : 'crictl pull'} (kubeadm's images from ${missing.source}): ${list(missing.refs)}`,
    });
  },
};
