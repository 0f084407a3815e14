//! Checks that need the registry or the whole graph: component types, pipeline
//! references, signal support, empty or repeated lists, unused components.
//!
//! What comes out is consistent even when errors were found: every id in a
//! pipeline list is in the matching section, has a registered type that supports
//! the pipeline's signal, and appears once.

use std::collections::{HashMap, HashSet};

use weir_core::{ComponentId, Registry, Signal};

use super::parse::{Declared, Document, RawPipeline, Section};
use super::values::one_of;
use super::{ComponentEntry, Diagnostics, PipelineConfig};

/// The checked components (indexed like [`Section::ALL`]) and pipelines.
pub(crate) struct Checked {
    pub components: [Vec<ComponentEntry>; 3],
    pub pipelines: Vec<PipelineConfig>,
}

/// What a declared id stands for.
enum Status {
    /// Known type, usable config: these are its factory's signals.
    Ready(&'static [Signal]),
    /// Declared, but unknown type or unusable config (already reported): left out,
    /// and references to it are not reported again.
    Broken,
}

/// Runs every check; each problem goes to `diags`, and the bad parts are left out.
pub(crate) fn check(doc: Document, registry: &Registry, diags: &mut Diagnostics<'_>) -> Checked {
    let mut status: [HashMap<ComponentId, Status>; 3] = Default::default();
    let mut components: [Vec<ComponentEntry>; 3] = Default::default();
    for (i, section) in Section::ALL.into_iter().enumerate() {
        for d in &doc.components[i] {
            let s = declare(d, section, registry, diags, &mut components[i]);
            status[i].insert(d.id.clone(), s);
        }
    }

    let mut used: [HashSet<ComponentId>; 3] = Default::default();
    let mut pipelines = Vec::new();
    match &doc.pipelines {
        Some(ps) if ps.is_empty() => diags.error(
            "service.pipelines",
            "no pipelines: declare at least one under `service.pipelines`, such as \
             `logs: { receivers: [stdin], exporters: [file] }`",
        ),
        Some(ps) => {
            for p in ps {
                if let Some(ok) = pipeline(p, &status, &mut used, diags) {
                    pipelines.push(ok);
                }
            }
        }
        // The shape was wrong, which is already reported.
        None => {}
    }

    for (i, section) in Section::ALL.into_iter().enumerate() {
        for d in &doc.components[i] {
            let ready = matches!(status[i].get(&d.id), Some(Status::Ready(_)));
            if ready && !used[i].contains(&d.id) {
                let noun = section.noun();
                diags.warning(
                    &d.path,
                    format!(
                        "{noun} `{}` is declared but used in no pipeline, so it will not run",
                        d.id
                    ),
                );
            }
        }
    }
    Checked {
        components,
        pipelines,
    }
}

/// Looks a declared component's type up; keeps it if it can be built.
fn declare(
    d: &Declared,
    section: Section,
    registry: &Registry,
    diags: &mut Diagnostics<'_>,
    out: &mut Vec<ComponentEntry>,
) -> Status {
    let t = d.id.type_name();
    let signals = match section {
        Section::Receivers => registry.receiver(t).map(|f| f.signals()),
        Section::Processors => registry.processor(t).map(|f| f.signals()),
        Section::Exporters => registry.exporter(t).map(|f| f.signals()),
    };
    let Some(signals) = signals else {
        let noun = section.noun();
        let kind = match section {
            Section::Receivers => weir_core::telemetry::Kind::Receiver,
            Section::Processors => weir_core::telemetry::Kind::Processor,
            Section::Exporters => weir_core::telemetry::Kind::Exporter,
        };
        let known = registry.type_names(kind);
        let expected = if known.is_empty() {
            format!("this build has no {noun} types")
        } else {
            format!("expected one of the known {noun} types: {}", one_of(&known))
        };
        diags.error(&d.path, format!("unknown {noun} type `{t}`; {expected}"));
        return Status::Broken;
    };
    let Some(config) = &d.config else {
        return Status::Broken;
    };
    out.push(ComponentEntry {
        id: d.id.clone(),
        config: config.clone(),
        path: d.path.clone(),
    });
    Status::Ready(signals)
}

/// Checks one pipeline's lists; returns it with only the usable ids, or `None`
/// when its id is bad.
fn pipeline(
    p: &RawPipeline,
    status: &[HashMap<ComponentId, Status>; 3],
    used: &mut [HashSet<ComponentId>; 3],
    diags: &mut Diagnostics<'_>,
) -> Option<PipelineConfig> {
    let name = p.path.strip_prefix("service.pipelines.").unwrap_or(&p.path);
    let mut lists: [Vec<ComponentId>; 3] = Default::default();
    for (i, section) in Section::ALL.into_iter().enumerate() {
        let (key, noun) = (section.key(), section.noun());
        let list = &p.lists[i];
        // Processors are optional; data needs a way in and a way out.
        if list.written == 0 && section != Section::Processors {
            diags.error(
                &list.path,
                format!("pipeline `{name}` has no {key}; list at least one under `{key}`"),
            );
        }
        let mut seen = HashSet::new();
        for (id, path) in &list.items {
            used[i].insert(id.clone());
            if !seen.insert(id) {
                let message = if section == Section::Processors {
                    // One instance per listing would be ambiguous state-wise; a
                    // second instance needs its own id.
                    format!(
                        "processor `{id}` is listed twice in pipeline `{name}`; to run it \
                         twice, declare a second one such as `{}/2`",
                        id.type_name()
                    )
                } else {
                    format!("{noun} `{id}` is listed twice in the {key} of pipeline `{name}`")
                };
                diags.error(path, message);
                continue;
            }
            match status[i].get(id) {
                None => diags.error(path, undeclared(id, section, status)),
                Some(Status::Broken) => {}
                Some(Status::Ready(signals)) => match &p.id {
                    Some(pid) if !signals.contains(&pid.signal) => diags.error(
                        path,
                        format!(
                            "{noun} `{id}` does not support {}; it supports {}",
                            pid.signal,
                            signal_list(signals)
                        ),
                    ),
                    _ => lists[i].push(id.clone()),
                },
            }
        }
    }
    let [receivers, processors, exporters] = lists;
    Some(PipelineConfig {
        id: p.id.clone()?,
        receivers,
        processors,
        exporters,
        channel: p.channel,
        path: p.path.clone(),
    })
}

/// "not declared", with a hint when the id is declared in another section.
fn undeclared(
    id: &ComponentId,
    section: Section,
    status: &[HashMap<ComponentId, Status>; 3],
) -> String {
    let (key, noun) = (section.key(), section.noun());
    let elsewhere = Section::ALL
        .into_iter()
        .enumerate()
        .find(|(j, _)| status[*j].contains_key(id))
        .map(|(_, s)| s.key());
    match elsewhere {
        Some(other) => {
            format!("{noun} `{id}` is not declared under `{key}` (it is declared under `{other}`)")
        }
        None => format!("{noun} `{id}` is not declared under `{key}`"),
    }
}

/// `logs, traces and metrics`, as plain words (the message reads as prose).
fn signal_list(signals: &[Signal]) -> String {
    let names: Vec<String> = signals.iter().map(|s| s.to_string()).collect();
    if names.is_empty() {
        return "no signal".into();
    }
    join(&names, "and")
}

fn join(items: &[String], conj: &str) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} {conj} {last}", rest.join(", ")),
        _ => items.concat(),
    }
}
