//! A state machine definition drawn as an SVG graph: [`model`] reads the
//! states and transitions from the ASL JSON, [`layout`] places them (a small
//! layered layout of our own; its module doc says why), and [`draw`] renders
//! the SVG, every state a `<g class="state" data-state="…">` the page's
//! script can colour and select.

pub mod layout;
pub mod model;

use std::collections::HashMap;

use maud::{Markup, html};

use layout::{Laid, LaidNode};
use model::EdgeKind;

/// Draws `definition`; `classes` gives a CSS class per state name (an
/// execution's progress), states not in it are drawn plain.
pub fn draw(
    definition: &str,
    classes: &HashMap<String, String>,
) -> Result<Markup, model::ModelError> {
    let scope = model::parse(definition)?;
    let laid = layout::layout(&scope);
    let (w, h) = (laid.width + 16.0, laid.height + 16.0);
    Ok(html! {
        svg class="graph" xmlns="http://www.w3.org/2000/svg" role="img"
            width=(format!("{w:.0}")) height=(format!("{h:.0}"))
            viewBox=(format!("-8 -8 {w:.0} {h:.0}")) {
            defs {
                marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse" {
                    path d="M0,0 L10,5 L0,10 z" class="arrowhead" {}
                }
            }
            (scope_svg(&laid, classes))
        }
    })
}

fn edge_class(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Next => "edge next",
        EdgeKind::Choice => "edge choice",
        EdgeKind::Default => "edge default",
        EdgeKind::Catch => "edge catch",
    }
}

fn label_class(kind: EdgeKind) -> &'static str {
    match kind {
        EdgeKind::Next => "label-next",
        EdgeKind::Choice => "label-choice",
        EdgeKind::Default => "label-default",
        EdgeKind::Catch => "label-catch",
    }
}

fn scope_svg(l: &Laid, classes: &HashMap<String, String>) -> Markup {
    html! {
        circle class="start" cx=(f(l.start.0)) cy=(f(l.start.1)) r="6" {}
        path class="edge next" marker-end="url(#arrow)"
            d=(format!("M{:.1},{:.1} L{:.1},{:.1}", l.start.0, l.start.1 + 6.0, l.start_to.0, l.start_to.1)) {}
        @for e in &l.edges {
            path class=(edge_class(e.kind)) marker-end="url(#arrow)" d=(e.path) {}
        }
        @for n in &l.nodes {
            (node_svg(n, classes))
        }
        @for e in l.edges.iter().filter(|e| !e.label.is_empty()) {
            text class=(format!("label {}", label_class(e.kind))) x=(f(e.label_at.0)) y=(f(e.label_at.1)) text-anchor="middle" dominant-baseline="middle" { (e.label) }
        }
    }
}

fn node_svg(n: &LaidNode, classes: &HashMap<String, String>) -> Markup {
    let status = classes
        .get(&n.name)
        .map(String::as_str)
        .unwrap_or("st-none");
    let group = !n.children.is_empty();
    let class = format!(
        "state {}{}{}",
        status,
        if group { " group" } else { "" },
        if n.end { " end" } else { "" }
    );
    html! {
        g class=(class) data-state=(n.name) data-type=(n.kind) tabindex="0"
            transform=(format!("translate({:.1},{:.1})", n.x, n.y)) {
            title { (n.name) " (" (n.kind) ")" }
            rect class="box" width=(f(n.w)) height=(f(n.h)) rx="8" {}
            @if group {
                text class="name" x=(f(n.w / 2.0)) y="17" text-anchor="middle" { (n.name) }
                text class="type" x=(f(n.w / 2.0)) y="31" text-anchor="middle" { (n.kind) }
                @for (x, y, inner) in &n.children {
                    g class="scope" transform=(format!("translate({x:.1},{y:.1})")) {
                        rect class="scope-box" width=(f(inner.width)) height=(f(inner.height)) rx="6" {}
                        (scope_svg(inner, classes))
                    }
                }
            } @else {
                text class="name" x=(f(n.w / 2.0)) y="21" text-anchor="middle" { (n.name) }
                text class="type" x=(f(n.w / 2.0)) y="37" text-anchor="middle" { (n.kind) }
            }
        }
    }
}

fn f(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_is_a_named_group_and_names_are_escaped() {
        let def = r#"{"StartAt":"<b>&","States":{"<b>&":{"Type":"Pass","Next":"M"},
            "M":{"Type":"Map","ItemProcessor":{"StartAt":"In","States":{"In":{"Type":"Pass","End":true}}},"End":true}}}"#;
        let mut classes = HashMap::new();
        classes.insert("In".to_owned(), "st-succeeded".to_owned());
        let svg = draw(def, &classes).unwrap().into_string();
        assert!(svg.contains(r#"data-state="&lt;b&gt;&amp;""#), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(
            svg.contains(r#"class="state st-none group end" data-state="M""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"class="state st-succeeded end" data-state="In""#),
            "{svg}"
        );
    }
}
