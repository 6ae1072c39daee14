/**
 * `up --bundle` on real Debian 12 VMs that cannot reach "the internet" (issue 21): the lab's repository
 * server and a real registry (Debian's docker-registry, TLS from a lab CA, htpasswd) listen on a
 * loopback address of this machine (test/lab/vm/offline.ts); `kbootstrap bundle` runs here against
 * them; the VMs reach each other and the site's Debian mirror only. Real apt installs from the
 * bundle's trees on the first control plane, real containerd imports the bundle's images; then,
 * with the registry opened to the VMs for one check, real containerd pulls through the hosts.toml,
 * CA and credentials kbootstrap rendered. One boot of two VMs serves every check, in order.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changed, kb, notOk, type CliResult } from '../e2e/cli.js';
import { writeInventory } from '../e2e/inventory.js';
import { GATEWAY, LAB_DIR, labSh, readLabState, type LabHost } from '../lab/lab.js';
import { vmDown, vmUnavailable, vmUp } from '../lab/vm/vms.js';
import { KUBE, REPO_PORT, repoKeyFingerprints } from '../lab/vm/repo.js';
import { VM_HOST_STEPS } from '../lab/vm/host-steps.js';
import { INTERNET_ADDR, PROBE_IMAGE, REGISTRY_PORT, logClients, offlineUnavailable, registryRelay, type OfflineState } from '../lab/vm/offline.js';
import { controlPlaneOnlyImage } from '../../src/steps/bundle.js';

const SKIP = vmUnavailable() ?? offlineUnavailable();
if (SKIP) {
  if (process.env.CI && process.getuid?.() === 0) throw new Error(`the VM tests must run in CI: ${SKIP}`);
  process.stderr.write(`\n*** SKIPPING offline VM tests: ${SKIP} ***\n`);
}

const STEPS = ['--steps', [...VM_HOST_STEPS, 'bundle-images'].join(',')];

function sh(h: string, script: string): string {
  const r = labSh(h, script);
  if (r.code !== 0) throw new Error(`${h}: ${script}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(!!SKIP)('up --bundle on Debian 12 VMs that reach no repository server and no registry', () => {
  let hosts: LabHost[];
  let off: OfflineState;
  let password: string;
  let invBundle: string;
  let invUp: string;
  let bundle: string;
  const t: Record<string, number> = {};
  const outputs: string[] = [];
  const run = async (args: string[]): Promise<CliResult> => {
    const r = await kb(args);
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const ssh = { connectTimeoutSeconds: 30 };
  // the repository is plain http and signs with the lab's archive key; no CNI (its images are not in the lab registry)
  // kube-proxy in iptables mode: ipset and ipvsadm (from the site mirror) are not what this test is about, and cost minutes under emulation
  const cluster = () => ({ packageMirror: readLabState()!.repo!.url, allowInsecureHttp: true, repositoryKeyFingerprints: repoKeyFingerprints(), cni: { plugin: 'none' }, kubeProxyMode: 'iptables' });
  const registry = (host: string, passwordFile: string) => ({ host, mirrorOf: ['registry.k8s.io'], caFile: 'registry-ca.crt', credentials: { username: off.registry.user, passwordFile } });
  /** an inventory with the lab registry's CA beside it (caFile is relative to the inventory's directory) */
  const withCa = (file: string): string => { copyFileSync(off.registry.ca, join(dirname(file), 'registry-ca.crt')); return file; };

  beforeAll(async () => {
    const t0 = Date.now();
    const st = await vmUp({ hosts: 2, offline: true, say: (m) => process.stderr.write(`[vm +${((Date.now() - t0) / 1000).toFixed(0)}s] ${m}\n`) });
    t.up = Date.now() - t0;
    hosts = st.hosts;
    off = st.offline!;
    password = readFileSync(off.registry.passwordFile, 'utf8');
    // bundle: made here, through the lab's repository and the registry standing in for registry.k8s.io
    invBundle = withCa(writeInventory({ hosts, cluster: { ...cluster(), registries: [registry(off.registry.host, off.registry.passwordFile)] }, ssh }));
    // up: the same cluster; the hosts never see that registry (it is not the site's)
    invUp = writeInventory({ hosts, cluster: cluster(), ssh });
    bundle = join(mkdtempSync(join(tmpdir(), 'kb-offvm-')), 'air.bundle');
  }, 1_500_000);

  afterAll(() => {
    process.stderr.write(`[vm] offline timings (ms): ${JSON.stringify(t)}\n`);
    vmDown();
  });

  it('the VMs reach neither the repository server nor the registry, by any address of this machine, and do reach the site mirror', () => {
    // one SSH round per VM (each costs seconds under emulation): curl's exit code or HTTP status per URL
    const urls = [`http://${INTERNET_ADDR}:${REPO_PORT}/`, `https://${INTERNET_ADDR}:${REGISTRY_PORT}/v2/`, `https://${GATEWAY}:${REGISTRY_PORT}/v2/`,
      // the bridge address serves the Debian tree alone: Docker's and pkgs.k8s.io's trees are not there
      `http://${GATEWAY}:${REPO_PORT}/docker-ce/linux/debian/gpg`, `http://${GATEWAY}:${REPO_PORT}/debian/dists/bookworm/InRelease`];
    const script = urls.map((u) => `c=$(curl -sk --max-time 5 -o /dev/null -w '%{http_code}' ${u}) || c="exit$?"; echo "$c"`).join('\n');
    for (const h of hosts) {
      const got = sh(h.name, script).trim().split('\n');
      expect(got.slice(0, 3).every((c) => c.startsWith('exit')), `${h.name}: ${got.join(' ')}`).toBe(true);
      expect(got.slice(3), h.name).toEqual(['404', '200']);
    }
  });

  it('kbootstrap bundle here collects the packages from the repository and the images from the registry', async () => {
    const t0 = Date.now();
    const r = await run(['bundle', invBundle, '--file', bundle, '--os', 'debian12']);
    t.bundle = Date.now() - t0;
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const m = JSON.parse(execFileSync('tar', ['-xOf', bundle, 'manifest.json'], { encoding: 'utf8' })) as { images: { ref: string }[]; osReleases: { packages: { name: string; version: string }[] }[] };
    expect(m.images.map((i) => i.ref).sort()).toEqual(off.images.filter((i) => !i.includes(PROBE_IMAGE.repo)).sort());
    expect(m.osReleases[0]!.packages.map((p) => p.name)).toEqual(expect.arrayContaining(['containerd.io', 'kubeadm', 'kubelet', 'kubectl', 'cri-tools', 'kubernetes-cni', 'kblab-sim']));
  }, 600_000);

  it('up --bundle converges the host steps: real apt installs from the bundle, real containerd imports its images', async () => {
    const t0 = Date.now();
    const r = await run(['up', invUp, '--bundle', bundle, ...STEPS, '-o', 'json']);
    t.converge = Date.now() - t0;
    expect(notOk(r), r.stderr + r.stdout).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(changed(r)).toEqual(expect.arrayContaining(['lab-01/bundle-upload', 'lab-01/container-runtime', 'lab-02/kube-packages', 'lab-01/bundle-images', 'lab-02/bundle-images']));
    const cp = hosts[0]!.address;
    for (const h of hosts) {
      // the packages came from the bundle server's trees, with their own signatures, and are held
      expect(sh(h.name, 'cat /etc/apt/sources.list.d/*.list')).toContain(`http://${cp}:8473/`);
      expect(sh(h.name, "dpkg-query -W -f '${Version}' kubeadm")).toBe(KUBE.version);
      expect(sh(h.name, 'apt-mark showhold').split('\n')).toEqual(expect.arrayContaining(['kubeadm', 'kubelet', 'kubectl']));
      expect(sh(h.name, 'systemctl is-active containerd').trim()).toBe('active');
      // real containerd lists the bundle's images under their registry.k8s.io names: all on the control plane, no control-plane image on the worker
      const held = sh(h.name, 'ctr -n k8s.io images ls -q').split('\n').filter(Boolean);
      const want = off.images.filter((i) => !i.includes(PROBE_IMAGE.repo) && (h.name === 'lab-01' || !controlPlaneOnlyImage(i)));
      expect(held.filter((i) => !i.startsWith('sha256:')).sort(), h.name).toEqual(want.sort());
    }
    // the worker fetched its packages and images from the first control plane's bundle server
    const served = sh('lab-01', 'cat /var/log/kbootstrap-bundle-http.log');
    expect(served).toMatch(new RegExp(`^${hosts[1]!.address.replace(/\./g, '\\.')} .*"GET /kubernetes-new/core/stable/v1\\.30/deb/(\\./)?kubeadm_[^ ]*\\.deb HTTP/1\\.1" 200`, 'm'));
    expect(served).toMatch(new RegExp(`^${hosts[1]!.address.replace(/\./g, '\\.')} .*"GET /images/[^ ]*pause[^ ]* HTTP/1\\.1" 200`, 'm'));
  }, 900_000);

  it('a second up --bundle changes nothing and sends no bundle', async () => {
    const t0 = Date.now();
    const r = await run(['up', invUp, '--bundle', bundle, ...STEPS, '-o', 'json']);
    t.noop = Date.now() - t0;
    expect(notOk(r)).toEqual([]);
    expect(changed(r)).toEqual([]);
    expect(r.json!.steps.find((s) => s.host === 'lab-01' && s.step === 'bundle-upload')).toMatchObject({ status: 'ok' });
    const size = readFileSync(bundle).length;
    const sent = (r.json!.hosts as unknown as { host: string; bytesSent: number }[]).find((h) => h.host === 'lab-01')!.bytesSent;
    t.secondRunBytesToCp = sent;
    t.bundleBytes = size;
    expect(sent).toBeLessThan(size / 4);
  }, 600_000);

  it('no VM ever asked the repository server or the registry: their access logs name this machine alone', () => {
    const repoClients = logClients(join(LAB_DIR, 'repo-server.log'));
    const regClients = logClients(off.registry.log);
    // bundle did read both (so the logs are the right ones), from a loopback address; no VM address, nothing else
    for (const clients of [repoClients, regClients]) {
      expect(clients.length).toBeGreaterThan(0);
      expect(clients.filter((a) => !a.startsWith('127.'))).toEqual([]);
    }
    // the site mirror is what the VMs did use for their Debian packages (containerd, runc, the CNI plugins)
    expect(logClients(join(LAB_DIR, 'site-mirror.log'))).toEqual(expect.arrayContaining(hosts.map((h) => h.address)));
  });

  it('with the registry opened to the VMs: a wrong password fails naming the registry and the host, and writes nothing; the right one lets real containerd pull through kbootstrap\'s hosts.toml', async () => {
    const relay = await registryRelay();
    try {
      const wrongFile = join(LAB_DIR, 'registry-password-wrong');
      const wrong = `wrong-${createHash('sha256').update(password).digest('hex').slice(0, 12)}`;
      writeFileSync(wrongFile, wrong, { mode: 0o600 });
      const invWrong = withCa(writeInventory({ hosts, cluster: { ...cluster(), registries: [registry(relay.host, wrongFile)] }, ssh }));
      // the worker alone (each run under emulation costs a minute), the bundle's steps aside: the trees are installed
      const bad = await run(['up', invWrong, '--only', 'lab-02', '--steps', 'container-runtime']);
      expect(bad.code).not.toBe(0);
      const said = bad.stdout + bad.stderr;
      expect(said).toContain(`the registry ${relay.host} refused the credentials of ${off.registry.user}`);
      expect(said).toMatch(/lab-02: container-runtime: /);
      expect(said).not.toContain(wrong);
      expect(said).not.toContain(Buffer.from(`${off.registry.user}:${wrong}`).toString('base64'));
      // nothing half-written: no hosts.toml, CA or credentials for that registry on any host
      for (const h of hosts.slice(1)) expect(labSh(h.name, `ls -R /etc/containerd/certs.d/ 2>/dev/null; grep -rs ${GATEWAY} /etc/containerd/certs.d/`).stdout, h.name).not.toContain(GATEWAY);

      const invReg = withCa(writeInventory({ hosts, cluster: { ...cluster(), registries: [registry(relay.host, off.registry.passwordFile)] }, ssh }));
      const good = await run(['up', invReg, '--only', 'lab-02', '--steps', 'container-runtime', '-o', 'json']);
      expect(notOk(good), good.stderr + good.stdout).toEqual([]);
      expect(good.code, good.stderr).toBe(0);
      for (const h of hosts.slice(1)) {
        // containerd's own resolver with the rendered hosts directory (what the CRI plugin reads through config_path):
        // the registry by its own name, and registry.k8s.io through the registry that mirrors it; no credentials given here
        expect(sh(h.name, 'grep -E "config_path" /etc/containerd/config.toml')).toContain('/etc/containerd/certs.d');
        for (const ref of [`${relay.host}/${PROBE_IMAGE.repo}:${PROBE_IMAGE.tag}`, `registry.k8s.io/${PROBE_IMAGE.repo}:${PROBE_IMAGE.tag}`]) {
          const p = labSh(h.name, `ctr -n k8s.io images pull --hosts-dir /etc/containerd/certs.d ${ref}`);
          expect(p.code, `${h.name} ${ref}: ${p.stderr}`).toBe(0);
        }
        expect(sh(h.name, 'ctr -n k8s.io images ls -q')).toContain(`registry.k8s.io/${PROBE_IMAGE.repo}:${PROBE_IMAGE.tag}`);
      }
    } finally {
      relay.close();
    }
    for (const o of outputs) expect(o).not.toContain(password);
  }, 900_000);
});

