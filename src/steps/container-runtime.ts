import { render } from '../shell/templates.js';
import { kv } from '../shell/kv.js';
import type { ClusterSpec } from '../inventory/model.js';
import { pauseImage } from '../kube/runtime.js';
import type { Repository } from '../os/types.js';
import { allHosts, type Step, type StepContext } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState, type ManagedFile } from './files.js';
import { describeKeys, installKeys, keysCheck, missingKeys, repoFile } from './repositories.js';

/** containerd registry host files: mirrors for docker.io, plain-HTTP registries. */
export function containerdHostFiles(cluster: ClusterSpec): ManagedFile[] {
  const files: ManagedFile[] = [];
  if (cluster.registryMirrors.length) {
    files.push({
      path: '/etc/containerd/certs.d/docker.io/hosts.toml',
      mode: '644',
      content: ['server = "https://registry-1.docker.io"', '',
        ...cluster.registryMirrors.flatMap((m) => [`[host.${JSON.stringify(m)}]`, '  capabilities = ["pull", "resolve"]', ''])].join('\n'),
    });
  }
  for (const r of cluster.insecureRegistries) {
    files.push({
      path: `/etc/containerd/certs.d/${r}/hosts.toml`,
      mode: '644',
      content: [`server = "http://${r}"`, '', `[host."http://${r}"]`, '  capabilities = ["pull", "resolve", "push"]', '  skip_verify = true', ''].join('\n'),
    });
  }
  return files;
}

export function dockerDaemonJson(cluster: ClusterSpec): string {
  const cfg: Record<string, unknown> = {
    'exec-opts': ['native.cgroupdriver=systemd'],
    'log-driver': 'json-file',
    'log-opts': { 'max-size': '100m' },
    'storage-driver': 'overlay2',
  };
  if (cluster.registryMirrors.length) cfg['registry-mirrors'] = cluster.registryMirrors;
  if (cluster.insecureRegistries.length) cfg['insecure-registries'] = cluster.insecureRegistries;
  return JSON.stringify(cfg, null, 2) + '\n';
}

const CRI_DOCKER_DROP_IN = '/etc/systemd/system/cri-docker.service.d/10-kbootstrap.conf';

function dockerFiles(cluster: ClusterSpec): ManagedFile[] {
  return [
    { path: '/etc/docker/daemon.json', mode: '644', content: dockerDaemonJson(cluster) },
    {
      path: CRI_DOCKER_DROP_IN,
      mode: '644',
      content: ['# kbootstrap: cri-dockerd with the pause image from imageRepository', '[Service]', 'ExecStart=',
        `ExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd:// --pod-infra-container-image=${pauseImage(cluster)}`, ''].join('\n'),
    },
  ];
}

/** The shell function that prints the wanted config.toml: containerd's own defaults, edited. */
function containerdFn(cluster: ClusterSpec): string {
  const img = pauseImage(cluster);
  return render('container-runtime/containerd-config-fn', {
    sedSandbox1: `s#^\\([[:space:]]*sandbox_image = \\).*#\\1"${img}"#`,
    sedSandbox2: `s#^\\([[:space:]]*sandbox = \\).*#\\1'${img}'#`,
    sedConfigPath: 's#^\\([[:space:]]*config_path = \\).*#\\1"/etc/containerd/certs.d"#',
  });
}

function packages(cluster: ClusterSpec): string[] {
  return cluster.containerRuntime === 'docker' ? ['containerd.io', 'docker-ce', 'docker-ce-cli', 'cri-dockerd'] : ['containerd.io'];
}

function services(cluster: ClusterSpec): string[] {
  return cluster.containerRuntime === 'docker' ? ['docker', 'cri-docker.service'] : ['containerd'];
}

const repository = (ctx: StepContext): Repository => ctx.host.os.dockerRepository(ctx.cluster, ctx.host.facts);

function configFiles(ctx: StepContext): ManagedFile[] {
  return ctx.cluster.containerRuntime === 'docker' ? dockerFiles(ctx.cluster) : containerdHostFiles(ctx.cluster);
}

