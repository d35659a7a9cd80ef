//! The global caps on what a wheel may make truewheel read: sizes with units on the
//! command line, turned into the core's [`Limits`].

use clap::Args;
use truewheel_core::wheel::Limits;

/// `--max-member-size`, `--max-total-size`, `--max-ratio`, `--max-members`,
/// `--max-table-size`.
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Refuse a member that inflates to more than this (e.g. 4G, 512M, 1000000) [default: 4G].
    #[arg(long = "max-member-size", global = true, value_name = "SIZE", value_parser = parse_size)]
    member_size: Option<u64>,
    /// Refuse a wheel whose members inflate to more than this in all [default: 16G].
    #[arg(long = "max-total-size", global = true, value_name = "SIZE", value_parser = parse_size)]
    total_size: Option<u64>,
    /// Refuse a member over 64 MiB that inflates more than this many times its size [default: 1000].
    #[arg(long = "max-ratio", global = true, value_name = "N")]
    ratio: Option<u64>,
    /// Refuse a wheel with more members than this [default: 1000000].
    #[arg(long = "max-members", global = true, value_name = "N")]
    members: Option<usize>,
    /// Refuse an ELF member whose string or symbol table is larger than this, held in memory while it is read [default: 256M].
    #[arg(long = "max-table-size", global = true, value_name = "SIZE", value_parser = parse_size)]
    table_size: Option<u64>,
}

impl LimitArgs {
    /// The core's limits: the defaults, with what was given on the command line.
    pub fn limits(&self) -> Limits {
        let d = Limits::default();
        Limits {
            max_member_size: self.member_size.unwrap_or(d.max_member_size),
            max_total_size: self.total_size.unwrap_or(d.max_total_size),
            max_ratio: self.ratio.unwrap_or(d.max_ratio),
            max_members: self.members.unwrap_or(d.max_members),
            max_table: self.table_size.unwrap_or(d.max_table),
        }
    }
}

/// A byte count: digits, then optionally K, M, G or T (powers of 1024; `KiB`, `MB` and
/// a trailing `B` are read the same way).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (write e.g. 512M, 4G or 1000000)"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("{s:?} has an unknown unit (use K, M, G or T)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2k"), Ok(2048));
        assert!(parse_size("G").is_err());
        assert!(parse_size("3X").is_err());
        assert!(parse_size("99999999999T").is_err());
    }
}
