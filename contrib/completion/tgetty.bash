# bash completion for tgetty(8).
# Generated from the command definitions in src/cli/main.ts by renderBashCompletion() in src/cli/completion.ts.
# Do not edit by hand; after a build, regenerate with: node scripts/generate-docs.mjs
# Install as /usr/local/share/bash-completion/completions/tgetty (or source it from ~/.bashrc).

# Sets _tgetty_o (options), _tgetty_a (options that take a value) and _tgetty_c
# (subcommands) for a command path such as /config/check.
_tgetty_spec() {
  case $1 in
    '') _tgetty_o='-x -s -r -b -p -n -R -i -D -F -C -m -a -k -S -I --config-dir --lock-dir --log-dir --utmp --wtmp --run-dir --records --log-format -V -h --help' _tgetty_a='-x -s -p -n -R -i -C -m -k -S -I --config-dir --lock-dir --log-dir --utmp --wtmp --run-dir --records --log-format' _tgetty_c='config sim demo serve sendfax status reload calls faxes fax token version' ;;
    '/config') _tgetty_o='-h --help' _tgetty_a='' _tgetty_c='check' ;;
    '/config/check') _tgetty_o='--port --json --strict -x -s -r -b -p -n -R -i -D -F -C -m -a -k -S -I --config-dir --lock-dir --log-dir --utmp --wtmp --run-dir --records -h --help' _tgetty_a='--port -x -s -p -n -R -i -C -m -k -S -I --config-dir --lock-dir --log-dir --utmp --wtmp --run-dir --records' _tgetty_c='' ;;
    '/sim') _tgetty_o='--lines --dir --telnet --host --raw --personality --fax --fax-machine --fax-call --fax-call-delay --fax-id --transcripts --cooldown --max-calls-per-minute --max-calls-per-minute-per-caller --busy-out --queue --rings --connect-banner --busy-banner --no-answer-banner --phonebook --dial-speed --pace --serial --lock-dir --ip232 --no-dialout -h --help' _tgetty_a='--lines --dir --telnet --host --personality --fax-machine --fax-call --fax-call-delay --fax-id --cooldown --max-calls-per-minute --max-calls-per-minute-per-caller --queue --rings --connect-banner --busy-banner --no-answer-banner --phonebook --dial-speed --serial --lock-dir --ip232' _tgetty_c='status' ;;
    '/sim/status') _tgetty_o='--dir --json -h --help' _tgetty_a='--dir' _tgetty_c='' ;;
    '/demo') _tgetty_o='--port --lines -x --dir --run-dir --records --log-dir -h --help' _tgetty_a='--port --lines -x --dir --run-dir --records --log-dir' _tgetty_c='' ;;
    '/serve') _tgetty_o='--lines --metrics-port --metrics-host --metrics-allow-remote --no-records --host-name --http --http-auth-file --peer --peer-token-file --records-spool --log-format --fax-queue --fax-sender -x -s -r -b -p -n -R -i -D -F -C -m -a -k -S -I --config-dir --lock-dir --log-dir --utmp --wtmp --run-dir --records -h --help' _tgetty_a='--lines --metrics-port --metrics-host --host-name --http --http-auth-file --peer --peer-token-file --records-spool --log-format --fax-queue --fax-sender -x -s -p -n -R -i -C -m -k -S -I --config-dir --lock-dir --log-dir --utmp --wtmp --run-dir --records' _tgetty_c='' ;;
    '/sendfax') _tgetty_o='-v -x -n -h -p -l -m -d -r -S -D -M -s -C -I -R -A --config-dir --lock-dir --log-dir -h --help' _tgetty_a='-x -h -l -m -d -D -M -s -C -I -R -A --config-dir --lock-dir --log-dir' _tgetty_c='' ;;
    '/status') _tgetty_o='--run-dir --json -h --help' _tgetty_a='--run-dir' _tgetty_c='' ;;
    '/reload') _tgetty_o='--run-dir -h --help' _tgetty_a='--run-dir' _tgetty_c='' ;;
    '/calls') _tgetty_o='--records --config-dir --host --line --since --outcome --limit --summary --json -h --help' _tgetty_a='--records --config-dir --host --line --since --outcome --limit' _tgetty_c='' ;;
    '/faxes') _tgetty_o='--records --spool-in --config-dir --line --since --limit --json -h --help' _tgetty_a='--records --spool-in --config-dir --line --since --limit' _tgetty_c='' ;;
    '/fax') _tgetty_o='-h --help' _tgetty_a='' _tgetty_c='queue list remove run' ;;
    '/fax/queue') _tgetty_o='-n --mail --no-mail --at --spool-out -h --help' _tgetty_a='--mail --at --spool-out' _tgetty_c='' ;;
    '/fax/list') _tgetty_o='--json --spool-out -h --help' _tgetty_a='--spool-out' _tgetty_c='' ;;
    '/fax/remove') _tgetty_o='--spool-out -h --help' _tgetty_a='--spool-out' _tgetty_c='' ;;
    '/fax/run') _tgetty_o='--sender -l --line --max-costly --max-tries --retry-delay --mail-program --no-mail -q --quiet --spool-out --config-dir --lock-dir --log-dir --utmp --wtmp --run-dir --records -h --help' _tgetty_a='--sender -l --line --max-costly --max-tries --retry-delay --mail-program --spool-out --config-dir --lock-dir --log-dir --utmp --wtmp --run-dir --records' _tgetty_c='' ;;
    '/token') _tgetty_o='-h --help' _tgetty_a='' _tgetty_c='' ;;
    '/version') _tgetty_o='-h --help' _tgetty_a='' _tgetty_c='' ;;
    *) _tgetty_o='' _tgetty_a='' _tgetty_c='' ;;
  esac
}

