/**
 * Reads an inventory file, validates it against the schema and the rules a
 * schema cannot express, and reports every problem with file:line:col and
 * the field path. Nothing here touches the network.
 */
import { DEFAULTS } from '../defaults.js';
import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve as resolvePath } from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseAllDocuments, parseDocument, type Document } from 'yaml';
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import { InventoryError, type Problem } from '../errors.js';
import { inventorySchema, type ParsedInventory } from './schema.js';
import { upstreamDownloads } from './reach.js';
import { DNS1123_LABEL, cidrContains, cidrsOverlap, formatIPv4, parseCidr, parseEndpoint, parseIPv4, type Cidr } from './net.js';
import type { ClusterSpec, HostSpec, Inventory, RegistrySpec } from './model.js';
import { FINGERPRINT, normalizeFingerprint } from '../os/keys.js';
import { resolveLocalManifest, resolveUnderInventory } from './manifest.js';
import { MIN_MINOR, addonRow, kubeadmApiVersion, addonWarning, compareVersions, criDockerdAsset, criDockerdWarning, defaultAddonVersion, minorWarning, osRow, osWarning, proxyModeStatus } from '../versions/index.js';
import { clusterCni, cniVersion, defaultManifestUrl, pinnedManifestSha256 } from '../cni/index.js';
import { nftablesProxyWarning } from '../kube/proxy-mode.js';

type Path = (string | number)[];

export function formatPath(path: Path): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

class Locator {
  constructor(private doc: Document, private lc: LineCounter, private text = '') {}

  private pos(offset: number): { line: number; col: number } {
    return this.lc.linePos(offset);
  }

