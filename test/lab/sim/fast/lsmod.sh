kb_prog=lsmod
if [ -n "$kb_fast" ] && [ $# = 0 ]; then
  kb_log
  echo 'Module                  Size  Used by'
  awk '{ printf "%-24s%8s  %s\n", $1, $2, $3 }' /var/lib/kblab/modules
  exit 0
fi