_tgetty() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local path="" tty="" skip="" i w
  local _tgetty_o _tgetty_a _tgetty_c
  _tgetty_spec ""
  # Find the subcommand path in the words before the cursor, skipping option values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=${COMP_WORDS[i]}
    if [[ -n $skip ]]; then skip=""; continue; fi
    if [[ $w == -* ]]; then
      [[ " $_tgetty_a " == *" $w "* ]] && skip=1
    elif [[ -z $tty && " $_tgetty_c " == *" $w "* ]]; then
      path="$path/$w"
      _tgetty_spec "$path"
    elif [[ -z $path ]]; then
      tty=$w # mgetty mode: tgetty [options] ttyS3
    fi
  done
  if [[ " $_tgetty_a " == *" $prev "* ]]; then
    case $prev in
      --config-dir|--dir|--fax-queue|--lock-dir|--log-dir|--run-dir|--spool-out|-d) COMPREPLY=($(compgen -d -- "$cur")) ;;
      --busy-banner|--connect-banner|--http-auth-file|--no-answer-banner|--peer-token-file|--phonebook|--records|--records-spool|--utmp|--wtmp|-S|-h|-i) COMPREPLY=($(compgen -f -- "$cur")) ;;
      *) COMPREPLY=() ;;
    esac
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$_tgetty_o" -- "$cur"))
  elif [[ -z $path && -z $tty ]]; then
    # A subcommand, or a line for mgetty mode (ttyS0, ttyUSB0, ...; not the consoles tty0...).
    local lines; lines=$(compgen -G '/dev/tty[A-Z]*'); lines=${lines//\/dev\//}
    COMPREPLY=($(compgen -W "$_tgetty_c $lines" -- "$cur"))
  elif [[ -z $tty ]]; then
    COMPREPLY=($(compgen -W "$_tgetty_c" -- "$cur"))
  else
    COMPREPLY=() # after the line only options follow
  fi
  return 0
}
complete -F _tgetty tgetty
