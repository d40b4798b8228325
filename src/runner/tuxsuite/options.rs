//! TuxSuite's own options of a test or boot: the flags it declares on
//! `kbridge schedule test|boot` and what its plan files give, kept in the
//! job's runner options and read back here, checked, when the request is
//! built.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{JobKind, RunnerOptions};
use crate::runner::{OptionDef, OptionValue, PrepareError};

const TESTS: &[JobKind] = &[JobKind::Test, JobKind::Boot];

/// The flags TuxSuite adds to `kbridge schedule test|boot`.
pub const OPTIONS: &[OptionDef] = &[
    OptionDef {
        key: "qemu_image",
        long: "qemu-image",
        value: OptionValue::One("IMAGE"),
        help: "Container image that provides QEMU",
        kinds: TESTS,
    },
    OptionDef {
        key: "shared",
        long: "shared",
        value: OptionValue::Switch,
        help: "Publish what the test leaves in /mnt/tuxrun as artefacts (QEMU)",
        kinds: TESTS,
    },
    OptionDef {
        key: "host",
        long: "host",
        value: OptionValue::One("HOST"),
        help: "The runner's host type to run QEMU on (x86_64, m6a.large, m7g.large, ...)",
        kinds: TESTS,
    },
];

/// A test's TuxSuite options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TestExtras {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qemu_image: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The LAVA lab TuxSuite sends the test to, when not its default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lab: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lava_test_plans_project: Option<String>,
    /// A TuxSuite build tested instead of a kernel URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tuxbuild: Option<String>,
    /// Firmware URLs by TuxSuite's name for them (`fip`, `scp_fw`...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub firmware: Vec<(String, String)>,
}

impl TestExtras {
    /// Reads a job's runner options.
    pub fn of(options: &RunnerOptions) -> Result<TestExtras, PrepareError> {
        serde_json::from_value(Value::Object(options.clone())).map_err(|e| {
            PrepareError::Unsupported(format!("a TuxSuite option of this job cannot be used: {e}"))
        })
    }

    /// As a job's runner options.
    pub fn into_options(self) -> RunnerOptions {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => unreachable!("a struct serialises to an object"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_kept_by_older_records_read_back() {
        let kept =
            serde_json::json!({"qemu_image": "q", "shared": true, "firmware": [["fip", "u"]]});
        let Value::Object(map) = kept else { panic!() };
        let extras = TestExtras::of(&map).unwrap();
        assert_eq!(extras.qemu_image.as_deref(), Some("q"));
        assert!(extras.shared);
        assert_eq!(extras.firmware, vec![("fip".to_string(), "u".to_string())]);
        assert_eq!(extras.clone().into_options(), map);
    }

    #[test]
    fn an_option_tuxsuite_does_not_know_is_refused() {
        let Value::Object(map) = serde_json::json!({"colour": "blue"}) else {
            panic!()
        };
        let e = TestExtras::of(&map).unwrap_err().to_string();
        assert!(e.contains("colour"), "{e}");
    }
}
