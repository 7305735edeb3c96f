#!/bin/sh
# A stand-in for journalctl (POST /v2/journal-logs' tests): prints its
# arguments, one "arg:<a>" line each; with --follow it then prints "tick"
# lines until it is killed. It records its pid as $FAKE_JOURNAL_DIR/pid.<pid>
# so tests can check it was killed and reaped.
echo $$ > "$FAKE_JOURNAL_DIR/pid.$$"
for a in "$@"; do echo "arg:$a"; done
echo "noise" >&2
case " $* " in
  *" --follow "*) while :; do echo tick; sleep 0.1; done ;;
esac
