kb_prog=getenforce
if [[ -n $kb_fast && $# = 0 ]]; then
  kb_log
  if [[ ! -f /sys/fs/selinux/enforce ]]; then echo Disabled
  elif kb_slurp kb_e /sys/fs/selinux/enforce && [[ $kb_e = 1 ]]; then echo Enforcing
  else echo Permissive
  fi
  exit 0
fi
