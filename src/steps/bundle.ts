/**
 * `up --bundle FILE`: the bundle crosses the operator's link once, to its server (cluster.offline.server,
 * else the first control plane), which
 * serves it unpacked over HTTP to every host for the length of the run (the hosts' package trees
 * point there: src/os/mirrors.ts clusterFromBundle); then each host imports the images its role
 * needs from it, only those its runtime does not hold yet (containerd: ctr import; docker: docker
 * load, with the manifest.json src/bundle/run.ts makes). The bundle goes on a command's stdin into a
 * .part file: a cut upload is continued from the part's size by the next run, and the whole is
 * checked (size, sha256) before it is unpacked. None of these steps exists in a run without
 * --bundle (their host lists are empty).
 *
 * The server is Python's own `python3 -m http.server --bind ADDRESS --directory DIR PORT`
 * (--bind since 3.4, --directory since 3.7: https://docs.python.org/3/library/http.server.html,
 * read 2026-12-07), started detached under coreutils `timeout` so that a run killed outright does
 * not leave it serving for ever; the run stops it at its end, failed or not (Step.teardown, like
 * k0sctl's phase CleanUp). Images: `ctr -n k8s.io images import FILE` reads an OCI archive and names
 * the image from its ref annotation; `ctr -n k8s.io images ls -q` lists the references the CRI sees
 * (containerd's ctr, https://github.com/containerd/containerd/blob/main/cmd/ctr/commands/images/import.go,
 * read 2026-12-07).
 */
import { bundleServerHost, type BundleRun, type HostSpec, type Inventory } from '../inventory/model.js';
import { render } from '../shell/templates.js';
import { BUNDLE_PORT, bundleServerUrl } from '../os/mirrors.js';
import { KbError } from '../errors.js';
import { shq } from '../shell/quote.js';
import type { Step, StepContext } from './types.js';
import type { FileSlice } from '../transport/types.js';
import { byteProgress } from './byte-progress.js';

export const BUNDLE_ROOT = '/var/lib/kbootstrap/bundle';
export const BUNDLE_PID_FILE = '/run/kbootstrap/bundle-http.pid';
export const BUNDLE_LOG_FILE = '/var/log/kbootstrap-bundle-http.log';
/** the longest a server left behind by a killed run keeps serving */
export const BUNDLE_SERVER_LIMIT = '12h';

export const bundleDir = (b: BundleRun): string => `${BUNDLE_ROOT}/${b.sha256}`;

const withBundle = (pick: (inv: Inventory) => HostSpec[]) => (inv: Inventory): HostSpec[] => (inv.bundle ? pick(inv) : []);

function bundleOf(ctx: StepContext): BundleRun {
  if (!ctx.inv.bundle) throw new KbError('internal: a bundle step without --bundle');
  return ctx.inv.bundle;
}

const line = (out: string, key: string): string | undefined => out.split('\n').find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1).trim();

/** Where a bundle's bytes gather on the host while they arrive (a cut upload resumes from its size). */
export const bundlePart = (b: BundleRun): string => `${BUNDLE_ROOT}/${b.sha256}.part`;

/**
 * The bundle's bytes from `offset` to its end, as a slice of the file the transport reads from disk
 * while it sends (never the whole bundle in memory: bundles are hundreds of MB). A file that ends
 * early (changed since it was checked) fails the send; one that changed in place fails the host's
 * sha256 check of the whole (bundle/unpack).
 */
function bundleBytesFrom(b: BundleRun, offset: number): FileSlice {
  return { file: b.file, offset, length: b.size - offset };
}

export const bundleUploadStep: Step<{ part: number }> = {
  id: 'bundle-upload',
  title: 'Upload the bundle to its server and unpack it',
  hosts: withBundle((inv) => [bundleServerHost(inv)]),
  requires: [],
  // every package tree of the run is on this server: --steps cannot leave it out
  mandatory: true,
  check: (ctx) => render('bundle/unpacked-state', { dir: bundleDir(bundleOf(ctx)), part: bundlePart(bundleOf(ctx)) }),
  parse(out, ctx) {
    const b = bundleOf(ctx);
    const part = Number(line(out.stdout, 'part') ?? '0') || 0;
    if (line(out.stdout, 'unpacked') === 'yes') return { done: true, reason: `bundle ${b.sha256.slice(0, 12)} is unpacked in ${bundleDir(b)}`, found: { part } };
    const resume = part > 0 && part <= b.size;
    return {
      done: false,
      reason: resume
        ? `bundle ${b.sha256.slice(0, 12)}: ${part} of ${b.size} bytes arrived in an earlier run (${b.size - part} bytes to send)`
        : `bundle ${b.sha256.slice(0, 12)} is not on the host yet (${b.size} bytes to send)`,
      found: { part },
    };
  },
  unknown: () => ({ part: 0 }),
  async apply(ctx, found) {
    const b = bundleOf(ctx);
    const part = bundlePart(b);
    let offset = found.part;
    // longer than the bundle: not this bundle's start; sent again from the first byte
    if (offset > b.size) {
      await ctx.host.exec(`rm -f ${shq(part)}`, { mutates: true, note: `${part} is longer than the bundle: start again` });
      offset = 0;
    }
    if (offset < b.size) {
      await ctx.host.exec(render('bundle/append', { part, offset: String(offset) }), {
        mutates: true,
        stdin: bundleBytesFrom(b, offset),
        onProgress: byteProgress(ctx.progress, offset ? 'bundle (the rest)' : 'bundle', b.size - offset),
        note: offset ? `the rest of the bundle: bytes ${offset} to ${b.size} of ${b.file} (sha256 ${b.sha256})` : `the bundle, once: ${b.size} bytes of ${b.file} (sha256 ${b.sha256})`,
      });
    }
    await ctx.host.exec(render('bundle/unpack', { tar: part, dir: bundleDir(b), sha256: b.sha256, size: String(b.size) }), { mutates: true, note: 'check the size and sha256, unpack beside, rename into place' });
  },
};

