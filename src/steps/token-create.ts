/**
 * `kbootstrap token`'s step: a fresh join command (kubeadm token create
 * --print-join-command), made through the first control plane the cluster
 * answers through; with --control-plane, the control-plane certificates
 * uploaded and a fresh certificate key added. What it makes is a secret: it
 * is kept in the run's TokenSink for the command to print on stdout and
 * nowhere else (the commands' output is secretOutput: never logged, never in
 * an error; a dry run shows placeholders).
 */
import { KbError } from '../errors.js';
import { clusterAnswers } from '../host/fact.js';
import { PLACEHOLDERS, parseCertificateKey, tokenCreateScript, uploadCertsScript } from '../run/join-credentials.js';
import { answeredEarlier, readAnswer, type ThroughControlPlane } from './through-control-plane.js';
import type { Step } from './types.js';

export interface TokenRequest {
  /** kubeadm's --ttl (a Go duration) */
  ttl: string;
  controlPlane: boolean;
}

/** What the step made, for the command to print: the join command and where it was made. */
export interface TokenSink { made?: { host: string; joinCommand: string } }

export function tokenCreateStep(req: TokenRequest, through: ThroughControlPlane, sink: TokenSink): Step<{ refusal?: string }> {
  return {
    id: 'token-create',
    title: req.controlPlane ? 'Make a join command for a control plane (a token, the certificates uploaded, a certificate key)' : 'Make a join command (a bootstrap token)',
    requires: [],
    hosts: (inv) => inv.hosts.filter((h) => through.order.includes(h.name)),
    mandatory: true,
    skip: (ctx) => answeredEarlier(through, ctx),
    check: (ctx) => clusterAnswers.script(ctx.host.os),
    parse(out, ctx) {
      const a = readAnswer(through, ctx.host.name, out.stdout);
      if (!a.answers) return { done: a.done, reason: a.reason, found: a.done ? {} : { refusal: a.reason } };
      if (sink.made?.host === ctx.host.name) return { done: true, reason: `a join command was made through ${ctx.host.name}`, found: {} };
      return { done: false, reason: `the cluster answers through ${ctx.host.name}: each run makes a fresh join command`, found: {} };
    },
    unknown: () => ({}),
    async apply(ctx, found) {
      if (found.refusal) throw new KbError(`token: ${found.refusal}`);
      const endpoint = ctx.cluster.controlPlaneEndpoint;
      const res = await ctx.host.exec(tokenCreateScript(req.ttl, 'kbootstrap token'), {
        mutates: true, secretOutput: true, timeoutMs: 60_000,
        note: 'a fresh join command: printed on stdout only (a secret: never logged)',
        dryRunStdout: `kubeadm join ${endpoint} --token ${PLACEHOLDERS.token} --discovery-token-ca-cert-hash ${PLACEHOLDERS.caCertHash}`,
      });
      let joinCommand = res.stdout.trim().split('\n').map((l) => l.trim()).find((l) => l.startsWith('kubeadm join'));
      if (!joinCommand) throw new KbError(`${ctx.host.name}: kubeadm token create printed no join command`);
      if (req.controlPlane) {
        const key = parseCertificateKey((await ctx.host.exec(uploadCertsScript(), {
          mutates: true, secretOutput: true, timeoutMs: 120_000,
          note: 'upload the control-plane certificates and print a fresh certificate key (a secret, valid 2h)',
          dryRunStdout: PLACEHOLDERS.certificateKey,
        })).stdout);
        joinCommand += ` --control-plane --certificate-key ${key}`;
      }
      through.actedThrough = ctx.host.name;
      sink.made = { host: ctx.host.name, joinCommand };
    },
  };
}
