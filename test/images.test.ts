/**
 * The images step: which images each role pulls (kubeadm's list, kube-vip's, the CNI's), what its
 * check makes of the runtime's list, the pull script run for real against a stand-in crictl, and
 * how it steps aside for up --bundle and cluster.prepullImages: false.
 */
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { clusterImages, hostImages, imagesStep } from '../src/steps/images.js';
import { imagesFor } from '../src/steps/bundle.js';
import { buildPlan } from '../src/plan.js';
import { render } from '../src/shell/templates.js';
import type { Inventory } from '../src/inventory/model.js';
import { ctxFor, exampleInventory } from './support/contexts.js';
import { FakeTransport } from './support/fake-transport.js';

const out = (stdout: string) => ({ step: 'images', code: 0, stdout });

function withCluster(inv: Inventory, cluster: Partial<Inventory['cluster']>): Inventory {
  return { ...inv, cluster: { ...inv.cluster, ...cluster } };
}

describe('images: the list', () => {
  it('control planes: kubeadm\'s list for the version under imageRepository, kube-vip\'s, the CNI release\'s; workers: what runs on every node', () => {
    const inv = exampleInventory('rocky-kube-vip');
    const cp = hostImages(inv, inv.hosts[0]!, 'amd64');
    expect(cp).toEqual([
      'registry.k8s.io/kube-apiserver:v1.35.9', 'registry.k8s.io/kube-controller-manager:v1.35.9', 'registry.k8s.io/kube-scheduler:v1.35.9',
      'registry.k8s.io/kube-proxy:v1.35.9', 'registry.k8s.io/coredns/coredns:v1.13.1', 'registry.k8s.io/pause:3.10.1', 'registry.k8s.io/etcd:3.6.6-0',
      'ghcr.io/kube-vip/kube-vip:v1.2.3', 'quay.io/calico/cni:v3.32.1', 'quay.io/calico/node:v3.32.1', 'quay.io/calico/kube-controllers:v3.32.1',
    ]);
    const worker = inv.hosts.find((h) => h.role === 'worker')!;
    expect(hostImages(inv, worker, 'amd64')).toEqual([
      'registry.k8s.io/kube-proxy:v1.35.9', 'registry.k8s.io/coredns/coredns:v1.13.1', 'registry.k8s.io/pause:3.10.1',
      'quay.io/calico/cni:v3.32.1', 'quay.io/calico/node:v3.32.1', 'quay.io/calico/kube-controllers:v3.32.1',
    ]);
  });

  it('another imageRepository: every kubeadm image under it, CoreDNS without coredns/', () => {
    const inv = exampleInventory('lab');
    expect(hostImages(inv, inv.hosts[1]!, 'amd64').slice(0, 3)).toEqual([
      'registry.aliyuncs.com/google_containers/kube-proxy:v1.30.4', 'registry.aliyuncs.com/google_containers/coredns:v1.11.3', 'registry.aliyuncs.com/google_containers/pause:3.9',
    ]);
  });

  it('the same role filter as bundle-images: a bundle of these images gives each host the same list', () => {
    const inv = exampleInventory('rocky-kube-vip');
    const images = clusterImages(inv).images.map((i) => ({ ...i, file: '', sha256: '' }));
    const bundle = { file: '', size: 0, sha256: '', address: '', images } as unknown as NonNullable<Inventory['bundle']>;
    for (const h of inv.hosts) expect(imagesFor(bundle, h, 'amd64').map((i) => i.ref), h.name).toEqual(hostImages(inv, h, 'amd64'));
  });

  it('a CNI manifest from a URL or a release the table has no images for: left to the kubelet, and said so', () => {
    const inv = exampleInventory('rocky-ha');
    const url = withCluster(inv, { cni: { ...inv.cluster.cni, manifest: 'https://example.com/calico.yaml', sha256: 'a'.repeat(64) } });
    expect(clusterImages(url).images.map((i) => i.ref).filter((r) => r.includes('calico'))).toEqual([]);
    expect(clusterImages(url).notes).toEqual(["calico's images: cluster.cni.manifest is a URL, read only when the cni step fetches it; the kubelet pulls them"]);
    const older = withCluster(inv, { cni: { plugin: 'calico', version: 'v3.32.0' } });
    expect(clusterImages(older).notes).toEqual(["calico v3.32.0's images: not in kbootstrap's versions table; the kubelet pulls them"]);
  });
});

