kb_prog=systemctl
if [ -n "$kb_fast" ]; then
  kb_q=
  kb_verb=$1
  kb_unit=
  case "$#:$1:$2" in
    2:is-active:*|2:is-enabled:*) kb_unit=$2 ;;
    3:is-active:--quiet|3:is-enabled:--quiet) kb_q=1 kb_unit=$3 ;;
  esac
  case "$kb_unit" in
    ''|*[!A-Za-z0-9@._-]*) ;;
    *)
      case "$kb_unit" in *.*) ;; *) kb_unit=$kb_unit.service ;; esac
      installed=0 enabled=0 active=0 masked=0
      if [ -f "/var/lib/kblab/units.d/$kb_unit" ]; then . "/var/lib/kblab/units.d/$kb_unit"; fi
      kb_log "$@"
      if [ "$kb_verb" = is-active ]; then
        if [ "$installed" = 1 ] && [ "$active" = 1 ]; then [ -n "$kb_q" ] || echo active; exit 0; fi
        [ -n "$kb_q" ] || echo inactive
        exit 3
      fi
      if [ "$installed" != 1 ]; then echo "Failed to get unit file state for $kb_unit: No such file or directory" >&2; exit 1; fi
      if [ "$masked" = 1 ]; then [ -n "$kb_q" ] || echo masked; exit 1; fi
      if [ "$enabled" = 1 ]; then [ -n "$kb_q" ] || echo enabled; exit 0; fi
      [ -n "$kb_q" ] || echo disabled
      exit 1
      ;;
  esac
fi
