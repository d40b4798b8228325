
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
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand jobs 'List recorded jobs, newest first'
            cand show 'Show every stored field of one job'
            cand results 'Show the KCIDB document produced for a job'
            cand config 'Show the resolved settings and where each one came from'
            cand generate 'Write shell completions and man pages into a directory'
            cand schedule 'Submit a build, test or boot test to a runner and record it'
            cand inbox 'List received callbacks, or process one again'
            cand listen 'Receive runners'' completion callbacks and write KCIDB documents'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;jobs'= {
            cand --kind 'Only jobs of this kind'
            cand --state 'Only jobs in this state'
            cand --limit 'Show at most this many jobs'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print a JSON array instead of a table'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;show'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print the job as one JSON object'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;results'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print the KCIDB document itself'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;config'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print the settings as one JSON object'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;generate'= {
            cand --out-dir 'Directory that receives completions/ and man/'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;schedule'= {
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand build 'Build a kernel tree'
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
            cand --callback-url 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]'
            cand --runner 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --private 'Ask the runner to keep the results private'
            cand --dry-run 'Print the request that would be sent; send and store nothing'
            cand --json 'Print the stored job record as one JSON object'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;schedule;test'= {
            cand --device 'Device to run on'
            cand --kernel 'URL of the kernel image'
            cand --modules 'URL of a compressed modules archive'
            cand --build-id 'Build under test: its KCIDB id (origin:...), or the uid or job id of a build kbridge scheduled'
            cand --parameter 'Runner parameter KEY=VALUE passed to the test definitions; repeatable'
            cand --tests 'Tests to run, comma-separated and/or repeated (ltp-smoke,ltp-fsx)'
            cand --collection 'Test collection used in KCIDB paths [default: the first test''s name up to its first ''-'']'
            cand --callback-url 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]'
            cand --runner 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --private 'Ask the runner to keep the results private'
            cand --dry-run 'Print the request that would be sent; send and store nothing'
            cand --json 'Print the stored job record as one JSON object'
            cand --force 'Schedule even if the same build already has this job'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;schedule;boot'= {
            cand --device 'Device to run on'
            cand --kernel 'URL of the kernel image'
            cand --modules 'URL of a compressed modules archive'
            cand --build-id 'Build under test: its KCIDB id (origin:...), or the uid or job id of a build kbridge scheduled'
            cand --parameter 'Runner parameter KEY=VALUE passed to the test definitions; repeatable'
            cand --callback-url 'Public base URL where `kbridge listen` is reachable; jobs report back to {URL}/callback/{runner}/{kind} [env: KBRIDGE_CALLBACK_URL]'
            cand --runner 'Runner to submit to [env: KBRIDGE_RUNNER] [default: the first registered runner (see --help)]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --private 'Ask the runner to keep the results private'
            cand --dry-run 'Print the request that would be sent; send and store nothing'
            cand --json 'Print the stored job record as one JSON object'
            cand --force 'Schedule even if the same build already has this job'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;schedule;help'= {
            cand build 'Build a kernel tree'
            cand test 'Run tests on a built kernel (a boot always runs first)'
            cand boot 'Boot a built kernel and run nothing else'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;schedule;help;build'= {
        }
        &'kbridge;schedule;help;test'= {
        }
        &'kbridge;schedule;help;boot'= {
        }
        &'kbridge;schedule;help;help'= {
        }
        &'kbridge;inbox'= {
            cand --limit 'Show at most this many callbacks'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --json 'Print a JSON array instead of a table'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand replay 'Process a stored callback again from its stored bytes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;inbox;replay'= {
            cand --output-dir 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;inbox;help'= {
            cand replay 'Process a stored callback again from its stored bytes'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;inbox;help;replay'= {
        }
        &'kbridge;inbox;help;help'= {
        }
        &'kbridge;listen'= {
            cand --bind 'Address `kbridge listen` listens on; port 0 picks a free port [env: KBRIDGE_BIND] [default: 127.0.0.1:8080]'
            cand --output-dir 'Where KCIDB documents are written [env: KBRIDGE_OUTPUT_DIR] [default: $XDG_DATA_HOME/kbridge/kcidb]'
            cand --max-body 'Largest callback body accepted [env: KBRIDGE_MAX_BODY] [default: 1048576]'
            cand --tuxsuite-public-key 'TuxSuite''s OpenSSH public key(s) that sign callbacks: key lines, or files of them (`tuxsuite keys get`); repeatable, for key rotation'
            cand --allow-artifact-host 'Hosts results may be fetched from (any port); repeatable; replaces the defaults [default: storage.tuxsuite.com, tuxapi.tuxsuite.com and the API host]'
            cand --config 'Read settings from this TOML file instead of $XDG_CONFIG_HOME/kbridge/config.toml [env: KBRIDGE_CONFIG]'
            cand --db 'SQLite database that records every job [env: KBRIDGE_DB] [default: $XDG_DATA_HOME/kbridge/kbridge.db]'
            cand --exit-when-done 'Exit once no job in the store is waiting for a callback'
            cand --insecure-skip-verify 'Accept callbacks without checking their signatures. For development only: anyone who can reach the listener can then forge results'
            cand -q 'Print no progress indicators or notes, only results and errors'
            cand --quiet 'Print no progress indicators or notes, only results and errors'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'kbridge;help'= {
            cand jobs 'List recorded jobs, newest first'
            cand show 'Show every stored field of one job'
            cand results 'Show the KCIDB document produced for a job'
            cand config 'Show the resolved settings and where each one came from'
            cand generate 'Write shell completions and man pages into a directory'
            cand schedule 'Submit a build, test or boot test to a runner and record it'
            cand inbox 'List received callbacks, or process one again'
            cand listen 'Receive runners'' completion callbacks and write KCIDB documents'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kbridge;help;jobs'= {
        }
        &'kbridge;help;show'= {
        }
        &'kbridge;help;results'= {
        }
        &'kbridge;help;config'= {
        }
        &'kbridge;help;generate'= {
        }
        &'kbridge;help;schedule'= {
            cand build 'Build a kernel tree'
            cand test 'Run tests on a built kernel (a boot always runs first)'
            cand boot 'Boot a built kernel and run nothing else'
        }
        &'kbridge;help;schedule;build'= {
        }
        &'kbridge;help;schedule;test'= {
        }
        &'kbridge;help;schedule;boot'= {
        }
        &'kbridge;help;inbox'= {
            cand replay 'Process a stored callback again from its stored bytes'
        }
        &'kbridge;help;inbox;replay'= {
        }
        &'kbridge;help;listen'= {
        }
        &'kbridge;help;help'= {
        }
    ]
    $completions[$command]
}