  /** Position of the value at path, or of the nearest ancestor that exists. */
  value(path: Path): { line: number; col: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return this.pos(node.range[0]);
    }
    return { line: 1, col: 1 };
  }

  /** The text of the scalar at path as written in the file, when there is one. */
  source(path: Path): string | undefined {
    const node = this.doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
    return node && typeof node === 'object' && node.range ? this.text.slice(node.range[0], node.range[1]) : undefined;
  }

  /** Position of a key inside the map at path. */
  key(path: Path, key: string): { line: number; col: number } {
    const map = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    if (isMap(map)) {
      for (const item of map.items) {
        if (isPair(item) && isScalar(item.key) && item.key.value === key && item.key.range) {
          return this.pos(item.key.range[0]);
        }
      }
    }
    return this.value(path);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${String(v)}`;
}

function oneOf(values: readonly unknown[]): string {
  const q = values.map((v) => JSON.stringify(v));
  if (q.length === 1) return q[0]!;
  if (q.length === 2) return `${q[0]} or ${q[1]}`;
  return `one of ${q.join(', ')}`;
}

function getAt(root: unknown, path: Path): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** Keys the schema allows at a path, for did-you-mean. */
function allowedKeys(path: Path): string[] {
  let schema: z.ZodType = inventorySchema;
  for (const p of path) {
    schema = unwrap(schema);
    const def = (schema as unknown as { def: { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType } }).def;
    if (def.type === 'object' && typeof p === 'string' && def.shape) schema = def.shape[p]!;
    else if (def.type === 'array' && typeof p === 'number' && def.element) schema = def.element;
    else return [];
    if (!schema) return [];
  }
  schema = unwrap(schema);
  const def = (schema as unknown as { def: { type: string; shape?: Record<string, unknown> } }).def;
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s as unknown as { def: { type: string; innerType?: z.ZodType } };
  while (['optional', 'default', 'nullable', 'prefault'].includes(cur.def.type) && cur.def.innerType) {
    cur = cur.def.innerType as unknown as typeof cur;
  }
  return cur as unknown as z.ZodType;
}

/** kbootstrap's own SSH defaults, for what neither the inventory nor OpenSSH's configuration sets. */
const SSH_DEFAULTS = DEFAULTS.ssh;

/**
 * What a user who writes KEY, unknown at PATH, means in kbootstrap's words:
 * the names other tools use (Ansible's ansible_host and ansible_user,
 * k0sctl's ssh.address, a plain ip:), and secrets, which have their own place.
 */
function meaning(key: string, path: Path): string | undefined {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  const inHost = path[0] === 'hosts' && path.length === 2;
  const inSsh = path.at(-1) === 'ssh';
  if (['password', 'pass', 'sshpassword', 'ansiblepassword', 'ansiblesshpass'].includes(k)) {
    return 'passwords never go in the inventory: set KBOOTSTRAP_SSH_PASSWORD (and KBOOTSTRAP_SUDO_PASSWORD when sudo asks for another), or let kbootstrap ask on the terminal';
  }
  if (['sudopassword', 'becomepassword', 'ansiblebecomepassword'].includes(k)) return 'passwords never go in the inventory: set KBOOTSTRAP_SUDO_PASSWORD, or let kbootstrap ask on the terminal';
  if (['passphrase', 'keypassphrase'].includes(k)) return 'passphrases never go in the inventory: set KBOOTSTRAP_SSH_PASSPHRASE, or let kbootstrap ask on the terminal';
  if (inHost && ['ip', 'ipaddress', 'addr', 'ansiblehost'].includes(k)) return 'the host\'s IPv4 address is address: (an SSH alias or other target goes under ssh: { host: ... })';
  if (inHost && k === 'hostname') return 'the host\'s name is name: (kbootstrap sets the hostname to it)';
  if (inHost && ['user', 'sshuser', 'ansibleuser', 'port', 'sshport', 'ansibleport', 'privatekeypath', 'keypath'].includes(k)) {
    const field = k.includes('user') ? 'user' : k.includes('port') ? 'port' : 'privateKeyPath';
    return `SSH settings go under ssh: write ssh: { ${field}: ... } on this host, or under the top-level ssh: for every host`;
  }
  if (inSsh && ['address', 'ip', 'hostname'].includes(k)) return 'the SSH target is the host\'s address:, or ssh: { host: ... } for an alias or another address';
  if (inSsh && ['key', 'keyfile', 'identityfile', 'privatekey', 'keypath'].includes(k)) return 'the key file is privateKeyPath:';
  if (path.length === 1 && path[0] === 'cluster' && ['version', 'k8sversion', 'kubeversion'].includes(k)) return 'the version is kubernetesVersion: (quoted, "1.30.4")';
  return undefined;
}

export function didYouMean(key: string, candidates: string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = candidates.find((c) => c.toLowerCase() === key.toLowerCase());
  if (lower) return lower;
  const best = closest(key, candidates);
  return distance(key, best) <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

export interface LoadResult {
  inventory: Inventory;
  warnings: Problem[];
}

/** `~` and `~/…` as the shell expands them, for the key paths the inventory names. */
export function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? `${homedir()}/${p.slice(2)}` : p;
}

export interface LoadOptions {
  /** warn (file:line) about private key files that do not exist: for the commands that will use them */
  keyFiles?: boolean;
}

/** Reads FILE, or standard input when FILE is "-". */
export function loadInventoryFile(file: string, opts: LoadOptions = {}): LoadResult {
  let text: string;
  const name = file === '-' ? '<stdin>' : file;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new InventoryError([{ file: name, line: 1, col: 1, path: '', message: `cannot read inventory: ${why}`, severity: 'error' }]);
  }
  return parseInventory(text, name, opts);
}

/** YAML's own messages, in terms of an inventory; only the first error is reported, since the parser's later ones follow from it. */
function yamlSyntaxProblem(text: string, doc: Document, lc: LineCounter, file: string): Problem {
  const e = doc.errors[0]!;
  const at = lc.linePos(e.pos[0]);
  const problem = (line: number, col: number, message: string): Problem => ({ file, line, col, path: '', message, severity: 'error' });
  if (e.code === 'MULTIPLE_DOCS') {
    const n = parseAllDocuments(text).length;
    return problem(at.line, at.col, `the file holds ${n} YAML documents (separated by ---); an inventory is one`);
  }
  if (e.code === 'BLOCK_AS_IMPLICIT_KEY' || e.code === 'MULTILINE_IMPLICIT_KEY') {
    // the parser notices on the line before: a plain value there runs on into the next line, whose indentation is wrong
    const lines = text.split('\n');
    for (let i = at.line; i < lines.length; i++) {
      const l = lines[i]!;
      if (!l.trim() || l.trimStart().startsWith('#')) continue;
      const col = l.length - l.trimStart().length + 1;
      return problem(i + 1, col, `YAML syntax: bad indentation: this line does not line up with the keys above it (line ${at.line} takes it as the rest of its value)`);
    }
  }
  if (e.code === 'TAB_AS_INDENT') return problem(at.line, at.col, 'YAML syntax: a tab in the indentation: YAML indents with spaces only');
  // the parser's own words name its grammar ("implicit map keys", "mapping items"): say what is wrong on the user's line
  const line = text.split('\n')[at.line - 1] ?? '';
  const indent = line.length - line.trimStart().length;
  const glued = /^\s*(?:-\s+)?([A-Za-z_][\w.-]*):(\S.*)$/.exec(line);
  if (e.code === 'MISSING_CHAR' && glued && !/^\/\//.test(glued[2]!)) {
    return problem(at.line, indent + 1, `YAML syntax: "${glued[1]}:${glued[2]}" needs a space after the colon: ${glued[1]}: ${glued[2]}`);
  }
  if ((e.code === 'BAD_INDENT' && /must start at the same column/.test(e.message)) || (e.code === 'MISSING_CHAR' && /without - indicator/.test(e.message))) {
    const above = text.split('\n').slice(0, at.line - 1).reverse().find((l) => l.trim() && !l.trimStart().startsWith('#'));
    const aboveIndent = above === undefined ? 0 : above.length - above.trimStart().length - (above.trimStart().startsWith('- ') ? -2 : 0);
    return problem(at.line, indent + 1, `YAML syntax: bad indentation: this line starts at column ${indent + 1}, the line above at column ${aboveIndent + 1}; keys of one mapping start at the same column`);
  }
  if (e.code === 'MISSING_CHAR') return problem(at.line, at.col, `YAML syntax: this line is neither "key: value" nor a list item "- ...": ${e.message.split('\n')[0]}`);
  return problem(at.line, at.col, `YAML syntax: ${e.message.split('\n')[0]}`);
}

export function parseInventory(text: string, file: string, opts: LoadOptions = {}): LoadResult {
  const lc = new LineCounter();
  // merge: YAML 1.1 merge keys (<<: *defaults), which hand-written inventories use to share host settings
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
  const problems: Problem[] = [];
  const err = (line: number, col: number, path: string, message: string) => {
    if (!problems.some((p) => p.path === path && p.message === message)) problems.push({ file, line, col, path, message, severity: 'error' });
  };

  if (doc.errors.length) throw new InventoryError([yamlSyntaxProblem(text, doc, lc, file)]);
  let raw: unknown;
  try {
    // the yaml library caps alias expansion (maxAliasCount) and throws a ReferenceError past it
    raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    throw new InventoryError([{ file, line: 1, col: 1, path: '', message: `YAML aliases expand too far (${(e as Error).message}): an inventory needs no more than a few`, severity: 'error' }]);
  }
  const loc = new Locator(doc, lc, text);
  // where: the line to point at when the field itself is missing (default: the field, else its nearest parent)
  const at = (path: Path, message: string, where: Path = path) => {
    const p = loc.value(where);
    err(p.line, p.col, formatPath(path), message);
  };

  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    err(1, 1, '', 'expected a mapping with apiVersion, kind, cluster, ssh and hosts');
    throw new InventoryError(problems);
  }

  const parsed = inventorySchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path as Path;
      const got = getAt(raw, path);
      switch (issue.code) {
        case 'unrecognized_keys':
          for (const key of issue.keys) {
            const p = loc.key(path, key);
            if (key === 'password' && path[0] === 'cluster' && path[1] === 'registries') {
              err(p.line, p.col, formatPath([...path, key]), 'a password never goes in the inventory: name the environment variable that holds it (passwordEnv) or a file (passwordFile)');
              continue;
            }
            const meant = meaning(key, path);
            const hint = meant ? undefined : didYouMean(key, allowedKeys(path));
            err(p.line, p.col, formatPath([...path, key]), `unknown field${meant ? `: ${meant}` : hint ? ` (did you mean "${hint}"?)` : ''}`);
          }
          break;
        case 'invalid_type':
          if (got === undefined) at(path, 'required field is missing');
          else if (issue.expected === 'string' && typeof got === 'number') {
            // the user's own text, as written: YAML turned it into a number (1.30 into 1.3)
            const written = loc.source(path) ?? String(got);
            at(path, `expected a string, got the number ${got}${written !== String(got) ? ` (YAML reads ${written} as ${got})` : ''}: quote it: "${written}"`);
          } else if (issue.expected === 'object' && path.at(-1) === 'cni' && typeof got === 'string') at(path, `expected a mapping, got ${describe(got)}: write cni: { plugin: ${got} }`);
          else at(path, `expected ${issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a mapping' : issue.expected}, got ${describe(got)}`);
          break;
        case 'too_big':
          at(path, `expected at most ${String(issue.maximum)}, got ${describe(got)}`);
          break;
        case 'too_small':
          at(path, Array.isArray(got) ? issue.message : `expected at least ${String(issue.minimum)}, got ${describe(got)}`);
          break;
        case 'invalid_value':
          at(path, `expected ${oneOf(issue.values)}, got ${describe(got)}`);
          break;
        // zod's own message says enough for these: the schema's regex and refine messages are ours
        case 'custom': case 'invalid_element': case 'invalid_format': case 'invalid_key': case 'invalid_union': case 'not_multiple_of':
          at(path, `${issue.message}${got !== undefined && typeof got !== 'object' ? `, got ${describe(got)}` : ''}`);
          break;
      }
    }
    throw new InventoryError(problems);
  }

  const warnings: Problem[] = [];
  const warn = (path: Path, message: string) => {
    const p = loc.value(path);
    warnings.push({ file, line: p.line, col: p.col, path: formatPath(path), message, severity: 'warning' });
  };
  const inventory = checkSemantics(parsed.data, file, at, warn, getAt(raw, ['cluster', 'cni']) !== undefined);
  if (opts.keyFiles) {
    const keyPaths: Path[] = [['ssh', 'privateKeyPath'], ['ssh', 'bastion', 'privateKeyPath']];
    parsed.data.hosts.forEach((_h, i) => keyPaths.push(['hosts', i, 'ssh', 'privateKeyPath'], ['hosts', i, 'ssh', 'bastion', 'privateKeyPath']));
    for (const path of keyPaths) {
      const v = getAt(parsed.data, path);
      if (typeof v === 'string' && !existsSync(expandHome(v))) warn(path, `no such file ${JSON.stringify(v)}: SSH with this key will fail`);
    }
  }
  if (problems.length) throw new InventoryError([...problems, ...warnings]);
  return { inventory: inventory!, warnings };
}

