# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kbridge_global_optspecs
    string join \n config= q/quiet v/verbose db= h/help V/version
end

function __fish_kbridge_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kbridge_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kbridge_using_subcommand
    set -l cmd (__fish_kbridge_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kbridge -n "__fish_kbridge_needs_command" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_needs_command" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_needs_command" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_needs_command" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_needs_command" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_needs_command" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "jobs" -d 'List recorded jobs, newest first'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "show" -d 'Show every stored field of one job'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "plans" -d 'List recorded plans, newest first, with how many of their jobs are done and what the runner\'s plan callback said'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "results" -d 'Show the KCIDB document produced for a job'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "logs" -d 'Print a job\'s log from its runner: a build\'s log, or a test\'s console, streamed'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "cancel" -d 'Ask the runner to cancel jobs that have not finished (exit status 1 if any could not be)'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "track" -d 'Follow jobs kbridge did not schedule (from the runner\'s own client or web UI) to their KCIDB documents'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "report" -d 'Queue results from a system that is not a runner, or send them, signed, to another kbridge'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "config" -d 'Show the resolved settings and where each one came from'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "store" -d 'Copy a whole store (an SQLite file or a PostgreSQL database) into an empty one'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "inbox" -d 'List received callbacks, or process one again'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "artefacts" -d 'List what a job produced, or download it'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "submit" -d 'Send pending KCIDB documents to KCIDB now, then exit'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "outbox" -d 'List KCIDB documents and their delivery; retry or check them'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "listen" -d 'Receive runners\' completion callbacks and write KCIDB documents'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "wait" -d 'Wait for jobs to finish, polling their runners, and sum up their results (exit status 0 pass, 1 fail, 3 infrastructure, 124 timeout)'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "doctor" -d 'Check the setup: one line per check with what to do; exit status 0 only when everything the configuration needs is fine'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "schedule" -d 'Submit a build, test or boot test to a runner and record it'
complete -c kbridge -n "__fish_kbridge_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -l kind -d 'Only jobs of this kind' -r -f -a "build\t''
test\t''
boot\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -l state -d 'Only jobs in this state' -r -f -a "submitting\t'recorded; kbridge stopped before hearing back (the job may exist on the runner)'
submitted\t'the runner accepted the job; its uid is stored; no result yet'
failed\t'the runner refused the job or could not be reached: it does not exist there'
unknown\t'the request may have reached the runner but no answer came: check the runner before scheduling again'
received\t'the runner reported the job finished; its results are being fetched'
completed\t'results are in and the KCIDB document is written (RESULT says whether the kernel passed)'
errored\t'the job finished but its results could not all be read; a document is written from what is known'
canceled\t'the runner canceled the job before it finished (`kbridge cancel`); its KCIDB document says MISS'"
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -l limit -d 'Show at most this many jobs' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -l plan -d 'Only the jobs of this plan (its uid, or its id from `kbridge plans`)' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -l json -d 'Print a JSON array instead of a table'
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kbridge -n "__fish_kbridge_using_subcommand jobs" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand show" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand show" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand show" -l json -d 'Print the job as one JSON object'
complete -c kbridge -n "__fish_kbridge_using_subcommand show" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand show" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand show" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand show" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand plans" -l limit -d 'Show at most this many plans' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand plans" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand plans" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand plans" -l json -d 'Print a JSON array instead of a table'
complete -c kbridge -n "__fish_kbridge_using_subcommand plans" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand plans" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand plans" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand plans" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand results" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand results" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand results" -l json -d 'Print the KCIDB document itself'
complete -c kbridge -n "__fish_kbridge_using_subcommand results" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand results" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand results" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand results" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand logs" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand logs" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand logs" -l raw -d 'The log file as the runner keeps it (a test\'s whole LAVA log)'
complete -c kbridge -n "__fish_kbridge_using_subcommand logs" -l json -d 'Print where the log is (a JSON object with its URL) instead of the log itself'
complete -c kbridge -n "__fish_kbridge_using_subcommand logs" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand logs" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand logs" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand logs" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand cancel" -l plan -d 'Cancel every unfinished job of this plan instead (its uid, or kbridge\'s plan id from `kbridge plans`)' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand cancel" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand cancel" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand cancel" -l json -d 'Print a JSON object saying what happened to each job instead of lines'
complete -c kbridge -n "__fish_kbridge_using_subcommand cancel" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand cancel" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand cancel" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand cancel" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand track" -l kind -d 'What the uids are, when known (else a test is looked for first)' -r -f -a "build\t''
test\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand track" -l build-id -d 'The build a test ran on, when the runner does not say: its KCIDB id (origin:...), or a build kbridge knows' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand track" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand track" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand track" -l json -d 'Print the job records as a JSON array'
complete -c kbridge -n "__fish_kbridge_using_subcommand track" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand track" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand track" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand track" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand report" -l to -d 'Send the results, signed, to the kbridge listening at this base URL (POST {URL}/results) instead of queueing them here' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand report" -l source -d 'The reporting source\'s name, as the receiving kbridge knows it' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand report" -l secret-file -d 'File with the source\'s HMAC secret [default: report.sources.NAME.secret_file]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand report" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand report" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand report" -l json -d 'Print the outcome as one JSON object'
complete -c kbridge -n "__fish_kbridge_using_subcommand report" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand report" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand report" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand report" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand config" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand config" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand config" -l json -d 'Print the settings as one JSON object'
complete -c kbridge -n "__fish_kbridge_using_subcommand config" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand config" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand config" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand config" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and not __fish_seen_subcommand_from copy help" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and not __fish_seen_subcommand_from copy help" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and not __fish_seen_subcommand_from copy help" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and not __fish_seen_subcommand_from copy help" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and not __fish_seen_subcommand_from copy help" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and not __fish_seen_subcommand_from copy help" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and not __fish_seen_subcommand_from copy help" -f -a "copy" -d 'Copy every job, plan, callback, document and delivery from one store into another that holds none, checked (row counts and a digest of every value) before it says done'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and not __fish_seen_subcommand_from copy help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from copy" -l from -d 'The store to copy: an SQLite file or a postgresql:// URL' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from copy" -l to -d 'The store to copy into, empty: an SQLite file (created) or a postgresql:// URL' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from copy" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from copy" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from copy" -l json -d 'Print what was copied as one JSON object'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from copy" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from copy" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from copy" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from copy" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "copy" -d 'Copy every job, plan, callback, document and delivery from one store into another that holds none, checked (row counts and a digest of every value) before it says done'
complete -c kbridge -n "__fish_kbridge_using_subcommand store; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -l limit -d 'Show at most this many callbacks' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -l json -d 'Print a JSON array instead of a table'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -f -a "prune" -d 'Remove what need not be kept: refused and duplicate callbacks, and unmatched ones past unmatched_ttl; never a pending one'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -f -a "replay" -d 'Process a stored callback again from its stored bytes'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and not __fish_seen_subcommand_from prune replay help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from prune" -l older-than -d 'Only refused and duplicate callbacks received longer ago than this, such as 30d [default: all of them]' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from prune" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from prune" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from prune" -l dry-run -d 'Say how many would go, and remove nothing'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from prune" -l json -d 'Print a JSON object instead of a sentence'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from prune" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from prune" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from replay" -l output-dir -d 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from replay" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from replay" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from replay" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from replay" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from replay" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from replay" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove what need not be kept: refused and duplicate callbacks, and unmatched ones past unmatched_ttl; never a pending one'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from help" -f -a "replay" -d 'Process a stored callback again from its stored bytes'
complete -c kbridge -n "__fish_kbridge_using_subcommand inbox; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kbridge -n "__fish_kbridge_using_subcommand artefacts" -l download -d 'Fetch every file into DIR/UID/ instead of listing them (each within --max-file-bytes, all within --max-job-bytes); exit status 1 when any was not fetched, each named on stderr' -r -f -a "(__fish_complete_directories)"
complete -c kbridge -n "__fish_kbridge_using_subcommand artefacts" -l max-file-bytes -d 'Most bytes `kbridge artefacts --download` writes of one file; a larger one is cut, removed and named [env: KBRIDGE_DOWNLOAD_MAX_FILE] [default: 4GiB]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand artefacts" -l max-job-bytes -d 'Most bytes `kbridge artefacts --download` writes of one job\'s files together [env: KBRIDGE_DOWNLOAD_MAX_JOB] [default: 16GiB]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand artefacts" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand artefacts" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand artefacts" -l json -d 'Print a JSON object (the files, and with --download what became of each) instead of lines'
complete -c kbridge -n "__fish_kbridge_using_subcommand artefacts" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand artefacts" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand artefacts" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand artefacts" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -l file -d 'Queue this KCIDB document (made elsewhere; it is checked first) before sending' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -l kcidb-url -d 'KCIDB\'s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -l kcidb-token-file -d 'File holding the KCIDB token (a JWT from KernelCI)' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -l dry-run -d 'Show what would be sent; send and change nothing'
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -l json -d 'Print the summary as one JSON object'
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand submit" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -l state -d 'Only documents in this delivery state' -r -f -a "pending\t''
submitted\t''
failed\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -l json -d 'Print JSON instead of a table'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -f -a "retry" -d 'Put failed documents back in the queue'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -f -a "check" -d 'Ask KCIDB whether it ingested what was submitted'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and not __fish_seen_subcommand_from retry check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from retry" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from retry" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from retry" -l all-failed -d 'Every failed document'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from retry" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from retry" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from retry" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from retry" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from check" -l kcidb-url -d 'KCIDB\'s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from check" -l kcidb-token-file -d 'File holding the KCIDB token (a JWT from KernelCI)' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from check" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from check" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from check" -l json -d 'Print JSON instead of a table'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "retry" -d 'Put failed documents back in the queue'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "check" -d 'Ask KCIDB whether it ingested what was submitted'
complete -c kbridge -n "__fish_kbridge_using_subcommand outbox; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l timeout -d 'With --exit-when-done: stop after this long (exit status 124), such as 2h' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l bind -d 'Address `kbridge listen` listens on; port 0 picks a free port [env: KBRIDGE_BIND] [default: 127.0.0.1:8080]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l output-dir -d 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l max-body -d 'Largest callback body accepted [env: KBRIDGE_MAX_BODY] [default: 1048576]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l poll-after -d 'How long `kbridge listen` waits for a job\'s callback before it asks the runner (then at a slower pace) [env: KBRIDGE_POLL_AFTER] [default: 1800]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l max-connections-per-client -d 'Most connections one client address may hold open; 0 for no limit (behind a reverse proxy every connection comes from its address) [env: KBRIDGE_MAX_CONNECTIONS_PER_CLIENT] [default: 64]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l ops-bind -d 'A second address serving only /healthz, /readyz and /metrics, out of reach of callback traffic [env: KBRIDGE_OPS_BIND]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l log-format -d 'How `kbridge listen` writes its log lines: human, or one JSON object per line [env: KBRIDGE_LOG_FORMAT] [default: human]' -r -f -a "human\t''
json\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l kcidb-url -d 'KCIDB\'s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l kcidb-token-file -d 'File holding the KCIDB token (a JWT from KernelCI)' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l tuxsuite-public-key -d 'TuxSuite\'s OpenSSH public key(s) that sign callbacks: key lines, or files of them (`tuxsuite keys get`); repeatable, for key rotation' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l allow-artifact-host -d 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API\'s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l exit-when-done -d 'Exit once no job in the store is waiting for its results, with the exit status `kbridge wait` gives'
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l insecure-skip-verify -d 'Accept callbacks without checking their signatures. For development only: anyone who can reach the listener can then forge results'
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -l no-submit -d 'Keep the documents for `kbridge submit` instead of submitting them to KCIDB (sets kcidb.submit = false)'
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand listen" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -l plan -d 'Wait for every job of this plan (its uid, or its id from `kbridge plans`)' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -l timeout -d 'Stop waiting after this long (exit status 124), such as 90m or 2h' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -l junit -d 'Write the results as JUnit XML to this file (one testsuite per job, one testcase per KCIDB test)' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -l poll-interval -d 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -l allow-artifact-host -d 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API\'s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -l bisect -d 'Exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit'
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -l json -d 'Print the summary as one JSON object'
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand wait" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -l bind -d 'Address `kbridge listen` listens on; port 0 picks a free port [env: KBRIDGE_BIND] [default: 127.0.0.1:8080]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -l output-dir -d 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -l ops-bind -d 'A second address serving only /healthz, /readyz and /metrics, out of reach of callback traffic [env: KBRIDGE_OPS_BIND]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -l kcidb-url -d 'KCIDB\'s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -l kcidb-token-file -d 'File holding the KCIDB token (a JWT from KernelCI)' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -l tuxsuite-public-key -d 'TuxSuite\'s OpenSSH public key(s) that sign callbacks: key lines, or files of them (`tuxsuite keys get`); repeatable, for key rotation' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -l allow-artifact-host -d 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API\'s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -l json -d 'Print a JSON object instead of one line per check'
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand doctor" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -f -a "build" -d 'Build a kernel tree'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -f -a "plan" -d 'Submit a plan file: builds, and tests chained to them'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -f -a "test" -d 'Run tests on a built kernel (a boot always runs first)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -f -a "boot" -d 'Boot a built kernel and run nothing else'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and not __fish_seen_subcommand_from build plan test boot help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l tree -d 'Git repository to build (https://, http:// or git://)' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l branch -d 'Branch or tag to build' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l sha -d 'Commit to build (full or abbreviated hash)' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l arch -d 'Target architecture' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l toolchain -d 'Toolchain, such as gcc-13 or clang-18' -r -f -a "gcc-10\t''
gcc-11\t''
gcc-12\t''
gcc-13\t''
gcc-14\t''
clang-15\t''
clang-16\t''
clang-17\t''
clang-18\t''
clang-19\t''
clang-nightly\t''
korg-gcc-13\t''
korg-clang-18\t''
rustgcc\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l kconfig -d 'Base configuration: a defconfig name or the URL of a config file' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l fragment -d 'Configuration fragment applied on top (CONFIG_X=y or a fragment URL); repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l target -d 'Make target to build instead of the runner\'s default; repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l make-var -d 'Make variable KEY=VALUE (W=1, LLVM=1); repeatable, every one kept' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l env -d 'Build environment variable KEY=VALUE (KCFLAGS=-Werror); repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l build-name -d 'A name for the build, shown by the runner' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l kernel-image -d 'The kernel image to build (Image.gz, bzImage) instead of the default' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l image-sha -d 'Pin the build container image to this sha256 (64 hex digits)' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l notify-email -d 'Mail the result to this address; repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l patch-series -d 'An unmerged patch series to apply first: an mbox, .patch or .txt file, a directory or .tar.gz with a quilt series file, a URL, or a lore link or message-id (needs b4)' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l timeout -d 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner\'s time limit for one of its tests (boot=30); repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l junit -d 'With --wait: write the results as JUnit XML to this file' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l callback-url -d 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l runner -d 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]' -r -f -a "tuxsuite\t''
lava\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l poll-interval -d 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l allow-artifact-host -d 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API\'s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l lab -d 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l git-head -d 'Build the local checkout\'s HEAD: the repository is its remote (git config tuxsuite.remote, else origin) as an https URL, and the commit must be on that remote'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l push -d 'With --git-head: push HEAD to `refs/tuxsuite/<sha>` on the remote first'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l no-cache -d 'Build without the runner\'s build cache'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l private -d 'Ask the runner to keep the results private'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l dry-run -d 'Print the request that would be sent; send and store nothing'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l json -d 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l wait -d 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l bisect -d 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -l validate -d 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from build" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l job -d 'Only the plan\'s jobs with this name (`*` matches anything); repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l build-id -d 'The build the plan\'s standalone tests (those without a build of the plan) test: its KCIDB id, or a build kbridge knows' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l notify-email -d 'Mail the whole plan\'s result to this address (once, not per job); repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l tree -d 'Repository of the plan\'s builds that name no git_repo (https://, http:// or git://)' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l branch -d 'Branch or tag of the builds that name neither git_ref nor git_sha' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l sha -d 'Commit of the builds that name neither git_ref nor git_sha' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l patch-series -d 'A patch series applied by every build that names no patch_series of its own (the forms `schedule build --patch-series` takes)' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l parameter -d 'Test parameter KEY=VALUE added to every test of the plan, sanity tests included, unless the test sets KEY itself; repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l timeout -d 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner\'s time limit for one of its tests (boot=30); repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l junit -d 'With --wait: write the results as JUnit XML to this file' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l callback-url -d 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l runner -d 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]' -r -f -a "tuxsuite\t''
lava\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l poll-interval -d 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l allow-artifact-host -d 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API\'s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l lab -d 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l git-head -d 'Builds that name no repository build the local checkout\'s HEAD (as `schedule build --git-head` does)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l push -d 'With --git-head: push HEAD to `refs/tuxsuite/<sha>` on the remote first'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l no-cache -d 'Builds skip the runner\'s cache unless the plan says otherwise'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l private -d 'Ask the runner to keep the results private'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l dry-run -d 'Print the request that would be sent; send and store nothing'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l json -d 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l wait -d 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l bisect -d 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -l validate -d 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from plan" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l device -d 'Device to run on [default: the runner\'s (a LAVA lab\'s device_type), else qemu-riscv64]' -r -f -a "qemu-arm64\t''
qemu-arm64be\t''
qemu-armv5\t''
qemu-armv7\t''
qemu-armv7be\t''
qemu-i386\t''
qemu-m68k\t''
qemu-mips32\t''
qemu-mips32el\t''
qemu-mips64\t''
qemu-mips64el\t''
qemu-ppc32\t''
qemu-ppc64\t''
qemu-ppc64le\t''
qemu-riscv32\t''
qemu-riscv64\t''
qemu-s390\t''
qemu-sh4\t''
qemu-sparc64\t''
qemu-x86_64\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l kernel -d 'URL of the kernel image' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l job-definition -d 'A job definition in the runner\'s own format (a LAVA job YAML) to submit instead of one kbridge writes; kbridge fills its placeholders and adds only its callback and metadata' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l modules -d 'URL of a compressed modules archive' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l build-id -d 'Build under test: its KCIDB id (origin:...), or the uid or job id of a build kbridge scheduled' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l after -d 'Run on the kernel of this build kbridge scheduled (job id or uid): its kernel and modules if it has finished, else as soon as it succeeds; the KCIDB build id is that build' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l parameter -d 'Runner parameter KEY=VALUE passed to the test definitions; repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l rootfs -d 'Root filesystem image to boot' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l dtb -d 'Device tree blob' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l bios -d 'Firmware (BIOS, OpenSBI) to boot with' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l boot-args -d 'Extra kernel command line arguments' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l overlay -d 'An overlay archive unpacked into the root filesystem, at PATH (default /); repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l command -d 'A shell command run in the booted system (with the command test); repeatable, in order' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l test-name -d 'A name for the test job, shown by the runner' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l notify-email -d 'Mail the result to this address; repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l tests -d 'Tests to run, comma-separated and/or repeated (ltp-smoke,ltp-fsx)' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l collection -d 'Test collection used in KCIDB paths for every test [default: each test\'s own name up to its first \'-\': kselftest-timers is filed under kselftest]' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l timeout -d 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner\'s time limit for one of its tests (boot=30); repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l junit -d 'With --wait: write the results as JUnit XML to this file' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l callback-url -d 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l runner -d 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]' -r -f -a "tuxsuite\t''
lava\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l poll-interval -d 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l allow-artifact-host -d 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API\'s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l lab -d 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l qemu-image -d 'Container image that provides QEMU' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l host -d 'The runner\'s host type to run QEMU on (x86_64, m6a.large, m7g.large, ...)' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l force -d 'Schedule even if the same build already has this job'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l private -d 'Ask the runner to keep the results private'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l dry-run -d 'Print the request that would be sent; send and store nothing'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l json -d 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l wait -d 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l bisect -d 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l validate -d 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -l shared -d 'Publish what the test leaves in /mnt/tuxrun as artefacts (QEMU)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from test" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l device -d 'Device to run on [default: the runner\'s (a LAVA lab\'s device_type), else qemu-riscv64]' -r -f -a "qemu-arm64\t''
qemu-arm64be\t''
qemu-armv5\t''
qemu-armv7\t''
qemu-armv7be\t''
qemu-i386\t''
qemu-m68k\t''
qemu-mips32\t''
qemu-mips32el\t''
qemu-mips64\t''
qemu-mips64el\t''
qemu-ppc32\t''
qemu-ppc64\t''
qemu-ppc64le\t''
qemu-riscv32\t''
qemu-riscv64\t''
qemu-s390\t''
qemu-sh4\t''
qemu-sparc64\t''
qemu-x86_64\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l kernel -d 'URL of the kernel image' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l job-definition -d 'A job definition in the runner\'s own format (a LAVA job YAML) to submit instead of one kbridge writes; kbridge fills its placeholders and adds only its callback and metadata' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l modules -d 'URL of a compressed modules archive' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l build-id -d 'Build under test: its KCIDB id (origin:...), or the uid or job id of a build kbridge scheduled' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l after -d 'Run on the kernel of this build kbridge scheduled (job id or uid): its kernel and modules if it has finished, else as soon as it succeeds; the KCIDB build id is that build' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l parameter -d 'Runner parameter KEY=VALUE passed to the test definitions; repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l rootfs -d 'Root filesystem image to boot' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l dtb -d 'Device tree blob' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l bios -d 'Firmware (BIOS, OpenSBI) to boot with' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l boot-args -d 'Extra kernel command line arguments' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l overlay -d 'An overlay archive unpacked into the root filesystem, at PATH (default /); repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l command -d 'A shell command run in the booted system (with the command test); repeatable, in order' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l test-name -d 'A name for the test job, shown by the runner' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l notify-email -d 'Mail the result to this address; repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l timeout -d 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner\'s time limit for one of its tests (boot=30); repeatable' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l junit -d 'With --wait: write the results as JUnit XML to this file' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l callback-url -d 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l runner -d 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]' -r -f -a "tuxsuite\t''
lava\t''"
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l poll-interval -d 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l allow-artifact-host -d 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API\'s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l lab -d 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]' -r -f
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l qemu-image -d 'Container image that provides QEMU' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l host -d 'The runner\'s host type to run QEMU on (x86_64, m6a.large, m7g.large, ...)' -r
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l config -d 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l db -d 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]' -r -F
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l force -d 'Schedule even if the same build already has this job'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l private -d 'Ask the runner to keep the results private'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l dry-run -d 'Print the request that would be sent; send and store nothing'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l json -d 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l wait -d 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l bisect -d 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l validate -d 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -l shared -d 'Publish what the test leaves in /mnt/tuxrun as artefacts (QEMU)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -s q -l quiet -d 'Print no progress indicators or notes, only results and errors'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -s v -l verbose -d 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -s h -l help -d 'Print help'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from boot" -s V -l version -d 'Print version'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "build" -d 'Build a kernel tree'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "plan" -d 'Submit a plan file: builds, and tests chained to them'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "test" -d 'Run tests on a built kernel (a boot always runs first)'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "boot" -d 'Boot a built kernel and run nothing else'
complete -c kbridge -n "__fish_kbridge_using_subcommand schedule; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "jobs" -d 'List recorded jobs, newest first'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "show" -d 'Show every stored field of one job'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "plans" -d 'List recorded plans, newest first, with how many of their jobs are done and what the runner\'s plan callback said'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "results" -d 'Show the KCIDB document produced for a job'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "logs" -d 'Print a job\'s log from its runner: a build\'s log, or a test\'s console, streamed'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "cancel" -d 'Ask the runner to cancel jobs that have not finished (exit status 1 if any could not be)'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "track" -d 'Follow jobs kbridge did not schedule (from the runner\'s own client or web UI) to their KCIDB documents'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "report" -d 'Queue results from a system that is not a runner, or send them, signed, to another kbridge'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "config" -d 'Show the resolved settings and where each one came from'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "store" -d 'Copy a whole store (an SQLite file or a PostgreSQL database) into an empty one'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "inbox" -d 'List received callbacks, or process one again'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "artefacts" -d 'List what a job produced, or download it'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "submit" -d 'Send pending KCIDB documents to KCIDB now, then exit'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "outbox" -d 'List KCIDB documents and their delivery; retry or check them'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "listen" -d 'Receive runners\' completion callbacks and write KCIDB documents'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "wait" -d 'Wait for jobs to finish, polling their runners, and sum up their results (exit status 0 pass, 1 fail, 3 infrastructure, 124 timeout)'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "doctor" -d 'Check the setup: one line per check with what to do; exit status 0 only when everything the configuration needs is fine'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "schedule" -d 'Submit a build, test or boot test to a runner and record it'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and not __fish_seen_subcommand_from jobs show plans results logs cancel track report config store inbox artefacts submit outbox listen wait doctor schedule help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and __fish_seen_subcommand_from store" -f -a "copy" -d 'Copy every job, plan, callback, document and delivery from one store into another that holds none, checked (row counts and a digest of every value) before it says done'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and __fish_seen_subcommand_from inbox" -f -a "prune" -d 'Remove what need not be kept: refused and duplicate callbacks, and unmatched ones past unmatched_ttl; never a pending one'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and __fish_seen_subcommand_from inbox" -f -a "replay" -d 'Process a stored callback again from its stored bytes'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and __fish_seen_subcommand_from outbox" -f -a "retry" -d 'Put failed documents back in the queue'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and __fish_seen_subcommand_from outbox" -f -a "check" -d 'Ask KCIDB whether it ingested what was submitted'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "build" -d 'Build a kernel tree'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "plan" -d 'Submit a plan file: builds, and tests chained to them'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "test" -d 'Run tests on a built kernel (a boot always runs first)'
complete -c kbridge -n "__fish_kbridge_using_subcommand help; and __fish_seen_subcommand_from schedule" -f -a "boot" -d 'Boot a built kernel and run nothing else'
