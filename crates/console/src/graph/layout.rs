//! A small layered layout of a [`Scope`], written here rather than taken
//! from a crate. Checked on crates.io: `layout-rs` (renders Graphviz dot to
//! SVG) lays out flat graphs only, subgraphs/clusters are an open feature
//! request (nadavrot/layout#37), and Map/Parallel must be boxes holding
//! their own inner graphs; `dagre` (a port of dagre.js with compound
//! graphs) is a 0.1 release of this year, and returns coordinates only, so
//! the SVG, the labels and the state colouring would be ours anyway. State
//! machines are small, mostly forward graphs, for which a simple
//! Sugiyama-style pass is enough:
//!
//! 1. a depth-first walk from `StartAt` (then from any state it does not
//!    reach) marks back edges (loops) and gives a topological order;
//! 2. each state's layer is its longest forward path from the start;
//! 3. layers stack top to bottom, states in a layer sit side by side
//!    (centred, in walk order);
//! 4. edges to the next layer run bottom-centre to top-centre as Bézier
//!    curves; loops, same-layer edges and edges that skip layers run around
//!    the right of the layers they span, so they never cross a state;
//! 5. a Map or Parallel state is a box sized by the layout of its inner
//!    scope(s) (branches side by side), laid out recursively.
//!
//! Everything is iterative or bounded by the definition's JSON nesting, so
//! no definition can overflow the stack.

use std::collections::HashMap;

use super::model::{EdgeKind, Scope, StateNode};

/// Height of a plain state.
const NODE_H: f64 = 48.0;
/// Narrowest and widest plain state.
const MIN_W: f64 = 128.0;
const MAX_W: f64 = 300.0;
/// Approximate width of one character of a state name (13 px sans-serif).
const CHAR_W: f64 = 7.4;
/// Space between states side by side, and between layers.
const H_GAP: f64 = 36.0;
const V_GAP: f64 = 64.0;
/// Padding inside a group box, and the height of its title.
const PAD: f64 = 16.0;
const HEADER: f64 = 38.0;
/// Room above a scope's first layer for the start marker.
const TOP: f64 = 30.0;
/// Approximate width of one character of an edge label (11 px).
const LABEL_CHAR_W: f64 = 6.4;
/// How far loops bend out to the right.
const LOOP_OUT: f64 = 36.0;

/// A laid-out scope: its size and what is in it, in its own coordinates.
#[derive(Debug, Clone)]
pub struct Laid {
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
    /// The states.
    pub nodes: Vec<LaidNode>,
    /// The transitions.
    pub edges: Vec<LaidEdge>,
    /// Centre of the start marker.
    pub start: (f64, f64),
    /// Where the start marker's arrow ends (top of the first state).
    pub start_to: (f64, f64),
}

/// A placed state.
#[derive(Debug, Clone)]
pub struct LaidNode {
    /// Its name.
    pub name: String,
    /// Its type.
    pub kind: String,
    /// Whether it ends its scope.
    pub end: bool,
    /// Top-left corner and size.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
    /// Inner scopes (Map: one; Parallel: one per branch), with their
    /// top-left corners relative to this node.
    pub children: Vec<(f64, f64, Laid)>,
}

/// A placed transition.
#[derive(Debug, Clone)]
pub struct LaidEdge {
    /// Why.
    pub kind: EdgeKind,
    /// Its label (may be empty).
    pub label: String,
    /// SVG path data.
    pub path: String,
    /// Where the label goes.
    pub label_at: (f64, f64),
}