type Report = (path: Path, message: string, where?: Path) => void;

function checkSemantics(inv: ParsedInventory, file: string, err: Report, warn: Report, cniWritten = true): Inventory | undefined {
  const c = inv.cluster;
  if (!DNS1123_LABEL.test(c.name) || c.name.length > 63) err(['cluster', 'name'], notLabel(c.name));

  // Version: kubeadm takes a full release version; packages exist from 1.24 on.
  const vm = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(c.kubernetesVersion);
  let minor = 0;
  let versionOk = false;
  if (!vm) {
    err(['cluster', 'kubernetesVersion'], `expected a release version like "1.37.1", got ${JSON.stringify(c.kubernetesVersion)}`);
  } else {
    minor = Number(vm[2]);
    versionOk = vm[1] === '1' && minor >= MIN_MINOR;
    if (vm[1] !== '1') err(['cluster', 'kubernetesVersion'], `Kubernetes ${vm[1]}.x does not exist; expected 1.${MIN_MINOR}.0 or later`);
    else if (minor < MIN_MINOR) {
      err(['cluster', 'kubernetesVersion'],
        `Kubernetes 1.${minor} is not supported: kbootstrap installs 1.${MIN_MINOR} or later (the pkgs.k8s.io package layout; dockershim is gone)`);
    } else {
      // end of life, not yet released or newer than the versions table (src/versions/table.ts)
      const w = minorWarning(minor);
      if (w) warn(['cluster', 'kubernetesVersion'], w);
    }
  }

  const cidrs: Partial<Record<'podSubnet' | 'serviceSubnet', Cidr>> = {};
  for (const f of ['podSubnet', 'serviceSubnet'] as const) {
    const r = parseCidr(c[f]);
    if (r.ok) cidrs[f] = r.cidr;
    else err(['cluster', f], `${r.reason}, got ${JSON.stringify(c[f])}`);
  }
  if (cidrs.podSubnet && cidrs.serviceSubnet && cidrsOverlap(cidrs.podSubnet, cidrs.serviceSubnet)) {
    err(['cluster', 'serviceSubnet'], `overlaps podSubnet ${c.podSubnet}`);
  }

  if (c.controlPlaneEndpoint !== undefined && !parseEndpoint(c.controlPlaneEndpoint)) {
    err(['cluster', 'controlPlaneEndpoint'], `expected host:port like "192.168.40.128:6443", got ${JSON.stringify(c.controlPlaneEndpoint)}`);
  }
  if (!/^[a-z0-9]([a-z0-9.:_/-]*[a-z0-9])?$/.test(c.imageRepository)) {
    err(['cluster', 'imageRepository'], `expected an image repository like "registry.aliyuncs.com/google_containers", got ${JSON.stringify(c.imageRepository)}`);
  }
  // plain http can be altered on the way: only where the inventory says so (allowInsecureHttp)
  const insecure = (path: Path, url: string) => {
    if (/^http:/i.test(url) && !c.allowInsecureHttp) {
      err(path, `plain http:// lets anyone on the way change what the hosts install: use https, or set cluster.allowInsecureHttp: true, got ${JSON.stringify(url)}`);
    }
  };
  if (!['upstream', 'aliyun'].includes(c.packageMirror)) {
    // written verbatim into apt and yum repository files: a clean base URL only
    if (!MIRROR_URL.test(c.packageMirror) || !isHttpUrl(c.packageMirror)) {
      err(['cluster', 'packageMirror'], `expected "upstream", "aliyun" or an https base URL (letters, digits and ._~:@%+,=/- only: no quotes, $, backticks, spaces, query or fragment), got ${JSON.stringify(c.packageMirror)}`);
    } else insecure(['cluster', 'packageMirror'], c.packageMirror);
  }
  c.repositoryKeyFingerprints.forEach((f, i) => {
    if (!FINGERPRINT.test(normalizeFingerprint(f))) {
      err(['cluster', 'repositoryKeyFingerprints', i], `expected an OpenPGP fingerprint of 40 hex digits (spaces allowed), got ${JSON.stringify(f)}`);
    }
  });
  c.registryMirrors.forEach((m, i) => {
    if (!isHttpUrl(m)) err(['cluster', 'registryMirrors', i], `expected an http(s) URL, got ${JSON.stringify(m)}`);
  });
  c.insecureRegistries.forEach((r, i) => {
    // a directory name under /etc/containerd/certs.d: "..", "." or a "/" must never get through
    if (!isRegistryHost(r)) err(['cluster', 'insecureRegistries', i], `expected a registry host or host:port like registry.local:5000, got ${JSON.stringify(r)}`);
  });

  const registries = checkRegistries(file, c, err, warn);

  if (c.cni.manifest !== undefined) {
    if (isHttpUrl(c.cni.manifest)) insecure(['cluster', 'cni', 'manifest'], c.cni.manifest);
    else {
      const local = resolveLocalManifest(file, c.cni.manifest);
      if (!local.ok) err(['cluster', 'cni', 'manifest'], local.reason);
      if (c.cni.sha256 !== undefined) warn(['cluster', 'cni', 'sha256'], 'ignored: a local manifest is uploaded as it is (the dry run shows its sha256)');
    }
  }
  // a manifest fetched by URL is applied with cluster-admin rights: its digest is checked on the host first
  const plugin = clusterCni(c.cni);
  // (the default release depends on the version: judged only once the version stands)
  if (versionOk && plugin && c.cni.sha256 === undefined && (c.cni.manifest === undefined || isHttpUrl(c.cni.manifest))) {
    const url = c.cni.manifest ?? defaultManifestUrl(plugin, c.cni, minor);
    if (!pinnedManifestSha256(url)) {
      err(['cluster', 'cni', 'sha256'],
        `kbootstrap knows no sha256 for ${url}: set cluster.cni.sha256 to the digest of the manifest you checked (sha256sum), or give a local file as cluster.cni.manifest`,
        ['cluster', 'cni', c.cni.manifest ? 'manifest' : c.cni.version ? 'version' : 'plugin']);
    }
  }
  // a mirror was chosen: every download that still goes upstream is named (issue 25 point 5)
  for (const d of upstreamDownloads(inv, minor)) warn(d.path, d.message);
  if (c.cni.plugin === 'none' && (c.cni.manifest || c.cni.version)) {
    err(['cluster', 'cni', 'plugin'], 'plugin "none" takes no version or manifest');
  }
  // the manifest kbootstrap picks (no cni.manifest) against the versions its release is tested with (D8)
  // the versions table judges the release kbootstrap installs (no cni.manifest), pinned or the minor's default (D8)
  const cniVerdict = plugin && !c.cni.manifest && minor ? addonWarning(plugin.id, cniVersion(plugin, c.cni, minor), minor) : undefined;
  // a cni the user never wrote (the default): the warning points at the version that makes it untested (issue 25 point 6)
  if (cniVerdict) warn(cniWritten ? ['cluster', 'cni', c.cni.version ? 'version' : 'plugin'] : ['cluster', 'kubernetesVersion'], cniWritten ? cniVerdict : `the default CNI: ${cniVerdict.replace('set cluster.cni.version to', 'add cni: { plugin: ' + c.cni.plugin + ', version: ... } under cluster: with')}`);
  // ipvs is deprecated in 1.35 (KEP-5495, kubernetes/kubernetes#134539) and gated in 1.37 (#139397); kube-proxy's own default is iptables (D10)
  const ipvs = minor ? proxyModeStatus(minor, 'ipvs') : undefined;
  if (c.kubeProxyMode === 'ipvs' && (ipvs === 'deprecated' || ipvs === 'deprecated-gated')) {
    warn(['cluster', 'kubeProxyMode'], `kube-proxy's ipvs mode is deprecated from Kubernetes 1.35 (KEP-5495)${ipvs === 'deprecated-gated' ? `, behind the KubeProxyIPVS feature gate in 1.${minor} and planned off by default in 1.40` : ''}: use ${proxyModeStatus(minor, 'nftables') === 'ga' ? 'nftables or iptables' : 'iptables'}`);
  }
  if (c.kubeProxyMode === 'nftables' && versionOk) {
    // the stage of kube-proxy's nftables mode per minor is the versions table's (KEP-3866)
    const nft = nftablesProxyWarning(minor);
    if (nft?.refuse) err(['cluster', 'kubeProxyMode'], nft.text);
    else if (nft) warn(['cluster', 'kubeProxyMode'], nft.text);
    // the CNI plugin's own nftables setting must follow kube-proxy (src/cni/): a release without one cannot
    if (plugin && !c.cni.manifest) {
      const v = cniVersion(plugin, c.cni, minor);
      if (compareVersions(v, plugin.nftables.since) < 0) {
        err(['cluster', 'cni', c.cni.version ? 'version' : 'plugin'], `${plugin.id} ${v} has no nftables setting (it came in ${plugin.nftables.since}: ${plugin.nftables.source}): kube-proxy in nftables mode needs its CNI in nftables mode too; use ${plugin.id} ${plugin.nftables.since} or later`);
      } else {
        const preview = plugin.nftables.preview(v);
        if (preview) warn(['cluster', 'kubeProxyMode'], preview);
      }
    }
    // a local or URL manifest is edited the same way: its apply fails, naming the setting, when it has none
  }

  // ClusterConfiguration.certificateValidityPeriod / caCertificateValidityPeriod exist in kubeadm's v1beta4 only
  // (https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/, read 2026-12-07; cluster-api's
  // KubeadmConfig: "only supported with Kubernetes v1.31 or above"): the versions table says which minors write v1beta4
  for (const f of ['certificateValidityPeriod', 'caCertificateValidityPeriod'] as const) {
    const v = c[f];
    if (v === undefined) continue;
    if (!/^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/.test(v) || !/[1-9]/.test(v)) err(['cluster', f], `expected a Go duration of hours, minutes and seconds like "8760h" or "8760h0m0s", got ${JSON.stringify(v)}`);
    else if (minor && kubeadmApiVersion(minor) !== 'kubeadm.k8s.io/v1beta4') err(['cluster', f], `needs kubeadm's v1beta4 configuration, which Kubernetes 1.31 and later read; this inventory asks for ${c.kubernetesVersion}`);
  }

  const criDockerd = { version: c.criDockerd?.version ?? defaultAddonVersion('cri-dockerd', minor), url: c.criDockerd?.url, sha256: c.criDockerd?.sha256 ?? {} };
  const criDockerdRow = addonRow('cri-dockerd', criDockerd.version);
  const criVerdict = c.containerRuntime === 'docker' && minor ? criDockerdWarning(criDockerd.version, minor) : undefined;
  if (criVerdict) warn(c.criDockerd?.version ? ['cluster', 'criDockerd', 'version'] : ['cluster', 'containerRuntime'], criVerdict);
  if (criDockerd.url !== undefined) {
    if (!isHttpUrl(criDockerd.url)) err(['cluster', 'criDockerd', 'url'], `expected an http(s) URL, got ${JSON.stringify(criDockerd.url)}`);
    else insecure(['cluster', 'criDockerd', 'url'], criDockerd.url);
  }
  // cri-dockerd publishes no checksums (https://github.com/Mirantis/cri-dockerd/releases): the inventory gives them
  if (c.containerRuntime === 'docker' && !Object.keys(criDockerd.sha256).length) {
    err(['cluster', 'criDockerd', 'sha256'],
      `docker installs cri-dockerd ${criDockerd.version} from a release file, and its project publishes no checksum kbootstrap could pin: set cluster.criDockerd.sha256 to the sha256 of each file your hosts install, by file name (e.g. cri-dockerd_${criDockerd.version}.3-0.ubuntu-jammy_amd64.deb, cri-dockerd-${criDockerd.version}-3.el8.x86_64.rpm)`,
      c.criDockerd ? ['cluster', 'criDockerd'] : ['cluster', 'containerRuntime']);
  }
  for (const name of Object.keys(criDockerd.sha256)) {
    if (!/^cri-dockerd[-_][A-Za-z0-9._~+-]+\.(deb|rpm)$/.test(name)) err(['cluster', 'criDockerd', 'sha256', name], `expected a cri-dockerd release file name like cri-dockerd_${criDockerd.version}.3-0.ubuntu-jammy_amd64.deb, got ${JSON.stringify(name)}`);
  }
  if (c.containerRuntime === 'docker' && c.packageMirror !== 'upstream' && !criDockerd.url) {
    err(['cluster', 'containerRuntime'],
      `docker needs cri-dockerd (Kubernetes 1.24+ has no dockershim), and the ${c.packageMirror === 'aliyun' ? 'aliyun' : 'custom'} mirror does not carry it: set cluster.criDockerd.url to a copy of its release files, or use containerd`);
  }
  if (c.containerRuntime !== 'docker' && c.criDockerd) {
    warn(['cluster', 'criDockerd'], 'ignored: containerRuntime is not docker');
  }

  // Hosts
  const names = new Map<string, number>();
  const addrs = new Map<string, number>();
  const hosts: HostSpec[] = [];
  const osWarned = new Set<string>();
  inv.hosts.forEach((h, i) => {
    if (!DNS1123_LABEL.test(h.name) || h.name.length > 63) err(['hosts', i, 'name'], notLabel(h.name));
    const seen = names.get(h.name);
    if (seen !== undefined) err(['hosts', i, 'name'], `duplicate host name ${JSON.stringify(h.name)} (also hosts[${seen}])`);
    else names.set(h.name, i);

    const ip = parseIPv4(h.address);
    if (ip === undefined) {
      err(['hosts', i, 'address'], `expected an IPv4 address like 192.168.40.128, got ${JSON.stringify(h.address)}`);
    } else {
      const prev = addrs.get(h.address);
      if (prev !== undefined) err(['hosts', i, 'address'], `duplicate address ${h.address} (also hosts[${prev}])`);
      else addrs.set(h.address, i);
      for (const f of ['podSubnet', 'serviceSubnet'] as const) {
        const cidr = cidrs[f];
        if (cidr && cidrContains(cidr, ip)) err(['hosts', i, 'address'], `${h.address} lies inside cluster.${f} ${cidr.text}`);
      }
    }
    const user = h.ssh?.user ?? inv.ssh.user ?? SSH_DEFAULTS.user;
    if (!/^[a-z_][a-z0-9_.-]*\$?$/i.test(user) || user.length > 32) {
      err(h.ssh?.user ? ['hosts', i, 'ssh', 'user'] : ['ssh', 'user'], `not a valid user name: ${JSON.stringify(user)}`);
    }
    for (const [k, v] of Object.entries(h.labels ?? {})) {
      if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(k)) {
        err(['hosts', i, 'labels', k], `not a valid label key: ${JSON.stringify(k)}`);
      }
      if (!/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(v)) {
        err(['hosts', i, 'labels', k], `not a valid label value: ${JSON.stringify(v)}`);
      }
    }
    const release = h.os ? osRow(h.os) : undefined;
    // a release Docker no longer builds for (Ubuntu 20.04): once per release, at its first host
    const osWarn = osWarning(release);
    if (osWarn && !osWarned.has(h.os!)) { osWarned.add(h.os!); warn(['hosts', i, 'os'], osWarn); }
    if (c.containerRuntime === 'docker' && release && criDockerdRow && !criDockerdAsset(criDockerdRow, release)) {
      err(['hosts', i, 'os'], `cri-dockerd ${criDockerd.version} publishes no package for ${release.prettyName}: use containerd on this host`);
    }
    const { configFile: _configFile, ...sshDefaults } = inv.ssh;
    const { host: target, ...sshOwn } = h.ssh ?? {};
    const explicit = { ...stripUndefined(sshDefaults), ...stripUndefined(sshOwn) };
    // where each explicit field was written, so a message names the line the user must change
    const fieldPaths: Record<string, string> = {
      ...Object.fromEntries(Object.keys(explicit).map((k) => [k, k in stripUndefined(sshOwn) ? `hosts[${i}].ssh.${k}` : `ssh.${k}`])),
      // the SSH target: hosts[].ssh.host when given (an alias or another address), else the host's address
      address: target !== undefined ? `hosts[${i}].ssh.host` : `hosts[${i}].address`,
    };
    const ssh = { ...SSH_DEFAULTS, ...explicit };
    hosts.push({
      index: i,
      name: h.name,
      address: h.address,
      role: h.role,
      os: h.os,
      labels: h.labels ?? {},
      ssh: {
        user: ssh.user,
        port: ssh.port,
        privateKeyPath: ssh.privateKeyPath,
        knownHostsPath: ssh.knownHostsPath,
        connectTimeoutSeconds: ssh.connectTimeoutSeconds,
        bastion: ssh.bastion
          ? { address: ssh.bastion.address, port: ssh.bastion.port ?? SSH_DEFAULTS.port, user: ssh.bastion.user ?? ssh.user, privateKeyPath: ssh.bastion.privateKeyPath ?? ssh.privateKeyPath }
          : undefined,
        target: target ?? h.address,
        explicit,
        fieldPaths,
      },
    });
  });

  const cps = inv.hosts.filter((h) => h.role === 'control-plane');
  if (cps.length === 0) err(['hosts'], 'no host has role "control-plane": a cluster needs at least one');
  const server = c.offline?.server;
  if (server !== undefined && !inv.hosts.some((h) => h.name === server)) {
    const meant = didYouMean(server, inv.hosts.map((h) => h.name));
    err(['cluster', 'offline', 'server'], `no host is named ${JSON.stringify(server)}: the bundle server is one of hosts[].name${meant ? ` (did you mean ${meant}?)` : ''}`);
  }
  else if (cps.length % 2 === 0) {
    warn(['hosts'], `${cps.length} control planes: etcd keeps quorum no better than with ${cps.length - 1}; use an odd number`);
  }
  if (cps.length > 1 && c.controlPlaneEndpoint === undefined && !c.loadBalancer) {
    warn(['cluster', 'controlPlaneEndpoint'],
      'several control planes but no controlPlaneEndpoint: joins and kubeconfigs will use the first control plane\'s address, which is a single point of failure; put a load balancer or VIP here');
  }
  const lbEndpoint = c.loadBalancer ? checkLoadBalancer(inv, cidrs, err, warn) : undefined;
  // with a load balancer its own address check says the same, at the address
  if (c.controlPlaneEndpoint && !c.loadBalancer) {
    const ep = parseEndpoint(c.controlPlaneEndpoint);
    const epIp = ep ? parseIPv4(ep.host) : undefined;
    for (const f of ['podSubnet', 'serviceSubnet'] as const) {
      const cidr = cidrs[f];
      if (cidr && epIp !== undefined && cidrContains(cidr, epIp)) err(['cluster', 'controlPlaneEndpoint'], `${ep!.host} lies inside cluster.${f} ${cidr.text}`);
    }
  }

  if (!vm || cps.length === 0) return undefined;
  const version = `${vm[1]}.${vm[2]}.${vm[3]}`;
  const cluster: ClusterSpec = {
    name: c.name,
    kubernetesVersion: version,
    minorVersion: `v${vm[1]}.${vm[2]}`,
    minor,
    controlPlaneEndpoint: c.controlPlaneEndpoint ?? lbEndpoint ?? `${cps[0]!.address}:6443`,
    loadBalancer: c.loadBalancer,
    podSubnet: c.podSubnet,
    serviceSubnet: c.serviceSubnet,
    imageRepository: c.imageRepository,
    packageMirror: c.packageMirror,
    repositoryKeyFingerprints: c.repositoryKeyFingerprints.map(normalizeFingerprint),
    allowInsecureHttp: c.allowInsecureHttp,
    prepullImages: c.prepullImages,
    containerRuntime: c.containerRuntime,
    criDockerd,
    cni: c.cni,
    kubeProxyMode: c.kubeProxyMode,
    registryMirrors: c.registryMirrors,
    insecureRegistries: c.insecureRegistries,
    registries,
    firewall: c.firewall,
    ...(c.certificateValidityPeriod ? { certificateValidityPeriod: c.certificateValidityPeriod } : {}),
    ...(c.caCertificateValidityPeriod ? { caCertificateValidityPeriod: c.caCertificateValidityPeriod } : {}),
    ...(c.certRenewal ? { certRenewal: c.certRenewal } : {}),
    ...(c.offline?.server ? { offline: { server: c.offline.server } } : {}),
  };
  return { file, cluster, hosts, sshConfigFile: inv.ssh.configFile };
}

