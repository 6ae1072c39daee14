import { render } from '../shell/templates.js';
import { installedPackages } from '../host/fact.js';
import { kv } from '../shell/kv.js';
import type { ClusterSpec, RegistrySpec } from '../inventory/model.js';
import { readFileSync } from 'node:fs';
import { pauseImage } from '../kube/runtime.js';
import {
  CONTAINERD_CERTS_D, DOCKER_CERTS_D, KUBELET_DOCKER_CONFIG, authorizationPlaceholder, containerdCaPath, containerdRoutes, registryUrl,
  type NamespaceRoute, type RegistryEndpoint,
} from '../os/mirrors.js';
import type { Repository } from '../os/types.js';
import { allHosts, type Step, type StepContext } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState, type ManagedFile } from './files.js';
import { describeKeys, installKeys, keysCheck, missingKeys, repoFile } from './repositories.js';

/** TOML basic string (the values are validated hosts, URLs, paths and base64: JSON's escaping is TOML's). */
const tq = (s: string): string => JSON.stringify(s);

function endpointLines(e: RegistryEndpoint, table: string): string[] {
  return [
    ...(e.ca ? [`  ca = ${tq(e.ca)}`] : []),
    ...(e.skipVerify ? ['  skip_verify = true'] : []),
    ...(e.authorization ? [`  [${table}.header]`, `    Authorization = ${tq(e.authorization)}`] : []),
  ];
}

/**
 * The hosts.toml of one registry namespace: the hosts to try in order, then the server. A file with
 * no host to try (a private registry's own namespace) still has an empty `[host]` table: containerd 1.6,
 * and 1.7 before containerd#10028, refuses a hosts.toml without one ("failed to decode hosts.toml"
 * error="invalid `host` tree") and then pulls with neither the CA nor the credentials
 * (https://github.com/containerd/containerd/issues/10027; k3s writes the same empty table for it:
 * https://github.com/k3s-io/k3s/pull/9853; both read 2026-12-07). Debian 12's containerd 1.6.20 did
 * so in the VM lab (test/vm/offline.test.ts); containerd 2.1 reads both forms (test/oracles/private-registry.test.ts).
 */
function hostsToml(r: NamespaceRoute): string {
  const own = r.serverEndpoint;
  const lines = [`server = ${tq(r.server)}`];
  if (own?.ca) lines.push(`ca = ${tq(own.ca)}`);
  lines.push('');
  if (own?.authorization) lines.push('[header]', `  Authorization = ${tq(own.authorization)}`, '');
  if (!r.hosts.length) lines.push('[host]', '');
  for (const h of r.hosts) {
    const table = `host.${tq(h.url)}`;
    lines.push(`[${table}]`, `  capabilities = [${h.capabilities.map(tq).join(', ')}]`, ...endpointLines(h, table), '');
  }
  return lines.join('\n');
}

/**
 * containerd's registry files: a hosts.toml per namespace (src/os/mirrors.ts decides the routes) and
 * each private registry's CA. A file holding credentials is 0600 and its content secret.
 */
