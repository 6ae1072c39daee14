import { render } from '../shell/templates.js';
import type { ClusterSpec } from '../inventory/model.js';
import type { HostFacts } from '../host/facts.js';
import { criDockerdPackageUrl, dockerRepoBase, pauseImage } from '../packages.js';
import { allHosts, kv, type Step, type StepContext } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState, type ManagedFile } from './files.js';
import { installScript, packagesCheck, parsePackages } from './packages-state.js';

const DOCKER_KEY = '/etc/apt/keyrings/docker.asc';

function repoFile(cluster: ClusterSpec, facts: HostFacts): ManagedFile {
  const base = dockerRepoBase(cluster, facts);
  if (facts.family === 'rhel') {
    return {
      path: '/etc/yum.repos.d/docker-ce.repo',
      mode: '644',
      content: [
        '# kbootstrap: Docker CE repository (containerd.io, docker-ce)',
        '[docker-ce-stable]',
        'name=Docker CE Stable - $basearch',
        `baseurl=${base}/$releasever/$basearch/stable`,
        'enabled=1',
        'gpgcheck=1',
        `gpgkey=${base}/gpg`,
      ].join('\n') + '\n',
    };
  }
  return {
    path: '/etc/apt/sources.list.d/docker.list',
    mode: '644',
    content: `# kbootstrap: Docker CE repository (containerd.io, docker-ce)\ndeb [arch=${facts.arch} signed-by=${DOCKER_KEY}] ${base} ${facts.codename} stable\n`,
  };
}

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

function dockerFiles(cluster: ClusterSpec): ManagedFile[] {
  return [
    { path: '/etc/docker/daemon.json', mode: '644', content: dockerDaemonJson(cluster) },
    {
      path: '/etc/systemd/system/cri-docker.service.d/10-kbootstrap.conf',
      mode: '644',
      content: ['# kbootstrap: cri-dockerd with the pause image from imageRepository', '[Service]', 'ExecStart=',
        `ExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd:// --pod-infra-container-image=${pauseImage(cluster)}`, ''].join('\n'),
    },
  ];
}

function containerdFn(cluster: ClusterSpec): string {
  const img = pauseImage(cluster);
  return render('container-runtime/containerd-config-fn', {
    sedCgroup: 's/SystemdCgroup = false/SystemdCgroup = true/',
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

function managedFiles(ctx: StepContext): ManagedFile[] {
  const c = ctx.cluster;
  return [repoFile(c, ctx.host.facts), ...(c.containerRuntime === 'docker' ? dockerFiles(c) : containerdHostFiles(c))];
}

interface Found {
  files: FileState[];
  missingPackages: string[];
  config: string;
  keyMissing: boolean;
}

export const containerRuntimeStep: Step = {
  id: 'container-runtime',
  title: 'Install and configure the container runtime',
  hosts: allHosts,
  managedFiles,
  check(ctx) {
    const c = ctx.cluster;
    const facts = ctx.host.facts;
    let s = fileStateCheck(managedFiles(ctx)) + packagesCheck(packages(c), facts);
    if (facts.family === 'debian') s += `if [ -s ${DOCKER_KEY} ]; then echo key=present; else echo key=missing; fi\n`;
    if (c.containerRuntime === 'containerd') s += containerdFn(c) + render('container-runtime/containerd-check', {});
    s += render('container-runtime/services-state', { services: services(c) });
    return s;
  },
  parse(out, ctx) {
    const c = ctx.cluster;
    const m = kv(out.stdout);
    const files = parseFileStates(out, managedFiles(ctx));
    const pk = parsePackages(out);
    const missingPackages = packages(c).filter((p) => !pk.get(p));
    const config = c.containerRuntime === 'containerd' ? (m.get('config')?.[0] ?? 'missing') : 'same';
    const keyMissing = ctx.host.facts.family === 'debian' && m.get('key')?.[0] !== 'present';
    const notRunning = services(c).filter((svc) => !(m.get('active') ?? []).includes(`${svc}=yes`) || !(m.get('enabled') ?? []).includes(`${svc}=enabled`));
    const parts = [
      ...(missingPackages.length ? [`not installed: ${missingPackages.join(', ')}`] : []),
      ...describeFileStates(files),
      ...(keyMissing ? [`${DOCKER_KEY} missing`] : []),
      ...(config !== 'same' ? [`/etc/containerd/config.toml ${config === 'missing' ? 'missing' : 'differs from the wanted settings'}`] : []),
      ...(notRunning.length ? [`not enabled and running: ${notRunning.join(', ')}`] : []),
    ];
    const data: Found = { files, missingPackages, config, keyMissing };
    if (!parts.length) return { done: true, reason: `${c.containerRuntime} installed, configured and running`, data };
    return { done: false, reason: parts.join('; '), data };
  },
  async apply(ctx, found) {
    const c = ctx.cluster;
    const facts = ctx.host.facts;
    const f = (found.data as Found | undefined) ?? { files: [], missingPackages: packages(c), config: 'missing', keyMissing: true };
    const files = managedFiles(ctx);
    const opts = { step: 'container-runtime', mutates: true, timeoutMs: 15 * 60_000 } as const;
    const [repo, ...configs] = files;
    // the key before the source: an apt-get update (to install curl) must not meet an unsigned repo
    if (facts.family === 'debian') {
      await ctx.host.exec(render('apt/key', { keyPath: DOCKER_KEY, keyUrl: `${dockerRepoBase(c, facts)}/gpg` }), opts);
    }
    await uploadFiles(ctx.host, 'container-runtime', [repo!], f.files);
    const fromRepo = f.missingPackages.filter((p) => p !== 'cri-dockerd');
    if (fromRepo.length) await ctx.host.exec(installScript(fromRepo, facts), opts);
    if (f.missingPackages.includes('cri-dockerd')) {
      await ctx.host.exec(render('container-runtime/cri-dockerd', { url: criDockerdPackageUrl(c, facts) }, facts.family), opts);
    }
    const changed = await uploadFiles(ctx.host, 'container-runtime', configs, f.files);
    if (c.containerRuntime === 'containerd') {
      await ctx.host.exec(containerdFn(c) + render('container-runtime/containerd-apply', { restart: changed.length ? 'yes' : 'no' }), opts);
    } else {
      const dropIn = changed.some((p) => p.includes('cri-docker.service.d'));
      await ctx.host.exec(render('container-runtime/docker-apply', {
        reload: dropIn,
        restartDocker: changed.includes('/etc/docker/daemon.json'),
        restartCriDocker: dropIn,
      }), opts);
    }
  },
};
