
use builtin;
use str;

set edit:completion:arg-completer[kbridge] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'kbridge'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'kbridge'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand jobs 'List recorded jobs, newest first'
            cand show 'Show every stored field of one job'
            cand plans 'List recorded plans, newest first, with how many of their jobs are done and what the runner''s plan callback said'
            cand results 'Show the KCIDB document produced for a job'
            cand logs 'Print a job''s log from its runner: a build''s log, or a test''s console, streamed'
            cand cancel 'Ask the runner to cancel jobs that have not finished (exit status 1 if any could not be)'
            cand track 'Follow jobs kbridge did not schedule (from the runner''s own client or web UI) to their KCIDB documents'
            cand report 'Queue results from a system that is not a runner, or send them, signed, to another kbridge'
            cand config 'Show the resolved settings and where each one came from'
            cand store 'Copy a whole store (an SQLite file or a PostgreSQL database) into an empty one'
            cand inbox 'List received callbacks, or process one again'
            cand artefacts 'List what a job produced, or download it'
            cand submit 'Send pending KCIDB documents to KCIDB now, then exit'
            cand outbox 'List KCIDB documents and their delivery; retry or check them'
            cand listen 'Receive runners'' completion callbacks and write KCIDB documents'
            cand wait 'Wait for jobs to finish, polling their runners, and sum up their results (exit status 0 pass, 1 fail, 3 infrastructure, 124 timeout)'
            cand doctor 'Check the setup: one line per check with what to do; exit status 0 only when everything the configuration needs is fine'
            cand schedule 'Submit a build, test or boot test to a runner and record it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;jobs'= {
            cand --kind 'Only jobs of this kind'
            cand --state 'Only jobs in this state'
            cand --limit 'Show at most this many jobs'
            cand --plan 'Only the jobs of this plan (its uid, or its id from `kbridge plans`)'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print a JSON array instead of a table'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;show'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print the job as one JSON object'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;plans'= {
            cand --limit 'Show at most this many plans'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print a JSON array instead of a table'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;results'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print the KCIDB document itself'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;logs'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --raw 'The log file as the runner keeps it (a test''s whole LAVA log)'
            cand --json 'Print where the log is (a JSON object with its URL) instead of the log itself'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;cancel'= {
            cand --plan 'Cancel every unfinished job of this plan instead (its uid, or kbridge''s plan id from `kbridge plans`)'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print a JSON object saying what happened to each job instead of lines'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;track'= {
            cand --kind 'What the uids are, when known (else a test is looked for first)'
            cand --build-id 'The build a test ran on, when the runner does not say: its KCIDB id (origin:...), or a build kbridge knows'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print the job records as a JSON array'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;report'= {
            cand --to 'Send the results, signed, to the kbridge listening at this base URL (POST {URL}/results) instead of queueing them here'
            cand --source 'The reporting source''s name, as the receiving kbridge knows it'
            cand --secret-file 'File with the source''s HMAC secret [default: report.sources.NAME.secret_file]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print the outcome as one JSON object'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;config'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print the settings as one JSON object'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;store'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand copy 'Copy every job, plan, callback, document and delivery from one store into another that holds none, checked (row counts and a digest of every value) before it says done'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;store;copy'= {
            cand --from 'The store to copy: an SQLite file or a postgresql:// URL'
            cand --to 'The store to copy into, empty: an SQLite file (created) or a postgresql:// URL'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print what was copied as one JSON object'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;store;help'= {
            cand copy 'Copy every job, plan, callback, document and delivery from one store into another that holds none, checked (row counts and a digest of every value) before it says done'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;store;help;copy'= {
        }
        &'kbridge;store;help;help'= {
        }
        &'kbridge;inbox'= {
            cand --limit 'Show at most this many callbacks'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print a JSON array instead of a table'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand prune 'Remove what need not be kept: refused and duplicate callbacks, and unmatched ones past unmatched_ttl; never a pending one'
            cand replay 'Process a stored callback again from its stored bytes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;inbox;prune'= {
            cand --older-than 'Only refused and duplicate callbacks received longer ago than this, such as 30d [default: all of them]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --dry-run 'Say how many would go, and remove nothing'
            cand --json 'Print a JSON object instead of a sentence'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;inbox;replay'= {
            cand --output-dir 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;inbox;help'= {
            cand prune 'Remove what need not be kept: refused and duplicate callbacks, and unmatched ones past unmatched_ttl; never a pending one'
            cand replay 'Process a stored callback again from its stored bytes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;inbox;help;prune'= {
        }
        &'kbridge;inbox;help;replay'= {
        }
        &'kbridge;inbox;help;help'= {
        }
        &'kbridge;artefacts'= {
            cand --download 'Fetch every file into DIR/UID/ instead of listing them (each within --max-file-bytes, all within --max-job-bytes); exit status 1 when any was not fetched, each named on stderr'
            cand --max-file-bytes 'Most bytes `kbridge artefacts --download` writes of one file; a larger one is cut, removed and named [env: KBRIDGE_DOWNLOAD_MAX_FILE] [default: 4GiB]'
            cand --max-job-bytes 'Most bytes `kbridge artefacts --download` writes of one job''s files together [env: KBRIDGE_DOWNLOAD_MAX_JOB] [default: 16GiB]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print a JSON object (the files, and with --download what became of each) instead of lines'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;submit'= {
            cand --file 'Queue this KCIDB document (made elsewhere; it is checked first) before sending'
            cand --kcidb-url 'KCIDB''s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]'
            cand --kcidb-token-file 'File holding the KCIDB token (a JWT from KernelCI)'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --dry-run 'Show what would be sent; send and change nothing'
            cand --json 'Print the summary as one JSON object'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;outbox'= {
            cand --state 'Only documents in this delivery state'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print JSON instead of a table'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand retry 'Put failed documents back in the queue'
            cand check 'Ask KCIDB whether it ingested what was submitted'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;outbox;retry'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --all-failed 'Every failed document'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;outbox;check'= {
            cand --kcidb-url 'KCIDB''s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]'
            cand --kcidb-token-file 'File holding the KCIDB token (a JWT from KernelCI)'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print JSON instead of a table'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;outbox;help'= {
            cand retry 'Put failed documents back in the queue'
            cand check 'Ask KCIDB whether it ingested what was submitted'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;outbox;help;retry'= {
        }
        &'kbridge;outbox;help;check'= {
        }
        &'kbridge;outbox;help;help'= {
        }
        &'kbridge;listen'= {
            cand --timeout 'With --exit-when-done: stop after this long (exit status 124), such as 2h'
            cand --bind 'Address `kbridge listen` listens on; port 0 picks a free port [env: KBRIDGE_BIND] [default: 127.0.0.1:8080]'
            cand --output-dir 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]'
            cand --max-body 'Largest callback body accepted [env: KBRIDGE_MAX_BODY] [default: 1048576]'
            cand --poll-after 'How long `kbridge listen` waits for a job''s callback before it asks the runner (then at a slower pace) [env: KBRIDGE_POLL_AFTER] [default: 1800]'
            cand --max-connections-per-client 'Most connections one client address may hold open; 0 for no limit (behind a reverse proxy every connection comes from its address) [env: KBRIDGE_MAX_CONNECTIONS_PER_CLIENT] [default: 64]'
            cand --ops-bind 'A second address serving only /healthz, /readyz and /metrics, out of reach of callback traffic [env: KBRIDGE_OPS_BIND]'
            cand --log-format 'How `kbridge listen` writes its log lines: human, or one JSON object per line [env: KBRIDGE_LOG_FORMAT] [default: human]'
            cand --kcidb-url 'KCIDB''s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]'
            cand --kcidb-token-file 'File holding the KCIDB token (a JWT from KernelCI)'
            cand --tuxsuite-public-key 'TuxSuite''s OpenSSH public key(s) that sign callbacks: key lines, or files of them (`tuxsuite keys get`); repeatable, for key rotation'
            cand --allow-artifact-host 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --exit-when-done 'Exit once no job in the store is waiting for its results, with the exit status `kbridge wait` gives'
            cand --insecure-skip-verify 'Accept callbacks without checking their signatures. For development only: anyone who can reach the listener can then forge results'
            cand --no-submit 'Keep the documents for `kbridge submit` instead of submitting them to KCIDB (sets kcidb.submit = false)'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;wait'= {
            cand --plan 'Wait for every job of this plan (its uid, or its id from `kbridge plans`)'
            cand --timeout 'Stop waiting after this long (exit status 124), such as 90m or 2h'
            cand --junit 'Write the results as JUnit XML to this file (one testsuite per job, one testcase per KCIDB test)'
            cand --poll-interval 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]'
            cand --allow-artifact-host 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --bisect 'Exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit'
            cand --json 'Print the summary as one JSON object'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;doctor'= {
            cand --bind 'Address `kbridge listen` listens on; port 0 picks a free port [env: KBRIDGE_BIND] [default: 127.0.0.1:8080]'
            cand --output-dir 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]'
            cand --ops-bind 'A second address serving only /healthz, /readyz and /metrics, out of reach of callback traffic [env: KBRIDGE_OPS_BIND]'
            cand --kcidb-url 'KCIDB''s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]'
            cand --kcidb-token-file 'File holding the KCIDB token (a JWT from KernelCI)'
            cand --tuxsuite-public-key 'TuxSuite''s OpenSSH public key(s) that sign callbacks: key lines, or files of them (`tuxsuite keys get`); repeatable, for key rotation'
            cand --allow-artifact-host 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print a JSON object instead of one line per check'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;schedule'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand build 'Build a kernel tree'
            cand plan 'Submit a plan file: builds, and tests chained to them'
            cand test 'Run tests on a built kernel (a boot always runs first)'
            cand boot 'Boot a built kernel and run nothing else'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;schedule;build'= {
            cand --tree 'Git repository to build (https://, http:// or git://)'
            cand --branch 'Branch or tag to build'
            cand --sha 'Commit to build (full or abbreviated hash)'
            cand --arch 'Target architecture'
            cand --toolchain 'Toolchain, such as gcc-13 or clang-18'
            cand --kconfig 'Base configuration: a defconfig name or the URL of a config file'
            cand --fragment 'Configuration fragment applied on top (CONFIG_X=y or a fragment URL); repeatable'
            cand --target 'Make target to build instead of the runner''s default; repeatable'
            cand --make-var 'Make variable KEY=VALUE (W=1, LLVM=1); repeatable, every one kept'
            cand --env 'Build environment variable KEY=VALUE (KCFLAGS=-Werror); repeatable'
            cand --build-name 'A name for the build, shown by the runner'
            cand --kernel-image 'The kernel image to build (Image.gz, bzImage) instead of the default'
            cand --image-sha 'Pin the build container image to this sha256 (64 hex digits)'
            cand --notify-email 'Mail the result to this address; repeatable'
            cand --patch-series 'An unmerged patch series to apply first: an mbox, .patch or .txt file, a directory or .tar.gz with a quilt series file, a URL, or a lore link or message-id (needs b4)'
            cand --timeout 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner''s time limit for one of its tests (boot=30); repeatable'
            cand --junit 'With --wait: write the results as JUnit XML to this file'
            cand --callback-url 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]'
            cand --runner 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]'
            cand --poll-interval 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]'
            cand --allow-artifact-host 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]'
            cand --lab 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --git-head 'Build the local checkout''s HEAD: the repository is its remote (git config tuxsuite.remote, else origin) as an https URL, and the commit must be on that remote'
            cand --push 'With --git-head: push HEAD to `refs/tuxsuite/<sha>` on the remote first'
            cand --no-cache 'Build without the runner''s build cache'
            cand --private 'Ask the runner to keep the results private'
            cand --dry-run 'Print the request that would be sent; send and store nothing'
            cand --json 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)'
            cand --wait 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status'
            cand --bisect 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit'
            cand --validate 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;schedule;plan'= {
            cand --job 'Only the plan''s jobs with this name (`*` matches anything); repeatable'
            cand --build-id 'The build the plan''s standalone tests (those without a build of the plan) test: its KCIDB id, or a build kbridge knows'
            cand --notify-email 'Mail the whole plan''s result to this address (once, not per job); repeatable'
            cand --tree 'Repository of the plan''s builds that name no git_repo (https://, http:// or git://)'
            cand --branch 'Branch or tag of the builds that name neither git_ref nor git_sha'
            cand --sha 'Commit of the builds that name neither git_ref nor git_sha'
            cand --patch-series 'A patch series applied by every build that names no patch_series of its own (the forms `schedule build --patch-series` takes)'
            cand --parameter 'Test parameter KEY=VALUE added to every test of the plan, sanity tests included, unless the test sets KEY itself; repeatable'
            cand --timeout 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner''s time limit for one of its tests (boot=30); repeatable'
            cand --junit 'With --wait: write the results as JUnit XML to this file'
            cand --callback-url 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]'
            cand --runner 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]'
            cand --poll-interval 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]'
            cand --allow-artifact-host 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]'
            cand --lab 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --git-head 'Builds that name no repository build the local checkout''s HEAD (as `schedule build --git-head` does)'
            cand --push 'With --git-head: push HEAD to `refs/tuxsuite/<sha>` on the remote first'
            cand --no-cache 'Builds skip the runner''s cache unless the plan says otherwise'
            cand --private 'Ask the runner to keep the results private'
            cand --dry-run 'Print the request that would be sent; send and store nothing'
            cand --json 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)'
            cand --wait 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status'
            cand --bisect 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit'
            cand --validate 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;schedule;test'= {
            cand --device 'Device to run on [default: the runner''s (a LAVA lab''s device_type), else qemu-riscv64]'
            cand --kernel 'URL of the kernel image'
            cand --job-definition 'A job definition in the runner''s own format (a LAVA job YAML) to submit instead of one kbridge writes; kbridge fills its placeholders and adds only its callback and metadata'
            cand --modules 'URL of a compressed modules archive'
            cand --build-id 'Build under test: its KCIDB id (origin:...), or the uid or job id of a build kbridge scheduled'
            cand --after 'Run on the kernel of this build kbridge scheduled (job id or uid): its kernel and modules if it has finished, else as soon as it succeeds; the KCIDB build id is that build'
            cand --parameter 'Runner parameter KEY=VALUE passed to the test definitions; repeatable'
            cand --rootfs 'Root filesystem image to boot'
            cand --dtb 'Device tree blob'
            cand --bios 'Firmware (BIOS, OpenSBI) to boot with'
            cand --boot-args 'Extra kernel command line arguments'
            cand --overlay 'An overlay archive unpacked into the root filesystem, at PATH (default /); repeatable'
            cand --command 'A shell command run in the booted system (with the command test); repeatable, in order'
            cand --test-name 'A name for the test job, shown by the runner'
            cand --notify-email 'Mail the result to this address; repeatable'
            cand --tests 'Tests to run, comma-separated and/or repeated (ltp-smoke,ltp-fsx)'
            cand --collection 'Test collection used in KCIDB paths for every test [default: each test''s own name up to its first ''-'': kselftest-timers is filed under kselftest]'
            cand --timeout 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner''s time limit for one of its tests (boot=30); repeatable'
            cand --junit 'With --wait: write the results as JUnit XML to this file'
            cand --callback-url 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]'
            cand --runner 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]'
            cand --poll-interval 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]'
            cand --allow-artifact-host 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]'
            cand --lab 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]'
            cand --qemu-image 'Container image that provides QEMU'
            cand --host 'The runner''s host type to run QEMU on (x86_64, m6a.large, m7g.large, ...)'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --force 'Schedule even if the same build already has this job'
            cand --private 'Ask the runner to keep the results private'
            cand --dry-run 'Print the request that would be sent; send and store nothing'
            cand --json 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)'
            cand --wait 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status'
            cand --bisect 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit'
            cand --validate 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)'
            cand --shared 'Publish what the test leaves in /mnt/tuxrun as artefacts (QEMU)'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;schedule;boot'= {
            cand --device 'Device to run on [default: the runner''s (a LAVA lab''s device_type), else qemu-riscv64]'
            cand --kernel 'URL of the kernel image'
            cand --job-definition 'A job definition in the runner''s own format (a LAVA job YAML) to submit instead of one kbridge writes; kbridge fills its placeholders and adds only its callback and metadata'
            cand --modules 'URL of a compressed modules archive'
            cand --build-id 'Build under test: its KCIDB id (origin:...), or the uid or job id of a build kbridge scheduled'
            cand --after 'Run on the kernel of this build kbridge scheduled (job id or uid): its kernel and modules if it has finished, else as soon as it succeeds; the KCIDB build id is that build'
            cand --parameter 'Runner parameter KEY=VALUE passed to the test definitions; repeatable'
            cand --rootfs 'Root filesystem image to boot'
            cand --dtb 'Device tree blob'
            cand --bios 'Firmware (BIOS, OpenSBI) to boot with'
            cand --boot-args 'Extra kernel command line arguments'
            cand --overlay 'An overlay archive unpacked into the root filesystem, at PATH (default /); repeatable'
            cand --command 'A shell command run in the booted system (with the command test); repeatable, in order'
            cand --test-name 'A name for the test job, shown by the runner'
            cand --notify-email 'Mail the result to this address; repeatable'
            cand --timeout 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner''s time limit for one of its tests (boot=30); repeatable'
            cand --junit 'With --wait: write the results as JUnit XML to this file'
            cand --callback-url 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]'
            cand --runner 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]'
            cand --poll-interval 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]'
            cand --allow-artifact-host 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]'
            cand --lab 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]'
            cand --qemu-image 'Container image that provides QEMU'
            cand --host 'The runner''s host type to run QEMU on (x86_64, m6a.large, m7g.large, ...)'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --force 'Schedule even if the same build already has this job'
            cand --private 'Ask the runner to keep the results private'
            cand --dry-run 'Print the request that would be sent; send and store nothing'
            cand --json 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)'
            cand --wait 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status'
            cand --bisect 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit'
            cand --validate 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)'
            cand --shared 'Publish what the test leaves in /mnt/tuxrun as artefacts (QEMU)'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -v 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand --verbose 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;schedule;help'= {
            cand build 'Build a kernel tree'
            cand plan 'Submit a plan file: builds, and tests chained to them'
            cand test 'Run tests on a built kernel (a boot always runs first)'
            cand boot 'Boot a built kernel and run nothing else'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;schedule;help;build'= {
        }
        &'kbridge;schedule;help;plan'= {
        }
        &'kbridge;schedule;help;test'= {
        }
        &'kbridge;schedule;help;boot'= {
        }
        &'kbridge;schedule;help;help'= {
        }
        &'kbridge;help'= {
            cand jobs 'List recorded jobs, newest first'
            cand show 'Show every stored field of one job'
            cand plans 'List recorded plans, newest first, with how many of their jobs are done and what the runner''s plan callback said'
            cand results 'Show the KCIDB document produced for a job'
            cand logs 'Print a job''s log from its runner: a build''s log, or a test''s console, streamed'
            cand cancel 'Ask the runner to cancel jobs that have not finished (exit status 1 if any could not be)'
            cand track 'Follow jobs kbridge did not schedule (from the runner''s own client or web UI) to their KCIDB documents'
            cand report 'Queue results from a system that is not a runner, or send them, signed, to another kbridge'
            cand config 'Show the resolved settings and where each one came from'
            cand store 'Copy a whole store (an SQLite file or a PostgreSQL database) into an empty one'
            cand inbox 'List received callbacks, or process one again'
            cand artefacts 'List what a job produced, or download it'
            cand submit 'Send pending KCIDB documents to KCIDB now, then exit'
            cand outbox 'List KCIDB documents and their delivery; retry or check them'
            cand listen 'Receive runners'' completion callbacks and write KCIDB documents'
            cand wait 'Wait for jobs to finish, polling their runners, and sum up their results (exit status 0 pass, 1 fail, 3 infrastructure, 124 timeout)'
            cand doctor 'Check the setup: one line per check with what to do; exit status 0 only when everything the configuration needs is fine'
            cand schedule 'Submit a build, test or boot test to a runner and record it'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;help;jobs'= {
        }
        &'kbridge;help;show'= {
        }
        &'kbridge;help;plans'= {
        }
        &'kbridge;help;results'= {
        }
        &'kbridge;help;logs'= {
        }
        &'kbridge;help;cancel'= {
        }
        &'kbridge;help;track'= {
        }
        &'kbridge;help;report'= {
        }
        &'kbridge;help;config'= {
        }
        &'kbridge;help;store'= {
            cand copy 'Copy every job, plan, callback, document and delivery from one store into another that holds none, checked (row counts and a digest of every value) before it says done'
        }
        &'kbridge;help;store;copy'= {
        }
        &'kbridge;help;inbox'= {
            cand prune 'Remove what need not be kept: refused and duplicate callbacks, and unmatched ones past unmatched_ttl; never a pending one'
            cand replay 'Process a stored callback again from its stored bytes'
        }
        &'kbridge;help;inbox;prune'= {
        }
        &'kbridge;help;inbox;replay'= {
        }
        &'kbridge;help;artefacts'= {
        }
        &'kbridge;help;submit'= {
        }
        &'kbridge;help;outbox'= {
            cand retry 'Put failed documents back in the queue'
            cand check 'Ask KCIDB whether it ingested what was submitted'
        }
        &'kbridge;help;outbox;retry'= {
        }
        &'kbridge;help;outbox;check'= {
        }
        &'kbridge;help;listen'= {
        }
        &'kbridge;help;wait'= {
        }
        &'kbridge;help;doctor'= {
        }
        &'kbridge;help;schedule'= {
            cand build 'Build a kernel tree'
            cand plan 'Submit a plan file: builds, and tests chained to them'
            cand test 'Run tests on a built kernel (a boot always runs first)'
            cand boot 'Boot a built kernel and run nothing else'
        }
        &'kbridge;help;schedule;build'= {
        }
        &'kbridge;help;schedule;plan'= {
        }
        &'kbridge;help;schedule;test'= {
        }
        &'kbridge;help;schedule;boot'= {
        }
        &'kbridge;help;help'= {
        }
    ]
    $completions[$command]
}
