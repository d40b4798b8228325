
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'kbridge' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'kbridge'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'kbridge' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('jobs', 'jobs', [CompletionResultType]::ParameterValue, 'List recorded jobs, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every stored field of one job')
            [CompletionResult]::new('plans', 'plans', [CompletionResultType]::ParameterValue, 'List recorded plans, newest first, with how many of their jobs are done and what the runner''s plan callback said')
            [CompletionResult]::new('results', 'results', [CompletionResultType]::ParameterValue, 'Show the KCIDB document produced for a job')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print a job''s log from its runner: a build''s log, or a test''s console, streamed')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Ask the runner to cancel jobs that have not finished (exit status 1 if any could not be)')
            [CompletionResult]::new('track', 'track', [CompletionResultType]::ParameterValue, 'Follow jobs kbridge did not schedule (from the runner''s own client or web UI) to their KCIDB documents')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Queue results from a system that is not a runner, or send them, signed, to another kbridge')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the resolved settings and where each one came from')
            [CompletionResult]::new('store', 'store', [CompletionResultType]::ParameterValue, 'Copy a whole store (an SQLite file or a PostgreSQL database) into an empty one')
            [CompletionResult]::new('inbox', 'inbox', [CompletionResultType]::ParameterValue, 'List received callbacks, or process one again')
            [CompletionResult]::new('artefacts', 'artefacts', [CompletionResultType]::ParameterValue, 'List what a job produced, or download it')
            [CompletionResult]::new('submit', 'submit', [CompletionResultType]::ParameterValue, 'Send pending KCIDB documents to KCIDB now, then exit')
            [CompletionResult]::new('outbox', 'outbox', [CompletionResultType]::ParameterValue, 'List KCIDB documents and their delivery; retry or check them')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Receive runners'' completion callbacks and write KCIDB documents')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait for jobs to finish, polling their runners, and sum up their results (exit status 0 pass, 1 fail, 3 infrastructure, 124 timeout)')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the setup: one line per check with what to do; exit status 0 only when everything the configuration needs is fine')
            [CompletionResult]::new('schedule', 'schedule', [CompletionResultType]::ParameterValue, 'Submit a build, test or boot test to a runner and record it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kbridge;jobs' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only jobs of this kind')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only jobs in this state')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Show at most this many jobs')
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'Only the jobs of this plan (its uid, or its id from `kbridge plans`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array instead of a table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;show' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the job as one JSON object')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;plans' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Show at most this many plans')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array instead of a table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;results' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the KCIDB document itself')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;logs' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--raw', '--raw', [CompletionResultType]::ParameterName, 'The log file as the runner keeps it (a test''s whole LAVA log)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print where the log is (a JSON object with its URL) instead of the log itself')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;cancel' {
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'Cancel every unfinished job of this plan instead (its uid, or kbridge''s plan id from `kbridge plans`)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON object saying what happened to each job instead of lines')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;track' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'What the uids are, when known (else a test is looked for first)')
            [CompletionResult]::new('--build-id', '--build-id', [CompletionResultType]::ParameterName, 'The build a test ran on, when the runner does not say: its KCIDB id (origin:...), or a build kbridge knows')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the job records as a JSON array')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;report' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Send the results, signed, to the kbridge listening at this base URL (POST {URL}/results) instead of queueing them here')
            [CompletionResult]::new('--source', '--source', [CompletionResultType]::ParameterName, 'The reporting source''s name, as the receiving kbridge knows it')
            [CompletionResult]::new('--secret-file', '--secret-file', [CompletionResultType]::ParameterName, 'File with the source''s HMAC secret [default: report.sources.NAME.secret_file]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the outcome as one JSON object')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;config' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the settings as one JSON object')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;store' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy every job, plan, callback, document and delivery from one store into another that holds none, checked (row counts and a digest of every value) before it says done')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kbridge;store;copy' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'The store to copy: an SQLite file or a postgresql:// URL')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The store to copy into, empty: an SQLite file (created) or a postgresql:// URL')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print what was copied as one JSON object')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;store;help' {
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy every job, plan, callback, document and delivery from one store into another that holds none, checked (row counts and a digest of every value) before it says done')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kbridge;store;help;copy' {
            break
        }
        'kbridge;store;help;help' {
            break
        }
        'kbridge;inbox' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Show at most this many callbacks')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON array instead of a table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Remove what need not be kept: refused and duplicate callbacks, and unmatched ones past unmatched_ttl; never a pending one')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Process a stored callback again from its stored bytes')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kbridge;inbox;prune' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only refused and duplicate callbacks received longer ago than this, such as 30d [default: all of them]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say how many would go, and remove nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON object instead of a sentence')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;inbox;replay' {
            [CompletionResult]::new('--output-dir', '--output-dir', [CompletionResultType]::ParameterName, 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;inbox;help' {
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Remove what need not be kept: refused and duplicate callbacks, and unmatched ones past unmatched_ttl; never a pending one')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Process a stored callback again from its stored bytes')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kbridge;inbox;help;prune' {
            break
        }
        'kbridge;inbox;help;replay' {
            break
        }
        'kbridge;inbox;help;help' {
            break
        }
        'kbridge;artefacts' {
            [CompletionResult]::new('--download', '--download', [CompletionResultType]::ParameterName, 'Fetch every file into DIR/UID/ instead of listing them (each within --max-file-bytes, all within --max-job-bytes); exit status 1 when any was not fetched, each named on stderr')
            [CompletionResult]::new('--max-file-bytes', '--max-file-bytes', [CompletionResultType]::ParameterName, 'Most bytes `kbridge artefacts --download` writes of one file; a larger one is cut, removed and named [env: KBRIDGE_DOWNLOAD_MAX_FILE] [default: 4GiB]')
            [CompletionResult]::new('--max-job-bytes', '--max-job-bytes', [CompletionResultType]::ParameterName, 'Most bytes `kbridge artefacts --download` writes of one job''s files together [env: KBRIDGE_DOWNLOAD_MAX_JOB] [default: 16GiB]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON object (the files, and with --download what became of each) instead of lines')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;submit' {
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Queue this KCIDB document (made elsewhere; it is checked first) before sending')
            [CompletionResult]::new('--kcidb-url', '--kcidb-url', [CompletionResultType]::ParameterName, 'KCIDB''s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]')
            [CompletionResult]::new('--kcidb-token-file', '--kcidb-token-file', [CompletionResultType]::ParameterName, 'File holding the KCIDB token (a JWT from KernelCI)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show what would be sent; send and change nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the summary as one JSON object')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;outbox' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only documents in this delivery state')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Put failed documents back in the queue')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Ask KCIDB whether it ingested what was submitted')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kbridge;outbox;retry' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--all-failed', '--all-failed', [CompletionResultType]::ParameterName, 'Every failed document')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;outbox;check' {
            [CompletionResult]::new('--kcidb-url', '--kcidb-url', [CompletionResultType]::ParameterName, 'KCIDB''s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]')
            [CompletionResult]::new('--kcidb-token-file', '--kcidb-token-file', [CompletionResultType]::ParameterName, 'File holding the KCIDB token (a JWT from KernelCI)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;outbox;help' {
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Put failed documents back in the queue')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Ask KCIDB whether it ingested what was submitted')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kbridge;outbox;help;retry' {
            break
        }
        'kbridge;outbox;help;check' {
            break
        }
        'kbridge;outbox;help;help' {
            break
        }
        'kbridge;listen' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --exit-when-done: stop after this long (exit status 124), such as 2h')
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Address `kbridge listen` listens on; port 0 picks a free port [env: KBRIDGE_BIND] [default: 127.0.0.1:8080]')
            [CompletionResult]::new('--output-dir', '--output-dir', [CompletionResultType]::ParameterName, 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]')
            [CompletionResult]::new('--max-body', '--max-body', [CompletionResultType]::ParameterName, 'Largest callback body accepted [env: KBRIDGE_MAX_BODY] [default: 1048576]')
            [CompletionResult]::new('--poll-after', '--poll-after', [CompletionResultType]::ParameterName, 'How long `kbridge listen` waits for a job''s callback before it asks the runner (then at a slower pace) [env: KBRIDGE_POLL_AFTER] [default: 1800]')
            [CompletionResult]::new('--max-connections-per-client', '--max-connections-per-client', [CompletionResultType]::ParameterName, 'Most connections one client address may hold open; 0 for no limit (behind a reverse proxy every connection comes from its address) [env: KBRIDGE_MAX_CONNECTIONS_PER_CLIENT] [default: 64]')
            [CompletionResult]::new('--ops-bind', '--ops-bind', [CompletionResultType]::ParameterName, 'A second address serving only /healthz, /readyz and /metrics, out of reach of callback traffic [env: KBRIDGE_OPS_BIND]')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'How `kbridge listen` writes its log lines: human, or one JSON object per line [env: KBRIDGE_LOG_FORMAT] [default: human]')
            [CompletionResult]::new('--kcidb-url', '--kcidb-url', [CompletionResultType]::ParameterName, 'KCIDB''s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]')
            [CompletionResult]::new('--kcidb-token-file', '--kcidb-token-file', [CompletionResultType]::ParameterName, 'File holding the KCIDB token (a JWT from KernelCI)')
            [CompletionResult]::new('--tuxsuite-public-key', '--tuxsuite-public-key', [CompletionResultType]::ParameterName, 'TuxSuite''s OpenSSH public key(s) that sign callbacks: key lines, or files of them (`tuxsuite keys get`); repeatable, for key rotation')
            [CompletionResult]::new('--allow-artifact-host', '--allow-artifact-host', [CompletionResultType]::ParameterName, 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--exit-when-done', '--exit-when-done', [CompletionResultType]::ParameterName, 'Exit once no job in the store is waiting for its results, with the exit status `kbridge wait` gives')
            [CompletionResult]::new('--insecure-skip-verify', '--insecure-skip-verify', [CompletionResultType]::ParameterName, 'Accept callbacks without checking their signatures. For development only: anyone who can reach the listener can then forge results')
            [CompletionResult]::new('--no-submit', '--no-submit', [CompletionResultType]::ParameterName, 'Keep the documents for `kbridge submit` instead of submitting them to KCIDB (sets kcidb.submit = false)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;wait' {
            [CompletionResult]::new('--plan', '--plan', [CompletionResultType]::ParameterName, 'Wait for every job of this plan (its uid, or its id from `kbridge plans`)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Stop waiting after this long (exit status 124), such as 90m or 2h')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'Write the results as JUnit XML to this file (one testsuite per job, one testcase per KCIDB test)')
            [CompletionResult]::new('--poll-interval', '--poll-interval', [CompletionResultType]::ParameterName, 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]')
            [CompletionResult]::new('--allow-artifact-host', '--allow-artifact-host', [CompletionResultType]::ParameterName, 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--bisect', '--bisect', [CompletionResultType]::ParameterName, 'Exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the summary as one JSON object')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;doctor' {
            [CompletionResult]::new('--bind', '--bind', [CompletionResultType]::ParameterName, 'Address `kbridge listen` listens on; port 0 picks a free port [env: KBRIDGE_BIND] [default: 127.0.0.1:8080]')
            [CompletionResult]::new('--output-dir', '--output-dir', [CompletionResultType]::ParameterName, 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]')
            [CompletionResult]::new('--ops-bind', '--ops-bind', [CompletionResultType]::ParameterName, 'A second address serving only /healthz, /readyz and /metrics, out of reach of callback traffic [env: KBRIDGE_OPS_BIND]')
            [CompletionResult]::new('--kcidb-url', '--kcidb-url', [CompletionResultType]::ParameterName, 'KCIDB''s REST API base URL; documents go to {URL}/submit [env: KBRIDGE_KCIDB_URL]')
            [CompletionResult]::new('--kcidb-token-file', '--kcidb-token-file', [CompletionResultType]::ParameterName, 'File holding the KCIDB token (a JWT from KernelCI)')
            [CompletionResult]::new('--tuxsuite-public-key', '--tuxsuite-public-key', [CompletionResultType]::ParameterName, 'TuxSuite''s OpenSSH public key(s) that sign callbacks: key lines, or files of them (`tuxsuite keys get`); repeatable, for key rotation')
            [CompletionResult]::new('--allow-artifact-host', '--allow-artifact-host', [CompletionResultType]::ParameterName, 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON object instead of one line per check')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;schedule' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Build a kernel tree')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Submit a plan file: builds, and tests chained to them')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run tests on a built kernel (a boot always runs first)')
            [CompletionResult]::new('boot', 'boot', [CompletionResultType]::ParameterValue, 'Boot a built kernel and run nothing else')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kbridge;schedule;build' {
            [CompletionResult]::new('--tree', '--tree', [CompletionResultType]::ParameterName, 'Git repository to build (https://, http:// or git://)')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'Branch or tag to build')
            [CompletionResult]::new('--sha', '--sha', [CompletionResultType]::ParameterName, 'Commit to build (full or abbreviated hash)')
            [CompletionResult]::new('--arch', '--arch', [CompletionResultType]::ParameterName, 'Target architecture')
            [CompletionResult]::new('--toolchain', '--toolchain', [CompletionResultType]::ParameterName, 'Toolchain, such as gcc-13 or clang-18')
            [CompletionResult]::new('--kconfig', '--kconfig', [CompletionResultType]::ParameterName, 'Base configuration: a defconfig name or the URL of a config file')
            [CompletionResult]::new('--fragment', '--fragment', [CompletionResultType]::ParameterName, 'Configuration fragment applied on top (CONFIG_X=y or a fragment URL); repeatable')
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Make target to build instead of the runner''s default; repeatable')
            [CompletionResult]::new('--make-var', '--make-var', [CompletionResultType]::ParameterName, 'Make variable KEY=VALUE (W=1, LLVM=1); repeatable, every one kept')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Build environment variable KEY=VALUE (KCFLAGS=-Werror); repeatable')
            [CompletionResult]::new('--build-name', '--build-name', [CompletionResultType]::ParameterName, 'A name for the build, shown by the runner')
            [CompletionResult]::new('--kernel-image', '--kernel-image', [CompletionResultType]::ParameterName, 'The kernel image to build (Image.gz, bzImage) instead of the default')
            [CompletionResult]::new('--image-sha', '--image-sha', [CompletionResultType]::ParameterName, 'Pin the build container image to this sha256 (64 hex digits)')
            [CompletionResult]::new('--notify-email', '--notify-email', [CompletionResultType]::ParameterName, 'Mail the result to this address; repeatable')
            [CompletionResult]::new('--patch-series', '--patch-series', [CompletionResultType]::ParameterName, 'An unmerged patch series to apply first: an mbox, .patch or .txt file, a directory or .tar.gz with a quilt series file, a URL, or a lore link or message-id (needs b4)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner''s time limit for one of its tests (boot=30); repeatable')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'With --wait: write the results as JUnit XML to this file')
            [CompletionResult]::new('--callback-url', '--callback-url', [CompletionResultType]::ParameterName, 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]')
            [CompletionResult]::new('--runner', '--runner', [CompletionResultType]::ParameterName, 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]')
            [CompletionResult]::new('--poll-interval', '--poll-interval', [CompletionResultType]::ParameterName, 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]')
            [CompletionResult]::new('--allow-artifact-host', '--allow-artifact-host', [CompletionResultType]::ParameterName, 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]')
            [CompletionResult]::new('--lab', '--lab', [CompletionResultType]::ParameterName, 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--git-head', '--git-head', [CompletionResultType]::ParameterName, 'Build the local checkout''s HEAD: the repository is its remote (git config tuxsuite.remote, else origin) as an https URL, and the commit must be on that remote')
            [CompletionResult]::new('--push', '--push', [CompletionResultType]::ParameterName, 'With --git-head: push HEAD to `refs/tuxsuite/<sha>` on the remote first')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Build without the runner''s build cache')
            [CompletionResult]::new('--private', '--private', [CompletionResultType]::ParameterName, 'Ask the runner to keep the results private')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the request that would be sent; send and store nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status')
            [CompletionResult]::new('--bisect', '--bisect', [CompletionResultType]::ParameterName, 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit')
            [CompletionResult]::new('--validate', '--validate', [CompletionResultType]::ParameterName, 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;schedule;plan' {
            [CompletionResult]::new('--job', '--job', [CompletionResultType]::ParameterName, 'Only the plan''s jobs with this name (`*` matches anything); repeatable')
            [CompletionResult]::new('--build-id', '--build-id', [CompletionResultType]::ParameterName, 'The build the plan''s standalone tests (those without a build of the plan) test: its KCIDB id, or a build kbridge knows')
            [CompletionResult]::new('--notify-email', '--notify-email', [CompletionResultType]::ParameterName, 'Mail the whole plan''s result to this address (once, not per job); repeatable')
            [CompletionResult]::new('--tree', '--tree', [CompletionResultType]::ParameterName, 'Repository of the plan''s builds that name no git_repo (https://, http:// or git://)')
            [CompletionResult]::new('--branch', '--branch', [CompletionResultType]::ParameterName, 'Branch or tag of the builds that name neither git_ref nor git_sha')
            [CompletionResult]::new('--sha', '--sha', [CompletionResultType]::ParameterName, 'Commit of the builds that name neither git_ref nor git_sha')
            [CompletionResult]::new('--patch-series', '--patch-series', [CompletionResultType]::ParameterName, 'A patch series applied by every build that names no patch_series of its own (the forms `schedule build --patch-series` takes)')
            [CompletionResult]::new('--parameter', '--parameter', [CompletionResultType]::ParameterName, 'Test parameter KEY=VALUE added to every test of the plan, sanity tests included, unless the test sets KEY itself; repeatable')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner''s time limit for one of its tests (boot=30); repeatable')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'With --wait: write the results as JUnit XML to this file')
            [CompletionResult]::new('--callback-url', '--callback-url', [CompletionResultType]::ParameterName, 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]')
            [CompletionResult]::new('--runner', '--runner', [CompletionResultType]::ParameterName, 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]')
            [CompletionResult]::new('--poll-interval', '--poll-interval', [CompletionResultType]::ParameterName, 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]')
            [CompletionResult]::new('--allow-artifact-host', '--allow-artifact-host', [CompletionResultType]::ParameterName, 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]')
            [CompletionResult]::new('--lab', '--lab', [CompletionResultType]::ParameterName, 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--git-head', '--git-head', [CompletionResultType]::ParameterName, 'Builds that name no repository build the local checkout''s HEAD (as `schedule build --git-head` does)')
            [CompletionResult]::new('--push', '--push', [CompletionResultType]::ParameterName, 'With --git-head: push HEAD to `refs/tuxsuite/<sha>` on the remote first')
            [CompletionResult]::new('--no-cache', '--no-cache', [CompletionResultType]::ParameterName, 'Builds skip the runner''s cache unless the plan says otherwise')
            [CompletionResult]::new('--private', '--private', [CompletionResultType]::ParameterName, 'Ask the runner to keep the results private')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the request that would be sent; send and store nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status')
            [CompletionResult]::new('--bisect', '--bisect', [CompletionResultType]::ParameterName, 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit')
            [CompletionResult]::new('--validate', '--validate', [CompletionResultType]::ParameterName, 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;schedule;test' {
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'Device to run on [default: the runner''s (a LAVA lab''s device_type), else qemu-riscv64]')
            [CompletionResult]::new('--kernel', '--kernel', [CompletionResultType]::ParameterName, 'URL of the kernel image')
            [CompletionResult]::new('--job-definition', '--job-definition', [CompletionResultType]::ParameterName, 'A job definition in the runner''s own format (a LAVA job YAML) to submit instead of one kbridge writes; kbridge fills its placeholders and adds only its callback and metadata')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'URL of a compressed modules archive')
            [CompletionResult]::new('--build-id', '--build-id', [CompletionResultType]::ParameterName, 'Build under test: its KCIDB id (origin:...), or the uid or job id of a build kbridge scheduled')
            [CompletionResult]::new('--after', '--after', [CompletionResultType]::ParameterName, 'Run on the kernel of this build kbridge scheduled (job id or uid): its kernel and modules if it has finished, else as soon as it succeeds; the KCIDB build id is that build')
            [CompletionResult]::new('--parameter', '--parameter', [CompletionResultType]::ParameterName, 'Runner parameter KEY=VALUE passed to the test definitions; repeatable')
            [CompletionResult]::new('--rootfs', '--rootfs', [CompletionResultType]::ParameterName, 'Root filesystem image to boot')
            [CompletionResult]::new('--dtb', '--dtb', [CompletionResultType]::ParameterName, 'Device tree blob')
            [CompletionResult]::new('--bios', '--bios', [CompletionResultType]::ParameterName, 'Firmware (BIOS, OpenSBI) to boot with')
            [CompletionResult]::new('--boot-args', '--boot-args', [CompletionResultType]::ParameterName, 'Extra kernel command line arguments')
            [CompletionResult]::new('--overlay', '--overlay', [CompletionResultType]::ParameterName, 'An overlay archive unpacked into the root filesystem, at PATH (default /); repeatable')
            [CompletionResult]::new('--command', '--command', [CompletionResultType]::ParameterName, 'A shell command run in the booted system (with the command test); repeatable, in order')
            [CompletionResult]::new('--test-name', '--test-name', [CompletionResultType]::ParameterName, 'A name for the test job, shown by the runner')
            [CompletionResult]::new('--notify-email', '--notify-email', [CompletionResultType]::ParameterName, 'Mail the result to this address; repeatable')
            [CompletionResult]::new('--tests', '--tests', [CompletionResultType]::ParameterName, 'Tests to run, comma-separated and/or repeated (ltp-smoke,ltp-fsx)')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Test collection used in KCIDB paths for every test [default: each test''s own name up to its first ''-'': kselftest-timers is filed under kselftest]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner''s time limit for one of its tests (boot=30); repeatable')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'With --wait: write the results as JUnit XML to this file')
            [CompletionResult]::new('--callback-url', '--callback-url', [CompletionResultType]::ParameterName, 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]')
            [CompletionResult]::new('--runner', '--runner', [CompletionResultType]::ParameterName, 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]')
            [CompletionResult]::new('--poll-interval', '--poll-interval', [CompletionResultType]::ParameterName, 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]')
            [CompletionResult]::new('--allow-artifact-host', '--allow-artifact-host', [CompletionResultType]::ParameterName, 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]')
            [CompletionResult]::new('--lab', '--lab', [CompletionResultType]::ParameterName, 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]')
            [CompletionResult]::new('--qemu-image', '--qemu-image', [CompletionResultType]::ParameterName, 'Container image that provides QEMU')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The runner''s host type to run QEMU on (x86_64, m6a.large, m7g.large, ...)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Schedule even if the same build already has this job')
            [CompletionResult]::new('--private', '--private', [CompletionResultType]::ParameterName, 'Ask the runner to keep the results private')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the request that would be sent; send and store nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status')
            [CompletionResult]::new('--bisect', '--bisect', [CompletionResultType]::ParameterName, 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit')
            [CompletionResult]::new('--validate', '--validate', [CompletionResultType]::ParameterName, 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)')
            [CompletionResult]::new('--shared', '--shared', [CompletionResultType]::ParameterName, 'Publish what the test leaves in /mnt/tuxrun as artefacts (QEMU)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;schedule;boot' {
            [CompletionResult]::new('--device', '--device', [CompletionResultType]::ParameterName, 'Device to run on [default: the runner''s (a LAVA lab''s device_type), else qemu-riscv64]')
            [CompletionResult]::new('--kernel', '--kernel', [CompletionResultType]::ParameterName, 'URL of the kernel image')
            [CompletionResult]::new('--job-definition', '--job-definition', [CompletionResultType]::ParameterName, 'A job definition in the runner''s own format (a LAVA job YAML) to submit instead of one kbridge writes; kbridge fills its placeholders and adds only its callback and metadata')
            [CompletionResult]::new('--modules', '--modules', [CompletionResultType]::ParameterName, 'URL of a compressed modules archive')
            [CompletionResult]::new('--build-id', '--build-id', [CompletionResultType]::ParameterName, 'Build under test: its KCIDB id (origin:...), or the uid or job id of a build kbridge scheduled')
            [CompletionResult]::new('--after', '--after', [CompletionResultType]::ParameterName, 'Run on the kernel of this build kbridge scheduled (job id or uid): its kernel and modules if it has finished, else as soon as it succeeds; the KCIDB build id is that build')
            [CompletionResult]::new('--parameter', '--parameter', [CompletionResultType]::ParameterName, 'Runner parameter KEY=VALUE passed to the test definitions; repeatable')
            [CompletionResult]::new('--rootfs', '--rootfs', [CompletionResultType]::ParameterName, 'Root filesystem image to boot')
            [CompletionResult]::new('--dtb', '--dtb', [CompletionResultType]::ParameterName, 'Device tree blob')
            [CompletionResult]::new('--bios', '--bios', [CompletionResultType]::ParameterName, 'Firmware (BIOS, OpenSBI) to boot with')
            [CompletionResult]::new('--boot-args', '--boot-args', [CompletionResultType]::ParameterName, 'Extra kernel command line arguments')
            [CompletionResult]::new('--overlay', '--overlay', [CompletionResultType]::ParameterName, 'An overlay archive unpacked into the root filesystem, at PATH (default /); repeatable')
            [CompletionResult]::new('--command', '--command', [CompletionResultType]::ParameterName, 'A shell command run in the booted system (with the command test); repeatable, in order')
            [CompletionResult]::new('--test-name', '--test-name', [CompletionResultType]::ParameterName, 'A name for the test job, shown by the runner')
            [CompletionResult]::new('--notify-email', '--notify-email', [CompletionResultType]::ParameterName, 'Mail the result to this address; repeatable')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --wait: stop waiting after this long (exit status 124), such as 90m or 2h. For a test, NAME=MINUTES is the runner''s time limit for one of its tests (boot=30); repeatable')
            [CompletionResult]::new('--junit', '--junit', [CompletionResultType]::ParameterName, 'With --wait: write the results as JUnit XML to this file')
            [CompletionResult]::new('--callback-url', '--callback-url', [CompletionResultType]::ParameterName, 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]')
            [CompletionResult]::new('--runner', '--runner', [CompletionResultType]::ParameterName, 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]')
            [CompletionResult]::new('--poll-interval', '--poll-interval', [CompletionResultType]::ParameterName, 'How often `kbridge wait` asks a runner about a job that has not finished (slower for jobs queued a long time) [env: KBRIDGE_POLL_INTERVAL] [default: 30]')
            [CompletionResult]::new('--allow-artifact-host', '--allow-artifact-host', [CompletionResultType]::ParameterName, 'Hosts results may be fetched from, as HOST or HOST:PORT (over https; plain http only from this machine); repeatable; replaces the default. The API''s own host is always allowed [env: KBRIDGE_TUXSUITE_ARTIFACT_HOSTS] [default: storage.tuxsuite.com]')
            [CompletionResult]::new('--lab', '--lab', [CompletionResultType]::ParameterName, 'The LAVA lab to schedule on (a name under [lava.labs]); needed when several are configured [env: KBRIDGE_LAVA_LAB]')
            [CompletionResult]::new('--qemu-image', '--qemu-image', [CompletionResultType]::ParameterName, 'Container image that provides QEMU')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'The runner''s host type to run QEMU on (x86_64, m6a.large, m7g.large, ...)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'Where every job is recorded: an SQLite file, or a PostgreSQL database as postgresql://USER@HOST[:PORT]/DB[?sslmode=…] (shared by several hosts; see docs/postgresql.md) [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Schedule even if the same build already has this job')
            [CompletionResult]::new('--private', '--private', [CompletionResultType]::ParameterName, 'Ask the runner to keep the results private')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the request that would be sent; send and store nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the stored job record as one JSON object (with --wait, the summary `kbridge wait --json` prints)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Wait for the job to finish, as `kbridge wait` does, with its output and exit status')
            [CompletionResult]::new('--bisect', '--bisect', [CompletionResultType]::ParameterName, 'With --wait: exit 125 instead of 3 for an infrastructure problem, so `git bisect run` skips the commit')
            [CompletionResult]::new('--validate', '--validate', [CompletionResultType]::ParameterName, 'With --dry-run: ask the LAVA lab whether it would accept the job definition (its validate endpoint)')
            [CompletionResult]::new('--shared', '--shared', [CompletionResultType]::ParameterName, 'Publish what the test leaves in /mnt/tuxrun as artefacts (QEMU)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print no progress indicators or notes, only results and errors')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print each HTTP request kbridge sends and the answer (method, URL, status, time) on stderr, secrets redacted; twice for headers too')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'kbridge;schedule;help' {
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Build a kernel tree')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Submit a plan file: builds, and tests chained to them')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run tests on a built kernel (a boot always runs first)')
            [CompletionResult]::new('boot', 'boot', [CompletionResultType]::ParameterValue, 'Boot a built kernel and run nothing else')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kbridge;schedule;help;build' {
            break
        }
        'kbridge;schedule;help;plan' {
            break
        }
        'kbridge;schedule;help;test' {
            break
        }
        'kbridge;schedule;help;boot' {
            break
        }
        'kbridge;schedule;help;help' {
            break
        }
        'kbridge;help' {
            [CompletionResult]::new('jobs', 'jobs', [CompletionResultType]::ParameterValue, 'List recorded jobs, newest first')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show every stored field of one job')
            [CompletionResult]::new('plans', 'plans', [CompletionResultType]::ParameterValue, 'List recorded plans, newest first, with how many of their jobs are done and what the runner''s plan callback said')
            [CompletionResult]::new('results', 'results', [CompletionResultType]::ParameterValue, 'Show the KCIDB document produced for a job')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print a job''s log from its runner: a build''s log, or a test''s console, streamed')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Ask the runner to cancel jobs that have not finished (exit status 1 if any could not be)')
            [CompletionResult]::new('track', 'track', [CompletionResultType]::ParameterValue, 'Follow jobs kbridge did not schedule (from the runner''s own client or web UI) to their KCIDB documents')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Queue results from a system that is not a runner, or send them, signed, to another kbridge')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Show the resolved settings and where each one came from')
            [CompletionResult]::new('store', 'store', [CompletionResultType]::ParameterValue, 'Copy a whole store (an SQLite file or a PostgreSQL database) into an empty one')
            [CompletionResult]::new('inbox', 'inbox', [CompletionResultType]::ParameterValue, 'List received callbacks, or process one again')
            [CompletionResult]::new('artefacts', 'artefacts', [CompletionResultType]::ParameterValue, 'List what a job produced, or download it')
            [CompletionResult]::new('submit', 'submit', [CompletionResultType]::ParameterValue, 'Send pending KCIDB documents to KCIDB now, then exit')
            [CompletionResult]::new('outbox', 'outbox', [CompletionResultType]::ParameterValue, 'List KCIDB documents and their delivery; retry or check them')
            [CompletionResult]::new('listen', 'listen', [CompletionResultType]::ParameterValue, 'Receive runners'' completion callbacks and write KCIDB documents')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait for jobs to finish, polling their runners, and sum up their results (exit status 0 pass, 1 fail, 3 infrastructure, 124 timeout)')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the setup: one line per check with what to do; exit status 0 only when everything the configuration needs is fine')
            [CompletionResult]::new('schedule', 'schedule', [CompletionResultType]::ParameterValue, 'Submit a build, test or boot test to a runner and record it')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'kbridge;help;jobs' {
            break
        }
        'kbridge;help;show' {
            break
        }
        'kbridge;help;plans' {
            break
        }
        'kbridge;help;results' {
            break
        }
        'kbridge;help;logs' {
            break
        }
        'kbridge;help;cancel' {
            break
        }
        'kbridge;help;track' {
            break
        }
        'kbridge;help;report' {
            break
        }
        'kbridge;help;config' {
            break
        }
        'kbridge;help;store' {
            [CompletionResult]::new('copy', 'copy', [CompletionResultType]::ParameterValue, 'Copy every job, plan, callback, document and delivery from one store into another that holds none, checked (row counts and a digest of every value) before it says done')
            break
        }
        'kbridge;help;store;copy' {
            break
        }
        'kbridge;help;inbox' {
            [CompletionResult]::new('prune', 'prune', [CompletionResultType]::ParameterValue, 'Remove what need not be kept: refused and duplicate callbacks, and unmatched ones past unmatched_ttl; never a pending one')
            [CompletionResult]::new('replay', 'replay', [CompletionResultType]::ParameterValue, 'Process a stored callback again from its stored bytes')
            break
        }
        'kbridge;help;inbox;prune' {
            break
        }
        'kbridge;help;inbox;replay' {
            break
        }
        'kbridge;help;artefacts' {
            break
        }
        'kbridge;help;submit' {
            break
        }
        'kbridge;help;outbox' {
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Put failed documents back in the queue')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Ask KCIDB whether it ingested what was submitted')
            break
        }
        'kbridge;help;outbox;retry' {
            break
        }
        'kbridge;help;outbox;check' {
            break
        }
        'kbridge;help;listen' {
            break
        }
        'kbridge;help;wait' {
            break
        }
        'kbridge;help;doctor' {
            break
        }
        'kbridge;help;schedule' {
            [CompletionResult]::new('build', 'build', [CompletionResultType]::ParameterValue, 'Build a kernel tree')
            [CompletionResult]::new('plan', 'plan', [CompletionResultType]::ParameterValue, 'Submit a plan file: builds, and tests chained to them')
            [CompletionResult]::new('test', 'test', [CompletionResultType]::ParameterValue, 'Run tests on a built kernel (a boot always runs first)')
            [CompletionResult]::new('boot', 'boot', [CompletionResultType]::ParameterValue, 'Boot a built kernel and run nothing else')
            break
        }
        'kbridge;help;schedule;build' {
            break
        }
        'kbridge;help;schedule;plan' {
            break
        }
        'kbridge;help;schedule;test' {
            break
        }
        'kbridge;help;schedule;boot' {
            break
        }
        'kbridge;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
