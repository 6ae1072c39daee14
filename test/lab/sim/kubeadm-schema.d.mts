// Types for kubeadm-schema.mjs, which the simulated kubeadm (plain Node.js in the lab hosts) and the
// unit tests' kubeadm oracle (test/oracles/kubeadm-config.test.ts) share.
export type Schema = { [field: string]: Schema | null };
export const SERVED: (minor: number) => string[];
export const OLD_KNOWN: (minor: number) => Record<string, string>;
export const KINDS: Record<string, Record<string, Schema>>;
export function unknownFields(obj: unknown, schema: Schema, prefix?: string): string[];
