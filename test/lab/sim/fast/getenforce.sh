kb_prog=getenforce
if [ -n "$kb_fast" ] && [ $# = 0 ]; then
  kb_log
  if [ ! -f /sys/fs/selinux/enforce ]; then echo Disabled
  elif [ "$(cat /sys/fs/selinux/enforce)" = 1 ]; then echo Enforcing
  else echo Permissive
  fi
  exit 0
fi
