//! `kbridge report FILE|-`: results from a system that is not a runner,
//! queued here, or signed and sent to another kbridge.

use std::io::Read;

use serde_json::json;

use crate::cli::ReportArgs;
use crate::clock::now_ms;
use crate::commands::{json, print, Context};
use crate::config::{keys, read_secret_file, ConfigError, Source};
use crate::error::{exit, Error};
use crate::kcidb::check::{check, Rules};
use crate::report;
use crate::store::{NewDocument, Queued, Store};

/// The largest results file read.
const MAX_FILE: u64 = 16 << 20;

pub fn run(args: ReportArgs, ctx: &Context) -> Result<u8, Error> {
    let config = ctx.load()?;
    let shown = args.file.display().to_string();
    let bytes = read_input(&args.file)?;
    let parsed = report::parse(&bytes)
        .map_err(|why| Error::Failed(format!("{shown}: {why}; nothing was queued")))?;

    if let Some(to) = &args.to {
        let source = args
            .source
            .clone()
            .expect("clap requires --source with --to");
        let secret = match &args.secret_file {
            Some(f) => read_secret_file(f, "the report secret", &Source::Flag("secret-file"))?,
            None => {
                let path = config.get_named(keys::REPORT_SECRET_FILE, &source).ok_or_else(|| {
                    Error::Config(ConfigError::Runner(format!(
                        "no secret for source '{source}': give --secret-file FILE or set secret_file under [report.sources.{source}]"
                    )))
                })?;
                read_secret_file(
                    &path.value,
                    &format!("the secret of report source '{source}'"),
                    &path.source,
                )?
            }
        };
        let sent = report::send(
            to,
            &source,
            &secret,
            &bytes,
            config.required(keys::HTTP_TIMEOUT),
        )?;
        if args.json {
            print(&json(
                &json!({"sent_to": sent.url, "status": sent.status, "answer": sent.answer}),
            ))?;
        } else if sent.duplicate {
            print(&format!(
                "{} already had report {}",
                sent.url, parsed.test_uid
            ))?;
        } else {
            print(&format!(
                "sent report {} ({} test(s)) to {}: accepted",
                parsed.test_uid,
                parsed.tests.len(),
                sent.url
            ))?;
        }
        return Ok(exit::SUCCESS);
    }

    let origin = config.origin();
    let doc = crate::kcidb::report_document(&parsed, &origin);
    let mut store = Store::open(&config.database()?)?;
    let value = serde_json::to_value(&doc).expect("documents always serialise");
    let read = store.read();
    let known = |id: &str| {
        id.split_once(':')
            .is_some_and(|(_, uid)| read.build_known(uid).unwrap_or(false))
    };
    check(&value, &Rules::own(&origin, &known)).map_err(|why| {
        Error::Failed(format!(
            "{shown}: its KCIDB document fails a check: {why}; nothing was queued"
        ))
    })?;
    let mut document = serde_json::to_string_pretty(&doc).expect("documents always serialise");
    document.push('\n');
    let (builds, needs) = crate::kcidb::references(&doc, &origin);
    let label = format!("report {} from {}", parsed.test_uid, parsed.runtime);
    let batch = store.batch()?;
    let queued = batch.queue_document(
        &NewDocument {
            key: &crate::pipeline::report_key("local", &parsed.test_uid),
            job_id: None,
            label: &label,
            document: &document,
            builds: &builds,
            needs_builds: &needs,
        },
        now_ms(),
    )?;
    batch.commit()?;
    let (id, what) = match queued {
        Queued::New(id) => (id, "queued"),
        Queued::Replaced(id) => (id, "queued again, replacing the version not sent yet"),
        Queued::Unchanged(id) => (id, "already queued"),
        Queued::ChangedAfterSubmission(id) => {
            (id, "already submitted: the bytes first sent are kept")
        }
    };
    if args.json {
        print(&json(
            &json!({"outbox": id, "tests": parsed.tests.len(), "result": what}),
        ))?;
    } else {
        print(&format!(
            "report {} ({} test(s)): {what} as outbox {id}; `kbridge submit` sends it",
            parsed.test_uid,
            parsed.tests.len()
        ))?;
    }
    Ok(exit::SUCCESS)
}

fn read_input(path: &std::path::Path) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    let result = if path.as_os_str() == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_FILE + 1).read_to_end(&mut bytes))
    };
    result.map_err(|e| Error::io(format!("cannot read {}", path.display()), &e))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(Error::Failed(format!(
            "{} is larger than {MAX_FILE} bytes; split the report",
            path.display()
        )));
    }
    Ok(bytes)
}
