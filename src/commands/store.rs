//! `kbridge store copy`: a whole store into an empty one, from an SQLite
//! file to PostgreSQL or back.

use crate::cli::{StoreAction, StoreArgs};
use crate::commands::{json, print, Setup};
use crate::error::Error;
use crate::location::Location;
use crate::store::copy::CopyError;
use crate::store::Store;

pub fn run(args: StoreArgs, config: &Setup) -> Result<(), Error> {
    let StoreAction::Copy(args) = args.action;
    let at = |text: &str, which: &str| -> Result<Location, Error> {
        let at = Location::parse(text).map_err(|e| Error::Usage(format!("--{which}: {e}")))?;
        Ok(config.with_password(at)?)
    };
    let (from, to) = (at(&args.from, "from")?, at(&args.to, "to")?);
    if from.to_string() == to.to_string() {
        return Err(Error::Usage(format!(
            "--from and --to are the same store ({from}); name another one to copy into"
        )));
    }
    let source = Store::open_existing(&from)?;
    let mut target = Store::open(&to)?;
    let copied = source.copy_into(&mut target).map_err(|e| match e {
        CopyError::Store(e) => Error::Store(e),
        e @ CopyError::NotEmpty { .. } => Error::Usage(e.to_string()),
        e @ CopyError::Mismatch { .. } => Error::Failed(e.to_string()),
    })?;
    if args.json {
        return print(&json(&serde_json::json!({
            "from": from.to_string(),
            "to": to.to_string(),
            "tables": copied.tables.iter().map(|(t, n)| (t.clone(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
            "digest": copied.digest,
        })));
    }
    let counts: Vec<String> = copied
        .tables
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(t, n)| format!("{n} {t}"))
        .collect();
    print(&format!(
        "copied {from} into {to}: {}; checked (sha256 {})",
        if counts.is_empty() {
            "nothing to copy".to_string()
        } else {
            counts.join(", ")
        },
        &copied.digest[..16]
    ))
}
