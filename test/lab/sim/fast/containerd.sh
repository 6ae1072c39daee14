kb_prog=containerd
if [ -n "$kb_fast" ] && [ "$*" = "config default" ]; then
  kb_log "$@"
  # containerd.io 2.x prints config version 3, 1.x version 2 (same choice as runtime.mjs)
  case $(cat /var/lib/kblab/pkgs.d/containerd.io 2>/dev/null) in
    2.*) cat @KBLAB_FAST_DIR@/containerd-default-v3.toml ;;
    *) cat @KBLAB_FAST_DIR@/containerd-default.toml ;;
  esac
  exit 0
fi