/// Lays out a scope (recursively for groups).
pub fn layout(scope: &Scope) -> Laid {
    let n = scope.states.len();
    let index: HashMap<&str, usize> = scope
        .states
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let targets: Vec<Vec<usize>> = scope
        .states
        .iter()
        .map(|s| {
            s.edges
                .iter()
                .filter_map(|e| index.get(e.to.as_str()).copied())
                .collect()
        })
        .collect();

    // 1. Depth-first walk: back edges, post-order, pre-order.
    let mut state = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    let mut back = vec![Vec::new(); n]; // per node: back-edge targets
    let mut post = Vec::with_capacity(n);
    let mut pre = vec![usize::MAX; n];
    let mut next_pre = 0;
    let roots = index
        .get(scope.start_at.as_str())
        .copied()
        .into_iter()
        .chain(0..n);
    for root in roots {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        pre[root] = next_pre;
        next_pre += 1;
        while let Some((u, i)) = stack.last_mut() {
            let u = *u;
            if let Some(&v) = targets[u].get(*i) {
                *i += 1;
                match state[v] {
                    0 => {
                        state[v] = 1;
                        pre[v] = next_pre;
                        next_pre += 1;
                        stack.push((v, 0));
                    }
                    1 => back[u].push(v),
                    _ => {}
                }
            } else {
                state[u] = 2;
                post.push(u);
                stack.pop();
            }
        }
    }

    // 2. Layers: longest forward path.
    let mut layer = vec![0usize; n];
    for &u in post.iter().rev() {
        for &v in &targets[u] {
            if !back[u].contains(&v) && v != u {
                layer[v] = layer[v].max(layer[u] + 1);
            }
        }
    }

    // Sizes (groups first, recursively).
    let mut sizes = Vec::with_capacity(n);
    let mut inner: Vec<Vec<(f64, f64, Laid)>> = Vec::with_capacity(n);
    for s in &scope.states {
        let (w, h, children) = size(s);
        sizes.push((w, h));
        inner.push(children);
    }

    // 3. Place layers.
    let layers = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for i in 0..n {
        rows[layer[i]].push(i);
    }
    for row in &mut rows {
        row.sort_by_key(|&i| pre[i]);
    }
    let row_w: Vec<f64> = rows
        .iter()
        .map(|r| {
            r.iter().map(|&i| sizes[i].0).sum::<f64>() + H_GAP * r.len().saturating_sub(1) as f64
        })
        .collect();
    let content_w = row_w.iter().copied().fold(0.0, f64::max);
    let mut pos = vec![(0.0, 0.0); n];
    let mut y = TOP;
    for (r, row) in rows.iter().enumerate() {
        let mut x = (content_w - row_w[r]) / 2.0;
        let row_h = row.iter().map(|&i| sizes[i].1).fold(0.0, f64::max);
        for &i in row {
            pos[i] = (x, y);
            x += sizes[i].0 + H_GAP;
        }
        y += row_h + V_GAP;
    }
    let height = (y - V_GAP).max(TOP) + 8.0;

    // 4. Edges.
    let mut edges = Vec::new();
    let mut right = content_w;
    let mut loops = 0.0;
    for (u, s) in scope.states.iter().enumerate() {
        for e in &s.edges {
            let Some(&v) = index.get(e.to.as_str()) else {
                continue;
            };
            let (ux, uy) = pos[u];
            let (uw, uh) = sizes[u];
            let (vx, vy) = pos[v];
            let (vw, vh) = sizes[v];
            let (path, label_at) = if layer[v] == layer[u] + 1 {
                let (sx, sy) = (ux + uw / 2.0, uy + uh);
                let (ex, ey) = (vx + vw / 2.0, vy);
                let dy = (ey - sy) / 2.0;
                (
                    format!(
                        "M{sx:.1},{sy:.1} C{sx:.1},{:.1} {ex:.1},{:.1} {ex:.1},{ey:.1}",
                        sy + dy,
                        ey - dy
                    ),
                    ((sx + ex) / 2.0, (sy + ey) / 2.0),
                )
            } else {
                // Loops, and edges that skip layers, run around the right
                // of every state of the layers they span.
                loops += 12.0;
                let (lo, hi) = (layer[u].min(layer[v]), layer[u].max(layer[v]));
                let span_right = (0..n)
                    .filter(|&i| (lo..=hi).contains(&layer[i]))
                    .map(|i| pos[i].0 + sizes[i].0)
                    .fold(0.0, f64::max);
                let (sx, sy) = (ux + uw, uy + uh / 2.0);
                let (ex, ey) = (vx + vw, vy + vh / 2.0);
                let bx = span_right + LOOP_OUT + loops;
                // The label is centred on the vertical run.
                let half_label = e.label.chars().count() as f64 * LABEL_CHAR_W / 2.0;
                right = right.max(bx + half_label.max(0.0) + 8.0);
                let r = 8.0_f64.min((ey - sy).abs() / 2.0);
                let turn = if ey >= sy { r } else { -r };
                (
                    format!(
                        "M{sx:.1},{sy:.1} L{:.1},{sy:.1} Q{bx:.1},{sy:.1} {bx:.1},{:.1} L{bx:.1},{:.1} Q{bx:.1},{ey:.1} {:.1},{ey:.1} L{ex:.1},{ey:.1}",
                        bx - r,
                        sy + turn,
                        ey - turn,
                        bx - r
                    ),
                    (bx, (sy + ey) / 2.0),
                )
            };
            edges.push(LaidEdge {
                kind: e.kind,
                label: e.label.clone(),
                path,
                label_at,
            });
        }
    }
    let (start, start_to) = match index.get(scope.start_at.as_str()) {
        Some(&i) => {
            let cx = pos[i].0 + sizes[i].0 / 2.0;
            ((cx, 8.0), (cx, pos[i].1))
        }
        None => ((content_w / 2.0, 8.0), (content_w / 2.0, TOP)),
    };
    let nodes = scope
        .states
        .iter()
        .zip(inner)
        .enumerate()
        .map(|(i, (s, children))| LaidNode {
            name: s.name.clone(),
            kind: s.kind.clone(),
            end: s.end,
            x: pos[i].0,
            y: pos[i].1,
            w: sizes[i].0,
            h: sizes[i].1,
            children,
        })
        .collect();
    Laid {
        width: right.max(MIN_W),
        height,
        nodes,
        edges,
        start,
        start_to,
    }
}