export const bundleServeStep: Step<{ python3: boolean }> = {
  id: 'bundle-serve',
  title: 'Serve the bundle over HTTP to the other hosts',
  hosts: withBundle((inv) => [bundleServerHost(inv)]),
  requires: ['bundle-upload'],
  mandatory: true,
  check: (ctx) => render('bundle/server-state', { dir: bundleDir(bundleOf(ctx)), pidFile: BUNDLE_PID_FILE }),
  parse(out, ctx) {
    const b = bundleOf(ctx);
    const python3 = line(out.stdout, 'python3') === 'yes';
    if (line(out.stdout, 'serving') === 'yes') return { done: true, reason: `serving ${bundleServerUrl(b.address)}`, found: { python3 } };
    return { done: false, reason: `nothing serves the bundle on ${bundleServerUrl(b.address)}`, found: { python3 } };
  },
  unknown: () => ({ python3: true }),
  async apply(ctx, found) {
    const b = bundleOf(ctx);
    if (!found.python3) throw new KbError(`${ctx.host.name}: up --bundle serves the bundle with python3 -m http.server, and python3 is not on this host: install it (apt-get install python3) or name a host that has it as cluster.offline.server`);
    await ctx.host.exec(render('bundle/serve', {
      pidFile: BUNDLE_PID_FILE, logFile: BUNDLE_LOG_FILE, limit: BUNDLE_SERVER_LIMIT, address: b.address, dir: bundleDir(b), port: String(BUNDLE_PORT),
    }), { mutates: true, note: `serve ${bundleDir(b)} on ${bundleServerUrl(b.address)} until the run ends (at most ${BUNDLE_SERVER_LIMIT})` });
  },
  async teardown(ctx) {
    await ctx.host.exec(render('bundle/stop', { pidFile: BUNDLE_PID_FILE }), { mutates: true, note: 'the run is over: stop serving the bundle' });
  },
};

/** The images of a list a host of this role and architecture runs (a bundle made with --arch amd64,arm64 holds both platforms); the images step filters its list with it too. */
export function roleImages<I extends { controlPlaneOnly: boolean; platform?: string }>(images: readonly I[], host: HostSpec, arch: string): I[] {
  return images.filter((i) => (host.role === 'control-plane' || !i.controlPlaneOnly) && (!i.platform || i.platform === `linux/${arch}`));
}

/** The images a host of this role and architecture needs from the bundle. */
export function imagesFor(b: BundleRun, host: HostSpec, arch: string): BundleRun['images'] {
  return roleImages(b.images, host, arch);
}

/** kubeadm's control plane images and kube-vip run on control planes only; the rest (kube-proxy, pause, CoreDNS, the CNI's) anywhere. */
export function controlPlaneOnlyImage(ref: string): boolean {
  const name = ref.replace(/[@:][^/]*$/, '').split('/').pop() ?? '';
  return ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd', 'kube-vip'].includes(name);
}

/** A reference as containerd lists it: docker.io's short names in full. */
export function canonicalRef(ref: string): string {
  const first = ref.split('/')[0]!;
  const hasHost = ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasHost) return ref;
  return ref.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

export const bundleImagesStep: Step<BundleRun['images']> = {
  id: 'bundle-images',
  title: 'Import the bundle\'s images into the container runtime',
  hosts: withBundle((inv) => inv.hosts),
  requires: ['container-runtime'],
  check: (ctx) => render('bundle/images-state', { docker: ctx.cluster.containerRuntime === 'docker' }),
  parse(out, ctx) {
    const wanted = imagesFor(bundleOf(ctx), ctx.host.spec, ctx.host.facts.arch);
    const runtime = ctx.cluster.containerRuntime;
    if (line(out.stdout, 'runtime') !== 'ok') return { done: false, reason: `${runtime} does not answer yet: ${wanted.length} images to import`, found: wanted };
    // docker lists Docker Hub's images by their short names: compared in full, as containerd names them
    const held = new Set(out.stdout.split('\n').filter((l) => l.startsWith('image=')).map((l) => canonicalRef(l.slice('image='.length).trim())));
    const missing = wanted.filter((i) => !held.has(canonicalRef(i.ref)));
    if (!missing.length) return { done: true, reason: `${runtime} holds the ${wanted.length} images of the bundle this host needs`, found: [] };
    return { done: false, reason: `${missing.length} of ${wanted.length} images missing: ${missing.map((i) => i.ref).slice(0, 3).join(', ')}${missing.length > 3 ? '…' : ''}`, found: missing };
  },
  unknown: (ctx) => imagesFor(bundleOf(ctx), ctx.host.spec, ctx.host.facts.arch),
  async apply(ctx, missing) {
    const b = bundleOf(ctx);
    const base = bundleServerUrl(b.address);
    const docker = ctx.cluster.containerRuntime === 'docker';
    await ctx.host.exec(render('bundle/import-images', {
      images: missing.map((i) => {
        if (docker && !i.dockerManifest) throw new KbError(`internal: ${i.ref} has no manifest.json for docker load`);
        return { ref: i.ref, url: `${base}/${i.file}`, sha256: i.sha256, dockerManifest: docker ? i.dockerManifest : undefined };
      }),
    }), { mutates: true, note: `fetch ${missing.length} image archives from the bundle server, check each sha256, ${docker ? 'docker load' : 'ctr import'}` });
  },
};
