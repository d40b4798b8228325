//! A moment as the store keeps it: integer milliseconds since the Unix
//! epoch, in both engines (so times compare and sort as numbers
//! everywhere), shown as RFC 3339 UTC with second precision, as kbridge
//! shows every time.

use std::time::Duration;

/// Milliseconds since the Unix epoch, stored as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(pub i64);

impl Stamp {
    pub fn now() -> Stamp {
        Stamp(crate::clock::now_ms())
    }

    /// The moment `d` ago (the epoch for a duration too long).
    pub fn ago(d: Duration) -> Stamp {
        Stamp(crate::clock::ago(d).as_millisecond())
    }

    /// As kbridge shows times: RFC 3339 UTC, to the second.
    pub fn text(self) -> String {
        crate::clock::rfc3339(
            jiff::Timestamp::from_millisecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        )
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl rusqlite::ToSql for Stamp {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.0.into())
    }
}

impl rusqlite::types::FromSql for Stamp {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Stamp> {
        v.as_i64().map(Stamp)
    }
}

impl postgres::types::ToSql for Stamp {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        <i64 as postgres::types::ToSql>::accepts(ty)
    }

    postgres::types::to_sql_checked!();
}

impl<'a> postgres::types::FromSql<'a> for Stamp {
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Stamp, Box<dyn std::error::Error + Sync + Send>> {
        i64::from_sql(ty, raw).map(Stamp)
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        <i64 as postgres::types::FromSql>::accepts(ty)
    }
}

/// A stored moment that may be absent, shown.
pub fn text_opt(s: Option<Stamp>) -> Option<String> {
    s.map(Stamp::text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_to_the_second_as_every_time_is() {
        assert_eq!(Stamp(1_700_000_000_999).text(), "2023-11-14T22:13:20Z");
        assert_eq!(Stamp::ago(Duration::MAX), Stamp(0));
    }
}