/// A state's size; for a group also its laid-out inner scopes and where
/// they sit inside it.
fn size(s: &StateNode) -> (f64, f64, Vec<(f64, f64, Laid)>) {
    let text_w = (s.name.chars().count() as f64 * CHAR_W + 32.0).clamp(MIN_W, MAX_W);
    if s.children.is_empty() {
        return (text_w, NODE_H, Vec::new());
    }
    let laid: Vec<Laid> = s.children.iter().map(layout).collect();
    let inner_w = laid.iter().map(|l| l.width).sum::<f64>() + H_GAP * (laid.len() - 1) as f64;
    let inner_h = laid.iter().map(|l| l.height).fold(0.0, f64::max);
    let w = (inner_w + 2.0 * PAD).max(text_w);
    let h = HEADER + inner_h + PAD;
    let mut x = (w - inner_w) / 2.0;
    let children = laid
        .into_iter()
        .map(|l| {
            let at = (x, HEADER);
            x += l.width + H_GAP;
            (at.0, at.1, l)
        })
        .collect();
    (w, h, children)
}

#[cfg(test)]
mod tests {
    use super::super::model::parse;
    use super::*;

    fn node<'a>(l: &'a Laid, name: &str) -> &'a LaidNode {
        l.nodes.iter().find(|n| n.name == name).unwrap()
    }

    #[test]
    fn layers_follow_transitions_and_loops_bend_right() {
        let s = parse(
            r#"{"StartAt":"A","States":{
                "A":{"Type":"Pass","Next":"B"},
                "B":{"Type":"Choice","Choices":[{"Variable":"$.x","BooleanEquals":true,"Next":"A"}],"Default":"C"},
                "C":{"Type":"Succeed"}}}"#,
        )
        .unwrap();
        let l = layout(&s);
        let (a, b, c) = (node(&l, "A"), node(&l, "B"), node(&l, "C"));
        assert!(a.y < b.y && b.y < c.y, "A above B above C");
        assert_eq!(l.edges.len(), 3);
        // The loop B -> A leaves B on its right side.
        let back = l.edges.iter().find(|e| e.kind == EdgeKind::Choice).unwrap();
        assert!(back.path.starts_with(&format!("M{:.1},", b.x + b.w)));
        assert!(l.width > b.x + b.w);
        assert!(l.height >= c.y + c.h);
    }

    #[test]
    fn groups_hold_their_branches_side_by_side() {
        let s = parse(
            r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[
                {"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A2"},"A2":{"Type":"Pass","End":true}}},
                {"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}]}}}"#,
        )
        .unwrap();
        let l = layout(&s);
        let p = node(&l, "P");
        assert_eq!(p.children.len(), 2);
        let (x0, _, first) = &p.children[0];
        let (x1, _, second) = &p.children[1];
        assert!(x0 + first.width <= *x1, "branches do not overlap");
        assert!(x1 + second.width <= p.w);
        assert!(p.h >= HEADER + first.height);
    }

    #[test]
    fn unreachable_states_and_dangling_targets_are_still_drawn() {
        let s = parse(
            r#"{"StartAt":"Missing","States":{"A":{"Type":"Pass","Next":"Nowhere"},"B":{"Type":"Pass","Next":"B"}}}"#,
        )
        .unwrap();
        let l = layout(&s);
        assert_eq!(l.nodes.len(), 2);
        assert_eq!(l.edges.len(), 1, "only the self-loop has a target");
    }
}