describe('images: the step', () => {
  const TABLE = "kbootstrap's versions table, kubeadm not installed yet";
  const inv = exampleInventory('rocky-ha');
  const worker = inv.hosts.findIndex((h) => h.role === 'worker');
  const wanted = hostImages(inv, inv.hosts[worker]!, 'amd64');

  it('a runtime that does not answer yet: every image of the role to pull, named', () => {
    const r = imagesStep.parse(out('runtime=unavailable\n'), ctxFor(inv, worker, imagesStep));
    expect(r).toEqual({ done: false, reason: `containerd does not answer yet: 6 images to pull: ${wanted.join(', ')}; kubeadm's images from ${TABLE}`, found: { refs: wanted, source: TABLE } });
    expect(imagesStep.parse(out('runtime=no-crictl\n'), ctxFor(inv, worker, imagesStep)).reason).toBe(`crictl is not installed yet (cri-tools comes with kube-packages): 6 images to pull: ${wanted.join(', ')}; kubeadm's images from ${TABLE}`);
  });

  it('only what the runtime lacks; Docker Hub\'s short names count as their full ones', () => {
    const ctx = ctxFor(inv, worker, imagesStep);
    const r = imagesStep.parse(out(`runtime=ok\n${wanted.slice(1).map((i) => `image=${i}`).join('\n')}\n`), ctx);
    expect(r).toEqual({ done: false, reason: `1 of 6 images missing: ${wanted[0]}; kubeadm's images from ${TABLE}`, found: { refs: [wanted[0]], source: TABLE } });
    expect(imagesStep.parse(out(`runtime=ok\n${wanted.map((i) => `image=${i}`).join('\n')}\nimage=docker.io/library/busybox:1\n`), ctx)).toMatchObject({ done: true, reason: `containerd holds the 6 images this worker runs; kubeadm's images from ${TABLE}` });
    const jammy = exampleInventory('ubuntu-docker-flannel');
    const j = jammy.hosts.findIndex((h) => h.role === 'worker');
    const flannel = withCluster(jammy, { cni: { plugin: 'flannel', manifest: 'https://example.com/kube-flannel.yml', sha256: 'b'.repeat(64) }, loadBalancer: undefined });
    const refs = hostImages(flannel, flannel.hosts[j]!, 'amd64');
    // as docker image ls prints them
    const listed = refs.map((r) => `image=${r}`).join('\n');
    expect(imagesStep.parse(out(`runtime=ok\n${listed}\n`), ctxFor(flannel, j, imagesStep)).done).toBe(true);
  });

  it('kubeadm\'s own list where kubeadm answers: its tags are pulled, not the table\'s; its failure falls back to the table, said', () => {
    const cp = ctxFor(inv, 0, imagesStep);
    const table = hostImages(inv, inv.hosts[0]!, 'amd64');
    const r = inv.cluster.imageRepository;
    const v = `v${inv.cluster.kubernetesVersion}`;
    // a kubeadm build whose etcd differs from the versions table's (a patch release's bump)
    const own = [...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((n) => `${r}/${n}:${v}`), `${r}/coredns/coredns:v9.9.9`, table.find((i) => i.includes('/pause:'))!, `${r}/etcd:9.9.9-0`];
    const printed = `kubeadm=ok\n${own.map((i) => `kubeadm-image=${i}`).join('\n')}\nruntime=ok\n`;
    const got = imagesStep.parse(out(printed), cp);
    expect(got.found.source).toBe('kubeadm config images list on the host');
    expect(got.found.refs).toContain(`${r}/etcd:9.9.9-0`);
    expect(got.found.refs).toContain(`${r}/coredns/coredns:v9.9.9`);
    expect(got.found.refs.filter((i) => /\/(etcd|coredns):/.test(i))).toEqual([`${r}/coredns/coredns:v9.9.9`, `${r}/etcd:9.9.9-0`]);
    expect(got.reason).toMatch(/; kubeadm's images from kubeadm config images list on the host$/);
    // what the table adds beside kubeadm's (kube-vip, the CNI's) stays
    expect(got.found.refs.filter((i) => !own.includes(i))).toEqual(table.filter((i) => !/\/(kube-apiserver|kube-controller-manager|kube-scheduler|kube-proxy|coredns|pause|etcd):/.test(i)));
    const failed = imagesStep.parse(out('kubeadm=failed\nkubeadm-error=this version of kubeadm only supports deploying clusters with the control plane version >= 1.36.0. Current version: v1.30.4\nruntime=ok\n'), cp);
    expect(failed.found).toEqual({ refs: table, source: "kbootstrap's versions table, kubeadm config images list failed: this version of kubeadm only supports deploying clusters with the control plane version >= 1.36.0. Current version: v1.30.4" });
  });

  it('the check script asks kubeadm for the version under imageRepository, and keeps only image references', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-images-check-'));
    writeFileSync(join(dir, 'kubeadm'), '#!/bin/sh\necho "$@" >"$0.args"\necho "W1207 10:00:00.000000 1 version.go:104] could not fetch a Kubernetes version" >&2\necho registry.example/etcd:1.2.3-0\n');
    chmodSync(join(dir, 'kubeadm'), 0o755);
    const script = imagesStep.check(ctxFor(inv, 0, imagesStep)) as string;
    const run = () => spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin` } }).stdout;
    expect(run()).toMatch(/^kubeadm=ok\nkubeadm-image=registry\.example\/etcd:1\.2\.3-0\nruntime=no-crictl\n$/);
    expect(readFileSync(join(dir, 'kubeadm.args'), 'utf8')).toBe(`config images list --kubernetes-version v${inv.cluster.kubernetesVersion} --image-repository ${inv.cluster.imageRepository}\n`);
    writeFileSync(join(dir, 'kubeadm'), '#!/bin/sh\necho "couldn\'t parse Kubernetes version" >&2\necho "To see the stack trace of this error execute with --v=5 or higher" >&2\nexit 1\n');
    expect(run()).toBe("kubeadm=failed\nkubeadm-error=couldn't parse Kubernetes version\nruntime=no-crictl\n");
    rmSync(join(dir, 'kubeadm'));
    expect(run()).toBe('kubeadm=absent\nruntime=no-crictl\n');
  });

  it('the check is crictl images for containerd, docker image ls for docker; both read-only lists', () => {
    expect(imagesStep.check(ctxFor(inv, worker, imagesStep))).toContain('crictl images');
    expect(imagesStep.check(ctxFor(exampleInventory('ubuntu-docker-flannel'), 1, imagesStep))).toContain('docker image ls');
  });

  it('apply pulls exactly what the check found missing, with the runtime\'s own client', async () => {
    const t = new FakeTransport();
    await imagesStep.apply(ctxFor(inv, worker, imagesStep, t), { refs: [wanted[0]!, wanted[2]!], source: TABLE });
    const [script] = t.applied('images');
    expect(script).toContain(`kb_pull 0 ${wanted[0]} &`);
    expect(script).toContain(`kb_pull 1 ${wanted[2]} &`);
    expect(script).not.toContain(wanted[1]);
    expect(script).toContain('crictl pull "$2"');
    const d = new FakeTransport();
    await imagesStep.apply(ctxFor(exampleInventory('ubuntu-docker-flannel'), 1, imagesStep, d), { refs: ['registry.k8s.io/pause:3.10.2'], source: TABLE });
    expect(d.applied('images')[0]).toContain('docker pull "$2"');
    const none = new FakeTransport();
    await imagesStep.apply(ctxFor(inv, worker, imagesStep, none), { refs: [], source: TABLE });
    expect(none.applied('images')).toEqual([]);
  });

  it('has no hosts with up --bundle (bundle-images imports them), and skips with cluster.prepullImages: false', () => {
    const bundled = { ...inv, bundle: { file: 'b.tar', size: 1, sha256: 'c'.repeat(64), address: '10.0.0.1', images: [] } } as unknown as Inventory;
    expect(imagesStep.hosts(bundled)).toEqual([]);
    expect(buildPlan(bundled).phases.find((p) => p.id === 'prepare')!.steps.map((s) => s.id)).toContain('bundle-images');
    expect(imagesStep.skip!(ctxFor(inv, worker, imagesStep))).toBeUndefined();
    expect(imagesStep.skip!(ctxFor(withCluster(inv, { prepullImages: false }), worker, imagesStep))).toBe('cluster.prepullImages is false: kubeadm and the kubelet pull the images');
  });
});

describe('images: the pull script, run', () => {
  // a stand-in crictl: records its pulls, and fails for one image the way crictl does
  function run(images: string[]): { code: number; stderr: string; pulled: string } {
    const dir = mkdtempSync(join(tmpdir(), 'kb-images-'));
    writeFileSync(join(dir, 'crictl'), `#!/bin/bash
echo "$2" >>"${dir}/pulled"
case "$2" in
  *broken*) echo 'FATA[0001] pulling image: rpc error: code = NotFound desc = failed to pull and unpack image "'"$2"'": not found' >&2; exit 1 ;;
esac
echo "Image is up to date for sha256:0000"
`);
    chmodSync(join(dir, 'crictl'), 0o755);
    const r = spawnSync('bash', ['-c', render('images/pull', { docker: false, images })], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir } });
    const pulled = spawnSync('sort', [join(dir, 'pulled')], { encoding: 'utf8' }).stdout;
    return { code: r.status ?? -1, stderr: r.stderr, pulled };
  }

  it('pulls every image and exits 0', () => {
    const r = run(['registry.k8s.io/pause:3.9', 'quay.io/calico/node:v3.32.1']);
    expect(r).toEqual({ code: 0, stderr: '', pulled: 'quay.io/calico/node:v3.32.1\nregistry.k8s.io/pause:3.9\n' });
  });

  it('a failed pull: the others still pulled, exit 1, the image and crictl\'s own words on stderr', () => {
    const r = run(['registry.k8s.io/pause:3.9', 'example.com/broken:1', 'quay.io/calico/node:v3.32.1']);
    expect(r.code).toBe(1);
    expect(r.pulled.split('\n').filter(Boolean)).toHaveLength(3);
    expect(r.stderr).toBe('pulling example.com/broken:1 failed: FATA[0001] pulling image: rpc error: code = NotFound desc = failed to pull and unpack image "example.com/broken:1": not found\n');
  });
});
