//! Budget periods on the UTC calendar: where the current one started and when it ends.

use crate::config::Period;

const DAY_MS: u64 = 86_400_000;

/// The current period containing `now_ms`: (a label naming it, its end in unix ms; `None`
/// for `total`, which never ends).
pub fn current(period: Period, now_ms: u64) -> (String, Option<u64>) {
    let day = now_ms / DAY_MS;
    match period {
        Period::Total => ("total".to_string(), None),
        Period::Day => {
            let (y, m, d) = civil(day);
            (format!("d{y:04}{m:02}{d:02}"), Some((day + 1) * DAY_MS))
        }
        Period::Week => {
            // 1970-01-01 was a Thursday: days since the Monday before it.
            let monday = day - (day + 3) % 7;
            let (y, m, d) = civil(monday);
            (format!("w{y:04}{m:02}{d:02}"), Some((monday + 7) * DAY_MS))
        }
        Period::Month => {
            let (y, m, _) = civil(day);
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            (
                format!("m{y:04}{m:02}"),
                Some(days_from_civil(ny, nm, 1) * DAY_MS),
            )
        }
    }
}

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian).
fn civil(days: u64) -> (i64, u32, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-11-24T11:00:00Z, a Tuesday.
    const NOW: u64 = 1_795_518_000_000;

    #[test]
    fn periods_on_the_utc_calendar() {
        assert_eq!(
            current(Period::Day, NOW),
            ("d20261124".to_string(), Some(1_795_564_800_000))
        );
        // The ISO week started on Monday 2026-11-23 and ends on Monday 2026-11-30.
        assert_eq!(
            current(Period::Week, NOW),
            ("w20261123".to_string(), Some(1_795_996_800_000))
        );
        // November ends at 2026-12-01T00:00Z.
        assert_eq!(
            current(Period::Month, NOW),
            ("m202611".to_string(), Some(1_796_083_200_000))
        );
        assert_eq!(current(Period::Total, NOW), ("total".to_string(), None));
    }

    #[test]
    fn month_ends_roll_over_years_and_leap_days() {
        // 2028-02-10 -> ends 2028-03-01 (leap year); 2026-12-31 -> 2027-01-01.
        let feb = days_from_civil(2028, 2, 10) * DAY_MS;
        assert_eq!(
            current(Period::Month, feb).1,
            Some(days_from_civil(2028, 3, 1) * DAY_MS)
        );
        assert_eq!(
            days_from_civil(2028, 3, 1) - days_from_civil(2028, 2, 1),
            29
        );
        let dec = days_from_civil(2026, 12, 31) * DAY_MS + 5;
        assert_eq!(current(Period::Month, dec).0, "m202612");
        assert_eq!(
            current(Period::Month, dec).1,
            Some(days_from_civil(2027, 1, 1) * DAY_MS)
        );
        assert_eq!(civil(0), (1970, 1, 1));
    }
}