function managedFiles(ctx: StepContext): ManagedFile[] {
  return [repoFile(repository(ctx)), ...configFiles(ctx)];
}

interface Found {
  files: FileState[];
  missingPackages: string[];
  /** containerd's config.toml compared with the wanted one */
  config: 'same' | 'differs' | 'missing';
  missingKeys: string[];
}

export const containerRuntimeStep: Step<Found> = {
  id: 'container-runtime',
  title: 'Install and configure the container runtime',
  phases: ['prepare', 'upgrade-first-control-plane', 'upgrade-control-planes', 'upgrade-workers'],
  hosts: allHosts,
  requires: ['base-repositories'],
  managedFiles,
  check(ctx) {
    const c = ctx.cluster;
    let s = fileStateCheck(managedFiles(ctx)) + ctx.host.os.packagesCheck(packages(c)) + keysCheck([repository(ctx)]);
    if (c.containerRuntime === 'containerd') s += containerdFn(c) + render('container-runtime/containerd-check', {});
    s += render('container-runtime/services-state', { services: services(c) });
    return s;
  },
  parse(out, ctx) {
    const c = ctx.cluster;
    const m = kv(out.stdout);
    const files = parseFileStates(out, managedFiles(ctx));
    const installed = new Map((m.get('pkg') ?? []).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const missingPackages = packages(c).filter((p) => !installed.get(p));
    const cfg = m.get('config')?.[0];
    const config = c.containerRuntime === 'containerd' ? (cfg === 'same' || cfg === 'differs' ? cfg : 'missing') : 'same';
    const keys = missingKeys(out.stdout, [repository(ctx)]);
    const notRunning = services(c).filter((svc) => !(m.get('active') ?? []).includes(`${svc}=yes`) || !(m.get('enabled') ?? []).includes(`${svc}=enabled`));
    const parts = [
      ...(missingPackages.length ? [`not installed: ${missingPackages.join(', ')}`] : []),
      ...describeFileStates(files),
      ...describeKeys(out.stdout, keys),
      ...(config !== 'same' ? [`/etc/containerd/config.toml ${config === 'missing' ? 'missing' : 'differs from the wanted settings'}`] : []),
      ...(notRunning.length ? [`not enabled and running: ${notRunning.join(', ')}`] : []),
    ];
    const found: Found = { files, missingPackages, config, missingKeys: keys };
    if (!parts.length) return { done: true, reason: `${c.containerRuntime} installed, configured and running`, found };
    return { done: false, reason: parts.join('; '), found };
  },
  unknown: (ctx) => ({ files: [], missingPackages: packages(ctx.cluster), config: 'missing', missingKeys: [repository(ctx).key?.path ?? ''].filter(Boolean) }),
  async apply(ctx, f) {
    const c = ctx.cluster;
    const os = ctx.host.os;
    const opts = { mutates: true, timeoutMs: 15 * 60_000 } as const;
    await installKeys(ctx.host, [repository(ctx)], f.missingKeys);
    await uploadFiles(ctx.host, [repoFile(repository(ctx))], f.files);
    const fromRepo = f.missingPackages.filter((p) => p !== 'cri-dockerd');
    if (fromRepo.length) await ctx.host.exec(os.installScript(fromRepo), opts);
    if (f.missingPackages.includes('cri-dockerd')) await ctx.host.exec(os.criDockerdInstall(c, ctx.host.facts), opts);
    const changed = await uploadFiles(ctx.host, configFiles(ctx), f.files);
    if (c.containerRuntime === 'containerd') {
      await ctx.host.exec(containerdFn(c) + render('container-runtime/containerd-apply', { restart: changed.length ? 'yes' : 'no' }), opts);
    } else {
      const dropIn = changed.includes(CRI_DOCKER_DROP_IN);
      await ctx.host.exec(render('container-runtime/docker-apply', {
        reload: dropIn,
        restartDocker: changed.includes('/etc/docker/daemon.json'),
        restartCriDocker: dropIn,
      }), opts);
    }
  },
};
