/**
 * `up --bundle` over real SSH to namespace-lab hosts (issue 21 item 2, the part the lab can run):
 * the bundle goes once to the first control plane through the real SSH transport, is unpacked by
 * its sha256, served by the host's real python3 http.server on its lab address, fetched from the
 * other host while the run is under way, and stopped when the run fails; a second run sends nothing;
 * a run killed mid-transfer leaves what arrived, and the next one sends only the rest.
 * Then a whole `up --bundle` with both hosts offline (the lab's Rocky 9 and Ubuntu 22.04): the Rocky
 * host's simulated dnf reads the bundle server's rpm trees over HTTP (repomd.xml, primary, each
 * package by its sha256), its OS packages from the bundle's BaseOS and AppStream, the images are
 * imported with ctr, a second run changes nothing, and no host contacted anything outside the lab
 * network (the lab's record of the internet's access log, sim/rpm-repos.mjs).
 * Not here: apt on the bundle server (the lab's simulated apt-get reads only its own table of repositories).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { REPO, clearFaults, labDown, labExec, labUp, outsideLog, setFaults, setOffline, simCalls } from '../lab/lab.js';
import { loadInventoryFile } from '../../src/inventory/load.js';
import { changed, kb, notOk } from './cli.js';
import { writeInventory } from './inventory.js';
import { makeBundle } from '../support/bundle-fixture.js';

const PID = '/run/kbootstrap/bundle-http.pid';
const LOG = '/var/log/kbootstrap-bundle-http.log';

describe.skipIf(!!LAB_SKIP_REASON)('up --bundle on lab hosts', () => {
  let inv = '';
  let bundle = '';
  let sha = '';
  let cp = '';
  const env = { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'kb-cache-')) };
  beforeAll(async () => {
    labDown();
    // Rocky 9 (the first control plane, so the bundle server) and Ubuntu 22.04
    await labUp({ hosts: 2, family: 'current' });
    inv = writeInventory();
    const loaded = loadInventoryFile(inv).inventory;
    cp = loaded.hosts[0]!.address;
    const dir = mkdtempSync(join(tmpdir(), 'kb-lab-bundle-'));
    const local = resolve(dirname(inv), loaded.cluster.cni.manifest!);
    // the lab's hosts: Rocky 9 and Ubuntu 22.04 (its inventory leaves os: out, read from the hosts)
    const releases: ('rocky9' | 'ubuntu22.04')[] = ['rocky9', 'ubuntu22.04'];
    bundle = await makeBundle(dir, loaded, releases, 'lab.bundle', (m) => {
      m.cniManifest = { local, sha256: createHash('sha256').update(readFileSync(local)).digest('hex'), images: [] };
      // what each release leaves to the OS, for check --bundle (up does not read it): socat stays missing on Rocky
      for (const r of m.osReleases) r.fromOs = r.osId === 'rocky' ? ['ipset', 'socat'] : ['ipset', 'ipvsadm'];
    }, { realImages: true, keys: true });
    sha = createHash('sha256').update(readFileSync(bundle)).digest('hex');
  });
  afterAll(() => { clearFaults(); labDown(); });

  it('serves the bundle from the first control plane while the run goes, and stops it when the run fails', async () => {
    // the second host's first change hangs until the command timeout: meanwhile it fetches from the bundle server
    setFaults('lab-02', [{ match: 'swapoff', action: 'hang', times: 1 }]);
    const running = kb(['up', inv, '--bundle', bundle, '--steps', 'swap', '--command-timeout', '20s', '-o', 'json'], { env });
    let fetched = '';
    const end = Date.now() + 60_000;
    while (Date.now() < end && !fetched) {
      const r = labExec('lab-02', ['python3', '-c', `import urllib.request,sys\nsys.stdout.write(urllib.request.urlopen("http://${cp}:8473/manifest.json", timeout=2).read().decode())`]);
      if (r.code === 0) fetched = r.stdout;
      else await new Promise((res) => setTimeout(res, 300));
    }
    const r = await running;
    expect(JSON.parse(fetched)).toMatchObject({ format: 'kbootstrap-bundle/1', kubernetesVersion: loadInventoryFile(inv).inventory.cluster.kubernetesVersion });
    expect(r.code, r.stderr).toBe(1);
    const steps = r.json!.steps;
    expect(steps.find((s) => s.host === 'lab-01' && s.step === 'bundle-upload')?.status).toBe('changed');
    // started for the run and stopped at its end: not a change to the host
    expect(steps.find((s) => s.host === 'lab-01' && s.step === 'bundle-serve')).toMatchObject({ status: 'ok', reason: expect.stringMatching(/set up for this run, undone at its end$/) });
    expect(steps.find((s) => s.host === 'lab-02' && s.step === 'swap')?.status).toBe('failed');
    // unpacked under its sha256; the server is gone; its log names the host that fetched
    expect(labExec('lab-01', ['test', '-f', `/var/lib/kbootstrap/bundle/${sha}/manifest.json`]).code).toBe(0);
    expect(labExec('lab-01', ['test', '-e', PID]).code).toBe(1);
    expect(labExec('lab-02', ['python3', '-c', `import urllib.request\nurllib.request.urlopen("http://${cp}:8473/manifest.json", timeout=2)`]).code).not.toBe(0);
    const log = labExec('lab-01', ['cat', LOG]).stdout;
    expect(log).toMatch(new RegExp(`^${readInvAddress(inv, 1).replace(/\./g, '\\.')} .*"GET /manifest\\.json HTTP/1\\.1" 200`, 'm'));
  }, 120_000);

  it('a second run sends nothing: the bundle is there by its sha256', async () => {
    clearFaults();
    const r = await kb(['up', inv, '--bundle', bundle, '--steps', 'swap', '-o', 'json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.steps.find((s) => s.host === 'lab-01' && s.step === 'bundle-upload')).toMatchObject({ status: 'ok', reason: expect.stringMatching(/is unpacked in \/var\/lib\/kbootstrap\/bundle\//) });
    expect(labExec('lab-01', ['test', '-e', PID]).code).toBe(1);
    expect(labExec('lab-01', ['ls', '/var/lib/kbootstrap/bundle']).stdout.trim()).toBe(sha);
  }, 120_000);

  it('offline, up --bundle converges both hosts from the bundle alone (dnf from its rpm trees, images by ctr import); a second run changes nothing', async () => {
    for (const h of ['lab-01', 'lab-02']) setOffline(h);
    const before = simCalls('lab-01').length;
    const first = await kb(['up', inv, '--bundle', bundle, '-o', 'json'], { env });
    expect(notOk(first), JSON.stringify(notOk(first)).slice(0, 3000)).toEqual([]);
    expect(first.code, first.stderr).toBe(0);
    // every install read the bundle server's repositories only, and found there what it installed
    const yums = simCalls('lab-01').slice(before).filter((c) => c.prog === 'yum');
    expect(yums.length).toBeGreaterThan(0);
    for (const c of yums) expect(c.args).toEqual(expect.arrayContaining(['--disablerepo=*', '--enablerepo=kubernetes,docker-ce-stable,kbootstrap-bundle-*']));
    const v = loadInventoryFile(inv).inventory.cluster.kubernetesVersion;
    expect(labExec('lab-01', ['rpm', '-q', '--qf', '%{NAME} %{VERSION}\\n', 'kubeadm', 'kubelet', 'containerd.io', 'container-selinux', 'ipset', 'ipvsadm']).stdout)
      .toBe(`kubeadm ${v}\nkubelet ${v}\ncontainerd.io 1.7.27\ncontainer-selinux 2.229.0\nipset 1.0\nipvsadm 1.0\n`);
    const repo = labExec('lab-01', ['cat', '/etc/yum.repos.d/kubernetes.repo', '/etc/yum.repos.d/kbootstrap-bundle-os.repo']).stdout;
    expect(repo).toContain(`baseurl=http://${cp}:8473/kubernetes-new/core/stable/v1.30/rpm/`);
    expect(repo).toContain(`baseurl=http://${cp}:8473/rockylinux/9/AppStream/x86_64/os/`);
    expect(repo.match(/^gpgcheck=1$/gm)).toHaveLength(3);
    // the images came from the bundle: ctr imported each where kubeadm runs it
    const m = JSON.parse(labExec('lab-01', ['cat', `/var/lib/kbootstrap/bundle/${sha}/manifest.json`]).stdout) as { images: { ref: string }[] };
    const held = labExec('lab-01', ['ctr', '-n', 'k8s.io', 'images', 'ls', '-q']).stdout;
    for (const i of m.images) expect(held).toContain(i.ref);
    expect(labExec('lab-02', ['ctr', '-n', 'k8s.io', 'images', 'ls', '-q']).stdout).toContain('kube-proxy');
    // nothing went outside the lab network
    expect(outsideLog('lab-01')).toEqual([]);
    expect(outsideLog('lab-02')).toEqual([]);

    const second = await kb(['up', inv, '--bundle', bundle, '-o', 'json'], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(changed(second)).toEqual([]);
    expect(outsideLog('lab-01')).toEqual([]);

    // check --bundle: per host, the packages the bundle leaves to its release, looked up by the host's own rpm or dpkg-query
    const checked = await kb(['check', inv, '--bundle', bundle, '-o', 'json'], { env });
    const rows = (JSON.parse(checked.stdout) as { rows: { host: string; check: string; verdict: string; detail: string }[] }).rows.filter((r) => r.check === 'os-packages');
    expect(rows, checked.stderr).toEqual([
      { host: 'lab-01', check: 'os-packages', verdict: 'fail', detail: expect.stringMatching(/^missing socat \(from Rocky Linux 9.*'s own repositories; the bundle does not carry it\): install it from the distribution's media or a local mirror/) },
      { host: 'lab-02', check: 'os-packages', verdict: 'pass', detail: expect.stringMatching(/^2 packages from Ubuntu 22\.04.* own repositories installed$/) },
    ]);
    expect(checked.code).toBe(1);
    expect(simCalls('lab-01').some((c) => c.prog === 'rpm' && c.args[1] === '--whatprovides')).toBe(true);
  }, 240_000);

  it('a transfer killed mid-way resumes: the next run sends only the rest, then checks the whole', async () => {
    const loaded = loadInventoryFile(inv).inventory;
    const local = resolve(dirname(inv), loaded.cluster.cni.manifest!);
    const dir = mkdtempSync(join(tmpdir(), 'kb-lab-bundle-big-'));
    // bulk enough to be caught on its way: 96 MiB
    const big = await makeBundle(dir, loaded, ['rocky9', 'ubuntu22.04'], 'big.bundle', (m) => {
      m.cniManifest = { local, sha256: createHash('sha256').update(readFileSync(local)).digest('hex'), images: [] };
      const body = randomBytes(96 << 20);
      writeFileSync(join(dir, readdirSync(dir).find((x) => x.startsWith('stage-'))!, 'filler.bin'), body);
      m.files.push({ path: 'filler.bin', sha256: createHash('sha256').update(body).digest('hex'), size: body.length, origin: 'test', why: 'bulk' });
    });
    const bytes = readFileSync(big);
    const size = bytes.length;
    const bigSha = createHash('sha256').update(bytes).digest('hex');
    const part = `/var/lib/kbootstrap/bundle/${bigSha}.part`;
    const partSize = () => { const r = labExec('lab-01', ['stat', '-c', '%s', part]); return r.code === 0 ? Number(r.stdout.trim()) : 0; };

    // the run this test starts is killed (by its pid) once the host holds 8 MiB of the bundle
    const child = spawn(process.execPath, [join(REPO, 'bin', 'kbootstrap.js'), 'up', inv, '--bundle', big, '--steps', 'swap', '-o', 'json'], { env: { ...process.env, ...env }, stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    const end = Date.now() + 60_000;
    let seen = 0;
    while (Date.now() < end && (seen = partSize()) < 8 << 20) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    await new Promise((r) => setTimeout(r, 500));
    const have = partSize();
    expect(seen).toBeGreaterThanOrEqual(8 << 20);
    expect(have).toBeGreaterThanOrEqual(seen);
    expect(have).toBeLessThan(size);

    const r = await kb(['up', inv, '--bundle', big, '--steps', 'swap', '-o', 'json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.steps.find((s) => s.host === 'lab-01' && s.step === 'bundle-upload')).toMatchObject({
      status: 'changed', reason: `bundle ${bigSha.slice(0, 12)}: ${have} of ${size} bytes arrived in an earlier run (${size - have} bytes to send)`,
    });
    // the link carried the rest (and the scripts), not the whole bundle again
    const sent = (r.json!.hosts.find((h) => h.host === 'lab-01') as unknown as { bytesSent: number }).bytesSent;
    expect(sent).toBeGreaterThanOrEqual(size - have);
    expect(sent).toBeLessThan(size - have + (1 << 20));
    expect(labExec('lab-01', ['sha256sum', `/var/lib/kbootstrap/bundle/${bigSha}/filler.bin`]).stdout).toContain(createHash('sha256').update(readFileSync(join(dir, readdirSync(dir).find((x) => x.startsWith('stage-'))!, 'filler.bin'))).digest('hex'));
    expect(labExec('lab-01', ['test', '-e', part]).code).toBe(1);
  }, 180_000);
});

function readInvAddress(file: string, i: number): string {
  return loadInventoryFile(file).inventory.hosts[i]!.address;
}