export function containerdHostFiles(cluster: ClusterSpec, auth?: ReadonlyMap<string, string>): ManagedFile[] {
  const files: ManagedFile[] = [];
  for (const reg of cluster.registries) {
    if (reg.caFile) files.push({ path: containerdCaPath(reg), mode: '644', content: readFileSync(reg.caFile, 'utf8') });
  }
  for (const r of containerdRoutes(cluster, auth)) {
    const secrets = [r.serverEndpoint, ...r.hosts].map((e) => e?.authorization).filter((a): a is string => !!a);
    files.push({
      path: `${CONTAINERD_CERTS_D}/${r.namespace}/hosts.toml`,
      mode: secrets.length ? '600' : '644',
      content: hostsToml(r),
      ...(secrets.length ? { secrets } : {}),
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
  const mirrors = [...cluster.registries.filter((r) => r.mirrorOf.includes('docker.io')).map(registryUrl), ...cluster.registryMirrors];
  const insecure = [...cluster.registries.filter((r) => r.plainHttp).map((r) => r.host), ...cluster.insecureRegistries];
  if (mirrors.length) cfg['registry-mirrors'] = mirrors;
  if (insecure.length) cfg['insecure-registries'] = insecure;
  return JSON.stringify(cfg, null, 2) + '\n';
}

/** docker: each private registry's CA where dockerd looks for it, and the credentials where kubelet reads them. */
function dockerRegistryFiles(cluster: ClusterSpec, auth?: ReadonlyMap<string, string>): ManagedFile[] {
  const files: ManagedFile[] = cluster.registries.filter((r) => r.caFile)
    .map((r) => ({ path: `${DOCKER_CERTS_D}/${r.host}/ca.crt`, mode: '644', content: readFileSync(r.caFile!, 'utf8') }));
  const withCreds = cluster.registries.filter((r) => r.credentials);
  if (withCreds.length) {
    const header = (r: RegistrySpec) => auth?.get(r.host) ?? authorizationPlaceholder(r);
    const auths = Object.fromEntries(withCreds.map((r) => [r.host, { auth: header(r).replace(/^Basic /, '') }]));
    files.push({
      path: KUBELET_DOCKER_CONFIG,
      mode: '600',
      content: JSON.stringify({ auths }, null, 2) + '\n',
      secrets: withCreds.map((r) => header(r).replace(/^Basic /, '')),
    });
  }
  return files;
}

const CRI_DOCKER_DROP_IN = '/etc/systemd/system/cri-docker.service.d/10-kbootstrap.conf';

function dockerFiles(cluster: ClusterSpec, auth?: ReadonlyMap<string, string>): ManagedFile[] {
  return [
    ...dockerRegistryFiles(cluster, auth),
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
  const auth = ctx.inv.registryAuth;
  return ctx.cluster.containerRuntime === 'docker' ? dockerFiles(ctx.cluster, auth) : containerdHostFiles(ctx.cluster, auth);
}

/** The files of cluster.registries: a change to one is probed against the registry before anything is written. */
function registryFilePaths(ctx: StepContext): Set<string> {
  const c = ctx.cluster;
  const paths = new Set<string>();
  if (!c.registries.length) return paths;
  for (const f of configFiles(ctx)) {
    if (f.path === KUBELET_DOCKER_CONFIG || f.path === '/etc/docker/daemon.json' || /\/(ca\.crt|hosts\.toml)$/.test(f.path)) paths.add(f.path);
  }
  return paths;
}

/**
 * Ask each private registry, from the host, before its files are written: TLS with its CA (or plain
 * HTTP when the inventory says so), and its credentials. A wrong password, a CA that does not match or
 * an unreachable registry fails the step naming the registry (the error names the host and the step).
 */
async function probeRegistries(ctx: StepContext): Promise<void> {
  const auth = ctx.inv.registryAuth;
  for (const r of ctx.cluster.registries) {
    const header = r.credentials ? auth?.get(r.host) ?? authorizationPlaceholder(r) : undefined;
    const script = ctx.host.os.keyToolsScript() + render('container-runtime/registry-probe', {
      registry: r.host,
      url: `${registryUrl(r)}/v2/`,
      ca: r.caFile ? readFileSync(r.caFile, 'utf8') : '',
      user: r.credentials?.username ?? '',
    });
    // curl reads its configuration from stdin: the Authorization header never reaches a command line
    await ctx.host.exec(script, {
      mutates: true,
      stdin: header ? `header = ${JSON.stringify(`Authorization: ${header}`)}\n` : '',
      secrets: header ? [header, header.replace(/^Basic /, '')] : [],
      note: `does ${r.host} answer${r.caFile ? ' with its CA' : ''}${r.credentials ? ` and take ${r.credentials.username}'s credentials` : ''}? (before its files are written)`,
    });
  }
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
  hosts: allHosts,
  requires: ['base-repositories'],
  managedFiles,
  check(ctx) {
    const c = ctx.cluster;
    let s = fileStateCheck(managedFiles(ctx)) + installedPackages(packages(c)).script(ctx.host.os) + keysCheck([repository(ctx)]);
    if (c.containerRuntime === 'containerd') s += containerdFn(c) + render('container-runtime/containerd-check', {});
    s += render('container-runtime/services-state', { services: services(c) });
    return s;
  },
  parse(out, ctx) {
    const c = ctx.cluster;
    const m = kv(out.stdout);
    const files = parseFileStates(out, managedFiles(ctx));
    const installed = installedPackages(packages(c)).parse(out.stdout);
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
    // the installs go with what follows (the probe, the config files, the restart): one round trip (ExecOptions.carry)
    if (fromRepo.length) await ctx.host.exec(os.installScript(fromRepo, c), { ...opts, carry: true });
    if (f.missingPackages.includes('cri-dockerd')) await ctx.host.exec(os.criDockerdInstall(c, ctx.host.facts), { ...opts, carry: true });
    const registryFiles = registryFilePaths(ctx);
    if ([...registryFiles].some((path) => f.files.find((st) => st.path === path)?.state !== 'same')) await probeRegistries(ctx);
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
