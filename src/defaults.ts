/** Defaults that more than one place needs: the CLI, the inventory loader, the dry run and the steps read them here. */
export const DEFAULTS = {
  // add-on releases (calico, flannel, kube-vip, cri-dockerd) are chosen per minor by the versions table (src/versions)
  /** limit for a remote command that has none of its own (--command-timeout) */
  commandTimeoutSeconds: 600,
  /** how long verify waits for Ready nodes and running kube-system pods (--verify-timeout) */
  verifyTimeoutSeconds: 300,
  /** SSH login user and port when neither the inventory nor ~/.ssh/config says */
  sshUser: 'root',
  sshPort: 22,
  /** per SSH connection attempt (ssh.connectTimeoutSeconds) */
  connectTimeoutSeconds: 10,
  connectAttempts: 3,
  /** hosts worked on at once (--concurrency) */
  concurrency: 10,
  /** lifetime of the join tokens `up` creates (deleted again when the run ends) */
  joinTokenTtl: '30m',
} as const;
