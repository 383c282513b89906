//! A personal trial's design (POST /trials, `tonus trial plan`): the form's numbers and arm
//! names become a `TrialDesign` whose `calendar()` must refuse with the field it rejects or
//! build a calendar within the documented limits, quickly, whatever the numbers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tonus_stats::design::{Outcome, TrialDesign, MAX_TRIAL_DAYS};

fn u32_at(data: &[u8], i: usize) -> u32 {
    let mut b = [0u8; 4];
    for (k, byte) in b.iter_mut().enumerate() {
        *byte = data.get(i + k).copied().unwrap_or(0);
    }
    u32::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 26 {
        return;
    }
    let threshold = f64::from_le_bytes(data[16..24].try_into().unwrap_or([0; 8]));
    // The arms as typed: a comma-separated list, as the form's `arms` field.
    let arms: Vec<String> = String::from_utf8_lossy(&data[26..])
        .split(',')
        .map(|a| a.trim().to_string())
        .collect();
    let design = TrialDesign {
        arms,
        baseline_days: u32_at(data, 0),
        period_days: u32_at(data, 4),
        washout_days: u32_at(data, 8),
        blocks: u32_at(data, 12),
        seed: u64::from(data[24]),
        primary_outcome: Outcome::ALL[usize::from(data[25]) % Outcome::ALL.len()],
        success_threshold: threshold,
    };
    if let Ok(cal) = design.calendar() {
        assert!(cal.total_days <= MAX_TRIAL_DAYS, "a trial of {} days", cal.total_days);
        assert_eq!(
            cal.periods.len() as u64,
            u64::from(design.blocks) * design.arms.len() as u64
        );
        for p in &cal.periods {
            assert!(p.days.start < p.days.end && p.analysed.start < p.analysed.end);
            assert!(p.arm < design.arms.len());
        }
    }
});
