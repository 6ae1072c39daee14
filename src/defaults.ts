/** Defaults that more than one place needs: the CLI, the inventory loader, the dry run and the steps read them here. */
export const DEFAULTS = {
  // add-on releases (calico, flannel, kube-vip, cri-dockerd) are chosen per minor by the versions table (src/versions)
  /** limit for a remote command that has none of its own (--command-timeout) */
  commandTimeoutSeconds: 600,
  /** how long verify waits for Ready nodes and running kube-system pods (--verify-timeout) */
  verifyTimeoutSeconds: 300,
  /**
   * SSH login user, port and the limit of one connection attempt (ssh.connectTimeoutSeconds) when
   * neither the inventory nor OpenSSH's configuration says: the inventory loader and the config
   * resolver both read these (one definition)
   */
  ssh: { user: 'root', port: 22, connectTimeoutSeconds: 10 },
  connectAttempts: 3,
  /** hosts worked on at once (--concurrency) */
  concurrency: 10,
  /** lifetime of the join tokens `up` creates (deleted again when the run ends) */
  joinTokenTtl: '30m',
} as const;
