/**
 * The one way the read-only commands (status, check, certs check, token
 * list) read hosts: a set of facts (src/host/fact.ts) per host, sent as one
 * script in one round trip, each fact's output read by its own parser into
 * a typed value. Each fact runs in its own subshell: one that exits, or
 * fails, leaves the others' lines. The connections are the Session's
 * (credentials, OpenSSH configuration, the run log; the run lock observed,
 * never taken).
 */
import type { HostSpec, Inventory } from '../inventory/model.js';
import type { OsFamily } from '../os/types.js';
import { Session, type SessionFlags } from '../session.js';
import type { Prompt } from '../ssh/credentials.js';
import type { Host } from './host.js';
import { osFamily } from '../os/index.js';
import { clusterAnswers, type ClusterAnswers, type Fact } from './fact.js';

export type Facts = Readonly<Record<string, Fact<unknown>>>;
export type FactValues<F extends Facts> = { [K in keyof F]: F[K] extends Fact<infer T> ? T : never };

/** The script that asks every fact of the set, each in a subshell of its own. */
export function factsScript(facts: Facts, os: OsFamily): string {
  return Object.values(facts).map((f) => `(\n${f.script(os).trimEnd()}\n) || true\n`).join('');
}

/** Each fact's value, read by its own parser from the one output. */
export function parseFacts<F extends Facts>(facts: F, stdout: string): FactValues<F> {
  return Object.fromEntries(Object.entries(facts).map(([k, f]) => [k, f.parse(stdout)])) as FactValues<F>;
}

export interface HostRead<V> {
  spec: HostSpec;
  host: string;
  /** the connected host (how it was reached, its OS), when it was */
  connected?: Host;
  /** why it could not be reached */
  error?: string;
  /** firstAnswering: whether the cluster answered through it */
  answers?: ClusterAnswers;
  /** what its facts said (firstAnswering: only on the control plane that answered) */
  values?: V;
  /** when the round trip was sent and answered (ms since the epoch): a host's clock reads against their middle */
  sent?: number;
  received?: number;
}

/** Ask one connected host its facts, in one round trip. */
export async function askHost<F extends Facts>(h: Host, facts: F, step: string): Promise<{ values: FactValues<F>; stdout: string; sent: number; received: number }> {
  const sent = Date.now();
  const r = await h.exec(factsScript(facts, osFamily(h.facts)), { step, mutates: false, allowFailure: true });
  return { values: parseFacts(facts, r.stdout), stdout: r.stdout, sent, received: Date.now() };
}

export interface ReadOptions<F extends Facts> {
  /** the hosts asked (default: every host), in inventory order */
  hosts?: HostSpec[];
  /** the facts asked of each host; REACHED: the hosts connected (status reads the cluster through the first control plane among them) */
  facts: (spec: HostSpec, reached: ReadonlySet<string>) => F;
  /** the run log's name for these reads */
  step: string;
  /**
   * Ask the hosts one at a time, with whether the cluster answers through each, and stop at the
   * first that does (token list: the cluster read through one control plane).
   */
  firstAnswering?: boolean;
}

/** Read the facts of every host (in parallel; firstAnswering: in turn), one round trip each; in inventory order. */
export async function readFacts<F extends Facts>(inv: Inventory, flags: SessionFlags, prompt: Prompt | undefined, o: ReadOptions<F>): Promise<HostRead<FactValues<F>>[]> {
  const s = await Session.open(inv, flags, prompt, o.hosts ?? inv.hosts);
  try {
    return await readFactsThrough(s, inv, o);
  } finally {
    await s.close();
  }
}

/** How readFacts reaches hosts: a Session (or a test's double). */
export type Reach = Pick<Session, 'connect' | 'host' | 'error'>;

export async function readFactsThrough<F extends Facts>(s: Reach, inv: Inventory, o: ReadOptions<F>): Promise<HostRead<FactValues<F>>[]> {
  const specs = o.hosts ?? inv.hosts;
  const out: HostRead<FactValues<F>>[] = specs.map((spec) => ({ spec, host: spec.name }));
  if (o.firstAnswering) {
    for (const r of out) {
      await s.connect([r.spec]);
      await readOne(s, r, o.facts(r.spec, new Set([r.host])), o.step, true);
      if (r.answers?.answers) break;
    }
  } else {
    await s.connect(specs);
    const reached = new Set(specs.filter((x) => s.host(x.name)).map((x) => x.name));
    await Promise.all(out.map((r) => readOne(s, r, o.facts(r.spec, reached), o.step, false)));
  }
  return out;
}

/** One host's round trip; with `answering`, the cluster's answer goes first and the facts count only when it answers. */
async function readOne<F extends Facts>(s: Reach, r: HostRead<FactValues<F>>, facts: F, step: string, answering: boolean): Promise<void> {
  const h = s.host(r.host);
  if (!h) { r.error = s.error(r.host) ?? 'not reachable'; return; }
  r.connected = h;
  const asked: Facts = answering ? { [ANSWERS]: clusterAnswers, ...facts } : facts;
  const got = await askHost(h, asked, step);
  r.sent = got.sent;
  r.received = got.received;
  const { [ANSWERS]: answers, ...values } = got.values as Record<string, unknown>;
  if (answering) {
    r.answers = answers as ClusterAnswers;
    if (!r.answers.answers) return;
  }
  r.values = values as FactValues<F>;
}

/** the key of the cluster's answer among a host's facts (no command's fact has it) */
const ANSWERS = ' answers';