/** 64 KiB: a CA bundle of a few certificates is a few KiB. */
const MAX_CA_BYTES = 64 * 1024;

/** The runtime's registry namespaces are directory names: no "..", "/" or "." alone. */
const REGISTRY_NAMESPACE_HINT = 'expected a registry host or host:port like registry.lab:5000 or docker.io';

/** cluster.registries: hosts, what they mirror, CA file, credentials' source (never read here). */
function checkRegistries(file: string, c: ParsedInventory['cluster'], err: Report, warn: Report): RegistrySpec[] {
  const seen = new Map<string, number>();
  const mirrored = new Map<string, number>();
  return c.registries.map((r, i) => {
    const at = (...p: Path): Path => ['cluster', 'registries', i, ...p];
    if (!isRegistryHost(r.host)) err(at('host'), `${REGISTRY_NAMESPACE_HINT}, got ${JSON.stringify(r.host)}`);
    if (seen.has(r.host)) err(at('host'), `${r.host} is already cluster.registries[${seen.get(r.host)}]`);
    seen.set(r.host, i);
    if (c.insecureRegistries.includes(r.host)) err(at('host'), `${r.host} is also in cluster.insecureRegistries: give it once, here (with plainHttp: true when it speaks plain HTTP)`);
    r.mirrorOf.forEach((m, j) => {
      if (!isRegistryHost(m)) err(at('mirrorOf', j), `${REGISTRY_NAMESPACE_HINT}, got ${JSON.stringify(m)}`);
      else if (m === r.host) err(at('mirrorOf', j), `${m} is this registry itself`);
      else if (mirrored.has(m)) err(at('mirrorOf', j), `${m} is already mirrored by cluster.registries[${mirrored.get(m)}]: one private registry per upstream`);
      mirrored.set(m, i);
    });
    if (c.containerRuntime === 'docker') {
      // dockerd's registry-mirrors stand in for Docker Hub only: "It's currently not possible to mirror another
      // private registry. Only the central Hub can be mirrored." (https://docs.docker.com/docker-hub/image-library/mirror/, read 2026-12-07)
      r.mirrorOf.forEach((m, j) => {
        if (m !== 'docker.io') err(at('mirrorOf', j), `docker mirrors only docker.io (daemon.json registry-mirrors): ${m} cannot be mirrored with containerRuntime docker`);
      });
    }
    let caFile: string | undefined;
    if (r.caFile !== undefined) {
      if (r.plainHttp) err(at('caFile'), 'a plain-HTTP registry has no certificate: drop caFile or plainHttp');
      const f = resolveUnderInventory(file, r.caFile, {
        what: 'a CA file', hint: 'a path like ./registry-ca.crt', missingHint: 'expected the PEM file of the registry\'s CA',
        maxBytes: MAX_CA_BYTES, kind: 'a CA file',
      });
      if (!f.ok) err(at('caFile'), f.reason);
      else if (!/-----BEGIN CERTIFICATE-----/.test(readFileSync(f.path, 'utf8'))) err(at('caFile'), `${JSON.stringify(r.caFile)} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
      else caFile = f.path;
    }
    const cr = r.credentials;
    if (cr) {
      if ((cr.passwordEnv === undefined) === (cr.passwordFile === undefined)) {
        err(at('credentials'), 'expected exactly one of passwordEnv (an environment variable) or passwordFile (a file) for the password');
      }
      if (cr.username.includes(':')) err(at('credentials', 'username'), 'a user name of basic authentication cannot hold ":"');
      if (r.plainHttp) warn(at('credentials'), 'the credentials cross the network in clear text to a plain-HTTP registry');
    }
    // a relative password file is next to the inventory, as its CA is (~ is the operator's home)
    const credentials = cr && cr.passwordFile !== undefined ? { ...cr, passwordFile: resolvePath(dirname(resolvePath(file)), expandHome(cr.passwordFile)) } : cr;
    return { host: r.host, mirrorOf: r.mirrorOf, caFile, plainHttp: r.plainHttp, credentials, index: i };
  });
}

/**
 * The address in front of the control planes. Returns the endpoint it makes
 * (address:port), which controlPlaneEndpoint defaults to.
 */
function checkLoadBalancer(inv: ParsedInventory, cidrs: Partial<Record<'podSubnet' | 'serviceSubnet', Cidr>>, err: Report, warn: Report): string {
  const c = inv.cluster;
  const lb = c.loadBalancer!;
  const at: Path = ['cluster', 'loadBalancer', 'address'];
  const endpoint = `${lb.address}:${lb.port}`;
  if (c.controlPlaneEndpoint !== undefined && c.controlPlaneEndpoint !== endpoint) {
    err(['cluster', 'controlPlaneEndpoint'],
      `${JSON.stringify(c.controlPlaneEndpoint)} differs from cluster.loadBalancer (${endpoint}): the endpoint is the load balancer's address; drop controlPlaneEndpoint or make the two equal`);
  }
  const vip = parseIPv4(lb.address);
  if (lb.type === 'external') {
    if (vip === undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(lb.address)) err(at, `expected an IPv4 address or DNS name, got ${JSON.stringify(lb.address)}`);
    for (const f of ['interface', 'image'] as const) {
      if (lb[f] !== undefined) warn(['cluster', 'loadBalancer', f], 'ignored: only type kube-vip uses it');
    }
  } else if (vip === undefined) {
    err(at, `kube-vip holds an IPv4 address: expected one like 192.168.40.100, got ${JSON.stringify(lb.address)}`);
  }
  if (lb.image !== undefined && !IMAGE_REF.test(lb.image)) {
    err(['cluster', 'loadBalancer', 'image'], `expected an image reference like ghcr.io/kube-vip/kube-vip:v0.8.9 or ghcr.io/kube-vip/kube-vip@sha256:<64 hex digits>, got ${JSON.stringify(lb.image)}`);
  }
  if (vip === undefined) return endpoint;
  for (const f of ['podSubnet', 'serviceSubnet'] as const) {
    const cidr = cidrs[f];
    if (cidr && cidrContains(cidr, vip)) err(at, `${lb.address} lies inside cluster.${f} ${cidr.text}`);
  }
  if (lb.type !== 'kube-vip') return endpoint;
  if (lb.port !== 6443) {
    // ARP mode only moves the address (no load balancing: lb_enable stays off), so VIP:port is the API server's own bindPort
    err(['cluster', 'loadBalancer', 'port'], `kube-vip moves only the address: clients reach the API server's own port 6443 through it, got ${lb.port}`);
  }

  const owner = inv.hosts.findIndex((h) => h.address === lb.address);
  if (owner >= 0) err(at, `${lb.address} is the address of hosts[${owner}] (${inv.hosts[owner]!.name}): the VIP must be an address no host uses`);
  const cpIps = inv.hosts.filter((h) => h.role === 'control-plane').map((h) => parseIPv4(h.address)).filter((n): n is number => n !== undefined);
  const subnet = controlPlaneSubnet(cpIps);
  if (subnet && !cidrContains(subnet, vip)) {
    err(at, `${lb.address} is outside the control planes' subnet ${subnet.text} (the /24 around their addresses, or the prefix they share when they span more): kube-vip announces the VIP with ARP, which reaches only their own network`);
  }
  if (cpIps.length === 1) {
    warn(['cluster', 'loadBalancer', 'type'], 'kube-vip with one control plane: the VIP has no other host to move to (it does let control planes join later without changing the endpoint)');
  }
  return endpoint;
}

/**
 * The inventory gives addresses without prefix lengths, so the control
 * planes' subnet is inferred: the /24 holding them, widened to the prefix
 * they share when they are spread over several /24s.
 */
export function controlPlaneSubnet(ips: number[]): Cidr | undefined {
  if (!ips.length) return undefined;
  let bits = 24;
  while (bits > 0 && ips.some((ip) => Math.floor(ip / 2 ** (32 - bits)) !== Math.floor(ips[0]! / 2 ** (32 - bits)))) bits--;
  const size = 2 ** (32 - bits);
  const base = Math.floor(ips[0]! / size) * size;
  return { base, bits, text: `${formatIPv4(base)}/${bits}` };
}

function notLabel(name: string): string {
  return `${JSON.stringify(name)} is not a valid DNS-1123 label (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)`;
}

/** A base URL written verbatim into repository files: no quotes, $, backticks, whitespace, query or fragment. */
const MIRROR_URL = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~:@%+,=/-]*)?$/;

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const REGISTRY_HOST = new RegExp(`^${LABEL}(?:\\.${LABEL})*(?::(\\d{1,5}))?$`);

/** host or host:port of a registry: DNS labels or an IPv4 address, a port 1-65535. */
function isRegistryHost(s: string): boolean {
  const m = REGISTRY_HOST.exec(s);
  if (!m || s.length > 253 + 6) return false;
  return m[1] === undefined || (Number(m[1]) >= 1 && Number(m[1]) <= 65535);
}

/**
 * An image reference, as the distribution/reference grammar has it: an optional
 * registry host[:port]/, lower-case path components, then :tag and/or @sha256:digest.
 */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_REF = new RegExp(
  `^(?:${LABEL}(?:\\.${LABEL})*(?::\\d{1,5})?/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`,
);

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !/\s/.test(s);
  } catch {
    return false;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
