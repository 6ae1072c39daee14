kb_prog=containerd
if [ -n "$kb_fast" ] && [ "$*" = "config default" ]; then
  kb_log "$@"
  cat @KBLAB_FAST_DIR@/containerd-default.toml
  exit 0
fi
