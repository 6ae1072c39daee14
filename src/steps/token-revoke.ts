/**
 * `kbootstrap token revoke`'s step: one bootstrap token deleted (kubeadm
 * token delete ID) through the first control plane the cluster answers
 * through. Its check lists the tokens by id (the secret half never leaves
 * the host): a token that is not there is revoked already, and a second
 * revoke changes nothing.
 */
import { bootstrapTokens, clusterAnswers } from '../host/fact.js';
import { KbError } from '../errors.js';
import { tokenDeleteScript } from '../run/join-credentials.js';
import { answeredEarlier, readAnswer, type ThroughControlPlane } from './through-control-plane.js';
import type { Step } from './types.js';

export function tokenRevokeStep(id: string, through: ThroughControlPlane): Step<{ refusal?: string }> {
  return {
    id: 'token-revoke',
    title: `Revoke bootstrap token ${id}`,
    requires: [],
    hosts: (inv) => inv.hosts.filter((h) => through.order.includes(h.name)),
    mandatory: true,
    skip: (ctx) => answeredEarlier(through, ctx),
    check: (ctx) => [clusterAnswers.script(ctx.host.os), bootstrapTokens.script(ctx.host.os)],
    parse(out, ctx) {
      const a = readAnswer(through, ctx.host.name, out.stdout);
      if (!a.answers) return { done: a.done, reason: a.reason, found: a.done ? {} : { refusal: a.reason } };
      const listed = bootstrapTokens.parse(out.stdout);
      if (listed.error) {
        const refusal = `cannot list the tokens through ${ctx.host.name}: ${listed.error}`;
        return { done: false, reason: refusal, found: { refusal } };
      }
      if (!listed.tokens.some((t) => t.id === id)) return { done: true, reason: `no token ${id} on the cluster (revoked, or expired)`, found: {} };
      return { done: false, reason: `token ${id} is on the cluster`, found: {} };
    },
    unknown: () => ({}),
    async apply(ctx, found) {
      if (found.refusal) throw new KbError(`token revoke: ${found.refusal}`);
      through.actedThrough = ctx.host.name;
      await ctx.host.exec(tokenDeleteScript([id]), { mutates: true, note: `delete bootstrap token ${id}` });
    },
  };
}
