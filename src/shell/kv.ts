/** Check snippets print key=value lines; these read them. */

/** key=value lines. Repeated keys collect in order. */
export function kv(stdout: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const k = line.slice(0, i);
    if (!/^[a-z][a-z0-9_.-]*$/.test(k)) continue;
    const list = m.get(k) ?? [];
    list.push(line.slice(i + 1));
    m.set(k, list);
  }
  return m;
}

export function first(m: Map<string, string[]>, key: string): string | undefined {
  return m.get(key)?.[0];
}
