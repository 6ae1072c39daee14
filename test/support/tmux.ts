import { execFileSync } from 'node:child_process';

/**
 * A tmux server on a socket of the test's own that lives as long as the test file: a session that only sleeps
 * keeps it up. Without it the server exits when a test kills its last session, and the next test's new-session
 * can reach the server while it is going away ("server exited unexpectedly": seen in the unit project under load).
 * The file's afterAll still ends it with kill-server.
 */
export function keepTmuxServer(socket: string): void {
  execFileSync('tmux', ['-L', socket, 'new-session', '-d', '-s', 'kb-keep', 'sleep 86400']);
}
