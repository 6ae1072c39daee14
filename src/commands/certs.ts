/**
 * kbootstrap certs check / certs renew. `check` reads every host's
 * certificates (read-only, the same snippet and parser as status and check);
 * `renew` is a plan of steps on the Runner (src/steps/certs.ts), like up and
 * upgrade: dry run, JSON, progress, resume. The commands themselves are
 * registered by certs-cli.ts, which loads this module only when one runs.
 */
import type { Inventory } from '../inventory/model.js';
import type { SessionFlags } from '../session.js';
import { EXIT } from '../errors.js';
import { certificates } from '../host/fact.js';
import { readFacts } from '../host/read-facts.js';
import { certState, certVerdict, residual, type CertFacts } from '../kube/certs.js';
import type { Io } from '../io.js';
import { table } from '../table.js';
import type { Prompt } from '../ssh/credentials.js';
import type { RunResult } from '../runner.js';

export interface CertsCheckFlags extends SessionFlags { output?: 'text' | 'json' }

interface HostCerts {
  host: string;
  role: string;
  reachable: boolean;
  error?: string;
  facts?: CertFacts;
}

export async function certsCheck(inv: Inventory, o: CertsCheckFlags, io: Io, prompt?: Prompt): Promise<number> {
  const read = await readFacts(inv, o, prompt, { step: 'certs', facts: (spec) => ({ certs: certificates(spec.role === 'control-plane') }) });
  const hosts: HostCerts[] = read.map((r) => (r.values ? { host: r.host, role: r.spec.role, reachable: true, facts: r.values.certs } : { host: r.host, role: r.spec.role, reachable: false, error: r.error }));
  const verdicts = hosts.map((h) => (h.facts ? certVerdict(h.facts, h.role === 'control-plane') : { verdict: 'fail' as const, detail: `unreachable: ${h.error}` }));
  const failed = verdicts.some((v) => v.verdict === 'fail');
  const warnings = hosts.flatMap((h, i) => (verdicts[i]!.verdict === 'warn' ? [`${h.host}: ${verdicts[i]!.detail}`] : []));
  const rotation = hosts.filter((h) => h.facts?.kubeletRotation);
  const notRotating = rotation.filter((h) => !(h.facts!.kubeletRotation!.file && h.facts!.kubeletRotation!.enabled)).map((h) => h.host);
  if (o.output === 'json') {
    io.out(JSON.stringify({
      hosts: hosts.map((h) => ({
        host: h.host, reachable: h.reachable, ...(h.error ? { error: h.error } : {}),
        ...(h.facts ? {
          certificates: h.facts.certs.map((c) => ({ name: c.name, kind: c.kind, ...(c.missing ? { missing: true } : { expires: c.expires, residual: residual(c.residualMs!), residualSeconds: Math.floor(c.residualMs! / 1000) }), state: certState(c) })),
          ...(h.facts.kubeletRotation ? { kubeletRotation: h.facts.kubeletRotation.file && h.facts.kubeletRotation.enabled } : {}),
        } : {}),
      })),
      warnings,
      failed,
    }, null, 2) + '\n');
    return failed ? EXIT.failed : EXIT.ok;
  }
  const rows: string[][] = [['HOST', 'CERTIFICATE', 'EXPIRES', 'RESIDUAL TIME', 'STATE']];
  for (const h of hosts) {
    if (!h.facts) { rows.push([h.host, `unreachable: ${h.error?.replace(`${h.host}: `, '') ?? ''}`, '', '', '']); continue; }
    if (h.facts.noOpenssl) { rows.push([h.host, 'openssl is not installed: nothing read', '', '', '']); continue; }
    for (const c of h.facts.certs) {
      const when = c.expires ? `${c.expires.slice(0, 10)} ${c.expires.slice(11, 16)} UTC` : '-';
      rows.push([h.host, c.kind === 'ca' ? `${c.name} (CA)` : c.name, when, c.missing ? 'missing' : residual(c.residualMs!), certState(c)]);
    }
  }
  io.out(table(rows));
  io.out(`\nKubelet client certificates rotate themselves: the kubelet asks for a new one before the old one runs out. ${notRotating.length ? `Rotation is NOT on for: ${notRotating.join(', ')}` : `Rotation is on for every joined node (${rotation.length}).`}\n`);
  for (const w of warnings) io.err(`kbootstrap: warning: ${w}\n`);
  const bad = hosts.flatMap((h, i) => (verdicts[i]!.verdict === 'fail' ? [`${h.host}: ${verdicts[i]!.detail}`] : []));
  if (bad.length) io.out(`\n${bad.join('\n')}\n`);
  return failed ? EXIT.failed : EXIT.ok;
}

/** certs renew's summary line: which control planes were renewed now, which were fresh, which were not reached. */
export function renewSummary(inv: Inventory, result: RunResult): string {
  const of = (status: string) => result.outcomes.filter((x) => x.step === 'certs-renew' && x.status === status).map((x) => x.host);
  const renewed = of('changed');
  const fresh = of('ok');
  const not = inv.hosts.filter((h) => h.role === 'control-plane' && !renewed.includes(h.name) && !fresh.includes(h.name)).map((h) => h.name);
  return `certificates renewed on: ${renewed.join(', ') || 'none'}`
    + (fresh.length ? `; already fresh: ${fresh.join(', ')}` : '')
    + (not.length ? `; not renewed: ${not.join(', ')}` : '') + '\n';
}
