use std::collections::HashMap;

use anyhow::Result;
use jiff::civil::Date;
use tonus_domain::input::parse_date;
use tonus_domain::{daily_counts, Family, Patient, SpasmKind, ValidationError};

use crate::cli::{DaysArgs, ListArgs, What};
use crate::context::Ctx;
use crate::output::{
    checkin_line, dose_line, episode_line, event_line, exercise_line, print_json, side_effect_line, EpisodeView,
};

/// An episode filter: one sub-kind or a whole family.
enum KindFilter {
    Kind(SpasmKind),
    Family(Family),
}

impl KindFilter {
    fn parse(s: &str) -> Result<Self, ValidationError> {
        if let Some(f) = Family::parse(s) {
            return Ok(KindFilter::Family(f));
        }
        SpasmKind::parse(s).map(KindFilter::Kind).map_err(|e| ValidationError {
            rule: format!("{}, or a family: involuntary-movement, stiffness", e.rule),
            ..e
        })
    }
    fn matches(&self, k: SpasmKind) -> bool {
        match self {
            KindFilter::Kind(want) => *want == k,
            KindFilter::Family(f) => k.family() == *f,
        }
    }
}

fn range(ctx: &Ctx, p: &Patient, from: Option<&str>, to: Option<&str>) -> Result<(Option<Date>, Option<Date>)> {
    let from = from.map(|f| parse_date("from", f, &p.zone, ctx.now)).transpose()?;
    let to = to.map(|t| parse_date("to", t, &p.zone, ctx.now)).transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            return Err(ValidationError::new("to", format!("on or after --from ({f})"), t).into());
        }
    }
    Ok((from, to))
}

pub async fn run(ctx: &Ctx, a: ListArgs) -> Result<()> {
    let p = ctx.patient().await?;
    let (from, to) = range(ctx, &p, a.from.as_deref(), a.to.as_deref())?;
    let filter = a.kind.as_deref().map(KindFilter::parse).transpose()?;
    let wants = |w: What| a.what == w || a.what == What::All;
    let mut json = serde_json::Map::new();
    let heading = |title: &str| {
        if a.what == What::All && !ctx.json {
            println!("\n{title}");
        }
    };

    if wants(What::Episodes) {
        let episodes: Vec<_> = ctx
            .store
            .list_episodes(&p, from, to)
            .await?
            .into_iter()
            .filter(|e| filter.as_ref().is_none_or(|f| f.matches(e.value.kind())))
            .collect();
        heading("Episodes");
        if ctx.json {
            json.insert(
                "episodes".into(),
                serde_json::to_value(episodes.iter().map(EpisodeView::new).collect::<Vec<_>>())?,
            );
        } else if episodes.is_empty() {
            println!("No episodes in this range. Log one with `tonus log spasm --kind twitch`.");
        } else {
            for e in &episodes {
                println!("{}", episode_line(e.id, &e.value));
            }
            println!("{} episode(s).", episodes.len());
        }
    }
    if wants(What::Checkins) {
        let items = ctx.store.list_checkins(&p, from, to).await?;
        heading("Check-ins");
        if ctx.json {
            json.insert("checkins".into(), serde_json::to_value(&items)?);
        } else {
            items.iter().for_each(|c| println!("{}", checkin_line(c.id, &c.value)));
        }
    }
    if wants(What::Treatments) {
        let regimens = ctx.store.list_regimens(&p).await?;
        heading("Regimens");
        if ctx.json {
            json.insert("regimens".into(), serde_json::to_value(&regimens)?);
        } else {
            regimens
                .iter()
                .for_each(|r| println!("{}:{}", r.treatment_name, crate::output::regimen_line(r)));
        }
    }
    if wants(What::Doses) {
        let names: HashMap<i64, String> = ctx
            .store
            .list_regimens(&p)
            .await?
            .into_iter()
            .map(|r| (r.id, r.treatment_name))
            .collect();
        let doses = ctx.store.list_doses(&p, from, to).await?;
        heading("Doses");
        if ctx.json {
            let v: Vec<_> = doses.iter().map(|(rid, d)| serde_json::json!({"regimen_id": rid, "treatment": names.get(rid), "id": d.id, "dose": d.value})).collect();
            json.insert("doses".into(), serde_json::Value::Array(v));
        } else {
            for (rid, d) in &doses {
                println!(
                    "{}",
                    dose_line(d.id, names.get(rid).map_or("?", String::as_str), &d.value)
                );
            }
        }
    }
    if wants(What::Exercise) {
        let items = ctx.store.list_exercise(&p, from, to).await?;
        heading("Exercise");
        if ctx.json {
            json.insert("exercise".into(), serde_json::to_value(&items)?);
        } else {
            items.iter().for_each(|s| println!("{}", exercise_line(s.id, &s.value)));
        }
    }
    if wants(What::Events) {
        let items = ctx.store.list_events(&p, from, to).await?;
        heading("Clinical events");
        if ctx.json {
            json.insert("events".into(), serde_json::to_value(&items)?);
        } else {
            items.iter().for_each(|e| println!("{}", event_line(e.id, &e.value)));
        }
    }
    if wants(What::SideEffects) {
        let items = ctx.store.list_side_effects(&p, from, to).await?;
        heading("Side effects");
        if ctx.json {
            json.insert("side_effects".into(), serde_json::to_value(&items)?);
        } else {
            items
                .iter()
                .for_each(|s| println!("{}", side_effect_line(s.id, &s.value)));
        }
    }
    if ctx.json {
        // A single kind prints its bare array, which is what a script piping to jq expects.
        if a.what != What::All && json.len() == 1 {
            if let Some((_, v)) = json.into_iter().next() {
                return print_json(&v);
            }
            return Ok(());
        }
        return print_json(&json);
    }
    Ok(())
}

pub async fn days(ctx: &Ctx, a: DaysArgs) -> Result<()> {
    let p = ctx.patient().await?;
    let (from, to) = range(ctx, &p, Some(&a.from), Some(&a.to))?;
    let (Some(from), Some(to)) = (from, to) else {
        return Ok(());
    };
    if (to - from).get_days() > 3660 {
        return Err(ValidationError::new("from", "at most 10 years before --to", from).into());
    }
    let episodes = ctx.store.episode_days(&p, from, to).await?;
    let confirmed = ctx.store.confirmed_days(&p, from, to).await?;
    let days = daily_counts(from, to, &episodes, &confirmed);
    if ctx.json {
        return print_json(&days);
    }
    println!("{:<12} {:>12} {:>10}  note", "day", "involuntary", "stiffness");
    let show = |v: Option<u32>| v.map_or("unknown".to_string(), |v| v.to_string());
    for d in &days {
        let note = if d.confirmed {
            String::new()
        } else if d.logged > 0 {
            format!("not confirmed ({} logged)", d.logged)
        } else {
            "not confirmed".to_string()
        };
        println!(
            "{:<12} {:>12} {:>10}  {note}",
            d.date.to_string(),
            show(d.involuntary_movement),
            show(d.stiffness)
        );
    }
    let unknown = days.iter().filter(|d| !d.confirmed).count();
    if unknown > 0 && !ctx.quiet {
        eprintln!(
            "{unknown} of {} day(s) are unknown: confirm a day with `tonus checkin` or `tonus log none --date DAY`.",
            days.len()
        );
    }
    Ok(())
}
