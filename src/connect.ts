/** Connect to a host over SSH and read its OS facts in one round trip. */
import type { HostSpec } from './inventory/model.js';
import { Host } from './host/host.js';
import { factsScript, parseFactsOutput, UnsupportedOsError } from './host/facts.js';
import { sshConnect, type SshOptions } from './ssh/transport.js';
import { KbError } from './errors.js';
import { tail } from './transport/remote-error.js';

export async function connectHost(spec: HostSpec, o: SshOptions): Promise<Host> {
  const t = await sshConnect(spec, o);
  try {
    const res = await t.exec(factsScript(), { step: 'connect', mutates: false });
    if (res.code !== 0) throw new KbError(`${spec.name}: cannot read /etc/os-release: ${tail(res.stderr, 2)}`);
    try {
      return new Host(spec, t, parseFactsOutput(res.stdout));
    } catch (e) {
      if (e instanceof UnsupportedOsError) throw new KbError(`${spec.name}: ${e.message}`);
      throw e;
    }
  } catch (e) {
    await t.close();
    throw e;
  }
}
